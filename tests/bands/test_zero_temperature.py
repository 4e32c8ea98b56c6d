"""T = 0 for the Fermi-sea quantities (step occupation, f = 1/2 at E_n = E_F), the clear error elsewhere.

- A Chern insulator at T = 0 gives anomalous_hall_xy = -C e^2/h to rounding (QWZ, C = +1, -1, 0).
- On one grid the T = 0 result is the T -> 0 limit of the finite-T one (exactly, to rounding), for
  the anomalous Hall conductivity of a metal (Haldane, bcc Fe) and for the entropy quantities, which
  vanish; interband optical conductivity likewise.
- Sommerfeld: sigma(T) - sigma(0) = O(T^2) on a metal; extrapolated to T = 0 the finite-T values meet
  the T = 0 one within its (slow, step-function) grid error, which shrinks with nk.
- Quantities without a T = 0 value refuse it by name; the CLI accepts --T 0 for the Fermi-sea ones.
"""

from pathlib import Path

import numpy as np
import pytest
import scipy.constants as C
from click.testing import CliRunner

from qgtransport import builtin_model, compute
from qgtransport.models.wannier90 import read_hr
from qgtransport.responses import RESPONSES, ZERO_TEMPERATURE

E2_OVER_H = C.e**2 / C.h
FE = Path(__file__).parents[1] / "data" / "wannier90" / "fe" / "Fe_hr.dat"


@pytest.mark.parametrize("m,chern", [(-1.0, 1), (1.0, -1), (-3.5, 0)])
def test_chern_insulator_at_zero_temperature_is_quantised(m, chern):
    ds = compute(builtin_model("qwz", m=m), ["anomalous_hall"], mu=0.0, T=0.0, nk=64, error_estimate=False)
    assert ds.anomalous_hall.sel(a="x", b="y").item() / E2_OVER_H == pytest.approx(-chern, abs=1e-13)


def test_zero_temperature_is_the_limit_of_finite_temperature_on_the_same_grid():
    # Haldane metal: no band energy of the 64^2 grid within ~1e-4 eV of these mu, so at T = 0.01 K
    # (8.6e-7 eV) every f_n is the step to exp(-100)
    model = builtin_model("haldane", M=0.2)
    names = list(ZERO_TEMPERATURE)
    ds = compute(model, names, mu=[-0.9, 1.3, 0.0], T=[0.0, 0.01], omega=[1.2, 2.5], nk=64, error_estimate=False)
    zero, small = ds.sel(T=0.0), ds.sel(T=0.01)
    hall = zero.anomalous_hall.sel(a="x", b="y").values
    assert np.all(np.abs(hall) > 1e-7)
    for name in names:
        scale = np.abs(zero[name].values).max()  # imaginary parts are rounding, ~1e-17 of it
        assert np.allclose(zero[name].values, small[name].values, rtol=1e-12, atol=1e-12 * scale + 1e-90), name
    # the entropy is zero at T = 0 (no band energy exactly at mu)
    for name in ("entropy_hall", "anomalous_nernst", "optical_entropy_conductivity", "equilibrium_entropy_current"):
        assert np.all(zero[name].values == 0), name


def test_iron_anomalous_hall_at_zero_temperature_is_the_low_temperature_limit():
    model = read_hr(FE)
    ds = compute(model, ["anomalous_hall", "anomalous_nernst"], mu=17.6255, T=[0.0, 0.01], nk=6, error_estimate=False)
    hall = ds.anomalous_hall.values[0]
    assert np.abs(hall[0]).max() > 1.0  # S/m
    assert np.allclose(hall[0], hall[1], rtol=1e-12, atol=0.0)
    assert np.all(ds.anomalous_nernst.values[0, 0] == 0)


