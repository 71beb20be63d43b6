"""The training scores of the fit records, in plain NumPy.

The records of every fit hold the estimator's score on its training data
(R² or accuracy). scikit-learn's metric functions validate their inputs
again on every call, which on small data costs more than the fit; the
inputs here are the fit's own validated arrays, so the formulas are applied
directly. They agree with ``sklearn.metrics.r2_score`` (uniform average over
targets, a constant target scoring 1 when predicted exactly and 0
otherwise) and ``accuracy_score`` (exact match of every label of a row).
"""

import numpy as np


def r2(y, prediction, sample_weight=None):
    """The coefficient of determination R², averaged over targets.

    For at least two samples; ``y`` and ``prediction`` of the same shape,
    ``(n,)`` or ``(n, k)``.
    """
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    prediction = np.asarray(prediction, dtype=np.float64).reshape(y.shape)
    weight = (
        np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
    )
    # One temporary of y's size, squared in place.
    residual = y - prediction
    residual *= residual
    numerator = weight @ residual
    residual = np.subtract(y, (weight @ y) / weight.sum(), out=residual)
    residual *= residual
    denominator = weight @ residual
    # A constant target: 1 when predicted exactly, else 0 (scikit-learn's rule).
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(
            denominator != 0, 1.0 - numerator / denominator, 1.0 * (numerator == 0)
        )
    return float(scores.mean())


def accuracy(y, prediction, sample_weight=None):
    """The (weighted) share of rows whose every label is predicted right."""
    correct = np.asarray(y) == np.asarray(prediction)
    if correct.ndim > 1:
        correct = correct.all(axis=1)
    if sample_weight is None:
        return float(correct.mean())
    weight = np.asarray(sample_weight, dtype=np.float64)
    return float(weight @ correct / weight.sum())
