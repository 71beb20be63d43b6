"""Tests that the numerical core stands without scikit-learn."""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sk_weights

#: The modules of the numerical core; those of the list that exist are checked.
CORE_MODULES = [
    "_activations",
    "_penalties",
    "_optimizers",
    "_network",
    "_training",
    "_full_batch",
    "_least_squares",
    "_path",
    "_datafits",
    "_quasi_newton",
    "_active_set",
    "_newton",
    "_scores",
    "_statistics",
]

PACKAGE_DIR = Path(sk_weights.__file__).parent
PRESENT = [name for name in CORE_MODULES if (PACKAGE_DIR / f"{name}.py").exists()]

#: Run in a fresh interpreter: a meta-path finder that refuses scikit-learn,
#: and the package as a bare namespace (its __init__ imports the estimators,
#: which rightly need scikit-learn), then the one core module.
_SCRIPT = textwrap.dedent(
    """
    import importlib, sys, types

    class RefuseScikitLearn:
        def find_spec(self, name, path=None, target=None):
            if name == "sklearn" or name.startswith("sklearn."):
                raise ImportError(f"the core imported {name}")
            return None

    sys.meta_path.insert(0, RefuseScikitLearn())
    package = types.ModuleType("sk_weights")
    package.__path__ = [sys.argv[1]]
    sys.modules["sk_weights"] = package
    importlib.import_module("sk_weights." + sys.argv[2])
    leaked = sorted(name for name in sys.modules if name.split(".")[0] == "sklearn")
    assert not leaked, leaked
    """
)


def _import_alone(module):
    """Import ``sk_weights.<module>`` with scikit-learn refused; return the run."""
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(PACKAGE_DIR), module],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("module", PRESENT)
def test_core_module_imports_without_scikit_learn(module):
    """Check that a core module imports, and imports nothing of scikit-learn."""
    run = _import_alone(module)
    assert run.returncode == 0, run.stderr


def test_the_blocker_catches_a_module_that_imports_scikit_learn():
    """Check that the same run fails for a module that does import scikit-learn."""
    assert importlib.util.find_spec("sklearn") is not None
    run = _import_alone("_base")
    assert run.returncode != 0
    assert "the core imported sklearn" in run.stderr


def test_the_core_list_is_current():
    """Check that the core modules that must exist do, so none is skipped unseen."""
    assert set(CORE_MODULES[:7]) <= set(PRESENT)
    assert {"_losses", "_datafits"} & set(PRESENT)  # the losses, by either name
