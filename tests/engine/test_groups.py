"""Temperature groups of the binned scan: the grouping rule, and grouped scans against the direct sum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qgtransport import builtin_model, compute
from qgtransport.engine.groups import GROUP_BINS, grid_bins, temperature_groups
from qgtransport.engine.spectral import MAX_BINS, TERMS, EnergyGrid

BINNED = sorted(TERMS)
MU = np.linspace(-1.2, 1.2, 5)
WIDE_T = [0.002, 0.05, 0.3]  # one grid: (2.4 + 80 x 0.3) / (0.002 / 32) = 422,400 bins


def test_one_grid_for_a_wide_temperature_range_would_be_large_and_the_groups_are_not():
    mu, T = np.repeat(MU, 3), np.tile(WIDE_T, 5)
    assert EnergyGrid.for_points(mu, T).count == grid_bins(mu, T) == pytest.approx(422400, abs=1)
    groups = temperature_groups(mu, T)
    assert [sorted(set(T[g])) for g in groups] == [[0.002], [0.05, 0.3]]
    assert sum(grid_bins(mu[g], T[g]) for g in groups) == pytest.approx(40960 + 16896, abs=2)
    # an explicit bin width, or temperatures that fit one grid: one group
    assert len(temperature_groups(mu, T, bin_width=1e-3)) == 1
    assert len(temperature_groups(np.repeat(MU, 3), np.tile([0.1, 0.3, 1.0], 5))) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(1e-4, 2.0), min_size=1, max_size=8), st.floats(0.0, 3.0))
def test_groups_partition_the_points_in_ascending_temperature_within_the_bin_budget(temperatures, span):
    mu = np.repeat(np.linspace(0.0, span, 3), len(temperatures))
    T = np.tile(temperatures, 3)
    groups = temperature_groups(mu, T)
    assert np.array_equal(np.sort(np.concatenate(groups)), np.arange(len(T)))
    for g, points in enumerate(groups):
        assert len(set(T[points])) == 1 or grid_bins(mu[points], T[points]) <= GROUP_BINS
        if g:
            assert T[groups[g - 1]].max() < T[points].min()
            # greedy: the previous group could not have taken this group's lowest temperature
            merged = np.concatenate([groups[g - 1], np.flatnonzero(T == T[points].min())])
            assert grid_bins(mu[merged], T[merged]) > GROUP_BINS


def test_grouped_binned_scan_matches_the_direct_sum_within_its_error():
    model = builtin_model("haldane", M=0.2)
    common = dict(mu=MU, T=WIDE_T, tau=3.0, nk=24, units="natural", error_estimate=False)
    direct = compute(model, BINNED, scan="direct", **common)
    for scan in ("binned", "auto"):
        grouped = compute(model, BINNED, scan=scan, **common)
        assert grouped.attrs["scan"] == "binned" and grouped.attrs["temperature_groups"] == 2
        assert grouped.attrs["energy_bins"] == pytest.approx(40960 + 16896, abs=2)
        for name in BINNED:
            a, b = direct[name].values, grouped[name].values
            scale = 1.0 if name == "equilibrium_entropy_current" else np.abs(a).max()
            assert np.all(np.abs(a - b) <= 1e-6 * scale), name
            assert np.all(np.abs(a - b) <= grouped[name + "_error"].values + 1e-12 * scale), name


def test_a_scan_that_fits_one_grid_is_not_grouped():
    model = builtin_model("qwz")
    ds = compute(model, ["anomalous_hall"], mu=MU, T=[0.1, 0.3], nk=6, units="natural", error_estimate=False)
    assert ds.attrs["scan"] == "binned" and ds.attrs["temperature_groups"] == 1


@pytest.mark.parametrize("T", [[1e-6, 0.1], [1e-6]])
def test_a_group_too_fine_for_any_grid_falls_back_to_direct_under_auto(T):
    model = builtin_model("qwz")
    ds = compute(model, ["anomalous_hall"], mu=np.linspace(-3, 3, 5), T=T, nk=4, units="natural",
                 error_estimate=False)
    assert ds.attrs["scan"] == "direct"


def test_grouped_scan_of_ac_and_dc_quantities_puts_every_omega_row_back_in_place():
    """Frequency-dependent rows are (mu, T) x omega: the groups' rows go back to their points for every
    omega (against the direct sum, with a DC quantity in the same request)."""
    from qgtransport.engine.spectral_ac import TERMS_AC

    model = builtin_model("haldane", M=0.2)
    quantities = sorted(TERMS_AC) + ["anomalous_hall"]
    common = dict(mu=np.linspace(-1.2, 1.2, 3), T=WIDE_T, tau=3.0, nk=12, units="natural", error_estimate=False,
                  omega=[0.0, 0.7, 2.0], width=0.15)
    direct = compute(model, quantities, scan="direct", **common)
    grouped = compute(model, quantities, scan="binned", **common)
    assert grouped.attrs["temperature_groups"] == 2
    for name in quantities:
        a, b = direct[name].values, grouped[name].values
        scale = np.abs(a).max()
        assert np.all(np.abs(a - b) <= 1e-6 * scale), name
        assert np.all(np.abs(a - b) <= grouped[name + "_error"].values + 1e-12 * scale), name


def test_auto_bins_a_scan_whose_one_grid_would_exceed_the_limit_but_whose_groups_do_not():
    # T = 1e-3 and 2 over mu in [-1, 1]: one grid (2 + 160) / (1e-3 / 32) = 5,184,000 bins, above MAX_BINS;
    # the groups {1e-3} and {2}: 66,560 and 2,592 bins
    model = builtin_model("qwz")
    mu, T = np.linspace(-1, 1, 5), [1e-3, 2.0]
    assert grid_bins(np.repeat(mu, 2), np.tile(T, 5)) > MAX_BINS
    ds = compute(model, ["anomalous_hall"], mu=mu, T=T, nk=6, units="natural", error_estimate=False)
    assert ds.attrs["scan"] == "binned" and ds.attrs["temperature_groups"] == 2
    direct = compute(model, ["anomalous_hall"], mu=mu, T=T, nk=6, units="natural", error_estimate=False,
                     scan="direct")
    a, b = direct["anomalous_hall"].values, ds["anomalous_hall"].values
    assert np.all(np.abs(a - b) <= 1e-6 * np.abs(a).max())


def test_the_memory_limit_of_the_ac_histograms_counts_every_group():
    """A chunk holds the histograms of all groups at once: the limit is on their sum."""
    from qgtransport.engine.groups import group_grids
    from qgtransport.engine.spectral_ac import check_binned, histogram_doubles
    from qgtransport.responses.kernels import Settings

    mu, T = np.repeat(MU, 3), np.tile(WIDE_T, 5)
    grids = [grid for _, grid in group_grids(mu, T)]
    each = [histogram_doubles(["conductivity_ac"], grid, 10, 2) for grid in grids]
    settings = Settings()
    check_binned(["conductivity_ac"], settings, grids, 10, 2, limit=sum(each))
    with pytest.raises(ValueError, match=r"\(40960 \+ 2\) \+ \(16896 \+ 2\) energy bins"):
        check_binned(["conductivity_ac"], settings, grids, 10, 2, limit=sum(each) - 1)


def test_grouped_scan_on_bcc_fe_matches_the_direct_sum():
    """The real 18-band model (tests/data/wannier90/fe, SOC): the linear DC set on 5 mu x (20, 300, 1000 K),
    which one grid would cover with 135,427 bins; grouped {20 K}, {300 K, 1000 K}."""
    from pathlib import Path

    from qgtransport.models.wannier90 import read_hr

    fe = read_hr(Path(__file__).resolve().parents[1] / "data" / "wannier90" / "fe" / "Fe_hr.dat")
    kelvin = 8.617333262e-5  # eV
    common = dict(mu=17.6255 + np.linspace(-0.2, 0.2, 5), T=[20.0, 300.0, 1000.0], tau=10.0, nk=4,
                  error_estimate=False)
    direct = compute(fe, BINNED, scan="direct", **common)
    grouped = compute(fe, BINNED, **common)
    assert grouped.attrs["scan"] == "binned" and grouped.attrs["temperature_groups"] == 2
    assert grid_bins(np.repeat(common["mu"], 3), np.tile(np.array(common["T"]) * kelvin, 5)) > 1e5
    for name in BINNED:
        a, b = direct[name].values, grouped[name].values
        scale = np.abs(a).max()  # SI; on this coarse grid the equilibrium current is not yet ~0 (ERRATA E6)
        assert np.all(np.abs(a - b) <= 1e-6 * scale), name
        assert np.all(np.abs(a - b) <= grouped[name + "_error"].values + 1e-12 * scale), name


def test_the_memory_limit_counts_the_dc_histograms_too():
    """(bins + 2) x 4 moments x the independent components of every DC band quantity (36 for the linear DC
    set in 3D): 500,000 bins are 72 million doubles, above the auto limit (2^26), below the explicit one."""
    from qgtransport.engine.spectral_ac import AUTO_MAX_DOUBLES, check_binned, dc_columns
    from qgtransport.responses.kernels import Settings

    assert dc_columns(BINNED, 3) == 36 and dc_columns(["anomalous_hall"], 2) == 1
    grid = EnergyGrid(lower=0.0, width=1e-3, count=500_000)
    check_binned(BINNED, Settings(), grid, 1, 3)
    with pytest.raises(ValueError, match=r"72000288 doubles.*\(500000 \+ 2\) energy bins x 4 moments x \(36 DC"):
        check_binned(BINNED, Settings(), grid, 1, 3, AUTO_MAX_DOUBLES)
