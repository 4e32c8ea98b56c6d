"""Band geometry: Berry connection by finite differences of gauge-fixed eigenvectors, the velocity
identity, the two-band closed forms, Chern numbers, degenerate bands."""

import numpy as np
import pytest
from conftest import random_model

from qgtransport import builtin_model
from qgtransport.bands.geometry import (
    band_geometry,
    band_velocity,
    berry_connection,
    berry_curvature,
    quantum_metric,
    quantum_metric_nm,
    velocity_derivative,
)
from qgtransport.models.tightbinding import TightBinding


def gauge_fixed_eigenvectors(model, k):
    """Eigenvectors with the largest component of each (at the first k) made real positive."""
    _, U = np.linalg.eigh(model.hamiltonian(k))
    pivot = np.argmax(np.abs(U[0]), axis=0)
    phase = U[:, pivot, np.arange(U.shape[2])]
    return U * (np.abs(phase) / phase)[:, None, :]


def test_berry_connection_against_finite_differences(rng):
    model = random_model(rng, norb=3, dim=2, nR=4)
    k0 = rng.normal(size=2)
    geo = band_geometry(model, k0[None])
    r = berry_connection(geo)[0]
    h = 1e-6
    for a in range(2):
        step = np.eye(2)[a] * h
        U = gauge_fixed_eigenvectors(model, np.array([k0, k0 + step, k0 - step]))
        dU = (U[1] - U[2]) / (2 * h)
        r_fd = 1j * U[0].conj().T @ dU  # <u_n| i d_a u_m> in the fixed gauge
        phase = np.diag(geo.eigenvectors[0].conj().T @ U[0])  # U_fixed = U_code diag(phase)
        r_fd = phase[:, None] * r_fd * phase.conj()[None, :]  # back to the code's gauge
        off = ~np.eye(3, dtype=bool)
        assert np.allclose(r[a][off], r_fd[off], atol=1e-6)


def test_velocity_derivative_identity_against_finite_differences(rng):
    # d_b v^a_n = v^ab_n + 2 sum_m e_nm g^ab_nm (verified as printed, ERRATA)
    model = random_model(rng, norb=4, dim=2, nR=5)
    k0 = rng.normal(size=2)
    lhs = velocity_derivative(band_geometry(model, k0[None], order=2))[0]  # (n, a, b)
    h = 1e-5
    for b in range(2):
        step = np.eye(2)[b] * h
        v_plus = band_velocity(band_geometry(model, (k0 + step)[None]))[0]
        v_minus = band_velocity(band_geometry(model, (k0 - step)[None]))[0]
        assert np.allclose(lhs[:, :, b], (v_plus - v_minus) / (2 * h), atol=1e-6)


def two_band_vectors(k, v=1.0, m=0.2, b=1.0):
    """d(k) and its k-derivatives for the tilted_dirac model (the tilt drops out of the geometry)."""
    kx, ky = k.T
    d = np.stack([v * np.sin(kx), v * np.sin(ky), m + b * (2 - np.cos(kx) - np.cos(ky))], -1)
    dx = np.stack([v * np.cos(kx), 0 * kx, b * np.sin(kx)], -1)
    dy = np.stack([0 * kx, v * np.cos(ky), b * np.sin(ky)], -1)
    return d, dx, dy


def unit_vector_derivative(d, dd):
    norm = np.linalg.norm(d, axis=-1, keepdims=True)
    n = d / norm
    return dd / norm - n * np.sum(n * dd, axis=-1, keepdims=True) / norm


