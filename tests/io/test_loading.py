"""The malformed-input corpus: every bad file is an InputError naming the file and the line.

Hand-written cases are mutations of the built-in ``alliance-2024`` scenario and ``standard``
rules, plus standalone files under ``tests/data/malformed/``; hypothesis generates the rest.
``test_cli_validate.py`` runs the same hand-written corpus through ``wargame validate``.
"""

from __future__ import annotations

import copy
import math
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.errors import InputError, RulesError, ScenarioError
from engine.io.loading import (
    MAX_BYTES,
    MAX_NODES,
    load_any,
    load_rules,
    load_scenario,
    parse_rules,
    parse_scenario,
    read_file,
    read_yaml,
)

DATA = Path(engine.__file__).resolve().parent / "data"
SCENARIO_PATH = DATA / "scenarios" / "alliance-2024.yaml"
RULES_PATH = DATA / "rules" / "standard.yaml"
SCENARIO_TEXT = SCENARIO_PATH.read_text(encoding="utf-8")
RULES_TEXT = RULES_PATH.read_text(encoding="utf-8")
MALFORMED = Path(__file__).resolve().parents[1] / "data" / "malformed"

# ---- the hand-written corpus ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One malformed input: how to make it, where the complaint belongs, what it says."""

    id: str
    kind: str  # "scenario" or "rules": which parser (and which built-in it mutates)
    make: Callable[[], str | bytes]
    at: str | None  # the expected line is the first line containing this text (None: any line)
    says: str  # text one of the problems' messages contains
    cli: bool = True  # meaningful through `wargame validate` (which picks the model by format)

    def raw(self) -> str | bytes:
        return self.make()

    def line(self, raw: str | bytes) -> int | None:
        return None if self.at is None else line_of(raw, self.at)

    def parse(self, raw: str | bytes, name: str) -> Any:
        return (parse_scenario if self.kind == "scenario" else parse_rules)(raw, name)


def line_of(raw: str | bytes, needle: str) -> int:
    """1-based line of the first occurrence of needle (bytes are searched as bytes)."""
    if isinstance(raw, bytes):
        at = raw.find(needle.encode())
        assert at >= 0, f"{needle!r} not in the mutated input"
        return raw[:at].count(b"\n") + 1
    at = raw.find(needle)
    assert at >= 0, f"{needle!r} not in the mutated input"
    return raw[:at].count("\n") + 1


def _edit(base: str, old: str, new: str) -> Callable[[], str]:
    def make() -> str:
        assert old in base, f"the built-in no longer contains {old!r}; update the case"
        return base.replace(old, new, 1)

    return make


def s(id_: str, old: str, new: str, at: str | None, says: str, *, cli: bool = True) -> Case:
    """A string replacement in the alliance-2024 scenario text."""
    return Case(id_, "scenario", _edit(SCENARIO_TEXT, old, new), at, says, cli)


def r(id_: str, old: str, new: str, at: str | None, says: str) -> Case:
    """A string replacement in the standard rules text."""
    return Case(id_, "rules", _edit(RULES_TEXT, old, new), at, says)


def raw_case(id_: str, kind: str, data: str | bytes, at: str | None, says: str) -> Case:
    return Case(id_, kind, lambda: data, at, says)


def _dict_edit(kind: str, change: Callable[[dict], None]) -> Callable[[], str]:
    """Parse the built-in, change the plain data, dump it again with yaml.safe_dump."""

    def make() -> str:
        data = yaml.safe_load(SCENARIO_TEXT if kind == "scenario" else RULES_TEXT)
        change(data)
        return yaml.safe_dump(data, sort_keys=False)

    return make


def d(id_: str, kind: str, change: Callable[[dict], None], at: str | None, says: str) -> Case:
    """A mutation of the parsed built-in dict, re-dumped with yaml.safe_dump."""
    return Case(id_, kind, _dict_edit(kind, change), at, says)


BOMB = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi",
                                                                   strict=True)]
) + "\n"

