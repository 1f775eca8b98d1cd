"""The whole ensemble as one ONNX graph: each family's member graph, a bagged member, the
weighted mean, the stacker and the temperature, against the Python `Predictor` on raw
rows with what `prepare_features` deals with (missing numbers, dates and categories, inf,
a category never seen in training). Real fits, small ones: a few seconds per task."""

from __future__ import annotations

import numpy as np
import onnx
import pandas as pd
import pytest

from automl.ensemble.stacking import LinearStacker
from automl.errors import AutoMLError
from automl.models.bagging import BaggedModel
from automl.models.registry import family_class
from automl.data import prepare_features
from automl.onnx import lightgbm_trees
from automl.onnx.ensemble_export import export_run_model
from automl.onnx.ensemble_graph import ensemble_graph
from automl.onnx.member_graphs import ConversionError, member_graph
from automl.onnx.parity import check_parity
from automl.onnx.tree_ensemble import expand_tree_ensembles
from automl.preprocess.stage import table_branch_data
from automl.serving.ensemble import Member, Predictor
from automl.serving.inputs import frame_feeds
from tests.conftest import make_table

TASKS = ["binary", "multiclass", "regression"]
PARAMS = {"xgboost": {"n_estimators": 20, "max_depth": 3},
          "lightgbm": {"n_estimators": 20, "num_leaves": 8, "min_data_per_group": 5,
                       "max_cat_to_onehot": 1},  # sets of categories: chains of splits
          "random_forest": {"n_estimators": 8, "max_depth": 6},
          "extra_trees": {"n_estimators": 8, "max_depth": 6},
          "linear": {"C": 1.0},
          "mlp": {"n_layers": 2, "width": 16, "max_epochs": 5, "activation": "gelu"},
          "tabm": {"k": 4, "n_blocks": 2, "d_block": 16, "max_epochs": 5},
          # CTRs over one and two categorical columns, beside one-hot splits
          "catboost": {"iterations": 30, "depth": 4, "one_hot_max_size": 2, "max_ctr_complexity": 2}}
FAMILIES = list(PARAMS)


def awkward(task: str, n: int = 400, seed: int = 0) -> pd.DataFrame:
    frame = make_table(n=n, task=task, seed=seed)
    frame["flag"] = frame["x2"] > 0
    frame.loc[frame.index[:10], "when"] = pd.NaT
    frame.loc[frame.index[10:20], "colour"] = np.nan
    frame.loc[frame.index[20:25], "x2"] = np.inf
    frame.loc[frame.index[25:30], "x2"] = np.nan
    return frame


def served_rows(task: str) -> pd.DataFrame:
    rows = awkward(task, n=200, seed=1).drop(columns="y")
    rows.loc[rows.index[30:35], "colour"] = "ultraviolet"  # never seen in training
    return rows


@pytest.fixture(scope="module", params=TASKS)
def data(request):
    return table_branch_data(awkward(request.param), "y", valid_fraction=0.25, seed=0)


def fit(family: str, data, rows=slice(None), **params):
    schema = data.schema
    model = family_class(family)(task=schema.task, n_classes=len(schema.classes or []),
                                 params={**PARAMS[family], **params},
                                 categorical=data.branch.categorical)
    return model.fit(data.X_train[rows], data.y_train[rows])


def predictor(data, models: list, families: list[str], weights=None, **extra) -> Predictor:
    weights = weights or [1.0] * len(models)
    members = [Member(f"m{i}", family, data.branch.name, model, w)
               for i, (family, model, w) in enumerate(zip(families, models, weights))]
    return Predictor(data.schema, {data.branch.name: data.branch}, members, **extra)


def assert_parity(predicted: Predictor, tolerance: float = 1e-4) -> float:
    rows = served_rows(predicted.schema.task)
    graph = ensemble_graph(predicted).SerializeToString()
    return check_parity(graph, predicted.predict_raw(rows), frame_feeds(rows, predicted.schema),
                        tolerance)


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_alone_gives_what_python_gives(data, family):
    assert assert_parity(predictor(data, [fit(family, data)], [family])) <= 1e-4


def test_a_tabm_mini_member_gives_what_python_gives(data):
    """TabM-mini: one per-member scaling in front of shared layers (TabM's own: a scaling
    on each side of every shared layer, the parametrised test above)."""
    model = fit("tabm", data, arch_type="tabm-mini")
    assert assert_parity(predictor(data, [model], ["tabm"])) <= 1e-4


@pytest.fixture(scope="module")
def multiclass():
    return table_branch_data(awkward("multiclass"), "y", valid_fraction=0.25, seed=0)


@pytest.mark.parametrize("family", ["random_forest", "extra_trees"])
def test_a_forest_grown_to_full_depth_or_to_single_leaves_gives_what_python_gives(data, family):
    """Written from the tree arrays (forest_trees): thresholds rounded down to float32,
    so a row on a split's float32 neighbour goes where sklearn sends it; a tree that is
    one leaf (no split allowed) is one interior node both ways."""
    deep = fit(family, data, n_estimators=30, max_depth=None)
    stumps = fit(family, data, n_estimators=3, min_samples_split=100_000)
    for model in (deep, stumps):
        assert assert_parity(predictor(data, [model], [family])) <= 1e-5
    assert stumps.model_.estimators_[0].tree_.node_count == 1


