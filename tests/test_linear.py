"""Tests of WeightedLinearRegressor against exact oracles and scikit-learn's solvers."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import diabetes_data, enet_objective
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import WeightedLinearRegressor

objective = enet_objective
diabetes = diabetes_data


def synthetic():
    X, y = make_regression(
        n_samples=300, n_features=25, n_informative=8, noise=5.0, random_state=0
    )
    return X, y


DATASETS = {"diabetes": diabetes, "synthetic": synthetic}
ORACLES = {
    "l2": (0.0, lambda alpha, n: Ridge(alpha=alpha * n, tol=1e-12)),
    "l1": (1.0, lambda alpha, n: Lasso(alpha=alpha, tol=1e-14, max_iter=100_000)),
    "elasticnet": (
        0.3,
        lambda alpha, n: ElasticNet(
            alpha=alpha, l1_ratio=0.3, tol=1e-14, max_iter=100_000
        ),
    ),
}


@pytest.mark.parametrize("dataset", list(DATASETS))
@pytest.mark.parametrize("penalty", list(ORACLES))
@pytest.mark.parametrize("alpha", [0.01, 1.0])
def test_full_batch_matches_exact_oracles(dataset, penalty, alpha):
    """Check that the default solver reaches Ridge's, Lasso's, ElasticNet's optimum."""
    X, y = DATASETS[dataset]()
    l1_ratio, make_oracle = ORACLES[penalty]
    oracle = make_oracle(alpha, X.shape[0]).fit(X, y)
    model = WeightedLinearRegressor(penalty=penalty, alpha=alpha, l1_ratio=0.3).fit(
        X, y
    )
    ours = objective(X, y, model.coef_, model.intercept_, alpha, l1_ratio)
    theirs = objective(X, y, oracle.coef_, oracle.intercept_, alpha, l1_ratio)
    assert ours <= theirs * (1 + 1e-7)
    scale = np.abs(oracle.coef_).max()
    np.testing.assert_allclose(model.coef_, oracle.coef_, atol=1e-3 * scale)
    if l1_ratio > 0:
        np.testing.assert_array_equal(model.coef_ == 0, oracle.coef_ == 0)


def test_l1_gives_exact_zeros_and_more_with_larger_alpha():
    """Check that L1 zeros are exact and that a larger alpha zeroes more weights."""
    X, y = synthetic()
    counts = [
        int(np.sum(WeightedLinearRegressor(penalty="l1", alpha=a).fit(X, y).coef_ == 0))
        for a in (0.1, 1.0, 10.0)
    ]
    assert counts[0] < counts[1] < counts[2]
    huge = WeightedLinearRegressor(penalty="l1", alpha=1e6).fit(X, y)
    assert np.all(huge.coef_ == 0)
    assert huge.intercept_ == pytest.approx(y.mean())


def test_no_penalty_matches_ordinary_least_squares():
    """Check that penalty=None is LinearRegression, including rank-deficient X."""
    X, y = synthetic()
    model = WeightedLinearRegressor(penalty=None).fit(X, y)
    np.testing.assert_allclose(
        model.coef_, LinearRegression().fit(X, y).coef_, rtol=1e-8
    )
    collinear = np.hstack([X[:, :3], X[:, :1]])
    ours = WeightedLinearRegressor(penalty=None).fit(collinear, y).predict(collinear)
    theirs = LinearRegression().fit(collinear, y).predict(collinear)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_fit_intercept_false_matches_oracle():
    """Check the objective without an intercept against Ridge(fit_intercept=False)."""
    X, y = diabetes()
    model = WeightedLinearRegressor(alpha=0.1, fit_intercept=False).fit(X, y)
    oracle = Ridge(alpha=0.1 * len(y), fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, oracle.coef_, rtol=1e-8)
    assert model.intercept_ == 0.0


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_integer_sample_weight_equals_repeated_rows(penalty):
    """Check that integer weights equal repeating rows, and 0 equals removing them."""
    X, y = synthetic()
    weights = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = WeightedLinearRegressor(penalty=penalty, alpha=0.5).fit(
        X, y, sample_weight=weights
    )
    repeated = WeightedLinearRegressor(penalty=penalty, alpha=0.5).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9, atol=1e-9)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-9)


def test_sample_weight_matches_elastic_net_with_weights():
    """Check real-valued sample weights against ElasticNet's own sample_weight."""
    X, y = synthetic()
    weights = np.random.default_rng(1).uniform(0.1, 3, size=len(y))
    model = WeightedLinearRegressor(penalty="elasticnet", alpha=0.3, l1_ratio=0.5)
    model.fit(X, y, sample_weight=weights)
    oracle = ElasticNet(alpha=0.3, l1_ratio=0.5, tol=1e-14, max_iter=100_000)
    # ElasticNet rescales sample_weight to sum to n_samples: the same objective.
    oracle.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, oracle.coef_, atol=1e-6)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["fista", "sgd"])
