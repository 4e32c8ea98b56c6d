"""Atomic outputs (qgtransport.files): a failed, killed or out-of-space write leaves the previous file
as it was and no temporary file; a full disk is reported with the file's name."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import xarray as xr

from qgtransport import files
from qgtransport.files import OutputError, atomic_open, write_bytes, write_text, write_with
from qgtransport.results import open_dataset, write_json, write_netcdf


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def small_dataset(value=1.0):
    return xr.Dataset({"drude": (("mu",), np.full(3, value)), "hall": (("mu",), np.full(3, value * (1 + 2j)))},
                      coords={"mu": [0.0, 0.1, 0.2]}, attrs={"model": "test"})


def test_a_write_replaces_the_file_whole_with_the_usual_permissions(tmp_path):
    target = tmp_path / "out.json"
    write_text(target, "old")
    write_text(target, "new")
    assert target.read_text() == "new" and leftovers(tmp_path) == []
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_a_failing_writer_leaves_the_previous_file(tmp_path):
    target = tmp_path / "out.nc"
    write_bytes(target, b"previous result")

    def half_then_fail(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("the writer broke")

    with pytest.raises(RuntimeError, match="the writer broke"):
        write_with(target, half_then_fail)
    assert target.read_bytes() == b"previous result" and leftovers(tmp_path) == []


def test_no_space_left_names_the_file_and_keeps_the_previous_one(tmp_path):
    target = tmp_path / "out.json"
    write_text(target, "previous")

    def full_disk(tmp):
        tmp.write_bytes(b"x" * 100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(OutputError, match="cannot write .*out.json: no space left on device") as caught:
        write_with(target, full_disk)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_text() == "previous" and leftovers(tmp_path) == []


def test_a_write_that_fails_in_the_middle_of_the_file_reports_no_space(tmp_path, monkeypatch):
    """os.write failing with ENOSPC after the first block, as a disk filling up during the write."""
    target = tmp_path / "summary.json"
    write_text(target, "previous")
    real_write = os.write
    calls = []

    def filling_up(fd, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data[:4096])

    def writer(tmp):
        fd = os.open(tmp, os.O_WRONLY)
        try:
            for _ in range(4):
                os.write(fd, b"y" * 4096)
        finally:
            os.close(fd)

    monkeypatch.setattr(os, "write", filling_up)
    with pytest.raises(OutputError, match="summary.json: no space left on device"):
        write_with(target, writer)
    monkeypatch.undo()
    assert target.read_text() == "previous" and leftovers(tmp_path) == []


def test_a_library_error_on_a_full_file_system_is_reported_as_no_space(tmp_path, monkeypatch):
    """The netCDF library says "HDF error", not ENOSPC: the free space tells what happened."""
    target = tmp_path / "run.nc"

    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(files.os, "statvfs", lambda folder: Full())

    def hdf_error(tmp):
        raise RuntimeError("NetCDF: HDF error")

    with pytest.raises(OutputError, match=r"run.nc: no space left on device; the writer said .*HDF error"):
        write_with(target, hdf_error)
    assert not target.exists() and leftovers(tmp_path) == []


class FillingUp:
    """A file whose writes stop with ENOSPC after 100 bytes."""

    def __init__(self, handle):
        self.handle = handle

    def write(self, data):
        self.handle.write(data[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def filling_up_open(path, mode, encoding=None):
    return FillingUp(open(path, mode, encoding=encoding))


def test_netcdf_and_json_outputs_survive_a_full_disk(tmp_path, monkeypatch):
    nc, js = tmp_path / "out.nc", tmp_path / "out.json"
    write_netcdf(small_dataset(1.0), nc)
    write_json(small_dataset(1.0), js)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", no_space)
    with pytest.raises(OutputError, match="out.nc: no space left"):
        write_netcdf(small_dataset(2.0), nc)
    monkeypatch.setattr(files, "open", filling_up_open, raising=False)
    with pytest.raises(OutputError, match="out.json: no space left"):
        write_json(small_dataset(2.0), js)
    monkeypatch.undo()
    assert np.array_equal(open_dataset(nc)["hall"].values, np.full(3, 1 + 2j))
    assert json.loads(js.read_text())["variables"]["drude"]["values"] == [1.0, 1.0, 1.0]
    assert leftovers(tmp_path) == []


def test_qgt_reports_a_full_disk_with_exit_code_2(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qgtransport.cli import main

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", no_space)
    result = CliRunner().invoke(main, ["compute", "--model", "qwz", "--mu", "0.3", "--T", "300", "--nk", "8",
                                       "--quantities", "anomalous_hall", "--output", str(tmp_path / "q.nc")])
    assert result.exit_code == 2, result.output
    assert "q.nc: no space left on device" in result.output
    assert leftovers(tmp_path) == [] and not (tmp_path / "q.nc").exists()


KILLED_WRITER = textwrap.dedent("""
    import sys
    import time
    import xarray as xr
    from qgtransport.results import write_netcdf

    to_netcdf = xr.Dataset.to_netcdf

    def slow_to_netcdf(self, path, *args, **kwargs):  # the file is written, then the run is killed
        to_netcdf(self, path, *args, **kwargs)
        open(sys.argv[2], "w").close()
        time.sleep(60)

    xr.Dataset.to_netcdf = slow_to_netcdf
    ds = xr.Dataset({"drude": (("mu",), [2.0] * 200000)})
    write_netcdf(ds, sys.argv[1])
