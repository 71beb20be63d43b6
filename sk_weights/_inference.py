"""Classical inference for the weights of an unpenalised linear model.

An unpenalised linear model is a generalised linear model fitted by maximum
likelihood (least squares is the Gaussian case), so each weight has a
standard error, a test statistic and a p-value in closed form. One code path
serves every loss, and it asks the loss's datafit two things only: the
inverse link (the mean ``mu`` from the raw output ``eta``) and
``derivatives(y, eta, weights)``, the gradient ``g`` and the curvature ``c``
of the loss in ``eta``. The rest follows from them:

- the score of a row is ``-g``; the observed curvature is ``c(y)``; the
  expected (Fisher) curvature is ``c(mu)``, the curvature at ``y = mu``
  (every loss here is linear in y, so this is its expectation);
- a row's Pearson chi² term is ``g**2 / c(mu)`` (``(y - mu)**2 / V(mu)``);
- the dispersion (the *scale*) is 1 for the Bernoulli and Poisson
  distributions, and Pearson's chi² over the residual degrees of freedom for
  the Gaussian (the residual sum of squares over the degrees of freedom) and
  the Gamma.

With ``D`` the design matrix (a column of ones first when the model has an
intercept), ``s`` the sample weights and ``phi`` the scale:

- the Fisher information is ``D^T diag(s * c(mu)) D / phi``; its inverse is
  the ``"nonrobust"`` covariance;
- the sandwich ``B (sum_i (s_i g_i)^2 d_i d_i^T) B``, with ``B`` the inverse of
  ``D^T diag(s * c(y)) D``, is HC0 (the scale cancels); least squares adds
  HC1 (times ``n / df``), HC2 and HC3 (each ``(s_i g_i)^2`` divided by
  ``1 - h_i`` or its square, ``h_i`` the leverage).

Statistics use Student's t with the residual degrees of freedom for least
squares with the ``"nonrobust"`` covariance, else the normal distribution.
These are the conventions of statsmodels' ``OLS``, ``WLS``, ``Logit`` and
``GLM`` (fitted by IRLS, whose "nonrobust" covariance is the inverse Fisher
information and whose sandwich uses the observed curvature).
"""

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy import special
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from sk_weights._datafits import make_datafit
from sk_weights._linear import WeightedLinearClassifier, WeightedLinearRegressor
from sk_weights._mlp import MLPWeightsClassifier, MLPWeightsRegressor

__all__ = ["weight_inference"]

#: The covariances of the weights that :func:`weight_inference` computes.
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")

#: Covariances defined for least squares only (small-sample corrections
#: that use the leverage or the residual degrees of freedom).
LEAST_SQUARES_COV_TYPES = ("HC1", "HC2", "HC3")

#: A fitted model whose Newton step on the data is larger than this many
#: standard errors is not at the optimum on that data.
OPTIMUM_TOLERANCE = 1e-3

#: A column of a null vector of the (column-scaled) information matrix larger
#: than this in absolute value makes the column's weight not identified.
NULL_VECTOR_TOLERANCE = 1e-6

#: A binary model whose every probability is this close to its row's label
#: has been fitted to separated classes (no finite unpenalised optimum).
SEPARATION_TOLERANCE = 1e-6

#: Networks, whose weights have no classical inference.
NETWORKS = (MLPWeightsClassifier, MLPWeightsRegressor, MLPClassifier, MLPRegressor)

_STABILITY_HINT = (
    "sk_weights.weight_stability (refits on resamples) is the tool for them"
)


#: Each loss with inference, by its datafit's name: the distribution whose
#: likelihood it is, and whether that distribution's dispersion is estimated
#: (else it is 1).
DISTRIBUTIONS = {
    "squared_error": ("gaussian", True),
    "binary_log_loss": ("binomial", False),
    "poisson": ("poisson", False),
    "gamma": ("gamma", True),
}


@dataclass
class InferenceTable:
    """The inference of every weight, the intercept's first when there is one."""

    weight: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    identified: np.ndarray
    distribution: str
    df_resid: int
    nobs: int
    scale: float
    newton_step: np.ndarray
    family: str


