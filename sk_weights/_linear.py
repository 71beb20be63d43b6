"""The linear models: WeightedLinearRegressor and WeightedLinearClassifier."""

from numbers import Real

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from sk_weights._base import COMMON_CONSTRAINTS
from sk_weights._datafits import regression_losses
from sk_weights._full_batch import solve_full_batch, solve_logistic
from sk_weights._mixins import ClassifierTaskMixin, LinearMixin, RegressorTaskMixin
from sk_weights._sklearn_compat import check_is_fitted
from sk_weights._validation import validate_input


class WeightedLinearRegressor(RegressorMixin, LinearMixin, RegressorTaskMixin):
    """Linear regression ``y = X @ coef_ + intercept_`` with readable weights.

    The weights minimise the weighted mean of a loss (the squared error by
    default; Huber's, or the Poisson deviance with a log link, see ``loss``)
    plus an elastic-net penalty (see Notes). By default a deterministic
    full-batch solver finds the exact optimum; with ``dropout`` or
    ``early_stopping`` the model is trained by mini-batch gradient descent
    instead, one epoch at a time.

    Parameters
    ----------
    loss : {"squared_error", "huber", "poisson", "gamma"}, default="squared_error"
        The data term. ``"squared_error"``: ``0.5 * (y - prediction)**2``.
        ``"huber"``: ``0.5 * r**2`` for ``|r| <= huber_delta``, else
        ``huber_delta * (|r| - 0.5 * huber_delta)`` (``r`` the residual), as
        :class:`~sklearn.linear_model.SGDRegressor`'s ``"huber"``: robust to
        outliers. ``"poisson"``: half the Poisson deviance with a log link,
        ``predict`` returning ``exp(X @ coef_ + intercept_)``, for counts and
        rates (y >= 0, not all 0): ``penalty="l2"`` has the optimum of
        ``PoissonRegressor(alpha=alpha)``, and each weight is read as a factor
        ``exp(w)`` on the prediction per unit of its input. ``"gamma"``: half
        the Gamma deviance with a log link, for positive amounts (y > 0), the
        optimum of ``GammaRegressor(alpha=alpha)``. A target outside the
        loss's range raises a ValueError before any work.
    huber_delta : float, default=1.35
        Where Huber's loss turns from quadratic to linear, in units of y
        (1.35 is :class:`~sklearn.linear_model.HuberRegressor`'s ``epsilon``,
        95 % as efficient as least squares under standard normal noise:
        scale it with the noise of y). Only used by ``loss="huber"``; not
        named ``epsilon``, which is Adam's.
    positive : bool, default=False
        Hold every weight at or above zero at the exact optimum, as
        ``Lasso(positive=True)``: each proximal step (full-batch and
        stochastic) projects onto ``w >= 0``.
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Penalty on the coefficients (never on the intercept). ``"l1"`` sets
        weights to exactly zero; ``None`` fits ordinary least squares.
    alpha : float, default=1e-4
        Strength of the penalty; ignored when ``penalty=None``.
    l1_ratio : float, default=0.15
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1].
    dropout : float, default=0.0
        Probability of dropping each input feature of each sample during
        training (inverted dropout: survivors are scaled by ``1 / (1 - p)``).
        A positive value needs a stochastic solver. Prediction never drops.
    fit_intercept : bool, default=True
        Whether to fit the intercept (otherwise it is 0).
    solver : {"auto", "fista", "sgd", "adam"}, default="auto"
        ``"fista"``: the exact full-batch solver, accelerated proximal gradient
        finished by an exact solve on the support; reaches the optimum to
        rounding. It works on the Gram matrix (the d x d sufficient
        statistics) when there are at least two samples per feature and the
        Gram matrix takes at most half the bytes of X; otherwise directly on
        X, which stays sparse and is never centred or copied (working sets of
        features for an L1 part; for L2 alone one exact solve of the rows'
        system ``X X^T`` when dense float64 X has fewer rows than columns and
        that matrix takes at most a tenth of the bytes of X, conjugate
        gradients otherwise). ``solver_`` says which ran. ``"sgd"``:
        mini-batch SGD with momentum and the ``learning_rate`` schedule.
        ``"adam"``: mini-batch Adam. ``"auto"`` uses ``"fista"`` unless
        ``dropout > 0`` or ``early_stopping=True``, which need mini-batches,
        and then ``"sgd"``. :meth:`partial_fit` always
        takes mini-batch steps (``"sgd"`` unless ``solver="adam"``).
    learning_rate_init : "auto" or float, default="auto"
        Step size of the stochastic solvers. ``"auto"`` derives it from the
        data: for ``"sgd"``, ``(1 - momentum) / L`` with ``L`` the mean squared
        norm of a sample (plus one for the intercept, divided by ``1 - dropout``,
        plus the L2 strength), a bound on the curvature of every mini-batch
        loss; for ``"adam"``, a twentieth of the root mean square of ``y``
        divided by ``sqrt(L)``, the order of the weights to learn.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``"sgd"``, as in :class:`MLPWeightsClassifier`.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=1000
        Maximum number of iterations (``"fista"``) or epochs (stochastic solvers).
    tol : float, default=1e-4
        Stochastic solvers stop when the training loss (or, with early
        stopping, the validation score) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. ``"fista"`` does not use it: it stops when
        the optimality conditions hold to rounding (relative residual below
        1e-11): an iteration costs O(n_features**2) on the Gram matrix, and
        about one pass over X on X.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its R^2 stops
        improving and keep the best weights seen (``best_epoch_``). A held-out
        part of fewer than 10 samples, counted by their sample weights as
        ``sum(w)**2 / sum(w**2)``, is too small to judge: its scores are
        recorded, but the training loss decides when to stop and the last
        weights are kept.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping (at least two
        samples, so that R^2 is defined).
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    shuffle : bool, default=True
        Whether to shuffle the samples each epoch.
    warm_start : bool, default=False
        Start from the previous solution instead of zeros.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling, dropout and the validation split.
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
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        The learned weights, one per input feature (and target).
    intercept_ : float or ndarray of shape (n_targets,)
        The bias ``b``.
    n_iter_ : int
        Iterations (``"fista"``: on the Gram matrix, FISTA steps; on X,
        working-set rounds, conjugate-gradient steps, or 1 for the rows'
        system) or epochs run.
    solver_ : {"gram", "x", "sgd", "adam"}
        The solver that ran: ``"gram"`` or ``"x"`` for ``"fista"`` on the
        Gram matrix or on X (see ``solver``), else the stochastic solver.
    stop_reason_ : {"converged", "early_stopping", "max_iter"}
        Why the last call stopped: ``"fista"`` met the optimality conditions,
        or the training loss of a stochastic solver stopped improving by
        ``tol`` for ``n_iter_no_change`` epochs; the validation score stopped
        improving (or a callback stopped training); or ``max_iter`` ran out
        (with a :class:`~sklearn.exceptions.ConvergenceWarning`). ``"max_iter"``
        after :meth:`partial_fit`, whose single epoch has no stopping rule.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights are kept, counted from 1
        along ``loss_curve_``; else None.
    train_loss_ : float
        Weighted mean of ``0.5 * (y - prediction)**2`` (summed over targets)
        of the final weights on the data trained on (with early stopping,
        without the held-out part): the data part of the objective, without
        penalty or dropout.
    baseline_loss_ : float
        The same loss for the constant model: the weighted mean of ``y`` (0
        with ``fit_intercept=False``, the only constant the model can then
        represent). ``train_loss_ > baseline_loss_`` means training failed:
        see :class:`~sk_weights.PoorFitWarning`.
    train_score_ : float
        R^2 on the same data, weighted by ``sample_weight``, as
        ``score(X, y, sample_weight)`` gives.
    loss_curve_ : list of float
        The objective after each iteration or epoch.
    weight_norms_curve_ : ndarray of shape (n_epochs, 1)
        L2 (Frobenius) norm of ``coef_`` after each epoch of a stochastic
        solver or iteration of ``"fista"``, extended like ``loss_curve_``.
    zero_fraction_curve_ : ndarray of shape (n_epochs, 1)
        Fraction of exactly zero entries of ``coef_`` at the same times.
    best_loss_ : float or None
        Smallest value in ``loss_curve_``; None with early stopping, whose
        held-out scores judge the run (see ``best_validation_score_``), as in
        :class:`~sklearn.neural_network.MLPClassifier`.
    validation_scores_ : list of float or None
        Held-out R^2 per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out R^2 with early stopping, else None.
    t_ : int
        Samples seen by the stochastic solvers.
    feature_std_ : ndarray of shape (n_features,)
        Weighted standard deviation of each feature seen in ``fit``; the
        weights report uses ``|coef_| * feature_std_`` as importance.
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
    sklearn.linear_model.ElasticNet : The same objective, by coordinate descent.
    sklearn.linear_model.SGDRegressor : The same objective, by plain SGD.
    MLPWeightsClassifier : A network classifier with the same penalties.

    Notes
    -----
    The objective, with ``s_i`` the sample weights, is

    .. math::

        \\frac{1}{\\sum_i s_i} \\sum_i s_i \\, \\tfrac12 (y_i - x_i^\\top w - b)^2
        + \\alpha \\left(\\rho \\lVert w \\rVert_1
        + \\tfrac12 (1 - \\rho) \\lVert w \\rVert_2^2\\right)

    with ``rho = l1_ratio`` (1 for ``"l1"``, 0 for ``"l2"``). It is the objective
    of :class:`~sklearn.linear_model.ElasticNet`, so ``penalty="l2"`` matches
    ``Ridge(alpha * n_samples)`` and ``penalty="l1"`` matches ``Lasso(alpha)``.
    The L1 part is applied by soft-thresholding (a proximal step), so its
    zeros are exact. Other losses replace the half squared error of the
    linear predictor ``eta_i = x_i^T w + b``: Huber's, or for ``"poisson"``
    ``exp(eta_i) - y_i eta_i`` plus the constant that makes it half the unit
    deviance. The full-batch solver then works on X with Newton steps and a
    line search (the Gram matrix only serves the squared error).

    References
    ----------
    Beck, A. and Teboulle, M. (2009). A fast iterative shrinkage-thresholding
    algorithm for linear inverse problems. SIAM J. Imaging Sci. 2(1), 183-202.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    >>> int((model.coef_ == 0).sum())
    6
    >>> round(model.score(X, y), 3)
    0.455
    """

    _parameter_constraints = {
        **COMMON_CONSTRAINTS,
        "loss": [StrOptions(regression_losses())],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "positive": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "fista", "sgd", "adam"})],
    }

    def __init__(
        self,
        *,
        loss="squared_error",
        huber_delta=1.35,
        positive=False,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        dropout=0.0,
        fit_intercept=True,
        solver="auto",
        learning_rate_init="auto",
        learning_rate="constant",
        batch_size="auto",
        max_iter=1000,
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
    ):
        self.loss = loss
        self.huber_delta = huber_delta
        self.positive = positive
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.fit_intercept = fit_intercept
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

    # -- the work -----------------------------------------------------------

    def _solve_full_batch(self, data, layout, start):
        """Solve exactly, on the Gram matrix or on X, whichever is cheaper."""
        # Raises a ValueError naming the cure if the statistics of X overflow.
        result = solve_full_batch(
            data.X,
            data.targets,
            data.sample_weight,
            self.fit_intercept,
            self._penalty(),
            self.max_iter,
            coef_init=None if start is None else layout.unpack(start)[0][0].T,
            datafit=self._datafit(data.n_outputs),
        )
        return self._full_batch_solution(layout, result)

    # -- the hooks of BaseWeightsEstimator this estimator states -------------

    def _adam_learning_rate(self, y, sample_weight, curvature):
        """Adam's ``"auto"`` step: a share of the weights' expected magnitude."""
        # Adam moves each weight by about the learning rate per step, so
        # take a small share of the weights' expected order of magnitude:
        # the raw output's scale (the root mean square of y for an identity
        # link, 1 for a log link) over the data's. In float64: the squares of
        # float32 targets can overflow.
        y64 = y.astype(np.float64)
        sample_weight = sample_weight / sample_weight.sum()
        scale = self._datafit(y64.shape[1]).output_scale(y64, sample_weight)
        # No fixed floor: on features of magnitude 1e19 the weights are of
        # order 1e-19, and so must the steps be.
        return max(0.05 * scale / np.sqrt(curvature), np.finfo(np.float64).tiny)

    def _predict_values(self, X):
        """``X @ coef_.T + intercept_`` for validated X, through the inverse link."""
        raw = np.asarray(X @ self.coef_.T)
        if np.result_type(raw, self.intercept_) == raw.dtype:
            raw += self.intercept_  # in place: one vector of predictions
        else:
            raw = raw + self.intercept_
        return self._datafit(1).inverse_link(raw)

    def _fitted_attributes(self, layout, theta, y):
        """The ``coef_`` and ``intercept_`` that ``theta`` holds, for targets ``y``."""
        coefs, intercepts = layout.unpack(theta)
        coef, intercept = coefs[0].T, intercepts[0] * self.fit_intercept
        if y.ndim == 1:
            return {"coef_": coef.ravel(), "intercept_": float(intercept[0])}
        return {"coef_": coef, "intercept_": intercept}


