"""One order: an action from a side's menu with its parameters (shared by every layer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.spec.types import Team


@dataclass(frozen=True)
class Order:
    """One action from the menu, with its parameters. An umpire's inject also names the side
    it is forced on and a note read out to the players."""

    action: str
    params: Mapping[str, str] = field(default_factory=dict)
    side: Team | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"action": self.action, "params": dict(sorted(self.params.items()))}
        if self.side is not None:
            d["side"], d["note"] = self.side, self.note or ""
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Order:
        side = d.get("side")
        return cls(str(d["action"]), {str(k): str(v) for k, v in d.get("params", {}).items()},
                   side if side in ("blue", "red") else None, d.get("note"))
