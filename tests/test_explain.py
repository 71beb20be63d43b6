"""Tests of sk_weights.explain: feature_mean_, contributions, text, plot, command line.

Each contribution is checked against a truth computed here independently: the
linear formula, the effective weights of an identity network, the closed form
of integrated gradients for one relu layer, a Gauss-Legendre quadrature of a
tanh network's gradient written out by hand, and the models' own outputs.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import run_command_line, run_main
from scipy.special import expit, softmax
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    PoissonRegressor,
    Ridge,
    SGDClassifier,
)
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.svm import LinearSVR
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

import sk_weights
from sk_weights import (
    Explanation,
    MLPWeightsClassifier,
    MLPWeightsRegressor,
    WeightedLinearClassifier,
    WeightedLinearRegressor,
    explain,
)
from sk_weights._base import weighted_feature_mean

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sk_weights.PoorFitWarning"),
]


def _network(**params):
    """A small network classifier that trains in a few hundredths of a second."""
    return MLPWeightsClassifier(
        **{
            "hidden_layer_sizes": (8,),
            "learning_rate_init": 0.02,
            "max_iter": 40,
            "random_state": 0,
            **params,
        }
    )


#: Every estimator of the family, one line each: a factory and its task.
ESTIMATORS = {
    "WeightedLinearRegressor": (lambda: WeightedLinearRegressor(alpha=0.01), "reg"),
    "MLPWeightsClassifier": (_network, "clf"),
    "MLPWeightsRegressor": (
        lambda: MLPWeightsRegressor((8,), learning_rate_init=0.02, max_iter=40),
        "reg",
    ),
}


@pytest.fixture(scope="module")
def data():
    """Standardised data for each task: (X, y), 150 rows of 4 or 10 features."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X[:150])
    iris_X, iris_y = load_iris(return_X_y=True)
    return {
        "reg": (X, y[:150]),
        "clf": (StandardScaler().fit_transform(iris_X), iris_y),
    }


@pytest.fixture(scope="module")
def fitted(data):
    """Each estimator of the family fitted on its task's data."""
    models = {}
    for name, (make, task) in ESTIMATORS.items():
        X, y = data[task]
        models[name] = (make().fit(X, y), X, y)
    return models


def _raw_output(model, X):
    """The raw output, computed here from the fitted weights alone."""
    if hasattr(model, "coefs_"):
        hidden = {
            "relu": lambda z: np.maximum(z, 0),
            "tanh": np.tanh,
            "logistic": expit,
            "identity": lambda z: z,
        }[model.activation]
        a = X
        for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
            a = a @ W + b
            if i + 1 < len(model.coefs_):
                a = hidden(a)
        return a[:, 0] if a.shape[1] == 1 else a
    if hasattr(model, "decision_function"):
        return model.decision_function(X)
    return model.predict(X)


