"""The k-space engine: grids and tasks, the fast band geometry against the reference, the binned
(mu, T) scan against the direct sum, and the progress bar."""

from functools import partial

import numpy as np
import pytest
from conftest import binned_against_direct, random_model
from hypothesis import given, settings
from hypothesis import strategies as st

from qgtransport import builtin_model, compute
from qgtransport.bands.geometry import band_curvature, band_geometry, berry_curvature, quantum_metric
from qgtransport.compute import Request, chunk_sums, engine_block_sums
from qgtransport.engine.backend import FastBands, GridChunks, gpu_available
from qgtransport.engine.integrate import GridTask, default_task_size, grid_chunks, grid_points, integrate
from qgtransport.engine.plan import DirectSums
from qgtransport.engine.refine import Refinement
from qgtransport.engine.spectral import TERMS, EnergyGrid, band_resolved
from qgtransport.responses.kernels import Settings

BINNED = sorted(TERMS)


def test_grid_points_cover_the_grid_once():
    shape = (3, 4, 5)
    points = np.concatenate(list(grid_chunks(shape, 0.5, 7)))
    assert points.shape == (60, 3)
    assert len({tuple(p) for p in np.round(points * 120).astype(int)}) == 60
    assert np.allclose(grid_points(shape, 0.5, 10, 11)[0], (np.array(np.unravel_index(10, shape)) + 0.5) / shape)


def test_tasks_partition_the_grid():
    task = GridTask(lambda k: {"n": np.array([len(k)]), "s": k.sum(0)}, (7, 9), (0.5, 0.5), 4, 12)
    assert task.count == 6 and sum(task.points(i) for i in range(task.count)) == 63
    total = sum(task(i)["n"][0] for i in range(task.count))
    assert total == 63
    assert default_task_size(10**7, 100) % 100 == 0


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), norb=st.integers(1, 5), dim=st.integers(1, 3))
def test_fast_geometry_matches_the_reference(seed, norb, dim):
    rng = np.random.default_rng(seed)
    model = random_model(rng, norb=norb, dim=dim, nR=4)
    k = rng.normal(size=(13, dim))
    fast = FastBands(model)
    for reference, ours in zip(model.hamiltonian(k, order=2), fast.hamiltonian(k, 2), strict=True):
        assert np.allclose(ours, reference, rtol=0, atol=1e-12 * np.abs(reference).max())
    a, b = band_geometry(model, k, order=2), fast.geometry(k, 2)
    assert np.allclose(a.energies, b.energies, atol=1e-12)
    for quantity in (berry_curvature, quantum_metric, band_curvature):
        x, y = quantity(a), quantity(b)
        assert np.allclose(x, y, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(x).max())), quantity.__name__
    # d2H kept as its band diagonal v^ab_n only (the linear DC responses)
    c = fast.geometry(k, 2, curvature="diagonal")
    assert c.curvature is None
    assert np.allclose(c.velocity, b.velocity, rtol=0, atol=1e-12 * max(1.0, np.abs(b.velocity).max()))
    x = band_curvature(a)
    assert np.allclose(c.curvature_diagonal, x, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(x).max()))
    # or only its weighted band sums sum_k sum_n w_n(k, p) v^ab_n (Tr[rho_p d_a d_b H], no d2H in the band basis)
    w = rng.uniform(-1, 1, size=a.energies.shape + (2,))
    traced = fast.geometry(k, 2, curvature="trace").curvature_trace(w)
    expected = np.einsum("knp,knab->pab", w, x)
    assert np.allclose(traced, expected, rtol=1e-9, atol=1e-11 * max(1.0, np.abs(x).max()))


