"""Tests of the command line: ``main(argv)`` in-process, a few real processes.

Most tests call :func:`sk_weights._cli.main` in this process (its output read
with capsys, its files in a temporary folder). The command line reads CSV
files with the csv module only and never imports pandas, so these tests run
the very path of an installation without pandas; one test hides pandas to
make sure. A few tests start ``python -m sk_weights`` for what only a real
process shows: the exit status seen by a shell, Ctrl-C, a closed pipe and the
terminal's encoding.
"""

import csv
import importlib.abc
import io
import os
import signal
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array

import sk_weights
from sk_weights import load
from sk_weights._cli import main


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary current folder holding a regression and a classification CSV."""
    monkeypatch.chdir(tmp_path)
    diabetes = load_diabetes()
    _write_rows(
        tmp_path / "diabetes.csv",
        [*diabetes.feature_names, "target"],
        np.column_stack([diabetes.data, diabetes.target]).tolist(),
    )
    iris = load_iris()
    species = np.array(["setosa", "versicolor", "virginica"])[iris.target]
    _write_rows(
        tmp_path / "iris.csv",
        [*iris.feature_names, "species"],
        [[*map(float, x), label] for x, label in zip(iris.data, species)],
    )
    return tmp_path


def _write_rows(path, header, rows):
    """Write a CSV file with the csv module (no pandas needed)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _score(model, X, y):
    """The model's score on an array, in the CSV's column order.

    The model keeps the CSV's column names; scikit-learn warns that an array
    has none, which is expected here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature")
        return model.score(X, y)


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """Run ``main(argv)`` in ``tmp_path``; return (status, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*argv):
        capsys.readouterr()
        code = main([str(arg) for arg in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _assert_fails_in_one_line(result, message):
    """Exit status 2, exactly one line on stderr holding ``message``, no traceback."""
    code, _, err = result
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert message in lines[0], lines[0]


def test_demo_prints_both_reports_and_writes_html(workdir, capsys, no_pandas):
    """Check that demo trains both models, prints their reports and writes the HTML.

    pandas is hidden: the demo needs the core dependencies only.
    """
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "WeightedLinearRegressor — learned weights" in out
    assert "MLPWeightsClassifier — learned weights" in out
    assert "Weights set to exactly zero" in out
    accuracy = float(out.split("held-out accuracy = ")[1].split()[0])
    assert accuracy > 0.9
    page = (workdir / "sk_weights_demo" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "pixel_" in page and "bmi" in page


def test_fit_saves_a_model_that_report_reads(workdir, capsys):
    """Check fit -> save -> report on a CSV file, with the column names kept."""
    code = main(
        [
            "fit",
            "diabetes.csv",
            "--target",
            "target",
            "--penalty",
            "l1",
            "--alpha",
            "0.5",
            "--out",
            "model.npz",
            "--report",
            "fit.html",
        ]
    )
    assert code == 0
    fitted = capsys.readouterr().out
    assert "bmi" in fitted and "Saved the model to model.npz" in fitted
    assert (workdir / "fit.html").read_text().startswith("<!DOCTYPE html>")
    model = load("model.npz")
    assert int(np.sum(model.coef_ == 0)) == 6
    assert main(["report", "model.npz", "--html", "again.html"]) == 0
    reported = capsys.readouterr().out
    assert reported.splitlines()[:8] == fitted.splitlines()[:8]
    assert (workdir / "again.html").exists()


def test_fit_an_mlp_on_string_labels(workdir, capsys):
    """Check that --model mlp with --hidden fits string labels and saves them."""
    code = main(
        [
            "fit",
            "iris.csv",
            "--target",
            "species",
            "--model",
            "mlp",
            "--hidden",
            "8,4",
            "--max-iter",
            "50",
            "--out",
            "mlp.npz",
        ]
    )
    assert code == 0
    model = load("mlp.npz")
    assert [c.shape for c in model.coefs_] == [(4, 8), (8, 4), (4, 3)]
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert "MLPWeightsClassifier" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fit", "missing.csv", "--target", "y", "--out", "m.npz"], "no such file"),
        (["fit", "diabetes.csv", "--target", "nope", "--out", "m.npz"], "no column"),
        (
            ["fit", "iris.csv", "--target", "sepal length (cm)", "--out", "m.npz"],
            "not numeric",
        ),
        (
            ["fit", "iris.csv", "--target", "species", "--model", "mlp"]
            + ["--hidden", "8,x", "--out", "m.npz"],
            "--hidden takes sizes",
        ),
        (["report", "missing.npz"], "no such file"),
        (["report", "diabetes.csv"], "is not a sk_weights model"),
    ],
)
def test_bad_input_ends_with_one_clear_line(workdir, capsys, argv, message):
    """Check that each bad input prints one line on stderr and exits with 2."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in err


def test_bad_parameters_are_reported_not_raised(workdir, capsys):
    """Check that an invalid parameter value ends as a clear error line."""
    argv = ["fit", "diabetes.csv", "--target", "target", "--alpha", "-1"]
    assert main(argv + ["--out", "m.npz"]) == 2
    assert "alpha" in capsys.readouterr().err


@pytest.mark.parametrize(
    "sub", [[], ["demo"], ["fit"], ["report"], ["path"], ["explain"]]
)
def test_help_on_every_subcommand(sub, capsys):
    """Check that sk-weights [SUBCOMMAND] --help prints the usage and exits 0."""
    assert main([*sub, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: sk-weights" in out
    if sub in (["fit"], ["path"], ["explain"]):
        # The limits on what is read are documented where they apply.
        assert "--max-bytes SIZE" in out and "--max-line SIZE" in out
        assert "default: 2G" in out and "default: 10M" in out
    if sub == ["explain"]:
        assert "--max-model-bytes SIZE" in out and "default: 1G" in out


# -- bad input: one line, status 2 ---------------------------------------------


def _write_csv(path, text, bom=False):
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))


def _small_table(n_rows=40, seed=0):
    """Rows of two features and a 0/1/2 class that depends on them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 2))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])
    return X, y


