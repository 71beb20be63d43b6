"""The command line: ``python -m sk_weights`` / ``sk-weights``.

Subcommands:

- ``demo``: train both estimators on data bundled with scikit-learn, print
  their reports and write ``sk_weights_demo/report.html``;
- ``fit DATA.csv --target COL --out MODEL.npz``: fit a model on a CSV file,
  print its training and held-out scores and save it in the package's safe
  format (with ``--standardize``, a ``Pipeline(StandardScaler, model)``);
- ``report MODEL.npz``: print (and optionally write) a saved model's report;
  with ``--stability DATA.csv --target COL``, refit the model's configuration
  on resamples of the data and add how stable each weight is;
- ``path DATA.csv --target COL``: fit along a grid of penalty strengths and
  print (and optionally draw) the weights path;
- ``explain MODEL.npz DATA.csv``: print why the model predicts what it does
  on rows of a CSV file: each feature's contribution to the output.

It never shows a traceback: any failure (a missing file, an unknown column, a
missing value, a bad option, a file that is not a model, even running out of
memory) ends with exactly one line on stderr and exit status 2. Output files
(``--out``, ``--html``, ``--report``) are checked before any work. A closed
pipe (``sk-weights explain ... | head``) ends quietly, with status 141 as Unix
tools end on SIGPIPE.

It needs no optional dependency: CSV files are read with the ``csv`` module,
and a fitted model keeps the CSV's column names (``feature_names_in_``)
whether or not pandas is installed. What it reads is bounded: a CSV file at
most ``--max-bytes`` (default 2 GiB) with lines of at most ``--max-line``
characters (default 10 M), no NUL character; a model file declaring at most
``--max-model-bytes`` (default 1 GiB) of arrays, as :func:`sk_weights.load`
checks.
"""

import argparse
import base64
import contextlib
import csv
import html
import io
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from sk_weights._datafits import regression_losses

__all__ = ["main"]

#: A target of whole numbers with more distinct values than this is
#: regressed, one with at most this many (or of text) classified; any other
#: number means regression.
MAX_CLASSES = 20

#: The ``--task`` option of ``fit`` and ``path``.
_TASK_OPTION = dict(
    choices=["regression", "classification"],
    help="regression or classification; by default regression when the target "
    "is numeric and holds a value that is not a whole number or more than "
    f"{MAX_CLASSES} distinct values, else classification",
)

#: Share of the rows held out to score the model (``fit --test-size``).
TEST_SIZE = 0.2
#: Largest network ``fit --model mlp`` builds (weights and biases); its
#: optimiser keeps two more vectors of that size.
MAX_NETWORK_PARAMETERS = 20_000_000
#: From this many cells (rows x features, plus features squared for the
#: exact linear solver), ``fit`` says on stderr what it is doing first.
LONG_WORK = 1_000_000
#: Largest CSV file read (``--max-bytes``), and longest line (``--max-line``).
MAX_CSV_BYTES = 2 * 2**30
MAX_LINE = 10 * 2**20
#: Exit status when stdout is closed early (``| head``): 128 + SIGPIPE, as
#: Unix tools end.
BROKEN_PIPE = 141
# Cells read as a missing value, whatever their case.
_MISSING = {"", "na", "n/a", "nan", "null", "none"}
_SIZE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class CommandError(Exception):
    """An expected failure, reported as one line on stderr."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error reported on one line (the default uses two)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


def _one_line(text):
    """Collapse line breaks and runs of spaces (scikit-learn's messages span lines)."""
    return " ".join(str(text).split())


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, optional
        The arguments, without the program name.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on any failure, 130 if interrupted,
        141 if stdout was closed early (``| head``).
    """
    _tolerant_stdout()
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0), or a usage error, printed already
        return exc.code if isinstance(exc.code, int) else 2
    prefix = f"sk-weights {args.command}"
    with warnings.catch_warnings(record=True) as caught:
        # Warnings (e.g. ConvergenceWarning) are collected and printed one
        # line each after a success; a failure prints its one line only.
        warnings.simplefilter("always")
        args.progress = _Progress(prefix)
        try:
            args.run(args)
        except BrokenPipeError:
            # The reader of stdout went away (``| head``): end quietly.
            _silence_stdout()
            return BROKEN_PIPE
        except KeyboardInterrupt:
            args.progress.end("interrupted")
            return 130
        except Exception as exc:  # every failure, expected or not: one line
            args.progress.end(f"error: {_describe_error(exc)}")
            return 2
        args.progress.end()
    seen = set()
    for warning in caught:
        text = _one_line(warning.message)
        if text not in seen:
            seen.add(text)
            print(f"{prefix}: warning: {text}", file=sys.stderr)
    return 0


def _tolerant_stdout():
    """Let a terminal that cannot show a character (ASCII, Latin-1) get an escape.

    The reports use a few symbols (R², —, █) and the CSV's names may hold any
    character: printed to an ASCII stdout they would otherwise end the command
    with an encoding error.
    """
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(
        sys.stdout, "reconfigure"
    ):
        # A stream that cannot be reconfigured is left as it is.
        with contextlib.suppress(ValueError, OSError):
            sys.stdout.reconfigure(errors="backslashreplace")


def _silence_stdout():
    """Point stdout at the null device, so that the exit's flush cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


def _size(text):
    """A number of bytes or characters: 2G, 500M, 64K or a plain integer."""
    value = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = value[-1:] if value[-1:] in _SIZE_UNITS else ""
    try:
        number = int(value[: len(value) - len(unit)])
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; give a positive integer, optionally with "
            "K, M or G (powers of 1024), e.g. 500M"
        )
    return number * _SIZE_UNITS[unit]