@pytest.mark.parametrize("route", ["kernels", "band quantities"])
@pytest.mark.parametrize("degenerate, rho1", [(False, "finite_eta"), (True, "finite_eta"), (True, "dc_limit")])
def test_fast_engine_and_reference_give_the_same_responses(rng, degenerate, rho1, route, monkeypatch):
    # the engine's direct scan (band-resolved Berry-curvature and Drude sums, the exact interband pair
    # sum, `engine_block_sums`) against the reference pair kernels (`thermal_block_sums` on `band_geometry`),
    # by both routes of engine/direct.py: one contraction with stacked kernels (few points) and the
    # band quantities Q_n with weights per point (many points)
    from test_geometry import doubled

    import qgtransport.engine.direct as direct

    monkeypatch.setattr(direct, "KERNEL_MAX_POINTS", 6 if route == "kernels" else 0)

    model = random_model(rng, norb=3, dim=2, nR=4)
    if degenerate:
        q, _ = np.linalg.qr(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))
        model = doubled(model, q)
    settings = Settings(tau=3.0, rho1=rho1)
    resolved = tuple(q for q in BINNED if band_resolved(q, settings))
    assert set(resolved) == set(BINNED)  # every linear DC response
    assert not band_resolved("entropy_production", Settings(tau=3.0, kernel="printed"))
    request = Request(resolved, np.array([-0.5, 0.4, 0.1]), np.array([0.2, 0.3, 0.05]), np.zeros(1), settings)
    reference = integrate(partial(chunk_sums, model, request=request), (12, 12), chunk_size=50)
    # band-resolved sums use v^ab_n alone: the engine computes the band diagonal of d2H only, or only
    # its weighted band sums (traces)
    for curvature in ("diagonal", "trace", "full"):
        engine = GridChunks(model, DirectSums(partial(engine_block_sums, request=request), curvature), order=2, batch=7)
        fast = integrate(engine, (12, 12), chunk_size=50)
        for name, value in reference.items():
            scale = 1.0 if name == "equilibrium_entropy_current" else np.abs(value).max()
            assert np.allclose(fast[name], value, rtol=1e-10, atol=1e-12 * scale), (name, curvature)


def compare_binned(model, nk, rho1, mu, T, tolerance=1e-6):
    # the equilibrium entropy current is zero identically (ERRATA E6): a sum of +-|v| s terms of O(1)
    binned_against_direct(model, BINNED, tolerance, unit_scale=("equilibrium_entropy_current",), mu=mu, T=T,
                          tau=3.0, nk=nk, units="natural", rho1=rho1, error_estimate=False)


@pytest.mark.parametrize("rho1", ["finite_eta", "dc_limit"])
def test_binned_scan_matches_the_direct_sum_2d(rho1):
    compare_binned(builtin_model("haldane", M=0.2), 30, rho1, np.linspace(-1.2, 1.2, 5), [0.05, 0.3])


def test_binned_scan_matches_the_direct_sum_3d_random(rng):
    compare_binned(random_model(rng, norb=4, dim=3, nR=4), 8, "finite_eta", [-1.0, 0.2, 1.5], [0.1, 0.4])


def test_binned_scan_at_mu_that_are_not_whole_bins_apart(rng):
    # each point's weights at its own bins (`spectral.evaluate`), not one shifted kernel
    mu = np.array([-0.7312, 0.1234567, 0.9101])
    assert not np.allclose(np.diff(mu) / (0.1 / 32), np.rint(np.diff(mu) / (0.1 / 32)))
    compare_binned(random_model(rng, norb=4, dim=3, nR=4), 8, "finite_eta", mu, [0.1, 0.4])


def test_binned_scan_of_a_degenerate_model():
    from test_geometry import doubled

    base = builtin_model("tilted_dirac")
    q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(4, 4)) + 0j)
    compare_binned(doubled(base, q), 16, "finite_eta", [0.3, 0.9], [0.1])


def test_auto_scan_bins_scans_of_several_points_within_the_stated_error():
    # Fe-like in miniature: the whole linear DC set on 5 mu x 2 T, auto against direct
    model = builtin_model("haldane", M=0.2)
    common = dict(mu=np.linspace(-1.2, 1.2, 5), T=[0.05, 0.3], tau=3.0, nk=30, units="natural")
    direct = compute(model, scan="direct", **common)
    auto = compute(model, **common)
    assert (auto.attrs["scan"], auto.attrs["scan_requested"], direct.attrs["scan"]) == ("binned", "auto", "direct")
    assert set(auto.data_vars) == set(direct.data_vars)
    for name in (v for v in direct.data_vars if not v.endswith("_error")):
        a, b = direct[name].values, auto[name].values
        scale = 1.0 if name == "equilibrium_entropy_current" else np.abs(a).max()
        assert np.all(np.abs(a - b) <= 1e-6 * scale), name
        # the binning error stays inside <name>_error: the direct value is within the auto value's error bar
        assert np.all(np.abs(a - b) <= auto[name + "_error"].values + 1e-12 * scale), name


