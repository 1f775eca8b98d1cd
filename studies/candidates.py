"""The configurations the portfolio study tries for each family.

Three kinds, each with its source: the family's own `default`; published defaults and
zero-shot configurations of other libraries, mapped onto our parameters (read from
xgboost's, LightGBM's, CatBoost's and scikit-learn's documented defaults, AutoGluon's
`zeroshot_portfolio_2023` and its model defaults, FLAML's
`flaml/default/<estimator>/<task>.json`); and seeded random draws from the family's
search space. Every candidate is clipped into the space's widest bounds, so the search
could have proposed it; a parameter our space lacks (max_leaf_nodes, colsample_bylevel,
batch norm) is dropped and `source` says so; a config that then repeats another goes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from automl.space import ChoiceParam, NumberParam, Space

# rows-dependent bounds are resolved at this size: the widest a real table gets
WIDEST_ROWS = 10_000_000
# Random draws per family: the published configs already cover the spaces' corners, and
# the study's compute (two shared cores, ~2 hours) pays for these few.
RANDOM_DRAWS = {"xgboost": 6, "random_forest": 4, "extra_trees": 4, "linear": 2, "mlp": 6,
                "lightgbm": 6, "catboost": 3, "tabm": 2}
DEFAULT_DRAWS = 4


@dataclass(frozen=True)
class Candidate:
    name: str
    params: dict
    source: str


# Other libraries' names for one parameter: a published config is written in its own
# library's words, and a family's space may use either (LightGBM's sklearn or native names).
ALIASES = {
    "feature_fraction": "colsample_bytree", "colsample_bytree": "feature_fraction",
    "min_data_in_leaf": "min_child_samples", "min_child_samples": "min_data_in_leaf",
    "bagging_fraction": "subsample", "subsample": "bagging_fraction",
    "lambda_l2": "reg_lambda", "reg_lambda": "lambda_l2",
    "lambda_l1": "reg_alpha", "reg_alpha": "lambda_l1",
    "num_boost_round": "n_estimators", "n_estimators": "iterations", "iterations": "n_estimators",
}


def candidates(family: str, space: Space, seed: int = 0) -> list[Candidate]:
    """The family's default, then its published configs, then random draws (seeded);
    a config that, mapped onto our space, repeats an earlier one is left out."""
    widest = space.resolve(WIDEST_ROWS)
    found = [Candidate("default", dict(space.default), "our default (search/%s.yaml)" % family)]
    for name, params, source in PUBLISHED.get(family, []):
        mapped, lost = onto_space(params, space)
        if lost:
            source += f" (not in our space: {', '.join(lost)})"
        found.append(Candidate(name, clip(mapped, widest), source))
    rng = random.Random(f"{family}-{seed}")
    for i in range(RANDOM_DRAWS.get(family, DEFAULT_DRAWS)):
        found.append(Candidate(f"random{i:02d}", draw(widest, rng), f"random draw {i} from the space"))
    return _distinct(found, space.default)


def onto_space(params: dict, space: Space) -> tuple[dict, list[str]]:
    """`params` in the space's own names (through ALIASES), and the names it has no place for."""
    known = set(space.params) | set(space.default)
    mapped, lost = {}, []
    for name, value in params.items():
        target = name if name in known else ALIASES.get(name)
        if target in known:
            mapped[target] = value
        else:
            lost.append(name)
    return mapped, lost


def _distinct(found: list[Candidate], default: dict) -> list[Candidate]:
    seen, kept = [], []
    for candidate in found:
        full = {**default, **candidate.params}
        if full not in seen:
            seen.append(full)
            kept.append(candidate)
    return kept


def clip(params: dict, space: Space) -> dict:
    """`params` with every searched value clipped into the space's bounds."""
    clipped = dict(params)
    for name, param in space.params.items():
        if name in clipped:
            clipped[name] = param.clip(clipped[name])
    return clipped


def draw(space: Space, rng: random.Random) -> dict:
    """One uniform draw (log-uniform where the parameter says log) of every searched value."""
    params = {}
    for name, param in space.params.items():
        if isinstance(param, ChoiceParam):
            params[name] = rng.choice(param.values)
        else:
            params[name] = _draw_number(param, rng)
    return params


def _draw_number(param: NumberParam, rng: random.Random):
    low, high = float(param.low), float(param.high)
    if param.log:
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    return int(round(value)) if param.type == "int" else round(value, 6)


_AG_ZS = "AutoGluon zeroshot 2023 "
_FLAML = "FLAML zero-shot "

