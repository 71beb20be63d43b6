"""Tests of weight_inference: the classical table, against statsmodels."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm
from numpy.testing import assert_allclose
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

import sk_weights.inspection
from sk_weights import (
    MLPWeightsRegressor,
    WeightedLinearClassifier,
    WeightedLinearRegressor,
    weight_inference,
)
from sk_weights._datafits import make_datafit
from sk_weights._inference import inference_table

COV_TYPES = ["nonrobust", "HC0", "HC1", "HC2", "HC3"]

#: The columns of a feature row, and statsmodels' result attribute for each.
COLUMNS = {
    "weight": "params",
    "weight_se": "bse",
    "p_value": "pvalues",
    "statistic": "tvalues",
}


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True, scaled=False)


@pytest.fixture(scope="module")
def cancer():
    # The ten "mean" features: all thirty separate the classes perfectly, and
    # the unpenalised weights would have no finite optimum.
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X[:, :10]), y


def _table(report):
    """The report's inference as arrays in model order, the intercept first."""
    data = report.to_dict()
    rows = sorted(data["features"], key=lambda row: row["index"])
    intercept = data["inference"]["intercept"]
    rows = ([intercept] if intercept is not None else []) + rows
    table = {key: np.array([row[key] for row in rows]) for key in COLUMNS}
    table["interval"] = np.array(
        [[row["weight_low"], row["weight_high"]] for row in rows]
    )
    return table


def _assert_matches(report, result, rtol=1e-6):
    """The report's table equals a statsmodels result to ``rtol``."""
    ours = _table(report)
    assert_allclose(ours["weight"], result.params, rtol=rtol, atol=1e-6)
    assert_allclose(ours["weight_se"], result.bse, rtol=rtol)
    assert_allclose(ours["statistic"], result.tvalues, rtol=rtol)
    assert_allclose(ours["p_value"], result.pvalues, rtol=1e-5, atol=1e-5)
    assert_allclose(ours["interval"], result.conf_int(), rtol=rtol)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_ols_matches_statsmodels(diabetes, cov_type):
    """Check that OLS on diabetes gives statsmodels' table for every covariance."""
    X, y = diabetes
    report = weight_inference(
        WeightedLinearRegressor(penalty=None), X, y, cov_type=cov_type
    )
    result = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit(cov_type=cov_type)
    _assert_matches(report, result)
    inference = report.to_dict()["inference"]
    assert inference["distribution"] == ("t" if result.use_t else "normal")
    assert inference["df_resid"] == result.df_resid == 431
    assert inference["cov_type"] == cov_type
    assert inference["scale"] == pytest.approx(result.scale, rel=1e-10)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_wls_matches_statsmodels(diabetes, cov_type):
    """Check that sample weights give statsmodels' WLS table."""
    X, y = diabetes
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    report = weight_inference(
        WeightedLinearRegressor(penalty=None),
        X,
        y,
        sample_weight=weights,
        cov_type=cov_type,
    )
    result = sm.WLS(y.to_numpy(), sm.add_constant(X.to_numpy()), weights=weights).fit(
        cov_type=cov_type
    )
    _assert_matches(report, result)


def test_zero_weights_leave_rows_out(diabetes):
    """Check that rows of weight zero count for nothing, not even the df."""
    X, y = diabetes
    weights = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    weights[::4] = 0
    report = weight_inference(
        WeightedLinearRegressor(penalty=None), X, y, sample_weight=weights
    )
    keep = weights > 0
    result = sm.WLS(
        y.to_numpy()[keep], sm.add_constant(X.to_numpy()[keep]), weights=weights[keep]
    ).fit()
    _assert_matches(report, result)
    assert report.to_dict()["inference"]["nobs"] == keep.sum()


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_logit_matches_statsmodels(cancer, cov_type):
    """Check that the binary classifier gives statsmodels' Logit table (z)."""
    X, y = cancer
    report = weight_inference(
        WeightedLinearClassifier(penalty=None), X, y, cov_type=cov_type
    )
    result = sm.Logit(y, sm.add_constant(X)).fit(disp=0, cov_type=cov_type)
    _assert_matches(report, result, rtol=1e-5)
    assert report.to_dict()["inference"]["distribution"] == "normal"
    assert report.to_dict()["inference"]["family"] == "binomial"