def test_massive_dirac_quantum_metric_and_curvature_closed_form(rng):
    # two-band H = d0 + d.sigma: g_ab = (1/4) d_a n . d_b n, lower band Omega_xy = +(1/2) n . (d_x n x d_y n)
    model = builtin_model("tilted_dirac", v=1.0, m=0.2, b=1.0, w=0.3)
    k = rng.uniform(-np.pi, np.pi, size=(50, 2))
    k[0] = 0.0
    geo = band_geometry(model, k)
    g, omega = quantum_metric(geo), berry_curvature(geo)
    d, dx, dy = two_band_vectors(k)
    n = d / np.linalg.norm(d, axis=-1, keepdims=True)
    nx, ny = unit_vector_derivative(d, dx), unit_vector_derivative(d, dy)
    assert np.allclose(g[:, 0, 0, 0], np.sum(nx * nx, -1) / 4)
    assert np.allclose(g[:, 0, 0, 1], np.sum(nx * ny, -1) / 4)
    assert np.allclose(g[:, 1], g[:, 0])
    assert np.allclose(omega[:, 0, 0, 1], 0.5 * np.sum(n * np.cross(nx, ny), -1))
    assert np.allclose(omega[:, 1], -omega[:, 0])
    assert g[0, 0, 0, 0] == pytest.approx(1.0**2 / (4 * 0.2**2))  # massive Dirac at k = 0: v^2/(4 m^2)


def chern_number(model, band, nk=120):
    grid = (np.arange(nk) + 0.5) / nk
    k = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    omega = berry_curvature(band_geometry(model, model.to_cartesian(k)))[:, band, 0, 1]
    return omega.mean() * (2 * np.pi) ** 2 / model.cell_volume / (2 * np.pi)


@pytest.mark.parametrize("m,C", [(-1.0, 1), (-1.7, 1), (1.0, -1), (2.5, 0), (-3.0, 0)])
def test_qwz_chern_numbers(m, C):
    assert chern_number(builtin_model("qwz", m=m), band=0) == pytest.approx(C, abs=1e-6)


@pytest.mark.parametrize("phi,M,C", [(np.pi / 2, 0.0, -1), (-np.pi / 2, 0.0, 1), (np.pi / 2, 0.3, -1),
                                     (np.pi / 2, 0.7, 0), (0.5, 0.1, -1)])
def test_haldane_chern_numbers(phi, M, C):
    # topological iff |M| < 3 sqrt(3) t2 |sin phi| (= 0.5196 for t2 = 0.1, phi = pi/2); C flips with phi
    assert chern_number(builtin_model("haldane", t2=0.1, phi=phi, M=M), band=0) == pytest.approx(C, abs=1e-4)


def doubled(model, mixing=None):
    """model (+) model: every band doubly degenerate; optional k-independent unitary basis change."""
    n = model.norb
    H_R = np.zeros((len(model.R), 2 * n, 2 * n), dtype=complex)
    H_R[:, :n, :n] = model.H_R
    H_R[:, n:, n:] = model.H_R
    if mixing is not None:
        H_R = mixing.conj().T @ H_R @ mixing
    return TightBinding(lattice=model.lattice, positions=np.zeros((2 * n, model.dim)), R=model.R, H_R=H_R)


def test_degenerate_bands_give_gauge_invariant_level_sums(rng):
    base = builtin_model("tilted_dirac")
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    model = doubled(base, mixing=q)
    k = rng.uniform(-np.pi, np.pi, size=(30, 2))
    geo2, geo1 = band_geometry(model, k), band_geometry(base, k)
    g2, omega2 = quantum_metric(geo2), berry_curvature(geo2)
    assert np.all(np.isfinite(g2)) and np.all(np.isfinite(omega2))
    # level sums (bands 0+1 and 2+3) are twice the single-model values
    assert np.allclose(g2[:, 0] + g2[:, 1], 2 * quantum_metric(geo1)[:, 0])
    assert np.allclose(omega2[:, 0] + omega2[:, 1], 2 * berry_curvature(geo1)[:, 0])
    # no pair inside a level contributes
    assert np.allclose(quantum_metric_nm(geo2)[:, 0, 1], 0)


def test_full_position_matrix_reproduces_the_orbital_positions():
    # Haldane in convention I (positions in the phases) equals the same hoppings with all positions at
    # the origin plus a diagonal position matrix diag(tau), used through positions="full"
    from conftest import haldane_with_position_matrix

    model, flat, with_positions = haldane_with_position_matrix()
    k = np.random.default_rng(0).uniform(-3, 3, size=(20, 2))
    reference = band_geometry(model, k)
    full = band_geometry(with_positions, k, positions="full")
    assert np.allclose(berry_curvature(full), berry_curvature(reference), atol=1e-12)
    assert np.allclose(quantum_metric(full), quantum_metric(reference), atol=1e-12)
    assert not np.allclose(berry_curvature(band_geometry(flat, k)), berry_curvature(reference), atol=1e-3)
    with pytest.raises(ValueError, match="no position matrix"):
        band_geometry(flat, k, positions="full")
    with pytest.raises(ValueError, match="not implemented for second-order"):
        band_geometry(with_positions, k, order=2, positions="full")


