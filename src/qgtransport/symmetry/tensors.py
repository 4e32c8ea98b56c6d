"""Transformation of response tensors under a magnetic point group, and the symmetrisation.

A response tensor T_{a b ...} (Cartesian indices a, b, ... of currents and fields) of a model with the
symmetry g = (R, theta) obeys, k-point by k-point for its band-sum F(k),

    F_{a b c}(g k) = s(g) R_ai R_bj R_ck F_{i j k}(k)    (theta = 0: a unitary operation),

s(g) = det R for an axial tensor, 1 for a polar one (every response of qgtransport.responses is
polar: its indices are those of currents and electric fields or gradients). An antiunitary operation
(theta = 1) adds the time-reversal rule of the response (k -> -k):

    "even"       F(-k) =  F(k)    (tau-odd dissipative responses: Drude, Berry-curvature dipole, JDOS)
    "odd"        F(-k) = -F(k)    (tau-even ones: anomalous Hall, nonlinear Drude, intrinsic tau^0)
    "transpose"  F_ab(-k) = F_ba(k)  (every linear response sum c(e_n, e_m) v^a_nm v^b_mn: Onsager;
                                    it is "even" on the symmetric and "odd" on the antisymmetric part)
    None         no rule: the response is exact in tau and mixes even and odd powers (time reversal
                 maps it to the response at -tau), so only the unitary operations are used with it.

The integral over the grid is then I = (1/|G|) sum_g D(g) sum_irr w_k F(k) (`kpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport.symmetry.group import Group, SymmetryError
from qgtransport.symmetry.kpoints import IrreducibleGrid, cartesian_block, irreducible_points, star

TIME_REVERSAL_RULES = ("even", "odd", "transpose", None)
LETTERS = "abcd"


@dataclass(frozen=True)
class Rule:
    """How a response transforms: its rank, axial (det R factor) or polar, and its time-reversal rule."""

    rank: int
    time_reversal: str | None
    axial: bool = False

    def __post_init__(self):
        if self.time_reversal not in TIME_REVERSAL_RULES:
            raise ValueError(f"time_reversal must be one of {TIME_REVERSAL_RULES}, got {self.time_reversal!r}")
        if self.time_reversal == "transpose" and self.rank != 2:
            raise ValueError("the 'transpose' time-reversal rule is for rank-2 tensors")


def transform(array: np.ndarray, R: np.ndarray, reversal: bool, rule: Rule, absolute: bool = False) -> np.ndarray:
    """D(g) array for an array (..., a[, b[, c]]) whose last axes are the rule's rank Cartesian indices
    (R: the model's Cartesian block). absolute=True applies |D(g)| (elementwise |R|, no signs): bounds
    of errors."""
    out = np.asarray(array)
    matrix = np.abs(R) if absolute else R
    first = out.ndim - rule.rank
    for axis in range(first, out.ndim):
        out = np.moveaxis(np.tensordot(matrix, out, axes=([1], [axis])), 0, axis)
    sign = 1.0
    if reversal:
        if rule.time_reversal is None:
            raise SymmetryError("a response without a time-reversal rule cannot be symmetrised with time reversal")
        if rule.time_reversal == "odd" and not absolute:
            sign = -sign
        elif rule.time_reversal == "transpose":
            out = np.swapaxes(out, -1, -2)
    return sign * out


@dataclass(frozen=True)
class Symmetry:
    """A group applied to the responses of one request: the k-points it reduces to and the tensors it
    symmetrises. rules: {quantity: Rule}. The operations with time reversal are used only when every
    quantity has a time-reversal rule (`kgroup`)."""

    group: Group
    rules: dict
    reciprocal: np.ndarray

    @property
    def kgroup(self) -> Group:
        """The group used on k and on the tensors: the whole group, or its unitary part when some
        quantity has no time-reversal rule."""
        if all(rule.time_reversal is not None for rule in self.rules.values()):
            return self.group
        return self.group.unitary()

    def irreducible(self, shape, shift) -> IrreducibleGrid:
        return irreducible_points(self.kgroup, self.reciprocal, shape, shift)

    def star(self, k_red) -> np.ndarray:
        return star(self.kgroup, self.reciprocal, k_red)

    def symmetrise(self, values: dict, absolute: bool = False) -> dict:
        """(1/|G|) sum_g D(g) X for each quantity's array X (p, a, ...); absolute: sum_g |D(g)| X/|G|."""
        group = self.kgroup
        R = cartesian_block(group, self.reciprocal.shape[0])
        full = group.rotations
        out = {}
        for name, value in values.items():
            rule = self.rules[name.split(":")[-1]] if name.split(":")[-1] in self.rules else None
            if rule is None or rule.rank == 0:
                out[name] = value
                continue
            total = 0.0
            for g in range(group.order):
                term = transform(value, R[g], bool(group.time_reversal[g]), rule, absolute)
                if rule.axial and not absolute:  # det of the whole 3x3 operation (a 2D model too)
                    term = term * np.sign(np.linalg.det(full[g]))
                total = total + term
            out[name] = total / group.order
        return out

    def residual(self, values: dict) -> dict:
        """The part of each value that the group forbids: X - symmetrised X."""
        symmetric = self.symmetrise(values)
        return {name: values[name] - symmetric[name] for name in values}


def forbidden_components(symmetry: Symmetry, name: str, shape: tuple, tol: float = 1e-9) -> np.ndarray:
    """Boolean mask (a, b, ...) of the components of a tensor of this shape that the group forces to
    zero (the symmetrisation of every unit tensor has no weight on them)."""
    rule = symmetry.rules[name]
    size = int(np.prod(shape))
    basis = np.eye(size).reshape((size,) + tuple(shape))
    projected = symmetry.symmetrise({name: basis})[name].reshape(size, size)
    return (np.abs(projected).max(axis=0) < tol).reshape(shape) if rule.rank else np.zeros(shape, bool)