def _add_csv_limits(parser):
    parser.add_argument(
        "--max-bytes",
        type=_size,
        default=MAX_CSV_BYTES,
        metavar="SIZE",
        help="refuse a CSV file larger than this (bytes; K, M, G for powers of "
        "1024; default: 2G)",
    )
    parser.add_argument(
        "--max-line",
        type=_size,
        default=MAX_LINE,
        metavar="SIZE",
        help="refuse a CSV line longer than this many characters (default: 10M)",
    )


def _add_model_limit(parser):
    parser.add_argument(
        "--max-model-bytes",
        type=_size,
        default=2**30,
        metavar="SIZE",
        help="refuse a model file declaring more than this many bytes of "
        "arrays, before reading them (default: 1G; see sk_weights.load)",
    )


class _Progress:
    """A line on stderr saying what long work is under way.

    It stays open while the work runs and is closed by the outcome, so that a
    failure still makes exactly one line: "fitting ... ... error: ...".
    """

    def __init__(self, prefix):
        self.prefix = prefix
        self.start = None

    def begin(self, what):
        # Open before printing: Ctrl-C right after the text must close it.
        self.start = time.perf_counter()
        print(f"{self.prefix}: {what} ...", end="", file=sys.stderr, flush=True)

    def end(self, outcome=None):
        """Close the open line with ``outcome`` (or "done"); else print it alone."""
        if self.start is not None:
            seconds = time.perf_counter() - self.start
            self.start = None
            print(f" {outcome or f'done ({seconds:.1f} s)'}", file=sys.stderr)
        elif outcome:
            print(f"{self.prefix}: {outcome}", file=sys.stderr)


def _describe_error(exc):
    """One line saying what failed: the message, with its type if unexpected."""
    if isinstance(exc, MemoryError):
        return (
            "out of memory: the data or the model is too large for this machine "
            "(use fewer rows, columns or hidden units)"
        )
    message = _one_line(exc) or type(exc).__name__
    if isinstance(exc, (CommandError, ValueError)):
        return message
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return f"{type(exc).__name__}: {message}"


