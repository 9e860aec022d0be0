"""Reading the package's YAML (dataset cards, reference figures, specs) with libyaml's parser.

PyYAML's own parser is pure Python: the six dataset cards take it about 0.35 s, which a
student pays at the first ``datasets.list_datasets()`` and a grader at every reference run.
libyaml's parser (in PyYAML's wheels) reads them in a tenth of that and builds the same safe
objects; where PyYAML was built without it, the pure-Python parser is used.
"""

from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the fastest safe loader there is.

    Examples
    --------
    >>> safe_load("figure: 1.5\\nyears: [2020, 2021]")
    {'figure': 1.5, 'years': [2020, 2021]}
    """
    return yaml.load(text, Loader=LOADER)