""")


def test_a_run_killed_while_writing_leaves_the_previous_result(tmp_path):
    target, ready = tmp_path / "out.nc", tmp_path / "ready"
    write_netcdf(small_dataset(1.0), target)
    before = target.read_bytes()
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    process = subprocess.Popen([sys.executable, str(script), str(target), str(ready)])
    deadline = time.monotonic() + 60
    try:
        while not ready.exists():
            assert process.poll() is None, "the writer ended before it could be killed"
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.02)
        assert leftovers(tmp_path), "the new file is written under a temporary name"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert target.read_bytes() == before
    assert np.array_equal(open_dataset(target)["drude"].values, np.ones(3))
    # the temporary file of the killed process is removed by the next write of the same file
    write_netcdf(small_dataset(3.0), target)
    assert leftovers(tmp_path) == [] and open_dataset(target)["drude"].values[0] == 3.0


def test_a_killed_byte_writer_leaves_the_previous_file(tmp_path):
    """Killed in the middle of a large write (not after it): the target keeps the old bytes."""
    target = tmp_path / "big.bin"
    write_bytes(target, b"previous")
    script = tmp_path / "bytes.py"
    script.write_text(textwrap.dedent("""
        import importlib.util, sys, time
        spec = importlib.util.spec_from_file_location("files", sys.argv[2])  # the module alone: a fast start
        files = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(files)
        with files.atomic_open(sys.argv[1], "wb") as handle:
            while True:
                handle.write(b"z" * (1 << 16))
                handle.flush()
                time.sleep(0.001)
    """))
    process = subprocess.Popen([sys.executable, str(script), str(target), files.__file__])
    deadline = time.monotonic() + 60
    try:
        while not any((tmp_path / name).stat().st_size > 1 << 18 for name in leftovers(tmp_path)):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert target.read_bytes() == b"previous"


def test_atomic_open_writes_only_whole_files(tmp_path):
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"):
        with atomic_open(tmp_path / "x", "a"):
            pass
    with atomic_open(tmp_path / "x.txt") as handle:
        handle.write("é")
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "é"


def test_a_link_is_kept_and_a_pipe_written_in_place(tmp_path):
    real = tmp_path / "results" / "run.json"
    real.parent.mkdir()
    write_text(real, "old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_text(fifo, "through the pipe")
    assert reader.communicate(timeout=30)[0] == b"through the pipe"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (where this process may mount one: root in a container), else skip."""
    folder = tmp_path / "disk"
    folder.mkdir()
    root = getattr(os, "geteuid", lambda: -1)() == 0 and shutil.which("mount") is not None
    if not root or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                                  capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the mocked ENOSPC tests stand in")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_real_full_disk_keeps_every_previous_file(small_disk):
    """netCDF says "HDF error", Python says ENOSPC: both become the same message; nothing is lost."""
    from qgtransport.engine.checkpoint import ChunkStore

    nc, js = small_disk / "out.nc", small_disk / "out.json"
    write_netcdf(small_dataset(1.0), nc)
    write_json(small_dataset(1.0), js)
    big = xr.Dataset({"drude": (("mu",), np.arange(300000.0))})  # 2.4 MB: does not fit
    with pytest.raises(OutputError, match="out.nc: no space left on device; the writer said .*HDF error"):
        write_netcdf(big, nc)
    with pytest.raises(OutputError, match="out.json: no space left on device$"):
        write_json(big, js)
    with ChunkStore(small_disk / "checkpoint", "run", tasks=1) as store:
        with pytest.raises(OutputError, match="chunk-000000.npz: no space left on device"):
            store.save(0, {"hall": np.random.default_rng(0).normal(size=300000)})
        assert store.finished() == set()
    assert np.array_equal(open_dataset(nc)["drude"].values, np.ones(3))
    assert json.loads(js.read_text())["variables"]["drude"]["values"] == [1.0, 1.0, 1.0]
    assert leftovers(small_disk) == [] and leftovers(small_disk / "checkpoint") == []
