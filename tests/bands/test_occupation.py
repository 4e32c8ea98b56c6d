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
                                   (-3.0, 4.0), (600.0, 601.0), (-1.0, -1.0 + 2e-3)])
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
