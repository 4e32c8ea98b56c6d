"""Uniform k-grids over the Brillouin zone, processed in chunks of bounded size, and the reduction.

A grid of nk_1 x ... x nk_d points k = (i + shift)/nk in reduced coordinates (fractions of the
reciprocal vectors). The integral int_k F = int d^dk/(2 pi)^d F over the Brillouin zone is
(1/V_cell) times the mean of F over the grid. The integrator knows no physics: it hands chunks of
k-points to a pure function and adds the returned arrays in a fixed order.

Two sizes: a *chunk* (``chunk_size`` k-points) is what the function sees at once (it bounds the
memory of its (k, n, n, ...) arrays); a *task* (``task_size`` k-points, a multiple of the chunk) is
the unit of scheduling and of checkpoints. Task t covers the flat grid indices
[t task_size, (t + 1) task_size); its result is the sum of its chunks in order, and the result of the
grid is the sum of the task results in task order, whatever the executor, the number of workers or
the order in which tasks finish (`qgtransport.engine.executors`). So serial, process and Dask runs agree
to the last bit for a given chunk and task size, and to rounding (~1e-15) between sizes.

Checkpoints (`qgtransport.engine.checkpoint`): with ``checkpoint=DIRECTORY`` every finished task result is
written to DIRECTORY/nk-<grid>/; the same call later skips the tasks found there whose chunk files
pass the checks (this run's fingerprint, this task, shapes, checksum) and recomputes the others.

Error estimate: the caller integrates a second grid of nk/2 points per direction (same shift; it
costs 1/2^d of the first) and reports |I(nk) - I(nk/2)|. (The even sub-grid of the nk grid is not
used: with shift 1/2, k -> -k maps odd onto even points, so for inversion-even integrands the
sub-grid sum equals the full sum and the estimate would be falsely zero.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qgtransport.engine.executors import Executor, open_executor

DEFAULT_TASK_POINTS = 1 << 15  # k-points per task when not given: ~0.1-3 s of work per task


def grid_shape(nk, dim: int) -> tuple[int, ...]:
    """nk as a tuple of dim positive ints (an int means the same in every direction)."""
    shape = (int(nk),) * dim if np.isscalar(nk) else tuple(int(n) for n in nk)
    if len(shape) != dim or any(n < 1 for n in shape):
        raise ValueError(f"nk must be a positive int or {dim} positive ints, got {nk!r}")
    return shape


def grid_points(shape: tuple[int, ...], shift, start: int, stop: int) -> np.ndarray:
    """k_reduced (stop - start, d) of the flat grid indices [start, stop) (C order)."""
    shape_arr = np.array(shape)
    shift = np.broadcast_to(np.asarray(shift, dtype=float), shape_arr.shape)
    index = np.stack(np.unravel_index(np.arange(start, stop), shape), axis=-1)
    return (index + shift) / shape_arr


def grid_chunks(shape: tuple[int, ...], shift=0.5, chunk_size: int = 65536) -> Iterator[np.ndarray]:
    """Yield k_reduced (nchunk, d) for consecutive chunks of the grid k = (i + shift)/nk."""
    total = int(np.prod(shape))
    for start in range(0, total, chunk_size):
        yield grid_points(shape, shift, start, min(start + chunk_size, total))


def add_into(sums: dict, result: dict) -> dict:
    """sums += result, name by name (a new name starts a sum)."""
    for name, value in result.items():
        sums[name] = value if name not in sums else sums[name] + value
    return sums


@dataclass(frozen=True)
class GridTask:
    """Task t of a grid: the ordered sum of function(k) over the chunks of flat indices
    [t task_size, (t + 1) task_size). Picklable when the function is."""

    function: Callable
    shape: tuple[int, ...]
    shift: tuple[float, ...]
    chunk_size: int
    task_size: int
    irreducible: object = None  # optional explicit weighted points (`qgtransport.symmetry.IrreducibleGrid`)

    @property
    def total(self) -> int:
        return int(np.prod(self.shape)) if self.irreducible is None else self.irreducible.total

    @property
    def count(self) -> int:
        return -(-self.total // self.task_size)

    def points(self, index: int) -> int:
        return min(self.task_size, self.total - index * self.task_size)

    def __call__(self, index: int) -> dict:
        start = index * self.task_size
        stop = min(start + self.task_size, self.total)
        sums: dict = {}
        if self.irreducible is not None:
            return self.weighted(start, stop)
        for first in range(start, stop, self.chunk_size):
            k_reduced = grid_points(self.shape, self.shift, first, min(first + self.chunk_size, stop))
            add_into(sums, self.function(k_reduced))
        return sums

    def weighted(self, start: int, stop: int) -> dict:
        """sum_k w_k function(k) over the explicit points [start, stop): chunks end where the weight
        changes (the points come in runs of equal weight), each chunk's sums times its weight."""
        k, w = self.irreducible.k, self.irreducible.weights
        edges = np.nonzero(np.diff(w[start:stop]))[0] + start + 1
        sums: dict = {}
        for low, high in zip([start, *edges], [*edges, stop], strict=True):
            for first in range(low, high, self.chunk_size):
                result = self.function(k[first:min(first + self.chunk_size, high)])
                add_into(sums, {name: w[low] * value for name, value in result.items()})
        return sums


