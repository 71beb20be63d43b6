"""Tests of the estimators in scikit-learn's tools, on DataFrames, with callbacks."""

import re
import runpy
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import diabetes_data, wine_data
from scipy.stats import loguniform, uniform
from sklearn import config_context
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor
from sk_weights._sklearn_compat import HAS_CALLBACKS

# Stochastic fits here run a few epochs on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@dataclass
class Case:
    """One estimator under test, with data of its kind and a small search grid."""

    make: Callable  # keyword overrides -> unfitted estimator
    data: Callable  # () -> (X, y), X scaled
    grid: dict | list  # for GridSearchCV
    distributions: dict  # for RandomizedSearchCV
    stochastic: dict  # parameters of a short, deterministic stochastic fit
    l1_alpha: float  # an L1 strength that zeroes some features' weights


_diabetes = diabetes_data
_wine = wine_data


def _small_network(**params):
    """A small network that trains in milliseconds (and deterministically)."""
    defaults = {
        "hidden_layer_sizes": (8,),
        "batch_size": 32,
        "learning_rate_init": 0.01,
        "max_iter": 30,
        "random_state": 0,
    }
    return MLPWeightsClassifier(**{**defaults, **params})


CASES = {
    "linear": Case(
        make=lambda **kw: WeightedLinearRegressor(**kw),
        data=_diabetes,
        grid={
            "penalty": ["l1", "elasticnet"],
            "alpha": [0.01, 1.0],
            "l1_ratio": [0.5],
            "dropout": [0.0, 0.1],
            "max_iter": [20],
            "random_state": [0],
        },
        distributions={
            "penalty": ["l2", "elasticnet"],
            "alpha": loguniform(1e-3, 10),
            "l1_ratio": uniform(0, 1),
        },
        stochastic={"solver": "sgd", "random_state": 0},
        l1_alpha=0.5,
    ),
    "mlp": Case(
        make=_small_network,
        data=_wine,
        grid=[
            {
                "penalty": ["l1"],
                "alpha": [1e-3, 0.05],
                "hidden_layer_sizes": [(4,), (8,)],
            },
            {"penalty": ["elasticnet"], "l1_ratio": [0.5], "dropout": [0.2]},
        ],
        distributions={
            "penalty": ["l2", "elasticnet"],
            "alpha": loguniform(1e-4, 1e-1),
            "l1_ratio": uniform(0, 1),
            "hidden_layer_sizes": [(4,), (8,), (4, 4)],
        },
        stochastic={},
        l1_alpha=0.05,
    ),
}


@pytest.fixture(params=list(CASES))
def case(request):
    return CASES[request.param]


def _predict(model, X):
    """The continuous output: probabilities for classifiers, values otherwise."""
    return model.predict_proba(X) if is_classifier(model) else model.predict(X)


# -- scikit-learn tools -------------------------------------------------------


def test_pipeline_matches_manual_composition(case):
    """Check that a Pipeline with StandardScaler equals scaling then fitting by hand."""
    X, y = case.data()
    X = X * np.arange(1, X.shape[1] + 1) + 3.0  # unscaled on purpose
    pipe = make_pipeline(StandardScaler(), case.make()).fit(X, y)
    scaler = StandardScaler().fit(X)
    manual = case.make().fit(scaler.transform(X), y)
    np.testing.assert_array_equal(
        _predict(pipe, X), _predict(manual, scaler.transform(X))
    )


def test_column_transformer_on_a_dataframe(case):
    """Check a ColumnTransformer pipeline on mixed columns; names reach the report."""
    X, y = case.data()
    frame = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"])
    frame["colour"] = np.where(X[:, 4] > 0, "red", "blue")
    columns = ColumnTransformer(
        [
            ("num", StandardScaler(), ["a", "b", "c", "d"]),
            ("cat", OneHotEncoder(), ["colour"]),
        ]
    )
    pipe = Pipeline([("columns", columns), ("model", case.make())]).fit(frame, y)
    encoded = columns.fit_transform(frame)
    manual = case.make().fit(encoded, y)
    np.testing.assert_array_equal(_predict(pipe, frame), _predict(manual, encoded))
    names = [row["name"] for row in pipe[-1].weights_report().to_dict()["features"]]
    from sk_weights import weights_report

    report = weights_report(pipe).to_dict()
    assert sorted(row["name"] for row in report["features"]) == sorted(
        columns.get_feature_names_out()
    )
    assert len(names) == encoded.shape[1]


