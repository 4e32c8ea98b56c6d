"""Benchmark of the exact steady-state solver (qgtransport.exact): time and peak memory.

Prints one table row per case: model, grid, bands, setup time (H(k), eigh, lines), DC solve time
(Galerkin block elimination + observables), peak traced memory (tracemalloc, numpy buffers
included) and the process's peak resident set size.

    PYTHONPATH=src python3 benchmarks/bench_exact.py            # 2D 200^2, 800^2; 3D 4-band 40^3
    PYTHONPATH=src python3 benchmarks/bench_exact.py --quick    # smaller grids (smoke test)

The 3D 4-band model is two copies of the 'weyl' model with different node positions (k0 = pi/3,
pi/2) and masses, coupled by a constant hybridisation 0.2 sx (x) s0 (so the four bands mix).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from qgtransport import builtin_model
from qgtransport.exact import line_system, solve_dc
from qgtransport.models.tightbinding import TightBinding


def doubled_weyl(coupling: float = 0.2) -> TightBinding:
    """A 3D 4-band model: weyl(k0 = pi/3) (+) weyl(k0 = pi/2, m = 1.8) plus coupling sx (x) s0."""
    first = builtin_model("weyl")
    second = builtin_model("weyl", m=1.8, k0=np.pi / 2)
    terms: dict = {}
    for block, model in enumerate((first, second)):
        for R, H in zip(map(tuple, model.R), model.H_R, strict=True):
            matrix = terms.setdefault(R, np.zeros((4, 4), dtype=complex))
            matrix[2 * block:2 * block + 2, 2 * block:2 * block + 2] += H
    terms[(0, 0, 0)][:2, 2:] += coupling * np.eye(2)
    terms[(0, 0, 0)][2:, :2] += coupling * np.eye(2)
    return TightBinding(
        lattice=np.eye(3), positions=np.zeros((4, 3)), R=np.array(list(terms)),
        H_R=np.array(list(terms.values())), name="doubled_weyl", parameters={"coupling": coupling},
    )


def measure(model, nk, mu, T, tau, E) -> dict:
    """Set up the lines along b_1 and solve the DC steady state once; time and memory."""
    direction = (1,) + (0,) * (model.dim - 1)
    tracemalloc.start()
    start = time.perf_counter()
    system = line_system(model, direction, mu, T, tau, nk)
    setup = time.perf_counter() - start
    start = time.perf_counter()
    state = solve_dc(system, E)
    solve = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "model": model.name, "grid": "x".join(str(n) for n in system.grid.nk), "bands": model.norb,
        "points": system.grid.lines * system.grid.points, "setup_s": setup, "solve_s": solve,
        "peak_MiB": peak / 2**20, "rss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "Pi": state.observables.entropy_production, "JE/T": state.observables.entropy_production_joule,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids (smoke test)")
    args = parser.parse_args()
    qwz = builtin_model("qwz", m=-1.0)
    # (model, nk, mu, T): T = 0.5 for the 3D model, whose bandwidth (~8) would leave the direct Pi
    # under-resolved on 40 points per line at T = 0.2 (see the module docstring of exact_orders)
    cases = [(qwz, 50 if args.quick else 200, 0.0, 0.2), (qwz, 100 if args.quick else 800, 0.0, 0.2),
             (doubled_weyl(), 16 if args.quick else 40, 0.05, 0.5)]
    header = f"{'model':>13} {'grid':>9} {'bands':>5} {'k-points':>9} {'setup s':>8} {'solve s':>8} " \
             f"{'peak MiB':>9} {'RSS MiB':>8} {'T':>4} {'Pi':>12} {'J.E/T':>12}"
    print(header)
    print("-" * len(header))
    for model, nk, mu, T in cases:
        r = measure(model, nk, mu=mu, T=T, tau=10.0, E=0.01)
        print(f"{r['model']:>13} {r['grid']:>9} {r['bands']:>5} {r['points']:>9} {r['setup_s']:8.2f} "
              f"{r['solve_s']:8.2f} {r['peak_MiB']:9.1f} {r['rss_MiB']:8.0f} {T:4.1f} {r['Pi']:12.6e} "
              f"{r['JE/T']:12.6e}")
    print("E = 0.01 along b_1, tau = 10 (natural units); Pi of Eq. 9 evaluated directly and J.E/T")
    print("(equal in a steady state); RSS is the process maximum so far.")


if __name__ == "__main__":
    main()
