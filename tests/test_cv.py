"""Tests of the path solver and the cross-validated estimators."""

import matplotlib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import (
    ElasticNetCV,
    LassoCV,
    LogisticRegression,
    enet_path,
)
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.preprocessing import scale
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_weights import (
    WeightedLinearClassifier,
    WeightedLinearClassifierCV,
    WeightedLinearRegressor,
    WeightedLinearRegressorCV,
    load,
    save,
)
from sk_weights._cli import main
from sk_weights._path import solve_path

matplotlib.use("Agg")

TIGHT = {"tol": 1e-12, "max_iter": 100_000}


def grid_of(n_alphas):
    """LassoCV's and ElasticNetCV's argument for a grid of n_alphas values:
    ``alphas=n`` since scikit-learn 1.7 (``n_alphas`` deprecated, then removed),
    ``n_alphas=n`` before."""
    if isinstance(LassoCV().get_params().get("n_alphas"), int):
        return {"n_alphas": n_alphas}
    return {"alphas": n_alphas}


def sparse_problem(n_samples=400, n_features=200, seed=0):
    """A sparse X and a target from a few of its columns, with noise."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=0.05, format="csr", random_state=seed)
    coef = np.zeros(n_features)
    coef[:10] = rng.normal(size=10) * 5
    y = X @ coef + 0.3 * rng.normal(size=n_samples) + 2.0
    return X, y


def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return scale(X), y


# -- the path -----------------------------------------------------------------


def _enet_objective(X, y, coef, intercept, alpha, l1_ratio):
    residual = y - X @ coef - intercept
    return 0.5 * np.mean(residual**2) + alpha * (
        l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    )


@pytest.mark.parametrize("method", ["gram", "x"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_reaches_enet_path_optimum_with_its_zeros(method, l1_ratio):
    """Check every alpha of the path against a tightly converged enet_path.

    The objective is within a relative 1e-8 of scikit-learn's (or below it),
    the zeros are the same, and the reported objective is the objective of
    the returned weights.
    """
    X, y = load_diabetes(return_X_y=True)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alphas, coefs, _ = enet_path(Xc, yc, l1_ratio=l1_ratio, **TIGHT)
    path = solve_path(
        X,
        y[:, None],
        np.ones(len(y)),
        True,
        "elasticnet",
        l1_ratio,
        alphas,
        1000,
        method=method,
    )
    assert path.method == method and path.converged.all()
    for i, alpha in enumerate(alphas):
        ours, intercept = path.coefs[i, 0], path.intercepts[i, 0]
        theirs = _enet_objective(Xc, yc, coefs[:, i], 0.0, alpha, l1_ratio)
        value = _enet_objective(X, y, ours, intercept, alpha, l1_ratio)
        assert value <= theirs * (1 + 1e-8)
        assert path.objectives[i] == pytest.approx(value, rel=1e-10)
        np.testing.assert_array_equal(ours == 0, coefs[:, i] == 0)


def _log_objective(X, y, coef, intercept, alpha, l1_ratio):
    eta = X @ coef + intercept
    loss = np.mean(np.logaddexp(0, eta) - y * eta)
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    return loss + alpha * penalty


def test_logistic_path_meets_the_optimality_conditions_at_every_alpha():
    """Check the binary L1 path by the optimality conditions, written out here.

    With ``g = X^T (p - y) / n``: ``g_j = -alpha sign(w_j)`` where ``w_j != 0``
    and ``|g_j| <= alpha`` where ``w_j == 0`` (to 1e-7 of alpha), and the
    intercept's gradient is zero; the reported objective is that of the
    returned weights.
    """
    X, y = cancer()
    n = len(y)
    alphas = np.geomspace(0.2, 2e-4, 8)
    path = solve_path(X, y, np.ones(n), True, "l1", 1.0, alphas, 1000, n_classes=2)
    assert path.converged.all()
    for i, alpha in enumerate(alphas):
        coef, intercept = path.coefs[i, 0], path.intercepts[i, 0]
        p = 1 / (1 + np.exp(-(X @ coef + intercept)))
        gradient = X.T @ (p - y) / n
        active = coef != 0
        assert (
            np.abs(gradient[active] + alpha * np.sign(coef[active])).max(initial=0)
            <= 1e-7 * alpha
        )
        assert np.abs(gradient[~active]).max(initial=0) <= alpha * (1 + 1e-7)
        assert abs(np.mean(p - y)) <= 1e-9
        ours = _log_objective(X, y, coef, intercept, alpha, 1.0)
        assert path.objectives[i] == pytest.approx(ours, rel=1e-10)
    assert path.coefs[0].any() and (path.coefs[0] == 0).any()


def test_logistic_l2_path_reaches_logistic_regression_optimum():
    """Check the binary L2 path against LogisticRegression(C=1 / (alpha n))."""
    X, y = cancer()
    n = len(y)
    alphas = np.geomspace(0.2, 2e-4, 6)
    path = solve_path(X, y, np.ones(n), True, "l2", 0.0, alphas, 1000, n_classes=2)
    for i, alpha in enumerate(alphas):
        reference = LogisticRegression(C=1 / (alpha * n), tol=1e-10, max_iter=10_000)
        reference.fit(X, y)
        theirs = _log_objective(
            X, y, reference.coef_[0], reference.intercept_[0], alpha, 0.0
        )
        ours = _log_objective(X, y, path.coefs[i, 0], path.intercepts[i, 0], alpha, 0)
        assert ours <= theirs * (1 + 1e-8)
        # lbfgs stops short in the flat directions: its weights agree to 1e-4.
        scale = np.abs(reference.coef_).max()
        np.testing.assert_allclose(
            path.coefs[i, 0], reference.coef_[0], atol=1e-4 * scale
        )


def test_multinomial_path_equals_independent_fits():
    """Check the softmax path against fits from zero at each alpha (iris)."""
    X, y = load_iris(return_X_y=True)
    alphas = [0.1, 0.01, 0.001]
    path = solve_path(X, y, np.ones(len(y)), True, "l2", 0.0, alphas, 1000, n_classes=3)
    for i, alpha in enumerate(alphas):
        model = WeightedLinearClassifier(penalty="l2", alpha=alpha).fit(X, y)
        np.testing.assert_allclose(path.coefs[i], model.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(
            path.intercepts[i], model.intercept_, rtol=1e-6, atol=1e-8
        )


# -- the regressor against LassoCV and ElasticNetCV --------------------------


def test_regressor_chooses_lassocv_alpha_on_its_grid():
    """Check alpha_, alphas_ and mse_path_ against LassoCV (diabetes, 5 folds)."""
    X, y = load_diabetes(return_X_y=True)
    reference = LassoCV(**TIGHT).fit(X, y)
    model = WeightedLinearRegressorCV().fit(X, y)
    np.testing.assert_allclose(model.alphas_, reference.alphas_, rtol=1e-12)
    assert model.mse_path_.shape == reference.mse_path_.shape == (100, 5)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-6)
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-12)
    assert model.l1_ratio_ == 1.0
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-6)


def test_regressor_chooses_elasticnetcv_alpha_and_l1_ratio():
    """Check alpha_, l1_ratio_ and mse_path_ against ElasticNetCV on shuffled folds."""
    X, y = load_diabetes(return_X_y=True)
    cv = KFold(4, shuffle=True, random_state=0)
    ratios = [0.2, 0.7, 1.0]
    reference = ElasticNetCV(l1_ratio=ratios, cv=cv, **grid_of(30), **TIGHT).fit(X, y)
    model = WeightedLinearRegressorCV(
        penalty="elasticnet", l1_ratio=ratios, cv=cv, alphas=30
    ).fit(X, y)
    assert model.mse_path_.shape == reference.mse_path_.shape == (3, 30, 4)
    np.testing.assert_allclose(model.alphas_, reference.alphas_, rtol=1e-12)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-6)
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-12)
    assert model.l1_ratio_ == reference.l1_ratio_


def test_regressor_on_sparse_data_chooses_lassocv_alpha():
    """Check LassoCV's choice and mse_path_ on sparse X (the solver on X)."""
    X, y = sparse_problem()
    alphas = np.geomspace(0.3, 3e-4, 40)
    reference = LassoCV(alphas=alphas, **TIGHT).fit(X, y)
    model = WeightedLinearRegressorCV(alphas=alphas).fit(X, y)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-6)
    assert model.alpha_ == reference.alpha_
    assert model.solver_ == "x"
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


