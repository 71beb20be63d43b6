"""Tests of the inspection tools: stability over resamples, the path, MC dropout."""

import json
import re
import tracemalloc
import warnings

import matplotlib
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import iris_data, run_command_line, run_main
from matplotlib.collections import LineCollection
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_diabetes, load_wine, make_regression
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge, enet_path
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sk_weights.inspection as inspection
from sk_weights import (
    MLPWeightsClassifier,
    MLPWeightsRegressor,
    WeightedLinearRegressor,
    explain,
    mc_dropout,
    save,
    weight_stability,
    weights_path,
    weights_report,
)

matplotlib.use("Agg")

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore::sk_weights.PoorFitWarning"),
]


def regression_data():
    X, y = make_regression(
        n_samples=80, n_features=5, n_informative=3, noise=5.0, random_state=0
    )
    return StandardScaler().fit_transform(X), y


classification_data = iris_data


def binary_data():
    X, y = classification_data()
    return X, y == 1


def two_target_data():
    X, y = regression_data()
    return X, np.column_stack([y, X[:, 0] - y / 100])


def linear_regressor(**kw):
    return WeightedLinearRegressor(penalty="l1", alpha=0.5, **kw)


def mlp_classifier(**kw):
    return MLPWeightsClassifier(
        hidden_layer_sizes=(6,), max_iter=40, learning_rate_init=0.02, **kw
    )


# Every estimator of the family, small and fast: (factory, data). A new
# estimator, or a new kind of target, is one more line.
FAMILY = {
    "linear_regressor": (linear_regressor, regression_data),
    "linear_two_targets": (linear_regressor, two_target_data),
    "mlp_classifier": (mlp_classifier, classification_data),
    "mlp_binary": (mlp_classifier, binary_data),
    "mlp_regressor": (
        lambda **kw: MLPWeightsRegressor((6,), learning_rate_init=0.02, **kw),
        two_target_data,
    ),
}


def family(*names):
    """Parametrize a test over the family (or the named members)."""
    return pytest.mark.parametrize("member", list(names or FAMILY))


def _outputs(model):
    return np.atleast_2d(model.coef_).shape[0]


def _weights_of(row, labels):
    """A report row's weight-shaped entries as arrays, in output order."""
    return {
        key: np.array(
            [row[key][label] for label in labels]
            if isinstance(row[key], dict)
            else [row[key]]
        )
        for key in ("weight", "weight_mean", "weight_std", "weight_low", "weight_high")
    }


# -- stability ----------------------------------------------------------------


