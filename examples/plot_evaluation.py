"""
Evaluating weights on unseen data
=================================

A model's loss on the data it was trained on says how well its weights fit
*those* samples, not how well they will predict new ones: with enough weights
a network can memorise its training set. The weights are judged on held-out
data. We follow the training and validation losses of
:class:`~sk_weights.MLPWeightsClassifier` epoch by epoch, let early stopping
pick the epoch to keep, and estimate the accuracy to expect with
cross-validation.
"""

# %%
# Training and validation curves
# ------------------------------
# The breast cancer data (569 tumours, 30 measurements). We train on a third
# of it and hold the rest out. The scaler is fitted on the training part
# only, so nothing about the held-out samples leaks into the model.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import log_loss
from sklearn.model_selection import cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(
    X, y, train_size=1 / 3, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

# %%
# A network with 100 hidden units (3,201 weights) and no penalty has far more
# freedom than 189 training samples can pin down. One ``partial_fit`` call is
# one epoch; after each we measure the cross-entropy on both parts.
network = MLPWeightsClassifier(
    hidden_layer_sizes=(100,),
    penalty=None,
    learning_rate_init=0.002,
    batch_size=32,
    random_state=0,
)
train_loss, val_loss = [], []
for _ in range(120):
    network.partial_fit(X_train, y_train, classes=[0, 1])
    train_loss.append(log_loss(y_train, network.predict_proba(X_train)))
    val_loss.append(log_loss(y_val, network.predict_proba(X_val)))
best_epoch = int(np.argmin(val_loss)) + 1
print(f"lowest validation loss {min(val_loss):.3f} after epoch {best_epoch}")
print(
    f"after 120 epochs: training loss {train_loss[-1]:.4f}, held-out {val_loss[-1]:.3f}"
)

# %%
# The training loss keeps falling towards zero while the validation loss
# turns up after a few dozen epochs: from then on the weights learn the
# training samples' noise rather than the pattern (over-fitting).
fig, (ax_curves, ax_early) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
epochs = np.arange(1, 121)
ax_curves.semilogy(epochs, train_loss, label="training data")
ax_curves.semilogy(epochs, val_loss, label="held-out data")
ax_curves.axvline(best_epoch, color="0.5", linestyle="--", label="best held-out loss")
ax_curves.set(xlabel="epoch", ylabel="cross-entropy", title="Loss per epoch")
ax_curves.legend()

# %%
# Early stopping
# --------------
# ``early_stopping=True`` automates the remedy: ``fit`` sets aside a
# stratified ``validation_fraction`` of the training data, scores the
# accuracy on it after every epoch (``validation_scores_``), stops once it has
# not improved for ``n_iter_no_change`` epochs and keeps the best weights
# seen, not the last ones.
stopped = MLPWeightsClassifier(
    hidden_layer_sizes=(100,),
    penalty=None,
    learning_rate_init=0.002,
    batch_size=32,
    early_stopping=True,
    validation_fraction=0.3,
    n_iter_no_change=20,
    random_state=0,
).fit(X_train, y_train)
best = int(np.argmax(stopped.validation_scores_)) + 1
print(
    f"stopped after {stopped.n_iter_} epochs; best validation accuracy "
    f"{stopped.best_validation_score_:.3f} at epoch {best}"
)
print(f"held-out accuracy, early stopping: {stopped.score(X_val, y_val):.3f}")
print(f"held-out accuracy, 120 epochs:     {network.score(X_val, y_val):.3f}")

ax_early.plot(
    range(1, stopped.n_iter_ + 1), stopped.loss_curve_, label="training objective"
)
ax_early.set(xlabel="epoch", ylabel="objective", title="fit(early_stopping=True)")
ax_score = ax_early.twinx()
ax_score.plot(
    range(1, stopped.n_iter_ + 1),
    stopped.validation_scores_,
    color="C1",
    label="validation accuracy",
)
ax_score.axvline(best, color="C1", linestyle="--")
ax_score.set_ylabel("validation accuracy", color="C1")
ax_early.legend(loc="center right")

# %%
# Cross-validation
# ----------------
# One split gives one estimate, and a different split would give another.
# :func:`~sklearn.model_selection.cross_validate` trains on four fifths and
# scores on the last fifth, five times over, so that every sample is held out
# once. The scaler sits in a :class:`~sklearn.pipeline.Pipeline`, refitted on
# each training part. This network has an L2 penalty on its weights (see the
# example on regularisation) and trains until its loss settles.
pipeline = make_pipeline(
    StandardScaler(),
    MLPWeightsClassifier(
        hidden_layer_sizes=(100,), alpha=1e-2, max_iter=1000, random_state=0
    ),
)
scores = cross_validate(pipeline, X, y, cv=5, return_train_score=True)
print("held-out accuracy per fold:", scores["test_score"].round(3))
print(f"mean {scores['test_score'].mean():.3f} ± {scores['test_score'].std():.3f}")

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
folds = np.arange(1, 6)
ax.plot(folds, scores["train_score"], "o", label="training part")
ax.plot(folds, scores["test_score"], "s", label="held-out fold")
ax.axhline(
    scores["test_score"].mean(), color="C1", linestyle="--", label="mean held-out"
)
ax.set(xlabel="fold", ylabel="accuracy", xticks=folds, title="5-fold cross-validation")
ax.legend()
plt.show()
