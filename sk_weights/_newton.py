"""Newton's method on the small matrix ``X^T D X``, for smooth losses on tall data.

Without an L1 part the penalised objective of a smooth loss (the log loss) is
smooth, and Newton's method reaches its optimum in a handful of steps. On tall
dense data (many more samples than features) each step is cheapest with the
Hessian written out: ``[X 1]^T diag(h) [X 1] + l2 I`` (the intercept a column
of ones, not penalised) is a ``(d + 1) x (d + 1)`` matrix, accumulated by
symmetric rank-k updates over row blocks of X (views, each scaled by
``sqrt(h)`` in a small float64 buffer: X is never copied whole), and the step
is a Cholesky solve. The matrix-free alternative (conjugate gradients, two
passes over X per product) needs tens of passes per step where this needs
one. For the softmax the Hessian couples the classes: its ``k (d + 1)`` rows
are formed the same way while they stay few.

Each step is followed by a backtracking line search on the objective
(Armijo's rule); the iteration stops when the largest entry of the
objective's gradient (intercepts included) is at most ``OPTIMALITY_TOL``
of the largest at the start, the rule of the other full-batch solvers.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from sk_weights._datafits import log_sum_exp
from sk_weights._least_squares import OPTIMALITY_TOL

#: Samples per feature needed before the explicit Hessian pays.
NEWTON_MIN_ROWS_PER_COLUMN = 2
#: The softmax's Hessian is formed only up to this many rows.
NEWTON_MAX_SIZE = 256

# The Hessian's factor is reused while each step shrinks the largest
# gradient entry at least this much ...
_REUSE_RATIO = 0.25
# ... when forming it costs more than this many multiply-adds (n_samples x
# its size squared); a smaller one is formed anew at every step, whose
# quadratic convergence saves more steps than the formation costs.
_REUSE_MIN_WORK = 2**22

# Row blocks of about this many bytes (float64) for the rank-k updates.
_BLOCK_BYTES = 2**21


def newton_pays(X, n_outputs):
    """Whether Newton's method on the explicit Hessian is the cheaper method."""
    if sp.issparse(X):
        return False
    n_samples, n_features = X.shape
    size = n_outputs * (n_features + 1)
    if n_outputs > 1 and size > NEWTON_MAX_SIZE:
        return False
    return n_samples >= NEWTON_MIN_ROWS_PER_COLUMN * size


