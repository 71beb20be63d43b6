"""Tests of the contract of every fit and partial_fit: checked input, clear errors."""

import re
import threading
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sk_weights import (
    MLPWeightsClassifier,
    MLPWeightsRegressor,
    WeightedLinearClassifier,
    WeightedLinearRegressor,
)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)

#: One small instance of each estimator, with the partial_fit arguments it needs.
ESTIMATORS = {
    "linear_regressor": (WeightedLinearRegressor(max_iter=20, random_state=0), {}),
    "linear_classifier": (
        WeightedLinearClassifier(max_iter=20, random_state=0),
        {"classes": [0, 1, 2]},
    ),
    "mlp_regressor": (MLPWeightsRegressor((4,), max_iter=5, random_state=0), {}),
    "mlp_classifier": (
        MLPWeightsClassifier((4,), max_iter=5, random_state=0),
        {"classes": [0, 1, 2]},
    ),
}


def quiet(call, *args, **kwargs):
    """Run ``call`` with the warnings of short training runs silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args, **kwargs)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(
    "params",
    [{"alpha": -5}, {"learning_rate_init": 0}, {"dropout": 2.0}, {"tol": -1.0}],
    ids=["alpha", "learning_rate_init", "dropout", "tol"],
)
def test_partial_fit_validates_parameters_as_fit_does(name, params):
    """Check that partial_fit after set_params raises fit's InvalidParameterError."""
    estimator, kwargs = ESTIMATORS[name]
    with pytest.raises(InvalidParameterError) as from_fit:
        clone(estimator).set_params(**params).fit(X_IRIS, Y_IRIS)
    model = quiet(clone(estimator).fit, X_IRIS, Y_IRIS)
    coef = np.copy(model.coef_)
    model.set_params(**params)
    with pytest.raises(InvalidParameterError, match=re.escape(str(from_fit.value))):
        model.partial_fit(X_IRIS, Y_IRIS, **kwargs)
    np.testing.assert_array_equal(model.coef_, coef)


def test_multilabel_network_refuses_one_dimensional_labels():
    """Check that a multilabel network refuses to go on with 1-D labels."""
    indicator = np.eye(3, dtype=int)[Y_IRIS]
    model = quiet(
        MLPWeightsClassifier((4,), max_iter=5, random_state=0).fit, X_IRIS, indicator
    )
    before = model.predict(X_IRIS)
    assert before.shape == indicator.shape
    with pytest.raises(ValueError, match="label-indicator matrix"):
        model.partial_fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="label-indicator matrix"):
        model.set_params(warm_start=True).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(model.predict(X_IRIS), before)
    # And a multiclass network refuses an indicator matrix of as many labels.
    multiclass = quiet(clone(model).set_params(warm_start=False).fit, X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match="1-D class labels"):
        multiclass.partial_fit(X_IRIS, indicator)
    assert multiclass.predict(X_IRIS).shape == Y_IRIS.shape


@pytest.mark.parametrize("name", ESTIMATORS)
def test_continuing_on_other_features_names_them(name):
    """Check that a warm start or partial_fit on other features says so clearly."""
    estimator, kwargs = ESTIMATORS[name]
    model = quiet(clone(estimator).set_params(warm_start=True).fit, X_IRIS, Y_IRIS)
    coef = np.copy(model.coef_)
    with pytest.raises(ValueError, match="X has 3 features, but .* 4"):
        model.fit(X_IRIS[:, :3], Y_IRIS)
    with pytest.raises(ValueError, match="X has 3 features, but .* 4"):
        model.partial_fit(X_IRIS[:, :3], Y_IRIS, **kwargs)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.n_features_in_ == 4


