"""PythTB and TBmodels interop (optional packages: every test is skipped when they are absent).

PythTB 2 (``TBModel``) needs Python >= 3.12, so its tests are skipped on 3.11 (CI); run them in a
3.12 environment with ``pythtb>=2`` installed.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from qgtransport import builtin_model
from qgtransport.bands.geometry import band_geometry
from qgtransport.compute import compute
from qgtransport.models.reading import ModelFileError
from qgtransport.models.wannier90 import read_hr

PB = Path(__file__).parents[1] / "data" / "wannier90" / "pb"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # TBmodels 1.4 under numpy 2


def test_tbmodels_mdrs_reader_agrees_with_ours():
    """TBmodels' own _hr/_wsvec reader (an independent MDRS implementation) gives the same H(k)
    up to the centre gauge, hence the same bands."""
    tbmodels = pytest.importorskip("tbmodels")
    from qgtransport.models.interop import from_tbmodels

    tm = tbmodels.Model.from_wannier_files(hr_file=str(PB / "lead_hr.dat"), wsvec_file=str(PB / "lead_wsvec.dat"),
                                           xyz_file=str(PB / "lead_centres.xyz"), win_file=str(PB / "lead.win"))
    converted = from_tbmodels(tm, spin_degeneracy=2)
    ours = read_hr(PB / "lead_hr.dat")
    k = np.random.default_rng(0).uniform(-0.5, 0.5, size=(10, 3))
    np.testing.assert_allclose(converted.hamiltonian(converted.to_cartesian(k)), tm.hamilton(k, convention=1),
                               atol=1e-12)
    np.testing.assert_allclose(band_geometry(converted, converted.to_cartesian(k)).energies,
                               band_geometry(ours, ours.to_cartesian(k)).energies, atol=1e-12)


def test_tbmodels_hdf5(tmp_path):
    tbmodels = pytest.importorskip("tbmodels")
    from qgtransport.models.interop import read_tbmodels_hdf5

    tm = tbmodels.Model(on_site=[0.5, -0.5], pos=[[0, 0, 0], [0.5, 0.5, 0]], uc=2 * np.eye(3), occ=1)
    tm.add_hop(0.3 + 0.1j, 0, 1, (0, 0, 0))
    tm.add_hop(-0.2, 0, 0, (1, 0, 0))
    tm.add_hop(0.05j, 0, 1, (0, 1, 1))
    tbmodels.io.save(tm, str(tmp_path / "model.hdf5"))
    model = read_tbmodels_hdf5(tmp_path / "model.hdf5", spin_degeneracy=2)
    k = np.random.default_rng(1).uniform(size=(6, 3))
    np.testing.assert_allclose(model.hamiltonian(model.to_cartesian(k)), tm.hamilton(k, convention=1), atol=1e-13)
    (tmp_path / "broken.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(ModelFileError, match="not a readable TBmodels HDF5 file"):
        read_tbmodels_hdf5(tmp_path / "broken.hdf5", spin_degeneracy=2)


def pythtb_hamiltonian(model, k_reduced):
    if hasattr(model, "solve_ham"):  # PythTB 2, where tb_model is a deprecated TBModel
        return model.hamiltonian(k_reduced, flatten_spin_axis=True)
    norb, nspin = model._norb, model._nspin
    return np.array([model._gen_ham(k).reshape(norb * nspin, norb * nspin) for k in k_reduced])


@pytest.mark.parametrize("nspin", [1, 2])
def test_pythtb_model(nspin):
    pythtb = pytest.importorskip("pythtb")
    from qgtransport.models.interop import from_pythtb

    lattice = [[1.0, 0.0], [0.5, np.sqrt(3) / 2]]
    tb = pythtb.tb_model(2, 2, lattice, [[1 / 3, 1 / 3], [2 / 3, 2 / 3]], nspin=nspin)
    tb.set_onsite([0.2, -0.2])
    tb.set_hop(-1.0, 0, 1, [0, 0])
    tb.set_hop(-1.0, 1, 0, [1, 0])
    tb.set_hop(-1.0, 1, 0, [0, 1])
    if nspin == 2:
        tb.set_hop([0, 0, 0, 0.1j], 0, 0, [1, 0])  # a sigma_z term
        tb.set_hop([0, 0.05, 0, 0], 0, 1, [0, 0], mode="add")
    else:
        tb.set_hop(0.1j, 0, 0, [1, 0])
    with pytest.raises(ValueError, match="spin"):
        from_pythtb(tb, spin_degeneracy=2 if nspin == 2 else None)
    model = from_pythtb(tb, spin_degeneracy=None if nspin == 2 else 2)
    assert model.spin_degeneracy == (1 if nspin == 2 else 2)
    k = np.random.default_rng(2).uniform(size=(5, 2))
    np.testing.assert_allclose(model.hamiltonian(model.to_cartesian(k)), pythtb_hamiltonian(tb, k), atol=1e-13)


def pythtb2():
    """PythTB >= 2 (``TBModel``; Python >= 3.12), or skip."""
    if sys.version_info < (3, 12):
        pytest.skip("PythTB 2 needs Python >= 3.12")
    pythtb = pytest.importorskip("pythtb")
    if not hasattr(pythtb, "TBModel"):
        pytest.skip(f"PythTB {pythtb.__version__} is 1.x (no TBModel)")
    return pythtb


def pythtb2_haldane(pythtb, t1=1.0, t2=0.1, phi=np.pi / 2, M=0.2):
    """The Haldane model of builtin_model("haldane"), written in PythTB 2."""
    lattice = pythtb.Lattice([[1.0, 0.0], [0.5, np.sqrt(3) / 2]], [[1 / 3, 1 / 3], [2 / 3, 2 / 3]],
                             periodic_dirs=...)
    tb = pythtb.TBModel(lattice)
    tb.set_onsite([M, -M])
    for R in ([0, 0], [-1, 0], [0, -1]):
        tb.set_hop(t1, 0, 1, R)
    for R in ([1, 0], [-1, 1], [0, -1]):
        tb.set_hop(t2 * np.exp(1j * phi), 0, 0, R)
        tb.set_hop(t2 * np.exp(-1j * phi), 1, 1, R)
    return tb


def assert_same_bands(model, tb, k_reduced):
    """H(k) and energies of the converted model equal PythTB 2's own at reduced k."""
    H = model.hamiltonian(model.to_cartesian(k_reduced))
    np.testing.assert_allclose(H, tb.hamiltonian(k_reduced, flatten_spin_axis=True), atol=1e-12)
    np.testing.assert_allclose(band_geometry(model, model.to_cartesian(k_reduced)).energies,
                               tb.solve_ham(k_reduced), atol=1e-12)


