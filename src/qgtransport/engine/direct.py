"""The direct scan's band sums: every (mu, T) point evaluated exactly at every band energy.

The quantities of the TERMS table of `qgtransport.engine.spectral` (c(T) sum_n w(x_n) Q_n, and the
interband entropy production as the exact pair sum sum_{n != m} F_mn G_nm Re P^ab_nm) from the pair
products P^ab_nm = v^a_nm v^b_mn of a batch (`qgtransport.engine.pairs.PairProducts`), computed once and
shared by every quantity. Two routes, equal to rounding and each checked against the reference pair
kernels (tests/engine/test_integrate.py::test_fast_engine_and_reference_give_the_same_responses):

- many points (`band_resolved_sums` with more than KERNEL_MAX_POINTS points): the band quantities
  Q_n = sum_m K_nm P_nm once per batch, then one (points, k n) @ (k n, C) product per (Q, weight);
- few points (a single (mu, T), the common case): no Q_n at all. Each band sum is one contraction

      sum_k sum_n w(x_n) sum_m K_nm P^ab_nm = sum_{k n m} [w(x_n) K_nm] P^ab_nm,

  and the kernels w(x_n) K_nm of every (Q, weight, point), with the interband pair kernel F_mn G_nm,
  are stacked as the rows of one (J, k n m) matrix: one product with Re P (C, k n m) and one with
  Im P give every sum (`numpy_kernel_sums`); with numba, the same sums by one compiled loop over the
  pairs n <= m of each k-point, no (k, n, m) arrays (`compiled_kernel_sums`, `compiled.pair_sums`).
"""

from __future__ import annotations

from functools import cache, partial

import numpy as np
from scipy.special import expit

from qgtransport.bands import occupation as occ
from qgtransport.engine import compiled
from qgtransport.engine.pairs import PairProducts, antisymmetric_tensor, interband_propagator, symmetric_tensor
from qgtransport.engine.spectral import PAIR_BAND_QUANTITIES, TERMS, Term, band_quantities, factor_values, pair_levels

KERNEL_MAX_POINTS = 6  # up to this many (mu, T) points the band sums are one kernel contraction

# the direct scan's form of the interband entropy production: the exact pair sum
# sum_{k, n != m} F_mn(k; mu, T) G_nm Re P^ab_nm (G: `interband_propagator`), in place of the binned sea + near split
INTERBAND_PAIRS = Term("interband_pairs", "divided_difference", "-eta/T")


def direct_terms(quantity: str) -> list:
    """The terms of a quantity in the direct scan: TERMS with the interband sea and near-pair terms
    replaced by the exact pair sum INTERBAND_PAIRS."""
    terms = [t for t in TERMS[quantity] if not t.band_quantity.startswith("interband")]
    return terms + ([INTERBAND_PAIRS] if len(terms) < len(TERMS[quantity]) else [])


# The direct scan weighs the anomalous Nernst coefficient with Xiao et al.'s own expression (equal
# to s by an identity, ERRATA E7), so that the Onsager check alpha = sigma^s compares two formulas.
DIRECT_WEIGHTS = {("anomalous_nernst", "s"): "xiao"}


WEIGHTS = ("f", "s", "df", "ds", "xiao")


