"""Solution paths: the full-batch solvers along a decreasing grid of alphas.

A path solves the penalised problem of :mod:`sk_weights._full_batch` at every
alpha of a grid, each solve starting from the previous solution (a warm
start: along a decreasing grid the weights change little from one alpha to
the next, and an L1 support grows a few features at a time). What does not
depend on alpha is built once per path, not once per alpha:

- on the Gram path (the squared loss, when :func:`choose_method` picks it):
  the sufficient statistics (one pass over X) and the largest eigenvalue of
  the Gram matrix, which gives each alpha's step size as ``L + l2``;
- on X: the operator on X, the normalised sample weights and the features'
  scales.

Nothing else is computed per alpha: no validation, no fit-quality records;
the caller reads what it needs from the weights.

:func:`alpha_max` gives the smallest alpha whose L1 optimum has every weight
at zero, where a default grid starts.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sk_weights._datafits import BinaryLogLoss, SquaredError
from sk_weights._full_batch import (
    DenseQuadratic,
    _prepare,
    _solve_one_output,
    choose_method,
    solve_logistic,
)
from sk_weights._least_squares import (
    _optimality_residual,
    _single_blas_thread,
    _solve_one,
    _tolerance,
    least_squares_statistics,
    solve_penalised_least_squares,
)
from sk_weights._penalties import ElasticNetPenalty

#: Up to this many features, all the Gram matrix's eigenvalues cost less
#: than SciPy's call for the largest alone.
_SMALL_GRAM = 64


@dataclass
class PathResult:
    """The weights at every alpha of a path, and how each solve went."""

    alphas: np.ndarray  # (n_alphas,) in the order solved
    coefs: np.ndarray  # (n_alphas, n_outputs, n_features)
    intercepts: np.ndarray  # (n_alphas, n_outputs)
    n_iter: np.ndarray  # (n_alphas,) iterations of each solve
    objectives: np.ndarray  # (n_alphas,) the penalised objective at each solution
    converged: np.ndarray  # (n_alphas,) whether each solve met its optimality rule
    x_scale: np.ndarray  # (n_features,) the weighted standard deviation of X
    method: str  # "gram" or "x"


def solve_path(
    X,
    y,
    sample_weight,
    fit_intercept,
    penalty,
    l1_ratio,
    alphas,
    max_iter,
    *,
    n_classes=None,
    coef_init=None,
    method=None,
    datafit=None,
    positive=False,
):
    """Minimise the penalised objective at every alpha, with warm starts.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray
        Regression (``n_classes`` None): the targets, of shape
        (n_samples, n_targets). Classification: the class index of each
        sample, of shape (n_samples,).
    sample_weight : ndarray of shape (n_samples,)
        The weight of each sample in the loss (class weights included).
    fit_intercept : bool
    penalty : {"l1", "l2", "elasticnet"}
    l1_ratio : float
        Share of L1 for ``"elasticnet"``.
    alphas : array-like of shape (n_alphas,)
        Solved in this order (decreasing, for warm starts that help).
    max_iter : int
        Maximum iterations of each solve.
    n_classes : int, optional
        The number of classes, for the log loss (a logistic output for two,
        a softmax otherwise); None for the squared loss.
    coef_init : ndarray of shape (n_outputs, n_features), optional
        Where the first solve starts; zeros by default.
    method : {"gram", "x"}, optional
        Force a method (the squared error only); by default
        :func:`choose_method` decides. Other losses always work on X.
    datafit : Datafit, optional
        The loss of a regression (:mod:`sk_weights._datafits`); the squared
        error by default. Classification uses the log loss.
    positive : bool, default=False
        Hold every weight at or above zero.

    Returns
    -------
    PathResult
    """
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    penalties = [
        ElasticNetPenalty.from_params(penalty, a, l1_ratio, positive) for a in alphas
    ]
    if n_classes is not None:
        return _logistic_path(
            X, y, n_classes, sample_weight, fit_intercept, penalties, alphas,
            max_iter, coef_init,
        )  # fmt: skip
    datafit = SquaredError() if datafit is None else datafit
    method = method or choose_method(X)
    if not datafit.is_quadratic:
        method = "x"
    solve = _gram_path if method == "gram" else _x_path
    # Small products and solves, many of them: more BLAS threads only
    # add synchronisation (the passes over X thread on their own).
    with _single_blas_thread():
        return solve(
            X, y, sample_weight, fit_intercept, penalties, alphas, max_iter, coef_init,
            datafit,
        )  # fmt: skip


def _start(coef_init, n_outputs, n_features):
    coef = np.zeros((n_outputs, n_features))
    if coef_init is not None:
        coef[:] = coef_init
    return coef


def _gram_path(
    X, y, sample_weight, fit_intercept, penalties, alphas, max_iter, start, datafit
):
    """The squared loss on the Gram matrix: statistics and eigenvalue once."""
    n_targets, n_features = y.shape[1], X.shape[1]
    # The first penalty with an L1 part decides whether the Gram matrix is
    # computed whole or on working sets (as each fit would decide).
    first = next((p for p in penalties if p.has_prox), penalties[0])
    stats = least_squares_statistics(X, y, sample_weight, fit_intercept, first)
    coef = _start(start, n_targets, n_features)
    records = _Records(len(alphas), n_targets, n_features)
    gram_eigenvalue = None
    for i, penalty in enumerate(penalties):
        if stats.gram.lazy and penalty.has_prox:
            # Working sets: the statistics object keeps the entries computed.
            result = solve_penalised_least_squares(stats, penalty, max_iter, coef)
            coef = result.coef
            n_iter, converged = result.n_iter, result.converged
            objective = result.loss_curve[-1]
        else:
            gram = stats.gram.full()
            if gram_eigenvalue is None:
                gram_eigenvalue = _largest_eigenvalue(gram)
            hessian = _ShiftedQuadratic(gram, penalty.l2, gram_eigenvalue)
            n_iter, converged, objective = 0, True, 0.0
            for k in range(n_targets):
                linear = stats.xy[:, k]
                tolerance = _tolerance(linear, penalty.l1)
                exact, tries = None, 0
                if not penalty.positive:
                    exact, tries = _active_set(
                        hessian, linear, penalty.l1, coef[k], tolerance
                    )
                if exact is None:
                    coef[k], iters, ok, _ = _solve_one(
                        hessian, linear, penalty.l1, coef[k], max_iter, tolerance,
                        penalty.positive,
                    )  # fmt: skip
                else:
                    coef[k], iters, ok = exact, tries, True
                n_iter, converged = max(n_iter, iters), converged and ok
                objective += _quadratic_objective(hessian, linear, penalty.l1, coef[k])
                objective += 0.5 * stats.yy[k]
        intercept = stats.y_mean - coef @ stats.x_mean
        records.add(i, coef, intercept, n_iter, objective, converged)
    return records.result(alphas, stats.x_scale, "gram")


#: Sign patterns the active-set step tries before FISTA takes over.
_ACTIVE_SET_TRIES = 8


def _active_set(hessian, linear, l1, start, tolerance):
    """The exact solution from the previous alpha's sign pattern, or None.

    Along a fine grid the sign pattern of the solution changes by a feature
    or two from one alpha to the next. Solve the optimality conditions on the
    previous pattern (one linear system on its support); if the solution
    changes a sign, drop those features; if a feature off the support
    violates its condition, add it with the sign its gradient asks for; and
    solve again. Each candidate is accepted only if every optimality
    condition holds to ``tolerance`` (as the polish of FISTA), so the result
    is the exact optimum; after ``_ACTIVE_SET_TRIES`` patterns the caller
    falls back to FISTA. Returns the solution and the patterns tried.
    """
    pattern = np.sign(start) if l1 else np.ones_like(start)
    for tries in range(1, _ACTIVE_SET_TRIES + 1):
        support = np.flatnonzero(pattern)
        candidate = np.zeros_like(linear)
        if support.size:
            solution = hessian.solve_on(
                support, linear[support] - l1 * pattern[support], tolerance
            )
            if solution is None:
                return None, tries
            flipped = np.sign(solution) != pattern[support]
            if l1 and flipped.any():
                pattern[support[flipped]] = 0.0
                continue
            candidate[support] = solution
        gradient = hessian.product(candidate) - linear
        if _optimality_residual(candidate, gradient, l1) <= tolerance:
            return candidate, tries
        entering = (pattern == 0) & (np.abs(gradient) > l1 + tolerance)
        if not entering.any():
            return None, tries
        pattern[entering] = -np.sign(gradient[entering])
    return None, _ACTIVE_SET_TRIES


def _largest_eigenvalue(gram):
    """The largest eigenvalue of the Gram matrix; NumPy's is quicker when small."""
    if 0 < gram.shape[0] <= _SMALL_GRAM:
        return float(np.linalg.eigvalsh(gram)[-1])
    return DenseQuadratic(gram).largest_eigenvalue()


