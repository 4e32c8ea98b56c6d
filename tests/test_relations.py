"""Universal relations (Eqs. 29-31, ERRATA E4, E7) on two models, linear DC and AC."""

import numpy as np
import pytest

from qgtransport import builtin_model
from qgtransport import relations as R


@pytest.mark.parametrize("name", ["tilted_dirac", "haldane"])
def test_onsager_entropy_hall_is_nernst(name):
    assert R.onsager(builtin_model(name), mu=[0.3, 0.8], T=[300.0, 1000.0], nk=32).residual < 1e-12


@pytest.mark.parametrize("name,charge,options", [
    ("tilted_dirac", "anomalous_hall", {}),
    ("haldane", "anomalous_hall", {}),
    ("tilted_dirac", "drude", {"tau": 5.0}),
    ("qwz", "conductivity_ac", {"tau": 5.0, "omega": [0.5, 2.5]}),
    ("haldane", "conductivity_ac", {"tau": 5.0, "omega": [0.3, 1.5]}),
])
def test_maxwell_relation_corrected(name, charge, options):
    # d_T j = d_mu j^s (ERRATA E4); the printed form d_T j = (1/T) d_mu j^s fails by 1/T - 1
    model = builtin_model(name)
    rel = R.maxwell(model, charge, mu=[0.3, 0.8], T=[0.1, 0.2], nk=32, units="natural", **options)
    assert rel.residual < 1e-6
    printed = rel.rhs / np.array([0.1, 0.2]).reshape((1, 2) + (1,) * (rel.rhs.ndim - 2))
    assert np.abs(printed - rel.lhs).max() > 0.5 * np.abs(rel.lhs).max()


def test_maxwell_in_SI_units():
    rel = R.maxwell(builtin_model("tilted_dirac"), mu=[0.3], T=[300.0, 900.0], nk=32, h_mu=1e-5, h_T=0.01)
    assert rel.residual < 1e-6


def test_sommerfeld_converges_as_T2_and_T4():
    model = builtin_model("tilted_dirac")
    first, third = [], []
    for T in (0.04, 0.02):
        first.append(R.sommerfeld(model, mu=0.6, T=T, nk=200, units="natural", order=1, h_mu=T / 16).residual)
        third.append(R.sommerfeld(model, mu=0.6, T=T, nk=200, units="natural", order=3, h_mu=T / 16).residual)
    assert first[1] < 0.03 and 3.0 < first[0] / first[1] < 5.0
    assert third[1] < 2e-3 and third[1] < first[1] / 10


def test_sommerfeld_for_the_second_order_replaced_current():
    # Eq. 31 holds for the f -> s replaced second-order current (ERRATA S1): the T^3 term improves it
    model = builtin_model("tilted_dirac")
    common = dict(mu=0.6, T=0.08, nk=192, units="natural", tau=5.0, h_mu=0.08 / 16)
    first = R.sommerfeld(model, "second_order_current", order=1, **common).residual
    third = R.sommerfeld(model, "second_order_current", order=3, **common).residual
    assert first < 0.2 and third < first / 5


@pytest.mark.parametrize("name,mu", [("qwz", 2.0), ("haldane", 1.5)])
def test_sommerfeld_for_the_ac_conductivity(name, mu):
    # mu inside a band (Sommerfeld needs the response smooth within a few T of mu) and T << eta
    model = builtin_model(name)
    first, third = [], []
    for T in (0.1, 0.05):
        common = dict(mu=mu, T=T, nk=128, units="natural", tau=1.0, omega=[0.3, 2.5], h_mu=T / 16)
        first.append(R.sommerfeld(model, "conductivity_ac", order=1, **common).residual)
        third.append(R.sommerfeld(model, "conductivity_ac", order=3, **common).residual)
    assert first[0] / first[1] > 3.5 and third[1] < first[1] / 5


def test_maxwell_relation_second_order_pt_model():
    rel = R.maxwell(builtin_model("pt_symmetric"), "second_order_current", mu=[1.2], T=[0.1], nk=32,
                    units="natural", tau=10.0)
    assert rel.residual < 1e-5


def test_mott_in_SI_units_equals_natural_units():
    model = builtin_model("tilted_dirac")
    si = R.mott(model, mu=0.6, T=464.0, nk=64, units="SI")  # 464 K = 0.04 eV
    natural = R.mott(model, mu=0.6, T=0.04, nk=64, units="natural", h_mu=0.01)
    assert si.residual == pytest.approx(natural.residual, rel=0.05)
    assert si.residual < 0.2


def test_batched_relations_equal_those_of_the_relations_module():
    """Cross-route: the one-computation Maxwell and Mott/Sommerfeld sides of several pairs (the
    report's checks) are those of maxwell and sommerfeld (four computations, and one per chemical potential)."""
    qwz = builtin_model("qwz", m=-1.0)
    mu, T = np.array([-1.8, 1.2]), np.array([600.0, 1200.0])
    pairs = [("anomalous_hall", "entropy_hall"), ("drude", "entropy_current_drude")]
    sides = R.maxwell_sides(qwz, pairs, mu, T, 16, {"tau": 10.0})
    for (charge, _), (lhs, rhs) in zip(pairs, sides, strict=True):
        reference = R.maxwell(qwz, charge, mu=mu, T=T, nk=16, tau=10.0)
        np.testing.assert_allclose(lhs, reference.lhs, rtol=1e-9, atol=1e-12 * np.abs(reference.lhs).max())
        np.testing.assert_allclose(rhs, reference.rhs, rtol=1e-9, atol=1e-12 * np.abs(reference.rhs).max())
    expansions = R.sommerfeld_sides(qwz, pairs, mu, 0.1, 16, {"tau": 10.0})
    for order in (1, 3):
        for index, (charge, _) in enumerate(pairs):
            lhs, rhs = expansions[order][index]
            for i, m in enumerate(mu):
                reference = R.sommerfeld(qwz, charge, mu=m, T=0.1, nk=16, order=order, units="natural",
                                                 tau=10.0)
                np.testing.assert_allclose(lhs[i], reference.lhs, rtol=1e-12, atol=1e-15)
                np.testing.assert_allclose(rhs[i], reference.rhs, rtol=1e-9, atol=1e-12)