def test_cross_validate_matches_a_manual_loop(case):
    """Check that cross_validate with n_jobs=2 gives the scores of a manual loop."""
    X, y = case.data()
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    result = cross_validate(case.make(), X, y, cv=cv, n_jobs=2)
    manual = [
        case.make().fit(X[train], y[train]).score(X[test], y[test])
        for train, test in cv.split(X)
    ]
    np.testing.assert_array_equal(result["test_score"], manual)


def test_grid_search_in_parallel(case):
    """Check that GridSearchCV with n_jobs=2 picks the best of a manual search."""
    X, y = case.data()
    cv = KFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(case.make(), case.grid, cv=cv, n_jobs=2).fit(X, y)
    sequential = GridSearchCV(case.make(), case.grid, cv=cv, n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    means = []
    for params in search.cv_results_["params"]:
        scores = [
            case.make(**params).fit(X[train], y[train]).score(X[test], y[test])
            for train, test in cv.split(X)
        ]
        means.append(np.mean(scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], means, rtol=1e-12)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    assert (
        search.best_estimator_.get_params()
        == case.make(**search.best_params_).get_params()
    )


def test_randomized_search_in_parallel(case):
    """Check that RandomizedSearchCV with n_jobs=2 samples, scores and refits."""
    X, y = case.data()
    search = RandomizedSearchCV(
        case.make(), case.distributions, n_iter=4, cv=3, n_jobs=2, random_state=0
    ).fit(X, y)
    sequential = RandomizedSearchCV(
        case.make(), case.distributions, n_iter=4, cv=3, n_jobs=1, random_state=0
    ).fit(X, y)
    assert search.cv_results_["params"] == sequential.cv_results_["params"]
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
    )
    best = case.make(**search.best_params_).fit(X, y)
    np.testing.assert_array_equal(_predict(search, X), _predict(best, X))


def _importance(model):
    if hasattr(model, "feature_importances_"):
        return model.feature_importances_
    return np.abs(model.coef_)


def test_select_from_model_uses_the_weights(case):
    """Check that SelectFromModel keeps the features the weights say matter."""
    X, y = case.data()
    selector = SelectFromModel(case.make(alpha=0.1), threshold="mean").fit(X, y)
    importance = _importance(selector.estimator_)
    expected = importance >= importance.mean()
    np.testing.assert_array_equal(selector.get_support(), expected)
    assert 0 < expected.sum() < X.shape[1]
    np.testing.assert_array_equal(selector.transform(X), X[:, expected])

    # With an L1 penalty, sklearn keeps the features with non-zero weight.
    selector = SelectFromModel(case.make(penalty="l1", alpha=case.l1_alpha))
    selector.fit(X, y)
    importance = _importance(selector.estimator_)
    assert 0 < np.sum(importance == 0) < X.shape[1]
    np.testing.assert_array_equal(selector.get_support(), importance > 0)


def test_clone_copies_params_not_fitted_state(case):
    """Check that clone gives an unfitted estimator with the same parameters."""
    X, y = case.data()
    model = case.make(alpha=0.3, random_state=4).fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not [name for name in vars(copy) if name.endswith("_")]
    np.testing.assert_array_equal(_predict(copy.fit(X, y), X), _predict(model, X))


