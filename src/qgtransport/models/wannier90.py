"""Wannier90 tight-binding models: seedname_hr.dat, _tb.dat, _wsvec.dat, .win and _centres.xyz.

Wannier90 (wannier90.x and postw90.x: geninterp, BoltzWann, berry) interpolates with the
minimal-distance replica scheme (MDRS, ``use_ws_distance = true``, the default since 3.0):

    H_mn(k) = sum_R sum_{T in T_Rmn} exp(i k.(R + T)) H_mn(R) / (ndegen(R) n_Rmn),

with ndegen(R) the Wigner-Seitz degeneracies of _hr.dat and T_Rmn the n_Rmn supercell vectors of
_wsvec.dat that bring Wannier function n in cell R closest to m in cell 0. The readers fold this
into plain hoppings on the enlarged set of lattice vectors R' = R + T,

    H'_mn(R') = sum_{(R, T): R + T = R'} H_mn(R) / (ndegen(R) n_Rmn),

so the model stays a TightBinding. Its Fourier convention (docs/conventions.md) puts the Wannier
centres tau in the phase, H_ours(k) = D(k)^+ H_W90(k) D(k) with D = diag(exp(i k.tau)): a unitary
transformation, so band energies and band velocities dE/dk are those of postw90 exactly (checked
against geninterp in tests/test_wannier90.py). Berry connections, metrics and curvatures use the
diagonal (tight-binding) position approximation with the centres as tau by default; the full position
matrix <0m|r|Rn> of _tb.dat (read_tb_positions, attached by tightbinding.with_position_matrix) enters
with positions="full" (geometry.position_matrix_terms: WYSV 2006, checked against WannierBerri).

Units: energies eV, lengths Angstrom (.win lattices in bohr are converted with Wannier90 3.1's
bohr = 0.52917720859 Angstrom, so lattices agree with _tb.dat to the last digit).

Every malformed or inconsistent input raises ModelFileError (a ValueError) naming the file, the
line and the problem. The only change made to what a file holds is the Hermitian symmetrisation
H'(R') -> (H'(R') + H'(-R')^+)/2 after checking that the two differ by at most
``hermiticity_tol`` (rounding of the printed digits); the largest deviation is kept in
``model.parameters["hermiticity_max_deviation"]``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qgtransport.models.reading import (
    ModelFileError,
    TextFile,
    integer_columns,
    integer_list,
    parse_rows,
    read_text,
    single_integer,
)
from qgtransport.models.tightbinding import TightBinding

BOHR_IN_ANGSTROM_W90 = 0.52917720859  # Wannier90 3.1 (CODATA 2006), as in its _tb.dat and .wout
HERMITICITY_TOL = 1e-5  # eV; _hr.dat prints 6 decimals, so partners differ by up to 1e-6 from rounding
MAX_R = 10**6  # largest lattice-vector component accepted (guards the integer arithmetic)

__all__ = [
    "ModelFileError", "HoppingFile", "Replicas", "WinFile", "PositionMatrix",
    "read_hr", "read_tb", "read_tb_positions", "read_hr_file", "read_tb_file", "read_wsvec",
    "read_win", "read_centres", "fold_replicas",
]


# ---------------------------------------------------------------------------------------------
# Data read from the files
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoppingFile:
    """H(R) as written in _hr.dat or _tb.dat (not yet divided by ndegen).

    R : (nR, 3) int; ndegen : (nR,) int; H : (nR, nw, nw) complex, eV, H[i, m, n] = <0 m|H|R_i n>;
    entry_lines : (nR, nw, nw) line number of each element; ndegen_lines : (nR,) line of each ndegen;
    lattice : (3, 3) Angstrom rows (_tb.dat only) and its first line; positions : (nR, 3, nw, nw)
    complex <0 m|r_a|R n> in Angstrom (_tb.dat only).
    """

    path: str
    R: np.ndarray
    ndegen: np.ndarray
    H: np.ndarray
    entry_lines: np.ndarray
    ndegen_lines: np.ndarray
    lattice: np.ndarray | None = None
    lattice_line: int | None = None
    positions: np.ndarray | None = None

    @property
    def num_wann(self) -> int:
        return self.H.shape[1]


@dataclass(frozen=True)
class Replicas:
    """MDRS shifts of _wsvec.dat: row j of T (ntot, 3) belongs to element `entry[j]` of the flattened
    (nR, nw, nw) hopping array; `count` (nR, nw, nw) is n_Rmn, `lines` (nR, nw, nw) the block lines."""

    path: str
    entry: np.ndarray
    T: np.ndarray
    count: np.ndarray
    lines: np.ndarray


@dataclass(frozen=True)
class WinFile:
    """What qgtransport takes from a Wannier90 .win file (None where absent); `lines` holds the line
    number of each keyword found. lattice: (3, 3) rows in Angstrom."""

    path: str
    lattice: np.ndarray | None
    num_wann: int | None
    spinors: bool | None
    num_elec_per_state: int | None
    mp_grid: tuple | None
    fermi_energy: float | None
    lines: dict


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
    (geometry.position_matrix_terms); see docs/wannier90_tutorial.md.
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


# ---------------------------------------------------------------------------------------------
# _hr.dat and _tb.dat
# ---------------------------------------------------------------------------------------------


def read_hr_file(path, hermiticity_tol: float = HERMITICITY_TOL) -> HoppingFile:
    """Parse seedname_hr.dat: header, num_wann, nrpts, ndegen (15 a line), nrpts x num_wann^2 lines
    'R1 R2 R3 m n Re(H) Im(H)' in blocks of one R; check the Hermitian partners H(-R) = H(R)^+."""
    file = read_text(path)
    file.line(1, "a header line")
    num_wann = single_integer(file, 2, "num_wann")
    nrpts = single_integer(file, 3, "nrpts")
    check_declared_size(file, num_wann, nrpts, 1, 3)
    ndegen, ndegen_lines, next_line = degeneracies(file, 4, nrpts)
    numbers, texts = file.content_after(next_line - 1)
    check_line_count(file, numbers, nrpts * num_wann**2, "entries 'R1 R2 R3 m n Re(H) Im(H)'")
    values = parse_rows(file, numbers, texts, 7, "an entry 'R1 R2 R3 m n Re(H) Im(H)'")
    R_all = integer_columns(file, numbers, values[:, :3], "R vector components", -MAX_R, MAX_R)
    mn = integer_columns(file, numbers, values[:, 3:5], "orbital indices m, n", 1, num_wann)
    R = block_vectors(file, numbers, R_all, num_wann)
    H, entry_lines = assemble_blocks(file, numbers, R, mn, values[:, 5] + 1j * values[:, 6], num_wann)
    hop = HoppingFile(str(path), R, ndegen, H, entry_lines, ndegen_lines)
    check_partners(file, hop, hermiticity_tol)
    return hop


def read_tb_file(path, hermiticity_tol: float = HERMITICITY_TOL) -> HoppingFile:
    """Parse seedname_tb.dat: header, 3 lattice lines (Angstrom), num_wann, nrpts, ndegen, then nrpts
    blocks 'R' + num_wann^2 lines 'm n Re(H) Im(H)' and nrpts blocks 'R' + 'm n Re/Im(x) Re/Im(y) Re/Im(z)'."""
    file = read_text(path)
    file.line(1, "a header line")
    lattice_texts = [file.line(i, "a lattice vector (3 numbers, Angstrom)") for i in (2, 3, 4)]
    lattice = parse_rows(file, [2, 3, 4], lattice_texts, 3, "a lattice vector (3 numbers, Angstrom)")
    num_wann = single_integer(file, 5, "num_wann")
    nrpts = single_integer(file, 6, "nrpts")
    check_declared_size(file, num_wann, nrpts, 2, 6)
    ndegen, ndegen_lines, next_line = degeneracies(file, 7, nrpts)
    numbers, texts = file.content_after(next_line - 1)
    block = 1 + num_wann**2
    check_line_count(file, numbers, 2 * nrpts * block, "R lines and matrix elements (Hamiltonian and position)")
    half = nrpts * block
    R, H, entry_lines = tb_section(file, numbers[:half], texts[:half], num_wann, 4, "'m n Re(H) Im(H)'")
    R_pos, r, _ = tb_section(file, numbers[half:], texts[half:], num_wann, 8,
                             "'m n Re(x) Im(x) Re(y) Im(y) Re(z) Im(z)'")
    differ = np.flatnonzero(np.any(R_pos != R, axis=1))
    if differ.size:
        i = differ[0]
        raise file.error(f"position block {i + 1} has R = {R_pos[i].tolist()}, the Hamiltonian block has "
                         f"{R[i].tolist()}", int(numbers[half + i * block]))
    positions = np.stack([r[..., 0] + 1j * r[..., 1], r[..., 2] + 1j * r[..., 3], r[..., 4] + 1j * r[..., 5]], axis=1)
    hop = HoppingFile(str(path), R, ndegen, H[..., 0] + 1j * H[..., 1], entry_lines, ndegen_lines,
                      lattice=lattice, lattice_line=2, positions=positions)
    check_partners(file, hop, hermiticity_tol)
    return hop


def tb_section(file: TextFile, numbers, texts, num_wann: int, ncols: int, what: str):
    """One section of _tb.dat: R lines followed by num_wann^2 element lines each.

    Returns R (nR, 3), the values (nR, nw, nw, ncols - 2) and their line numbers."""
    block = 1 + num_wann**2
    heads = np.arange(0, len(texts), block)
    is_head = np.zeros(len(texts), dtype=bool)
    is_head[heads] = True
    R_values = parse_rows(file, numbers[heads], [texts[i] for i in heads], 3, "an R line 'R1 R2 R3'")
    R = integer_columns(file, numbers[heads], R_values, "R vector components", -MAX_R, MAX_R)
    body = np.flatnonzero(~is_head)
    values = parse_rows(file, numbers[body], [texts[i] for i in body], ncols, f"a matrix element {what}")
    mn = integer_columns(file, numbers[body], values[:, :2], "orbital indices m, n", 1, num_wann)
    check_unique_R(file, R, numbers[heads])
    elements, lines = assemble_blocks(file, numbers[body], R, mn, values[:, 2:], num_wann)
    return R, elements, lines


def check_declared_size(file: TextFile, num_wann: int, nrpts: int, sections: int, line: int) -> None:
    """Refuse declared sizes that the file cannot hold, before allocating anything."""
    needed = sections * nrpts * num_wann**2
    available = len(file.lines) - line
    if needed > available:
        raise file.error(f"declares num_wann = {num_wann} and nrpts = {nrpts}, which needs {needed} matrix-element "
                         f"lines, but the file has only {available} lines after this one", line)


def degeneracies(file: TextFile, first: int, nrpts: int):
    """The ndegen list (>= 1 each): values, their line numbers, the line after the list."""
    ndegen, lines, next_line = integer_list(file, first, nrpts, "ndegen")
    bad = np.flatnonzero(ndegen < 1)
    if bad.size:
        i = bad[0]
        raise file.error(f"ndegen[{i + 1}] = {ndegen[i]}: Wigner-Seitz degeneracies must be >= 1", int(lines[i]))
    return ndegen, lines, next_line


def check_line_count(file: TextFile, numbers, expected: int, what: str) -> None:
    """Exactly `expected` non-blank lines of data: name where the file ends early or has extra lines."""
    if len(numbers) < expected:
        last = int(numbers[-1]) if len(numbers) else len(file.lines)
        raise file.error(f"file ends after {len(numbers)} of the {expected} {what} (truncated?)", last)
    if len(numbers) > expected:
        raise file.error(f"unexpected line after the {expected} {what}", int(numbers[expected]))


def block_vectors(file: TextFile, numbers, R_all: np.ndarray, num_wann: int) -> np.ndarray:
    """The R of each block of num_wann^2 consecutive _hr.dat lines; all lines of a block share it."""
    size = num_wann**2
    blocks = R_all.reshape(-1, size, 3)
    differs = np.any(blocks != blocks[:, :1], axis=2).reshape(-1)
    if np.any(differs):
        i = np.flatnonzero(differs)[0]
        raise file.error(f"R = {R_all[i].tolist()} inside the block of R = {R_all[i - i % size].tolist()} "
                         f"(blocks of num_wann^2 = {size} lines each): a missing or extra line?", int(numbers[i]))
    R = blocks[:, 0]
    check_unique_R(file, R, numbers[::size])
    return R


def check_unique_R(file: TextFile, R: np.ndarray, block_lines) -> None:
    _, first, counts = np.unique(R, axis=0, return_index=True, return_counts=True)
    if np.any(counts > 1):
        seen = set()
        for i, r in enumerate(map(tuple, R.tolist())):
            if r in seen:
                raise file.error(f"R = {list(r)} appears twice", int(block_lines[i]))
            seen.add(r)


def assemble_blocks(file: TextFile, numbers, R: np.ndarray, mn: np.ndarray, values: np.ndarray, num_wann: int):
    """Place element lines into (nR, nw, nw, ...) arrays; every (m, n) exactly once per block."""
    size = num_wann**2
    key = ((mn[:, 0] - 1) * num_wann + (mn[:, 1] - 1)).reshape(len(R), size)
    ordered = np.sort(key, axis=1)
    bad_blocks = np.flatnonzero(np.any(ordered != np.arange(size), axis=1))
    if bad_blocks.size:
        b = bad_blocks[0]
        seen = set()
        for j, k in enumerate(key[b].tolist()):
            if k in seen:
                line = int(numbers[b * size + j])
                raise file.error(f"element m = {k // num_wann + 1}, n = {k % num_wann + 1} appears twice for "
                                 f"R = {R[b].tolist()}", line)
            seen.add(k)
    block = np.repeat(np.arange(len(R)), size)
    out = np.zeros((len(R), num_wann, num_wann) + values.shape[1:], dtype=values.dtype)
    lines = np.zeros((len(R), num_wann, num_wann), dtype=np.int64)
    out[block, mn[:, 0] - 1, mn[:, 1] - 1] = values
    lines[block, mn[:, 0] - 1, mn[:, 1] - 1] = numbers
    return out, lines


def check_partners(file: TextFile, hop: HoppingFile, tol: float) -> None:
    """Every R has -R with the same ndegen and H(-R) = H(R)^+ within tol (eV); errors name the line."""
    index = {r: i for i, r in enumerate(map(tuple, hop.R.tolist()))}
    for i, r in enumerate(map(tuple, hop.R.tolist())):
        j = index.get(tuple(-x for x in r))
        if j is None:
            raise file.error(f"R = {list(r)} has no partner -R: H(k) would not be Hermitian",
                             int(hop.entry_lines[i, 0, 0]))
        if hop.ndegen[j] != hop.ndegen[i]:
            raise file.error(f"ndegen = {hop.ndegen[i]} for R = {list(r)} but {hop.ndegen[j]} for -R",
                             int(hop.ndegen_lines[i]))
    partner = np.array([index[tuple(-x for x in r)] for r in hop.R.tolist()])
    deviation = np.abs(hop.H - np.conj(np.swapaxes(hop.H[partner], 1, 2)))  # <0m|H|Rn> vs <0n|H|-Rm>^*
    if np.max(deviation, initial=0.0) > tol:
        i, m, n = np.unravel_index(np.argmax(deviation), deviation.shape)
        raise file.error(
            f"H(-R) != H(R)^+: <0 {m + 1}|H|R {n + 1}> for R = {hop.R[i].tolist()} and <0 {n + 1}|H|-R {m + 1}> "
            f"(line {hop.entry_lines[partner[i], n, m]}) are not complex conjugates: they differ by "
            f"{deviation[i, m, n]:.3e} > {tol:.1e} eV", int(hop.entry_lines[i, m, n]))


# ---------------------------------------------------------------------------------------------
# _wsvec.dat
# ---------------------------------------------------------------------------------------------


def read_wsvec(path, hop: HoppingFile, mp_grid=None) -> Replicas:
    """Parse seedname_wsvec.dat for the (R, m, n) of `hop`: blocks 'R1 R2 R3 m n', 'n_T', n_T lines 'T1 T2 T3'.

    Checks: every (R, m, n) of the hopping file exactly once, n_T >= 1, T_Rmn = -T_(-R)nm (so that
    folding keeps H Hermitian), and T a multiple of mp_grid when it is known.
    """
    file = read_text(path)
    file.line(1, "a header line")
    numbers, texts = file.content_after(1)
    rows = [text.split() for text in texts]
    nw = hop.num_wann
    index = {r: i for i, r in enumerate(map(tuple, hop.R.tolist()))}
    count = np.zeros((len(hop.R), nw, nw), dtype=np.int64)
    lines = np.zeros((len(hop.R), nw, nw), dtype=np.int64)
    entries, shifts = [], []
    i = 0
    while i < len(rows):
        head = wsvec_integers(file, numbers[i], rows[i], 5, "a block head 'R1 R2 R3 m n'")
        key = entry_of(file, numbers[i], head, index, nw, hop.path)
        if count.reshape(-1)[key]:
            raise file.error(f"second block for R = {head[:3]}, m = {head[3]}, n = {head[4]}", int(numbers[i]))
        if i + 1 >= len(rows):
            raise file.error("file ends after a block head; expected the number of shifts", int(numbers[i]))
        n_T = wsvec_integers(file, numbers[i + 1], rows[i + 1], 1, "the number of shifts")[0]
        if n_T < 1 or n_T > len(rows) - i - 2:
            raise file.error(f"number of shifts {n_T} must be >= 1 and fit in the {len(rows) - i - 2} lines left",
                             int(numbers[i + 1]))
        for j in range(i + 2, i + 2 + n_T):
            shifts.append(wsvec_integers(file, numbers[j], rows[j], 3, "a shift 'T1 T2 T3'"))
            entries.append(key)
            check_supercell_shift(file, numbers[j], shifts[-1], mp_grid)
        count.reshape(-1)[key] = n_T
        lines.reshape(-1)[key] = numbers[i]
        i += 2 + n_T
    missing = np.flatnonzero(count.reshape(-1) == 0)
    if missing.size:
        b, m, n = np.unravel_index(missing[0], count.shape)
        raise file.error(f"no block for R = {hop.R[b].tolist()}, m = {m + 1}, n = {n + 1} ({missing.size} of "
                         f"{count.size} missing; {hop.path} line {hop.entry_lines[b, m, n]})",
                         int(numbers[-1]) if len(numbers) else 1)
    replicas = Replicas(str(path), np.array(entries, dtype=np.int64), np.array(shifts, dtype=np.int64), count, lines)
    check_replica_symmetry(file, replicas, hop)
    return replicas


def wsvec_integers(file: TextFile, number, row: list[str], count: int, what: str) -> list[int]:
    if len(row) != count:
        raise file.error(f"expected {what} ({count} integers), found {len(row)} fields", int(number))
    out = []
    for token in row:
        digits = token[1:] if token[:1] in ("+", "-") else token  # one sign at most ("--1" is no integer)
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
            raise file.error(f"{token!r} is not an integer (in {what})", int(number))
        out.append(int(token))
    return out


def entry_of(file: TextFile, number, head: list[int], index: dict, nw: int, hr_path: str) -> int:
    """Flat index of (R, m, n) in the hopping array; errors for unknown R or orbital indices."""
    block = index.get(tuple(head[:3]))
    if block is None:
        raise file.error(f"R = {head[:3]} is not an R vector of {hr_path}", int(number))
    m, n = head[3], head[4]
    if not (1 <= m <= nw and 1 <= n <= nw):
        raise file.error(f"orbital indices m = {m}, n = {n} outside 1..{nw}", int(number))
    return (block * nw + m - 1) * nw + n - 1


def check_supercell_shift(file: TextFile, number, T: list[int], mp_grid) -> None:
    if mp_grid is not None and any(t % g for t, g in zip(T, mp_grid, strict=True)):
        raise file.error(f"shift T = {T} is not a supercell vector of mp_grid = {list(mp_grid)}", int(number))


def check_replica_symmetry(file: TextFile, replicas: Replicas, hop: HoppingFile) -> None:
    """T_Rmn must be -T_(-R)nm: the two hoppings are one bond seen from either end."""
    nw = hop.num_wann
    sets: dict[int, set] = {}
    for key, T in zip(replicas.entry.tolist(), map(tuple, replicas.T.tolist()), strict=True):
        sets.setdefault(key, set()).add(T)
    index = {r: i for i, r in enumerate(map(tuple, hop.R.tolist()))}
    for key, shifts in sets.items():
        b, m, n = key // (nw * nw), (key // nw) % nw, key % nw
        partner = (index[tuple(-x for x in hop.R[b].tolist())] * nw + n) * nw + m
        if {tuple(-t for t in T) for T in sets[partner]} != shifts:
            raise file.error(f"shifts for R = {hop.R[b].tolist()}, m = {m + 1}, n = {n + 1} are not the negatives of "
                             f"those for -R, m = {n + 1}, n = {m + 1} (line {replicas.lines.reshape(-1)[partner]})",
                             int(replicas.lines.reshape(-1)[key]))


# ---------------------------------------------------------------------------------------------
# .win and _centres.xyz
# ---------------------------------------------------------------------------------------------

WIN_KEYWORDS = ("num_wann", "spinors", "num_elec_per_state", "mp_grid", "fermi_energy")
TRUE_WORDS = {"t", "true", ".true.", "y", "yes"}
FALSE_WORDS = {"f", "false", ".false.", "n", "no"}


def read_win(path) -> WinFile:
    """Read unit_cell_cart, num_wann, spinors, num_elec_per_state, mp_grid and fermi_energy from a .win.

    Keywords are case-insensitive, 'key = value', 'key : value' or 'key value'; '!' and '#' start
    comments; other keywords and blocks are ignored. A duplicated keyword is an error (as in Wannier90).
    """
    file = read_text(path)
    found_values: dict = {}
    lines: dict = {}
    lattice = None
    number = 0
    while number < len(file.lines):
        number += 1
        text = strip_comment(file.lines[number - 1])
        if not text:
            continue
        begin = re.match(r"begin\s+(\S+)$", text)
        if begin:
            name = begin.group(1)
            end = block_end(file, number, name)
            if name == "unit_cell_cart":
                remember(file, lines, name, number)
                lattice = unit_cell(file, number, end)
            number = end
            continue
        if text.startswith("end"):
            raise file.error(f"{text!r} without a matching begin", number)
        key, value = keyword_value(file, number, text)
        if key in WIN_KEYWORDS:
            remember(file, lines, key, number)
            found_values[key] = win_value(file, number, key, value)
    return WinFile(str(path), lattice, found_values.get("num_wann"), found_values.get("spinors"),
                   found_values.get("num_elec_per_state"), found_values.get("mp_grid"),
                   found_values.get("fermi_energy"), lines)


def strip_comment(text: str) -> str:
    return re.split(r"[!#]", text, maxsplit=1)[0].strip().lower()


def keyword_value(file: TextFile, number: int, text: str) -> tuple[str, str]:
    """'key = value', 'key : value' or 'key value' (text already without comment, lower case)."""
    match = re.match(r"([^\s=:]+)\s*[=:]?\s*(.*)$", text)
    if match is None:
        raise file.error(f"expected 'keyword = value', found {text!r}", number)
    return match.group(1), match.group(2).strip()


def remember(file: TextFile, lines: dict, key: str, number: int) -> None:
    if key in lines:
        raise file.error(f"{key} given twice (first at line {lines[key]})", number)
    lines[key] = number


def block_end(file: TextFile, begin: int, name: str) -> int:
    """Line number of 'end name' closing the block opened at `begin`."""
    for number in range(begin + 1, len(file.lines) + 1):
        text = strip_comment(file.lines[number - 1])
        if re.match(r"end\s+" + re.escape(name) + r"$", text):
            return number
        if text.startswith("begin") or text.startswith("end"):
            raise file.error(f"block {name!r} opened at line {begin} is not closed before {text!r}", number)
    raise file.error(f"block {name!r} opened here is never closed ('end {name}' missing)", begin)


def unit_cell(file: TextFile, begin: int, end: int) -> np.ndarray:
    """unit_cell_cart: an optional 'bohr' or 'ang' line, then 3 rows of 3 numbers; Angstrom rows."""
    content = [(n, strip_comment(file.lines[n - 1])) for n in range(begin + 1, end)]
    content = [(n, t) for n, t in content if t]
    scale = 1.0
    if content and content[0][1] in ("bohr", "ang", "angstrom"):
        scale = BOHR_IN_ANGSTROM_W90 if content[0][1] == "bohr" else 1.0
        content = content[1:]
    if len(content) != 3:
        raise file.error(f"unit_cell_cart needs 3 lattice vectors, found {len(content)} lines", begin)
    numbers = [n for n, _ in content]
    values = parse_rows(file, numbers, [t for _, t in content], 3, "a lattice vector (3 numbers)")
    if abs(np.linalg.det(values)) < 1e-8:
        raise file.error(f"unit_cell_cart vectors {values.tolist()} are linearly dependent", begin)
    return values * scale


def win_value(file: TextFile, number: int, key: str, value: str):
    """The typed value of a .win keyword; errors name the allowed values."""
    if key == "spinors":
        if value in TRUE_WORDS:
            return True
        if value in FALSE_WORDS:
            return False
        raise file.error(f"spinors = {value!r} is not a logical (true/false, t/f, .true./.false.)", number)
    numbers = value.replace(",", " ").split()
    if key == "fermi_energy":
        if len(numbers) != 1:
            raise file.error(f"fermi_energy needs one number (eV), got {value!r}", number)
        return float(parse_rows(file, [number], [numbers[0]], 1, "fermi_energy")[0, 0])
    count = 3 if key == "mp_grid" else 1
    values = parse_rows(file, [number], [" ".join(numbers)], count, f"{key} ({count} integers)")
    ints = integer_columns(file, [number], values, key, low=1, high=10**6)[0]
    if key == "num_elec_per_state" and ints[0] not in (1, 2):
        raise file.error(f"num_elec_per_state = {ints[0]} must be 1 or 2", number)
    return tuple(int(x) for x in ints) if key == "mp_grid" else int(ints[0])


def read_centres(path, num_wann: int) -> np.ndarray:
    """The num_wann Wannier centres ('X x y z' lines, Cartesian Angstrom) of a _centres.xyz file.

    Format: the number of entries N, a comment line, then N lines 'symbol x y z': the Wannier centres
    (symbol X) first, then the atoms.
    """
    file = read_text(path)
    total = single_integer(file, 1, "the number of entries")
    if total < num_wann:
        raise file.error(f"declares {total} entries, fewer than the {num_wann} Wannier centres of the model", 1)
    file.line(2, "a comment line")
    if len(file.lines) < total + 2:
        raise file.error(f"file ends after {len(file.lines) - 2} of the {total} declared entries", len(file.lines))
    extra = [n for n in range(total + 3, len(file.lines) + 1) if file.lines[n - 1].strip()]
    if extra:
        raise file.error(f"unexpected line after the {total} declared entries", extra[0])
    rows = [file.lines[n - 1].split() for n in range(3, total + 3)]
    for n, row in enumerate(rows, start=3):
        if len(row) != 4:
            raise file.error(f"expected 'symbol x y z', found {len(row)} fields", n)
    symbols = [row[0].upper() for row in rows]
    n_centres = sum(s == "X" for s in symbols)
    if n_centres != num_wann or any(s != "X" for s in symbols[:num_wann]):
        raise file.error(f"expected {num_wann} Wannier centres (symbol X) first, found {n_centres} X lines "
                         f"(symbols {symbols[: num_wann + 1]}...)", 3)
    numbers = list(range(3, 3 + num_wann))
    return parse_rows(file, numbers, [" ".join(row[1:]) for row in rows[:num_wann]], 3, "a centre 'x y z'")
