"""Checkpoints: finished chunk results of a long run on disk, so that the same call resumes.

A checkpoint directory holds

    manifest.json          {"fingerprint": sha256 of what the run computes, "description": ..., "tasks": N}
    chunk-000017.npz       the result {name: array} of task 17 and its record (below)
    lock                   the pid of the run that uses the directory (an flock is held on it)

Every file is written atomically (`qgtransport.files`: a temporary file and a rename). The
fingerprint hashes everything that determines the chunk results (the model's arrays, the request:
quantities, (mu, T, omega) points, settings, the grid, its shift and chunking, the qgtransport
version). A directory whose manifest holds another fingerprint is refused with an error naming
both, so a different run can never reuse another's chunks.

Each chunk records its task index, the run's fingerprint, the name, dtype and shape of every array
and a sha256 checksum of their bytes. A chunk is used only if all of these match this run and this
task (and its shapes those of the run's other chunks); otherwise (a truncated or corrupt file, a
chunk of another run or of another task, as after a deleted manifest or a copied file) it is
recomputed, with a `CheckpointWarning` naming the file. Nothing unverified is ever summed.

Two runs on one directory: the first holds an exclusive `fcntl.flock` on ``lock`` as long as it
runs (the kernel releases it when the process dies, however it dies); the second stops at once with
a `CheckpointLocked` error naming the directory and the first run's pid. (No lock off POSIX.)
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import pickle
import warnings
from pathlib import Path

import numpy as np

from qgtransport.files import write_bytes

MANIFEST = "manifest.json"
LOCK = "lock"
META = "__record__"  # the npz member holding a chunk's record (JSON)
CHUNK_FORMAT = 2
SHOWN_FILES = 8  # bad chunk files named in one warning


class CheckpointWarning(UserWarning):
    """A chunk file of a checkpoint is not used (foreign, corrupt or truncated) and is recomputed."""


class CheckpointLocked(ValueError):
    """Another run uses the checkpoint directory."""


def fingerprint(*objects) -> str:
    """sha256 over a deterministic serialisation of the objects (arrays by dtype, shape and bytes)."""
    digest = hashlib.sha256()

    def feed(obj):
        if isinstance(obj, np.ndarray):
            digest.update(f"ndarray{obj.dtype.str}{obj.shape}".encode())
            digest.update(np.ascontiguousarray(obj).tobytes())
        elif isinstance(obj, dict):
            digest.update(b"dict")
            for key in sorted(obj, key=repr):
                feed(key)
                feed(obj[key])
        elif isinstance(obj, (list, tuple)):
            digest.update(f"{type(obj).__name__}{len(obj)}".encode())
            for item in obj:
                feed(item)
        elif hasattr(obj, "__dataclass_fields__"):
            digest.update(f"{type(obj).__module__}.{type(obj).__qualname__}".encode())
            for name in obj.__dataclass_fields__:
                feed(name)
                feed(getattr(obj, name))
        elif isinstance(obj, (str, int, float, complex, bool, type(None), np.generic)):
            digest.update(f"{type(obj).__name__}:{obj!r}".encode())
        elif isinstance(obj, functools.partial):
            digest.update(b"partial")
            feed(obj.func)
            feed(obj.args)
            feed(obj.keywords)
        elif callable(obj) and hasattr(obj, "__qualname__"):
            digest.update(f"callable {obj.__module__}.{obj.__qualname__}".encode())
        else:
            digest.update(pickle.dumps(obj, protocol=4))

    for obj in objects:
        feed(obj)
    return digest.hexdigest()


class DirectoryLock:
    """An exclusive lock on DIRECTORY/lock while a run uses the directory (POSIX `fcntl.flock`).

    The kernel drops the lock when the holder exits or is killed, so a stale lock file never blocks
    a later run. `acquire` raises CheckpointLocked, naming the directory and the holder's pid, when
    another run (another process, or another store in this one) holds it.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.path = self.directory / LOCK
        self._fd = None

    def acquire(self) -> DirectoryLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CheckpointLocked(
                f"checkpoint directory {self.directory} is in use by another run (pid {holder}): wait for it to "
                "finish, or give another checkpoint directory") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_UN)  # explicit: forked workers may share the descriptor
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def checksum(arrays: dict) -> str:
    """sha256 over the names, dtypes, shapes and bytes of {name: array}, names in sorted order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def shapes_of(arrays: dict) -> dict:
    """{name: [dtype, shape]} of {name: array}."""
    return {name: [np.asarray(value).dtype.str, list(np.shape(value))] for name, value in sorted(arrays.items())}


class ChunkStore:
    """Finished task results of one run in a directory (see the module docstring).

    Parameters
    ----------
    directory : path; created if missing.
    fingerprint : str identifying the run (see `fingerprint`).
    tasks : number of tasks of the run.
    description : human-readable summary kept in the manifest.

    A task's arrays (a name seen in several tasks) have one dtype and shape in every task.
    The store holds the directory's lock from its creation to `close` (a context manager).
    """

    def __init__(self, directory, fingerprint: str, tasks: int, description: str = ""):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.tasks = tasks
        self.shapes: dict | None = None  # {name: [dtype, shape]} of this run's results, once known
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock = DirectoryLock(self.directory).acquire()
        try:
            self._check_manifest(description)
        except BaseException:
            self.lock.release()
            raise

    def _check_manifest(self, description: str) -> None:
        manifest = self.directory / MANIFEST
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text())
            except (OSError, ValueError) as error:
                raise ValueError(f"checkpoint manifest {manifest} is unreadable: {error}") from error
            if not isinstance(found, dict) or found.get("fingerprint") != self.fingerprint \
                    or found.get("tasks") != self.tasks:
                found = found if isinstance(found, dict) else {}
                raise ValueError(
                    f"checkpoint directory {self.directory} holds chunks of a different run "
                    f"(fingerprint {str(found.get('fingerprint'))[:16]}..., {found.get('tasks')} tasks; this run: "
                    f"{self.fingerprint[:16]}..., {self.tasks} tasks: other model, quantities, (mu, T), settings or "
                    "grid). Use another checkpoint directory, or delete this one to start again.")
        else:  # a chunk left without its manifest is verified against this run's fingerprint like any
            write_bytes(manifest, json.dumps(
                {"fingerprint": self.fingerprint, "tasks": self.tasks, "description": description,
                 "chunk_format": CHUNK_FORMAT}, indent=1).encode())

    def close(self) -> None:
        """Release the directory's lock."""
        self.lock.release()

    def __enter__(self) -> ChunkStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def path(self, index: int) -> Path:
        return self.directory / f"chunk-{index:06d}.npz"

    def present(self) -> set[int]:
        """Indices of the tasks that have a chunk file (verified or not)."""
        done = set()
        for entry in self.directory.glob("chunk-*.npz"):
            try:
                index = int(entry.stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if 0 <= index < self.tasks and entry.name == self.path(index).name:
                done.add(index)
        return done

    def finished(self) -> set[int]:
        """Indices of the tasks whose chunk files pass every check (`verify`); a CheckpointWarning names
        the files that do not (their tasks are recomputed)."""
        done, bad = set(), []
        for index in sorted(self.present()):
            result, problem = self.verify(index)
            if problem is None:
                done.add(index)
            else:
                bad.append(f"{self.path(index).name} ({problem})")
        if bad:
            shown = "; ".join(bad[:SHOWN_FILES]) + (f"; and {len(bad) - SHOWN_FILES} more" if len(bad) > SHOWN_FILES
                                                     else "")
            warnings.warn(f"checkpoint {self.directory}: {len(bad)} chunk file(s) not used, their tasks are "
                          f"recomputed: {shown}", CheckpointWarning, stacklevel=2)
        return done

    def save(self, index: int, result: dict) -> None:
        """Write the result of task index with its record (task, fingerprint, shapes, checksum)."""
        arrays = {name: np.asarray(value) for name, value in result.items()}
        self.shapes = {**shapes_of(arrays), **(self.shapes or {})}
        record = {"format": CHUNK_FORMAT, "task": int(index), "fingerprint": self.fingerprint,
                  "shapes": shapes_of(arrays), "sha256": checksum(arrays)}
        buffer = io.BytesIO()
        np.savez(buffer, **{META: np.array(json.dumps(record))},
                 **{f"q_{name}": value for name, value in arrays.items()})
        write_bytes(self.path(index), buffer.getvalue())

    def verify(self, index: int) -> tuple[dict | None, str | None]:
        """(result, None) if the chunk of task index is this run's and intact, else (None, the problem)."""
        path = self.path(index)
        try:
            with np.load(path, allow_pickle=False) as data:
                record = json.loads(str(data[META][()])) if META in data.files else None
                arrays = {name[2:]: data[name] for name in data.files if name.startswith("q_")}
        except FileNotFoundError:
            return None, "missing"
        except Exception as error:  # truncated or corrupt: BadZipFile, zlib, OSError, ValueError, ...
            return None, f"unreadable: {type(error).__name__}"
        if not isinstance(record, dict):
            return None, "no record of its run (written by an older version)"
        if record.get("fingerprint") != self.fingerprint:
            return None, "written by another run"
        if record.get("task") != index:
            return None, f"holds the result of task {record.get('task')}, not of task {index}"
        if record.get("shapes") != shapes_of(arrays):
            return None, "its arrays do not match its record"
        found = shapes_of(arrays)
        if self.shapes is not None and any(self.shapes.get(name, kind) != kind for name, kind in found.items()):
            return None, "its arrays have other shapes than this run's"
        if record.get("sha256") != checksum(arrays):
            return None, "checksum mismatch: corrupt"
        self.shapes = {**found, **(self.shapes or {})}
        return arrays, None

    def load(self, index: int) -> dict | None:
        """The verified result of task index, or None (missing, unreadable or not this run's)."""
        return self.verify(index)[0]
