"""Executors: serial, local processes and Dask give the same sums (fixed reduction order), and a
worker killed mid-run changes nothing (its chunks are recomputed)."""

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from qgtransport import builtin_model, compute
from qgtransport.compute import Request, chunk_sums
from qgtransport.engine.executors import Executor
from qgtransport.engine.integrate import grid_points, integrate
from qgtransport.responses.kernels import Settings

MODEL = builtin_model("haldane", M=0.2)
COMMON = dict(mu=np.linspace(-1.0, 1.0, 5), T=[0.1, 0.3], tau=4.0, nk=24, units="natural")


def assert_same(a, b, rtol=1e-12):
    """Equal to rtol relative to each quantity's largest entry (entries that vanish by symmetry are
    rounding noise); the _error differences are not compared."""
    for name in a.data_vars:
        if name.endswith("_error"):
            continue
        scale = np.max(np.abs(a[name].values))
        assert np.allclose(a[name].values, b[name].values, rtol=rtol, atol=rtol * scale), name


class KillOnce:
    """A chunk function that kills the process running it, once, when it reaches the chunk whose
    first k-point is `trigger` (a marker file makes it happen once across processes)."""

    def __init__(self, function, trigger, marker):
        self.function, self.trigger, self.marker = function, np.asarray(trigger), str(marker)

    def __call__(self, k):
        if np.allclose(k[0], self.trigger):
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return self.function(k)


def haldane_chunks():
    settings = Settings(tau=4.0)
    mu = np.repeat([-0.5, 0.0, 0.7], 2)
    T = np.tile([0.1, 0.3], 3)
    request = Request(("anomalous_hall", "entropy_hall", "drude"), mu, T, np.zeros(1), settings)
    from functools import partial

    return partial(chunk_sums, MODEL, request=request)


def test_chunk_size_task_size_and_serial_agree():
    a = compute(MODEL, **COMMON)
    b = compute(MODEL, max_elements=700, task_size=37, **COMMON)
    assert_same(a, b)


def test_processes_agree_with_serial_to_the_last_bit():
    a = compute(MODEL, task_size=50, **COMMON)
    b = compute(MODEL, task_size=50, executor="processes", workers=2, **COMMON)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values), name


def test_auto_uses_worker_processes_for_long_runs_on_several_cores(monkeypatch):
    from qgtransport.engine import executors

    monkeypatch.setattr(executors, "auto_start_method", lambda: "fork")
    assert executors.resolve_auto(None, 10, 2) == "serial" or executors.available_cores() == 1
    assert executors.resolve_auto(1, 10**9, 18) == "serial"  # one core: no workers
    assert executors.resolve_auto(2, 10**4, 18) == "serial"  # 0.06 x AUTO_MIN_WORK: workers do not pay
    assert executors.resolve_auto(2, 10**5, 18) == "processes"
    assert executors.resolve_auto(2, 10**6, 2) == "serial" and executors.resolve_auto(2, 4 * 10**6, 2) == "processes"
    serial = compute(MODEL, task_size=50, executor="serial", **COMMON)
    assert serial.attrs["executor"] == "serial"
    monkeypatch.setattr(executors, "AUTO_MIN_WORK", 1.0)  # this small run counts as long
    monkeypatch.setattr(executors, "AUTO_MIN_SECONDS", 0.0)  # and so does its measured cost
    auto = compute(MODEL, task_size=50, workers=2, **COMMON)
    assert auto.attrs["executor"] == "processes (2 workers)"
    for name in serial.data_vars:
        assert np.array_equal(serial[name].values, auto[name].values), name
    # a script where workers cannot be forked (another thread runs, or not Linux) stays serial:
    # "spawn" would re-run a main module that may lack the __main__ guard
    monkeypatch.setattr(executors, "auto_start_method", lambda: None)
    assert executors.resolve_auto(2, 10**9, 18) == "serial"
    assert compute(MODEL, task_size=50, workers=2, **COMMON).attrs["executor"] == "serial"


def test_auto_start_method_by_situation(monkeypatch):
    import sys
    import threading
    import types

    from qgtransport.engine import executors

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert executors.auto_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 3)
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))  # a notebook: no file
    assert executors.auto_start_method() == "spawn"
    script = types.ModuleType("__main__")
    script.__file__ = "/tmp/script.py"
    monkeypatch.setitem(sys.modules, "__main__", script)
    assert executors.auto_start_method() is None


