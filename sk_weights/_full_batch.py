"""The exact full-batch solvers of the linear models: on the Gram matrix or on X.

The objective is a penalised smooth loss of the linear predictor
``eta_i = x_i @ w + b``::

    (1 / sum(s)) * sum_i s_i * loss(y_i, eta_i) + l1 * |w|_1 + 0.5 * l2 * |w|**2

Two methods minimise it, and :func:`choose_method` picks the cheaper one:

``"gram"``
    For the squared loss only: :mod:`sk_weights._least_squares` reads X once
    for its sufficient statistics (the d x d centred Gram matrix) and then
    iterates at O(d**2) per step, whatever the number of samples. It pays when
    the data are tall and the Gram matrix is small against X.
``"x"``
    Works directly on X through products ``X @ v`` and ``X.T @ u``: sparse X
    stays sparse and is never densified, nor centred (the intercept is a
    coordinate of its own, so the centring by the weighted means is implicit),
    and the memory beyond X is O(n_samples + n_features) plus the small
    matrices of the working sets. The loss is a datafit object
    (:mod:`sk_weights._datafits`) that gives, at the current predictor, its
    value, its gradient and its curvature per sample, and the best intercept
    for fixed weights; the solver knows nothing else of it, so every smooth
    loss of :mod:`sk_weights._datafits` plugs in.

    With an L1 part or ``positive`` weights (:func:`_solve_working_sets`): each
    outer round reads X once to score every feature's optimality violation
    (``X.T @ gradient``), takes as *working set* the current support and the
    worst violators (up to four times the support, at least 64 features), and
    minimises the second-order model of the objective on it: the small Hessian
    ``X_W.T diag(h) X_W`` (the intercept eliminated) is solved by the Gram
    path's FISTA with its exact polish on the sign pattern. Early rounds solve
    their set roughly (to a tenth of the largest violation); once the
    violations are small, or a matrix-free set stops growing, a round solves
    its set exactly. For the squared loss the model is the objective itself;
    other losses take the step with a backtracking line search (proximal
    Newton). The rounds stop when every feature satisfies its optimality
    condition to a relative 1e-11.

    Otherwise (:func:`_solve_newton_cg`): Newton steps whose linear
    system ``(Xc.T diag(h) Xc + l2 I) v = -gradient`` is solved by conjugate
    gradients with a diagonal (Jacobi) preconditioner, two passes over X per
    iteration. For the squared loss one Newton step is the whole solve; CG
    stops when the gradient of the objective (its residual) is below 1e-11 of
    the gradient at the start, the rule of the other solvers.

The choice rule (:func:`choose_method`), for a quadratic datafit (the Gram
matrix is the whole problem only then; other losses always work on X): the
Gram matrix when there are at least
``GRAM_MIN_ROWS_PER_FEATURE`` (2) samples per feature *and* its ``8 * d**2``
bytes are at most ``GRAM_MAX_SHARE_OF_X`` (half) of the bytes X occupies (for
sparse X: its data, indices and pointers); X otherwise. Tall dense float64 data
thus keep the Gram path; wide data, and sparse data whose features outnumber
the nonzeros of a column, work on X.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.optimize import minimize

from sk_weights._datafits import (
    BinaryLogLoss,
    MultinomialLogLoss,
    SquaredError,
    _total,
    _weighted_sum,
    log_sum_exp,
)
from sk_weights._least_squares import (
    OPTIMALITY_TOL,
    OVERFLOW_MESSAGE,
    DenseQuadratic,
    _blas_threads,
    _caller_blas_threads,
    _single_blas_thread,
    _solve_one,
    combine_curves,
    least_squares_statistics,
    solve_penalised_least_squares,
)
from sk_weights._newton import (
    newton_pays,
    solve_binary_newton,
    solve_multinomial_newton,
    weighted_gram,
)
from sk_weights._penalties import optimality_violations
from sk_weights._statistics import compressed_bounds

#: The Gram matrix needs at least this many samples per feature ...
GRAM_MIN_ROWS_PER_FEATURE = 2
#: ... and at most this share of the bytes of X.
GRAM_MAX_SHARE_OF_X = 0.5

# Working sets start with this many features, and hold at most this many
# times the support (the support and the worst violators): a round costs
# passes over X, and sets that only double take more rounds to reach the
# final support.
_INITIAL_WORKING_SET = 64
_GROWTH = 4

# A rough round solves its set to this share of the largest violation.
_ROUGH_SHARE = 0.1

# Working sets get their Gram matrix written out (its products and solves
# then cost little against a pass over the columns) while it takes at most
# this share of the bytes of X; and, up to this many bytes, a set of half as
# many features as rows or more: its system nears singular, where matrix-free
# solves stop short of the exact optimum and the explicit matrix's do not.
_EXPLICIT_SHARE = 0.1
_EXPLICIT_MIN_BYTES = 2**20

# A working set with at least this share of X (of its columns; of its stored
# values for sparse X) takes every column: X itself serves, where a selection
# would copy half of it or more. Selecting columns of CSR X costs a pass over
# all of it however few are taken, so sparse X takes the whole earlier. After
# a set whose weights all came out nonzero, a quarter of the share suffices
# (the next set would be four times as large).
_WHOLE_SHARE = 0.5
_WHOLE_SHARE_SPARSE = 0.3
# Stored values of CSR X sampled to estimate that share.
_SHARE_SAMPLE = 4096

# Power steps of the curvature estimate of a matrix-free working set.
_POWER_STEPS = 4
_PATIENT_SIZE = 256
# A matrix-free set's exact solve on a support of at least this share of the
# set uses the set's columns, not a copy of the support's (see solve_on).
_MASKED_SHARE = 0.75

# Products with X of another dtype than float64 read it in blocks of about
# this many bytes of float64, so that X is never copied whole.
_BLOCK_BYTES = 2**20
_MIN_BLOCK_BYTES = 2**15


def data_bytes(X):
    """The bytes X occupies (for sparse X: data, indices and pointers)."""
    if sp.issparse(X):
        return sum(getattr(X, name).nbytes for name in ("data", "indices", "indptr"))
    return X.nbytes


def choose_method(X):
    """Return ``"gram"`` or ``"x"``, the cheaper full-batch method for X."""
    n_samples, n_features = X.shape
    tall = n_samples >= GRAM_MIN_ROWS_PER_FEATURE * n_features
    small = 8 * n_features**2 <= GRAM_MAX_SHARE_OF_X * data_bytes(X)
    return "gram" if tall and small else "x"


@dataclass
class FullBatchResult:
    """The weights a full-batch solver found, and how it got there."""

    coef: np.ndarray  # (k, d)
    intercept: np.ndarray  # (k,)
    n_iter: int
    converged: bool
    loss_curve: list  # the objective per iteration, summed over targets
    weight_norms: list  # the Frobenius norm of coef per iteration
    zero_fractions: list  # the fraction of exact zeros of coef per iteration
    x_scale: np.ndarray  # (d,) the weighted standard deviation of each feature
    method: str  # "gram" or "x"
    # (d,) the weighted mean of each feature, under the weights the solver got
    feature_mean: np.ndarray = None
    # (n, k) the solution's predictor X coef.T + intercept (see _raw_output)
    raw_output: np.ndarray = None


def solve_full_batch(
    X,
    y,
    sample_weight,
    fit_intercept,
    penalty,
    max_iter,
    coef_init=None,
    method=None,
    datafit=None,
):
    """Minimise the penalised loss of a datafit for every column of y, exactly.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    penalty : ElasticNetPenalty
    max_iter : int
        Maximum iterations per target (FISTA steps on the Gram matrix; working
        set rounds or conjugate-gradient steps on X).
    coef_init : ndarray of shape (n_targets, n_features), optional
        Starting point (warm start); zeros by default.
    method : {"gram", "x"}, optional
        Force a method; by default :func:`choose_method` decides. A datafit
        that is not quadratic always works on X.
    datafit : Datafit, optional
        The loss (:mod:`sk_weights._datafits`); the squared error by default.

    Returns
    -------
    FullBatchResult
    """
    datafit = SquaredError() if datafit is None else datafit
    method = method or choose_method(X)
    if not datafit.is_quadratic:
        method = "x"
    if method == "gram":
        stats = least_squares_statistics(X, y, sample_weight, fit_intercept, penalty)
        result = solve_penalised_least_squares(stats, penalty, max_iter, coef_init)
        intercept = stats.y_mean - result.coef @ stats.x_mean
        return FullBatchResult(
            result.coef,
            intercept,
            result.n_iter,
            result.converged,
            result.loss_curve,
            result.weight_norms,
            result.zero_fractions,
            stats.x_scale,
            method,
            stats.feature_mean,
        )
    data, weights, moments = _prepare(X, sample_weight)
    n_targets, n_features = y.shape[1], X.shape[1]
    coef = np.zeros((n_targets, n_features))
    if coef_init is not None:
        coef[:] = coef_init
    intercept = np.zeros(n_targets)
    curves, predictors, n_iter, converged = [], [], 0, True
    for k in range(n_targets):
        target = np.asarray(y[:, k], dtype=np.float64)
        # Matrix-vector products: more BLAS threads only add synchronisation.
        with _single_blas_thread(X.shape[0] * X.shape[1]):
            out = _solve_one_output(
                data,
                datafit,
                target,
                weights,
                fit_intercept,
                penalty,
                coef[k],
                max_iter,
                moments,
            )
        intercept[k], iters, ok, curve, predictor = out
        n_iter, converged = max(n_iter, iters), converged and ok
        curves.append(np.array(curve, dtype=np.float64).reshape(-1, 3))
        predictors.append(predictor)
    # The loss curve, the weight norms and the zero fractions.
    recorded = combine_curves(curves, n_features)
    x_mean, x_scale = moments.final()
    return FullBatchResult(
        coef,
        intercept,
        n_iter,
        converged,
        *recorded,
        x_scale,
        method,
        x_mean,
        _raw_output(predictors, X),
    )


def _raw_output(predictors, X):
    """The solution's predictor per output as an (n, k) array, or None.

    The solvers update it as they step, so it equals ``X @ coef.T +
    intercept`` to rounding: the fit records take it instead of predicting
    anew (a pass over X). Not for X of another dtype than float64, whose
    model keeps its weights in that dtype (its predictions differ).
    """
    if X.dtype != np.float64 or any(p is None for p in predictors):
        return None
    if len(predictors) == 1:
        return predictors[0][:, np.newaxis]
    return np.column_stack(predictors)


#: The multinomial solvers stop when the gradient of its smooth form holds
#: to this share of the largest at the start.
MULTINOMIAL_TOL = 1e-11


def solve_logistic(
    X,
    y_index,
    n_classes,
    sample_weight,
    fit_intercept,
    penalty,
    max_iter,
    coef_init=None,
):
    """Minimise the penalised log loss of a linear classifier, exactly, on X.

    Two classes: one logistic output (``coef`` of shape (1, d), the logit of
    class 1), minimised by the solver on X with :class:`BinaryLogLoss` (its
    exact curvature ``p (1 - p)``): working sets of features with proximal
    Newton steps and a line search for an L1 part, Newton steps solved by
    conjugate gradients otherwise. More classes: a softmax over ``n_classes``
    outputs, minimised jointly over all classes (:func:`_solve_multinomial`).
    With a penalty the optimum is unique. The softmax is unchanged by adding
    the same vector to every class: the intercepts (never penalised) are
    returned centred to sum 0, and without any penalty the weights of each
    feature too (the optimum of least norm).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y_index : ndarray of int of shape (n_samples,)
        The class index of each sample, in ``range(n_classes)``.
    n_classes : int
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    penalty : ElasticNetPenalty
    max_iter : int
        Maximum rounds per solve of one output (and sweeps over the classes).
    coef_init : ndarray of shape (n_outputs, n_features), optional
        Starting point (warm start); zeros by default.

    Returns
    -------
    FullBatchResult
        ``method`` is ``"x"``.
    """
    data, weights, moments = _prepare(X, sample_weight)
    n_outputs = 1 if n_classes == 2 else n_classes
    n_features = X.shape[1]
    coef = np.zeros((n_outputs, n_features))
    if coef_init is not None:
        coef[:] = coef_init
    targets = (y_index[:, np.newaxis] == np.arange(n_classes)[-n_outputs:]).astype(
        np.float64
    )
    if n_outputs == 1:
        with _single_blas_thread(X.shape[0] * X.shape[1]):
            intercept, n_iter, converged, curve, predictor = _solve_one_output(
                data,
                BinaryLogLoss(),
                targets[:, 0],
                weights,
                fit_intercept,
                penalty,
                coef[0],
                max_iter,
                moments,
            )
        recorded = combine_curves(
            [np.array(curve, dtype=np.float64).reshape(-1, 3)], n_features
        )
        intercepts = np.array([intercept])
        raw = _raw_output([predictor], X)
        x_mean, x_scale = moments.final()
        return FullBatchResult(
            coef, intercepts, n_iter, converged, *recorded, x_scale, "x", x_mean, raw
        )

    with _single_blas_thread():
        if (
            not penalty.has_prox
            and penalty.l2 > 0
            and data.direct
            and newton_pays(X, n_outputs)
        ):
            # Few weights on tall dense data: Newton's method (see _newton).
            coef, intercept, n_iter, converged, records = solve_multinomial_newton(
                X,
                targets,
                weights,
                fit_intercept,
                penalty,
                coef,
                max_iter,
                MULTINOMIAL_TOL,
            )
        else:
            coef, intercept, n_iter, converged, records = _solve_multinomial(
                data, targets, weights, fit_intercept, penalty, coef, max_iter
            )
    if fit_intercept:
        intercept -= intercept.mean()
    if penalty.l1 == 0 and penalty.l2 == 0:
        coef -= coef.mean(axis=0)
    curve = np.array(records, dtype=np.float64).reshape(-1, 3)
    loss_curve = [float(v) for v in curve[:, 0]]
    norms = [float(v) for v in np.sqrt(curve[:, 1])]
    zeros = [float(v) for v in 1.0 - curve[:, 2] / coef.size]
    recorded = loss_curve, norms, zeros
    x_mean, x_scale = moments.final()
    return FullBatchResult(
        coef, intercept, n_iter, converged, *recorded, x_scale, "x", x_mean
    )


def _solve_multinomial(data, targets, weights, fit_intercept, penalty, coef, max_iter):
    """Minimise the penalised softmax log loss jointly over every class.

    Quasi-Newton (L-BFGS-B) on all the weights at once: the classes are
    coupled through the softmax, so one class at a time converges slowly.
    An L1 part is made smooth by writing ``W = W+ - W-`` with both parts
    non-negative: the penalty is then linear, and a weight is exactly zero
    when both parts rest on their bound. The last class's intercept is held
    at 0 (the softmax does not change when all move alike). Returns the
    weights, the intercepts, the iterations, whether the optimality
    conditions hold to ``MULTINOMIAL_TOL`` and the records.
    """
    n_outputs, n_features = coef.shape
    size = coef.size
    split = penalty.l1 > 0
    n_parts = 2 if split else 1

    def unpack(z):
        parts = z[: n_parts * size].reshape(n_parts, n_outputs, n_features)
        weights_now = parts[0] - parts[1] if split else parts[0]
        return weights_now, z[n_parts * size :]

    def evaluate(z):
        coef_now, intercept_now = unpack(z)
        eta = np.column_stack([data.dot(c) for c in coef_now]) + intercept_now
        loss = _MULTINOMIAL.value(targets, eta, weights)
        residual = _MULTINOMIAL.gradient(targets, eta, weights)
        gradient = np.array([data.tdot(r) for r in residual.T])
        gradient += penalty.l2 * coef_now
        value = loss + 0.5 * penalty.l2 * float(np.sum(coef_now**2))
        parts = [gradient]
        if split:
            value += penalty.l1 * float(z[: 2 * size].sum())
            parts = [gradient + penalty.l1, penalty.l1 - gradient]
        return value, np.concatenate([p.ravel() for p in parts] + [residual.sum(0)])

    start = np.concatenate(
        [np.maximum(coef, 0).ravel(), np.maximum(-coef, 0).ravel()]
        if split
        else [coef.ravel()]
    )
    start = np.concatenate([start, np.zeros(n_outputs)])
    bounds = [(0, None) if split else (None, None)] * (n_parts * size)
    bounds += [(None, None) if fit_intercept else (0, 0)] * (n_outputs - 1)
    bounds += [(0, 0)]
    records = []

    def record(z):
        coef_now, _ = unpack(z)
        value = evaluate(z)[0]
        records.append((value, float(np.sum(coef_now**2)), np.count_nonzero(coef_now)))

    record(start)
    scale = max(np.abs(evaluate(start)[1]).max(), penalty.l1, np.finfo(float).tiny)
    result = minimize(
        evaluate,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        callback=record,
        options={
            "maxiter": max_iter,
            "maxcor": 20,
            "ftol": 0.0,
            "gtol": MULTINOMIAL_TOL * scale,
            "maxls": 50,
        },
    )
    coef_out, intercept_out = unpack(result.x)
    coef_out, intercept_out = coef_out.copy(), intercept_out.copy()
    _polish_on_support(
        data, targets, weights, fit_intercept, penalty, coef_out, intercept_out
    )
    # The optimality conditions of the original problem, checked here.
    eta = np.column_stack([data.dot(c) for c in coef_out]) + intercept_out
    worst, _ = _multinomial_violation(
        data, eta, targets, weights, coef_out, fit_intercept, penalty
    )
    converged = worst <= 1e3 * MULTINOMIAL_TOL * scale
    return coef_out, intercept_out, result.nit, converged, records


#: Newton's polish of the multinomial L1 solution needs a dense Hessian of
#: the support's size: only up to this many weights.
_MAX_POLISH_SIZE = 1000


def _polish_on_support(data, targets, weights, fit_intercept, penalty, coef, intercept):
    """Newton steps on the nonzero weights, with their signs held under L1 (in place).

    The quasi-Newton solver on bounds slows down near the optimum; on the
    support, with the signs fixed, the objective is smooth, and Newton's
    method with the exact Hessian reaches its optimum to rounding. Weights
    that a full step takes through zero are set to zero and the polish starts
    again on the rest; the support never grows (the optimality check
    afterwards says whether it was right).
    """
    n_outputs, n_features = coef.shape
    support = np.flatnonzero(coef)
    n_free = n_outputs - 1 if fit_intercept else 0
    if support.size == 0 or support.size + n_free > _MAX_POLISH_SIZE:
        return
    classes, features = np.divmod(support, n_features)
    columns = data.columns(features)
    columns = columns.toarray() if sp.issparse(columns) else columns
    design = np.hstack([columns, np.ones((columns.shape[0], n_free))])
    owner = np.concatenate([classes, np.arange(n_free)])
    same = owner[:, np.newaxis] == owner
    signs = np.sign(coef.flat[support])
    sample = np.full(design.shape[0], weights) if np.ndim(weights) == 0 else weights
    penalised = np.arange(owner.size) < support.size

    def state(values):
        coef.flat[support] = values[: support.size]
        intercept[:n_free] = values[support.size :]
        eta = np.column_stack([data.dot(c) for c in coef]) + intercept
        value = _MULTINOMIAL.value(targets, eta, weights)
        value += penalty.l1 * float(np.abs(coef).sum())
        value += 0.5 * penalty.l2 * float(np.sum(coef * coef))
        return value, eta

    values = np.concatenate([coef.flat[support], intercept[:n_free]])
    value, eta = state(values)
    for _ in range(20):
        proba = np.exp(eta - log_sum_exp(eta))
        mine = proba[:, owner]
        gradient = np.einsum(
            "ij,ij->j", design, (mine - targets[:, owner]) * sample[:, np.newaxis]
        )
        gradient[penalised] += penalty.l1 * signs + penalty.l2 * values[penalised]
        if np.abs(gradient).max() <= 1e-15:
            break
        scaled = design * mine
        hessian = (design.T @ (scaled * sample[:, np.newaxis])) * same
        hessian -= scaled.T @ (scaled * sample[:, np.newaxis])
        hessian[np.diag_indices_from(hessian)] += penalty.l2 * penalised
        # Least squares: without penalty the softmax leaves a direction free.
        step = -np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        full = values + step
        crossing = np.flatnonzero(penalty.l1 and np.sign(full[penalised]) != signs)
        if crossing.size:
            # Newton's step takes these weights through zero: the optimum
            # has them at zero. Drop them and start again on the rest.
            values[crossing] = 0.0
            state(values)
            return _polish_on_support(
                data, targets, weights, fit_intercept, penalty, coef, intercept
            )
        rate, accepted = 1.0, False
        for _ in range(30):
            trial = values + rate * step
            if not penalty.l1 or np.all(np.sign(trial[penalised]) == signs):
                trial_value, trial_eta = state(trial)
                # Near the optimum the objective changes below its rounding
                # while the weights still move: allow for that rounding.
                if trial_value <= value + 1e-14 * abs(value):
                    accepted = True
                    break
            rate *= 0.5
        if not accepted:
            break
        values, value, eta = trial, trial_value, trial_eta
    state(values)


def _prepare(X, sample_weight):
    """The operator on X, the normalised weights and the features' moments."""
    data = DataOperator(X)
    weights = _normalised(sample_weight)
    return data, weights, FeatureMoments(data, weights)


