"""Audit the clinical world as an epidemiologist would: every figure of the teaching-truth issue.

Builds a population, its facilities and its clinical records (mess off, and with the default
mess where it matters), then computes from the generated rows what a student's analysis would
compute: cost and stay by facility level, in-hospital deaths by age and diagnosis, the care
cascade of diabetes and hypertension, coding consistency (cancer sites, CKD and eGFR, HbA1c and
glucose), aging by urban and rural residence, admissions by age, readmission from the dates, and
births. Prints one line per figure (``name value``) so runs can be compared.

Usage: ``python benchmarks/audit_clinical.py [--people 200000] [--seed 0] [--sections all]``
(at a million people or more, ``--sections deaths,births`` counts the rare events: maternal and
infant deaths).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def _show(name: str, value, target: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float | np.floating) else str(value)
    print(f"{name:58s} {text:>12s}   {target}")


def _level_of(enc: pd.DataFrame, fac: pd.DataFrame) -> pd.Series:
    if "facility_level" in enc:
        return enc["facility_level"].astype("string")
    level = fac.set_index("facility_id")["level"]
    return enc["facility_id"].map(level).astype("string")


def hospital_level(enc, fac) -> None:
    print("-- 1. cost and stay by level")
    enc = enc.assign(level=_level_of(enc, fac).to_numpy())
    inpat = enc[enc["encounter_type"] == "inpatient"]
    visits = enc[enc["encounter_type"] != "inpatient"]
    for level in ("tertiary", "secondary", "township_health_centre", "community_health_centre"):
        a = inpat[inpat["level"] == level]
        v = visits[visits["level"] == level]
        _show(f"cost per admission, {level} (yuan)", float(a["cost_yuan"].mean()))
        _show(f"length of stay, {level} (days)", float(a["length_of_stay"].mean()))
        _show(f"cost per visit, {level} (yuan)", float(v["cost_yuan"].mean()))
    hosp = inpat["level"].isin(["tertiary", "secondary", "primary_hospital", "unrated_hospital"])
    _show("cost per hospital admission (yuan)", float(inpat.loc[hosp, "cost_yuan"].mean()),
          "10,619.2 (2020)")  # fmt: skip
    hv = visits["level"].isin(["tertiary", "secondary", "primary_hospital", "unrated_hospital"])
    _show("cost per hospital visit (yuan)", float(visits.loc[hv, "cost_yuan"].mean()), "324.4")
    _show("hospital length of stay (days)", float(inpat.loc[hosp, "length_of_stay"].mean()), "9.5")
    t = inpat[inpat["level"] == "tertiary"]["cost_yuan"].mean()
    s = inpat[inpat["level"] == "secondary"]["cost_yuan"].mean()
    _show("tertiary / secondary cost per admission", float(t / s), "about 2")
    t = visits[visits["level"] == "tertiary"]["cost_yuan"].mean()
    s = visits[visits["level"] == "secondary"]["cost_yuan"].mean()
    _show("tertiary / secondary cost per visit", float(t / s), "about 1.5")


def _age_band(age, edges=(0, 15, 45, 65, 75, 85, 200)):
    return pd.cut(age, list(edges), right=False, labels=[f"{a}-{b - 1}" for a, b in
                                                          zip(edges[:-1], edges[1:])])  # fmt: skip


def deaths(people, enc, dx, out) -> None:
    print("-- 2. in-hospital deaths")
    adm = enc[enc["encounter_type"] == "inpatient"][["encounter_id", "person_id"]]
    adm = adm.merge(out[["encounter_id", "died_in_hospital"]], on="encounter_id")
    adm = adm.merge(people[["person_id", "age"]], on="person_id")
    _show("in-hospital deaths per 100 admissions", 100 * float(adm["died_in_hospital"].mean()),
          "0.4-0.5")  # fmt: skip
    rate = adm.groupby(_age_band(adm["age"], (0, 45, 65, 75, 85, 200)), observed=True)
    for band, value in (100 * rate["died_in_hospital"].mean()).items():
        _show(f"  deaths per 100 admissions, age {band}", float(value), "rising with age")
    prim = dx[dx["seq"] == 1][["encounter_id", "icd10"]]
    adm = adm.merge(prim, on="encounter_id", how="left")
    code = adm["icd10"].astype("string").fillna("")
    dead = adm["died_in_hospital"].to_numpy(bool)
    chapter = np.select([code.str.startswith("C"), code.str.startswith("I"),
                         code.str.startswith("J")], ["cancer", "circulatory", "respiratory"],
                        "other")  # fmt: skip
    for name in ("cancer", "circulatory", "respiratory"):
        _show(f"  share of in-hospital deaths, principal {name} (%)",
              100 * float((chapter[dead] == name).mean()))  # fmt: skip
    anydx = dx[dx["encounter_id"].isin(adm.loc[dead, "encounter_id"]).to_numpy()]
    cancer_ids = anydx.loc[anydx["icd10"].astype("string").str.startswith("C").to_numpy(bool),
                           "encounter_id"]  # fmt: skip
    any_cancer = adm.loc[dead, "encounter_id"].isin(cancer_ids)
    _show("share of in-hospital deaths carrying a cancer code (%)", 100 * float(any_cancer.mean()))
    _show("deaths in hospital", int(dead.sum()))
    deliv = code.isin(["O80", "O82"])
    _show("deliveries", int(deliv.sum()))
    _show("deaths in delivery admissions", int(dead[deliv.to_numpy()].sum()))
    _show("deaths in delivery admissions per 100,000 deliveries",
          1e5 * float(dead[deliv.to_numpy()].mean()) if deliv.any() else float("nan"),
          "16.9 (2020)")  # fmt: skip
    coded = dx.dropna(subset=["condition"])
    for c in ("copd", "ckd", "ihd", "diabetes", "cancer"):
        ids = coded.loc[(coded["condition"] == c).to_numpy(), "encounter_id"]
        flag = adm["encounter_id"].isin(ids).to_numpy(bool)
        ratio = dead[flag].mean() / max(dead[~flag].mean(), 1e-12)
        _show(f"  death rate ratio with/without {c} coded", float(ratio), "> 1")


def cascade(people, enc, dx, med, obs) -> None:
    print("-- 3. care cascade")
    coded = dx.dropna(subset=["condition"])
    treated = med.dropna(subset=["condition"])
    for c, aw, tr in (("diabetes", 36.7, 32.9), ("hypertension", 46.9, 40.7)):
        sick = people.loc[people[c].to_numpy(bool) & (people["age"] >= 18), "person_id"]
        with_code = sick.isin(coded.loc[coded["condition"] == c, "person_id"])
        with_drug = sick.isin(treated.loc[treated["condition"] == c, "person_id"])
        _show(f"{c}: carry the diagnosis (%)", 100 * float(with_code.mean()), f"{aw}")
        _show(f"{c}: treated (%)", 100 * float(with_drug.mean()), f"{tr}")
        loinc = {"diabetes": "4548-4", "hypertension": "8480-6"}[c]
        o = obs[obs["loinc"] == loinc].dropna(subset=["value"])
        o = o[o["person_id"].isin(sick)]
        per = o.groupby("person_id")["value"].mean()
        is_tr = per.index.isin(treated.loc[treated["condition"] == c, "person_id"])
        _show(f"{c}: mean {'HbA1c' if c == 'diabetes' else 'SBP'}, treated",
              float(per[is_tr].mean()))  # fmt: skip
        _show(f"{c}: mean {'HbA1c' if c == 'diabetes' else 'SBP'}, untreated",
              float(per[~is_tr].mean()))  # fmt: skip
        if c == "diabetes":
            _show("diabetes: controlled among treated, HbA1c < 7 (%)",
                  100 * float((per[is_tr] < 7.0).mean()), "50.1")  # fmt: skip
        else:
            dbp = obs[obs["loinc"] == "8462-4"].dropna(subset=["value"])
            dper = dbp[dbp["person_id"].isin(sick)].groupby("person_id")["value"].mean()
            ok = (per < 140) & (dper.reindex(per.index) < 90)
            _show("hypertension: controlled among treated, < 140/90 (%)",
                  100 * float(ok[is_tr].mean()), "37.6 (15.3 / 40.7)")  # fmt: skip
            n_sick = len(sick)
            _show("hypertension: controlled among all (%)",
                  100 * float(ok[is_tr].sum()) / n_sick, "15.3")  # fmt: skip


def coding(people, enc, dx, obs) -> None:
    print("-- 4. coding")
    ca = dx[dx["condition"] == "cancer"][["encounter_id", "person_id", "icd10"]]
    sites = ca.groupby("person_id")["icd10"].nunique()
    _show("cancer patients with more than one site (%)", 100 * float((sites > 1).mean()), "0")
    ca = ca.merge(people[["person_id", "sex", "age"]], on="person_id")
    breast = ca[ca["icd10"].astype("string").str.startswith("C50")].drop_duplicates("person_id")
    _show("breast cancer patients who are men (%)",
          100 * float((breast["sex"] == "M").mean()), "about 1")  # fmt: skip
    kids = ca[ca["age"] < 15].drop_duplicates("person_id")
    adult_site = kids["icd10"].astype("string").str[:3].isin(["C34", "C16", "C18", "C22", "C15"])
    _show("children with lung/digestive cancer codes", int(adult_site.sum()), "0")
    eg = obs[obs["loinc"] == "62238-1"].dropna(subset=["value"])
    eg = eg.merge(people[["person_id", "ckd", "age"]], on="person_id")
    per = eg.groupby("person_id").agg(egfr=("value", "mean"), ckd=("ckd", "first"))
    _show("CKD patients with eGFR < 60 (%)", 100 * float((per.loc[per["ckd"], "egfr"] < 60).mean()),
          "a minority (most CKD is albuminuria)")  # fmt: skip
    adults = people[people["age"] >= 18]
    low = per.index[per["egfr"] < 60]
    _show("adults with CKD and eGFR < 60, population (%) [tested only]",
          100 * float((adults["ckd"] & adults["person_id"].isin(low)).mean()))  # fmt: skip
    non = eg[~eg["ckd"].to_numpy(bool)]["value"]
    _show("non-CKD eGFR values at exactly 60 (%)", 100 * float((non == 60).mean()), "~0")
    both = obs[obs["loinc"].isin(["4548-4", "1558-6"])].dropna(subset=["value"])
    both = both.merge(people[["person_id", "diabetes"]], on="person_id")
    wide = (
        both[both["diabetes"]]
        .pivot_table(index="encounter_id", columns="loinc", values="value", aggfunc="first")
        .dropna()
    )
    _show("corr(HbA1c, glucose) among diabetics", float(wide.corr().iloc[0, 1]), "about 0.7")
    h = both[(both["loinc"] == "4548-4") & both["diabetes"]].sort_values(["person_id", "date"])
    h = h.assign(k=h.groupby("person_id").cumcount())
    pair = h[h["k"] < 2].pivot_table(index="person_id", columns="k", values="value").dropna()
    _show("corr(first, second HbA1c of a diabetic)", float(pair.corr().iloc[0, 1]),
          "tracks (> 0.5)")  # fmt: skip


def aging(people) -> None:
    print("-- 5. aging by residence")
    for where, flag in (("urban", True), ("rural", False)):
        p = people[people["urban"] == flag]
        _show(f"65+ share, {where} (%)", 100 * float((p["age"] >= 65).mean()),
              "11.11" if flag else "17.72")  # fmt: skip
        _show(f"60+ share, {where} (%)", 100 * float((p["age"] >= 60).mean()),
              "15.82" if flag else "23.81")  # fmt: skip
    _show("65+ share, all (%)", 100 * float((people["age"] >= 65).mean()), "13.50")
    _show("urban share (%)", 100 * float(people["urban"].mean()), "63.89")


def admissions(people, enc, py) -> None:
    print("-- 6. admissions by age")
    adm = enc[enc["encounter_type"] == "inpatient"]
    n = adm.groupby("person_id").size()
    p = people[["person_id", "age"]].merge(py, on="person_id")
    p["n"] = p["person_id"].map(n).fillna(0)
    band = _age_band(p["age"], (0, 5, 15, 45, 60, 65, 75, 85, 200))
    g = p.groupby(band, observed=True)
    for b, row in pd.DataFrame(
        {
            "rate": g["n"].sum() / g["person_years"].sum(),
            "any": g["n"].apply(lambda s: (s > 0).mean()),
        }
    ).iterrows():
        _show(f"  admissions per person-year, age {b}", float(row["rate"]))
        _show(f"  share admitted at least once, age {b} (%)", 100 * float(row["any"]))
    old = p[p["age"] >= 60]
    _show("share of people 60+ admitted at least once (%)", 100 * float((old["n"] > 0).mean()),
          "24.9 (NHSS 2018)")  # fmt: skip
    old = p[p["age"] >= 85]
    _show("admissions per person-year, 85+", float(old["n"].sum() / old["person_years"].sum()))
    old = p[p["age"] >= 75]
    _show("share of people 75+ admitted (%)", 100 * float((old["n"] > 0).mean()))


def readmission(enc, out, label) -> None:
    print(f"-- 7. readmission from the dates ({label})")
    adm = enc[enc["encounter_type"] == "inpatient"].drop_duplicates("encounter_id")
    adm = adm.sort_values(["person_id", "admit_date", "encounter_id"])
    nxt = adm.groupby("person_id")["admit_date"].shift(-1)
    gap = (nxt - adm["discharge_date"]).dt.days
    adm = adm.assign(gap=gap.to_numpy())
    adm = adm.merge(out.drop_duplicates("encounter_id")[["encounter_id", "readmitted_30d",
                                                          "died_in_hospital", "is_readmission"]],
                    on="encounter_id")  # fmt: skip
    alive = ~adm["died_in_hospital"].to_numpy(bool)
    by_dates = (adm["gap"] >= 0) & (adm["gap"] <= 30)
    flag = adm["readmitted_30d"].to_numpy(bool)
    index = alive & ~adm["is_readmission"].to_numpy(bool)
    _show("30-day readmission, flag, index admissions (%)", 100 * float(flag[index].mean()))
    _show("30-day readmission, flag, all live discharges (%)", 100 * float(flag[alive].mean()))
    _show("30-day readmission, from dates, all live discharges (%)",
          100 * float(by_dates[alive].mean()))  # fmt: skip
    _show("flag differs from dates (% of live discharges)",
          100 * float((flag != by_dates.to_numpy())[alive].mean()), "0")  # fmt: skip
    _show("stays overlapping the next stay (%)", 100 * float((adm["gap"] < 0).mean()), "0")


def births(people, enc, dx, py, clin) -> None:
    print("-- 8. births")
    prim = dx[dx["seq"] == 1][["encounter_id", "icd10"]]
    adm = enc[enc["encounter_type"] == "inpatient"].merge(prim, on="encounter_id")
    deliv = adm[adm["icd10"].astype("string").isin(["O80", "O82"])]
    years = float(py["person_years"].sum())
    _show("deliveries per 1,000 person-years", 1000 * len(deliv) / years, "8.52 (2020)")
    _show("delivery length of stay (days)", float(deliv["length_of_stay"].mean()), "3-5")
    age0 = people[people["age"] == 0]
    dead0 = age0["died"] & (age0["death_date"] < age0["birth_date"] + pd.DateOffset(years=1))
    if "births" in clin:
        b = clin["births"]
        first_year = b["infant_death_date"] < b["birth_date"] + pd.DateOffset(years=1)
        _show("births (births table)", len(b))
        _show("infant deaths per 1,000 births (births table)", 1000 * float(first_year.mean()),
              "5.4 (2020)")  # fmt: skip
    else:
        _show("infant deaths per 1,000 births (age-0 deaths before age 1 / deliveries)",
              1000 * int(dead0.sum()) / max(len(deliv), 1), "5.4 (2020)")  # fmt: skip


def risk_model(out, clin) -> None:
    print("-- readmission ground truth")
    from sklearn.metrics import roc_auc_score

    o = out.dropna(subset=["readmission_risk"])
    o = o[o["followup_complete"].to_numpy(bool)]
    y = o["readmitted_30d"].to_numpy(bool)
    _show("true-risk AUC", float(roc_auc_score(y, o["readmission_risk"])), "0.68-0.75")
    _show("mean true risk vs observed (%)",
          f"{100 * o['readmission_risk'].mean():.2f} vs {100 * y.mean():.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sections", default="all",
                        help="comma-separated: level, deaths, cascade, coding, aging, "
                             "admissions, readmission, births, risk (default all)")  # fmt: skip
    args = parser.parse_args()
    from healthlab.synth import make_clinical, make_facilities, make_population

    start = time.perf_counter()
    people = make_population(args.people, seed=args.seed)
    fac = make_facilities(seed=args.seed)
    clin = make_clinical(people, facilities=fac, mess=False, seed=args.seed)
    print(f"built {args.people:,} people in {time.perf_counter() - start:.1f} s, seed {args.seed}")
    enc, dx, med = clin["encounters"], clin["diagnoses"], clin["medications"]
    obs, out, py = clin["observations"], clin["outcomes"], clin["person_years"]
    only = set(args.sections.split(","))
    want = lambda name: "all" in only or name in only  # noqa: E731
    if want("level"):
        hospital_level(enc, fac)
    if want("deaths"):
        deaths(people, enc, dx, out)
    if want("cascade"):
        cascade(people, enc, dx, med, obs)
    if want("coding"):
        coding(people, enc, dx, obs)
    if want("aging"):
        aging(people)
    if want("admissions"):
        admissions(people, enc, py)
    if want("readmission"):
        readmission(enc, out, "mess off")
        messy = make_clinical(people, facilities=fac, seed=args.seed)
        readmission(messy["encounters"], messy["outcomes"], "default mess, duplicates dropped")
        del messy
    if want("births"):
        births(people, enc, dx, py, clin)
    if want("risk"):
        risk_model(out, clin)


if __name__ == "__main__":
    main()
