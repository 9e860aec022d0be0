"""Link three medium hospital systems end to end: time, peak memory and F1 of each method.

Builds the hospital systems once (not timed) into a folder: from the calibrated population and
clinical generators when ``--source clinical`` (needs ``healthlab.synth.clinical``), or from
one province with clean records, as the linkage tests build it (``--source city``, the default).
Then, for each linkage method, a fresh process under ``/usr/bin/time -v`` runs the whole
pipeline and is timed:

1. read and standardise every system's identifiers through its mapping, choose blocking,
   train (probabilistic only), score candidate pairs and cluster:
   ``link_systems(paths, method=...)``;
2. with ``--harmonise`` only: harmonise every system's tables into OMOP in DuckDB with the
   linked persons, ``harmonise(paths, links=...)``.

Prints the time of each step, the total, the peak resident memory, and pairwise precision,
recall and F1 against the ground truth. The script only calls ``link_systems(paths,
method=..., seed=...)``, so it measures older versions of the package too (put one first on
``PYTHONPATH``).

The Bloom-filter frequency attack (``--attack``): the surnames of the largest system encoded
as field-level Bloom filters, plainly and with each hardening, attacked with the public
surname list (:func:`healthlab.sharing.bloom_attack.frequency_attack`); prints the share of
records re-identified and, for the same hardening applied to the linkage encodings, the F1
of the Bloom linkage of all systems.

    python benchmarks/bench_linkage.py                       # 1,000,000 residents
    python benchmarks/bench_linkage.py --people 100000 --methods probabilistic
    python benchmarks/bench_linkage.py --source clinical --folder /tmp/systems --attack
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

SYSTEMS = ("renmin", "zhongxin", "xianyi")


def build(people: int, folder: Path, source: str, seed: int) -> None:
    t = time.perf_counter()
    if source == "clinical":
        from healthlab.synth import make_clinical, make_population
    else:  # one province, clean records: the linkage tests' city
        from functools import partial

        from healthlab.synth import make_clinical
        from healthlab.synth import make_population as _make_population

        make_population = partial(_make_population, provinces="Jiangxi")
        make_clinical = partial(make_clinical, mess=False)
    from healthlab.synth import make_hospital_systems, system_paths, write_hospital_systems

    pop = make_population(people, seed=seed)
    clinical = make_clinical(pop, seed=seed)
    systems = make_hospital_systems(pop, clinical, n_systems=3, seed=seed)
    paths = system_paths(write_hospital_systems(systems, folder))
    truth = pd.read_csv(folder / "truth" / "patients.csv", dtype={"local_id": str})
    sizes = truth["system"].value_counts().reindex(list(SYSTEMS)).to_dict()
    mb = sum(p.stat().st_size for p in paths.values()) / 1e6
    print(f"built {people:,} residents ({source}) in {time.perf_counter() - t:.1f} s: "
          f"patient records {sizes}, {mb:.0f} MB of SQLite")  # fmt: skip


def run(folder: Path, method: str, seed: int, with_harmonise: bool) -> None:
    from healthlab.sharing import link_systems, linkage_quality

    paths = {s: folder / f"{s}.sqlite" for s in SYSTEMS}
    t0 = time.perf_counter()
    links = link_systems(paths, method=method, seed=seed)
    t1 = time.perf_counter()
    extra = ""
    if with_harmonise:
        from healthlab.sharing import harmonise

        h = harmonise(paths, links=links)
        persons = h.connection.execute("select count(*) from person").fetchall()[0][0]
        extra = f" harmonise={time.perf_counter() - t1:.1f}s persons={persons}"
    truth = pd.read_csv(folder / "truth" / "patients.csv", dtype={"local_id": str})
    q = linkage_quality(links, truth)
    print(f"RESULT method={method} link={t1 - t0:.1f}s{extra} records={q['records']} "
          f"people={q['people']} precision={q['precision']:.4f} recall={q['recall']:.4f} "
          f"f1={q['f1']:.4f}")  # fmt: skip


HARDENINGS = {"plain": {}, "salt": {"salt": "birth_date"}, "balance": {"balance": True},
              "xor_fold": {"xor_fold": True}}  # fmt: skip


def attack(folder: Path, seed: int) -> None:
    """Frequency attack on surname encodings of the largest system, per hardening."""
    from healthlab.sharing import link_frames, linkage_quality
    from healthlab.sharing.bloom_attack import attack_surnames
    from healthlab.sharing.identifiers import read_identifiers
    from healthlab.sharing.link import COMPARE, patient_frames

    paths = {s: folder / f"{s}.sqlite" for s in SYSTEMS}
    ids = read_identifiers(paths)
    truth = pd.read_csv(folder / "truth" / "patients.csv", dtype={"local_id": str})
    frames = patient_frames(ids)
    target = ids[ids["system"] == SYSTEMS[0]]
    for name, hardening in HARDENINGS.items():
        t = time.perf_counter()
        found = attack_surnames(target["surname_py"], birth_year=target["birth_year"],
                                hardening=hardening, key=f"bench-{seed}")  # fmt: skip
        t1 = time.perf_counter()
        linked = link_frames(frames, id_column="local_id", compare=COMPARE, method="bloom",
                             hardening=hardening or None, seed=seed)  # fmt: skip
        q = linkage_quality(linked.clusters, truth)
        print(f"ATTACK hardening={name} records={found['records']:,} "
              f"reidentified={found['reidentified']:.4f} "
              f"by_frequency={found['by_frequency']:.4f} "
              f"attack={t1 - t:.1f}s bloom_link={time.perf_counter() - t1:.1f}s "
              f"precision={q['precision']:.4f} recall={q['recall']:.4f} "
              f"f1={q['f1']:.4f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--source", choices=["city", "clinical"], default="city")
    parser.add_argument("--methods", default="deterministic,probabilistic,bloom")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folder", type=Path, help="reuse (or keep) the built systems here")
    parser.add_argument("--harmonise", action="store_true", help="harmonise after linking")
    parser.add_argument("--attack", action="store_true", help="the Bloom frequency attack")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run(args.folder, args.run, args.seed, args.harmonise)
        return
    folder = args.folder or Path(tempfile.mkdtemp(prefix="healthlab-bench-linkage-"))
    try:
        if not (folder / "truth" / "patients.csv").exists():
            build(args.people, folder, args.source, args.seed)
        if args.attack:
            attack(folder, args.seed)
            return
        for method in [m for m in args.methods.split(",") if m]:
            cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--run", method,
                   "--folder", str(folder), "--seed", str(args.seed)]  # fmt: skip
            cmd += ["--harmonise"] if args.harmonise else []
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            result = re.search(r"RESULT .*", proc.stdout)
            peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
            wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", proc.stderr)
            if result is None:
                print(proc.stdout[-2000:], proc.stderr[-4000:])
                continue
            print(f"{result.group(0)} wall={wall.group(1) if wall else '?'} "
                  f"peak_rss={int(peak.group(1)) / 1024:.0f}MB")  # fmt: skip
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
