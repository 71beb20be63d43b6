"""Safe persistence: save and load fitted models without pickle.

A model file is one NumPy ``.npz`` archive (a zip file of ``.npy`` members),
written and read with ``allow_pickle=False``. It holds

- the floating-point arrays of the fitted state (weights, optimiser moments,
  curves, ...), one ``.npy`` member each, bit for bit;
- a JSON header, stored as a ``uint8`` array in the member
  ``sk_weights_header.npy``: the format version, the package version, the class
  name, ``get_params()``, the fitted scalars, lists and small integer or string
  arrays (``classes_``, ``feature_names_in_``), and the name, shape and dtype of
  every binary array. A ``Pipeline(StandardScaler, estimator)`` is stored as
  its two steps, their arrays under ``steps.0.`` and ``steps.1.``.

Loading parses JSON and raw numeric arrays only, so it never runs code from
the file. It accepts only this package's estimator classes (and a
``StandardScaler`` as the first step of a pipeline), checks every parameter
against the class's constraints and every fitted attribute against the class's
schema (the tables at the end of this module) *before* reading any array, so
that a hostile file can neither make it allocate more than the model it
declares nor raise anything but a :class:`ValueError` that says what is wrong.
"""

import json
import math
import os
import re
import struct
import warnings
import zipfile
import zlib
from importlib import import_module
from numbers import Integral

import numpy as np
from numpy.lib import format as npy_format
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sk_weights._network import Layout
from sk_weights._optimizers import OPTIMIZERS, state_solver
from sk_weights._sklearn_compat import check_is_fitted
from sk_weights._training import FAMILY_RECORDS, RECORD_ATTRIBUTES

__all__ = ["load", "save"]

#: Version of the file layout; bump it when the layout changes.
FORMAT_VERSION = 1
_FORMAT_NAME = "sk_weights.model"
_HEADER_KEY = "sk_weights_header"
# Fitted attributes that do not end in "_" but are part of the fitted state.
_PRIVATE_STATE = ("_optimizer_state", "_feature_weight_sum")
# Array members are named after the attribute path ("coefs_.0").
_KEY_PATTERN = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
# dtypes a model file may contain: numbers, booleans and unicode strings.
_DTYPE_PATTERN = re.compile(r"^([<>|])(f4|f8|i1|i2|i4|i8|u1|u2|u4|u8|b1|U\d{1,6})$")
_MAX_DEPTH = 8
# Bounds that hold for any model file and cap what a hostile one can make
# load allocate before the header is checked: the zip directory (a model has
# a few members per layer), the JSON header (it holds the loss curves and the
# feature names) and each .npy member's own header (NumPy's default limit).
_MAX_DIRECTORY_BYTES = 2**20
_MAX_HEADER_BYTES = 64 * 2**20
_MAX_NPY_HEADER = 10_000
# JSON text deflates by a few times; a header that claims to inflate by more
# than this is refused before it is decompressed.
_MAX_HEADER_RATIO = 32
# Members are stored (as save writes them) or deflated (np.savez_compressed);
# zipfile decompresses bzip2 and lzma without a bound on the output of each
# read, so an archive using them is refused before anything is decompressed.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 2**20
#: The default of ``load(max_bytes=...)``: what a file may make load allocate
#: (its arrays' declared sizes plus its header), 1 GiB.
MAX_BYTES = 2**30
# Integers in the header must fit in int64, as every count of a model does.
_INT_RANGE = (-(2**63), 2**63 - 1)


def _class_of(name):
    """The class a model file names (a key of ``_ESTIMATORS``)."""
    return getattr(import_module(_ESTIMATORS[name].module), name)


def _our_classes():
    return {name: _class_of(name) for name in _ESTIMATORS if name not in _STEP_CLASSES}


# -- saving -------------------------------------------------------------------


