"""The module paths of qgtransport 0.1 keep working: each old name is the module at its new path
(the same object, so a monkeypatch through either name patches the code that runs), with a
DeprecationWarning that names the new path."""

import importlib
import sys

import pytest

from qgtransport._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_is_the_new_module_with_a_warning(old):
    new = importlib.import_module(MOVED[old])
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=MOVED[old].replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is new
    assert module.__spec__.name == MOVED[old]  # the new module keeps its own spec


def test_from_import_of_an_old_path_and_a_monkeypatch_through_it(monkeypatch):
    from qgtransport.bands import geometry

    sys.modules.pop("qgtransport.geometry", None)
    with pytest.warns(DeprecationWarning):
        from qgtransport.geometry import band_geometry
    assert band_geometry is geometry.band_geometry
    old = sys.modules["qgtransport.geometry"]
    monkeypatch.setattr(old, "DEGENERACY_TOL", 0.5)
    assert geometry.DEGENERACY_TOL == 0.5


def test_packages_keep_the_names_of_the_old_modules():
    from qgtransport.engine import integrate_request
    from qgtransport.engine.plan import integrate_request as planned
    from qgtransport.exact import line_system, solve_dc  # noqa: F401
    from qgtransport.report import ReportOptions, write_report  # noqa: F401

    assert integrate_request is planned
