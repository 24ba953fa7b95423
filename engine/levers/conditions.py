"""When a named condition holds: one test per name of the registry in engine/spec/levers.py
(``INERT``), on the (scenario, rules) pair and the lever's path. A declaration names them for
when its field may be inert, and for a direction that holds only in some places (``where``).

Each test reads the scenario the way the mechanics do (which zones Red enters, which routes
reports take, what doctrine orders), and is conservative: when in doubt it says the condition
does not hold, so a parameter nothing reads is reported DEAD rather than excused.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.sim.forces.adversary import (
    MOVERS,
    cyber_target,  # the one targeting rule
)
from engine.sim.forces.c2 import routes
from engine.sim.session import Game
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

Test = Callable[[Scenario, Rules, list[str]], bool]


def holds(name: str, s: Scenario, r: Rules, path: str) -> bool:
    """Whether the condition ``name`` holds for the lever at ``path``."""
    return TESTS[name](s, r, path.split("."))


def _after(parts: list[str], *prefix: str) -> str | None:
    """The id that follows ``prefix`` in a path (``blue.isr.mq9.x`` after blue, isr: mq9)."""
    n = len(prefix)
    return parts[n] if len(parts) > n and tuple(parts[:n]) == prefix else None


def _regiments(s: Scenario, parts: list[str]) -> list[str]:
    """The path's regiment, or every regiment for a path outside one."""
    rid = _after(parts, "blue", "littoral")
    return [rid] if rid is not None else sorted(s.blue.littoral)


# ---- forces ------------------------------------------------------------------------------------

def _no_aircraft(s: Scenario, r: Rules, parts: list[str]) -> bool:
    det = _after(parts, "blue", "isr")
    return det is not None and s.blue.isr[det].aircraft == 0


