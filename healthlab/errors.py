"""The exceptions healthlab raises.

Every error derives from :class:`HealthlabError`, so one ``except`` clause catches them all.
Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "CacheRebuiltWarning",
    "AnswerError",
    "AnswersFileError",
    "CardError",
    "ClusterError",
    "DataCacheError",
    "GradingError",
    "HealthlabError",
    "InvalidParameterError",
    "MappingError",
    "MissingDependencyError",
    "PrivacyBudgetExceededError",
    "RosterError",
    "SourceNotebookError",
    "StoreError",
    "UnknownDatasetError",
]


class HealthlabError(Exception):
    """Root of every error healthlab raises."""


class InvalidParameterError(HealthlabError, ValueError):
    """A parameter has a value healthlab cannot use (wrong type, out of range, unknown word)."""


class UnknownDatasetError(InvalidParameterError):
    """A dataset name that the catalogue does not hold."""

    def __init__(self, name: str, known: list[str], suggestions: list[str] = ()):
        self.name = name
        self.known = known
        self.suggestions = list(suggestions)
        listed = ", ".join(known) if known else "(the catalogue is empty)"
        guess = f"did you mean {' or '.join(map(repr, self.suggestions))}? " if suggestions else ""
        super().__init__(
            f"no dataset named {name!r}; {guess}the catalogue holds: {listed}. "
            "Run `healthlab data list` to see them with their descriptions."
        )


class CardError(HealthlabError):
    """A dataset card is malformed or disagrees with its generator."""


class DataCacheError(HealthlabError):
    """The dataset cache cannot be read or written."""


class CacheRebuiltWarning(UserWarning):
    """A cached dataset was damaged (a file changed or missing) and is being built again."""


class MissingDependencyError(HealthlabError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""

    def __init__(self, package: str, feature: str, extra: str | None = None):
        self.package = package
        how = f"pip install 'healthlab[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the package {package!r}, which is not installed: {how}")


class PrivacyBudgetExceededError(HealthlabError):
    """A release would spend more privacy loss than the budget has left."""


class MappingError(HealthlabError, ValueError):
    """A mapping that does not fit the system it maps: the message names system, table, column."""


class AnswerError(HealthlabError, ValueError):
    """An answer that cannot be recorded: an unknown question, or a value JSON cannot hold."""


class AnswersFileError(HealthlabError):
    """An answers file that cannot be read: the message names the file and the line."""


class SourceNotebookError(HealthlabError):
    """A source notebook that breaks the exercise contract; ``problems`` lists every breach."""

    def __init__(self, name: str, problems: list[str]):
        self.name = name
        self.problems = list(problems)
        listed = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{name} breaks the exercise contract:\n{listed}")


class ClusterError(HealthlabError):
    """A Dask cluster cannot be reached, or its workers cannot run healthlab's tasks."""


class StoreError(HealthlabError):
    """A built data folder is missing, incomplete or does not match its manifest."""


class GradingError(HealthlabError):
    """Grading cannot go on: a roster, secret, source notebook or gradebook that is not usable."""


class RosterError(GradingError, ValueError):
    """A roster that cannot be used: the message names the file, the row and what to fix."""