MAP_BOMB = "a: &a {" + ", ".join(f"k{i}: lol" for i in range(9)) + "}\n" + "".join(
    f"{c}: &{c} {{" + ", ".join(f"k{i}: *{p}" for i in range(9)) + "}\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _del(path: str) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        del node[int(last) if isinstance(node, list) else last]

    return change


SCENARIO_CASES = [
    # -- misspelt keys: the line of the key and the suggested key
    s("misspelt-aircraft", "      aircraft: 8", "      aircrafts: 8", "aircrafts:",
      "did you mean 'aircraft'"),
    s("misspelt-endurance", "endurance_h: 24", "endurance: 24", "endurance: 24",
      "did you mean 'endurance_h'"),
    s("misspelt-distances", "  distances:", "  distance:", "  distance:",
      "did you mean 'distances'"),
    s("misspelt-consultation", "consultation_h: 12", "consultaton_h: 12", "consultaton_h",
      "did you mean 'consultation_h'"),
    s("misspelt-flow-key", "ships: 4, speed_kts: 16}", "ships: 4, sped_kts: 16}", "sped_kts",
      "did you mean 'speed_kts'"),
    s("misspelt-description", "    description: An abstract", "    descripton: An abstract",
      "descripton:", "did you mean 'description'"),
    s("misspelt-article5", "  article5_domains:", "  article_5_domain:", "article_5_domain",
      "did you mean 'article5_domains'"),
    s("misspelt-injects", "\ninjects:\n", "\ninject:\n", "inject:", "did you mean 'injects'"),
    s("misspelt-hours", "  hours: 24", "  hour: 24", "  hour: 24", "did you mean 'hours'"),
    s("misspelt-missiles", "missiles_per_launcher: 2", "missile_per_launcher: 2",
      "missile_per_launcher", "did you mean 'missiles_per_launcher'"),
    s("misspelt-top-level", "\ntreaty:\n", "\ntreatty:\n", "treatty:",
      "did you mean 'treaty'"),
    # -- unknown keys without a close match: the valid keys are listed
    s("unknown-key-meta", "  id: alliance-2024\n", "  id: alliance-2024\n  zzz_extra: 1\n",
      "zzz_extra", "valid keys:"),
    s("unknown-key-top", "\nturns:\n", "\ncolour: blue\nturns:\n", "colour:",
      "unknown key 'colour'"),
    s("unknown-key-markup", "\nturns:\n", '\n"[/bold]": 1\nturns:\n', '"[/bold]"',
      "unknown key '[/bold]'"),
    s("unknown-key-link", "capacity: 4, hardened: true}", "capacity: 4, bandwidth: 9}",
      "bandwidth", "unknown key 'bandwidth'"),
    # -- missing keys
    s("missing-availability", "      availability: 0.8\n", "", "    mq9:", "required key"),
    s("missing-treaty", "treaty:\n  article5_domains: [land_sea_air, cyber, space]\n", "",
      "format: wargame-scenario/1", "required key"),
    s("missing-red-description", "    description: An abstract adversary pressing a claim to "
      "the disputed islands area.\n", "", "  red:\n    name: Red", "required key"),
    s("missing-c2-nodes", "    nodes:\n", "    nodes_removed: {}\n    old_nodes:\n", "  c2:",
      "required key"),
    # -- wrong types
    s("type-count-string", "aircraft: 8", 'aircraft: "8"', 'aircraft: "8"', "valid integer"),
    s("type-count-float", "aircraft: 8", "aircraft: 8.5", "aircraft: 8.5", "valid integer"),
    s("type-count-bool", "aircraft: 8", "aircraft: true", "aircraft: true", "valid integer"),
    s("type-flag-string", "anti_ship: true", 'anti_ship: "yes"', "anti_ship:",
      "valid boolean"),
    s("type-flag-int", "anti_ship: true", "anti_ship: 1", "anti_ship:", "valid boolean"),
    s("type-prob-word", "availability: 0.8", "availability: high", "availability: high",
      "valid number"),
    s("type-null", "availability: 0.8", "availability:", "availability:", "found nothing"),
    s("type-list-scalar", "members: [United States, Japan]", "members: United States",
      "members:", "valid tuple"),
    s("type-list-mapping", "zones: [disputed_islands, ecs_central, ecs_north]",
      "zones: {a: 1}", "zones: {a: 1}", "valid tuple"),
    s("type-int-list", "  count: 30", "  count: [30]", "count: [30]", "valid integer"),
    s("type-model-scalar", "kanoya: {name: Kanoya Air Base, zone: kyushu}",
      "kanoya: Kanoya Air Base", "kanoya: Kanoya", "valid dictionary"),
    s("type-format-version", "format: wargame-scenario/1", "format: wargame-scenario/2",
      "format:", "wargame-scenario/1"),
    s("type-literal-kind", "kind: land,", "kind: mountain,", "kind: mountain", "'land'"),
    s("type-literal-command", "command: joint_force_hq", "command: unified",
      "command: unified", "joint_force_hq"),
    s("type-literal-readiness", "readiness: alert", "readiness: 3", "readiness: 3",
      "garrison"),
    s("type-tuple-short", "- [kyushu, amami, 200]", "- [kyushu, amami]", "[kyushu, amami]",
      "required"),
    s("type-tuple-word", "- [kyushu, amami, 200]", "- [kyushu, amami, far]",
      "[kyushu, amami, far]", "valid number"),
    s("type-id-pattern", "  id: alliance-2024", "  id: Alliance 2024", "id: Alliance",
      "match pattern"),
    s("type-key-pattern", "    mq9:\n", "    MQ9:\n", "MQ9:", "match pattern"),
    s("type-text-empty", "  title: Alliance posture after the 2024 Tokyo 2+2", '  title: ""',
      "title:", "at least 1 character"),
    s("type-summary-long", "  summary: Joint force HQ", "  summary: " + "x" * 250 + " Joint",
      "summary:", "at most 200 characters"),
    s("type-notional-claim", "  notional: All capability values are notional, illustrative",
      "  notional: All capability values are real, measured", "meta:",
      "must say that capability values are notional"),
    s("type-params-value", "    action: joint_exercise\n",
      "    action: joint_exercise\n    params: {level: [1, 2]}\n", "params: {level",
      "expected text, a number or true/false"),
    # -- out-of-range numbers
    s("range-ships-negative", "ships: 4, speed_kts: 16", "ships: -4, speed_kts: 16",
      "ships: -4", "greater than or equal to 1"),
    s("range-ships-zero", "ships: 10,", "ships: 0,", "ships: 0", "greater than or equal to 1"),
    s("range-prob-high", "availability: 0.8", "availability: 1.5", "availability: 1.5",
      "less than or equal to 1"),
    s("range-prob-negative", "loss_p: 0.02, capacity: 4, hardened: true}",
      "loss_p: -0.1, capacity: 4, hardened: true}", "loss_p: -0.1",
      "greater than or equal to 0"),
    s("range-prob-nan", "availability: 0.8", "availability: .nan", "availability: .nan",
      "expected a finite number, found .nan"),
    s("range-turns-many", "  count: 30", "  count: 366", "count: 366",
      "less than or equal to 365"),
    s("range-hours-zero", "  hours: 24", "  hours: 0", "  hours: 0", "greater than 0"),
    s("range-hours-week", "  hours: 24", "  hours: 169", "  hours: 169",
      "less than or equal to 168"),
    s("range-area-negative", "area_nm2: 12000", "area_nm2: -5", "area_nm2: -5",
      "greater than or equal to 1"),
    s("range-aircraft-negative", "aircraft: 8", "aircraft: -1", "aircraft: -1",
      "greater than or equal to 0"),
    s("range-capacity-zero", "capacity: 8, hardened: true}", "capacity: 0, hardened: true}",
      "capacity: 0", "greater than or equal to 1"),
    s("range-inject-after-last-turn", "  - turn: 3\n", "  - turn: 31\n", "turn: 31",
      "after the last turn"),
    # -- dangling references: the dotted path and the line of the reference
    s("ref-isr-base", "base: kanoya", "base: misawa", "base: misawa", "unknown base 'misawa'"),
    s("ref-isr-report-node", "report_node: isr_ops", "report_node: pentagon",
      "report_node: pentagon", "unknown C2 node 'pentagon'"),
    s("ref-isr-zone", "zones: [disputed_islands, ecs_central, ecs_north]",
      "zones: [disputed_islands, pacific, ecs_north]", "pacific", "unknown zone 'pacific'"),
    s("ref-hq-node", "hq_node: mlr_hq", "hq_node: nowhere", "hq_node: nowhere",
      "unknown C2 node 'nowhere'"),
    s("ref-battery-site", "b1: {site: sakishima", "b1: {site: kyushu", "b1: {site: kyushu",
      "not one of the regiment's sites"),
    s("ref-regiment-site", "sites: [okinawa, sakishima, amami]",
      "sites: [okinawa, sakishima, narnia]", "narnia", "unknown zone 'narnia'"),
    s("ref-link-endpoint", "{a: isr_ops, b: usfj,", "{a: isr_ops, b: nobody,", "b: nobody",
      "unknown C2 node 'nobody'"),
    s("ref-link-self", "{a: isr_ops, b: usfj,", "{a: usfj, b: usfj,", "{a: usfj, b: usfj",
      "two different nodes"),
    s("ref-authority-node", "authority_node: usfj", "authority_node: cabinet",
      "authority_node: cabinet", "unknown C2 node 'cabinet'"),
    s("ref-red-home", "home: red_home, ships: 4, speed_kts: 16",
      "home: atlantis, ships: 4, speed_kts: 16", "atlantis", "unknown zone 'atlantis'"),
    s("ref-objective", "objective: disputed_islands", "objective: moon", "objective: moon",
      "unknown zone 'moon'"),
    s("ref-distance-zone", "- [kyushu, amami, 200]", "- [kyushu, atlantis, 200]", "atlantis",
      "unknown zone 'atlantis'"),
    s("ref-base-zone", "naha: {name: Naha Air Base, zone: okinawa}",
      "naha: {name: Naha Air Base, zone: guam}", "zone: guam", "unknown zone 'guam'"),
    s("ref-no-route", "    - [red_home, disputed_islands, 200]\n", "", "    coast_guard:",
      "no distance given"),
    # -- YAML the safe loader refuses, or that we refuse on purpose
    s("yaml-duplicate-key", "  title: Alliance posture", "  title: Again\n  title: Alliance",
      "  title: Alliance", "duplicate key 'title'"),
    s("yaml-merge-key", "    naha: {name: Naha Air Base, zone: okinawa}",
      "    naha:\n      <<: {name: Naha Air Base}\n      zone: okinawa", "<<:", "merge keys"),
    s("yaml-tab-indent", "      aircraft: 8", "\taircraft: 8", "\taircraft", "tab character"),
    s("yaml-unclosed-flow", "{name: Kyushu, area_nm2: 12000, kind: land, claimed_by: blue}",
      "{name: Kyushu, area_nm2: 12000, kind: land, claimed_by: blue", None, "YAML syntax"),
    s("yaml-unclosed-quote", 'name: "ISR operations cell, Kanoya"',
      'name: "ISR operations cell, Kanoya', None, "YAML syntax"),
    s("yaml-bad-indent", "    mq9:\n      name:", "    mq9:\n     name:", None, "YAML syntax"),
    s("yaml-stray-bracket", "  hours: 24", "  hours: 24\n] stray", "] stray", "YAML syntax"),
    s("yaml-second-document", "\ncontrollers:\n", "\n---\ncontrollers:\n", "---",
      "single document"),
    s("yaml-undefined-alias", "zone: kyushu}", "zone: *somewhere}", "*somewhere",
      "undefined alias"),
    s("yaml-python-tag", "  count: 30", '  count: !!python/object/apply:os.system ["ls"]',
      "!!python", "tag"),
    s("yaml-custom-tag", "  count: 30", "  count: !turns 30", "!turns", "constructor"),
    # YAML 1.2 has no dates: a date-like word is text, and text is not a number of turns
    s("yaml-bad-timestamp", "  count: 30", "  count: 2024-13-45", "2024-13-45",
      "valid integer"),
    s("yaml-yes-boolean", "anti_ship: true", "anti_ship: yes", "anti_ship: yes",
      "YAML booleans are written true or false"),
    s("yaml-on-boolean", "hardened: true", "hardened: on", "hardened: on",
      "YAML booleans are written true or false"),
    s("yaml-integer-as-float", "aircraft: 8", "aircraft: 8.0", "aircraft: 8.0",
      "write a whole number as 8"),
    s("yaml-underscore-integer", "aircraft: 8", "aircraft: 1_000", "aircraft: 1_000",
      "valid integer"),
    s("yaml-sexagesimal", "  count: 30", "  count: 1:30", "count: 1:30", "valid integer"),
    s("yaml-binary-tag", "  title: Alliance posture", "  title: !!binary aGVsbG8= #",
      "!!binary", "tag '!!binary' is not supported"),
    s("yaml-valid-timestamp-tag", "  count: 30", "  count: !!timestamp 2024-01-01",
      "!!timestamp", "tag '!!timestamp' is not supported"),
    s("yaml-bool-key", "\nturns:\n", "\ntrue: 1\nturns:\n", "true: 1", "unknown key 'true'"),
    s("yaml-empty-int-tag", "  count: 30", "  count: !!int", "!!int", "bad value"),
    s("yaml-bool-tag", "anti_ship: true", "anti_ship: !!bool maybe", "maybe", "bad value"),
    s("yaml-timestamp-tag", "  count: 30", "  count: !!timestamp soon", "soon", "bad value"),
    s("yaml-set-tag", "members: [United States, Japan]", "members: !!set {United States}",
      "!!set", "tag"),
    s("yaml-huge-integer", "  count: 30", "  count: " + "9" * 5000, "count: 999",
      "bad value"),
    s("yaml-recursive-alias", "  count: 30", "  count: &loop [*loop]", "&loop",
      "alias refers to a value that contains it"),
    s("yaml-deep-nesting", "  count: 30", "  count: " + "[" * 100 + "]" * 100, "count: [[",
      "nested more than"),
    s("yaml-complex-key", "  count: 30", "  ? [a, b]\n  : 30", "? [a, b]", "plain names"),
    s("yaml-null-key", "  count: 30", "  ~: 30", "~: 30", "plain names"),
    s("yaml-float-key", "  count: 30", "  1.5: 30", "1.5: 30", "plain names"),
    s("yaml-control-char", "  title: Alliance posture", "  title: Alliance\x07 posture",
      "\x07", "U+0007"),
    s("yaml-nul-byte", "  title: Alliance posture", "  title: Alliance\x00 posture", "\x00",
      "U+0000"),
    s("yaml-alias-bomb-inside", "\ncontrollers:\n",
      "\nlaughs:\n  " + BOMB.rstrip("\n").replace("\n", "\n  ") + "\ncontrollers:\n",
      "e: &e", "alias bomb"),
    raw_case("yaml-top-level-list", "scenario", "- format: wargame-scenario/1\n- meta: {}\n",
             "- format", "top level, found list"),
    raw_case("yaml-top-level-scalar", "scenario", "just some words\n", "just",
             "top level, found str"),
    raw_case("yaml-top-level-number", "scenario", "# a number\n42\n", "42",
             "top level, found int"),
    raw_case("yaml-only-format", "scenario", "format: wargame-scenario/1\n", "format:",
             "required key"),
    # -- bytes that are not UTF-8 text
    Case("bytes-latin1", "scenario",
         lambda: SCENARIO_TEXT.replace("Kyushu,", "Kyûshû,", 1).encode("latin-1"),
         "Ky", "not UTF-8"),
    Case("bytes-ff", "scenario",
         lambda: SCENARIO_TEXT.encode().replace(b"Alliance posture", b"Alliance\xff posture", 1),
         "Alliance", "byte 0xff"),
    Case("bytes-utf16", "scenario", lambda: SCENARIO_TEXT.encode("utf-16"), None,
         "not UTF-8"),
    # -- mutations of the parsed dict, dumped again with yaml.safe_dump
    d("dict-aircraft-string", "scenario", _set("blue.isr.mq9.aircraft", "eight"),
      "aircraft: eight", "valid integer"),
    d("dict-delete-meta-id", "scenario", _del("meta.id"), "meta:", "required key"),
    d("dict-sides-list", "scenario", _set("sides", ["blue", "red"]), "sides:", "valid"),
    d("dict-unknown-zone-key", "scenario", _set("theater.zones.kyushu.height_m", 3),
      "height_m", "unknown key 'height_m'"),
    d("dict-unknown-battery-site", "scenario", _set("blue.littoral.mlr12.batteries.b2.site",
                                                    "amami_south"), "amami_south",
      "not one of the regiment's sites"),
    d("dict-treaty-domain", "scenario", _set("treaty.article5_domains", ["outer_space"]),
      "outer_space", "land_sea_air"),
    d("dict-controller", "scenario", _set("controllers.red", "ai"), "red: ai", "doctrine"),
    d("dict-inject-side", "scenario", _set("injects.1.side", "green"), "side: green", "white"),
    d("dict-negative-distance", "scenario", _set("theater.distances.3.2", -450), "- -450",
      "greater than 0"),
]

RULES_CASES = [
    r("rules-threshold-unknown", "armed_attack_threshold: armed_attack",
      "armed_attack_threshold: war", "armed_attack_threshold", "unknown rung 'war'"),
    r("rules-rung-order", "{id: signalling, level: 1,", "{id: signalling, level: 9,",
      "  groups:", "must be above"),
    r("rules-rung-duplicate", "{id: brink, level: 5,", "{id: intense_crisis, level: 5,",
      "  groups:", "appears more than once"),
    r("rules-signals-unknown", "      effect: hold\n      signals: routine",
      "      effect: hold\n      signals: calm", "signals: calm", "unknown rung 'calm'"),
    r("rules-doctrine-action", "do: harden_c2", "do: reboot", "do: reboot",
      "unknown Blue action 'reboot'"),
    r("rules-condition-text", '"outages_seen > 0"', '"outages_seen is high"',
      "outages_seen is high", "not of the form"),
    r("rules-condition-fact", '"incursions_seen == 0"', '"invasions == 0"', "invasions",
      "unknown fact 'invasions'"),
    r("rules-condition-rung", '"rung >= intense_crisis"', '"rung >= apocalypse"', "apocalypse",
      "unknown rung 'apocalypse'"),
    r("rules-condition-number", '"incursions_seen > 0"', '"incursions_seen > some"',
      "incursions_seen > some", "expected a number"),
    r("rules-precondition", '["rung >= gray_zone_coercion"]', '["rung >>= x"]', "rung >>= x",
      "not of the form"),
    r("rules-doctrine-param", "params: {level: normal}", "params: {tempo: normal}",
      "tempo: normal", "no parameter 'tempo'"),
    r("rules-doctrine-choice", "params: {level: surge}", "params: {level: max}", "level: max",
      "expected one of"),
    r("rules-effect-unknown", "      effect: hold\n", "      effect: nap\n", "effect: nap",
      "'hold'"),
    r("rules-misspelt-rationality", "  rationality:", "  rationalty:", "rationalty",
      "did you mean 'rationality'"),
    r("rules-misspelt-loss", "loss_per_hit:", "loss_per_hits:", "loss_per_hits",
      "did you mean 'loss_per_hit'"),
    r("rules-misspelt-preconditions", "preconditions:", "precondition:", "precondition:",
      "did you mean 'preconditions'"),
    r("rules-rationality-range", "  rationality: ", "  rationality: 99 #", "rationality: 99",
      "less than or equal to 50"),
    r("rules-level-negative", "{id: routine, level: 0,", "{id: routine, level: -1,",
      "level: -1", "greater than or equal to 0"),
    r("rules-attribution-range", "attribution_p: ", "attribution_p: 1.9 #",
      "attribution_p: 1.9", "less than or equal to 1"),
    r("rules-param-both", "level: {choices: [low, normal, surge], default: normal}",
      "level: {choices: [low, normal, surge], kind: zone}", "kind: zone", "exactly one of"),
    r("rules-param-default", "{choices: [garrison, alert, dispersed], default: alert}",
      "{choices: [garrison, alert, dispersed], default: maximum}", "default: maximum",
      "not one of"),
    r("rules-doctrine-side", "doctrine:\n  blue:", "doctrine:\n  red:", "  red:\n    - name",
      "'blue'"),
    r("rules-format", "format: wargame-rules/1", "format: wargame-rules/9", "format:",
      "wargame-rules/1"),
    d("rules-sortie-key", "rules",
      _set("adjudication.detection.sorties_per_aircraft.extreme", 1.5), "extreme", "'surge'"),
    r("rules-gain-negative", "      gain: ", "      gain: -0.3 #", "gain: -0.3",
      "greater than or equal to 0"),
    d("rules-missing-weight", "rules", _del("red_model.weights.credibility"), "weights:",
      "required key"),
    r("rules-one-group", "    - name: Gray-zone crisis\n", "    - name: Gray-zone crisis\n"
      "      extra: 1\n", "extra: 1", "unknown key 'extra'"),
    d("rules-dict-rungs-empty", "rules", _set("ladder.groups.0.rungs", []), "rungs: []",
      "at least 1 item"),
    d("rules-dict-menu-list", "rules", _set("actions.red", ["patrol"]), "red:", "valid"),
    Case("rules-scenario-text", "rules", lambda: SCENARIO_TEXT, "format:", "wargame-rules/1",
         cli=False),
]

HAND_CASES = SCENARIO_CASES + RULES_CASES


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in cases]


