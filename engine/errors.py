"""The engine's exception family: every error a user can meet, with where it happened."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located complaint about an input: file, line/column (1-based), dotted field, message."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class EngineError(Exception):
    """Base of every error the engine raises on purpose; the CLI turns these into exit code 2."""

    exit_code = 2

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return "\n".join(str(p) for p in self.problems)


class InputError(EngineError):
    """A user-supplied file could not be read or parsed (size, encoding, YAML syntax)."""


class ScenarioError(InputError):
    """A scenario file is malformed or inconsistent."""


class RulesError(InputError):
    """A rules file is malformed or inconsistent."""


class LogError(EngineError):
    """An event log cannot be read or is not of a known format."""


class ReplayDivergence(EngineError):
    """Re-executing a log produced a record different from the logged one."""

    exit_code = 1


class ReferenceProblems(ValueError):
    """Raised inside model validators: cross-field problems, each with its own dotted path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {m}" for p, m in problems))
        self.problems = problems
