"""The tight-binding model: lattice, orbital positions and hopping matrices H(R).

Fourier convention (tight-binding "convention I", diagonal position approximation):

    H_mn(k) = sum_R exp(i k . (R + tau_n - tau_m)) H_mn(R),

with R a lattice vector, tau_m the position of orbital m and k Cartesian (1/length). With every
orbital at the origin this is the plain H(k) = sum_R exp(i k . R) H(R) of the errata. The
derivatives follow analytically:

    d_a H_mn(k)     = sum_R i d_a exp(...) H_mn(R),   d_a = (R + tau_n - tau_m)_a,
    d_a d_b H_mn(k) = -sum_R d_a d_b exp(...) H_mn(R).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

ENERGY_UNITS_IN_EV = {"eV": 1.0, "meV": 1e-3, "Ry": 13.605693122994, "Ha": 27.211386245988}
LENGTH_UNITS_IN_ANGSTROM = {"Angstrom": 1.0, "nm": 10.0, "bohr": 0.529177210903}


@dataclass(frozen=True)
class TightBinding:
    """A tight-binding model H(R) on a Bravais lattice of dimension 1, 2 or 3.

    Parameters
    ----------
    lattice : (dim, dim) array
        Lattice vectors as rows, in ``length_unit``.
    positions : (norb, dim) array
        Orbital positions in reduced (lattice) coordinates.
    R : (nR, dim) int array
        Lattice vectors of the hoppings, in reduced coordinates.
    H_R : (nR, norb, norb) complex array
        Hopping matrices <0 m|H|R n> in ``energy_unit``. Must satisfy H(-R) = H(R)^dagger
        (checked) so that H(k) is Hermitian.
    position_R : (nR, dim, norb, norb) complex array, optional
        Position matrix <0 m|r_a|R n> (Cartesian, length_unit) on the same R as H_R, e.g. from a
        Wannier90 _tb.dat (models.wannier90.read_tb_positions, attached by with_position_matrix). Used
        only by band_geometry(..., positions="full"); the default is the diagonal approximation.
    spin_degeneracy : int
        Electrons per band state: 1 (default; spinor or spinless models) or 2 (spin-degenerate
        models written without spin). Every extensive result is multiplied by it.
    energy_unit, length_unit : str
        Units of H_R and of lengths; results in SI use them (default eV and Angstrom).
    name : str
        A label kept in the results.
    """

    lattice: np.ndarray
    positions: np.ndarray
    R: np.ndarray
    H_R: np.ndarray
    spin_degeneracy: int = 1
    energy_unit: str = "eV"
    length_unit: str = "Angstrom"
    name: str = "tight-binding model"
    parameters: dict = field(default_factory=dict)
    position_R: np.ndarray | None = None

    def __post_init__(self):
        lattice = np.atleast_2d(np.asarray(self.lattice, dtype=float))
        dim = lattice.shape[0]
        if lattice.shape != (dim, dim) or dim not in (1, 2, 3):
            raise ValueError(f"lattice must be a (dim, dim) array with dim 1, 2 or 3, got shape {lattice.shape}")
        if not np.all(np.isfinite(lattice)):
            raise ValueError(f"lattice has a non-finite entry: {lattice.tolist()}")
        if abs(np.linalg.det(lattice)) < 1e-12:
            raise ValueError(f"lattice vectors are linearly dependent (det = {np.linalg.det(lattice):.3e})")
        H_R = np.asarray(self.H_R, dtype=complex)
        if H_R.ndim != 3 or H_R.shape[1] != H_R.shape[2]:
            raise ValueError(f"H_R must have shape (nR, norb, norb), got {H_R.shape}")
        norb = H_R.shape[1]
        R = np.asarray(self.R)
        if R.size % dim or (R.ndim == 2 and R.shape[1] != dim):
            raise ValueError(f"R must be (nR, {dim}) integers for a {dim}D lattice, got shape {R.shape}")
        R = R.reshape(-1, dim)
        if R.shape[0] != H_R.shape[0]:
            raise ValueError(f"{R.shape[0]} R vectors but {H_R.shape[0]} hopping matrices")
        if not np.allclose(R, np.round(R)):
            raise ValueError("R vectors must be integer (reduced coordinates)")
        positions = np.asarray(self.positions, dtype=float)
        if positions.size != norb * dim:
            raise ValueError(f"positions must be (norb, dim) = ({norb}, {dim}), got shape {positions.shape}")
        positions = positions.reshape(norb, dim)
        if not np.all(np.isfinite(positions)):
            orbital = np.argwhere(~np.isfinite(positions))[0][0]
            raise ValueError(f"positions has a non-finite entry at orbital {orbital}")
        if not np.all(np.isfinite(H_R)):
            bad = np.argwhere(~np.isfinite(H_R))[0]
            raise ValueError(f"H_R has a non-finite entry at R={R[bad[0]].tolist()}, m={bad[1]}, n={bad[2]}")
        if self.spin_degeneracy not in (1, 2):
            raise ValueError(f"spin_degeneracy must be 1 or 2, got {self.spin_degeneracy}")
        if self.energy_unit not in ENERGY_UNITS_IN_EV:
            raise ValueError(f"energy_unit {self.energy_unit!r} not in {sorted(ENERGY_UNITS_IN_EV)}")
        if self.length_unit not in LENGTH_UNITS_IN_ANGSTROM:
            raise ValueError(f"length_unit {self.length_unit!r} not in {sorted(LENGTH_UNITS_IN_ANGSTROM)}")
        object.__setattr__(self, "lattice", lattice)
        object.__setattr__(self, "R", np.round(R).astype(int))
        object.__setattr__(self, "H_R", H_R)
        object.__setattr__(self, "positions", positions)
        check_hermitian_hoppings(self.R, H_R)
        if self.position_R is not None:
            position_R = np.asarray(self.position_R, dtype=complex)
            if position_R.shape != (len(self.R), dim, norb, norb):
                raise ValueError(f"position_R must have shape {(len(self.R), dim, norb, norb)}, got {position_R.shape}")
            if not np.all(np.isfinite(position_R)):
                raise ValueError("position_R has a non-finite entry")
            object.__setattr__(self, "position_R", position_R)

    @property
    def dim(self) -> int:
        return self.lattice.shape[0]

    @property
    def norb(self) -> int:
        return self.H_R.shape[1]

    @property
    def reciprocal(self) -> np.ndarray:
        """Reciprocal lattice vectors b_i as rows, a_i . b_j = 2 pi delta_ij."""
        return 2 * np.pi * np.linalg.inv(self.lattice).T

    @property
    def cell_volume(self) -> float:
        """Length, area or volume of the unit cell in length_unit^dim."""
        return abs(np.linalg.det(self.lattice))

    def hamiltonian(self, k: np.ndarray, order: int = 0):
        """H(k) and, for order >= 1, dH/dk_a; for order 2, d2H/dk_a dk_b.

        With W(k) = sum_R exp(i k.R) H(R) (one matrix product over R for the whole batch),
        D = diag(exp(i k.tau)) and Delta_a,mn = (tau_n - tau_m)_a (Cartesian):

            H = D^+ W D,   d_a H = D^+ (d_a W) D + i Delta_a H,
            d_a d_b H = D^+ (d_a d_b W) D + i Delta_b D^+ (d_a W) D + i Delta_a D^+ (d_b W) D
                        - Delta_a Delta_b H.

        Parameters
        ----------
        k : (nk, dim) array of Cartesian k-points (1/length_unit).
        order : 0, 1 or 2.

        Returns
        -------
        H : (nk, norb, norb); with order >= 1 also dH : (nk, dim, norb, norb);
        with order 2 also d2H : (nk, dim, dim, norb, norb). Energy_unit times length^order.
        """
        k = np.atleast_2d(np.asarray(k, dtype=float))
        n = self.norb
        R_cart = self.R @ self.lattice  # (nR, a)
        tau_cart = self.positions @ self.lattice  # (n, a)
        phase = np.exp(1j * (k @ R_cart.T))  # (nk, nR)
        flat = self.H_R.reshape(len(self.R), n * n)
        orbital_phase = np.exp(1j * (k @ tau_cart.T))  # (nk, n)
        gauge = orbital_phase.conj()[:, :, None] * orbital_phase[:, None, :]  # D^+ . D elementwise

        def bloch_sum(weights):
            return (phase * weights) @ flat if weights is not None else phase @ flat

        H = (phase @ flat).reshape(-1, n, n) * gauge
        if order == 0:
            return H
        delta = tau_cart[None, :, :] - tau_cart[:, None, :]  # (m, n, a): tau_n - tau_m
        dW = np.stack([(bloch_sum(1j * R_cart[:, a])).reshape(-1, n, n) * gauge for a in range(self.dim)], axis=1)
        dH = dW + 1j * np.moveaxis(delta, -1, 0)[None] * H[:, None]
        if order == 1:
            return H, dH
        d2H = np.empty((len(k), self.dim, self.dim, n, n), dtype=complex)
        for a in range(self.dim):
            for b in range(a, self.dim):
                d2W = bloch_sum(-R_cart[:, a] * R_cart[:, b]).reshape(-1, n, n) * gauge
                d2H[:, a, b] = (
                    d2W
                    + 1j * delta[..., b] * dW[:, a]
                    + 1j * delta[..., a] * dW[:, b]
                    - delta[..., a] * delta[..., b] * H
                )
                d2H[:, b, a] = d2H[:, a, b]
        return H, dH, d2H

    def connection(self, k: np.ndarray) -> np.ndarray:
        """Berry connection of the basis beyond the diagonal-position approximation, (nk, dim, n, n):

            A_mn(k) = sum_R exp(i k.(R + tau_n - tau_m)) [<0 m|r|R n> - tau_m delta_mn delta_R0],

        zero when the position matrix is diagonal with the orbital positions as centres.
        """
        return self.connection_and_curl(k, curl=False)[0]

    def connection_and_curl(self, k: np.ndarray, curl: bool = True):
        """(A, {(a, b): F^ab for a < b}): the connection A (nk, dim, n, n) of `connection` and, with
        curl=True, its curl (WYSV 2006's Omega-bar in our convention), each F^ab of shape (nk, n, n):

            F^ab_mn(k) = d_a A^b_mn - d_b A^a_mn
                       = i sum_R exp(i k.d) [d_a <0 m|r_b|R n> - d_b <0 m|r_a|R n>],   d = R + tau_n - tau_m
                       = i exp(i k.(tau_n - tau_m)) [sum_R exp(i k.R) (R_a r_b(R) - R_b r_a(R))
                                                     + (tau_n - tau_m)_a W_b - (tau_n - tau_m)_b W_a],

        W_b = sum_R exp(i k.R) r_b(R). One matrix product over R for all components. F is Hermitian when
        the position matrix is Hermitian-partnered (with_position_matrix makes it so).
        """
        if self.position_R is None:
            raise ValueError("this model has no position matrix (position_R); see with_position_matrix")
        k = np.atleast_2d(np.asarray(k, dtype=float))
        n, dim, nR = self.norb, self.dim, len(self.R)
        R_cart = self.R @ self.lattice
        tau_cart = self.positions @ self.lattice
        pairs = [(a, b) for a in range(dim) for b in range(a + 1, dim)] if curl else []
        blocks = [self.position_R[:, a] for a in range(dim)]
        blocks += [R_cart[:, a, None, None] * self.position_R[:, b] - R_cart[:, b, None, None] * self.position_R[:, a]
                   for a, b in pairs]
        table = np.stack(blocks, axis=1).reshape(nR, len(blocks) * n * n)
        sums = (np.exp(1j * (k @ R_cart.T)) @ table).reshape(len(k), len(blocks), n, n)
        orbital_phase = np.exp(1j * (k @ tau_cart.T))
        gauge = orbital_phase.conj()[:, :, None] * orbital_phase[:, None, :]
        W = sums[:, :dim]
        A = W * gauge[:, None]
        A[:, :, np.arange(n), np.arange(n)] -= tau_cart.T[None]
        delta = tau_cart[None, :, :] - tau_cart[:, None, :]  # (m, n, a): tau_n - tau_m
        return A, {(a, b): 1j * gauge * (sums[:, dim + i] + delta[..., a] * W[:, b] - delta[..., b] * W[:, a])
                   for i, (a, b) in enumerate(pairs)}

    def to_cartesian(self, k_reduced: np.ndarray) -> np.ndarray:
        """Cartesian k from reduced coordinates (fractions of the reciprocal vectors)."""
        return np.asarray(k_reduced) @ self.reciprocal


def check_hermitian_hoppings(R: np.ndarray, H_R: np.ndarray, atol: float = 1e-8) -> None:
    """Raise ValueError unless H(-R) = H(R)^dagger for every R (H(k) is then Hermitian)."""
    index = {tuple(r): i for i, r in enumerate(R)}
    for i, r in enumerate(R):
        j = index.get(tuple(-r))
        if j is None:
            raise ValueError(f"H(R) is given for R={r.tolist()} but not for -R; H(k) would not be Hermitian")
        deviation = np.max(np.abs(H_R[j] - H_R[i].conj().T))
        if deviation > atol:
            raise ValueError(
                f"H(-R) != H(R)^dagger for R={r.tolist()}: largest deviation {deviation:.3e} > {atol:.0e}"
            )


def with_position_matrix(model: TightBinding, R: np.ndarray, r: np.ndarray) -> TightBinding:
    """A copy of the model carrying the position matrix r (nR', dim, n, n) given on lattice vectors R
    (nR', dim); R' must be a subset of the model's R (absent R get zero).

    The matrix is made Hermitian-partnered, r(R) <- (r(R) + r(-R)^+)/2 (Wannier90's finite-difference
    position matrix is not, by up to ~0.1 Angstrom); the largest change is kept in
    parameters["position_hermiticity_deviation"].
    """
    index = {tuple(x): i for i, x in enumerate(model.R)}
    position_R = np.zeros((len(model.R), model.dim, model.norb, model.norb), dtype=complex)
    for x, block in zip(np.asarray(R), np.asarray(r), strict=True):
        i = index.get(tuple(int(v) for v in x))
        if i is None:
            raise ValueError(f"the position matrix has R={list(x)}, which the model's H(R) lacks")
        position_R[i] = block
    partner = np.array([index[tuple(-x)] for x in model.R])
    hermitian = (position_R + np.conj(np.swapaxes(position_R[partner], -1, -2))) / 2
    deviation = float(np.abs(hermitian - position_R).max()) if len(position_R) else 0.0
    parameters = {**model.parameters, "position_hermiticity_deviation": deviation}
    return replace(model, position_R=hermitian, parameters=parameters)
