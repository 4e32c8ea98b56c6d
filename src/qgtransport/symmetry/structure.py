"""The magnetic point group of a crystal structure, found by spglib.

The structure: the atoms of the model's Wannier90 .win (atoms_frac or atoms_cart) where the model was
read with one, else the orbital positions (orbitals within 0.5 Angstrom of one another form a site at their
mean position, a species per number of orbitals on the site: the Wannier centres of one atom's
orbitals scatter around it). spglib gives the space-group operations {W | t} in reduced coordinates; their
rotations in Cartesian coordinates, R = A^T W A^-T (rows of A the lattice vectors), form the point
group. Without magnetic moments the crystal is taken as non-magnetic (the group times time
reversal); with moments (one 3-vector per atom, axial) spglib's magnetic space group gives which
operations reverse time. Built-in models declare their groups (`qgtransport.models.builtin.SYMMETRY_GROUPS`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from qgtransport.models.builtin import SYMMETRY_GROUPS
from qgtransport.symmetry.group import Group, SymmetryError, close, generators_of

SYMPREC = 1e-3  # Angstrom
SITE_RADIUS = 0.5  # Angstrom: orbital centres closer than this to a site's first orbital belong to it
BOHR = 0.529177210903

BUILTIN_GROUPS = SYMMETRY_GROUPS  # declared in qgtransport.models.builtin


def win_atoms(path, lattice: np.ndarray):
    """(reduced positions (n, 3), species labels) from the atoms block of a .win file, or None."""
    text = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    lines = [re.split(r"[!#]", line)[0].strip() for line in text]
    for kind in ("atoms_frac", "atoms_cart"):
        start = next((i for i, ln in enumerate(lines) if re.fullmatch(rf"begin\s+{kind}", ln, re.I)), None)
        if start is None:
            continue
        stop = next(i for i in range(start, len(lines)) if re.fullmatch(rf"end\s+{kind}", lines[i], re.I))
        rows = [ln.split() for ln in lines[start + 1:stop] if ln]
        scale = 1.0
        if rows and len(rows[0]) == 1:
            scale = BOHR if rows[0][0].lower().startswith("bohr") else 1.0
            rows = rows[1:]
        species = [r[0] for r in rows]
        xyz = np.array([[float(x) for x in r[1:4]] for r in rows])
        reduced = xyz if kind == "atoms_frac" else (xyz * scale) @ np.linalg.inv(lattice)
        return reduced, species
    return None


def structure(model):
    """(lattice (3, 3), reduced positions, species numbers) of the model's crystal (module docstring)."""
    if model.dim != 3:
        raise SymmetryError(f'symmetry="auto" with spglib needs a 3D crystal; this model is {model.dim}D: '
                            "give the generators")
    win = (model.parameters or {}).get("win")
    found = win_atoms(win, model.lattice) if win and Path(win).is_file() else None
    if found is not None:
        positions, species = found
        numbers = np.unique(species, return_inverse=True)[1] + 1
        return model.lattice, positions, numbers
    sites, counts = orbital_sites(model)
    return model.lattice, sites, counts


def orbital_sites(model, radius: float = SITE_RADIUS):
    """Sites from orbital positions: orbitals within `radius` (Angstrom, periodic) of a first one form a
    site at their mean position (the Wannier centres of one atom's orbitals scatter around it);
    (reduced sites (s, 3), orbitals per site)."""
    lattice = np.asarray(model.lattice, dtype=float)
    reduced = np.asarray(model.positions, dtype=float)
    site = -np.ones(len(reduced), dtype=int)
    sites, counts = [], []
    for i in range(len(reduced)):
        if site[i] >= 0:
            continue
        offset = reduced - reduced[i]
        offset -= np.round(offset)
        near = (np.linalg.norm(offset @ lattice, axis=1) < radius) & (site < 0)
        site[near] = len(sites)
        sites.append(np.mod(reduced[i] + offset[near].mean(axis=0), 1.0))
        counts.append(int(near.sum()))
    return np.array(sites), np.array(counts)


def crystal_group(model, magnetic_moments=None, symprec: float = SYMPREC) -> Group:
    """The magnetic point group of the model's crystal found by spglib (module docstring)."""
    import warnings

    import spglib

    lattice, positions, numbers = structure(model)
    A = np.asarray(lattice, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spglib's notice about its error handling
        if magnetic_moments is None:
            data = spglib.get_symmetry((A, positions, numbers), symprec=symprec)
        else:
            moments = np.asarray(magnetic_moments, dtype=float)
            if moments.shape != (len(positions), 3):
                raise SymmetryError(f"magnetic_moments must be one 3-vector per atom ({len(positions)} atoms), "
                                    f"got shape {moments.shape}")
            data = spglib.get_magnetic_symmetry((A, positions, numbers, moments), symprec=symprec)
    if magnetic_moments is None:
        if data is None:
            raise SymmetryError("spglib found no symmetry of this structure")
        operations = [(W, False) for W in data["rotations"]] + [(W, True) for W in data["rotations"]]
    else:
        if data is None:
            raise SymmetryError("spglib found no magnetic symmetry of this structure")
        operations = list(zip(data["rotations"], (bool(t) for t in data["time_reversals"]), strict=True))
    cartesian = []
    for W, reversal in operations:
        R = A.T @ W @ np.linalg.inv(A.T)
        if not any(u == reversal and np.allclose(S, R, atol=1e-6) for S, u in cartesian):
            cartesian.append((R, reversal))
    group = close(cartesian, ["spglib"])
    return close([(group.rotations[i], bool(group.time_reversal[i])) for i in range(group.order)],
                 list(generators_of(group)))
