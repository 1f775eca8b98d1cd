"""Serving: the models a run ships, behind one interface (`interface.ServedModel`).

- `onnx_predictor.OnnxPredictor`: an exported file in onnxruntime, no pickle; one row as
  a dict goes into the session without pandas (`inputs`: what the files take). It serves
  model/ensemble.onnx (the run's final model, the default) and, as
  `compact.CompactPredictor`, compact/compact.onnx.
- `ensemble.Predictor`: the run's final model in Python (the ensemble, or the best
  trial), pickled in model/predictor.joblib for resume, refit and the report:
  schema -> branches -> members -> combined output -> labels; served only when asked
  for (`model="python"`) or from a run folder older than ensemble.onnx.
- `load.load_model`: the one place that picks which of them a run folder serves.
- `session.OnnxModel`: one onnxruntime session over any exported graph.

Nothing here imports the stages that make these models (search, distill, onnx).
"""
