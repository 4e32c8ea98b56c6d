"""The compiled pair sums of the direct scan (`qgtransport.engine.compiled`, numba) against their numpy form
(`direct.numpy_kernel_sums`) and against `occupation.fermi_divided_difference`: every linear DC response on
1D, 2D, 3D, degenerate, split-level and real (bcc Fe) models, both interband propagators, one to six points."""

from pathlib import Path

import numpy as np
import pytest
from conftest import random_model

from qgtransport import builtin_model, compute
from qgtransport.bands import occupation as occ
from qgtransport.engine import compiled, direct

pytest.importorskip("numba")


def compiled_weight_values(weight, x, T):
    """`direct.weight_values` from `compiled.occupation_weights` (T > 0; checked against it to 4 ulp in
    test_occupation_weights_equal_the_occupation_functions): the numpy route of `both_routes` weighs the bands
    as the compiled route does, so that the pair sums are compared alone, also where a quantity vanishes by a
    sum rule and is rounding (the equilibrium entropy current of a symmetric model, 1e-17)."""
    P = x.shape[-1]
    table = compiled.occupation_weights(np.ascontiguousarray(x).reshape(-1, 1, P), 1.0 / np.broadcast_to(T, (P,)))
    return table[compiled.OCCUPATION_WEIGHTS.index(weight)].reshape(x.shape)


def both_routes(monkeypatch, model, **options):
    """compute(model, **options) through the compiled loop and through numpy, each checked to be taken."""
    calls = []
    original = compiled.pair_sums

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(compiled, "pair_sums", counted)
    common = dict(error_estimate=False, units="natural", scan="direct", executor="serial")
    fast = compute(model, **common, **options)
    assert calls, "the compiled route was not taken"
    monkeypatch.setenv("QGTRANSPORT_COMPILED", "0")
    monkeypatch.setattr(direct, "weight_values", compiled_weight_values)  # the same weights, bit for bit
    calls.clear()
    slow = compute(model, **common, **options)
    assert not calls
    return fast, slow


def assert_same(fast, slow, rtol=1e-12):
    names = [name for name in slow.data_vars if not name.endswith("_error")]
    assert names
    for name in names:
        a, b = fast[name].values, slow[name].values
        scale = np.abs(b).max()
        assert np.all(np.abs(a - b) <= rtol * scale + 1e-300), (name, np.abs(a - b).max() / scale)


@pytest.mark.parametrize("case", ["qwz 2D", "weyl 3D", "random 3D", "chain 1D"])
def test_compiled_and_numpy_pair_sums_agree(monkeypatch, rng, case):
    model = {"qwz 2D": lambda: builtin_model("qwz", m=-1.0),
             "weyl 3D": lambda: builtin_model("weyl"),
             "random 3D": lambda: random_model(rng, norb=4, dim=3, nR=4),
             "chain 1D": lambda: random_model(rng, norb=3, dim=1, nR=2)}[case]()
    fast, slow = both_routes(monkeypatch, model, tau=3.0, mu=[-0.7, 0.2, 0.9], T=[0.05, 0.6], nk=6)
    assert_same(fast, slow)


@pytest.mark.parametrize("rho1", ["finite_eta", "dc_limit"])
def test_both_interband_propagators(monkeypatch, rho1):
    fast, slow = both_routes(monkeypatch, builtin_model("haldane", M=0.2), tau=2.0, mu=0.1, T=0.3, nk=12,
                             rho1=rho1)
    assert_same(fast, slow)


def test_degenerate_and_split_levels(monkeypatch):
    """Doubly degenerate levels mixed by a unitary (level pairs carry the level products, no interband
    kernel) and the same levels split by 4e-3 (pairs closer than T: the logarithmic divided difference)."""
    from test_binned_ac import split_levels
    from test_geometry import doubled

    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    model = doubled(builtin_model("tilted_dirac"), q)
    for case in (model, split_levels(model, 4e-3)):
        fast, slow = both_routes(monkeypatch, case, tau=3.0, mu=[0.3, 0.9], T=[0.1, 0.02], nk=8)
        assert_same(fast, slow)
        monkeypatch.delenv("QGTRANSPORT_COMPILED")


