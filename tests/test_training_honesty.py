"""Honest training: why a fit stopped, how it compares with a constant model,
the weight curves, and errors that name their real cause."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sk_weights import (
    DivergenceError,
    MLPWeightsClassifier,
    MLPWeightsRegressor,
    PoorFitWarning,
    WeightedLinearRegressor,
)
from sk_weights._base import (
    MIN_VALIDATION_SAMPLES,
    informative_validation,
    mean_squared_norm,
    weighted_feature_std,
)
from sk_weights._network import Layout
from sk_weights._optimizers import SGDOptimizer
from sk_weights._penalties import ElasticNetPenalty
from sk_weights._training import TrainingConfig, train

rng = np.random.default_rng(0)
X = rng.normal(size=(80, 4))
SW = rng.uniform(0.2, 3.0, size=80)
Y_REG = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 3.0 + 0.3 * rng.normal(size=80)
Y_CLF = np.where(X[:, 0] - X[:, 1] > 0.4, "b", np.where(X[:, 2] > 0, "a", "c"))


def quiet(fit, *args, **kwargs):
    """Call ``fit`` with the ConvergenceWarning of short test runs silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


REGRESSORS = {
    "fista": lambda: WeightedLinearRegressor(alpha=0.01),
    "sgd": lambda: WeightedLinearRegressor(solver="sgd", max_iter=30, random_state=0),
    "adam": lambda: WeightedLinearRegressor(solver="adam", max_iter=30, random_state=0),
}


# -- train_loss_, baseline_loss_, train_score_ ---------------------------------


@pytest.mark.parametrize("solver", list(REGRESSORS))
@pytest.mark.parametrize("two_targets", [False, True])
def test_regressor_losses_and_score_against_hand_computation(solver, two_targets):
    """Check train_loss_, baseline_loss_ and train_score_ of the linear model."""
    y = np.column_stack([Y_REG, -Y_REG + 1]) if two_targets else Y_REG
    model = quiet(REGRESSORS[solver]().fit, X, y, sample_weight=SW)
    y2d = y.reshape(len(y), -1)
    residual = y2d - model.predict(X).reshape(len(y), -1)
    loss = np.average(0.5 * (residual**2).sum(axis=1), weights=SW)
    mean = np.average(y2d, axis=0, weights=SW)
    baseline = np.average(0.5 * ((y2d - mean) ** 2).sum(axis=1), weights=SW)
    assert model.train_loss_ == pytest.approx(loss, rel=1e-10)
    assert model.baseline_loss_ == pytest.approx(baseline, rel=1e-10)
    assert model.train_score_ == pytest.approx(model.score(X, y, sample_weight=SW))
    assert model.train_loss_ < model.baseline_loss_


def test_regressor_without_intercept_compares_with_the_zero_model():
    """Check that without an intercept the constant model is 0, the one it has."""
    model = WeightedLinearRegressor(fit_intercept=False).fit(X, Y_REG)
    assert model.baseline_loss_ == pytest.approx(np.mean(0.5 * Y_REG**2))


@pytest.mark.parametrize("y", [Y_CLF, Y_CLF == "b"], ids=["multiclass", "binary"])
def test_classifier_losses_and_score_against_hand_computation(y):
    """Check the log loss, the class priors' log loss and the weighted accuracy."""
    class_weight = {label: 1.0 + i for i, label in enumerate(np.unique(y))}
    model = MLPWeightsClassifier(
        (6,),
        class_weight=class_weight,
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
    )
    quiet(model.fit, X, y, sample_weight=SW)
    weights = SW * np.array([class_weight[label] for label in y])
    column = np.searchsorted(model.classes_, y)
    proba = model.predict_proba(X)[np.arange(len(y)), column]
    priors = np.bincount(column, weights=weights) / weights.sum()
    loss = -np.average(np.log(proba), weights=weights)
    assert model.train_loss_ == pytest.approx(loss, rel=1e-9)
    assert model.baseline_loss_ == pytest.approx(
        -np.average(np.log(priors[column]), weights=weights), rel=1e-9
    )
    assert model.train_score_ == pytest.approx(model.score(X, y, sample_weight=SW))
    assert model.train_loss_ < model.baseline_loss_


