"""Checkpoints: a run killed after some chunks resumes from them and gives the same result as an
uninterrupted run; another run cannot reuse them."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from qgtransport import builtin_model, compute
from qgtransport.engine.checkpoint import CheckpointWarning, ChunkStore, fingerprint

SCRIPT = textwrap.dedent("""
    import sys
    import time
    import numpy as np
    from qgtransport import builtin_model, compute
    from qgtransport.engine.checkpoint import ChunkStore

    save = ChunkStore.save

    def slow_save(self, index, result):  # a slow run: 50 ms per task, so it can be killed midway
        save(self, index, result)
        time.sleep(0.05)

    if __name__ == "__main__":
        ChunkStore.save = slow_save
        model = builtin_model("haldane", M=0.2)
        compute(model, ["anomalous_hall", "entropy_hall", "drude"], mu=np.linspace(-1, 1, 5), T=[0.1, 0.3],
                tau=4.0, nk=120, units="natural", task_size=240, error_estimate=False, checkpoint=sys.argv[1])
""")
ARGS = dict(mu=np.linspace(-1, 1, 5), T=[0.1, 0.3], tau=4.0, nk=120, units="natural", task_size=240,
            error_estimate=False)
QUANTITIES = ["anomalous_hall", "entropy_hall", "drude"]


def test_killed_run_resumes_to_the_same_result(tmp_path):
    directory = tmp_path / "run"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    process = subprocess.Popen([sys.executable, str(script), str(directory)])
    chunks = directory / "nk-120x120"
    deadline = time.monotonic() + 60
    try:
        while len(list(chunks.glob("chunk-*.npz"))) < 4:
            assert process.poll() is None, "the run finished before it could be killed"
            assert time.monotonic() < deadline, "no chunks written"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    written = {path.name: path.stat().st_mtime_ns for path in chunks.glob("chunk-*.npz")}
    assert 4 <= len(written) < 60
    model = builtin_model("haldane", M=0.2)
    resumed = compute(model, QUANTITIES, checkpoint=directory, **ARGS)
    # the chunks of the killed run were read, not recomputed
    for name, mtime in written.items():
        assert (chunks / name).stat().st_mtime_ns == mtime
    assert len(list(chunks.glob("chunk-*.npz"))) == 60
    reference = compute(model, QUANTITIES, **ARGS)
    for name in reference.data_vars:
        assert np.array_equal(resumed[name].values, reference[name].values), name
    # a completed checkpoint reproduces the result without computing
    again = compute(model, QUANTITIES, checkpoint=directory, **ARGS)
    for name in reference.data_vars:
        assert np.array_equal(again[name].values, reference[name].values), name


def test_a_different_run_cannot_reuse_the_checkpoint(tmp_path):
    model = builtin_model("haldane", M=0.2)
    args = dict(ARGS, nk=24, task_size=48)
    compute(model, QUANTITIES, checkpoint=tmp_path, **args)
    with pytest.raises(ValueError, match="holds chunks of a different run"):
        compute(model, QUANTITIES, checkpoint=tmp_path, **dict(args, T=[0.1, 0.31]))
    with pytest.raises(ValueError, match="holds chunks of a different run"):
        compute(builtin_model("haldane", M=0.21), QUANTITIES, checkpoint=tmp_path, **args)


def test_unreadable_chunk_is_recomputed(tmp_path):
    model = builtin_model("qwz")
    args = dict(mu=0.3, T=0.2, nk=16, units="natural", task_size=32, error_estimate=False)
    reference = compute(model, ["anomalous_hall"], checkpoint=tmp_path, **args)
    (tmp_path / "nk-16x16" / "chunk-000003.npz").write_bytes(b"truncated")
    with pytest.warns(CheckpointWarning, match="chunk-000003.npz"):
        again = compute(model, ["anomalous_hall"], checkpoint=tmp_path, **args)
    assert np.array_equal(again["anomalous_hall"].values, reference["anomalous_hall"].values)


def test_fingerprint_sees_array_contents_and_types():
    a = np.arange(4.0)
    assert fingerprint(a) == fingerprint(a.copy())
    assert fingerprint(a) != fingerprint(a + 1e-15 * (a == 3))
    assert fingerprint(1) != fingerprint(1.0)
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})


def test_store_round_trip(tmp_path):
    store = ChunkStore(tmp_path, "abc", tasks=3)
    store.save(1, {"q": np.arange(6.0).reshape(2, 3), "c": np.array([1 + 2j])})
    assert store.finished() == {1}
    loaded = store.load(1)
    assert np.array_equal(loaded["q"], np.arange(6.0).reshape(2, 3)) and loaded["c"][0] == 1 + 2j
    assert store.load(2) is None
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_refined_binned_run_resumes_from_its_checkpoint(tmp_path):
    from qgtransport.engine.refine import Refinement

    model = builtin_model("qwz", m=-1.9)
    args = dict(mu=[0.0, 0.2], T=0.02, nk=24, units="natural", task_size=64, scan="binned",
                refine=Refinement(levels=2, subdivision=3, fraction=0.05))
    first = compute(model, ["anomalous_hall", "anomalous_nernst"], checkpoint=tmp_path, **args)
    folders = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert folders == ["nk-12x12", "nk-12x12-indicator", "nk-24x24"]
    again = compute(model, ["anomalous_hall", "anomalous_nernst"], checkpoint=tmp_path, **args)
    for name in first.data_vars:
        assert np.array_equal(first[name].values, again[name].values), name


# ---------------------------------------------------------------- chunks that do not match are recomputed

SMALL = dict(mu=0.3, T=0.2, nk=16, units="natural", task_size=32, error_estimate=False)


def small_run(tmp_path, **changes):
    return compute(builtin_model("qwz"), ["anomalous_hall", "drude"], tau=2.0, checkpoint=tmp_path,
                   **dict(SMALL, **changes))


def assert_same(first, second):
    for name in first.data_vars:
        assert np.array_equal(first[name].values, second[name].values), name


def rewrite_chunk(path, change_arrays=None, change_record=None):
    """Rewrite a chunk file with its arrays and/or its record changed (a valid zip: only the checks
    of the store can tell)."""
    import json

    with np.load(path) as data:
        members = {name: data[name] for name in data.files}
    record = json.loads(str(members.pop("__record__")[()]))
    arrays = {name[2:]: value for name, value in members.items()}
    if change_arrays:
        arrays = change_arrays(arrays)
    if change_record:
        record = change_record(record)
    np.savez(path, __record__=np.array(json.dumps(record)), **{f"q_{k}": v for k, v in arrays.items()})


@pytest.mark.parametrize("damage, reason", [
    ("truncate", "unreadable"),
    ("flip", "checksum mismatch"),
    ("reshape", "its arrays do not match its record"),
    ("other-task", "holds the result of task 2, not of task 5"),
])
def test_a_damaged_or_misplaced_chunk_is_recomputed_with_a_warning(tmp_path, damage, reason):
    reference = small_run(tmp_path)
    folder = tmp_path / "nk-16x16"
    chunk = folder / "chunk-000005.npz"
    if damage == "truncate":
        chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    elif damage == "flip":  # a changed value under an intact zip: only the sha256 sees it
        rewrite_chunk(chunk, lambda arrays: {k: v * (1 + 1e-12) for k, v in arrays.items()})
    elif damage == "reshape":
        rewrite_chunk(chunk, lambda arrays: {k: np.concatenate([v.ravel(), [0.0]]) for k, v in arrays.items()})
    else:  # the result of task 2 copied over task 5 (a sum 15 % off in the audit)
        chunk.write_bytes((folder / "chunk-000002.npz").read_bytes())
    with pytest.warns(CheckpointWarning, match=f"chunk-000005.npz \\({reason}"):
        again = small_run(tmp_path)
    assert_same(again, reference)
    assert ChunkStore(folder, json_manifest(folder)["fingerprint"], 8).finished() == set(range(8))


def json_manifest(folder):
    import json

    return json.loads((folder / "manifest.json").read_text())


def test_without_its_manifest_a_folder_never_lends_its_chunks_to_another_run(tmp_path):
    """The audit's case: manifest.json deleted, a run at another T reused the chunks and labelled them."""
    small_run(tmp_path)
    (tmp_path / "nk-16x16" / "manifest.json").unlink()
    with pytest.warns(CheckpointWarning, match="8 chunk file.*written by another run"):
        other = small_run(tmp_path, T=0.21)
    assert_same(other, compute(builtin_model("qwz"), ["anomalous_hall", "drude"], tau=2.0, **dict(SMALL, T=0.21)))
    # the same run without its manifest adopts its own chunks (verified), silently
    (tmp_path / "nk-16x16" / "manifest.json").unlink()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", CheckpointWarning)
        small_run(tmp_path, T=0.21)