def test_wannier90_position_matrix_is_attached_hermitian():
    from pathlib import Path

    from qgtransport.models import read_tb, read_tb_positions
    from qgtransport.models.tightbinding import with_position_matrix

    path = Path(__file__).parents[1] / "data" / "wannier90" / "pb" / "lead_tb.dat"
    model = read_tb(path)
    positions = read_tb_positions(path)
    full = with_position_matrix(model, positions.R, positions.r)
    assert 0 < full.parameters["position_hermiticity_deviation"] < 0.2
    k = np.random.default_rng(1).normal(size=(5, 3))
    A = full.connection(k)
    assert np.allclose(A, np.conj(np.swapaxes(A, -1, -2)), atol=1e-12)
    v = band_geometry(full, k, positions="full").velocity
    assert np.allclose(v, np.conj(np.swapaxes(v, -1, -2)), atol=1e-10)


def test_position_matrix_survives_the_model_file(tmp_path):
    from pathlib import Path

    from qgtransport.models import read_model, read_tb, read_tb_positions, write_model
    from qgtransport.models.tightbinding import with_position_matrix

    path = Path(__file__).parents[1] / "data" / "wannier90" / "pb" / "lead_tb.dat"
    positions = read_tb_positions(path)
    model = with_position_matrix(read_tb(path), positions.R, positions.r)
    write_model(model, tmp_path / "pb.nc")
    back = read_model(tmp_path / "pb.nc")
    assert np.array_equal(back.position_R, model.position_R) and np.array_equal(back.H_R, model.H_R)


def test_level_matrices_of_a_doubled_model_trace_to_twice_the_band_values(rng):
    # H2(k) = Q (H(k) x 1_2) Q^+ with a constant random unitary Q: every level is exactly doubly degenerate
    # and LAPACK's eigenvectors inside it are arbitrary; the traces over a level of the non-Abelian curvature
    # and of the inverse-mass matrix are twice the band values of H, the diagonals of the level matrices of H
    # are its per-band Omega_n and d_b v^a_n
    from qgtransport.bands.geometry import level_berry_curvature, level_mass, level_velocity

    model = random_model(rng, norb=3, dim=2, nR=4)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)) + 1j * rng.normal(size=(6, 6)))
    doubled = TightBinding(model.lattice, np.repeat(model.positions, 2, axis=0) * 0, model.R,
                           q @ np.kron(model.H_R, np.eye(2)) @ q.conj().T)
    single = TightBinding(model.lattice, model.positions * 0, model.R, model.H_R)
    k = rng.normal(size=(5, 2))
    geo, geo2 = band_geometry(single, k, order=2), band_geometry(doubled, k, order=2)
    omega, mass = level_berry_curvature(geo), level_mass(geo)
    assert np.allclose(np.einsum("knnab->knab", omega), berry_curvature(geo), atol=1e-10)
    assert np.allclose(np.einsum("knnab->knab", mass), velocity_derivative(geo), atol=1e-10)
    omega2, mass2, v2 = level_berry_curvature(geo2), level_mass(geo2), level_velocity(geo2)
    for n in range(3):
        level = slice(2 * n, 2 * n + 2)
        assert np.allclose(np.einsum("knnab->kab", omega2[:, level, level]), 2 * omega[:, n, n], atol=1e-9)
        assert np.allclose(np.einsum("knnab->kab", mass2[:, level, level]), 2 * mass[:, n, n], atol=1e-9)
        assert np.allclose(np.einsum("kann->ka", v2[:, :, level, level]), 2 * band_velocity(geo)[:, n], atol=1e-10)
    assert np.allclose(omega2, np.conj(np.swapaxes(omega2, 1, 2)))  # Hermitian in (n, n')
    assert np.allclose(mass2, np.conj(np.swapaxes(mass2, 1, 2)))
