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
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from sk_weights._losses import LOSSES
from sk_weights._optimizers import AdamOptimizer, SGDOptimizer
from sk_weights._penalties import PENALTY_L1_RATIOS, ElasticNetPenalty
from sk_weights._sklearn_compat import (
    CallbackSupportMixin,
    _check_sample_weight,
    check_is_fitted,
)
from sk_weights._validation import explained_input_errors
from sk_weights.exceptions import PoorFitWarning, is_poor_fit
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

#: Rows per block when statistics of dense X are computed in float64.
_STATISTICS_BLOCK = 4096

#: Early stopping judges on the held-out part only when it holds at least
#: this many samples, counted by their weights (see ``informative_validation``).
MIN_VALIDATION_SAMPLES = 10

#: Features whose standard deviations reach outside this range are called
#: unscaled in the advice of a poor fit.
SCALED_STD_RANGE = (0.1, 10.0)


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
        n_previous = len(getattr(self, "loss_curve_", [])) if continuing else 0
        for name, key in (
            ("weight_norms_curve_", "weight_norms"),
            ("zero_fraction_curve_", "zero_fractions"),
        ):
            rows = np.array([record[key] for record in result.history], np.float64)
            previous = getattr(self, name, None) if continuing else None
            if previous is not None:
                rows = np.vstack([previous, rows])
            setattr(self, name, rows)
        # partial_fit runs one epoch and no stopping rule: it ran out.
        self.stop_reason_ = "max_iter" if incremental else result.stop_reason
        self.best_epoch_ = (
            None if result.best_epoch is None else n_previous + result.best_epoch
        )
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

    def _warn_not_converged(self, converged, stochastic=False):
        """Emit scikit-learn's ConvergenceWarning when max_iter was reached.

        The advice fits the solver: ``tol`` is the stochastic solvers' stopping
        rule; the full-batch solver stops on the optimality conditions instead.
        """
        if converged:
            return
        if stochastic:
            advice = (
                f"the maximum number of epochs (max_iter={self.max_iter}) was "
                "reached while the monitored loss or validation score was still "
                f"improving by more than tol={self.tol}. Increase max_iter, "
                "scale the data (e.g. with StandardScaler) or raise tol."
            )
        else:
            advice = (
                f"the maximum number of iterations (max_iter={self.max_iter}) "
                "was reached before the optimality conditions held. Increase "
                "max_iter, or scale the data (e.g. with StandardScaler), which "
                "makes the problem better conditioned (this solver does not use "
                "tol)."
            )
        warnings.warn(
            f"{type(self).__name__}: {advice}", ConvergenceWarning, stacklevel=3
        )

    def _record_fit_quality(self, X, y, sample_weight, loss_weight, warn):
        """Set ``train_loss_``, ``baseline_loss_``, ``train_score_``, ``feature_mean_``.

        ``X``, ``y`` are the validated data trained on (without a held-out
        part); ``loss_weight`` weighs the samples in the objective (for a
        classifier, ``sample_weight`` times the class weights), so that the
        loss and the constant model are those the training minimised.
        ``warn``: emit :class:`PoorFitWarning` when the model fits worse than
        the constant model; it is False exactly for partial_fit, whose
        ``feature_mean_`` is a running mean (see ``_record_feature_mean``).
        """
        self._record_feature_mean(X, sample_weight, running=not warn)
        loss, targets, output, y_pred = self._fit_quality_terms(X, y)
        weights = np.asarray(loss_weight, dtype=np.float64)
        weights = weights / weights.sum()
        # The best constant model the estimator can represent: the weighted
        # mean of the targets (the class priors for one-hot targets), or 0
        # when it fits no intercept.
        if getattr(self, "fit_intercept", True):
            constant = weights @ targets
        else:
            constant = np.zeros(targets.shape[1])
        # + 0.0 turns the -0.0 of a perfect log loss into 0.0.
        self.train_loss_ = LOSSES[loss](targets, output, weights) + 0.0
        self.baseline_loss_ = (
            LOSSES[loss](targets, np.broadcast_to(constant, targets.shape), weights)
            + 0.0
        )
        score = accuracy_score if is_classifier(self) else r2_score
        self.train_score_ = float(score(y, y_pred, sample_weight=sample_weight))
        if warn and is_poor_fit(self.train_loss_, self.baseline_loss_):
            warnings.warn(
                self._poor_fit_message(X, sample_weight), PoorFitWarning, stacklevel=3
            )

    def _record_feature_mean(self, X, sample_weight, running):
        """Set ``feature_mean_``, the sample-weighted mean of the rows trained on.

        It is the default baseline of :func:`sk_weights.explain`. ``running``
        (partial_fit): the mean of every chunk seen so far, each row weighted
        by its sample weight, as ``StandardScaler.partial_fit`` keeps it; the
        total weight behind it is kept in ``_feature_weight_sum``. Otherwise
        (fit, warm start included) the mean of this call's rows.
        """
        mean = weighted_feature_mean(X, sample_weight)
        total = float(np.sum(sample_weight, dtype=np.float64))
        previous = getattr(self, "feature_mean_", None)
        seen = getattr(self, "_feature_weight_sum", None)
        if running and previous is not None and seen is not None:
            # The mean of the union: an update that stays between the two
            # means, so nothing is summed up that could overflow.
            share = total / (seen + total)
            mean = previous + share * (mean - previous)
            total += seen
        self.feature_mean_ = mean
        self._feature_weight_sum = total

    def _poor_fit_message(self, X, sample_weight):
        """Say that the fit failed, the evidence, the likely cause and the cure."""
        if is_classifier(self):
            constant = "the weighted class priors"
        elif getattr(self, "fit_intercept", True):
            constant = "the weighted mean of y"
        else:
            constant = "0 (fit_intercept=False)"
        message = (
            f"{type(self).__name__}: training failed. The trained model fits its "
            f"training data worse than a constant model: its training loss is "
            f"{self.train_loss_:.3g}, that of always predicting {constant} "
            f"{self.baseline_loss_:.3g} (training score {self.train_score_:.3g})."
        )
        stochastic = self._solver_name() in ("sgd", "adam")
        causes = []
        std = weighted_feature_std(X, sample_weight)
        low, high = SCALED_STD_RANGE
        if std.size and (std.max() > high or std[std > 0].min(initial=low) < low):
            causes.append(
                "the features are not scaled (their standard deviations range "
                f"from {std.min():.3g} to {std.max():.3g}): standardise X, e.g. "
                "with sklearn.preprocessing.StandardScaler in a Pipeline"
            )
        if stochastic:
            causes.append(
                f"the learning rate (learning_rate_init={self.learning_rate_init!r})"
                " does not suit the data: try one ten times smaller or larger"
            )
        if self.stop_reason_ == "max_iter":
            causes.append(
                f"too few epochs (max_iter={self.max_iter} ran out): raise max_iter"
            )
        elif stochastic:
            causes.append(
                f"training stopped after {self.n_iter_} epochs without improvement "
                f"by tol={self.tol} (stop_reason_={self.stop_reason_!r}): raise "
                "n_iter_no_change or lower tol"
            )
        message += " Likely causes, first the most likely: " + "; ".join(causes) + "."
        return message


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