@pytest.mark.parametrize("case", ["few points", "no binned form", "T = 0", "too many bins"])
def test_auto_scan_stays_direct_where_binning_does_not_pay_or_apply(case):
    model = builtin_model("qwz")
    common = dict(mu=np.linspace(-1, 1, 5), T=[0.1], nk=6, units="natural", error_estimate=False)
    q = ["anomalous_hall"]
    if case == "few points":
        common["mu"] = [-1.0, 0.0, 0.5, 1.0]
    elif case == "no binned form":
        q, common["omega"] = ["joint_density_of_states"], [1.0]
    elif case == "T = 0":
        common["T"] = [0.0]
    else:
        common.update(mu=np.linspace(-3, 3, 5), T=[1e-6])
    ds = compute(model, q, **common)
    assert (ds.attrs["scan"], ds.attrs["scan_requested"]) == ("direct", "auto")
    five = compute(model, q, **dict(common, scan="direct"))
    assert np.array_equal(ds[q[0]].values, five[q[0]].values)


def test_binned_scan_limits_are_named():
    model = builtin_model("qwz")
    with pytest.raises(ValueError, match="has no form for"):
        compute(model, ["joint_density_of_states"], mu=0, T=0.1, omega=1.0, nk=4, units="natural", scan="binned")
    with pytest.raises(ValueError, match="energy bins"):
        compute(model, ["anomalous_hall"], mu=[-3, 3], T=1e-6, nk=4, units="natural", scan="binned")
    with pytest.raises(ValueError, match="scan must be one of"):
        compute(model, ["anomalous_hall"], mu=0, T=0.1, nk=4, units="natural", scan="tetrahedra")
    with pytest.raises(ValueError, match="kernel"):
        compute(model, ["entropy_production"], mu=0, T=0.5, tau=1.0, nk=4, units="natural", scan="binned",
                kernel="printed")


def test_energy_grid_covers_the_window():
    grid = EnergyGrid.for_points(np.array([0.0, 1.0]), np.array([0.1, 0.2]))
    assert grid.width == pytest.approx(0.1 / 32)
    assert grid.lower == pytest.approx(-8.0)
    assert grid.lower + grid.count * grid.width >= 9.0


def test_progress_bar_reports_rate_and_time_left(capsys):
    compute(builtin_model("qwz"), ["anomalous_hall"], mu=0.0, T=0.1, nk=32, units="natural", progress=True,
            task_size=64, error_estimate=False)
    err = capsys.readouterr().err
    assert "k-points/s" in err and "1.02k/1.02k" in err and "<" in err
    compute(builtin_model("qwz"), ["anomalous_hall"], mu=0.0, T=0.1, nk=32, units="natural", progress=False)
    assert capsys.readouterr().err == ""


# --- adaptive refinement ---------------------------------------------------------------------

CHERN = builtin_model("qwz", m=-1.9)  # gap 0.2 at Gamma: Berry curvature concentrated in |k| < 0.1
EXACT_HALL = -1 / (2 * np.pi)  # sigma_xy = -C/(2 pi), C = 1, mu in the gap


def test_refinement_resolves_a_berry_curvature_hot_spot():
    common = dict(mu=0.0, T=0.01, nk=32, units="natural")
    uniform = compute(CHERN, ["anomalous_hall"], **common)
    refined = compute(CHERN, ["anomalous_hall"], refine=Refinement(levels=1, subdivision=5, fraction=0.02), **common)
    error_uniform = abs(uniform.anomalous_hall.values[0, 0, 0, 1] - EXACT_HALL)
    error_refined = abs(refined.anomalous_hall.values[0, 0, 0, 1] - EXACT_HALL)
    assert error_uniform > 5e-3
    assert error_refined < error_uniform / 20
    # the two-grid estimate of the refined rule bounds the true error
    assert refined.anomalous_hall_error.values[0, 0, 0, 1] > error_refined
    change = refined.anomalous_hall_refinement.values[0, 0, 0, 1]
    xy = (0, 0, 0, 1)
    assert change == pytest.approx(refined.anomalous_hall.values[xy] - uniform.anomalous_hall.values[xy])
    assert 0 < refined.attrs["refined_cells"][0] < 0.05 * 32 * 32


