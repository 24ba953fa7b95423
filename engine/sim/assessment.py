"""The end of each turn: per-side state records, the umpire's measures, the public turn record
with the state digest; and the run's outcome measures (the log's footer, a sweep's row)."""

from __future__ import annotations

import hashlib
from typing import Any

from engine.canonical import encode
from engine.sim.forces import c2, isr
from engine.sim.state import World, r6, rounded
from engine.sim.views import blue_situation, red_situation


def assess(w: World) -> None:
    """Emit the turn's state records, measures and digest (nothing in a measures-only run)."""
    if not w.recording:
        return
    tally = w.tally
    blue = {"detections": tally.get("detections"), "c2_delivered": tally.get("c2_delivered"),
            "c2_sent": tally.get("c2_sent")}
    blue = rounded(blue)
    red = rounded({"incursions": tally.get("incursions")})
    # the situations round their own floats, so only the counts added here need rounding
    w.emit("state.blue", "blue", {**blue_situation(w), **blue})
    w.emit("state.red", "red", {**red_situation(w), **red})
    w.emit("turn.measures", "", {
        **blue, **red, "fresh_tracks": isr.fresh_tracks(w),
        "degraded_count": len(c2.degraded_links(w)),
        "beliefs": {"isr": r6(w.mind.isr), "resolve": r6(w.mind.resolve)},
        "armed_attack_known": w.ladder.known_turn is not None})
    public: dict[str, Any] = {"rung": w.ladder.rung, "red_losses": r6(tally.get("red_losses")),
                              "blue_losses": r6(tally.get("blue_losses"))}
    if getattr(w.sink, "wants_digest", True):
        public["digest"] = digest(w)
    w.emit("turn.end", "", public)


def turn_row(w: World, red_action: str, red_p: float | None) -> dict[str, Any]:
    """The turn's row of a sweep's per-turn table (TurnSeries), read at the turn's end."""
    links = w.c2.links
    up = sum(1 for link in links.values() if link.degraded_until <= w.now)
    return {"turn": w.turn, "rung": w.ladder.rung, "level": w.rules.rung_level(w.ladder.rung),
            "detections": int(w.tally.get("detections")),
            "c2_available": up / len(links) if links else 1.0,
            "red_action": red_action, "red_action_p": red_p,
            "blue_actions": "+".join(a for side, a in w.tally.actions if side == "blue")}


def digest(w: World) -> str:
    """A short hash of the whole mutable state: replays must reach the same digest each turn."""
    lad, mind = w.ladder, w.mind
    state = {
        "ladder": [lad.rung, lad.highest, lad.armed_attack_turn, lad.known_turn,
                   lad.article5_turn, r6(lad.red_gains), sorted(lad.known_domains),
                   lad.red_rung, lad.seized],
        "mind": [r6(mind.isr), r6(mind.resolve), mind.seen_readiness,
                 {k: r6(v) for k, v in mind.known_outages.items()}, mind.authority_seen],
        "groups": {g: [s.zone, s.dest, r6(s.arrive_t), r6(s.ships), s.mission, s.leg]
                   for g, s in w.red.groups.items()},
        "batteries": {f"{r}.{b}": [s.site, r6(s.launchers), s.magazine, r6(s.ready_t)]
                      for (r, b), s in w.littoral.batteries.items()},
        "links": {lid: [r6(s.degraded_until), s.hardened] for lid, s in w.c2.links.items()},
        "counterstrike": w.counterstrike.magazines,
        "tracks": {n: {g: [t.zone, r6(t.detected_t)] for g, t in tr.items()}
                   for n, tr in w.isr.tracks.items()},
        "authority": w.littoral.authority, "tempo": w.isr.tempo,
        "readiness": w.littoral.readiness, "fired_early": sorted(w.fired_early),
    }
    return hashlib.sha256(encode(state, finite=True)).hexdigest()[:16]  # floats via r6


def outcome_measures(w: World) -> dict[str, Any]:
    """The run's outcome: the footer of its log and one row of a sweep."""
    tot, lad = w.tally.totals, w.ladder
    found = int(tot.get("incursions_detected", 0))
    sent = int(tot.get("c2_sent", 0))
    delivered = int(tot.get("c2_delivered", 0))
    return {
        "deterrence_held": lad.armed_attack_turn is None,
        "failure_turn": lad.armed_attack_turn,
        "known_turn": lad.known_turn,
        "article5_turn": lad.article5_turn,
        "highest_rung": lad.highest,
        "highest_level": w.rules.ladder.level(lad.highest),
        "turns_played": w.turn,
        "red_gains": r6(lad.red_gains),
        "red_losses": r6(tot.get("red_losses", 0.0)),
        "blue_losses": r6(tot.get("blue_losses", 0.0)),
        "incursions": int(tot.get("incursions", 0)),
        "incursions_detected": found,
        "mean_time_to_detect_h": r6(tot["detect_delay_h"] / found) if found else None,
        "detections": int(tot.get("detections", 0)),
        "c2_messages": sent,
        "c2_mean_latency_h": r6(tot["c2_latency"] / delivered) if delivered else None,
        "c2_delivery_rate": r6(delivered / sent) if sent else None,
    }
