"""The convergence status of a value from its grid-error estimate (qgtransport.convergence): the
thresholds, the floor at a hundredth of the quantity's scale, the grid suggestion, and the hook that
counts symmetry-forbidden components as grid error."""

import numpy as np
import pytest
import xarray as xr

from qgtransport import builtin_model, compute
from qgtransport import convergence as conv


def test_thresholds_as_documented():
    assert conv.status(0.9e-3) == "converged"
    assert conv.status(1e-3) == "fair" and conv.status(2.9e-2) == "fair"
    assert conv.status(3e-2) == "not converged" and conv.status(np.inf) == "not converged"
    assert conv.status(None) == "no estimate" and conv.status(float("nan")) == "no estimate"


def test_relative_error_has_a_floor_at_a_hundredth_of_the_scale():
    # a value that crosses zero is judged against 1% of the quantity's largest magnitude
    assert conv.relative_error(0.0, 0.5, 1000.0) == pytest.approx(0.05)
    assert conv.relative_error(500.0, 0.5, 1000.0) == pytest.approx(1e-3)
    assert conv.relative_error(0.0, 0.0, 0.0) == 0.0
    assert conv.relative_error(0.0, 1.0, 0.0) == np.inf


def test_suggested_grid_assumes_error_falling_as_nk_squared():
    # relative error 1 at nk = 32: (1 / 0.01)^(1/2) = 10 times finer, rounded up to a multiple of 8
    assert conv.suggest_nk((32, 32, 32), 1.0) == (320, 320, 320)
    assert conv.suggest_nk((16, 24), 1e-4) == (16, 24)  # already converged: no change
    line = conv.convergence_warning({"not converged": 2, "converged": 3}, 5, "32x32x32", 1.0)
    assert line.startswith("WARNING: 2 of 5 rows NOT converged") and "--nk 128 and check again" in line
    assert conv.convergence_warning({"converged": 3}, 3, "8x8", None) is None
    assert "only fair" in conv.convergence_warning({"fair": 1}, 1, "8x8", None)


def test_a_coarse_metal_is_flagged_and_a_gapped_hall_plateau_converged():
    """QWZ, mu in the gap: the Hall conductivity is -e^2/h to exponential accuracy on a 48^2 grid;
    mu in the band at low T on a 8^2 grid: the Drude conductivity is not converged."""
    model = builtin_model("qwz", m=-1.0)
    gap = compute(model, ["anomalous_hall"], mu=0.0, T=300.0, nk=48)
    assert conv.variable_status(gap, "anomalous_hall")[0] == "converged"
    metal = compute(model, ["drude"], mu=1.5, T=100.0, tau=10.0, nk=8)
    status, worst = conv.variable_status(metal, "drude")
    assert status == "not converged" and worst > conv.FAIR
    name, relative = conv.worst_relative(metal)
    assert name == "drude" and relative == worst


def test_symmetry_residuals_count_as_grid_error():
    """The hook for the symmetry package: a forbidden component's value becomes its error."""
    values = xr.DataArray(np.array([[1.0, 1e-3], [1e-3, 1.0]]), dims=("a", "b"), coords={"a": ["x", "y"],
                                                                                          "b": ["x", "y"]})
    ds = xr.Dataset({"drude": values.assign_attrs(units="S"),
                     "drude_error": (values * 0 + 1e-6).assign_attrs(units="S")})
    residual = np.array([[0.0, 1e-3], [1e-3, 0.0]])  # xy and yx are forbidden by C4
    out = conv.add_symmetry_residuals(ds, {"drude": residual})
    np.testing.assert_allclose(out.drude_error.values, [[1e-6, 1e-3], [1e-3, 1e-6]])
    assert ds.drude_error.values.max() == 1e-6  # the input is left alone
    assert "symmetry" in out.drude_error.attrs
    fresh = conv.add_symmetry_residuals(ds.drop_vars("drude_error"), {"drude": residual})
    assert fresh.drude.attrs["ancillary_variables"] == "drude_error"
    with pytest.raises(ValueError, match="no variable 'hall'"):
        conv.add_symmetry_residuals(ds, {"hall": residual})
    with pytest.raises(ValueError, match="shape"):
        conv.add_symmetry_residuals(ds, {"drude": np.zeros(3)})