# -- feature_mean_ ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_feature_mean_is_the_weighted_mean_of_the_rows_trained_on(name, data):
    """Check that feature_mean_ is np.average(X, weights=sample_weight), float64."""
    make, task = ESTIMATORS[name]
    X, y = data[task]
    # float32 data and weights (float32 models keep the weights in float32).
    X = X.astype(np.float32)
    weights = np.random.default_rng(0).uniform(0, 3, size=len(y)).astype(np.float32)
    model = make().fit(X, y, sample_weight=weights)
    assert model.feature_mean_.dtype == np.float64
    assert model.feature_mean_.shape == (X.shape[1],)
    expected = np.average(X.astype(np.float64), axis=0, weights=weights)
    np.testing.assert_allclose(model.feature_mean_, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "make, sparse, class_weight",
    [
        (lambda cw: WeightedLinearRegressor(alpha=0.1, penalty="l1"), False, None),
        (lambda cw: WeightedLinearRegressor(alpha=0.1, penalty="l1"), True, None),
        (lambda cw: WeightedLinearClassifier(alpha=0.01, class_weight=cw), True, None),
        (
            lambda cw: WeightedLinearClassifier(alpha=0.01, class_weight=cw),
            False,
            "balanced",
        ),
    ],
)
def test_full_batch_fits_take_feature_mean_from_their_solver(
    make, sparse, class_weight, monkeypatch
):
    """Check that a full-batch fit's feature_mean_ is the sample-weighted mean,
    taken from the solver's own statistics (no second pass over X) unless
    class weights made the solver weigh the samples otherwise."""
    X, y = load_iris(return_X_y=True)
    y = y if class_weight else (y == 1).astype(float)
    weights = np.random.default_rng(3).uniform(0.5, 2, size=len(y))
    passes = []
    monkeypatch.setattr(
        sk_weights._base,
        "weighted_feature_mean",
        lambda *args: passes.append(1) or weighted_feature_mean(*args),
    )
    model = make(class_weight).fit(sp.csr_matrix(X) if sparse else X, y, weights)
    expected = np.average(X, axis=0, weights=weights)
    np.testing.assert_allclose(model.feature_mean_, expected, rtol=1e-12)
    assert len(passes) == (1 if class_weight else 0)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_partial_fit_keeps_a_running_mean_of_every_chunk(name, data):
    """Check that partial_fit's feature_mean_ is the weighted mean of all chunks.

    fit starts over: its feature_mean_ is that of its own rows.
    """
    make, task = ESTIMATORS[name]
    X, y = data[task]
    weights = np.random.default_rng(1).uniform(0.5, 2, size=len(y))
    order = np.random.default_rng(2).permutation(len(y))  # chunks hold every class
    chunks = np.array_split(order, 3)
    extra = {"classes": np.unique(y)} if task == "clf" else {}
    model = make()
    for i, rows in enumerate(chunks):
        model.partial_fit(X[rows], y[rows], sample_weight=weights[rows], **extra)
        seen = np.concatenate(chunks[: i + 1])
        expected = np.average(X[seen], axis=0, weights=weights[seen])
        np.testing.assert_allclose(model.feature_mean_, expected, rtol=1e-12)
    model.fit(X[chunks[0]], y[chunks[0]])
    np.testing.assert_allclose(model.feature_mean_, X[chunks[0]].mean(axis=0))


def test_feature_mean_does_not_overflow_in_float32():
    """Check that the mean of float32 values near the float32 maximum is finite."""
    X = np.full((1000, 3), 3e38, dtype=np.float32)
    X[:, 1] = -3e38
    with np.errstate(over="ignore"):
        assert np.isinf(X.sum(axis=0)).all()  # the naive float32 sum overflows
    mean = weighted_feature_mean(X, np.ones(1000, dtype=np.float32))
    np.testing.assert_allclose(mean, [3e38, -3e38, 3e38], rtol=1e-6)
    sparse = weighted_feature_mean(sp.csr_matrix(X), np.ones(1000))
    np.testing.assert_allclose(sparse, mean)


# -- every estimator -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_contributions_add_up_to_the_raw_output(name, fitted):
    """Check output against the raw output computed here, and completeness.

    For a classifier the raw output is the logits: their sigmoid or softmax is
    ``predict_proba``.
    """
    model, X, _ = fitted[name]
    explanation = explain(model, X[:20])
    output = _raw_output(model, X[:20])
    np.testing.assert_allclose(explanation.output, output, rtol=1e-10, atol=1e-10)
    total = explanation.contributions.sum(axis=-1) + explanation.baseline_output
    scale = np.abs(output).max()
    assert np.abs(total - explanation.output).max() <= 1e-3 * scale
    np.testing.assert_allclose(
        explanation.completeness_error, np.abs(total - explanation.output)
    )
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X[:20])
        if proba.shape[1] == 2:
            np.testing.assert_allclose(expit(explanation.output), proba[:, 1])
        else:
            np.testing.assert_allclose(softmax(explanation.output, axis=1), proba)
    baseline = explain(model, model.feature_mean_[np.newaxis])
    np.testing.assert_allclose(baseline.output[0], explanation.baseline_output)
    np.testing.assert_allclose(baseline.contributions, 0, atol=1e-12)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_results_are_repeatable_and_independent_of_the_batch_size(name, fitted):
    """Check identical results for the same input and batch sizes that split rows."""
    model, X, _ = fitted[name]
    first = explain(model, X[:9], n_steps=16)
    again = explain(model, X[:9], n_steps=16)
    np.testing.assert_array_equal(first.contributions, again.contributions)
    np.testing.assert_array_equal(first.output, again.output)
    for batch_size in (1, 7, 50):
        other = explain(model, X[:9], n_steps=16, batch_size=batch_size)
        np.testing.assert_allclose(
            other.contributions, first.contributions, rtol=1e-12, atol=1e-14
        )


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_cut_off_feature_contributes_nothing(name, fitted):
    """Check that a feature whose input weights are all zero gets exactly 0."""
    model, X, _ = fitted[name]
    model = copy.deepcopy(model)
    if hasattr(model, "coefs_"):
        model.coefs_[0][2] = 0.0  # every weight leaving input 2
    else:
        model.coef_[..., 2] = 0.0
    contributions = explain(model, X[:10]).contributions
    assert np.all(contributions[..., 2] == 0)
    assert np.any(contributions[..., 1] != 0)


