"""Print pip constraints pinning every dependency to the minimum pyproject declares.

The runtime dependencies and the optional feature extras (not the tool extras such
as ``test`` or ``docs``) are read from ``pyproject.toml`` and each ``name>=X`` bound
becomes ``name==X`` (plus the few caps on test tools in ``TOOL_CAPS``), so the
minimum-versions CI stage tests exactly what the project declares and cannot
drift from it. A runtime dependency without a lower
bound is an error: its minimum would be untested.

Usage: ``python .ci/min_constraints.py [pyproject.toml] > constraints.txt``
"""

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own dependency provides tomli.
    import tomli as tomllib

# Extras that hold tools (tests, docs, packaging), not features of the package.
TOOL_EXTRAS = {"test", "docs", "release", "all"}

# Test tools that must stay older than the newest next to the minimum versions,
# each with the reason. scikit-learn < 1.9 reads a polars frame's column names
# through the data-frame interchange protocol, which polars 2 removed.
TOOL_CAPS = ["polars<2"]

LOWER_BOUND = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*"
    r">=\s*(?P<version>[0-9][A-Za-z0-9.]*)\s*(,.*)?$"
)


def minimum_pins(pyproject):
    """Return ``name==version`` lines, one per dependency with a ``>=`` bound."""
    project = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]
    requirements = [(req, True) for req in project["dependencies"]]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        if extra not in TOOL_EXTRAS:
            requirements += [(req, False) for req in reqs]
    pins = {}
    for req, required in requirements:
        if req.replace("-", "_").startswith(project["name"].replace("-", "_")):
            continue  # the package's own extras, e.g. "sk_weights[plot]"
        match = LOWER_BOUND.match(req.split(";")[0])
        if match is None:
            if required:
                sys.exit(f"runtime dependency {req!r} declares no minimum (>=)")
            continue
        pins[match["name"].lower()] = match["version"]
    return [f"{name}=={version}" for name, version in sorted(pins.items())] + TOOL_CAPS


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml"
    print("\n".join(minimum_pins(path)))
