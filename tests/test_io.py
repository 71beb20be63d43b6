"""Tests of persistence: the safe format of sk_weights.io, joblib, pickle and skops."""

import base64
import copy
import io
import json
import math
import pickle
import re
import time
import tracemalloc
import warnings
import zipfile
import zlib

import joblib
import numpy as np
import pandas as pd
import pytest
from conftest import diabetes_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy_format
from sklearn.datasets import load_diabetes, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import sk_weights
from sk_weights import (
    MLPWeightsClassifier,
    MLPWeightsRegressor,
    WeightedLinearClassifier,
    WeightedLinearRegressor,
)
from sk_weights.io import FORMAT_VERSION

HEADER = "sk_weights_header"

# The stochastic fits here run a few epochs on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def diabetes():
    return diabetes_data()


def _fit_linear(config, X, y):
    """Fit a WeightedLinearRegressor in one of the configurations under test."""
    if config == "fista":
        return WeightedLinearRegressor(alpha=0.01).fit(X, y)
    if config == "fista-multi-output":
        return WeightedLinearRegressor(penalty="l1", alpha=0.1).fit(
            X, np.column_stack([y, -y, y / 3])
        )
    if config == "float32":
        return WeightedLinearRegressor(penalty="elasticnet", alpha=0.5).fit(
            X.astype(np.float32), y.astype(np.float32)
        )
    if config == "sgd-early-stopping":
        return WeightedLinearRegressor(
            solver="sgd", early_stopping=True, max_iter=8, random_state=0
        ).fit(X, y)
    if config == "adam-dropout":
        return WeightedLinearRegressor(
            solver="adam", dropout=0.2, max_iter=5, tol=0, random_state=np.int64(3)
        ).fit(X, y)
    if config == "partial-fit-frame":
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        model = WeightedLinearRegressor(random_state=1, learning_rate="invscaling")
        return model.partial_fit(frame, y).partial_fit(frame, y)
    raise AssertionError(config)


LINEAR_CONFIGS = [
    "fista",
    "fista-multi-output",
    "float32",
    "sgd-early-stopping",
    "adam-dropout",
    "partial-fit-frame",
]


def _round_trip(model, tmp_path):
    path = tmp_path / "model.skw"
    sk_weights.save(model, path)
    return sk_weights.load(path)


def _assert_same_state(a, b):
    """Assert that two estimators hold identical parameters and fitted state."""
    assert type(a) is type(b)
    _assert_identical(a.get_params(), b.get_params(), "get_params()")
    assert sorted(vars(a)) == sorted(vars(b))
    for name, value in vars(a).items():
        _assert_identical(value, vars(b)[name], name)


def _assert_identical(x, y, name):
    assert type(x) is type(y), name
    if isinstance(x, np.ndarray):
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y), name
        for i, (u, v) in enumerate(zip(x, y)):
            _assert_identical(u, v, f"{name}[{i}]")
    elif isinstance(x, dict):
        assert list(x) == list(y), name
        for key in x:
            _assert_identical(x[key], y[key], f"{name}[{key}]")
    else:
        assert x == y or (x != x and y != y), name


@pytest.mark.parametrize("config", LINEAR_CONFIGS)
def test_linear_round_trip_is_exact(config, diabetes, tmp_path):
    """Check that a loaded model has the same params, state and bit-identical output."""
    X, y = diabetes
    model = _fit_linear(config, X, y)
    loaded = _round_trip(model, tmp_path)
    _assert_same_state(model, loaded)
    X_test = X[:50].astype(model.coef_.dtype)
    if hasattr(model, "feature_names_in_"):
        X_test = pd.DataFrame(X_test, columns=model.feature_names_in_)
    expected, got = model.predict(X_test), loaded.predict(X_test)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("solver", ["sgd", "adam", "auto"])
def test_partial_fit_continues_after_load(solver, diabetes, tmp_path):
    """Check that partial_fit after load takes exactly the step the original takes."""
    X, y = diabetes
    model = WeightedLinearRegressor(solver=solver, random_state=0)
    for chunk in np.array_split(np.arange(len(y)), 3):
        model.partial_fit(X[chunk], y[chunk])
    loaded = _round_trip(model, tmp_path)
    model.partial_fit(X[:100], y[:100])
    loaded.partial_fit(X[:100], y[:100])
    _assert_same_state(model, loaded)

    # Without the optimiser's state (momentum / Adam's moments) the next step
    # would differ: the state is what makes the continuation exact.
    amnesic = _round_trip(model, tmp_path)
    del amnesic._optimizer_state
    model.partial_fit(X[100:200], y[100:200])
    amnesic.partial_fit(X[100:200], y[100:200])
    assert not np.array_equal(model.coef_, amnesic.coef_)


def test_loaded_state_names_the_optimiser_that_ran(diabetes):
    """Check that a partial_fit state (solver="auto") is saved and loaded as SGD's.

    Files written before the state named its optimiser label the SGD state of
    solver="auto" "fista": they still load, and partial_fit continues the
    momentum exactly as from the state labelled "sgd".
    """
    X, y = diabetes
    model = WeightedLinearRegressor(random_state=0).partial_fit(X, y)
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    header, members = _members(buffer.getvalue())
    items = dict(header["attributes"]["_optimizer_state"]["items"])
    assert items["solver"] == "sgd"
    loaded = _load_bytes(_write(header, members))
    assert loaded._optimizer_state["solver"] == "sgd"

    header["attributes"]["_optimizer_state"]["items"] = [
        [key, "fista" if key == "solver" else value]
        for key, value in header["attributes"]["_optimizer_state"]["items"]
    ]
    legacy = _load_bytes(_write(header, members))
    assert legacy._optimizer_state["solver"] == "fista"
    for estimator in (model, loaded, legacy):
        estimator.partial_fit(X[:100], y[:100])
    np.testing.assert_array_equal(legacy.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.coef_, model.coef_)

    # A label that names no optimiser, or keys of another optimiser, is refused.
    for label in ("adam", "lbfgs"):
        header["attributes"]["_optimizer_state"]["items"] = [
            [key, label if key == "solver" else value]
            for key, value in header["attributes"]["_optimizer_state"]["items"]
        ]
        with pytest.raises(ValueError, match="_optimizer_state should be"):
            _load_bytes(_write(header, members))


