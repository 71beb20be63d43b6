"""Tests of the datafits: one object per loss (sk_weights._datafits)."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logsumexp
from sklearn.metrics import mean_gamma_deviance, mean_poisson_deviance

from sk_weights import _datafits as datafits
from sk_weights._activations import ACTIVATIONS
from sk_weights._datafits import (
    DATAFITS,
    HUBER_CURVATURE_FLOOR,
    log_sum_exp,
    make_datafit,
)

ONE_OUTPUT = [name for name, fit in DATAFITS.items() if name != "log_loss"]


def _targets(name, rng, n):
    """Targets in the datafit's domain."""
    if name in ("binary_log_loss",):
        return (rng.uniform(size=n) < 0.4).astype(float)
    if name == "poisson":
        return rng.poisson(2.0, size=n).astype(float)
    if name == "gamma":
        return rng.gamma(2.0, 1.5, size=n)
    return rng.normal(scale=2.0, size=n)


def _datafit(name):
    return make_datafit(name, huber_delta=0.7)


@pytest.mark.parametrize("name", ONE_OUTPUT)
@pytest.mark.parametrize("equal_weights", [False, True])
def test_gradient_and_curvature_match_finite_differences(name, equal_weights):
    """Check that the gradient and curvature in the raw output are the
    central finite differences of the value (Huber: inside its quadratic band
    the curvature is 1, outside it the documented floor, not the 0 of the
    finite difference)."""
    rng = np.random.default_rng(0)
    n = 9
    y = _targets(name, rng, n)
    eta = rng.normal(scale=1.0, size=n)
    weights = 1.0 / n if equal_weights else rng.dirichlet(np.ones(n))
    datafit = _datafit(name)
    gradient, curvature = datafit.derivatives(y, eta.copy(), weights)
    curvature = np.broadcast_to(curvature, (n,))
    h = 1e-6
    for i in range(n):
        step = np.zeros(n)
        step[i] = h
        numeric = datafit.value(y, eta + step, weights)
        numeric -= datafit.value(y, eta - step, weights)
        assert numeric / (2 * h) == pytest.approx(gradient[i], rel=1e-6, abs=1e-10)
        second = datafit.derivatives(y, eta + step, weights)[0][i]
        second -= datafit.derivatives(y, eta - step, weights)[0][i]
        expected = second / (2 * h)
        weight = weights if equal_weights else weights[i]
        if name == "huber" and abs(eta[i] - y[i]) > datafit.delta:
            assert expected == pytest.approx(0.0, abs=1e-10)
            expected = HUBER_CURVATURE_FLOOR * weight
        assert expected == pytest.approx(curvature[i], rel=1e-5, abs=1e-10)


def test_multinomial_gradient_matches_finite_differences():
    """Check that the multinomial gradient is the finite difference of its value."""
    rng = np.random.default_rng(1)
    eta = rng.normal(size=(6, 3))
    y = np.eye(3)[[0, 2, 1, 1, 0, 2]]
    weights = rng.dirichlet(np.ones(6))
    datafit = DATAFITS["log_loss"]()
    gradient = datafit.gradient(y, eta, weights)
    h = 1e-6
    for index in np.ndindex(eta.shape):
        step = np.zeros_like(eta)
        step[index] = h
        numeric = datafit.value(y, eta + step, weights)
        numeric -= datafit.value(y, eta - step, weights)
        assert numeric / (2 * h) == pytest.approx(gradient[index], abs=1e-9)


@pytest.mark.parametrize("name", list(DATAFITS))
def test_the_prediction_side_is_the_raw_side(name):
    """Check that the loss and output gradient written in the prediction (the
    network's view) equal the value and gradient in the raw output at the
    prediction the output activation gives."""
    rng = np.random.default_rng(2)
    n = 8
    if name == "log_loss":
        y = np.eye(3)[rng.integers(0, 3, size=n)]
        eta = rng.normal(size=(n, 3))
    else:
        y = _targets(name, rng, n)[:, np.newaxis]
        eta = rng.normal(size=(n, 1))
    weights = rng.dirichlet(np.ones(n))
    datafit = _datafit(name)
    prediction = ACTIVATIONS[datafit.output_activation](eta.copy())
    np.testing.assert_allclose(prediction, datafit.inverse_link(eta), rtol=1e-12)
    raw_value = datafit.value(
        y if name == "log_loss" else y[:, 0],
        eta if name == "log_loss" else eta[:, 0],
        weights,
    )
    assert datafit.loss(y, prediction, weights) == pytest.approx(raw_value, rel=1e-9)
    out = np.empty_like(eta)
    datafit.output_gradient(y, prediction, weights, out)
    if name == "log_loss":
        expected = datafit.gradient(y, eta, weights)
    else:
        expected = datafit.derivatives(y[:, 0], eta[:, 0], weights)[0][:, np.newaxis]
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", ONE_OUTPUT)
def test_best_offset_minimises_the_value(name):
    """Check that best_offset is the minimiser of the value over a constant
    shift of the raw output, against scipy's bounded scalar minimiser."""
    rng = np.random.default_rng(3)
    n = 30
    y = _targets(name, rng, n)
    eta = rng.normal(scale=0.5, size=n)
    weights = rng.dirichlet(np.ones(n))
    datafit = _datafit(name)
    offset = datafit.best_offset(y, eta, weights)
    reference = minimize_scalar(
        lambda b: datafit.value(y, eta + b, weights),
        bounds=(-20, 20),
        method="bounded",
        options={"xatol": 1e-12},
    ).x
    assert offset == pytest.approx(reference, abs=1e-6)
    slope = float(np.sum(datafit.derivatives(y, eta + offset, weights)[0]))
    assert abs(slope) <= 1e-12 * max(1.0, float(np.max(np.abs(y))))


