"""Course tracks from ``curricula/*.yaml``: read, check, and build into a static course site.

A track lists its modules in order; each module names its notebook, the parameters it runs with
for this track, its learning objectives, prerequisites (module ids of the same track), estimated
hours and the competencies it serves (ids defined once in ``curricula/competencies.yaml``).
:func:`check_track` finds every problem at once and names the file and line of each;
:func:`build_site` runs the modules' notebooks through :mod:`healthlab.runs` and writes the site.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthlab._course_site import SiteReport
from healthlab.errors import InvalidParameterError

__all__ = [
    "Competency",
    "SiteReport",
    "build_site",
    "Module",
    "Track",
    "TrackError",
    "check_track",
    "competencies",
    "curricula_dir",
    "frameworks",
    "list_tracks",
    "load_track",
]

COMPETENCIES_FILE = "competencies.yaml"
TRACK_KEYS = {"track": True, "title": True, "audience": True, "modules": True, "description": False}
MODULE_KEYS = {
    "id": True,
    "notebook": True,
    "title": True,
    "hours": True,
    "objectives": True,
    "competencies": True,
    "parameters": False,
    "prerequisites": False,
}


class TrackError(InvalidParameterError):
    """A course track that does not hold together; ``problems`` lists each with file and line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("the track is broken:\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class Competency:
    """One competency of a framework (AMIA foundational domain, IMIA domain area).

    Examples
    --------
    >>> from healthlab import courses
    >>> c = courses.competencies()["AMIA-F2"]
    >>> c.id, c.framework, c.name
    ('AMIA-F2', 'AMIA', 'Information Science and Technology')
    """

    id: str
    framework: str
    name: str
    description: str


@dataclass
class Module:
    """One module of a track, in the order the track gives.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from healthlab import courses
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "intro.yaml"
    >>> _ = path.write_text('''
    ... track: intro
    ... title: A first look
    ... audience: New analysts
    ... modules:
    ...   - id: tour
    ...     notebook: 00-tour
    ...     title: The workbench in an hour
    ...     hours: 1.5
    ...     parameters: {size: tiny}
    ...     objectives: [Load a dataset and read its card]
    ...     competencies: [AMIA-F2]
    ... ''')
    >>> module = courses.load_track(path).modules[0]
    >>> module.id, module.notebook, module.hours, module.parameters, module.prerequisites
    ('tour', '00-tour', 1.5, {'size': 'tiny'}, [])
    >>> tmp.cleanup()
    """

    id: str
    notebook: str
    title: str
    hours: float
    objectives: list[str]
    competencies: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    prerequisites: list[str] = field(default_factory=list)


@dataclass
class Track:
    """A course track: who it is for and its modules in order.

    Examples
    --------
    >>> from healthlab import courses
    >>> track = courses.load_track("foundation")
    >>> track.name, track.path.name, track.modules[0].notebook
    ('foundation', 'foundation.yaml', '00-tour')
    >>> track.hours == sum(m.hours for m in track.modules)
    True
    """

    name: str
    title: str
    audience: str
    description: str
    modules: list[Module]
    path: Path

    @property
    def hours(self) -> float:
        """Estimated hours of all modules."""
        return sum(m.hours for m in self.modules)


def curricula_dir() -> Path:
    """The tracks: ``$HEALTHLAB_CURRICULA``, else the source tree's ``curricula/``.

    Examples
    --------
    >>> curricula_dir().name
    'curricula'
    """
    configured = os.environ.get("HEALTHLAB_CURRICULA")
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parent.parent / "curricula"


def list_tracks(folder: Path | None = None) -> list[Path]:
    """Every track file in the folder (all ``*.yaml`` but the competencies file), sorted.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from healthlab import courses
    >>> {"foundation", "practitioner", "advanced"} <= {p.stem for p in courses.list_tracks()}
    True
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("b.yaml", "a.yaml", "competencies.yaml", "notes.txt"):
    ...     _ = (pathlib.Path(tmp.name) / name).write_text("")
    >>> [p.name for p in courses.list_tracks(tmp.name)]
    ['a.yaml', 'b.yaml']
    >>> tmp.cleanup()
    """
    folder = Path(folder) if folder is not None else curricula_dir()
    return sorted(p for p in folder.glob("*.yaml") if p.name != COMPETENCIES_FILE)


def _track_path(track: str | os.PathLike) -> Path:
    path = Path(track)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise TrackError([f"{path}: no such file"])
        return path
    found = [p for p in list_tracks() if p.stem == str(track)]
    if not found:
        known = ", ".join(p.stem for p in list_tracks()) or "(none)"
        raise TrackError([f"no track named {track!r} in {curricula_dir()}; the tracks: {known}"])
    return found[0]


def _read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    """The file's data, and the line (1-based) of each key or item, by its path of keys."""
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise TrackError(
            [f"{path}{line}: not valid YAML ({getattr(err, 'problem', err)})"]
        ) from None
    lines: dict[tuple, int] = {}

    def walk(node, where):
        lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*where, key.value))
                lines[(*where, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*where, i))

    if root is not None:
        walk(root, ())
    return data, lines


