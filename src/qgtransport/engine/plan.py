"""The k-space engine behind `qgtransport.compute`: one plan for a request on a grid.

Chooses the chunk function (scan "direct": the responses at every (mu, T) point; "binned": energy
histograms, `qgtransport.engine.spectral`; "auto": binned for scans of several (mu, T) points whose
quantities all have a binned form, `spectral_ac.auto_scan`; optionally refined around hot spots,
`qgtransport.engine.refine`), runs it on the grid nk and, for the error estimate, on nk/2 with one
executor (`qgtransport.engine.executors`) and optional checkpoints, and turns the sums into integrals.
Every chunk function computes H(k) and one eigh per k-point with `qgtransport.engine.backend` (numpy or
CuPy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qgtransport.engine.backend import BACKENDS, GridChunks, default_batch
from qgtransport.engine.checkpoint import DirectoryLock
from qgtransport.engine.direct import KERNEL_MAX_POINTS
from qgtransport.engine.executors import open_executor, tune_allocator, validate_executor
from qgtransport.engine.groups import GroupedScan, evaluate_groups, group_grids, group_request
from qgtransport.engine.integrate import add_into, coarse_shape, grid_points, integrate
from qgtransport.engine.refine import (
    ERROR_ESTIMATE,
    IndicatorHistogram,
    RefinedChunks,
    as_refinement,
    quantile_threshold,
    refined_error,
    split_levels,
)
from qgtransport.engine.spectral import MOMENTS, SCANS
from qgtransport.engine.spectral_ac import BinnedScan, auto_scan, check_binned, evaluate


class DirectSums:
    """GridChunks base of scan="direct": function(geo) -> {name: (p, ...) band sums}, on numpy
    arrays (the responses are numpy code), added over the batches of a chunk."""

    host = True
    eigenvectors = False  # the responses read energies, velocities and d2H only

    def __init__(self, function, curvature: str = "full"):
        self.function = function
        self.curvature = curvature  # how much of d2H the function needs (GridChunks.geometry)

    def prepare(self, geo) -> dict:
        return self.function(geo)

    def finish(self, parts) -> dict:
        sums: dict = {}
        for part in parts:
            add_into(sums, part)
        return sums


@dataclass
class EngineResult:
    """values, errors: {quantity: (p, ...)} in natural units; changes: refined - uniform values
    (refinement only); attrs: what the dataset should record about the run."""

    values: dict
    errors: dict
    changes: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)


def validate_engine(scan, backend, executor, workers, scheduler, refine):
    if scan not in SCANS:
        raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if isinstance(executor, str):
        validate_executor(executor, workers, scheduler)
    return as_refinement(refine)


def integrate_request(model, request, shape, shift, *, chunk_size: int, direct_sums, order: int,
                      progress: bool = False, error_estimate: bool = True, scan: str = "auto",
                      bin_width=None, backend: str = "numpy", refine=None, executor="auto", workers=None,
                      scheduler=None, checkpoint=None, task_size=None, symmetry=None,
                      curvature: str = "full") -> EngineResult:
    """Integrals of the request on the grid `shape` (and nk/2 for the error estimate).

    symmetry: a `qgtransport.symmetry.Symmetry` (or None): only the irreducible points of each grid
    are computed, with their orbit sizes as weights, and the values (and the refinement's changes and
    the error estimate, made of symmetrised values) are symmetrised; refined cells are expanded to
    their stars.

    direct_sums: geo -> {name: sums} (compute's engine_block_sums for the request); chunk_size: the
    most k-points the direct sums may see at once (memory); order: 2 when a quantity needs d2H;
    curvature: how much of d2H in the band basis the direct sums need: "full", "diagonal" (v^ab_n) or
    "trace" (sums of v^ab_n weighted per (mu, T) point; `backend.EngineGeometry`).
    The other options are those of `qgtransport.compute.compute`.
    """
    refinement = validate_engine(scan, backend, executor, workers, scheduler, refine)
    tune_allocator()
    requested = scan
    if scan == "auto":
        scan = auto_scan(request.quantities, request.settings, request.mu, request.T, bin_width,
                         len(request.omega), model.dim)
    grid = None  # binned: [(point indices, EnergyGrid)] per temperature group (`qgtransport.engine.groups`)
    if scan == "binned":
        check_binned(request.quantities, request.settings)  # the quantities first, then the bins
        grid = group_grids(request.mu, request.T, bin_width)
        check_binned(request.quantities, request.settings, [group for _, group in grid], len(request.omega), model.dim)
        bases = [BinnedScan(group_request(request, points), group, backend) for points, group in grid]
        base = bases[0] if len(bases) == 1 else GroupedScan(bases)
        order = max(order, base.order)
    else:
        base = DirectSums(direct_sums, curvature)
    # the chunk function works in batches (cache-sized, `default_batch`; for the direct scan at most
    # chunk_size, the k-points whose (k, n^power, p) kernels fit max_elements), which bound its memory;
    # chunks of whole batches, large enough that per-chunk costs vanish
    compiled_sums = scan == "direct" and curvature != "full" and len(request.mu) <= KERNEL_MAX_POINTS
    batch = max(1, min(default_batch(model, compiled_sums), chunk_size)) if scan == "direct" else default_batch(model)
    points = request.max_elements // (model.norb**2 * model.dim)
    if grid is not None:  # each chunk makes histograms of MOMENTS (count + 2) rows: at least as many band values
        rows = max(MOMENTS * (group.count + 2) for _, group in grid)  # per group (each keeps its band values)
        points = base.chunk_points(model.norb, max(points, rows // model.norb))
    chunk_size = batch * max(1, int(np.clip(points, 64, 1 << 16)) // batch)
    scale = model.spin_degeneracy / model.cell_volume
    attrs = {"scan": scan, "scan_requested": requested, "backend": backend}
    if grid is not None:
        attrs.update(energy_bin_width=min(group.width for _, group in grid),
                     energy_bins=sum(group.count for _, group in grid), temperature_groups=len(grid),
                     error_estimate="|I(nk) - I(nk/2)| + binning-error bound (qgtransport.engine.spectral)")
    if executor == "auto" and scheduler is not None:
        executor = "dask"
    coarse = coarse_shape(shape) if error_estimate else None
    kpoints = int(np.prod(shape)) + (int(np.prod(coarse)) if coarse else 0)
    probe = None
    if executor == "auto" and (refinement is None or refinement.levels == 0):
        def probe():  # one batch of the grid, for "auto" to measure the cost of the run
            points = min(batch, int(np.prod(shape)))
            GridChunks(model, base, order, backend, batch, positions=request.positions)(
                grid_points(shape, shift, 0, points))
            return points
    lock = None
    if checkpoint is not None:  # one run at a time on the directory, for all of its grids
        Path(checkpoint).mkdir(parents=True, exist_ok=True)
        lock = DirectoryLock(checkpoint).acquire()
    try:
        runner, owned = open_executor(executor, workers, scheduler, kpoints, model.norb, probe)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    attrs["executor"] = f"processes ({runner.workers} workers)" if runner.kind == "processes" else runner.kind
    try:
        def run(grid_shape, function, show, label=None):
            identity = (scan, model, request, grid, backend, refinement, getattr(function, "threshold", None), label)
            points = None
            if symmetry is not None:
                identity = (*identity, symmetry)
                points = symmetry.irreducible(grid_shape, shift)
                if label is None and tuple(grid_shape) == tuple(shape):
                    attrs["symmetry_irreducible_kpoints"] = points.total
            sums = integrate(function, grid_shape, shift, chunk_size, show, executor=runner, checkpoint=checkpoint,
                             task_size=task_size, fingerprint=identity, label=label, points=points)
            return {name: value * (1.0 if name.endswith(":cells") else scale / int(np.prod(grid_shape)))
                    for name, value in sums.items()}

        if refinement is not None and refinement.levels > 0:
            threshold = refinement.threshold
            if threshold is None:
                sample = coarse or shape
                histogram = run(sample, IndicatorHistogram(model, request, backend), False,
                                "indicator")["log10_indicator"]
                threshold = quantile_threshold(histogram * np.prod(sample) / scale, refinement.fraction)

            def chunks(grid_shape):
                return RefinedChunks(model, base, order, grid_shape, refinement, threshold, request, backend, batch,
                                     symmetry=symmetry)
            attrs.update(refinement_levels=refinement.levels, refinement_subdivision=refinement.subdivision,
                         refinement_threshold=threshold, error_estimate=ERROR_ESTIMATE)
        else:
            def chunks(grid_shape):
                return GridChunks(model, base, order, backend, batch, positions=request.positions)

        raw = run(shape, chunks(shape), progress)
        coarse_raw = run(coarse, chunks(coarse), False) if coarse is not None else None
    finally:
        if owned:
            runner.close()
        if lock is not None:
            lock.release()

    changes = {}
    if refinement is not None and refinement.levels > 0:
        raw, uniform, cells = split_levels(raw, refinement.levels)
        attrs["refined_cells"] = cells
        if coarse_raw is not None:
            coarse_raw, _, _ = split_levels(coarse_raw, refinement.levels)
    else:
        uniform = None
    values, errors = finish(raw, request, grid, symmetry)
    if uniform is not None:
        uniform_values, _ = finish(uniform, request, grid, symmetry)
        changes = {q: values[q] - uniform_values[q] for q in request.quantities}
    if coarse_raw is not None:
        coarse_values, _ = finish(coarse_raw, request, grid, symmetry)
        for q in request.quantities:
            two_grid = (refined_error(values[q], coarse_values[q], changes[q]) if changes
                        else np.abs(values[q] - coarse_values[q]))
            errors[q] = errors.get(q, 0.0) + two_grid
    return EngineResult(values, errors, changes, attrs)


def finish(sums: dict, request, grid, symmetry=None) -> tuple[dict, dict]:
    """(values, binning-error bounds) from integrated sums (binned: histograms evaluated); with a
    symmetry, the values symmetrised and the bounds carried through |D(g)|."""
    if grid is None:
        values, bounds = {q: sums[q] for q in request.quantities}, {}
    else:
        values, bounds = (evaluate(sums, request, grid[0][1]) if len(grid) == 1
                          else evaluate_groups(sums, request, grid, evaluate))
    if symmetry is not None:
        values = symmetry.symmetrise(values)
        bounds = symmetry.symmetrise(bounds, absolute=True)
    return values, bounds
