"""End-to-end tests of the command line, each in a temporary folder."""

import io
import subprocess
import sys
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array

from sk_weights import load
from sk_weights._cli import main


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A temporary current folder holding a regression and a classification CSV."""
    monkeypatch.chdir(tmp_path)
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X.assign(target=y).to_csv(tmp_path / "diabetes.csv", index=False)
    X, y = load_iris(return_X_y=True, as_frame=True)
    species = np.array(["setosa", "versicolor", "virginica"])[y]
    X.assign(species=species).to_csv(tmp_path / "iris.csv", index=False)
    return tmp_path


def test_demo_prints_both_reports_and_writes_html(workdir, capsys):
    """Check that demo trains both models, prints their reports and writes the HTML."""
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


@pytest.mark.parametrize("sub", [[], ["demo"], ["fit"], ["report"]])
def test_help_on_every_subcommand(sub):
    """Check that python -m sk_weights [SUBCOMMAND] --help works."""
    result = subprocess.run(
        [sys.executable, "-m", "sk_weights", *sub, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage: sk-weights" in result.stdout


def test_demo_needs_no_pandas(workdir):
    """Check that the demo runs with pandas unavailable (core dependencies only)."""
    code = (
        "import sys\n"
        "class NoPandas:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'pandas':\n"
        "            raise ImportError('pandas is hidden')\n"
        "sys.meta_path.insert(0, NoPandas())\n"
        "from sk_weights._cli import main\n"
        "code = main(['demo'])\n"
        "assert 'pandas' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    assert "bmi" in result.stdout and "pixel_" in result.stdout


# -- end to end through `python -m sk_weights`: one line, status 2 -----------


def _run(*args, cwd, **kwargs):
    """Run ``python -m sk_weights ARGS`` in ``cwd``; return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "sk_weights", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        **kwargs,
    )


