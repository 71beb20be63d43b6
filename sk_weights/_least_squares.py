"""The full-batch solver of penalised least squares, on sufficient statistics.

The linear model's objective

    (1 / sum(s)) * sum_i s_i * 0.5 * (y_i - x_i @ w - b)**2 + penalty(w)

depends on the data only through the weighted means of X and y and the
centred second moments ``G = Xc.T @ diag(s) @ Xc / sum(s)`` (d x d) and
``c = Xc.T @ diag(s) @ yc / sum(s)``. The intercept is the closed form
``b = y_mean - x_mean @ w``.

:func:`least_squares_statistics` reads X once, in row blocks of about 1 MiB,
for the means, ``c`` and ``G`` (or only its diagonal, when the solver will work
on a few features). Dense X is never copied nor centred: the raw moments
``X.T @ diag(s) @ X`` (symmetric rank-k updates on views of X) are centred by
the rank-one correction ``- x_mean x_mean^T``, unless some feature's mean is so
large against its spread that the correction would cancel digits; then each
block is centred before the product instead. With several BLAS threads, the
passes over X run on as many threads of their own, each on a single-threaded
BLAS (:meth:`_RowBlocks.reduce`).

:func:`solve_penalised_least_squares` then costs O(d**2) per iteration, whatever
the number of samples: FISTA with adaptive restart, whose iterate is *polished*
whenever its support settles (the linear system that the optimality conditions
give on that support is solved, and kept if it satisfies all of them), so the
optimum is exact to rounding and L1 zeros are exact zeros. With an L1 part and
many features it solves on a *working set* of features, for which alone
:class:`CentredGram` computes the entries of ``G`` (one pass over X), checks
the optimality conditions of every feature with one more pass (``G @ w``) and
adds the features that violate them, until none does: a sparse solution never
needs the whole Gram matrix. The iterations are tiny BLAS calls, run on one
thread: two BLAS threads only add synchronisation to them.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from sk_weights._active_set import ACTIVE_SET_MAX_SIZE, solve_small_quadratic
from sk_weights._penalties import l1_prox, optimality_violations
from sk_weights._statistics import compressed_bounds

try:  # a dependency of scikit-learn, so normally present
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover
    ThreadpoolController = None

#: Relative size of the optimality residual at which the solver stops.
OPTIMALITY_TOL = 1e-11

#: The error raised when the second moments of X overflow.
OVERFLOW_MESSAGE = (
    "The features are too large for their squares to be represented in "
    "floating point (the Gram matrix overflowed). Scale X, e.g. with "
    "sklearn.preprocessing.StandardScaler."
)

# Rows per block when reading X: about 1 MiB, so that the block one BLAS call
# has read is still in cache for the next.
_BLOCK_BYTES = 2**20

# Centring by the rank-one correction loses about log10(ratio) digits, where
# ratio is a feature's raw second moment over its variance; above this ratio
# the blocks are centred before the product instead.
_MAX_CANCELLATION = 16.0

# Working sets pay off when the Gram matrix is large: from this many features
# on, with an L1 part; they start with this many features.
_WORKING_SET_MIN_FEATURES = 256
_INITIAL_WORKING_SET = 64

# Passes over X in parallel cut the rows into this many ranges per thread,
# as long as their partial sums take at most this many bytes.
_RANGES_PER_THREAD = 4
_PARTIAL_SUMS_BYTES = 32 * 2**20

_controller = None


def _blas():
    """The BLAS libraries' thread controls, found once (that takes milliseconds)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


#: BLAS runs products of matrices with fewer entries on one thread anyway
#: (OpenBLAS splits a matrix-vector product from 2304 x 4 entries).
_THREADED_MIN_ENTRIES = 9216


def _single_blas_thread(entries=None):
    """Limit BLAS to one thread (a context manager).

    ``entries``: the size of the largest matrix of the products to come.
    Setting the limit and resetting it costs tens of microseconds, more than
    a whole solve on a few features, whose products BLAS does not split.
    """
    if ThreadpoolController is None:  # pragma: no cover
        return nullcontext()
    if entries is not None and entries < _THREADED_MIN_ENTRIES:
        return nullcontext()
    if _blas_threads() == 1:
        # Already one thread: setting the limit costs more than a small solve.
        return nullcontext()
    return _blas().limit(limits=1)


def _caller_blas_threads(threads):
    """Let BLAS use ``threads`` threads again (a context manager), for one
    product large enough to split, inside a :func:`_single_blas_thread`."""
    if ThreadpoolController is None or threads <= 1:  # pragma: no cover
        return nullcontext()
    return _blas().limit(limits=threads)


