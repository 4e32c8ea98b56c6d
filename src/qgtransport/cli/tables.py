"""The text tables the `qgt` commands print: each response at the ends of the scan (`qgt compute`,
`qgt run`), at two chemical potentials (`qgt demo`), its range over the scan (`qgt show`), with its
tensor component, grid error, convergence flag (`qgtransport.convergence`) and units (one display unit
per quantity family, `qgtransport.units.DISPLAY_UNITS`: 3D conductivities in S/cm).
"""

from __future__ import annotations

import numpy as np

from qgtransport import convergence as conv
from qgtransport.results import dataset_model_label
from qgtransport.units import display_units

HALL_LIKE = ("entropy_hall", "anomalous_hall", "anomalous_nernst")
TENSOR_DIMS = ("a", "b", "c")


def tensor_dims(da) -> list:
    return [d for d in da.dims if d in TENSOR_DIMS]


def default_component(ds, name: str, requested=None) -> tuple:
    """The component shown in tables: the requested one (cut to the variable's rank), else xy for
    Hall-type responses and xx (x, xxx) otherwise."""
    rank = len(tensor_dims(ds[name]))
    if requested is not None and len(requested) >= rank:
        return tuple(requested[:rank])
    if name in HALL_LIKE and rank == 2 and ds.sizes.get("a", 1) >= 2:
        return ("x", "y")
    return ("x",) * rank


def component_value(ds, name: str, component: tuple, **where):
    """One number: the variable at the given coordinates and tensor component (first index of any
    other dimension, e.g. omega)."""
    da = ds[name].sel(**where)
    tensor = tensor_dims(da)
    da = da.sel(dict(zip(tensor, component[: len(tensor)], strict=True)))
    return da.isel({d: 0 for d in da.dims}).values.item()


def response_names(ds) -> list:
    return [v for v in ds.data_vars if not v.endswith("_error")]