def test_file_is_an_npz_of_plain_arrays_and_a_json_header(diabetes, tmp_path):
    """Check that the file is a pickle-free .npz with a readable JSON header."""
    X, y = diabetes
    model = WeightedLinearRegressor(solver="sgd", max_iter=3, tol=0, random_state=0)
    model.fit(X, y)
    path = tmp_path / "model"
    sk_weights.save(model, str(path))
    assert path.exists()  # written as given, no ".npz" appended
    with np.load(path, allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    assert all(array.dtype != object for array in members.values())
    header = json.loads(members.pop(HEADER).tobytes().decode("utf-8"))
    assert header["format_version"] == FORMAT_VERSION
    assert header["sk_weights_version"] == sk_weights.__version__
    assert header["class"] == "WeightedLinearRegressor"
    assert header["params"]["max_iter"] == 3
    assert header["attributes"]["n_iter_"] == 3
    assert header["attributes"]["loss_curve_"] == model.loss_curve_
    np.testing.assert_array_equal(members["coef_"], model.coef_)
    np.testing.assert_array_equal(
        members["_optimizer_state.velocity"], model._optimizer_state["velocity"]
    )


def test_save_and_load_file_objects(diabetes):
    """Check that save and load accept binary file objects as well as paths."""
    X, y = diabetes
    model = WeightedLinearRegressor().fit(X, y)
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    loaded = sk_weights.load(io.BytesIO(buffer.getvalue()))
    np.testing.assert_array_equal(loaded.coef_, model.coef_)


def test_save_refuses_what_it_cannot_store(diabetes, tmp_path):
    """Check that save rejects foreign and unfitted estimators and unstorable params."""
    X, y = diabetes
    path = tmp_path / "model.npz"
    with pytest.raises(TypeError, match="this package's estimators"):
        sk_weights.save(Ridge().fit(X, y), path)
    with pytest.raises(NotFittedError):
        sk_weights.save(WeightedLinearRegressor(), path)
    model = WeightedLinearRegressor(random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.raises(TypeError, match="random_state"):
        sk_weights.save(model, path)


# -- malformed files ----------------------------------------------------------


@pytest.fixture(scope="module")
def saved(diabetes):
    """The bytes of a saved stochastic model (it has every kind of attribute)."""
    X, y = diabetes
    model = WeightedLinearRegressor(
        solver="sgd", early_stopping=True, max_iter=4, tol=0, random_state=0
    )
    model.fit(X, y)
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    return model, buffer.getvalue()


def _members(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(members.pop(HEADER).tobytes().decode("utf-8"))
    return header, members


def _write(header, members):
    buffer = io.BytesIO()
    text = json.dumps(header).encode("utf-8")
    np.savez(buffer, **members, **{HEADER: np.frombuffer(text, dtype=np.uint8)})
    return buffer.getvalue()


def _load_bytes(data):
    return sk_weights.load(io.BytesIO(data))


def test_untouched_rewrite_loads(saved):
    """Check that the tampering helpers alone leave a loadable file (a control)."""
    model, data = saved
    header, members = _members(data)
    _assert_same_state(model, _load_bytes(_write(header, members)))


def test_truncated_files_raise_value_error(saved):
    """Check that every truncation of a model file raises a clear ValueError."""
    _, data = saved
    for size in sorted({0, 1, 10, 100, *range(0, len(data), 97), len(data) - 1}):
        with pytest.raises(ValueError, match="Not a valid sk_weights model file"):
            _load_bytes(data[:size])


def test_corrupted_files_raise_value_error_or_load_the_same_model(saved):
    """Check that a flipped byte anywhere gives a ValueError or the very same model.

    Some bytes (zip timestamps, padding) do not carry the model; everything
    that does is covered by the zip CRCs and by the validation.
    """
    model, data = saved
    n_errors = 0
    for position in range(0, len(data), 7):
        corrupted = bytearray(data)
        corrupted[position] ^= 0xFF
        try:
            loaded = _load_bytes(bytes(corrupted))
        except ValueError as exc:
            assert "Not a valid sk_weights model file" in str(exc)
            n_errors += 1
        else:
            _assert_same_state(model, loaded)
    assert n_errors > len(data) // 14


def _tamper_header(key, value):
    def tamper(header, members):
        node = header
        *path, last = key
        for part in path:
            node = node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value

    return tamper


TAMPERINGS = {
    "foreign class": (_tamper_header(["class"], "Ridge"), "not an estimator"),
    "dotted class": (_tamper_header(["class"], "os.system"), "not an estimator"),
    "unknown format": (_tamper_header(["format"], "other"), "does not describe"),
    "newer format": (_tamper_header(["format_version"], 99), "newer sk_weights"),
    "unknown param": (_tamper_header(["params", "evil"], 1), "unexpected: \\['evil"),
    "missing param": (_tamper_header(["params", "alpha"], KeyError), "missing"),
    "invalid param": (_tamper_header(["params", "alpha"], -1.0), "invalid parameter"),
    "param of wrong type": (
        _tamper_header(["params", "max_iter"], "many"),
        "invalid parameter",
    ),
    "boolean batch_size": (
        _tamper_header(["params", "batch_size"], True),
        "batch_size=True is not a number",
    ),
    "boolean alpha": (
        _tamper_header(["params", "alpha"], False),
        "alpha=False is not a number",
    ),
    "unknown node": (
        _tamper_header(["params", "alpha"], {"type": "function", "value": "exec"}),
        "unknown node type",
    ),
    "missing attribute": (
        _tamper_header(["attributes", "n_features_in_"], KeyError),
        "needs the fitted attribute",
    ),
    "extra attribute": (
        _tamper_header(["attributes", "evil_"], 1),
        "no fitted attributes \\['evil_'\\]",
    ),
    "non-fitted attribute": (
        _tamper_header(["attributes", "__class__"], "Ridge"),
        "not fitted attributes",
    ),
    "wrong n_features_in_": (
        _tamper_header(["attributes", "n_features_in_"], 3),
        "coef_ should be an array of shape \\(3,\\)",
    ),
    "boolean n_iter_": (
        _tamper_header(["attributes", "n_iter_"], True),
        "n_iter_ should be an integer",
    ),
    "string loss curve": (
        _tamper_header(["attributes", "loss_curve_"], ["1.0"]),
        "a list of numbers",
    ),
    "header shape differs from the schema": (
        _tamper_header(["attributes", "coef_", "shape"], [5, 2]),
        "coef_ should be an array of shape \\(5, 10\\)",
    ),
    "header dtype differs from the other weights": (
        _tamper_header(["attributes", "coef_", "dtype"], "<f4"),
        "should be an array of dtype",
    ),
    "object dtype": (
        _tamper_header(["attributes", "coef_", "dtype"], "|O"),
        "dtype the format does not allow",
    ),
    "missing array": (
        _tamper_header(["attributes", "coef_", "key"], "nothing_"),
        "missing array",
    ),
    "array used twice": (
        _tamper_header(["attributes", "feature_std_", "key"], "coef_"),
        "reuses the array",
    ),
    "inline values of the wrong type": (
        _tamper_header(
            ["attributes", "evil_"],
            {"type": "array", "dtype": "<i8", "shape": [2], "value": [1.5, "x"]},
        ),
        "not int64",
    ),
    "too deep": (
        _tamper_header(["params", "alpha"], [[[[[[[[[[1.0]]]]]]]]]]),
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_tampered_headers_raise_value_error(name, saved):
    """Check that each kind of tampered header is refused with a clear message."""
    _, data = saved
    tamper, message = TAMPERINGS[name]
    header, members = _members(data)
    tamper(header, members)
    with pytest.raises(ValueError, match=message):
        _load_bytes(_write(header, members))


def test_tampered_arrays_raise_value_error(saved):
    """Check that arrays whose shape, dtype or values do not fit are refused."""
    model, data = saved
    header, members = _members(data)
    n_params = model.coef_.size + 1

    # A consistent header, but a velocity that does not fit the model's size.
    members["_optimizer_state.velocity"] = np.zeros(n_params + 1)
    state = dict(header["attributes"]["_optimizer_state"]["items"])
    state["velocity"]["shape"] = [n_params + 1]
    with pytest.raises(ValueError, match="velocity should be an array of shape"):
        _load_bytes(_write(header, members))

    header, members = _members(data)
    members["coef_"] = np.full_like(members["coef_"], np.nan)
    with pytest.raises(ValueError, match="coef_ should be finite"):
        _load_bytes(_write(header, members))

    header, members = _members(data)
    members["coef_"] = members["coef_"].astype(np.int64)
    header["attributes"]["coef_"]["dtype"] = "<i8"
    with pytest.raises(ValueError, match="only floats are"):
        _load_bytes(_write(header, members))

    # The JSON header fits the schema, but the member's own .npy header does not.
    header, members = _members(data)
    members["coef_"] = members["coef_"].reshape(2, 5)
    with pytest.raises(ValueError, match="array 'coef_' is float64 of shape"):
        _load_bytes(_write(header, members))

    header, members = _members(data)
    members["undeclared_"] = np.zeros(3)
    with pytest.raises(ValueError, match="arrays the header does not describe"):
        _load_bytes(_write(header, members))

    header, members = _members(data)
    del members["coef_"]
    with pytest.raises(ValueError, match="missing array"):
        _load_bytes(_write(header, members))


def test_foreign_files_raise_value_error(saved, tmp_path):
    """Check that files that are not sk_weights models are refused clearly."""
    model, _ = saved
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3.0))
    npy = buffer.getvalue()
    buffer = io.BytesIO()
    np.savez(buffer, coef_=model.coef_)
    other_npz = buffer.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    plain_zip = buffer.getvalue()
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    for data in [
        b"",
        b"hello, world",
        b"PK\x03\x04garbage",
        npy,
        other_npz,
        plain_zip,
        pickle.dumps(model),
        buffer.getvalue(),
    ]:
        with pytest.raises(ValueError, match="Not a valid sk_weights model file"):
            _load_bytes(data)
    with pytest.raises(ValueError, match="Not a valid sk_weights model file"):
        sk_weights.load(tmp_path)  # a directory
    with pytest.raises(FileNotFoundError):
        sk_weights.load(tmp_path / "missing.npz")


class _Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_runs_code(saved, tmp_path):
    """Check that pickled payloads in or instead of a model file are never executed."""
    _, data = saved
    marker = tmp_path / "code-ran"
    payload = np.array([_Payload(marker)], dtype=object)

    raw_pickle = pickle.dumps(_Payload(marker))
    header, members = _members(data)
    members["coef_"] = payload
    object_member = _write(header, members)
    header, members = _members(data)
    members[HEADER] = payload
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    object_header = buffer.getvalue()
    buffer = io.BytesIO()
    np.save(buffer, payload, allow_pickle=True)
    object_npy = buffer.getvalue()

    for data in [raw_pickle, object_member, object_header, object_npy]:
        with pytest.raises(ValueError, match="Not a valid sk_weights model file"):
            _load_bytes(data)
    assert not marker.exists()
    pickle.loads(raw_pickle)  # the control: unpickling does run it
    assert marker.exists()


# -- joblib, pickle and skops -------------------------------------------------


@pytest.mark.parametrize("config", ["fista", "sgd-early-stopping", "adam-dropout"])
def test_joblib_and_pickle_round_trips(config, diabetes, tmp_path):
    """Check that joblib and pickle round trips give identical models."""
    X, y = diabetes
    model = _fit_linear(config, X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    for loaded in [
        joblib.load(tmp_path / "model.joblib"),
        pickle.loads(pickle.dumps(model)),
    ]:
        _assert_same_state(model, loaded)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("config", ["fista", "adam-dropout"])
def test_skops_trusts_only_the_estimator_class(config, diabetes):
    """Check that skops finds nothing untrusted but the estimator class itself."""
    sio = pytest.importorskip("skops.io")
    X, y = diabetes
    model = _fit_linear(config, X, y)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == ["sk_weights._linear.WeightedLinearRegressor"]
    loaded = sio.loads(data, trusted=untrusted)
    _assert_same_state(model, loaded)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# -- the classifier -----------------------------------------------------------


def _fit_mlp(config):
    """Fit an MLPWeightsClassifier in one of the configurations under test."""
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    small = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}
    if config == "adam-string-labels":
        labels = np.array(["barolo", "grignolino", "barbera"])[y]
        return MLPWeightsClassifier(**small).fit(X, labels), X
    if config == "sgd-two-layers-dropout-early-stopping":
        model = MLPWeightsClassifier(
            hidden_layer_sizes=[5, 4],
            dropout=np.array([0.1, 0.2]),
            solver="sgd",
            early_stopping=True,
            max_iter=6,
            random_state=0,
        )
        return model.fit(X, y), X
    if config == "binary-float32-class-weight":
        X32 = X.astype(np.float32)
        model = MLPWeightsClassifier(
            **small, penalty="l1", alpha=0.01, class_weight={0: 2.0, 1: 0.5}
        )
        return model.fit(X32, y == 1), X32
    if config == "float-labels":
        return MLPWeightsClassifier(**small).fit(X, y * 2.0), X
    if config == "multilabel":
        labels = np.column_stack([y == 0, y == 1, y != 2]).astype(int)
        return MLPWeightsClassifier(**small).fit(X, labels), X
    if config == "multilabel":
        labels = np.column_stack([y == 0, y == 1, y != 2]).astype(int)
        return MLPWeightsClassifier(**small).fit(X, labels), X
    if config == "partial-fit-frame":
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        model = MLPWeightsClassifier(**small, activation="tanh")
        model.partial_fit(frame, y, classes=[0, 1, 2]).partial_fit(frame, y)
        return model, frame
    raise AssertionError(config)


MLP_CONFIGS = [
    "adam-string-labels",
    "sgd-two-layers-dropout-early-stopping",
    "binary-float32-class-weight",
    "float-labels",
    "partial-fit-frame",
    "multilabel",
]


def _fit_linear_classifier(config):
    """Fit a WeightedLinearClassifier in one of the configurations under test."""
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if config == "fista-multiclass-l1":
        return WeightedLinearClassifier(penalty="l1", alpha=0.05).fit(X, y), X
    if config == "fista-binary-float32-class-weight":
        X = X.astype(np.float32)
        model = WeightedLinearClassifier(class_weight={"a": 2.0})
        return model.fit(X, np.array(["a", "b"])[(y > 0).astype(int)]), X
    if config == "sgd-dropout-early-stopping":
        model = WeightedLinearClassifier(
            dropout=0.1, early_stopping=True, max_iter=5, random_state=0
        )
        return model.fit(X, y), X
    if config == "adam-partial-fit":
        model = WeightedLinearClassifier(solver="adam", random_state=0)
        return model.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y), X
    raise AssertionError(config)


LINEAR_CLASSIFIER_CONFIGS = [
    "fista-multiclass-l1",
    "fista-binary-float32-class-weight",
    "sgd-dropout-early-stopping",
    "adam-partial-fit",
]


@pytest.mark.parametrize("config", LINEAR_CLASSIFIER_CONFIGS)
def test_linear_classifier_round_trip_is_exact(config, tmp_path):
    """Check that a loaded linear classifier has the same state and output."""
    model, X = _fit_linear_classifier(config)
    loaded = _round_trip(model, tmp_path)
    _assert_same_state(model, loaded)
    for method in ("predict_proba", "decision_function", "predict"):
        expected, got = getattr(model, method)(X), getattr(loaded, method)(X)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def _fit_mlp_regressor(config):
    """Fit an MLPWeightsRegressor in one of the configurations under test."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    small = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}
    if config == "one-target":
        return MLPWeightsRegressor(**small).fit(X, y), X
    if config == "two-targets-sgd-l1-dropout-early-stopping":
        model = MLPWeightsRegressor(
            hidden_layer_sizes=[5, 4],
            dropout=0.1,
            penalty="l1",
            solver="sgd",
            early_stopping=True,
            n_iter_no_change=np.inf,
            max_iter=6,
            random_state=0,
        )
        return model.fit(X, np.column_stack([y, -y])), X
    if config == "partial-fit-float32":
        X32 = X.astype(np.float32)
        model = MLPWeightsRegressor(**small).partial_fit(X32, y).partial_fit(X32, y)
        return model, X32
    raise AssertionError(config)


MLP_REGRESSOR_CONFIGS = [
    "one-target",
    "two-targets-sgd-l1-dropout-early-stopping",
    "partial-fit-float32",
]


@pytest.mark.parametrize("config", MLP_REGRESSOR_CONFIGS)
def test_mlp_regressor_round_trip(config, tmp_path):
    """Check that a saved MLPWeightsRegressor loads with the same state and output."""
    model, X = _fit_mlp_regressor(config)
    sk_weights.save(model, tmp_path / "m.npz")
    loaded = sk_weights.load(tmp_path / "m.npz")
    _assert_same_state(model, loaded)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.coef_, model.coef_)


@pytest.mark.parametrize("config", MLP_CONFIGS)
def test_mlp_round_trip_is_exact(config, tmp_path):
    """Check that a loaded network has the same state and bit-identical output."""
    model, X = _fit_mlp(config)
    loaded = _round_trip(model, tmp_path)
    _assert_same_state(model, loaded)
    for method in ("predict_proba", "predict"):
        expected, got = getattr(model, method)(X), getattr(loaded, method)(X)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(loaded.coef_, model.coef_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_mlp_partial_fit_continues_after_load(solver, tmp_path):
    """Check that the network's partial_fit after load is the original's, exactly."""
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = MLPWeightsClassifier(hidden_layer_sizes=(6,), solver=solver, random_state=0)
    model.partial_fit(X[:90], y[:90], classes=[0, 1, 2])
    loaded = _round_trip(model, tmp_path)
    model.partial_fit(X[90:], y[90:])
    loaded.partial_fit(X[90:], y[90:])
    _assert_same_state(model, loaded)


def test_mlp_tampered_layers_raise_value_error(tmp_path):
    """Check that weight matrices that do not fit the layer sizes are refused."""
    model, _ = _fit_mlp("sgd-two-layers-dropout-early-stopping")
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    header, members = _members(buffer.getvalue())
    header["params"]["hidden_layer_sizes"] = [5, 3]
    with pytest.raises(ValueError, match=r"coefs_\[1\] should be an array of shape"):
        _load_bytes(_write(header, members))

    header, members = _members(buffer.getvalue())
    header["attributes"]["n_outputs_"] = 1
    with pytest.raises(ValueError, match="n_outputs_ should be 3"):
        _load_bytes(_write(header, members))

    header, members = _members(buffer.getvalue())
    header["attributes"]["classes_"]["value"] = [0, 0, 2]
    with pytest.raises(ValueError, match="at least two distinct labels"):
        _load_bytes(_write(header, members))

    model, _ = _fit_mlp("binary-float32-class-weight")
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    for weight in [None, -1.0, float("inf"), "2"]:
        header, members = _members(buffer.getvalue())
        header["params"]["class_weight"]["items"][0][1] = weight
        with pytest.raises(ValueError, match="class_weight .* is not finite and >= 0"):
            _load_bytes(_write(header, members))

    # One dropout rate per hidden layer, as fit requires: here none for two.
    model, _ = _fit_mlp("sgd-two-layers-dropout-early-stopping")
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    header, members = _members(buffer.getvalue())
    header["params"]["dropout"]["shape"] = [0]
    header["params"]["dropout"]["value"] = []
    with pytest.raises(ValueError, match="invalid parameter: dropout must be"):
        _load_bytes(_write(header, members))


@pytest.mark.parametrize("config", ["adam-string-labels", "partial-fit-frame"])
def test_mlp_joblib_pickle_and_skops(config):
    """Check joblib, pickle and skops round trips of the network."""
    sio = pytest.importorskip("skops.io")
    model, X = _fit_mlp(config)
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted == ["sk_weights._mlp.MLPWeightsClassifier"]
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    for loaded in [
        sio.loads(data, trusted=untrusted),
        joblib.load(buffer),
        pickle.loads(pickle.dumps(model)),
    ]:
        _assert_same_state(model, loaded)
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


# -- hostile archives: bombs, huge shapes, ambiguous members ------------------

GiB = 2**30
# bzip2 of 1 GiB of zero bytes (785 bytes; compressing it takes 15 s, so it is
# kept here) and the CRC-32 of those zeros.
BZIP2_GIB_OF_ZEROS = base64.b64decode(
    "QlpoOTFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCX"
    + "MUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcx" * 15
    + "QVkmU1lIfF/JAIpSyADAAAAEAAggADDMBSmmkSJDYUSJDxdyRThQkPaI5AI="
)
CRC_GIB_OF_ZEROS = 0x5B64C2B0


def _deflate_gib_of_zeros():
    """Raw deflate of 1 GiB of zeros, streamed: one 16 MiB block repeated.

    After a full flush the compressor starts afresh, so every 16 MiB block
    compresses to the same bytes; 64 of them make 1 GiB in about 1 MB.
    """
    block = bytes(2**24)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(block)
    compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return repeated * 64 + compressor.flush()


def _zip_entries(data):
    """The (ZipInfo, raw member bytes) of every member of a model file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info, archive.read(info)) for info in archive.infolist()]


