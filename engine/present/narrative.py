"""Plain-language lines for the records worth telling: used by ``run``, ``replay``, reports and
the terminal classroom.

Pure functions of a record (and, optionally, of the rules' action labels); routine bookkeeping
(launches, landings, delivered messages) returns None and is left out of the story. A line says
no more than its record holds, so a side shown the records it may see (``visible_to``, from
``engine.sim.kinds``) is told nothing it cannot know: an outage names the link, never who caused
it; only an ``intel.attribution`` record names a cyber or space act as Red's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Rec = dict[str, Any]
Labels = Mapping[str, str]  # action id -> label, from the rules (see labels_of)

# ---- terminal safety ---------------------------------------------------------------------------

# Characters a terminal acts on rather than shows: C0 controls but newline and tab, DEL, C1
# controls (escape sequences: clear the screen, retitle the window, ...) and the bidirectional
# formatting marks that reorder what follows them (a title that reads one way, means another).
_UNSAFE = frozenset([*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0),
                     0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_AS_TEXT = {c: (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}
_AS_JSON = {c: f"\\u{c:04x}" for c in _UNSAFE}


def printable(text: object, json: bool = False) -> str:
    """User text (titles, notes, unit names, orders, log contents, paths) as it may reach a
    terminal or a Markdown file: every control or bidirectional-formatting character is shown
    escaped (``\\x1b``, ``\\u202e``) instead of acting; newline and tab are kept. With ``json``,
    every one becomes a JSON escape (``\\u001b``), so a JSON text keeps its meaning. The one
    place this policy lives: the command line and the terminal classroom call it (through
    :func:`shown` where the text goes to rich) for everything they print."""
    return str(text).translate(_AS_JSON if json else _AS_TEXT)


def shown(text: object) -> str:
    """User text ready for rich's console: :func:`printable`, then rich markup escaped, so that
    ``[red]`` or ``[/bold]`` in a title is shown as typed, never styles nor breaks the output."""
    from rich.markup import escape

    return escape(printable(text))


def _orders(r: Rec) -> str:
    orders = r["data"]["orders"]
    said = ", ".join(o["action"] + _params(o["params"]) for o in orders) or "no orders"
    return f"{r['side'].capitalize()} orders ({r['data']['controller']}): {said}"


def _params(p: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in p.items()) + ")" if p else ""


def _decision(r: Rec) -> str:
    d = r["data"]
    p = d["options"][d["choice"]]["p"]
    return f"Red weighed {len(d['options'])} options and chose {d['choice']} (chance {p:.2f})"


def _detect(r: Rec) -> str:
    d = r["data"]
    since = f", {d['since_incursion_h']:.1f} h after it entered" if "since_incursion_h" in d else ""
    return f"{r['unit']} detected Red {d['group']} in {d['zone']}{since}"


def _chance(p: float, u: float, yes: str, no: str) -> str:
    return f"chance {p:.2f}, drew {u:.2f}: {yes if u < p else no}"


def _cyber(r: Rec) -> str:
    d = r["data"]
    return (f"Red cyber attack on link {d['link']} ({'hardened' if d['hardened'] else 'soft'}): "
            + _chance(d["p_success"], d["draw"], "link degraded", "repelled"))


def _space(r: Rec) -> str:
    d = r["data"]
    what = "destructive attack on" if d["destructive"] else "jamming of"
    return f"Red {what} alliance space links: " + _chance(d["p_success"], d["draw"], "effective",
                                                           "no effect")


def _salvo(r: Rec) -> str:
    d = r["data"]
    return (f"{r['unit']} fired {_count(d['missiles'], 'missile')} at Red {d['target']}: "
            f"{d['good_shots']} on target against "
            f"{_count(d['intercepts'], 'successful interception')}, "
            f"{_count(d['hits'], 'hit')}; {d['ships_lost']:.2f} of {d['ships_before']:.2f} "
            "ships lost")


def _count(n: int, word: str) -> str:
    """'1 missile', '2 missiles'."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _strike(r: Rec) -> str:
    d = r["data"]
    return (f"Red {r['unit']} struck battery {d['target']}: {d['launchers_lost']:.2f} launchers "
            f"lost")


def _article5(r: Rec) -> str:
    d = r["data"]
    if d["invoked"]:
        return f"Article V invoked: an armed attack in the {d['domain']} domain is known"
    return (f"Article V NOT invoked: the treaty terms do not cover the {d['domain']} domain "
            f"(covered: {', '.join(d['treaty_domains'])})")


def _turn_end(r: Rec) -> str:
    d = r["data"]
    lost = (f"; losses this turn: Blue {d['blue_losses']:.2f} launchers, Red "
            f"{d['red_losses']:.2f} ships" if d["blue_losses"] or d["red_losses"] else "")
    return f"End of turn {r['turn']}: rung {d['rung']}{lost}"


def _until(h: float) -> str:
    return f"until {h:.1f} h"


def _armed_attack(r: Rec) -> str:
    d = r["data"]
    how = {"detected": "detected", "effects": "its effects landed",
           "attributed": "intelligence attributes it to Red"}.get(d["how"], d["how"])
    return f"Armed attack known: {how} ({d['domain']} domain)"


def _displace(r: Rec) -> str:
    d = r["data"]
    return (f"Battery {r['unit']} displaces from {d['from']} to {d['to']} (ready again in "
            f"{d['ready_in_h']:g} h)")


def _gain(r: Rec) -> str:
    d = r["data"]
    return (f"Red gained {d['gain']:g} from {d['action']} "
            f"({'attributed' if d['attributed'] else 'unattributed'})")


