"""The family mixins and the task mixins: what the estimators share two by two.

An estimator is one family mixin, which says what the model is, and one task
mixin, which says what it predicts. Both derive from
:class:`~sk_weights._base.BaseWeightsEstimator`, which runs the fit and
declares every hook they provide:

- :class:`NetworkMixin`: a feed-forward network (layout from
  ``hidden_layer_sizes``, Glorot's initialisation, dropout on hidden units,
  the effective input weights ``coef_``);
- :class:`LinearMixin`: a linear model, the network with no hidden layer
  (zero start, dropout on the input features, the full-batch solvers'
  records, ``solver_`` and ``feature_std_``);
- :class:`RegressorTaskMixin`: ``fit``, ``partial_fit`` and ``predict`` of a
  regressor: the datafit its ``loss`` parameter names (the squared error
  with an identity output by default), R^2 on held-out rows;
- :class:`ClassifierTaskMixin`: ``fit``, ``partial_fit`` and the predictions
  of a classifier: the classes and their weights, the log loss with a
  logistic or softmax output, a stratified hold-out, probabilities.

So ``MLPWeightsClassifier(ClassifierMixin, NetworkMixin, ClassifierTaskMixin)``:
the family mixin stands left of the task mixin, so that its hooks (e.g.
``_fitted_attributes``) can extend the task's through ``super()``.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from sk_weights._base import (
    BaseWeightsEstimator,
    FitData,
    check_network_size,
    informative_validation,
    split_rows,
    training_method,
    weighted_feature_std,
)
from sk_weights._datafits import DATAFITS, make_datafit
from sk_weights._network import (
    FittedNetwork,
    Layout,
    connection_weights,
    init_parameters,
    predict,
)
from sk_weights._quasi_newton import QuasiNewtonConfig, minimize_lbfgs
from sk_weights._sklearn_compat import check_is_fitted
from sk_weights._training import TrainingRecord, TrainingResult, record_run
from sk_weights._validation import validate_input

#: A classifier's losses: one logistic output per class pair or label, or a softmax.
_BINARY, _MULTINOMIAL = DATAFITS["binary_log_loss"](), DATAFITS["log_loss"]()

#: Solvers that use the whole data at every step: no partial_fit with them.
FULL_BATCH_ONLY_SOLVERS = ("lbfgs",)


def _learns_in_chunks(estimator):
    """Whether ``partial_fit`` is available: not with a full-batch-only solver.

    Raises AttributeError (which ``available_if`` turns into a missing
    attribute, as scikit-learn's lbfgs networks have no ``partial_fit``) with
    the reason and the cure.
    """
    solver = getattr(estimator, "solver", None)
    if solver in FULL_BATCH_ONLY_SOLVERS:
        raise AttributeError(
            f"partial_fit is not available with solver={solver!r}, which uses "
            "the whole data at every step; use solver='adam' or 'sgd' to learn "
            "from data in chunks."
        )
    return True


class NetworkMixin(BaseWeightsEstimator):
    """A feed-forward network: ``hidden_layer_sizes``, ``activation``, ``dropout``."""

    def _solver_name(self, partial=False):
        """The solver to train with (the same for fit and partial_fit).

        ``"lbfgs"`` takes the whole batch at every step: dropout, a random
        mask per step, and early stopping, a held-out share watched epoch by
        epoch, have no place in it.
        """
        if self.solver == "lbfgs":
            dropping = any(
                r > 0 for r in self._dropout_rates(len(self._hidden_sizes()))
            )
            if dropping or self.early_stopping:
                raise ValueError(
                    "solver='lbfgs' trains on the whole data at every step and "
                    "supports neither dropout nor early stopping (got "
                    f"dropout={self.dropout!r}, early_stopping="
                    f"{self.early_stopping!r}): set dropout=0 and "
                    "early_stopping=False, or use solver='adam' or 'sgd'."
                )
        return self.solver

    def _solve_full_batch(self, data, layout, start):
        """Train by L-BFGS-B on the whole batch (``solver="lbfgs"``).

        A new fit starts from Glorot's initialisation, a warm start from the
        fitted weights; the curves of a warm start extend the earlier ones.
        """
        dtype = data.X.dtype
        if start is None:
            theta = self._initial_parameters(layout, self._rng(False, False), dtype)
        else:
            theta = start.astype(dtype)
        config = QuasiNewtonConfig(
            activation=self._hidden_activation(),
            loss=self._datafit(layout.layer_sizes[-1]),
            penalty=self._penalty(),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=bool(self.verbose),
        )
        result = minimize_lbfgs(
            theta, layout, data.X, data.targets, data.loss_weight, config
        )
        self._warn_lbfgs(result)
        run = TrainingResult(
            theta=result.theta,
            n_epochs=result.n_iter,
            n_samples_seen=0,
            stop_reason="converged" if result.converged else "max_iter",
            history=result.history,
        )
        record = record_run(run, vars(self) if start is not None else None)
        return result.theta, record

    def _warn_lbfgs(self, result):
        """Emit a ConvergenceWarning that says which limit stopped L-BFGS-B."""
        if result.converged:
            return
        if result.stop_reason == "max_iter":
            what = f"the maximum number of iterations (max_iter={self.max_iter})"
            cure = "Increase max_iter"
        elif result.stop_reason == "max_fun":
            what = (
                "the maximum number of evaluations of the objective "
                f"(max_fun={self.max_fun})"
            )
            cure = "Increase max_fun"
        else:
            what = (
                "a point where its line search finds no decrease (scipy: "
                f"{result.message}): the objective is flat to the precision of "
                "its arithmetic"
            )
            cure = "Pass X as float64, raise tol"
        warnings.warn(
            f"{type(self).__name__}: lbfgs reached {what} after "
            f"{result.n_iter} iterations, before the largest entry of the "
            f"projected gradient fell below tol={self.tol}. {cure}, or scale "
            "the data (e.g. with StandardScaler).",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _hidden_sizes(self):
        """Validate ``hidden_layer_sizes`` and return it as a list of ints."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(np.ravel(sizes))
        if any(not isinstance(n, Integral) or n < 1 for n in sizes):
            raise InvalidParameterError(
                "hidden_layer_sizes must hold positive integers, got "
                f"{self.hidden_layer_sizes!r}."
            )
        return [int(n) for n in sizes]

    def _layout(self, n_features, n_outputs):
        """The network's shapes: the input, the hidden layers, the outputs."""
        return check_network_size(
            Layout([n_features, *self._hidden_sizes(), n_outputs])
        )

    def _has_weights(self):
        """Whether a fitted network exists to continue from."""
        return hasattr(self, "coefs_")

    def _dropout_rates(self, n_hidden):
        """Drop rates of the layers that feed a weight matrix, the input first."""
        if isinstance(self.dropout, Real):
            rates = [float(self.dropout)] * n_hidden
        else:
            rates = [float(rate) for rate in np.ravel(self.dropout)]
            if len(rates) != n_hidden or any(not 0 <= r < 1 for r in rates):
                raise InvalidParameterError(
                    "dropout must be a float in [0, 1) or one such rate per hidden "
                    f"layer ({n_hidden}), got {self.dropout!r}."
                )
        # Inverted dropout acts on hidden units only: the input is never dropped.
        return [0.0, *rates]

    def _hidden_activation(self):
        """The activation of the hidden units: the ``activation`` parameter."""
        return self.activation

    def _initial_parameters(self, layout, rng, dtype):
        """Glorot's uniform initialisation (see the class docstring)."""
        return init_parameters(layout, self.activation, rng, dtype)

    def _fitted_weights(self):
        """The fitted weight matrices and bias vectors, inputs first."""
        return self.coefs_, self.intercepts_

    def _curvature(self, squared_norm):
        """The curvature bound of the first layer's loss, seen as a linear model."""
        return 1.0 + squared_norm + self._penalty().l2

    def _fitted_attributes(self, layout, theta, y):
        """The fitted attributes of the network that ``theta`` holds."""
        coefs, intercepts = layout.unpack(theta)
        return {
            **super()._fitted_attributes(layout, theta, y),
            "coefs_": [np.array(c) for c in coefs],
            "intercepts_": [np.array(b) for b in intercepts],
            "n_layers_": layout.n_layers + 1,
            "n_outputs_": layout.layer_sizes[-1],
            "out_activation_": self._datafit(layout.layer_sizes[-1]).output_activation,
        }

    def _fitted_network(self):
        """The fitted network, its activations and dropout rates (FittedNetwork)."""
        return FittedNetwork(
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.out_activation_,
            tuple(self._dropout_rates(len(self.coefs_) - 1)),
        )

    @property
    def coef_(self):
        """Effective input weights, shape ``(n_outputs_, n_features_in_)``.

        ``(coefs_[0] @ ... @ coefs_[-1]).T``: Olden's connection weights, exact
        for a linear (``activation="identity"``) network and a summary that
        ignores the activations otherwise (see the class docstring).
        """
        check_is_fitted(self)
        return connection_weights(self.coefs_).T

    @property
    def feature_importances_(self):
        """``|coef_|`` summed over the outputs, normalised to sum to 1."""
        importance = np.abs(np.atleast_2d(self.coef_)).sum(axis=0)
        total = importance.sum()
        if total == 0:
            return np.full_like(importance, 1.0 / importance.size)
        return importance / total

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LinearMixin(BaseWeightsEstimator):
    """A linear model: a network with no hidden layer (``coef_``, ``intercept_``)."""

    def _layout(self, n_features, n_outputs):
        """One weight matrix from the inputs to the outputs."""
        return Layout([n_features, n_outputs])

    def _has_weights(self):
        """Whether fitted weights exist to continue from."""
        return hasattr(self, "coef_")

    def _dropout_rates(self, n_hidden):
        """Input dropout: the only layer that feeds the weights."""
        return [self.dropout]

    def _solver_name(self, partial=False):
        """Resolve ``solver="auto"`` (and the full-batch solver in partial_fit)."""
        stochastic = partial or self.dropout > 0 or self.early_stopping
        if self.solver == "auto":
            return "sgd" if stochastic else "fista"
        if self.solver == "fista" and stochastic:
            if partial:
                return "sgd"
            raise ValueError(
                "solver='fista' is a full-batch method and cannot use dropout or "
                "early stopping; use solver='sgd' or 'adam' (or 'auto')."
            )
        return self.solver

    def _curvature(self, squared_norm):
        """Bound on the curvature of a mini-batch loss (see ``learning_rate_init``)."""
        return (squared_norm + self.fit_intercept) / (
            1.0 - self.dropout
        ) + self._penalty().l2

    def _family_records(self, data, solver):
        """``solver_`` and ``feature_std_``, over the rows trained on."""
        return {
            "solver": solver,
            "feature_std": weighted_feature_std(data.X, data.sample_weight),
        }

    def _full_batch_solution(self, layout, result, sample_weighted=True):
        """The parameter vector and TrainingRecord of a ``FullBatchResult``.

        ``sample_weighted``: the solver weighed the samples by their sample
        weights alone, so its feature means are the records'.
        """
        self._warn_not_converged(result.converged)
        theta = layout.pack(
            [np.asarray(result.coef).T],
            [
                np.asarray(result.intercept)
                if self.fit_intercept
                else 0.0 * result.intercept
            ],
            np.float64,
        )
        outputs = None
        if result.raw_output is not None:
            datafit = self._datafit(result.raw_output.shape[1])
            outputs = datafit.inverse_link(result.raw_output)
        record = TrainingRecord.from_full_batch(
            result,
            solver=result.method,
            feature_std=result.x_scale,
            feature_mean=result.feature_mean if sample_weighted else None,
            outputs=outputs,
        )
        return theta, record

    def _fitted_weights(self):
        """The weights as the one weight matrix and bias vector of a network."""
        return [self._coef_matrix().T], [np.ravel(self.intercept_)]

    def _coef_matrix(self):
        """``coef_`` as a (n_outputs, n_features) matrix."""
        return np.atleast_2d(self.coef_)

    def _fitted_network(self):
        """The fitted model as a network with no hidden layer (see FittedNetwork)."""
        coef = self._coef_matrix()
        intercept = np.ravel(self.intercept_).astype(coef.dtype)
        return FittedNetwork(
            [coef.T],
            [intercept],
            "identity",
            self._datafit(coef.shape[0]).output_activation,
            (float(self.dropout),),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class RegressorTaskMixin(BaseWeightsEstimator):
    """Regression: the ``loss`` parameter's datafit, R^2 on held-out rows."""

    @training_method
    def fit(self, X, y, sample_weight=None):
        """Fit the weights to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss; None weighs all
            samples equally.

        Returns
        -------
        self : object
            The fitted estimator.

        Warns
        -----
        PoorFitWarning
            When the trained model fits the training data worse than the
            constant model (``train_loss_ > baseline_loss_``).
        ConvergenceWarning
            When ``max_iter`` ran out before the solver's stopping rule was met.
        """
        return self._fit_template(X, y, sample_weight, partial=False)

    @available_if(_learns_in_chunks)
    @training_method
    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch of mini-batch gradient descent on ``X`` and ``y``.

        Successive calls continue from the current weights and optimiser
        state, so the model can learn from data that arrive in chunks.
        ``train_loss_``, ``baseline_loss_`` and ``train_score_`` describe the
        chunk just seen; no :class:`~sk_weights.PoorFitWarning` is emitted,
        since the first chunks of a stream are expected to fit poorly: compare
        the two losses once the stream is done.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit_template(X, y, sample_weight, partial=True)

    def predict(self, X):
        """Predict the target values of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        X = validate_input(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )
        return self._predict_values(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # The loss's domain: counts or positive amounts only.
        datafit = DATAFITS.get(getattr(self, "loss", None))
        tags.target_tags.positive_only = bool(datafit and datafit.positive_only)
        return tags

    # -- the work -----------------------------------------------------------

    def _validate_training_data(self, X, y, reset):
        """Validate X and y; y becomes a float array of X's dtype."""
        X, y = validate_input(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=True,
        )
        return X, y.astype(X.dtype, copy=False)

    def _encode_target(self, X, y, sample_weight, *, partial, continuing, classes):
        """The targets are y, one column per target; every sample weighs its weight.

        Raises ValueError, before any work, when y is outside the loss's domain.
        """
        targets = y.reshape(-1, 1) if y.ndim == 1 else y
        self._datafit(targets.shape[1]).check_y(targets)
        return FitData(X, y, targets, sample_weight, sample_weight, targets.shape[1])

    def _predict_values(self, X):
        """The predictions for validated X, in ``predict``'s shape (family hook)."""
        raise NotImplementedError

    def _datafit(self, n_outputs):
        """The datafit the ``loss`` parameter names (with its options)."""
        # The parameters are the instance's attributes (scikit-learn's rule);
        # get_params would inspect the signature on every call.
        return make_datafit(self.loss, **vars(self))

    def _hold_out(self, data, layout, rng):
        """Hold out ``validation_fraction`` of the data and build its scorer.

        Returns the rows kept for training, the scorer and whether the
        held-out part is enough to stop on (see ``informative_validation``).
        """
        X, y, sample_weight = data.X, data.targets, data.sample_weight
        # R^2 needs two held-out samples, whatever the fraction gives.
        n_validation = max(2, int(np.ceil(self.validation_fraction * X.shape[0])))
        if X.shape[0] - n_validation < 1:
            raise ValueError(
                f"Early stopping holds out {n_validation} samples to score, which "
                f"leaves none to train on with n_samples={X.shape[0]}: use more "
                "samples or early_stopping=False."
            )
        rows, held_out = split_rows(X.shape[0], n_validation, rng)
        X_val, y_val, sw_val = X[held_out], y[held_out], sample_weight[held_out]
        sw_normalised = sw_val / sw_val.sum()
        activation = self._hidden_activation()
        datafit = self._datafit(layout.layer_sizes[-1])

        def validation_score(theta):
            coefs, intercepts = layout.unpack(theta)
            prediction = predict(
                coefs, intercepts, X_val, activation, datafit.output_activation
            )
            return (
                r2_score(y_val, prediction, sample_weight=sw_val),
                datafit.loss(y_val, prediction, sw_normalised),
            )

        return rows, validation_score, informative_validation(sw_val)

    def _fit_quality_terms(self, X, y, outputs=None):
        """The datafit, its targets and the model's outputs and predictions on X."""
        if outputs is None:
            prediction = self._predict_values(X)
        else:
            prediction = outputs.reshape(y.shape)
        targets = np.asarray(y.reshape(len(y), -1), dtype=np.float64)
        return (
            self._datafit(targets.shape[1]),
            targets,
            prediction.reshape(len(y), -1),
            prediction,
        )


class ClassifierTaskMixin(BaseWeightsEstimator):
    """Classification: classes and class weights, the log loss, probabilities.

    Two classes get one logistic output, more a softmax layer. A class that
    sets ``_supports_multilabel`` also takes a label-indicator matrix y, as
    :class:`~sklearn.neural_network.MLPClassifier` does: one logistic output
    per label, the binary log loss summed over the labels, ``classes_`` the
    label indices and ``predict`` the indicator matrix.
    """

    #: Whether y may be a label-indicator matrix.
    _supports_multilabel = False

    @training_method
    def fit(self, X, y, sample_weight=None):
        """Train the model on ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (numbers or strings), or a label-indicator matrix
            where the estimator supports multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss (multiplied by its
            class weight); None weighs all samples equally.

        Returns
        -------
        self : object
            The fitted estimator.

        Warns
        -----
        PoorFitWarning
            When the trained model fits the training data worse than the
            constant model (``train_loss_ > baseline_loss_``).
        ConvergenceWarning
            When ``max_iter`` epochs ran out before a stopping rule was met.
        """
        return self._fit_template(X, y, sample_weight, partial=False)

    @available_if(_learns_in_chunks)
    @training_method
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of mini-batch gradient descent on ``X`` and ``y``.

        Successive calls continue from the current weights and optimiser
        state, so the model can learn from data that arrive in chunks.
        ``train_loss_``, ``baseline_loss_`` and ``train_score_`` describe the
        chunk just seen; no :class:`~sk_weights.PoorFitWarning` is emitted,
        since the first chunks of a stream are expected to fit poorly: compare
        the two losses once the stream is done.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Its class labels, all in ``classes`` (or a label-indicator
            matrix, whose ``classes`` are the label indices).
        classes : array-like of shape (n_classes,), default=None
            Every class the model will ever see. Required on the first call
            (a chunk may lack some classes); on later calls it must be the
            same or None.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: a chunk "
                "does not tell the class frequencies. Compute the class weights on a "
                "representative sample of labels, e.g. with "
                "sklearn.utils.compute_class_weight('balanced', classes=classes, "
                "y=y_sample), and pass them as a dict {label: weight}."
            )
        if not self._has_weights() and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit_template(X, y, sample_weight, partial=True, classes=classes)

    def predict_proba(self, X):
        """Return the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Class probabilities in the order of ``classes_``, in the dtype of
            the weights; for multilabel targets, the probability of each
            label (the rows need not sum to 1).
        """
        check_is_fitted(self)
        network = self._fitted_network()
        X = validate_input(
            self, X, reset=False, accept_sparse="csr", dtype=network.coefs[0].dtype
        )
        return self._probabilities(X)

    def predict_log_proba(self, X):
        """Return the logarithm of the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict the most probable class of each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels, from ``classes_``; for multilabel targets, the
            label-indicator matrix (probability above 0.5).
        """
        return self._decide_labels(self.predict_proba(X))

    # -- the work -----------------------------------------------------------

    def _validate_training_data(self, X, y, reset):
        """Validate X (dense or CSR, float32 kept) and the class labels y."""
        X, y = validate_input(
            self,
            X,
            y,
            reset=reset,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            multi_output=self._supports_multilabel,
        )
        if y.dtype == object:
            labels = np.ravel(y)
            is_str = np.array([isinstance(label, str) for label in labels])
            if 0 < is_str.sum() < is_str.size:
                # The wording of scikit-learn's unique_labels; sorting the
                # labels would fail on "'<' not supported" instead.
                raise ValueError(
                    "Mix of label input types (string and number) in y, e.g. "
                    f"{labels[is_str][0]!r} and {labels[~is_str][0]!r}: give "
                    "every label the same type, e.g. with y.astype(str)."
                )
        target_type = type_of_target(y, input_name="y")
        supported = ["binary", "multiclass"]
        if self._supports_multilabel:
            supported.append("multilabel-indicator")
            if target_type != "multilabel-indicator" and y.ndim == 2:
                y = column_or_1d(y, warn=True)
        if target_type not in supported:
            # scikit-learn's own error for a target that is no classification
            # at all (continuous values, ...), else ours.
            check_classification_targets(y)
            raise ValueError(
                f"{type(self).__name__} supports {', '.join(supported)} targets, "
                f"got {target_type!r}."
            )
        if target_type == "multilabel-indicator":
            y = y.toarray() if sp.issparse(y) else y
            y = (np.asarray(y) > 0).astype(np.intp)
        return X, y

    def _class_weights(self, classes, y_index, sample_weight):
        """Return the weight of each class (see ``class_weight``).

        ``"balanced"`` is ``sklearn.utils.compute_class_weight``'s rule with
        sample weights, written out: that function takes ``sample_weight``
        only from scikit-learn 1.7 (the minimum supported is 1.6), and it
        gives an infinite weight to a class whose samples all weigh 0, which
        keeps weight 1 here.
        """
        class_weights = np.ones(classes.size)
        if isinstance(self.class_weight, dict):
            bad = {
                label: value
                for label, value in self.class_weight.items()
                if not (isinstance(value, Real) and 0 <= value < np.inf)
            }
            if bad:
                raise ValueError(
                    f"class_weight must give every class a finite, non-negative "
                    f"number, got {bad}: a class weight multiplies the loss of "
                    "that class's samples (0 ignores them)."
                )
        if self.class_weight == "balanced":
            totals = np.bincount(y_index, weights=sample_weight, minlength=classes.size)
            present = totals > 0
            class_weights[present] = totals.sum() / (classes.size * totals[present])
        elif isinstance(self.class_weight, dict):
            labels = classes.tolist()
            unknown = set(self.class_weight) - set(labels)
            if unknown:
                raise ValueError(
                    f"class_weight has labels that are not classes: {sorted(unknown)}"
                    f" (classes are {labels})."
                )
            class_weights = np.array(
                [float(self.class_weight.get(c, 1.0)) for c in labels]
            )
        return class_weights

    def _encode_target(self, X, y, sample_weight, *, partial, continuing, classes):
        """The classes, the targets the loss sees and the weights with class weights.

        Sets ``classes_``, which the hooks read during training.
        """
        if partial:
            classes, y_index = self._partial_fit_classes(y, classes, continuing)
        else:
            classes, y_index = self._fit_classes(y, continuing)
        dtype = X.dtype
        multilabel = y_index.ndim == 2
        if continuing and multilabel != self._is_multilabel():
            fitted, given = "1-D class labels", "a label-indicator matrix"
            if multilabel:
                fitted, given = given, fitted
            raise ValueError(
                f"{type(self).__name__} was fitted on {fitted} and cannot continue "
                f"on {given}: the kind of target fixes the outputs. Pass y as "
                f"{fitted}, or refit with fit (warm_start=False)."
            )
        if multilabel:
            # One logistic output per label; y is the indicator matrix itself.
            if self.class_weight is not None:
                raise ValueError(
                    "class_weight is not supported with multilabel targets (a "
                    "sample belongs to several classes): weigh the samples with "
                    "sample_weight instead."
                )
            n_outputs, labels, loss_weight = classes.size, y_index, sample_weight
            targets = y_index.astype(dtype)
        else:
            n_outputs = 1 if classes.size == 2 else classes.size
            labels = classes[y_index]
            # Each sample's weight in the objective: sample weight times class
            # weight. Without class weights, the sample weights themselves
            # (the same object: the solver's feature means are then the
            # records', see _full_batch_solution).
            loss_weight = sample_weight
            if self.class_weight is not None:
                class_weights = self._class_weights(classes, y_index, sample_weight)
                loss_weight = sample_weight * class_weights.astype(dtype)[y_index]
            targets = _encode_targets(y_index, n_outputs, dtype)
        if not np.any(loss_weight > 0):
            raise ValueError(
                "Every sample has zero weight (sample_weight times class_weight): "
                "the model has nothing to learn from."
            )
        self._multilabel = multilabel  # read by the hooks during training
        self.classes_ = classes
        return FitData(X, labels, targets, sample_weight, loss_weight, n_outputs)

    def _end_fit(self):
        """Drop the multilabel flag: fitted, the outputs tell it (_is_multilabel)."""
        vars(self).pop("_multilabel", None)

    def _fit_classes(self, y, continuing):
        """``fit``'s classes, from y, and y as class indices (or indicators)."""
        if y.ndim == 2:
            # Multilabel: the classes are the label indices, as in scikit-learn.
            classes, y_index = np.arange(y.shape[1]), y
        else:
            classes, y_index = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                "The training data need samples of at least two classes; got "
                f"only one class: {classes[0]!r}."
            )
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the same classes as before ("
                f"{self.classes_.tolist()}), got {classes.tolist()}; refit with "
                "warm_start=False."
            )
        return classes, y_index

    def _partial_fit_classes(self, y, classes, continuing):
        """``partial_fit``'s classes, from its argument, and y as class indices."""
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if continuing and not np.array_equal(classes, self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()} is not the same as on the previous "
                    f"call to partial_fit ({self.classes_.tolist()})."
                )
            if classes.size < 2:
                raise ValueError(
                    f"classes must hold at least two labels, got {classes.tolist()}."
                )
        else:
            classes = self.classes_
        if y.ndim == 2:
            if not np.array_equal(classes, np.arange(y.shape[1])):
                raise ValueError(
                    f"With a label-indicator y of {y.shape[1]} labels, classes "
                    f"must be the label indices {list(range(y.shape[1]))}, got "
                    f"{classes.tolist()}."
                )
            return classes, y
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels that are not in classes: {unknown.tolist()} "
                f"(classes are {classes.tolist()})."
            )
        return classes, np.searchsorted(classes, y)

    def _datafit(self, n_outputs):
        """One logistic output for two classes or per label, else a softmax layer."""
        return _BINARY if n_outputs == 1 or self._is_multilabel() else _MULTINOMIAL

    def _is_multilabel(self):
        """Whether the model is (being) fitted to a label-indicator matrix."""
        multilabel = getattr(self, "_multilabel", None)
        if multilabel is None:
            # A fitted network tells it by its outputs (fit sets the flag
            # while it trains).
            return (
                getattr(self, "out_activation_", None) == "logistic"
                and getattr(self, "n_outputs_", 1) > 1
            )
        return multilabel

    def _decide_labels(self, proba):
        """Predicted labels from probabilities (an indicator matrix if multilabel)."""
        if self._is_multilabel():
            return (proba > 0.5).astype(np.intp)
        return self.classes_[np.argmax(proba, axis=1)]

    def _fitted_attributes(self, layout, theta, y):
        """The classes (a family mixin adds the weights)."""
        return {"classes_": self.classes_}

    def _hold_out(self, data, layout, rng):
        """Hold out a stratified ``validation_fraction``.

        Returns the rows kept for training, the scorer of the held-out rows
        and whether they are enough to stop on (see ``informative_validation``).
        """
        if self._is_multilabel():
            return self._hold_out_multilabel(data, layout, rng)
        X, loss_weight = data.X, data.loss_weight
        y_index = np.searchsorted(self.classes_, data.y)
        n_samples = X.shape[0]
        n_classes = int(y_index.max()) + 1
        n_validation = max(
            n_classes, int(np.ceil(self.validation_fraction * n_samples))
        )
        if np.bincount(y_index).min() < 2 or n_samples - n_validation < n_classes:
            raise ValueError(
                "Early stopping holds out a stratified validation_fraction="
                f"{self.validation_fraction} of the data ({n_validation} samples), "
                "which needs at least two samples of every class and leaves too "
                f"few to train on with n_samples={n_samples}: use more samples or "
                "early_stopping=False."
            )
        train_rows, validation_rows = split_rows(
            n_samples, n_validation, rng, stratify=y_index
        )
        X_val, y_val = X[validation_rows], y_index[validation_rows]
        sw_val = loss_weight[validation_rows].astype(np.float64)
        if sw_val.sum() == 0:
            sw_val = np.ones_like(sw_val)
        informative = informative_validation(sw_val)
        sw_val /= sw_val.sum()
        n_outputs = layout.layer_sizes[-1]
        datafit = self._datafit(n_outputs)
        targets_val = _one_hot(y_val, n_outputs, np.float64)
        activation = self._hidden_activation()

        def validation_score(theta):
            coefs, intercepts = layout.unpack(theta)
            output = predict(
                coefs, intercepts, X_val, activation, datafit.output_activation
            )
            accuracy = float(sw_val @ (_decide(output) == y_val))
            return accuracy, datafit.loss(targets_val, output, sw_val)

        return train_rows, validation_score, informative

    def _hold_out_multilabel(self, data, layout, rng):
        """Hold out ``validation_fraction`` of multilabel data, not stratified.

        The score is the subset accuracy (every label right), at equal
        accuracy the held-out binary log loss summed over the labels decides.
        """
        n_samples = data.X.shape[0]
        n_validation = max(2, int(np.ceil(self.validation_fraction * n_samples)))
        if n_samples - n_validation < 1:
            raise ValueError(
                f"Early stopping holds out {n_validation} samples to score, which "
                f"leaves none to train on with n_samples={n_samples}: use more "
                "samples or early_stopping=False."
            )
        train_rows, validation_rows = split_rows(n_samples, n_validation, rng)
        X_val, y_val = data.X[validation_rows], data.y[validation_rows]
        sw_val = data.loss_weight[validation_rows].astype(np.float64)
        if sw_val.sum() == 0:
            sw_val = np.ones_like(sw_val)
        informative = informative_validation(sw_val)
        sw_val /= sw_val.sum()
        targets_val = y_val.astype(np.float64)
        activation = self._hidden_activation()

        def validation_score(theta):
            coefs, intercepts = layout.unpack(theta)
            output = predict(
                coefs, intercepts, X_val, activation, _BINARY.output_activation
            )
            accuracy = float(sw_val @ np.all((output > 0.5) == y_val, axis=1))
            return accuracy, _BINARY.loss(targets_val, output, sw_val)

        return train_rows, validation_score, informative

    def _fit_quality_terms(self, X, y, outputs=None):
        """The datafit, its targets and the model's outputs and predictions on X.

        One column of probability per class (a softmax's loss, also for two
        classes), or per label (independent logistic outputs).
        """
        proba = (
            self._probabilities(X)
            if outputs is None
            else self._probabilities_of_outputs(outputs)
        )
        if self._is_multilabel():
            targets, datafit = y.astype(np.float64), _BINARY
        else:
            targets = (y[:, np.newaxis] == self.classes_).astype(np.float64)
            datafit = _MULTINOMIAL
        return datafit, targets, proba, self._decide_labels(proba)

    def _probabilities(self, X):
        """Class probabilities of validated X, in the order of ``classes_``."""
        network = self._fitted_network()
        output = predict(
            network.coefs,
            network.intercepts,
            X,
            network.activation,
            network.output_activation,
        )
        return self._probabilities_of_outputs(output)

    def _probabilities_of_outputs(self, output):
        """Class probabilities, in the order of ``classes_``, of the network's
        outputs (one logistic output, or one per class or label)."""
        if output.shape[1] == 1 and not self._is_multilabel():
            # The single logistic output is the probability of classes_[1].
            return np.hstack([1 - output, output])
        return output


def _encode_targets(y_index, n_outputs, dtype):
    """A single 0/1 column for a binary problem, else the class indices.

    Training one-hot encodes class indices batch by batch: the n_samples x
    n_classes matrix of one-hot targets is never made.
    """
    if n_outputs == 1:
        return y_index.astype(dtype).reshape(-1, 1)
    return y_index


def _one_hot(y_index, n_outputs, dtype):
    """Targets as the network's output sees them: one 0/1 column, or one-hot."""
    encoded = _encode_targets(y_index, n_outputs, dtype)
    return encoded if n_outputs == 1 else np.eye(n_outputs, dtype=dtype)[encoded]


def _decide(output):
    """Class index of each row of the network's output."""
    if output.shape[1] == 1:
        return (output[:, 0] > 0.5).astype(np.intp)
    return np.argmax(output, axis=1)
