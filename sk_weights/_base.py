"""The base every estimator shares: parameters, the fit template, the records.

:class:`BaseWeightsEstimator` owns the common parameters' constraints; the
one way every ``fit`` and ``partial_fit`` runs, its fit template
(:meth:`~BaseWeightsEstimator._fit_template`: validate, encode the target,
choose the solver, solve, record); the stochastic training run
(:meth:`~BaseWeightsEstimator._train_network`: the random generator, warm
start and ``partial_fit``'s continuation, the optimiser and its saved state,
the held-out split, the call to the epoch loop); the only writer of the
training records (:meth:`~BaseWeightsEstimator._write_records`, from a
:class:`~sk_weights._training.TrainingRecord`); the put-back-on-failure rule
(:func:`keeps_state_on_failure`) and the fit-quality records.

What differs between the estimators is stated by hooks, every one declared
on the base with its contract. The grid of ``_mixins`` provides most of
them: a family mixin says what the model is (``NetworkMixin``,
``LinearMixin``), a task mixin what it predicts (``RegressorTaskMixin``,
``ClassifierTaskMixin``); a concrete estimator (``_linear.py``,
``_mlp.py``) is one of each, plus what is its own.

The numerics stay in the core (``_network``, ``_training``, ``_optimizers``,
``_least_squares``, ``_full_batch``), which knows nothing of scikit-learn.
"""

import functools
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)

from sk_weights._callbacks import FitCallbacks
from sk_weights._optimizers import AdamOptimizer, SGDOptimizer, state_solver
from sk_weights._penalties import PENALTY_L1_RATIOS, ElasticNetPenalty
from sk_weights._scores import accuracy, r2
from sk_weights._sklearn_compat import (
    CallbackSupportMixin,
    _check_sample_weight,
    _fit_context,
    check_is_fitted,
    make_constraint,
)
from sk_weights._statistics import feature_mean, feature_std
from sk_weights._training import TrainingConfig, record_run, train
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
    # numpy.inf: never stop on a plateau, as in scikit-learn.
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
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

#: The parameters that count something: a bool, which Python counts as an
#: integer (True == 1), is refused in them, or in their entries.
COUNT_PARAMETERS = ("batch_size", "max_iter", "n_iter_no_change", "hidden_layer_sizes")

#: The largest network (weights and biases) an estimator or the command line
#: builds: its optimiser keeps two more vectors of that size, and training one
#: by NumPy would take days.
MAX_NETWORK_PARAMETERS = 20_000_000

#: Mini-batch size used by ``batch_size="auto"`` (capped by the sample count).
AUTO_BATCH_SIZE = 200

#: The solvers that train by epochs of mini-batches; any other solves the full batch.
STOCHASTIC_SOLVERS = ("sgd", "adam")

#: Step size of Adam for ``learning_rate_init="auto"`` (Kingma & Ba's default).
ADAM_AUTO_LEARNING_RATE = 1e-3

#: Rows per block when statistics of dense X are computed in float64.
_STATISTICS_BLOCK = 4096

#: Early stopping judges on the held-out part only when it holds at least
#: this many samples, counted by their weights (see ``informative_validation``).
MIN_VALIDATION_SAMPLES = 10

#: Features whose standard deviations reach outside this range are called
#: unscaled in the advice of a poor fit.
SCALED_STD_RANGE = (0.1, 10.0)


@functools.cache
def _parameter_names(cls):
    return tuple(BaseEstimator._get_param_names.__func__(cls))


@functools.cache
def _parameter_checks(cls):
    """Each parameter's constraints as scikit-learn's constraint objects.

    scikit-learn builds them from the declarations on every validation; a
    class's declarations do not change, so they are built once per class.
    """
    return {
        name: [make_constraint(constraint) for constraint in constraints]
        for name, constraints in cls._parameter_constraints.items()
        if constraints != "no_validation"
    }


@functools.lru_cache(maxsize=1024)
def _allowed_value(cls, name, kind, value):
    """Whether parameter ``name`` of ``cls`` may take ``value`` (of type ``kind``).

    Grid searches fit clones with the same few values thousands of times;
    a value's verdict is found once (the type is part of the key: 1, 1.0
    and True are equal but not equally valid).
    """
    checks = _parameter_checks(cls).get(name)
    return checks is None or any(check.is_satisfied_by(value) for check in checks)


