"""Wannier90 files indexed by lattice vector: seedname_hr.dat, _tb.dat and _wsvec.dat.

Each reader parses one file into plain arrays (HoppingFile: H(R), ndegen(R) and, for _tb.dat, the
lattice and the position matrix <0 m|r|R n>; Replicas: the MDRS shifts T_Rmn) and checks what the
file alone can check: declared sizes, one block per R, every (m, n) once per block, the Hermitian
partners H(-R) = H(R)^+ and T_Rmn = -T_(-R)nm. Errors are ModelFileError naming the file and line.
Folding them into a TightBinding: qgtransport.models.wannier90.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.models.reading import (
    TextFile,
    integer_columns,
    integer_list,
    parse_rows,
    read_text,
    single_integer,
)

HERMITICITY_TOL = 1e-5  # eV; _hr.dat prints 6 decimals, so partners differ by up to 1e-6 from rounding
MAX_R = 10**6  # largest lattice-vector component accepted (guards the integer arithmetic)

__all__ = ["HoppingFile", "Replicas", "read_hr_file", "read_tb_file", "read_wsvec", "HERMITICITY_TOL"]


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
