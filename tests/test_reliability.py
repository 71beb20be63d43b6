"""Reliability: clear errors for bad input, a divergence guard that loses
nothing, and bit-identical results for the same seed."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 4))
Y_REG = X @ np.array([1.0, -2.0, 3.0, 0.5]) + 0.1 * rng.normal(size=60)
Y_CLF = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")


def regressor(**params):
    return WeightedLinearRegressor(**params)


def classifier(**params):
    return MLPWeightsClassifier(hidden_layer_sizes=(5,), max_iter=20, **params)


ESTIMATORS = {"linear": (regressor, Y_REG), "mlp": (classifier, Y_CLF)}


def with_value(array, index, value, dtype=float):
    array = np.array(array, dtype=dtype)
    array[index] = value
    return array


# Each case: (what is fed, how to call, the exception, a phrase of the cure).
BAD_INPUTS = {
    "NaN in X": (
        lambda est, y: est.fit(with_value(X, (0, 0), np.nan), y),
        "impute",
    ),
    "inf in X": (lambda est, y: est.fit(with_value(X, (0, 0), np.inf), y), "clip"),
    "empty X": (lambda est, y: est.fit(X[:0], y[:0]), "at least one sample"),
    "1-D X": (lambda est, y: est.fit(X[:, 0], y), "reshape"),
    "3-D X": (lambda est, y: est.fit(X[:, :, None], y), "2-D array"),
    "X and y of different lengths": (
        lambda est, y: est.fit(X, y[:-1]),
        "one entry per sample",
    ),
    "complex X": (lambda est, y: est.fit(X + 1j, y), "real and imaginary"),
    "strings in X": (
        lambda est, y: est.fit(np.array([["a", "b"]] * len(y)), y),
        "OneHotEncoder",
    ),
    "negative sample_weight": (
        lambda est, y: est.fit(X, y, sample_weight=with_value(np.ones(60), 3, -1)),
        "non-negative",
    ),
    "NaN sample_weight": (
        lambda est, y: est.fit(X, y, sample_weight=with_value(np.ones(60), 3, np.nan)),
        "finite, non-negative weight",
    ),
    "all-zero sample_weight": (
        lambda est, y: est.fit(X, y, sample_weight=np.zeros(60)),
        "positive weight",
    ),
    "sample_weight of the wrong length": (
        lambda est, y: est.fit(X, y, sample_weight=np.ones(59)),
        "one weight per sample",
    ),
    "wrong feature count at predict": (
        lambda est, y: est.fit(X, y).predict(X[:, :3]),
        "same feature columns",
    ),
    "partial_fit with a different feature count": (
        lambda est, y: _partial(est, X, y).partial_fit(X[:, :3], y),
        "same feature columns",
    ),
}


def _partial(est, X, y):
    if isinstance(est, MLPWeightsClassifier):
        return est.partial_fit(X, y, classes=np.unique(y))
    return est.partial_fit(X, y)


@pytest.mark.parametrize("kind", list(ESTIMATORS))
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_error(kind, case):
    """Check that each bad input raises ValueError with a message saying what to do."""
    make, y = ESTIMATORS[kind]
    call, cure = BAD_INPUTS[case]
    estimator = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError) as info:
            call(estimator, y)
    assert cure.lower() in str(info.value).lower()


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_nan_and_inf_in_y(kind):
    """Check that NaN and inf in y are refused with advice."""
    make, y = ESTIMATORS[kind]
    for bad in (np.nan, np.inf):
        y_bad = with_value(Y_REG, 0, bad)
        with pytest.raises(ValueError, match="contains (NaN|infinity)") as info:
            make().fit(X, y_bad)
        assert "impute" in str(info.value) or "clip" in str(info.value)


def test_single_class_is_refused():
    """Check that a classifier given one class says it needs two."""
    with pytest.raises(ValueError, match="at least two classes"):
        classifier().fit(X, np.full(60, "yes"))


def test_partial_fit_with_an_unannounced_label():
    """Check that a label missing from classes= on the first call is refused later."""
    model = classifier().partial_fit(X, Y_CLF, classes=["no", "yes"])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, np.where(Y_CLF == "yes", "maybe", "no"))
    with pytest.raises(ValueError, match="classes must be passed"):
        classifier().partial_fit(X, Y_CLF)


INVALID_PARAMETERS = [
    ("linear", {"alpha": -0.1}),
    ("linear", {"l1_ratio": 1.1}),
    ("linear", {"l1_ratio": -0.1}),
    ("linear", {"dropout": 1.0}),
    ("linear", {"dropout": -0.1}),
    ("linear", {"penalty": "l3"}),
    ("linear", {"solver": "newton"}),
    ("linear", {"learning_rate": "fast"}),
    ("linear", {"max_iter": 0}),
    ("linear", {"tol": -1.0}),
    ("linear", {"validation_fraction": 1.0}),
    ("mlp", {"alpha": -0.1}),
    ("mlp", {"l1_ratio": 2.0}),
    ("mlp", {"dropout": 1.0}),
    ("mlp", {"dropout": [0.5, 0.1]}),
    ("mlp", {"hidden_layer_sizes": (0,)}),
    ("mlp", {"hidden_layer_sizes": (5, -1)}),
    ("mlp", {"activation": "gelu"}),
    ("mlp", {"solver": "newton"}),
    ("mlp", {"max_fun": 0}),
    ("mlp", {"class_weight": "heavy"}),
    ("mlp", {"momentum": 1.5}),
    ("mlp", {"batch_size": 0}),
]


@pytest.mark.parametrize("kind, params", INVALID_PARAMETERS)
def test_invalid_parameters_raise_invalid_parameter_error(kind, params):
    """Check that every invalid parameter raises InvalidParameterError at fit."""
    make, y = ESTIMATORS[kind]
    estimator = make()
    estimator.set_params(**params)
    with pytest.raises(InvalidParameterError):
        estimator.fit(X, y)


# -- divergence ---------------------------------------------------------------

X_UNSCALED = X * 1e3


DIVERGING = {
    "linear-sgd": (
        lambda: regressor(solver="sgd", learning_rate_init=10.0, random_state=0),
        Y_REG * 1e3,
    ),
    "linear-adam": (
        lambda: regressor(solver="adam", learning_rate_init=1e6, random_state=0),
        Y_REG * 1e3,
    ),
    "mlp-sgd": (
        lambda: classifier(solver="sgd", learning_rate_init=1e4, random_state=0),
        Y_CLF,
    ),
    "mlp-adam": (
        lambda: classifier(solver="adam", learning_rate_init=1e9, random_state=0),
        Y_CLF,
    ),
}


def _weights(model):
    if isinstance(model, MLPWeightsClassifier):
        return [w.copy() for w in model.coefs_ + model.intercepts_]
    return [np.array(model.coef_, copy=True), np.array(model.intercept_)]


@pytest.mark.parametrize("case", list(DIVERGING))
def test_divergence_is_caught_and_nothing_is_lost(case):
    """Check the guard: a clear error naming epoch, cause and cure; weights kept."""
    make, y = DIVERGING[case]
    model = make()
    model.set_params(warm_start=True)
    learning_rate = model.learning_rate_init
    model.set_params(learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    before = _weights(model)
    prediction = model.predict(X)
    model.set_params(learning_rate_init=learning_rate)
    with warnings.catch_warnings():
        # No overflow RuntimeWarning may reach the user on the way.
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match=r"diverged at epoch \d+") as info:
            model.fit(X_UNSCALED, y)
    message = str(info.value)
    assert "learning rate" in message and "StandardScaler" in message
    for old, new in zip(before, _weights(model)):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(model.predict(X), prediction)
    # Still usable: a sane learning rate trains again.
    model.set_params(learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert all(np.isfinite(w).all() for w in _weights(model))


@pytest.mark.parametrize("case", list(DIVERGING))
def test_divergence_in_partial_fit_keeps_the_weights(case):
    """Check that a diverging partial_fit leaves the previous weights bit for bit.

    partial_fit goes on with the optimiser's state (SGD keeps its learning
    rate), so the divergence comes from a chunk of much larger scale.
    """
    make, y = DIVERGING[case]
    model = make()
    learning_rate = model.learning_rate_init
    model.set_params(learning_rate_init=1e-3)
    _partial(model, X, y)
    before = _weights(model)
    n_iter = model.n_iter_
    model.set_params(learning_rate_init=learning_rate)
    for _ in range(5):
        try:
            model.partial_fit(X_UNSCALED * 100, y)
        except ValueError as exc:
            assert "diverged" in str(exc)
            break
        before, n_iter = _weights(model), model.n_iter_
    else:
        pytest.fail("partial_fit never reported the divergence")
    for old, new in zip(before, _weights(model)):
        np.testing.assert_array_equal(old, new)
    assert model.n_iter_ == n_iter


# -- determinism --------------------------------------------------------------

STOCHASTIC = {
    "linear-dropout": lambda seed: regressor(
        dropout=0.3, random_state=seed, max_iter=15
    ),
    "linear-adam": lambda seed: regressor(
        solver="adam", early_stopping=True, random_state=seed, max_iter=15
    ),
    "mlp-dropout": lambda seed: classifier(dropout=0.3, random_state=seed),
}


@pytest.mark.parametrize("case", list(STOCHASTIC))
def test_same_seed_gives_bit_identical_weights(case):
    """Check that one random_state gives identical weights, curves and predictions."""
    y = Y_CLF if case.startswith("mlp") else Y_REG
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = STOCHASTIC[case](7).fit(X, y)
        b = STOCHASTIC[case](7).fit(X, y)
        c = STOCHASTIC[case](None).fit(X, y)
        d = STOCHASTIC[case](None).fit(X, y)
    for wa, wb in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not all(np.array_equal(wc, wd) for wc, wd in zip(_weights(c), _weights(d)))


def test_grid_search_results_do_not_depend_on_n_jobs():
    """Check that GridSearchCV scores are identical with n_jobs=1 and n_jobs=2."""
    grid = {"alpha": [1e-4, 1e-2], "dropout": [0.0, 0.2]}
    base = regressor(solver="sgd", random_state=0, max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        one = GridSearchCV(base, grid, cv=3, n_jobs=1).fit(X, Y_REG)
        two = GridSearchCV(clone(base), grid, cv=3, n_jobs=2).fit(X, Y_REG)
    np.testing.assert_array_equal(
        one.cv_results_["mean_test_score"], two.cv_results_["mean_test_score"]
    )


# -- warnings -----------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_convergence_warning_with_advice(kind):
    """Check that reaching max_iter warns with scikit-learn's advice."""
    make, y = ESTIMATORS[kind]
    estimator = make(solver="sgd", random_state=0).set_params(max_iter=2)
    with pytest.warns(ConvergenceWarning, match="Increase max_iter"):
        estimator.fit(X, y)


