"""
A worked example: the first-layer weights of a digit classifier
===============================================================

The digits data bundled with scikit-learn holds 1,797 handwritten digits of
8×8 pixels. A network's first weight matrix has one column per hidden unit
and one row per pixel, so each column can be drawn as an 8×8 image: the
pattern of ink that excites that unit (red) or inhibits it (blue). We train
:class:`~sk_weights.MLPWeightsClassifier` with an L2 and with an L1 penalty
and look at what its hidden units have learned to detect.
"""

# %%
# The data
# --------
# Pixel values run from 0 to 16; dividing by 16 keeps the images as they
# are (standardising each pixel would magnify the nearly blank border).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_weights import MLPWeightsClassifier

digits = load_digits()
X, y = digits.data / 16.0, digits.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

fig, axes = plt.subplots(1, 10, figsize=(10, 1.4), layout="constrained")
for digit, ax in enumerate(axes):
    ax.imshow(X_train[y_train == digit][0].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(digit))
    ax.axis("off")

# %%
# Two networks, two penalties
# ---------------------------
# 16 hidden ``tanh`` units; the same architecture and the same random
# initialisation, once with an L2 penalty and once with an L1 penalty on the
# weights.
models = {}
for penalty, alpha in [("l2", 1e-3), ("l1", 5e-4)]:
    models[penalty] = MLPWeightsClassifier(
        hidden_layer_sizes=(16,),
        activation="tanh",
        penalty=penalty,
        alpha=alpha,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X_train, y_train)

for penalty, model in models.items():
    first = model.coefs_[0]
    print(
        f"{penalty}: test accuracy {model.score(X_test, y_test):.3f}, "
        f"first layer {first.shape}, {np.mean(first == 0):.0%} of its weights are 0"
    )

# %%
# The first layer as images
# -------------------------
# Column ``j`` of ``coefs_[0]`` holds the 64 weights from the pixels to
# hidden unit ``j``. With L2 every pixel keeps some weight and the units
# respond to broad strokes; with L1 about half the weights are exactly zero
# and each unit looks at fewer pixels. Pixels of the border, blank in almost
# every image, carry no information, and the L1 penalty zeroes their weights.


def show_units(weights, title):
    fig, axes = plt.subplots(2, 8, figsize=(10, 3), layout="constrained")
    limit = np.abs(weights).max()
    for unit, ax in enumerate(axes.ravel()):
        ax.imshow(
            weights[:, unit].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        ax.set_title(f"unit {unit}", fontsize=9)
        ax.axis("off")
    fig.suptitle(title)


show_units(models["l2"].coefs_[0], "First-layer weights, L2 penalty")
show_units(models["l1"].coefs_[0], "First-layer weights, L1 penalty")

# %%
# What each class looks for
# -------------------------
# ``coef_`` multiplies the two weight matrices into one 10×64 matrix of
# effective input weights: for each digit, the pixels whose ink raises its
# score (red) or lowers it (blue). The ``tanh`` units make the network
# non-linear, so this is a summary of its weights, not the whole model.
# Without a hidden layer (``hidden_layer_sizes=()``) the network is a
# multinomial logistic regression and ``coef_`` is exactly its weights: one
# template per digit.
linear = MLPWeightsClassifier(
    hidden_layer_sizes=(), alpha=1e-3, learning_rate_init=0.01, random_state=0
).fit(X_train, y_train)
print(f"no hidden layer: test accuracy {linear.score(X_test, y_test):.3f}")

rows = [("network, L2", models["l2"].coef_), ("no hidden layer", linear.coef_)]
fig, axes = plt.subplots(2, 10, figsize=(10, 2.8), layout="constrained")
for (label, effective), row in zip(rows, axes):
    limit = np.abs(effective).max()
    for digit, ax in enumerate(row):
        ax.imshow(
            effective[digit].reshape(8, 8), cmap="RdBu_r", vmin=-limit, vmax=limit
        )
        ax.set_title(str(digit), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(label, fontsize=8)
fig.suptitle("Effective input weights coef_, one 8×8 image per class")

# %%
# The learned-weights report summarises the same matrices: the share of
# exact zeros in each layer, their norms, and the pixels ranked by
# importance.
print(models["l1"].weights_report(feature_names=digits.feature_names))
plt.show()