def _rezip(entries, compression=zipfile.ZIP_STORED):
    """Write (name, bytes) entries, duplicates allowed, into a new zip archive."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name"
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, payload in entries:
                archive.writestr(name, payload)
    return buffer.getvalue()


def _with_raw_member(data, name, payload, method, file_size, crc, replace=None):
    """Add (or put in place of ``replace``) a member of precompressed bytes.

    The central directory gives ``method`` and the declared ``file_size``:
    what a reader decompresses, whatever the bytes hold.
    """
    entries = [
        (info.filename, raw)
        for info, raw in _zip_entries(data)
        if info.filename != replace
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry_name, raw in entries:
            archive.writestr(entry_name, raw)
        info = zipfile.ZipInfo(name)
        archive.writestr(info, payload)  # stored: the bytes as they are
        info.compress_type, info.file_size, info.CRC = method, file_size, crc
    return buffer.getvalue()


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _npy_header(shape, dtype="<f8"):
    """An .npy header declaring ``shape`` (no data behind it)."""
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return b"\x93NUMPY\x01\x00" + buffer.getvalue()[8:]


def _load_measured(data):
    """Load ``data``; return the error, the peak traced memory and the time."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match="Not a valid sk_weights model file") as e:
            _load_bytes(data)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(e.value), peak, seconds


