"""Reading model text files line by line, with errors that name the file, the line and the problem.

Every reader in qgtransport.models turns a malformed or inconsistent file into a ModelFileError (a
ValueError) that says where and what; nothing is read partially without saying so. Numbers are
parsed in bulk with numpy; only when that fails is the file scanned line by line to find the
offending line, so a valid file costs one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ABS_NUMBER = 1e12  # no energy (eV), length (Angstrom) or count in a model file is larger


class ModelFileError(ValueError):
    """A model file that is malformed or inconsistent: names the file, the line (if any) and the problem."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.problem, self.line))


@dataclass(frozen=True)
class TextFile:
    """The lines of a text file (without line ends); line numbers count from 1."""

    path: str
    lines: list[str]

    def error(self, problem: str, line: int | None = None) -> ModelFileError:
        return ModelFileError(self.path, problem, line)

    def line(self, number: int, what: str) -> str:
        """Line `number` (from 1); a ModelFileError if the file ends before it."""
        if number > len(self.lines):
            raise self.error(f"file ends after line {len(self.lines)}, expected {what}", number)
        return self.lines[number - 1]

    def content_after(self, number: int) -> tuple[np.ndarray, list[str]]:
        """Line numbers and texts of the non-blank lines after line `number`."""
        numbers, texts = [], []
        for i, text in enumerate(self.lines[number:], start=number + 1):
            if text.strip():
                numbers.append(i)
                texts.append(text)
        return np.array(numbers, dtype=np.int64), texts


def read_text(path) -> TextFile:
    """Read a text file; undecodable bytes give a ModelFileError naming their line."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ModelFileError(path, f"not a text file: byte {data[err.start]:#04x} is not UTF-8", line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ModelFileError(path, "not a text file: it contains a NUL byte", line)
    return TextFile(str(path), text.splitlines())


def fortran_float(token: str) -> float:
    """A float from a Fortran-style token (1.0E+01, 1.0D+01); ValueError if it is not a number."""
    return float(token.replace("D", "E").replace("d", "e"))


def parse_rows(file: TextFile, numbers, texts: list[str], ncols: int, what: str) -> np.ndarray:
    """Parse lines into a float array (nlines, ncols): exactly ncols numbers per line, all finite.

    `numbers` are the line numbers of `texts` (for the error messages); `what` describes a line.
    """
    rows = [text.split() for text in texts]
    lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
    wrong = np.flatnonzero(lengths != ncols)
    if wrong.size:
        i = wrong[0]
        raise file.error(f"expected {what} ({ncols} numbers), found {lengths[i]} fields: {texts[i].strip()!r}",
                         int(numbers[i]))
    try:
        values = np.array(rows, dtype=float).reshape(len(rows), ncols)
    except ValueError:
        values = parse_rows_slowly(file, numbers, rows, ncols, what)
    bad = np.flatnonzero(~np.all(np.isfinite(values), axis=1))
    if bad.size:
        i = bad[0]
        raise file.error(f"non-finite number (NaN or inf) in {what}: {texts[i].strip()!r}", int(numbers[i]))
    huge = np.flatnonzero(np.any(np.abs(values) > MAX_ABS_NUMBER, axis=1))
    if huge.size:
        i = huge[0]
        raise file.error(f"implausibly large number (|x| > {MAX_ABS_NUMBER:.0e}) in {what}: {texts[i].strip()!r}",
                         int(numbers[i]))
    return values


def parse_rows_slowly(file: TextFile, numbers, rows: list[list[str]], ncols: int, what: str) -> np.ndarray:
    """Line-by-line parse (Fortran D exponents accepted); names the first line that is not numeric."""
    values = np.empty((len(rows), ncols))
    for i, row in enumerate(rows):
        for j, token in enumerate(row):
            try:
                values[i, j] = fortran_float(token)
            except ValueError:
                raise file.error(f"{token!r} is not a number (in {what})", int(numbers[i])) from None
    return values


def integer_columns(file: TextFile, numbers, values: np.ndarray, what: str, low=None, high=None) -> np.ndarray:
    """The columns of `values` as integers, each in [low, high]; errors name the first bad line."""
    not_integer = np.flatnonzero(np.any(values != np.round(values), axis=1))
    if not_integer.size:
        i = not_integer[0]
        raise file.error(f"{what} must be integers, got {values[i].tolist()}", int(numbers[i]))
    too_big = np.flatnonzero(np.any(np.abs(values) > 2**62, axis=1))
    if too_big.size:
        i = too_big[0]
        raise file.error(f"{what} out of range: {values[i].tolist()}", int(numbers[i]))
    ints = np.round(values).astype(np.int64)
    out = np.zeros(len(ints), dtype=bool)
    if low is not None:
        out |= np.any(ints < low, axis=1)
    if high is not None:
        out |= np.any(ints > high, axis=1)
    bad = np.flatnonzero(out)
    if bad.size:
        i = bad[0]
        raise file.error(f"{what} {ints[i].tolist()} out of the allowed range [{low}, {high}]", int(numbers[i]))
    return ints


def single_integer(file: TextFile, number: int, what: str, low: int = 1) -> int:
    """Line `number` holding one integer >= low."""
    text = file.line(number, what)
    values = parse_rows(file, [number], [text], 1, what)
    return int(integer_columns(file, [number], values, what, low=low)[0, 0])


def integer_list(file: TextFile, first: int, count: int, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    """`count` integers spread over the lines from `first` on (Wannier90 writes 15 a line).

    Returns the integers, the line number of each, and the number of the line after the list.
    """
    values: list[str] = []
    lines: list[int] = []
    number = first
    while len(values) < count:
        text = file.line(number, f"{what} ({len(values)} of {count} read)")
        tokens = text.split()
        if len(values) + len(tokens) > count or not tokens:
            raise file.error(f"{what}: expected {count - len(values)} more integers, found {len(tokens)} fields: "
                             f"{text.strip()!r}", number)
        for token in tokens:
            digits = token[1:] if token[:1] in ("+", "-") else token  # one sign at most ("--1" is no integer)
            if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
                raise file.error(f"{what}: {token!r} is not an integer (at most 18 digits)", number)
        values.extend(tokens)
        lines.extend([number] * len(tokens))
        number += 1
    return np.array([int(v) for v in values], dtype=np.int64), np.array(lines, dtype=np.int64), number
