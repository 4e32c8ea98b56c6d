"""Occupations of the equilibrium state, their derivatives and divided differences, stable for
|e - mu|/T up to 1e5 and beyond: no overflow, no NaN, and relative accuracy in both tails
(tests/bands/test_occupation.py, against 50- to 2000-digit arithmetic).

x = (e - mu)/T (k_B = 1). Fermi-Dirac f = 1/(1 + e^x), entropy per state (Eq. 1 in the eigenbasis)
s = -f ln f - (1 - f) ln(1 - f), grand potential per state g = -T ln(1 + e^{-x}), with
f = -d_mu g, s = -d_T g (ERRATA E4), and phi(f) = ln((1 - f)/f) = x.

Every function takes energies, mu and T that broadcast against each other. Whatever divides by T
needs T > 0 (the entropy production ~ 1/T; f' tends to a delta function) and `check_temperature`
names the error. T = 0 enters only through `reduced_energy_at`: its limit x = -inf, 0, +inf makes
`fermi` the step theta(mu - e) with 1/2 at e = mu and `entropy` zero off e = mu, for the Fermi-sea
quantities that have a T = 0 limit (docs/conventions.md, "Zero temperature").

Divided differences of functions of f (the Frechet derivatives of phi(rho) and s(rho)) grow like
1/f; they are written through divided differences in x, which stay bounded. With h_ab = f[x_a, x_b]:
phi[f_a, f_b] h_ab = 1, phi[f_a, f_b, f_c] h_ab h_bc h_ca = -f[x_a, x_b, x_c] (divided differences of
an inverse function), s[f_a, f_b] = s[x_a, x_b]/h_ab (`entropy_fermi_ratio`) and
s[f_a, f_b, f_c] h_ab h_bc by the chain rule (`entropy_frechet_quadratic_kernel`).
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import polynomial as P
from scipy.special import expit

LOG2 = np.log(2.0)


def check_temperature(T, allow_zero: bool = False) -> np.ndarray:
    """Return T as an array; raise ValueError if any T is not finite, is < 0, or is 0 without
    allow_zero (only the Fermi-sea quantities have a T = 0 limit)."""
    T = np.asarray(T, dtype=float)
    bad = ~(np.isfinite(T) & ((T >= 0) if allow_zero else (T > 0)))
    if np.any(bad):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"temperature must be finite and {bound}, got {np.ravel(T)[np.ravel(bad)][:3]}: "
            "the entropy, its derivatives and the entropy production have no T -> 0 limit"
        )
    return T


def reduced_energy(e, mu, T) -> np.ndarray:
    """x = (e - mu)/T (T > 0)."""
    return (np.asarray(e) - mu) / check_temperature(T)


def reduced_energy_at(e, mu, T) -> np.ndarray:
    """x = (e - mu)/T where T > 0 and its T -> 0 limit where T = 0: -inf for e < mu, +inf for e > mu
    and 0 at e = mu. Then fermi(x) is the step theta(mu - e) with 1/2 at e = mu (the T -> 0 limit of f
    at every energy) and entropy(x) = 0 except ln 2 at e = mu. T is not checked here."""
    d = np.asarray(e, dtype=float) - mu
    T = np.asarray(T, dtype=float)
    zero = T == 0
    limit = np.where(d > 0, np.inf, np.where(d < 0, -np.inf, 0.0))
    return np.where(zero, limit, d / np.where(zero, 1.0, T))


def softplus(x) -> np.ndarray:
    """ln(1 + e^x), stable for any x."""
    return np.logaddexp(0.0, x)


def fermi(x) -> np.ndarray:
    """f(x) = 1/(1 + e^x) (1 and 0 at x = -inf, +inf)."""
    return expit(-np.asarray(x, dtype=float))


def entropy(x) -> np.ndarray:
    """s(x) = -f ln f - (1 - f) ln(1 - f) = ln(1 + e^{-|x|}) + |x| f(|x|) (Eq. 1, one state); 0 at
    x = +-inf."""
    a = np.abs(np.asarray(x, dtype=float))
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(a), 0.0, softplus(-a) + a * expit(-a))


def nernst_weight(x) -> np.ndarray:
    """x f + ln(1 + e^{-x}) (Xiao, Yao, Fang, Niu, PRL 97, 026603 (2006), Eq. 8, over T): equal to
    s(x) (ERRATA E7) but kept in this form so that the Onsager check compares two formulas; 0 at +-inf."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(x), 0.0, x * fermi(x) + softplus(-x))