def _table_csv(X, y, names=("a", "b", "y")):
    rows = [",".join(names)]
    rows += [f"{float(x0)!r},{float(x1)!r},{label}" for (x0, x1), label in zip(X, y)]
    return "\n".join(rows) + "\n"


CSV_FAILURES = {
    "duplicate column names": (
        "a,a,y\n1,2,3\n4,5,6\n",
        ["--target", "y"],
        "duplicate column name 'a' (columns 1 and 2)",
    ),
    "empty cell": (
        "a,b,y\n1,2,3\n4,,6\n7,8,9\n",
        ["--target", "y"],
        "missing value in row 2, column 'b' (line 3 of data.csv)",
    ),
    "NaN cell": (
        "a,b,y\n1,2,3\n4,5,6\n7,NaN,9\n",
        ["--target", "y"],
        "missing value in row 3, column 'b'",
    ),
    "missing label": (
        "a,b,y\n1,2,0\n4,5,\n7,8,1\n",
        ["--target", "y", "--model", "mlp"],
        "missing value in row 2, column 'y'",
    ),
    "huge network": (
        "a,b,y\n1,2,0\n4,5,1\n7,8,1\n",
        ["--target", "y", "--model", "mlp", "--hidden", "1000000000000"],
        "network of 4,000,000,000,001 weights and biases",
    ),
    "boolean for an integer option": (
        "a,b,y\n1,2,3\n4,5,6\n",
        ["--target", "y", "--max-iter", "True"],
        "argument --max-iter: invalid int value: 'True'",
    ),
    "bad test size": (
        "a,b,y\n1,2,3\n4,5,6\n",
        ["--target", "y", "--test-size", "1"],
        "--test-size must be in [0, 1)",
    ),
    "too few rows of a class to stratify": (
        "a,b,y\n1,2,0\n4,5,0\n7,8,1\n2,2,0\n",
        ["--target", "y", "--model", "mlp"],
        "cannot hold out 1 of 4 rows stratified by class",
    ),
}


@pytest.mark.parametrize("name", list(CSV_FAILURES))
def test_bad_csv_and_options_fail_in_one_line(name, tmp_path, run):
    """Check that each bad CSV or option gives exit 2 and one clear line."""
    text, options, message = CSV_FAILURES[name]
    _write_csv(tmp_path / "data.csv", text)
    result = run("fit", "data.csv", *options, "--out", "m.npz")
    _assert_fails_in_one_line(result, message)
    assert not (tmp_path / "m.npz").exists()


