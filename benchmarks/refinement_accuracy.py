"""Accuracy of adaptive refinement and of its reported error (compute(..., refine=...)).

For built-in Chern insulators and metals (qwz, haldane) at several mu and T, the xy components of
anomalous_hall and anomalous_nernst of refined grids nk are compared with a converged reference (the
uniform grid of `--reference` points per direction; its own change from half that grid is printed
and must be far below the errors studied). Per run (model, mu, T, quantity, nk, refinement):

    actual    = |I_refined(nk) - I_ref|
    old       = |R(nk) - R(nk/2)|                         (the earlier estimate; R refined, same threshold)
    reported  = <name>_error of the dataset              (the current estimate, refine.refined_error)
    same cost = |I_uniform(n') - I_ref|, n'^2 = nk^2 + refined points (the uniform grid of the same cost)

The table gives, per group (gapped: mu in the gap, metallic: mu in a band), the coverage of each
estimate (share of runs with estimate >= actual), the median ratio estimate / actual, and in how many
runs the refined result was worse than the uniform grid of the same cost and than the uniform grid
nk it started from. Runs whose actual error is below 1e-13 (absolute; the values are O(0.01 - 0.1),
anomalous_nernst vanishes in a gap) are rounding: left out of all columns (the count is printed).

    PYTHONPATH=src python3 benchmarks/refinement_accuracy.py            # half a minute: kappa = 0 and 1
    PYTHONPATH=src python3 benchmarks/refinement_accuracy.py --details  # one line per run
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qgtransport import builtin_model, compute
from qgtransport.engine.refine import Refinement

XY = (0, 1)
QUANTITIES = ["anomalous_hall", "anomalous_nernst"]
# (name, parameters, gapped mu, metallic mu)
MODELS = [
    ("qwz", dict(m=-1.9), 0.0, 0.4),
    ("qwz", dict(m=-1.5), 0.0, 0.8),
    ("qwz", dict(m=-1.0), 0.0, 1.5),
    ("qwz", dict(m=1.8), 0.0, -0.5),
    ("haldane", dict(M=0.2, t2=0.1), 0.0, 0.8),
    ("haldane", dict(M=0.5, t2=0.15), 0.0, 1.2),
]
TEMPERATURES = [0.02, 0.06]
GRIDS = [16, 32, 64]
ROUNDING = 1e-13
REFINEMENTS = [dict(), dict(levels=2, subdivision=3, fraction=0.02)]


def xy(ds, name):
    return ds[name].values[..., XY[0], XY[1]]  # (mu, T)


def runs_of_model(name, parameters, mus, reference_nk, resolution):
    """One record per (mu, T, quantity, nk, refinement)."""
    model = builtin_model(name, **parameters)
    common = dict(mu=mus, T=TEMPERATURES, units="natural")
    reference = compute(model, QUANTITIES, nk=reference_nk, **common)
    records = []
    for nk in GRIDS:
        for options in REFINEMENTS:
            refinement = Refinement(**options, resolution=resolution)
            refined = compute(model, QUANTITIES, nk=nk, refine=refinement, **common)
            threshold = refined.attrs["refinement_threshold"]
            fixed = Refinement(refinement.levels, refinement.subdivision, threshold=threshold, resolution=resolution)
            half = compute(model, QUANTITIES, nk=nk // 2, refine=fixed, error_estimate=False, **common)
            points = nk**2 + sum(refined.attrs["refined_cells"]) * refinement.subdivision**2
            same = int(round(np.sqrt(points)))
            same_cost = compute(model, QUANTITIES, nk=same, error_estimate=False, **common)
            for q in QUANTITIES:
                ref, ref_change = xy(reference, q), xy(reference, q + "_error")
                value, reported = xy(refined, q), xy(refined, q + "_error")
                uniform = value - xy(refined, q + "_refinement")
                for i, mu in enumerate(mus):
                    for j, T in enumerate(TEMPERATURES):
                        records.append(dict(
                            model=f"{name}{tuple(parameters.values())}", mu=mu, T=T, q=q, nk=nk,
                            levels=refinement.levels, gapped=i == 0,
                            actual=abs(value[i, j] - ref[i, j]), reported=reported[i, j],
                            old=abs(value[i, j] - xy(half, q)[i, j]),
                            uniform=abs(uniform[i, j] - ref[i, j]),
                            same_cost=abs(xy(same_cost, q)[i, j] - ref[i, j]),
                            reference_change=ref_change[i, j], cells=sum(refined.attrs["refined_cells"])))
    return records


def summary(records, label):
    records = [r for r in records if r["actual"] > ROUNDING]
    actual = np.array([r["actual"] for r in records])
    row = [label, f"{len(records):5d}"]
    for key in ("old", "reported"):
        estimate = np.array([r[key] for r in records])
        row += [f"{100 * np.mean(estimate >= actual):6.1f} %", f"{np.median(estimate / actual):8.2g}"]
    worse = sum(r["actual"] > r["same_cost"] for r in records)
    worse_uniform = sum(r["actual"] > r["uniform"] for r in records)
    refined = sum(r["cells"] > 0 for r in records)
    better = sum(r["actual"] < r["uniform"] / 2 for r in records)
    row += [f"{worse:6d}", f"{worse_uniform:6d}", f"{refined:6d}", f"{better:6d}"]
    return "  ".join(row)


def report(records, reference, resolution, details):
    worst_reference = max(r["reference_change"] / r["actual"] for r in records if r["actual"] > ROUNDING)
    if details:
        print(f"{'model':22s} {'mu':>5s} {'T':>5s} {'quantity':17s} {'nk':>3s} L  {'actual':>9s} {'old':>9s} "
              f"{'reported':>9s} {'uniform':>9s} {'same cost':>9s}")
        for r in records:
            print(f"{r['model']:22s} {r['mu']:5.2f} {r['T']:5.2f} {r['q']:17s} {r['nk']:3d} {r['levels']}  "
                  f"{r['actual']:9.2e} {r['old']:9.2e} {r['reported']:9.2e} {r['uniform']:9.2e} {r['same_cost']:9.2e}")
    rounding = sum(r["actual"] <= ROUNDING for r in records)
    print(f"\nresolution kappa = {resolution}; reference: uniform {reference}^2 (largest |I_ref(n) - I_ref(n/2)| / "
          f"actual error = {worst_reference:.2g}); {len(records)} runs, {rounding} at rounding level left out")
    print("old = |R(nk) - R(nk/2)|, new = the reported <name>_error; worse than the uniform grid of the same cost, "
          "of nk; runs with refined cells; runs 2x better than the uniform nk")
    print("group        runs  old: cover  median   new: cover  median   worse: cost      nk  refined  better")
    for label, select in [("gapped", lambda r: r["gapped"]), ("metallic", lambda r: not r["gapped"]),
                          ("all", lambda r: True)]:
        print(summary([r for r in records if select(r)], f"{label:10s}"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=int, default=1024, help="uniform reference grid (default 1024)")
    parser.add_argument("--resolution", type=float, nargs="+", default=[0.0, 1.0],
                        help="the refinement's resolution kappa, one table each (default 0 1)")
    parser.add_argument("--details", action="store_true", help="print one line per run")
    args = parser.parse_args()
    start = time.perf_counter()
    for resolution in args.resolution:
        records = []
        for name, parameters, gapped_mu, metal_mu in MODELS:
            records += runs_of_model(name, parameters, [gapped_mu, metal_mu], args.reference, resolution)
        report(records, args.reference, resolution, args.details)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