def _refits_by_hand(estimator, X, y, n_resamples, method, random_state):
    """Refit clones with the documented seeds; return them and the full fit."""
    seeds = np.random.RandomState(random_state).randint(
        np.iinfo(np.int32).max, size=n_resamples + 1
    )
    classes = np.unique(y) if is_classifier(estimator) else [None]
    fits = []
    for seed in seeds[1:]:
        rng = np.random.default_rng(seed)
        rows = []
        for label in classes:  # drawn within each class for a classifier
            members = np.arange(len(y)) if label is None else np.flatnonzero(y == label)
            if method == "bootstrap":
                rows.append(rng.choice(members, size=len(members), replace=True))
            else:
                rows.append(rng.choice(members, size=len(members) // 2, replace=False))
        rows = np.sort(np.concatenate(rows))
        model = clone(estimator).set_params(random_state=int(seed))
        fits.append(model.fit(X[rows], y[rows]))
    full = clone(estimator).set_params(random_state=int(seeds[0])).fit(X, y)
    return fits, full


@family()
@pytest.mark.parametrize("method", ["bootstrap", "subsample"])
def test_stability_percentiles_match_refits_by_hand(member, method):
    """Check the stability columns against clones refitted by hand.

    The resamples are drawn by hand from the documented seeds, the clones
    refitted explicitly, and the percentiles, means, standard deviations and
    selection frequencies computed with NumPy from their ``coef_``.
    """
    make, data = FAMILY[member]
    X, y = data()
    estimator = make()
    report = weight_stability(
        estimator, X, y, n_resamples=5, method=method, random_state=3
    )
    fits, full = _refits_by_hand(estimator, X, y, 5, method, random_state=3)
    coefs = np.array([np.atleast_2d(m.coef_) for m in fits])  # (fits, out, feat)
    if hasattr(full, "coefs_"):
        selected = np.array([np.any(m.coefs_[0] != 0, axis=1) for m in fits])
    else:
        selected = coefs.any(axis=1)
    data_ = report.to_dict()
    assert data_["stability"] == {"method": method, "n_resamples": 5}
    labels = data_["features"][0]["weight"]
    labels = list(labels) if isinstance(labels, dict) else None
    importances = np.array(
        [
            [
                row["importance"]
                for row in sorted(
                    weights_report(m).to_dict()["features"], key=lambda r: r["index"]
                )
            ]
            for m in fits
        ]
    )
    for row in data_["features"]:
        j = row["index"]
        got = _weights_of(row, labels or [None])
        column = coefs[:, :, j]
        np.testing.assert_allclose(got["weight"], np.atleast_2d(full.coef_)[:, j])
        np.testing.assert_allclose(got["weight_mean"], column.mean(axis=0))
        np.testing.assert_allclose(got["weight_std"], column.std(axis=0, ddof=1))
        np.testing.assert_allclose(
            got["weight_low"], np.percentile(column, 2.5, axis=0), atol=1e-12
        )
        np.testing.assert_allclose(
            got["weight_high"], np.percentile(column, 97.5, axis=0), atol=1e-12
        )
        assert row["selection_frequency"] == selected[:, j].mean()
        assert row["importance_low"] == pytest.approx(
            np.percentile(importances[:, j], 2.5)
        )
        assert row["importance_high"] == pytest.approx(
            np.percentile(importances[:, j], 97.5)
        )


def test_selection_frequency_separates_signal_from_noise():
    """Check that L1 selects a strong feature always and pure noise rarely.

    ``y = 10 x0 + noise``; the five other features are independent noise.
    Over half-samples (stability selection), the strong feature is selected
    in every refit and each noise feature in at most a fifth of them.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = 10 * X[:, 0] + rng.normal(size=200)
    report = weight_stability(
        WeightedLinearRegressor(penalty="l1", alpha=0.3),
        X,
        y,
        n_resamples=20,
        method="subsample",
        random_state=0,
    )
    frequency = {
        row["name"]: row["selection_frequency"] for row in report.to_dict()["features"]
    }
    assert frequency["x0"] == 1.0
    noise = [frequency[f"x{j}"] for j in range(1, 6)]
    assert max(noise) <= 0.2, noise


@family()
def test_stability_is_reproducible_and_independent_of_n_jobs(member):
    """Check identical reports for a fixed random_state, with 1 or 2 jobs."""
    make, data = FAMILY[member]
    X, y = data()
    kwargs = dict(n_resamples=3, random_state=0)
    one = weight_stability(make(), X, y, n_jobs=1, **kwargs).to_dict()
    again = weight_stability(make(), X, y, n_jobs=1, **kwargs).to_dict()
    two = weight_stability(make(), X, y, n_jobs=2, **kwargs).to_dict()
    assert one == again == two
    other = weight_stability(make(), X, y, n_resamples=3, random_state=1).to_dict()
    assert other["features"] != one["features"]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_stability_reissues_the_refits_warnings_once(n_jobs):
    """Check that the refits' warnings reach the caller, once each, with any n_jobs.

    Two epochs cannot converge: every refit warns, in worker processes too.
    """
    X, y = classification_data()
    estimator = MLPWeightsClassifier(hidden_layer_sizes=(3,), max_iter=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        weight_stability(estimator, X, y, n_resamples=3, n_jobs=n_jobs)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == len(set(messages)) >= 1


def test_stability_carries_sample_weight_and_dataframe_names():
    """Check that a drawn row keeps its sample weight and that names are kept.

    Zero weights on half the rows: every refit must equal a fit on the
    resample with those weights (checked by hand for the full fit).
    """
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    estimator = WeightedLinearRegressor(penalty="l1", alpha=0.5)
    report = weight_stability(
        estimator, X, y, sample_weight=weights, n_resamples=2, random_state=0
    )
    full = clone(estimator).fit(X, y, sample_weight=weights)
    rows = {row["name"]: row for row in report.to_dict()["features"]}
    assert set(rows) == set(X.columns)
    for name, w in zip(X.columns, full.coef_):
        assert rows[name]["weight"] == pytest.approx(w, abs=1e-9)


@family()
def test_weights_report_of_a_list_aggregates_cross_validation(member):
    """Check a report of cross-validated models against their coef_ by hand."""
    make, data = FAMILY[member]
    X, y = data()
    fitted = cross_validate(make(random_state=0), X, y, cv=3, return_estimator=True)
    models = list(fitted["estimator"])
    report = weights_report(models).to_dict()
    assert report["stability"] == {"method": "given", "n_resamples": 3}
    coefs = np.array([np.atleast_2d(m.coef_) for m in models])
    labels = report["features"][0]["weight"]
    labels = list(labels) if isinstance(labels, dict) else [None]
    for row in report["features"]:
        j = row["index"]
        got = _weights_of(row, labels)
        np.testing.assert_allclose(got["weight"], coefs[:, :, j].mean(axis=0))
        np.testing.assert_allclose(got["weight_mean"], got["weight"])
    importance = sum(row["importance"] for row in report["features"])
    assert importance == pytest.approx(1.0)
    ranks = sorted(row["rank"] for row in report["features"])
    assert ranks == list(range(1, len(ranks) + 1))


def test_weights_report_of_a_list_refuses_models_that_differ():
    """Check the clear ValueErrors for mixed classes, features, or too few models."""
    X, y = regression_data()
    a = WeightedLinearRegressor().fit(X, y)
    b = WeightedLinearRegressor().fit(X[:, :4], y)
    Xc, yc = classification_data()
    c = MLPWeightsClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(Xc[:, :5], yc)
    with pytest.raises(ValueError, match="differs in its features"):
        weights_report([a, b])
    with pytest.raises(ValueError, match="differs in its class"):
        weights_report([a, c])
    with pytest.raises(ValueError, match="at least two fitted models"):
        weights_report([a])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_resamples": 1}, "n_resamples must be an integer >= 2"),
        ({"method": "jackknife"}, "method must be 'bootstrap' or 'subsample'"),
        ({"sample_weight": np.ones(3)}, "inconsistent numbers of samples"),
    ],
)
def test_stability_refuses_bad_arguments(kwargs, message):
    """Check that bad arguments give a ValueError naming them."""
    X, y = regression_data()
    with pytest.raises(ValueError, match=message):
        weight_stability(WeightedLinearRegressor(), X, y, **kwargs)


def test_stability_renderings_show_intervals_and_selection():
    """Check the text, table, HTML and plot of a stability report.

    The text's weight line is ``w = +a [+l, +h], selected p %`` with the
    numbers of the dict; the frame has the columns; the plot draws one error
    bar per shown feature (weights and importances) and a selection panel.
    """
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    report = weight_stability(
        WeightedLinearRegressor(penalty="l1", alpha=0.5),
        X,
        y,
        n_resamples=6,
        random_state=0,
    )
    bmi = report.to_dict()["features"][0]
    text = str(report)
    line = next(line for line in text.splitlines() if " bmi " in line)
    match = re.search(r"w = (\S+) \[(\S+), (\S+)\], selected (\d+) %", line)
    assert match, line
    w, low, high, selected = match.groups()
    assert float(w) == pytest.approx(bmi["weight"], rel=1e-3)
    assert float(low) == pytest.approx(bmi["weight_low"], rel=1e-3)
    assert float(high) == pytest.approx(bmi["weight_high"], rel=1e-3)
    assert int(selected) == round(100 * bmi["selection_frequency"])
    assert "percentiles of the weight over 6 bootstrap refits" in text
    json.dumps(report.to_dict())
    frame = report.to_frame()
    for column in ("weight_low", "weight_high", "selection_frequency"):
        assert frame.loc["bmi", column] == pytest.approx(bmi[column])
    assert "selected" in report.to_html()
    fig = report.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert any(title.startswith("Selection frequency") for title in titles)
    bars = [
        c for ax in fig.axes for c in ax.collections if isinstance(c, LineCollection)
    ]
    assert sum(len(c.get_segments()) for c in bars) == 2 * len(X.columns)


def test_stability_table_of_a_multiclass_network_has_a_column_per_class():
    """Check the per-class interval columns of a multiclass network's table."""
    X, y = classification_data()
    make, _ = FAMILY["mlp_classifier"]
    report = weight_stability(make(), X, y, n_resamples=2, random_state=0)
    frame = report.to_frame()
    for label in ("0", "1", "2"):
        assert f"weight_low_{label}" in frame.columns
    assert "importance [" in str(report)
    report.plot()


# -- the path -----------------------------------------------------------------


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_equals_enet_path_on_its_grid(l1_ratio):
    """Check the linear path against sklearn's enet_path on its default grid.

    enet_path fits no intercept, so it gets centred X and y; our alpha is its
    alpha. The default grid (100 alphas from alpha_max down to 1e-3 alpha_max)
    must be enet_path's, and the weights equal to 1e-6 relative to a tightly
    converged enet_path.
    """
    X, y = load_diabetes(return_X_y=True)
    alphas, coefs, _ = enet_path(
        X - X.mean(axis=0), y - y.mean(), l1_ratio=l1_ratio, tol=1e-12, max_iter=10**5
    )
    path = weights_path(
        WeightedLinearRegressor(penalty="elasticnet", l1_ratio=l1_ratio),
        X,
        y,
        n_alphas=100,
    )
    np.testing.assert_allclose(path.alphas, alphas, rtol=1e-9)
    scale = np.abs(coefs).max()
    assert np.abs(path.coefs - coefs.T).max() <= 1e-6 * scale
    np.testing.assert_array_equal(path.n_nonzero, (coefs != 0).sum(axis=0))
    assert path.n_nonzero[0] == 0


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_alpha_max_is_where_the_weights_become_zero(fit_intercept):
    """Check alpha_max by the optimality conditions, with sample weights.

    At the grid's first alpha (alpha_max) the L1 optimum is all zero; 1 %
    below it, not. Also on standardised data, where a rounding tie once left
    a weight of 1e-15 there.
    """
    X, y = load_diabetes(return_X_y=True)
    y = y - 100.0
    weights = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y))
    estimator = WeightedLinearRegressor(penalty="l1", fit_intercept=fit_intercept)
    alphas, _ = inspection.default_alphas(estimator, X, y, weights, 5)
    alpha_max = alphas[0]
    fit = clone(estimator).set_params(alpha=alpha_max)
    assert not fit.fit(X, y, sample_weight=weights).coef_.any()
    fit.set_params(alpha=alpha_max * 0.99)
    assert np.count_nonzero(fit.fit(X, y, sample_weight=weights).coef_) == 1
    np.testing.assert_allclose(alphas[-1], alpha_max * 1e-3)
    Xs = StandardScaler().fit_transform(X)
    path = weights_path(estimator, Xs, y, n_alphas=3)
    assert path.n_nonzero[0] == 0 and path.n_nonzero[1] > 0