@pytest.mark.parametrize("family", ["xgboost", "lightgbm", "random_forest", "linear"])
def test_a_class_a_member_never_saw_gets_probability_zero(multiclass, family):
    data = multiclass
    without_last = data.y_train != data.y_train.max()
    predicted = predictor(data, [fit(family, data, without_last)], [family])
    assert (predicted.predict_raw(served_rows("multiclass"))[:, -1] == 0).all()
    assert_parity(predicted)


def test_a_bagged_member_is_the_mean_of_its_folds(data):
    halves = np.arange(len(data.y_train)) % 2 == 0
    bagged = BaggedModel([fit("xgboost", data, halves), fit("xgboost", data, ~halves)])
    assert_parity(predictor(data, [bagged, fit("linear", data)], ["xgboost", "linear"], [2.0, 1.0]))


def test_lightgbm_splits_on_sets_of_categories_compact_as_set_membership(data):
    """onnxmltools writes a split on a set of categories as a chain of equality nodes that
    reach one subtree from each; TreeEnsemble takes trees only, so each chain becomes one
    BRANCH_MEMBER node, and every member, CatBoost's too, stays in the compact operator."""
    families = ["lightgbm", "catboost"]
    predicted = predictor(data, [fit(f, data) for f in families], families)
    graph = ensemble_graph(predicted)
    ml = {o.domain: o.version for o in graph.opset_import}["ai.onnx.ml"]
    trees = [n for n in graph.graph.node if n.op_type == "TreeEnsemble"]
    assert ml == 5 and len(trees) == 2
    assert any(a.name == "membership_values" for n in trees for a in n.attribute)
    assert_parity(predicted)


def test_compact_trees_written_back_in_the_older_operators_predict_the_same(data):
    """Where a member's trees could not be compacted, the others' go back to opset 3
    (expand_tree_ensembles): one graph holds one ai.onnx.ml opset."""
    predicted = predictor(data, [fit("catboost", data)], ["catboost"])
    graph = ensemble_graph(predicted)
    expand_tree_ensembles(graph)
    assert {o.domain: o.version for o in graph.opset_import}["ai.onnx.ml"] == 3
    assert "TreeEnsemble" not in {n.op_type for n in graph.graph.node}
    rows = served_rows(predicted.schema.task)
    check_parity(graph.SerializeToString(), predicted.predict_raw(rows),
                 frame_feeds(rows, predicted.schema), 1e-4)


def test_the_stacker_and_the_temperature_are_in_the_graph(data):
    families = ["lightgbm", "mlp", "extra_trees"]
    models = [fit(family, data) for family in families]
    schema = data.schema
    stacker = LinearStacker(schema.task, len(schema.classes or []))
    stacker.fit([m.predict_raw(data.X_valid) for m in models], data.y_valid)
    temperature = 1.0 if schema.task == "regression" else 0.7
    assert_parity(predictor(data, models, families, stacker=stacker, temperature=temperature))


def test_the_graph_takes_raw_columns_and_carries_the_contract(data):
    graph = ensemble_graph(predictor(data, [fit("linear", data)], ["linear"]))
    assert [i.name for i in graph.graph.input] == ["x1", "x2", "colour", "when", "flag"]
    metadata = {p.key for p in graph.metadata_props}
    assert {"automl.inputs", "automl.outputs", "automl.schema"} <= metadata
    outputs = [o.name for o in graph.graph.output]
    assert outputs == (["variable"] if data.schema.task == "regression" else ["label", "probabilities"])


def test_a_family_without_a_converter_is_named():
    class Odd:
        key = "odd"

    with pytest.raises(ConversionError, match=r"^no ONNX converter for family 'odd'; the "
                                              r"converters are catboost, extra_trees, "):
        member_graph(Odd(), 3)
    assert issubclass(ConversionError, AutoMLError)


def test_member_graphs_share_one_contract(data):
    graph = member_graph(fit("random_forest", data), data.X_train.shape[1])
    assert [i.name for i in graph.graph.input] == ["X"] and [o.name for o in graph.graph.output] == ["raw"]
    onnx.checker.check_model(graph)


def _float32_neighbours() -> tuple[Predictor, pd.DataFrame]:
    """A LightGBM member on one feature whose values are float32 neighbours (1,
    1 + 2**-23, ...), and its rows."""
    steps = np.arange(400) % 8
    frame = pd.DataFrame({"x": 1.0 + steps * 2.0 ** -23, "y": np.where(steps % 2, 10.0, 0.0)})
    data = table_branch_data(frame, "y", valid_fraction=0.25, seed=0)
    model = fit("lightgbm", data, n_estimators=5, num_leaves=8, min_child_samples=5, learning_rate=1.0)
    return predictor(data, [model], ["lightgbm"]), frame.drop(columns="y")


