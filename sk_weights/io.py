"""Safe persistence: save and load fitted estimators without pickle.

A model file is one NumPy ``.npz`` archive, written and read with
``allow_pickle=False``. It holds

- the floating-point arrays of the fitted state (weights, optimiser moments,
  ...), one ``.npy`` member each, bit for bit;
- a JSON header, stored as a ``uint8`` array in the member
  ``sk_weights_header``: the format version, the package version, the class
  name, ``get_params()``, the fitted scalars, lists and small integer or string
  arrays (``classes_``, ``feature_names_in_``), and the name, shape and dtype of
  every binary array.

Loading parses JSON and raw numeric arrays only, so it never runs code from
the file. It accepts only this package's estimator classes, checks every
parameter against the class's constraints and every fitted attribute's type,
shape and dtype against the header and against the class's own schema, and
raises a :class:`ValueError` that says what is wrong for a truncated,
corrupted, tampered or foreign file.
"""

import json
import os
import re
import zipfile
import zlib
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from sk_weights._sklearn_compat import check_is_fitted

__all__ = ["load", "save"]

#: Version of the file layout; bump it when the layout changes.
FORMAT_VERSION = 1
_FORMAT_NAME = "sk_weights.model"
_HEADER_KEY = "sk_weights_header"
# Fitted attributes that do not end in "_" but are part of the fitted state.
_PRIVATE_STATE = ("_optimizer_state",)
# Array members are named after the attribute path ("coefs_.0").
_KEY_PATTERN = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
# dtypes a model file may contain: numbers, booleans and unicode strings.
_DTYPE_PATTERN = re.compile(r"^([<>|])(f4|f8|i1|i2|i4|i8|u1|u2|u4|u8|b1|U\d{1,6})$")
_MAX_DEPTH = 8


def _registry():
    """The estimator classes a model file may name: this package's own."""
    from sk_weights import _linear, _mlp

    classes = [_linear.WeightedLinearRegressor, _mlp.MLPWeightsClassifier]
    return {cls.__name__: cls for cls in classes}


# -- saving -------------------------------------------------------------------