def test_l2_grid_is_around_the_features_variance():
    """Check the documented L2 grid: 100 v down to 1e-3 v, v the mean variance."""
    X, y = load_diabetes(return_X_y=True)
    path = weights_path(WeightedLinearRegressor(penalty="l2"), X, y, n_alphas=6)
    v = X.var(axis=0).mean()
    np.testing.assert_allclose(path.alphas, v * np.logspace(2, -3, 6))
    # L2 shrinks: the norm of the weights grows as alpha falls.
    norms = np.linalg.norm(path.coefs, axis=1)
    assert np.all(np.diff(norms) > 0)


@family()
def test_path_refits_with_warm_starts_along_the_grid(member):
    """Check the path of every estimator against warm-started fits by hand."""
    make, data = FAMILY[member]
    X, y = data()
    estimator = make(random_state=0)
    path = weights_path(estimator, X, y, alphas=[0.001, 0.1, 0.01])
    np.testing.assert_array_equal(path.alphas, [0.1, 0.01, 0.001])
    model = clone(estimator).set_params(warm_start=True)
    # A linear model walks down from the strong penalty, a network up from the
    # weak one (an all-zero network cannot leave zero).
    order = [2, 1, 0] if member.startswith("mlp") else [0, 1, 2]
    for k in order:
        model.set_params(alpha=path.alphas[k]).fit(X, y)
        np.testing.assert_allclose(path.coefs[k], model.coef_, rtol=1e-12)
        assert path.train_scores[k] == pytest.approx(model.score(X, y))
        assert path.n_nonzero[k] == np.count_nonzero(model.coef_)
    assert path.coefs.shape == (3, *np.shape(model.coef_))
    frame = path.to_frame()
    assert list(frame.index) == list(path.alphas)
    assert frame.shape[1] == 2 + np.size(model.coef_)
    fig = path.plot()
    assert fig.axes[0].get_xscale() == "log"
    assert len(fig.axes[0].get_lines()) == np.size(model.coef_) + 1  # + the zero line
    assert "Weights path" in str(path)


