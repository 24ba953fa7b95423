"""One line of plain text per key event of a game, for the playthroughs (``playthrough.py``):
numbers, orders and the event kinds, each by its own small formatter (``LINES``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Rec = Mapping[str, Any]


# ---- numbers ---------------------------------------------------------------------------------

def num(x: Any, places: int = 2) -> str:
    """A number, rounded and without trailing zeros; '?' when missing; anything else as text."""
    if x is None:
        return "?"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    text = f"{float(x):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _p(x: Any) -> str:
    """A probability or a draw: three decimals."""
    return num(x, 3)


def hours(x: Any) -> str:
    """An hour of game time: one decimal."""
    return "?" if x is None else f"{float(x):.1f}" if isinstance(x, int | float) else str(x)


def chance_text(p: Any, draw: Any) -> str:
    return f"p={_p(p)} draw={_p(draw)}"


def value_text(x: Any) -> str:
    if isinstance(x, int | float) and not isinstance(x, bool):
        return num(x, 3)
    if isinstance(x, str):
        return x
    return json.dumps(x, sort_keys=True, separators=(",", ":"))


# ---- orders ----------------------------------------------------------------------------------

def order_text(o: Any) -> str:
    if not isinstance(o, Mapping):
        return value_text(o)
    params = o.get("params") or {}
    text = str(o.get("action", "?"))
    if isinstance(params, Mapping) and len(params) == 1:  # isr_tempo=surge
        text += f"={value_text(next(iter(params.values())))}"
    elif isinstance(params, Mapping) and params:  # action(a=1, b=2)
        text += "(" + ", ".join(f"{k}={value_text(v)}" for k, v in sorted(params.items())) + ")"
    elif params:
        text += f"({value_text(params)})"
    if o.get("side"):
        text += f" on {o['side']}"
    if o.get("note"):
        text += f' "{o["note"]}"'
    return text


# ---- key events: one line each ---------------------------------------------------------------

def payload(r: Rec) -> Mapping[str, Any]:
    data: Mapping[str, Any] = r["data"]  # a mapping: _check saw to it
    return data


def _flag(on: Any, yes: str, no: str) -> str:
    return "?" if on is None else yes if on else no


def _move(r: Rec) -> str:
    d = payload(r)
    if d.get("from") == d.get("to") and "to" in d:
        return f"{r.get('unit', '?')} stays in {d['to']} ({d.get('mission', '?')})"
    return (f"{r.get('unit', '?')} sails {d.get('from', '?')} -> {d.get('to', '?')} "
            f"({d.get('mission', '?')}, eta t={hours(d.get('eta_h'))}h)")


def _incursion(r: Rec) -> str:
    d = payload(r)
    return f"red.incursion {r.get('unit', '?')} -> {d.get('zone', '?')}"


def _cyber(r: Rec) -> str:
    d = payload(r)
    hard = " (hardened)" if d.get("hardened") else ""
    chance = chance_text(d.get("p_success"), d.get("draw"))
    return (f"red cyber attack on {d.get('link', '?')}{hard}: "
            f"{_flag(d.get('success'), 'success', 'failed')} ({chance})")


def _counterspace(r: Rec) -> str:
    d = payload(r)
    how = _flag(d.get("destructive"), "destructive", "jamming")
    return (f"red counterspace attack ({how}): {_flag(d.get('success'), 'success', 'failed')} "
            f"({chance_text(d.get('p_success'), d.get('draw'))})")


def _gain(r: Rec) -> str:
    d = payload(r)
    seen = _flag(d.get("attributed"), "attributed", "not attributed")
    # an act Blue attributes by an intelligence draw carries it; an incursion is seen outright
    draw = (f", {chance_text(d['p_attribute'], d.get('draw'))}" if d.get("p_attribute") is not None
            else "")
    return f"red gain {num(d.get('gain'), 3)} ({d.get('action', '?')}, {seen}{draw})"


def _attribution(r: Rec) -> str:
    d = payload(r)
    return f"blue attributes {d.get('action', '?')} ({d.get('domain', '?')}) to red"


def _salvo(r: Rec) -> str:
    d = payload(r)
    damage = d.get("damage") or []
    dmg = f", damage {'/'.join(num(x) for x in damage)}" if damage else ""
    return (f"salvo {r.get('unit', '?')} -> {d.get('target', '?')}: "
            f"{num(d.get('shooters'))} shooters, {num(d.get('missiles'))} missiles, "
            f"{num(d.get('good_shots'))} good (p_hit={_p(d.get('p_hit'))}), "
            f"{num(d.get('interceptors'))} interceptors, {num(d.get('intercepts'))} intercepted "
            f"(p={_p(d.get('p_intercept'))}), {num(d.get('hits'))} hits{dmg}; "
            f"{num(d.get('ships_lost'))} of {num(d.get('ships_before'))} ships lost")


def _strike(r: Rec) -> str:
    d = payload(r)
    return (f"red strike {r.get('unit', '?')} -> {d.get('target', '?')}: "
            f"{num(d.get('launchers_lost'))} of {num(d.get('launchers_before'))} launchers lost "
            f"(battery of {num(d.get('of'))}; scouting {num(d.get('scouting'))})")


def _article5(r: Rec) -> str:
    d = payload(r)
    if d.get("invoked"):
        return f"ARTICLE V invoked ({d.get('domain', '?')})"
    covered = ", ".join(str(x) for x in d.get("treaty_domains") or [])
    return f"ARTICLE V not invoked ({d.get('domain', '?')} is not among: {covered})"


def _inject(r: Rec) -> str:
    d = payload(r)
    live = " (live)" if d.get("live") else ""
    note = f': "{d["note"]}"' if d.get("note") else ""
    return f"umpire inject{live} on {d.get('side') or '?'}: {d.get('action', '?')}{note}"


def _displace(r: Rec) -> str:
    d = payload(r)
    seen = ", seen by red" if d.get("seen_by_red") else ""
    return (f"{r.get('unit', '?')} displaces {d.get('from', '?')} -> {d.get('to', '?')} "
            f"(ready in {hours(d.get('ready_in_h'))}h{seen})")


def _fork(r: Rec) -> str:
    d = payload(r)
    who = d.get("controllers") or {}
    names = ", ".join(f"{k}={v}" for k, v in sorted(who.items())) if isinstance(who, Mapping) \
        else value_text(who)
    return f"fork from turn {d.get('turn', '?')}: {names}"


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fields(r: Rec, template: str) -> str:
    """``template`` filled from the record's payload; a missing field reads "?"."""
    return template.format_map(_Missing(payload(r)))