def save(model, file):
    """Save a fitted model of this package to a pickle-free ``.npz`` file.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted estimator of this package, or a fitted
        ``Pipeline([(name, StandardScaler()), (name, estimator)])`` (what
        ``make_pipeline(StandardScaler(), estimator)`` builds).
    file : str, os.PathLike or binary file object
        Where to write. A path is written as given (no ``.npz`` suffix is
        added).

    Raises
    ------
    TypeError
        If ``model`` is neither one of this package's estimators nor such a
        pipeline, or a parameter or fitted attribute has a type the format
        cannot hold (for example ``random_state`` set to a ``RandomState``
        instance), or ``file`` is neither a path nor a writable binary file.
    ValueError
        If ``file`` is a path to an existing directory.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.

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
    _check_save_target(file)
    arrays = {}
    if isinstance(model, Pipeline):
        _check_pipeline(model)
        params = model.get_params(deep=False)
        body = {
            "class": "Pipeline",
            "params": {
                key: _encode(params[key], f"parameter {key!r}", None, arrays)
                for key in ("memory", "transform_input", "verbose")
            },
            "steps": [
                [name, _describe(step, f"steps.{i}.", arrays)]
                for i, (name, step) in enumerate(model.steps)
            ],
        }
    else:
        _check_ours(model)
        body = _describe(model, "", arrays)
    from sk_weights import __version__

    header = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sk_weights_version": __version__,
        **body,
    }
    text = json.dumps(header, allow_nan=True, sort_keys=True)
    arrays[_HEADER_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "wb") as handle:
            np.savez(handle, **arrays)
    else:
        np.savez(file, **arrays)


def _check_save_target(file):
    """Refuse what cannot be written to before any work is done."""
    if isinstance(file, (str, os.PathLike)):
        if isinstance(file, str) and not file:
            raise ValueError("file must name a file to write, got an empty path.")
        if os.path.isdir(file):
            raise ValueError(
                f"file {os.fspath(file)!r} is a directory; give the path of the "
                "model file to write, e.g. model.npz inside it."
            )
    elif not callable(getattr(file, "write", None)):
        raise TypeError(
            "file must be a path (str or os.PathLike) or a binary file object "
            f"opened for writing, got {type(file).__name__}."
        )


def _check_ours(estimator):
    """Refuse what is not a fitted estimator of this package."""
    registry = _our_classes()
    cls = type(estimator)
    if registry.get(cls.__name__) is not cls:
        raise TypeError(
            f"sk_weights.save stores this package's estimators only "
            f"({', '.join(sorted(registry))}) and a Pipeline of a StandardScaler "
            f"and one of them, not {cls.__module__}.{cls.__name__}; use joblib "
            "or skops.io for other objects."
        )
    check_is_fitted(estimator)


def _check_pipeline(pipeline):
    """Refuse a pipeline other than a fitted StandardScaler + our estimator."""
    steps = pipeline.steps
    if not (len(steps) == 2 and type(steps[0][1]) is StandardScaler):
        raise TypeError(
            "sk_weights.save stores a Pipeline of a StandardScaler followed by "
            "one of this package's estimators only; use joblib or skops.io for "
            "other pipelines."
        )
    if pipeline.memory is not None or pipeline.transform_input is not None:
        raise TypeError("sk_weights.save stores a Pipeline with memory=None only.")
    names = [name for name, _ in steps]
    if not all(_valid_step_name(name) for name in names) or len(set(names)) != 2:
        raise TypeError(f"the Pipeline's step names {names} cannot be stored.")
    check_is_fitted(steps[0][1])
    _check_ours(steps[1][1])


def _describe(estimator, prefix, arrays):
    """The header entry of one estimator; its float arrays go to ``arrays``."""
    return {
        "class": type(estimator).__name__,
        "params": {
            name: _encode(value, f"parameter {name!r}", None, arrays)
            for name, value in estimator.get_params(deep=False).items()
        },
        "attributes": {
            name: _encode(value, name, prefix + name, arrays)
            for name, value in sorted(vars(estimator).items())
            if _is_fitted_attribute(name)
        },
    }


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


def load(file, *, max_bytes=MAX_BYTES):
    """Load a model saved by :func:`save`, without running any code.

    The archive's directory is checked before anything is decompressed: it
    must hold exactly the members the header describes, each an ``.npy``
    array, stored or deflated, with no name twice. Each array's declared size
    and its ``.npy`` header (dtype and shape) are checked against the shapes
    the model's own description implies (``n_features_in_``, the layer sizes,
    the classes, ...) before its data is read, and exactly that many bytes are
    read. So what ``load`` allocates is bounded by the size of the model the
    file declares, whatever the file holds; then the values are checked
    (finite weights, non-negative scales, sorted classes, ...).

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A model file written by :func:`save`.
    max_bytes : int, default=2**30
        The most memory (in bytes) the file may make ``load`` allocate: the
        sum of its arrays' declared sizes plus its header, as its directory
        and header declare them. A file declaring more is refused before any
        array is read; raise it to load a larger model. A loaded model takes
        about this declared size in memory.

    Returns
    -------
    model : estimator or Pipeline
        The fitted estimator (or ``Pipeline(StandardScaler, estimator)``),
        rebuilt from its parameters and fitted state: it predicts
        bit-identically to the saved one, and ``partial_fit`` continues where
        it stopped.

    Raises
    ------
    ValueError
        For any file that is not a valid model file of this package:
        truncated, corrupted, tampered with, a zip bomb, a foreign class,
        parameters or arrays that do not fit the class; or one that declares
        more than ``max_bytes``.
    TypeError
        If ``file`` is neither a path nor a readable binary file object, or
        ``max_bytes`` is not an integer.
    OSError
        If ``file`` is a path that does not exist or cannot be opened
        (``FileNotFoundError``, ``PermissionError``).

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
    if not isinstance(max_bytes, Integral) or isinstance(max_bytes, bool):
        raise TypeError(f"max_bytes must be an integer, got {max_bytes!r}.")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be at least 1, got {max_bytes}.")
    path = isinstance(file, (str, os.PathLike))
    if not path and not all(
        callable(getattr(file, method, None)) for method in ("read", "seek", "tell")
    ):
        raise TypeError(
            "file must be a path (str or os.PathLike) or a seekable binary file "
            f"object, got {type(file).__name__}."
        )
    try:
        if not path:
            return _load_archive(file, max_bytes)
        if os.path.isdir(file):
            _fail("it is a directory")
        # A missing or unreadable path raises the OSError open gives.
        with open(file, "rb") as handle:
            return _load_archive(handle, max_bytes)
    except _InvalidFile as exc:
        raise ValueError(str(exc)) from exc.__cause__


def _too_large(declared, max_bytes, what="its arrays and header"):
    raise ValueError(
        f"The model file declares {declared:,} bytes for {what}, more than "
        f"max_bytes={max_bytes:,}; if you trust the file and have the memory, "
        "load it with a larger max_bytes."
    )


class _InvalidFile(ValueError):
    """Raised inside load; load turns it into a plain ValueError."""


def _fail(message):
    raise _InvalidFile(f"Not a valid sk_weights model file: {message}.")


# What reading a hostile archive may raise inside zipfile, zlib and NumPy's
# .npy header parser; each becomes the ValueError that load promises.
_READ_ERRORS = (
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    UnicodeDecodeError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    ValueError,
)


def _load_archive(handle, max_bytes):
    """Check the zip directory, then the header, then read the members."""
    try:
        archive = _open_archive(handle)
    except _InvalidFile:
        raise
    except _READ_ERRORS as exc:
        _fail(f"it is not a readable .npz archive ({exc})")
    with archive:
        infos = _check_directory(archive)
        header_info = infos[_member_name(_HEADER_KEY)]
        if header_info.file_size > max_bytes:
            _too_large(header_info.file_size, max_bytes, "its header alone")
        header = _read_header(archive, header_info)
        plan = _Plan(infos, header_info.file_size)
        if header["class"] == "Pipeline":
            model, parts = _plan_pipeline(header, plan)
        else:
            model = _plan_estimator(header, plan, "its header")
            parts = [model]
        plan.check_members()
        declared = header_info.file_size + sum(m.nbytes for m in plan.used.values())
        if declared > max_bytes:
            _too_large(declared, max_bytes)
        for estimator, attributes, schema in plan.estimators:
            attributes = _fill(attributes, archive, plan)
            schema.check(attributes, estimator)  # now the values too
            for name, value in attributes.items():
                setattr(estimator, name, value)
    _check_parts(parts)
    return model


