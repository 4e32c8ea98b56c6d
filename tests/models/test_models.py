"""Models: H(k) against the written Hamiltonians, derivatives against finite differences, input checks."""

import numpy as np
import pytest
from conftest import random_model

from qgtransport import BUILTIN_MODELS, builtin_model
from qgtransport.models.builtin import s0, sx, sy, sz
from qgtransport.models.tightbinding import TightBinding


def pauli(d0, dx, dy, dz):
    return (d0[:, None, None] * s0 + dx[:, None, None] * sx + dy[:, None, None] * sy + dz[:, None, None] * sz)


def test_qwz_matches_written_hamiltonian(rng):
    k = rng.uniform(-np.pi, np.pi, size=(20, 2))
    kx, ky = k.T
    expected = pauli(0 * kx, np.sin(kx), np.sin(ky), 0.7 + np.cos(kx) + np.cos(ky))
    assert np.allclose(builtin_model("qwz", m=0.7).hamiltonian(k), expected, atol=1e-14)


def test_tilted_dirac_and_pt_and_weyl_match_written_hamiltonians(rng):
    k = rng.uniform(-np.pi, np.pi, size=(20, 3))
    kx, ky, kz = k.T
    H = builtin_model("tilted_dirac", v=0.8, m=0.1, b=0.9, w=0.3).hamiltonian(k[:, :2])
    assert np.allclose(H, pauli(0.3 * np.sin(kx), 0.8 * np.sin(kx), 0.8 * np.sin(ky),
                                0.1 + 0.9 * (2 - np.cos(kx) - np.cos(ky))), atol=1e-14)
    H = builtin_model("pt_symmetric", w=0.3, v=1.0, gamma=0.4, m=2.5).hamiltonian(k[:, :2])
    assert np.allclose(H, pauli(0.3 * np.sin(kx), np.sin(kx) + 0.4, 0 * kx, 2.5 - np.cos(kx) - np.cos(ky)),
                       atol=1e-14)
    assert np.allclose(H.imag, 0)  # PT = complex conjugation
    t, m, k0 = 0.5, 1.5, np.pi / 3
    H = builtin_model("weyl").hamiltonian(k)
    dz = m * (2 - np.cos(kx) - np.cos(ky)) + 2 * t * (np.cos(kz) - np.cos(k0))
    assert np.allclose(H, pauli(0 * kx, 2 * t * np.sin(kx), 2 * t * np.sin(ky), dz), atol=1e-14)


def test_rice_mele_spectrum():
    t, delta, Delta = 1.0, 0.3, 0.5
    k = np.linspace(-np.pi, np.pi, 11)[:, None]
    e = np.linalg.eigvalsh(builtin_model("rice_mele").hamiltonian(k))
    expected = np.sqrt(Delta**2 + (t + delta) ** 2 + (t - delta) ** 2 + 2 * (t**2 - delta**2) * np.cos(k[:, 0]))
    assert np.allclose(e[:, 1], expected) and np.allclose(e[:, 0], -expected)


def test_haldane_spectrum_at_K_point():
    # at K the Dirac mass is M - 3 sqrt(3) t2 sin(phi); the NN term vanishes there
    t2, phi, M = 0.1, 0.6, 0.2
    model = builtin_model("haldane", t2=t2, phi=phi, M=M)
    b1, b2 = model.reciprocal
    K = (2 * b1 + b2) / 3
    e = np.linalg.eigvalsh(model.hamiltonian(K[None]))[0]
    gap = e[1] - e[0]
    masses = [abs(M - 3 * np.sqrt(3) * t2 * np.sin(phi)), abs(M + 3 * np.sqrt(3) * t2 * np.sin(phi))]
    assert min(abs(gap - 2 * mm) for mm in masses) < 1e-12


@pytest.mark.parametrize("name", sorted(BUILTIN_MODELS))
def test_derivatives_match_finite_differences(name, rng):
    model = builtin_model(name)
    k = rng.uniform(-np.pi, np.pi, size=(6, model.dim))
    H, dH, d2H = model.hamiltonian(k, order=2)
    assert np.allclose(H, np.conj(np.swapaxes(H, 1, 2)), atol=1e-14)
    h = 1e-5
    for a in range(model.dim):
        step = np.zeros(model.dim)
        step[a] = h
        fd = (model.hamiltonian(k + step) - model.hamiltonian(k - step)) / (2 * h)
        assert np.allclose(fd, dH[:, a], atol=1e-8)
        fd2 = (model.hamiltonian(k + step, 1)[1] - model.hamiltonian(k - step, 1)[1]) / (2 * h)
        assert np.allclose(fd2, d2H[:, :, a], atol=1e-8)


def test_random_model_derivatives_with_orbital_positions(rng):
    model = random_model(rng, norb=3, dim=3, nR=5)
    k = rng.normal(size=(4, 3))
    H, dH, d2H = model.hamiltonian(k, order=2)
    h = 1e-5
    for a in range(3):
        step = np.eye(3)[a] * h
        fd = (model.hamiltonian(k + step, 1)[1] - model.hamiltonian(k - step, 1)[1]) / (2 * h)
        assert np.allclose(fd, d2H[:, :, a], atol=1e-7)
        assert np.allclose((model.hamiltonian(k + step) - model.hamiltonian(k - step)) / (2 * h), dH[:, a], atol=1e-7)


def test_non_hermitian_hoppings_are_rejected_with_the_offending_R():
    H_R = np.array([np.zeros((2, 2)), [[0, 1], [0, 0]], [[0, 0], [1.5, 0]]], dtype=complex)
    with pytest.raises(ValueError, match=r"R=\[1, 0\].*deviation 5.000e-01"):
        TightBinding(lattice=np.eye(2), positions=np.zeros((2, 2)), R=[[0, 0], [1, 0], [-1, 0]], H_R=H_R)


def test_missing_partner_and_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="not for -R"):
        TightBinding(lattice=np.eye(1), positions=np.zeros((1, 1)), R=[[1]], H_R=np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="2 R vectors but 1"):
        TightBinding(lattice=np.eye(1), positions=np.zeros((1, 1)), R=[[1], [-1]], H_R=np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="non-finite"):
        TightBinding(lattice=np.eye(1), positions=np.zeros((1, 1)), R=[[0]], H_R=np.full((1, 1, 1), np.nan))
    with pytest.raises(ValueError, match="linearly dependent"):
        TightBinding(lattice=[[1, 0], [2, 0]], positions=np.zeros((1, 2)), R=[[0, 0]], H_R=np.ones((1, 1, 1)))
    with pytest.raises(ValueError, match="spin_degeneracy"):
        TightBinding(lattice=np.eye(1), positions=np.zeros((1, 1)), R=[[0]], H_R=np.ones((1, 1, 1)), spin_degeneracy=3)


def test_unknown_model_and_parameter_are_named():
    with pytest.raises(ValueError, match="unknown model 'foo'"):
        builtin_model("foo")
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['mass'\]"):
        builtin_model("qwz", mass=1.0)