def weight_inference(
    estimator,
    X,
    y,
    *,
    sample_weight=None,
    cov_type="nonrobust",
    confidence=0.95,
):
    """Report each weight with its standard error, p-value and interval.

    For an unpenalised linear model the classical answer to "how sure is this
    weight?" is in closed form: least squares (ordinary or weighted), logistic
    regression and the other generalised linear models give each weight a
    standard error, a test statistic for "the weight is zero", its p-value and
    a confidence interval, computed here at the estimator's own fitted weights
    from the information matrix ``X^T W X`` and, for the robust covariances,
    the scores of the rows. The numbers are those of statsmodels' ``OLS``,
    ``WLS``, ``Logit`` and ``GLM`` (Poisson, and Gamma with the log link) on
    the same data.

    Parameters
    ----------
    estimator : estimator
        A :class:`~sk_weights.WeightedLinearRegressor` (``loss`` of
        ``"squared_error"``, ``"poisson"`` or ``"gamma"``) or a two-class
        :class:`~sk_weights.WeightedLinearClassifier` without penalty
        (``penalty=None``, or ``alpha=0``), without dropout, early stopping
        or ``positive=True``, or a :class:`~sklearn.pipeline.Pipeline` ending
        in one (the data go through the first steps, which are taken as fixed;
        the names come from their ``get_feature_names_out``). A fitted estimator is
        used as it is and must have been fitted on ``X``, ``y``; an unfitted
        one is cloned and fitted on them.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The data the model is (or is to be) fitted on.
    y : array-like of shape (n_samples,)
        The targets (class labels for the classifier).
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each row (weighted least squares, or the weights of the
        log-likelihood). Rows of weight zero are left out of the count of
        rows and of the residual degrees of freedom. The classifier's
        ``class_weight``, if any, multiplies them.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
        The covariance of the weights. ``"nonrobust"``: the inverse
        information (for least squares, the residual variance times
        ``(X^T W X)^-1``). ``"HC0"``: White's heteroscedasticity-robust
        sandwich. ``"HC1"``, ``"HC2"``, ``"HC3"``: its small-sample
        corrections, defined for least squares (``loss="squared_error"``)
        only.
    confidence : float, default=0.95
        Level of the confidence intervals, in (0, 1).

    Returns
    -------
    WeightsReport
        The report of the fitted model, whose feature rows add ``weight_se``
        (the standard error), ``statistic`` (the weight divided by it),
        ``p_value`` (two-sided, for the weight being zero), ``weight_low``
        and ``weight_high`` (the confidence interval).
        ``to_dict()["inference"]`` holds ``cov_type``, ``distribution``
        (``"t"`` or ``"normal"``), ``df_resid``, ``nobs``, ``scale``,
        ``confidence``, ``family`` (``"gaussian"``, ``"binomial"``,
        ``"poisson"`` or ``"gamma"``), ``intercept`` (the same five entries and
        ``weight`` for the intercept, or None) and ``not_identified`` (the
        names of the weights the data cannot tell apart).

    Raises
    ------
    ValueError
        For a penalised fit, dropout, positive weights, Huber's loss, more
        than two classes, a network (:func:`~sk_weights.weight_stability` is
        the tool for those), early stopping, a stochastic solver, a fit that
        did not converge, a 2-D ``y``, a model not at its optimum on ``X``, ``y``, fewer
        rows than weights plus one, or invalid ``cov_type`` or
        ``confidence``.
    TypeError
        If the estimator is not one of the supported linear models.

    Warns
    -----
    UserWarning
        When columns of X are collinear: the warning names the weights that
        are not identified, whose standard errors are infinite (their
        statistic and p-value NaN, their interval unbounded).

    See Also
    --------
    weight_stability : Bootstrap intervals, for any estimator and penalty.

    Notes
    -----
    "nonrobust" least squares uses Student's t with ``n - rank(X)`` degrees
    of freedom (``n - rank - 1`` with an intercept); the robust covariances
    and the other families use the normal distribution, as statsmodels does
    by default. The scale (dispersion) of the Gaussian family is the weighted
    residual sum of squares over the degrees of freedom, that of the Gamma
    family Pearson's chi² over the degrees of freedom; the binomial and
    Poisson families have scale 1. The "nonrobust" covariance of a GLM is the
    inverse Fisher information (expected curvature), and the sandwich's
    bread uses the observed curvature, which differ for the Gamma's log link,
    as in statsmodels' ``GLM`` fitted by IRLS. statsmodels' ``Logit`` answers
    ``cov_type="HC1"`` to ``"HC3"`` with the HC0 sandwich; here they are
    an error outside least squares.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sk_weights import WeightedLinearRegressor, weight_inference
    >>> X, y = load_diabetes(return_X_y=True, as_frame=True, scaled=False)
    >>> report = weight_inference(WeightedLinearRegressor(penalty=None), X, y)
    >>> bmi = next(r for r in report.to_dict()["features"] if r["name"] == "bmi")
    >>> round(bmi["weight"], 3), round(bmi["weight_se"], 3)
    (5.603, 0.717)
    >>> bool(bmi["p_value"] < 0.001)
    True
    """
    from sk_weights.report import weights_report

    if cov_type not in COV_TYPES:
        raise ValueError(
            f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}."
        )
    if not (isinstance(confidence, Real) and 0 < confidence < 1):
        raise ValueError(
            f"confidence must be a number strictly between 0 and 1, got {confidence!r}."
        )
    check_consistent_length(X, y, sample_weight)
    if np.ndim(y) != 1:
        raise ValueError(
            f"weight_inference takes a 1-D y, got shape {np.shape(y)}; for several "
            "targets, call it once per target column."
        )
    last = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    datafit = _datafit(last, cov_type)
    fitted = _fitted(estimator, X, y, sample_weight)
    model = fitted.steps[-1][1] if isinstance(fitted, Pipeline) else fitted
    _check_fitted_model(model)
    if isinstance(fitted, Pipeline):
        Xt = fitted[:-1].transform(X)  # the first step checks the column names
    else:
        Xt = X
        _check_columns(model, X)
    Xt = _float_array(Xt, "X", sparse=True)
    if Xt.ndim != 2 or Xt.shape[1] != model.coef_.shape[-1]:
        raise ValueError(
            f"X must be a 2-D table with the model's {model.coef_.shape[-1]} "
            f"features (after a pipeline's first steps), got shape {Xt.shape}."
        )
    target = _numeric_target(model, y)
    row_weight = np.ones(len(target)) if sample_weight is None else sample_weight
    row_weight = _float_array(row_weight, "sample_weight")
    if row_weight.shape != target.shape:
        raise ValueError(
            f"sample_weight must have shape {target.shape}, got {row_weight.shape}."
        )
    if getattr(model, "class_weight", None) is not None:
        row_weight = row_weight * compute_sample_weight(model.class_weight, y)
    if np.any(row_weight < 0) or not np.any(row_weight > 0):
        raise ValueError(
            "sample_weight must be non-negative with some weight positive."
        )
    report = weights_report(fitted)
    names = [row["name"] for row in sorted(report._data["features"], key=_index)]
    if model.fit_intercept:
        names = ["intercept", *names]
    table = inference_table(
        Xt,
        target,
        np.ravel(model.coef_),
        float(np.ravel(model.intercept_)[0]) if model.fit_intercept else None,
        datafit,
        row_weight,
        cov_type,
        confidence,
    )
    _check_optimum(table, names)
    not_identified = [name for name, ok in zip(names, table.identified) if not ok]
    if not_identified:
        warnings.warn(
            f"X has collinear columns: the weights of {', '.join(not_identified)} "
            "are not identified (another combination of them fits as well), so "
            "their standard errors are infinite. Drop or combine these columns.",
            UserWarning,
            stacklevel=2,
        )
    return _add_inference(
        report, table, model.fit_intercept, cov_type, confidence, not_identified
    )