def test_constant_models_in_closed_form():
    """Check the best constant models against their closed forms: the mean
    (squared error), the log of the mean (Poisson), the logit of the mean
    (log loss) and the centred log priors (softmax)."""
    rng = np.random.default_rng(4)
    weights = rng.dirichlet(np.ones(50))
    y = rng.poisson(3.0, size=50).astype(float)
    assert DATAFITS["squared_error"]().constant(y, weights) == pytest.approx(
        weights @ y
    )
    assert DATAFITS["poisson"]().constant(y, weights) == pytest.approx(
        np.log(weights @ y)
    )
    labels = (y > 2).astype(float)
    p = weights @ labels
    assert DATAFITS["binary_log_loss"]().constant(labels, weights) == pytest.approx(
        np.log(p / (1 - p))
    )
    one_hot = np.eye(3)[y.astype(int) % 3]
    logits = DATAFITS["log_loss"]().constant(one_hot, weights)
    priors = weights @ one_hot
    np.testing.assert_allclose(np.exp(logits - logsumexp(logits)), priors)


@pytest.mark.parametrize("equal_weights", [True, False])
def test_squared_error_value_in_blocks_equals_numpys(equal_weights):
    """Check the squared loss of a vector, summed a block of samples at a
    time, against NumPy's sum over the whole, over a length that is not a
    multiple of the block; and the constant model of the squared loss (the
    weighted mean of y, taken without a residual) against the best offset
    from zero."""
    rng = np.random.default_rng(5)
    n = 3 * datafits._BLOCK + 17
    y, eta = rng.normal(size=n), rng.normal(size=n)
    weights = 1.0 / n if equal_weights else rng.dirichlet(np.ones(n))
    expected = 0.5 * float(np.sum(np.broadcast_to(weights, n) * (eta - y) ** 2))
    squared = DATAFITS["squared_error"]()
    assert squared.value(y, eta, weights) == pytest.approx(expected, rel=1e-13)
    assert squared.constant(y, weights) == pytest.approx(
        squared.best_offset(y, np.zeros(n), weights), rel=1e-13
    )


def test_poisson_value_is_half_the_mean_deviance():
    """Check that the Poisson datafit is half scikit-learn's mean Poisson
    deviance (with sample weights), so that its optimum is PoissonRegressor's."""
    rng = np.random.default_rng(5)
    y = rng.poisson(2.0, size=40).astype(float)
    eta = rng.normal(size=40)
    sample_weight = rng.uniform(0.2, 3.0, size=40)
    value = DATAFITS["poisson"]().value(y, eta, sample_weight / sample_weight.sum())
    deviance = mean_poisson_deviance(y, np.exp(eta), sample_weight=sample_weight)
    assert value == pytest.approx(0.5 * deviance, rel=1e-12)


def test_binary_log_loss_is_log1p_exp_without_overflow():
    """Check the logistic loss per sample against NumPy's logaddexp from -1e300
    to 1e300 (no overflow), and the weighted value against scikit-learn's
    log loss of the sigmoid."""
    from sklearn.metrics import log_loss

    fit = DATAFITS["binary_log_loss"]()
    extremes = [-1e300, -800.0, -40.0, -1e-12, 0.0, 1e-12, 40.0, 800.0, 1e300]
    eta = np.concatenate([extremes, np.random.default_rng(6).normal(scale=5, size=200)])
    for y in (np.zeros_like(eta), np.ones_like(eta)):
        with np.errstate(over="ignore"):
            expected = np.logaddexp(0.0, eta) - y * eta
        np.testing.assert_allclose(
            fit._pointwise(y, eta), expected, rtol=1e-14, atol=4 * np.finfo(float).eps
        )
    rng = np.random.default_rng(7)
    y = (rng.uniform(size=50) < 0.5).astype(float)
    eta = rng.normal(scale=3, size=50)
    weight = rng.uniform(0.2, 2.0, size=50)
    value = fit.value(y, eta, weight / weight.sum())
    assert value == pytest.approx(log_loss(y, expit(eta), sample_weight=weight))