#: Features per block of the variance of sparse X's features.
_FEATURE_BLOCK = 8192

#: Below this magnitude of every value of X no weighted sum of the squares
#: (at most 1e300) overflows float64: the moments' check cannot fail.
_SAFE_MAGNITUDE = 1e150


class FeatureMoments:
    """The features' weighted means and standard deviations, when needed.

    A working-set solve needs neither, so on sparse X the two vectors of
    n_features are computed after the solve rather than held through it.
    A stored value above 1e150 in magnitude might make the sums of squares
    overflow: then, and on dense X, they are computed (and checked) at once,
    so that data whose squares overflow are refused before any solve.

    Parameters
    ----------
    data : DataOperator
    weights : ndarray or float
        The normalised sample weights.
    """

    def __init__(self, data, weights):
        self._data, self._weights = data, weights
        self.mean = self.scale = None
        if not (data.sparse and _magnitude_below(data.X.data, _SAFE_MAGNITUDE)):
            self._compute(solving=True)

    def scales(self):
        """Return the features' standard deviations (computed on first use)."""
        if self.scale is None:
            self._compute(solving=True)
        return self.scale

    def final(self):
        """Return ``(mean, scale)`` after the solve.

        The mean is None when it was computed before a solve on X with more
        columns than rows: a vector of n_features is then not small against
        the solve's vectors of n_samples, and the fit records take a pass over
        X for it rather than the solve holding it.
        """
        if self.scale is None:
            self._compute(solving=False)
        return self.mean, self.scale

    def _compute(self, solving):
        mean, scale = self._data.moments(self._weights)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            raise ValueError(OVERFLOW_MESSAGE)
        n_samples, n_features = self._data.shape
        self.mean = None if solving and n_features > n_samples else mean
        self.scale = scale


