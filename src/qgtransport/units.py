"""Natural (seed) units <-> SI: one table, one place.

Natural units: k_B = e = hbar = 1, energies in the model's energy unit (eV by default), lengths in
its length unit (Angstrom by default), tau in hbar/energy, T in energy, k-integrals
int_k = int d^dk/(2 pi)^d. A response computed this way carries length^(2-d) (conductivities) and
converts to SI by one factor per unit kind below; d is the model's dimension, so 3D results are
per volume (S/m) and 2D results are sheet quantities (S).

SI inputs: mu in the model's energy unit, T in K, tau in fs.

Unit strings: every `units` attribute that qgtransport writes parses in pint (and in UDUNITS: products
by a space, powers by ^, no words): the SI ones as they are ("W/(K m^3)/(V/m)^2" is Pi per field
squared), the natural ones with the constants by name ("e^2/(hbar angstrom)": e, hbar, k_B and the
model's energy and length units), so that pint converts either to the other (tests/test_units.py checks
that it gives `si_factor`).

Display units: tables, figures and summaries show a quantity in one unit per quantity family,
`DISPLAY_UNITS` (3D charge conductivities in S/cm; edit the dictionary to change it), converted by
pint (`display_units`); the dataset itself stays in SI (or natural) units.
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import constants as C

from qgtransport.models.tightbinding import ENERGY_UNITS_IN_EV, LENGTH_UNITS_IN_ANGSTROM

E_CHARGE = C.e
HBAR = C.hbar
K_B = C.k


def energy_unit_in_joule(model) -> float:
    return ENERGY_UNITS_IN_EV[model.energy_unit] * C.eV


def length_unit_in_metre(model) -> float:
    return LENGTH_UNITS_IN_ANGSTROM[model.length_unit] * 1e-10


def temperature_to_natural(T_kelvin, model):
    """T in the model's energy unit: k_B T / E_unit."""
    return K_B * T_kelvin / energy_unit_in_joule(model)


def relaxation_time_to_natural(tau_fs, model):
    """tau in hbar/E_unit: tau[s] E_unit / hbar."""
    return tau_fs * 1e-15 * energy_unit_in_joule(model) / HBAR


def field_to_si(E_natural, model):
    """Electric field in V/m from the natural unit E_unit/(e length_unit)."""
    return E_natural * energy_unit_in_joule(model) / E_CHARGE / length_unit_in_metre(model)


@dataclass(frozen=True)
class UnitKind:
    """A natural-unit result carries e^charge k_B^boltzmann E_unit^energy hbar^-hbar length^(offset - d)
    (E_unit the model's energy unit in J, length in m); `si_unit` names the SI unit by dimension d;
    `natural_unit` is the natural unit in words, `natural` its constants as (name, power) pairs
    ("E" the model's energy unit; the length power offset - d is added by `natural_units`)."""

    charge: int
    boltzmann: int
    energy: int
    hbar: int
    offset: int
    si_unit: dict
    natural_unit: str
    natural: tuple = ()


UNIT_KINDS = {
    "conductivity": UnitKind(2, 0, 0, 1, 2, {1: "S m", 2: "S", 3: "S/m"}, "e^2/hbar length^(2-d)",
                             (("e", 2), ("hbar", -1))),
    "entropy_conductivity": UnitKind(1, 1, 0, 1, 2, {1: "A m/K", 2: "A/K", 3: "A/(m K)"},
                                     "e k_B/hbar length^(2-d)", (("e", 1), ("k_B", 1), ("hbar", -1))),
    "entropy_production": UnitKind(
        2, 1, -1, 1, 2, {1: "W/(K m)/(V/m)^2", 2: "W/(K m^2)/(V/m)^2", 3: "W/(K m^3)/(V/m)^2"},
        "k_B e^2/(hbar E_unit) length^(2-d) per field^2", (("k_B", 1), ("e", 2), ("hbar", -1), ("E", -1))),
    "heat_conductivity": UnitKind(1, 0, 1, 1, 2, {1: "W m/V", 2: "W/V", 3: "W/(V m)"}, "e E_unit/hbar length^(2-d)",
                                  (("e", 1), ("E", 1), ("hbar", -1))),
    "second_order_conductivity": UnitKind(3, 0, -1, 1, 3, {1: "A m^2/V^2", 2: "A m/V^2", 3: "A/V^2"},
                                          "e^3/(hbar E_unit) length^(3-d)", (("e", 3), ("hbar", -1), ("E", -1))),
    "second_order_entropy_conductivity": UnitKind(
        2, 1, -1, 1, 3, {1: "W m^2/(K V^2)", 2: "W m/(K V^2)", 3: "W/(K V^2)"}, "e^2 k_B/(hbar E_unit) length^(3-d)",
        (("e", 2), ("k_B", 1), ("hbar", -1), ("E", -1))),
    "second_order_heat_conductivity": UnitKind(2, 0, 0, 1, 3, {1: "W m^2/V^2", 2: "W m/V^2", 3: "W/V^2"},
                                               "e^2/hbar length^(3-d)", (("e", 2), ("hbar", -1))),
    "third_order_entropy_production": UnitKind(
        3, 1, -2, 1, 3, {1: "W/(K m)/(V/m)^3", 2: "W/(K m^2)/(V/m)^3", 3: "W/(K m^3)/(V/m)^3"},
        "k_B e^3/(hbar E_unit^2) length^(3-d) per field^3", (("k_B", 1), ("e", 3), ("hbar", -1), ("E", -2))),
    "density_of_states": UnitKind(1, 0, -1, 0, 0, {1: "1/(eV m)", 2: "1/(eV m^2)", 3: "1/(eV m^3)"},
                                  "1/(E_unit length^d)", (("E", -1),)),
    "entropy_current": UnitKind(0, 1, 1, 1, 1, {1: "W/K", 2: "W/(K m)", 3: "W/(K m^2)"},
                                "k_B E_unit/hbar length^(1-d)", (("k_B", 1), ("E", 1), ("hbar", -1))),
}


