"""Check that the built sdist and wheel hold what they need, and nothing else.

Usage: ``python .ci/check_dist.py DIST_DIR`` from the root of the source tree,
where ``DIST_DIR`` holds exactly one ``.tar.gz`` and one ``.whl``.

- The wheel holds every module of the package (as in the source tree), the
  console script and the version of ``sk_weights.__version__``; no tests, no
  documentation, no build output.
- The sdist holds the package, the license, the tests, the documentation's
  sources and the examples the documentation and tests read; no local
  environment, caches or build output.
- The changelog has a section for the version being released.
"""

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# Nothing under these names belongs in a distribution.
JUNK = re.compile(
    r"(^|/)(\.venv|\.git|__pycache__|\.pytest_cache|\.ruff_cache|\.hypothesis"
    r"|build|dist|_build|auto_examples|sk_weights_demo)(/|$)|\.py[cod]$"
)


def source_version():
    """The version in ``sk_weights/__init__.py``, the one place it is written."""
    text = Path("sk_weights/__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)[1]


def tracked(pattern):
    """Files under version control matching ``pattern`` (a glob)."""
    listed = subprocess.run(
        ["git", "ls-files", "--", pattern], capture_output=True, text=True, check=True
    ).stdout
    return set(listed.split())


def check(condition, message, problems):
    """Record ``message`` unless ``condition`` holds."""
    if not condition:
        problems.append(message)


def main(dist_dir):
    """Return the list of problems found in the distributions of ``dist_dir``."""
    problems = []
    version = source_version()
    (sdist,) = Path(dist_dir).glob("*.tar.gz")
    (wheel,) = Path(dist_dir).glob("*.whl")
    modules = tracked("sk_weights/*.py")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"sk_weights-{version}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    check(
        wheel.name == f"sk_weights-{version}-py3-none-any.whl",
        f"wheel {wheel.name} is not version {version}, pure Python",
        problems,
    )
    check(f"\nVersion: {version}\n" in metadata, "wheel METADATA version", problems)
    check(modules <= names, f"wheel lacks {sorted(modules - names)}", problems)
    check(
        "sk-weights = sk_weights._cli:main" in entry_points,
        "wheel lacks the sk-weights console script",
        problems,
    )
    check(
        any(n.startswith(f"{info}/licenses/LICENSE") for n in names),
        "wheel lacks the license file",
        problems,
    )
    stray = sorted(n for n in names if not n.startswith(("sk_weights/", info)))
    check(not stray, f"wheel holds files outside the package: {stray}", problems)
    junk = sorted(n for n in names if JUNK.search(n))
    check(not junk, f"wheel holds build junk: {junk}", problems)

    with tarfile.open(sdist) as archive:
        root = f"sk_weights-{version}/"
        names = {
            member.name.removeprefix(root)
            for member in archive.getmembers()
            if member.isfile()
        }
    check(
        sdist.name == f"sk_weights-{version}.tar.gz",
        f"sdist {sdist.name} is not version {version}",
        problems,
    )
    needed = (
        modules
        | tracked("tests/*.py")
        | tracked("doc/*")
        | tracked("examples/*")
        | {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"}
    )
    check(needed <= names, f"sdist lacks {sorted(needed - names)}", problems)
    junk = sorted(n for n in names if JUNK.search(n))
    check(not junk, f"sdist holds build junk or environments: {junk}", problems)

    changelog = Path("doc/changelog.rst").read_text(encoding="utf-8")
    check(
        re.search(rf"^{re.escape(version)}\n=+$", changelog, re.MULTILINE),
        f"doc/changelog.rst has no section for {version}",
        problems,
    )
    return problems


if __name__ == "__main__":
    found = main(sys.argv[1])
    for problem in found:
        print(f"check_dist: {problem}", file=sys.stderr)
    if found:
        sys.exit(1)
    print("check_dist: the sdist and the wheel hold what they need, and no junk")
