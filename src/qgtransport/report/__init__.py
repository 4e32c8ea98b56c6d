"""The report of a run: figures and the self-contained HTML page. Draws and writes; the physics it
shows is computed where it lives (`qgtransport.compute`, `qgtransport.entropy_density`,
`qgtransport.relations`, `qgtransport.exact`).

    figures   responses against mu, T and omega
    kspace    band structure along a path, Brillouin-zone maps, the entropy-production density map
    checks    relation checks, the exact-solver comparison, grid convergence, the errata that apply
    page      `write_report`: the HTML page and the PNG files

`from qgtransport.report import write_report, ReportOptions` as before the subpackage existed.

The subpackage is callable: `qgtransport.report(ds, model, "out")` is `report(...)` below, which
takes a dataset or the path of a saved one (`qgtransport.open_dataset`) and recomputes no response.
"""

import sys
import types
import warnings

from qgtransport.report.checks import (
    ERRATA,
    RELATION_CHECKS,
    Check,
    applicable_errata,
    exact_checks,
    grid_convergence,
    relation_checks,
)
from qgtransport.report.figures import (
    frequency_figure,
    more_responses_figure,
    plot_entropy_hall_and_nernst,
    plot_entropy_production,
    plot_vs_mu,
    plot_vs_T,
    responses_vs_T_figure,
)
from qgtransport.report.kspace import (
    KPath,
    band_data,
    band_structure_figure,
    bz_map,
    bz_values,
    custom_path,
    entropy_density_figure,
    high_symmetry_path,
    lattice_kind,
    nearest_band,
    plot_bz_maps,
    route,
    sample_path,
    seekpath_path,
)
from qgtransport.report.page import Report, ReportOptions, write_report


def report(ds, model=None, folder="report", options: ReportOptions | None = None, **keywords) -> Report:
    """Write the HTML report and its figures for a dataset, from memory or from a file, without
    recomputing it.

    Parameters
    ----------
    ds : xarray.Dataset or str or pathlib.Path
        The dataset of `qgtransport.compute`, or the netCDF file of one (`qgt compute --output`,
        `qgt run`, `qgt demo`; read with `qgtransport.open_dataset`).
    model : TightBinding, optional
        The model of the dataset: with it the report has the band structure, the zone maps, the
        entropy-production density and the relation checks that recompute; without it, the figures
        and checks of the dataset alone.
    folder : str or pathlib.Path
        Where report.html and figures/*.png are written (created if needed).
    options : ReportOptions, optional
        What to show (default: everything the dataset allows).
    **keywords
        config_text, command, log: as for `write_report`.

    Returns
    -------
    Report
        The paths written and the checks shown.
    """
    if not hasattr(ds, "data_vars"):
        from qgtransport.results import open_dataset

        ds = open_dataset(ds)
    return write_report(ds, model, folder, options, **keywords)


class _CallableModule(types.ModuleType):
    """`qgtransport.report(ds, model, folder)` calls `qgtransport.report.report`."""

    def __call__(self, *args, **keywords):
        return report(*args, **keywords)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "KPath", "high_symmetry_path", "seekpath_path", "custom_path", "lattice_kind", "sample_path", "band_data",
    "nearest_band", "route",
    "band_structure_figure", "bz_map", "bz_values", "plot_bz_maps", "entropy_density_figure", "plot_vs_mu",
    "plot_entropy_hall_and_nernst", "plot_entropy_production", "plot_vs_T", "responses_vs_T_figure",
    "more_responses_figure", "frequency_figure", "relation_checks", "exact_checks", "grid_convergence",
    "applicable_errata", "Check", "RELATION_CHECKS", "ERRATA", "ReportOptions", "Report", "write_report", "report",
]

# the physics the report module used to hold now lives beside the physics
_MOVED = {
    "entropy_production_density": "qgtransport.entropy_density",
    "field_unit_vector": "qgtransport.entropy_density",
    "maxwell_sides": "qgtransport.relations",
    "sommerfeld_sides": "qgtransport.relations",
}


def __getattr__(name):
    if name in _MOVED:
        import importlib

        warnings.warn(f"qgtransport.report.{name} is now {_MOVED[name]}.{name}; the old path will be removed "
                      "in a future version", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'qgtransport.report' has no attribute {name!r}")
