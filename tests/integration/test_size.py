"""A large table fits with the default pipeline: its trials learn from a sample of the
rows, the families' all-rows portfolio and its best are fitted on all of them, and the
ensemble chooses among both.
A 200,000-row version of the 1M-row size check (studies/big_table.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from automl import AutoML
from automl.search.sampled import ALL_ROWS_SUFFIX
from studies.big_table import big_table

ROWS = 200_000


@pytest.mark.slow
def test_a_200k_row_table_is_searched_on_a_sample_and_its_best_fitted_on_all_rows(tmp_path):
    frame = big_table(ROWS, seed=0)
    model = AutoML(time_budget="60s", out=tmp_path, verbosity=0).fit(frame, target="y")
    board = pd.read_csv(Path(model.run_dir_) / "leaderboard.csv")
    trials = board[(board["family"] != "ensemble") & (board["status"] == "ok")]
    on_all_rows = trials["trial"].str.endswith(ALL_ROWS_SUFFIX)
    train_rows = ROWS - 20_000  # the validation part: 20%, at most max_valid_rows (20,000)
    assert (trials.loc[~on_all_rows, "rows"] == 20_000).all(), trials  # sample_rows
    assert on_all_rows.any() and (trials.loc[on_all_rows, "rows"] == train_rows).all(), trials
    # the all-rows portfolio's first entry (search/lightgbm.yaml) is fitted before the rest
    assert "lightgbm-rows1" + ALL_ROWS_SUFFIX in set(trials["trial"]), trials
    ensemble = board.loc[board["family"] == "ensemble", "score"].item()
    assert ensemble >= trials["score"].max()  # on the validation part
    assert set(model.predict(frame.head(5).drop(columns="y"))) <= {"yes", "no"}
