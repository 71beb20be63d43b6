"""Tests of the learned-weights report."""

import copy
import json
import math
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
from conftest import logistic_regression
from matplotlib.colors import to_rgba
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import (
    load_diabetes,
    load_digits,
    load_iris,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    BayesianRidge,
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    LinearRegression,
    LogisticRegression,
    LogisticRegressionCV,
    Ridge,
    RidgeCV,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC, LinearSVR
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.fixes import parse_version

from sk_weights import (
    MLPWeightsClassifier,
    WeightedLinearRegressor,
    WeightsReport,
    weights_path,
    weights_report,
)
from sk_weights._views import SIGN_COLOURS

matplotlib.use("Agg")

FEATURE_KEYS = {"name", "importance", "rank", "weight", "is_zero"}
LAYER_KEYS = {
    "name",
    "shape",
    "n_params",
    "mean",
    "std",
    "min",
    "max",
    "l1_norm",
    "l2_norm",
    "n_zero",
    "zero_fraction",
}
TRAINING_KEYS = {
    "n_iter",
    "loss_curve",
    "converged",
    "stop_reason",
    "best_epoch",
    "train_loss",
    "baseline_loss",
    "train_score",
    "validation_score",
}


def regression_data():
    X, y = make_regression(n_samples=120, n_features=6, n_informative=3, random_state=0)
    return X, y


def fitted_models():
    """One fitted model of every supported kind (short runs: warnings expected)."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = regression_data()
    Xc, yc = load_iris(return_X_y=True)
    Xs = StandardScaler().fit_transform(Xc)
    return {
        "ours-l1": WeightedLinearRegressor(penalty="l1", alpha=5.0).fit(X, y),
        "ours-multi": WeightedLinearRegressor().fit(X, np.column_stack([y, -y])),
        "ours-sgd": WeightedLinearRegressor(
            solver="sgd", early_stopping=True, random_state=0
        ).fit(X, y),
        "LinearRegression": LinearRegression().fit(X, y),
        "Ridge": Ridge().fit(X, y),
        "Lasso": Lasso(alpha=5.0).fit(X, y),
        "ElasticNet": ElasticNet().fit(X, y),
        "SGDRegressor": SGDRegressor(random_state=0).fit(X, y),
        "LogisticRegression": LogisticRegression(max_iter=1000).fit(Xc, yc),
        "MLPClassifier": MLPClassifier(
            hidden_layer_sizes=(5,), max_iter=300, random_state=0
        ).fit(Xc, yc),
        "MLPRegressor": MLPRegressor(
            hidden_layer_sizes=(5, 3), max_iter=500, random_state=0
        ).fit(X, y),
        "ours-mlp": MLPWeightsClassifier(
            hidden_layer_sizes=(5,), max_iter=100, random_state=0
        ).fit(Xs, yc),
        "LinearSVC": LinearSVC().fit(Xs, yc),
    }


with warnings.catch_warnings():
    MODELS = fitted_models()


@pytest.mark.parametrize("kind", list(MODELS))
def test_dict_schema_for_every_supported_model(kind):
    """Check that to_dict has the documented keys and rows and survives JSON."""
    model = MODELS[kind]
    data = weights_report(model).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert {"estimator", "features", "layers", "training"} <= set(data)
    assert data["estimator"]["class"] == type(model).__name__
    assert data["estimator"]["params"] == json.loads(
        json.dumps(data["estimator"]["params"])
    )
    features = data["features"]
    assert len(features) == model.n_features_in_
    for row in features:
        assert set(row) >= FEATURE_KEYS
        assert row["importance"] >= 0
    assert sum(row["importance"] for row in features) == pytest.approx(1.0)
    assert sorted(row["rank"] for row in features) == list(range(1, len(features) + 1))
    importances = [row["importance"] for row in features]
    assert importances == sorted(importances, reverse=True)
    linear = hasattr(model, "coef_") and not hasattr(model, "coefs_")
    n_matrices = 1 if linear else len(model.coefs_)
    assert len(data["layers"]) == n_matrices
    for layer in data["layers"]:
        assert set(layer) == LAYER_KEYS
        assert layer["n_params"] == int(np.prod(layer["shape"]))
    for layer, matrix in zip(data["layers"], [model.coef_] if linear else model.coefs_):
        assert layer["n_zero"] == np.count_nonzero(np.asarray(matrix) == 0)
    assert set(data["training"]) >= TRAINING_KEYS
    assert {"kind", "labels"} == set(data["outputs"])


def test_linear_importance_is_weight_times_feature_std():
    """Check that importance is |w| * std(x) for our models, |w| for others."""
    X, y = regression_data()
    X = X * np.array([1, 10, 0.1, 1, 5, 2])
    model = WeightedLinearRegressor().fit(X, y)
    expected = np.abs(model.coef_) * X.std(axis=0)
    expected /= expected.sum()
    by_index = {
        row["index"]: row for row in weights_report(model).to_dict()["features"]
    }
    np.testing.assert_allclose(
        [by_index[j]["importance"] for j in range(6)], expected, rtol=1e-10
    )
    ridge = Ridge().fit(X, y)
    report = weights_report(ridge).to_dict()
    assert "unknown" in report["importance"]
    by_index = {row["index"]: row for row in report["features"]}
    np.testing.assert_allclose(
        [by_index[j]["importance"] for j in range(6)],
        np.abs(ridge.coef_) / np.abs(ridge.coef_).sum(),
    )


def test_weighted_feature_std_is_used():
    """Check that the recorded feature scale is the weighted standard deviation."""
    X, y = regression_data()
    weights = np.random.default_rng(0).uniform(0, 3, size=len(y))
    for solver in ("fista", "sgd"):
        model = WeightedLinearRegressor(solver=solver, max_iter=3, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 3 epochs
            model.fit(X, y, sample_weight=weights)
        mean = np.average(X, axis=0, weights=weights)
        std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weights))
        np.testing.assert_allclose(model.feature_std_, std, rtol=1e-10)


def test_zero_flags_match_exact_zeros_and_weights_match_coef():
    """Check that is_zero is coef_ == 0 and weight is coef_, feature by feature."""
    model = MODELS["ours-l1"]
    rows = weights_report(model).to_dict()["features"]
    assert any(row["is_zero"] for row in rows)
    for row in rows:
        assert row["weight"] == model.coef_[row["index"]]
        assert row["is_zero"] == (model.coef_[row["index"]] == 0)
    assert "Weights set to exactly zero" in str(weights_report(model))


def test_multi_output_weights_and_importance_sum_over_outputs():
    """Check that multi-output rows hold one weight per target and summed importance."""
    model = MODELS["ours-multi"]
    rows = weights_report(model).to_dict()["features"]
    raw = (np.abs(model.coef_) * model.feature_std_).sum(axis=0)
    for row in rows:
        assert row["weight"] == {
            "0": model.coef_[0, row["index"]],
            "1": model.coef_[1, row["index"]],
        }
        assert row["importance"] == pytest.approx(raw[row["index"]] / raw.sum())


def test_network_importance_is_connection_weights():
    """Check that network importance is |product of the weight matrices|, summed."""
    model = MODELS["MLPClassifier"]
    product = model.coefs_[0] @ model.coefs_[1]
    raw = np.abs(product).sum(axis=1)
    rows = weights_report(model).to_dict()["features"]
    for row in rows:
        assert row["importance"] == pytest.approx(raw[row["index"]] / raw.sum())


def test_feature_names_flow_through_a_pipeline():
    """Check that names come from the steps before the model in a Pipeline."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X["sex"] = np.where(X["sex"] > 0, "m", "f")
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), ["age", "bmi", "bp"]),
                ("cat", OneHotEncoder(), ["sex"]),
            ]
        ),
        WeightedLinearRegressor(penalty="l1", alpha=1.0),
    ).fit(X, y)
    names = {row["name"] for row in weights_report(pipe).to_dict()["features"]}
    assert names == {"num__age", "num__bmi", "num__bp", "cat__sex_f", "cat__sex_m"}
    scaled = make_pipeline(StandardScaler(), WeightedLinearRegressor()).fit(
        X[["age", "bmi"]], y
    )
    report = scaled[-1].weights_report(feature_names=["a", "b"]).to_dict()
    assert {row["name"] for row in report["features"]} == {"a", "b"}
    assert {row["name"] for row in weights_report(scaled).to_dict()["features"]} == {
        "age",
        "bmi",
    }


