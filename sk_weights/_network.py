"""A feed-forward network on plain arrays: initialisation, forward and backward.

All parameters live in one flat vector ``theta`` laid out as
``[W_0, W_1, ..., W_L, b_0, b_1, ..., b_L]``; :class:`Layout` hands out
per-layer views of it, so an optimiser step is a handful of vector operations
and the penalised weights are the contiguous slice ``theta[:n_coefs]``.

A linear model is the network with no hidden layer. Nothing here knows about
scikit-learn estimators: arrays in, arrays out.
"""

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from sk_weights._activations import ACTIVATIONS, DERIVATIVES
from sk_weights._datafits import as_datafit


class Layout:
    """Shapes of a network's weight matrices and bias vectors in a flat vector.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, inputs first and outputs last.
    """

    def __init__(self, layer_sizes):
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.coef_shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        self.n_coefs = sum(n_in * n_out for n_in, n_out in self.coef_shapes)
        self.n_params = self.n_coefs + sum(self.layer_sizes[1:])

    @property
    def n_layers(self):
        """Number of weight matrices."""
        return len(self.coef_shapes)

    def unpack(self, theta):
        """Return lists of weight-matrix and bias views into ``theta``."""
        coefs, intercepts = [], []
        start = 0
        for n_in, n_out in self.coef_shapes:
            coefs.append(theta[start : start + n_in * n_out].reshape(n_in, n_out))
            start += n_in * n_out
        for _, n_out in self.coef_shapes:
            intercepts.append(theta[start : start + n_out])
            start += n_out
        return coefs, intercepts

    def pack(self, coefs, intercepts, dtype=None):
        """Return a new flat vector holding ``coefs`` and ``intercepts``."""
        parts = [np.ravel(c) for c in coefs] + [np.ravel(b) for b in intercepts]
        theta = np.concatenate(parts)
        if theta.size != self.n_params:
            raise ValueError(
                f"Expected {self.n_params} parameters for layers "
                f"{self.layer_sizes}, got {theta.size}."
            )
        return theta.astype(dtype or theta.dtype, copy=False)


