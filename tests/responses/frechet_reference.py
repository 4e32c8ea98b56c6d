"""High-precision references (mpmath) for the second- and third-order Frechet responses at one k-point.

Written directly from the definitions, with none of the stabilised forms of qgtransport: the f-space
divided differences of phi(f) = ln((1 - f)/f) and s(f) = -f ln f - (1 - f) ln(1 - f) as they appear in
the Frechet expansions (Daleckii-Krein), rho(1) and rho(2) of the single-eta equation of motion from
divided differences of Lambda(x, y) = G(x, y)/(eta + i(x - y)), G the divided difference of f in
energy. Their cancellations (phi^[2] ~ e^{2|x|} against rho(1)^3 ~ e^{-3|x|}) are absorbed by working
with enough digits: `digits_for` gives max|x|/2 + 40 significant digits. Contracted with one field
direction n to keep the cost at n_bands^3 scalar products: Pi(3)(n) = Pi_abc n_a n_b n_c and
j^s(2)_a(n) = chi^s_abc n_b n_c. Generic k-points only (no two band energies equal).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np


def digits_for(energies, mu, T) -> int:
    return int(40 + np.max(np.abs((np.asarray(energies) - mu) / T)) / 2)


class Reference:
    """One k-point: energies e_n (natural units), v^a_mn (a, n, n), W^ab_mn (a, b, n, n), mu, T, eta and
    the field direction n (the model's dimension). Construct and call within mp.workdps(digits_for(...))."""

    def __init__(self, energies, velocity, curvature, mu, T, eta, direction):
        d = np.asarray(direction, dtype=float)
        N = self.N = len(energies)
        self.va = velocity
        e = self.e = [mp.mpf(float(x)) for x in energies]
        mu, T, self.eta = mp.mpf(float(mu)), mp.mpf(float(T)), mp.mpf(float(eta))
        x = self.x = [(en - mu) / T for en in e]
        ex = [mp.exp(xn) for xn in x]
        f = self.f = [1 / (1 + q) for q in ex]
        s = [f[n] * mp.log1p(ex[n]) + (1 - f[n]) * mp.log1p(1 / ex[n]) for n in range(N)]
        # f_a - f_b without cancellation between numbers close to 1
        df = self.df = [[(ex[b] - ex[a]) / ((1 + ex[a]) * (1 + ex[b])) for b in range(N)] for a in range(N)]
        variance = [f[n] * (1 - f[n]) for n in range(N)]
        # G_ab = (f_a - f_b)/(e_a - e_b), f'(e_a) = -f(1 - f)/T on the diagonal; dG_ab/de_a
        G = [[df[a][b] / (e[a] - e[b]) if a != b else -variance[a] / T for b in range(N)] for a in range(N)]
        G_first = [[(-variance[a] / T * (e[a] - e[b]) - df[a][b]) / (e[a] - e[b]) ** 2 if a != b else
                    variance[a] * (1 - 2 * f[a]) / T**2 / 2 for b in range(N)] for a in range(N)]
        den = [[self.eta + 1j * (e[a] - e[b]) for b in range(N)] for a in range(N)]
        self.Lam = [[G[a][b] / den[a][b] for b in range(N)] for a in range(N)]
        self.dLam_x = [[G_first[a][b] / den[a][b] - 1j * G[a][b] / den[a][b] ** 2 for b in range(N)] for a in range(N)]
        self.dLam_y = [[G_first[b][a] / den[a][b] + 1j * G[a][b] / den[a][b] ** 2 for b in range(N)] for a in range(N)]
        self.den = den
        vn = np.einsum("a,amn->mn", d, velocity)
        wn = np.einsum("a,b,abmn->mn", d, d, curvature)
        self.vn = [[mp.mpc(complex(vn[m, n])) for n in range(N)] for m in range(N)]
        self.wn = [[mp.mpc(complex(wn[m, n])) for n in range(N)] for m in range(N)]
        # f-space first divided differences of phi and s (phi'(f) = -1/(f(1-f)), s'(f) = phi(f) = x)
        self.phi1 = [[(x[a] - x[b]) / df[a][b] if a != b else -1 / variance[a] for b in range(N)] for a in range(N)]
        self.s1 = [[(s[a] - s[b]) / df[a][b] if a != b else x[a] for b in range(N)] for a in range(N)]
        self.phi_second = [(1 - 2 * f[n]) / (2 * variance[n] ** 2) for n in range(N)]
        self.s_second = [-1 / (2 * variance[n]) for n in range(N)]

    def second(self, first, diagonal, a, b, c):
        """h[f_a, f_b, f_c] from the first divided differences (symmetric; h''/2 at a = b = c)."""
        if a == c:
            if a == b:
                return diagonal[a]
            return (first[a][b] - first[a][a]) / self.df[b][a]
        return (first[a][b] - first[b][c]) / self.df[a][c]

    def rho1(self):
        return [[self.Lam[m][n] * self.vn[m][n] for n in range(self.N)] for m in range(self.N)]

    def rho2(self):
        """[Lambda W + sum_l v v (Lambda[ml;n] + Lambda[m;ln])]_mn/(eta + i e_mn) along n."""
        N, e, Lam = self.N, self.e, self.Lam
        out = [[mp.mpc(0)] * N for _ in range(N)]
        for m in range(N):
            for n in range(N):
                total = Lam[m][n] * self.wn[m][n]
                for ll in range(N):
                    first = self.dLam_x[m][n] if ll == m else (Lam[ll][n] - Lam[m][n]) / (e[ll] - e[m])
                    second = self.dLam_y[m][n] if ll == n else (Lam[m][ll] - Lam[m][n]) / (e[ll] - e[n])
                    total += self.vn[m][ll] * self.vn[ll][n] * (first + second)
                out[m][n] = total / self.den[m][n]
        return out

    def entropy_production_third_order(self):
        """Pi(3)(n) = -eta Re{2 sum phi^[1]_mn rho1_mn rho2_nm + sum phi^[2]_mln rho1_ml rho1_ln rho1_nm}."""
        r1, r2, N = self.rho1(), self.rho2(), self.N
        cross = mp.fsum(self.phi1[m][n] * r1[m][n] * r2[n][m] for m in range(N) for n in range(N))
        cubic = mp.fsum(self.second(self.phi1, self.phi_second, m, ll, n) * r1[m][ll] * r1[ll][n] * r1[n][m]
                        for m in range(N) for ll in range(N) for n in range(N))
        return -self.eta * mp.re(2 * cross + cubic)

    def second_order_entropy_current(self):
        """j^s(2)_a(n) = Re sum_mn v^a_nm [s^[1]_mn rho2_mn + sum_l s^[2]_mln rho1_ml rho1_ln], shape (a,)."""
        r1, r2, N = self.rho1(), self.rho2(), self.N
        operator = [[self.s1[m][n] * r2[m][n] + mp.fsum(
            self.second(self.s1, self.s_second, m, ll, n) * r1[m][ll] * r1[ll][n] for ll in range(N))
            for n in range(N)] for m in range(N)]
        return [mp.re(mp.fsum(mp.mpc(complex(self.va[a, n, m])) * operator[m][n] for m in range(N) for n in range(N)))
                for a in range(self.va.shape[0])]