TELLERS: dict[str, Callable[[Rec], str]] = {
    "orders": _orders,
    "orders.rejected": lambda r: f"{r['side'].capitalize()} order refused: {r['data']['reason']}",
    "red.decision": _decision,
    "umpire.inject": lambda r: f"Umpire inject: {r['data']['note']}",
    "isr.detect": _detect,
    "red.incursion": lambda r: f"Red {r['unit']} entered {r['data']['zone']} "
                               f"({r['data']['mission']})",
    "red.cyber.attack": _cyber,
    "red.counterspace.attack": _space,
    "red.gain": _gain,
    # Blue sees outages, not their cause: the line names the link and the hours, never Red
    "c2.link.degraded": lambda r: f"C2 link {r['unit']} degraded {_until(r['data']['until_h'])}",
    "c2.link.restored": lambda r: f"C2 link {r['unit']} restored",
    "space.degraded": lambda r: f"Space links degraded {_until(r['data']['until_h'])}",
    "c2.hardened": lambda r: "Blue hardened its C2 links",
    "c2.message.lost": lambda r: f"A message ({r['data']['what']}) to {r['data']['to']} was "
                                 "lost",
    "c2.authority.granted": lambda r: f"Engagement authority reached {r['unit']} "
                                      f"(granted by {r['data']['by']})",
    "alliance.consultation": lambda r: f"Alliance consultation at {r['unit']}: "
                                       f"{r['data']['hours']:.1f} h",
    "littoral.readiness": lambda r: f"{r['unit']} readiness {r['data']['from']} -> "
                                    f"{r['data']['to']}",
    "littoral.displace": _displace,
    "blue.exercise": lambda r: "Blue held a joint exercise",
    "blue.signal": lambda r: "Blue made a public statement of resolve",
    "engagement.salvo": _salvo,
    "engagement.strike": _strike,
    "escalation.rung": lambda r: f"Escalation: {r['data']['from']} -> {r['data']['to']} "
                                 f"(level {r['data']['level']})",
    "escalation.threshold": lambda r: f"ARMED ATTACK: Red crossed the threshold with "
                                      f"{r['data']['action']}",
    "alliance.armed_attack": _armed_attack,
    "alliance.article5": _article5,
    "turn.end": _turn_end,
}


def tell(record: Rec, labels: Labels | None = None) -> str | None:
    """One line of narrative for a record, or None when it is routine. ``labels`` (action id ->
    label, see :func:`labels_of`) names an attributed act in words; without them, by its id."""
    if record["kind"] == "intel.attribution":
        return _attribution(record, labels or {})
    teller = TELLERS.get(record["kind"])
    return teller(record) if teller else None


def _attribution(r: Rec, labels: Labels) -> str:
    action = r["data"]["action"]
    label = labels.get(action)
    what = label[:1].lower() + label[1:] if label else f"{r['data']['domain']} act {action}"
    return f"Intelligence attributes the {what} to Red"


def labels_of(rules: Any) -> dict[str, str]:
    """Action id -> label for both sides, from a Rules object or its JSON (a log header's
    ``rules``)."""
    if isinstance(rules, Mapping):
        return {aid: spec["label"] for side in ("blue", "red")
                for aid, spec in rules["actions"][side].items()}
    return {aid: a.label for menu in (rules.actions.blue, rules.actions.red)
            for aid, a in menu.items()}


def situation_rows(end: Rec, blue: Rec | None, red: Rec | None) -> list[tuple[str, str]]:
    """Rows of a turn's situation table from its turn.end and the state records a side sees
    (each side's own counts live in its state record: fog of war)."""
    m = end["data"]
    rows = [("rung", str(m["rung"])),
            ("losses (Blue launchers / Red ships)", f"{m['blue_losses']} / {m['red_losses']}")]
    if blue is not None:
        b = blue["data"]
        rows += [("Blue detections this turn", str(b.get("detections", "-"))),
                 ("C2 delivered / sent", f"{b.get('c2_delivered', '-')} / "
                                         f"{b.get('c2_sent', '-')}"),
                 ("Blue ISR tempo", _pairs(b["isr_tempo"])),
                 ("Blue readiness", _pairs(b["readiness"])),
                 ("engagement authority", _pairs({k: "yes" if v else "no"
                                                  for k, v in b["authority"].items()})),
                 ("batteries", "; ".join(f"{k} at {v['site']}: {v['launchers']:g} launchers, "
                                         f"{v['magazine']} missiles"
                                         for k, v in b["batteries"].items()) or "-"),
                 ("C2 links degraded", ", ".join(b["links_degraded"]) or "none"),
                 ("tracks held", "; ".join(f"{g} in {t['zone']} ({t['age_h']:.0f} h old)"
                                           for g, t in b["tracks"].items()) or "none"),
                 ("armed attack known", "yes" if b.get("armed_attack_known") else "no")]
    if red is not None:
        r = red["data"]
        rows += [("Red incursions this turn", str(r.get("incursions", "-"))),
                 ("Red groups", "; ".join(f"{g} {v['mission']} to {v['zone']} "
                                          f"({v['ships']:g} ships)"
                                          for g, v in r["groups"].items())),
                 ("Red beliefs", _pairs(r["beliefs"]))]
        seen = r.get("seen")
        if seen:
            rows += [("Red has seen", f"readiness {_pairs(seen['readiness'])}; links down "
                                      f"{', '.join(seen['links_down']) or 'none'}; authority "
                                      f"{'yes' if seen['authority'] else 'no'}; ISR over its "
                                      f"objective {seen['isr_over_objective_h']:g} h")]
    return rows


def _pairs(d: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items()) or "-"