def init_parameters(layout, activation, rng, dtype):
    """Draw Glorot-uniform weights and biases for ``layout`` from ``rng``.

    The bound ``sqrt(6 / (n_in + n_out))`` keeps the variance of activations
    roughly constant across layers (Glorot & Bengio, 2010); the logistic
    activation gets the factor 2 they recommend for it.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    parts_w, parts_b = [], []
    for n_in, n_out in layout.coef_shapes:
        bound = np.sqrt(factor / (n_in + n_out))
        parts_w.append(rng.uniform(-bound, bound, size=n_in * n_out))
        parts_b.append(rng.uniform(-bound, bound, size=n_out))
    return np.concatenate(parts_w + parts_b).astype(dtype)


def dropout_mask(rng, shape, rate, dtype, out=None):
    """Return an inverted-dropout mask: 0 with probability ``rate``, else 1/(1-rate).

    Multiplying activations by it keeps their expectation unchanged, so
    prediction uses the network as it is, with nothing dropped. ``out``, if
    given, is filled instead of a new array (``shape`` is then ignored).
    """
    if out is None:
        out = np.empty(shape, dtype=dtype)
    keep = 1.0 - rate
    # A unit is kept when 32 random bits, read as an integer, fall below
    # keep * 2**32: a probability exact to 2**-32 (finer than a float32 draw),
    # and raw bits come twice as fast as uniform floats.
    threshold = np.uint32(min(round(keep * 2**32), 2**32 - 1))
    bits = rng.bit_generator.random_raw((out.size + 1) // 2).view(np.uint32)
    kept = bits[: out.size].reshape(out.shape) < threshold
    return np.multiply(kept, out.dtype.type(1.0 / keep), out=out)


class Workspace:
    """Buffers for the forward and backward passes of one batch size, reused.

    ``activations[0]`` is the (possibly dropped-out) input; ``activations[i]``
    for ``i >= 1`` the output of layer ``i``; ``inputs[i]`` what feeds weight
    matrix ``i``: ``activations[i]``, or for a dropped-out hidden layer its
    thinned copy ``activations[i] * mask`` (kept apart, so that the backward
    pass still has the activation's output for its derivative); ``deltas[i]``
    the gradient of the loss with respect to the pre-activation of layer
    ``i + 1``.
    """

    def __init__(self, layout, n_samples, dtype):
        sizes = layout.layer_sizes
        self.n_samples = n_samples
        self.activations = [None] + [
            np.empty((n_samples, n), dtype=dtype) for n in sizes[1:]
        ]
        self.inputs = [None] * layout.n_layers
        self.deltas = [np.empty((n_samples, n), dtype=dtype) for n in sizes[1:]]
        self.ones = np.ones(n_samples, dtype=dtype)
        self._thinned = [None] * layout.n_layers

    def thinned(self, i):
        """Return the buffer for hidden layer ``i``'s output times its mask."""
        if self._thinned[i] is None:
            self._thinned[i] = np.empty_like(self.activations[i])
        return self._thinned[i]

    def resize(self, n_samples):
        """Return views for a smaller batch (the last batch of an epoch)."""
        if n_samples == self.n_samples:
            return self
        view = object.__new__(Workspace)
        view.n_samples = n_samples
        view.activations = [None] + [a[:n_samples] for a in self.activations[1:]]
        view.inputs = [None] * len(self.inputs)
        view.deltas = [d[:n_samples] for d in self.deltas]
        view.ones = self.ones[:n_samples]
        view._thinned = [None if t is None else t[:n_samples] for t in self._thinned]
        return view


def _matmul(A, W, out):
    """``out = A @ W`` with BLAS writing straight into ``out`` when A is dense."""
    # The array test first: it is a C-level check, where scipy's issparse
    # goes through an abstract base class, at every layer of every batch.
    if isinstance(A, np.ndarray):
        return np.matmul(A, W, out=out)
    out[...] = A @ W
    return out


def forward(
    coefs,
    intercepts,
    X,
    activation,
    output_activation,
    workspace,
    dropout_masks=None,
):
    """Run the forward pass; return the network's output (after its activation).

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        Weight matrices ``(n_in, n_out)`` and bias vectors.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input batch.
    activation, output_activation : str
        Keys of :data:`~sk_weights._activations.ACTIVATIONS`.
    workspace : Workspace
        Buffers sized for ``n_samples``; filled with every layer's output.
    dropout_masks : list of (ndarray or None), optional
        One entry per layer that feeds a weight matrix (the input and each
        hidden layer); the layer's output is multiplied by it (inverted
        dropout). For sparse input the mask is applied to the stored values.
        Each mask holds 0 and one common value, ``1 / (1 - p)``
        (:func:`dropout_mask`).
    """
    n_layers = len(coefs)
    masks = dropout_masks or [None] * n_layers
    if masks[0] is not None:
        X = _drop_input(X, masks[0])
    inputs = workspace.inputs
    workspace.activations[0] = inputs[0] = X
    hidden = ACTIVATIONS[activation]
    for i in range(n_layers):
        out = _matmul(inputs[i], coefs[i], workspace.activations[i + 1])
        out += intercepts[i]
        if i + 1 < n_layers:
            hidden(out)
            mask = masks[i + 1]
            inputs[i + 1] = (
                out
                if mask is None
                else np.multiply(out, mask, out=workspace.thinned(i + 1))
            )
        else:
            ACTIVATIONS[output_activation](out)
    return workspace.activations[-1]


def _drop_input(X, mask):
    """Apply an input dropout mask to a dense or sparse batch (a new array)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        # Dropping a stored zero changes nothing, so one draw per stored value
        # is the same as one per entry.
        X.data *= mask.ravel()[: X.data.size]
        return X
    return X * mask


def backward(
    coefs,
    y,
    sample_weight,
    activation,
    workspace,
    coef_grads,
    intercept_grads,
    dropout_masks=None,
    *,
    datafit,
):
    """Back-propagate the loss gradient; fill ``coef_grads`` and ``intercept_grads``.

    Must follow :func:`forward` on the same ``workspace``. ``sample_weight``
    sums to one over the batch, so the gradients are those of the weighted
    mean loss. The penalty is not included here. ``datafit`` (an object of
    :mod:`~sk_weights._datafits`) gives the gradient of the loss with respect
    to the raw output, from the prediction.
    """
    n_layers = len(coefs)
    masks = dropout_masks or [None] * n_layers
    acts, inputs, deltas = workspace.activations, workspace.inputs, workspace.deltas
    datafit.output_gradient(y, acts[-1], sample_weight, out=deltas[-1])
    derivative = DERIVATIVES[activation]
    for i in range(n_layers - 1, -1, -1):
        # dL/dW_i = a_i^T delta_i and dL/db_i = sum of delta_i over the batch,
        # with a_i what fed W_i in the forward pass.
        if isinstance(inputs[i], np.ndarray):
            np.matmul(inputs[i].T, deltas[i], out=coef_grads[i])
        else:  # sparse input
            coef_grads[i][...] = inputs[i].T @ deltas[i]
        # The sum over the batch as a product with a vector of ones: a BLAS
        # call, several times faster than np.sum along axis 0.
        np.matmul(workspace.ones, deltas[i], out=intercept_grads[i])
        if i > 0:
            # Gradient through W_i, the dropout mask and the activation of layer i.
            np.matmul(deltas[i], coefs[i].T, out=deltas[i - 1])
            if masks[i] is not None:
                deltas[i - 1] *= masks[i]
            derivative(acts[i], deltas[i - 1])
    return coef_grads, intercept_grads


def loss_and_gradient(
    theta,
    layout,
    X,
    y,
    sample_weight,
    *,
    activation,
    loss,
    penalty,
    workspace=None,
    dropout_masks=None,
    grad=None,
):
    """Return the data loss at ``theta`` and write the gradient into ``grad``.

    The returned value is the weighted mean loss only; ``grad`` also holds the
    gradient of the penalty's smooth (L2) part. The L1 part is left to a
    proximal step, and the penalty's value to ``penalty.value``.

    ``loss`` is a datafit of :mod:`~sk_weights._datafits` (or its name in
    ``DATAFITS``): it gives the output activation, the loss and its gradient.
    A loop over many batches at the same ``theta`` and ``grad`` arrays
    builds one :class:`BatchGradient` instead.

    Returns
    -------
    loss : float
        Weighted mean loss of the batch.
    grad : ndarray
        Gradient with respect to ``theta`` (the array passed in, if any).
    """
    if workspace is None:
        workspace = Workspace(layout, X.shape[0], theta.dtype)
    if grad is None:
        grad = np.empty_like(theta)
    batch_gradient = BatchGradient(
        theta, grad, layout, activation=activation, loss=loss, penalty=penalty
    )
    return batch_gradient(X, y, sample_weight, workspace, dropout_masks), grad


class BatchGradient:
    """:func:`loss_and_gradient` for batch after batch at the same two arrays.

    The views of ``theta`` and ``grad`` (one per weight matrix and bias
    vector) and the datafit are made once here, not at every batch: a few
    microseconds a batch, which is much of a small network's step. ``theta``
    may change in place between calls (an optimiser's step); each call writes
    the gradient at its current values into ``grad``.

    Parameters
    ----------
    theta, grad : ndarray of shape (layout.n_params,)
        The parameters, and the array the gradient is written into.
    layout : Layout
    activation : str
        Key of :data:`~sk_weights._activations.ACTIVATIONS` for hidden layers.
    loss : datafit or str
        See :func:`loss_and_gradient`.
    penalty : ElasticNetPenalty
        Its smooth (L2) part's gradient is added to the weights' gradient.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_weights._network import BatchGradient, Layout, Workspace
    >>> from sk_weights._penalties import ElasticNetPenalty
    >>> layout = Layout((2, 3, 1))
    >>> theta, grad = np.full(layout.n_params, 0.1), np.empty(layout.n_params)
    >>> step = BatchGradient(theta, grad, layout, activation="relu",
    ...                      loss="squared_error", penalty=ElasticNetPenalty())
    >>> X, y = np.ones((4, 2)), np.ones((4, 1))
    >>> loss = step(X, y, np.full(4, 0.25), Workspace(layout, 4, theta.dtype))
    >>> # Each hidden unit gives 0.3, the output 0.19: half of (1 - 0.19)**2.
    >>> round(loss, 6), grad.shape
    (0.32805, (13,))
    """

    def __init__(self, theta, grad, layout, *, activation, loss, penalty):
        self.coefs, self.intercepts = layout.unpack(theta)
        self.coef_grads, self.intercept_grads = layout.unpack(grad)
        self.weights = theta[: layout.n_coefs]
        self.weight_grads = grad[: layout.n_coefs]
        self.activation, self.penalty = activation, penalty
        self.datafit = as_datafit(loss)

    def __call__(self, X, y, sample_weight, workspace, dropout_masks=None):
        """Return the batch's weighted mean data loss; fill the gradient.

        ``sample_weight`` sums to one over the batch; ``workspace`` is sized
        for it (:meth:`Workspace.resize`).
        """
        prediction = forward(
            self.coefs,
            self.intercepts,
            X,
            self.activation,
            self.datafit.output_activation,
            workspace,
            dropout_masks,
        )
        value = self.datafit.loss(y, prediction, sample_weight)
        backward(
            self.coefs,
            y,
            sample_weight,
            self.activation,
            workspace,
            self.coef_grads,
            self.intercept_grads,
            dropout_masks,
            datafit=self.datafit,
        )
        self.penalty.add_gradient(self.weights, self.weight_grads)
        return value


#: Rows per block of :func:`predict`: bounds the memory of the hidden
#: activations whatever the number of samples, with GEMMs still large.
PREDICT_BATCH = 4096


def predict(coefs, intercepts, X, activation, output_activation, batch_size=None):
    """Return the network's output on ``X`` (no dropout), in row blocks.

    The blocks hold ``batch_size`` rows (default :data:`PREDICT_BATCH`) and
    share one :class:`Workspace`, so the memory beyond the result,
    ``(n_samples, n_outputs)`` in the weights' dtype, is O(batch_size x the
    widest layer) whatever the number of samples.
    """
    n_samples = X.shape[0]
    batch_size = max(1, min(batch_size or PREDICT_BATCH, n_samples))
    dtype = coefs[0].dtype
    layout = Layout([coefs[0].shape[0], *(b.size for b in intercepts)])
    output = np.empty((n_samples, layout.layer_sizes[-1]), dtype=dtype)
    workspace = Workspace(layout, batch_size, dtype)
    for start in range(0, n_samples, batch_size):
        stop = min(start + batch_size, n_samples)
        output[start:stop] = forward(
            coefs,
            intercepts,
            X[start:stop],
            activation,
            output_activation,
            workspace.resize(stop - start),
        )
    return output


def connection_weights(coefs):
    """Return ``coefs[0] @ coefs[1] @ ... @ coefs[-1]``, shape (n_inputs, n_outputs).

    Olden's connection weights: entry (j, k) sums, over every path from input
    j to output k, the product of the weights on it. Exact for a linear
    network, a summary that ignores the activations otherwise.
    """
    return functools.reduce(np.matmul, coefs)


def weight_statistics(coefs):
    """Return the L2 (Frobenius) norm and the share of zeros of each weight matrix.

    Two tuples of floats, one entry per weight matrix; the sums of squares are
    accumulated in float64, so float32 weights cannot overflow them.
    """
    norms, zero_fractions = [], []
    for coef in coefs:
        flat = coef.ravel()
        if flat.dtype == np.float64:
            square_sum = flat @ flat  # a BLAS dot, cheaper than einsum
        else:
            square_sum = np.einsum("i,i->", flat, flat, dtype=np.float64)
        norms.append(float(np.sqrt(square_sum)))
        zero_fractions.append((flat.size - np.count_nonzero(flat)) / flat.size)
    return tuple(norms), tuple(zero_fractions)


@dataclass(frozen=True)
class FittedNetwork:
    """A fitted estimator seen as the network it computes, for the inspection tools.

    ``coefs`` and ``intercepts`` as in :func:`forward`; ``dropout_rates`` has one
    rate per layer that feeds a weight matrix (the input first), as in training.
    The output is ``output_activation`` applied to the last layer: the
    prediction of a regressor, the probabilities of a classifier.
    """

    coefs: list
    intercepts: list
    activation: str
    output_activation: str
    dropout_rates: tuple

    @property
    def layout(self):
        """The :class:`Layout` of these weights."""
        return Layout([self.coefs[0].shape[0], *(b.size for b in self.intercepts)])


def input_gradient(
    coefs, activation, workspace, output_index, out=None, derivatives=None
):
    """Return the gradient of one raw output with respect to the input, per row.

    Must follow :func:`forward` on the same ``workspace`` (without dropout),
    as :func:`backward` does; the output activation is not differentiated, so
    the gradient is that of the last layer's pre-activation: the prediction of
    a regressor, the logit of a classifier. Successive calls with different
    ``output_index`` reuse the same forward pass.

    Parameters
    ----------
    coefs : list of ndarray
        Weight matrices ``(n_in, n_out)``.
    activation : str
        Key of :data:`~sk_weights._activations.DERIVATIVES` (hidden layers).
    workspace : Workspace
        Holds the forward pass; its ``deltas`` are overwritten.
    output_index : int
        Which output unit to differentiate.
    out : ndarray of shape (n_samples, n_features), optional
        Where to write the gradient.
    derivatives : list of ndarray, optional
        One array per hidden layer, shaped like its output, used instead of
        the activation's derivative at the forward pass's point (integrated
        gradients pass relu's on/off mask averaged over a step of the path).

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        Row ``i`` is the gradient of output ``output_index`` at input row ``i``.
    """
    deltas = workspace.deltas
    # d output_k / d pre-activation of the last layer: the k-th unit vector.
    deltas[-1].fill(0)
    deltas[-1][:, output_index] = 1
    derivative = DERIVATIVES[activation]
    for i in range(len(coefs) - 1, 0, -1):
        np.matmul(deltas[i], coefs[i].T, out=deltas[i - 1])
        if derivatives is None:
            derivative(workspace.activations[i], deltas[i - 1])
        else:
            deltas[i - 1] *= derivatives[i - 1]
    if out is None:
        out = np.empty((deltas[0].shape[0], coefs[0].shape[0]), deltas[0].dtype)
    return np.matmul(deltas[0], coefs[0].T, out=out)