def _blas_threads():
    """The number of threads BLAS would use now (1 without threadpoolctl)."""
    if ThreadpoolController is None:  # pragma: no cover
        return 1
    return max([lib.num_threads for lib in _blas().lib_controllers], default=1)


def uses_working_sets(penalty, n_features):
    """Whether the solver works on a growing working set instead of all of G."""
    return penalty.has_prox and n_features >= _WORKING_SET_MIN_FEATURES


@dataclass
class LeastSquaresStatistics:
    """Weighted sufficient statistics of a least-squares problem."""

    gram: "CentredGram"  # the (d, d) centred, weighted second moment of X
    xy: np.ndarray  # (d, k) centred, weighted cross moment of X and y
    yy: np.ndarray  # (k,) centred, weighted second moment of y
    x_mean: np.ndarray  # (d,) zero when fit_intercept is False
    y_mean: np.ndarray  # (k,)
    x_scale: np.ndarray  # (d,) weighted standard deviation of each feature
    feature_mean: np.ndarray  # (d,) weighted mean of each feature, always


def least_squares_statistics(X, y, sample_weight, fit_intercept, penalty=None):
    """Compute :class:`LeastSquaresStatistics` in float64, reading X in row blocks.

    Unless ``penalty`` calls for working sets (see :func:`uses_working_sets`),
    the whole Gram matrix is computed in the same pass as the means; otherwise
    its entries are computed as the solver asks for them. Raises ValueError
    when the second moments of X overflow.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    y64 = np.asarray(y, dtype=np.float64)
    n_features, n_targets = X.shape[1], y64.shape[1]
    # Equal weights, the usual case, are factored out of every sum: no vector
    # of weights, no weighted copy of y.
    uniform = bool(np.all(weights == weights[0]))
    normalised = None if uniform else weights / weights.sum()

    def mean(values):
        return values.mean(axis=0) if uniform else normalised @ values

    y_mean = mean(y64) if fit_intercept else np.zeros(n_targets)
    yc = y64 - y_mean
    yy = (
        np.einsum("ij,ij->j", yc, yc) / len(yc)
        if uniform
        else np.einsum("i,ij,ij->j", normalised, yc, yc)
    )
    if sp.issparse(X):
        normalised = weights / weights.sum()
        return _sparse_statistics(X, yc, yy, y_mean, normalised, fit_intercept)

    blocks = _RowBlocks(X, normalised)
    whole = penalty is None or not uses_working_sets(penalty, n_features)
    # One pass: sum_i p_i x_i, sum_i p_i x_i yc_i, and sum_i p_i x_i x_i^T
    # (whole) or only its diagonal.
    targets = yc if uniform else normalised[:, np.newaxis] * yc
    targets = np.ascontiguousarray(targets.T)
    feature_mean, cross, raw = blocks.moments(targets, whole)
    raw_diag = np.diag(raw).copy() if whole else raw
    x_mean = feature_mean if fit_intercept else np.zeros(n_features)
    # sum_i p_i yc_i is zero up to rounding: subtract it for exact centring.
    xy = cross.T - np.outer(x_mean, mean(yc))
    if not (np.isfinite(raw_diag).all() and np.isfinite(xy).all()):
        raise ValueError(OVERFLOW_MESSAGE)

    variance = raw_diag - feature_mean**2
    correction = x_mean if fit_intercept else None
    if np.any(raw_diag > _MAX_CANCELLATION * variance):
        # Large means: centre each block before the products, again.
        whole_centred = whole and fit_intercept
        _, shifted, second = blocks.moments(targets, whole_centred, shift=feature_mean)
        variance = np.diag(second).copy() if whole_centred else second
        if fit_intercept:
            xy = shifted.T
            gram = CentredGram(blocks, shift=x_mean)
            if whole:
                gram.set_raw(second)
        else:
            gram = CentredGram(blocks)
            if whole:
                gram.set_raw(raw)
    else:
        gram = CentredGram(blocks, correction=correction)
        if whole:
            gram.set_raw(raw)
    x_scale = np.sqrt(np.maximum(variance, 0))
    return LeastSquaresStatistics(gram, xy, yy, x_mean, y_mean, x_scale, feature_mean)


def _sparse_statistics(X, yc, yy, y_mean, normalised, fit_intercept):
    """Statistics of sparse X: the whole Gram matrix by sparse products.

    Sparse X cannot be centred without densifying, so its Gram matrix is
    centred by the rank-one correction.
    """
    X = X if X.format == "csr" else X.tocsr()
    n_samples, n_features = X.shape
    matrix = np.zeros((n_features, n_features))
    feature_mean = np.zeros(n_features)
    xy = np.zeros((n_features, yc.shape[1]))
    # By blocks of rows, each with about an eighth of the stored values: the
    # products' copies (float64, weighted, transposed) are of a block, not X.
    bounds = compressed_bounds(X, parts=8, minimum=2**14)
    for start, stop in zip(bounds[:-1], bounds[1:]):
        block = X[start:stop].astype(np.float64, copy=False)
        weights = normalised[start:stop]
        weighted = sp.diags(weights) @ block
        matrix += (block.T @ weighted).toarray()
        feature_mean += block.T @ weights
        xy += weighted.T @ yc[start:stop]
    x_mean = feature_mean if fit_intercept else np.zeros(n_features)
    matrix -= np.outer(x_mean, x_mean)
    if not (np.isfinite(matrix).all() and np.isfinite(xy).all()):
        raise ValueError(OVERFLOW_MESSAGE)
    # diag(matrix) is the second moment about x_mean; subtract the rest of the mean.
    x_var = np.diag(matrix) - (feature_mean - x_mean) ** 2
    x_scale = np.sqrt(np.maximum(x_var, 0))
    gram = CentredGram(None)
    gram.matrix = matrix
    return LeastSquaresStatistics(gram, xy, yy, x_mean, y_mean, x_scale, feature_mean)


class _RowBlocks:
    """Passes over dense X in float64 row blocks, never copying X whole.

    A block is a view of X when X is C-contiguous float64 and nothing is
    subtracted; otherwise a block-sized buffer. Each pass sums weighted
    products over the blocks, in parallel threads when BLAS has several (see
    :meth:`reduce`).
    """

    def __init__(self, X, normalised):
        self.X = X
        n_samples, n_features = X.shape
        # None for equal weights: they are factored out of the products, by
        # which ``scale`` multiplies the sums, so no weighted copy is made.
        self.weights = normalised
        self.uniform = normalised is None
        self.scale = 1.0 / n_samples if self.uniform else 1.0
        self.rows = max(1, _BLOCK_BYTES // (8 * max(n_features, 1)))

    def blocks(self, shift, start, stop):
        """Yield ``(rows, block)``: float64, C-contiguous, ``shift`` subtracted."""
        buffer = None
        for first in range(start, stop, self.rows):
            rows = slice(first, min(first + self.rows, stop))
            block = self.X[rows]
            if shift is not None or block.dtype != np.float64:
                if buffer is None:
                    buffer = np.empty((self.rows, self.X.shape[1]))
                out = buffer[: rows.stop - rows.start]
                if shift is None:
                    out[...] = block
                else:
                    np.subtract(block, shift, out=out)
                block = out
            elif not block.flags.c_contiguous:
                block = np.ascontiguousarray(block)
            yield rows, block

    def reduce(self, task, shift=None, size=0):
        """Sum the tuples of arrays ``task(blocks)`` returns over all rows.

        With several threads the rows are cut into a few ranges per thread,
        handed out as threads become free, so that a thread the machine
        slows down takes fewer; the ranges' sums (``size`` bytes each) are
        added in range order, so the result depends on the thread count only.
        """
        n_samples = self.X.shape[0]
        threads = _blas_threads()
        n_ranges = min(
            threads * _RANGES_PER_THREAD,
            max(threads, _PARTIAL_SUMS_BYTES // max(size, 1)),
            n_samples // (4 * self.rows),
        )
        if threads == 1 or n_ranges <= 1:
            # Blocks are small products: more BLAS threads only stall.
            with _single_blas_thread(self.X.shape[0] * self.X.shape[1]):
                return task(self.blocks(shift, 0, n_samples))
        bounds = np.linspace(0, n_samples, n_ranges + 1).astype(int)
        ranges = list(zip(bounds[:-1], bounds[1:]))
        with _single_blas_thread(), ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(lambda r: task(self.blocks(shift, *r)), ranges))
        return tuple(sum(values[1:], values[0]) for values in zip(*parts))

    def moments(self, targets, whole, shift=None):
        """Return the weighted means of X, ``sum_i p_i x_i t_i`` and second moments.

        ``targets`` (shape (k, n_samples)) holds ``t_i``, weights included
        unless they are equal. The second moments are the whole
        ``sum_i p_i x_i x_i^T`` or only its diagonal. Matrix-vector products
        are faster than a matrix product with so few columns.
        """
        n_features = self.X.shape[1]

        def task(blocks):
            sums = np.zeros(n_features)
            cross = np.zeros((len(targets), n_features))
            if whole:
                second = np.zeros((n_features, n_features))
                scratch = np.empty_like(second)
            else:
                second = np.zeros(n_features)
            ones = np.ones(self.rows) if self.uniform else None
            for rows, block in blocks:
                if self.uniform:
                    sums += ones[: len(block)] @ block
                else:
                    sums += self.weights[rows] @ block
                for target, total in zip(targets, cross):
                    total += target[rows] @ block
                if whole:
                    self._rank_k_update(second, rows, block, scratch)
                elif self.uniform:
                    second += np.einsum("ij,ij->j", block, block)
                else:
                    second += self.weights[rows] @ (block * block)
            return sums, cross, second

        size = 8 * n_features * (1 + len(targets) + (n_features if whole else 1))
        sums, cross, second = self.reduce(task, shift, size)
        return sums * self.scale, cross * self.scale, second * self.scale

    def _rank_k_update(self, gram, rows, block, scratch):
        """Add ``block.T @ diag(p) @ block`` to gram (weights 1 when uniform).

        NumPy computes ``a.T @ a`` by a symmetric rank-k update (half the
        flops of a product) and, unlike SciPy's BLAS wrappers, releases the
        GIL meanwhile, so that row ranges run in parallel threads.
        """
        if not self.uniform:
            block = block * np.sqrt(self.weights[rows])[:, np.newaxis]
        gram += np.matmul(block.T, block, out=scratch)

    def gram(self, shift):
        """Return ``sum_i p_i (x_i - s)(x_i - s)^T``: a rank-k update per block."""
        n_features = self.X.shape[1]

        def task(blocks):
            gram = np.zeros((n_features, n_features))
            scratch = np.empty_like(gram)
            for rows, block in blocks:
                self._rank_k_update(gram, rows, block, scratch)
            return (gram,)

        return self.reduce(task, shift, 8 * n_features**2)[0] * self.scale

    def cross(self, left, right, shift):
        """Return ``sum_i p_i (x_i - s)[left] (x_i - s)[right]^T``, left in right.

        The ``right`` columns of each block are gathered once; a product of
        a set with itself is a rank-k update. A column or two instead take
        a matrix-vector product with the whole block, cheaper than a gather.
        """
        n_features = self.X.shape[1]
        weights = self.weights
        narrow = left.size <= 2 < right.size
        symmetric = left.size == right.size
        at = np.searchsorted(right, left)

        def task(blocks):
            if narrow:
                product = np.zeros((n_features, left.size))
            elif symmetric:
                product = np.zeros((left.size, left.size))
                scratch = np.empty_like(product)
            else:
                product = np.zeros((left.size, right.size))
            for rows, block in blocks:
                if narrow:
                    columns = block[:, left]
                    if not self.uniform:
                        columns *= weights[rows, np.newaxis]
                    product += block.T @ columns
                    continue
                gathered = block[:, right]
                if symmetric:
                    self._rank_k_update(product, rows, gathered, scratch)
                    continue
                chosen = gathered[:, at]
                if not self.uniform:
                    chosen *= weights[rows, np.newaxis]
                product += chosen.T @ gathered
            return (product,)

        product = self.reduce(task, shift)[0]
        if narrow:
            product = product[right].T
        return product * self.scale

    def product(self, coef, shift):
        """Return ``sum_i p_i (x_i - s)(x_i - s)^T coef`` for coef of shape (d, k)."""

        def task(blocks):
            product = np.zeros(coef.shape)
            for rows, block in blocks:
                projected = block @ coef
                if not self.uniform:
                    projected *= self.weights[rows, np.newaxis]
                product += block.T @ projected
            return (product,)

        return self.reduce(task, shift)[0] * self.scale


class CentredGram:
    """The centred, weighted Gram matrix G of X: whole, or entries on demand.

    Parameters
    ----------
    blocks : _RowBlocks or None
        The row-block reader of X (None when the matrix is set whole).
    correction : ndarray of shape (n_features,), optional
        ``x_mean``, to centre the raw moments by ``- x_mean x_mean^T``.
    shift : ndarray of shape (n_features,), optional
        Subtracted from every block before the products instead.
    """

    def __init__(self, blocks, correction=None, shift=None):
        self.matrix = None  # the whole matrix, once computed
        self._blocks = blocks
        self._correction = correction
        self._shift = shift
        # The entries among a set of features, for the working sets.
        self._index = np.zeros(0, dtype=np.intp)
        self._sub = np.zeros((0, 0))

    @property
    def lazy(self):
        """Whether the whole matrix is still to be computed."""
        return self.matrix is None

    def set_raw(self, raw):
        """Set the whole matrix from the raw moments ``sum_i p_i x_i x_i^T``."""
        if self._correction is not None:
            raw -= np.outer(self._correction, self._correction)
        self.matrix = self._checked(raw)

    def full(self):
        """Return the whole (d, d) matrix (not a copy)."""
        if self.matrix is None:
            self.set_raw(self._blocks.gram(self._shift))
        return self.matrix

    def submatrix(self, index):
        """Return ``G[index][:, index]`` for sorted ``index``, in one pass at most."""
        if self.matrix is not None:
            return self.matrix[np.ix_(index, index)]
        new = np.setdiff1d(index, self._index)
        if new.size:
            # G[new, index] in one pass; the entries among the old features
            # are kept from the previous calls.
            rows = self._blocks.cross(new, index, self._shift)
            if self._correction is not None:
                rows -= np.outer(self._correction[new], self._correction[index])
            self._checked(rows)
            old = np.isin(index, self._index)
            sub = np.empty((index.size, index.size))
            position = np.searchsorted(self._index, index[old])
            sub[np.ix_(old, old)] = self._sub[np.ix_(position, position)]
            at_new = np.searchsorted(index, new)
            sub[at_new, :] = rows
            sub[:, at_new] = rows.T
            self._index, self._sub = index, sub
        position = np.searchsorted(self._index, index)
        return self._sub[np.ix_(position, position)]

    def product(self, coef):
        """Return ``G @ coef``, by a pass over X unless G is known whole."""
        if self.matrix is not None:
            return self.matrix @ coef
        product = self._blocks.product(coef[:, np.newaxis], self._shift)[:, 0]
        if self._correction is not None:
            product -= self._correction * (self._correction @ coef)
        return product

    @staticmethod
    def _checked(matrix):
        if not np.isfinite(matrix).all():
            raise ValueError(OVERFLOW_MESSAGE)
        return matrix


@dataclass
class SolverResult:
    """Coefficients per target and how the solver got there."""

    coef: np.ndarray  # (k, d)
    n_iter: int
    converged: bool
    loss_curve: list  # the objective per iteration, summed over targets
    weight_norms: list  # the Frobenius norm of the (k, d) weights per iteration
    zero_fractions: list  # their fraction of exact zeros per iteration


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
        The curves hold one entry per iteration of the longest-running target.
    """
    n_features, n_targets = stats.xy.shape
    coef = np.zeros((n_targets, n_features))
    curves, n_iter, converged = [], 0, True
    for k in range(n_targets):
        start = np.zeros(n_features) if coef_init is None else coef_init[k]
        linear = stats.xy[:, k]
        if stats.gram.lazy and penalty.has_prox:
            solve = _solve_working_set
        else:
            solve = _solve_whole
        coef[k], iters, ok, curve = solve(stats.gram, linear, penalty, start, max_iter)
        n_iter = max(n_iter, iters)
        converged &= ok
        curve = np.array(curve, dtype=np.float64).reshape(-1, 3)
        curve[:, 0] += 0.5 * stats.yy[k]
        curves.append(curve)
    return SolverResult(coef, n_iter, converged, *combine_curves(curves, n_features))


