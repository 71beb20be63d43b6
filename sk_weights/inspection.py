"""Inspection of fitted models: how sure the weights are, why a prediction.

A weight read from one fit is one draw. Three tools here look at many:

- :func:`weight_stability` refits clones of an estimator on bootstrap
  resamples (or half-samples) of the data and reports how each feature's
  weight, importance and selection (not zero) vary;
- :func:`weights_path` refits along a grid of penalty strengths ``alpha``
  with warm starts, and returns the weights at each;
- :func:`mc_dropout` runs a fitted network (or linear model) with dropout on,
  as in training, many times, and returns the spread of its predictions.

They work through the estimator API (``clone``, ``set_params``, ``fit``,
``coef_``, ``score``, and the fitted network that every estimator of the
package presents), so every estimator of the package is served alike.

A fourth answers a question about one row rather than the whole model:
:func:`explain` splits a prediction into one contribution per feature
(implemented in ``sk_weights._explain``).
"""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.special import entr
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_consistent_length

from sk_weights._base import make_rng, weighted_feature_std
from sk_weights._explain import Explanation, explain
from sk_weights._network import Workspace, forward
from sk_weights._sklearn_compat import _num_samples, _safe_indexing, check_is_fitted
from sk_weights._training import _dropout_masks, _mask_buffers
from sk_weights._validation import (
    check_budget,
    check_count,
    check_n_jobs,
    n_columns,
    validate_input,
)
from sk_weights._views import plot_text, printable, wrap
from sk_weights.exceptions import PoorFitWarning
from sk_weights.report import _final_model_and_names, _stability_report

__all__ = [
    "Explanation",
    "MCDropoutResult",
    "WeightsPath",
    "explain",
    "mc_dropout",
    "weight_stability",
    "weights_path",
]

#: How far down from ``alpha_max`` the default grid of :func:`weights_path` goes.
PATH_EPS = 1e-3

#: The default grid starts this much (relatively) above ``alpha_max``.
ALPHA_MAX_MARGIN = 1e-10

#: Default grid without a closed-form ``alpha_max`` (L2 alone, networks): from
#: ``10**2`` to ``10**-3`` times the mean variance of the features.
SCALE_GRID_DECADES = (2.0, -3.0)

#: Colours of the labelled weights of :meth:`WeightsPath.plot`: matplotlib's
#: ten, with black for its grey (the colour of the unlabelled weights).
PATH_COLOURS = [f"C{k}" for k in range(7)] + ["black", "C8", "C9"]

#: Rows per forward pass of :func:`mc_dropout` (bounds its working memory).
MC_DROPOUT_BATCH = 1024


# -- stability ----------------------------------------------------------------


