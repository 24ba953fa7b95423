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

import functools
import math
import numbers
from dataclasses import dataclass
from typing import cast

import numpy as np

__all__ = [
    "SEARCH_LAWS",
    "SalvoDraws",
    "battery_salvo",
    "delivery_probability",
    "detection_probability",
    "detection_time",
    "expected_route_delay",
    "expected_salvo_loss",
    "hazard_rate",
    "kill_chain_probability",
    "link_latency",
    "link_loss_probability",
    "salvo_losses",
    "search_probability",
    "stochastic_salvo",
    "stochastic_salvo_losses",
]

SEARCH_LAWS: tuple[str, ...] = ("random", "exhaustive")
_INF = math.inf


# --------------------------------------------------------------------------- validation helpers


def _real(name: str, value: object) -> float:
    """Return ``value`` as a finite float, or raise ValueError naming ``name``."""
    kind = type(value)
    if kind is float or kind is int:  # the kernel's hot path: skip the slow ABC check
        number = cast("float", value)  # the type test above, which mypy cannot follow
        if number - number == 0:  # false for inf and nan
            return float(number)
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
    rate = hazard_rate(sweep_width=sweep_width, speed=speed, area=area)
    return search_probability(hazard=rate, hours=hours, law=law)


def search_probability(*, hazard: float, hours: float, law: str = "random") -> float:
    """P(detect) for a search hazard lambda over t hours: 1 - exp(-lambda*t) or min(1, lambda*t)."""
    if law not in SEARCH_LAWS:
        raise ValueError(f"law must be one of {SEARCH_LAWS}, got {law!r}")
    if not (type(hazard) is float and type(hours) is float  # the kernel's hot path
            and 0.0 <= hazard < _INF and 0.0 <= hours < _INF):
        hazard, hours = _non_negative("hazard", hazard), _non_negative("hours", hours)
    coverage = hazard * hours
    probability = -math.expm1(-coverage) if law == "random" else min(1.0, coverage)
    return float(min(1.0, max(0.0, probability)))


def detection_time(*, draw: float, hazard: float, law: str = "random") -> float:
    """Hours into a search at which a detection decided by ``draw`` happens: the inverse of the
    law's time distribution, -ln(1-u)/lambda (random) or u/lambda (exhaustive), so one draw
    decides both whether and when."""
    u, rate = draw, hazard
    if not (type(u) is float and type(rate) is float  # the kernel's hot path
            and 0.0 <= u <= 1.0 and 0.0 < rate < _INF):
        u, rate = _probability("draw", draw), _positive("hazard", hazard)
    return float(u / rate if law == "exhaustive" else -math.log1p(-u) / rate)


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


@dataclass(frozen=True)
class SalvoDraws:
    """Every draw of one stochastic salvo, so a student can see why it ended as it did."""

    good_shots: int
    intercepts: int
    hits: int
    damage: tuple[float, ...]
    loss: float


def stochastic_salvo(
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
) -> SalvoDraws:
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
        return SalvoDraws(good_shots, intercepts, 0, (), 0.0)
    damage = np.clip(rng.normal(mean_loss, sd_loss, size=hits), 0.0, None)
    loss = float(min(n_targets, max(0.0, float(damage.sum()))))
    return SalvoDraws(good_shots, intercepts, hits, tuple(float(d) for d in damage), loss)


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
    """The ships lost in one stochastic salvo (see :func:`stochastic_salvo`)."""
    return stochastic_salvo(
        rng, shooters=shooters, missiles_per_shooter=missiles_per_shooter, p_hit=p_hit,
        targets=targets, interceptors_per_target=interceptors_per_target,
        p_intercept=p_intercept, loss_per_hit=loss_per_hit,
        loss_per_hit_sd=loss_per_hit_sd).loss


