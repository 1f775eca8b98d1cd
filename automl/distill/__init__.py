"""Distillation: the ensemble taught to small students, and the compact model chosen.

teaching (the lessons: rows labelled by a teacher that never saw the judged ones; augment
adds synthetic rows) -> students (the ladder's sizes, the student families, tuned by the
run's search, blends of two, memos of recurring rows) -> judged (scored, measured in
ONNX, parity-checked) -> crossfit (finalists judged on every fold, refitted) -> the
`distill` stage (`stage`) -> the `compress` stage (`compress`: shrink the best MLP, then
choose under the constraints, the Pareto front). The `export` stage that writes the
chosen one lives in `automl.onnx`, whose converters these students are measured with.
"""