def weight_stability(
    estimator,
    X,
    y,
    *,
    n_resamples=30,
    method="bootstrap",
    sample_weight=None,
    n_jobs=None,
    random_state=None,
):
    """Refit on resamples of the data and report how stable each weight is.

    The estimator is cloned and fitted once on all the data (the report's
    weights, importances and layers) and once on each of ``n_resamples``
    resamples; each feature row of the report then says how its weight and
    importance vary across the resamples and how often it is selected.

    Parameters
    ----------
    estimator : estimator
        An estimator of this package, or a :class:`~sklearn.pipeline.Pipeline`
        ending in one (fitted or not: clones are fitted).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    n_resamples : int, default=30
        Number of refits, at least 2.
    method : {"bootstrap", "subsample"}, default="bootstrap"
        ``"bootstrap"`` draws ``n_samples`` rows with replacement;
        ``"subsample"`` draws half the rows without replacement, as stability
        selection does. For a classifier with 1-D ``y`` the rows are drawn
        within each class, so that every resample holds every class in its
        proportion.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample; a drawn row keeps its weight.
    n_jobs : int, default=None
        Refits run in parallel by :class:`joblib.Parallel` (``-1``: all
        cores), so a dask backend (``joblib.parallel_backend("dask")``) spreads
        them over a cluster. The results do not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the resamples. Each refit gets its own seed, drawn up front,
        which draws its rows and, when the estimator's own ``random_state``
        (or that of a pipeline step) is None, seeds its fit too: a fixed
        ``random_state`` gives identical results.

    Returns
    -------
    WeightsReport
        The report of the fit on all the data, whose feature rows add
        ``weight_mean``, ``weight_std`` (``ddof=1``), ``weight_low`` and
        ``weight_high`` (the 2.5 % and 97.5 % percentiles across the refits,
        shaped like ``weight``: a float, or a dict per class or target),
        ``importance_low``, ``importance_high`` and ``selection_frequency``:
        the share of refits in which the feature's weights are not all zero
        (for networks: in which the input is not cut off, i.e. some
        first-layer weight leaving it is not zero). ``to_dict()["stability"]``
        is ``{"method": method, "n_resamples": n_resamples}``.

    Raises
    ------
    ValueError
        If ``n_resamples`` or ``method`` is invalid, or X, y and
        ``sample_weight`` differ in length.

    See Also
    --------
    weights_report : Aggregate models fitted elsewhere, e.g. in cross-validation.
    weights_path : The weights along a grid of penalty strengths.

    Notes
    -----
    The interval shows how much the weight moves when the data are redrawn
    from the sample at hand; it is not a confidence interval of a "true"
    weight, and a penalised weight is biased towards zero whatever the
    resamples say. For networks, the weights compared are the effective input
    weights ``coef_`` (products of the weight matrices), which do not depend
    on the order of the hidden units.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weight_stability
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> report = weight_stability(
    ...     WeightedLinearRegressor(penalty="l1", alpha=0.5), X, y,
    ...     n_resamples=10, random_state=0,
    ... )
    >>> bmi = report.to_dict()["features"][0]
    >>> bmi["name"], bmi["selection_frequency"]
    ('bmi', 1.0)
    >>> bmi["weight_low"] < bmi["weight"] < bmi["weight_high"]
    True
    """
    _check_estimator(estimator, "weight_stability")
    n_resamples = check_count(n_resamples, "n_resamples", low=2)
    n_jobs = check_n_jobs(n_jobs)
    # The refits' weights are kept: one row of coefficients per refit.
    check_budget(
        (n_resamples + 1) * (n_columns(X) + 1),
        f"n_resamples={n_resamples}",
        "weight_stability",
    )
    if method not in ("bootstrap", "subsample"):
        raise ValueError(f"method must be 'bootstrap' or 'subsample', got {method!r}.")
    check_consistent_length(X, y, sample_weight)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
    # One seed per fit, drawn up front: the results cannot depend on the order
    # in which the workers run, nor on their number. The first seeds the fit
    # on all the data.
    seeds = check_random_state(random_state).randint(
        np.iinfo(np.int32).max, size=n_resamples + 1
    )
    jobs = [(seeds[0], None)] + [(seed, method) for seed in seeds[1:]]
    reference, *fitted = refit_resamples(estimator, X, y, jobs, sample_weight, n_jobs)
    return _stability_report(fitted, method, reference=reference)


def refit_resamples(estimator, X, y, jobs, sample_weight=None, n_jobs=None):
    """Return clones of ``estimator`` fitted on resamples, in parallel.

    ``jobs`` lists ``(seed, method)`` pairs (see :func:`resample_indices`; a
    method of None fits on every row).
    """
    groups = _strata(estimator, y)
    results = Parallel(n_jobs=_workers(n_jobs, len(jobs)))(
        delayed(_fit_recording_warnings)(
            estimator, X, y, sample_weight, seed, how, groups
        )
        for seed, how in jobs
    )
    # A worker process's warnings would go to its own stderr, unseen by the
    # caller's filters: they are issued here instead, each distinct one once.
    issued = {}
    for _, caught in results:
        issued.update(dict.fromkeys(caught))
    for category, message in issued:
        warnings.warn(message, category, stacklevel=2)
    return [model for model, _ in results]


def _workers(n_jobs, n_tasks):
    """The workers to start: never more than the tasks, nor than the cores here.

    joblib starts as many processes as ``n_jobs`` asks, whatever the number
    of tasks or of cores (a second or so each); a backend that runs
    elsewhere (dask) keeps ``n_jobs`` as given, up to the number of tasks.
    """
    n_jobs = check_n_jobs(n_jobs)
    if n_jobs is None:
        return None  # joblib's default, or that of an enclosing parallel_config
    from joblib import cpu_count, effective_n_jobs
    from joblib._parallel_backends import (
        LokyBackend,
        MultiprocessingBackend,
        SequentialBackend,
        ThreadingBackend,
    )
    from joblib.parallel import get_active_backend

    workers = min(effective_n_jobs(n_jobs), max(n_tasks, 1))
    local = (LokyBackend, MultiprocessingBackend, ThreadingBackend, SequentialBackend)
    if isinstance(get_active_backend()[0], local):
        workers = min(workers, cpu_count())
    return workers


def _check_estimator(estimator, tool):
    """Refuse what is not an estimator (None, a class, ...) with a clear TypeError."""
    if isinstance(estimator, type) or not callable(
        getattr(estimator, "get_params", None)
    ):
        raise TypeError(
            f"{tool} takes an estimator instance of sk_weights (or a Pipeline "
            f"ending in one), got {estimator!r}."
        )


