"""Conformance and information checks shipped as library code (as Gymnasium ships its env
checker and PettingZoo its api_test): every scenario must run deterministically, produce a log
that reads back and chains correctly, and never let a side see what the model says it cannot
know (:func:`check_information`).

``python -m engine.testing regenerate-golden DIR`` rewrites the golden logs; review the diff.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.canonical import canonical
from engine.io.eventlog import check_chain, read_lines, run_logged
from engine.io.loading import builtin_names, load_pair
from engine.sim.controllers import as_decision, default_controllers, name_of
from engine.sim.kernel import run
from engine.sim.kinds import payload_problems
from engine.sim.session import Game
from engine.sim.state import ListSink
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

GOLDEN_SEED = 0
# one seed per built-in, plus a game where deterrence fails and the batteries fire
WAR_GOLDEN = ("alliance-2023", 5)


def records_of(scenario: Scenario, rules: Rules, seed: int) -> list[dict]:
    sink = ListSink()
    run(scenario, rules, seed, sink=sink)
    return list(sink)


def check_twin_runs(scenario: Scenario, rules: Rules, seed: int) -> None:
    """Two runs with the same seed give identical records (AssertionError naming the first
    difference otherwise)."""
    a, b = records_of(scenario, rules, seed), records_of(scenario, rules, seed)
    for x, y in zip(a, b, strict=False):
        assert canonical(x) == canonical(y), f"runs differ at seq {x['seq']}: {x} != {y}"
    assert len(a) == len(b), f"runs differ in length: {len(a)} != {len(b)}"


def check_log_round_trip(scenario: Scenario, rules: Rules, seed: int, folder: Path) -> None:
    """A logged run reads back record for record, its chain checks, and it has a footer."""
    path = folder / f"{scenario.meta.id}-{seed}.jsonl"
    result, final = run_logged(scenario, rules, seed, path)
    chain = check_chain(path)
    assert chain.ok, f"{path}: line {chain.first_bad_line}: {chain.problem}"
    lines = list(read_lines(path))
    logged = [ln.obj for ln in lines[1:-1]]
    for rec in logged:
        rec.pop("h")
    expected = records_of(scenario, rules, seed)
    assert [canonical(r) for r in logged] == [canonical(r) for r in expected], \
        "log records differ from an in-memory run"
    footer = lines[-1].obj
    assert footer["h"] == final and footer["outcome"] == result.outcome


def check_payloads(scenario: Scenario, rules: Rules, seeds: Iterable[int]) -> int:
    """Every record keeps its kind's payload contract (sim/kinds.py: declared fields, one JSON
    type per field name); return how many records were checked."""
    checked = 0
    for seed in seeds:
        for rec in records_of(scenario, rules, seed):
            problems = payload_problems(rec)
            assert not problems, f"seed {seed} seq {rec['seq']}: " + "; ".join(problems)
            checked += 1
    return checked


def check_scenario(scenario: Scenario, rules: Rules, seeds: tuple[int, ...] = (0, 1)) -> None:
    """Every conformance check for one scenario."""
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            check_twin_runs(scenario, rules, seed)
            check_log_round_trip(scenario, rules, seed, Path(tmp))
    check_information(scenario, rules, seeds)
    check_payloads(scenario, rules, seeds)


# ---- information: no side sees what the model says it cannot know ---------------------------

# kinds that carry only one side's own doings: the other team may never see one
BLUE_ONLY = frozenset({
    "isr.sortie.launch", "isr.sortie.cancel", "isr.search", "isr.detect", "c2.message.lost",
    "c2.message.delivered", "c2.share.withheld", "c2.link.degraded", "c2.link.restored",
    "c2.hardened", "space.degraded", "alliance.consultation", "littoral.readiness",
    "intel.attribution", "alliance.armed_attack", "state.blue", "littoral.resupply"})
RED_ONLY = frozenset({
    "red.move", "red.incursion", "red.cyber.attack", "red.counterspace.attack",
    "red.decision", "escalation.threshold", "state.red"})
UMPIRE_ONLY = frozenset({"red.gain", "turn.measures", "isr.search", "partner.share"})


class InformationLeak(AssertionError):
    """A record or observation reached a side that, by the model, cannot know it."""


@dataclass
class Observed:
    """A played game: its records (the umpire's log) and every observation each team got."""

    records: list[dict[str, Any]]
    observations: list[dict[str, Any]] = field(default_factory=list)


def play_observed(game: Game, seed: int) -> Observed:
    """Play a game with the default controllers, keeping every team observation."""
    sink = ListSink()
    session = game.start(seed, sink)
    players = default_controllers(game.rules)
    seen: list[dict[str, Any]] = []
    while not session.over:
        for side in ("blue", "red"):
            obs, menu = session.observation(side), session.legal_orders(side)  # type: ignore[arg-type]
            seen.append({**obs.to_json(), "seq": len(sink)})
            made = as_decision(players[side](obs, menu))
            session.submit(side, made, strict=False, controller=name_of(players[side]))  # type: ignore[arg-type]
        session.step()
    return Observed(list(sink), seen)


def check_information(scenario: Scenario, rules: Rules, seeds: Iterable[int]) -> int:
    """Play every seed and fail (:class:`InformationLeak`) on any record or observation a team
    sees that the model says it cannot know; return how many items were checked. The rules are
    restated here from DESIGN.md section 4, apart from the code that applies them."""
    checked = 0
    for seed in seeds:
        game = play_observed(Game(scenario, rules), seed)
        checked += check_records(scenario, rules, game.records, f"seed {seed}")
        checked += check_observations(scenario, game, f"seed {seed}")
    return checked


def check_records(scenario: Scenario, rules: Rules, records: list[dict[str, Any]],
                  where: str = "") -> int:
    """Every record's audience against the model's rules, replaying what each side knew."""
    truth = _Truth(scenario, rules)
    for rec in records:
        kind, seen_by = rec["kind"], set(rec["visible_to"])
        tag = f"{where} seq {rec['seq']} {kind}"
        if kind in UMPIRE_ONLY and seen_by:
            raise InformationLeak(f"{tag}: the umpire's record is seen by {sorted(seen_by)}")
        if "blue" in seen_by:
            truth.blue_may_see(rec, tag)
        if "red" in seen_by:
            truth.red_may_see(rec, tag)
        if kind in ("orders", "orders.rejected") and seen_by - {rec["side"]}:
            raise InformationLeak(f"{tag}: {rec['side']}'s orders seen by {sorted(seen_by)}")
        truth.learn(rec)
    return len(records)


def check_observations(scenario: Scenario, game: Observed, where: str = "") -> int:
    """Each observation holds only what its team could know when it was made."""
    red_units = set(scenario.red.cyber) | set(scenario.red.counterspace)
    for obs in game.observations:
        before = [r for r in game.records[:obs["seq"]] if obs["side"] in r["visible_to"]]
        tag = f"{where} turn {obs['turn']} {obs['side']}'s observation"
        for event in obs["events"]:
            if obs["side"] not in event["visible_to"]:
                raise InformationLeak(f"{tag}: event {event['kind']} it may not see")
        if obs["side"] == "blue":
            text = str(obs["situation"])
            named = {u for u in red_units if f"'{u}'" in text}
            if named:
                raise InformationLeak(f"{tag}: names Red units {sorted(named)}")
            detected = {r["data"]["group"] for r in before if r["kind"] == "isr.detect"}
            tracked = set(obs["situation"]["tracks"])
            if tracked - detected:
                raise InformationLeak(f"{tag}: tracks on undetected {sorted(tracked - detected)}")
            knows = any(r["kind"] == "alliance.armed_attack" for r in before)
            if obs["facts"]["armed_attack"] and not knows:
                raise InformationLeak(f"{tag}: knows of an armed attack before learning of it")
        else:
            hit = {r["data"]["link"] for r in before
                   if r["kind"] == "red.cyber.attack" and r["data"]["success"]}
            down = set(obs["situation"]["seen"]["links_down"])
            if down - hit:
                raise InformationLeak(f"{tag}: knows of outages it did not cause {sorted(down)}")
    return len(game.observations)


class _Truth:
    """What each side knows so far, rebuilt from the umpire's log as it is read."""

    def __init__(self, scenario: Scenario, rules: Rules) -> None:
        self.scenario = scenario
        ladder = rules.ladder
        threshold = ladder.level(ladder.armed_attack_threshold)
        self.armed_actions = {a for a, act in rules.actions.red.items()
                              if ladder.level(act.signals) >= threshold}
        self.red_units = set(scenario.red.cyber) | set(scenario.red.counterspace)
        self.position = {g: (grp.home, 0.0) for g, grp in scenario.red.groups.items()}
        self.mission = {g: "home" for g in scenario.red.groups}
        self.detected: set[str] = set()  # groups Blue has found
        self.evidence = False  # Blue has seen a strike group or an attack's effects
        self.destructive_hit = False

    def learn(self, rec: Mapping[str, Any]) -> None:
        kind, data = rec["kind"], rec["data"]
        if kind == "red.move":
            self.position[rec["unit"]] = (data["to"], data["eta_h"])
            self.mission[rec["unit"]] = data["mission"]
        elif kind == "isr.detect":
            self.detected.add(data["group"])
            if self.mission.get(data["group"]) == "strike":
                self.evidence = True
        elif kind == "engagement.strike" or (
                kind == "intel.attribution" and data["action"] in self.armed_actions):
            self.evidence = True  # the strike landed, or intelligence names the attack
        elif kind == "red.counterspace.attack" and data["destructive"] and data["success"]:
            self.destructive_hit = True
        elif kind == "space.degraded" and self.destructive_hit:
            self.evidence = True

    def red_present(self, zone: str, t: float) -> bool:
        return zone == self.scenario.red.objective or any(
            z == zone and eta <= t for z, eta in self.position.values())

    def blue_may_see(self, rec: Mapping[str, Any], tag: str) -> None:
        kind, data = rec["kind"], rec["data"]
        if kind in RED_ONLY:
            raise InformationLeak(f"{tag}: Red's own record is seen by Blue")
        text = f"{rec['unit']} {data}"
        named = {u for u in self.red_units if f"'{u}'" in text or rec["unit"] == u}
        if named:
            raise InformationLeak(f"{tag}: Blue is told of Red units {sorted(named)}")
        group = data.get("group") or data.get("target")
        if group in self.position and group not in self.detected and kind != "isr.detect":
            raise InformationLeak(f"{tag}: names Red group {group} Blue has not detected")
        if kind == "alliance.armed_attack":
            self.learn(rec)  # the detection or effect may be this very moment's
            if not self.evidence:
                raise InformationLeak(f"{tag}: Blue learns of an armed attack with no evidence")

    def red_may_see(self, rec: Mapping[str, Any], tag: str) -> None:
        kind, data = rec["kind"], rec["data"]
        if kind in BLUE_ONLY:
            raise InformationLeak(f"{tag}: Blue's own record is seen by Red")
        if kind == "isr.on_station" and not self.red_present(data["zone"], rec["t"]):
            raise InformationLeak(f"{tag}: Red sees an aircraft over {data['zone']}, "
                                  "where it has no group")
        if kind == "littoral.displace" and not (self.red_present(data["from"], rec["t"])
                                                or self.red_present(data["to"], rec["t"])):
            raise InformationLeak(f"{tag}: Red sees a battery move where it has no group")


def golden_path(folder: Path, name: str, seed: int = GOLDEN_SEED) -> Path:
    return folder / f"{name}-seed{seed}.jsonl"


def golden_cases() -> list[tuple[str, int]]:
    return [(name, GOLDEN_SEED) for name in builtin_names("scenarios")] + [WAR_GOLDEN]


def regenerate_golden(folder: Path) -> list[Path]:
    """Rewrite the golden logs (see golden_cases)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, seed in golden_cases():
        s, r = load_pair(name)
        path = golden_path(folder, name, seed)
        run_logged(s, r, seed, path)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "regenerate-golden":
        print("usage: python -m engine.testing regenerate-golden DIR", file=sys.stderr)
        return 2
    for path in regenerate_golden(Path(argv[1])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
