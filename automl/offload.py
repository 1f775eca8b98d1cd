"""Where the stages' heavy fits run: in this process, or as Ray tasks on a cluster's nodes.

The stages after the search fit models too: the ensemble refits its members, the distill
stage fits students, the compress stage fine-tunes one. On a joined cluster (`--address`)
the driver only coordinates, so each such fit runs as a Ray task on a node
(`automl.search.offload.RayOffload`); on a local Ray they run in the driver's process, as
here. The run offers one of the two to its stages (`RunContext.offload`), which call it
alike and never import Ray:

    data = offload.put(branch_data)                 # to the object store once per run
    member = offload.call(refit_member, member, data, seed, budget, cpus=2)
    students = offload.map(fit_student, [(spec, data), ...], cpus=2)

`fn` must be a module-level function (a Ray worker imports it by name); what `put`
returned arrives in `fn` as the value itself.
"""

from __future__ import annotations

from typing import Callable, Sequence


class InProcess:
    """Every fit in this process, one after the other."""

    remote = False

    def put(self, value):
        return value

    def call(self, fn: Callable, *args, cpus: float = 1, memory: float | None = None,
             **kwargs):
        """fn(*args, **kwargs) where a fit of `cpus` CPUs and `memory` bytes has room."""
        return self.map(fn, [args], cpus=cpus, memory=memory, **kwargs)[0]

    def map(self, fn: Callable, calls: Sequence[tuple], cpus: float = 1,
            memory: float | None = None, **kwargs) -> list:
        """fn(*args, **kwargs) for each `args` of `calls`, the results in order."""
        return [fn(*args, **kwargs) for args in calls]