def _parser():
    parser = _Parser(
        prog="sk-weights",
        description="Train glass-box models and read their learned weights.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="train both estimators on bundled data and report their weights",
        description=(
            "Fit WeightedLinearRegressor (L1) on the diabetes data and "
            "MLPWeightsClassifier (dropout) on the digits, print both reports and "
            "write an HTML report with plots."
        ),
    )
    demo.add_argument(
        "--out",
        default="sk_weights_demo",
        help="folder for report.html (default: %(default)s)",
    )
    demo.set_defaults(run=_demo)

    fit = commands.add_parser(
        "fit",
        help="fit a model on a CSV file and save it",
        description=(
            "Fit a model on the numeric columns of a CSV file (header row "
            "required; UTF-8, a byte-order mark is fine) and save it in the "
            "pickle-free .npz format, with the CSV's column names as its feature "
            "names. A share of the rows (--test-size) is held "
            "out, stratified by class for a classifier, and the model is fitted "
            "on the rest: both scores are printed (R² for a regressor, accuracy "
            "for a classifier). The target decides between regression and "
            "classification (see --task). Empty cells and NA / NaN are missing "
            "values, which are refused: fill or drop them first."
        ),
    )
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--target", required=True, help="name of the target column")
    fit.add_argument("--model", choices=["linear", "mlp"], default="linear")
    fit.add_argument("--task", **_TASK_OPTION)
    fit.add_argument("--penalty", choices=["l1", "l2", "elasticnet", "none"])
    _add_loss_options(fit)
    fit.add_argument("--alpha", type=float, help="penalty strength")
    fit.add_argument("--l1-ratio", type=float, help="L1 share of the elastic net")
    fit.add_argument("--dropout", type=float, help="dropout rate")
    fit.add_argument(
        "--hidden", help="hidden layer sizes of the mlp, e.g. 64,32 (default 100)"
    )
    fit.add_argument("--max-iter", type=int, help="maximum iterations / epochs")
    fit.add_argument(
        "--standardize",
        action="store_true",
        help="scale each feature to mean 0 and variance 1 first (saves a "
        "Pipeline of a StandardScaler and the model); advised for the mlp",
    )
    fit.add_argument(
        "--test-size",
        type=float,
        default=TEST_SIZE,
        help="share of the rows held out to score the model, in [0, 1); 0 "
        "scores on the training rows only (default: %(default)s)",
    )
    fit.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the held-out split and of the model (default: %(default)s)",
    )
    fit.add_argument("--out", required=True, help="where to save the model (.npz)")
    fit.add_argument("--report", help="also write the HTML report to this file")
    _add_csv_limits(fit)
    fit.set_defaults(run=_fit)

    report = commands.add_parser(
        "report",
        help="print the report of a saved model",
        description="Print the learned-weights report of a model saved by 'fit'.",
    )
    report.add_argument("model", help="a .npz file written by 'sk-weights fit'")
    report.add_argument("--html", help="also write the HTML report to this file")
    report.add_argument(
        "--stability",
        metavar="DATA.csv",
        help="refit the model's configuration on resamples of this CSV file "
        "(with the model's feature columns) and add to each feature the 95 %% "
        "interval of its weight and how often it is selected",
    )
    report.add_argument("--target", help="target column of the --stability file")
    report.add_argument(
        "--n-resamples",
        type=int,
        default=30,
        help="refits for --stability (default: %(default)s)",
    )
    report.add_argument(
        "--method",
        choices=["bootstrap", "subsample"],
        default="bootstrap",
        help="resampling for --stability: rows with replacement, or half the "
        "rows without (default: %(default)s)",
    )
    report.add_argument(
        "--n-jobs", type=int, help="refits run in parallel on this many cores"
    )
    report.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the resamples (default: %(default)s)",
    )
    _add_csv_limits(report)
    _add_model_limit(report)
    report.set_defaults(run=_report)

    path = commands.add_parser(
        "path",
        help="fit along a grid of penalty strengths and show the weights path",
        description=(
            "Fit a model on the numeric columns of a CSV file for a decreasing "
            "grid of penalty strengths alpha (each fit starting from the "
            "previous weights) and print how many weights are nonzero, the "
            "training score and the order in which the features enter. The "
            "default grid starts where every weight is zero (L1 part, linear "
            "model) or around the features' variance."
        ),
    )
    path.add_argument("data", help="CSV file with a header row")
    path.add_argument("--target", required=True, help="name of the target column")
    path.add_argument("--model", choices=["linear", "mlp"], default="linear")
    path.add_argument("--task", **_TASK_OPTION)
    path.add_argument(
        "--penalty",
        choices=["l1", "l2", "elasticnet"],
        default="l1",
        help="penalty whose strength varies (default: %(default)s)",
    )
    path.add_argument("--l1-ratio", type=float, help="L1 share of the elastic net")
    _add_loss_options(path)
    path.add_argument(
        "--n-alphas",
        type=int,
        default=30,
        help="number of penalty strengths (default: %(default)s)",
    )
    path.add_argument("--dropout", type=float, help="dropout rate")
    path.add_argument("--hidden", help="hidden layer sizes of the mlp, e.g. 16")
    path.add_argument("--max-iter", type=int, help="maximum iterations / epochs")
    path.add_argument(
        "--standardize",
        action="store_true",
        help="scale each feature to mean 0 and variance 1 first",
    )
    path.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the model (default: %(default)s)",
    )
    path.add_argument("--html", help="also write the path and its plot to this file")
    _add_csv_limits(path)
    path.set_defaults(run=_path)
    explain = commands.add_parser(
        "explain",
        help="explain a saved model's outputs on the rows of a CSV file",
        description=(
            "Split a saved model's output on rows of a CSV file into one "
            "contribution per feature, measured from the mean of its training "
            "data: the prediction for a regressor, the logits for a "
            "classifier. The CSV needs the model's feature columns (by name, "
            "when the model has them; other columns, such as the target, are "
            "ignored)."
        ),
    )
    explain.add_argument("model", help="a .npz file written by 'sk-weights fit'")
    explain.add_argument("data", help="CSV file with a header row")
    explain.add_argument(
        "--rows",
        help="which data rows to explain, counted from 0, e.g. 0,5 (default: all)",
    )
    explain.add_argument(
        "--n-steps",
        type=int,
        default=64,
        help="points of the path a network's gradients are averaged over "
        "(default: %(default)s)",
    )
    explain.add_argument("--html", help="also write the explanation to this file")
    _add_csv_limits(explain)
    _add_model_limit(explain)
    explain.set_defaults(run=_explain)
    return parser