def informative_validation(weights):
    """Whether held-out samples of these weights can judge the model.

    Their effective number, ``sum(w)**2 / sum(w**2)`` (Kish's: the number of
    equally weighted samples that would be as informative), must reach
    ``MIN_VALIDATION_SAMPLES``: one sample weighing 1000 among a few weighing
    1e-4 judges as one sample does. Below that, a score such as accuracy
    moves by large steps at random, and stopping on it stops too soon.
    """
    weights = np.asarray(weights, dtype=np.float64)
    total, squares = weights.sum(), weights @ weights
    return bool(squares > 0 and total * total >= MIN_VALIDATION_SAMPLES * squares)


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


def weighted_feature_mean(X, sample_weight):
    """Weighted mean of each column of a dense or sparse X, in float64.

    Dense X is read in row blocks, each cast to float64 on its own: memory
    O(block x n_features), and float32 data cannot overflow the sums.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    weights = weights / weights.sum()
    if sp.issparse(X):
        return np.asarray(X.T.astype(np.float64) @ weights).ravel()
    return sum(
        weights[i : i + _STATISTICS_BLOCK]
        @ X[i : i + _STATISTICS_BLOCK].astype(np.float64)
        for i in range(0, len(X), _STATISTICS_BLOCK)
    )


def weighted_feature_std(X, sample_weight):
    """Weighted standard deviation of each column of a dense or sparse X.

    In float64, on the columns divided by their largest magnitude: no square
    overflows, whatever the dtype and the scale of X.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    weights = weights / weights.sum()
    if sp.issparse(X):
        X = X.astype(np.float64)
        scale = np.asarray(abs(X).max(axis=0).todense()).ravel()
        scale[scale == 0] = 1.0
        X = X @ sp.diags(1.0 / scale)
        mean = weighted_feature_mean(X, weights)
        variance = np.asarray(X.multiply(X).T @ weights).ravel() - mean * mean
    else:
        scale = np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)
        scale[scale == 0] = 1.0
        # Two passes over row blocks: memory O(block x n_features) in float64,
        # and the variance from centred values (no cancellation).
        blocks = [
            slice(i, i + _STATISTICS_BLOCK) for i in range(0, len(X), _STATISTICS_BLOCK)
        ]
        mean = weighted_feature_mean(X, weights) / scale
        variance = 0.0
        for rows in blocks:
            centred = X[rows] / scale
            centred -= mean
            centred *= centred
            variance += weights[rows] @ centred
    return scale * np.sqrt(np.maximum(variance, 0))


def mean_squared_norm(X, sample_weight):
    """Weighted mean of the squared norms of the rows of X, in float64.

    The data's curvature, from which the learning rate is derived. Raises a
    ValueError that says the data are too large when it overflows: training
    would overflow too, and the learning rate is not to blame.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    weights = weights / weights.sum()
    if sp.issparse(X):
        X = X.astype(np.float64, copy=False)
        squared_norms = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    else:
        squared_norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    value = float(weights @ squared_norms)
    if not np.isfinite(value):
        largest = float(abs(X).max()) if sp.issparse(X) else float(np.abs(X).max())
        raise ValueError(
            "X is too large to train on: the squared norms of its rows overflow "
            f"(its largest magnitude is {largest:.3g}). Scale the features, e.g. "
            "with sklearn.preprocessing.StandardScaler."
        )
    return value


def silence_overflow():
    """Silence NumPy's floating-point warnings during training.

    A non-finite loss or weight is caught by the divergence guard, whose error
    says what happened and what to do; NumPy's own warnings on the way would
    only add noise.
    """
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
