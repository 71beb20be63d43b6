"""
How sure are the weights: bootstrap refits and stability selection
===================================================================

One fit gives one set of weights. Refitting on resamples of the data shows
how much each weight would move with another sample, and how reliably an L1
penalty keeps each feature. We refit an L1 linear model of diabetes
progression on bootstrap resamples and on half-samples (stability
selection), then aggregate the models of a cross-validation.
"""

# %%
# Bootstrap intervals of an L1 model
# ----------------------------------
# Ten measurements of 442 patients, standardised so that the weights are
# comparable; the target is a measure of disease progression a year later.
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import cross_validate
from sklearn.preprocessing import StandardScaler

from sk_weights import WeightedLinearRegressor, weight_stability, weights_report

X, y = load_diabetes(return_X_y=True, as_frame=True)
X[:] = StandardScaler().fit_transform(X)
model = WeightedLinearRegressor(penalty="l1", alpha=1.0)

report = weight_stability(model, X, y, n_resamples=50, random_state=0)
print(report)

# %%
# Each weight is followed by the 2.5 % and 97.5 % percentiles of its 50
# refits, and by the share of refits in which it is not zero. ``bmi`` and
# ``s5`` are pinned down: narrow intervals far from zero, selected every time.
# Others are kept by some resamples and dropped by others: the single fit's
# verdict on them (a small weight, or exactly zero) is a coin toss.
#
# The figure draws the intervals as error bars over the single fit's bars
# and adds the selection frequencies.
fig = report.plot(top=10)

# %%
# Stability selection: half-samples
# ---------------------------------
# With ``method="subsample"`` each refit sees half the rows, drawn without
# replacement. Features selected in nearly every half-sample are the ones the
# data support; the rest were picked by chance.
selection = weight_stability(
    model, X, y, n_resamples=50, method="subsample", random_state=0
)
frame = selection.to_frame()[["weight", "weight_low", "weight_high"]]
frame["selected"] = selection.to_frame()["selection_frequency"]
print(frame.round(2))
stable = frame.index[frame["selected"] >= 0.9].tolist()
print("selected in at least 90 % of the half-samples:", stable)

# %%
# The models of a cross-validation
# --------------------------------
# Models fitted elsewhere are aggregated the same way: here the five models
# of a cross-validation. The rows hold the mean weight over the folds.
folds = cross_validate(model, X, y, cv=5, return_estimator=True)
print(weights_report(list(folds["estimator"])))
print("held-out R² per fold:", np.round(folds["test_score"], 3))
