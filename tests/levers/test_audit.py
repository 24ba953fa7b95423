"""The lever audit: paired effects with standard errors, DEAD only when nothing changes and no
declared inert condition holds, WRONG-SIGN against a declaration at 3 standard errors, SKIPPED
for invalid variants. The full audit of the built-ins is slow (``pytest -m slow``)."""

from __future__ import annotations

import dataclasses
import math

import pytest

import engine.levers.audit as audit_module
from engine.io.loading import load_pair
from engine.levers.audit import Effect, audit, changed_runs, paired, selected
from engine.levers.params import parameters
from engine.spec.levers import Lever
from engine.spec.scenario import with_turns

GAIN = "rules.red_model.weights.gain"


@pytest.fixture(scope="module")
def tutorial():
    return load_pair("classroom-tutorial")


def declared(monkeypatch, path: str, lever: Lever) -> None:
    """Make the audit see ``lever`` as the declaration of ``path``."""
    real = audit_module.parameters

    def patched(s, r):
        return [dataclasses.replace(p, lever=lever) if p.path == path else p
                for p in real(s, r)]

    monkeypatch.setattr(audit_module, "parameters", patched)


def test_paired_effect_and_its_standard_error() -> None:
    base = [{"m": 0}, {"m": 1}, {"m": 0}, {"m": None}]
    other = [{"m": 1}, {"m": 1}, {"m": 1}, {"m": 3}]
    e = paired(base, other, "m")
    assert e is not None and e.n == 3 and e.mean == pytest.approx(2 / 3)
    assert e.se == pytest.approx(math.sqrt(1 / 3) / math.sqrt(3))
    assert paired([{"m": None}], [{"m": 1}], "m") is None
    assert Effect(0.1, 0.0, 5).z == math.inf and Effect(0.0, 0.0, 5).z == 0.0
    assert changed_runs(base, other) == 3 and changed_runs(base, base) == 0


def test_selected_matches_whole_path_segments(tutorial) -> None:
    params = parameters(*tutorial)
    chosen = {p.path for p in selected(params, ["blue.isr.mq9.a"])}
    assert chosen == set()  # a prefix is a whole segment
    chosen = {p.path for p in selected(params, ["blue.isr.mq9.aircraft", "rules.red_model"])}
    assert "blue.isr.mq9.aircraft" in chosen and GAIN in chosen
    assert not any(p.startswith("theater") for p in chosen)


def test_a_parameter_nothing_reads_is_dead_unless_declared_inert(tutorial,
                                                                 monkeypatch) -> None:
    """A zone's kind is a map label: no mechanism reads it."""
    path = "theater.zones.kyushu.kind"
    declared(monkeypatch, path, Lever("?"))
    result = audit(*tutorial, runs=4, only=[path])
    (r,) = result.results
    assert r.status == "DEAD" and result.failing == [r]
    assert all(v.changed == 0 and v.status == "DEAD" for v in r.variants)
    declared(monkeypatch, path, Lever("?", inert_when=("structural",)))
    (r,) = audit(*tutorial, runs=4, only=[path]).results
    assert r.status == "INERT" and r.inert == ("structural",)


def test_an_inert_condition_that_does_not_hold_does_not_excuse(tutorial, monkeypatch) -> None:
    path = "theater.zones.kyushu.kind"
    declared(monkeypatch, path, Lever("?", inert_when=("no_isr",)))  # the tutorial has ISR
    (r,) = audit(*tutorial, runs=4, only=[path]).results
    assert r.status == "DEAD"


def test_a_live_lever_is_not_dead(tutorial) -> None:
    (r,) = audit(*tutorial, runs=6, only=["blue.isr.mq9.aircraft"]).results
    assert r.status in ("OK", "WRONG-SIGN") and any(v.changed > 0 for v in r.variants)
    assert {"deterrence_held", "red_gains", "detections"} <= set(r.variants[0].effects)


def test_a_wrong_declaration_on_a_strong_lever_is_flagged(tutorial, monkeypatch) -> None:
    """Red's weight on gains x4 makes it attack in every run: declared "+", that is WRONG-SIGN;
    declared "-" or "?", it is fine."""
    declared(monkeypatch, GAIN, Lever("+"))
    (r,) = audit(*tutorial, runs=10, only=[GAIN]).results
    assert r.status == "WRONG-SIGN"
    up = next(v for v in r.variants if v.variant.sign > 0)
    assert up.status == "WRONG-SIGN" and up.held is not None and up.held.z < -audit_module.Z
    for honest in (Lever("-"), Lever("?")):
        declared(monkeypatch, GAIN, honest)
        (r,) = audit(*tutorial, runs=10, only=[GAIN]).results
        assert r.status == "OK"


def test_invalid_variants_are_skipped_with_the_reason(tutorial) -> None:
    (r,) = audit(*tutorial, runs=2, only=["rules.ladder.groups.1.rungs.0.level"]).results
    assert r.status == "SKIPPED"
    assert all(v.status == "SKIPPED" and "must be above" in v.reason for v in r.variants)


def test_a_format_tag_has_no_variant(tutorial) -> None:
    (r,) = audit(*tutorial, runs=2, only=["format"]).results
    assert r.status == "NO-VARIANT" and r.variants == []


def test_dead_and_wrong_sign_sort_first_and_the_report_is_json(tutorial, monkeypatch) -> None:
    declared(monkeypatch, "theater.zones.kyushu.kind", Lever("?"))
    a = audit(*tutorial, runs=3, only=["theater.zones.kyushu", "rules.red_model.rationality"])
    assert a.sorted()[0].status == "DEAD"
    data = a.to_json()
    assert data["z"] == 3.0 and data["counts"]["DEAD"] >= 1
    assert data["parameters"][0]["variants"][0]["effects"]["deterrence_held"]["n"] == 3
    assert "DEAD" in a.summary()


def test_a_short_cut_of_alliance_2024_runs(monkeypatch) -> None:
    s, r = load_pair("alliance-2024")
    a = audit(with_turns(s, 5), r, runs=4, only=["blue.c2.consultation_h"])
    assert [x.parameter.path for x in a.results] == ["blue.c2.consultation_h"]
    assert a.results[0].status != "ERROR"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alliance-2024", "alliance-2023", "baseline-2022"])
def test_the_builtins_have_no_unexplained_dead_and_no_wrong_sign_lever(name: str) -> None:
    """Issue 11, done when: `wargame levers` over the built-ins with the standard rules and
    200 seeds reports no DEAD parameter the schema does not declare inert, and no WRONG-SIGN."""
    s, r = load_pair(name, "standard")
    result = audit(s, r, runs=200, workers=2)
    bad = [f"{x.status} {x.parameter.path}" for x in result.failing]
    assert not bad, result.summary() + "\n" + "\n".join(bad)
