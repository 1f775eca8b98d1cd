"""The pipeline graph is validated completely before anything trains."""

from __future__ import annotations

import pytest
import yaml

from automl.errors import GraphError
from automl.graph.compose import with_compact, with_ensemble_options
from automl.graph.load import dump_graph, execution_order, load_graph, parse_graph, preset_names

GOOD = """
name: t
nodes:
  - {name: data, kind: ingest}
  - {name: trees, kind: preprocess, inputs: [data], params: {branch: trees}}
  - {name: search, kind: search, inputs: [trees], params: {families: [xgboost]}}
"""


def _with(node_yaml: str) -> str:
    return GOOD + node_yaml


def test_presets_validate():
    assert {"default", "fast"} <= set(preset_names())
    for name in preset_names():
        spec = load_graph(name)
        assert execution_order(spec)[0] == "data"


def test_order_follows_inputs():
    assert execution_order(parse_graph(GOOD)) == ["data", "trees", "search"]


def test_yaml_round_trip():
    spec = parse_graph(GOOD)
    again = parse_graph(dump_graph(spec))
    assert again == spec
    assert yaml.safe_load(dump_graph(again)) == yaml.safe_load(dump_graph(spec))


def test_malformed_yaml_names_the_line():
    with pytest.raises(GraphError, match=r"<graph> line 3, column \d+: not valid YAML"):
        parse_graph("nodes:\n  - name: a\n  kind: [oops\n")


def test_not_a_mapping():
    with pytest.raises(GraphError, match="a mapping with a non-empty 'nodes' list"):
        parse_graph("- just\n- a list\n")


def test_unknown_kind_lists_valid_ones():
    with pytest.raises(GraphError, match=r"node 'x': unknown kind 'serch' \(did you mean 'search'\?\); "
                                         r"valid kinds are 'compress', 'distill'"):
        parse_graph(_with("  - {name: x, kind: serch, inputs: [trees]}\n"))


def test_unknown_param_lists_allowed_ones():
    text = GOOD.replace("{families: [xgboost]}", "{families: [xgboost], budget_shar: 0.5}")
    with pytest.raises(GraphError, match=r"node 'search': unknown param 'budget_shar' "
                                         r"\(did you mean 'budget_share'\?\); allowed: families"):
        parse_graph(text)


def test_bad_param_value_says_what_is_allowed():
    text = GOOD.replace("{families: [xgboost]}", "{families: [xgboost], budget_share: 2}")
    with pytest.raises(GraphError, match=r"^<graph>: node 'search': param 'budget_share' = 2 is "
                                         r"out of range; allowed: a number in \(0, 1\] \(share of "
                                         r"the run's time budget\); give a value in that range, or "
                                         r"leave it out for the default \(0.7\)$"):
        parse_graph(text)


def test_missing_required_param():
    with pytest.raises(GraphError, match="node 'p': param 'branch' is required"):
        parse_graph(_with("  - {name: p, kind: preprocess, inputs: [data], params: {}}\n"))


def test_missing_input_suggests_a_name():
    text = GOOD.replace("inputs: [trees]", "inputs: [tress]")
    with pytest.raises(GraphError, match=r"node 'search': input 'tress' is not a node of this graph "
                                         r"\(did you mean 'trees'\?\)"):
        parse_graph(text)


def test_duplicate_names():
    with pytest.raises(GraphError, match="two nodes are named 'trees'"):
        parse_graph(_with("  - {name: trees, kind: preprocess, inputs: [data], params: {branch: dense}}\n"))


def test_wrong_input_kind():
    with pytest.raises(GraphError, match="a search node cannot read 'data' \\(a ingest node\\)"):
        parse_graph(GOOD.replace("inputs: [trees]", "inputs: [data]"))


def test_nodes_listed_out_of_order_are_sorted():
    text = """
nodes:
  - {name: s1, kind: search, inputs: [p], params: {families: [xgboost]}}
  - {name: data, kind: ingest}
  - {name: p, kind: preprocess, inputs: [data], params: {branch: trees}}
"""
    assert execution_order(parse_graph(text)) == ["data", "p", "s1"]