def test_sommerfeld_finite_temperature_tends_to_the_zero_temperature_value():
    # sigma(T) = sigma(0) + (pi^2/6) T^2 sigma''(mu) + O(T^4): the finite-T values (converged on these
    # grids) extrapolated to T = 0 in T^2 meet sigma(0), whose own grid error (a step on a Fermi
    # surface) falls with nk
    model = builtin_model("haldane", M=0.2)
    Ts = np.array([0.02, 0.03, 0.04, 0.06])  # eV
    gaps = []
    for nk in (300, 600):
        ds = compute(model, ["anomalous_hall"], mu=1.3, T=np.r_[0.0, Ts], nk=nk, units="natural",
                     error_estimate=False)
        sigma = ds.anomalous_hall.sel(a="x", b="y").values[0]
        extrapolated = np.polyval(np.polyfit(Ts**2, sigma[1:], 2), 0.0)
        gaps.append(abs(extrapolated - sigma[0]) / abs(sigma[0]))
        assert abs(sigma[1] - sigma[0]) > 10 * abs(extrapolated - sigma[0])  # the T^2 term is resolved
    assert gaps[1] < 5e-4 and gaps[1] < gaps[0]


@pytest.mark.parametrize("name", ["drude", "entropy_production", "entropy_production_band_curvature",
                                  "entropy_current_drude", "conductivity_ac", "second_order_current",
                                  "berry_connection_polarizability_current"])
def test_quantities_without_a_zero_temperature_value_refuse_it_by_name(name):
    with pytest.raises(ValueError, match=f"T = 0 is accepted only for the Fermi-sea.*{name}"):
        compute(builtin_model("qwz"), [name], mu=0.0, T=[0.0, 300.0], tau=10.0, omega=[1.0], nk=8)


def test_zero_temperature_flags():
    assert not any(RESPONSES[q].needs_tau for q in ZERO_TEMPERATURE)
    assert set(ZERO_TEMPERATURE) == {q for q in RESPONSES if RESPONSES[q].zero_temperature}


def test_binned_scan_and_negative_temperature_refuse_zero_clearly():
    model = builtin_model("qwz")
    with pytest.raises(ValueError, match='scan="binned" needs T > 0'):
        compute(model, ["anomalous_hall"], mu=0.0, T=0.0, nk=8, scan="binned")
    with pytest.raises(ValueError, match=">= 0"):
        compute(model, ["anomalous_hall"], mu=0.0, T=-1.0, nk=8)


def test_cli_accepts_zero_temperature_for_the_anomalous_hall_conductivity(tmp_path):
    from qgtransport.cli import main
    from qgtransport.results import read_netcdf

    out = tmp_path / "hall.nc"
    runner = CliRunner()
    result = runner.invoke(main, ["compute", "--model", "qwz", "--mu", "0", "--T", "0", "--nk", "64",
                                  "--quantities", "anomalous_hall", "--output", str(out)])
    assert result.exit_code == 0, result.output
    hall = read_netcdf(out).anomalous_hall.sel(a="x", b="y").item()
    assert hall / E2_OVER_H == pytest.approx(-1.0, abs=1e-13)
    refused = runner.invoke(main, ["compute", "--model", "qwz", "--mu", "0", "--T", "0", "--tau", "10", "--nk", "8",
                                   "--quantities", "drude"])
    assert refused.exit_code == 2 and "T = 0 is accepted only" in refused.output


def test_the_pair_kernels_and_the_band_resolved_sums_agree_at_zero_temperature():
    # two routes to the same band sums: Block's F_mn (kernels.py) and c sum_n w(x_n) Q_n (spectral.py)
    from qgtransport.bands.geometry import band_geometry
    from qgtransport.compute import Request, engine_block_sums, thermal_block_sums
    from qgtransport.responses.kernels import Settings

    model = builtin_model("haldane", M=0.2)
    k = np.random.default_rng(3).uniform(size=(200, 2))
    geo = band_geometry(model, model.to_cartesian(k), order=1)
    names = ("anomalous_hall", "entropy_hall", "anomalous_nernst", "equilibrium_entropy_current")
    request = Request(names, np.array([-0.9, 1.3, 0.0]), np.zeros(3), np.zeros(1), Settings())
    pairs, bands = thermal_block_sums(geo, request), engine_block_sums(geo, request)
    for name in names:
        assert np.all(np.isfinite(pairs[name]))
        assert np.allclose(pairs[name], bands[name], rtol=1e-12, atol=1e-14), name
    assert np.abs(pairs["anomalous_hall"]).max() > 1.0