def test_regressor_with_sample_weight_chooses_lassocv_alpha():
    """Check LassoCV's choice with sample weights (weighted fits and held-out MSE)."""
    X, y = load_diabetes(return_X_y=True)
    weights = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    reference = LassoCV(**grid_of(40), **TIGHT).fit(X, y, sample_weight=weights)
    model = WeightedLinearRegressorCV(alphas=40).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.alphas_, reference.alphas_, rtol=1e-9)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-6)
    assert model.alpha_ == pytest.approx(reference.alpha_, rel=1e-9)


def test_regressor_is_the_refitted_model():
    """Check that the fitted CV estimator is WeightedLinearRegressor at alpha_."""
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressorCV(alphas=20, n_jobs=2).fit(X, y)
    plain = WeightedLinearRegressor(penalty="l1", alpha=model.alpha_).fit(X, y)
    np.testing.assert_array_equal(model.coef_, plain.coef_)
    assert model.intercept_ == plain.intercept_
    assert model.score(X, y) == plain.score(X, y)
    assert model.train_loss_ == plain.train_loss_
    assert model.solver_ == plain.solver_ and model.stop_reason_ == "converged"
    sequential = WeightedLinearRegressorCV(alphas=20).fit(X, y)
    np.testing.assert_array_equal(model.mse_path_, sequential.mse_path_)
    assert not hasattr(model, "partial_fit")