def test_report_cannot_read_a_report():
    looped = """
nodes:
  - {name: data, kind: ingest}
  - {name: r1, kind: report, inputs: [data, r2]}
  - {name: r2, kind: report, inputs: [r1]}
"""
    with pytest.raises(GraphError, match=r"node 'r1': a report node cannot read 'r2'"):
        parse_graph(looped)


def test_cycle_through_allowed_kinds_is_named():
    from automl.graph.load import execution_order as order
    from automl.graph.spec import GraphSpec

    spec = GraphSpec.model_validate({"nodes": [
        {"name": "data", "kind": "ingest"},
        {"name": "a", "kind": "preprocess", "inputs": ["b"], "params": {"branch": "trees"}},
        {"name": "b", "kind": "preprocess", "inputs": ["a"], "params": {"branch": "trees"}},
    ]})
    with pytest.raises(GraphError, match=r"the graph has a cycle: (a -> b -> a|b -> a -> b)"):
        order(spec)


def test_unknown_family():
    with pytest.raises(GraphError, match=r"unknown family 'xgbost' \(did you mean 'xgboost'\?\)"):
        parse_graph(GOOD.replace("[xgboost]", "[xgbost]"))


def test_every_problem_reported_at_once():
    text = GOOD.replace("inputs: [trees]", "inputs: [nope]")
    text = text.replace("kind: ingest", "kind: ingest, colour: red")
    with pytest.raises(GraphError, match=r"2 problem\(s\)") as err:
        parse_graph(text)
    assert "unknown field 'colour'" in str(err.value) and "'nope'" in str(err.value)


def test_missing_preset_lists_presets():
    with pytest.raises(GraphError, match=r"no pipeline preset 'defualt' \(did you mean 'default'\?\)"):
        load_graph("defualt")


COMPACT = GOOD + """  - {name: dense, kind: preprocess, inputs: [data], params: {branch: dense}}
  - {name: ensemble, kind: ensemble, inputs: [search]}
  - {name: distill, kind: distill, inputs: [ensemble, data, trees]}
"""


def test_a_stage_gets_only_its_declared_inputs_so_a_missing_one_fails_validation():
    # distill reads the rows (an ingest node) and the trees branch besides its teacher
    with pytest.raises(GraphError, match=r"node 'distill' \(distill\) needs an input of kind "
                                         r"ingest \(data\), has 0; add 'data' to its inputs"):
        parse_graph(COMPACT.replace("inputs: [ensemble, data, trees]", "inputs: [ensemble, trees]"))
    with pytest.raises(GraphError, match=r"needs an input of kind preprocess \(branch: trees\) "
                                         r"\(trees\), has 0; add 'trees' to its inputs"):
        parse_graph(COMPACT.replace("inputs: [ensemble, data, trees]", "inputs: [ensemble, data]"))
    assert parse_graph(COMPACT).node("distill").inputs == ["ensemble", "data", "trees"]


def test_an_input_of_the_wrong_branch_is_named():
    wrong = COMPACT.replace("inputs: [ensemble, data, trees]", "inputs: [ensemble, data, dense]")
    with pytest.raises(GraphError, match=r"a distill node cannot read 'dense' \(a preprocess "
                                         r"\(branch: dense\) node\); it reads ensemble or search"):
        parse_graph(wrong)


def test_a_refit_needs_the_branches_it_trains_on():
    refit = COMPACT.replace("inputs: [search]}", "inputs: [search], params: {refit: true}}")
    with pytest.raises(GraphError, match=r"node 'ensemble' \(ensemble\) needs an input of kind "
                                         r"preprocess \(branches\) \(because refit is true\)"):
        parse_graph(refit)
    parse_graph(refit.replace("inputs: [search], params", "inputs: [search, trees], params"))


def test_validate_on_the_command_line_names_the_input_to_add(tmp_path, capsys):
    from automl.cli import main

    path = tmp_path / "g.yaml"
    path.write_text(COMPACT.replace("inputs: [ensemble, data, trees]", "inputs: [ensemble, trees]"))
    assert main(["validate", str(path)]) == 2
    assert "add 'data' to its inputs" in capsys.readouterr().err


