"""
Why this prediction? Contributions of each feature to one output
=================================================================

The weights report says what a model relies on overall. In front of one
prediction the question is narrower: why *this* value for *this* row?
:func:`~sk_weights.explain` answers it by splitting the model's raw output
into one contribution per feature, measured from a baseline row, so that
``baseline output + sum of contributions = output``. We explain a linear
model of diabetes progression, where the split is exact, then a network
that reads handwritten digits, where it comes from integrated gradients and
can be drawn as an 8×8 image.
"""

# %%
# A linear model: exact contributions
# -----------------------------------
# Ten measurements of 442 patients, and a measure of disease progression a
# year later. An L1 penalty keeps four of the ten weights.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor, explain

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
linear = WeightedLinearRegressor(penalty="l1", alpha=0.5).fit(X_train, y_train)

explanation = explain(linear, X_test.iloc[:3])
print(explanation)

# %%
# The baseline is ``feature_mean_``, the mean patient of the training data,
# and the baseline output is the prediction for that patient. Each
# contribution is the feature's weight times its distance from the mean,
# ``coef_ * (x - feature_mean_)``: a patient with a higher body mass index
# than average gets a positive ``bmi`` contribution, because its weight is
# positive. The six features with a zero weight contribute nothing, whatever
# their values.
row = X_test.iloc[0].to_numpy()
by_hand = linear.coef_ * (row - linear.feature_mean_)
print(
    "largest gap to the formula:", np.abs(explanation.contributions[0] - by_hand).max()
)
print("completeness error per row:", explanation.completeness_error)

# %%
# The waterfall starts at the baseline output (dashed line), adds each
# contribution in turn, the largest first, and ends at the prediction (solid
# line).
fig = explanation.plot(0)

# %%
# The baseline matters
# --------------------
# A contribution answers "compared with what?". Measured from the patient
# of the training data with the lowest progression instead of the mean
# patient, the same row gets other contributions: every feature now
# explains how this patient differs from that one, and the contributions
# add up to the gap between the two predictions.
reference = X_train.iloc[[int(np.argmin(y_train))]]
against = explain(linear, X_test.iloc[:1], baseline=reference)
for name, weight, mean_based, other in zip(
    X.columns, linear.coef_, explanation.contributions[0], against.contributions[0]
):
    if weight != 0:
        print(f"{name:>4}: {mean_based:+8.2f} from the mean, {other:+8.2f} from it")
print(f"sum: {against.contributions[0].sum():+.2f}")
print(f"gap: {against.output[0] - against.baseline_output:+.2f}")

# %%
# A network: integrated gradients
# -------------------------------
# The digits data holds 1,797 handwritten digits of 8×8 pixels. A network
# with one hidden layer of 32 relu units reads them.
digits = load_digits(as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    digits.data / 16.0,
    digits.target,
    test_size=0.25,
    stratify=digits.target,
    random_state=0,
)
network = MLPWeightsClassifier(
    hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=200, random_state=0
).fit(X_train, y_train)
print(f"test accuracy: {network.score(X_test, y_test):.3f}")

# %%
# For a classifier, what is explained is the logit of each class, the
# network's output before the softmax turns the ten logits into
# probabilities. A network is not a weighted sum, so a pixel's contribution
# is its distance from the baseline times the average gradient of the logit
# with respect to it along the straight path from the baseline image (the
# mean digit) to this image: its integrated gradient. The text shows the
# logit of the predicted class.
rows = X_test.iloc[:4]
digit_explanation = explain(network, rows)
print("\n".join(str(digit_explanation).splitlines()[:10]))

# %%
# The contributions add up to the logit: integrated gradients are complete.
# With one hidden layer of relu units the sum is exact whatever ``n_steps``;
# with smooth activations or deeper networks the quadrature along the path
# leaves an error, reported per row and falling as ``n_steps`` grows.
print("largest completeness error:", digit_explanation.completeness_error.max())

# %%
# Contributions as images
# -----------------------
# Each row's 64 contributions to its predicted class, drawn in the image's
# place: red pixels raise the logit of that class, blue ones lower it. Ink
# where the mean digit has little counts, and so does the absence of ink
# where most digits have some: a contribution is always relative to the
# baseline.
fig, axes = plt.subplots(2, 4, figsize=(9, 4.8), layout="constrained")
for i, (top, bottom) in enumerate(zip(axes[0], axes[1])):
    predicted = int(np.argmax(digit_explanation.output[i]))
    contributions = digit_explanation.contributions[i, predicted].reshape(8, 8)
    limit = np.abs(contributions).max()
    top.imshow(rows.iloc[i].to_numpy().reshape(8, 8), cmap="gray_r")
    top.set_title(f"true {y_test.iloc[i]}, predicted {predicted}")
    bottom.imshow(contributions, cmap="RdBu_r", vmin=-limit, vmax=limit)
    bottom.set_title(f"logit {digit_explanation.output[i, predicted]:.1f}")
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("Digits (top) and their pixels' contributions (bottom)")

# %%
# What integrated gradients do not tell
# -------------------------------------
# They say how the output moves along one path, from one baseline. They do
# not say what the model would predict if a pixel alone changed (the
# contributions of other pixels would change too), nor that a pixel with a
# small contribution is unimportant in general: it may matter for another
# row, another class, or from another baseline.
plt.show()