# -- the classifier -----------------------------------------------------------


@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_classifier_chooses_the_best_mean_fold_accuracy(penalty):
    """Check alpha_ against cross_val_score refits at every alpha, by hand.

    The fold scores are the accuracies of independent fits on the same
    folds; the best mean wins, the largest alpha among equal means.
    """
    X, y = cancer()
    model = WeightedLinearClassifierCV(penalty=penalty, alphas=8).fit(X, y)
    folds = StratifiedKFold(5)
    by_hand = np.array(
        [
            cross_val_score(
                WeightedLinearClassifier(penalty=penalty, alpha=alpha), X, y, cv=folds
            )
            for alpha in model.alphas_
        ]
    )
    np.testing.assert_allclose(model.score_path_, by_hand, rtol=1e-12)
    means = by_hand.mean(axis=1)
    best = np.flatnonzero(means == means.max())
    assert model.alpha_ == model.alphas_[best].max()
    plain = WeightedLinearClassifier(penalty=penalty, alpha=model.alpha_).fit(X, y)
    np.testing.assert_allclose(model.coef_, plain.coef_, rtol=1e-10)


def test_classifier_with_a_scorer_on_three_classes():
    """Check scoring="neg_log_loss" on iris against cross_val_score refits."""
    X, y = load_iris(return_X_y=True)
    alphas = [1.0, 0.1, 0.01]
    model = WeightedLinearClassifierCV(alphas=alphas, scoring="neg_log_loss").fit(X, y)
    by_hand = np.array(
        [
            cross_val_score(
                WeightedLinearClassifier(alpha=alpha),
                X,
                y,
                cv=StratifiedKFold(5),
                scoring="neg_log_loss",
            )
            for alpha in alphas
        ]
    )
    np.testing.assert_allclose(model.score_path_, by_hand, rtol=1e-6)
    assert model.alpha_ == alphas[int(np.argmax(by_hand.mean(axis=1)))]
    assert model.coef_.shape == (3, 4)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


# -- bad input ----------------------------------------------------------------


