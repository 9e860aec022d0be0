"""The gradebook: one SQLite file, written one student at a time, each in one transaction.

A student's row and their scores are written together or not at all, so an interrupted run
loses nothing already graded and never leaves a student half-written; re-running ``grade``
skips a student whose submission and source have not changed since they were graded.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthlab.errors import GradingError

__all__ = ["Gradebook"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS students (
    student_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,          -- graded, missing, unreadable, error
    reason TEXT,
    submission_sha256 TEXT,
    source_sha256 TEXT,
    parameters TEXT,               -- JSON
    total REAL NOT NULL DEFAULT 0,
    max_total REAL NOT NULL DEFAULT 0,
    manual_max REAL NOT NULL DEFAULT 0,
    isolation TEXT,
    seconds REAL,
    timings TEXT,                  -- JSON: seconds to build data, in the sandbox, on the reference
    problems TEXT,                 -- JSON list of what went wrong in the run
    flagged TEXT,
    run_id TEXT,
    graded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    student_id TEXT NOT NULL REFERENCES students(student_id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    answer TEXT,                   -- JSON, as recorded
    reference TEXT,                -- JSON, the reference for this student's parameters
    PRIMARY KEY (student_id, question)
);
CREATE TABLE IF NOT EXISTS unmatched (file TEXT PRIMARY KEY, reason TEXT, run_id TEXT);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT, finished TEXT, isolation TEXT, jobs INTEGER,
    graded INTEGER, skipped INTEGER
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Gradebook:
    """The SQLite gradebook at ``path`` (created when missing; checked when opened).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> book = Gradebook(pathlib.Path(tempfile.mkdtemp()) / "gradebook.sqlite")
    >>> book.record({"student_id": "s001", "status": "missing", "reason": "no submission"}, [])
    >>> book.student("s001")["status"]
    'missing'
    >>> book.check()
    'ok'
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.con.row_factory = sqlite3.Row
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=FULL")
            self.con.execute("PRAGMA foreign_keys=ON")
            self.con.executescript(_SCHEMA)
            columns = {r[1] for r in self.con.execute("PRAGMA table_info(students)")}
            if "timings" not in columns:  # a gradebook from before timings were kept
                self.con.execute("ALTER TABLE students ADD COLUMN timings TEXT")
        except sqlite3.DatabaseError as err:
            raise GradingError(
                f"the gradebook {self.path} cannot be opened ({err}); move it aside and run "
                "`healthlab grade` again to rebuild it"
            ) from None
        self.check()

    def check(self) -> str:
        """Run SQLite's integrity check; raise if the file is damaged."""
        result = self.con.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise GradingError(f"the gradebook {self.path} is damaged: {result}")
        return result

    def close(self) -> None:
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.con.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_meta(self, **values: Any) -> None:
        with self._transaction():
            for key, value in values.items():
                self.con.execute(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value))
                )

    def meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.con.execute("SELECT * FROM meta")}

    def _transaction(self):
        return _Transaction(self.con)

    def record(self, student: dict[str, Any], scores: list[dict[str, Any]]) -> None:
        """Write one student's row and scores, replacing what was there, in one transaction."""
        row = {
            "reason": None,
            "submission_sha256": None,
            "source_sha256": None,
            "parameters": None,
            "total": 0.0,
            "max_total": 0.0,
            "manual_max": 0.0,
            "isolation": None,
            "seconds": None,
            "timings": {},
            "problems": [],
            "flagged": None,
            "run_id": None,
            **student,
            "graded_at": _now(),
        }
        row["parameters"] = json.dumps(row["parameters"])
        row["problems"] = json.dumps(row["problems"])
        row["timings"] = json.dumps(row["timings"])
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._transaction():
            self.con.execute("DELETE FROM scores WHERE student_id = ?", (row["student_id"],))
            self.con.execute(f"INSERT OR REPLACE INTO students ({names}) VALUES ({marks})", row)
            for s in scores:
                self.con.execute(
                    "INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row["student_id"],
                        s["question"],
                        s["points"],
                        s["max_points"],
                        s["status"],
                        s["message"],
                        json.dumps(s.get("answer")),
                        json.dumps(s.get("reference")),
                    ),
                )

    def flag(self, flags: dict[str, str | None]) -> None:
        """Set (or clear, with None) each student's flag, in one transaction."""
        with self._transaction():
            for sid, reason in flags.items():
                self.con.execute(
                    "UPDATE students SET flagged = ? WHERE student_id = ?", (reason, sid)
                )

    def unmatched(self, files: dict[str, str], run_id: str) -> None:
        with self._transaction():
            self.con.execute("DELETE FROM unmatched")
            for name, reason in files.items():
                self.con.execute("INSERT INTO unmatched VALUES (?, ?, ?)", (name, reason, run_id))

    def start_run(self, run_id: str, isolation: str, jobs: int) -> None:
        with self._transaction():
            self.con.execute(
                "INSERT INTO runs VALUES (?, ?, NULL, ?, ?, 0, 0)",
                (run_id, _now(), isolation, jobs),
            )

    def finish_run(self, run_id: str, graded: int, skipped: int) -> None:
        with self._transaction():
            self.con.execute(
                "UPDATE runs SET finished = ?, graded = ?, skipped = ? WHERE run_id = ?",
                (_now(), graded, skipped, run_id),
            )

    def student(self, student_id: str) -> dict[str, Any] | None:
        row = self.con.execute(
            "SELECT * FROM students WHERE student_id = ?", (student_id,)
        ).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["parameters"] = json.loads(out["parameters"] or "null")
        out["problems"] = json.loads(out["problems"] or "[]")
        out["timings"] = json.loads(out["timings"] or "{}")
        return out

    def students(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.con.execute("SELECT student_id FROM students ORDER BY 1")]
        return [self.student(i) for i in ids]

    def scores(self, student_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM scores"
        args: tuple = ()
        if student_id is not None:
            sql, args = sql + " WHERE student_id = ?", (student_id,)
        out = []
        for row in self.con.execute(sql + " ORDER BY student_id, question", args):
            item = dict(row)
            item["answer"] = json.loads(item["answer"]) if item["answer"] else None
            item["reference"] = json.loads(item["reference"]) if item["reference"] else None
            out.append(item)
        return out

    def unmatched_files(self) -> dict[str, str]:
        return {r["file"]: r["reason"] for r in self.con.execute("SELECT * FROM unmatched")}

    def is_done(self, student_id: str, submission_sha256: str | None, source_sha256: str) -> bool:
        """Whether this student was graded on this very submission and source."""
        row = self.student(student_id)
        return bool(
            row
            and row["status"] in ("graded", "unreadable")
            and row["submission_sha256"] == submission_sha256
            and row["source_sha256"] == source_sha256
        )


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any error)."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *exc):
        self.con.execute("COMMIT" if kind is None else "ROLLBACK")