def test_options_are_validated():
    with pytest.raises(ValueError, match="executor must be one of"):
        compute(MODEL, executor="threads", **COMMON)
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        compute(MODEL, executor="processes", workers=0, **COMMON)
    with pytest.raises(ValueError, match="needs executor='dask'"):
        compute(MODEL, executor="processes", scheduler="tcp://127.0.0.1:8786", **COMMON)


def test_killed_process_worker_is_replaced_and_the_result_unchanged(tmp_path):
    function = haldane_chunks()
    shape = (32, 32)
    reference = integrate(function, shape, chunk_size=64, task_size=128)
    trigger = grid_points(shape, 0.5, 5 * 128, 5 * 128 + 1)[0]
    killer = KillOnce(function, trigger, tmp_path / "killed")
    with Executor("processes", workers=2) as runner:
        result = integrate(killer, shape, chunk_size=64, task_size=128, executor=runner)
    assert (tmp_path / "killed").exists()
    for name in reference:
        assert np.array_equal(result[name], reference[name]), name


def test_dask_local_cluster_survives_a_killed_worker(tmp_path):
    pytest.importorskip("distributed")
    function = haldane_chunks()
    shape = (32, 32)
    reference = integrate(function, shape, chunk_size=64, task_size=128)
    trigger = grid_points(shape, 0.5, 3 * 128, 3 * 128 + 1)[0]
    killer = KillOnce(function, trigger, tmp_path / "killed")
    with Executor("dask", workers=2) as runner:
        result = integrate(killer, shape, chunk_size=64, task_size=128, executor=runner)
        again = compute(MODEL, task_size=50, executor=runner, **COMMON)
    assert (tmp_path / "killed").exists()
    for name in reference:
        assert np.array_equal(result[name], reference[name]), name
    serial = compute(MODEL, task_size=50, **COMMON)
    for name in serial.data_vars:
        assert np.array_equal(serial[name].values, again[name].values), name


def test_dask_scheduler_address(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        result = compute(MODEL, executor="dask", scheduler=cluster.scheduler_address, task_size=100, **COMMON)
    assert_same(result, compute(MODEL, **COMMON))
    assert Path(tmp_path).exists()


def blas_threads() -> int:
    from threadpoolctl import threadpool_info

    return max((lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1)


def test_serial_runs_its_chunks_with_one_blas_thread_and_restores_the_setting():
    from threadpoolctl import threadpool_limits

    seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        with Executor("serial") as runner:
            results = dict(runner.imap(lambda index: seen.append(blas_threads()) or index, range(3), lambda _: True))
        after = blas_threads()
    assert results == {0: 0, 1: 1, 2: 2}
    assert seen == [1, 1, 1]
    assert after == before


def test_auto_decides_by_the_measured_cost_of_a_probe(monkeypatch):
    from qgtransport.engine import executors

    slow, fast = (lambda: time.sleep(0.01) or 10), (lambda: 10)
    # 10^5 k-points of an 18-band model: the k-point model says "processes"; the probe decides
    assert executors.resolve_auto(2, 10**5, 18, "fork") == "processes"
    assert executors.resolve_auto(2, 10**5, 18, "fork", probe=fast) == "serial"  # ~1e-7 s per k-point
    assert executors.resolve_auto(2, 10**4, 18, "fork", probe=slow) == "processes"  # 1e-3 s x 10^4 = 10 s
    assert executors.resolve_auto(1, 10**4, 18, "fork", probe=slow) == "serial"  # one core
    calls = []
    assert executors.resolve_auto(2, 10, 2, "fork", probe=lambda: calls.append(1) or 1) == "serial"
    assert calls == []  # tiny runs are not probed
    # compute probes its own chunk function: the full linear DC set on a 3D grid is judged long enough
    monkeypatch.setattr(executors, "auto_start_method", lambda: "fork")
    monkeypatch.setattr(executors, "AUTO_MIN_SECONDS", 1e-9)
    weyl = builtin_model("weyl")
    ds = compute(weyl, "anomalous_hall", mu=0.0, T=0.1, nk=40, units="natural", workers=2, error_estimate=False)
    assert ds.attrs["executor"] == "processes (2 workers)"
    monkeypatch.setattr(executors, "AUTO_MIN_SECONDS", 1e9)
    ds = compute(weyl, "anomalous_hall", mu=0.0, T=0.1, nk=40, units="natural", workers=2, error_estimate=False)
    assert ds.attrs["executor"] == "serial"
