"""Tests of the shell every estimator shares: partial_fit's continuation."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_diabetes, load_iris
from sklearn.preprocessing import StandardScaler

import sk_weights._training
from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor


def _regression():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X)[:120], y[:120]


def _classification():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


#: Each estimator with dropout, and the data it learns from.
CASES = {
    "linear": (
        lambda: WeightedLinearRegressor(dropout=0.5, batch_size=40, random_state=0),
        _regression,
        {},
    ),
    "mlp": (
        lambda: MLPWeightsClassifier((5,), dropout=0.5, batch_size=50, random_state=0),
        _classification,
        {"classes": [0, 1, 2]},
    ),
}


def _masks_per_call(monkeypatch, model, X, y, n_calls, **kwargs):
    """Run ``n_calls`` partial_fit calls on (X, y); return the masks each drew."""
    drawn = []
    dropout_mask = sk_weights._training.dropout_mask

    def spy(*args, **kw):
        mask = dropout_mask(*args, **kw)
        drawn[-1].append(mask.copy())
        return mask

    monkeypatch.setattr(sk_weights._training, "dropout_mask", spy)
    for _ in range(n_calls):
        drawn.append([])
        model.partial_fit(X, y, **kwargs)
    return [np.concatenate([m.ravel() for m in masks]) for masks in drawn]


@pytest.mark.parametrize("case", CASES)
def test_partial_fit_draws_new_masks_for_each_chunk(monkeypatch, case):
    """Check that each partial_fit call draws new masks, reproducibly.

    With a fixed random_state, the same chunk seen twice must not get the same
    shuffle and dropout masks (the second pass would repeat the first), while
    a second model with that random_state draws exactly the same sequence.
    """
    make, data, kwargs = CASES[case]
    X, y = data()
    first = _masks_per_call(monkeypatch, make(), X, y, 3, **kwargs)
    assert all(masks.size > 0 for masks in first)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[1], first[2])
    again = _masks_per_call(monkeypatch, make(), X, y, 3, **kwargs)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "solver, fields",
    [
        ("auto", {"solver", "learning_rate", "velocity"}),
        ("sgd", {"solver", "learning_rate", "velocity"}),
        ("adam", {"solver", "t", "first_moment", "second_moment"}),
    ],
)
def test_saved_state_names_the_optimiser_that_ran(solver, fields):
    """Check that partial_fit's state is labelled by the optimiser that ran.

    ``solver="auto"`` resolves to the full-batch solver in ``fit`` but runs
    SGD in ``partial_fit``: its state is SGD's and says so.
    """
    X, y = _regression()
    model = WeightedLinearRegressor(solver=solver, random_state=0)
    model.partial_fit(X, y)
    expected = "adam" if solver == "adam" else "sgd"
    assert model._optimizer_state["solver"] == expected
    assert set(model._optimizer_state) == fields


@pytest.mark.parametrize("case", CASES)
def test_momentum_survives_a_change_of_dropout(case):
    """Check that set_params(dropout=...) between partial_fit calls keeps momentum.

    The control forgets the optimiser's state before the second call and
    otherwise draws the same masks: the two differ only if the velocity of the
    first call was carried over.
    """
    make, data, kwargs = CASES[case]
    X, y = data()
    # The regressor's default solver="auto" runs SGD in partial_fit.
    solver = "auto" if case == "linear" else "sgd"
    model = make().set_params(dropout=0.0, solver=solver, momentum=0.9)
    model.partial_fit(X, y, **kwargs)
    velocity = model._optimizer_state["velocity"].copy()
    assert np.any(velocity != 0)
    amnesic = clone(model)
    amnesic.__dict__.update(
        {k: v for k, v in vars(model).items() if k != "_optimizer_state"}
    )
    for estimator in (model, amnesic):
        estimator.set_params(dropout=0.1)
        estimator.partial_fit(X, y)
    assert model._optimizer_state["solver"] == "sgd"
    assert not np.array_equal(model.coef_, amnesic.coef_)


def test_a_new_solver_starts_a_fresh_optimiser():
    """Check the documented rule: after a change of solver, partial_fit starts afresh.

    Adam's step count after one call of 3 mini-batches is 3 when it starts
    from scratch; an SGD state cannot be continued by Adam.
    """
    X, y = _regression()
    model = WeightedLinearRegressor(batch_size=40, random_state=0)
    model.partial_fit(X, y)
    model.set_params(solver="adam")
    model.partial_fit(X, y)
    assert model._optimizer_state["solver"] == "adam"
    assert model._optimizer_state["t"] == 3
    model.partial_fit(X, y)
    assert model._optimizer_state["t"] == 6


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLPWeightsClassifier((4,), early_stopping=True, max_iter=3, tol=0),
        lambda: WeightedLinearRegressor(early_stopping=True, max_iter=3, tol=0),
    ],
    ids=["mlp", "linear"],
)
def test_callbacks_score_on_all_the_data_under_early_stopping(make):
    """Check that a ScoringMonitor scores on X and all of y when rows are held out."""
    callback = pytest.importorskip("sklearn.callback")
    X, y = _classification()
    model = make().set_params(random_state=0)
    metric = "accuracy" if is_classifier(model) else "r2"
    monitor = callback.ScoringMonitor(scoring=metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # three epochs: no convergence, poor fit
        model.set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert len(rows) == model.n_iter_
    # The truth: the weights kept are the best epoch's; scikit-learn scores
    # them on the same data.
    assert rows[model.best_epoch_ - 1][metric] == pytest.approx(model.score(X, y))