# -- demo ---------------------------------------------------------------------


def _demo(args):
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor

    start = time.perf_counter()
    out = Path(args.out)
    try:  # the folder first: a bad --out fails before the training
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(
            f"--out {args.out}: cannot make that folder ({exc.strerror or exc})"
        ) from exc
    path = out / "report.html"
    _check_output(path, "--out")
    sections = []

    # Plain arrays and the data sets' own feature names: the demo needs
    # neither pandas nor any other optional dependency (matplotlib only adds
    # the plots).
    diabetes = load_diabetes()
    X_train, X_test, y_train, y_test = train_test_split(
        diabetes.data, diabetes.target, random_state=0
    )
    linear = make_pipeline(
        StandardScaler(), WeightedLinearRegressor(penalty="l1", alpha=3.0)
    ).fit(X_train, y_train)
    score = linear.score(X_test, y_test)
    sections.append(
        _demo_section(
            "Diabetes progression: WeightedLinearRegressor(penalty='l1', alpha=3)",
            linear,
            f"held-out R² = {score:.3f}",
            diabetes.feature_names,
        )
    )

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data, digits.target, stratify=digits.target, random_state=0
    )
    network = make_pipeline(
        StandardScaler(),
        MLPWeightsClassifier(
            hidden_layer_sizes=(64,),
            dropout=0.2,
            max_iter=200,
            random_state=0,
        ),
    ).fit(X_train, y_train)
    score = network.score(X_test, y_test)
    sections.append(
        _demo_section(
            "Handwritten digits: MLPWeightsClassifier(dropout=0.2)",
            network,
            f"held-out accuracy = {score:.3f}",
            digits.feature_names,
        )
    )

    body = "\n".join(
        f"<h2>{title}</h2><p>{note}</p>\n{report.to_html(False, _can_plot())}"
        for title, note, report in sections
    )
    path.write_text(_page("sk_weights demo", body), encoding="utf-8")
    seconds = time.perf_counter() - start
    print(f"Wrote {path} ({seconds:.1f} s).")
    if not _can_plot():
        print("Install matplotlib (pip install 'sk_weights[plot]') for the plots.")


def _demo_section(title, pipeline, note, feature_names):
    from sk_weights import weights_report

    report = weights_report(pipeline, feature_names=feature_names)
    print("=" * len(title))
    print(title)
    print("=" * len(title))
    print(report)
    print(note)
    print()
    return title, note, report


def _can_plot():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _page(title, body):
    from sk_weights.report import _CSS

    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_CSS}</style></head><body>\n<h1>{title}</h1>\n{body}\n"
        "</body></html>\n"
    )


# -- fit ----------------------------------------------------------------------


def _fit(args):
    from sk_weights import save

    if not 0 <= args.test_size < 1:
        raise CommandError(f"--test-size must be in [0, 1), got {args.test_size}.")
    _check_output(args.out, "--out")
    _check_output(args.report, "--report")
    header, columns, lines = _read_csv(args.data, args)
    names = _feature_names(header, args)
    X = _feature_matrix(columns, names, args.data, lines)
    estimator, y, metric = _estimator(args, columns, lines, len(names))

    X_train, X_test, y_train, y_test = _split(X, y, args, estimator)
    model = estimator
    if args.standardize:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), estimator)
    n_rows, n_features = X_train.shape
    cost = n_rows * n_features + (n_features**2 if args.model == "linear" else 0)
    if cost >= LONG_WORK:
        args.progress.begin(
            f"fitting {type(estimator).__name__} on {n_rows} rows x "
            f"{n_features} columns"
        )
    model.fit(X_train, y_train)
    args.progress.end()

    report = _weights_report(model, names)
    print(report)
    print()
    print(f"Training {metric}: {model.score(X_train, y_train):.4f} ({n_rows} rows)")
    if X_test is None:
        print("Held-out score: none (--test-size 0).")
    else:
        print(
            f"Held-out {metric}: {model.score(X_test, y_test):.4f} "
            f"({len(y_test)} rows, --test-size {args.test_size})"
        )
    _name_features(model, names)
    try:
        save(model, args.out)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    print(f"Saved the model to {args.out}.")
    _write_html(report, args.report)