def _magnitude_below(values, bound):
    """Whether every entry of ``values`` lies within ``[-bound, bound]``."""
    if values.dtype.kind == "f" and float(np.finfo(values.dtype).max) <= bound:
        return True  # float32 and narrower: no value can be larger
    return values.size == 0 or bool(values.max() <= bound and values.min() >= -bound)


def _solve_one_output(
    data, loss, target, weights, fit_intercept, penalty, coef, max_iter, moments
):
    """Minimise for one output column (``coef`` updated in place).

    ``moments`` (a :class:`FeatureMoments`) gives Newton-CG its scales.

    Returns the intercept, the iterations, whether they converged, the
    records, and the predictor ``X coef + intercept`` at the solution.
    """
    problem = _Problem(data, loss, target, weights, fit_intercept, penalty)
    solved = None
    if penalty.has_prox:
        solved = _solve_working_sets(problem, coef, max_iter)
    elif loss.is_quadratic and _dual_pays(data, penalty):
        solved = _solve_dual_ridge(problem, coef)
    if solved is None:
        if not loss.is_quadratic and data.direct and newton_pays(data.X, 1):
            # Tall dense data: Newton on the small explicit Hessian (see _newton).
            solved = solve_binary_newton(problem, coef, max_iter)
        else:
            solved = _solve_newton_cg(problem, coef, max_iter, moments.scales() ** 2)
    return (*solved, problem.eta)