def test_refinement_is_the_same_whatever_the_chunking_the_executor_and_the_scan():
    common = dict(mu=[-0.05, 0.0], T=0.02, tau=2.0, nk=24, units="natural",
                  refine=Refinement(levels=2, subdivision=3, fraction=0.05))
    quantities = ["anomalous_hall", "entropy_hall", "entropy_production_interband"]
    a = compute(CHERN, quantities, **common)
    b = compute(CHERN, quantities, task_size=37, executor="processes", workers=2, **common)
    c = compute(CHERN, quantities, scan="binned", **common)
    assert a.attrs["refined_cells"] == b.attrs["refined_cells"] == c.attrs["refined_cells"]
    for name in quantities:
        x = a[name].values
        assert np.allclose(b[name].values, x, rtol=1e-12, atol=1e-12 * np.abs(x).max()), name
        assert np.allclose(c[name].values, x, rtol=0, atol=1e-6 * np.abs(x).max()), name


def test_refinement_options():
    common = dict(mu=0.0, T=0.05, nk=16, units="natural", error_estimate=False)
    plain = compute(CHERN, ["anomalous_hall"], **common)
    none = compute(CHERN, ["anomalous_hall"], refine=Refinement(levels=0), **common)
    assert np.array_equal(plain.anomalous_hall.values, none.anomalous_hall.values)
    everything = compute(CHERN, ["anomalous_hall"], refine=dict(threshold=0.0, subdivision=2), **common)
    assert everything.attrs["refined_cells"] == [16 * 16]
    # refining every cell by 2 x 2 is the uniform grid of 2 nk
    double = compute(CHERN, ["anomalous_hall"], **dict(common, nk=32))
    assert np.allclose(everything.anomalous_hall.values, double.anomalous_hall.values, rtol=1e-12)
    with pytest.raises(ValueError, match="subdivision"):
        compute(CHERN, ["anomalous_hall"], refine=dict(subdivision=1), **common)
    with pytest.raises(ValueError, match="fraction"):
        Refinement(fraction=2.0)


# --- GPU backend (CuPy); skipped without CuPy and a CUDA device ---------------------------------

needs_gpu = pytest.mark.skipif(not gpu_available(), reason="needs CuPy and a CUDA device")


@needs_gpu
@pytest.mark.parametrize("scan", ["direct", "binned"])
def test_gpu_backend_matches_the_cpu_to_1e_10(scan, rng):
    model = random_model(rng, norb=6, dim=3, nR=6)
    common = dict(mu=[-0.5, 0.3], T=[0.1, 0.3], tau=2.0, nk=10, units="natural", scan=scan)
    cpu = compute(model, BINNED, **common)
    gpu = compute(model, BINNED, backend="cupy", **common)
    assert gpu.attrs["backend"] == "cupy"
    for name in BINNED:
        x = cpu[name].values
        scale = 1.0 if name == "equilibrium_entropy_current" else np.abs(x).max()
        assert np.allclose(gpu[name].values, x, rtol=1e-10, atol=1e-10 * scale), name


@needs_gpu
def test_gpu_geometry_matches_the_cpu(rng):
    model = random_model(rng, norb=5, dim=3, nR=5)
    k = rng.normal(size=(40, 3))
    a = FastBands(model).geometry(k, 2)
    b = FastBands(model, "cupy").geometry(k, 2)
    assert np.allclose(a.energies, b.energies, atol=1e-12)
    for quantity in (berry_curvature, quantum_metric, band_curvature):
        assert np.allclose(quantity(a), quantity(b), rtol=1e-10, atol=1e-12 * np.abs(quantity(a)).max())


def test_cupy_backend_without_a_gpu_is_a_clear_error():
    if gpu_available():
        pytest.skip("a GPU is present")
    with pytest.raises((ImportError, RuntimeError), match="cupy|CUDA|CuPy"):
        compute(builtin_model("qwz"), ["anomalous_hall"], mu=0.0, T=0.1, nk=4, units="natural", backend="cupy")
    with pytest.raises(ValueError, match="backend must be one of"):
        compute(builtin_model("qwz"), ["anomalous_hall"], mu=0.0, T=0.1, nk=4, units="natural", backend="torch")


