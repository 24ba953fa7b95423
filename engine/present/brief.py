"""Team handouts: the situation, forces, objectives, action menu, ladder and turn, per side.

``render_brief(scenario, rules, side, fmt)`` builds a document from the scenario's meta and forces
and the rule set's menus and ladder. Blue and Red see only what their team may know; White (the
umpire) sees both sides plus Red's decision model, Blue's doctrine and the scheduled injects.
Every number is notional, and each brief says so at the top. Each brief has the theater map
(``svgmap``: the public picture plus the side's own forces; White's shows both) and is drawn in
its side's colour.
"""

from __future__ import annotations

from engine.present.document import (
    Block,
    Callout,
    Document,
    Heading,
    Items,
    Paragraph,
    Section,
    Svg,
    Table,
    to_html,
    to_markdown,
)
from engine.present.svgmap import BLUE, RED, forces_layer, theater_svg
from engine.sim.session import param_choices
from engine.spec.rules import FACTS, Action, Param, Rules, parse_condition
from engine.spec.scenario import Scenario

SIDES = ("blue", "red", "white")
FORMATS = ("md", "html")
ACCENT = {"blue": BLUE, "red": RED, "white": "#374151"}
NOTIONAL = ("Notional exercise: every number in this brief is an illustrative teaching value, "
            "never a claim about a real system. Red is an abstract adversary, not any real state.")
COMMAND = {
    "separate": "separate national commands that consult before escalating",
    "planned_joint_hq": "separate commands, with a joint headquarters planned",
    "joint_hq": "a joint headquarters",
    "joint_force_hq": "a joint force headquarters in theater that can grant engagement authority",
}
DOMAINS = {"land_sea_air": "the physical domains (land, sea, air)", "cyber": "cyberspace",
           "space": "space"}
DOMAIN_SHORT = {"land_sea_air": "land/sea/air", "cyber": "cyber", "space": "space", "none": "-"}
FLAGS = {"authority": "engagement authority is held",
         "authority_requested": "engagement authority is held or requested",
         "article5": "Article V has been invoked",
         "armed_attack": "your side knows of an armed attack (Blue: detected, or its effects "
                         "landed; Red: ordered)"}
FACT_WORDS = {"turn": "the turn", "red_tracks": "fresh tracks on Red groups",
              "incursions_seen": "Red incursions detected last turn",
              "links_degraded": "degraded C2 links",
              "blue_isr_seen": "hours of Blue ISR Red saw over its objective last turn",
              "red_gains": "Red's gains as your side can tell them"}
OPS = {">=": "is at least", "<=": "is at most", ">": "is above", "<": "is below", "==": "is",
       "!=": "is not"}


def render_brief(scenario: Scenario, rules: Rules, side: str, fmt: str = "md") -> str:
    """The brief of one side (blue, red or white) as Markdown (md) or self-contained HTML."""
    if fmt not in FORMATS:
        raise ValueError(f"format: expected md or html, found '{fmt}'")
    doc = build_brief(scenario, rules, side)
    return to_html(doc) if fmt == "html" else to_markdown(doc)


def build_brief(scenario: Scenario, rules: Rules, side: str) -> Document:
    """The brief of one side as a document."""
    if side not in SIDES:
        raise ValueError(f"side: expected blue, red or white, found '{side}'")
    s, r = scenario, rules
    sections = [_situation(s, side), *_forces(s, side), _objectives(s, r, side), _menus(s, r, side),
                _ladder(r, side), _turn(s, r, side)]
    if side == "white":
        sections += [_red_model(r), _doctrine(r), _injects(s), _adjudication(r)]
    return Document(title=f"{_team(s, side)} brief: {s.meta.title}",
                    subtitle=(f"Scenario {s.meta.id}, rule set {r.name}; {s.turns.count} turns "
                              f"of {s.turns.hours:g} hours.",),
                    callouts=(Callout(NOTIONAL), Callout(_handling(side), "warning")),
                    sections=tuple(sections), meta={"wargame-brief-side": side},
                    accent=ACCENT[side])


