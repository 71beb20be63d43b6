"""The GLM family and positive weights: exact optima against independent solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.linear_model import ElasticNet, Lasso, PoissonRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import MLPWeightsRegressor, WeightedLinearRegressor
from sk_weights._datafits import make_datafit
from sk_weights._full_batch import solve_full_batch
from sk_weights._penalties import ElasticNetPenalty

# -- independent definitions of the losses (not the datafits' code) ----------


def _unit_losses(name, y, eta, delta=1.35):
    """Per-sample loss and its derivative in eta, written from the definitions."""
    if name == "squared_error":
        return 0.5 * (y - eta) ** 2, eta - y
    if name == "huber":
        r = eta - y
        inside = np.abs(r) <= delta
        value = np.where(inside, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
        return value, np.where(inside, r, delta * np.sign(r))
    if name == "poisson":
        mu = np.exp(eta)
        y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        return y_log_y - y * eta - y + mu, mu - y
    if name == "gamma":
        return eta - np.log(y) + y * np.exp(-eta) - 1, 1 - y * np.exp(-eta)
    raise ValueError(name)


def _objective(name, X, y, s, w, b, l1, l2, delta=1.35):
    """The penalised objective (sample weights normalised), from the definitions."""
    eta = X @ w + b
    value = _unit_losses(name, y, eta, delta)[0]
    return float(s @ value / s.sum() + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w)


def _kkt_violation(name, X, y, s, w, b, l1, l2, fit_intercept=True, positive=False):
    """The largest violation of the optimality conditions, relative to the
    gradient at zero weights (or to l1)."""
    at_zero = _unit_losses(name, y, np.full(y.shape, b))[1] * s / s.sum()
    scale = max(np.abs(X.T @ at_zero).max(), l1, 1e-300)
    eta = X @ w + b
    derivative = _unit_losses(name, y, eta)[1] * s / s.sum()
    gradient = np.asarray(X.T @ derivative).ravel() + l2 * w
    worst = abs(derivative.sum()) if fit_intercept else 0.0
    for g, wj in zip(gradient, w):
        if wj != 0:
            worst = max(worst, abs(g + l1 * np.sign(wj)))
        elif positive:
            worst = max(worst, -g - l1)
        else:
            worst = max(worst, abs(g) - l1)
    return worst / scale


def _scipy_optimum(name, X, y, s, l1, l2, positive=False):
    """The optimum by L-BFGS-B on split variables ``w = u - v``, ``u, v >= 0``."""
    d = X.shape[1]

    def fun(z):
        u, v, b = z[:d], z[d : 2 * d], z[-1]
        w = u - v
        value, derivative = _unit_losses(name, y, X @ w + b)
        derivative = derivative * s / s.sum()
        grad_w = X.T @ derivative + l2 * w
        total = s @ value / s.sum() + l1 * (u.sum() + v.sum()) + 0.5 * l2 * w @ w
        grad = np.concatenate([grad_w + l1, -grad_w + l1, [derivative.sum()]])
        return total, grad

    bounds = [(0, None)] * d + [(0, 0) if positive else (0, None)] * d + [(None, None)]
    start = np.zeros(2 * d + 1)
    result = minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 30},
    )
    return result.x[:d] - result.x[d : 2 * d], result.x[-1], result.fun


def _poisson_data(n=200, d=6, seed=0, sparse=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 0.5
    if sparse:
        X = X * (rng.uniform(size=X.shape) < 0.5)
    coef = np.array([0.6, -0.4, 0.0, 0.3, 0.0, -0.2])[:d]
    y = rng.poisson(np.exp(0.5 + X @ coef)).astype(float)
    return X, y, rng.uniform(0.2, 3.0, size=n)


def _huber_data(n=200, d=6, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.array([1.5, -2.0, 0.0, 0.5, 0.0, 1.0]) + rng.normal(size=n)
    outliers = rng.uniform(size=n) < 0.1
    y[outliers] += rng.normal(scale=20, size=outliers.sum())
    return X, y, rng.uniform(0.2, 3.0, size=n)


def _solve(name, X, y, s, l1, l2, positive=False, method=None, delta=1.35):
    result = solve_full_batch(
        X,
        y.reshape(-1, 1),
        s,
        True,
        ElasticNetPenalty(l1=l1, l2=l2, positive=positive),
        1000,
        method=method,
        datafit=make_datafit(name, huber_delta=delta),
    )
    assert result.converged
    return result.coef[0], float(result.intercept[0]), result


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [1e-3, 0.1])
def test_poisson_l2_reaches_poisson_regressor(weighted, alpha):
    """Check that the Poisson datafit with an L2 penalty reaches the optimum of
    PoissonRegressor(alpha) (half deviance, alpha / 2 ||w||^2): a relative
    objective gap of at most 1e-8, the same weights."""
    X, y, s = _poisson_data()
    s = s if weighted else np.ones_like(y)
    coef, intercept, result = _solve("poisson", X, y, s, 0.0, alpha)
    assert result.method == "x"
    reference = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10000).fit(
        X, y, sample_weight=s
    )
    ours = _objective("poisson", X, y, s, coef, intercept, 0.0, alpha)
    theirs = _objective(
        "poisson", X, y, s, reference.coef_, reference.intercept_, 0.0, alpha
    )
    assert ours <= theirs * (1 + 1e-8)
    np.testing.assert_allclose(coef, reference.coef_, rtol=1e-6, atol=1e-8)
    assert intercept == pytest.approx(reference.intercept_, rel=1e-7)


@pytest.mark.parametrize("name", ["poisson", "huber"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("positive", [False, True])
def test_glm_optimum_by_its_optimality_conditions(name, l1_ratio, positive):
    """Check the L1, elastic-net and L2 optima of the Poisson and Huber
    datafits (positive or not) by their optimality conditions (to 1e-7,
    relative) and against L-BFGS-B on split variables (no better objective,
    the same zeros)."""
    X, y, s = _poisson_data() if name == "poisson" else _huber_data()
    alpha = 0.02 if name == "poisson" else 0.1
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    coef, intercept, _ = _solve(name, X, y, s, l1, l2, positive)
    assert _kkt_violation(name, X, y, s, coef, intercept, l1, l2, True, positive) < (
        1e-7
    )
    if positive:
        assert np.all(coef >= 0)
    ref_coef, ref_intercept, ref_value = _scipy_optimum(name, X, y, s, l1, l2, positive)
    ours = _objective(name, X, y, s, coef, intercept, l1, l2)
    assert ours <= ref_value + 1e-10 * abs(ref_value)
    np.testing.assert_allclose(coef, ref_coef, atol=1e-5)
    if l1 > 0:
        assert np.array_equal(coef == 0, np.abs(ref_coef) < 1e-7)


def test_sparse_x_equals_dense_for_poisson():
    """Check that sparse X gives the weights of the same dense X (Poisson,
    elastic net)."""
    X, y, s = _poisson_data(sparse=True)
    dense = _solve("poisson", X, y, s, 0.01, 0.01)
    sparse = _solve("poisson", sp.csr_matrix(X), y, s, 0.01, 0.01)
    np.testing.assert_allclose(dense[0], sparse[0], rtol=1e-9, atol=1e-12)
    assert dense[1] == pytest.approx(sparse[1], rel=1e-10)


def test_huber_large_delta_is_least_squares():
    """Check that Huber's loss with a delta above every residual is the squared
    error: the same optimum as the Gram path."""
    X, y, s = _huber_data()
    huber = _solve("huber", X, y, s, 0.05, 0.01, delta=1e6)
    squared = _solve("squared_error", X, y, s, 0.05, 0.01)
    np.testing.assert_allclose(huber[0], squared[0], rtol=1e-9, atol=1e-12)


def _regression(seed=0, n=150, d=30):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, :8] @ rng.normal(size=8) + rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("method", ["gram", "x"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_positive_matches_sklearn(method, sparse, l1_ratio):
    """Check that positive=True reaches Lasso(positive=True) /
    ElasticNet(positive=True): the same weights and the same exact zeros, on
    both methods, dense and sparse X."""
    X, y = _regression()
    alpha = 0.05
    reference = ElasticNet(
        alpha=alpha, l1_ratio=l1_ratio, positive=True, tol=1e-14, max_iter=100000
    )
    if l1_ratio == 1.0:
        reference = Lasso(alpha=alpha, positive=True, tol=1e-14, max_iter=100000)
    reference.fit(X, y)
    data = sp.csr_matrix(X) if sparse else X
    s = np.ones_like(y)
    coef, intercept, _ = _solve(
        "squared_error",
        data,
        y,
        s,
        alpha * l1_ratio,
        alpha * (1 - l1_ratio),
        positive=True,
        method=method,
    )
    assert np.all(coef >= 0) and np.any(coef == 0) and np.any(coef > 0)
    np.testing.assert_array_equal(coef == 0, reference.coef_ == 0)
    np.testing.assert_allclose(coef, reference.coef_, atol=1e-8)
    assert intercept == pytest.approx(reference.intercept_, abs=1e-8)


@pytest.mark.parametrize("method", ["gram", "x"])
def test_positive_without_l1_holds_the_constraint(method):
    """Check that positive=True with a pure L2 penalty or none meets the
    optimality conditions of the constrained problem (weights >= 0, zeros
    only where the gradient pulls below zero)."""
    X, y = _regression(seed=2)
    s = np.ones_like(y)
    for l2 in (0.0, 0.1):
        coef, intercept, _ = _solve(
            "squared_error", X, y, s, 0.0, l2, positive=True, method=method
        )
        assert np.all(coef >= 0) and np.any(coef == 0)
        violation = _kkt_violation(
            "squared_error", X, y, s, coef, intercept, 0.0, l2, positive=True
        )
        assert violation < 1e-9


# -- the estimators -------------------------------------------------------------


@parametrize_with_checks(
    [
        WeightedLinearRegressor(loss="huber"),
        WeightedLinearRegressor(loss="poisson"),
        WeightedLinearRegressor(loss="poisson", penalty="l1", alpha=0.01),
        WeightedLinearRegressor(positive=True),
        WeightedLinearRegressor(positive=True, penalty="l1"),
        WeightedLinearRegressor(loss="huber", solver="sgd", random_state=0),
        WeightedLinearRegressor(loss="poisson", solver="adam", random_state=0),
        WeightedLinearRegressor(positive=True, solver="sgd", random_state=0),
        MLPWeightsRegressor(
            loss="poisson", hidden_layer_sizes=(8,), max_iter=100, random_state=0
        ),
    ],
    expected_failed_checks=lambda est: (
        # This check fits negative targets whatever the positive_only tag
        # says, and a count loss refuses them (as PoissonRegressor would).
        {"check_regressor_multioutput": "negative targets for a count loss"}
        if est.loss == "poisson"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that every loss, and positive weights, pass scikit-learn's checks."""
    check(estimator)
