"""The options of compute, typed once (qgtransport.options) and checked on entry: values that used to
pass in silence (nk = 2.5 became a grid of 2, shift = nan made every output NaN, degeneracy_tol <= 0
gave NaN Hall components) are errors that name the value; checking changes no number."""

import inspect

import numpy as np
import pytest

from qgtransport import builtin_model, compute
from qgtransport.cli.config import ExecutionTable, GridTable, PhysicsTable
from qgtransport.options import ComputeOptions

QWZ = builtin_model("qwz", m=-1.0)
COMMON = dict(mu=0.5, T=0.2, nk=8, units="natural", error_estimate=False)


@pytest.mark.parametrize("option, match", [
    (dict(nk=2.5), "nk must be an integer, got 2.5"),
    (dict(nk=True), "nk must be an integer, got True"),
    (dict(nk="8"), "nk must be an integer, got '8'"),
    (dict(nk=(8, 0)), "nk must be a positive integer, got 0"),
    (dict(nk=(8, 8, 8, 8)), "nk: expected an integer or 1 to 3 integers, got 4 entries"),
    (dict(shift=float("nan")), "shift must be finite, got nan"),
    (dict(shift=1.0), "shift must be < 1, got 1.0"),
    (dict(shift=(0.5, -0.25)), "shift must be >= 0, got -0.25"),
    (dict(degeneracy_tol=0.0), r"degeneracy_tol must be finite and > 0, got 0.0"),
    (dict(degeneracy_tol=-1e-6), r"degeneracy_tol must be finite and > 0, got -1e-06"),
    (dict(degeneracy_tol=float("inf")), "degeneracy_tol must be finite, got inf"),
    (dict(degeneracy_tol=0.5), r"degeneracy_tol must be small against the band width \(6 eV"),
    (dict(task_size=2.5), "task_size must be an integer, got 2.5"),
    (dict(max_elements=0), "max_elements must be a positive integer, got 0"),
    (dict(bin_width=-1.0, scan="binned"), r"bin_width must be finite and > 0, got -1.0"),
    (dict(progress="yes"), "progress: expected true or false, got a string"),
    (dict(error_estimate=None), r"error_estimate: expected true or false, got NoneType \(None\)"),
    (dict(refine=dict(levls=2)), "refine: .*levls"),
])
def test_bad_options_name_the_value(option, match):
    with pytest.raises(ValueError, match=match):
        compute(QWZ, ["anomalous_hall"], **{**COMMON, **option})


def test_every_problem_in_one_message():
    with pytest.raises(ValueError, match=r"nk must be an integer, got 2.5; shift must be finite, got nan"):
        compute(QWZ, ["anomalous_hall"], **{**COMMON, "nk": 2.5, "shift": float("nan")})


def test_checking_changes_no_number():
    """Integral floats and numpy integers are integers; options given explicitly at their defaults,
    and a small degeneracy_tol, give the numbers of the defaults bit for bit."""
    reference = compute(QWZ, ["anomalous_hall", "drude"], tau=10.0, **COMMON)
    same = compute(QWZ, ["anomalous_hall", "drude"], tau=10.0, **{**COMMON, "nk": np.int64(8)}, shift=0.5,
                   degeneracy_tol=1e-6, kernel="divided_difference", executor="serial")
    floats = compute(QWZ, ["anomalous_hall", "drude"], tau=10.0, **{**COMMON, "nk": 8.0}, shift=(0.5, 0.5))
    for ds in (same, floats):
        for name in reference.data_vars:
            np.testing.assert_array_equal(ds[name].values, reference[name].values)


def test_every_keyword_option_of_compute_has_a_type():
    """ComputeOptions types every keyword option of compute but the model, the quantities and the
    scans (which compute checks with the physics in view): a new option needs its type here."""
    parameters = set(inspect.signature(compute).parameters) - {"model", "quantities", "mu", "T", "omega"}
    assert parameters == set(ComputeOptions.model_fields)


def test_configuration_keys_are_compute_options_of_the_same_type():
    """[grid], [physics] and [execution] keys are compute keywords; their values pass compute's check."""
    keys = set(GridTable.model_fields) | set(PhysicsTable.model_fields) | set(ExecutionTable.model_fields)
    assert keys - {"quantities"} <= set(ComputeOptions.model_fields) | {"T", "mu", "omega"}


@pytest.mark.parametrize("scans, match", [
    (dict(mu=[0.0, float("nan")], T=0.2), "mu must be finite, got nan"),
    (dict(mu=0.0, T=[0.2, -0.1]), "T must be >= 0, got -0.1"),
    (dict(mu=0.0, T=0.2, omega=float("inf")), "omega must be finite, got inf"),
    (dict(mu="0", T=0.2), r"mu: expected a number or a list of numbers, got a string \('0'\)"),
    (dict(mu=[[0.0]], T=0.2), r"mu: expected a number or a 1D list of numbers, got shape \(1, 1\)"),
])
def test_scans_are_checked_with_the_options_types(scans, match):
    """compute checks mu, T and omega with options.Scans (the types qgt compute uses): the same words."""
    from qgtransport.options import check_scans

    with pytest.raises(ValueError, match=match):
        check_scans(**scans)
    with pytest.raises(ValueError, match=match):
        compute(QWZ, ["optical_conductivity"] if "omega" in scans else ["anomalous_hall"],
                **{**COMMON, "omega": 1.0, **scans})


def test_scans_are_float_arrays_with_the_values_given():
    from qgtransport.options import check_scans

    scans = check_scans(np.int64(1), [0, 0.5], None)
    np.testing.assert_array_equal(scans.mu, [1.0])
    np.testing.assert_array_equal(scans.T, [0.0, 0.5])
    assert scans.omega is None and scans.mu.dtype == float


@pytest.mark.parametrize("model, match", [
    (None, r"model must be a qgtransport TightBinding .*got NoneType \(None\)"),
    ("qwz", r"got a string \('qwz'\)"),
    (builtin_model("qwz", m=1e13), r"hoppings up to \|H\(R\)\| = 1e\+13 eV, above 1e\+12"),
])
def test_the_model_is_checked_first(model, match):
    with pytest.raises(ValueError, match=match):
        compute(model, ["anomalous_hall"], **COMMON)


@pytest.mark.parametrize("option, match", [
    (dict(nk=(8, 8, 8)), r"nk has 3 entries for a 2D model: give one value or 2"),
    (dict(shift=(0.5,)), r"shift has 1 entries for a 2D model"),
    (dict(checkpoint=5), r"checkpoint: expected a string, got an integer \(5\)"),
    (dict(force="yes"), "force: expected true or false"),
])
def test_entries_match_the_dimension_and_paths_are_paths(option, match):
    with pytest.raises(ValueError, match=match):
        compute(QWZ, ["anomalous_hall"], **{**COMMON, **option})


def test_scalar_options_of_the_api():
    from qgtransport.options import check_scalar

    assert check_scalar("T", np.float32(0.5), gt=0) == 0.5
    for value, match in ((0.0, "T must be finite and > 0, got 0.0"), (float("nan"), "T must be finite, got nan"),
                         ("1", r"T: expected a number, got a string \('1'\)"), (True, "T: expected a number")):
        with pytest.raises(ValueError, match=match):
            check_scalar("T", value, gt=0)
