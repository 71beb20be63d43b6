"""Tests of the numerical core: losses, penalties, activations and optimisers."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from sk_weights._activations import ACTIVATIONS, DERIVATIVES
from sk_weights._datafits import DATAFITS
from sk_weights._optimizers import (
    AdamOptimizer,
    SGDOptimizer,
)
from sk_weights._penalties import ElasticNetPenalty, soft_threshold

rng = np.random.default_rng(0)


def _targets(loss, n, k):
    """Targets valid for ``loss``: real values, counts, 0/1 or one-hot rows."""
    if loss in ("squared_error", "huber"):
        return rng.normal(scale=2.0, size=(n, k))
    if loss == "poisson":
        return rng.poisson(2.0, size=(n, k)).astype(float)
    if loss == "gamma":
        return rng.gamma(2.0, size=(n, k))
    if loss == "binary_log_loss":
        return rng.integers(0, 2, size=(n, 1)).astype(float)
    return np.eye(k)[rng.integers(0, k, size=n)]


@pytest.mark.parametrize("loss", list(DATAFITS))
def test_output_gradient_matches_finite_differences(loss):
    """Check that each datafit's output gradient, written in the prediction, is
    the gradient of its loss in the raw output (through the output activation)."""
    n, k = 7, 1 if loss == "binary_log_loss" else 3
    y = _targets(loss, n, k)
    weights = rng.uniform(0.1, 2, size=n)
    weights /= weights.sum()
    raw = rng.normal(size=(n, k))
    datafit = DATAFITS[loss]()
    activate = ACTIVATIONS[datafit.output_activation]

    def value(flat):
        return datafit.loss(y, activate(flat.reshape(n, k).copy()), weights)

    numeric = approx_fprime(raw.ravel(), value, 1e-7).reshape(n, k)
    analytic = datafit.output_gradient(
        y, activate(raw.copy()), weights, np.empty((n, k))
    )
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_squared_error_is_weighted_mean_of_half_squares():
    """Check that squared_error equals sum_i s_i * 0.5 * ||y_i - p_i||^2 by hand."""
    y = np.array([[1.0], [2.0], [4.0]])
    prediction = np.array([[0.0], [2.0], [1.0]])
    weights = np.array([0.5, 0.25, 0.25])
    expected = 0.5 * 0.5 * 1 + 0.25 * 0.5 * 0 + 0.25 * 0.5 * 9
    squared_error = DATAFITS["squared_error"]()
    assert squared_error.loss(y, prediction, weights) == pytest.approx(expected)


def test_log_losses_stay_finite_on_certain_mistakes():
    """Check that a probability of exactly 0 for the true class gives a finite loss."""
    weights = np.array([1.0])
    assert np.isfinite(
        DATAFITS["log_loss"]().loss(np.array([[1.0, 0]]), np.array([[0.0, 1]]), weights)
    )
    assert np.isfinite(
        DATAFITS["binary_log_loss"]().loss(
            np.array([[1.0]]), np.array([[0.0]]), weights
        )
    )


@pytest.mark.parametrize("name", list(DERIVATIVES))
def test_activation_derivatives_match_finite_differences(name):
    """Check each derivative, written through the activation's output."""
    x = rng.normal(size=(4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink
    z = ACTIVATIONS[name](x.copy())
    delta = DERIVATIVES[name](z, np.ones_like(z))
    eps = 1e-6
    numeric = (ACTIVATIONS[name](x + eps) - ACTIVATIONS[name](x - eps)) / (2 * eps)
    np.testing.assert_allclose(delta, numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_derivative_zeroes_exactly_the_inactive_units(dtype):
    """Check relu's derivative on its outputs: inactive units (0, -0.0) give 0."""
    z = np.array([[0.0, -0.0, 1e-30, 2.0], [3.0, 0.0, 5e-45, 0.0]], dtype=dtype)
    delta = np.array([[1.0, -2.0, 3.0, -4.0], [5.0, 6.0, -7.0, 8.0]], dtype=dtype)
    expected = np.where(z > 0, delta, 0)
    out = DERIVATIVES["relu"](z, delta)
    assert out is delta and delta.dtype == dtype
    np.testing.assert_array_equal(delta, expected)


def test_softmax_rows_are_probabilities():
    """Check that softmax gives rows summing to 1, even for huge logits."""
    out = ACTIVATIONS["softmax"](np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert np.isfinite(out).all()


@pytest.mark.parametrize(
    "penalty, alpha, l1_ratio, expected",
    [
        (None, 1.0, 0.5, (0.0, 0.0)),
        ("l2", 2.0, 0.5, (0.0, 2.0)),
        ("l1", 2.0, 0.5, (2.0, 0.0)),
        ("elasticnet", 2.0, 0.25, (0.5, 1.5)),
    ],
)
def test_penalty_strengths(penalty, alpha, l1_ratio, expected):
    """Check that penalty, alpha and l1_ratio map to the L1 and L2 strengths."""
    p = ElasticNetPenalty.from_params(penalty, alpha, l1_ratio)
    assert (p.l1, p.l2) == pytest.approx(expected)


def test_penalty_value_and_smooth_gradient():
    """Check the penalty's value by hand and its L2 gradient by finite differences."""
    p = ElasticNetPenalty(l1=0.3, l2=0.7)
    w = np.array([1.0, -2.0, 0.5])
    assert p.value(w) == pytest.approx(0.3 * 3.5 + 0.5 * 0.7 * 5.25)
    smooth = ElasticNetPenalty(l2=0.7)
    numeric = approx_fprime(w, smooth.value, 1e-7)
    np.testing.assert_allclose(smooth.add_gradient(w, np.zeros(3)), numeric, rtol=1e-6)


def test_prox_is_the_minimiser_of_the_proximal_problem():
    """Check that soft-thresholding solves the proximal problem, with exact zeros."""
    p = ElasticNetPenalty(l1=0.5)
    v = np.array([2.0, -0.3, 0.2, -1.0, 0.0])
    step = 0.8
    u = p.prox(v.copy(), step)
    np.testing.assert_array_equal(u, [1.6, 0.0, 0.0, -0.6, 0.0])
    grid = np.linspace(-3, 3, 60001)
    for vi, ui in zip(v, u):
        objective = 0.5 * (grid - vi) ** 2 / step + 0.5 * np.abs(grid)
        assert abs(grid[np.argmin(objective)] - ui) < 1e-3


def test_soft_threshold_with_per_weight_steps():
    """Check that an array of thresholds is applied element by element."""
    w = np.array([1.0, 1.0, -1.0])
    soft_threshold(w, np.array([0.5, 2.0, 0.25]))
    np.testing.assert_array_equal(w, [0.5, 0.0, -0.75])


def test_sgd_step_exact_maths():
    """Check that SGD steps, with and without (Nesterov) momentum, match by hand."""
    grad = np.array([1.0, -2.0])
    plain = SGDOptimizer(2, np.float64, 0.1, momentum=0.0)
    theta = np.array([0.0, 0.0])
    plain.step(theta, grad)
    np.testing.assert_allclose(theta, [-0.1, 0.2])  # w <- w - eta * grad

    heavy = SGDOptimizer(2, np.float64, 0.1, momentum=0.9, nesterovs_momentum=False)
    theta = np.zeros(2)
    heavy.step(theta, grad)  # v = -0.1 g ; w = v
    heavy.step(theta, grad)  # v = 0.9 v - 0.1 g = -0.19 g ; w = -0.29 g
    np.testing.assert_allclose(theta, -0.29 * grad)

    nesterov = SGDOptimizer(2, np.float64, 0.1, momentum=0.9, nesterovs_momentum=True)
    theta = np.zeros(2)
    nesterov.step(theta, grad)  # v = -0.1 g ; w += 0.9 v - 0.1 g = -0.19 g
    nesterov.step(theta, grad)  # v = -0.19 g ; w += 0.9 v - 0.1 g = -0.271 g
    np.testing.assert_allclose(theta, -(0.19 + 0.271) * grad)


def test_sgd_schedules():
    """Check invscaling's formula and adaptive's division by 5 down to 1e-6."""
    inv = SGDOptimizer(1, np.float64, 0.5, learning_rate="invscaling", power_t=0.5)
    inv.on_epoch_end(n_samples_seen=99)
    assert inv.learning_rate == pytest.approx(0.05)
    adaptive = SGDOptimizer(1, np.float64, 1e-5, learning_rate="adaptive")
    assert adaptive.on_plateau() is True
    assert adaptive.learning_rate == pytest.approx(2e-6)
    assert adaptive.on_plateau() is True
    assert adaptive.on_plateau() is False
    assert SGDOptimizer(1, np.float64, 0.1).on_plateau() is False


def test_adam_step_exact_maths():
    """Check Adam's first two bias-corrected steps against hand computation."""
    opt = AdamOptimizer(1, np.float64, 0.1, beta_1=0.9, beta_2=0.999, epsilon=0.0)
    theta = np.array([0.0])
    opt.step(theta, np.array([2.0]))
    # m = 0.2, v = 0.004; mhat = 2, vhat = 4: step = 0.1 * 2 / 2
    np.testing.assert_allclose(theta, [-0.1])
    opt.step(theta, np.array([-1.0]))
    m = 0.9 * 0.2 + 0.1 * -1.0
    v = 0.999 * 0.004 + 0.001 * 1.0
    expected = -0.1 - 0.1 * (m / (1 - 0.81)) / np.sqrt(v / (1 - 0.999**2))
    np.testing.assert_allclose(theta, [expected])
    step = opt.prox_step_size(1)
    np.testing.assert_allclose(
        step, 0.1 * np.sqrt(1 - 0.999**2) / (1 - 0.81) / np.sqrt(v)
    )


def test_optimizer_state_round_trip():
    """Check that state() / load_state() carry Adam and SGD across objects exactly."""
    for make in (
        lambda: AdamOptimizer(3, np.float64, 0.01),
        lambda: SGDOptimizer(3, np.float64, 0.01, momentum=0.5),
    ):
        a, b = make(), make()
        theta_a, theta_b = np.ones(3), np.ones(3)
        a.step(theta_a, np.array([1.0, 2.0, 3.0]))
        b.load_state(a.state())
        theta_b[...] = theta_a
        a.step(theta_a, np.array([0.5, -1.0, 2.0]))
        b.step(theta_b, np.array([0.5, -1.0, 2.0]))
        np.testing.assert_array_equal(theta_a, theta_b)


def test_invscaling_rate_with_a_large_power_stays_a_positive_float():
    """Check that invscaling divides by (t + 1) ** power_t, without overflow.

    With power_t=105 and 1000 samples seen the divisor exceeds the largest
    float: the rate is then the smallest positive float, not an error.
    """
    opt = SGDOptimizer(2, np.float64, 0.1, learning_rate="invscaling", power_t=0.5)
    opt.on_epoch_end(99)
    assert opt.learning_rate == 0.1 / 10.0
    opt = SGDOptimizer(2, np.float64, 0.1, learning_rate="invscaling", power_t=105)
    opt.on_epoch_end(999)
    assert opt.learning_rate == np.finfo(np.float64).tiny
