"""Tables as analysts export them: what is set right before the schema is read, each with
a notice (`notices`), never in silence.

- `without_written_index`: the unnamed first column that `DataFrame.to_csv` writes (the
  row index: on a shuffled or filtered frame, numbers a model would take for a feature).
- `tidy_labels`: target labels that differ from another only in surrounding spaces or in
  case (' yes', 'Yes', 'yes'), which would otherwise be separate classes.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from automl.data.notices import Notify

# How the index column's empty header reads: pyarrow keeps it empty, pandas names it so
WRITTEN_INDEX_NAMES = ("", "Unnamed: 0")


def without_written_index(frame: pd.DataFrame, where: str, notify: Notify) -> pd.DataFrame:
    """`frame` less its first column where that has no name and a distinct whole number on
    every row."""
    if frame.shape[1] < 2 or frame.columns[0] not in WRITTEN_INDEX_NAMES:
        return frame
    first = frame.iloc[:, 0]
    if not pd.api.types.is_integer_dtype(first) or first.isna().any() or not first.is_unique:
        return frame
    notify(f"{where}: left out its first column, which has no name and a distinct whole number "
           "on every row: the row index DataFrame.to_csv writes (name the column to keep it)")
    return frame.iloc[:, 1:]


def tidy_labels(frame: pd.DataFrame, target: str, notify: Notify) -> pd.DataFrame:
    """`frame` with each text label of `target` that differs from another only in
    surrounding spaces or case written as the most frequent of them, without the spaces.
    Labels that no other label matches stay as they are (' >50K' alone keeps its space)."""
    if target not in frame.columns or pd.api.types.is_numeric_dtype(frame[target]):
        return frame
    labels = frame[target]
    counts = labels[labels.map(lambda value: isinstance(value, str))].value_counts()
    spellings: dict[str, list[str]] = defaultdict(list)
    for label in counts.index:  # most frequent first
        spellings[label.strip().casefold()].append(label)
    renamed = {label: group[0].strip() for group in spellings.values() if len(group) > 1
               for label in group if label != group[0].strip()}
    if not renamed:
        return frame
    shown = ", ".join(f"{old!r} as {new!r}" for old, new in list(renamed.items())[:6])
    notify(f"target {target!r}: read {len(renamed)} label(s) that differ from another only in "
           f"surrounding spaces or case as one class: {shown}"
           + (" ..." if len(renamed) > 6 else "") + " (clean the column to keep them apart)")
    frame = frame.copy()
    frame[target] = labels.map(lambda value: renamed.get(value, value)
                               if isinstance(value, str) else value)
    return frame
