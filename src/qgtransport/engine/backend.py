"""The per-k engine: H(k) and its derivatives by one real matrix product, one eigh, the rotation of
dH/dk into the band basis; on the CPU (numpy) or a GPU (CuPy).

Bloch sums. The hoppings are folded pairwise, R with -R (0 alone):

    H(k) = H(0) + sum_{R in half} [cos(k.R) A_R + sin(k.R) B_R],   A_R = H(R) + H(-R),  B_R = i(H(R) - H(-R)),

which is exactly sum_R exp(ik.R) H(R) for any hoppings (no hermiticity assumed). The coefficients are
real, so H, every d_a H and every d_a d_b H of a batch of k-points come out of one real matrix product
(nk x ncomp, 2 nhalf + 1) @ (2 nhalf + 1, 2 n^2) with the complex matrices viewed as pairs of reals:

    d_a:      cos -> -R_a sin,  sin -> R_a cos;      d_a d_b:  cos -> -R_a R_b cos,  sin -> -R_a R_b sin.

This halves the arithmetic of a complex product over all R and has no per-R Python work. The orbital
positions enter as in `TightBinding.hamiltonian` (docs/conventions.md): H = D^+ W D with
D = diag(exp(ik.tau)), d_a H = D^+ d_a W D + i Delta_a H, Delta_a,mn = (tau_n - tau_m)_a.

Band basis: one batched eigh per chunk, v^a = U^+ (d_a H) U, [d_a d_b H]_nm = U^+ (d_a d_b H) U, the
same `BandGeometry` as `qgtransport.bands.geometry.band_geometry` (which stays the reference; the two agree
to rounding, tests/engine/test_integrate.py).

Backends: "numpy" (default) and "cupy" (optional extra [gpu]: CuPy with a CUDA GPU, float64
throughout; cuSOLVER's batched eigh). `FastBands.geometry(..., host=True)` brings the band data back
to numpy for the responses, which are numpy code; the binned scan (`qgtransport.engine.spectral`) stays on
the device until its histograms are made.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np

from qgtransport.bands.geometry import BandGeometry, position_matrix_terms
from qgtransport.engine import compiled
from qgtransport.engine.pairs import symmetric_tensor
from qgtransport.engine.tables import bloch_tables, folded_second_derivatives, hermitian_packing, to_host

BACKENDS = ("numpy", "cupy")
BackendName = Literal["numpy", "cupy"]


@dataclass(frozen=True)
class EngineGeometry(BandGeometry):
    """A BandGeometry that keeps of d2H only its band diagonal (curvature None):

        curvature_diagonal (nk, n, d, d), v^ab_n = <u_n|d_a d_b H|u_n> (Eq. 20), real,

    all that the linear DC responses use (`spectral.band_quantities`), from d(d+1)/2 matrix products
    per k-point instead of the 2 d^2 of the full rotation U^+ d_a d_b H U; or, for the direct scan at
    a few (mu, T) points, not even that (curvature_diagonal None):

        curvature_trace(w) = sum_k sum_n w_n(k, p) v^ab_n(k) -> (p, d, d)   (w: (k, n, p)),

    from Tr[rho_p D d_a d_b H D^+] with rho_p = U_W diag(w_p) U_W^+ (`FastBands.curvature_trace`):
    one matrix product per point and no Bloch sum of d2H."""

    curvature_diagonal: np.ndarray | None = None
    curvature_trace: object = None


FOLDED_TABLE_BYTES = 1 << 26  # largest folded d2H table (FastBands.second_derivative_tables)


def array_module(backend: str):
    """The array namespace of a backend: numpy, or cupy with a usable CUDA device."""
    if backend == "numpy":
        return np
    if backend == "cupy":
        try:
            import cupy
        except ImportError as error:
            raise ImportError('backend="cupy" needs CuPy: pip install "qgtransport[gpu]" (CUDA 12)') from error
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as error:  # noqa: BLE001 - CUDA raises its own error types
            raise RuntimeError(f'backend="cupy": no usable CUDA device ({error})') from error
        if count < 1:
            raise RuntimeError('backend="cupy": no CUDA device found')
        return cupy
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")


def gpu_available() -> bool:
    """True where backend="cupy" can run (CuPy importable and a CUDA device present)."""
    try:
        array_module("cupy")
    except (ImportError, RuntimeError):
        return False
    return True


class FastBands:
    """Bloch-sum tables of one model on one backend, and the band geometry of batches of k.

    Picklable: the tables are rebuilt lazily in each process (they cost O(nR n^2)).
    """

    def __init__(self, model, backend: BackendName = "numpy", positions: str = "diagonal"):
        array_module(backend)  # fail early, with the reason
        if positions not in ("diagonal", "full"):
            raise ValueError(f"positions must be 'diagonal' or 'full', got {positions!r}")
        if positions == "full" and backend != "numpy":
            raise ValueError("positions='full' runs on the numpy backend only")
        self.model = model
        self.backend = backend
        self.positions = positions
        self._tables = None

    def __getstate__(self):
        return {"model": self.model, "backend": self.backend, "positions": self.positions, "_tables": None}

    @property
    def xp(self):
        return array_module(self.backend)

    def tables(self) -> dict:
        if self._tables is None:
            self._tables = bloch_tables(self.model, self.xp)
        return self._tables

    def second_derivative_tables(self):
        """The folded hoppings of D d_a d_b H D^+ (orbital phases included), (2h + 1, P 2 n^2) real, P the
        pairs a <= b (`folded_second_derivatives`): d2H by one product with [cos, sin, 1] and no phase
        terms per batch. None without orbital positions or above FOLDED_TABLE_BYTES."""
        t = self.tables()
        if "M2" not in t:
            t["M2"] = None
            if t["tau"] is not None and self.folded_table_fits(2):
                folded = folded_second_derivatives(t, self.model.dim, self.model.norb)
                t["M2"] = self.xp.asarray(folded.reshape(folded.shape[0], -1).view(np.float64))
        return t["M2"]

    def folded_table_fits(self, reals_per_element: int) -> bool:
        """Whether a folded table of every pair a <= b of d2H, (2h + 1, P n^2 reals_per_element), stays
        within FOLDED_TABLE_BYTES."""
        t, d, n = self.tables(), self.model.dim, self.model.norb
        rows = 2 * t["R_half"].shape[0] + 1
        return rows * (d * (d + 1) // 2) * reals_per_element * n * n * 8 <= FOLDED_TABLE_BYTES

    def packed_second_derivative_table(self):
        """(2h + 1, P n^2) real: the n^2 independent reals of each D d_a d_b H D^+ (`hermitian_packing`,
        their weights 1, 2, 2 folded in), so that for Hermitian rho, Re Tr[rho X^ab_k] = sum_i packed(rho)_i
        (C_k @ table)_(ab, i). None above FOLDED_TABLE_BYTES."""
        t = self.tables()
        if "M2_rows" not in t:
            t["M2_rows"] = None
            if self.folded_table_fits(1):
                n = self.model.norb
                folded = folded_second_derivatives(t, self.model.dim, n)  # (2h + 1, P, n, n)
                index, weight = hermitian_packing(n)
                real = folded.reshape(folded.shape[0], folded.shape[1], n * n).view(np.float64)
                packed = np.ascontiguousarray(real[:, :, index] * weight).reshape(folded.shape[0], -1)
                t["M2_rows"] = self.xp.asarray(packed)
        return t["M2_rows"]

    def first_derivative_table(self):
        """The folded hoppings of W and of the frame derivatives D d_a H D^+ = d_a W + i Delta_a o W
        (orbital phases included), (2h + 1, n (d + 1) n 2) real, columns ordered (i, component, j) with
        the components d_1 W .. d_d W, W: per component a, cos(k.R) rows R_a B + i Delta_a o A, sin(k.R)
        rows -R_a A + i Delta_a o B, and i Delta_a o H(0); W itself has A, B, H(0). H, dH of a batch by
        one real product with [cos, sin, 1], no phase terms per batch, and dH laid out as the (n, d n)
        rows that the rotation into the band basis multiplies in one product."""
        t = self.tables()
        if "M1" not in t:
            d, n = self.model.dim, self.model.norb
            h = t["R_half"].shape[0]
            M = to_host(t["M"]).view(np.complex128).reshape(2 * h + 1, n, n)
            A, B = M[:h], M[h:2 * h]
            R = to_host(t["R_half"])[:, :, None, None]
            zero = np.zeros((1, n, n), dtype=np.complex128)
            blocks = []
            for a in range(d):
                rows = np.concatenate([R[:, a] * B, -R[:, a] * A, zero])
                if t["tau"] is not None:
                    rows = rows + to_host(t["i_delta"])[a] * M
                blocks.append(rows)
            blocks.append(M)
            folded = np.ascontiguousarray(np.stack(blocks, axis=2))  # (2h + 1, n, d + 1, n)
            t["M1"] = self.xp.asarray(folded.reshape(2 * h + 1, -1).view(np.float64))
        return t["M1"]

    def lower_derivative_table(self):
        """`first_derivative_table` of the lower triangles only (the d + 1 matrices are Hermitian), split in two
        contiguous tables of columns (component, i >= j) as real pairs: (d_1 W .. d_d W, (2h + 1, 2 d n (n + 1)/2);
        W, (2h + 1, n (n + 1))), for `lower_rows` and `compiled.hermitian_rows`."""
        t = self.tables()
        if "M1_lower" not in t:
            d, n = self.model.dim, self.model.norb
            full = to_host(self.first_derivative_table()).view(np.complex128).reshape(-1, n, d + 1, n)
            i, j = np.tril_indices(n)  # row by row, as hermitian_rows reads them
            lower = np.moveaxis(full[:, i, :, j], 0, -1)  # (2h + 1, d + 1, T)
            t["M1_lower"] = tuple(np.ascontiguousarray(part).reshape(part.shape[0], -1).view(np.float64)
                                  for part in (lower[:, :d], lower[:, d]))
        return t["M1_lower"]

    def frame_sums(self, k_cart):
        """k, the Bloch-sum coefficients C = [cos(k.R), sin(k.R), 1] (nk, 2h + 1), H_W = W(k) (nk, n, n) and
        the frame derivatives D d_a H D^+ as rows (nk, n, d n) (views of one product C @ `first_derivative_table`)."""
        xp = self.xp
        k, C = self.coefficients(k_cart)
        nk, d, n = k.shape[0], self.model.dim, self.model.norb
        out = (C @ self.first_derivative_table()).view(xp.complex128).reshape(nk, n, d + 1, n)
        return k, C, out[:, :, d], out[:, :, :d].reshape(nk, n, d * n)

    def coefficients(self, k_cart):
        """k on the backend (nk, d) and the Bloch-sum coefficients C = [cos(k.R), sin(k.R), 1] (nk, 2h + 1)."""
        xp, t = self.xp, self.tables()
        k = xp.asarray(np.atleast_2d(to_host(k_cart)), dtype=xp.float64)
        h = t["R_half"].shape[0]
        C = xp.empty((k.shape[0], 2 * h + 1), dtype=xp.float64)
        kR = k @ t["R_half"].T
        C[:, :h], C[:, h:2 * h], C[:, 2 * h] = xp.cos(kR), xp.sin(kR), 1.0
        return k, C

    def lower_rows(self, C, hamiltonian: bool):
        """Hermitian matrices from the lower triangles of `lower_derivative_table` (numpy, compiled): H_W = W(k)
        (nk, n, n) (hamiltonian=True), else the frame derivatives D d_a H D^+ as rows (nk, n, d n), by the product
        of C with that table's columns of W or of d_1 W .. d_d W (`compiled.hermitian_rows`)."""
        nk, d, n = C.shape[0], self.model.dim, self.model.norb
        table = self.lower_derivative_table()[1 if hamiltonian else 0]
        lower = (C @ table).view(np.complex128).reshape(nk, 1 if hamiltonian else d, -1)
        return compiled.hermitian_rows(lower, n).reshape(nk, n, -1)

    def bloch_sums(self, k_cart, order: int = 1):
        """W(k) = sum_R exp(ik.R) H(R) and its derivatives (no orbital phases), (nk, ncomp, n, n):
        component 0 is W, 1..d are d_a W, then d_a d_b W for a <= b (order 2). Also returns k."""
        xp, t = self.xp, self.tables()
        k = xp.asarray(np.atleast_2d(to_host(k_cart)), dtype=xp.float64)
        nk, d, n = k.shape[0], self.model.dim, self.model.norb
        R = t["R_half"]  # (h, d) Cartesian
        h = R.shape[0]
        kR = k @ R.T
        c, s = xp.cos(kR), xp.sin(kR)
        pairs = [(a, b) for a in range(d) for b in range(a, d)] if order >= 2 else []
        folded = self.second_derivative_tables() if pairs else None
        ncomp = 1 + (d if order >= 1 else 0) + (len(pairs) if folded is None else 0)
        C = xp.empty((nk, ncomp, 2 * h + 1), dtype=xp.float64)
        C[:, 0, :h], C[:, 0, h:2 * h], C[:, 0, 2 * h] = c, s, 1.0
        if order >= 1:
            for a in range(d):
                C[:, 1 + a, :h] = -s * R[:, a]
                C[:, 1 + a, h:2 * h] = c * R[:, a]
                C[:, 1 + a, 2 * h] = 0.0
        for i, (a, b) in enumerate(pairs if folded is None else []):
            RR = R[:, a] * R[:, b]
            C[:, 1 + d + i, :h] = -c * RR
            C[:, 1 + d + i, h:2 * h] = -s * RR
            C[:, 1 + d + i, 2 * h] = 0.0
        W = (C.reshape(nk * ncomp, 2 * h + 1) @ t["M"]).view(xp.complex128).reshape(nk, ncomp, n, n)
        if folded is not None:  # D d_a d_b H D^+ with its phase terms, from [cos, sin, 1] (second_derivative_tables)
            d2 = (C[:, 0] @ folded).view(xp.complex128).reshape(nk, len(pairs), n, n)
            W = xp.concatenate([W, d2], axis=1)
        return k, W, pairs

    def frame_derivatives(self, W, pairs, order: int):
        """D (d_a H) D^+ = d_a W + i Delta_a o W and D (d_a d_b H) D^+ (Delta: orbital position
        differences, o: elementwise), with D = diag(exp(ik.tau)): the derivatives of H in the frame
        where H is W. Shapes (nk, d, n, n), (nk, d, d, n, n) or None."""
        xp, t = self.xp, self.tables()
        d = self.model.dim
        nk, n = W.shape[0], W.shape[-1]
        if order < 1:
            return None, None
        dW = W[:, 1:1 + d]
        if t["tau"] is not None:
            dW = dW + W[:, :1] * t["i_delta"][None]
        d2 = None
        if order >= 2:
            d2 = xp.empty((nk, d, d, n, n), dtype=xp.complex128)
            for i, (a, b) in enumerate(pairs):
                block = self.second_derivative(W, i, a, b)
                d2[:, a, b] = block
                d2[:, b, a] = block
        return dW, d2

    def second_derivative(self, W, i: int, a: int, b: int):
        """D (d_a d_b H) D^+ = d_a d_b W + i Delta_b o d_a W + i Delta_a o d_b W + i Delta_a o i Delta_b o W
        for the i-th pair (a, b) of `bloch_sums`, (nk, n, n)."""
        t, d = self.tables(), self.model.dim
        block = W[:, 1 + d + i]
        if t["tau"] is None or t.get("M2") is not None:  # no phases, or folded into the Bloch sum
            return block
        i_delta = t["i_delta"]
        return block + i_delta[b] * W[:, 1 + a] + i_delta[a] * W[:, 1 + b] + i_delta[a] * i_delta[b] * W[:, 0]

    def curvature_diagonal(self, W, pairs, U):
        """v^ab_n = sum_ij conj(U_in) [D d_a d_b H D^+]_ij U_jn (U: eigenvectors of W), (nk, n, d, d) real:
        one matrix product per pair a <= b."""
        xp, d = self.xp, self.model.dim
        out = xp.empty((W.shape[0], W.shape[-1], d, d))
        Uc = xp.conj(U)
        for i, (a, b) in enumerate(pairs):
            value = (Uc * (self.second_derivative(W, i, a, b) @ U)).sum(axis=1).real
            out[:, :, a, b] = value
            out[:, :, b, a] = value
        return out

    def hamiltonian(self, k_cart, order: int = 1):
        """(H, dH, d2H) at Cartesian k (nk, d) on the backend, as `TightBinding.hamiltonian`
        (orbital phases included); dH for order >= 1, d2H for order 2 (else None). Shapes
        (nk, n, n), (nk, d, n, n), (nk, d, d, n, n)."""
        k, W, pairs = self.bloch_sums(k_cart, order)
        dW, d2W = self.frame_derivatives(W, pairs, order)
        gauge = self.gauge(k)
        if gauge is None:
            return W[:, 0], dW, d2W
        G = gauge.conj()[:, :, None] * gauge[:, None, :]  # (D^+ X D)_mn = conj(D_m) X_mn D_n
        return (W[:, 0] * G, None if dW is None else dW * G[:, None],
                None if d2W is None else d2W * G[:, None, None])

    def gauge(self, k):
        """exp(ik.tau_n), (nk, n), or None when every orbital sits at the origin."""
        t = self.tables()
        return None if t["tau"] is None else self.xp.exp(1j * (k @ t["tau"].T))

    def curvature_trace(self, C, H, F, U, weights) -> np.ndarray:
        """sum_k sum_n w_n(k, p) v^ab_n(k) -> (p, d, d) for weights (k, n, p), without d2H in the band basis:

            sum_n w_n v^ab_n = Re Tr[rho_p D d_a d_b H D^+],   rho_p = U diag(w_p) U^+   (U: eigenvectors of W),
            D d_a d_b H D^+ = d_a d_b W + i Delta_b o F_a + i Delta_a o F_b - i Delta_a o i Delta_b o W,
            Tr[rho d_a d_b W] = -sum_R R_a R_b [cos(k.R) Tr(rho A_R) + sin(k.R) Tr(rho B_R)],

        (C, H = W, F_a = d_a W + i Delta_a o W: the coefficients and rows (k, n, d n) of `frame_sums`) with
        Re Tr(rho X) = sum_ij (Re rho_ij Re X_ij + Im rho_ij Im X_ij) for Hermitian rho: one real product of
        rho with the folded hoppings M (as one more component of the Bloch sum), and the orbital-phase
        terms from sum_k conj(rho) o F_a and sum_k conj(rho) o W (n^2 work)."""
        t, d = self.tables(), self.model.dim
        nk, n, p = weights.shape[0], weights.shape[1], weights.shape[-1]
        packed_table = self.packed_second_derivative_table()
        if packed_table is not None and compiled.enabled():  # rho packed by the compiled loop, no (k, p, n, n)
            return self.folded_curvature_trace(C, compiled.packed_density(U, np.ascontiguousarray(weights)))
        rho = (U[:, None] * np.moveaxis(weights, -1, 1)[:, :, None, :]) @ np.conj(np.swapaxes(U, -1, -2))[:, None]
        if packed_table is not None:
            index, _ = hermitian_packing(n)
            return self.folded_curvature_trace(C, rho.reshape(nk, p, n * n).view(np.float64)[:, :, index])
        traces = rho.reshape(nk * p, n * n).view(np.float64) @ t["M"].T  # Re Tr(rho A_R), Re Tr(rho B_R), H(0)
        traces = traces.reshape(nk, p, -1)
        R = t["R_half"]
        h = R.shape[0]
        folded = np.einsum("kh,kph->ph", C[:, :2 * h], traces[:, :, :2 * h])
        folded = folded[:, :h] + folded[:, h:]
        out = -np.einsum("ph,ha,hb->pab", folded, R, R)
        if t["tau"] is not None:
            i_delta = t["i_delta"]  # (d, n, n)
            conj_rho = np.conj(rho)
            Z = np.einsum("kpij,kiaj->paij", conj_rho, F.reshape(nk, n, d, n), optimize=True)  # sum_k conj(rho) o F_a
            first = np.einsum("paij,bij->pab", Z, i_delta).real  # Re sum conj(rho) o F_a o i Delta_b
            out += first + np.swapaxes(first, 1, 2)
            Z0 = np.einsum("kpij,kij->pij", conj_rho, H)
            out -= np.einsum("pij,aij,bij->pab", Z0, i_delta, i_delta).real
        return out

    def geometry(self, k_cart, order: int = 1, host: bool = True, curvature: str = "full") -> BandGeometry:
        """Band geometry at Cartesian k: one eigh, v^a = U^+ d_a H U (and U^+ d_a d_b H U for
        order 2; with curvature="diagonal" only its band diagonal, with "trace" (numpy) only its
        weighted band sums, an `EngineGeometry`). host=True returns numpy arrays.

        Computed in the frame of W = D H D^+ (same energies; eigenvectors U = D^+ U_W), which
        spares the orbital phases on every matrix: U^+ d_a H U = U_W^+ (d_a W + i Delta_a o W) U_W.
        """
        xp = self.xp
        mode = self.first_order_mode(order, curvature)
        if mode is not None:
            return next(self.first_order_geometries(k_cart, None, host, mode))
        k, W, pairs = self.bloch_sums(k_cart, order)
        energies, U = batched_eigh(W[:, 0], xp)
        diagonal = order >= 2 and curvature in ("diagonal", "trace")
        dW, d2W = self.frame_derivatives(W, pairs, 1 if diagonal else order)
        Ud = xp.conj(xp.swapaxes(U, -1, -2))
        velocity = Ud[:, None] @ dW @ U[:, None]
        curvature_diagonal = self.curvature_diagonal(W, pairs, U) if diagonal else None
        curvature = None if d2W is None else Ud[:, None, None] @ d2W @ U[:, None, None]
        gauge = self.gauge(k)
        if gauge is not None:
            U = gauge.conj()[:, :, None] * U
        position_curvature = None
        if self.positions == "full":  # as in geometry.band_geometry (numpy only)
            if order >= 2:
                raise ValueError("positions='full' is not implemented for second-order responses (d2H)")
            velocity, position_curvature = position_matrix_terms(self.model, k, energies, U, velocity)
        if diagonal:
            parts = (energies, U, velocity, None, position_curvature, curvature_diagonal)
            return EngineGeometry(*(to_host(p) for p in parts) if host else parts)
        if host:
            return BandGeometry(to_host(energies), to_host(U), to_host(velocity), to_host(curvature),
                                to_host(position_curvature))
        return BandGeometry(energies, U, velocity, curvature, position_curvature)

    def folded_curvature_trace(self, C, packed_rho) -> np.ndarray:
        """`curvature_trace` with the folded d2H tables (orbital phases included, `packed_second_derivative_table`):

            sum_k Re Tr[rho_k X_k] = sum_r Re Tr[S_r X_r],   S_r = sum_k C_kr rho_k,   X_k = sum_r C_kr X_r,

        with rho and X Hermitian,

            Re Tr(rho X) = sum_i rho_ii X_ii + 2 sum_{i<j} (Re rho_ij Re X_ij + Im rho_ij Im X_ij),

        so rho enters by its n^2 independent real numbers (`hermitian_packing`; packed_rho (k, p, n^2)): one
        real product rho^T @ C over the batch, then one product of S with the packed tables (laid out once as
        (pairs, n^2 (2h + 1)), weights 1 and 2 folded in) per batch."""
        d, t = self.model.dim, self.tables()
        nk, p, n2 = packed_rho.shape
        if "M2_packed" not in t:
            r = C.shape[1]
            packed = self.packed_second_derivative_table().reshape(r, -1, n2)  # (r, pairs, n^2)
            t["M2_packed"] = np.ascontiguousarray(np.moveaxis(packed, 0, -1)).reshape(-1, n2 * r)
        S = packed_rho.reshape(nk, -1).T @ C  # (p n^2, 2h + 1)
        values = S.reshape(p, -1) @ t["M2_packed"].T  # (p, pairs)
        return symmetric_tensor(values, d, np)

    def packed_curvature_diagonal(self, C, U, packed_table):
        """v^ab_n = <u_n|D d_a d_b H D^+|u_n> = Re Tr[rho_n X^ab],  rho_n = u_n u_n^+  (U: eigenvectors of W),
        (nk, n, d, d) real, from the n^2 independent reals of rho_n (|U_in|^2, Re and Im of U_in conj(U_jn),
        i < j) and of X^ab (`packed_second_derivative_table`): X = C @ table (k, P, n^2), then one real
        (P, n^2) @ (n^2, n) product per k-point (a quarter of the work of the rotation U^+ X U)."""
        xp, d = self.xp, self.model.dim
        nk, n = U.shape[0], U.shape[-1]
        if xp is np and compiled.enabled():
            rho = compiled.band_densities(U)
        else:
            rho = band_densities(U, xp)
        values = (C @ packed_table).reshape(nk, -1, n * n) @ rho  # (k, P, n)
        return symmetric_tensor(xp.swapaxes(values, 1, 2), d, xp)

    def first_order_mode(self, order: int, curvature: str) -> str | None:
        """The curvature argument of `first_order_geometries` that serves (order, curvature) without the full
        d2H ("none", "trace", "diagonal"), or None where the full rotation of d2H is needed."""
        if order == 1:
            return "none"
        if curvature == "trace" and self.xp is np:
            return "trace"
        if curvature in ("diagonal", "trace") and self.packed_second_derivative_table() is not None:
            return "diagonal"
        return None

    def geometries(self, k_cart, sub: int, order: int = 1, host: bool = True, curvature: str = "full",
                   eigenvectors: bool = True):
        """The band geometries (`geometry`) of consecutive batches of `sub` k-points of k_cart; on the first-order
        routes, one eigh for all of k_cart (`first_order_geometries`), and eigenvectors None where the caller
        says it reads none (eigenvectors=False)."""
        k_cart = np.atleast_2d(to_host(k_cart))
        mode = self.first_order_mode(order, curvature)
        if mode is not None:
            yield from self.first_order_geometries(k_cart, sub, host, mode, eigenvectors)
            return
        for start in range(0, len(k_cart), sub):
            yield self.geometry(k_cart[start:start + sub], order, host, curvature)

    def first_order_geometries(self, k_cart, sub: int | None, host: bool, curvature: str = "none",
                               eigenvectors: bool = True):
        """`geometry` without the full d2H, for consecutive batches of `sub` k-points (all when None): H, one eigh,
        and per batch the frame derivatives F_a = D d_a H D^+ and the rotation (`band_basis`).

        With numpy and numba, H of all of k_cart comes first (`lower_rows`: the W columns of the Bloch-sum table)
        and one eigh diagonalises it; each batch's F_a are made just before its rotation, while they are in
        cache. The eigh runs as long as numpy's eigh alone over large batches does, where interleaved with the
        matrix products of every small batch it was 5-10% slower (benchmarks/README.md, fifth pass). Otherwise
        H and F_a of a batch come from one product (`frame_sums`) and each batch has its own eigh. With
        eigenvectors=False the geometries carry none (U = D^+ U_W is not formed; positions="full" forms it)."""
        xp = self.xp
        k_cart = np.atleast_2d(to_host(k_cart))
        sub = sub or len(k_cart)
        if xp is np and compiled.enabled():
            k, C = self.coefficients(k_cart)
            H = self.lower_rows(C, hamiltonian=True)
            energies, U = batched_eigh(H, xp)
            for start in range(0, len(k), sub):
                s = slice(start, start + sub)
                F = self.lower_rows(C[s], hamiltonian=False)
                yield self.band_basis(k[s], C[s], H[s], F, energies[s], U[s], host, curvature, eigenvectors)
            return
        for start in range(0, len(k_cart), sub):
            k, C, H, F = self.frame_sums(k_cart[start:start + sub])
            energies, U = batched_eigh(H, xp)
            yield self.band_basis(k, C, H, F, energies, U, host, curvature, eigenvectors)

    def band_basis(self, k, C, H, F, energies, U, host: bool, curvature: str,
                   eigenvectors: bool = True) -> BandGeometry:
        """The band geometry of a batch from its eigenvectors U of H = W (the frame of `frame_sums`): the rotation
        v^a = U^+ F_a U of all d components by two products per k-point, (n, n) @ (n, d n) and then
        (d n, n) @ (n, n) on the same rows; of d2H nothing (curvature="none"), its weighted band sums by traces
        ("trace", numpy) or its band diagonal from the packed tables ("diagonal", `packed_curvature_diagonal`);
        the eigenvectors U = D^+ U_W of H, or None (eigenvectors=False, positions="diagonal")."""
        xp = self.xp
        nk, n = U.shape[0], U.shape[-1]
        d = F.shape[-1] // n
        rows = (xp.conj(xp.swapaxes(U, -1, -2)) @ F).reshape(nk, d * n, n)  # (U^+ F_a)_i,j as rows (i, a)
        velocity = xp.swapaxes((rows @ U).reshape(nk, n, d, n), 1, 2)  # a view, laid out (k, n, a, m)
        curvature_trace = partial(self.curvature_trace, C, H, F, U) if curvature == "trace" else None
        diagonal = None
        if curvature == "diagonal":
            diagonal = self.packed_curvature_diagonal(C, U, self.packed_second_derivative_table())
        if eigenvectors or self.positions == "full":
            gauge = self.gauge(k)
            if gauge is not None:
                U = gauge.conj()[:, :, None] * U
        else:
            U = None
        position_curvature = None
        if self.positions == "full":  # as in geometry.band_geometry (numpy only)
            if curvature != "none":
                raise ValueError("positions='full' is not implemented for second-order responses (d2H)")
            velocity, position_curvature = position_matrix_terms(self.model, k, energies, U, velocity)
        if curvature != "none":
            parts = (energies, U, velocity, None, position_curvature, diagonal)
            return EngineGeometry(*(to_host(p) if host else p for p in parts), curvature_trace)
        if host:
            return BandGeometry(to_host(energies), to_host(U), to_host(velocity), None, to_host(position_curvature))
        return BandGeometry(energies, U, velocity, None, position_curvature)


