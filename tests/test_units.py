"""Every unit string of qgtransport.units parses in pint and has the value of its conversion factor.

The SI factor of a unit kind is e^charge k_B^boltzmann E^energy hbar^-hbar length^(offset - d), coded
by hand in `si_factor`; pint, an independent unit library, converts the natural unit string (the
constants by name) to the SI unit string, and the two numbers must agree for every kind, dimension
and model unit. The display units (S/cm for 3D conductivities) are checked the same way.
"""

from types import SimpleNamespace

import numpy as np
import pint
import pytest

from qgtransport import units as U
from qgtransport.units import UNIT_KINDS

REGISTRY = pint.UnitRegistry()


def fake_model(d, energy_unit="eV", length_unit="Angstrom"):
    return SimpleNamespace(dim=d, energy_unit=energy_unit, length_unit=length_unit)


@pytest.mark.parametrize("kind", sorted(UNIT_KINDS))
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("energy_unit, length_unit", [("eV", "Angstrom"), ("Ry", "bohr"), ("Ha", "nm"),
                                                      ("meV", "Angstrom")])
def test_pint_converts_the_natural_unit_to_the_si_unit_by_the_factor(kind, d, energy_unit, length_unit):
    model = fake_model(d, energy_unit, length_unit)
    natural = U.natural_units(kind, model)
    si = U.si_unit(kind, model)
    converted = REGISTRY.Quantity(1.0, natural).to(si).magnitude
    # the labels of the density of states say "eV" for the energy of its SI unit: also checked here
    np.testing.assert_allclose(converted, U.si_factor(kind, model), rtol=1e-8, err_msg=f"{natural} -> {si}")


@pytest.mark.parametrize("kind", sorted(UNIT_KINDS))
def test_unit_strings_have_no_words_that_udunits_would_not_parse(kind):
    for d in (1, 2, 3):
        for text in (UNIT_KINDS[kind].si_unit[d], U.natural_units(kind, fake_model(d))):
            assert " per " not in text and "length" not in text and "field" not in text, text
            REGISTRY.Unit(text)  # parses


def test_natural_units_spell_the_constants_and_the_model_units():
    assert U.natural_units("conductivity", fake_model(3)) == "e^2/(hbar angstrom)"
    assert U.natural_units("conductivity", fake_model(2)) == "e^2/hbar"
    assert U.natural_units("entropy_production", fake_model(2, "Ha")) == "k_B e^2/(hbar hartree)"
    assert U.natural_units("density_of_states", fake_model(3, "eV", "nm")) == "1/(eV nm^3)"


def test_display_units_of_3d_conductivities_are_s_per_cm(monkeypatch):
    assert U.display_units("S/m") == (pytest.approx(0.01), "S/cm")
    assert U.display_units("A/K") == (1.0, "A/K")
    monkeypatch.setitem(U.DISPLAY_UNITS, "A/(m K)", "mA/(cm K)")
    assert U.display_units("A/(m K)") == (pytest.approx(10.0), "mA/(cm K)")
    with pytest.raises(ValueError, match="cannot convert"):
        U.conversion_factor("S/m", "A/K")
