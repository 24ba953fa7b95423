"""After-action reports: one streaming pass over a log becomes a self-contained HTML (or Markdown)
report with the outcome, the umpire's final map, a timeline, matplotlib figures, the turning
points and every chance draw explained in plain words (``engine.present.turning``), and each
side's orders per turn beside its reasons (a team's rationale; for Blue's doctrine, the rules
that fired).

Public API (a notebook depends on it): ``build_figures(records)`` returns matplotlib figures keyed
``rung``, ``detections``, ``c2`` and ``losses``; ``render(path, fmt)`` returns the report as text;
``write(path, out, fmt)`` writes it, with PNG files beside a Markdown report. Figures use the Agg
canvas directly (no pyplot, no display). Truncated and forked logs are reported as such.
"""

from __future__ import annotations

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
from engine.present.figures import CAPTIONS, FIGURES, Tally, figures_from, png
from engine.present.figures import build_figures as build_figures  # public here: notebooks use it
from engine.present.narrative import labels_of, tell
from engine.present.svgmap import layer_for, theater_svg
from engine.present.turning import SCORING, Names, Turning, explain, threshold_actions
from engine.spec.scenario import Scenario

Rec = dict[str, Any]
FORMATS = ("html", "md")
TIMELINE = frozenset({
    "umpire.inject", "escalation.rung", "escalation.threshold", "alliance.armed_attack",
    "alliance.article5", "red.incursion", "isr.detect", "red.cyber.attack",
    "red.counterspace.attack", "intel.attribution", "c2.link.degraded", "space.degraded",
    "c2.authority.granted", "engagement.salvo", "engagement.strike", "orders.rejected",
    "game.fork",
})
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
    integrity: str = ""  # one sentence when the log is broken or damaged, else empty


def read(path: str | Path) -> Log:
    """Stream a log once into a tally and a story; LogError for a record the engine never wrote."""
    reader = read_log(path)
    t = Tally(header=reader.header)
    threshold = threshold_actions(reader.header)
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
    check = reader.integrity
    bad = check.message if check.status in ("broken", "damaged") else ""
    return Log(Path(path), reader.header, reader.footer, reader.truncated,
               reader.state.reason or "the log has no footer", reader.state.last_turn, t, story,
               bad)


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
    if log.integrity:  # said first: what follows may not be the game that was played
        out.insert(0, Callout(log.integrity, "warning"))
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
    """The figures, each with its caption (also its alt text)."""
    return Section("Figures", tuple(Image(name, png(figures[name]), CAPTIONS[name],
                                          alt=CAPTIONS[name]) for name in FIGURES))


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