def test_gamma_value_is_half_the_mean_deviance():
    """Check that the Gamma datafit is half scikit-learn's mean Gamma deviance
    (with sample weights), so that its optimum is GammaRegressor's."""
    rng = np.random.default_rng(7)
    y = rng.gamma(2.0, 1.5, size=40)
    eta = rng.normal(size=40)
    sample_weight = rng.uniform(0.2, 3.0, size=40)
    value = DATAFITS["gamma"]().value(y, eta, sample_weight / sample_weight.sum())
    deviance = mean_gamma_deviance(y, np.exp(eta), sample_weight=sample_weight)
    assert value == pytest.approx(0.5 * deviance, rel=1e-12)
    assert DATAFITS["gamma"]().constant(y, 1 / 40) == pytest.approx(np.log(y.mean()))


def test_huber_value_is_sgd_regressors_huber():
    """Check the Huber value against its two-branch definition."""
    y = np.array([0.0, 1.0, -2.0, 5.0])
    eta = np.array([0.5, -1.0, -2.2, 0.0])
    delta = 1.35
    r = np.abs(y - eta)
    expected = np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)).mean()
    assert DATAFITS["huber"](delta).value(y, eta, 0.25) == pytest.approx(expected)
    assert make_datafit("huber", huber_delta=delta).delta == delta


def test_gradient_at_constant_gives_alpha_max():
    """Check that the gradient at the constant model sums to zero with an
    intercept (the intercept is optimal) and is the derivative at zero weights
    of the logistic loss (a closed form)."""
    rng = np.random.default_rng(6)
    y = (rng.uniform(size=20) < 0.3).astype(float)
    weights = np.full(20, 1 / 20)
    datafit = DATAFITS["binary_log_loss"]()
    gradient = datafit.gradient_at_constant(y, weights)
    assert abs(gradient.sum()) < 1e-14
    np.testing.assert_allclose(gradient, (y.mean() - y) / 20)
    no_intercept = datafit.gradient_at_constant(y, weights, fit_intercept=False)
    np.testing.assert_allclose(no_intercept, (expit(0.0) - y) / 20)


@pytest.mark.parametrize(
    "name, y, match",
    [
        ("poisson", [1.0, -1.0, 2.0], "loss='poisson'"),
        ("poisson", [0.0, 0.0], "0 everywhere"),
        ("squared_error", [1.0, np.nan], "NaN"),
        ("huber", [np.inf, 1.0], "NaN or infinity"),
        ("gamma", [1.0, 0.0, 2.0], "loss='gamma'"),
    ],
)
def test_check_y_names_y_and_the_loss(name, y, match):
    """Check that a target outside the loss's domain raises a ValueError that
    names y and the loss."""
    with pytest.raises(ValueError, match=match) as error:
        DATAFITS[name]().check_y(np.array(y))
    assert "y " in str(error.value) and repr(name) in str(error.value)


def test_registry_keys_are_the_names():
    """Check that every datafit is registered under its own name and says
    its link, output activation and words."""
    for name, datafit in DATAFITS.items():
        assert datafit.name == name
        assert datafit.output_activation in ACTIVATIONS
        assert datafit.title
        assert (datafit.link == "identity") == (datafit.weight_reading is None)


def test_log_sum_exp_equals_scipy_without_overflow():
    """Check the rows' log-sum-exp against scipy's, on large, tiny and -inf
    entries (no overflow, no NaN where scipy has none)."""
    rng = np.random.default_rng(0)
    eta = rng.normal(size=(50, 4)) * 10
    eta[0] = [800.0, 799.0, -5.0, 0.0]  # exp(800) overflows
    eta[1] = [-800.0, -801.0, -900.0, -1000.0]  # exp(-800) underflows
    eta[2] = [-np.inf, 0.0, 1.0, -np.inf]
    eta[3] = -np.inf
    ours = log_sum_exp(eta)
    assert ours.shape == (50, 1)
    np.testing.assert_allclose(
        ours, logsumexp(eta, axis=1, keepdims=True), rtol=1e-14, atol=0
    )
