"""k-points per second for the anomalous Hall + Nernst conductivities: qgtransport vs WannierBerri,
same model (bcc Fe, 18 spinor Wannier functions, ../shared/data/fe), same Gamma-centred grid
(nk^3, shift 0), same number of cores.

    python benchmarks/bench_wannierberri.py              # nk = 48 (110592 k-points), 1 and 2 cores
    python benchmarks/bench_wannierberri.py --nk 24      # quicker

WannierBerri runs in its own virtual environment (it needs Python >= 3.12): the script creates it
with pyenv's Python 3.12 and `pip install "wannierberri[default]"` if --venv does not exist yet.
The WannierBerri model is its `get_system_hr` reader with the minimal-distance replicas of the
Wannier90 run (`do_ws_dist(mp_grid=[3, 3, 3])`), which is the model qgtransport's `read_hr` builds
from Fe_hr.dat + Fe_wsvec.dat + Fe_centres.xyz; the two codes agree on sigma_xy to 1e-10 at
T -> 0 (printed below the table). WannierBerri: `calculators.static.AHC` on 1001 Fermi levels
(Fermi sea, T = 0, its usual mode; the Nernst coefficient is then a cheap post-processing of
sigma(E_F)), no symmetries (use_irred_kpt=False, symmetrize=False), internal terms only (the
tight-binding position operator, as in qgtransport), the fastest of several FFT sub-grid sizes,
Ray with num_cpus = cores. qgtransport: compute(["anomalous_hall", "anomalous_nernst"]) at
mu = E_F, T = 300 K, scan "direct" and "binned", executor "serial" (1 core) or "processes"
(2 workers). Times exclude the start of the worker pools (Ray, processes) in both codes; every run
is a fresh process with one BLAS thread per process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FE = ROOT.parent / "shared" / "data" / "fe"
E_FERMI = 17.6255
PYENV_PYTHON = Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python"
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

WB_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import wannierberri as wberri
    from wannierberri.system.system_hr import get_system_hr

    nk, cores, fft, ef, folder = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    a = 1.4349962953939324
    lattice = np.array([[a, a, a], [-a, a, a], [-a, -a, a]])
    lines = open(folder + "/Fe_centres.xyz").read().splitlines()[2:]
    centres = np.array([[float(x) for x in line.split()[1:4]] for line in lines if line.startswith("X")])
    system = get_system_hr(folder + "/Fe", wannier_centers_cart=centres, real_lattice=lattice)
    system.do_ws_dist(mp_grid=[3, 3, 3])
    if cores > 1:
        import ray
        ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
    grid = wberri.Grid(system, NKdiv=nk // fft, NKFFT=fft)
    efermi = np.linspace(ef - 0.5, ef + 0.5, 1001)
    calculators = {"ahc": wberri.calculators.static.AHC(Efermi=efermi, kwargs_formula={"external_terms": False},
                                                        degen_thresh=1e-6)}
    start = time.perf_counter()
    result = wberri.run(system, grid=grid, calculators=calculators, parallel=cores > 1, use_irred_kpt=False,
                        symmetrize=False, print_progress_step_time=1e9, print_progress_step_percent=100,
                        file_Klist_path=folder + "/_wb_tmp_" + str(cores) + "_" + str(fft))
    seconds = time.perf_counter() - start
    ahc = result.results["ahc"].data[500]  # pseudovector O: sigma_xy = O_z
    print("RESULT " + json.dumps({"seconds": seconds, "sigma_xy": float(ahc[2])}))
""")

OURS_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from qgtransport import compute
    from qgtransport.engine.executors import Executor
    from qgtransport.models.wannier90 import read_hr

    if __name__ == "__main__":
        nk, cores, scan, T = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        model = read_hr(sys.argv[5] + "/Fe_hr.dat")
        quantities = ["anomalous_hall", "anomalous_nernst"]
        common = dict(mu=float(sys.argv[6]), T=T, shift=0.0, error_estimate=False, scan=scan)
        with Executor("serial" if cores == 1 else "processes", workers=cores) as runner:
            compute(model, quantities, nk=4, executor=runner, **common)  # start the workers
            start = time.perf_counter()
            ds = compute(model, quantities, nk=nk, executor=runner, **common)
            seconds = time.perf_counter() - start
        print("RESULT " + json.dumps({"seconds": seconds, "sigma_xy": float(ds.anomalous_hall.values[0, 0, 0, 1])}))
