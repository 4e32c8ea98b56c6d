"""Crystal symmetry (qgtransport.symmetry, docs/symmetry.md): the irreducible k-points with their orbit
weights and the symmetrised tensors give the full-grid results, on the built-in models (exactly
symmetric: to 1e-10) and on Te (a Wannier model symmetric to 3e-8 eV: to that level); the components
a group forbids vanish; a broken symmetry is named."""

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qgtransport import builtin_model, compute
from qgtransport.cli.commands import main
from qgtransport.cli.config import parse_config
from qgtransport.compute import add_forbidden_components
from qgtransport.models.modelfile import read_model
from qgtransport.models.tightbinding import TightBinding
from qgtransport.models.wannier90 import read_hr
from qgtransport.report.checks import grid_convergence
from qgtransport.responses import RESPONSES, TIME_REVERSAL
from qgtransport.symmetry import (
    BUILTIN_GROUPS,
    SymmetryError,
    as_group,
    auto_group,
    check,
    forbidden_components,
    irreducible_points,
    reduced_operations,
)

DATA = Path(__file__).parents[1] / "data" / "wannier90"
TE_GROUP = "C3z,C2x,TimeReversal"
FE_GROUP = "Inversion,C4z,TimeReversal*C2x"


@pytest.fixture(scope="module")
def te():
    """Te with every orbital at its atom (the Wannier centres of the p orbitals are not images of one
    another under the screw C3: in the tight-binding convention they break C3 in the Berry curvature
    by 0.6 % though the bands keep it to 3e-8 eV)."""
    model = read_model(DATA / "te" / "Te_model.nc")
    atoms = model.positions[[0, 2, 4]]
    positions = model.positions.copy()
    for i, p in enumerate(positions):
        d = p - atoms
        d -= np.round(d)
        positions[i] = atoms[np.argmin(np.linalg.norm(d @ model.lattice, axis=1))]
    return dataclasses.replace(model, positions=positions)


@pytest.fixture(scope="module")
def fe():
    return read_hr(DATA / "fe" / "Fe_hr.dat")