def _member_name(key):
    return f"{key}.npy"


def _open_archive(handle):
    """Open the zip archive, its directory bounded first; nothing is decompressed."""
    end = zipfile._EndRecData(handle)  # the end record, before zipfile parses
    if end is None:
        _fail("it is not an .npz archive (nothing in it was run)")
    if end[zipfile._ECD_SIZE] > _MAX_DIRECTORY_BYTES:
        _fail(
            f"its zip directory declares {end[zipfile._ECD_SIZE]} bytes, more than "
            f"a model file's {_MAX_DIRECTORY_BYTES}"
        )
    return zipfile.ZipFile(handle)


def _check_directory(archive):
    """Check the members' names, compression and sizes; return them by name."""
    infos = {}
    for info in archive.infolist():
        name = info.filename
        if name in infos:
            _fail(f"it has two members named {name!r}")
        infos[name] = info
    for name, info in infos.items():
        if not name.endswith(".npy"):
            also = f" (beside {name + '.npy'!r})" if name + ".npy" in infos else ""
            _fail(f"its member {name!r}{also} is not an .npy array")
        if info.flag_bits & 0x1:
            _fail(f"its member {name!r} is encrypted")
        if info.compress_type not in _COMPRESSIONS:
            method = zipfile.compressor_names.get(
                info.compress_type, info.compress_type
            )
            _fail(
                f"its member {name!r} is compressed with {method}; a model "
                "file's members are stored or deflated"
            )
        if info.compress_type == zipfile.ZIP_STORED and (
            info.compress_size != info.file_size
        ):
            _fail(f"its member {name!r} declares inconsistent sizes")
    header = infos.get(_member_name(_HEADER_KEY))
    if header is None:
        _fail(f"it has no {_HEADER_KEY!r} member (not written by sk_weights.save)")
    if header.file_size > _MAX_HEADER_BYTES + _MAX_NPY_HEADER:
        _fail(
            f"its header declares {header.file_size} bytes, more than the "
            f"{_MAX_HEADER_BYTES} a model file's header may have"
        )
    if header.file_size > _MAX_HEADER_RATIO * header.compress_size + 2**16:
        # Parsed JSON takes several times its text: a header that inflates
        # far beyond what JSON compresses to is a bomb, not a model.
        _fail(
            f"its header inflates from {header.compress_size} to "
            f"{header.file_size} bytes"
        )
    return infos


def _open_npy(archive, info):
    """Open a member and parse its ``.npy`` header: (stream, shape, fortran, dtype)."""
    stream = archive.open(info)
    try:
        version = npy_format.read_magic(stream)
        if version == (1, 0):
            read_header = npy_format.read_array_header_1_0
        elif version == (2, 0):
            read_header = npy_format.read_array_header_2_0
        else:
            _fail(f"its member {info.filename!r} has .npy version {version}")
        try:
            with warnings.catch_warnings():
                # Parsing hostile header text can warn (invalid escapes, a
                # "Python 2" header); what matters is whether it parses.
                warnings.simplefilter("ignore")
                shape, fortran, dtype = read_header(
                    stream, max_header_size=_MAX_NPY_HEADER
                )
        except _READ_ERRORS:
            raise
        except Exception as exc:
            # NumPy parses the header text as a Python literal (ast, tokenize,
            # np.dtype), which has more ways to fail than it turns into
            # ValueError: SyntaxError, tokenize.TokenError, RecursionError, ...
            _fail(
                f"its member {info.filename!r} has a malformed .npy header "
                f"({type(exc).__name__})"
            )
    except BaseException:
        stream.close()
        raise
    return stream, shape, fortran, dtype


def _read_into(stream, buffer, name):
    """Fill ``buffer`` from ``stream`` in chunks; the stream must end there."""
    view = memoryview(buffer).cast("B")
    position = 0
    while position < len(view):
        chunk = stream.read(min(_CHUNK, len(view) - position))
        if not chunk:
            _fail(f"its member {name!r} is truncated")
        view[position : position + len(chunk)] = chunk
        position += len(chunk)
    if stream.read(1):
        _fail(f"its member {name!r} is longer than its header says")


def _read_header(archive, info):
    """Read and parse the JSON header member (its size checked already)."""
    try:
        stream, shape, _, dtype = _open_npy(archive, info)
        with stream:
            if dtype != np.uint8 or len(shape) != 1:
                _fail("its header is not a byte array")
            if stream.tell() + shape[0] != info.file_size:
                _fail("its header's size does not match the zip directory")
            raw = bytearray(shape[0])
            _read_into(stream, raw, info.filename)
    except _InvalidFile:
        raise
    except _READ_ERRORS as exc:
        _fail(f"its header cannot be read ({exc})")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
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
    if not isinstance(header.get("class"), str):
        _fail("its header lacks the class name")
    return header


class _Member:
    """A binary array the header describes, not read yet: its key, dtype, shape."""

    def __init__(self, key, dtype, shape):
        self.key, self.dtype, self.shape = key, dtype, shape
        self.ndim = len(shape)
        self.nbytes = math.prod(shape) * dtype.itemsize


class _Plan:
    """The members the header refers to, checked against the zip directory."""

    def __init__(self, infos, header_size):
        self.infos = infos
        self.used = {}
        self.estimators = []
        # Inline arrays are rebuilt from the JSON: allow them a few times its
        # size (a string array's width can exceed its longest string).
        self.inline_budget = 16 * header_size + 2**16

    def inline(self, nbytes, where):
        self.inline_budget -= nbytes
        if self.inline_budget < 0:
            _fail(f"{where} declares more values than its header holds")

    def member(self, key, dtype, shape, where):
        name = _member_name(key) if isinstance(key, str) else None
        if name is None or key == _HEADER_KEY or name not in self.infos:
            _fail(f"{where} refers to a missing array {key!r}")
        if key in self.used:
            _fail(f"{where} reuses the array {key!r}")
        self.used[key] = member = _Member(key, dtype, shape)
        return member

    def check_members(self):
        """Exactly the described members; each declared size fits its shape."""
        names = {_member_name(key) for key in self.used}
        unused = set(self.infos) - names - {_member_name(_HEADER_KEY)}
        if unused:
            _fail(f"it holds arrays the header does not describe: {sorted(unused)[:5]}")
        for key, member in self.used.items():
            info = self.infos[_member_name(key)]
            if not 0 < info.file_size - member.nbytes <= _MAX_NPY_HEADER + 16:
                _fail(
                    f"its member {info.filename!r} declares {info.file_size} bytes, "
                    f"but a {member.dtype} array of shape {member.shape} takes "
                    f"{member.nbytes}"
                )


