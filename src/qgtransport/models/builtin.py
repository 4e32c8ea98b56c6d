"""Built-in tight-binding models. Energies in eV, lengths in Angstrom (lattice constant 1 unless
stated), spin degeneracy 1. Each builder returns a TightBinding model; `BUILTIN_MODELS` lists them.

Pauli matrices: s0 = 1, sx, sy, sz. A term c exp(i k.a) in H(k) is the hopping H(R = a) = c; every
builder gives H(R) for one of each pair (R, -R) and adds H(-R) = H(R)^dagger.
"""

from __future__ import annotations

import numpy as np

from qgtransport.models.tightbinding import TightBinding

s0 = np.eye(2, dtype=complex)
sx = np.array([[0, 1], [1, 0]], dtype=complex)
sy = np.array([[0, -1j], [1j, 0]], dtype=complex)
sz = np.array([[1, 0], [0, -1]], dtype=complex)


def model_from_hoppings(lattice, positions, onsite, hoppings, *, name, parameters, spin_degeneracy=1):
    """Assemble H(R) from an on-site matrix and {R: H(R)} for one of each pair (R, -R).

    The Hermitian partner H(-R) = H(R)^dagger is added; R = 0 entries are added to the on-site
    matrix together with their conjugate.
    """
    dim = len(lattice)
    terms: dict[tuple, np.ndarray] = {(0,) * dim: np.array(onsite, dtype=complex)}
    for R, matrix in hoppings:
        R = tuple(int(x) for x in R)
        minus = tuple(-x for x in R)
        matrix = np.asarray(matrix, dtype=complex)
        if R == minus:
            terms[R] = terms[R] + matrix + matrix.conj().T
            continue
        terms[R] = terms.get(R, 0) + matrix
        terms[minus] = terms.get(minus, 0) + matrix.conj().T
    R = np.array(list(terms.keys()), dtype=int)
    H_R = np.array(list(terms.values()))
    return TightBinding(
        lattice=np.asarray(lattice, dtype=float),
        positions=np.asarray(positions, dtype=float),
        R=R,
        H_R=H_R,
        spin_degeneracy=spin_degeneracy,
        name=name,
        parameters=dict(parameters),
    )


def sin_term(matrix):
    """Hopping H(R) giving sin(k.R) * matrix in H(k): exp(ik.R)/(2i)."""
    return np.asarray(matrix) / 2j


def cos_term(matrix):
    """Hopping H(R) giving cos(k.R) * matrix in H(k) (the partner adds the other half)."""
    return np.asarray(matrix) / 2


def qwz(m: float = -1.0) -> TightBinding:
    """Qi-Wu-Zhang model on the square lattice (a = 1).

        H(k) = sin kx sx + sin ky sy + (m + cos kx + cos ky) sz.

    Chern insulator for 0 < |m| < 2 (with our conventions the lower band has C = +1 for
    -2 < m < 0 and C = -1 for 0 < m < 2), trivial for |m| > 2.
    Reference: X.-L. Qi, Y.-S. Wu, S.-C. Zhang, Phys. Rev. B 74, 085308 (2006).
    """
    return model_from_hoppings(
        np.eye(2), np.zeros((2, 2)), m * sz,
        [((1, 0), sin_term(sx) + cos_term(sz)), ((0, 1), sin_term(sy) + cos_term(sz))],
        name="qwz", parameters={"m": m},
    )