def _index(row):
    return row["index"]


def _datafit(model, cov_type):
    """The datafit of a supported model; a clear error for the others."""
    if isinstance(model, NETWORKS):
        raise ValueError(
            f"weight_inference has no closed form for a network "
            f"({type(model).__name__}): its weights are not identified (hidden "
            f"units can be swapped); {_STABILITY_HINT}."
        )
    if not isinstance(model, (WeightedLinearRegressor, WeightedLinearClassifier)):
        raise TypeError(
            "weight_inference takes a WeightedLinearRegressor, a two-class "
            "WeightedLinearClassifier or a Pipeline ending in one, got "
            f"{type(model).__name__}."
        )
    if model.penalty is not None and model.alpha != 0:
        raise ValueError(
            f"weight_inference needs an unpenalised fit (penalty=None or alpha=0), "
            f"got penalty={model.penalty!r} with alpha={model.alpha!r}: a penalised "
            f"weight is biased towards zero and has no classical standard error; "
            f"{_STABILITY_HINT}."
        )
    if model.dropout > 0:
        raise ValueError(
            f"weight_inference needs a fit without dropout, got "
            f"dropout={model.dropout!r}: dropout regularises the weights like a "
            f"penalty; {_STABILITY_HINT}."
        )
    if model.early_stopping:
        raise ValueError(
            "weight_inference needs the weights at the optimum, but "
            "early_stopping=True stops before it; fit with early_stopping=False."
        )
    if getattr(model, "positive", False):
        raise ValueError(
            "weight_inference needs unconstrained weights, got positive=True: "
            "a weight held at its bound 0 has no classical standard error; "
            f"{_STABILITY_HINT}."
        )
    loss = (
        "binary_log_loss" if isinstance(model, WeightedLinearClassifier) else model.loss
    )
    if loss not in DISTRIBUTIONS:
        raise ValueError(
            f"weight_inference has no closed form for loss={loss!r}, which is not "
            f"the likelihood of a distribution; {_STABILITY_HINT}."
        )
    datafit = make_datafit(loss)
    if datafit.name != "squared_error" and cov_type in LEAST_SQUARES_COV_TYPES:
        raise ValueError(
            f"cov_type={cov_type!r} is a small-sample correction of least "
            f"squares; for the {DISTRIBUTIONS[datafit.name][0]} likelihood use "
            "'HC0' (the sandwich) or 'nonrobust'."
        )
    return datafit


