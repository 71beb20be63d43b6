"""Sphinx configuration of the sk_weights documentation.

Build it with ``sphinx-build -W -b html doc doc/_build/html``: warnings are
errors and the gallery's examples are executed. No network is needed.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent.resolve()
sys.path.insert(0, str(HERE / "sphinxext"))

from sk_weights_docs import quote_names_in_shapes, write_inventories

import sk_weights

project = "sk_weights"
author = "The sk_weights developers"
copyright = "The sk_weights developers"
release = sk_weights.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "sphinxext", "**/sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
# numpydoc links builtin types to Python's documentation, whose inventory is
# not available offline: they stay plain names. "array-like" links to
# scikit-learn's glossary.
numpydoc_xref_aliases = {
    **{
        name: name
        for name in [
            "None",
            "True",
            "False",
            "bool",
            "list",
            "tuple",
            "str",
            "dict",
            "float",
            "int",
            "callable",
            "iterable",
            "sequence",
            "generator",
            "scalar",
        ]
    },
    "boolean": "bool",
    "string": "str",
    "array-like": ":term:`array-like`",
    "array_like": ":term:`array-like`",
    "ndarray": "numpy.ndarray",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "WeightedLinearRegressor": "sk_weights.WeightedLinearRegressor",
    "MLPWeightsClassifier": "sk_weights.MLPWeightsClassifier",
    "WeightsReport": "sk_weights.WeightsReport",
}

# -- Links to scikit-learn and NumPy, offline ------------------------------------
# Neither package installs its objects.inv and the build has no network, so the
# inventories are written from the installed packages (see sphinxext/).

_inventories = write_inventories(HERE / "_build" / "inventories")
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", str(_inventories["sklearn"])),
    "numpy": ("https://numpy.org/doc/stable/", str(_inventories["numpy"])),
}

# -- Gallery -----------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "sk_weights_docs.ExampleOrder",
    "image_scrapers": ("sk_weights_docs.report_figure_scraper", "matplotlib"),
    "doc_module": ("sk_weights",),
    "backreferences_dir": "generated/backreferences",
    "capture_repr": ("_repr_html_", "__repr__"),
    "remove_config_comments": True,
    "show_memory": False,
    "download_all_examples": False,
    "min_reported_time": 1,
}

# -- The demo's report ----------------------------------------------------------
# The command line's demo writes its HTML report at build time, and the page
# is copied into the site as demo/report.html (see demo_report.rst).

_extra = HERE / "_build" / "extra"
(_extra / "demo").mkdir(parents=True, exist_ok=True)
subprocess.run(
    [sys.executable, "-m", "sk_weights", "demo", "--out", str(_extra / "demo")],
    check=True,
    stdout=subprocess.DEVNULL,
    env={**os.environ, "MPLBACKEND": "Agg"},
)
html_extra_path = [str(_extra)]

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sk_weights {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False


def _skip_fitted_properties(app, what, name, obj, skip, options):
    """Leave out properties such as ``coef_``: the Attributes section has them."""
    if what == "class" and isinstance(obj, property) and name.endswith("_"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_fitted_properties)
    # Before numpydoc (priority 500) parses the docstrings.
    app.connect("autodoc-process-docstring", quote_names_in_shapes, priority=400)
