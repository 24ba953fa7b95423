"""The worker side of a sweep: run a batch of (cell, replication) pairs and return its rows as
columns (a list per column), never as one dict per run. The coordinator makes Arrow arrays of
them: a worker that built Arrow arrays from Python lists would import pandas (pyarrow looks for
it), some 45 MB per worker.

A worker parses the sweep's specification once and validates each cell's scenario and rules once
(a bounded cache), not once per run. Python policies arrive pickled, and are unpickled afresh for
every run, so a policy that keeps state cannot carry it from one run into another: a run's
numbers depend only on its cell and seed, whatever the batch or worker.

Worker processes we start exit when the sweep's process dies (``guard``): on Linux the kernel
kills them (``PR_SET_PDEATHSIG``), elsewhere a watchdog thread sees the parent change.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import EngineError, Problem
from engine.sim.controllers import BlueDoctrine, Controller, Scripted
from engine.sim.kernel import run
from engine.sim.state import MeasuresOnly, TurnSeries
from engine.spec.order import Order
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario, with_turns
from engine.sweeps.columns import OUTCOME_FIELDS, TURNS, run_columns
from engine.sweeps.design import apply_point

Items = Sequence[tuple[int, int]]
Columns = dict[str, list[Any]]
Result = tuple[Columns, Columns | None, float]  # runs, turns, the seconds the batch took
CACHED_CELLS = 64  # validated cells kept per worker (a design of 10,000 cells must not be)


def run_seed(spec: dict[str, Any], cell: int, rep: int) -> int:
    """The seed of run ``rep`` of ``cell``: with common random numbers it depends on the
    replication only; with independent seeds also on the cell's content key (so appending
    cells to a sweep changes no existing run). A plain int: ``engine.run(s, r, seed)``."""
    key = (rep,) if spec["seeding"] == "crn" else (spec["cells"][cell]["key"], rep)
    state = np.random.SeedSequence(spec["root"], spawn_key=key).generate_state(1, np.uint64)
    return int(state[0]) >> 1


@dataclass
class Prepared:
    """A sweep's specification as a worker uses it, built once per worker."""

    spec: dict[str, Any]
    runs: list[str]  # column names
    turns: list[str]
    rules: Rules
    bases: dict[int, Scenario]
    models: OrderedDict[int, tuple[Scenario, Rules]]
    recorded: dict[int, list[Order]] | None

    def cell(self, index: int) -> tuple[Scenario, Rules]:
        """The cell's validated scenario and rules (cached, least recently used dropped)."""
        if index in self.models:
            self.models.move_to_end(index)
            return self.models[index]
        c = self.spec["cells"][index]
        si = c["scenario"]
        if si not in self.bases:
            self.bases[si] = Scenario.model_validate(self.spec["scenarios"][si])
        s, r = apply_point(self.bases[si], self.rules, c["values"])
        blue = self.spec["controllers"]["blue"]
        if blue["kind"] == "recorded" and blue["after"] == "stop" and \
                s.turns.count > blue["turns"]:
            s = with_turns(s, blue["turns"])  # the recorded game's length, injects cut
        self.models[index] = (s, r)
        if len(self.models) > CACHED_CELLS:
            self.models.popitem(last=False)
        return s, r

    def players(self, rules: Rules, policies: bytes | None) -> dict[str, Controller]:
        """This run's controllers (doctrine for any side not named)."""
        # the blob is the coordinator's own cloudpickle of the callables its caller passed in
        # (spec.policy_blob), handed to this process over a pipe: never read from a file, a
        # manifest or any other input, which holds only the policies' names
        out: dict[str, Controller] = pickle.loads(policies) if policies else {}
        blue = self.spec["controllers"]["blue"]
        if self.recorded is not None:
            doctrine = blue["after"] == "doctrine"
            out["blue"] = Scripted(self.recorded, BlueDoctrine(rules) if doctrine else None,
                                   name=blue["name"], until=blue["turns"] if doctrine else None)
        return out


_PREPARED: dict[str, Prepared] = {}


