"""Where work runs: processes on this machine, or a Dask cluster named by its scheduler address.

Everything healthlab fans out (dataset builds, notebook runs, grading) is written against
:class:`concurrent.futures.Executor`, so the same code runs on a laptop's cores and on a
cluster. Nothing here knows what kind of cluster it is: a ``dask-jobqueue`` cluster on a
university HPC, Dask on Kubernetes or a ``distributed.LocalCluster`` all hand out a scheduler
address, and that address is all healthlab needs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from healthlab.errors import ClusterError, InvalidParameterError

__all__ = ["cluster_executor", "default_workers", "executor"]

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 30


def default_workers() -> int:
    """The number of local worker processes by default: the cores this process may use.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS and Windows have no affinity mask
        return max(os.cpu_count() or 1, 1)


def check_workers(workers) -> int:
    """``workers`` as a positive int (None: :func:`default_workers`), or a clear error."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(
            f"workers must be a positive integer (local processes), got {workers!r}; "
            f"this machine has {default_workers()} cores"
        )
    return workers


def check_scheduler(scheduler) -> str | None:
    """A scheduler address such as ``"tcp://10.0.0.5:8786"``, or None; a clear error otherwise."""
    if scheduler is None:
        return None
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise InvalidParameterError(
            f"scheduler must be the address of a Dask scheduler such as 'tcp://10.0.0.5:8786', "
            f"got {scheduler!r}"
        )
    return scheduler.strip()


@contextlib.contextmanager
def executor(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """An executor for fanning work out: local processes, or the Dask cluster at ``scheduler``.

    Parameters
    ----------
    workers : int, optional
        Local worker processes (default: the number of cores); with 1 the work runs in this
        process. Not with ``scheduler``.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); the work is submitted to
        its workers through ``distributed.Client.get_executor``. The workers need the same
        healthlab installed as this process.

    Yields
    ------
    concurrent.futures.Executor
        Closed (and, for a cluster, disconnected) when the ``with`` block ends; the cluster
        itself keeps running.

    Raises
    ------
    ClusterError
        If the scheduler cannot be reached.

    Examples
    --------
    >>> with executor(workers=1) as pool:
    ...     pool.submit(sum, [1, 2, 3]).result()
    6
    """
    scheduler = check_scheduler(scheduler)
    if scheduler is not None:
        if workers is not None:
            raise InvalidParameterError(
                "pass either workers (local processes) or scheduler (a Dask cluster), not both: "
                "a cluster's size is set where the cluster is started"
            )
        with _client(scheduler) as client, client.get_executor(pure=False) as pool:
            yield pool
        return
    workers = check_workers(workers)
    if workers == 1:  # one worker: this process, without starting another
        with InProcess() as pool:
            yield pool
        return
    # "spawn": a fresh interpreter per worker, safe beside threads (DuckDB, BLAS) in this one.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def cluster_executor(scheduler: str | None):
    """The executor of the Dask cluster at ``scheduler``; None (a context of it) without one.

    For commands whose own default is a local pool (``healthlab run``, ``healthlab grade``):
    ``with cluster_executor(address) as pool: run_notebooks(..., executor=pool)``.

    Examples
    --------
    >>> with cluster_executor(None) as pool:
    ...     pool is None
    True
    """
    if check_scheduler(scheduler) is None:
        return contextlib.nullcontext(None)
    return executor(scheduler=scheduler)


class InProcess(Executor):
    """An executor that runs each task at once in this process (the one-worker case)."""

    _max_workers = 1

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # handed to whoever asks for the result, as a pool does
            future.set_exception(err)
        return future


@contextlib.contextmanager
def _client(address: str):
    try:
        from distributed import Client
    except ImportError as err:  # a declared dependency; say so if an environment lacks it
        from healthlab.errors import MissingDependencyError

        raise MissingDependencyError("distributed", "running on a Dask cluster") from err
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(
            f"cannot reach a Dask scheduler at {address!r} ({err}). Check the address the "
            "cluster printed (for example cluster.scheduler_address) and that this machine "
            "can reach it; or leave out --scheduler to run on local processes"
        ) from err
    try:
        yield client
    finally:
        client.close()


def describe(pool: Executor) -> str:
    """A few words on where ``pool`` runs its work, for progress messages."""
    client = getattr(pool, "_client", None)
    if client is not None:
        n = len(client.scheduler_info().get("workers", {}))
        return f"{n} Dask worker{'s' * (n != 1)} at {client.scheduler.address}"
    if isinstance(pool, InProcess):
        return "this process"
    n = getattr(pool, "_max_workers", None)
    return f"{n} local processes"
