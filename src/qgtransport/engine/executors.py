"""Where the chunks of a k-grid run: in this process, in local worker processes, or on Dask.

An executor maps a picklable task over chunk indices and yields (index, result) as results come
in, in any order; the caller (`qgtransport.engine.integrate`) adds them in index order, so the sum does not
depend on the executor or the number of workers. At most `window` results may be outstanding (submitted
and not yet taken by the caller), which bounds the memory of a long run.

- "serial": in this process, one chunk after the other.
- "processes": local worker processes (`concurrent.futures.ProcessPoolExecutor`, "spawn" start
  method), each with one BLAS/LAPACK thread (threadpoolctl): small dense linear algebra in many
  processes is slowest with multithreaded BLAS. A worker that dies (killed, out of memory) breaks
  the pool: the pool is restarted and the unfinished chunks are submitted again (up to `retries`
  times).
- "dask": dask.distributed, on the scheduler at `scheduler` (an address such as
  "tcp://10.0.0.1:8786") or on a LocalCluster of `workers` single-threaded worker processes started
  here. Dask recomputes the chunks of a worker that dies; a chunk that keeps killing workers fails
  with distributed.KilledWorker after the scheduler's `allowed-failures`.

- "auto" (the default of `qgtransport.compute` and `qgt compute`): "processes" on all available
  cores when there are several and the run is long enough to repay starting the workers
  (k-points x max(n, 4)^3 >= AUTO_MIN_WORK, about 3 s of serial work: 3.4e4 k-points of an 18-band
  model, 3e6 of a 2-band one), else "serial". Its workers are forked where that is safe (Linux, no
  other thread running), so scripts need no guard; elsewhere they are spawned from interactive
  sessions and notebooks only, and a script runs serially (ask for "processes" explicitly, with the
  guard below).

Scripts that use "processes" must guard their entry point with ``if __name__ == "__main__":``
(the "spawn" start method imports the main module in every worker).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Literal

EXECUTORS = ("auto", "serial", "processes", "dask")
ExecutorKind = Literal["auto", "serial", "processes", "dask"]
AUTO_MIN_WORK = 2e8  # k-points x max(n, 4)^3 from which "auto" starts worker processes

_BLAS_LIMITED = False
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


_ALLOCATOR_TUNED = False
MMAP_THRESHOLD = 1 << 25  # bytes: arrays up to 32 MiB come from the heap
TRIM_THRESHOLD = 1 << 27  # bytes of free heap kept before returning memory to the OS


def tune_allocator() -> None:
    """glibc malloc: a fixed mmap threshold of 32 MiB and a trim threshold of 128 MiB, once per process.

    The engine allocates and frees arrays of 1-10 MiB per batch. glibc's default mmaps every block
    above a threshold that it only raises as blocks are freed, and returns memory to the OS at 128 KiB
    of free heap, so a fresh process page-faults its temporaries afresh for a whole first run: the
    direct scan on Fe ran at 120-127 microseconds per k-point in its first run and 80-88 in later ones
    (the same with these settings from the start). Left alone where the user set MALLOC_MMAP_THRESHOLD_
    or MALLOC_TRIM_THRESHOLD_, and off Linux/glibc.
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return
    _ALLOCATOR_TUNED = True
    import sys

    if not sys.platform.startswith("linux") or any(
            name in os.environ for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def limit_blas_threads() -> None:
    """One BLAS/LAPACK (and OpenMP) thread in this process, once per process."""
    global _BLAS_LIMITED
    if _BLAS_LIMITED:
        return
    for name in BLAS_THREAD_VARIABLES:
        os.environ[name] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional ([dask] and [test] extras); then the environment only
        pass
    else:
        threadpool_limits(limits=1)
    _BLAS_LIMITED = True


def run_task(task: Callable, index: int):
    """Worker-side entry: one BLAS thread, then task(index)."""
    limit_blas_threads()
    tune_allocator()
    return task(index)


PARENT_POLL = 0.5  # s between the watchdog's looks at the parent process
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def prepare_worker(parent: int | None = None, death_signal: bool = False) -> None:
    """Initializer of the "processes" workers: one BLAS thread, the allocator settings, and an end
    with the parent process `parent` (`die_with_parent`)."""
    limit_blas_threads()
    tune_allocator()
    if parent is not None:
        die_with_parent(parent, death_signal)


def die_with_parent(parent: int, death_signal: bool = True) -> None:
    """End this worker when its parent process `parent` ends, however it ends (SIGKILL included).

    - SIGTERM ends the worker at once (the default action; a forked worker would otherwise inherit
      the command line's handler) and SIGINT is ignored: Ctrl-C reaches the parent, which ends its
      workers itself.
    - Linux: the kernel sends SIGKILL when the parent's thread that started the worker ends
      (prctl PR_SET_PDEATHSIG; only asked for with death_signal, when that thread is the main one).
    - Everywhere: a daemon thread looks every PARENT_POLL s whether the parent is still the parent
      (os.getppid changes when it dies) and ends the process if not.
    """
    import signal
    import sys
    import threading
    import time

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if death_signal and sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            pass
    if os.getppid() != parent:  # the parent died before this worker got here
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os._exit(1)

    threading.Thread(target=watch, name="qgt-parent-watchdog", daemon=True).start()


def _identity(value):
    return value


class Executor:
    """Runs task(index) for chunk indices; a context manager that owns its workers.

    Parameters
    ----------
    kind : "serial", "processes" or "dask"
    workers : int, optional
        Worker processes ("processes", and a LocalCluster for "dask"); default: the available cores.
    scheduler : str, optional
        Address of a running Dask scheduler ("dask" only); default: start a LocalCluster here.
    retries : int
        "processes": how often a broken pool is restarted; "dask": retries of a failing task.
    """

    def __init__(self, kind: ExecutorKind = "serial", workers: int | None = None, scheduler: str | None = None,
                 retries: int = 3, start_method: str = "spawn"):
        kind, workers, scheduler = validate_executor(kind, workers, scheduler)
        if kind == "auto":
            raise ValueError('Executor needs a concrete kind; "auto" is resolved by open_executor')
        self.kind = kind
        self.start_method = start_method
        self.workers = workers if workers is not None else (1 if kind == "serial" else available_cores())
        self.scheduler = scheduler
        self.retries = retries
        self._pool = None
        self._client = None
        self._cluster = None
        self._saved_environ = None

    # -- lifetime --------------------------------------------------------------------------------
    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._restore()

    def abort(self, timeout: float = 10.0) -> None:
        """Stop now (Ctrl-C, SIGTERM): end the worker processes without waiting for their tasks."""
        pool, self._pool = self._pool, None
        if pool is not None:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.terminate()
            for process in processes:
                process.join(timeout)
        self._restore()

    def _restore(self) -> None:
        if self._saved_environ is not None:
            for name, value in self._saved_environ.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._saved_environ = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    @property
    def window(self) -> int:
        """Most results outstanding at once (submitted and not yet reduced): 4 per worker (per
        worker thread of the Dask cluster, which may be a remote one) plus 4."""
        if self.kind == "serial":
            return 1
        if self.kind == "dask":
            return 4 * max(1, sum(self.client.nthreads().values())) + 4
        return 4 * self.workers + 4

    @property
    def client(self):
        """The dask.distributed Client (started on first use)."""
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as error:
                raise ImportError(
                    'executor="dask" needs dask.distributed: pip install "qgtransport[dask]"') from error
            if self.scheduler is not None:
                self._client = Client(self.scheduler)
            else:
                import dask

                # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which also freezes
                # glibc's mmap threshold at 128 KiB: every temporary array of the engine is then
                # mmapped and page-faulted afresh (measured 2x slower on the Fe model). Keep
                # arrays up to 32 MiB on the heap instead.
                with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 1 << 27,
                                      "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 1 << 25}):
                    self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                                 dashboard_address=None)
                self._client = Client(self._cluster)
        return self._client

    def _new_pool(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # workers are spawned on demand while tasks are submitted: they inherit one-thread BLAS
        # settings from the environment (restored in close), and threadpoolctl where installed
        if self._saved_environ is None:
            self._saved_environ = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
            os.environ.update({name: "1" for name in BLAS_THREAD_VARIABLES})
        import threading

        # the workers end with this process (die_with_parent): the kernel's parent-death signal follows
        # the thread that starts them (the one that submits), so it is asked for from the main thread only
        main_thread = threading.current_thread() is threading.main_thread()
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context(self.start_method),
                                   initializer=prepare_worker, initargs=(os.getpid(), main_thread))

    # -- running ---------------------------------------------------------------------------------
    def imap(self, task: Callable, indices: Iterable[int], may_submit: Callable[[int], bool]) -> Iterator:
        """Yield (index, task(index)) for every index, in any order.

        may_submit(submitted) tells whether one more task may be submitted now (the caller's memory
        bound); it must become true once the caller has taken the results yielded so far.
        """
        indices = list(indices)
        if self.kind == "serial":
            for index in indices:
                yield index, task(index)
        elif self.kind == "processes":
            yield from self._imap_processes(task, indices, may_submit)
        else:
            yield from self._imap_dask(task, indices, may_submit)

    def _imap_processes(self, task, indices, may_submit):
        running: dict = {}
        try:
            yield from self._imap_pool(task, indices, may_submit, running)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM in qgt: end the workers now, not after their tasks
            self.abort()
            raise
        finally:
            for future in running:  # the caller stopped early: drop what has not started
                future.cancel()

    def _imap_pool(self, task, indices, may_submit, running: dict):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        todo = list(reversed(indices))  # pop() gives increasing indices
        submitted = 0
        failures = 0
        if self._pool is None:
            self._pool = self._new_pool()
        while todo or running:
            while todo and may_submit(submitted):
                index = todo.pop()
                running[self._pool.submit(task, index)] = index
                submitted += 1
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            broken = False
            for future in sorted(done, key=running.get):
                index = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    todo.append(index)
                    submitted -= 1
                    continue
                yield index, result
            if broken:
                # every other running chunk of the broken pool is lost too: resubmit them
                for future, index in running.items():
                    future.cancel()
                    todo.append(index)
                    submitted -= 1
                running.clear()
                todo.sort(reverse=True)
                failures += 1
                if failures > self.retries:
                    raise RuntimeError(f"worker processes died {failures} times; giving up (retries={self.retries})")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def _imap_dask(self, task, indices, may_submit):
        from distributed import as_completed

        client = self.client
        token = uuid.uuid4().hex[:12]
        # the task is held by one recomputable key: if the worker holding it dies, the scheduler
        # recomputes it from the graph (scattered data would be lost)
        holder = client.submit(_identity, task, key=f"qgt-task-{token}", pure=False)
        todo = list(reversed(indices))
        keys: dict = {}
        submitted = 0

        def submit(index):
            future = client.submit(run_task, holder, index, key=f"qgt-chunk-{token}-{index}",
                                   retries=self.retries, pure=False)
            keys[future.key] = index
            return future

        pending = as_completed()
        while todo and may_submit(submitted):
            pending.add(submit(todo.pop()))
            submitted += 1
        try:
            while not pending.is_empty():
                future = next(pending)
                index = keys[future.key]
                result = future.result()
                future.release()
                yield index, result
                while todo and may_submit(submitted):
                    pending.add(submit(todo.pop()))
                    submitted += 1
        finally:
            holder.release()


