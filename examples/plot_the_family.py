"""
A network regressor and a multilabel network
=============================================

:class:`~sk_weights.MLPWeightsRegressor` is the network of
:class:`~sk_weights.MLPWeightsClassifier` with the squared loss and an
identity output. We compare it with scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor` at the same penalty, read its
effective input weights, and then give the classifier several labels per
sample.
"""

# %%
# The same objective as MLPRegressor
# ----------------------------------
# scikit-learn divides its L2 term by the mini-batch size, we do not: at
# ``alpha=a / batch_size`` both minimise the same objective.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier, MLPWeightsRegressor

X, y = make_friedman1(n_samples=500, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=320, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
mean, std = y_train.mean(), y_train.std()
y_train, y_test = (y_train - mean) / std, (y_test - mean) / std

common = dict(
    hidden_layer_sizes=(32,),
    learning_rate_init=0.01,
    batch_size=64,
    max_iter=200,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    theirs = MLPRegressor(alpha=1.0, **common).fit(X_train, y_train)
    ours = MLPWeightsRegressor(alpha=1.0 / 64, **common).fit(X_train, y_train)
print(f"MLPRegressor        test R²: {theirs.score(X_test, y_test):.3f}")
print(f"MLPWeightsRegressor test R²: {ours.score(X_test, y_test):.3f}")

# %%
# What the network relies on
# --------------------------
# Friedman's function uses the first five features only; the last five are
# noise. The effective input weights ``coef_`` and ``feature_importances_``
# are computed from the weights alone.
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(range(10), ours.feature_importances_)
ax.set_xticks(range(10), [f"x{i}" for i in range(10)])
ax.set_ylabel("importance")
ax.set_title("MLPWeightsRegressor on make_friedman1")
fig.tight_layout()
print(ours.weights_report())

# %%
# Several labels per sample
# -------------------------
# With a label-indicator matrix, each label gets its own logistic output.
X, Y = make_multilabel_classification(n_samples=200, random_state=0)
X = StandardScaler().fit_transform(X)
model = MLPWeightsClassifier(
    hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X, Y)
proba = model.predict_proba(X)
print("classes_:", model.classes_)
print("first row's label probabilities:", np.round(proba[0], 2))
print("subset accuracy on the training data:", model.train_score_)
