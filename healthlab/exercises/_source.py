"""Source notebooks: read their declaration, check them against the contract, make student versions.

A source notebook (everything in ``notebooks/``) carries its solutions in code cells tagged
``solution``, between ``# BEGIN SOLUTION`` and ``# END SOLUTION``, and each question's grading
rule in ``metadata["healthlab"]["rules"]``. Everything here reads the notebook's text with
``ast``; nothing in it is run.
"""

from __future__ import annotations

import ast
import copy
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from healthlab.errors import InvalidParameterError, SourceNotebookError

from ._questions import KINDS, Question

if TYPE_CHECKING:
    import nbformat

__all__ = ["Declaration", "check_source", "declaration", "parameters", "student_version"]

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
PLACEHOLDER = "...  # YOUR CODE HERE"
PROMPT = re.compile(r"\*\*Question\s+([A-Za-z0-9_.-]+)\s+\((\d+(?:\.\d+)?)\s+points?\)\.?\*\*")


@dataclass(frozen=True)
class Declaration:
    """What a source notebook declares: its name, its questions and their grading rules.

    Examples
    --------
    >>> import nbformat
    >>> from healthlab import exercises
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'ex = exercises.start("00-x", {"q1": exercises.Number(points=2, low=0)})')])
    >>> nb.metadata["healthlab"] = {"rules": {"q1": {"tolerance": 0.5}}}
    >>> decl = exercises.declaration(nb)
    >>> decl.notebook, decl.rules
    ('00-x', {'q1': {'tolerance': 0.5}})
    >>> decl.questions
    {'q1': Number(points=2, low=0, high=None, unit='')}
    """

    notebook: str
    questions: dict[str, Question]
    rules: dict[str, dict] = field(default_factory=dict)


def read_notebook(nb: Any) -> nbformat.NotebookNode:
    """A notebook from a path, a dict or a NotebookNode (never modified in place)."""
    # Imported here, not at the top: a student's kernel imports ``exercises`` to record answers
    # and never reads a notebook, and nbformat's validator (jsonschema and its format grammars)
    # costs seconds to import, in every kernel of every run and every graded submission.
    import nbformat

    if isinstance(nb, str | os.PathLike):
        return nbformat.read(os.fspath(nb), as_version=4)
    if isinstance(nb, dict):
        return nbformat.from_dict(copy.deepcopy(dict(nb)))
    raise InvalidParameterError(
        f"nb is a {type(nb).__name__}; give a notebook (nbformat), or the path of an .ipynb"
    )


