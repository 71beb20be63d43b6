"""Glass-box linear and neural models trained by NumPy gradient descent.

The estimators plug into scikit-learn and expose their weights (``coef_``,
``coefs_``) and a learned-weights report.
"""

from sk_weights._cv import WeightedLinearClassifierCV, WeightedLinearRegressorCV
from sk_weights._linear import WeightedLinearClassifier, WeightedLinearRegressor
from sk_weights._mlp import MLPWeightsClassifier, MLPWeightsRegressor
from sk_weights.exceptions import DivergenceError, PoorFitWarning
from sk_weights.inspection import (
    Explanation,
    MCDropoutResult,
    WeightsPath,
    explain,
    mc_dropout,
    weight_inference,
    weight_stability,
    weights_path,
)
from sk_weights.io import load, save
from sk_weights.report import WeightsReport, weights_report

__version__ = "0.2.0"

__all__ = [
    "DivergenceError",
    "Explanation",
    "MCDropoutResult",
    "MLPWeightsClassifier",
    "MLPWeightsRegressor",
    "PoorFitWarning",
    "WeightedLinearClassifier",
    "WeightedLinearClassifierCV",
    "WeightedLinearRegressor",
    "WeightedLinearRegressorCV",
    "WeightsPath",
    "WeightsReport",
    "__version__",
    "explain",
    "load",
    "mc_dropout",
    "save",
    "weight_inference",
    "weight_stability",
    "weights_path",
    "weights_report",
]