def assert_located(err: InputError, name: str, *, lines: bool = True) -> None:
    """Every problem names the file; with lines, each also has a line; messages are short."""
    assert err.problems, "an InputError without problems"
    for p in err.problems:
        assert p.file == name
        if lines:
            assert p.line is not None and p.line >= 1, str(p)
            assert p.column is None or p.column >= 1
        assert len(str(p)) < 600, f"message too long: {str(p)[:200]}..."
    text = str(err)
    assert name in text and "Traceback" not in text


@pytest.mark.parametrize("case", _params(HAND_CASES))
def test_hand_written_malformed_input(case: Case) -> None:
    raw = case.raw()
    name = f"{case.id}.yaml"
    with pytest.raises(InputError) as info:
        case.parse(raw, name)
    err = info.value
    # YAML-level problems are plain InputErrors; model problems use the kind's subclass
    assert type(err) in (InputError, ScenarioError if case.kind == "scenario" else RulesError)
    assert_located(err, name)
    matching = [p for p in err.problems if case.says in p.message]
    assert matching, f"no problem says {case.says!r}: {err}"
    expected = case.line(raw)
    if expected is not None:
        assert any(p.line == expected for p in matching), (
            f"expected line {expected} in: {err}")


def test_the_corpus_is_large_and_covers_every_category() -> None:
    assert len(HAND_CASES) >= 60
    ids = {c.id for c in HAND_CASES}
    for prefix in ("misspelt-", "unknown-key", "missing-", "type-", "range-", "ref-", "yaml-",
                   "bytes-", "dict-", "rules-"):
        assert any(i.startswith(prefix) for i in ids), prefix
    assert len(ids) == len(HAND_CASES), "case ids must be unique"