def test_csv_with_a_byte_order_mark(tmp_path, run):
    """Check that a UTF-8 BOM is not part of the first column's name."""
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y), bom=True)
    result = run("fit", "data.csv", "--target", "a", "--out", "m.npz")
    assert result[0] == 0, result[2]
    model = load(tmp_path / "m.npz")
    assert list(model.feature_names_in_) == ["b", "y"]


def test_numeric_labels_stay_numeric(tmp_path, run):
    """Check that a model fitted on numeric CSV labels scores numeric y."""
    X, y = _small_table(60)
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--model",
        "mlp",
        "--hidden",
        "8",
        "--max-iter",
        "300",
        "--out",
        "m.npz",
    )
    assert result[0] == 0, result[2]
    model = load(tmp_path / "m.npz")
    assert model.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert _score(model, X, y) > 0.5  # numeric y: no "Mix of label input types"


def _printed_score(out, which):
    line = next(line for line in out.splitlines() if line.startswith(which))
    return float(line.split(":")[1].split()[0])


@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_fit_prints_training_and_held_out_scores(model, tmp_path, run):
    """Check both printed scores against the saved model on the same split.

    The held-out rows are the documented share, drawn by train_test_split with
    --random-state (stratified for classification): recomputed here from the
    CSV, they must give the printed scores.
    """
    X, y = _small_table(50)
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    options = ["--model", model, "--test-size", "0.3", "--random-state", "7"]
    if model == "linear":
        # y holds three whole numbers: classes unless regression is asked for.
        options += ["--task", "regression"]
    if model == "mlp":
        options += ["--hidden", "6", "--max-iter", "200", "--standardize"]
    result = run("fit", "data.csv", "--target", "y", *options, "--out", "m.npz")
    assert result[0] == 0, result[2]
    fitted = load(tmp_path / "m.npz")
    target = y if model == "mlp" else y.astype(float)
    X_train, X_test, y_train, y_test = train_test_split(
        X,
        target,
        test_size=15,
        random_state=7,
        stratify=target if model == "mlp" else None,
    )
    metric = "accuracy" if model == "mlp" else "R²"
    assert len(y_test) == 15  # ceil(0.3 * 50)
    assert _printed_score(result[1], f"Training {metric}") == pytest.approx(
        _score(fitted, X_train, y_train), abs=1e-4
    )
    assert _printed_score(result[1], f"Held-out {metric}") == pytest.approx(
        _score(fitted, X_test, y_test), abs=1e-4
    )
    assert f"({len(y_test)} rows, --test-size 0.3)" in result[1]


def test_standardize_saves_a_pipeline(tmp_path, run):
    """Check that --standardize saves Pipeline(StandardScaler, model), which reports."""
    X, y = _small_table(50)
    X = X * [1000.0, 0.001] + [5e4, 0]
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--standardize",
        "--out",
        "m.npz",
    )
    assert result[0] == 0, result[2]
    pipeline = load(tmp_path / "m.npz")
    assert isinstance(pipeline, Pipeline)
    scaler = pipeline[0]
    assert isinstance(scaler, StandardScaler)
    train = np.isin(X[:, 0], X[:, 0])  # every row is a row of the CSV
    assert scaler.n_samples_seen_ == 40 and train.all()  # 50 rows minus 10 held out
    assert np.abs(scaler.mean_[0] - 5e4) < 1e4
    reported = run("report", "m.npz")
    assert reported[0] == 0, reported[2]
    assert "WeightedLinearRegressor" in reported[1] and "b" in reported[1]