def _feature_names(header, args):
    """The feature columns: every column but the target (which must exist)."""
    _check_column(args.target, header, args.data)
    names = [name for name in header if name != args.target]
    if not names:
        raise CommandError(f"{args.data} has no feature column besides the target.")
    return names


def _check_column(name, header, path):
    if name not in header:
        raise CommandError(
            f"no column {name!r} in {path}; its columns are: " + ", ".join(header)
        )


def _estimators():
    """The class of each ``(--model, task)``."""
    from sk_weights import (
        MLPWeightsClassifier,
        MLPWeightsRegressor,
        WeightedLinearClassifier,
        WeightedLinearRegressor,
    )

    return {
        ("linear", "regression"): WeightedLinearRegressor,
        ("linear", "classification"): WeightedLinearClassifier,
        ("mlp", "regression"): MLPWeightsRegressor,
        ("mlp", "classification"): MLPWeightsClassifier,
    }


def _task(args, column, lines):
    """``--task``, or the target's: regression if numeric with many values.

    ``--loss`` (a regressor's loss, counts included) means regression.

    A numeric target with a value that is not a whole number, or with more
    than ``MAX_CLASSES`` distinct whole numbers, is regressed; text, or at
    most ``MAX_CLASSES`` distinct whole numbers, make classes.
    """
    if getattr(args, "task", None) is not None:
        return args.task
    if getattr(args, "loss", None) is not None:  # a loss of the regressors
        return "regression"
    labels = _labels(column, args.target, args.data, lines)
    if labels.dtype.kind == "f":  # a number that is not whole: a measurement
        return "regression"
    many = labels.dtype.kind == "i" and np.unique(labels).size > MAX_CLASSES
    return "regression" if many else "classification"


def _add_loss_options(parser):
    """``--loss``, ``--huber-delta`` and ``--positive`` (regression only)."""
    parser.add_argument(
        "--loss",
        choices=sorted(regression_losses()),
        help="loss of a regressor (default squared_error); the target must "
        "lie in the loss's range",
    )
    parser.add_argument(
        "--huber-delta", type=float, help="where the huber loss turns linear"
    )
    parser.add_argument(
        "--positive",
        action="store_true",
        help="hold every weight of the linear regressor at or above 0",
    )


def _estimator(args, columns, lines, n_features):
    """The estimator the options describe, its target column and score name.

    ``--model`` and the task (:func:`_task`) pick the class. The options are
    checked (``_validate_params``) before any work is done.
    """
    params = {"random_state": args.random_state}
    for option in ("alpha", "l1_ratio", "dropout", "max_iter"):
        if getattr(args, option, None) is not None:
            params[option] = getattr(args, option)
    if args.penalty is not None:
        params["penalty"] = None if args.penalty == "none" else args.penalty
    if args.model == "linear" and getattr(args, "hidden", None):
        raise CommandError("--hidden applies to --model mlp only.")
    for option, value in (
        ("loss", getattr(args, "loss", None)),
        ("huber_delta", getattr(args, "huber_delta", None)),
        ("positive", getattr(args, "positive", False) or None),
    ):
        if value is not None:
            params[option] = value
    if getattr(args, "hidden", None):
        params["hidden_layer_sizes"] = _hidden_sizes(args.hidden)
    task = _task(args, columns[args.target], lines)
    cls = _estimators().get((args.model, task))
    if cls is None:
        raise CommandError(
            f"--model {args.model} has no {task} estimator; choose another "
            "--model or --task."
        )
    if task == "regression":
        y = _numeric(columns[args.target], args.target, args.data, lines)
        metric = "R²"
    else:
        y = _labels(columns[args.target], args.target, args.data, lines)
        metric = "accuracy"
    unknown = sorted(set(params) - set(cls().get_params()))
    if unknown:
        options = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise CommandError(
            f"{options} do(es) not apply to {cls.__name__} (--model "
            f"{args.model}, {task})."
        )
    estimator = cls(**params)
    estimator._validate_params()  # bad options fail before any work
    if task == "regression":
        try:  # a target outside the loss's domain (poisson: y >= 0)
            estimator._datafit(1).check_y(y)
        except ValueError as exc:
            raise CommandError(f"target column {args.target!r}: {exc}") from None
    if args.model == "mlp":
        n_outputs = 1 if task == "regression" else len(np.unique(y))
        _check_network_size(estimator, n_features, n_outputs)
    return estimator, y, metric


