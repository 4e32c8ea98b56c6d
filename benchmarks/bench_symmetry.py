"""Full-grid-equivalent k-points per second with crystal symmetry on both sides: qgtransport's
compute(..., symmetry=generators) against WannierBerri's irreducible-K mode, and each code without
symmetry, on a symmetric real model (trigonal Te) and on bcc Fe (issue 13, part 6).

    python benchmarks/bench_symmetry.py                        # Te 24^3, Fe 24^3, 2 repeats (about 2 min)
    python benchmarks/bench_symmetry.py --models te --te-nk 36 --repeats 3 --ours-repeats 6 --fft 12 --fft-sym 9
    python benchmarks/bench_symmetry.py --models fe --fe-nk 48 --repeats 2 --ours-repeats 6 --fft 8 --fft-sym 8
                                                               # the README's figures (best NKFFT found before)
    PYTHONPATH=/path/to/branch/src python benchmarks/bench_symmetry.py   # another qgtransport

Models (same files in both codes, internal terms only, i.e. the tight-binding position operator):
- Te (../shared/data/te/Te_tb.dat, 24 spinor Wannier functions), point group 32 x time reversal,
  12 operations, generators C3z, C2x, TimeReversal (Cartesian axes; a1 along x). Its bands respect
  them to 3e-8 eV. qgtransport reads tests/data/wannier90/te/Te_model.nc (the same H(R), lossless);
  WannierBerri reads Te_tb.dat with get_system_tb (berry=False). Both get every orbital position at its
  atom (WannierBerri: wannier_centers_cart): the file's Wannier centres are not images of one another
  under the screw 3_1 (up to 0.08 Angstrom apart), which breaks C3 by 0.6 % in the tight-binding Berry
  curvature (the symmetry tests of qgtransport do the same).
- bcc Fe (../shared/data/fe, 18 spinor WFs, M along -z), magnetic point group 4/mm'm', 16 operations,
  generators Inversion, C4z, TimeReversal*C2x. The Wannierisation breaks inversion (up to 1 eV near
  E_F, ../shared/data/fe/README.md): WannierBerri uses the declared group without a check (integrates
  the irreducible K-points and symmetrises, so its numbers change); qgtransport refuses a group the
  model breaks, and is forced here (compute(..., symmetry_force=True)), so both codes
  do the same thing; the "agreement" lines show how far the symmetrised numbers move.

Quantities, one core, one BLAS thread, every run a fresh process, Gamma-centred nk^3 grid:
- WannierBerri 26.x: calculators.static AHC, Ohmic_FermiSurf, NLAHC_FermiSurf (Berry-curvature
  dipole, Te only) on 1001 Fermi levels E_F +- 0.5 eV (T = 0, its usual mode; the Fermi-surface ones
  as finite differences on that grid), degen_thresh 1e-6, external_terms False; with symmetry
  system.set_pointgroup(generators) and run(use_irred_kpt=True, symmetrize=True), without
  run(use_irred_kpt=False, symmetrize=False); the fastest FFT sub-grid of --fft (its symmetry acts on
  the NKdiv^3 grid of FFT blocks, so a smaller NKFFT gives more reduction and more overhead).
  A FermiDiracSmoother at --temperature K (post-processing) gives the numbers compared below.
- qgtransport: compute(["anomalous_hall", "drude", "berry_curvature_dipole_current"] (Te) or
  ["anomalous_hall", "drude"] (Fe), mu = E_F, T = --temperature, tau = 1 fs, shift = 0,
  error_estimate=False, executor "serial"), with symmetry=<the same generators> and without.
  Rows "n/a" where qgtransport.symmetry is missing (before issue 13 lands).

Speeds are full-grid-equivalent: nk^3 / seconds, whatever the number of irreducible points. Runs are
interleaved (WB-sym, ours-sym, WB-full, ours-full, repeated) and the minimum time of --repeats is kept.
Times exclude process start, imports and model reading (both codes), as in bench_wannierberri.py.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
from bench_wannierberri import ensure_venv, result_of  # the same venv and subprocess protocol

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the repository (a worktree one level deeper finds it one level up)
SHARED = next((p / "shared" / "data" for p in ROOT.parents if (p / "shared" / "data" / "te").is_dir()),
              ROOT.parent / "shared" / "data")
TAU_FS = 1.0  # WannierBerri's tau unit
MODELS = {
    "te": {"generators": ["C3z", "C2x", "TimeReversal"], "order": 12, "mu": 5.5,
           "ours": ["anomalous_hall", "drude", "berry_curvature_dipole_current"],
           "compare": ["drude", "berry_curvature_dipole_current"]},  # AHC: zero by time reversal
    "fe": {"generators": ["Inversion", "C4z", "TimeReversal*C2x"], "order": 16, "mu": 17.6255,
           "ours": ["anomalous_hall", "drude"], "compare": ["anomalous_hall", "drude"]},
}

WB_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import wannierberri as wberri
    from wannierberri.smoother import FermiDiracSmoother

    model, folder, nk, fft, sym, mu, kelvin = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \\
        sys.argv[5] == "1", float(sys.argv[6]), float(sys.argv[7])
    generators = json.loads(sys.argv[8])
    if model == "te":
        from wannierberri.system.system_tb import get_system_tb
        centres = np.array(json.load(open(folder + "/te_centres.json"))["cartesian"])
        system = get_system_tb(folder + "/Te_tb.dat", berry=False, wannier_centers_cart=centres)
    else:
        from wannierberri.system.system_hr import get_system_hr
        a = 1.4349962953939324
        lattice = np.array([[a, a, a], [-a, a, a], [-a, -a, a]])
        lines = open(folder + "/Fe_centres.xyz").read().splitlines()[2:]
        centres = np.array([[float(x) for x in line.split()[1:4]] for line in lines if line.startswith("X")])
        system = get_system_hr(folder + "/Fe", wannier_centers_cart=centres, real_lattice=lattice)
        system.do_ws_dist(mp_grid=[3, 3, 3])
    if sym:
        system.set_pointgroup(generators)
    grid = wberri.Grid(system, NKdiv=nk // fft, NKFFT=fft, use_symmetry=sym)
    efermi = np.linspace(mu - 0.5, mu + 0.5, 1001)
    common = dict(Efermi=efermi, degen_thresh=1e-6, smoother=FermiDiracSmoother(efermi, kelvin))
    static = wberri.calculators.static
    calculators = {"ahc": static.AHC(kwargs_formula={"external_terms": False}, **common),
                   "ohmic": static.Ohmic_FermiSurf(**common)}
    if model == "te":
        calculators["bcd"] = static.NLAHC_FermiSurf(kwargs_formula={"external_terms": False}, **common)
    start = time.perf_counter()
    result = wberri.run(system, grid=grid, calculators=calculators, parallel=False, use_irred_kpt=sym,
                        symmetrize=sym, print_progress_step_time=1e9, print_progress_step_percent=100,
                        fout_name=folder + "/_wb_result", file_Klist_path=folder + "/_wb_tmp_" + str(fft))
    seconds = time.perf_counter() - start
    irreducible = len(grid.get_K_list(use_symmetry=sym))
    values = {name: r.dataSmooth[500].tolist() for name, r in result.results.items()}
    values["ahc_T0"] = result.results["ahc"].data[500].tolist()
    print("RESULT " + json.dumps({"seconds": seconds, "blocks": irreducible, "values": values}))
""")

