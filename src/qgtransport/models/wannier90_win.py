"""Wannier90 set-up and centres: seedname.win (lattice, num_wann, spinors, num_elec_per_state,
mp_grid, fermi_energy) and seedname_centres.xyz (Wannier centres, Cartesian Angstrom).

Lattices in bohr are converted with Wannier90 3.1's bohr = 0.52917720859 Angstrom, so they agree
with _tb.dat to the last digit. Errors are ModelFileError naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from qgtransport.models.reading import TextFile, integer_columns, parse_rows, read_text, single_integer

BOHR_IN_ANGSTROM_W90 = 0.52917720859  # Wannier90 3.1 (CODATA 2006), as in its _tb.dat and .wout
WIN_KEYWORDS = ("num_wann", "spinors", "num_elec_per_state", "mp_grid", "fermi_energy")
TRUE_WORDS = {"t", "true", ".true.", "y", "yes"}
FALSE_WORDS = {"f", "false", ".false.", "n", "no"}

__all__ = ["WinFile", "read_win", "read_centres", "BOHR_IN_ANGSTROM_W90"]


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
