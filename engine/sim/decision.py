"""Pure decision maths: Red's expected utility per action, the quantal-response (softmax) choice,
Red's belief update, and Blue's readable doctrine conditions. No simpy, no state.

Red's utility for an action a (weights w from the rules' red_model):

    q    = P(detected or attributed) * P(answered)
    P(answered) = resolve * speed * treaty,  speed = patience / (patience + response delay)
    treaty = 1 if a's domain is covered by Article V (or a is below the armed-attack threshold),
             else 1 / (1 + w_credibility)
    EU(a) = w_gain * gain(a) * (1 - q) - w_cost * cost(a) * q * (1 + expected loss share)
            - w_escalation * (firebreaks crossed climbing from the current rung to a's)

and Red picks a with probability proportional to exp(rationality * EU(a)) (McKelvey and Palfrey's
quantal response, 1995): rationality 0 is a coin toss, large values approach a strict best reply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.spec.rules import Action, RedModel, parse_condition


@dataclass(frozen=True)
class RedEstimate:
    """What Red believes about Blue when it scores its options."""

    isr_coverage: float
    resolve: float
    attribution_p: float
    response_delay_h: float
    patience_h: float
    covered_domains: tuple[str, ...]
    expected_loss_share: float
    rung_level: int
    threshold_level: int


def utility(action: Action, level: int, climb: float, est: RedEstimate,
            model: RedModel) -> dict[str, float]:
    """EU of one Red action with every term, so a student can see why Red chose as it did;
    ``climb`` is the ladder's firebreak cost from the current rung to the action's."""
    w = model.weights
    armed = level >= est.threshold_level
    p_detect = est.attribution_p if action.domain in ("cyber", "space") else est.isr_coverage
    speed = est.patience_h / (est.patience_h + est.response_delay_h)
    covered = (not armed) or action.domain in est.covered_domains
    treaty = 1.0 if covered else 1.0 / (1.0 + w.credibility)
    q = p_detect * est.resolve * speed * treaty
    loss = est.expected_loss_share if armed and action.domain == "land_sea_air" else 0.0
    eu = (w.gain * action.gain * (1 - q) - w.cost * action.cost * q * (1 + loss)
          - w.escalation_risk * climb)
    return {"eu": eu, "p_detect": p_detect, "p_answer": est.resolve * speed * treaty, "q": q,
            "climb": climb}


def quantal_choice(utilities: Mapping[str, float], rationality: float,
                   u: float) -> tuple[str, dict[str, float]]:
    """Pick an option by softmax over sorted names with uniform draw u; return it and P."""
    names = sorted(utilities)
    top = max(utilities.values())
    weights = [math.exp(rationality * (utilities[n] - top)) for n in names]  # shift: no overflow
    total = sum(weights)
    probs = {n: wgt / total for n, wgt in zip(names, weights, strict=True)}
    acc = 0.0
    for n in names:
        acc += probs[n]
        if u < acc:
            return n, probs
    return names[-1], probs


def update_belief(belief: float, observed: float, rate: float) -> float:
    """Move a belief a share `rate` of the way toward what was observed (clipped to [0, 1])."""
    return min(1.0, max(0.0, belief + rate * (observed - belief)))


def condition_holds(text: str, facts: Mapping[str, float],
                    rung_level_of: Callable[[str], int]) -> bool:
    """Evaluate one doctrine condition such as ``rung >= gray_zone_coercion`` against facts."""
    fact, op, value = parse_condition(text)
    left = facts[fact]
    right = float(rung_level_of(value)) if fact == "rung" else float(value)
    return {
        ">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right,
        "==": left == right, "!=": left != right,
    }[op]