# -- linear models: exact --------------------------------------------------------------


LINEAR_MODELS = {
    "ours, two targets": (lambda: WeightedLinearRegressor(alpha=0.01), "reg2"),
    "LinearRegression": (LinearRegression, "reg"),
    "Ridge, two targets": (Ridge, "reg2"),
    "LinearSVR": (lambda: LinearSVR(random_state=0), "reg"),
    "LogisticRegression, binary": (LogisticRegression, "binary"),
    "LogisticRegression, multiclass": (LogisticRegression, "clf"),
    "SGDClassifier": (lambda: SGDClassifier(random_state=0), "clf"),
}


@pytest.mark.parametrize("name", list(LINEAR_MODELS))
def test_linear_contributions_are_the_weights_times_the_distance(name, data):
    """Check contributions == coef_ * (x - baseline), summing to the model's output."""
    make, task = LINEAR_MODELS[name]
    X, y = data["clf" if task in ("clf", "binary") else "reg"]
    if task == "reg2":
        y = np.column_stack([y, -0.5 * y])
    if task == "binary":
        y = y == 1
    model = make().fit(X, y)
    explanation = explain(model, X[:15], baseline=X)
    coef = np.atleast_2d(model.coef_)
    expected = (X[:15] - X.mean(axis=0))[:, np.newaxis, :] * coef
    output = (
        model.decision_function(X[:15])
        if task in ("clf", "binary")
        else (model.predict(X[:15]))
    )
    if output.ndim == 1:
        expected = expected[:, 0]
    assert explanation.contributions.shape == expected.shape
    np.testing.assert_allclose(explanation.contributions, expected, rtol=1e-13)
    total = explanation.contributions.sum(axis=-1) + explanation.baseline_output
    np.testing.assert_allclose(total, output, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(explanation.output, output, rtol=1e-15)
    assert explanation.completeness_error.max() < 1e-11 * np.abs(output).max()


# -- networks: integrated gradients ----------------------------------------------------


def test_identity_network_gives_the_linear_contributions_of_coef_(data):
    """Check that a linear network is explained by its effective weights, exactly.

    ``coef_`` is the product of the weight matrices (Olden's), transposed.
    """
    X, y = data["clf"]
    for labels in (y, y == 1):  # multiclass (3 logits) and binary (1 logit)
        model = _network(hidden_layer_sizes=(6, 5), activation="identity")
        model.fit(X, labels)
        explanation = explain(model, X[:20], n_steps=2)
        expected = (X[:20] - model.feature_mean_)[:, np.newaxis, :] * model.coef_
        if model.coef_.shape[0] == 1:
            expected = expected[:, 0]
        np.testing.assert_allclose(
            explanation.contributions, expected, rtol=1e-10, atol=1e-12
        )
    # The same for scikit-learn's networks.
    X, y = data["reg"]
    mlp = MLPRegressor(
        hidden_layer_sizes=(7,), activation="identity", max_iter=50, random_state=0
    )
    mlp.fit(X, y)
    effective = np.linalg.multi_dot(mlp.coefs_)[:, 0]
    explanation = explain(mlp, X[:10], baseline=X)
    np.testing.assert_allclose(
        explanation.contributions, (X[:10] - X.mean(axis=0)) * effective, rtol=1e-10
    )


def test_one_relu_layer_is_explained_exactly(data):
    """Check integrated gradients of one relu layer against their closed form.

    Along the path ``b + t (x - b)`` each hidden unit's pre-activation is
    linear in t, so the integral of its 0/1 derivative is the share of [0, 1]
    on which it is positive; contribution j of output k is then
    ``(x_j - b_j) * sum_u W0[j, u] * W1[u, k] * share_u``.
    """
    X, y = data["clf"]
    model = _network(hidden_layer_sizes=(12,)).fit(X, y)
    W0, W1 = model.coefs_
    b = model.feature_mean_
    z_start = b @ W0 + model.intercepts_[0]
    z_end = X[:25] @ W0 + model.intercepts_[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.clip(z_start / (z_start - z_end), 0, 1)
    share = ((z_start > 0) & (z_end > 0)).astype(float)
    switches_off = (z_start > 0) & (z_end <= 0)
    switches_on = (z_start <= 0) & (z_end > 0)
    share[switches_off] = crossing[switches_off]
    share[switches_on] = 1 - crossing[switches_on]
    assert np.mean((share > 0) & (share < 1)) > 0  # some units do switch
    expected = np.einsum("ju,ru,uk->rkj", W0, share, W1) * (X[:25] - b)[:, None, :]
    for n_steps in (2, 64):
        explanation = explain(model, X[:25], n_steps=n_steps)
        np.testing.assert_allclose(
            explanation.contributions, expected, rtol=1e-9, atol=1e-12
        )
        assert explanation.completeness_error.max() < 1e-12


def test_tanh_matches_an_independent_quadrature(data):
    """Check a tanh network against Gauss-Legendre integration of its gradient.

    The gradient of logit k at p is ``W0 @ ((1 - tanh(p W0 + b0)**2) * W1[:, k])``;
    40 Gauss-Legendre nodes integrate it along the path to rounding.
    """
    X, y = data["clf"]
    model = _network(activation="tanh").fit(X, y)
    W0, W1 = model.coefs_
    b = model.feature_mean_
    nodes, node_weights = np.polynomial.legendre.leggauss(40)
    nodes, node_weights = (nodes + 1) / 2, node_weights / 2
    rows = X[:10]
    expected = np.zeros((10, W1.shape[1], X.shape[1]))
    for t, w in zip(nodes, node_weights):
        points = b + t * (rows - b)
        slope = 1 - np.tanh(points @ W0 + model.intercepts_[0]) ** 2
        expected += w * np.einsum("ju,ru,uk->rkj", W0, slope, W1)
    expected *= (rows - b)[:, None, :]
    errors = [
        np.abs(explain(model, rows, n_steps=n).contributions - expected).max()
        for n in (4, 16, 64)
    ]
    assert errors[0] > errors[1] > errors[2]
    # The trapezoid rule's error falls as 1 / n_steps**2: 16 times per 4 steps.
    assert errors[1] / errors[2] > 10
    assert errors[2] < 1e-3 * np.abs(expected).max()


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_completeness_error_falls_as_n_steps_grows(activation, data):
    """Check that the completeness error shrinks with n_steps (two hidden layers).

    At the default n_steps it is below 1e-3 of the output's scale (the
    largest distance of an output from the baseline output).
    """
    X, y = data["clf"]
    model = _network(hidden_layer_sizes=(16, 8), activation=activation)
    model.fit(X, y)
    rows = X[::3]
    errors = {}
    for n_steps in (4, 16, 64):
        explanation = explain(model, rows, n_steps=n_steps)
        errors[n_steps] = explanation.completeness_error.max()
    assert errors[4] > errors[16] > errors[64]
    scale = np.abs(explanation.output - explanation.baseline_output).max()
    assert errors[64] < 1e-3 * scale


def test_float32_and_sparse_input(data):
    """Check that float32 models and sparse rows are explained as float64 dense ones."""
    X, y = data["clf"]
    model = _network().fit(X.astype(np.float32), y)
    dense = explain(model, X[:10].astype(np.float32))
    assert dense.contributions.dtype == np.float64
    assert dense.completeness_error.max() < 1e-12
    np.testing.assert_allclose(
        dense.output, _raw_output(model, X[:10].astype(np.float32)), rtol=1e-5
    )
    sparse = explain(model, sp.csr_matrix(X[:10].astype(np.float32)))
    np.testing.assert_array_equal(sparse.contributions, dense.contributions)


# -- pipelines, baselines and bad input ------------------------------------------------


def test_pipeline_contributions_are_those_of_the_last_steps_inputs():
    """Check that X goes through the pipeline and features take the steps' names."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X = X[["bmi", "bp", "s5"]]
    pipeline = make_pipeline(
        PolynomialFeatures(2, include_bias=False),
        StandardScaler(),
        WeightedLinearRegressor(alpha=0.01),
    ).fit(X, y)
    model = pipeline[-1]
    rows = X.iloc[[3, 7, 11]]
    explanation = explain(pipeline, rows)
    assert explanation.feature_names == list(pipeline[:-1].get_feature_names_out())
    assert "bmi^2" in explanation.feature_names
    assert explanation.index == [3, 7, 11]
    seen = pipeline[:-1].transform(rows)
    np.testing.assert_allclose(
        explanation.contributions, model.coef_ * (seen - model.feature_mean_)
    )
    total = explanation.contributions.sum(axis=1) + explanation.baseline_output
    np.testing.assert_allclose(total, pipeline.predict(rows), rtol=1e-12)
    # A baseline is given as rows of X: they go through the steps too, and
    # their mean is taken there (here, the training rows: feature_mean_).
    given = explain(pipeline, rows, baseline=X)
    np.testing.assert_allclose(given.contributions, explanation.contributions)
    assert "after PolynomialFeatures, StandardScaler" in str(explanation)


def test_baseline_may_be_a_row_a_series_or_rows(data):
    """Check the forms of baseline, and that the contributions follow it."""
    X, y = data["reg"]
    model = WeightedLinearRegressor(alpha=0.01).fit(X, y)
    row = X[5]
    single = explain(model, X[:4], baseline=row)
    np.testing.assert_allclose(single.contributions, model.coef_ * (X[:4] - row))
    np.testing.assert_allclose(single.baseline_output, model.predict(X[5:6])[0])
    np.testing.assert_allclose(
        explain(model, X[:4], baseline=X[5:6]).output, single.output
    )
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    named = WeightedLinearRegressor(alpha=0.01).fit(frame, y)
    by_series = explain(named, frame.iloc[:4], baseline=frame.mean())
    by_rows = explain(named, frame.iloc[:4], baseline=frame)
    np.testing.assert_allclose(by_series.contributions, by_rows.contributions)
    assert by_series.feature_names == list(frame.columns)


def test_bad_input_raises_clear_errors(data):
    """Check the errors for what cannot be explained, and that they name the cure."""
    X, y = data["reg"]
    model = WeightedLinearRegressor(alpha=0.01).fit(X, y)
    with pytest.raises(ValueError, match="baseline has 3 features"):
        explain(model, X[:2], baseline=np.zeros(3))
    with pytest.raises(ValueError, match="10 features"):
        explain(model, X[:2, :4])
    with pytest.raises(ValueError, match="NaN"):
        explain(model, np.full((1, 10), np.nan))
    with pytest.raises(InvalidParameterError, match="n_steps"):
        explain(model, X[:2], n_steps=1)
    with pytest.raises(ValueError, match="records no feature_mean_.*baseline=X_train"):
        explain(Ridge().fit(X, y), X[:2])
    with pytest.raises(ValueError, match="not X @ coef_.T"):
        explain(PoissonRegressor().fit(X, y), X[:2], baseline=X)
    with pytest.raises(TypeError, match="DecisionTreeRegressor"):
        explain(DecisionTreeRegressor().fit(X, y), X[:2], baseline=X)


# -- text, frame, HTML and plot --------------------------------------------------------


@pytest.fixture(scope="module")
def diabetes_model():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y), X


def test_text_gives_output_baseline_and_top_contributions(diabetes_model):
    """Check each row's line: output = baseline + sum, then signed top terms."""
    model, X = diabetes_model
    explanation = explain(model, X.iloc[[0, 5]])
    text = str(explanation)
    lines = text.splitlines()
    output, baseline = explanation.output[1], explanation.baseline_output
    assert f"row 5: prediction {output:+.4g} = baseline {baseline:+.4g}" in text
    assert lines[2].split() == ["feature", "value", "contribution"]
    contribution = explanation.contributions[0]
    top = int(np.argmax(np.abs(contribution)))
    assert lines[3].split() == [
        X.columns[top],
        f"{X.iloc[0, top]:.4g}",
        f"{contribution[top]:+.4g}",
    ]
    assert "(4 other features)" in text


def test_text_escapes_control_characters_in_names(data):
    """Check that a feature name cannot drive the terminal (ESC, newline)."""
    X, y = data["reg"]
    names = ["evil\x1b[2J\nname"] + [f"f{i}" for i in range(1, X.shape[1])]
    model = WeightedLinearRegressor(alpha=0.01).fit(pd.DataFrame(X, columns=names), y)
    frame = pd.DataFrame(X[:2], columns=names)
    baseline = np.zeros(X.shape[1])
    baseline[0] = 100.0  # the first feature's contribution is the largest
    explanation = explain(model, frame, baseline=baseline)
    text = str(explanation) + explanation.to_html()
    assert "\x1b" not in text and "evil\\x1b[2J\\nname" in text


def test_frames_and_html(data, diabetes_model):
    """Check the DataFrame views of one and several outputs, and the HTML page."""
    model, X = diabetes_model
    frame = explain(model, X.iloc[[4, 9]]).to_frame()
    assert list(frame.index) == [4, 9] and frame.index.name == "row"
    assert list(frame.columns) == list(X.columns)
    X, y = data["clf"]
    network = explain(_network().fit(X, y), X[:3])
    frame = network.to_frame()
    assert frame.shape == (9, 4) and frame.index.names == ["row", "output"]
    np.testing.assert_array_equal(frame.loc[(1, "2")], network.contributions[1, 2])
    assert "logit of class" in str(network)
    page = network.to_html(include_plot=True)
    assert page.startswith("<!DOCTYPE html>") and page.count("<img") == 3


def test_plot_is_a_waterfall_from_baseline_to_output(diabetes_model):
    """Check that the bars start at the baseline output and end at the output."""
    pytest.importorskip("matplotlib")
    model, X = diabetes_model
    explanation = explain(model, X.iloc[[5]])
    fig = explanation.plot(0, top=3)
    bars = fig.axes[0].patches
    assert len(bars) == 4  # the three largest, and the rest in one bar
    assert bars[0].get_x() == pytest.approx(explanation.baseline_output)
    end = bars[-1].get_x() + bars[-1].get_width()
    assert end == pytest.approx(explanation.output[0])
    with pytest.raises(ValueError, match="integer from 0 to 0"):
        explanation.plot(1)


def test_plot_draws_image_contributions_centred_on_zero():
    """Check the image plot of a digits row against the contributions.

    The second image holds the contributions in the shape asked for, on a
    diverging colour map whose limits are symmetric about 0, with a colour bar.
    """
    pytest.importorskip("matplotlib")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    model = _network(hidden_layer_sizes=(8,), max_iter=20).fit(X[:300] / 16, y[:300])
    explanation = explain(model, X[:2] / 16)
    fig = explanation.plot(1, image_shape=(8, 8))
    pixels_ax, contributions_ax = fig.axes[:2]
    k = int(np.argmax(explanation.output[1]))  # the predicted class, by default
    shown = contributions_ax.get_images()[0]
    np.testing.assert_allclose(
        shown.get_array(), explanation.contributions[1, k].reshape(8, 8)
    )
    np.testing.assert_allclose(
        pixels_ax.get_images()[0].get_array(), X[1].reshape(8, 8) / 16
    )
    low, high = shown.get_clim()
    assert low == -high == -np.abs(explanation.contributions[1, k]).max()
    assert shown.get_cmap().name == "RdBu"
    assert shown.colorbar is not None
    assert len(fig.axes) == 4  # two images and their colour bars
    with pytest.raises(ValueError, match="height \\* width == 64"):
        explanation.plot(0, image_shape=(8, 7))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_decision_function_of_a_network_is_the_logit_that_explain_explains(
    n_classes, data
):
    """Check decision_function against the weights, explain and predict_proba."""
    X, y = data["clf"]
    keep = y < n_classes
    X, y = X[keep], y[keep]
    model = _network().fit(X, y)
    scores = model.decision_function(X)
    assert scores.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    np.testing.assert_allclose(scores, _raw_output(model, X), rtol=1e-10)
    np.testing.assert_allclose(explain(model, X[:5]).output, scores[:5], rtol=1e-10)
    proba = model.predict_proba(X)
    if n_classes == 2:
        np.testing.assert_allclose(proba[:, 1], expit(scores), rtol=1e-10)
    else:
        np.testing.assert_allclose(proba, softmax(scores, axis=1), rtol=1e-10)


def test_explanation_is_public():
    """Check that explain and Explanation are part of the package's API."""
    assert sk_weights.explain is explain
    assert {"explain", "Explanation"} <= set(sk_weights.__all__)
    assert isinstance(explain(*_tiny()), Explanation)


def _tiny():
    X = np.arange(12.0).reshape(6, 2)
    return WeightedLinearRegressor().fit(X, X @ [1.0, -2.0]), X[:2]


# -- the command line ------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory, diabetes_model):
    """A saved linear model and its data as CSV (with the target column)."""
    folder = tmp_path_factory.mktemp("explain")
    model, X = diabetes_model
    X.assign(target=0.0).to_csv(folder / "diabetes.csv", index=False)
    sk_weights.save(model, folder / "model.npz")
    return folder


def test_command_line_explains_chosen_rows(saved, diabetes_model):
    """Check ``explain MODEL DATA --rows --html``: the rows' text and an HTML file."""
    result = run_main(
        "explain",
        "model.npz",
        "diabetes.csv",
        "--rows",
        "0,5",
        "--html",
        "e.html",
        cwd=saved,
    )
    assert result.returncode == 0, result.stderr
    model, X = diabetes_model
    expected = str(explain(model, X.iloc[[0, 5]])).splitlines()
    assert result.stdout.splitlines()[: len(expected)] == expected
    assert "Wrote e.html." in result.stdout
    assert (saved / "e.html").read_text().count("<pre>") == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rows", "0,442"], "no row 442 in diabetes.csv, whose 442 data rows"),
        (["--rows", "a"], "--rows takes row numbers"),
    ],
)
def test_command_line_errors_are_one_line(saved, args, message):
    """Check that a bad row ends with status 2 and one line on stderr."""
    result = run_command_line("explain", "model.npz", "diabetes.csv", *args, cwd=saved)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""


def test_command_line_needs_the_models_columns(saved):
    """Check that a CSV lacking a feature column is refused in one line."""
    pd.read_csv(saved / "diabetes.csv").drop(columns="bmi").to_csv(
        saved / "no_bmi.csv", index=False
    )
    result = run_main("explain", "model.npz", "no_bmi.csv", cwd=saved)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "sk-weights explain: error: no_bmi.csv lacks the model's feature "
        "column(s) 'bmi'"
    ]


def test_warnings_do_not_leak(data):
    """Check that explaining models fitted on DataFrames emits no warning."""
    X, y = data["clf"]
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = _network().fit(frame, y)
    pipeline = make_pipeline(StandardScaler(), _network()).fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explain(model, frame.iloc[:3])
        explain(model, frame.iloc[:3], baseline=X[0])  # a plain row, no names
        explain(pipeline, frame.iloc[:3], baseline=frame.iloc[0])
