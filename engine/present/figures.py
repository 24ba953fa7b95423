"""Figures of a logged game (matplotlib, Agg canvas: no pyplot, no display): the escalation rung,
detections and track custody, C2 latency and link availability, and losses, by turn.

``build_figures(records)`` gathers the per-turn series in one pass (``Tally``) and returns the
figures keyed ``rung``, ``detections``, ``c2`` and ``losses``; ``CAPTIONS`` says what each
shows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

Rec = dict[str, Any]
FIGURES = ("rung", "detections", "c2", "losses")
CAPTIONS = {"rung": "Escalation rung at the end of each turn; the dashed line is the "
                    "armed-attack threshold.",
            "detections": "Blue detections and Red incursions per turn, and Red groups Blue "
                          "held a fresh track on at the end of each turn.",
            "c2": "C2 message delivery latency (each message and the turn's mean) and the "
                  "share of link-hours with links up in each turn.",
            "losses": "Red ships and Blue launchers lost, per turn and in total."}
STYLE: Any = {"font.size": 11, "axes.titlesize": 13, "axes.titleweight": "bold",
         "axes.labelsize": 11, "axes.spines.top": False, "axes.spines.right": False,
         "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 10, "legend.frameon": False,
         "font.family": "DejaVu Sans"}
BLUE, RED, GREY, AMBER = "#1f4e8c", "#b3261e", "#6b7280", "#d97706"


# ---- one pass over the records ---------------------------------------------------------------

@dataclass
class Tally:
    """Per-turn series for the figures, gathered record by record."""

    header: Rec | None = None
    ends: dict[int, Rec] = field(default_factory=dict)  # turn -> turn.end + turn.measures
    measures: dict[int, Rec] = field(default_factory=dict)  # turn.measures awaiting turn.end
    latencies: list[tuple[int, float]] = field(default_factory=list)
    outages: dict[str, list[list[float]]] = field(default_factory=dict)  # link -> [start, end]
    links: set[str] = field(default_factory=set)
    levels: dict[str, int] = field(default_factory=dict)
    last_t: float = 0.0
    failure_turn: int | None = None  # Red ordered an armed attack (the truth)
    known_turn: int | None = None  # Blue learned of it
    article5_turn: int | None = None

    def add(self, rec: Rec) -> None:
        """Take one record (a header line is kept as the header; a footer is ignored)."""
        if rec.get("format") == "wargame-log":
            self.header = rec
            return
        if "kind" not in rec:
            return
        kind, data = rec["kind"], rec["data"]
        self.last_t = max(self.last_t, float(rec["t"]))
        if kind == "turn.measures":  # the umpire's measures, just before the turn's end
            self.measures[rec["turn"]] = data
        elif kind == "turn.end":
            merged = {**self.measures.pop(rec["turn"], {}), **data}
            self.ends[rec["turn"]] = {**rec, "data": merged}
        elif kind == "escalation.rung":
            self.levels[data["to"]] = int(data["level"])
        elif kind == "escalation.threshold" and self.failure_turn is None:
            self.failure_turn = rec["turn"]
        elif kind == "alliance.armed_attack" and self.known_turn is None:
            self.known_turn = rec["turn"]
        elif kind == "alliance.article5" and data["invoked"] and self.article5_turn is None:
            self.article5_turn = rec["turn"]
        elif kind == "c2.message.delivered":
            self.latencies.append((rec["turn"], float(data["latency_h"])))
            self.links.update(data.get("route", ()))
        elif kind == "c2.link.degraded":
            self._degrade(rec["unit"], float(rec["t"]), float(data["until_h"]))
        elif kind == "c2.link.restored":
            self._restore(rec["unit"], float(rec["t"]))

    def _degrade(self, link: str, t: float, until: float) -> None:
        self.links.add(link)
        spans = self.outages.setdefault(link, [])
        if spans and spans[-1][1] > t:
            spans[-1][1] = max(spans[-1][1], until)
        else:
            spans.append([t, until])

    def _restore(self, link: str, t: float) -> None:
        spans = self.outages.get(link)
        if spans:
            spans[-1][1] = min(spans[-1][1], t)

    @property
    def turns(self) -> list[int]:
        return sorted(self.ends)

    def ladder(self) -> tuple[list[tuple[str, int, str]], int]:
        """(rung id, level, group name) bottom to top, and the armed-attack threshold level."""
        rules = (self.header or {}).get("rules")
        if rules is None:
            from engine.io.loading import load_rules

            rules = load_rules("standard").model_dump(mode="json")
        rungs = [(x["id"], int(x["level"]), g["name"]) for g in rules["ladder"]["groups"]
                 for x in g["rungs"]]
        known = {r[0] for r in rungs}
        rungs += [(rid, lvl, "") for rid, lvl in sorted(self.levels.items()) if rid not in known]
        threshold = rules["ladder"]["armed_attack_threshold"]
        return rungs, next(lvl for rid, lvl, _ in rungs if rid == threshold)

    def turn_window(self, turn: int) -> tuple[float, float]:
        """Start and end hour of a completed turn."""
        end = float(self.ends[turn]["t"])
        return end - end / turn, end

    def availability(self, turn: int) -> float:
        """Share of link-hours with every C2 link up during a turn."""
        count = len(((self.header or {}).get("scenario") or {}).get("blue", {}).get("c2", {})
                    .get("links", {})) or len(self.links)
        lo, hi = self.turn_window(turn)
        if count == 0 or hi <= lo:
            return 1.0
        down = sum(max(0.0, min(b, hi) - max(a, lo)) for spans in self.outages.values()
                   for a, b in spans)
        return max(0.0, 1.0 - down / (count * (hi - lo)))


def tally(records: Iterable[Rec]) -> Tally:
    """A Tally of an iterable of records (a header line among them is used as the header)."""
    t = Tally()
    for rec in records:
        t.add(rec)
    return t


# ---- figures ---------------------------------------------------------------------------------

def build_figures(records: Iterable[Rec], header: Rec | None = None) -> dict[str, Figure]:
    """Figures keyed rung, detections, c2, losses; the header (if any) gives ladder and links."""
    t = tally(records)
    if header is not None:
        t.header = header
    return figures_from(t)


def figures_from(t: Tally) -> dict[str, Figure]:
    """The four figures of a tally."""
    with matplotlib.rc_context(STYLE):
        return {"rung": _fig_rung(t), "detections": _fig_detections(t), "c2": _fig_c2(t),
                "losses": _fig_losses(t)}


def _figure(rows: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(5.6, 4.0), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)
    return fig, [row[0] for row in axes]


def _turn_axis(ax, turns: list[int]) -> None:
    ax.set_xlabel("Turn")
    if turns:
        if len(turns) <= 10:
            ax.set_xticks(turns)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        ax.set_xlim(turns[0] - 0.6, turns[-1] + 0.6)
    else:
        ax.text(0.5, 0.5, "no completed turn in this log", ha="center", va="center",
                transform=ax.transAxes, color=GREY)


def _fig_rung(t: Tally) -> Figure:
    fig, (ax,) = _figure()
    rungs, threshold = t.ladder()
    level = {rid: lvl for rid, lvl, _ in rungs}
    turns = t.turns
    ax.set_ylim(min(level.values()) - 0.5, max(level.values()) + 0.5)
    _ladder_bands(ax, rungs, threshold)
    ys = [level.get(t.ends[n]["data"]["rung"], 0) for n in turns]
    if turns:
        ax.plot(turns, ys, "o-", color=BLUE, lw=2.4, ms=7, label="rung at end of turn")
    ax.set_yticks([lvl for _, lvl, _ in rungs], [rid.replace("_", " ") for rid, _, _ in rungs])
    ax.set_ylabel("Escalation rung")
    ax.set_title("Escalation rung by turn")
    _turn_axis(ax, turns)
    ax.legend(loc="upper left")
    return fig


def _ladder_bands(ax, rungs: list[tuple[str, int, str]], threshold: int) -> None:
    """Shade the ladder's groups, name them at the right and mark the threshold."""
    groups: dict[str, list[int]] = {}
    for _, lvl, name in rungs:
        groups.setdefault(name, []).append(lvl)
    for i, lvls in enumerate(groups.values()):
        lo, hi = min(lvls) - 0.5, max(lvls) + 0.5
        armed = lo >= threshold - 0.5
        ax.axhspan(lo, hi, color=RED if armed else GREY, alpha=0.10 if armed else 0.05 * (i % 2))
    ax.axhline(threshold - 0.5, color=RED, ls="--", lw=1.4, label="armed-attack threshold")
    names = ax.twinx()
    names.set_ylim(ax.get_ylim())
    names.set_yticks([(min(v) + max(v)) / 2 for v in groups.values()],
                     [n.replace(" ", "\n", 1) for n in groups], fontsize=9, color=GREY)
    names.tick_params(length=0)
    names.grid(False)


