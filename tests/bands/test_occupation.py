"""Occupations: values against 50-digit arithmetic, derivatives against finite differences, stability."""

import mpmath as mp
import numpy as np
import pytest
from scipy.integrate import quad

from qgtransport.bands import occupation as occ

mp.mp.dps = 50


def f_exact(x):
    return 1 / (1 + mp.exp(x))


def s_exact(x):
    # -f ln f - (1 - f) ln(1 - f) with ln f = -ln(1 + e^x), ln(1 - f) = -ln(1 + e^-x): no 1 - f rounding
    x = mp.mpf(x)
    return f_exact(x) * mp.log1p(mp.exp(x)) + f_exact(-x) * mp.log1p(mp.exp(-x))


X = [-1e3, -700.0, -35.0, -3.0, -0.2, 0.0, 1e-7, 0.9, 12.0, 300.0, 1e3]


@pytest.mark.parametrize("x", X)
def test_fermi_and_entropy_against_high_precision(x):
    f, s = occ.fermi(x), occ.entropy(x)
    assert np.isfinite(f) and np.isfinite(s)
    assert f == pytest.approx(float(f_exact(x)), rel=1e-13, abs=1e-300)
    assert s == pytest.approx(float(s_exact(x)), rel=1e-12, abs=1e-300)