def test_dataframe_input_names_the_features():
    """Check that feature_names_in_ names the rows."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    report = WeightedLinearRegressor().fit(X, y).weights_report()
    assert [r["name"] for r in report.to_dict()["features"]][:2] == ["bmi", "s5"]


def test_wrong_number_of_feature_names_raises():
    """Check that a feature_names list of the wrong length raises ValueError."""
    with pytest.raises(ValueError, match="2 names but the model has 6"):
        weights_report(MODELS["Ridge"], feature_names=["a", "b"])


def test_unsupported_models_raise_type_error():
    """Check that anything else raises a TypeError that lists what is supported."""
    X, y = regression_data()
    with pytest.raises(TypeError, match="supports .*Pipeline"):
        weights_report(DecisionTreeRegressor().fit(X, y))
    with pytest.raises(TypeError, match="supports"):
        weights_report("a model")


def test_text_summary_is_compact_and_complete():
    """Check that str(report) names the objective, top features, layers and training."""
    text = str(MODELS["ours-sgd"].weights_report())
    assert "WeightedLinearRegressor" in text
    assert "objective" in text and "(L2, alpha=0.0001)" in text
    assert "Top 6 of 6 features" in text and "█" in text
    assert "Layers:" in text and "coef_" in text
    assert "validation R²" in text
    assert len(text.splitlines()) < 30


def test_frames_have_one_row_per_feature_and_layer():
    """Check that the features and layers DataFrames have one row each."""
    report = MODELS["ours-multi"].weights_report()
    features = report.to_frame("features")
    assert isinstance(features, pd.DataFrame)
    assert len(features) == 6
    assert {"rank", "importance", "weight_0", "weight_1", "is_zero"} <= set(
        features.columns
    )
    layers = report.to_frame("layers")
    assert list(layers.index) == ["coef_"]
    assert layers.loc["coef_", "shape"] == (2, 6)
    with pytest.raises(ValueError, match="features"):
        report.to_frame("weights")


def test_html_renders_every_feature_and_layer():
    """Check that the notebook HTML holds a row per feature and the layer table."""
    report = weights_report(MODELS["MLPRegressor"])
    fragment = report._repr_html_()
    assert fragment.count("<tr") == 6 + 3 + 2  # features + layers + 2 headers
    page = report.to_html(include_plot=True)
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page


def titled(fig):
    """The figure's axes by title (colour bars and twin axes have none)."""
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def test_plot_draws_importances_weights_histograms_and_curves(tmp_path):
    """Check that plot() draws importances, weights, one histogram per layer and
    the training panel, and saves a real PNG."""
    fig = weights_report(small_digits_network()).plot()
    assert set(titled(fig)) == {
        "Feature importance",
        "Weights per class (effective, coef_)",
        "Training",
        "coefs_[0] (0% zeros)",
        "coefs_[1] (0% zeros)",
    }
    path = tmp_path / "report.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    early = MODELS["ours-sgd"].weights_report().plot()
    panels = titled(early)
    expected = {"Feature importance", "Signed weights (coef_)", "Training"}
    if hasattr(MODELS["ours-sgd"], "weight_norms_curve_"):
        expected.add("Weight norms per layer")
    assert set(panels) == expected
    legend = panels["Training"].get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels[:2] == ["training objective", "validation R²"]
    # The validation curve is the model's validation_scores_.
    twin = [ax for ax in early.axes if ax.get_ylabel() == "validation R²"]
    np.testing.assert_array_equal(
        twin[0].lines[0].get_ydata(), MODELS["ours-sgd"].validation_scores_
    )