def test_early_stopping_losses_are_on_the_part_trained_on(monkeypatch):
    """Check that with early stopping the losses and score leave the held-out out."""
    import sk_weights._base

    seen = {}

    def spy(theta, layout, X_train, *args, **kwargs):
        seen["X"] = np.array(X_train)
        return train(theta, layout, X_train, *args, **kwargs)

    monkeypatch.setattr(sk_weights._base, "train", spy)
    model = MLPWeightsClassifier(
        (6,), early_stopping=True, learning_rate_init=0.01, max_iter=30, random_state=0
    )
    quiet(model.fit, X, Y_CLF, sample_weight=SW)
    rows = [int(np.flatnonzero((row == X).all(axis=1))[0]) for row in seen["X"]]
    assert 0 < len(rows) < len(X)
    X_t, y_t, w_t = X[rows], Y_CLF[rows], SW[rows]
    column = np.searchsorted(model.classes_, y_t)
    proba = model.predict_proba(X_t)[np.arange(len(rows)), column]
    priors = np.bincount(column, weights=w_t) / w_t.sum()
    assert model.train_loss_ == pytest.approx(
        -np.average(np.log(proba), weights=w_t), rel=1e-9
    )
    assert model.baseline_loss_ == pytest.approx(
        -np.average(np.log(priors[column]), weights=w_t), rel=1e-9
    )
    assert model.train_score_ == pytest.approx(model.score(X_t, y_t, w_t))


@pytest.mark.parametrize("task", ["classifier", "regressor", "linear"])
def test_records_read_the_outputs_of_the_final_check(monkeypatch, task):
    """Check that a stochastic fit passes over X once after training: the
    records read the outputs the last divergence check computed (the
    estimator's own prediction is not called during fit), and they equal
    the losses and score of the fitted model's predictions."""
    import sk_weights._mixins
    import sk_weights._mlp

    if task == "classifier":
        model, y = MLPWeightsClassifier((6,), max_iter=20, random_state=0), Y_CLF
    elif task == "regressor":
        model, y = MLPWeightsRegressor((6,), max_iter=20, random_state=0), Y_REG
    else:
        model, y = WeightedLinearRegressor(solver="adam", max_iter=20), Y_REG

    def refuse(*args, **kwargs):
        raise AssertionError("fit predicted on X a second time")

    with monkeypatch.context() as patch:
        patch.setattr(sk_weights._mixins, "predict", refuse)
        patch.setattr(sk_weights._mlp, "predict", refuse)
        patch.setattr(type(model), "_predict_values", refuse, raising=False)
        quiet(model.fit, X, y, sample_weight=SW)
    if task == "classifier":
        column = np.searchsorted(model.classes_, y)
        proba = model.predict_proba(X)[np.arange(len(y)), column]
        loss = -np.average(np.log(proba), weights=SW)
    else:
        loss = 0.5 * np.average((y - model.predict(X)) ** 2, weights=SW)
    assert model.train_loss_ == pytest.approx(loss, rel=1e-9)
    assert model.train_score_ == pytest.approx(model.score(X, y, sample_weight=SW))


# -- stop_reason_ and best_epoch_ --------------------------------------------


def test_stop_reasons():
    """Check each stop reason against how the run was set up to end."""
    with pytest.warns(ConvergenceWarning):
        ran_out = MLPWeightsClassifier((4,), max_iter=2, random_state=0).fit(X, Y_CLF)
    assert ran_out.stop_reason_ == "max_iter" and ran_out.best_epoch_ is None
    converged = MLPWeightsClassifier(
        (4,), learning_rate_init=0.01, max_iter=2000, random_state=0
    ).fit(X, Y_CLF)
    assert converged.stop_reason_ == "converged" and converged.n_iter_ < 2000
    assert WeightedLinearRegressor().fit(X, Y_REG).stop_reason_ == "converged"
    streamed = WeightedLinearRegressor().partial_fit(X, Y_REG)
    assert streamed.stop_reason_ == "max_iter" and streamed.best_epoch_ is None


def test_best_epoch_is_the_kept_epoch():
    """Check best_epoch_ against the validation scores and the kept weights."""
    X_big = np.vstack([X] * 4) + 0.1 * rng.normal(size=(320, 4))
    y_big = np.tile(Y_CLF, 4)
    model = MLPWeightsClassifier(
        (8,),
        early_stopping=True,
        validation_fraction=0.25,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X_big, y_big)
    assert model.stop_reason_ == "early_stopping"
    assert model.n_iter_ > model.best_epoch_ >= 1
    scores = np.asarray(model.validation_scores_)
    assert scores[model.best_epoch_ - 1] == scores.max()
    kept = [np.linalg.norm(W) for W in model.coefs_]
    np.testing.assert_allclose(
        model.weight_norms_curve_[model.best_epoch_ - 1], kept, rtol=1e-12
    )