def test_weighted_logit_matches_binomial_glm(cancer):
    """Check that a weighted classifier gives GLM(Binomial, var_weights)'s table."""
    X, y = cancer
    weights = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    report = weight_inference(
        WeightedLinearClassifier(penalty=None), X, y, sample_weight=weights
    )
    result = sm.GLM(
        y, sm.add_constant(X), family=sm.families.Binomial(), var_weights=weights
    ).fit(tol=1e-12)
    _assert_matches(report, result, rtol=1e-5)


def test_class_weight_is_a_sample_weight(cancer):
    """Check that class_weight multiplies the sample weights, as in the fit."""
    X, y = cancer
    class_weight = {0: 2.0, 1: 0.5}
    report = weight_inference(
        WeightedLinearClassifier(penalty=None, class_weight=class_weight), X, y
    )
    same = weight_inference(
        WeightedLinearClassifier(penalty=None),
        X,
        y,
        sample_weight=np.where(y == 0, 2.0, 0.5),
    )
    assert_allclose(_table(report)["weight_se"], _table(same)["weight_se"], rtol=1e-6)


def test_labels_are_the_second_class(cancer):
    """Check that string labels give the table of the second class's log-odds."""
    X, y = cancer
    labels = np.array(["benign", "malignant"])[1 - y]  # classes_[1] = "malignant"
    report = weight_inference(WeightedLinearClassifier(penalty=None), X, labels)
    result = sm.Logit((labels == "malignant").astype(float), sm.add_constant(X)).fit(
        disp=0
    )
    _assert_matches(report, result, rtol=1e-5)


def test_without_intercept(diabetes, cancer):
    """Check the tables without an intercept, which has no row then."""
    X, y = diabetes
    report = weight_inference(
        WeightedLinearRegressor(penalty=None, fit_intercept=False), X, y
    )
    _assert_matches(report, sm.OLS(y.to_numpy(), X.to_numpy()).fit())
    assert report.to_dict()["inference"]["intercept"] is None
    assert report.to_dict()["inference"]["df_resid"] == len(y) - 10
    X, y = cancer
    report = weight_inference(
        WeightedLinearClassifier(penalty=None, fit_intercept=False), X, y
    )
    _assert_matches(report, sm.Logit(y, X).fit(disp=0), rtol=1e-5)


def test_fitted_estimator_is_used_as_it_is(diabetes):
    """Check that a fitted model is read, not refitted, and gives the same table."""
    X, y = diabetes
    model = WeightedLinearRegressor(penalty=None).fit(X, y)
    coef = model.coef_.copy()
    fitted = _table(weight_inference(model, X, y))
    unfitted = _table(weight_inference(WeightedLinearRegressor(penalty=None), X, y))
    assert_allclose(fitted["weight_se"], unfitted["weight_se"], rtol=1e-10)
    np.testing.assert_array_equal(model.coef_, coef)


def test_alpha_zero_counts_as_unpenalised(diabetes):
    """Check that a penalty of strength 0 is accepted and gives the OLS table."""
    X, y = diabetes
    report = weight_inference(WeightedLinearRegressor(penalty="l2", alpha=0), X, y)
    _assert_matches(report, sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit())


def test_pipeline(diabetes):
    """Check that a pipeline's last step is tested on the first steps' output."""
    X, y = diabetes
    pipeline = make_pipeline(StandardScaler(), WeightedLinearRegressor(penalty=None))
    report = weight_inference(pipeline, X, y, cov_type="HC1")
    Z = StandardScaler().fit_transform(X)
    _assert_matches(
        report, sm.OLS(y.to_numpy(), sm.add_constant(Z)).fit(cov_type="HC1")
    )
    names = [row["name"] for row in sorted(report.to_dict()["features"], key=_index)]
    assert names == list(X.columns)
    fitted = pipeline.fit(X, y)
    again = weight_inference(fitted, X, y, cov_type="HC1")
    assert_allclose(_table(again)["weight_se"], _table(report)["weight_se"])


