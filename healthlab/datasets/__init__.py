"""The dataset catalogue: cards, builds and the Parquet cache.

Each dataset is a card, ``datasets/<name>.yaml``: the recipe (generator and its parameters per
size, default seed) and the datasheet (codebook, calibration sources, intended use, limits, the
statement that it is synthetic). :func:`load` builds a dataset through the generator its card
names and caches the tables as Parquet, keyed by name, size, seed, version and card, so a
class of students loading the same dataset gets the same rows without building them twice.

The work lives in modules of one concern each: ``cards`` (finding and reading cards),
``cache`` (the Parquet cache under ``$HEALTHLAB_HOME/datasets``), ``dataset`` (the
:class:`Dataset` a load returns, a mapping of its tables), ``build`` (:func:`load` and
:func:`build`), ``calibration`` (figures beside their targets), ``checks`` (a card against
its generator) and ``fingerprints`` (the same rows on any machine).

Examples
--------
>>> from healthlab import datasets
>>> "population" in datasets.list_datasets()
True
"""

from healthlab.datasets.build import build, load
from healthlab.datasets.cache import cache_dir
from healthlab.datasets.calibration import calibration_report, calibration_summary
from healthlab.datasets.cards import SIZES, card, card_dirs, list_datasets, resolve, size_table
from healthlab.datasets.checks import check_card
from healthlab.datasets.dataset import Dataset
from healthlab.datasets.fingerprints import fingerprint, table_fingerprint

__all__ = [
    "SIZES",
    "Dataset",
    "build",
    "cache_dir",
    "calibration_report",
    "calibration_summary",
    "card",
    "card_dirs",
    "check_card",
    "fingerprint",
    "list_datasets",
    "load",
    "resolve",
    "size_table",
    "table_fingerprint",
]
