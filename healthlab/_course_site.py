"""The course site: a static folder a student opens without a server.

``index.html`` (the track, its modules in order with objectives, hours, prerequisites and
competencies, and the competency matrix), ``modules/<id>.html`` (each executed notebook rendered
with nbconvert) and ``notebooks/<id>.ipynb`` (the student version with the track's parameters,
to open in JupyterLab). Unless ``solutions=True``, solution cells show the student version's
code and none of their output.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from healthlab.courses import Track
    from healthlab.runs import RunReport

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 62rem; color: #1b1b1b;
  padding: 0 1rem; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.3rem; }
.lead { color: #333; } .muted { color: #666; font-size: .92rem; }
ol.modules { padding-left: 1.3rem; } ol.modules > li { margin: 0 0 1.4rem; }
.module h3 { margin: 0 0 .2rem; font-size: 1.1rem; }
.tag { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: .3rem;
  background: #eef2f7; margin: 0 .2rem .2rem 0; }
.passed { background: #d8f0e3; color: #0b5d33; } .failed { background: #f9dcdc; color: #8b1111; }
table.matrix { border-collapse: collapse; font-size: .9rem; }
table.matrix th, table.matrix td { border: 1px solid #ccc; padding: .25rem .45rem;
  text-align: center; }
table.matrix th.module, table.matrix td.module { text-align: left; }
td.yes { background: #0072b2; color: #fff; }
dl.competencies dt { font-weight: 600; } dl.competencies dd { margin: 0 0 .5rem 1rem; }
"""
NAV = (
    '<nav style="font: 15px system-ui, sans-serif; padding: .6rem 1rem; background: #f3f3f3">'
    '<a href="../index.html">&larr; {title}</a> · module {n} of {total}: {module}</nav>'
)


@dataclass
class SiteReport:
    """A built course site: where it is, the run behind it, and how long the build took.

    Examples
    --------
    A notebook that fails still gets its page, with its error, and the report says so:

    >>> import os, pathlib, tempfile, nbformat
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from healthlab import courses
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
    ...     "name": "python3", "language": "python", "display_name": "Python 3"}})
    >>> nb.cells = [nbformat.v4.new_code_cell('seed = 0\\nsize = "small"',
    ...                                       metadata={"tags": ["parameters"]}),
    ...             nbformat.v4.new_code_cell("rate = 1 / 0")]
    >>> nbformat.write(nb, folder / "00-look.ipynb")
    >>> _ = (folder / "intro.yaml").write_text('''
    ... track: intro
    ... title: A first look
    ... audience: New analysts
    ... modules:
    ...   - {id: look, notebook: 00-look, title: A look, hours: 1,
    ...      objectives: [Look], competencies: [AMIA-F2]}
    ... ''')
    >>> os.environ["HEALTHLAB_NOTEBOOKS"] = tmp.name
    >>> with ThreadPoolExecutor(1) as pool:
    ...     site = courses.build_site(folder / "intro.yaml", folder / "site", executor=pool)
    >>> site.ok, site.index.name, (site.out / "modules" / "look.html").exists()
    (False, 'index.html', True)
    >>> site.run.results[0].error["ename"]
    'ZeroDivisionError'
    >>> del os.environ["HEALTHLAB_NOTEBOOKS"]; tmp.cleanup()
    """

    out: Path
    run: RunReport
    seconds: float

    @property
    def ok(self) -> bool:
        return self.run.ok

    @property
    def index(self) -> Path:
        return self.out / "index.html"


_SAVED = re.compile(r"Answers are saved to \S+\.jsonl")