def _split(X, y, args, estimator):
    """Hold out ``--test-size`` of the rows (stratified for classification)."""
    if args.test_size == 0:
        return X, None, y, None
    from sklearn.model_selection import train_test_split

    n_test = math.ceil(args.test_size * len(y))
    from sklearn.base import is_classifier

    stratify = y if is_classifier(estimator) else None
    try:
        return train_test_split(
            X,
            y,
            test_size=n_test,
            stratify=stratify,
            random_state=args.random_state,
        )
    except ValueError as exc:
        raise CommandError(
            f"cannot hold out {n_test} of {len(y)} rows"
            + (" stratified by class" if stratify is not None else "")
            + f" ({_one_line(exc)}); use more rows, another --test-size, or "
            "--test-size 0"
        ) from exc


def _check_network_size(estimator, n_features, n_classes):
    """Refuse a network too large to allocate, before allocating it."""
    from sk_weights._network import Layout

    n_outputs = 1 if n_classes <= 2 else n_classes  # a regressor passes 1
    layout = Layout([n_features, *estimator._hidden_sizes(), n_outputs])
    if layout.n_params > MAX_NETWORK_PARAMETERS:
        raise CommandError(
            f"--hidden {','.join(map(str, layout.layer_sizes[1:-1]))} makes a "
            f"network of {layout.n_params:,} weights and biases on "
            f"{n_features} features, more than the {MAX_NETWORK_PARAMETERS:,} "
            "this command builds; use fewer hidden units."
        )


def _weights_report(model, names):
    from sk_weights import weights_report

    return weights_report(model, feature_names=names)


def _read_csv(path, limits):
    """Return the header, the columns (lists of strings) and each row's line.

    ``limits`` holds ``max_bytes`` and ``max_line``: a larger file, a longer
    line or a NUL character (a binary file, ``/dev/zero``) is refused as soon
    as it is seen.
    """
    try:
        # utf-8-sig drops the byte-order mark some spreadsheets write.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_bytes:
                raise CommandError(
                    f"{path} has {size:,} bytes, more than --max-bytes "
                    f"{limits.max_bytes:,}; raise --max-bytes to read it."
                )
            lines = _bounded_lines(handle, path, limits.max_bytes, limits.max_line)
            rows = list(csv.reader(lines))
    except FileNotFoundError as exc:
        raise CommandError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path} as CSV: {_one_line(exc)}") from exc
    if len(rows) < 2:
        raise CommandError(f"{path} needs a header row and at least one data row.")
    header = [name.strip() for name in rows[0]]
    seen = {}
    for j, name in enumerate(header):
        if not name:
            raise CommandError(f"{path}: column {j + 1} of the header has no name.")
        if name in seen:
            raise CommandError(
                f"{path}: duplicate column name {name!r} (columns {seen[name] + 1} "
                f"and {j + 1}); rename one."
            )
        seen[name] = j
    lines = [i + 2 for i, row in enumerate(rows[1:]) if row]
    body = [row for row in rows[1:] if row]
    bad = [line for line, row in zip(lines, body) if len(row) != len(header)]
    if bad:
        raise CommandError(
            f"{path}: line {bad[0]} has a different number of fields than the header."
        )
    columns = {name: [row[j] for row in body] for j, name in enumerate(header)}
    return header, columns, lines


def _bounded_lines(handle, path, max_bytes, max_line):
    """The lines of ``handle``, refusing a NUL, a long line or too much in all.

    Each line is read with a bound, so that a file without line breaks (or a
    device that never ends) costs at most ``max_line`` characters.
    """
    total = 0
    number = 0
    while True:
        line = handle.readline(max_line + 1)
        if not line:
            return
        number += 1
        if "\0" in line:
            raise CommandError(
                f"{path}: line {number} holds a NUL character; a CSV file is "
                "text (is this a binary file?)."
            )
        if len(line) > max_line:
            raise CommandError(
                f"{path}: line {number} is longer than --max-line {max_line:,} "
                "characters; raise --max-line to read it."
            )
        total += len(line)
        if total > max_bytes:
            raise CommandError(
                f"{path} holds more than --max-bytes {max_bytes:,}; raise "
                "--max-bytes to read it."
            )
        yield line