def prepared(spec_json: str) -> Prepared:
    """The parsed specification, once per worker per sweep."""
    found = _PREPARED.get(spec_json)
    if found is None:
        import json

        spec = json.loads(spec_json)
        orders = spec.get("blue_orders")
        recorded = ({int(t): [Order.from_json(o) for o in v] for t, v in orders.items()}
                    if orders is not None else None)
        found = Prepared(spec, run_columns(spec["factors"]), [n for n, *_ in TURNS],
                         Rules.model_validate(spec["rules"]), {}, OrderedDict(), recorded)
        _PREPARED.clear()  # one sweep at a time
        _PREPARED[spec_json] = found
    return found


def run_batch(spec_json: str, policies: bytes | None, items: Items,
              want_turns: bool) -> Result:
    """Run (cell, replication) pairs; a run that raises records its error and the batch goes
    on. Returns the runs rows and (when wanted) the per-turn rows, as columns, and the seconds
    the batch took (the coordinator sizes later batches by it)."""
    start = time.perf_counter()
    p = prepared(spec_json)
    spec = p.spec
    runs: Columns = {n: [] for n in p.runs}
    turns: Columns = {n: [] for n in p.turns}
    factors = [f["name"] for f in spec["factors"]]
    blue, red = spec["controllers"]["blue"], spec["controllers"]["red"]
    scripted = blue["turns"] if blue["kind"] == "recorded" else None
    for cell, rep in items:
        s, r = p.cell(cell)
        seed = run_seed(spec, cell, rep)
        rid = f"{cell}-{rep}"
        sink = TurnSeries() if want_turns else MeasuresOnly()
        try:
            outcome: dict[str, Any] | None = run(s, r, seed, p.players(r, policies),
                                                 sink).outcome
            error = None
        except Exception as e:
            outcome, error = None, f"{type(e).__name__}: {e}"
        values = spec["cells"][cell]["row"]  # typed as the factor columns are
        row = {"run_id": rid, "cell": cell, "replication": rep, "seed": seed,
               "scenario": spec["scenarios"][spec["cells"][cell]["scenario"]]["meta"]["id"],
               "blue_controller": blue["name"], "red_controller": red["name"],
               "blue_scripted_turns": scripted, "error": error}
        for name in factors:
            runs[name].append(values[name])
        for name in row:
            runs[name].append(row[name])
        for name, _ in OUTCOME_FIELDS:
            runs[name].append(outcome[name] if outcome is not None else None)
        if want_turns and outcome is not None:
            assert isinstance(sink, TurnSeries)
            for t in sink.rows:
                turns["run_id"].append(rid)
                turns["cell"].append(cell)
                turns["replication"].append(rep)
                for k, v in turns.items():
                    if k not in ("run_id", "cell", "replication"):
                        v.append(t.get(k))
    return runs, turns if want_turns else None, time.perf_counter() - start


# ---- worker processes -------------------------------------------------------------------------

GUARD = ('put the call under `if __name__ == "__main__":` (each worker process imports the '
         'main script again)')


def refuse_while_bootstrapping() -> None:
    """Refuse a sweep started while this process is a spawned worker still importing the main
    script (multiprocessing's own test: the process is "inheriting"): a script that calls
    ``engine.sweep`` at import would otherwise start a sweep inside every worker of its own."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise EngineError("", (Problem(
            "sweep", "a sweep was started while a worker process was importing the main "
                     f"script: {GUARD}"),))


_JOB: dict[str, Any] = {}


def init_pool_worker(parent: int, spec_json: str, policies: bytes | None) -> None:
    """A process pool worker's initializer: guard it, and keep the sweep for its batches."""
    guard(parent)
    _JOB.update(spec=spec_json, policies=policies)


def pool_batch(items: Items, want_turns: bool) -> Result:
    """A batch in a pool worker, the sweep being the one its initializer was given."""
    return run_batch(_JOB["spec"], _JOB["policies"], items, want_turns)


PR_SET_PDEATHSIG = 1


def guard(parent: int, ignore_sigterm: bool = True) -> None:
    """Make this worker process exit when ``parent`` (the sweep) dies, even by SIGKILL, and
    ignore SIGINT (and SIGTERM): a Ctrl-C reaches the whole process group, and the sweep, not
    its workers, decides to finish the batches in flight and stop."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if ignore_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="sweep-parent-watch",
                     daemon=True).start()


def _watch(parent: int, every: float = 1.0) -> None:
    """Exit as soon as the parent is gone (re-parented processes get a new parent id)."""
    stop = threading.Event()
    while not stop.wait(every):
        if os.getppid() != parent:
            os._exit(1)
