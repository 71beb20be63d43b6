"""The full-batch solver of penalised least squares, on sufficient statistics.

The linear model's objective

    (1 / sum(s)) * sum_i s_i * 0.5 * (y_i - x_i @ w - b)**2 + penalty(w)

depends on the data only through the weighted means of X and y and the
centred second moments ``G = Xc.T @ diag(s) @ Xc / sum(s)`` (d x d) and
``c = Xc.T @ diag(s) @ yc / sum(s)``. :func:`least_squares_statistics` reads X
once, in row blocks, to build them; after that every iteration of the solver
costs O(d**2), whatever the number of samples. The intercept is the closed form
``b = y_mean - x_mean @ w``.

:func:`solve_penalised_least_squares` runs FISTA with adaptive restart and,
whenever the support of the iterate settles, *polishes* it: it solves the
linear system that the optimality conditions give on that support and keeps
the solution if it satisfies all of them. The optimum is then exact to
rounding, and L1 zeros are exact zeros.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from sk_weights._optimizers import accelerated_proximal_gradient
from sk_weights._penalties import soft_threshold

#: Relative size of the optimality residual at which the solver stops.
OPTIMALITY_TOL = 1e-11

# Rows per block when reading X: blocks of about 8 MiB keep memory small and
# the GEMMs large enough for BLAS to run at full speed.
_BLOCK_BYTES = 8 * 2**20


@dataclass
class LeastSquaresStatistics:
    """Weighted sufficient statistics of a least-squares problem."""

    gram: np.ndarray  # (d, d) centred, weighted second moment of X
    xy: np.ndarray  # (d, k) centred, weighted cross moment of X and y
    yy: np.ndarray  # (k,) centred, weighted second moment of y
    x_mean: np.ndarray  # (d,) zero when fit_intercept is False
    y_mean: np.ndarray  # (k,)
    x_scale: np.ndarray  # (d,) weighted standard deviation of each feature


def least_squares_statistics(X, y, sample_weight, fit_intercept):
    """Compute :class:`LeastSquaresStatistics` in float64, reading X in row blocks.

    Dense X is centred block by block (a block-sized copy, never a copy of
    X); sparse X cannot be centred without densifying, so its Gram matrix is
    centred by the rank-one correction ``G - x_mean x_mean^T``.
    """
    n_samples, n_features = X.shape
    weights = np.asarray(sample_weight, dtype=np.float64)
    total = weights.sum()
    normalised = weights / total
    y64 = np.asarray(y, dtype=np.float64)
    if sp.issparse(X):
        X64 = X.astype(np.float64)
        feature_mean = np.asarray(X64.T @ normalised).ravel()
    else:
        feature_mean = np.asarray(normalised @ X, dtype=np.float64)
    if fit_intercept:
        x_mean, y_mean = feature_mean, normalised @ y64
    else:
        x_mean, y_mean = np.zeros(n_features), np.zeros(y64.shape[1])
    yc = y64 - y_mean
    yy = normalised @ (yc * yc)

    if sp.issparse(X):
        weighted = sp.diags(normalised) @ X64
        gram = np.asarray((X64.T @ weighted).todense())
        gram -= np.outer(x_mean, x_mean)
        xy = np.asarray(weighted.T @ yc)
    else:
        gram = np.zeros((n_features, n_features))
        xy = np.zeros((n_features, y64.shape[1]))
        block = max(1, _BLOCK_BYTES // (8 * max(n_features, 1)))
        for start in range(0, n_samples, block):
            rows = slice(start, start + block)
            Xb = np.subtract(X[rows], x_mean, dtype=np.float64)
            root_w = np.sqrt(normalised[rows])
            Xb *= root_w[:, np.newaxis]
            # Symmetric rank-k update: half the flops of Xb.T @ Xb.
            gram = la.blas.dsyrk(1.0, Xb, beta=1.0, c=gram, trans=1, lower=0)
            xy += Xb.T @ (yc[rows] * root_w[:, np.newaxis])
        gram = np.triu(gram) + np.triu(gram, 1).T
    # diag(gram) is the second moment about x_mean; subtract the rest of the mean.
    x_var = np.diag(gram) - (feature_mean - x_mean) ** 2
    x_scale = np.sqrt(np.maximum(x_var, 0))
    return LeastSquaresStatistics(gram, xy, yy, x_mean, y_mean, x_scale)


@dataclass
class SolverResult:
    """Coefficients per target and how the solver got there."""

    coef: np.ndarray  # (k, d)
    n_iter: int
    converged: bool
    loss_curve: list


def objective(stats, coef, target, penalty):
    """Return the objective at ``coef`` for column ``target`` of y."""
    smooth = 0.5 * coef @ stats.gram @ coef - stats.xy[:, target] @ coef
    return float(smooth + 0.5 * stats.yy[target] + penalty.value(coef))


def solve_penalised_least_squares(stats, penalty, max_iter, coef_init=None):
    """Minimise the penalised least-squares objective for every target.

    Parameters
    ----------
    stats : LeastSquaresStatistics
        From :func:`least_squares_statistics`.
    penalty : ElasticNetPenalty
        Penalty on the coefficients.
    max_iter : int
        Maximum FISTA iterations per target.
    coef_init : ndarray of shape (k, d), optional
        Starting point (warm start); zeros by default.

    Returns
    -------
    SolverResult
        ``loss_curve`` holds the objective summed over targets per iteration.
    """
    n_features, n_targets = stats.xy.shape
    hessian = stats.gram + penalty.l2 * np.eye(n_features)
    lipschitz = _largest_eigenvalue(hessian)
    coef = np.zeros((n_targets, n_features))
    curves, n_iter, converged = [], 0, True
    for k in range(n_targets):
        start = np.zeros(n_features) if coef_init is None else coef_init[k]
        coef[k], iters, ok, curve = _solve_one(
            hessian, stats.xy[:, k], penalty.l1, lipschitz, start, max_iter
        )
        n_iter = max(n_iter, iters)
        converged &= ok
        smooth_constant = 0.5 * stats.yy[k]
        curves.append(np.asarray(curve) + smooth_constant)
    # Sum the per-target curves, padding finished targets with their last value.
    length = max(len(c) for c in curves)
    padded = [np.pad(c, (0, length - len(c)), mode="edge") for c in curves]
    loss_curve = [float(v) for v in np.sum(padded, axis=0)]
    return SolverResult(coef, n_iter, converged, loss_curve)


def _largest_eigenvalue(matrix):
    """Return the largest eigenvalue of a symmetric matrix (0 for an empty one)."""
    n = matrix.shape[0]
    if n == 0:
        return 0.0
    return float(la.eigvalsh(matrix, subset_by_index=[n - 1, n - 1])[0])


def _solve_one(hessian, linear, l1, lipschitz, start, max_iter):
    """Minimise ``0.5 w^T H w - linear^T w + l1 * |w|_1``; see the module doc.

    Returns the coefficients, the iterations run, whether the optimality
    conditions hold, and the objective (without constant) per iteration.
    """
    scale = max(np.abs(linear).max(initial=0.0), l1, np.finfo(float).tiny)
    tolerance = OPTIMALITY_TOL * scale
    curve = []
    if lipschitz <= 0:
        # X is constant: every coefficient is 0.
        return np.zeros_like(linear), 0, True, [0.0]

    def gradient(w):
        return hessian @ w - linear

    def value(w):
        return float(0.5 * w @ hessian @ w - linear @ w + l1 * np.abs(w).sum())

    def prox(w, step):
        if l1:
            soft_threshold(w, step * l1)
        return w

    polished = {}
    tried = set()

    def callback(iteration, w):
        curve.append(value(w))
        pattern = np.sign(w)
        if iteration == 1 or iteration % 5 == 0:
            key = pattern.tobytes()
            if key not in tried:
                tried.add(key)
                exact = _polish(hessian, linear, l1, pattern, tolerance)
                if exact is not None:
                    polished["coef"] = exact
                    curve.append(value(exact))
                    return True
        return _optimality_residual(w, gradient(w), l1) <= tolerance

    w, n_iter, stopped = accelerated_proximal_gradient(
        start, gradient, prox, 1.0 / lipschitz, max_iter, callback
    )
    if "coef" in polished:
        return polished["coef"], n_iter, True, curve
    return w, n_iter, stopped, curve


def _optimality_residual(w, grad, l1):
    """Largest violation of the optimality conditions at ``w``.

    At an optimum, ``grad_j = -l1 * sign(w_j)`` where ``w_j != 0`` and
    ``|grad_j| <= l1`` where ``w_j == 0``.
    """
    active = w != 0
    on_support = np.abs(grad[active] + l1 * np.sign(w[active]))
    off_support = np.maximum(np.abs(grad[~active]) - l1, 0)
    return max(on_support.max(initial=0.0), off_support.max(initial=0.0))


def _polish(hessian, linear, l1, pattern, tolerance):
    """Solve the optimality conditions on the sign pattern; None if they fail.

    On the support S with signs sigma the optimum solves
    ``H_SS w_S = linear_S - l1 * sigma_S``; the candidate is accepted only if
    (with an L1 part) its signs agree with ``sigma`` and every condition holds
    to ``tolerance``.
    """
    support = np.flatnonzero(pattern)
    candidate = np.zeros_like(linear)
    if support.size:
        system = hessian[np.ix_(support, support)]
        rhs = linear[support] - l1 * pattern[support]
        try:
            with warnings.catch_warnings():
                # An ill-conditioned system is fine: the check below decides.
                warnings.simplefilter("ignore", la.LinAlgWarning)
                solution = la.solve(system, rhs, assume_a="pos", check_finite=False)
        except (la.LinAlgError, ValueError):
            solution = la.lstsq(system, rhs, check_finite=False)[0]
        if l1 and np.any(np.sign(solution) != pattern[support]):
            return None
        candidate[support] = solution
    residual = _optimality_residual(candidate, hessian @ candidate - linear, l1)
    if not np.isfinite(residual) or residual > tolerance:
        return None
    return candidate
