"""Pair products of one batch of band geometry, shared by every band quantity of the engine.

P^ab_nm = v^a_nm v^b_mn in real arithmetic, the independent (a, b) only, computed once per batch
(`PairProducts`), and the interband entropy-production propagator G_nm (`interband_propagator`).
Used by `qgtransport.engine.spectral` (the band quantities of both scans and the direct scan's exact
interband pair sum).
"""

from __future__ import annotations


class PairProducts:
    """P^ab_nm = v^a_nm v^b_mn of one batch, computed once and shared by every band quantity (and the
    direct scan's interband pair sum): with a = v^a_nm, b = v^b_nm and v Hermitian (v^b_mn = conj(v^b_nm)),

        Re P^ab_nm = Re a Re b + Im a Im b  (a <= b),   Im P^ab_nm = Im a Re b - Re a Im b  (a < b),

    in real arithmetic only, each stacked as (k, n, m, C) over its pairs (a, b)."""

    def __init__(self, velocity, xp):
        self.xp = xp
        self.d = velocity.shape[1]
        self.vr, self.vi = xp.ascontiguousarray(velocity.real), xp.ascontiguousarray(velocity.imag)
        self._real = self._imag = None

    @property
    def symmetric_pairs(self):
        return [(a, b) for a in range(self.d) for b in range(a, self.d)]

    @property
    def antisymmetric_pairs(self):
        return [(a, b) for a in range(self.d) for b in range(a + 1, self.d)]

    @property
    def real(self):
        """Re P^ab_nm, (k, n, m, d(d+1)/2) over symmetric_pairs (a view of a (C, k, n, m) array)."""
        if self._real is None:
            vr, vi = self.vr, self.vi
            xp = self.xp
            out = xp.empty((len(self.symmetric_pairs),) + vr[:, 0].shape)
            scratch = xp.empty(vr[:, 0].shape)
            for c, (a, b) in enumerate(self.symmetric_pairs):
                xp.multiply(vr[:, a], vr[:, b], out=out[c])
                out[c] += xp.multiply(vi[:, a], vi[:, b], out=scratch)
            self._real = out.transpose(1, 2, 3, 0)
        return self._real

    @property
    def real_components(self):
        """Re P^ab_nm as its contiguous (C, k, n, m) array (the base of `real`)."""
        return self.real.transpose(3, 0, 1, 2)

    @property
    def imag(self):
        """Im P^ab_nm, (k, n, m, d(d-1)/2) over antisymmetric_pairs (none in 1D; a view as `real`)."""
        if self._imag is None:
            vr, vi = self.vr, self.vi
            xp = self.xp
            out = xp.empty((len(self.antisymmetric_pairs),) + vr[:, 0].shape)
            scratch = xp.empty(vr[:, 0].shape)
            for c, (a, b) in enumerate(self.antisymmetric_pairs):
                xp.multiply(vi[:, a], vr[:, b], out=out[c])
                out[c] -= xp.multiply(vr[:, a], vi[:, b], out=scratch)
            self._imag = out.transpose(1, 2, 3, 0)
        return self._imag

    @property
    def imag_components(self):
        """Im P^ab_nm as its contiguous (C, k, n, m) array (the base of `imag`)."""
        return self.imag.transpose(3, 0, 1, 2)

    def tensor(self, components, part: str):
        """(..., C) components over the pairs of `part` -> (..., d, d), symmetric ("real", `symmetric_tensor`)
        or antisymmetric ("imag")."""
        tensor = symmetric_tensor if part == "real" else antisymmetric_tensor
        return tensor(components, self.d, self.xp)

    def band_sum(self, kernel, part: str):
        """sum_m kernel_nm x (Re or Im) P^ab_nm for every (a, b), as (k, n, a, b)."""
        products = self.real if part == "real" else self.imag
        return self.tensor((kernel[:, :, None, :] @ products)[:, :, 0], part)  # a (1, m) @ (m, C) product per (k, n)


def symmetric_tensor(values, d: int, xp):
    """(..., P) components over the pairs a <= b (row by row) -> (..., d, d) symmetric."""
    out = xp.empty(values.shape[:-1] + (d, d))
    for c, (a, b) in enumerate((i, j) for i in range(d) for j in range(i, d)):
        out[..., a, b] = values[..., c]
        out[..., b, a] = values[..., c]
    return out


def antisymmetric_tensor(values, d: int, xp):
    """(..., P) components over the pairs a < b (row by row) -> (..., d, d) antisymmetric (zero diagonal)."""
    out = xp.zeros(values.shape[:-1] + (d, d))
    for c, (a, b) in enumerate((i, j) for i in range(d) for j in range(i + 1, d)):
        out[..., a, b] = values[..., c]
        out[..., b, a] = -values[..., c]
    return out


def interband_propagator(e_nm, same, settings, xp):
    """G_nm / Re P_nm of the interband entropy production: 1/(e_nm^2 + eta^2) (rho1 = "finite_eta") or
    1/e_nm^2 ("dc_limit"), 0 within a level, (k, n, m)."""
    if settings.rho1 == "dc_limit":
        inverse = xp.where(same, 0.0, 1.0 / xp.where(same, 1.0, e_nm))
        return inverse * inverse
    return xp.where(same, 0.0, 1.0 / (e_nm * e_nm + settings.eta**2))


__all__ = ["PairProducts", "antisymmetric_tensor", "interband_propagator", "symmetric_tensor"]
