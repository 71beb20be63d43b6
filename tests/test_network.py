"""Tests of the network core: layout, initialisation, forward and backward passes."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes, load_iris

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor
from sk_weights._activations import HIDDEN_ACTIVATIONS
from sk_weights._network import (
    BatchGradient,
    Layout,
    Workspace,
    dropout_mask,
    forward,
    init_parameters,
    input_gradient,
    loss_and_gradient,
    predict,
)
from sk_weights._penalties import ElasticNetPenalty

PENALTIES = {
    "none": ElasticNetPenalty(),
    "l2": ElasticNetPenalty(l2=0.3),
    # Only the smooth part enters the gradient; the L1 part is a proximal step.
    "elasticnet": ElasticNetPenalty(l1=0.2, l2=0.1),
}


def _problem(loss, seed=0, n=9, d=4, k=3):
    """A small float64 problem for ``loss``: X, targets and normalised weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    labels = rng.integers(0, 2 if loss == "binary_log_loss" else k, size=n)
    if loss == "binary_log_loss":
        y = labels.astype(float).reshape(-1, 1)
    else:
        y = np.eye(k)[labels]
    weights = rng.uniform(0.0, 3.0, size=n)
    weights[0] = 0.0  # a weight-0 sample must not contribute either
    return X, y, weights / weights.sum()


def _objective(theta, layout, X, y, weights, activation, loss, penalty, masks=None):
    """Data loss plus the smooth part of the penalty, the function differentiated."""
    value, _ = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights,
        activation=activation,
        loss=loss,
        penalty=penalty,
        dropout_masks=masks,
    )
    w = theta[: layout.n_coefs]
    return value + 0.5 * penalty.l2 * float(w @ w)


def _central_differences(f, theta, eps=1e-6):
    """Gradient of ``f`` at ``theta`` by central differences."""
    grad = np.empty_like(theta)
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = eps
        grad[j] = (f(theta + step) - f(theta - step)) / (2 * eps)
    return grad


@pytest.mark.parametrize("loss", ["binary_log_loss", "log_loss"])
@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backward_pass_matches_finite_differences(activation, penalty, loss):
    """Check that the full backward pass is the gradient of loss + smooth penalty."""
    X, y, weights = _problem(loss)
    layout = Layout([X.shape[1], 5, 4, y.shape[1]])
    rng = np.random.default_rng(1)
    # Moderate weights keep every probability far from the loss's clipping.
    theta = rng.normal(scale=0.5, size=layout.n_params)
    args = (layout, X, y, weights, activation, loss, PENALTIES[penalty])

    _, analytic = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights,
        activation=activation,
        loss=loss,
        penalty=PENALTIES[penalty],
    )
    numeric = _central_differences(lambda t: _objective(t, *args), theta)
    if activation == "relu":
        # A finite difference across a kink would be meaningless: make sure
        # no pre-activation is within reach of one.
        coefs, intercepts = layout.unpack(theta)
        z1 = X @ coefs[0] + intercepts[0]
        z2 = np.maximum(z1, 0) @ coefs[1] + intercepts[1]
        assert min(np.abs(z1).min(), np.abs(z2).min()) > 1e-4
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # The bias entries of the gradient carry no penalty.
    unpenalised = PENALTIES["none"]
    _, plain = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights,
        activation=activation,
        loss=loss,
        penalty=unpenalised,
    )
    np.testing.assert_array_equal(analytic[layout.n_coefs :], plain[layout.n_coefs :])


