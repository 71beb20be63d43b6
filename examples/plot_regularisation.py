"""
Over-fitting and regularisation: L2, L1, elastic net and dropout
================================================================

When a model has many weights and few samples, least squares can fit the
training data almost exactly and predict new data badly: the weights have
learned the noise. Regularisation adds a price for large weights to the
loss,

``L(w) = mean loss + alpha * (l1_ratio * Σ|w| + ½ (1 − l1_ratio) * Σw²)``

and trades a little training error for weights that generalise. We watch
over-fitting happen, then compare what the L2 penalty (shrinks every
weight), the L1 penalty (sets weights to exactly zero), the elastic net (a
mix) and dropout (noise that acts like a penalty) do to the weights of
:class:`~sk_weights.WeightedLinearRegressor`, and let
:class:`~sklearn.model_selection.GridSearchCV` choose among them.
"""

# %%
# Over-fitting
# ------------
# The diabetes data: 10 measurements of 442 patients and a measure of the
# disease's progress a year later. We train on 100 patients with all 65
# products of two measurements (``PolynomialFeatures``) and test on the other
# 342. Without a penalty the 65 weights fit the training patients well and
# the others terribly (an R² below 0 is worse than predicting the mean).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sk_weights import WeightedLinearRegressor

data = load_diabetes()
X, y = data.data, data.target
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=100, random_state=0
)


