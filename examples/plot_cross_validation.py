"""
Choosing alpha by cross-validation, along the path
==================================================

The penalty strength ``alpha`` decides how much the weights shrink, and the
training data cannot choose it: the training score always prefers the weakest
penalty. Held-out data can. :class:`~sk_weights.WeightedLinearRegressorCV`
splits the data into folds and, on each fold, walks the whole path of alphas
once, from the strongest penalty down, every solve starting from the
previous weights; the alpha of the smallest mean held-out error wins and the
model is refitted on all the data. On the same folds and alphas it chooses
what scikit-learn's :class:`~sklearn.linear_model.LassoCV` chooses.
"""

# %%
# The regressor and LassoCV
# -------------------------
# Both use the same default grid (100 alphas from ``alpha_max`` down to
# ``1e-3 alpha_max``) and the same five folds.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LassoCV, LogisticRegressionCV
from sklearn.preprocessing import StandardScaler

from sk_weights import WeightedLinearClassifierCV, WeightedLinearRegressorCV

X, y = load_diabetes(return_X_y=True, as_frame=True)


def timed(model, X, y):
    """Fit ``model`` and return it with the seconds the fit took."""
    start = perf_counter()
    model.fit(X, y)
    return model, perf_counter() - start


ours, ours_seconds = timed(WeightedLinearRegressorCV(), X, y)
lasso, lasso_seconds = timed(LassoCV(tol=1e-10, max_iter=100_000), X, y)
print(f"WeightedLinearRegressorCV: alpha_ = {ours.alpha_:.5f} in {ours_seconds:.3f} s")
print(
    f"LassoCV:                   alpha_ = {lasso.alpha_:.5f} in {lasso_seconds:.3f} s"
)
print(
    "largest relative difference of the fold errors:",
    f"{np.max(np.abs(ours.mse_path_ / lasso.mse_path_ - 1)):.1e}",
)

# %%
# The cross-validation curve
# --------------------------
# The mean held-out error against alpha, with one standard deviation over the
# folds: flat on the left (too little penalty costs little on these data),
# rising steeply on the right, where the weights are shrunk away.
fig, ax = plt.subplots(figsize=(6, 4))
mean, std = ours.mse_path_.mean(axis=1), ours.mse_path_.std(axis=1)
ax.plot(ours.alphas_, mean, label="WeightedLinearRegressorCV")
ax.fill_between(ours.alphas_, mean - std, mean + std, alpha=0.2)
ax.plot(lasso.alphas_, lasso.mse_path_.mean(axis=1), "k:", label="LassoCV")
ax.axvline(ours.alpha_, color="black", linestyle="--", label="alpha_")
ax.set_xscale("log")
ax.set_xlabel("alpha")
ax.set_ylabel("held-out mean squared error")
ax.legend()

# %%
# After ``fit`` the CV estimator is the regressor fitted at ``alpha_``: its
# report reads like any other, and says how alpha was chosen. Its figure
# draws the same curve in the training panel.
print(ours.weights_report())

# %%
# The classifier and LogisticRegressionCV
# ---------------------------------------
# :class:`~sk_weights.WeightedLinearClassifierCV` chooses the alpha of the
# best mean held-out accuracy (the strongest penalty among equal scores).
# ``alpha`` and ``C`` are related by ``C = 1 / (alpha * n_samples)``; here both
# try ten values over the same range of penalties.
X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
n_train = len(y) * 4 / 5  # the rows each fold trains on
alphas = np.logspace(0, -4, 10)
ours, ours_seconds = timed(WeightedLinearClassifierCV(alphas=alphas), X, y)
theirs, their_seconds = timed(
    LogisticRegressionCV(
        Cs=1 / (alphas * n_train),
        l1_ratios=(0.0,),
        scoring=None,
        use_legacy_attributes=False,
    ),
    X,
    y,
)
print(f"WeightedLinearClassifierCV: alpha_ = {ours.alpha_:.4g} in {ours_seconds:.2f} s")
alpha_lr = 1 / (np.ravel(theirs.C_)[0] * n_train)
print(f"LogisticRegressionCV:       alpha = {alpha_lr:.4g} in {their_seconds:.2f} s")
print("mean held-out accuracy per alpha:", np.round(ours.score_path_.mean(axis=1), 4))
