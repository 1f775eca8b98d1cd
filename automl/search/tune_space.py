"""Translate our search spaces (automl/space.py) into Ray Tune / Optuna terms.

One conditional space over family x hyperparameters. A config is flat:
{"family": "xgboost", "xgboost__max_depth": 6, ...}; a trial reads only its family's keys.
Optuna gets it define-by-run (truly conditional); random and Nevergrad get the flat
union, where another family's keys are simply ignored.
"""

from __future__ import annotations

from ray import tune

from automl.space import ChoiceParam, Space

SEP = "__"


def flat_name(family: str, param: str) -> str:
    return f"{family}{SEP}{param}"


def family_params(config: dict, family: str, default: dict) -> dict:
    """The params a trial of `family` uses: its default, overridden by the sampled values."""
    prefix = family + SEP
    sampled = {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}
    return {**default, **sampled}


def _tune_domain(param):
    if isinstance(param, ChoiceParam):
        return tune.choice(param.values)
    if param.type == "int":
        # tune.randint's upper bound is exclusive; ours are inclusive.
        sampler = tune.lograndint if param.log else tune.randint
        return sampler(int(param.low), int(param.high) + 1)
    if param.low == param.high:
        return param.low
    return (tune.loguniform if param.log else tune.uniform)(param.low, param.high)


def tune_space(spaces: dict[str, Space]) -> dict:
    """The flat union as a Ray Tune param_space (random search, Nevergrad)."""
    space = {"family": tune.choice(list(spaces))}
    for family, fam_space in spaces.items():
        for name, param in fam_space.params.items():
            space[flat_name(family, name)] = _tune_domain(param)
    return space


class DefineByRun:
    """Optuna define-by-run: pick the family, then only that family's parameters.

    A class, not a closure, because Tune pickles the searcher into its experiment state.
    """

    def __init__(self, spaces: dict[str, Space]):
        self.spaces = spaces

    def __call__(self, trial) -> None:
        family = trial.suggest_categorical("family", list(self.spaces))
        for name, param in self.spaces[family].params.items():
            _suggest(trial, flat_name(family, name), param)


def _suggest(trial, name: str, param) -> None:
    if isinstance(param, ChoiceParam):
        trial.suggest_categorical(name, param.values)
    elif param.type == "int":
        trial.suggest_int(name, int(param.low), int(param.high), log=param.log)
    else:
        trial.suggest_float(name, param.low, param.high, log=param.log)