def haldane(t1: float = 1.0, t2: float = 0.1, phi: float = np.pi / 2, M: float = 0.0) -> TightBinding:
    """Haldane model on the honeycomb lattice (a1 = (1, 0), a2 = (1/2, sqrt 3/2)).

        H = t1 sum_<ij> c_i^+ c_j + t2 sum_<<ij>> exp(i nu_ij phi) c_i^+ c_j + M sum_i xi_i c_i^+ c_i,

    A at (1/3, 1/3), B at (2/3, 2/3) (reduced), xi_A = +1, xi_B = -1, nu_ij = +1 for
    next-nearest-neighbour hops of A along a1, a2 - a1, -a2 (anticlockwise) and -1 for B.
    Chern insulator with |C| = 1 for |M| < 3 sqrt(3) |t2 sin phi|; C changes sign with phi.
    Reference: F. D. M. Haldane, Phys. Rev. Lett. 61, 2015 (1988).
    """
    lattice = [[1.0, 0.0], [0.5, np.sqrt(3) / 2]]
    positions = [[1 / 3, 1 / 3], [2 / 3, 2 / 3]]
    AB = np.array([[0, 1], [0, 0]], dtype=complex)
    AA = np.array([[1, 0], [0, 0]], dtype=complex)
    BB = np.array([[0, 0], [0, 1]], dtype=complex)
    hops = [((0, 0), t1 * AB), ((-1, 0), t1 * AB), ((0, -1), t1 * AB)]
    for R in [(1, 0), (-1, 1), (0, -1)]:
        hops.append((R, t2 * (np.exp(1j * phi) * AA + np.exp(-1j * phi) * BB)))
    return model_from_hoppings(
        lattice, positions, M * sz, hops,
        name="haldane", parameters={"t1": t1, "t2": t2, "phi": phi, "M": M},
    )


def tilted_dirac(v: float = 1.0, m: float = 0.2, b: float = 1.0, w: float = 0.3) -> TightBinding:
    """Tilted massive Dirac model on the square lattice (a = 1).

        H(k) = w sin kx s0 + v (sin kx sx + sin ky sy) + (m + b (2 - cos kx - cos ky)) sz.

    Near k = 0: H ~ w kx + v (kx sx + ky sy) + m sz, the tilted massive Dirac Hamiltonian whose
    quantum metric of either band is g_ab = (1/4) d_a n . d_b n with n = d/|d|
    (g_xx(0) = v^2 / (4 m^2)). Reference: the massive Dirac model of D. Xiao, M.-C. Chang, Q. Niu,
    Rev. Mod. Phys. 82, 1959 (2010), Sec. II; tilt as in I. Sodemann, L. Fu,
    Phys. Rev. Lett. 115, 216806 (2015).
    """
    onsite = (m + 2 * b) * sz
    hops = [
        ((1, 0), sin_term(w * s0 + v * sx) - cos_term(b * sz)),
        ((0, 1), sin_term(v * sy) - cos_term(b * sz)),
    ]
    return model_from_hoppings(
        np.eye(2), np.zeros((2, 2)), onsite, hops,
        name="tilted_dirac", parameters={"v": v, "m": m, "b": b, "w": w},
    )


def rice_mele(t: float = 1.0, delta: float = 0.3, Delta: float = 0.5) -> TightBinding:
    """Rice-Mele chain (a = 1, A at x = 0, B at x = 1/2).

        H = sum_j [(t + delta) a_j^+ b_j + (t - delta) b_j^+ a_{j+1} + h.c.]
            + Delta sum_j (a_j^+ a_j - b_j^+ b_j).

    Gapped for (delta, Delta) != (0, 0). Reference: M. J. Rice, E. J. Mele,
    Phys. Rev. Lett. 49, 1455 (1982).
    """
    intra = np.array([[0, t + delta], [0, 0]], dtype=complex)
    inter = np.array([[0, 0], [t - delta, 0]], dtype=complex)  # <0 B|H|R=1 A>
    return model_from_hoppings(
        [[1.0]], [[0.0], [0.5]], Delta * sz, [((0,), intra), ((1,), inter)],
        name="rice_mele", parameters={"t": t, "delta": delta, "Delta": Delta},
    )