OURS_SCRIPT = textwrap.dedent("""
    import inspect, json, sys, time
    import numpy as np
    from qgtransport import compute
    from qgtransport.engine.executors import Executor

    if __name__ == "__main__":
        model_name, path, nk, mu, kelvin = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \\
            float(sys.argv[5])
        generators, quantities = json.loads(sys.argv[6]), json.loads(sys.argv[7])
        if model_name == "te":
            import dataclasses
            from pathlib import Path
            from qgtransport.models.modelfile import read_model
            model = read_model(path)
            reduced = json.loads((Path(sys.argv[0]).parent / "te_centres.json").read_text())["reduced"]
            model = dataclasses.replace(model, positions=np.array(reduced))
        else:
            from qgtransport.models.wannier90 import read_hr
            model = read_hr(path)
        common = dict(mu=mu, T=kelvin, tau=%(tau)r, shift=0.0, error_estimate=False, scan="direct")
        if generators:
            common["symmetry"] = generators
            if model_name == "fe" and "symmetry_force" in inspect.signature(compute).parameters:
                common["symmetry_force"] = True
        with Executor("serial", workers=1) as runner:
            compute(model, quantities, nk=4, executor=runner, **common)  # warm-up (imports, allocator)
            start = time.perf_counter()
            ds = compute(model, quantities, nk=nk, executor=runner, **common)
            seconds = time.perf_counter() - start
        rank = {"berry_curvature_dipole_current": 3}
        values = {q: ds[q].values.reshape(-1, *ds[q].shape[-rank.get(q, 2):])[0].tolist() for q in quantities}
        info = {k: v for k, v in ds.attrs.items() if "irreducible" in k or "symmetry" in k or "group" in k}
        attrs = {k: str(v) for k, v in info.items()}
        print("RESULT " + json.dumps({"seconds": seconds, "values": values, "attrs": attrs}))
""") % {"tau": TAU_FS}


