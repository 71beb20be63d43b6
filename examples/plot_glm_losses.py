"""
Losses for counts and outliers: Poisson rate ratios and the Huber loss
======================================================================

The squared error is the right loss for a target with symmetric, moderate
noise. Counts (visits, claims) and data with gross outliers call for others:
:class:`~sk_weights.WeightedLinearRegressor` takes ``loss="poisson"`` (a log
link: the prediction is ``exp(X @ coef_ + intercept_)``) and ``loss="huber"``
(squared near zero, linear in the tails). Here we recover known rate ratios
from generated counts, and see how far one outlier drags each loss.
"""

# %%
# Counts with known rate ratios
# -----------------------------
# Visits per week depend on two inputs: each unit of ``promotions`` multiplies
# the expected count by ``exp(0.4) = 1.49``, each unit of ``distance`` by
# ``exp(-0.3) = 0.74``; ``weekday`` does nothing.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import PoissonRegressor

from sk_weights import WeightedLinearRegressor

rng = np.random.default_rng(0)
names = ["promotions", "distance", "weekday"]
true_weights = np.array([0.4, -0.3, 0.0])
X = rng.normal(size=(500, 3))
y = rng.poisson(np.exp(1.0 + X @ true_weights))

poisson = WeightedLinearRegressor(loss="poisson", penalty="l2", alpha=1e-4).fit(X, y)
for name, w_true, w in zip(names, true_weights, poisson.coef_):
    print(f"{name:>10s}: rate ratio true {np.exp(w_true):.3f}, learned {np.exp(w):.3f}")

# %%
# With ``penalty="l2"`` the objective is scikit-learn's
# :class:`~sklearn.linear_model.PoissonRegressor` (half the mean Poisson
# deviance plus ``alpha / 2 * ||w||^2``), and the full-batch solver finds
# the same weights.
reference = PoissonRegressor(alpha=1e-4, tol=1e-10).fit(X, y)
print("largest difference:", np.abs(poisson.coef_ - reference.coef_).max())

# %%
# The report names the loss and says how to read a weight on a log link;
# the training block adds the share of the Poisson deviance explained (D²).
print(poisson.weights_report(feature_names=names))

# %%
# One outlier against the squared error and the Huber loss
# --------------------------------------------------------
# A straight line with a little noise, and one point far off. The squared
# error lets it pull the line; the Huber loss bounds its pull by
# ``huber_delta``.
x = np.linspace(0, 10, 40)[:, np.newaxis]
y_line = 2.0 * x[:, 0] + 1.0 + rng.normal(scale=0.5, size=40)
y_line[-3] -= 40.0

squared = WeightedLinearRegressor(penalty=None).fit(x, y_line)
huber = WeightedLinearRegressor(penalty=None, loss="huber", huber_delta=1.0).fit(
    x, y_line
)
print(f"slope: true 2.00, squared error {squared.coef_[0]:.2f}")
print(f"slope: true 2.00, Huber         {huber.coef_[0]:.2f}")

fig, (ax_counts, ax_line) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax_counts.bar(names, np.exp(true_weights), width=0.4, label="true", align="edge")
ax_counts.bar(names, np.exp(poisson.coef_), width=-0.4, label="learned", align="edge")
ax_counts.axhline(1.0, color="black", linewidth=0.8)
ax_counts.set_ylabel("rate ratio exp(w) per unit of the input")
ax_counts.set_title("Poisson: rate ratios")
ax_counts.legend()
ax_line.scatter(x[:, 0], y_line, s=12, color="black")
ax_line.plot(x[:, 0], squared.predict(x), label="squared error")
ax_line.plot(x[:, 0], huber.predict(x), label="Huber")
ax_line.set_title("One outlier")
ax_line.legend()
plt.show()
