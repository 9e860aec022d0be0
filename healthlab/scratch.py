"""Scratch folders for the files a notebook or a script makes along the way, removed at exit.

A case study that writes hospital databases or Parquet partitions should not leave them in the
student's working folder, nor guess a path of its own. :func:`folder` makes a fresh folder under
the system's temporary directory (or ``$HEALTHLAB_SCRATCH`` when set) and removes it, with
everything in it, when the Python process ends: the kernel of a notebook, or a script.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from pathlib import Path

from healthlab.errors import InvalidParameterError

__all__ = ["SCRATCH_ENV", "folder"]

#: Environment variable naming the folder scratch folders are made in.
SCRATCH_ENV = "HEALTHLAB_SCRATCH"

_MADE: list[Path] = []


def _remove_all() -> None:
    for path in _MADE:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_all)


def folder(label: str = "work") -> Path:
    """A new, empty folder that is removed with its contents when the process exits.

    Parameters
    ----------
    label : str, default "work"
        A word in the folder's name (letters, digits, ``-`` and ``_``), to tell folders apart.

    Returns
    -------
    pathlib.Path
        ``<temporary directory>/healthlab-<label>-<random>``.

    Examples
    --------
    >>> from healthlab import scratch
    >>> path = scratch.folder("systems")
    >>> path.is_dir(), path.name.startswith("healthlab-systems-"), list(path.iterdir())
    (True, True, [])
    """
    if not isinstance(label, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", label):
        raise InvalidParameterError(
            f"label must be 1-40 letters, digits, '-' or '_', got {label!r}; e.g. 'systems'"
        )
    base = os.environ.get(SCRATCH_ENV) or tempfile.gettempdir()
    Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"healthlab-{label}-", dir=base))
    _MADE.append(path)
    return path
