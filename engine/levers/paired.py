"""Run several (scenario, rules) cases on the same seeds, measures only, in parallel.

Run i of every case plays from ``SeedSequence(seed, spawn_key=(i,))`` itself, its root sequence
(common random numbers): the same named unit meets the same weather, maintenance and
message-loss draws in every case, so a difference between two cases on one seed comes from the
cases, and a parameter that nothing reads changes nothing at all. Sweeps key their runs the same
way but fold that sequence to one integer seed (``generate_state(1, uint64)[0] >> 1``,
engine/sweeps/worker.py run_seed) and play from ``SeedSequence(that int)``, so run i here is
not a sweep's run i for the same root. Results do not depend on the number of workers: a run's
numbers depend only on its seed.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import numpy as np

from engine.canonical import canonical
from engine.sim.kernel import run
from engine.sim.state import MeasuresOnly
from engine.spec.rules import Rules
from engine.spec.scenario import Scenario

Outcome = dict[str, Any]
Case = tuple[Scenario, Rules]
Task = tuple[int, str, int, int, int]  # case index, case JSON, root seed, first and last run
CHUNK = 100  # runs per task at most: tasks of a second or two keep both cores busy to the end


def seed_of(root: int, i: int) -> np.random.SeedSequence:
    """The root sequence of run i, the same for every case (not a sweep's integer seed)."""
    return np.random.SeedSequence(root, spawn_key=(i,))


def outcomes(cases: Sequence[Case], runs: int, seed: int = 0, workers: int = 1,
             progress: Callable[[int], None] | None = None) -> list[list[Outcome]]:
    """Each case's outcomes for runs 0..runs-1, in run order. A run that raises gives
    ``{"error": "Type: message"}`` instead. ``progress(n)`` is told of every n runs done."""
    tasks = list(_tasks(cases, runs, seed))
    out: list[list[Outcome]] = [[{} for _ in range(runs)] for _ in cases]
    for case, first, rows in _execute(tasks, workers):
        out[case][first:first + len(rows)] = rows
        if progress is not None:
            progress(len(rows))
    return out


def _tasks(cases: Sequence[Case], runs: int, seed: int) -> Iterator[Task]:
    size = min(CHUNK, max(1, runs))
    for i, (s, r) in enumerate(cases):
        text = canonical({"scenario": s.model_dump(mode="json"),
                          "rules": r.model_dump(mode="json")})
        for first in range(0, runs, size):
            yield i, text, seed, first, min(runs, first + size)


def _execute(tasks: list[Task], workers: int) -> Iterator[tuple[int, int, list[Outcome]]]:
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(t)
        return
    ctx = multiprocessing.get_context("spawn")  # nothing of this process leaks into a worker
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: set[Future[tuple[int, int, list[Outcome]]]] = set()
        for t in tasks:
            pending.add(pool.submit(run_task, t))
            if len(pending) >= 2 * workers:  # a bounded number in flight: flat memory
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        for f in pending:
            yield f.result()


_MODELS: dict[str, Case] = {}  # per worker: the last case's validated models


def run_task(task: Task) -> tuple[int, int, list[Outcome]]:
    """Run one task's seeds of one case (in a worker or here)."""
    case, text, root, first, last = task
    if text not in _MODELS:
        data = json.loads(text)
        _MODELS.clear()  # tasks come case by case: keep one
        _MODELS[text] = (Scenario.model_validate(data["scenario"]),
                         Rules.model_validate(data["rules"]))
    s, r = _MODELS[text]
    rows: list[Outcome] = []
    for i in range(first, last):
        try:
            rows.append(run(s, r, seed_of(root, i), sink=MeasuresOnly()).outcome)
        except Exception as e:  # a crash of the engine is a finding to report, not a stop
            rows.append({"error": f"{type(e).__name__}: {e}"})
    return case, first, rows
