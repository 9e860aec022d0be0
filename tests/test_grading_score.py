"""Scoring rules: tolerances, tables, sets, manual questions, and messages that reveal nothing."""

from __future__ import annotations

import pytest

from healthlab.grading.score import MISSING, copied_from, score_answer


@pytest.mark.parametrize(
    "rule, answer, reference, points",
    [
        ({"tolerance": 0.5}, 77.4, 77.6, 2),
        ({"tolerance": 0.5}, 78.2, 77.6, 0),
        ({"rtol": 0.02}, 101, 100, 2),
        ({"rtol": 0.02}, 103, 100, 0),
        ({}, 3, 3.0, 2),
        ({"equals": True}, " Rural ", "rural", 2),
        ({"equals": True}, "urban", "rural", 0),
        ({"tolerance": 0.5}, "77.6", 77.6, 0),  # a string is not a number
        ({"tolerance": 0.5}, True, 1, 0),  # nor is a boolean
        ({"order": False}, [3, 1, 2, 5, 4], [1, 2, 3, 4, 5], 2),
        ({}, [1, 2, 3, 5, 4], [1, 2, 3, 4, 5], 1.2),  # in order: 3 of 5 in place
        ({"order": False}, ["a", "b"], ["b", "c"], 1),
        ({"order": False}, "abc", ["a", "b", "c"], 0),
    ],
)
def test_rules(rule, answer, reference, points):
    assert score_answer("q", rule, 2, answer, reference).points == pytest.approx(points)


def test_tables_are_matched_on_their_key_and_scored_by_row():
    reference = [{"region": "east", "people": 790}, {"region": "west", "people": 553}]
    swapped = list(reversed(reference))
    assert score_answer("q", {"key": "region"}, 3, swapped, reference).points == 3
    one_off = [{"region": "east", "people": 790}, {"region": "west", "people": 554}]
    result = score_answer("q", {"key": "region"}, 3, one_off, reference)
    assert (result.points, result.status, result.message) == (1.5, "partial", "1 of 2 rows match")
    series = {"index": ["east", "west"], "values": [0.51, 0.49], "name": "share"}
    close = {"index": ["west", "east"], "values": [0.4901, 0.5099], "name": "share"}
    assert score_answer("q", {"rtol": 0.01}, 1, close, series).points == 1
    assert score_answer("q", {"key": "region"}, 3, 42, reference).message == "not a table"


def test_missing_manual_and_ungraded():
    assert score_answer("q", {"tolerance": 1}, 2, MISSING, 5).status == "missing"
    assert score_answer("q", {"manual": True}, 2, "some words", None).status == "manual"
    assert score_answer("q", {"tolerance": 1}, 2, 5, MISSING).status == "ungraded"


def test_a_check_function_names_its_fraction():
    rule = {"function": "grading_helpers.half_credit_when_close"}
    assert score_answer("q", rule, 4, 1.0, 1.0).points == 4
    result = score_answer("q", rule, 4, 1.05, 1.0)
    assert (result.points, result.message) == (2, "close, not exact")
    broken = score_answer("q", {"function": "math.nope"}, 4, 1.0, 1.0)
    assert broken.points == 0 and "could not be compared" in broken.message


def test_messages_never_contain_the_reference():
    for answer in (12.0, "east", [1, 2], [{"region": "x", "people": 1}]):
        for reference in (77.123, "west", [9, 8], [{"region": "y", "people": 2}]):
            message = score_answer("q", {"tolerance": 0.1}, 1, answer, reference).message
            assert str(reference) not in message and "77.1" not in message


def test_copying_another_students_reference_is_found():
    refs = {"a": {"q1": 70.0, "q2": "F"}, "b": {"q1": 72.0, "q2": "F"}, "c": {"q1": 71.0}}
    rules = {"q1": {"tolerance": 0.01}}
    assert "student b" in copied_from("a", {"q1": 72.0, "q2": "F"}, refs, rules)
    assert copied_from("a", {"q1": 70.0, "q2": "F"}, refs, rules) is None
    assert copied_from("a", {"q1": 99.0}, refs, rules) is None
