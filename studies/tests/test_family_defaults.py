"""The family-defaults table: every family's default config under the bench protocol."""

from __future__ import annotations

import math

from automl.bench.protocol import read_manifest
from automl.models.registry import family_keys, import_path
from studies.family_defaults import default_scores, main


def package_families() -> list[str]:
    """The registered families but the test plugins (tests/plugins/) that other tests of the
    session register on purpose, one of which fails by design: these tests run after them."""
    return [key for key in family_keys() if not import_path(key).startswith("tests.")]


def test_every_family_scores_its_default_on_a_real_table(shared_data):
    families = package_families()
    scores = default_scores(read_manifest(shared_data)["credit_g"], families)
    assert set(scores) == set(families)
    for key, (auc, seconds) in scores.items():
        assert 0.6 < auc <= 1.0 and math.isfinite(seconds) and seconds > 0, (key, auc, seconds)


def test_the_command_writes_a_markdown_table(shared_data, tmp_path, capsys):
    out = tmp_path / "defaults.md"
    assert main(["--data", str(shared_data), "--datasets", "credit_g",
                 "--families", "xgboost,linear", "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "| dataset | metric | xgboost | linear |"
    assert lines[2].startswith("| credit_g | roc_auc | 0.")
