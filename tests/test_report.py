"""Tests of the learned-weights report."""

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDRegressor,
)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from sk_weights import WeightedLinearRegressor, WeightsReport, weights_report

matplotlib.use("Agg")

FEATURE_KEYS = {"name", "importance", "rank"}
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
    "zero_fraction",
}


def regression_data():
    X, y = make_regression(n_samples=120, n_features=6, n_informative=3, random_state=0)
    return X, y


def fitted_models():
    """One fitted model of every supported kind (short runs: warnings expected)."""
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = regression_data()
    Xc, yc = load_iris(return_X_y=True)
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
    assert {"n_iter", "loss_curve", "converged"} <= set(data["training"])
    if linear:
        assert all({"weight", "is_zero"} <= set(row) for row in features)


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
        assert row["weight"] == list(model.coef_[:, row["index"]])
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
    assert "objective" in text and "L2 (alpha=0.0001)" in text
    assert "Top 6 of 6 features" in text and "█" in text
    assert "Layers:" in text and "coef_" in text
    assert "best validation score" in text
    assert len(text.splitlines()) < 30


def test_frames_have_one_row_per_feature_and_layer():
    """Check the features and layers DataFrames."""
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


def test_plot_draws_importances_histograms_and_curves(tmp_path):
    """Check that plot() draws one panel per layer plus two, and saves a real PNG."""
    report = weights_report(MODELS["MLPClassifier"])
    fig = report.plot()
    assert len(fig.axes) == 2 + 2
    path = tmp_path / "report.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    early = MODELS["ours-sgd"].weights_report().plot()
    assert len(early.axes) == 4  # importance, coef_ histogram, loss, validation


def test_report_reads_fitted_attributes_only(monkeypatch):
    """Check that building the report never calls fit or predict."""
    model = MODELS["ours-l1"]

    def forbidden(*args, **kwargs):
        raise AssertionError("the report must not refit or predict")

    monkeypatch.setattr(type(model), "fit", forbidden)
    monkeypatch.setattr(type(model), "predict", forbidden)
    report = model.weights_report()
    str(report), report.to_dict(), report.to_html()
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