PUBLISHED: dict[str, list[tuple[str, dict, str]]] = {
    "xgboost": [
        ("xgb_lib", {"n_estimators": 100, "learning_rate": 0.3, "max_depth": 6, "min_child_weight": 1.0,
                     "subsample": 1.0, "colsample_bytree": 1.0, "reg_lambda": 1.0, "reg_alpha": 0.0},
         "xgboost's own defaults (reg_alpha 0 clipped to 0.001)"),
        ("ag_default", {"n_estimators": 10000, "learning_rate": 0.1, "max_depth": 6},
         "AutoGluon XGB default (10000 rounds clipped to 2000, early stopping)"),
        ("ag_r33", {"colsample_bytree": 0.69, "learning_rate": 0.018, "max_depth": 10,
                    "min_child_weight": 0.60, "n_estimators": 10000}, _AG_ZS + "XGB_r33"),
        ("ag_r89", {"colsample_bytree": 0.66, "learning_rate": 0.088, "max_depth": 5,
                    "min_child_weight": 0.63, "n_estimators": 10000}, _AG_ZS + "XGB_r89"),
        ("ag_r194", {"colsample_bytree": 0.91, "learning_rate": 0.093, "max_depth": 7,
                     "min_child_weight": 0.80, "n_estimators": 10000},
         _AG_ZS + "XGB_r194 (without native categoricals)"),
        ("ag_r98", {"colsample_bytree": 0.52, "learning_rate": 0.0072, "max_depth": 9,
                    "min_child_weight": 0.86, "n_estimators": 10000},
         _AG_ZS + "XGB_r98 (without native categoricals)"),
        ("ag_r49", {"colsample_bytree": 0.75, "learning_rate": 0.038, "max_depth": 7,
                    "min_child_weight": 0.56, "n_estimators": 10000}, _AG_ZS + "XGB_r49"),
        ("ag_r31", {"colsample_bytree": 0.75, "learning_rate": 0.010, "max_depth": 4,
                    "min_child_weight": 0.92, "n_estimators": 10000}, _AG_ZS + "XGB_r31"),
        ("flaml_bin1", {"n_estimators": 877, "max_depth": 11, "min_child_weight": 0.62,
                        "learning_rate": 0.0136, "subsample": 0.57, "colsample_bytree": 1.0,
                        "reg_alpha": 0.0139, "reg_lambda": 3.11},
         _FLAML + "xgb_limitdepth binary #1 (colsample_bylevel 0.89 dropped)"),
        ("flaml_bin2", {"n_estimators": 5457, "max_depth": 6, "min_child_weight": 0.20,
                        "learning_rate": 0.0039, "subsample": 0.82, "colsample_bytree": 0.42,
                        "reg_alpha": 0.0174, "reg_lambda": 0.040},
         _FLAML + "xgb_limitdepth binary #2 (rounds, rate clipped; colsample_bylevel dropped)"),
        ("flaml_multi1", {"n_estimators": 1191, "max_depth": 13, "min_child_weight": 6.40,
                          "learning_rate": 0.0376, "subsample": 1.0, "colsample_bytree": 0.81,
                          "reg_alpha": 0.001, "reg_lambda": 1.08},
         _FLAML + "xgb_limitdepth multiclass #1 (depth 13 clipped to 12; colsample_bylevel dropped)"),
        ("flaml_multi3", {"n_estimators": 313, "max_depth": 7, "min_child_weight": 30.4,
                          "learning_rate": 0.0847, "subsample": 0.99, "colsample_bytree": 1.0,
                          "reg_alpha": 0.00145, "reg_lambda": 34.1},
         _FLAML + "xgb_limitdepth multiclass #3 (min_child_weight clipped to 20)"),
        ("flaml_reg1", {"n_estimators": 4923, "max_depth": 12, "min_child_weight": 0.76,
                        "learning_rate": 0.0092, "subsample": 0.82, "colsample_bytree": 0.79,
                        "reg_alpha": 0.0023, "reg_lambda": 131.2},
         _FLAML + "xgb_limitdepth regression #1 (rounds, reg_lambda clipped)"),
        ("flaml_reg3", {"n_estimators": 1499, "max_depth": 11, "min_child_weight": 0.076,
                        "learning_rate": 0.039, "subsample": 0.78, "colsample_bytree": 1.0,
                        "reg_alpha": 0.001, "reg_lambda": 23.5},
         _FLAML + "xgb_limitdepth regression #3 = multiclass #2"),
    ],
    "random_forest": [
        ("sklearn_reg", {"n_estimators": 100, "max_features": 1.0, "min_samples_leaf": 1, "max_samples": 1.0},
         "scikit-learn RandomForestRegressor defaults"),
        ("sklearn_clf", {"n_estimators": 100, "max_features": 0.2, "min_samples_leaf": 1, "max_samples": 1.0},
         "scikit-learn RandomForestClassifier defaults (max_features sqrt ~ 0.2 here)"),
        ("ag_default", {"n_estimators": 300, "max_features": 0.2, "min_samples_leaf": 1, "max_samples": 1.0},
         "AutoGluon RF default (300 trees; max_leaf_nodes 15000 dropped; sqrt ~ 0.2)"),
        ("ag_r195", {"n_estimators": 300, "max_features": 0.75, "min_samples_leaf": 1, "max_samples": 1.0},
         _AG_ZS + "RF_r195 (max_leaf_nodes dropped)"),
        ("ag_r39", {"n_estimators": 300, "max_features": 0.75, "min_samples_leaf": 2, "max_samples": 1.0},
         _AG_ZS + "RF_r39 (max_leaf_nodes dropped)"),
        ("ag_r127", {"n_estimators": 300, "max_features": 1.0, "min_samples_leaf": 5, "max_samples": 1.0},
         _AG_ZS + "RF_r127 (max_leaf_nodes dropped)"),
        ("ag_r34", {"n_estimators": 300, "max_features": 0.75, "min_samples_leaf": 40, "max_samples": 1.0},
         _AG_ZS + "RF_r34 (max_leaf_nodes dropped)"),
        ("flaml_bin1", {"n_estimators": 501, "max_features": 0.245, "min_samples_leaf": 1,
                        "max_samples": 1.0},
         _FLAML + "rf binary #1 (500 trees; max_leaves, entropy dropped)"),
        ("flaml_bin2", {"n_estimators": 356, "max_features": 0.1, "min_samples_leaf": 1, "max_samples": 1.0},
         _FLAML + "rf binary #2 (max_leaves dropped)"),
        ("flaml_multi2", {"n_estimators": 400, "max_features": 0.896, "min_samples_leaf": 1,
                          "max_samples": 1.0},
         _FLAML + "rf multiclass #2 (max_leaves, entropy dropped)"),
        ("flaml_reg1", {"n_estimators": 960, "max_features": 0.695, "min_samples_leaf": 1,
                        "max_samples": 1.0},
         _FLAML + "rf regression #1 (960 trees clipped to 500; max_leaves dropped)"),
    ],
    "extra_trees": [
        ("sklearn_reg", {"n_estimators": 100, "max_features": 1.0, "min_samples_leaf": 1},
         "scikit-learn ExtraTreesRegressor defaults"),
        ("sklearn_clf", {"n_estimators": 100, "max_features": 0.2, "min_samples_leaf": 1},
         "scikit-learn ExtraTreesClassifier defaults (max_features sqrt ~ 0.2 here)"),
        ("ag_default", {"n_estimators": 300, "max_features": 0.2, "min_samples_leaf": 1},
         "AutoGluon XT default (300 trees; max_leaf_nodes 15000 dropped; sqrt ~ 0.2)"),
        ("ag_r42", {"n_estimators": 300, "max_features": 0.75, "min_samples_leaf": 1},
         _AG_ZS + "XT_r42 (max_leaf_nodes dropped)"),
        ("ag_r172", {"n_estimators": 300, "max_features": 1.0, "min_samples_leaf": 4},
         _AG_ZS + "XT_r172 (max_leaf_nodes dropped)"),
        ("ag_r4", {"n_estimators": 300, "max_features": 1.0, "min_samples_leaf": 20},
         _AG_ZS + "XT_r4 (max_leaf_nodes dropped)"),
        ("flaml_bin1", {"n_estimators": 1080, "max_features": 1.0, "min_samples_leaf": 1},
         _FLAML + "extra_tree binary #1 (1080 trees clipped to 500; max_leaves, entropy dropped)"),
        ("flaml_bin3", {"n_estimators": 408, "max_features": 0.363, "min_samples_leaf": 1},
         _FLAML + "extra_tree binary #3 (max_leaves, entropy dropped)"),
        ("flaml_multi1", {"n_estimators": 1074, "max_features": 0.601, "min_samples_leaf": 1},
         _FLAML + "extra_tree multiclass #1 (trees clipped to 500; max_leaves dropped)"),
        ("flaml_multi2", {"n_estimators": 833, "max_features": 0.055, "min_samples_leaf": 1},
         _FLAML + "extra_tree multiclass #2 (trees clipped to 500; max_leaves dropped)"),
    ],
    "linear": [
        ("sklearn", {"C": 1.0, "penalty": "l2", "max_iter": 100, "tol": 0.0001},
         "scikit-learn LogisticRegression defaults (= FLAML LRL2's start)"),
        ("flaml_l1", {"C": 1.0, "penalty": "l1"}, "FLAML LRL1's start"),
        *[(f"{penalty}_C{c:g}", {"C": c, "penalty": penalty}, f"grid: {penalty}, C={c:g}")
          for penalty in ("l2", "l1") for c in (0.01, 0.1, 10.0, 100.0)],
        *[(f"elasticnet_C{c:g}", {"C": c, "penalty": "elasticnet", "l1_ratio": 0.5},
           f"grid: elasticnet 0.5, C={c:g}") for c in (0.1, 1.0, 10.0)],
    ],
    "lightgbm": [
        ("lgbm_lib", {"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
                      "subsample": 1.0, "colsample_bytree": 1.0, "reg_alpha": 0.0, "reg_lambda": 0.0},
         "LightGBM's own defaults"),
        ("ag_default", {"num_boost_round": 10000, "learning_rate": 0.05},
         "AutoGluon GBM default (early stopping)"),
        ("ag_xt", {"num_boost_round": 10000, "learning_rate": 0.05, "extra_trees": True},
         "AutoGluon GBM XT"),
        ("ag_large", {"num_boost_round": 10000, "learning_rate": 0.03, "num_leaves": 128,
                      "feature_fraction": 0.9, "min_data_in_leaf": 3}, "AutoGluon GBMLarge"),
        ("ag_r131", {"num_boost_round": 10000, "extra_trees": False, "feature_fraction": 0.70,
                     "learning_rate": 0.012, "min_data_in_leaf": 14, "num_leaves": 53}, _AG_ZS + "GBM_r131"),
        ("ag_r191", {"num_boost_round": 10000, "extra_trees": True, "feature_fraction": 0.90,
                     "learning_rate": 0.051, "min_data_in_leaf": 18, "num_leaves": 167}, _AG_ZS + "GBM_r191"),
        ("ag_r15", {"num_boost_round": 10000, "extra_trees": False, "feature_fraction": 0.74,
                    "learning_rate": 0.0186, "min_data_in_leaf": 6, "num_leaves": 22}, _AG_ZS + "GBM_r15"),
        ("ag_r94", {"num_boost_round": 10000, "extra_trees": True, "feature_fraction": 0.43,
                    "learning_rate": 0.040, "min_data_in_leaf": 33, "num_leaves": 16}, _AG_ZS + "GBM_r94"),
        ("flaml_bin2", {"n_estimators": 141, "num_leaves": 139, "min_child_samples": 8,
                        "learning_rate": 0.048, "colsample_bytree": 0.53, "reg_alpha": 0.0029,
                        "reg_lambda": 0.0245},
         _FLAML + "lgbm binary #2 (log_max_bin dropped)"),
        ("flaml_multi3", {"n_estimators": 573, "num_leaves": 16, "min_child_samples": 52,
                          "learning_rate": 0.242, "colsample_bytree": 1.0, "reg_alpha": 0.034,
                          "reg_lambda": 0.039},
         _FLAML + "lgbm multiclass #3 (log_max_bin dropped)"),
        ("flaml_reg2", {"n_estimators": 1009, "num_leaves": 42, "min_child_samples": 12,
                        "learning_rate": 0.0217, "colsample_bytree": 0.74, "reg_alpha": 0.0036,
                        "reg_lambda": 12.1},
         _FLAML + "lgbm regression #2 (log_max_bin dropped)"),
    ],
    "catboost": [
        ("cat_lib", {"iterations": 1000, "learning_rate": 0.05, "depth": 6, "l2_leaf_reg": 3.0,
                     "one_hot_max_size": 2, "max_ctr_complexity": 4, "border_count": 254},
         "CatBoost's own CPU defaults (its automatic learning rate taken as 0.05)"),
        ("ag_default", {"iterations": 10000, "learning_rate": 0.05, "depth": 6},
         "AutoGluon CAT default (early stopping)"),
        ("ag_r177", {"iterations": 10000, "depth": 6, "grow_policy": "SymmetricTree", "l2_leaf_reg": 2.15,
                     "learning_rate": 0.0686, "max_ctr_complexity": 4, "one_hot_max_size": 10},
         _AG_ZS + "CAT_r177"),
        ("ag_r9", {"iterations": 10000, "depth": 8, "grow_policy": "Depthwise", "l2_leaf_reg": 2.80,
                   "learning_rate": 0.0314, "max_ctr_complexity": 2, "one_hot_max_size": 3},
         _AG_ZS + "CAT_r9"),
        ("ag_r137", {"iterations": 10000, "depth": 4, "grow_policy": "SymmetricTree", "l2_leaf_reg": 4.56,
                     "learning_rate": 0.0494, "max_ctr_complexity": 3, "one_hot_max_size": 3},
         _AG_ZS + "CAT_r137"),
        ("ag_r13", {"iterations": 10000, "depth": 8, "grow_policy": "SymmetricTree", "l2_leaf_reg": 3.33,
                    "learning_rate": 0.0173, "max_ctr_complexity": 5, "one_hot_max_size": 10},
         _AG_ZS + "CAT_r13"),
        ("ag_r50", {"iterations": 10000, "depth": 4, "grow_policy": "Depthwise", "l2_leaf_reg": 2.70,
                    "learning_rate": 0.0709, "max_ctr_complexity": 1, "one_hot_max_size": 2},
         _AG_ZS + "CAT_r50"),
        ("ag_r69", {"iterations": 10000, "depth": 5, "grow_policy": "SymmetricTree", "l2_leaf_reg": 1.05,
                    "learning_rate": 0.0503, "max_ctr_complexity": 5, "one_hot_max_size": 2},
         _AG_ZS + "CAT_r69"),
    ],
    "mlp": [
        ("sklearn", {"n_layers": 1, "width": 100, "activation": "relu", "dropout": 0.0,
                     "learning_rate": 0.001, "weight_decay": 0.0001, "batch_size": 200,
                     "max_epochs": 200, "patience": 10},
         "scikit-learn MLPClassifier defaults (its L2 alpha as weight decay)"),
        ("ag_default", {"n_layers": 4, "width": 128, "activation": "relu", "dropout": 0.1,
                        "learning_rate": 0.0003, "weight_decay": 0.000001, "batch_size": 512,
                        "max_epochs": 300, "patience": 20},
         "AutoGluon NN_TORCH default (1000 epochs clipped to 300, early stopping)"),
        ("ag_r79", {"n_layers": 4, "width": 108, "activation": "silu", "dropout": 0.10,
                    "learning_rate": 0.0027, "weight_decay": 0.000001, "batch_size": 512,
                    "max_epochs": 300, "patience": 20},
         _AG_ZS + "NN_TORCH_r79 (elu -> silu, no batch norm, weight decay clipped)"),
        ("ag_r22", {"n_layers": 4, "width": 213, "activation": "silu", "dropout": 0.12,
                    "learning_rate": 0.00105, "weight_decay": 0.000001, "batch_size": 512,
                    "max_epochs": 300, "patience": 20},
         _AG_ZS + "NN_TORCH_r22 (elu -> silu, weight decay clipped)"),
        ("wide_short", {"n_layers": 2, "width": 256, "activation": "relu", "dropout": 0.2,
                        "learning_rate": 0.003, "weight_decay": 0.0001, "batch_size": 128,
                        "max_epochs": 100, "patience": 10},
         "hand-made: a wider, faster-learning default"),
    ],
    "tabm": [
        ("package", {"arch_type": "tabm", "k": 32, "n_blocks": 3, "d_block": 512, "dropout": 0.1,
                     "learning_rate": 0.002, "weight_decay": 0.0003, "batch_size": 256,
                     "max_epochs": 100, "patience": 16},
         "the tabm package: TabM.make's sizes, its example's optimizer and patience"),
        ("package_mini", {"arch_type": "tabm-mini", "k": 32, "n_blocks": 3, "d_block": 512,
                          "dropout": 0.1, "learning_rate": 0.002, "weight_decay": 0.0003,
                          "batch_size": 256, "max_epochs": 100, "patience": 16},
         "the tabm package's sizes as TabM-mini (one shared MLP after a per-member scaling)"),
        ("k16_256", {"arch_type": "tabm", "k": 16, "n_blocks": 2, "d_block": 256, "dropout": 0.1,
                     "learning_rate": 0.002, "weight_decay": 0.0003, "batch_size": 256,
                     "max_epochs": 100, "patience": 16},
         "hand-made: between our default and the package's sizes"),
    ],
}
