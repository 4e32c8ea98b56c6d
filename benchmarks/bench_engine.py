"""Benchmarks of the k-space engine; each section prints a table.

    python benchmarks/bench_engine.py                      # every section, default sizes
    python benchmarks/bench_engine.py --sections floor,scan
    python benchmarks/bench_engine.py --sections memory --big    # adds the 10^7 k-point run (minutes)

Sections
- floor:  anomalous Hall + Nernst (AHC + ANE) per k-point against the floor of numpy.linalg.eigh
          alone on the same batch of H(k), for 2-, 18- and 64-band 3D models, one core.
- scan:   cost of a 1 x 1 against a 100 mu x 10 T (1000-point) scan, direct and binned.
- memory: peak resident memory of a whole run (fresh process) against the number of k-points.
- dask:   1 against 2 Dask workers (LocalCluster, started before timing).
- gpu:    backend "cupy" against "numpy", where CuPy and a CUDA device are present.

Timings are medians of --repeat runs in this process (time.perf_counter), one BLAS thread
(threadpoolctl) unless the section says otherwise. The 2-band model is the built-in 'weyl' model,
the 18-band one bcc Fe (../shared/data/fe, Wannier90), the 64-band one a seeded random Hermitian
model with hoppings to the 26 nearest cells.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FE_HR = ROOT.parent / "shared" / "data" / "fe" / "Fe_hr.dat"
E_FERMI = 17.6255
QUANTITIES = ["anomalous_hall", "anomalous_nernst"]


def fe_model():
    from qgtransport.models.wannier90 import read_hr

    return read_hr(str(FE_HR))


def random_model(norb: int = 64, seed: int = 7):
    """A 3D model with norb orbitals at random positions and hoppings to the 26 nearest cells."""
    from qgtransport.models.tightbinding import TightBinding

    rng = np.random.default_rng(seed)
    terms = {}
    for R in np.ndindex(3, 3, 3):
        R = tuple(int(x) - 1 for x in R)
        if R in terms:
            continue
        scale = 1.0 if R == (0, 0, 0) else 0.3 / np.linalg.norm(R)
        M = scale * (rng.normal(size=(norb, norb)) + 1j * rng.normal(size=(norb, norb)))
        if R == (0, 0, 0):
            terms[R] = (M + M.conj().T) / 2
        else:
            terms[R] = M
            terms[tuple(-x for x in R)] = M.conj().T
    return TightBinding(lattice=np.eye(3) * 3.0, positions=rng.uniform(0, 1, size=(norb, 3)), R=np.array(list(terms)),
                        H_R=np.array(list(terms.values())), name=f"random{norb}")


def median_time(function, repeat: int, *args, **kwargs) -> float:
    """Median wall time of function(*args, **kwargs) over `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def eigh_floor(model, nk: int, repeat: int) -> float:
    """Seconds of numpy.linalg.eigh alone on the H(k) of the grid nk^3 (in batches of 2048)."""
    from qgtransport.engine.backend import FastBands
    from qgtransport.engine.integrate import grid_points

    bands = FastBands(model)
    total = nk**3
    batches = [bands.hamiltonian(model.to_cartesian(grid_points((nk,) * 3, 0.5, s, min(s + 2048, total))), 0)[0]
               for s in range(0, total, 2048)]
    return median_time(lambda: [np.linalg.eigh(H) for H in batches], repeat)  # noqa: B023


def section_floor(args):
    from qgtransport import builtin_model, compute

    cases = [("weyl (2 bands)", builtin_model("weyl"), 0.0, 48), ("bcc Fe (18 bands)", fe_model(), E_FERMI, 32),
             ("random (64 bands)", random_model(64), 0.0, 10)]
    print("\n## AHC + ANE against the eigh floor (one core)\n")
    print("| model | k-points | eigh alone (k/s) | direct (k/s) | direct / floor | binned (k/s) | binned / floor |")
    print("|---|---|---|---|---|---|---|")
    for name, model, mu, nk in cases:
        if args.quick:
            nk = max(4, nk // 2)
        points = nk**3
        floor = eigh_floor(model, nk, args.repeat)
        row = [name, str(points), f"{points / floor:.0f}"]
        for scan in ("direct", "binned"):
            seconds = median_time(compute, args.repeat, model, QUANTITIES, mu=mu, T=300.0, nk=nk,
                                  error_estimate=False, scan=scan)
            row += [f"{points / seconds:.0f}", f"{seconds / floor:.2f}"]
        print("| " + " | ".join(row) + " |")


def section_scan(args):
    from qgtransport import compute

    model = fe_model()
    mu = np.linspace(E_FERMI - 0.5, E_FERMI + 0.5, 100)
    T = np.linspace(100.0, 1000.0, 10)
    print("\n## 1 x 1 against a 100 mu x 10 T scan (bcc Fe, AHC + ANE, one core)\n")
    print("| scan | k-points | 1 point (s) | 1000 points (s) | 1000 / 1 |")
    print("|---|---|---|---|---|")
    for scan, nk in (("direct", 8 if args.quick else 12), ("binned", 16 if args.quick else 32)):
        one = median_time(compute, args.repeat, model, QUANTITIES, mu=E_FERMI, T=300.0, nk=nk, error_estimate=False,
                          scan=scan)
        many = median_time(compute, 1 if scan == "direct" else args.repeat, model, QUANTITIES, mu=mu, T=T, nk=nk,
                           error_estimate=False, scan=scan)
        print(f"| {scan} | {nk**3} | {one:.2f} | {many:.2f} | {many / one:.2f} |")


MEMORY_SCRIPT = textwrap.dedent("""
    import json, sys, threading, time
    from qgtransport import compute
    from qgtransport.models.wannier90 import read_hr

    def high_water_mib(pid="self"):
        # VmHWM: peak resident memory of this process image (getrusage's ru_maxrss would carry the
        # parent's peak over the exec)
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def watch_children(peaks, stop):
        import psutil
        me = psutil.Process()
        while not stop.is_set():
            for child in me.children(recursive=True):
                try:
                    peaks[child.pid] = max(peaks.get(child.pid, 0.0), high_water_mib(child.pid))
                except (OSError, ValueError):
                    pass
            time.sleep(0.5)

    if __name__ == "__main__":
        nk, workers, fe = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        model = read_hr(fe)
        peaks, stop = {}, threading.Event()
        watcher = threading.Thread(target=watch_children, args=(peaks, stop), daemon=True)
        watcher.start()
        start = time.perf_counter()
        ds = compute(model, ["anomalous_hall", "anomalous_nernst"], mu=17.6255, T=300.0, nk=nk, error_estimate=False,
                     scan="binned", executor="serial" if workers == 1 else "processes", workers=workers)
        seconds = time.perf_counter() - start
        stop.set()
        watcher.join()
        print("RESULT " + json.dumps({"seconds": seconds, "rss_mib": high_water_mib(),
                                     "worker_rss_mib": max(peaks.values(), default=0.0),
                                     "sigma_xy": float(ds.anomalous_hall.values[0, 0, 0, 1])}))
""")


def run_memory(nk: int, workers: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(nk), str(workers), str(FE_HR)],
                          capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(done.stderr[-3000:])


def section_memory(args):
    sizes = [(16, 1), (32, 1), (64, 1)] if not args.quick else [(8, 1), (16, 1)]
    if args.big:
        sizes += [(128, 2), (216, 2)]
    print("\n## Peak memory against the number of k-points (bcc Fe, AHC + ANE, binned, whole fresh process)\n")
    print("| k-points | workers | time (s) | k-points/s | peak RSS main (MiB) | peak RSS largest worker (MiB) |")
    print("|---|---|---|---|---|---|")
    for nk, workers in sizes:
        r = run_memory(nk, workers)
        worker = f"{r['worker_rss_mib']:.0f}" if workers > 1 else "-"  # VmHWM of the largest worker
        print(f"| {nk**3} ({nk}^3) | {workers} | {r['seconds']:.1f} | {nk**3 / r['seconds']:.0f} | "
              f"{r['rss_mib']:.0f} | {worker} |")


def section_dask(args):
    from qgtransport import compute
    from qgtransport.engine.executors import Executor

    try:
        import distributed  # noqa: F401
    except ImportError:
        print("\n## Dask: dask.distributed not installed (pip install 'qgtransport[dask]')")
        return
    model = fe_model()
    nk = 24 if args.quick else 48
    print(f"\n## 1 against 2 Dask workers (LocalCluster, bcc Fe {nk}^3, AHC + ANE)\n")
    print("| scan | 1 worker (s) | 2 workers (s) | speed-up |")
    print("|---|---|---|---|")
    for scan in ("binned", "direct"):
        seconds = {}
        for workers in (1, 2):
            with Executor("dask", workers=workers) as runner:
                compute(model, QUANTITIES, mu=E_FERMI, T=300.0, nk=4, executor=runner, scan=scan)  # warm up
                seconds[workers] = median_time(compute, args.repeat, model, QUANTITIES, mu=E_FERMI, T=300.0,
                                               nk=nk, executor=runner, error_estimate=False, scan=scan)
        print(f"| {scan} | {seconds[1]:.2f} | {seconds[2]:.2f} | {seconds[1] / seconds[2]:.2f} |")


def section_gpu(args):
    from qgtransport import compute
    from qgtransport.engine.backend import gpu_available

    print("\n## GPU (CuPy) against CPU (numpy, one core)\n")
    if not gpu_available():
        print("no CuPy / CUDA device here: skipped")
        return
    cases = [("bcc Fe (18 bands)", fe_model(), E_FERMI, 32 if args.quick else 64),
             ("random (64 bands)", random_model(64), 0.0, 8 if args.quick else 16)]
    print("| model | scan | k-points | numpy (k/s) | cupy (k/s) | speed-up | max relative difference |")
    print("|---|---|---|---|---|---|---|")
    for name, model, mu, nk in cases:
        for scan in ("direct", "binned"):
            common = dict(mu=mu, T=300.0, nk=nk, error_estimate=False, scan=scan)
            compute(model, QUANTITIES, backend="cupy", **dict(common, nk=4))  # warm up
            cpu = median_time(compute, 1, model, QUANTITIES, **common)
            gpu = median_time(compute, args.repeat, model, QUANTITIES, backend="cupy", **common)
            a = compute(model, QUANTITIES, **common)
            b = compute(model, QUANTITIES, backend="cupy", **common)
            diff = max(float(np.max(np.abs(a[q].values - b[q].values)) / np.max(np.abs(a[q].values)))
                       for q in QUANTITIES)
            points = nk**3
            print(f"| {name} | {scan} | {points} | {points / cpu:.0f} | {points / gpu:.0f} | {cpu / gpu:.1f} | "
                  f"{diff:.1e} |")


SECTIONS = {"floor": section_floor, "scan": section_scan, "memory": section_memory, "dask": section_dask,
            "gpu": section_gpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smaller grids (a smoke test)")
    parser.add_argument("--big", action="store_true", help="memory section: add 128^3 and 216^3 (10^7) on 2 workers")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        for name in args.sections.split(","):
            SECTIONS[name](args)


if __name__ == "__main__":
    main()
