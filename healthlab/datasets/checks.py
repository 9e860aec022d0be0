"""Does a card agree with its generator? Tables, documented columns, calibration statistics."""

from __future__ import annotations

from healthlab.datasets.build import check_args, generate
from healthlab.datasets.calibration import calibration_summary
from healthlab.datasets.dataset import Dataset
from healthlab.errors import CardError

__all__ = ["check_card"]


def check_card(name: str, *, size: str = "tiny", seed: int | None = None) -> list[str]:
    """Build ``name`` at ``size`` without caching and list how it disagrees with its card.

    Checks that the generator exists and returns the tables the card lists, that every column the
    card documents is produced and every column produced is documented, and that each calibration
    statistic can be computed. An empty list means the card and its generator agree.

    Examples
    --------
    >>> from healthlab.datasets import check_card
    >>> check_card("admissions_series")
    []
    """
    spec, seed = check_args(name, size, seed)
    try:
        tables = generate(spec, size, seed, None)
    except CardError as err:
        return [str(err)]
    problems = []
    for table, frame in tables.items():
        documented = set(spec["tables"][table]["columns"])
        produced = set(map(str, frame.columns))
        for column in sorted(documented - produced):
            problems.append(f"{name}.{table}: card documents column {column!r}, not produced")
        for column in sorted(produced - documented):
            problems.append(f"{name}.{table}: column {column!r} is produced but not in the card")
    dataset = Dataset(name=name, size=size, seed=seed, card=spec, tables=tables)
    try:
        calibration_summary(dataset)
    except (CardError, KeyError, TypeError, ValueError) as err:
        problems.append(f"{name}: a calibration statistic failed: {err}")
    return problems