def validate_executor(kind, workers, scheduler):
    """Check the executor options; return them normalised."""
    if kind not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, got {kind!r}")
    if workers is not None:
        if isinstance(workers, bool) or int(workers) != workers or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        workers = int(workers)
    if scheduler is not None and kind not in ("dask", "auto"):
        raise ValueError(f"scheduler={scheduler!r} needs executor='dask', got executor={kind!r}")
    return kind, workers, scheduler


def auto_start_method() -> str | None:
    """How "auto" may start workers: "fork" where it is safe (Linux, this thread alone), "spawn" from an
    interactive session or notebook (no main file to re-run), else None: a script that might lack the
    ``if __name__ == "__main__":`` guard that "spawn" needs, so no workers."""
    import sys
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    if getattr(sys.modules.get("__main__"), "__file__", None) is None:
        return "spawn"
    return None


_ASK = object()  # resolve_auto: find the start method itself


def resolve_auto(workers, kpoints: int, norb: int, method=_ASK) -> str:
    """The kind "auto" stands for: "processes" with several cores (or workers > 1 asked for) and
    kpoints x max(norb, 4)^3 >= AUTO_MIN_WORK, where workers can be started safely (`method`, default
    auto_start_method(), is not None); else "serial"."""
    if method is _ASK:
        method = auto_start_method()
    cores = workers if workers is not None else available_cores()
    long_enough = cores > 1 and kpoints * max(norb, 4) ** 3 >= AUTO_MIN_WORK
    return "processes" if long_enough and method is not None else "serial"


def open_executor(executor, workers=None, scheduler=None, kpoints: int = 0, norb: int = 1) -> tuple[Executor, bool]:
    """(Executor, owned): an Executor made from the options ("auto" resolved for a run of `kpoints`
    k-points of an `norb`-band model), or the one given (not owned)."""
    if isinstance(executor, Executor):
        return executor, False
    if executor == "auto":
        method = auto_start_method()
        if resolve_auto(workers, kpoints, norb, method) == "serial":
            return Executor("serial"), True
        return Executor("processes", workers, scheduler, start_method=method), True
    return Executor(executor, workers, scheduler), True
