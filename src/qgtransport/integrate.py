"""Uniform k-grids over the Brillouin zone, processed in chunks of bounded size, and the reduction.

A grid of nk_1 x ... x nk_d points k = (i + shift)/nk in reduced coordinates (fractions of the
reciprocal vectors). The integral int_k F = int d^dk/(2 pi)^d F over the Brillouin zone is
(1/V_cell) times the mean of F over the grid. The integrator knows no physics: it hands chunks of
k-points to a pure function and adds the returned arrays in a fixed order.

Error estimate: the caller integrates a second grid of nk/2 points per direction (same shift; it
costs 1/2^d of the first) and reports |I(nk) - I(nk/2)|. (The even sub-grid of the nk grid is not
used: with shift 1/2, k -> -k maps odd onto even points, so for inversion-even integrands the
sub-grid sum equals the full sum and the estimate would be falsely zero.)
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np


def grid_shape(nk, dim: int) -> tuple[int, ...]:
    """nk as a tuple of dim positive ints (an int means the same in every direction)."""
    shape = (int(nk),) * dim if np.isscalar(nk) else tuple(int(n) for n in nk)
    if len(shape) != dim or any(n < 1 for n in shape):
        raise ValueError(f"nk must be a positive int or {dim} positive ints, got {nk!r}")
    return shape


def grid_chunks(shape: tuple[int, ...], shift=0.5, chunk_size: int = 65536) -> Iterator[np.ndarray]:
    """Yield k_reduced (nchunk, d) for consecutive chunks of the grid k = (i + shift)/nk."""
    shape_arr = np.array(shape)
    shift = np.broadcast_to(np.asarray(shift, dtype=float), shape_arr.shape)
    total = int(np.prod(shape_arr))
    for start in range(0, total, chunk_size):
        index = np.stack(np.unravel_index(np.arange(start, min(start + chunk_size, total)), shape), axis=-1)
        yield (index + shift) / shape_arr


def integrate(chunk_function: Callable, shape: tuple[int, ...], shift=0.5, chunk_size: int = 65536,
              progress: bool = False) -> dict:
    """Sum chunk_function(k_reduced) -> {name: array} over the grid, in chunk order.

    Returns {name: array} of plain sums; the caller normalises.
    """
    total = int(np.prod(shape))
    chunks = grid_chunks(shape, shift, chunk_size)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="k", unit_scale=True, desc="k-points")
    sums: dict = {}
    for k_reduced in chunks:
        for name, value in chunk_function(k_reduced).items():
            sums[name] = value if name not in sums else sums[name] + value
        if bar is not None:
            bar.update(len(k_reduced))
    if bar is not None:
        bar.close()
    return sums


def coarse_shape(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The grid of nk/2 per direction used for the error estimate, or None if some nk < 4."""
    return None if min(shape) < 4 else tuple(n // 2 for n in shape)
