"""A rich progress bar with runs per second and time left, silent when output is not a
terminal (plain output when piped)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RunsPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:,.0f} runs/s")


class RichProgress:
    """start(todo, already) / advance(n) / stop(), as the sweep coordinator calls them."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def start(self, todo: int, already: int) -> None:
        """A bar for a sweep (or a new round of one: the previous bar is closed)."""
        self.stop()
        if not self.console.is_terminal:
            return
        self._bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                             RunsPerSecond(), TimeElapsedColumn(), TextColumn("ETA"),
                             TimeRemainingColumn(), console=self.console)
        self._bar.start()
        self._task = self._bar.add_task("sweep", total=todo + already, completed=already)

    def advance(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
