"""PythTB and TBmodels interop (optional packages: every test is skipped when they are absent)."""

from pathlib import Path

import numpy as np
import pytest

from qgtransport.geometry import band_geometry
from qgtransport.models.reading import ModelFileError
from qgtransport.models.wannier90 import read_hr

PB = Path(__file__).parent / "data" / "wannier90" / "pb"
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