def _team(s: Scenario, side: str) -> str:
    return {"blue": f"Blue team ({s.sides.blue.name})", "red": f"Red team ({s.sides.red.name})",
            "white": "White cell (umpire)"}[side]


def _handling(side: str) -> str:
    if side == "white":
        return ("Umpire's copy: it holds both sides' forces, Red's decision model, Blue's "
                "doctrine and the scheduled injects. Do not hand it to the players.")
    return f"For the {side.capitalize()} team only: do not show it to the other team."


def zone_name(s: Scenario, zid: str) -> str:
    """A zone's display name, falling back to its id."""
    zone = s.theater.zones.get(zid)
    return zone.name if zone else zid


def _num(x: float) -> str:
    return f"{x:g}"


# ---- situation -------------------------------------------------------------------------------

def _situation(s: Scenario, side: str) -> Section:
    blue = s.sides.blue
    partners = f"; partners: {', '.join(blue.partners)}" if blue.partners else ""
    blocks: list[Block] = [
        Paragraph(s.meta.summary, lead=s.meta.title + "."),
        Paragraph(s.meta.notional, lead="Notional values."),
        Paragraph(f"{blue.name}: {', '.join(blue.members)}{partners}.", lead="The alliance."),
        Paragraph(s.sides.red.description, lead=f"The adversary ({s.sides.red.name})."),
        Paragraph(f"an armed attack in {_domains(s.treaty.article5_domains)} can trigger the "
                  "alliance's mutual-defence article (Article V).", lead="Treaty terms:"),
    ]
    if s.meta.changes:
        blocks += [Heading("What changed in this posture"), Items(s.meta.changes)]
    blocks += [Heading("The theater"), _map(s, side), _zones_table(s), Heading("Sources"),
               Items(s.meta.sources)]
    return Section("Situation", tuple(blocks))


def _map(s: Scenario, side: str) -> Svg:
    """The theater map: what everyone knows, plus this side's forces as the game starts."""
    whose = {"blue": "your forces", "red": "your forces", "white": "both sides' forces"}[side]
    title = f"The theater and {whose} at the start"
    caption = (f"{title}. Zones are laid out from their distances (a schematic, not a chart); "
               "circle size shows a zone's area.")
    return Svg("map", theater_svg(s, forces_layer(s, side, title), width=760, height=480),
               caption)


def _domains(domains: tuple[str, ...]) -> str:
    words = [DOMAINS[d] for d in domains]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _zones_table(s: Scenario) -> Table:
    rows = tuple((z.name, z.kind.replace("_", " "), z.claimed_by, f"{z.area_nm2:,.0f}")
                 for z in s.theater.zones.values())
    return Table(("Zone", "Kind", "Claimed by", "Area (nm²)"), rows, compact=True)


# ---- forces ----------------------------------------------------------------------------------

def _forces(s: Scenario, side: str) -> list[Section]:
    blue = Section("Blue forces" if side == "white" else "Your forces", tuple(_blue_forces(s)),
                   "blue-forces")
    red = Section("Red forces" if side == "white" else "Your forces", tuple(_red_forces(s)),
                  "red-forces")
    return {"blue": [blue], "red": [red], "white": [blue, red]}[side]


def _blue_forces(s: Scenario) -> list[Block]:
    return [Heading("ISR detachments"), _isr_table(s), *_littoral(s), *_c2(s),
            Heading("Treaty terms"),
            Paragraph(f"Article V covers an armed attack in "
                      f"{_domains(s.treaty.article5_domains)}{_uncovered(s)}.")]


def _uncovered(s: Scenario) -> str:
    missing = [d for d in ("land_sea_air", "cyber", "space") if d not in s.treaty.article5_domains]
    return f"; it does not cover {_domains(tuple(missing))}" if missing else ""


