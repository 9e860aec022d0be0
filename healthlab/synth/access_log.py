"""Access logs of the hospitals' record systems: who opened which patient's record, and why.

Most leaks of health records are insiders who look where they should not, or export in bulk;
hospitals answer with access logs and auditing. Real logs are among the most sensitive data
there are, so students never see one. This module makes them for the synthetic clinical records.

The generative story. Every facility the records route encounters to gets teams (doctors and
nurses per department at a hospital, one team of general practitioners for every department at
a primary-care institution; pharmacists, laboratory technicians, billing, medical-records and IT
staff where it has stays) sized to their share of the workload at the national staff ratios
(2.90 doctors and 3.34 nurses per 1,000 people in 2020), at least one doctor per team with
encounters, with surnames from the national frequency table and homes in the districts it
serves; a few staff are patients of their own facility. Each workstation belongs to one
department. Care leaves accesses where it happens: the treating team's doctor opens and edits
the record at a visit, reads results in the days after; on a ward the
attending doctor rounds every morning and nurses chart each shift, night shifts included;
pharmacy reads orders, the laboratory reads and writes results, billing closes the account,
medical records codes the stay after discharge and sometimes prints or exports it for an insurer
or a transfer; a consultation brings a doctor of another department, recorded in
``consultations``. A small share of legitimate accesses leave no trace elsewhere (a colleague
covering without a recorded consultation), and staff sometimes log in at another department's
workstation.

Misuse is injected at the rates of :data:`MISUSE` (each configurable), with its ground truth in
``truth``: staff curious about patients who share their surname or live on their street, about
colleagues who are patients, about prominent patients; employees who look up and export records
in their last two weeks; a credential used by someone else at night from a workstation of another
department. No single column gives misuse away: legitimate accesses include exports, night
charting, patients with the employee's surname, neighbours and colleagues treated as patients.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from healthlab._blocks import block_rng
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth import access_misuse as _mis
from healthlab.synth.access_staff import (
    LEAVER_SHARE,
    PROMINENT_SHARE,
    ROLE_DEPARTMENT,
    ROLES,
    make_staff,
    pick_in_groups,
    team_departments,
)
from healthlab.synth.identities import surnames_and_streets

__all__ = ["ACTIONS", "LAB_TESTS", "MISUSE", "make_access_log"]

#: Actions a log records, in code order.
ACTIONS = ("view", "modify", "print", "export")

#: Default misuse rates. ``surname``, ``neighbour``, ``leaver`` (of those who leave) and
#: ``credential``: the share of employees who commit it in the period; ``coworker``: the
#: chance that an employee looks up a given colleague who is a patient; ``prominent``: the
#: chance that an employee of a facility that treats a prominent patient looks them up.
#: Assumptions per employee (no public figure for China was found); with staff at the national
#: ratios, misuse is well under one access in a thousand.
MISUSE = {
    "surname": 0.01,
    "neighbour": 0.01,
    "coworker": 0.02,
    "prominent": 0.05,
    "leaver": 0.03,
    "credential": 0.001,
}

#: Kinds of access in the truth's coding order (0 is legitimate care).
KINDS = ("legit", *MISUSE)

#: Probabilities of the legitimate care pattern (assumptions).
CARE = {
    "follow_up": 0.15,  # a doctor reads results in the week after a visit
    "consultation": 0.2,  # an inpatient stay brings a doctor of another department
    "night_chart": 0.5,  # a nurse charts on the night shift
    "records_print": 0.2,
    "records_export": 0.1,  # for an insurer or a transfer
    "undocumented": 0.03,  # a colleague of another department, no consultation recorded
    "roaming": 0.05,  # an access from another department's workstation
}

#: LOINC codes of the laboratory tests (the laboratory reads and writes these; vitals are charted
#: on the ward).
LAB_TESTS = ("4548-4", "1558-6", "14682-9", "62238-1")
_SEC_DAY = 86_400


class _Rows:
    """Accesses collected as column arrays, concatenated at the end.

    Care leaves most rows; the misuse columns (kind, incident, workstation) are kept only for
    the few rows that have them.
    """

    def __init__(self):
        self.parts: list[dict] = []
        self.misuse: list[dict] = []
        self.n = 0

    def add(self, staff, person, time, action, kind="legit", incident=None, workstation=None):
        n = len(staff)
        if n == 0:
            return
        self.parts.append(
            {
                "staff_id": np.asarray(staff, np.int64),
                "person_id": np.asarray(person, np.int64),
                "time": np.asarray(time, np.int64),
                "action": np.broadcast_to(np.asarray(action, np.int8), (n,)).copy(),
            }
        )
        if kind != "legit" or workstation is not None:
            self.misuse.append(
                {
                    "row": self.n + np.arange(n, dtype=np.int64),
                    "kind": np.full(n, KINDS.index(kind), np.int8),
                    "incident": np.full(n, -1, np.int64)
                    if incident is None
                    else np.asarray(incident, np.int64),
                    "workstation_id": np.full(n, -1, np.int64)
                    if workstation is None
                    else np.asarray(workstation, np.int64),
                }
            )
        self.n += n

    def columns(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(every row's staff, person, time and action; the misuse rows' row, kind, incident
        and workstation)."""
        dense = ("staff_id", "person_id", "time", "action")
        sparse = ("row", "kind", "incident", "workstation_id")
        if not self.parts:
            return {k: np.zeros(0, np.int64) for k in dense}, {}
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in dense}
        if not self.misuse:
            return cols, {k: np.zeros(0, np.int64) for k in sparse}
        return cols, {k: np.concatenate([p[k] for p in self.misuse]) for k in sparse}


