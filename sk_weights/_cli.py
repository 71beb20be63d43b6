"""The command line: ``python -m sk_weights`` / ``sk-weights``.

Subcommands:

- ``demo``: train both estimators on data bundled with scikit-learn, print
  their reports and write ``sk_weights_demo/report.html``;
- ``fit DATA.csv --target COL --out MODEL.npz``: fit a model on a CSV file and
  save it in the package's safe format;
- ``report MODEL.npz``: print (and optionally write) a saved model's report.

Every expected failure (a missing file, an unknown column, non-numeric data,
a file that is not a model) ends with one line on stderr and exit status 2.
"""

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


class CommandError(Exception):
    """An expected failure, reported as one line on stderr."""


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Parameters
    ----------
    argv : list of str, optional
        The arguments, without the program name.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on an expected failure.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except CommandError as exc:
        print(f"sk-weights {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _parser():
    parser = argparse.ArgumentParser(
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
            "required) and save it in the pickle-free .npz format. The "
            "features are used as they are: standardise them first for the mlp."
        ),
    )
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--target", required=True, help="name of the target column")
    fit.add_argument("--model", choices=["linear", "mlp"], default="linear")
    fit.add_argument("--penalty", choices=["l1", "l2", "elasticnet", "none"])
    fit.add_argument("--alpha", type=float, help="penalty strength")
    fit.add_argument("--l1-ratio", type=float, help="L1 share of the elastic net")
    fit.add_argument("--dropout", type=float, help="dropout rate")
    fit.add_argument(
        "--hidden", help="hidden layer sizes of the mlp, e.g. 64,32 (default 100)"
    )
    fit.add_argument("--max-iter", type=int, help="maximum iterations / epochs")
    fit.add_argument("--random-state", type=int, default=0)
    fit.add_argument("--out", required=True, help="where to save the model (.npz)")
    fit.add_argument("--report", help="also write the HTML report to this file")
    fit.set_defaults(run=_fit)

    report = commands.add_parser(
        "report",
        help="print the report of a saved model",
        description="Print the learned-weights report of a model saved by 'fit'.",
    )
    report.add_argument("model", help="a .npz file written by 'sk-weights fit'")
    report.add_argument("--html", help="also write the HTML report to this file")
    report.set_defaults(run=_report)
    return parser


# -- demo ---------------------------------------------------------------------


def _demo(args):
    from sklearn.datasets import load_diabetes, load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor

    start = time.perf_counter()
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

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
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
    from sk_weights import MLPWeightsClassifier, WeightedLinearRegressor, save

    header, columns = _read_csv(args.data)
    if args.target not in header:
        raise CommandError(
            f"no column {args.target!r} in {args.data}; its columns are: "
            + ", ".join(header)
        )
    names = [name for name in header if name != args.target]
    if not names:
        raise CommandError(f"{args.data} has no feature column besides the target.")
    X = _feature_table(
        {name: _numeric(columns[name], name, args.data) for name in names}
    )
    params = {"random_state": args.random_state}
    for option, key in [
        ("alpha", "alpha"),
        ("l1_ratio", "l1_ratio"),
        ("dropout", "dropout"),
        ("max_iter", "max_iter"),
    ]:
        if getattr(args, option) is not None:
            params[key] = getattr(args, option)
    if args.penalty is not None:
        params["penalty"] = None if args.penalty == "none" else args.penalty
    if args.model == "linear":
        if args.hidden:
            raise CommandError("--hidden applies to --model mlp only.")
        y = _numeric(columns[args.target], args.target, args.data)
        estimator = WeightedLinearRegressor(**params)
    else:
        y = np.asarray(columns[args.target])
        if args.hidden:
            params["hidden_layer_sizes"] = _hidden_sizes(args.hidden)
        estimator = MLPWeightsClassifier(**params)
    try:
        estimator.fit(X, y)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    try:
        save(estimator, args.out)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    report = estimator.weights_report(feature_names=names)
    print(report)
    print(f"\nSaved the model to {args.out}.")
    _write_html(report, args.report)


def _read_csv(path):
    """Return the header and the columns (lists of strings) of a CSV file."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError as exc:
        raise CommandError(f"no such file: {path}") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path} as CSV: {exc}") from exc
    if len(rows) < 2:
        raise CommandError(f"{path} needs a header row and at least one data row.")
    header = [name.strip() for name in rows[0]]
    body = [row for row in rows[1:] if row]
    bad = [i + 2 for i, row in enumerate(body) if len(row) != len(header)]
    if bad:
        raise CommandError(
            f"{path}: line {bad[0]} has a different number of fields than the header."
        )
    return header, {name: [row[j] for row in body] for j, name in enumerate(header)}


def _feature_table(columns):
    """Return the features as a DataFrame when pandas is installed, else an array.

    A DataFrame gives the model ``feature_names_in_``, which the saved file
    keeps, so ``report`` shows the column names.
    """
    try:
        import pandas as pd
    except ImportError:
        return np.column_stack(list(columns.values()))
    return pd.DataFrame(columns)


def _numeric(values, name, path):
    try:
        return np.array([float(v) for v in values])
    except ValueError as exc:
        raise CommandError(
            f"column {name!r} of {path} is not numeric ({exc}); "
            "encode categories as numbers first."
        ) from exc


def _hidden_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError as exc:
        raise CommandError(f"--hidden takes sizes like 64,32; got {text!r}.") from exc
    return sizes


# -- report -------------------------------------------------------------------


def _report(args):
    from sk_weights import load

    if not os.path.exists(args.model):
        raise CommandError(f"no such file: {args.model}")
    try:
        estimator = load(args.model)
    except (ValueError, OSError) as exc:
        raise CommandError(f"{args.model} is not a sk_weights model: {exc}") from exc
    report = estimator.weights_report()
    print(report)
    _write_html(report, args.html)


def _write_html(report, path):
    if not path:
        return
    try:
        Path(path).write_text(
            report.to_html(include_plot=_can_plot()), encoding="utf-8"
        )
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(f"Wrote {path}.")
