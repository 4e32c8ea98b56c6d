"""qgtransport.compute: responses of a model on a k-grid for arrays of mu and T, as an xarray Dataset."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from qgtransport import units as U
from qgtransport.bands.geometry import DEGENERACY_TOL, BandGeometry, band_geometry
from qgtransport.cost import check as check_cost
from qgtransport.cost import estimate
from qgtransport.engine.direct import band_resolved_sums
from qgtransport.engine.integrate import grid_shape
from qgtransport.engine.plan import integrate_request
from qgtransport.engine.spectral import band_resolved
from qgtransport.engine.spectral_ac import auto_scan
from qgtransport.options import check_scans, checked, suggestion
from qgtransport.responses import RESPONSES
from qgtransport.responses.kernels import Block, Settings
from qgtransport.results import build_dataset
from qgtransport.symmetry import Rule, Symmetry, as_group, require


@dataclass(frozen=True)
class Request:
    """What one chunk computes, in natural units: static quantities at the flattened (mu, T) points,
    frequency-dependent ones at the flattened (mu, T, omega) points."""

    quantities: tuple[str, ...]
    mu: np.ndarray
    T: np.ndarray
    omega: np.ndarray
    settings: Settings
    max_elements: int = 2**21
    positions: str = "diagonal"

    def points(self, quantity: str):
        """(mu, T, omega) flattened for this quantity: omega = 0 for static responses."""
        if RESPONSES[quantity].frequency:
            n_omega = len(self.omega)
            return (np.repeat(self.mu, n_omega), np.repeat(self.T, n_omega), np.tile(self.omega, len(self.mu)))
        return self.mu, self.T, np.zeros_like(self.mu)


def chunk_sums(model, k_reduced: np.ndarray, request: Request) -> dict:
    """Band sums {name: (p, ...)} of every requested quantity over one chunk of k-points.

    A pure function of (model, k-chunk, request): one eigen-decomposition per k-point serves every
    quantity and every (mu, T) point.
    """
    order = 2 if any(RESPONSES[q].needs_curvature for q in request.quantities) else 1
    geo = band_geometry(model, model.to_cartesian(k_reduced), order=order, positions=request.positions)
    return thermal_block_sums(geo, request)


def thermal_block_sums(geo: BandGeometry, request: Request) -> dict:
    """Band sums over the (mu, T[, omega]) points in blocks sized so that (k, n, n, p) arrays stay
    bounded; quantities sharing a set of points share the kernels of each block."""
    nk, n = geo.energies.shape
    out = {}
    for frequency in (False, True):
        group = [q for q in request.quantities if RESPONSES[q].frequency == frequency]
        if not group:
            continue
        mu, T, omega = request.points(group[0])
        power = max(RESPONSES[q].band_power for q in group)
        p_block = max(1, request.max_elements // max(1, nk * n**power))
        parts: dict = {q: [] for q in group}
        for start in range(0, len(mu), p_block):
            window = slice(start, start + p_block)
            block = Block(geo, mu[window], T[window], request.settings, omega[window])
            for q in group:
                parts[q].append(RESPONSES[q].function(block))
        out.update({q: np.concatenate(v, axis=0) for q, v in parts.items()})
    return out


def engine_block_sums(geo: BandGeometry, request: Request) -> dict:
    """The direct scan's band sums in the engine: the quantities that are c(T) sum_n w(x_n) Q_n
    (Berry curvature, Drude, band curvature; `qgtransport.engine.spectral.band_resolved`) from the band
    quantities Q_n with exact weights, and the interband entropy production from one exact pair sum
    (divided-difference kernel), all from pair products P^ab_nm computed once per batch; the others
    by `thermal_block_sums`. Same values, to rounding."""
    diagonal = tuple(q for q in request.quantities if band_resolved(q, request.settings))
    rest = tuple(q for q in request.quantities if q not in diagonal)
    out = {}
    if diagonal:
        out.update(band_resolved_sums(geo, diagonal, request.mu, request.T, request.settings, request.max_elements))
    if rest:
        out.update(thermal_block_sums(geo, replace(request, quantities=rest)))
    return {q: out[q] for q in request.quantities}


def validate(quantities, mu, T, tau, omega):
    """The quantities (names of RESPONSES, default: the linear DC ones tau allows) and the scans as 1D
    arrays (`qgtransport.options.check_scans`), with what they need: tau, omega, T > 0 where the
    quantity has no T = 0 value. The other options are checked on entry (`options.checked`)."""
    if quantities is None:  # the linear DC responses (Eqs. 18-28) that the given tau allows
        quantities = [q for q in RESPONSES if RESPONSES[q].rank <= 2 and not RESPONSES[q].frequency
                      and (tau is not None or not RESPONSES[q].needs_tau)]
    given = quantities
    try:
        quantities = [quantities] if isinstance(quantities, str) else list(quantities)
    except TypeError:
        quantities = None
    if quantities is None or not all(isinstance(q, str) for q in quantities):
        raise ValueError(f"quantities must be a name or a list of names of qgtransport.responses.RESPONSES, "
                         f"got {given!r}")
    quantities = [str(q) for q in quantities]  # numpy strings too
    if not quantities:
        raise ValueError("quantities must not be empty")
    unknown = [q for q in quantities if q not in RESPONSES]
    if unknown:
        named = ", ".join(f"{q!r}{suggestion(q, RESPONSES)}" for q in unknown)
        raise ValueError(f"unknown quantities: {named}; available: {sorted(RESPONSES)}")
    needing_tau = [q for q in quantities if RESPONSES[q].needs_tau]
    if needing_tau and tau is None:
        raise ValueError(f"{needing_tau} need the relaxation time tau (fs in SI units, hbar/energy in natural)")
    needing_omega = [q for q in quantities if RESPONSES[q].frequency]
    if needing_omega and omega is None:
        raise ValueError(f"{needing_omega} need the frequencies omega (hbar omega in the model's energy unit)")
    scans = check_scans(mu, T, omega)
    check_zero_temperature(quantities, scans.T)
    omega = np.zeros(1) if scans.omega is None else scans.omega
    return tuple(dict.fromkeys(quantities)), scans.mu, scans.T, omega


def check_zero_temperature(quantities, T) -> None:
    """T = 0 only for the Fermi-sea quantities with a T -> 0 limit (RESPONSES[q].zero_temperature)."""
    if not np.any(T == 0):
        return
    refused = [q for q in quantities if not RESPONSES[q].zero_temperature]
    if refused:
        allowed = sorted(q for q in RESPONSES if RESPONSES[q].zero_temperature)
        raise ValueError(
            f"T = 0 is accepted only for the Fermi-sea quantities {allowed} (step occupation); {refused} have "
            "no T = 0 value on a k-grid (their Fermi-surface terms f', s' become delta functions, or the "
            "entropy production grows like 1/T): give T > 0 for them")


@checked
def compute(model, quantities=None, *, mu, T, tau=None, nk, omega=None, shift=0.5, units="SI",
            kernel="divided_difference", rho1="finite_eta", broadening="gaussian", width=0.02,
            degeneracy_tol=DEGENERACY_TOL, max_elements=2**21, error_estimate=True, progress=False,
            executor="auto", workers=None, scheduler=None, checkpoint=None, task_size=None, scan="auto",
            bin_width=None, refine=None, backend="numpy", positions="diagonal", force=False, symmetry=None,
            symmetry_force=False):
    """Compute responses of a model on a uniform k-grid for every (mu, T[, omega]).

    Parameters
    ----------
    model : TightBinding
        The model (energies in eV and lengths in Angstrom unless it says otherwise).
    quantities : str or list of str, optional
        Names from `qgtransport.responses.RESPONSES` (default: every linear DC response that the
        given tau allows; AC, optical and second-order ones are computed when named).
    mu : float or 1D array
        Chemical potentials in the model's energy unit (eV).
    T : float or 1D array
        Temperatures: K for units="SI", model energy unit for units="natural". T >= 0; T = 0 (step
        occupation theta(mu - e), 1/2 at e = mu; docs/conventions.md) only for the Fermi-sea
        quantities with a T -> 0 limit (`responses.ZERO_TEMPERATURE`: anomalous Hall, entropy Hall and
        Nernst (0 at T = 0), optical), and with scan="direct".
    tau : float, optional
        Relaxation time: fs for units="SI", hbar/energy for units="natural".
    nk : int or tuple of int
        Grid points per reciprocal direction.
    omega : float or 1D array, optional
        Frequencies hbar omega in the model's energy unit (eV), for the AC and optical responses.
    shift : float or tuple of float
        Grid offset in units of the grid step (0.5: no point at Gamma).
    units : {"SI", "natural"}
        "natural": the seed's units (k_B = e = hbar = 1, model energy and length units).
    kernel : {"divided_difference", "printed"}
        The interband entropy-production kernel: the divided difference (ERRATA E1) or Eq. 18 as
        printed.
    rho1 : {"finite_eta", "dc_limit"}
        The first-order density matrix: Eq. 13 at omega = 0 or Eq. 14 (ERRATA E2).
    broadening : {"gaussian", "lorentzian"}
        The broadened delta function of the optical responses (Eqs. 32-33).
    width : float
        Its width in the model's energy unit.
    degeneracy_tol : float
        Energy below which two bands are one degenerate level.
    max_elements : int
        Bound on the size of the per-chunk (k, n, n, ...) arrays (memory).
    error_estimate : bool
        Also integrate the grid of nk/2 (cost 1/2^d more) and report |I(nk) - I(nk/2)| as the
        variable `<name>_error`.
    progress : bool
        Show a progress bar (k-points/s, time left; tqdm.auto, a widget in Jupyter).
    executor : {"auto", "serial", "processes", "dask"} or Executor
        Where the k-chunks run: "auto" (worker processes on every core when there are several and
        the run is longer than a few seconds, else this process), "serial" (in this process),
        "processes" (local worker processes, one BLAS thread each), "dask" (dask.distributed), or an
        open `qgtransport.engine.executors.Executor`. Results agree to rounding whatever the
        executor and the number of workers (chunk results are added in a fixed order; bit for bit
        for a given task_size).
    workers : int, optional
        Worker processes for "processes" and a Dask LocalCluster (default: available cores).
    scheduler : str, optional
        Address of a running Dask scheduler (executor="dask"; default: a LocalCluster).
    checkpoint : str or pathlib.Path, optional
        Folder where finished chunks are written; calling again with the same arguments resumes
        from them (a different run is refused).
    task_size : int, optional
        k-points per task (the unit of scheduling and checkpointing; default up to 32768).
    scan : {"auto", "direct", "binned"}
        "direct": every kernel at every (mu, T) point; "binned": histograms of band quantities over
        energy once per chunk, then each (mu, T) point by quadrature (a 1000-point scan costs little
        more than one point; DC linear, AC and optical responses: `qgtransport.engine.spectral` and
        `qgtransport.engine.spectral_ac`; the histograms of AC quantities carry an omega axis). With
        "binned", `<name>_error` includes a bound on the binning error (the binned values agree with
        the direct ones to 1e-9-1e-7 of the value at the default bin width). "auto" (default):
        "binned" when every quantity has a binned form, T > 0, there are at least 5 (mu, T)
        points and the AC histograms stay within 2**26 doubles (an explicit "binned" is refused above
        1 GiB), else "direct"; the dataset's attribute "scan" says which ran.
    bin_width : float, optional
        Energy bin width of scan="binned" (model energy unit; default T_min/32 of each temperature group:
        points whose one grid would exceed 2**15 bins are grouped by T, each group on its own grid,
        `qgtransport.engine.groups`; the attributes "energy_bins" and "temperature_groups" say how many).
    refine : bool, dict or Refinement, optional
        Adaptive refinement around hot spots of Berry curvature and quantum metric (levels,
        subdivision, fraction or threshold; `qgtransport.engine.refine.Refinement`). `<name>_error`
        is then |I_refined(nk) - I_refined(nk/2)| + |I_refined(nk) - I_uniform(nk)| (the two-grid
        difference plus what the refinement changed) and `<name>_refinement` that change.
    backend : {"numpy", "cupy"}
        Where H(k), eigh and (scan="binned") the band quantities and histograms are computed
        ("cupy": the GPU, with the [gpu] extra and a CUDA device).
    positions : {"diagonal", "full"}
        "diagonal": the tight-binding approximation, orbital positions only; "full": the model's
        off-diagonal position matrix (e.g. a Wannier90 _tb.dat attached with
        `qgtransport.models.tightbinding.with_position_matrix`) enters the Berry connection and the
        velocity, v = dH/dk + i[H, A], and the Berry curvature Omega_n is the full
        Wannier-interpolated one (Wang, Yates, Souza, Vanderbilt, PRB 74, 195118 (2006), Eq. 27:
        with the curl of the position matrix) in anomalous_hall, anomalous_nernst and entropy_hall.
        Metric and Kubo/optical quantities are those of the Wannier subspace (docs/physics.md).
        Linear and optical responses only; every scan, executor and refinement, on the numpy
        backend.
    force : bool
        Start a run that `qgtransport.cost` estimates above 24 h of wall time or 80 % of the
        available memory (refused otherwise, before any work, with the estimate). Runs above the
        hard limits (2**50 k-points, 1e7 scan points) are refused regardless.
    symmetry : str, list of str or Group, optional
        The magnetic point group of the model: "auto", generator names ("C3z,C2x,TimeReversal" or a
        list), or a `qgtransport.symmetry.Group` (docs/symmetry.md). Only the
        irreducible k-points of the grid are computed, weighted by their orbit sizes, and every tensor
        is symmetrised by its transformation rule (`RESPONSES[q].time_reversal`). "auto": the group
        the model declares (built-in models) or spglib's from the crystal structure. The grid must be
        invariant (shift=0 suits every group); the model must respect the group
        (`qgtransport.symmetry.check`), else the call is refused naming the broken operation.
    symmetry_force : bool
        Use the group even where the model breaks it (the results are those of the symmetrised model).

    Returns
    -------
    xarray.Dataset
        One variable per quantity over (mu, T, a[, b]), its grid-error estimate as `<name>_error`
        where the grid allows, and the conventions in the attributes (CF-1.10: units, long_name,
        ancillary_variables; `qgtransport.results`).
    """
    quantities, mu, T, omega = validate(quantities, mu, T, tau, omega)
    frequency = any(RESPONSES[q].frequency for q in quantities)
    if scan == "binned" and np.any(T == 0):
        raise ValueError('scan="binned" needs T > 0 (its energy bins are T_min/32 wide); use scan="direct" for T = 0')
    if units == "SI":
        T_nat = U.temperature_to_natural(T, model)
        tau_nat = None if tau is None else U.relaxation_time_to_natural(tau, model)
    else:
        T_nat, tau_nat = T, tau
    settings = Settings(tau=tau_nat, rho1=rho1, kernel=kernel, degeneracy_tol=degeneracy_tol,
                        broadening=broadening, width=width)
    mu_flat = np.repeat(mu, len(T))
    T_flat = np.tile(T_nat, len(mu))
    scan_used = (auto_scan(quantities, settings, mu_flat, T_flat, bin_width, len(omega), model.dim) if scan == "auto"
                 else scan)
    check_cost(estimate(model, nk, len(mu) * len(T), quantities, n_omega=len(omega) if frequency else 1,
                        error_estimate=error_estimate, scan=scan_used, max_elements=max_elements, executor=executor,
                        workers=workers, refine=refine, scheduler=scheduler), force=force)
    request = Request(quantities, mu_flat, T_flat, omega, settings, max_elements)
    shape = grid_shape(nk, model.dim)
    n = model.norb
    power = max(RESPONSES[q].band_power for q in quantities)
    chunk_size = int(np.clip(max_elements // (max(n**power, n * n * model.dim**2) * 4), 1, 1 << 20))
    order = 2 if any(RESPONSES[q].needs_curvature for q in quantities) else 1
    common = dict(mu=mu, T=T, omega=omega, units=units, shape=shape, shift=shift, tau=tau, settings=settings)
    if positions != "diagonal":
        check_positions(model, positions, quantities)
        request = replace(request, positions=positions)
    symmetrised = symmetry_of(model, quantities, symmetry, symmetry_force)
    result = integrate_request(
        model, request, shape, shift, chunk_size=chunk_size, direct_sums=partial(engine_block_sums, request=request),
        order=order, progress=progress, error_estimate=error_estimate, scan=scan, bin_width=bin_width,
        backend=backend, refine=refine, executor=executor, workers=workers, scheduler=scheduler,
        checkpoint=checkpoint, task_size=task_size, symmetry=symmetrised,
        curvature=curvature_needed(quantities, settings, len(mu_flat), backend))
    ds = build_dataset(model, result.values, result.errors, **common)
    ds.attrs.update(result.attrs)
    if symmetrised is not None:
        ds.attrs.update(symmetry_attributes(symmetrised, symmetry_force))
    ds.attrs["positions"] = ("full (Wannier position matrix in the Berry connection and curvature, WYSV 2006; "
                             "metric and Kubo tensors within the Wannier subspace)" if positions == "full"
                             else "diagonal (tight-binding approximation: orbital positions only)")
    if result.changes:
        changes = build_dataset(model, result.changes, {}, **common)
        for q in quantities:
            ds[q + "_refinement"] = changes[q].assign_attrs(
                description=f"change of {q} made by the adaptive refinement (refined - uniform grid)",
                long_name=f"change of the {changes[q].attrs.get('long_name', q)} made by the refinement")
    return ds


TRACE_MAX_POINTS = 6  # up to this many (mu, T) points the direct scan sums v^ab_n by traces (one product each)


def curvature_needed(quantities, settings, points: int, backend: str) -> str:
    """How much of d2H in the band basis the direct scan needs (`engine.backend.EngineGeometry`):
    "full" for a quantity that is not `band_resolved` (second order); else its band diagonal v^ab_n
    enters only Fermi-sea sums, as traces ("trace", numpy, up to TRACE_MAX_POINTS points: one matrix
    product per point) or from the diagonal ("diagonal": d(d+1)/2 products)."""
    if any(RESPONSES[q].needs_curvature and not band_resolved(q, settings) for q in quantities):
        return "full"
    return "trace" if points <= TRACE_MAX_POINTS and backend == "numpy" else "diagonal"


def symmetry_of(model, quantities, symmetry, force: bool):
    """The `qgtransport.symmetry.Symmetry` of a request (None without a group): the group checked
    against the model (refused where broken unless force) and each quantity's transformation rule."""
    group = as_group(symmetry, model)
    if group is None:
        return None
    if not force:
        require(model, group)
    rules = {q: Rule(RESPONSES[q].rank, RESPONSES[q].time_reversal, RESPONSES[q].axial) for q in quantities}
    return Symmetry(group, rules, model.reciprocal)