def weight_values(weight: str, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """w(x) for w in f, s, df/de = -f(1 - f)/T, ds/de = x df/de (x = (e - mu)/T), and
    xiao = x f + ln(1 + exp(-x)) (Xiao, Yao, Fang, Niu, PRL 97, 026603 (2006), Eq. 8); also 1 - f."""
    if weight == "1-f":
        return expit(x)
    if weight == "xiao":
        return occ.nernst_weight(x)
    if weight == "f":
        return occ.fermi(x)
    if weight == "s":
        return occ.entropy(x)
    df = occ.fermi_derivative(x, 1) / T
    if weight == "df":
        return df
    if weight == "ds":
        return x * df
    raise ValueError(f"unknown weight {weight!r}")


def interband_pair_sums(geo, products: PairProducts, mu, T, settings, max_elements: int, levels=None) -> np.ndarray:
    """sum_k sum_{n != m} F_mn G_nm Re P^ab_nm -> (p, a, b), with the exact divided difference
    F_mn = (f_m - f_n)/(e_m - e_n) at every (mu_p, T_p > 0) (`occupation.fermi_divided_difference`, as
    the responses' kernel) and G_nm = `interband_propagator` (0 within a level): one (k n m, p) kernel
    contracted with G Re P, computed once per batch for every quantity that holds the term (levels: as in
    `band_quantities`)."""
    e = geo.energies
    e_nm, same = levels if levels is not None else pair_levels(e, settings, np)  # one level, as the responses
    pairs = products.real_components * interband_propagator(e_nm, same, settings, np)[None]
    pairs = pairs.reshape(pairs.shape[0], -1)  # (C, k n m)
    p_block = max(1, max_elements // max(1, pairs.shape[1]))
    out = []
    for start in range(0, len(mu), p_block):
        window = slice(start, start + p_block)
        x = occ.reduced_energy_at(e[..., None], mu[window], T[window])  # (k, n, p)
        F = occ.fermi_divided_difference(x[:, :, None, :], x[:, None, :, :]) / T[window]
        out.append((pairs @ F.reshape(pairs.shape[1], -1)).T)
    return products.tensor(np.concatenate(out, axis=0), "real")


def band_resolved_sums(geo, quantities, mu, T, settings, max_elements: int = 2**21) -> dict:
    """{quantity: (p, ...)} = sum_k sum_terms c(T_p) sum_n w((e_n - mu_p)/T_p) Q_n(k) over one batch,
    with the weights evaluated exactly at every band energy (no bins), and the interband pair sum
    exactly (`interband_pair_sums`): the direct scan's route for the `band_resolved` quantities. The
    pair products P^ab_nm are computed once for all of them (`PairProducts`). Equal to the pair-kernel
    forms of qgtransport.responses up to rounding (tests/engine/test_integrate.py); with at most
    KERNEL_MAX_POINTS points by `kernel_sums`. The Berry curvature
    enters as Omega_n (Fermi sea), as in Wang et al., PRB 74, 195118 (2006)."""
    def weight_of(q, term):
        return DIRECT_WEIGHTS.get((q, term.weight), term.weight)

    terms = {q: direct_terms(q) for q in quantities}
    trace = getattr(geo, "curvature_trace", None)  # sum_n w_n v^ab_n by traces (`backend.EngineGeometry`)
    skipped = {INTERBAND_PAIRS.band_quantity} | ({"band_curvature"} if trace is not None else set())
    names = sorted({t.band_quantity for q in quantities for t in terms[q]} - skipped)
    pairs = sorted({(t.band_quantity, weight_of(q, t)) for q in quantities for t in terms[q]
                    if t != INTERBAND_PAIRS})
    products = cache(partial(PairProducts, geo.velocity, np))  # made on first use (not by the compiled sums)
    levels = cache(partial(pair_levels, geo.energies, settings, np))
    interband = any(INTERBAND_PAIRS in terms[q] for q in quantities)
    contracted = {}
    few = len(mu) <= KERNEL_MAX_POINTS
    x_points = occ.reduced_energy_at(geo.energies[..., None], mu, T) if few else None  # (k, n, p)
    if few and compiled.enabled() and np.all(T > 0):  # every weight by one compiled pass
        weight_at = partial(occupation_row, compiled.occupation_weights(x_points, 1.0 / T))
    else:
        weight_at = cache(lambda weight: weight_values(weight, x_points, T))  # each weight once per batch
    if few:  # few points: one contraction of P with every kernel, no Q_n
        contracted = kernel_sums(geo, pairs, x_points, T, settings, products, levels, interband, weight_at)
        names = [name for name in names if name not in kernel_bases_names()]
        pairs = [pair for pair in pairs if pair not in contracted]
    paired = bool(set(names) & set(PAIR_BAND_QUANTITIES))
    Q = band_quantities(geo, names, settings, 0.0, np, products() if paired else None, levels() if paired else None)
    e = geo.energies.reshape(-1, 1)
    p_block = max(1, max_elements // max(1, e.shape[0]))
    parts: dict = {pair: [] for pair in pairs}
    for start in range(0, len(mu), p_block if pairs and not few else len(mu)):
        window = slice(start, start + p_block)
        if not few:
            x = occ.reduced_energy_at(e, mu[window], T[window])  # +-inf at T = 0: the step (Fermi-sea weights only)
        for weight in sorted({w for _, w in pairs}):
            w = weight_at(weight).reshape(e.shape[0], -1) if few else weight_values(weight, x, T[window])
            for name, _ in (pair for pair in pairs if pair[1] == weight):
                if name in Q:
                    parts[(name, weight)].append(w.T @ Q[name].reshape(e.shape[0], -1))
                else:  # band_curvature by traces
                    parts[(name, weight)].append(trace(w.reshape(geo.energies.shape + (-1,))).reshape(w.shape[1], -1))
    d = geo.velocity.shape[1]
    sums = {pair: np.concatenate(v, axis=0).reshape((len(mu),) + (Q[pair[0]].shape[2:] if pair[0] in Q else (d, d)))
            for pair, v in parts.items()}
    sums.update(contracted)
    if interband and not contracted:
        sums[(INTERBAND_PAIRS.band_quantity, INTERBAND_PAIRS.weight)] = interband_pair_sums(
            geo, products(), mu, T, settings, max_elements, levels())
    out = {}
    for q in quantities:
        total = 0.0
        for term in terms[q]:
            value = sums[(term.band_quantity, weight_of(q, term))]
            c = factor_values(term.factor, T, settings).reshape((-1,) + (1,) * (value.ndim - 1))
            total = total + c * value
        out[q] = total
    return out


def occupation_row(table, weight: str) -> np.ndarray:
    """The weight's (k, n, p) of a `compiled.occupation_weights` table."""
    return table[compiled.OCCUPATION_WEIGHTS.index(weight)]


def kernel_bases_names() -> tuple:
    """The band quantities that `kernel_sums` contracts directly."""
    return tuple(KERNEL_PARTS)


def kernel_bases(e_nm, same) -> dict:
    """{Q: (part of P, K_nm)} of the band quantities Q_n = sum_m K_nm (Re or Im) P^ab_nm of the TERMS table
    (`spectral.band_quantities`): Omega_n (K = -2/e_nm^2 outside the level, on Im P), the level products
    (K = 1 inside the level) and the Drude quantum metric (K = 2/e_nm outside), on Re P."""
    inverse = 1.0 / np.where(same, np.inf, e_nm)  # 0 inside a level
    return {"berry_curvature": ("imag", -2 * inverse * inverse),
            "level_products": ("real", same.astype(np.float64)),
            "drude_metric": ("real", 2 * inverse)}


def kernel_sums(geo, pairs, x, T, settings, products, levels, interband: bool, weight_at) -> dict:
    """{(Q, weight): (p, d, d)} = sum_{k n m} w(x_n) K_nm P^ab_nm for the (Q, weight) pairs whose Q is one of
    `kernel_bases`, and, with interband, {(interband_pairs, divided_difference): sum_{k n m} F_mn G_nm Re P^ab_nm}
    (as `interband_pair_sums`): by the compiled loop (`compiled_kernel_sums`) where numba is installed, else by
    `numpy_kernel_sums` (products, levels: zero-argument callables giving the batch's `PairProducts` and
    `pair_levels`, made only there). x (k, n, p): the reduced energies at the points; weight_at: weight ->
    `weight_values` at x. The position-matrix term X_n of the Berry curvature (positions="full") adds
    sum_k n w(x_n) X^ab_n."""
    e = geo.energies
    p = len(T)
    keys: dict = {"real": [], "imag": []}
    for name, weight in pairs:
        if name in KERNEL_PARTS:
            keys[KERNEL_PARTS[name]].append((name, weight))
    if interband:
        keys["real"].append((INTERBAND_PAIRS.band_quantity, INTERBAND_PAIRS.weight))
    weights = {weight: weight_at(weight) for _, weight in keys["real"] + keys["imag"] if weight in WEIGHTS}
    if compiled.enabled() and np.all(T > 0):
        out = compiled_kernel_sums(geo, keys, weights, x, T, settings, weight_at)
    else:
        out = numpy_kernel_sums(keys, weights, x, T, settings, products(), levels())
    if geo.position_curvature is not None:
        X = np.asarray(geo.position_curvature).reshape(e.size, -1)
        for name, weight in pairs:
            if name == "berry_curvature":
                out[(name, weight)] = out[(name, weight)] + (weight_at(weight).reshape(e.size, p).T @ X).reshape(
                    out[(name, weight)].shape)
    return out


KERNEL_PARTS = {"berry_curvature": "imag", "level_products": "real", "drude_metric": "real"}  # of P^ab_nm


def numpy_kernel_sums(keys, weights, x, T, settings, products: PairProducts, levels) -> dict:
    """The sums of `kernel_sums` in numpy: the kernels w(x_n) K_nm of every (Q, weight, point) (`kernel_bases`),
    with the interband pair kernel F_mn G_nm / T, as the rows of one (J, k n m) matrix per part of P, then
    Re P (C, k n m) @ K^T and Im P @ K^T. keys: {"real": [(Q, weight)], "imag": [...]}."""
    e_nm, same = levels
    bases = kernel_bases(e_nm, same)
    p = len(T)
    out = {}
    for part in ("real", "imag"):
        if not keys[part]:
            continue
        K = np.empty((len(keys[part]) * p,) + e_nm.shape)  # row j = (key, point)
        for i, (name, weight) in enumerate(keys[part]):
            for point in range(p):
                if name == INTERBAND_PAIRS.band_quantity:
                    F = occ.fermi_divided_difference(x[:, :, None, point], x[:, None, :, point])
                    np.multiply(F, interband_propagator(e_nm, same, settings, np) / T[point], out=K[i * p + point])
                else:
                    np.multiply(bases[name][1], weights[weight][:, :, None, point], out=K[i * p + point])
        components = products.real_components if part == "real" else products.imag_components
        sums = components.reshape(components.shape[0], K[0].size) @ K.reshape(len(K), -1).T  # (C, J)
        for i, key in enumerate(keys[part]):
            out[key] = products.tensor(sums[:, i * p:(i + 1) * p].T, part)
    return out


def compiled_kernel_sums(geo, keys, weights, x, T, settings, weight_at) -> dict:
    """`numpy_kernel_sums` by the compiled loop `compiled.pair_sums` (same keys, same sums to rounding; the
    interband kernel reads f and 1 - f at x from weight_at)."""
    d = geo.velocity.shape[1]
    p = len(T)
    kind_of = {"level_products": 0, "drude_metric": 1, "berry_curvature": 2}  # the row order of pair_sums
    band_keys = sorted((key for key in keys["real"] + keys["imag"] if key[0] in kind_of), key=lambda k: kind_of[k[0]])
    kinds = [kind_of[name] for name, _ in band_keys]
    columns = [weights[weight][:, :, point] for _, weight in band_keys for point in range(p)]
    band_weights = np.stack(columns, axis=1) if columns else np.zeros((x.shape[0], 0, x.shape[1]))
    interband = (INTERBAND_PAIRS.band_quantity, INTERBAND_PAIRS.weight) in keys["real"]
    xi = np.ascontiguousarray(x if interband else x[:, :, :0])
    f, f_bar = (weight_at("f"), weight_at("1-f")) if interband else (xi, xi)
    velocity, labels, energies, eta_squared, dc_limit = compiled.pair_inputs(geo, settings, interband)
    real, imag = compiled.pair_sums(
        velocity, labels, energies, band_weights, kinds.count(0) * p, (kinds.count(0) + kinds.count(1)) * p,
        xi, f_bar, f, 1.0 / T[:xi.shape[-1]], eta_squared, dc_limit, *compiled.components(d))
    out, real_rows = {}, 0
    for i, key in enumerate(band_keys):
        if key[0] == "berry_curvature":
            start = i * p - real_rows
            out[key] = antisymmetric_tensor(imag[start:start + p], d, np)
        else:
            out[key] = symmetric_tensor(real[real_rows:real_rows + p], d, np)
            real_rows += p
    if interband:
        key = (INTERBAND_PAIRS.band_quantity, INTERBAND_PAIRS.weight)
        out[key] = symmetric_tensor(real[real_rows:], d, np)
    return out
