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


# -- sizes and types at the entry of the inspection tools ----------------------


@pytest.fixture(scope="module")
def diabetes_models():
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    from sk_weights import MLPWeightsRegressor, WeightedLinearRegressor

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    linear = WeightedLinearRegressor(penalty="l1", alpha=0.1).fit(X, y)
    network = MLPWeightsRegressor(
        hidden_layer_sizes=(8,), dropout=0.1, max_iter=5, random_state=0
    )
    with pytest.warns(Warning):  # five epochs: not converged
        network.fit(X, y)
    return X, y, linear, network


def _budget_cases(X, y, linear, network):
    """(call, parameter, the number of values the call would allocate)."""
    from sk_weights import explain, mc_dropout, weight_stability, weights_path

    n, d = X.shape
    return [
        # Integrated gradients: five vectors of n_steps points, a batch of
        # 4096 points through the layers (8 hidden + 1 output + d inputs),
        # and the contributions and their mean gradients.
        (
            lambda: explain(network, X, n_steps=10**9),
            "n_steps=1000000000",
            5 * 10**9 + 3 * 4096 * (9 + d) + 3 * n * d,
        ),
        (
            lambda: weights_path(linear, X, y, n_alphas=10**12),
            "n_alphas=1000000000000",
            10**12 * (d + 3),
        ),
        (
            lambda: weight_stability(linear, X, y, n_resamples=10**12),
            "n_resamples=1000000000000",
            (10**12 + 1) * (d + 1),
        ),
        (
            lambda: mc_dropout(network, X, n_samples=10**9, return_samples=True),
            "n_samples=1000000000",
            n * 2 * (10**9 + 4),
        ),
    ]


def test_sizes_beyond_the_budget_are_refused_before_allocating(diabetes_models):
    """Check that each tool refuses what it would allocate beyond MAX_ELEMENTS.

    The count is recomputed here from what each tool keeps; the refusal is a
    ValueError naming the argument, raised before any work (under a
    tracemalloc peak of a few MB).
    """
    import tracemalloc

    from sk_weights._validation import MAX_ELEMENTS

    assert MAX_ELEMENTS == 2**28
    for call, parameter, count in _budget_cases(*diabetes_models):
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=f"{parameter} asks") as info:
                call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert f"for {count:,} values, more than the 268,435,456" in str(info.value)
        assert peak < 16 * 2**20


def test_sizes_within_the_budget_run(diabetes_models):
    """Check that the largest mc_dropout sample the budget allows is computed.

    A control for the budget: n_samples just under it keeps every pass, and
    the passes average to the mean returned.
    """
    from sk_weights import mc_dropout

    X, _, _, network = diabetes_models
    result = mc_dropout(network, X[:2], n_samples=500, return_samples=True)
    np.testing.assert_allclose(result.samples.mean(axis=0), result.mean, rtol=1e-5)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda m, X, y: _path(m, X, y, alphas=0.5), ValueError, "for one alpha"),
        (lambda m, X, y: _path(m, X, y, alphas="0.5"), ValueError, "1-D sequence"),
        (lambda m, X, y: _path(m, X, y, n_alphas=True), ValueError, "type bool"),
        (lambda m, X, y: _path(m, X, y, n_alphas=2.0), ValueError, "type float"),
        (lambda m, X, y: _path(None, X, y), TypeError, "estimator instance"),
        (lambda m, X, y: _path(type(m), X, y), TypeError, "estimator instance"),
        (lambda m, X, y: _stab(None, X, y), TypeError, "estimator instance"),
        (lambda m, X, y: _stab(m, X, y, n_jobs=1.5), ValueError, "n_jobs must be"),
        (lambda m, X, y: _stab(m, X, y, n_jobs=0), ValueError, "n_jobs must be"),
        (lambda m, X, y: _stab(m, X, y, n_jobs=True), ValueError, "n_jobs must be"),
        (lambda m, X, y: _stab(m, X, y, n_resamples=2.5), ValueError, "n_resamples"),
        (lambda m, X, y: _report([m, [m, m]]), TypeError, "item 1 is a list"),
        (lambda m, X, y: _report([[m, m], [m]]), TypeError, "item 0 is a list"),
    ],
)
def test_arguments_of_the_wrong_type_are_refused(diabetes_models, call, error, message):
    """Check scalars for sequences, floats and booleans for counts, nested lists."""
    X, y, linear, _ = diabetes_models
    with pytest.raises(error, match=message):
        call(linear, X, y)


@pytest.mark.parametrize("n_samples", [True, np.bool_(True), 2.0])
def test_mc_dropout_counts_must_be_integers(diabetes_models, n_samples):
    """Check that mc_dropout(n_samples=True) is refused (it ran one pass)."""
    from sk_weights import mc_dropout

    X, _, _, network = diabetes_models
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        mc_dropout(network, X, n_samples=n_samples)


def _path(*args, **kwargs):
    from sk_weights import weights_path

    return weights_path(*args, **kwargs)


def _stab(*args, **kwargs):
    from sk_weights import weight_stability

    return weight_stability(*args, **{"n_resamples": 2, **kwargs})


def _report(*args):
    from sk_weights import weights_report

    return weights_report(*args)


def test_workers_are_capped_at_the_tasks_and_the_cores():
    """Check the workers started for n_jobs against joblib's own counts.

    joblib starts every worker n_jobs asks for, whatever the number of tasks;
    the refits start at most one per task and, on this machine's backends,
    one per core (joblib.cpu_count); a backend elsewhere keeps n_jobs.
    """
    import joblib

    from sk_weights.inspection import _workers

    cores = joblib.cpu_count()
    assert _workers(1000, 31) == min(31, cores)
    assert _workers(1000, 1) == 1
    assert _workers(-1, 1000) == cores
    assert _workers(None, 5) is None
    with joblib.parallel_config(backend="threading"):
        assert _workers(1000, 3) == min(3, cores)


def test_many_jobs_give_the_same_stability_report(diabetes_models):
    """Check that n_jobs=1000 (threads here) gives the report of n_jobs=1."""
    import joblib

    X, y, linear, _ = diabetes_models
    one = _stab(linear, X, y, n_resamples=3, random_state=0).to_dict()
    with joblib.parallel_config(backend="threading"):
        many = _stab(linear, X, y, n_resamples=3, n_jobs=1000, random_state=0)
    assert many.to_dict()["features"] == one["features"]
