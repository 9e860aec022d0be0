"""The exercise contract: answers recorded as plain JSON at once, self-checks, source notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from healthlab import exercises
from healthlab.errors import (
    AnswerError,
    AnswersFileError,
    InvalidParameterError,
    SourceNotebookError,
)

FIXTURE = Path(__file__).parent / "data" / "notebooks" / "fixture-exercises.ipynb"


@pytest.fixture
def answers_file(tmp_path, monkeypatch):
    path = tmp_path / "answers.jsonl"
    monkeypatch.setenv("HEALTHLAB_ANSWERS", str(path))
    return path


@pytest.fixture
def ex(answers_file):
    return exercises.start(
        "01-test",
        {
            "q1": exercises.Number(points=2, low=60, high=90, unit="years"),
            "q2": exercises.Choice(points=1, options=["rural", "urban"]),
            "q3": exercises.Table(points=3, columns=["province", "gini"], rows=(2, None)),
            "q4": exercises.Text(points=2, min_words=5),
            "q5": exercises.Values(points=2, length=3),
        },
    )


# --- JSON conversion -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (3, 3),
        (2.5, 2.5),
        (float("nan"), None),
        ("rural", "rural"),
        (None, None),
        (np.int64(4), 4),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (np.array([[1, 2], [3, 4]]), [[1, 2], [3, 4]]),
        (np.array([1.0, np.nan]), [1.0, None]),
        ((1, "a", None), [1, "a", None]),
        ({"a": [np.int8(1)], "b": {"c": 2.0}}, {"a": [1], "b": {"c": 2.0}}),
        (pd.NA, None),
    ],
)
def test_to_json_accepts_the_listed_types(value, expected):
    converted = exercises.to_json(value)
    assert converted == expected
    assert json.loads(json.dumps(converted)) == expected


def test_to_json_types_are_exactly_the_builtins():
    converted = exercises.to_json([np.int64(1), np.float64(2.0), np.str_("x"), np.bool_(False)])
    assert [type(v) for v in converted] == [int, float, str, bool]


def test_series_keeps_its_name_and_index():
    s = pd.Series([0.2, None], index=pd.Index(["Hebei", "Hunan"], name="province"), name="gini")
    assert exercises.to_json(s) == {
        "index": ["Hebei", "Hunan"],
        "values": [0.2, None],
        "name": "gini",
        "index_name": "province",
    }
    assert exercises.records(exercises.to_json(s)) == [
        {"province": "Hebei", "gini": 0.2},
        {"province": "Hunan", "gini": None},
    ]


def test_dataframe_becomes_records_and_keeps_an_informative_index():
    df = pd.DataFrame({"province": ["A", "B", "A"], "beds": [1.0, 2.0, 3.0]})
    assert exercises.to_json(df) == [
        {"province": "A", "beds": 1.0},
        {"province": "B", "beds": 2.0},
        {"province": "A", "beds": 3.0},
    ]
    grouped = df.groupby("province").mean()  # the provinces live in the index
    assert exercises.to_json(grouped) == [
        {"province": "A", "beds": 2.0},
        {"province": "B", "beds": 2.0},
    ]
    filtered = df[df.beds > 1]  # an index of 1, 2: not the default, kept as a column
    assert [r["index"] for r in exercises.to_json(filtered)] == [1, 2]


def test_dataframe_with_nullable_and_date_columns():
    df = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "when": pd.to_datetime(["2020-01-01", None]),
        }
    )
    assert exercises.to_json(df) == [
        {"n": 1, "when": "2020-01-01 00:00:00"},
        {"n": None, "when": None},
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "builtins.object"),
        ({1: 2}, "JSON keys are strings"),
        (float("inf"), "infinite"),
        ([1, {2, 3}], r"the answer\[1\]"),
        (pd.DataFrame({0: [1]}), "column names are strings"),
        (lambda: 1, "function"),
    ],
)
def test_to_json_refuses_anything_else_clearly(value, message):
    with pytest.raises(AnswerError, match=message):
        exercises.to_json(value)


def test_a_lying_object_gains_nothing():
    class Liar(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

        def __float__(self):
            return 77.0

        def __repr__(self):
            return "77.0"

    converted = exercises.to_json(Liar(3.0))
    assert type(converted) is float and converted == 3.0

    class Shouty(str):
        def __str__(self):
            return "right answer"

    assert exercises.to_json(Shouty("rural")) == "rural"


# --- recording --------------------------------------------------------------------------


def test_answer_appends_a_json_line_at_once(ex, answers_file, capsys):
    exercises.answer("q1", np.float64(77.25))
    lines = answers_file.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) == {"notebook", "question", "value", "time"}
    assert record["notebook"] == "01-test" and record["question"] == "q1"
    assert record["value"] == 77.25
    exercises.answer("q1", 78)
    assert exercises.read_answers(answers_file) == {"q1": 78}  # the last one wins
    assert "✓ within the plausible range 60 to 90 years" in capsys.readouterr().out


def test_start_prints_where_answers_go(answers_file, capsys):
    ex = exercises.start("01-test", {"q1": exercises.Number(points=2), "q2": exercises.Text(1)})
    out = capsys.readouterr().out
    assert "2 questions, 2 points, 1 more graded by hand" in out and str(answers_file) in out
    assert ex.points == 2 and ex.manual_points == 1


def test_self_check_never_tells_a_plausible_answer_from_another(ex, capsys):
    exercises.answer("q1", 77.31)
    first = capsys.readouterr().out
    exercises.answer("q1", 61.0)
    assert capsys.readouterr().out == first


def test_self_check_flags_the_form(ex, capsys):
    exercises.answer("q1", 120)
    exercises.answer("q2", "Rural")
    exercises.answer("q3", pd.Series([0.1, 0.2], name="gini"))
    exercises.answer("q4", "Too short.")
    exercises.answer("q5", [1, 2])
    out = capsys.readouterr().out
    assert "✗ within the plausible range 60 to 90 years: check the units" in out
    assert "✗ one of the options: choose exactly one of 'rural', 'urban'" in out
    assert "missing province" in out and "rename_axis" in out
    assert "✗ at least 5 words (it has 2)" in out
    assert "✗ 3 values (it has 2)" in out


def test_a_table_of_a_fixed_size_asks_for_exactly_that_many_rows(answers_file, capsys):
    exercises.start("01-test", {"q1": exercises.Table(points=1, rows=(3, 3))})
    exercises.answer("q1", pd.Series([1, 2], name="n"))
    assert "✗ exactly 3 rows (it has 2)" in capsys.readouterr().out
    exercises.answer("q1", pd.Series([1, 2, 3], name="n"))
    assert "✓ exactly 3 rows (it has 3)" in capsys.readouterr().out


def test_check_reprints_the_last_answer(ex, capsys):
    exercises.check("q2")
    assert "no answer recorded yet" in capsys.readouterr().out
    exercises.answer("q2", "urban")
    capsys.readouterr()
    exercises.check("q2")
    assert "q2 last answer (1 point)" in capsys.readouterr().out
    assert ex.status() == {"q1": False, "q2": True, "q3": False, "q4": False, "q5": False}


def test_unknown_question_lists_the_known_ones(ex):
    with pytest.raises(AnswerError, match="no question 'q9'; its questions are q1, q2, q3"):
        exercises.answer("q9", 1)


def test_a_refused_value_writes_nothing(ex, answers_file):
    with pytest.raises(AnswerError):
        exercises.answer("q1", object())
    assert not answers_file.exists()


def test_the_placeholder_is_not_an_answer(ex, answers_file, capsys):
    exercises.answer("q1", ...)
    assert "not answered yet" in capsys.readouterr().out
    assert not answers_file.exists()


def test_answers_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHLAB_ANSWERS", str(tmp_path))
    assert exercises.answers_path("02-x") == tmp_path / "02-x.jsonl"
    monkeypatch.delenv("HEALTHLAB_ANSWERS")
    monkeypatch.chdir(tmp_path)
    ex = exercises.start("02-x", {"q1": exercises.Number(points=1)})
    exercises.answer("q1", 1)
    assert (tmp_path / "healthlab-answers" / "02-x.jsonl").exists()
    assert ex.path == Path("healthlab-answers/02-x.jsonl")


def test_start_refuses_bad_declarations():
    with pytest.raises(InvalidParameterError, match="file name without .ipynb"):
        exercises.start("notebooks/01.ipynb", {"q1": exercises.Number(points=1)})
    with pytest.raises(InvalidParameterError, match="use exercises.Number"):
        exercises.start("01", {"q1": 3})
    with pytest.raises(InvalidParameterError, match="positive"):
        exercises.Number(points=0)
    with pytest.raises(InvalidParameterError, match="swap"):
        exercises.Number(points=1, low=5, high=1)
    with pytest.raises(InvalidParameterError, match="two different options"):
        exercises.Choice(points=1, options=["a", "a"])
    with pytest.raises(InvalidParameterError, match="fewest, most"):
        exercises.Table(points=1, rows=(1,))


def test_read_answers_survives_a_cut_last_line_and_names_a_bad_one(tmp_path):
    path = tmp_path / "a.jsonl"
    good = json.dumps({"notebook": "n", "question": "q1", "value": [1, 2], "time": "t"})
    path.write_text(good + "\n" + '{"notebook": "n", "quest')
    assert exercises.read_answers(path) == {"q1": [1, 2]}
    path.write_text('{"notebook": \n' + good + "\n")
    with pytest.raises(AnswersFileError, match="line 1: not JSON"):
        exercises.read_answers(path)
    path.write_text("[1, 2]\n")
    with pytest.raises(AnswersFileError, match="not an answer record"):
        exercises.read_answers(path)
    with pytest.raises(AnswersFileError, match="no answers file"):
        exercises.read_answers(tmp_path / "none.jsonl")


# --- source notebooks --------------------------------------------------------------------


@pytest.fixture
def source():
    return nbformat.read(FIXTURE, as_version=4)


def test_fixture_source_passes_its_check(source):
    decl = exercises.check_source(FIXTURE)
    assert decl.notebook == "fixture-exercises"
    assert list(decl.questions) == ["q1", "q2", "q3", "q4", "q5"]
    assert decl.questions["q1"] == exercises.Number(points=2, low=60, high=90, unit="years")
    assert decl.rules["q4"] == {"manual": True}
    assert exercises.parameters(source) == {"seed": 0, "size": "small", "scale": 1.0}


def test_student_version_blanks_solutions_and_keeps_answers(source):
    student = exercises.student_version(source)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert 'people["age"].mean()' not in text and "idxmax" not in text
    assert "mean_age = ...  # YOUR CODE HERE" in text
    assert "youngest = ...  # YOUR CODE HERE" in text
    assert 'for_all = people["age"]' in text  # the line outside the region stays
    for qid in ("q1", "q2", "q3", "q4", "q5"):
        assert f'exercises.answer("{qid}"' in text
    assert "rules" not in student.metadata["healthlab"]
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    assert exercises.student_version(student) == student  # safe to run twice
    assert source == nbformat.read(FIXTURE, as_version=4)  # the source is left alone
    nbformat.validate(student)


def test_student_version_of_an_indented_region():
    cell = nbformat.v4.new_code_cell(
        "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n",
        metadata={"tags": ["solution"]},
    )
    out = exercises.student_version(nbformat.v4.new_notebook(cells=[cell]))
    assert out.cells[0].source == "def f(x):\n    ...  # YOUR CODE HERE\n"


def _break(source, how):
    cells = source.cells
    if how == "no rule":
        del source.metadata["healthlab"]["rules"]["q3"]
    elif how == "text not manual":
        source.metadata["healthlab"]["rules"]["q4"] = {"tolerance": 1}
    elif how == "extra rule":
        source.metadata["healthlab"]["rules"]["q9"] = {"equals": True}
    elif how == "no prompt":
        cells[4].source = "What is the mean age?"
    elif how == "wrong points":
        cells[4].source = "**Question 1 (3 points).** What is the mean age?"
    elif how == "answer inside":
        cells[5].source = '# BEGIN SOLUTION\nexercises.answer("q1", 70)\n# END SOLUTION'
    elif how == "undeclared answer":
        cells[5].source += '\nexercises.answer("q7", 1)'
    elif how == "no solution tag":
        cells[7].metadata["tags"] = []
    elif how == "unbalanced":
        cells[9].source = cells[9].source.replace("# END SOLUTION\n", "")
    elif how == "two parameters":
        cells[3].metadata["tags"] = ["parameters"]
    elif how == "no seed":
        cells[1].source = 'size = "small"  # how big'
    return source


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("no rule", "q3 has no grading rule"),
        ("text not manual", "q4 is a written answer: its rule must be {'manual': true}"),
        ("extra rule", "a rule for q9, which is not declared"),
        ("no prompt", "q1 has no markdown prompt **Question 1 (2 points).**"),
        ("wrong points", "q1's prompt gives 3 points, its declaration 2"),
        ("answer inside", "records q1 inside its solution region"),
        ("undeclared answer", "records q7, which is not declared"),
        ("no solution tag", "q2 has no solution cell"),
        ("unbalanced", "has no # END SOLUTION"),
        ("two parameters", "2 cells tagged 'parameters'"),
        ("no seed", "does not set seed"),
    ],
)
def test_check_source_names_each_breach(source, how, message):
    with pytest.raises(SourceNotebookError) as caught:
        exercises.check_source(_break(source, how), name="fixture-exercises")
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert "fixture-exercises.ipynb breaks the exercise contract" in str(caught.value)


def test_check_source_wants_the_file_name(source, tmp_path):
    path = tmp_path / "03-renamed.ipynb"
    nbformat.write(source, path)
    with pytest.raises(SourceNotebookError, match="its file is '03-renamed'"):
        exercises.check_source(path)


def test_a_one_sided_range_reads_as_a_sentence():
    assert str(exercises.Number(points=1, low=0, unit="patients").self_check(3)) == (
        "✓ a number\n✓ at least 0 patients"
    )
    below = exercises.Number(points=1, high=5, unit="%").self_check(9)
    assert str(below) == "✓ a number\n✗ at most 5 %: check the units and the computation"
