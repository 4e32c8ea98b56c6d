"""The k-space engine behind `qgtransport.compute`: knows grids, chunks and sums, no physics.

    plan        one request on a grid: which chunk function, which scan, the error grid (`integrate_request`)
    integrate   uniform grids in chunks and tasks, the fixed-order reduction, checkpoints of tasks
    backend     H(k), eigh and dH/dk for a chunk of k (numpy or CuPy)
    spectral    scan="binned": energy histograms of band quantities, then every (mu, T) by quadrature
    refine      adaptive refinement around hot spots of Berry curvature and quantum metric
    executors   where the tasks run: this process, worker processes or Dask
    checkpoint  finished tasks on disk, written atomically, each verified before it is resumed; the lock

Uses `qgtransport.bands` and `qgtransport.models`, and calls the responses only through the chunk
function that `compute` hands it.
"""

from qgtransport.engine.plan import DirectSums, EngineResult, integrate_request, validate_engine

__all__ = ["DirectSums", "EngineResult", "integrate_request", "validate_engine"]