def _isr_table(s: Scenario) -> Table:
    """One column per detachment, one row per property (a wide table reads badly)."""
    dets = list(s.blue.isr.values())
    rows = (
        ("Base", [s.theater.bases[d.base].name for d in dets]),
        ("Aircraft", [str(d.aircraft) for d in dets]),
        ("Availability per sortie", [f"{d.availability:.2f}" for d in dets]),
        ("Endurance (h)", [_num(d.endurance_h) for d in dets]),
        ("Transit / search speed (kt)", [f"{_num(d.transit_kts)} / {_num(d.search_kts)}"
                                         for d in dets]),
        ("Sweep width (nm)", [_num(d.sweep_width_nm) for d in dets]),
        ("Turnaround (h)", [_num(d.turnaround_h) for d in dets]),
        ("Cancel chance: weather / maintenance",
         [f"{d.weather_cancel_p:.2f} / {d.maintenance_cancel_p:.2f}" for d in dets]),
        ("May search", [", ".join(zone_name(s, z) for z in d.zones) for d in dets]),
        ("Reports to", [s.blue.c2.nodes[d.report_node].name for d in dets]),
    )
    return Table(("", *(d.name for d in dets)), tuple((name, *vals) for name, vals in rows))


def _littoral(s: Scenario) -> list[Block]:
    out: list[Block] = []
    for reg in s.blue.littoral.values():
        role = "anti-ship missiles" if reg.anti_ship else "no anti-ship role"
        out += [Heading(reg.name),
                Paragraph(f"{role}; starts at {reg.readiness} readiness; HQ "
                          f"{s.blue.c2.nodes[reg.hq_node].name}; may occupy "
                          f"{', '.join(zone_name(s, z) for z in reg.sites)}; "
                          f"{reg.missiles_per_launcher} missiles per launcher per salvo, hit "
                          f"chance {reg.p_hit:.2f}, range {_num(reg.range_nm)} nm; displacing "
                          f"takes {_num(reg.displace_h)} h; fires only with engagement "
                          f"authority and a track at most {_num(reg.track_max_age_h)} h old."),
                Table(("Battery", "Site", "Launchers", "Magazine"),
                      tuple((bid, zone_name(s, b.site), str(b.launchers), str(b.magazine))
                            for bid, b in reg.batteries.items()))]
    return out


def _c2(s: Scenario) -> list[Block]:
    c2 = s.blue.c2
    nodes = Table(("Node", "Name", "Nation", "Recovery after cyber attack (h)"),
                  tuple((nid, n.name, n.nation, _num(n.recovery_h)) for nid, n in c2.nodes.items()))
    links = Table(("Link", "Between", "Latency (h)", "Loss chance", "Capacity", "Via space",
                   "Hardened"),
                  tuple((lid, f"{c2.nodes[ln.a].name} - {c2.nodes[ln.b].name}",
                         _num(ln.latency_h), f"{ln.loss_p:.2f}", str(ln.capacity),
                         "yes" if ln.via_space else "no", "yes" if ln.hardened else "no")
                        for lid, ln in c2.links.items()))
    text = (f"Command: {COMMAND[c2.command]}. Engagement authority comes from "
            f"{c2.nodes[c2.authority_node].name} after {_num(c2.consultation_h)} h of alliance "
            f"consultation; {c2.intel_sharing:.0%} of partner detections are shared; "
            f"{c2.exercises_per_turn} joint exercise(s) per turn when ordered.")
    return [Heading("Command and control"), Paragraph(text), Heading("C2 nodes", 4), nodes,
            Heading("C2 links", 4), links]


def _red_forces(s: Scenario) -> list[Block]:
    red = s.red
    groups = Table(("Group", "Kind", "Home", "Ships", "Speed (kt)", "Missiles / ship",
                    "Interceptors / ship", "Intercept chance", "Staying power"),
                   tuple((g.name, g.kind.replace("_", " "), zone_name(s, g.home), str(g.ships),
                          _num(g.speed_kts), str(g.missiles_per_ship),
                          str(g.interceptors_per_ship), f"{g.p_intercept:.2f}",
                          _num(g.staying_power)) for g in red.groups.values()))
    units = Table(("Unit", "Kind", "Success chance", "Effect lasts (h)"),
                  tuple((u.name, kind, f"{u.p_success:.2f}", _num(u.effect_h))
                        for kind, table in (("cyber", red.cyber), ("counterspace",
                                                                   red.counterspace))
                        for u in table.values()))
    return [Heading("Objective"), Paragraph(_objective_text(s)), Heading("Surface groups"),
            groups, Heading("Cyber and counterspace units"), units]


