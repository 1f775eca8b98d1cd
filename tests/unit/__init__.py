"""Unit tests, mirroring the package: tests/unit/<package>/ tests automl/<package>/
(bench, data, distill, ensemble, graph, models, onnx, report, search, serving), and
tests/unit/core/ the modules directly under automl/ (the core: atomic, budget, bounds,
calibration, metrics, options, registry, space, bundle; and the facades' option checks)."""