def _feature_matrix(columns, names, path, lines):
    """The named columns as a float array, one column per name, in order."""
    return np.column_stack(
        [_numeric(columns[name], name, path, lines) for name in names]
    )


def _name_features(model, names):
    """Give a model fitted on an array the CSV's column names, as a frame would.

    The names go where fitting on a DataFrame puts them: on the model, or on
    the first step of a pipeline (whose later steps see an array). So the
    saved model keeps them without pandas, and ``report`` and ``explain``
    find them.
    """
    first = model.steps[0][1] if hasattr(model, "steps") else model
    first.feature_names_in_ = np.asarray(names, dtype=object)


def _missing(name, path, lines, i):
    return CommandError(
        f"missing value in row {i + 1}, column {name!r} (line {lines[i]} of "
        f"{path}); fill in or drop the rows with missing values first."
    )


def _numeric(values, name, path, lines):
    """A column of numbers; a missing or non-numeric cell is named by row."""
    numbers = np.empty(len(values))
    for i, text in enumerate(values):
        text = text.strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        if text.lower() in _MISSING or (number is not None and math.isnan(number)):
            raise _missing(name, path, lines, i)
        if number is None:
            raise CommandError(
                f"column {name!r} of {path} is not numeric (line {lines[i]}: "
                f"{text!r}); encode categories as numbers first."
            )
        if math.isinf(number):
            raise CommandError(
                f"column {name!r} of {path} holds an infinite value (line {lines[i]})."
            )
        numbers[i] = number
    return numbers


def _labels(values, name, path, lines):
    """Class labels: numbers if every label is one (integers if whole), else text."""
    labels = [text.strip() for text in values]
    for i, label in enumerate(labels):
        if label.lower() in _MISSING:
            raise _missing(name, path, lines, i)
    try:
        numbers = np.array([float(label) for label in labels])
    except ValueError:
        return np.array(labels)
    if np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    return numbers


def _hidden_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError as exc:
        raise CommandError(f"--hidden takes sizes like 64,32; got {text!r}.") from exc
    return sizes


# -- report -------------------------------------------------------------------


def _report(args):
    _check_output(args.html, "--html")
    model = _load_model(args.model, args.max_model_bytes)
    if args.stability is None:
        if args.target is not None:
            raise CommandError("--target applies with --stability DATA.csv only.")
        report = _weights_report(model, None)
    else:
        report = _stability(model, args)
    print(report)
    _write_html(report, args.html)


def _load_model(path, max_bytes):
    from sk_weights import load

    if not os.path.exists(path):
        raise CommandError(f"no such file: {path}")
    try:
        return load(path, max_bytes=max_bytes)
    except (ValueError, OSError) as exc:
        if "max_bytes" in str(exc):
            declared = _one_line(exc).split(", more than")[0]
            raise CommandError(
                f"{path}: {declared[0].lower()}{declared[1:]}, more than "
                f"--max-model-bytes {max_bytes:,}; raise --max-model-bytes if "
                "you trust the file."
            ) from exc
        raise CommandError(
            f"{path} is not a sk_weights model: {_one_line(exc)}"
        ) from exc


def _model_inputs(model, path, header, columns, lines, target=None):
    """The columns of a CSV file that a saved model takes: its table and names.

    By name when the model has feature names (other columns, such as the
    target, are ignored); otherwise every column but ``target``, in order,
    which must be as many as the model's features.
    """
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        names = [str(name) for name in names]
        missing = [name for name in names if name not in columns]
        if missing:
            raise CommandError(
                f"{path} lacks the model's feature column(s) "
                + ", ".join(repr(name) for name in missing)
            )
    else:
        names = [name for name in header if name != target]
        if len(names) != model.n_features_in_:
            besides = f" besides {target!r}" if target is not None else ""
            raise CommandError(
                f"the model takes {model.n_features_in_} unnamed features but "
                f"{path} has {len(names)} columns{besides}; keep exactly its "
                "feature columns, in the order it was fitted on."
            )
    return _feature_matrix(columns, names, path, lines), names


# -- explain ------------------------------------------------------------------

#: scikit-learn's warning for an array passed to a model fitted with names.
_NO_NAMES = "X does not have valid feature names"