def _fill(node, archive, plan):
    """Replace every :class:`_Member` in a decoded value by the array read."""
    if isinstance(node, _Member):
        return _read_array(archive, plan.infos[_member_name(node.key)], node)
    if isinstance(node, list):
        return [_fill(item, archive, plan) for item in node]
    if isinstance(node, tuple):
        return tuple(_fill(item, archive, plan) for item in node)
    if isinstance(node, dict):
        return {key: _fill(value, archive, plan) for key, value in node.items()}
    return node


def _read_array(archive, info, member):
    """Read one member whose declared size was checked against the schema."""
    try:
        stream, shape, fortran, dtype = _open_npy(archive, info)
        with stream:
            if dtype != member.dtype or shape != member.shape:
                _fail(
                    f"array {member.key!r} is {dtype} of shape {shape}, but the "
                    f"header says {member.dtype} of shape {member.shape}"
                )
            if stream.tell() + member.nbytes != info.file_size:
                _fail(f"its member {info.filename!r} has a size its header denies")
            try:
                flat = np.empty(math.prod(shape), dtype=dtype)
            except MemoryError:
                _fail(f"array {member.key!r} does not fit in memory")
            _read_into(stream, flat, info.filename)
    except _InvalidFile:
        raise
    except _READ_ERRORS as exc:
        _fail(f"array {member.key!r} cannot be read ({exc})")
    return flat.reshape(shape, order="F" if fortran else "C")


def _plan_estimator(node, plan, where, scaler=False):
    """Decode an estimator's parameters and structure; check both (no data read).

    ``scaler``: the node must be the StandardScaler that starts a pipeline,
    else one of this package's estimators.
    """
    if not isinstance(node, dict) or not isinstance(node.get("class"), str):
        _fail(f"{where} does not name a class")
    for field in ("params", "attributes"):
        if field not in node:
            _fail(f"{where} lacks {field!r}")
    name = node["class"]
    if name not in _ESTIMATORS or (name in _STEP_CLASSES) != scaler:
        if where.startswith("step"):
            _fail("its Pipeline is not a StandardScaler followed by an estimator")
        _fail(f"it names class {name!r}, which is not an estimator of this package")
    cls = _class_of(name)
    params = _decode_mapping(node["params"], plan, "params")
    estimator = _build(cls, params)
    attributes = _decode_mapping(node["attributes"], plan, "attributes")
    if not all(_is_fitted_attribute(key) for key in attributes):
        _fail("its attributes include names that are not fitted attributes")
    schema = _ESTIMATORS[name]
    schema.check(attributes, estimator)  # shapes and dtypes of the members
    plan.estimators.append((estimator, attributes, schema))
    return estimator


#: Parameters added after the first file format: a file written before them
#: may lack them, and then gets their defaults (the models it saved had them).
_ADDED_PARAMS = {"loss", "huber_delta", "positive", "max_fun"}


def _build(cls, params):
    """Instantiate ``cls`` with ``params`` after checking them like fit does."""
    defaults = cls().get_params(deep=False)
    expected = set(defaults)
    older = expected - set(params)
    if older and older <= _ADDED_PARAMS:
        params = {**params, **{name: defaults[name] for name in older}}
    if set(params) != expected:
        unexpected = sorted(set(params) - expected)
        missing = sorted(expected - set(params))
        _fail(
            f"the parameters do not match {cls.__name__}'s (unexpected: "
            f"{unexpected}, missing: {missing})"
        )
    constraints = getattr(cls, "_parameter_constraints", {})
    for name, value in params.items():
        # scikit-learn's Interval(Integral) and Interval(Real) take True for 1:
        # a boolean is refused unless the parameter is a flag (or verbose).
        if isinstance(value, (bool, np.bool_)) and not (
            {"boolean", "verbose"} & set(map(str, constraints.get(name, [])))
        ):
            _fail(f"invalid parameter: {name}={value!r} is not a number")
    estimator = cls(**params)
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        _fail(f"invalid parameter: {' '.join(str(exc).split())}")
    return estimator


def _plan_pipeline(header, plan):
    """Decode a Pipeline(StandardScaler, estimator) header."""
    params = _decode_mapping(header.get("params"), plan, "params")
    if set(params) != {"memory", "transform_input", "verbose"} or (
        params["memory"] is not None
        or params["transform_input"] is not None
        or type(params["verbose"]) is not bool
    ):
        _fail(
            "its Pipeline parameters are not memory=None, transform_input=None "
            "and a boolean verbose"
        )
    steps = header.get("steps")
    if not (isinstance(steps, list) and len(steps) == 2):
        _fail("its Pipeline does not have two steps")
    names, estimators = [], []
    for i, step in enumerate(steps):
        if not (isinstance(step, list) and len(step) == 2):
            _fail(f"its Pipeline step {i} is malformed")
        name, node = step
        if not _valid_step_name(name) or name in names:
            _fail(f"its Pipeline step {i} has an invalid name {name!r}")
        names.append(name)
        estimators.append(_plan_estimator(node, plan, f"step {i}", scaler=i == 0))
    pipeline = Pipeline(list(zip(names, estimators)), **params)
    return pipeline, estimators


def _check_parts(parts):
    """Check that the steps of a pipeline fit together."""
    if len(parts) == 2 and parts[0].n_features_in_ != parts[1].n_features_in_:
        _fail(
            f"its StandardScaler has {parts[0].n_features_in_} features but its "
            f"estimator {parts[1].n_features_in_}"
        )


