"""
Logistic regression with readable weights
=========================================

:class:`~sk_weights.WeightedLinearClassifier` learns one row of weights per
class (one row for two classes) and turns the weighted sums into
probabilities. Here an L1 penalty keeps a few of the 30 features of the
breast-cancer data; the weights are the same as scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` with
``C = 1 / (alpha * n_samples)``, to rounding, with the same zeros.
"""

# %%
# Fit on standardised features
# ----------------------------
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sk_weights import WeightedLinearClassifier

data = load_breast_cancer()
X = StandardScaler().fit_transform(data.data)
y = data.target
alpha = 0.02
model = WeightedLinearClassifier(penalty="l1", alpha=alpha).fit(X, y)
print(f"solver: {model.solver_}, {model.stop_reason_} after {model.n_iter_} rounds")
print(f"{np.count_nonzero(model.coef_)} of {X.shape[1]} weights are nonzero")
print(f"training accuracy {model.train_score_:.3f}")

# %%
# The same optimum as LogisticRegression
# --------------------------------------
# scikit-learn 1.8 names an L1 penalty by ``l1_ratio=1`` alone; older
# versions need ``penalty="elasticnet"`` with it.
old_api = tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 8)
reference = LogisticRegression(
    **({"penalty": "elasticnet"} if old_api else {}),
    l1_ratio=1.0,
    C=1 / (alpha * len(y)),
    solver="saga",
    tol=1e-10,
    max_iter=100_000,
).fit(X, y)
print("same zeros:", np.array_equal(model.coef_ == 0, reference.coef_ == 0))
print(f"largest difference: {np.abs(model.coef_ - reference.coef_).max():.1e}")

# %%
# The weights that survive
# ------------------------
# A positive weight raises the log-odds of ``classes_[1]`` (benign), a
# negative one lowers them, per standard deviation of its feature.
kept = np.flatnonzero(model.coef_[0])
order = kept[np.argsort(model.coef_[0, kept])]
fig, ax = plt.subplots(figsize=(6, 4))
ax.barh(data.feature_names[order], model.coef_[0, order])
ax.set_xlabel("weight (change of the log-odds of benign per std)")
ax.set_title("L1-penalised logistic regression")
fig.tight_layout()
plt.show()