@pytest.fixture(scope="module")
def deflate_bomb():
    return _deflate_gib_of_zeros()


def _bombs(data, deflate_bomb):
    """Archives that make a reader decompress 1 GiB; see test_bombs_*."""
    coef_size = next(
        i.file_size for i, _ in _zip_entries(data) if i.filename == "coef_.npy"
    )
    deflated, bzip2 = zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2
    return {
        "bzip2 extra member": (
            _with_raw_member(
                data, "bomb.npy", BZIP2_GIB_OF_ZEROS, bzip2, GiB, CRC_GIB_OF_ZEROS
            ),
            "bzip2",
        ),
        "deflate extra member": (
            _with_raw_member(
                data, "bomb.npy", deflate_bomb, deflated, GiB, CRC_GIB_OF_ZEROS
            ),
            "does not describe: \\['bomb.npy'\\]",
        ),
        "deflate in place of coef_": (
            _with_raw_member(
                data,
                "coef_.npy",
                deflate_bomb,
                deflated,
                GiB,
                CRC_GIB_OF_ZEROS,
                replace="coef_.npy",
            ),
            "declares 1073741824 bytes",
        ),
        "deflate in place of coef_, sizes understated": (
            _with_raw_member(
                data,
                "coef_.npy",
                deflate_bomb,
                deflated,
                coef_size,
                CRC_GIB_OF_ZEROS,
                replace="coef_.npy",
            ),
            "coef_",
        ),
    }