def _index(row):
    return row["index"]


def test_sparse_equals_dense(diabetes):
    """Check that sparse X gives the dense table, for the leverages too."""
    X, y = diabetes
    X = X.to_numpy()
    for cov_type in ("nonrobust", "HC3"):
        dense = _table(
            weight_inference(
                WeightedLinearRegressor(penalty=None), X, y, cov_type=cov_type
            )
        )
        sparse = _table(
            weight_inference(
                WeightedLinearRegressor(penalty=None),
                sp.csr_matrix(X),
                y,
                cov_type=cov_type,
            )
        )
        assert_allclose(sparse["weight_se"], dense["weight_se"], rtol=1e-8)


def test_confidence_level(diabetes):
    """Check that the interval's level is the one asked for."""
    X, y = diabetes
    report = weight_inference(
        WeightedLinearRegressor(penalty=None), X, y, confidence=0.9
    )
    result = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit()
    assert_allclose(_table(report)["interval"], result.conf_int(alpha=0.1), rtol=1e-6)
    assert report.to_dict()["inference"]["confidence"] == 0.9


def test_collinear_columns_warn_and_are_not_identified(diabetes):
    """Check that collinear columns are named, their errors infinite, others right."""
    X, y = diabetes
    X = X.assign(bmi_twice=2 * X["bmi"], s1_s2=X["s1"] - X["s2"])
    with pytest.warns(UserWarning, match="bmi, s1, s2, bmi_twice, s1_s2"):
        report = weight_inference(WeightedLinearRegressor(penalty=None), X, y)
    rows = {row["name"]: row for row in report.to_dict()["features"]}
    for name in ("bmi", "bmi_twice", "s1", "s2", "s1_s2"):
        assert rows[name]["weight_se"] == np.inf
        assert np.isnan(rows[name]["p_value"])
        assert rows[name]["weight_low"] == -np.inf
        assert rows[name]["weight_high"] == np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' own rank warning
        result = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit()
    assert report.to_dict()["inference"]["df_resid"] == result.df_resid == 431
    identified = [0] + [
        1 + k for k, name in enumerate(X.columns) if rows[name]["weight_se"] < np.inf
    ]
    assert len(identified) == 1 + 7
    ours = _table(report)
    assert_allclose(ours["weight_se"][identified], result.bse[identified], rtol=1e-6)
    assert_allclose(ours["p_value"][identified], result.pvalues[identified], atol=1e-5)
    assert report.to_dict()["inference"]["not_identified"] == [
        "bmi",
        "s1",
        "s2",
        "bmi_twice",
        "s1_s2",
    ]
    assert "not identified" in str(report)


def test_constant_column_is_not_identified_with_the_intercept(diabetes):
    """Check that a constant column makes the intercept not identified too."""
    X, y = diabetes
    X = X.assign(one=1.0)
    with pytest.warns(UserWarning, match="intercept, one"):
        report = weight_inference(WeightedLinearRegressor(penalty=None), X, y)
    assert report.to_dict()["inference"]["intercept"]["weight_se"] == np.inf


