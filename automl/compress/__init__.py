"""Compression: distil the ensemble into one compact model and export it to ONNX.

augment (synthetic rows) -> students (soft labels) -> distill (the `distill` stage) ->
choose (the `compress` stage: constraints, Pareto front) -> export (the `export` stage:
compact.onnx with the preprocessing inside, parity check, rules, model card).
"""