""")


def ensure_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        base = PYENV_PYTHON if PYENV_PYTHON.exists() else Path(sys.executable)
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "wannierberri[default]"], check=True)
    return python


def result_of(command: list[str], cwd=None) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=cwd)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{command[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def prepare(folder: Path) -> tuple[Path, Path]:
    """Links to the Fe files and the two driver scripts in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("Fe_hr.dat", "Fe_centres.xyz", "Fe.win", "Fe_wsvec.dat"):
        if not (folder / name).exists():
            os.symlink(FE / name, folder / name)
    wb_file, ours_file = folder / "wb.py", folder / "ours.py"
    wb_file.write_text(WB_SCRIPT)
    ours_file.write_text(OURS_SCRIPT)
    return wb_file, ours_file


def emit(folder: Path, wb_python: Path, nk: int) -> None:
    wb_file, ours_file = prepare(folder.resolve())
    env = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
    print(f"cd {folder.resolve()}")
    for cores in (1, 2):
        print(f"{env} {wb_python} {wb_file} {nk} {cores} 12 {E_FERMI} {folder.resolve()}")
        for scan in ("direct", "binned"):
            print(f"{env} {sys.executable} {ours_file} {nk} {cores} {scan} 300 {FE} {E_FERMI}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nk", type=int, default=48)
    parser.add_argument("--cores", default="1,2")
    parser.add_argument("--venv", default="/tmp/wb-venv")
    parser.add_argument("--fft", default="6,12,24", help="WannierBerri FFT sub-grid sizes to try (divide nk)")
    parser.add_argument("--emit", metavar="DIR", help="only write the two driver scripts (and links to the Fe files) "
                        "into DIR and print the commands, for whole-process timing (e.g. /usr/bin/time -v)")
    args = parser.parse_args()
    wb_python = ensure_venv(Path(args.venv))
    if args.emit:
        emit(Path(args.emit), wb_python, args.nk)
        return
    cores = [int(c) for c in args.cores.split(",")]
    ffts = [int(f) for f in args.fft.split(",") if args.nk % int(f) == 0]
    points = args.nk**3
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        wb_file, ours_file = prepare(Path(folder))
        # agreement at T -> 0 on a small grid
        check_wb = result_of([str(wb_python), str(wb_file), "12", "1", "6", str(E_FERMI), folder], cwd=folder)
        check_ours = result_of([sys.executable, str(ours_file), "12", "1", "direct", "1e-2", str(FE), str(E_FERMI)])
        for n in cores:
            timings = {f: result_of([str(wb_python), str(wb_file), str(args.nk), str(n), str(f), str(E_FERMI), folder],
                                    cwd=folder) for f in ffts}
            best = min(timings, key=lambda f: timings[f]["seconds"])
            wb = timings[best]
            rows.append(("WannierBerri AHC (1001 E_F)", n, f"NKFFT={best}", wb["seconds"], wb["sigma_xy"],
                         wb["seconds"]))
            for scan in ("direct", "binned"):
                ours = result_of([sys.executable, str(ours_file), str(args.nk), str(n), scan, "300", str(FE),
                                  str(E_FERMI)])
                rows.append(("qgtransport AHC + ANE (300 K)", n, scan, ours["seconds"], ours["sigma_xy"],
                             wb["seconds"]))
    print(f"bcc Fe, 18 bands, grid {args.nk}^3 = {points} k-points (Gamma-centred), one BLAS thread per process\n")
    print("| code | cores | mode | time (s) | k-points/s | k-points/s per core | speed-up vs WannierBerri | "
          "sigma_xy (S/cm) |")
    print("|---|---|---|---|---|---|---|---|")
    for code, n, mode, seconds, sigma, wb_seconds in rows:
        print(f"| {code} | {n} | {mode} | {seconds:.2f} | {points / seconds:.0f} | {points / seconds / n:.0f} | "
              f"{wb_seconds / seconds:.2f} | {sigma / 100:.2f} |")
    print(f"\nT -> 0 check on 12^3: sigma_xy WannierBerri {check_wb['sigma_xy']:.6f} S/m, qgtransport (T = 0.01 K) "
          f"{check_ours['sigma_xy']:.6f} S/m, relative difference "
          f"{abs(check_wb['sigma_xy'] / check_ours['sigma_xy'] - 1):.1e}")


if __name__ == "__main__":
    main()