def test_path_default_grid_of_a_network_and_bad_arguments():
    """Check the network's default grid (features' scale) and the errors."""
    X, y = classification_data()
    make, _ = FAMILY["mlp_classifier"]
    path = weights_path(make(random_state=0, penalty="l1"), X, y, n_alphas=3)
    np.testing.assert_allclose(path.alphas, np.logspace(2, -3, 3))  # var = 1
    with pytest.raises(ValueError, match="needs a penalty"):
        weights_path(WeightedLinearRegressor(penalty=None), X, y)
    with pytest.raises(ValueError, match="finite numbers >= 0"):
        weights_path(WeightedLinearRegressor(), X, y, alphas=[1.0, -1.0])


def test_network_path_grows_from_zero_to_the_unpenalised_fit():
    """Check that a network's path selects more inputs as alpha falls.

    At the strong end every weight is zero (the constant model, without a
    warning that training failed); the number of nonzero effective weights
    never falls as alpha falls, passes through values between none and all,
    and at the weak end the network fits its training data about as well as
    the same network fitted without a penalty.
    """
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    estimator = MLPWeightsClassifier(
        hidden_layer_sizes=(16,), penalty="l1", random_state=0
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = weights_path(estimator, X, y, n_alphas=12)
    assert not [w for w in caught if "training failed" in str(w.message)]
    assert path.n_nonzero[0] == 0
    assert np.all(np.diff(path.n_nonzero) >= 0)
    assert path.n_nonzero[-1] == path.coefs[-1].size
    assert len(set(path.n_nonzero.tolist())) >= 4  # a path, not a switch
    unpenalised = clone(estimator).set_params(penalty=None).fit(X, y)
    assert path.train_scores[-1] >= unpenalised.score(X, y) - 0.03
    # The weak end is the fit of the smallest alpha from fresh initial weights.
    fresh = clone(estimator).set_params(alpha=path.alphas[-1]).fit(X, y)
    np.testing.assert_allclose(path.coefs[-1], fresh.coef_, rtol=1e-12)


def _pca_pipeline(model):
    """Standardise, then three principal components named pca0, pca1, pca2."""
    return make_pipeline(StandardScaler(), PCA(n_components=3, random_state=0), model)


PCA_NAMES = ["pca0", "pca1", "pca2"]


def test_every_tool_accepts_a_pipeline_ending_in_an_estimator_of_the_package():
    """Check the five tools on a Pipeline against the same tool on its last step.

    X goes through the first steps, and the features are named by their
    ``get_feature_names_out`` (the components of a PCA, not X's columns).
    """
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    model = MLPWeightsRegressor(
        (6,),
        penalty="l1",
        dropout=0.2,
        learning_rate_init=0.02,
        max_iter=30,
        random_state=0,
    )
    pipeline = _pca_pipeline(model).fit(X, y)
    head, last = pipeline[:-1], pipeline[-1]
    Z = head.transform(X)

    path = weights_path(pipeline, X, y, alphas=[1.0, 0.1])
    by_hand = weights_path(model, Z, y, alphas=[1.0, 0.1])
    np.testing.assert_allclose(path.coefs, by_hand.coefs, rtol=1e-12)
    assert path.feature_names == PCA_NAMES
    assert "after StandardScaler › PCA" in str(path)

    dropped = mc_dropout(pipeline, X.iloc[:5], n_samples=20, random_state=0)
    alone = mc_dropout(last, Z[:5], n_samples=20, random_state=0)
    np.testing.assert_allclose(dropped.mean, alone.mean, rtol=1e-12)
    np.testing.assert_allclose(dropped.std, alone.std, rtol=1e-12)

    explanation = explain(pipeline, X.iloc[:5])
    np.testing.assert_allclose(explanation.data, Z[:5])
    assert explanation.feature_names == PCA_NAMES

    report = weights_report(pipeline).to_dict()
    assert sorted(row["name"] for row in report["features"]) == PCA_NAMES
    stability = weight_stability(pipeline, X, y, n_resamples=2, random_state=0)
    assert sorted(row["name"] for row in stability.to_dict()["features"]) == PCA_NAMES


# -- MC dropout ---------------------------------------------------------------


def test_mc_dropout_of_a_linear_model_matches_the_closed_form():
    """Check MC dropout of a linear model against its mean and variance.

    With inverted dropout at rate p on the inputs, the output is
    ``b + sum_j w_j x_j m_j / (1 - p)``: its mean is the prediction and its
    variance ``p / (1 - p) * sum_j (w_j x_j)**2``.
    """
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressor(dropout=0.3, max_iter=20, random_state=0).fit(X, y)
    rows = X[:25]
    result = mc_dropout(model, rows, n_samples=4000, random_state=0)
    std = np.sqrt(0.3 / 0.7 * ((rows * model.coef_) ** 2).sum(axis=1))
    assert result.mean.shape == result.std.shape == (25,)
    assert np.all(np.abs(result.mean - model.predict(rows)) < 5 * std / np.sqrt(4000))
    np.testing.assert_allclose(result.std, std, rtol=0.06)
    assert result.entropy is None and result.samples is None


@family()
def test_mc_dropout_tends_to_the_prediction_as_dropout_vanishes(member):
    """Check that MC dropout's mean tends to predict and its std grows with p.

    The weights are fitted once with dropout; the rate the passes use is then
    set on the fitted model (its weights unchanged), from 0.4 down to 1e-4.
    """
    make, data = FAMILY[member]
    X, y = data()
    model = make(dropout=0.2, random_state=0).fit(X, y)
    expected = model.predict_proba(X) if is_classifier(model) else model.predict(X)
    gaps, stds = [], []
    for rate in (0.4, 0.2, 0.05, 1e-4):
        model.set_params(dropout=rate)
        result = mc_dropout(model, X, n_samples=200, random_state=0)
        assert result.mean.shape == expected.shape
        gaps.append(np.abs(result.mean - expected).mean())
        stds.append(result.std.mean())
    scale = np.abs(expected).mean()
    assert gaps[-1] < 1e-2 * scale
    assert gaps[-1] < gaps[0]
    assert stds[0] > stds[1] > stds[2] > stds[3]


def test_mc_dropout_binary_classifier_gives_both_columns_and_entropy():
    """Check the binary columns, the entropy by hand and the kept samples."""
    X, y = binary_data()
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(6,), dropout=0.3, max_iter=30, random_state=0
    ).fit(X, y)
    result = mc_dropout(model, X, n_samples=50, random_state=1, return_samples=True)
    assert result.mean.shape == (len(X), 2)
    np.testing.assert_allclose(result.mean.sum(axis=1), 1.0)
    p = result.mean
    np.testing.assert_allclose(result.entropy, -(p * np.log(p)).sum(axis=1))
    assert result.samples.shape == (50, len(X), 2)
    # The running sums agree with the passes kept.
    np.testing.assert_allclose(result.samples.mean(axis=0), result.mean, rtol=1e-6)
    np.testing.assert_allclose(
        result.samples.std(axis=0), result.std, rtol=1e-5, atol=1e-7
    )