_MULTINOMIAL = MultinomialLogLoss()


def _dual_pays(data, penalty):
    """Whether ridge is solved on the rows' Gram matrix (fewer rows than columns).

    Dense float64 X only (a product of X with itself, no copy), a positive
    L2 strength without constraints, and an ``n x n`` matrix of at most a
    tenth of the bytes of X.
    """
    n_samples, n_features = data.shape
    return (
        data.direct
        and not data.sparse
        and penalty.l2 > 0
        and not penalty.positive
        and n_samples < n_features
        and 8 * n_samples**2 <= _EXPLICIT_SHARE * data_bytes(data.X)
    )


def _solve_dual_ridge(problem, coef):
    """Ridge on wide dense X by the system of its rows; None if it is not exact.

    With ``p`` the sample weights, ``Xc`` and ``yc`` centred by their
    weighted means and ``D = diag(sqrt(p))``, the optimum of
    ``sum_i p_i (yc_i - xc_i w)^2 / 2 + l2 |w|^2 / 2`` is
    ``w = Xc^T D a`` with ``(D Xc Xc^T D + l2 I) a = D yc``: an ``n x n``
    system where the primal one is ``d x d``. ``Xc Xc^T`` comes from
    ``X X^T`` (a symmetric rank-k product on X itself) by the rank-one
    corrections of the means. The result is kept (``coef`` updated in place)
    only if it meets the optimality conditions to the solvers' tolerance;
    otherwise the caller's conjugate gradients take over.
    """
    X, y, l2 = problem.data.X, problem.y, problem.l2
    weights = np.broadcast_to(np.asarray(problem.weights, dtype=np.float64), y.shape)
    total = float(weights.sum())
    if not total > 0:
        return None
    mean = X.T @ weights / total if problem.fit_intercept else np.zeros(X.shape[1])
    y_mean = float(weights @ y) / total if problem.fit_intercept else 0.0
    with _caller_blas_threads(problem.data.threads):
        gram = la.blas.dsyrk(1.0, X.T, trans=1, lower=0)  # X X^T, upper triangle
    gram = np.triu(gram) + np.triu(gram, 1).T
    if problem.fit_intercept:
        projected = X @ mean
        gram -= projected[:, np.newaxis]
        gram -= projected[np.newaxis, :]
        gram += float(mean @ mean)
    root = np.sqrt(weights)
    system = gram * root[:, np.newaxis] * root[np.newaxis, :]
    system[np.diag_indices_from(system)] += l2
    _, dual, info = _DUAL_POSV(system, root * (y - y_mean))
    if info != 0 or not np.isfinite(dual).all():
        return None
    scaled = root * dual
    solution = X.T @ scaled - mean * float(scaled.sum())
    intercept = y_mean - float(mean @ solution) if problem.fit_intercept else 0.0
    eta = X @ solution + intercept
    problem.eta = eta
    gradient, _ = problem.loss.derivatives(y, eta, problem.weights)
    residual = X.T @ gradient + l2 * solution
    if problem.fit_intercept:
        residual -= mean * float(np.sum(gradient))
    # The gradient at zero weights (the intercept alone is the weighted mean
    # of y) scales the tolerance, as for the other solvers.
    cold, _ = problem.loss.derivatives(y, np.full(y.shape, y_mean), problem.weights)
    scale = max(float(np.abs(X.T @ cold).max(initial=0.0)), np.finfo(float).tiny)
    if not np.abs(residual).max(initial=0.0) <= OPTIMALITY_TOL * scale:
        return None
    coef[:] = solution
    return intercept, 1, True, [problem.record(eta, coef)]


_DUAL_POSV = la.get_lapack_funcs("posv", (np.zeros(1),))


def _multinomial_violation(data, eta, targets, weights, coef, fit_intercept, penalty):
    """The largest optimality violation of the multinomial problem, and a scale.

    The scale is the largest entry of the smooth gradient (or ``l1``).
    """
    residual = _MULTINOMIAL.gradient(targets, eta, weights)
    worst, scale = 0.0, penalty.l1
    for k in range(coef.shape[0]):
        gradient = data.tdot(residual[:, k]) + penalty.l2 * coef[k]
        scale = max(scale, float(np.abs(gradient).max(initial=0.0)))
        worst = max(worst, float(_violations(gradient, coef[k], penalty.l1).max()))
        if fit_intercept:
            worst = max(worst, abs(float(residual[:, k].sum())))
    return worst, max(scale, np.finfo(float).tiny)


def _normalised(sample_weight):
    """``s / sum(s)``, or the scalar ``1 / n`` for equal weights (no vector)."""
    weights = np.asarray(sample_weight, dtype=np.float64)
    if np.all(weights == weights[0]):
        return 1.0 / weights.size
    return weights / weights.sum()


