"""What every student fit of a distillation reads (`Classroom`), and where those fits run
(`Fits`): through the run's offload (automl/offload.py), so that on a joined cluster each
is a Ray task on a node and the driver only coordinates; in this process, in order, on a
local Ray.

The classroom goes to the object store once; each fit is handed it, its spec and its
budget (wall-clock, so it holds in another process), and returns a measured `Student`
stamped with the process that fitted it. A task asks for the CPUs its fit uses and the
memory the closest search family was measured to need (automl/models/memory.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from automl.budget import Budget
from automl.data.schema import Schema
from automl.students.families import default_xgboost_output
from automl.students.judged import Scoring, Student
from automl.distill.policy import DerivedKind, LadderKind, Rung
from automl.distill.teaching import Lessons
from automl.metrics import REGRESSION
from automl.models.registry import family_class
from automl.offload import InProcess

if TYPE_CHECKING:  # torch's import (3 s) only where a dense student is fitted
    from automl.students.dense import Training

# The CPUs a student's task asks for on a joined cluster: one, which every node with CPUs
# has (the offload does not say how large the nodes are; the search's trials default to
# one CPU too). On a local run the stage has the machine, as before the offload.
CLUSTER_CPUS = 1


def fit_cpus(offload: InProcess) -> int:
    """The threads each of the stage's fits uses, and the CPUs its task asks for."""
    return CLUSTER_CPUS if offload.remote else os.cpu_count() or 1


@dataclass
class Classroom:
    """The rows the students learn from (the lesson: real, then synthetic, with the
    teacher's output), what they are measured against (scoring), the dense kinds' encoded
    rows (None: no dense kind listed), and the stage's settings every fit shares."""

    lesson: Lessons
    scoring: Scoring
    schema: Schema
    training: Training | None
    seed: int
    max_nodes: int | None  # the size aim, in tree nodes (None: no aim)
    cpus: int  # threads each fit uses (`fit_cpus`)

    @property
    def n_classes(self) -> int:
        return len(self.schema.classes or [])

    def rows(self, synthetic: bool) -> slice:
        """The lesson rows a fit learns from: all, or the real ones alone."""
        return slice(None) if synthetic else slice(self.lesson.n_real)


class Fits:
    """The stage's fits through `offload`, the classroom put there once."""

    def __init__(self, offload: InProcess, classroom: Classroom):
        self.offload, self.classroom = offload, classroom
        self.handle = offload.put(classroom)

    def ladder(self, kind: LadderKind, rung: Rung, budget: Budget) -> Student:
        """One rung of the ladder, fitted and measured by its kind's module."""
        cpus = self.classroom.cpus if kind.threads == "all" else 1
        return self.offload.call(kind.code().fit, self.handle, rung, budget,
                                 cpus=cpus, memory=self._ladder_memory(kind, rung))

    def derived(self, kind: DerivedKind, spec, budget: Budget) -> Student | None:
        """A student made from others (a blend, a memo): no model of its own is trained,
        so its task asks for one CPU and no memory beyond the classroom's."""
        return self.offload.call(kind.code().fit, self.handle, spec, budget, cpus=1)

    def reference(self, budget: Budget) -> np.ndarray:
        """xgboost's defaults' output on the judged rows (see `reference_output`)."""
        lesson = self.classroom.lesson
        memory = family_class("xgboost").fit_memory.need(lesson.n_real, lesson.Z.shape[1])
        return self.offload.call(reference_output, self.handle, budget,
                                 cpus=self.classroom.cpus, memory=memory)

    def _ladder_memory(self, kind: LadderKind, rung: Rung) -> int:
        """What the closest search family needs for the rows the rung's fit holds: a
        classifier learning soft rows repeats each row once per class; a dense one reads
        the one-hot encoding's columns."""
        classroom = self.classroom
        rows = len(classroom.lesson.Z[classroom.rows(rung.synthetic)])
        if kind.dense and classroom.training is not None:
            columns = classroom.training.code.width
        else:
            columns = classroom.lesson.Z.shape[1]
            if classroom.schema.task != REGRESSION:
                rows *= max(classroom.n_classes, 1)
        return family_class(kind.memory).fit_memory.need(rows, columns)


def reference_output(classroom: Classroom, budget: Budget) -> np.ndarray:
    """xgboost with its defaults fitted on the true labels of the real rows the students
    learn from, predicting the rows they are judged on: what a student keeps the
    teacher's gain over (`families.default_xgboost_output`)."""
    lesson = classroom.lesson
    return default_xgboost_output(lesson.Z[:lesson.n_real], lesson.y_real, lesson.Z_valid,
                                  classroom.schema.task, budget, classroom.seed,
                                  n_jobs=classroom.cpus)