def band_densities(U, xp):
    """rho_n = u_n u_n^+ of every band (k, n^2, n) by the n^2 independent reals of each, rows in the order of
    `hermitian_packing`: |U_in|^2, then Re and Im of U_in conj(U_jn) for i < j row by row (as
    `compiled.band_densities`)."""
    nk, n = U.shape[0], U.shape[-1]
    upper = n * (n - 1) // 2
    rho = xp.empty((nk, n * n, n))
    rho[:, :n] = U.real**2 + U.imag**2
    start = n
    for i in range(n - 1):  # U_in conj(U_jn) for j > i: contiguous slices, no index arrays
        product = U[:, i:i + 1] * xp.conj(U[:, i + 1:])
        rho[:, start:start + n - 1 - i] = product.real
        rho[:, upper + start:upper + start + n - 1 - i] = product.imag
        start += n - 1 - i
    return rho


CUSOLVER_BATCHED_MAX = 32  # cuSOLVER's batched Jacobi eigensolver (syevjBatched) takes n <= 32


def batched_eigh(H, xp):
    """eigh of a stack of Hermitian matrices. numpy: LAPACK per matrix; CuPy: cuSOLVER's batched
    Jacobi solver for n <= 32, one divide-and-conquer call per matrix above (slow: no batched
    cuSOLVER routine exists for larger n)."""
    if xp is np or H.shape[-1] <= CUSOLVER_BATCHED_MAX:
        return xp.linalg.eigh(H)
    pairs = [xp.linalg.eigh(h) for h in H]
    return xp.stack([p[0] for p in pairs]), xp.stack([p[1] for p in pairs])


