"""Input errors that say what to do: advice added to scikit-learn's messages.

scikit-learn's validation finds the problem (NaN, wrong shape, strings, ...);
:func:`explained_input_errors` keeps its message, so tools that match it keep
working, and appends the cure.
"""

from contextlib import contextmanager
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn import get_config

from sk_weights._sklearn_compat import TOO_MANY_DIMENSIONS_MESSAGE, validate_data

#: The most numbers an inspection tool (``explain``, ``weights_path``,
#: ``weight_stability``, ``mc_dropout``) may allocate for what its arguments
#: ask: 2**28, i.e. 2 GiB of float64. More is refused with a ValueError naming
#: the argument, before any allocation or work.
MAX_ELEMENTS = 2**28

#: (part of scikit-learn's message, what the user should do), first match wins.
INPUT_ADVICE = (
    (
        "sample_weight contains",
        "Give every sample a finite, non-negative weight.",
    ),
    (
        "contains NaN",
        "Remove or impute the missing values first, e.g. with "
        "sklearn.impute.SimpleImputer in a Pipeline.",
    ),
    (
        "contains infinity",
        "Replace the infinite or huge values (e.g. clip them) and scale the "
        "features, e.g. with sklearn.preprocessing.StandardScaler.",
    ),
    (
        "0 sample(s)",
        "Pass at least one sample (the data are empty).",
    ),
    (
        "0 feature(s)",
        "Pass at least one feature column.",
    ),
    (
        TOO_MANY_DIMENSIONS_MESSAGE,
        "Pass a 2-D array of shape (n_samples, n_features), e.g. flatten each "
        "sample with X.reshape(len(X), -1).",
    ),
    (
        "inconsistent numbers of samples",
        "X, y and sample_weight need one entry per sample: check that they "
        "come from the same rows.",
    ),
    (
        "Complex data not supported",
        "Pass real numbers, e.g. the real and imaginary parts as separate features.",
    ),
    (
        "could not convert",
        "X must be numeric: encode text or categorical columns first, e.g. "
        "with sklearn.preprocessing.OneHotEncoder.",
    ),
    (
        "Negative values in data passed to `sample_weight`",
        "Sample weights must be non-negative: a weight says how much a sample "
        "counts in the loss.",
    ),
    (
        "sample_weight.shape",
        "Pass one weight per sample: len(sample_weight) == len(X).",
    ),
    (
        "at least one non-zero",
        "At least one sample needs a positive weight for the model to learn.",
    ),
    (
        "is expecting",
        "Pass the same feature columns, in the same order, as in fit (or refit "
        "the model on the new columns).",
    ),
)


@contextmanager
def explained_input_errors():
    """Re-raise input-validation ValueErrors with advice on how to fix the input."""
    try:
        yield
    except ValueError as exc:
        message = str(exc)
        for pattern, advice in INPUT_ADVICE:
            if pattern in message and advice not in message:
                raise ValueError(f"{message.rstrip()} {advice}") from exc
        raise


def validate_input(estimator, *args, **kwargs):
    """``validate_data`` with :func:`explained_input_errors` around it.

    Plain finite NumPy arrays, which it would return unchanged, skip it
    (:func:`_plain_arrays`): on small data its checks for data frames cost
    more than a fit.
    """
    plain = _plain_arrays(estimator, *args, **kwargs)
    if plain is not None:
        return plain
    with explained_input_errors():
        return validate_data(estimator, *args, **kwargs)


#: The options of ``validate_data`` that :func:`_plain_arrays` knows.
_PLAIN_OPTIONS = frozenset(
    {"reset", "accept_sparse", "dtype", "multi_output", "y_numeric"}
)