def relative(a, b):
    """max |a - b| / max |b| (max |a - b| where b vanishes identically)."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / (np.abs(b).max() or 1.0))


# ---------------------------------------------------------------- groups and grids


def test_group_orders():
    assert as_group(TE_GROUP).order == 12
    assert as_group(FE_GROUP).order == 16
    assert as_group(["C6z", "Mx"]).order == 12
    assert as_group("TimeReversal*C2x").order == 2
    assert as_group([(np.diag([1.0, 1.0, -1.0]), True)]).order == 2
    with pytest.raises(SymmetryError, match="unknown symmetry operation 'C5z'"):
        as_group("C5z")


def test_c3_on_a_cubic_lattice_is_refused():
    with pytest.raises(SymmetryError, match="C3z does not map the reciprocal lattice"):
        reduced_operations(as_group("C3z"), 2 * np.pi * np.eye(3))


def test_irreducible_points_partition_the_grid(te):
    """Brute force: the orbits of every grid point under the 12 operations, found point by point, are
    the ones the weights describe (sum of weights = grid size, one representative per orbit)."""
    shape = (6, 6, 4)
    group = as_group(TE_GROUP)
    grid = irreducible_points(group, te.reciprocal, shape, 0.0)
    M = reduced_operations(group, te.reciprocal)
    orbits = set()
    for index in itertools.product(*map(range, shape)):
        images = {tuple(np.mod(np.rint(np.array(index) @ m * 1.0).astype(int), shape)) for m in M}
        orbits.add(frozenset(images))
    assert grid.weights.sum() == np.prod(shape)
    assert len(orbits) == grid.total
    assert sorted(len(o) for o in orbits) == sorted(grid.weights.astype(int))


def test_a_grid_that_the_group_does_not_keep_is_refused(te):
    with pytest.raises(SymmetryError, match="not invariant under C3z"):
        compute(te, "drude", mu=5.6, T=300, tau=10, nk=4, shift=0.5, symmetry=TE_GROUP)


# ---------------------------------------------------------------- Te: the 12 operations of 32 x time reversal


def test_te_with_its_group_equals_the_full_grid(te):
    """Te, nk = 6 x 6 x 6 with shift (0, 0, 1/2) (no degenerate point), two mu in the valence bands:
    34 of 216 points. Agreement limited by the model's own asymmetry (3e-8 eV)."""
    options = dict(mu=[5.4, 5.8], T=300.0, tau=10.0, nk=6, shift=(0, 0, 0.5), executor="serial")
    names = ["drude", "entropy_production", "berry_curvature_dipole_current", "anomalous_hall"]
    full = compute(te, names, **options)
    sym = compute(te, names, symmetry=TE_GROUP, **options)
    assert sym.attrs["symmetry_order"] == 12 and sym.attrs["symmetry_irreducible_kpoints"] == 30
    for name in names[:3]:
        assert relative(sym[name], full[name]) < 1e-7, name
    for name in names[:2]:  # (the nk/2 = 3 grid of the error estimate holds the degenerate K points)
        assert relative(sym[name + "_error"], full[name + "_error"]) < 1e-6, name
    # time reversal forbids the Hall conductivity: zero with the group, rounding on the full grid
    assert np.abs(sym["anomalous_hall"].values).max() < 1e-11  # S/m
    assert np.abs(full["anomalous_hall"].values).max() < 1e-4
    # the Berry-curvature dipole of D3 (Sodemann-Fu): chi_xxx = -chi_xyy = -chi_yxy = -chi_yyx allowed
    mask = forbidden_components(
        dataclasses.replace(_symmetry(te, ["berry_curvature_dipole_current"]), reciprocal=te.reciprocal),
        "berry_curvature_dipole_current", (3, 3, 3))
    assert not mask[0, 0, 0] and mask[2, 2, 2] and mask[0, 0, 2]
    assert np.abs(full["berry_curvature_dipole_current"].values[..., mask]).max() < 1e-7 * np.abs(
        full["berry_curvature_dipole_current"].values).max()


def _symmetry(model, names, group=TE_GROUP):
    from qgtransport.compute import symmetry_of

    return symmetry_of(model, names, group, force=True)


@pytest.mark.parametrize("names, shift, tolerance, points", [
    (["drude", "entropy_production", "entropy_current_drude"], 0.0, 1e-7, 34),
    (["optical_conductivity", "conductivity_ac", "joint_density_of_states"], 0.0, 1e-7, 34),
    (["second_order_current"], (0, 0, 0.5), 1e-6, 42),
])
def test_te_gamma_centred_families(te, names, shift, tolerance, points):
    """The linear DC and optical families on the Gamma-centred 6^3 grid (34 of 216 points); the
    second-order current, exact in tau, with the 6 unitary operations (42 points of the grid shifted
    along z: the Gamma-centred one holds the K-H line, where bands 2e-6 eV apart make the tau^0 part
    of the response huge and the grid sum an artefact)."""
    options = dict(mu=[5.4, 5.8], T=300.0, tau=10.0, nk=6, shift=shift, executor="serial", error_estimate=False,
                   omega=[0.3, 1.0])
    full = compute(te, names, **options)
    sym = compute(te, names, symmetry=TE_GROUP, **options)
    used = 6 if "second_order_current" in names else 12
    assert sym.attrs["symmetry_operations_used"] == used
    assert sym.attrs["symmetry_irreducible_kpoints"] == points
    for name in names:
        assert relative(sym[name], full[name]) < tolerance, name


