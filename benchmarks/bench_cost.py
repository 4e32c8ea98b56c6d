"""Calibration of the cost estimate (qgtransport.cost): estimated against measured wall time.

Prints one row per case: model, bands, grid, scan points, quantities, the estimate of
`qgtransport.cost.estimate`, the measured time of `compute(..., executor="serial")` (the best of
`--repeat` runs) and their ratio. The constants a, b, c of qgtransport.cost were fitted to these
cases on one core of the shared 2-vCPU development machine; the ratio should stay within about 2.

    PYTHONPATH=src python3 benchmarks/bench_cost.py
    PYTHONPATH=src python3 benchmarks/bench_cost.py --repeat 3 --fe ../shared/data/fe/Fe_hr.dat
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from qgtransport import builtin_model, compute
from qgtransport.cost import estimate
from qgtransport.models import read_hr

FE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fe" / "Fe_hr.dat"  # as bench_engine.py
LINEAR = ["anomalous_hall", "drude", "entropy_production"]


def cases(fe_path: Path):
    qwz = builtin_model("qwz", m=-1.0)
    yield qwz, 128, 1, ["anomalous_hall"], 0.0
    yield qwz, 128, 1, LINEAR, 0.0
    yield qwz, 128, 100, LINEAR, 0.0
    yield builtin_model("weyl"), 24, 10, LINEAR, 0.0
    if fe_path.is_file():
        fe = read_hr(fe_path)
        yield fe, 10, 1, LINEAR, 12.6
        yield fe, 10, 20, LINEAR, 12.6
    else:
        print(f"(no {fe_path}: the 18-band Fe cases are left out; give --fe PATH)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fe", type=Path, default=FE, help="Fe_hr.dat of shared/data/fe")
    args = parser.parse_args()
    header = f"{'model':8} {'bands':>5} {'nk':>5} {'points':>6} {'quantities':>10} {'estimate s':>11} " \
             f"{'measured s':>11} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for model, nk, points, quantities, centre in cases(args.fe):
        options = dict(mu=centre + np.linspace(-1, 1, points), T=300.0, tau=10.0, nk=nk, executor="serial",
                       error_estimate=True)
        guess = estimate(model, nk, points, quantities, executor="serial").seconds
        compute(model, quantities, **{**options, "nk": 4})  # warm up
        best = np.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            compute(model, quantities, **options)
            best = min(best, time.perf_counter() - start)
        print(f"{model.name:8} {model.norb:5d} {nk:5d} {points:6d} {len(quantities):10d} {guess:11.3g} {best:11.3g} "
              f"{guess / best:6.2f}")


if __name__ == "__main__":
    main()