BOMBS = [
    "bzip2 extra member",
    "deflate extra member",
    "deflate in place of coef_",
    "deflate in place of coef_, sizes understated",
]


@pytest.mark.parametrize("name", BOMBS)
def test_zip_bombs_fail_fast_in_small_memory(name, saved, deflate_bomb):
    """Check that 1 GiB zip bombs are refused in a few MB and well under a second.

    Each archive is small and makes zipfile (and so NumPy's np.load) inflate
    1 GiB: load must refuse it from the directory and the schema, or stop
    reading at the declared size.
    """
    _, data = saved
    bomb, message = _bombs(data, deflate_bomb)[name]
    assert len(bomb) < 2 * 2**20
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert max(info.file_size for info in archive.infolist()) >= GiB or (
            "understated" in name
        )
    error, peak, seconds = _load_measured(bomb)
    assert re.search(message, error), error
    assert peak < 20 * 2**20, peak
    assert seconds < 2.0, seconds


def test_a_member_declaring_a_huge_shape_is_refused_before_allocation(saved):
    """Check that .npy headers declaring shape (10**13,) cost nothing to refuse."""
    _, data = saved
    entries = [(info.filename, raw) for info, raw in _zip_entries(data)]
    huge = _npy_header((10**13,)) + bytes(64)
    extra = _rezip([*entries, ("huge.npy", huge)])
    in_place = _rezip([(n, huge if n == "coef_.npy" else raw) for n, raw in entries])
    for archive, message in [
        (extra, "does not describe: \\['huge.npy'\\]"),
        (in_place, "'coef_' is float64 of shape \\(10000000000000,\\)"),
    ]:
        error, peak, seconds = _load_measured(archive)
        assert re.search(message, error), error
        assert peak < 20 * 2**20 and seconds < 2.0


def test_a_header_bomb_is_refused_before_inflating(saved):
    """Check that a deflated header of 25 MB of JSON numbers is not parsed.

    Parsed, its five million numbers would take some 300 MB; the header's
    compression ratio gives it away before it is decompressed.
    """
    _, data = saved
    entries = _entries(data)
    raw = dict(entries)[HEADER + ".npy"]
    text = np.load(io.BytesIO(raw)).tobytes().decode("utf-8")
    start = text.index('"loss_curve_": [') + len('"loss_curve_": [')
    end = text.index("]", start)
    text = text[:start] + "0.0, " * 5_000_000 + "0.0" + text[end:]
    payload = _npy_bytes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8))
    entries = [(n, payload if n == HEADER + ".npy" else r) for n, r in entries]
    bomb = _rezip(entries, zipfile.ZIP_DEFLATED)
    assert len(bomb) < 2**20 < 2**24 < len(payload)
    error, peak, seconds = _load_measured(bomb)
    assert "its header inflates from" in error
    assert peak < 20 * 2**20 and seconds < 2.0


def _entries(data):
    return [(info.filename, raw) for info, raw in _zip_entries(data)]


def test_ambiguous_members_are_refused(saved):
    """Check duplicate members, members without .npy and coef_ beside coef_.npy."""
    model, data = saved
    entries = _entries(data)
    other = _npy_bytes(-model.coef_)
    cases = {
        "duplicate": [*entries, ("coef_.npy", other)],
        "no suffix": [
            (n.removesuffix(".npy") if n == "coef_.npy" else n, r) for n, r in entries
        ],
        "both": [*entries, ("coef_", other)],
    }
    messages = {
        "duplicate": "two members named 'coef_.npy'",
        "no suffix": "member 'coef_' is not an .npy array",
        "both": "member 'coef_' \\(beside 'coef_.npy'\\) is not an .npy array",
    }
    for case, archive_entries in cases.items():
        with pytest.raises(ValueError, match=messages[case]):
            _load_bytes(_rezip(archive_entries))
    # The control: the same entries, rewritten once each, load.
    _assert_same_state(model, _load_bytes(_rezip(entries)))


def test_deflated_archives_load(saved):
    """Check that np.savez_compressed-style (deflated) members load identically."""
    model, data = saved
    loaded = _load_bytes(_rezip(_entries(data), zipfile.ZIP_DEFLATED))
    _assert_same_state(model, loaded)


VALUE_TAMPERINGS = {
    "scalar out of range": (
        ["attributes", "t_"],
        {"type": "scalar", "dtype": "<i1", "value": 1000},
        "1000 does not fit in int8",
    ),
    "float scalar out of range": (
        ["attributes", "best_loss_"],
        {"type": "scalar", "dtype": "<f4", "value": 1e300},
        "does not fit in float32",
    ),
    "huge string width": (
        ["attributes", "feature_names_in_"],
        {"type": "array", "dtype": "<U999999", "shape": [10], "value": ["a"] * 10},
        "declares more values than its header holds",
    ),
    "coef_ of shape (0, 3)": (
        ["attributes", "coef_", "shape"],
        [0, 10],
        "coef_ should be an array with at least one target",
    ),
}


@pytest.mark.parametrize("name", list(VALUE_TAMPERINGS))
def test_out_of_range_header_values_raise_value_error(name, saved):
    """Check that header values that do not fit their type or shape are refused."""
    _, data = saved
    path, value, message = VALUE_TAMPERINGS[name]
    header, members = _members(data)
    _tamper_header(path, value)(header, members)
    if name == "huge string width":
        header["attributes"]["n_features_in_"] = 10
    with pytest.raises(ValueError, match=message):
        _load_bytes(_write(header, members))


def test_empty_coef_is_refused(saved):
    """Check that a coef_ of shape (0, 3) with n_features_in_ = 3 does not load."""
    _, data = saved
    header, members = _members(data)
    header["attributes"]["n_features_in_"] = 3
    header["attributes"]["coef_"]["shape"] = [0, 3]
    members["coef_"] = np.zeros((0, 3))
    with pytest.raises(
        ValueError, match="coef_ should be an array with at least one target"
    ):
        _load_bytes(_write(header, members))


def test_negative_feature_std_is_refused(saved):
    """Check that a negative feature_std_ (it scales the report) is refused."""
    _, data = saved
    header, members = _members(data)
    members["feature_std_"] = members["feature_std_"].copy()
    members["feature_std_"][3] = -1.0
    with pytest.raises(ValueError, match="feature_std_ should be >= 0 everywhere"):
        _load_bytes(_write(header, members))


@pytest.mark.parametrize(
    "classes",
    [[1, 0], [0, 0, 2], ["b", "a"], [0, "a"], [True, False], [2.0, 0.0], [0.0, np.nan]],
)
def test_unsorted_or_repeated_classes_are_refused(classes):
    """Check that classes_ must be sorted and unique (their order is the output's)."""
    model, X = _fit_mlp("binary-float32-class-weight")
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    header, members = _members(buffer.getvalue())
    dtype = {int: "<i8", str: "<U1", bool: "|b1", float: "<f8"}[type(classes[-1])]
    if len(classes) == 3:
        header["params"]["class_weight"] = None
    header["attributes"]["classes_"] = {
        "type": "array",
        "dtype": dtype,
        "shape": [len(classes)],
        "value": classes,
    }
    with pytest.raises(ValueError, match="classes_ should be|not .*|malformed"):
        _load_bytes(_write(header, members))


# -- Pipeline(StandardScaler, estimator) --------------------------------------