def test_te_check_respects_its_group_and_auto_finds_it(te):
    """check: the bands keep the 12 operations to 3e-8 eV. auto: spglib on the three sites of the
    24 Wannier centres of the model as read (no .win) finds D3 x time reversal, the same group."""
    result = check(te, TE_GROUP)
    assert not result.broken and result.respected.order == 12
    assert result.energy.max() < 3e-8
    as_read = read_model(DATA / "te" / "Te_model.nc")
    found = auto_group(as_read)
    assert found.order == 12
    same = as_group(TE_GROUP)
    for R, t in zip(found.rotations, found.time_reversal, strict=True):
        assert any(u == t and np.allclose(S, R) for S, u in zip(same.rotations, same.time_reversal, strict=True))
    # with the Wannier centres as positions the tight-binding curvature keeps C3 to 0.6 %: accepted
    assert 1e-3 < check(as_read, TE_GROUP).curvature.max() < 1e-2


# ---------------------------------------------------------------- built-in models: exact symmetry


@pytest.mark.parametrize("name", sorted(BUILTIN_GROUPS))
def test_builtin_models_respect_their_declared_groups(name):
    model = builtin_model(name)
    assert not check(model, BUILTIN_GROUPS[name]).broken
    assert auto_group(model).order == as_group(BUILTIN_GROUPS[name]).order


LINEAR = ["anomalous_hall", "drude", "entropy_production", "entropy_hall", "anomalous_nernst", "entropy_current_drude"]


@pytest.mark.parametrize("options", [
    dict(),
    dict(scan="binned"),
    dict(refine=dict(levels=2, subdivision=3, threshold=0.1)),
    dict(executor="processes", workers=2),
    dict(executor="dask", workers=2),
])
def test_qwz_linear_responses_every_path(options):
    """QWZ (C4z, TimeReversal*Mx: 8 operations; m = -1.8, a small gap at Gamma), 12 x 12 Gamma-centred:
    every linear DC response, the error estimate, the binned scan, the refinement (hot cells expanded
    by the group: the same 75 + 81 cells on two levels), worker processes and Dask."""
    if options.get("executor") == "dask":
        pytest.importorskip("distributed")
    model = builtin_model("qwz", m=-1.8)
    common = dict(mu=[-0.5, 0.3], T=0.1, tau=10.0, nk=12, shift=0.0, units="natural",
                  executor=options.pop("executor", "serial"), **options)
    full = compute(model, LINEAR, **common)
    sym = compute(model, LINEAR, symmetry="auto", **common)
    assert sym.attrs["symmetry_order"] == 8
    assert sym.attrs["symmetry_irreducible_kpoints"] == 28  # the 144 points in 28 orbits
    for name in LINEAR:
        assert relative(sym[name], full[name]) < 1e-10, name
        assert relative(sym[name + "_error"], full[name + "_error"]) < 1e-9, name
        if name + "_refinement" in full:
            assert relative(sym[name + "_refinement"], full[name + "_refinement"]) < 1e-9, name
    if "refine" in options:
        assert list(sym.attrs["refined_cells"]) == list(full.attrs["refined_cells"]) == [75, 81]
    # C4z forbids the off-diagonal Drude and the xx - yy anisotropy
    assert sym["drude"].values[..., 0, 1].max() == 0.0
    assert np.allclose(sym["drude"].values[..., 0, 0], sym["drude"].values[..., 1, 1], rtol=1e-14, atol=0)


def test_qwz_optical_responses():
    model = builtin_model("qwz", m=-1.0)
    names = ["optical_conductivity", "conductivity_ac", "joint_density_of_states"]
    common = dict(mu=0.3, T=0.1, tau=10.0, nk=10, shift=0.0, units="natural", omega=[0.5, 2.0],
                  executor="serial")
    full = compute(model, names, **common)
    sym = compute(model, names, symmetry="C4z,TimeReversal*Mx", **common)
    for name in names:
        assert relative(sym[name], full[name]) < 1e-10, name


