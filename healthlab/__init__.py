"""healthlab: a workbench for health-informatics teaching and research.

Synthetic data calibrated to public Chinese statistics, the analysis methods of the field, and
the machinery that runs, grades and builds courses of case-study notebooks.

>>> import healthlab
>>> healthlab.__version__ == healthlab.version()
True
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

from healthlab.errors import HealthlabError

try:
    __version__ = _dist_version("healthlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["HealthlabError", "__version__", "version"]


def version() -> str:
    """healthlab's version, as the installed package metadata gives it."""
    return __version__
