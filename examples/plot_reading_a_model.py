"""
Reading a model: the weights report, importances and feature selection
======================================================================

Once trained, a model's weights say which inputs it relies on. We read them
three ways for a network classifier of wines: the learned-weights report,
the ``feature_importances_`` computed from the weights (checked against an
importance measured on held-out data), and
:class:`~sklearn.feature_selection.SelectFromModel`, which keeps the inputs
with the largest weights.
"""

# %%
# A network and its report
# ------------------------
# 178 wines from three cultivars, 13 chemical measurements each. The
# measurements are standardised inside a pipeline, so that the weights of
# different inputs are comparable.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.feature_selection import SelectFromModel
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
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
# most important inputs, one row per weight matrix, and how training went.
report = weights_report(model)
print(report)

# %%
# The tables are also available as pandas DataFrames (and as plain dicts
# with :meth:`~sk_weights.WeightsReport.to_dict`, or HTML with
# :meth:`~sk_weights.WeightsReport.to_html`):
report.to_frame("layers")

# %%
report.to_frame("features").head()

# %%
# :meth:`~sk_weights.WeightsReport.plot` draws the importances, a histogram
# of each weight matrix and the loss curve.
fig_report = report.plot(top=13)

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