def test_failing_calls_never_expose_a_partial_state_to_other_threads():
    """Check that predict in other threads never fails nor changes while fits fail.

    The failing calls diverge after validating data of other features and
    classes: nothing of them may be seen before or after they fail.
    """
    model = quiet(
        MLPWeightsClassifier((8,), max_iter=20, random_state=0).fit, X_IRIS, Y_IRIS
    )
    expected = model.predict(X_IRIS)
    model.set_params(learning_rate_init=1e3)
    X_other = X_IRIS[:, :3] * 1e3
    failing_calls = [
        lambda: model.fit(X_other, Y_IRIS + 10),
        lambda: model.partial_fit(X_IRIS * 1e3, Y_IRIS),
        lambda: model.partial_fit(X_IRIS, np.where(Y_IRIS == 2, 7, Y_IRIS)),
    ]
    for call in failing_calls:
        with pytest.raises(ValueError):
            quiet(call)
    stop = threading.Event()
    errors, failures = [], [0]

    def fail_repeatedly():
        while not stop.is_set():
            for call in failing_calls:
                try:
                    quiet(call)
                except ValueError:
                    failures[0] += 1

    def predict_repeatedly():
        while not stop.is_set():
            try:
                np.testing.assert_array_equal(model.predict(X_IRIS), expected)
            except Exception as error:  # noqa: BLE001 - every failure counts
                errors.append(error)

    threads = [threading.Thread(target=fail_repeatedly)] + [
        threading.Thread(target=predict_repeatedly) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    stop.wait(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures[0] > 0
    assert errors == []
    np.testing.assert_array_equal(model.predict(X_IRIS), expected)


#: Each count parameter set to a bool, for each estimator that has it.
BOOL_COUNTS = [
    pytest.param(name, {parameter: value}, id=f"{name}-{parameter}-{value!r}")
    for name, (estimator, _) in ESTIMATORS.items()
    for parameter, value in [
        ("batch_size", True),
        ("max_iter", True),
        ("n_iter_no_change", True),
        ("hidden_layer_sizes", True),
        ("hidden_layer_sizes", (True, 3)),
    ]
    if parameter in estimator.get_params()
]


@pytest.mark.parametrize("name, params", BOOL_COUNTS)
def test_a_bool_is_no_count(name, params):
    """Check that True or False as a count fails validation, as a float would."""
    estimator, kwargs = ESTIMATORS[name]
    parameter = next(iter(params))
    # The independent truth: the constraint refuses the same count as a float.
    with pytest.raises(InvalidParameterError, match=parameter):
        clone(estimator).set_params(**{parameter: 1.5}).fit(X_IRIS, Y_IRIS)
    with pytest.raises(InvalidParameterError, match=f"{parameter}.*True and False"):
        clone(estimator).set_params(**params).fit(X_IRIS, Y_IRIS)
    model = quiet(clone(estimator).fit, X_IRIS, Y_IRIS).set_params(**params)
    with pytest.raises(InvalidParameterError, match=parameter):
        model.partial_fit(X_IRIS, Y_IRIS, **kwargs)


@pytest.mark.parametrize("name", ["mlp_regressor", "mlp_classifier"])
def test_a_network_too_large_is_refused_before_allocation(name, monkeypatch):
    """Check that a huge hidden layer is refused, naming it and its weight count."""
    estimator, kwargs = ESTIMATORS[name]
    model = clone(estimator).set_params(hidden_layer_sizes=(10**9,))
    n_outputs = 1 if name == "mlp_regressor" else 3
    # The count by hand: 4 inputs to 10**9 units to the outputs, and the biases.
    n_params = 4 * 10**9 + 10**9 * n_outputs + 10**9 + n_outputs

    def no_allocation(*args, **kwargs):
        raise AssertionError("allocated parameters")

    monkeypatch.setattr("sk_weights._mixins.init_parameters", no_allocation)
    with pytest.raises(ValueError, match=rf"hidden_layer_sizes.*{n_params:,}"):
        model.fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValueError, match=rf"hidden_layer_sizes.*{n_params:,}"):
        model.partial_fit(X_IRIS, Y_IRIS, **kwargs)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_best_loss_is_none_under_early_stopping_as_in_scikit_learn(name):
    """Check that best_loss_ is None with early stopping, as MLPClassifier's is."""
    from sklearn.neural_network import MLPClassifier

    reference = quiet(
        MLPClassifier((4,), early_stopping=True, max_iter=20, random_state=0).fit,
        X_IRIS,
        Y_IRIS,
    )
    assert reference.best_loss_ is None
    assert reference.best_validation_score_ == max(reference.validation_scores_)
    estimator, kwargs = ESTIMATORS[name]
    params = {"early_stopping": True}
    if "solver" in estimator.get_params() and name.startswith("linear"):
        params["solver"] = "sgd"
    model = quiet(clone(estimator).set_params(**params).fit, X_IRIS, Y_IRIS)
    assert model.best_loss_ is None
    assert model.best_validation_score_ == max(model.validation_scores_)
    # Without a held-out part (partial_fit), the loss curve tells the best.
    quiet(model.partial_fit, X_IRIS, Y_IRIS, **kwargs)
    assert model.best_loss_ == min(model.loss_curve_)


@pytest.mark.parametrize("level", [0.0, 1e-4])
def test_a_target_of_no_spread_fits_as_in_scikit_learn(level):
    """Check that a constant target trains, as MLPRegressor's does, without warning.

    Its constant model has a loss of (nearly) 0: neither the divergence guard
    nor the poor-fit rule may take the trained network's small loss for a
    failure.
    """
    from sklearn.datasets import load_diabetes
    from sklearn.neural_network import MLPRegressor

    from sk_weights import PoorFitWarning

    X, _ = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = np.full(len(X), level)
    reference = quiet(MLPRegressor(hidden_layer_sizes=(16,), random_state=0).fit, X, y)
    reference_rmse = np.sqrt(np.mean((reference.predict(X) - y) ** 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = MLPWeightsRegressor((16,), random_state=0).fit(X, y)
    assert not [w for w in caught if issubclass(w.category, PoorFitWarning)]
    rmse = np.sqrt(np.mean((model.predict(X) - y) ** 2))
    assert rmse <= 1.5 * reference_rmse
    assert model.baseline_loss_ < 1e-8 < model.train_loss_


def test_poor_fit_rule_has_an_absolute_floor():
    """Check that a small loss over a perfect constant model is no poor fit."""
    from sk_weights.exceptions import is_poor_fit

    assert not is_poor_fit(1e-3, 0.0)
    assert is_poor_fit(0.1, 0.0)
    assert is_poor_fit(0.6, 0.5)
    assert not is_poor_fit(0.5, 0.5)


@pytest.mark.parametrize("name", ["linear_classifier", "mlp_classifier"])
def test_mixed_label_types_get_scikit_learn_s_error(name):
    """Check that string and number labels together get unique_labels' ValueError."""
    from sklearn.utils.multiclass import unique_labels

    mixed = np.array(["a", 1, "b"] * 50, dtype=object)
    # scikit-learn words it so when the types come in separate arrays.
    with pytest.raises(ValueError, match="Mix of label input types") as reference:
        unique_labels(np.array(["a", "b"]), np.array([1]))
    message = re.escape(str(reference.value).split(";")[0])
    estimator, _ = ESTIMATORS[name]
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(X_IRIS, mixed)
    with pytest.raises(ValueError, match=message):
        clone(estimator).partial_fit(X_IRIS, mixed, classes=["a", "b", "c"])
