"""TightBinding models from PythTB (1.x ``tb_model``) and TBmodels (``Model`` objects and HDF5 files).

Optional: needs the packages themselves (extra ``[wannier]``); nothing here is imported by the core.
Neither package stores units or a spin degeneracy, so both are arguments: energies and lengths are
taken to be in ``energy_unit`` and ``length_unit`` (default eV and Angstrom), and spin_degeneracy
must be given unless the model itself is spinful (PythTB nspin = 2 -> 1).

Conventions. PythTB stores hoppings <i, 0|H|j, R> (amp, i, j, R) and adds the Hermitian conjugate,
with H_ij(k) = sum e^{2 pi i k.(R + x_j - x_i)} (its convention I, as ours). TBmodels stores half of
the hoppings: H(k) = sum_R hop[R] e^{2 pi i k.R} + h.c., so the full matrix is
H(R) = hop[R] + hop[-R]^+. Positions are reduced in both, as in TightBinding.
"""

from __future__ import annotations

import numpy as np

from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding


def from_pythtb(model, *, spin_degeneracy: int | None = None, energy_unit: str = "eV",
                length_unit: str = "Angstrom", name: str = "pythtb model") -> TightBinding:
    """Convert a PythTB 1.x ``tb_model`` (fully periodic: dim_k = dim_r; nspin 1 or 2).

    With nspin = 2 the orbitals are expanded to (orbital, spin) pairs, orbital-major, and the spin
    degeneracy is 1; with nspin = 1 it must be given (1 or 2).
    """
    dim_k, dim_r = model._dim_k, model._dim_r
    if dim_k != dim_r:
        raise ValueError(f"only fully periodic PythTB models are supported (dim_k = {dim_k}, dim_r = {dim_r})")
    nspin = model._nspin
    spin_degeneracy = spin_from_nspin(nspin, spin_degeneracy)
    norb = model._norb
    size = norb * nspin
    terms: dict[tuple, np.ndarray] = {(0,) * dim_r: np.zeros((size, size), dtype=complex)}
    onsite = terms[(0,) * dim_r]
    for i in range(norb):
        onsite[block(i, nspin), block(i, nspin)] += np.asarray(model._site_energies[i]).reshape(nspin, nspin)
    for amplitude, i, j, R in model._hoppings:
        R = tuple(int(x) for x in np.asarray(R).reshape(-1))
        minus = tuple(-x for x in R)
        amp = np.asarray(amplitude, dtype=complex).reshape(nspin, nspin)
        terms.setdefault(R, np.zeros((size, size), dtype=complex))[block(i, nspin), block(j, nspin)] += amp
        terms.setdefault(minus, np.zeros((size, size), dtype=complex))[block(j, nspin), block(i, nspin)] += amp.conj().T
    positions = np.repeat(np.asarray(model._orb, dtype=float).reshape(norb, dim_r), nspin, axis=0)
    return TightBinding(lattice=np.asarray(model._lat, dtype=float), positions=positions, R=np.array(list(terms)),
                        H_R=np.array(list(terms.values())), spin_degeneracy=spin_degeneracy, energy_unit=energy_unit,
                        length_unit=length_unit, name=name, parameters={"source": "pythtb", "nspin": int(nspin)})


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