def test_report_renderings(diabetes):
    """Check that text, HTML, frame and dict show the same standard errors."""
    X, y = diabetes
    report = weight_inference(WeightedLinearRegressor(penalty=None), X, y)
    result = sm.OLS(y.to_numpy(), sm.add_constant(X.to_numpy())).fit()
    bmi = list(X.columns).index("bmi") + 1
    text = str(report)
    assert f"w = {result.params[bmi]:+.4g} ± {result.bse[bmi]:.3g} (p < 0.001)" in text
    age = list(X.columns).index("age") + 1
    assert f"± {result.bse[age]:.3g} (p = {result.pvalues[age]:.3f})" in text
    flat = " ".join(text.split())  # the header line may be wrapped
    assert "± standard error (nonrobust, 442 rows)" in flat
    assert "two-sided p-value and 95% interval from t(431)" in flat
    assert f"intercept_: {result.params[0]:+.4g} ± {result.bse[0]:.3g}" in text
    html = report.to_html()
    assert "± standard error</th>" in html and f"{result.bse[bmi]:.3g}" in html
    assert "<th>95% interval</th>" in html
    assert f"intercept_: {result.params[0]:+.4g} ± {result.bse[0]:.3g}" in html
    frame = report.to_frame()
    assert_allclose(frame.loc["bmi", "weight_se"], result.bse[bmi], rtol=1e-8)
    assert_allclose(frame.loc["bmi", "p_value"], result.pvalues[bmi], atol=1e-12)
    assert {"statistic", "weight_low", "weight_high"} <= set(frame.columns)


def test_plot_draws_the_intervals(diabetes):
    """Check that the weights panel draws each confidence interval."""
    import matplotlib

    matplotlib.use("Agg")
    X, y = diabetes
    report = weight_inference(WeightedLinearRegressor(penalty=None), X, y)
    ax = report.plot().axes[1]
    (segments,) = [c for c in ax.collections if c.get_label().startswith("95%")]
    shown = report.to_dict()["features"]
    ends = sorted((row["weight_low"], row["weight_high"]) for row in shown)
    drawn = sorted((line[0][0], line[1][0]) for line in segments.get_segments())
    assert_allclose(drawn, ends)


def test_robust_text_names_the_normal_distribution(cancer):
    """Check that z-based tables say so."""
    X, y = cancer
    report = weight_inference(
        WeightedLinearClassifier(penalty=None), X, y, cov_type="HC0"
    )
    assert (
        "(HC0, 569 rows); two-sided p-value and 95% interval from N(0, 1)"
        in " ".join(str(report).split())
    )


#: The GLM losses, with statsmodels' family of each.
GLM_LOSSES = [
    ("poisson", sm.families.Poisson()),
    ("gamma", sm.families.Gamma(sm.families.links.Log())),
]


def _glm_data(diabetes, loss, seed=3):
    """Four standardised diabetes columns, and a Poisson or Gamma target."""
    X, _ = diabetes
    rng = np.random.default_rng(seed)
    Z = scale(X.to_numpy()[:, :4])
    mean = np.exp(1.0 + Z @ np.array([0.4, -0.3, 0.2, 0.1]))
    y = rng.poisson(mean) if loss == "poisson" else rng.gamma(2.0, mean / 2.0)
    return Z, y.astype(np.float64), rng.uniform(0.5, 2.0, len(y))


@pytest.mark.parametrize(("loss", "sm_family"), GLM_LOSSES)
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_glm_tables_at_statsmodels_optimum(diabetes, loss, sm_family, cov_type):
    """Check the Poisson and Gamma (log link) tables at statsmodels' GLM optimum."""
    Z, y, weights = _glm_data(diabetes, loss)
    result = sm.GLM(y, sm.add_constant(Z), family=sm_family, var_weights=weights).fit(
        tol=1e-12, cov_type=cov_type
    )
    table = inference_table(
        Z,
        y,
        result.params[1:],
        result.params[0],
        make_datafit(loss),
        weights,
        cov_type,
        0.95,
    )
    assert_allclose(table.se, result.bse, rtol=1e-5)
    assert_allclose(table.p_value, result.pvalues, rtol=1e-5, atol=1e-5)
    assert_allclose(
        np.column_stack([table.low, table.high]), result.conf_int(), rtol=1e-5
    )
    assert table.scale == pytest.approx(result.scale, rel=1e-8)
    assert table.distribution == "normal"


