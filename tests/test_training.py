"""Tests of the parts of the epoch loop: batches, the stopping rule, the guard."""

import dataclasses
import warnings

import numpy as np
import pytest
from sklearn.utils import gen_batches as sklearn_gen_batches

from sk_weights._network import Layout
from sk_weights._optimizers import SGDOptimizer
from sk_weights._penalties import ElasticNetPenalty
from sk_weights._training import (
    EXPLOSION_FACTOR,
    DivergenceGuard,
    EarlyStopping,
    EpochRunner,
    TrainingConfig,
    gen_batches,
)
from sk_weights.exceptions import DivergenceError


@pytest.mark.parametrize("n, batch_size", [(10, 3), (10, 10), (7, 20), (200, 50)])
def test_gen_batches_is_scikit_learns(n, batch_size):
    """Check that the core's batches are those of sklearn.utils.gen_batches."""
    assert list(gen_batches(n, batch_size)) == list(sklearn_gen_batches(n, batch_size))


def test_training_config_is_frozen():
    """Check that a run's settings cannot change once made."""
    config = TrainingConfig("identity", "squared_error", ElasticNetPenalty(), 10, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.max_epochs = 6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unit_sample_weights_give_the_batches_the_general_shares(dtype):
    """Check the batches' weights without sample weights against the general path.

    Unit sample weights skip the gather and the sum of each batch; the shares
    and sums must be bitwise those the general path computes, for slices and
    shuffled rows, full and last batches.
    """
    X = np.zeros((23, 2), dtype)
    config = TrainingConfig("identity", "squared_error", ElasticNetPenalty(), 10, 5)
    runner = EpochRunner(Layout((2, 1)), X, np.zeros(23), np.ones(23), config, dtype)
    assert runner.unit_weights
    general = EpochRunner(Layout((2, 1)), X, np.zeros(23), np.ones(23), config, dtype)
    general.unit_weights = False
    order = np.random.default_rng(0).permutation(23)
    for rows in [slice(0, 10), slice(20, 23), order[:10], order[20:]]:
        shares, total = runner._batch_weights(rows)
        expected_shares, expected_total = general._batch_weights(rows)
        assert shares.dtype == dtype and total == expected_total
        np.testing.assert_array_equal(shares, expected_shares)
    weighted = np.ones(23)
    weighted[4] = 2.0
    assert not EpochRunner(
        Layout((2, 1)), X, np.zeros(23), weighted, config, dtype
    ).unit_weights


def _epoch(rule, epoch, loss, validation=None):
    record = {"epoch": epoch, "loss": loss}
    if validation is not None:
        record["validation_score"], record["validation_loss"] = validation
    rule.update(record, np.full(1, float(epoch)))
    return rule.plateaued()


def test_early_stopping_on_the_training_loss():
    """Check that the rule says stop after n_iter_no_change epochs without gain."""
    rule = EarlyStopping(tol=0.1, n_iter_no_change=2, on_validation=False)
    # 1.0 improves on inf; 0.95 and 0.92 are within tol of the best (1.0).
    answers = [_epoch(rule, e, loss) for e, loss in enumerate([1.0, 0.95, 0.92], 1)]
    assert answers == [False, False, True]
    assert rule.stop_reason == "converged"
    theta, kept_loss, best_epoch = rule.kept(np.zeros(1), [{"loss": 0.92}], True)
    assert kept_loss == 0.92 and best_epoch is None


def test_early_stopping_on_validation_keeps_the_best_epoch():
    """Check that the validation rule keeps the best epoch's parameters."""
    rule = EarlyStopping(tol=0.0, n_iter_no_change=2, on_validation=True)
    scores = [(0.5, 1.0), (0.8, 0.7), (0.7, 0.6), (0.8, 0.9)]
    answers = [_epoch(rule, e, 10.0 - e, s) for e, s in enumerate(scores, 1)]
    assert answers == [False, False, False, True]
    assert rule.stop_reason == "early_stopping"
    theta, kept_loss, best_epoch = rule.kept(np.zeros(1), [], True)
    assert best_epoch == 2 and kept_loss == 8.0
    np.testing.assert_array_equal(theta, [2.0])
    # Without the rule (a partial_fit epoch) the last parameters are kept.
    last = np.full(1, 4.0)
    theta, kept_loss, best_epoch = rule.kept(last, [{"loss": 6.0}], False)
    assert theta is last and kept_loss == 6.0 and best_epoch is None


def test_divergence_guard_raises_or_returns():
    """Check each check of the guard on values on both sides of its limit."""
    optimizer = SGDOptimizer(2, np.float64, 0.5)
    guard = DivergenceGuard(1.0, 0.0, optimizer, np.float64)
    guard.check_batch(1, 2.0)  # the first batch sets the starting objective
    assert guard.start_objective == 2.0
    guard.check_batch(1, 0.9 * EXPLOSION_FACTOR)
    with pytest.raises(DivergenceError, match="loss reached"):
        guard.check_batch(1, 1.1 * EXPLOSION_FACTOR)
    with pytest.raises(DivergenceError, match="no longer finite"):
        guard.check_batch(1, np.nan)
    guard.check_epoch(1, np.ones(2), 1.9 * EXPLOSION_FACTOR)
    with pytest.raises(DivergenceError, match="objective reached"):
        guard.check_epoch(1, np.ones(2), 2.1 * EXPLOSION_FACTOR)
    with pytest.raises(DivergenceError, match="weights are no longer finite"):
        guard.check_epoch(1, np.array([1.0, np.inf]), 1.0)
    optimizer.velocity[0] = np.inf
    with pytest.raises(DivergenceError, match="overflow"):
        guard.check_epoch(1, np.ones(2), 1.0)


def test_a_single_batch_is_not_shuffled():
    """Check that an epoch of one batch holding every sample takes no random
    order: with shuffle on or off the dropout masks, drawn from the same
    stream, are the same, so the weights are identical; with several batches
    shuffling still changes them."""
    from sk_weights import MLPWeightsClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)

    def fit(shuffle, batch_size):
        model = MLPWeightsClassifier(
            (8,),
            dropout=0.2,
            batch_size=batch_size,
            shuffle=shuffle,
            max_iter=5,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # five epochs do not converge
            return model.fit(X, y).coefs_

    for ours, theirs in zip(fit(True, 60), fit(False, 60)):
        np.testing.assert_array_equal(ours, theirs)
    several = zip(fit(True, 20), fit(False, 20))
    assert not all(np.array_equal(a, b) for a, b in several)
