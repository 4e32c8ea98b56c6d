"""The report of a run: figures and the self-contained HTML page. Draws and writes; the physics it
shows comes from the layers below.

`from qgtransport.report import write_report, ReportOptions` as before the subpackage existed.
"""

from qgtransport.report.page import (
    ERRATA,
    Check,
    KPath,
    Report,
    ReportOptions,
    applicable_errata,
    band_data,
    band_structure_figure,
    custom_path,
    entropy_density_figure,
    entropy_production_density,
    exact_checks,
    field_unit_vector,
    frequency_figure,
    grid_convergence,
    high_symmetry_path,
    lattice_kind,
    maxwell_sides,
    more_responses_figure,
    plot_vs_T,
    relation_checks,
    responses_vs_T_figure,
    sample_path,
    sommerfeld_sides,
    write_report,
)

__all__ = [
    "KPath", "high_symmetry_path", "custom_path", "lattice_kind", "sample_path", "band_data",
    "band_structure_figure", "entropy_production_density", "entropy_density_figure", "field_unit_vector",
    "plot_vs_T", "responses_vs_T_figure", "more_responses_figure", "frequency_figure", "relation_checks",
    "exact_checks", "grid_convergence", "applicable_errata", "Check", "ReportOptions", "Report",
    "write_report", "ERRATA", "maxwell_sides", "sommerfeld_sides",
]