# -- PoorFitWarning ------------------------------------------------------------


def test_unscaled_wine_warns_poor_fit():
    """Check that the issue's unscaled wine network warns, and a scaled one not."""
    X_wine, y_wine = load_wine(return_X_y=True)
    model = MLPWeightsClassifier(hidden_layer_sizes=(32,), random_state=0)
    with pytest.warns(PoorFitWarning, match="StandardScaler") as record:
        model.fit(X_wine, y_wine)
    assert "not scaled" in str(record[0].message)
    majority = np.bincount(y_wine).max() / len(y_wine)
    assert model.train_score_ < majority
    assert model.train_loss_ > model.baseline_loss_
    scaled = make_pipeline(
        StandardScaler(), MLPWeightsClassifier(hidden_layer_sizes=(32,), random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PoorFitWarning)
        quiet(scaled.fit, X_wine, y_wine)
    assert scaled[-1].train_score_ > 0.95


def test_regressor_that_barely_trained_warns_and_partial_fit_does_not():
    """Check the warning of a regressor stopped long before it moved, not of a chunk."""
    model = WeightedLinearRegressor(
        solver="sgd", learning_rate_init=1e-7, max_iter=2, random_state=0
    )
    with pytest.warns(PoorFitWarning, match="max_iter"):
        quiet(model.fit, X, Y_REG + 50)
    # The intercept has barely moved from 0: the zero model's loss, not the mean's.
    assert model.train_loss_ > 10 * model.baseline_loss_
    with warnings.catch_warnings():
        warnings.simplefilter("error", PoorFitWarning)
        model.partial_fit(X, Y_REG + 50)
    assert model.train_loss_ > model.baseline_loss_


# -- divergence guard: like with like ---------------------------------------


@pytest.mark.parametrize("alpha", [1.0, 10.0, 1e3, 1e6])
def test_strong_penalties_are_not_divergence(alpha):
    """Check scikit-learn's test_alpha case and stronger penalties fit."""
    X_digits, y_digits = load_digits(n_class=2, return_X_y=True)
    X_digits = MinMaxScaler().fit_transform(X_digits[:100])
    model = MLPWeightsClassifier(hidden_layer_sizes=10, alpha=alpha, random_state=1)
    quiet(model.fit, X_digits, y_digits[:100])
    # The penalised objective fell from its start: training was working.
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    # Stronger penalties give smaller weights (test_alpha's own truth).
    assert model.weight_norms_curve_[-1, 0] < model.weight_norms_curve_[0, 0]


def test_penalised_run_that_ends_far_worse_still_raises():
    """Check that a penalised run whose objective ends far above its start raises."""
    X_digits, y_digits = load_digits(return_X_y=True)
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(16,),
        alpha=1e-4,
        learning_rate_init=1e3,
        max_iter=20,
        random_state=0,
    )
    with pytest.raises(DivergenceError, match="objective at the starting weights"):
        model.fit(X_digits / 16, y_digits)


# -- weight curves -------------------------------------------------------------


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_network_weight_curves_end_at_the_final_weights(penalty):
    """Check the last row of both curves against the final weight matrices."""
    model = MLPWeightsClassifier(
        (5, 3),
        penalty=penalty,
        alpha=0.01,
        learning_rate_init=0.01,
        max_iter=15,
        random_state=0,
    )
    quiet(model.fit, X, Y_CLF)
    assert model.weight_norms_curve_.shape == (model.n_iter_, 3)
    assert model.weight_norms_curve_.dtype == np.float64
    np.testing.assert_allclose(
        model.weight_norms_curve_[-1],
        [np.sqrt(np.sum(W.astype(float) ** 2)) for W in model.coefs_],
        rtol=1e-12,
    )
    np.testing.assert_array_equal(
        model.zero_fraction_curve_[-1], [np.mean(W == 0) for W in model.coefs_]
    )
    if penalty == "l1":
        assert model.zero_fraction_curve_[-1].max() > 0