def _pipelines():
    X, y = load_wine(return_X_y=True)
    linear = make_pipeline(StandardScaler(), WeightedLinearRegressor(alpha=0.01))
    network = Pipeline(
        [
            ("scale", StandardScaler(with_mean=False)),
            (
                "net",
                MLPWeightsClassifier(
                    hidden_layer_sizes=(5,), max_iter=5, random_state=0
                ),
            ),
        ]
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    return {
        "linear": (linear.fit(X, y.astype(float)), X),
        "network-frame": (network.fit(frame, y), frame),
    }


@pytest.mark.parametrize("name", ["linear", "network-frame"])
def test_pipeline_round_trip_is_exact(name, tmp_path):
    """Check that Pipeline(StandardScaler, estimator) loads with the same state."""
    pipeline, X = _pipelines()[name]
    loaded = _round_trip(pipeline, tmp_path)
    assert type(loaded) is Pipeline
    assert [n for n, _ in loaded.steps] == [n for n, _ in pipeline.steps]
    _assert_identical(pipeline.get_params(deep=False)["verbose"], loaded.verbose, "v")
    for (_, step), (_, got) in zip(pipeline.steps, loaded.steps):
        _assert_same_state(step, got)
    np.testing.assert_array_equal(loaded.predict(X), pipeline.predict(X))


def test_save_refuses_other_pipelines(diabetes, tmp_path):
    """Check that only a fitted StandardScaler + estimator pipeline is saved."""
    X, y = diabetes
    path = tmp_path / "model.npz"
    with pytest.raises(TypeError, match="StandardScaler followed by"):
        sk_weights.save(make_pipeline(WeightedLinearRegressor()).fit(X, y), path)
    with pytest.raises(TypeError, match="this package's estimators"):
        sk_weights.save(make_pipeline(StandardScaler(), Ridge()).fit(X, y), path)
    with pytest.raises(NotFittedError):
        sk_weights.save(
            make_pipeline(StandardScaler(), WeightedLinearRegressor()), path
        )


PIPELINE_TAMPERINGS = {
    "negative variance": (
        ["steps", 0, 1, "attributes", "var_"],
        "var_",
        -1.0,
        "var_ should be >= 0",
    ),
    "zero scale": (
        ["steps", 0, 1, "attributes", "scale_"],
        "scale_",
        0.0,
        "scale_ should be > 0",
    ),
    "NaN mean": (
        ["steps", 0, 1, "attributes", "mean_"],
        "mean_",
        np.nan,
        "mean_ should be finite",
    ),
    "scaler parameter": (
        ["steps", 0, 1, "params", "with_mean"],
        None,
        "yes",
        "invalid parameter",
    ),
    "fewer scaled features": (
        ["steps", 0, 1, "attributes", "n_features_in_"],
        None,
        4,
        "shape \\(4,\\)",
    ),
    "samples seen": (
        ["steps", 0, 1, "attributes", "n_samples_seen_"],
        None,
        0.5,
        "n_samples_seen_ should be",
    ),
    "missing scale": (
        ["steps", 0, 1, "attributes", "scale_"],
        None,
        None,
        "scale_ should be an array",
    ),
    "foreign first step": (
        ["steps", 0, 1, "class"],
        None,
        "MinMaxScaler",
        "not a StandardScaler",
    ),
    "scaler as the estimator": (
        ["steps", 1, 1, "class"],
        None,
        "StandardScaler",
        "not a StandardScaler followed",
    ),
    "step name": (["steps", 1, 0], None, "a__b", "invalid name"),
    "pipeline memory": (["params", "memory"], None, "/tmp/cache", "memory=None"),
    "three steps": (["steps", 2], None, ["x", {}], "two steps"),
}


@pytest.mark.parametrize("name", list(PIPELINE_TAMPERINGS))
def test_tampered_pipelines_raise_value_error(name):
    """Check the scaler's parameters and statistics and the pipeline's structure."""
    pipeline, _ = _pipelines()["linear"]
    buffer = io.BytesIO()
    sk_weights.save(pipeline, buffer)
    header, members = _members(buffer.getvalue())
    path, member, value, message = PIPELINE_TAMPERINGS[name]
    if member is not None:  # a value inside a binary array
        key = f"steps.0.{member}"
        members[key] = members[key].copy()
        members[key][1] = value
    elif path == ["steps", 2]:
        header["steps"].append(value)
    else:
        node = header
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    with pytest.raises(ValueError, match=message):
        _load_bytes(_write(header, members))


# -- attributes of the training run -------------------------------------------


def _with_run_attributes(model, n_layers):
    """Add the training-run attributes every fit records to a fitted model."""
    n_epochs = len(model.loss_curve_)
    model.stop_reason_ = "max_iter"
    model.best_epoch_ = None
    model.train_loss_ = 0.25
    model.baseline_loss_ = np.float64(1.5)
    model.train_score_ = -0.5
    model.weight_norms_curve_ = np.linspace(0, 1, n_epochs * n_layers).reshape(
        n_epochs, n_layers
    )
    model.zero_fraction_curve_ = np.zeros((n_epochs, n_layers))
    return model


@pytest.fixture(scope="module")
def run_models(diabetes):
    X, y = diabetes
    linear = WeightedLinearRegressor(solver="sgd", max_iter=3, tol=0, random_state=0)
    linear = _with_run_attributes(linear.fit(X, y), 1)
    linear.solver_ = "sgd"
    network, _ = _fit_mlp("sgd-two-layers-dropout-early-stopping")
    return {"linear": linear, "network": _with_run_attributes(network, 3)}


@pytest.mark.parametrize("kind", ["linear", "network"])
def test_training_run_attributes_round_trip(kind, run_models, tmp_path):
    """Check that stop_reason_, the curves, solver_, ... are saved and loaded."""
    model = run_models[kind]
    _assert_same_state(model, _round_trip(model, tmp_path))


RUN_TAMPERINGS = {
    "float32 curve": (
        "weight_norms_curve_",
        np.ones((3, 1), dtype=np.float32),
        "weight_norms_curve_ should be an array of dtype float64",
    ),
    "stop_reason_": ("diverged", "stop_reason_ should be one of"),
    "best_epoch_": (99, "best_epoch_ should be an integer >= 1 and <= 3 or None"),
    "train_loss_": (-1.0, "train_loss_ should be a number >= 0"),
    "baseline_loss_": ("1.0", "baseline_loss_ should be a number >= 0"),
    "train_score_": (1.5, "train_score_ should be a number <= 1"),
    "solver_": ("fista", "solver_ should be one of"),
    "weight_norms_curve_": (
        np.ones((2, 1)),
        "weight_norms_curve_ should be an array of shape \\(3, 1\\)",
    ),
    "zero_fraction_curve_": (
        np.full((3, 1), 2.0),
        "zero_fraction_curve_ should be <= 1",
    ),
}


@pytest.mark.parametrize("name", list(RUN_TAMPERINGS))
def test_training_run_attributes_are_validated(name, run_models):
    """Check each training-run attribute's type, values and shape (epochs x layers)."""
    entry = RUN_TAMPERINGS[name]
    attribute, value, message = entry if len(entry) == 3 else (name, *entry)
    model = copy.deepcopy(run_models["linear"])
    setattr(model, attribute, value)
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    with pytest.raises(ValueError, match=message):
        _load_bytes(buffer.getvalue())


def test_curves_must_agree_with_the_epochs_and_layers(run_models):
    """Check that the curves have one row per epoch and one column per layer."""
    model = copy.deepcopy(run_models["network"])
    model.zero_fraction_curve_ = model.zero_fraction_curve_[:, :2]
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    with pytest.raises(
        ValueError, match="zero_fraction_curve_ should be an array of shape"
    ):
        _load_bytes(buffer.getvalue())
    # Full batch: the epochs are free, but both curves must agree.
    linear = copy.deepcopy(run_models["linear"])
    linear.solver_ = "gram"
    linear.weight_norms_curve_ = np.ones((7, 1))
    linear.zero_fraction_curve_ = np.zeros((7, 1))
    buffer = io.BytesIO()
    sk_weights.save(linear, buffer)
    _assert_same_state(linear, _load_bytes(buffer.getvalue()))
    linear.zero_fraction_curve_ = np.zeros((6, 1))
    buffer = io.BytesIO()
    sk_weights.save(linear, buffer)
    with pytest.raises(
        ValueError, match="zero_fraction_curve_ should be an array of shape \\(7, 1\\)"
    ):
        _load_bytes(buffer.getvalue())


# -- property-based fuzzing ---------------------------------------------------

FUZZ_EXAMPLES = 2000


@pytest.fixture(scope="module")
def fuzz_corpus(diabetes, run_models):
    """Valid files of every estimator and configuration, and data to predict."""
    X, y = diabetes
    models = [_fit_linear(config, X, y) for config in LINEAR_CONFIGS]
    models += [_fit_mlp(config)[0] for config in MLP_CONFIGS]
    models += [_fit_linear_classifier(c)[0] for c in LINEAR_CLASSIFIER_CONFIGS]
    models += [_fit_mlp_regressor(config)[0] for config in MLP_REGRESSOR_CONFIGS]
    models += [pipeline for pipeline, _ in _pipelines().values()]
    models += list(run_models.values())
    corpus = _Corpus()
    for model in models:
        buffer = io.BytesIO()
        sk_weights.save(model, buffer)
        corpus.append(buffer.getvalue())
    return corpus


class _Corpus(list):
    """The valid files; a short repr keeps hypothesis's failure reports readable."""

    def __repr__(self):
        return f"<{len(self)} model files>"


_WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2, 2**31, 2**63, 2**64, 10**19, 10**13]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(["<f8", "<f4", "|O", "<U999999", "|b1", "<i1", "coef_", "x_"]),
    st.lists(st.integers(-2, 10**13), max_size=3),
    st.lists(st.floats(allow_nan=True), max_size=3),
    st.just({}),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["array", "scalar", "tuple", "dict", "function"]),
            "dtype": st.sampled_from(["<f8", "<i1", "<U3", "|b1", "object", 1]),
        },
        optional={
            "shape": st.lists(st.integers(-1, 10**13), max_size=3),
            "value": st.one_of(st.integers(), st.lists(st.integers(), max_size=3)),
            "key": st.sampled_from(["coef_", "coefs_.0", "steps.1.coef_", "nothing"]),
            "items": st.lists(st.integers(), max_size=2),
        },
    ),
)