def test_long_work_says_what_it_is_doing(tmp_path, run):
    """Check that a wide table gets a 'fitting ... rows x columns' line on stderr."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 1000))
    header = ",".join([f"f{i}" for i in range(1000)] + ["y"])
    rows = [",".join(str(float(v)) for v in [*x, x[0]]) for x in X]
    _write_csv(tmp_path / "data.csv", "\n".join([header, *rows]) + "\n")
    result = run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--test-size",
        "0",
        "--max-iter",
        "20",
        "--out",
        "m.npz",
    )
    assert result[0] == 0, result[2]
    assert (
        "sk-weights fit: fitting WeightedLinearRegressor on 5 rows x 1000 columns"
        " ... done (" in result[2]
    )
    # A narrow table is quick: nothing is said.
    X, y = _small_table()
    _write_csv(tmp_path / "small.csv", _table_csv(X, y))
    result = run(
        "fit",
        "small.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--out",
        "s.npz",
    )
    assert result[0] == 0 and "fitting" not in result[2]


def test_running_out_of_memory_is_one_line(tmp_path, run, monkeypatch):
    """Check that a MemoryError inside the fit is one line.

    The solver is made to ask NumPy for a terabyte-sized array (NumPy's own
    MemoryError, as a fit too large for the machine raises it); the progress
    line is closed by the error, so stderr still holds one line.
    """
    import sk_weights._linear as linear

    def solve(*args, **kwargs):
        return np.empty((2**20, 2**20))

    monkeypatch.setattr(linear, "solve_full_batch", solve)
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = run(
        "fit", "data.csv", "--target", "y", "--task", "regression", "--out", "m.npz"
    )
    _assert_fails_in_one_line(result, "out of memory")
    assert not (tmp_path / "m.npz").exists()


def test_multi_line_errors_are_collapsed(tmp_path, run, monkeypatch):
    """Check that scikit-learn's multi-line messages end as one line.

    The CSV reader refuses missing values before scikit-learn sees them, so
    the fit is made to meet scikit-learn's own (multi-line) NaN error here.
    """

    def fit(self, X, y):
        check_array(np.array([[np.nan]]), estimator=self, input_name="X")

    monkeypatch.setattr(sk_weights.WeightedLinearRegressor, "fit", fit)
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = run(
        "fit", "data.csv", "--target", "y", "--task", "regression", "--out", "m"
    )
    _assert_fails_in_one_line(result, "Input X contains NaN. WeightedLinearRegressor")
    # The control: scikit-learn's message does span lines.
    with pytest.raises(ValueError, match="Input X contains NaN.\n"):
        check_array(np.array([[np.nan]]), input_name="X", estimator=StandardScaler())


def test_report_on_hostile_files_is_one_line(tmp_path, run):
    """Check report on a non-model, a truncated model and a boolean batch_size."""
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    assert (
        run(
            "fit",
            "data.csv",
            "--target",
            "y",
            "--task",
            "regression",
            "--out",
            "m.npz",
        )[0]
        == 0
    )
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    raw = entries["sk_weights_header.npy"]
    header = np.load(io.BytesIO(raw)).tobytes().decode("utf-8")
    header = header.replace('"batch_size": "auto"', '"batch_size": true')
    buffer = io.BytesIO()
    np.save(buffer, np.frombuffer(header.encode("utf-8"), dtype=np.uint8))
    entries["sk_weights_header.npy"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "bool.npz", "w") as archive:
        for name, payload in entries.items():
            archive.writestr(name, payload)
    for name, message in [
        ("data.csv", "is not a sk_weights model"),
        ("cut.npz", "is not a sk_weights model"),
        ("bool.npz", "batch_size=True is not a number"),
        ("missing.npz", "no such file"),
    ]:
        _assert_fails_in_one_line(run("report", name), message)


def test_report_escapes_control_characters_in_names(tmp_path, run):
    """Check that feature names with escape sequences print as inert text.

    A terminal escape (``ESC[31m``) or a line break inside a CSV column name
    must neither colour the terminal nor forge a line of the report.
    """
    X, y = _small_table()
    names = ("a\x1b[31mRED", "b\nFAKE LINE", "y")
    _write_rows(tmp_path / "data.csv", names, np.column_stack([X, y]).tolist())
    fitted = run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--out",
        "m.npz",
    )
    assert fitted[0] == 0, fitted[2]
    assert list(load(tmp_path / "m.npz").feature_names_in_) == list(names[:2])
    for result in (fitted, run("report", "m.npz")):
        assert result[0] == 0, result[2]
        assert "\x1b" not in result[1]
        assert r"a\x1b[31mRED" in result[1]
        assert r"b\nFAKE LINE" in result[1]
        assert not any(line.startswith("FAKE LINE") for line in result[1].splitlines())


@pytest.mark.parametrize(
    "target, options, expected",
    [
        # Whole numbers, three of them: classes.
        (lambda y: y, ["--model", "mlp"], "MLPWeightsClassifier"),
        # A value that is not whole: a measurement.
        (lambda y: y + 0.25, ["--model", "mlp"], "MLPWeightsRegressor"),
        # Whole numbers, more distinct values than MAX_CLASSES: regression.
        (lambda y: np.arange(len(y)), ["--model", "mlp"], "MLPWeightsRegressor"),
        (
            lambda y: y,
            ["--model", "mlp", "--task", "regression"],
            "MLPWeightsRegressor",
        ),
        (lambda y: y, ["--task", "regression"], "WeightedLinearRegressor"),
        (lambda y: y, ["--model", "linear"], "WeightedLinearClassifier"),
    ],
)
def test_model_and_target_pick_the_estimator(target, options, expected, tmp_path, run):
    """Check the documented rule: --model and the target (or --task) pick the class."""
    X, y = _small_table(50)
    _write_csv(tmp_path / "data.csv", _table_csv(X, target(y)))
    result = run("fit", "data.csv", "--target", "y", *options, "--out", "m.npz")
    assert result[0] == 0, result[2]
    assert type(load(tmp_path / "m.npz")).__name__ == expected


# -- without pandas: the column names are kept -----------------------------------


class _NoPandas(importlib.abc.MetaPathFinder):
    """An import hook that refuses pandas, as an installation without it does."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ImportError("pandas is hidden")


@pytest.fixture
def no_pandas(monkeypatch):
    """Make pandas unimportable and unknown to scikit-learn for one test."""
    for name in [n for n in sys.modules if n.split(".")[0] == "pandas"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoPandas(), *sys.meta_path])
    with pytest.raises(ImportError):
        import pandas  # noqa: F401