def _objective_text(s: Scenario) -> str:
    obj = s.red.objective
    legs = "; ".join(f"{g.name}: {_num(s.distance(g.home, obj))} nm, about "
                     f"{s.distance(g.home, obj) / g.speed_kts:.0f} h"
                     for g in s.red.groups.values())
    return f"Gain control of the {zone_name(s, obj)}. Transit from home: {legs}."


# ---- objectives ------------------------------------------------------------------------------

def _objectives(s: Scenario, r: Rules, side: str) -> Section:
    blocks: list[Block] = []
    for team in ("blue", "red") if side == "white" else (side,):
        if side == "white":
            blocks.append(Heading(f"{team.capitalize()} team"))
        blocks.append(Items(_blue_goals(s, r) if team == "blue" else _red_goals(s, r)))
    if side == "white":
        blocks += [Heading("White cell"), Items((
            "Run each turn's four phases, keep time and keep each team's view to itself.",
            "Deliver the scheduled injects (below) and any live ones the lesson needs.",
            "Lead the debrief from the event log with 'wargame replay' and 'wargame report'."))]
    return Section("Objectives", tuple(blocks))


def _threshold(r: Rules) -> str:
    rung = next(x for x in r.ladder.rungs() if x.id == r.ladder.armed_attack_threshold)
    return f"'{rung.label}' (level {rung.level})"


def _blue_goals(s: Scenario, r: Rules) -> tuple[str, ...]:
    return (
        f"Deter Red from crossing the armed-attack threshold, {_threshold(r)}, in all "
        f"{s.turns.count} turns: deterrence holds if Red never crosses it.",
        f"Keep Red seen: ISR over the {zone_name(s, s.red.objective)} makes Red's acts "
        "detected and attributed, which is what Red fears.",
        "Keep the answer fast and credible: links up, consultation done and engagement "
        "authority granted before Red moves.",
        "Avoid needless escalation: your own actions also signal rungs of the ladder.",
        "Debrief: which part of the posture (ISR, C2, batteries, treaty terms) changed "
        "Red's calculation most?",
    )


def _red_goals(s: Scenario, r: Rules) -> tuple[str, ...]:
    return (
        f"Gain control of the {zone_name(s, s.red.objective)} without triggering an "
        "alliance answer: acts Blue sees and attributes are worth less, and answered acts "
        "cost you.",
        f"Decide whether to cross the armed-attack threshold, {_threshold(r)}: crossing "
        "it ends deterrence and may invoke Article V.",
        "Probe in the gray zone: learn what Blue sees and how fast it answers.",
        "Debrief: which part of Blue's posture made your options more or less attractive?",
    )


# ---- action menus ----------------------------------------------------------------------------

def _menus(s: Scenario, r: Rules, side: str) -> Section:
    blocks: list[Block] = [Paragraph("Each turn a team orders one or more actions from its "
                                     "menu. Every action signals a rung of the escalation "
                                     "ladder; the highest rung signalled sets the next rung.")]
    if side in ("blue", "white"):
        blocks += [Heading("Blue actions"), _menu_table(s, r, r.actions.blue, red=False)]
    if side in ("red", "white"):
        blocks += [Heading("Red actions"), _menu_table(s, r, r.actions.red, red=True)]
    return Section("Action menu", tuple(blocks))


def _menu_table(s: Scenario, r: Rules, menu: dict[str, Action], red: bool) -> Table:
    labels = {x.id: x.label for x in r.ladder.rungs()}
    groups = {x.id: g.name for g in r.ladder.groups for x in g.rungs}
    head: tuple[str, ...] = ("Action", "What it does", "Signals (rung)", "Ladder group",
                             "Parameters", "Preconditions")
    rows = []
    for aid, a in menu.items():
        row: tuple[str, ...] = (aid, a.label, f"{labels[a.signals]} ({a.signals})",
               groups[a.signals],
               _params(s, a.params), "; ".join(condition_text(r, c) for c in a.preconditions)
               or "none")
        if red:
            row += (DOMAIN_SHORT[a.domain], f"{_num(a.gain)} / {_num(a.cost)}")
        rows.append(row)
    if red:
        head += ("Domain", "Value if it works / cost if answered")
    return Table(head, tuple(rows))


