"""Wannier90 tight-binding models: seedname_hr.dat, _tb.dat, _wsvec.dat, .win and _centres.xyz.

Wannier90 (wannier90.x and postw90.x: geninterp, BoltzWann, berry) interpolates with the
minimal-distance replica scheme (MDRS, ``use_ws_distance = true``, the default since 3.0):

    H_mn(k) = sum_R sum_{T in T_Rmn} exp(i k.(R + T)) H_mn(R) / (ndegen(R) n_Rmn),

with ndegen(R) the Wigner-Seitz degeneracies of _hr.dat and T_Rmn the n_Rmn supercell vectors of
_wsvec.dat that bring Wannier function n in cell R closest to m in cell 0. The readers here fold this
into plain hoppings on the enlarged set of lattice vectors R' = R + T,

    H'_mn(R') = sum_{(R, T): R + T = R'} H_mn(R) / (ndegen(R) n_Rmn),

so the model stays a TightBinding. Its Fourier convention (docs/conventions.md) puts the Wannier
centres tau in the phase, H_ours(k) = D(k)^+ H_W90(k) D(k) with D = diag(exp(i k.tau)): a unitary
transformation, so band energies and band velocities dE/dk are those of postw90 exactly (checked
against geninterp in tests/models/test_wannier90.py). Berry connections, metrics and curvatures use the
diagonal (tight-binding) position approximation with the centres as tau by default; the full position
matrix <0m|r|Rn> of _tb.dat (read_tb_positions, attached by tightbinding.with_position_matrix) enters
with positions="full" (bands.geometry.position_matrix_terms: WYSV 2006, checked against WannierBerri).

Units: energies eV, lengths Angstrom (.win lattices in bohr are converted with Wannier90 3.1's
bohr = 0.52917720859 Angstrom, so lattices agree with _tb.dat to the last digit).

Every malformed or inconsistent input raises ModelFileError (a ValueError) naming the file, the
line and the problem. The only change made to what a file holds is the Hermitian symmetrisation
H'(R') -> (H'(R') + H'(-R')^+)/2 after checking that the two differ by at most
``hermiticity_tol`` (rounding of the printed digits); the largest deviation is kept in
``model.parameters["hermiticity_max_deviation"]``.

The files are parsed by qgtransport.models.wannier90_hoppings (_hr.dat, _tb.dat, _wsvec.dat) and
qgtransport.models.wannier90_win (.win, _centres.xyz); this module assembles the model from them and
re-exports their readers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qgtransport.models.reading import ModelFileError
from qgtransport.models.tightbinding import TightBinding
from qgtransport.models.wannier90_hoppings import (
    HERMITICITY_TOL,
    HoppingFile,
    Replicas,
    read_hr_file,
    read_tb_file,
    read_wsvec,
)
from qgtransport.models.wannier90_win import BOHR_IN_ANGSTROM_W90, WinFile, read_centres, read_win

__all__ = [
    "ModelFileError", "HoppingFile", "Replicas", "WinFile", "PositionMatrix",
    "read_hr", "read_tb", "read_tb_positions", "read_hr_file", "read_tb_file", "read_wsvec",
    "read_win", "read_centres", "fold_replicas", "HERMITICITY_TOL", "BOHR_IN_ANGSTROM_W90",
]


@dataclass(frozen=True)
class PositionMatrix:
    """Position matrix elements r_a,mn(R) = <0 m|r_a|R n> (Angstrom) on the same folded lattice
    vectors as the model's H(R): R (nR, 3) int, r (nR, 3, nw, nw) complex. Wannier90 convention:
    the diagonal r_a,mm(0) are the Wannier centres (Cartesian)."""

    R: np.ndarray
    r: np.ndarray
    length_unit: str = "Angstrom"


# ---------------------------------------------------------------------------------------------
# Public readers
# ---------------------------------------------------------------------------------------------


def read_hr(path, *, wsvec="auto", win="auto", centres="auto", lattice=None, spin_degeneracy=None,
            hermiticity_tol: float = HERMITICITY_TOL, name: str | None = None) -> TightBinding:
    """Read a Wannier90 ``seedname_hr.dat`` into a TightBinding model (eV, Angstrom).

    Parameters
    ----------
    path : str or pathlib.Path
        The file seedname_hr.dat.
    wsvec, win, centres : path, None or "auto"
        seedname_wsvec.dat (MDRS shifts), seedname.win (lattice, spinors, num_wann, mp_grid) and
        seedname_centres.xyz (Wannier centres, Cartesian Angstrom). "auto" (default) takes the file
        beside `path` with the same seedname if it exists; None does not use it. Without wsvec the
        interpolation is the plain Wigner-Seitz sum, as Wannier90 with use_ws_distance = false (a
        warning is given for "auto"); without centres every tau is 0 (warning).
    lattice : (3, 3) array, optional
        Lattice vectors as rows in Angstrom, when there is no .win (checked against it otherwise).
    spin_degeneracy : 1, 2 or None
        Electrons per band state. None: from the .win (spinors = true -> 1; otherwise
        num_elec_per_state, default 2, as Wannier90); without a .win it must be given.
    hermiticity_tol : float
        Largest |H(-R) - H(R)^+| accepted (eV); the model is then symmetrised.
    name : str, optional
        Model name (default: the seedname).

    Raises
    ------
    ModelFileError
        A ValueError naming the file, line and problem for malformed or inconsistent files.
    ValueError
        When the lattice or the spin degeneracy is not known.
    """
    path = str(path)
    seed, hop, win_file = read_hoppings_and_win(path, "_hr.dat", read_hr_file, win, hermiticity_tol)
    cell = lattice_from(lattice, win_file, None, path)
    centres_cart, centres_source = centres_from(centres, seed, hop)
    return build_model(hop, cell, win_file, seed, path, wsvec, (centres_cart, centres_source), spin_degeneracy,
                       hermiticity_tol, name, source="wannier90_hr")


def read_hoppings_and_win(path: str, suffix: str, reader, win, hermiticity_tol: float) -> tuple:
    """(seedname, hoppings, .win or None) of an _hr.dat/_tb.dat, the .win checked against the file
    (num_wann, and sum_R 1/ndegen(R) against mp_grid)."""
    seed = seedname(path, suffix)
    hop = reader(path, hermiticity_tol)
    win_file = read_win_if_any(win, seed)
    check_num_wann(win_file, hop)
    check_ndegen_sum(win_file, hop)
    return seed, hop, win_file


def read_tb(path, *, wsvec="auto", win="auto", spin_degeneracy=None, hermiticity_tol: float = HERMITICITY_TOL,
            name: str | None = None) -> TightBinding:
    """Read a Wannier90 ``seedname_tb.dat`` into a TightBinding model (eV, Angstrom).

    The lattice comes from the file itself and the orbital positions tau from the diagonal of its
    position matrix at R = 0 (the Wannier centres). H(R) is printed with 8 significant digits
    (_hr.dat: 6 decimals). wsvec, win, spin_degeneracy, hermiticity_tol and name as in read_hr; a
    .win, when used, must have the same lattice. The position matrix itself: read_tb_positions.
    """
    path = str(path)
    seed, hop, win_file = read_hoppings_and_win(path, "_tb.dat", read_tb_file, win, hermiticity_tol)
    cell = lattice_from(None, win_file, hop, path)
    origin = np.flatnonzero(np.all(hop.R == 0, axis=1))
    if origin.size == 0:
        raise ModelFileError(path, "no R = (0, 0, 0) block: the Wannier centres cannot be read")
    centres_cart = np.einsum("amm->ma", hop.positions[origin[0]]).real / hop.ndegen[origin[0]]
    return build_model(hop, cell, win_file, seed, path, wsvec, (centres_cart, f"{path}: <0 m|r|0 m>"),
                       spin_degeneracy, hermiticity_tol, name, source="wannier90_tb")


def read_tb_positions(path, *, wsvec="auto", hermiticity_tol: float = HERMITICITY_TOL) -> PositionMatrix:
    """The position matrix <0 m|r_a|R n> of a ``seedname_tb.dat`` (Angstrom), divided by ndegen(R) and
    folded with the MDRS shifts exactly as read_tb folds H(R), so that its R are the model's.

    Using it in the Berry connection (beyond the diagonal tight-binding approximation) means, in our
    convention I: A_mn(k) = sum_R' exp(i k.(R' + tau_n - tau_m)) [r_mn(R') - tau_m delta_mn delta_R'0],
    r^a_nm -> r^a_nm + (U^+ A^a U)_nm, and the Berry curvature gains the curl of A
    (bands.geometry.position_matrix_terms); see docs/wannier90_tutorial.md.
    """
    path = str(path)
    hop = read_tb_file(path, hermiticity_tol)
    replicas = replicas_for(wsvec, seedname(path, "_tb.dat"), hop, warn=False)
    moved = np.moveaxis(hop.positions, 1, -1)  # (nR, nw, nw, 3)
    R, r = fold_replicas(hop.R, moved / hop.ndegen[:, None, None, None], hop.num_wann, replicas)
    return PositionMatrix(R=R, r=np.moveaxis(r, -1, 1))


# ---------------------------------------------------------------------------------------------
# Model assembly
# ---------------------------------------------------------------------------------------------


def build_model(hop: HoppingFile, cell, win_file, seed, path, wsvec, centres, spin_degeneracy, tol, name,
                source) -> TightBinding:
    """Fold ndegen and the MDRS shifts, attach centres (Cartesian array, source) and the spin
    degeneracy, and symmetrise H(R') after checking its Hermiticity."""
    replicas = replicas_for(wsvec, seed, hop, warn=True, mp_grid=win_file.mp_grid if win_file else None)
    R, H = fold_replicas(hop.R, hop.H / hop.ndegen[:, None, None], hop.num_wann, replicas)
    H, deviation = symmetrise(R, H, tol, replicas.path if replicas else path)
    centres_cart, centres_source = centres
    spin, spin_source = spin_degeneracy_from(spin_degeneracy, win_file)
    parameters = {
        "source": source,
        "file": path,
        "wsvec": replicas.path if replicas else None,
        "win": win_file.path if win_file else None,
        "centres": centres_source,
        "mdrs": replicas is not None,
        "spin_degeneracy_source": spin_source,
        "hermiticity_max_deviation": deviation,
        "num_R_file": int(len(hop.R)),
    }
    if win_file is not None and win_file.fermi_energy is not None:
        parameters["fermi_energy"] = win_file.fermi_energy
    return TightBinding(lattice=cell, positions=centres_cart @ np.linalg.inv(cell), R=R, H_R=H,
                        spin_degeneracy=spin, energy_unit="eV", length_unit="Angstrom",
                        name=name or Path(seed).name, parameters=parameters)


def centres_from(centres, seed: str, hop: HoppingFile) -> tuple[np.ndarray, str | None]:
    """Wannier centres (num_wann, 3), Cartesian Angstrom, from _centres.xyz, and the file used;
    zeros (with a warning for "auto") when there is none."""
    centres_path = found(centres, seed, "_centres.xyz")
    if centres_path is not None:
        return read_centres(centres_path, hop.num_wann), centres_path
    if isinstance(centres, str) and centres == "auto":
        warnings.warn(f"{hop.path}: no Wannier centres ({seed}_centres.xyz not found); orbital positions set "
                      "to 0, which changes Berry connections and curvatures (not energies)", stacklevel=3)
    return np.zeros((hop.num_wann, 3)), None


def fold_replicas(R: np.ndarray, values: np.ndarray, num_wann: int, replicas: Replicas | None):
    """Fold values (nR, nw, nw, ...) already divided by ndegen onto R' = R + T with weight 1/n_Rmn.

    Returns (R' (nR', 3) sorted, folded (nR', nw, nw, ...)). Without replicas: (R, values).
    """
    if replicas is None:
        return R, values
    nw = num_wann
    entry = replicas.entry
    block = entry // (nw * nw)
    m = (entry // nw) % nw
    n = entry % nw
    R_prime, inverse = np.unique(R[block] + replicas.T, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    weight = values[block, m, n] / replicas.count.reshape(-1)[entry].reshape((-1,) + (1,) * (values.ndim - 3))
    folded = np.zeros((len(R_prime), nw, nw) + values.shape[3:], dtype=values.dtype)
    np.add.at(folded, (inverse, m, n), weight)
    return R_prime, folded


def symmetrise(R: np.ndarray, H: np.ndarray, tol: float, path: str):
    """(H(R) + H(-R)^+)/2 and the largest |H(-R) - H(R)^+|; a ModelFileError beyond tol."""
    index = {tuple(r): i for i, r in enumerate(R.tolist())}
    partner = np.array([index.get(tuple(-x for x in r), -1) for r in R.tolist()], dtype=np.int64)
    if np.any(partner < 0):
        r = R[np.flatnonzero(partner < 0)[0]].tolist()
        raise ModelFileError(path, f"after folding, R' = {r} has no partner -R' (replica shifts not symmetric)")
    dagger = np.conj(np.swapaxes(H[partner], 1, 2))
    deviation = float(np.max(np.abs(H - dagger))) if len(H) else 0.0
    if deviation > tol:
        worst = np.unravel_index(np.argmax(np.abs(H - dagger)), H.shape)
        raise ModelFileError(path, f"after folding, H(-R') != H(R')^+ at R' = {R[worst[0]].tolist()}, "
                             f"m = {worst[1] + 1}, n = {worst[2] + 1}: deviation {deviation:.3e} > {tol:.1e} eV")
    return (H + dagger) / 2, deviation


def lattice_from(lattice, win_file, hop, path) -> np.ndarray:
    """The lattice (Angstrom rows) from the argument, the .win or _tb.dat; all given must agree."""
    sources = []
    if lattice is not None:
        cell = np.asarray(lattice, dtype=float)
        if cell.shape != (3, 3) or not np.all(np.isfinite(cell)):
            raise ValueError(f"lattice must be a finite (3, 3) array in Angstrom, got {lattice!r}")
        sources.append(("the lattice argument", cell, None))
    if win_file is not None and win_file.lattice is not None:
        sources.append((win_file.path, win_file.lattice, win_file.lines.get("unit_cell_cart")))
    if hop is not None and hop.lattice is not None:
        sources.append((hop.path, hop.lattice, hop.lattice_line))
    if not sources and win_file is not None:
        raise ModelFileError(win_file.path, "no unit_cell_cart block: the lattice is unknown (or give lattice=)")
    if not sources:
        raise ValueError(f"{path} holds no lattice vectors: give win= (a .win with unit_cell_cart) or "
                         "lattice= (3x3, rows in Angstrom)")
    reference_name, cell, _ = sources[0]
    for other_name, other, line in sources[1:]:
        if not np.allclose(other, cell, rtol=0, atol=1e-6 * max(1.0, np.max(np.abs(cell)))):
            raise ModelFileError(other_name, f"lattice {other.tolist()} (Angstrom) does not match "
                                 f"{cell.tolist()} from {reference_name}", line)
    if abs(np.linalg.det(cell)) < 1e-8:
        name, _, line = sources[0]
        raise ModelFileError(name, f"lattice vectors {cell.tolist()} are linearly dependent", line)
    return cell


def spin_degeneracy_from(explicit, win_file) -> tuple[int, str]:
    """Spin degeneracy and where it came from; never a silent default."""
    from_win = None
    if win_file is not None:
        if win_file.spinors:
            from_win = (1, f"{win_file.path}: spinors = true")
            if win_file.num_elec_per_state == 2:
                raise ModelFileError(win_file.path, "spinors = true with num_elec_per_state = 2 (must be 1)",
                                     win_file.lines.get("num_elec_per_state"))
        elif win_file.num_elec_per_state is not None:
            from_win = (win_file.num_elec_per_state, f"{win_file.path}: num_elec_per_state")
        else:
            from_win = (2, f"{win_file.path}: spinors = false (Wannier90 default num_elec_per_state = 2)")
    if explicit is None:
        if from_win is None:
            raise ValueError("spin degeneracy unknown: give spin_degeneracy=1 (spinor Wannier functions) or 2 "
                             "(spin-degenerate model without spin), or a .win with the spinors keyword")
        return from_win
    if explicit not in (1, 2):
        raise ValueError(f"spin_degeneracy must be 1 or 2, got {explicit!r}")
    if from_win is not None and from_win[0] != explicit:
        raise ValueError(f"spin_degeneracy={explicit} contradicts {from_win[1]} -> {from_win[0]}")
    return int(explicit), "given explicitly"


def seedname(path: str, suffix: str) -> str:
    """The seedname of a Wannier90 output file (path without its suffix), or the path itself."""
    return path[: -len(suffix)] if path.endswith(suffix) else path


def found(option, seed: str, suffix: str):
    """The path to use for an optional companion file: None, the given path, or seed+suffix if "auto"."""
    if option is None:
        return None
    if isinstance(option, str) and option == "auto":
        candidate = seed + suffix
        return candidate if Path(candidate).is_file() else None
    if not Path(option).is_file():
        raise FileNotFoundError(f"{option}: no such file")
    return str(option)


def read_win_if_any(win, seed: str) -> WinFile | None:
    win_path = found(win, seed, ".win")
    return read_win(win_path) if win_path else None


def replicas_for(wsvec, seed: str, hop: HoppingFile, warn: bool, mp_grid=None) -> Replicas | None:
    """Read the MDRS shifts if a wsvec file is given or found; warn when "auto" finds none."""
    wsvec_path = found(wsvec, seed, "_wsvec.dat")
    if wsvec_path is None:
        if warn and isinstance(wsvec, str) and wsvec == "auto":
            warnings.warn(f"{hop.path}: no {seed}_wsvec.dat found, MDRS (use_ws_distance) not applied; if the "
                          "model was built with use_ws_distance = true (the default), bands at generic k are off "
                          "by up to ~0.1 eV", stacklevel=4)
        return None
    return read_wsvec(wsvec_path, hop, mp_grid)


def check_num_wann(win_file: WinFile | None, hop: HoppingFile) -> None:
    if win_file is not None and win_file.num_wann is not None and win_file.num_wann != hop.num_wann:
        raise ModelFileError(win_file.path, f"num_wann = {win_file.num_wann}, but {hop.path} has "
                             f"num_wann = {hop.num_wann}", win_file.lines.get("num_wann"))


def check_ndegen_sum(win_file: WinFile | None, hop: HoppingFile) -> None:
    """sum_R 1/ndegen(R) must be the number of k-points of the Wannier90 grid (mp_grid of the .win)."""
    if win_file is None or win_file.mp_grid is None:
        return
    total = float(np.sum(1.0 / hop.ndegen))
    expected = int(np.prod(win_file.mp_grid))
    if abs(total - expected) > 1e-6 * expected:
        raise ModelFileError(hop.path, f"sum of 1/ndegen over the R vectors is {total:.6g}, but mp_grid = "
                             f"{list(win_file.mp_grid)} in {win_file.path} needs {expected}",
                             int(hop.ndegen_lines[0]))