def test_weight_curves_extend_under_partial_fit_and_warm_start():
    """Check that partial_fit and warm start add one row per epoch, keeping the rest."""
    model = WeightedLinearRegressor(solver="sgd", penalty="l1", alpha=0.5)
    model.partial_fit(X, Y_REG)
    first = model.weight_norms_curve_.copy()
    model.partial_fit(X, Y_REG)
    assert model.weight_norms_curve_.shape == (2, 1)
    np.testing.assert_array_equal(model.weight_norms_curve_[:1], first)
    assert model.weight_norms_curve_[-1, 0] == pytest.approx(
        np.linalg.norm(model.coef_), rel=1e-12
    )
    assert model.zero_fraction_curve_[-1, 0] == np.mean(model.coef_ == 0)

    network = MLPWeightsClassifier((4,), max_iter=3, warm_start=True, random_state=0)
    quiet(network.fit, X, Y_CLF)
    quiet(network.fit, X, Y_CLF)
    assert network.weight_norms_curve_.shape == (6, 2)
    assert len(network.loss_curve_) == 6


# -- errors that name their cause ------------------------------------------------


@pytest.mark.parametrize(
    "class_weight",
    [{0: -0.5, 1: 1}, {0: -1, 1: 1}, {0: np.nan}, {1: np.inf}, {0: "heavy"}],
)
def test_invalid_class_weights_raise_a_clear_value_error(class_weight):
    """Check that bad class weights are named, not blamed on the learning rate."""
    model = MLPWeightsClassifier((3,), class_weight=class_weight, max_iter=5)
    with pytest.raises(ValueError, match="class_weight") as info:
        model.fit(X, (Y_CLF == "b").astype(int))
    assert not isinstance(info.value, DivergenceError)
    assert "learning rate" not in str(info.value)
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize(
    "model",
    [
        WeightedLinearRegressor(solver="sgd"),
        WeightedLinearRegressor(solver="adam", learning_rate_init=0.01),
        MLPWeightsClassifier((3,)),
        MLPWeightsClassifier((3,), solver="sgd", learning_rate_init="auto"),
    ],
    ids=["linear-sgd", "linear-adam", "mlp-adam", "mlp-sgd-auto"],
)
def test_huge_data_is_named_as_the_cause(model):
    """Check that data of magnitude 1e200 are said to be too large, not diverging."""
    y = Y_REG if isinstance(model, WeightedLinearRegressor) else Y_CLF
    with pytest.raises(ValueError, match="X is too large") as info:
        model.fit(X * 1e200, y)
    assert "StandardScaler" in str(info.value)
    assert not isinstance(info.value, DivergenceError)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_features_of_magnitude_1e19_fit_as_float64(solver):
    """Check that float32 X ~ 1e19 gives the float64 model, not zeros."""
    big = X * 1e19
    # Centred y: next to features of 1e19 the intercept's column of ones is
    # too small for SGD to learn an intercept in any precision.
    y = Y_REG - Y_REG.mean()
    models = {
        dtype: WeightedLinearRegressor(solver=solver, random_state=0).fit(
            big.astype(dtype), y
        )
        for dtype in (np.float32, np.float64)
    }
    coef32, coef64 = models[np.float32].coef_, models[np.float64].coef_
    assert coef32.dtype == np.float32
    np.testing.assert_allclose(coef32 * 1e19, coef64 * 1e19, rtol=1e-4)
    assert models[np.float32].score(big.astype(np.float32), y) > 0.9
    np.testing.assert_allclose(
        models[np.float32].feature_std_, np.std(big, axis=0), rtol=1e-6
    )


def test_float32_adam_overflow_is_a_clear_error():
    """Check that Adam's squared gradients overflowing float32 say so."""
    model = WeightedLinearRegressor(solver="adam", random_state=0)
    # Gradients of about 1e19 * 100: their squares pass float32's 3.4e38.
    with pytest.raises(DivergenceError, match="overflow float32") as info:
        model.fit((X * 1e19).astype(np.float32), 100 * Y_REG)
    assert "float64" in str(info.value)


def test_weighted_feature_std_cannot_overflow():
    """Check the weighted standard deviation against NumPy's, at any magnitude."""
    for scale, dtype in [(1.0, np.float64), (1e19, np.float32), (1e200, np.float64)]:
        data = (X * scale).astype(dtype)
        mean = np.average(X, axis=0, weights=SW)
        expected = scale * np.sqrt(np.average((X - mean) ** 2, axis=0, weights=SW))
        np.testing.assert_allclose(
            weighted_feature_std(data, SW.astype(dtype)), expected, rtol=1e-5
        )


