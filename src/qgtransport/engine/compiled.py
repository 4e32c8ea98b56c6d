"""The engine's loops over k-points and band pairs, compiled (numba): where numpy would make one pass over
(k, n, m) arrays per pair product, kernel and sum, each loop reads v^a_nm once per pair n <= m.

- `pair_sums`: the direct scan's pair sums at a few (mu, T) points (`direct.kernel_sums`),

      S^ab_j = sum_k sum_{n, m} w_j(k, n) K_j(e_nm) P^ab_nm,   K = 1 in a level (level products, Re P),
               2/e_nm (Drude quantum metric, Re P) or -2/e_nm^2 (Berry curvature, Im P) outside it,
      S^ab_p = sum_k sum_{n != m} F_mn(x_p) G_nm Re P^ab_nm / T_p   (interband entropy production),

  with P^ab_nm = v^a_nm v^b_mn (`pairs.PairProducts`), the exact divided difference
  F_mn = (f_m - f_n)/(x_m - x_n) (`occupation.fermi_divided_difference`) and the propagator G_nm
  (`pairs.interband_propagator`);
- `band_pair_quantities`: the binned scan's band quantities Q_n = sum_m K_nm P^ab_nm (`spectral.band_quantities`);
- `hermitian_rows`: H and dH from their lower triangles (`backend.FastBands.lower_rows`, half the Bloch-sum product);
- `occupation_weights`: f, 1 - f, s, df/de, ds/de and Xiao's weight in one pass (`direct.band_resolved_sums`);
- `packed_density`, `band_densities`: sum_n w_n u_n u_n^+ and u_n u_n^+ by their n^2 independent reals (the
  d2H traces and band diagonal, `backend.FastBands.curvature_trace`, `packed_curvature_diagonal`).

On bcc Fe (18 bands, 32^3) they bring the linear DC set at one point from 2.55x to about 2.0x numpy's eigh
alone, and the 303-point binned scan from 4.7 to 4.1 s (benchmarks/README.md, fourth pass). Without numba,
or with QGTRANSPORT_COMPILED=0, the engine runs the numpy forms kept beside each, and the tests compare the
two (tests/engine/test_compiled.py). numba is imported when the engine first asks for it (`enabled`) and the
loops are compiled at the first call of one (`Deferred`), not when qgtransport is imported.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

LOG2 = math.log(2.0)
NUMBA: dict = {}  # "module": numba once imported (None where it cannot be), filled by `available`


def available() -> bool:
    """numba importable (imported on the first call, not with qgtransport: it costs 0.2 s and 64 MiB)."""
    if "module" not in NUMBA:
        try:
            import numba
        except ImportError:  # then the numpy forms
            numba = None
        NUMBA["module"] = numba
    return NUMBA["module"] is not None


def enabled() -> bool:
    """True when QGTRANSPORT_COMPILED is not "0" and numba is importable."""
    return os.environ.get("QGTRANSPORT_COMPILED", "1") != "0" and available()


@functools.cache
def components(d: int) -> tuple:
    """(symmetric (Cs, 2), antisymmetric (Ca, 2)): the (a, b) of the independent tensor components, a <= b and
    a < b row by row (the order of `spectral.pack`)."""
    symmetric = np.array([(a, b) for a in range(d) for b in range(a, d)], dtype=np.int64).reshape(-1, 2)
    antisymmetric = np.array([(a, b) for a in range(d) for b in range(a + 1, d)], dtype=np.int64).reshape(-1, 2)
    return symmetric, antisymmetric


class Deferred:
    """A loop of this module until its first call, which compiles every loop of the module (`load`): numba
    is imported only by a run that uses them. Without numba the plain Python function runs."""

    def __init__(self, function, fastmath: bool):
        self.function, self.fastmath = function, fastmath
        self.compiled = None
        functools.update_wrapper(self, function)

    def __call__(self, *args):
        if self.compiled is None:
            load()
        return self.compiled(*args)


def load() -> None:
    """numba.njit (on-disk cache, nogil) of every `Deferred` loop, put in the module's namespace in its place
    (where a test has not replaced it), so that the loops call each other compiled."""
    numba = NUMBA["module"] if available() else None
    for value in DEFERRED:
        options = dict(cache=True, nogil=True, fastmath=value.fastmath)
        value.compiled = numba.njit(**options)(value.function) if numba is not None else value.function
    for name, value in list(globals().items()):
        if isinstance(value, Deferred):
            globals()[name] = value.compiled


DEFERRED: list = []


def pair_inputs(geo, settings, interband: bool) -> tuple:
    """What both pair loops read of a batch: (velocity (k, n, a, m), degenerate-level labels, energies,
    eta^2, dc_limit) with G = 1/e_nm^2 (rho1 = "dc_limit") or 1/(e_nm^2 + eta^2) as
    `pairs.interband_propagator` (eta asked of the settings only where the interband term is wanted)."""
    energies = np.ascontiguousarray(geo.energies, dtype=np.float64)
    dc_limit = settings.rho1 == "dc_limit"
    eta_squared = float(settings.eta) ** 2 if interband and not dc_limit else 0.0
    velocity = np.ascontiguousarray(np.swapaxes(geo.velocity, 1, 2))  # a view of the engine's own layout
    return velocity, level_labels(energies, float(settings.degeneracy_tol)), energies, eta_squared, dc_limit


def jit(function=None, fastmath: bool = False):
    """Marks a loop for numba.njit, compiled on first use (`Deferred`); fastmath (reassociation) for the
    reductions that vectorise only with it."""
    if function is None:
        return lambda f: jit(f, fastmath)
    deferred = Deferred(function, fastmath)
    DEFERRED.append(deferred)
    return deferred


@jit
def log_cosh(y):
    """ln cosh(y), as `occupation.log_cosh`."""
    a = abs(y)
    return a + math.log1p(math.exp(-2.0 * a)) - LOG2


@jit
def log_sinh_over_y(y):
    """ln(sinh(y)/y) for y >= 0, as `occupation.log_sinh_over_y`."""
    if y < 1e-3:
        return y * y / 6.0 - y**4 / 180.0
    return y + math.log(-math.expm1(-2.0 * y)) - LOG2 - math.log(y)


OCCUPATION_WEIGHTS = ("f", "1-f", "s", "df", "ds", "xiao")  # the rows of `occupation_weights`


@jit
def occupation_weights(x, inverse_T):
    """(6, k, n, p): the weights of `direct.weight_values` in the order of OCCUPATION_WEIGHTS at finite x (k, n, p)
    (T_p > 0) from one exp and one log1p per element, with u = f(|x|) = e/(1 + e), e = exp(-|x|):

        f = u (x >= 0) or 1/(1 + e) (x < 0),   1 - f the other,   s = ln(1 + e) + |x| u,
        df/de = (u - 1) u / T,   ds/de = x df/de,   xiao = x f + [max(0, -x) + ln(1 + e)]  (= x f + ln(1 + e^-x)),

    the forms of `occupation.fermi`, `entropy`, `fermi_derivative` and `nernst_weight` (each tail to its
    relative accuracy), equal to them to a few ulp where |x| <= 700 (tests/engine/test_compiled.py); beyond,
    where e is subnormal, both are below 1e-300."""
    nk, nb, P = x.shape
    out = np.empty((6, nk, nb, P))
    for k in range(nk):
        for n in range(nb):
            for p in range(P):
                y = x[k, n, p]
                a = abs(y)
                e = math.exp(-a)
                upper = e / (1.0 + e)
                lower = 1.0 / (1.0 + e)
                softplus = math.log1p(e)
                f = upper if y >= 0.0 else lower
                df = (upper - 1.0) * upper * inverse_T[p]
                out[0, k, n, p] = f
                out[1, k, n, p] = lower if y >= 0.0 else upper
                out[2, k, n, p] = softplus + a * upper
                out[3, k, n, p] = df
                out[4, k, n, p] = y * df
                out[5, k, n, p] = y * f + (max(0.0, -y) + softplus)  # x f + softplus(-x), summed as numpy does
    return out


@jit
def hermitian_rows(lower, n):
    """(k, n, C, n) complex Hermitian matrices X_c (rows i, component c, columns j) from their lower
    triangles lower (k, C, n(n+1)/2), packed row by row (i >= j at i(i+1)/2 + j): X_ij = lower_t,
    X_ji = conj(lower_t) (the diagonal as computed). Written in order, read from the small packed block."""
    nk, C = lower.shape[0], lower.shape[1]
    out = np.empty((nk, n, C, n), dtype=np.complex128)
    for k in range(nk):
        for i in range(n):
            row = i * (i + 1) // 2
            for c in range(C):
                for j in range(i + 1):
                    out[k, i, c, j] = lower[k, c, row + j]
                for j in range(i + 1, n):
                    out[k, i, c, j] = lower[k, c, j * (j + 1) // 2 + i].conjugate()
    return out


NEGLIGIBLE = 1e-17  # a weight below this times the k-point's largest leaves rho at rounding (`packed_density`)


@jit(fastmath=True)
def packed_density(U, weights):
    """rho_p = U diag(w_p) U^+ (k, p, n^2) by its n^2 independent reals in the order of
    `tables.hermitian_packing`: Re rho_ii, then Re rho_ij and Im rho_ij for i < j row by row, with
    rho_ij = sum_m w_m U_im conj(U_jm). U (k, n, n) eigenvectors as columns, weights (k, n, p).

    The sum runs over the bands with |w_m| > NEGLIGIBLE max_m |w_m| (at 300 K, f of the bands more than 1 eV
    above mu is below 1e-17): what it leaves out is below the rounding of the sum, n eps max_m |w_m|."""
    nk, n, P = weights.shape[0], weights.shape[1], weights.shape[2]
    upper = n * (n - 1) // 2
    out = np.empty((nk, P, n * n))
    ur, ui = np.empty((n, n)), np.empty((n, n))
    wr, wi = np.empty((n, n)), np.empty((n, n))
    for k in range(nk):
        for p in range(P):
            largest = 0.0
            for m in range(n):
                largest = max(largest, abs(weights[k, m, p]))
            count = 0  # the bands kept, as columns 0 .. count - 1
            for m in range(n):
                w = weights[k, m, p]
                if abs(w) > NEGLIGIBLE * largest:
                    for i in range(n):
                        z = U[k, i, m]
                        ur[i, count], ui[i, count] = z.real, z.imag
                        wr[i, count], wi[i, count] = w * z.real, w * z.imag
                    count += 1
            t = 0
            for i in range(n):
                diagonal = 0.0
                for m in range(count):
                    diagonal += wr[i, m] * ur[i, m] + wi[i, m] * ui[i, m]
                out[k, p, i] = diagonal
                for j in range(i + 1, n):
                    real, imag = 0.0, 0.0
                    for m in range(count):
                        real += wr[i, m] * ur[j, m] + wi[i, m] * ui[j, m]
                        imag += wi[i, m] * ur[j, m] - wr[i, m] * ui[j, m]
                    out[k, p, n + t] = real
                    out[k, p, n + upper + t] = imag
                    t += 1
    return out


@jit
def band_densities(U):
    """rho_n = u_n u_n^+ of every band (k, n^2, n), rows in the order of `tables.hermitian_packing`:
    |U_in|^2, then Re and Im of U_in conj(U_jn) for i < j row by row (U (k, n, n): eigenvectors as columns)."""
    nk, n = U.shape[0], U.shape[1]
    upper = n * (n - 1) // 2
    out = np.empty((nk, n * n, n))
    for k in range(nk):
        for i in range(n):
            for m in range(n):
                z = U[k, i, m]
                out[k, i, m] = z.real * z.real + z.imag * z.imag
        t = n
        for i in range(n):
            for j in range(i + 1, n):
                for m in range(n):
                    a, b = U[k, i, m], U[k, j, m]
                    out[k, t, m] = a.real * b.real + a.imag * b.imag
                    out[k, t + upper, m] = a.imag * b.real - a.real * b.imag
                t += 1
    return out


@jit
def band_pair_quantities(velocity, labels, energies, delta, eta_squared, dc_limit, symmetric, antisymmetric, wanted):
    """The band quantities Q_n = sum_m K_nm P^ab_nm of `spectral.band_quantities` (its TERMS table), packed
    as `spectral.pack` lays them out: (berry (k, n, Ca), level products, Drude metric, interband sea,
    interband near (k, n, Cs) each), with, outside a level (inverse = 1/e_nm, G = 1/e_nm^2 (dc_limit) or
    1/(e_nm^2 + eta^2), near: |e_nm| < delta),

        Omega_n: K = -2/e_nm^2 on Im P;   level products: K = 1 in the level (m = n included), on Re P;
        Drude metric: 2/e_nm;   interband sea: 2 G/e_nm where not near;   near pairs: G where near (Re P).

    Each pair n < m is visited once and added to both bands (Re P symmetric, Im P antisymmetric in n, m).
    wanted (5,) booleans: which of the five to fill (the others stay zero). velocity (k, n, a, m) complex."""
    nk, nb = energies.shape
    Cs, Ca = symmetric.shape[0], antisymmetric.shape[0]
    berry = np.zeros((nk, nb, Ca))
    level = np.zeros((nk, nb, Cs))
    metric = np.zeros((nk, nb, Cs))
    sea = np.zeros((nk, nb, Cs))
    near = np.zeros((nk, nb, Cs))
    re = np.empty(Cs)
    for k in range(nk):
        for n in range(nb):
            for m in range(n, nb):
                for c in range(Cs):
                    va, vb = velocity[k, n, symmetric[c, 0], m], velocity[k, n, symmetric[c, 1], m]
                    re[c] = va.real * vb.real + va.imag * vb.imag
                if m == n:
                    if wanted[1]:
                        for c in range(Cs):
                            level[k, n, c] += re[c]
                    continue
                if labels[k, n] == labels[k, m]:
                    if wanted[1]:
                        for c in range(Cs):
                            level[k, n, c] += re[c]
                            level[k, m, c] += re[c]
                    continue
                e_nm = energies[k, n] - energies[k, m]
                inverse = 1.0 / e_nm
                if wanted[0]:
                    K = -2.0 * inverse * inverse
                    for c in range(Ca):
                        va, vb = velocity[k, n, antisymmetric[c, 0], m], velocity[k, n, antisymmetric[c, 1], m]
                        value = K * (va.imag * vb.real - va.real * vb.imag)
                        berry[k, n, c] += value
                        berry[k, m, c] -= value
                if wanted[2]:
                    for c in range(Cs):
                        metric[k, n, c] += 2.0 * inverse * re[c]
                        metric[k, m, c] -= 2.0 * inverse * re[c]
                if wanted[3] or wanted[4]:
                    G = inverse * inverse if dc_limit else 1.0 / (e_nm * e_nm + eta_squared)
                    if abs(e_nm) < delta:
                        if wanted[4]:
                            for c in range(Cs):
                                near[k, n, c] += G * re[c]
                                near[k, m, c] += G * re[c]
                    elif wanted[3]:
                        for c in range(Cs):
                            sea[k, n, c] += 2.0 * G * inverse * re[c]
                            sea[k, m, c] -= 2.0 * G * inverse * re[c]
    return berry, level, metric, sea, near


@jit
def level_labels(energies, tol):
    """(k, n) labels of the degenerate levels, as `geometry.level_labels`: the bands in ascending energy,
    a new level wherever the gap to the previous band is >= tol."""
    nk, n = energies.shape
    out = np.empty((nk, n), dtype=np.int64)
    for k in range(nk):
        order = np.argsort(energies[k])
        label = 0
        out[k, order[0]] = 0
        for i in range(1, n):
            if energies[k, order[i]] - energies[k, order[i - 1]] >= tol:
                label += 1
            out[k, order[i]] = label
    return out


@jit
def interband_kernel(x_n, x_m, expit_n, expit_m, expit_minus_n, expit_minus_m, inverse, G, inverse_T):
    """2 F_mn G_nm / T with F_mn = (f(x_m) - f(x_n))/(x_m - x_n) as `occupation.fermi_divided_difference`:
    from the logarithms for |x_m - x_n| < 1, else the difference of f taken where it does not cancel,
    over e_m - e_n = -e_nm = T (x_m - x_n) (inverse = 1/e_nm; expit(x) = 1 - f(x), expit(-x) = f(x))."""
    d = x_m - x_n
    if abs(d) < 1.0:
        F = -0.25 * math.exp(log_sinh_over_y(abs(d) / 2.0) - log_cosh(x_n / 2.0) - log_cosh(x_m / 2.0)) * inverse_T
    elif x_n < 0.0 and x_m < 0.0:
        F = (expit_m - expit_n) * inverse  # (f_m - f_n)/(e_m - e_n), with f_m - f_n = expit(x_n) - expit(x_m)
    else:
        F = (expit_minus_n - expit_minus_m) * inverse
    return 2.0 * F * G


@jit(fastmath=True)
def accumulate(out, kernels, products, rows, count):
    """out[j, c] += sum_q kernels[j, q] products[c, q] over j < rows, q < count (reassociated: vectorised)."""
    for j in range(rows):
        for c in range(products.shape[0]):
            total = 0.0
            for q in range(count):
                total += kernels[j, q] * products[c, q]
            out[j, c] += total


@jit
def pair_sums(velocity, labels, energies, weights, levels_end, metric_end, x, expit_x, expit_minus_x,
              inverse_T, eta_squared, dc_limit, symmetric, antisymmetric):
    """(real (J_r + P, Cs), imag (J - J_r, Ca)): the sums of the module docstring over one batch.

    Per k-point, over the pairs n <= m (column q), the pair products Re P^ab_nm (Cs, q), Im P^ab_nm (Ca, q)
    and the kernels that weigh them, each summed with its (m, n) partner (Re P is symmetric and Im P
    antisymmetric in n, m), then one reduction over q:

        rows j < levels_end (level products, Re P)   (w_n + w_m) in a level, w_n at m = n;
        rows j < metric_end (Drude metric, Re P)     2 (w_n - w_m)/e_nm outside a level;
        rows j >= metric_end (Berry curvature, Im P)  -2 (w_n - w_m)/e_nm^2 outside a level;
        interband point p (the last P rows, Re P)    2 F_mn(x_p) G_nm / T_p outside a level.

    velocity (k, n, a, m) complex (v^a_nm); labels (k, n) degenerate-level labels; energies (k, n);
    weights (k, J, n) the w_j(k, n), J_r = metric_end; x, expit_x, expit_minus_x (k, n, P) at the P
    interband points, inverse_T (P,); G = 1/e_nm^2 (dc_limit) or 1/(e_nm^2 + eta^2); symmetric (Cs, 2),
    antisymmetric (Ca, 2): the (a, b) of the components."""
    nk, nb = energies.shape
    d = velocity.shape[2]
    J, P = weights.shape[1], inverse_T.shape[0]
    Cs, Ca = symmetric.shape[0], antisymmetric.shape[0]
    Q = nb * (nb + 1) // 2
    real = np.empty((Cs, Q))
    imag = np.empty((Ca, Q))
    real_kernels = np.empty((metric_end + P, Q))
    imag_kernels = np.empty((J - metric_end, Q))
    real_out = np.zeros((metric_end + P, Cs))
    imag_out = np.zeros((J - metric_end, Ca))
    same = np.empty(nb)
    inverse = np.empty(nb)
    vr = np.empty((d, nb))
    vi = np.empty((d, nb))
    for k in range(nk):
        q = 0  # the column of the pair (n, n)
        for n in range(nb):
            L = nb - n  # the pairs (n, n + i), i < L
            for a in range(d):
                for i in range(L):
                    z = velocity[k, n, a, n + i]
                    vr[a, i] = z.real
                    vi[a, i] = z.imag
            for c in range(Cs):
                a, b = symmetric[c, 0], symmetric[c, 1]
                for i in range(L):
                    real[c, q + i] = vr[a, i] * vr[b, i] + vi[a, i] * vi[b, i]
            for c in range(Ca):
                a, b = antisymmetric[c, 0], antisymmetric[c, 1]
                for i in range(L):
                    imag[c, q + i] = vi[a, i] * vr[b, i] - vr[a, i] * vi[b, i]
            same[0], inverse[0] = 1.0, 0.0
            for i in range(1, L):
                s = 1.0 if labels[k, n] == labels[k, n + i] else 0.0
                same[i] = s
                inverse[i] = (1.0 - s) / (energies[k, n] - energies[k, n + i] + s)  # 0 in a level
            for j in range(levels_end):
                w = weights[k, j, n]
                real_kernels[j, q] = w
                for i in range(1, L):
                    real_kernels[j, q + i] = (w + weights[k, j, n + i]) * same[i]
            for j in range(levels_end, metric_end):
                w = weights[k, j, n]
                for i in range(L):
                    real_kernels[j, q + i] = 2.0 * inverse[i] * (w - weights[k, j, n + i])
            for j in range(metric_end, J):
                w = weights[k, j, n]
                for i in range(L):
                    imag_kernels[j - metric_end, q + i] = -2.0 * inverse[i] * inverse[i] * (w - weights[k, j, n + i])
            for p in range(P):
                row = metric_end + p
                real_kernels[row, q] = 0.0
                for i in range(1, L):
                    if same[i] == 1.0:
                        real_kernels[row, q + i] = 0.0
                        continue
                    m = n + i
                    e_nm = energies[k, n] - energies[k, m]
                    G = inverse[i] * inverse[i] if dc_limit else 1.0 / (e_nm * e_nm + eta_squared)
                    real_kernels[row, q + i] = interband_kernel(
                        x[k, n, p], x[k, m, p], expit_x[k, n, p], expit_x[k, m, p], expit_minus_x[k, n, p],
                        expit_minus_x[k, m, p], inverse[i], G, inverse_T[p])
            q += L
        accumulate(real_out, real_kernels, real, metric_end + P, Q)
        accumulate(imag_out, imag_kernels, imag, J - metric_end, Q)
    return real_out, imag_out
