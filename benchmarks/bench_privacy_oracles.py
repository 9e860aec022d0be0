"""Compare healthlab.privacy with pycanon and anonymeter, run in a separate environment.

Neither package can live in healthlab's environment (anonymeter pins numpy<2 and pyarrow<22;
pycanon pins exact versions), so this script makes a virtual environment of its own -- in a
temporary folder unless ``--venv`` names one to keep and reuse -- installs both there, and runs
them on the same tables as healthlab:

- **pycanon** (k, l, entropy l, recursive (c,l), t-closeness): on the Adult data generalised to
  one of ARX's nodes, and on a seeded synthetic patient table with a numeric and a categorical
  sensitive attribute. These must agree exactly (entropy l is floored by pycanon).
- **anonymeter** (singling out, linkability, inference): on a synthetic table that copies its
  training data (a leak) and on one drawn independently (no leak). The attacks draw different
  random queries, so the figures agree in size, not digit for digit.

Usage: ``python benchmarks/bench_privacy_oracles.py [--venv PATH]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from healthlab.privacy import (
    anonymize,
    inference_risk,
    linkability_risk,
    risk_report,
    singling_out_risk,
)

ADULT = Path(__file__).resolve().parent.parent / "tests" / "data" / "adult-arx"
QIS = [
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"
]  # fmt: skip

ORACLE = textwrap.dedent(
    """
    import json, sys, time, warnings
    import pandas as pd
    warnings.filterwarnings("ignore")
    from pycanon import anonymity
    from anonymeter.evaluators import (
        InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator)
    spec = json.load(open(sys.argv[1]))
    out = {"pycanon": {}, "anonymeter": {}}
    for name, case in spec["pycanon"].items():
        df = pd.read_parquet(case["path"])
        start = time.perf_counter()
        res = {"k": int(anonymity.k_anonymity(df, case["qi"]))}
        for s in case["sa"]:
            res[s] = {
                "l": int(anonymity.l_diversity(df, case["qi"], [s])),
                "entropy_l": int(anonymity.entropy_l_diversity(df, case["qi"], [s])),
                "recursive_c_l": [float(x) for x in
                                  anonymity.recursive_c_l_diversity(df, case["qi"], [s])],
                "t": float(anonymity.t_closeness(df, case["qi"], [s])),
            }
        res["seconds"] = time.perf_counter() - start
        out["pycanon"][name] = res
    a = spec["anonymeter"]
    ori, ctl = pd.read_parquet(a["original"]), pd.read_parquet(a["control"])
    for name, path in a["synthetic"].items():
        syn = pd.read_parquet(path)
        res = {}
        ev = SinglingOutEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=a["n_attacks"],
                                  seed=0).evaluate(mode="univariate")
        res["singling out"] = ev
        ev = LinkabilityEvaluator(ori=ori, syn=syn, control=ctl, n_attacks=a["n_attacks"],
                                  aux_cols=tuple(a["aux_link"]),
                                  n_neighbors=a["n_neighbors"]).evaluate(n_jobs=1)
        res["linkability"] = ev
        ev = InferenceEvaluator(ori=ori, syn=syn, control=ctl, aux_cols=a["aux_infer"],
                                secret=a["secret"], n_attacks=a["n_attacks"]).evaluate(n_jobs=1)
        res["inference"] = ev
        for attack, ev in list(res.items()):
            r = ev.results()
            res[attack] = {"attack": r.attack_rate.value, "control": r.control_rate.value,
                           "baseline": r.baseline_rate.value, "risk": ev.risk().value}
        out["anonymeter"][name] = res
    json.dump(out, open(sys.argv[2], "w"))
    """
)


def make_env(path: Path) -> Path:
    """A virtual environment with anonymeter and pycanon at ``path`` (reused if present)."""
    python = path / "bin" / "python"
    if python.exists():
        return python
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if Path(uv).exists():
        subprocess.run([uv, "venv", "-q", str(path), "--python", sys.executable], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), "anonymeter", "pycanon"],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "anonymeter", "pycanon"], check=True
        )
    return python


def patients(n: int, seed: int) -> pd.DataFrame:
    """A seeded synthetic patient table (numpy), the same recipe as the tests use."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n)
    df = pd.DataFrame(
        {
            "age": age,
            "sex": rng.choice(["F", "M"], n),
            "province": rng.choice(list("ABCDEFGH"), n),
            "sbp": np.round(90 + 0.9 * age + rng.normal(0, 8, n)),
            "bmi": np.round(rng.normal(24, 4, n), 1),
        }
    )
    df["dx"] = np.where(df["sbp"] > 140, "htn", rng.choice(["none", "dm", "copd"], n))
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="environment folder to make or reuse")
    parser.add_argument("--n-attacks", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="healthlab-oracles-"))
    try:
        python = make_env(args.venv or work / "venv")
        ours = {}
        # pycanon cases
        adult = pd.read_csv(ADULT / "adult.csv", sep=";")
        h = {q: ADULT / f"adult_hierarchy_{q}.csv" for q in QIS}
        node = anonymize(adult, h, [0, 3, 0, 0, 1, 1, 1, 2], 5).data
        node = node.astype({q: str for q in QIS}).reset_index(drop=True)
        rng = np.random.default_rng(1)
        clinic = patients(5000, seed=2)
        clinic["age_band"] = (clinic["age"] // 10 * 10).astype(str)
        clinic = clinic[["sex", "age_band", "province", "sbp", "dx"]]
        cases = {
            "adult ARX node [0,3,0,0,1,1,1,2] k=5": (node, QIS, ["salary-class"]),
            "clinic 5,000 (sex, age band, province)": (
                clinic,
                ["sex", "age_band", "province"],
                ["dx", "sbp"],
            ),
        }
        spec = {"pycanon": {}, "anonymeter": {}}
        for name, (df, qi, sa) in cases.items():
            path = work / f"case{len(spec['pycanon'])}.parquet"
            df.to_parquet(path)
            spec["pycanon"][name] = {"path": str(path), "qi": qi, "sa": sa}
            start = time.perf_counter()
            r = risk_report(df, qi, sa, c=2.0)
            ours[name] = (r, time.perf_counter() - start)
        # anonymeter case
        original, control, independent = patients(2000, 10), patients(2000, 11), patients(2000, 12)
        leaked = original.sample(frac=1.0, random_state=int(rng.integers(1000))).reset_index(
            drop=True
        )
        frames = {"original": original, "control": control}
        frames |= {"synthetic (copy)": leaked, "synthetic (independent)": independent}
        paths = {}
        for name, df in frames.items():
            paths[name] = str(work / f"{name.replace(' ', '_')}.parquet")
            df.to_parquet(paths[name])
        aux_link = [["age", "bmi"], ["sex", "province", "sbp"]]
        aux_infer, secret, n_neighbors = ["age", "sex", "province", "sbp", "bmi"], "dx", 3
        spec["anonymeter"] = {
            "original": paths["original"],
            "control": paths["control"],
            "synthetic": {k: v for k, v in paths.items() if k.startswith("synthetic")},
            "n_attacks": args.n_attacks,
            "aux_link": aux_link,
            "aux_infer": aux_infer,
            "secret": secret,
            "n_neighbors": n_neighbors,
        }
        (work / "spec.json").write_text(json.dumps(spec))
        (work / "oracle.py").write_text(ORACLE)
        subprocess.run(
            [str(python), str(work / "oracle.py"), str(work / "spec.json"), str(work / "o.json")],
            check=True,
        )
        theirs = json.loads((work / "o.json").read_text())

        print("== pycanon (separate environment) against healthlab.privacy.risk_report")
        for name, (r, secs) in ours.items():
            p = theirs["pycanon"][name]
            print(f"-- {name}: pycanon {p['seconds']:.2f} s, healthlab {secs:.3f} s")
            print(f"   k: pycanon {p['k']}, healthlab {r.k}")
            for s in r.sensitive:
                q = p[s]
                print(
                    f"   {s}: l {q['l']} / {r.l_distinct[s]}; entropy l (floored) "
                    f"{q['entropy_l']} / {int(r.l_entropy[s])} (unfloored {r.l_entropy[s]:.4f}); "
                    f"t {q['t']:.6f} / {r.t_closeness[s]:.6f} ({r.t_distance[s]}); "
                    f"pycanon recursive (c, l) = {q['recursive_c_l']}, healthlab largest l at "
                    f"c=2: {r.recursive[s]}"
                )
        print("== anonymeter (separate environment) against healthlab.privacy.synthetic_risk")
        for name in spec["anonymeter"]["synthetic"]:
            syn = frames[name]
            mine = {
                "singling out": singling_out_risk(
                    original, syn, control, n_attacks=args.n_attacks, seed=0
                ),
                "linkability": linkability_risk(
                    original, syn, control, tuple(aux_link), n_attacks=args.n_attacks,
                    n_neighbors=n_neighbors, seed=0,
                ),
                "inference": inference_risk(
                    original, syn, control, aux_infer, secret, n_attacks=args.n_attacks, seed=0
                ),
            }  # fmt: skip
            print(
                f"-- {name} (healthlab ran {mine['singling out'].n_attacks} distinct "
                "singling-out predicates; anonymeter divides its successes by n_attacks "
                "even when it finds fewer predicates)"
            )
            for attack, res in mine.items():
                a = theirs["anonymeter"][name][attack]
                print(
                    f"   {attack:13s} attack {a['attack']:.3f} / {res.attack_rate:.3f}, "
                    f"control {a['control']:.3f} / {res.control_rate:.3f}, "
                    f"baseline {a['baseline']:.3f} / {res.baseline_rate:.3f}, "
                    f"risk {a['risk']:.3f} / {res.risk:.3f}   (anonymeter / healthlab)"
                )
        print(
            "notes: anonymeter's linkability draws its targets without a seed, so its rates move "
            "between runs. Its naive inference baseline samples synthetic secrets and then aligns "
            "them to the targets by index label (reindex_like), leaving most guesses missing; "
            "healthlab's baseline is a random synthetic record's secret for every target "
            "(about the sum of squared category shares)."
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
