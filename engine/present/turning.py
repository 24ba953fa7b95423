"""Chance in plain words, and the turning points of a game: every chance draw of a log told as a
sentence (and whether it went against the odds), and at most five moments chosen by their effect
on the outcome, not every rung move.

Each candidate turning point (Red's decision to attack, how Blue learned of it, Red's closest call
when it held back, a lost authority message, an attribution, a cyber or space attack, a strike or
salvo, a first sighting) scores a weight for its kind times (2 - the chance of what happened);
``SCORING`` says it in words and the report prints it. Each is told with names from the scenario
and its chance as a percentage ("an aircraft of the MQ-9 detachment, Kanoya (mq9.2) had a 39%
chance to find the Red coast guard flotilla ... in its 6 hours of search; it did").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Rec = dict[str, Any]
Said = tuple[str, bool]  # a sentence, and whether the outcome went against the odds
ODD = 0.35  # an outcome this unlikely (or less) went against the odds


def threshold_actions(header: Rec) -> frozenset[str]:
    """Red actions that signal a rung at or above the armed-attack threshold."""
    ladder = header["rules"]["ladder"]
    rungs = [x["id"] for g in ladder["groups"] for x in g["rungs"]]
    first = rungs.index(ladder["armed_attack_threshold"])
    return frozenset(a for a, spec in header["rules"]["actions"]["red"].items()
                     if spec["signals"] in rungs[first:])


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
