"""`qgt verify`: each perturbative closed form of the core beside the exact steady state.

For a model, (mu, T, tau), a grid and a field direction g = n . b, the closed forms of
qgtransport.compute (natural units, the same grid) are contracted with g^ = g/|g| and compared
with the E and E^2 coefficients of the exact solver (qgtransport.exact), fitted from exact DC
solves at small fields (qgtransport.exact.orders.fitted_coefficients, with its error):

    Pi(2)        = g^ . Pi . g^            vs  c2 of J . E/T and of Pi of Eq. 9 evaluated directly,
    J(1)_a       = (drude + anomalous_hall)_ab g^_b          vs  c1 of the charge current -Tr[v rho],
    j^s(1)_a     = (entropy_current_drude + entropy_hall)_ab g^_b  vs  c1 of Tr[v s(rho)].

Each row says what the errata lead one to expect (agreement, or a difference and why) and whether
the numbers bear it out.
"""

from __future__ import annotations

import numpy as np

from qgtransport.exact.lines import line_system
from qgtransport.exact.orders import fitted_coefficients

AGREE = "agree"
CLOSED_FORM_QUANTITIES = (
    "entropy_production", "drude", "anomalous_hall", "entropy_current_drude", "entropy_hall")
SECOND_ORDER_QUANTITIES = ("second_order_current", "second_order_entropy_current",
                           "second_order_entropy_current_replaced", "entropy_production_third_order")
AXES = ("x", "y", "z")


def verdict(relative_difference: float, tolerance: float, expected: str) -> str:
    """'agrees' / 'DISAGREES' where agreement is expected; 'differs, as expected' /
    'agrees, though a difference was expected' where the errata predict a difference; 'agrees' /
    'differs, as expected' where they predict one that may fall below the tolerance ('may differ')."""
    agrees = relative_difference <= tolerance
    if expected == AGREE:
        return "agrees" if agrees else "DISAGREES"
    if agrees:
        return "agrees" if expected.startswith("may differ") else "agrees, though a difference was expected"
    return "differs, as expected"


def comparison_row(quantity, component, closed, exact, error, scale, tolerance, expected, atol) -> dict:
    """One row. relative_difference = |exact - closed|/max(scale, atol/tolerance), scale = |closed|
    or the norm of the closed-form vector (so that values below atol in absolute terms count as
    agreeing); the tolerance is widened to 3x the fit error of the exact value."""
    scale = max(abs(scale), atol / tolerance, np.finfo(float).tiny)
    relative = abs(exact - closed) / scale
    effective = max(tolerance, 3 * error / scale)
    return {
        "quantity": quantity, "component": component, "closed_form": float(closed), "exact": float(exact),
        "exact_error": float(error), "relative_difference": float(relative), "tolerance": float(effective),
        "expected": expected, "verdict": verdict(relative, effective, expected),
    }


def closed_forms(model, mu, T, tau, nk, shift):
    """Linear closed forms of the core (natural units) for one (mu, T): {name: (a, b) array}."""
    from qgtransport.compute import compute  # the core's batch API; imported here, at the top of the pipeline

    def run(**options):
        quantities = list(CLOSED_FORM_QUANTITIES) if not options else ["entropy_production"]
        ds = compute(model, quantities, mu=mu, T=T, tau=tau, nk=nk, shift=shift, units="natural",
                     error_estimate=False, **options)
        return {name: ds[name].values[0, 0] for name in ds.data_vars}

    forms = run()
    forms["entropy_production_printed"] = run(kernel="printed", rho1="dc_limit")["entropy_production"]
    forms["entropy_production_dc_limit"] = run(rho1="dc_limit")["entropy_production"]
    finite_eta = compute(model, ["conductivity_ac", "entropy_conductivity_ac"], mu=mu, T=T, tau=tau, nk=nk,
                         shift=shift, omega=0.0, units="natural", error_estimate=False)
    forms.update({name: finite_eta[name].values[0, 0, 0].real for name in finite_eta.data_vars})
    second = compute(model, list(SECOND_ORDER_QUANTITIES), mu=mu, T=T, tau=tau, nk=nk, shift=shift,
                     units="natural", error_estimate=False)
    forms.update({name: second[name].values[0, 0] for name in second.data_vars})
    return forms


