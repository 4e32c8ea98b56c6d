"""The checks of the report: relation checks with their two sides and residual, the exact-solver
comparison, grid convergence, and the errata that bear on a run.

The physics is evaluated where it lives (`qgtransport.relations`: Onsager, Maxwell, Mott/Sommerfeld,
positivity, the optical ratio; `qgtransport.exact.verify`: the exact steady-state solver); this
module picks what a dataset allows, runs it on the dataset's grid and options, and gives each
result a verdict ("holds", "FAILS", "deviates, as expected" for an asymptotic or restricted
relation off its range, "skipped").
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from qgtransport import convergence as conv
from qgtransport import relations
from qgtransport import units as U
from qgtransport.exact.verify import verify
from qgtransport.report.figures import pick_mu

RELATION_CHECKS = ("onsager", "positivity", "maxwell", "mott", "sommerfeld", "equilibrium_current",
                   "optical_ratio")
RECOMPUTING = ("maxwell", "mott", "sommerfeld", "optical_ratio")  # these compute responses again


@dataclass(frozen=True)
class Check:
    """One row of the relation table. verdict: "holds", "FAILS", "deviates, as expected" (an
    asymptotic or restricted relation off its range) or "skipped"."""

    name: str
    source: str
    where: str
    lhs: str
    rhs: str
    residual: float | None
    tolerance: float | None
    verdict: str
    note: str = ""


def _residual(lhs, rhs, floor: float = 0.0) -> float:
    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    scale = max(float(np.abs(lhs).max()), float(np.abs(rhs).max()), floor, 1e-300)
    return float(np.abs(lhs - rhs).max() / scale)


def _span(values) -> str:
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        return "-"
    low, high = values.min(), values.max()
    return f"{low:.4g}" if np.isclose(low, high, rtol=1e-12, atol=0) else f"{low:.4g} .. {high:.4g}"


def _verdict(residual, tolerance, *, asymptotic=False) -> str:
    if residual <= tolerance:
        return "holds"
    return "deviates, as expected" if asymptotic else "FAILS"


def _run_options(ds) -> dict:
    """compute options of the dataset (units, grid, shift, tau, kernel, rho1) for the check runs."""
    options = {"units": ds.attrs.get("units", "SI"), "kernel": ds.attrs.get("kernel", "divided_difference"),
               "rho1": ds.attrs.get("rho1", "finite_eta")}
    grid = str(ds.attrs.get("grid", ""))
    nk = tuple(int(n) for n in grid.split("x")) if grid else 48
    shift = ds.attrs.get("grid_shift")
    try:
        shift = json.loads(shift) if isinstance(shift, str) else shift
    except ValueError:
        shift = None
    options["shift"] = 0.5 if shift is None else np.asarray(shift, dtype=float)
    tau = ds.attrs.get("tau", "none")
    options["tau"] = None if tau in ("none", None) else float(tau)
    options["broadening"] = ds.attrs.get("broadening", "gaussian")
    options["width"] = float(ds.attrs.get("broadening_width", 0.02))
    return {"nk": nk, **options}


def relation_checks(ds, model, checks=None, *, mu_points: int = 3, density=None, execution=None, log=None,
                    skip=()) -> list:
    """Evaluate the relation checks on a dataset of `compute` (some recompute on the same grid).

    checks: names from RELATION_CHECKS (default: every one the dataset allows).
    density: the values of `entropy_density_figure` (for Pi_k >= 0 at every k).
    execution: executor options passed to the recomputations (executor, workers, ...).
    skip: names left out silently (e.g. RECOMPUTING for a report of a saved dataset in seconds);
    model None runs only the checks on the dataset itself (Onsager, positivity).
    """
    options = _run_options(ds)
    nk = options.pop("nk")
    tau = options.pop("tau")
    execution = {k: v for k, v in (execution or {}).items() if k not in ("checkpoint", "progress")}
    names = set(ds.data_vars)
    auto = checks is None
    wanted = [c for c in (checks if checks is not None else RELATION_CHECKS) if c not in skip]
    if model is None:
        wanted = [c for c in wanted if c in ("onsager", "positivity")]
    dim = int(ds.attrs.get("dimension", ds.sizes.get("a", 1))) if model is None else model.dim
    mu_all = ds["mu"].values
    T_all = ds["T"].values
    mu_check = pick_mu(mu_all, mu_points)
    T_low = float(T_all.min())
    T_unit = ds["T"].attrs.get("units", "")
    mu_unit = ds["mu"].attrs.get("units", "")
    mu_text = ", ".join(f"{m:.3g}" for m in mu_check) + f" {mu_unit}"
    rows = []

    def say(text):
        if log is not None:
            log(text)

    def skipped(name, source, why):
        if not auto:
            rows.append(Check(name, source, "-", "-", "-", None, None, "skipped", why))

    charge_pairs = [(c, relations.PAIRS[c]) for c in ("anomalous_hall", "drude")
                    if c in names and relations.PAIRS[c] in names and (c != "drude" or tau is not None)]
    if dim == 1:
        charge_pairs = [p for p in charge_pairs if p[0] != "anomalous_hall"]
    expansions: dict = {}  # Mott (1) and Sommerfeld (3) sides, from one computation
    for check in wanted:
        if check == "onsager":
            if {"entropy_hall", "anomalous_nernst"} <= names and dim >= 2:
                lhs, rhs = ds["entropy_hall"].values, ds["anomalous_nernst"].values
                res = _residual(lhs, rhs)
                rows.append(Check("Onsager: entropy Hall = anomalous Nernst, σˢ_ab = α_ab",
                                  "Eq. 29; ERRATA E7", "every (μ, T, a, b) of the scan", _span(lhs), _span(rhs),
                                  res, 1e-8, _verdict(res, 1e-8)))
            else:
                skipped("Onsager", "Eq. 29", "needs entropy_hall and anomalous_nernst in a 2D or 3D model")
        elif check == "positivity":
            if "entropy_production" in names:
                smallest = relations.entropy_production_positive(ds).lhs  # min(smallest eigenvalue, 0)
                values = np.asarray(ds["entropy_production"].values)
                scale = float(np.abs(values).max()) or 1e-300
                res = -float(smallest.min()) / scale
                rows.append(Check("Π_ab positive semi-definite (smallest eigenvalue ≥ 0)", "Eq. 9; ERRATA E1",
                                  "every (μ, T) of the scan", f"min eigenvalue {float(smallest.min()):.3e}",
                                  "0", res, 1e-12, _verdict(res, 1e-12),
                                  f"{int(np.sum(smallest < -1e-12 * scale))} points below -1e-12 max|Π|"))
            else:
                skipped("Π ≥ 0", "Eq. 9", "needs entropy_production")
            if density is not None:
                total = np.asarray(density["total"])
                res = max(0.0, -float(total.min())) / (float(np.abs(total).max()) or 1e-300)
                rows.append(Check("Π_k ≥ 0 at every k (density map)", "ERRATA E1",
                                  density.get("where", "the density map"), f"min {float(total.min()):.3e}",
                                  "0", res, 1e-12, _verdict(res, 1e-12)))
        elif check == "equilibrium_current":
            if "equilibrium_entropy_current" in names:
                values = np.asarray(ds["equilibrium_entropy_current"].values)
                scale = relations.entropy_current_scale(model, options["units"])
                res = float(np.abs(values).max()) / scale
                # zero identically, but on a grid only to within its discretisation error (metals at low T)
                error_name = "equilibrium_entropy_current_error"
                grid = float(np.abs(np.asarray(ds[error_name].values)).max()) / scale if error_name in ds else 0.0
                tolerance = max(1e-10, grid)
                rows.append(Check("equilibrium entropy current Σ_n ∫ v_n s_n = 0", "Eqs. 24-25; ERRATA E6",
                                  "every (μ, T) of the scan", f"max |j| {float(np.abs(values).max()):.2e} "
                                  f"{ds['equilibrium_entropy_current'].attrs.get('units', '')}", "0", res, tolerance,
                                  _verdict(res, tolerance),
                                  "residual relative to g_s n W a ln2 / V_cell; tolerance: 1e-10 or the grid-error "
                                  "estimate, whichever is larger"))
            else:
                skipped("equilibrium entropy current", "E6", "needs equilibrium_entropy_current")
        elif check == "maxwell":
            if not charge_pairs:
                skipped("Maxwell", "ERRATA E4", "needs anomalous_hall + entropy_hall or drude + entropy_current_drude")
                continue
            T_check = np.unique([T_low, float(T_all.max())])
            say(f"  Maxwell relation at {len(mu_check)} x {len(T_check)} points")
            sides = relations.maxwell_sides(model, charge_pairs, mu_check, T_check, nk,
                                            {**options, "tau": tau, **execution})
            for (charge, entropy_name), (lhs, rhs) in zip(charge_pairs, sides, strict=True):
                res = _residual(lhs, rhs)
                rows.append(Check(f"Maxwell: ∂_T j = ∂_μ jˢ ({charge} / {entropy_name})",
                                  "Eq. 30 without 1/T: ERRATA E4",
                                  f"μ = {mu_text}; T = {', '.join(f'{t:g}' for t in T_check)} {T_unit}",
                                  _span(lhs), _span(rhs), res, 1e-4, _verdict(res, 1e-4),
                                  "central differences, steps 1e-4 in μ and T"))
        elif check in ("mott", "sommerfeld"):
            if not charge_pairs:
                skipped(check, "Eq. 31", "needs a charge response and its entropy partner")
                continue
            order = 1 if check == "mott" else 3
            if order not in expansions:
                say(f"  Mott and Sommerfeld relations at {len(mu_check)} points")
                natural = relations.natural_options(model, options, tau)
                T_nat = float(U.temperature_to_natural(T_low, model)) if options["units"] == "SI" else T_low
                expansions.update(relations.sommerfeld_sides(model, charge_pairs, mu_check, T_nat, nk,
                                                             {**natural, **execution}))
            for (charge, entropy_name), (lhs, rhs) in zip(charge_pairs, expansions[order], strict=True):
                res = _residual(lhs, rhs)
                title = ("Mott: jˢ = (π²T/3) ∂_μ j" if order == 1 else
                         "Sommerfeld: jˢ = (π²T/3) ∂_μ j + (π⁴T³/45) ∂³_μ j")
                rows.append(Check(f"{title} ({charge} / {entropy_name})", "Eq. 31",
                                  f"μ = {mu_text}; T = {T_low:g} {T_unit}", _span(lhs), _span(rhs), res, 1e-2,
                                  _verdict(res, 1e-2, asymptotic=True),
                                  f"natural units; a low-T expansion: the residual falls as T^{2 if order == 1 else 4} "
                                  "against the band structure's energy scale"))
        elif check == "optical_ratio":
            if {"optical_conductivity", "optical_entropy_conductivity"} <= names and "omega" in ds.coords:
                omega = ds["omega"].values
                omega = omega[omega > 0][:: max(1, len(omega) // 12)]
                if omega.size:
                    say(f"  optical ratio (Eq. 34) at {omega.size} frequencies")
                    relation = relations.optical_ratio(model, mu=float(mu_check[0]), T=T_low, omega=omega, nk=nk,
                                                       units=options["units"], shift=options["shift"],
                                                       broadening=options["broadening"], width=options["width"],
                                                       **execution)
                    res = relation.residual
                    rows.append(Check("optical ratio σˢ/σ = Δs/Δf at e± = ±ω/2",
                                      "Eq. 34; ERRATA E9",
                                      f"μ = {float(mu_check[0]):.3g} {mu_unit}; T = {T_low:g} {T_unit}",
                                      _span(relation.lhs), _span(relation.rhs), res, 1e-2,
                                      _verdict(res, 1e-2, asymptotic=True),
                                      "holds only with particle-hole symmetric resonances (e+ + e- = 0)"))
            else:
                skipped("optical ratio", "Eq. 34", "needs optical_conductivity and optical_entropy_conductivity")
        else:
            raise ValueError(f"unknown check {check!r}")
    return rows


def exact_checks(model, mu: float, T: float, tau: float, *, units: str = "SI", nk: int = 32, direction=None,
                 tolerance: float = 1e-3) -> list[dict]:
    """Rows of `qgtransport.exact.verify.verify` (closed forms vs the exact steady-state solver) at one
    (mu, T, tau) given in the dataset's units (converted to natural units here)."""
    if units == "SI":
        T = float(U.temperature_to_natural(T, model))
        tau = float(U.relaxation_time_to_natural(tau, model))
    n = None if direction is None else tuple(int(x) for x in direction)
    return verify(model, float(mu), float(T), float(tau), nk, direction=n, tolerance=tolerance)