def _fit_recording_warnings(*args):
    """Run :func:`_fit_resample`; return the model and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _fit_resample(*args)
    return model, [(w.category, str(w.message)) for w in caught]


def resample_indices(seed, n_samples, method, groups=None):
    """Return the sorted row indices of the resample that ``seed`` draws.

    ``method`` is "bootstrap" (as many rows, with replacement), "subsample"
    (half the rows, without replacement) or None (every row). ``groups``, a
    list of index arrays (one per class), draws within each group.
    """
    if method is None:
        return np.arange(n_samples)
    rng = np.random.default_rng(seed)
    parts = []
    for members in groups or [np.arange(n_samples)]:
        if method == "bootstrap":
            parts.append(rng.choice(members, size=len(members), replace=True))
        else:
            parts.append(
                rng.choice(members, size=max(1, len(members) // 2), replace=False)
            )
    return np.sort(np.concatenate(parts))


def _strata(estimator, y):
    """One index array per class for a classifier with 1-D labels, else None."""
    if not is_classifier(estimator) or np.ndim(y) != 1:
        return None
    _, codes = np.unique(np.asarray(y), return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]


def _fit_resample(estimator, X, y, sample_weight, seed, method, groups):
    """Fit a clone of ``estimator`` on the resample that ``seed`` draws."""
    model = clone(estimator)
    unseeded = {
        name: int(seed)
        for name, value in model.get_params(deep=True).items()
        if name.endswith("random_state") and value is None
    }
    model.set_params(**unseeded)
    rows = resample_indices(seed, _num_samples(X), method, groups)
    fit_params = {}
    if sample_weight is not None:
        key = "sample_weight"
        if isinstance(model, Pipeline):
            key = f"{model.steps[-1][0]}__sample_weight"
        fit_params[key] = sample_weight[rows]
    return model.fit(_safe_indexing(X, rows), _safe_indexing(y, rows), **fit_params)


# -- the path -----------------------------------------------------------------


@dataclass
class WeightsPath:
    """The weights of an estimator along a grid of penalty strengths.

    Returned by :func:`weights_path`.

    Parameters
    ----------
    alphas : ndarray of shape (n_alphas,)
        The penalty strengths, decreasing.
    coefs : ndarray of shape (n_alphas, \\*coef_shape)
        ``coef_`` after the fit at each alpha (the effective input weights
        for networks).
    n_nonzero : ndarray of shape (n_alphas,)
        Number of nonzero entries of ``coefs`` at each alpha.
    train_scores : ndarray of shape (n_alphas,)
        The estimator's ``score`` (R² or accuracy, ``train_score_``) on the
        data trained on.
    feature_names : list of str
        Names of the input features.
    output_labels : list of str
        What each row of a 2-D ``coef_`` is for (classes or targets); one
        empty label for a 1-D ``coef_``.
    estimator : str
        The estimator's class and penalty, for titles.
    grid : str
        How the default grid was chosen (or ``"given"``).
    score_name : str
        What ``train_scores`` are (``"R²"`` or ``"accuracy"``).

    See Also
    --------
    weights_path : Compute it.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weights_path
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
    >>> path = weights_path(WeightedLinearRegressor(penalty="l1"), X, y, n_alphas=5)
    >>> path.n_nonzero.tolist()
    [0, 4, 7, 9, 10]
    """

    alphas: np.ndarray
    coefs: np.ndarray
    n_nonzero: np.ndarray
    train_scores: np.ndarray
    feature_names: list
    output_labels: list
    estimator: str = ""
    grid: str = "given"
    score_name: str = "score"

    def _columns(self):
        """Names of the flattened weights: feature, or feature[output]."""
        if len(self.output_labels) == 1 and self.coefs.ndim == 2:
            return list(self.feature_names)
        return [
            f"{name}[{label}]"
            for label in self.output_labels
            for name in self.feature_names
        ]

    def _flat_coefs(self):
        return self.coefs.reshape(len(self.alphas), -1)

    def to_frame(self):
        """Return the path as a pandas DataFrame, one row per alpha.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``alpha``; columns ``n_nonzero``, ``train_score`` and
            one per weight (``name``, or ``name[class]`` for several outputs).
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "WeightsPath.to_frame needs pandas: pip install 'sk_weights[pandas]'."
            ) from exc
        frame = pd.DataFrame(self._flat_coefs(), columns=self._columns())
        frame.insert(0, "train_score", self.train_scores)
        frame.insert(0, "n_nonzero", self.n_nonzero)
        frame.index = pd.Index(self.alphas, name="alpha")
        return frame

    def __str__(self):
        names = self._columns()
        flat = self._flat_coefs()
        lines = [
            f"Weights path of {self.estimator}: {len(self.alphas)} alphas from "
            f"{self.alphas[0]:.4g} down to {self.alphas[-1]:.4g} ({self.grid})",
            f"  {'alpha':>10s} {'nonzero':>8s} {self.score_name:>9s}",
        ]
        step = max(1, len(self.alphas) // 10)
        shown = sorted(set(range(0, len(self.alphas), step)) | {len(self.alphas) - 1})
        for i in shown:
            lines.append(
                f"  {self.alphas[i]:>10.4g} {self.n_nonzero[i]:>8d} "
                f"{self.train_scores[i]:>9.4f}"
            )
        nonzero = flat != 0
        entered = [
            (int(np.argmax(nonzero[:, k])), names[k])
            for k in range(flat.shape[1])
            if nonzero[:, k].any()
        ]
        entered.sort()
        if entered:
            lines.append(
                "Order of entry (first alpha with a nonzero weight): "
                + ", ".join(
                    f"{name} ({self.alphas[i]:.3g})" for i, name in entered[:10]
                )
                + (f", and {len(entered) - 10} more" if len(entered) > 10 else "")
            )
        never = [names[k] for k in range(flat.shape[1]) if not nonzero[:, k].any()]
        if never:
            lines.append(f"Zero all along ({len(never)}): " + ", ".join(never))
        # Long lines are wrapped, so that the text fits a terminal or a page;
        # the lists (from the third line on) between their items.
        return "\n".join(
            part
            for k, line in enumerate(lines)
            for part in wrap(printable(line), indent="  ", items=k > 1)
        )

    def plot(self, top=10):
        """Draw the classic coefficient path against alpha (log scale).

        Parameters
        ----------
        top : int, default=10
            Number of weights labelled in the legend (the largest at the
            weakest penalty).

        Returns
        -------
        matplotlib.figure.Figure
            Two panels sharing the alpha axis (strong penalty on the left):
            every weight against alpha, and the number of nonzero weights with
            the training score.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise ImportError(
                "WeightsPath.plot needs matplotlib: pip install 'sk_weights[plot]'."
            ) from exc
        fig = Figure(figsize=(8, 6.5), layout="constrained")
        path_ax, count_ax = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]}
        )
        flat = self._flat_coefs()
        names = self._columns()
        # The largest weights at the weak end get a colour of their own and a
        # legend entry; the others are drawn thin and grey, so that no two
        # legend entries share a colour.
        labelled = {
            int(k): rank for rank, k in enumerate(np.argsort(-np.abs(flat[-1]))[:top])
        }
        for k in range(flat.shape[1]):
            rank = labelled.get(k)
            path_ax.plot(
                self.alphas,
                flat[:, k],
                color="#bbbbbb" if rank is None else PATH_COLOURS[rank % 10],
                linewidth=0.8 if rank is None else 1.6,
                label=None if rank is None else plot_text(names[k]),
                zorder=1 if rank is None else 2,
            )
        path_ax.axhline(0.0, color="black", linewidth=0.6)
        path_ax.set_xscale("log")
        path_ax.invert_xaxis()  # strong penalty (all zero) on the left
        path_ax.set_ylabel("weight")
        path_ax.set_title(plot_text(f"Weights path: {self.estimator}"))
        path_ax.legend(loc="upper left", fontsize="small", ncols=2)
        count_ax.step(self.alphas, self.n_nonzero, where="mid", color="black")
        count_ax.set_ylabel("nonzero weights")
        count_ax.set_xlabel("alpha (log scale, decreasing)")
        score_ax = count_ax.twinx()
        score_ax.plot(self.alphas, self.train_scores, color="C1")
        score_ax.set_ylabel(f"training {self.score_name}", color="C1")
        return fig


def weights_path(estimator, X, y, *, alphas=None, n_alphas=30, sample_weight=None):
    """Fit along a grid of penalty strengths, with warm starts.

    A clone of the estimator with ``warm_start=True`` is fitted at each
    ``alpha`` in turn (``set_params(alpha=...)``), each fit starting from the
    weights of the previous one, and ``coef_`` is recorded after each. A
    linear model walks down from the strongest penalty (all weights zero, the
    path of :func:`sklearn.linear_model.enet_path`); a network walks up from
    the weakest, its first fit starting from fresh initial weights: an
    all-zero network cannot leave zero, as every weight's gradient vanishes
    there.

    Parameters
    ----------
    estimator : estimator
        An estimator of this package with a penalty (``penalty`` not None), or
        a :class:`~sklearn.pipeline.Pipeline` ending in one: its first steps
        are fitted once (a clone, on all of X), the path runs on the last
        step, and the features are named by their ``get_feature_names_out``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    alphas : array-like of float, optional
        The penalty strengths (sorted in decreasing order here). By default
        ``n_alphas`` values log-spaced over three decades: with an L1 part on a
        linear model, from ``alpha_max`` (the smallest alpha whose weights are
        all zero, see Notes; raised by a relative 1e-10, so that rounding in
        the solver cannot leave a weight of 1e-15 there) down to
        ``1e-3 * alpha_max``, the grid of
        :func:`sklearn.linear_model.enet_path`; otherwise (L2 alone, or a
        network, for which no closed form exists) from ``100 * v`` down to
        ``1e-3 * v``, with ``v`` the mean (weighted) variance of the features:
        the scale of the data term's curvature, against which an L2 penalty
        is strong or weak.
    n_alphas : int, default=30
        Number of alphas of the default grid.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample, passed to every fit and score.

    Returns
    -------
    WeightsPath
        The alphas, the weights at each, their number of nonzeros and the
        training scores.

    Raises
    ------
    ValueError
        If the estimator is not one of this package (nor a Pipeline ending in
        one) or has no penalty, or ``alphas`` holds a value that is not a finite number
        >= 0.

    See Also
    --------
    weight_stability : How the weights vary across resamples of the data.

    Notes
    -----
    The gradient of the data term at zero weights (and the intercept of the
    constant model) is ``g = X^T r`` with ``r`` the per-sample gradient of
    the loss in the raw output at the constant model, which the loss's
    datafit gives: for the squared loss and the log losses ``s * (p0 - Y) /
    sum(s)``, where ``Y`` holds the (encoded) targets and ``p0`` the constant
    model's output (their weighted mean with an intercept, 0, 0.5 or
    ``1 / n_classes`` without); for Poisson ``s * (mu0 - y) / sum(s)`` with
    ``mu0`` the weighted mean of y. Zero weights are optimal exactly when
    ``|g| <= alpha * l1_ratio`` everywhere (with ``positive=True``:
    ``-g <= alpha * l1_ratio``), hence ``alpha_max = max |g| / l1_ratio``;
    with an intercept, ``sum r = 0``, so ``X`` may as well be centred.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weights_path
    >>> X, y = load_diabetes(return_X_y=True)
    >>> path = weights_path(WeightedLinearRegressor(penalty="l1"), X, y, n_alphas=10)
    >>> path.coefs.shape
    (10, 10)
    >>> int(path.n_nonzero[0]), int(path.n_nonzero[-1])
    (0, 10)
    """
    _check_path_arguments(estimator, X, alphas, n_alphas)
    head, estimator = _split_pipeline(estimator)
    params = estimator.get_params()
    if "alpha" not in params or "penalty" not in params:
        raise ValueError(
            f"weights_path varies the parameter alpha of an estimator of "
            f"sk_weights (or of a Pipeline ending in one), which "
            f"{type(estimator).__name__} is not."
        )
    if params["penalty"] is None:
        raise ValueError(
            f"weights_path needs a penalty whose strength alpha it can vary; "
            f"{type(estimator).__name__} has penalty={params.get('penalty')!r}. "
            "Set penalty='l1', 'l2' or 'elasticnet'."
        )
    check_consistent_length(X, y, sample_weight)
    names = None
    if head is not None:
        # The first steps do not depend on alpha: fitted once, on all of X.
        head = clone(head)
        X = head.fit_transform(X, y)
        names = _names_out(head)
    if alphas is None:
        if not isinstance(n_alphas, numbers.Integral) or n_alphas < 1:
            raise ValueError(f"n_alphas must be an integer >= 1, got {n_alphas!r}.")
        alphas, grid = default_alphas(estimator, X, y, sample_weight, n_alphas)
    else:
        alphas = np.asarray(alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError(
                "alphas must be a non-empty sequence of finite numbers >= 0, got "
                f"{alphas!r}."
            )
        alphas, grid = np.sort(alphas)[::-1], "given"
    network = _is_network_estimator(estimator)
    # A linear path starts where every weight is zero and warm-starts down. A
    # network cannot: the gradients of an all-zero network vanish (every hidden
    # unit is the same, and no weight receives a signal), so its path starts
    # at the weak-penalty end, from fresh initial weights, and warm-starts up.
    order = np.arange(len(alphas))[::-1] if network else np.arange(len(alphas))
    model = clone(estimator).set_params(warm_start=True)
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    coefs, scores = [None] * len(alphas), [None] * len(alphas)
    issued = {}
    for i in order:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.set_params(alpha=float(alphas[i])).fit(X, y, **fit_params)
        coefs[i] = np.array(model.coef_, dtype=np.float64)
        for warning in caught:
            # At a strong penalty a constant model (every weight zero) is the
            # answer sought, not a training that failed.
            if issubclass(warning.category, PoorFitWarning) and not coefs[i].any():
                continue
            issued.setdefault((warning.category, str(warning.message)), None)
        # Every estimator of the package records its score on the data it
        # was trained on; scoring again would validate X once more per alpha.
        score = getattr(model, "train_score_", None)
        scores[i] = model.score(X, y, **fit_params) if score is None else score
    for category, message in issued:
        warnings.warn(message, category, stacklevel=2)
    coefs = np.stack(coefs)
    if names is None:
        _, names, _ = _final_model_and_names(model, None)
    n_features = coefs.shape[-1]
    if names is None or len(names) != n_features:
        names = [f"x{j}" for j in range(n_features)]
    return WeightsPath(
        alphas=alphas,
        coefs=coefs,
        n_nonzero=np.count_nonzero(coefs.reshape(len(alphas), -1), axis=1),
        train_scores=np.asarray(scores, dtype=np.float64),
        feature_names=[str(n) for n in names],
        output_labels=_output_labels(model, coefs),
        estimator=_describe(estimator, head),
        grid=grid,
        score_name="accuracy" if is_classifier(model) else "R²",
    )


def _check_path_arguments(estimator, X, alphas, n_alphas):
    """Types and sizes of weights_path's arguments, before any work."""
    _check_estimator(estimator, "weights_path")
    if alphas is None:
        n_alphas = check_count(n_alphas, "n_alphas")
        asked = f"n_alphas={n_alphas}"
    else:
        if np.ndim(alphas) != 1 or isinstance(alphas, (str, bytes)):
            raise ValueError(
                f"alphas must be a 1-D sequence of penalty strengths, got "
                f"{alphas!r}; for one alpha, pass [alpha]."
            )
        n_alphas = len(alphas)
        asked = f"alphas (of length {n_alphas})"
    # One row of coefficients per alpha is kept (networks: their effective
    # weights, at least one per feature).
    check_budget(n_alphas * (n_columns(X) + 3), asked, "weights_path")


