"""Helpers of the documentation build: offline inventories, gallery order, scraper.

The build runs without a network, so :mod:`sphinx.ext.intersphinx` cannot
download the ``objects.inv`` inventories of scikit-learn and NumPy, and neither
package installs one. :func:`write_inventories` writes them instead, from the
*installed* packages: every public class and function (and each class's public
methods), with the address that scikit-learn's and NumPy's documentation give
such an object. References to names outside these inventories are left as
plain text, as for any unresolved cross-reference.

Sphinx caches its configuration, so the callables that sphinx-gallery needs
are named in ``conf.py`` by their import path and defined here.
"""

import importlib
import inspect
import re
import weakref
import zlib
from pathlib import Path

# "name : type" lines of numpydoc sections, the parenthesised shapes in them,
# and the names ending in "_" (not already quoted) in those.
_TYPE_LINE = re.compile(r"^\s*\*{0,2}\w[\w, ]* : ")
_SHAPE = re.compile(r"\([^()]*\)")
_NAME_ENDING_IN_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")

#: The gallery in the order of the user guide (then the others, by name).
EXAMPLE_ORDER = (
    "plot_quickstart.py",
    "plot_weights_linear_model.py",
    "plot_learning_weights.py",
    "plot_backpropagation.py",
    "plot_evaluation.py",
    "plot_regularisation.py",
    "plot_reading_a_model.py",
    "plot_why_this_prediction.py",
    "plot_digits_first_layer.py",
)

# scikit-learn's subpackages that its API reference documents as
# ``sklearn.<subpackage>.<name>`` (``utils`` is not among them: its pages
# follow the defining submodules, listed one by one below).
_SKLEARN_SKIPPED = {"externals", "experimental", "callback"}
_SKLEARN_UTILS = {
    "sklearn.utils.check_random_state": "py:function",
    "sklearn.utils.class_weight.compute_class_weight": "py:function",
    "sklearn.utils.class_weight.compute_sample_weight": "py:function",
    "sklearn.utils.estimator_checks.check_estimator": "py:function",
    "sklearn.utils.estimator_checks.parametrize_with_checks": "py:function",
    "sklearn.utils.validation.check_is_fitted": "py:function",
    "sklearn.utils.validation.validate_data": "py:function",
}
# Labels and glossary terms of scikit-learn's user guide that its docstrings
# (those of the methods our estimators inherit) refer to: (role, uri, title).
_SKLEARN_STD = {
    "metadata_routing": (
        "std:label",
        "metadata_routing.html#metadata-routing",
        "Metadata Routing",
    ),
    "r2_score": (
        "std:label",
        "modules/model_evaluation.html#r2-score",
        "R² score, the coefficient of determination",
    ),
    "accuracy_score": (
        "std:label",
        "modules/model_evaluation.html#accuracy-score",
        "Accuracy score",
    ),
    "array-like": ("std:term", "glossary.html#term-array-like", "array-like"),
    "meta-estimator": (
        "std:term",
        "glossary.html#term-meta-estimator",
        "meta-estimator",
    ),
}
# NumPy's classes and scalar types whose documentation pages we know.
_NUMPY_CLASSES = {
    "numpy.ndarray": "reference/generated/numpy.ndarray.html",
    "numpy.dtype": "reference/generated/numpy.dtype.html",
    "numpy.random.Generator": "reference/random/generator.html",
    "numpy.random.default_rng": "reference/random/generator.html",
    "numpy.random.RandomState": "reference/random/legacy.html",
    "numpy.float32": "reference/arrays.scalars.html",
    "numpy.float64": "reference/arrays.scalars.html",
}


class ExampleOrder:
    """Sort key of sphinx-gallery: the user guide's order of the examples.

    Parameters
    ----------
    src_dir : str
        The gallery's source folder (unused; sphinx-gallery passes it).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return "ExampleOrder"

    def __call__(self, filename):
        if filename in EXAMPLE_ORDER:
            return (EXAMPLE_ORDER.index(filename), filename)
        return (len(EXAMPLE_ORDER), filename)


def report_figure_scraper(block, block_vars, gallery_conf):
    """Save the matplotlib figures an example holds that pyplot does not manage.

    :meth:`sk_weights.WeightsReport.plot` returns a
    :class:`matplotlib.figure.Figure` made without pyplot (so that the library
    never opens windows), which sphinx-gallery's matplotlib scraper cannot
    see. This scraper finds such figures among the example's variables after
    each code block and saves each one once. It runs before the matplotlib
    scraper, while pyplot's figures are still open: they are left to it (once
    closed, a pyplot figure looks like any other).
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("sk_weights_seen_figures", weakref.WeakSet())
    seen.update(plt.figure(number) for number in plt.get_fignums())
    figures = [
        value
        for value in block_vars["example_globals"].values()
        if isinstance(value, Figure) and value not in seen
    ]
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"]):
        figure.savefig(path)
        seen.add(figure)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])