def combine_curves(curves, n_features):
    """Sum per-target records ``(objective, sum w**2, nonzeros)`` into the curves.

    A target that finished early keeps its last record. Returns the objective,
    the Frobenius norm of the weights and their zero fraction, per iteration.
    """
    length = max(len(c) for c in curves)
    if len(curves) == 1:
        total = curves[0]
    else:
        total = sum(
            np.pad(c, ((0, length - len(c)), (0, 0)), mode="edge") for c in curves
        )
    size = len(curves) * n_features
    zero_fraction = 1.0 - total[:, 2] / size if size else np.zeros(length)
    return (
        [float(v) for v in total[:, 0]],
        [float(v) for v in np.sqrt(total[:, 1])],
        [float(v) for v in zero_fraction],
    )


def _tolerance(linear, l1):
    """Absolute optimality tolerance: OPTIMALITY_TOL relative to the problem."""
    scale = max(np.abs(linear).max(initial=0.0), l1, np.finfo(float).tiny)
    return OPTIMALITY_TOL * scale


def _solve_whole(gram, linear, penalty, start, max_iter):
    """Solve on the whole Gram matrix."""
    hessian = gram.full() + penalty.l2 * np.eye(linear.size)
    with _single_blas_thread(linear.size**2):
        return _solve_one(
            DenseQuadratic(hessian),
            linear,
            penalty.l1,
            start,
            max_iter,
            _tolerance(linear, penalty.l1),
            penalty.positive,
        )


