"""Entropy estimates from count profiles."""

from __future__ import annotations

import math
import numbers
import typing
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy.typing as npt

from . import _core
from ._args import shown as _shown
from ._html import num, table
from ._profile import Profile
from ._units import LN2

__all__ = ["METHODS", "Estimate", "entropy", "entropies"]

Unit = Literal["nats", "bits"]
Method = Literal[
    "plugin",
    "miller_madow",
    "jackknife",
    "grassberger",
    "grassberger_lnN",
    "chao_shen",
    "zhang",
    "shrinkage",
    "dirichlet",
    "nsb",
    "ansb",
    "pym",
]
#: For type checkers: the core's ``CONCENTRATIONS`` (tests/test_requirements.py checks they agree).
ConcentrationName = Literal["jeffreys", "laplace", "perks", "minimax"]
Data = Profile | npt.ArrayLike | Any

#: Every method name ``entropy`` accepts, in table order.
METHODS: tuple[Method, ...] = typing.get_args(Method)

_UNITS: dict[str, float] = {"nats": 1.0, "bits": 1.0 / LN2}


@dataclass(frozen=True)
class Estimate:
    """An entropy estimate with its unit and the sample it came from.

    Attributes
    ----------
    value : float
        The estimate, in ``unit``.
    std : float or None
        Posterior standard deviation (Bayesian methods) or standard error (jackknife,
        ``ansb``) in ``unit``; ``None`` for methods that have none.
    method : str
        The method's name (one of :data:`METHODS`).
    unit : {"nats", "bits"}
        Unit of ``value`` and ``std``.
    n : int
        Number of observations N.
    distinct : int
        Number of distinct outcomes observed.
    alphabet_size : float or None
        The alphabet size K used, if one was given.
    notes : tuple of str
        How the estimate was made where an option was missing, and any warnings.
    warnings : tuple of str
        Reasons to distrust this estimate (e.g. ``ansb`` outside its regime), also issued
        as ``RuntimeWarning``; empty when there are none.

    Examples
    --------
    >>> est = entropy([10, 10], method="plugin", unit="bits")
    >>> float(est), est.unit, est.std is None
    (1.0, 'bits', True)
    """

    value: float
    std: float | None
    method: str
    unit: str
    n: int
    distinct: int
    alphabet_size: float | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __float__(self) -> float:
        return self.value

    def to(self, unit: Unit) -> Estimate:
        """The same estimate in another unit ("nats" or "bits")."""
        scale = _unit_scale(unit) / _UNITS[self.unit]
        std = None if self.std is None else self.std * scale
        return Estimate(
            self.value * scale,
            std,
            self.method,
            unit,
            self.n,
            self.distinct,
            self.alphabet_size,
            self.notes,
            self.warnings,
        )

    def __str__(self) -> str:
        spread = "" if self.std is None else f" ± {self.std:.6g}"
        return f"{self.value:.6g}{spread} {self.unit} ({self.method}, N={self.n})"

    def __repr__(self) -> str:
        std = "" if self.std is None else f" ± {self.std:.4g}"
        notes = f", {len(self.notes)} notes" if self.notes else ""
        return (
            f"Estimate({self.value:.6g}{std} {self.unit}, method={self.method!r}, n={self.n}, "
            f"distinct={self.distinct}{notes})"
        )

    def _repr_html_(self) -> str:
        """The estimate, its spread and sample, and its notes, for notebooks."""
        rows = [[num(self.value), num(self.std), self.unit, self.method, self.n, self.distinct]]
        rows += [[note, "", "", "", "", ""] for note in self.notes]
        header = ["value", "std", "unit", "method", "N", "distinct"]
        return table(f"Estimate ({self.method})", header, rows)


def _unit_scale(unit: str) -> float:
    try:
        return _UNITS[unit]
    except (KeyError, TypeError):
        raise ValueError(f"unit must be one of {sorted(_UNITS)}, got {unit!r}") from None


