"""Direct against binned scan for the six AC and optical responses on a 101 mu x 3 T x omega scan.

    python benchmarks/bench_binned_ac.py                  # Haldane, 64^2 k, 101 mu x 3 T x 50 omega
    python benchmarks/bench_binned_ac.py --nk 32 --omega 20

Rows: one quantity each, compute(model, q, mu, T, omega, tau, scan=...) on the Haldane model (M = 0.2,
2 bands), mu in [-1, 1] (101), T = 0.05, 0.1, 0.2, omega in [0, 3], tau = 5, Gaussian width 0.05
(natural units), executor="serial", one BLAS thread, error_estimate=False. Columns: wall time of the
direct and of the binned scan (one call each, after a warm-up call on a 4^2 grid), their ratio,
max |binned - direct| / max |direct|, and the binning-error bound's smallest ratio to the actual
difference where that difference is above 1e-14 of the value (>= 1: the bound covers it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

QUANTITIES = ("conductivity_ac", "drude_ac", "entropy_conductivity_ac", "heat_conductivity_ac",
              "optical_conductivity", "optical_entropy_conductivity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nk", type=int, default=64)
    parser.add_argument("--omega", type=int, default=50)
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from qgtransport import builtin_model, compute

    model = builtin_model("haldane", M=0.2)
    common = dict(mu=np.linspace(-1.0, 1.0, 101), T=[0.05, 0.1, 0.2], omega=np.linspace(0.0, 3.0, args.omega),
                  tau=5.0, width=0.05, units="natural", executor="serial", error_estimate=False)
    print(f"Haldane (M = 0.2), {args.nk}^2 k, 101 mu x 3 T x {args.omega} omega = {303 * args.omega} points")
    print("| quantity | direct (s) | binned (s) | speed-up | max rel. difference | bound / difference (min) |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for q in QUANTITIES:
            times, results = {}, {}
            for scan in ("direct", "binned"):
                compute(model, q, nk=4, scan=scan, **common)  # warm-up
                start = time.perf_counter()
                results[scan] = compute(model, q, nk=args.nk, scan=scan, **common)
                times[scan] = time.perf_counter() - start
            direct, binned = results["direct"][q].values, results["binned"][q].values
            difference = np.abs(binned - direct)
            scale = np.abs(direct).max()
            bound = results["binned"][q + "_error"].values
            resolved = difference > 1e-14 * scale
            ratio = np.min(bound[resolved] / difference[resolved]) if np.any(resolved) else np.inf
            print(f"| {q} | {times['direct']:.2f} | {times['binned']:.2f} | {times['direct'] / times['binned']:.1f}x "
                  f"| {difference.max() / scale:.1e} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
