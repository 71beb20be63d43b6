"""
What weights are: the linear model ``y = w·x + b``
==================================================

A linear model predicts with a weighted sum of its inputs plus an offset,
``y = w1*x1 + ... + wn*xn + b``. Training chooses the numbers ``w`` (the
weights) and ``b`` (the bias). Here we make data whose true weights we know,
let :class:`~sk_weights.WeightedLinearRegressor` recover them, read them off
``coef_`` and ``intercept_`` and from the learned-weights report, and see why
the size of a weight alone does not say how much its feature matters.
"""

# %%
# Data with known weights
# -----------------------
# Three inputs; the target depends on the first two only, plus noise.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

from sk_weights import WeightedLinearRegressor

rng = np.random.default_rng(0)
names = ["temperature", "humidity", "weekday"]
true_weights = np.array([3.0, -2.0, 0.0])
true_bias = 5.0
X = rng.normal(size=(200, 3))
y = X @ true_weights + true_bias + rng.normal(scale=0.5, size=200)

# penalty=None: ordinary least squares, solved exactly by the full-batch solver.
model = WeightedLinearRegressor(penalty=None).fit(X, y)
for name, w_true, w in zip(names, true_weights, model.coef_):
    print(f"{name:>12s}: true weight {w_true:+.2f}, learned {w:+.3f}")
print(f"{'bias':>12s}: true {true_bias:+.2f}, learned {model.intercept_:+.3f}")

# %%
# The learned weights are the least-squares solution: scikit-learn's own
# :class:`~sklearn.linear_model.LinearRegression` finds the same numbers.
reference = LinearRegression().fit(X, y)
print("largest difference:", np.abs(model.coef_ - reference.coef_).max())

# %%
# A prediction is nothing but the weighted sum
# --------------------------------------------
# ``predict`` computes ``X @ coef_ + intercept_``; doing it by hand gives
# the same numbers.
X_new = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
by_hand = X_new @ model.coef_ + model.intercept_
print("by hand:  ", by_hand.round(3))
print("predict():", model.predict(X_new).round(3))

# %%
# Raising ``temperature`` by one unit raises the prediction by its weight,
# about 3, whatever the other inputs are. In one dimension the weight is the
# slope of the fitted line and the bias its height at ``x = 0``.
x_1d = rng.uniform(0, 10, size=(40, 1))
y_1d = 2.5 * x_1d[:, 0] + 1.0 + rng.normal(scale=1.5, size=40)
line = WeightedLinearRegressor(penalty=None).fit(x_1d, y_1d)

fig, (ax_line, ax_bars) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
ax_line.scatter(x_1d[:, 0], y_1d, s=15, color="0.5", label="data")
grid = np.linspace(0, 10, 2)
ax_line.plot(
    grid,
    line.predict(grid[:, None]),
    color="C0",
    label=f"y = {line.coef_[0]:.2f}·x + {line.intercept_:.2f}",
)
ax_line.set(xlabel="x", ylabel="y", title="One input: weight = slope, bias = offset")
ax_line.legend()

positions = np.arange(3)
ax_bars.bar(positions - 0.2, true_weights, width=0.4, label="true weight")
ax_bars.bar(positions + 0.2, model.coef_, width=0.4, label="learned coef_")
ax_bars.axhline(0, color="black", linewidth=0.8)
ax_bars.set_xticks(positions, names)
ax_bars.set(title="Three inputs: the weights are recovered", ylabel="weight")
ax_bars.legend()

# %%
# The learned-weights report
# --------------------------
# :meth:`~sk_weights.WeightedLinearRegressor.weights_report` gathers what the
# fitted model holds: each feature's weight, its importance and rank, and a
# summary of the weight matrix and of training.
report = model.weights_report(feature_names=names)
print(report)

# %%
# The same facts as plain Python objects, ready for JSON:
for row in report.to_dict()["features"]:
    print(
        row["rank"], row["name"], round(row["weight"], 3), round(row["importance"], 3)
    )

# %%
# A weight has the units of its feature
# -------------------------------------
# Measure ``temperature`` in tenths of a degree instead (multiply it by 10)
# and its weight is divided by 10: the predictions do not change, and neither
# does what the feature contributes. That is why the report does not rank
# features by ``|w|`` but by ``|w| * std(x)``, the change in the prediction
# when the feature moves by one standard deviation.
X_tenths = X * np.array([10.0, 1.0, 1.0])
rescaled = WeightedLinearRegressor(penalty=None).fit(X_tenths, y)
print("same predictions:", np.allclose(rescaled.predict(X_tenths), model.predict(X)))

importance = {
    label: [row["importance"] for row in sorted(rows, key=lambda r: r["index"])]
    for label, rows in [
        ("original", report.to_dict()["features"]),
        ("tenths", rescaled.weights_report(names).to_dict()["features"]),
    ]
}
fig, (ax_w, ax_i) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax_w.bar(positions - 0.2, np.abs(model.coef_), width=0.4, label="original units")
ax_w.bar(positions + 0.2, np.abs(rescaled.coef_), width=0.4, label="temperature × 10")
ax_w.set(title="|weight| depends on the units", ylabel="|coef_|")
ax_i.bar(positions - 0.2, importance["original"], width=0.4, label="original units")
ax_i.bar(positions + 0.2, importance["tenths"], width=0.4, label="temperature × 10")
ax_i.set(title="importance |w|·std(x) does not", ylabel="importance")
for ax in (ax_w, ax_i):
    ax.set_xticks(positions, names)
    ax.legend()
plt.show()