def _profile_of(data: Data) -> Profile:
    if isinstance(data, Profile):
        return data
    profile = getattr(data, "profile", None)
    if callable(profile):
        result = profile()
        if isinstance(result, Profile):
            return result
    return Profile.from_counts(data)


def _alphabet(alphabet_size: Any) -> float | None:
    if alphabet_size is None:
        return None
    if isinstance(alphabet_size, bool) or not isinstance(alphabet_size, numbers.Real):
        raise TypeError(f"alphabet_size must be a number, got {type(alphabet_size).__name__}")
    try:
        k = float(alphabet_size)
    except OverflowError:
        k = math.inf
    if not math.isfinite(k):
        raise ValueError(f"alphabet_size must be finite, got {_shown(alphabet_size)}")
    return k


def _concentration(concentration: Any) -> float | str | None:
    if concentration is None or isinstance(concentration, str):
        return concentration
    if isinstance(concentration, bool) or not isinstance(concentration, numbers.Real):
        names = ", ".join(repr(name) for name in _core.CONCENTRATIONS)
        raise TypeError(
            f"concentration must be a number or one of {names}, got {type(concentration).__name__}"
        )
    return float(concentration)


def _estimate(
    profile: Profile, method: str, alphabet: float | None, unit: str, concentration: Any
) -> Estimate:
    if not isinstance(method, str):
        raise TypeError(f"method must be a string, got {type(method).__name__}")
    scale = _unit_scale(unit)
    value, std, notes, warns = _core.estimate(
        profile.ks,
        profile.mks,
        method,
        alphabet_size=alphabet,
        concentration=_concentration(concentration),
    )
    for message in warns:
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return Estimate(
        value=value * scale,
        std=None if std is None else std * scale,
        method=method,
        unit=unit,
        n=profile.n,
        distinct=profile.distinct,
        alphabet_size=alphabet,
        notes=tuple(notes) + tuple(warns),
        warnings=tuple(warns),
    )


def entropy(
    data: Data,
    method: Method = "nsb",
    *,
    alphabet_size: float | None = None,
    unit: Unit = "nats",
    concentration: float | ConcentrationName | None = None,
) -> Estimate:
    """Estimate the entropy of the distribution that produced a sample.

    Parameters
    ----------
    data : Profile, array_like of int, or an object with a ``profile()`` method
        The sample: its :class:`Profile`, or a 1-D array of per-outcome counts.
    method : str, default "nsb"
        One of :data:`METHODS` (see Notes).
    alphabet_size : int or float, optional
        The number K of possible outcomes, if known (may exceed 2**64: 50000**5 is fine).
        Needed by ``dirichlet``; used by ``nsb`` (finite-K NSB instead of its K → ∞ limit)
        and ``shrinkage`` (else it shrinks toward the observed outcomes, and says so in
        ``notes``); checked, and otherwise ignored, by the rest.
    unit : {"nats", "bits"}, default "nats"
        Unit of the result.
    concentration : float or {"jeffreys", "laplace", "perks", "minimax"}, optional
        Prior concentration a of ``dirichlet``: 1/2, 1, 1/K or sqrt(N)/K. Default 1/2.

    Returns
    -------
    Estimate
        ``value`` and ``std`` (``None`` for methods without one) in ``unit``.

    Raises
    ------
    ValueError
        Empty or all-zero counts; negative counts; ``alphabet_size`` below the number of
        distinct outcomes; a method that needs coincidences (``nsb`` without K, ``ansb``,
        ``pym``) on a sample where every outcome was seen once; an unknown method or unit.
    TypeError
        Non-integer counts, or an option of the wrong type.

    Warns
    -----
    RuntimeWarning
        ``ansb`` used where coincidences are not few (N - distinct > 0.1 N).

    Notes
    -----
    ``plugin``: maximum likelihood, -Σ p̂ ln p̂. ``miller_madow``: plug-in + (K_obs-1)/(2N).
    ``jackknife``: delete-one jackknife of the plug-in, with its standard error.
    ``grassberger``: ψ(N) - (1/N) Σ n G(n) (Grassberger 2003); ``grassberger_lnN`` has ln N.
    ``chao_shen``: coverage-adjusted Horvitz-Thompson (Chao & Shen 2003). ``zhang``:
    Zhang (2012) = ψ(N) - (1/N) Σ n ψ(n) (Schürmann 2015). ``shrinkage``: James-Stein
    toward uniform (Hausser & Strimmer 2009). ``dirichlet``: posterior mean and std under
    a symmetric Dirichlet(a) prior (Wolpert & Wolf 1995). ``nsb``: Nemenman-Shafee-Bialek
    (2002) posterior mean and std, finite K or its exact K → ∞ limit. ``ansb``: Nemenman's
    (2011) asymptotic NSB, (γ - ln 2) + 2 ln N - ψ(Δ) ± √ψ₁(Δ), Δ = N - K_obs.
    ``pym``: Pitman-Yor mixture (Archer, Park & Pillow 2014) posterior mean and std.

    Examples
    --------
    >>> round(entropy([5, 5, 5, 5], method="plugin", unit="bits").value, 12)
    2.0
    >>> est = entropy([1], method="nsb", alphabet_size=2)   # one draw of a coin
    >>> round(est.value / math.log(2), 12)                # ln 2 / 2, in units of ln 2
    0.5
    """
    return _estimate(_profile_of(data), method, _alphabet(alphabet_size), unit, concentration)


