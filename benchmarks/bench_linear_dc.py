"""The linear DC set on bcc Fe against the eigh floor, and the cost of a 101 mu x 3 T scan (issue 14).

    python benchmarks/bench_linear_dc.py                   # nk = 20, 3 repeats (about 1-2 minutes)
    python benchmarks/bench_linear_dc.py --nk 32 --repeat 5
    python benchmarks/bench_linear_dc.py --nk 32 --rows eigh,full --rounds 8   # paired ratios over 8 rounds
    python benchmarks/bench_linear_dc.py --before /work/main/src   # adds the columns of another checkout
    python benchmarks/bench_linear_dc.py --profile         # cProfile of the full set at one point
    python benchmarks/bench_linear_dc.py --profile scan    # cProfile of the 303-point scan

Rows (bcc Fe with SOC, 18 bands, tests/data/wannier90/fe/Fe_hr.dat, nk^3 grid, shift 1/2, one core,
one BLAS thread, executor="serial", error_estimate=False, tau = 10 fs):
- eigh floor: numpy.linalg.eigh alone on the H(k) of the same grid (batches of 2048);
- AHC only: compute(model, "anomalous_hall", mu=E_F, T=300 K);
- full set, 1 point: compute(model, tau=10 fs, mu=E_F, T=300 K): every linear DC response;
- full set, 303 points: the same on 101 mu (E_F +- 0.5 eV) x 3 T (100, 300, 1000 K), default scan;
- full set, 303 points, direct: the same with scan="direct" (the default before issue 14);
- full set, wide T: 101 mu x (10, 100, 1000 K), default scan (temperature groups, engine/groups.py).

Every row runs in a fresh process (pinned to one core), times the minimum of --repeat calls after one
warm-up call on a 4^3 grid (rows slower than 20 s are timed fewer times), and reports the process's
peak resident memory (ru_maxrss, which includes the interpreter and numpy, about 60-80 MiB).
Timings on a shared machine are noisy (5-10% between runs minutes apart): --rounds N runs every row
N times in turn (round 1: every row of every tree, then round 2, ...), and each ratio is taken within a
round, against that round's floor, then reported as the median and range over the rounds; the table
gives each row's median time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FE_HR = ROOT / "tests" / "data" / "wannier90" / "fe" / "Fe_hr.dat"
E_FERMI = 17.6255  # eV (tests/data/wannier90/fe, scf run)
TAU_FS = 10.0
ROWS = {
    "eigh": "eigh floor",
    "ahc": "AHC only, 1 point",
    "full": "full linear DC set, 1 point",
    "scan": "full set, 101 mu x 3 T (default scan)",
    "scan_direct": 'full set, 101 mu x 3 T, scan="direct"',
    "scan_wide": "full set, 101 mu x (10, 100, 1000 K) (default scan)",
}
SCAN_MU = (E_FERMI - 0.5, E_FERMI + 0.5, 101)
SCAN_T = (100.0, 300.0, 1000.0)
WIDE_T = (10.0, 100.0, 1000.0)  # one energy grid: 290,000 bins; temperature groups: 69,000
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def fe_model():
    from qgtransport.models.wannier90 import read_hr

    return read_hr(str(FE_HR))


def case_call(case: str, model, nk: int):
    """A zero-argument callable running one row's computation on the nk^3 grid."""
    import numpy as np

    from qgtransport import compute

    common = dict(nk=nk, error_estimate=False, executor="serial")
    if case == "eigh":
        from qgtransport.engine.backend import FastBands
        from qgtransport.engine.integrate import grid_points

        bands, total = FastBands(model), nk**3
        batches = [bands.hamiltonian(model.to_cartesian(grid_points((nk,) * 3, 0.5, s, min(s + 2048, total))), 0)[0]
                   for s in range(0, total, 2048)]
        return lambda: [np.linalg.eigh(H) for H in batches]
    if case == "ahc":
        return lambda: compute(model, "anomalous_hall", mu=E_FERMI, T=300.0, **common)
    if case == "full":
        return lambda: compute(model, tau=TAU_FS, mu=E_FERMI, T=300.0, **common)
    mu = np.linspace(*SCAN_MU)
    if case == "scan":
        return lambda: compute(model, tau=TAU_FS, mu=mu, T=list(SCAN_T), **common)
    if case == "scan_direct":
        return lambda: compute(model, tau=TAU_FS, mu=mu, T=list(SCAN_T), scan="direct", **common)
    if case == "scan_wide":
        return lambda: compute(model, tau=TAU_FS, mu=mu, T=list(WIDE_T), **common)
    raise ValueError(f"unknown case {case!r}")