@pytest.mark.parametrize("alphas", [[], [0.1, -1.0], [0.1, np.nan]])
def test_bad_alphas_are_rejected(alphas):
    """Check that an empty, negative or NaN alpha is a ValueError naming alphas."""
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressorCV(alphas=alphas)
    with pytest.raises(ValueError, match="alphas must be"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("l1_ratio", [1.5, [0.5, -0.1]])
def test_l1_ratio_outside_zero_one_is_rejected(l1_ratio):
    """Check that an l1_ratio outside [0, 1] is a ValueError naming l1_ratio."""
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressorCV(penalty="elasticnet", l1_ratio=l1_ratio)
    with pytest.raises(ValueError, match="l1_ratio"):
        model.fit(X, y)


def test_more_folds_than_the_smallest_class_is_allowed_as_in_sklearn():
    """Check that cv larger than a class of three samples fits, as
    LogisticRegressionCV does (StratifiedKFold warns; every training fold still
    holds two of the three), and that each fold's scores are real numbers."""
    X, y = cancer()
    keep = np.concatenate([np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:60]])
    model = WeightedLinearClassifierCV(alphas=4)
    with pytest.warns(UserWarning, match="least populated class"):
        model.fit(X[keep], y[keep])
    assert model.score_path_.shape == (4, 5)
    assert np.isfinite(model.score_path_).all()
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_a_training_fold_without_a_class_is_rejected():
    """Check that a class of one sample (absent from one training fold) is a
    clear ValueError naming the class, and that no model is left behind."""
    X, y = cancer()
    keep = np.concatenate([np.flatnonzero(y == 0)[:1], np.flatnonzero(y == 1)[:40]])
    model = WeightedLinearClassifierCV(alphas=4, cv=3)
    with pytest.raises(ValueError, match=r"training fold without any sample .*\[0\]"):
        model.fit(X[keep], y[keep])
    assert not hasattr(model, "coef_")


# -- members of the family ----------------------------------------------------


def test_save_and_load_keep_the_choice_and_the_path(tmp_path):
    """Check that save/load round-trips both CV estimators, path and predictions."""
    X, y = load_diabetes(return_X_y=True)
    regressor = WeightedLinearRegressorCV(
        penalty="elasticnet", l1_ratio=[0.5, 1.0], alphas=6
    ).fit(X, y)
    Xc, yc = load_iris(return_X_y=True)
    classifier = WeightedLinearClassifierCV(alphas=[1.0, 0.1, 0.01], cv=3).fit(Xc, yc)
    for model, data in [(regressor, X), (classifier, Xc)]:
        save(model, tmp_path / "model.npz")
        loaded = load(tmp_path / "model.npz")
        assert type(loaded) is type(model)
        assert loaded.get_params() == model.get_params()
        for name in ("alpha_", "l1_ratio_"):
            assert getattr(loaded, name) == getattr(model, name)
        np.testing.assert_array_equal(loaded.alphas_, model.alphas_)
        np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
    np.testing.assert_array_equal(loaded.score_path_, classifier.score_path_)
    assert regressor.mse_path_.shape == (2, 6, 5)


def test_a_path_of_the_wrong_shape_is_refused(tmp_path):
    """Check that a file whose mse_path_ disagrees with its parameters fails to load."""
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressorCV(alphas=6).fit(X, y)
    model.mse_path_ = model.mse_path_[:5]
    save(model, tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="mse_path_"):
        load(tmp_path / "bad.npz")


def test_report_shows_the_cross_validation_curve():
    """Check the report's CV line and entry against the fitted path."""
    X, y = load_diabetes(return_X_y=True)
    model = WeightedLinearRegressorCV(alphas=12).fit(X, y)
    report = model.weights_report()
    entry = report.to_dict()["training"]["cross_validation"]
    np.testing.assert_allclose(entry["mean"], model.mse_path_.mean(axis=1))
    np.testing.assert_allclose(entry["std"], model.mse_path_.std(axis=1))
    assert entry["alpha"] == model.alpha_ and entry["n_folds"] == 5
    assert f"alpha chosen by 5-fold CV: {model.alpha_:.4g}" in str(report)
    assert f"alpha={model.alpha_:g}" in str(report)
    fig = report.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert "Cross-validation" in titles
    axis = fig.axes[titles.index("Cross-validation")]
    assert axis.get_xscale() == "log"


