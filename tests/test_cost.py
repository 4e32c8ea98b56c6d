"""The cost estimate and the limits checked before any work (qgtransport.cost): the counts are exact,
the estimate scales as its formula says, runs above the limits are refused before the engine is
called, and force lets them through except above the hard limits."""

import importlib
import shlex

import numpy as np
import pytest
from click.testing import CliRunner

from qgtransport import builtin_model, compute
from qgtransport.cli import main
from qgtransport.cost import (
    MAX_KPOINTS,
    MAX_SCAN_POINTS,
    CostError,
    Estimate,
    available_memory,
    check,
    check_scan_points,
    estimate,
    kpoint_count,
)

compute_module = importlib.import_module("qgtransport.compute")  # the module (the package exports the function)
QWZ = builtin_model("qwz", m=-1.0)
WEYL = builtin_model("weyl")
HOUR = 3600.0


class Reached(Exception):
    """Raised by the stand-in of the engine: the run got past the checks."""


@pytest.fixture
def engine_reached(monkeypatch):
    def reached(*args, **kwargs):
        raise Reached("the engine was called")
    monkeypatch.setattr(compute_module, "integrate_request", reached)


@pytest.mark.parametrize("nk, dim, error_estimate, expected", [
    (8, 2, True, 64 + 16), (8, 2, False, 64), ((9, 5), 2, True, 45 + 4 * 2), (1, 3, True, 1),
    (10**6, 3, True, 10**18 + (5 * 10**5) ** 3), ((4, 4, 3), 3, True, 48 + 2 * 2 * 1),
])
def test_kpoint_count_is_exact(nk, dim, error_estimate, expected):
    assert kpoint_count(nk, dim, error_estimate) == expected


def test_time_scales_as_the_grid_the_bands_and_the_scan():
    """t = N_k [a + b n^3 + c n^power P]: x 4 for twice the nk in 2D, x (P2/P1) for long scans, x 1/cores."""
    one = estimate(QWZ, 64, 1, ["anomalous_hall"], executor="serial")
    assert estimate(QWZ, 128, 1, ["anomalous_hall"], executor="serial").seconds == pytest.approx(4 * one.seconds)
    long = [estimate(QWZ, 64, p, ["anomalous_hall"], executor="serial").seconds for p in (10**5, 2 * 10**5)]
    assert long[1] / long[0] == pytest.approx(2, rel=1e-3)
    assert estimate(QWZ, 64, 1, ["anomalous_hall"], workers=4, executor="processes").seconds == \
        pytest.approx(one.seconds / 4)
    binned = estimate(QWZ, 64, 10**5, ["drude"], scan="binned", executor="serial")
    assert binned.seconds < 1e-3 * long[0]  # the binned scan does the kernels once per k-point
    # ... and the binned AC band quantities once per k-point and omega: their kernel term grows with omega
    ac = [estimate(QWZ, 64, 10**3, ["conductivity_ac"], n_omega=w, scan="binned", executor="serial").seconds
          for w in (1, 1001)]
    kernel = ac[1] - ac[0]
    assert kernel == pytest.approx(1000 * (ac[0] - estimate(QWZ, 64, 10**3, [], scan="binned",
                                                              executor="serial").seconds), rel=1e-6)


def test_memory_counts_the_results_and_the_chunks():
    small = estimate(QWZ, 8, 1, ["anomalous_hall"], executor="serial")
    large = estimate(QWZ, 8, 10**6, ["anomalous_hall"], executor="serial")
    # 10^6 more points of a rank-2 real tensor: 9 x 8 bytes x 2 (values, errors) x 4 copies each
    assert large.memory - small.memory == pytest.approx((10**6 - 1) * 9 * 8 * 2 * 4)
    more_memory = estimate(QWZ, 8, 1, ["anomalous_hall"], max_elements=2**24, executor="serial")
    assert more_memory.memory > 7 * small.memory