def _row_blocks(X):
    """Yield slices of rows of about ``_BLOCK_BYTES`` in float64."""
    n_samples, n_features = X.shape
    size = max(1, _BLOCK_BYTES // (8 * max(n_features, 1)))
    for start in range(0, n_samples, size):
        yield slice(start, min(start + size, n_samples))


def weighted_gram(X, curvature, fit_intercept):
    """``[X 1]^T diag(curvature) [X 1]`` (without the ones when no intercept).

    ``curvature`` is a non-negative vector. Row blocks of X are scaled by the
    square root of the curvature and summed by symmetric rank-k updates.
    """
    n_features = X.shape[1]
    size = n_features + bool(fit_intercept)
    matrix = np.zeros((size, size), order="F")
    root = np.sqrt(curvature)
    syrk = la.get_blas_funcs("syrk", (matrix,))
    for rows in _row_blocks(X):
        block = np.empty((rows.stop - rows.start, size))
        np.multiply(X[rows], root[rows, np.newaxis], out=block[:, :n_features])
        if fit_intercept:
            block[:, -1] = root[rows]
        # block.T is Fortran-ordered: the update reads the block in place.
        matrix = syrk(1.0, block.T, beta=1.0, c=matrix, trans=0, overwrite_c=1)
    # The update filled the upper triangle: mirror it into the lower one.
    lower = np.tril(matrix.T, -1)
    matrix += lower
    return matrix


def _solve_system(matrix, rhs):
    """Solve the Newton system (least squares if it is singular)."""
    return _factorise(matrix)(rhs)


# Cholesky through LAPACK directly: scipy.linalg's wrappers cost more than
# the factorisation of a small Hessian.
_POTRF, _POTRS = la.get_lapack_funcs(("potrf", "potrs"), (np.zeros(1),))


def _factorise(matrix):
    """Return a function solving ``matrix @ v = rhs`` (least squares if singular)."""
    factor, info = _POTRF(matrix, lower=False, clean=False)
    if info != 0 or not np.isfinite(factor).all():
        return lambda rhs: np.linalg.lstsq(matrix, rhs, rcond=None)[0]
    return lambda rhs: _POTRS(factor, rhs, lower=False)[0]


def _tolerances(problem, full, coef, n_features):
    """Per-entry stopping tolerances of the gradient ``full`` (intercept last).

    The weights' tolerance is relative to their own gradient (at zero weights
    for a warm start, as the other solvers on X judge it), the intercept's to
    its own: on features of tiny magnitude the two differ by hundreds of
    orders, and one shared scale would either stop before the weights move
    or ask the intercept for digits below rounding.
    """
    tiny = np.finfo(float).tiny
    tolerance = np.empty(full.size)
    tolerance[:n_features] = OPTIMALITY_TOL * max(
        np.abs(full[:n_features]).max(initial=0.0),
        problem.cold_gradient_scale(coef),
        tiny,
    )
    tolerance[n_features:] = OPTIMALITY_TOL * max(
        np.abs(full[n_features:]).max(initial=0.0), tiny
    )
    return tolerance


def _settled(full, gradient, n_features, tolerance, slack=1.0):
    """Whether every entry of the gradient ``full`` meets its tolerance.

    The intercept's entry is a sum of one term per sample, so it cannot be
    computed more exactly than the rounding of that sum: below it, it counts
    as zero.
    """
    bound = slack * tolerance
    if full.size > n_features:
        rounding = 8 * np.finfo(float).eps * float(np.abs(gradient).sum())
        bound[n_features:] = np.maximum(bound[n_features:], rounding)
    return bool(np.all(np.abs(full) <= bound))


def solve_binary_newton(problem, coef, max_iter):
    """Minimise a smooth loss with an L2 part by Newton steps on ``X^T D X``.

    ``problem`` is the solver's problem (data, loss, targets, weights,
    penalty); ``coef`` (the start) is updated in place. Returns the
    intercept, the steps run, whether the gradient fell below the tolerance,
    and the records (one per step).
    """
    X, loss, y, weights = problem.data.X, problem.loss, problem.y, problem.weights
    l2, fit_intercept = problem.l2, problem.fit_intercept
    n_features = coef.size
    eta, intercept = problem.start(coef)
    problem.eta = eta
    value = problem.objective(eta, coef)
    curve, tolerance, converged = [], None, False
    solve, previous = None, np.inf
    penalised = np.zeros(n_features + bool(fit_intercept))
    penalised[:n_features] = l2
    may_reuse = X.shape[0] * penalised.size**2 >= _REUSE_MIN_WORK
    for iteration in range(1, max_iter + 1):
        gradient, curvature = loss.derivatives(y, eta, weights)
        full = np.empty(penalised.size)
        full[:n_features] = X.T @ gradient + l2 * coef
        if fit_intercept:
            full[-1] = gradient.sum()
        worst = np.abs(full).max(initial=0.0)
        if tolerance is None:
            tolerance = _tolerances(problem, full, coef, n_features)
            curve.append(problem.record(eta, coef, value))
        if _settled(full, gradient, n_features, tolerance):
            converged = True
            break
        if iteration == max_iter:
            break
        reused = may_reuse and solve is not None and worst <= _REUSE_RATIO * previous
        if not reused:
            curvature = np.broadcast_to(curvature, y.shape)
            hessian = weighted_gram(X, curvature, fit_intercept)
            hessian[np.diag_indices_from(hessian)] += penalised
            solve = _factorise(hessian)
        # Else the last step shrank the gradient fast: the Hessian has barely
        # changed, and its factor serves again (a step for one pass over X).
        previous = worst
        step = -solve(full)
        eta_step = X @ step[:n_features]
        if fit_intercept:
            eta_step += step[-1]
        slope = float(full @ step)
        rate, accepted = 1.0, False
        for _ in range(40):
            trial = coef + rate * step[:n_features]
            trial_value = problem.objective(eta + rate * eta_step, trial)
            # Near the optimum the objective changes below its rounding.
            if trial_value <= value + 1e-4 * rate * min(slope, 0.0) + 1e-15 * abs(
                value
            ):
                accepted = True
                break
            rate *= 0.5
        if not accepted and reused:
            # A reused factor may point badly: rebuild it before giving up.
            solve = None
            continue
        if not accepted:
            converged = _settled(full, gradient, n_features, tolerance, slack=1e4)
            break
        if rate < 1:
            previous = np.inf
        coef += rate * step[:n_features]
        eta += rate * eta_step
        if fit_intercept:
            intercept += rate * step[-1]
        value = trial_value
        curve.append(problem.record(eta, coef, value))
    return intercept, len(curve), converged, curve


def solve_multinomial_newton(
    X, targets, weights, fit_intercept, penalty, coef, max_iter, tolerance_share
):
    """Minimise the softmax log loss with an L2 part by Newton steps.

    The variables are every class's weights and, with an intercept, the
    intercepts of all classes but the last (held at 0: the softmax does not
    change when every logit moves alike). ``tolerance_share`` is the
    stopping rule's share of the largest gradient entry at the start.
    Returns the weights, the intercepts, the steps, whether the gradient
    fell below the tolerance, and the records (objective, sum of squared
    weights, nonzeros) per step.
    """
    n_samples, n_features = X.shape
    n_classes = coef.shape[0]
    coef = coef.copy()
    intercept = np.zeros(n_classes)
    l2 = penalty.l2
    sample = np.broadcast_to(weights, (n_samples,))
    width = n_features + bool(fit_intercept)
    # The variables: (class, column) for every class and column of [X 1],
    # the last class's intercept excluded.
    keep = np.ones(n_classes * width, dtype=bool)
    if fit_intercept:
        keep[-1] = False
    ridge = np.tile(
        np.r_[np.full(n_features, l2), np.zeros(width - n_features)], n_classes
    )
    ridge = ridge[keep]

    def state(coef_now, intercept_now):
        eta = X @ coef_now.T + intercept_now
        log_norm = log_sum_exp(eta)
        loss = float(sample @ (log_norm[:, 0] - np.einsum("ik,ik->i", targets, eta)))
        value = loss + 0.5 * l2 * float(np.sum(coef_now * coef_now))
        return value, np.exp(eta - log_norm)

    def gradient_of(proba, coef_now):
        residual = (proba - targets) * sample[:, np.newaxis]
        parts = residual.T @ X + l2 * coef_now
        if fit_intercept:
            parts = np.column_stack([parts, residual.sum(axis=0)])
        return parts.ravel()[keep]

    value, proba = state(coef, intercept)
    records = [(value, float(np.sum(coef * coef)), np.count_nonzero(coef))]
    gradient = gradient_of(proba, coef)
    tolerance = tolerance_share * max(np.abs(gradient).max(), np.finfo(float).tiny)
    converged = np.abs(gradient).max() <= tolerance
    for _ in range(max_iter):
        if converged:
            break
        hessian = _multinomial_hessian(X, proba, sample, fit_intercept)[
            np.ix_(keep, keep)
        ]
        hessian[np.diag_indices_from(hessian)] += ridge
        step = np.zeros(keep.size)
        step[keep] = -_solve_system(hessian, gradient)
        step = step.reshape(n_classes, width)
        coef_step = step[:, :n_features]
        intercept_step = step[:, n_features] if fit_intercept else 0.0
        slope = float(gradient @ step.ravel()[keep])
        rate, accepted = 1.0, False
        for _ in range(40):
            trial = (coef + rate * coef_step, intercept + rate * intercept_step)
            trial_value, trial_proba = state(*trial)
            if trial_value <= value + 1e-4 * rate * min(slope, 0.0) + 1e-15 * abs(
                value
            ):
                accepted = True
                break
            rate *= 0.5
        if not accepted:
            converged = np.abs(gradient).max() <= 1e4 * tolerance
            break
        coef, intercept = trial
        value, proba = trial_value, trial_proba
        records.append((value, float(np.sum(coef * coef)), np.count_nonzero(coef)))
        gradient = gradient_of(proba, coef)
        converged = np.abs(gradient).max() <= tolerance
    return coef, intercept, len(records) - 1, converged, records


def _multinomial_hessian(X, proba, sample, fit_intercept):
    """The Hessian of the weighted softmax log loss over every class's ``[X 1]``.

    Block ``(a, b)`` is ``[X 1]^T diag(s * (p_a [a == b] - p_a p_b)) [X 1]``.
    """
    n_samples, n_classes = proba.shape
    design = X if not fit_intercept else np.column_stack([X, np.ones(n_samples)])
    width = design.shape[1]
    size = n_classes * width
    hessian = np.empty((size, size))
    for a in range(n_classes):
        for b in range(a, n_classes):
            mixed = -proba[:, a] * proba[:, b]
            if a == b:
                mixed += proba[:, a]
            mixed *= sample
            block = design.T @ (design * mixed[:, np.newaxis])
            hessian[a * width : (a + 1) * width, b * width : (b + 1) * width] = block
            hessian[b * width : (b + 1) * width, a * width : (a + 1) * width] = block.T
    return hessian
