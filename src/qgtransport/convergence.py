"""How far to trust a number: the convergence status of each value of a dataset from its grid-error
estimate, the same everywhere a number is shown (`qgt compute`, `qgt run`, `qgt show`, `qgt demo`, the
report).

The error of a value v is its estimate e = |I(nk) - I(nk/2)| (the variable `<name>_error` of
`qgtransport.compute`), judged relative to the value, with a floor at a hundredth of the quantity's
largest magnitude S over the whole scan (all mu, T and components), so that a value that merely
crosses zero is not condemned by its own smallness:

    relative = |e| / max(|v|, FLOOR * S)                       FLOOR = 1e-2

    converged       relative <  CONVERGED = 1e-3   (about three significant digits)
    fair            relative <  FAIR = 3e-2        (a finer grid changes it by about the error)
    not converged   relative >= FAIR               (raise nk, or T for a metal, or refine)

A quantity that vanishes identically (the equilibrium entropy current, ERRATA E6) has no scale of its
own: its values are the grid error itself and get the status "vanishes (E6)".

Symmetry: components that the model's symmetry forbids are a second estimate of the grid error
(their computed value is discretisation error alone). `add_symmetry_residuals` takes them and folds
them into `<name>_error`; the symmetry package calls it (it is not part of this module).
"""

from __future__ import annotations

import math

import numpy as np

CONVERGED = 1e-3
FAIR = 3e-2
FLOOR = 1e-2
VANISHING = ("equilibrium_entropy_current",)  # zero identically (ERRATA E6): no scale of its own

STATUSES = ("converged", "fair", "not converged", "no estimate", "vanishes (E6)")


def status(relative) -> str:
    """The status of one relative error (None or NaN: "no estimate")."""
    if relative is None or math.isnan(float(relative)):
        return "no estimate"
    if relative < CONVERGED:
        return "converged"
    if relative < FAIR:
        return "fair"
    return "not converged"


def scale(values) -> float:
    """S: the largest finite magnitude of a variable over the scan (0 for an empty or zero one)."""
    magnitude = np.abs(np.asarray(values))
    magnitude = magnitude[np.isfinite(magnitude)]
    return float(magnitude.max()) if magnitude.size else 0.0


