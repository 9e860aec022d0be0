"""Per-student notebooks: the roster, the course secret, each student's seed and parameters.

Each student's seed is an HMAC of the assignment and the student id under the course secret,
so it is the same every time it is computed (at ``assign`` and again at ``grade``), differs
between students and assignments, and cannot be guessed without the secret. Grading never
reads a seed from a submission: it recomputes it here.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from healthlab import exercises
from healthlab.errors import GradingError, RosterError

__all__ = [
    "Student",
    "assign",
    "derive_seed",
    "inject_parameters",
    "read_roster",
    "read_secret",
    "student_parameters",
]

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Student:
    """A roster row: the id and any other columns (parameters the notebook takes, names...)."""

    student_id: str
    columns: dict[str, str]


def derive_seed(secret: bytes, assignment: str, student_id: str) -> int:
    """The seed of ``student_id`` for ``assignment``: HMAC-SHA256 under the course secret.

    Examples
    --------
    >>> derive_seed(b"course secret", "01-population-aging", "s001")
    1253086224
    >>> derive_seed(b"course secret", "01-population-aging", "s002") != _
    True
    """
    message = f"healthlab-seed\0{assignment}\0{student_id}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def read_secret(path: str | os.PathLike) -> bytes:
    """The course secret: the file's bytes, stripped of surrounding white space."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as err:
        raise GradingError(f"cannot read the secret file {path}: {err.strerror}") from None
    if len(secret) < 8:
        raise GradingError(
            f"the secret file {path} holds {len(secret)} bytes; give at least 8 random bytes, "
            "e.g. `python -c 'import secrets; print(secrets.token_hex(32))' > SECRET`"
        )
    return secret


def read_roster(path: str | os.PathLike) -> list[Student]:
    """Read a roster CSV with a ``student_id`` column (any others are kept).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "roster.csv"
    >>> _ = p.write_text("student_id,name\\ns001,Li Wei\\ns002,Wang Fang\\n")
    >>> [s.student_id for s in read_roster(p)]
    ['s001', 's002']
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise RosterError(f"cannot read the roster {path}: {err}") from None
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in reader.fieldnames or []]
    if "student_id" not in fields:
        raise RosterError(
            f"the roster {path} has no student_id column (its columns: {fields}); "
            "the first line must name the columns, one of them student_id"
        )
    students, seen = [], set()
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        sid = row.pop("student_id")
        if not sid:
            continue
        if not STUDENT_ID.match(sid):
            raise RosterError(
                f"{path}, line {line}: student_id {sid!r} must be letters, digits, '.', '_' or "
                "'-' (at most 64), so that it can name the student's notebook file"
            )
        if sid in seen:
            raise RosterError(f"{path}, line {line}: student_id {sid!r} appears twice")
        seen.add(sid)
        students.append(Student(sid, row))
    if not students:
        raise RosterError(f"the roster {path} lists no student")
    return students


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def student_parameters(
    source: nbformat.NotebookNode,
    student: Student,
    secret: bytes,
    *,
    assignment: str,
    parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The parameters a student's notebook runs with.

    The instructor's ``parameters`` (e.g. ``size``) first, then roster columns named like a
    parameter of the notebook, then the seed derived from the secret (always).
    """
    declared = exercises.parameters(source)
    values = dict(parameters or {})
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise GradingError(
            f"the notebook has no parameters {unknown}; its parameters cell sets {sorted(declared)}"
        )
    for name, text in student.columns.items():
        if name in declared and name != "seed" and text != "":
            values[name] = _value(text)
    values["seed"] = derive_seed(secret, assignment, student.student_id)
    return values


def inject_parameters(nb: nbformat.NotebookNode, values: dict[str, Any]) -> nbformat.NotebookNode:
    """Write ``values`` into the ``parameters`` cell in place of its defaults (comments kept).

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'seed = 0  # the seed\\nsize = "small"  # how big', metadata={"tags": ["parameters"]})])
    >>> print(inject_parameters(nb, {"seed": 42}).cells[0].source)
    seed = 42  # the seed
    size = "small"  # how big
    """
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = cell.source.split("\n")
    done = set()
    for node in reversed(ast.parse(cell.source).body):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in values
            and node.lineno == node.end_lineno
        ):
            name = node.targets[0].id
            line = lines[node.lineno - 1]
            start, end = node.value.col_offset, node.value.end_col_offset
            lines[node.lineno - 1] = line[:start] + repr(values[name]) + line[end:]
            done.add(name)
    lines += [f"{name} = {values[name]!r}" for name in values if name not in done]
    cell.source = "\n".join(lines)
    return nb