def test_mc_dropout_is_deterministic_and_independent_of_row_batches(monkeypatch):
    """Check one random_state gives one result, whatever the batch of rows.

    The passes kept are compared, across batch sizes, by their statistics:
    the masks differ, but the mean and std of each row agree with its passes.
    """
    X, y = classification_data()
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(6,), dropout=0.2, max_iter=20, random_state=0
    ).fit(X, y)
    a = mc_dropout(model, X, n_samples=20, random_state=0)
    b = mc_dropout(model, X, n_samples=20, random_state=0)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.std, b.std)
    c = mc_dropout(model, X, n_samples=20, random_state=1)
    assert not np.array_equal(a.mean, c.mean)
    monkeypatch.setattr(inspection, "MC_DROPOUT_BATCH", 7)
    d = mc_dropout(model, X, n_samples=20, random_state=0, return_samples=True)
    np.testing.assert_allclose(d.samples.mean(axis=0), d.mean, rtol=1e-6)
    assert np.all(np.isfinite(d.entropy))


def test_mc_dropout_memory_does_not_grow_with_the_passes():
    """Check memory O(rows x outputs): 10x the passes, about the same peak."""
    X, y = load_diabetes(return_X_y=True)
    X = np.tile(X, (10, 1))
    model = WeightedLinearRegressor(dropout=0.1, max_iter=2, random_state=0).fit(
        X, np.tile(y, 10)
    )

    def peak(n_samples):
        tracemalloc.start()
        mc_dropout(model, X, n_samples=n_samples, random_state=0)
        value = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return value

    few, many = peak(5), peak(50)
    assert many < 1.2 * few + 100_000
    assert many < 50 * len(X) * 8  # far below the 50 passes kept