def test_limits_refuse_and_force_confirms():
    day = Estimate(kpoints=10**12, bands=2, points=1, cores=2, seconds=25 * HOUR, memory=1e6)
    with pytest.raises(CostError, match=r"above the limit of 24 h .*about 25 h on 2 cores.*--force"):
        check(day, memory=1e12)
    check(day, force=True, memory=1e12)
    check(Estimate(kpoints=10, bands=2, points=1, cores=1, seconds=23 * HOUR, memory=1e6), memory=1e12)
    big = Estimate(kpoints=10, bands=2, points=1, cores=1, seconds=1.0, memory=9e9)
    with pytest.raises(CostError, match=r"memory is above 80% of the 10 GB available"):
        check(big, memory=1e10)
    check(big, force=True, memory=1e10)
    check(Estimate(kpoints=10, bands=2, points=1, cores=1, seconds=1.0, memory=7.9e9), memory=1e10)


@pytest.mark.parametrize("kpoints, points, match", [
    (MAX_KPOINTS + 1, 1, "above the hard limit of 2\\*\\*50"),
    (10, MAX_SCAN_POINTS + 1, "above the hard limit of 1e\\+07"),
])
def test_hard_limits_stay_with_force(kpoints, points, match):
    with pytest.raises(CostError, match=match):
        check(Estimate(kpoints=kpoints, bands=2, points=points, cores=1, seconds=1.0, memory=1.0), force=True)


def test_scan_points_are_counted_before_the_scan_is_made():
    check_scan_points(MAX_SCAN_POINTS)
    with pytest.raises(CostError, match="'0:1:10000001' has 1e\\+07 points"):
        check_scan_points(MAX_SCAN_POINTS + 1, "'0:1:10000001'")


def test_available_memory_is_known():
    assert 0 < available_memory() < float("inf")


def test_compute_refuses_before_any_work(engine_reached):
    with pytest.raises(CostError, match=r"estimated time is above the limit of 24 h .* h on"):
        compute(QWZ, ["anomalous_hall"], mu=0.0, T=300.0, nk=10**6)
    with pytest.raises(CostError, match="above the hard limit of 2\\*\\*50"):
        compute(WEYL, ["anomalous_hall"], mu=0.0, T=300.0, nk=10**6, force=True)
    with pytest.raises(CostError, match="scan has 2.5e\\+07 points"):
        compute(QWZ, ["anomalous_hall"], mu=np.zeros(5000), T=np.linspace(1, 2, 5000), nk=8, force=True)
    with pytest.raises(Reached):
        compute(QWZ, ["anomalous_hall"], mu=0.0, T=300.0, nk=10**6, force=True)
    with pytest.raises(Reached):
        compute(QWZ, ["anomalous_hall"], mu=0.0, T=300.0, nk=8)


@pytest.mark.parametrize("argv, forced", [
    ("compute --model qwz --mu 0 --T 300 --nk 1000000 --quantities anomalous_hall --quiet", False),
    ("compute --model qwz --mu 0 --T 300 --nk 1000000 --quantities anomalous_hall --quiet --force", True),
    ("run big.toml --quiet", False), ("run big.toml --quiet --force", True), ("run forced.toml --quiet", True),
])
def test_force_on_the_command_line_and_in_the_configuration(argv, forced, engine_reached, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = "[model]\nbuiltin = 'qwz'\n[scan]\nmu = 0\nT = 300\n[grid]\nnk = 1000000\n"
    (tmp_path / "big.toml").write_text(body)
    (tmp_path / "forced.toml").write_text(body + "[execution]\nforce = true\n")
    result = CliRunner().invoke(main, shlex.split(argv))
    if forced:
        assert "the engine was called" in result.output, result.output
    else:
        assert result.exit_code == 2, result.output
        assert "estimated time is above the limit of 24 h" in result.output and "--force" in result.output


def test_a_remote_dask_cluster_holds_its_chunks():
    local = estimate(QWZ, 8, 1, ["anomalous_hall"], executor="dask", workers=64)
    remote = estimate(QWZ, 8, 1, ["anomalous_hall"], executor="dask", workers=64, scheduler="tcp://cluster:8786")
    assert remote.memory == pytest.approx(local.memory / 64, rel=1e-3)
    assert remote.seconds == local.seconds