def _solve_working_set(gram, linear, penalty, start, max_iter):
    """Solve on a growing working set of features; see the module doc.

    Starts from the features of ``start``'s support and those most correlated
    with the target, solves exactly on them, and adds the features whose
    optimality condition fails (at most doubling the set) until none does.
    Once the set would hold half the features, solves on the whole matrix.
    """
    n_features = linear.size
    l1, l2 = penalty.l1, penalty.l2
    tolerance = _tolerance(linear, l1)
    work = _initial_working_set(linear, start, l1, penalty.positive)
    coef = np.zeros(n_features)
    coef[work] = start[work]
    curve, n_iter = [], 0
    while True:
        hessian = gram.submatrix(work)
        hessian[np.diag_indices_from(hessian)] += l2
        with _single_blas_thread(len(work) ** 2):
            solution, iters, ok, sub_curve = _solve_one(
                DenseQuadratic(hessian),
                linear[work],
                l1,
                coef[work],
                max_iter - n_iter,
                tolerance,
                penalty.positive,
            )
        n_iter += iters
        curve += sub_curve
        coef[:] = 0
        coef[work] = solution
        if not ok:
            return coef, n_iter, False, curve
        # Off the working set the weights are 0: optimal iff |gradient| <= l1.
        violation = linear - gram.product(coef)
        if not penalty.positive:
            np.abs(violation, out=violation)
        violation -= l1
        violation[work] = -np.inf
        outside = np.flatnonzero(violation > tolerance)
        if outside.size == 0:
            return coef, n_iter, True, curve
        if n_iter >= max_iter:
            return coef, n_iter, False, curve
        worst = outside[np.argsort(-violation[outside], kind="stable")]
        work = np.union1d(work, worst[: max(work.size, 1)])
        if 2 * work.size > n_features:
            whole = _solve_whole(gram, linear, penalty, coef, max_iter - n_iter)
            return whole[0], n_iter + whole[1], whole[2], curve + whole[3]