def test_sample_weight_routed_in_pipeline_and_grid_search(case):
    """Check that sample_weight reaches the model through metadata routing."""
    X, y = case.data()
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 3, size=len(y)).astype(float)
    with config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("model", case.make().set_fit_request(sample_weight=True)),
            ]
        ).fit(X, y, sample_weight=weights)
        search = GridSearchCV(
            case.make()
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=True),
            {"alpha": [0.01, 0.1]},
            cv=3,
        ).fit(X, y, sample_weight=weights)
    scaled = StandardScaler().fit_transform(X)
    weighted = case.make().fit(scaled, y, sample_weight=weights)
    unweighted = case.make().fit(scaled, y)
    np.testing.assert_array_equal(_predict(pipe, X), _predict(weighted, scaled))
    assert not np.allclose(_predict(weighted, scaled), _predict(unweighted, scaled))

    refit = case.make(alpha=search.best_params_["alpha"]).fit(
        X, y, sample_weight=weights
    )
    np.testing.assert_array_equal(_predict(search, X), _predict(refit, X))
    if not is_classifier(refit):
        # Integer weights are repetitions for the exact full-batch solver: the
        # weights GridSearchCV routed give the fit on repeated rows.
        counts = weights.astype(int)
        repeated = case.make(alpha=search.best_params_["alpha"]).fit(
            np.repeat(X, counts, axis=0), np.repeat(y, counts)
        )
        np.testing.assert_allclose(_predict(refit, X), _predict(repeated, X), rtol=1e-9)


# -- DataFrames ---------------------------------------------------------------


def _frames(X):
    columns = [f"feature_{i}" for i in range(X.shape[1])]
    return pd.DataFrame(X, columns=columns), pl.DataFrame(X, schema=columns)


def test_pandas_and_polars_frames_give_feature_names(case):
    """Check that pandas and polars frames fit like arrays and set feature_names_in_."""
    X, y = case.data()
    pandas_frame, polars_frame = _frames(X)
    reference = case.make().fit(X, y)
    assert not hasattr(reference, "feature_names_in_")
    for frame in (pandas_frame, polars_frame):
        model = case.make().fit(frame, y)
        np.testing.assert_array_equal(model.feature_names_in_, pandas_frame.columns)
        # Same model up to BLAS rounding (a frame gives a Fortran-ordered X).
        np.testing.assert_allclose(
            _predict(model, frame), _predict(reference, X), rtol=1e-12
        )
        features = model.weights_report().to_dict()["features"]
        assert sorted(row["name"] for row in features) == sorted(pandas_frame.columns)


def _outcome(model, X):
    """What predict does: ('ok' | warning or error class name, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.predict(X)
        except Exception as exc:
            return type(exc).__name__, re.sub(r"\w+\(\)", "", str(exc))
    names = [w for w in caught if issubclass(w.category, UserWarning)]
    if names:
        return names[0].category.__name__, str(names[0].message).split(",")[0]
    return "ok", ""


def test_feature_name_checks_match_scikit_learns(case):
    """Check that mismatched column names at predict behave as in LinearRegression."""
    X, y = case.data()
    frame, _ = _frames(X)
    renamed = frame.rename(columns={"feature_0": "other"})
    reordered = frame[frame.columns[::-1]]
    for fit_on, predict_on in [
        (frame, X),
        (X, frame),
        (frame, renamed),
        (frame, reordered),
        (frame, frame),
    ]:
        ours = _outcome(case.make().fit(fit_on, y), predict_on)
        theirs = _outcome(LinearRegression().fit(fit_on, y), predict_on)
        assert ours[0] == theirs[0]
        assert ours[1].replace(type(case.make()).__name__, "") == theirs[1].replace(
            "LinearRegression", ""
        )
    assert _outcome(case.make().fit(frame, y), X)[0] == "UserWarning"


# -- progress and callbacks ---------------------------------------------------


def test_verbose_prints_one_line_per_epoch(case, capsys):
    """Check that verbose=1 prints epoch, loss, validation score and seconds."""
    X, y = case.data()
    model = case.make(
        **case.stochastic, early_stopping=True, max_iter=6, tol=0, verbose=1
    ).fit(X, y)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Epoch")
    ]
    assert len(lines) == model.n_iter_ == 6
    pattern = re.compile(
        r"Epoch +(\d+): loss (\S+), validation score (\S+), (\d+\.\d+) s$"
    )
    for i, line in enumerate(lines):
        epoch, loss, score, _ = pattern.match(line).groups()
        assert int(epoch) == i + 1
        assert float(loss) == pytest.approx(model.loss_curve_[i], rel=1e-5)
        assert float(score) == pytest.approx(model.validation_scores_[i], rel=1e-5)

    case.make(**case.stochastic, max_iter=3).fit(X, y)
    assert capsys.readouterr().out == ""


class _Recorder:
    """A callback that records its hooks and the model at each epoch's end."""

    def __init__(self, stop_after=None):
        self.events = []
        self.models = []
        self.stop_after = stop_after

    def setup(self, estimator, context):
        self.events.append("setup")

    def teardown(self, estimator, context):
        self.events.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.events.append(f"begin {context.task_name} {context.task_id}")

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(f"end {context.task_name} {context.task_id}")
        if context.task_name == "epoch" and fitted_estimator is not None:
            self.models.append(fitted_estimator)
            return len(self.models) == self.stop_after
        return False