class BaseWeightsEstimator(CallbackSupportMixin, BaseEstimator):
    """The base of every estimator of the package (not a public class).

    ``fit`` and ``partial_fit`` (in the task mixins) call :meth:`_fit_template`,
    which runs every fit the same way: validate, encode the target, choose
    the solver, solve (the full batch, or the epoch loop of
    :meth:`_train_network`), record. What differs between the estimators is
    stated by the hooks declared below, each with its one-line contract: the
    family mixins (network, linear model) and the task mixins (regression,
    classification) of ``_mixins`` provide most of them.
    """

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params (twice per
        # clone, once per fit's parameter validation); a class's signature does
        # not change, so it is read once per class.
        return list(_parameter_names(cls))

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

    def _validate_params(self):
        """Validate the parameters by their constraints, and refuse bools as counts."""
        cls = type(self)
        for name, value in self.get_params(deep=False).items():
            try:
                allowed = _allowed_value(cls, name, type(value), value)
            except TypeError:  # unhashable (a list, a dict): checked each time
                allowed = _allowed_value.__wrapped__(cls, name, type(value), value)
            if not allowed:
                # A value to refuse: scikit-learn's own validation says why.
                super()._validate_params()
        for name in COUNT_PARAMETERS:
            value = getattr(self, name, None)
            entries = (
                value if np.iterable(value) and not isinstance(value, str) else [value]
            )
            if any(isinstance(entry, (bool, np.bool_)) for entry in entries):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be a "
                    f"count, an int, got {value!r}: True and False are not counts."
                )

    # -- the fit template ------------------------------------------------------

    def _fit_template(self, X, y, sample_weight, *, partial, classes=None):
        """Run one ``fit`` (``partial=False``) or ``partial_fit`` call; return self.

        Validate X, y and the sample weights; encode the target (:class:`FitData`);
        choose the solver; solve, on the full batch or by the epoch loop; set
        the fitted weights, the training records (:meth:`_write_records`) and
        the fit-quality records. ``classes`` is ``partial_fit``'s argument of
        a classifier.
        """
        first_call = not self._has_weights()
        X, y = self._validate_training_data(X, y, reset=first_call or not partial)
        sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        continuing = not first_call and (partial or self.warm_start)
        try:
            data = self._encode_target(
                X,
                y,
                sample_weight,
                partial=partial,
                continuing=continuing,
                classes=classes,
            )
            solver = self._solver_name(partial)
            stochastic = solver in STOCHASTIC_SOLVERS
            layout = self._layout(X.shape[1], data.n_outputs)
            # The full-batch solvers start from float64 weights.
            dtype = X.dtype if stochastic else np.float64
            start = self._current_parameters(layout, dtype) if continuing else None
            labels = data.y  # all of them: the callbacks score the model on X
            callbacks = FitCallbacks(
                self,
                X,
                lambda: labels,
                sample_weight,
                max_epochs=(1 if partial else self.max_iter) if stochastic else 0,
            )
            with silence_overflow():
                if stochastic:
                    theta, record, data = self._train_network(
                        data,
                        layout,
                        solver,
                        start,
                        partial=partial,
                        callbacks=callbacks,
                    )
                else:
                    theta, record = self._solve_full_batch(data, layout, start)
                    theta = theta.astype(X.dtype)
                    if record.outputs is not None:
                        data = replace(data, outputs=record.outputs)
                vars(self).update(self._fitted_attributes(layout, theta, data.y))
                self._write_records(record)
                self._record_fit_quality(data, partial, record.feature_mean)
        finally:
            self._end_fit()
        callbacks.end()
        return self

    def _write_records(self, record):
        """Set the training records (``n_iter_``, ...): their only writer."""
        vars(self).update(record.attributes())

    # -- the hooks: what a family or a task states -----------------------------

    def _validate_training_data(self, X, y, reset):
        """Return X and y validated for training (task hook)."""
        raise NotImplementedError

    def _encode_target(self, X, y, sample_weight, *, partial, continuing, classes):
        """Return the call's :class:`FitData`: y, targets, weights (task hook)."""
        raise NotImplementedError

    def _end_fit(self):
        """Drop what the hooks needed only during the call (default: nothing)."""

    def _has_weights(self):
        """Whether fitted weights exist to continue from (family hook)."""
        raise NotImplementedError

    def _layout(self, n_features, n_outputs):
        """The ``Layout`` of the model for these inputs and outputs (family hook)."""
        raise NotImplementedError

    def _solver_name(self, partial=False):
        """The solver of this call: ``"sgd"``, ``"adam"`` or a full-batch one."""
        raise NotImplementedError

    def _solve_full_batch(self, data, layout, start):
        """Solve on the full batch; return the parameter vector and a TrainingRecord."""
        raise NotImplementedError(f"{type(self).__name__} has no full-batch solver.")

    def _family_records(self, data, solver):
        """The optional training records of a stochastic run (default: none)."""
        return {}

    def _fitted_weights(self):
        """The fitted weight matrices and bias vectors, inputs first (family hook)."""
        raise NotImplementedError

    def _fitted_network(self):
        """The fitted model as a ``FittedNetwork`` (family hook)."""
        raise NotImplementedError

    def _fitted_attributes(self, layout, theta, y):
        """The fitted attributes the parameters ``theta`` give (default: none)."""
        return {}

    def _hidden_activation(self):
        """The activation of the hidden units (default: a linear model has none)."""
        return "identity"

    def _datafit(self, n_outputs):
        """The loss of a model with ``n_outputs`` outputs, a Datafit (task hook).

        The one place an estimator names its loss: the solvers, the epoch
        loop, the records, the report and io ask this object, whose output
        activation is the model's.
        """
        raise NotImplementedError

    def _dropout_rates(self, n_hidden):
        """Drop rates of the layers that feed a weight matrix, the input first."""
        return [0.0] * (n_hidden + 1)

    def _initial_parameters(self, layout, rng, dtype):
        """The parameters a new fit starts from (default: all zero)."""
        return np.zeros(layout.n_params, dtype=dtype)

    def _curvature(self, squared_norm):
        """A bound on the curvature of a mini-batch loss (family hook)."""
        raise NotImplementedError

    def _adam_learning_rate(self, targets, sample_weight, curvature):
        """Adam's step for ``learning_rate_init="auto"`` (default: Kingma and Ba's)."""
        return ADAM_AUTO_LEARNING_RATE

    def _hold_out(self, data, layout, rng):
        """The rows kept, the held-out scorer, whether it may judge (task hook)."""
        raise NotImplementedError

    def _fit_quality_terms(self, X, y, outputs=None):
        """The datafit, targets, outputs and predictions on X (task hook).

        ``outputs``: the network's outputs on X if already computed, else None.
        """
        raise NotImplementedError

    # -- the parts ----------------------------------------------------------

    def _penalty(self):
        """Return the :class:`ElasticNetPenalty` the parameters describe."""
        return ElasticNetPenalty.from_params(
            self.penalty,
            self.alpha,
            self.l1_ratio,
            positive=getattr(self, "positive", False),
        )

    def _batch_size(self, n_samples):
        """Return the effective mini-batch size for ``n_samples`` samples."""
        if self.batch_size == "auto":
            return min(AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _current_parameters(self, layout, dtype):
        """The fitted weights as a parameter vector of ``layout``, to continue from.

        Raises a ValueError that names what changed (the features, the
        outputs or the hidden layers) when they no longer fit ``layout``.
        """
        coefs, intercepts = self._fitted_weights()
        fitted = [np.shape(c) for c in coefs]
        if fitted != layout.coef_shapes:
            n_features, n_outputs = fitted[0][0], fitted[-1][1]
            if n_features != layout.layer_sizes[0]:
                what = (
                    f"X has {layout.layer_sizes[0]} features, but the model was "
                    f"fitted on {n_features}"
                )
            elif n_outputs != layout.layer_sizes[-1]:
                what = (
                    f"y needs {layout.layer_sizes[-1]} outputs, but the model "
                    f"has {n_outputs}"
                )
            else:
                what = (
                    f"the parameters ask for weight matrices of shapes "
                    f"{layout.coef_shapes}, but the model has {fitted}"
                )
            raise ValueError(
                f"{type(self).__name__} cannot continue from its fitted weights: "
                f"{what}. Pass data of the same shape, or refit from scratch "
                "(warm_start=False)."
            )
        return layout.pack(coefs, intercepts, dtype)

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

    def _rng(self, partial, continuing):
        """The one generator of this call: initialisation, order, masks, split.

        A fixed ``random_state`` gives the same generator to every ``fit``; a
        ``partial_fit`` that continues draws from one seeded by it and the
        epochs run so far, so that each chunk gets a new order and new
        dropout masks, still reproducibly.
        """
        rng = make_rng(self.random_state)
        if partial and continuing:
            rng = np.random.default_rng([int(rng.integers(2**31)), self.n_iter_])
        return rng

    def _learning_rate(self, solver, X, targets, sample_weight, datafit):
        """Resolve ``learning_rate_init="auto"`` from the data.

        SGD takes ``(1 - momentum) / L`` (``1 / L`` without momentum), with
        ``L`` the estimator's bound on the curvature of a mini-batch loss
        (:meth:`_curvature`) times the datafit's curvature near the constant
        model (1 for the squared and log losses, the mean of y for Poisson);
        Adam takes :meth:`_adam_learning_rate`.
        """
        # Computed whatever learning_rate_init is: it raises when the data are
        # too large to train on, which would otherwise pass for a divergence.
        squared_norm = mean_squared_norm(X, sample_weight)
        if self.learning_rate_init != "auto":
            return float(self.learning_rate_init)
        curvature = max(self._curvature(squared_norm), np.finfo(np.float64).tiny)
        if solver == "adam":
            return self._adam_learning_rate(targets, sample_weight, curvature)
        weights = np.asarray(sample_weight, dtype=np.float64)
        curvature *= max(
            datafit.curvature_scale(targets, weights / weights.sum()),
            np.finfo(np.float64).tiny,
        )
        return (1.0 - self.momentum or 1.0) / curvature

    def _restore_optimizer(self, optimizer):
        """Load the optimiser state kept from the previous call, if it is its own.

        ``partial_fit`` goes on with the state of the optimiser that ran last
        (momentum, Adam's moments, the scheduled learning rate) whatever other
        parameter changed in between; when the solver changed, the new one
        starts afresh.
        """
        state = getattr(self, "_optimizer_state", None)
        if state is not None and state_solver(state) == optimizer.name:
            optimizer.load_state(state)
        return optimizer

    def _train_network(self, data, layout, solver, start, *, partial, callbacks):
        """Train the network of ``layout`` by mini-batch gradient descent.

        Parameters
        ----------
        data : FitData
            The validated data of the call.
        layout : Layout
            The network's shapes.
        solver : {"sgd", "adam"}
            The optimiser.
        start : ndarray or None
            The fitted parameters to continue from (warm start or a later
            ``partial_fit``, which also continues the optimiser), or None to
            start from :meth:`_initial_parameters`.
        partial : bool
            One ``partial_fit`` epoch, without stopping rule or held-out part.
        callbacks : FitCallbacks
            The call's callback hooks.

        Returns
        -------
        theta : ndarray
            The trained parameters.
        record : TrainingRecord
            The run's records, extending those of the run it continues.
        data : FitData
            The part trained on: without the held-out rows, if any.
        """
        continuing = start is not None
        rng = self._rng(partial, continuing)
        X, dtype = data.X, data.X.dtype
        datafit = self._datafit(layout.layer_sizes[-1])
        if continuing:
            theta = start
        else:
            theta = self._initial_parameters(layout, rng, dtype)
            self._start_at_constant(theta, layout, data, datafit)
        learning_rate = self._learning_rate(
            solver, X, data.targets, data.loss_weight, datafit
        )
        optimizer = self._make_optimizer(solver, layout.n_params, dtype, learning_rate)
        if continuing and partial:
            # partial_fit goes on with the optimiser's state; a warm-started fit
            # keeps only the weights and starts a fresh optimiser, as in
            # scikit-learn, so a new learning_rate_init takes effect.
            self._restore_optimizer(optimizer)
        validation_score, monitor_validation = None, True
        if self.early_stopping and not partial:
            rows, validation_score, monitor_validation = self._hold_out(
                data, layout, rng
            )
            data = data.take(rows)
        config = self._training_config(
            layout, data.X.shape[0], partial, monitor_validation
        )
        y = data.y
        result = train(
            theta,
            layout,
            data.X,
            data.targets,
            data.loss_weight,
            config,
            optimizer,
            rng,
            validation_score=validation_score,
            epoch_callback=callbacks.epoch_callback(
                theta, lambda theta: self._fitted_attributes(layout, theta, y)
            ),
            n_samples_seen=self.t_ if continuing else 0,
            first_epoch=self.n_iter_ + 1 if continuing and partial else 1,
        )
        if not partial:
            self._warn_not_converged(result.converged, stochastic=True)
        record = record_run(
            result,
            vars(self) if continuing else None,
            partial=partial,
            held_out=validation_score is not None,
            # Labelled by the optimiser that ran, whatever solver="auto"
            # resolves to in a later call.
            optimizer_state=optimizer.state(),
            **self._family_records(data, solver),
        )
        return result.theta, record, replace(data, outputs=result.output)

    def _start_at_constant(self, theta, layout, data, datafit):
        """Start at the constant model, if the datafit asks it (a log link).

        The last weight matrix starts at zero and the output biases at the
        constant model's raw output: a random start would put the outputs at
        ``exp`` of whatever the first layers give, which overflows on unscaled
        data before the first step.
        """
        if not datafit.starts_at_constant:
            return
        coefs, intercepts = layout.unpack(theta)
        coefs[-1][...] = 0
        if getattr(self, "fit_intercept", True):
            weights = np.asarray(data.loss_weight, dtype=np.float64)
            weights = weights / weights.sum()
            targets = np.asarray(data.targets, dtype=np.float64)
            intercepts[-1][:] = [datafit.constant(t, weights) for t in targets.T]

    def _training_config(self, layout, n_samples, partial, monitor_validation):
        """The settings of the epoch loop that the parameters describe."""
        return TrainingConfig(
            activation=self._hidden_activation(),
            loss=self._datafit(layout.layer_sizes[-1]),
            penalty=self._penalty(),
            batch_size=self._batch_size(n_samples),
            max_epochs=1 if partial else self.max_iter,
            shuffle=self.shuffle,
            dropout_rates=tuple(self._dropout_rates(layout.n_layers - 1)),
            fit_intercepts=getattr(self, "fit_intercept", True),
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            # partial_fit's single epoch has no stopping rule.
            early_stopping=not partial,
            monitor_validation=monitor_validation,
            verbose=bool(self.verbose),
        )

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

    def _record_fit_quality(self, data, partial, feature_mean=None):
        """Set ``train_loss_``, ``baseline_loss_``, ``train_score_``, ``feature_mean_``.

        ``data`` (a :class:`FitData`) is the part trained on (without a
        held-out part); its ``loss_weight`` weighs the samples in the loss
        and the constant model as in the objective, its ``sample_weight`` in
        the score. ``fit`` emits :class:`PoorFitWarning` when the model fits
        worse than the constant model; ``partial_fit`` never does (one chunk
        is no verdict), and its ``feature_mean_`` is a running mean (see
        ``_record_feature_mean``). ``feature_mean``: the mean of X's columns
        under the sample weights, when the solver has computed it already.
        """
        X, y, sample_weight = data.X, data.y, data.sample_weight
        self._record_feature_mean(X, sample_weight, partial, feature_mean)
        datafit, targets, output, y_pred = self._fit_quality_terms(X, y, data.outputs)
        loss_weight = _normalised(data.loss_weight)
        # The best constant model the estimator can represent: the datafit's
        # (the weighted mean of the targets for the squared, log and Poisson
        # losses), or, without an intercept, the output of a zero raw output
        # (0 for a regressor, 1/2 per logistic output, uniform for softmax;
        # over two classes the softmax of zeros equals the logistic one).
        constant = datafit.constant_output(
            targets, loss_weight, getattr(self, "fit_intercept", True)
        )
        constant = np.broadcast_to(constant, targets.shape)
        # + 0.0 turns the -0.0 of a perfect log loss into 0.0.
        self.train_loss_ = datafit.loss(targets, output, loss_weight) + 0.0
        self.baseline_loss_ = datafit.loss(targets, constant, loss_weight) + 0.0
        # Plain NumPy on the validated arrays (see _scores); scikit-learn's
        # own R² only for one sample, where it warns that R² is undefined.
        score = r2 if len(y) > 1 else r2_score
        score = accuracy if is_classifier(self) else score
        self.train_score_ = float(score(y, y_pred, sample_weight=sample_weight))
        if not partial and is_poor_fit(self.train_loss_, self.baseline_loss_):
            warnings.warn(
                self._poor_fit_message(X, sample_weight), PoorFitWarning, stacklevel=3
            )

    def _record_feature_mean(self, X, sample_weight, running, mean=None):
        """Set ``feature_mean_``, the sample-weighted mean of the rows trained on.

        It is the default baseline of :func:`sk_weights.explain`. ``running``
        (partial_fit): the mean of every chunk seen so far, each row weighted
        by its sample weight, as ``StandardScaler.partial_fit`` keeps it; the
        total weight behind it is kept in ``_feature_weight_sum``. Otherwise
        (fit, warm start included) the mean of this call's rows. ``mean``:
        that mean, when the solver has computed it already.
        """
        if mean is None:
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
        elif self._solver_name() == "lbfgs":
            # A converged quasi-Newton run on a network's non-convex objective
            # can stop at a poor stationary point (relu units dead on every
            # sample, saturated units on features far from zero).
            causes.append(
                "lbfgs converged to a poor stationary point of the network's "
                "objective: centre and scale the features (e.g. StandardScaler), "
                "or try another random_state or activation='tanh'"
            )
        message += " Likely causes, first the most likely: " + "; ".join(causes) + "."
        return message


@dataclass(frozen=True)
class FitData:
    """The validated data of one fit call, in the forms its parts need.

    ``y`` is in the estimator's own form (the labels, the target values),
    which its score and held-out split read; ``targets`` what the loss sees;
    ``sample_weight`` the weights the caller passed, which weigh the score;
    ``loss_weight`` each sample's weight in the objective (for a classifier,
    times its class weight); ``n_outputs`` the model's number of outputs.
    """

    X: object
    y: np.ndarray
    targets: np.ndarray
    sample_weight: np.ndarray
    loss_weight: np.ndarray
    n_outputs: int
    #: The trained model's outputs on X (after the output activation), when
    #: training computed them; None: the records predict anew.
    outputs: np.ndarray = None

    def take(self, rows):
        """The same data restricted to ``rows``."""
        return FitData(
            self.X[rows],
            self.y[rows],
            self.targets[rows],
            self.sample_weight[rows],
            self.loss_weight[rows],
            self.n_outputs,
        )


def training_method(method):
    """Decorate ``fit`` and ``partial_fit`` of an estimator of the package.

    The call runs in scikit-learn's fit context (parameter validation,
    callbacks), validates the parameters on every call, ``partial_fit``'s
    included, and changes nothing when it fails (see
    :func:`keeps_state_on_failure`).
    """
    fitted_in_context = _fit_context(prefer_skip_nested_validation=True)(
        keeps_state_on_failure(method)
    )

    revalidate = method.__name__ == "partial_fit"

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        # scikit-learn's fit context validates fit's parameters on every call
        # but partial_fit's only on the first, and set_params may have changed
        # them since: a negative alpha or a dropout rate of 2 would train, or
        # fail obscurely.
        if revalidate and not get_config()["skip_parameter_validation"]:
            self._validate_params()
        return fitted_in_context(self, *args, **kwargs)

    return wrapper


#: What scikit-learn's callbacks API keeps on the estimator during a call, and
#: tears down from it afterwards.
_CALLBACK_CONTEXT = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


def keeps_state_on_failure(method):
    """Decorate ``fit`` / ``partial_fit``: the new state arrives whole, or nothing.

    The call trains a shallow copy of the estimator (the same parameters and
    fitted attributes; training never changes a fitted array in place), then
    swaps the copy's attributes in with one assignment of ``__dict__``. Another
    thread sees the old fitted model or the new one, never a half-made or
    emptied one; a failed call (divergence, a bad label) leaves the estimator
    as it was.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        work = object.__new__(type(self))
        work.__dict__ = dict(vars(self))
        try:
            method(work, *args, **kwargs)
        except BaseException:
            # scikit-learn tears the callbacks down from this estimator.
            for name in _CALLBACK_CONTEXT:
                if name in vars(work):
                    setattr(self, name, getattr(work, name))
            raise
        self.__dict__ = vars(work)
        return self

    return wrapper


def check_network_size(layout, limit=MAX_NETWORK_PARAMETERS):
    """Refuse a network of more than ``limit`` parameters, before allocating it.

    Raises a ValueError that names ``hidden_layer_sizes`` and the number of
    weights and biases the layout would hold.
    """
    if layout.n_params > limit:
        sizes = layout.layer_sizes
        raise ValueError(
            f"hidden_layer_sizes={tuple(sizes[1:-1])} makes a network of "
            f"{layout.n_params:,} weights and biases on {sizes[0]} features and "
            f"{sizes[-1]} outputs, more than the {limit:,} a network may hold; "
            "use fewer hidden units."
        )
    return layout


def split_rows(n_samples, n_validation, rng, stratify=None):
    """Draw ``n_validation`` held-out rows; return the training and held-out rows."""
    return train_test_split(
        np.arange(n_samples),
        test_size=n_validation,
        stratify=stratify,
        random_state=int(rng.integers(np.iinfo(np.int32).max)),
    )


def informative_validation(sample_weight):
    """Whether held-out samples of these sample weights can judge the model.

    Their effective number, ``sum(w)**2 / sum(w**2)`` (Kish's: the number of
    equally weighted samples that would be as informative), must reach
    ``MIN_VALIDATION_SAMPLES``: one sample weighing 1000 among a few weighing
    1e-4 judges as one sample does. Below that, a score such as accuracy
    moves by large steps at random, and stopping on it stops too soon.
    """
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    total, squares = sample_weight.sum(), sample_weight @ sample_weight
    return bool(squares > 0 and total * total >= MIN_VALIDATION_SAMPLES * squares)


def make_rng(random_state):
    """Return one ``numpy.random.Generator`` seeded from ``random_state``.

    Shuffling, initialisation and dropout all draw from it, so the same
    ``random_state`` gives bit-identical weights.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


def _normalised(weights):
    """``weights / weights.sum()`` in float64; one value repeated stays a view."""
    weights = np.asarray(weights)
    total = np.sum(weights, dtype=np.float64)
    if weights.ndim == 1 and weights.strides == (0,):
        # Unit sample weights (see check_sample_weight): no vector of n.
        return np.broadcast_to(np.float64(weights[0]) / total, weights.shape)
    return np.asarray(weights, dtype=np.float64) / total


def check_sample_weight(sample_weight, X, dtype):
    """Validate ``sample_weight``: finite, non-negative, not all zero."""
    if sample_weight is None:
        # Unit weights need no checks (scikit-learn's would cost more than a
        # small fit's solve), nor memory: one value seen n times (read-only).
        return np.broadcast_to(np.ones(1, dtype=dtype), (X.shape[0],))
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

    X is read in blocks, never copied whole (see ``_statistics``).
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    return feature_mean(X, weights / weights.sum())


def weighted_feature_std(X, sample_weight):
    """Weighted standard deviation of each column of a dense or sparse X.

    In float64, on the columns divided by their largest magnitude: no square
    overflows, whatever the dtype and the scale of X; X is never copied whole.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    return feature_std(X, weights / weights.sum())


def mean_squared_norm(X, sample_weight):
    """Weighted mean of the squared norms of the rows of X, in float64.

    The data's curvature, from which the learning rate is derived. Raises a
    ValueError that says the data are too large when it overflows: training
    would overflow too, and the learning rate is not to blame.
    """
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    sample_weight = sample_weight / sample_weight.sum()
    if sp.issparse(X):
        X = X.astype(np.float64, copy=False)
        squared_norms = np.asarray(X.multiply(X).sum(axis=1)).ravel()
    else:
        squared_norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    value = float(sample_weight @ squared_norms)
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
