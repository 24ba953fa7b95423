"""After-action reports: one streaming pass over a log becomes a self-contained HTML (or Markdown)
report with the outcome, the umpire's final map, a timeline, matplotlib figures, the turning
points and every chance draw explained in plain words, and each side's orders per turn beside
its reasons (a team's rationale; for Blue's doctrine, the rules that fired).

Turning points are at most five moments chosen by their effect on the outcome, not every rung
move: each candidate (Red's decision to attack, how Blue learned of it, Red's closest call when
it held back, a lost authority message, an attribution, a cyber or space attack, a strike or
salvo, a first sighting) scores a weight for its kind times (2 - the chance of what happened);
``SCORING`` says it in words and the report prints it. Each is told with names from the
scenario and its chance as a percentage ("an aircraft of the MQ-9 detachment, Kanoya (mq9.2)
had a 39% chance to find the Red coast guard flotilla ... in its 6 hours of search; it did").

Public API (a notebook depends on it): ``build_figures(records)`` returns matplotlib figures keyed
``rung``, ``detections``, ``c2`` and ``losses``; ``render(path, fmt)`` returns the report as text;
``write(path, out, fmt)`` writes it, with PNG files beside a Markdown report. Figures use the Agg
canvas directly (no pyplot, no display). Truncated and forked logs are reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from engine.errors import LogError
from engine.io.replay import read_log
from engine.present.document import (
    Block,
    Callout,
    Document,
    Image,
    Items,
    Paragraph,
    Section,
    Svg,
    Table,
    to_html,
    to_markdown,
)
from engine.present.figures import FIGURES, Tally, figures_from, png
from engine.present.figures import build_figures as build_figures  # public here: notebooks use it
from engine.present.narrative import labels_of, tell
from engine.present.svgmap import layer_for, theater_svg
from engine.spec.scenario import Scenario

Rec = dict[str, Any]
Said = tuple[str, bool]  # a sentence, and whether the outcome went against the odds
FORMATS = ("html", "md")
TIMELINE = frozenset({
    "umpire.inject", "escalation.rung", "escalation.threshold", "alliance.armed_attack",
    "alliance.article5", "red.incursion", "isr.detect", "red.cyber.attack",
    "red.counterspace.attack", "intel.attribution", "c2.link.degraded", "space.degraded",
    "c2.authority.granted", "engagement.salvo", "engagement.strike", "orders.rejected",
    "game.fork",
})
ODD = 0.35  # an outcome this unlikely (or less) went against the odds
MEASURES = {
    "deterrence_held": "Deterrence held", "failure_turn": "Turn Red crossed the threshold",
    "known_turn": "Turn Blue learned of the armed attack",
    "article5_turn": "Turn Article V was invoked", "highest_rung": "Highest rung",
    "highest_level": "Highest level", "turns_played": "Turns played",
    "red_gains": "Red gains", "red_losses": "Red ships lost",
    "blue_losses": "Blue launchers lost", "incursions": "Red incursions",
    "incursions_detected": "Incursions detected",
    "mean_time_to_detect_h": "Mean time to detect an incursion (h)",
    "detections": "Detections", "c2_messages": "C2 messages sent",
    "c2_mean_latency_h": "C2 mean delivery latency (h)",
    "c2_delivery_rate": "C2 delivery rate",
}
NOTIONAL = ("Notional exercise: every number in this report is an illustrative teaching value, "
            "never a claim about a real system. Red is an abstract adversary.")


# ---- chance draws in plain words -------------------------------------------------------------

def _drew(what: str, p: float, u: float, yes: str, no: str) -> Said:
    """'<what> chance p, drew u: outcome' and whether the outcome went against the odds."""
    hit = u < p
    odd = (p if hit else 1 - p) < ODD
    return f"{what} chance {p:.2f}, drew {u:.2f}: {yes if hit else no}", odd


def explain(rec: Rec, threshold_actions: frozenset[str] = frozenset()) -> Said | None:
    """A chance record in plain words, and whether it went against the odds; None otherwise."""
    if rec["kind"] == "red.decision":
        return _explain_decision(rec["data"], threshold_actions)
    teller = DRAWS.get(rec["kind"])
    return teller(rec, rec["data"]) if teller else None


def _search(r: Rec, d: Rec) -> Said:
    text, odd = _drew("detection", d["p_detect"], d["draw"], "detected", "missed")
    return f"{r['unit']} searched for Red {d['group']} in {d['zone']}: {text}", odd


def _cyber(r: Rec, d: Rec) -> Said:
    text, odd = _drew("cyber attack", d["p_success"], d["draw"], "link degraded", "repelled")
    return f"Red cyber attack on link {d['link']}: {text}", odd


def _space(r: Rec, d: Rec) -> Said:
    what = "destructive space attack" if d.get("destructive") else "space jamming"
    text, odd = _drew(what, d["p_success"], d["draw"], "space links degraded", "no effect")
    return f"Red counterspace attack: {text}", odd


def _lost(r: Rec, d: Rec) -> Said | None:
    if "p_loss" not in d:  # lost for want of a route: no draw
        return None
    text, odd = _drew("message loss", d["p_loss"], d["draw"], "lost", "delivered")
    return f"A message ({d['what']}) to {d['to']} over link {d['link']}: {text}", odd


def _share(r: Rec, d: Rec) -> Said:
    text, odd = _drew("intelligence sharing", d["p_share"], d["draw"], "shared", "withheld")
    return f"A track from {r['unit']} to {d['to']}: {text}", odd


def _attribution(r: Rec, d: Rec) -> Said | None:
    if d.get("draw") is None:  # a move's attribution follows detection: no draw
        return None
    text, odd = _drew("attribution", d["p_attribute"], d["draw"], "attributed to Red",
                      "unattributed")
    return f"Red's {d['action']}: {text}", odd


DRAWS: dict[str, Callable[[Rec, Rec], Said | None]] = {
    "isr.search": _search, "red.cyber.attack": _cyber, "red.counterspace.attack": _space,
    "c2.message.lost": _lost, "c2.share.withheld": _share, "red.gain": _attribution,
}


def _explain_decision(d: Rec, threshold_actions: frozenset[str]) -> Said:
    options, choice = d["options"], d["choice"]
    p = options[choice]["p"]
    text = f"Red chose {choice} with probability {p:.2f} (draw {d['draw']:.3f})"
    best = max(sorted(options), key=lambda a: options[a]["p"])
    if best != choice:
        text += f"; its likeliest option was {best} ({options[best]['p']:.2f})"
    armed = sum(o["p"] for a, o in options.items() if a in threshold_actions)
    if armed >= 0.005:
        text += f"; chance of an armed attack this turn {armed:.2f}"
    return text, p < options[best]["p"] / 2


# ---- turning points: the moments that decided the outcome, in words a student follows ---------

POINTS = 5
WEIGHTS = {"attack": 10.0, "known": 8.0, "restraint": 6.0, "authority": 5.0,
           "attribution": 4.0, "attack_worked": 3.0, "attack_failed": 1.0, "strike": 3.0,
           "salvo": 2.0, "first_seen": 2.0, "track_lost": 1.0}
LOSS_WEIGHT = 5.0  # added to a salvo's or strike's weight per whole force destroyed
SCORING = ("Each candidate moment scores its weight - how much that kind of moment moves the "
           "outcome: Red's decision to attack 10; how Blue learned of the attack 8; the turn Red "
           "came closest to attacking without doing so 6; a lost message about engagement "
           "authority 5; an attribution made or missed 4; a cyber or space attack that worked 3 "
           "(1 when it failed); a Red strike 3 and a Blue salvo 2, each plus 5 times the share "
           "of the target it destroyed; Blue's first sighting of a Red group 2; a lost track "
           "report 1 - multiplied by 2 minus the chance of what happened, so a result that was "
           "unlikely counts up to twice as much (a moment with no chance in it counts once). "
           "The five highest are listed.")


def pct(p: float) -> str:
    """A chance as a percentage: '39%', 'under 1%', 'over 99%'."""
    if p < 0.005:
        return "under 1%"
    if p > 0.995:
        return "over 99%"
    return f"{p * 100:.0f}%"


def chance(p: float) -> str:
    """A chance with its article: 'a 39% chance', 'an 80% chance', 'less than a 1% chance'."""
    if p < 0.005:
        return "less than a 1% chance"
    if p > 0.995:
        return "more than a 99% chance"
    n = f"{p * 100:.0f}"
    return f"{'an' if n.startswith('8') or n in ('11', '18') else 'a'} {n}% chance"


def hours_words(h: float) -> str:
    if h < 1:
        minutes = round(h * 60)
        return f"{minutes} minutes" if minutes > 1 else "about a minute"
    return "about an hour" if h < 1.5 else f"{h:.0f} hours"


def _amount(x: float) -> str:
    return f"{round(x, 1):g}"


def _lc(text: str) -> str:
    return text[:1].lower() + text[1:]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _the(name: str) -> str:
    return name if name.lower().startswith("the ") else f"the {name}"


class Names:
    """Display names from a log header's scenario (ids only where it has no name)."""

    def __init__(self, scenario: Rec, labels: dict[str, str]) -> None:
        self.s, self.labels = scenario, labels

    def _name(self, path: tuple[str, ...], key: str) -> str | None:
        table: Any = self.s
        for part in path:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        entry = table.get(key) if isinstance(table, dict) else None
        return str(entry["name"]) if isinstance(entry, dict) and "name" in entry else None

    def zone(self, z: str) -> str:
        return self._name(("theater", "zones"), z) or z

    def group(self, g: str) -> str:
        return _the(self._name(("red", "groups"), g) or f"Red group {g}")

    def node(self, n: str) -> str:
        return self._name(("blue", "c2", "nodes"), n) or n

    def link(self, lid: str) -> str:
        link = self.s.get("blue", {}).get("c2", {}).get("links", {}).get(lid)
        if not isinstance(link, dict):
            return f"link {lid}"
        return f"the link between {self.node(link['a'])} and {self.node(link['b'])}"

    def aircraft(self, unit: str) -> str:
        det = self._name(("blue", "isr"), unit.partition(".")[0])
        return f"an aircraft of the {det} ({unit})" if det else f"aircraft {unit}"

    def battery(self, key: str) -> str:
        rid, _, bid = key.partition(".")
        reg = self._name(("blue", "littoral"), rid)
        return f"battery {bid} of the {reg}" if reg and bid else f"battery {key}"

    def red_unit(self, table: str, uid: str) -> str:
        return _the(self._name(("red", table), uid) or f"Red unit {uid}")

    def action(self, aid: str) -> str:
        return _lc(self.labels.get(aid, aid.replace("_", " ")))


