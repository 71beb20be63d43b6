"""
How sure are the weights: standard errors and p-values
=======================================================

An unpenalised linear model has the classical answer to "how sure is this
weight?" in closed form: a standard error, a p-value and a confidence
interval per weight, as a statistics package prints them.
:func:`~sk_weights.weight_inference` computes them at the estimator's own
fitted weights. We read the table of a least-squares model of diabetes
progression, set it beside statsmodels' when statsmodels is installed, try a
heteroscedasticity-robust covariance, compare with bootstrap refits, and end
with logistic and Poisson regression.
"""

# %%
# The classical table of least squares
# ------------------------------------
# Ten measurements of 442 patients, standardised so that the weights are
# comparable; the target is a measure of disease progression a year later.
# ``penalty=None`` fits ordinary least squares.
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_weights import (
    WeightedLinearClassifier,
    WeightedLinearRegressor,
    weight_inference,
    weight_stability,
)

X, y = load_diabetes(return_X_y=True, as_frame=True)
X[:] = StandardScaler().fit_transform(X)
model = WeightedLinearRegressor(penalty=None)

report = weight_inference(model, X, y)
print(report)

# %%
# Each weight is followed by its standard error and its p-value for "this
# weight is 0"; the header line says what they are: the classical
# covariance, and Student's t with 442 - 11 = 431 degrees of freedom.
# ``bmi``, ``s5``, ``bp`` and ``sex`` are far from zero. ``s1`` and ``s2`` have
# large weights of opposite signs and large standard errors: the two serum
# measurements are strongly correlated, and the data cannot say how to share
# their effect between them.
#
# The whole table, with the statistics and the 95 % intervals:
table = report.to_frame()[
    ["weight", "weight_se", "statistic", "p_value", "weight_low", "weight_high"]
]
print(table.round(4))
print("intercept:", report.to_dict()["inference"]["intercept"])

# %%
# Beside statsmodels
# ------------------
# statsmodels is the reference for this table. If it is installed, its
# ``OLS`` on the same data prints the same numbers.
try:
    import statsmodels.api as sm
except ImportError:
    sm = None
    print("statsmodels is not installed: only our table is shown.")

if sm is not None:
    result = sm.OLS(y, sm.add_constant(X)).fit()
    print(result.summary().tables[1])
    ours = table.loc[list(X.columns)]
    print(
        "largest difference in standard errors:",
        float(np.max(np.abs(ours["weight_se"] - result.bse[X.columns]))),
    )

# %%
# A robust covariance
# -------------------
# The classical standard errors assume the same noise variance for every
# patient. White's "sandwich" (HC0) and its small-sample corrections
# (HC1-HC3) do not. With HC3 the standard errors hardly change here, a sign
# that the constant-variance assumption does little harm on these data.
robust = weight_inference(model, X, y, cov_type="HC3")
both = table[["weight_se"]].assign(HC3=robust.to_frame()["weight_se"])
if sm is not None:
    hc3 = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC3").bse
    both["statsmodels HC3"] = hc3[both.index]
print(both.round(3))

# %%
# Against bootstrap refits
# ------------------------
# :func:`~sk_weights.weight_stability` answers the same question by refitting
# on resamples of the rows: it needs no formula and works for penalised
# models and networks, where the table is not available. For this
# unpenalised model the bootstrap standard deviations are close to the
# standard errors, but they cost a refit each and move with the resamples.
bootstrap = weight_stability(model, X, y, n_resamples=30, random_state=0)
compare = table[["weight_se"]].assign(bootstrap_std=bootstrap.to_frame()["weight_std"])
print(compare.round(2))

# %%
# Logistic regression
# -------------------
# For a two-class :class:`~sk_weights.WeightedLinearClassifier` the table is
# that of ``Logit``: z statistics from the normal distribution. We take the
# ten "mean" measurements of the breast-cancer data; with all thirty, the
# features separate the classes perfectly, the unpenalised weights have no
# finite optimum, and the function says so. A pipeline is fine: the table
# is that of the last step, on its standardised inputs.
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X = X.iloc[:, :10]
pipeline = make_pipeline(StandardScaler(), WeightedLinearClassifier(penalty=None))
logistic = weight_inference(pipeline, X, y)
print(logistic)
if sm is not None:
    result = sm.Logit(y, sm.add_constant(StandardScaler().fit_transform(X))).fit(disp=0)
    print(result.bse.round(3).to_numpy())

# %%
# Counts: Poisson regression
# --------------------------
# ``loss="poisson"`` fits counts with a log link, and the table is that of
# statsmodels' ``GLM`` with the Poisson family. We simulate visit counts
# that grow with the first input and fall with the second; the third does
# nothing. A weight ``w`` multiplies the expected count by ``exp(w)`` per
# unit of its input, so the interval of ``exp(w)`` reads as a rate ratio.
rng = np.random.default_rng(0)
Z = rng.normal(size=(500, 3))
visits = rng.poisson(np.exp(0.5 + Z @ np.array([0.3, -0.2, 0.0])))
poisson = weight_inference(
    WeightedLinearRegressor(loss="poisson", penalty=None), Z, visits
)
print(poisson)
rates = np.exp(poisson.to_frame()[["weight", "weight_low", "weight_high"]])
print(rates.round(3))
if sm is not None:
    result = sm.GLM(visits, sm.add_constant(Z), family=sm.families.Poisson()).fit()
    print(result.bse.round(4))

# %%
# A penalised model gets a clear error instead: its weights are biased
# towards zero, and :func:`~sk_weights.weight_stability` is the tool for it.
try:
    weight_inference(WeightedLinearRegressor(penalty="l1", alpha=1.0), X, y)
except ValueError as error:
    print(error)