def _fig_detections(t: Tally) -> Figure:
    fig, (ax,) = _figure()
    turns = t.turns
    det = [t.ends[n]["data"]["detections"] for n in turns]
    inc = [t.ends[n]["data"]["incursions"] for n in turns]
    tracks = [t.ends[n]["data"]["fresh_tracks"] for n in turns]
    ax.bar([n - 0.2 for n in turns], det, width=0.4, color=BLUE, label="Blue detections")
    ax.bar([n + 0.2 for n in turns], inc, width=0.4, color=RED, alpha=0.8,
           label="Red incursions")
    ax.plot(turns, tracks, "o-", color=AMBER, lw=2, label="Red groups tracked at turn end")
    ax.set_ylabel("Count per turn")
    ax.set_title("Detections and track custody")
    ax.yaxis.get_major_locator().set_params(integer=True)
    _turn_axis(ax, turns)
    ax.legend(loc="upper left")
    return fig


def _fig_c2(t: Tally) -> Figure:
    fig, (left, right) = _figure(rows=2)
    turns = t.turns
    by_turn: dict[int, list[float]] = {}
    for n, lat in t.latencies:
        by_turn.setdefault(n, []).append(lat)
    if t.latencies:
        left.set_ylim(0, 1.4 * max(lat for _, lat in t.latencies))
        left.plot([n for n, _ in t.latencies], [lat for _, lat in t.latencies], "o",
                  color=BLUE, alpha=0.35, ms=5, label="one message")
    means = [(n, sum(v) / len(v)) for n, v in sorted(by_turn.items())]
    if means:
        left.plot([n for n, _ in means], [m for _, m in means], "s-", color=AMBER, lw=2,
                  label="mean of the turn")
        left.legend(loc="upper left", ncols=2)
    left.set_ylabel("Delivery\nlatency (h)")
    left.set_title("Command and control")
    _turn_axis(left, turns)
    left.set_xlabel("")
    avail = [100 * t.availability(n) for n in turns]
    right.bar(turns, avail, color=[BLUE if a >= 99.99 else AMBER for a in avail], width=0.6)
    right.set_ylim(0, 105)
    right.set_ylabel("Link-hours\nup (%)")
    _turn_axis(right, turns)
    return fig


