"""Tests of the full-batch L-BFGS solver of the networks (``solver="lbfgs"``)."""

import io
import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import logistic_regression
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

import sk_weights
from sk_weights import MLPWeightsClassifier, MLPWeightsRegressor
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


def _iris_optimum(n_hidden, penalty):
    """Train a tanh network of ``n_hidden`` units on iris by lbfgs to a tight
    tolerance; return its layout, the run, and the gradient of the smooth
    part of the objective (the L1 part left out) at the weights found."""
    X, y = _iris()
    layout = Layout([4, n_hidden, 3])
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
    return layout, result, grad


def test_l2_optimum_has_a_vanishing_gradient():
    """Check that the L2 optimum of a small network has a zero gradient."""
    penalty = ElasticNetPenalty(l2=0.01)
    _, result, grad = _iris_optimum(5, penalty)
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
    penalty = ElasticNetPenalty(l1=0.02, l2=l2)
    layout, result, grad = _iris_optimum(6, penalty)
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
        reference = logistic_regression(0.0, C=1 / (alpha * n_samples), tol=1e-12)
    else:
        ours = ElasticNetPenalty(l1=alpha)
        reference = logistic_regression(
            1.0, C=1 / (alpha * n_samples), solver="saga", tol=1e-12, max_iter=100_000
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


def test_a_run_without_a_step_records_its_point():
    """Check that a run that takes no step keeps its start and records it.

    From an optimum the projected gradient is already below ``tol``: no
    iteration, and the history holds the one point (what a warm start of a
    converged network does).
    """
    X, y = _iris()
    layout = Layout([4, 3])
    penalty = ElasticNetPenalty(l2=0.1)
    optimum = minimize_lbfgs(
        np.zeros(layout.n_params), layout, X, y, np.ones(150), _config(penalty)
    )
    result = minimize_lbfgs(
        optimum.theta, layout, X, y, np.ones(150), _config(penalty, tol=1e-5)
    )
    assert result.n_iter == 0 and result.stop_reason == "converged"
    np.testing.assert_array_equal(result.theta, optimum.theta)
    assert len(result.history) == 1 and result.history[0]["epoch"] == 0
    assert result.history[0]["loss"] == optimum.history[-1]["loss"]


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


# -- the estimators ------------------------------------------------------------

NETWORKS = [MLPWeightsClassifier, MLPWeightsRegressor]


def _iris_task(cls):
    """Standardised iris, with the classes or (for a regressor) a petal length."""
    X, y = _iris()
    if cls is MLPWeightsRegressor:
        return np.delete(X, 2, axis=1), X[:, 2]
    return X, y


@pytest.mark.parametrize("cls", NETWORKS)
@pytest.mark.parametrize(
    "params, word",
    [({"dropout": 0.2}, "dropout"), ({"early_stopping": True}, "early stopping")],
)
def test_lbfgs_refuses_dropout_and_early_stopping(cls, params, word):
    """Check that dropout and early stopping with lbfgs fail at fit, saying why."""
    X, y = _iris_task(cls)
    model = cls(solver="lbfgs", **params)
    with pytest.raises(ValueError, match=f"(?s)lbfgs.*{word}"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("cls", NETWORKS)
def test_lbfgs_has_no_partial_fit(cls):
    """Check that an lbfgs network has no partial_fit, as in scikit-learn.

    scikit-learn's ``MLPClassifier(solver="lbfgs")`` has none; its
    ``MLPRegressor`` means to have none too, but its availability check is
    never called (scikit-learn 1.9 passes the method, always true, instead of
    its result), so there ``partial_fit`` runs a whole lbfgs fit. Both of
    ours follow the classifier.
    """
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    model = cls(solver="lbfgs")
    assert not hasattr(model, "partial_fit")
    X, y = _iris_task(cls)
    with pytest.raises(AttributeError) as info:
        model.partial_fit(X, y)
    assert "solver='lbfgs'" in str(info.value.__cause__)
    assert hasattr(cls(solver="adam"), "partial_fit")


@pytest.mark.parametrize("cls", NETWORKS)
def test_lbfgs_records_and_limits(cls):
    """Check the records of an lbfgs fit, and the warnings of its two limits.

    ``n_iter_`` counts iterations, one entry of each curve per iteration;
    ``max_fun`` limits the evaluations on its own (scikit-learn's rule).
    """
    X, y = _iris_task(cls)
    model = cls(hidden_layer_sizes=(8,), solver="lbfgs", alpha=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    assert model.stop_reason_ == "converged"
    assert len(model.loss_curve_) == model.n_iter_ > 0
    assert model.weight_norms_curve_.shape == (model.n_iter_, 2)
    assert model.zero_fraction_curve_.shape == (model.n_iter_, 2)
    assert model.best_loss_ == min(model.loss_curve_)
    assert model.validation_scores_ is None and model.best_epoch_ is None
    for limits, reason in [
        ({"max_iter": 3}, "max_iter=3"),
        ({"max_fun": 4}, "max_fun=4"),
    ]:
        model.set_params(**limits)
        with pytest.warns(ConvergenceWarning, match=reason):
            model.fit(X, y)
        assert model.stop_reason_ == "max_iter"
        assert model.n_iter_ <= 3 or model.n_iter_ <= 4
        model.set_params(max_iter=200, max_fun=15000)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_lbfgs_l1_gives_exact_zeros_that_cut_inputs(penalty):
    """Check that L1 under lbfgs sets weights, and whole inputs, exactly to zero.

    Ten pure-noise features beside iris's four: the penalty cuts them off.
    """
    X, y = _iris()
    noise = np.random.default_rng(0).normal(size=(X.shape[0], 10))
    X = np.hstack([X, noise])
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        penalty=penalty,
        alpha=0.05,
        l1_ratio=0.8,
        random_state=0,
        tol=1e-6,
        max_iter=2000,
    ).fit(X, y)
    first = model.coefs_[0]
    cut = np.all(first == 0, axis=1)
    assert cut[4:].all() and not cut[:4].all()
    assert model.zero_fraction_curve_[-1, 0] == np.mean(first == 0)
    assert model.score(X, y) > 0.9
    report = model.weights_report().to_dict()
    assert sum(row["is_zero"] for row in report["features"]) == cut.sum()


@pytest.mark.parametrize("cls", NETWORKS)
def test_lbfgs_warm_start_continues_from_the_fitted_weights(cls):
    """Check that warm_start goes on from the fitted weights, not a new start.

    After 5 iterations, the continued run's first iterate is already below
    where the first run ended, and its curves extend the first run's; a
    converged network refitted with warm start stays where it is.
    """
    X, y = _iris_task(cls)
    params = dict(
        hidden_layer_sizes=(6,), solver="lbfgs", alpha=0.01, random_state=0, tol=1e-7
    )
    model = cls(max_iter=5, warm_start=True, **params)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    after_five = model.loss_curve_[-1]
    model.set_params(max_iter=1000)
    model.fit(X, y)
    assert model.stop_reason_ == "converged"
    assert len(model.loss_curve_) == 5 + model.n_iter_
    assert model.weight_norms_curve_.shape == (5 + model.n_iter_, 2)
    assert model.loss_curve_[5] <= after_five
    converged = [c.copy() for c in model.coefs_]
    model.fit(X, y)
    assert model.n_iter_ <= 10  # a new start takes over a hundred
    for before, after in zip(converged, model.coefs_):
        np.testing.assert_allclose(after, before, atol=1e-3)


def test_lbfgs_sparse_and_float32():
    """Check that sparse X gives the dense fit, and float32 float32 weights."""
    X, y = load_digits(n_class=3, return_X_y=True)
    X = X[:200] / 16.0
    y = y[:200]
    params = dict(hidden_layer_sizes=(10,), solver="lbfgs", random_state=0)
    dense = MLPWeightsClassifier(**params).fit(X, y)
    sparse = MLPWeightsClassifier(**params).fit(sp.csr_matrix(X), y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    single = MLPWeightsClassifier(**params).fit(X.astype(np.float32), y)
    assert all(c.dtype == np.float32 for c in single.coefs_)
    assert single.score(X, y) == pytest.approx(dense.score(X, y), abs=0.02)


def _scaled(X_train, X_test):
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


@pytest.mark.parametrize("task", ["digits", "friedman1"])
def test_lbfgs_is_as_accurate_as_scikit_learn(task):
    """Check held-out quality at least scikit-learn's lbfgs network's, same penalty.

    scikit-learn's L2 term is ``alpha / (2 n) ||W||^2`` on the full batch,
    ours ``alpha / 2 ||W||^2``: ``alpha`` here is theirs over ``n``. Mean of
    three seeds; digits: accuracy within 0.01, on 600 training rows (the
    full data set's numbers come from ``benchmarks/lbfgs_accuracy.py``);
    ``make_friedman1``: R^2 within 0.02, on 750.
    """
    if task == "digits":
        X, y = load_digits(return_X_y=True)
        X, y = X[:800], y[:800]
        ours_cls, theirs_cls, margin = MLPWeightsClassifier, MLPClassifier, 0.01
    else:
        X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
        ours_cls, theirs_cls, margin = MLPWeightsRegressor, MLPRegressor, 0.02
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=600 if task == "digits" else 750, random_state=0
    )
    X_train, X_test = _scaled(X_train, X_test)
    n = X_train.shape[0]
    ours, theirs = [], []
    for seed in range(3):
        common = dict(hidden_layer_sizes=(32,), solver="lbfgs", random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = ours_cls(alpha=1e-4 / n, **common).fit(X_train, y_train)
            reference = theirs_cls(alpha=1e-4, **common).fit(X_train, y_train)
        ours.append(model.score(X_test, y_test))
        theirs.append(reference.score(X_test, y_test))
    assert np.mean(ours) >= np.mean(theirs) - margin


def test_lbfgs_model_saves_and_files_without_max_fun_load(tmp_path):
    """Check that an lbfgs model round-trips, and that older files load.

    A file written before ``max_fun`` existed lacks the parameter; it loads
    with the default.
    """
    X, y = _iris()
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        alpha=0.01,
        max_fun=900,
        random_state=0,
    ).fit(X, y)
    path = tmp_path / "model.npz"
    sk_weights.save(model, path)
    loaded = sk_weights.load(path)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.loss_curve_, model.loss_curve_)
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(members.pop("sk_weights_header").tobytes().decode("utf-8"))
    del header["params"]["max_fun"]
    header["params"]["solver"] = "adam"
    buffer = io.BytesIO()
    text = json.dumps(header).encode("utf-8")
    np.savez(
        buffer,
        **members,
        sk_weights_header=np.frombuffer(text, dtype=np.uint8),
    )
    old = sk_weights.load(io.BytesIO(buffer.getvalue()))
    assert old.max_fun == 15000 and old.solver == "adam"
    np.testing.assert_array_equal(old.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_lbfgs_poisson_network_without_hidden_layer_is_poisson_regression(alpha):
    """Check that a Poisson network with no hidden layer reaches PoissonRegressor.

    With the log link and half the Poisson deviance it is a Poisson GLM; at
    ``penalty="l2"`` the objective is that of ``PoissonRegressor(alpha)``.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(X @ np.array([0.5, -0.3, 0.0]) + 1.0))
    reference = PoissonRegressor(alpha=alpha, tol=1e-12, max_iter=1000).fit(X, y)
    model = MLPWeightsRegressor(
        hidden_layer_sizes=(),
        loss="poisson",
        solver="lbfgs",
        alpha=alpha,
        tol=1e-9,
        max_iter=1000,
        random_state=0,
    ).fit(X, y)
    assert model.stop_reason_ == "converged"
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)
    np.testing.assert_allclose(model.intercepts_[0][0], reference.intercept_, atol=1e-6)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-5)