def test_pythtb2_haldane_bands_and_chern_number():
    """Haldane model built in PythTB 2: its bands, those of our own Haldane model, and the Hall
    conductance -C/(2 pi) (natural units) with C from PythTB's chern_number (lower band)."""
    pythtb = pythtb2()
    from qgtransport.models.interop import from_pythtb

    tb = pythtb2_haldane(pythtb)
    model = from_pythtb(tb, spin_degeneracy=1)
    assert model.spin_degeneracy == 1 and model.parameters["source"] == "pythtb2"
    k = np.random.default_rng(3).uniform(-1, 1, size=(20, 2))
    assert_same_bands(model, tb, k)
    ours = builtin_model("haldane", t1=1.0, t2=0.1, phi=np.pi / 2, M=0.2)
    np.testing.assert_allclose(band_geometry(model, model.to_cartesian(k)).energies,
                               band_geometry(ours, ours.to_cartesian(k)).energies, atol=1e-12)
    C = float(np.squeeze(tb.chern_number(plane=(0, 1), nks=(48, 48), occ_idxs=[0])))
    assert C == pytest.approx(round(C), abs=1e-3) and abs(round(C)) == 1
    ds = compute(model, ["anomalous_hall"], mu=0.0, T=0.01, nk=64, units="natural", error_estimate=False)
    sigma_xy = float(ds.anomalous_hall.isel(mu=0, T=0).sel(a="x", b="y"))
    assert sigma_xy == pytest.approx(-round(C) / (2 * np.pi), abs=1e-9)