def grand_potential(e, mu, T) -> np.ndarray:
    """g = -T ln(1 + exp(-(e - mu)/T)) (text before Eq. 25)."""
    return -np.asarray(T) * softplus(-reduced_energy(e, mu, T))


def fermi_polynomials(orders: int = 6) -> dict:
    """{n: coefficients of P_n} with d^n f/dx^n = P_n(f): P_0 = f, P_{n+1} = -P_n'(f) f(1 - f)."""
    polynomials = {0: np.array([0.0, 1.0])}
    minus_variance = np.array([0.0, -1.0, 1.0])  # -f(1 - f) = -f + f^2
    for n in range(orders):
        polynomials[n + 1] = P.polymul(P.polyder(polynomials[n]), minus_variance)
    return polynomials


FERMI_POLYNOMIALS = fermi_polynomials()


def fermi_derivative(x, order: int = 1) -> np.ndarray:
    """d^n f/dx^n for n = 1..6, as polynomials in f: f' = -f(1-f), f'' = f(1-f)(1-2f),
    f''' = -f(1-f)(1 - 6f + 6f^2), ... Evaluated at |x| (f <= 1/2: no rounding in 1 - f) and mapped to
    x < 0 by f^(n)(-y) = (-1)^(n+1) f^(n)(y), so both tails keep their relative accuracy; 0 at +-inf."""
    if order < 1 or order not in FERMI_POLYNOMIALS:
        raise ValueError(f"order must be 1 to {max(FERMI_POLYNOMIALS)}, got {order}")
    x = np.asarray(x, dtype=float)
    value = P.polyval(fermi(np.abs(x)), FERMI_POLYNOMIALS[order])
    return np.where((x < 0) & (order % 2 == 0), -value, value)


def fermi_derivatives(x) -> tuple:
    """(f', f'', f''', f'''') at x from one Fermi function f = f(|x|) <= 1/2, with g = f(1 - f):
    f' = -g, f'' = g(1 - 2f), f''' = -g(1 - 6g), f'''' = g(1 - 2f)(1 - 12g) (the polynomials of
    `fermi_derivative` factored in g), mapped to x < 0 by f^(n)(-y) = (-1)^(n+1) f^(n)(y); 0 at +-inf."""
    x = np.asarray(x, dtype=float)
    f = fermi(np.abs(x))
    g = f * (1 - f)
    second = np.where(x < 0, -1.0, 1.0) * g * (1 - 2 * f)
    return -g, second, -g * (1 - 6 * g), second * (1 - 12 * g)


def entropy_derivative(x, order: int = 1) -> np.ndarray:
    """d^n s/dx^n for n = 1..6: s' = x f' and s^(n) = (n - 1) f^(n-1) + x f^(n) (s'' = f' + x f'',
    s''' = 2 f'' + x f'''); 0 at +-inf."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):
        value = x * fermi_derivative(x, order)
        if order > 1:
            value = value + (order - 1) * fermi_derivative(x, order - 1)
    return np.where(np.isinf(x), 0.0, value)


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
    d = x_m - x_n, evaluated in logarithms for |d| < 1; for |d| >= 1 the difference itself, taken in
    the tail where it does not cancel (1 - f = f(-x) when both x < 0), which keeps the relative
    accuracy that the logarithms lose to rounding at |x| ~ 1e5 (~ |x| eps). Always < 0.
    """
    x_n, x_m = np.asarray(x_n, dtype=float), np.asarray(x_m, dtype=float)
    d = x_m - x_n
    close = np.abs(d) < 1
    negative = (x_n < 0) & (x_m < 0)
    difference = np.where(negative, expit(x_n) - expit(x_m), expit(-x_m) - expit(-x_n))  # f_m - f_n
    out = np.asarray(difference / np.where(close, 1.0, d))
    # the logarithmic form only where it is used (pairs of bands within T of each other: few)
    near_n, near_m = (np.broadcast_to(x, d.shape)[close] for x in (x_n, x_m))
    out[close] = -0.25 * np.exp(log_sinh_over_y(np.abs(d[close]) / 2) - log_cosh(near_n / 2) - log_cosh(near_m / 2))
    return out


