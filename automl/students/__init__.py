"""The compact models a teacher's lessons are fitted into, and how each is judged.

judged (a `Student`: its model, ONNX bytes, size, latency and scores; the distill
stage's `DistillResult`) <- families (the student model families the search can tune:
small GBDTs, an MLP) <- dense (training, pruning, low-rank and int8 of the small MLP),
soft (tree students fitted to a teacher's probabilities), blend (a tree and an MLP
averaged), memo (a tree or MLP with a table of recurring rows). The `distill` stage
(`automl.distill`) decides which to fit, teaches and chooses them; this package knows
nothing of that stage.
"""
