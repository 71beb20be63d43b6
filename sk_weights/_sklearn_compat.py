"""The one place that absorbs scikit-learn's private-API and version churn."""

from sklearn.base import _fit_context  # noqa: F401  (private, stable since 1.3)
from sklearn.utils.validation import (  # noqa: F401
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

try:  # sklearn.callback exists from scikit-learn 1.9 on.
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callbacks API."""

    HAS_CALLBACKS = False
else:
    HAS_CALLBACKS = True
