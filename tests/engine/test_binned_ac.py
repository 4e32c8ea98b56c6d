"""The binned (mu, T) scan of the AC and optical responses (`qgtransport.engine.spectral_ac`) against the
direct pair sums: every quantity on 2D, 3D and degenerate models, omega = 0 against the DC responses,
the binning-error bound against the actual difference, the auto choice and the memory limits."""

import numpy as np
import pytest
from conftest import binned_against_direct, random_model

import qgtransport.engine.spectral_ac as spectral_ac
from qgtransport import builtin_model, compute
from qgtransport.engine.spectral_ac import TERMS_AC

AC = sorted(TERMS_AC)
OMEGA = [0.0, 0.35, 1.2, 2.5]


def compare(model, nk, mu, T, quantities=AC, tolerance=1e-6, **options):
    """Binned against direct: within tolerance of the largest value and within the reported bound, which
    itself says the binned value is accurate (below 1e-4 of the scale)."""
    return binned_against_direct(model, quantities, tolerance, slack=1e-13, bound_limit=1e-4, mu=mu, T=T, tau=3.0,
                                 nk=nk, units="natural", error_estimate=False, omega=OMEGA, width=0.15, **options)


def test_binned_ac_matches_the_direct_sum_2d():
    compare(builtin_model("haldane", M=0.2), 16, np.linspace(-1.2, 1.2, 4), [0.05, 0.3])


def test_binned_ac_matches_the_direct_sum_3d():
    compare(builtin_model("weyl"), 6, [-0.4, 0.1, 0.9], [0.1, 0.25])


def test_binned_ac_matches_the_direct_sum_random_3_band(rng):
    compare(random_model(rng, norb=3, dim=2, nR=4), 10, [-1.0, 0.2, 1.5], [0.1, 0.4], broadening="lorentzian")


def test_binned_ac_of_a_degenerate_model():
    # every level doubly degenerate, mixed by a unitary: level pairs n != m carry the Drude weight
    from test_geometry import doubled

    base = builtin_model("tilted_dirac")
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    compare(doubled(base, q), 10, [0.3, 0.9], [0.1, 0.2])


def test_near_pairs_inside_delta_are_bounded():
    # a bin width with delta = h/8 above the smallest gaps of the Weyl nodes: pairs use the midpoint form
    model = builtin_model("weyl")
    common = dict(mu=[0.0, 0.2], T=[0.2], tau=3.0, nk=6, units="natural", error_estimate=False, omega=OMEGA,
                  width=0.15)
    direct = compute(model, AC, scan="direct", **common)
    binned = compute(model, AC, scan="binned", bin_width=0.2, **common)
    for name in AC:
        difference = np.abs(direct[name].values - binned[name].values)
        assert np.all(difference <= binned[name + "_error"].values + 1e-13 * np.abs(direct[name].values).max()), name


def test_binned_ac_at_omega_zero_equals_the_binned_dc_responses():
    # drude_ac(0) = drude, the entropy Drude term likewise, and the Hall part of sigma(0) -> anomalous Hall
    # as eta^2: one binned run of DC and AC quantities together
    model = builtin_model("qwz", m=-1.0)
    common = dict(mu=np.linspace(-0.5, 1.5, 5), T=[0.2], nk=24, units="natural", error_estimate=False, omega=[0.0])
    quantities = ["drude_ac", "drude", "conductivity_ac", "anomalous_hall", "entropy_conductivity_ac",
                  "entropy_current_drude"]
    ds = compute(model, quantities, tau=400.0, **common)
    assert ds.attrs["scan"] == "binned"
    drude = ds.drude.values
    assert np.allclose(ds.drude_ac.isel(omega=0).values, drude, rtol=1e-9, atol=1e-9 * np.abs(drude).max())
    hall = ds.conductivity_ac.isel(omega=0).sel(a="x", b="y").values.real
    assert np.allclose(hall, ds.anomalous_hall.sel(a="x", b="y").values, atol=1e-4)
    entropy_hall_free = ds.entropy_conductivity_ac.isel(omega=0).values.real
    symmetric = (entropy_hall_free + np.swapaxes(entropy_hall_free, -1, -2)) / 2
    reference = ds.entropy_current_drude.values
    assert np.allclose(symmetric, reference, atol=1e-4 * np.abs(reference).max())


def test_auto_scan_bins_ac_scans_of_several_points():
    model = builtin_model("qwz")
    common = dict(mu=np.linspace(-1, 1, 5), T=[0.2], tau=2.0, nk=8, units="natural", omega=[0.5, 1.5],
                  error_estimate=False)
    auto = compute(model, ["conductivity_ac", "optical_conductivity"], **common)
    assert (auto.attrs["scan"], auto.attrs["scan_requested"]) == ("binned", "auto")
    few = compute(model, ["conductivity_ac"], **dict(common, mu=[0.0, 0.5]))
    assert few.attrs["scan"] == "direct"


def test_auto_scan_stays_direct_when_the_ac_histograms_exceed_the_memory_limit(monkeypatch):
    model = builtin_model("qwz")
    common = dict(mu=np.linspace(-1, 1, 5), T=[0.2], tau=2.0, nk=6, units="natural", omega=[0.5, 1.5],
                  error_estimate=False)
    # the DC histogram of anomalous_hall: (2880 + 2) bins x 4 moments x 1 component = 11,528 doubles; the AC
    # ones of conductivity_ac carry 2 (Re, Im) x 2 omega x 2^2 components per band quantity: far more
    monkeypatch.setattr(spectral_ac, "AUTO_MAX_DOUBLES", 20000)
    ds = compute(model, ["conductivity_ac"], **common)
    assert (ds.attrs["scan"], ds.attrs["scan_requested"]) == ("direct", "auto")
    assert compute(model, ["anomalous_hall"], **common).attrs["scan"] == "binned"
    monkeypatch.setattr(spectral_ac, "AUTO_MAX_DOUBLES", 11527)  # the DC histogram counts too
    assert compute(model, ["anomalous_hall"], **common).attrs["scan"] == "direct"