@pytest.mark.parametrize("loss", ["binary_log_loss", "log_loss"])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_backward_pass_with_dropout_masks_matches_finite_differences(activation, loss):
    """Check the gradient of the network thinned by fixed hidden dropout masks.

    The derivatives are written through the activations' outputs, which the
    masks scale by 1 / (1 - p): the backward pass must take them from the
    outputs before the mask.
    """
    X, y, weights = _problem(loss, seed=3)
    layout = Layout([X.shape[1], 6, 5, y.shape[1]])
    rng = np.random.default_rng(4)
    theta = rng.normal(scale=0.5, size=layout.n_params)
    masks = [
        None,
        dropout_mask(rng, (X.shape[0], 6), 0.5, np.dtype(np.float64)),
        dropout_mask(rng, (X.shape[0], 5), 0.3, np.dtype(np.float64)),
    ]
    penalty = PENALTIES["l2"]
    args = (layout, X, y, weights, activation, loss, penalty, masks)
    _, analytic = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights,
        activation=activation,
        loss=loss,
        penalty=penalty,
        dropout_masks=masks,
    )
    numeric = _central_differences(lambda t: _objective(t, *args), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_batch_gradient_follows_the_parameters_it_was_built_on():
    """Check that a reused BatchGradient gives the gradient at theta's new values.

    It holds views of theta and grad: after theta changes in place (as an
    optimiser's step changes it), a call must give what a fresh
    loss_and_gradient gives at the new values.
    """
    layout = Layout((4, 5, 3))
    rng = np.random.default_rng(0)
    theta = init_parameters(layout, "tanh", rng, np.float64)
    grad = np.empty_like(theta)
    X = rng.normal(size=(6, 4))
    y = np.eye(3)[rng.integers(3, size=6)]
    weights = np.full(6, 1 / 6)
    penalty = ElasticNetPenalty(l2=0.1)
    step = BatchGradient(
        theta, grad, layout, activation="tanh", loss="log_loss", penalty=penalty
    )
    for _ in range(3):
        loss = step(X, y, weights, Workspace(layout, 6, np.float64))
        expected_loss, expected = loss_and_gradient(
            theta.copy(),
            layout,
            X,
            y,
            weights,
            activation="tanh",
            loss="log_loss",
            penalty=penalty,
        )
        assert loss == expected_loss
        np.testing.assert_array_equal(grad, expected)
        theta -= 0.5 * grad


def test_loss_is_the_weighted_mean_cross_entropy():
    """Check the returned loss against the cross-entropy computed by hand."""
    X, y, weights = _problem("log_loss", seed=5)
    layout = Layout([X.shape[1], 3, y.shape[1]])
    theta = np.random.default_rng(6).normal(size=layout.n_params)
    value, _ = loss_and_gradient(
        theta,
        layout,
        X,
        y,
        weights,
        activation="logistic",
        loss="log_loss",
        penalty=ElasticNetPenalty(),
    )
    (W0, W1), (b0, b1) = layout.unpack(theta)
    hidden = 1 / (1 + np.exp(-(X @ W0 + b0)))
    logits = hidden @ W1 + b1
    log_proba = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -float(weights @ (y * log_proba).sum(axis=1))
    assert value == pytest.approx(expected, rel=1e-12)


def test_layout_round_trip_and_views():
    """Check that pack and unpack are inverse and unpack returns views."""
    layout = Layout([3, 4, 2])
    assert layout.coef_shapes == [(3, 4), (4, 2)]
    assert layout.n_coefs == 3 * 4 + 4 * 2
    assert layout.n_params == layout.n_coefs + 4 + 2
    theta = np.arange(layout.n_params, dtype=float)
    coefs, intercepts = layout.unpack(theta)
    np.testing.assert_array_equal(layout.pack(coefs, intercepts), theta)
    coefs[1][0, 0] = -1.0
    assert theta[12] == -1.0


def test_glorot_initialisation_bounds_and_reproducibility():
    """Check the Glorot bounds per layer and that one seed gives one draw."""
    layout = Layout([50, 30, 10])
    theta = init_parameters(layout, "relu", np.random.default_rng(0), np.float32)
    assert theta.dtype == np.float32
    coefs, intercepts = layout.unpack(theta)
    for (n_in, n_out), W, b in zip(layout.coef_shapes, coefs, intercepts):
        bound = np.sqrt(6 / (n_in + n_out))
        assert np.abs(W).max() <= bound
        assert np.abs(b).max() <= bound
        # Uniform on [-bound, bound]: the draws fill the interval.
        assert np.abs(W).max() > 0.9 * bound
    again = init_parameters(layout, "relu", np.random.default_rng(0), np.float32)
    np.testing.assert_array_equal(theta, again)
    logistic = init_parameters(layout, "logistic", np.random.default_rng(0), float)
    assert np.abs(layout.unpack(logistic)[0][0]).max() <= np.sqrt(2 / 80)


def test_dropout_mask_is_inverted_dropout():
    """Check that masks hold 0 or 1/(1-p), drop a share p and keep the mean at 1."""
    rng = np.random.default_rng(0)
    mask = dropout_mask(rng, (200, 500), 0.3, np.dtype(np.float64))
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert abs((mask == 0).mean() - 0.3) < 0.01
    assert abs(mask.mean() - 1.0) < 0.01


def test_sparse_forward_equals_dense():
    """Check that a CSR input gives the dense input's outputs (first layer sparse)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 6)) * (rng.random((20, 6)) < 0.3)
    layout = Layout([6, 5, 3])
    theta = rng.normal(size=layout.n_params)
    coefs, intercepts = layout.unpack(theta)
    dense = predict(coefs, intercepts, X, "relu", "softmax")
    sparse = predict(coefs, intercepts, sp.csr_matrix(X), "relu", "softmax")
    np.testing.assert_allclose(sparse, dense, rtol=1e-12)


def test_workspace_resize_gives_views_for_a_smaller_batch():
    """Check that the last, smaller batch reuses the buffers of the full batch."""
    layout = Layout([4, 3, 2])
    workspace = Workspace(layout, 10, np.float64)
    small = workspace.resize(7)
    assert small.activations[1].shape == (7, 3)
    assert np.shares_memory(small.activations[1], workspace.activations[1])
    rng = np.random.default_rng(0)
    theta = rng.normal(size=layout.n_params)
    X = rng.normal(size=(7, 4))
    coefs, intercepts = layout.unpack(theta)
    out = forward(coefs, intercepts, X, "tanh", "softmax", small)
    np.testing.assert_allclose(out, predict(coefs, intercepts, X, "tanh", "softmax"))


@pytest.mark.parametrize("batch_size", [1, 7, 20, 64])
def test_predict_in_row_blocks_equals_one_forward_pass(batch_size):
    """Check that predict's row blocks give the outputs of one forward pass."""
    rng = np.random.default_rng(1)
    layout = Layout([4, 6, 3])
    coefs, intercepts = layout.unpack(rng.normal(size=layout.n_params))
    X = rng.normal(size=(20, 4))
    # The reference: the textbook forward pass, written out.
    hidden = np.tanh(X @ coefs[0] + intercepts[0])
    logits = hidden @ coefs[1] + intercepts[1]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    output = predict(coefs, intercepts, X, "tanh", "softmax", batch_size=batch_size)
    assert output.shape == (20, 3)
    np.testing.assert_allclose(output, expected, rtol=1e-12)


def _fitted(kind):
    """A small fitted estimator, its expected network output and dropout rates."""
    if kind.startswith("linear"):
        X, y = load_diabetes(return_X_y=True)
        if kind == "linear_two_targets":
            y = np.column_stack([y, -2 * y])
        model = WeightedLinearRegressor(
            penalty="l1", alpha=0.5, dropout=0.1, max_iter=5, random_state=0
        ).fit(X, y)
        return model, X, model.predict(X).reshape(len(X), -1), (0.1,)
    X, y = load_iris(return_X_y=True)
    if kind == "mlp_binary":
        y = y == 1
    model = MLPWeightsClassifier(
        hidden_layer_sizes=(5, 4), dropout=[0.2, 0.3], max_iter=5, random_state=0
    ).fit(X, y)
    proba = model.predict_proba(X)
    return model, X, proba[:, 1:] if kind == "mlp_binary" else proba, (0.0, 0.2, 0.3)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::sk_weights.PoorFitWarning")
@pytest.mark.parametrize(
    "kind", ["linear", "linear_two_targets", "mlp_binary", "mlp_multiclass"]
)
def test_fitted_network_computes_the_estimators_outputs(kind):
    """Check that an estimator seen as a network predicts what it predicts.

    The forward pass through ``_fitted_network()`` must give ``predict`` for the
    linear model and ``predict_proba`` for the classifier, and carry the
    dropout rates of training.
    """
    model, X, expected, rates = _fitted(kind)
    network = model._fitted_network()
    dtype = network.coefs[0].dtype
    output = forward(
        network.coefs,
        network.intercepts,
        X.astype(dtype),
        network.activation,
        network.output_activation,
        Workspace(network.layout, len(X), dtype),
    )
    np.testing.assert_allclose(output, expected, rtol=1e-12, atol=1e-12)
    assert network.dropout_rates == rates


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_input_gradient_matches_finite_differences(activation):
    """Check the gradient of each raw output with respect to the input, per row.

    The raw output is the last layer before its activation (a classifier's
    logits); central differences of the forward pass give the truth.
    """
    rng = np.random.default_rng(0)
    layout = Layout([4, 6, 5, 3])
    coefs, intercepts = layout.unpack(rng.normal(scale=0.7, size=layout.n_params))
    X = rng.normal(size=(7, 4))

    def raw_output(X):
        workspace = Workspace(layout, len(X), np.float64)
        return forward(coefs, intercepts, X, activation, "identity", workspace).copy()

    if activation == "relu":  # keep every pre-activation away from the kink
        z = X @ coefs[0] + intercepts[0]
        assert np.abs(z).min() > 1e-4
        z = np.maximum(z, 0) @ coefs[1] + intercepts[1]
        assert np.abs(z).min() > 1e-4
    workspace = Workspace(layout, len(X), np.float64)
    forward(coefs, intercepts, X, activation, "softmax", workspace)
    eps = 1e-6
    for k in range(3):
        analytic = input_gradient(coefs, activation, workspace, k)
        numeric = np.empty_like(X)
        for j in range(4):
            step = np.zeros(4)
            step[j] = eps
            numeric[:, j] = (
                raw_output(X + step)[:, k] - raw_output(X - step)[:, k]
            ) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared_error", "binary_log_loss"])
def test_several_outputs_gradient_matches_finite_differences(loss):
    """Check the gradient of a hidden-layer network with three outputs.

    ``squared_error``: the multi-output regressor's identity outputs;
    ``binary_log_loss``: multilabel, one logistic output per label, the loss
    summed over the labels.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 4))
    if loss == "squared_error":
        y = rng.normal(size=(9, 3))
    else:
        y = rng.integers(0, 2, size=(9, 3)).astype(float)
    weights = rng.uniform(0.1, 2.0, size=9)
    weights /= weights.sum()
    layout = Layout([4, 5, 3])
    theta = rng.normal(scale=0.5, size=layout.n_params)
    penalty = PENALTIES["l2"]

    _, analytic = loss_and_gradient(
        theta, layout, X, y, weights, activation="tanh", loss=loss, penalty=penalty
    )
    args = (layout, X, y, weights, "tanh", loss, penalty)
    numeric = _central_differences(lambda t: _objective(t, *args), theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