@pytest.mark.parametrize(("loss", "sm_family"), GLM_LOSSES)
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0"])
def test_glm_regressor_matches_statsmodels(diabetes, loss, sm_family, cov_type):
    """Check that loss="poisson" and "gamma" give statsmodels' GLM table."""
    Z, y, weights = _glm_data(diabetes, loss)
    report = weight_inference(
        WeightedLinearRegressor(loss=loss, penalty=None),
        Z,
        y,
        sample_weight=weights,
        cov_type=cov_type,
    )
    result = sm.GLM(y, sm.add_constant(Z), family=sm_family, var_weights=weights).fit(
        tol=1e-12, cov_type=cov_type
    )
    _assert_matches(report, result, rtol=1e-5)
    inference = report.to_dict()["inference"]
    assert inference["family"] == loss
    assert inference["scale"] == pytest.approx(result.scale, rel=1e-6)


@pytest.mark.parametrize(("loss", "sm_family"), GLM_LOSSES)
def test_glm_small_sample_corrections_are_refused(diabetes, loss, sm_family):
    """Check that HC3 of a GLM is refused, naming HC0."""
    Z, y, _ = _glm_data(diabetes, loss)
    with pytest.raises(ValueError, match="least squares.*'HC0'"):
        weight_inference(
            WeightedLinearRegressor(loss=loss, penalty=None), Z, y, cov_type="HC3"
        )


def test_huber_and_positive_are_refused(diabetes):
    """Check that Huber's loss and positive weights point to weight_stability."""
    X, y = diabetes
    with pytest.raises(ValueError, match="loss='huber'.*weight_stability"):
        weight_inference(WeightedLinearRegressor(loss="huber", penalty=None), X, y)
    with pytest.raises(ValueError, match="positive=True.*weight_stability"):
        weight_inference(WeightedLinearRegressor(positive=True, penalty=None), X, y)


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (WeightedLinearRegressor(penalty="l2", alpha=0.1), "unpenalised fit"),
        (WeightedLinearRegressor(penalty="l1", alpha=0.1), "unpenalised fit"),
        (WeightedLinearRegressor(), "unpenalised fit"),
        (WeightedLinearRegressor(penalty=None, dropout=0.1), "dropout"),
        (
            make_pipeline(StandardScaler(), WeightedLinearRegressor(alpha=1.0)),
            "unpenalised fit",
        ),
        (MLPWeightsRegressor(hidden_layer_sizes=(3,)), "network"),
        (MLPRegressor(hidden_layer_sizes=(3,)), "network"),
    ],
)
def test_models_without_a_closed_form_name_weight_stability(diabetes, estimator, match):
    """Check that penalised fits, dropout and networks point to weight_stability."""
    X, y = diabetes
    with pytest.raises(ValueError, match=f"(?s){match}.*weight_stability"):
        weight_inference(estimator, X, y)


def test_multiclass_names_weight_stability():
    """Check that a softmax classifier is refused, naming weight_stability."""
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="3 classes.*reference class.*weight_stab"):
        weight_inference(WeightedLinearClassifier(penalty=None), scale(X), y)


def test_separated_classes_are_refused():
    """Check that perfectly separated classes get an error, not huge errors."""
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="separates the classes"):
            weight_inference(WeightedLinearClassifier(penalty=None), scale(X), y)


def test_early_stopping_is_refused(diabetes):
    """Check that early stopping, which stops short of the optimum, is refused."""
    X, y = diabetes
    with pytest.raises(ValueError, match="early_stopping"):
        weight_inference(
            WeightedLinearRegressor(penalty=None, early_stopping=True), X, y
        )


def test_model_fitted_on_other_data_is_refused(diabetes):
    """Check that weights that are not the optimum on X, y are refused."""
    X, y = diabetes
    model = WeightedLinearRegressor(penalty=None).fit(X[:200], y[:200])
    with pytest.raises(ValueError, match="not the unpenalised optimum"):
        weight_inference(model, X, y)


def test_stochastic_solver_is_refused(diabetes):
    """Check that approximate weights of a stochastic solver are refused."""
    X, y = diabetes
    model = WeightedLinearRegressor(
        penalty=None, solver="sgd", max_iter=20, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="mini-batches.*'sgd'.*solver='auto'"):
            weight_inference(model, X, y)