def test_sparse_equals_dense(fmt, solver):
    """Check that sparse X gives the same model as the same X dense."""
    X, y = synthetic()
    X[np.abs(X) < 0.8] = 0
    params = dict(penalty="elasticnet", alpha=0.1, solver=solver, random_state=0)
    if solver == "sgd":
        params.update(max_iter=5, shuffle=False)
    dense = WeightedLinearRegressor(**params).fit(X, y)
    sparse = WeightedLinearRegressor(**params).fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_multi_output_matches_per_target_fits():
    """Check that 2-D y gives (n_targets, n_features) weights equal to separate fits."""
    X, y = synthetic()
    Y = np.column_stack([y, -2 * y + 3, X[:, 0] * 5])
    model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, Y)
    assert model.coef_.shape == (3, X.shape[1])
    assert model.predict(X).shape == (len(y), 3)
    for k in range(3):
        single = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, Y[:, k])
        np.testing.assert_allclose(model.coef_[k], single.coef_, rtol=1e-10, atol=1e-12)
        assert model.intercept_[k] == pytest.approx(single.intercept_)


@pytest.mark.parametrize("solver", ["fista", "sgd", "adam"])
def test_float32_in_float32_out(solver):
    """Check that float32 X gives float32 coef_ and predictions."""
    X, y = synthetic()
    X32 = X.astype(np.float32)
    model = WeightedLinearRegressor(solver=solver, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 5 epochs on purpose
        model.fit(X32, y)
    assert model.coef_.dtype == np.float32
    assert model.predict(X32).dtype == np.float32
    if solver == "fista":
        reference = WeightedLinearRegressor().fit(X, y)
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_reach_the_optimum(solver):
    """Check that sgd and adam reach within 2% of the optimal objective."""
    X, y = diabetes()
    params = dict(penalty="elasticnet", alpha=0.1, l1_ratio=0.5)
    exact = WeightedLinearRegressor(**params).fit(X, y)
    best = objective(X, y, exact.coef_, exact.intercept_, 0.1, 0.5)
    model = WeightedLinearRegressor(
        **params, solver=solver, max_iter=300, random_state=0, learning_rate="adaptive"
    ).fit(X, y)
    ours = objective(X, y, model.coef_, model.intercept_, 0.1, 0.5)
    assert ours <= 1.02 * best
    assert model.n_iter_ < 300


def test_partial_fit_over_chunks_reaches_the_optimum():
    """Check that many partial_fit passes over chunks reach within 2% of the optimum."""
    X, y = diabetes()
    exact = WeightedLinearRegressor(alpha=0.01).fit(X, y)
    best = objective(X, y, exact.coef_, exact.intercept_, 0.01, 0.0)
    model = WeightedLinearRegressor(alpha=0.01, random_state=0, learning_rate_init=0.01)
    chunks = np.array_split(np.arange(len(y)), 4)
    for _ in range(30):
        for rows in chunks:
            model.partial_fit(X[rows], y[rows])
    ours = objective(X, y, model.coef_, model.intercept_, 0.01, 0.0)
    assert ours <= 1.02 * best
    assert model.n_iter_ == 120
    assert len(model.loss_curve_) == 120


def test_dropout_trains_stochastically_and_predicts_deterministically():
    """Check that dropout trains stochastically, shrinks, and never drops at predict."""
    X, y = diabetes()
    model = WeightedLinearRegressor(dropout=0.3, random_state=0, max_iter=50)
    model.fit(X, y)
    assert model.t_ > 0 and model.n_iter_ >= 1
    np.testing.assert_array_equal(model.predict(X), model.predict(X))
    plain = WeightedLinearRegressor(penalty=None).fit(X, y)
    # Dropout on inputs acts like an adaptive L2 penalty: weights shrink.
    assert np.linalg.norm(model.coef_) < np.linalg.norm(plain.coef_)
    assert model.score(X, y) > 0.4


def test_early_stopping_records_validation_scores():
    """Check that early stopping records held-out R^2 and stops before max_iter."""
    X, y = diabetes()
    model = WeightedLinearRegressor(
        solver="sgd", early_stopping=True, random_state=0, max_iter=500
    ).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_ < 500
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_validation_score_ > 0.3


def test_warm_start_continues_from_previous_weights():
    """Check that warm_start starts from the previous solution, the optimum."""
    X, y = synthetic()
    model = WeightedLinearRegressor(penalty="l1", alpha=0.5, warm_start=True).fit(X, y)
    first = model.coef_.copy()
    model.fit(X, y)
    np.testing.assert_allclose(model.coef_, first, atol=1e-12)
    assert model.n_iter_ <= 1


def test_convergence_warning_at_max_iter():
    """Check that a full-batch run cut short by max_iter warns, as scikit-learn does."""
    X, y = synthetic()
    # alpha=0.1 leaves 22 of the 25 weights: the walk to them takes 5 steps.
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        WeightedLinearRegressor(penalty="l1", alpha=0.1, max_iter=2).fit(X, y)


def test_loss_curve_is_the_objective_and_decreases():
    """Check that loss_curve_ ends at the objective and that it decreases overall."""
    X, y = diabetes()
    model = WeightedLinearRegressor(penalty="l1", alpha=1.0).fit(X, y)
    final = objective(X, y, model.coef_, model.intercept_, 1.0, 1.0)
    assert model.loss_curve_[-1] == pytest.approx(final, rel=1e-10)
    assert model.loss_curve_[-1] <= model.loss_curve_[0]


def test_verbose_prints_progress(capsys):
    """Check that verbose prints one line per epoch with the loss and the time."""
    X, y = diabetes()
    WeightedLinearRegressor(solver="sgd", verbose=1, max_iter=3, random_state=0).fit(
        X, y
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if "Epoch" in line]
    assert len(lines) == 3
    assert "loss" in lines[0] and lines[0].endswith(" s")


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -1.0},
        {"l1_ratio": 1.5},
        {"dropout": 1.0},
        {"penalty": "l3"},
        {"solver": "lbfgs"},
        {"learning_rate_init": 0.0},
        {"batch_size": 0},
        {"max_iter": 0},
    ],
)
def test_invalid_parameters_raise(params):
    """Check that invalid parameters raise InvalidParameterError at fit."""
    X, y = synthetic()
    with pytest.raises(InvalidParameterError):
        WeightedLinearRegressor(**params).fit(X, y)