@dataclass
class Point:
    seq: int
    turn: int
    t: float
    score: float
    text: str


MESSAGES = {"authority.request": "request for engagement authority",
            "authority.grant": "grant of engagement authority", "track": "track report"}


class Turning:
    """Candidate turning points, gathered record by record, scored (see SCORING)."""

    def __init__(self, names: Names, threshold_actions: frozenset[str]) -> None:
        self.n, self.armed = names, threshold_actions
        self.points: list[Point] = []
        self.closest: Point | None = None  # Red's closest call, when it held back
        self.closest_p = 0.0
        self.searches: dict[tuple[str, str, float], float] = {}  # unit, group, draw -> hours
        self.last_detect: Rec | None = None
        self.last_effect: Rec | None = None
        self.last_attribution: Rec | None = None
        self.seen: set[str] = set()
        self.attack_turn: int | None = None
        self.known = False

    def _add(self, rec: Rec, kind: str, text: str, p: float | None,
             extra: float = 0.0) -> Point:
        """A candidate: ``p`` is the chance of what happened (None: no chance in it)."""
        score = (WEIGHTS[kind] + extra) * (2.0 - (1.0 if p is None else p))
        point = Point(rec["seq"], rec["turn"], float(rec["t"]), score,
                      f"Turn {rec['turn']}, hour {float(rec['t']):.0f}: {text}")
        self.points.append(point)
        return point

    def top(self) -> list[str]:
        """The highest-scoring points (at most five), in the order they happened."""
        pool = self.points + ([self.closest] if self.closest and self.attack_turn is None
                              else [])
        best = sorted(pool, key=lambda p: (-p.score, p.seq))[:POINTS]
        return [p.text for p in sorted(best, key=lambda p: p.seq)]

    def add(self, rec: Rec) -> None:
        kind, d = rec["kind"], rec["data"]
        handler = getattr(self, "_" + kind.replace(".", "_"), None)
        if kind in ("engagement.strike", "c2.link.degraded", "space.degraded") or (
                kind in ("red.cyber.attack", "red.counterspace.attack")
                and d.get("draw") is not None and d["draw"] < d["p_success"]):
            self.last_effect = rec
        if handler is not None:
            handler(rec, d)

    def _red_decision(self, rec: Rec, d: Rec) -> None:
        options, choice = d["options"], d["choice"]
        armed = sum(o["p"] for a, o in options.items() if a in self.armed)
        best = max(sorted(options), key=lambda a: options[a]["p"])
        if choice in self.armed:
            if self.attack_turn is not None:
                return  # the war goes on: the first decision was the turning point
            likeliest = ("it was also its likeliest option" if best == choice else
                         f"its likeliest option was {self.n.action(best)}, at "
                         f"{pct(options[best]['p'])}")
            self._add(rec, "attack", f"Red chose an armed attack: {self.n.action(choice)}. "
                      f"It had {chance(armed)} of choosing one this turn ({likeliest}); "
                      "it did.", armed)
            self.attack_turn = rec["turn"]
        elif armed >= 0.05 and (self.closest is None or armed > self.closest_p):
            self.closest_p = armed
            self.closest = Point(rec["seq"], rec["turn"], float(rec["t"]),
                                 WEIGHTS["restraint"] * (1.0 + armed),
                                 f"Turn {rec['turn']}, hour {float(rec['t']):.0f}: Red came "
                                 f"closest to an armed attack. It had {chance(armed)} "
                                 f"of choosing one this turn; it did not, and chose "
                                 f"{self.n.action(choice)} ({pct(options[choice]['p'])}).")

    def _escalation_threshold(self, rec: Rec, d: Rec) -> None:
        if self.attack_turn is None:  # no decision record: a team ordered it
            self.attack_turn = rec["turn"]
            self._add(rec, "attack", f"Red's team ordered an armed attack: "
                      f"{self.n.action(d['action'])} (a team's choice: no chance in it).", None)

    def _isr_search(self, rec: Rec, d: Rec) -> None:
        self.searches[(rec["unit"], d["group"], float(d["draw"]))] = float(d["hours"])

    def _isr_detect(self, rec: Rec, d: Rec) -> None:
        self.last_detect = rec
        if d["group"] in self.seen:
            return
        self.seen.add(d["group"])
        self._add(rec, "first_seen", f"Blue first found {self.n.group(d['group'])}: "
                  + self._detection(rec, d, "it") + ".", float(d["p_detect"]))

    def _detection(self, rec: Rec, d: Rec, what: str = "") -> str:
        hours = self.searches.get((rec["unit"], d["group"], float(d["draw"])))
        during = f" in its {hours_words(hours)} of search" if hours is not None else ""
        return (f"{self.n.aircraft(rec['unit'])} had {chance(float(d['p_detect']))} to "
                f"find {what or self.n.group(d['group'])} over {self.n.zone(d['zone'])}"
                f"{during}; it did")

    def _alliance_armed_attack(self, rec: Rec, d: Rec) -> None:
        if self.known:
            return
        self.known = True
        late = ("" if self.attack_turn in (None, rec["turn"]) else
                f" (Red had ordered it on turn {self.attack_turn})")
        det = self.last_detect
        if d["how"] == "detected" and det is not None:
            self._add(rec, "known", f"Blue learned of the armed attack{late}: "
                      + self._detection(det, det["data"]) + ".", float(det["data"]["p_detect"]))
        elif d["how"] == "effects":
            what = self._effect(self.last_effect)
            self._add(rec, "known", f"Blue learned of the armed attack{late} only when its "
                      f"effects landed{what}; no sensor had found the attacking force first "
                      "(effects always reveal an attack: no chance in it).", None)
        elif self.last_attribution is not None:
            a = self.last_attribution["data"]
            p = float(a["p_attribute"])
            self._add(rec, "known", f"Blue learned of the armed attack{late}: intelligence had "
                      f"{chance(p)} to attribute {_the(self.n.action(a['action']))} to Red; "
                      "it did.", p)
        else:
            self._add(rec, "known", f"Blue learned of the armed attack{late}: its intelligence "
                      "attributed it to Red once it was detected (no chance in it).", None)

    def _effect(self, rec: Rec | None) -> str:
        if rec is None:
            return ""
        d = rec["data"]
        if rec["kind"] == "engagement.strike":
            return (f": {self.n.group(rec['unit'])} struck {self.n.battery(d['target'])}")
        if rec["kind"] in ("space.degraded", "red.counterspace.attack"):
            return ": the alliance's space links went down"
        link = rec["unit"] if rec["kind"] == "c2.link.degraded" else d["link"]
        return f": {self.n.link(link)} went down"

    def _engagement_salvo(self, rec: Rec, d: Rec) -> None:
        before, lost = float(d["ships_before"]), float(d["ships_lost"])
        result = (f"{d['hits']} hit and {_amount(lost)} of {_amount(before)} ships were lost"
                  if d["hits"] else "none hit and no ship was lost")
        self._add(rec, "salvo", f"{_cap(self.n.battery(rec['unit']))} fired "
                  f"{d['missiles']} missiles at {self.n.group(d['target'])}. Each had "
                  f"{chance(float(d['p_hit']))} to hit, and each of the {d['interceptors']} "
                  f"Red interceptors {chance(float(d['p_intercept']))} to stop one: "
                  f"{d['good_shots']} were on target, {d['intercepts']} were stopped, "
                  f"{result}.", None,
                  LOSS_WEIGHT * (lost / before if before else 0.0))

    def _engagement_strike(self, rec: Rec, d: Rec) -> None:
        before, lost = float(d["launchers_before"]), float(d["launchers_lost"])
        scouting = (f" (Red's scouting gave it {chance(float(d['scouting']))} of finding "
                    "its target)" if "scouting" in d else "")
        self._add(rec, "strike", f"{_cap(self.n.group(rec['unit']))} struck "
                  f"{self.n.battery(d['target'])}: {_amount(lost)} of its {_amount(before)} "
                  f"launchers were destroyed{scouting}.", None,
                  LOSS_WEIGHT * (lost / before if before else 0.0))

    def _c2_message_lost(self, rec: Rec, d: Rec) -> None:
        what = MESSAGES.get(d["what"], f"message ({d['what']})")
        kind = "authority" if d["what"].startswith("authority") else "track_lost"
        route = (f"from {self.n.node(rec['unit'])} to {self.n.node(d['to'])}")
        after = (", so engagement authority was delayed: it must be asked for again"
                 if kind == "authority" else "")
        if d.get("draw") is None:
            self._add(rec, kind, f"A {what} {route} could not be sent: no route was "
                      f"up, so it was lost for certain (no chance in it){after}.", None)
            return
        p = float(d["p_loss"])
        self._add(rec, kind, f"A {what} {route} was lost on {self.n.link(d['link'])}. It had "
                  f"{chance(p)} of being lost; it was{after}.", p)

    def _attribution(self, rec: Rec, d: Rec, made: bool) -> None:
        p = float(d["p_attribute"])
        self._add(rec, "attribution", f"Intelligence had {chance(p)} to attribute "
                  f"{_the(self.n.action(d['action']))} to Red; "
                  + ("it did." if made else "it did not, so Red kept its whole gain."),
                  p if made else 1.0 - p)

    def _intel_attribution(self, rec: Rec, d: Rec) -> None:
        if d.get("draw") is not None:
            self.last_attribution = rec
            self._attribution(rec, d, True)

    def _red_gain(self, rec: Rec, d: Rec) -> None:
        if d.get("draw") is not None and not d["attributed"]:
            self._attribution(rec, d, False)

    def _red_cyber_attack(self, rec: Rec, d: Rec) -> None:
        p, worked = float(d["p_success"]), d["draw"] < d["p_success"]
        self._add(rec, "attack_worked" if worked else "attack_failed",
                  f"{_cap(self.n.red_unit('cyber', rec['unit']))} attacked "
                  f"{self.n.link(d['link'])}"
                  + (", a hardened link," if d.get("hardened") else "")
                  + f": it had {chance(p)} to take it down; "
                  + ("it did." if worked else "it failed."), p if worked else 1.0 - p)

    def _red_counterspace_attack(self, rec: Rec, d: Rec) -> None:
        p, worked = float(d["p_success"]), d["draw"] < d["p_success"]
        how = "attacked" if d.get("destructive") else "jammed"
        self._add(rec, "attack_worked" if worked else "attack_failed",
                  f"{_cap(self.n.red_unit('counterspace', rec['unit']))} {how} the "
                  f"alliance's space links: it had {chance(p)} to take them down; "
                  + ("it did." if worked else "it failed."), p if worked else 1.0 - p)


