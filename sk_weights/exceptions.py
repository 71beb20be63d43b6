"""The errors and warnings the estimators raise about their training."""

#: A training loss above the constant model's by more than this share of it is
#: a poor fit: the margin absorbs rounding when the optimum is the constant
#: model itself (a penalty strong enough to zero every weight).
POOR_FIT_MARGIN = 1e-3

#: And by more than this much: a constant target has a constant model of loss
#: 0, which a trained model approaches but need not reach (a squared loss of
#: 0.01 is a root mean square error of 0.14, within a stochastic solver's reach
#: of a target of no spread).
POOR_FIT_FLOOR = 1e-2


def is_poor_fit(train_loss, baseline_loss):
    """Whether ``train_loss`` is worse than the constant model's, beyond rounding.

    The one rule behind :class:`PoorFitWarning` and the report's verdict.
    """
    return train_loss > baseline_loss * (1 + POOR_FIT_MARGIN) + POOR_FIT_FLOOR


class DivergenceError(ValueError):
    """Training produced a non-finite or exploding loss or weight.

    A ``ValueError``, so code that catches bad-input errors catches it too.
    Its message says at which epoch training failed, what happened and what
    to do (lower ``learning_rate_init``, standardise ``X``); the estimator
    that raises it keeps every attribute it had before the failing call.

    See Also
    --------
    PoorFitWarning : Training ended, but worse than a constant model.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_weights import DivergenceError, WeightedLinearRegressor
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = X.sum(axis=1)
    >>> model = WeightedLinearRegressor(solver="sgd", learning_rate_init=10.0)
    >>> try:
    ...     model.fit(X, y)
    ... except DivergenceError as error:
    ...     print(type(error).__name__, "StandardScaler" in str(error))
    DivergenceError True
    """


class PoorFitWarning(UserWarning):
    """The trained model fits its training data worse than a constant model.

    The optimum of the penalised objective is never worse on the training
    data than the constant model (the weighted mean of ``y``, or the weighted
    class priors): it could always set every weight to zero. A model that ends
    worse, ``train_loss_ > baseline_loss_``, has not been trained, whatever
    ``stop_reason_`` says. ``fit`` emits this warning with the evidence, the
    likely cause (unscaled features, the learning rate, too few epochs) and
    the cure.

    See Also
    --------
    DivergenceError : Training failed outright.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_wine
    >>> from sk_weights import MLPWeightsClassifier, PoorFitWarning
    >>> X, y = load_wine(return_X_y=True)  # unscaled: one feature is ~1000
    >>> model = MLPWeightsClassifier(hidden_layer_sizes=(32,), random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = model.fit(X, y)
    >>> any(issubclass(w.category, PoorFitWarning) for w in caught)
    True
    >>> bool(model.train_loss_ > model.baseline_loss_)
    True
    """
