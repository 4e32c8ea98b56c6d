"""Every SI unit label of qgtransport.units has the dimension of its conversion factor.

The factor of a unit kind is e^charge k_B^boltzmann E^energy hbar^-hbar length^(offset - d); its
label (e.g. "W m/(K V^2)") is parsed here into powers of kg, m, s, A, K and compared, for d = 1, 2, 3.
"""

import re

import numpy as np
import pytest

from qgtransport.units import UNIT_KINDS

BASE = ("kg", "m", "s", "A", "K")


class Dim:
    def __init__(self, **powers):
        self.p = np.array([powers.get(b, 0) for b in BASE], dtype=float)

    @classmethod
    def of(cls, p):
        d = cls()
        d.p = np.asarray(p, dtype=float)
        return d

    def __mul__(self, other):
        return Dim.of(self.p + other.p)

    def __truediv__(self, other):
        return Dim.of(self.p - other.p)

    def __rtruediv__(self, number):  # 1/(eV m)
        return Dim.of(-self.p)

    def __pow__(self, n):
        return Dim.of(self.p * n)


JOULE = Dim(kg=1, m=2, s=-2)
UNITS = {
    # "eV" in a label is the energy in electronvolts, numerically J/e: the factor 1/eV = e/J
    "m": Dim(m=1), "A": Dim(A=1), "K": Dim(K=1), "J": JOULE, "eV": Dim(kg=1, m=2, s=-3, A=-1),
    "W": Dim(kg=1, m=2, s=-3), "V": Dim(kg=1, m=2, s=-3, A=-1), "S": Dim(kg=-1, m=-2, s=3, A=2),
}
E_CHARGE, K_B, HBAR = Dim(A=1, s=1), Dim(kg=1, m=2, s=-2, K=-1), Dim(kg=1, m=2, s=-1)


def parse(label: str) -> Dim:
    """A unit label as a product of powers of the base units ("X per Y" is X/Y)."""
    if " per " in label:
        left, right = label.split(" per ")
        return parse(left) / parse(right)
    expression = label.replace("^", "**")
    expression = re.sub(r"(?<=[\w)])\s+(?=[\w(])", "*", expression)
    return eval(expression, {"__builtins__": {}}, dict(UNITS))  # noqa: S307 - our own labels


@pytest.mark.parametrize("kind", sorted(UNIT_KINDS))
@pytest.mark.parametrize("d", [1, 2, 3])
def test_unit_label_has_the_dimension_of_the_factor(kind, d):
    u = UNIT_KINDS[kind]
    factor = E_CHARGE**u.charge * K_B**u.boltzmann * JOULE**u.energy / HBAR**u.hbar * Dim(m=1) ** (u.offset - d)
    label = parse(u.si_unit[d])
    assert np.allclose(label.p, factor.p), (kind, d, u.si_unit[d], dict(zip(BASE, factor.p, strict=True)))