# ---- the story: timeline, turning points, orders ---------------------------------------------

@dataclass
class Story:
    """The narrative parts of a report, gathered record by record."""

    threshold_actions: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)  # action id -> label (the rules')
    timeline: list[tuple[str, ...]] = field(default_factory=list)
    draws: list[tuple[str, ...]] = field(default_factory=list)
    orders: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    final: dict[str, Rec] = field(default_factory=dict)  # last state.blue / state.red / turn.end
    turning: Turning | None = None

    def add(self, rec: Rec) -> None:
        """Take one record."""
        kind, turn = rec["kind"], rec["turn"]
        if kind in TIMELINE:
            self.timeline.append((str(turn), f"{rec['t']:.1f}", _seen_by(rec),
                                  _line(rec, self.labels)))
        if kind in ("orders", "orders.rejected", "umpire.inject"):
            self._order(rec)
        if kind in ("state.blue", "state.red", "turn.end"):
            self.final[kind] = rec
        if self.turning is not None:
            self.turning.add(rec)
        said = explain(rec, self.threshold_actions)
        if said is None:
            return
        text, odd = said
        self.draws.append((str(turn), f"{rec['t']:.1f}", text,
                           "unlikely" if odd else "likely"))

    def _order(self, rec: Rec) -> None:
        cell = self.orders.setdefault(rec["turn"], {"blue": [], "red": [], "umpire": [],
                                                     "blue_why": [], "red_why": []})
        d = rec["data"]
        if rec["side"] == "white" and rec["kind"] != "umpire.inject":
            return  # the umpire's own orders record: its injects are listed one by one
        if rec["kind"] == "umpire.inject":
            cell["umpire"].append(f"{d['side']}: {d['action']}")
        elif rec["kind"] == "orders.rejected":
            cell[rec["side"]].append(f"refused {d['order']['action']} ({d['reason']})")
        else:
            said = ", ".join(o["action"] + _params(o["params"]) for o in d["orders"])
            cell[rec["side"]].append(f"{said or 'no orders'} [{d['controller']}]")
            why = _reasons(d)
            if why:
                cell[f"{rec['side']}_why"].append(why)