class _Team:
    """Looks up a random employee of a (facility, department code, role)."""

    def __init__(self, staff: pd.DataFrame, departments: pd.Index):
        self.departments = departments
        dept = departments.get_indexer(staff["department"].to_numpy(object))
        role = pd.Index(ROLES).get_indexer(staff["role"].to_numpy(object))
        key = self._key(staff["facility_id"].to_numpy(np.int64), dept, role)
        order = np.argsort(key, kind="stable")
        self.keys, self.ids = key[order], staff["staff_id"].to_numpy()[order]

    def code(self, department: str) -> int:
        return int(self.departments.get_indexer([department])[0])  # -1: nobody has it

    @staticmethod
    def _key(facility, dept, role) -> np.ndarray:
        return (np.asarray(facility, np.int64) << 16) | (np.asarray(dept, np.int64) << 4) | role

    def span(self, facility, dept, role: str) -> tuple[np.ndarray, np.ndarray]:
        """(first row, head count) of each (facility, department code, role) team."""
        want = self._key(facility, dept, ROLES.index(role))
        lo = np.searchsorted(self.keys, want, side="left")
        return lo, np.searchsorted(self.keys, want, side="right") - lo

    def pick(self, lo, count, rng) -> tuple[np.ndarray, np.ndarray]:
        """(staff ids, found): a random member of each team of :meth:`span`; -1 where the team
        has nobody."""
        found = count > 0
        pick = lo + np.floor(rng.random(len(lo)) * count).astype(np.int64)
        return np.where(found, self.ids[np.minimum(pick, len(self.ids) - 1)], -1), found

    def draw(self, facility, dept, role: str, rng) -> tuple[np.ndarray, np.ndarray]:
        """(staff ids, found) for department codes ``dept``; ``found`` is False where that
        team has nobody."""
        return self.pick(*self.span(facility, dept, role), rng)


def _clock(rng, n, lo_hour, hi_hour) -> np.ndarray:
    return (rng.uniform(lo_hour, hi_hour, n) * 3600).astype(np.int64)


def _clinic_hours(rng, n) -> np.ndarray:
    morning = rng.random(n) < 0.6
    return np.where(morning, _clock(rng, n, 8, 12), _clock(rng, n, 14, 17.5))