def format_table(header: list, rows: list) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)).rstrip()
    body = ["  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([line, "-" * len(line), *body])


def number(value) -> str:
    if isinstance(value, complex):
        return f"{value.real: .4e}{value.imag:+.4e}j"
    return f"{value: .4e}"


def shown_units(ds, name) -> tuple[float, str]:
    """(factor, units) in which a variable is shown (`qgtransport.units.display_units`)."""
    units = str(ds[name].attrs.get("units", ""))
    try:
        return display_units(units)
    except ValueError:
        return 1.0, units


def compute_table(ds, component=None, nk_option: str = "--nk") -> str:
    """Each response at the first and last mu for each T (and the first and last omega of a
    frequency-dependent one), one component, with its grid error, convergence flag and units; a
    one-line warning under the table when a value shown is not converged."""
    mu = ds["mu"].values
    mu_unit = ds["mu"].attrs.get("units", "")
    T_unit = ds["T"].attrs.get("units", "")
    ends = [float(mu[0])] if len(mu) == 1 else [float(mu[0]), float(mu[-1])]
    header = ["quantity", "comp", f"T ({T_unit})", *(f"mu={m:g} {mu_unit}" for m in ends), "grid error", "flag",
              "units"]
    has_omega = "omega" in ds.coords and any("omega" in ds[n].dims for n in response_names(ds))
    if has_omega:
        header.insert(3, f"omega ({ds['omega'].attrs.get('units', '')})")
    rows = []
    counts: dict = {}
    worst = None
    for name in response_names(ds):
        comp = default_component(ds, name, component)
        scale, unit = shown_units(ds, name)
        omegas = [None]
        if "omega" in ds[name].dims:
            w = ds["omega"].values
            omegas = [float(w[0])] if len(w) == 1 else [float(w[0]), float(w[-1])]
        for T in ds["T"].values:
            for omega in omegas:
                where = dict(T=T) | ({} if omega is None else dict(omega=omega))
                raw = [component_value(ds, name, comp, mu=m, **where) for m in ends]
                error = "-"
                errors = [None] * len(ends)
                if name + "_error" in ds:
                    errors = [abs(component_value(ds, name + "_error", comp, mu=m, **where)) for m in ends]
                    error = f"{scale * max(errors):.1e}"
                statuses = [conv.value_status(ds, name, v, e) for v, e in zip(raw, errors, strict=True)]
                status = worst_status(statuses)
                counts[status] = counts.get(status, 0) + 1
                if status == "not converged":
                    relative = max(float(conv.relative_error(v, e, conv.scale(ds[name].values)))
                                   for v, e in zip(raw, errors, strict=True))
                    worst = relative if worst is None else max(worst, relative)
                row = [name, "".join(comp), f"{T:g}", *(number(scale * v) for v in raw), error, conv.flag(status),
                       unit]
                if has_omega:
                    row.insert(3, "-" if omega is None else f"{omega:g}")
                rows.append(row)
    table = format_table(header, rows)
    warning = conv.convergence_warning(counts, len(rows), ds.attrs.get("grid"), worst, nk_option)
    return table + (f"\n{warning}" if warning else "")


ORDER = ("not converged", "fair", "no estimate", "converged", "vanishes (E6)")


def worst_status(statuses) -> str:
    """The least trustworthy of several statuses (not converged before fair before converged)."""
    return min(statuses, key=ORDER.index)


def model_title_line(ds) -> str:
    tau = ds.attrs.get("tau", "none")
    tau_text = "" if tau == "none" else f", tau = {float(tau):g} {ds.attrs['tau_units']}"
    return (f"{dataset_model_label(ds)}, {ds.attrs['units']} units, grid {ds.attrs['grid']}{tau_text}, "
            f"kernel {ds.attrs['kernel']}, rho1 {ds.attrs['rho1']}")


def demo_table(ds, mu_points: dict, T: float) -> tuple[list, list]:
    header = ["quantity", "comp"]
    for label, m in mu_points.items():
        header += [f"{label} mu={m:.3g} eV", "grid error", "flag"]
    header.append("units")
    rows = []
    for name in response_names(ds):
        comp = default_component(ds, name)
        scale, unit = shown_units(ds, name)
        row = [name, "".join(comp)]
        for m in mu_points.values():
            value = component_value(ds, name, comp, mu=m, T=T)
            row.append(number(scale * value))
            error = abs(component_value(ds, name + "_error", comp, mu=m, T=T)) if name + "_error" in ds else None
            row.append("-" if error is None else f"{scale * error:.1e}")
            row.append(conv.flag(conv.value_status(ds, name, value, error)))
        row.append(unit)
        rows.append(row)
    return header, rows


def flags_warning(ds, header: list, rows: list, nk_option: str = "--nk") -> str | None:
    """The warning line under a table with flag columns (`qgt demo`): NOT CONVERGED values counted,
    a grid suggested from the worst relative error of the dataset."""
    columns = [i for i, h in enumerate(header) if h == "flag"]
    flags = [row[i] for row in rows for i in columns]
    inverse = {conv.flag(s): s for s in conv.STATUSES}
    counts: dict = {}
    for text in flags:
        counts[inverse[text]] = counts.get(inverse[text], 0) + 1
    _, worst = conv.worst_relative(ds)
    line = conv.convergence_warning(counts, len(flags), ds.attrs.get("grid"), worst, nk_option)
    return None if line is None else line.replace(" rows ", " values ")


def summary_table(ds, component=None) -> str:
    """quantity, component, min and max over the scan, largest grid error, convergence of the whole
    scan (its worst value), units."""
    rows = []
    for name in response_names(ds):
        comp = default_component(ds, name, component)
        scale, unit = shown_units(ds, name)
        da = ds[name]
        tensor = tensor_dims(da)
        selected = da.sel(dict(zip(tensor, comp[: len(tensor)], strict=True))) if tensor else da
        values = np.asarray(selected.values) * scale
        error = "-"
        if name + "_error" in ds:
            err = ds[name + "_error"]
            err = err.sel(dict(zip(tensor, comp[: len(tensor)], strict=True))) if tensor else err
            error = f"{scale * float(np.abs(np.asarray(err.values)).max()):.1e}"
        if np.iscomplexobj(values):
            low, high = f"Re {values.real.min(): .4e}", f"Re {values.real.max(): .4e}"
        else:
            low, high = number(float(values.min())), number(float(values.max()))
        dims = ",".join(d for d in da.dims if d not in ("a", "b", "c"))
        status, _ = conv.variable_status(ds, name)
        rows.append([name, "".join(comp), dims, low, high, error, conv.flag(status), unit])
    header = ["quantity", "comp", "over", "min", "max", "max grid error", "flag", "units"]
    warning = flags_warning(ds, header, rows)
    return format_table(header, rows) + (f"\n{warning.replace(' values ', ' quantities ')}" if warning else "")