MISSPELT = [c for c in HAND_CASES if "misspelt" in c.id]


@pytest.mark.parametrize("case", _params(MISSPELT))
def test_misspelt_key_points_at_the_key_and_suggests_the_right_one(case: Case) -> None:
    raw = case.raw()
    assert isinstance(raw, str)
    with pytest.raises(InputError) as info:
        case.parse(raw, "typo.yaml")
    (problem,) = [p for p in info.value.problems if "unknown key" in p.message]
    line = line_of(raw, case.at or "")
    text_line = raw.splitlines()[line - 1]
    key = problem.field.rpartition(".")[2]
    assert problem.line == line
    assert problem.column == text_line.index(key) + 1
    assert case.says in problem.message
    assert str(problem).startswith(f"typo.yaml:{line}:{problem.column}: {problem.field}: ")


def test_misspelt_aircraft_message_reads_well() -> None:
    raw = SCENARIO_TEXT.replace("      aircraft: 8", "      aircrafts: 8", 1)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(raw, "my.yaml")
    line = line_of(raw, "aircrafts:")
    assert (f"my.yaml:{line}:7: blue.isr.mq9.aircrafts: unknown key 'aircrafts'; "
            "did you mean 'aircraft'?") in str(info.value).splitlines()


# ---- standalone files ------------------------------------------------------------------------

