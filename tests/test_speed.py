"""Tests of the fast paths: the active-set walk, the NumPy scores, Newton on X^T D X."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, make_regression
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler

from sk_weights import WeightedLinearClassifier, WeightedLinearRegressor
from sk_weights import _full_batch as full_batch
from sk_weights._active_set import _principal_submatrix, solve_small_quadratic
from sk_weights._scores import accuracy, r2


def diabetes():
    """The diabetes data, standardised."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def lasso_objective(X, y, coef, intercept, alpha, l1_ratio=1.0):
    """The elastic-net objective of the user guide, written out here."""
    residual = y - X @ coef - intercept
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    return 0.5 * np.mean(residual**2) + alpha * penalty


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 1.0, 5.0, 20.0])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_active_set_reaches_the_optimum_of_elastic_net(alpha, l1_ratio):
    """Check that the small Gram path reaches ElasticNet's tight optimum, same zeros."""
    X, y = diabetes()
    model = WeightedLinearRegressor(
        penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio
    ).fit(X, y)
    anchor = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000)
    anchor.fit(X, y)
    ours = lasso_objective(X, y, model.coef_, model.intercept_, alpha, l1_ratio)
    best = lasso_objective(X, y, anchor.coef_, anchor.intercept_, alpha, l1_ratio)
    assert ours <= best * (1 + 1e-12)
    np.testing.assert_array_equal(model.coef_ == 0, anchor.coef_ == 0)
    np.testing.assert_allclose(model.coef_, anchor.coef_, rtol=1e-6, atol=1e-8)
    assert model.stop_reason_ == "converged"
    # One record per step, the objective never rising.
    curve = np.array(model.loss_curve_)
    assert len(curve) == model.n_iter_
    assert np.all(np.diff(curve) <= 1e-12 * np.abs(curve[1:]))


def test_active_set_walk_satisfies_the_optimality_conditions():
    """Check the walk's result against the lasso's optimality conditions."""
    X, y = make_regression(300, 60, n_informative=10, noise=5.0, random_state=0)
    Xc, yc = X - X.mean(0), y - y.mean()
    matrix, linear = Xc.T @ Xc / len(y), Xc.T @ yc / len(y)
    l1 = 0.2 * np.abs(linear).max()
    tolerance = 1e-11 * np.abs(linear).max()
    cold = solve_small_quadratic(matrix, linear, l1, np.zeros(60), 1000, tolerance)
    start = np.random.default_rng(0).normal(size=60)
    warm = solve_small_quadratic(matrix, linear, l1, start, 1000, tolerance)
    anchor = Lasso(alpha=l1, tol=1e-14, max_iter=100_000).fit(X, y).coef_
    for coef, _, converged, _ in (cold, warm):
        assert converged
        gradient = matrix @ coef - linear
        active = coef != 0
        np.testing.assert_allclose(
            gradient[active], -l1 * np.sign(coef[active]), atol=10 * tolerance
        )
        assert np.all(np.abs(gradient[~active]) <= l1 + tolerance)
        np.testing.assert_array_equal(active, anchor != 0)


@pytest.mark.parametrize("share", [1e-4, 5e-4])
def test_a_weak_penalty_walks_from_the_unpenalised_solution(share):
    """Check that below a thousandth of alpha_max the walk starts from the
    unpenalised solution and removes weights, in a few steps where the walk
    from zero adds them one by one, and still meets the lasso's optimality
    conditions with scikit-learn's zeros."""
    X, y = make_regression(300, 60, n_informative=10, noise=5.0, random_state=1)
    Xc, yc = X - X.mean(0), y - y.mean()
    matrix, linear = Xc.T @ Xc / len(y), Xc.T @ yc / len(y)
    l1 = share * np.abs(linear).max()
    tolerance = 1e-11 * np.abs(linear).max()
    coef, steps, converged, _ = solve_small_quadratic(
        matrix, linear, l1, np.zeros(60), 1000, tolerance
    )
    assert converged
    assert steps < 60 - np.count_nonzero(coef) + 10  # not one step per weight
    gradient = matrix @ coef - linear
    active = coef != 0
    np.testing.assert_allclose(
        gradient[active], -l1 * np.sign(coef[active]), atol=10 * tolerance
    )
    assert np.all(np.abs(gradient[~active]) <= l1 + tolerance)
    anchor = Lasso(alpha=l1, tol=1e-14, max_iter=1_000_000).fit(X, y).coef_
    np.testing.assert_array_equal(active, anchor != 0)