@pytest.mark.parametrize("name, group, quantities", [
    ("pt_symmetric", "My", ["intrinsic_second_order", "quantum_metric_dipole_current", "second_order_current",
                            "berry_curvature_dipole_current", "nonlinear_drude"]),
    ("tilted_dirac", "TimeReversal*Mx", ["berry_curvature_dipole_current", "nonlinear_drude",
                                         "intrinsic_second_order", "berry_connection_polarizability_current"]),
])
def test_second_order_responses(name, group, quantities):
    model = builtin_model(name)
    common = dict(mu=0.6, T=0.1, tau=5.0, nk=12, shift=0.0, units="natural", executor="serial")
    full = compute(model, quantities, **common)
    sym = compute(model, quantities, symmetry=group, **common)
    for q in quantities:
        assert relative(sym[q], full[q]) < 1e-10, q


def test_weyl_second_order_is_forbidden_by_inversion():
    """The Weyl model (16 operations, with inversion): every second-order current vanishes; the full
    grid gives rounding."""
    model = builtin_model("weyl")
    names = ["berry_curvature_dipole_current", "second_order_current"]
    common = dict(mu=0.1, T=0.1, tau=5.0, nk=6, shift=0.0, units="natural", executor="serial",
                  error_estimate=False)
    full = compute(model, names, **common)
    sym = compute(model, names, symmetry="auto", **common)
    assert sym.attrs["symmetry_order"] == 16 and sym.attrs["symmetry_operations_used"] == 8
    for q in names:
        assert np.abs(sym[q].values).max() == 0.0
        assert np.abs(full[q].values).max() < 1e-12


def test_checkpoint_fingerprint_holds_the_group(tmp_path):
    model = builtin_model("qwz")
    common = dict(mu=0.3, T=0.1, nk=8, shift=0.0, units="natural", executor="serial", checkpoint=tmp_path)
    first = compute(model, "anomalous_hall", symmetry="C4z", **common)
    again = compute(model, "anomalous_hall", symmetry="C4z", **common)
    np.testing.assert_array_equal(first["anomalous_hall"].values, again["anomalous_hall"].values)
    with pytest.raises(ValueError, match="fingerprint|another run|different"):
        compute(model, "anomalous_hall", symmetry="C4z,TimeReversal*Mx", **common)


# ---------------------------------------------------------------- diagnostics


def test_fe_broken_inversion_is_named(fe):
    result = check(fe, "Inversion")
    assert result.broken == ["Inversion"] and result.energy[1] > 0.1
    with pytest.raises(SymmetryError, match=r"breaks the symmetry it was given: Inversion \(bands differ by"):
        compute(fe, "anomalous_hall", mu=12.6, T=300, nk=4, shift=0.0, symmetry="Inversion")
    forced = compute(fe, "anomalous_hall", mu=12.6, T=300, nk=4, shift=0.0, symmetry=FE_GROUP,
                     symmetry_force=True, error_estimate=False, executor="serial")
    assert forced.attrs["symmetry_forced"] == 1 and forced.attrs["symmetry_irreducible_kpoints"] == 13


def test_fe_groups_from_spglib(fe):
    """bcc Fe from its .win: m-3m x time reversal (96) without moments; 4/mm'm' (16) with the moment
    along z, the group of FE_GROUP."""
    assert auto_group(fe).order == 96
    group = auto_group(fe, magnetic_moments=[[0.0, 0.0, 2.2]])
    assert group.order == 16 and "Inversion" in group.names and "TimeReversal*C2x" in group.names
    same = as_group(FE_GROUP)
    for R, t in zip(group.rotations, group.time_reversal, strict=True):
        assert any(u == t and np.allclose(S, R) for S, u in zip(same.rotations, same.time_reversal, strict=True))
    with pytest.raises(SymmetryError, match="magnetic_moments must be one 3-vector per atom"):
        auto_group(fe, magnetic_moments=[1.0, 2.0])