def _fitted(estimator, X, y, sample_weight):
    """The estimator if it is fitted, else a clone fitted on the data."""
    try:
        check_is_fitted(estimator)
        return estimator
    except NotFittedError:
        pass
    model = clone(estimator)
    fit_params = {}
    if sample_weight is not None:
        key = "sample_weight"
        if isinstance(model, Pipeline):
            key = f"{model.steps[-1][0]}__sample_weight"
        fit_params[key] = sample_weight
    return model.fit(X, y, **fit_params)


def _check_fitted_model(model):
    """Raise the errors that only a fitted model can show (classes, stopping)."""
    solver = getattr(model, "solver_", None)
    if solver in ("sgd", "adam"):
        raise ValueError(
            f"weight_inference needs the exact optimum, which the full-batch "
            f"solver finds; this model was trained by mini-batches "
            f"(solver_={solver!r}), whose weights are only near it. Fit with "
            "solver='auto' or 'fista'."
        )
    stop_reason = getattr(model, "stop_reason_", "converged")
    if stop_reason != "converged":
        separated = (
            " For a classifier this often means that X separates the classes, "
            "where the unpenalised weights grow without bound and have no "
            "standard error: fit with a penalty, and ask "
            "sk_weights.weight_stability how sure its weights are."
            if isinstance(model, WeightedLinearClassifier)
            else ""
        )
        raise ValueError(
            f"weight_inference needs the weights at the optimum, but the fit "
            f"stopped with stop_reason_={stop_reason!r}; fit with a larger "
            f"max_iter or on standardised features.{separated}"
        )
    if isinstance(model, WeightedLinearClassifier) and len(model.classes_) != 2:
        raise ValueError(
            f"weight_inference takes a two-class classifier; this one has "
            f"{len(model.classes_)} classes, whose softmax weights are not "
            "identified without a reference class (adding the same vector to "
            f"every class's weights changes nothing); {_STABILITY_HINT}."
        )


def _check_columns(model, X):
    """Raise a ValueError unless a table's columns are those the model saw."""
    columns = getattr(X, "columns", None)
    expected = getattr(model, "feature_names_in_", None)
    if columns is None or expected is None:
        return
    if [str(c) for c in columns] != [str(c) for c in expected]:
        raise ValueError(
            "X's columns differ from those the model was fitted on: pass the "
            f"columns {list(expected)} in this order."
        )


