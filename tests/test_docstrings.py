"""Keep the public docstrings in step with the code they document.

numpydoc's validation checks every public class, method, property and
function of the package: sections in order, parameters documented exactly as
the signature has them (names, order, types, descriptions), summaries and
punctuation. The checks below are not enforced, and why:

- ES01 (no extended summary): a one-line summary is enough when it says all.
- RT02 (the Returns line names the value, as in ``self : object``): the
  scikit-learn convention the estimators follow.
- SA01 and EX01 (no See Also, no Examples) for methods only: the classes and
  functions have both, and a method's example is its class's.

Methods that the estimators inherit from scikit-learn (``get_params``,
``set_fit_request``, ...) carry scikit-learn's docstrings and are not checked
here.
"""

import inspect
from pathlib import Path

import pytest
from numpydoc.docscrape import ClassDoc
from numpydoc.validate import validate
from sklearn.datasets import load_diabetes, load_iris

import sk_weights

IGNORED = {"ES01", "RT02"}
IGNORED_FOR_METHODS = IGNORED | {"SA01", "EX01"}

PUBLIC_NAMES = [name for name in sk_weights.__all__ if name != "__version__"]


def _own_members(cls):
    """Public methods and properties of ``cls`` defined in this package."""
    for name in sorted(dir(cls)):
        if name.startswith("_"):
            continue
        for owner in cls.__mro__:
            if name in vars(owner):
                member = vars(owner)[name]
                break
        if not owner.__module__.startswith("sk_weights"):
            continue
        # available_if (partial_fit) wraps a method in a descriptor.
        if callable(member) or isinstance(member, property) or hasattr(member, "fn"):
            yield name


def _documented_objects():
    for name in PUBLIC_NAMES:
        obj = getattr(sk_weights, name)
        yield f"sk_weights.{name}", IGNORED
        if inspect.isclass(obj):
            for member in _own_members(obj):
                yield f"sk_weights.{name}.{member}", IGNORED_FOR_METHODS


DOCUMENTED = list(_documented_objects())


def test_every_public_object_is_checked():
    """Check that the checks below cover the classes, functions and methods."""
    names = {name for name, _ in DOCUMENTED}
    expected = {
        "sk_weights.WeightedLinearRegressor.fit",
        "sk_weights.WeightedLinearRegressor.partial_fit",
        "sk_weights.WeightedLinearRegressor.weights_report",
        "sk_weights.MLPWeightsClassifier.predict_proba",
        "sk_weights.MLPWeightsClassifier.coef_",
        "sk_weights.MLPWeightsClassifier.feature_importances_",
        "sk_weights.WeightsReport.to_frame",
        "sk_weights.weights_report",
        "sk_weights.save",
        "sk_weights.load",
    }
    assert expected <= names
    # Inherited from scikit-learn, documented there.
    assert "sk_weights.WeightedLinearRegressor.get_params" not in names


@pytest.mark.parametrize(
    "name, ignored", DOCUMENTED, ids=[name for name, _ in DOCUMENTED]
)
def test_docstring_follows_numpydoc(name, ignored):
    """Check that the docstring passes numpydoc's validation and its signature."""
    result = validate(name)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in ignored
    ]
    assert not errors, f"{name}:\n" + "\n".join(errors)


def _documented_attributes(cls):
    names = set()
    for attribute in ClassDoc(cls)["Attributes"]:
        names.update(part.strip() for part in attribute.name.split(","))
    return names


def _fitted_attributes(estimator):
    """The public fitted attributes: instance attributes and properties ending in _."""
    names = {
        name
        for name in vars(estimator)
        if name.endswith("_") and not name.startswith("_")
    }
    names.update(
        name
        for name, member in inspect.getmembers(type(estimator))
        if isinstance(member, property)
        and name.endswith("_")
        and not name.startswith("_")
    )
    return names


def _linear_full_batch():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return sk_weights.WeightedLinearRegressor(alpha=0.1).fit(X, y)


def _linear_early_stopping():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return sk_weights.WeightedLinearRegressor(
        early_stopping=True, max_iter=5, random_state=0
    ).fit(X, y)


def _network_early_stopping():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return sk_weights.MLPWeightsClassifier(
        hidden_layer_sizes=(4,),
        early_stopping=True,
        max_iter=5,
        n_iter_no_change=5,
        random_state=0,
    ).fit((X - X.mean()) / X.std(), y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "make_estimator",
    [_linear_full_batch, _linear_early_stopping, _network_early_stopping],
)
def test_fitted_attributes_are_documented(make_estimator):
    """Check that Attributes lists exactly the attributes that fit sets."""
    estimator = make_estimator()
    fitted = _fitted_attributes(estimator)
    documented = _documented_attributes(type(estimator))
    assert fitted - documented == set(), "fitted but not documented"
    assert documented - fitted == set(), "documented but not set by fit"


def test_api_reference_lists_every_public_name():
    """Check that doc/api.rst has an entry for every name in __all__."""
    api = Path(__file__).parents[1] / "doc" / "api.rst"
    lines = {line.strip() for line in api.read_text(encoding="utf-8").splitlines()}
    missing = [name for name in PUBLIC_NAMES if name not in lines]
    assert not missing
    assert ".. data:: __version__" in lines