def test_a_lightgbm_member_decides_as_lightgbm_does_at_float32_neighbours():
    """LightGBM's float64 midpoints between float32 neighbours, rounded to the nearest
    float32 (as onnxmltools does), sent rows the other way; lowered to float32
    (`floor_float32`) they do not."""
    predicted, rows = _float32_neighbours()
    assert check_parity(ensemble_graph(predicted).SerializeToString(), predicted.predict_raw(rows),
                        frame_feeds(rows, predicted.schema), 1e-6) < 1e-6


def test_an_export_that_fails_parity_leaves_the_pickle_to_serve(tmp_path, monkeypatch):
    """The thresholds rounded to the nearest float32, not down: the file predicts
    otherwise, so the export fails (its line says why), the file is gone and the pickle
    serves; the run goes on."""
    monkeypatch.setattr(lightgbm_trees, "floor_float32", lambda t: np.asarray(t).astype(np.float32))
    predicted, rows = _float32_neighbours()
    (tmp_path / "model").mkdir()
    lines = []
    served = export_run_model(tmp_path, predicted, prepare_features(rows, predicted.schema), lines.append)
    assert served["format"] == "pickle" and "differ by up to" in served["reason"]
    assert not (tmp_path / "model" / "ensemble.onnx").exists()
    assert lines[-1].startswith("model: model/ensemble.onnx not written (ONNX and Python outputs differ")


def test_an_early_stopped_xgboost_member_uses_the_rounds_python_uses(data):
    """Written from the booster's JSON (xgboost_trees): the trees up to the best round, the
    margin's base read off the booster; validation rows stop it early here."""
    model = family_class("xgboost")(task=data.schema.task, n_classes=len(data.schema.classes or []),
                                    params={"n_estimators": 300, "max_depth": 4, "learning_rate": 0.3,
                                            "early_stopping_rounds": 5})
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid)
    assert model.model_.best_iteration + 1 < model.n_rounds_, "did not stop early"
    assert assert_parity(predictor(data, [model], ["xgboost"])) <= 1e-5


def test_an_xgboost_member_decides_as_xgboost_does_at_float32_neighbours_and_single_leaves():
    """`x < t` at float32 neighbours (each value its own split), and trees that are one leaf."""
    steps = np.arange(400) % 8
    frame = pd.DataFrame({"x": 1.0 + steps * 2.0 ** -23, "y": np.where(steps % 2, 10.0, 0.0)})
    data = table_branch_data(frame, "y", valid_fraction=0.25, seed=0)
    split = fit("xgboost", data, n_estimators=5, max_depth=6, learning_rate=1.0, min_child_weight=1)
    leaves = fit("xgboost", data, n_estimators=3, max_depth=3, gamma=1e9)  # no split pays
    rows = frame.drop(columns="y")
    for model in (split, leaves):
        predicted = predictor(data, [model], ["xgboost"])
        assert check_parity(ensemble_graph(predicted).SerializeToString(), predicted.predict_raw(rows),
                            frame_feeds(rows, predicted.schema), 1e-5) < 1e-5
    assert len(np.unique(split.predict_raw(data.X_train).round(6))) > 2, "the neighbours were not split"


def test_an_xgboost_objective_without_a_link_is_refused(data):
    if data.schema.task != "regression":
        pytest.skip("one objective is enough")
    model = fit("xgboost", data)
    model.model_.get_booster().set_param({"objective": "reg:pseudohubererror"})
    with pytest.raises(ConversionError, match="objective 'reg:pseudohubererror' has no ONNX"):
        member_graph(model, data.X_train.shape[1])


@pytest.mark.parametrize("mode", ["codes", "frequency", "target"])
def test_a_lightgbm_member_that_re_encodes_its_categories_gives_what_python_gives(data, mode):
    """`colour` (3 levels, column 0) re-encoded (many_levels_from 3), `flag` (2) left native:
    the frequency and target tables are Gathers in front of the trees (multiclass: target
    reads frequency); an unseen colour and a missing one included."""
    model = fit("lightgbm", data, many_levels=mode, many_levels_from=3)
    assert model.level_coding_.columns == (0,)
    graph = ensemble_graph(predictor(data, [model], ["lightgbm"]))
    gathers = [n for n in graph.graph.node if n.op_type == "Gather"]
    assert len(gathers) == (0 if mode == "codes" else 1)
    assert assert_parity(predictor(data, [model], ["lightgbm"])) <= 1e-5


def test_re_encoded_fold_members_each_read_their_own_tables(data):
    """Two fold models, one never having seen the last colour (column 0): its code reads
    past that fold's table (a share of 0), in the graph as in Python."""
    last = np.nanmax(data.X_train[:, 0])
    without_last = data.X_train[:, 0] != last
    folds = [fit("lightgbm", data, rows, many_levels="frequency", many_levels_from=2)
             for rows in (without_last, ~without_last | (np.arange(len(without_last)) % 2 == 0))]
    assert len(folds[0].level_coding_.tables[0]) < len(folds[1].level_coding_.tables[0])
    assert assert_parity(predictor(data, [BaggedModel(folds)], ["lightgbm"])) <= 1e-5