def signed_data():
    """Data whose least-squares weights have both signs and one exact zero."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = X @ np.array([3.0, -2.0, 0.5, 0.0]) + 0.01 * rng.normal(size=80)
    return X, y


def test_bars_are_coloured_by_the_sign_of_the_weight():
    """Check that importance bars and signed weight bars take the sign's colour
    and the signed bars are the weights."""
    X, y = signed_data()
    model = LinearRegression().fit(X, y)
    model.coef_[3] = 0.0  # an exact zero, drawn grey
    report = weights_report(model, feature_names=["a", "b", "c", "d"])
    panels = titled(report.plot())
    shown = report.to_dict()["features"][::-1]  # barh draws bottom-up
    expected = [
        SIGN_COLOURS["positive" if w > 0 else "negative" if w < 0 else "zero"]
        for w in (model.coef_[row["index"]] for row in shown)
    ]
    for title in ("Feature importance", "Signed weights (coef_)"):
        bars = panels[title].patches
        assert [bar.get_facecolor() for bar in bars] == [to_rgba(c) for c in expected]
    widths = [bar.get_width() for bar in panels["Signed weights (coef_)"].patches]
    np.testing.assert_allclose(widths, [model.coef_[row["index"]] for row in shown])
    assert panels["Feature importance"].get_legend() is not None


def small_digits_network():
    """An MLPClassifier on 300 digits: 64 pixel inputs, 10 classes."""
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(
            X[:300] / 16, y[:300]
        )


def test_image_shape_draws_importance_and_per_class_weight_images():
    """Check that image_shape adds the importance image and one image per class,
    each the class's effective weights reshaped."""
    model = small_digits_network()
    report = weights_report(model)
    panels = titled(report.plot(image_shape=(8, 8)))
    effective = model.coefs_[0] @ model.coefs_[1]
    for k in range(10):
        image = panels[f"class {k}"].images[0].get_array()
        np.testing.assert_allclose(image, effective[:, k].reshape(8, 8))
    importance = np.abs(effective).sum(axis=1)
    np.testing.assert_allclose(
        panels["importance"].images[0].get_array(),
        (importance / importance.sum()).reshape(8, 8),
    )
    with pytest.raises(ValueError, match="height \\* width == 64"):
        report.plot(image_shape=(8, 7))


def test_small_models_get_no_weight_histogram():
    """Check the histograms: none below 100 weights, one per layer above.

    The iris network holds 4x5 + 5x3 = 35 weights, the digits one
    64x8 + 8x10 = 592.
    """
    small = titled(weights_report(MODELS["MLPClassifier"]).plot())
    assert not [title for title in small if "zeros" in title]
    large = titled(weights_report(small_digits_network()).plot())
    histograms = {title: ax for title, ax in large.items() if "zeros" in title}
    assert set(histograms) == {"coefs_[0] (0% zeros)", "coefs_[1] (0% zeros)"}
    counts = sum(
        patch.get_height() for patch in histograms["coefs_[0] (0% zeros)"].patches
    )
    assert counts == 64 * 8


def test_image_panels_have_colour_bars_centred_on_zero():
    """Check the colour bars of the image panels and the symmetric weight scale."""
    model = small_digits_network()
    panels = titled(weights_report(model).plot(image_shape=(8, 8)))
    assert panels["importance"].images[0].colorbar is not None
    # One colour bar for the ten class images, which share their scale.
    last = panels["class 9"].images[0]
    assert last.colorbar is not None
    assert last.colorbar.ax.get_ylabel() == "weight"
    map_ = panels["Weights per class (effective, coef_)"].images[0]
    assert map_.colorbar is not None
    limit = np.abs(model.coefs_[0] @ model.coefs_[1]).max()
    for k in range(10):
        image = panels[f"class {k}"].images[0]
        assert image.get_clim() == pytest.approx((-limit, limit))
        assert image.get_cmap().name == "RdBu"


def _cells(html_text, row_name):
    """The text of the cells of the table row whose feature is ``row_name``."""
    import re

    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html_text, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if len(cells) > 1 and cells[1] == row_name:
            return cells
    raise AssertionError(f"no row for {row_name}")


def test_per_class_weights_take_one_column_each():
    """Check the text, HTML and DataFrame columns of a three-class network's weights."""
    model = MODELS["ours-mlp"]
    names = ["sl", "sw", "pl", "pw"]
    report = weights_report(model, feature_names=names)
    effective = model.coef_  # (classes, features)
    # Fixed decimals: three significant digits for the largest weight.
    decimals = 2 - int(np.floor(np.log10(np.abs(effective).max())))
    rounding = 0.51 * 10.0**-decimals
    text = str(report).splitlines()
    heading = next(line for line in text if "weight per class:" in line)
    assert heading.split()[-3:] == ["0", "1", "2"]
    for j, name in enumerate(names):
        line = next(line for line in text if f". {name} " in line)
        numbers = [float(cell) for cell in line.split()[-3:]]
        np.testing.assert_allclose(numbers, effective[:, j], rtol=0, atol=rounding)
    page = report.to_html(full_page=False)
    assert (
        "".join(f'<th title="weight for class {k}">{k}</th>' for k in range(3)) in page
    )
    for j, name in enumerate(names):
        cells = _cells(page, name)[4:7]
        np.testing.assert_allclose(
            [float(c) for c in cells], effective[:, j], rtol=0, atol=rounding
        )
        assert f'title="{effective[0, j]:+.4g}"' in page  # the full value on hover
    frame = report.to_frame()
    np.testing.assert_allclose(
        frame.loc[names, ["weight_0", "weight_1", "weight_2"]].to_numpy(),
        effective.T,
    )