needs_callbacks = pytest.mark.skipif(
    not HAS_CALLBACKS, reason="scikit-learn < 1.9 has no sklearn.callback"
)


@needs_callbacks
def test_callbacks_see_each_epoch(case):
    """Check that a callback sees each epoch, with the model trained that far."""
    X, y = case.data()
    recorder = _Recorder()
    model = case.make(**case.stochastic, max_iter=3, tol=0)
    model.set_callbacks(recorder).fit(X, y)
    assert recorder.events == [
        "setup",
        "begin fit 0",
        *[f"{hook} epoch {i}" for i in range(3) for hook in ("begin", "end")],
        "end fit 0",
        "teardown",
    ]
    for epochs, seen in enumerate(recorder.models, start=1):
        truth = case.make(**case.stochastic, max_iter=epochs, tol=0).fit(X, y)
        np.testing.assert_array_equal(_predict(seen, X), _predict(truth, X))
    assert not [name for name in vars(model) if "callback_fit_ctx" in name]


@needs_callbacks
def test_callback_can_stop_training(case):
    """Check that a callback returning True stops training, without a warning."""
    X, y = case.data()
    model = case.make(**case.stochastic, max_iter=50, tol=0)
    with warnings.catch_warnings():
        # Two epochs may well fit worse than a constant model (PoorFitWarning);
        # they are no failure to converge.
        warnings.simplefilter("error", ConvergenceWarning)
        model.set_callbacks(_Recorder(stop_after=2)).fit(X, y)
    truth = case.make(**case.stochastic, max_iter=2, tol=0).fit(X, y)
    assert model.n_iter_ == 2
    assert model.stop_reason_ == "early_stopping"
    np.testing.assert_array_equal(_predict(model, X), _predict(truth, X))


class _Propagated(_Recorder):
    """The recorder as a callback that meta-estimators pass on to their fits."""

    max_propagation_depth = None


@needs_callbacks
def test_callbacks_propagate_from_meta_estimators(case):
    """Check that a callback set on GridSearchCV sees the epochs of every fit."""
    X, y = case.data()
    recorder = _Propagated()
    model = case.make(**case.stochastic, max_iter=2, tol=0)
    search = GridSearchCV(model, {"alpha": [0.01, 0.1]}, cv=2)
    search.set_callbacks(recorder).fit(X, y)
    epochs = [event for event in recorder.events if event.startswith("end epoch")]
    assert len(epochs) == (2 * 2 + 1) * 2  # 4 fits and the refit, 2 epochs each
    assert recorder.events.count("setup") == 1
    np.testing.assert_array_equal(
        _predict(recorder.models[-1], X), _predict(search.best_estimator_, X)
    )


