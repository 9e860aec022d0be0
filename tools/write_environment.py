"""Write environment.yml from requirements.lock, so conda users get the same pins.

Run by `make lock`; tests/test_environment.py proves the three files agree.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)")

HEADER = """\
# For conda users: `conda env create -f environment.yml && conda activate healthlab`.
# Generated from requirements.lock by `make lock` (tools/write_environment.py): do not edit.
# The same exact pins as the lock; pip installs them inside the conda environment.
name: healthlab
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
"""


def read_lock(path: Path) -> dict[str, str]:
    """Package name (normalised) to pinned version, from a pip-compile lock file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalise(match.group(1))] = match.group(3)
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    pins = read_lock(ROOT / "requirements.lock")
    lines = [f"      - {name}=={version}" for name, version in sorted(pins.items())]
    lines.append("      - -e .")
    text = HEADER + "\n".join(lines) + "\n"
    fd, tmp = tempfile.mkstemp(dir=ROOT, prefix=".environment-", suffix=".yml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, ROOT / "environment.yml")
    print(f"environment.yml: {len(pins)} pins")
    return 0


if __name__ == "__main__":
    sys.exit(main())
