"""Independent high-precision reference implementations of every fastentropy estimator.

Plain Python + mpmath, written straight from the papers' formulas and deliberately *not*
from the library's rearrangements: slow, but every number comes from an independent route.

* Closed-form estimators (plugin, Miller-Madow, Grassberger, Chao-Shen, ANSB) are evaluated
  at ``DPS`` decimal digits.
* The jackknife is brute force: the plug-in entropy of each of the N leave-one-out samples.
* Zhang's estimator is Zhang (2012)'s original double sum, in exact rational arithmetic
  (``zhang_double_sum_exact``); the psi-form identity of Schurmann (2015) is also available
  exactly (harmonic numbers) so the identity itself can be checked without rounding.
* Shrinkage follows Hausser & Strimmer (2009) over all K bins.
* Dirichlet posterior moments use the classical Wolpert-Wolf / NSB-2002 formula for E[H^2]
  (sum over ordered pairs i != j plus the diagonal), with identical bins grouped
  analytically, evaluated at high precision so E[H^2] - E[H]^2 does not cancel.
* NSB (finite K and the K -> inf limit) and PYM are posterior mixtures integrated with a
  composite Gauss-Legendre rule laid out around the posterior's mode (found by scanning),
  over a window outside which the log-weight has fallen by more than ``_DROP``. Log-space
  normalisation throughout; evidence ratios of Gamma functions with integer offsets are
  computed as exact rising products (stable for any hyper-parameter).
* PYM's 2-D integral (ln alpha, logit d) is a Gauss-Legendre product rule over the same
  kind of windows. Its integrand is evaluated vectorised in float64 by default (``pym``:
  about 1e-14 relative, a few seconds; the float twin is checked against the mpmath version
  point by point in the tests) or entirely in mpmath with ``precise=True`` (minutes).
* Pitman-Yor conditional moments are derived independently of the library's closed forms:
  the posterior is (p_1..p_K, p_*) ~ Dir(n_i - d, alpha + K d) and H = D + p_* H_*, with H_*
  the entropy of an independent PY(d, alpha + K d); E[p_* D] comes from the Dirichlet
  "size-bias" identity E[p_j f(p)] = (a_j/A) E_{Dir(a + e_j)}[f]; the prior moments of H_*
  come from the size-biased stick-breaking (GEM) representation as Beta log-moments.

Every public function takes a sequence of non-negative integer counts (zeros ignored) and
returns mpmath numbers (mpf), in nats.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from itertools import pairwise

import mpmath as mp
import numpy as np
from scipy import special as sps

__all__ = [
    "DPS",
    "profile_of",
    "digamma",
    "trigamma",
    "plugin",
    "miller_madow",
    "jackknife",
    "grassberger",
    "grassberger_lnN",
    "chao_shen",
    "zhang",
    "zhang_double_sum_exact",
    "zhang_psi_form_exact",
    "shrinkage",
    "dirichlet_concentration",
    "dirichlet_moments",
    "dirichlet",
    "beta_log_moments",
    "py_prior_moments",
    "py_conditional_moments",
    "nsb",
    "ansb",
    "pym",
]

#: Working precision (decimal digits) of the reference.
DPS = 30
#: Mixture integrals keep every region where the log-weight is within _DROP of its maximum.
_DROP = 46.0
#: Gauss-Legendre nodes per piece of the composite rules.
_GL_N = 10
#: PYM default q(gamma) = exp(-_Q_SCALE / (1 - gamma)) (Archer, Park & Pillow's default).
_Q_SCALE = 10


# --------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------


def profile_of(counts) -> tuple[tuple[int, int], ...]:
    """((k, m_k), ...) sorted by k, from a sequence of non-negative integer counts."""
    prof: dict[int, int] = {}
    for c in counts:
        c = int(c)
        if c < 0:
            raise ValueError("negative count")
        if c:
            prof[c] = prof.get(c, 0) + 1
    if not prof:
        raise ValueError("no observations")
    return tuple(sorted(prof.items()))


def _nk(prof):
    n = sum(k * m for k, m in prof)
    kobs = sum(m for _, m in prof)
    return n, kobs


# --------------------------------------------------------------------------------------
# Special functions: digamma / trigamma by recurrence + Bernoulli asymptotic series.
# (mpmath's own polygamma is exact but slow; these are checked against it in the tests.)
# --------------------------------------------------------------------------------------

_BERNFRAC: dict[int, tuple[int, int]] = {}
_BERNFIX: dict[tuple[int, int], int] = {}


def _bern_fixed(k2: int, prec: int) -> int:
    """B_{k2} as a fixed-point integer with prec fractional bits."""
    key = (k2, prec)
    b = _BERNFIX.get(key)
    if b is None:
        if k2 not in _BERNFRAC:
            _BERNFRAC[k2] = mp.bernfrac(k2)
        p, q = _BERNFRAC[k2]
        b = _BERNFIX[key] = (abs(p) << prec) // q * (1 if p >= 0 else -1)
    return b


def _to_fixed(x, prec: int) -> int:
    man, exp = mp.mpf(x).man_exp
    shift = exp + prec
    return man << shift if shift >= 0 else -((-man) >> -shift) if man < 0 else man >> -shift


def _from_fixed(v: int, prec: int):
    return mp.mpf((v, -prec))


# z above this goes the floating-point asymptotic route (keeps relative accuracy of 1/z)
_LARGE = 2**16


_ASYM: dict[tuple[int, int], list] = {}


def _asym_coeffs(kind: int):
    """mpf coefficients B_2k/(2k) (digamma) or B_2k (trigamma) at the current precision."""
    key = (kind, mp.mp.prec)
    c = _ASYM.get(key)
    if c is None:
        c = []
        for k in range(1, 60):
            num, den = _bern_frac(2 * k)
            c.append(mp.mpf(num) / (den * 2 * k) if kind == 0 else mp.mpf(num) / den)
        _ASYM[key] = c
    return c


def _asym_terms_mp(z, kind):
    zi2 = 1 / (z * z)
    eps = mp.eps
    if kind == 0:
        s = mp.log(z) - 1 / (2 * z)
        pw = zi2
        sign = -1
    else:
        s = 1 / z + zi2 / 2
        pw = zi2 / z
        sign = 1
    tol = eps * abs(s)
    for c in _asym_coeffs(kind):
        t = c * pw
        s += sign * t
        if abs(t) < tol:
            break
        pw *= zi2
    return s


def _bern_frac(k2: int) -> tuple[int, int]:
    if k2 not in _BERNFRAC:
        _BERNFRAC[k2] = mp.bernfrac(k2)
    return _BERNFRAC[k2]


def _shift_target(prec: int) -> int:
    # asymptotic series error ~ exp(-2 pi z): 2 pi z > prec ln 2 (+ margin)
    return int(prec * 0.6931 / (2 * math.pi)) + 6


def digamma(z):
    """psi(z) for real z > 0 at the current mpmath precision (fixed-point recurrence to
    z >= z0, then the Bernoulli asymptotic series)."""
    z = mp.mpf(z)
    if z <= 0:
        raise ValueError("digamma reference needs z > 0")
    if z >= _LARGE:
        return _asym_terms_mp(z, 0)
    if z < 1:  # keep the (possibly huge) first term in floating point
        return digamma(z + 1) - 1 / z
    prec = mp.mp.prec * 3 // 2 + 40  # guard bits: Bernoulli numbers amplify fixed-point error
    one = 1 << prec
    zf = _to_fixed(z, prec)
    zt = _shift_target(prec)
    acc = 0
    n = 0
    while zf + n * one < zt * one:
        acc -= (one * one) // (zf + n * one)
        n += 1
    w = zf + n * one  # fixed point
    inv = (one * one) // w
    inv2 = (inv * inv) >> prec
    s = -(inv >> 1)
    pw = inv2
    for k in range(1, 400):
        t = (_bern_fixed(2 * k, prec) * pw >> prec) // (2 * k)
        s -= t
        if abs(t) < 4:
            break
        pw = (pw * inv2) >> prec
    return mp.log(_from_fixed(w, prec)) + _from_fixed(s + acc, prec)


def trigamma(z):
    """psi_1(z) for real z > 0 at the current mpmath precision."""
    z = mp.mpf(z)
    if z <= 0:
        raise ValueError("trigamma reference needs z > 0")
    if z >= _LARGE:
        return _asym_terms_mp(z, 1)
    if z < 1:
        return trigamma(z + 1) + 1 / (z * z)
    prec = mp.mp.prec * 3 // 2 + 40  # guard bits: Bernoulli numbers amplify fixed-point error
    one = 1 << prec
    one3 = one * one * one
    zf = _to_fixed(z, prec)
    zt = _shift_target(prec)
    acc = 0
    n = 0
    while zf + n * one < zt * one:
        x = zf + n * one
        acc += one3 // (x * x)
        n += 1
    w = zf + n * one
    inv = (one * one) // w
    inv2 = (inv * inv) >> prec
    s = inv + (inv2 >> 1)
    pw = (inv2 * inv) >> prec
    for k in range(1, 400):
        t = _bern_fixed(2 * k, prec) * pw >> prec
        s += t
        if abs(t) < 4:
            break
        pw = (pw * inv2) >> prec
    return _from_fixed(s + acc, prec)


def _psi1p_minus_psi1(t):
    """psi(1 + t) - psi(1) for t > -1, without cancellation when |t| is small (the
    difference is ~ zeta(2) t; evaluated with as many extra digits as t has leading zeros)."""
    t = mp.mpf(t)
    if t == 0:
        return mp.mpf(0)
    extra = max(0, int(-mp.log10(abs(t)))) + 5
    with mp.workdps(mp.mp.dps + extra):
        r = digamma(1 + t) + mp.euler
    return +r


def _log_rising(x, n: int):
    """ln(x (x+1) ... (x+n-1)), exactly as a product (stable for any x > 0)."""
    p = mp.mpf(1)
    for j in range(n):
        p *= x + j
    return mp.log(p)


# --------------------------------------------------------------------------------------
# Frequentist estimators
# --------------------------------------------------------------------------------------


def _plugin_prof(prof):
    n, _ = _nk(prof)
    n = mp.mpf(n)
    return mp.log(n) - mp.fsum(m * k * mp.log(k) for k, m in prof) / n


def plugin(counts):
    """-sum p ln p with p = n_i / N."""
    with mp.workdps(DPS):
        return +_plugin_prof(profile_of(counts))


def miller_madow(counts):
    """plugin + (K_obs - 1) / (2N)."""
    prof = profile_of(counts)
    n, kobs = _nk(prof)
    with mp.workdps(DPS):
        return _plugin_prof(prof) + mp.mpf(kobs - 1) / (2 * n)


@functools.cache
def _jackknife(prof):
    counts = [k for k, m in prof for _ in range(m)]
    n = sum(counts)
    if n < 2:
        raise ValueError("jackknife needs N >= 2")
    h = _plugin_prof(prof)
    loo = []
    for i, c in enumerate(counts):  # every observation of outcome i ...
        reduced = counts[:i] + [c - 1] + counts[i + 1 :]
        for _ in range(c):  # ... brute force: one leave-one-out sample per observation
            loo.append(_plugin_prof(profile_of(reduced)))
    assert len(loo) == n
    mean = mp.fsum(loo) / n
    est = n * h - mp.mpf(n - 1) / n * mp.fsum(loo)
    var = mp.mpf(n - 1) / n * mp.fsum((x - mean) ** 2 for x in loo)
    return est, mp.sqrt(var)


def jackknife(counts):
    """(delete-one jackknife estimate, jackknife standard error), brute force over N."""
    with mp.workdps(DPS):
        e, s = _jackknife(profile_of(counts))
        return +e, +s


def _grassberger_g(n: int):
    n = mp.mpf(n)
    sign = 1 if int(n) % 2 == 0 else -1
    return digamma(n) + sign * (digamma((n + 1) / 2) - digamma(n / 2)) / 2


def grassberger(counts, log_n: bool = False):
    """psi(N) - (1/N) sum n_i G(n_i) (or ln N instead of psi(N))."""
    prof = profile_of(counts)
    n, _ = _nk(prof)
    with mp.workdps(DPS):
        lead = mp.log(n) if log_n else digamma(n)
        return lead - mp.fsum(m * k * _grassberger_g(k) for k, m in prof) / n


def grassberger_lnN(counts):  # noqa: N802 (method name)
    return grassberger(counts, log_n=True)


def chao_shen(counts):
    """Coverage-adjusted Horvitz-Thompson estimator of Chao & Shen (2003)."""
    prof = profile_of(counts)
    n, _ = _nk(prof)
    f1 = dict(prof).get(1, 0)
    if f1 == n:
        f1 = n - 1
    with mp.workdps(DPS):
        cov = 1 - mp.mpf(f1) / n
        total = mp.mpf(0)
        for k, m in prof:
            pa = cov * k / n
            total += m * (-pa * mp.log(pa) / (1 - (1 - pa) ** n))
        return total


def zhang_double_sum_exact(counts) -> Fraction:
    """Zhang (2012) H_z = sum_{v=1}^{N-1} Z_v / v, exactly, with
    Z_v = N^{v+1} (N-v-1)! / N! * sum_k p_k prod_{j=0}^{v-1} (1 - p_k - j/N), p_k = n_k/N.
    With p_k = n_k/N this is (N-v-1)!/N! * sum_k n_k prod_{j=0}^{v-1} (N - n_k - j)."""
    c = [int(x) for x in counts if int(x) > 0]
    n = sum(c)
    total = Fraction(0)
    prods = [Fraction(1)] * len(c)  # prod_{j<v} (1 - p_k - j/N) for the current v
    for v in range(1, n):
        # N^{v+1} (N-v-1)!/N!  =  N^{v+1} / (N (N-1) ... (N-v))
        pref = Fraction(n ** (v + 1))
        for j in range(v + 1):
            pref /= n - j
        zv = Fraction(0)
        for i, nk in enumerate(c):
            prods[i] *= Fraction(n - nk - (v - 1), n)  # factor j = v-1
            zv += Fraction(nk, n) * prods[i]
        total += pref * zv / v
    return total


def zhang_psi_form_exact(counts) -> Fraction:
    """psi(N) - (1/N) sum n psi(n) = sum_k (n_k/N) (H_{N-1} - H_{n_k-1}), exactly."""
    c = [int(x) for x in counts if int(x) > 0]
    n = sum(c)
    total = Fraction(0)
    for nk in c:
        total += Fraction(nk, n) * sum((Fraction(1, j) for j in range(nk, n)), Fraction(0))
    return total


def zhang(counts):
    """Zhang (2012), from the original double sum (exact), rounded to an mpf."""
    f = zhang_double_sum_exact(counts)
    with mp.workdps(DPS):
        return mp.mpf(f.numerator) / f.denominator


def shrinkage(counts, alphabet_size=None):
    """Hausser & Strimmer (2009) James-Stein shrinkage toward 1/K over all K bins."""
    prof = profile_of(counts)
    n, kobs = _nk(prof)
    with mp.workdps(DPS + 20):
        kk = mp.mpf(kobs if alphabet_size is None else alphabet_size)
        if kk < kobs:
            raise ValueError("alphabet_size below observed")
        t = 1 / kk
        empty = kk - kobs
        theta = [(mp.mpf(k) / n, m) for k, m in prof]
        num = 1 - mp.fsum(m * th**2 for th, m in theta)
        msp = mp.fsum(m * (t - th) ** 2 for th, m in theta) + empty * t**2
        if msp == 0 or n <= 1:
            # One observation leaves the variance in lambda's denominator undefined (n - 1 =
            # 0): the convention is to shrink fully to the target.
            lam = mp.mpf(1)
        else:
            lam = num / ((n - 1) * msp)
        lam = min(max(lam, mp.mpf(0)), mp.mpf(1))
        h = mp.mpf(0)
        for th, m in theta:
            p = lam * t + (1 - lam) * th
            if p > 0:
                h -= m * p * mp.log(p)
        if empty > 0 and lam > 0:
            p = lam * t
            h -= empty * p * mp.log(p)
        return h


# --------------------------------------------------------------------------------------
# Dirichlet posterior moments (Wolpert & Wolf 1995; NSB 2002)
# --------------------------------------------------------------------------------------


def dirichlet_moments(groups):
    """(E[H], E[H^2]) of the entropy of p ~ Dirichlet, bins given as (alpha, multiplicity)
    groups (multiplicity may be huge, e.g. 1e12 empty bins). Classical formulas:

    E[H] = psi(A+1) - sum_i (alpha_i/A) psi(alpha_i+1)
    E[H^2] = sum_{i!=j} alpha_i alpha_j / (A(A+1)) [(psi(alpha_i+1)-psi(A+2))
                                                   (psi(alpha_j+1)-psi(A+2)) - psi1(A+2)]
           + sum_i alpha_i (alpha_i+1) / (A(A+1)) [(psi(alpha_i+2)-psi(A+2))^2
                                                   + psi1(alpha_i+2) - psi1(A+2)]
    """
    groups = [(mp.mpf(a), mp.mpf(m)) for a, m in groups if m > 0 and a > 0]
    big_a = mp.fsum(m * a for a, m in groups)
    psi_a1 = digamma(big_a + 1)
    psi_a2 = psi_a1 + 1 / (big_a + 1)
    tri_a2 = trigamma(big_a + 2)
    eh = psi_a1
    s_au = mp.mpf(0)  # sum_i a_i u_i
    s_a2u2 = mp.mpf(0)  # sum_i a_i^2 u_i^2
    s_a2 = mp.mpf(0)  # sum_i a_i^2
    diag = mp.mpf(0)
    for a, m in groups:
        pa1 = digamma(a + 1)
        eh -= m * a / big_a * pa1
        u = pa1 - psi_a2
        s_au += m * a * u
        s_a2u2 += m * (a * u) ** 2
        s_a2 += m * a * a
        pa2 = pa1 + 1 / (a + 1)
        diag += m * a * (a + 1) * ((pa2 - psi_a2) ** 2 + trigamma(a + 2) - tri_a2)
    # sum over ordered pairs i != j
    off = s_au**2 - s_a2u2 - tri_a2 * (big_a**2 - s_a2)
    eh2 = (off + diag) / (big_a * (big_a + 1))
    return eh, eh2


def dirichlet_concentration(concentration, n, k):
    if concentration is None:
        return mp.mpf("0.5")
    if isinstance(concentration, str):
        name = concentration.lower()
        if name == "jeffreys":
            return mp.mpf("0.5")
        if name == "laplace":
            return mp.mpf(1)
        if name == "perks":
            return 1 / mp.mpf(k)
        if name == "minimax":
            return mp.sqrt(n) / mp.mpf(k)
        raise ValueError(name)
    return mp.mpf(concentration)


def dirichlet(counts, alphabet_size, concentration=None):
    """(posterior mean, posterior std) of H under a symmetric Dirichlet(a) prior on K bins."""
    prof = profile_of(counts)
    n, kobs = _nk(prof)
    with mp.workdps(max(DPS, 60)):
        kk = mp.mpf(alphabet_size)
        if kk < kobs:
            raise ValueError("alphabet_size below observed")
        a = dirichlet_concentration(concentration, n, kk)
        groups = [(k + a, m) for k, m in prof] + [(a, kk - kobs)]
        eh, eh2 = dirichlet_moments(groups)
        return +eh, mp.sqrt(eh2 - eh**2)


# --------------------------------------------------------------------------------------
# Pitman-Yor pieces
# --------------------------------------------------------------------------------------


def beta_log_moments(a, b):
    """Closed-form log-moments of V ~ Beta(a, b) used for the PY prior entropy moments:
    (E[ln V], E[V ln^2 V], E[(1-V) ln V ln(1-V)], E[(1-V) ln V])."""
    a = mp.mpf(a)
    b = mp.mpf(b)
    s = a + b
    e_ln = digamma(a) - digamma(s)
    e_v_ln2 = a / s * ((digamma(a + 1) - digamma(s + 1)) ** 2 + trigamma(a + 1) - trigamma(s + 1))
    e_1mv_ln_ln1m = (
        b
        / s
        * ((digamma(a) - digamma(s + 1)) * (digamma(b + 1) - digamma(s + 1)) - trigamma(s + 1))
    )
    e_1mv_ln = b / s * (digamma(a) - digamma(s + 1))
    return e_ln, e_v_ln2, e_1mv_ln_ln1m, e_1mv_ln


def py_prior_moments(d, theta):
    """(E[H], E[H^2]) of the entropy of p ~ PY(d, theta), from the GEM(d, theta)
    size-biased representation p~_1 = V_1, p~_2 = (1 - V_1) V_2, V_k ~ Beta(1-d, theta+kd):

    E[H]   = E[-ln V_1]
    E[H^2] = E[sum_i p_i^2 ln^2 p_i] + E[sum_{i!=j} p_i p_j ln p_i ln p_j]
           = E[V_1 ln^2 V_1] + E[(1-V_1) ln V_1 (ln(1-V_1) + ln V_2)].
    """
    d = mp.mpf(d)
    theta = mp.mpf(theta)
    e_ln1, e_v_ln2, e_cross, e_1mv_ln = beta_log_moments(1 - d, theta + d)
    e_ln2 = digamma(1 - d) - digamma(theta + d + 1)  # E[ln V_2], V_2 ~ Beta(1-d, theta+2d)
    return -e_ln1, e_v_ln2 + e_cross + e_1mv_ln * e_ln2


class _DCache:
    """Everything about PY(d, .) posterior of a profile that depends on d only."""

    def __init__(self, prof, d):
        self.d = d = mp.mpf(d)
        self.n, self.kobs = _nk(prof)
        self.groups = []
        ev = mp.mpf(0)
        for k, m in prof:
            a = k - d
            pa1 = digamma(a + 1)
            self.groups.append((a, m, pa1, pa1 + 1 / (a + 1), trigamma(a + 2)))
            # Gamma(k - d) / Gamma(1 - d) = prod_{j=1}^{k-1} (j - d)
            p = mp.mpf(1)
            for j in range(1, k):
                p *= j - d
            ev += m * mp.log(p)
        self.log_ev_d = ev
        self.psi_1md = digamma(1 - d)
        self.psi_2md = self.psi_1md + 1 / (1 - d)
        self.tri_1md = trigamma(1 - d)
        self.tri_2md = self.tri_1md - 1 / (1 - d) ** 2
        self.f_md = _psi1p_minus_psi1(-d)  # psi(1-d) - psi(1)


def _py_cond_cached(dc: _DCache, alpha):
    """(E[H | alpha, d, n], E[H^2 | alpha, d, n]) under a PY(d, alpha) prior."""
    d = dc.d
    alpha = mp.mpf(alpha)
    n, kobs = dc.n, dc.kobs
    astar = alpha + kobs * d  # Dirichlet weight of the unseen mass; theta of PY for H_*
    big_a = alpha + n
    # --- Dirichlet part D over (p_1..p_K, p_*) ~ Dir(n_i - d, astar)
    psi_A1 = digamma(big_a + 1)
    psi_A2 = psi_A1 + 1 / (big_a + 1)
    tri_A2 = trigamma(big_a + 2)
    ps1 = digamma(astar + 1)
    ps2 = ps1 + 1 / (astar + 1)
    ts2 = trigamma(astar + 2)
    grp = [(a, m, pa1, pa2, ta2) for a, m, pa1, pa2, ta2 in dc.groups]
    grp.append((astar, 1, ps1, ps2, ts2))
    e_d = psi_A1
    s_au = mp.mpf(0)
    s_a2u2 = mp.mpf(0)
    s_a2 = mp.mpf(0)
    diag = mp.mpf(0)
    for a, m, pa1, pa2, ta2 in grp:
        e_d -= m * a / big_a * pa1
        u = pa1 - psi_A2
        s_au += m * a * u
        s_a2u2 += m * (a * u) ** 2
        s_a2 += m * a * a
        diag += m * a * (a + 1) * ((pa2 - psi_A2) ** 2 + ta2 - tri_A2)
    e_d2 = (s_au**2 - s_a2u2 - tri_A2 * (big_a**2 - s_a2) + diag) / (big_a * (big_a + 1))
    # --- E[p_* D] = (astar/A) E_{Dir(.., astar + 1)}[D]   (A -> A + 1)
    e_d_shift = psi_A2 - (
        mp.fsum(m * a * pa1 for a, m, pa1, _, _ in dc.groups) + (astar + 1) * ps2
    ) / (big_a + 1)
    e_pd = astar / big_a * e_d_shift
    e_p = astar / big_a
    e_p2 = astar * (astar + 1) / (big_a * (big_a + 1))
    # --- prior moments of H_* ~ entropy of PY(d, astar), from Beta(1-d, astar+d) moments
    theta = astar
    s = theta + 1  # a + b with a = 1 - d, b = theta + d
    psi_s1 = ps2  # psi(theta + 2)
    tri_s1 = ts2  # psi1(theta + 2)
    psi_b1 = digamma(theta + d + 1)
    mu_star = ps1 - dc.psi_1md  # E[-ln V_1] = psi(theta + 1) - psi(1 - d)
    a_ = 1 - d
    b_ = theta + d
    t1 = a_ / s * ((dc.psi_2md - psi_s1) ** 2 + dc.tri_2md - tri_s1)
    t2 = b_ / s * ((dc.psi_1md - psi_s1) * (psi_b1 - psi_s1) - tri_s1)
    t3 = b_ / s * (dc.psi_1md - psi_s1) * (dc.psi_1md - psi_b1)
    m2_star = t1 + t2 + t3
    eh = e_d + e_p * mu_star
    eh2 = e_d2 + 2 * mu_star * e_pd + e_p2 * m2_star
    return eh, eh2


def py_conditional_moments(counts, alpha, d):
    """(E[H | n], E[H^2 | n]) under a fixed PY(d, alpha) prior (Dirichlet process: d = 0)."""
    with mp.workdps(DPS):
        return _py_cond_cached(_DCache(profile_of(counts), d), alpha)


# --------------------------------------------------------------------------------------
# Quadrature: composite Gauss-Legendre around the mode, window from a scan
# --------------------------------------------------------------------------------------

_GL: dict[tuple[int, int], list] = {}


def _gl_nodes(n: int):
    """Gauss-Legendre nodes and weights on [-1, 1] at the current precision (Newton)."""
    key = (n, mp.mp.prec)
    if key in _GL:
        return _GL[key]
    out = []
    for i in range(1, n + 1):
        x = mp.cos(mp.pi * (i - mp.mpf(1) / 4) / (n + mp.mpf(1) / 2))
        for _ in range(100):
            p0, p1 = mp.mpf(1), x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < mp.eps * 4:
                break
        p0, p1 = mp.mpf(1), x
        for k in range(2, n + 1):
            p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
        dp = n * (x * p1 - p0) / (x * x - 1)
        out.append((x, 2 / ((1 - x * x) * dp * dp)))
    _GL[key] = out
    return out


_CORE = 20.0


def _window(xs: np.ndarray, lw: np.ndarray, drop: float = _DROP):
    """Mode, local width, window [lo, hi] (log-weight within ``drop`` of its maximum) and
    core [clo, chi] (within _CORE) of a log-weight sampled on an even grid."""
    lw = np.where(np.isfinite(lw), lw, -np.inf)
    i0 = int(np.argmax(lw))
    l0 = lw[i0]
    keep = np.nonzero(lw >= l0 - drop)[0]
    lo, hi = int(keep[0]), int(keep[-1])
    if lo == 0 or hi == len(xs) - 1:
        raise RuntimeError("scan range too small for the posterior window")
    core = np.nonzero(lw >= l0 - _CORE)[0]
    step = xs[1] - xs[0]
    # width: distance over which the log-weight falls by 1/2 (about one sigma)
    left = i0
    while left > 0 and lw[left] > l0 - 0.5:
        left -= 1
    right = i0
    while right < len(xs) - 1 and lw[right] > l0 - 0.5:
        right += 1
    width = max((right - left) * step / 2, step)
    # refine the mode with a parabola through the top three points
    x0 = xs[i0]
    if 0 < i0 < len(xs) - 1:
        a, b, c = lw[i0 - 1], lw[i0], lw[i0 + 1]
        den = a - 2 * b + c
        if den < 0:
            x0 = xs[i0] + step * (a - c) / (2 * den)
    return (
        float(x0),
        float(width),
        float(xs[lo] - step),
        float(xs[hi] + step),
        float(xs[core[0]] - step),
        float(xs[core[-1]] + step),
    )


def _breaks(x0, width, lo, hi, clo, chi, max_step=4.0):
    """Piece boundaries: pieces of about one posterior width (at most 1) over the core,
    growing geometrically (at most max_step) in the far tails."""
    width = min(max(width, 0.02), 1.0)
    out = []
    for direction, core_end, end in ((1, chi, hi), (-1, clo, lo)):
        pts = [x0]
        step = width
        while (pts[-1] - end) * direction < 0:
            if (pts[-1] - core_end) * direction >= 0:
                step = min(step * 1.6, max_step)
            pts.append(pts[-1] + direction * step)
        out.append(pts)
    return out[1][::-1] + out[0][1:]


def _composite(fun, breaks, n=None):
    """sum over pieces of Gauss-Legendre(n) of fun(x) -> tuple of mpf (vector integrand)."""
    nodes = _gl_nodes(n or _GL_N)
    acc = None
    for a, b in pairwise(breaks):
        a = mp.mpf(a)
        b = mp.mpf(b)
        c = (a + b) / 2
        h = (b - a) / 2
        for t, w in nodes:
            vals = fun(c + h * t)
            if acc is None:
                acc = [mp.mpf(0)] * len(vals)
            for j, v in enumerate(vals):
                acc[j] += h * w * v
    return acc


def _mixture(logw, moments, scan, xs, n=None):
    """Posterior mean and std of H for a 1-D mixture: weight exp(logw(x)) (mpf), conditional
    moments moments(x) -> (E[H|x], E[H^2|x]); scan(xs): float64 log-weight on the grid xs,
    only used to place the quadrature pieces."""
    x0, width, lo, hi, clo, chi = _window(xs, scan(xs))
    ref = logw(mp.mpf(x0))

    def fun(x):
        w = mp.exp(logw(x) - ref)
        m1, m2 = moments(x)
        return w, w * m1, w * m2

    z, s1, s2 = _composite(fun, _breaks(x0, width, lo, hi, clo, chi), n)
    mean = s1 / z
    return mean, mp.sqrt(s2 / z - mean**2)


# --------------------------------------------------------------------------------------
# NSB
# --------------------------------------------------------------------------------------


@functools.cache
def _nsb_finite(prof, k, n_gl):
    n, kobs = _nk(prof)
    kk = mp.mpf(k)
    if kk < kobs:
        raise ValueError("alphabet_size below observed")
    if kk <= 1:
        raise ValueError("NSB needs K > 1")

    def logw(x):
        beta = mp.exp(x)
        # prior K psi1(K beta + 1) - psi1(beta + 1): cancels ~1/beta digits for beta >> 1
        extra = max(0, int(float(x) / 2.3)) + 8
        with mp.workdps(mp.mp.dps + extra):
            b = mp.exp(x)
            prior = kk * trigamma(kk * b + 1) - trigamma(b + 1)
        lp = mp.log(prior) + x  # d beta = beta dx
        # evidence Gamma(K b)/Gamma(N + K b) prod_i Gamma(n_i + b)/Gamma(b), as rising products
        ev = -_log_rising(kk * beta, n)
        for kc, m in prof:
            ev += m * _log_rising(beta, kc)
        return lp + ev

    def moments(x):
        beta = mp.exp(x)
        groups = [(kc + beta, m) for kc, m in prof]
        if kk > kobs:
            groups.append((beta, kk - kobs))
        return dirichlet_moments(groups)

    def scan(xs):
        beta = np.exp(xs)
        with np.errstate(all="ignore"):
            exact = k * sps.polygamma(1, k * beta + 1) - sps.polygamma(1, beta + 1)
            asym = (1 - 1 / k) / (2 * beta**2) - (1 - 1 / k**2) / (6 * beta**3)
            prior = np.where(beta < 1e3, exact, asym)
            lw = np.log(prior) + xs
            for j in range(n):
                lw -= np.log(k * beta + j)
            for kc, m in prof:
                for j in range(kc):
                    lw += m * np.log(beta + j)
        return lw

    xs = np.arange(-90.0, 140.0, 0.25)
    with mp.workdps(DPS):
        return _mixture(logw, moments, scan, xs, n_gl)


@functools.cache
def _nsb_infinite(prof, n_gl):
    n, kobs = _nk(prof)
    if n <= kobs:
        raise ValueError("NSB with K -> inf needs a coincidence")
    dc = None

    def logw(x):
        kappa = mp.exp(x)
        # prior psi1(kappa+1) d kappa = psi1(kappa+1) kappa dx; evidence
        # kappa^{K_obs} Gamma(kappa)/Gamma(N+kappa) = kappa^{K_obs - 1} / prod_{j=1}^{N-1}(kappa+j)
        return mp.log(trigamma(kappa + 1)) + kobs * x - _log_rising(kappa + 1, n - 1)

    def moments(x):
        return _py_cond_cached(dc, mp.exp(x))

    def scan(xs):
        kappa = np.exp(xs)
        lw = np.log(sps.polygamma(1, kappa + 1)) + kobs * xs
        for j in range(1, n):
            lw -= np.log(kappa + j)
        return lw

    xs = np.arange(-90.0, 140.0, 0.25)
    with mp.workdps(DPS):
        dc = _DCache(prof, 0)
        return _mixture(logw, moments, scan, xs, n_gl)


def nsb(counts, alphabet_size=None, n_gl=None):
    """(posterior mean, posterior std) of NSB, finite K or the K -> inf limit (None)."""
    prof = profile_of(counts)
    if alphabet_size is None:
        return _nsb_infinite(prof, n_gl)
    return _nsb_finite(prof, alphabet_size, n_gl)


def ansb(counts):
    """Nemenman (2011): (gamma - ln 2) + 2 ln N - psi(Delta), std sqrt(psi1(Delta))."""
    prof = profile_of(counts)
    n, kobs = _nk(prof)
    delta = n - kobs
    if delta < 1:
        raise ValueError("ANSB needs a coincidence")
    with mp.workdps(DPS):
        return (mp.euler - mp.log(2) + 2 * mp.log(n) - digamma(delta), mp.sqrt(trigamma(delta)))


# --------------------------------------------------------------------------------------
# PYM
# --------------------------------------------------------------------------------------


_ZETA_F = [float(mp.zeta(k)) for k in range(2, 40)]


def _f_small(t: np.ndarray) -> np.ndarray:
    """psi(1 + t) - psi(1) in float64, by its Taylor series sum_{k>=2} (-1)^k zeta(k) t^{k-1}
    for |t| < 0.05 (no cancellation) and directly otherwise."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    small = np.abs(t) < 0.05
    ts = t[small]
    acc = np.zeros_like(ts)
    pw = ts.copy()
    for k, z in enumerate(_ZETA_F[:16], start=2):
        acc += (1 if k % 2 == 0 else -1) * z * pw
        pw = pw * ts
    out[small] = acc
    big = ~small
    out[big] = sps.digamma(1 + t[big]) - sps.digamma(1.0)
    return out