def test_mc_dropout_needs_dropout_and_an_estimator_of_the_package():
    """Check the ValueErrors without dropout, for another model, bad n_samples."""
    X, y = regression_data()
    model = WeightedLinearRegressor().fit(X, y)
    with pytest.raises(ValueError, match="needs a model trained with dropout"):
        mc_dropout(model, X)
    dropped = WeightedLinearRegressor(dropout=0.1, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="n_samples must be an integer >= 1"):
        mc_dropout(dropped, X, n_samples=0)
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="or of a Pipeline ending in one"):
        mc_dropout(ridge, X)
    with pytest.raises(ValueError, match="or of a Pipeline ending in one"):
        weights_path(Ridge(), X, y)


# -- the command line ---------------------------------------------------------


def test_cli_report_with_stability(diabetes_csv):
    """Check report MODEL --stability DATA --target COL end to end."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    save(
        WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X, y),
        diabetes_csv / "m.npz",
    )
    result = run_main(
        "report",
        "m.npz",
        "--stability",
        "diabetes.csv",
        "--target",
        "target",
        "--n-resamples",
        "4",
        "--method",
        "subsample",
        cwd=diabetes_csv,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"bmi .* w = \+\S+ \[\+\S+, \+\S+\], selected 100 %", result.stdout
    )
    assert "over 4 refits on half the rows" in result.stdout


def test_cli_path_prints_and_draws_the_path(diabetes_csv):
    """Check path DATA --target COL --html end to end."""
    result = run_main(
        "path",
        "diabetes.csv",
        "--target",
        "target",
        "--standardize",
        "--n-alphas",
        "8",
        "--html",
        "path.html",
        cwd=diabetes_csv,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "Weights path of WeightedLinearRegressor(penalty=l1): 8 alphas" in result.stdout
    )
    assert "Order of entry" in result.stdout
    page = (diabetes_csv / "path.html").read_text()
    assert "data:image/png;base64," in page


@pytest.mark.parametrize(
    "args, message",
    [
        (["path", "diabetes.csv", "--target", "nope"], "no column 'nope'"),
        (
            ["report", "m.npz", "--stability", "diabetes.csv"],
            "--stability needs --target",
        ),
        (
            ["path", "diabetes.csv", "--target", "target", "--n-alphas", "0"],
            "--n-alphas",
        ),
    ],
)
def test_cli_failures_are_one_line(diabetes_csv, args, message):
    """Check exit status 2 and exactly one stderr line for a bad command."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    save(WeightedLinearRegressor().fit(X, y), diabetes_csv / "m.npz")
    result = run_command_line(*args, cwd=diabetes_csv)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_sparse_input_gives_the_dense_results():
    """Check the three tools on CSR input against the same data dense."""
    X, y = regression_data()
    X[np.abs(X) < 0.7] = 0.0
    Xs = sp.csr_matrix(X)
    estimator = WeightedLinearRegressor(penalty="l1", alpha=0.5)
    dense = weight_stability(estimator, X, y, n_resamples=3, random_state=0)
    sparse = weight_stability(estimator, Xs, y, n_resamples=3, random_state=0)
    for a, b in zip(dense.to_dict()["features"], sparse.to_dict()["features"]):
        assert a["name"] == b["name"]
        for key in ("weight", "weight_low", "weight_high", "selection_frequency"):
            assert a[key] == pytest.approx(b[key], rel=1e-7, abs=1e-9)
    path_dense = weights_path(estimator, X, y, n_alphas=5)
    path_sparse = weights_path(estimator, Xs, y, n_alphas=5)
    np.testing.assert_allclose(path_sparse.alphas, path_dense.alphas, rtol=1e-12)
    np.testing.assert_allclose(path_sparse.coefs, path_dense.coefs, atol=1e-8)
    model = WeightedLinearRegressor(dropout=0.2, max_iter=5, random_state=0).fit(X, y)
    result = mc_dropout(model, Xs, n_samples=2000, random_state=0)
    std = np.sqrt(0.2 / 0.8 * ((X * model.coef_) ** 2).sum(axis=1))
    assert np.all(
        np.abs(result.mean - model.predict(X)) <= 5 * std / np.sqrt(2000) + 1e-9
    )


def test_stability_of_a_pipeline_routes_sample_weight_to_its_last_step():
    """Check a Pipeline's stability report against a weighted refit by hand."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    weights = np.linspace(0.5, 2.0, len(y))
    pipeline = make_pipeline(
        StandardScaler(), WeightedLinearRegressor(penalty="l1", alpha=1.0)
    )
    report = weight_stability(
        pipeline, X, y, sample_weight=weights, n_resamples=2, random_state=0
    ).to_dict()
    assert report["estimator"]["inside"] == ["Pipeline"]
    full = clone(pipeline).fit(X, y, weightedlinearregressor__sample_weight=weights)
    got = {row["name"]: row["weight"] for row in report["features"]}
    for name, w in zip(X.columns, full[-1].coef_):
        assert got[name] == pytest.approx(w, abs=1e-9)