def test_bcc_fe(monkeypatch):
    """The real 18-band model with spin-orbit coupling, SI units, at E_F and 300 K."""
    from qgtransport.models.wannier90 import read_hr

    fe = read_hr(Path(__file__).resolve().parents[1] / "data" / "wannier90" / "fe" / "Fe_hr.dat")
    calls = []
    original = compiled.pair_sums
    monkeypatch.setattr(compiled, "pair_sums", lambda *args: calls.append(1) or original(*args))
    common = dict(tau=10.0, mu=17.6255, T=300.0, nk=5, error_estimate=False, executor="serial")
    fast = compute(fe, **common)
    monkeypatch.setenv("QGTRANSPORT_COMPILED", "0")
    slow = compute(fe, **common)
    assert calls
    assert_same(fast, slow, rtol=1e-11)


@pytest.mark.parametrize("T", [1e-3, 1.0, 40.0])
def test_interband_kernel_is_the_exact_divided_difference(T):
    """2 F_mn G / T of the compiled loop (G = 1) against 2 occupation.fermi_divided_difference / T, over
    x from -800 to 800 with pairs from 1e-9 apart (the logarithmic branch) to 1600 apart (the tails)."""
    from scipy.special import expit

    x = np.concatenate([np.linspace(-800, 800, 41), [-1e-9, 0.0, 1e-9, 0.4, 0.9999, 1.0001, 30.0, 30.5]])
    for x_n in x:
        for x_m in x:
            if x_n == x_m:
                continue
            e_nm = T * (x_n - x_m)
            value = compiled.interband_kernel(x_n, x_m, expit(x_n), expit(x_m), expit(-x_n), expit(-x_m),
                                              1.0 / e_nm, 1.0, 1.0 / T)
            expected = 2 * occ.fermi_divided_difference(x_n, x_m) / T
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-300), (x_n, x_m)


def test_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("QGTRANSPORT_COMPILED", "0")
    assert not compiled.enabled()
    monkeypatch.setenv("QGTRANSPORT_COMPILED", "1")
    assert compiled.enabled()


def test_frame_sums_from_the_lower_triangles(rng):
    """H = W(k) and the frame derivatives D d_a H D^+ from the lower-triangle products and
    `compiled.hermitian_rows` (`FastBands.lower_rows`) against the full product (`frame_sums`), on bcc Fe
    (orbital positions) and a random model."""
    from qgtransport.engine.backend import FastBands
    from qgtransport.models.wannier90 import read_hr

    fe = read_hr(Path(__file__).resolve().parents[1] / "data" / "wannier90" / "fe" / "Fe_hr.dat")
    for model in (fe, random_model(rng, norb=5, dim=3, nR=6)):
        bands = FastBands(model)
        _, C, H_full, F_full = bands.frame_sums(rng.normal(size=(7, 3)))
        H, F = bands.lower_rows(C, hamiltonian=True), bands.lower_rows(C, hamiltonian=False)
        assert H.shape == H_full.shape and F.shape == F_full.shape
        assert np.abs(H - H_full).max() <= 1e-13 * np.abs(H_full).max()
        assert np.abs(F - F_full).max() <= 1e-13 * np.abs(F_full).max()


@pytest.mark.parametrize("curvature", ["none", "trace", "diagonal"])
def test_batches_of_one_eigh_equal_batches_of_their_own(monkeypatch, curvature):
    """`FastBands.first_order_geometries`: one eigh for 50 k-points of bcc Fe, then batches of 7 (numba), against
    each batch by one product and its own eigh (numpy route): the same energies, |v^a_nm| (the phases of the
    eigenvectors are LAPACK's), band diagonal and band sums of d2H; eigenvectors=False leaves them out."""
    from qgtransport.engine.backend import FastBands
    from qgtransport.models.wannier90 import read_hr

    fe = read_hr(Path(__file__).resolve().parents[1] / "data" / "wannier90" / "fe" / "Fe_hr.dat")
    k = fe.to_cartesian(np.random.default_rng(5).random((50, 3)))
    w = np.random.default_rng(6).random((50, fe.norb, 2))
    fast = list(FastBands(fe).first_order_geometries(k, 7, True, curvature, eigenvectors=False))
    monkeypatch.setenv("QGTRANSPORT_COMPILED", "0")
    slow = list(FastBands(fe).first_order_geometries(k, 7, True, curvature))
    assert [len(g.energies) for g in fast] == [7] * 7 + [1] == [len(g.energies) for g in slow]
    for start, a, b in zip(range(0, 50, 7), fast, slow, strict=True):
        assert a.eigenvectors is None and b.eigenvectors.shape == (len(b.energies), fe.norb, fe.norb)
        np.testing.assert_allclose(a.energies, b.energies, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.abs(a.velocity), np.abs(b.velocity), rtol=0, atol=1e-10)
        if curvature == "diagonal":
            np.testing.assert_allclose(a.curvature_diagonal, b.curvature_diagonal, rtol=0, atol=1e-10)
        if curvature == "trace":
            part = w[start:start + len(a.energies)]
            np.testing.assert_allclose(a.curvature_trace(part), b.curvature_trace(part), rtol=1e-12, atol=1e-10)


