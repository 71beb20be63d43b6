"""Weighted losses of a network's output, each paired with its output activation.

Every loss takes the network's prediction *after* the output activation it is
the negative log-likelihood of: ``squared_error`` with the identity,
``binary_log_loss`` with the logistic, ``log_loss`` with the softmax. For each
pair the gradient of the loss with respect to the *raw* output is the same
expression, ``s_i * (prediction_i - y_i)``, which :func:`output_gradient`
computes once for all of them (the fused softmax/cross-entropy gradient).

Every function takes ``sample_weight`` already normalised to sum to one over the
samples at hand, so that the value is the weighted mean loss of the objective.
"""

import numpy as np


def squared_error(y, prediction, sample_weight):
    """Return ``sum_i s_i * 0.5 * ||y_i - prediction_i||**2``."""
    diff = prediction - y
    return 0.5 * float(sample_weight @ np.einsum("ij,ij->i", diff, diff))


def _clipped_log(p):
    """Return ``log(p)`` with ``p`` clipped away from 0 so the loss stays finite."""
    eps = np.finfo(p.dtype).eps
    # minimum and maximum rather than np.clip, whose Python-level checks
    # cost more than the arithmetic on a batch's few probabilities.
    return np.log(np.minimum(np.maximum(p, eps), 1.0))


def binary_log_loss(y, prediction, sample_weight):
    """Return the weighted logistic loss, summed over the columns (labels).

    One column for a binary problem; one per label for multilabel targets,
    each an independent logistic output.
    """
    per_entry = y * _clipped_log(prediction) + (1 - y) * _clipped_log(1 - prediction)
    return -float(sample_weight @ per_entry.sum(axis=1))


def log_loss(y, prediction, sample_weight):
    """Return the weighted cross-entropy of one-hot ``y`` and softmax outputs."""
    # With one-hot rows, sum_j y_ij log p_ij is the log of the true class's
    # probability: one logarithm per sample instead of one per output.
    true_class = np.einsum("ij,ij->i", y, prediction)
    return -float(sample_weight @ _clipped_log(true_class))


LOSSES = {
    "squared_error": squared_error,
    "binary_log_loss": binary_log_loss,
    "log_loss": log_loss,
}

#: The output activation whose canonical loss each entry of LOSSES is.
OUTPUT_ACTIVATIONS = {
    "squared_error": "identity",
    "binary_log_loss": "logistic",
    "log_loss": "softmax",
}


def output_gradient(y, prediction, sample_weight, out):
    """Write the gradient of the loss with respect to the raw output into ``out``.

    ``prediction`` is the output *after* its activation; for each loss of
    :data:`LOSSES` with its canonical output activation the gradient is
    ``s_i * (prediction_i - y_i)``.
    """
    np.subtract(prediction, y, out=out)
    out *= sample_weight[:, np.newaxis]
    return out