def test_no_nan_or_overflow_up_to_1e3_and_beyond():
    x = np.concatenate([np.linspace(-1e3, 1e3, 20001), [-1e5, 1e5, -3e4, 3e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        arrays = [occ.fermi(x), occ.entropy(x), occ.fermi_derivative(x, 3), occ.entropy_derivative(x, 3),
                  occ.fermi_divided_difference(x, x + 0.3), occ.entropy_divided_difference(x, x - 2.0),
                  occ.log_abs_fermi_difference(x, x + 1.0), occ.grand_potential(x, 0.0, 1.0)]
    for a in arrays:
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("xa,xb", [(0.3, 0.3 + 1e-9), (0.3, 0.3 + 1e-4), (2.0, 5.0), (-40.0, -39.5),
                                   (-3.0, 4.0), (600.0, 601.0), (-1.0, -1.0 + 2e-3), (0.2, 0.2 + 2e-2),
                                   (-2.0, -0.5), (-600.0, -603.0), (1e5, 1e5 + 3.0), (-1e5, -1e5 - 0.5),
                                   (-1e5, 1e5), (-3e4, 0.1), (1e4, 2e4)])
def test_divided_differences_against_high_precision(xa, xb):
    mf = (f_exact(mp.mpf(xb)) - f_exact(mp.mpf(xa))) / (mp.mpf(xb) - mp.mpf(xa))
    ms = (s_exact(mp.mpf(xb)) - s_exact(mp.mpf(xa))) / (mp.mpf(xb) - mp.mpf(xa))
    assert occ.fermi_divided_difference(xa, xb) == pytest.approx(float(mf), rel=1e-12)
    assert occ.entropy_divided_difference(xa, xb) == pytest.approx(float(ms), rel=1e-9, abs=1e-290)


def test_derivatives_in_energy_mu_and_T_by_finite_differences():
    e, mu, T, h = np.array([-0.7, 0.1, 0.45]), 0.2, 0.13, 1e-6
    d = occ.derivatives(e, mu, T)

    def f(e, mu, T):
        return occ.fermi(occ.reduced_energy(e, mu, T))

    def s(e, mu, T):
        return occ.entropy(occ.reduced_energy(e, mu, T))

    g = occ.grand_potential
    for name, fn in [("f", f), ("s", s), ("g", g)]:
        assert np.allclose(d[f"d{name}_de"], (fn(e + h, mu, T) - fn(e - h, mu, T)) / (2 * h), rtol=1e-7, atol=1e-9)
        assert np.allclose(d[f"d{name}_dmu"], (fn(e, mu + h, T) - fn(e, mu - h, T)) / (2 * h), rtol=1e-7, atol=1e-9)
        assert np.allclose(d[f"d{name}_dT"], (fn(e, mu, T + h) - fn(e, mu, T - h)) / (2 * h), rtol=1e-7, atol=1e-9)
    # Maxwell relation (ERRATA E4): d_T f = d_mu s; f = -d_mu g, s = -d_T g
    assert np.allclose(d["df_dT"], d["ds_dmu"])
    assert np.allclose(d["dg_dmu"], -f(e, mu, T)) and np.allclose(d["dg_dT"], -s(e, mu, T))


def test_nernst_weight_identity_errata_E7():
    # (e - mu) f + T ln(1 + exp(-(e - mu)/T)) = T s
    x = np.linspace(-40, 40, 801)
    assert np.allclose(x * occ.fermi(x) + occ.softplus(-x), occ.entropy(x), atol=1e-14)


def test_sommerfeld_moments_of_entropy_eq31():
    # int s dx = pi^2/3 and int x^2 s dx = 7 pi^4/45 (ERRATA, Eq. 31 verified)
    m0 = quad(lambda x: occ.entropy(x), -80, 80, limit=200)[0]
    m2 = quad(lambda x: x * x * occ.entropy(x), -80, 80, limit=200)[0]
    assert m0 == pytest.approx(np.pi**2 / 3, rel=1e-10)
    assert m2 == pytest.approx(7 * np.pi**4 / 45, rel=1e-10)


def test_higher_derivatives_by_finite_differences():
    x, h = np.linspace(-6, 6, 25), 1e-4
    for order in (2, 3):
        fd_f = (occ.fermi_derivative(x + h, order - 1) - occ.fermi_derivative(x - h, order - 1)) / (2 * h)
        fd_s = (occ.entropy_derivative(x + h, order - 1) - occ.entropy_derivative(x - h, order - 1)) / (2 * h)
        assert np.allclose(occ.fermi_derivative(x, order), fd_f, atol=1e-7)
        assert np.allclose(occ.entropy_derivative(x, order), fd_s, atol=1e-7)
    fd1 = (occ.entropy(x + h) - occ.entropy(x - h)) / (2 * h)
    assert np.allclose(occ.entropy_derivative(x, 1), fd1, atol=1e-8)


@pytest.mark.parametrize("T", [0.0, -1.0, np.nan, np.inf])
def test_nonpositive_temperature_is_a_clear_error(T):
    with pytest.raises(ValueError, match="no T -> 0 limit"):
        occ.reduced_energy(0.1, 0.0, T)


@pytest.mark.parametrize("T", [-1.0, np.nan, np.inf])
def test_negative_temperature_is_an_error_even_where_zero_is_allowed(T):
    with pytest.raises(ValueError, match=">= 0"):
        occ.check_temperature([0.0, T], allow_zero=True)


def test_zero_temperature_limit_is_the_step_with_one_half_at_mu():
    e = np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])
    x = occ.reduced_energy_at(e, 0.0, 0.0)
    assert np.array_equal(occ.fermi(x), [1.0, 1.0, 0.5, 0.0, 0.0])
    assert np.array_equal(occ.entropy(x), [0.0, 0.0, np.log(2), 0.0, 0.0])
    assert np.array_equal(occ.nernst_weight(x), [0.0, 0.0, np.log(2), 0.0, 0.0])
    # the T -> 0 limit of the finite-T values, point by point
    for T in (1e-3, 1e-6):
        xT = occ.reduced_energy_at(e[[0, 2, 4]], 0.0, T)
        assert np.allclose(occ.fermi(xT), occ.fermi(x[[0, 2, 4]]), atol=1e-300)
    # mixed T: each point its own limit
    assert np.array_equal(occ.reduced_energy_at(1.0, 0.0, np.array([0.0, 2.0])), [np.inf, 0.5])


# ---------------------------------------------------------------------------------------------
# Divided differences of functions of f at |x| up to 1e5, against 50- to 50000-digit arithmetic


def digits(*xs):
    """Enough digits for the f-space divided differences, whose terms cancel to ~e^{-|x|}."""
    return int(60 + max(abs(float(x)) for x in xs) / 2)


def f_minus(a, b):
    """f(a) - f(b) with no cancellation between numbers close to 1."""
    return (mp.exp(b) - mp.exp(a)) / ((1 + mp.exp(a)) * (1 + mp.exp(b)))


def divided(g, points):
    """g[x_0, ..., x_n] by the recursion; at coincidence g^(n)/n! (mp.diff)."""
    points = sorted(mp.mpf(p) for p in points)
    if len(points) == 1:
        return g(points[0])
    if points[0] == points[-1]:
        return mp.diff(g, points[0], len(points) - 1) / mp.factorial(len(points) - 1)
    return (divided(g, points[1:]) - divided(g, points[:-1])) / (points[-1] - points[0])


def s_over_f(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    return a if a == b else (s_exact(a) - s_exact(b)) / f_minus(a, b)


def quadratic_kernel(m, ll, n):
    """s[f_m, f_l, f_n] f[x_m, x_l] f[x_l, x_n] with the f-space divided differences as printed."""
    m, ll, n = (mp.mpf(v) for v in (m, ll, n))

    def h(a, b):
        return mp.diff(f_exact, a) if a == b else f_minus(a, b) / (a - b)

    if m == n == ll:
        return -f_exact(m) * (1 - f_exact(m)) / 2  # s''(f)/2 = -1/(2 f(1-f)) times (f(1-f))^2
    if m == n:
        second = (s_over_f(m, ll) - m) / f_minus(ll, m)  # s[f_m, f_l, f_m], s'(f_m) = x_m
    else:
        second = (s_over_f(m, ll) - s_over_f(ll, n)) / f_minus(m, n)
    return second * h(m, ll) * h(ll, n)


PAIRS = [(0.3, 0.3 + 1e-9), (0.3, 0.5), (0.3, 1.3), (-2.0, -0.9), (0.5, 0.5 + 2e-3), (0.5, 0.5 + 2e-2),
         (-3.0, 4.0), (1e-7, 3.0), (0.0, 1e-4), (30.0, 31.0), (2.0, 40.0), (-2.0, -40.0), (5.0, 1e3),
         (-700.0, 700.0), (800.0, 900.0), (-800.0, -900.0), (800.0, 800.0005), (1e5, 1e5 + 3.0),
         (-1e5, -1e5 - 0.2), (-1e5, 1e5)]


@pytest.mark.parametrize("xa,xb", PAIRS)
def test_entropy_over_fermi_divided_difference_against_high_precision(xa, xb):
    # s[f_a, f_b] = (s_a - s_b)/(f_a - f_b): the mean of x on [x_b, x_a] with weight f(1 - f)
    with mp.workdps(60):  # f(a) - f(b) and s(a) - s(b) are formed without cancellation
        reference = float(s_over_f(xa, xb))
    value = occ.entropy_fermi_ratio(xa, xb)
    assert value == pytest.approx(reference, rel=1e-13, abs=1e-300)
    assert min(xa, xb) <= value <= max(xa, xb)


TRIPLES = [(0.1, 0.2, 0.35), (0.1, 0.1 + 1e-4, 0.1 + 3e-4), (2.0, 2.002, 2.005), (2.0, 2.0 + 2e-2, 2.0 + 3e-2),
           (-2.0, 0.5, 3.0), (5.0, 6.0, 7.0), (-5.0, -6.0, -7.0), (800.0, 0.0, 900.0), (800.0, 0.0, 800.5),
           (30.0, -30.0, 31.0), (-30.0, 30.0, 31.0), (700.0, -700.0, 0.1), (0.3, 0.3, 0.3), (-1e5, 0.2, 1e5),
           (1e5, 0.0, 1e5 + 1.0), (1e5, 1e5 + 1, 1e5 + 2.5)]


@pytest.mark.parametrize("x", TRIPLES)
def test_second_divided_differences_and_the_entropy_frechet_kernel_against_high_precision(x):
    with mp.workdps(60):
        f2, s2 = divided(f_exact, x), divided(s_exact, x)
    assert occ.fermi_second_divided_difference(*x) == pytest.approx(float(f2), rel=1e-12, abs=1e-300)
    assert occ.entropy_second_divided_difference(*x) == pytest.approx(float(s2), rel=1e-12, abs=1e-300)
    kernel = occ.entropy_frechet_quadratic_kernel(*x)
    assert np.isfinite(kernel)
    if max(abs(v) for v in x) > 1e3:
        return  # the printed f-space form would need ~|x|/2 digits; finite is checked above
    with mp.workdps(digits(*x)):
        reference = float(quadratic_kernel(*x))
    # s[f_m, f_l, f_n] itself grows like 1/f; times the occupation factors it is bounded. Its two terms
    # cancel when both outer points sit in one tail and the middle one at mu: there it is exact to the
    # rounding of those terms (|s[x]| + |x f[x]| ~ 1/x^2), not relatively.
    scale = abs(float(s2)) + abs(float(f2) * max(abs(x[0]), abs(x[2]), 1.0))
    assert kernel == pytest.approx(reference, rel=1e-12, abs=1e-14 * scale)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_fermi_derivatives_keep_their_relative_accuracy_in_both_tails(order):
    # the polynomial in f is evaluated at |x|: f''(x) at x = -60 is -e^{-60}, not 1 - f rounding to 0
    for x in (-700.0, -60.0, -3.0, 0.0, 2.0, 60.0, 700.0):
        with mp.workdps(int(40 + abs(x) / 2)):  # mp.diff's error is absolute: digits for e^{-|x|}
            reference = float(mp.diff(f_exact, mp.mpf(x), order))
        zero = x == 0 and order % 2 == 0  # f^(2n)(0) = 0: mp.diff leaves ~1e-54
        assert occ.fermi_derivative(x, order) == pytest.approx(reference, rel=1e-12, abs=1e-40 if zero else 1e-300)
    with pytest.raises(ValueError, match="order"):
        occ.fermi_derivative(0.0, 7)


def test_new_kernels_are_finite_up_to_1e5():
    x = np.concatenate([np.linspace(-1e3, 1e3, 2001), [-1e5, 1e5, -3e4, 3e4, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        arrays = [occ.entropy_fermi_ratio(x, x + 0.3), occ.entropy_fermi_ratio(x, -x), occ.entropy_fermi_ratio(x, x),
                  occ.fermi_second_divided_difference(x, x + 1e-3, x - 2.0),
                  occ.entropy_second_divided_difference(x, 0.0, x + 5.0),
                  occ.entropy_frechet_quadratic_kernel(x, x[::-1], x + 1e-5), occ.fermi_derivative(x, 6),
                  occ.entropy_derivative(x, 6)]
    for a in arrays:
        assert np.all(np.isfinite(a))


@pytest.mark.parametrize("x", [-600.0, -40.0, -2.5, -0.3, 0.0, 0.7, 4.0, 45.0, 650.0])
def test_four_fermi_derivatives_at_once_against_high_precision(x):
    """fermi_derivatives (the factored polynomials in g = f(1 - f)) against mpmath's derivatives of
    1/(1 + e^x), relative accuracy kept in both tails."""
    values = occ.fermi_derivatives(np.array([x]))
    for order, value in enumerate(values, start=1):
        with mp.workdps(700):  # f = 1 - e^-600 at x = -600: the derivative needs 300+ digits
            exact = float(mp.diff(f_exact, mp.mpf(x), order))
        assert value[0] == pytest.approx(exact, rel=1e-11, abs=1e-30 * (x == 0)), (order, x)
