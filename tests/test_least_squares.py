"""Tests of the full-batch solvers: the Gram matrix, working sets, solving on X."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import enet_objective, logistic_regression
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from threadpoolctl import threadpool_limits

from sk_weights import WeightedLinearClassifier, WeightedLinearRegressor
from sk_weights import _full_batch as full_batch
from sk_weights import _least_squares as core
from sk_weights._datafits import BinaryLogLoss
from sk_weights._penalties import ElasticNetPenalty

rng = np.random.default_rng(0)


def centred_gram(X, weights, fit_intercept=True):
    """The centred, weighted Gram matrix computed directly, in one line of NumPy."""
    p = weights / weights.sum()
    Xc = X - p @ X if fit_intercept else X
    return Xc.T @ (p[:, np.newaxis] * Xc)


def wide_sparse_problem(n_samples=400, n_features=300, n_informative=8):
    """A problem with enough features for the working sets and a sparse optimum."""
    return make_regression(
        n_samples, n_features, n_informative=n_informative, noise=1.0, random_state=0
    )


def assert_lasso_optimum(model, X, y, alpha):
    """Assert that an L1 fit reaches the objective of Lasso's tight solution
    (to a relative 1e-10) with the same zeros."""
    oracle = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, y)
    ours = enet_objective(X, y, model.coef_, model.intercept_, alpha, 1.0)
    theirs = enet_objective(X, y, oracle.coef_, oracle.intercept_, alpha, 1.0)
    assert ours <= theirs * (1 + 1e-10)
    np.testing.assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)


@pytest.fixture
def small_blocks(monkeypatch):
    """Read X in blocks of a few rows, so that small data spans many blocks."""
    monkeypatch.setattr(core, "_BLOCK_BYTES", 8 * 300 * 7)


@pytest.mark.parametrize("offset", [0.0, 1e4])  # 1e4: centred block by block
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_entries_match_numpy(
    monkeypatch, small_blocks, offset, weighted, threads, fit_intercept
):
    """Check the whole matrix, sub-matrices, products and statistics against NumPy."""
    monkeypatch.setattr(core, "_WORKING_SET_MIN_FEATURES", 10)
    X = rng.normal(size=(150, 40)) * rng.uniform(0.5, 3, size=40) + offset
    y = rng.normal(size=(150, 2))
    weights = rng.uniform(0.2, 2, size=150) if weighted else np.ones(150)
    expected = centred_gram(X, weights, fit_intercept)
    scale = np.abs(expected).max()
    lasso = ElasticNetPenalty(l1=0.1)
    p = weights / weights.sum()
    with threadpool_limits(threads):
        whole = core.least_squares_statistics(X, y, weights, fit_intercept)
        lazy = core.least_squares_statistics(X, y, weights, fit_intercept, lasso)
        assert lazy.gram.lazy
        np.testing.assert_allclose(whole.gram.full(), expected, atol=1e-12 * scale)
        index = np.array([1, 5, 6, 30])
        sub = expected[np.ix_(index, index)]
        np.testing.assert_allclose(lazy.gram.submatrix(index), sub, atol=1e-12 * scale)
        # Growing the set reuses the old entries and computes the new ones:
        # three at once (gathered), then one (by whole columns).
        for grown in ([0, 1, 5, 6, 7, 30, 39], [0, 1, 5, 6, 7, 22, 30, 39]):
            np.testing.assert_allclose(
                lazy.gram.submatrix(np.array(grown)),
                expected[np.ix_(grown, grown)],
                atol=1e-12 * scale,
            )
        coef = rng.normal(size=40)
        np.testing.assert_allclose(
            lazy.gram.product(coef), expected @ coef, atol=1e-11 * scale
        )
        assert lazy.gram.lazy
        np.testing.assert_allclose(lazy.gram.full(), expected, atol=1e-12 * scale)
    std = np.sqrt(p @ (X - p @ X) ** 2)
    for stats in (whole, lazy):
        np.testing.assert_allclose(stats.x_scale, std, rtol=1e-10)
        y_mean = p @ y if fit_intercept else np.zeros(2)
        x_mean = p @ X if fit_intercept else np.zeros(40)
        xy = (X - x_mean).T @ (p[:, np.newaxis] * (y - y_mean))
        np.testing.assert_allclose(stats.xy, xy, rtol=1e-10, atol=1e-12)


def test_x_is_read_in_place_and_float32_or_fortran_x_in_blocks(small_blocks):
    """Check that float32 and Fortran-ordered X give the statistics of C float64 X."""
    X = rng.normal(size=(100, 30)).astype(np.float32)
    y = rng.normal(size=(100, 1))
    weights = np.ones(100)
    reference = core.least_squares_statistics(X.astype(np.float64), y, weights, True)
    for variant in (X, np.asfortranarray(X.astype(np.float64))):
        stats = core.least_squares_statistics(variant, y, weights, True)
        np.testing.assert_allclose(stats.gram.full(), reference.gram.full(), rtol=1e-12)
        np.testing.assert_allclose(stats.xy, reference.xy, rtol=1e-12)


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_working_sets_reach_lasso_optimum(offset):
    """Check the working-set solver against Lasso: objective, weights, exact zeros."""
    X, y = wide_sparse_problem()
    X = X + offset
    assert core.uses_working_sets(ElasticNetPenalty(l1=1.0), X.shape[1])
    model = WeightedLinearRegressor(penalty="l1", alpha=1.0).fit(X, y)
    oracle = Lasso(alpha=1.0, tol=1e-14, max_iter=100_000).fit(X, y)
    ours = enet_objective(X, y, model.coef_, model.intercept_, 1.0, 1.0)
    theirs = enet_objective(X, y, oracle.coef_, oracle.intercept_, 1.0, 1.0)
    assert ours <= theirs * (1 + 1e-10)
    np.testing.assert_allclose(model.coef_, oracle.coef_, atol=1e-6)
    np.testing.assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)
    assert 0 < np.count_nonzero(model.coef_) < 50
    assert model.loss_curve_[-1] == pytest.approx(ours, rel=1e-10)


def test_working_sets_grow_to_a_dense_optimum():
    """Check a mostly-L2 elastic net whose optimum uses most features, with weights."""
    X, y = make_regression(400, 300, n_informative=250, noise=1.0, random_state=1)
    weights = rng.uniform(0.1, 3, size=len(y))
    model = WeightedLinearRegressor(penalty="elasticnet", alpha=0.5, l1_ratio=0.05)
    model.fit(X, y, sample_weight=weights)
    oracle = ElasticNet(alpha=0.5, l1_ratio=0.05, tol=1e-14, max_iter=100_000)
    oracle.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, oracle.coef_, atol=1e-6)
    np.testing.assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)
    assert np.count_nonzero(model.coef_) > 150


def test_working_sets_with_many_targets_and_warm_start():
    """Check 2-D y against per-target fits, and that a warm start needs no work."""
    X, y = wide_sparse_problem()
    Y = np.column_stack([y, X[:, 3] - 2 * X[:, 7]])
    model = WeightedLinearRegressor(penalty="l1", alpha=0.1, warm_start=True).fit(X, Y)
    for k in range(2):
        single = WeightedLinearRegressor(penalty="l1", alpha=0.1).fit(X, Y[:, k])
        np.testing.assert_allclose(model.coef_[k], single.coef_, rtol=1e-10, atol=1e-12)
    first = model.coef_.copy()
    model.fit(X, Y)
    np.testing.assert_allclose(model.coef_, first, atol=1e-12)
    # One check of the optimality conditions, and at most one round of
    # working sets to mop up rounding.
    assert model.n_iter_ <= 2


def test_an_optimum_at_zero_needs_no_gram_entries():
    """Check that a penalty above every correlation gives zeros without a Gram pass."""
    X, y = wide_sparse_problem()
    stats = core.least_squares_statistics(
        X, y[:, np.newaxis], np.ones(len(y)), True, ElasticNetPenalty(l1=1e6)
    )
    result = core.solve_penalised_least_squares(stats, ElasticNetPenalty(l1=1e6), 100)
    assert np.all(result.coef == 0) and result.converged
    assert stats.gram.lazy


def test_thread_count_changes_only_rounding_and_runs_repeat_exactly(small_blocks):
    """Check that 1 and 2 threads agree to rounding, and repeated fits exactly."""
    X, y = wide_sparse_problem()
    fits = {}
    for threads in (1, 2, 2):
        with threadpool_limits(threads):
            model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
        fits.setdefault(threads, []).append(model.coef_)
    np.testing.assert_array_equal(fits[2][0], fits[2][1])
    np.testing.assert_allclose(fits[1][0], fits[2][0], rtol=1e-9, atol=1e-12)


def test_ridge_on_large_means_matches_oracle():
    """Check that features with huge means (centred in blocks) still give Ridge."""
    X, y = make_regression(300, 20, noise=1.0, random_state=0)
    X = X + 1e6
    model = WeightedLinearRegressor(alpha=0.01).fit(X, y)
    oracle = Ridge(alpha=0.01 * len(y), tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, oracle.coef_, rtol=1e-7)


def test_huge_features_raise_on_the_working_set_path():
    """Check that overflowing squares raise with L1 and many features too."""
    X, y = wide_sparse_problem()
    with pytest.raises(ValueError, match="StandardScaler"):
        WeightedLinearRegressor(penalty="l1").fit(X * 1e300, y)


# -- the choice between the Gram matrix and X, and the solvers on X ------------


def ridge_closed_form(X, y, alpha, sample_weight, fit_intercept):
    """The L2 optimum from the centred, weighted normal equations (dense NumPy)."""
    p = sample_weight / sample_weight.sum()
    x_mean = p @ X if fit_intercept else np.zeros(X.shape[1])
    y_mean = p @ y if fit_intercept else np.zeros(y.shape[1:])
    Xc = X - x_mean
    hessian = Xc.T @ (p[:, np.newaxis] * Xc) + alpha * np.eye(X.shape[1])
    coef = np.linalg.solve(
        hessian, Xc.T @ (p[:, np.newaxis] * (y - y_mean).reshape(len(y), -1))
    )
    return coef.T, y_mean - coef.T @ x_mean


@pytest.fixture(params=["gram", "x"])
def method(request, monkeypatch):
    """Force one of the two full-batch methods, whatever the data's shape."""
    monkeypatch.setattr(full_batch, "choose_method", lambda X: request.param)
    return request.param


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_both_methods_reach_the_optimum_of_sklearn(
    method, sparse, weighted, fit_intercept, penalty
):
    """Check both methods against ElasticNet / Lasso or the normal equations.

    The relative gap of the specification's objective is at most 1e-8 and the
    exact zeros are those of the reference, on dense and sparse X, with and
    without sample weights and intercept, for one and two targets.
    """
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 90)) * (rng.uniform(size=(60, 90)) < 0.3) + 0.5
    true = np.zeros((2, 90))
    true[:, :6] = rng.normal(size=(2, 6)) * 3
    Y = X @ true.T + rng.normal(size=(60, 2))
    weights = rng.uniform(0.2, 3, size=60) if weighted else np.ones(60)
    alpha, l1_ratio = {"l1": (0.1, 1.0), "elasticnet": (0.2, 0.5), "l2": (0.05, 0.0)}[
        penalty
    ]
    data = sp.csr_matrix(X) if sparse else X
    model = WeightedLinearRegressor(
        penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept
    ).fit(data, Y, sample_weight=weights if weighted else None)
    assert model.solver_ == method
    if penalty == "l2":
        ref_coef, ref_intercept = ridge_closed_form(X, Y, alpha, weights, fit_intercept)
    else:
        reference = ElasticNet(
            alpha=alpha,
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            tol=1e-15,
            max_iter=100_000,
        ).fit(X, Y, sample_weight=weights)
        ref_coef, ref_intercept = reference.coef_, reference.intercept_
    ours = enet_objective(X, Y, model.coef_, model.intercept_, alpha, l1_ratio, weights)
    theirs = enet_objective(X, Y, ref_coef, ref_intercept, alpha, l1_ratio, weights)
    assert ours <= theirs * (1 + 1e-8)
    np.testing.assert_array_equal(model.coef_ == 0, ref_coef == 0)
    if penalty != "l2":
        assert 0 < np.count_nonzero(model.coef_) < 90
    assert model.loss_curve_[-1] == pytest.approx(ours, rel=1e-9)