def default_task_size(total: int, chunk_size: int) -> int:
    """k-points per task: at most about DEFAULT_TASK_POINTS, about 64 tasks where the grid allows
    (so that the last tasks keep every worker busy), a multiple of chunk_size. Independent of the
    executor and the number of workers, so that every executor adds the same partial sums
    (identical results to the last bit)."""
    target = min(DEFAULT_TASK_POINTS, max(1, total // 64))
    return max(1, round(target / chunk_size)) * chunk_size


def grid_label(shape: tuple[int, ...]) -> str:
    return "nk-" + "x".join(str(n) for n in shape)


def integrate(chunk_function: Callable, shape: tuple[int, ...], shift=0.5, chunk_size: int = 65536,
              progress: bool = False, *, executor: str | Executor = "serial", workers: int | None = None,
              scheduler: str | None = None, checkpoint=None, task_size: int | None = None,
              fingerprint=None, label: str | None = None, points=None) -> dict:
    """Sum chunk_function(k_reduced) -> {name: array} over the grid, tasks added in task order.

    Parameters
    ----------
    chunk_function : k_reduced (nchunk, d) -> {name: array}; picklable for "processes" and "dask".
    shape, shift : the grid.
    chunk_size : k-points per call of chunk_function (memory).
    progress : tqdm bar with k-points/s and the time left.
    executor, workers, scheduler : see `qgtransport.engine.executors.Executor` (or pass an open Executor).
    checkpoint : directory for finished task results (resume), or None.
    task_size : k-points per task (a smaller chunk_size is used if it exceeds the task; the task is
        rounded up to a multiple of the chunk); default `default_task_size`. Part of the
        checkpoint fingerprint.
    fingerprint : what identifies the run for the checkpoint (any object `checkpoint.fingerprint`
        can hash; default: the chunk function).
    label : distinguishes two integrations of the same grid in one checkpoint directory
        (DIRECTORY/nk-<grid>-<label>/).
    points : optional `qgtransport.symmetry.IrreducibleGrid` of the grid: only its points are computed,
        each chunk's sums times the weight of its points (the caller symmetrises the sums).

    Returns {name: array} of plain sums; the caller normalises.
    """
    shift = tuple(float(s) for s in np.broadcast_to(np.asarray(shift, dtype=float), (len(shape),)))
    runner, owned = open_executor(executor, workers, scheduler)
    store = None
    try:
        total = int(np.prod(shape)) if points is None else points.total
        chunk_size = max(1, min(int(chunk_size), total))
        if task_size is None:
            task_size = default_task_size(total, chunk_size)
        chunk_size = min(chunk_size, max(1, int(task_size)))
        task_size = max(1, -(-int(task_size) // chunk_size)) * chunk_size
        task = GridTask(chunk_function, tuple(shape), shift, chunk_size, task_size, points)
        if checkpoint is not None:
            from qgtransport import __version__
            from qgtransport.engine.checkpoint import ChunkStore
            from qgtransport.engine.checkpoint import fingerprint as make_fingerprint

            identity = make_fingerprint(fingerprint or chunk_function, task.shape, task.shift, chunk_size, task_size,
                                        __version__, *(() if points is None else (points.index, points.weights)))
            folder = grid_label(task.shape) + (f"-{label}" if label else "")
            store = ChunkStore(Path(checkpoint) / folder, identity, task.count,
                               description=f"grid {task.shape}, shift {task.shift}, {task.count} tasks")
        return reduce_tasks(task, runner, store, progress)
    finally:
        if store is not None:
            store.close()
        if owned:
            runner.close()


def reduce_tasks(task: GridTask, runner: Executor, store, progress: bool) -> dict:
    """Run the tasks not already in the store and add all results in task order."""
    stored = store.finished() if store is not None else set()
    todo = [i for i in range(task.count) if i not in stored]
    bar = None
    if progress:
        from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal

        bar = tqdm(total=task.total, initial=sum(task.points(i) for i in stored), unit=" k-points",
                   unit_scale=True, desc="x".join(map(str, task.shape)), smoothing=0.1)
    sums: dict = {}
    pending: dict = {}
    state = {"next": 0, "reduced": 0}
    window = runner.window

    def advance():
        while state["next"] < task.count:
            index = state["next"]
            if index in pending:
                result = pending.pop(index)
                state["reduced"] += 1
            elif index in stored:
                result = store.load(index)
                if result is None:  # changed since it was verified: recompute here
                    result = task(index)
                    store.save(index, result)
            else:
                return
            add_into(sums, result)
            state["next"] += 1

    advance()
    try:
        for index, result in runner.imap(task, todo, lambda submitted: submitted - state["reduced"] < window):
            if store is not None:
                store.save(index, result)
            pending[index] = result
            if bar is not None:
                bar.update(task.points(index))
            advance()
        advance()
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM in qgt) wherever it lands: end the workers now
        runner.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    if state["next"] != task.count:  # pragma: no cover - guards the bookkeeping
        raise RuntimeError(f"only {state['next']} of {task.count} tasks were reduced")
    return sums


def coarse_shape(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The grid of nk/2 per direction used for the error estimate, or None if some nk < 4."""
    return None if min(shape) < 4 else tuple(n // 2 for n in shape)