def _diabetes_csv(path):
    """The diabetes data as a CSV file of 10 named features and the target."""
    data = load_diabetes()
    rows = [",".join([*data.feature_names, "target"])]
    rows += [
        ",".join(repr(float(v)) for v in [*x, t])
        for x, t in zip(data.data, data.target)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data


def test_without_pandas_the_csv_names_are_kept(tmp_path, run, no_pandas):
    """Check fit, report, explain and path with pandas unavailable.

    pandas cannot be imported, as in the README's default install. The saved
    model keeps the CSV's column names; report, explain and path print them;
    explain takes the very CSV the model was fitted on (its target column is
    dropped by name), and its
    contributions are those of the model on the named columns, in the
    model's order even when the CSV orders them otherwise.
    """
    data = _diabetes_csv(tmp_path / "d.csv")
    names = list(data.feature_names)
    code, out, err = run("fit", "d.csv", "--target", "target", "--out", "m.npz")
    assert code == 0 and err == "", err
    model = load(tmp_path / "m.npz")
    assert list(model.feature_names_in_) == names
    assert "bmi" in out and " x2 " not in out
    code, out, err = run("report", "m.npz")
    assert code == 0 and err == "" and "bmi" in out and " x2 " not in out

    code, out, err = run("explain", "m.npz", "d.csv", "--rows", "0,3")
    assert code == 0 and err == "", err
    contributions = model.coef_ * (data.data[[0, 3]] - model.feature_mean_)
    top = names[int(np.argmax(np.abs(contributions[1])))]
    row_3 = out.split("row 3:")[1]
    assert f"    {top} " in row_3
    # The same rows from a CSV with the columns reversed: the same output.
    header, *lines = (tmp_path / "d.csv").read_text().splitlines()
    flip = [",".join(line.split(",")[::-1]) for line in [header, *lines]]
    (tmp_path / "flipped.csv").write_text("\n".join(flip) + "\n")
    code, again, err = run("explain", "m.npz", "flipped.csv", "--rows", "0,3")
    assert code == 0 and err == "" and again == out

    code, out, err = run("path", "d.csv", "--target", "target", "--n-alphas", "5")
    assert code == 0 and "warning" not in err and "error" not in err, err
    assert "bmi" in out and " x2 " not in out


# -- what is read is bounded --------------------------------------------------------


def test_nul_characters_are_refused(tmp_path, run):
    """Check that a NUL in a cell (or a binary file) is one line, status 2.

    A NUL in the target cell used to make a class of its own: path then
    fitted an 80-class classification.
    """
    X, y = _small_table(80)
    text = _table_csv(X, np.arange(80) + 0.5).replace(",3.5\n", ",3\x005\n")
    _write_csv(tmp_path / "data.csv", text)
    result = run("path", "data.csv", "--target", "y", "--n-alphas", "3")
    _assert_fails_in_one_line(result, "data.csv: line 5 holds a NUL character")
    (tmp_path / "binary.csv").write_bytes(b"a,y\n1,2\n" + bytes(100))
    result = run("fit", "binary.csv", "--target", "y", "--out", "m.npz")
    _assert_fails_in_one_line(result, "line 3 holds a NUL character")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_is_refused_at_once(run):
    """Check that fit /dev/zero (it read until memory ran out) is refused.

    The device never ends and holds no line break: the first line is read
    with a bound and refused for its NUL characters.
    """
    result = run("fit", "/dev/zero", "--target", "y", "--out", "m.npz")
    _assert_fails_in_one_line(result, "/dev/zero: line 1 holds a NUL character")


def test_size_and_line_limits_are_adjustable(tmp_path, run):
    """Check --max-bytes and --max-line against the file's own sizes."""
    X, y = _small_table()
    text = _table_csv(X, y)
    _write_csv(tmp_path / "data.csv", text)
    size = len(text.encode("utf-8"))
    longest = max(len(line) + 1 for line in text.splitlines())
    options = ["--target", "y", "--task", "regression", "--out", "m.npz"]
    result = run("fit", "data.csv", *options, "--max-bytes", size - 1)
    _assert_fails_in_one_line(result, f"has {size:,} bytes, more than --max-bytes")
    result = run("fit", "data.csv", *options, "--max-line", longest - 1)
    _assert_fails_in_one_line(result, f"longer than --max-line {longest - 1:,}")
    result = run("fit", "data.csv", *options, "--max-bytes", "1x")
    _assert_fails_in_one_line(result, "'1x' is not a size")
    code, _, err = run(
        "fit", "data.csv", *options, "--max-bytes", size, "--max-line", longest
    )
    assert code == 0, err
    assert 1024 < size < 2**20
    assert run("fit", "data.csv", *options, "--max-bytes", "1K")[0] == 2
    assert run("fit", "data.csv", *options, "--max-bytes", "1M")[0] == 0


def test_the_model_size_limit_reaches_load(tmp_path, run):
    """Check that --max-model-bytes is load's max_bytes, for report and explain.

    The smallest max_bytes with which load reads the file is found by
    bisection; the command line must read it at that limit and refuse it,
    in one line naming the option, one byte below.
    """
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    code, _, err = run(
        "fit", "data.csv", "--target", "y", "--task", "regression", "--out", "m.npz"
    )
    assert code == 0, err
    low, high = 1, (tmp_path / "m.npz").stat().st_size * 4
    while low < high:
        middle = (low + high) // 2
        try:
            load(tmp_path / "m.npz", max_bytes=middle)
        except ValueError:
            low = middle + 1
        else:
            high = middle
    for argv in [["report", "m.npz"], ["explain", "m.npz", "data.csv"]]:
        result = run(*argv, "--max-model-bytes", low - 1)
        _assert_fails_in_one_line(result, f"more than --max-model-bytes {low - 1:,}")
        assert f"declares {low:,} bytes for its arrays and header" in result[2]
        code, _, err = run(*argv, "--max-model-bytes", low)
        assert code == 0, err


def test_a_huge_n_steps_is_one_line(tmp_path, run):
    """Check that explain --n-steps 1000000000 is refused (it was killed)."""
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    code, _, err = run(
        "fit", "data.csv", "--target", "y", "--model", "mlp", "--hidden", "4",
        "--max-iter", "5", "--out", "m.npz",
    )  # fmt: skip
    assert code == 0, err
    result = run("explain", "m.npz", "data.csv", "--n-steps", 10**9)
    _assert_fails_in_one_line(result, "n_steps=1000000000 asks explain for")


# -- output files are checked before the work ----------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["path", "data.csv", "--target", "y", "--html", "."], "--html . is a folder"),
        (["fit", "data.csv", "--target", "y", "--out", "."], "--out . is a folder"),
        (
            ["fit", "data.csv", "--target", "y", "--out", "m.npz"]
            + ["--report", "nowhere/r.html"],
            "--report nowhere/r.html is in 'nowhere', which is not a folder",
        ),
        (["report", "m.npz", "--html", "."], "--html . is a folder"),
        (["explain", "m.npz", "data.csv", "--html", "."], "--html . is a folder"),
        (["demo", "--out", "data.csv"], "--out data.csv: cannot make that folder"),
    ],
)
def test_outputs_are_checked_before_the_work(tmp_path, run, argv, message):
    """Check that an output that cannot be written fails first, in one line.

    path --html DIR used to fit the whole path, then print two lines.
    """
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    (tmp_path / "m.npz").write_bytes(b"not read")
    result = run(*argv)
    _assert_fails_in_one_line(result, message)
    assert result[1] == ""  # nothing was done
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "m.npz"]