def test_scores_equal_scikit_learns():
    """Check that the NumPy R² and accuracy equal scikit-learn's metrics."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 3))
    prediction = y + rng.normal(scale=0.3, size=y.shape)
    weight = rng.uniform(0.1, 2.0, size=50)
    for w in (None, weight):
        expected = r2_score(y, prediction, sample_weight=w)
        assert r2(y, prediction, w) == pytest.approx(expected)
        assert r2(y[:, 0], prediction[:, 0], w) == pytest.approx(
            r2_score(y[:, 0], prediction[:, 0], sample_weight=w)
        )
    constant = np.ones((10, 2))
    guess = np.column_stack([np.ones(10), np.arange(10.0)])
    assert r2(constant, constant) == r2_score(constant, constant) == 1.0
    assert r2(constant, guess) == r2_score(constant, guess) == 0.5
    labels = rng.choice(np.array(["a", "b", "c"]), size=50)
    guessed = np.where(rng.uniform(size=50) < 0.3, "a", labels)
    indicator = rng.integers(0, 2, size=(50, 4))
    flipped = indicator.copy()
    flipped[::3, 1] ^= 1
    for w in (None, weight):
        assert accuracy(labels, guessed, w) == pytest.approx(
            accuracy_score(labels, guessed, sample_weight=w)
        )
        assert accuracy(indicator, flipped, w) == pytest.approx(
            accuracy_score(indicator, flipped, sample_weight=w)
        )


def softmax_objective(X, y, coef, intercept, alpha, sample_weight):
    """The penalised weighted mean log loss (binary or softmax), written out here."""
    eta = X @ coef.T + intercept
    if coef.shape[0] == 1:
        eta = np.column_stack([np.zeros(len(y)), eta[:, 0]])
    classes = np.unique(y)
    chosen = eta[np.arange(len(y)), np.searchsorted(classes, y)]
    loss = np.logaddexp.reduce(eta, axis=1) - chosen
    p = sample_weight / sample_weight.sum()
    return p @ loss + 0.5 * alpha * np.sum(coef * coef)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_newton_on_the_explicit_hessian_reaches_the_optimum(n_classes, weighted):
    """Check that Newton on X^T D X reaches LogisticRegression's tight optimum."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from sk_weights import WeightedLinearClassifier
    from sk_weights._newton import newton_pays

    X, y = make_classification(
        3000, 12, n_informative=6, n_classes=n_classes, random_state=0
    )
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.2, 3.0, size=len(y)) if weighted else np.ones(len(y))
    assert newton_pays(X, 1 if n_classes == 2 else n_classes)
    alpha = 1e-3
    model = WeightedLinearClassifier(penalty="l2", alpha=alpha)
    model.fit(X, y, sample_weight=weight)
    anchor = LogisticRegression(
        C=1 / (alpha * weight.sum()), tol=1e-12, max_iter=10_000
    )
    anchor.fit(X, y, sample_weight=weight)
    ours = softmax_objective(X, y, model.coef_, model.intercept_, alpha, weight)
    best = softmax_objective(X, y, anchor.coef_, anchor.intercept_, alpha, weight)
    assert ours - best <= 1e-8 * abs(best)
    assert model.stop_reason_ == "converged"
    np.testing.assert_allclose(model.coef_, anchor.coef_, rtol=1e-4, atol=1e-6)
    curve = np.array(model.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * np.abs(curve[1:]))
    assert model.zero_fraction_curve_.shape == (len(curve), 1)


