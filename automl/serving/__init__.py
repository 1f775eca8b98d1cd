"""Serving: the models a run ships, behind one interface (`interface.ServedModel`).

- `ensemble.Predictor`: the run's final model (the ensemble, or the best trial), pickled
  in model/predictor.joblib: schema -> branches -> members -> combined output -> labels.
- `compact.CompactPredictor`: compact/compact.onnx in onnxruntime, no pickle; one row as a
  dict goes into the session without pandas (`inputs`: what compact.onnx takes).
- `session.OnnxModel`: one onnxruntime session over any exported graph.

Nothing here imports the stages that make these models (search, distill, onnx).
"""
