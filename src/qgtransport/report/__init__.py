"""The report of a run: figures and the self-contained HTML page. Draws and writes; the physics it
shows is computed where it lives (`qgtransport.compute`, `qgtransport.entropy_density`,
`qgtransport.relations`, `qgtransport.exact`).

    figures   responses against mu, T and omega
    kspace    band structure along a path, Brillouin-zone maps, the entropy-production density map
    checks    relation checks, the exact-solver comparison, grid convergence, the errata that apply
    page      `write_report`: the HTML page and the PNG files

`from qgtransport.report import write_report, ReportOptions` as before the subpackage existed.
"""

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
    plot_bz_maps,
    sample_path,
)
from qgtransport.report.page import Report, ReportOptions, write_report

__all__ = [
    "KPath", "high_symmetry_path", "custom_path", "lattice_kind", "sample_path", "band_data",
    "band_structure_figure", "bz_map", "bz_values", "plot_bz_maps", "entropy_density_figure", "plot_vs_mu",
    "plot_entropy_hall_and_nernst", "plot_entropy_production", "plot_vs_T", "responses_vs_T_figure",
    "more_responses_figure", "frequency_figure", "relation_checks", "exact_checks", "grid_convergence",
    "applicable_errata", "Check", "RELATION_CHECKS", "ERRATA", "ReportOptions", "Report", "write_report",
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