def _pym_logw_float(prof, xs, ys, jacobian=True):
    """float64 log-weight of the PYM posterior in (x, y) = (ln alpha, logit d) on the grid
    (ys rows, xs columns): prior q(gamma) [|d(h,gamma)/d(alpha,d)|] times the evidence,
    times the Jacobians alpha and d(1-d) of the change of variables."""
    n, kobs = _nk(prof)
    x = np.asarray(xs, dtype=float)[None, :]
    y = np.asarray(ys, dtype=float)[:, None]
    alpha = np.exp(x)
    d = 1.0 / (1.0 + np.exp(-y))
    omd = 1.0 / (1.0 + np.exp(y))
    with np.errstate(all="ignore"):
        f_a = _f_small(np.broadcast_to(alpha, np.broadcast(x, y).shape))  # psi(a+1)-psi(1)
        f_d = -_f_small(np.broadcast_to(-d, np.broadcast(x, y).shape))  # psi(1)-psi(1-d)
        h = f_a + f_d  # psi(alpha+1) - psi(1-d)
        lw = -_Q_SCALE * h / f_a  # ln q(gamma), 1 - gamma = f_a / h
        if jacobian:
            lw = lw + np.log(sps.polygamma(1, alpha + 1)) + np.log(sps.polygamma(1, omd))
            lw = lw - np.log(h)
        lw = lw + x - np.logaddexp(0, -y) - np.logaddexp(0, y)  # d alpha, d d Jacobians
        ev = np.zeros(np.broadcast(x, y).shape)
        for l_ in range(1, kobs):
            ev = ev + np.log(alpha + l_ * d)
        for j in range(1, n):
            ev = ev - np.log(alpha + j)
        for k, m in prof:
            for j in range(1, k):
                ev = ev + m * np.log(j - d)
        lw = lw + ev
    return np.where(np.isfinite(lw), lw, -np.inf)