def left_out(method: str, profile: Profile, alphabet: float | None) -> str | None:
    """Why the defaults leave ``method`` out for this sample, or None if they run it: the
    core's requirements (:func:`_core.method_refusal`), and ANSB outside its regime
    (coincidences N - distinct above ``_core.ANSB_REGIME_LIMIT`` N), where it still runs
    when named."""
    refusal = _core.method_refusal(profile.ks, profile.mks, method, alphabet_size=alphabet)
    if refusal is not None:
        return refusal
    coincidences = profile.n - profile.distinct
    limit = _core.ANSB_REGIME_LIMIT
    if method == "ansb" and coincidences > limit * profile.n:
        return (
            f"outside its regime: N - distinct = {coincidences:,} > {limit:g} N "
            "(name it to run it anyway)"
        )
    return None


def entropies(
    data: Data,
    methods: Iterable[str] | None = None,
    *,
    alphabet_size: float | None = None,
    unit: Unit = "nats",
    concentration: float | ConcentrationName | None = None,
) -> dict[str, Estimate]:
    """Estimate the entropy with several methods at once.

    Parameters
    ----------
    data, alphabet_size, unit, concentration
        As for :func:`entropy`.
    methods : iterable of str, optional
        Methods to run. By default every method in :data:`METHODS` that applies to the
        sample: ``dirichlet`` only with ``alphabet_size``; ``nsb`` without K and ``pym``
        only when some outcome was seen twice; ``ansb`` only in its regime, when some
        outcome was seen twice and N - distinct <= 0.1 N; ``jackknife`` only when N >= 2.
        Methods named explicitly raise their errors instead of being skipped.

    Returns
    -------
    dict of str to Estimate
        In the order of ``methods`` (or of :data:`METHODS`).

    Examples
    --------
    >>> sorted(entropies([3, 1, 1], methods=["plugin", "zhang"]))
    ['plugin', 'zhang']
    """
    profile = _profile_of(data)
    alphabet = _alphabet(alphabet_size)
    if methods is None:
        if profile.n == 0:
            raise ValueError("the sample is empty (N = 0): entropy needs at least one observation")
        chosen: list[str] = [m for m in METHODS if left_out(m, profile, alphabet) is None]
    elif isinstance(methods, str):
        raise TypeError("methods must be an iterable of method names, not a single string")
    else:
        chosen = list(methods)
    results: dict[str, Estimate] = {}
    for m in chosen:  # a loop, not a comprehension: warnings then point at the caller
        results[m] = _estimate(profile, m, alphabet, unit, concentration)
    return results
