"""Tests for engine.sim.adjudication: worked vectors, hypothesis properties and input validation."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sim.adjudication import (
    detection_probability,
    hazard_rate,
    kill_chain_probability,
    salvo_losses,
    stochastic_salvo_losses,
)

VECTORS_PATH = Path(__file__).resolve().parents[1] / "data" / "adjudication_vectors.json"
SHARED_VECTORS_PATH = (
    Path(__file__).resolve().parents[3] / "shared" / "validation" / "adjudication_vectors.json"
)
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

FUNCTIONS = {
    "detection_probability": detection_probability,
    "salvo_losses": salvo_losses,
}


def _vector_cases() -> list[Any]:
    cases = []
    for name, function in FUNCTIONS.items():
        for index, vector in enumerate(VECTORS[name]):
            cases.append(pytest.param(function, vector, id=f"{name}[{index}]"))
    return cases


# --------------------------------------------------------------------------- worked vectors


def test_vectors_cover_every_listed_function() -> None:
    listed = {key for key in VECTORS if key != "about"}
    assert listed <= set(FUNCTIONS), f"untested vector groups: {listed - set(FUNCTIONS)}"
    assert all(VECTORS[name] for name in listed)


@pytest.mark.parametrize(("function", "vector"), _vector_cases())
def test_worked_vector(function: Any, vector: dict[str, Any]) -> None:
    result = function(**vector["input"])
    assert isinstance(result, float)
    assert result == pytest.approx(vector["expected"], abs=5e-5), vector["source"]


@pytest.mark.skipif(not SHARED_VECTORS_PATH.exists(), reason="shared/ validation tree absent")
def test_vendored_vectors_match_shared_copy() -> None:
    assert VECTORS_PATH.read_bytes() == SHARED_VECTORS_PATH.read_bytes()


# --------------------------------------------------------------------------- simple checks


def test_hazard_rate_is_w_v_over_a() -> None:
    assert hazard_rate(sweep_width=10, speed=200, area=20000) == pytest.approx(0.1)


def test_kill_chain_probability_is_product() -> None:
    result = kill_chain_probability(p_detect=0.8, p_communicate=0.5, p_hit=0.25)
    assert isinstance(result, float)
    assert result == pytest.approx(0.1)
    assert kill_chain_probability(p_detect=0, p_communicate=1, p_hit=1) == 0.0


def test_zero_inputs_give_zero() -> None:
    assert detection_probability(sweep_width=10, speed=200, hours=0, area=100) == 0.0
    assert salvo_losses(shooters=0, offense=2, targets=5, defense=0, staying_power=1) == 0.0
    rng = np.random.default_rng(0)
    kwargs = _stochastic_kwargs(shooters=0)
    assert stochastic_salvo_losses(rng, **kwargs) == 0.0


def test_salvo_defence_can_absorb_whole_salvo() -> None:
    assert salvo_losses(shooters=2, offense=1, targets=4, defense=3, staying_power=1) == 0.0


# --------------------------------------------------------------------------- properties

finite = {"allow_nan": False, "allow_infinity": False}
non_negative = st.floats(min_value=0, max_value=1e4, **finite)
positive = st.floats(min_value=1e-3, max_value=1e4, **finite)
probability = st.floats(min_value=0, max_value=1, **finite)
laws = st.sampled_from(["random", "exhaustive"])


@given(
    shooters=non_negative,
    offense=non_negative,
    targets=non_negative,
    defense=non_negative,
    staying_power=positive,
    scouting=probability,
    alertness=probability,
)
def test_salvo_losses_bounded(
    shooters: float,
    offense: float,
    targets: float,
    defense: float,
    staying_power: float,
    scouting: float,
    alertness: float,
) -> None:
    losses = salvo_losses(
        shooters=shooters,
        offense=offense,
        targets=targets,
        defense=defense,
        staying_power=staying_power,
        scouting=scouting,
        alertness=alertness,
    )
    assert isinstance(losses, float)
    assert 0.0 <= losses <= targets


def _stochastic_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "shooters": 4,
        "missiles_per_shooter": 2,
        "p_hit": 0.5,
        "targets": 100.0,
        "interceptors_per_target": 0,
        "p_intercept": 0.0,
        "loss_per_hit": 0.5,
        "loss_per_hit_sd": 0.1,
    }
    kwargs.update(overrides)
    return kwargs


stochastic_inputs = st.fixed_dictionaries(
    {
        "shooters": st.integers(min_value=0, max_value=30),
        "missiles_per_shooter": st.integers(min_value=0, max_value=8),
        "p_hit": probability,
        "targets": st.floats(min_value=0, max_value=50, **finite),
        "interceptors_per_target": st.integers(min_value=0, max_value=4),
        "p_intercept": probability,
        "loss_per_hit": st.floats(min_value=0, max_value=5, **finite),
        "loss_per_hit_sd": st.floats(min_value=0, max_value=3, **finite),
    }
)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


@given(seed=seeds, kwargs=stochastic_inputs)
def test_stochastic_salvo_losses_bounded(seed: int, kwargs: dict[str, Any]) -> None:
    losses = stochastic_salvo_losses(np.random.default_rng(seed), **kwargs)
    assert isinstance(losses, float)
    assert 0.0 <= losses <= kwargs["targets"]


@given(seed=seeds, kwargs=stochastic_inputs)
def test_stochastic_salvo_losses_deterministic_for_seed(seed: int, kwargs: dict[str, Any]) -> None:
    first = stochastic_salvo_losses(np.random.default_rng(seed), **kwargs)
    second = stochastic_salvo_losses(np.random.default_rng(seed), **kwargs)
    assert first == second


def test_stochastic_salvo_mean_matches_expectation_without_defence() -> None:
    kwargs = _stochastic_kwargs()
    rng = np.random.default_rng(20050501)
    draws = np.array([stochastic_salvo_losses(rng, **kwargs) for _ in range(2000)])
    expected = 4 * 2 * 0.5 * 0.5  # shooters * missiles * p_hit * loss_per_hit
    assert draws.mean() == pytest.approx(expected, abs=0.1)


@given(
    sweep_width=non_negative,
    speed=non_negative,
    hours=non_negative,
    area=positive,
    law=laws,
)
def test_detection_probability_in_unit_interval(
    sweep_width: float, speed: float, hours: float, area: float, law: str
) -> None:
    p = detection_probability(sweep_width=sweep_width, speed=speed, hours=hours, area=area, law=law)
    assert isinstance(p, float)
    assert 0.0 <= p <= 1.0


@given(
    sweep_width=non_negative,
    speed=non_negative,
    hours=st.lists(non_negative, min_size=2, max_size=2),
    area=positive,
    law=laws,
)
def test_detection_probability_monotone_in_hours(
    sweep_width: float, speed: float, hours: list[float], area: float, law: str
) -> None:
    short, long = sorted(hours)
    common = {"sweep_width": sweep_width, "speed": speed, "area": area, "law": law}
    assert detection_probability(hours=short, **common) <= detection_probability(
        hours=long, **common
    )


@given(
    sweep_widths=st.lists(non_negative, min_size=2, max_size=2),
    speed=non_negative,
    hours=non_negative,
    area=positive,
    law=laws,
)
def test_detection_probability_monotone_in_sweep_width(
    sweep_widths: list[float], speed: float, hours: float, area: float, law: str
) -> None:
    narrow, wide = sorted(sweep_widths)
    common = {"speed": speed, "hours": hours, "area": area, "law": law}
    assert detection_probability(sweep_width=narrow, **common) <= detection_probability(
        sweep_width=wide, **common
    )


@settings(max_examples=200)
@given(sweep_width=non_negative, speed=non_negative, hours=non_negative, area=positive)
def test_random_search_never_beats_exhaustive(
    sweep_width: float, speed: float, hours: float, area: float
) -> None:
    common = {"sweep_width": sweep_width, "speed": speed, "hours": hours, "area": area}
    random_p = detection_probability(law="random", **common)
    exhaustive_p = detection_probability(law="exhaustive", **common)
    assert random_p <= exhaustive_p + 1e-12


# --------------------------------------------------------------------------- validation

DETECT = {"sweep_width": 10.0, "speed": 200.0, "hours": 5.0, "area": 20000.0}
SALVO = {"shooters": 10.0, "offense": 2.0, "targets": 8.0, "defense": 1.0, "staying_power": 2.0}
CHAIN = {"p_detect": 0.5, "p_communicate": 0.5, "p_hit": 0.5}


def _call_stochastic(**overrides: Any) -> float:
    return stochastic_salvo_losses(np.random.default_rng(0), **_stochastic_kwargs(**overrides))


BAD_INPUTS = [
    pytest.param(detection_probability, {**DETECT, "area": 0}, "area", id="area-zero"),
    pytest.param(detection_probability, {**DETECT, "area": -5}, "area", id="area-negative"),
    pytest.param(detection_probability, {**DETECT, "hours": -1}, "hours", id="hours-negative"),
    pytest.param(detection_probability, {**DETECT, "speed": -1}, "speed", id="speed-negative"),
    pytest.param(
        detection_probability, {**DETECT, "sweep_width": -0.1}, "sweep_width", id="width-negative"
    ),
    pytest.param(
        detection_probability, {**DETECT, "sweep_width": math.nan}, "sweep_width", id="width-nan"
    ),
    pytest.param(detection_probability, {**DETECT, "hours": math.inf}, "hours", id="hours-inf"),
    pytest.param(detection_probability, {**DETECT, "law": "lateral"}, "law", id="unknown-law"),
    pytest.param(hazard_rate, {"sweep_width": 1, "speed": 1, "area": 0}, "area", id="hazard-area"),
    pytest.param(salvo_losses, {**SALVO, "shooters": -1}, "shooters", id="shooters-negative"),
    pytest.param(salvo_losses, {**SALVO, "offense": -2}, "offense", id="offense-negative"),
    pytest.param(salvo_losses, {**SALVO, "defense": -1}, "defense", id="defense-negative"),
    pytest.param(salvo_losses, {**SALVO, "targets": -3}, "targets", id="targets-negative"),
    pytest.param(
        salvo_losses, {**SALVO, "staying_power": 0}, "staying_power", id="staying-power-zero"
    ),
    pytest.param(salvo_losses, {**SALVO, "scouting": 1.5}, "scouting", id="scouting-above-one"),
    pytest.param(
        salvo_losses, {**SALVO, "alertness": -0.1}, "alertness", id="alertness-below-zero"
    ),
    pytest.param(salvo_losses, {**SALVO, "offense": math.inf}, "offense", id="offense-inf"),
    pytest.param(_call_stochastic, {"p_hit": 1.2}, "p_hit", id="p-hit-above-one"),
    pytest.param(_call_stochastic, {"p_intercept": -0.5}, "p_intercept", id="p-intercept-neg"),
    pytest.param(_call_stochastic, {"loss_per_hit_sd": -1}, "loss_per_hit_sd", id="sd-negative"),
    pytest.param(_call_stochastic, {"shooters": -1}, "shooters", id="stochastic-shooters-neg"),
    pytest.param(_call_stochastic, {"targets": math.nan}, "targets", id="stochastic-targets-nan"),
    pytest.param(
        _call_stochastic,
        {"interceptors_per_target": -2},
        "interceptors_per_target",
        id="interceptors-negative",
    ),
    pytest.param(kill_chain_probability, {**CHAIN, "p_hit": 2}, "p_hit", id="chain-p-hit"),
    pytest.param(
        kill_chain_probability, {**CHAIN, "p_detect": -0.1}, "p_detect", id="chain-p-detect"
    ),
]


@pytest.mark.parametrize(("function", "kwargs", "argument"), BAD_INPUTS)
def test_rejects_meaningless_input(function: Any, kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        function(**kwargs)


def test_error_message_names_argument_and_value() -> None:
    with pytest.raises(ValueError, match=r"^area must be > 0, got 0$"):
        detection_probability(sweep_width=1, speed=1, hours=1, area=0)