def _quadratic_objective(hessian, linear, l1, w):
    """``0.5 w^T H w - linear^T w + l1 |w|_1`` (the objective without constant)."""
    return float(w @ (0.5 * hessian.product(w) - linear)) + l1 * float(np.abs(w).sum())


class _ShiftedQuadratic(DenseQuadratic):
    """``G + l2 I`` with its largest eigenvalue known from G's (``L + l2``)."""

    def __init__(self, gram, l2, gram_eigenvalue):
        matrix = gram
        if l2:
            matrix = gram + l2 * np.eye(gram.shape[0])
        super().__init__(matrix)
        self._largest = gram_eigenvalue + l2 if gram.shape[0] else 0.0

    def largest_eigenvalue(self):
        """Return the largest eigenvalue of the matrix (known: no decomposition)."""
        return self._largest

    def solve_on(self, support, rhs, tolerance):
        """Solve on the support by NumPy's LU: small systems, less overhead."""
        system = self.matrix[np.ix_(support, support)]
        try:
            solution = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError:
            return super().solve_on(support, rhs, tolerance)
        return solution if np.all(np.isfinite(solution)) else None


def _x_path(
    X, y, sample_weight, fit_intercept, penalties, alphas, max_iter, start, datafit
):
    """A regression loss on X: the operator and the features' scales once."""
    data, weights, moments = _prepare(X, sample_weight)
    n_targets, n_features = y.shape[1], X.shape[1]
    coef = _start(start, n_targets, n_features)
    targets = [np.asarray(y[:, k], dtype=np.float64) for k in range(n_targets)]
    records = _Records(len(alphas), n_targets, n_features)
    loss = datafit
    for i, penalty in enumerate(penalties):
        intercept = np.zeros(n_targets)
        n_iter, converged, objective = 0, True, 0.0
        for k in range(n_targets):
            intercept[k], iters, ok, curve, _ = _solve_one_output(
                data,
                loss,
                targets[k],
                weights,
                fit_intercept,
                penalty,
                coef[k],
                max_iter,
                moments,
            )
            n_iter, converged = max(n_iter, iters), converged and ok
            objective += curve[-1][0]
        records.add(i, coef, intercept, n_iter, objective, converged)
    return records.result(alphas, moments.final()[1], "x")


