"""
Reading a model: the weights report, importances and feature selection
======================================================================

Once trained, a model's weights say which inputs it relies on, and in which
direction. Before reading them, check the verdict on the training: did it
converge, does the model beat a constant prediction, does it do as well on
held-out data? We read a network classifier of wines through the
learned-weights report, provoke a failed fit and read how the report says it,
check the ``feature_importances_`` computed from the weights against an
importance measured on held-out data, and keep the inputs with the largest
weights with :class:`~sklearn.feature_selection.SelectFromModel`.
"""

# %%
# A network and its report
# ------------------------
# 178 wines from three cultivars, 13 chemical measurements each. The
# measurements are standardised inside a pipeline, so that the weights of
# different inputs are comparable.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.feature_selection import SelectFromModel
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier, weights_report

X, y = load_wine(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)


def network(**params):
    return MLPWeightsClassifier(
        hidden_layer_sizes=(16,),
        alpha=1e-2,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
        **params,
    )


model = make_pipeline(StandardScaler(), network()).fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")

# %%
# :func:`~sk_weights.weights_report` accepts the whole pipeline and takes the
# feature names from the steps before the network. Its text form lists the
# most important inputs, the signed weights of each class, one row per weight
# matrix, and the verdict on the training: why it stopped, the training
# accuracy, and the training loss beside that of a constant model that always
# predicts the class frequencies.
report = weights_report(model)
print(report)

# %%
# Directions: the signed weights
# ------------------------------
# Importance says how much, the sign says which way. For a classifier each
# input has one effective weight per class (keyed by the class label): a
# positive weight raises that class's score when the input grows.
top = report.to_dict()["features"][0]
print(f"{top['name']}: importance {top['importance']:.1%}")
for label, weight in top["weight"].items():
    print(f"  class {label}: {weight:+.3f}")

# %%
# The tables are also available as pandas DataFrames (and as plain dicts
# with :meth:`~sk_weights.WeightsReport.to_dict`, or HTML with
# :meth:`~sk_weights.WeightsReport.to_html`):
report.to_frame("layers")

# %%
report.to_frame("features").head()

# %%
# :meth:`~sk_weights.WeightsReport.plot` draws the importances, the weights
# per class, the training curve and a histogram of each weight matrix.
fig_report = report.plot(top=13)

# %%
# A poor fit, and how the report says it
# --------------------------------------
# The same network with its default settings, on the raw measurements: they
# range from about 0.1 (hue) to over 1000 (proline), and gradient descent
# with one learning rate for all of them fails. Two numbers show it, computed
# here by hand: the training accuracy is below that of always answering the
# most frequent class, and the training log loss is far above that of the
# constant model that predicts the class frequencies.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    raw = MLPWeightsClassifier(hidden_layer_sizes=(32,), random_state=0)
    raw.fit(X_train, y_train)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
frequencies = np.bincount(y_train) / len(y_train)
print(
    f"training accuracy {raw.score(X_train, y_train):.3f}, "
    f"most frequent class alone {frequencies.max():.3f}"
)
print(
    f"training log loss {log_loss(y_train, raw.predict_proba(X_train)):.3f}, "
    "constant model "
    f"{log_loss(y_train, np.tile(frequencies, (len(y_train), 1))):.3f}"
)

# %%
# The estimator records both losses (``train_loss_`` and ``baseline_loss_``),
# warns with a ``PoorFitWarning`` when the first is the larger, and the
# report's verdict says it in a ``WARNING`` line: these weights are not worth
# reading. Scaling the inputs, as in the pipeline above, is the cure here.
training = weights_report(raw).to_dict()["training"]
print(f"stop reason: {training['stop_reason']}, poor fit: {training['poor_fit']}")
print(str(weights_report(raw)).split("\n\n")[-1])  # the verdict: the last block

# %%
# Over-fitting reads off one line
# -------------------------------
# With early stopping, a part of the training data is held out, and the
# weights kept are those of the epoch with the best validation score. The
# report puts the training score and the validation score of the kept
# weights on one line; a training score far above the validation score is
# over-fitting, and the report adds a note.
early = make_pipeline(
    StandardScaler(), network(early_stopping=True, validation_fraction=0.2)
).fit(X_train, y_train)
print(str(weights_report(early)).split("\n\n")[-1])

# %%
# What the importances are, and are not
# -------------------------------------
# A network's ``coef_`` is its *effective input weights*: the product of its
# weight matrices, ``(coefs_[0] @ coefs_[1]).T``, which sums, over every
# path from an input to an output, the product of the weights along it.
# ``feature_importances_`` is ``|coef_|`` summed over the classes and
# normalised. For a linear network this is exact; with the ReLU units here it
# is a summary of the weights that ignores when each unit is active.
#
# A check from outside the weights: permutation importance shuffles one
# input at a time in the *test* data and measures how much the accuracy
# drops. The two agree on the inputs that matter most, not on every rank.
net = model[-1]
print("coef_ shape:", net.coef_.shape)
print(
    "coef_ is the product of the matrices:",
    np.allclose(net.coef_, (net.coefs_[0] @ net.coefs_[1]).T),
)
permuted = permutation_importance(
    model, X_test, y_test, n_repeats=20, random_state=0
).importances_mean

order = np.argsort(net.feature_importances_)
fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
positions = np.arange(len(order))
ax.barh(
    positions + 0.2,
    net.feature_importances_[order],
    height=0.4,
    label="feature_importances_ (from the weights)",
)
ax.barh(
    positions - 0.2,
    permuted[order] / permuted.sum(),
    height=0.4,
    label="permutation importance (test data)",
)
ax.set_yticks(positions, X.columns[order])
ax.set(xlabel="share of the total", title="Two readings of the same network")
ax.legend(loc="lower right")

# %%
# Selecting features by their weights
# -----------------------------------
# Because ``feature_importances_`` comes from the weights alone,
# :class:`~sklearn.feature_selection.SelectFromModel` works with the
# network directly: it keeps the inputs whose importance is above the mean.
# A second network trained on those inputs only is compared with the full
# one by 5-fold cross-validation.
selecting = make_pipeline(
    StandardScaler(),
    SelectFromModel(network(), threshold="mean"),
    network(),
)
selecting.fit(X, y)
kept = selecting[:-1].get_feature_names_out()
print(f"kept {len(kept)} of {X.shape[1]} inputs: {', '.join(kept)}")
full = make_pipeline(StandardScaler(), network())
for name, pipeline in [("all inputs", full), ("selected inputs", selecting)]:
    scores = cross_val_score(pipeline, X, y, cv=5)
    print(f"{name:>15s}: accuracy {scores.mean():.3f} ± {scores.std():.3f}")

# %%
# The report reads scikit-learn's models too
# ------------------------------------------
# Any fitted linear model or multi-layer perceptron of scikit-learn has
# weights to read. For this logistic regression the report ranks by
# ``|w|`` (scikit-learn does not record the feature scales, which the
# report says; the inputs are standardised here, so it is the same thing).
logistic = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
print(weights_report(logistic))
plt.show()