# file name -> (expected line or None for a file-level problem, text of the message)
STANDALONE = {
    "alias-bomb.yaml": (7, "alias bomb"),
    "control-char.yaml": (3, "U+001B"),
    "deep-nesting.yaml": (2, "nested more than"),
    "duplicate-keys.yaml": (4, "duplicate key 'meta'"),
    "empty.yaml": (None, "file is empty"),
    "latin1.yaml": (3, "not UTF-8"),
    "merge-key.yaml": (5, "merge keys"),
    "only-comment.yaml": (None, "file is empty"),
    "python-tag.yaml": (2, "tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    "recursive-alias.yaml": (2, "contains it"),
    "tabs.yaml": (3, "tab character"),
    "top-level-list.yaml": (1, "top level, found list"),
    "top-level-scalar.yaml": (1, "top level, found str"),
    "unknown-format.yaml": (1, "wargame-scenario/1"),
    "whitespace-only.yaml": (None, "file is empty"),
}


def test_standalone_files_are_all_listed() -> None:
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(STANDALONE)


@pytest.mark.parametrize("filename", sorted(STANDALONE))
def test_standalone_malformed_file(filename: str) -> None:
    line, says = STANDALONE[filename]
    path = MALFORMED / filename
    with pytest.raises(InputError) as info:
        load_any(path)
    assert_located(info.value, str(path), lines=line is not None)
    assert any(says in p.message for p in info.value.problems), str(info.value)
    if line is not None:
        assert any(p.line == line for p in info.value.problems), str(info.value)
    # the same bytes through both parsers: never anything but an InputError
    for parse in (parse_scenario, parse_rules):
        with pytest.raises(InputError):
            parse(path.read_bytes(), filename)


def test_non_utf8_reports_line_and_column() -> None:
    raw = SCENARIO_TEXT.encode().replace(b"Alliance posture", b"Alliance\xff posture", 1)
    with pytest.raises(InputError) as info:
        parse_scenario(raw, "bytes.yaml")
    (p,) = info.value.problems
    line = line_of(raw, "Alliance")
    assert (p.line, p.column) == (line, len("  title: Alliance") + 1)
    assert "0xff" in p.message


def test_control_character_reports_line_and_column() -> None:
    raw = "format: wargame-scenario/1\nmeta:\n  title: a\x1bb\n"
    with pytest.raises(InputError) as info:
        parse_scenario(raw, "ctrl.yaml")
    (p,) = info.value.problems
    assert (p.line, p.column) == (3, len("  title: a") + 1)


# ---- resource bounds -------------------------------------------------------------------------


def _bounded(call: Callable[[], Any]) -> tuple[BaseException, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        call()
    except InputError as e:
        caught: BaseException = e
    else:
        pytest.fail("not refused")
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return caught, elapsed, peak


@pytest.mark.parametrize("text", [
    pytest.param(BOMB, id="billion-laughs"),
    pytest.param(MAP_BOMB, id="mapping-laughs"),
    pytest.param("a: &a [" + ", ".join(["x"] * 500) + "]\nb: [" + ", ".join(["*a"] * 1000)
                 + "]\n", id="wide"),
], )
def test_alias_bomb_refused_quickly_with_bounded_memory(text: str) -> None:
    yaml.compose(text, Loader=yaml.SafeLoader)  # the text itself is valid YAML
    err, elapsed, peak = _bounded(lambda: parse_scenario(text, "bomb.yaml"))
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert peak < 50_000_000, f"peak {peak / 1e6:.1f} MB"
    assert f"{MAX_NODES:,}" in str(err) and "bomb.yaml" in str(err)


def test_alias_bomb_file_refused_quickly() -> None:
    err, elapsed, peak = _bounded(lambda: load_scenario(MALFORMED / "alias-bomb.yaml"))
    assert elapsed < 2.0 and peak < 50_000_000
    assert "alias bomb" in str(err)


def test_modest_aliases_are_fine() -> None:
    doc = read_yaml("a: &a [1, 2, 3]\nb: *a\nc: {x: *a}\n", "ok.yaml")
    assert doc.data == {"a": [1, 2, 3], "b": [1, 2, 3], "c": {"x": [1, 2, 3]}}
    assert doc.marks["c.x"] == (3, 5)


def test_huge_text_refused_naming_the_limit() -> None:
    raw = SCENARIO_TEXT + "# " + "x" * (MAX_BYTES + 100) + "\n"
    err, elapsed, _ = _bounded(lambda: parse_scenario(raw, "huge.yaml"))
    assert elapsed < 2.0
    assert "huge.yaml" in str(err) and f"{MAX_BYTES:,}" in str(err)


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(SCENARIO_TEXT + "# " + "x" * (MAX_BYTES + 100) + "\n", encoding="utf-8")
    for call in (load_any, load_scenario, load_rules, read_file):
        with pytest.raises(InputError) as info:
            call(path)
        assert str(path) in str(info.value) and f"{MAX_BYTES:,}" in str(info.value)


def test_a_file_just_under_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    padding = MAX_BYTES - len(SCENARIO_TEXT.encode()) - 10
    path.write_text(SCENARIO_TEXT + "#" + "x" * padding + "\n", encoding="utf-8")
    assert load_scenario(path).meta.id == "alliance-2024"


# ---- files that are not files ------------------------------------------------------------------


def test_directory_is_refused(tmp_path: Path) -> None:
    for call in (load_any, load_scenario, load_rules):
        with pytest.raises(InputError) as info:
            call(tmp_path)
        assert_located(info.value, str(tmp_path), lines=False)
        assert "directory" in str(info.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    for call in (load_any, load_scenario, load_rules):
        with pytest.raises(InputError) as info:
            call(path)
        assert_located(info.value, str(path), lines=False)
        assert "cannot read" in str(info.value)


def test_unknown_builtin_name_lists_the_builtins() -> None:
    with pytest.raises(InputError) as info:
        load_scenario("alliance-2099")
    assert "alliance-2024" in str(info.value) and "alliance-2099" in str(info.value)
    with pytest.raises(InputError) as info:
        load_rules("deluxe")
    assert "standard" in str(info.value)


@pytest.mark.parametrize("raw", ["", "\n\n", "   \n", "# only a comment\n", "---\n", "...\n",
                                 b"", b"\xef\xbb\xbf"])
def test_empty_documents(raw: str | bytes) -> None:
    for parse in (parse_scenario, parse_rules):
        with pytest.raises(InputError) as info:
            parse(raw, "empty.yaml")
        assert_located(info.value, "empty.yaml", lines=False)
        assert "empty" in str(info.value)


def test_unknown_format_names_the_format_line(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("# a comment\nname: x\nformat: something-else/3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_any(path)
    (p,) = info.value.problems
    assert (p.line, p.column, p.field) == (3, 1, "format")
    assert "something-else/3" in p.message


# ---- hypothesis: generated malformed inputs --------------------------------------------------

SCENARIO_DATA = yaml.safe_load(SCENARIO_TEXT)
RULES_DATA = yaml.safe_load(RULES_TEXT)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


SCENARIO_PATHS = _paths(SCENARIO_DATA)
RULES_PATHS = _paths(RULES_DATA)

ids = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
odd_keys = st.one_of(ids, st.text(max_size=12), st.integers(-5, 5), st.booleans())
wrong_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), ids,
    st.lists(st.one_of(st.integers(), ids), max_size=3),
    st.dictionaries(ids, st.one_of(st.integers(), ids), max_size=3),
)
OPS = ("delete", "replace", "insert", "number", "reference")


def _resolve(data: Any, path: tuple) -> tuple[Any, Any] | None:
    """(parent, key) for path in data, or None if an earlier mutation removed it."""
    node = data
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    if isinstance(node, dict) and path[-1] in node:
        return node, path[-1]
    if isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node):
        return node, path[-1]
    return None


@st.composite
def mutated_documents(draw: st.DrawFn, data: dict, paths: list[tuple]) -> str:
    """The built-in data with 1-3 random mutations, dumped as YAML."""
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        found = _resolve(data, draw(st.sampled_from(paths)))
        if found is None:
            continue
        parent, key = found
        value = parent[key]
        op = draw(st.sampled_from(OPS))
        if op == "delete":
            del parent[key]
        elif op == "insert":
            target = value if isinstance(value, dict) else parent
            if isinstance(target, dict):
                target[draw(odd_keys)] = draw(wrong_values)
            else:
                target.insert(draw(st.integers(0, len(target))), draw(wrong_values))
        elif op == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            parent[key] = draw(st.sampled_from([
                -value, -1, 0, value * 1_000_000, value + 0.5, 1e308, math.nan, math.inf,
                -math.inf, 10**30, 101, 366, 1.0000001]))
        elif op == "reference" and isinstance(value, str):
            parent[key] = draw(ids)
        else:
            parent[key] = draw(wrong_values)
    return yaml.safe_dump(data, sort_keys=draw(st.booleans()),
                          default_flow_style=draw(st.sampled_from([False, None])))


@st.composite
def text_mutations(draw: st.DrawFn, text: str) -> str:
    """The built-in text with a random span deleted, random text inserted or a truncation."""
    at = draw(st.integers(0, len(text)))
    op = draw(st.sampled_from(["delete", "insert", "truncate", "swap-lines"]))
    if op == "delete":
        return text[:at] + text[at + draw(st.integers(1, 200)):]
    if op == "insert":
        junk = draw(st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@`? \n\t\x07\x85"
                                                          "az09_.")), min_size=1, max_size=10))
        return text[:at] + junk + text[at:]
    if op == "truncate":
        return text[:at]
    lines = text.splitlines(keepends=True)
    i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


YAML_TOKENS = [*"{}[]:,-&*!|>'\"#%@`?~<= \n\t", "a", "b", "format", "wargame-scenario/1",
               "meta", "&x", "*x", "!!int", "!!bool", "!!binary", "!!set", "<<", "\ufeff",
               "\x00", "é", "---", "...", "  ", "- ", ": "]
YAMLISH = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)
plain = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)


