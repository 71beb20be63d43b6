"""The one place that absorbs scikit-learn's private-API and version churn.

Each shim names the scikit-learn version that needs it, so that it can go when
the declared minimum (``pyproject.toml``) passes that version.
"""

import re

import sklearn
from sklearn.base import _fit_context  # noqa: F401  (private, stable since 1.3)
from sklearn.utils import _safe_indexing  # noqa: F401  (rows of arrays and frames)
from sklearn.utils._param_validation import make_constraint  # noqa: F401  (>= 1.2)
from sklearn.utils.validation import (  # noqa: F401
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

#: The installed scikit-learn as (major, minor), e.g. (1, 6).
SKLEARN_VERSION = tuple(
    int(part) for part in re.match(r"(\d+)\.(\d+)", sklearn.__version__).groups()
)

# The part of check_array's message for an X with more than two dimensions.
# scikit-learn >= 1.7: "Found array with dim 3, while dim <= 2 is required by X.";
# scikit-learn 1.6: "Found array with dim 3. X expected <= 2."
TOO_MANY_DIMENSIONS_MESSAGE = (
    "while dim <= 2 is required" if SKLEARN_VERSION >= (1, 7) else "expected <= 2."
)

try:  # sklearn.callback exists from scikit-learn 1.9 on.
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callbacks API."""

    HAS_CALLBACKS = False
else:
    HAS_CALLBACKS = True