def _float_array(values, name, sparse=False):
    """``values`` as float64, checked finite (X may stay sparse, as CSR or CSC).

    Lighter than ``check_array`` for arrays that are already numeric, which
    matters when the whole computation takes a millisecond.
    """
    if sparse and sp.issparse(values):
        return check_array(values, accept_sparse=["csr", "csc"], dtype=np.float64)
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} contains NaN or infinity; remove or impute those values."
        )
    return array


def _numeric_target(model, y):
    """y as floats: the targets, or 1.0 for the classifier's second class."""
    if not isinstance(model, WeightedLinearClassifier):
        return _float_array(y, "y")
    y = np.asarray(y)
    unknown = ~np.isin(y, model.classes_)
    if np.any(unknown):
        raise ValueError(
            f"y holds label {y[unknown][0]!r}, which is not one of the model's "
            f"classes {list(model.classes_)}."
        )
    return (y == model.classes_[1]).astype(np.float64)


def inference_table(
    X, y, coef, intercept, datafit, sample_weight, cov_type, confidence
):
    """Return the :class:`InferenceTable` of the weights ``coef`` (and intercept).

    ``intercept`` is None for a model without one; ``datafit`` is the loss (its
    ``name``, ``inverse_link`` and ``derivatives`` are used). Arrays in,
    arrays out: the model is described by its weights and its loss only.
    """
    family, scale_estimated = DISTRIBUTIONS[datafit.name]
    keep = sample_weight > 0
    if sp.issparse(X):
        X = X.tocsr()
    if not np.all(keep):
        X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
    n_samples = X.shape[0]
    eta = np.asarray(X @ coef).ravel()
    if intercept is not None:
        eta = eta + intercept
        ones = np.ones((n_samples, 1))
        if sp.issparse(X):
            X = sp.hstack([ones, X], format="csr")
        else:
            X = np.hstack([ones, X])
        weight = np.concatenate([[intercept], coef])
    else:
        weight = np.asarray(coef, dtype=np.float64)
    mu = datafit.inverse_link(eta)
    if family == "binomial" and np.all(np.abs(y - mu) < SEPARATION_TOLERANCE):
        # Every row predicted with certainty: the weights grow without bound
        # along a separating direction, and a solver stops wherever its
        # gradient tolerance lets it, so no standard error means anything.
        raise ValueError(
            "X separates the classes: the model predicts every row's class with "
            "certainty, so the unpenalised weights have no finite optimum and no "
            "standard error. Fit with a penalty, and ask "
            "sk_weights.weight_stability how sure its weights are."
        )
    gradient, observed = datafit.derivatives(y, eta, 1.0)
    _, fisher = datafit.derivatives(mu, eta, 1.0)
    fisher = np.broadcast_to(fisher, eta.shape)
    information = _gram(X, sample_weight * fisher)
    inverse, identified, rank = _generalised_inverse(information)
    df_resid = n_samples - rank
    if df_resid < 1:
        raise ValueError(
            f"Too few rows for inference: {n_samples} rows with positive weight "
            f"for {rank} identified weights leave {df_resid} residual degrees of "
            "freedom; at least one is needed. Use more rows or fewer features."
        )
    if scale_estimated:
        scale = float(sample_weight @ (gradient**2 / fisher)) / df_resid
    else:
        scale = 1.0
    scores = -sample_weight * gradient
    if cov_type == "nonrobust":
        covariance = scale * inverse
    else:
        observed = np.broadcast_to(observed, eta.shape)
        if np.array_equal(observed, fisher):  # a canonical link
            bread = inverse
        else:
            bread, _, _ = _generalised_inverse(_gram(X, sample_weight * observed))
        squared = scores**2
        if cov_type in ("HC2", "HC3"):
            leverage = sample_weight * _row_quadratic(X, bread)
            squared = squared / (1 - leverage) ** (1 if cov_type == "HC2" else 2)
        covariance = bread @ _gram(X, squared) @ bread
        if cov_type == "HC1":
            covariance *= n_samples / df_resid
    variance = np.maximum(np.diag(covariance), 0.0)
    se = np.where(identified, np.sqrt(variance), np.inf)
    statistic = np.where(identified, weight / np.where(identified, se, 1.0), np.nan)
    # scipy.stats' t and norm compute with these same functions; called
    # directly they cost microseconds instead of a frozen distribution's
    # milliseconds.
    if family == "gaussian" and cov_type == "nonrobust":
        distribution = "t"
        p_value = 2 * special.stdtr(df_resid, -np.abs(statistic))
        quantile = special.stdtrit(df_resid, 0.5 + confidence / 2)
    else:
        distribution = "normal"
        p_value = 2 * special.ndtr(-np.abs(statistic))
        quantile = special.ndtri(0.5 + confidence / 2)
    # The Newton step from the fitted weights, in nonrobust standard errors:
    # about zero at the optimum on this data.
    step = inverse @ np.asarray(X.T @ scores).ravel()
    root = np.sqrt(scale * np.maximum(np.diag(inverse), np.finfo(np.float64).tiny))
    return InferenceTable(
        weight=weight,
        se=se,
        statistic=statistic,
        p_value=p_value,
        low=weight - quantile * se,
        high=weight + quantile * se,
        identified=identified,
        distribution=distribution,
        df_resid=int(df_resid),
        nobs=int(n_samples),
        scale=float(scale),
        newton_step=np.where(identified, np.abs(step) / root, 0.0),
        family=family,
    )