def _no_anti_ship(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not any(s.blue.littoral[rid].anti_ship for rid in _regiments(s, parts))


def _no_anti_ship_anywhere(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not any(reg.anti_ship for reg in s.blue.littoral.values())


def _unarmed(s: Scenario, r: Rules, parts: list[str]) -> bool:
    def cannot(rid: str) -> bool:
        reg = s.blue.littoral[rid]
        empty = reg.missiles_per_launcher == 0 or all(
            b.magazine == 0 for b in reg.batteries.values())
        return empty or not any(_near(s, z, s.red.objective, reg.range_nm) for z in reg.sites)
    return all(cannot(rid) for rid in _regiments(s, parts))


def _sensorless(s: Scenario, rid: str) -> bool:
    reg = s.blue.littoral[rid]
    return reg.sensor_sweep_nm <= 0 or reg.sensor_kts <= 0


def _no_sensor(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return all(_sensorless(s, rid) for rid in _regiments(s, parts))


def _no_anti_ship_nor_sensor(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return _no_anti_ship(s, r, parts) and _no_sensor(s, r, parts)


def _never_moves(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return all(not s.blue.littoral[rid].anti_ship and len(s.blue.littoral[rid].sites) < 2
               for rid in _regiments(s, parts))


def _no_isr(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return sum(d.aircraft for d in s.blue.isr.values()) == 0


def _no_regiment(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not s.blue.littoral


def _no_exercises(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return s.blue.c2.exercises_per_turn == 0


def _no_regional_maintenance(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not s.blue.sustainment.regional_maintenance


def _partner_idle(s: Scenario, r: Rules, parts: list[str]) -> bool:
    pid = _after(parts, "blue", "partners")
    return pid is not None and s.blue.partners[pid].hours_per_turn <= 0


def _no_counterstrike(s: Scenario, r: Rules, parts: list[str]) -> bool:
    uid = _after(parts, "blue", "counterstrike")
    units = [s.blue.counterstrike[uid]] if uid else list(s.blue.counterstrike.values())
    return all(u.launchers == 0 for u in units)


# ---- the theater -------------------------------------------------------------------------------

def _red_zones(s: Scenario) -> set[str]:
    """Where Red's groups ever are: their homes and the objective."""
    return {g.home for g in s.red.groups.values()} | {s.red.objective}


def _searched(s: Scenario) -> set[str]:
    """Zones some Blue sensor may search: ISR and partner zones, and zones within range of a
    site of a regiment with an organic sensor."""
    out = {z for d in s.blue.isr.values() if d.aircraft > 0 for z in d.zones}
    out |= {z for p in s.blue.partners.values() if p.hours_per_turn > 0 for z in p.zones}
    for rid, reg in s.blue.littoral.items():
        if _sensorless(s, rid):
            continue
        for site in reg.sites:
            out |= {z for z in s.theater.zones
                    if _near(s, site, z, reg.range_nm)}
    return out


def _near(s: Scenario, a: str, b: str, reach: float) -> bool:
    table = {frozenset((x, y)): d for x, y, d in s.theater.distances}
    return a != b and frozenset((a, b)) in table and table[frozenset((a, b))] <= reach


def _zone_not_searched(s: Scenario, r: Rules, parts: list[str]) -> bool:
    zone = _after(parts, "theater", "zones")
    return zone is not None and (zone not in _red_zones(s) or zone not in _searched(s))


def _zone_not_objective(s: Scenario, r: Rules, parts: list[str]) -> bool:
    zone = _after(parts, "theater", "zones")
    return zone is not None and zone != s.red.objective


def _used_distances(s: Scenario) -> set[frozenset[str]]:
    """Zone pairs whose distance a mechanism reads: ISR base to each of its zones, a Red home
    to the objective, and every firing or sensing site to where Red goes."""
    used = set()
    for d in s.blue.isr.values():
        base = s.theater.bases[d.base].zone
        used |= {frozenset((base, z)) for z in d.zones}
    red = _red_zones(s)
    used |= {frozenset((g.home, s.red.objective)) for g in s.red.groups.values()}
    sites = {z for reg in s.blue.littoral.values() for z in reg.sites}
    sites |= {u.site for u in s.blue.counterstrike.values()}
    used |= {frozenset((a, b)) for a in sites for b in red}
    return used


def _distance_unused(s: Scenario, r: Rules, parts: list[str]) -> bool:
    i = _after(parts, "theater", "distances")
    if i is None:
        return False
    a, b, _ = s.theater.distances[int(i)]
    return frozenset((a, b)) not in _used_distances(s)


def _spare_site_distance(s: Scenario, r: Rules, parts: list[str]) -> bool:
    """The distance joins a spare dispersal site (a regiment's site no battery starts at and
    no other unit or base uses) and a zone Red goes to: it only decides whether dispersal may
    move a battery there, and the batteries may as well disperse to another site in range."""
    i = _after(parts, "theater", "distances")
    if i is None:
        return False
    a, b, _ = s.theater.distances[int(i)]
    busy = {bat.site for reg in s.blue.littoral.values() for bat in reg.batteries.values()}
    busy |= {u.site for u in s.blue.counterstrike.values()}
    busy |= {base.zone for base in s.theater.bases.values()}
    spare = {z for reg in s.blue.littoral.values() for z in reg.sites} - busy
    red = _red_zones(s)
    return any(x in spare and y in red for x, y in ((a, b), (b, a)))


# ---- command and control -----------------------------------------------------------------------

def _message_pairs(s: Scenario) -> set[tuple[str, str]]:
    """(from, to) of every kind of message: reports from each sensor's node to the authority,
    the regiments' HQs and the strike units' nodes; authority requests and grants."""
    blue = s.blue
    hqs = {reg.hq_node for reg in blue.littoral.values()}
    sinks = hqs | {blue.c2.authority_node} | {u.node for u in blue.counterstrike.values()}
    sources = ({d.report_node for d in blue.isr.values()}
               | {p.report_node for p in blue.partners.values()} | hqs)
    pairs = {(a, b) for a in sources for b in sinks if a != b}
    pairs |= {(h, blue.c2.authority_node) for h in hqs} | {(blue.c2.authority_node, h)
                                                           for h in hqs}
    return {(a, b) for a, b in pairs if a != b}


def _link_unused(s: Scenario, r: Rules, parts: list[str]) -> bool:
    lid = _after(parts, "blue", "c2", "links")
    if lid is None:
        return False
    table = routes(s)
    return not any(lid in table.get(pair, ()) for pair in _message_pairs(s))


def _one_nation(s: Scenario, r: Rules, parts: list[str]) -> bool:
    nodes = s.blue.c2.nodes
    return all(nodes[a].nation == nodes[b].nation for a, b in _message_pairs(s))


def _cyber_able(s: Scenario) -> bool:
    return bool(s.red.cyber) and bool(s.blue.c2.links)


def _no_cyber(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not _cyber_able(s)


def _no_counterspace(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not s.red.counterspace


def _no_outage(s: Scenario, r: Rules, parts: list[str]) -> bool:
    space = bool(s.red.counterspace) and any(x.via_space for x in s.blue.c2.links.values())
    return not _cyber_able(s) and not space


def attacked_links(s: Scenario, r: Rules) -> set[str]:
    """Links a Red attack can degrade: what its cyber actions aim at (a link the action or an
    inject names, else the link the adversary picks: sim/forces/adversary.py) and, if Red has
    a counterspace unit, every link through space."""
    out = {lid for lid, x in s.blue.c2.links.items() if x.via_space} if s.red.counterspace \
        else set()
    if not _cyber_able(s):
        return out
    named = [a.params["link"].default for a in r.actions.red.values()
             if a.effect == "cyber_attack" and "link" in a.params]
    named += [str(inj.params["link"]) for inj in s.injects if "link" in inj.params]
    out |= {x for x in named if x}
    if any(a.effect == "cyber_attack" and not (a.params.get("link") and a.params["link"].default)
           for a in r.actions.red.values()):
        target = cyber_target(Game(s, r).start(0).w)
        out |= {target} if target else set()
    return out


def _not_attacked(s: Scenario, r: Rules, parts: list[str]) -> bool:
    lid = _after(parts, "blue", "c2", "links")
    return lid is not None and lid not in attacked_links(s, r)


def _node_never_degraded(s: Scenario, r: Rules, parts: list[str]) -> bool:
    """No attacked link that carries a message touches the node: its recovery time can only
    lengthen outages of links nothing crosses."""
    node = _after(parts, "blue", "c2", "nodes")
    if node is None:
        return False
    links, table = s.blue.c2.links, routes(s)
    carried = {lid for pair in _message_pairs(s) for lid in table.get(pair, ())}
    return not any(node in (links[lid].a, links[lid].b)
                   for lid in attacked_links(s, r) & carried)


# ---- Red ---------------------------------------------------------------------------------------

def _group(s: Scenario, parts: list[str]) -> str | None:
    return _after(parts, "red", "groups")


def _not_navy(s: Scenario, r: Rules, parts: list[str]) -> bool:
    gid = _group(s, parts)
    return gid is not None and s.red.groups[gid].kind != "navy"


def _shooters(s: Scenario) -> tuple[bool, bool]:
    """(an anti-ship regiment, a counterstrike unit with launchers) in the posture."""
    return (any(reg.anti_ship for reg in s.blue.littoral.values()),
            any(u.launchers > 0 for u in s.blue.counterstrike.values()))


def _no_blue_fire(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not any(_shooters(s))


def _not_fired_at(s: Scenario, r: Rules, parts: list[str]) -> bool:
    """Batteries fire at navies only; counterstrike at a navy first, at another group only
    once every navy ship is sunk (which an exercise that ends soon after the attack does not
    reach while a navy group sails)."""
    if not any(_shooters(s)):
        return True
    has_navy = any(g.kind == "navy" for g in s.red.groups.values())
    return _not_navy(s, r, parts) and has_navy


def _no_red_missiles(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return not any(g.kind == "navy" and g.missiles_per_ship > 0 for g in s.red.groups.values())


def _treaty_covers_all(s: Scenario, r: Rules, parts: list[str]) -> bool:
    threshold = r.ladder.level(r.ladder.armed_attack_threshold)
    domains = {a.domain for a in r.actions.red.values()
               if a.domain != "none" and r.ladder.level(a.signals) >= threshold}
    return domains <= set(s.treaty.article5_domains)


# ---- the rules' menus and doctrine -------------------------------------------------------------

def _action(parts: list[str]) -> tuple[str, str] | None:
    """(side, action id) of a path under rules.actions."""
    if len(parts) > 3 and parts[:2] == ["rules", "actions"]:
        return parts[2], parts[3]
    return None


def _blue_action(s: Scenario, r: Rules, parts: list[str]) -> bool:
    found = _action(parts)
    return found is not None and found[0] == "blue"


def _ordered(s: Scenario, r: Rules) -> list[tuple[str, dict[str, str]]]:
    """Blue's orders that doctrine or an inject can give: (action id, params)."""
    out = [(rule.do, dict(rule.params)) for rule in r.doctrine.get("blue", ())]
    out += [(inj.action, {k: str(v) for k, v in inj.params.items()}) for inj in s.injects
            if inj.side in ("blue", "white") and inj.action in r.actions.blue]
    return out


def _never_ordered(s: Scenario, r: Rules, parts: list[str]) -> bool:
    found = _action(parts)
    return (found is not None and found[0] == "blue"
            and found[1] not in {aid for aid, _ in _ordered(s, r)})


def _armed_act(s: Scenario, r: Rules, parts: list[str]) -> bool:
    found = _action(parts)
    if found is None or found[0] != "red":
        return False
    threshold = r.ladder.level(r.ladder.armed_attack_threshold)
    return r.ladder.level(r.actions.red[found[1]].signals) >= threshold


def _red_unable(s: Scenario, r: Rules, parts: list[str]) -> bool:
    found = _action(parts)
    if found is None or found[0] != "red":
        return False
    effect = r.actions.red[found[1]].effect
    if effect in MOVERS:
        return not any(g.kind in MOVERS[effect] for g in s.red.groups.values())
    if effect == "cyber_attack":
        return not _cyber_able(s)
    if effect == "counterspace_attack":
        return not s.red.counterspace
    return False


def _values_ordered(s: Scenario, r: Rules, effect: str, param: str, fallback: str) -> set[str]:
    """Values of one parameter in Blue's orders of actions with ``effect``: as given, else the
    parameter's default, else the effect's own (``fallback``, sim/effects.py)."""
    out = set()
    for aid, params in _ordered(s, r):
        action = r.actions.blue[aid]
        if action.effect == effect:
            spec = action.params.get(param)
            out.add(params.get(param) or (spec.default if spec else None) or fallback)
    return out


def _tempo_unused(s: Scenario, r: Rules, parts: list[str]) -> bool:
    tempo = parts[-1]
    return tempo != "normal" and tempo not in _values_ordered(s, r, "isr_tempo", "level",
                                                              "normal")


def _command_unused(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return parts[-1] != s.blue.c2.command


def _readiness_unused(s: Scenario, r: Rules, parts: list[str]) -> bool:
    started = {reg.readiness for reg in s.blue.littoral.values()}
    ordered = _values_ordered(s, r, "littoral_posture", "readiness", "alert")
    return parts[-1] not in started | ordered


def _first_group(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return parts[:4] == ["rules", "ladder", "groups", "0"]


def _always(s: Scenario, r: Rules, parts: list[str]) -> bool:
    return True


TESTS: dict[str, Test] = {
    "structural": _always,
    "ordinal": _always,
    "no_aircraft": _no_aircraft,
    "no_anti_ship": _no_anti_ship,
    "no_anti_ship_anywhere": _no_anti_ship_anywhere,
    "no_blue_fire": _no_blue_fire,
    "unarmed": _unarmed,
    "no_sensor": _no_sensor,
    "no_anti_ship_nor_sensor": _no_anti_ship_nor_sensor,
    "never_moves": _never_moves,
    "zone_not_searched": _zone_not_searched,
    "zone_not_objective": _zone_not_objective,
    "distance_unused": _distance_unused,
    "spare_site_distance": _spare_site_distance,
    "link_unused": _link_unused,
    "not_attacked": _not_attacked,
    "node_never_degraded": _node_never_degraded,
    "one_nation": _one_nation,
    "no_cyber": _no_cyber,
    "no_counterspace": _no_counterspace,
    "no_outage": _no_outage,
    "not_navy": _not_navy,
    "not_fired_at": _not_fired_at,
    "no_red_missiles": _no_red_missiles,
    "blue_action": _blue_action,
    "armed_act": _armed_act,
    "never_ordered": _never_ordered,
    "red_unable": _red_unable,
    "first_group": _first_group,
    "tempo_unused": _tempo_unused,
    "command_unused": _command_unused,
    "readiness_unused": _readiness_unused,
    "treaty_covers_all": _treaty_covers_all,
    "no_exercises": _no_exercises,
    "no_regiment": _no_regiment,
    "no_regional_maintenance": _no_regional_maintenance,
    "no_isr": _no_isr,
    "partner_idle": _partner_idle,
    "no_counterstrike": _no_counterstrike,
}