def test_pythtb2_spinful_model_off_origin():
    """Spinful TBModel (2x2 blocks: Pauli lists and matrices, a spin-orbit term), orbitals off the
    origin in a skewed 3D cell: 2 norb orbitals, spin degeneracy 1."""
    pythtb = pythtb2()
    from qgtransport.models.interop import from_pythtb

    lattice = pythtb.Lattice([[1.0, 0.1, 0.0], [0.3, 1.2, 0.0], [0.2, -0.1, 0.9]],
                             [[0.1, 0.2, 0.3], [0.6, 0.45, 0.8]], periodic_dirs=...)
    tb = pythtb.TBModel(lattice, spinful=True)
    tb.set_onsite([[0.3, 0.0, 0.0, 0.1], [-0.2, 0.05, 0.0, 0.0]])  # [s0, sx, sy, sz] coefficients
    tb.set_hop(-1.0, 0, 1, [0, 0, 0])
    tb.set_hop([0.0, 0.0, 0.0, 0.1j], 0, 0, [1, 0, 0])
    tb.set_hop(np.array([[0.2, 0.05 - 0.1j], [0.03j, -0.4]]), 0, 1, [1, -1, 2])
    tb.set_hop([-0.3, 0.02, 0.0, 0.0], 1, 1, [0, 1, 1])
    with pytest.raises(ValueError, match="spin"):
        from_pythtb(tb, spin_degeneracy=2)
    model = from_pythtb(tb)
    assert model.norb == 4 and model.spin_degeneracy == 1
    np.testing.assert_allclose(model.positions[::2], tb.orb_vecs)
    assert_same_bands(model, tb, np.random.default_rng(4).uniform(-1, 1, size=(20, 3)))


def test_pythtb2_spinless_model_off_origin_and_parameters():
    """Spinless 3-orbital model with random positions and complex hoppings; a named parameter must
    be given a value; spinless models need spin_degeneracy."""
    pythtb = pythtb2()
    from qgtransport.models.interop import from_pythtb

    rng = np.random.default_rng(5)
    lattice = pythtb.Lattice([[2.0, 0.0], [0.7, 1.5]], rng.uniform(size=(3, 2)), periodic_dirs=[0, 1])
    tb = pythtb.TBModel(lattice)
    tb.set_onsite(rng.normal(size=3))
    for i, j, R in [(0, 1, [0, 0]), (1, 2, [1, 0]), (2, 0, [1, -1]), (0, 0, [0, 2]), (2, 2, [1, 1])]:
        tb.set_hop(complex(*rng.normal(size=2)), i, j, R)
    tb.set_hop("t", 0, 2, [0, 1])
    with pytest.raises(ValueError, match="spin_degeneracy"):
        from_pythtb(tb, parameters={"t": 0.4})
    with pytest.raises(ValueError, match="parameters without values: t"):
        from_pythtb(tb, spin_degeneracy=2)
    model = from_pythtb(tb, spin_degeneracy=2, parameters={"t": 0.4}, energy_unit="meV", length_unit="nm")
    assert (model.spin_degeneracy, model.energy_unit, model.length_unit) == (2, "meV", "nm")
    assert_same_bands(model, tb.with_parameters(t=0.4), rng.uniform(-1, 1, size=(20, 2)))


def test_pythtb2_ribbon_and_finite_models():
    """dim_k < dim_r: the periodic directions only (a ribbon becomes a 1D model with |a| kept);
    no periodic direction: ValueError."""
    pythtb = pythtb2()
    from qgtransport.models.interop import from_pythtb

    haldane = pythtb2_haldane(pythtb)
    ribbon = haldane.cut_piece(4, 1)
    model = from_pythtb(ribbon, spin_degeneracy=1)
    assert model.dim == 1 and model.norb == 8
    np.testing.assert_allclose(model.lattice, [[1.0]])
    assert_same_bands(model, ribbon, np.random.default_rng(6).uniform(-1, 1, size=(10, 1)))
    slab = pythtb.TBModel(pythtb.Lattice([[1.0, 0.2, 0.3], [0.4, 1.1, -0.2], [0.0, 0.1, 2.0]],
                                         [[0.1, 0.2, 0.3], [0.5, 0.5, 0.6]], periodic_dirs=[0, 2]))
    slab.set_onsite([0.1, -0.1])
    slab.set_hop(0.5 + 0.2j, 0, 1, [1, 0, -1])
    slab.set_hop(-0.3, 1, 1, [0, 0, 1])
    model = from_pythtb(slab, spin_degeneracy=2)
    periodic = slab.lat_vecs[[0, 2]]
    np.testing.assert_allclose(model.lattice @ model.lattice.T, periodic @ periodic.T, atol=1e-14)
    assert_same_bands(model, slab, np.random.default_rng(7).uniform(-1, 1, size=(10, 2)))
    with pytest.raises(ValueError, match="no periodic direction"):
        from_pythtb(haldane.make_finite(periodic_dirs=[0, 1], num_cells=[2, 2]), spin_degeneracy=1)