def _json_paths(node, path=()):
    """Every path to a value in a JSON tree."""
    yield path
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _json_paths(child, (*path, key))


def _mutate_header(data, draw):
    """Replace or delete one field of the JSON header (any depth)."""
    entries = _entries(data)
    name, raw = next((n, r) for n, r in entries if n == HEADER + ".npy")
    header = json.loads(np.load(io.BytesIO(raw)).tobytes().decode("utf-8"))
    path = draw(st.sampled_from(list(_json_paths(header))[1:]))
    parent = header
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(_WRONG_VALUES)
    text = json.dumps(header).encode("utf-8")
    new = _npy_bytes(np.frombuffer(text, dtype=np.uint8))
    return _rezip([(n, new if n == name else r) for n, r in entries])


def _mutate_archive(data, draw):
    """Drop, duplicate, rename, recompress, truncate or corrupt members or bytes."""
    entries = _entries(data)
    kind = draw(
        st.sampled_from(
            [
                "drop",
                "duplicate",
                "rename",
                "recompress",
                "truncate",
                "flip",
                "flip member",
                "reshape member",
            ]
        )
    )
    i = draw(st.integers(0, len(entries) - 1))
    name, raw = entries[i]
    if kind == "drop":
        del entries[i]
    elif kind == "duplicate":
        entries.insert(draw(st.integers(0, len(entries))), (name, raw))
    elif kind == "rename":
        new = draw(
            st.sampled_from(
                [
                    name.removesuffix(".npy"),
                    name + ".npy",
                    "coef_.npy",
                    "x/" + name,
                    ".npy",
                    HEADER + ".npy",
                    name.upper(),
                ]
            )
        )
        entries[i] = (new, raw)
    elif kind == "recompress":
        method = draw(
            st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        )
        return _rezip(entries, method)
    elif kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "flip":
        corrupted = bytearray(data)
        for position in draw(
            st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=4)
        ):
            corrupted[position] ^= draw(st.integers(1, 255))
        return bytes(corrupted)
    elif kind == "flip member":  # behind a valid CRC: only validation can catch it
        corrupted = bytearray(raw)
        for position in draw(
            st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4)
        ):
            corrupted[position] ^= draw(st.integers(1, 255))
        entries[i] = (name, bytes(corrupted))
    else:  # the same bytes under another .npy header
        array = np.load(io.BytesIO(raw))
        shape = draw(
            st.sampled_from([(array.size,), (1, array.size), (array.size, 1), ()])
        )
        dtype = draw(st.sampled_from([array.dtype, np.float32, np.int64, np.uint8]))
        if math.prod(shape) == array.size:
            entries[i] = (name, _npy_bytes(array.reshape(shape).astype(dtype)))
    return _rezip(entries)


def _use(model):
    """Predict and report with a loaded model: it must work, not just load."""
    estimator = model[-1] if isinstance(model, Pipeline) else model
    X = np.random.default_rng(0).normal(size=(5, estimator.n_features_in_))
    if hasattr(model, "feature_names_in_"):
        X = pd.DataFrame(X, columns=model.feature_names_in_)
    prediction = model.predict(X)
    assert prediction.shape[0] == 5
    # Training on goes through every parameter: the loaded ones must be valid
    # (a clear ValueError, e.g. for labels class_weight does not know, is fine).
    try:
        estimator.partial_fit(np.asarray(X), prediction)
    except ValueError as exc:
        assert not isinstance(exc, InvalidParameterError), exc
    str(sk_weights.weights_report(model))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_archives_load_or_raise_value_error(fuzz_corpus, data):
    """Check that a mutated model file gives a working model or a ValueError.

    Starting from valid files of every estimator and configuration, members
    are dropped, duplicated, renamed, recompressed, truncated or corrupted,
    and header fields replaced by wrong types and extreme values. Nothing but
    a ValueError may come out of load, and what loads must predict and report.
    """
    original = fuzz_corpus[data.draw(st.integers(0, len(fuzz_corpus) - 1))]
    if data.draw(st.booleans()):
        mutated = _mutate_header(original, data.draw)
    else:
        mutated = _mutate_archive(original, data.draw)
    try:
        model = _load_bytes(mutated)
    except ValueError as exc:
        assert str(exc).startswith("Not a valid sk_weights model file")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _use(model)


# -- feature_mean_, the baseline of explanations ---------------------------------------