def _emergency_hours(rng, n) -> np.ndarray:
    # Busier by day, never empty at night.
    day = rng.random(n) < 0.75
    return np.where(day, _clock(rng, n, 8, 22), _clock(rng, n, 22, 32) % _SEC_DAY)


def _check(clinical, population, days, misuse) -> tuple[dict, dict]:
    names = getattr(clinical, "table_names", None)  # a loaded dataset
    if names is not None:
        clinical = {t: clinical[t] for t in names}
    if not isinstance(clinical, Mapping) or "encounters" not in clinical:
        raise InvalidParameterError(
            "clinical must be the clinical records' tables (a mapping with at least "
            "'encounters', 'medications' and 'observations'), for example "
            "healthlab.datasets.load('clinical', size='tiny') or make_clinical(...)"
        )
    for table in ("medications", "observations"):
        if table not in clinical:
            raise InvalidParameterError(f"clinical lacks the table {table!r}")
    if clinical["encounters"]["facility_id"].isna().all():
        raise InvalidParameterError(
            "no encounter of clinical names a facility: make the records with "
            "make_clinical(population, facilities=make_facilities()) so each encounter has one"
        )
    if not isinstance(population, pd.DataFrame) or "person_id" not in population:
        raise InvalidParameterError("population must be the population table (a DataFrame)")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or not 1 <= days <= 366:
        raise InvalidParameterError(f"days must be a whole number from 1 to 366, got {days!r}")
    rates = dict(MISUSE)
    for kind, rate in (misuse or {}).items():
        if kind not in MISUSE:
            raise InvalidParameterError(
                f"unknown misuse kind {kind!r}; the kinds are {sorted(MISUSE)}"
            )
        if not 0 <= float(rate) <= 1:
            raise InvalidParameterError(f"misuse rate {kind}={rate!r} must lie in [0, 1]")
        rates[kind] = float(rate)
    return dict(clinical), rates


def _encounters(clinical, start, days) -> pd.DataFrame:
    columns = ["encounter_id", "person_id", "facility_id", "department", "encounter_type",
               "admit_date", "length_of_stay", "facility_level"]  # fmt: skip
    enc = clinical["encounters"]
    enc = enc[[c for c in columns if c in enc]]
    keep = enc["facility_id"].notna().to_numpy().copy()
    keep &= ~enc["encounter_id"].duplicated().to_numpy()  # the first row of each encounter
    admit = enc["admit_date"].to_numpy("datetime64[s]").astype(np.int64)
    keep &= (admit >= start) & (admit < start + days * _SEC_DAY)
    enc, admit = enc[keep], admit[keep]
    facility = enc["facility_id"].to_numpy(np.int64)
    # In facility order (then encounter number), so team look-ups walk the sorted staff keys.
    order = np.lexsort((enc["encounter_id"].to_numpy(np.int64), facility))
    enc = enc.iloc[order].reset_index(drop=True)
    enc["facility_id"] = facility[order]
    for column in ("department", "encounter_type"):
        if not isinstance(enc[column].dtype, pd.CategoricalDtype):
            enc[column] = enc[column].astype("string").astype("category")
    # The team that treats it: its department at a hospital, the general practitioners of a
    # primary-care institution.
    enc["team"] = team_departments(enc)
    obs = clinical["observations"]
    labs = obs["encounter_id"][obs["loinc"].isin(LAB_TESTS).to_numpy(bool)]
    enc["has_meds"] = enc["encounter_id"].isin(clinical["medications"]["encounter_id"])
    enc["has_labs"] = enc["encounter_id"].isin(labs)
    enc["day"] = (admit[order] - start) // _SEC_DAY
    los = enc["length_of_stay"].fillna(0).to_numpy(np.int64)
    enc["los"] = np.where(enc["encounter_type"].eq("inpatient"), np.maximum(los, 0), 0)
    return enc


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a diff: faster than a hash for millions)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each ``wanted`` id in ``ids`` (unique), -1 where it is absent."""
    top = int(max(ids.max(initial=0), wanted.max(initial=0)))
    if top < 4 * (len(ids) + len(wanted)) + 1024:  # dense ids: a direct look-up table
        table = np.full(top + 1, -1, np.int64)
        table[ids] = np.arange(len(ids))
        return table[wanted]
    order = np.argsort(ids, kind="stable")
    at = np.minimum(np.searchsorted(ids, wanted, sorter=order), max(len(ids) - 1, 0))
    row = order[at] if len(ids) else np.full(len(wanted), -1)
    return np.where(ids[row] == wanted, row, -1) if len(ids) else row


def _as_category(values: np.ndarray) -> pd.Categorical:
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes, pd.Index(uniques, dtype="string"))


def _codes(departments: pd.Index, values: pd.Series) -> np.ndarray:
    """Codes of ``values`` in ``departments`` (-1 where absent), fast for a categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        table = np.append(departments.get_indexer(values.cat.categories.astype(str)), -1)
        return table[values.cat.codes.to_numpy()]
    return departments.get_indexer(values.to_numpy(object))