def test_weighted_gram_equals_the_direct_product(monkeypatch):
    """Check the blocked rank-k Hessian against the product written out."""
    from sk_weights import _newton

    monkeypatch.setattr(_newton, "_BLOCK_BYTES", 8 * 8 * 333)  # several blocks

    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 7))
    h = rng.uniform(size=5000)
    ones = np.column_stack([X, np.ones(5000)])
    np.testing.assert_allclose(
        _newton.weighted_gram(X, h, True), ones.T @ (ones * h[:, None]), rtol=1e-12
    )
    np.testing.assert_allclose(
        _newton.weighted_gram(X, h, False), X.T @ (X * h[:, None]), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("form", ["dense", "csr", "csc", "coo"])
def test_feature_statistics_equal_numpys_without_copying_x(dtype, form):
    """Check the weighted means and deviations against NumPy, X not copied."""
    import tracemalloc

    from sk_weights._base import weighted_feature_mean, weighted_feature_std

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(3000, 400)) * (rng.uniform(size=(3000, 400)) < 0.05)
    dense[:, 3] *= 1e150  # squares would overflow
    dense = (dense if dtype == np.float64 else dense / 1e150).astype(dtype)
    X = dense if form == "dense" else sp.random(1, 1).asformat(form).__class__(dense)
    weight = rng.uniform(0.5, 2.0, size=3000)
    p = weight / weight.sum()
    reference = dense.astype(np.float64)
    mean = p @ reference
    scale = np.abs(reference).max(axis=0)
    scale[scale == 0] = 1
    std = scale * np.sqrt(p @ ((reference / scale - mean / scale) ** 2))
    tracemalloc.start()
    got_mean = weighted_feature_mean(X, weight)
    got_std = weighted_feature_std(X, weight)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(got_std, std, rtol=1e-9, atol=1e-300)
    size = X.nbytes if form == "dense" else X.data.nbytes + X.nnz * 4
    if form != "coo":  # COO is converted to CSR first
        # At most a few float64 blocks of a MiB, or half of X: never a copy.
        assert peak < max(0.5 * size, 4 * 2**20)


def _lasso_problem(loader_or_data):
    """The centred Gram matrix and correlations of standardised data."""
    X, y = loader_or_data
    X = StandardScaler().fit_transform(X)
    y = y - y.mean()
    return X.T @ X / len(y), X.T @ y / len(y)


@pytest.mark.parametrize("data", ["diabetes", "regression"])
def test_the_walk_lowers_the_objective_at_every_strength(data):
    """Check that the walk from zero reaches the optimum itself at 40 strengths
    from alpha_max down (it gives up, for the slow fallback, only when a step
    fails to lower the objective: a weight entering the support with the wrong
    step once made it give up on diabetes at 3 % of alpha_max)."""
    source = (
        load_diabetes(return_X_y=True)
        if data == "diabetes"
        else make_regression(300, 60, n_informative=10, noise=5.0, random_state=2)
    )
    matrix, linear = _lasso_problem(source)
    largest = np.abs(linear).max()
    tolerance = 1e-11 * largest
    for share in np.geomspace(1.0, 1e-3, 40):
        l1 = share * largest
        walked = solve_small_quadratic(
            matrix, linear, l1, np.zeros(linear.size), 1000, tolerance
        )
        assert walked is not None, f"the walk gave up at {share:.3g} x alpha_max"
        coef, steps, converged, curve = walked
        assert converged
        values = np.array([entry[0] for entry in curve])
        assert np.all(np.diff(values) <= 1e-12 * np.abs(values[1:]))
        gradient = matrix @ coef - linear
        active = coef != 0
        np.testing.assert_allclose(
            gradient[active], -l1 * np.sign(coef[active]), atol=10 * tolerance
        )
        assert np.all(np.abs(gradient[~active]) <= l1 + tolerance)


@pytest.mark.parametrize("share", [0.1, 0.03, 0.01])
def test_a_cold_start_guesses_the_support_in_a_few_solves(share):
    """Check that from zero the walk starts on a guessed support (solves on the
    weights that violate their condition, dropping wrong signs) and needs a few
    steps where the optimum has 60 to 100 nonzero weights of correlated
    features (the walk from zero adds them one step each), with scikit-learn's
    zeros."""
    X, y = make_regression(
        500, 100, n_informative=40, noise=20.0, effective_rank=20, random_state=1
    )
    matrix, linear = _lasso_problem((X, y))
    l1 = share * np.abs(linear).max()
    tolerance = 1e-11 * np.abs(linear).max()
    coef, steps, converged, curve = solve_small_quadratic(
        matrix, linear, l1, np.zeros(100), 1000, tolerance
    )
    assert converged
    assert np.count_nonzero(coef) > 60
    assert steps <= 5 and len(curve) == steps
    anchor = Lasso(alpha=l1, tol=1e-14, max_iter=1_000_000)
    anchor.fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_array_equal(coef != 0, anchor.coef_ != 0)
    np.testing.assert_allclose(coef, anchor.coef_, rtol=1e-8, atol=1e-10)