def has_symmetry() -> bool:
    """Whether this qgtransport has qgtransport.symmetry and compute(..., symmetry=...)."""
    try:
        import qgtransport.symmetry  # noqa: F401
    except ImportError:
        return False
    from qgtransport import compute
    return "symmetry" in inspect.signature(compute).parameters


def prepare(folder: Path) -> tuple[Path, Path]:
    """Links to the model files and the two driver scripts in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in (SHARED / "te" / "Te_tb.dat", *(SHARED / "fe" / n for n in ("Fe_hr.dat", "Fe_centres.xyz",
                                                                              "Fe.win", "Fe_wsvec.dat"))):
        if not (folder / source.name).exists():
            os.symlink(source, folder / source.name)
    (folder / "te_centres.json").write_text(json.dumps(te_centres_at_atoms()))
    wb_file, ours_file = folder / "wb.py", folder / "ours.py"
    wb_file.write_text(WB_SCRIPT)
    ours_file.write_text(OURS_SCRIPT)
    return wb_file, ours_file


def te_centres_at_atoms() -> dict:
    """Te's orbital positions moved to their atoms (reduced and Cartesian, Angstrom). The Wannier centres
    of Te_tb.dat are not images of one another under the screw 3_1 (by up to 0.08 Angstrom); with the
    tight-binding position operator that breaks C3 in the Berry curvature (0.6 %) though the bands keep it
    to 3e-8 eV. At the atoms (the three atoms are exact images) the model keeps its 12 operations."""
    from qgtransport.models.modelfile import read_model

    model = read_model(ours_model_path("te"))
    atoms = model.positions[[0, 2, 4]]
    reduced = model.positions.copy()
    for i, p in enumerate(reduced):
        d = p - atoms
        d -= np.round(d)
        reduced[i] = atoms[np.argmin(np.linalg.norm(d @ model.lattice, axis=1))]
    return {"reduced": reduced.tolist(), "cartesian": (reduced @ model.lattice).tolist()}


def ours_model_path(name: str) -> str:
    return str(ROOT / "tests" / "data" / "wannier90" / "te" / "Te_model.nc") if name == "te" else \
        str(SHARED / "fe" / "Fe_hr.dat")


def wb_run(wb_python, wb_file, folder, name, nk, fft, sym, kelvin):
    spec = MODELS[name]
    return result_of([str(wb_python), str(wb_file), name, str(folder), str(nk), str(fft), "1" if sym else "0",
                      str(spec["mu"]), str(kelvin), json.dumps(spec["generators"])], cwd=folder)


def ours_run(ours_file, name, nk, sym, kelvin):
    spec = MODELS[name]
    return result_of([sys.executable, str(ours_file), name, ours_model_path(name), str(nk), str(spec["mu"]),
                      str(kelvin), json.dumps(spec["generators"] if sym else []), json.dumps(spec["ours"])])


def levi_civita():
    eps = np.zeros((3, 3, 3))
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[a, b, c], eps[a, c, b] = 1.0, -1.0
    return eps


def wb_tensors(values: dict) -> dict:
    """WannierBerri's outputs as qgtransport's tensors (S/m, A/V^2, tau = 1 fs):
    sigma_ab = epsilon_abd O_d (AHC); Ohmic as is; from the Berry-curvature dipole
    K D_bd = -K int v_b Omega_d f' (NLAHC_FermiSurf, K = e^3 tau/hbar^2) the charge current of
    electrons (charge -e, k' = -e E/hbar, anomalous velocity -k' x Omega, f = f0 + tau (e/hbar) E.grad f0):
    J_a = -(e^3 tau/hbar^2) int (E x Omega)_a (E.v) f' = K epsilon_abd D_cd E_b E_c, i.e.
    chi_abc = (epsilon_abd D_cd + epsilon_acd D_bd)/2 (symmetric in bc; Sodemann & Fu, PRL 115, 216806
    (2015), chi_abc = -epsilon_adc D_bd e^3 tau/(2 hbar^2) for their field amplitude convention).
    WannierBerri's docstring writes j_a = epsilon_adc D_bd E_b E_c, the opposite sign."""
    eps = levi_civita()
    out = {"anomalous_hall": np.einsum("abd,d->ab", eps, values["ahc"]), "drude": np.array(values["ohmic"])}
    if "bcd" in values:
        raw = np.einsum("abd,cd->abc", eps, np.array(values["bcd"]))
        out["berry_curvature_dipole_current"] = 0.5 * (raw + raw.transpose(0, 2, 1))
    return out