def _valid_step_name(name):
    return (
        isinstance(name, str)
        and 0 < len(name) <= 200
        and "__" not in name
        and name not in ("steps", "memory", "verbose", "transform_input")
    )


def _decode_mapping(node, plan, where):
    """Decode a JSON object of names to nodes (the parameters, the attributes)."""
    if not isinstance(node, dict):
        _fail(f"its {where} are not a mapping of names")
    return {
        name: _decode(value, plan, f"{where}.{name}") for name, value in node.items()
    }


def _decode(node, plan, where, depth=0):
    """Turn a JSON node back into a value; binary arrays become :class:`_Member`."""
    if depth > _MAX_DEPTH:
        _fail(f"{where} is nested too deeply")
    if type(node) is int and not _INT_RANGE[0] <= node <= _INT_RANGE[1]:
        _fail(f"{where} is the integer {node}, beyond the range of int64")
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, list):
        return [
            _decode(item, plan, f"{where}[{i}]", depth + 1)
            for i, item in enumerate(node)
        ]
    if not isinstance(node, dict):
        _fail(f"{where} is not a value the format knows")
    kind = node.get("type")
    if kind == "tuple" and set(node) == {"type", "items"}:
        items = _decode(node["items"], plan, where, depth + 1)
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
            name = _decode(pair[0], plan, where, depth + 1)
            if not (name is None or isinstance(name, (bool, str, int, float))):
                _fail(f"{where} has a dict key that is not a plain value")
            if name in result:
                _fail(f"{where} has the key {name!r} twice")
            result[name] = _decode(pair[1], plan, f"{where}.{name}", depth + 1)
        return result
    if kind == "scalar" and set(node) == {"type", "dtype", "value"}:
        return _decode_scalar(node, where)
    if kind == "array":
        return _decode_array(node, plan, where)
    _fail(f"{where} has an unknown node type {kind!r}")


def _decode_scalar(node, where):
    """A NumPy scalar; its value must fit its dtype exactly."""
    dtype = _check_dtype(node["dtype"], where)
    value = node["value"]
    allowed = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float)}
    if type(value) not in allowed.get(dtype.kind, ()):
        _fail(f"{where} is a malformed {dtype} scalar")
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            _fail(f"{where}: {value} does not fit in {dtype}")
    with np.errstate(all="ignore"):
        scalar = dtype.type(value)
    if scalar.item() != value and value == value:
        _fail(f"{where}: {value} does not fit in {dtype}")
    return scalar


def _check_dtype(text, where):
    """Return the dtype ``text`` names if the format allows it."""
    if not isinstance(text, str) or not _DTYPE_PATTERN.match(text):
        _fail(f"{where} has a dtype the format does not allow ({text!r})")
    return np.dtype(text)


def _decode_array(node, plan, where):
    """An array node: a binary member (not read yet) or inline JSON values."""
    shape = node.get("shape")
    if not (
        isinstance(shape, list)
        and len(shape) <= 4
        and all(type(n) is int and n >= 0 for n in shape)
    ):
        _fail(f"{where} has a malformed shape {shape!r}")
    shape = tuple(shape)
    size = math.prod(shape)
    if set(node) == {"type", "dtype", "shape", "key"}:
        dtype = _check_dtype(node["dtype"], where)
        if dtype.kind != "f":
            _fail(f"{where} stores a {dtype} array as a member; only floats are")
        return plan.member(node["key"], dtype, shape, where)
    if set(node) != {"type", "dtype", "shape", "value"}:
        _fail(f"{where} is a malformed array")
    values = node["value"]
    if not isinstance(values, list) or len(values) != size:
        _fail(f"{where} does not hold {size} values")
    if node["dtype"] == "object":
        plan.inline(size * 8, where)
        if not all(isinstance(value, str) for value in values):
            _fail(f"{where} is an object array of non-strings")
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    dtype = _check_dtype(node["dtype"], where)
    plan.inline(size * dtype.itemsize, where)
    allowed = {"b": bool, "i": int, "u": int, "U": str, "f": float}.get(dtype.kind)
    if allowed is None or not all(type(value) is allowed for value in values):
        _fail(f"{where} holds values that are not {dtype}")
    try:
        with np.errstate(all="ignore"):
            array = np.array(values, dtype=dtype).reshape(shape)
    except (OverflowError, ValueError) as exc:
        _fail(f"{where} holds values that do not fit {dtype} ({exc})")
    if array.ravel().tolist() != values:
        _fail(f"{where} holds values that do not fit {dtype}")
    return array


# -- what each class's fitted state must look like ------------------------------
#
# Each class's fitted state is a table: attribute name -> what it must be.
# Shapes are written with named sizes ("n_features", "n_layers", ...), which
# the class's ``dims`` function derives from the model's own description
# (n_features_in_, the network's Layout, the classes) before any array is
# read; a size no rule fixes ("n_epochs" of a full-batch fit) is fixed by the
# first array that uses it, and every other use must agree. Adding an attribute
# is one line of a table; adding an estimator class one entry of _ESTIMATORS.


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not (
        isinstance(value, (bool, np.bool_))
    )


class _Spec:
    """What one fitted attribute must be.

    ``required``: present after every fit (else optional, for attributes that
    files of earlier versions lack); ``none``: None is allowed.
    """

    expected = "a value"

    def __init__(self, *, required=True, none=False):
        self.required, self.none = required, none

    def check(self, value, name, context):
        if not self.valid(value, context):
            context.fail(name, self.expected + (" or None" if self.none else ""))

    def valid(self, value, context):
        return True