def _gram(X, row_weights):
    """``X^T diag(row_weights) X`` as a dense array."""
    if sp.issparse(X):
        return np.asarray((X.T @ X.multiply(row_weights[:, np.newaxis])).todense())
    return X.T @ (X * row_weights[:, np.newaxis])


def _row_quadratic(X, matrix):
    """``x_i^T matrix x_i`` for every row ``x_i`` of X."""
    product = np.asarray(X @ matrix)
    if sp.issparse(X):
        return np.asarray(X.multiply(product).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", product, X)


def _generalised_inverse(information):
    """Return a generalised inverse, which weights are identified, and the rank.

    The matrix is scaled to a unit diagonal first, so that the rank does not
    depend on the units of the columns. A weight is identified when its
    column takes no part in a null vector; for those weights, every
    generalised inverse gives the same variance.
    """
    diagonal = np.diag(information).copy()
    diagonal[diagonal <= 0] = 1.0
    root = np.sqrt(diagonal)
    scaled = information / np.outer(root, root)
    values, vectors = np.linalg.eigh(scaled)
    tolerance = values[-1] * max(scaled.shape) * np.finfo(np.float64).eps * 10
    kept = values > tolerance
    inverse = (vectors[:, kept] / values[kept]) @ vectors[:, kept].T
    inverse = inverse / np.outer(root, root)
    null = vectors[:, ~kept]
    identified = ~np.any(np.abs(null) > NULL_VECTOR_TOLERANCE, axis=1)
    return inverse, identified, int(np.count_nonzero(kept))


def _check_optimum(table, names):
    """Raise a ValueError unless the weights are the optimum on the data."""
    worst = int(np.argmax(table.newton_step))
    if table.newton_step[worst] > OPTIMUM_TOLERANCE:
        raise ValueError(
            "The model's weights are not the unpenalised optimum on this X, y: "
            f"one Newton step would move the weight of {names[worst]} by "
            f"{table.newton_step[worst]:.3g} standard errors. Pass the data the "
            "model was fitted on, or an unfitted estimator (it is then fitted), "
            "with the full-batch solver (solver='auto' or 'fista')."
        )


def _add_inference(report, table, fit_intercept, cov_type, confidence, hidden):
    """Add the inference columns to the report's rows and its ``"inference"``."""
    columns = {
        "weight_se": table.se,
        "statistic": table.statistic,
        "p_value": table.p_value,
        "weight_low": table.low,
        "weight_high": table.high,
    }
    offset = 1 if fit_intercept else 0
    for row in report._data["features"]:
        j = row["index"] + offset
        for key, values in columns.items():
            row[key] = float(values[j])
    intercept = None
    if fit_intercept:
        intercept = {"weight": float(table.weight[0])}
        intercept.update({key: float(values[0]) for key, values in columns.items()})
    report._data["inference"] = {
        "cov_type": cov_type,
        "distribution": table.distribution,
        "df_resid": table.df_resid,
        "nobs": table.nobs,
        "scale": table.scale,
        "confidence": float(confidence),
        "family": table.family,
        "intercept": intercept,
        "not_identified": list(hidden),
    }
    return report