def test_convergence_advice_fits_the_solver():
    """Check that the full-batch solver is not told to raise tol, SGD is."""
    X_bad = np.column_stack([X[:, 0], X[:, 0] + 1e-9 * X[:, 1], X[:, 2]])
    with pytest.warns(ConvergenceWarning) as record:
        WeightedLinearRegressor(penalty="l1", alpha=1e-6, max_iter=1).fit(X_bad, Y_REG)
    message = str(record[0].message)
    assert "raise tol" not in message and "max_iter" in message
    with pytest.warns(ConvergenceWarning, match="raise tol"):
        WeightedLinearRegressor(solver="sgd", max_iter=2).fit(X, Y_REG)


# -- early stopping on small data -----------------------------------------------


def test_informative_validation_counts_effective_samples():
    """Check Kish's effective sample size against hand-made weights."""
    n = MIN_VALIDATION_SAMPLES
    assert informative_validation(np.ones(n))
    assert not informative_validation(np.ones(n - 1))
    # One heavy sample among light ones counts as about one sample.
    assert not informative_validation([1000.0] + [1e-4] * 50)
    assert informative_validation([3.0] * n + [1e-4] * 5)


def _train_with_validation(scores_and_losses, max_epochs=30):
    """Run the epoch loop on a tiny problem with a scripted validation score."""
    layout = Layout([2, 1])
    X_small = rng.normal(size=(20, 2))
    y_small = X_small @ np.array([1.0, -1.0])
    script = iter(scores_and_losses)
    config = TrainingConfig(
        activation="identity",
        loss="squared_error",
        penalty=ElasticNetPenalty(),
        batch_size=20,
        max_epochs=max_epochs,
        tol=1e-4,
        n_iter_no_change=5,
    )
    return train(
        np.zeros(layout.n_params),
        layout,
        X_small,
        y_small.reshape(-1, 1),
        np.ones(20),
        config,
        SGDOptimizer(layout.n_params, np.float64, 0.01, momentum=0),
        np.random.default_rng(0),
        validation_score=lambda theta: next(script),
    )


def test_level_score_with_falling_held_out_loss_keeps_training():
    """Check that a level score does not stop training while the held-out loss falls."""
    falling = [(0.5, 1.0 - 0.01 * epoch) for epoch in range(30)]
    result = _train_with_validation(falling)
    assert result.stop_reason == "max_iter" and result.best_epoch == 30
    level = [(0.5, 1.0)] * 30
    result = _train_with_validation(level)
    # Epoch 1 is the best; five more without improvement stop the run.
    assert result.stop_reason == "early_stopping"
    assert (result.best_epoch, result.n_epochs) == (1, 6)


def test_tiny_held_out_set_is_recorded_but_not_stopped_on():
    """Check that 5 held-out samples do not decide when to stop."""
    X_tiny, y_tiny = X[:50], Y_CLF[:50]
    model = quiet(
        MLPWeightsClassifier(
            (4,), early_stopping=True, max_iter=40, random_state=0
        ).fit,
        X_tiny,
        y_tiny,
    )
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_epoch_ is None
    assert model.stop_reason_ in ("converged", "max_iter")


@pytest.mark.parametrize("scale, dtype", [(1.0, np.float64), (1e19, np.float32)])
def test_sparse_statistics_match_dense(scale, dtype):
    """Check the float64 statistics of sparse X against those of dense X."""
    dense = (X * scale * (rng.random(X.shape) < 0.5)).astype(dtype)
    sparse = sp.csr_matrix(dense)
    weights = SW.astype(dtype)
    np.testing.assert_allclose(
        weighted_feature_std(sparse, weights),
        weighted_feature_std(dense, weights),
        rtol=1e-6,
    )
    expected = np.average((dense.astype(np.float64) ** 2).sum(axis=1), weights=SW)
    assert mean_squared_norm(sparse, weights) == pytest.approx(expected, rel=1e-6)
    assert mean_squared_norm(dense, weights) == pytest.approx(expected, rel=1e-6)


def test_exceptions_are_public_and_divergence_error_keeps_its_old_home():
    """Check the public exception classes and the old import path."""
    import sk_weights
    from sk_weights._training import DivergenceError as from_training

    assert from_training is sk_weights.DivergenceError is DivergenceError
    assert issubclass(DivergenceError, ValueError)
    assert issubclass(PoorFitWarning, UserWarning)
    assert {"DivergenceError", "PoorFitWarning"} <= set(sk_weights.__all__)
