"""Checkpoints: finished chunk results of a long run on disk, so that the same call resumes.

A checkpoint directory holds

    manifest.json          {"fingerprint": sha256 of what the run computes, "description": ..., "tasks": N}
    chunk-000017.npz       the result {name: array} of task 17, written atomically (tmp file + rename)

The fingerprint hashes everything that determines the chunk results (the model's arrays, the
request: quantities, (mu, T, omega) points, settings, the grid, its shift and chunking, the
qgtransport version). A directory whose manifest holds another fingerprint is refused with an error
naming both, so a different run can never reuse another's chunks. A chunk file that cannot be read
(a run killed while writing; the rename makes this rare) is recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

MANIFEST = "manifest.json"


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


class ChunkStore:
    """Finished task results of one run in a directory (see the module docstring).

    Parameters
    ----------
    directory : path; created if missing.
    fingerprint : str identifying the run (see `fingerprint`).
    tasks : number of tasks of the run.
    description : human-readable summary kept in the manifest.
    """

    def __init__(self, directory, fingerprint: str, tasks: int, description: str = ""):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.tasks = tasks
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self.directory / MANIFEST
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text())
            except (OSError, ValueError) as error:
                raise ValueError(f"checkpoint manifest {manifest} is unreadable: {error}") from error
            if found.get("fingerprint") != fingerprint or found.get("tasks") != tasks:
                raise ValueError(
                    f"checkpoint directory {self.directory} holds chunks of a different run "
                    f"(fingerprint {str(found.get('fingerprint'))[:16]}..., {found.get('tasks')} tasks; this run: "
                    f"{fingerprint[:16]}..., {tasks} tasks: other model, quantities, (mu, T), settings or grid). "
                    "Use another checkpoint directory, or delete this one to start again.")
        else:
            write_atomic(manifest, json.dumps(
                {"fingerprint": fingerprint, "tasks": tasks, "description": description}, indent=1).encode())

    def path(self, index: int) -> Path:
        return self.directory / f"chunk-{index:06d}.npz"

    def finished(self) -> set[int]:
        """Indices of the tasks whose results are on disk."""
        done = set()
        for entry in self.directory.glob("chunk-*.npz"):
            try:
                index = int(entry.stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if 0 <= index < self.tasks:
                done.add(index)
        return done

    def save(self, index: int, result: dict) -> None:
        import io

        buffer = io.BytesIO()
        np.savez(buffer, **{f"q_{name}": np.asarray(value) for name, value in result.items()})
        write_atomic(self.path(index), buffer.getvalue())

    def load(self, index: int) -> dict | None:
        """The result of task index, or None if its file is missing or unreadable."""
        try:
            with np.load(self.path(index)) as data:
                return {name[2:]: data[name] for name in data.files}
        except (OSError, ValueError, EOFError, KeyError):
            return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file and a rename (no half-written files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
