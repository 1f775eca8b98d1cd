"""The family-defaults table: every family's default config under the bench protocol."""

from __future__ import annotations

import math

from automl.bench.protocol import read_manifest
from automl.models.registry import family_keys
from studies.family_defaults import default_scores, main


def test_every_family_scores_its_default_on_a_real_table(shared_data):
    scores = default_scores(read_manifest(shared_data)["credit_g"], family_keys())
    assert set(scores) == set(family_keys())
    for key, (auc, seconds) in scores.items():
        assert 0.6 < auc <= 1.0 and math.isfinite(seconds) and seconds > 0, (key, auc, seconds)


def test_the_command_writes_a_markdown_table(shared_data, tmp_path, capsys):
    out = tmp_path / "defaults.md"
    assert main(["--data", str(shared_data), "--datasets", "credit_g",
                 "--families", "xgboost,linear", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "| dataset | metric | xgboost | linear |"
    assert lines[2].startswith("| credit_g | roc_auc | 0.")
