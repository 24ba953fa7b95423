"""Pure decision maths: Red's expected utility per action, the quantal-response (softmax) choice,
Red's belief update, and Blue's readable doctrine conditions. No simpy, no state.

Every term is in the units of the rules' action gains (the value of an incursion is 1), with the
weights w from the rules' red_model. For an action a:

    p_att  = 1 for an armed act (it cannot go unseen); attribution_p for cyber and space acts;
             else P(seen): the search law applied to the coverage Red believes Blue has
    gain   = a's gain (a seizure's once: later ones only hold, ``holding_gain``)
    E[gain] = gain for an armed act (it cannot be denied); else, as adjudicated,
              gain * (1 - p_att * (1 - attributed_gain_share))
    P(answered) = resolve * speed * treaty,  speed = patience / (patience + response delay)
    treaty = 1 if a's domain is covered by Article V (or a is below the armed-attack threshold),
             else 1 / (1 + w_credibility)
    q      = p_att * P(answered)
    loss   = expected share of Red's navy lost to the batteries (a naval armed act) and to
             counterstrike (any armed act), from the salvo model the adjudication uses
    EU(a)  = w_gain * E[gain] - w_cost * cost(a) * q * (1 + loss)
             - w_escalation * (firebreaks crossed from Red's own rung to a's)

and Red picks a with probability proportional to exp(rationality * EU(a)) (McKelvey and Palfrey's
quantal response, 1995): rationality 0 is a coin toss, large values approach a strict best reply.
docs/model.md works one decision through.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.spec.rules import Action, RedModel, parse_condition


@dataclass(frozen=True)
class RedEstimate:
    """What Red believes about Blue when it scores its options."""

    p_seen: float  # chance a Red move at its objective is detected within the turn
    resolve: float
    attribution_p: float
    response_delay_h: float
    patience_h: float
    covered_domains: tuple[str, ...]
    naval_loss_share: float  # of Red's navy, to the batteries, if Blue answers a naval attack
    punish_share: float  # of Red's navy, to counterstrike, if Blue answers any armed attack
    gain_share: float  # of a gain Red keeps when the act is attributed
    holding_gain: float
    seized: bool
    red_rung: str  # the rung of Red's own latest act
    threshold_level: int


def utility(action: Action, level: int, climb: float, est: RedEstimate,
            model: RedModel) -> dict[str, float]:
    """EU of one Red action with every term, so a student can see why Red chose as it did;
    ``climb`` is the ladder's firebreak cost from Red's own rung to the action's."""
    eu, p_att, p_answer, q, kept, loss = utility_terms(action, level, climb, est, model)
    return {"eu": eu, "p_detect": p_att, "p_answer": p_answer, "q": q, "gain": kept,
            "loss": loss, "climb": climb}


def utility_terms(action: Action, level: int, climb: float, est: RedEstimate,
                  model: RedModel) -> tuple[float, float, float, float, float, float]:
    """:func:`utility`'s terms as a tuple: (eu, p_detect, p_answer, q, gain, loss) (doctrine
    scores every option every turn and reads the eu only)."""
    w = model.weights
    armed = level >= est.threshold_level
    if armed:
        p_att = 1.0
    else:
        p_att = est.attribution_p if action.domain in ("cyber", "space") else est.p_seen
    speed = est.patience_h / (est.patience_h + est.response_delay_h)
    covered = (not armed) or action.domain in est.covered_domains
    treaty = 1.0 if covered else 1.0 / (1.0 + w.credibility)
    p_answer = est.resolve * speed * treaty
    q = p_att * p_answer
    gain = worth(action, est.seized, est.holding_gain)
    kept = gain if armed else gain * (1 - p_att * (1 - est.gain_share))
    loss = 0.0
    if armed:
        loss = est.punish_share + (est.naval_loss_share if action.domain == "land_sea_air"
                                   else 0.0)
    eu = w.gain * kept - w.cost * action.cost * q * (1 + loss) - w.escalation_risk * climb
    return eu, p_att, p_answer, q, kept, loss


def worth(action: Action, seized: bool, holding_gain: float) -> float:
    """What a Red act is worth: its gain, except that a seizure is earned once and each later
    seizure order only holds the objective (``holding_gain``). Adjudication scores the same."""
    return holding_gain if action.effect == "strike" and seized else action.gain


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
    return min(1.0, max(0.0, update_estimate(belief, observed, rate)))


def update_estimate(belief: float, observed: float, rate: float) -> float:
    """Move an estimate a share `rate` of the way toward what was observed (exponential
    smoothing: recent turns weigh most)."""
    return belief + rate * (observed - belief)


_TESTS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "==": operator.eq, "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed doctrine condition: ``facts[fact] <op> right``, the rung resolved to its level
    (parsed once per game: doctrine and menus test conditions every turn)."""

    text: str
    fact: str
    test: Callable[[float, float], bool]
    right: float

    def holds(self, facts: Mapping[str, float]) -> bool:
        return self.test(facts[self.fact], self.right)


def compile_condition(text: str, rung_level_of: Callable[[str], int]) -> Condition:
    """Parse one doctrine condition such as ``rung >= gray_zone_coercion`` (ValueError names
    what is wrong)."""
    fact, op, value = parse_condition(text)
    right = float(rung_level_of(value)) if fact == "rung" else float(value)
    return Condition(text, fact, _TESTS[op], right)


def condition_holds(text: str, facts: Mapping[str, float],
                    rung_level_of: Callable[[str], int]) -> bool:
    """Evaluate one doctrine condition such as ``rung >= gray_zone_coercion`` against facts."""
    return compile_condition(text, rung_level_of).holds(facts)
