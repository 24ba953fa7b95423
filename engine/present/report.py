"""After-action reports: one streaming pass over a log becomes a self-contained HTML (or Markdown)
report with the outcome, a timeline, matplotlib figures, the chance draws that turned the game
explained in plain words, and each side's orders per turn.

Public API (a notebook depends on it): ``build_figures(records)`` returns matplotlib figures keyed
``rung``, ``detections``, ``c2`` and ``losses``; ``render(path, fmt)`` returns the report as text;
``write(path, out, fmt)`` writes it, with PNG files beside a Markdown report. Figures use the Agg
canvas directly (no pyplot, no display). Truncated and forked logs are reported as such.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    Table,
    to_html,
    to_markdown,
)
from engine.present.figures import FIGURES, Tally, figures_from, png
from engine.present.figures import build_figures as build_figures  # public here: notebooks use it
from engine.present.narrative import labels_of, tell

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
LADDER = ("escalation.rung", "escalation.threshold", "alliance.armed_attack", "alliance.article5")
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


# ---- the story: timeline, turning points, orders ---------------------------------------------

@dataclass
class Story:
    """The narrative parts of a report, gathered record by record."""

    threshold_actions: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)  # action id -> label (the rules')
    timeline: list[tuple[str, ...]] = field(default_factory=list)
    draws: list[tuple[str, ...]] = field(default_factory=list)
    moments: list[tuple[int, str, str]] = field(default_factory=list)  # turn, text, why
    orders: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    ladder_turns: set[int] = field(default_factory=set)

    def add(self, rec: Rec) -> None:
        """Take one record."""
        kind, turn = rec["kind"], rec["turn"]
        if kind in TIMELINE:
            self.timeline.append((str(turn), f"{rec['t']:.1f}", _seen_by(rec),
                                  _line(rec, self.labels)))
        if kind in ("orders", "orders.rejected", "umpire.inject"):
            self._order(rec)
        if kind in LADDER:
            self.ladder_turns.add(turn)
            self.moments.append((turn, f"Turn {turn}: {_line(rec, self.labels)}.", "ladder"))
        said = explain(rec, self.threshold_actions)
        if said is None:
            return
        text, odd = said
        self.draws.append((str(turn), f"{rec['t']:.1f}", text,
                           "unlikely" if odd else "likely"))
        if odd or kind == "red.decision":
            self.moments.append((turn, f"Turn {turn}, hour {rec['t']:.1f}: {text}"
                                 + (" - against the odds." if odd else "."),
                                 "odd" if odd else "decision"))

    def turning_points(self) -> list[str]:
        """Ladder moves, the Red decisions behind them, and draws that went against the odds."""
        return [text for turn, text, why in self.moments
                if why != "decision" or turn in self.ladder_turns]

    def _order(self, rec: Rec) -> None:
        cell = self.orders.setdefault(rec["turn"], {"blue": [], "red": [], "umpire": []})
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
    story = Story(threshold_actions=_threshold_actions(reader.header),
                  labels=labels_of(reader.header["rules"]))
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
    sections = (_outcome(log), _figures(figures), _turning_points(log), _timeline(log),
                _orders(log), _per_turn(log))
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
    blocks: list[Block] = [Paragraph(
        "Every chance event is a draw between 0 and 1: the event happens when the draw falls "
        "below its chance. Red picks an option by drawing against its choice probabilities.")]
    key = s.turning_points()
    blocks.append(Items(tuple(key) if key else ("No turning point: every draw went as "
                                                "expected and the ladder never moved.",)))
    if s.draws:
        blocks.append(Table(("Turn", "Hour", "Chance draw in plain words", "Odds"),
                            tuple(s.draws), "Every chance draw that shaped the game"))
    return Section("Turning points", tuple(blocks))


def _orders(log: Log) -> Section:
    rows = tuple((str(n), "; ".join(c["blue"]) or "-", "; ".join(c["red"]) or "-",
                  "; ".join(c["umpire"]) or "-") for n, c in sorted(log.story.orders.items()))
    return Section("Orders by turn", (
        Paragraph("What each side ordered at the start of each turn (the controller in "
                  "brackets) and what the umpire injected."),
        Table(("Turn", "Blue orders", "Red orders", "Umpire injects"), rows)))


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
    out.write_text(to_markdown(doc, image_dir=folder.name), encoding="utf-8")
    return [out, *written]
