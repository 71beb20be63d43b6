"""Activation functions and their derivatives, as in-place NumPy functions.

Each entry of :data:`ACTIVATIONS` maps an option name to a function that
overwrites its argument with the activation of it. Each entry of
:data:`DERIVATIVES` multiplies a back-propagated gradient ``delta`` in place by
the derivative of the activation, expressed through the activation's *output*
``Z`` (which is what the forward pass keeps). Adding an activation is one
function in each dictionary.
"""

import numpy as np
from scipy.special import expit


def identity(X):
    """Leave ``X`` unchanged (the activation of a linear unit)."""
    return X


def logistic(X):
    """Apply the logistic sigmoid ``1 / (1 + exp(-x))`` in place."""
    return expit(X, out=X)


def tanh(X):
    """Apply the hyperbolic tangent in place."""
    return np.tanh(X, out=X)


def relu(X):
    """Apply the rectified linear unit ``max(x, 0)`` in place."""
    # Against a row of zeros rather than the scalar 0: NumPy vectorises the
    # maximum of two arrays but not that of an array and a broadcast scalar,
    # which is twice as slow.
    return np.maximum(X, np.zeros(X.shape[-1], X.dtype), out=X)


def softmax(X):
    """Apply the row-wise softmax in place, shifted by the row maximum for safety."""
    # Row maxima picked through argmax and row sums as a product with ones:
    # NumPy's max and sum along a short axis cost several times more.
    rows = np.arange(X.shape[0])
    X -= X[rows, X.argmax(axis=1)][:, np.newaxis]
    np.exp(X, out=X)
    X /= (X @ np.ones(X.shape[1], X.dtype))[:, np.newaxis]
    return X


def exp(X):
    """Apply ``exp(x)`` in place: the output of a log link."""
    return np.exp(X, out=X)


def identity_derivative(Z, delta):
    """Multiply ``delta`` by the identity's derivative, 1."""
    return delta


def logistic_derivative(Z, delta):
    """Multiply ``delta`` in place by ``z * (1 - z)``, the sigmoid's derivative."""
    delta *= Z
    delta *= 1 - Z
    return delta


def tanh_derivative(Z, delta):
    """Multiply ``delta`` in place by ``1 - z**2``, the tanh's derivative."""
    delta *= 1 - Z**2
    return delta


def relu_derivative(Z, delta):
    """Zero ``delta`` in place where the unit was inactive (``z == 0``)."""
    # Multiplying by the boolean mask is several times faster than assigning
    # through it (``delta[Z == 0] = 0``), which goes through fancy indexing.
    delta *= Z > 0
    return delta


ACTIVATIONS = {
    "identity": identity,
    "logistic": logistic,
    "tanh": tanh,
    "relu": relu,
    "softmax": softmax,
    "exp": exp,
}

DERIVATIVES = {
    "identity": identity_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
}

#: The activations a hidden layer may use (softmax and exp only end a network).
HIDDEN_ACTIVATIONS = tuple(DERIVATIVES)