def test_broken_time_reversal_of_a_chern_insulator_is_seen():
    """QWZ's bands are even in k: only the Berry curvature shows that time reversal is broken."""
    result = check(builtin_model("qwz"), "TimeReversal")
    assert result.energy[1] < 1e-12 and result.curvature[1] > 1
    assert result.broken == ["TimeReversal"]


def test_forbidden_components_count_as_grid_error():
    """A full-grid Haldane run checked against C6z: the xx - yy anisotropy of the Drude conductivity that
    C6 forbids is counted in drude_error; on a shifted grid (not C6-invariant) it is nonzero."""
    model = builtin_model("haldane")
    ds = compute(model, ["drude"], mu=0.5, T=0.1, tau=10, nk=8, shift=0.5, units="natural", executor="serial",
                 error_estimate=False)
    checked = add_forbidden_components(ds, model, "C6z")
    anisotropy = np.abs(ds["drude"].values[..., 0, 0] - ds["drude"].values[..., 1, 1]) / 2
    assert anisotropy.max() > 0
    np.testing.assert_allclose(checked["drude_error"].values[..., 0, 0], anisotropy, rtol=1e-10)
    assert "symmetry" in checked["drude_error"].attrs
    row = next(r for r in grid_convergence(checked) if r["quantity"] == "drude")
    assert "symmetry-forbidden" in row["status"]


def test_run_configuration_symmetry_table():
    config = parse_config("""
[model]
builtin = "qwz"
[grid]
nk = 8
shift = 0
[scan]
mu = 0.3
T = 300
[symmetry]
group = "C4z,TimeReversal*Mx"
""")
    options = config.compute_options()
    assert options["symmetry"] == "C4z,TimeReversal*Mx" and options["symmetry_force"] is False
    ds = compute(builtin_model("qwz"), "anomalous_hall", **{**options, "executor": "serial"})
    assert ds.attrs["symmetry_order"] == 8
    assert "symmetry" not in parse_config('[model]\nbuiltin = "qwz"\n[scan]\nmu = 0\nT = 300\n').compute_options()
    with pytest.raises(ValueError, match=r"\[symmetry\]: unknown key 'grup' \(did you mean 'group'\?\)"):
        parse_config('[model]\nbuiltin = "qwz"\n[scan]\nmu = 0\nT = 300\n[symmetry]\ngrup = "auto"\n')


def test_every_response_declares_its_time_reversal_rule():
    assert set(TIME_REVERSAL) == set(RESPONSES)
    assert RESPONSES["anomalous_hall"].time_reversal == "transpose"
    assert RESPONSES["second_order_current"].time_reversal is None