def _explain(args):
    from sk_weights import explain

    _check_output(args.html, "--html")
    model = _load_model(args.model, args.max_model_bytes)
    header, columns, lines = _read_csv(args.data, args)
    X, _ = _model_inputs(model, args.data, header, columns, lines)
    rows = _row_numbers(args.rows, len(lines), args.data)
    with warnings.catch_warnings():
        # The columns were picked by name: the array is in the model's order.
        warnings.filterwarnings("ignore", message=_NO_NAMES)
        explanation = explain(model, X[rows], n_steps=args.n_steps)
    explanation.index = list(rows)  # the text names the rows by number
    print(explanation)
    if args.html:
        _write_text(args.html, explanation.to_html(include_plot=_can_plot()))


def _row_numbers(text, n_rows, path):
    """The data rows ``--rows`` names (all by default), checked against the file."""
    if text is None:
        return list(range(n_rows))
    try:
        rows = [int(part) for part in text.split(",")]
    except ValueError as exc:
        raise CommandError(
            f"--rows takes row numbers counted from 0, like 0,5; got {text!r}."
        ) from exc
    bad = [row for row in rows if not 0 <= row < n_rows]
    if bad:
        raise CommandError(
            f"--rows: no row {bad[0]} in {path}, whose {n_rows} data rows are "
            f"numbered 0 to {n_rows - 1}."
        )
    return rows


def _stability(model, args):
    """The model's report, with the stability of its weights over refits."""
    from sklearn.base import is_classifier

    from sk_weights.inspection import refit_resamples
    from sk_weights.report import _stability_report

    if args.target is None:
        raise CommandError("--stability needs --target COL, the target column.")
    if args.n_resamples < 2:
        raise CommandError(f"--n-resamples must be at least 2, got {args.n_resamples}.")
    header, columns, lines = _read_csv(args.stability, args)
    _check_column(args.target, header, args.stability)
    X, names = _model_inputs(model, args.stability, header, columns, lines, args.target)
    if is_classifier(model):
        y = _labels(columns[args.target], args.target, args.stability, lines)
    else:
        y = _numeric(columns[args.target], args.target, args.stability, lines)
    seeds = np.random.RandomState(args.random_state).randint(
        np.iinfo(np.int32).max, size=args.n_resamples
    )
    args.progress.begin(
        f"refitting {type(model).__name__} on {args.n_resamples} {args.method} "
        f"resamples of {len(y)} rows"
    )
    jobs = [(seed, args.method) for seed in seeds]
    fitted = refit_resamples(model, X, y, jobs, n_jobs=args.n_jobs)
    args.progress.end()
    # The saved model's own weights, with the refits' spread around them.
    return _stability_report(fitted, args.method, reference=model, feature_names=names)


# -- path ---------------------------------------------------------------------


def _path(args):
    from sk_weights import weights_path

    _check_output(args.html, "--html")
    header, columns, lines = _read_csv(args.data, args)
    names = _feature_names(header, args)
    X = _feature_matrix(columns, names, args.data, lines)
    if args.standardize:
        from sklearn.preprocessing import StandardScaler

        X = StandardScaler().fit_transform(X)
    estimator, y, _ = _estimator(args, columns, lines, len(names))
    if args.n_alphas < 1:
        raise CommandError(f"--n-alphas must be at least 1, got {args.n_alphas}.")
    args.progress.begin(
        f"fitting {type(estimator).__name__} at {args.n_alphas} penalty strengths"
    )
    path = weights_path(estimator, X, y, n_alphas=args.n_alphas)
    path.feature_names = list(names)
    args.progress.end()
    print(path)
    if args.html:
        body = f"<pre>{html.escape(str(path))}</pre>"
        if _can_plot():
            buffer = io.BytesIO()
            path.plot().savefig(buffer, format="png", dpi=90)
            body += (
                '<img alt="weights path" src="data:image/png;base64,'
                + base64.b64encode(buffer.getvalue()).decode("ascii")
                + '">'
            )
        _write_text(args.html, _page("Weights path", body))


def _check_output(path, option):
    """Refuse an output file that cannot be written, before any work is done."""
    if path is None:
        return
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        problem = "is a folder; give a file name"
    elif not folder.is_dir():
        problem = f"is in {str(folder)!r}, which is not a folder"
    elif not os.access(folder, os.W_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        problem = "cannot be written (permission denied)"
    else:
        return
    raise CommandError(f"{option} {path} {problem}.")


def _write_html(report, path):
    if path:
        _write_text(path, report.to_html(include_plot=_can_plot()))


def _write_text(path, text):
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(f"Wrote {path}.")