def default_batch(model, direct: bool = False) -> int:
    """k-points per geometry batch: temporaries of about 2^17 (k, a, n, n) elements stay in cache
    (batches of 2000 k-points were measured 1.5x slower than 128 on the 18-band Fe model); twice that
    for the direct scan when its pair sums are compiled (no (k, n, m) temporaries: 269 k-points were
    measured 3% faster than 134 on Fe, and 5% slower for the binned scan)."""
    elements = 1 << 18 if direct and compiled.enabled() else 1 << 17
    return int(np.clip(elements // (model.dim * model.norb**2), 16, 4096))


EIGH_ELEMENTS = 1 << 20  # complex elements of the H(k) that one eigh call diagonalises (`eigh_batch`)


def eigh_batch(model, batch: int) -> int:
    """k-points diagonalised by one eigh (`FastBands.first_order_geometries`): whole batches, about EIGH_ELEMENTS
    complex elements of H (3232 k-points on 18 bands, a 16 MiB stack), at most 4096 k-points."""
    return batch * max(1, min(EIGH_ELEMENTS // model.norb**2, 4096) // batch)


class GridChunks:
    """Chunk function k_reduced -> sums: band geometry in cache-sized batches, then a geometry-level
    sum `base`: base.prepare(geo) per batch, base.finish(parts) once per chunk (base.host: whether
    it wants numpy arrays). Picklable when base is."""

    def __init__(self, model, base, order: int = 1, backend: BackendName = "numpy", batch: int | None = None,
                 positions: str = "diagonal"):
        self.model = model
        self.base = base
        self.order = order
        self.bands = FastBands(model, backend, positions)
        self.batch = batch or default_batch(model)
        self.curvature = getattr(base, "curvature", "full")  # how much of d2H base reads
        self.eigenvectors = getattr(base, "eigenvectors", True)  # whether base reads geo.eigenvectors

    def geometry(self, k_reduced) -> BandGeometry:
        """The band geometry of a batch; d2H in full, as its band diagonal only or as weighted band sums
        (`EngineGeometry`) as the base says is enough (base.curvature: "full", "diagonal", "trace")."""
        return next(self.bands.geometries(self.model.to_cartesian(k_reduced), len(k_reduced), self.order,
                                          self.base.host, self.curvature, self.eigenvectors))

    def __call__(self, k_reduced) -> dict:
        size = eigh_batch(self.model, self.batch)
        parts = [self.base.prepare(geo) for start in range(0, len(k_reduced), size)
                 for geo in self.bands.geometries(self.model.to_cartesian(k_reduced[start:start + size]), self.batch,
                                                  self.order, self.base.host, self.curvature, self.eigenvectors)]
        return self.base.finish(parts)