def agreement(a: dict, b: dict, quantities) -> dict:
    """max |a - b| / max |b| per quantity."""
    return {q: float(np.max(np.abs(np.array(a[q]) - np.array(b[q]))) / max(np.max(np.abs(np.array(b[q]))), 1e-300))
            for q in quantities}


def bench_model(name, nk, ffts, repeats, ours_repeats, kelvin, wb_python, wb_file, ours_file, folder, ours_sym):
    runs = {key: [] for key in ("wb_sym", "ours_sym", "wb_full", "ours_full")}
    best_fft = {}
    # pick WannierBerri's FFT sub-grid once per mode, then repeat interleaved
    for sym in (True, False):
        trials = {f: wb_run(wb_python, wb_file, folder, name, nk, f, sym, kelvin) for f in ffts[sym] if nk % f == 0}
        best_fft[sym] = min(trials, key=lambda f: trials[f]["seconds"])
        runs["wb_sym" if sym else "wb_full"].append(trials[best_fft[sym]])
    for repeat in range(repeats):
        if repeat:
            runs["wb_sym"].append(wb_run(wb_python, wb_file, folder, name, nk, best_fft[True], True, kelvin))
        if ours_sym:
            runs["ours_sym"].append(ours_run(ours_file, name, nk, True, kelvin))
        if repeat:
            runs["wb_full"].append(wb_run(wb_python, wb_file, folder, name, nk, best_fft[False], False, kelvin))
        runs["ours_full"].append(ours_run(ours_file, name, nk, False, kelvin))
    for _ in range(ours_repeats - repeats):  # more qgtransport pairs (short runs) for its own ratio
        if ours_sym:
            runs["ours_sym"].append(ours_run(ours_file, name, nk, True, kelvin))
        runs["ours_full"].append(ours_run(ours_file, name, nk, False, kelvin))
    return runs, best_fft


def fastest(results: list[dict]) -> dict | None:
    return min(results, key=lambda r: r["seconds"]) if results else None


