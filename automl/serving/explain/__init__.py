"""Explanations: how much each of the table's columns moved the run's model's output for
one row, away from a base value: base + sum(contributions) = the model's output.

The output explained is what `Predictor.predict_raw` gives: for regression the value; for
classification one class's probability (the positive class of a binary task; for
multiclass the predicted class, or the class asked for). Contributions are per raw column
as the user knows it: a date's parts (`when__year`, ...) are summed into `when`, and the
pieces an encoding made of a column (a one-hot's levels, a missing-value flag) into that
column.

Each member of the ensemble is explained by an exactly additive method in its own
output space (its margin, where it has one):

- lightgbm, xgboost, catboost: TreeSHAP, through the libraries' own APIs
  (`Booster.predict(pred_contrib=True)`, `Booster.predict(pred_contribs=True)`,
  `get_feature_importance(type="ShapValues")`), in margin space (log-odds, softmax logits
  or the value); the base is the model's expected margin over its training rows.
- random_forest, extra_trees: Saabas path attribution. Each split on a row's path moves
  the tree's output from the node's value to the child's; that move is credited to the
  split's column. Summed over the path it is leaf value - root value, so over the forest
  it adds up exactly to predict_proba (or the value) minus the mean root value (the
  path is the one `decision_path` gives; every tree is walked at once, in numpy).
- linear: coef x (x - reference), in margin space (log-odds, logits, or the standardised
  value), on the dense encoding's columns: exact for a linear model.
- mlp: DeepLIFT's rescale rule (Shrikumar et al., 2017) from the reference row to the row:
  through each linear layer contributions map linearly, through each activation every
  unit's contributions are scaled by (f(x) - f(x0)) / (x - x0), so they sum to the
  unit's change exactly; this gives the network's logits (or value) exactly additively.
  For linear and mlp the reference is the mean encoded row of background rows (the
  run's scored rows, where `load_explainer` finds them), else every number at its
  training mean with no missing flag and no category.
- a bagged member (k fold models): the mean of its fold models' contributions, as its
  output is the mean of theirs.

From margins to probabilities, and through the combination: each step is a map of the
outputs alone, and contributions go through it so that they still sum to the step's
change in output (the model's output for the row minus its output at the base):

- an elementwise map (the sigmoid of a binary margin, a log, an activation) scales each
  output's contributions by (f(x1) - f(x0)) / (x1 - x0): proportional, exact;
- a linear map (the ensemble's weighted mean, a stacker's linear layer, 1/T) maps them
  linearly: exact;
- a softmax (multiclass margins, temperature scaling, a stacker's logistic regression)
  gets the Jacobian integrated along the straight line from the base's logits to the
  row's (composite Gauss-Legendre): by the fundamental theorem of calculus it adds up to
  the change in probabilities, and the quadrature's small remainder is shared out in
  proportion to the contributions' sizes (its largest is `Explanation.remainder`).

For a binary margin the result is exactly the proportional rescale of the margin
contributions to (p_member - p_member_base). The ensemble's probability contributions
are the members' ones averaged by the ensemble's weights, then taken through the
temperature or the stacker the same way. This is an approximation of SHAP values in
probability space (SHAP of the probability itself is not the rescaled SHAP of the
margin), but it is exactly additive, it agrees with each member's native TreeSHAP up to
a per-row positive scale for a binary task, and it costs one pass over each member.

The modules: `flow` (contributions through maps of the outputs), `members` (each family's
method; `forest`: the Saabas walk), `rows` (one row's model-ready columns without pandas),
`explainer` (`Explainer`: the members combined), `explanation` (`Explanation`: the result,
per raw column), `run_folder` (`load_explainer`, `explainer_for`).
"""

from automl.serving.explain.explainer import Explainer
from automl.serving.explain.explanation import Explanation, class_code
from automl.serving.explain.members import SMALL_BATCH
from automl.serving.explain.run_folder import BACKGROUND_ROWS, background_rows, explainer_for, load_explainer

__all__ = ["BACKGROUND_ROWS", "SMALL_BATCH", "Explainer", "Explanation", "background_rows", "class_code",
           "explainer_for", "load_explainer"]
