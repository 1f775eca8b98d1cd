"""The report's importance table shows the run's model's mean absolute contribution per
column beside permutation importance, and an API explanation of the same run adds up."""

from __future__ import annotations

import re

import numpy as np

from automl.report.importance import mean_contributions
from automl.report.write import report_run_dir
from automl.serving.explain import load_explainer
from tests.unit.report.test_report import hand_made_run
from tests.unit.serving.test_predict_checks import table_with_codes


def test_the_importance_table_has_the_mean_contribution_beside_the_score_lost(tmp_path):
    run_dir = hand_made_run(tmp_path / "run")
    html = report_run_dir(run_dir).read_text()
    assert "ensemble: mean |contribution|" in html
    assert "Mean |contribution| (ensemble)" in html and "No mean contributions" not in html
    header = re.search(r"<thead>(.*?)</thead>", html[html.index('id="importance"'):]).group(1)
    cells = re.findall(r"<th[^>]*>(.*?)</th>", header)
    assert cells[:4] == ["column", "ensemble: roc_auc lost", "±", "ensemble: mean |contribution|"]
    # the run folder's explainer reads the scored rows as its background, and adds up
    explainer = load_explainer(run_dir)
    assert explainer.background is not None and len(explainer.background) > 0
    rows = table_with_codes().drop(columns="y").head(20)
    frame = explainer.explain(rows).frame()
    np.testing.assert_allclose(frame["base"] + frame[explainer.explain(rows).columns].sum(axis=1),
                               explainer.predictor.predict_raw(rows)[:, 1], atol=1e-4)


def test_mean_contributions_take_as_many_rows_as_fit_the_time():
    import pandas as pd

    X = pd.DataFrame({"a": np.arange(300.0), "b": np.ones(300)})
    result = mean_contributions("m", lambda rows: rows.to_numpy() * [1.0, -2.0], X, seconds=10)
    assert result.rows == 300 and result.columns == ["a", "b"]
    assert result.mean_abs[1] == 2.0
