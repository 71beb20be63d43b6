"""Built-in cross-validation of alpha: WeightedLinearRegressorCV, ...ClassifierCV.

Per fold, the full-batch solver walks the whole grid of alphas once
(:func:`sk_weights._path.solve_path`: the statistics of the fold built once,
each alpha warm-started from the previous one), and the held-out rows score
every alpha's weights. The folds run in parallel (joblib). The chosen
``alpha_`` (and ``l1_ratio_``) is then refitted on all the data by the plain
estimator, whose fitted attributes the CV estimator takes over: after ``fit``
it *is* that fitted model (``coef_``, ``predict``, ``weights_report``,
``save``), plus the cross-validation records.

:func:`estimator_path` gives :func:`sk_weights.weights_path` the same path
for one estimator, on validated data.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from sk_weights._base import (
    check_sample_weight,
    keeps_state_on_failure,
    silence_overflow,
    weighted_feature_std,
)
from sk_weights._linear import WeightedLinearClassifier, WeightedLinearRegressor
from sk_weights._path import alpha_max, solve_path
from sk_weights._penalties import PENALTY_L1_RATIOS, ElasticNetPenalty
from sk_weights._sklearn_compat import _fit_context, _safe_indexing

#: The default grid with an L1 part ends at this share of alpha_max.
DEFAULT_EPS = 1e-3

#: For L2 alone the grid spans these decades around the features' mean
#: variance ``v`` (from ``100 v`` down to ``1e-3 v``), as weights_path's.
L2_GRID_DECADES = (2.0, -3.0)


def _never(estimator):
    return False


# -- the path of one estimator ----------------------------------------------


def estimator_path(estimator, X, y, alphas, sample_weight=None):
    """The full-batch path of a linear estimator of this package, on all of X.

    Validates X, y and ``sample_weight`` as the estimator's ``fit`` does, and
    solves at every alpha (in the given order) with warm starts.

    Returns
    -------
    coefs : ndarray of shape (n_alphas, *coef_.shape)
        The weights at each alpha, in float64 (rounded to X's dtype, as the
        fitted ``coef_`` would be).
    model : estimator
        An unfitted clone carrying the input's records (``n_features_in_``,
        ``feature_names_in_``, ``classes_`` for a classifier), for names and
        labels.
    scores : ndarray of shape (n_alphas,)
        The estimator's ``score`` (R² or accuracy) at each alpha on X, weighted
        by ``sample_weight``.
    """
    model = clone(estimator)
    X_checked, y_checked = model._validate_training_data(X, y, reset=True)
    weights = check_sample_weight(sample_weight, X_checked, X_checked.dtype)
    params = model.get_params()
    problem = _Problem.of(model, X_checked, y_checked, weights)
    with silence_overflow():
        path = problem.path(
            X_checked,
            params["penalty"],
            params["l1_ratio"],
            alphas,
            params["fit_intercept"],
            params["max_iter"],
        )
    _warn_not_converged(path)
    # The fitted model's weights would be in X's dtype.
    coefs = path.coefs.astype(X_checked.dtype).astype(np.float64)
    intercepts = path.intercepts.astype(X_checked.dtype).astype(np.float64)
    if not params["fit_intercept"]:
        intercepts[:] = 0.0
    score_weight = None if sample_weight is None else weights
    scores = problem.scores(X_checked, y_checked, coefs, intercepts, score_weight)
    if problem.classes is not None:
        model.classes_ = problem.classes
    elif y_checked.ndim == 1:
        coefs = coefs[:, 0]
    return coefs, model, scores


def uses_full_batch_path(estimator):
    """Whether ``estimator`` is a linear model of this package fitted by the
    full-batch solver, whose path :func:`estimator_path` computes."""
    if not isinstance(estimator, (WeightedLinearRegressor, WeightedLinearClassifier)):
        return False
    if isinstance(estimator, _CrossValidationMixin):
        return False
    try:
        return estimator._solver_name(False) == "fista"
    except ValueError:  # solver="fista" with dropout: the fit will say so
        return False


def _warn_not_converged(path):
    if not path.converged.all():
        bad = path.alphas[~path.converged]
        warnings.warn(
            f"The full-batch solver reached max_iter before its optimality "
            f"conditions held at {bad.size} alpha(s) of the path (the smallest: "
            f"{bad.min():.3g}); increase max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )


class _Problem:
    """A regression or classification problem as the path solver wants it.

    ``datafit`` is the model's loss (for a classifier, that of its outputs:
    it gives ``alpha_max``); ``alpha_targets`` are the targets as the datafit
    reads them.
    """

    def __init__(
        self, targets, weights, datafit, positive=False, classes=None, n_classes=None
    ):
        self.targets, self.weights = targets, weights
        self.datafit, self.positive = datafit, positive
        self.classes, self.n_classes = classes, n_classes

    @classmethod
    def of(cls, model, X, y, sample_weight):
        """Encode validated y (and class weights) for ``model``'s loss."""
        if not isinstance(model, WeightedLinearClassifier):
            targets = y.reshape(len(y), -1)
            datafit = model._datafit(targets.shape[1])
            datafit.check_y(targets)  # before any work: a clear error
            return cls(targets, sample_weight, datafit, model.positive)
        classes, y_index = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                "The training data need samples of at least two classes; got "
                f"only one class: {classes[0]!r}."
            )
        class_weights = model._class_weights(classes, y_index, sample_weight)
        loss_weight = sample_weight * class_weights.astype(X.dtype)[y_index]
        if np.count_nonzero(np.bincount(y_index, loss_weight)) < 2:
            raise ValueError(
                "The samples of positive weight (sample_weight times class_weight) "
                "belong to fewer than two classes: the model has nothing to tell "
                "apart. Give samples of at least two classes a positive weight."
            )
        n_outputs = 1 if classes.size == 2 else classes.size
        datafit = model._datafit(n_outputs)
        return cls(y_index, loss_weight, datafit, False, classes, classes.size)

    @property
    def alpha_targets(self):
        """The targets as the datafit reads them: y, or the one-hot outputs."""
        if self.classes is None:
            return self.targets
        n_outputs = 1 if self.n_classes == 2 else self.n_classes
        return np.eye(self.n_classes)[self.targets][:, -n_outputs:]

    def take(self, rows):
        """The same problem on ``rows``."""
        return _Problem(
            self.targets[rows],
            self.weights[rows],
            self.datafit,
            self.positive,
            self.classes,
            self.n_classes,
        )

    def path(self, X, penalty, l1_ratio, alphas, fit_intercept, max_iter):
        """Solve along ``alphas`` (see :func:`solve_path`)."""
        return solve_path(
            X,
            self.targets,
            self.weights,
            fit_intercept,
            penalty,
            l1_ratio,
            alphas,
            max_iter,
            n_classes=self.n_classes,
            datafit=None if self.classes is not None else self.datafit,
            positive=self.positive,
        )

    def outputs(self, X, coefs, intercepts):
        """The linear outputs of every alpha: shape (n_samples, n_alphas, n_outputs)."""
        n_alphas, n_outputs, n_features = coefs.shape
        flat = np.asarray(X @ coefs.reshape(-1, n_features).T)
        return flat.reshape(-1, n_alphas, n_outputs) + intercepts

    def predictions(self, outputs):
        """Class indices of the outputs of a classifier, shape (n_samples, n_alphas)."""
        if outputs.shape[2] == 1:
            return (outputs[:, :, 0] > 0).astype(np.intp)
        return np.argmax(outputs, axis=2)

    def scores(self, X, y, coefs, intercepts, sample_weight):
        """The estimator's own score at every alpha: R² or accuracy."""
        outputs = self.outputs(X, coefs, intercepts)
        if self.classes is None:
            predictions = self.datafit.inverse_link(outputs)
            return _r2_scores(self.targets, predictions, sample_weight)
        hits = self.predictions(outputs) == self.targets[:, np.newaxis]
        return np.average(hits, axis=0, weights=sample_weight)


