"""Hostile and extreme input to the library's public functions.

Each case once hung, crashed with an unrelated exception or allocated without
bound; each must now end with the right answer or a clear error.
"""

import numpy as np
import pytest
from scipy.special import expit, xlogy
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression

from sk_weights import WeightedLinearClassifier


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


def test_tiny_features_give_the_closed_form_optimum(cancer):
    """Check that X * 1e-300 fits (it looped forever) to the limit's closed form.

    On features this small the log loss is flat in the weights, so the L2
    optimum is one gradient step from zero: ``w = X^T (y - p0) / (n alpha)``
    (in units of the scale), with the intercept at the log-odds of the prior.
    """
    X, y = cancer
    model = WeightedLinearClassifier().fit(X * 1e-300, y)
    prior = y.mean()
    expected = X.T @ (y - prior) / (len(y) * model.alpha)
    np.testing.assert_allclose(model.coef_[0] / 1e-300, expected, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, [np.log(prior / (1 - prior))])
    assert model.stop_reason_ == "converged"


def test_a_denormal_class_weight_fits_the_other_class(cancer):
    """Check that class_weight={0: 1e-320, 1: 1} fits (it divided by zero).

    Class 0 weighs nothing against class 1 in double precision, so the model
    predicts class 1 everywhere, as scikit-learn's LogisticRegression does, and
    its objective is no worse than that solution's.
    """
    X, y = cancer
    weights = {0: 1e-320, 1: 1.0}
    model = WeightedLinearClassifier(class_weight=weights).fit(X, y)
    alpha = model.alpha
    reference = LogisticRegression(
        class_weight=weights, C=1 / (alpha * len(y)), max_iter=1000
    ).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    assert np.all(model.predict(X) == 1)
    s = np.where(y == 1, 1.0, 1e-320)

    def objective(coef, intercept):
        p = expit(X @ coef + intercept)
        loss = -(xlogy(y, p) + xlogy(1 - y, 1 - p))
        return s @ loss / s.sum() + 0.5 * alpha * coef @ coef

    ours = objective(model.coef_[0], model.intercept_[0])
    theirs = objective(reference.coef_[0], reference.intercept_[0])
    assert np.isfinite(model.coef_).all() and ours <= theirs + 1e-12
