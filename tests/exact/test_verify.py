"""Every closed form against the exact steady state (qgt verify), including second order and Pi(3)."""

import numpy as np
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
                                       "--nk", "24", "--units", "natural"])
    assert result.exit_code == 0, result.output
    assert "second_order_current" in result.output and "DISAGREES" not in result.output
    bad = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "0", "--T", "0", "--tau", "10"])
    assert bad.exit_code == 2


def test_qgt_verify_takes_si_units_by_default():
    """--T 2320.9 K and --tau 6.5821 fs are k_B T = 0.2 eV and tau = 10 hbar/eV: the same table as
    --units natural --T 0.2 --tau 10; a temperature below 1 K in SI units gets a warning."""
    natural = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "1.5", "--T", "0.2", "--tau", "10",
                                        "--nk", "12", "--units", "natural"])
    si = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "1.5", "--T", "2320.9", "--tau", "6.5821",
                                   "--nk", "12"])
    assert si.exit_code == 0 and natural.exit_code == 0, si.output + natural.output
    assert "(T = 2320.9 K, tau = 6.5821 fs)" in si.output and "k_B T = 0.2" in si.output
    import re

    def numbers(output):  # the closed-form and exact columns (the differences are rounding-level numbers)
        rows = [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()[4:] if line.strip()]
        return [float(x) for row in rows for x in row[2:4]]

    assert len(numbers(si.output)) > 10
    np.testing.assert_allclose(numbers(si.output), numbers(natural.output), rtol=2e-3, atol=1e-7)  # fit noise ~1e-8
    cold = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "0", "--T", "0.2",
                                    "--tau", "10", "--nk", "6"])
    assert "warning: --T 0.2 is in K" in cold.output  # on stderr


def test_qgt_verify_intrinsic_command():
    result = CliRunner().invoke(main, ["verify", "--model", "pt_symmetric", "--mu", "1.2", "--T", "0.2",
                                       "--intrinsic", "--nk", "48", "--units", "natural"])
    assert result.exit_code == 0, result.output
    assert "tau^0 terms" in result.output and "Gao-Yang-Niu" in result.output and "Kaplan-Holder-Yan" in result.output
    assert "DISAGREES" not in result.output
    missing = CliRunner().invoke(main, ["verify", "--model", "qwz", "--mu", "0", "--T", "0.2"])
    assert missing.exit_code == 2 and "--tau is required" in missing.output