def test_more_than_ten_classes_make_a_heatmap():
    """Check that twelve classes give a heatmap: one shaded cell per weight,
    its value on hover, and no weight columns in the text."""
    X, y = make_classification(
        n_samples=600,
        n_features=5,
        n_informative=5,
        n_redundant=0,
        n_classes=12,
        n_clusters_per_class=1,
        random_state=0,
    )
    model = LogisticRegression(max_iter=2000).fit(X, y)
    report = weights_report(model)
    page = report.to_html(full_page=False)
    assert page.count('class="heat"') == 5 * 12
    cells = _cells(page, "x0")
    assert len(cells) == 4 + 12
    assert f'title="{model.coef_[0, 0]:+.4g}"' in page
    assert "heatmap" in page
    assert "weight per class:" not in str(report)


def test_html_shows_the_intercepts():
    """Check the intercepts in the HTML: a value, one per class, or a summary."""
    X, y = signed_data()
    linear = LinearRegression().fit(X, y)
    page = weights_report(linear).to_html()
    assert f"intercept_: {linear.intercept_:+.4g}" in page
    logistic = MODELS["LogisticRegression"]
    page = weights_report(logistic).to_html()
    per_class = ", ".join(f"{k}: {b:+.4g}" for k, b in enumerate(logistic.intercept_))
    assert f"intercept_ per class — {per_class}" in page
    network = small_digits_network()
    page = weights_report(network).to_html()
    hidden = network.intercepts_[0]
    assert (
        f"intercepts_[0]: 8 values from {hidden.min():+.4g} to {hidden.max():+.4g}"
        in page
    )


def test_long_lines_are_wrapped():
    """Check that the path's and the report's long lists wrap at 88 characters,
    every name still shown."""
    X, y = make_regression(
        n_samples=60, n_features=40, n_informative=30, random_state=0
    )
    names = [f"a_rather_long_feature_name_{j}" for j in range(40)]
    path = weights_path(WeightedLinearRegressor(penalty="l1"), X, y, n_alphas=4)
    path.feature_names = names
    text = str(path)
    assert max(len(line) for line in text.splitlines()) <= 88
    assert "Order of entry" in text
    model = WeightedLinearRegressor(penalty="l1", alpha=30.0).fit(X, y)
    report = str(weights_report(model, feature_names=names))
    zeros = [names[j] for j in np.flatnonzero(model.coef_ == 0)]
    assert len(zeros) > 5
    block = report[report.index("Weights set to exactly zero") :]
    block = " ".join(block.split())  # the wrapped lines, joined again
    assert ", ".join(zeros) in block
    lines = report.splitlines()
    start = next(k for k, line in enumerate(lines) if "exactly zero" in line)
    assert len(lines[start]) <= 88 and len(lines[start + 1]) <= 88
    assert lines[start + 1].startswith("    ")  # continued, indented


def fake_training(model, **attributes):
    """A copy of a fitted model with training attributes set by hand.

    Stands in for the attributes (``stop_reason_``, ``best_epoch_``,
    ``train_loss_``, ``baseline_loss_``, ``train_score_``,
    ``weight_norms_curve_``, ...) that the estimators record in ``fit``, to
    check how the report reads them.
    """
    model = copy.deepcopy(model)
    for name, value in attributes.items():
        setattr(model, name, value)
    return model


def test_training_panel_marks_the_best_epoch_and_draws_weight_norms():
    """Check that the training panel marks the recorded best epoch and a panel
    draws the recorded weight norms (and exact zeros, when there are any)."""
    base = MODELS["ours-sgd"]
    n_epochs = len(base.loss_curve_)
    norms = np.linspace(1.0, 2.0, n_epochs)[:, None]
    model = fake_training(
        base, stop_reason_="early_stopping", best_epoch_=2, weight_norms_curve_=norms
    )
    panels = titled(model.weights_report().plot())
    training = panels["Training"]
    marker = [line for line in training.lines if line.get_label().startswith("best")]
    assert marker[0].get_label() == "best epoch 2 (weights kept)"
    assert list(marker[0].get_xdata()) == [2, 2]
    legend = [text.get_text() for text in training.get_legend().get_texts()]
    assert "best epoch 2 (weights kept)" in legend
    curve = panels["Weight norms per layer"].lines[0]
    assert curve.get_label() == "coef_"
    np.testing.assert_array_equal(curve.get_ydata(), norms[:, 0])
    # Exact zeros, when there are any, are drawn dashed on a second axis.
    zeros = np.linspace(0.0, 0.5, n_epochs)[:, None]
    sparse = fake_training(model, zero_fraction_curve_=zeros)
    fig = sparse.weights_report().plot()
    twin = [ax for ax in fig.axes if ax.get_ylabel().startswith("fraction")]
    np.testing.assert_array_equal(twin[0].lines[0].get_ydata(), zeros[:, 0])
    dense = fake_training(model, zero_fraction_curve_=np.zeros_like(zeros))
    fig = dense.weights_report().plot()
    assert not [ax for ax in fig.axes if ax.get_ylabel().startswith("fraction")]
    # Without the recorded curve there is no such panel, and no marker.
    plain = titled(weights_report(MODELS["Ridge"]).plot())
    assert "Weight norms per layer" not in plain
    assert plain["Training"].get_legend() is None


