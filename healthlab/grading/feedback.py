"""What a grading run hands out: ``grades.csv``, a feedback page per student, a summary page.

``grades.csv`` has one row per roster student (``student_id``, a column per question, ``total``,
then ``max_total``, ``status`` and ``reason``), numbers only in the score columns: the plain grade
sheet learning management systems (Moodle, Canvas, Blackboard) import, mapping ``student_id``
to their own id column. Written answers
(graded by hand) are left blank for the instructor. The feedback page shows each question's
score and message and what went wrong in the run; it never shows a reference answer. The
summary page shows the score distribution, each question's difficulty, the sandbox's isolation
level, and the students to look at: flagged, missing, unreadable, not graded.
"""

from __future__ import annotations

import csv
import html
import io
import os
from pathlib import Path
from statistics import mean, median

__all__ = ["write_outputs"]

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;
text-align:left}th{background:#f4f4f4}.correct{color:#1a7f37}.wrong,.missing{color:#b42318}
.partial{color:#9a6700}.manual,.ungraded{color:#555}.note{color:#555;font-size:90%}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _number(value: float) -> str:
    return f"{value:g}"


def grades_csv(book, decl) -> str:
    """The grade sheet, one row per student in the gradebook."""
    questions = list(decl.questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", *questions, "total", "max_total", "status", "reason"])
    for student in book.students():
        scores = {s["question"]: s for s in book.scores(student["student_id"])}
        cells = []
        for q in questions:
            s = scores.get(q)
            cells.append("" if s is None or s["status"] == "manual" else _number(s["points"]))
        reason = student["reason"] or ""
        if student["flagged"]:
            reason = f"flagged: {student['flagged']}" + (f"; {reason}" if reason else "")
        writer.writerow(
            [
                student["student_id"],
                *cells,
                _number(student["total"]),
                _number(student["max_total"]),
                student["status"],
                reason,
            ]
        )
    return buffer.getvalue()


def student_page(student: dict, scores: list[dict], decl) -> str:
    """One student's feedback: scores and messages, never a reference answer."""
    e = html.escape
    sid = student["student_id"]
    rows = "".join(
        f"<tr><td>{e(s['question'])}</td><td class='{e(s['status'])}'>{e(s['status'])}</td>"
        f"<td>{'' if s['status'] == 'manual' else _number(s['points'])}</td>"
        f"<td>{_number(s['max_points'])}</td><td>{e(s['message'])}</td></tr>"
        for s in scores
    )
    problems = "".join(  # what the reference run met is for the instructor only
        f"<li>{e(p)}</li>" for p in student["problems"] if not p.startswith("reference:")
    )
    manual = (
        f" Written answers ({_number(student['manual_max'])} points) are graded by hand."
        if student["manual_max"]
        else ""
    )
    status = {
        "missing": "No submission was found.",
        "unreadable": f"Your file could not be read: {student['reason']}.",
        "error": "Grading failed for a reason of ours; it will be graded again.",
    }
    body = (
        f"<h1>{e(decl.notebook)}: feedback for {e(sid)}</h1>"
        f"<p><strong>{_number(student['total'])} of {_number(student['max_total'])}</strong> "
        f"points graded automatically.{e(manual)}</p>"
        + (f"<p>{e(status[student['status']])}</p>" if student["status"] in status else "")
        + "<table><tr><th>question</th><th>result</th><th>points</th><th>of</th>"
        f"<th>message</th></tr>{rows}</table>"
        + (f"<h2>What happened when your notebook ran</h2><ul>{problems}</ul>" if problems else "")
        + "<p class='note'>Your notebook was run again with your own parameters; answers are "
        "compared with the reference computed on your data.</p>"
    )
    return _page(f"{decl.notebook} - {sid}", body)


def _histogram(totals: list[float], top: float) -> str:
    """An inline SVG histogram of the totals from 0 to ``top``.

    Up to 20 points, one bar per whole point (a bar holds the totals from its point up to the
    next, and full marks have a bar of their own); above that, ten bars labelled by their range.
    """
    whole = float(top).is_integer() and 0 < top <= 20
    count = int(top) + 1 if whole else 10
    bins = [0] * count
    for t in totals:
        if whole:
            bins[min(int(t), count - 1)] += 1
        else:
            bins[min(int(10 * t / top), 9) if top else 0] += 1
    if whole:
        labels = [str(i) for i in range(count)]
    else:
        edges = [_number(round(top * i / 10, 1)) for i in range(11)]
        labels = [f"{edges[i]}-{edges[i + 1]}" for i in range(10)]
    tallest = max(bins) or 1
    step = 500 / count
    bars = "".join(
        f"<rect x='{40 + i * step:.1f}' y='{170 - 150 * n / tallest:.1f}' "
        f"width='{step * 0.88:.1f}' height='{150 * n / tallest:.1f}' fill='#4c72b0'>"
        f"<title>{labels[i]} points: {n} students</title></rect>"
        f"<text x='{40 + (i + 0.44) * step:.1f}' y='188' font-size='11' "
        f"text-anchor='middle'>{labels[i]}</text>"
        f"<text x='{40 + (i + 0.44) * step:.1f}' y='{165 - 150 * n / tallest:.1f}' "
        f"font-size='11' text-anchor='middle'>{n or ''}</text>"
        for i, n in enumerate(bins)
    )
    return (
        f"<svg width='560' height='216' role='img' aria-label='score distribution'>{bars}"
        "<line x1='38' y1='170' x2='540' y2='170' stroke='#333'/>"
        "<text x='290' y='210' font-size='12' text-anchor='middle'>points (bars: students)"
        "</text></svg>"
    )


def summary_page(book, decl, isolation: str) -> str:
    """The instructor's overview of the run."""
    e = html.escape
    students = book.students()
    graded = [s for s in students if s["status"] == "graded"]
    totals = [s["total"] for s in graded]
    top = students[0]["max_total"] if students else 0
    stats = (
        f"mean {mean(totals):.2f}, median {median(totals):.2f}, "
        f"min {min(totals):g}, max {max(totals):g} of {top:g}"
        if totals
        else "none graded"
    )
    rows = []
    scores = book.scores()
    for q, question in decl.questions.items():
        mine = [
            s
            for s in scores
            if s["question"] == q and s["student_id"] in {g["student_id"] for g in graded}
        ]
        if question.manual:
            rows.append(
                f"<tr><td>{e(q)}</td><td>{e(question.kind)}</td>"
                f"<td>{question.points:g}</td><td colspan='3'>graded by hand</td></tr>"
            )
            continue
        share = mean(s["points"] / s["max_points"] for s in mine) if mine else 0
        right = sum(s["status"] == "correct" for s in mine)
        unanswered = sum(s["status"] == "missing" for s in mine)
        rows.append(
            f"<tr><td>{e(q)}</td><td>{e(question.kind)}</td><td>{question.points:g}</td>"
            f"<td>{share:.0%}</td><td>{right} of {len(mine)}</td>"
            f"<td>{unanswered}</td></tr>"
        )

    def listing(title, items):
        if not items:
            return ""
        return (
            f"<h2>{e(title)} ({len(items)})</h2><ul>"
            + "".join(f"<li>{item}</li>" for item in items)
            + "</ul>"
        )

    link = "<a href='feedback/{0}.html'>{0}</a>"
    body = (
        f"<h1>{e(decl.notebook)}: grading summary</h1>"
        f"<p>{len(graded)} graded of {len(students)} on the roster; {e(stats)}.</p>"
        f"<p><strong>Isolation:</strong> {e(isolation)}</p>"
        f"<h2>Score distribution</h2>{_histogram(totals, top)}"
        "<h2>Questions</h2><table><tr><th>question</th><th>kind</th><th>points</th>"
        "<th>mean share of points</th><th>fully right</th><th>no answer</th></tr>"
        + "".join(rows)
        + "</table>"
        + listing(
            "Flagged",
            [
                f"{link.format(e(s['student_id']))}: {e(s['flagged'])}"
                for s in students
                if s["flagged"]
            ],
        )
        + listing(
            "Missing submissions",
            [e(s["student_id"]) for s in students if s["status"] == "missing"],
        )
        + listing(
            "Unreadable submissions",
            [
                f"{link.format(e(s['student_id']))}: {e(s['reason'] or '')}"
                for s in students
                if s["status"] == "unreadable"
            ],
        )
        + listing(
            "Not graded (grading error; run again)",
            [
                f"{e(s['student_id'])}: {e(s['reason'] or '')}"
                for s in students
                if s["status"] == "error"
            ],
        )
        + listing(
            "Files matching no roster student",
            [f"{e(name)}: {e(why)}" for name, why in book.unmatched_files().items()],
        )
        + listing(
            "Runs with problems",
            [
                f"{link.format(e(s['student_id']))}: {e('; '.join(s['problems'][:4]))}"
                for s in graded
                if s["problems"]
            ],
        )
    )
    return _page(f"{decl.notebook} - grading summary", body)


def write_outputs(book, out: str | os.PathLike, decl, *, isolation: str) -> None:
    """Write ``grades.csv``, ``summary.html`` and ``feedback/<student_id>.html`` into ``out``."""
    out = Path(out)
    pages = out / "feedback"
    pages.mkdir(exist_ok=True)
    _write(out / "grades.csv", grades_csv(book, decl))
    for student in book.students():
        text = student_page(student, book.scores(student["student_id"]), decl)
        _write(pages / f"{student['student_id']}.html", text)
    _write(out / "summary.html", summary_page(book, decl, isolation))
