"""What every command shares: the consoles, plain errors, the choices of fixed-value options, and
outputs that never destroy an input or a good file.

Kept light on purpose: ``wargame --help`` imports this module and the command modules, and none
of them imports the simulation, dask, pyarrow, matplotlib, numpy, simpy, starlette or uvicorn
at module level (each command imports what it needs when it runs; see
benchmarks/cli_startup.py).

Outputs. A command that writes a file checks first (:func:`check_output`) that it is not one of
the command's inputs (a log forked onto itself, a report over its log, a run's log over its
scenario), not a folder nor a device, and not an existing file unless ``--force`` is given; then
writes into a temporary file beside it and renames that over the final name only when the whole
output is written (:func:`atomic`): a crash, Ctrl-C, a full disk or a refused write leaves the
old file as it was, and no partial file under the final name. A write that fails is one line on
stderr and exit 2 (:func:`writing`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from engine.errors import EngineError
from engine.present.narrative import printable, shown

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["printable", "shown"]


# ---- consoles ----------------------------------------------------------------------------------

@cache
def out_console() -> Console:
    """Standard output through rich: no highlighting and no emoji codes (user text such as
    ``:warning:`` stays as typed); 160 columns when not a terminal. When the reader of the
    output goes away, printing raises BrokenPipeError (rich's own answer is to exit at once):
    a command may then carry on without printing (see :class:`Narration`), else the command
    line ends quietly with exit 1."""
    from rich.console import Console

    class Output(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            silence_stdout()
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return Output(highlight=False, emoji=False, width=None if Console().is_terminal else 160)


@cache
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, emoji=False)


def say_error(message: str) -> None:
    """Print a message on stderr as ``error: ...`` lines, every line escaped."""
    for line in message.splitlines() or ["error"]:
        err_console().print(f"[red]error:[/red] {shown(line)}", soft_wrap=True)


def fail(e: EngineError) -> typer.Exit:
    """Print an engine error plainly and return the exit to raise."""
    say_error(str(e) or type(e).__name__)
    return typer.Exit(e.exit_code)


def refuse(message: str) -> EngineError:
    """A refusal of the command line (exit 2), one line."""
    return EngineError(message)


# ---- closed pipes ------------------------------------------------------------------------------

def silence_stdout() -> None:
    """Send what is still to be printed to /dev/null: the reader of our standard output went
    away (``wargame run | head -3``); printing more would only raise BrokenPipeError again, at
    the latest when Python flushes stdout on exit."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, sys.stdout.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (a test runner's capture): nothing to redirect


class Narration:
    """Prints to standard output until its reader goes away, then stops printing, quietly, and
    lets the work go on (a game still finishes and its log is still written). Standard output
    that cannot be written for another reason (a full disk) also stops the printing, not the
    work; the error is kept in ``failed`` for the command to report at the end."""

    def __init__(self, console: Console) -> None:
        self.console, self.closed = console, False
        self.failed: OSError | None = None

    def print(self, *args: Any, **kwargs: Any) -> None:
        self._do(self.console.print, *args, **kwargs)

    def rule(self, *args: Any, **kwargs: Any) -> None:
        self._do(self.console.rule, *args, **kwargs)

    def flush(self) -> None:
        self._do(sys.stdout.flush)

    def _do(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        if self.closed:
            return
        try:
            fn(*args, **kwargs)
        except OSError as e:
            self.closed = True
            silence_stdout()
            if e.errno != errno.EPIPE:
                self.failed = e


# ---- options with a fixed set of values --------------------------------------------------------
# Enums, so that --help lists the choices, the shell completes them and typer checks them; a
# wrong value is refused with the engine's own phrasing (see Wargame.invoke).

class Side(StrEnum):
    blue = "blue"
    red = "red"
    white = "white"


class BriefFormat(StrEnum):
    md = "md"
    html = "html"


class ReportFormat(StrEnum):
    html = "html"
    md = "md"


class SchemaKind(StrEnum):
    scenario = "scenario"
    rules = "rules"
    log = "log"
    sweep = "sweep"


class Backend(StrEnum):
    inprocess = "inprocess"
    process = "process"
    dask = "dask"


class Player(StrEnum):
    """Who plays a side in ``wargame play``."""

    human = "human"
    doctrine = "doctrine"


class Continuation(StrEnum):
    """Who plays a side of a fork from the fork's turn on."""

    doctrine = "doctrine"
    recorded = "recorded"


class AfterRecorded(StrEnum):
    """What Blue does after the last turn of a recorded game (sweep --blue-orders-from)."""

    stop = "stop"
    doctrine = "doctrine"


class Compare(StrEnum):
    """Which differences in P(held) a sweep's summary shows."""

    first = "first"
    all = "all"


# how a wrong value is refused: {name} the option, {value} as typed, {either} "a, b or c",
# {all} "a, b, c"
_MESSAGES: dict[type[StrEnum], str] = {
    SchemaKind: "unknown schema '{value}'; expected {either}",
    Backend: "{name}: expected one of {all}, found '{value}'",
    Continuation: "unknown controller '{value}' for {name}; expected {either}",
}
_DEFAULT_MESSAGE = "{name}: expected {either}, found '{value}'"
_ENUMS: dict[tuple[str, ...], type[StrEnum]] = {
    tuple(m.value for m in e): e
    for e in (Side, BriefFormat, ReportFormat, SchemaKind, Backend, Player, Continuation,
              AfterRecorded, Compare)}


def either(values: Iterable[str]) -> str:
    """'a, b or c'."""
    v = list(values)
    return v[0] if len(v) == 1 else f"{', '.join(v[:-1])} or {v[-1]}"


def choice_message(enum: type[StrEnum], name: str, value: str | None) -> str:
    values = [m.value for m in enum]
    template = _MESSAGES.get(enum, _DEFAULT_MESSAGE)
    if value is None:  # the value as typed could not be found: say what is expected
        template = template.split(", found")[0].replace("unknown schema '{value}'; ", "")
    return template.format(name=name, value=value, either=either(values), all=", ".join(values))


def _choices(param: Any) -> tuple[str, ...] | None:
    """The values a parameter accepts, across typer's generations (a click Choice type, or
    typer's own type descriptor)."""
    found = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if found is None:
        found = getattr(getattr(param, "type", None), "choices", None)
    if not found:
        return None
    return tuple(str(getattr(c, "value", c)) for c in found)


def _typed(param: Any, argv: list[str], command: str | None) -> str | None:
    """The value given on the command line for ``param``: after its option (the last one wins,
    as in parsing), or an argument's word after the command's name."""
    opts = [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]
    if getattr(param, "param_type_name", "") == "option":
        value = None
        for i, word in enumerate(argv):
            if word == "--":
                break
            for opt in opts:
                if word == opt and i + 1 < len(argv):
                    value = argv[i + 1]
                elif opt.startswith("--") and word.startswith(opt + "="):
                    value = word[len(opt) + 1:]
        return value
    if command in argv:
        rest = argv[argv.index(command) + 1:]
        words = [w for w in rest if not w.startswith("-")]
        choices = _choices(param) or ()
        wrong = [w for w in words if w not in choices]
        return wrong[0] if wrong else None
    return None


class Wargame(TyperGroup):
    """The root command group. Refuses a wrong value of a fixed-choice option in the engine's
    words (``--side: expected blue, red or white, found 'green'``, exit 2), whichever command
    (or ``sweep`` subcommand) it was given to."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta["wargame.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as e:
            param = getattr(e, "param", None)
            enum = _ENUMS.get(_choices(param) or ())
            if param is None or enum is None:
                raise
            name = (getattr(param, "opts", None) or [str(param.name).upper()])[0]
            if getattr(param, "param_type_name", "") == "argument":
                name = str(param.name).upper()
            command = getattr(getattr(e, "ctx", None), "info_name", None)
            value = _typed(param, ctx.meta.get("wargame.argv", []), command)
            say_error(choice_message(enum, name, value))
            raise typer.Exit(2) from None


# ---- outputs -----------------------------------------------------------------------------------

def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the absolute path then
        return path.absolute()


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (after links and ``..``; hard links too)."""
    if _resolved(a) == _resolved(b):
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies somewhere under it."""
    p, f = _resolved(path), _resolved(folder)
    return p == f or p.is_relative_to(f)


def input_file(name_or_path: str | Path | None, kind: str) -> Path | None:
    """The file a scenario or rules argument reads: the path if it exists, else the built-in of
    that name (its file inside the package), else None."""
    if name_or_path is None:
        return None
    p = Path(name_or_path)
    if p.exists():
        return p
    from engine.io.loading import builtin_names, builtin_path

    if str(name_or_path) in builtin_names(kind):
        return builtin_path(kind, str(name_or_path))
    return None


def check_output(out: Path, inputs: Iterable[Path | None], force: bool,
                 option: str = "--out", folders: Iterable[Path] = ()) -> Path:
    """Refuse (exit 2, one line) an output that is one of the command's inputs; an input inside
    one of the output ``folders`` (replaced with the output); a folder, a device or any other
    non-regular file; an existing file unless ``force``."""
    given = [p for p in inputs if p is not None]
    for p in given:
        if same_file(out, p):
            also = "" if str(p) == str(out) else f" ({p})"
            raise refuse(f"{out}: is an input of this command{also}; writing it would destroy "
                         f"it: choose another {option}")
    for folder in folders:
        for p in given:
            if inside(p, folder):
                raise refuse(f"{out}: writing it would replace {folder}, which holds the input "
                             f"{p}: choose another {option}")
    if out.is_dir():
        raise refuse(f"{out}: is a folder; give {option} the path of a file")
    if out.exists() or out.is_symlink():
        if not out.is_file():
            raise refuse(f"{out}: is not a regular file; choose another {option}")
        if not force:
            raise refuse(f"{out}: already exists; add --force to replace it, or choose another "
                         f"{option}")
    return out


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """An OSError while writing ``path`` (a read-only folder, a full disk, a name that is not a
    folder) becomes one line and exit 2. A closed standard output (EPIPE) is not a write
    error of ``path`` and passes through."""
    try:
        yield
    except OSError as e:
        if e.errno == errno.EPIPE:
            raise
        why = e.strerror or str(e)
        if e.errno in (errno.EEXIST, errno.ENOTDIR):  # mkdir, or open, through a file
            why = "a part of its path is a file, not a folder"
        raise refuse(f"{path}: cannot write: {why}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def temporary_beside(path: Path, folder: bool = False) -> Path:
    """A new, empty temporary file (or folder) in ``path``'s folder, hidden, named after it."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if folder:
            return Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp",
                                         dir=path.parent))
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        return Path(name)


@contextlib.contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` for the block to write; renamed over ``path`` once the
    block ends without an error (the rename is atomic: readers see the old file or the whole
    new one), removed if it fails. A failed write is one line, exit 2."""
    from engine.io.eventlog import fsync  # here: --help must not import the log layer

    tmp = temporary_beside(path)
    try:
        with writing(path):
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would outlive the rename
            fsync(tmp)
            os.replace(tmp, path)
        fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def replace_folder(new: Path, old: Path) -> None:
    """Move the folder ``new`` to ``old``'s place, the folder there before (if any) removed."""
    import shutil

    if old.exists():
        aside = temporary_beside(old, folder=True)
        os.replace(old, aside / old.name)
        os.replace(new, old)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(new, old)


def write_text(path: Path, text: str) -> None:
    """Write a whole text file atomically (see :func:`atomic`)."""
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