def _params(s: Scenario, params: dict[str, Param]) -> str:
    if not params:
        return "none"
    return "; ".join(f"{name}: {', '.join(_choices(s, p))}"
                     + (f" (default {p.default})" if p.default else "")
                     for name, p in params.items())


def _choices(s: Scenario, p: Param) -> list[str]:
    return param_choices(s, p)  # the choices the game's menus offer


def condition_text(r: Rules, text: str) -> str:
    """A doctrine condition or precondition in words."""
    fact, op, value = parse_condition(text)
    if fact == "rung":
        label = next(x.label for x in r.ladder.rungs() if x.id == value)
        return f"the ladder {OPS[op]} '{label}' ({value})"
    if fact in FLAGS:
        held = (op, value) in (("==", "1"), ("!=", "0"), (">", "0"), (">=", "1"))
        return FLAGS[fact] if held else "not: " + FLAGS[fact]
    return f"{FACT_WORDS.get(fact, FACTS[fact])} {OPS[op]} {value}"


# ---- the ladder and the turn -----------------------------------------------------------------

def _ladder(r: Rules, side: str) -> Section:
    menus = {"blue": [r.actions.blue], "red": [r.actions.red],
             "white": [r.actions.blue, r.actions.red]}[side]
    rows = []
    for g in reversed(r.ladder.groups):
        for x in reversed(g.rungs):
            acts = ", ".join(aid for menu in menus for aid, a in menu.items() if a.signals == x.id)
            mark = " - ARMED-ATTACK THRESHOLD" if x.id == r.ladder.armed_attack_threshold else ""
            row = (str(x.level), f"{x.label}{mark}", x.id, g.name, acts or "-")
            rows.append(row + ((_num(g.firebreak),) if side != "blue" else ()))
    head: tuple[str, ...] = ("Level", "Rung", "Id", "Group", "Actions that signal it")
    head += ("Firebreak to enter the group",) if side != "blue" else ()
    text = ("Each turn the public rung becomes the highest one signalled by a known act - "
            "Blue's own, and Red's when Blue detected or attributed it (an armed attack also "
            "once its effects land) - or one rung below last turn's when nothing higher was "
            "signalled. Red crossing the "
            f"armed-attack threshold, {_threshold(r)}, means deterrence has failed, whether or "
            "not Blue knows it yet.")
    return Section("Escalation ladder", (Paragraph(text), Table(head, tuple(rows))))


def _turn(s: Scenario, r: Rules, side: str) -> Section:
    phases = (
        "Orders: each team sees only its own view and picks actions from those it can take "
        "now; both decide at once, on what they knew at the start of the turn; the umpire "
        "may add injects.",
        f"Execution: the engine runs the turn's {s.turns.hours:g} hours - ISR sorties, "
        "detections, C2 messages, movements and attacks.",
        "Adjudication: Red's gains and whether Blue's intelligence attributes its acts, then "
        "the public escalation rung. Article V is decided as soon as Blue knows of an armed "
        "attack.",
        "Assessment: the turn's measures (rung, detections, tracks, C2, losses) are recorded "
        "and the end test is applied.",
    )
    end = (f"The exercise lasts {s.turns.count} turns and stops "
           f"{r.end.turns_after_armed_attack} turns after an armed attack.")
    return Section("How a turn works", (Items(phases, numbered=True), Paragraph(end),
                                        Heading("Fog of war"), Paragraph(_fog(side))))