def _r2_scores(y, outputs, sample_weight):
    """R² of every alpha's predictions, as ``r2_score`` gives it, in one pass.

    ``y`` is (n_samples, n_targets), ``outputs`` (n_samples, n_alphas,
    n_targets); the R² of the targets are averaged. As scikit-learn's, a
    constant target scores 1 when predicted exactly and 0 otherwise.
    """
    weight = np.ones(len(y)) if sample_weight is None else sample_weight
    weight = weight[:, np.newaxis]
    numerator = np.einsum("i,iak->ak", weight[:, 0], (y[:, np.newaxis] - outputs) ** 2)
    centred = y - np.average(y, axis=0, weights=weight[:, 0])
    denominator = (weight * centred**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - numerator / denominator
    r2 = np.where(denominator == 0, np.where(numerator == 0, 1.0, 0.0), r2)
    return r2.mean(axis=1)


# -- the folds ----------------------------------------------------------------


def _fold_errors(X, problem, train, test, setting, score_weight, scorer, template):
    """Score every alpha of every l1_ratio on one fold.

    Returns the errors (mean squared error, or the score for a classifier)
    of shape (n_l1_ratio, n_alphas), and whether every solve converged.
    """
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    train_problem, test_problem = problem.take(train), problem.take(test)
    weights_test = None if score_weight is None else score_weight[test]
    errors, converged = [], True
    for l1_ratio, alphas in zip(setting.l1_ratios, setting.grids):
        path = train_problem.path(
            X_train,
            setting.penalty,
            l1_ratio,
            alphas,
            setting.fit_intercept,
            setting.max_iter,
        )
        converged &= bool(path.converged.all())
        intercepts = path.intercepts if setting.fit_intercept else 0 * path.intercepts
        outputs = test_problem.outputs(X_test, path.coefs, intercepts)
        if problem.classes is None:
            predictions = problem.datafit.inverse_link(outputs)
            residual = predictions - test_problem.targets[:, np.newaxis, :]
            # As LassoCV: the mean over the held-out rows, then over targets.
            mse = np.average(residual**2, axis=0, weights=weights_test)
            errors.append(mse.mean(axis=1))
        elif scorer is None:
            hits = test_problem.predictions(outputs) == test_problem.targets[:, None]
            errors.append(np.average(hits, axis=0, weights=weights_test))
        else:
            labels = problem.classes[test_problem.targets]
            errors.append(
                [
                    _score(
                        template, scorer, coef, intercept, X_test, labels, weights_test
                    )
                    for coef, intercept in zip(path.coefs, intercepts)
                ]
            )
    return np.array(errors, dtype=np.float64), converged


def _score(template, scorer, coef, intercept, X, y, sample_weight):
    """A scorer's value for the classifier of these weights."""
    model = clone(template)
    model.classes_ = template.classes_
    model.n_features_in_ = coef.shape[1]
    model.coef_, model.intercept_ = coef, intercept
    kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
    return scorer(model, X, y, **kwargs)


class _Setting:
    """What the folds share: the penalty, the grids, the solver's budget."""

    def __init__(self, penalty, l1_ratios, grids, fit_intercept, max_iter):
        self.penalty, self.l1_ratios, self.grids = penalty, l1_ratios, grids
        self.fit_intercept, self.max_iter = fit_intercept, max_iter


# -- the estimators -----------------------------------------------------------


_CV_CONSTRAINTS = {
    "penalty": [StrOptions(set(PENALTY_L1_RATIOS))],
    "l1_ratio": [Interval(Real, 0, 1, closed="both"), "array-like"],
    "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
    "eps": [Interval(Real, 0, None, closed="neither")],
    "cv": ["cv_object"],
    "n_jobs": [Integral, None],
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
}


class _CrossValidationMixin:
    """Choosing alpha by cross-validation along the path, then refitting.

    The estimator class it is mixed into (its right neighbour) is the model
    refitted; the ``_refit_params`` hook gives its parameters.
    """

    #: The full-batch solver only: these parameters of the refitted model are fixed.
    dropout = 0.0
    solver = "fista"
    early_stopping = False
    warm_start = False

    # A CV estimator is fitted once, on all its data: no partial_fit.
    @available_if(_never)
    def partial_fit(self, *args, **kwargs):
        """Not available: cross-validation needs all the data at once.

        The method is hidden (``hasattr(model, "partial_fit")`` is False), as
        it is for scikit-learn's ``LassoCV``; fit the plain estimator at
        ``alpha_`` to learn in chunks.

        Parameters
        ----------
        *args, **kwargs
            Not used.
        """

    def _penalty(self):
        """The penalty chosen (``alpha_``, ``l1_ratio_``)."""
        return ElasticNetPenalty.from_params(
            self.penalty, self.alpha_, self.l1_ratio_, getattr(self, "positive", False)
        )

    def _l1_ratios(self):
        """The l1_ratios to try: the list for elastic net, else the penalty's."""
        values = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64)).ravel()
        if values.size == 0 or not np.all((values >= 0) & (values <= 1)):
            raise ValueError(
                f"l1_ratio must be a number in [0, 1] or a non-empty list of them, "
                f"got {self.l1_ratio!r}."
            )
        fixed = PENALTY_L1_RATIOS[self.penalty]
        return values if fixed is None else np.array([fixed])

    def _grids(self, X, problem, l1_ratios):
        """The alphas of each l1_ratio: given (decreasing), or the default grid."""
        if not isinstance(self.alphas, Integral):
            alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
            if (
                alphas.size == 0
                or not np.all(np.isfinite(alphas))
                or np.any(alphas < 0)
            ):
                raise ValueError(
                    "alphas must be an integer >= 1 (the size of the default grid) "
                    "or a non-empty sequence of finite numbers >= 0, got "
                    f"{self.alphas!r}."
                )
            return [np.sort(alphas)[::-1]] * len(l1_ratios)
        grids = []
        for ratio in l1_ratios:
            if ratio > 0:
                top = alpha_max(
                    X, problem.alpha_targets, problem.weights, self.fit_intercept,
                    ratio, problem.datafit, problem.positive,
                )  # fmt: skip
                if top <= np.finfo(float).resolution:
                    # Nothing to fit (constant y): as scikit-learn's grid.
                    grids.append(np.full(self.alphas, np.finfo(float).resolution))
                    continue
                grids.append(np.geomspace(top, top * self.eps, num=self.alphas))
            else:
                variance = np.mean(weighted_feature_std(X, problem.weights) ** 2)
                high, low = (np.log10(variance or 1.0) + d for d in L2_GRID_DECADES)
                grids.append(np.logspace(high, low, self.alphas))
        return grids

    @_fit_context(prefer_skip_nested_validation=True)
    @keeps_state_on_failure
    def fit(self, X, y, sample_weight=None):
        """Choose alpha by cross-validation, then fit on all the data with it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (class labels for the classifier).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss of every fit and in the
            held-out scores.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X_checked, y_checked = self._validate_training_data(X, y, reset=True)
        weights = check_sample_weight(sample_weight, X_checked, X_checked.dtype)
        problem = _Problem.of(
            self._refit_model(None, None), X_checked, y_checked, weights
        )
        l1_ratios = self._l1_ratios()
        grids = self._grids(X_checked, problem, l1_ratios)
        labels = y_checked if problem.classes is None else problem.targets
        folds = list(self._splitter(labels).split(X_checked, labels))
        self._check_folds(problem, folds)
        setting = _Setting(
            self.penalty, l1_ratios, grids, self.fit_intercept, self.max_iter
        )
        score_weight = None if sample_weight is None else weights
        scorer, template = self._scorer(problem)
        with silence_overflow():
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_fold_errors)(
                    X_checked,
                    problem,
                    train,
                    test,
                    setting,
                    score_weight,
                    scorer,
                    template,
                )
                for train, test in folds
            )
        if not all(ok for _, ok in results):
            warnings.warn(
                "The full-batch solver reached max_iter on some fold before its "
                "optimality conditions held; increase max_iter.",
                ConvergenceWarning,
                stacklevel=2,
            )
        # (n_l1_ratio, n_folds, n_alphas) -> (n_l1_ratio, n_alphas, n_folds)
        path = np.moveaxis(np.stack([errors for errors, _ in results], axis=1), 2, 1)
        best_ratio, best_alpha = self._choose(path.mean(axis=2), l1_ratios, grids)
        # Refit on all the data, as the plain estimator; take its fitted state.
        model = self._refit_model(grids[best_ratio][best_alpha], l1_ratios[best_ratio])
        model.fit(X, y, **({} if sample_weight is None else {"sample_weight": weights}))
        params = model.get_params(deep=False)
        vars(self).update(
            {key: value for key, value in vars(model).items() if key not in params}
        )
        self.alpha_ = float(grids[best_ratio][best_alpha])
        self.l1_ratio_ = float(l1_ratios[best_ratio])
        self.alphas_ = np.array(grids) if len(grids) > 1 else grids[0]
        if not isinstance(self.alphas, Integral):
            self.alphas_ = grids[0]
        self._set_path(np.squeeze(path, axis=0) if len(l1_ratios) == 1 else path)
        return self

    def _check_folds(self, problem, folds):
        """Every training fold must hold every class (classifier), and a row."""
        for train, test in folds:
            if len(train) == 0 or len(test) == 0:
                raise ValueError(
                    "cv gives a fold with no training or no held-out rows; use "
                    "fewer folds."
                )

    def _refit_model(self, alpha, l1_ratio):
        """The plain estimator with the chosen alpha and l1_ratio."""
        params = self._refit_params()
        if alpha is not None:
            params.update(alpha=float(alpha), l1_ratio=float(l1_ratio))
        return self._refit_class(**params)

    # -- the hooks each CV estimator states ---------------------------------

    #: The plain estimator refitted with the chosen values.
    _refit_class = None

    def _splitter(self, y):
        """The cross-validation splitter of ``cv`` for the encoded targets."""
        raise NotImplementedError

    def _scorer(self, problem):
        """The held-out scorer and the model it scores, or ``(None, None)``."""
        raise NotImplementedError

    def _choose(self, mean_errors, l1_ratios, grids):
        """The indices of the chosen l1_ratio and alpha."""
        raise NotImplementedError

    def _set_path(self, path):
        """Store the held-out errors or scores (``mse_path_``, ``score_path_``)."""
        raise NotImplementedError

    def _refit_params(self):
        """The parameters of the refitted model, but alpha and l1_ratio."""
        return {
            "penalty": self.penalty,
            "fit_intercept": self.fit_intercept,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "solver": "fista",
        }


class WeightedLinearRegressorCV(_CrossValidationMixin, WeightedLinearRegressor):
    """Linear regression with alpha (and l1_ratio) chosen by cross-validation.

    For each fold the exact full-batch solver walks the whole grid of alphas,
    from the strongest penalty down, each alpha starting from the previous
    solution, with the fold's statistics built once; the held-out rows give
    every alpha's mean squared error. The alpha (and l1_ratio) of the
    smallest mean error over the folds is chosen, as
    :class:`~sklearn.linear_model.LassoCV` and
    :class:`~sklearn.linear_model.ElasticNetCV` choose it, and the model is
    refitted on all the data: after ``fit`` it is the fitted
    :class:`WeightedLinearRegressor` of ``alpha_`` (``coef_``, ``predict``,
    ``weights_report``...), with the cross-validation records besides.

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet"}, default="l1"
        Penalty on the coefficients, as in :class:`WeightedLinearRegressor`.
    l1_ratio : float or list of float, default=1.0
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1]; a list is
        cross-validated too (``l1_ratio_``). Ignored by ``"l1"`` (1) and
        ``"l2"`` (0).
    alphas : int or array-like, default=100
        The penalty strengths tried: an array (sorted decreasing), or the
        number of the default grid's alphas. The default grid runs, log-spaced,
        from ``alpha_max`` (the smallest alpha whose weights are all zero,
        computed on all the data) down to ``eps * alpha_max``, as
        scikit-learn's; for L2 alone (no alpha_max) from ``100 v`` down to
        ``1e-3 v``, with ``v`` the features' mean weighted variance.
    eps : float, default=1e-3
        The default grid's length: ``alpha_min / alpha_max``.
    cv : int, cross-validation generator or iterable, default=None
        As in :func:`sklearn.model_selection.check_cv`: None for 5-fold
        :class:`~sklearn.model_selection.KFold` (not shuffled, as
        ``LassoCV``).
    n_jobs : int, default=None
        Folds run in parallel (joblib threads; the solvers release the GIL in
        their BLAS calls). None means 1 unless in a joblib context.
    fit_intercept : bool, default=True
        Whether to fit the intercept.
    max_iter : int, default=1000
        Maximum iterations of each solve.
    tol : float, default=1e-4
        Passed to the refitted model; the full-batch solver stops on its
        optimality conditions (see :class:`WeightedLinearRegressor`).
    loss : {"squared_error", "huber", "poisson", "gamma"}, default="squared_error"
        The loss fitted, as in :class:`WeightedLinearRegressor` (its
        ``alpha_max`` starts the default grid). Whatever the loss, alpha is
        chosen by the held-out mean squared error of the predictions
        (``score`` is R² for every loss).
    huber_delta : float, default=1.35
        Huber's threshold, for ``loss="huber"``.
    positive : bool, default=False
        Hold every weight at or above zero.

    Attributes
    ----------
    alpha_ : float
        The alpha chosen.
    l1_ratio_ : float
        The l1_ratio chosen (1 for ``"l1"``, 0 for ``"l2"``).
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid, decreasing (one row per l1_ratio for a default grid with
        several l1_ratios).
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        The held-out mean squared error of each alpha on each fold (mean over
        the targets), weighted by ``sample_weight``: ``ElasticNetCV``'s shape.
    coef_, intercept_, n_iter_, solver_, stop_reason_, best_epoch_, \
            train_loss_, baseline_loss_, train_score_, loss_curve_, \
            weight_norms_curve_, zero_fraction_curve_, best_loss_, \
            validation_scores_, best_validation_score_, t_, feature_std_, \
            feature_mean_, n_features_in_, feature_names_in_ : object
        Those of the model refitted at ``alpha_`` (see
        :class:`WeightedLinearRegressor` or :class:`WeightedLinearClassifier`;
        ``feature_names_in_`` only for X with string column names).

    See Also
    --------
    WeightedLinearRegressor : The model refitted.
    sklearn.linear_model.ElasticNetCV : The same choice, by coordinate descent.
    sk_weights.weights_path : The path on all the data.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = WeightedLinearRegressorCV().fit(X, y)
    >>> round(model.alpha_, 5), model.mse_path_.shape
    (0.00375, (100, 5))
    >>> int((model.coef_ == 0).sum())
    1
    """

    _parameter_constraints = {
        **_CV_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="left")],
        **{
            name: WeightedLinearRegressor._parameter_constraints[name]
            for name in ("loss", "huber_delta", "positive")
        },
    }

    def __init__(
        self,
        *,
        penalty="l1",
        l1_ratio=1.0,
        alphas=100,
        eps=DEFAULT_EPS,
        cv=None,
        n_jobs=None,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        loss="squared_error",
        huber_delta=1.35,
        positive=False,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.loss = loss
        self.huber_delta = huber_delta
        self.positive = positive

    _refit_class = WeightedLinearRegressor

    def _refit_params(self):
        return {
            **super()._refit_params(),
            "loss": self.loss,
            "huber_delta": self.huber_delta,
            "positive": self.positive,
        }

    def _splitter(self, y):
        return check_cv(self.cv, y, classifier=False)

    def _scorer(self, problem):
        return None, None

    def _choose(self, mean_errors, l1_ratios, grids):
        """The smallest mean squared error (the first l1_ratio, alpha at ties)."""
        best = (np.inf, 0, 0)
        for r, errors in enumerate(mean_errors):
            i = int(np.argmin(errors))
            if errors[i] < best[0]:
                best = (errors[i], r, i)
        return best[1], best[2]

    def _set_path(self, path):
        self.mse_path_ = path


class WeightedLinearClassifierCV(_CrossValidationMixin, WeightedLinearClassifier):
    """Logistic regression with alpha (and l1_ratio) chosen by cross-validation.

    For each fold the exact full-batch solver walks the whole grid of alphas,
    from the strongest penalty down, each alpha starting from the previous
    solution; the held-out rows score every alpha's weights (accuracy by
    default). The alpha (and l1_ratio) of the best mean score over the folds
    is chosen, the strongest penalty among equal scores, and the model is
    refitted on all the data: after ``fit`` it is the fitted
    :class:`WeightedLinearClassifier` of ``alpha_``, with the
    cross-validation records besides.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"}, default="l2"
        Penalty on the coefficients, as in :class:`WeightedLinearClassifier`.
    l1_ratio : float or list of float, default=1.0
        Share of L1 in the ``"elasticnet"`` penalty, in [0, 1]; a list is
        cross-validated too (``l1_ratio_``).
    alphas : int or array-like, default=20
        The penalty strengths tried: an array (sorted decreasing), or the
        number of the default grid's alphas, as in
        :class:`WeightedLinearRegressorCV` (from ``alpha_max`` of the log loss
        down to ``eps * alpha_max`` with an L1 part; from ``100 v`` down to
        ``1e-3 v`` for L2 alone).
    eps : float, default=1e-3
        The default grid's length with an L1 part.
    cv : int, cross-validation generator or iterable, default=None
        None for 5-fold :class:`~sklearn.model_selection.StratifiedKFold`.
        An integer larger than the smallest class's number of samples is
        allowed, as in LogisticRegressionCV (StratifiedKFold warns); a
        training fold without a class is an error.
    scoring : str or callable, default=None
        The held-out score (see :func:`sklearn.metrics.check_scoring`); None
        is the accuracy, weighted by ``sample_weight`` when given.
    n_jobs : int, default=None
        Folds run in parallel (joblib). None means 1 unless in a joblib
        context.
    fit_intercept : bool, default=True
        Whether to fit the intercepts.
    max_iter : int, default=1000
        Maximum iterations of each solve.
    tol : float, default=1e-4
        Passed to the refitted model.
    class_weight : dict, "balanced" or None, default=None
        As in :class:`WeightedLinearClassifier`, computed once on all the
        data and used in every fold's loss.

    Attributes
    ----------
    alpha_ : float
        The alpha chosen.
    l1_ratio_ : float
        The l1_ratio chosen.
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The grid, decreasing.
    score_path_ : ndarray of shape (n_alphas, n_folds) or \
            (n_l1_ratio, n_alphas, n_folds)
        The held-out score of each alpha on each fold.
    classes_, coef_, intercept_, n_iter_, solver_, stop_reason_, best_epoch_, \
            train_loss_, baseline_loss_, train_score_, loss_curve_, \
            weight_norms_curve_, zero_fraction_curve_, best_loss_, \
            validation_scores_, best_validation_score_, t_, feature_std_, \
            feature_mean_, n_features_in_, feature_names_in_ : object
        Those of the model refitted at ``alpha_`` (see
        :class:`WeightedLinearRegressor` or :class:`WeightedLinearClassifier`;
        ``feature_names_in_`` only for X with string column names).

    See Also
    --------
    WeightedLinearClassifier : The model refitted.
    sklearn.linear_model.LogisticRegressionCV : Chooses C by cross-validation.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import scale
    >>> from sk_weights import WeightedLinearClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = WeightedLinearClassifierCV(penalty="l1").fit(scale(X), y)
    >>> model.score_path_.shape
    (20, 5)
    """

    _parameter_constraints = {
        **_CV_CONSTRAINTS,
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [str, callable, None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        l1_ratio=1.0,
        alphas=20,
        eps=DEFAULT_EPS,
        cv=None,
        scoring=None,
        n_jobs=None,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-4,
        class_weight=None,
    ):
        self.penalty = penalty
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight

    _refit_class = WeightedLinearClassifier

    def _refit_params(self):
        return {**super()._refit_params(), "class_weight": self.class_weight}

    def _splitter(self, y_index):
        return check_cv(self.cv, y_index, classifier=True)

    def _check_folds(self, problem, folds):
        super()._check_folds(problem, folds)
        for train, _ in folds:
            missing = np.setdiff1d(np.arange(problem.n_classes), problem.targets[train])
            if missing.size:
                raise ValueError(
                    f"cv gives a training fold without any sample of the classes "
                    f"{problem.classes[missing].tolist()}: every class needs at "
                    "least two samples, and a stratified cv or fewer folds."
                )

    def _scorer(self, problem):
        if self.scoring is None:
            return None, None
        template = self._refit_model(None, None)
        template.classes_ = problem.classes
        return check_scoring(template, scoring=self.scoring), template

    def _choose(self, mean_scores, l1_ratios, grids):
        """The best mean score; at equal scores the largest alpha, then l1_ratio."""
        best = (-np.inf, -np.inf, 0, 0)
        for r, scores in enumerate(mean_scores):
            for i, score in enumerate(scores):
                alpha = grids[r][i]
                if score > best[0] or (score == best[0] and alpha > best[1]):
                    best = (score, alpha, r, i)
        return best[2], best[3]

    def _set_path(self, path):
        self.score_path_ = path
