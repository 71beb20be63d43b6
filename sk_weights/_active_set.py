"""An exact active-set solver for small penalised quadratics.

Minimises ``0.5 w^T H w - linear^T w + l1 * |w|_1`` for an explicit, small,
positive (semi-)definite H, the sub-problem of the Gram path and of the
working sets on dense columns. Where FISTA needs tens to hundreds of
matrix-vector products to find the sign pattern of the optimum, this method
walks to it in about as many steps as the optimum has nonzero weights, each
step a solve of the system on the current support:

1. If the nonzero weights are optimal for their signs, the zero weight that
   violates its condition ``|gradient_j| <= l1`` the most joins the support,
   by an exact minimisation along its own coordinate (so it enters with the
   right sign). None left: the optimum is reached.
2. Otherwise, Newton's step on the support with the signs held (the
   solution of ``H_SS v = linear_S - l1 * sign(w_S)``), followed by an exact
   line search of the true objective (convex and piecewise quadratic along
   the segment): the step stops where it is lowest, which may be where a
   weight crosses zero; that weight is then set to exactly 0.

The walk first guesses the support from its start (:func:`_violator_start`:
a few solves, each taking in every weight that violates its condition and
dropping those whose sign comes out wrong), or, from zero under a very weak
penalty, starts from the unpenalised solution: one step where adding the
weights one at a time would take one step each.

Every step lowers the objective, and the sign patterns cannot repeat, so
the walk ends; its end satisfies the optimality conditions to rounding. On
anything unexpected (a singular system, no decrease, too many steps) the
solver returns None and the caller falls back to its first-order method,
which makes no such assumption.
"""

import numpy as np
import scipy.linalg as la

_POSV = la.get_lapack_funcs("posv", (np.zeros(1),))

#: Matrices up to this size are solved by the active-set walk.
ACTIVE_SET_MAX_SIZE = 128


def solve_small_quadratic(matrix, linear, l1, start, max_iter, tolerance):
    """Minimise the penalised quadratic by the active-set walk; see the module doc.

    Returns ``(coef, n_iter, converged, curve)`` like the FISTA solver (the
    curve holds per step the objective without constant, the sum of squared
    weights and the nonzeros), or None when the walk cannot be trusted.
    """
    size = linear.size
    if size == 0:
        return None
    w = np.array(start, dtype=np.float64)
    hw = matrix @ w
    curve = []

    if l1 == 0:
        # Without an L1 part the optimum solves one linear system.
        try:
            w = np.linalg.solve(matrix, linear)
        except np.linalg.LinAlgError:
            return None
        hw = matrix @ w
        if not np.abs(hw - linear).max(initial=0.0) <= tolerance:
            return None
        return w, 1, True, [_record(_objective(w, hw, linear, l1), w)]
    given = w
    if not w.any() and l1 < _DENSE_START_SHARE * np.abs(linear).max(initial=0.0):
        w, hw = _dense_start(matrix, linear, w, hw)
    else:
        w, hw = _violator_start(matrix, linear, l1, w, hw)
    value = _objective(w, hw, linear, l1)
    # A computed start is the walk's first step, with its record.
    started = int(w is not given)
    if started:
        curve.append(_record(value, w))
    limit = min(max_iter, 4 * size + 20) - started
    # Up to ``limit`` steps, each checked before and after.
    for iteration in range(1, limit + 2):
        gradient = hw - linear
        active = w != 0
        signs = np.sign(w)
        on_support = gradient[active] + l1 * signs[active]
        # The support's weights optimal for their signs: add a weight, if any.
        settled = on_support.size == 0 or abs(on_support).max() <= tolerance
        if settled:
            off = abs(gradient) - l1
            off[active] = -np.inf
            j = int(off.argmax())
            if off[j] <= tolerance:
                return w, iteration - 1 + started, True, curve or [_record(value, w)]
        if iteration > limit:
            break
        if settled:
            curvature = matrix[j, j]
            if not curvature > 0:
                return None
            # Exact minimisation along coordinate j: it leaves zero with the
            # sign opposite to its gradient.
            delta = -(gradient[j] + l1 * np.sign(-gradient[j])) / curvature
            w[j] += delta
            hw += delta * matrix[:, j]
            gradient = hw - linear
            active[j] = True
            signs[j] = np.sign(w[j])
        support = active.nonzero()[0]
        rhs = linear[support] - l1 * signs[support]
        # Cholesky through LAPACK directly: NumPy's solve costs more than the
        # solve itself at these sizes. Not positive definite: give up.
        sub = _principal_submatrix(matrix, support)
        _, target, info = _POSV(sub, rhs)
        if info != 0 or not np.isfinite(target).all():
            return None
        current = w[support]
        direction = target - current
        h_direction = sub @ direction
        curvature = float(direction @ h_direction)
        if curvature <= 0 and not np.any(np.abs(direction) > 1e-15 * np.abs(current)):
            rate = 1.0  # already at the optimum of this sign pattern
        else:
            slope = float(direction @ gradient[support])
            rate = _line_minimum(current, direction, slope, curvature, l1)
            if rate is None:
                return None
        if rate < 1.0:
            moved = current + rate * direction
            # The weight whose zero crossing the step stopped at is 0
            # (its kink computed as in the line search, so equal).
            with np.errstate(divide="ignore", invalid="ignore"):
                moved[-current / direction == rate] = 0.0
        else:
            moved = target
        w[support] = moved
        hw = matrix @ w
        new_value = _objective(w, hw, linear, l1)
        # A step may not raise the objective beyond rounding.
        if new_value > value + 1e-12 * max(abs(value), 1.0):
            return None
        value = new_value
        curve.append(_record(value, w))
    return None