def _plain_arrays(estimator, X, y="no_validation", **options):
    """What ``validate_data`` returns for plain arrays it accepts as they are, or None.

    The fast path of :func:`validate_input`: X an ``ndarray`` (not a
    subclass, not a data frame, so without feature names) or a CSR or CSC
    matrix of a format ``options["accept_sparse"]`` names, of at least one
    row and column, of a dtype ``options["dtype"]`` allows, with finite
    values; y, if given (and not None), a 1-D (or, with ``multi_output``,
    2-D) ``ndarray`` of numbers, finite, one per row. It sets
    ``n_features_in_`` (and drops ``feature_names_in_``) as ``validate_data``
    does with ``reset``; without ``reset`` it requires the fitted number of
    features and no fitted names. Anything else, including every input to
    refuse, returns None and goes through ``validate_data``, which accepts,
    converts or explains.
    """
    if not options.keys() <= _PLAIN_OPTIONS or "dtype" not in options:
        return None
    dtypes = options["dtype"]
    dtypes = dtypes if isinstance(dtypes, (list, tuple)) else [dtypes]
    if sp.issparse(X):
        accepted = options.get("accept_sparse", False)
        if accepted is True:
            accepted = ("csr", "csc")
        elif isinstance(accepted, str):
            accepted = (accepted,)
        # Formats validate_data keeps as they are; its finiteness check
        # reads the stored values.
        kept = X.format in ("csr", "csc") and X.format in (accepted or ())
        values = X.data if kept else None
    else:
        kept, values = type(X) is np.ndarray, X
    if (
        not kept
        or X.ndim != 2
        or 0 in X.shape
        or X.dtype not in dtypes
        or get_config()["array_api_dispatch"]
        or not np.isfinite(values.sum(dtype=np.float64))
    ):
        return None
    no_y = isinstance(y, str) and y == "no_validation"  # validate_data's default
    if not no_y:
        y_dims = (1, 2) if options.get("multi_output", False) else (1,)
        if (
            type(y) is not np.ndarray
            or y.ndim not in y_dims
            or 0 in y.shape
            or y.dtype.kind not in "fiu"
            or len(y) != X.shape[0]
            or (y.dtype.kind == "f" and not np.isfinite(y.sum(dtype=np.float64)))
        ):
            return None
    if options.get("reset", True):
        estimator.n_features_in_ = X.shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif getattr(estimator, "n_features_in_", None) != X.shape[1] or hasattr(
        estimator, "feature_names_in_"
    ):
        return None
    return X if no_y else (X, y)


def check_count(value, name, low=1):
    """Return ``value`` as an int if it is an integer >= ``low`` (not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise ValueError(
            f"{name} must be an integer >= {low}, got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def check_n_jobs(n_jobs):
    """``n_jobs`` as joblib takes it: None, or a nonzero integer (not a bool)."""
    if n_jobs is None:
        return None
    if (
        isinstance(n_jobs, (bool, np.bool_))
        or not isinstance(n_jobs, Integral)
        or n_jobs == 0
    ):
        raise ValueError(
            f"n_jobs must be None or a nonzero integer (-1: all cores), got {n_jobs!r}."
        )
    return int(n_jobs)


def check_budget(n_elements, parameter, tool):
    """Refuse arguments that would make ``tool`` allocate over ``MAX_ELEMENTS``.

    ``n_elements`` is the number of values the call would allocate (an exact
    Python integer: no overflow); ``parameter`` names what to lower.
    """
    if n_elements > MAX_ELEMENTS:
        raise ValueError(
            f"{parameter} asks {tool} for {n_elements:,} values, more than the "
            f"{MAX_ELEMENTS:,} (2 GiB of float64) it allocates at most; "
            + (
                "pass fewer rows at a time."
                if parameter == "X"
                else f"lower {parameter.split('=')[0].split(' ')[0]}."
            )
        )


def n_columns(X):
    """The number of columns of a 2-D array-like (1 if it has no second axis)."""
    shape = getattr(X, "shape", None)
    if shape is None:
        shape = np.shape(X)
    return int(shape[1]) if len(shape) > 1 else 1