def test_columns_in_another_order_are_refused(diabetes):
    """Check that a fitted model's columns are checked by name."""
    X, y = diabetes
    model = WeightedLinearRegressor(penalty=None).fit(X, y)
    with pytest.raises(ValueError, match="columns differ"):
        weight_inference(model, X[X.columns[::-1]], y)


def test_too_few_rows(diabetes):
    """Check that no residual degrees of freedom is a ValueError."""
    X, y = diabetes
    with pytest.raises(ValueError, match="Too few rows.*11 rows.*0 residual"):
        weight_inference(WeightedLinearRegressor(penalty=None), X[:11], y[:11])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cov_type": "HC4"}, "cov_type must be one of"),
        ({"confidence": 1.0}, "confidence must be"),
        ({"confidence": 0}, "confidence must be"),
        ({"sample_weight": -np.ones(442)}, "non-negative"),
        ({"sample_weight": np.full(442, np.nan)}, "sample_weight contains NaN"),
    ],
)
def test_bad_arguments(diabetes, kwargs, match):
    """Check that invalid arguments are a ValueError naming them."""
    X, y = diabetes
    model = WeightedLinearRegressor(penalty=None).fit(X, y)
    with pytest.raises(ValueError, match=match):
        weight_inference(model, X, y, **kwargs)
    with pytest.raises(ValueError, match="X contains NaN"):
        weight_inference(model, X.assign(age=np.nan), y)


def test_small_sample_corrections_need_least_squares(cancer):
    """Check that HC1-HC3 of a logistic model are refused, not silently HC0."""
    X, y = cancer
    with pytest.raises(ValueError, match="cov_type='HC3'.*least squares.*'HC0'"):
        weight_inference(WeightedLinearClassifier(penalty=None), X, y, cov_type="HC3")


def test_two_dimensional_y_and_other_models(diabetes):
    """Check that a 2-D y and a model from elsewhere are refused clearly."""
    X, y = diabetes
    with pytest.raises(ValueError, match="1-D y"):
        weight_inference(
            WeightedLinearRegressor(penalty=None), X, np.column_stack([y, y])
        )
    with pytest.raises(TypeError, match="WeightedLinearRegressor.*LinearRegression"):
        weight_inference(LinearRegression(), X, y)


def test_exported_from_inspection():
    """Check that the function is reachable where the other inspection tools are."""
    assert sk_weights.inspection.weight_inference is weight_inference


# -- the command line ---------------------------------------------------------


def test_command_line_report_with_inference(diabetes, tmp_path, monkeypatch, capsys):
    """Check that report --inference prints statsmodels' errors beside the weights."""
    from sk_weights._cli import main

    monkeypatch.chdir(tmp_path)
    X, y = diabetes
    X.assign(target=y).to_csv("diabetes.csv", index=False)
    fit = ["fit", "diabetes.csv", "--target", "target", "--standardize"]
    assert main([*fit, "--penalty", "none", "--out", "model.npz"]) == 0
    capsys.readouterr()
    command = ["report", "model.npz", "--inference", "diabetes.csv"]
    assert main([*command, "--target", "target", "--cov-type", "HC3"]) == 0
    out = capsys.readouterr().out
    Z = StandardScaler().fit_transform(X)
    result = sm.OLS(y.to_numpy(), sm.add_constant(Z)).fit(cov_type="HC3")
    bmi = list(X.columns).index("bmi") + 1
    assert "bmi " in out
    assert f"w = {result.params[bmi]:+.4g} ± {result.bse[bmi]:.3g} (p < 0.001)" in out
    assert "(HC3, 442 rows)" in out
    assert main(command) == 2
    assert "--inference needs --target" in capsys.readouterr().err
    assert main([*fit, "--out", "penalised.npz"]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                "report",
                "penalised.npz",
                "--inference",
                "diabetes.csv",
                "--target",
                "target",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "weight_stability" in err
