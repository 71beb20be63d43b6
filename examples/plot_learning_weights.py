"""
How weights are learned: gradient descent, epoch by epoch
=========================================================

Training starts from some initial weights and repeats four steps: a
**forward pass** computes the predictions, the **loss** measures their error,
the **gradient** ``∇L(w)`` says how the loss changes with each weight, and
the **update** ``w ← w − η ∇L(w)`` moves the weights a little downhill, by
a step the **learning rate** ``η`` scales.

We watch :class:`~sk_weights.WeightedLinearRegressor` do exactly this on a
model with two weights, one epoch per
:meth:`~sk_weights.WeightedLinearRegressor.partial_fit` call, for a learning
rate that is too small, one that is right and one that is too large, and we
read the error the divergence guard raises when the weights blow up.
"""

# %%
# A problem with two weights
# --------------------------
# Two correlated inputs, centred so that no bias is needed; the loss is the
# mean squared error ``L(w) = mean((y − Xw)²) / 2``.
import matplotlib.pyplot as plt
import numpy as np

from sk_weights import WeightedLinearRegressor

rng = np.random.default_rng(0)
n_samples = 100
X = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=n_samples)
X -= X.mean(axis=0)
y = X @ np.array([2.0, -1.0]) + rng.normal(scale=0.5, size=n_samples)
y -= y.mean()


def loss(w):
    """The objective at weights ``w`` (one row of weights per point)."""
    residuals = y[:, None] - X @ np.atleast_2d(w).T
    return 0.5 * np.mean(residuals**2, axis=0)


# The exact minimiser, from the deterministic full-batch solver.
best = WeightedLinearRegressor(penalty=None, fit_intercept=False).fit(X, y)
w_star, loss_star = best.coef_, loss(best.coef_)[0]
print("optimal weights:", w_star.round(4))

# %%
# Plain gradient descent, one epoch per call
# ------------------------------------------
# With ``solver="sgd"``, ``momentum=0`` and one mini-batch holding every
# sample, an epoch is a single update ``w ← w − η ∇L(w)`` from the current
# weights. The linear model starts from ``w = 0`` (its loss is convex, so any
# start leads to the same optimum; a network starts from random weights, see
# the next example). Gradient descent is stable only while ``η`` is below
# ``2 / λ``, with ``λ`` the largest curvature of the loss (the largest
# eigenvalue of ``XᵀX / n``).
curvature = np.linalg.eigvalsh(X.T @ X / n_samples).max()
rates = {
    "too small (η = 0.1/λ)": 0.1 / curvature,
    "right (η = 1/λ)": 1.0 / curvature,
    "too large (η = 2.2/λ)": 2.2 / curvature,
}


def gradient_descent(learning_rate, n_epochs):
    """Return the model, its weights after each epoch and the error, if any."""
    model = WeightedLinearRegressor(
        penalty=None,
        fit_intercept=False,
        solver="sgd",
        learning_rate_init=learning_rate,
        momentum=0.0,
        batch_size=n_samples,
        shuffle=False,
    )
    path = [np.zeros(2)]
    for _ in range(n_epochs):
        try:
            model.partial_fit(X, y)
        except ValueError as error:
            return model, np.array(path), error
        path.append(model.coef_.copy())
    return model, np.array(path), None


# 60 epochs are plenty to watch; the large rate runs until it breaks down.
runs = {
    label: gradient_descent(rate, 60 if rate < 2 / curvature else 5000)
    for label, rate in rates.items()
}

# %%
# The package's update is the textbook one: ten steps of the same rule
# written in NumPy land on the same weights.
w = np.zeros(2)
for _ in range(10):
    gradient = -X.T @ (y - X @ w) / n_samples
    w = w - rates["right (η = 1/λ)"] * gradient
print("by hand after 10 epochs:", w)
print("partial_fit after 10:   ", runs["right (η = 1/λ)"][1][10])

# %%
# The weights moving over the loss surface
# ----------------------------------------
# Each panel shows the contours of ``L(w)`` and the first epochs of one run.
# Too small a rate crawls along the valley; the right one gets there in a few
# steps; too large a rate overshoots further at every step.
grid_1, grid_2 = np.meshgrid(np.linspace(-3, 5, 120), np.linspace(-4, 4, 120))
surface = loss(np.column_stack([grid_1.ravel(), grid_2.ravel()]))
surface = surface.reshape(grid_1.shape)

fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
for ax, (label, (_, path, _)) in zip(axes, runs.items()):
    ax.contour(grid_1, grid_2, surface, levels=np.geomspace(0.13, 12, 12), cmap="Greys")
    shown = path[:15]
    ax.plot(shown[:, 0], shown[:, 1], "o-", color="C3", markersize=3)
    ax.plot(*w_star, "*", color="C0", markersize=12)
    ax.set(title=label, xlabel="w1", ylabel="w2", xlim=(-3, 5), ylim=(-4, 4))
fig.suptitle("First 15 epochs of gradient descent (star: the optimum)")

# %%
# The recorded history
# --------------------
# Every epoch appends the objective to ``loss_curve_`` (it keeps growing over
# successive ``partial_fit`` calls). On the left, the two weights of the good
# run approach the optimum; on the right, the distance of the loss to its
# minimum falls geometrically for the two stable rates and grows for the
# large one.
fig, (ax_w, ax_loss) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
model, path, _ = runs["right (η = 1/λ)"]
for j in range(2):
    ax_w.plot(path[:60, j], color=f"C{j}", label=f"w{j + 1}")
    ax_w.axhline(w_star[j], color=f"C{j}", linestyle="--", linewidth=1)
ax_w.set(xlabel="epoch", ylabel="weight", title="Weights, η = 1/λ (dashed: optimum)")
ax_w.legend()

for label, (model, _, _) in runs.items():
    curve = np.array(model.loss_curve_[:60])
    ax_loss.semilogy(curve - loss_star + 1e-16, label=label)
ax_loss.set(xlabel="epoch", ylabel="loss − minimum", title="Loss, from loss_curve_")
ax_loss.legend()

# %%
# The divergence guard
# --------------------
# With the large rate the weights grow by a factor ``|1 − ηλ| = 1.2`` per
# epoch. Once the loss runs away (it is no longer finite, or it has exploded
# far above the loss of a model whose weights are all zero), training stops
# with an error that names the cause and the cure, and the estimator keeps
# the last weights it had before the failing call.
model, path, error = runs["too large (η = 2.2/λ)"]
print(f"stopped after {len(path) - 1} epochs:")
print(error)
print("weights kept:", model.coef_)

# %%
# ``fit`` stops in the same way, here within a few epochs of a step size
# far too large for data of this scale:
try:
    WeightedLinearRegressor(
        penalty=None, solver="sgd", learning_rate_init=100.0, max_iter=50
    ).fit(X, y)
except ValueError as error:
    print(error)

# %%
# The remedy is the one the message gives: a smaller ``learning_rate_init``,
# or standardised features. The default, ``learning_rate_init="auto"``,
# derives a step size from the scale of ``X`` that keeps the updates stable.
plt.show()