def test_sklearn_network_with_early_stopping_reports_its_best_epoch():
    """Check that MLPClassifier's kept weights are read as its best validation
    epoch (it restores them), with that epoch's score."""
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(
            hidden_layer_sizes=(5,), early_stopping=True, max_iter=300, random_state=0
        ).fit(X, y)
    training = weights_report(model).to_dict()["training"]
    assert training["stop_reason"] == "early_stopping"
    assert training["converged"] is True
    best = int(np.argmax(model.validation_scores_)) + 1
    assert training["best_epoch"] == best
    assert training["validation_score"] == model.best_validation_score_
    assert f"the weights of epoch {best} are kept" in str(weights_report(model))


@pytest.mark.parametrize(
    "reason, best, words, converged",
    [
        ("converged", None, "stopped: converged after", True),
        ("early_stopping", 3, "the weights of epoch 3 are kept", True),
        ("max_iter", None, "stopped: NOT converged, max_iter reached", False),
    ],
)
def test_stop_reason_is_said_in_words(reason, best, words, converged):
    """Check that each stop reason gives its words and the converged flag."""
    model = fake_training(MODELS["ours-sgd"], stop_reason_=reason, best_epoch_=best)
    report = model.weights_report()
    training = report.to_dict()["training"]
    assert training["stop_reason"] == reason
    assert training["best_epoch"] == best
    assert training["converged"] is converged
    assert words in str(report)
    assert str(model.n_iter_) in str(report)


def half_mean_squares(y, prediction):
    return float(np.mean(0.5 * (y - prediction) ** 2))


def test_poor_fit_is_flagged_against_the_constant_model():
    """Check that the poor-fit warning shows when the training loss exceeds the
    constant model's (both computed by hand here), and not otherwise."""
    X, y = regression_data()
    model = MODELS["ours-l1"]
    baseline = half_mean_squares(y, y.mean())
    honest = half_mean_squares(y, model.predict(X))
    assert honest < baseline
    good = fake_training(model, train_loss_=honest, baseline_loss_=baseline)
    training = good.weights_report().to_dict()["training"]
    assert training["poor_fit"] is False
    assert (training["train_loss"], training["baseline_loss"]) == (honest, baseline)
    assert "WARNING" not in str(good.weights_report())
    # All weights zero: the constant model itself, whose loss may differ from
    # the baseline's by rounding only. Not a poor fit.
    lasso = Lasso(alpha=1e6).fit(X, y)
    assert not lasso.coef_.any()
    flat = half_mean_squares(y, lasso.predict(X))
    zero = fake_training(lasso, train_loss_=flat * (1 + 1e-12), baseline_loss_=flat)
    assert weights_report(zero).to_dict()["training"]["poor_fit"] is False
    # A failed fit: the weights of a much worse model than the mean.
    failed = half_mean_squares(y, model.predict(X) * -3)
    assert failed > baseline
    poor = fake_training(model, train_loss_=failed, baseline_loss_=baseline)
    text = str(poor.weights_report())
    assert poor.weights_report().to_dict()["training"]["poor_fit"] is True
    warning = [line for line in text.splitlines() if "WARNING" in line]
    assert len(warning) == 1
    assert "poor fit: the training loss is worse than that of a constant" in text
    assert f"training loss {failed:.4g} (constant model: {baseline:.4g})" in text


def test_over_fitting_reads_off_one_line():
    """Check that training and validation scores share a line, and a large gap
    adds the over-fitting note."""
    base = MODELS["ours-sgd"]
    scores = [0.2, 0.41, 0.3]
    overfit = fake_training(
        base, validation_scores_=scores, best_epoch_=2, train_score_=0.95
    )
    text = str(overfit.weights_report())
    assert "training R² 0.950, validation R² 0.410" in text
    assert "over-fitting" in text
    assert overfit.weights_report().to_dict()["training"]["validation_score"] == 0.41
    close = fake_training(
        base, validation_scores_=scores, best_epoch_=2, train_score_=0.45
    )
    assert "over-fitting" not in str(close.weights_report())
    # Without a kept epoch the kept weights are the last epoch's.
    last = fake_training(base, validation_scores_=scores, best_epoch_=None)
    assert last.weights_report().to_dict()["training"]["validation_score"] == 0.3


@pytest.mark.parametrize("kind", ["LinearRegression", "Ridge", "Lasso", "LinearSVC"])
def test_models_without_the_new_attributes_degrade_gracefully(kind):
    """Check that models that record no losses or scores get None, no verdict
    of a poor fit, and a stop reason only when they count iterations."""
    model = MODELS[kind]
    training = weights_report(model).to_dict()["training"]
    for key in ("train_loss", "baseline_loss", "train_score", "validation_score"):
        assert training[key] is None
    assert training["poor_fit"] is None
    if getattr(model, "n_iter_", None) is None:
        assert training["stop_reason"] is None and training["converged"] is None
    else:
        n_iter, max_iter = int(np.max(model.n_iter_)), model.max_iter
        expected = "max_iter" if n_iter >= max_iter else "converged"
        assert training["stop_reason"] == expected
    assert "WARNING" not in str(weights_report(model))


def test_class_weights_are_labelled_by_class_name():
    """Check that multiclass rows hold one signed weight per class, keyed by the
    class label, and the text names each class."""
    X, y = load_iris(return_X_y=True)
    labels = load_iris().target_names[y]
    model = LogisticRegression(max_iter=1000).fit(X, labels)
    report = weights_report(model)
    for row in report.to_dict()["features"]:
        assert row["weight"] == dict(
            zip(["setosa", "versicolor", "virginica"], model.coef_[:, row["index"]])
        )
    text = str(report)
    for label in model.classes_:
        assert re.search(rf"^  class {label} *: ", text, flags=re.MULTILINE)
    assert report.to_frame().filter(like="weight_").columns.tolist() == [
        "weight_setosa",
        "weight_versicolor",
        "weight_virginica",
    ]