def report(name, nk, runs, best_fft, kelvin):
    spec, points = MODELS[name], nk**3
    best = {key: fastest(value) for key, value in runs.items()}
    rate = {key: (points / r["seconds"] if r else None) for key, r in best.items()}
    label = {"te": "Te (24 bands)", "fe": "bcc Fe (18 bands)"}[name]
    print(f"\n{label}, grid {nk}^3 = {points} k-points (Gamma-centred), group of order {spec['order']} "
          f"({', '.join(spec['generators'])}), one core, one BLAS thread, min of {len(runs['wb_full'])} runs "
          f"(qgtransport: {len(runs['ours_full'])})\n")
    print("| code | symmetry | irreducible | time (s) | full-grid-equivalent k-points/s | x own full grid |")
    print("|---|---|---|---|---|---|")
    rows = (("WannierBerri", "wb_sym", True), ("WannierBerri", "wb_full", False),
            ("qgtransport", "ours_sym", True), ("qgtransport", "ours_full", False))
    for code, key, sym in rows:
        own = "wb_full" if code == "WannierBerri" else "ours_full"
        r = best[key]
        if r is None:
            print(f"| {code} | {'yes' if sym else 'no'} | n/a | n/a | n/a | n/a |")
            continue
        if code == "WannierBerri":
            fft = best_fft[sym]
            irr = f"{r['blocks']} of {(nk // fft) ** 3} blocks of {fft}^3 (NKFFT={fft})"
        else:
            irr = next((v for k, v in r.get("attrs", {}).items() if "irreducible" in k), "-" if sym else str(points))
        ratio = rate[key] / rate[own] if rate[own] else float("nan")
        print(f"| {code} | {'yes' if sym else 'no'} | {irr} | {r['seconds']:.2f} | {rate[key]:.0f} | {ratio:.2f} |")
    print()
    print("seconds of every run, in order: " + "; ".join(
        f"{key} " + ", ".join(f"{r['seconds']:.2f}" for r in value) for key, value in runs.items() if value))
    if rate["ours_sym"]:
        vs_wb = rate["ours_sym"] / rate["wb_sym"]
        own = rate["ours_sym"] / rate["ours_full"]
        pairs = [f["seconds"] / s["seconds"] for s, f in zip(runs["ours_sym"], runs["ours_full"], strict=True)]
        pairs_wb = [w["seconds"] / s["seconds"] for w, s in zip(runs["wb_sym"], runs["ours_sym"], strict=False)]
        irreducible = next((int(v) for k, v in best["ours_sym"].get("attrs", {}).items() if "irreducible" in k), 0)
        print(f"pairwise (adjacent runs), ours-with / ours-without: median {np.median(pairs):.2f} "
              f"({min(pairs):.2f}-{max(pairs):.2f}); ours-with / WannierBerri-with: median {np.median(pairs_wb):.2f} "
              f"({min(pairs_wb):.2f}-{max(pairs_wb):.2f}); point-count bound {points / max(irreducible, 1):.2f} "
              f"= {points / max(irreducible, 1) / spec['order']:.2f} x group order")
        print(f"ours-with-symmetry / WannierBerri-with-symmetry: {vs_wb:.2f} (target >= 3: "
              f"{'met' if vs_wb >= 3 else 'not met'})")
        print(f"ours-with / ours-without: {own:.2f} = {own / spec['order']:.2f} x group order (target >= 0.8: "
              f"{'met' if own >= 0.8 * spec['order'] else 'not met'})")
    else:
        print("ours-with-symmetry: n/a (qgtransport.symmetry / compute(symmetry=...) not available)")
    print(f"ours-without / WannierBerri-without: {rate['ours_full'] / rate['wb_full']:.2f}; "
          f"WannierBerri with / without: {rate['wb_sym'] / rate['wb_full']:.2f}")
    # agreement at T = kelvin (WannierBerri: T = 0 results smoothed with Fermi-Dirac at T)
    wb_full, wb_sym = wb_tensors(best["wb_full"]["values"]), wb_tensors(best["wb_sym"]["values"])
    ours_full, compared = best["ours_full"]["values"], spec["compare"]
    print(f"\nagreement at mu = {spec['mu']} eV, T = {kelvin} K (max |difference| / max |value| per tensor):")
    print(f"- qgtransport full grid vs WannierBerri full grid: {fmt(agreement(ours_full, wb_full, compared))}")
    print(f"- WannierBerri with vs without symmetry: {fmt(agreement(wb_sym, wb_full, compared))}")
    if best["ours_sym"]:
        ours_sym = best["ours_sym"]["values"]
        print(f"- qgtransport with vs without symmetry: {fmt(agreement(ours_sym, ours_full, compared))}")
        print(f"- qgtransport vs WannierBerri, both with symmetry: {fmt(agreement(ours_sym, wb_sym, compared))}")
    print("- largest |values|, qgtransport / WannierBerri (full grids): " + ", ".join(
        f"{q} {np.max(np.abs(np.array(v))):.4g} / {np.max(np.abs(wb_full[q])):.4g}" for q, v in ours_full.items())
        + " (AHC S/m; Drude S/m and chi A/V^2 with tau = 1 fs)")


def fmt(diffs: dict) -> str:
    return ", ".join(f"{q} {d:.1e}" for q, d in diffs.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--te-nk", type=int, default=24)
    parser.add_argument("--fe-nk", type=int, default=24)
    parser.add_argument("--models", default="te,fe")
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs of each of the four")
    parser.add_argument("--ours-repeats", type=int, default=0,
                        help="qgtransport with/without pairs in all (more than --repeats: extra pairs at the end)")
    parser.add_argument("--temperature", type=float, default=300.0, help="K, for qgtransport and the smoother")
    parser.add_argument("--venv", default="/work/wb-venv")
    parser.add_argument("--fft", default="8,12", help="WannierBerri FFT sub-grid sizes to try without symmetry "
                        "(those that divide nk; the fastest is kept)")
    parser.add_argument("--fft-sym", default="6,8,9", help="the same with symmetry")
    args = parser.parse_args()
    wb_python = ensure_venv(Path(args.venv))
    ours_sym = has_symmetry()
    ffts = {False: [int(f) for f in args.fft.split(",")], True: [int(f) for f in args.fft_sym.split(",")]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wb_file, ours_file = prepare(folder)
        for name in args.models.split(","):
            nk = {"te": args.te_nk, "fe": args.fe_nk}[name]
            runs, best_fft = bench_model(name, nk, ffts, args.repeats, max(args.ours_repeats, args.repeats),
                                         args.temperature, wb_python, wb_file, ours_file, folder, ours_sym)
            report(name, nk, runs, best_fft, args.temperature)


if __name__ == "__main__":
    main()