def _student_notebook(source, student_nb, values):
    nb = inject_parameters(nbformat.from_dict(json.loads(json.dumps(student_nb))), values)
    nb.cells = [c for c in nb.cells if "checks" not in c.get("metadata", {}).get("tags", [])]
    return nb


def assign(
    source: str | os.PathLike,
    *,
    roster: str | os.PathLike,
    secret_file: str | os.PathLike,
    out: str | os.PathLike,
    parameters: dict[str, Any] | None = None,
    assignment: str | None = None,
    validate: bool = False,
) -> Path:
    """Write one student notebook per roster row, and a manifest, into ``out``.

    Each notebook is the source's student version (solutions blanked, rules and ``checks``
    cells removed) with that student's parameters written into its ``parameters`` cell.

    Parameters
    ----------
    source : path
        The instructor's source notebook.
    roster, secret_file : path
        The roster CSV (``student_id`` column) and the course secret.
    out : path
        The release folder: ``<student_id>.ipynb`` for each student and ``manifest.json``.
    parameters : dict, optional
        Parameters every student gets (e.g. ``{"size": "tiny"}``).
    assignment : str, optional
        The assignment's name in the seed (default: the source's file name).
    validate : bool
        First run the source for the first student's parameters and fail if any solution
        does not pass its own self-check and rule.

    Returns
    -------
    Path
        The manifest.

    Examples
    --------
    An instructor's source notebook (one question, its solution and rule), a roster and a secret
    (:func:`example_course`):

    >>> import json, pathlib, tempfile, nbformat
    >>> from healthlab import grading
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> course = grading.example_course(folder)  # a one-question source, roster, secret
    >>> manifest = grading.assign(course.source, roster=course.roster,
    ...                           secret_file=course.secret_file, out=folder / "release")
    >>> students = json.loads(manifest.read_text())["students"]
    >>> [s["file"] for s in students]
    ['s001.ipynb', 's002.ipynb']
    >>> [s["parameters"]["seed"] == grading.derive_seed(course.secret, "mean-age", s["student_id"])
    ...  for s in students]
    [True, True]
    >>> mine = nbformat.read(folder / "release" / "s001.ipynb", as_version=4)
    >>> print(mine.cells[3].source)  # the solution is blanked
    import random
    rng = random.Random(seed)
    ages = [rng.randint(20, 80) for _ in range(50)]
    mean_age = ...  # YOUR CODE HERE
    exercises.answer("q1", mean_age)
    >>> tmp.cleanup()
    """
    source = Path(source)
    assignment = assignment or source.stem
    decl = exercises.check_source(source)
    src = nbformat.read(source, as_version=4)
    students = read_roster(roster)
    secret = read_secret(secret_file)
    per_student = {
        s.student_id: student_parameters(
            src, s, secret, assignment=assignment, parameters=parameters
        )
        for s in students
    }
    if validate:
        from healthlab.grading.validate import validate_source

        validate_source(source, per_student[students[0].student_id], declaration=decl)
    blank = exercises.student_version(src)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for student in students:
        values = per_student[student.student_id]
        nb = _student_notebook(src, blank, values)
        target = out / f"{student.student_id}.ipynb"
        _write_atomic(target, nbformat.writes(nb))
        entries.append(
            {"student_id": student.student_id, "file": target.name, "parameters": values}
        )
    manifest = {
        "assignment": assignment,
        "source": source.name,
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "questions": {q: {"kind": v.kind, "points": v.points} for q, v in decl.questions.items()},
        "students": entries,
    }
    target = out / MANIFEST
    _write_atomic(target, json.dumps(manifest, indent=1))
    return target


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
