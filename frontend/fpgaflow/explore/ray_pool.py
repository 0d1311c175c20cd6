"""Running points as Ray tasks: a local Ray instance, or a cluster at --address.

Local by default: fpgaflow starts Ray with as many CPUs as --max-parallel (else the
machine's cores) and stops it at the end. With --address it connects to a running
cluster and leaves it running. When the calling process already holds a Ray session
(a test's or a notebook's), that session is used as it is.

Every task asks for one CPU and is never retried (a point that crashes its worker is a
failed point); at most `slots` tasks are in flight, so --max-parallel also caps the use
of a large cluster. Results are handed to `on_result` in the order they finish.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fpgaflow.errors import UserError


@contextlib.contextmanager
def ray_session(address: str | None, max_parallel: int | None) -> Iterator[int]:
    """Ray ready for tasks; yields how many tasks to keep in flight."""
    import ray

    started = False
    if not ray.is_initialized():
        try:
            if address is not None:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                ray.init(num_cpus=max_parallel or os.cpu_count() or 1, include_dashboard=False,
                         logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as error:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise UserError(f"cannot start or reach {where} ({' '.join(str(error).split())[:200]}); "
                            "check --address (`ray status` on the head node shows it)") from None
        started = True
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        yield min(cpus, max_parallel) if max_parallel else cpus
    finally:
        if started:
            ray.shutdown()


def run_tasks(
    function: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    shared: Any,
    slots: int,
    on_result: Callable[[int, Any | None, str | None], None],
    on_start: Callable[[int], None] = lambda _: None,
) -> None:
    """Run function(*call, shared) for every call, `slots` at a time; on_result(index, result, ray_error).

    `shared` goes to the object store once (the model and data bytes) instead of once per task.
    ray_error is the one-line text of a task Ray could not finish (its worker died), else None.
    """
    import ray
    from ray.exceptions import RayError

    remote = ray.remote(num_cpus=1, max_retries=0)(function)
    shared_ref = ray.put(shared)
    waiting = list(range(len(calls)))
    pending: dict[Any, int] = {}
    try:
        while waiting or pending:
            while waiting and len(pending) < slots:
                index = waiting.pop(0)
                pending[remote.remote(*calls[index], shared_ref)] = index
                on_start(len(pending))
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                index = pending.pop(ref)
                try:
                    result, error = ray.get(ref), None
                except RayError as failure:
                    result, error = None, f"{type(failure).__name__}: {' '.join(str(failure).split())[:300]}"
                on_start(len(pending))
                on_result(index, result, error)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
