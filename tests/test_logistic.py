"""Tests of the exact solver of the log loss: against LogisticRegression's optima."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from sk_weights import _full_batch as full_batch
from sk_weights._penalties import ElasticNetPenalty
from sk_weights._sklearn_compat import SKLEARN_VERSION


def reference_logistic(alpha, l1_ratio, sample_weight, fit_intercept):
    """LogisticRegression with the same optimum, through either version's API.

    scikit-learn 1.8 names the penalty by ``l1_ratio`` alone (``C=inf``: none);
    1.6 and 1.7 need ``penalty``. ``l1_ratio=None`` means no penalty.
    """
    options = dict(solver="saga", tol=1e-12, max_iter=200_000)
    if l1_ratio is None or alpha == 0:
        if SKLEARN_VERSION >= (1, 8):
            options.update(C=np.inf, solver="lbfgs", tol=1e-14, max_iter=10_000)
        else:
            options.update(penalty=None, solver="lbfgs", tol=1e-14, max_iter=10_000)
        return LogisticRegression(fit_intercept=fit_intercept, **options)
    C = 1.0 / (alpha * sample_weight.sum())
    if SKLEARN_VERSION < (1, 8):
        options["penalty"] = {0.0: "l2", 1.0: "l1"}.get(l1_ratio, "elasticnet")
    return LogisticRegression(
        C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept, **options
    )


def objective(X, y_index, n_classes, sample_weight, coef, intercept, alpha, rho):
    """The SPEC objective with the log loss, written out here with NumPy."""
    eta = np.asarray(X @ coef.T) + intercept
    if n_classes == 2:
        eta = np.hstack([np.zeros_like(eta), eta])
    loss = logsumexp(eta, axis=1) - eta[np.arange(len(y_index)), y_index]
    p = sample_weight / sample_weight.sum()
    penalty = rho * np.abs(coef).sum() + 0.5 * (1 - rho) * np.sum(coef * coef)
    return float(p @ loss) + alpha * penalty


def problem(n_classes, sparse, weighted, seed=0):
    X, y = make_classification(
        120,
        12,
        n_informative=5,
        n_redundant=2,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    X[:, 0] += 3.0  # an offset for the intercept to absorb
    rng = np.random.default_rng(seed)
    # Some labels drawn at random: the classes overlap, so that the
    # unpenalised optimum is finite.
    noisy = rng.uniform(size=y.size) < 0.2
    y[noisy] = rng.integers(0, n_classes, noisy.sum())
    sample_weight = rng.uniform(0.2, 2.0, size=120) if weighted else np.ones(120)
    if sparse:
        X = X * (rng.uniform(size=X.shape) < 0.6)
        X = sp.csr_matrix(X)
    return X, y, sample_weight


@pytest.mark.parametrize("offset", [0.0, 1.3])
def test_logistic_loss_derivatives_match_finite_differences(offset):
    """Check that the gradient and curvature of the logistic loss (with an
    offset, as for one class of a softmax) are the finite-difference
    derivatives of its value."""
    rng = np.random.default_rng(1)
    eta = rng.normal(scale=3, size=7)
    y = (rng.uniform(size=7) < 0.5).astype(float)
    weights = rng.uniform(0.1, 1.0, size=7)
    offsets = offset * rng.normal(size=7)
    loss = full_batch.LogisticLoss(offsets)
    gradient, curvature = loss.derivatives(y, eta, weights)
    h = 1e-6
    for i in range(7):
        step = np.zeros(7)
        step[i] = h
        numeric = loss.value(y, eta + step, weights) - loss.value(
            y, eta - step, weights
        )
        assert numeric / (2 * h) == pytest.approx(gradient[i], rel=1e-6, abs=1e-10)
        numeric = loss.derivatives(y, eta + step, weights)[0][i]
        numeric -= loss.derivatives(y, eta - step, weights)[0][i]
        assert numeric / (2 * h) == pytest.approx(curvature[i], rel=1e-5, abs=1e-10)


def test_logistic_loss_with_offset_is_the_softmax_loss_of_one_class():
    """Check that, with the other logits held, the offset loss differs from
    the multinomial log loss by a constant (so both have one minimiser)."""
    rng = np.random.default_rng(2)
    eta = rng.normal(size=(5, 3))
    targets = np.eye(3)[[0, 2, 1, 1, 0]]
    offset = logsumexp(eta[:, [0, 2]], axis=1)
    loss = full_batch.LogisticLoss(offset)
    shifts = []
    for delta in (0.0, 0.7, -2.0):
        moved = eta.copy()
        moved[:, 1] += delta
        softmax = np.sum(logsumexp(moved, axis=1) - np.sum(targets * moved, axis=1))
        shifts.append(softmax - loss.value(targets[:, 1], moved[:, 1], 1.0))
    np.testing.assert_allclose(shifts, shifts[0], rtol=1e-12)


PENALTIES = [(1e-2, 1.0), (1e-2, 0.0), (2e-2, 0.5), (0.0, None)]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha, l1_ratio", PENALTIES)
def test_solver_reaches_logistic_regression_optimum(
    n_classes, sparse, weighted, fit_intercept, alpha, l1_ratio
):
    """Check that the solver on X reaches LogisticRegression's optimum with
    C = 1 / (alpha * sum(sample_weight)): an objective within a relative
    1e-8 (never worse beyond that), the same exact zeros, the same
    probabilities."""
    X, y, sample_weight = problem(n_classes, sparse, weighted)
    penalty = ElasticNetPenalty.from_params(
        None if l1_ratio is None else "elasticnet", alpha, l1_ratio or 0.0
    )
    result = full_batch.solve_logistic(
        X, y, n_classes, sample_weight, fit_intercept, penalty, 1000
    )
    assert result.converged and result.method == "x"
    n_outputs = 1 if n_classes == 2 else n_classes
    assert result.coef.shape == (n_outputs, 12)
    reference = reference_logistic(alpha, l1_ratio, sample_weight, fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs without penalty may hit max_iter
        reference.fit(X, y, sample_weight=sample_weight)
    rho = l1_ratio or 0.0
    args = (X, y, n_classes, sample_weight)
    ours = objective(*args, result.coef, result.intercept, alpha, rho)
    theirs = objective(*args, reference.coef_, reference.intercept_, alpha, rho)
    assert ours <= theirs + 1e-8 * abs(theirs)
    assert ours == pytest.approx(theirs, rel=1e-7)
    if l1_ratio:
        np.testing.assert_array_equal(result.coef == 0, reference.coef_ == 0)
        assert np.any(result.coef == 0)
    if alpha > 0:  # a unique optimum: the weights agree too
        scale = np.abs(reference.coef_).max()
        np.testing.assert_allclose(result.coef, reference.coef_, atol=1e-4 * scale)


def test_multinomial_gauge_centres_intercepts_and_unpenalised_weights():
    """Check that the softmax's free constant is fixed: intercepts sum to 0,
    and without penalty the weights of each feature sum to 0 over classes,
    while the objective's gradient vanishes."""
    X, y, sample_weight = problem(3, False, True, seed=3)
    result = full_batch.solve_logistic(
        X, y, 3, sample_weight, True, ElasticNetPenalty(), 1000
    )
    assert result.converged
    assert abs(result.intercept.sum()) < 1e-12
    np.testing.assert_allclose(result.coef.sum(axis=0), 0, atol=1e-12)
    eta = X @ result.coef.T + result.intercept
    residual = np.exp(eta - logsumexp(eta, axis=1, keepdims=True)) - np.eye(3)[y]
    residual *= (sample_weight / sample_weight.sum())[:, np.newaxis]
    np.testing.assert_allclose(X.T @ residual, 0, atol=1e-8)
    np.testing.assert_allclose(residual.sum(axis=0), 0, atol=1e-8)
