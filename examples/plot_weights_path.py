"""
The regularisation path: weights against the penalty strength
==============================================================

How do the weights of an L1 model come to be? Fit it for a grid of penalty
strengths ``alpha``, each fit starting from the previous weights, and watch
the features enter one by one as alpha falls. For the linear regressor, whose
objective is scikit-learn's ElasticNet's, the path is the one
:func:`sklearn.linear_model.enet_path` computes; for a network it is a trend.
"""

# %%
# The L1 path of a linear model
# -----------------------------
# The default grid starts at ``alpha_max``, the smallest alpha at which every
# weight is zero, and goes down three decades.
import numpy as np
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import enet_path
from sklearn.preprocessing import StandardScaler

from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor, weights_path

X, y = load_diabetes(return_X_y=True, as_frame=True)
X[:] = StandardScaler().fit_transform(X)
path = weights_path(WeightedLinearRegressor(penalty="l1"), X, y, n_alphas=50)
print(path)
fig_path = path.plot()

# %%
# Read the figure from left to right: at the strongest penalty every weight
# is zero; ``bmi`` and ``s5`` enter first, the features that explain most of
# the target per unit of weight. Some weights grow, then shrink or change
# sign as correlated features enter (``s1`` and ``s2``, two cholesterol
# measures). The training R² (below) always grows as alpha falls: the path
# does not say which alpha to use; held-out data do.
#
# The same path by coordinate descent
# -----------------------------------
# ``enet_path`` fits no intercept, so it is given centred data.
Xc, yc = X.to_numpy() - X.to_numpy().mean(axis=0), y.to_numpy() - y.mean()
alphas, coefs, _ = enet_path(Xc, yc, l1_ratio=1.0, alphas=path.alphas, tol=1e-10)
gap = np.abs(path.coefs - coefs.T).max() / np.abs(coefs).max()
print(f"largest difference from enet_path, relative to the largest weight: {gap:.1e}")

# %%
# A network's path
# ----------------
# A network has no closed-form ``alpha_max``: pass a grid (by default it spans
# ``100 * v`` to ``1e-3 * v``, with ``v`` the mean variance of the features).
# The weights drawn are its effective input weights ``coef_``, one line per
# input and class. With L1 the first-layer weights of the weakest inputs go to
# exactly zero as alpha grows, cutting those inputs off. A network's path is
# walked from the weakest alpha up (a network whose weights are all zero
# cannot leave zero: no weight receives a gradient there), its first fit from
# fresh initial weights, each later one warm-started from the one before.
# The fits are short, so convergence warnings are
# silenced here.
import warnings

from sklearn.exceptions import ConvergenceWarning

Xi, yi = load_iris(return_X_y=True, as_frame=True)
Xi[:] = StandardScaler().fit_transform(Xi)
network = MLPWeightsClassifier(
    hidden_layer_sizes=(8,),
    penalty="l1",
    learning_rate_init=0.02,
    max_iter=200,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    network_path = weights_path(network, Xi, yi, alphas=np.logspace(0, -4, 13))
print(network_path)
fig_network = network_path.plot(top=6)