def si_factor(kind: str, model) -> float:
    """Multiply a natural-unit result of this kind by this factor to get SI (model.dim decides d)."""
    if kind not in UNIT_KINDS:
        raise ValueError(f"unknown unit kind {kind!r}")
    u = UNIT_KINDS[kind]
    return (E_CHARGE**u.charge * K_B**u.boltzmann * energy_unit_in_joule(model) ** u.energy / HBAR**u.hbar
            * length_unit_in_metre(model) ** (u.offset - model.dim))


def si_unit(kind: str, model) -> str:
    return UNIT_KINDS[kind].si_unit[model.dim]


# the model's unit names as pint and UDUNITS spell them
PINT_NAMES = {"Angstrom": "angstrom", "Ha": "hartree", "Ry": "rydberg"}


def unit_name(name: str) -> str:
    """A model energy or length unit as pint spells it ("Angstrom" -> "angstrom", "Ha" -> "hartree")."""
    return PINT_NAMES.get(name, name)


def _product(powers) -> str:
    """[("e", 2), ("hbar", -1), ("angstrom", -1)] -> "e^2/(hbar angstrom)"."""
    def term(name, power):
        return name if abs(power) == 1 else f"{name}^{abs(power)}"

    top = [term(n, p) for n, p in powers if p > 0]
    bottom = [term(n, p) for n, p in powers if p < 0]
    text = " ".join(top) or "1"
    if bottom:
        text += "/" + (bottom[0] if len(bottom) == 1 else "(" + " ".join(bottom) + ")")
    return text


def natural_units(kind: str, model) -> str:
    """The natural unit of a kind for this model as a pint-parsable string, e.g. "e^2/(hbar angstrom)"
    for a 3D conductivity with lengths in Angstrom (k_B = e = hbar = 1 made explicit)."""
    u = UNIT_KINDS[kind]
    energy = unit_name(model.energy_unit)
    powers = [(energy if name == "E" else name, power) for name, power in u.natural]
    powers.append((unit_name(model.length_unit), u.offset - model.dim))
    return _product([(n, p) for n, p in powers if p != 0])


def units_of(kind: str, model, units: str = "SI") -> str:
    """The `units` attribute of a result of this kind: `si_unit` for units="SI", else `natural_units`."""
    return si_unit(kind, model) if units == "SI" else natural_units(kind, model)


# ---------------------------------------------------------------- display units

DISPLAY_UNITS = {
    "S/m": "S/cm",  # 3D charge conductivities (Drude, Hall, optical): S/cm, as in the literature
}
"""The unit shown in tables, figures and summaries for a dataset unit (keys: `units` attributes as
written, values: any pint unit of the same dimension). Edit it to change every output at once, e.g.
``qgtransport.units.DISPLAY_UNITS["S/m"] = "S/m"``."""

_REGISTRY = None


def registry():
    """The pint UnitRegistry (created once, on first use)."""
    global _REGISTRY
    if _REGISTRY is None:
        import pint

        _REGISTRY = pint.UnitRegistry()
    return _REGISTRY


def conversion_factor(source: str, target: str) -> float:
    """Multiply a value in `source` units by this to get it in `target` units (pint; ValueError when
    the two have different dimensions or one does not parse)."""
    if source == target:
        return 1.0
    import pint

    try:
        return float(registry().Quantity(1.0, source).to(target).magnitude)
    except (pint.errors.DimensionalityError, pint.errors.UndefinedUnitError) as exc:
        raise ValueError(f"cannot convert {source!r} to {target!r}: {exc}") from None


def conductivity_unit(text: str) -> str:
    """A unit for 3D charge conductivities (pint, of the dimension of S/m: "S/cm", "kS/cm", "S/m"), or
    ValueError naming it."""
    text = str(text).strip()
    try:
        conversion_factor("S/m", text)
    except ValueError:
        raise ValueError(f"{text!r} is not a unit of conductivity (S/m, S/cm, kS/cm, 1/(ohm cm), ...)") from None
    return text


class displayed:
    """Show some dataset units in other ones for a while: `with displayed({"S/m": "S/m"}): ...`
    (DISPLAY_UNITS is restored afterwards)."""

    def __init__(self, mapping: dict):
        self.mapping = dict(mapping)

    def __enter__(self):
        self.saved = dict(DISPLAY_UNITS)
        DISPLAY_UNITS.update(self.mapping)
        return DISPLAY_UNITS

    def __exit__(self, *exc):
        DISPLAY_UNITS.clear()
        DISPLAY_UNITS.update(self.saved)
        return False


def display_units(units: str) -> tuple[float, str]:
    """(factor, shown units) for values stored in `units`: DISPLAY_UNITS's choice, else (1, units)."""
    target = DISPLAY_UNITS.get(units)
    if not target or target == units:
        return 1.0, units
    return conversion_factor(units, target), target
