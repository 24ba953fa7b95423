"""Where sweep batches run: in this process, in a local process pool, or on Dask distributed.

Each backend takes a ``Job`` (the sweep's JSON specification, its pickled Python policies, and
whether per-turn rows are wanted) and an iterator of batches, and yields each batch's rows (Arrow
record batches) as it completes, keeping only a bounded number of batches in flight so memory
stays flat however many runs a sweep has. When the iterator stops early (an interrupted sweep)
the batches in flight are still yielded.

Workers we start ourselves (the pool's, a LocalCluster's) exit when this process dies, even by
SIGKILL (``worker.guard``); a pool's workers receive the specification once, when they start.
A pool worker that dies (killed, out of memory, or failing to start) breaks the pool: the batches
that finished are still yielded, then an EngineError says what happened.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from engine.errors import EngineError, Problem
from engine.sweeps.worker import GUARD, Result, init_pool_worker, pool_batch, run_batch

Batches = Iterator[list[tuple[int, int]]]


@dataclass(frozen=True)
class Job:
    """What every batch of one sweep needs besides its runs."""

    spec_json: str
    policies: bytes | None
    want_turns: bool
    parent: int  # the coordinator's process id: our workers exit when it is gone


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def inprocess(job: Job, work: Batches, workers: int | None = None,
              scheduler: str | None = None) -> Iterator[Result]:
    for batch in work:
        yield run_batch(job.spec_json, job.policies, batch, job.want_turns)


def process_pool(job: Job, work: Batches, workers: int | None = None,
                 scheduler: str | None = None) -> Iterator[Result]:
    """A local pool of fresh (spawned) processes: nothing of the parent leaks into a worker."""
    n = workers or default_workers()
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=init_pool_worker,
                                 initargs=(job.parent, job.spec_json, job.policies)) as pool:
            try:
                yield from _pooled(pool, job, work, n)
            except BrokenProcessPool:
                _kill_workers(pool)
                raise
    except BrokenProcessPool:
        raise EngineError("", (Problem(
            "sweep", "a worker process died (killed, out of memory, or it could not start); "
                     "with --out the runs that finished are on disk and --resume continues. "
                     "When engine.sweep runs from a Python script, " + GUARD,
            field="--backend process"),)) from None


def _pooled(pool: ProcessPoolExecutor, job: Job, work: Batches, n: int) -> Iterator[Result]:
    """Batches submitted to the pool, at most 2n in flight, yielded as they finish."""
    pending: set[Future[Result]] = set()
    for batch in work:
        pending.add(pool.submit(pool_batch, batch, job.want_turns))
        if len(pending) >= 2 * n:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from _finished(done)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        yield from _finished(done)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL a broken pool's remaining workers. The pool stops them with SIGTERM, which ours
    ignore (``worker.guard``), and a queue lock the dead worker held may block them for ever:
    the pool's shutdown would wait for them without end."""
    for p in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()


def _finished(done: set[Future[Result]]) -> Iterator[Result]:
    """The rows of batches that finished; then the first failure, if any, is raised (a broken
    pool fails every batch in flight: those that did finish are still written)."""
    for f in done:
        if f.exception() is None:
            yield f.result()
    for f in done:
        f.result()


def dask(job: Job, work: Batches, workers: int | None = None,
         scheduler: str | None = None) -> Iterator[Result]:
    """Dask distributed: a given scheduler (``tcp://host:port``) or a LocalCluster of our own,
    whose workers are guarded like the pool's."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as e:  # unreachable or malformed address
            raise EngineError("", (Problem("sweep", f"cannot use Dask scheduler '{scheduler}':"
                                                    f" {e}", field="--scheduler"),)) from None
    else:
        n = workers or default_workers()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        client.wait_for_workers(n)
        client.run(guard_dask_worker, job.parent)
    try:
        n = max(1, len(client.scheduler_info()["workers"]))
        spec_future = client.scatter(job.spec_json, broadcast=True)
        policies = client.scatter(job.policies, broadcast=True) if job.policies else None
        work = iter(work)

        def submit(batch: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
            return client.submit(run_batch, spec_future, policies, batch, job.want_turns,
                                 pure=False)

        queue = as_completed([submit(b) for b in _take(work, 2 * n)])
        for future in queue:
            yield future.result()
            for b in _take(work, 1):
                queue.add(submit(b))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def guard_dask_worker(parent: int) -> None:
    """In a LocalCluster worker process: exit with the sweep (its parent). SIGTERM stays the
    Nanny's way to stop it; SIGINT from a terminal's Ctrl-C is left to the sweep."""
    from engine.sweeps.worker import guard

    guard(parent, ignore_sigterm=False)


def _take(it: Iterator, k: int) -> list:
    out = []
    for _ in range(k):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


BACKENDS = {"inprocess": inprocess, "process": process_pool, "dask": dask}
