"""Worker processes end with their parent, however it ends: SIGKILL of the parent (as the OOM killer
or a batch scheduler do) takes the workers and the resource tracker with it; SIGTERM stops qgt like
Ctrl-C: the workers ended at once, the checkpoint kept, exit code 143 and one line."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")

SRC = str(Path(__file__).parents[2] / "src")


def environment():
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def stat_fields(pid: int):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, ...


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (workers, resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def running(pid: int) -> bool:
    """pid exists and is not a zombie (an orphan may stay a zombie where PID 1 does not reap)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def wait_until(condition, timeout: float, what: str, process=None):
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended (code {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def gone_within(pids, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if running(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if running(pid)]


def end_all(pids):
    for pid in pids:  # only the processes this test started, by their id
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


SLEEPING_WORKERS = textwrap.dedent("""
    import functools, os, sys, time
    from qgtransport.engine.executors import Executor

    def task(folder, index):
        open(os.path.join(folder, f"worker-{os.getpid()}"), "w").close()
        time.sleep(120)
        return {}

    def chunk(folder, k_reduced):  # the first k-point returns at once, the others keep a worker busy
        if k_reduced[0, 0] > 0.2:
            task(folder, 0)
        return {"n": k_reduced[:, 0] * 0}

    if __name__ == "__main__":
        folder, method = sys.argv[1], sys.argv[2]
        if method == "sigterm-in-consumer":  # SIGTERM while the parent saves a chunk, not while it waits
            from qgtransport.cli.commands import Terminated, sigterm_as_interrupt
            from qgtransport.engine.checkpoint import ChunkStore
            from qgtransport.engine.integrate import integrate

            def slow_save(self, index, result):
                open(os.path.join(folder, "saving"), "w").close()
                time.sleep(120)

            ChunkStore.save = slow_save
            try:
                with sigterm_as_interrupt(), Executor("processes", workers=2, start_method="fork") as runner:
                    integrate(functools.partial(chunk, folder), (4,), 0.5, 1, executor=runner, task_size=1,
                              checkpoint=os.path.join(folder, "checkpoint"))
            except Terminated:
                sys.exit(143)
        elif method == "sigterm":
            from qgtransport.cli.commands import Terminated, sigterm_as_interrupt
            try:
                with sigterm_as_interrupt(), Executor("processes", workers=2, start_method="fork") as runner:
                    list(runner.imap(functools.partial(task, folder), range(4), lambda n: True))
            except Terminated:
                sys.exit(143)
        else:
            with Executor("processes", workers=2, start_method=method) as runner:
                list(runner.imap(functools.partial(task, folder), range(4), lambda n: True))
""")


def start_workers(tmp_path, mode):
    script = tmp_path / "workers.py"
    script.write_text(SLEEPING_WORKERS)
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path), mode], env=environment())
    wait_until(lambda: len(list(tmp_path.glob("worker-*"))) == 2, 90, "two busy workers", process)
    workers = [int(p.name.split("-")[1]) for p in tmp_path.glob("worker-*")]
    return process, workers


def test_sigkill_of_the_parent_ends_its_workers_and_the_resource_tracker(tmp_path):
    """"spawn" workers (the default of executor="processes") and the resource tracker that the spawn
    context starts; each worker sleeps in its task, as in a long chunk."""
    process, workers = start_workers(tmp_path, "spawn")
    family = children(process.pid)
    assert set(workers) <= set(family) and len(family) == 3  # two workers and the resource tracker
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = gone_within(family, 20)
    end_all(left)
    assert not left, f"processes left alive after the parent's SIGKILL: {left}"


@pytest.mark.parametrize("mode", ["sigterm", "sigterm-in-consumer"])
def test_sigterm_ends_the_workers_at_once_not_after_their_tasks(tmp_path, mode):
    process, workers = start_workers(tmp_path, mode)
    if mode == "sigterm-in-consumer":
        wait_until((tmp_path / "saving").exists, 60, "the parent saving a chunk", process)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=60) == 143
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        left = gone_within(workers, 20)
        end_all(left)
    assert not left, f"workers left alive after SIGTERM: {left}"
    assert time.monotonic() - started < 60  # the tasks sleep 120 s


QGT_RUN = textwrap.dedent("""
    import sys, time
    import qgtransport.engine.integrate as integrate
    from qgtransport.engine.checkpoint import ChunkStore
    from qgtransport.cli import main

    save = ChunkStore.save

    def slow_save(self, index, result):  # a slow run: 0.1 s per task, so it can be stopped midway
        save(self, index, result)
        time.sleep(0.1)

    ChunkStore.save = slow_save
    integrate.default_task_size = lambda total, chunk: 64  # 64 tasks on the 64x64 grid
    folder = sys.argv[1]
    main(["compute", "--model", "qwz", "--mu", "0.3", "--T", "300", "--nk", "64", "--quantities", "anomalous_hall",
          "--executor", "serial", "--checkpoint", folder, "--output", folder + "/out.nc", "--quiet"])
""")


def test_sigterm_stops_qgt_with_exit_143_and_keeps_the_checkpoint(tmp_path):
    from qgtransport.engine.checkpoint import ChunkStore

    script = tmp_path / "qgt_run.py"
    script.write_text(QGT_RUN)
    checkpoint = tmp_path / "checkpoint"
    process = subprocess.Popen([sys.executable, str(script), str(checkpoint)], env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    chunks = checkpoint / "nk-64x64"
    try:
        wait_until(lambda: len(list(chunks.glob("chunk-*.npz"))) >= 3, 90, "three chunks", process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qgt: stopped by SIGTERM"), err
    assert not (tmp_path / "checkpoint" / "out.nc").exists()
    kept = {int(p.stem.split("-")[1]) for p in chunks.glob("chunk-*.npz")}
    manifest = json.loads((chunks / "manifest.json").read_text())
    with ChunkStore(chunks, manifest["fingerprint"], manifest["tasks"]) as store:
        assert 3 <= len(kept) < 64 and store.finished() == kept  # every kept chunk verifies
    assert not list(chunks.glob(".*.tmp"))
