"""A worked example of one Red decision, generated from the code for docs/model.md: every term
of Red's estimate at its first turn, then every option's utility term by term and its chance."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.game import Game
from engine.sim.decision import quantal_choice, utility
from engine.sim.views import red_estimate


def worked_example(scenario: str = "alliance-2023", seed: int = 0) -> str:
    """Markdown: Red's estimate and its scored options at turn 1 of ``scenario``."""
    game = Game.load(scenario)
    session = game.start(seed)
    rules = game.rules
    est = red_estimate(session.w)
    menu = session.legal_orders("red")
    lines = [f"Red's first decision in `{scenario}` (seed {seed}); its estimate of Blue:", "",
             "| term | value |", "|---|---|"]
    for name, value in (("coverage believed per turn", session.w.mind.isr),
                        ("p_seen", est.p_seen), ("resolve", est.resolve),
                        ("response_delay (h)", est.response_delay_h),
                        ("patience (h)", est.patience_h),
                        ("naval_loss_share", est.naval_loss_share),
                        ("punish_share", est.punish_share)):
        lines.append(f"| `{name}` | {value:.3f} |")
    lines.append(f"| `red_rung` | {est.red_rung} |")
    lines += ["", "| option | p_att | p_answer | q | kept gain | cost x q x (1 + loss) | climb "
              "| EU | P(chosen) |", "|---|---|---|---|---|---|---|---|---|"]
    scored = {}
    for aid in menu.actions:
        action = rules.actions.red[aid]
        climb = rules.ladder.climb_cost(est.red_rung, action.signals)
        scored[aid] = utility(action, rules.ladder.level(action.signals), climb, est,
                              rules.red_model)
    _, probs = quantal_choice({a: s["eu"] for a, s in scored.items()},
                              rules.red_model.rationality, menu.draw)
    for aid, s in sorted(scored.items(), key=lambda kv: -kv[1]["eu"]):
        cost = rules.actions.red[aid].cost * s["q"] * (1 + s["loss"])
        lines.append(f"| `{aid}` | {s['p_detect']:.3f} | {s['p_answer']:.3f} | {s['q']:.3f} | "
                     f"{s['gain']:.3f} | {cost:.3f} | {s['climb']:.2f} | {s['eu']:+.3f} | "
                     f"{probs[aid]:.3f} |")
    weights = rules.red_model.weights
    lines += ["", f"With the standard weights (gain {weights.gain:g}, cost {weights.cost:g}, "
              f"escalation {weights.escalation_risk:g}), EU = kept gain - cost x q x (1 + loss) "
              f"- climb; P(chosen) is the softmax at rationality "
              f"{rules.red_model.rationality:g}."]
    return "\n".join(lines)


BEGIN = "<!-- worked-example:begin -->"
END = "<!-- worked-example:end -->"


def splice(text: str, body: str) -> str:
    """``text`` with what lies between the worked-example markers replaced by ``body``
    (ValueError when the markers are missing)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are not both there, in order")
    return text[:start + len(BEGIN)] + "\n" + body + "\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.present.worked docs/model.md``: write the worked example there."""
    for name in argv if argv is not None else sys.argv[1:]:
        path = Path(name)
        path.write_text(splice(path.read_text(encoding="utf-8"), worked_example()),
                        encoding="utf-8")
        print(f"{path}: worked example written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
