"""Occupations of the equilibrium state and their derivatives, stable for |e - mu|/T up to 1e3
and beyond (no overflow, no NaN).

x = (e - mu)/T (k_B = 1). Fermi-Dirac f = 1/(1 + e^x), entropy per state (Eq. 1 in the eigenbasis)
s = -f ln f - (1 - f) ln(1 - f), grand potential per state g = -T ln(1 + e^{-x}), with
f = -d_mu g, s = -d_T g (ERRATA E4), and phi(f) = ln((1 - f)/f) = x.

Every function takes energies, mu and T that broadcast against each other. T must be > 0: the
entropy quantities have no T -> 0 limit (s/T, 1/(f(1 - f)) and the entropy production ~ 1/T), so
T <= 0 is an error everywhere here, named as such.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

LOG2 = np.log(2.0)


def check_temperature(T) -> np.ndarray:
    """Return T as an array; raise ValueError if any T <= 0 or is not finite."""
    T = np.asarray(T, dtype=float)
    bad = ~(np.isfinite(T) & (T > 0))
    if np.any(bad):
        raise ValueError(
            f"temperature must be finite and > 0, got {np.ravel(T)[np.ravel(bad)][:3]}: "
            "the entropy, its derivatives and the entropy production have no T -> 0 limit"
        )
    return T


def reduced_energy(e, mu, T) -> np.ndarray:
    """x = (e - mu)/T."""
    return (np.asarray(e) - mu) / check_temperature(T)


def softplus(x) -> np.ndarray:
    """ln(1 + e^x), stable for any x."""
    return np.logaddexp(0.0, x)


def fermi(x) -> np.ndarray:
    """f(x) = 1/(1 + e^x)."""
    return expit(-np.asarray(x, dtype=float))


def entropy(x) -> np.ndarray:
    """s(x) = -f ln f - (1 - f) ln(1 - f) = ln(1 + e^{-|x|}) + |x| f(|x|) (Eq. 1, one state)."""
    a = np.abs(x)
    return softplus(-a) + a * expit(-a)


def grand_potential(e, mu, T) -> np.ndarray:
    """g = -T ln(1 + exp(-(e - mu)/T)) (text before Eq. 25)."""
    return -np.asarray(T) * softplus(-reduced_energy(e, mu, T))


def fermi_derivative(x, order: int = 1) -> np.ndarray:
    """d^n f/dx^n for n = 1, 2, 3, as polynomials in f times f(1 - f) (no overflow).

    f' = -f(1-f), f'' = f(1-f)(1-2f), f''' = -f(1-f)(1 - 6f + 6f^2).
    """
    f = fermi(x)
    w = f * (1 - f)
    if order == 1:
        return -w
    if order == 2:
        return w * (1 - 2 * f)
    if order == 3:
        return -w * (1 - 6 * f + 6 * f * f)
    raise ValueError(f"order must be 1, 2 or 3, got {order}")


def entropy_derivative(x, order: int = 1) -> np.ndarray:
    """d^n s/dx^n for n = 1, 2, 3: s' = x f', s'' = f' + x f'', s''' = 2 f'' + x f'''."""
    x = np.asarray(x, dtype=float)
    if order == 1:
        return x * fermi_derivative(x, 1)
    if order == 2:
        return fermi_derivative(x, 1) + x * fermi_derivative(x, 2)
    if order == 3:
        return 2 * fermi_derivative(x, 2) + x * fermi_derivative(x, 3)
    raise ValueError(f"order must be 1, 2 or 3, got {order}")


def derivatives(e, mu, T) -> dict:
    """First derivatives of f, s and g in energy, mu and T (all with k_B = 1).

    df/de = f'(x)/T, df/dmu = -f'(x)/T, df/dT = -x f'(x)/T;
    ds/de = x f'(x)/T, ds/dmu = -x f'(x)/T, ds/dT = -x^2 f'(x)/T  (= d_T f = d_mu s, ERRATA E4);
    dg/de = f, dg/dmu = -f, dg/dT = -s.
    """
    x = reduced_energy(e, mu, T)
    T = np.asarray(T, dtype=float)
    fp = fermi_derivative(x, 1)
    return {
        "df_de": fp / T, "df_dmu": -fp / T, "df_dT": -x * fp / T,
        "ds_de": x * fp / T, "ds_dmu": -x * fp / T, "ds_dT": -x * x * fp / T,
        "dg_de": fermi(x), "dg_dmu": -fermi(x), "dg_dT": -entropy(x),
    }


def log_cosh(y) -> np.ndarray:
    """ln cosh(y), stable for any y."""
    a = np.abs(y)
    return a + np.log1p(np.exp(-2 * a)) - LOG2


def log_sinh(y) -> np.ndarray:
    """ln sinh(y) for y >= 0 (-inf at 0)."""
    with np.errstate(divide="ignore"):
        return y + np.log(-np.expm1(-2 * np.asarray(y, dtype=float))) - LOG2


def log_sinh_over_y(y) -> np.ndarray:
    """ln(sinh(y)/y) for y >= 0, with its series below 1e-3."""
    y = np.asarray(y, dtype=float)
    small = y < 1e-3
    safe = np.where(small, 1.0, y)
    series = y * y / 6 - y**4 / 180
    return np.where(small, series, log_sinh(safe) - np.log(safe))


def fermi_divided_difference(x_n, x_m) -> np.ndarray:
    """(f(x_m) - f(x_n))/(x_m - x_n), exact and stable, equal to f'(x) at x_m = x_n.

    From f(x) = (1 - tanh(x/2))/2:  -(1/4) [sinh(d/2)/(d/2)] / (cosh(x_n/2) cosh(x_m/2)),
    d = x_m - x_n, evaluated in logarithms. Always < 0.
    """
    d = np.abs(np.asarray(x_m) - np.asarray(x_n))
    return -0.25 * np.exp(log_sinh_over_y(d / 2) - log_cosh(np.asarray(x_n) / 2) - log_cosh(np.asarray(x_m) / 2))


def log_abs_fermi_difference(x_n, x_m) -> np.ndarray:
    """ln|f(x_n) - f(x_m)| = ln sinh(|d|/2) - ln 2 - ln cosh(x_n/2) - ln cosh(x_m/2) (-inf at d = 0)."""
    d = np.abs(np.asarray(x_m) - np.asarray(x_n))
    return log_sinh(d / 2) - LOG2 - log_cosh(np.asarray(x_n) / 2) - log_cosh(np.asarray(x_m) / 2)


def log_fermi_variance(x) -> np.ndarray:
    """ln(f(1 - f)) = -2 ln(2 cosh(x/2))."""
    return -2 * (log_cosh(np.asarray(x) / 2) + LOG2)


def entropy_divided_difference(x_n, x_m, threshold: float = 1e-3) -> np.ndarray:
    """(s(x_m) - s(x_n))/(x_m - x_n), with s'(xbar) + s'''(xbar) d^2/24 for |d| < threshold."""
    x_n = np.asarray(x_n, dtype=float)
    x_m = np.asarray(x_m, dtype=float)
    d = x_m - x_n
    small = np.abs(d) < threshold
    mid = (x_m + x_n) / 2
    taylor = entropy_derivative(mid, 1) + entropy_derivative(mid, 3) * d * d / 24
    safe = np.where(small, 1.0, d)
    return np.where(small, taylor, (entropy(x_m) - entropy(x_n)) / safe)