def verify(model, mu: float, T: float, tau: float, nk, *, direction=None, shift=0.5,
           tolerance: float = 1e-3, atol: float = 1e-10, step: float | None = None,
           pairs: int = 3) -> list[dict]:
    """Compare the core's perturbative closed forms with the exact steady state (natural units).

    Parameters
    ----------
    model : TightBinding
        The model (its own energy and length units).
    mu, T, tau : float
        Chemical potential, temperature (> 0) and relaxation time (> 0), natural units (T in the
        model's energy unit, tau in hbar/energy; `qgt verify` converts from K and fs).
    nk : int or tuple
        Grid points per reciprocal direction (the closed forms use the same grid).
    direction : tuple of int, optional
        Integers n of the field direction g = n . b (default b_1).
    shift : float
        Grid offset in units of the grid step.
    tolerance : float
        Relative difference below which a row counts as agreement (widened to 3x the fit error of
        the exact value).
    atol : float
        Absolute difference that always counts as agreement (natural units; e.g. currents that
        vanish by symmetry).
    step, pairs : float, int
        The small fields 0, +-step, ..., +-pairs step of the fits (default step 1e-3 min(1/tau, 1)).

    Returns
    -------
    list of dict
        Rows: quantity, component, closed_form, exact, exact_error, relative_difference, tolerance,
        expected, verdict. Pi(2) is the coefficient of |E|^2; currents are per |E|, the charge
        current J = -Tr[v rho] and the entropy current Tr[v s(rho)].
    """
    if direction is None:
        direction = (1,) + (0,) * (model.dim - 1)
    system = line_system(model, direction, mu, T, tau, nk, shift)
    unit = system.grid.unit
    fit = fitted_coefficients(system, step=step, pairs=pairs)
    forms = closed_forms(model, mu, T, tau, nk, shift)
    rows = []
    pi2 = float(unit @ forms["entropy_production"] @ unit)
    joule, joule_error = fit.values["entropy_production_joule"][2], fit.errors["entropy_production_joule"][2]
    direct, direct_error = fit.values["entropy_production"][2], fit.errors["entropy_production"][2]
    rows.append(comparison_row("Pi(2), DD kernel, finite-eta rho(1) [exact: J.E/T]", "-", pi2, joule,
                               joule_error, pi2, tolerance, AGREE, atol))
    rows.append(comparison_row("Pi(2), DD kernel, finite-eta rho(1) [exact: Eq. 9 direct]", "-", pi2, direct,
                               direct_error, pi2, tolerance,
                               "may differ on coarse grids: Eq. 9 evaluated directly magnifies grid errors", atol))
    dc_limit = float(unit @ forms["entropy_production_dc_limit"] @ unit)
    rows.append(comparison_row("Pi(2), DD kernel, Eq. 14 rho(1)", "-", dc_limit, joule, joule_error, dc_limit,
                               tolerance, "may differ by O(eta^2/e_nm^2) (ERRATA E2)", atol))
    printed = float(unit @ forms["entropy_production_printed"] @ unit)
    rows.append(comparison_row("Pi(2), kernel as printed in Eq. 18 (Eq. 14 rho(1))", "-", printed, joule,
                               joule_error, printed, tolerance, "differ (ERRATA E1)", atol))
    finite_eta = "may differ by the finite-eta interband terms, O(eta/e_nm) (closed forms: eta -> 0)"
    for name, closed_tensor, exact_vector, error_vector in (
        ("charge current J(1)/E, drude + anomalous_hall", forms["drude"] + forms["anomalous_hall"],
         -fit.values["particle_current"][1], fit.errors["particle_current"][1]),
        ("entropy current j^s(1)/E, entropy_current_drude + entropy_hall",
         forms["entropy_current_drude"] + forms["entropy_hall"], fit.values["entropy_current"][1],
         fit.errors["entropy_current"][1]),
    ):
        closed_vector = closed_tensor @ unit
        norm = np.linalg.norm(closed_vector)
        for a in range(model.dim):
            rows.append(comparison_row(name, AXES[a], closed_vector[a], exact_vector[a], error_vector[a],
                                       norm, tolerance, finite_eta, atol))
    second = "may differ: beyond first order s(rho) is not the f -> s replacement (ERRATA S1)"
    # second-order rows: the small-field fits carry noise ~1e-9 of the first-order response, so a
    # response that vanishes by symmetry is judged against that floor
    floor = max(atol, 1e-6 * max(np.linalg.norm(forms["conductivity_ac"] @ unit), abs(pi2)))
    for name, closed_tensor, exact_vector, error_vector, expected in (
        ("charge current J(1)/E, conductivity_ac(omega=0), finite eta", forms["conductivity_ac"],
         -fit.values["particle_current"][1], fit.errors["particle_current"][1], AGREE),
        ("entropy current j^s(1)/E, entropy_conductivity_ac(omega=0)", forms["entropy_conductivity_ac"],
         fit.values["entropy_current"][1], fit.errors["entropy_current"][1], AGREE),
        ("charge current J(2)/E^2, second_order_current", forms["second_order_current"] @ unit,
         -fit.values["particle_current"][2], fit.errors["particle_current"][2], AGREE),
        ("entropy current j^s(2)/E^2, Tr[v s(rho)], second_order_entropy_current",
         forms["second_order_entropy_current"] @ unit, fit.values["entropy_current"][2],
         fit.errors["entropy_current"][2], AGREE),
        ("entropy current j^s(2)/E^2, f -> s replaced", forms["second_order_entropy_current_replaced"] @ unit,
         fit.values["entropy_current"][2], fit.errors["entropy_current"][2], second),
    ):
        closed_vector = closed_tensor @ unit
        norm = np.linalg.norm(closed_vector)
        for a in range(model.dim):
            rows.append(comparison_row(name, AXES[a], closed_vector[a], exact_vector[a], error_vector[a],
                                       norm, tolerance, expected, floor if "(2)" in name else atol))
    pi3 = float(np.einsum("abc,a,b,c->", forms["entropy_production_third_order"], unit, unit, unit))
    rows.append(comparison_row("Pi(3), entropy_production_third_order [exact: J.E/T]", "-", pi3,
                               fit.values["entropy_production_joule"][3], fit.errors["entropy_production_joule"][3],
                               pi3, tolerance, AGREE, floor))
    return rows