def test_cli_symmetry_table(fe, tmp_path):
    result = CliRunner().invoke(main, ["symmetry", "--hr", str(DATA / "fe" / "Fe_hr.dat"), "--generators", "Inversion"])
    assert result.exit_code == 0, result.output
    assert "Inversion" in result.output and "BROKEN" in result.output
    result = CliRunner().invoke(main, ["compute", "--model", "qwz", "--mu", "0.3", "--T", "300", "--nk", "8",
                                       "--quantities", "anomalous_hall", "--symmetry", "C4z,TimeReversal*Mx"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["compute", "--model", "qwz", "--mu", "0.3", "--T", "300", "--nk", "8",
                                       "--quantities", "anomalous_hall", "--symmetry", "TimeReversal"])
    assert result.exit_code == 2 and "TimeReversal" in result.output


def test_a_model_in_a_plane_refuses_operations_out_of_it():
    model = builtin_model("qwz")
    with pytest.raises(SymmetryError, match="mix the 2 axes"):
        compute(model, "anomalous_hall", mu=0.3, T=0.1, nk=4, shift=0.0, units="natural", symmetry="C4x")


assert TightBinding  # the models above are TightBinding instances


def test_qgt_run_counts_forbidden_components(tmp_path):
    """[symmetry] check on a full-grid run: the forbidden parts are in <name>_error of the written
    dataset (Haldane on the default shifted grid, which C6 does not keep: they are nonzero)."""
    import xarray as xr

    (tmp_path / "run.toml").write_text("""
units = "natural"
[model]
builtin = "haldane"
[grid]
nk = 8
[scan]
mu = 0.5
T = 0.1
[physics]
tau = 10.0
quantities = ["drude"]
[output]
folder = "out"
report = false
[symmetry]
check = "C6z"
""")
    result = CliRunner().invoke(main, ["run", str(tmp_path / "run.toml")])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(tmp_path / "out" / "run.nc") as ds:
        assert "symmetry" in ds["drude_error"].attrs and ds.attrs["symmetry_checked"] == "C6z"


def test_polar_and_axial_vectors_under_a_mirror():
    """Mz maps a polar vector (current) (x, y, z) -> (x, y, -z) and an axial one (magnetisation)
    (x, y, z) -> (-x, -y, z); the antisymmetric rank-2 tensor of a Hall conductivity transforms
    as the axial vector of its components (sigma_xy ~ M_z kept, sigma_yz ~ M_x reversed)."""
    from qgtransport.symmetry import Rule, transform

    Mz = as_group("Mz").rotations[1]
    v = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(transform(v, Mz, False, Rule(1, "odd")), [[1.0, 2.0, -3.0]])
    axial = Rule(1, "odd", axial=True)
    symmetry = dataclasses.replace(_symmetry(builtin_model("weyl"), ["drude"], "Mz"),
                                   rules={"m": axial, "sigma": Rule(2, "transpose")})
    m = np.array([[1.0, 2.0, 3.0]])
    sigma = np.array([[[0.0, 3.0, -2.0], [-3.0, 0.0, 1.0], [2.0, -1.0, 0.0]]])  # sigma_ab = eps_abc m_c
    out = symmetry.symmetrise({"m": m, "sigma": sigma})
    np.testing.assert_allclose(out["m"], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(out["sigma"], [[[0.0, 3.0, 0.0], [-3.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])


@pytest.mark.parametrize("allowed, forbidden", [
    (["drude", "entropy_production", "entropy_current_drude"], ["anomalous_hall", "entropy_hall"]),
    (["optical_conductivity", "conductivity_ac"], []),
    (["berry_curvature_dipole_current", "second_order_current"], ["nonlinear_drude"]),
])
def test_te_exact_subgroup_to_rounding(te, allowed, forbidden):
    """Te keeps C2x and time reversal to 3e-14 eV (C3z only to 3e-8 eV): with the order-4 group
    {E, C2x, T, T C2x} the irreducible points of the Gamma-centred 6^3 grid give the full-grid result
    to 1e-10 relative for every family (exact degeneracies at Gamma and A included), and the
    responses time reversal forbids vanish. (The second-order sums cancel between the Kramers-Weyl
    points at H, whose single-k terms exceed the grid sum by orders of magnitude: rounding reaches
    1.7e-10 of the sum there, so those are held to 3e-10.)"""
    options = dict(mu=[5.4, 5.8], T=300.0, tau=10.0, nk=6, shift=0.0, executor="serial", error_estimate=False,
                   omega=[0.3, 1.0], degeneracy_tol=1e-3)
    full = compute(te, allowed + forbidden, **options)
    sym = compute(te, allowed + forbidden, symmetry="C2x,TimeReversal", **options)
    assert sym.attrs["symmetry_order"] == 4
    for name in allowed:
        tolerance = 3e-10 if RESPONSES[name].rank == 3 else 1e-10
        assert relative(sym[name], full[name]) < tolerance, (name, relative(sym[name], full[name]))
    scale = max(np.abs(full[name].values).max() for name in allowed)
    for name in forbidden:
        assert np.abs(sym[name].values).max() < 1e-10 * scale, name