class WeightedLinearClassifier(ClassifierMixin, LinearMixin, ClassifierTaskMixin):
    """Logistic regression with penalised, readable weights.

    Two classes: the probability of ``classes_[1]`` is the sigmoid of
    ``X @ coef_.T + intercept_`` (``coef_`` of shape ``(1, n_features)``);
    more: a softmax over one linear output per class (``coef_`` of shape
    ``(n_classes, n_features)``), as :class:`~sklearn.linear_model.LogisticRegression`.
    The weights minimise the weighted mean log loss plus an elastic-net
    penalty (see Notes). By default a deterministic full-batch solver finds the
    exact optimum; with ``dropout`` or ``early_stopping`` the model is trained
    by mini-batch gradient descent instead, one epoch at a time.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Penalty on the coefficients (never on the intercept). ``"l1"`` sets
        weights to exactly zero.
    alpha : float, default=1e-4
        Strength of the penalty; ignored when ``penalty=None``.
        ``LogisticRegression(C=1 / (alpha * sum(sample_weight)))`` has the
        same optimum.
    l1_ratio : float, default=0.15
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1].
    dropout : float, default=0.0
        Probability of dropping each input feature of each sample during
        training (inverted dropout). A positive value needs a stochastic
        solver. Prediction never drops.
    fit_intercept : bool, default=True
        Whether to fit the intercepts (otherwise they are 0).
    solver : {"auto", "fista", "sgd", "adam"}, default="auto"
        ``"fista"``: the exact full-batch solver on X (``solver_="x"``):
        working sets of features with proximal Newton steps for an L1 part,
        Newton steps solved by conjugate gradients otherwise, each with a line
        search; for more than two classes, block coordinate descent over the
        classes. It stops when the optimality conditions hold to rounding.
        ``"sgd"``, ``"adam"`` and ``"auto"`` as in
        :class:`WeightedLinearRegressor`; :meth:`partial_fit` always takes
        mini-batch steps.
    learning_rate_init : "auto" or float, default="auto"
        Step size of the stochastic solvers. ``"auto"``: for ``"sgd"`` as in
        :class:`WeightedLinearRegressor` (the log loss curves less than the
        squared loss, so the bound holds); for ``"adam"``, 1e-3.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``"sgd"``.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=1000
        Maximum number of iterations (``"fista"``) or epochs (stochastic solvers).
    tol : float, default=1e-4
        Tolerance of the stochastic solvers' stopping rule (``"fista"`` stops
        on the optimality conditions instead).
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction``, stop when its accuracy
        stops improving and keep the best weights seen (``best_epoch_``).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    shuffle : bool, default=True
        Whether to shuffle the samples each epoch.
    warm_start : bool, default=False
        Start from the previous solution instead of zeros.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling, dropout and the validation split.
    verbose : int, default=0
        Print one line per epoch.
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
    class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples in the loss (multiplied by
        ``sample_weight``), as in :class:`MLPWeightsClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        The learned weights.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        The biases. For more than two classes the softmax does not change when
        the same number is added to every intercept: they are centred to sum
        0 (and, without penalty, so are the weights of each feature).
    n_iter_ : int
        Iterations (``"fista"``: two classes, working-set rounds or
        conjugate-gradient steps; more, sweeps over the classes) or epochs.
    solver_ : {"x", "sgd", "adam"}
        The solver that ran.
    stop_reason_ : {"converged", "early_stopping", "max_iter"}
        Why the last call stopped, as in :class:`WeightedLinearRegressor`.
    best_epoch_ : int or None
        With early stopping, the epoch whose weights are kept; else None.
    train_loss_ : float
        Weighted mean log loss of the final weights on the data trained on.
    baseline_loss_ : float
        The same loss for the weighted class priors.
    train_score_ : float
        Accuracy on the same data, weighted by ``sample_weight``.
    loss_curve_ : list of float
        The objective after each iteration or epoch.
    weight_norms_curve_ : ndarray of shape (n_epochs, 1)
        L2 (Frobenius) norm of ``coef_`` after each epoch or iteration.
    zero_fraction_curve_ : ndarray of shape (n_epochs, 1)
        Fraction of exactly zero entries of ``coef_`` at the same times.
    best_loss_ : float or None
        Smallest value in ``loss_curve_``; None with early stopping, whose
        held-out scores judge the run (see ``best_validation_score_``), as in
        :class:`~sklearn.neural_network.MLPClassifier`.
    validation_scores_ : list of float or None
        Held-out accuracy per epoch with early stopping, else None.
    best_validation_score_ : float or None
        Best held-out accuracy with early stopping, else None.
    t_ : int
        Samples seen by the stochastic solvers.
    feature_std_ : ndarray of shape (n_features,)
        Weighted standard deviation of each feature seen in ``fit``.
    feature_mean_ : ndarray of shape (n_features,)
        Weighted mean of each feature over the rows trained on.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same optimum.
    WeightedLinearRegressor : The linear regressor on the same base.

    Notes
    -----
    The objective, with ``s_i`` the sample weights times the class weights,
    ``p`` the model's probabilities and ``rho = l1_ratio``, is

    .. math::

        -\\frac{1}{\\sum_i s_i} \\sum_i s_i \\log p_{y_i}(x_i)
        + \\alpha \\left(\\rho \\lVert W \\rVert_1
        + \\tfrac12 (1 - \\rho) \\lVert W \\rVert_2^2\\right)

    It is :class:`~sklearn.linear_model.LogisticRegression`'s objective
    divided by ``C * sum(s)``, so both have the same optimum when
    ``C = 1 / (alpha * sum(s))``; the L1 zeros are exact.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from sk_weights import WeightedLinearClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = WeightedLinearClassifier(penalty="l1", alpha=0.01).fit(scale(X), y)
    >>> model.coef_.shape
    (1, 30)
    >>> bool((model.coef_ == 0).any())
    True
    """

    _parameter_constraints = {
        **WeightedLinearRegressor._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        dropout=0.0,
        fit_intercept=True,
        solver="auto",
        learning_rate_init="auto",
        learning_rate="constant",
        batch_size="auto",
        max_iter=1000,
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
        class_weight=None,
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.fit_intercept = fit_intercept
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
        self.class_weight = class_weight

    def decision_function(self, X):
        """Return the linear outputs ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes the log-odds of ``classes_[1]``, else one score
            per class.
        """
        check_is_fitted(self)
        X = validate_input(
            self, X, reset=False, accept_sparse=["csr", "csc"], dtype=self.coef_.dtype
        )
        scores = self._decision_values(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict_log_proba(self, X):
        """Return the logarithm of the probability of each class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, computed without underflow.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return log_softmax(scores, axis=1)

    # -- the work -----------------------------------------------------------

    def _encode_target(self, X, y, sample_weight, *, partial, continuing, classes):
        """The classifier's encoding; ``fit`` needs two classes of positive weight."""
        data = super()._encode_target(
            X, y, sample_weight, partial=partial, continuing=continuing, classes=classes
        )
        y_index = np.searchsorted(self.classes_, data.y)
        if not partial and np.count_nonzero(np.bincount(y_index, data.loss_weight)) < 2:
            raise ValueError(
                "The samples of positive weight (sample_weight times class_weight) "
                "belong to fewer than two classes: the model has nothing to tell "
                "apart. Give samples of at least two classes a positive weight."
            )
        return data

    def _solve_full_batch(self, data, layout, start):
        """Solve the logistic problem exactly, on X."""
        result = solve_logistic(
            data.X,
            np.searchsorted(self.classes_, data.y),
            self.classes_.size,
            data.loss_weight,
            self.fit_intercept,
            self._penalty(),
            self.max_iter,
            coef_init=None if start is None else layout.unpack(start)[0][0].T,
        )
        # Class weights make the solver's weights differ from sample_weight.
        return self._full_batch_solution(
            layout, result, data.loss_weight is data.sample_weight
        )

    # -- the hooks of BaseWeightsEstimator this estimator states -------------

    def _decision_values(self, X):
        """``X @ coef_.T + intercept_`` for validated X, one column per output."""
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def _probabilities(self, X):
        """Class probabilities of validated X, in the order of ``classes_``."""
        scores = self._decision_values(X)
        if scores.shape[1] == 1:
            # expit(-s), not 1 - expit(s): small probabilities keep their digits.
            return np.column_stack([expit(-scores[:, 0]), expit(scores[:, 0])])
        return softmax(scores, axis=1)

    def _fitted_attributes(self, layout, theta, y):
        """The ``coef_`` and ``intercept_`` that ``theta`` holds."""
        coefs, intercepts = layout.unpack(theta)
        return {
            "classes_": self.classes_,
            "coef_": np.array(coefs[0].T),
            "intercept_": np.array(intercepts[0]) * self.fit_intercept,
        }