def log_abs_fermi_difference(x_n, x_m) -> np.ndarray:
    """ln|f(x_n) - f(x_m)| = ln sinh(|d|/2) - ln 2 - ln cosh(x_n/2) - ln cosh(x_m/2) (-inf at d = 0)."""
    d = np.abs(np.asarray(x_m) - np.asarray(x_n))
    return log_sinh(d / 2) - LOG2 - log_cosh(np.asarray(x_n) / 2) - log_cosh(np.asarray(x_m) / 2)


def log_fermi_variance(x) -> np.ndarray:
    """ln(f(1 - f)) = -2 ln(2 cosh(x/2))."""
    return -2 * (log_cosh(np.asarray(x) / 2) + LOG2)


def entropy_divided_difference(x_n, x_m, threshold: float = 1e-2) -> np.ndarray:
    """(s(x_m) - s(x_n))/(x_m - x_n); for |d| < threshold its series about the midpoint,
    s' + s''' d^2/24 + s^(5) d^4/1920 (error below |s^(7)| d^6/322560, 1e-17 at the threshold)."""
    x_n = np.asarray(x_n, dtype=float)
    x_m = np.asarray(x_m, dtype=float)
    d = x_m - x_n
    small = np.abs(d) < threshold
    mid = (x_m + x_n) / 2
    d2 = d * d
    taylor = (entropy_derivative(mid, 1) + entropy_derivative(mid, 3) * d2 / 24
              + entropy_derivative(mid, 5) * d2 * d2 / 1920)
    safe = np.where(small, 1.0, d)
    return np.where(small, taylor, (entropy(x_m) - entropy(x_n)) / safe)


def second_divided_difference(first, derivative, x_a, x_b, x_c, threshold: float = 1e-2) -> np.ndarray:
    """g[x_a, x_b, x_c] (symmetric) of g = f or s from its first divided difference first(x, y) and
    its derivatives derivative(x, order). Of the three forms (g[a, b] - g[b, c])/(a - c),
    (g[a, b] - g[a, c])/(b - c), (g[a, c] - g[b, c])/(a - b) the one with the widest denominator; when
    the points lie within threshold, the series about their mean (d_i = x_i - mean, sum d_i = 0;
    q = (sum d_i^2)/2, d_a d_b d_c and q^2 are the complete symmetric polynomials h_2, h_3, h_4)

        g''/2 + g'''' q/24 + g^(5) d_a d_b d_c/120 + g^(6) q^2/720      (error O(threshold^5)/5040).

    The first divided differences are taken on the pairs as given, so arguments broadcast as
    (k, n, 1, 1, p), (k, 1, n, 1, p), (k, 1, 1, n, p) cost n^2 of them, not n^3.
    """
    x_a, x_b, x_c = (np.asarray(x, dtype=float) for x in (x_a, x_b, x_c))
    h_ab, h_bc, h_ac = first(x_a, x_b), first(x_b, x_c), first(x_a, x_c)
    d_ac, d_bc, d_ab = x_a - x_c, x_b - x_c, x_a - x_b
    w_ac, w_bc, w_ab = np.abs(d_ac), np.abs(d_bc), np.abs(d_ab)
    use_ac = (w_ac >= w_bc) & (w_ac >= w_ab)
    use_bc = ~use_ac & (w_bc >= w_ab)
    numerator = np.where(use_ac, h_ab - h_bc, np.where(use_bc, h_ab - h_ac, h_ac - h_bc))
    denominator = np.where(use_ac, d_ac, np.where(use_bc, d_bc, d_ab))
    close = np.maximum(np.maximum(w_ac, w_bc), w_ab) < threshold
    out = np.array(numerator / np.where(close, 1.0, denominator), dtype=float)
    if np.any(close):
        a, b, c = (np.broadcast_to(x, out.shape)[close] for x in (x_a, x_b, x_c))
        mean = (a + b + c) / 3
        da, db, dc = a - mean, b - mean, c - mean
        q = (da * da + db * db + dc * dc) / 2
        out[close] = (derivative(mean, 2) / 2 + derivative(mean, 4) * q / 24 + derivative(mean, 5) * da * db * dc / 120
                      + derivative(mean, 6) * q * q / 720)
    return out


