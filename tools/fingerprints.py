"""Pin, or check, the fingerprint of every dataset card's tables at size ``tiny``.

    python tools/fingerprints.py           # compare with tests/data/fingerprints.json
    python tools/fingerprints.py --update  # write it again (after changing a generator on purpose)

Each card is built at ``tiny`` with its own seed in a fresh, temporary cache, so nothing stale
is read. tests/test_fingerprints.py runs the same comparison; commit the updated file with the
change that explains it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "data" / "fingerprints.json"


def current() -> dict:
    """Fingerprints of every card's tables at tiny, built in a temporary cache."""
    from healthlab import datasets

    with tempfile.TemporaryDirectory(prefix="healthlab-fingerprints-") as home:
        before = os.environ.get("HEALTHLAB_HOME")
        os.environ["HEALTHLAB_HOME"] = home
        try:
            return {
                name: datasets.fingerprint(datasets.load(name, size="tiny"))
                for name in datasets.list_datasets()
                if "tiny" in datasets.card(name)["sizes"]
            }
        finally:
            if before is None:
                os.environ.pop("HEALTHLAB_HOME", None)
            else:
                os.environ["HEALTHLAB_HOME"] = before


def differences(pinned: dict, now: dict) -> list[str]:
    """What changed, one line per dataset table."""
    lines = []
    for name in sorted(set(pinned) | set(now)):
        old, new = pinned.get(name), now.get(name)
        if old is None or new is None:
            lines.append(f"{name}: {'new dataset' if old is None else 'dataset no longer built'}")
            continue
        for table in sorted(set(old) | set(new)):
            a, b = old.get(table), new.get(table)
            if a == b:
                continue
            if a is None or b is None:
                lines.append(f"{name}.{table}: {'new table' if a is None else 'table gone'}")
            elif a["columns"] != b["columns"]:
                lines.append(f"{name}.{table}: columns or dtypes changed")
            elif a["rows"] != b["rows"]:
                lines.append(f"{name}.{table}: {a['rows']:,} rows, now {b['rows']:,}")
            else:
                lines.append(f"{name}.{table}: same shape, different values")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help=f"write {PINNED.name} again")
    args = parser.parse_args(argv)
    now = current()
    if args.update:
        tmp = PINNED.with_name(f".{PINNED.name}.tmp")
        tmp.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, PINNED)
        print(f"wrote {PINNED.relative_to(ROOT)}: {sum(len(t) for t in now.values())} tables")
        return 0
    pinned = json.loads(PINNED.read_text(encoding="utf-8")) if PINNED.is_file() else {}
    changed = differences(pinned, now)
    print("\n".join(changed) if changed else "every table matches its pinned fingerprint")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