def _py_cond_float(prof, alpha: np.ndarray, d: float, omd: float):
    """Vectorised float64 twin of _py_cond_cached (same derivation), for the 2-D PYM
    integral; checked against the mpmath version point by point in the tests."""
    n, kobs = _nk(prof)
    dg, tg = sps.digamma, lambda z: sps.polygamma(1, z)
    astar = alpha + kobs * d
    big_a = alpha + n
    psi_A1 = dg(big_a + 1)
    psi_A2 = psi_A1 + 1 / (big_a + 1)
    tri_A2 = tg(big_a + 2)
    ps1 = dg(astar + 1)
    ps2 = ps1 + 1 / (astar + 1)
    ts2 = tg(astar + 2)
    sum_apa1 = astar * ps1
    s_au = astar * (ps1 - psi_A2)
    s_a2u2 = (astar * (ps1 - psi_A2)) ** 2
    s_a2 = astar**2
    diag = astar * (astar + 1) * ((ps2 - psi_A2) ** 2 + ts2 - tri_A2)
    sum_obs_apa1 = 0.0
    for k, m in prof:
        a = k - d
        pa1 = float(dg(a + 1))
        pa2 = pa1 + 1 / (a + 1)
        ta2 = float(tg(a + 2))
        sum_obs_apa1 += m * a * pa1
        u = pa1 - psi_A2
        s_au = s_au + m * a * u
        s_a2u2 = s_a2u2 + m * (a * u) ** 2
        s_a2 = s_a2 + m * a * a
        diag = diag + m * a * (a + 1) * ((pa2 - psi_A2) ** 2 + ta2 - tri_A2)
    sum_apa1 = sum_apa1 + sum_obs_apa1
    e_d = psi_A1 - sum_apa1 / big_a
    e_d2 = (s_au**2 - s_a2u2 - tri_A2 * (big_a**2 - s_a2) + diag) / (big_a * (big_a + 1))
    e_d_shift = psi_A2 - (sum_obs_apa1 + (astar + 1) * ps2) / (big_a + 1)
    e_pd = astar / big_a * e_d_shift
    e_p = astar / big_a
    e_p2 = astar * (astar + 1) / (big_a * (big_a + 1))
    psi_1md = float(dg(omd))
    psi_2md = psi_1md + 1 / omd
    tri_1md = float(tg(omd))
    tri_2md = tri_1md - 1 / omd**2
    s = astar + 1
    psi_b1 = dg(astar + d + 1)
    mu_star = ps1 - psi_1md
    t1 = omd / s * ((psi_2md - ps2) ** 2 + tri_2md - ts2)
    t2 = (astar + d) / s * ((psi_1md - ps2) * (psi_b1 - ps2) - ts2)
    t3 = (astar + d) / s * (psi_1md - ps2) * (psi_1md - psi_b1)
    m2_star = t1 + t2 + t3
    return e_d + e_p * mu_star, e_d2 + 2 * mu_star * e_pd + e_p2 * m2_star


