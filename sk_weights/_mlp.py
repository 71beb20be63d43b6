"""The network estimators: what differs from the family and task bases."""

from numbers import Integral, Real

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from sk_weights._activations import HIDDEN_ACTIVATIONS
from sk_weights._base import COMMON_CONSTRAINTS
from sk_weights._datafits import regression_losses
from sk_weights._mixins import ClassifierTaskMixin, NetworkMixin, RegressorTaskMixin
from sk_weights._network import predict
from sk_weights._sklearn_compat import check_is_fitted
from sk_weights._validation import validate_input


class MLPWeightsClassifier(ClassifierMixin, NetworkMixin, ClassifierTaskMixin):
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
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"``: Adam. ``"sgd"``: stochastic gradient descent with
        ``momentum`` (Nesterov's if ``nesterovs_momentum``) and the
        ``learning_rate`` schedule. ``"lbfgs"``: scipy's L-BFGS-B on the
        whole data at every step (often the best choice for small data
        sets), the L1 part through split non-negative halves of each weight
        so that its zeros are exact; it takes neither dropout nor early
        stopping (a ValueError), ignores the mini-batch and learning-rate
        parameters, and has no :meth:`partial_fit`.
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
        Maximum number of epochs (passes over the data); for ``"lbfgs"``,
        of iterations.
    tol : float, default=1e-4
        Training stops when the loss (or, with early stopping, the validation
        score) has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        ``"lbfgs"`` stops when the largest entry of the (projected) gradient
        of the objective is at most ``tol``.
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
    max_fun : int, default=15000
        Maximum number of evaluations of the objective (and its gradient) by
        ``"lbfgs"``, which may stop on it before ``max_iter`` iterations (its
        line searches evaluate the objective one or more times per
        iteration); ignored by the other solvers.

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
        Objective (weighted mean loss plus penalty) after each epoch (each
        iteration for ``"lbfgs"``).
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Held-out accuracy per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out accuracy with early stopping, else None.
    n_iter_ : int
        Epochs (``"lbfgs"``: iterations) run by the last :meth:`fit` (summed
        over :meth:`partial_fit` calls).
    stop_reason_ : {"converged", "early_stopping", "max_iter"}
        Why the last call stopped: the training loss stopped improving by
        ``tol`` for ``n_iter_no_change`` epochs; the validation score did (or a
        callback stopped training); or ``max_iter`` epochs ran out (with a
        :class:`~sklearn.exceptions.ConvergenceWarning`). ``"max_iter"`` after
        :meth:`partial_fit`, whose single epoch has no stopping rule. For
        ``"lbfgs"``: ``"converged"`` when the projected gradient fell below
        ``tol`` (or an iteration barely lowered the objective, scipy's
        relative rule), else ``"max_iter"``, whichever limit (``max_iter``,
        ``max_fun``) or line-search failure stopped it, with a
        ``ConvergenceWarning`` that says which.
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

    _supports_multilabel = True

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
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
        max_fun=15000,
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
        self.max_fun = max_fun

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def decision_function(self, X):
        """Return the network's logits: its output before the sigmoid or softmax.

        These are the outputs that :func:`sk_weights.explain` splits into
        per-feature contributions; ``predict_proba`` is their sigmoid (two
        classes, multilabel) or softmax.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the log-odds of ``classes_[1]``; otherwise one
            logit per class (per label for multilabel targets), in the dtype
            of the weights.

        Examples
        --------
        >>> import numpy as np
        >>> from scipy.special import softmax
        >>> from sklearn.datasets import load_iris
        >>> from sk_weights import MLPWeightsClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> model = MLPWeightsClassifier((8,), max_iter=50, random_state=0).fit(X, y)
        >>> scores = model.decision_function(X[:2])
        >>> scores.shape
        (2, 3)
        >>> np.allclose(softmax(scores, axis=1), model.predict_proba(X[:2]))
        True
        """
        check_is_fitted(self)
        network = self._fitted_network()
        X = validate_input(
            self, X, reset=False, accept_sparse="csr", dtype=network.coefs[0].dtype
        )
        scores = predict(
            network.coefs, network.intercepts, X, network.activation, "identity"
        )
        return scores.ravel() if scores.shape[1] == 1 else scores


class MLPWeightsRegressor(RegressorMixin, NetworkMixin, RegressorTaskMixin):
    """Feed-forward network regressor with penalised, readable weights.

    The network of :class:`MLPWeightsClassifier` with the squared loss and an
    identity output (or the Poisson deviance and an exponential output, see
    ``loss``): one output per target. It is trained by
    backpropagation and mini-batch gradient descent (Adam or SGD with
    momentum), with an L1, L2 or elastic-net penalty on its weight matrices
    and (inverted) dropout on its hidden units.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Units of each hidden layer; ``()`` gives no hidden layer, i.e. a
        linear model.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden units.
    loss : {"squared_error", "poisson"}, default="squared_error"
        ``"squared_error"``: half the squared error, identity outputs.
        ``"poisson"``: half the Poisson deviance with an exponential output
        (a log link), for counts and rates (y >= 0, not all 0); the output
        bias starts at the log of the weighted mean of y. As
        :class:`~sklearn.neural_network.MLPRegressor` (scikit-learn >= 1.7).
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Penalty on the weight matrices (never on the biases). ``"l1"`` sets
        weights to exactly zero; ``None`` disables the penalty.
    alpha : float, default=1e-4
        Strength of the penalty; ignored when ``penalty=None``. It is added as
        it is to the weighted *mean* loss, whereas
        :class:`~sklearn.neural_network.MLPRegressor` divides its L2 term by
        the number of samples: ``alpha`` here matches ``alpha / n_samples``
        there.
    l1_ratio : float, default=0.15
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1].
    dropout : float or array-like of float, default=0.0
        Probability of dropping each hidden unit during training, one rate
        for all hidden layers or one per hidden layer (inverted dropout).
        The input features are never dropped; prediction never drops.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        ``"adam"``: Adam. ``"sgd"``: stochastic gradient descent with
        ``momentum`` (Nesterov's if ``nesterovs_momentum``) and the
        ``learning_rate`` schedule. ``"lbfgs"``: scipy's L-BFGS-B on the
        whole data at every step (often the best choice for small data
        sets), the L1 part through split non-negative halves of each weight
        so that its zeros are exact; it takes neither dropout nor early
        stopping (a ValueError), ignores the mini-batch and learning-rate
        parameters, and has no :meth:`partial_fit`.
    learning_rate_init : float or "auto", default=0.001
        Initial step size; ``"auto"`` as in :class:`MLPWeightsClassifier`.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of ``"sgd"``, as in :class:`MLPWeightsClassifier`.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (passes over the data); for ``"lbfgs"``,
        of iterations.
    tol : float, default=1e-4
        Training stops when the loss (or, with early stopping, the validation
        score) has not improved by ``tol`` for ``n_iter_no_change`` epochs;
        ``"lbfgs"`` stops when the largest entry of the (projected) gradient
        of the objective is at most ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its R^2 stops
        improving and keep the best weights seen (``best_epoch_``). A held-out
        part of fewer than 10 samples, counted by their sample weights as
        ``sum(w)**2 / sum(w**2)``, is too small to judge: its scores are
        recorded, but the training loss decides when to stop and the last
        weights are kept. :meth:`partial_fit` ignores it.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping (at least two
        samples, so that R^2 is defined).
    n_iter_no_change : int or numpy.inf, default=10
        Epochs without improvement before stopping; ``numpy.inf`` never
        stops on a plateau.
    shuffle : bool, default=True
        Whether to visit the samples in a new random order each epoch.
    warm_start : bool, default=False
        Start :meth:`fit` from the previous weights instead of a new random
        initialisation.
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
    max_fun : int, default=15000
        Maximum number of evaluations of the objective (and its gradient) by
        ``"lbfgs"``, which may stop on it before ``max_iter`` iterations (its
        line searches evaluate the objective one or more times per
        iteration); ignored by the other solvers.

    Attributes
    ----------
    coefs_ : list of ndarray of shape (n_in, n_out)
        Weight matrix of each layer, inputs first (sklearn's convention).
    intercepts_ : list of ndarray of shape (n_out,)
        Bias vector of each layer.
    coef_ : ndarray of shape (n_features_in_,) or (n_outputs_, n_features_in_)
        Effective input weights ``(coefs_[0] @ ... @ coefs_[-1]).T`` (Olden's
        connection weights, see :class:`MLPWeightsClassifier`): exact for
        ``activation="identity"``, a summary otherwise. One dimension when
        the network has one output, as ``predict`` then returns one.
    feature_importances_ : ndarray of shape (n_features_in_,)
        ``|coef_|`` summed over the outputs and normalised to sum to 1.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs: the number of targets.
    out_activation_ : str
        ``"identity"``, or ``"exp"`` for ``loss="poisson"``.
    loss_curve_ : list of float
        Objective (weighted mean loss plus penalty) after each epoch (each
        iteration for ``"lbfgs"``).
    best_loss_ : float
        Smallest value in ``loss_curve_``.
    validation_scores_ : list of float or None
        Held-out R^2 per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out R^2 with early stopping, else None.
    n_iter_ : int
        Epochs (``"lbfgs"``: iterations) run by the last :meth:`fit` (summed
        over :meth:`partial_fit` calls).
    stop_reason_ : {"converged", "early_stopping", "max_iter"}
        Why the last call stopped, as in :class:`MLPWeightsClassifier`.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights are kept, counted from 1
        along ``loss_curve_``; else None.
    train_loss_ : float
        Weighted mean of ``0.5 * (y - prediction)**2`` (summed over targets)
        of the final weights on the data trained on (with early stopping,
        without the held-out part), without penalty or dropout.
    baseline_loss_ : float
        The same loss for the constant model that predicts the weighted mean
        of ``y``. ``train_loss_ > baseline_loss_`` means training failed: see
        :class:`~sk_weights.PoorFitWarning`.
    train_score_ : float
        R^2 on the same data, weighted by ``sample_weight``.
    weight_norms_curve_ : ndarray of shape (n_epochs, n_layers_ - 1)
        L2 (Frobenius) norm of each weight matrix at the end of each epoch.
    zero_fraction_curve_ : ndarray of shape (n_epochs, n_layers_ - 1)
        Fraction of exactly zero weights of each weight matrix at the end of
        each epoch.
    t_ : int
        Training samples seen by the optimiser.
    feature_mean_ : ndarray of shape (n_features,)
        Weighted mean of each feature over the rows trained on, in float64:
        the default baseline of :func:`~sk_weights.explain`.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The same network, penalised by L2 only.
    MLPWeightsClassifier : The same network for classes.
    WeightedLinearRegressor : A linear model with the same penalties.

    Notes
    -----
    The network minimises, with ``s_i`` the sample weights and ``W`` all
    entries of the weight matrices,

    .. math::

        \\frac{1}{\\sum_i s_i} \\sum_i s_i \\, \\tfrac12 \\lVert y_i - f(x_i)
        \\rVert^2 + \\alpha \\left(\\rho \\lVert W \\rVert_1
        + \\tfrac12 (1 - \\rho) \\lVert W \\rVert_2^2\\right)

    with ``rho = l1_ratio`` (1 for ``"l1"``, 0 for ``"l2"``), the L1 part
    applied by soft-thresholding after each step, so its zeros are exact.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_weights import MLPWeightsRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> model = MLPWeightsRegressor(
    ...     hidden_layer_sizes=(16,),
    ...     learning_rate_init=0.01,
    ...     max_iter=300,
    ...     random_state=0,
    ... ).fit(X, (y - y.mean()) / y.std())
    >>> model.coef_.shape
    (10,)
    >>> bool(model.score(X, (y - y.mean()) / y.std()) > 0.5)
    True
    """

    _parameter_constraints = {
        **{
            key: value
            for key, value in MLPWeightsClassifier._parameter_constraints.items()
            if key != "class_weight"
        },
        "loss": [StrOptions(regression_losses(networks=True))],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        activation="relu",
        loss="squared_error",
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
        warm_start=False,
        random_state=None,
        verbose=0,
        momentum=0.9,
        nesterovs_momentum=True,
        power_t=0.5,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_fun=15000,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
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
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.power_t = power_t
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_fun = max_fun

    @property
    def coef_(self):
        """Effective input weights: ``(n_features_in_,)`` for one output.

        ``(coefs_[0] @ ... @ coefs_[-1]).T``, shape ``(n_outputs_,
        n_features_in_)`` for several targets (see the class docstring).
        """
        coef = NetworkMixin.coef_.fget(self)
        return coef[0] if coef.shape[0] == 1 else coef

    def _predict_values(self, X):
        """The network's output on validated X; one dimension for one output."""
        output = predict(
            self.coefs_, self.intercepts_, X, self.activation, self.out_activation_
        )
        return output[:, 0] if output.shape[1] == 1 else output