def test_command_line_fit_with_cv(tmp_path, capsys):
    """Check ``fit --cv 3``: the saved model is the CV regressor of those folds."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X.assign(target=y).to_csv(tmp_path / "diabetes.csv", index=False)
    out = tmp_path / "model.npz"
    argv = ["fit", str(tmp_path / "diabetes.csv"), "--target", "target"]
    assert main([*argv, "--cv", "3", "--test-size", "0", "--out", str(out)]) == 0
    model = load(out)
    assert isinstance(model, WeightedLinearRegressorCV)
    assert model.mse_path_.shape == (100, 3)
    reference = WeightedLinearRegressorCV(cv=3).fit(X.to_numpy(), y.to_numpy())
    assert model.alpha_ == reference.alpha_
    assert "alpha chosen by 3-fold CV" in capsys.readouterr().out
    assert main([*argv, "--cv", "3", "--alpha", "1", "--out", str(out)]) == 2
    assert "drop --alpha" in capsys.readouterr().err


@parametrize_with_checks(
    [
        WeightedLinearRegressorCV(alphas=5),
        WeightedLinearRegressorCV(penalty="elasticnet", l1_ratio=[0.5, 1.0], alphas=4),
        WeightedLinearClassifierCV(alphas=5),
        WeightedLinearClassifierCV(penalty="l1", alphas=4, scoring="accuracy"),
    ],
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that both CV estimators pass scikit-learn's estimator checks."""
    check(estimator)


@pytest.mark.parametrize("loss", ["poisson", "huber"])
def test_regressor_with_another_loss_chooses_by_held_out_error(loss):
    """Check a GLM / Huber CV against cross_val_score refits at every alpha.

    The fold errors are the held-out mean squared errors of the predictions
    of independent fits on the same folds; the smallest mean wins.
    """
    X, y = load_diabetes(return_X_y=True)
    X = scale(X)
    y = y / 100 if loss == "poisson" else y
    model = WeightedLinearRegressorCV(loss=loss, alphas=6).fit(X, y)
    by_hand = -np.array(
        [
            cross_val_score(
                WeightedLinearRegressor(penalty="l1", loss=loss, alpha=alpha),
                X,
                y,
                cv=KFold(5),
                scoring="neg_mean_squared_error",
            )
            for alpha in model.alphas_
        ]
    )
    np.testing.assert_allclose(model.mse_path_, by_hand, rtol=1e-6)
    assert model.alpha_ == model.alphas_[np.argmin(by_hand.mean(axis=1))]
    # The grid starts where every weight of this loss is zero.
    first = WeightedLinearRegressor(penalty="l1", loss=loss, alpha=model.alphas_[0])
    assert not first.fit(X, y).coef_.any()


def test_positive_regressor_chooses_lassocv_positive_alpha():
    """Check positive=True against LassoCV(positive=True) on the same grid."""
    X, y = load_diabetes(return_X_y=True)
    alphas = np.geomspace(1.0, 1e-3, 20)
    reference = LassoCV(alphas=alphas, positive=True, **TIGHT).fit(X, y)
    model = WeightedLinearRegressorCV(alphas=alphas, positive=True).fit(X, y)
    np.testing.assert_allclose(model.mse_path_, reference.mse_path_, rtol=1e-6)
    assert model.alpha_ == reference.alpha_
    assert np.all(model.coef_ >= 0)


def test_poisson_target_outside_its_range_is_rejected():
    """Check that a negative target with loss="poisson" is a ValueError naming y."""
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="loss='poisson'"):
        WeightedLinearRegressorCV(loss="poisson").fit(X, y - 200)
