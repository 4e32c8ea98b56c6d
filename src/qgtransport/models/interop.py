"""TightBinding models from PythTB (1.x ``tb_model``, 2.x ``TBModel``) and TBmodels (``Model`` objects and HDF5 files).

Optional: needs the packages themselves (extra ``[wannier]``; PythTB 2 needs Python >= 3.12); nothing here
is imported by the core. Neither package stores units or a spin degeneracy, so both are arguments:
energies and lengths are taken to be in ``energy_unit`` and ``length_unit`` (default eV and Angstrom),
and spin_degeneracy must be given unless the model itself is spinful (PythTB nspin = 2 -> 1).

Conventions. PythTB (1.x and 2.x alike) stores hoppings <i, 0|H|j, R> (amp, i, j, R) and adds the
Hermitian conjugate, with H_ij(k) = sum e^{2 pi i k.(R + x_j - x_i)} (its convention I, as ours);
spinful models have 2x2 blocks, flattened orbital-major as (orbital, spin). TBmodels stores half of
the hoppings: H(k) = sum_R hop[R] e^{2 pi i k.R} + h.c., so the full matrix is
H(R) = hop[R] + hop[-R]^+. Positions are reduced in all of them, as in TightBinding.
"""

from __future__ import annotations

import numpy as np

from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding


def from_pythtb(model, *, spin_degeneracy: int | None = None, energy_unit: str = "eV",
                length_unit: str = "Angstrom", name: str = "pythtb model",
                parameters: dict | None = None) -> TightBinding:
    """Convert a PythTB model: a 1.x ``tb_model`` (fully periodic: dim_k = dim_r) or a 2.x ``TBModel``.

    With nspin = 2 (PythTB 2: spinful=True) the orbitals are expanded to (orbital, spin) pairs,
    orbital-major, and the spin degeneracy is 1; with nspin = 1 it must be given (1 or 2).

    Parameters
    ----------
    model : pythtb.tb_model (PythTB 1.x) or pythtb.TBModel (PythTB >= 2)
        The model; PythTB 2's ``tb_model`` is a TBModel and converts as one. A 2.x model with
        fewer periodic than real-space directions is handled by from_pythtb2 (periodic directions only).
    spin_degeneracy : {1, 2}, optional
        Electrons per band state of a spinless model; must be None or 1 for a spinful one.
    energy_unit, length_unit : str
        PythTB models are unitless: the units the caller means (default eV and Angstrom).
    name : str
        Label of the TightBinding.
    parameters : dict, optional
        PythTB 2 only: scalar values of the model's named parameters (``TBModel.with_parameters``).
    """
    if not hasattr(model, "_hoppings"):  # PythTB 2 keeps a HoppingTable, not a list of hoppings
        return from_pythtb2(model, spin_degeneracy=spin_degeneracy, energy_unit=energy_unit,
                            length_unit=length_unit, name=name, parameters=parameters)
    if parameters:
        raise ValueError(f"parameters are a PythTB 2 feature; this PythTB 1.x tb_model has none, got {parameters!r}")
    dim_k, dim_r = model._dim_k, model._dim_r
    if dim_k != dim_r:
        raise ValueError(f"only fully periodic PythTB models are supported (dim_k = {dim_k}, dim_r = {dim_r})")
    nspin = model._nspin
    spin_degeneracy = spin_from_nspin(nspin, spin_degeneracy)
    norb = model._norb
    R, H_R = hopping_matrices(model._site_energies, model._hoppings, norb=norb, nspin=nspin, dim=dim_r)
    positions = np.repeat(np.asarray(model._orb, dtype=float).reshape(norb, dim_r), nspin, axis=0)
    return TightBinding(lattice=np.asarray(model._lat, dtype=float), positions=positions, R=R, H_R=H_R,
                        spin_degeneracy=spin_degeneracy, energy_unit=energy_unit, length_unit=length_unit,
                        name=name, parameters={"source": "pythtb", "nspin": int(nspin)})


def from_pythtb2(model, *, spin_degeneracy: int | None = None, energy_unit: str = "eV",
                 length_unit: str = "Angstrom", name: str = "pythtb model",
                 parameters: dict | None = None) -> TightBinding:
    """Convert a PythTB 2 ``TBModel`` (spinless or spinful) through its public API.

    Only the periodic directions (``model.periodic_dirs``, dim_k >= 1 of them) are kept, as in PythTB's
    own H(k): positions are the reduced coordinates along them, and when dim_k < dim_r (a ribbon or
    slab) the periodic lattice vectors are rotated into a dim_k-dimensional frame with the same lengths
    and angles (first along x, second in the upper xy half-plane), so results are per periodic cell
    (length or area). A model with no periodic direction raises ValueError. Named parameters must be
    given values (``parameters``) or ValueError is raised. Options as in from_pythtb.
    """
    if parameters:
        model = model.with_parameters(dict(parameters))
    unset = sorted({label for provider in model.parameters for label in provider["names"]})
    if unset:
        raise ValueError(f"the PythTB model has parameters without values: {', '.join(unset)} "
                         "(give them as parameters={...})")
    periodic = list(model.periodic_dirs)
    if not periodic:
        raise ValueError(f"the PythTB model has no periodic direction (dim_k = 0, dim_r = {model.dim_r})")
    nspin, norb = model.nspin, model.norb
    spin_degeneracy = spin_from_nspin(nspin, spin_degeneracy)
    dim_r = model.dim_r
    hoppings = []
    for hop in model.hoppings:
        R = np.asarray(hop.get("lattice_vector", np.zeros(dim_r, dtype=int)), dtype=int).reshape(dim_r)
        hoppings.append((hop["amplitude"], hop["from_orbital"], hop["to_orbital"], R[periodic]))
    R, H_R = hopping_matrices(model.onsite, hoppings, norb=norb, nspin=nspin, dim=len(periodic))
    positions = np.repeat(model.orb_vecs[:, periodic], nspin, axis=0)
    return TightBinding(lattice=periodic_frame(model.lat_vecs, periodic), positions=positions, R=R, H_R=H_R,
                        spin_degeneracy=spin_degeneracy, energy_unit=energy_unit, length_unit=length_unit,
                        name=name, parameters={"source": "pythtb2", "nspin": int(nspin),
                                               "periodic_dirs": periodic})