def _fog(side: str) -> str:
    both = ("Both teams see the public escalation rung, exercises and public statements, "
            "engagement authority when the alliance grants it, salvos and strikes, and any "
            "Article V decision. An umpire's inject is told to the team it is forced on.")
    own = {"blue": " You also see your own sorties, detections, tracks and C2 traffic. Red's "
                   "moves reach you only when your sensors detect them; a cyber or space attack "
                   "shows only as its effect (a link or the space links down, and until when), "
                   "and as Red's only when your intelligence attributes it. You learn of an "
                   "armed attack when you detect the attacking force or its effects land.",
           "red": " You also see your own moves and attacks, your beliefs about Blue, and what "
                  "your forces can see of Blue: ISR aircraft over your groups or your "
                  "objective, batteries dispersing near your groups. Blue's detections, tracks, "
                  "C2 traffic and what its intelligence attributes stay hidden from you.",
           "white": " The umpire sees every record of both sides, including the turn Red "
                    "ordered an armed attack and the turn Blue learned of it."}[side]
    return both + own


# ---- White only ------------------------------------------------------------------------------

def _red_model(r: Rules) -> Section:
    m = r.red_model
    text = ("Each turn Red scores every option by expected utility: EU = w_gain x gain x "
            "(1 - q) - w_cost x cost x q x (1 + expected loss share) - w_escalation x "
            "firebreaks crossed, where q = P(seen or attributed) x P(answered). It then picks "
            "by a softmax with the rationality below (a quantal response), so it sometimes "
            "errs; after each turn it moves its beliefs toward what it saw of Blue.")
    rows = [("rationality", _num(m.rationality)), ("belief rate", _num(m.belief_rate)),
            ("patience (h)", _num(m.patience))]
    rows += [(f"weight: {k}", _num(v)) for k, v in m.weights.model_dump().items()]
    rows += [(f"resolve seen: {k}", _num(v)) for k, v in m.resolve_seen.model_dump().items()]
    return Section("Red's decision model", (Paragraph(text),
                                            Table(("Parameter", "Value"), tuple(rows))))


def _doctrine(r: Rules) -> Section:
    rows = tuple((str(i), rule.name, "; ".join(condition_text(r, c) for c in rule.when) or "always",
                  rule.do, ", ".join(f"{k}={v}" for k, v in rule.params.items()) or "-")
                 for i, rule in enumerate(r.doctrine.get("blue", ()), start=1))
    text = ("When Blue is played by doctrine, every rule whose conditions all hold issues its "
            "action, in this order.")
    return Section("Blue doctrine rules", (Paragraph(text),
                                           Table(("#", "Rule", "When", "Do", "Params"), rows)))


def _injects(s: Scenario) -> Section:
    if not s.injects:
        return Section("Scheduled injects", (Paragraph("This scenario schedules no injects."),))
    rows = tuple((str(i.turn), i.side, i.action,
                  ", ".join(f"{k}={v}" for k, v in i.params.items()) or "-", i.note)
                 for i in s.injects)
    return Section("Scheduled injects", (Table(("Turn", "Side", "Action", "Params", "Note"),
                                               rows),))


def _adjudication(r: Rules) -> Section:
    a = r.adjudication
    rows = (
        ("detection", f"{a.detection.law} search; attribution chance "
                      f"{a.detection.attribution_p:.2f}; sorties per aircraft "
                      + ", ".join(f"{k} {_num(v)}" for k, v in
                                  a.detection.sorties_per_aircraft.items())),
        ("salvo", f"loss per hit {_num(a.salvo.loss_per_hit)} "
                  f"(sd {_num(a.salvo.loss_per_hit_sd)})"),
        ("C2", f"latency spread {_num(a.c2.latency_sigma)}; degraded latency x"
               f"{_num(a.c2.degraded_latency_factor)}, loss +{_num(a.c2.degraded_loss_add)}"),
        ("cyber", f"success x{_num(a.cyber.hardened_success_factor)} on hardened links; "
                  f"space outage costs {a.cyber.space_isr_penalty:.0%} of ISR sorties"),
        ("littoral", "ready share " + ", ".join(f"{k} {_num(v)}"
                                                for k, v in a.littoral.ready_share.items())),
        ("Red strike", f"range {_num(a.strike.range_nm)} nm, hit chance {a.strike.p_hit:.2f}"),
        ("gains", f"Red keeps {a.attributed_gain_share:.0%} of an attributed act's gain"),
    )
    return Section("Adjudication tables", (Table(("Table", "Values"), rows),))