def test_a_working_set_keeps_the_support_when_violations_tie():
    """Check the choice of a set: the support, then the worst violators, ties
    to the first features. Ties at the threshold among earlier features once
    pushed a later support feature out of the set."""
    violation = np.array([5.0, 5.0, 5.0, 5.0, 0.0, 7.0, 0.0, 0.0, 0.0, 2.0])
    work = full_batch._working_set(violation.copy(), np.array([9]), 4, 1.0)
    np.testing.assert_array_equal(work, [0, 1, 5, 9])
    # Every violation infinite (the threshold too): the support still first.
    work = full_batch._working_set(np.full(6, np.inf), np.array([4, 5]), 3, 1.0)
    np.testing.assert_array_equal(work, [0, 4, 5])


def test_a_working_set_is_the_support_and_the_worst_violators():
    """Check sets against a sort: at most ``size`` features, the whole
    support, no violator left out that beats one taken, and ties at the
    threshold to the first features (values rounded so that many tie)."""
    split_ties = 0
    for seed in range(10):
        generator = np.random.default_rng(seed)
        violation = np.round(generator.exponential(size=300), 1)
        support = np.sort(generator.choice(300, 20, replace=False))
        work = full_batch._working_set(violation.copy(), support, 60, 0.5)
        assert work.size == 60 and np.all(np.diff(work) > 0)
        assert np.isin(support, work).all()
        taken = np.setdiff1d(work, support)
        left = np.setdiff1d(np.flatnonzero(violation > 0.5), work)
        left = np.setdiff1d(left, support)
        assert violation[taken].min() >= violation[left].max()
        tie = violation[taken].min()
        later = left[violation[left] == tie]
        if later.size:
            split_ties += 1
            assert taken[violation[taken] == tie].max() < later.min()
    assert split_ties >= 3


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_a_squared_loss_set_is_solved_without_the_predictor(loss, monkeypatch):
    """Check that a squared-loss fit drops its predictor (a vector of
    n_samples) while it solves a working set, and rebuilds it after from the
    set's columns, exactly: the records' last objective is that of the
    weights. The logistic loss keeps it, for its line search."""
    problems = []

    class Spied(full_batch._Problem):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            problems.append(self)

    held = []

    def solve_one(*args, **kwargs):
        held.append(problems[-1].eta is not None)
        return solve(*args, **kwargs)

    solve = full_batch._solve_one
    monkeypatch.setattr(full_batch, "_Problem", Spied)
    monkeypatch.setattr(full_batch, "_solve_one", solve_one)
    X = sp.random(300, 500, density=0.02, format="csr", random_state=0)
    y = np.asarray(X[:, :20] @ np.linspace(-1, 1, 20)).ravel()
    if loss == "squared_error":
        model = WeightedLinearRegressor(penalty="l1", alpha=1e-4).fit(X, y)
        data_loss = 0.5 * np.mean((y - X @ model.coef_ - model.intercept_) ** 2)
        assert not any(held) and len(held) >= 2
        # The data loss of the records, at the solver's last predictor.
        np.testing.assert_allclose(model.train_loss_, data_loss, rtol=1e-12)
        objective = data_loss + 1e-4 * np.abs(model.coef_).sum()
        np.testing.assert_allclose(model.loss_curve_[-1], objective, rtol=1e-13)
    else:
        WeightedLinearClassifier(penalty="l1", alpha=1e-3).fit(X, y > np.median(y))
        assert all(held) and len(held) >= 2


@pytest.mark.parametrize("size", [0, 1, 31, 33, 300, 400])
def test_principal_submatrix_holds_no_whole_rows_beside_it(size):
    """Check that the walk's submatrix is NumPy's ``M[np.ix_(i, i)]`` for sorted
    supports of any size (whole blocks, a partial one, every row), and that
    building it holds no more than one block of 32 whole rows beside it."""
    import tracemalloc

    rng = np.random.default_rng(size)
    root = rng.standard_normal((400, 400))
    matrix = root @ root.T
    index = np.sort(rng.choice(400, size, replace=False))
    expected = matrix[np.ix_(index, index)]
    tracemalloc.start()
    sub = _principal_submatrix(matrix, index)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(sub, expected)
    assert sub.flags.c_contiguous and not np.shares_memory(sub, matrix)
    # Whole rows of the support would add size * 400 values: 960 KB at 300.
    assert peak <= sub.nbytes + 32 * 400 * 8 + 10_000


# -- the plain-array fast path of input validation -------------------------------

