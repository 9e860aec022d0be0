"""Scratch folders: fresh, under $HEALTHLAB_SCRATCH, removed when the process exits."""

import subprocess
import sys

import pytest

from healthlab import scratch
from healthlab.errors import InvalidParameterError


def test_folder_is_new_and_under_the_scratch_env(tmp_path, monkeypatch):
    monkeypatch.setenv(scratch.SCRATCH_ENV, str(tmp_path / "base"))
    a, b = scratch.folder("systems"), scratch.folder("systems")
    assert a != b and a.parent == b.parent == tmp_path / "base"
    assert a.name.startswith("healthlab-systems-") and not any(a.iterdir())


def test_folders_are_removed_at_exit(tmp_path):
    code = (
        "from healthlab import scratch; p = scratch.folder('x'); "
        "(p / 'db.sqlite').write_text('data'); print(p)"
    )
    env = {"HEALTHLAB_SCRATCH": str(tmp_path), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    made = out.stdout.strip()
    assert made.startswith(str(tmp_path)) and not list(tmp_path.iterdir())


@pytest.mark.parametrize("label", ["", "a/b", "../up", 3])
def test_bad_label_is_refused(label):
    with pytest.raises(InvalidParameterError, match="label"):
        scratch.folder(label)