def _split_pipeline(estimator):
    """``(first steps, last step)`` of a Pipeline, else ``(None, estimator)``."""
    if isinstance(estimator, Pipeline):
        return (estimator[:-1] if len(estimator.steps) > 1 else None), estimator[-1]
    return None, estimator


def _names_out(head):
    """The names of the features that the first steps of a Pipeline put out."""
    try:
        return [str(name) for name in head.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return None


def default_alphas(estimator, X, y, sample_weight, n_alphas):
    """Return the default grid of :func:`weights_path` and how it was chosen."""
    params = estimator.get_params()
    ratio = {"l1": 1.0, "l2": 0.0}.get(params["penalty"], params.get("l1_ratio"))
    weights = (
        np.ones(_num_samples(X))
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    if ratio and not _is_network_estimator(estimator):
        # A hair above alpha_max: exactly at it, the solvers' own rounding of
        # the gradient can leave one weight at 1e-15 instead of zero.
        alpha_max = _alpha_max(estimator, X, y, weights, ratio) * (1 + ALPHA_MAX_MARGIN)
        if alpha_max > 0:
            high, low = np.log10(alpha_max), np.log10(alpha_max * PATH_EPS)
            return np.logspace(
                high, low, n_alphas
            ), "from alpha_max, where all weights are zero"
    scale = _mean_variance(X, weights) or 1.0
    high, low = (np.log10(scale) + d for d in SCALE_GRID_DECADES)
    return np.logspace(high, low, n_alphas), "around the features' mean variance"


def _is_network_estimator(estimator):
    """Whether the estimator (fitted or not) is a network: it has hidden layers."""
    return (
        hasattr(estimator, "coefs_") or "hidden_layer_sizes" in estimator.get_params()
    )


def _alpha_max(estimator, X, y, weights, l1_ratio):
    """The smallest alpha with all weights zero (see the Notes of weights_path)."""
    X = X.tocsr() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    params = estimator.get_params()
    fit_intercept = params.get("fit_intercept", True)
    if is_classifier(estimator):
        class_weight = params.get("class_weight")
        if class_weight is not None:
            weights = weights * compute_sample_weight(class_weight, y)
        classes, codes = np.unique(np.asarray(y), return_inverse=True)
        targets = np.eye(len(classes))[codes]
        if len(classes) == 2:  # one logistic output, for classes_[1]
            targets = targets[:, 1:]
    else:
        targets = np.asarray(y, dtype=np.float64).reshape(_num_samples(X), -1)
    # The datafit knows its constant model and its gradient there.
    datafit = estimator._datafit(targets.shape[1])
    total = weights.sum()
    residual = datafit.gradient_at_constant(targets, weights / total, fit_intercept)
    if not sp.issparse(X) and fit_intercept:
        # Centring does not change X^T r (r sums to zero) but keeps digits.
        X = X - (weights @ X) / total
    gradient = np.asarray(X.T @ residual)
    if params.get("positive") is True:
        # Only a pull upwards moves a weight held at or above zero.
        return float(np.maximum(-gradient, 0).max(initial=0.0)) / l1_ratio
    return float(np.abs(gradient).max()) / l1_ratio


def _mean_variance(X, weights):
    """Mean over the features of their weighted variance."""
    X = X.tocsr() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    return float(np.mean(weighted_feature_std(X, weights) ** 2))


def _output_labels(model, coefs):
    """Labels of the rows of a 2-D ``coef_``: classes or target indices."""
    if coefs.ndim == 2:
        return [""]
    classes = getattr(model, "classes_", None)
    n_outputs = coefs.shape[1]
    if classes is not None and np.ndim(classes) == 1:
        labels = [str(c) for c in classes]
        if len(labels) == n_outputs:
            return labels
        if n_outputs == 1 and len(labels) == 2:
            return labels[1:]
    return [str(k) for k in range(n_outputs)]


def _describe(estimator, head=None):
    params = estimator.get_params()
    penalty = params["penalty"]
    if penalty == "elasticnet":
        penalty += f", l1_ratio={params['l1_ratio']:g}"
    text = f"{type(estimator).__name__}(penalty={penalty})"
    if head is not None:
        steps = " › ".join(type(step).__name__ for _, step in head.steps)
        text += f" after {steps}"
    return text


# -- MC dropout ---------------------------------------------------------------


@dataclass
class MCDropoutResult:
    """Predictions of a network run many times with dropout on.

    Returned by :func:`mc_dropout`.

    Parameters
    ----------
    mean : ndarray
        Mean prediction over the passes: shaped as ``predict`` for a
        regressor, as ``predict_proba`` for a classifier (both columns for a
        binary one).
    std : ndarray
        Standard deviation over the passes, shaped as ``mean``.
    entropy : ndarray of shape (n_rows,) or None
        Classifiers: the predictive entropy of ``mean`` per row, in nats
        (``-sum p log p``; summed over the labels of a multilabel problem);
        None for regressors.
    samples : ndarray of shape (n_samples, \\*mean.shape) or None
        Every pass's prediction, with ``return_samples=True``.
    n_samples : int
        Number of passes.

    See Also
    --------
    mc_dropout : Compute it.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_weights import MCDropoutResult
    >>> result = MCDropoutResult(np.zeros(2), np.ones(2), None, None, 10)
    >>> result.std
    array([1., 1.])
    """

    mean: np.ndarray
    std: np.ndarray
    entropy: np.ndarray = None
    samples: np.ndarray = None
    n_samples: int = 0


def mc_dropout(estimator, X, *, n_samples=100, random_state=None, return_samples=False):
    """Predict ``n_samples`` times with dropout on, as in training (MC dropout).

    Each pass draws new dropout masks, exactly as a training step does
    (inverted dropout, on the layers and with the rates of training), and
    runs the estimator's own forward pass. The spread of the passes shows how
    much the prediction depends on which units happen to be dropped.

    Parameters
    ----------
    estimator : estimator
        A fitted estimator of this package trained with ``dropout > 0``, or a
        fitted :class:`~sklearn.pipeline.Pipeline` ending in one (X goes
        through its first steps).
    X : {array-like, sparse matrix} of shape (n_rows, n_features)
        Rows to predict.
    n_samples : int, default=100
        Number of passes.
    random_state : int, RandomState instance or None, default=None
        Seeds the masks: a fixed value gives identical results.
    return_samples : bool, default=False
        Whether to keep every pass (memory ``n_samples`` times the
        prediction's; otherwise running sums keep it to ``O(n_rows x
        n_outputs)``).

    Returns
    -------
    MCDropoutResult
        ``mean``, ``std`` and, for classifiers, ``entropy``; ``samples`` when
        asked.

    Raises
    ------
    ValueError
        If the estimator is not one of this package (nor a Pipeline ending in
        one), was trained without dropout, or ``n_samples < 1``.

    See Also
    --------
    weight_stability : How the weights themselves vary across resamples.

    Notes
    -----
    Gal and Ghahramani (2016) read the spread as an approximation of a
    Bayesian posterior predictive; it is at best a rough one. It measures the
    sensitivity of this network to its dropout noise, not the error of its
    predictions: a model that is confidently wrong away from its training
    data can show a small spread.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, mc_dropout
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = WeightedLinearRegressor(dropout=0.2, random_state=0).fit(X, y)
    >>> result = mc_dropout(model, X[:3], n_samples=200, random_state=0)
    >>> result.mean.shape, bool((result.std > 0).all())
    ((3,), True)
    """
    head, estimator = _split_pipeline(estimator)
    if not hasattr(estimator, "_fitted_network"):
        raise ValueError(
            f"mc_dropout runs the network of an estimator of sk_weights (or of "
            f"a Pipeline ending in one), which {type(estimator).__name__} is not."
        )
    check_is_fitted(estimator)
    n_samples = check_count(n_samples, "n_samples")
    if head is not None:
        X = head.transform(X)
    _check_mc_dropout_size(estimator, X, n_samples, return_samples)
    network = estimator._fitted_network()
    rates = list(network.dropout_rates)
    if not any(rate > 0 for rate in rates):
        raise ValueError(
            f"mc_dropout needs a model trained with dropout, but this "
            f"{type(estimator).__name__} has dropout={estimator.dropout!r}: no "
            "unit is ever dropped, so every pass would give the same prediction. "
            "Fit it with dropout > 0 (e.g. 0.1 to 0.5)."
        )
    dtype = network.coefs[0].dtype
    X = validate_input(estimator, X, reset=False, accept_sparse="csr", dtype=dtype)
    n_rows = X.shape[0]
    layout = network.layout
    n_outputs = layout.layer_sizes[-1]
    rng = make_rng(random_state)
    batch = min(n_rows, MC_DROPOUT_BATCH)
    workspace = Workspace(layout, batch, dtype)
    buffers = _mask_buffers(X, layout, rates, batch, dtype)
    # Welford's running mean and sum of squared deviations, in float64.
    mean = np.zeros((n_rows, n_outputs))
    squares = np.zeros((n_rows, n_outputs))
    samples = (
        np.empty((n_samples, n_rows, n_outputs), dtype) if return_samples else None
    )
    for start in range(0, n_rows, batch):
        stop = min(start + batch, n_rows)
        X_batch = X[start:stop]
        space = workspace.resize(stop - start)
        for k in range(n_samples):
            masks = _dropout_masks(rng, X_batch, rates, buffers)
            output = forward(
                network.coefs,
                network.intercepts,
                X_batch,
                network.activation,
                network.output_activation,
                space,
                masks,
            )
            delta = output - mean[start:stop]
            mean[start:stop] += delta / (k + 1)
            squares[start:stop] += delta * (output - mean[start:stop])
            if return_samples:
                samples[k, start:stop] = output
    std = np.sqrt(squares / n_samples)
    return _shape_result(estimator, mean, std, samples, n_samples)


def _check_mc_dropout_size(estimator, X, n_samples, return_samples):
    """Refuse a call whose results would not fit the budget, before any pass."""
    if not isinstance(return_samples, (bool, np.bool_)):
        raise ValueError(
            f"return_samples must be True or False, got {return_samples!r}."
        )
    n_rows = _num_samples(X)
    n_outputs = estimator._fitted_network().layout.layer_sizes[-1] + 1
    # Running means and squares, and every pass when the samples are kept.
    per_pass = n_rows * n_outputs
    asked = f"n_samples={n_samples}" if return_samples else "X"
    check_budget(
        per_pass * (n_samples + 4 if return_samples else 4), asked, "mc_dropout"
    )


def _shape_result(estimator, mean, std, samples, n_samples):
    """Shape the network's outputs as ``predict`` / ``predict_proba`` do."""
    if not is_classifier(estimator):
        if np.ndim(estimator.coef_) == 1:  # a 1-D y: predictions are 1-D
            mean, std = mean[:, 0], std[:, 0]
            samples = None if samples is None else samples[..., 0]
        return MCDropoutResult(mean, std, None, samples, n_samples)
    classes = getattr(estimator, "classes_", None)
    binary = mean.shape[1] == 1 and classes is not None and len(classes) == 2
    if binary:
        # One logistic output, the probability of classes_[1]: both columns.
        mean = np.hstack([1 - mean, mean])
        std = np.hstack([std, std])
        if samples is not None:
            samples = np.concatenate([1 - samples, samples], axis=-1)
    entropy = entr(mean)
    if not binary and estimator._fitted_network().output_activation == "logistic":
        # Independent labels (multilabel): the sum of their Bernoulli entropies.
        entropy += entr(1 - mean)
    return MCDropoutResult(mean, std, entropy.sum(axis=1), samples, n_samples)