def fermi_second_divided_difference(x_a, x_b, x_c) -> np.ndarray:
    """f[x_a, x_b, x_c]: the second divided difference of the Fermi function in x (f''/2 at
    coincidence); |f[x_a, x_b, x_c]| <= max|f''|/2 < 0.05."""
    return second_divided_difference(fermi_divided_difference, fermi_derivative, x_a, x_b, x_c)


def entropy_second_divided_difference(x_a, x_b, x_c) -> np.ndarray:
    """s[x_a, x_b, x_c]: the second divided difference of the entropy s(x) in x (s''/2 at coincidence)."""
    return second_divided_difference(entropy_divided_difference, entropy_derivative, x_a, x_b, x_c)


def entropy_fermi_ratio(x_a, x_b, threshold: float = 1e-3) -> np.ndarray:
    """s[f_a, f_b] = (s_a - s_b)/(f_a - f_b), the divided difference of s as a function of f:

        s[f_a, f_b] = int x w(x) dx / int w(x) dx over [x_b, x_a],   w = f(1 - f) = -f'   (ds/dx = x f'),

    the mean of x on the interval with weight w, x at coincidence (s'(f) = phi(f) = x). Near
    coincidence xbar - tanh(xbar/2) d^2/12 (d = x_a - x_b, error O(d^4)); for arguments of one sign
    (where f_a - f_b underflows) the mean over [c, c + D], c = min|x|, D = |d|, in closed form scaled
    by f(c),

        mean = c + N/M,  M = 1 - r,  N = -D r + E q ln(1 + z)/z,
        q = (1 + e^-c)/(1 + e^-(c+D)),  r = e^-D q = f(c + D)/f(c),  E = 1 - e^-D,  z = e^-c E/(1 + e^-(c+D)),

    mirrored for x <= 0 (s[f_a, f_b] is odd under x -> -x); for arguments of opposite signs the ratio
    of the x-space divided differences, which cannot underflow there.
    """
    x_a, x_b = np.broadcast_arrays(np.asarray(x_a, dtype=float), np.asarray(x_b, dtype=float))
    d = x_a - x_b
    close = np.abs(d) < threshold
    middle = (x_a + x_b) / 2
    taylor = middle - np.tanh(middle / 2) * d * d / 12
    sign = np.where((x_a <= 0) & (x_b <= 0), -1.0, 1.0)
    c = np.minimum(sign * x_a, sign * x_b)
    one_sign = (c >= 0) & ~close
    c = np.where(one_sign, c, 0.0)
    D = np.where(one_sign, np.abs(d), 1.0)
    q = (1 + np.exp(-c)) / (1 + np.exp(-c - D))
    r = np.exp(-D) * q
    E = -np.expm1(-D)
    z = np.exp(-c) * E / (1 + np.exp(-c - D))
    log_ratio = np.where(z > 1e-8, np.log1p(z) / np.where(z > 1e-8, z, 1.0), 1 - z / 2)
    M = -np.expm1(-D + np.log1p(np.exp(-c)) - np.log1p(np.exp(-c - D)))  # 1 - r, without rounding in r
    tail = sign * (c + (E * q * log_ratio - D * r) / M)
    both = one_sign | close
    mixed = entropy_divided_difference(x_b, x_a) / np.where(both, -1.0, fermi_divided_difference(x_b, x_a))
    return np.where(close, taylor, np.where(one_sign, tail, mixed))


def entropy_frechet_quadratic_kernel(x_m, x_l, x_n) -> np.ndarray:
    """s[f_m, f_l, f_n] h_ml h_ln (h = f[., .] in x): the second Frechet kernel of s(rho) times the
    occupation factors of rho(1)_ml rho(1)_ln. By the chain rule of divided differences for
    g(x) = s(f(x)) with the shared point l,

        s[f_m, f_l, f_n] h_ml h_ln = s[x_m, x_l, x_n] - s[f_m, f_n] f[x_m, x_l, x_n],

    bounded (polynomially in x) where s[f_m, f_l, f_n] alone grows like 1/f; f'(x)/2 at coincidence.
    """
    return (entropy_second_divided_difference(x_m, x_l, x_n)
            - entropy_fermi_ratio(x_m, x_n) * fermi_second_divided_difference(x_m, x_l, x_n))