def test_binary_weights_are_signed_towards_the_positive_class():
    """Check that a binary model's weight is one float, coef_, towards classes_[1]."""
    X, y = load_iris(return_X_y=True)
    labels = np.where(y == 0, "other", "iris")[y < 2]
    model = LogisticRegression().fit(X[y < 2], labels)
    report = weights_report(model)
    for row in report.to_dict()["features"]:
        assert row["weight"] == model.coef_[0, row["index"]]
    assert report.to_dict()["outputs"] == {"kind": "class", "labels": ["other"]}
    assert "(w > 0 favours class other)" in str(report)


@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor", "ours-mlp"])
def test_network_directions_are_the_effective_weights(kind):
    """Check that a network's weights are the product of its weight matrices,
    per class for a classifier (and equal to coef_ for this package's)."""
    model = MODELS[kind]
    effective = model.coefs_[0]
    for matrix in model.coefs_[1:]:
        effective = effective @ matrix
    if hasattr(model, "coef_"):
        np.testing.assert_allclose(model.coef_, effective.T)
    rows = weights_report(model).to_dict()["features"]
    for row in rows:
        expected = effective[row["index"]]
        if len(expected) == 1:
            assert row["weight"] == pytest.approx(expected[0], rel=1e-12)
        else:
            labels = [str(c) for c in model.classes_]
            assert row["weight"] == pytest.approx(
                dict(zip(labels, expected)), rel=1e-12
            )


def test_zero_weights_never_print_with_a_sign():
    """Check that -0.0 weights read as 0 in the dict, the text and the HTML."""
    X, y = signed_data()
    model = LinearRegression().fit(X, y)
    model.coef_[3] = -0.0
    model.intercept_ = -0.0
    report = weights_report(model)
    # All-zero weights too: their mean, min and max are no "-0" either.
    empty = copy.deepcopy(model)
    empty.coef_ = -np.zeros(4)
    layer = weights_report(empty).to_dict()["layers"][0]
    for key in ("mean", "min", "max"):
        assert math.copysign(1.0, layer[key]) == 1.0
    for text in (str(weights_report(empty)), weights_report(empty).to_html()):
        assert not re.search(r"-0(?![.\d])", text)
    row = [r for r in report.to_dict()["features"] if r["index"] == 3][0]
    assert row["weight"] == 0 and math.copysign(1.0, row["weight"]) == 1.0
    assert row["is_zero"]
    for text in (str(report), report.to_html()):
        assert not re.search(r"-0(?![.\d])", text)
    assert "w = 0\n" in str(report) and "intercept_: 0\n" in str(report)


def test_intercepts_list_every_bias_vector():
    """Check that intercepts lists every bias vector with its values."""
    linear = weights_report(MODELS["LogisticRegression"]).to_dict()["intercepts"]
    assert linear == [
        {
            "name": "intercept_",
            "shape": [3],
            "values": MODELS["LogisticRegression"].intercept_.tolist(),
        }
    ]
    single = weights_report(MODELS["ours-l1"]).to_dict()["intercepts"]
    assert single[0]["shape"] == [] and single[0]["values"] == [
        MODELS["ours-l1"].intercept_
    ]
    network = MODELS["MLPRegressor"]
    entries = weights_report(network).to_dict()["intercepts"]
    assert [e["name"] for e in entries] == [
        "intercepts_[0]",
        "intercepts_[1]",
        "intercepts_[2]",
    ]
    for entry, bias in zip(entries, network.intercepts_):
        assert entry["shape"] == list(bias.shape)
        assert entry["values"] == bias.tolist()


def test_network_inputs_cut_off_are_flagged_and_named():
    """Check that is_zero marks exactly the inputs with no first-layer weight
    left, the text names them, and n_zero counts the zeros."""
    model = copy.deepcopy(MODELS["ours-mlp"])
    model.coefs_[0][1, :] = 0.0  # input 1 cut off
    model.coefs_[0][2, 0] = 0.0  # input 2 keeps its other weights
    names = ["sepal length", "sepal width", "petal length", "petal width"]
    report = model.weights_report(feature_names=names)
    rows = {row["name"]: row for row in report.to_dict()["features"]}
    assert [name for name in names if rows[name]["is_zero"]] == ["sepal width"]
    assert rows["sepal width"]["importance"] == 0
    assert "Inputs cut off (every first-layer weight is zero) (1): sepal width" in str(
        report
    )
    layer = report.to_dict()["layers"][0]
    assert layer["n_zero"] == np.count_nonzero(model.coefs_[0] == 0) == 6
    assert layer["zero_fraction"] == 6 / model.coefs_[0].size


def regression():
    X, y = regression_data()
    return X, y


