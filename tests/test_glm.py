"""The GLM family and positive weights: exact optima against independent solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, GammaRegressor, Lasso, PoissonRegressor
from sklearn.metrics import d2_tweedie_score, mean_poisson_deviance, r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import MLPWeightsRegressor, WeightedLinearRegressor
from sk_weights._datafits import make_datafit
from sk_weights._full_batch import solve_full_batch
from sk_weights._penalties import ElasticNetPenalty
from sk_weights._sklearn_compat import SKLEARN_VERSION

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


def _gamma_data(n=200, d=6, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 0.5
    mu = np.exp(1.0 + X @ np.array([0.5, -0.3, 0.0, 0.4, 0.0, -0.2])[:d])
    y = rng.gamma(2.0, mu / 2.0)  # shape 2: a coefficient of variation of 0.7
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


@pytest.mark.parametrize("name", ["poisson", "huber", "gamma"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("positive", [False, True])
def test_glm_optimum_by_its_optimality_conditions(name, l1_ratio, positive):
    """Check the L1, elastic-net and L2 optima of the Poisson and Huber
    datafits (positive or not) by their optimality conditions (to 1e-7,
    relative) and against L-BFGS-B on split variables (no better objective,
    the same zeros)."""
    X, y, s = {"poisson": _poisson_data, "huber": _huber_data}.get(name, _gamma_data)()
    alpha = 0.1 if name == "huber" else 0.02
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
        WeightedLinearRegressor(loss="gamma"),
        WeightedLinearRegressor(loss="gamma", solver="sgd", random_state=0),
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
        if get_tags(est).target_tags.positive_only
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that every loss, and positive weights, pass scikit-learn's checks."""
    check(estimator)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_poisson_regressor_estimator_matches_poisson_regressor(sparse, weighted):
    """Check that WeightedLinearRegressor(loss="poisson", penalty="l2") has the
    weights and predictions of PoissonRegressor(alpha), dense and sparse X,
    with and without sample weights."""
    X, y, s = _poisson_data(sparse=sparse)
    s = s if weighted else None
    alpha = 0.01
    model = WeightedLinearRegressor(loss="poisson", alpha=alpha).fit(
        sp.csr_matrix(X) if sparse else X, y, sample_weight=s
    )
    reference = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=10000).fit(
        X, y, sample_weight=s
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-7)
    np.testing.assert_allclose(
        model.predict(X), np.exp(X @ model.coef_ + model.intercept_)
    )
    # score stays R² (as SGDRegressor's); the D² is 1 - train / baseline loss.
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)), rel=1e-12)
    d2 = 1 - model.train_loss_ / model.baseline_loss_
    assert d2 == pytest.approx(
        d2_tweedie_score(y, model.predict(X), sample_weight=s, power=1), rel=1e-9
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [1e-3, 0.1])
def test_gamma_reaches_gamma_regressor(weighted, alpha):
    """Check that loss="gamma" with an L2 penalty reaches the optimum of
    GammaRegressor(alpha), in the solver (relative objective gap <= 1e-8) and
    through the estimator (the same weights and predictions)."""
    X, y, s = _gamma_data()
    s = s if weighted else np.ones_like(y)
    coef, intercept, _ = _solve("gamma", X, y, s, 0.0, alpha)
    reference = GammaRegressor(alpha=alpha, tol=1e-12, max_iter=10000).fit(
        X, y, sample_weight=s
    )
    ours = _objective("gamma", X, y, s, coef, intercept, 0.0, alpha)
    theirs = _objective(
        "gamma", X, y, s, reference.coef_, reference.intercept_, 0.0, alpha
    )
    assert ours <= theirs * (1 + 1e-8)
    model = WeightedLinearRegressor(loss="gamma", alpha=alpha).fit(
        sp.csr_matrix(X), y, sample_weight=s
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-7)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_positive_estimator_matches_elastic_net(l1_ratio):
    """Check that WeightedLinearRegressor(positive=True) has the weights and
    zeros of ElasticNet(positive=True)."""
    X, y = _regression(seed=3)
    model = WeightedLinearRegressor(
        positive=True, penalty="elasticnet", alpha=0.05, l1_ratio=l1_ratio
    ).fit(X, y)
    reference = ElasticNet(
        alpha=0.05, l1_ratio=l1_ratio, positive=True, tol=1e-14, max_iter=100000
    ).fit(X, y)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-8)


