"""
Quick start: read the weights of a linear model
===============================================

Fit :class:`~sk_weights.WeightedLinearRegressor` with an L1 penalty on the
diabetes data bundled with scikit-learn and read the learned weights: one per
input feature, several of them exactly zero.
"""

# %%
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_weights import WeightedLinearRegressor

X, y = load_diabetes(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

model = make_pipeline(
    StandardScaler(), WeightedLinearRegressor(penalty="l1", alpha=1.0)
)
model.fit(X_train, y_train)
regressor = model[-1]

# %%
# ``y = w1*x1 + ... + wn*xn + b``: the weights ``w`` are ``coef_``, the bias
# ``b`` is ``intercept_``. The L1 penalty set some weights to exactly zero.
for name, weight in zip(X.columns, regressor.coef_):
    print(f"{name:>4s}  {weight:+8.3f}")
print(f"bias  {regressor.intercept_:+8.3f}")
print(f"{int((regressor.coef_ == 0).sum())} of {regressor.coef_.size} weights are 0")
print(f"R^2 on held-out data: {model.score(X_test, y_test):.3f}")