def _reasons(d: Rec) -> str:
    """A team's rationale in its own words; for Blue's doctrine, the rules that fired."""
    rationale = d.get("rationale")
    if isinstance(rationale, str) and rationale.strip():
        return " ".join(rationale.split())
    fired = d.get("rules_fired")
    if isinstance(fired, list) and fired:
        return "doctrine: " + "; ".join(str(f) for f in fired)
    return ""


def _params(p: Rec) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in p.items()) + ")" if p else ""


def _seen_by(rec: Rec) -> str:
    sides = rec.get("visible_to") or []
    return "both" if len(sides) == 2 else (sides[0].capitalize() if sides else "umpire")


def _line(rec: Rec, labels: dict[str, str]) -> str:
    if rec["kind"] == "game.fork":
        d = rec["data"]
        return (f"The game forks from its parent here (seed {d.get('seed')}, controllers "
                f"{_pairs(d.get('controllers') or {})})")
    return tell(rec, labels) or rec["kind"]


def _pairs(d: Rec) -> str:
    return ", ".join(f"{k}: {v}" for k, v in d.items()) or "-"


# ---- the document ----------------------------------------------------------------------------

@dataclass
class Log:
    """What a report needs from one pass over a log."""

    path: Path
    header: Rec
    footer: Rec | None
    truncated: bool
    reason: str
    last_turn: int
    tally: Tally
    story: Story


