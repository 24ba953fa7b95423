"""Face validity: the postures differ the way a student can explain from the mechanics.

The default run uses 100 seeds per case; ``pytest -m slow`` runs the full 300-seed version with
Wilson intervals. Seeds are fixed, so either version is deterministic.
"""

from __future__ import annotations

import math
import statistics

import pytest

from engine import load_pair
from engine.sim.kernel import run
from engine.spec.scenario import Scenario, with_values


class MeasuresOnly:
    wants_records = False
    wants_digest = False

    def emit(self, record):
        return None

    def end_turn(self, turn):
        return None


def outcomes(scenario: Scenario, rules, n: int) -> list[dict]:
    return [run(scenario, rules, seed, sink=MeasuresOnly()).outcome for seed in range(n)]


def held_share(outs: list[dict]) -> float:
    return sum(o["deterrence_held"] for o in outs) / len(outs)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def degraded_c2(s: Scenario) -> Scenario:
    """Every C2 link six times slower and 30 points lossier (a sustained cyber campaign)."""
    values = {}
    for lid, link in s.blue.c2.links.items():
        values[f"blue.c2.links.{lid}.latency_h"] = link.latency_h * 6
        values[f"blue.c2.links.{lid}.loss_p"] = min(1.0, link.loss_p + 0.3)
    return with_values(s, values)


def mean_detect_delay(outs: list[dict]) -> float:
    return statistics.mean(o["mean_time_to_detect_h"] for o in outs
                           if o["mean_time_to_detect_h"] is not None)


def check_postures(n: int, strict: bool) -> None:
    shares = {}
    for name in ("baseline-2022", "alliance-2023", "alliance-2024"):
        s, r = load_pair(name)
        outs = outcomes(s, r, n)
        shares[name] = (sum(o["deterrence_held"] for o in outs), n)
    (b, _), (a23, _), (a24, _) = shares.values()
    assert b < a23 < a24, f"held counts should rise baseline < 2023 < 2024: {shares}"
    if strict:  # the intervals of consecutive postures must not overlap
        assert wilson(b, n)[1] < wilson(a23, n)[0], shares
        assert wilson(a23, n)[1] < wilson(a24, n)[0], shares


def check_c2(n: int) -> None:
    for name in ("baseline-2022", "alliance-2023", "alliance-2024"):
        s, r = load_pair(name)
        assert held_share(outcomes(degraded_c2(s), r, n)) < held_share(outcomes(s, r, n)), name


def check_mq9(n: int) -> None:
    s, r = load_pair("alliance-2024")
    delays = [mean_detect_delay(outcomes(with_values(s, {"blue.isr.mq9.aircraft": k}), r, n))
              for k in (2, 8, 16)]
    assert delays[0] > delays[1] > delays[2], delays


def test_deterrence_holds_more_often_with_each_posture():
    check_postures(100, strict=False)


def test_degrading_c2_lowers_deterrence():
    check_c2(60)


def test_more_mq9_sorties_shorten_time_to_detection():
    check_mq9(40)


@pytest.mark.slow
def test_full_posture_ordering_with_wilson_intervals():
    check_postures(300, strict=True)


@pytest.mark.slow
def test_full_c2_and_mq9_effects():
    check_c2(300)
    check_mq9(300)
