"""Tests of the log loss's exact solver and WeightedLinearClassifier against
LogisticRegression's optima, and of the classifier's API."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import cancer_data, iris_data, logistic_regression
from scipy.special import logsumexp
from sklearn.datasets import make_classification
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import WeightedLinearClassifier, weights_path
from sk_weights import _full_batch as full_batch
from sk_weights._penalties import ElasticNetPenalty


def reference_logistic(alpha, l1_ratio, sample_weight, fit_intercept):
    """LogisticRegression with the same optimum (``l1_ratio=None``: no penalty)."""
    if l1_ratio is None or alpha == 0:
        return logistic_regression(
            None,
            solver="lbfgs",
            tol=1e-14,
            max_iter=10_000,
            fit_intercept=fit_intercept,
        )
    return logistic_regression(
        l1_ratio,
        C=1.0 / (alpha * sample_weight.sum()),
        solver="saga",
        tol=1e-12,
        max_iter=200_000,
        fit_intercept=fit_intercept,
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


iris = iris_data
cancer = cancer_data


@pytest.mark.parametrize("data", [cancer, iris])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "penalty, l1_ratio", [("l1", 1.0), ("l2", 0.0), ("elasticnet", 0.5)]
)
def test_fit_reaches_logistic_regression_optimum_with_class_weight(
    data, sparse, penalty, l1_ratio
):
    """Check that fit reaches LogisticRegression's optimum, with class and
    sample weights: C = 1 / (alpha * sum of sample times class weights), the
    objective within a relative 1e-8, the same zeros and predictions."""
    X, y = data()
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.5, 2.0, y.size)
    class_weight = {0: 2.0, 1: 0.5}
    if sparse:
        X = sp.csr_matrix(X * (rng.uniform(size=X.shape) < 0.7))
    alpha = 0.01
    model = WeightedLinearClassifier(
        penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, class_weight=class_weight
    ).fit(X, y, sample_weight=sample_weight)
    loss_weight = sample_weight * np.array([class_weight.get(c, 1.0) for c in y])
    reference = reference_logistic(alpha, l1_ratio, loss_weight, True)
    reference.fit(X, y, sample_weight=loss_weight)
    assert model.solver_ == "x" and model.stop_reason_ == "converged"
    n_classes = np.unique(y).size
    assert model.coef_.shape == reference.coef_.shape
    args = (X, y, n_classes, loss_weight)
    ours = objective(*args, model.coef_, model.intercept_, alpha, l1_ratio)
    theirs = objective(*args, reference.coef_, reference.intercept_, alpha, l1_ratio)
    assert ours <= theirs * (1 + 1e-8)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)
    np.testing.assert_allclose(
        model.predict_proba(X), reference.predict_proba(X), atol=1e-4
    )
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


@pytest.mark.parametrize("data", [cancer, iris])
def test_probabilities_scores_and_labels_agree(data):
    """Check that predict_proba is the sigmoid / softmax of decision_function,
    predict_log_proba its logarithm, and predict its most probable class, with
    string labels."""
    X, y = data()
    labels = np.array(["a", "b", "c"])[y]
    model = WeightedLinearClassifier().fit(X, labels)
    scores = model.decision_function(X)
    if scores.ndim == 1:
        scores = np.column_stack([np.zeros_like(scores), scores])
    expected = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12)
    np.testing.assert_allclose(
        model.predict_log_proba(X), np.log(expected), rtol=1e-9, atol=1e-14
    )
    np.testing.assert_array_equal(model.predict(X), model.classes_[expected.argmax(1)])


def test_records_of_a_full_batch_fit():
    """Check the records: the log loss of the fit and of the weighted class
    priors written out here, the weighted accuracy, the curves' shapes, and
    float32 weights for float32 X."""
    X, y = iris()
    sample_weight = np.linspace(0.5, 1.5, y.size)
    model = WeightedLinearClassifier(alpha=0.1).fit(
        X.astype(np.float32), y, sample_weight=sample_weight
    )
    assert model.coef_.dtype == np.float32
    p = sample_weight / sample_weight.sum()
    proba = model.predict_proba(X.astype(np.float32)).astype(np.float64)
    loss = -p @ np.log(proba[np.arange(y.size), y])
    priors = np.bincount(y, weights=p)
    assert model.train_loss_ == pytest.approx(loss, rel=1e-5)
    assert model.baseline_loss_ == pytest.approx(-p @ np.log(priors[y]), rel=1e-9)
    accuracy = p @ (model.predict(X.astype(np.float32)) == y)
    assert model.train_score_ == pytest.approx(accuracy)
    n = len(model.loss_curve_)
    assert model.weight_norms_curve_.shape == model.zero_fraction_curve_.shape
    assert model.weight_norms_curve_.shape == (n, 1)
    assert model.loss_curve_[-1] == pytest.approx(min(model.loss_curve_))


@pytest.mark.parametrize("solver", ["fista", "sgd"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_baseline_without_intercept_is_the_zero_output(solver, n_classes):
    """Check that without an intercept the constant model is the zero raw
    output: probability 1/2 per logistic output, 1/K per softmax output, so on
    balanced classes the baseline loss is log(K) (not the log loss of zero
    probabilities)."""
    X, y = make_classification(
        n_samples=60,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        weights=None,
        random_state=0,
    )
    # Balanced: the same number of samples in each class.
    keep = np.concatenate([np.flatnonzero(y == c)[:18] for c in range(n_classes)])
    X, y = X[keep], y[keep]
    model = WeightedLinearClassifier(
        fit_intercept=False, solver=solver, max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    assert model.baseline_loss_ == pytest.approx(np.log(n_classes), rel=1e-12)


def test_mlp_baseline_is_still_the_class_priors():
    """Check that the MLP classifier, which always has biases, keeps the log
    loss of the class priors as its baseline (written out here)."""
    from sk_weights import MLPWeightsClassifier

    X, y = iris()
    X, y = X[:80], y[:80]  # 50 of class 0, 30 of class 1
    model = MLPWeightsClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    priors = np.bincount(y) / y.size
    assert model.baseline_loss_ == pytest.approx(-np.mean(np.log(priors[y])))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_approach_the_optimum(solver):
    """Check that the stochastic solvers come close to the exact optimum's
    objective (within 20%) on scaled data."""
    X, y = cancer()
    exact = WeightedLinearClassifier(alpha=0.01).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = WeightedLinearClassifier(
            alpha=0.01, solver=solver, max_iter=300, tol=1e-6, random_state=0
        ).fit(X, y)
    n = np.ones(y.size)
    best = objective(X, y, 2, n, exact.coef_, exact.intercept_, 0.01, 0.0)
    ours = objective(X, y, 2, n, model.coef_, model.intercept_, 0.01, 0.0)
    assert best <= ours <= 1.2 * best
    assert model.solver_ == solver


def test_partial_fit_learns_from_chunks_and_checks_classes():
    """Check that partial_fit needs classes on its first call, refuses
    'balanced', and learns from chunks in which a class may be missing."""
    X, y = iris()
    model = WeightedLinearClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        WeightedLinearClassifier(class_weight="balanced").partial_fit(
            X, y, classes=[0, 1, 2]
        )
    order = np.argsort(y, kind="stable")  # the first chunk holds one class
    for _ in range(20):
        for chunk in np.array_split(order, 3):
            model.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    assert model.coef_.shape == (3, 4) and model.solver_ == "sgd"
    assert model.score(X, y) > 0.85
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X[:3], [0, 1, 5])


def test_warm_start_from_the_optimum_stays_there():
    """Check that a warm start from the optimum converges at once to it."""
    X, y = iris()
    model = WeightedLinearClassifier(penalty="l1", alpha=0.01, warm_start=True)
    coef = model.fit(X, y).coef_.copy()
    n_iter = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ < n_iter
    np.testing.assert_allclose(model.coef_, coef, atol=1e-7)


@parametrize_with_checks(
    [
        WeightedLinearClassifier(),
        WeightedLinearClassifier(penalty="l1"),
        # The checks' data are unscaled blobs (standard deviations near 20)
        # with class weights up to 1000: the safe automatic step is small for
        # them, so the stochastic configurations wait longer for progress.
        WeightedLinearClassifier(
            penalty="elasticnet", dropout=0.2, n_iter_no_change=50, random_state=0
        ),
        WeightedLinearClassifier(
            early_stopping=True, n_iter_no_change=50, random_state=0
        ),
        WeightedLinearClassifier(solver="sgd", n_iter_no_change=50, random_state=0),
    ],
    expected_failed_checks=lambda est: (
        {
            # Unscaled blobs with class weights of 1000 : 0.0001: mini-batch
            # training with the automatic step does not reach the accuracy
            # the check asks for (the full-batch solver does).
            "check_class_weight_classifiers": "stochastic solver, unscaled data",
            # Dropout draws a mask per row and early stopping holds out a
            # random share of the rows: repeating a row changes them, so the
            # trajectory (not the objective) differs from weighting the row.
            # scikit-learn's SGDClassifier declares the same failures.
            "check_sample_weight_equivalence_on_dense_data": "stochastic batches",
            "check_sample_weight_equivalence_on_sparse_data": "stochastic batches",
        }
        if est.dropout > 0 or est.early_stopping
        else {"check_class_weight_classifiers": "stochastic solver, unscaled data"}
        if est.solver == "sgd"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that every configuration passes scikit-learn's estimator checks."""
    check(estimator)


@pytest.mark.parametrize("data", [cancer, iris])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_weights_path_starts_where_the_optimality_conditions_say(data, fit_intercept):
    """Check that weights_path's alpha_max is the smallest alpha whose L1
    optimum is all zeros: the first alpha of the path (a hair above it) gives
    all zeros, and a fit just below it does not."""
    X, y = data()
    estimator = WeightedLinearClassifier(penalty="l1", fit_intercept=fit_intercept)
    path = weights_path(estimator, X, y, n_alphas=3)
    alpha_max = path.alphas[0]
    assert np.all(path.coefs[0] == 0)
    below = estimator.set_params(alpha=0.99 * alpha_max).fit(X, y)
    assert np.any(below.coef_ != 0)
