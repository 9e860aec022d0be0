"""The summary page's score histogram: bars an instructor can read."""

import re

from healthlab.grading import feedback


def _bars(svg: str) -> list[tuple[str, int]]:
    return [(label, int(n)) for label, n in re.findall(r"<title>(\S+) points: (\d+) students", svg)]


def test_small_totals_get_one_bar_per_point_and_full_marks_their_own():
    bars = _bars(feedback._histogram([8, 8, 7.5, 0, 3.2], 8))
    assert [label for label, _ in bars] == [str(i) for i in range(9)]
    counts = dict(bars)
    assert (counts["8"], counts["7"], counts["3"], counts["0"]) == (2, 1, 1, 1)
    assert sum(counts.values()) == 5


def test_large_totals_get_ten_bars_labelled_by_range():
    bars = _bars(feedback._histogram([0, 49.5, 100], 100))
    assert len(bars) == 10
    assert bars[0] == ("0-10", 1) and bars[4] == ("40-50", 1) and bars[9] == ("90-100", 1)