def _patients(enc, population, seed) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per (facility, patient), in that order, with the patient's identity and age;
    and the patient index (one row per patient).

    The text columns of the first are categoricals (a few thousand distinct values over
    millions of rows).
    """
    pid = population["person_id"].to_numpy(np.int64)
    treated = _positions(pid, _sorted_unique(enc["person_id"].to_numpy(np.int64)))
    people = population.iloc[np.sort(treated[treated >= 0])]
    ids = surnames_and_streets(people, seed=seed)
    # (facility, person) pairs as one sorted int64 key: unique, in facility then person order.
    pair = _sorted_unique(
        (enc["facility_id"].to_numpy(np.int64) << 32) | enc["person_id"].to_numpy(np.int64)
    )
    person = pair & 0xFFFFFFFF
    row = _positions(people["person_id"].to_numpy(np.int64), person)
    found = row >= 0  # encounters of people outside the population are dropped
    pair, person, row = pair[found], person[found], row[found]
    district = people["district"].astype("category").array
    index = pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(np.int64),
            "surname": pd.array(ids["surname"].to_numpy(object), dtype="string"),
            "district": pd.array(np.asarray(district, dtype=object), dtype="string"),
            "street": pd.array(ids["street"].to_numpy(object), dtype="string"),
        }
    )
    pairs = pd.DataFrame(
        {
            "facility_id": pair >> 32,
            "person_id": person,
            "age": people["age"].to_numpy()[row],
            "district": pd.Categorical.from_codes(district.codes[row], district.categories),
            "province_code": people["province_code"].to_numpy()[row],
            "surname": _as_category(ids["surname"].to_numpy(object)).take(row),
            "street": _as_category(ids["street"].to_numpy(object)).take(row),
        }
    )
    return pairs, index.sort_values("person_id", kind="stable").reset_index(drop=True)


def _care(enc, team, staff, start, rng) -> tuple[_Rows, pd.DataFrame]:
    rows = _Rows()
    f = enc["facility_id"].to_numpy()
    d = _codes(team.departments, enc["team"])
    who = enc["person_id"].to_numpy()
    t_day = start + enc["day"].to_numpy() * _SEC_DAY
    visit = enc["encounter_type"].ne("inpatient").to_numpy(bool)
    emergency = enc["encounter_type"].eq("emergency").to_numpy(bool)
    n = len(enc)
    hour = np.where(emergency, _emergency_hours(rng, n), _clinic_hours(rng, n))
    t0 = t_day + hour
    doctor, _ = team.draw(f, d, "doctor", rng)
    rows.add(doctor, who, t0, 0)
    rows.add(doctor, who, t0 + rng.integers(300, 1200, n), 1)
    nurse, found = team.draw(f, d, "nurse", rng)
    sel = emergency & found
    rows.add(nurse[sel], who[sel], t0[sel] - rng.integers(60, 900, sel.sum()), 0)
    for flag, role, lag in (
        ("has_meds", "pharmacist", (1800, 5400)),
        ("has_labs", "technician", (3600, 10800)),
    ):
        member, found = team.draw(f, team.code(ROLE_DEPARTMENT[role]), role, rng)
        sel = enc[flag].to_numpy() & found
        t = t0[sel] + rng.integers(*lag, sel.sum())
        rows.add(member[sel], who[sel], t, 0)
        if role == "technician":
            rows.add(member[sel], who[sel], t + rng.integers(600, 3600, sel.sum()), 1)
    billing, found = team.draw(f, team.code("finance"), "billing", rng)
    stay = enc["los"].to_numpy()
    t_bill = np.where(
        visit, t0 + rng.integers(1800, 7200, n), t_day + stay * _SEC_DAY + _clock(rng, n, 9, 17)
    )
    rows.add(billing[found], who[found], t_bill[found], 0)
    follow = visit & (rng.random(n) < CARE["follow_up"])
    later = t_day + rng.integers(1, 8, n) * _SEC_DAY + _clock(rng, n, 8, 17.5)
    rows.add(doctor[follow], who[follow], later[follow], 0)

    # Wards: the attending rounds each morning, nurses chart each shift.
    ward = np.flatnonzero(~visit)
    nights = stay[ward] + 1
    idx = np.repeat(ward, nights)
    day_no = np.arange(len(idx)) - np.repeat(np.cumsum(nights) - nights, nights)
    base = t_day[idx] + day_no * _SEC_DAY
    m = len(idx)
    rows.add(doctor[idx], who[idx], base + _clock(rng, m, 8, 11), 0)
    edit = rng.random(m) < 0.5
    rows.add(doctor[idx][edit], who[idx][edit], (base + _clock(rng, m, 11, 17))[edit], 1)
    first, count = team.span(f[ward], d[ward], "nurse")
    first, count = np.repeat(first, nights), np.repeat(count, nights)
    for lo, hi, p in ((8, 16, 1.0), (16, 24, 1.0), (24, 32, CARE["night_chart"])):
        nurse, found = team.pick(first, count, rng)
        sel = found & (rng.random(m) < p)
        t = base + _clock(rng, m, lo, hi)
        rows.add(nurse[sel], who[idx][sel], t[sel], 1 if lo == 16 else 0)
    records, found = team.draw(f[ward], team.code("medical_records"), "records", rng)
    after = t_day[ward] + (stay[ward] + rng.integers(1, 11, len(ward))) * _SEC_DAY
    after = after + _clock(rng, len(ward), 9, 17)
    rows.add(records[found], who[ward][found], after[found], 0)
    for action, key in ((2, "records_print"), (3, "records_export")):
        sel = found & (rng.random(len(ward)) < CARE[key])
        rows.add(
            records[sel], who[ward][sel], after[sel] + rng.integers(60, 3600, sel.sum()), action
        )

    # Consultations (recorded) and colleagues covering without a record (not recorded).
    doctors = staff[staff["role"] == "doctor"]
    doctor_depts = pd.DataFrame(
        {
            "facility_id": doctors["facility_id"].to_numpy(),
            "dept": team.departments.get_indexer(doctors["department"].to_numpy(object)),
        }
    )
    doctor_depts = doctor_depts.drop_duplicates().sort_values(["facility_id", "dept"])
    other = _other_department(doctor_depts, f, d, rng)
    consult = ~visit & (other >= 0) & (rng.random(n) < CARE["consultation"])
    c_day = enc["day"].to_numpy() + np.floor(rng.random(n) * (stay + 1)).astype(np.int64)
    c_doc, _ = team.draw(f[consult], other[consult], "doctor", rng)
    c_time = start + c_day[consult] * _SEC_DAY + _clock(rng, consult.sum(), 9, 17)
    rows.add(c_doc, who[consult], c_time, 0)
    consultations = pd.DataFrame(
        {
            "consultation_id": np.arange(1, consult.sum() + 1, dtype=np.int64),
            "encounter_id": enc["encounter_id"].to_numpy()[consult],
            "person_id": who[consult],
            "facility_id": f[consult],
            "department": pd.array(team.departments[other[consult]], dtype="string"),
            "date": (c_time // _SEC_DAY * _SEC_DAY)
            .astype("datetime64[s]")
            .astype("datetime64[ms]"),
        }
    )
    cover = (other >= 0) & (rng.random(n) < CARE["undocumented"])
    u_doc, _ = team.draw(f[cover], other[cover], "doctor", rng)
    u_day = enc["day"].to_numpy()[cover] + np.floor(rng.random(cover.sum()) * (stay[cover] + 1))
    rows.add(
        u_doc,
        who[cover],
        start + u_day.astype(np.int64) * _SEC_DAY + _clock(rng, cover.sum(), 8, 18),
        0,
    )
    return rows, consultations


def _other_department(doctor_depts, f, d, rng) -> np.ndarray:
    """A random other doctor department code of the same facility (-1 where there is none)."""
    keys = doctor_depts["facility_id"].to_numpy()
    codes = doctor_depts["dept"].to_numpy()
    lo, hi = np.searchsorted(keys, f, "left"), np.searchsorted(keys, f, "right")
    count = hi - lo
    if len(codes) == 0:
        return np.full(len(f), -1)
    choice = np.full(len(f), -1)
    for _ in range(2):  # draw again once where it hit the encounter's own department
        pick = lo + np.floor(rng.random(len(f)) * np.maximum(count, 1)).astype(np.int64)
        draw = codes[np.minimum(pick, len(codes) - 1)]
        choice = np.where((choice < 0) | (choice == d), draw, choice)
    return np.where((count > 1) & (choice != d), choice, -1)


def _workstations(staff, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """One workstation per two employees of a department (at least one); each employee's own."""
    teams = staff.groupby(["facility_id", "department"], observed=True).size().rename("n")
    teams = teams.reset_index()
    count = np.maximum(1, teams["n"].to_numpy() // 2)
    ws = teams.loc[teams.index.repeat(count), ["facility_id", "department"]].reset_index(drop=True)
    ws.insert(0, "workstation_id", np.arange(1, len(ws) + 1, dtype=np.int64))
    # Rows of one (facility, department) are adjacent and in key order, in both tables.
    codes = pd.Index(sorted(set(ws["department"].unique())))
    key = (ws["facility_id"].to_numpy(np.int64) << 8) | codes.get_indexer(ws["department"])
    own = (staff["facility_id"].to_numpy(np.int64) << 8) | codes.get_indexer(staff["department"])
    order = np.argsort(key, kind="stable")
    home = ws["workstation_id"].to_numpy()[order][pick_in_groups(key[order], own, rng)]
    return ws, home


def _prominent(patients, staff, rng) -> np.ndarray:
    """Prominent patients, 2 per 10,000 (at least 2): public figures are treated where the
    teams are large, so a patient is drawn in proportion to the staff of their facility."""
    people = patients["person_id"].to_numpy()
    n_people = len(_sorted_unique(people))
    want = min(max(2, round(PROMINENT_SHARE * n_people)), n_people)
    if want == 0:
        return np.zeros(0, np.int64)
    heads = staff.groupby("facility_id").size()
    weight = heads.reindex(patients["facility_id"].to_numpy(), fill_value=0).to_numpy(float)
    weight = weight + 1e-9  # patients of facilities without staff of their own stay possible
    # Weighted draws without replacement (Efraimidis and Spirakis): the smallest keys
    # exponential / weight; a patient of several facilities counts once.
    key = rng.exponential(size=len(people)) / weight
    draws = min(len(people), 4 * want)
    first = np.argpartition(key, draws - 1)[:draws]
    first = first[np.argsort(key[first], kind="stable")]
    chosen = pd.unique(people[first])[:want]
    return np.sort(chosen).astype(np.int64)


def make_access_log(
    clinical,
    *,
    population: pd.DataFrame,
    staff: pd.DataFrame | None = None,
    days: int = 365,
    misuse: Mapping[str, float] | None = None,
    progress=None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Access logs of the facilities' record systems, with injected misuse and its truth.

    See the module notes for the generative story.

    Parameters
    ----------
    clinical : mapping of str to pandas.DataFrame
        The clinical records (``encounters`` with ``facility_id``, ``medications``,
        ``observations``), for example a loaded ``clinical`` dataset.
    population : pandas.DataFrame
        The population the records belong to (for names, homes and ages).
    staff : pandas.DataFrame, optional
        A staff table of your own (the columns of the ``staff`` table below); by default one
        is made, sized to each facility's workload.
    days : int
        Days of log from 1 January of the records' year (1 to 366).
    misuse : mapping of str to float, optional
        Rates overriding :data:`MISUSE` (same keys).
    progress : callable, optional
        Called as ``progress(done, total)`` after each step.
    seed : int
        Seed of the random draws.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``staff``, ``workstations``, ``accesses`` (``access_id``, ``time``, ``staff_id``,
        ``person_id``, ``action``, ``workstation_id``, ``facility_id``), ``consultations``,
        ``patients`` (the patient index: ``person_id``, ``surname``, ``district``, ``street``),
        ``prominent`` (the patients the hospital flags as prominent) and ``truth`` (one row per
        misuse access: ``access_id``, ``kind``, ``incident``); ``rates`` gives each kind's
        eligible and committed counts.

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = make_access_log(records, population=people, days=90, seed=3)
    >>> sorted(log)  # doctest: +NORMALIZE_WHITESPACE
    ['accesses', 'consultations', 'patients', 'prominent', 'rates', 'staff', 'truth',
     'workstations']
    >>> bool(log["truth"]["access_id"].isin(log["accesses"]["access_id"]).all())
    True
    """
    seed = check_seed(seed)
    clinical, rates = _check(clinical, population, days, misuse)
    steps, done = 13, 0

    def step():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    # The log starts on 1 January of the records' year (a few admission dates are miscoded
    # by the records' mess, so the earliest date is not the period's start).
    year = pd.Timestamp(clinical["encounters"]["admit_date"].median()).year
    start = int(pd.Timestamp(year=year, month=1, day=1).as_unit("s").value // 10**9)
    enc = _encounters(clinical, start, days)
    step()
    patients, index = _patients(enc, population, seed)
    step()
    rng = block_rng(seed, "access_log/staff", 0)
    if staff is None:
        staff = make_staff(enc, patients, people=len(population), rng=rng)
        leaving = rng.random(len(staff)) < LEAVER_SHARE * days / 365
        leave_day = rng.integers(14, max(days, 15), len(staff))
        leave = pd.Series(pd.NaT, index=staff.index, dtype="datetime64[ms]")
        leave[leaving] = pd.to_datetime(start + leave_day[leaving] * _SEC_DAY, unit="s")
        staff["leave_date"] = leave
    step()
    staff = staff.sort_values("staff_id").reset_index(drop=True)
    workstations, home = _workstations(staff, rng)
    staff["workstation_id"] = home
    departments = pd.Index(
        sorted(set(staff["department"].unique()) | set(enc["team"].dropna().unique()))
    )
    team = _Team(staff, departments)
    step()

    rows, consultations = _care(enc, team, staff, start, block_rng(seed, "access_log/care", 0))
    step()
    rng = block_rng(seed, "access_log/misuse", 0)
    vip = _prominent(patients, staff, rng)
    realised, incident = {}, 0
    for kind, columns in (("surname", ["surname"]), ("neighbour", ["district", "street"])):
        realised[kind], incident = _mis.curiosity(
            rows, staff, patients, rates[kind], columns, kind, start, days, rng, incident
        )
        step()
    realised["coworker"], incident = _mis.coworkers(
        rows, staff, rates["coworker"], start, days, rng, incident
    )
    step()
    realised["prominent"], incident = _mis.prominent(
        rows, staff, patients, vip, rates["prominent"], start, days, rng, incident
    )
    step()
    realised["leaver"], incident = _mis.leavers(
        rows, staff, patients, rates["leaver"], start, rng, incident
    )
    step()
    realised["credential"], incident = _mis.credentials(
        rows, staff, patients, workstations, rates["credential"], start, days, rng, incident
    )
    step()

    cols, misuse_rows = rows.columns()
    end = start + days * _SEC_DAY
    kept = np.flatnonzero((cols["time"] >= start) & (cols["time"] < end))
    # In time order, then by employee (then as drawn): one int64 key where the period's
    # seconds and the staff numbers fit in it, which sorts far faster than three keys.
    t, sid = cols["time"][kept] - start, cols["staff_id"][kept]
    if len(kept) and int(sid.max()) < 2**30:
        order = kept[np.argsort((t << 30) | sid, kind="stable")]
    else:
        order = kept[np.lexsort((sid, t))]
    del t, sid, kept
    log = {k: v[order] for k, v in cols.items()}
    del cols
    step()
    log["access_id"] = np.arange(1, len(order) + 1, dtype=np.int64)
    # Where each misuse row went (rows outside the period are dropped).
    at = np.full(rows.n, -1, np.int64)
    at[order] = np.arange(len(order))
    where = at[misuse_rows["row"]] if len(misuse_rows) else np.zeros(0, np.int64)
    del at
    keep = where >= 0
    where = where[keep]
    misuse_rows = {k: v[keep] for k, v in misuse_rows.items()}
    # Workstations: the employee's own, sometimes another of the facility (roaming).
    # A staff table of one's own may number its staff any way; look rows up by position.
    ids = staff["staff_id"].to_numpy()
    row = log["staff_id"] - 1
    if not (len(ids) and ids[0] == 1 and (np.diff(ids) == 1).all()):
        row = np.searchsorted(ids, log["staff_id"])
    station = staff["workstation_id"].to_numpy()[row]
    facility = staff["facility_id"].to_numpy()[row]
    del row
    rng = block_rng(seed, "access_log/workstations", 0)
    ws_fac = workstations["facility_id"].to_numpy()
    roam = np.flatnonzero(rng.random(len(order)) < CARE["roaming"])
    pick = pick_in_groups(ws_fac, facility[roam], rng)
    station[roam] = workstations["workstation_id"].to_numpy()[pick]
    given = misuse_rows["workstation_id"] > 0 if len(where) else np.zeros(0, bool)
    station[where[given]] = misuse_rows["workstation_id"][given]
    bad = misuse_rows["kind"] > 0 if len(where) else np.zeros(0, bool)
    first = np.argsort(where[bad], kind="stable")
    truth = pd.DataFrame(
        {
            "access_id": log["access_id"][where[bad][first]],
            "kind": pd.array(
                np.asarray(KINDS, object)[misuse_rows["kind"][bad][first]], dtype="string"
            ),
            "incident": misuse_rows["incident"][bad][first],
        }
    )
    accesses = pd.DataFrame(
        {
            "access_id": log["access_id"],
            "time": log["time"].astype("datetime64[s]"),
            "staff_id": log["staff_id"],
            "person_id": log["person_id"],
            "action": pd.Categorical.from_codes(log["action"], categories=list(ACTIONS)),
            "workstation_id": station.astype(np.int64),
            "facility_id": facility.astype(np.int64),
        }
    )
    step()
    return {
        "staff": staff,
        "workstations": workstations,
        "accesses": accesses,
        "consultations": consultations,
        "patients": index,
        "prominent": pd.DataFrame({"person_id": vip.astype(np.int64)}),
        "truth": truth.reset_index(drop=True),
        "rates": pd.DataFrame(
            [
                {
                    "kind": k,
                    "rate": rates[k],
                    "eligible": v["eligible"],
                    "committed": v["committed"],
                }
                for k, v in realised.items()
            ]
        ),
    }