def _exact_and_stochastic_objectives(loss, positive, solver):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    coef = np.array([0.5, -0.3, 0.2, 0.0, 0.1])
    y = {
        "poisson": rng.poisson(np.exp(1 + X @ coef)).astype(float),
        "huber": 3 * X @ coef + rng.standard_t(2, size=300),
        "squared_error": 3 * X @ coef + rng.normal(size=300),
        "gamma": rng.gamma(2.0, np.exp(1 + X @ coef) / 2.0),
    }[loss]
    params = dict(loss=loss, positive=positive, penalty="l1", alpha=0.01)
    exact = WeightedLinearRegressor(**params).fit(X, y)
    stochastic = WeightedLinearRegressor(
        **params, solver=solver, max_iter=50, tol=0, random_state=0
    ).fit(X, y)
    s = np.ones_like(y)
    values = [
        _objective(loss, X, y, s, m.coef_, m.intercept_, 0.01, 0.0)
        for m in (exact, stochastic)
    ]
    return values, stochastic


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson", "gamma"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_reach_the_exact_objective(loss, positive, solver):
    """Check that 50 epochs of SGD or Adam come within 2 % of the exact
    optimum's objective for every loss, and keep positive weights >= 0."""
    (exact, stochastic), model = _exact_and_stochastic_objectives(
        loss, positive, solver
    )
    assert exact <= stochastic <= 1.02 * exact
    if positive:
        assert np.all(model.coef_ >= 0)


def test_positive_weights_under_partial_fit_and_dropout():
    """Check that the projected prox step keeps every weight >= 0 in
    partial_fit and with dropout, where unconstrained weights go negative."""
    X, y = _regression(seed=4)
    free = WeightedLinearRegressor(dropout=0.1, random_state=0).fit(X, y)
    assert np.any(free.coef_ < 0)
    model = WeightedLinearRegressor(positive=True, dropout=0.1, random_state=0)
    assert np.all(model.fit(X, y).coef_ >= 0)
    streamed = WeightedLinearRegressor(positive=True, random_state=0)
    for rows in np.array_split(np.arange(len(y)), 5):
        streamed.partial_fit(X[rows], y[rows])
        assert np.all(streamed.coef_ >= 0)


@pytest.mark.skipif(
    SKLEARN_VERSION < (1, 7), reason="MLPRegressor's loss is new in scikit-learn 1.7"
)
def test_mlp_poisson_as_good_as_scikit_learn():
    """Check that MLPWeightsRegressor(loss="poisson") predicts held-out counts
    at least as well as MLPRegressor(loss="poisson") (mean Poisson deviance
    over three seeds, within 5 %), and far better than the constant model."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 4))
    mu = np.exp(0.5 + 0.6 * np.sin(1.5 * X[:, 0]) + 0.4 * X[:, 1] * X[:, 2])
    y = rng.poisson(mu).astype(float)
    train, test = slice(0, 600), slice(600, None)
    ours, theirs = [], []
    for seed in range(3):
        params = dict(hidden_layer_sizes=(32,), max_iter=100, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = MLPWeightsRegressor(loss="poisson", alpha=1e-7, **params)
            reference = MLPRegressor(loss="poisson", alpha=1e-4, **params)
            model.fit(X[train], y[train])
            reference.fit(X[train], y[train])
        assert model.out_activation_ == "exp"
        ours.append(mean_poisson_deviance(y[test], model.predict(X[test])))
        theirs.append(mean_poisson_deviance(y[test], reference.predict(X[test])))
    constant = mean_poisson_deviance(y[test], np.full(200, y[train].mean()))
    assert np.mean(ours) <= 1.05 * np.mean(theirs)
    assert np.mean(ours) < 0.8 * constant


def test_tall_dense_l1_poisson_copies_no_columns():
    """Check that a tall dense L1 Poisson fit whose working set holds most
    features works on X itself (its peak extra memory a small share of X,
    where copies of the working set's columns took 2 x X) and still meets the
    optimality conditions."""
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 40)) / np.sqrt(40)
    y = rng.poisson(np.exp(X @ rng.uniform(-1, 1, 40) + 0.5)).astype(np.float64)
    s = np.ones(len(y))
    l1 = 1e-3
    model = WeightedLinearRegressor(loss="poisson", penalty="l1", alpha=l1)
    model.fit(X, y)  # warm up the imports
    tracemalloc.start()
    model.fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert np.count_nonzero(model.coef_) > 30
    assert peak < 0.3 * X.nbytes  # row blocks of 2 MiB and a few vectors
    violation = _kkt_violation(
        "poisson", X, y, s, model.coef_, model.intercept_, l1, 0.0, True, False
    )
    assert violation < 1e-7