def polynomial_model(**params):
    """Standardise, add the pairwise products, standardise them, regress."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("poly", PolynomialFeatures(degree=2, include_bias=False)),
            ("scale_poly", StandardScaler()),
            ("model", WeightedLinearRegressor(max_iter=5000, **params)),
        ]
    )


plain = polynomial_model(penalty=None).fit(X_train, y_train)
print(f"no penalty: training R² {plain.score(X_train, y_train):.2f}")
print(f"no penalty: test R²     {plain.score(X_test, y_test):.2f}")

# %%
# L2 shrinkage against over-fitting
# ---------------------------------
# As ``alpha`` grows the L2 penalty pulls all the weights towards zero: the
# training score drops steadily, the test score first rises (less noise
# learned), then falls too (the weights are too small to fit the pattern).
alphas = np.geomspace(1e-4, 30, 16)
train_r2, test_r2, norms = [], [], []
for alpha in alphas:
    model = polynomial_model(penalty="l2", alpha=alpha).fit(X_train, y_train)
    train_r2.append(model.score(X_train, y_train))
    test_r2.append(model.score(X_test, y_test))
    norms.append(np.linalg.norm(model[-1].coef_))

fig, (ax_score, ax_norm) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_score.semilogx(alphas, train_r2, "o-", label="training patients")
ax_score.semilogx(alphas, test_r2, "s-", label="test patients")
ax_score.axhline(0, color="black", linewidth=0.8)
ax_score.set(xlabel="alpha", ylabel="R²", title="L2 penalty: fit vs generalisation")
ax_score.set_ylim(-1.5, 1)
ax_score.legend()
ax_norm.loglog(alphas, norms, "o-", color="C2")
ax_norm.set(xlabel="alpha", ylabel="‖coef_‖₂", title="The weights shrink")

# %%
# Regularisation paths: L2, L1 and elastic net
# --------------------------------------------
# Back to the 10 standardised measurements of all 442 patients. For each
# penalty we refit along a grid of ``alpha`` and draw every weight against
# it. L2 shrinks all weights together and none reaches zero; L1 drops them
# one by one to **exactly** zero (it is applied by soft-thresholding, a
# proximal step, not by a gradient that would leave ``1e-9`` behind);
# the elastic net does both.
X_all = StandardScaler().fit_transform(X)
path_alphas = np.geomspace(1e-2, 1e3, 40)
penalties = {
    "L2 (penalty='l2')": {"penalty": "l2"},
    "L1 (penalty='l1')": {"penalty": "l1"},
    "elastic net, l1_ratio=0.5": {"penalty": "elasticnet", "l1_ratio": 0.5},
}
paths = {
    title: np.array(
        [
            WeightedLinearRegressor(alpha=alpha, **params).fit(X_all, y).coef_
            for alpha in path_alphas
        ]
    )
    for title, params in penalties.items()
}
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True, layout="constrained")
for ax, (title, coefs) in zip(axes, paths.items()):
    ax.semilogx(path_alphas, coefs)
    ax.set(title=title, xlabel="alpha")
axes[0].set_ylabel("weight")
axes[-1].legend(data.feature_names, fontsize=8, ncol=2)

# %%
# The number of weights at exactly zero along the L1 path, and a check
# against scikit-learn's :class:`~sklearn.linear_model.Lasso`, which
# minimises the same objective by coordinate descent:
l1_path = paths["L1 (penalty='l1')"]
for alpha, coef in list(zip(path_alphas, l1_path))[::6]:
    print(f"alpha={alpha:9.3f}: {int((coef == 0).sum()):2d} of 10 weights are 0")
ours = WeightedLinearRegressor(penalty="l1", alpha=1.0).fit(X_all, y).coef_
lasso = Lasso(alpha=1.0, tol=1e-10, max_iter=100_000).fit(X_all, y).coef_
print("largest difference to Lasso(alpha=1):", np.abs(ours - lasso).max())

# %%
# Dropout
# -------
# Dropout zeroes each input of each sample with probability ``p`` during
# training and scales the survivors by ``1/(1 − p)``; prediction uses every
# input. The noise makes large weights costly: averaged over the random
# masks, the squared error gains ``p/(1 − p) · Σ var(x_j) w_j²``. On
# standardised inputs that is the L2 penalty with ``alpha = p/(1 − p)``. The
# weights trained with dropout (by mini-batch gradient descent, so up to its
# noise) land close to that ridge solution.
rate = 0.5
unpenalised = WeightedLinearRegressor(penalty=None).fit(X_all, y)
dropped = WeightedLinearRegressor(
    penalty=None, dropout=rate, max_iter=3000, random_state=0
).fit(X_all, y)
ridge = WeightedLinearRegressor(penalty="l2", alpha=rate / (1 - rate)).fit(X_all, y)
print("no penalty:      ", unpenalised.coef_.round(1))
print(f"dropout={rate}:     ", dropped.coef_.round(1))
print(f"L2, alpha={rate / (1 - rate):g}:    ", ridge.coef_.round(1))

fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
positions = np.arange(X_all.shape[1])
for shift, model, label in [
    (-0.27, unpenalised, "no penalty"),
    (0.0, dropped, f"dropout={rate}"),
    (0.27, ridge, f"L2, alpha={rate / (1 - rate):g}"),
]:
    ax.bar(positions + shift, model.coef_, width=0.27, label=label)
ax.set_xticks(positions, data.feature_names)
ax.axhline(0, color="black", linewidth=0.8)
ax.set(ylabel="weight", title="Dropout shrinks the weights like an L2 penalty")
ax.legend()

# %%
# Choosing the penalty with cross-validation
# ------------------------------------------
# Which penalty, and how strong? The test patients must not decide (they
# would no longer be unseen), so :class:`~sklearn.model_selection.GridSearchCV`
# tries every combination with 5-fold cross-validation on the 100 training
# patients only, then refits the best one on all of them.
grid = GridSearchCV(
    polynomial_model(),
    {
        "model__penalty": ["l2", "l1", "elasticnet"],
        "model__alpha": np.geomspace(0.1, 100, 7),
    },
    cv=5,
).fit(X_train, y_train)
print("best:", grid.best_params_)
print(f"cross-validated R² {grid.best_score_:.3f}")
print(f"test R²            {grid.score(X_test, y_test):.3f}")
kept = int((grid.best_estimator_[-1].coef_ != 0).sum())
print(f"the chosen model uses {kept} of 65 weights")

results = grid.cv_results_
fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for penalty in ["l2", "l1", "elasticnet"]:
    rows = results["param_model__penalty"] == penalty
    ax.semilogx(
        np.asarray(results["param_model__alpha"][rows], dtype=float),
        results["mean_test_score"][rows],
        "o-",
        label=penalty,
    )
ax.set(xlabel="alpha", ylabel="mean cross-validated R²", title="GridSearchCV")
ax.legend()
plt.show()
