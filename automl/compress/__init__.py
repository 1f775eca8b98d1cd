"""Compression: distil the ensemble into one compact model and export it to ONNX.

augment (synthetic rows) -> students (soft labels) -> distill (the `distill` stage) ->
choose (the `compress` stage: constraints, Pareto front) -> export (the `export` stage:
compact.onnx with the preprocessing inside and the table's own columns in (`onnx_raw`,
`raw_inputs`), parity check, rules, model card (`card`)). `compact_model` serves the
file from Python.
"""
