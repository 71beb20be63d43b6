"""What both estimator shells share: parameters, validation and the training run.

The shells (``_linear.py``, ``_mlp.py``) validate their input and delegate the
numerics to the core (``_network``, ``_training``, ``_optimizers``,
``_least_squares``); this module holds the bookkeeping between the two that
would otherwise be written twice.
"""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from sk_weights._optimizers import AdamOptimizer, SGDOptimizer
from sk_weights._penalties import PENALTY_L1_RATIOS, ElasticNetPenalty
from sk_weights._sklearn_compat import (
    CallbackSupportMixin,
    _check_sample_weight,
    check_is_fitted,
)
from sk_weights._validation import explained_input_errors
from sk_weights.report import weights_report

#: Parameter constraints common to every estimator of the package.
COMMON_CONSTRAINTS = {
    "penalty": [StrOptions(set(PENALTY_L1_RATIOS)), None],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "learning_rate_init": [
        StrOptions({"auto"}),
        Interval(Real, 0, None, closed="neither"),
    ],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
}

#: Mini-batch size used by ``batch_size="auto"`` (capped by the sample count).
AUTO_BATCH_SIZE = 200


class WeightsEstimatorMixin(CallbackSupportMixin, BaseEstimator):
    """Shared behaviour of the package's estimators (not a public class)."""

    def weights_report(self, feature_names=None):
        """Return the learned-weights report of this fitted estimator.

        Parameters
        ----------
        feature_names : sequence of str, optional
            Names of the input features; by default ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        WeightsReport
            Text, dict, HTML, DataFrame and plot views of the weights.
        """
        check_is_fitted(self)
        return weights_report(self, feature_names)

    def _penalty(self):
        """Return the :class:`ElasticNetPenalty` the parameters describe."""
        return ElasticNetPenalty.from_params(self.penalty, self.alpha, self.l1_ratio)

    def _batch_size(self, n_samples):
        """Return the effective mini-batch size for ``n_samples`` samples."""
        if self.batch_size == "auto":
            return min(AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _make_optimizer(self, solver, n_params, dtype, learning_rate_init):
        """Build the optimiser the ``solver`` string names."""
        if solver == "adam":
            return AdamOptimizer(
                n_params,
                dtype,
                learning_rate_init,
                beta_1=self.beta_1,
                beta_2=self.beta_2,
                epsilon=self.epsilon,
            )
        return SGDOptimizer(
            n_params,
            dtype,
            learning_rate_init,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            power_t=self.power_t,
        )

    def _restore_optimizer(self, optimizer):
        """Load the optimiser state kept from the previous call, if compatible."""
        state = getattr(self, "_optimizer_state", None)
        if state is not None and state.get("solver") == self._solver_name():
            optimizer.load_state(state)
        return optimizer

    def _store_training(self, result, optimizer, continuing, incremental):
        """Record a finished stochastic run in the fitted attributes.

        ``continuing``: the run went on from fitted weights (warm start or a
        later partial_fit), so the curves are extended; ``incremental``: it was
        a partial_fit epoch, so the epoch count is cumulative too.
        """
        losses = [record["loss"] for record in result.history]
        scores = [
            record["validation_score"]
            for record in result.history
            if "validation_score" in record
        ]
        previous = continuing
        self.loss_curve_ = (
            list(getattr(self, "loss_curve_", [])) if previous else []
        ) + losses
        if scores or (previous and getattr(self, "validation_scores_", None)):
            self.validation_scores_ = (
                list(getattr(self, "validation_scores_", None) or [])
                if previous
                else []
            ) + scores
            self.best_validation_score_ = max(self.validation_scores_)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self.best_loss_ = float(min(self.loss_curve_)) if self.loss_curve_ else None
        self.n_iter_ = (self.n_iter_ if continuing and incremental else 0) + (
            result.n_epochs
        )
        self.t_ = int(result.n_samples_seen)
        self._optimizer_state = {
            "solver": self._solver_name(),
            **{
                key: (value.copy() if isinstance(value, np.ndarray) else value)
                for key, value in optimizer.state().items()
            },
        }

    def _warn_not_converged(self, converged, what="iterations"):
        """Emit scikit-learn's ConvergenceWarning when max_iter was reached."""
        if not converged:
            warnings.warn(
                f"{type(self).__name__}: the maximum number of {what} "
                f"(max_iter={self.max_iter}) was reached and the optimisation "
                "has not converged yet. Increase max_iter, scale the data (e.g. "
                "with StandardScaler) or raise tol.",
                ConvergenceWarning,
                stacklevel=3,
            )


def keeps_state_on_failure(method):
    """Decorate ``fit`` / ``partial_fit`` so that a failed call changes nothing.

    Validation records ``n_features_in_`` before training starts; if training
    then fails (divergence, a bad label), every attribute is put back as it
    was, so the estimator stays consistent and usable.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(vars(self))
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise

    return wrapper


def make_rng(random_state):
    """Return one ``numpy.random.Generator`` seeded from ``random_state``.

    Shuffling, initialisation and dropout all draw from it, so the same
    ``random_state`` gives bit-identical weights.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def check_sample_weight(sample_weight, X, dtype):
    """Validate ``sample_weight``: finite, non-negative, not all zero."""
    with explained_input_errors():
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=dtype, ensure_non_negative=True
        )
    if not np.any(sample_weight > 0):
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive "
            "weight for the model to learn anything."
        )
    return sample_weight


def weighted_feature_std(X, sample_weight):
    """Weighted standard deviation of each column of a dense or sparse X."""
    weights = sample_weight / sample_weight.sum()
    if sp.issparse(X):
        mean = np.asarray(X.T @ weights).ravel()
        second = np.asarray(X.multiply(X).T @ weights).ravel()
    else:
        mean = weights @ X
        second = weights @ (X * X)
    return np.sqrt(np.maximum(second - mean * mean, 0)).astype(np.float64)


def silence_overflow():
    """Silence NumPy's floating-point warnings during training.

    A non-finite loss or weight is caught by the divergence guard, whose error
    says what happened and what to do; NumPy's own warnings on the way would
    only add noise.
    """
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