def _composite_nodes(breaks, n):
    """float64 nodes and weights of the composite Gauss-Legendre rule on the pieces."""
    t, w = np.polynomial.legendre.leggauss(n)
    a = np.asarray(breaks[:-1], dtype=float)[:, None]
    b = np.asarray(breaks[1:], dtype=float)[:, None]
    return ((a + b) / 2 + (b - a) / 2 * t).ravel(), ((b - a) / 2 * w).ravel()


_XS = np.arange(-60.0, 140.0, 0.25)
_YS = np.arange(-70.0, 40.0, 0.25)


def _pym_float(prof, jacobian, n_gl):
    n, kobs = _nk(prof)
    grid = _pym_logw_float(prof, _XS, _YS, jacobian)
    gmax = grid.max()
    with np.errstate(all="ignore"):
        rowmax = grid.max(axis=1)
        marg = rowmax + np.log(np.sum(np.exp(grid - rowmax[:, None]), axis=1))
    ywin = _window(_YS, np.where(np.isfinite(marg), marg, -np.inf))
    y_nodes, y_w = _composite_nodes(_breaks(*ywin), n_gl)
    z = s1 = s2 = 0.0
    for y, wy in zip(y_nodes, y_w, strict=True):
        row = _pym_logw_float(prof, _XS, np.array([y]), jacobian)[0]
        xwin = _window(_XS, row)
        x_nodes, x_w = _composite_nodes(_breaks(*xwin), n_gl)
        lw = _pym_logw_float(prof, x_nodes, np.array([y]), jacobian)[0]
        w = wy * x_w * np.exp(lw - gmax)
        d = 1.0 / (1.0 + math.exp(-y))
        omd = 1.0 / (1.0 + math.exp(y))
        m1, m2 = _py_cond_float(prof, np.exp(x_nodes), d, omd)
        z += math.fsum(w)
        s1 += math.fsum(w * m1)
        s2 += math.fsum(w * m2)
    mean = s1 / z
    return mean, math.sqrt(s2 / z - mean**2)