class _Problems(list):
    def __init__(self, path: Path, lines: dict[tuple, int]):
        super().__init__()
        self.path, self.lines = path, lines

    def add(self, where: tuple, message: str) -> None:
        while where and where not in self.lines:
            where = where[:-1]
        self.append(f"{self.path}:{self.lines.get(where, 1)}: {message}")


def competencies(path: Path | None = None) -> dict[str, Competency]:
    """The competencies defined in ``competencies.yaml``, by id.

    Examples
    --------
    >>> c = competencies()
    >>> c["AMIA-F1"].name, c["IMIA-1"].framework
    ('Health', 'IMIA')
    """
    path = Path(path) if path is not None else curricula_dir() / COMPETENCIES_FILE
    data, lines = _read_yaml(path)
    problems = _Problems(path, lines)
    out: dict[str, Competency] = {}
    frameworks = data.get("frameworks") if isinstance(data, dict) else None
    if not isinstance(frameworks, dict):
        problems.add((), "expected a 'frameworks' mapping")
        raise TrackError(problems)
    for name, framework in frameworks.items():
        for key in ("title", "source", "competencies"):
            if not isinstance(framework, dict) or key not in framework:
                problems.add(("frameworks", name), f"framework {name} lacks {key!r}")
        if problems:
            continue
        for cid, spec in framework["competencies"].items():
            if not isinstance(spec, dict) or not spec.get("name"):
                problems.add(("frameworks", name, "competencies", cid), f"{cid} needs a name")
                continue
            out[cid] = Competency(cid, name, spec["name"], spec.get("description", ""))
    if problems:
        raise TrackError(problems)
    return out


def frameworks(path: Path | None = None) -> dict[str, dict]:
    """The frameworks of ``competencies.yaml`` with their titles and sources.

    Examples
    --------
    >>> from healthlab import courses
    >>> found = courses.frameworks()
    >>> sorted(found), sorted(found["AMIA"])
    (['AMIA', 'IMIA'], ['doi', 'source', 'title', 'url'])
    >>> found["AMIA"]["doi"]
    '10.1093/jamia/ocy132'
    """
    path = Path(path) if path is not None else curricula_dir() / COMPETENCIES_FILE
    data, _ = _read_yaml(path)
    return {
        name: {k: v for k, v in spec.items() if k != "competencies"}
        for name, spec in data["frameworks"].items()
    }


def _keys(problems, spec, schema, where, what) -> bool:
    if not isinstance(spec, dict):
        problems.add(where, f"{what} must be a mapping of keys")
        return False
    for key, required in schema.items():
        if required and key not in spec:
            problems.add(where, f"{what} lacks {key!r}")
    for key in spec:
        if key not in schema:
            problems.add(
                (*where, key), f"{what} has an unknown key {key!r}; known: " + ", ".join(schema)
            )
    return True