def from_tbmodels(model, *, spin_degeneracy: int, energy_unit: str = "eV", length_unit: str = "Angstrom",
                  name: str = "tbmodels model") -> TightBinding:
    """Convert a ``tbmodels.Model``: H(R) = hop[R] + hop[-R]^+ (TBmodels keeps half of the hoppings)."""
    if spin_degeneracy not in (1, 2):
        raise ValueError(f"spin_degeneracy must be 1 or 2 (TBmodels does not store it), got {spin_degeneracy!r}")
    if model.uc is None:
        raise ValueError("the TBmodels model has no unit cell (uc); it is needed for k in Cartesian units")
    half = {tuple(int(x) for x in R): np.asarray(model._array_cast(hop), dtype=complex) for R, hop in model.hop.items()}
    full = {}
    for R in set(half) | {tuple(-x for x in R) for R in half}:
        minus = tuple(-x for x in R)
        zero = np.zeros((model.size, model.size), dtype=complex)
        full[R] = half.get(R, zero) + half.get(minus, zero).conj().T
    return TightBinding(lattice=np.asarray(model.uc, dtype=float), positions=np.asarray(model.pos, dtype=float),
                        R=np.array(list(full)), H_R=np.array(list(full.values())), spin_degeneracy=spin_degeneracy,
                        energy_unit=energy_unit, length_unit=length_unit, name=name,
                        parameters={"source": "tbmodels"})


def read_tbmodels_hdf5(path, *, spin_degeneracy: int, **options) -> TightBinding:
    """Read a TBmodels HDF5 file (``tbmodels.io.save``); unreadable files give a ModelFileError."""
    import tbmodels

    try:
        model = tbmodels.io.load(str(path))
    except FileNotFoundError:
        raise
    except Exception as err:  # h5py and TBmodels raise OSError, KeyError, ValueError, ...
        raise ModelFileError(path, f"not a readable TBmodels HDF5 file ({type(err).__name__}: {err})") from None
    if not isinstance(model, tbmodels.Model):
        raise ModelFileError(path, f"holds a {type(model).__name__}, not a tbmodels.Model")
    return from_tbmodels(model, spin_degeneracy=spin_degeneracy, **options)


def spin_from_nspin(nspin: int, spin_degeneracy: int | None) -> int:
    """Spinful PythTB models hold one electron per state; spinless ones need it said."""
    if nspin == 2:
        if spin_degeneracy not in (None, 1):
            raise ValueError(f"a spinful (nspin = 2) PythTB model has spin degeneracy 1, got {spin_degeneracy!r}")
        return 1
    if spin_degeneracy not in (1, 2):
        raise ValueError("spin_degeneracy must be given (1 or 2) for a spinless PythTB model, "
                         f"got {spin_degeneracy!r}")
    return int(spin_degeneracy)


def block(orbital: int, nspin: int) -> slice:
    """Rows/columns of one PythTB orbital in the expanded (orbital, spin) basis."""
    return slice(orbital * nspin, (orbital + 1) * nspin)


def hopping_matrices(site_energies, hoppings, *, norb: int, nspin: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(R, H_R) from PythTB on-site energies and hoppings (amp, i, j, R): H_ij(R) += amp, H_ji(-R) += amp^+."""
    size = norb * nspin
    terms: dict[tuple, np.ndarray] = {(0,) * dim: np.zeros((size, size), dtype=complex)}
    onsite = terms[(0,) * dim]
    for i in range(norb):
        onsite[block(i, nspin), block(i, nspin)] += np.asarray(site_energies[i]).reshape(nspin, nspin)
    for amplitude, i, j, R in hoppings:
        R = tuple(int(x) for x in np.asarray(R).reshape(-1))
        minus = tuple(-x for x in R)
        amp = np.asarray(amplitude, dtype=complex).reshape(nspin, nspin)
        terms.setdefault(R, np.zeros((size, size), dtype=complex))[block(i, nspin), block(j, nspin)] += amp
        terms.setdefault(minus, np.zeros((size, size), dtype=complex))[block(j, nspin), block(i, nspin)] += amp.conj().T
    return np.array(list(terms)), np.array(list(terms.values()))


def periodic_frame(lattice: np.ndarray, periodic: list[int]) -> np.ndarray:
    """The periodic lattice vectors (rows) in a frame of their own dimension, lengths and angles kept.

    All directions periodic: the lattice unchanged. Otherwise A = L Q with L lower triangular
    (positive diagonal) and Q orthonormal rows; L is returned, so L L^T = A A^T.
    """
    lattice = np.asarray(lattice, dtype=float)
    if len(periodic) == lattice.shape[0]:
        return lattice
    _, r = np.linalg.qr(lattice[periodic].T)  # A^T = q r  ->  A = r^T q^T
    return (r * np.sign(np.diag(r))[:, None]).T
