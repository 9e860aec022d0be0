"""Every case-study notebook: committed clean, keeps the contract, runs at `tiny` with sane answers.

Each notebook in ``notebooks/`` runs through the real papermill and kernel (as `healthlab run`
runs it) at ``size="tiny"``. Its recorded answers must pass their public self-checks (each
number within its declared plausible range, each table with its columns, ...) and the
expectations of ``SANITY`` below: facts the data must show, written here, apart from the
notebook, so a notebook that drifts is caught. Until the case studies land, the fixture
notebooks in ``tests/data/notebooks`` stand in for them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from healthlab import exercises, runs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) or sorted(
    (Path(__file__).parent / "data" / "notebooks").glob("*.ipynb")
)

# notebook -> question id -> (low, high) for a number or each number of a list, or a function
# of the recorded value that says whether it is sane. Every notebook needs an entry: add the
# figures its story rests on (e0 between 70 and 85, a Gini between 0 and 1, an F1 between 0
# and 1, ...). Bounds hold at `tiny` with the notebook's default seed.
SANITY: dict[str, dict[str, object]] = {
    "00-tour": {
        "q1": (32, 45),  # mean age; 38.8 in the 2020 census
        "q2": lambda v: v == "resident",  # the resident scheme covers about 1 billion people
        "q3": (15, 32),  # adult hypertension; 23.2% in the China Hypertension Survey
        "q4": lambda v: all(5 < r["share_65"] < 60 for r in exercises.records(v)),
        "q5": lambda v: v[-1] > v[0],  # tertiary education rises with income
    },
    "01-population-aging": {
        "q1": (8, 20),  # share aged 65+, percent; 13.50 at the 2020 census
        "q2": (70, 88),  # e0 from the synthetic deaths (few at tiny); 77.93 published
        "q4": (60, 88),  # disability-free life expectancy at birth
        "q5": lambda v: all(20 < r["old_dependency"] < 100 for r in exercises.records(v)),
        "q7": (5, 40),  # million beds needed in 2050 at 2020 rates; 9.1 million beds in 2020
    },
    "02-resource-allocation": {
        "q1": (0, 0.4),  # Gini of doctors per 1,000 across provinces; about 0.1 in the yearbooks
        "q2": (0, 100),  # a share of the Theil index, in percent
        "q4": (0.1, 20),  # beds per 1,000 reachable; 6.7 nationally in 2021
        "q5": (1, 5),  # a tertiary admission costs more than a secondary one
        "q6": (0, 1),  # a probability
        "q7": lambda v: all(r["added"] >= 0 for r in exercises.records(v)),
    },
    "03-privacy-protection": {
        "q1": (0.2, 0.9),  # linking on sex, birth date and district names most roster adults
        "q2": lambda v: [r["unique_share"] for r in exercises.records(v)][-1] > 0.9,
        "q3": lambda v: v in ("lattice", "mondrian"),
        "q4": (0, 0.05),  # a k-anonymous release leaves (almost) no one unique on the roster
        "q5": (25, 35),  # OpenDP's 95% bound of a count at epsilon 0.1 is about 30
        "q6": (0.2, 1),  # a CART synthesiser with leaves of one record memorises
    },
    "04-information-sharing": {
        "q1": (1.2, 2.5),  # unlinked, a patient is a record in each system that saw them
        "q2": lambda v: all(0.9 < r["f1"] <= 1 for r in exercises.records(v)),
        "q4": (0, 1),
        "q5": (2, 25),  # type 2 diabetes among the patients; 12.4% of adults in CCDRFS 2018
        "q6": (0.6, 0.95),  # admission is predictable from age and diagnoses, not perfectly
        "q7": lambda v: v == "salt",  # only salting stops the frequency attack
    },
    "06-big-data-platform": {
        "q1": (10, 18),  # aged 65 and over; 13.5% in the 2020 census
        "q2": lambda v: all(8 < r["prevalence_pct"] < 18 for r in exercises.records(v)),
        "q3": lambda v: all(12 < r["share_65_pct"] < 25 for r in exercises.records(v)),
        "q4": lambda v: v == "pandas",
        "q5": (50, 2000),  # diabetics aged 60+ in one province of 200,000 people
    },
    "05-clinical-prediction": {
        "q1": (3, 30),  # 30-day readmission, percent of index admissions
        "q3": (0.35, 0.95),  # test AUC of the logistic model (few events at tiny)
        "q4": (0.5, 0.95),  # AUC of the true risk; published scores reach 0.68-0.75
        "q6": (0, 0.25),  # Brier score of a risk near 12%
        "q7": lambda v: all(r["o_to_e"] > 0 for r in exercises.records(v)),
        "q8": (0, 100),  # readmissions prevented per 1,000 admissions
    },
    "07-leak-defence": {
        "q1": (0, 50),  # after-hours share of accesses, in percent
        "q2": (50, 100),  # most accesses have a clinical reason
        "q4": (0, 100),
        "q5": lambda v: all(0 <= r["recall"] <= 1 for r in exercises.records(v)),
        "q6": (1, 5),  # a level of the guide's five
    },
    "fixture-exercises": {
        "q1": (70, 80),  # mean age of N(75, 5) draws
        "q2": lambda v: v == "urban",  # drawn with p = 0.6
        "q3": lambda v: all(60 < r["mean_age"] < 90 for r in exercises.records(v)),
        "q5": (40, 75),
    },
}

TINY_SECONDS = 180  # "runs at tiny in seconds": fail only when far off, on a loaded machine


def _ids(paths):
    return [p.stem for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(_code_cells(nb)):
        assert cell.outputs == [], f"{path.name}: code cell {index} has outputs; clear them"
        assert cell.execution_count is None, f"{path.name}: code cell {index} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_one_documented_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged parameters"
    values = exercises.parameters(nb)
    assert {"seed", "size"} <= set(values), f"{path.name}: parameters lack seed or size"
    assert isinstance(values["seed"], int) and values["size"] in ("tiny", "small")
    for line in cells[0].source.splitlines():
        if re.match(r"^\w+\s*=", line):
            assert "#" in line, f"{path.name}: parameter line without its comment: {line!r}"


_PATHLIKE = re.compile(
    r"^(\.{1,2}/|~/)|(^|/)\.\./|\.(csv|tsv|parquet|feather|jsonl?|xlsx?|db|sqlite|duckdb|pkl"
    r"|pickle|ya?ml|txt|ipynb|npy|npz|h5)$",
    re.IGNORECASE,
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_reads_no_relative_path(path):
    """Data comes through healthlab; a path in the code would break under papermill's cwd."""
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(_code_cells(nb)):
        code = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line for line in cell.source.split("\n")
        )
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.strip()
                if "://" in text or "\n" in text or " " in text:
                    continue
                assert not _PATHLIKE.search(text), (
                    f"{path.name}: code cell {index} names the path {text!r}; load data "
                    "through healthlab.datasets instead"
                )
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "open":
                pytest.fail(f"{path.name}: code cell {index} calls open(); use healthlab")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_is_a_gradable_source(path):
    decl = exercises.check_source(path)
    kinds = [q.kind for q in decl.questions.values()]
    if path.parent.name == "notebooks":  # the case studies, not the fixtures
        assert len(kinds) >= 5, f"{path.name}: at least five graded questions"
        assert "text" in kinds, f"{path.name}: at least one written interpretation"
        assert {"number", "table"} & set(kinds), f"{path.name}: a number or a table"
    assert path.stem in SANITY, (
        f"{path.name}: add its sanity expectations to SANITY in tests/test_notebooks.py"
    )
    unknown = set(SANITY[path.stem]) - set(decl.questions)
    assert not unknown, f"SANITY names questions {path.name} does not declare: {unknown}"


def _sane(expected, value) -> bool:
    if callable(expected):
        return bool(expected(value))
    low, high = expected
    numbers = value if isinstance(value, list) else [value]
    return all(isinstance(v, int | float) and low <= v <= high for v in numbers)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_runs_at_tiny_with_sane_answers(path, tmp_path):
    result = runs.run_notebook(runs.RunTask(str(path), str(tmp_path), {"size": "tiny"}))
    if result.error:
        err = result.error
        pytest.fail(
            f"{path.name} failed in cell {err['cell']}: {err['ename']}: {err['evalue']}\n"
            f"{err['source']}"
        )
    assert result.seconds < TINY_SECONDS, f"{path.name} took {result.seconds:.0f} s at tiny"
    assert not result.missing, f"{path.name} never answered {result.missing}"
    failed = {q: c["text"] for q, c in result.checks.items() if not c["ok"]}
    assert not failed, f"{path.name}: answers fail their self-check: {failed}"
    for qid, expected in SANITY.get(path.stem, {}).items():
        value = result.answers[qid]
        assert _sane(expected, value), f"{path.name}: {qid} = {value!r} is not sane"