def battery_salvo(*, launchers: float, magazine: int, ready_share: float,
                  missiles_per_launcher: int) -> tuple[int, int]:
    """(shooters, missiles each) of one battery's salvo: its ready launchers (at least one),
    each firing ``missiles_per_launcher`` or what the magazine still allows; (0, 0) when it
    cannot fire. The engine and Red's estimate size every salvo with this one rule."""
    mag = _count("magazine", magazine)
    if mag <= 0 or _non_negative("launchers", launchers) <= 0 or missiles_per_launcher <= 0:
        return 0, 0
    shooters = max(1, int(launchers * _probability("ready_share", ready_share)))
    per = max(1, min(_count("missiles_per_launcher", missiles_per_launcher), mag // shooters))
    return min(shooters, mag // per), per  # a nearly empty magazine arms fewer launchers


@functools.lru_cache(maxsize=1024)  # a pure function of two numbers, asked per salvo
def _binomial_pmf(n: int, p: float) -> tuple[float, ...]:
    """P(X = k) for k = 0..n, X ~ Binomial(n, p), by the ratio recurrence (no overflow)."""
    if p <= 0.0 or n == 0:
        return (1.0,) + (0.0,) * n
    if p >= 1.0:
        return (0.0,) * n + (1.0,)
    log_first = n * math.log1p(-p)
    pmf = [math.exp(log_first)]
    ratio = p / (1 - p)
    if pmf[0] == 0.0:  # far too many trials for the recurrence: fall back to log space
        return tuple(math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                              + k * math.log(p) + (n - k) * math.log1p(-p))
                     for k in range(n + 1))
    for k in range(n):
        pmf.append(pmf[-1] * ratio * (n - k) / (k + 1))
    return tuple(pmf)


def expected_salvo_loss(*, shots: int, p_hit: float, interceptors: int, p_intercept: float,
                        loss_per_hit: float, targets: float) -> float:
    """E[min(B, K * loss_per_hit)], K = max(0, Bin(shots, p) - Bin(interceptors, q)): the mean
    of Armstrong's stochastic salvo (2005) with the damage per hit at its mean; exact in K."""
    good = _binomial_pmf(_count("shots", shots), _probability("p_hit", p_hit))
    stopped = _binomial_pmf(_count("interceptors", interceptors),
                            _probability("p_intercept", p_intercept))
    per_hit = _non_negative("loss_per_hit", loss_per_hit)
    ships = _non_negative("targets", targets)
    hits = [min(ships, k * per_hit) for k in range(len(good))]  # K hits sink this many
    expected = 0.0  # O(shots x min(shots, interceptors)): salvos are small
    for g, pg in enumerate(good):
        if pg == 0.0 or g == 0:
            continue
        for q, sunk in zip(stopped, hits[g:0:-1], strict=False):  # I = i < g: K = g - i hits
            expected += pg * q * sunk
    return float(expected)


# --------------------------------------------------------------------------- kill chain


def kill_chain_probability(*, p_detect: float, p_communicate: float, p_hit: float) -> float:
    """P(kill chain) = p_detect * p_communicate * p_hit (independent links in series)."""
    detect = _probability("p_detect", p_detect)
    communicate = _probability("p_communicate", p_communicate)
    hit = _probability("p_hit", p_hit)
    return float(detect * communicate * hit)


# --------------------------------------------------------------------------- C2 delivery


def link_loss_probability(*, loss_p: float, degraded: bool, degraded_add: float) -> float:
    """P(a message is lost on a link) = min(1, loss_p + degraded_add if degraded)."""
    base = _probability("loss_p", loss_p)
    return float(min(1.0, base + (_probability("degraded_add", degraded_add) if degraded else 0)))


def link_latency(*, latency_h: float, command_factor: float, sigma: float, z: float,
                 degraded_factor: float = 1.0) -> float:
    """Hours on a link: latency * command factor * exp(sigma * z) (lognormal), times the
    degradation factor while the link is degraded."""
    if not (type(latency_h) is float and type(command_factor) is float  # the hot path
            and type(sigma) is float and type(z) is float and type(degraded_factor) is float
            and 0.0 <= latency_h < _INF and 0.0 < command_factor < _INF
            and 0.0 <= sigma < _INF and -_INF < z < _INF and 0.0 < degraded_factor < _INF):
        latency_h = _non_negative("latency_h", latency_h)
        command_factor = _positive("command_factor", command_factor)
        sigma, z = _non_negative("sigma", sigma), _real("z", z)
        degraded_factor = _positive("degraded_factor", degraded_factor)
    return float(latency_h * command_factor * math.exp(sigma * z) * degraded_factor)


def expected_route_delay(*, links: list[tuple[float, float]], command_factor: float,
                         sigma: float, lost_delay_h: float) -> float:
    """Mean hours for a message over links given as (mean latency, loss probability): the
    lognormal means exp(sigma^2/2) summed, plus ``lost_delay_h`` times P(the message is lost)."""
    mean_lognormal = math.exp(_non_negative("sigma", sigma) ** 2 / 2)
    hours, through = 0.0, 1.0
    for latency, loss in links:
        hours += _non_negative("latency", latency) * command_factor * mean_lognormal
        through *= 1 - _probability("loss", loss)
    return float(hours + (1 - through) * _non_negative("lost_delay_h", lost_delay_h))


def delivery_probability(*, losses: list[float]) -> float:
    """P(a message crosses every link) = prod(1 - loss_k)."""
    p = 1.0
    for loss in losses:
        p *= 1 - _probability("loss", loss)
    return float(p)