def test_choice_rule_picks_x_for_wide_and_sparse_data_and_the_gram_for_tall():
    """Check the documented rule on the shapes it names, and solver_."""
    rng = np.random.default_rng(0)
    tall = rng.normal(size=(400, 20))
    wide = rng.normal(size=(50, 400))
    sparse_tall = sp.random(5000, 2000, density=0.002, format="csr", random_state=0)
    assert full_batch.choose_method(tall) == "gram"
    assert full_batch.choose_method(tall[:30]) == "x"  # fewer than 2 rows per feature
    assert full_batch.choose_method(wide) == "x"
    # More rows than features, but the 2000 x 2000 Gram matrix is far larger than X.
    assert full_batch.choose_method(sparse_tall) == "x"
    # float32 X is half the bytes: the Gram matrix needs 4 rows per feature.
    assert full_batch.choose_method(tall[:60].astype(np.float32)) == "x"
    y = rng.normal(size=400)
    assert WeightedLinearRegressor().fit(tall, y).solver_ == "gram"
    assert WeightedLinearRegressor(penalty="l1").fit(wide, y[:50]).solver_ == "x"
    stochastic = WeightedLinearRegressor(solver="sgd", max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert stochastic.fit(tall, y).solver_ == "sgd"


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_sparse_x_is_never_densified(penalty):
    """Check that a wide sparse fit allocates far less than a dense copy of X.

    The dense copy would take 160 MB and the Gram matrix 3.2 GB; tracemalloc
    sees NumPy's and SciPy's allocations.
    """
    X = sp.random(1000, 20_000, density=0.002, format="csr", random_state=0)
    rng = np.random.default_rng(0)
    y = X[:, :30] @ rng.normal(size=30) + 0.01 * rng.normal(size=1000)
    x_bytes = full_batch.data_bytes(X)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model = WeightedLinearRegressor(penalty=penalty, alpha=1e-4).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert model.solver_ == "x"
    # O(n_samples + n_features): some float64 vectors of each length (the
    # conjugate gradients keep about a dozen) beside a fraction of X; a
    # dense copy would be fifty times more.
    assert peak < 0.5 * x_bytes + 16 * 8 * sum(X.shape)
    assert peak < 0.02 * 8 * X.shape[0] * X.shape[1]


def test_wide_sparse_fit_holds_a_few_vectors_of_n_features():
    """Check the peak memory of a wide sparse L1 fit, in float64 vectors of
    n_features: the weights, the features' scales, and the violations with
    their partition; the features' means are not held through the solve
    (the records take them after it)."""
    X = sp.random(2000, 40_000, density=0.0005, format="csr", random_state=0)
    y = X[:, :30] @ rng.normal(size=30) + 0.01 * rng.normal(size=2000)
    model = WeightedLinearRegressor(penalty="l1", alpha=1e-4)
    model.fit(X, y)  # warm up the imports
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak < 4.75 * 8 * X.shape[1]
    np.testing.assert_allclose(model.feature_mean_, np.asarray(X.mean(axis=0))[0])
    # The variance is taken a block of 8192 features at a time.
    squares = np.asarray(X.multiply(X).mean(axis=0))[0]
    std = np.sqrt(squares - model.feature_mean_**2)
    np.testing.assert_allclose(model.feature_std_, std, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("form", ["csr", "csc"])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_sparse_l1_fits_take_the_moments_once_after_the_solve(form, task, monkeypatch):
    """Check that a sparse working-set fit computes the features' means and
    scales once, after its solve (which holds neither vector), on X with
    more columns than rows too, and that the records take the means from
    there (no pass of their own): NumPy's means and standard deviations."""
    import sk_weights._base as base

    events = []

    def spy(name, function):
        def wrapped(*args, **kwargs):
            events.append(name)
            return function(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(
        full_batch, "_solve_working_sets", spy("solve", full_batch._solve_working_sets)
    )
    monkeypatch.setattr(
        full_batch.DataOperator,
        "moments",
        spy("moments", full_batch.DataOperator.moments),
    )
    monkeypatch.setattr(
        base, "weighted_feature_mean", spy("records", base.weighted_feature_mean)
    )
    X = sp.random(150, 400, density=0.05, format=form, random_state=0)
    y = np.asarray(X[:, :10] @ rng.normal(size=10)).ravel()
    if task == "regression":
        model = WeightedLinearRegressor(penalty="l1", alpha=1e-4).fit(X, y)
    else:
        model = WeightedLinearClassifier(penalty="l1", alpha=1e-3)
        model.fit(X, y > np.median(y))
    assert model.solver_ == "x"
    assert events == ["solve", "moments"]
    dense = X.toarray()
    np.testing.assert_allclose(model.feature_mean_, dense.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(model.feature_std_, dense.std(axis=0), atol=1e-15)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_sparse_x_whose_squares_overflow_is_refused_before_any_solve(sign, monkeypatch):
    """Check that sparse X with a stored value beyond 1e150 in magnitude has
    its moments checked before the solve: values whose squares overflow are
    refused with the overflow message and no solve starts; 1e150 fits."""
    X = sp.random(100, 20, density=0.2, format="csr", random_state=0)
    y = np.asarray(X[:, :3].sum(axis=1)).ravel()
    model = WeightedLinearRegressor(penalty="l1", alpha=1e-3 * 1e150)
    model.fit(X * (sign * 1e150), y)
    assert np.count_nonzero(model.coef_) > 0

    def no_solve(*args, **kwargs):
        raise AssertionError("a solve started")

    monkeypatch.setattr(full_batch, "_solve_working_sets", no_solve)
    with pytest.raises(ValueError, match="too large for their squares"):
        model.fit(X * (sign * 1e160), y)


def test_magnitude_bound_holds_for_float32_and_checks_both_signs():
    """Check the bound under which the moments may wait for the solve."""
    below = full_batch._magnitude_below
    assert below(np.array([3e38], dtype=np.float32), 1e150)
    assert below(np.array([]), 1e150)
    assert below(np.array([-1e150, 0.0, 1e150]), 1e150)
    assert not below(np.array([0.0, 2e150]), 1e150)
    assert not below(np.array([-2e150, 0.0]), 1e150)


def test_tall_sparse_l1_fit_holds_a_few_vectors_of_n_samples():
    """Check the peak memory of a sparse L1 fit on X with more rows than
    columns, in vectors of n_samples floats: the predictor, and beside it no
    gradient through the selection of a set (X^T g is the shorter vector
    then), no residual for the objective, no vector of zeros or residual for
    the constant model of the records (they took 3.2 vectors here)."""
    n = 40_000
    X = sp.random(n, 1000, density=0.003, format="csr", random_state=0)
    y = X[:, :30] @ rng.normal(size=30) + 0.01 * rng.normal(size=n)
    model = WeightedLinearRegressor(penalty="l1", alpha=1e-4)
    model.fit(X, y)  # imports and caches outside the measure
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert model.solver_ == "x"
    assert peak < 2.75 * 8 * n


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_tall_fit_holds_a_few_vectors_of_n_samples(sparse, penalty):
    """Check the peak memory of a tall fit on the Gram path, in vectors of
    n_samples floats: no vector of unit sample weights, no float64 copy of y,
    predictions and losses of the records computed in place, and sparse X
    read by blocks of rows (its whole-X copies took 12 vectors here)."""
    n = 100_000
    X = rng.normal(size=(n, 2))
    y = X @ [1.0, -2.0] + rng.normal(size=n)
    X = sp.csr_matrix(X) if sparse else X
    fit = WeightedLinearRegressor(penalty=penalty, alpha=0.1).fit
    fit(X, y)  # imports and caches outside the measure
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model = fit(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert model.solver_ == "gram"
    # The predictions and one temporary vector, and block copies of X.
    assert peak < 4.5 * 8 * n


def test_unit_sample_weights_are_one_value_seen_n_times():
    """Check that unit sample weights take no memory: a read-only view of one
    value, which the normalisation of the records keeps a view."""
    from sk_weights._base import _normalised, check_sample_weight

    weights = check_sample_weight(None, np.zeros((1000, 3)), np.float32)
    assert weights.shape == (1000,) and weights.dtype == np.float32
    assert weights.strides == (0,) and not weights.flags.writeable
    np.testing.assert_array_equal(weights, 1.0)
    normalised = _normalised(weights)
    assert normalised.strides == (0,) and normalised[0] == 1e-3
    given = np.array([1.0, 3.0])
    np.testing.assert_array_equal(_normalised(given), [0.25, 0.75])


@pytest.mark.parametrize("sparse", [False, True])
def test_warm_start_on_x(sparse):
    """Check that a warm start from the optimum stops at once, and from another
    alpha's optimum reaches the cold start's optimum."""
    X, y = wide_sparse_problem(n_samples=100, n_features=300)
    X = sp.csr_matrix(X) if sparse else X
    model = WeightedLinearRegressor(penalty="l1", alpha=1.0, warm_start=True)
    first = model.fit(X, y).coef_.copy()
    assert model.solver_ == "x"
    model.fit(X, y)
    np.testing.assert_allclose(model.coef_, first, rtol=1e-10, atol=1e-12)
    assert model.n_iter_ <= 2
    model.set_params(alpha=0.3).fit(X, y)
    cold = WeightedLinearRegressor(penalty="l1", alpha=0.3).fit(X, y)
    np.testing.assert_allclose(model.coef_, cold.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(model.coef_ == 0, cold.coef_ == 0)


def test_full_batch_curves_and_stop_reason(method):
    """Check the per-iteration curves against the final weights, and stop_reason_."""
    X, y = wide_sparse_problem(n_samples=200, n_features=300)
    model = WeightedLinearRegressor(penalty="l1", alpha=1.0).fit(X, y)
    n_iter = len(model.loss_curve_)
    assert model.stop_reason_ == "converged"
    assert model.weight_norms_curve_.shape == (n_iter, 1)
    assert model.zero_fraction_curve_.shape == (n_iter, 1)
    assert model.weight_norms_curve_[-1, 0] == pytest.approx(
        np.linalg.norm(model.coef_)
    )
    assert model.zero_fraction_curve_[-1, 0] == pytest.approx(np.mean(model.coef_ == 0))
    with pytest.warns(ConvergenceWarning):
        short = WeightedLinearRegressor(penalty="l1", alpha=0.1, max_iter=2).fit(X, y)
    assert short.stop_reason_ == "max_iter"
    assert short.weight_norms_curve_.shape == (len(short.loss_curve_), 1)


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_float32_of_huge_magnitude_gives_the_float64_model(method, penalty):
    """Check that float32 X of magnitude 1e19 (squares overflow float32) fits as
    float64 X does, with finite feature_std_, on both methods."""
    rng = np.random.default_rng(0)
    n_features = 30 if method == "gram" else 120
    X = rng.normal(size=(100, n_features)) * 1e19
    y = X[:, :5] @ rng.normal(size=5) * 1e-19 + 0.1 * rng.normal(size=100)
    alpha = 0.05 if penalty == "l1" else 1e-4
    fits = [
        WeightedLinearRegressor(penalty=penalty, alpha=alpha).fit(X.astype(dtype), y)
        for dtype in (np.float32, np.float64)
    ]
    assert fits[0].solver_ == fits[1].solver_ == method
    assert np.all(np.isfinite(fits[0].feature_std_))
    np.testing.assert_allclose(fits[0].feature_std_, fits[1].feature_std_, rtol=1e-6)
    scale = np.abs(fits[1].coef_).max()
    assert scale > 0
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, atol=1e-4 * scale)


def test_the_solver_on_x_takes_other_smooth_losses():
    """Check that the working-set solver with the logistic datafit reaches
    LogisticRegression's L1 optimum (C = 1 / (alpha * n)): no better objective,
    the same zeros."""

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 40))
    y = (X[:, :4] @ [2.0, -1.5, 1.0, 0.5] + rng.logistic(size=200) > 0).astype(float)
    alpha = 0.02
    data = full_batch.DataOperator(sp.csr_matrix(X))
    problem = full_batch._Problem(
        data, BinaryLogLoss(), y, 1 / 200, True, ElasticNetPenalty(l1=alpha)
    )
    coef = np.zeros(40)
    intercept, _, converged, _ = full_batch._solve_working_sets(problem, coef, 200)
    assert converged
    reference = logistic_regression(
        1.0, C=1 / (alpha * 200), solver="saga", tol=1e-10, max_iter=100_000
    ).fit(X, y)

    def logistic_objective(w, b):
        eta = X @ w + b
        return np.mean(np.logaddexp(0, eta) - y * eta) + alpha * np.abs(w).sum()

    ours = logistic_objective(coef, intercept)
    theirs = logistic_objective(reference.coef_[0], reference.intercept_[0])
    assert ours <= theirs * (1 + 1e-8)
    np.testing.assert_array_equal(coef == 0, reference.coef_[0] == 0)
    assert 0 < np.count_nonzero(coef) < 40


class _Underestimated(core.DenseQuadratic):
    """An explicit term whose curvature estimate is far too small."""

    def __init__(self, matrix, share):
        super().__init__(matrix)
        self.share = share
        self.products = 0

    def curvature_estimate(self):
        return self.share * self.largest_eigenvalue()

    def product(self, v):
        self.products += 1
        return super().product(v)


@pytest.mark.parametrize("share", [1.0, 0.3, 1e-3])
def test_fista_backtracks_from_a_curvature_estimate_below_the_true_one(share):
    """Check that FISTA reaches the lasso's optimum, with its zeros, from a
    curvature estimate a thousand times too small: without backtracking its
    steps would diverge."""
    X, y = make_regression(300, 150, n_informative=10, noise=1.0, random_state=3)
    Xc, yc = X - X.mean(0), y - y.mean()
    matrix, linear = Xc.T @ Xc / len(y), Xc.T @ yc / len(y)
    l1 = 0.05 * np.abs(linear).max()
    tolerance = 1e-11 * np.abs(linear).max()
    term = _Underestimated(matrix, share)
    coef, n_iter, converged, curve = core._solve_one(
        term, linear, l1, np.zeros(150), 10_000, tolerance
    )
    assert converged and np.all(np.isfinite(coef))
    anchor = Lasso(alpha=l1, tol=1e-14, max_iter=1_000_000).fit(X, y).coef_
    np.testing.assert_array_equal(coef != 0, anchor != 0)
    np.testing.assert_allclose(coef, anchor, rtol=1e-7, atol=1e-9)
    # Each backtrack costs one product; there are few (the estimate grows by
    # half at least each time).
    assert term.products <= 2 * n_iter + 2 * np.log(1 / share) / np.log(1.5) + 20


class _Diagonal:
    """A matrix-free term with a diagonal matrix: each product one new vector."""

    patient = False
    iterative = False

    def __init__(self, diagonal):
        self.diagonal, self.estimate = diagonal, None

    def curvature_estimate(self):
        return float(self.diagonal.max())

    def product(self, v):
        return self.diagonal * v


def test_fista_holds_a_few_vectors_of_the_set_size():
    """Check FISTA's peak memory in vectors of the set's size, which on a weak
    penalty is every feature: its steps and the optimality check work in
    place where temporaries would do (they held 13.9 such vectors here)."""
    size = 100_000
    generator = np.random.default_rng(0)
    term = _Diagonal(generator.uniform(1, 4, size))
    linear = 10 * generator.standard_normal(size)
    start = np.zeros(size)
    core._solve_one(term, linear, 1.0, start, 30, 1e-12, polish=False)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    coef, n_iter, _, _ = core._solve_one(
        term, linear, 1.0, start, 30, 1e-12, polish=False
    )
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert n_iter >= 20  # many steps, each with its optimality check
    # The exact minimiser of a separable problem: soft-thresholding.
    exact = np.sign(linear) * np.maximum(np.abs(linear) - 1.0, 0) / term.diagonal
    np.testing.assert_allclose(coef, exact, rtol=1e-6, atol=1e-9)
    assert peak < 10.5 * 8 * size


@pytest.mark.parametrize("share", [0.01, 0.3, 0.9])
@pytest.mark.parametrize("positive", [False, True])
def test_optimality_violations_of_few_and_many_weights(share, positive):
    """Check the violations against their definition written out, on supports
    taking the selections' path (few nonzero weights) and the whole-vector
    one (many), with zeros of both signs among the weights and gradients."""
    from sk_weights._penalties import optimality_violations

    generator = np.random.default_rng(1)
    weights = generator.standard_normal(1000) * (generator.uniform(size=1000) < share)
    weights[:5] = -0.0
    if positive:
        weights = np.abs(weights)
    gradient = generator.standard_normal(1000)
    gradient[5:10] = -0.0
    l1 = 0.4
    active = weights != 0
    expected = np.where(
        active,
        np.abs(gradient + l1 * np.sign(weights)),
        np.maximum((-gradient if positive else np.abs(gradient)) - l1, 0.0),
    )
    violations = optimality_violations(gradient.copy(), weights, l1, positive)
    np.testing.assert_array_equal(violations, expected)


class _PatientCounting(core.DenseQuadratic):
    """An explicit term that polishes like a matrix-free one, and counts."""

    patient = True

    def __init__(self, matrix):
        super().__init__(matrix)
        self.products, self.polished_after = 0, []

    def product(self, v):
        self.products += 1
        return super().product(v)

    def solve_on(self, support, rhs, tolerance):
        self.polished_after.append(self.products)
        return super().solve_on(support, rhs, tolerance)


def test_a_patient_term_polishes_only_a_pattern_that_held():
    """Check that a patient term's first polish waits for a pattern seen at two
    checks in a row (the start's counts as the first), and that a start on
    the optimum's pattern is polished at the first iteration."""
    # Above the active-set walk's size, so that FISTA runs.
    size = core.ACTIVE_SET_MAX_SIZE + 30
    X, y = make_regression(400, size, n_informative=10, noise=1.0, random_state=4)
    Xc, yc = X - X.mean(0), y - y.mean()
    matrix, linear = Xc.T @ Xc / len(y), Xc.T @ yc / len(y)
    l1 = 0.05 * np.abs(linear).max()
    tolerance = 1e-11 * np.abs(linear).max()
    cold = _PatientCounting(matrix)
    coef, _, converged, _ = core._solve_one(
        cold, linear, l1, np.zeros(size), 10_000, tolerance
    )
    assert converged and cold.polished_after
    # From zero the first step changes the pattern: no solve at iteration 1
    # (after its 2 products), which an impatient term would have tried.
    assert cold.polished_after[0] > 2
    warm = _PatientCounting(matrix)
    again, n_iter, converged, _ = core._solve_one(
        warm, linear, l1, coef, 10_000, tolerance
    )
    assert converged and n_iter == 1 and warm.polished_after == [2]
    np.testing.assert_allclose(again, coef, rtol=1e-10, atol=1e-13)


def test_matrix_free_curvature_estimate_is_from_below_and_close():
    """Check the power steps' estimate of a working set's largest eigenvalue
    against the explicit matrix: never above it, and not far below."""
    rng = np.random.default_rng(0)
    columns = sp.random(2000, 300, density=0.01, random_state=0, format="csc")
    curvature = rng.uniform(0.5, 2.0, size=2000) / 2000
    means = np.asarray(columns.T @ curvature).ravel() / curvature.sum()
    term = full_batch.ColumnsQuadratic(columns, curvature, means, l2=1e-3)
    exact = np.linalg.eigvalsh(term.explicit())[-1]
    estimate = term.curvature_estimate()
    assert 0.5 * exact <= estimate <= exact * (1 + 1e-12)


def test_curvature_estimate_of_centred_one_hot_columns_is_not_zero():
    """Check the power steps on every level of two categories, centred: the
    vector of ones lies in that matrix's null space, so a start from it would
    report 0 (a constant X) and the solver would return zero weights."""
    codes = np.random.default_rng(1).integers(6, size=(500, 2))
    rows = np.repeat(np.arange(500), 2)
    columns = sp.csc_matrix(
        (np.ones(1000), (rows, (codes + [0, 6]).ravel())), shape=(500, 12)
    )
    means = np.asarray(columns.mean(axis=0)).ravel()
    term = full_batch.ColumnsQuadratic(columns, 1 / 500, means, l2=0.0)
    np.testing.assert_allclose(term.product(np.ones(12)), 0.0, atol=1e-12)
    exact = np.linalg.eigvalsh(term.explicit())[-1]
    assert 0.5 * exact <= term.curvature_estimate() <= exact * (1 + 1e-12)


def test_a_rough_round_goes_without_the_exact_solves():
    """Check that polish=False never solves on a sign pattern, still meets a
    rough tolerance, and that the default polishes to the exact optimum."""
    X, y = make_regression(300, 150, n_informative=10, noise=1.0, random_state=4)
    Xc, yc = X - X.mean(0), y - y.mean()
    matrix, linear = Xc.T @ Xc / len(y), Xc.T @ yc / len(y)
    l1 = 0.05 * np.abs(linear).max()
    solves = []

    class Counted(core.DenseQuadratic):
        def solve_on(self, support, rhs, tolerance):
            solves.append(support.size)
            return super().solve_on(support, rhs, tolerance)

    rough = 1e-3 * np.abs(linear).max()
    coef, _, converged, _ = core._solve_one(
        Counted(matrix), linear, l1, np.zeros(150), 10_000, rough, polish=False
    )
    assert converged and not solves
    gradient = matrix @ coef - linear
    assert np.all(np.abs(gradient[coef == 0]) <= l1 + rough)
    core._solve_one(Counted(matrix), linear, l1, np.zeros(150), 10_000, 1e-9)
    assert solves


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_wide_dense_ridge_is_solved_by_the_rows_system(fit_intercept, weighted):
    """Check ridge on dense X with fewer rows than columns against Ridge: one
    exact solve of the rows' system (n_iter_ == 1), the same weights; float32
    X (which the rows' product would copy) takes conjugate gradients to the
    same optimum."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3000)) + 2.0
    y = X[:, :5] @ rng.normal(size=5) + 0.1 * rng.normal(size=60) + 3.0
    sample_weight = rng.uniform(0.0, 2.0, size=60) if weighted else None
    if weighted:
        sample_weight[:5] = 0.0
    alpha = 0.05
    total = 60.0 if sample_weight is None else sample_weight.sum()
    anchor = Ridge(alpha=alpha * total, fit_intercept=fit_intercept, tol=1e-12)
    anchor.fit(X, y, sample_weight=sample_weight)
    for dtype, exact in ((np.float64, True), (np.float32, False)):
        model = WeightedLinearRegressor(
            penalty="l2", alpha=alpha, fit_intercept=fit_intercept
        )
        model.fit(X.astype(dtype), y, sample_weight=sample_weight)
        assert (model.n_iter_ == 1) == exact
        assert model.stop_reason_ == "converged"
        tolerance = 1e-9 if exact else 1e-4  # float32 X rounds the data itself
        np.testing.assert_allclose(
            model.coef_, anchor.coef_, rtol=tolerance, atol=tolerance * 1e-2
        )
        assert model.intercept_ == pytest.approx(anchor.intercept_, rel=tolerance)
        assert len(model.loss_curve_) == model.n_iter_


def test_wide_ridge_falls_back_when_the_rows_system_fails(monkeypatch):
    """Check the rows' system on equal rows (singular without the penalty) and
    a weak penalty against Ridge, and that a failed solve of it (forced) hands
    over to conjugate gradients, which reach the same optimum."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2000))
    X[1] = X[0]
    y = rng.normal(size=40)
    y[1] = y[0]
    anchor = Ridge(alpha=1e-6 * 40, tol=1e-14).fit(X, y)
    exact = WeightedLinearRegressor(penalty="l2", alpha=1e-6).fit(X, y)
    assert exact.n_iter_ == 1
    np.testing.assert_allclose(exact.predict(X), anchor.predict(X), atol=1e-8)

    def failing(matrix, rhs):
        return matrix, rhs, 1  # LAPACK's "not positive definite"

    monkeypatch.setattr(full_batch, "_DUAL_POSV", failing)
    model = WeightedLinearRegressor(penalty="l2", alpha=1e-3, max_iter=5000).fit(X, y)
    assert model.n_iter_ > 1 and model.stop_reason_ == "converged"
    reference = Ridge(alpha=1e-3 * 40, tol=1e-14).fit(X, y)
    ours = enet_objective(X, y, model.coef_, model.intercept_, 1e-3, 0.0)
    best = enet_objective(X, y, reference.coef_, reference.intercept_, 1e-3, 0.0)
    assert ours <= best * (1 + 1e-10)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-7)


def test_columns_of_x_copy_only_a_selection():
    """Check DataOperator.columns: every column in order is X itself (no copy);
    any other index, repeats and disorder included, selects exactly; sparse X
    stays sparse, its values copied once."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    data = full_batch.DataOperator(X)
    assert data.columns(np.arange(4)) is X
    for index in ([2, 2, 3, 0], [3, 2, 1, 0], [1, 3]):
        chosen = data.columns(np.array(index))
        np.testing.assert_array_equal(chosen, X[:, index])
        assert not np.shares_memory(chosen, X)
    sparse = sp.csr_matrix(X * (rng.uniform(size=X.shape) < 0.5))
    data = full_batch.DataOperator(sparse)
    assert data.columns(np.arange(4)) is sparse
    for index in ([2, 2, 3, 0], [0, 2]):
        chosen = data.columns(np.array(index))
        # A selection comes as CSC: its products then cost its own values.
        assert sp.issparse(chosen) and chosen.format == "csc"
        np.testing.assert_array_equal(chosen.toarray(), sparse.toarray()[:, index])


@pytest.mark.parametrize("form", ["dense", "csr", "csc"])
def test_share_of_x_in_columns(form):
    """Check DataOperator.share: the share of the columns for dense X, of the
    stored values for sparse X (counted per column, repeats counted again)."""
    X = np.zeros((6, 4))
    X[:, 0], X[:3, 1], X[0, 3] = 1.0, 2.0, 3.0  # 6, 3, 0 and 1 stored values
    X = X if form == "dense" else sp.csr_matrix(X).asformat(form)
    data = full_batch.DataOperator(X)
    for index, columns_share, values_share in (
        ([0], 1 / 4, 6 / 10),
        ([1, 2], 2 / 4, 3 / 10),
        ([3, 3], 2 / 4, 2 / 10),
        ([0, 1, 2, 3], 1.0, 1.0),
    ):
        expected = columns_share if form == "dense" else values_share
        assert data.share(np.array(index)) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("form", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weighted_sums_of_sparse_x_equal_numpys(form, dtype):
    """Check X.T @ w and (X * X).T @ w of sparse X, per-sample and scalar w,
    on X read in several slices of its stored values (added up in place)."""
    X = sp.random(2000, 40, density=0.6, random_state=1, format=form, dtype=dtype)
    assert full_batch.compressed_bounds(X, parts=32, minimum=2**14).size > 3
    dense = X.toarray().astype(np.float64)
    for weights in (rng.uniform(0.1, 2, size=2000), 0.25):
        sums, squares = full_batch.DataOperator(X).weighted_sums(weights)
        per_sample = np.broadcast_to(weights, (2000,))
        np.testing.assert_allclose(sums, dense.T @ per_sample, rtol=1e-12)
        np.testing.assert_allclose(squares, (dense**2).T @ per_sample, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("scalar", [False, True])
def test_matrix_free_diagonal_equals_the_explicit_one(sparse, scalar):
    """Check ColumnsQuadratic.diagonal (no squared copy of the columns) against
    the diagonal of the matrix it stands for."""
    columns = sp.random(200, 30, density=0.2, random_state=2, format="csc")
    columns = columns if sparse else columns.toarray()
    curvature = 0.005 if scalar else rng.uniform(0.5, 2.0, size=200) / 200
    weights = np.broadcast_to(curvature, (200,))
    means = np.asarray(columns.T @ weights).ravel() / weights.sum()
    term = full_batch.ColumnsQuadratic(columns, curvature, means, l2=1e-3)
    np.testing.assert_allclose(term.diagonal(), np.diag(term.explicit()), rtol=1e-12)


@pytest.mark.parametrize("scalar", [False, True])
def test_matrix_free_diagonal_of_columns_without_stored_values(scalar):
    """Check the diagonal of sparse columns of which some (the first, the
    last, a run between) store nothing, and of columns storing nothing at all:
    their sums of squares are summed by column in place, by the columns'
    starts."""
    dense = sp.random(120, 9, density=0.3, random_state=6).toarray()
    dense[:, [0, 3, 4, 8]] = 0.0
    curvature = 0.01 if scalar else rng.uniform(0.5, 2.0, size=120) / 120
    weights = np.broadcast_to(curvature, (120,))
    for values in (dense, np.zeros_like(dense)):
        term = full_batch.ColumnsQuadratic(
            sp.csc_matrix(values), curvature, np.zeros(9), l2=0.5
        )
        expected = (values**2).T @ weights + 0.5
        np.testing.assert_allclose(term.diagonal(), expected, rtol=1e-13)


@pytest.mark.parametrize("form", ["dense", "csr", "csc"])
@pytest.mark.parametrize("scalar", [False, True])
def test_matrix_free_explicit_matrix_equals_its_definition(form, scalar):
    """Check ColumnsQuadratic.explicit against Xc.T diag(h) Xc + l2 I written
    out in NumPy, for the curvature per sample and as a scalar."""
    dense = sp.random(150, 12, density=0.3, random_state=4).toarray()
    columns = dense if form == "dense" else sp.csr_matrix(dense).asformat(form)
    curvature = 0.01 if scalar else rng.uniform(0.5, 2.0, size=150) / 150
    weights = np.broadcast_to(curvature, (150,))
    means = dense.T @ weights / weights.sum()
    term = full_batch.ColumnsQuadratic(columns, curvature, means, l2=0.3)
    centred = dense - means
    expected = centred.T @ (weights[:, None] * centred) + 0.3 * np.eye(12)
    np.testing.assert_allclose(term.explicit(), expected, rtol=1e-12, atol=1e-15)
    if form != "dense":
        # The stored values of the caller's columns are left as they were.
        np.testing.assert_array_equal(columns.toarray(), dense)


@pytest.mark.parametrize("share", [0.3, 0.9])
def test_matrix_free_support_solve_equals_a_dense_solve(share):
    """Check ColumnsQuadratic.solve_on on a small support (a copy of its
    columns) and on most of the set (the set's columns, masked) against a
    dense solve of the same system."""
    columns = sp.random(400, 40, density=0.2, random_state=5, format="csc")
    curvature = rng.uniform(0.5, 2.0, size=400) / 400
    means = np.asarray(columns.T @ curvature).ravel() / curvature.sum()
    term = full_batch.ColumnsQuadratic(columns, curvature, means, l2=1e-2)
    support = np.sort(rng.choice(40, size=int(share * 40), replace=False))
    rhs = rng.normal(size=support.size)
    matrix = term.explicit()[np.ix_(support, support)]
    solution = term.solve_on(support, rhs, 1e-12)
    np.testing.assert_allclose(solution, np.linalg.solve(matrix, rhs), rtol=1e-9)


def test_matrix_free_polish_steps_from_a_near_point(monkeypatch):
    """Check that the polish of a matrix-free term, given a point near the
    solution on the same support, solves for the step from it: the same
    solution, in fewer conjugate-gradient steps."""
    columns = sp.random(600, 80, density=0.1, random_state=7, format="csc")
    means = np.asarray(columns.mean(axis=0)).ravel()
    term = full_batch.ColumnsQuadratic(columns, 1 / 600, means, l2=1e-4)
    matrix = term.explicit()
    # An optimum with 50 nonzero weights of both signs, and its problem.
    exact = np.zeros(80)
    exact[:50] = rng.uniform(0.5, 2, 50) * rng.choice([-1, 1], 50)
    pattern, l1 = np.sign(exact), 1e-3
    linear = matrix @ exact + l1 * pattern
    tolerance = 1e-10 * np.abs(linear).max()
    near = exact * (1 + 1e-6 * rng.standard_normal(80))
    steps = []
    solve = full_batch._conjugate_gradient

    def counted(*args):
        result = solve(*args)
        steps.append(result[1])
        return result

    monkeypatch.setattr(full_batch, "_conjugate_gradient", counted)
    cold = core._polish(term, linear, l1, pattern, tolerance)
    warm = core._polish(
        term, linear, l1, pattern, tolerance, near=(near, matrix @ near)
    )
    np.testing.assert_allclose(cold, exact, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(warm, exact, rtol=1e-7, atol=1e-12)
    assert steps[1] < steps[0]


@pytest.mark.parametrize("conditioned", ["well", "badly"])
def test_matrix_free_solve_polishes_only_when_fista_is_slow(conditioned):
    """Check that FISTA on a matrix-free term, from near the optimum with a
    few weights of the wrong pattern (a later working set's start), skips
    the exact solve on a sign pattern when at its pace it meets the
    tolerance within about the products a solve costs (well-conditioned
    columns), and still solves when it crawls (nearly collinear columns);
    both reach the optimum and its zeros."""
    generator = np.random.default_rng(8)
    columns = sp.random(3000, 60, density=0.2, random_state=8, format="csc")
    if conditioned == "badly":
        shared = sp.random(3000, 1, density=0.5, random_state=9, format="csc")
        columns = sp.csc_matrix(0.3 * columns + shared @ np.ones((1, 60)))
    means = np.asarray(columns.mean(axis=0)).ravel()
    solves = []

    class Counted(full_batch.ColumnsQuadratic):
        def solve_on(self, support, rhs, tolerance):
            solves.append(support.size)
            return super().solve_on(support, rhs, tolerance)

    term = Counted(columns, 1 / 3000, means, l2=0.0)
    matrix = term.explicit()
    linear = matrix @ generator.normal(size=60)
    l1 = 0.01 * np.abs(linear).max()
    tolerance = 1e-10 * np.abs(linear).max()
    exact, *_ = core._solve_one(
        core.DenseQuadratic(matrix), linear, l1, np.zeros(60), 10_000, tolerance
    )
    start = exact * (1 + 1e-7 * generator.standard_normal(60))
    start[np.flatnonzero(exact == 0)[:3]] = 1e-7 * np.abs(exact).max()
    coef, _, converged, _ = core._solve_one(term, linear, l1, start, 10_000, tolerance)
    assert converged
    np.testing.assert_array_equal(coef == 0, exact == 0)
    np.testing.assert_allclose(coef, exact, atol=1e-8 * np.abs(exact).max())
    assert (len(solves) > 0) == (conditioned == "badly")


def test_share_of_csr_x_from_a_sample_of_its_stored_values():
    """Check that share, for CSR X with more stored values than its sample,
    estimates the share of the stored values in some columns to a few
    hundredths (it only chooses between a selection and X itself)."""
    generator = np.random.default_rng(6)
    # Columns of very unequal counts: the share differs from the column share.
    density = np.repeat([0.5, 0.05, 0.005], [10, 90, 900])
    X = sp.csr_matrix(generator.uniform(size=(800, 1000)) < density) * 1.0
    assert X.nnz > full_batch._SHARE_SAMPLE
    counts = np.diff(X.tocsc().indptr)
    data = full_batch.DataOperator(X)
    for index in (np.arange(10), np.arange(10, 100), np.arange(100, 1000, 3)):
        exact = counts[index].sum() / X.nnz
        assert abs(data.share(index) - exact) < 0.03
    assert data.share(np.arange(1000)) == 1.0
    # CSC X counts exactly.
    exact = counts[:10].sum() / X.nnz
    assert full_batch.DataOperator(X.tocsc()).share(np.arange(10)) == exact


def test_a_given_curvature_estimate_costs_no_product_and_fista_raises_it():
    """Check that a matrix-free term returns a given estimate as it is, and
    that FISTA keeps on the term the estimate it raised by backtracking (the
    next working set starts from it)."""
    columns = sp.random(400, 60, density=0.1, random_state=3, format="csc")
    term = full_batch.ColumnsQuadratic(columns, 1 / 400, np.zeros(60), 0.0, 1e-9)
    calls = []
    product = term.product
    term.product = lambda v: calls.append(1) or product(v)
    assert term.curvature_estimate() == 1e-9 and not calls
    exact = np.linalg.eigvalsh(term.explicit())[-1]
    linear = term.explicit() @ rng.normal(size=60)
    l1 = 0.1 * np.abs(linear).max()
    coef, _, converged, _ = core._solve_one(
        term, linear, l1, np.zeros(60), 10_000, 1e-10 * np.abs(linear).max()
    )
    assert converged and np.all(np.isfinite(coef))
    # Raised from far below to the curvature met along the steps.
    assert 0.1 * exact <= term.estimate <= 1.5 * exact


def test_matrix_free_working_sets_on_sparse_x_reach_lasso_optimum(monkeypatch):
    """Check the matrix-free rounds (CSC selections, carried curvature
    estimates, exact solves once a set stops growing) against Lasso."""
    monkeypatch.setattr(full_batch, "_EXPLICIT_SHARE", 0.0)
    monkeypatch.setattr(full_batch, "_EXPLICIT_MIN_BYTES", 0)
    built = []
    original = full_batch.ColumnsQuadratic.__init__

    def counting(self, *args, **kwargs):
        built.append(args[0].shape[1])
        original(self, *args, **kwargs)

    monkeypatch.setattr(full_batch.ColumnsQuadratic, "__init__", counting)
    X = sp.random(500, 3000, density=0.01, random_state=4, format="csr")
    y = X[:, :60] @ rng.normal(size=60) + 0.05 * rng.normal(size=500)
    alpha = 0.01 * np.abs(X.T @ (y - y.mean())).max() / 500
    model = WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
    assert model.stop_reason_ == "converged" and built
    assert_lasso_optimum(model, X, y, alpha)
    assert 60 < np.count_nonzero(model.coef_) < 500


@pytest.mark.parametrize("seed", [1, 2])
def test_wide_l1_near_interpolation_reaches_lasso_optimum(seed):
    """Check a weak L1 penalty on wide sparse X, whose optimum keeps nearly as
    many nonzero weights as X has rows: the working set's system on them is
    nearly singular, where matrix-free solves stopped short (a gap of 1e-8
    and a zero off, or a ConvergenceWarning); the set's matrix, small in
    bytes, is now written out and solved exactly."""
    rng = np.random.default_rng(seed)
    X = sp.random(300, 1500, density=0.02, random_state=seed, format="csc")
    coef = rng.normal(size=1500) * (rng.uniform(size=1500) < 0.1)
    y = X @ coef + 0.1 * rng.normal(size=300)
    weights = rng.uniform(0.2, 2, size=300)
    alpha = 0.003 * np.abs(X.T @ (weights * y)).max() / weights.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = WeightedLinearRegressor(penalty="l1", alpha=alpha, fit_intercept=False)
        model.fit(X, y, sample_weight=weights)
    oracle = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=1_000_000)
    oracle.fit(X, y, sample_weight=weights)

    def objective(c):
        residual = y - X @ c
        return 0.5 * weights @ residual**2 / weights.sum() + alpha * np.abs(c).sum()

    assert model.stop_reason_ == "converged"
    assert objective(model.coef_) <= objective(oracle.coef_) * (1 + 1e-10)
    np.testing.assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)
    assert np.count_nonzero(oracle.coef_) > 280


@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_matrix_free_working_sets_on_x_of_huge_and_tiny_magnitude(scale):
    """Check sparse L1 working sets on X scaled by 1e150 and 1e-150 (the
    penalty scaled alike): the unscaled model's predictions and zeros,
    without a warning. At 1e150 the power steps' squared norm overflowed,
    the curvature estimate came out 0 and the weights stayed at zero."""
    codes = np.random.default_rng(5).integers(40, size=(2000, 5))
    rows = np.repeat(np.arange(2000), 5)
    X = sp.csr_matrix(
        (np.ones(10_000), (rows, (codes + 40 * np.arange(5)).ravel())),
        shape=(2000, 200),
    )
    y = X @ (rng.normal(size=200) * (rng.uniform(size=200) < 0.5))
    y += 0.1 * rng.normal(size=2000)
    plain = WeightedLinearRegressor(penalty="l1", alpha=1e-3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaled = WeightedLinearRegressor(penalty="l1", alpha=1e-3 * scale)
        scaled.fit(X * scale, y)
    assert plain.solver_ == scaled.solver_ == "x"
    np.testing.assert_allclose(
        scaled.predict(X * scale), plain.predict(X), rtol=0, atol=1e-9
    )
    np.testing.assert_array_equal(scaled.coef_ == 0, plain.coef_ == 0)


def test_one_hot_working_set_takes_x_itself(monkeypatch):
    """Check that a working set holding much of sparse X's stored values uses
    X itself (no selection), and still reaches Lasso's optimum and zeros."""
    codes = np.random.default_rng(5).integers(40, size=(2000, 5))
    X = sp.csr_matrix(
        (
            np.ones(10_000),
            (np.repeat(np.arange(2000), 5), (codes + 40 * np.arange(5)).ravel()),
        ),
        shape=(2000, 200),
    )
    effects = rng.normal(size=200) * (rng.uniform(size=200) < 0.5)
    y = X @ effects + 0.1 * rng.normal(size=2000)
    taken = []
    original = full_batch.DataOperator.columns

    def recording(self, index):
        chosen = original(self, index)
        taken.append(chosen is self.X)
        return chosen

    monkeypatch.setattr(full_batch.DataOperator, "columns", recording)
    monkeypatch.setattr(core, "_WORKING_SET_MIN_FEATURES", 10)
    alpha = 1e-3
    model = WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
    assert model.solver_ == "x" and any(taken)
    assert_lasso_optimum(model, X, y, alpha)


def test_working_set_after_a_filled_set_takes_x_itself(monkeypatch):
    """Check that when every weight of the last working set came out nonzero
    (the support grows as fast as the sets), the next set takes X itself once
    it holds a quarter of the share that would take X anyway: the next round
    would pass that share, and a copy of the columns now would be discarded.
    The fit still reaches Lasso's optimum and zeros."""
    rng = np.random.default_rng(0)
    n, columns, levels = 4000, 10, 200
    codes = rng.integers(levels, size=(n, columns))
    X = sp.csr_matrix(
        (
            np.ones(n * columns),
            (
                np.repeat(np.arange(n), columns),
                (codes + levels * np.arange(columns)).ravel(),
            ),
        ),
        shape=(n, columns * levels),
    )
    effects = rng.normal(size=columns * levels) * (
        rng.uniform(size=columns * levels) < 0.5
    )
    y = X @ effects + rng.normal(size=n)
    alpha = 0.02 * np.abs(X.T @ (y - y.mean())).max() / n
    shares, whole = [], []
    share, columns_of = full_batch.DataOperator.share, full_batch.DataOperator.columns

    def recording_share(self, index):
        shares.append(share(self, index))
        return shares[-1]

    def recording_columns(self, index):
        chosen = columns_of(self, index)
        whole.append(chosen is self.X)
        return chosen

    monkeypatch.setattr(full_batch.DataOperator, "share", recording_share)
    monkeypatch.setattr(full_batch.DataOperator, "columns", recording_columns)
    model = WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
    assert len(shares) == len(whole)
    rounds = list(zip(shares, whole))
    whole_share = full_batch._WHOLE_SHARE_SPARSE
    low = whole_share / full_batch._GROWTH
    assert any(taken and low <= share_ < whole_share for share_, taken in rounds), (
        rounds
    )
    assert_lasso_optimum(model, X, y, alpha)


def test_working_sets_after_an_exact_round_are_solved_exactly(monkeypatch):
    """Check that once a round of the squared loss solved its set exactly,
    every later round does too: a later set adds a few features to a solved
    support, and a rough solve of it took one more round here (five solves
    where four do). The fit still reaches Lasso's optimum and zeros."""
    rng = np.random.default_rng(0)
    X = sp.random(4000, 1000, density=0.005, format="csr", random_state=0)
    y = X[:, :40] @ rng.normal(size=40) + 0.1 * rng.normal(size=4000)
    alpha = 0.03 * np.abs(X.T @ (y - y.mean())).max() / 4000
    tolerances = []
    solve = full_batch._solve_one

    def recording(hessian, linear, l1, start, max_iter, tolerance, *args, **kwargs):
        tolerances.append(tolerance)
        return solve(hessian, linear, l1, start, max_iter, tolerance, *args, **kwargs)

    monkeypatch.setattr(full_batch, "_solve_one", recording)
    model = WeightedLinearRegressor(penalty="l1", alpha=alpha).fit(X, y)
    exact = min(tolerances)
    first = tolerances.index(exact)
    assert 0 < first < len(tolerances) - 1, tolerances
    assert tolerances[first:] == [exact] * (len(tolerances) - first), tolerances
    assert_lasso_optimum(model, X, y, alpha)


def test_wide_ridge_rows_system_on_huge_x_and_one_weighted_sample():
    """Check the unhappy paths of the rows' system: X of magnitude 1e150 (its
    products near overflow), with the penalty scaled alike, gives finite
    weights and the predictions of the unscaled model, without a warning;
    and a single sample of nonzero weight gives its own target as the
    intercept and zero weights."""
    for seed in (0, 2):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(50, 2000))
        y = rng.normal(size=50)
        alpha = 1e-2
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            huge = WeightedLinearRegressor(penalty="l2", alpha=alpha * 1e300)
            huge.fit(X * 1e150, y)
        assert huge.stop_reason_ == "converged"
        assert np.all(np.isfinite(huge.coef_))
        reference = WeightedLinearRegressor(penalty="l2", alpha=alpha).fit(X, y)
        np.testing.assert_allclose(
            huge.predict(X * 1e150), reference.predict(X), rtol=1e-6
        )
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 2000))
    y = rng.normal(size=50)
    sample_weight = np.zeros(50)
    sample_weight[3] = 1.0
    one = WeightedLinearRegressor(penalty="l2", alpha=1e-2)
    one.fit(X, y, sample_weight=sample_weight)
    assert one.n_iter_ == 1
    assert one.intercept_ == pytest.approx(y[3], rel=1e-12)
    np.testing.assert_allclose(one.coef_, 0.0, atol=1e-12)
