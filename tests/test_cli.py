"""End-to-end tests of the command line, each in a temporary folder."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris

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