def test_packed_density_is_u_diag_w_u_dagger(rng):
    """rho_p = U diag(w_p) U^+ packed as `tables.hermitian_packing` reads it, for random unitary U."""
    from qgtransport.engine.tables import hermitian_packing

    n, p = 6, 3
    U = np.linalg.qr(rng.normal(size=(4, n, n)) + 1j * rng.normal(size=(4, n, n)))[0]
    w = rng.normal(size=(4, n, p))
    rho = np.einsum("kim,kmp,kjm->kpij", U, w, U.conj())
    index, _ = hermitian_packing(n)
    expected = np.ascontiguousarray(rho).reshape(4, p, n * n).view(np.float64)[:, :, index]
    assert np.allclose(compiled.packed_density(U, w), expected, rtol=0, atol=1e-14)


def test_band_densities_compiled_and_numpy(rng):
    """u_n u_n^+ packed per band by the compiled loop and by numpy (`backend.band_densities`), and its
    weighted sum against `compiled.packed_density`."""
    from qgtransport.engine.backend import band_densities

    U = np.linalg.qr(rng.normal(size=(5, 7, 7)) + 1j * rng.normal(size=(5, 7, 7)))[0]
    rho = compiled.band_densities(U)
    assert np.allclose(rho, band_densities(U, np), rtol=0, atol=1e-15)
    w = rng.normal(size=(5, 7, 2))
    assert np.allclose(np.swapaxes(rho @ w, 1, 2), compiled.packed_density(U, w), rtol=0, atol=1e-14)


def synthetic_geometry(rng, nk=30, n=8, d=3):
    """Energies with exactly degenerate pairs, pairs 1e-3 to 0.4 apart and far ones, and a random Hermitian
    velocity (off-diagonal inside the levels too): every branch of the pair loops."""
    from qgtransport.bands.geometry import BandGeometry

    gaps = rng.choice([0.0, 1e-3, 0.05, 0.2, 0.4, 1.5], size=(nk, n - 1))
    energies = np.concatenate([np.zeros((nk, 1)), np.cumsum(gaps, axis=1)], axis=1) - 2.0
    v = rng.normal(size=(nk, d, n, n)) + 1j * rng.normal(size=(nk, d, n, n))
    return BandGeometry(energies, None, v + np.conj(np.swapaxes(v, -1, -2)))


@pytest.mark.parametrize("case", ["synthetic", "synthetic 2D", "weyl", "degenerate", "split levels", "dc_limit",
                                  "qwz 2D", "chain 1D"])
def test_band_quantities_of_the_binned_scan_compiled_and_numpy(rng, case):
    """Omega_n, the level products, the Drude metric and the interband sea / near-pair split of the binned
    scan (`spectral.compiled_band_quantities` against `spectral.band_quantities`, packed), with a delta
    that puts some pairs near: every branch of the loop."""
    from test_binned_ac import split_levels
    from test_geometry import doubled

    from qgtransport.engine.backend import FastBands
    from qgtransport.engine.spectral import (
        PAIR_BAND_QUANTITIES,
        band_quantities,
        compiled_band_quantities,
        pack,
        tensor_kind,
    )
    from qgtransport.responses.kernels import Settings

    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    model = {"weyl": lambda: builtin_model("weyl"), "dc_limit": lambda: builtin_model("weyl"),
             "degenerate": lambda: doubled(builtin_model("tilted_dirac"), q),
             "split levels": lambda: split_levels(doubled(builtin_model("tilted_dirac"), q), 4e-3),
             "qwz 2D": lambda: builtin_model("qwz", m=-1.0),
             "chain 1D": lambda: random_model(rng, norb=3, dim=1, nR=2)}.get(case, lambda: builtin_model("weyl"))()
    settings = Settings(tau=3.0, rho1="dc_limit" if case == "dc_limit" else "finite_eta")
    k = rng.uniform(-3, 3, size=(40, model.dim))
    geo = FastBands(model).geometry(model.to_cartesian(k))
    if case.startswith("synthetic"):
        geo = synthetic_geometry(rng, d=2 if "2D" in case else 3)
    delta = 0.3
    got = compiled_band_quantities(geo, list(PAIR_BAND_QUANTITIES), settings, delta)
    expected = band_quantities(geo, list(PAIR_BAND_QUANTITIES), settings, delta, np)
    for name in PAIR_BAND_QUANTITIES:
        want = pack(expected[name], tensor_kind(name))
        assert got[name].shape == want.shape
        if want.size == 0:  # Omega in 1D
            continue
        scale = max(np.abs(want).max(), 1e-300)
        assert np.allclose(got[name], want, rtol=0, atol=1e-12 * scale), (name, np.abs(got[name] - want).max() / scale)


