"""Operations on reduced k and the irreducible points of a uniform grid with their exact weights.

Reduced coordinates: k_cart = k_red B (rows of B the reciprocal vectors). An operation (R, theta)
maps k_cart -> (-1)^theta R k_cart, i.e. k_red -> k_red M with M = (-1)^theta B R^T B^-1, which must be
an integer matrix for the operation to map the reciprocal lattice onto itself.

A grid k = (i + s)/n (i = 0..n-1 per direction) is invariant under M when every image (i + s) M' - s
(M' = M scaled by the grid shape) is an integer vector. Its points then fall into orbits (stars); the
irreducible points are one representative per orbit (the one of smallest flat index) and the weight
of a representative is the size of its orbit, so sum_k F(k) = sum_irr w_k F(k) for any F that is
invariant along each orbit, and sum_k F(k) = (1/|G|) sum_g D(g) sum_irr w_k F(k) for a tensor F(gk) =
D(g) F(k) (`qgtransport.symmetry.tensors`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.symmetry.group import Group, SymmetryError

INTEGER_TOL = 1e-6
BLOCK = 1 << 18  # grid points per block when finding the irreducible points


def cartesian_block(group: Group, dim: int) -> np.ndarray:
    """The rotations restricted to the model's dim Cartesian axes (|G|, dim, dim); an operation that mixes
    them with the other axes does not act on a dim-dimensional model (refused)."""
    R = group.rotations
    if dim < 3:
        mixing = np.abs(R[:, :dim, dim:]).max(axis=(1, 2)) + np.abs(R[:, dim:, :dim]).max(axis=(1, 2))
        bad = [group.names[i] for i in np.nonzero(mixing > INTEGER_TOL)[0]]
        if bad:
            raise SymmetryError(f"the operations {bad} mix the {dim} axes of this {dim}D model with the axes outside "
                                "it: they are not symmetries of a model in that plane or line")
    return R[:, :dim, :dim]


def reduced_operations(group: Group, reciprocal: np.ndarray) -> np.ndarray:
    """M (|G|, d, d) integer: k_red -> k_red M for each operation (time reversal included)."""
    B = np.asarray(reciprocal, dtype=float)
    R = cartesian_block(group, B.shape[0])
    M = np.einsum("ij,gkj,kl->gil", B, R, np.linalg.inv(B))
    M = M * np.where(group.time_reversal, -1.0, 1.0)[:, None, None]
    rounded = np.rint(M)
    wrong = np.abs(M - rounded).max(axis=(1, 2)) > INTEGER_TOL
    if wrong.any():
        name = group.names[int(np.argmax(wrong))]
        raise SymmetryError(f"{name} does not map the reciprocal lattice of this model onto itself (in reduced "
                            f"coordinates it is {np.round(M[int(np.argmax(wrong))], 4).tolist()}, not integer): "
                            "it is not a symmetry of this lattice; check the group or the lattice's orientation "
                            "(the operations are Cartesian: e.g. a hexagonal lattice needs its c axis along z)")
    return rounded.astype(int)


@dataclass(frozen=True)
class IrreducibleGrid:
    """The irreducible points of a grid: k (N, d) reduced, weights (N,) orbit sizes (sum = grid size),
    index (N,) their flat grid indices, sorted by weight then index (runs of equal weight)."""

    k: np.ndarray
    weights: np.ndarray
    index: np.ndarray
    shape: tuple[int, ...]

    @property
    def total(self) -> int:
        return len(self.weights)


def irreducible_points(group: Group, reciprocal, shape, shift, block: int = BLOCK) -> IrreducibleGrid:
    """The irreducible points of the grid k = (i + shift)/shape and their weights (the module docstring).
    Refuses a grid that an operation does not map onto itself, naming the operation. Memory: the
    representatives (one int per grid point) and blocks of `block` points."""
    M = reduced_operations(group, reciprocal)
    shape = tuple(int(n) for n in shape)
    n = np.array(shape, dtype=float)
    s = np.broadcast_to(np.asarray(shift, dtype=float), n.shape)
    total = int(np.prod(shape))
    representative = np.arange(total)
    for start in range(0, total, block):
        flat = np.arange(start, min(start + block, total))
        points = (np.stack(np.unravel_index(flat, shape), axis=-1) + s) / n
        for g, matrix in enumerate(M):
            image = (points @ matrix) * n - s
            rounded = np.rint(image)
            if np.abs(image - rounded).max(initial=0.0) > INTEGER_TOL:
                raise SymmetryError(
                    f"the k-grid nk={shape}, shift={tuple(float(x) for x in s)} is not invariant under "
                    f"{group.names[g]}: it maps grid points between grid points; use a Gamma-centred grid (shift=0) "
                    "with the same nk along the directions the group exchanges")
            mapped = np.ravel_multi_index(tuple(np.mod(rounded.astype(np.int64), np.array(shape)).T), shape)
            np.minimum(representative[flat], mapped, out=representative[start:start + len(flat)])
    counts = np.bincount(representative, minlength=total)
    index = np.nonzero(representative == np.arange(total))[0]
    weights = counts[index]
    order = np.lexsort((index, weights))
    index, weights = index[order], weights[order]
    k = (np.stack(np.unravel_index(index, shape), axis=-1) + s) / n
    return IrreducibleGrid(k, weights.astype(float), index, shape)


def star(group: Group, reciprocal, k_red: np.ndarray) -> np.ndarray:
    """The distinct images g k (mod 1) of one reduced point, (m, d), k first."""
    M = reduced_operations(group, reciprocal)
    images = np.einsum("i,gij->gj", np.asarray(k_red, dtype=float), M)
    shifted = images - np.floor(images - np.asarray(k_red) + 0.5)  # nearest image to k: k itself first
    _, first = np.unique(np.round(np.mod(images, 1.0), 9) % 1.0, axis=0, return_index=True)
    return shifted[np.sort(first)]