def read(path: str | Path) -> Log:
    """Stream a log once into a tally and a story; LogError for a record the engine never wrote."""
    reader = read_log(path)
    t = Tally(header=reader.header)
    threshold = _threshold_actions(reader.header)
    labels = labels_of(reader.header["rules"])
    story = Story(threshold_actions=threshold, labels=labels,
                  turning=Turning(Names(reader.header["scenario"], labels), threshold))
    try:
        for rec in reader.records():
            t.add(rec)
            story.add(rec)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise LogError(f"{path}: a record cannot be reported ({e.__class__.__name__}: {e}); "
                       "was the log edited? 'wargame verify' finds the line") from None
    return Log(Path(path), reader.header, reader.footer, reader.truncated,
               reader.state.reason or "the log has no footer", reader.state.last_turn, t, story)


def _threshold_actions(header: Rec) -> frozenset[str]:
    """Red actions that signal a rung at or above the armed-attack threshold."""
    ladder = header["rules"]["ladder"]
    rungs = [x["id"] for g in ladder["groups"] for x in g["rungs"]]
    first = rungs.index(ladder["armed_attack_threshold"])
    return frozenset(a for a, spec in header["rules"]["actions"]["red"].items()
                     if spec["signals"] in rungs[first:])


def build_report(path: str | Path) -> Document:
    """The after-action report of a log as a document."""
    log = read(path)
    figures = figures_from(log.tally)
    sections = (_outcome(log), _map(log), _figures(figures), _turning_points(log),
                _timeline(log), _orders(log), _per_turn(log))
    meta = log.header["scenario"]["meta"]
    return Document(title=f"After-action report: {meta['title']}", subtitle=_subtitle(log),
                    callouts=_callouts(log), sections=sections, probe=True,
                    meta={"wargame-log": log.path.name})