def test_level_labels_compiled_and_numpy(rng):
    """Degenerate levels as chains of gaps below tol, bands in any order."""
    from qgtransport.bands.geometry import level_labels

    gaps = rng.choice([0.0, 5e-9, 1e-3, 0.3], size=(60, 7))
    energies = np.concatenate([np.zeros((60, 1)), np.cumsum(gaps, axis=1)], axis=1)
    energies = np.ascontiguousarray(rng.permuted(energies, axis=1))
    for tol in (1e-8, 2e-3):
        assert np.array_equal(compiled.level_labels(energies, tol), level_labels(energies, tol))


def test_without_numba_the_numpy_forms_run(tmp_path):
    """A process where numba cannot be imported: the engine takes the numpy forms and gives the same AHC."""
    import json
    import subprocess
    import sys

    code = (
        "import sys, json; sys.modules['numba'] = None\n"
        "from qgtransport import builtin_model, compute\n"
        "from qgtransport.engine import compiled\n"
        "assert not compiled.enabled()\n"
        "ds = compute(builtin_model('haldane', M=0.2), ['anomalous_hall', 'entropy_production'], tau=2.0, mu=0.1,\n"
        "             T=0.3, nk=12, units='natural', error_estimate=False, executor='serial')\n"
        "print(json.dumps([float(ds.anomalous_hall.values.ravel()[1]), float(ds.entropy_production.values.max())]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    without = json.loads(out.stdout.strip().splitlines()[-1])
    ds = compute(builtin_model("haldane", M=0.2), ["anomalous_hall", "entropy_production"], tau=2.0, mu=0.1, T=0.3,
                 nk=12, units="natural", error_estimate=False, executor="serial")
    assert compiled.enabled()
    assert without == pytest.approx([float(ds.anomalous_hall.values.ravel()[1]),
                                     float(ds.entropy_production.values.max())], rel=1e-12)


def test_numba_is_imported_by_the_first_compiled_loop_not_by_qgtransport():
    """`import qgtransport` (the CLI's start) leaves numba out; the first run that uses a loop brings it."""
    import subprocess
    import sys

    code = ("import sys\nimport qgtransport\nfrom qgtransport import builtin_model, compute\n"
            "assert 'numba' not in sys.modules\n"
            "compute(builtin_model('qwz', m=-1.0), ['anomalous_hall'], mu=0.1, T=0.1, nk=4, units='natural',\n"
            "        error_estimate=False, executor='serial')\n"
            "assert 'numba' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_occupation_weights_equal_the_occupation_functions():
    """`compiled.occupation_weights` (one exp and one log1p per element) against `direct.weight_values` (the
    occupation functions, themselves checked against mpmath in tests/bands) from x = -700 to 700, both tails
    included: f and 1 - f, s, df/de, ds/de and Xiao's weight agree to 4 ulp of each value (Xiao's form for
    x < 0 cancels to 1e-15 |x| absolute in both, summed in the same order); beyond |x| = 700, where exp(-|x|)
    is subnormal, both give values below 1e-300 (of the occupied side: f and 1 - f within 1e-300 of 1)."""
    from qgtransport.engine.direct import weight_values

    y = np.concatenate([[0.0, 1e-300, 1e-12, 0.3, 1.0, 20.0, 36.0, 40.0, 300.0, 700.0], np.geomspace(1e-8, 700, 500)])
    x = np.concatenate([y, -y]).reshape(-1, 2, 2)  # (k, n, p)
    T = np.array([0.025, 3.0])
    table = compiled.occupation_weights(x, 1.0 / T)
    far = np.array([723.4, 745.5, 800.0, -723.4, -745.5, -800.0]).reshape(-1, 2, 1)
    far_table = compiled.occupation_weights(far, np.array([1.0]))
    for row, weight in enumerate(compiled.OCCUPATION_WEIGHTS):
        np.testing.assert_allclose(table[row], weight_values(weight, x, T), rtol=4 * np.finfo(float).eps, atol=1e-300)
        expected = weight_values(weight, far, np.array([1.0]))
        assert np.all(np.abs(far_table[row] - expected) < 1e-300), weight