def classification():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_quietly(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs; deprecated parameters
        return model.fit(*data())


# scikit-learn 1.10 removes LogisticRegression's penalty (deprecated in 1.8).
OLD_LOGISTIC_API = parse_version(sklearn.__version__) < parse_version("1.10")


# model, data, expected penalty (from the fitted model), words in the objective
OBJECTIVES = [
    (LinearRegression(), regression, lambda m: {"kind": None}, ["Σ (y − ŷ)²", "no"]),
    (
        Ridge(alpha=2.0),
        regression,
        lambda m: {"kind": "l2", "alpha": 2.0},
        ["Σ (y − ŷ)²", "alpha · ‖w‖²", "L2, alpha=2"],
    ),
    (
        RidgeCV(alphas=[0.1, 10.0]),
        regression,
        lambda m: {"kind": "l2", "alpha": m.alpha_},
        ["alpha · ‖w‖²", "L2"],
    ),
    (
        Lasso(alpha=1.0),
        regression,
        lambda m: {"kind": "l1", "alpha": 1.0},
        ["mean ½(y − ŷ)²", "alpha · ‖w‖₁", "(L1, alpha=1)"],
    ),
    (
        LassoCV(cv=3),
        regression,
        lambda m: {"kind": "l1", "alpha": m.alpha_},
        ["alpha · ‖w‖₁", "L1"],
    ),
    (
        ElasticNet(alpha=0.5, l1_ratio=0.3),
        regression,
        lambda m: {"kind": "elasticnet", "alpha": 0.5, "l1_ratio": 0.3},
        ["l1_ratio · ‖w‖₁ + ½(1 − l1_ratio)", "elastic net, alpha=0.5, l1_ratio=0.3"],
    ),
    (
        ElasticNetCV(l1_ratio=[0.2, 0.9], cv=3),
        regression,
        lambda m: {"kind": "elasticnet", "alpha": m.alpha_, "l1_ratio": m.l1_ratio_},
        ["elastic net"],
    ),
    (
        LogisticRegression(C=0.5),
        classification,
        lambda m: {"kind": "l2", "C": 0.5},
        ["C · Σ log loss", "½‖w‖²", "(L2, C=0.5)"],
    ),
    (
        logistic_regression(1.0, C=0.5, solver="saga", max_iter=50),
        classification,
        lambda m: {"kind": "l1", "C": 0.5},
        ["C · Σ log loss + ‖w‖₁", "(L1, C=0.5)"],
    ),
    (
        logistic_regression(0.4, solver="saga", max_iter=50),
        classification,
        lambda m: {"kind": "elasticnet", "C": 1.0, "l1_ratio": 0.4},
        ["elastic net, C=1, l1_ratio=0.4"],
    ),
    (
        logistic_regression(None),
        classification,
        lambda m: {"kind": None},
        ["C · Σ log loss (no penalty)"],
    ),
    (
        LogisticRegressionCV(Cs=[0.01, 1.0], cv=3),
        classification,
        lambda m: {"kind": "l2", "C": float(m.C_[0])},
        ["C · Σ log loss", "L2"],
    ),
    (
        SGDRegressor(loss="huber", penalty="l1", alpha=0.01, random_state=0),
        regression,
        lambda m: {"kind": "l1", "alpha": 0.01},
        ["mean Huber loss (epsilon=0.1)", "(L1, alpha=0.01)"],
    ),
    (
        SGDRegressor(loss="epsilon_insensitive", penalty=None, random_state=0),
        regression,
        lambda m: {"kind": None},
        ["max(0, |y − ŷ| − epsilon)", "(no penalty)"],
    ),
    (
        SGDClassifier(loss="hinge", penalty="elasticnet", random_state=0),
        classification,
        lambda m: {"kind": "elasticnet", "alpha": 0.0001, "l1_ratio": 0.15},
        ["mean hinge loss", "elastic net"],
    ),
    (
        SGDClassifier(loss="log_loss", random_state=0),
        classification,
        lambda m: {"kind": "l2", "alpha": 0.0001},
        ["mean log loss + alpha · ½‖w‖²"],
    ),
    (
        LinearSVC(C=0.3),
        classification,
        lambda m: {"kind": "l2", "C": 0.3},
        ["C · Σ squared hinge loss", "½‖w‖²", "(L2, C=0.3)"],
    ),
    (
        LinearSVC(penalty="l1", dual=False),
        classification,
        lambda m: {"kind": "l1", "C": 1.0},
        ["‖w‖₁", "L1"],
    ),
    (
        LinearSVR(C=2.0, epsilon=0.5),
        regression,
        lambda m: {"kind": "l2", "C": 2.0},
        ["C · Σ max(0, |y − ŷ| − epsilon) (epsilon=0.5)", "(L2, C=2)"],
    ),
    (
        MLPClassifier(hidden_layer_sizes=(3,), alpha=0.01, max_iter=20),
        classification,
        lambda m: {"kind": "l2", "alpha": 0.01},
        ["mean log loss", "alpha · ½‖W‖² / n_samples", "(L2, alpha=0.01)"],
    ),
    (
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=20),
        regression,
        lambda m: {"kind": "l2", "alpha": 0.0001},
        ["mean ½(y − ŷ)²", "/ n_samples"],
    ),
    (
        WeightedLinearRegressor(penalty="l1", alpha=0.5),
        regression,
        lambda m: {"kind": "l1", "alpha": 0.5},
        ["mean ½(y − ŷ)² + alpha · ‖w‖₁ (L1, alpha=0.5)"],
    ),
    (
        MLPWeightsClassifier(
            hidden_layer_sizes=(3,), penalty="elasticnet", l1_ratio=0.5, max_iter=5
        ),
        classification,
        lambda m: {"kind": "elasticnet", "alpha": 0.0001, "l1_ratio": 0.5},
        ["mean log loss + alpha · (l1_ratio · ‖W‖₁"],
    ),
]

if OLD_LOGISTIC_API:  # the penalty named the older way
    OBJECTIVES.append(
        (
            LogisticRegression(penalty="l1", C=0.5, solver="saga", max_iter=50),
            classification,
            lambda m: {"kind": "l1", "C": 0.5},
            ["C · Σ log loss + ‖w‖₁", "(L1, C=0.5)"],
        )
    )