LINES: dict[str, Callable[[Rec], str]] = {
    "red.move": _move,
    "red.incursion": _incursion,
    "red.cyber.attack": _cyber,
    "red.counterspace.attack": _counterspace,
    "red.gain": _gain,
    "intel.attribution": _attribution,
    "c2.link.degraded": lambda r: f"link {r.get('unit', '?')} down until "
                                  f"t={hours(payload(r).get('until_h'))}h",
    "c2.link.restored": lambda r: f"link {r.get('unit', '?')} restored",
    "space.degraded": lambda r: f"space links down until t={hours(payload(r).get('until_h'))}h",
    "c2.hardened": lambda r: "blue hardens its C2 links",
    "c2.authority.granted": lambda r: f"engagement authority reaches "
                                      f"{payload(r).get('regiment', r.get('unit', '?'))} "
                                      f"(from {payload(r).get('by', '?')})",
    "alliance.consultation": lambda r: f"allies consult at {r.get('unit', '?')} on "
                                       f"{payload(r).get('regiment', '?')}'s authority "
                                       f"({hours(payload(r).get('hours'))}h)",
    "littoral.readiness": lambda r: f"{r.get('unit', '?')} readiness {payload(r).get('from', '?')} "
                                    f"-> {payload(r).get('to', '?')}",
    "littoral.displace": _displace,
    "engagement.salvo": _salvo,
    "engagement.strike": _strike,
    "escalation.rung": lambda r: _fields(r, "rung {from} -> {to} (level {level})"),
    "escalation.threshold": lambda r: _fields(
        r, "THRESHOLD: red orders an armed attack ({action}, {domain})"),
    "alliance.armed_attack": lambda r: _fields(
        r, "blue learns of the armed attack ({domain}, by {how})"),
    "alliance.article5": _article5,
    "umpire.inject": _inject,
    "game.fork": _fork,
}


def generic(r: Rec) -> str:
    """A kind this module does not know: its name, unit and payload, so the diff shows it."""
    fields = " ".join(f"{k}={value_text(v)}" for k, v in sorted(payload(r).items()))
    return " ".join(x for x in (str(r["kind"]), str(r.get("unit") or ""), fields) if x)
