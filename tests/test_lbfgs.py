"""Tests of the full-batch L-BFGS solver of the networks (``solver="lbfgs"``)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_weights._network import Layout, init_parameters, loss_and_gradient
from sk_weights._penalties import ElasticNetPenalty
from sk_weights._quasi_newton import (
    QuasiNewtonConfig,
    SplitObjective,
    minimize_lbfgs,
)

PENALTIES = {
    "none": ElasticNetPenalty(),
    "l2": ElasticNetPenalty(l2=0.3),
    "l1": ElasticNetPenalty(l1=0.2),
    "elasticnet": ElasticNetPenalty(l1=0.2, l2=0.1),
}


def _config(penalty, loss="log_loss", activation="tanh", **kwargs):
    """A QuasiNewtonConfig with tight defaults for the tests."""
    settings = {
        "max_iter": 5000,
        "max_fun": 50000,
        "tol": 1e-10,
        "ftol": 1e-15,
        **kwargs,
    }
    return QuasiNewtonConfig(activation, loss, penalty, **settings)


def _problem(loss, seed=0, n=12, d=4, k=3):
    """A small float64 problem for ``loss``: X, targets and sample weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if loss == "squared_error":
        y = rng.normal(size=(n, 2))
    elif loss == "binary_log_loss":
        y = rng.integers(0, 2, size=(n, 2)).astype(float)  # two labels
    else:
        y = np.eye(k)[rng.integers(0, k, size=n)]
    weights = rng.uniform(0.0, 3.0, size=n)
    weights[0] = 0.0
    return X, y, weights


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("loss", ["squared_error", "binary_log_loss", "log_loss"])
def test_split_objective_gradient_matches_finite_differences(loss, penalty):
    """Check that the objective's gradient on L-BFGS-B's variables is exact.

    With an L1 part the variables are the weights' positive and negative
    halves and the biases; the gradient is compared with central differences
    of the objective at a point where both halves are positive (where the
    split objective is smooth).
    """
    X, y, weights = _problem(loss)
    layout = Layout([X.shape[1], 3, y.shape[1]])
    config = _config(PENALTIES[penalty], loss=loss)
    objective = SplitObjective(layout, X, y, weights, config, np.float64)
    rng = np.random.default_rng(1)
    n_variables = layout.n_params + (layout.n_coefs if objective.split else 0)
    z = rng.uniform(0.1, 0.8, size=n_variables)
    value, grad = objective(z)
    step = 1e-6
    numerical = np.empty_like(z)
    for j in range(z.size):
        shift = np.zeros_like(z)
        shift[j] = step
        numerical[j] = (objective(z + shift)[0] - objective(z - shift)[0]) / (2 * step)
    np.testing.assert_allclose(grad, numerical, rtol=1e-6, atol=1e-8)
    # The objective is that of section 2 when the halves do not overlap.
    theta = objective.to_theta(z)
    data_loss, _ = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights / weights.sum(),
        activation="tanh",
        loss=loss,
        penalty=config.penalty,
    )
    z_plain = objective.to_variables(theta)
    expected = data_loss + config.penalty.value(theta[: layout.n_coefs])
    np.testing.assert_allclose(objective(z_plain)[0], expected, rtol=1e-12)


def _iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_l2_optimum_has_a_vanishing_gradient():
    """Check that the L2 optimum of a small network has a zero gradient."""
    X, y = _iris()
    layout = Layout([4, 5, 3])
    penalty = ElasticNetPenalty(l2=0.01)
    theta0 = init_parameters(layout, "tanh", np.random.default_rng(0), np.float64)
    result = minimize_lbfgs(
        theta0, layout, X, y, np.ones(len(y)), _config(penalty, tol=1e-9)
    )
    assert result.stop_reason == "converged"
    _, grad = loss_and_gradient(
        result.theta,
        layout,
        X,
        np.eye(3)[y],
        np.full(len(y), 1 / len(y)),
        activation="tanh",
        loss="log_loss",
        penalty=penalty,
    )
    assert np.max(np.abs(grad)) < 1e-7
    # The curve is the objective of each iterate, falling to the optimum.
    curve = [record["loss"] for record in result.history]
    assert len(curve) == result.n_iter
    assert np.all(np.diff(curve) <= 1e-12)


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_l1_optimum_satisfies_the_kkt_conditions(l2):
    """Check the L1 optimum's optimality conditions, with exact zeros.

    For the smooth part's gradient ``g``: ``|g_j| <= l1`` where ``w_j`` is
    exactly zero, ``g_j = -l1 * sign(w_j)`` elsewhere, and ``g = 0`` on the
    biases.
    """
    X, y = _iris()
    layout = Layout([4, 6, 3])
    penalty = ElasticNetPenalty(l1=0.02, l2=l2)
    theta0 = init_parameters(layout, "tanh", np.random.default_rng(0), np.float64)
    result = minimize_lbfgs(
        theta0, layout, X, y, np.ones(len(y)), _config(penalty, tol=1e-9)
    )
    assert result.stop_reason == "converged"
    _, grad = loss_and_gradient(
        result.theta,
        layout,
        X,
        np.eye(3)[y],
        np.full(len(y), 1 / len(y)),
        activation="tanh",
        loss="log_loss",
        penalty=penalty,
    )
    n_coefs = layout.n_coefs
    w, g = result.theta[:n_coefs], grad[:n_coefs]
    zero = w == 0
    assert 0.2 < zero.mean() < 1.0  # exact zeros, and a model left
    assert np.all(np.abs(g[zero]) <= penalty.l1 + 1e-8)
    np.testing.assert_allclose(g[~zero], -penalty.l1 * np.sign(w[~zero]), atol=1e-7)
    np.testing.assert_allclose(grad[n_coefs:], 0, atol=1e-7)
    # No weight is left tiny: the zeros are exact, the rest clearly away.
    assert np.min(np.abs(w[~zero])) > 1e-6