def test_explicit_binned_refuses_histograms_above_one_gib():
    # 194560 bins (T_min/32 over [-3 - 40 T, 3 + 40 T]) x 4 x 2 x 300 omega x 2^2 x 3 band quantities
    with pytest.raises(ValueError, match=r"GiB.*\(194560 \+ 2\) energy bins.*300 omega.*limit is 134217728"):
        compute(builtin_model("qwz"), ["drude_ac", "optical_conductivity"], mu=[-3, 3], T=1e-3, tau=1.0,
                omega=np.linspace(0, 3, 300), nk=4, units="natural", scan="binned")


def test_scan_points_are_ordered_mu_T_omega():
    # one (mu, T, omega) point of a scan equals the same point computed alone (binned both times)
    model = builtin_model("qwz")
    common = dict(tau=2.0, nk=8, units="natural", error_estimate=False, scan="binned", width=0.2)
    full = compute(model, ["heat_conductivity_ac"], mu=[-0.5, 0.5], T=[0.1, 0.3], omega=[0.2, 1.1], **common)
    one = compute(model, ["heat_conductivity_ac"], mu=[-0.5, 0.5], T=[0.1, 0.3], omega=[1.1], **common)
    assert np.allclose(full.heat_conductivity_ac.isel(omega=1).values, one.heat_conductivity_ac.isel(omega=0).values,
                       rtol=1e-12, atol=1e-14)


def split_levels(model, splitting, seed=7):
    """model + a small k-independent Hermitian term: its degenerate levels split by about `splitting`."""
    from qgtransport.models.tightbinding import TightBinding

    rng = np.random.default_rng(seed)
    a = rng.normal(size=(model.norb, model.norb)) + 1j * rng.normal(size=(model.norb, model.norb))
    H_R = model.H_R.copy()
    H_R[np.flatnonzero(~np.any(model.R, axis=1))[0]] += splitting * (a + a.conj().T) / 4
    return TightBinding(lattice=model.lattice, positions=model.positions, R=model.R, H_R=H_R)


def test_near_pairs_of_split_levels_use_the_midpoint_form():
    # levels split by ~1e-3, inside delta = h/8 = 0.01 but above degeneracy_tol: near (not level) pairs,
    # whose F_mn is f'((e_n + e_m)/2) + O(e_nm^2 f''')
    from test_geometry import doubled

    model = split_levels(doubled(builtin_model("tilted_dirac")), 4e-3)
    e = np.linalg.eigvalsh(model.hamiltonian(np.array([[0.3, 0.2]]))[0])
    gaps = np.diff(e)
    assert np.any((gaps > 1e-4) & (gaps < 0.01))
    common = dict(mu=[0.3, 0.9], T=[0.3], tau=3.0, nk=10, units="natural", error_estimate=False, omega=OMEGA,
                  width=0.15)
    direct = compute(model, AC, scan="direct", **common)
    binned = compute(model, AC, scan="binned", bin_width=0.08, **common)
    for name in AC:
        a, b = direct[name].values, binned[name].values
        scale = np.abs(a).max()
        assert np.all(np.abs(a - b) <= binned[name + "_error"].values + 1e-13 * scale), name
        assert np.all(np.abs(a - b) <= 1e-4 * scale), name  # h = T/3.75


@pytest.fixture
def fake_gpu(monkeypatch):
    import sys

    from fake_cupy import make_module

    monkeypatch.setitem(sys.modules, "cupy", make_module())


def test_binned_ac_on_the_cupy_code_path_gives_the_cpu_numbers(fake_gpu):
    # tests/fake_cupy.py keeps CuPy's rules: no implicit device -> host conversion, no mixed arrays
    model = builtin_model("weyl")
    common = dict(mu=[-0.3, 0.4], T=[0.1, 0.3], tau=2.0, nk=6, units="natural", scan="binned", omega=[0.0, 1.0],
                  error_estimate=False)
    cpu = compute(model, AC + ["drude"], **common)
    gpu = compute(model, AC + ["drude"], backend="cupy", **common)
    assert gpu.attrs["backend"] == "cupy"
    for name in AC + ["drude"]:
        x = cpu[name].values
        assert np.allclose(gpu[name].values, x, rtol=1e-10, atol=1e-12 * np.abs(x).max()), name


@pytest.mark.parametrize("options", [dict(executor="processes", workers=2), dict(refine=True),
                                     dict(symmetry="auto", shift=0.0)])
def test_binned_ac_with_workers_refinement_and_symmetry(options):
    model = builtin_model("qwz", m=-1.0)
    common = dict(mu=np.linspace(-0.5, 1.5, 5), T=[0.2], tau=2.0, nk=12, units="natural", omega=[0.0, 1.3],
                  error_estimate=False, **options)
    quantities = ["conductivity_ac", "optical_entropy_conductivity"]
    direct = compute(model, quantities, scan="direct", **common)
    binned = compute(model, quantities, **common)
    assert binned.attrs["scan"] == "binned"
    for name in quantities:
        a = direct[name].values
        assert np.allclose(binned[name].values, a, rtol=0, atol=1e-6 * np.abs(a).max()), name
