"""The stages' heavy fits as Ray tasks on a joined cluster's nodes (see automl/offload.py).

Each task asks Ray for the CPUs and memory its fit needs, so Ray places it on a node with
room; its result (the fitted model) comes back to the driver, which writes the run folder:
no filesystem is shared. Data a stage hands to several fits goes to the object store once.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import ray

from automl.offload import InProcess


class RayOffload(InProcess):
    remote = True

    def __init__(self):
        self._refs: dict[int, tuple[Any, Any]] = {}  # id(value) -> (value, its ref)

    def put(self, value):
        """Its object-store ref, made once per value however often asked (the value is
        kept too, so that its id stays its own)."""
        if id(value) not in self._refs:
            self._refs[id(value)] = (value, ray.put(value))
        return self._refs[id(value)][1]

    def map(self, fn: Callable, calls: Sequence[tuple], cpus: float = 1,
            memory: float | None = None, **kwargs) -> list:
        """All at once as Ray tasks (as many run together as the nodes have room for); a
        task's exception is raised here as the same class, as a local call's would be."""
        task = _remote(fn).options(num_cpus=cpus, memory=int(memory) if memory else None,
                                   max_retries=0)
        refs = [task.remote(*args, **kwargs) for args in calls]
        try:
            return ray.get(refs)
        except ray.exceptions.RayTaskError as err:
            raise err.as_instanceof_cause() from None


@functools.cache
def _remote(fn: Callable):
    """One Ray remote function per function: Ray exports it to the cluster once."""
    return ray.remote(fn)


def resolved(value):
    """The value behind an object-store ref (RayOffload.put), or `value` itself."""
    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


def offload_for(address: str | None) -> InProcess:
    """Ray tasks where a cluster is joined (`address`), this process otherwise."""
    return RayOffload() if address else InProcess()
