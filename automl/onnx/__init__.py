"""ONNX: the students' graphs, the parity check, and the `export` stage that writes compact.onnx.

Converters, each a student's graph over model-ready columns with the `trees` branch
inside: `trees_graph` (xgboost, LightGBM, sklearn trees; `tree_ensemble` rewrites them in
the compact TreeEnsemble operator), `dense_graph` (linear and MLP students),
`blend_graph` (a tree and an MLP student averaged), `memo_graph` (a student that looks
recurring rows up by `memo_key`); `op_graph` writes their nodes. Ensemble members
(`member_graphs`, the contract; `ensemble_graph` joins them): `forest_trees`,
`xgboost_trees` and `catboost_graph` (its categorical splits as tables `catboost_lookup`
probes from CatBoost) write TreeEnsemble nodes from the models' own arrays through
`tree_writer`; `member_trees` converts LightGBM by onnxmltools, `member_dense` the dense
families. `parity` checks a graph
against the Python model that made it. `rules` writes a shallow tree as text, Python
and SQL. `stage` (the export) puts the raw-column front (`raw_front`) before the chosen
student's graph, checks and times the file, and writes the model card (`card`).

The distill stage measures its students with these converters; nothing here imports
it back (nor the search).
"""