def save(estimator, file):
    """Save a fitted estimator of this package to a pickle-free ``.npz`` file.

    Parameters
    ----------
    estimator : WeightedLinearRegressor or MLPWeightsClassifier
        A fitted estimator of this package.
    file : str, os.PathLike or binary file object
        Where to write. A path is written as given (no ``.npz`` suffix is
        added).

    Raises
    ------
    TypeError
        If ``estimator`` is not one of this package's estimators, or a
        parameter or fitted attribute has a type the format cannot hold (for
        example ``random_state`` set to a ``RandomState`` instance).
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> import sk_weights
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = sk_weights.WeightedLinearRegressor(alpha=0.01).fit(X, y)
    >>> buffer = io.BytesIO()
    >>> sk_weights.save(model, buffer)
    >>> _ = buffer.seek(0)
    >>> loaded = sk_weights.load(buffer)
    >>> bool(np.array_equal(loaded.predict(X), model.predict(X)))
    True
    """
    registry = _registry()
    cls = type(estimator)
    if registry.get(cls.__name__) is not cls:
        raise TypeError(
            f"sk_weights.save stores this package's estimators only "
            f"({', '.join(sorted(registry))}), not {cls.__module__}.{cls.__name__}; "
            "use joblib or skops.io for other objects."
        )
    check_is_fitted(estimator)
    arrays = {}
    params = {
        name: _encode(value, f"parameter {name!r}", None, arrays)
        for name, value in estimator.get_params(deep=False).items()
    }
    attributes = {
        name: _encode(value, name, name, arrays)
        for name, value in sorted(vars(estimator).items())
        if _is_fitted_attribute(name)
    }
    from sk_weights import __version__

    header = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sk_weights_version": __version__,
        "class": cls.__name__,
        "params": params,
        "attributes": attributes,
    }
    text = json.dumps(header, allow_nan=True, sort_keys=True)
    arrays[_HEADER_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as handle:
            np.savez(handle, **arrays)
    else:
        np.savez(file, **arrays)


def _is_fitted_attribute(name):
    """Whether attribute ``name`` belongs to the fitted state."""
    public_fitted = name.endswith("_") and not name.startswith("_")
    return public_fitted or name in _PRIVATE_STATE


def _encode(value, what, key, arrays):
    """Turn ``value`` into a JSON node; floating arrays go to ``arrays``.

    Plain JSON values stand for themselves; every JSON object is a tagged node
    (``{"type": ...}``) so that tuples, dicts with non-string keys, NumPy
    scalars and arrays keep their exact type.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return {"type": "scalar", "dtype": value.dtype.str, "value": value.item()}
    if isinstance(value, np.ndarray):
        return _encode_array(value, what, key, arrays)
    if isinstance(value, (list, tuple)):
        items = [
            _encode(item, what, None if key is None else f"{key}.{i}", arrays)
            for i, item in enumerate(value)
        ]
        return items if isinstance(value, list) else {"type": "tuple", "items": items}
    if isinstance(value, dict):
        items = []
        for i, (name, item) in enumerate(value.items()):
            if not (name is None or isinstance(name, (bool, str, Integral, float))):
                raise TypeError(f"{what} has a dict key of type {type(name)}.")
            safe = isinstance(name, str) and re.match(r"^[A-Za-z0-9_]+$", name)
            item_key = None if key is None else f"{key}.{name if safe else i}"
            items.append(
                [
                    _encode(name, what, None, arrays),
                    _encode(item, what, item_key, arrays),
                ]
            )
        return {"type": "dict", "items": items}
    raise TypeError(
        f"{what} holds a {type(value).__module__}.{type(value).__name__}, which "
        "the safe format cannot store: it keeps numbers, strings, None, arrays, "
        "lists, tuples and dicts only. For a parameter such as random_state, use "
        "an int or None."
    )


def _encode_array(array, what, key, arrays):
    """Encode an array: fitted floats as a binary member, the rest inline in JSON.

    Parameters (``key`` None) are small and inline whatever their dtype; JSON
    writes floats with ``repr``, which reads back to the same bits.
    """
    shape = list(array.shape)
    if array.dtype == object:
        values = array.ravel().tolist()
        if not all(isinstance(item, str) for item in values):
            raise TypeError(f"{what} is an object array of non-strings.")
        return {"type": "array", "dtype": "object", "shape": shape, "value": values}
    dtype = array.dtype.str
    if not _DTYPE_PATTERN.match(dtype):
        raise TypeError(
            f"{what} has dtype {array.dtype}, which the format cannot hold."
        )
    if array.dtype.kind == "f" and key is not None:
        if not _KEY_PATTERN.match(key):
            raise TypeError(f"{what} is stored under an unsupported name {key!r}.")
        arrays[key] = array
        return {"type": "array", "dtype": dtype, "shape": shape, "key": key}
    return {
        "type": "array",
        "dtype": dtype,
        "shape": shape,
        "value": array.ravel().tolist(),
    }


# -- loading ------------------------------------------------------------------


def load(file):
    """Load an estimator saved by :func:`save`, without running any code.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A model file written by :func:`save`.

    Returns
    -------
    estimator : WeightedLinearRegressor or MLPWeightsClassifier
        The fitted estimator, rebuilt from its parameters and fitted state: it
        predicts bit-identically to the saved one, and ``partial_fit``
        continues where it stopped.

    Raises
    ------
    ValueError
        If the file is not a model file of this package, is truncated,
        corrupted or tampered with, names a class other than this package's
        estimators, or holds parameters or arrays that do not fit the class.

    See Also
    --------
    save : Write a model file.

    Examples
    --------
    >>> import io
    >>> import sk_weights
    >>> sk_weights.load(io.BytesIO(b"not a model"))
    Traceback (most recent call last):
    ...
    ValueError: Not a valid sk_weights model file: ...
    """
    try:
        archive = np.load(file, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it is a single .npy array, not an .npz archive")
        with archive:
            members = {name: archive[name] for name in archive.files}
    except (
        OSError,
        EOFError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        UnicodeDecodeError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        reason = str(exc)
        if "pickled" in reason:
            # NumPy reads anything that is neither .npz nor .npy as a pickle,
            # which is refused: say what the file is not, not what was refused.
            reason = "it is not an .npz archive (nothing in it was run)"
        raise ValueError(f"Not a valid sk_weights model file: {reason}") from exc
    return _rebuild(members)


def _fail(message):
    raise ValueError(f"Not a valid sk_weights model file: {message}.")


def _rebuild(members):
    """Rebuild the estimator from the archive's members (all validated)."""
    header = _read_header(members)
    cls = _registry().get(header["class"])
    if cls is None:
        _fail(
            f"it names class {header['class']!r}, which is not an estimator of "
            "this package"
        )

    used = set()
    params = _decode_mapping(header["params"], members, used, "params")
    expected = set(cls().get_params(deep=False))
    if set(params) != expected:
        unexpected = sorted(set(params) - expected)
        missing = sorted(expected - set(params))
        _fail(
            f"the parameters do not match {cls.__name__}'s (unexpected: "
            f"{unexpected}, missing: {missing})"
        )
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        _fail(f"invalid parameter: {exc}")

    attributes = _decode_mapping(header["attributes"], members, used, "attributes")
    if not all(_is_fitted_attribute(name) for name in attributes):
        _fail("its attributes include names that are not fitted attributes")
    unused = set(members) - used - {_HEADER_KEY}
    if unused:
        _fail(f"it holds arrays the header does not describe: {sorted(unused)}")
    _SCHEMAS[cls.__name__](attributes, estimator)
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator


def _read_header(members):
    """Parse and check the JSON header."""
    raw = members.get(_HEADER_KEY)
    if raw is None:
        _fail(f"it has no {_HEADER_KEY!r} member (not written by sk_weights.save)")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        _fail("its header is not a byte array")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        _fail(f"its header is not valid JSON ({exc})")
    if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
        _fail("its header does not describe an sk_weights model")
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        _fail(f"unknown format version {version!r}")
    if version > FORMAT_VERSION:
        _fail(
            f"it was written in format version {version} by a newer sk_weights "
            f"(this one reads up to {FORMAT_VERSION}); upgrade sk_weights"
        )
    for field in ("class", "params", "attributes"):
        if field not in header:
            _fail(f"its header lacks {field!r}")
    if not isinstance(header["class"], str):
        _fail("its class name is not a string")
    return header


def _decode_mapping(node, members, used, where):
    """Decode a JSON object of names to nodes (the parameters, the attributes)."""
    if not isinstance(node, dict):
        _fail(f"its {where} are not a mapping of names")
    return {
        name: _decode(value, members, used, f"{where}.{name}")
        for name, value in node.items()
    }


def _decode(node, members, used, where, depth=0):
    """Turn a JSON node back into a value; arrays are checked against the header."""
    if depth > _MAX_DEPTH:
        _fail(f"{where} is nested too deeply")
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list):
        return [
            _decode(item, members, used, f"{where}[{i}]", depth + 1)
            for i, item in enumerate(node)
        ]
    if not isinstance(node, dict):
        _fail(f"{where} is not a value the format knows")
    kind = node.get("type")
    if kind == "tuple" and set(node) == {"type", "items"}:
        items = _decode(node["items"], members, used, where, depth + 1)
        if not isinstance(items, list):
            _fail(f"{where} is a malformed tuple")
        return tuple(items)
    if kind == "dict" and set(node) == {"type", "items"}:
        result = {}
        if not isinstance(node["items"], list):
            _fail(f"{where} is a malformed dict")
        for pair in node["items"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                _fail(f"{where} is a malformed dict")
            name = _decode(pair[0], members, used, where, depth + 1)
            if not (name is None or isinstance(name, (bool, str, int, float))):
                _fail(f"{where} has a dict key that is not a plain value")
            result[name] = _decode(pair[1], members, used, f"{where}.{name}", depth + 1)
        return result
    if kind == "scalar" and set(node) == {"type", "dtype", "value"}:
        dtype = _check_dtype(node["dtype"], where)
        value = node["value"]
        if isinstance(value, bool) != (dtype.kind == "b") or not isinstance(
            value, (bool, int, float)
        ):
            _fail(f"{where} is a malformed {dtype} scalar")
        if dtype.kind in "iu" and type(value) is not int:
            _fail(f"{where} is a malformed {dtype} scalar")
        scalar = dtype.type(value)
        if scalar.item() != value and value == value:
            _fail(f"{where} does not fit in {dtype}")
        return scalar
    if kind == "array":
        return _decode_array(node, members, used, where)
    _fail(f"{where} has an unknown node type {kind!r}")


def _check_dtype(text, where):
    """Return the dtype ``text`` names if the format allows it."""
    if not isinstance(text, str) or not _DTYPE_PATTERN.match(text):
        _fail(f"{where} has a dtype the format does not allow ({text!r})")
    return np.dtype(text)


def _decode_array(node, members, used, where):
    """Rebuild an array node: a binary member or inline JSON values."""
    shape = node.get("shape")
    if not (
        isinstance(shape, list)
        and len(shape) <= 4
        and all(type(n) is int and n >= 0 for n in shape)
    ):
        _fail(f"{where} has a malformed shape {shape!r}")
    shape = tuple(shape)
    if set(node) == {"type", "dtype", "shape", "key"}:
        dtype = _check_dtype(node["dtype"], where)
        key = node["key"]
        if not isinstance(key, str) or key == _HEADER_KEY or key not in members:
            _fail(f"{where} refers to a missing array {key!r}")
        if key in used:
            _fail(f"{where} reuses the array {key!r}")
        array = members[key]
        if array.dtype != dtype or array.shape != shape or dtype.kind != "f":
            _fail(
                f"array {key!r} is {array.dtype} of shape {array.shape}, but the "
                f"header says {dtype} of shape {shape}"
            )
        used.add(key)
        return array
    if set(node) != {"type", "dtype", "shape", "value"}:
        _fail(f"{where} is a malformed array")
    values = node["value"]
    if not isinstance(values, list) or len(values) != int(np.prod(shape)):
        _fail(f"{where} does not hold {int(np.prod(shape))} values")
    if node["dtype"] == "object":
        if not all(isinstance(value, str) for value in values):
            _fail(f"{where} is an object array of non-strings")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    dtype = _check_dtype(node["dtype"], where)
    allowed = {"b": bool, "i": int, "u": int, "U": str, "f": float}.get(dtype.kind)
    if allowed is None or not all(type(value) is allowed for value in values):
        _fail(f"{where} holds values that are not {dtype}")
    try:
        array = np.array(values, dtype=dtype).reshape(shape)
    except (OverflowError, ValueError) as exc:
        _fail(f"{where} holds values that do not fit {dtype} ({exc})")
    if array.ravel().tolist() != values:
        _fail(f"{where} holds values that do not fit {dtype}")
    return array


# -- what each class's fitted state must look like ------------------------------


class _Checker:
    """Strict type and shape checks on a decoded fitted state."""

    def __init__(self, attributes, class_name):
        self.attributes = attributes
        self.class_name = class_name
        self.seen = set()

    def fail(self, name, expected):
        _fail(f"{self.class_name}.{name} should be {expected}")

    def get(self, name, required=True):
        self.seen.add(name)
        if name not in self.attributes:
            if required:
                _fail(f"{self.class_name} needs the fitted attribute {name!r}")
            return None
        return self.attributes[name]

    def integer(self, name, low=0, required=True):
        value = self.get(name, required)
        if value is None and not required:
            return None
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            self.fail(name, "an integer")
        if value < low:
            self.fail(name, f"an integer >= {low}")
        return int(value)

    def number(self, name, optional=False):
        value = self.get(name, required=not optional)
        if value is None and optional:
            return None
        if not isinstance(value, (float, int, np.floating, np.integer)) or isinstance(
            value, bool
        ):
            self.fail(name, "a number" + (" or None" if optional else ""))
        return value

    def number_list(self, name, optional=False):
        value = self.get(name, required=not optional)
        if value is None and optional:
            return None
        if not isinstance(value, list) or not all(
            isinstance(item, (float, int, np.floating, np.integer))
            and not isinstance(item, bool)
            for item in value
        ):
            self.fail(name, "a list of numbers" + (" or None" if optional else ""))
        return value

    def array(self, name, shape, dtype=None, kind="f", required=True, value=None):
        array = self.get(name, required) if value is None else value
        if array is None and not required:
            return None
        if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
            self.fail(name, f"an array of shape {tuple(shape)}")
        if kind == "str":
            if array.dtype.kind != "U" and not (
                array.dtype == object
                and all(isinstance(item, str) for item in array.ravel())
            ):
                self.fail(name, "an array of strings")
        elif array.dtype.kind not in kind or (
            dtype is not None and array.dtype != dtype
        ):
            self.fail(name, f"an array of dtype {dtype or kind}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            self.fail(name, "finite")
        return array

    def optimizer_state(self, n_params, dtype, solvers):
        """The optimiser's state kept between partial_fit calls."""
        state = self.get("_optimizer_state", required=False)
        if state is None:
            return
        if not isinstance(state, dict) or state.get("solver") not in solvers:
            self.fail("_optimizer_state", f"a dict naming a solver in {solvers}")
        # The keys tell the optimiser apart (the recorded solver name is the
        # estimator's, which "auto" may resolve differently per call).
        if "t" in state:
            fields = {"solver", "t", "first_moment", "second_moment"}
            moments = ("first_moment", "second_moment")
            count = "t"
        else:
            fields = {"solver", "learning_rate", "velocity"}
            moments = ("velocity",)
            count = None
        if set(state) != fields:
            self.fail("_optimizer_state", f"a dict with the keys {sorted(fields)}")
        for moment in moments:
            self.array(
                f"_optimizer_state.{moment}", (n_params,), dtype, value=state[moment]
            )
        if count is not None and (type(state[count]) is not int or state[count] < 0):
            self.fail("_optimizer_state.t", "an integer >= 0")
        if "learning_rate" in state and not (
            isinstance(state["learning_rate"], float) and state["learning_rate"] > 0
        ):
            self.fail("_optimizer_state.learning_rate", "a positive float")

    def training_history(self):
        """The attributes every estimator keeps about its training run."""
        self.integer("n_iter_")
        self.number_list("loss_curve_")
        self.number("best_loss_", optional=True)
        self.number_list("validation_scores_", optional=True)
        self.number("best_validation_score_", optional=True)
        self.integer("t_", required=False)

    def finish(self):
        """Reject any attribute the class does not have."""
        unexpected = sorted(set(self.attributes) - self.seen)
        if unexpected:
            _fail(f"{self.class_name} has no fitted attributes {unexpected}")


def _check_linear(attributes, estimator):
    """Check a WeightedLinearRegressor's fitted state."""
    check = _Checker(attributes, type(estimator).__name__)
    n_features = check.integer("n_features_in_", low=1)
    coef = check.get("coef_")
    if not isinstance(coef, np.ndarray) or coef.ndim not in (1, 2):
        check.fail(
            "coef_", "an array of shape (n_features,) or (n_targets, n_features)"
        )
    n_targets = 1 if coef.ndim == 1 else coef.shape[0]
    shape = (n_features,) if coef.ndim == 1 else (n_targets, n_features)
    check.array("coef_", shape, kind="f")
    if coef.ndim == 1:
        intercept = check.number("intercept_")
        if not np.isfinite(intercept):
            check.fail("intercept_", "finite")
    else:
        check.array("intercept_", (n_targets,), coef.dtype)
    check.array("feature_std_", (n_features,), np.float64)
    check.array("feature_names_in_", (n_features,), kind="str", required=False)
    check.training_history()
    # What the full-batch solver records (which method ran, why it stopped).
    for name, options in [
        ("solver_", ("gram", "x", "sgd", "adam")),
        ("stop_reason_", ("converged", "early_stopping", "max_iter")),
    ]:
        if check.get(name, required=False) not in (None, *options):
            check.fail(name, f"one of {options}")
    for name in ("weight_norms_curve_", "zero_fraction_curve_"):
        curve = check.get(name, required=False)
        rows = curve.shape[0] if isinstance(curve, np.ndarray) else 0
        check.array(name, (rows, 1), np.float64, required=False)
    check.optimizer_state(
        (n_features + 1) * n_targets, coef.dtype, ("fista", "sgd", "adam")
    )
    check.finish()


def _check_mlp(attributes, estimator):
    """Check an MLPWeightsClassifier's fitted state."""
    check = _Checker(attributes, type(estimator).__name__)
    n_features = check.integer("n_features_in_", low=1)
    classes = check.get("classes_")
    if not (
        isinstance(classes, np.ndarray)
        and classes.ndim == 1
        and classes.size >= 2
        and (classes.dtype.kind in "biufU" or classes.dtype == object)
        and len(set(classes.tolist())) == classes.size
    ):
        check.fail("classes_", "an array of at least two distinct labels")
    n_outputs = 1 if classes.size == 2 else classes.size
    if check.integer("n_outputs_", low=1) != n_outputs:
        check.fail("n_outputs_", f"{n_outputs} for {classes.size} classes")
    out_activation = "logistic" if n_outputs == 1 else "softmax"
    if check.get("out_activation_") != out_activation:
        check.fail("out_activation_", repr(out_activation))
    try:
        hidden = estimator._hidden_sizes()
    except ValueError as exc:
        _fail(f"invalid hidden_layer_sizes: {exc}")
    sizes = [n_features, *hidden, n_outputs]
    if check.integer("n_layers_") != len(sizes):
        check.fail("n_layers_", str(len(sizes)))
    dtype = None  # that of the first weight matrix, for all the others
    for name, shapes in [
        ("coefs_", list(zip(sizes[:-1], sizes[1:]))),
        ("intercepts_", [(n,) for n in sizes[1:]]),
    ]:
        arrays = check.get(name)
        if not isinstance(arrays, list) or len(arrays) != len(shapes):
            check.fail(name, f"a list of {len(shapes)} arrays")
        for i, (array, shape) in enumerate(zip(arrays, shapes)):
            dtype = check.array(f"{name}[{i}]", shape, dtype, value=array).dtype
    check.array("feature_names_in_", (n_features,), kind="str", required=False)
    check.training_history()
    n_params = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes[1:])
    check.optimizer_state(n_params, dtype, ("sgd", "adam"))
    check.finish()


_SCHEMAS = {
    "WeightedLinearRegressor": _check_linear,
    "MLPWeightsClassifier": _check_mlp,
}