def _pym_mp(prof, jacobian, n_gl):
    n, kobs = _nk(prof)
    grid = _pym_logw_float(prof, _XS, _YS, jacobian)
    gmax = grid.max()
    with np.errstate(all="ignore"):
        rowmax = grid.max(axis=1)
        marg = rowmax + np.log(np.sum(np.exp(grid - rowmax[:, None]), axis=1))
    ywin = _window(_YS, np.where(np.isfinite(marg), marg, -np.inf))

    def logw_mp(x, dc, y_log_jac):
        alpha = mp.exp(x)
        f_a = _psi1p_minus_psi1(alpha)  # psi(alpha+1) - psi(1)
        h = f_a - dc.f_md  # psi(alpha+1) - psi(1-d)
        lp = -_Q_SCALE * h / f_a  # ln q(gamma), 1 - gamma = f_a / h
        if jacobian:
            lp += mp.log(trigamma(alpha + 1)) + mp.log(dc.tri_1md) - mp.log(h)
        lp += x + y_log_jac
        num = mp.mpf(1)
        for l_ in range(1, kobs):
            num *= alpha + l_ * dc.d
        ev = mp.log(num) - _log_rising(alpha + 1, n - 1) + dc.log_ev_d
        return lp + ev

    def inner(y):
        d = 1 / (1 + mp.exp(-y))
        dc = _DCache(prof, d)
        y_log_jac = -mp.log1p(mp.exp(-y)) - mp.log1p(mp.exp(y))
        row = _pym_logw_float(prof, _XS, np.array([float(y)]), jacobian)[0]
        xwin = _window(_XS, row)

        def fun(x):
            w = mp.exp(logw_mp(x, dc, y_log_jac) - gmax)
            m1, m2 = _py_cond_cached(dc, mp.exp(x))
            return w, w * m1, w * m2

        return _composite(fun, _breaks(*xwin), n_gl)

    with mp.workdps(DPS):
        z, s1, s2 = _composite(inner, _breaks(*ywin), n_gl)
        mean = s1 / z
        return mean, mp.sqrt(s2 / z - mean**2)


