"""Every tool that takes an estimator, with every loss; and the errors of the losses."""

import io
import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import HuberRegressor, PoissonRegressor, TweedieRegressor
from sklearn.utils._param_validation import InvalidParameterError

import sk_weights
from sk_weights import (
    MLPWeightsRegressor,
    WeightedLinearClassifier,
    WeightedLinearRegressor,
    explain,
    weight_stability,
    weights_path,
    weights_report,
)
from sk_weights._cli import main


def _counts(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = rng.poisson(np.exp(0.8 + X @ np.array([0.5, -0.4, 0.0, 0.3, 0.1])))
    return X, y.astype(float)


def _outliers(n=300, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = X @ np.array([1.5, -1.0, 0.0, 0.5, 0.2]) + rng.standard_t(2, size=n)
    return X, y


LINEAR_CONFIGS = {
    "squared_error": (dict(), _outliers),
    "huber": (dict(loss="huber"), _outliers),
    "poisson": (dict(loss="poisson"), _counts),
    "positive": (dict(positive=True), _outliers),
    "positive-poisson": (dict(loss="poisson", positive=True), _counts),
    "gamma": (dict(loss="gamma"), lambda: (_counts()[0], _counts()[1] + 0.5)),
}


@pytest.mark.parametrize("name", list(LINEAR_CONFIGS))
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_weights_path_starts_at_the_losss_alpha_max(name, penalty):
    """Check that weights_path starts at the loss's own alpha_max: every
    weight is zero there, and some weight is nonzero 1 % below it."""
    params, data = LINEAR_CONFIGS[name]
    X, y = data()
    model = WeightedLinearRegressor(penalty=penalty, l1_ratio=0.5, **params)
    path = weights_path(model, X, y, n_alphas=5)
    assert path.grid.startswith("from alpha_max")
    assert path.n_nonzero[0] == 0 and path.n_nonzero[-1] > 0
    below = model.set_params(alpha=0.99 * path.alphas[0]).fit(X, y)
    assert np.count_nonzero(below.coef_) > 0
    if params.get("positive"):
        assert np.all(path.coefs >= 0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_weights_path_alpha_max_of_classifiers(n_classes):
    """Check that the log-loss datafits give the classifiers' alpha_max: all
    weights zero at it, some nonzero 1 % below."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 4))
    y = np.digitize(X[:, 0] + 0.5 * rng.normal(size=200), [-0.5, 0.5][: n_classes - 1])
    model = WeightedLinearClassifier(penalty="l1")
    path = weights_path(model, X, y, n_alphas=4)
    assert path.n_nonzero[0] == 0
    below = model.set_params(alpha=0.99 * path.alphas[0]).fit(X, y)
    assert np.count_nonzero(below.coef_) > 0


def test_weight_stability_with_poisson():
    """Check that weight_stability refits a Poisson model on resamples and
    reports intervals around its weights."""
    X, y = _counts()
    model = WeightedLinearRegressor(loss="poisson", penalty="l1", alpha=0.01)
    report = weight_stability(model, X, y, n_resamples=5, random_state=0)
    fitted = model.fit(X, y)
    rows = {row["name"]: row for row in report.to_dict()["features"]}
    for j, weight in enumerate(fitted.coef_):
        row = rows[f"x{j}"]
        assert row["weight_low"] <= row["weight_high"]
        assert abs(row["weight_mean"] - weight) < 0.1


def test_report_names_the_loss_and_reads_log_link_weights():
    """Check that the report's objective line names the loss, that a log
    link's weights are read as factors exp(w), and that D² is the share of
    the constant model's deviance explained."""
    X, y = _counts()
    model = WeightedLinearRegressor(loss="poisson").fit(X, y)
    text = str(model.weights_report())
    assert "objective: mean ½ Poisson deviance" in text
    assert "exp(w)" in text
    data = model.weights_report().to_dict()
    d2 = 1 - model.train_loss_ / model.baseline_loss_
    assert data["training"]["deviance_explained"] == pytest.approx(d2)
    assert f"(D²) {d2:.3f}" in text
    huber = WeightedLinearRegressor(loss="huber", huber_delta=2.0, positive=True)
    text = str(huber.fit(*_outliers()).weights_report())
    assert "Huber loss (huber_delta=2)" in text and "weights ≥ 0" in text
    assert "exp(w)" not in text


def test_report_describes_scikit_learns_glms():
    """Check the report's objective of scikit-learn's Poisson, Tweedie and
    Huber regressors."""
    X, y = _counts()
    text = str(weights_report(PoissonRegressor(alpha=0.1).fit(X, y)))
    assert "objective: mean ½ Poisson deviance + alpha · ½‖w‖²" in text
    tweedie = TweedieRegressor(power=1.5, alpha=0.1, max_iter=1000).fit(X, y)
    assert "Tweedie deviance (power=1.5)" in str(weights_report(tweedie))
    huber = HuberRegressor(epsilon=1.5).fit(*_outliers())
    assert "epsilon=1.5" in str(weights_report(huber))


def test_explain_explains_the_log_of_a_poisson_prediction():
    """Check that explain splits the raw output of a Poisson model, the log
    of its prediction, exactly into contributions coef_ * (x - baseline)."""
    X, y = _counts()
    model = WeightedLinearRegressor(loss="poisson").fit(X, y)
    explanation = explain(model, X[:4])
    np.testing.assert_allclose(explanation.output, np.log(model.predict(X[:4])))
    total = explanation.contributions.sum(-1) + explanation.baseline_output
    np.testing.assert_allclose(total, explanation.output, rtol=1e-12)
    np.testing.assert_allclose(
        explanation.contributions, model.coef_ * (X[:4] - model.feature_mean_)
    )
    assert "log of the prediction" in str(explanation)


def test_explain_a_poisson_network_by_integrated_gradients():
    """Check that a Poisson network's explanation is of the log of its
    prediction, complete to the quadrature's error."""
    X, y = _counts()
    model = MLPWeightsRegressor(
        loss="poisson", hidden_layer_sizes=(8,), max_iter=50, random_state=0
    )
    with pytest.warns(Warning):
        model.fit(X, y)
    explanation = explain(model, X[:3], n_steps=256)
    np.testing.assert_allclose(
        explanation.output.ravel(), np.log(model.predict(X[:3])), rtol=1e-10
    )
    assert np.max(explanation.completeness_error) < 1e-3


CONFIGS = [
    WeightedLinearRegressor(loss="huber", huber_delta=0.8),
    WeightedLinearRegressor(loss="poisson", positive=True, penalty="l1", alpha=0.01),
    WeightedLinearRegressor(loss="poisson", solver="sgd", max_iter=5, random_state=0),
    MLPWeightsRegressor(
        loss="poisson", hidden_layer_sizes=(4,), max_iter=5, random_state=0
    ),
    WeightedLinearRegressor(loss="gamma", penalty="elasticnet"),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", CONFIGS, ids=repr)
def test_save_and_load_every_loss(model):
    """Check that save/load keeps the loss, huber_delta and positive, and the
    predictions, for linear models and networks."""
    X, y = _counts()
    model.fit(X, y + 0.5)  # positive amounts, for the Gamma loss too
    buffer = io.BytesIO()
    sk_weights.save(model, buffer)
    loaded = sk_weights.load(io.BytesIO(buffer.getvalue()))
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _drop_params(data, names):
    """The saved bytes with ``names`` removed from the header's parameters."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        members = {name: archive[name] for name in archive.files}
    header = json.loads(members.pop("sk_weights_header").tobytes().decode("utf-8"))
    for name in names:
        del header["params"][name]
    text = json.dumps(header).encode("utf-8")
    buffer = io.BytesIO()
    np.savez(buffer, **members, sk_weights_header=np.frombuffer(text, np.uint8))
    return buffer.getvalue()


def test_files_written_before_the_losses_still_load():
    """Check that a file without loss, huber_delta and positive (written by an
    earlier version) loads with their defaults, and that other missing
    parameters are still refused."""
    X, y = _outliers()
    for model, names in [
        (WeightedLinearRegressor(), ["loss", "huber_delta", "positive"]),
        (MLPWeightsRegressor(hidden_layer_sizes=(3,), max_iter=3), ["loss"]),
    ]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a few epochs of the network
            model.fit(X, y)
        buffer = io.BytesIO()
        sk_weights.save(model, buffer)
        loaded = sk_weights.load(io.BytesIO(_drop_params(buffer.getvalue(), names)))
        assert loaded.get_params() == model.get_params()
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    with pytest.raises(ValueError, match="missing: \\['alpha'\\]"):
        sk_weights.load(io.BytesIO(_drop_params(buffer.getvalue(), ["alpha"])))


@pytest.fixture
def counts_csv(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = _counts(n=120)
    rows = ["a,b,c,d,e,visits"] + [
        ",".join(f"{v:.6g}" for v in row) + f",{int(t)}" for row, t in zip(X, y)
    ]
    (tmp_path / "counts.csv").write_text("\n".join(rows) + "\n")
    rows[5] = rows[5].rsplit(",", 1)[0] + ",-3"
    (tmp_path / "negative.csv").write_text("\n".join(rows) + "\n")
    return X, y


def test_command_line_fits_a_poisson_model(counts_csv, capsys):
    """Check that the command line's --loss poisson fits and saves a Poisson
    model whose weights are PoissonRegressor's."""
    X, y = counts_csv
    argv = ["fit", "counts.csv", "--target", "visits", "--loss", "poisson"]
    argv += ["--penalty", "l2", "--alpha", "0.01", "--test-size", "0"]
    assert main([*argv, "--out", "model.npz"]) == 0
    model = sk_weights.load("model.npz")
    assert model.loss == "poisson"
    reference = PoissonRegressor(alpha=0.01, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-6)


def test_command_line_refuses_a_target_outside_the_losss_domain(counts_csv, capsys):
    """Check that a negative count with --loss poisson fails in one line that
    names the target column, y and the loss."""
    argv = ["fit", "negative.csv", "--target", "visits", "--loss", "poisson"]
    assert main([*argv, "--out", "model.npz"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "'visits'" in err[0] and "loss='poisson'" in err[0] and "y has" in err[0]


def test_command_line_refuses_loss_options_of_other_models(counts_csv, capsys):
    """Check that --positive with the network is refused in one line."""
    argv = ["fit", "counts.csv", "--target", "visits", "--model", "mlp"]
    assert main([*argv, "--positive", "--out", "m.npz"]) == 2
    assert "--positive" in capsys.readouterr().err


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, match",
    [
        (lambda y: y - 5.0, "y has .* below 0.*loss='poisson'"),
        (lambda y: 0.0 * y, "y is 0 everywhere.*loss='poisson'"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_poisson_refuses_y_outside_its_domain_before_any_work(
    y, match, method, monkeypatch
):
    """Check that y outside the Poisson domain raises a ValueError naming y
    and the loss before any solver runs, and leaves the fitted model intact."""
    X, counts = _counts()
    model = WeightedLinearRegressor(loss="poisson").fit(X, counts)
    before = {k: np.copy(v) for k, v in vars(model).items() if k.endswith("_")}

    def no_work(*args, **kwargs):
        raise AssertionError("a solver ran")

    monkeypatch.setattr("sk_weights._linear.solve_full_batch", no_work)
    monkeypatch.setattr("sk_weights._base.train", no_work)
    with pytest.raises(ValueError, match=match):
        getattr(model, method)(X, y(counts))
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(model, key), value)


@pytest.mark.parametrize("shift", [0.0, -1.0])
def test_gamma_refuses_y_at_or_below_zero(shift):
    """Check that y <= 0 is refused for the Gamma loss, naming y and the loss."""
    X, y = _counts()
    with pytest.raises(ValueError, match="y has .* at or below 0.*loss='gamma'"):
        WeightedLinearRegressor(loss="gamma").fit(X, y + shift)


def test_mlp_poisson_refuses_negative_y():
    """Check that the Poisson network refuses negative targets, naming the loss."""
    X, y = _counts()
    with pytest.raises(ValueError, match="loss='poisson'"):
        MLPWeightsRegressor(loss="poisson").fit(X, y - 10)


def test_nan_target_is_refused():
    """Check that a NaN target is a ValueError for every loss."""
    X, y = _counts()
    y[3] = np.nan
    for loss in ("squared_error", "huber", "poisson"):
        with pytest.raises(ValueError, match="NaN"):
            WeightedLinearRegressor(loss=loss).fit(X, y)


@pytest.mark.parametrize("delta", [0.0, -1.0])
def test_huber_delta_must_be_positive(delta):
    """Check that huber_delta <= 0 is refused, naming the parameter."""
    X, y = _outliers()
    with pytest.raises(InvalidParameterError, match="huber_delta"):
        WeightedLinearRegressor(loss="huber", huber_delta=delta).fit(X, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeightedLinearRegressor(loss="hinge"),
        lambda: WeightedLinearRegressor(loss="log_loss"),
        lambda: MLPWeightsRegressor(loss="huber"),
        lambda: MLPWeightsRegressor(loss="gamma"),
        lambda: WeightedLinearRegressor(positive="yes"),
    ],
)
def test_unknown_losses_are_refused(make):
    """Check that a loss a regressor does not have (a classifier's, a
    network's missing one) and a non-boolean positive are refused."""
    X, y = _outliers()
    with pytest.raises(InvalidParameterError):
        make().fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["huber", "poisson", "gamma"])
def test_every_loss_trains_with_dropout_and_partial_fit(loss):
    """Check that dropout and partial_fit train every loss: the deviance
    explained comes near that of the exact fit."""
    X, y = _counts(n=600)
    y = y + 0.5 if loss == "gamma" else y
    exact = WeightedLinearRegressor(loss=loss).fit(X, y)
    exact_d2 = 1 - exact.train_loss_ / exact.baseline_loss_
    dropped = WeightedLinearRegressor(loss=loss, dropout=0.1, random_state=0)
    dropped.fit(X, y)
    streamed = WeightedLinearRegressor(loss=loss, batch_size=20, random_state=0)
    for _ in range(5):
        for rows in np.array_split(np.arange(len(y)), 3):
            streamed.partial_fit(X[rows], y[rows])
    for model in (dropped, streamed):
        model_d2 = 1 - _data_loss(loss, X, y, model) / exact.baseline_loss_
        assert 0.8 * exact_d2 < model_d2 <= exact_d2 + 1e-12


def _data_loss(loss, X, y, model):
    """The model's mean loss on (X, y), from the loss's definition."""
    eta = X @ model.coef_ + model.intercept_
    if loss == "huber":
        r = np.abs(y - eta)
        return float(np.mean(np.where(r <= 1.35, 0.5 * r**2, 1.35 * (r - 0.675))))
    if loss == "poisson":
        y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        return float(np.mean(y_log_y - y * eta - y + np.exp(eta)))
    return float(np.mean(eta - np.log(y) + y * np.exp(-eta) - 1))


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_two_targets_are_two_independent_fits(loss):
    """Check that a 2-D y fits one independent model per column."""
    X, y = _counts()
    Y = np.column_stack([y + 0.5, y[::-1] + 1.0])
    both = WeightedLinearRegressor(loss=loss, penalty="l1", alpha=0.01).fit(X, Y)
    for k in range(2):
        one = WeightedLinearRegressor(loss=loss, penalty="l1", alpha=0.01)
        one.fit(X, Y[:, k])
        np.testing.assert_allclose(both.coef_[k], one.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(both.predict(X)[:, k], one.predict(X), rtol=1e-9)
