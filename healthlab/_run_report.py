"""The run report: one static ``index.html`` (no script, no server) listing every notebook run."""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from healthlab.runs import RunReport, RunResult

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #1b1b1b;
  padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.summary { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem;
  border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; font-weight: 600; }
.status { font-weight: 700; padding: .1rem .45rem; border-radius: .3rem; white-space: nowrap; }
.passed { background: #d8f0e3; color: #0b5d33; } .failed { background: #f9dcdc; color: #8b1111; }
code, pre { font: 13px/1.35 ui-monospace, monospace; }
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; border-left: 3px solid #b42318; }
.answers { width: auto; } .answers td { border: 0; padding: .05rem .6rem .05rem 0; }
td.name, td.params { white-space: nowrap; }
.bad { color: #8b1111; } .ok { color: #0b5d33; } .muted { color: #666; }
"""


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _value(value: Any) -> str:
    """A short preview of a recorded answer (a table's size, not its rows)."""
    if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
        return f"table, {len(value)} rows"
    if isinstance(value, dict) and {"index", "values"} <= set(value):
        return f"series, {len(value['values'])} values"
    if isinstance(value, str):  # written answers: one line, as the words read
        text = " ".join(value.split())
        return repr(text if len(text) <= 60 else text[:57] + "...")
    if isinstance(value, float):
        return f"{value:.6g}"
    text = json.dumps(_rounded(value), ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _answers(result: RunResult) -> str:
    if not result.answers and not result.missing:
        return '<span class="muted">none</span>'
    rows = []
    for qid, value in result.answers.items():
        check = result.checks.get(qid)
        mark = ""
        if check is not None:
            mark = (
                '<span class="ok" title="self-check passed">✓</span>'
                if check["ok"]
                else f'<span class="bad" title="{escape(check["text"])}">✗ self-check</span>'
            )
        rows.append(
            f"<tr><td><code>{escape(qid)}</code></td><td>{escape(_value(value))}</td>"
            f"<td>{mark}</td></tr>"
        )
    for qid in result.missing:
        rows.append(
            f'<tr><td><code>{escape(qid)}</code></td><td class="bad" colspan="2">'
            "not answered</td></tr>"
        )
    return f'<table class="answers">{"".join(rows)}</table>'


def _parameters(result: RunResult) -> str:
    if not result.parameters:
        return '<span class="muted">defaults</span>'
    return "<br>".join(
        f"<code>{escape(k)} = {escape(json.dumps(v, ensure_ascii=False))}</code>"
        for k, v in result.parameters.items()
    )


def _row(result: RunResult) -> str:
    name = escape(result.name)
    link = f'<a href="{escape(result.html)}">{name}</a>' if result.html else name
    status = f'<span class="status {result.status}">{result.status}</span>'
    if result.error:
        where = result.error.get("cell")
        status += f'<br><a href="#{name}-error">{escape(result.error["ename"])}' + (
            f" in cell {where + 1}</a>" if where is not None else "</a>"
        )
    files = (
        f'<a class="muted" href="{escape(result.output)}">.ipynb</a> · '
        f'<a class="muted" href="{escape(result.answers_file)}">answers</a>'
    )
    return (
        f'<tr id="{name}"><td class="name">{link}<br>{files}</td>'
        f"<td>{status}</td><td>{result.seconds:.1f}&nbsp;s</td>"
        f'<td class="params">{_parameters(result)}</td><td>{_answers(result)}</td></tr>'
    )


def _failure(result: RunResult) -> str:
    err = result.error or {}
    name = escape(result.name)
    cell = err.get("cell")
    where = f"cell {cell + 1}" if cell is not None else "before any cell ran"
    if err.get("execution_count") is not None:
        where += f" (In [{err['execution_count']}])"
    parts = [
        f'<h3 id="{name}-error">{name}: {escape(err.get("ename", ""))} in {where}</h3>',
        f"<p>{escape(err.get('evalue', ''))}</p>",
    ]
    if err.get("source"):
        parts.append(f"<p>The failing cell:</p><pre>{escape(err['source'])}</pre>")
    if err.get("traceback"):
        parts.append(
            f"<details><summary>Traceback</summary><pre>{escape(err['traceback'])}</pre></details>"
        )
    return "\n".join(parts)


def render(report: RunReport) -> str:
    """The report page as HTML text."""
    passed = sum(r.passed for r in report.results)
    failed = len(report.results) - passed
    verdict = "all passed" if failed == 0 else f"{failed} failed"
    rows = "\n".join(_row(r) for r in report.results)
    failures = [r for r in report.results if not r.passed]
    failure_html = ""
    if failures:
        failure_html = "<h2>Failures</h2>\n" + "\n".join(_failure(r) for r in failures)
    when = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>healthlab run: {passed} of {len(report.results)} passed</title>
<style>{STYLE}</style>
</head>
<body>
<h1>healthlab run: {verdict}</h1>
<p class="summary">{passed} of {len(report.results)} notebooks passed in {report.seconds:.1f} s
with {report.jobs} job{"s" if report.jobs != 1 else ""} · {escape(when)}</p>
<table>
<thead><tr><th>Notebook</th><th>Status</th><th>Duration</th><th>Parameters</th>
<th>Answers</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
{failure_html}
</body>
</html>
"""
