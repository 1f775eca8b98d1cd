"""Temperature scaling of an ensemble's class probabilities (Guo et al., 2017).

A blend of many models, each of them averaged over fold models, is less sure of itself
than its accuracy warrants, and log loss charges for that. One number, the temperature
T, sharpens (T < 1) or softens (T > 1) every row's probabilities alike:
p_k ** (1/T), normalised. It moves no row's most likely class, so accuracy stays as it
is, and with one parameter fitted on thousands of scored rows it has little to overfit.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from automl.metrics import LOG_LOSS_FLOOR, METRICS

# T is searched in [1/20, 20] on a log scale; a blend that needs more is not a blend of
# probabilities
LOG_T_BOUND = float(np.log(20.0))


def temper(proba: np.ndarray, temperature: float) -> np.ndarray:
    """`proba` (n, k) at `temperature`: each row's p ** (1/T), normalised."""
    if temperature == 1.0:
        return proba
    logits = np.log(np.clip(proba, LOG_LOSS_FLOOR, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    sharp = np.exp(logits)
    return sharp / sharp.sum(axis=1, keepdims=True)


def fit_temperature(y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The temperature that minimises the log loss of `proba` (n, k) on labels `y` (rows
    weighted by `weight`)."""
    def log_loss(log_t: float) -> float:  # the metric's batch form, on a stack of one
        return -float(METRICS["log_loss"].scores(y, temper(proba, np.exp(log_t))[None], weight)[0])

    best = minimize_scalar(log_loss, bounds=(-LOG_T_BOUND, LOG_T_BOUND), method="bounded",
                           options={"xatol": 1e-4})
    # T = 1 unless the fitted one is better: the optimiser's end point is not always
    return float(np.exp(best.x)) if best.fun < log_loss(0.0) else 1.0