def _logistic_path(
    X, y_index, n_classes, sample_weight, fit_intercept, penalties, alphas, max_iter,
    start,
):  # fmt: skip
    """The log loss on X: one logistic output, or a softmax over the classes."""
    n_features = X.shape[1]
    n_outputs = 1 if n_classes == 2 else n_classes
    coef = _start(start, n_outputs, n_features)
    records = _Records(len(alphas), n_outputs, n_features)
    if n_outputs > 1:
        # The softmax solver prepares little beyond its quasi-Newton run.
        x_scale = None
        for i, penalty in enumerate(penalties):
            result = solve_logistic(
                X, y_index, n_classes, sample_weight, fit_intercept, penalty,
                max_iter, coef_init=coef,
            )  # fmt: skip
            coef, x_scale = result.coef, result.x_scale
            records.add(
                i,
                coef,
                result.intercept,
                result.n_iter,
                result.loss_curve[-1],
                result.converged,
            )
        return records.result(alphas, x_scale, "x")
    data, weights, moments = _prepare(X, sample_weight)
    target = (y_index == 1).astype(np.float64)
    loss = BinaryLogLoss()
    for i, penalty in enumerate(penalties):
        with _single_blas_thread():
            intercept, n_iter, converged, curve, _ = _solve_one_output(
                data, loss, target, weights, fit_intercept, penalty, coef[0],
                max_iter, moments,
            )  # fmt: skip
        records.add(i, coef, [intercept], n_iter, curve[-1][0], converged)
    return records.result(alphas, moments.final()[1], "x")


class _Records:
    """The per-alpha results of a path, filled one alpha at a time."""

    def __init__(self, n_alphas, n_outputs, n_features):
        self.coefs = np.zeros((n_alphas, n_outputs, n_features))
        self.intercepts = np.zeros((n_alphas, n_outputs))
        self.n_iter = np.zeros(n_alphas, dtype=np.intp)
        self.objectives = np.zeros(n_alphas)
        self.converged = np.zeros(n_alphas, dtype=bool)

    def add(self, i, coef, intercept, n_iter, objective, converged):
        self.coefs[i] = coef
        self.intercepts[i] = intercept
        self.n_iter[i] = n_iter
        self.objectives[i] = objective
        self.converged[i] = converged

    def result(self, alphas, x_scale, method):
        return PathResult(
            alphas,
            self.coefs,
            self.intercepts,
            self.n_iter,
            self.objectives,
            self.converged,
            x_scale,
            method,
        )


def alpha_max(
    X, targets, sample_weight, fit_intercept, l1_ratio, datafit, positive=False
):
    """The smallest alpha whose optimum has every weight at zero.

    With zero weights the best constant model (its intercept; none without
    ``fit_intercept``) leaves the per-sample gradient ``r`` that the datafit
    gives (:meth:`Datafit.gradient_at_constant`); the gradient of the data
    term with respect to the weights is ``g = X^T r``, and zero weights are
    optimal exactly when ``|g| <= alpha * l1_ratio`` everywhere (with
    ``positive``, when ``-g <= alpha * l1_ratio``): ``alpha_max = max |g| /
    l1_ratio``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    targets : ndarray of shape (n_samples, n_outputs)
        As the datafit reads them (one-hot classes for the log loss).
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    l1_ratio : float
        In (0, 1].
    datafit : Datafit
    positive : bool, default=False

    Returns
    -------
    float
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    total = weights.sum()
    targets = np.asarray(targets, dtype=np.float64)
    residual = datafit.gradient_at_constant(targets, weights / total, fit_intercept)
    if sp.issparse(X):
        X = X.astype(np.float64)
    else:
        X = np.asarray(X, dtype=np.float64)
        if fit_intercept:
            # Centring does not change X^T r (r sums to zero) but keeps digits.
            X = X - (weights @ X) / total
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        gradient = np.asarray(X.T @ residual)
    if positive:
        # Only a pull upwards moves a weight held at or above zero.
        return float(np.maximum(-gradient, 0).max(initial=0.0)) / l1_ratio
    return float(np.abs(gradient).max(initial=0.0)) / l1_ratio