def relative_error(value, error, variable_scale: float):
    """|error| / max(|value|, FLOOR * S), elementwise; inf where both are zero but the error is not."""
    value, error = np.abs(np.asarray(value)), np.abs(np.asarray(error))
    reference = np.maximum(value, FLOOR * variable_scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(reference > 0, error / np.where(reference > 0, reference, 1.0),
                        np.where(error > 0, np.inf, 0.0))


def value_status(ds, name: str, value, error) -> str:
    """The status of one shown value of variable `name` of a dataset, with its error (None: none)."""
    if name in VANISHING:
        return "vanishes (E6)"
    if error is None or name + "_error" not in ds:
        return "no estimate"
    return status(float(relative_error(value, error, scale(ds[name].values))))


def variable_status(ds, name: str) -> tuple[str, float | None]:
    """(status, worst relative error) of a whole variable: its worst value over the scan."""
    if name in VANISHING:
        return "vanishes (E6)", None
    if name + "_error" not in ds:
        return "no estimate", None
    values = np.asarray(ds[name].values)
    relative = relative_error(values, ds[name + "_error"].values, scale(values))
    finite = relative[~np.isnan(relative)]
    worst = float(finite.max()) if finite.size else None
    return status(worst), worst


def flag(text: str) -> str:
    """The short flag of a status in tables: ok, fair, NOT CONVERGED, - (no estimate), = 0 (E6)."""
    return {"converged": "ok", "fair": "fair", "not converged": "NOT CONVERGED", "no estimate": "-",
            "vanishes (E6)": "= 0 (E6)"}[text]


def suggest_nk(grid, relative: float, target: float = FAIR / 3, order: int = 2) -> tuple:
    """A grid whose error should fall to `target` relative, assuming error ~ nk^-order:
    nk * (relative / target)^(1/order), rounded up to a multiple of 8, per direction.

    An estimate: a metal at low T converges irregularly until the grid resolves k_B T / (hbar v_F).
    """
    factor = max(1.0, (float(relative) / target) ** (1.0 / order))
    return tuple(int(8 * math.ceil(n * factor / 8)) for n in grid)


def parse_grid(text) -> tuple:
    """"32x32x32" (the dataset's grid attribute) -> (32, 32, 32)."""
    return tuple(int(n) for n in str(text).split("x") if n)


def convergence_warning(counts: dict, total: int, grid=None, worst: float | None = None,
                        nk_option: str = "--nk") -> str | None:
    """One line under a table: how many of its rows are not converged (or only fair) and, from the
    worst relative error shown and the grid ("32x32x32" or a tuple), what grid to try: `suggest_nk`,
    at most four times the present one per step ("and check again")."""
    bad = counts.get("not converged", 0)
    if not bad:
        fair = counts.get("fair", 0)
        return (f"note: {fair} of {total} rows only fair (grid error {CONVERGED:g} to {FAIR:g} of the value)"
                if fair else None)
    grid = parse_grid(grid) if isinstance(grid, str) else tuple(grid or ())
    hint = ""
    if grid and worst is not None and math.isfinite(worst):
        wanted = suggest_nk(grid, worst)
        step = tuple(min(w, 4 * n) for w, n in zip(wanted, grid, strict=True))
        shown = str(step[0]) if len(set(step)) == 1 else ",".join(map(str, step))
        again = " and check again" if step != wanted else ""
        hint = (f": try {nk_option} {shown}{again} (assuming error ~ 1/nk^2), a higher T for a metal, or adaptive "
                "refinement")
    return f"WARNING: {bad} of {total} rows NOT converged (grid error >= {FAIR:g} of the value){hint}"


def worst_relative(ds) -> tuple[str | None, float | None]:
    """(name, relative error) of the worst-converged response of a dataset (vanishing ones aside)."""
    worst_name, worst = None, None
    for name in ds.data_vars:
        if name.endswith(("_error", "_refinement")) or name in VANISHING:
            continue
        _, relative = variable_status(ds, name)
        if relative is not None and (worst is None or relative > worst):
            worst_name, worst = name, relative
    return worst_name, worst


def add_symmetry_residuals(ds, residuals: dict):
    """Count what symmetry forbids as grid error: a copy of ds whose `<name>_error` is the larger of
    the grid-error estimate and |residual| at every point.

    residuals : {name: array-like or xarray.DataArray of the shape of ds[name]}: for each response,
        the part that the model's symmetry forbids (the value minus its symmetrised value), in the
        variable's units. The symmetry package (not part of this module) computes them.
    """
    out = ds.copy()
    for name, residual in residuals.items():
        if name not in out.data_vars:
            raise ValueError(f"no variable {name!r} for the symmetry residual; the dataset has "
                             f"{sorted(v for v in out.data_vars if not v.endswith('_error'))}")
        magnitude = np.abs(np.asarray(residual))
        if magnitude.shape != out[name].shape:
            raise ValueError(f"the symmetry residual of {name} has shape {magnitude.shape}, the variable "
                             f"{out[name].shape}")
        error_name = name + "_error"
        if error_name in out:
            combined = np.maximum(np.abs(out[error_name].values), magnitude)
            out[error_name] = out[error_name].copy(data=combined)
        else:
            out[error_name] = out[name].copy(data=magnitude).assign_attrs(
                long_name=f"grid-error estimate of the {out[name].attrs.get('long_name', name)}",
                units=out[name].attrs.get("units", ""))
            out[name].attrs["ancillary_variables"] = error_name
        out[error_name].attrs["symmetry"] = "includes the symmetry-forbidden components of the value"
    return out


__all__ = ["CONVERGED", "FAIR", "FLOOR", "STATUSES", "status", "relative_error", "value_status", "variable_status",
           "flag", "suggest_nk", "convergence_warning", "worst_relative", "add_symmetry_residuals"]