@pytest.mark.parametrize("preset", ["default", "fast", "best"])
def test_compact_adds_the_compact_presets_nodes_and_leaves_them_their_share(preset):
    from automl.graph.compose import with_compact

    spec = with_compact(load_graph(preset))
    compact = load_graph("compact")
    assert [n.kind for n in spec.nodes[-3:]] == ["distill", "compress", "export"]
    distill = spec.by_kind("distill")[0]
    assert distill.inputs == [spec.by_kind("ensemble")[0].name, "data", "trees"]
    assert distill.params == compact.by_kind("distill")[0].params
    before = sum(getattr(n.params, "budget_share", 0) or 0 for n in spec.nodes[:-3])
    assert before == pytest.approx(1 - distill.params.budget_share, abs=1e-3)


def test_compact_adds_a_trees_branch_where_there_is_none_and_keeps_a_compact_graph():
    from automl.graph.compose import with_compact

    dense_only = parse_graph("""
name: d
nodes:
  - {name: data, kind: ingest}
  - {name: dense, kind: preprocess, inputs: [data], params: {branch: dense}}
  - {name: search, kind: search, inputs: [dense], params: {families: [linear], budget_share: 0.5}}
""")
    spec = with_compact(dense_only)
    assert spec.node("trees").params.branch == "trees"
    assert spec.by_kind("distill")[0].inputs == ["search", "data", "trees"]
    assert spec.node("search").params.budget_share == 0.5  # room enough: left as it is
    assert with_compact(load_graph("compact")) == load_graph("compact")
    with pytest.raises(GraphError, match="--compact distils an ensemble or a search"):
        with_compact(parse_graph("nodes:\n  - {name: data, kind: ingest}\n"))


OLD_DEFAULT = """
name: old
nodes:
  - {name: data, kind: ingest}
  - {name: trees, kind: preprocess, inputs: [data], params: {branch: trees}}
  - {name: dense, kind: preprocess, inputs: [data], params: {branch: dense}}
  - {name: search, kind: search, inputs: [trees, dense], params: {families: [xgboost, linear, mlp]}}
  - {name: ensemble, kind: ensemble, inputs: [search, trees, dense], params: {refit: true}}
"""


def test_a_graph_written_with_a_dense_node_still_validates_and_the_node_fits_the_trees_branch():
    """The dense branch is gone (linear reads the trees branch through DenseCode); graphs
    that name it still run, their dense node fitting the trees branch."""
    from automl.data.split import table_dataset
    from automl.preprocess.stage import branch_data
    from tests.conftest import make_table

    spec = parse_graph(OLD_DEFAULT)
    dense = spec.node("dense").params
    assert dense.branch == "dense" and dense.fitted_branch == "trees"
    data = branch_data(table_dataset(make_table(n=100), "y"), dense)
    assert data.branch.name == "trees" and data.branch.categorical
    # a linear model reading only such a node is a valid graph too
    parse_graph(OLD_DEFAULT.replace("inputs: [trees, dense], params: {families: [xgboost, linear, mlp]}",
                                    "inputs: [dense], params: {families: [linear]}"))


def test_a_param_of_the_dense_branch_is_refused_saying_to_remove_it():
    old = OLD_DEFAULT.replace("params: {branch: dense}", "params: {branch: dense, clip_numbers: true}")
    with pytest.raises(GraphError, match=r"^<graph>: node 'dense': param 'clip_numbers' went with the "
                                         r"dense branch \(linear and mlp now encode the trees "
                                         r"branch themselves\); remove it$"):
        parse_graph(old)


def test_ensemble_options_set_every_ensemble_node_and_its_branch_inputs():
    spec = load_graph("fast")  # its ensemble reads the search alone
    assert spec.node("ensemble").inputs == ["search"]
    lean = with_ensemble_options(spec, refit_full=True, max_size_bytes=50 * 2**20,
                                 max_latency_ms=None)
    node = lean.node("ensemble")
    assert node.params.refit_full and node.params.max_size_bytes == 50 * 2**20
    assert node.params.max_latency_ms is None  # None: as the graph says
    assert node.inputs == ["search", "trees"]  # what a refit and a cost cap read
    assert with_ensemble_options(spec, refit_full=None) is spec


def test_the_default_refits_full_and_a_compact_teacher_keeps_its_fold_models():
    default = load_graph("default")
    assert default.node("ensemble").params.refit_full
    assert not with_compact(default).node("ensemble").params.refit_full