def symmetry_attributes(symmetrised, force: bool) -> dict:
    """What the dataset records about the group used."""
    group, used = symmetrised.group, symmetrised.kgroup
    return {"symmetry_generators": ", ".join(group.generators), "symmetry_order": group.order,
            "symmetry_operations_used": used.order,
            "symmetry_forced": int(bool(force)),
            "symmetry_note": ("k-points of the irreducible wedge weighted by their orbit sizes, tensors symmetrised "
                              "(docs/symmetry.md)" + ("" if used.order == group.order else
                                                      "; time reversal unused: a quantity exact in tau has no "
                                                      "time-reversal rule"))}


def add_forbidden_components(ds, model, symmetry):
    """A copy of a full-grid dataset whose `<name>_error` also counts the components that the group
    forbids (the value minus its symmetrised value: grid or model error), through
    `qgtransport.convergence.add_symmetry_residuals`; the report's convergence section then shows them."""
    from qgtransport.convergence import add_symmetry_residuals

    names = [q for q in ds.data_vars if q in RESPONSES]
    symmetrised = symmetry_of(model, names, symmetry, force=True)
    if symmetrised is None:
        return ds
    residuals = symmetrised.residual({q: ds[q].values for q in names})
    out = add_symmetry_residuals(ds, residuals)
    out.attrs["symmetry_checked"] = ", ".join(symmetrised.kgroup.generators)
    return out


def check_positions(model, positions, quantities):
    """positions="full" needs a position matrix; it serves the linear and optical responses (second-order
    responses and v^ab_n would need the k-derivatives of the position terms)."""
    if model.position_R is None:
        raise ValueError("positions='full' needs a model with a position matrix (position_R): "
                         "see models.tightbinding.with_position_matrix and models.wannier90.read_tb_positions")
    second_order = [q for q in quantities if RESPONSES[q].rank > 2 or RESPONSES[q].needs_curvature]
    if second_order:
        raise ValueError(f"positions='full' is not implemented for second-order responses and d2H {second_order} "
                         "(they need k-derivatives of the position-matrix terms); use positions='diagonal'")