def test_a_chunk_of_an_older_format_is_not_trusted(tmp_path):
    reference = small_run(tmp_path)
    chunk = tmp_path / "nk-16x16" / "chunk-000000.npz"
    with np.load(chunk) as data:
        arrays = {name: data[name] for name in data.files if name.startswith("q_")}
    np.savez(chunk, **arrays)  # as version 0.1 wrote it: no record
    with pytest.warns(CheckpointWarning, match="chunk-000000.npz \\(no record of its run"):
        assert_same(small_run(tmp_path), reference)


LOCK_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.write(fd, str(os.getpid()).encode())
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_run_on_a_locked_folder_stops_naming_the_folder_and_the_holder(tmp_path):
    from qgtransport.engine.checkpoint import CheckpointLocked

    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(tmp_path / "lock")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(CheckpointLocked, match=f"{tmp_path} is in use by another run \\(pid {holder.pid}\\)"):
            small_run(tmp_path)
        assert not (tmp_path / "nk-16x16").exists()  # nothing was touched
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    # the kernel released the killed holder's lock: the stale lock file does not block
    reference = compute(builtin_model("qwz"), ["anomalous_hall", "drude"], tau=2.0, **SMALL)
    assert_same(small_run(tmp_path), reference)
    assert (tmp_path / "lock").read_text().strip() == str(os.getpid())


def test_two_stores_on_one_folder_in_one_process_exclude_each_other(tmp_path):
    from qgtransport.engine.checkpoint import CheckpointLocked

    with ChunkStore(tmp_path, "abc", tasks=2):
        with pytest.raises(CheckpointLocked, match=f"pid {os.getpid()}"):
            ChunkStore(tmp_path, "abc", tasks=2)
    with ChunkStore(tmp_path, "abc", tasks=2) as store:  # released on close
        assert store.finished() == set()


def test_a_chunk_whose_shapes_differ_from_the_runs_other_chunks_is_not_used(tmp_path):
    with ChunkStore(tmp_path, "run", tasks=2) as store:
        store.save(0, {"hall": np.zeros((2, 3)), "cells": np.ones(1)})
        store.save(1, {"hall": np.zeros((2, 4))})  # intact, this run's, this task's, but not this run's shape
    with ChunkStore(tmp_path, "run", tasks=2) as store:
        assert store.verify(0)[1] is None
        assert store.verify(1) == (None, "its arrays have other shapes than this run's")
    with ChunkStore(tmp_path, "run", tasks=2) as store:
        assert store.verify(1)[1] is None  # alone it is fine: the check compares chunks of one run
