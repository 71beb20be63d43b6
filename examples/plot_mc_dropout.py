"""
MC dropout: predictions with dropout left on
============================================

A network trained with dropout learned with hidden units switched off at
random. Predicting many times with dropout still on (Monte Carlo dropout)
shows how much each prediction depends on which units happen to be used.
We look at it on two interleaved half-moons, then check it against the
closed form that a linear model has.
"""

# %%
# A network on two half-moons
# ---------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes, make_moons
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor, mc_dropout

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)
X = StandardScaler().fit_transform(X)
model = MLPWeightsClassifier(
    hidden_layer_sizes=(32, 32),
    dropout=0.3,
    learning_rate_init=0.01,
    max_iter=150,
    random_state=0,
).fit(X, y)
print(f"training accuracy {model.score(X, y):.3f}")

# %%
# 100 passes over a grid of 10,000 points. The mean and standard deviation
# are accumulated pass by pass, so the memory stays that of one prediction.
grid = np.linspace(-3.5, 3.5, 100)
xx, yy = np.meshgrid(grid, grid)
points = np.column_stack([xx.ravel(), yy.ravel()])
result = mc_dropout(model, points, n_samples=100, random_state=0)
deterministic = model.predict_proba(points)
print(result.mean.shape, result.std.shape, result.entropy.shape)
print(
    "largest gap between the MC mean and the prediction without dropout: "
    f"{np.abs(result.mean - deterministic).max():.3f}"
)

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
panels = [
    (result.mean[:, 1], "mean probability of class 1", "RdBu_r"),
    (result.std[:, 1], "standard deviation over the passes", "viridis"),
    (result.entropy, "predictive entropy (nats)", "magma"),
]
for ax, (values, title, cmap) in zip(axes, panels):
    image = ax.pcolormesh(xx, yy, values.reshape(xx.shape), cmap=cmap)
    ax.scatter(*X.T, c=y, cmap="coolwarm", s=8, edgecolors="black", linewidths=0.3)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
plt.show()

# %%
# The spread is largest along the boundary between the classes, where a few
# dropped units tip the prediction, including its continuation far from any
# training point (top right, bottom left). Elsewhere far from the data (top
# left, bottom right) it is close to zero: the network extrapolates with
# confidence there, and a small spread does not mean a right answer, only a
# stable one. Note also that for a network the mean over the passes is not
# the prediction without dropout (the gap printed above): averaging passes
# through nonlinear units differs from one pass with the units scaled.
#
# A closed form: the linear model
# -------------------------------
# For a linear model with inverted dropout at rate ``p`` on its inputs, a
# pass predicts ``b + sum_j w_j x_j m_j / (1 - p)``: its mean is the
# prediction and its variance ``p / (1 - p) * sum_j (w_j x_j)**2``.
Xd, yd = load_diabetes(return_X_y=True)
Xd = StandardScaler().fit_transform(Xd)
linear = WeightedLinearRegressor(dropout=0.2, random_state=0).fit(Xd, yd)
rows = Xd[:5]
passes = mc_dropout(linear, rows, n_samples=5000, random_state=0)
exact = np.sqrt(0.2 / 0.8 * ((rows * linear.coef_) ** 2).sum(axis=1))
print("prediction ", np.round(linear.predict(rows), 1))
print("MC mean    ", np.round(passes.mean, 1))
print("closed std ", np.round(exact, 2))
print("MC std     ", np.round(passes.std, 2))
