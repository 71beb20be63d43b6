"""Tests of the full-batch least-squares core: statistics, Gram matrix, working sets."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from threadpoolctl import threadpool_limits

from sk_weights import WeightedLinearRegressor
from sk_weights import _least_squares as core
from sk_weights._penalties import ElasticNetPenalty

rng = np.random.default_rng(0)


def centred_gram(X, weights, fit_intercept=True):
    """The centred, weighted Gram matrix computed directly, in one line of NumPy."""
    p = weights / weights.sum()
    Xc = X - p @ X if fit_intercept else X
    return Xc.T @ (p[:, np.newaxis] * Xc)


def objective(X, y, coef, intercept, alpha, l1_ratio):
    """The training objective (weighted mean loss + elastic net), written out here."""
    residual = y - X @ coef - intercept
    return 0.5 * np.mean(residual**2) + alpha * (
        l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    )


def wide_sparse_problem(n_samples=400, n_features=300, n_informative=8):
    """A problem with enough features for the working sets and a sparse optimum."""
    return make_regression(
        n_samples, n_features, n_informative=n_informative, noise=1.0, random_state=0
    )


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
    ours = objective(X, y, model.coef_, model.intercept_, 1.0, 1.0)
    theirs = objective(X, y, oracle.coef_, oracle.intercept_, 1.0, 1.0)
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
    assert model.n_iter_ <= 1


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