@needs_callbacks
def test_full_batch_fit_and_partial_fit_are_tasks(case):
    """Check the task trees of a full-batch fit (if any) and of partial_fit."""
    X, y = case.data()
    recorder = _Recorder()
    model = case.make().set_callbacks(recorder)
    if isinstance(model, WeightedLinearRegressor):
        model.fit(X, y)
        assert recorder.events == ["setup", "begin fit 0", "end fit 0", "teardown"]
        recorder.events.clear()
    kwargs = {"classes": np.unique(y)} if is_classifier(model) else {}
    model.partial_fit(X, y, **kwargs)
    model.partial_fit(X, y)
    assert recorder.events == 2 * [
        "setup",
        "begin fit 0",
        "begin epoch 0",
        "end epoch 0",
        "end fit 0",
        "teardown",
    ]


@needs_callbacks
def test_scoring_monitor_logs_each_epoch(case):
    """Check that sklearn's ScoringMonitor logs the score of the model at each epoch."""
    from sklearn.callback import ScoringMonitor

    X, y = case.data()
    metric = "accuracy" if is_classifier(case.make()) else "r2"
    monitor = ScoringMonitor(scoring=metric)
    model = case.make(**case.stochastic, max_iter=3, tol=0).set_callbacks(monitor)
    model.fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in rows] == [0, 1, 2]
    for epochs, row in enumerate(rows, start=1):
        truth = case.make(**case.stochastic, max_iter=epochs, tol=0).fit(X, y)
        assert row[metric] == truth.score(X, y)


@needs_callbacks
def test_progress_bar_runs(case, capsys):
    """Check that sklearn's ProgressBar draws a finished bar for the fit."""
    from sklearn.callback import ProgressBar

    X, y = case.data()
    model = case.make(**case.stochastic, max_iter=4, tol=0)
    model.set_callbacks(ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert f"{type(model).__name__} - fit" in out
    assert "100%" in out
    check_is_fitted(model)


def test_package_works_without_sklearn_callback(tmp_path):
    """Check that the package imports and trains when sklearn.callback is missing."""
    script = textwrap.dedent(
        """
        import sys

        import sk_weights  # loads the parts of scikit-learn the package uses

        # Simulate scikit-learn < 1.9 (unless it is one), then import the package
        # afresh: its `from sklearn.callback import CallbackSupportMixin` fails.
        try:
            import sklearn.callback
        except ImportError:
            pass
        else:
            del sklearn.callback.CallbackSupportMixin
        for name in [name for name in sys.modules if name.startswith("sk_weights")]:
            del sys.modules[name]

        import numpy as np
        import sk_weights
        from sk_weights._sklearn_compat import HAS_CALLBACKS

        assert not HAS_CALLBACKS
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 3))
        y = X @ [1.0, -2.0, 0.5] + 1.0
        model = sk_weights.WeightedLinearRegressor(
            solver="sgd", max_iter=3, tol=0, verbose=1, random_state=0
        )
        assert not hasattr(model, "set_callbacks")
        model.fit(X, y).partial_fit(X, y)
        full = sk_weights.WeightedLinearRegressor(penalty=None).fit(X, y)
        assert np.allclose(full.coef_, [1.0, -2.0, 0.5])
        network = sk_weights.MLPWeightsClassifier(hidden_layer_sizes=(4,), max_iter=2)
        network.fit(X, y > 1).partial_fit(X, y > 1)
        assert network.n_iter_ == 3
        print("trained", model.n_iter_)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Epoch") == 4  # the verbose model's epochs only
    assert result.stdout.strip().endswith("trained 4")


def test_out_of_core_example_matches_in_memory_fit(capsys):
    """Check the memmap example: streamed weights equal in-memory ones, near exact."""
    example = Path(__file__).resolve().parents[1] / "examples" / "plot_out_of_core.py"
    result = runpy.run_path(str(example))
    streamed, in_memory, exact = (
        result[name] for name in ("streamed", "in_memory", "exact")
    )
    assert streamed.n_iter_ == 60
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)
    np.testing.assert_allclose(streamed.coef_, exact.coef_, atol=0.02)
    assert (
        streamed.score(result["X"], result["y"])
        > exact.score(result["X"], result["y"]) - 1e-3
    )
    assert not result["folder"].exists()
    assert "identical to the in-memory run: True" in capsys.readouterr().out