def tags(cell: Any) -> list[str]:
    """A cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def python_source(source: str) -> str:
    """A code cell's text with IPython magics and shell lines blanked, so ``ast`` can read it."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def parameters(nb: Any) -> dict[str, Any]:
    """The defaults of the notebook's ``parameters`` cell, name to value.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'seed = 0  # the seed\\nsize = "small"  # how big', metadata={"tags": ["parameters"]})])
    >>> parameters(nb)
    {'seed': 0, 'size': 'small'}
    """
    nb = read_notebook(nb)
    cells = [c for c in nb.cells if "parameters" in tags(c)]
    if len(cells) != 1:
        raise SourceNotebookError(
            "the notebook", [f"has {len(cells)} cells tagged 'parameters'; it needs exactly one"]
        )
    tree = _parse(cells[0].source)
    if tree is None:
        raise SourceNotebookError("the notebook", ["its parameters cell is not valid Python"])
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        values[target.id] = ast.unparse(node.value)
    return values


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    """Calls of ``name(...)`` or ``<anything>.name(...)``."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == name)
            or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
        )
    ]


def _question(node: ast.expr, qid: str) -> Question:
    if not isinstance(node, ast.Call):
        raise ValueError(f"question {qid!r} is not declared as exercises.<Kind>(...)")
    kind = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if kind not in KINDS:
        raise ValueError(f"question {qid!r} has the unknown kind {kind!r}")
    args = [ast.literal_eval(a) for a in node.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    return KINDS[kind](*args, **kwargs)


def declaration(nb: Any) -> Declaration:
    """Read the questions a notebook declares in ``exercises.start(...)``, and its rules.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'ex = exercises.start("00-x", {"q1": exercises.Number(points=2, low=0)})')])
    >>> declaration(nb).questions
    {'q1': Number(points=2, low=0, high=None, unit='')}
    """
    nb = read_notebook(nb)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "exercises" not in cell.source:
            continue
        tree = _parse(cell.source)
        if tree is not None:
            found += [c for c in _calls(tree, "start") if len(c.args) == 2 and not c.keywords]
    if len(found) != 1:
        raise SourceNotebookError(
            "the notebook",
            [f"calls exercises.start(name, {{...}}) {len(found)} times; it needs exactly one"],
        )
    call = found[0]
    try:
        name = ast.literal_eval(call.args[0])
        if not isinstance(call.args[1], ast.Dict):
            raise ValueError("declare the questions as a dict literal in exercises.start")
        questions = {}
        for key, value in zip(call.args[1].keys, call.args[1].values):
            qid = ast.literal_eval(key) if key is not None else None
            if not isinstance(qid, str):
                raise ValueError("question ids must be string literals")
            questions[qid] = _question(value, qid)
    except (ValueError, TypeError, InvalidParameterError) as err:
        raise SourceNotebookError("the notebook", [f"exercises.start(...): {err}"]) from None
    rules = nb.metadata.get("healthlab", {}).get("rules", {})
    return Declaration(name, questions, dict(rules) if isinstance(rules, dict) else {})


def _regions(lines: list[str]) -> list[tuple[int, int]] | str:
    """(begin, end) line indices of each solution region, or a message when unbalanced."""
    regions, begin = [], None
    for i, line in enumerate(lines):
        marker = line.strip()
        if marker.startswith(BEGIN):
            if begin is not None:
                return f"a {BEGIN} at line {i + 1} inside another region"
            begin = i
        elif marker.startswith(END):
            if begin is None:
                return f"a {END} at line {i + 1} without its {BEGIN}"
            regions.append((begin, i))
            begin = None
    if begin is not None:
        return f"the {BEGIN} at line {begin + 1} has no {END}"
    return regions


def _assigned(region: list[str]) -> list[str]:
    try:
        tree = ast.parse(python_source(textwrap.dedent("\n".join(region))))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    return names


def _blank_solutions(source: str) -> str:
    lines = source.split("\n")
    regions = _regions(lines)
    if isinstance(regions, str):
        raise SourceNotebookError("the notebook", [f"a solution cell has {regions}"])
    out, last = [], 0
    for begin, end in regions:
        out += lines[last:begin]
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        names = _assigned(lines[begin + 1 : end])
        out += [f"{indent}{n} = {PLACEHOLDER}" for n in names] or [f"{indent}{PLACEHOLDER}"]
        last = end + 1
    return "\n".join(out + lines[last:])


def student_version(nb: Any) -> nbformat.NotebookNode:
    """The student version of a source notebook: solutions blanked, rules and outputs removed.

    Each region between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes
    ``name = ...  # YOUR CODE HERE`` for each name it assigns (or one ``...  # YOUR CODE HERE``);
    the ``exercises.answer(...)`` lines outside the regions stay. Safe to run twice.

    Examples
    --------
    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell(
    ...     "# BEGIN SOLUTION\\ne0 = table.ex[0]\\n# END SOLUTION\\nexercises.answer('q1', e0)",
    ...     metadata={"tags": ["solution"]})
    >>> print(student_version(nbformat.v4.new_notebook(cells=[cell])).cells[0].source)
    e0 = ...  # YOUR CODE HERE
    exercises.answer('q1', e0)
    """
    nb = read_notebook(nb)
    student = copy.deepcopy(nb)
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            if BEGIN in cell.source:
                cell.source = _blank_solutions(cell.source)
        if "solution" in tags(cell):
            cell.metadata["tags"] = [t for t in tags(cell) if t != "solution"]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
    meta = student.metadata.setdefault("healthlab", {})
    meta.pop("rules", None)
    meta["student_version"] = True
    return student


def _label(qid: str) -> str:
    return qid[1:] if len(qid) > 1 and qid[0] in "qQ" else qid


def _answered(source: str) -> tuple[list[str], list[str]]:
    """Question ids answered outside and inside solution regions of a cell."""
    tree = _parse(source)
    if tree is None:
        return [], []
    lines = source.split("\n")
    regions = _regions(lines)
    regions = regions if isinstance(regions, list) else []
    outside, inside = [], []
    for call in _calls(tree, "answer"):
        if call.args and isinstance(call.args[0], ast.Constant):
            qid = call.args[0].value
            within = any(b < call.lineno - 1 < e for b, e in regions)
            (inside if within else outside).append(qid)
    return outside, inside


def check_source(nb: Any, name: str | None = None) -> Declaration:
    """Check a source notebook against the exercise contract; every breach is listed.

    Every declared question needs a solution cell recording it, a rule and a markdown prompt
    ``**Question <id without q> (<points> points).**`` before that cell, and vice versa; a text
    question's rule is ``{"manual": true}``. The notebook needs exactly one ``parameters`` cell
    with ``seed`` and ``size``, and its student version must still be valid Python.

    Parameters
    ----------
    nb : NotebookNode, dict or path
        The source notebook.
    name : str, optional
        The name it must declare (default: the file's name when ``nb`` is a path).

    Returns
    -------
    Declaration

    Raises
    ------
    SourceNotebookError
        With ``problems``, one line per breach.

    Examples
    --------
    A case-study notebook keeps the contract; a bare one lists every breach at once:

    >>> import nbformat
    >>> from healthlab import exercises, runs
    >>> from healthlab.errors import SourceNotebookError
    >>> decl = exercises.check_source(runs.notebooks_dir() / "00-tour.ipynb")
    >>> decl.notebook, sorted(decl.rules) == sorted(decl.questions)
    ('00-tour', True)
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'ex = exercises.start("00-x", {"q1": exercises.Number(points=2, low=0)})')])
    >>> try:
    ...     exercises.check_source(nb, "00-x")
    ... except SourceNotebookError as err:
    ...     print("\\n".join(err.problems))
    has 0 cells tagged 'parameters'; it needs exactly one
    it has no metadata["healthlab"]["rules"] dict (one rule per question)
    q1 has no grading rule in the metadata
    q1 has no solution cell (tagged 'solution') recording it
    q1 has no markdown prompt **Question 1 (2 points).**
    """
    if name is None and isinstance(nb, str | os.PathLike):
        name = Path(nb).stem
    label = f"{name}.ipynb" if name else "the notebook"
    nb = read_notebook(nb)
    problems: list[str] = []
    try:
        params = parameters(nb)
        problems += [
            f"its parameters cell does not set {p}" for p in ("seed", "size") if p not in params
        ]
    except SourceNotebookError as err:
        problems += err.problems
    try:
        decl = declaration(nb)
    except SourceNotebookError as err:
        raise SourceNotebookError(label, problems + err.problems) from None
    if name is not None and decl.notebook != name:
        problems.append(f"exercises.start names it {decl.notebook!r}, its file is {name!r}")
    questions, rules = decl.questions, decl.rules

    if not isinstance(nb.metadata.get("healthlab", {}).get("rules"), dict):
        problems.append('it has no metadata["healthlab"]["rules"] dict (one rule per question)')
    for qid in questions:
        rule = rules.get(qid)
        if rule is None:
            problems.append(f"{qid} has no grading rule in the metadata")
        elif not isinstance(rule, dict) or not rule:
            problems.append(f"{qid}'s rule must be a non-empty dict, e.g. {{'tolerance': 0.5}}")
        elif questions[qid].manual and rule.get("manual") is not True:
            problems.append(f"{qid} is a written answer: its rule must be {{'manual': true}}")
        elif "function" in rule and not re.match(r"^[\w.]+\.\w+$", str(rule["function"])):
            problems.append(
                f"{qid}'s rule names the function {rule['function']!r}: give a "
                "dotted path such as 'healthlab.grading.rules.name'"
            )
    problems += [f"a rule for {q}, which is not declared" for q in rules if q not in questions]

    solved: dict[str, int] = {}
    prompts: dict[str, tuple[int, float]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for found, points in PROMPT.findall(cell.source):
                prompts.setdefault(found, (index, float(points)))
            continue
        if cell.cell_type != "code":
            continue
        outside, inside = _answered(cell.source)
        problems += [
            f"cell {index} records {q}, which is not declared"
            for q in outside + inside
            if q not in questions
        ]
        problems += [
            f"cell {index} records {q} inside its solution region (the student "
            "version would lose it); move the answer(...) line after # END SOLUTION"
            for q in inside
        ]
        if "solution" in tags(cell):
            regions = _regions(cell.source.split("\n"))
            if isinstance(regions, str):
                problems.append(f"solution cell {index} has {regions}")
            elif not regions:
                problems.append(f"solution cell {index} has no {BEGIN} ... {END} region")
            for q in outside:
                solved.setdefault(q, index)
        if _parse(cell.source) is None:
            problems.append(f"cell {index} is not valid Python")
    labels = {_label(q): q for q in questions}
    for qid, question in questions.items():
        if qid not in solved:
            problems.append(f"{qid} has no solution cell (tagged 'solution') recording it")
        prompt = prompts.get(_label(qid))
        if prompt is None:
            problems.append(
                f"{qid} has no markdown prompt **Question {_label(qid)} "
                f"({question.points:g} points).**"
            )
            continue
        if prompt[1] != question.points:
            problems.append(
                f"{qid}'s prompt gives {prompt[1]:g} points, its declaration {question.points:g}"
            )
        if qid in solved and prompt[0] > solved[qid]:
            problems.append(f"{qid}'s prompt comes after the cell that records it")
    problems += [
        f"a prompt for Question {p}, which is not declared" for p in prompts if p not in labels
    ]
    if not problems:
        for index, cell in enumerate(student_version(nb).cells):
            if cell.cell_type == "code" and _parse(cell.source) is None:
                problems.append(f"cell {index} of the student version is not valid Python")
    if problems:
        raise SourceNotebookError(label, problems)
    return decl
