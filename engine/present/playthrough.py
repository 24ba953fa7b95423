"""A game's records as a short, readable playthrough: what a reviewer reads in a ``git diff``.

The byte-level golden logs (``tests/golden/*.jsonl``) say *that* a change altered play; the
playthroughs (``tests/golden/*.txt``) say *how*. One block per turn::

    == turn 3  rung intense_crisis ==
    blue: isr_tempo=surge, littoral_posture=dispersed, joint_exercise, signal_resolve
    red: cyber_disrupt  (p=0.225 draw=0.153)
      t=49.3h red cyber attack on japan-usfj (hardened): success (p=0.3 draw=0.101)
      t=49.3h link japan-usfj down until t=52.1h
      t=52.9h detect coast_guard in disputed_islands by mlr12.b1 (p=0.909 draw=0.386)
      t=72.0h red gain 0.15 (cyber_disrupt, attributed, p=0.9 draw=0.426)
      t=72.0h blue attributes cyber_disrupt (cyber) to red
      t=72.0h rung intense_crisis -> gray_zone_coercion (level 3)
      isr: 3 sorties (1 seen by red), 2 searches, 2 detections; c2: 2 delivered

then the outcome. Red's line carries its doctrine's draw: the chance it gave the option it chose
and the uniform number drawn. The routine, high-volume kinds (launches, time on station,
sortie cancellations, searches, messages, the per-turn state and measures) are counted in the
turn's ``isr:``/``c2:`` line; a detection is listed when a group is first found after it last
moved, later ones are counted; a link coming back when its outage said it would is not listed;
orders repeated from an earlier turn read "same as turn N". A kind this module does not know
gets one generic line, so a new kind shows up in the diff rather than vanishing.

``python -m engine.present.playthrough regenerate DIR`` rewrites ``DIR/<name>-seed<seed>.txt``
for every golden case (``make golden`` does it); review the diff.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.present.playlines import (
    LINES,
    chance_text,
    generic,
    hours,
    num,
    order_text,
    payload,
    value_text,
)

Rec = Mapping[str, Any]

LEGEND = ("# p: the chance of an event, draw: the uniform number drawn for it (a search "
          "detects, an attack succeeds,\n# an act is attributed when draw < p); red's p is the "
          "chance its doctrine gave the option it chose.\n# Detections are listed when a group "
          "is first found after it moves; re-detections are counted.")

# the public echo of an order already shown on the side's orders line
_ECHOES = {"blue.exercise", "blue.signal"}
# per-turn bookkeeping: the state each side holds and the umpire's measures
_BOOKKEEPING = {"state.blue", "state.red", "turn.measures"}


# ---- one turn --------------------------------------------------------------------------------

@dataclass
class _Turn:
    number: int
    orders: dict[str, Rec] = field(default_factory=dict)
    rejected: dict[str, list[Rec]] = field(default_factory=dict)
    decision: Rec | None = None
    events: list[tuple[float | None, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    cancelled: Counter[str] = field(default_factory=Counter)
    end: Rec | None = None


def _check(i: int, r: Any) -> Rec:
    """A record must be a mapping with a kind, a turn and a data mapping: anything else is a bug
    upstream, so say which record it is rather than print around it."""
    if not isinstance(r, Mapping):
        raise ValueError(f"record {i} is not a mapping: {r!r}")
    for key in ("kind", "turn", "data"):
        if key not in r:
            raise ValueError(f"record {i} (seq {r.get('seq', '?')}) has no '{key}': {r!r}")
    if not isinstance(r["data"], Mapping):
        raise ValueError(f"record {i} (seq {r.get('seq', '?')}) has data that is not a mapping")
    return r


_Key = tuple[str, str, str]  # (searching unit, group, zone)


def _detect(r: Rec, pending: dict[_Key, list[Rec]]) -> str:
    """A detection line with the p and draw of the search that decided it (the earliest one
    still waiting from the same unit on the same group and zone)."""
    d = payload(r)
    unit, group = str(r.get("unit", "?")), str(d.get("group", "?"))
    waiting = pending.get((unit, group, str(d.get("zone", "?"))))
    draw = ""
    if waiting:
        s = payload(waiting.pop(0))
        draw = f" ({chance_text(s.get('p_detect'), s.get('draw'))})"
    return f"detect {group} in {d.get('zone', '?')} by {unit}{draw}"


def _collect(records: Iterable[Any]) -> tuple[list[_Turn], str | None]:
    turns: dict[int, _Turn] = {}
    pending: dict[_Key, list[Rec]] = {}  # search draws that hit; a detection may come later
    tracked: set[str] = set()  # groups detected since they last moved: re-detections counted
    down_until: dict[str, Any] = {}  # link -> the hour its outage was announced to end
    first_rung: str | None = None
    for i, raw in enumerate(records):
        r = _check(i, raw)
        kind, d = str(r["kind"]), payload(r)
        turn = turns.setdefault(int(r["turn"]), _Turn(int(r["turn"])))
        if kind == "escalation.rung" and first_rung is None:
            first_rung = str(d.get("from", "?"))
        if kind == "orders":
            turn.orders[str(r.get("side", "?"))] = r
        elif kind == "orders.rejected":
            turn.rejected.setdefault(str(r.get("side", "?")), []).append(r)
        elif kind == "red.decision":
            turn.decision = r
        elif kind == "turn.end":
            turn.end = r
            if first_rung is None:
                first_rung = str(d.get("rung", "?"))
        elif kind in _BOOKKEEPING or kind in _ECHOES:
            continue
        elif kind == "isr.sortie.launch":
            turn.counts["sorties"] += 1
        elif kind == "isr.on_station":
            turn.counts["seen by red"] += bool(d.get("seen_by_red"))
        elif kind == "isr.sortie.cancel":
            turn.cancelled[str(d.get("reason", "?"))] += 1
        elif kind == "isr.search":
            turn.counts["searches"] += 1
            if d.get("detected"):
                key = (str(r.get("unit", "?")), str(d.get("group", "?")), str(d.get("zone", "?")))
                pending.setdefault(key, []).append(r)
        elif kind == "isr.detect":
            turn.counts["detections"] += 1
            line = _detect(r, pending)
            group = str(d.get("group", "?"))
            if group not in tracked:  # a new track: list it; re-detections are only counted
                tracked.add(group)
                turn.events.append((r.get("t"), line))
        elif kind == "c2.message.delivered":
            turn.counts["delivered"] += 1
        elif kind == "c2.message.lost":
            turn.counts["lost"] += 1
        elif kind == "c2.share.withheld":
            turn.counts["withheld"] += 1
        elif kind == "c2.link.restored" and _on_time(r.get("t"),
                                                     down_until.pop(str(r.get("unit")), None)):
            continue  # restored when its "down until" line said: nothing new
        else:
            if kind == "red.move":  # ordered away, a group is not detected where it was
                group = str(r.get("unit", "?"))
                tracked.discard(group)
                for key in [k for k in pending if k[1] == group and k[2] != d.get("to")]:
                    del pending[key]
            if kind == "c2.link.degraded":
                down_until[str(r.get("unit"))] = d.get("until_h")
            turn.events.append((r.get("t"), LINES.get(kind, generic)(r)))
    return list(turns.values()), first_rung


def _on_time(t: Any, until: Any) -> bool:
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (t, until))
    return numbers and abs(float(t) - float(until)) < 0.05


@dataclass
class _Said:
    """What the side lines already said: each side's controller, and its orders as last
    written out in full (text, turn), so a repeat reads "same as turn N"."""

    controller: dict[str, str] = field(default_factory=dict)
    orders: dict[str, tuple[str, int]] = field(default_factory=dict)


_SAME_MIN = 30  # orders shorter than this are written out even when repeated


def _side_line(turn: _Turn, side: str, said: _Said) -> str:
    rec = turn.orders.get(side)
    data = payload(rec) if rec is not None else {}
    orders = list(data.get("orders") or [])
    text = ", ".join(order_text(o) for o in orders) or "hold"
    before = said.orders.get(side)
    if before is not None and before[0] == text and len(text) >= _SAME_MIN:
        text = f"same as turn {before[1]}"
    else:
        said.orders[side] = (text, turn.number)
    controller = str(data.get("controller", "")) if rec is not None else ""
    head = side
    if controller and said.controller.get(side) != controller:
        head += f" [{controller}]"
        said.controller[side] = controller
    if side == "red" and turn.decision is not None:
        dd = payload(turn.decision)
        choice = dd.get("choice")
        option = (dd.get("options") or {}).get(choice) or {}
        p = option.get("p") if isinstance(option, Mapping) else None
        chance = chance_text(p, dd.get("draw"))
        chosen = {o.get("action") for o in orders if isinstance(o, Mapping)}
        text += f"  ({chance})" if choice in chosen else f"  (doctrine drew {choice}: {chance})"
    for rej in turn.rejected.get(side, []):
        rd = payload(rej)
        source = f" [{rd['source']}]" if rd.get("source") else ""
        text += f"; REFUSED {order_text(rd.get('order'))}{source}: {rd.get('reason', '?')}"
    return f"{head}: {text}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s" if not word.endswith("y") \
        else f"{n} {word[:-1]}ies"


def _summary(turn: _Turn) -> str | None:
    c = turn.counts
    isr: list[str] = []
    if c["sorties"]:
        seen = f" ({c['seen by red']} seen by red)" if c["seen by red"] else ""
        isr.append(_plural(c["sorties"], "sortie") + seen)
    if turn.cancelled:
        why = ", ".join(f"{k} {n}" for k, n in sorted(turn.cancelled.items()))
        isr.append(f"{sum(turn.cancelled.values())} cancelled ({why})")
    if c["searches"]:
        isr.append(_plural(c["searches"], "search").replace("searchs", "searches"))
    if c["detections"]:
        isr.append(_plural(c["detections"], "detection"))
    c2 = [f"{c[k]} {k}" for k in ("delivered", "lost", "withheld") if c[k]]
    parts = ([f"isr: {', '.join(isr)}"] if isr else []) + ([f"c2: {', '.join(c2)}"] if c2 else [])
    return "; ".join(parts) if parts else None


def _turn_block(turn: _Turn, rung: str, said: _Said) -> list[str]:
    lines = [f"== turn {turn.number}  rung {rung} =="]
    sides = (["white"] if "white" in turn.orders or "white" in turn.rejected else [])
    lines += [_side_line(turn, side, said) for side in [*sides, "blue", "red"]]
    lines += [f"  t={hours(t)}h {text}" for t, text in turn.events]
    if turn.end is not None:
        e = payload(turn.end)
        if e.get("red_losses") or e.get("blue_losses"):
            lines.append(f"  losses this turn: red {num(e.get('red_losses'))} ships, "
                         f"blue {num(e.get('blue_losses'))} launchers")
    summary = _summary(turn)
    if summary:
        lines.append("  " + summary)
    return lines


# ---- the outcome -----------------------------------------------------------------------------

def _outcome(o: Mapping[str, Any]) -> list[str]:
    rest = dict(o)
    take = rest.pop
    if take("deterrence_held", None) is False or o.get("failure_turn") is not None:
        head = f"deterrence FAILED on turn {value_text(take('failure_turn', '?'))}"
        known, art5 = take("known_turn", None), take("article5_turn", None)
        head += f"; blue knew on turn {known}" if known is not None else "; blue never knew"
        head += f"; Article V on turn {art5}" if art5 is not None else "; no Article V"
    else:
        head = "deterrence held"
        for key in ("failure_turn", "known_turn", "article5_turn"):
            if rest.get(key) is None:
                rest.pop(key, None)
    lines = [head + f"; highest rung {take('highest_rung', '?')} "
                    f"(level {take('highest_level', '?')}) after {take('turns_played', '?')} turns"]
    lines.append(f"red gains {num(take('red_gains', None), 3)}; losses: red "
                 f"{num(take('red_losses', None))} ships, blue {num(take('blue_losses', None))} "
                 "launchers")
    lines.append(f"incursions {value_text(take('incursions', '?'))} "
                 f"({value_text(take('incursions_detected', '?'))} detected, mean "
                 f"{hours(take('mean_time_to_detect_h', None))}h to detect); "
                 f"detections {value_text(take('detections', '?'))}")
    rate = take("c2_delivery_rate", None)
    lines.append(f"c2: {value_text(take('c2_messages', '?'))} messages, "
                 f"{num(rate * 100, 1) if isinstance(rate, int | float) else '?'}% delivered, "
                 f"mean latency {num(take('c2_mean_latency_h', None))}h")
    lines += [f"{k}: {value_text(v)}" for k, v in sorted(rest.items())]
    return ["== outcome ==", *lines]


# ---- the whole game --------------------------------------------------------------------------

def playthrough(records: Iterable[Any], outcome: Mapping[str, Any] | None = None,
                title: str | None = None) -> str:
    """A game's records (the dicts a ``ListSink`` holds) as readable text: one block per turn,
    then the outcome when it is given (a run's ``RunResult.outcome``, a log's footer).

    Raises ValueError on a record with no kind, turn or data (a bug upstream, not a style
    matter); a kind it does not know gets one generic line.
    """
    turns, first_rung = _collect(records)
    lines = ([f"# {title}"] if title else []) + [LEGEND]
    rung = first_rung or "?"
    said = _Said()
    for turn in turns:
        lines += ["", *_turn_block(turn, rung, said)]
        if turn.end is not None:
            rung = str(payload(turn.end).get("rung", rung))
    if outcome is not None:
        lines += ["", *_outcome(outcome)]
    return "\n".join(lines) + "\n"


def playthrough_of(name: str, seed: int) -> str:
    """Play a built-in scenario with its default controllers and return its playthrough."""
    from engine.io.loading import load_pair
    from engine.sim.kernel import run
    from engine.sim.state import ListSink

    scenario, rules = load_pair(name)
    sink = ListSink()
    result = run(scenario, rules, seed, sink=sink)
    return playthrough(sink, result.outcome,
                       title=f"{name} seed {seed}: golden playthrough (`make golden` rewrites it)")


def golden_text_path(folder: Path, name: str, seed: int) -> Path:
    return folder / f"{name}-seed{seed}.txt"


def regenerate(folder: Path) -> list[Path]:
    """Rewrite the playthrough of every golden case (engine.testing.golden_cases)."""
    from engine.testing import golden_cases

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, seed in golden_cases():
        path = golden_text_path(folder, name, seed)
        path.write_text(playthrough_of(name, seed), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "regenerate":
        print("usage: python -m engine.present.playthrough regenerate DIR", file=sys.stderr)
        return 2
    for path in regenerate(Path(argv[1])):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