def _module(problems, spec, where) -> Module | None:
    if not _keys(problems, spec, MODULE_KEYS, where, "a module"):
        return None
    name = spec.get("id", f"#{where[-1] + 1}")
    ok = True
    for key in ("id", "notebook", "title"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            problems.add((*where, key), f"module {name}: {key} must be a non-empty string")
            ok = False
    hours = spec.get("hours")
    if "hours" in spec and (
        isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0
    ):
        problems.add((*where, "hours"), f"module {name}: hours must be a positive number")
        ok = False
    for key in ("objectives", "competencies", "prerequisites"):
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.add((*where, key), f"module {name}: {key} must be a list of strings")
            ok = False
        elif key != "prerequisites" and key in spec and not value:
            problems.add((*where, key), f"module {name}: give at least one of its {key}")
            ok = False
    if not isinstance(spec.get("parameters", {}), dict):
        problems.add((*where, "parameters"), f"module {name}: parameters must be a mapping")
        ok = False
    if not ok or any(k not in spec for k, required in MODULE_KEYS.items() if required):
        return None
    return Module(
        id=spec["id"],
        notebook=spec["notebook"],
        title=spec["title"],
        hours=float(spec["hours"]),
        objectives=list(spec["objectives"]),
        competencies=list(spec["competencies"]),
        parameters=dict(spec.get("parameters") or {}),
        prerequisites=list(spec.get("prerequisites") or []),
    )


def load_track(track: str | os.PathLike) -> Track:
    """Read a track (by name or file) and check its schema; see :func:`check_track` for more.

    Examples
    --------
    By name (a track in :func:`curricula_dir`) or by file; a broken file names each problem:

    >>> import pathlib, tempfile
    >>> from healthlab import courses
    >>> courses.load_track("foundation").title
    'Foundation: reading health data'
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "draft.yaml"
    >>> _ = path.write_text("track: draft\\ntitle: Draft\\naudience: Everyone\\nmodules: []\\n")
    >>> try:
    ...     courses.load_track(path)
    ... except courses.TrackError as err:
    ...     print(err.problems)  # doctest: +ELLIPSIS
    ['...draft.yaml:4: modules must be a non-empty list']
    >>> tmp.cleanup()
    """
    path = _track_path(track)
    data, lines = _read_yaml(path)
    problems = _Problems(path, lines)
    if not _keys(problems, data, TRACK_KEYS, (), "the track"):
        raise TrackError(problems)
    modules: list[Module] = []
    specs = data.get("modules")
    if not isinstance(specs, list) or not specs:
        problems.add(("modules",), "modules must be a non-empty list")
        specs = []
    for i, spec in enumerate(specs):
        module = _module(problems, spec, ("modules", i))
        if module is not None:
            modules.append(module)
    if data.get("track") is not None and data.get("track") != path.stem:
        problems.add(("track",), f"track is {data.get('track')!r}; the file is {path.name}")
    if problems:
        raise TrackError(problems)
    return Track(
        name=data["track"],
        title=str(data["title"]),
        audience=str(data["audience"]),
        description=str(data.get("description", "")),
        modules=modules,
        path=path,
    )


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the prerequisite graph as a path (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


def check_track(track: str | os.PathLike | Track, *, notebooks: Path | None = None) -> Track:
    """Check a track: schema, notebooks, their parameters, prerequisites, competencies.

    Every problem is listed, each with the file and line it is on: a notebook that does not
    exist, a parameter its ``parameters`` cell does not have, a prerequisite that is not a
    module of the track or comes after it, a cycle of prerequisites, a competency that
    ``competencies.yaml`` does not define.

    Parameters
    ----------
    track : str, path or Track
        A track name (``"foundation"``), a track file, or a loaded track.
    notebooks : Path, optional
        Where the notebooks are (default :func:`healthlab.runs.notebooks_dir`).

    Returns
    -------
    Track

    Raises
    ------
    TrackError
        Listing every problem.

    Examples
    --------
    >>> check_track("foundation").modules[0].notebook
    '00-tour'
    """
    from healthlab import exercises, runs

    track = track if isinstance(track, Track) else load_track(track)
    _, lines = _read_yaml(track.path)
    problems = _Problems(track.path, lines)
    folder = Path(notebooks) if notebooks is not None else runs.notebooks_dir()
    local = track.path.parent / COMPETENCIES_FILE
    defined = competencies(local if local.exists() else None)
    ids = [m.id for m in track.modules]
    position = {m.id: i for i, m in enumerate(track.modules)}
    for i, module in enumerate(track.modules):
        where = ("modules", i)
        if ids.count(module.id) > 1 and ids.index(module.id) != i:
            problems.add((*where, "id"), f"module id {module.id!r} is used twice")
        path = folder / f"{module.notebook}.ipynb"
        if not path.exists():
            known = ", ".join(p.stem for p in sorted(folder.glob("*.ipynb"))) or "(none)"
            problems.add(
                (*where, "notebook"),
                f"module {module.id}: no notebook "
                f"{module.notebook!r} in {folder}; the notebooks: {known}",
            )
        else:
            try:
                declared = exercises.parameters(path)
            except Exception as err:
                problems.add((*where, "notebook"), f"module {module.id}: {err}")
                declared = None
            for name in module.parameters if declared is not None else []:
                if name not in declared:
                    problems.add(
                        (*where, "parameters", name),
                        f"module {module.id}: "
                        f"{module.notebook} has no parameter {name!r}; its parameters: "
                        + ", ".join(declared),
                    )
        for j, needed in enumerate(module.prerequisites):
            at = (*where, "prerequisites", j)
            if needed == module.id:
                problems.add(at, f"module {module.id} lists itself as a prerequisite")
            elif needed not in position:
                problems.add(
                    at,
                    f"module {module.id}: prerequisite {needed!r} is not a module "
                    "of this track; its modules: " + ", ".join(ids),
                )
        for j, cid in enumerate(module.competencies):
            if cid not in defined:
                problems.add(
                    (*where, "competencies", j),
                    f"module {module.id}: competency {cid!r} is not defined in {COMPETENCIES_FILE}",
                )
    graph = {m.id: [p for p in m.prerequisites if p in position] for m in track.modules}
    cycle = _cycle(graph)
    if cycle is not None:
        first = position[cycle[0]]
        problems.add(
            ("modules", first, "prerequisites"), "prerequisites form a cycle: " + " -> ".join(cycle)
        )
    else:
        for i, module in enumerate(track.modules):
            for j, needed in enumerate(module.prerequisites):
                if needed in position and position[needed] > i:
                    problems.add(
                        ("modules", i, "prerequisites", j),
                        f"module {module.id} "
                        f"needs {needed}, which comes after it; reorder the modules",
                    )
    if problems:
        raise TrackError(problems)
    return track


def build_site(
    track: str | os.PathLike | Track,
    out: str | os.PathLike,
    *,
    size: str | None = None,
    jobs: int | None = None,
    executor: Any = None,
    solutions: bool = False,
    progress: bool | None = None,
) -> SiteReport:
    """Run a track's notebooks with its parameters and write the course site into ``out``.

    The site (``index.html`` with the modules in order, their objectives and hours, and the
    competency matrix; ``modules/<id>.html``, each executed notebook rendered with nbconvert;
    ``notebooks/<id>.ipynb``, the student version with the track's parameters) opens without a
    server. It is built in a temporary folder beside ``out`` and moved into place only when
    complete. A notebook that fails is still rendered, with its error, and marked failed.

    Parameters
    ----------
    track : str, path or Track
        The track; it is checked first (:func:`check_track`).
    out : str or path
        The site folder; a site already there is replaced whole.
    size : str, optional
        Overrides every module's ``size`` (``"tiny"`` for a quick look).
    jobs, executor, progress
        As for :func:`healthlab.runs.run_notebooks`.
    solutions : bool
        Keep solutions, and the run report under ``run/``: an instructor's site. By default
        solution cells show the student version's code and none of their output.

    Returns
    -------
    SiteReport

    Examples
    --------
    A one-module track over a notebook of its own (``HEALTHLAB_NOTEBOOKS`` names their folder):

    >>> import os, pathlib, tempfile, nbformat
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from healthlab import courses
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
    ...     "name": "python3", "language": "python", "display_name": "Python 3"}})
    >>> nb.cells = [nbformat.v4.new_code_cell('seed = 0\\nsize = "small"',
    ...                                       metadata={"tags": ["parameters"]}),
    ...             nbformat.v4.new_code_cell('print(f"a {size} look")')]
    >>> nbformat.write(nb, folder / "00-look.ipynb")
    >>> _ = (folder / "intro.yaml").write_text('''
    ... track: intro
    ... title: A first look
    ... audience: New analysts
    ... modules:
    ...   - id: look
    ...     notebook: 00-look
    ...     title: The workbench at a glance
    ...     hours: 1
    ...     parameters: {size: tiny}
    ...     objectives: [Run a notebook with the parameters of a track]
    ...     competencies: [AMIA-F2]
    ... ''')
    >>> os.environ["HEALTHLAB_NOTEBOOKS"] = tmp.name
    >>> with ThreadPoolExecutor(1) as pool:
    ...     site = courses.build_site(folder / "intro.yaml", folder / "site", executor=pool)
    >>> site.ok, sorted(p.relative_to(site.out).as_posix() for p in site.out.rglob("*.*"))
    (True, ['index.html', 'modules/look.html', 'notebooks/look.ipynb'])
    >>> handout = nbformat.read(site.out / "notebooks" / "look.ipynb", as_version=4)
    >>> handout.cells[1].source  # the track's parameters, as papermill injects them
    '# Parameters\\nsize = "tiny"\\n'
    >>> del os.environ["HEALTHLAB_NOTEBOOKS"]; tmp.cleanup()
    """
    from healthlab import _course_site

    track = check_track(track)
    local = track.path.parent / COMPETENCIES_FILE
    source = local if local.exists() else None
    return _course_site.build(
        track,
        out,
        defined=competencies(source),
        frameworks=frameworks(source),
        size=size,
        jobs=jobs,
        executor=executor,
        solutions=solutions,
        progress=progress,
    )