@functools.cache
def _pym(prof, jacobian, n_gl, precise):
    n, kobs = _nk(prof)
    if n <= kobs:
        raise ValueError("PYM needs a coincidence")
    if precise:
        return _pym_mp(prof, jacobian, n_gl or _GL_N)
    return _pym_float(prof, jacobian, n_gl or 16)


def pym(counts, jacobian=True, n_gl=None, precise=False):
    """(posterior mean, posterior std) of the Pitman-Yor mixture (Archer, Park & Pillow 2014)
    with p(alpha, d) ∝ q(gamma) |d(h, gamma)/d(alpha, d)| (jacobian=True, flat in
    h = psi(alpha+1) - psi(1-d)) or ∝ q(gamma) only (jacobian=False, as the authors'
    MATLAB toolbox computes it), q(gamma) = exp(-10/(1-gamma)), alpha > 0, 0 <= d < 1.

    The 2-D integral over (ln alpha, logit d) is a composite Gauss-Legendre product rule.
    precise=False (default) evaluates the integrand vectorised in float64 (the same
    formulas as the mpmath path; ~1e-14 relative), which takes about a second;
    precise=True evaluates everything in mpmath at DPS digits and takes minutes."""
    return _pym(profile_of(counts), bool(jacobian), n_gl, bool(precise))