def _initial_working_set(linear, start, l1, positive=False):
    """The support of ``start`` and the features most correlated with the target.

    A feature whose correlation ``|linear_j|`` is at most ``l1`` is optimal
    at zero while the others are zero, so it is left out at first (with
    ``positive``: whose ``linear_j`` is at most ``l1``).
    """
    size = min(linear.size, max(_INITIAL_WORKING_SET, 2 * np.count_nonzero(start)))
    score = linear.copy() if positive else np.abs(linear)
    score[start != 0] = np.inf
    best = np.argsort(-score, kind="stable")[:size]
    return np.sort(best[score[best] > l1])


class DenseQuadratic:
    """The quadratic term ``H`` of the sub-problems, as an explicit matrix.

    :func:`_solve_one` asks it for products, its largest eigenvalue and
    solutions of its systems on a support; a matrix-free term (on columns of
    X) answers the same questions.
    """

    #: Polish every new sign pattern: a solve costs little against a product.
    patient = False
    #: Systems are solved directly: a start near the solution gains nothing.
    iterative = False

    def __init__(self, matrix):
        self.matrix = matrix
        self.estimate = None  # the curvature FISTA last stepped with

    def product(self, v):
        """Return ``H @ v``."""
        return self.matrix @ v

    def curvature_estimate(self):
        """FISTA's curvature: the largest eigenvalue (never too small)."""
        if self.estimate is None:
            self.estimate = self.largest_eigenvalue()
        return self.estimate

    def largest_eigenvalue(self):
        """Return the largest eigenvalue of H (0 when it is empty)."""
        n = self.matrix.shape[0]
        if n == 0:
            return 0.0
        if n > _LANCZOS_MIN_SIZE:
            # Large: a few Lanczos steps instead of a full tridiagonalisation.
            return _lanczos_largest(self.matrix)
        return float(la.eigvalsh(self.matrix, subset_by_index=[n - 1, n - 1])[0])

    def solve_on(self, support, rhs, tolerance):
        """Solve ``H[support][:, support] w = rhs`` (least squares if singular).

        Directly, to rounding: ``tolerance`` (the caller's) is not needed.
        """
        system = self.matrix[np.ix_(support, support)]
        try:
            with warnings.catch_warnings():
                # An ill-conditioned system is fine: the caller checks the result.
                warnings.simplefilter("ignore", la.LinAlgWarning)
                return la.solve(system, rhs, assume_a="pos", check_finite=False)
        except (la.LinAlgError, ValueError):
            if support.size > _LSTSQ_MAX_SIZE:
                # Singular and large: an SVD costs more than further
                # first-order steps, which find another pattern.
                return None
            return la.lstsq(system, rhs, check_finite=False)[0]


