"""A CatBoost member's ONNX graph computes what its predict_raw does: numbers only, one-hot
splits, CTRs of one categorical column and of combinations, missing values and codes
training never saw. Each model is a real CatBoost fit; onnxruntime is the other side."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from automl.config import PreprocessParams
from automl.data import infer_schema, prepare_features
from automl.models.catboost_family import CatBoostFamily
from automl.onnx import catboost_lookup
from automl.onnx.catboost_graph import CatBoostGraphError, catboost_graph
from automl.preprocess import build_branch
from tests.conftest import make_table

CATEGORICAL = (0, 2, 4)  # 5 codes, 20 codes, 3 codes; columns 1 and 3 are numbers
N_COLUMNS = 5
CLASSES = {"binary": 2, "multiclass": 3, "regression": 1}
# one_hot_max_size above every column's count: one-hot splits only; 2: CTRs only
SETTINGS = {
    "numbers": (), "one_hot": {"one_hot_max_size": 32, "max_ctr_complexity": 1},
    "ctr": {"one_hot_max_size": 2, "max_ctr_complexity": 1},
    "combinations": {"one_hot_max_size": 2, "max_ctr_complexity": 3},
    "mixed": {"one_hot_max_size": 8, "max_ctr_complexity": 3},
}
SMALL = {"iterations": 50, "depth": 4, "learning_rate": 0.3}


def _matrix(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """What the trees branch gives: categories as float codes (NaN: missing), numbers with gaps."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 5, n), rng.normal(size=n), rng.integers(0, 20, n),
                         rng.normal(size=n), rng.integers(0, 3, n)]).astype(np.float64)
    signal = ((X[:, 2] % 3 == 0) ^ (X[:, 1] > 0)) + (X[:, 0] == 2) + X[:, 3] * (X[:, 4] == 1)
    X[rng.random(n) < 0.1, 0] = np.nan
    X[rng.random(n) < 0.1, 1] = np.nan
    return X, signal


def _labels(task: str, signal: np.ndarray) -> np.ndarray:
    if task == "regression":
        return 10 * signal + 50  # away from 0, where a relative tolerance means little
    return np.digitize(signal, np.quantile(signal, np.linspace(0, 1, CLASSES[task] + 1)[1:-1]))


def _fit(task: str, setting: str, y=None, n_classes: int | None = None) -> CatBoostFamily:
    X, signal = _matrix(400, seed=0)
    categorical = CATEGORICAL if SETTINGS[setting] else ()
    model = CatBoostFamily(task=task, n_classes=n_classes or CLASSES[task],
                           params={**SMALL, **dict(SETTINGS[setting])}, categorical=categorical, seed=0)
    return model.fit(X, _labels(task, signal) if y is None else y)


def _held_out(model: CatBoostFamily) -> np.ndarray:
    """New rows, with codes training never saw, missing values, and numbers exactly at
    CatBoost's borders (where `>` and `>=` part)."""
    X, _ = _matrix(300, seed=1)
    X[:10, 2], X[10:20, 0], X[20:30, 0] = 25, 7, -3  # unseen codes (column 0 had missing ones)
    X[30:40, 2], X[40:50, 4] = np.nan, np.nan  # missing where training had none
    X[50:60, 3] = np.nan  # a number training never saw missing
    for offset, (feature, borders) in enumerate(model.model_.get_borders().items()):
        rows = slice(60 + 40 * offset, 60 + 40 * offset + min(len(borders), 40))
        X[rows, int(feature)] = borders[:40]
    return X.astype(np.float32)


def _assert_parity(model: CatBoostFamily, X: np.ndarray) -> None:
    session = ort.InferenceSession(catboost_graph(model, N_COLUMNS).SerializeToString())
    got = session.run(["raw"], {"X": X})[0]
    expected = model.predict_raw(X)
    if model.is_classifier:
        assert got.shape == (len(X), model.n_classes)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    else:
        assert got.shape == (len(X), 1)
        np.testing.assert_allclose(got[:, 0], expected, rtol=1e-5)


def _split_kinds(model: CatBoostFamily, tmp_path) -> set[str]:
    """The kinds of split the model holds; a CTR over several columns is "Combination"."""
    path = tmp_path / "model.json"
    model.model_.save_model(str(path), format="json")
    dump = json.loads(path.read_text())
    kinds = {split["split_type"] for tree in dump["oblivious_trees"] for split in tree["splits"] or []}
    if any(len(ctr["elements"]) > 1 for ctr in dump["features_info"].get("ctrs", [])):
        kinds.add("Combination")
    return kinds


EXPECTED_KINDS = {"numbers": {"FloatFeature"}, "one_hot": {"OneHotFeature"}, "ctr": {"OnlineCtr"},
                  "combinations": {"Combination"}, "mixed": {"OneHotFeature", "OnlineCtr"}}


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("task", CLASSES)
def test_graph_matches_predict_raw(task, setting, tmp_path):
    model = _fit(task, setting)
    assert EXPECTED_KINDS[setting] <= _split_kinds(model, tmp_path)  # the case is really tested
    _assert_parity(model, _held_out(model))


@pytest.mark.parametrize("n_classes, seen", [(4, [0, 1, 3]), (3, [0, 2])])
def test_classes_training_never_saw_get_their_zero_column(n_classes, seen):
    _, signal = _matrix(400, seed=0)
    y = np.asarray(seen)[np.digitize(signal, np.quantile(signal, np.linspace(0, 1, len(seen) + 1)[1:-1]))]
    model = _fit("multiclass", "mixed", y=y, n_classes=n_classes)
    _assert_parity(model, _held_out(model))


def test_graph_reads_the_trees_branch_output():
    frame = make_table(n=400, task="multiclass", seed=1)
    frame.loc[frame.index[:30], "colour"] = np.nan
    schema = infer_schema(frame, "y")
    y = schema.encode_target(frame["y"])
    branch, X = build_branch(PreprocessParams(branch="trees"), schema, prepare_features(frame, schema), y)
    model = CatBoostFamily(task="multiclass", n_classes=len(schema.classes), categorical=branch.categorical,
                           params={**SMALL, **SETTINGS["mixed"]}, seed=0).fit(X, y)
    rows = make_table(n=200, task="multiclass", seed=2)
    rows.loc[rows.index[:10], "colour"] = "ultraviolet"
    rows.loc[rows.index[10:20], "colour"] = np.nan
    X_rows = branch.transform(prepare_features(rows, schema)).astype(np.float32)
    session = ort.InferenceSession(catboost_graph(model, X.shape[1]).SerializeToString())
    np.testing.assert_allclose(session.run(["raw"], {"X": X_rows})[0], model.predict_raw(X_rows), atol=1e-5)


# ---- what is refused --------------------------------------------------------------------


def test_a_combination_too_large_to_tabulate_is_refused(monkeypatch):
    model = _fit("binary", "combinations")
    monkeypatch.setattr(catboost_lookup, "MAX_CELLS", 100)
    with pytest.raises(CatBoostGraphError, match=r"into [\d,]+ cells; an exact lookup table is written "
                                                 r"up to 100\. Lower max_ctr_complexity"):
        catboost_graph(model, N_COLUMNS)


def test_a_width_short_of_the_columns_read_is_refused():
    with pytest.raises(CatBoostGraphError, match="reads column 4, but n_inputs is 3"):
        catboost_graph(_fit("binary", "ctr"), 3)


def test_a_member_without_its_category_codes_is_refused():
    model = _fit("binary", "ctr")
    del model.category_codes_
    with pytest.raises(CatBoostGraphError, match="refit it to export it as ONNX"):
        catboost_graph(model, N_COLUMNS)
