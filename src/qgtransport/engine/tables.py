"""The folded hopping tables of the engine's Bloch sums (`backend.FastBands`) and the packing of Hermitian
matrices by their n^2 independent reals, built once per model and backend.

    H(k) = H(0) + sum_{R in half} [cos(k.R) A_R + sin(k.R) B_R],   A_R = H(R) + H(-R),  B_R = i(H(R) - H(-R))

(`bloch_tables`), and the tables of D d_a d_b H D^+ with the orbital phases folded in
(`folded_second_derivatives`); docs/conventions.md gives the Fourier convention.
"""

from __future__ import annotations

from functools import cache

import numpy as np


def to_host(array):
    """A numpy array from a numpy or CuPy array (None stays None)."""
    if array is None or isinstance(array, np.ndarray):
        return array
    return array.get()


def bloch_tables(model, xp) -> dict:
    """The folded hoppings of `FastBands`: Cartesian R of one of each pair (h, d), the real view
    M (2h + 1, 2 n^2) of [A_R; B_R; H(0)], orbital positions and their differences."""
    R, inverse = np.unique(np.asarray(model.R), axis=0, return_inverse=True)
    n, d = model.norb, model.dim
    H = np.zeros((len(R), n, n), dtype=complex)
    np.add.at(H, inverse.ravel(), model.H_R)  # duplicate R vectors add, as in the plain Bloch sum
    index = {tuple(r): i for i, r in enumerate(R)}
    half, partner = [], []
    for i, r in enumerate(R):
        nonzero = r[np.nonzero(r)[0]]
        if len(nonzero) and nonzero[0] > 0:
            half.append(i)
            partner.append(index[tuple(-r)])
    zero = index.get((0,) * d)
    H0 = H[zero] if zero is not None else np.zeros((n, n), dtype=complex)
    A = H[half] + H[partner]
    B = 1j * (H[half] - H[partner])
    M = np.ascontiguousarray(np.concatenate([A, B, H0[None]]).reshape(2 * len(half) + 1, n * n))
    tau = model.positions @ model.lattice
    has_tau = bool(np.any(tau != 0))
    return {
        "R_half": xp.asarray((R[half] @ model.lattice).reshape(len(half), d)),
        "M": xp.asarray(M.view(np.float64)),
        "tau": xp.asarray(tau) if has_tau else None,
        "i_delta": xp.asarray(1j * np.moveaxis(tau[None, :, :] - tau[:, None, :], -1, 0)) if has_tau else None,
    }


def folded_second_derivatives(t: dict, d: int, n: int) -> np.ndarray:
    """D d_a d_b H D^+ = sum over the rows [cos(k.R), sin(k.R), 1] of (2h + 1, P, n, n) complex matrices, P the
    pairs a <= b: cos rows -R_a R_b A + R_a i Delta_b o B + R_b i Delta_a o B + i Delta_a o i Delta_b o A, sin rows
    -R_a R_b B - R_a i Delta_b o A - R_b i Delta_a o A + i Delta_a o i Delta_b o B, and i Delta_a o i Delta_b o H(0)
    (A, B, H(0) of `bloch_tables`; Delta = 0 without orbital positions)."""
    h = t["R_half"].shape[0]
    M = to_host(t["M"]).view(np.complex128).reshape(2 * h + 1, n, n)
    A, B, H0 = M[:h], M[h:2 * h], M[2 * h]
    R = to_host(t["R_half"])[:, :, None, None]
    i_delta = to_host(t["i_delta"]) if t["tau"] is not None else np.zeros((d, n, n), dtype=np.complex128)
    blocks = []
    for a, b in [(i, j) for i in range(d) for j in range(i, d)]:
        Da, Db, RR = i_delta[a], i_delta[b], R[:, a] * R[:, b]
        cos_rows = -RR * A + R[:, a] * Db * B + R[:, b] * Da * B + Da * Db * A
        sin_rows = -RR * B - R[:, a] * Db * A - R[:, b] * Da * A + Da * Db * B
        blocks.append(np.concatenate([cos_rows, sin_rows, (Da * Db * H0)[None]]))
    return np.ascontiguousarray(np.stack(blocks, axis=1))


@cache
def hermitian_packing(n: int) -> tuple:
    """(index, weight): the n^2 independent real numbers of a Hermitian n x n matrix as flat indices into
    its real view (n, 2n) (diagonal real parts, then the real and the imaginary parts above the diagonal)
    and their weights 1, 2, 2 in Re Tr(A B) = sum index-wise weight A B."""
    i, j = np.triu_indices(n, 1)
    diagonal = 2 * (np.arange(n) * (n + 1))
    upper = 2 * (i * n + j)
    index = np.concatenate([diagonal, upper, upper + 1])
    weight = np.concatenate([np.ones(n), np.full(2 * len(upper), 2.0)])
    return index, weight