def test_fista_with_dropout_is_refused():
    """Check that asking the full-batch solver for dropout says what to use instead."""
    X, y = synthetic()
    with pytest.raises(ValueError, match="solver='sgd'"):
        WeightedLinearRegressor(solver="fista", dropout=0.1).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_raises(bad):
    """Check that NaN or inf in X or y raises a clear ValueError."""
    X, y = synthetic()
    X_bad = X.copy()
    X_bad[3, 2] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        WeightedLinearRegressor().fit(X_bad, y)
    y_bad = y.copy()
    y_bad[0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        WeightedLinearRegressor().fit(X, y_bad)


def test_wrong_shapes_raise():
    """Check that mismatched lengths and wrong feature counts raise ValueError."""
    X, y = synthetic()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        WeightedLinearRegressor().fit(X, y[:-1])
    model = WeightedLinearRegressor().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])


def test_huge_features_raise_instead_of_nan_weights():
    """Check that features whose squares overflow raise, instead of NaN weights."""
    X, y = synthetic()
    with pytest.raises(ValueError, match="StandardScaler"):
        WeightedLinearRegressor().fit(X * 1e300, y)


@parametrize_with_checks(
    [
        WeightedLinearRegressor(),
        WeightedLinearRegressor(penalty="l1"),
        WeightedLinearRegressor(penalty="elasticnet", dropout=0.2, random_state=0),
        WeightedLinearRegressor(solver="sgd", early_stopping=True, random_state=0),
    ],
    expected_failed_checks=lambda est: (
        {
            # Mini-batch SGD draws its batches from the rows it is given:
            # repeating a row changes the batches, so the trajectory (not
            # the objective) differs. scikit-learn's SGDRegressor and
            # MLPRegressor declare the same two failures.
            "check_sample_weight_equivalence_on_dense_data": "stochastic batches",
            "check_sample_weight_equivalence_on_sparse_data": "stochastic batches",
        }
        if est.dropout > 0 or est.early_stopping
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that every configuration passes scikit-learn's estimator checks."""
    check(estimator)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_fit_intercept_false_learns_no_intercept(solver):
    """Check that stochastic solvers without intercept find the no-intercept optimum."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 2))
    y = X @ np.array([1.0, 2.0]) + 5.0 + 0.1 * rng.normal(size=400)
    exact = WeightedLinearRegressor(fit_intercept=False).fit(X, y)
    model = WeightedLinearRegressor(
        fit_intercept=False, solver=solver, random_state=0, max_iter=200
    ).fit(X, y)
    assert model.intercept_ == 0.0
    best = objective(X, y, exact.coef_, 0.0, 1e-4, 0.0)
    assert objective(X, y, model.coef_, 0.0, 1e-4, 0.0) <= 1.02 * best
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=0.15)
    # The data's intercept is 5: weights that leaned on a learned intercept
    # would be the true [1, 2], far from the no-intercept optimum.
    assert np.abs(model.coef_ - [1.0, 2.0]).max() > 0.3
