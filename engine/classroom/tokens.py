"""Unguessable links: one token per role, kept beside the log (never in it), compared in
constant time."""

from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.errors import EngineError

Role = Literal["blue", "red", "umpire", "projector"]
ROLES: tuple[Role, ...] = ("blue", "red", "umpire", "projector")


@dataclass(frozen=True)
class Tokens:
    """The secret in each role's link."""

    by_role: dict[Role, str]

    def role_of(self, token: str) -> Role | None:
        """The role a token admits, or None; every role is compared, in constant time."""
        found: Role | None = None
        for role in ROLES:
            if hmac.compare_digest(self.by_role[role].encode(), token.encode()):
                found = role
        return found


def new_tokens() -> Tokens:
    return Tokens({role: secrets.token_urlsafe(24) for role in ROLES})


def tokens_path(log: Path) -> Path:
    """Where a game's tokens are kept: beside its log, readable by the owner only."""
    return log.with_name(log.name + ".tokens.json")


def save(tokens: Tokens, path: Path) -> None:
    """Write the tokens atomically with mode 0600."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a leftover .tmp keeps its old mode when opened
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(tokens.by_role, fh, sort_keys=True)
    os.replace(tmp, path)


def load(path: Path) -> Tokens:
    """The tokens of a game being resumed; EngineError when missing or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EngineError(f"{path}: no tokens beside the log; the links of this game are "
                          "lost (start a new game, or fork this one)") from None
    except (OSError, ValueError) as e:
        raise EngineError(f"{path}: cannot read the game's tokens: {e}") from None
    if not isinstance(data, dict) or sorted(data) != sorted(ROLES) or not all(
            isinstance(v, str) and len(v) >= 16 for v in data.values()):
        raise EngineError(f"{path}: expected a token (16+ characters) for each of "
                          f"{', '.join(ROLES)}")
    return Tokens({role: data[role] for role in ROLES})