class _Int(_Spec):
    """An integer (not a boolean) in [low, high]; ``high`` may name a size."""

    def __init__(self, low=0, high=None, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = low, high

    def check(self, value, name, context):
        high = context.dims.get(self.high, self.high)
        if not (
            _is_integer(value) and value >= self.low and (high is None or value <= high)
        ):
            bounds = f">= {self.low}" + (f" and <= {high}" if high is not None else "")
            context.fail(name, f"an integer {bounds}" + " or None" * self.none)


class _Number(_Spec):
    def __init__(self, low=None, high=None, nan=False, finite=False, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high, self.nan, self.finite = low, high, nan, finite
        words = ["a finite number" if finite else "a number"]
        words += [f">= {low}"] * (low is not None) + [f"<= {high}"] * (high is not None)
        self.expected = " ".join(words)

    def valid(self, value, context):
        if not _is_number(value):
            return False
        if value != value:
            return self.nan
        return (
            (self.low is None or value >= self.low)
            and (self.high is None or value <= self.high)
            and (not self.finite or abs(value) != float("inf"))
        )


class _Choice(_Spec):
    def __init__(self, *values, **kwargs):
        super().__init__(**kwargs)
        self.values = values
        self.expected = f"one of {list(values)}"

    def valid(self, value, context):
        return isinstance(value, str) and value in self.values


class _Equal(_Spec):
    """The value the model's description implies (``dims[dim]``)."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim

    def check(self, value, name, context):
        expected = context.dims[self.dim]
        same_kind = (
            isinstance(value, str)
            if isinstance(expected, str)
            else (_is_integer(value))
        )
        if not (same_kind and value == expected):
            context.fail(name, repr(expected))


class _Numbers(_Spec):
    expected = "a list of numbers"

    def valid(self, value, context):
        return isinstance(value, list) and all(_is_number(v) for v in value)


class _Array(_Spec):
    """An array of the given shape (named sizes or the name of a whole shape).

    ``kind``: "f" floats (f4/f8, finite; ``dtype`` if given, and the same
    dtype for every array of ``group``), "str" strings; ``low``, ``above``,
    ``high``: bounds on the values (checked once the data is read).
    """

    def __init__(
        self,
        shape,
        kind="f",
        group=None,
        dtype=None,
        low=None,
        above=None,
        high=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.shape, self.kind, self.group, self.dtype = shape, kind, group, dtype
        self.low, self.above, self.high = low, above, high

    def check(self, value, name, context):
        shape = context.shape(self.shape, value, name)
        if not isinstance(value, (np.ndarray, _Member)) or value.shape != shape:
            context.fail(name, f"an array of shape {shape}")
        if self.kind == "str":
            if value.dtype.kind != "U" and not (
                value.dtype == object and all(isinstance(v, str) for v in value.flat)
            ):
                context.fail(name, "an array of strings")
            return
        if value.dtype.kind != "f":
            context.fail(name, "an array of floats")
        if self.dtype is not None and value.dtype != self.dtype:
            context.fail(name, f"an array of dtype {np.dtype(self.dtype)}")
        if self.group is not None:
            dtype = context.dims.setdefault(f"dtype of {self.group}", value.dtype)
            if value.dtype != dtype:
                context.fail(name, f"an array of dtype {dtype}")
        if isinstance(value, _Member):
            return  # the values are checked once read
        if not np.isfinite(value).all():
            context.fail(name, "finite")
        if self.low is not None and not (value >= self.low).all():
            context.fail(name, f">= {self.low} everywhere")
        if self.above is not None and not (value > self.above).all():
            context.fail(name, f"> {self.above} everywhere")
        if self.high is not None and not (value <= self.high).all():
            context.fail(name, f"<= {self.high} everywhere")


class _Arrays(_Spec):
    """A list of arrays whose shapes ``dims[shapes]`` lists (the layers)."""

    def __init__(self, shapes, group, **kwargs):
        super().__init__(**kwargs)
        self.shapes, self.group = shapes, group

    def check(self, value, name, context):
        shapes = context.dims[self.shapes]
        if not isinstance(value, list) or len(value) != len(shapes):
            context.fail(name, f"a list of {len(shapes)} arrays")
        for i, (array, shape) in enumerate(zip(value, shapes)):
            _Array(tuple(shape), group=self.group).check(array, f"{name}[{i}]", context)


class _Either(_Spec):
    """``when_true`` if ``dims[flag]`` else ``when_false``."""

    def __init__(self, flag, when_true, when_false, **kwargs):
        super().__init__(**kwargs)
        self.flag, self.specs = flag, (when_false, when_true)

    def check(self, value, name, context):
        self.specs[bool(context.dims[self.flag])].check(value, name, context)


class _Classes(_Spec):
    """The class labels: at least two, of one type, sorted and distinct.

    Numeric labels may be floats, stored as a binary member: until it is read,
    only its shape and dtype can be checked.
    """

    expected = "an array of at least two distinct labels, sorted"

    def valid(self, value, context):
        if not (
            isinstance(value, (np.ndarray, _Member))
            and value.ndim == 1
            and value.shape[0] >= 2
            and (value.dtype.kind in "biufU" or value.dtype == object)
        ):
            return False
        if isinstance(value, _Member):
            return True
        labels = value.tolist()
        kinds = {type(label) for label in labels}
        if len(kinds) != 1 or kinds - {bool, int, float, str}:
            return False
        if kinds == {float} and not np.isfinite(value).all():
            return False
        return all(a < b for a, b in zip(labels[:-1], labels[1:]))


class _SamplesSeen(_Spec):
    """StandardScaler's count: a whole number >= 1, or one count per feature."""

    expected = "a whole number >= 1 or an integer array of shape (n_features,)"

    def valid(self, value, context):
        if isinstance(value, np.ndarray):
            return (
                value.dtype.kind in "iu"
                and value.shape == (context.dims["n_features"],)
                and bool((value >= 0).all())
            )
        return _is_number(value) and 1 <= value < float("inf") and value == int(value)


class _OptimizerState(_Spec):
    """The optimiser's state kept between partial_fit calls.

    The state names its optimiser, whose ``STATE_SCHEMA`` says what it holds.
    """

    #: What each kind of entry of a ``STATE_SCHEMA`` must be.
    _NUMBERS = {
        "count": (int, lambda value: value >= 0, "an integer >= 0"),
        "rate": (float, lambda value: value > 0, "a positive float"),
    }

    def check(self, state, name, context):
        if not (
            isinstance(state, dict)
            and isinstance(state.get("solver"), str)
            and state_solver(state) in OPTIMIZERS
        ):
            context.fail(name, f"a dict naming a solver in {tuple(OPTIMIZERS)}")
        schema = OPTIMIZERS[state_solver(state)].STATE_SCHEMA
        fields = {"solver", *schema}
        if set(state) != fields:
            context.fail(name, f"a dict with the keys {sorted(fields)}")
        for key, kind in schema.items():
            if kind == "params":
                _Array(("n_params",), group="weights").check(
                    state[key], f"{name}.{key}", context
                )
        for key, kind in schema.items():
            if kind in self._NUMBERS:
                number_type, valid, expected = self._NUMBERS[kind]
                if not (type(state[key]) is number_type and valid(state[key])):
                    context.fail(f"{name}.{key}", expected)


class _Context:
    """The named sizes of one model, and its failure messages."""

    def __init__(self, class_name, attributes):
        self.class_name, self.attributes, self.dims = class_name, attributes, {}

    def fail(self, name, expected):
        _fail(f"{self.class_name}.{name} should be {expected}")

    def get(self, name, spec):
        """A checked attribute (for the sizes it fixes), or None if absent."""
        if name not in self.attributes:
            if spec.required:
                _fail(f"{self.class_name} needs the fitted attribute {name!r}")
            return None
        value = self.attributes[name]
        if not (value is None and spec.none):
            spec.check(value, name, self)
        return value

    def shape(self, shape, value, name):
        """Resolve named sizes; a free one is fixed by ``value``'s shape."""
        if isinstance(shape, str):
            return tuple(self.dims[shape])
        actual = getattr(value, "shape", ())
        resolved = []
        for i, dim in enumerate(shape):
            if isinstance(dim, str) and dim not in self.dims:
                if len(actual) != len(shape) or actual[i] < 1:
                    self.fail(name, f"an array of {len(shape)} non-empty dimensions")
                self.dims[dim] = actual[i]
            resolved.append(self.dims.get(dim, dim))
        return tuple(resolved)


class _Schema:
    """One class: how to find its sizes, and its table of attributes."""

    def __init__(self, module, dims, *tables):
        self.module, self.dims = module, dims
        self.table = {name: spec for table in tables for name, spec in table.items()}

    def check(self, attributes, estimator):
        context = _Context(type(estimator).__name__, attributes)
        self.dims(context, estimator, self.table)
        for name, spec in self.table.items():
            context.get(name, spec)
        unexpected = sorted(set(attributes) - set(self.table))
        if unexpected:
            _fail(f"{context.class_name} has no fitted attributes {unexpected}")


def _training_dims(context, table, stochastic):
    """Sizes of the training records; curves follow loss_curve_ when stochastic."""
    curve = context.get("loss_curve_", table["loss_curve_"])
    context.dims["n_curve"] = len(curve)
    if stochastic:
        context.dims["n_epochs"] = len(curve)


def _linear_dims(context, estimator, table):
    """Sizes of a linear model: from n_features_in_ and coef_'s declared shape."""
    n_features = context.get("n_features_in_", table["n_features_in_"])
    coef = context.get("coef_", _Spec(none=True))
    if getattr(coef, "ndim", None) not in (1, 2):
        context.fail(
            "coef_", "an array of shape (n_features,) or (n_targets, n_features)"
        )
    one_target = coef.ndim == 1
    n_targets = 1 if one_target else coef.shape[0]
    if n_targets < 1:
        context.fail("coef_", "an array with at least one target")
    layout = Layout([n_features, n_targets])
    context.dims.update(
        n_features=n_features,
        n_targets=n_targets,
        one_target=one_target,
        coef_shape=(n_features,) if one_target else (n_targets, n_features),
        n_layers=layout.n_layers,
        n_params=layout.n_params,
    )
    solver = context.get("solver_", table["solver_"])
    _training_dims(context, table, stochastic=solver in ("sgd", "adam"))


def _linear_classifier_dims(context, estimator, table):
    """Sizes of a linear classifier: n_features_in_ and the number of classes."""
    n_features = context.get("n_features_in_", table["n_features_in_"])
    classes = context.get("classes_", table["classes_"])
    _check_class_weight(estimator, classes)
    n_classes = classes.shape[0]
    n_outputs = 1 if n_classes == 2 else n_classes
    layout = Layout([n_features, n_outputs])
    context.dims.update(
        n_features=n_features,
        n_outputs=n_outputs,
        coef_shape=(n_outputs, n_features),
        n_layers=layout.n_layers,
        n_params=layout.n_params,
    )
    solver = context.get("solver_", table["solver_"])
    _training_dims(context, table, stochastic=solver in ("sgd", "adam"))


def _network_dims(context, estimator, table):
    """Sizes of a network classifier: its outputs from classes_, then its Layout.

    Multilabel (one logistic output per label) is told by the declared
    ``out_activation_`` and ``n_outputs_``, which must then agree with classes_.
    """
    classes = context.get("classes_", table["classes_"])
    _check_class_weight(estimator, classes)
    n_classes = classes.shape[0]
    declared = (
        context.attributes.get("out_activation_"),
        context.attributes.get("n_outputs_"),
    )
    if declared == ("logistic", n_classes):
        n_outputs, out_activation = n_classes, "logistic"
    else:
        n_outputs = 1 if n_classes == 2 else n_classes
        out_activation = "logistic" if n_outputs == 1 else "softmax"
    _layout_dims(context, estimator, table, n_outputs, out_activation)


def _check_class_weight(estimator, classes):
    """A dict class_weight: finite weights >= 0, for classes the model has.

    Float labels are a binary member: their keys are checked once it is read.
    """
    weights = estimator.class_weight
    if not isinstance(weights, dict):
        return
    if not all(_is_number(w) and 0 <= w < float("inf") for w in weights.values()):
        _fail(f"invalid parameter: class_weight {weights!r} is not finite and >= 0")
    if isinstance(classes, np.ndarray):
        unknown = [key for key in weights if key not in set(classes.tolist())]
        if unknown:
            _fail(
                f"invalid parameter: class_weight names {unknown[:5]!r}, which "
                "are not among the model's classes_"
            )


def _network_regressor_dims(context, estimator, table):
    """Sizes of a network regressor: its outputs from the last bias vector."""
    intercepts = context.attributes.get("intercepts_")
    last = intercepts[-1] if isinstance(intercepts, list) and intercepts else None
    if getattr(last, "ndim", None) != 1 or last.shape[0] < 1:
        context.fail("intercepts_", "a list of non-empty bias vectors")
    # The output activation is the inverse link of the model's loss.
    datafit = estimator._datafit(last.shape[0])
    _layout_dims(context, estimator, table, last.shape[0], datafit.output_activation)


def _layout_dims(context, estimator, table, n_outputs, out_activation):
    """Sizes of a network of ``n_outputs`` outputs: its Layout from the parameters."""
    n_features = context.get("n_features_in_", table["n_features_in_"])
    try:  # the checks fit makes beyond the parameter constraints
        hidden = estimator._hidden_sizes()
        estimator._dropout_rates(len(hidden))
    except ValueError as exc:
        _fail(f"invalid parameter: {exc}")
    layout = Layout([n_features, *hidden, n_outputs])
    context.dims.update(
        n_features=n_features,
        n_outputs=n_outputs,
        out_activation=out_activation,
        n_layers=layout.n_layers,
        n_layers_attribute=layout.n_layers + 1,
        coef_shapes=layout.coef_shapes,
        intercept_shapes=[(n,) for n in layout.layer_sizes[1:]],
        n_params=layout.n_params,
    )
    _training_dims(context, table, stochastic=True)


def _scaler_dims(context, estimator, table):
    """Sizes of a StandardScaler: its n_features_in_."""
    context.dims["n_features"] = context.get("n_features_in_", table["n_features_in_"])
    for name, needed in [
        ("mean_", estimator.with_mean),
        ("scale_", estimator.with_std),
        ("var_", estimator.with_std),
    ]:
        if needed and context.attributes.get(name) is None:
            context.fail(name, f"an array, as {type(estimator).__name__} uses it")


#: The spec of each field of a TrainingRecord that every estimator keeps (the
#: records a family keeps or not, ``solver_`` and ``feature_std_``, are in
#: the family's table).
_RECORD_SPECS = {
    "n_iter": _Int(low=0),
    "t": _Int(low=0),  # samples seen: partial_fit continues from it
    "loss_curve": _Numbers(),
    "best_loss": _Number(nan=True, none=True),
    "validation_scores": _Numbers(none=True),
    "best_validation_score": _Number(nan=True, none=True),
    "stop_reason": _Choice("converged", "early_stopping", "max_iter", required=False),
    "best_epoch": _Int(low=1, high="n_curve", none=True, required=False),
    "weight_norms_curve": _Array(
        ("n_epochs", "n_layers"), dtype=np.float64, low=0, required=False
    ),
    "zero_fraction_curve": _Array(
        ("n_epochs", "n_layers"), dtype=np.float64, low=0, high=1, required=False
    ),
    "optimizer_state": _OptimizerState(required=False),
}

#: What every estimator of the package records about its inputs and its run:
#: the training records by the list of the records' fields (a field without
#: a spec fails at import).
_COMMON = {
    "n_features_in_": _Int(low=1),
    "feature_names_in_": _Array(("n_features",), kind="str", required=False),
    **{
        attribute: _RECORD_SPECS[name]
        for name, attribute in RECORD_ATTRIBUTES.items()
        if name not in FAMILY_RECORDS
    },
    "train_loss_": _Number(low=0, required=False),
    "baseline_loss_": _Number(low=0, required=False),
    "train_score_": _Number(high=1, nan=True, required=False),  # R² of 1 row: NaN
    # The default baseline of explain, and the sample weight behind it (a
    # later partial_fit updates the running mean with it).
    "feature_mean_": _Array(("n_features",), dtype=np.float64, required=False),
    "_feature_weight_sum": _Number(low=0, finite=True, required=False),
}

_LINEAR = {
    "coef_": _Array("coef_shape", group="weights"),
    "intercept_": _Either(
        "one_target", _Number(finite=True), _Array(("n_targets",), group="weights")
    ),
    "feature_std_": _Array(("n_features",), dtype=np.float64, low=0),
    "solver_": _Choice("gram", "x", "sgd", "adam", required=False),
}

_LINEAR_CLASSIFIER = {
    **_LINEAR,
    "classes_": _Classes(),
    "intercept_": _Array(("n_outputs",), group="weights"),
    "solver_": _Choice("x", "sgd", "adam", required=False),
}

_NETWORK = {
    "n_outputs_": _Equal("n_outputs"),
    "out_activation_": _Equal("out_activation"),
    "n_layers_": _Equal("n_layers_attribute"),
    "coefs_": _Arrays("coef_shapes", group="weights"),
    "intercepts_": _Arrays("intercept_shapes", group="weights"),
}

_CLASSES = {"classes_": _Classes()}

_STANDARD_SCALER = {
    "n_features_in_": _Int(low=1),
    "feature_names_in_": _Array(("n_features",), kind="str", required=False),
    "n_samples_seen_": _SamplesSeen(),
    "mean_": _Array(("n_features",), group="statistics", none=True),
    "var_": _Array(("n_features",), group="statistics", low=0, none=True),
    "scale_": _Array(("n_features",), group="statistics", above=0, none=True),
}

#: The classes a model file may name: class name -> where it lives, its sizes
#: and its attribute tables.
_ESTIMATORS = {
    "WeightedLinearRegressor": _Schema(
        "sk_weights._linear", _linear_dims, _LINEAR, _COMMON
    ),
    "WeightedLinearClassifier": _Schema(
        "sk_weights._linear", _linear_classifier_dims, _LINEAR_CLASSIFIER, _COMMON
    ),
    "MLPWeightsClassifier": _Schema(
        "sk_weights._mlp", _network_dims, _CLASSES, _NETWORK, _COMMON
    ),
    "MLPWeightsRegressor": _Schema(
        "sk_weights._mlp", _network_regressor_dims, _NETWORK, _COMMON
    ),
    "StandardScaler": _Schema("sklearn.preprocessing", _scaler_dims, _STANDARD_SCALER),
}
#: The first step of a saved Pipeline.
_STEP_CLASSES = {"StandardScaler"}