def _subtitle(log: Log) -> tuple[str, ...]:
    h = log.header
    c = h["controllers"]
    return (f"Scenario {h['scenario']['meta']['id']}, seed {h['seed']['entropy']}; Blue played "
            f"by {c.get('blue')}, Red by {c.get('red')}; log {log.path.name} (engine "
            f"{h['engine']}).",)


def _callouts(log: Log) -> tuple[Callout, ...]:
    out = [Callout(NOTIONAL)]
    if log.truncated:
        done = len(log.tally.turns)
        when = "after" if log.last_turn in log.tally.ends else "during"
        out.append(Callout(f"This log is truncated: it stops {when} turn {log.last_turn} "
                           f"({log.reason}) and has no footer. The report shows every complete "
                           f"record; the outcome covers the {done} completed turn(s) only.",
                           "warning"))
    parent = log.header.get("parent")
    if parent:
        out.append(Callout(f"This game is a fork: it follows its parent log (sha256 "
                           f"{parent['log_sha256'][:16]}...) up to turn {parent['fork_turn'] - 1}"
                           f" and plays on differently from the start of turn "
                           f"{parent['fork_turn']} ({_fork_change(parent)}).", "warning"))
    return tuple(out)


def _fork_change(parent: Rec) -> str:
    seed = parent.get("seed")
    said = "same seed" if seed is None else f"new seed {seed}"
    chosen = parent.get("controllers") or {}
    return said + (f", controllers {_pairs(chosen)}" if chosen else ", same controllers")