PLAIN_OPTIONS = {
    "accept_sparse": ["csr", "csc"],
    "dtype": [np.float64, np.float32],
    "multi_output": True,
    "y_numeric": True,
}


def _plain_inputs():
    """Plain arrays that validate_data returns as they are."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    sparse = sp.random(30, 4, density=0.3, random_state=0, format="csr")
    return [
        (X, rng.normal(size=30)),
        (np.asfortranarray(X), rng.normal(size=30)),
        (X.astype(np.float32), rng.normal(size=30).astype(np.float32)),
        (X, rng.integers(0, 3, size=30)),
        (X, rng.normal(size=(30, 2))),
        (X[:1], np.array([1.5])),
        (X[:, :1], rng.normal(size=30)),
        (sparse, rng.normal(size=30)),
        (sparse.tocsc().astype(np.float32), rng.normal(size=30)),
        (sp.csr_array(sparse), rng.normal(size=30)),
        (sp.csr_matrix((30, 4)), rng.normal(size=30)),  # no stored value
    ]


@pytest.mark.parametrize("case", range(11))
def test_plain_arrays_are_validated_as_scikit_learn_does(case):
    """Check that the fast path returns what validate_data returns, the same
    objects, and sets the same attributes, with and without reset; for dense
    arrays and for CSR and CSC matrices of an accepted format."""
    from sklearn.utils.validation import validate_data

    from sk_weights._validation import _plain_arrays, validate_input

    X, y = _plain_inputs()[case]
    ours, theirs = WeightedLinearRegressor(), WeightedLinearRegressor()
    # A stale attribute of an earlier fit on a data frame must go.
    ours.feature_names_in_ = theirs.feature_names_in_ = np.array(["a", "b"])
    fast = _plain_arrays(ours, X, y, reset=True, **PLAIN_OPTIONS)
    assert fast is not None
    expected = validate_data(theirs, X, y, reset=True, **PLAIN_OPTIONS)
    # Both return the very arrays passed in.
    assert fast[0] is expected[0] is X
    assert fast[1] is expected[1] is y
    assert ours.n_features_in_ == theirs.n_features_in_ == X.shape[1]
    assert not hasattr(ours, "feature_names_in_")
    assert not hasattr(theirs, "feature_names_in_")
    formats = {"accept_sparse": X.format} if hasattr(X, "format") else {}
    again = validate_input(ours, X, reset=False, dtype=X.dtype, **formats)
    assert again is validate_data(theirs, X, reset=False, dtype=X.dtype, **formats)


def test_inputs_to_refuse_or_convert_take_scikit_learns_path():
    """Check that every input the fast path does not return as it is goes to
    validate_data: its errors (with advice) and its conversions."""
    import pandas as pd

    from sk_weights._validation import _plain_arrays, validate_input

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    with_nan, with_inf = X.copy(), y.copy()
    with_nan[3, 1], with_inf[5] = np.nan, np.inf
    refused = {
        "NaN in X": (with_nan, y, "contains NaN"),
        "inf in y": (X, with_inf, "contains infinity"),
        "fewer targets": (X, y[:-1], "inconsistent numbers of samples"),
        "no rows": (X[:0], y[:0], "0 sample"),
        "no columns": (X[:, :0], y, "0 feature"),
        "complex X": (X + 1j, y, "Complex data"),
        "3-D X": (X[:, :, None], y, "2-D array"),
        "y None": (X, None, "requires y to be passed"),
        "NaN in sparse X": (sp.csr_matrix(with_nan), y, "contains NaN"),
        "sparse X, fewer targets": (sp.csc_matrix(X), y[:-1], "inconsistent"),
    }
    for name, (X_bad, y_bad, message) in refused.items():
        assert (
            _plain_arrays(WeightedLinearRegressor(), X_bad, y_bad, **PLAIN_OPTIONS)
            is None
        ), name
        with pytest.raises(ValueError, match=message):
            WeightedLinearRegressor().fit(X_bad, y_bad)
    converted = {
        "int X": (X.astype(int), y),
        "list y": (X, list(y)),
        "bool y": (X, y > 0),
        "COO X": (sp.coo_matrix(X), y),
        "integer CSR X": (sp.csr_matrix(X.round()).astype(np.int64), y),
        "data frame": (pd.DataFrame(X, columns=["a", "b", "c"]), y),
        "y a column": (X, y[:, None]),
    }
    for name, (X_in, y_in) in converted.items():
        options = dict(PLAIN_OPTIONS, multi_output=name != "y a column")
        assert _plain_arrays(WeightedLinearRegressor(), X_in, y_in, **options) is None
        model = WeightedLinearRegressor(alpha=1e-3).fit(X_in, y_in)
        assert model.n_features_in_ == 3
    # Predicting: the fitted feature count and names are checked.
    model = WeightedLinearRegressor().fit(X, y)
    with pytest.raises(ValueError, match="is expecting 3 features"):
        model.predict(X[:, :2])
    named = WeightedLinearRegressor().fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        named.predict(X)
    with pytest.raises(ValueError, match="contains NaN"):
        validate_input(model, with_nan, reset=False, dtype=np.float64)


def test_fit_and_predict_on_plain_arrays_skip_validate_data(monkeypatch):
    """Check that the fast path is the one taken for plain arrays (and that the
    slow path is still there for the rest)."""
    import sk_weights._validation as validation

    X, y = diabetes()

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data was called")

    monkeypatch.setattr(validation, "validate_data", refuse)
    model = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y)
    assert model.predict(X).shape == (len(y),)
    assert model.score(X, y) == pytest.approx(model.train_score_)
    for sparse in (sp.csr_matrix(X), sp.csc_matrix(X)):
        fitted = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(sparse, y)
        np.testing.assert_allclose(fitted.coef_, model.coef_, rtol=1e-9)
        np.testing.assert_allclose(fitted.predict(sparse), model.predict(X))
    with pytest.raises(AssertionError, match="validate_data was called"):
        model.predict(X.tolist())


def test_parameter_verdicts_are_cached_by_value_and_type():
    """Check that a valid value's verdict is remembered, but an equal value of
    another type (5.0 for 5, True for 1) and unhashable values are judged on
    their own, with scikit-learn's message."""
    from sklearn.utils._param_validation import InvalidParameterError

    from sk_weights._base import _allowed_value

    X, y = diabetes()
    WeightedLinearRegressor(max_iter=5).fit(X, y)
    before = _allowed_value.cache_info().hits
    WeightedLinearRegressor(max_iter=5).fit(X, y)
    assert _allowed_value.cache_info().hits > before
    with pytest.raises(InvalidParameterError, match="'max_iter' parameter"):
        WeightedLinearRegressor(max_iter=5.0).fit(X, y)
    with pytest.raises(InvalidParameterError, match="True and False are not counts"):
        WeightedLinearRegressor(max_iter=True).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        WeightedLinearRegressor(alpha=[1.0]).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'alpha' parameter"):
        WeightedLinearRegressor(alpha=-1.0).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_sparse_feature_mean_is_exact_and_copies_nothing(layout, dtype):
    """Check the weighted feature mean of sparse X (as the estimators pass it)
    against dense X, and that it allocates far less than X's stored values
    (no copy of them)."""
    import tracemalloc

    from sk_weights._statistics import feature_mean

    X = sp.random(3000, 400, density=0.05, format=layout, random_state=0)
    X = X.astype(dtype)
    weights = np.random.default_rng(0).uniform(size=3000)
    weights /= weights.sum()
    expected = weights @ X.toarray().astype(np.float64)
    tracemalloc.start()
    mean = feature_mean(X, weights)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(mean, expected, rtol=1e-12, atol=1e-15)
    assert peak < 0.5 * X.nnz * 8


