"""Data and helpers shared by the test modules.

The bundled data sets come standardised (as the estimators' documentation
advises), each loaded once per process and handed out as fresh copies, so a
test that changes its arrays cannot change another's. The helpers are plain
functions, imported by the modules that use them (``from conftest import
...``), because module-level parametrisations need them before any fixture
exists.
"""

import contextlib
import functools
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

# Plots are drawn to files, never to a window.
os.environ.setdefault("MPLBACKEND", "Agg")


@functools.cache
def _standardised(loader):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _copy(loader):
    X, y = _standardised(loader)
    return X.copy(), y.copy()


def diabetes_data():
    """The diabetes regression data (442 x 10), standardised."""
    return _copy(load_diabetes)


def wine_data():
    """The wine classification data (178 x 13, 3 classes), standardised."""
    return _copy(load_wine)


def iris_data():
    """The iris classification data (150 x 4, 3 classes), standardised."""
    return _copy(load_iris)


def cancer_data():
    """The breast cancer data (569 x 30, 2 classes), standardised."""
    return _copy(load_breast_cancer)


def enet_objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """The training objective, written out: weighted mean half squared error
    (summed over targets) plus the elastic net penalty."""
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    coef = np.atleast_2d(coef)
    residual = np.reshape(y, (X.shape[0], -1)) - (X @ coef.T) - np.ravel(intercept)
    loss = 0.5 * weights @ np.sum(residual**2, axis=1) / weights.sum()
    penalty = l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * np.sum(coef**2)
    return loss + alpha * penalty


# scikit-learn 1.8 deprecated LogisticRegression's ``penalty`` (``l1_ratio`` and
# ``C`` pick the penalty there); 1.6 and 1.7 need it.
_PENALTY_BY_RATIO = LogisticRegression().get_params().get("penalty") in (
    None,
    "deprecated",
)


def logistic_regression(l1_ratio=0.0, **params):
    """LogisticRegression with this share of L1 (``None``: no penalty), written in
    the installed scikit-learn's API, so that a reference means the same
    problem under every version the package supports."""
    if l1_ratio is None:
        if _PENALTY_BY_RATIO:
            return LogisticRegression(C=np.inf, **params)
        return LogisticRegression(penalty=None, **params)
    if _PENALTY_BY_RATIO:
        return LogisticRegression(l1_ratio=l1_ratio, **params)
    named = {0.0: "l2", 1.0: "l1"}.get(float(l1_ratio), "elasticnet")
    extra = {"l1_ratio": l1_ratio} if named == "elasticnet" else {}
    return LogisticRegression(penalty=named, **extra, **params)


def run_command_line(*args, cwd, timeout=120):
    """Run ``python -m sk_weights ARGS`` in ``cwd``; return the completed process.

    A new process: for exit codes, encodings and what a user's shell sees.
    """
    return subprocess.run(
        [sys.executable, "-m", "sk_weights", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def run_main(*args, cwd):
    """Run the command line's ``main(ARGS)`` in this process, in ``cwd``.

    Returns what :func:`run_command_line` returns (``returncode``, ``stdout``,
    ``stderr``), without the second or so that starting Python and importing
    scikit-learn cost a new process.
    """
    from sk_weights._cli import main

    streams = [io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in range(2)]
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with (
            contextlib.redirect_stdout(streams[0]),
            contextlib.redirect_stderr(streams[1]),
        ):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's errors
                code = exc.code
    finally:
        os.chdir(previous)
    out, err = (_read(stream) for stream in streams)
    return subprocess.CompletedProcess(list(args), code or 0, out, err)


def _read(stream):
    stream.flush()
    return stream.buffer.getvalue().decode("utf-8")


@pytest.fixture
def diabetes_csv(tmp_path):
    """A folder holding diabetes.csv: the ten features and a target column."""
    pd = pytest.importorskip("pandas")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    pd.concat([X, y.rename("target")], axis=1).to_csv(
        tmp_path / "diabetes.csv", index=False
    )
    return tmp_path