#: A step backtracks when the curvature along it exceeds the estimate by more
#: than this share (less is rounding in the products near the optimum).
_BACKTRACK_SLACK = 1e-4

#: About the products an iterative term's exact solve on a support costs
#: (a copy of its columns, conjugate-gradient steps, a check).
_SOLVE_PRODUCTS = 10

#: Singular support systems up to this size are solved by least squares.
_LSTSQ_MAX_SIZE = 256

#: Explicit matrices above this size get their largest eigenvalue by Lanczos.
_LANCZOS_MIN_SIZE = 96


def _lanczos_largest(matrix):
    """An upper bound of the largest eigenvalue of a symmetric matrix, by Lanczos."""
    from scipy.sparse.linalg import eigsh

    size = matrix.shape[0]
    value = eigsh(
        matrix,
        k=1,
        which="LA",
        tol=1e-4,
        ncv=min(size, 12),
        maxiter=10 * size,
        v0=np.ones(size),
        return_eigenvectors=False,
    )[0]
    # Lanczos approaches from below; a step of 1 / L must not overshoot.
    return float(value) * (1 + 1e-3)


def _solve_one(
    hessian, linear, l1, start, max_iter, tolerance, positive=False, polish=True
):
    """Minimise ``0.5 w^T H w - linear^T w + l1 * |w|_1`` by FISTA with polishing.

    With ``positive`` the weights are held at or above zero (the proximal
    step projects).

    ``hessian`` is a :class:`DenseQuadratic` or a term with the same methods.
    The iterate is polished on its sign pattern when the pattern is new (or,
    for a ``patient`` term, when it is also the pattern of the previous check,
    the start's pattern before the first); never with ``polish=False``.

    The gradient is linear, so the iterate's product ``H @ x`` gives both the
    objective and the look-ahead's gradient: one matrix-vector product per
    iteration. The step is ``1 / L`` for the term's curvature estimate ``L``
    (exact for an explicit matrix; for a matrix-free one an estimate from
    below, cheap against Lanczos' tens of products): when a step shows a
    larger curvature along it, ``L`` grows and the step is taken again
    (backtracking, which keeps FISTA's guarantee). Returns the coefficients,
    the iterations run, whether the optimality conditions hold, and per
    iteration the objective (without constant), the squared norm of the
    weights and their number of nonzeros.
    """
    small = isinstance(hessian, DenseQuadratic) and linear.size <= ACTIVE_SET_MAX_SIZE
    if small and not positive:
        # Small explicit matrices: the exact active-set walk, when it can.
        walked = solve_small_quadratic(
            hessian.matrix, linear, l1, start, max_iter, tolerance
        )
        if walked is not None:
            return walked
    lipschitz = hessian.curvature_estimate()
    if lipschitz <= 0:
        # X is constant (or no feature is left): every coefficient is 0.
        return np.zeros_like(linear), 0, True, [(0.0, 0.0, 0)]

    def record(w, hw):
        # The objective (without constant), sum w**2 and the nonzeros.
        half = np.multiply(hw, 0.5)
        half -= linear
        value = float(w @ half) + l1 * float(np.abs(w).sum())
        return value, float(w @ w), np.count_nonzero(w)

    x = start.copy()
    hx = hessian.product(x)
    lookahead, h_lookahead = x, hx
    t = 1.0
    curve, tried = [], set()
    # The start's pattern counts as the check before the first: a patient
    # term polishes at iteration 1 only if the first step kept it.
    last = hash(np.sign(start).tobytes())
    # The optimality residual and iteration of the last pattern check.
    checked = (np.inf, 0)
    # The vectors of the set's size are computed in place where a temporary
    # would do (the same operations in the same order): on a weak penalty the
    # set is X itself, and each vector is one of n_features.
    for iteration in range(1, max_iter + 1):
        while True:
            step = 1.0 / lipschitz
            # new = lookahead - step * (h_lookahead - linear)
            new = np.subtract(h_lookahead, linear)
            new *= step
            np.subtract(lookahead, new, out=new)
            l1_prox(new, step * l1, positive)
            h_new = hessian.product(new)
            # The step is safe if H's curvature along it is at most lipschitz
            # (the descent lemma). An estimate from below shows itself here:
            # raise it (to this curvature, by half at least) and step again.
            move = new - lookahead
            squared = float(move @ move)
            curved = float(move @ (h_new - h_lookahead))
            del move
            # (A step whose squared length underflows is safe: it moves nothing.)
            if not (
                squared > 0 and curved > (1 + _BACKTRACK_SLACK) * lipschitz * squared
            ):
                break
            lipschitz = max(curved / squared, 1.5 * lipschitz)
            hessian.estimate = lipschitz  # kept for the next working set
        curve.append(record(new, h_new))
        residual = _optimality_residual(
            new, h_new - linear, l1, positive, overwrite=True
        )
        if iteration == 1 or iteration % 5 == 0:
            pattern = np.sign(new)
            key = hash(pattern.tobytes())  # a number: patterns can be long
            stable = key == last or not hessian.patient
            last = key
            if (
                polish
                and stable
                and key not in tried
                and not _finishing(hessian, residual, iteration, checked, tolerance)
            ):
                tried.add(key)
                exact = _polish(
                    hessian, linear, l1, pattern, tolerance, positive, (new, h_new)
                )
                if exact is not None:
                    curve.append(record(exact, hessian.product(exact)))
                    return exact, iteration, True, curve
            checked = (residual, iteration)
        if residual <= tolerance:
            return new, iteration, True, curve
        step_taken = new - x
        if np.dot(lookahead - new, step_taken) > 0:
            # The momentum points uphill: drop it and restart from the iterate.
            t = 1.0
            lookahead, h_lookahead = new, h_new
        else:
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_next
            # lookahead = new + beta * step_taken
            step_taken *= beta
            step_taken += new
            lookahead = step_taken
            # h_lookahead = h_new + beta * (h_new - hx)
            h_lookahead = np.subtract(h_new, hx)
            h_lookahead *= beta
            h_lookahead += h_new
            t = t_next
        x, hx = new, h_new
    return x, max_iter, False, curve