def _fig_losses(t: Tally) -> Figure:
    fig, (ax,) = _figure()
    turns = t.turns
    red = [float(t.ends[n]["data"]["red_losses"]) for n in turns]
    blue = [float(t.ends[n]["data"]["blue_losses"]) for n in turns]
    ax.bar([n - 0.2 for n in turns], red, width=0.4, color=RED, alpha=0.8,
           label="Red ships lost in the turn")
    ax.bar([n + 0.2 for n in turns], blue, width=0.4, color=BLUE, alpha=0.8,
           label="Blue launchers lost in the turn")
    ax.plot(turns, _cumulative(red), "-", color=RED, lw=2, label="Red ships lost, total")
    ax.plot(turns, _cumulative(blue), "-", color=BLUE, lw=2, label="Blue launchers lost, total")
    if turns and not any(red) and not any(blue):
        ax.text(0.5, 0.5, "no losses on either side", ha="center", va="center",
                transform=ax.transAxes, color=GREY, fontsize=13)
        ax.set_ylim(0, 1)
    ax.set_ylabel("Ships or launchers")
    ax.set_title("Losses by turn")
    _turn_axis(ax, turns)
    ax.legend(loc="upper left")
    return fig


def _cumulative(values: list[float]) -> list[float]:
    out, total = [], 0.0
    for v in values:
        total += v
        out.append(total)
    return out


def png(fig: Figure) -> bytes:
    """A figure as PNG bytes."""
    buf = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
