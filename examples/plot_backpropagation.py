"""
Backpropagation: the gradient of every weight of a network
==========================================================

A multi-layer perceptron stacks weight matrices: ``h = tanh(X W0 + b0)``
feeds ``p = softmax(h W1 + b1)``. To learn, it needs the gradient of the loss
with respect to every entry of every matrix. Backpropagation gets them all in
one backward sweep: the error at the output is passed back through the
transposed weights, layer by layer, and multiplied by each activation's
slope on the way.

We train :class:`~sk_weights.MLPWeightsClassifier` on the iris flowers, redo
its forward pass and its backward pass by hand, and check the gradients the
package computes against finite differences.

The check calls ``sk_weights._network.loss_and_gradient``, a private function
(its name starts with an underscore and it may change without notice). It is
used here to teach: it is the very function the estimators train with, it
takes and returns plain arrays, and the package's tests check it the same
way.
"""

# %%
# A network with one hidden layer
# -------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
Y = np.eye(3)[y]  # one column per class: the targets of the softmax
alpha = 1e-3

model = MLPWeightsClassifier(
    hidden_layer_sizes=(5,),
    activation="tanh",
    alpha=alpha,
    learning_rate_init=0.02,
    max_iter=300,
    random_state=0,
).fit(X, y)
print("weight matrices:", [W.shape for W in model.coefs_])
print("bias vectors:   ", [b.shape for b in model.intercepts_])
print(f"training accuracy: {model.score(X, y):.3f}")

# %%
# The forward pass by hand
# ------------------------
# Inputs times the first matrix, plus the bias, through ``tanh``; then the
# second matrix and the softmax. The result is ``predict_proba``.
W0, W1 = model.coefs_
b0, b1 = model.intercepts_


def forward(W0, b0, W1, b1):
    """Return the hidden activations and the class probabilities."""
    hidden = np.tanh(X @ W0 + b0)
    scores = hidden @ W1 + b1
    scores -= scores.max(axis=1, keepdims=True)  # exp() stays finite
    proba = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return hidden, proba


hidden, proba = forward(W0, b0, W1, b1)
print("same probabilities:", np.allclose(proba, model.predict_proba(X)))

# %%
# The backward pass by hand
# -------------------------
# The objective is the mean cross-entropy plus ``alpha/2 · ΣW²``. For softmax
# and cross-entropy the error at the output scores is simply ``(p − Y) / n``.
# The gradient of a weight matrix is its layer's input, transposed, times
# the error at its output; the error is passed back through ``W1ᵀ`` and
# multiplied by the slope of ``tanh``, ``1 − h²``.
n_samples = X.shape[0]
error_out = (proba - Y) / n_samples
grad_W1 = hidden.T @ error_out + alpha * W1
grad_b1 = error_out.sum(axis=0)
error_hidden = (error_out @ W1.T) * (1 - hidden**2)
grad_W0 = X.T @ error_hidden + alpha * W0
grad_b0 = error_hidden.sum(axis=0)
print("largest gradient entry after training:", np.abs(grad_W0).max().round(5))

# %%
# The package's gradient, checked by finite differences
# -----------------------------------------------------
# The network's parameters live in one flat vector ``theta`` (all the
# matrices, then all the biases). ``loss_and_gradient`` returns the mean loss
# and writes the gradient; the penalty's value is added separately. The check
# moves one parameter at a time by ``±ε`` and compares the slope of the
# objective with the gradient. We do it at a fresh random start, where the
# gradients are large, and at the trained weights.
from sk_weights._network import Layout, init_parameters, loss_and_gradient
from sk_weights._penalties import ElasticNetPenalty

layout = Layout([4, 5, 3])
penalty = ElasticNetPenalty(l2=alpha)
weights = np.full(n_samples, 1 / n_samples)


def objective_and_gradient(theta):
    value, grad = loss_and_gradient(
        theta,
        layout,
        X,
        Y,
        weights,
        activation="tanh",
        loss="log_loss",
        penalty=penalty,
    )
    return value + penalty.value(theta[: layout.n_coefs]), grad.copy()


def finite_differences(theta, eps=1e-6):
    steps = eps * np.eye(theta.size)
    return np.array(
        [
            objective_and_gradient(theta + step)[0]
            - objective_and_gradient(theta - step)[0]
            for step in steps
        ]
    ) / (2 * eps)


theta_start = init_parameters(layout, "tanh", np.random.default_rng(0), np.float64)
theta_trained = layout.pack(model.coefs_, model.intercepts_)
checks = {}
for name, theta in [("random start", theta_start), ("trained", theta_trained)]:
    _, analytic = objective_and_gradient(theta)
    numeric = finite_differences(theta)
    checks[name] = (analytic, numeric)
    error = np.abs(analytic - numeric).max() / np.abs(numeric).max()
    print(f"{name:>12s}: {theta.size} parameters, relative error {error:.1e}")

# %%
# The hand-written backward pass agrees with the package too:
_, package_grad = objective_and_gradient(theta_trained)
by_hand = layout.pack([grad_W0, grad_W1], [grad_b0, grad_b1])
print("hand-written = package:", np.allclose(by_hand, package_grad))

# %%
# The weights and their gradients, layer by layer
# -----------------------------------------------
# Top: the 4×5 matrix from the inputs to the hidden units; bottom: the 5×3
# matrix from the hidden units to the classes. The random start (Glorot's
# uniform initialisation, drawn from ``random_state``) has no structure; its
# gradient shows which weights the first update moves most, and in which
# direction (an update goes against the gradient); training leaves larger
# weights with a pattern: the petal measurements (inputs 2 and 3) drive the
# hidden units most.
(start_W0, start_W1), _ = layout.unpack(theta_start)
(grad_start_W0, grad_start_W1), _ = layout.unpack(checks["random start"][0])
columns = [
    ("random start", [start_W0, start_W1]),
    ("gradient at the start", [grad_start_W0, grad_start_W1]),
    ("after training", [W0, W1]),
]
fig, axes = plt.subplots(2, 3, figsize=(11, 6), layout="constrained")
for col, (title, matrices) in enumerate(columns):
    for row, matrix in enumerate(matrices):
        ax = axes[row, col]
        limit = np.abs(matrix).max()
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(f"{title}\nW{row} {matrix.shape[0]}×{matrix.shape[1]}")
        ax.set_xlabel("to unit")
        ax.set_ylabel("from unit" if row else "from input")

# %%
# Every parameter's gradient against its finite difference: the points lie
# on the diagonal.
fig, ax = plt.subplots(figsize=(5, 4.6), layout="constrained")
for name, (analytic, numeric) in checks.items():
    ax.scatter(numeric, analytic, s=14, label=name)
line = np.abs(checks["random start"][1]).max()
ax.plot([-line, line], [-line, line], color="black", linewidth=0.8)
ax.set(
    xlabel="finite difference",
    ylabel="backpropagation (loss_and_gradient)",
    title="Gradient check, all 43 parameters",
)
ax.legend()
plt.show()