@pytest.mark.parametrize("penalty", ["l2", "l1"])
@pytest.mark.parametrize("dataset", ["iris", "breast_cancer"])
def test_no_hidden_layer_reaches_logistic_regression(dataset, penalty):
    """Check that a network with no hidden layer reaches LogisticRegression.

    It is (multinomial) logistic regression, a convex problem with one
    optimum: ``C = 1 / (alpha * n_samples)`` there, the same zeros under L1.
    """
    loader = load_iris if dataset == "iris" else load_breast_cancer
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    n_samples, n_features = X.shape
    n_classes = np.unique(y).size
    alpha = 0.01
    if penalty == "l2":
        ours = ElasticNetPenalty(l2=alpha)
        reference = LogisticRegression(C=1 / (alpha * n_samples), tol=1e-12)
    else:
        ours = ElasticNetPenalty(l1=alpha)
        reference = LogisticRegression(
            C=1 / (alpha * n_samples),
            l1_ratio=1.0,
            solver="saga",
            tol=1e-12,
            max_iter=100_000,
        )
    reference.fit(X, y)
    n_outputs = 1 if n_classes == 2 else n_classes
    layout = Layout([n_features, n_outputs])
    if n_outputs == 1:
        loss, targets = "binary_log_loss", y.reshape(-1, 1).astype(float)
    else:
        loss, targets = "log_loss", y
    result = minimize_lbfgs(
        np.zeros(layout.n_params),
        layout,
        X,
        targets,
        np.ones(n_samples),
        _config(ours, loss=loss, activation="identity", tol=1e-10),
    )
    coef = result.theta[: layout.n_coefs].reshape(n_features, n_outputs).T
    intercept = result.theta[layout.n_coefs :]
    expected_coef, expected_intercept = reference.coef_, reference.intercept_
    if n_outputs > 1:
        # Softmax is unchanged by a shift of every class's intercept; the
        # unpenalised intercepts are compared centred.
        intercept = intercept - intercept.mean()
        expected_intercept = expected_intercept - expected_intercept.mean()
    np.testing.assert_allclose(coef, expected_coef, atol=2e-5)
    np.testing.assert_allclose(intercept, expected_intercept, atol=2e-5)
    if penalty == "l1":
        np.testing.assert_array_equal(coef == 0, np.abs(expected_coef) < 1e-8)
        assert np.any(coef == 0)


def test_limits_stop_the_run():
    """Check that max_iter and max_fun each end a run, with the right reason."""
    X, y = _iris()
    layout = Layout([4, 8, 3])
    theta0 = init_parameters(layout, "relu", np.random.default_rng(0), np.float64)
    penalty = ElasticNetPenalty(l2=1e-5)
    by_iter = minimize_lbfgs(
        theta0, layout, X, y, np.ones(150), _config(penalty, max_iter=7)
    )
    assert (by_iter.stop_reason, by_iter.n_iter) == ("max_iter", 7)
    assert len(by_iter.history) == 7
    by_fun = minimize_lbfgs(
        theta0, layout, X, y, np.ones(150), _config(penalty, max_fun=5)
    )
    assert by_fun.stop_reason == "max_fun"
    assert by_fun.n_iter <= 5 and not by_fun.converged
    # The solver's own evaluations are counted; scipy may finish the one
    # it started when the limit fell inside a line search.
    assert by_fun.n_fun <= 6


def test_callback_stops_the_run_and_keeps_its_iterate():
    """Check that an iteration callback returning True ends the run there."""
    X, y = _iris()
    layout = Layout([4, 8, 3])
    theta0 = init_parameters(layout, "relu", np.random.default_rng(0), np.float64)
    seen = []

    def callback(record, theta):
        seen.append(theta.copy())
        return record["epoch"] == 4

    result = minimize_lbfgs(
        theta0,
        layout,
        X,
        y,
        np.ones(150),
        _config(ElasticNetPenalty()),
        iteration_callback=callback,
    )
    assert result.n_iter == 4 and result.stop_reason == "callback"
    np.testing.assert_array_equal(result.theta, seen[-1])


def test_float32_stays_float32():
    """Check that float32 data give float32 weights close to the float64 fit."""
    X, y = _iris()
    layout = Layout([4, 5, 3])
    theta0 = init_parameters(layout, "tanh", np.random.default_rng(0), np.float64)
    config = _config(ElasticNetPenalty(l2=0.01), tol=1e-5)
    result64 = minimize_lbfgs(theta0, layout, X, y, np.ones(150), config)
    result32 = minimize_lbfgs(
        theta0.astype(np.float32),
        layout,
        X.astype(np.float32),
        y,
        np.ones(150, np.float32),
        config,
    )
    assert result32.theta.dtype == np.float32
    assert result32.history[-1]["loss"] == pytest.approx(
        result64.history[-1]["loss"], rel=1e-3
    )