def weyl(t: float = 0.5, m: float = 1.5, k0: float = np.pi / 3) -> TightBinding:
    """Magnetic Weyl semimetal with two Weyl nodes at k = (0, 0, +-k0) (cubic lattice, a = 1).

        H(k) = 2t (sin kx sx + sin ky sy) + [m (2 - cos kx - cos ky) + 2t (cos kz - cos k0)] sz.

    Time reversal is broken; every kz-slice with |kz| > k0 is a Chern insulator with |C| = 1, so
    with mu at the nodes |sigma_xy| = (e^2/h) (2 pi - 2 k0) / (2 pi a) (anomalous Hall effect of a
    Weyl semimetal). Needs m > 2t for only two nodes.
    References: K.-Y. Yang, Y.-M. Lu, Y. Ran, Phys. Rev. B 84, 075129 (2011);
    A. A. Burkov, L. Balents, Phys. Rev. Lett. 107, 127205 (2011).
    """
    onsite = (2 * m - 2 * t * np.cos(k0)) * sz
    hops = [
        ((1, 0, 0), sin_term(2 * t * sx) - cos_term(m * sz)),
        ((0, 1, 0), sin_term(2 * t * sy) - cos_term(m * sz)),
        ((0, 0, 1), cos_term(2 * t * sz)),
    ]
    return model_from_hoppings(
        np.eye(3), np.zeros((2, 3)), onsite, hops,
        name="weyl", parameters={"t": t, "m": m, "k0": k0},
    )


def pt_symmetric(w: float = 0.3, v: float = 1.0, gamma: float = 0.4, m: float = 2.5) -> TightBinding:
    """PT-symmetric tilted two-band model with a nonzero quantum-metric dipole (square lattice).

        H(k) = w sin kx s0 + (v sin kx + gamma) sx + (m - cos kx - cos ky) sz.

    H(k) is real, so PT = complex conjugation is a symmetry and the Berry curvature vanishes at
    every k; P and T are broken separately (gamma and w make e(k) != e(-k) and
    g(k) != g(-k)), so the quantum-metric dipole, and the intrinsic tau^0 nonlinear currents it
    drives, are nonzero. Gapped for m > 2 or with gamma > v.
    References: the PT-symmetric setting of D. Kaplan, T. Holder, B. Yan, Phys. Rev. Lett. 132,
    026301 (2024) and K. Das, S. Lahiri, R. B. Atencia, D. Culcer, A. Agarwal, Phys. Rev. B 108,
    L201405 (2023).
    """
    hops = [
        ((1, 0), sin_term(w * s0 + v * sx) - cos_term(sz)),
        ((0, 1), -cos_term(sz)),
    ]
    return model_from_hoppings(
        np.eye(2), np.zeros((2, 2)), gamma * sx + m * sz, hops,
        name="pt_symmetric", parameters={"w": w, "v": v, "gamma": gamma, "m": m},
    )


BUILTIN_MODELS = {
    "qwz": qwz,
    "haldane": haldane,
    "tilted_dirac": tilted_dirac,
    "rice_mele": rice_mele,
    "weyl": weyl,
    "pt_symmetric": pt_symmetric,
}


# The magnetic point group of each built-in model at its default parameters, by generators in the
# model's Cartesian frame (docs/symmetry.md); other parameters may break some of it, which
# `qgtransport.symmetry.auto_group` checks. rice_mele (1D, staggered) has only the identity.
SYMMETRY_GROUPS = {
    "qwz": ("C4z", "TimeReversal*Mx"),
    "haldane": ("C6z", "TimeReversal*Mx"),
    "tilted_dirac": ("TimeReversal*Mx",),
    "weyl": ("Inversion", "C4z", "TimeReversal*Mx"),
    "pt_symmetric": ("My",),
    "rice_mele": (),
}


def builtin_model(name: str, **parameters) -> TightBinding:
    """A built-in model by name with its parameters (see BUILTIN_MODELS)."""
    if name not in BUILTIN_MODELS:
        import difflib

        close = difflib.get_close_matches(str(name), list(BUILTIN_MODELS), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}; built-in models are {sorted(BUILTIN_MODELS)}")
    builder = BUILTIN_MODELS[name]
    import inspect

    allowed = set(inspect.signature(builder).parameters)
    unknown = set(parameters) - allowed
    if unknown:
        raise ValueError(f"model {name!r} has no parameter(s) {sorted(unknown)}; it takes {sorted(allowed)}")
    return builder(**parameters)
