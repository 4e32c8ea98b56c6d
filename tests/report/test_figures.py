"""Plot helpers: each returns a Figure with the expected artists and labelled axes (Agg, no pyplot)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from qgtransport import builtin_model, compute  # noqa: E402
from qgtransport.report import figures as plot  # noqa: E402
from qgtransport.report import kspace  # noqa: E402

T_VALUES = (500.0, 1000.0, 2000.0)


@pytest.fixture(scope="module")
def ds():
    quantities = ["entropy_production", "entropy_production_drude", "entropy_production_interband",
                  "equilibrium_entropy_current", "entropy_hall", "anomalous_hall", "anomalous_nernst"]
    return compute(builtin_model("qwz", m=-1.0), quantities, mu=np.linspace(-3, 3, 13), T=T_VALUES, tau=10.0, nk=12)


def data_lines(ax):
    """Lines that carry data (not the y = 0 guide)."""
    return [line for line in ax.get_lines() if len(line.get_xdata()) > 2]


def test_plot_vs_mu_one_line_per_temperature(ds, tmp_path):
    fig = plot.plot_vs_mu(ds, "anomalous_hall", ("x", "y"))
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    lines = data_lines(ax)
    assert len(lines) == len(T_VALUES)
    assert [line.get_label() for line in lines] == [f"T = {T:g} K" for T in T_VALUES]
    assert "eV" in ax.get_xlabel()
    assert ax.get_ylabel() == r"$\sigma_{xy}$ (S)"  # the unit of the tables: a 2D sheet conductance in S
    np.testing.assert_allclose(lines[0].get_ydata(), ds.anomalous_hall.sel(a="x", b="y", T=500.0).values)
    assert ax.get_title().startswith("Anomalous Hall conductivity\nqwz (m=-1)")
    assert len(ax.collections) == len(T_VALUES)  # the grid-error band of each line
    fig.savefig(tmp_path / "hall.png")
    assert (tmp_path / "hall.png").stat().st_size > 0


def test_plot_vs_mu_into_given_axes_and_vector_variable(ds):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot.plot_vs_mu(ds, "equilibrium_entropy_current", ("x",), ax=ax) is fig
    assert len(data_lines(ax)) == len(T_VALUES)
    assert "W/(K m)" in ax.get_ylabel()


def test_3d_conductivity_is_drawn_in_the_unit_of_the_tables():
    """S/cm in the figure as in `qgt compute`'s table (qgtransport.units.DISPLAY_UNITS), the values
    converted by pint: the line is the dataset's S/m divided by 100."""
    from qgtransport.cli.tables import compute_table

    weyl = compute(builtin_model("weyl"), ["anomalous_hall"], mu=np.linspace(-0.5, 0.5, 5), T=300.0, nk=8)
    assert weyl.anomalous_hall.attrs["units"] == "S/m"
    (ax,) = plot.plot_vs_mu(weyl, "anomalous_hall", ("x", "y")).axes
    assert ax.get_ylabel().endswith("(S/cm)")
    np.testing.assert_allclose(data_lines(ax)[0].get_ydata(), weyl.anomalous_hall.sel(a="x", b="y").values[:, 0] / 100)
    assert compute_table(weyl).splitlines()[2].split()[-1] == "S/cm"


def test_plot_vs_mu_names_a_missing_variable(ds):
    with pytest.raises(ValueError, match="no variable 'nope'"):
        plot.plot_vs_mu(ds, "nope")
    with pytest.raises(ValueError, match="did you mean 'anomalous_hall'"):
        plot.plot_vs_mu(ds, "anomalus_hall")


def test_entropy_hall_and_nernst_lines_and_markers(ds):
    fig = plot.plot_entropy_hall_and_nernst(ds)
    (ax,) = fig.axes
    lines = data_lines(ax)
    assert len(lines) == 2 * len(T_VALUES)  # sigma^s as a line, alpha as markers, per T
    assert sum(line.get_linestyle() == "None" and line.get_marker() == "o" for line in lines) == len(T_VALUES)
    assert "A/K" in ax.get_ylabel() and "eV" in ax.get_xlabel()
    assert ax.get_title()


def test_entropy_production_parts_per_temperature(ds):
    fig = plot.plot_entropy_production(ds)
    (ax,) = fig.axes
    assert len(data_lines(ax)) == 3 * len(T_VALUES)  # total, Drude, interband
    assert ax.get_yscale() == "log"  # Pi_xx >= 0
    assert "V/m" in ax.get_ylabel() and "eV" in ax.get_xlabel()
    assert len(ax.get_legend().get_texts()) == 3


def test_bz_map_berry_curvature_integrates_to_chern_number():
    model = builtin_model("qwz", m=-1.0)
    fig = kspace.bz_map(model, "berry_curvature", band=0, nk=41)
    ax = fig.axes[0]
    assert sum(isinstance(c, QuadMesh) for c in ax.collections) == 1
    assert ax.get_xlabel() and ax.get_ylabel()
    assert "C_{0}" in ax.get_title() and "1.000" in ax.get_title()
    assert len(fig.axes) == 2  # the map and its colour bar
    assert "Omega" in fig.axes[1].get_ylabel()
    values = kspace.bz_values(model, "berry_curvature", 0, nk=41)
    chern = values.mean() * kspace.bz_area(model) / (2 * np.pi)
    assert chern == pytest.approx(1.0, abs=1e-3)
    metric = kspace.bz_values(model, "quantum_metric", 0, nk=41)
    assert np.all(metric >= np.abs(values) - 1e-12)  # tr g >= |Omega| at every k (two bands)


def test_bz_map_cartesian_and_3d_slice():
    fig = kspace.bz_map(builtin_model("haldane"), "quantum_metric", nk=21, cartesian=True)
    assert "1/" in fig.axes[0].get_xlabel()
    fig = kspace.bz_map(builtin_model("weyl"), "berry_curvature", nk=21, kz=0.25)
    assert "0.25" in fig.axes[0].get_title()


def test_bz_map_rejects_1d_models_and_unknown_quantities():
    with pytest.raises(ValueError, match="2D or 3D"):
        kspace.bz_map(builtin_model("rice_mele"), "berry_curvature")
    with pytest.raises(ValueError, match="quantity"):
        kspace.bz_map(builtin_model("qwz"), "curvature")
    with pytest.raises(ValueError, match="band"):
        kspace.bz_map(builtin_model("qwz"), "berry_curvature", band=2)


def test_plot_bz_maps_side_by_side():
    fig = kspace.plot_bz_maps(builtin_model("qwz"), nk=21)
    assert len(fig.axes) == 4  # two maps, then two colour bars
    maps = fig.axes[:2]
    assert [sum(isinstance(c, QuadMesh) for c in ax.collections) for ax in maps] == [1, 1]
    assert "Berry curvature" in maps[0].get_title() and "quantum metric" in maps[1].get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in maps)
    assert fig.get_suptitle()


def test_si_prefixed():
    assert plot.si_prefixed([2e-9, -1e-10], "A/K") == (1e-9, "nA/K")
    assert plot.si_prefixed([3e-5], "S") == (1e-6, "\u00b5S")
    assert plot.si_prefixed([3e-5], "e^2/hbar") == (1.0, "e^2/hbar")
