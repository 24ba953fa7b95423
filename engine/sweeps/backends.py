"""Where sweep batches run: in this process, in a local process pool, or on Dask distributed.

Each backend takes the sweep's JSON spec and an iterator of batches and yields each batch's rows
as it completes, keeping only a bounded number of batches in flight so memory stays flat however
many runs a sweep has.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from engine.errors import EngineError, Problem
from engine.sweeps.runner import run_batch

Rows = list[dict[str, Any]]
Batches = Iterator[list[tuple[int, int]]]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


def inprocess(spec_json: str, work: Batches, workers: int | None = None,
              scheduler: str | None = None) -> Iterator[Rows]:
    for batch in work:
        yield run_batch(spec_json, batch)


def process_pool(spec_json: str, work: Batches, workers: int | None = None,
                 scheduler: str | None = None) -> Iterator[Rows]:
    """A local pool of fresh (spawned) processes: nothing of the parent leaks into a worker."""
    n = workers or default_workers()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
        pending = set()
        for batch in work:
            pending.add(pool.submit(run_batch, spec_json, batch))
            if len(pending) >= 2 * n:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        for f in pending:
            yield f.result()


def dask(spec_json: str, work: Batches, workers: int | None = None,
         scheduler: str | None = None) -> Iterator[Rows]:
    """Dask distributed: a given scheduler (``tcp://host:port``) or a LocalCluster."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler)
        except (OSError, ValueError, TypeError) as e:  # unreachable or malformed address
            raise EngineError("", (Problem("sweep", f"cannot use Dask scheduler '{scheduler}':"
                                                    f" {e}", field="--scheduler"),)) from None
    else:
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        n = max(1, len(client.scheduler_info()["workers"]))
        spec_future = client.scatter(spec_json, broadcast=True)
        work = iter(work)
        first = [client.submit(run_batch, spec_future, b, pure=False)
                 for b in _take(work, 2 * n)]
        queue = as_completed(first)
        for future in queue:
            yield future.result()
            for b in _take(work, 1):
                queue.add(client.submit(run_batch, spec_future, b, pure=False))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _take(it: Iterator, k: int) -> list:
    out = []
    for _ in range(k):
        try:
            out.append(next(it))
        except StopIteration:
            break
    return out


BACKENDS = {"inprocess": inprocess, "process": process_pool, "dask": dask}