class DataOperator:
    """Products with X in float64, without copying X.

    Float64 X (dense or sparse) is used as it is; X of another dtype is read in
    blocks of rows (columns for CSC) converted to float64 one at a time.
    """

    def __init__(self, X):
        self.X = X
        self.shape = X.shape
        self.sparse = sp.issparse(X)
        self.axis = 1 if sp.issparse(X) and X.format == "csc" else 0
        self.direct = X.dtype == np.float64
        # The solvers run their small products on one BLAS thread; a product
        # large enough to split gets back the threads the caller had.
        self.threads = _blas_threads()
        self._sampled_columns = None  # CSR X: see share
        self._transposed = None  # X.T, on demand

    def _blocks(self):
        """Yield ``(slice, float64 block)`` along rows (columns for CSC)."""
        n_samples, n_features = self.shape
        length = self.shape[self.axis]
        if self.sparse:
            per_item = 12 * max(self.X.nnz, 1) / max(length, 1)
        else:
            per_item = 8 * self.shape[1 - self.axis]
        # Small blocks against X too: a pass must not double the memory.
        budget = min(_BLOCK_BYTES, max(data_bytes(self.X) // 64, _MIN_BLOCK_BYTES))
        size = max(1, int(budget // max(per_item, 1)))
        for start in range(0, length, size):
            part = slice(start, min(start + size, length))
            block = self.X[part] if self.axis == 0 else self.X[:, part]
            yield part, block.astype(np.float64, copy=False)

    def dot(self, v):
        """Return ``X @ v`` for v of shape (n_features,)."""
        if self.direct:
            return np.asarray(self.X @ v).ravel()
        out = np.zeros(self.shape[0])
        for part, block in self._blocks():
            if self.axis == 0:
                out[part] = block @ v
            else:
                out += block @ v[part]
        return out

    def tdot(self, u):
        """Return ``X.T @ u`` for u of shape (n_samples,)."""
        if self.direct:
            if self._transposed is None:
                # Built once: scipy builds a new matrix object at every ``.T``.
                self._transposed = self.X.T
            return np.asarray(self._transposed @ u).ravel()
        out = np.zeros(self.shape[1])
        for part, block in self._blocks():
            if self.axis == 0:
                out += block.T @ u[part]
            else:
                out[part] = block.T @ u
        return out

    def columns(self, index):
        """Return the float64 columns ``X[:, index]`` (sparse stays sparse).

        The selection copies the columns (sparse ones are selected, then
        converted to CSC); when ``index`` is every column in order, float64
        X itself is returned.
        """
        every = np.array_equal(index, np.arange(self.shape[1]))
        if self.sparse:
            if every:
                return self.X.astype(np.float64, copy=False)
            # As CSC: its products cost the selection's stored values and
            # columns, where CSR's also cost a pass over every row.
            return self.X[:, index].astype(np.float64, copy=False).tocsc()
        if every:
            return np.asarray(self.X, dtype=np.float64)
        return np.asarray(self.X[:, index], dtype=np.float64)

    def share(self, index):
        """The share of X's stored values in the columns ``index``.

        For dense X the share of its columns; for sparse X of its nonzeros,
        which a selection of the columns copies and a product reads. It only
        chooses between a selection and X itself, so CSR X with many stored
        values is counted from a fixed sample of them (a standard error of
        0.7 % at a share of 0.3): exact counts would cost a pass over X and a
        vector of n_features.
        """
        X = self.X
        if not self.sparse:
            return index.size / max(self.shape[1], 1)
        if X.format == "csc":
            counts = X.indptr[index + 1] - X.indptr[index]
            return float(counts.sum()) / max(X.nnz, 1)
        if self._sampled_columns is None:
            if X.nnz <= _SHARE_SAMPLE:
                sample = X.indices
            else:
                places = np.random.default_rng(0).integers(X.nnz, size=_SHARE_SAMPLE)
                sample = X.indices[places]
            self._sampled_columns = np.sort(sample)
        sample = self._sampled_columns
        found = np.searchsorted(sample, index, "right")
        found -= np.searchsorted(sample, index, "left")
        return float(found.sum()) / max(sample.size, 1)

    def moments(self, weights):
        """Return the weighted mean and standard deviation of each feature.

        Computed in float64 block by block, so that they cannot overflow for
        float32 X. Dense blocks are centred before squaring (two passes), so
        that large means cancel no digits; sparse X, which cannot be centred,
        uses the raw second moment, its squares taken a slice of its stored
        values at a time.
        """
        n_samples, n_features = self.shape

        def block_weights(part):
            if np.ndim(weights) == 0:
                size = part.stop - part.start if self.axis == 0 else n_samples
                return np.full(size, weights)
            return weights[part] if self.axis == 0 else weights

        if self.sparse:
            mean, second = self.weighted_sums(weights)
            # The variance in place, a block of features at a time: the
            # squares of the means at once would be one more vector of
            # n_features.
            for start in range(0, n_features, _FEATURE_BLOCK):
                part = slice(start, start + _FEATURE_BLOCK)
                second[part] -= np.square(mean[part])
            np.maximum(second, 0, out=second)
            return mean, np.sqrt(second, out=second)

        mean, variance = np.zeros(n_features), np.zeros(n_features)
        for part, block in self._blocks():
            mean += block.T @ block_weights(part)
        for part, block in self._blocks():
            variance += ((block - mean) ** 2).T @ block_weights(part)
        return mean, np.sqrt(np.maximum(variance, 0))

    def weighted_sums(self, weights):
        """Return ``X.T @ weights`` and ``(X * X).T @ weights`` of sparse X.

        ``weights`` is per sample or a scalar. The squares are taken a slice
        of the stored values at a time: no copy of X.
        """
        n_features = self.shape[1]
        sums, squares = np.zeros(n_features), np.zeros(n_features)
        for part, index, values, sample_weights in self._sparse_slices(weights):
            into = slice(None) if self.axis == 0 else part
            weighted = values * sample_weights
            # Added in place by ufunc.at: a weighted bincount would build a
            # vector of n_features per slice of CSR X, and add it over.
            np.add.at(sums[into], index, weighted)
            weighted *= values
            np.add.at(squares[into], index, weighted)
        return sums, squares

    def _sparse_slices(self, weights):
        """Yield slices of sparse X's stored values, a 64th of them at a time.

        Each is ``(slice of rows or columns, feature of each value, float64
        values, weight of each value's sample)``; the features index the
        slice's own columns for CSC.
        """
        X, indptr = self.X, self.X.indptr
        scalar = np.ndim(weights) == 0
        # Small slices: the moments may be taken after a solve, beside its
        # predictor, and a slice's three temporaries must stay small then.
        bounds = compressed_bounds(X, parts=64, minimum=2**12)
        for start, stop in zip(bounds[:-1], bounds[1:]):
            first, last = indptr[start], indptr[stop]
            values = X.data[first:last].astype(np.float64, copy=False)
            if self.axis == 0:
                # As NumPy's index type: ufunc.at converts other integers
                # at every call, and the slice's features serve two.
                index = X.indices[first:last].astype(np.intp)
                if scalar:
                    sample_weights = weights
                else:
                    counts = np.diff(indptr[start : stop + 1])
                    sample_weights = np.repeat(weights[start:stop], counts)
            else:
                counts = np.diff(indptr[start : stop + 1])
                index = np.repeat(np.arange(stop - start), counts)
                sample_weights = weights if scalar else weights[X.indices[first:last]]
            yield slice(start, stop), index, values, sample_weights


def _column_sums(columns, values, n_samples):
    """``columns.T @ values`` for a per-sample vector or a scalar."""
    if np.ndim(values) == 0:
        return values * np.asarray(columns.sum(axis=0)).ravel()
    return np.asarray(columns.T @ values).ravel()


#: BLAS's rank-one update ``a + alpha x y^T``, in place on a Fortran-ordered a.
_RANK_ONE_UPDATE = la.get_blas_funcs("ger", (np.zeros(1),))


def _squared_column_sums(columns, curvature):
    """``(columns * columns).T @ curvature`` of CSC columns.

    One vector of the stored values (their weighted squares), summed by
    column in place: no index per stored value, as a product would need.
    """
    squares = np.square(columns.data, dtype=np.float64)
    if np.ndim(curvature):
        squares *= curvature[columns.indices]
    else:
        squares *= curvature
    sums = np.zeros(columns.shape[1])
    filled = np.diff(columns.indptr) > 0
    if squares.size:
        # Between consecutive starts of filled columns lie exactly the values
        # of the first: the empty columns hold none.
        sums[filled] = np.add.reduceat(squares, columns.indptr[:-1][filled])
    return sums


class ColumnsQuadratic:
    """The model's quadratic term on a working set, from its columns of X.

    ``H = Xc_W.T diag(h) Xc_W + l2 I`` with ``Xc_W`` the columns centred by
    their curvature-weighted means (none without intercept), never formed:
    products cost two passes over the columns, and systems on a support are
    solved by conjugate gradients. The interface of
    :class:`~sk_weights._least_squares.DenseQuadratic`.
    """

    #: Polish only a sign pattern that held for a few iterations: a solve
    #: costs many products.
    patient = True
    #: Systems are solved by conjugate gradients, in fewer steps from a start
    #: near the solution.
    iterative = True

    def __init__(self, columns, curvature, means, l2, estimate=None):
        self.columns, self.curvature, self.means, self.l2 = (
            columns,
            curvature,
            means,
            l2,
        )
        # The curvature estimate, when the caller has one (see
        # curvature_estimate); FISTA raises it as it backtracks.
        self.estimate = estimate
        self.size = columns.shape[1]
        # Built once: scipy builds the transposed matrix object at every ``.T``.
        self.transposed = columns.T

    def product(self, v):
        """Return ``H @ v``."""
        centred = np.asarray(self.columns @ v).ravel()
        centred -= float(self.means @ v)
        centred *= self.curvature
        out = np.asarray(self.transposed @ centred).ravel()
        out -= self.means * float(centred.sum())
        out += self.l2 * v
        return out

    def explicit(self):
        """Return H as a dense matrix."""
        if sp.issparse(self.columns):
            weighted = self.columns
            if np.ndim(self.curvature):
                # Each stored value times its sample's curvature.
                weighted = weighted.copy()
                if weighted.format == "csc":
                    weighted.data *= self.curvature[weighted.indices]
                else:
                    weighted.data *= np.repeat(self.curvature, np.diff(weighted.indptr))
            matrix = (self.transposed @ weighted).toarray()
            if not np.ndim(self.curvature):
                matrix *= self.curvature
        else:
            # By row blocks: no weighted copy of the columns.
            curvature = np.broadcast_to(self.curvature, self.columns.shape[:1])
            matrix = weighted_gram(self.columns, curvature, fit_intercept=False)
        total = _total(self.curvature, self.columns.shape[0])
        if self.means.any():
            # The rank-one update, in place when the matrix is C-ordered (its
            # transpose is then Fortran-ordered): no outer product beside it.
            matrix = _RANK_ONE_UPDATE(
                -total, self.means, self.means, a=matrix.T, overwrite_a=True
            ).T
        matrix[np.diag_indices_from(matrix)] += self.l2
        return matrix

    def diagonal(self):
        """Return the diagonal of H."""
        n = self.columns.shape[0]
        if sp.issparse(self.columns) and self.columns.format == "csc":
            second = _squared_column_sums(self.columns, self.curvature)
        elif sp.issparse(self.columns):
            second = DataOperator(self.columns).weighted_sums(self.curvature)[1]
        else:
            # No squared copy of the columns.
            curvature = np.broadcast_to(self.curvature, (n,))
            second = np.einsum("ij,ij,i->j", self.columns, self.columns, curvature)
        total = _total(self.curvature, n)
        return second - total * self.means**2 + self.l2

    def curvature_estimate(self):
        """An estimate from below of H's largest eigenvalue, by a few power steps.

        Lanczos would find it to 1e-4 in tens of products, each two passes
        over the columns; FISTA only needs a start, and backtracks from it.
        An estimate given at construction (the last working set's) is
        returned as it is, without a product.
        """
        if self.estimate is not None:
            return self.estimate
        self.estimate = self._power_steps()
        return self.estimate

    def _power_steps(self):
        """The Rayleigh quotient after a few power steps (exact when tiny)."""
        if self.size <= 8:
            identity = np.eye(self.size)
            matrix = np.column_stack([self.product(e) for e in identity])
            return DenseQuadratic(matrix).largest_eigenvalue() if self.size else 0.0
        # Not the vector of ones: on centred one-hot columns holding every
        # level of a category it lies in H's null space (each row sums to the
        # number of categories), and every step would give 0. The absolute
        # values of a fixed draw start as well, and deterministically.
        vector = np.abs(np.random.default_rng(0).standard_normal(self.size))
        vector /= np.sqrt(vector @ vector)
        value = 0.0
        for _ in range(_POWER_STEPS):
            image = self.product(vector)
            value = float(vector @ image)  # the Rayleigh quotient: from below
            # BLAS's norm scales as it sums: image @ image overflows on X of
            # magnitude 1e150, which made the estimate 0.
            norm = float(la.norm(image, check_finite=False))
            if not norm > 0:
                break
            vector = image / norm
        return value

    def solve_on(self, support, rhs, tolerance):
        """Solve ``H[support][:, support] w = rhs`` by preconditioned CG.

        A support that is most of the set takes its products from the set's
        columns (zeros elsewhere); a smaller one from a copy of its own
        columns, whose products then cost only their stored values. Returns
        None unless the residual falls to a tenth of ``tolerance`` within
        ``2 |S| + 50`` steps.
        """
        if support.size >= _MASKED_SHARE * self.size:
            diagonal = self.diagonal()[support]
            padded = np.zeros(self.size)

            def product(v):
                padded[support] = v
                return self.product(padded)[support]

        else:
            part = ColumnsQuadratic(
                self.columns[:, support], self.curvature, self.means[support], self.l2
            )
            diagonal, product = part.diagonal(), part.product
        diagonal[diagonal <= 0] = 1.0
        solution, _, ok, _ = _conjugate_gradient(
            product, rhs, diagonal, 2 * support.size + 50, 0.1 * tolerance
        )
        return solution if ok else None


class _Problem:
    """One target's data, loss and penalty, and the predictor ``eta = X w + b``.

    ``eta``: the solver's predictor, which it updates in place as it steps
    (None until a solver starts); at its end, that of the solution, which the
    fit records take instead of predicting anew.
    """

    def __init__(self, data, loss, y, weights, fit_intercept, penalty):
        self.data, self.loss, self.y, self.weights = data, loss, y, weights
        self.fit_intercept = fit_intercept
        self.l1, self.l2, self.positive = penalty.l1, penalty.l2, penalty.positive
        self.eta = None

    def objective(self, eta, coef):
        """The penalised objective at ``eta`` (which is ``X @ coef + b``)."""
        penalty = self.l1 * float(np.abs(coef).sum())
        penalty += 0.5 * self.l2 * float(coef @ coef)
        return self.loss.value(self.y, eta, self.weights) + penalty

    def record(self, eta, coef, value=None):
        """The curves' entry: objective, sum of squared weights, nonzeros.

        ``value``: the objective at ``eta`` and ``coef`` if already known.
        """
        if value is None:
            value = self.objective(eta, coef)
        return value, float(coef @ coef), np.count_nonzero(coef)

    def start(self, coef):
        """Return ``(eta, intercept)`` at ``coef``, with the optimal intercept."""
        # A cold start's predictor is zero: no pass over X.
        eta = self.data.dot(coef) if coef.any() else np.zeros(self.data.shape[0])
        intercept = 0.0
        if self.fit_intercept:
            # The datafit knows its best offset (in closed form for most).
            intercept = self.loss.best_offset(self.y, eta, self.weights)
            eta += intercept
        return eta, intercept

    def cold_gradient_scale(self, coef):
        """The largest gradient entry at zero weights, for a warm start (else 0).

        The stopping tolerance is relative to the problem, not to the start: a
        warm start's gradient is already small, and a tolerance relative to it
        would ask for digits below rounding (and differ from a cold fit's).
        """
        if not np.any(coef):
            return 0.0
        eta, _ = self.start(np.zeros_like(coef))
        gradient, _ = self.loss.derivatives(self.y, eta, self.weights)
        return float(np.abs(self.data.tdot(gradient)).max(initial=0.0))

    def intercept_step(self, gradient_total, curvature, moved):
        """The Newton step of the intercept once the weights move.

        ``gradient_total`` is the sum of the gradient and ``moved`` the
        curvature-weighted sum of ``X @ dw``; the step
        minimises the second-order model of the loss over the intercept.
        """
        if not self.fit_intercept:
            return 0.0
        n = self.y.size
        total = _total(curvature, n)
        if not total > 0:
            # The curvature underflowed to zero (every sample's weight or
            # p (1 - p) below the smallest float): the loss is flat along the
            # intercept to double precision, so no step is the Newton step.
            return 0.0
        return -(gradient_total + moved) / total


def _working_set(violation, support, size, tolerance):
    """The features of the next set: the support, then the worst violators.

    Returns the sorted indices of at most ``size`` features (``size`` at
    least the support's): every feature of ``support``, then those whose
    ``violation`` exceeds ``tolerance`` most, ties going to the first
    features. The support's violations are overwritten with infinity.
    Every nonzero weight is then in the set, so the set's columns give the
    predictor.
    """
    violation[support] = np.inf
    wanted = violation > tolerance
    if np.count_nonzero(wanted) > size:
        # Choose among the violators only (usually far fewer than the features).
        threshold = np.partition(violation[wanted], -size)[-size]
        wanted = violation > threshold
        wanted[support] = True
        tied = np.flatnonzero((violation == threshold) & ~wanted)
        wanted[tied[: size - np.count_nonzero(wanted)]] = True
    return np.flatnonzero(wanted)


def _violations(gradient, coef, l1, positive=False):
    """Turn the penalised gradient into optimality violations, in place."""
    return optimality_violations(gradient, coef, l1, positive)


def _solve_working_sets(problem, coef, max_iter):
    """Minimise with an L1 part on growing working sets; see the module doc.

    ``coef`` (the start) is updated in place. Returns the intercept, the
    rounds run, whether the optimality conditions hold, and the records.
    """
    data, loss, y, weights = problem.data, problem.loss, problem.y, problem.weights
    l1, l2 = problem.l1, problem.l2
    n_samples = y.size
    eta, intercept = problem.start(coef)
    problem.eta = eta
    curve, tolerance, previous, converged = [], None, None, False
    estimate = None
    # The squared loss solves a set without the predictor: it is dropped (a
    # vector of n beside the set's columns and their Gram matrix) and rebuilt
    # from the columns, which hold every nonzero weight, in the one product
    # the update costs anyway. Other losses search a line from it.
    rebuild = loss.is_quadratic
    for iteration in range(1, max_iter + 1):
        gradient, curvature = loss.derivatives(y, eta, weights)
        violation = data.tdot(gradient)
        gradient_total = _total(gradient, n_samples)
        # The set's part of X^T g starts its solve. Of the two vectors that
        # give it, hold the shorter through the selection: a copy of X^T g
        # (then the part is a slice, and a pass over the set's columns is
        # saved) or the gradient.
        sliced = coef.size <= n_samples
        kept = None if sliced else gradient
        del gradient
        if sliced:
            kept = violation.copy()
        if l2:
            violation += l2 * coef
        if tolerance is None:
            scale = max(
                np.abs(violation).max(initial=0.0),
                l1,
                problem.cold_gradient_scale(coef),
                np.finfo(float).tiny,
            )
            tolerance = OPTIMALITY_TOL * scale
        _violations(violation, coef, l1, problem.positive)
        curve.append(problem.record(eta, coef))
        worst = float(violation.max(initial=0.0))
        if worst <= tolerance:
            converged = True
            break
        if iteration == max_iter:
            break
        support = np.flatnonzero(coef)
        size = max(_INITIAL_WORKING_SET, _GROWTH * support.size)
        work = _working_set(violation, support, size, tolerance)
        whole = _WHOLE_SHARE_SPARSE if data.sparse else _WHOLE_SHARE
        share = data.share(work)
        # A last set whose every weight came out nonzero was too small: the
        # support grows as fast as the sets, and the next set would pass
        # the share below anyway.
        filled = previous is not None and support.size == previous[0].size
        if share >= whole or (filled and _GROWTH * share >= whole):
            # Much of X: take every column, X itself, rather than a copy of
            # much of it (the features added are free to stay at zero).
            work = np.arange(coef.size)
        # Early rounds only point the way: solve them to a tenth of the
        # largest violation, and exactly (with the polish) once it is small.
        inner_tolerance = max(tolerance, _ROUGH_SHARE * worst)
        grown = previous is None or work.size > previous[0].size
        if previous is not None and np.array_equal(work, previous[0]):
            # Other losses need more Newton steps on the same set, until
            # a step no longer lowers the objective.
            stalled = loss.is_quadratic or curve[-1][0] >= curve[-2][0]
            if previous[1] == tolerance and stalled:
                # The last round solved this very set exactly: what is left
                # is rounding between the small model and the pass over X.
                converged = worst <= 1e4 * tolerance
                break
            inner_tolerance = tolerance
        if loss.is_quadratic and previous is not None and previous[1] == tolerance:
            # The last round solved its set exactly: this set adds a few
            # features to a solved support, and a rough solve would only
            # cost one more round (a selection and passes over X).
            inner_tolerance = tolerance
        del violation
        if rebuild:
            eta = problem.eta = None

        columns = data.columns(work)
        if sliced:
            local_gradient = kept[work]
        else:
            local_gradient = _column_sums(columns, kept, n_samples)
        del kept
        means = np.zeros(work.size)
        if problem.fit_intercept:
            # Eliminate the intercept: centre by the curvature-weighted means.
            means = _column_sums(columns, curvature, n_samples)
            means /= _total(curvature, n_samples)
            local_gradient -= means * gradient_total
        # The last set's curvature estimate (as FISTA raised it) starts this
        # one's, for the squared loss: a set that holds the last has a largest
        # eigenvalue at least as large (it holds the last's matrix), so the
        # estimate stays from below. Other losses change their curvature.
        hessian = ColumnsQuadratic(
            columns, curvature, means, l2, estimate if loss.is_quadratic else None
        )
        matrix_bytes = 8 * work.size**2
        small = matrix_bytes <= _EXPLICIT_SHARE * data_bytes(data.X) or (
            2 * work.size >= n_samples and matrix_bytes <= _EXPLICIT_MIN_BYTES
        )
        if small or (not sp.issparse(columns) and work.size <= n_samples):
            # The set's Gram matrix is small against X (or, for dense
            # columns, against the columns themselves): its products and
            # solves are cheaper than passes over the columns.
            hessian = DenseQuadratic(hessian.explicit())
            # Large sets: polish only a sign pattern that held (cubic solves).
            hessian.patient = work.size > _PATIENT_SIZE
        if not grown and loss.is_quadratic and isinstance(hessian, ColumnsQuadratic):
            # A matrix-free set that stopped growing: solve it exactly now.
            # Each rough round costs a selection and passes over X, and
            # would only take the tolerance down a tenth.
            inner_tolerance = tolerance
        previous = work, inner_tolerance
        start = coef[work]
        linear = hessian.product(start) - l2 * start - local_gradient
        solution = _solve_one(
            hessian,
            linear,
            l1,
            start,
            max_iter,
            inner_tolerance,
            problem.positive,
            # A rough round on a matrix-free set does without the exact
            # solves: each costs many products, and the round only points
            # the way.
            polish=inner_tolerance <= tolerance or not hessian.patient,
        )[0]
        estimate = hessian.estimate
        del hessian

        step = solution - start
        if rebuild:
            # The intercept's step needs only the curvature-weighted sum of
            # X dw: the total curvature times the means' product with dw.
            moved = _total(curvature, n_samples) * float(means @ step)
            intercept += problem.intercept_step(gradient_total, curvature, moved)
            coef[work] = solution
            eta = np.asarray(columns @ solution).ravel()
            eta += intercept
            problem.eta = eta
        else:
            columns_step = np.asarray(columns @ step).ravel()
            intercept_step = problem.intercept_step(
                gradient_total, curvature, _weighted_sum(columns_step, curvature)
            )
            columns_step += intercept_step
            rate = _line_search(problem, eta, coef, work, step, columns_step, solution)
            columns_step *= rate
            coef[work] = start + rate * step
            eta += columns_step
            intercept += rate * intercept_step
            del columns_step
        del columns
    return intercept, len(curve), converged, curve


def _line_search(problem, eta, coef, work, step, eta_step, solution):
    """Backtrack the proximal Newton step until the objective decreases enough."""
    before = problem.objective(eta, coef)
    trial = coef.copy()
    old = coef[work].copy()
    # The decrease the model promises (Armijo's condition on the composite).
    gradient, _ = problem.loss.derivatives(problem.y, eta, problem.weights)
    slope = float(np.sum(gradient * eta_step)) + problem.l2 * float(old @ step)
    slope += problem.l1 * float(np.abs(solution).sum() - np.abs(old).sum())
    # Near the optimum the decrease falls below the objective's rounding while
    # the gradient still shrinks: allow for that rounding.
    rounding = 8 * np.finfo(float).eps * abs(before)
    rate = 1.0
    for _ in range(30):
        trial[work] = old + rate * step
        sufficient = before + 1e-4 * rate * min(slope, 0.0) + rounding
        if problem.objective(eta + rate * eta_step, trial) <= sufficient:
            break
        rate *= 0.5
    return rate


def _solve_newton_cg(problem, coef, max_iter, variance):
    """Minimise without an L1 part: Newton steps solved by conjugate gradients.

    ``variance`` (the features' weighted variances) gives the Jacobi
    preconditioner of the squared loss; other losses compute theirs from the
    curvature and take their steps with a line search. ``coef`` is updated in
    place. Returns the intercept, the CG
    steps run, whether they converged, and the records.
    """
    data, loss, y, weights = problem.data, problem.loss, problem.y, problem.weights
    l2 = problem.l2
    n_samples = y.size
    eta, intercept = problem.start(coef)
    problem.eta = eta
    curve, n_iter, converged, tolerance = [], 0, False, None
    while n_iter < max_iter:
        gradient, curvature = loss.derivatives(y, eta, weights)
        total = _total(curvature, n_samples)
        if not total > 0:
            # Every sample's curvature underflowed: the loss is flat to double
            # precision, and its Newton model has nothing to step on.
            converged = True
            break
        means = np.zeros(coef.size)
        if not loss.is_quadratic:
            means, scale = data.moments(curvature / total)
            variance = total * scale**2
        elif problem.fit_intercept:
            means = data.tdot(np.full(n_samples, curvature / total))
        if not problem.fit_intercept:
            means[:] = 0
        # The Newton system of the centred predictor (the intercept eliminated).
        rhs = -(data.tdot(gradient) - means * _total(gradient, n_samples))
        if l2:
            rhs -= l2 * coef
        if tolerance is None:
            scale = max(
                np.abs(rhs).max(initial=0.0),
                problem.cold_gradient_scale(coef),
                np.finfo(float).tiny,
            )
            tolerance = OPTIMALITY_TOL * scale
        elif np.abs(rhs).max(initial=0.0) <= tolerance:
            converged = True
            break
        diagonal = variance + l2
        diagonal[diagonal <= 0] = 1.0

        def hessian_product(v, means=means, curvature=curvature):
            centred = data.dot(v) - float(means @ v)
            return data.tdot(curvature * centred) + l2 * v

        value = problem.objective(eta, coef)
        step, iters, ok, records = _conjugate_gradient(
            hessian_product, rhs, diagonal, max_iter - n_iter, tolerance, value, coef
        )
        n_iter += iters
        if iters == 0:
            # No conjugate-gradient step was possible (the curvature along the
            # gradient is zero to double precision): nothing would change in
            # another round, so stop here.
            converged = bool(np.abs(rhs).max(initial=0.0) <= tolerance)
            break
        columns_step = data.dot(step)
        gradient_total = _total(gradient, n_samples)
        intercept_step = problem.intercept_step(
            gradient_total, curvature, _weighted_sum(columns_step, curvature)
        )
        columns_step += intercept_step
        rate = 1.0
        if loss.is_quadratic:
            curve += records
        else:
            everything = slice(None)
            rate = _line_search(
                problem, eta, coef, everything, step, columns_step, coef + step
            )
        coef += rate * step
        eta += rate * columns_step
        intercept += rate * intercept_step
        if not loss.is_quadratic:
            curve.append(problem.record(eta, coef))
        if loss.is_quadratic or not ok:
            # For the squared loss the Newton step was the whole solve.
            converged = ok
            break
    if not curve:
        curve.append(problem.record(eta, coef))
    return intercept, n_iter, converged, curve


def _conjugate_gradient(
    product, rhs, diagonal, max_iter, tolerance, value=None, coef=None
):
    """Solve ``A v = rhs`` by preconditioned CG from zero, to ``tolerance``.

    Stops when the largest entry of the residual ``rhs - A v`` (the gradient
    of the objective at ``coef + v``) is at most ``tolerance``. ``value`` is
    the objective at ``v = 0``; the records hold the quadratic model's
    objective at ``coef + v`` per step (none when ``coef`` is None).
    """
    # Solved for rhs / scale and scaled back (the system is linear): on data
    # of tiny magnitude (X * 1e-300) the squared norms below would underflow
    # to zero and stop the iterations before the first step.
    scale = float(np.abs(rhs).max(initial=0.0))
    if not scale > 0:
        return np.zeros_like(rhs), 0, True, []
    rhs = rhs / scale
    tolerance = tolerance / scale
    v = np.zeros_like(rhs)
    residual = rhs.copy()
    z = residual / diagonal
    direction = z.copy()
    rz = float(residual @ z)
    records = []
    for iteration in range(1, max_iter + 1):
        a_direction = product(direction)
        curvature = float(direction @ a_direction)
        if rz <= 0 or curvature <= 0:
            return v * scale, iteration - 1, True, records
        alpha = rz / curvature
        v += alpha * direction
        residual -= alpha * a_direction
        if coef is not None:
            # With A v = rhs - residual, the model 0.5 v.A v - rhs.v is this:
            model = value - 0.5 * scale**2 * float(v @ (rhs + residual))
            current = coef + scale * v
            records.append((model, float(current @ current), np.count_nonzero(current)))
        if np.abs(residual).max() <= tolerance:
            return v * scale, iteration, True, records
        z = residual / diagonal
        rz_next = float(residual @ z)
        direction *= rz_next / rz
        direction += z
        rz = rz_next
    return v * scale, max_iter, False, records
