"""The vocabulary every layer shares, declared once: sides, domains, readiness, command
arrangements, tempo, effects and the kinds of zone and Red group.

Literal types (not Enums) because pydantic validates them straight from YAML and mypy checks
them at every use; each is paired with a tuple of its values for code that iterates them.
"""

from __future__ import annotations

from typing import Literal, get_args

Side = Literal["blue", "red", "white"]  # white: the umpire (White cell)
Team = Literal["blue", "red"]
TEAMS: tuple[Team, ...] = ("blue", "red")

# Domain of a Red act, as the treaty's Article V terms name them; "none" for acts below war
TreatyDomain = Literal["land_sea_air", "cyber", "space"]
Domain = Literal["none", "land_sea_air", "cyber", "space"]

Readiness = Literal["garrison", "alert", "dispersed"]
Command = Literal["separate", "planned_joint_hq", "joint_hq", "joint_force_hq"]
Tempo = Literal["low", "normal", "surge"]
SearchLaw = Literal["random", "exhaustive"]
ZoneKind = Literal["land", "littoral", "sea", "red_home"]
Claim = Literal["blue", "red", "disputed", "none"]
GroupKind = Literal["coast_guard", "militia", "navy"]
ControllerKind = Literal["doctrine", "human", "orders", "callback"]
ParamKind = Literal["zone", "red_group", "link"]
Mission = Literal["home", "patrol", "incursion", "strike"]

BlueEffect = Literal["isr_tempo", "littoral_posture", "signal", "exercise", "c2_harden",
                     "consult", "authorize_engagement"]
RedEffect = Literal["patrol", "incursion", "cyber_attack", "counterspace_attack", "strike",
                    "stand_down"]
Effect = Literal[BlueEffect, RedEffect, "hold"]
EFFECTS: tuple[str, ...] = tuple(get_args(BlueEffect)) + tuple(get_args(RedEffect)) + ("hold",)
BLUE_EFFECTS: tuple[str, ...] = (*get_args(BlueEffect), "hold")
RED_EFFECTS: tuple[str, ...] = (*get_args(RedEffect), "hold")
