"""Every closed form against the exact steady state (qgt verify), including second order and Pi(3)."""

import pytest
from click.testing import CliRunner

from qgtransport import builtin_model
from qgtransport.cli import main
from qgtransport.exact.verify import verify


@pytest.mark.parametrize("name,params,mu,T,tau,direction", [
    ("pt_symmetric", {}, 1.2, 0.2, 3.0, None),
    ("tilted_dirac", {"m": 0.6}, 0.9, 0.3, 5.0, (1, 1)),
])
def test_closed_forms_agree_with_the_exact_solver(name, params, mu, T, tau, direction):
    # grid 48: closed forms and exact solver converge to each other exponentially; for gaps ~0.2-0.4 at
    # T = 0.2-0.3 the second-order rows agree to ~1e-7 at nk = 48 (4e-4 for m = 0.2, nk = 48)
    rows = verify(builtin_model(name, **params), mu, T, tau, 48, direction=direction)
    assert not [r for r in rows if r["verdict"] == "DISAGREES"], [r for r in rows if r["verdict"] == "DISAGREES"]
    second = [r for r in rows if r["quantity"].startswith("charge current J(2)")]
    assert second and all(r["relative_difference"] < 1e-4 for r in second)
    printed = [r for r in rows if "as printed" in r["quantity"]]
    assert printed[0]["verdict"] == "differs, as expected"


def test_qgt_verify_command():
    result = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "1.5", "--T", "0.2", "--tau", "10",
                                       "--nk", "24"])
    assert result.exit_code == 0, result.output
    assert "second_order_current" in result.output and "DISAGREES" not in result.output
    bad = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "0", "--T", "0", "--tau", "10"])
    assert bad.exit_code == 2


def test_qgt_verify_intrinsic_command():
    result = CliRunner().invoke(main, ["verify", "--model", "pt_symmetric", "--mu", "1.2", "--T", "0.2",
                                       "--intrinsic", "--nk", "48"])
    assert result.exit_code == 0, result.output
    assert "tau^0 terms" in result.output and "Gao-Yang-Niu" in result.output and "Kaplan-Holder-Yan" in result.output
    assert "DISAGREES" not in result.output
    missing = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "0", "--T", "0.2"])
    assert missing.exit_code == 2 and "--tau is required" in missing.output