@pytest.mark.parametrize(
    "model, data, penalty, words",
    OBJECTIVES,
    ids=[f"{type(o[0]).__name__}-{i}" for i, o in enumerate(OBJECTIVES)],
)
def test_models_are_described_by_their_own_objective(model, data, penalty, words):
    """Check that loss, penalty kind and strength match each model's documented
    objective and parameters (the CV variants: their fitted choice)."""
    model = fit_quietly(model, data)
    report = weights_report(model)
    assert report.to_dict()["penalty"] == penalty(model)
    objective = report.to_dict()["objective"]
    for word in words:
        assert word in objective
    assert objective in str(report)
    kind = penalty(model)["kind"]
    others = {"l1": ["L2", "elastic"], "l2": ["L1", "elastic"], None: ["L1", "L2"]}
    for wrong in others.get(kind, []):
        assert wrong not in objective


def test_undescribed_linear_models_are_not_given_a_penalty():
    """Check that a linear model outside the table says so rather than guess."""
    model = BayesianRidge().fit(*regression_data())
    report = weights_report(model).to_dict()
    assert report["penalty"] == {"kind": "unknown"}
    assert "see BayesianRidge's documentation" in report["objective"]


def test_searches_and_target_transformers_report_their_fitted_model():
    """Check that GridSearchCV, RandomizedSearchCV and TransformedTargetRegressor
    are opened to the model they fitted, with feature names through a Pipeline."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), Lasso()), {"lasso__alpha": [0.1, 5.0]}, cv=3
    ).fit(X, y)
    report = weights_report(grid).to_dict()
    lasso = grid.best_estimator_[-1]
    assert report["estimator"]["class"] == "Lasso"
    assert report["estimator"]["inside"] == ["GridSearchCV", "Pipeline"]
    assert report["penalty"] == {
        "kind": "l1",
        "alpha": grid.best_params_["lasso__alpha"],
    }
    for row in report["features"]:
        assert row["name"] == X.columns[row["index"]]
        assert row["weight"] == lasso.coef_[row["index"]]
    assert "Lasso — learned weights (inside GridSearchCV › Pipeline)" in str(
        weights_report(grid)
    )
    Xc, yc = classification()
    search = RandomizedSearchCV(
        LinearSVC(), {"C": [0.1, 1.0]}, n_iter=2, cv=3, random_state=0
    ).fit(Xc, yc)
    assert weights_report(search).to_dict()["penalty"] == {
        "kind": "l2",
        "C": search.best_estimator_.C,
    }
    target = TransformedTargetRegressor(
        regressor=Ridge(), func=np.log, inverse_func=np.exp
    ).fit(X, y)
    rows = weights_report(target).to_dict()["features"]
    for row in rows:
        assert row["weight"] == target.regressor_.coef_[row["index"]]
    assert "the weights predict the transformed target" in str(weights_report(target))
    no_refit = GridSearchCV(Lasso(), {"alpha": [0.1, 1.0]}, cv=3, refit=False)
    with pytest.raises(ValueError, match="refit=True"):
        weights_report(no_refit.fit(X, y))


CONTROL_NAMES = ["a\x1b[31mRED", "b\nFAKE LINE", "c<b>bold</b>", "d\x07\r"]


def test_control_characters_in_names_and_labels_are_escaped():
    """Check that feature names and class labels cannot drive the terminal or
    add lines to the text, and are escaped in the HTML."""
    X, y = signed_data()
    model = LinearRegression().fit(X, y)
    report = weights_report(model, feature_names=CONTROL_NAMES)
    clean = weights_report(model, feature_names=["a", "b", "c", "d"])
    text = str(report)
    assert not any(ord(char) < 32 and char != "\n" for char in text)
    assert len(text.splitlines()) == len(str(clean).splitlines())
    assert "a\\x1b[31mRED" in text and "b\\nFAKE LINE" in text
    page = report.to_html()
    assert "\x1b" not in page and "FAKE LINE" in page and "\nFAKE" not in page
    assert "c&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold" not in page
    # Class labels are user strings too.
    Xc, yc = classification()
    labels = np.array(["x\x1b[2Jy", "line\nbreak", "ok"])[yc]
    text = str(weights_report(LogisticRegression().fit(Xc, labels)))
    assert "\x1b" not in text and "class line\\nbreak" in text
    assert "class x\\x1b[2Jy" in text


@pytest.mark.parametrize("kind", ["ours-l1", "ours-mlp", "MLPClassifier"])
def test_report_reads_fitted_attributes_only(monkeypatch, kind):
    """Check that building and rendering the report never fits, predicts or
    scores."""
    model = MODELS[kind]

    def forbidden(*args, **kwargs):
        raise AssertionError("the report must not refit, predict or score")

    for method in ("fit", "partial_fit", "predict", "predict_proba", "score"):
        if hasattr(model, method):
            monkeypatch.setattr(type(model), method, forbidden)
    report = weights_report(model)
    str(report), report.to_dict(), report.to_html(), report.plot()
    assert isinstance(report, WeightsReport)


def test_missing_optional_dependencies_give_clear_errors(monkeypatch):
    """Check that to_frame and plot name the extra to install when it is missing."""
    import builtins

    real_import = builtins.__import__

    def no_extras(name, *args, **kwargs):
        if name.startswith(("pandas", "matplotlib")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    report = weights_report(MODELS["Ridge"])
    monkeypatch.setattr(builtins, "__import__", no_extras)
    with pytest.raises(ImportError, match=r"sk_weights\[pandas\]"):
        report.to_frame()
    with pytest.raises(ImportError, match=r"sk_weights\[plot\]"):
        report.plot()


@pytest.mark.parametrize("dropout", [[0.1, 0.3], np.array([0.1, 0.3]), (0.0, 0.2)])
def test_network_with_a_dropout_rate_per_layer_is_described(dropout):
    """Check that one dropout rate per hidden layer is named in the objective."""
    X, y = load_iris(return_X_y=True)
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(4, 3), dropout=dropout, max_iter=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    objective = weights_report(model).to_dict()["objective"]
    rates = [float(rate) for rate in np.ravel(dropout)]
    assert f"dropout {rates}" in objective