def _student_view(executed, keep_solutions: bool, notebook: str):
    """The executed notebook as a student may see it: solution cells blanked, no output.

    The build's own answers path (a temporary folder) becomes the one a student gets.
    """
    import copy

    from healthlab import exercises

    nb = copy.deepcopy(executed)
    saved = f"Answers are saved to healthlab-answers/{notebook}.jsonl"
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = _SAVED.sub(saved, output["text"])
    if keep_solutions:
        return nb
    student = exercises.student_version(nb)
    for cell, blank in zip(nb.cells, student.cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            cell.source = blank.source
            cell.outputs = []
    nb.metadata.get("healthlab", {}).pop("rules", None)
    return nb


def _render(nb, title: str, nav: str) -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def _matrix(track: Track, defined: dict) -> str:
    columns = list(defined)
    head = "".join(
        f'<th title="{escape(defined[c].name)}" scope="col">{escape(c)}</th>' for c in columns
    )
    rows = []
    for n, module in enumerate(track.modules, 1):
        cells = "".join(
            '<td class="yes" title="{}">&#9679;</td>'.format(escape(f"{module.id}: {c}"))
            if c in module.competencies
            else "<td></td>"
            for c in columns
        )
        rows.append(
            f'<tr><td class="module">{n}. <a href="#{escape(module.id)}">'
            f"{escape(module.title)}</a></td>{cells}</tr>"
        )
    served = {c for m in track.modules for c in m.competencies}
    totals = "".join(
        f"<td>{sum(c in m.competencies for m in track.modules) or ''}</td>" for c in columns
    )
    return (
        f'<table class="matrix" id="matrix-table"><thead><tr><th class="module">Module</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}"
        f'<tr><td class="module"><strong>modules serving it</strong></td>{totals}</tr>'
        f'</tbody></table><p class="muted">{len(served)} of {len(columns)} competencies served.</p>'
    )


def _home(track: Track, run: RunReport, defined: dict, frameworks: dict) -> str:
    results = {r.name: r for r in run.results}
    items = []
    for module in track.modules:
        result = results[module.id]
        prereq = (
            ", ".join(f'<a href="#{escape(p)}">{escape(p)}</a>' for p in module.prerequisites)
            or "none"
        )
        params = ", ".join(f"{escape(k)}={escape(repr(v))}" for k, v in module.parameters.items())
        comps = "".join(
            f'<span class="tag" title="{escape(defined[c].name)}">{escape(c)} '
            f"{escape(defined[c].name)}</span>"
            for c in module.competencies
        )
        objectives = "".join(f"<li>{escape(o)}</li>" for o in module.objectives)
        items.append(
            f'<li class="module" id="{escape(module.id)}"><h3>{escape(module.title)}</h3>'
            f'<p class="muted">{module.hours:g} hours · notebook <code>{escape(module.notebook)}'
            f"</code> · parameters: {params or 'defaults'} · prerequisites: {prereq} · "
            f'<span class="tag {result.status}">{result.status}</span></p>'
            f"<p>You will be able to:</p><ul>{objectives}</ul><p>{comps}</p>"
            f'<p><a href="modules/{escape(module.id)}.html">Read the notebook</a> · '
            f'<a href="notebooks/{escape(module.id)}.ipynb" download>Download it for '
            "JupyterLab</a></p></li>"
        )
    sources = []
    for name, spec in frameworks.items():
        comps = "".join(
            f"<dt>{escape(c.id)} {escape(c.name)}</dt><dd>{escape(c.description)}</dd>"
            for c in defined.values()
            if c.framework == name
        )
        link = (
            f' <a href="{escape(spec["url"])}">{escape(spec["url"])}</a>' if "url" in spec else ""
        )
        doi = f" doi:{escape(str(spec['doi']))}" if "doi" in spec else ""
        sources.append(
            f'<h3>{escape(spec["title"])}</h3><p class="muted">{escape(spec["source"])}{doi}'
            f'{link}</p><dl class="competencies">{comps}</dl>'
        )
    when = datetime.now().astimezone().strftime("%Y-%m-%d")
    passed = sum(r.passed for r in run.results)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(track.title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(track.title)}</h1>
<p class="muted">{len(track.modules)} modules · {track.hours:g} hours · built {when} ·
{passed} of {len(run.results)} notebooks ran without error</p>
<p class="lead"><strong>For:</strong> {escape(track.audience)}</p>
<p>{escape(track.description)}</p>
<p class="muted">All data in these notebooks is synthetic, calibrated to public Chinese
statistics; it describes no real person.</p>
<h2>Modules, in order</h2>
<ol class="modules">
{"".join(items)}
</ol>
<h2 id="matrix">Competency matrix</h2>
<p>Which module serves which competency (rows: modules; columns: AMIA foundational domains and
IMIA domain areas).</p>
{_matrix(track, defined)}
<h2 id="competencies">Competencies and their sources</h2>
{"".join(sources)}
</body>
</html>
"""


def build(
    track: Track,
    out: str | Path,
    *,
    defined: dict,
    frameworks: dict,
    size: str | None = None,
    jobs: int | None = None,
    executor: Executor | None = None,
    solutions: bool = False,
    progress: bool | None = None,
) -> SiteReport:
    """Build the site of a checked track; :func:`healthlab.courses.build_site` is the entrance."""
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from healthlab import exercises, runs

    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = runs.notebooks_dir()
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tasks = []
        for module in track.modules:
            params = dict(module.parameters)
            if size is not None:
                params["size"] = size
            tasks.append(
                runs.RunTask(
                    str(folder / f"{module.notebook}.ipynb"),
                    str((work / "run").resolve()),
                    params,
                    label=module.id,
                )
            )
        report = runs.run_tasks(
            tasks, out=work / "run", jobs=jobs, executor=executor, progress=progress
        )
        site = work / "site"
        (site / "modules").mkdir(parents=True)
        (site / "notebooks").mkdir()
        total = len(track.modules)
        for n, (module, task, result) in enumerate(zip(track.modules, tasks, report.results), 1):
            executed = work / "run" / result.output
            nb = (
                nbformat.read(executed, as_version=4)
                if executed.exists()
                else nbformat.read(task.source, as_version=4)
            )
            nav = NAV.format(
                title=escape(track.title), n=n, total=total, module=escape(module.title)
            )
            html = _render(_student_view(nb, solutions, module.notebook), module.title, nav)
            (site / "modules" / f"{module.id}.html").write_text(html, encoding="utf-8")
            source = nbformat.read(task.source, as_version=4)
            handout = source if solutions else exercises.student_version(source)
            target = site / "notebooks" / f"{module.id}.ipynb"
            if task.parameters:  # papermill's own injected cell, as a run would show it
                nbformat.write(handout, target)
                handout = parameterize_notebook(load_notebook_node(str(target)), task.parameters)
                for cell in handout.cells:
                    if not cell.metadata.get("tags"):
                        cell.metadata.pop("tags", None)
            nbformat.write(handout, target)
        if solutions:
            shutil.copytree(work / "run", site / "run")
        (site / "index.html").write_text(
            _home(track, report, defined, frameworks), encoding="utf-8"
        )
        old = out.with_name(f".{out.name}.old")
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
        site.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.out = out / "run" if solutions else report.out
    return SiteReport(out=out, run=report, seconds=round(time.perf_counter() - started, 3))