def exact_summary(rows: list[dict], where: str) -> Check:
    verdicts = [r["verdict"] for r in rows]
    failures = verdicts.count("DISAGREES")
    counts = {v: verdicts.count(v) for v in dict.fromkeys(verdicts)}
    agree = [r for r in rows if r["expected"] == "agree"]
    worst = max((r["relative_difference"] for r in agree), default=0.0)
    return Check("closed forms vs the exact steady-state solver (qgt verify)", "Eqs. 6 + 10; ERRATA E1, E2, S1",
                 where, f"{len(rows)} comparisons", "; ".join(f"{n} {v}" for v, n in counts.items()), worst,
                 max((r["tolerance"] for r in agree), default=None), "FAILS" if failures else "holds",
                 "residual: the largest relative difference among the rows expected to agree")


# ---------------------------------------------------------------- grid convergence


def grid_convergence(ds) -> list[dict]:
    """Per response: max |value|, max grid error |I(nk) - I(nk/2)| and their ratio, and the status of
    its worst value (`qgtransport.convergence`: the statuses of every table)."""
    rows = []
    for name in ds.data_vars:
        if name.endswith("_error"):
            continue
        values = np.abs(np.asarray(ds[name].values))
        error_name = name + "_error"
        top = float(values.max()) if values.size else 0.0
        units = ds[name].attrs.get("units", "")
        status, worst = conv.variable_status(ds, name)
        if error_name not in ds:
            rows.append({"quantity": name, "max_value": top, "max_error": None, "relative": None,
                         "units": units, "status": "no estimate (grid below 4)", "worst": None})
            continue
        error = float(np.abs(np.asarray(ds[error_name].values)).max())
        relative = error / top if top > 0 else None
        text = {"vanishes (E6)": "vanishes identically (E6): the error is the value itself",
                "converged": "converged",
                "fair": "fair: a finer grid would change it by ~ the error",
                "not converged": "NOT converged: raise nk (or T)",
                "no estimate": "zero"}[status]
        if "symmetry" in ds[error_name].attrs:  # qgtransport.convergence.add_symmetry_residuals
            text += " (the error counts the symmetry-forbidden components)"
        rows.append({"quantity": name, "max_value": top, "max_error": error, "relative": relative,
                     "units": units, "status": text, "worst": worst})
    return rows


