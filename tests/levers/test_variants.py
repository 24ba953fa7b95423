"""The one-at-a-time variants: x0.25 and x4 within bounds, a probability a quarter of the way to
each end, the other flag, every other choice, each domain dropped and added."""

from __future__ import annotations

from engine.levers.params import Parameter
from engine.levers.variants import variants
from engine.spec.levers import Lever

PLUS = Lever("+")


def values(p: Parameter) -> list:
    return [v.value for v in variants(p)]


def test_numbers_are_quartered_and_quadrupled_within_bounds() -> None:
    assert values(Parameter("x", "int", 6, PLUS, lo=0, hi=100)) == [2, 24]
    assert values(Parameter("x", "int", 2, PLUS, lo=0, hi=100)) == [1, 8]  # 0.5 rounds up
    assert values(Parameter("x", "int", 30, PLUS, lo=1, hi=100)) == [8, 100]  # clipped
    assert values(Parameter("x", "float", 24.0, PLUS, lo=0, hi=168, lo_open=True)) == [6.0, 96.0]
    assert values(Parameter("x", "float", 0.3, PLUS, lo=0, hi=3)) == [0.075, 1.2]


def test_a_variant_equal_to_the_base_is_dropped() -> None:
    assert values(Parameter("x", "int", 1, PLUS, lo=1, hi=100)) == [4]  # x0.25 is 1 again
    assert values(Parameter("x", "float", 100.0, PLUS, lo=0, hi=100)) == [25.0]


def test_zero_gets_one_and_an_excluded_bound_is_never_reached() -> None:
    assert values(Parameter("x", "int", 0, PLUS, lo=0, hi=20)) == [1]
    assert values(Parameter("x", "float", 0.0, PLUS, lo=0, hi=1000)) == [1.0]
    assert values(Parameter("x", "float", 0.0, PLUS, lo=0, hi=1, hi_open=True)) == []


def test_probabilities_move_a_quarter_of_the_way_to_each_end() -> None:
    assert values(Parameter("p", "float", 0.8, PLUS, lo=0, hi=1)) == [0.2, 0.95]
    assert values(Parameter("p", "float", 0.0, PLUS, lo=0, hi=1)) == [0.75]
    assert values(Parameter("p", "float", 1.0, PLUS, lo=0, hi=1)) == [0.25]


def test_signs_follow_the_change() -> None:
    p = Parameter("x", "int", 8, PLUS, lo=0, hi=100)
    assert [v.sign for v in variants(p)] == [-1, 1]
    flag = variants(Parameter("f", "bool", False, PLUS))
    assert [(v.value, v.sign) for v in flag] == [(True, 1)]


def test_choices_are_every_other_with_a_sign_only_along_a_declared_order() -> None:
    ordered = Lever("+", order=("separate", "joint_hq", "joint_force_hq"))
    p = Parameter("c", "choice", "joint_hq", ordered,
                  choices=("separate", "planned", "joint_hq", "joint_force_hq"))
    assert [(v.value, v.sign) for v in variants(p)] == [
        ("separate", -1), ("planned", 0), ("joint_force_hq", 1)]
    assert variants(Parameter("fmt", "choice", "only", PLUS, choices=("only",))) == []


def test_domains_are_dropped_and_added_one_at_a_time() -> None:
    p = Parameter("t", "choices", ["land_sea_air", "cyber"], PLUS,
                  choices=("land_sea_air", "cyber", "space"))
    assert [(v.value, v.sign) for v in variants(p)] == [
        (["cyber"], -1), (["land_sea_air"], -1), (["land_sea_air", "cyber", "space"], 1)]
