"""The theater map (engine.present.svgmap): well-formed, stable SVG laid out from the distances,
every zone named, hostile names escaped, and each layer showing only what its side may see."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import engine
from engine.io.loading import load_scenario
from engine.present.document import Svg
from engine.present.maplayout import _layout, layout
from engine.present.svgmap import BLUE, RED, MapLayer, forces_layer, layer_for, theater_svg
from engine.sim.controllers import default_controllers
from engine.spec.scenario import Scenario, with_values

NS = "{http://www.w3.org/2000/svg}"
BUILT_INS = ("classroom-tutorial", "alliance-2023", "alliance-2024", "baseline-2022")


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def texts(svg: str) -> list[str]:
    """Every visible text of the map (tooltips excluded), unescaped by the XML parser."""
    return ["".join(t.itertext()) for t in parse(svg).iter(f"{NS}text")]


def centres(svg: str) -> dict[str, tuple[float, float]]:
    out = {}
    for g in parse(svg).iter(f"{NS}g"):
        if g.get("class") == "zone":
            c = g.find(f"{NS}circle")
            assert c is not None
            out[g.get("data-zone") or ""] = (float(c.get("cx") or 0), float(c.get("cy") or 0))
    return out


def group_names(scenario: Scenario) -> list[str]:
    return [g.name for g in scenario.red.groups.values()]


@pytest.fixture(scope="module")
def pair():
    return engine.load_pair("alliance-2024")


@pytest.fixture(scope="module")
def tutorial_with_tracks():
    """A tutorial game stepped until Blue holds a track (doctrine plays both sides)."""
    game = engine.Game.load("classroom-tutorial")
    controllers = default_controllers(game.rules)
    s = game.start(seed=0)
    while not s.over:
        for side in ("blue", "red"):
            s.submit(side, controllers[side](s.observation(side), s.legal_orders(side)))
        s.step()
        blue = s.observation("blue").to_json()
        if blue["situation"]["tracks"]:
            return game, s
    pytest.fail("no track in the whole tutorial")


# ---- well-formed, stable, laid out from the distances ----------------------------------------

@pytest.mark.parametrize("name", BUILT_INS)
def test_map_parses_and_names_every_zone(name: str) -> None:
    scenario = load_scenario(name)
    svg = theater_svg(scenario)
    shown = texts(svg)
    for zone in scenario.theater.zones.values():
        assert zone.name in shown
    assert set(centres(svg)) == set(scenario.theater.zones)
    root = parse(svg)
    assert root.get("viewBox") == "0 0 640 420"
    # self-contained: nothing to fetch, no ids that could clash on a page with two maps
    assert "href" not in svg and "url(" not in svg and "@import" not in svg
    assert all(el.get("id") is None for el in root.iter())


def test_same_input_same_bytes_even_when_recomputed(pair) -> None:
    scenario, _ = pair
    first = theater_svg(scenario, forces_layer(scenario, "white", "both"))
    _layout.cache_clear()
    assert theater_svg(scenario, forces_layer(scenario, "white", "both")) == first


def test_the_picture_does_not_depend_on_how_the_scenario_is_written(pair) -> None:
    """Zones and distances listed in another order (and pairs written the other way round)
    give the same bytes: the layout is canonical."""
    scenario, _ = pair
    data = scenario.model_dump(mode="json")
    data["theater"]["zones"] = dict(reversed(list(data["theater"]["zones"].items())))
    data["theater"]["distances"] = [[b, a, d] for a, b, d in reversed(
        data["theater"]["distances"])]
    shuffled = Scenario.model_validate(data)
    assert theater_svg(shuffled) == theater_svg(scenario)


@pytest.mark.parametrize("name", BUILT_INS)
def test_drawn_distances_follow_the_true_ones(name: str) -> None:
    scenario = load_scenario(name)
    at = centres(theater_svg(scenario))
    drawn = [math.dist(at[a], at[b]) for a, b, _ in scenario.theater.distances]
    true = [d for _, _, d in scenario.theater.distances]
    assert np.corrcoef(drawn, true)[0, 1] > 0.8


def test_red_is_drawn_left_of_blue_and_land_at_the_top(pair) -> None:
    scenario, _ = pair
    at = layout(scenario)
    zones = scenario.theater.zones
    red = [at[z][0] for z, v in zones.items() if v.claimed_by == "red"]
    blue = [at[z][0] for z, v in zones.items() if v.claimed_by == "blue"]
    assert max(red) < sum(blue) / len(blue)
    land = [at[z][1] for z, v in zones.items() if v.kind == "land"]
    assert sum(land) / len(land) > 0  # y is up in the layout


def test_zones_are_sized_by_area_and_the_objective_is_ringed(pair) -> None:
    scenario, _ = pair
    root = parse(theater_svg(scenario))
    radius = {g.get("data-zone"): float(g.find(f"{NS}circle").get("r"))  # type: ignore
              for g in root.iter(f"{NS}g") if g.get("class") == "zone"}
    zones = scenario.theater.zones
    by_area = sorted(zones, key=lambda z: zones[z].area_nm2)
    assert radius[by_area[0]] < radius[by_area[-1]]
    rings = [c for c in root.iter(f"{NS}circle") if c.get("class") == "objective"]
    assert len(rings) == 1 and "Red's objective" in texts(theater_svg(scenario))


# ---- escaping --------------------------------------------------------------------------------

def test_hostile_names_and_titles_are_escaped(pair) -> None:
    scenario, _ = pair
    hostile = '<script>alert("x")</script> & <b>'
    odd = with_values(scenario, {"theater.zones.kyushu.name": hostile,
                                 "red.groups.navy.name": hostile + " navy",
                                 "meta.title": "</svg><img src=x onerror=alert(1)>"})
    svg = theater_svg(odd, forces_layer(odd, "white", title="<iframe>"))
    assert "<script" not in svg and "<b>" not in svg and "<img" not in svg
    assert "<iframe" not in svg
    shown = texts(svg)  # the parser gives the text back exactly
    assert hostile in shown and "<iframe>" in shown
    assert any(t.endswith(hostile + " navy: 4 ships") for t in shown)
    Svg("map", svg, "a hostile scenario")  # and the document accepts it as safe SVG
    bell = with_values(scenario, {"theater.zones.amami.name": "Bell\x07 reef\x00"})
    assert "Bell reef" in texts(theater_svg(bell))  # characters XML forbids are dropped


def test_the_document_refuses_svg_that_could_run_code() -> None:
    head = '<svg xmlns="http://www.w3.org/2000/svg">'
    for body in ("<script>alert(1)</script>", '<rect onload="alert(1)"/>',
                 '<image href="http://example.com/x.png"/>', "<foreignObject/>"):
        with pytest.raises(ValueError):
            Svg("bad", head + body + "</svg>", "bad")
    with pytest.raises(ValueError):
        Svg("bad", "<svg><unclosed></svg>", "bad")


# ---- layers: each view shows only what it may ------------------------------------------------

def test_public_map_shows_zones_and_rung_only(pair) -> None:
    scenario, rules = pair
    s = engine.Game(scenario, rules).start(seed=0)
    public = {"side": "public", "rung": s.observation("blue").rung, "turn": 1}
    layer = layer_for(public, rules)
    assert layer.rung == "Routine presence and patrols"
    svg = theater_svg(scenario, layer)
    assert "Routine presence and patrols" in " ".join(texts(svg))  # wrapped in the panel
    for secret in [*group_names(scenario), "launchers", "C2 LINKS", "ISR"]:
        assert secret not in svg, secret
    assert layer_for(None) == MapLayer()


def test_blue_without_tracks_shows_no_red_group(pair) -> None:
    scenario, rules = pair
    s = engine.Game(scenario, rules).start(seed=0)
    obs = s.observation("blue").to_json()
    assert obs["situation"]["tracks"] == {}
    svg = theater_svg(scenario, layer_for(obs, rules))
    for name in group_names(scenario):
        assert name not in svg
    assert "\u25c6" not in svg and "\u25c7" not in svg  # no group or track marker
    shown = texts(svg)
    assert "\u25b2 b1: 4 launchers" in shown and "\u25b2 b2: 4 launchers" in shown
    assert "C2 LINKS" in shown and "Blue ISR search area" in shown


def test_a_tracked_group_is_shown_with_its_age(pair) -> None:
    scenario, _ = pair
    layer = MapLayer(tracks={"coast_guard": {"zone": "disputed_islands", "age_h": 3.4},
                             "navy": {"zone": "ecs_central", "age_h": 0.4}})
    shown = texts(theater_svg(scenario, layer))
    assert "\u25c7 Red coast guard flotilla, seen 3 h ago" in shown
    assert "\u25c7 Red surface action group, seen just now" in shown
    assert not [t for t in shown if "Red maritime militia" in t]


def test_blue_observation_with_tracks_draws_them(tutorial_with_tracks) -> None:
    game, s = tutorial_with_tracks
    obs = s.observation("blue").to_json()
    svg = theater_svg(game.scenario, layer_for(obs, game.rules))
    shown = texts(svg)
    for gid, track in obs["situation"]["tracks"].items():
        name = game.scenario.red.groups[gid].name
        age = "just now" if track["age_h"] < 1 else f"{track['age_h']:.0f} h ago"
        assert f"\u25c7 {name}, seen {age}" in shown
    untracked = set(game.scenario.red.groups) - set(obs["situation"]["tracks"])
    for gid in untracked:
        assert game.scenario.red.groups[gid].name not in svg


def test_degraded_links_are_dashed_red(pair) -> None:
    scenario, _ = pair
    svg = theater_svg(scenario, MapLayer(c2=True, links_degraded=("usfj-mlr",)))
    paths = {p.get("data-link"): p for p in parse(svg).iter(f"{NS}path")
             if "c2-link" in (p.get("class") or "")}
    assert set(paths) == set(scenario.blue.c2.links)
    bad = paths["usfj-mlr"]
    assert bad.get("stroke") == RED and bad.get("stroke-dasharray")
    assert "degraded" in (bad.get("class") or "")
    for lid, path in paths.items():
        if lid != "usfj-mlr":
            assert path.get("stroke-dasharray") is None and path.get("stroke") != RED
    # no inset at all unless the layer asks for it
    assert "c2-link" not in theater_svg(scenario, MapLayer())


def test_red_sees_its_groups_and_what_it_saw_never_blue_forces(pair) -> None:
    scenario, rules = pair
    for seed in range(20):  # the first game in which Red saw Blue ISR during turn 4
        s = engine.Game(scenario, rules).start(seed=seed)
        for _ in range(4):
            s.step()
        obs = s.observation("red").to_json()
        seen = any(e["kind"] == "isr.on_station" and e["data"]["seen_by_red"]
                   for e in obs["events"])
        if seen:
            break
    svg = theater_svg(scenario, layer_for(obs, rules))
    shown = texts(svg)
    for gid, g in scenario.red.groups.items():
        assert any(t.startswith(f"\u25c6 {g.name}: ") for t in shown), gid
    assert ("Blue ISR seen here" in shown) == seen and seen  # this game has such a sighting
    assert "RED HAS SEEN" in shown
    for secret in ("launchers", "C2 LINKS", "c2-link", "ISR search area", "\u25c7"):
        assert secret not in svg, secret


def test_the_umpire_sees_both_sides(pair) -> None:
    scenario, rules = pair
    s = engine.Game(scenario, rules).start(seed=3)
    obs = s.observation("white").to_json()
    layer = layer_for(obs, rules)
    assert layer.groups and layer.batteries and layer.c2
    shown = texts(theater_svg(scenario, layer))
    assert "\u25b2 b1: 4 launchers" in shown and "C2 LINKS" in shown
    assert all(any(g.name in t for t in shown) for g in scenario.red.groups.values())
    assert layer.title == "Umpire's picture, turn 1"


def test_side_colours(pair) -> None:
    scenario, _ = pair
    root = parse(theater_svg(scenario, forces_layer(scenario, "white")))
    fills = {p.get("fill") for p in root.iter(f"{NS}polygon")}
    assert BLUE in fills and RED in fills  # batteries blue, Red groups red


def test_odd_theaters_and_malformed_observations_still_draw() -> None:
    """A zone no distance reaches, a tiny box and observations with missing or mistyped parts
    give a well-formed map, never an exception (a page must always render)."""
    scenario = load_scenario("classroom-tutorial")
    data = scenario.model_dump(mode="json")
    data["theater"]["zones"]["reef"] = {"name": "Lonely reef", "area_nm2": 10, "kind": "sea"}
    lonely = Scenario.model_validate(data)
    assert "Lonely reef" in texts(theater_svg(lonely))
    parse(theater_svg(scenario, None, width=300, height=200))
    for obs in ({"side": "blue", "situation": {"tracks": [1], "links_degraded": 7,
                                                "batteries": {"x": 5, "mlr12.b1": {}}}},
                {"side": "red", "situation": {"groups": "x", "seen": [1]},
                 "events": [1, {"kind": "isr.on_station"}]},
                {"side": "red", "situation": {"seen": {"links_down": 3, "readiness": 1}},
                 "events": None},
                {"side": "white", "situation": None}, {"side": 5}, {}):
        parse(theater_svg(scenario, layer_for(obs)))