INTRINSIC_FORMS = (
    ("intrinsic_second_order_closed_form", "closed form of the seed's tau^0 current", AGREE),
    ("intrinsic_second_order", "band-basis recursion, contour in eta", AGREE),
    ("berry_connection_polarizability_current", "Gao-Yang-Niu 2014 BCP (Liu, Wang 2021)",
     "may differ: a different tau^0 theory (ERRATA O3)"),
    ("kaplan_holder_yan_current", "Kaplan-Holder-Yan 2024 (BCP + metric dipole)",
     "may differ: a different tau^0 theory (ERRATA O3)"),
    ("quantum_metric_dipole_current", "normalized quantum-metric dipole alone",
     "may differ: a different tau^0 theory (ERRATA O3)"),
)


def verify_intrinsic(model, mu: float, T: float, nk, *, directions=None, shift=0.5, tolerance: float = 1e-3,
                     atol: float = 1e-10) -> list[dict]:
    """The tau^0 second-order currents beside the exact tau^0 current of the seed's equation.

    exact: `qgtransport.exact.orders.intrinsic_second_order_current` (perturbative recursion on field
    lines with spectral derivatives, continued to complex eta; a route independent of the band-basis
    formulas). Compared per field direction u (default b_1 and b_1 + ... + b_d) and current component a
    with chi_abc u_b u_c of the closed forms: the seed's own (must agree) and the literature's
    (Gao-Yang-Niu, Kaplan-Holder-Yan, the metric-dipole term: they need not). relative_difference is
    taken against the norm of the exact vector. Natural units; no tau (the tau^0 term has none).
    """
    from qgtransport.compute import compute
    from qgtransport.exact.lines import field_lines
    from qgtransport.exact.orders import intrinsic_second_order_current

    if directions is None:
        directions = [(1,) + (0,) * (model.dim - 1)] + ([(1,) * model.dim] if model.dim > 1 else [])
    names = [name for name, _, _ in INTRINSIC_FORMS]
    ds = compute(model, names, mu=mu, T=T, nk=nk, shift=shift, units="natural", error_estimate=False)
    rows = []
    for direction in directions:
        unit = field_lines(model, direction, nk, shift).unit
        exact = intrinsic_second_order_current(model, mu, T, nk, direction=direction, shift=shift)
        norm = np.linalg.norm(exact)
        label = ",".join(str(int(n)) for n in direction)
        for name, description, expected in INTRINSIC_FORMS:
            closed = np.einsum("abc,b,c->a", ds[name].values[0, 0], unit, unit)
            for a in range(model.dim):
                rows.append(comparison_row(f"J(2)/E^2 along ({label}), {description}", AXES[a], closed[a],
                                           exact[a], 0.0, norm, tolerance, expected, atol))
    return rows


def format_verify_table(rows: list[dict]) -> str:
    """A plain-text table of verify() rows."""
    header = ("quantity", "a", "closed form", "exact", "+-", "rel. diff", "verdict")
    lines = [(r["quantity"], r["component"], f"{r['closed_form']:.8g}", f"{r['exact']:.8g}",
              f"{r['exact_error']:.1e}", f"{r['relative_difference']:.2e}", r["verdict"]) for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i in (0, 1, 6) else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*line) for line in lines]
    expectations = sorted({r["expected"] for r in rows if r["expected"] != AGREE})
    out += ["", "expected differences:"] + [f"  - {e}" for e in expectations]
    return "\n".join(out)