def _outcome(log: Log) -> Section:
    o = log.footer["outcome"] if log.footer else _partial_outcome(log)
    if o["deterrence_held"]:
        verdict = "Red never crossed the armed-attack threshold"
        lead = "Deterrence held." if log.footer else "Deterrence held so far."
    else:
        verdict = f"Red crossed the armed-attack threshold on turn {o['failure_turn']}"
        verdict += (f" (Blue learned of it on turn {o['known_turn']})"
                    if o.get("known_turn") is not None else " (Blue never learned of it)")
        lead = f"Deterrence failed on turn {o['failure_turn']}."
    text = (f"{verdict}; the highest rung was {o['highest_rung']}"
            + (f"; Article V was invoked on turn {o['article5_turn']}" if o.get("article5_turn")
               else "") + f"; {o['turns_played']} turns played.")
    pairs = [(MEASURES.get(k, k.replace("_", " ")), "-" if v is None else _fmt(v))
             for k, v in sorted(o.items(), key=lambda kv: _measure_order(kv[0]))]
    half = (len(pairs) + 1) // 2
    rows = tuple(a + b for a, b in zip(pairs[:half], [*pairs[half:], ("", "")], strict=False))
    caption = "Outcome (partial: the log is truncated)" if log.truncated else "Outcome"
    return Section("Outcome", (
        Callout(text, "info" if o["deterrence_held"] else "warning", lead=lead),
        Table(("Measure", "Value", "Measure", "Value"), rows, caption)))


def _measure_order(key: str) -> int:
    return list(MEASURES).index(key) if key in MEASURES else len(MEASURES)


def _partial_outcome(log: Log) -> Rec:
    """What a truncated log's completed turns show of the outcome."""
    t = log.tally
    rungs, _ = t.ladder()
    level = {rid: lvl for rid, lvl, _ in rungs}
    seen = [t.ends[n]["data"]["rung"] for n in t.turns] or [rungs[0][0]]
    total = {k: sum(t.ends[n]["data"][k] for n in t.turns)
             for k in ("detections", "incursions", "red_losses", "blue_losses")}
    return {"deterrence_held": t.failure_turn is None, "failure_turn": t.failure_turn,
            "known_turn": t.known_turn, "article5_turn": t.article5_turn,
            "highest_rung": max(seen, key=lambda rid: level.get(rid, 0)),
            "turns_played": len(t.turns), **total}


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _timeline(log: Log) -> Section:
    rows = tuple(log.story.timeline)
    if not rows:
        return Section("Timeline of key events", (Paragraph("No key event was recorded."),))
    return Section("Timeline of key events", (
        Paragraph("Escalation, incursions, detections, attacks and what Blue observed or "
                  "attributed of them, authority, Article V, salvos and injects, in order. "
                  "'Seen by' shows the fog of war: who could see the event (an armed attack is "
                  "known to Red when ordered, to Blue only when detected or when its effects "
                  "land)."),
        Table(("Turn", "Hour", "Seen by", "Event"), rows)))


def _figures(figures: dict[str, Figure]) -> Section:
    titles = {"rung": "Escalation rung at the end of each turn; the dashed line is the "
                      "armed-attack threshold.",
              "detections": "Blue detections and Red incursions per turn, and Red groups "
                            "Blue held a fresh track on at the end of each turn.",
              "c2": "C2 message delivery latency (each message and the turn's mean) and "
                    "the share of link-hours with links up in each turn.",
              "losses": "Red ships and Blue launchers lost, per turn and in total."}
    blocks = tuple(Image(name, png(figures[name]), titles[name], alt=titles[name],
                         ) for name in FIGURES)
    return Section("Figures", blocks)


def _turning_points(log: Log) -> Section:
    s = log.story
    points = s.turning.top() if s.turning is not None else []
    blocks: list[Block] = [Paragraph(
        "The moments that did most to decide how the game came out, in the order they "
        "happened, each with the chance it had.")]
    blocks.append(Items(tuple(points), numbered=True) if points else Paragraph(
        "No turning point: no moment moved the outcome."))
    blocks.append(Paragraph(SCORING, lead="How they are chosen."))
    blocks.append(Paragraph(
        "Every chance event is a draw between 0 and 1: the event happens when the draw falls "
        "below its chance. Red picks an option by drawing against its choice probabilities."))
    if s.draws:
        blocks.append(Table(("Turn", "Hour", "Chance draw in plain words", "Odds"),
                            tuple(s.draws), "Every chance draw that shaped the game"))
    return Section("Turning points", tuple(blocks))


