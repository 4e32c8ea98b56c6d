"""Files written whole or not at all: every output of qgtransport goes through this module.

A file is written to a temporary name in its own folder (``.<name>.<pid>.<random>.tmp``), flushed
and synced to the disk, then renamed over the target with `os.replace`, which is atomic on POSIX
file systems: a reader sees the old file or the new one, never a mix, and a run that fails or is
killed while writing leaves the previous file as it was. The temporary file is removed on any
error; one left by a killed process is removed by the next write of the same file.

A full disk (ENOSPC, EDQUOT) or another operating-system error becomes an `OutputError` that names
the file ("cannot write out.nc: no space left on device"). Writers that hide the errno (the netCDF
library reports "HDF error") are recognised by the free space left on the file system.

A symbolic link is kept and the file it points to replaced; a device or a pipe (/dev/stdout) is
written in place.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NEARLY_FULL = 1 << 20  # bytes free below which a failed write is reported as a full disk


class OutputError(OSError):
    """A file could not be written (full disk, no permission, ...); the message names the file
    (`errno` and `filename` as for any OSError)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _nearly_full(folder: Path) -> bool:
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # pragma: no cover - no statvfs (Windows)
        return False
    return stat.f_bavail * stat.f_frsize < NEARLY_FULL


def output_error(path, error: BaseException, full: bool | None = None) -> OutputError:
    """An OutputError naming `path` for an error raised while writing it (`full`: whether the file
    system was full when it happened; default: look now)."""
    code = getattr(error, "errno", None)
    if full is None:
        full = _nearly_full(Path(path).parent)
    if code in NO_SPACE or full:
        reason = "no space left on device" + (" (disk quota exceeded)" if code == errno.EDQUOT else "")
        if code not in NO_SPACE:
            reason += f"; the writer said {type(error).__name__}: {error}"
        return OutputError(code or errno.ENOSPC, f"cannot write {path}: {reason}", str(path))
    text = getattr(error, "strerror", None) or str(error)
    return OutputError(code or errno.EIO, f"cannot write {path}: {text}", str(path))


def _remove_stale(target: Path) -> None:
    """Remove temporary files of `target` left by processes that no longer run."""
    for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        try:
            pid = int(stale.name[len(target.name) + 2:].split(".")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                stale.unlink()
        except (ValueError, IndexError, PermissionError, OSError):
            continue


def _sync_folder(folder: Path) -> None:
    """fsync a folder so that a rename in it survives a power cut (where the OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - not possible on this platform
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A temporary path in the folder of `path` to write to; on leaving the block without error it is
    synced and renamed to `path`, on an error it is removed and an OSError becomes an OutputError.

    >>> with atomic_path("out.nc") as tmp:
    ...     ds.to_netcdf(tmp)
    """
    target = Path(path)
    if target.is_symlink():  # write the file the link points to, keep the link
        target = target.resolve()
    if target.exists() and not target.is_file() and not target.is_dir():
        yield target  # a device or a pipe (/dev/stdout): written in place, nothing to rename
        return
    folder = target.parent
    _remove_stale(target)
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    except OSError as error:
        raise output_error(target, error) from error
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as error:
        full = isinstance(error, Exception) and _nearly_full(folder)  # before the space is given back
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(error, Exception) and not isinstance(error, OutputError) and (isinstance(error, OSError)
                                                                                     or full):
            raise output_error(target, error, full) from error
        raise
    _sync_folder(folder)


def write_with(path, writer: Callable[[Path], object]) -> Path:
    """Call writer(temporary_path), then rename the temporary file to `path` (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


@contextlib.contextmanager
def atomic_open(path, mode: str = "w", encoding: str | None = None) -> Iterator:
    """An open file ("w" or "wb") that becomes `path` when the block ends without error."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', got {mode!r}")
    if mode == "w" and encoding is None:
        encoding = "utf-8"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding) as handle:
        yield handle
        handle.flush()


def write_bytes(path, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_text(path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically."""
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


__all__ = ["OutputError", "atomic_path", "atomic_open", "write_with", "write_bytes", "write_text", "output_error"]
