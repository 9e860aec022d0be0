"""Split clinical records across hospital systems and write each system's tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from healthlab._blocks import block_rng, blocks
from healthlab.errors import InvalidParameterError
from healthlab.synth.systems._noise import apply_noise
from healthlab.synth.systems._schemas import LOGICAL, PROFILES
from healthlab.synth.systems._vocab import LABS, diagnosis_codes, lab_items, normal_unit

#: Probability that an encounter is seen by the patient's home system; otherwise it goes to
#: one of the other systems, each equally likely.
P_HOME = 0.75

_CANDIDATES = {
    ("encounters", "encounter_id"): ("encounter_id",),
    ("encounters", "person_id"): ("person_id",),
    ("encounters", "date"): ("date", "start_date", "admit_date", "encounter_date", "start",
                             "admission_date", "visit_date"),
    ("encounters", "kind"): ("encounter_type", "type", "setting", "kind", "visit_type"),
    ("diagnoses", "encounter_id"): ("encounter_id",),
    ("diagnoses", "code"): ("icd10", "icd10_code", "icd_code", "code", "diagnosis_code"),
    ("observations", "encounter_id"): ("encounter_id",),
    ("observations", "code"): ("loinc", "loinc_code", "code"),
    ("observations", "value"): ("value", "value_num", "result"),
    ("observations", "unit"): ("unit", "units"),
}  # fmt: skip


def _column(frame: pd.DataFrame, table: str, key: str) -> str:
    names = _CANDIDATES[(table, key)]
    found = next((c for c in names if c in frame.columns), None)
    if found is None:
        raise InvalidParameterError(
            f"clinical table {table!r} needs a {key} column named one of {list(names)}; "
            f"it has {list(frame.columns)}"
        )
    return found


def resolve_inputs(clinical, population):
    """The population and the encounters, diagnoses and observations, with standard names."""
    if not hasattr(clinical, "keys") or "encounters" not in clinical:
        raise InvalidParameterError(
            "clinical must be a dict of DataFrames with at least 'encounters' (and usually "
            f"'diagnoses' and 'observations'), got {type(clinical).__name__}"
        )
    if population is None:
        population = next((clinical[k] for k in ("patients", "population") if k in clinical), None)
    if population is None:
        raise InvalidParameterError(
            "pass population= (person_id, sex, birth_date, province, district), or put it in "
            "clinical['patients']"
        )
    enc = clinical["encounters"]
    out = {
        "encounters": pd.DataFrame(
            {
                k: enc[_column(enc, "encounters", k)].to_numpy()
                for k in ("encounter_id", "person_id", "date", "kind")
            }
        )  # fmt: skip
    }
    out["encounters"]["date"] = pd.to_datetime(out["encounters"]["date"])
    for table, keys in (("diagnoses", ("encounter_id", "code")),
                        ("observations", ("encounter_id", "code", "value", "unit"))):  # fmt: skip
        frame = clinical.get(table) if hasattr(clinical, "get") else None
        if frame is None:
            out[table] = pd.DataFrame({k: pd.Series(dtype=object) for k in keys})
        else:
            out[table] = pd.DataFrame({k: frame[_column(frame, table, k)].to_numpy() for k in keys})
    return population, out


def _fmt(template: str, numbers: np.ndarray) -> np.ndarray:
    prefix, width = re.fullmatch(r"(.*)\{:0(\d+)d\}", template).groups()
    return (prefix + pd.Series(numbers).astype(str).str.zfill(int(width))).to_numpy(object)


def _dates(values: pd.Series, style: str) -> np.ndarray:
    d = pd.to_datetime(values)
    if style == "zh_long":
        text = d.dt.year.astype(str) + "年" + d.dt.month.astype(str) + "月"
        return (text + d.dt.day.astype(str) + "日").to_numpy(object)
    return d.dt.strftime(style).to_numpy(object)


def route(population, encounters, n_systems: int, seed: int):
    """The system of each encounter: a home system per person, leaving it now and then."""
    shares = np.array([p["share"] for p in PROFILES[:n_systems]])
    cdf = np.cumsum(shares / shares.sum())
    home = np.empty(len(population), "int64")
    for lo, hi, rng in blocks(len(population), seed, "systems-home"):
        home[lo:hi] = np.minimum((cdf < rng.random(hi - lo)[:, None]).sum(axis=1), n_systems - 1)
    row = pd.Index(population["person_id"]).get_indexer(encounters["person_id"])
    if (row < 0).any():
        missing = encounters["person_id"].to_numpy()[row < 0][0]
        raise InvalidParameterError(f"encounters name person_id {missing!r}, not in population")
    system = home[row]
    if n_systems > 1:
        for lo, hi, rng in blocks(len(encounters), seed, "systems-route"):
            u = rng.random((2, hi - lo))
            other = (system[lo:hi] + 1 + (u[1] * (n_systems - 1)).astype(int)) % n_systems
            system[lo:hi] = np.where(u[0] < P_HOME, system[lo:hi], other)
    return system


def build_tables(population, identities, inputs, n_systems, rates, seed, sink=None):
    """Every system's tables (native names), the truths, and the noise log.

    With ``sink``, each system's tables are passed to ``sink(name, frames)`` as soon as they
    are made and not kept, so only one system's tables are in memory at a time.
    """
    enc = inputs["encounters"].copy()
    enc["system"] = route(population, enc, n_systems, seed)
    people = population[["person_id", "sex", "birth_date", "district"]].copy()
    ident = identities.drop(columns=[c for c in ("sex",) if c in identities])
    people = people.merge(ident, on="person_id", how="left", validate="one_to_one")
    people["province_code"] = _province_code(population)
    if people["resident_id"].isna().any():
        raise InvalidParameterError("identities must cover every person of the population")
    # One record per (system, person) seen, in system then person order.
    rec = enc[["system", "person_id"]].drop_duplicates().sort_values(["system", "person_id"])
    rec = rec.merge(people, on="person_id", how="left").reset_index(drop=True)
    script = np.array([p["script"] for p in PROFILES])[rec["system"].to_numpy()]
    noisy = [
        apply_noise(rec.iloc[lo:hi], script[lo:hi], rates, rng)
        for lo, hi, rng in blocks(len(rec), seed, "systems-noise")
    ]
    noisy = pd.concat(noisy) if noisy else apply_noise(rec, script, rates, block_rng(seed, "x", 0))
    rec = pd.concat([rec[["system", "person_id"]], noisy.reset_index(drop=True)], axis=1)
    # Local patient ids: a random permutation of numbers within each system.
    rec["local_id"] = None
    for s in range(n_systems):  # a handful of systems, not a loop over rows
        mask = (rec["system"] == s).to_numpy()
        numbers = block_rng(seed, "systems-ids", s).permutation(mask.sum()) + 1
        rec.loc[mask, "local_id"] = _fmt(PROFILES[s]["id_format"], numbers)
    # Local encounter ids, in date order within each system.
    enc = enc.sort_values(["system", "date", "encounter_id"], kind="stable")
    enc["seq"] = enc.groupby("system").cumcount() + 1
    enc = enc.merge(rec[["system", "person_id", "local_id"]], on=["system", "person_id"])
    # A duplicated encounter row becomes two local encounters (as a double entry does); its
    # diagnoses and results go with the first.
    first = enc[["encounter_id", "system", "seq"]].drop_duplicates("encounter_id")
    dx = inputs["diagnoses"].merge(first, on="encounter_id")
    obs = inputs["observations"].merge(first, on="encounter_id")
    tables, codes, enc_truth = {}, [], []
    for s in range(n_systems):
        prof = PROFILES[s]
        rng = block_rng(seed, "systems-codes", s)
        frames, code_rows, et = _system_tables(prof, s, rec, enc, dx, obs, rng)
        if sink is None:
            tables[prof["name"]] = frames
        else:
            sink(prof["name"], frames)
            del frames
        codes += code_rows
        enc_truth.append(et)
    truth = pd.DataFrame(
        {"system": np.array([p["name"] for p in PROFILES])[rec["system"].to_numpy()],
         "local_id": rec["local_id"].to_numpy(), "person_id": rec["person_id"].to_numpy()}
    )  # fmt: skip
    noise_log = truth[["system", "local_id"]].copy()
    for c in [c for c in rec.columns if c.startswith("noise_")]:
        noise_log[c.removeprefix("noise_")] = rec[c].to_numpy(bool)
    codes = pd.concat(codes, ignore_index=True)
    text = ["system", "table", "column", "local_value", "standard_system", "standard_value"]
    codes = codes.astype({c: "string" for c in [*text, "meaning", "context"]})
    codes["factor"] = codes["factor"].astype("float64")
    truth = truth.astype({"system": "string", "local_id": "string"})
    noise_log = noise_log.astype({"system": "string", "local_id": "string"})
    return tables, truth, pd.concat(enc_truth, ignore_index=True), codes, noise_log


def _province_code(population) -> np.ndarray:
    from healthlab.synth.identities import _province_codes

    return _province_codes(population)


def _system_tables(prof, s, rec, enc, dx, obs, rng):
    name = prof["name"]
    r = rec[rec["system"] == s]
    e = enc[enc["system"] == s]
    e_id = _fmt(prof["encounter_format"], e["seq"].to_numpy())
    seq_to_id = pd.Series(e_id, index=e["seq"].to_numpy())
    address = r["address_pinyin"] if prof["address"] == "pinyin" else r["address"]
    logical = {
        "patients": pd.DataFrame(
            {"local_id": r["local_id"].to_numpy(), "name": r["name"].to_numpy(),
             "sex": r["sex"].map(prof["sex"]).to_numpy(),
             "birth_date": _dates(r["birth_date"], prof["birth_date"]),
             "resident_id": r["resident_id"].to_numpy(), "phone": r["phone"].to_numpy(),
             "address": address.to_numpy()}
        ).sort_values("local_id"),
        "encounters": pd.DataFrame(
            {"encounter_id": e_id, "local_id": e["local_id"].to_numpy(),
             "date": _dates(e["date"], prof["date"]),
             "kind": e["kind"].astype(str).str.lower().map(prof["kind"])
             .fillna(e["kind"].astype(str)).to_numpy()}
        ),
    }  # fmt: skip
    d = dx[dx["system"] == s]
    coded = diagnosis_codes(d["code"], prof["diagnosis"], rng)
    logical["diagnoses"] = pd.DataFrame(
        {"encounter_id": seq_to_id.loc[d["seq"]].to_numpy(), "code": coded["code"].to_numpy(),
         "name": coded["name"].to_numpy()}
    )  # fmt: skip
    o = obs[obs["system"] == s]
    lab = lab_items(o["code"], o["unit"], o["value"], prof["lab"], prof["units"], rng)
    value = lab["value"].to_numpy()
    if name == "xianyi":
        value = pd.Series(value).astype("string").astype(object).to_numpy()
    logical["labs"] = pd.DataFrame(
        {"encounter_id": seq_to_id.loc[o["seq"]].to_numpy(), "item": lab["item"].to_numpy(),
         "value": value, "unit": lab["unit"].to_numpy()}
    )  # fmt: skip
    frames = {}
    for key, (_table, cols) in prof["tables"].items():
        keep = {lc: col for lc, col in zip(LOGICAL[key], cols, strict=True) if col is not None}
        frames[key] = logical[key][list(keep)].rename(columns=keep).reset_index(drop=True)
        real = cols[2] if key == "labs" and name != "xianyi" else None
        frames[key] = frames[key].astype(
            {c: ("float64" if c == real else "string") for c in frames[key].columns}
        )
    codes = _codes(prof, d, coded, o, lab)
    et = pd.DataFrame(
        {"system": name, "local_encounter_id": e_id, "encounter_id": e["encounter_id"].to_numpy()}
    ).astype({"system": "string", "local_encounter_id": "string"})
    return frames, codes, et


def _codes(prof, d, coded, o, lab) -> list[pd.DataFrame]:
    """What each local value means: sexes, kinds, diagnoses, lab items and units."""
    t = prof["tables"]
    name = prof["name"]

    def rows(table, column, local, system, standard, meaning, factor=np.nan, context=None):
        return pd.DataFrame(
            {"system": name, "table": table, "column": column, "local_value": local,
             "standard_system": system, "standard_value": standard, "meaning": meaning,
             "factor": factor, "context": context}
        )  # fmt: skip

    out = [
        rows(t["patients"][0], t["patients"][1][2], list(prof["sex"].values()), "sex",
             list(prof["sex"]), ["female" if k == "F" else "male" for k in prof["sex"]]),
        rows(t["encounters"][0], t["encounters"][1][3], list(prof["kind"].values()),
             "encounter_kind", list(prof["kind"]), list(prof["kind"])),
    ]  # fmt: skip
    if len(d):
        icd = d["code"].astype(str).str.strip().str.upper().to_numpy()
        by_cat = prof["diagnosis"] in ("local", "free_text")
        std = pd.Series(icd).str[:3].to_numpy() if by_cat else icd
        col_i = 1 if prof["diagnosis"] != "free_text" else 2
        local = coded["code" if col_i == 1 else "name"].to_numpy()
        m = pd.DataFrame({"local": local, "std": std, "zh": coded["name"].to_numpy()})
        m = m.drop_duplicates(["local", "std"]).sort_values(["local", "std"])
        out.append(rows(t["diagnoses"][0], t["diagnoses"][1][col_i], m["local"].to_numpy(),
                        "ICD-10", m["std"].to_numpy(), m["zh"].to_numpy()))  # fmt: skip
    if len(o):
        loinc = o["code"].astype(str).str.strip().to_numpy()
        table = pd.DataFrame.from_dict(
            LABS, orient="index", columns=["zh", "variants", "local", "si", "conv", "factor"]
        )
        m = pd.DataFrame({"local": lab["item"].to_numpy(), "std": loinc,
                          "unit": lab["unit"].to_numpy()})  # fmt: skip
        items = m.drop_duplicates(["local", "std"]).sort_values(["local", "std"])
        meaning = items["std"].map(table["zh"]).fillna("").to_numpy()
        out.append(rows(t["labs"][0], t["labs"][1][1], items["local"].to_numpy(), "LOINC",
                        items["std"].to_numpy(), meaning))  # fmt: skip
        units = m.drop_duplicates(["std", "unit"]).dropna(subset=["unit"])
        units = units.sort_values(["std", "unit"])
        si = units["std"].map(table["si"])
        unit_n = normal_unit(units["unit"]).to_numpy(object)
        conv = (units["std"].map(table["conv"]).to_numpy(object) == unit_n) & (
            si.to_numpy(object) != unit_n
        )
        factor = np.where(conv, 1 / units["std"].map(table["factor"]).fillna(1.0), 1.0)
        standard = np.where(si.isna(), unit_n, si.fillna("").to_numpy(object))
        standard = np.where(conv | (si.to_numpy(object) == unit_n), standard, unit_n)
        out.append(rows(t["labs"][0], t["labs"][1][3], units["unit"].to_numpy(), "UCUM",
                        standard, "unit; multiply the value by factor for the standard unit",
                        factor, units["std"].to_numpy()))  # fmt: skip
    return out