def check_parse(parse: Callable[[str | bytes, str], Any], raw: str | bytes, name: str,
                *, lines: bool = True) -> None:
    """Either a valid model or an InputError naming the file (and, for YAML, a line)."""
    try:
        parse(raw, name)
    except InputError as e:
        assert e.problems and name in str(e) and "Traceback" not in str(e)
        for p in e.problems:
            assert p.file == name
            if lines and not p.message.startswith("file is empty"):
                assert p.line is not None, str(p)


FAST = {"deadline": None, "database": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


@settings(max_examples=80, **FAST)
@given(mutated_documents(SCENARIO_DATA, SCENARIO_PATHS))
def test_generated_scenario_mutations(text: str) -> None:
    check_parse(parse_scenario, text, "mutant.yaml")


@settings(max_examples=50, **FAST)
@given(mutated_documents(RULES_DATA, RULES_PATHS))
def test_generated_rules_mutations(text: str) -> None:
    check_parse(parse_rules, text, "mutant-rules.yaml")


@settings(max_examples=50, **FAST)
@given(st.sampled_from(["scenario", "rules"]).flatmap(
    lambda k: st.tuples(st.just(k), text_mutations(SCENARIO_TEXT if k == "scenario"
                                                   else RULES_TEXT))))
def test_generated_text_mutations(kind_and_text: tuple[str, str]) -> None:
    kind, text = kind_and_text
    check_parse(parse_scenario if kind == "scenario" else parse_rules, text, "edited.yaml")


@settings(max_examples=40, **FAST)
@given(st.binary(max_size=300))
def test_generated_random_bytes(raw: bytes) -> None:
    check_parse(parse_scenario, raw, "noise.yaml", lines=False)
    check_parse(parse_rules, raw, "noise.yaml", lines=False)


@settings(max_examples=40, **FAST)
@given(YAMLISH)
def test_generated_yamlish_text(text: str) -> None:
    check_parse(parse_scenario, text, "yamlish.yaml", lines=False)
    check_parse(parse_rules, text, "yamlish.yaml", lines=False)


@settings(max_examples=30, **FAST)
@given(plain)
def test_generated_plain_documents(value: Any) -> None:
    text = yaml.safe_dump(value)
    with pytest.raises(InputError) as info:
        parse_scenario(text, "plain.yaml")
    assert "plain.yaml" in str(info.value)


def test_a_large_file_of_small_values_is_refused_quickly(tmp_path):
    """Just under the size limit but far over the value limit: refused from the parser's event
    stream before any node is built."""
    lines = ["format: wargame-scenario/1", "x:"]
    lines += [f"  - [{i}, {i + 1}, {i + 2}, {i + 3}]" for i in range(0, 200_000, 4)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 2_000_000
    start = time.perf_counter()
    with pytest.raises(InputError, match="more than 50,000 values"):
        load_scenario(path)
    assert time.perf_counter() - start < 5
