"""MLPWeightsClassifier: a feed-forward network with penalised, readable weights."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from sk_weights._activations import HIDDEN_ACTIVATIONS
from sk_weights._base import (
    COMMON_CONSTRAINTS,
    FitData,
    WeightsEstimatorMixin,
    check_sample_weight,
    informative_validation,
    keeps_state_on_failure,
    silence_overflow,
    split_rows,
)
from sk_weights._callbacks import FitCallbacks
from sk_weights._losses import LOSSES
from sk_weights._network import (
    FittedNetwork,
    Layout,
    connection_weights,
    init_parameters,
    predict,
)
from sk_weights._sklearn_compat import _fit_context, check_is_fitted
from sk_weights._validation import validate_input

#: The loss that goes with each output activation.
_OUTPUT_LOSSES = {"logistic": "binary_log_loss", "softmax": "log_loss"}

#: Step size of Adam for ``learning_rate_init="auto"`` (Kingma & Ba's default).
_ADAM_AUTO_LEARNING_RATE = 1e-3


class MLPWeightsClassifier(ClassifierMixin, WeightsEstimatorMixin):
    """Feed-forward network classifier with penalised, readable weights.

    A multi-layer perceptron trained by backpropagation and mini-batch
    gradient descent (Adam or SGD with momentum) on the cross-entropy, with
    an L1, L2 or elastic-net penalty on its weight matrices and (inverted)
    dropout on its hidden units. Binary problems use one logistic output,
    multiclass problems a softmax layer.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Units of each hidden layer; ``()`` gives no hidden layer, i.e.
        (multinomial) logistic regression.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden units.
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Penalty on the weight matrices (never on the biases). ``"l1"`` sets
        weights to exactly zero; ``None`` disables the penalty.
    alpha : float, default=1e-4
        Strength of the penalty; ignored when ``penalty=None``. Unlike
        :class:`~sklearn.neural_network.MLPClassifier`, whose L2 term is divided
        by the number of samples, it is added as it is to the weighted *mean*
        loss (see Notes), as in :class:`WeightedLinearRegressor`.
    l1_ratio : float, default=0.15
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1].
    dropout : float or array-like of float, default=0.0
        Probability of dropping each hidden unit during training, one rate
        for all hidden layers or one per hidden layer. Survivors are scaled by
        ``1 / (1 - p)`` (inverted dropout), so prediction, which never drops
        anything, needs no rescaling. The input features are never dropped.
    solver : {"adam", "sgd"}, default="adam"
        ``"adam"``: Adam. ``"sgd"``: stochastic gradient descent with
        ``momentum`` (Nesterov's if ``nesterovs_momentum``) and the
        ``learning_rate`` schedule.
    learning_rate_init : float or "auto", default=0.001
        Initial step size. ``"auto"`` gives 0.001 for ``"adam"`` (its steps do
        not depend on the scale of the gradient) and, for ``"sgd"``,
        ``(1 - momentum) / L`` (``1 / L`` without momentum) with ``L = 1 +
        mean squared norm of a sample + the L2 strength``: the curvature bound
        of the softmax loss of the first layer, seen as a linear model.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of ``"sgd"``: constant; ``learning_rate_init / (t + 1) **
        power_t`` after each epoch, with ``t`` the samples seen; or divided by 5
        each time training stops improving, until it falls below 1e-6.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (passes over the data).
    tol : float, default=1e-4
        Training stops when the loss (or, with early stopping, the validation
        score) has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the data, stop when
        its accuracy (weighted by the sample and class weights) stops improving
        and keep the best weights seen (``best_epoch_``). At an equal accuracy
        a lower held-out log loss counts as an improvement, since accuracy on
        few samples moves in coarse steps. A held-out part of fewer than 10
        samples, counted by their sample weights as ``sum(w)**2 / sum(w**2)``,
        is too small to judge: its scores are recorded, but the training loss
        decides when to stop and the last weights are kept. :meth:`partial_fit`
        ignores it.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping (at least one
        sample per class).
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    shuffle : bool, default=True
        Whether to visit the samples in a new random order each epoch.
    class_weight : dict, "balanced" or None, default=None
        Weight of each class in the loss, multiplying ``sample_weight``:
        ``{label: weight}`` (missing labels weigh 1), or ``"balanced"``, which
        weighs class ``c`` by ``sum(s) / (n_classes * sum(s[y == c]))`` with
        ``s`` the sample weights, as :func:`sklearn.utils.compute_class_weight`
        does. :meth:`partial_fit` does not accept ``"balanced"``, since a chunk
        does not tell the class frequencies: pass them as a dict.
    warm_start : bool, default=False
        Start :meth:`fit` from the previous weights (and optimiser state)
        instead of a new random initialisation.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the shuffling, the dropout masks and the
        validation split, all drawn from one generator.
    verbose : int, default=0
        Print one line per epoch (loss, validation score, seconds).
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum.
    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.
    epsilon : float, default=1e-8
        Adam's numerical-stability constant.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer, inputs first (sklearn's convention).
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer.
    coef_ : ndarray of shape (n_outputs_, n_features_in_)
        Effective input weights ``(coefs_[0] @ coefs_[1] @ ... @ coefs_[-1]).T``:
        for each output and input feature, the sum over every path from the
        input to the output of the product of the weights on it (Olden's
        connection weights). With ``activation="identity"`` the network is
        linear and its output logits are exactly ``X @ coef_.T`` plus a
        constant. With a non-linear activation it is a summary, not the
        model: it ignores the activations (a ReLU passes a path only where the
        unit is active), so it shows the direction and size of each feature's
        weights, not its effect on a given prediction. One row for a binary
        problem, as in :class:`~sklearn.linear_model.LogisticRegression`.
    feature_importances_ : ndarray of shape (n_features_in_,)
        ``|coef_|`` summed over the outputs and normalised to sum to 1 (uniform
        if all of ``coef_`` is zero), so that
        :class:`~sklearn.feature_selection.SelectFromModel` works.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units: 1 for a binary problem, else ``n_classes``.
    out_activation_ : str
        ``"logistic"`` (binary) or ``"softmax"``.
    loss_curve_ : list of float
        Objective (weighted mean loss plus penalty) after each epoch.
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Held-out accuracy per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out accuracy with early stopping, else None.
    n_iter_ : int
        Epochs run by the last :meth:`fit` (summed over :meth:`partial_fit`
        calls).
    stop_reason_ : {"converged", "early_stopping", "max_iter"}
        Why the last call stopped: the training loss stopped improving by
        ``tol`` for ``n_iter_no_change`` epochs; the validation score did (or a
        callback stopped training); or ``max_iter`` epochs ran out (with a
        :class:`~sklearn.exceptions.ConvergenceWarning`). ``"max_iter"`` after
        :meth:`partial_fit`, whose single epoch has no stopping rule.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights are kept, counted from 1
        along ``loss_curve_``; else None.
    train_loss_ : float
        Data loss (log loss, no penalty, no dropout) of the final weights on
        the data trained on (with early stopping, without the held-out part),
        weighted by ``sample_weight`` times the class weights, as in the
        objective.
    baseline_loss_ : float
        The same loss for the constant model that predicts the weighted class
        priors. ``train_loss_ > baseline_loss_`` means training failed: see
        :class:`~sk_weights.PoorFitWarning`.
    train_score_ : float
        Accuracy on the same data, weighted by ``sample_weight``, as
        ``score(X, y, sample_weight)`` gives.
    weight_norms_curve_ : ndarray of shape (n_epochs, n_layers_ - 1)
        L2 (Frobenius) norm of each weight matrix at the end of each epoch,
        extended like ``loss_curve_``.
    zero_fraction_curve_ : ndarray of shape (n_epochs, n_layers_ - 1)
        Fraction of exactly zero weights of each weight matrix at the end of
        each epoch, extended like ``loss_curve_``.
    t_ : int
        Training samples seen by the optimiser.
    feature_mean_ : ndarray of shape (n_features,)
        Mean of each feature over the rows trained on (without the part held
        out for early stopping), weighted by ``sample_weight``, in float64:
        the default baseline of :func:`~sk_weights.explain`. After
        ``partial_fit`` it is the running mean of every chunk seen so far.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network, penalised by L2 only.
    WeightedLinearRegressor : A linear model with the same penalties.

    Notes
    -----
    The network minimises, with ``s_i`` the sample weight times the class
    weight of sample ``i`` and ``W`` all entries of the weight matrices,

    .. math::

        \\frac{1}{\\sum_i s_i} \\sum_i s_i \\, \\mathrm{logloss}(y_i, f(x_i))
        + \\alpha \\left(\\rho \\lVert W \\rVert_1
        + \\tfrac12 (1 - \\rho) \\lVert W \\rVert_2^2\\right)

    with ``rho = l1_ratio`` (1 for ``"l1"``, 0 for ``"l2"``), each mini-batch
    estimating the mean loss with its own weights. The smooth part is
    followed by gradient steps; after each one, the L1 part is applied by
    soft-thresholding with the step the optimiser just took (per weight for
    Adam), so L1 zeros are exact. The weights start from Glorot's uniform
    initialisation.

    References
    ----------
    Glorot, X. and Bengio, Y. (2010). Understanding the difficulty of training
    deep feedforward neural networks. AISTATS.
    Kingma, D. P. and Ba, J. (2015). Adam: a method for stochastic
    optimization. ICLR.
    Srivastava, N. et al. (2014). Dropout: a simple way to prevent neural
    networks from overfitting. JMLR 15.
    Olden, J. D. and Jackson, D. A. (2002). Illuminating the "black box": a
    randomization approach for understanding variable contributions in
    artificial neural networks. Ecological Modelling 154.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_weights import MLPWeightsClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> model = MLPWeightsClassifier(
    ...     hidden_layer_sizes=(16,),
    ...     batch_size=32,
    ...     learning_rate_init=0.01,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> [W.shape for W in model.coefs_]
    [(4, 16), (16, 3)]
    >>> model.coef_.shape
    (3, 4)
    >>> bool(model.score(X, y) > 0.95)
    True
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "solver": [StrOptions({"adam", "sgd"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        dropout=0.0,
        solver="adam",
        learning_rate_init=0.001,
        learning_rate="constant",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        momentum=0.9,
        nesterovs_momentum=True,
        power_t=0.5,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.power_t = power_t
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss (multiplied by its
            class weight); None weighs all samples equally.

        Returns
        -------
        self : MLPWeightsClassifier
            The fitted estimator.

        Warns
        -----
        PoorFitWarning
            When the trained network fits the training data worse than the
            constant model (``train_loss_ > baseline_loss_``).
        ConvergenceWarning
            When ``max_iter`` epochs ran out before a stopping rule was met.
        """
        X, y = self._validate_training_data(X, y, reset=True)
        classes, y_index = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                "The training data need samples of at least two classes; got "
                f"only one class: {classes[0]!r}."
            )
        continuing = self.warm_start and hasattr(self, "coefs_")
        if continuing and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start=True needs the same classes as before ("
                f"{self.classes_.tolist()}), got {classes.tolist()}; refit with "
                "warm_start=False."
            )
        sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        return self._fit(
            X, y_index, classes, sample_weight, partial=False, continuing=continuing
        )

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of mini-batch gradient descent on ``X`` and ``y``.

        Successive calls continue from the current weights and optimiser
        state, so the network can learn from data that arrive in chunks.
        ``train_loss_``, ``baseline_loss_`` and ``train_score_`` describe the
        chunk just seen; no :class:`~sk_weights.PoorFitWarning` is emitted,
        since the first chunks of a stream are expected to fit poorly: compare
        the two losses once the stream is done.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class the model will ever see. Required on the first call
            (a chunk may lack some classes); on later calls it must be the
            same or None.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : MLPWeightsClassifier
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
        first_call = not hasattr(self, "coefs_")
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        X, y = self._validate_training_data(X, y, reset=first_call)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            if not first_call and not np.array_equal(classes, self.classes_):
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
        unknown = np.setdiff1d(y, classes)
        if unknown.size:
            raise ValueError(
                f"y contains labels that are not in classes: {unknown.tolist()} "
                f"(classes are {classes.tolist()})."
            )
        y_index = np.searchsorted(classes, y)
        sample_weight = check_sample_weight(sample_weight, X, X.dtype)
        return self._fit(
            X, y_index, classes, sample_weight, partial=True, continuing=not first_call
        )

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
            the weights.
        """
        check_is_fitted(self)
        X = validate_input(
            self, X, reset=False, accept_sparse="csr", dtype=self.coefs_[0].dtype
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
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

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
        importance = np.abs(self.coef_).sum(axis=0)
        total = importance.sum()
        if total == 0:
            return np.full_like(importance, 1.0 / importance.size)
        return importance / total

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

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
        )
        check_classification_targets(y)
        if type_of_target(y) not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary and multiclass targets, "
                f"got {type_of_target(y)!r}."
            )
        return X, y

    def _solver_name(self, partial=False):
        """The optimiser to train with (the same for fit and partial_fit)."""
        return self.solver

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

    def _fit(self, X, y_index, classes, sample_weight, partial, continuing):
        """Train on validated data; assign the fitted attributes only on success."""
        dtype = X.dtype
        n_outputs = 1 if classes.size == 2 else classes.size
        layout = Layout([X.shape[1], *self._hidden_sizes(), n_outputs])

        # Each sample's weight in the objective: sample weight times class weight.
        class_weights = self._class_weights(classes, y_index, sample_weight)
        loss_weight = sample_weight * class_weights.astype(dtype)[y_index]
        if not np.any(loss_weight > 0):
            raise ValueError(
                "Every sample has zero weight (sample_weight times class_weight): "
                "the model has nothing to learn from."
            )
        targets = _encode_targets(y_index, n_outputs, dtype)
        callbacks = FitCallbacks(
            self,
            X,
            lambda: classes[y_index],
            sample_weight,
            max_epochs=1 if partial else self.max_iter,
        )
        self.classes_ = classes
        data = FitData(X, classes[y_index], targets, sample_weight, loss_weight)
        with silence_overflow():
            self._train_network(
                data,
                layout,
                partial=partial,
                continuing=continuing,
                callbacks=callbacks,
            )
        callbacks.end()
        return self

    # -- what differs from the shell's training run (see _base) ---------------

    def _hidden_activation(self):
        return self.activation

    def _loss(self, n_outputs):
        return _OUTPUT_LOSSES[_output_activation(n_outputs)]

    def _initial_parameters(self, layout, rng, dtype):
        """Glorot's uniform initialisation (see the class docstring)."""
        return init_parameters(layout, self.activation, rng, dtype)

    def _current_parameters(self, layout, dtype):
        """The fitted weights as a flat parameter vector, to continue from."""
        if [c.shape for c in self.coefs_] != layout.coef_shapes:
            raise ValueError(
                f"The network has layers {[c.shape for c in self.coefs_]} but "
                f"the parameters ask for {layout.coef_shapes}; refit with "
                "warm_start=False."
            )
        return layout.pack(self.coefs_, self.intercepts_, dtype)

    def _curvature(self, squared_norm):
        """The curvature bound of the first layer's loss, seen as a linear model."""
        return 1.0 + squared_norm + self._penalty().l2

    def _adam_learning_rate(self, targets, sample_weight, curvature):
        return _ADAM_AUTO_LEARNING_RATE

    def _fitted_attributes(self, layout, theta, y):
        """The fitted attributes of the network that ``theta`` holds."""
        coefs, intercepts = layout.unpack(theta)
        return {
            "classes_": self.classes_,
            "coefs_": [np.array(c) for c in coefs],
            "intercepts_": [np.array(b) for b in intercepts],
            "n_layers_": layout.n_layers + 1,
            "n_outputs_": layout.layer_sizes[-1],
            "out_activation_": _output_activation(layout.layer_sizes[-1]),
        }

    def _hold_out(self, data, layout, rng):
        """Hold out a stratified ``validation_fraction``.

        Returns the rows kept for training, the scorer of the held-out rows
        and whether they are enough to stop on (see ``informative_validation``).
        """
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
        out_activation = _output_activation(n_outputs)
        loss = _OUTPUT_LOSSES[out_activation]
        targets_val = _one_hot(y_val, n_outputs, np.float64)

        def validation_score(theta):
            coefs, intercepts = layout.unpack(theta)
            output = predict(coefs, intercepts, X_val, self.activation, out_activation)
            accuracy = float(sw_val @ (_decide(output) == y_val))
            return accuracy, LOSSES[loss](targets_val, output, sw_val)

        return train_rows, validation_score, informative

    def _fit_quality_terms(self, X, y):
        """The loss, its targets and the model's outputs and predictions on X."""
        proba = self._probabilities(X)
        return (
            "log_loss",
            (y[:, np.newaxis] == self.classes_).astype(np.float64),
            proba,
            self.classes_[np.argmax(proba, axis=1)],
        )

    def _fitted_network(self):
        """The fitted network, its activations and dropout rates (FittedNetwork)."""
        return FittedNetwork(
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.out_activation_,
            tuple(self._dropout_rates(len(self.coefs_) - 1)),
        )

    def _probabilities(self, X):
        """Class probabilities of validated X, in the order of ``classes_``."""
        output = predict(
            self.coefs_, self.intercepts_, X, self.activation, self.out_activation_
        )
        if self.n_outputs_ == 1:
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


def _output_activation(n_outputs):
    """One logistic output for two classes, else a softmax layer."""
    return "logistic" if n_outputs == 1 else "softmax"
