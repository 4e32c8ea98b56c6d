"""Universal relations between charge and entropy responses, each returned as its two sides and
their residual: Onsager (Eq. 29), Maxwell (Eq. 30 as corrected by ERRATA E4), Mott/Sommerfeld
(Eq. 31), the optical ratio (Eq. 34, ERRATA E9), positivity of the entropy production, the scale of
the equilibrium entropy current (zero identically, ERRATA E6).

Currents in the relations are particle-sign currents j = Tr[v rho] (the seed's j^e), i.e. minus our
charge conductivities; entropy currents are Tr[v s]. Derivatives in mu and T are central finite
differences of `compute` results (step h, error O(h^2)). `maxwell_sides` and `sommerfeld_sides`
evaluate several pairs and chemical potentials from one computation (the report's checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qgtransport import units as U
from qgtransport.bands.occupation import entropy, fermi
from qgtransport.compute import compute
from qgtransport.responses import RESPONSES

PAIRS = {
    # charge quantity -> its entropy counterpart by f -> s
    "anomalous_hall": "entropy_hall",
    "drude": "entropy_current_drude",
    "conductivity_ac": "entropy_conductivity_ac",
    "optical_conductivity": "optical_entropy_conductivity",
    "second_order_current": "second_order_entropy_current_replaced",
}


@dataclass(frozen=True)
class Relation:
    """Two sides of a relation, evaluated on the same points, and the largest relative residual."""

    name: str
    lhs: np.ndarray
    rhs: np.ndarray

    @property
    def residual(self) -> float:
        scale = max(np.abs(self.lhs).max(), np.abs(self.rhs).max(), 1e-300)
        return float(np.abs(self.lhs - self.rhs).max() / scale)

    def __str__(self):
        return f"{self.name}: max |lhs - rhs| / max |side| = {self.residual:.3e}"


def differenced(options: dict) -> dict:
    """The options of a computation whose values are differenced in mu or T: scan="direct" unless asked
    otherwise (the binned scan's error, 1e-9-1e-7 of the value, divided by a step of 1e-4 T would
    dominate the derivative)."""
    return {"scan": "direct", **options}


def onsager(model, *, mu, T, nk, **options) -> Relation:
    """sigma^s_ab (entropy Hall, Eq. 28) = alpha_ab (anomalous Nernst, Xiao et al. 2006): Eq. 29, ERRATA E7."""
    ds = compute(model, ["entropy_hall", "anomalous_nernst"], mu=mu, T=T, nk=nk, **options)
    return Relation("Onsager sigma^s = alpha", ds.entropy_hall.values, ds.anomalous_nernst.values)


def maxwell(model, charge="anomalous_hall", *, mu, T, nk, h_mu=1e-4, h_T=None, **options) -> Relation:
    """d_T j = d_mu j^s (Eq. 30 without its spurious 1/T, ERRATA E4), j = -J the particle current.

    lhs = -d_T sigma^charge, rhs = d_mu sigma^s; in SI both in S/K (mu in eV, T in K).
    """
    entropy_name = PAIRS[charge]
    mu = np.atleast_1d(np.asarray(mu, dtype=float))
    T = np.atleast_1d(np.asarray(T, dtype=float))
    h_T = 1e-4 * T.min() if h_T is None else h_T

    def at(quantity, mu_, T_):
        return compute(model, [quantity], mu=mu_, T=T_, nk=nk, error_estimate=False,
                       **differenced(options))[quantity].values

    lhs = -(at(charge, mu, T + h_T) - at(charge, mu, T - h_T)) / (2 * h_T)
    rhs = (at(entropy_name, mu + h_mu, T) - at(entropy_name, mu - h_mu, T)) / (2 * h_mu)
    return Relation(f"Maxwell d_T j = d_mu j^s ({charge})", lhs, rhs)


def natural_temperature(model, T, units):
    return U.temperature_to_natural(T, model) if units == "SI" else np.asarray(T, dtype=float)


def sommerfeld(model, charge="anomalous_hall", *, mu, T, nk, order=1, h_mu=None, units="SI", **options) -> Relation:
    """j^s = (pi^2 T/3) d_mu j + (pi^4 T^3/45) d_mu^3 j + O(T^5) (Eq. 31; j at the same T, ERRATA).

    order=1 is the Mott relation; order=3 adds the T^3 term. j = -J (particle current), T in energy
    units inside (k_B T). Returns lhs = sigma^s and rhs = the expansion, for scalar mu and T.
    """
    entropy_name = PAIRS[charge]
    T_energy = float(natural_temperature(model, T, units))
    h = T_energy / 4 if h_mu is None else h_mu
    offsets = np.array([-2, -1, 0, 1, 2]) * h
    ds = compute(model, [charge, entropy_name], mu=float(mu) + offsets, T=T, nk=nk, units=units,
                 error_estimate=False, **differenced(options))
    j = -ds[charge].values[:, 0]
    lhs = ds[entropy_name].values[2, 0]
    if units == "SI":  # natural: sigma^s = (pi^2 T/3) d_mu j; SI adds the ratio of the unit factors, k_B/e
        kinds = RESPONSES[entropy_name].unit, RESPONSES[charge].unit
        j = j * U.si_factor(kinds[0], model) / U.si_factor(kinds[1], model)
    first = (j[3] - j[1]) / (2 * h)
    rhs = np.pi**2 * T_energy / 3 * first
    if order >= 3:
        third = (j[4] - 2 * j[3] + 2 * j[1] - j[0]) / (2 * h**3)
        rhs = rhs + np.pi**4 * T_energy**3 / 45 * third
    return Relation(f"Sommerfeld order {order} ({charge})", lhs, rhs)


def mott(model, charge="anomalous_hall", **kwargs) -> Relation:
    """Mott relation sigma^s = (pi^2 T/3) d_mu sigma^particle (first term of Eq. 31)."""
    return sommerfeld(model, charge, order=1, **kwargs)


def optical_ratio(model, *, mu, T, omega, nk, center=0.0, component=("x", "x"), **options) -> Relation:
    """Eq. 34: sigma^s(omega)/sigma^particle(omega) = Delta^s_-+/f_-+ at e_+- = center +- omega/2.

    lhs: the true ratio Re sigma^s / Re(-sigma^e) of the broadened Eqs. 32-33 (a weighted average of
    Delta s/f over the resonance surface, ERRATA E9); rhs: the two-band prediction of Eq. 34. They
    agree only when e_+ + e_- = 2 center on the whole resonance surface.
    """
    units = options.get("units", "SI")
    ds = compute(model, ["optical_conductivity", "optical_entropy_conductivity"], mu=mu, T=T, omega=omega,
                 nk=nk, error_estimate=False, **options)
    a, b = component
    charge = ds.optical_conductivity.sel(a=a, b=b).values.real
    ent = ds.optical_entropy_conductivity.sel(a=a, b=b).values.real
    if units == "SI":  # undo the unit factors: the ratio is in k_B/e units, dimensionless in natural
        charge = charge / U.si_factor("conductivity", model)
        ent = ent / U.si_factor("entropy_conductivity", model)
    lhs = ent / -charge
    T_energy = natural_temperature(model, np.atleast_1d(T), units)
    mu_ = np.atleast_1d(mu)[:, None, None]
    w = np.atleast_1d(omega)[None, None, :]
    x_minus = (center - w / 2 - mu_) / T_energy[None, :, None]
    x_plus = (center + w / 2 - mu_) / T_energy[None, :, None]
    rhs = (entropy(x_minus) - entropy(x_plus)) / (fermi(x_minus) - fermi(x_plus))
    return Relation("optical ratio Eq. 34", lhs, np.broadcast_to(rhs, lhs.shape))


def entropy_production_positive(ds) -> Relation:
    """Pi_ab is positive semi-definite at every (mu, T): lhs = smallest eigenvalue, rhs = 0 (lhs >= rhs)."""
    values = np.asarray(ds.entropy_production.values)
    smallest = np.linalg.eigvalsh(values).min(axis=-1)
    return Relation("Pi >= 0", np.minimum(smallest, 0.0), np.zeros_like(smallest))


def maxwell_sides(model, pairs, mu, T, nk, options, h_mu: float = 1e-4, h_T: float | None = None) -> list:
    """Both sides of d_T j = d_mu j^s (Eq. 30 without its 1/T, ERRATA E4) for several (charge,
    entropy) pairs, as `qgtransport.relations.maxwell` computes them (particle current j = -J,
    central differences, h_T = 1e-4 min T by default), from one computation on the points
    (mu - h_mu, mu, mu + h_mu) x (T - h_T, T, T + h_T) instead of four.

    Returns [(lhs, rhs)] with arrays over (mu, T, a, b), one pair each.
    """
    mu = np.asarray(mu, dtype=float)
    T = np.asarray(T, dtype=float)
    h_T = 1e-4 * float(T.min()) if h_T is None else h_T
    n, m = len(mu), len(T)
    quantities = list(dict.fromkeys(q for pair in pairs for q in pair))
    ds = compute(model, quantities, mu=np.concatenate([mu - h_mu, mu, mu + h_mu]),
                 T=np.concatenate([T - h_T, T, T + h_T]), nk=nk, error_estimate=False, **differenced(options))
    sides = []
    for charge, entropy_name in pairs:
        J = ds[charge].values
        S = ds[entropy_name].values
        lhs = -(J[n:2 * n, 2 * m:] - J[n:2 * n, :m]) / (2 * h_T)
        rhs = (S[2 * n:, m:2 * m] - S[:n, m:2 * m]) / (2 * h_mu)
        sides.append((lhs, rhs))
    return sides


def sommerfeld_sides(model, pairs, mu, T: float, nk, options, h: float | None = None) -> dict:
    """Both sides of Eq. 31 at one temperature, as `qgtransport.relations.sommerfeld` computes them
    (natural units: k_B T in the energy unit; j = -J; step h = T/4 in mu), for several (charge,
    entropy) pairs and chemical potentials from one computation on the points mu + (-2..2) h.

    Returns {1: [(lhs, rhs)], 3: [(lhs, rhs)]}: order 1 is the Mott relation
    j^s = (pi^2 T/3) d_mu j, order 3 adds (pi^4 T^3/45) d_mu^3 j; arrays over (mu, a, b).
    """
    mu = np.asarray(mu, dtype=float)
    h = T / 4 if h is None else h
    offsets = np.arange(-2, 3) * h
    quantities = list(dict.fromkeys(q for pair in pairs for q in pair))
    options = {k: v for k, v in options.items() if k != "units"}
    ds = compute(model, quantities, mu=(mu[:, None] + offsets).ravel(), T=T, nk=nk, units="natural",
                 error_estimate=False, **differenced(options))
    out: dict = {1: [], 3: []}
    for charge, entropy_name in pairs:
        j = -ds[charge].values[:, 0].reshape(len(mu), 5, *ds[charge].shape[2:])
        lhs = ds[entropy_name].values[:, 0].reshape(len(mu), 5, *ds[entropy_name].shape[2:])[:, 2]
        first = (j[:, 3] - j[:, 1]) / (2 * h)
        third = (j[:, 4] - 2 * j[:, 3] + 2 * j[:, 1] - j[:, 0]) / (2 * h**3)
        mott = np.pi**2 * T / 3 * first
        out[1].append((lhs, mott))
        out[3].append((lhs, mott + np.pi**4 * T**3 / 45 * third))
    return out


def natural_options(model, options: dict, tau) -> dict:
    """The dataset's compute options in natural units (tau converted from fs in SI)."""
    out = dict(options, units="natural")
    if tau is not None:
        out["tau"] = float(U.relaxation_time_to_natural(tau, model)) if options["units"] == "SI" else tau
    return out


def entropy_current_scale(model, units: str = "SI") -> float:
    """The size of an entropy current against which the equilibrium one (zero identically, Eqs.
    24-25, ERRATA E6) is measured: g_s n W a ln2 / V_cell, n the bands, W their total width on a
    9^d grid, a the longest lattice vector; in SI units (units="SI") or natural ones."""
    factor = U.si_factor("entropy_current", model) if units == "SI" else 1.0
    k_grid = np.stack(np.meshgrid(*([np.linspace(0, 1, 9, endpoint=False)] * model.dim),
                                  indexing="ij"), -1).reshape(-1, model.dim)
    energies = np.linalg.eigvalsh(model.hamiltonian(model.to_cartesian(k_grid)))
    width = float(np.ptp(energies)) or 1.0
    length = float(np.linalg.norm(model.lattice, axis=1).max())
    return factor * model.spin_degeneracy * model.norb * width * length * np.log(2) / model.cell_volume