def _finishing(hessian, residual, iteration, checked, tolerance):
    """Whether FISTA, at its pace since the last check, meets ``tolerance``
    within the products an iterative term's exact solve would cost.

    On a well-conditioned set (one-hot columns) the residual falls tenfold
    every two or three steps, and the solve's copy of the support's columns
    and its conjugate-gradient steps cost more than the steps left.
    """
    if not hessian.iterative or not np.isfinite(checked[0]):
        return False
    steps = iteration - checked[1]
    if not (steps > 0 and 0 < residual < checked[0]):
        return False
    rate = (residual / checked[0]) ** (1.0 / steps)
    return np.log(tolerance / residual) / np.log(rate) <= _SOLVE_PRODUCTS


def _optimality_residual(w, grad, l1, positive=False, overwrite=False):
    """Largest violation of the optimality conditions at ``w``.

    See :func:`~sk_weights._penalties.optimality_violations`. With
    ``overwrite`` the violations are computed in ``grad`` itself (a
    temporary of the caller's), without a copy of it.
    """
    violations = optimality_violations(
        grad if overwrite else grad.copy(), w, l1, positive
    )
    return float(violations.max(initial=0.0))


def _polish(hessian, linear, l1, pattern, tolerance, positive=False, near=None):
    """Solve the optimality conditions on the sign pattern; None if they fail.

    On the support S with signs sigma the optimum solves
    ``H_SS w_S = linear_S - l1 * sigma_S``; the candidate is accepted only if
    (with an L1 part) its signs agree with ``sigma`` and every condition holds
    to ``tolerance``. ``near``: ``(w, H w)`` for a point ``w`` whose support
    is S; an iterative solver then solves for the step from it (the same
    system, with a residual that starts small).
    """
    support = np.flatnonzero(pattern)
    candidate = np.zeros_like(linear)
    step_from = near if hessian.iterative else None
    if support.size:
        rhs = linear[support] - l1 * pattern[support]
        if step_from is not None:
            rhs -= step_from[1][support]
        solution = hessian.solve_on(support, rhs, tolerance)
        if solution is None:
            return None
        if step_from is not None:
            solution += step_from[0][support]
        if (l1 or positive) and np.any(np.sign(solution) != pattern[support]):
            return None
        candidate[support] = solution
    gradient = hessian.product(candidate) - linear
    residual = _optimality_residual(candidate, gradient, l1, positive, overwrite=True)
    if not np.isfinite(residual) or residual > tolerance:
        return None
    return candidate