# --- the backend="cupy" code paths on a stand-in that keeps CuPy's rules (tests/fake_cupy.py) ----

@pytest.fixture
def fake_gpu(monkeypatch):
    import sys

    from fake_cupy import make_module

    monkeypatch.setitem(sys.modules, "cupy", make_module())


@pytest.mark.parametrize("scan", ["direct", "binned"])
def test_cupy_code_paths_keep_cupys_rules_and_give_the_cpu_numbers(fake_gpu, scan, rng, monkeypatch):
    # no implicit device -> host conversion, no mixing of host and device arrays anywhere on the path
    model = random_model(rng, norb=6, dim=3, nR=6)
    common = dict(mu=[-0.5, 0.3], T=[0.1, 0.3], tau=2.0, nk=8, units="natural", scan=scan)
    cpu = compute(model, BINNED, **common)
    import qgtransport.engine.backend as backend
    import qgtransport.engine.spectral as spectral

    calls = []
    original = backend.to_host
    for module in (backend, spectral):
        monkeypatch.setattr(module, "to_host", lambda a: calls.append(type(a).__name__) or original(a))
    gpu = compute(model, BINNED, backend="cupy", **common)
    assert gpu.attrs["backend"] == "cupy" and "DeviceArray" in calls  # device arrays were made and brought back
    for name in BINNED:
        x = cpu[name].values
        scale = 1.0 if name == "equilibrium_entropy_current" else np.abs(x).max()
        assert np.allclose(gpu[name].values, x, rtol=1e-10, atol=1e-10 * scale), name


def test_cupy_code_paths_of_refinement_and_large_matrices(fake_gpu, rng):
    from qgtransport.engine.backend import CUSOLVER_BATCHED_MAX

    model = builtin_model("haldane", M=0.2)
    common = dict(mu=[0.0, 0.4], T=0.1, nk=16, units="natural", refine=True)
    cpu = compute(model, ["anomalous_hall"], **common)
    gpu = compute(model, ["anomalous_hall"], backend="cupy", **common)
    assert np.allclose(gpu.anomalous_hall.values, cpu.anomalous_hall.values, rtol=1e-10, atol=1e-14)
    big = random_model(rng, norb=CUSOLVER_BATCHED_MAX + 2, dim=2, nR=3)  # eigh one matrix at a time
    k = rng.normal(size=(5, 2))
    a, b = FastBands(big).geometry(k, 2), FastBands(big, "cupy").geometry(k, 2)
    assert type(FastBands(big, "cupy").geometry(k, 1, host=False).velocity).__name__ == "DeviceArray"
    assert np.allclose(a.energies, b.energies, atol=1e-12)
    assert np.allclose(berry_curvature(a), berry_curvature(b), rtol=1e-8, atol=1e-10)


def test_the_fake_cupy_refuses_what_cupy_refuses(fake_gpu):
    import cupy

    x = cupy.asarray(np.arange(3.0))
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(x)
    with pytest.raises(TypeError, match="numpy array"):
        x + np.arange(3.0)
    assert np.array_equal((x * 2).get(), [0.0, 2.0, 4.0])


def test_bins_are_aligned_to_a_uniform_mu_grid_at_every_merge_level():
    """aligned_width: step / width' a whole multiple of 2^L (L the top merge level), h/2 <= width' <= h."""
    from qgtransport.engine.spectral import aligned_width

    kelvin = 8.617333262e-5
    mu, T = np.linspace(17.1255, 18.1255, 101), np.array([100.0, 300.0, 1000.0]) * kelvin
    h = T.min() / 32
    width = aligned_width(mu, T, h)
    assert h / 2 <= width <= h
    assert 0.01 / (8 * width) == pytest.approx(round(0.01 / (8 * width)), abs=1e-9)  # levels 0..3
    # not uniform, or one mu: the width as given
    assert aligned_width(np.array([0.0, 0.1, 0.3]), T, h) == h
    assert aligned_width(np.array([0.2]), T, h) == h
    # steps finer than the bins: the top levels give way until width' >= h / 2
    width = aligned_width(np.linspace(0, 0.01, 11), T, h)  # step 1 meV < 8 h = 2.2 meV
    assert h / 2 <= width <= h and 1e-3 / width == pytest.approx(round(1e-3 / width), abs=1e-9)
