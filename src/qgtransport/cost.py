"""The cost of a `qgtransport.compute` call, estimated before any work, and the limits above which it
refuses to start.

Time. Per k-point, the engine builds H(k), diagonalises it and brings dH/dk into the band basis
(cost ~ n^3 for n bands), then evaluates each quantity's kernels on (n^power, points) arrays at every
(mu, T[, omega]) point of the direct scan (the binned scan: once per k-point). The CPU time is

    t = N_k [a + b n^3 + c sum_q n^power_q P_q],

N_k the k-points (the grid, plus the nk/2 grid of the error estimate), P_q the scan points of quantity
q (mu x T, times omega for the frequency-dependent ones; with scan = "binned" 1, or omega for the
frequency-dependent ones, whose binned band quantities carry an omega axis). The constants were
measured with executor = "serial" on one core of a loaded 2-core machine (Intel, numpy with
OpenBLAS; the QWZ model, n = 2, at nk = 128 and 1 to 100 mu points, and the 18-band Fe model of
shared/data/fe at nk = 10 and 1 to 20 mu points; the three fits agree within a factor of 2):

    a = 5e-6 s per k-point (the per-point work of small models),
    b = 6e-8 s per k-point x band^3 (eigh and the band-basis velocities),
    c = 8e-8 s per k-point x band^power x scan point x quantity (the kernels).

The wall time divides t by the cores that run it (`workers`, else the available cores; 1 for
executor = "serial"). Adaptive refinement adds, per level, the hot share (`fraction`, at least 16
points) of the previous level's points times subdivision^d (a rough count: the threshold is found
only while running). The report's extra recomputations and a GPU backend are not included.

Memory. The per-chunk arrays of each worker are bounded by max_elements complex numbers; measured
peak: about 2 x 16 bytes x max_elements, counted as 4 x to be safe (one worker's worth only with a
remote Dask scheduler: the others use the cluster's memory, not this machine's). The results: per quantity
3^rank components x P_q points, values and errors, counted 4 x (the sums, the dataset, the copies
written to netCDF and JSON), 8 bytes each (16 for the complex, frequency-dependent ones).

Limits (`check`): refused above `MAX_HOURS` hours of wall time or `MEMORY_FRACTION` of the memory
available now, unless forced (`force=True` in compute, `--force` on the command line, `force = true`
in [execution]); refused always above `MAX_KPOINTS` k-points or `MAX_SCAN_POINTS` (mu, T, omega)
points (hard limits: no machine finishes such a run; split it). The exact solver (`qgt verify`,
[checks] exact) takes at most `MAX_EXACT_KPOINTS` k-points (`check_exact_grid`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from qgtransport.engine.executors import available_cores
from qgtransport.engine.integrate import grid_shape
from qgtransport.engine.refine import as_refinement
from qgtransport.responses import RESPONSES

SECONDS_PER_KPOINT = 5e-6  # a
SECONDS_PER_KPOINT_BAND3 = 6e-8  # b: per k-point x band^3
SECONDS_PER_KERNEL = 8e-8  # c: per k-point x band^power x scan point x quantity
CHUNK_BYTES_PER_ELEMENT = 4 * 16  # per max_elements, per worker
RESULT_COPIES = 4
MIN_HOT_POINTS = 16  # hot points refined per level at least (12 measured for QWZ at nk = 8)

MAX_HOURS = 24.0
MEMORY_FRACTION = 0.8
MAX_KPOINTS = 2**50
MAX_SCAN_POINTS = 10**7
MAX_EXACT_KPOINTS = 2**20  # the exact solver (qgt verify, [checks] exact): ~3.4 kB per k-point measured, 3D weyl
OVERRIDE = "force=True in compute, --force on the command line, force = true in [execution]"


class CostError(ValueError):
    """A run refused before it starts: too long, too large or above a hard limit."""


@dataclass(frozen=True)
class Estimate:
    """What a compute call will cost: k-points (both grids), scan points, the cores used, the wall
    time (s) and the peak memory (bytes)."""

    kpoints: int
    bands: int
    points: int
    cores: int
    seconds: float
    memory: float
    refined: int = 0
    max_elements: int = 2**21

    def describe(self) -> str:
        refined = f" ({self.refined:.3g} of them from the refinement)" if self.refined else ""
        return (f"{self.kpoints:.3g} k-points{refined} x {self.bands} bands x {self.points:.3g} scan points: about "
                f"{duration(self.seconds)} on {self.cores} core{'s' * (self.cores > 1)} and {size(self.memory)} of "
                f"memory, {size(CHUNK_BYTES_PER_ELEMENT * self.max_elements)} per worker for "
                f"max_elements = {self.max_elements:.3g}")


def duration(seconds: float) -> str:
    """'3.2 s', '14 min', '480 h', '2.1e+04 years'."""
    if seconds < 120:
        return f"{seconds:.2g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.2g} min"
    if seconds < 1e4 * 3600:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / (3600 * 24 * 365.25):.2g} years"


def size(nbytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes / 1e3:.3g} kB"


def kpoint_count(nk, dim: int, error_estimate: bool = True) -> int:
    """k-points of the grid, plus those of the nk/2 grid of the error estimate (exact integers)."""
    shape = grid_shape(nk, dim)
    total = int(np.prod([int(n) for n in shape], dtype=object))
    if error_estimate and all(int(n) >= 2 for n in shape):
        total += int(np.prod([int(n) // 2 for n in shape], dtype=object))
    return total


def refined_points(kpoints: int, dim: int, refine) -> int:
    """k-points the adaptive refinement adds, roughly: at each level the hot share `fraction` of the
    previous level's points (at least MIN_HOT_POINTS: ties at the threshold) each becomes
    subdivision^dim points."""
    refinement = as_refinement(refine)
    if refinement is None:
        return 0
    added, previous = 0, kpoints
    for _ in range(int(refinement.levels)):
        previous = max(MIN_HOT_POINTS, int(refinement.fraction * previous)) * int(refinement.subdivision) ** dim
        added += previous
    return added


def estimate(model, nk, n_points: int, quantities, *, n_omega: int = 1, error_estimate: bool = True,
             scan: str = "direct", max_elements: int = 2**21, executor="auto", workers=None,
             refine=None, scheduler=None) -> Estimate:
    """The wall time and peak memory of compute(model, quantities, nk=nk, ...) with n_points (mu, T)
    points and n_omega frequencies (module docstring: t = N_k [a + b n^3 + c sum_q n^power_q P_q];
    with refine, N_k includes the refined points, `refined_points`)."""
    n = model.norb
    kpoints = kpoint_count(nk, model.dim, error_estimate)
    refined = refined_points(kpoints, model.dim, refine)
    kpoints += refined
    per_k = SECONDS_PER_KPOINT + SECONDS_PER_KPOINT_BAND3 * n**3
    result_bytes = 0.0
    for q in quantities:
        response = RESPONSES[q]
        points = n_points * (n_omega if response.frequency else 1)
        binned = n_omega if response.frequency else 1  # the binned AC band quantities carry an omega axis
        per_k += SECONDS_PER_KERNEL * n**response.band_power * (binned if scan == "binned" else points)
        result_bytes += 3**response.rank * points * (16 if response.frequency else 8) * 2
    kind = getattr(executor, "kind", executor)  # a name, or an open Executor
    cores = 1 if kind == "serial" else int(workers or getattr(executor, "workers", None) or available_cores())
    remote = scheduler is not None and kind in ("dask", "auto")  # the chunks live on the cluster's machines
    chunk_bytes = CHUNK_BYTES_PER_ELEMENT * max_elements * (1 if remote else cores)
    seconds = float(kpoints) * per_k / cores
    return Estimate(kpoints=kpoints, bands=n, points=n_points * n_omega, cores=cores, seconds=seconds,
                    memory=chunk_bytes + RESULT_COPIES * result_bytes, refined=refined, max_elements=max_elements)


def available_memory() -> float:
    """Bytes of memory available now (psutil, else /proc/meminfo's MemAvailable, else os.sysconf)."""
    try:
        import psutil

        return float(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check_scan_points(count: int, what: str = "the scan") -> None:
    """CostError if a scan has more than MAX_SCAN_POINTS points (checked before it is allocated)."""
    if count > MAX_SCAN_POINTS:
        raise CostError(f"{what} has {count:.3g} points, above the hard limit of {MAX_SCAN_POINTS:.0e} scan points "
                        "(no machine finishes such a scan; split it into several runs)")


def check_exact_grid(nk: int, dim: int, what: str = "nk") -> None:
    """CostError if the exact solver's grid nk^dim is above MAX_EXACT_KPOINTS (its memory grows with
    the k-points: about 3.4 kB each, measured on the 3D Weyl model at nk = 16)."""
    if nk**dim > MAX_EXACT_KPOINTS:
        most = int(round(MAX_EXACT_KPOINTS ** (1 / dim)))
        while most**dim > MAX_EXACT_KPOINTS:
            most -= 1
        raise CostError(f"{what} = {nk} gives {nk**dim:.3g} k-points in {dim}D, above the exact solver's limit of "
                        f"2**20 (about {size(3.4e3 * nk**dim)} of memory): give at most {most}")


def check(cost: Estimate, force: bool = False, memory: float | None = None) -> None:
    """CostError unless the run fits: at most MAX_KPOINTS k-points and MAX_SCAN_POINTS scan points
    (always), and, unless force, at most MAX_HOURS of wall time and MEMORY_FRACTION of `memory`
    (default: the memory available now)."""
    if cost.kpoints > MAX_KPOINTS:
        raise CostError(f"{cost.kpoints:.3g} k-points is above the hard limit of 2**50 ({MAX_KPOINTS:.3g}); "
                        f"the run would take {duration(cost.seconds)}: give a smaller nk")
    check_scan_points(cost.points, "the (mu, T, omega) scan")
    if force:
        return
    memory = available_memory() if memory is None else memory
    problems = []
    if cost.seconds > MAX_HOURS * 3600:
        problems.append(f"the estimated time is above the limit of {MAX_HOURS:g} h")
    if cost.memory > MEMORY_FRACTION * memory:
        problems.append(f"the estimated memory is above {MEMORY_FRACTION:.0%} of the {size(memory)} available")
    if problems:
        raise CostError(f"run refused before it starts: {' and '.join(problems)} ({cost.describe()}); give a "
                        f"smaller nk or scan, or confirm with {OVERRIDE}")


__all__ = ["Estimate", "CostError", "estimate", "check", "check_scan_points", "check_exact_grid", "available_memory",
           "MAX_HOURS", "MEMORY_FRACTION", "MAX_KPOINTS", "MAX_SCAN_POINTS", "MAX_EXACT_KPOINTS"]