def quote_names_in_shapes(app, what, name, obj, options, lines):
    """Quote the attribute names in the shapes of numpydoc type lines.

    The docstrings write shapes as scikit-learn's attributes are named,
    ``feature_names_in_ : ndarray of shape (n_features_in_,)``; in reST a word
    ending in ``_`` is a hyperlink reference, so before numpydoc renders the
    line such names become literals: ``(`n_features_in_`,)``. Connected to
    ``autodoc-process-docstring`` ahead of numpydoc.
    """
    for i, line in enumerate(lines):
        if _TYPE_LINE.match(line):
            lines[i] = _SHAPE.sub(
                lambda shape: _NAME_ENDING_IN_UNDERSCORE.sub(r"`\1`", shape.group(0)),
                line,
            )


def write_inventories(folder):
    """Write ``sklearn.inv`` and ``numpy.inv`` into ``folder``; return their paths.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where to write (created if needed).

    Returns
    -------
    dict of str to pathlib.Path
        ``{"sklearn": ..., "numpy": ...}``.
    """
    import numpy
    import sklearn

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "sklearn": folder / "sklearn.inv",
        "numpy": folder / "numpy.inv",
    }
    _write(paths["sklearn"], "scikit-learn", sklearn.__version__, _sklearn_entries())
    _write(paths["numpy"], "NumPy", numpy.__version__, _numpy_entries())
    return paths


def _sklearn_entries():
    """Yield the entries of scikit-learn's public API and user-guide labels."""
    import sklearn

    def page(name):
        return f"modules/generated/{name}.html#$"

    for name in sklearn.__all__:
        obj = getattr(sklearn, name, None)
        if callable(obj):
            yield f"sklearn.{name}", "py:function", page(f"sklearn.{name}")
            continue
        if name in _SKLEARN_SKIPPED:
            continue
        module = importlib.import_module(f"sklearn.{name}")
        for member in getattr(module, "__all__", []):
            try:
                obj = getattr(module, member, None)
            except ImportError:  # experimental names need an explicit enable
                continue
            full = f"sklearn.{name}.{member}"
            if inspect.isclass(obj):
                yield full, "py:class", page(full)
                yield from _methods(full, obj, page(full))
            elif callable(obj):
                yield full, "py:function", page(full)
    for full, role in _SKLEARN_UTILS.items():
        yield full, role, page(full)
    yield from ((name, *entry) for name, entry in _SKLEARN_STD.items())


def _methods(full, cls, uri):
    """Yield the public methods of ``cls``, documented on the class's page."""
    for member in dir(cls):
        if not member.startswith("_") and callable(getattr(cls, member, None)):
            yield f"{full}.{member}", "py:method", uri


def _numpy_entries():
    """Yield (name, role, uri) for NumPy's functions, ufuncs and main classes."""
    import numpy

    for namespace, module in (("numpy", numpy), ("numpy.linalg", numpy.linalg)):
        for name in module.__all__:
            obj = getattr(module, name, None)
            # Aliases (np.abs for np.absolute, ...) have no page of their own.
            if getattr(obj, "__name__", None) != name or inspect.isclass(obj):
                continue
            if callable(obj):
                full = f"{namespace}.{name}"
                yield full, "py:function", f"reference/generated/{full}.html#$"
    for full, page in _NUMPY_CLASSES.items():
        role = "py:function" if full.endswith("default_rng") else "py:class"
        yield full, role, f"{page}#$"


def _write(path, project, version, entries):
    """Write an inventory in Sphinx's format, version 2.

    ``entries`` yields ``(name, role, uri)`` or ``(name, role, uri, title)``.
    """
    unique = {}
    for name, role, uri, *title in entries:
        unique[name, role] = (uri, title[0] if title else "-")
    lines = "".join(
        f"{name} {role} {-1 if role == 'std:label' else 1} {uri} {title}\n"
        for (name, role), (uri, title) in sorted(unique.items())
    )
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    Path(path).write_bytes(header.encode() + zlib.compress(lines.encode()))
