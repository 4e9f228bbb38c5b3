"""Dask distributed: a LocalCluster (one single-threaded worker process per core) or a real
scheduler, and the distributed re-hunt (cases partitioned over the workers, each reaching the
same PostgreSQL store with its own copy of the store secret)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from unmask.errors import UsageError


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: on ``scheduler`` (``tcp://HOST:PORT``) when given, else on a LocalCluster of
    ``workers`` processes (default: one per core), closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"{scheduler}: cannot reach the Dask scheduler ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    # Scans start processes of their own (attachment screening): workers must not be daemons.
    with dask.config.set({"distributed.worker.daemon": False, "logging.distributed": "error"}):
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def rehunt_on_cluster(
    scheduler: str,
    task: Callable[..., tuple[list[Any], int]],
    url: str,
    iocs: Sequence[Any],
    by_case: dict[int, list[int]],
    names: dict[int, str],
    *,
    write: bool,
    partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Any], int]:
    """Re-hunt the cases in partitions (whole cases each), one Dask task per partition
    (``task`` is :func:`unmask.store.rehunt.rehunt_partition`)."""
    from distributed import as_completed

    cases = sorted(by_case)
    with dask_client(scheduler) as client:
        count = partitions or max(1, 2 * len(client.scheduler_info().get("workers", {})) or 1)
        chunks = [cases[i::count] for i in range(count)]
        futures = []
        for chunk in chunks:
            part = {a: (names[c], c) for c in chunk for a in by_case[c]}
            if part:
                futures.append(client.submit(task, url, [str(p) for p in iocs], part, write, pure=False))
        results: list[Any] = []
        hits = 0
        for done, future in enumerate(as_completed(futures), 1):
            found, hit = future.result()
            results.extend(found)
            hits += hit
            if progress:
                progress(done, len(futures))
    return results, hits