@pytest.mark.parametrize("layout", ["csr", "csc"])
def test_compressed_bounds_cover_every_stored_value_once(layout):
    """Check the runs of rows (columns for CSC) that the sparse passes read:
    in order, ending at the last row, each of about the asked share of the
    stored values (at least the minimum), together every stored value once;
    rows without a stored value at the start may be left out, and an empty
    X gives no run."""

    from sk_weights._statistics import compressed_bounds

    X = sp.random(500, 40, density=0.2, format="csr", random_state=1).tolil()
    X[:7] = 0  # empty rows first, and some in the middle
    X[200:230] = 0
    X = X.asformat(layout)
    X.eliminate_zeros()
    for parts, minimum in ((8, 1), (64, 1), (4, 1000), (1, 1)):
        bounds = compressed_bounds(X, parts, minimum)
        length = X.indptr.size - 1
        assert bounds[-1] == length and np.all(np.diff(bounds) > 0)
        assert X.indptr[bounds[0]] == 0  # nothing before the first run
        values = np.diff(X.indptr[bounds])
        assert values.sum() == X.nnz
        per_part = max(X.nnz // parts, minimum)
        # A run ends at a row's end: it may hold up to one row more.
        row_max = np.diff(X.indptr).max()
        assert values.max() <= per_part + row_max
        assert len(values) <= parts + 1
    empty = sp.csr_matrix((5, 3)).asformat(layout)
    np.testing.assert_array_equal(
        compressed_bounds(empty, 8, 1), [empty.shape[0 if layout == "csr" else 1]]
    )


# -- the fit records from the solver's predictor -----------------------------------


def _record_cases():
    """Fits on X of each solver path, float64 and float32."""
    from sk_weights import WeightedLinearClassifier

    rng = np.random.default_rng(5)
    wide = sp.random(200, 600, density=0.05, random_state=5, format="csr")
    tall = rng.normal(size=(3000, 8))
    y_wide = wide[:, :10] @ rng.normal(size=10) + 0.1 * rng.normal(size=200)
    y_tall = tall @ rng.normal(size=8) + rng.normal(size=3000)
    return {
        "working sets": (
            WeightedLinearRegressor(penalty="l1", alpha=1e-3),
            wide,
            y_wide,
        ),
        "two targets": (
            WeightedLinearRegressor(penalty="l1", alpha=1e-3),
            wide,
            np.column_stack([y_wide, -y_wide]),
        ),
        "dual ridge": (WeightedLinearRegressor(alpha=1e-2), wide.toarray(), y_wide),
        "newton-cg": (WeightedLinearRegressor(alpha=1e-2), wide, y_wide),
        "poisson L1": (
            WeightedLinearRegressor(loss="poisson", penalty="l1", alpha=1e-3),
            tall / 4,
            rng.poisson(np.exp(tall[:, 0] / 4)).astype(float),
        ),
        "newton logistic": (WeightedLinearClassifier(alpha=1e-3), tall, y_tall > 0),
        "sparse logistic L1": (
            WeightedLinearClassifier(penalty="l1", alpha=1e-3),
            wide,
            y_wide > 0,
        ),
    }


@pytest.mark.parametrize("case", list(_record_cases()))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_records_take_the_solvers_predictor(case, dtype, monkeypatch):
    """Check that a full-batch fit on X records train_loss_ and train_score_
    from its solver's final predictor (no prediction anew on float64 X), and
    that they equal the records of the fitted model's own predictions."""
    model, X, y = _record_cases()[case]
    X = X.astype(dtype)
    fresh = type(model)(**model.get_params())
    with np.errstate(all="ignore"):
        model.fit(X, y)
    assert model.solver_ == "x"
    # The records of a fit that must predict anew: the fitted weights given,
    # the data as the fit validated it.
    fresh.__dict__.update(model.__dict__)
    X, y = fresh._validate_training_data(X, y, reset=False)
    data = fresh._encode_target(
        X,
        y,
        np.ones(X.shape[0], dtype=X.dtype),
        partial=False,
        continuing=False,
        classes=None,
    )
    fresh._record_fit_quality(data, False, model.feature_mean_)
    assert model.train_loss_ == pytest.approx(fresh.train_loss_, rel=1e-10)
    assert model.train_score_ == pytest.approx(fresh.train_score_, rel=1e-10)
    predictions = []
    method = (
        "_predict_values" if hasattr(model, "_predict_values") else "_probabilities"
    )
    original = getattr(type(model), method)
    monkeypatch.setattr(
        type(model),
        method,
        lambda self, X: predictions.append(1) or original(self, X),
    )
    with np.errstate(all="ignore"):
        model.fit(X, y)
    assert len(predictions) == (1 if dtype == np.float32 else 0)


@pytest.mark.parametrize("case", list(_record_cases()))
def test_cold_fit_takes_no_product_with_zero_weights(case, monkeypatch):
    """Check that no solver path multiplies X by all-zero weights: a cold
    start's predictor is zero (on 20000 x 5000 sparse X the product took
    0.2 ms of a 5 ms fit)."""
    model, X, y = _record_cases()[case]
    zero_products = []
    original = full_batch.DataOperator.dot

    def recording(self, v):
        zero_products.append(not np.any(v))
        return original(self, v)

    monkeypatch.setattr(full_batch.DataOperator, "dot", recording)
    with np.errstate(all="ignore"):
        model.fit(X, y)
    assert model.solver_ == "x"
    assert not any(zero_products)