def run_case(case: str, nk: int, repeat: int) -> dict:
    """In the child process: {seconds: min over repeats, peak_mib, scan: the dataset's scan attribute}."""
    import resource

    from threadpoolctl import threadpool_limits

    model = fe_model()
    with threadpool_limits(1):
        case_call(case, model, 4)()  # warm-up: imports, tables, allocator
        call = case_call(case, model, nk)
        times, result = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
            if sum(times) > 20:  # a slow row (the direct scan) is timed once or twice
                break
    scan = getattr(result, "attrs", {}).get("scan", "-")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": min(times), "peak_mib": peak, "scan": scan}


def child(case: str, nk: int, repeat: int, src: Path) -> dict:
    """Run one row in a fresh process on one core, with `src` first on the path."""
    env = dict(os.environ, PYTHONPATH=str(src), **{name: "1" for name in THREAD_VARIABLES})
    code = ("import json, os, sys; sys.path.insert(0, sys.argv[1]); "
            "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); import bench_linear_dc as b; "
            "print(json.dumps(b.run_case(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks"), case, str(nk), str(repeat)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(nk: int, case: str = "full") -> None:
    """cProfile of one row (default: the full set at one point), top functions by internal time."""
    import cProfile
    import pstats

    from threadpoolctl import threadpool_limits

    model = fe_model()
    with threadpool_limits(1):
        case_call(case, model, 4)()
        call = case_call(case, model, nk)
        profiler = cProfile.Profile()
        profiler.runcall(call)
    print(f"\n## cProfile, {ROWS[case]}, nk = {nk} ({nk**3} k-points)\n")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nk", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", default="eigh,ahc,full,scan,scan_direct", help=f"subset of {','.join(ROWS)}")
    parser.add_argument("--before", type=Path, help="src folder of another checkout (e.g. main) for before columns")
    parser.add_argument("--rounds", type=int, default=1, help="run the rows this many times in turn; ratios per round")
    parser.add_argument("--profile", nargs="?", const="full", choices=list(ROWS),
                        help="only the cProfile of one row (default: full)")
    args = parser.parse_args()
    if args.profile:
        profile(args.nk, args.profile)
        return
    rows = args.rows.split(",")
    trees = [("after", ROOT / "src")] + ([("before", args.before)] if args.before else [])
    rounds = [{label: {case: child(case, args.nk, args.repeat, src) for case in rows} for label, src in trees}
              for _ in range(max(1, args.rounds))]
    load = os.getloadavg()[0]
    print(f"\n## Linear DC set on bcc Fe, nk = {args.nk} ({args.nk**3} k-points), one core, one BLAS thread, "
          f"{len(rounds)} round(s); load average {load:.2f} at the end\n")
    header = "| row | " + " | ".join(f"{label} (s) | {label} / floor | {label} peak (MiB)" for label, _ in trees)
    print(header + " |")
    print("|---" * (1 + 3 * len(trees)) + "|")
    # the floor is numpy.linalg.eigh in every tree: the least of a round's timings serves all its columns
    # (noise only makes a timing longer)
    floors = [min(r[label]["eigh"]["seconds"] for label, _ in trees) for r in rounds] if "eigh" in rows else None

    def seconds(label, case):
        return [r[label][case]["seconds"] for r in rounds]

    def ratios(label, case, other):
        """The per-round ratios of a row to another row (a list of times) or to the floor."""
        below = other if isinstance(other, list) else seconds(label, other)
        return [a / b for a, b in zip(seconds(label, case), below, strict=True)]

    def summary(values) -> str:
        text = f"{statistics.median(values):.2f}"
        if len(values) == 1:
            return text
        return f"{text} (median of {len(values)} rounds, {min(values):.2f}-{max(values):.2f})"

    for case in rows:
        cells = [ROWS[case] + (f" [{rounds[0]['after'][case]['scan']}]" if case.startswith("scan") else "")]
        for label, _ in trees:
            ratio = f"{statistics.median(ratios(label, case, floors)):.2f}" if floors else "-"
            peak = max(r[label][case]["peak_mib"] for r in rounds)
            cells += [f"{statistics.median(seconds(label, case)):.3f}", ratio, f"{peak:.0f}"]
        print("| " + " | ".join(cells) + " |")
    print()
    for label, _ in trees:
        if "full" in rows and "ahc" in rows:
            print(f"{label}: full set / AHC only = {summary(ratios(label, 'full', 'ahc'))} (target <= 1.5)")
        if "full" in rows and floors:
            print(f"{label}: full set / eigh floor = {summary(ratios(label, 'full', floors))} (target <= 2.0)")
        if "full" in rows and "scan" in rows:
            print(f"{label}: 303-point scan / 1 point = {summary(ratios(label, 'scan', 'full'))} (target <= 1.5)")
        if "full" in rows and "scan_wide" in rows:
            print(f"{label}: 303-point scan over 10-1000 K / 1 point = {summary(ratios(label, 'scan_wide', 'full'))}")
        if "scan" in rows and "scan_direct" in rows:
            print(f"{label}: direct scan / default scan = {summary(ratios(label, 'scan_direct', 'scan'))}")


if __name__ == "__main__":
    main()
