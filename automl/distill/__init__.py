"""Distillation: the ensemble taught to small students, and the compact model chosen.

teaching (the lessons: rows labelled by a teacher that never saw the judged ones; augment
adds synthetic rows) -> classroom, ladder and kinds (which students to fit, from the
policy in `search/students.yaml`: the ladder's sizes, the student families tuned by the
run's search, blends of two, memos of recurring rows; the students themselves live in
`automl.students`, scored, measured in ONNX and parity-checked there) -> crossfit
(finalists judged on every fold, refitted) -> the `distill` stage (`stage`) -> the
`compress` stage (`compress`: shrink the best MLP, then choose under the constraints, the
Pareto front). The `export` stage that writes the
chosen one lives in `automl.onnx`, whose converters the students are measured with.
"""