@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_no_runtime_warning_in_a_normal_fit(kind):
    """Check that NumPy's RuntimeWarnings never reach the user in a normal fit."""
    make, y = ESTIMATORS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        make().fit(X, y).predict(X)


# -- properties ---------------------------------------------------------------

FIT_ERRORS = (ValueError,)


@st.composite
def problems(draw):
    n_samples = draw(st.integers(2, 300))
    n_features = draw(st.integers(1, 50))
    scale = 10.0 ** draw(st.integers(-6, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    data_rng = np.random.default_rng(seed)
    X = (data_rng.normal(size=(n_samples, n_features)) * scale).astype(dtype)
    if draw(st.booleans()):
        X[data_rng.random(X.shape) < 0.5] = 0
        X = sp.csr_matrix(X)
    return X, seed, data_rng


PARAMS = st.fixed_dictionaries(
    {
        "penalty": st.sampled_from([None, "l1", "l2", "elasticnet"]),
        "alpha": st.sampled_from([0.0, 1e-4, 0.1, 10.0]),
        "dropout": st.sampled_from([0.0, 0.0, 0.3]),
    }
)


def _assert_finite_or_documented_error(estimator, X, y):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("error", RuntimeWarning)
            estimator.fit(X, y)
    except FIT_ERRORS as exc:
        assert str(exc)
        return
    assert all(np.isfinite(w).all() for w in _weights(estimator))
    assert np.isfinite(estimator.predict(X)).all() if y.dtype.kind == "f" else True


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    problem=problems(), params=PARAMS, solver=st.sampled_from(["auto", "sgd", "adam"])
)
def test_linear_fits_are_finite_or_raise_documented_errors(problem, params, solver):
    """Check that any data and parameters give finite weights or a clear error."""
    X, seed, data_rng = problem
    y = np.asarray(X @ data_rng.normal(size=X.shape[1])).ravel()
    y += data_rng.normal(size=X.shape[0])
    estimator = regressor(**params, solver=solver, max_iter=20, random_state=seed)
    if params["dropout"] and solver == "auto":
        estimator.set_params(solver="sgd")
    _assert_finite_or_documented_error(estimator, X, y)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(problem=problems(), params=PARAMS, solver=st.sampled_from(["adam", "sgd"]))
def test_mlp_fits_are_finite_or_raise_documented_errors(problem, params, solver):
    """Check that any data and parameters give finite weights or a clear error."""
    X, seed, data_rng = problem
    y = data_rng.integers(0, 3, size=X.shape[0])
    estimator = MLPWeightsClassifier(
        hidden_layer_sizes=(4,), **params, solver=solver, max_iter=5, random_state=seed
    )
    _assert_finite_or_documented_error(estimator, X, y)
    if hasattr(estimator, "coefs_"):
        assert np.isfinite(estimator.predict_proba(X)).all()


def test_a_bounded_loss_that_ends_far_worse_is_a_failure_not_a_model():
    """Check that a run ending far worse than its start raises (clipped log loss)."""
    from sklearn.datasets import load_digits

    X_digits, y_digits = load_digits(return_X_y=True)
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(16,),
        penalty=None,
        learning_rate_init=1e3,
        max_iter=20,
        random_state=0,
    )
    with pytest.raises(
        ValueError, match="over 2 times both the objective at the starting weights"
    ):
        model.fit(X_digits / 16, y_digits)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("case", list(DIVERGING))
def test_a_failed_fit_on_new_data_leaves_every_attribute_as_it_was(case):
    """Check that a refit on wider data that diverges restores n_features_in_ too."""
    make, y = DIVERGING[case]
    model = make()
    learning_rate = model.learning_rate_init
    model.set_params(learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    before = dict(vars(model))
    prediction = model.predict(X)
    wider = np.hstack([X_UNSCALED, X_UNSCALED])
    model.set_params(learning_rate_init=learning_rate)
    with pytest.raises(ValueError, match="diverged"):
        model.fit(wider, y)
    assert model.n_features_in_ == X.shape[1]
    assert set(vars(model)) == set(before)
    np.testing.assert_array_equal(model.predict(X), prediction)
