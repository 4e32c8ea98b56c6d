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