# -- in a real process: status, Ctrl-C, a closed pipe, the terminal's encoding ---------


def _command(*args):
    return [sys.executable, "-m", "sk_weights", *map(str, args)]


def test_a_real_process_exits_with_2_and_one_line(tmp_path):
    """Check the status and the one stderr line of ``python -m sk_weights``."""
    result = subprocess.run(
        _command("fit", "missing.csv", "--target", "y", "--out", "m.npz"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "sk-weights fit: error: no such file: missing.csv\n"


def _fitted_diabetes(tmp_path, run):
    _diabetes_csv(tmp_path / "d.csv")
    code, _, err = run("fit", "d.csv", "--target", "target", "--out", "m.npz")
    assert code == 0, err


def test_a_closed_pipe_ends_quietly(tmp_path, run):
    """Check that explain | head ends with status 141 and nothing on stderr.

    The explanation of every row (some 170 kB) outgrows the pipe's buffer, so
    the command is still writing when the reader closes its end.
    """
    _fitted_diabetes(tmp_path, run)
    process = subprocess.Popen(
        _command("explain", "m.npz", "d.csv"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    first = process.stdout.readline()
    process.stdout.close()  # as head does after its lines
    err = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 141
    assert first.startswith(b"WeightedLinearRegressor: contributions")
    assert err == b""


def test_ctrl_c_ends_in_one_line(tmp_path, run):
    """Check that Ctrl-C during long work prints one line and exits with 130."""
    _fitted_diabetes(tmp_path, run)
    process = subprocess.Popen(
        _command(
            "report", "m.npz", "--stability", "d.csv", "--target", "target",
            "--n-resamples", 100000,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )  # fmt: skip
    said = b""
    while b"resamples" not in said:  # the progress line: the refits run
        chunk = os.read(process.stderr.fileno(), 1024)
        assert chunk, said
        said += chunk
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    lines = (said + err).decode().splitlines()
    assert len(lines) == 1 and lines[0].endswith(" ... interrupted"), lines
    assert lines[0].startswith("sk-weights report: refitting WeightedLinearRegressor")


def test_an_ascii_terminal_gets_escapes(tmp_path):
    """Check that an ASCII stdout shows non-ASCII names as escapes, not an error."""
    text = "température,b,y\n1,2,3\n2,3,5\n3,1,4\n4,4,8\n5,2,7\n"
    (tmp_path / "t.csv").write_text(text, encoding="utf-8")
    result = subprocess.run(
        _command("fit", "t.csv", "--target", "y", "--task", "regression")
        + ["--test-size", "0", "--out", "m.npz"],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode("ascii")
    assert "temp\\xe9rature" in out and "Training R\\xb2: " in out
    assert list(load(tmp_path / "m.npz").feature_names_in_)[0] == "température"


def test_a_real_process_without_pandas(tmp_path):
    """Check fit, explain and path in a process where pandas cannot be imported.

    An import hook refuses pandas, as an installation without it does; the
    names of the CSV's columns reach the saved model and the printed text.
    """
    _diabetes_csv(tmp_path / "d.csv")
    script = (
        "import sys\n"
        "class NoPandas:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas':\n"
        "            raise ImportError('pandas is hidden')\n"
        "sys.meta_path.insert(0, NoPandas())\n"
        "from sk_weights._cli import main\n"
        "codes = [main(['fit', 'd.csv', '--target', 'target', '--out', 'm.npz']),\n"
        "         main(['explain', 'm.npz', 'd.csv', '--rows', '0']),\n"
        "         main(['path', 'd.csv', '--target', 'target', '--n-alphas', '3'])]\n"
        "assert 'pandas' not in sys.modules\n"
        "sys.exit(max(codes))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr and "error" not in result.stderr
    assert result.stdout.count("bmi") >= 3 and " x2 " not in result.stdout
    assert list(load(tmp_path / "m.npz").feature_names_in_)[2] == "bmi"