def _map(log: Log) -> Section:
    """The umpire's final picture: Red's groups where they ended, Blue's batteries, tracks and
    links, on the theater map."""
    final = log.story.final
    try:
        scenario = Scenario.model_validate(log.header["scenario"])
    except ValueError as e:
        return Section("Map", (Paragraph(f"The map cannot be drawn: the log's scenario does "
                                         f"not validate ({e.__class__.__name__})."),))
    blue = final.get("state.blue", {}).get("data", {})
    red = final.get("state.red", {}).get("data", {})
    end = final.get("turn.end")
    when = f"end of turn {end['turn']}" if end else "start of the game"
    rung = _rung_label(log.header, end["data"]["rung"]) if end else ""
    layer = layer_for({"side": "white", "rung": "", "situation": {"blue": blue, "red": red}},
                      title=f"Umpire's picture at the {when}")
    layer = replace(layer, rung=rung, c2=bool(blue) or layer.c2)
    svg = theater_svg(scenario, layer, width=900, height=560)
    return Section("Map", (
        Paragraph("Zones are laid out from the scenario's distances (a schematic, not a "
                  "chart); Red's groups are shown where they ended, Blue's batteries with their "
                  "launchers, Blue's tracks with their age, and the state of the C2 links."),
        Svg("map", svg, f"The theater at the {when}, as the umpire saw it.")))


def _rung_label(header: Rec, rung: str) -> str:
    for g in header["rules"]["ladder"]["groups"]:
        for x in g["rungs"]:
            if x["id"] == rung:
                return str(x["label"])
    return rung.replace("_", " ")


def _orders(log: Log) -> Section:
    rows = tuple((str(n), "; ".join(c["blue"]) or "-", " / ".join(c["blue_why"]) or "-",
                  "; ".join(c["red"]) or "-", " / ".join(c["red_why"]) or "-",
                  "; ".join(c["umpire"]) or "-") for n, c in sorted(log.story.orders.items()))
    return Section("Orders by turn", (
        Paragraph("What each side ordered at the start of each turn (the controller in "
                  "brackets), the reasons it gave (a team's rationale in its own words; for "
                  "Blue's doctrine, the rules that fired), and what the umpire injected."),
        Table(("Turn", "Blue orders", "Blue's reasons", "Red orders", "Red's reasons",
               "Umpire injects"), rows)))


def _per_turn(log: Log) -> Section:
    t = log.tally
    rows = tuple((str(n), d["rung"], str(d["detections"]), str(d["incursions"]),
                  str(d["fresh_tracks"]), str(d["degraded_count"]),
                  f"{d['c2_delivered']} / {d['c2_sent']}", _fmt(float(d["red_losses"])),
                  _fmt(float(d["blue_losses"])))
                 for n in t.turns for d in (t.ends[n]["data"],))
    return Section("Turn by turn", (Table(
        ("Turn", "Rung", "Detections", "Incursions", "Tracks", "Links degraded",
         "C2 delivered / sent", "Red ships lost", "Blue launchers lost"), rows),))


# ---- rendering and writing -------------------------------------------------------------------

def render(path_to_log: str | Path, fmt: str = "html") -> str:
    """The report of a log as self-contained HTML, or Markdown with inline PNG data URIs."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected html or md, found '{fmt}'")
    doc = build_report(path_to_log)
    return to_html(doc) if fmt == "html" else to_markdown(doc)


def write(path_to_log: str | Path, out: str | Path, fmt: str = "html") -> list[Path]:
    """Write the report (and, for md, PNGs in ``<stem>_files/``); return every file written."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected html or md, found '{fmt}'")
    out = Path(out)
    doc = build_report(path_to_log)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(to_html(doc), encoding="utf-8")
        return [out]
    folder = out.parent / f"{out.stem}_files"
    folder.mkdir(exist_ok=True)
    written = []
    for image in doc.images():
        target = folder / f"{image.name}.png"
        target.write_bytes(image.png)
        written.append(target)
    for drawing in doc.drawings():
        target = folder / f"{drawing.name}.svg"
        target.write_text(drawing.svg, encoding="utf-8")
        written.append(target)
    out.write_text(to_markdown(doc, image_dir=folder.name), encoding="utf-8")
    return [out, *written]
