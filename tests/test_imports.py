"""The package's import structure: no private module reached across subpackages, no cycle.

Every ``import`` and ``from ... import`` statement in the package is read with :mod:`ast`,
including those inside functions (a deferred import hides a dependency; it does not remove it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import healthlab

PACKAGE = Path(healthlab.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every healthlab module ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []
    # Imports only a type checker runs are no dependency at run time.
    typing_only = {
        id(n)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for n in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("healthlab")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("healthlab"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else base))
    return found


def _all_imports() -> dict[str, list[tuple[int, str]]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _unit(module: str) -> str:
    """The top-level unit of a module: ``healthlab.synth.clinical`` -> ``healthlab.synth``."""
    return ".".join(module.split(".")[:2])


def test_no_private_module_is_imported_across_subpackages():
    offences = []
    for importer, imported in _all_imports().items():
        for line, target in imported:
            parts = target.split(".")
            # healthlab._x is shared by design; healthlab.sub._x belongs to `sub` alone.
            private_at = [i for i, part in enumerate(parts) if part.startswith("_") and i >= 2]
            if private_at and _unit(importer) != _unit(target):
                offences.append(f"{importer} (line {line}) imports {target}")
    assert not offences, (
        "private modules belong to their subpackage; import a public name, or move the helper "
        "to a shared internal module (healthlab/_validation.py, healthlab/_blocks.py):\n"
        + "\n".join(offences)
    )


def test_there_is_no_import_cycle_between_subpackages():
    graph: dict[str, set[str]] = {}
    for importer, imported in _all_imports().items():
        for _, target in imported:
            a, b = _unit(importer), _unit(target)
            if a != b and b != "healthlab":
                graph.setdefault(a, set()).add(b)
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "subpackages import each other in a circle:\n" + "\n".join(cycles)


def test_the_checks_see_imports_inside_functions(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from healthlab.synth._io import write_part\n")
    # The walker reads nested imports too, so a deferred import cannot hide a dependency.
    tree = ast.parse(source.read_text())
    nested = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert nested and nested[0].module == "healthlab.synth._io"
    assert ("healthlab.demography", "healthlab.allocation") in {
        (_unit(i), _unit(t)) for i, ts in _all_imports().items() for _, t in ts
    }


def test_a_notebook_kernel_does_not_pay_for_the_runner_s_libraries():
    # What the case-study notebooks import. A kernel records answers; it never reads or runs
    # notebooks, so nbformat (whose validator loads jsonschema and its format grammars: seconds
    # per kernel) and papermill must not come with it.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from healthlab import datasets, exercises, plotting, privacy, reference, scratch, "
        "sharing, synth\n"
        "heavy = ('nbformat', 'jsonschema', 'papermill', 'nbclient', 'nbconvert')\n"
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [], f"imported with the notebooks' modules: {out.stdout}"
