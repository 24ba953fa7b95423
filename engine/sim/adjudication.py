"""Adjudication formulas: search/detection, salvo combat and kill-chain probabilities.

Every function here is pure: it takes keyword arguments, validates them, and returns a plain
Python ``float``. Nothing here touches simpy, I/O or module-level state; the only randomness is
the :class:`numpy.random.Generator` handed in explicitly to :func:`stochastic_salvo_losses`.

Sources
-------
* Koopman, B. O. (1946/1980), *Search and Screening*; Washburn, A. R., *Search and Detection*:
  random-search law ``P = 1 - exp(-W v t / A)`` and definite-range (exhaustive) search
  ``P = min(1, W v t / A)``.
* Hughes, W. P. (1995), "A Salvo Model of Warships in Missile Combat Used to Evaluate Their
  Staying Power", *Naval Research Logistics* 42: ``dB = (s*a*A - d*b3*B) / b1``.
* Armstrong, M. J. (2005), "A Stochastic Salvo Model for Naval Surface Combat",
  *Operations Research* 53(5): binomial shots and intercepts with normally distributed
  damage per hit.

Invalid input (negative sizes, probabilities outside ``[0, 1]``, NaN, infinities, unknown
search law, ...) raises :class:`ValueError` naming the argument and the offending value.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "SEARCH_LAWS",
    "detection_probability",
    "hazard_rate",
    "kill_chain_probability",
    "salvo_losses",
    "stochastic_salvo_losses",
]

SEARCH_LAWS: tuple[str, ...] = ("random", "exhaustive")


# --------------------------------------------------------------------------- validation helpers


def _real(name: str, value: object) -> float:
    """Return ``value`` as a finite float, or raise ValueError naming ``name``."""
    kind = type(value)
    if kind is float or kind is int:  # the kernel's hot path: skip the slow ABC check
        if value - value == 0:  # false for inf and nan
            return float(value)
        raise ValueError(f"{name} must be finite, got {value!r}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _non_negative(name: str, value: object) -> float:
    """Return ``value`` as a finite float >= 0, or raise ValueError naming ``name``."""
    result = _real(name, value)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return result


def _positive(name: str, value: object) -> float:
    """Return ``value`` as a finite float > 0, or raise ValueError naming ``name``."""
    result = _real(name, value)
    if result <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return result


def _probability(name: str, value: object) -> float:
    """Return ``value`` as a float in [0, 1], or raise ValueError naming ``name``."""
    result = _real(name, value)
    if not 0.0 <= result <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return result


def _count(name: str, value: object) -> int:
    """Return ``value`` as a non-negative int, or raise ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    result = int(value)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return result


# --------------------------------------------------------------------------- search and detection


def hazard_rate(*, sweep_width: float, speed: float, area: float) -> float:
    """Detection hazard per hour, lambda = W*v/A (Koopman 1946/1980 random-search rate)."""
    w = _non_negative("sweep_width", sweep_width)
    v = _non_negative("speed", speed)
    a = _positive("area", area)
    return float(w * v / a)


def detection_probability(
    *,
    sweep_width: float,
    speed: float,
    hours: float,
    area: float,
    law: str = "random",
) -> float:
    """P = 1 - exp(-W*v*t/A) ("random", Koopman; Washburn) or min(1, W*v*t/A) ("exhaustive")."""
    if law not in SEARCH_LAWS:
        raise ValueError(f"law must be one of {SEARCH_LAWS}, got {law!r}")
    rate = hazard_rate(sweep_width=sweep_width, speed=speed, area=area)
    t = _non_negative("hours", hours)
    coverage = rate * t
    probability = -math.expm1(-coverage) if law == "random" else min(1.0, coverage)
    return float(min(1.0, max(0.0, probability)))


# --------------------------------------------------------------------------- salvo combat


def salvo_losses(
    *,
    shooters: float,
    offense: float,
    targets: float,
    defense: float,
    staying_power: float,
    scouting: float = 1.0,
    alertness: float = 1.0,
) -> float:
    """dB = (s*a*A - d*b3*B)/b1 clipped to [0, B] (Hughes 1995, Naval Research Logistics 42)."""
    n_shooters = _non_negative("shooters", shooters)
    a = _non_negative("offense", offense)
    n_targets = _non_negative("targets", targets)
    b3 = _non_negative("defense", defense)
    b1 = _positive("staying_power", staying_power)
    s = _probability("scouting", scouting)
    d = _probability("alertness", alertness)
    losses = (s * a * n_shooters - d * b3 * n_targets) / b1
    return float(min(n_targets, max(0.0, losses)))


def stochastic_salvo_losses(
    rng: np.random.Generator,
    *,
    shooters: int,
    missiles_per_shooter: int,
    p_hit: float,
    targets: float,
    interceptors_per_target: int,
    p_intercept: float,
    loss_per_hit: float,
    loss_per_hit_sd: float,
) -> float:
    """Loss = sum_k max(0, V_k), K = max(0, Bin(mA, p) - Bin(i*ceil(B), q)) (Armstrong 2005)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
    n_shooters = _count("shooters", shooters)
    per_shooter = _count("missiles_per_shooter", missiles_per_shooter)
    p = _probability("p_hit", p_hit)
    n_targets = _non_negative("targets", targets)
    per_target = _count("interceptors_per_target", interceptors_per_target)
    q = _probability("p_intercept", p_intercept)
    mean_loss = _non_negative("loss_per_hit", loss_per_hit)
    sd_loss = _non_negative("loss_per_hit_sd", loss_per_hit_sd)

    good_shots = int(rng.binomial(per_shooter * n_shooters, p))
    intercepts = int(rng.binomial(per_target * math.ceil(n_targets), q))
    hits = max(0, good_shots - intercepts)
    if hits == 0:
        return 0.0
    damage = np.clip(rng.normal(mean_loss, sd_loss, size=hits), 0.0, None)
    return float(min(n_targets, max(0.0, float(damage.sum()))))


# --------------------------------------------------------------------------- kill chain


def kill_chain_probability(*, p_detect: float, p_communicate: float, p_hit: float) -> float:
    """P(kill chain) = p_detect * p_communicate * p_hit (independent links in series)."""
    detect = _probability("p_detect", p_detect)
    communicate = _probability("p_communicate", p_communicate)
    hit = _probability("p_hit", p_hit)
    return float(detect * communicate * hit)
