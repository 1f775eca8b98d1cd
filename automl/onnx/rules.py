"""A shallow decision tree as readable rules: plain text, a Python function, a SQL CASE.

The tree is fitted on the `trees` branch (categoricals as ordinal codes, numbers as they
are, missing left to the tree), so every split reads back in the table's own terms: a
category code threshold becomes a set of category names, a number stays a number. A
value the tree never saw (a missing value, an unseen category) goes where sklearn sends
a missing value at that node (`missing_go_to_left`), in all three forms alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.preprocess.branches import Branch

LEAF = -1


@dataclass(frozen=True)
class Split:
    column: str
    threshold: float | None  # numeric split: value <= threshold goes left
    left_levels: tuple | None  # categorical split: these levels go left
    known_levels: tuple | None  # every level the branch knows; others count as missing
    missing_left: bool


@dataclass
class RuleSet:
    """The tree's splits and leaves in the table's terms; renders as text, Python, SQL."""

    nodes: list  # index -> Split for an inner node, or the leaf's output
    children: list[tuple[int, int]]
    target: str
    classes: list | None  # None for regression

    def text(self) -> str:
        def leaf(node: int) -> str:
            return f"then {self.target} = {self._leaf_text(node)}"

        return "\n".join(self._nested(0, 0, _describe, leaf)) + "\n"

    def _nested(self, node: int, depth: int, test, leaf) -> list[str]:
        """if / else blocks, indented by depth: `test` words a split, `leaf` a leaf."""
        pad = "    " * depth
        if self.children[node][0] == LEAF:
            return [pad + leaf(node)]
        split, (left, right) = self.nodes[node], self.children[node]
        return ([f"{pad}if {test(split)}:"] + self._nested(left, depth + 1, test, leaf)
                + [f"{pad}else:"] + self._nested(right, depth + 1, test, leaf))

    def _leaf_text(self, node: int) -> str:
        value = self.nodes[node]
        if self.classes is None:
            return f"{value:.6g}"
        best = int(np.argmax(value))
        return f"{self.classes[best]!r} (p = {value[best]:.2f})"

    def label(self, node: int):
        value = self.nodes[node]
        return float(value) if self.classes is None else self.classes[int(np.argmax(value))]

    def python(self, name: str = "predict") -> str:
        """Source of `def predict(row: dict)` returning the label (or value) for one row."""
        lines = [f"def {name}(row):",
                 '    """Rules distilled by automl; `row` maps column names to values."""',
                 "    def missing(value):",
                 "        return value is None or value != value",
                 ""]
        body = self._nested(0, 1, _python_test, lambda node: f"return {self.label(node)!r}")
        return "\n".join(lines + body) + "\n"

    def sql(self) -> str:
        """A SQL CASE expression over the table's columns (NULL is missing)."""
        return self._sql(0)

    def _sql(self, node: int) -> str:
        if self.children[node][0] == LEAF:
            return _sql_literal(self.label(node))
        split, (left, right) = self.nodes[node], self.children[node]
        return (f"CASE WHEN {_sql_test(split)} THEN {self._sql(left)} "
                f"ELSE {self._sql(right)} END")


def tree_rules(tree, branch: Branch, target: str, classes: list | None) -> RuleSet:
    """The rules of a fitted sklearn decision tree trained on `branch`'s output."""
    columns = _branch_columns(branch)
    structure = tree.tree_
    nodes, children = [], []
    for node in range(structure.node_count):
        left, right = int(structure.children_left[node]), int(structure.children_right[node])
        children.append((left, right))
        if left == LEAF:
            value = structure.value[node][0]
            nodes.append(value if classes is not None else float(value[0]))
        else:
            nodes.append(_split(columns[structure.feature[node]], float(structure.threshold[node]),
                                bool(structure.missing_go_to_left[node])))
    return RuleSet(nodes, children, target, classes)


def _branch_columns(branch: Branch) -> list[tuple[str, tuple | None]]:
    """For each output column of the trees branch: (source column, levels or None)."""
    columns = []
    for name, transformer, sources in branch.transformer.transformers_:
        if name == "cat" and len(sources):  # no categories: the encoder was never fitted
            columns += [(s, tuple(levels)) for s, levels in zip(sources, transformer.categories_)]
        elif name == "num":
            columns += [(s, None) for s in sources]
    return columns


def _split(column: tuple[str, tuple | None], threshold: float, missing_left: bool) -> Split:
    name, levels = column
    if levels is None:
        return Split(name, threshold, None, None, missing_left)
    # codes 0..k-1 in the order of `levels`; code <= threshold goes left
    left = tuple(level for code, level in enumerate(levels) if code <= threshold)
    return Split(name, None, left, levels, missing_left)


def _describe(split: Split) -> str:
    missing = " (or missing)" if split.missing_left else ""
    if split.threshold is not None:
        return f"{split.column} <= {split.threshold:.6g}{missing}"
    levels = ", ".join(map(str, split.left_levels))
    return f"{split.column} in {{{levels}}}{' (or missing / unseen)' if split.missing_left else ''}"


def _python_test(split: Split) -> str:
    value = f"row.get({split.column!r})"
    if split.threshold is not None:
        known, test = f"not missing({value})", f"{value} <= {split.threshold!r}"
    else:
        known = f"{value} in {set(split.known_levels)!r}"
        test = f"{value} in {set(split.left_levels)!r}"
    return f"({test} if {known} else {split.missing_left})"


def _sql_test(split: Split) -> str:
    column = '"' + split.column.replace('"', '""') + '"'
    if split.threshold is not None:
        test, unknown = f"{column} <= {split.threshold!r}", f"{column} IS NULL"
    else:
        test = f"{column} IN ({_sql_list(split.left_levels)})"
        unknown = f"({column} IS NULL OR {column} NOT IN ({_sql_list(split.known_levels)}))"
    return f"({test} OR {unknown})" if split.missing_left else f"({test})"


def _sql_list(levels) -> str:
    return ", ".join(_sql_literal(level) for level in levels)


def _sql_literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    return repr(value.item() if isinstance(value, np.generic) else value)