@pytest.mark.parametrize("kind", ["linear", "network"])
def test_feature_mean_round_trips_and_the_running_mean_goes_on(
    kind, diabetes, tmp_path
):
    """Check that feature_mean_ is kept, and partial_fit after load updates it alike.

    The loaded model explains every row as the original does, and the next
    partial_fit chunk enters the running mean with the weight of those seen.
    """
    X, y = diabetes
    if kind == "linear":
        model, extra = WeightedLinearRegressor(solver="sgd", random_state=0), {}
    else:
        y = (y > np.median(y)).astype(int)
        model = MLPWeightsClassifier(hidden_layer_sizes=(4,), random_state=0)
        extra = {"classes": [0, 1]}
    weights = np.linspace(0.5, 2.0, len(y))
    model.partial_fit(X[:200], y[:200], sample_weight=weights[:200], **extra)
    loaded = _round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.feature_mean_, model.feature_mean_)
    expected = sk_weights.explain(model, X[300:305])
    got = sk_weights.explain(loaded, X[300:305])
    np.testing.assert_array_equal(got.contributions, expected.contributions)
    for estimator in (model, loaded):
        estimator.partial_fit(X[200:], y[200:], sample_weight=weights[200:])
    np.testing.assert_array_equal(loaded.feature_mean_, model.feature_mean_)
    np.testing.assert_allclose(
        loaded.feature_mean_, np.average(X, axis=0, weights=weights), rtol=1e-12
    )


FEATURE_MEAN_TAMPERINGS = {
    "not finite": (np.array([np.nan] + [0.0] * 9), "feature_mean_ should be finite"),
    "wrong shape": (np.zeros(9), r"feature_mean_ should be an array of shape \(10,\)"),
    "float32": (
        np.zeros(10, dtype=np.float32),
        "feature_mean_ should be an array of dtype float64",
    ),
}


@pytest.mark.parametrize("name", list(FEATURE_MEAN_TAMPERINGS))
def test_feature_mean_is_validated(name, saved):
    """Check that feature_mean_ must be finite float64 of shape (n_features,)."""
    model, _ = saved
    model = copy.deepcopy(model)
    model.feature_mean_, message = FEATURE_MEAN_TAMPERINGS[name]
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    with pytest.raises(ValueError, match=message):
        _load_bytes(buffer.getvalue())


def test_files_without_feature_mean_still_load(saved, diabetes):
    """Check that a file of an earlier version (no feature_mean_) loads.

    Its explanations need a baseline, and its next partial_fit starts the mean.
    """
    _, data = saved
    header, members = _members(data)
    del header["attributes"]["feature_mean_"], members["feature_mean_"]
    del header["attributes"]["_feature_weight_sum"]
    model = _load_bytes(_write(header, members))
    assert not hasattr(model, "feature_mean_")
    X, y = diabetes
    with pytest.raises(ValueError, match="records no feature_mean_"):
        sk_weights.explain(model, X[:2])
    model.partial_fit(X[:10], y[:10])
    np.testing.assert_allclose(model.feature_mean_, X[:10].mean(axis=0))


# -- what load may allocate, and arguments that are not files ------------------


def _declared_bytes(data):
    """The sizes the archive's directory declares: every member, header included."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    npy_headers = 0
    for info in infos:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(info) as f:
            npy_format.read_magic(f)
            npy_format.read_array_header_1_0(f)
            if info.filename != HEADER + ".npy":
                npy_headers += f.tell()
    return sum(info.file_size for info in infos) - npy_headers


def test_max_bytes_bounds_what_load_allocates(saved):
    """Check load's max_bytes against the arrays' sizes plus the header's.

    The bound is the sum of the declared array sizes (their .npy data) plus
    the header member, here recomputed from the zip directory: a file at the
    bound loads, one byte below it is refused with a ValueError naming
    max_bytes.
    """
    model, data = saved
    declared = _declared_bytes(data)
    arrays = sum(
        value.nbytes
        for value in [model.coef_, model.feature_mean_, model.feature_std_]
        + [model.weight_norms_curve_, model.zero_fraction_curve_]
        + [model._optimizer_state["velocity"]]
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert declared == arrays + archive.getinfo(HEADER + ".npy").file_size
    _assert_same_state(model, sk_weights.load(io.BytesIO(data), max_bytes=declared))
    with pytest.raises(ValueError, match=f"more than max_bytes={declared - 1:,}"):
        sk_weights.load(io.BytesIO(data), max_bytes=declared - 1)
    with pytest.raises(TypeError, match="max_bytes must be an integer"):
        sk_weights.load(io.BytesIO(data), max_bytes=1e9)


def test_a_consistent_huge_model_is_refused_by_the_default_cap(saved):
    """Check that a small file declaring a consistent 2 GiB model is refused.

    Every array of a linear model with 2**26 features is declared at its true
    size (512 MiB each), so the schema holds; the default max_bytes (1 GiB)
    refuses it before reading, in little memory.
    """
    _, data = saved
    n = 2**26
    header, members = _members(data)
    header["attributes"]["n_features_in_"] = n
    for key in ("coef_", "feature_mean_", "feature_std_"):
        header["attributes"][key]["shape"] = [n]
    header["attributes"]["_optimizer_state"]["items"][2][1]["shape"] = [n + 1]
    sizes = {"coef_": n, "feature_mean_": n, "feature_std_": n}
    sizes["_optimizer_state.velocity"] = n + 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name, raw in _entries(_write(header, members)):
            if name[: -len(".npy")] not in sizes:
                out.writestr(name, raw)
        for key, size in sizes.items():
            # Deflated members declaring their true size; never read.
            npy = _npy_header((size,))
            info = zipfile.ZipInfo(key + ".npy")
            out.writestr(info, npy + bytes(64))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = len(npy) + 8 * size
    archive = buffer.getvalue()
    assert len(archive) < 2**16
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than max_bytes=1,073,741,824"):
            _load_bytes(archive)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


@pytest.mark.parametrize("file", [None, 3, 2.5, ["model.npz"], b"not a file object"])
def test_load_refuses_what_is_not_a_file(file):
    """Check that load(None) and the like raise a TypeError that says what to pass."""
    with pytest.raises(TypeError, match="file must be a path"):
        sk_weights.load(file)


def test_save_refuses_a_directory_or_no_file(saved, tmp_path):
    """Check that save(model, DIR) is a ValueError and save(model, None) a TypeError.

    Nothing is written in either case.
    """
    model, _ = saved
    with pytest.raises(ValueError, match="is a directory"):
        sk_weights.save(model, tmp_path)
    with pytest.raises(TypeError, match="file must be a path"):
        sk_weights.save(model, None)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "path, value",
    [
        (["attributes", "n_iter_"], 2**70),
        (["attributes", "t_"], -(2**64)),
        (["params", "max_iter"], 2**63),
    ],
)
def test_integers_beyond_int64_are_refused(saved, path, value):
    """Check that header integers beyond int64 (which JSON allows) are refused."""
    _, data = saved
    header, members = _members(data)
    _tamper_header(path, value)(header, members)
    with pytest.raises(ValueError, match="beyond the range of int64"):
        _load_bytes(_write(header, members))
    # The control: the largest int64 passes this check (and fails no other
    # for an iteration count).
    _tamper_header(path, 2**63 - 1)(header, members)
    if path[-1] == "n_iter_":
        assert _load_bytes(_write(header, members)).n_iter_ == 2**63 - 1


@pytest.mark.parametrize("cls", [WeightedLinearClassifier, MLPWeightsClassifier])
def test_class_weight_for_a_class_the_model_lacks_is_refused(cls):
    """Check that a saved class_weight must name classes of the model.

    fit refuses such a class_weight; a file that holds one was tampered with.
    """
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = cls(class_weight={0: 2.0}, max_iter=5, random_state=0).fit(X, y)
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    header, members = _members(buffer.getvalue())
    assert sk_weights.load(io.BytesIO(_write(header, members))).class_weight == {0: 2.0}
    with pytest.raises(ValueError, match="not classes"):
        cls(class_weight={7: 2.0}).fit(X, y)
    entry = header["params"]["class_weight"]
    entry["items"][0][0] = 7
    with pytest.raises(ValueError, match="class_weight names \\[7\\]"):
        _load_bytes(_write(header, members))
