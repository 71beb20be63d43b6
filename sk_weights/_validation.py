"""Input errors that say what to do: advice added to scikit-learn's messages.

scikit-learn's validation finds the problem (NaN, wrong shape, strings, ...);
:func:`explained_input_errors` keeps its message, so tools that match it keep
working, and appends the cure.
"""

from contextlib import contextmanager

from sk_weights._sklearn_compat import TOO_MANY_DIMENSIONS_MESSAGE, validate_data

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
    """``validate_data`` with :func:`explained_input_errors` around it."""
    with explained_input_errors():
        return validate_data(estimator, *args, **kwargs)