#: From a cold start with ``l1`` below this share of the largest ``|linear|``
#: (of ``alpha_max``), the optimum is close to the unpenalised solution, with
#: nearly every weight nonzero: the walk starts there and removes the few
#: weights that reach zero, rather than adding nearly every weight one step
#: at a time. Above it, how many weights stay nonzero depends on the data,
#: and the walk from zero is never the longer by much.
_DENSE_START_SHARE = 1e-3


def _dense_start(matrix, linear, w, hw):
    """The unpenalised solution and its product with H, or the start as given
    when H is singular (the walk then adds weights from zero)."""
    _, solution, info = _POSV(matrix, linear)
    if info != 0 or not np.all(np.isfinite(solution)) or not solution.all():
        return w, hw
    return solution, matrix @ solution


#: Rounds of :func:`_violator_start` (each a solve on a support).
_VIOLATOR_START_ROUNDS = 8


def _violator_start(matrix, linear, l1, w, hw):
    """A start found by solves on guessed supports; ``(w, hw)`` if none is lower.

    The weights of ``w``'s support and those with ``|gradient_j| > l1``
    (which would leave zero) are solved for at once, the new ones with the
    signs their gradients give. Weights whose solution has the other sign
    are dropped and the system solved again; once every sign is as assumed
    (the point is then the optimum of its sign pattern), the weights still
    violating their condition join, and so on for a few rounds. Each round
    is one solve where the walk takes a step per weight; the lowest
    consistent point is returned (it may already be the optimum, which the
    walk's first check confirms), or ``(w, hw)`` as given.
    """
    gradient = hw - linear
    violating = (w == 0) & (abs(gradient) > l1)
    support = ((w != 0) | violating).nonzero()[0]
    signs = np.where(violating, -np.sign(gradient), np.sign(w))[support]
    best = w, hw
    best_value = _objective(w, hw, linear, l1)
    for _ in range(_VIOLATOR_START_ROUNDS):
        if support.size == 0:
            break
        sub = _principal_submatrix(matrix, support)
        rhs = linear[support] - l1 * signs
        # Factored in place: the submatrix is a copy already, and its
        # transpose (the same symmetric matrix) is ordered as LAPACK's.
        solution, info = _POSV(sub.T, rhs, overwrite_a=True)[1:]
        del sub  # before the next round's copy
        if info != 0 or not np.isfinite(solution).all():
            break
        kept = np.sign(solution) == signs
        if not kept.all():
            support, signs = support[kept], signs[kept]
            continue
        point = np.zeros_like(w)
        point[support] = solution
        h_point = matrix @ point
        value = _objective(point, h_point, linear, l1)
        if value < best_value - 1e-12 * abs(best_value):
            best, best_value = (point, h_point), value
        gradient = h_point - linear
        off = abs(gradient) - l1
        off[support] = -np.inf
        joining = (off > 0).nonzero()[0]
        if joining.size == 0:
            break
        support = np.concatenate([support, joining])
        signs = np.concatenate([signs, -np.sign(gradient[joining])])
        order = support.argsort()
        support, signs = support[order], signs[order]
    return best


#: Rows of the matrix taken at a time by :func:`_principal_submatrix`.
_SUBMATRIX_ROWS = 32


def _principal_submatrix(matrix, index):
    """Return ``matrix[index][:, index]`` as a new array, for sorted ``index``.

    A support larger than a block is taken a block of rows at a time, so
    that its whole rows (as large as the result when the support is most of
    the set) are never held beside it.
    """
    size = index.size
    if size == matrix.shape[0]:
        return matrix.copy()  # sorted and unique: every row, in order
    if size <= _SUBMATRIX_ROWS:
        return matrix.take(index, 0).take(index, 1)
    sub = np.empty((size, size))
    rows = np.empty((_SUBMATRIX_ROWS, matrix.shape[1]))
    for start in range(0, size, _SUBMATRIX_ROWS):
        block = index[start : start + _SUBMATRIX_ROWS]
        # mode="clip" writes straight into ``out`` (the indices are valid):
        # with bounds checks NumPy gathers into a temporary first.
        taken = matrix.take(block, 0, out=rows[: block.size], mode="clip")
        taken.take(index, 1, out=sub[start : start + block.size], mode="clip")
    return sub


def _objective(w, hw, linear, l1):
    """The penalised quadratic at ``w`` (without constant), ``hw`` being ``H @ w``."""
    return float(w @ (0.5 * hw - linear) + l1 * abs(w).sum())


def _record(value, w):
    """The curves' entry of the iterate ``w`` whose objective is ``value``."""
    return value, float(w @ w), np.count_nonzero(w)


def _line_minimum(x, d, slope, curvature, l1):
    """The rate in [0, 1] minimising the objective along ``x + t d``; None if flat.

    The objective along the segment is ``slope * t + 0.5 * curvature * t**2
    + l1 * |x + t d|_1`` plus a constant: convex, with kinks where a weight
    crosses zero. Its derivative increases, so the minimum lies in the first
    piece where the derivative's zero falls before the piece's end.
    """
    if not curvature > 0:
        return None
    if not (x * (x + d) < 0).any():
        # No weight changes sign strictly inside the step (the common case):
        # the kinks computed below would all fall outside (0, 1).
        return 1.0
    moving = d != 0
    kinks = -x[moving] / d[moving]
    kinks = np.sort(kinks[(kinks > 0) & (kinks < 1)])
    if kinks.size == 0:
        # The signs hold along the whole step: its end is the minimum.
        return 1.0
    low = 0.0
    for high in [*kinks, 1.0]:
        middle = 0.5 * (low + high)
        kink_slope = l1 * float(np.sign(x + middle * d) @ d)
        rate = -(slope + kink_slope) / curvature
        if rate <= high:
            return max(rate, low)
        low = high
    return 1.0