# ---------------------------------------------------------------- errata

ERRATA = {
    "E1": ("Eq. 18, interband entropy-production kernel",
           "The printed kernel 1/(f_n(1-f_n)) is wrong for n ≠ m; the exact second order of Eq. 9 uses the "
           "divided difference K_nm = -e_nm/(T f_nm) > 0. Default kernel=\"divided_difference\"; \"printed\" keeps "
           "Eq. 18 (it grows like exp(|e - μ|/T)).",
           lambda names, attrs: any(n.startswith("entropy_production") for n in names)),
    "E2": ("Eq. 14 vs Eq. 13: which ρ⁽¹⁾",
           "Eq. 13 at ω = 0 with finite η (rho1=\"finite_eta\", default) reproduces the exact steady state; "
           "Eq. 14 (rho1=\"dc_limit\") differs by O(η²/e_nm²).",
           lambda names, attrs: any(n.startswith("entropy_production") for n in names)),
    "E3": ("Eq. 21: a missing factor τ and a misleading conclusion",
           "The quantum-metric part of the Drude term is ≤ 0 at every k and the v^ab part is not negligible: "
           "the parts are reported separately (entropy_production_band_curvature, _drude_quantum_metric, "
           "_quantum_metric); never Eq. 21 alone as the entropy production.",
           lambda names, attrs: any(n in names for n in ("entropy_production_band_curvature",
                                                         "entropy_production_drude_quantum_metric",
                                                         "entropy_production_quantum_metric"))),
    "E4": ("Eq. 30: the Maxwell relation has a spurious 1/T",
           "s_n = -∂_T g_n and f_n = -∂_μ g_n give ∂_T j = ∂_μ jˢ (checked in the table).",
           lambda names, attrs: "entropy_hall" in names or "entropy_current_drude" in names),
    "E5": ("Small slips", "s_n = [(e_n - μ) f_n - g_n]/T; Ω_n = Σ_{m≠n} Ω_nm; Eq. 19 sums over n.",
           lambda names, attrs: True),
    "E6": ("Eqs. 24-25: the equilibrium entropy current vanishes identically",
           "Σ_n ∫ v_n s_n is the integral of a total derivative: zero for every band structure; computed as a "
           "check, not a response.",
           lambda names, attrs: "equilibrium_entropy_current" in names),
    "E7": ("Eq. 28 is the Nernst coefficient α, not a heat conductivity",
           "σˢ_ab = Σ_n ∫ s_n Ω_n equals the anomalous Nernst coefficient of Xiao, Yao, Fang, Niu "
           "(PRL 97, 026603, 2006) exactly; A/(m K) in 3D, A/K in 2D.",
           lambda names, attrs: "entropy_hall" in names or "anomalous_nernst" in names),
    "E8": ("Eq. 32: overall sign",
           "Eq. 32 is the charge conductivity (J = -Tr[v ρ]), Eqs. 27-28 use Tr[v ρ]; every output is "
           "labelled charge or particle/entropy (the variable's 'current' attribute).",
           lambda names, attrs: any(n in names for n in ("optical_conductivity", "optical_entropy_conductivity",
                                                         "conductivity_ac"))),
    "E9": ("Eq. 34 holds only with particle-hole symmetric resonances",
           "The true ratio is a weighted average of Δs/Δf over the resonance surface; the table shows it "
           "against Eq. 34.",
           lambda names, attrs: "optical_entropy_conductivity" in names),
    "E10": ("Eq. 15 and η⁽ⁱ⁾",
            "One η at every order (the equation of motion as written); the τ⁰ term is twice the printed one.",
            lambda names, attrs: any(n in names for n in ("second_order_current", "intrinsic_second_order",
                                                          "nonlinear_drude", "berry_curvature_dipole_current"))),
    "S1": ("Nonlinear entropy currents",
           "Beyond first order s(ρ) is not the f → s replacement: Tr[v s(ρ)] "
           "(second_order_entropy_current) and the replaced current are both computed and named.",
           lambda names, attrs: any(n.startswith("second_order_entropy") for n in names)),
}


def applicable_errata(ds) -> list[tuple]:
    """(id, title, text) of the errata that bear on the dataset's quantities."""
    names = set(ds.data_vars)
    return [(key, title, text) for key, (title, text, applies) in ERRATA.items() if applies(names, ds.attrs)]


__all__ = ["Check", "RELATION_CHECKS", "RECOMPUTING",
           "relation_checks", "exact_checks", "exact_summary", "grid_convergence", "ERRATA",
           "applicable_errata"]
