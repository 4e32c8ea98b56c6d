"""Magnetic point groups: operations g = (R, theta), R a Cartesian 3x3 orthogonal matrix and theta
whether g includes time reversal.

An operation acts on Cartesian k as k -> (-1)^theta R k (time reversal maps k to -k). Groups are built
from generator names as the field writes them ("Inversion", "TimeReversal", "C2x", "C2y", "C2z",
"C3z", "C4z", "C6z", "Mx", "My", "Mz", "E" and products such as "TimeReversal*C2x"), from
(matrix, time_reversal) pairs, or found from the crystal structure with spglib (`auto_group`), and
closed by multiplication: (R1, t1)(R2, t2) = (R1 R2, t1 xor t2).

Cn_a is the rotation by 2 pi/n about the Cartesian axis a (counter-clockwise, right hand); M_a the
mirror whose normal is a; Inversion = -1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-6  # equality of Cartesian matrices
MAX_ORDER = 96  # the largest magnetic point group (m-3m x time reversal)
AXES = {"x": 0, "y": 1, "z": 2}


class SymmetryError(ValueError):
    """A group, a grid or a model that the symmetry cannot be used with (the message says why)."""


def rotation(axis: str, n: int) -> np.ndarray:
    """R of the proper rotation by 2 pi/n about the Cartesian axis ('x', 'y' or 'z')."""
    angle = 2 * np.pi / n
    c, s = np.cos(angle), np.sin(angle)
    i = AXES[axis]
    j, k = (i + 1) % 3, (i + 2) % 3
    R = np.eye(3)
    R[j, j], R[j, k], R[k, j], R[k, k] = c, -s, s, c
    return R


def mirror(axis: str) -> np.ndarray:
    R = np.eye(3)
    R[AXES[axis], AXES[axis]] = -1.0
    return R


def named_operation(name: str) -> tuple[np.ndarray, bool]:
    """(R, time_reversal) of one generator name or a product 'A*B' (A after B)."""
    R, reversal = np.eye(3), False
    for factor in str(name).split("*"):
        factor = factor.strip()
        match = re.fullmatch(r"C([2346])([xyz])", factor)
        if factor == "TimeReversal":
            matrix, flag = np.eye(3), True
        elif factor == "Inversion":
            matrix, flag = -np.eye(3), False
        elif factor in ("E", "Identity"):
            matrix, flag = np.eye(3), False
        elif match:
            matrix, flag = rotation(match.group(2), int(match.group(1))), False
        elif re.fullmatch(r"M[xyz]", factor):
            matrix, flag = mirror(factor[1]), False
        else:
            raise SymmetryError(
                f"unknown symmetry operation {factor!r} in {name!r}: use Inversion, TimeReversal, C2x, C2y, C2z, "
                "C3z, C4z, C6z, Mx, My, Mz, E or products such as 'TimeReversal*C2x'")
        R, reversal = R @ matrix, reversal ^ flag
    return R, reversal


def describe(R: np.ndarray, reversal: bool) -> str:
    """A name of the operation (R, time reversal): E, Inversion, C3z, C2x, Mz, S4z, ..., with a
    leading 'TimeReversal*' when it reverses time; a rotation about another axis is named by its axis."""
    det = np.linalg.det(R)
    proper = R * np.sign(det)
    angle = np.degrees(np.arccos(np.clip((np.trace(proper) - 1) / 2, -1.0, 1.0)))
    n = int(round(360 / angle)) if angle > 1e-3 else 1
    if n == 1:
        name = "E" if det > 0 else "Inversion"
    else:
        w, v = np.linalg.eig(proper)
        axis = np.real(v[:, np.argmin(np.abs(w - 1))])
        axis = axis / axis[np.argmax(np.abs(axis))]
        axis[np.abs(axis) < 1e-9] = 0.0
        names = {(1, 0, 0): "x", (0, 1, 0): "y", (0, 0, 1): "z"}
        key = tuple(int(round(a)) if abs(a - round(a)) < 1e-6 else None for a in axis)
        label = names.get(key, "[" + ",".join(f"{a:.3g}" for a in axis) + "]")
        sine = np.array([proper[2, 1] - proper[1, 2], proper[0, 2] - proper[2, 0], proper[1, 0] - proper[0, 1]])
        power = "" if n == 2 or np.dot(sine, axis) > 0 else "^-1"
        if det > 0:
            name = f"C{n}{label}{power}"
        elif n == 2:
            name = f"M{label}"
        else:
            name = f"S{n}{label}{power}"
    return ("TimeReversal*" + name) if reversal and name != "E" else ("TimeReversal" if reversal else name)


@dataclass(frozen=True)
class Group:
    """A closed magnetic point group: rotations (|G|, 3, 3) Cartesian, time_reversal (|G|,) bool,
    names (|G|,) and the generator names it was built from."""

    rotations: np.ndarray
    time_reversal: np.ndarray
    names: tuple[str, ...]
    generators: tuple[str, ...]

    @property
    def order(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return self.order

    def unitary(self) -> Group:
        """The subgroup of the operations without time reversal."""
        keep = ~self.time_reversal
        return Group(self.rotations[keep], self.time_reversal[keep], tuple(np.array(self.names)[keep]),
                     tuple(g for g in self.generators if "TimeReversal" not in g) or ("E",))

    def __repr__(self) -> str:
        return f"Group(order={self.order}, generators={list(self.generators)})"


def key(R: np.ndarray, t: bool) -> tuple:
    """A hashable name of (R, t), equal for matrices equal to 1e-6."""
    return (*(np.round(np.asarray(R, dtype=float), 6).ravel() + 0.0), bool(t))


def close(operations, generators) -> Group:
    """The group generated by [(R, time_reversal), ...] (closure by multiplication)."""
    for R, _ in operations:
        check_orthogonal(R)
    operations = [(np.asarray(R, dtype=float), bool(t)) for R, t in operations]
    elements = [(np.eye(3), False)]
    seen = {key(*elements[0])}
    frontier = list(elements)
    while frontier:
        new = []
        for A, a in frontier:
            for R, t in operations:
                product = (R @ A, a ^ t)
                if key(*product) not in seen:
                    seen.add(key(*product))
                    elements.append(product)
                    new.append(product)
                    if len(elements) > MAX_ORDER:
                        raise SymmetryError(f"the operations {list(generators)} generate more than {MAX_ORDER} "
                                            "elements: not a crystallographic point group")
        frontier = new
    rotations = np.array([R for R, _ in elements])
    rotations[np.abs(rotations) < 1e-13] = 0.0
    reversal = np.array([t for _, t in elements], dtype=bool)
    names = tuple(describe(R, t) for R, t in elements)
    return Group(rotations, reversal, names, tuple(generators))


def check_orthogonal(R) -> None:
    R = np.asarray(R, dtype=float)
    if R.shape != (3, 3) or not np.allclose(R @ R.T, np.eye(3), atol=1e-6):
        raise SymmetryError(f"a symmetry operation must be an orthogonal 3x3 Cartesian matrix, got {R.tolist()}")


def group_from_generators(generators) -> Group:
    """The group generated by names ('C3z', 'TimeReversal*C2x', ...), a comma-separated string of
    them, or (matrix, time_reversal) pairs."""
    if isinstance(generators, str):
        generators = [g for g in generators.split(",") if g.strip()]
    operations, names = [], []
    for item in generators:
        if isinstance(item, str):
            operations.append(named_operation(item))
            names.append(item.strip())
        else:
            R, t = item
            R = np.asarray(R, dtype=float)
            operations.append((R, bool(t)))
            names.append(describe(R, bool(t)))
    return close(operations, names or ["E"])


def generators_of(group: Group) -> tuple[str, ...]:
    """A small set of operations of the group that generates it (greedy)."""
    chosen: list[int] = []
    covered = 1
    order = np.argsort([len(n) for n in group.names], kind="stable")
    for i in order:
        if covered == group.order:
            break
        trial = close([(group.rotations[j], bool(group.time_reversal[j])) for j in chosen + [i]], ["-"])
        if trial.order > covered:
            chosen.append(int(i))
            covered = trial.order
    return tuple(group.names[i] for i in chosen) or ("E",)