def _assert_fails_in_one_line(result, message):
    """Exit status 2, exactly one line on stderr holding ``message``, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert message in lines[0], lines[0]


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
def test_bad_csv_and_options_fail_in_one_line(name, tmp_path):
    """Check that each bad CSV or option gives exit 2 and one clear line."""
    text, options, message = CSV_FAILURES[name]
    _write_csv(tmp_path / "data.csv", text)
    start = time.perf_counter()
    result = _run("fit", "data.csv", *options, "--out", "m.npz", cwd=tmp_path)
    _assert_fails_in_one_line(result, message)
    assert time.perf_counter() - start < 60
    assert not (tmp_path / "m.npz").exists()


def test_csv_with_a_byte_order_mark(tmp_path):
    """Check that a UTF-8 BOM is not part of the first column's name."""
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y), bom=True)
    result = _run("fit", "data.csv", "--target", "a", "--out", "m.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    model = load(tmp_path / "m.npz")
    assert list(model.feature_names_in_) == ["b", "y"]


def test_numeric_labels_stay_numeric(tmp_path):
    """Check that a model fitted on numeric CSV labels scores numeric y."""
    X, y = _small_table(60)
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = _run(
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
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    model = load(tmp_path / "m.npz")
    assert model.classes_.dtype.kind == "i"
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    frame = pd.DataFrame(X, columns=["a", "b"])
    assert model.score(frame, y) > 0.5  # numeric y: no "Mix of label input types"


def _printed_score(out, which):
    line = next(line for line in out.splitlines() if line.startswith(which))
    return float(line.split(":")[1].split()[0])


@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_fit_prints_training_and_held_out_scores(model, tmp_path):
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
    result = _run(
        "fit", "data.csv", "--target", "y", *options, "--out", "m.npz", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    fitted = load(tmp_path / "m.npz")
    frame = pd.DataFrame(X, columns=["a", "b"])
    target = y if model == "mlp" else y.astype(float)
    X_train, X_test, y_train, y_test = train_test_split(
        frame,
        target,
        test_size=15,
        random_state=7,
        stratify=target if model == "mlp" else None,
    )
    metric = "accuracy" if model == "mlp" else "R²"
    assert len(y_test) == 15  # ceil(0.3 * 50)
    assert _printed_score(result.stdout, f"Training {metric}") == pytest.approx(
        fitted.score(X_train, y_train), abs=1e-4
    )
    assert _printed_score(result.stdout, f"Held-out {metric}") == pytest.approx(
        fitted.score(X_test, y_test), abs=1e-4
    )
    assert f"({len(y_test)} rows, --test-size 0.3)" in result.stdout


def test_standardize_saves_a_pipeline(tmp_path):
    """Check that --standardize saves Pipeline(StandardScaler, model), which reports."""
    X, y = _small_table(50)
    X = X * [1000.0, 0.001] + [5e4, 0]
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    result = _run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--standardize",
        "--out",
        "m.npz",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    pipeline = load(tmp_path / "m.npz")
    assert isinstance(pipeline, Pipeline)
    scaler = pipeline[0]
    assert isinstance(scaler, StandardScaler)
    train = np.isin(X[:, 0], X[:, 0])  # every row is a row of the CSV
    assert scaler.n_samples_seen_ == 40 and train.all()  # 50 rows minus 10 held out
    assert np.abs(scaler.mean_[0] - 5e4) < 1e4
    reported = _run("report", "m.npz", cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    assert "WeightedLinearRegressor" in reported.stdout and "b" in reported.stdout


def test_long_work_says_what_it_is_doing(tmp_path):
    """Check that a wide table gets a 'fitting ... rows x columns' line on stderr."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 1000))
    header = ",".join([f"f{i}" for i in range(1000)] + ["y"])
    rows = [",".join(str(float(v)) for v in [*x, x[0]]) for x in X]
    _write_csv(tmp_path / "data.csv", "\n".join([header, *rows]) + "\n")
    result = _run(
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
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "sk-weights fit: fitting WeightedLinearRegressor on 5 rows x 1000 columns"
        " ... done (" in result.stderr
    )
    # A narrow table is quick: nothing is said.
    X, y = _small_table()
    _write_csv(tmp_path / "small.csv", _table_csv(X, y))
    result = _run(
        "fit",
        "small.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--out",
        "s.npz",
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "fitting" not in result.stderr


def test_running_out_of_memory_is_one_line(tmp_path):
    """Check that a MemoryError inside the fit is one line, in a real process.

    The solver is made to ask NumPy for a terabyte-sized array (NumPy's own
    MemoryError, as a fit too large for the machine raises it); the command
    line runs as ``python -m sk_weights`` does, and the progress line is closed
    by the error, so stderr still holds one line.
    """
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    script = (
        "import sys, numpy as np, sk_weights._linear as linear\n"
        "def solve(*args, **kwargs):\n"
        "    return np.empty((2**20, 2**20))\n"
        "linear.solve_full_batch = solve\n"
        "from sk_weights._cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "fit", "data.csv", "--target", "y"]
        + ["--task", "regression"]
        + ["--out", "m.npz"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    _assert_fails_in_one_line(result, "out of memory")
    assert not (tmp_path / "m.npz").exists()


def test_multi_line_errors_are_collapsed(tmp_path):
    """Check that scikit-learn's multi-line messages end as one line.

    The CSV reader refuses missing values before scikit-learn sees them, so
    the fit is made to meet scikit-learn's own (multi-line) NaN error here.
    """
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    code = (
        "import runpy, sys\n"
        "import numpy as np\n"
        "from sklearn.utils import check_array\n"
        "import sk_weights\n"
        "def fit(self, X, y):\n"
        "    check_array(np.array([[np.nan]]), estimator=self, input_name='X')\n"
        "sk_weights.WeightedLinearRegressor.fit = fit\n"
        "sys.argv = ['sk_weights', 'fit', 'data.csv', '--target', 'y',\n"
        "            '--task', 'regression', '--out', 'm']\n"
        "runpy.run_module('sk_weights', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    _assert_fails_in_one_line(result, "Input X contains NaN. WeightedLinearRegressor")
    # The control: scikit-learn's message does span lines.
    with pytest.raises(ValueError, match="Input X contains NaN.\n"):
        check_array(np.array([[np.nan]]), input_name="X", estimator=StandardScaler())


def test_report_on_hostile_files_is_one_line(tmp_path):
    """Check report on a non-model, a truncated model and a boolean batch_size."""
    X, y = _small_table()
    _write_csv(tmp_path / "data.csv", _table_csv(X, y))
    assert (
        _run(
            "fit",
            "data.csv",
            "--target",
            "y",
            "--task",
            "regression",
            "--out",
            "m.npz",
            cwd=tmp_path,
        ).returncode
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
        _assert_fails_in_one_line(_run("report", name, cwd=tmp_path), message)


def test_report_escapes_control_characters_in_names(tmp_path):
    """Check that feature names with escape sequences print as inert text.

    A terminal escape (``ESC[31m``) or a line break inside a CSV column name
    must neither colour the terminal nor forge a line of the report.
    """
    X, y = _small_table()
    names = ("a\x1b[31mRED", "b\nFAKE LINE", "y")
    frame = pd.DataFrame({names[0]: X[:, 0], names[1]: X[:, 1], "y": y})
    frame.to_csv(tmp_path / "data.csv", index=False)
    fitted = _run(
        "fit",
        "data.csv",
        "--target",
        "y",
        "--task",
        "regression",
        "--out",
        "m.npz",
        cwd=tmp_path,
    )
    assert fitted.returncode == 0, fitted.stderr
    assert list(load(tmp_path / "m.npz").feature_names_in_) == list(names[:2])
    for result in (fitted, _run("report", "m.npz", cwd=tmp_path)):
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stdout
        assert r"a\x1b[31mRED" in result.stdout
        assert r"b\nFAKE LINE" in result.stdout
        assert not any(
            line.startswith("FAKE LINE") for line in result.stdout.splitlines()
        )


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
def test_model_and_target_pick_the_estimator(target, options, expected, tmp_path):
    """Check the documented rule: --model and the target (or --task) pick the class."""
    X, y = _small_table(50)
    _write_csv(tmp_path / "data.csv", _table_csv(X, target(y)))
    result = _run(
        "fit", "data.csv", "--target", "y", *options, "--out", "m.npz", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert type(load(tmp_path / "m.npz")).__name__ == expected
