"""The schemas of the hospital information systems: names, formats, code systems and units.

Each profile is data, not code: the table and column names of each of the four logical tables
(patients, encounters, diagnoses, labs), how names, sexes, dates, encounter kinds, diagnoses,
lab items and units are written, and the SQLite type and meaning of every column. The data
dictionary in the ``hospital_systems`` card is this module written out.
"""

from __future__ import annotations

#: Logical columns of each logical table, in order.
LOGICAL = {
    "patients": ("local_id", "name", "sex", "birth_date", "resident_id", "phone", "address"),
    "encounters": ("encounter_id", "local_id", "date", "kind"),
    "diagnoses": ("encounter_id", "code", "name"),
    "labs": ("encounter_id", "item", "value", "unit"),
}

#: The system profiles, in the order systems are made (``n_systems`` takes the first n).
PROFILES = (
    {
        "name": "renmin",
        "title": "City People's Hospital (市人民医院): Chinese names, ICD-10 national clinical "
        "edition, SI units",
        "share": 0.40,
        "id_format": "RM{:08d}",
        "encounter_format": "JZ{:010d}",
        "script": "characters",
        "address": "characters",
        "sex": {"F": "女", "M": "男"},
        "kind": {"outpatient": "门诊", "emergency": "急诊", "inpatient": "住院"},
        "birth_date": "%Y-%m-%d",
        "date": "%Y-%m-%d",
        "diagnosis": "icd10_national",
        "lab": "zh",
        "units": "si",
        "tables": {
            "patients": ("患者信息", ("患者ID", "姓名", "性别", "出生日期", "身份证号", "联系电话",
                                      "家庭住址")),
            "encounters": ("就诊记录", ("就诊ID", "患者ID", "就诊日期", "就诊类型")),
            "diagnoses": ("诊断记录", ("就诊ID", "诊断编码", "诊断名称")),
            "labs": ("检验结果", ("就诊ID", "检验项目", "结果", "单位")),
        },
    },
    {
        "name": "zhongxin",
        "title": "Central Hospital: English names, pinyin patient names, a local diagnosis code "
        "list, US conventional units (glucose and lipids in mg/dL)",
        "share": 0.30,
        "id_format": "{:07d}",
        "encounter_format": "V{:09d}",
        "script": "pinyin",
        "address": "pinyin",
        "sex": {"F": "F", "M": "M"},
        "kind": {"outpatient": "OP", "emergency": "ER", "inpatient": "IP"},
        "birth_date": "%m/%d/%Y",
        "date": "%Y-%m-%dT00:00:00",
        "diagnosis": "local",
        "lab": "local",
        "units": "conventional",
        "tables": {
            "patients": ("patients", ("patient_no", "full_name", "gender", "dob", "id_card_no",
                                      "mobile", "home_address")),
            "encounters": ("visits", ("visit_no", "patient_no", "visit_date", "visit_class")),
            "diagnoses": ("diagnoses", ("visit_no", "dx_code", None)),
            "labs": ("lab_results", ("visit_no", "test_code", "result_value", "result_unit")),
        },
    },
    {
        "name": "xianyi",
        "title": "County Hospital (县医院): pinyin table and column names, free-text diagnoses, "
        "results stored as text",
        "share": 0.20,
        "id_format": "BR{:09d}",
        "encounter_format": "{:012d}",
        "script": "characters",
        "address": "characters",
        "sex": {"F": "2", "M": "1"},
        "kind": {"outpatient": "门诊", "emergency": "急诊", "inpatient": "住院"},
        "birth_date": "%Y%m%d",
        "date": "zh_long",
        "diagnosis": "free_text",
        "lab": "zh_variant",
        "units": "si",
        "tables": {
            "patients": ("bingren", ("bingren_bh", "xingming", "xingbie", "chusheng_rq", "sfzh",
                                     "lianxi_dh", "zhuzhi")),
            "encounters": ("jiuzhen", ("jiuzhen_bh", "bingren_bh", "jiuzhen_rq", "jiuzhen_lb")),
            "diagnoses": ("zhenduan", ("jiuzhen_bh", None, "zhenduan_mc")),
            "labs": ("jianyan", ("jiuzhen_bh", "xiangmu_mc", "jieguo", "danwei")),
        },
    },
    {
        "name": "shequ",
        "title": "Community Health Centre (社区卫生服务中心): pinyin-initial column names, WHO "
        "ICD-10 codes, slash dates",
        "share": 0.10,
        "id_format": "SQ-{:06d}",
        "encounter_format": "SQJZ{:08d}",
        "script": "characters",
        "address": "characters",
        "sex": {"F": "F", "M": "M"},
        "kind": {"outpatient": "MZ", "emergency": "JZ", "inpatient": "ZY"},
        "birth_date": "%Y/%m/%d",
        "date": "%Y/%m/%d",
        "diagnosis": "icd10_who",
        "lab": "zh",
        "units": "si",
        "tables": {
            "patients": ("hzxx", ("hzid", "xm", "xb", "csrq", "sfzh", "lxdh", "jtzz")),
            "encounters": ("jzjl", ("jzid", "hzid", "jzrq", "jzlx")),
            "diagnoses": ("zdjl", ("jzid", "zdbm", "zdmc")),
            "labs": ("jyjg", ("jzid", "jyxm", "jg", "dw")),
        },
    },
)  # fmt: skip

#: SQLite type and description of each logical column (the data dictionary's meaning).
COLUMN_DOC = {
    ("patients", "local_id"): ("TEXT", "the system's own patient number (primary key)"),
    ("patients", "name"): ("TEXT", "patient name, as registered by the clerk"),
    ("patients", "sex"): ("TEXT", "sex"),
    ("patients", "birth_date"): ("TEXT", "date of birth"),
    ("patients", "resident_id"): ("TEXT", "18-character resident id number; may be missing"),
    ("patients", "phone"): ("TEXT", "contact phone; may be missing"),
    ("patients", "address"): ("TEXT", "home address at registration"),
    ("encounters", "encounter_id"): ("TEXT", "the system's own encounter number (primary key)"),
    ("encounters", "local_id"): ("TEXT", "patient number (foreign key to the patient table)"),
    ("encounters", "date"): ("TEXT", "date of the visit or admission"),
    ("encounters", "kind"): ("TEXT", "outpatient, emergency or inpatient"),
    ("diagnoses", "encounter_id"): ("TEXT", "encounter number"),
    ("diagnoses", "code"): ("TEXT", "diagnosis code"),
    ("diagnoses", "name"): ("TEXT", "diagnosis name"),
    ("labs", "encounter_id"): ("TEXT", "encounter number"),
    ("labs", "item"): ("TEXT", "test or measurement"),
    ("labs", "value"): ("REAL", "result"),
    ("labs", "unit"): ("TEXT", "unit of the result"),
}

_DATE_WORDS = {
    "%Y-%m-%d": "YYYY-MM-DD",
    "%m/%d/%Y": "MM/DD/YYYY",
    "%Y-%m-%dT00:00:00": "ISO 8601 timestamp, time always 00:00:00",
    "%Y%m%d": "YYYYMMDD",
    "%Y/%m/%d": "YYYY/MM/DD",
    "zh_long": "YYYY年M月D日 (no leading zeros)",
}
_CODE_WORDS = {
    "icd10_national": "ICD-10 national clinical edition (six characters, e.g. E11.900; "
    "three-character categories as I10.x00)",
    "icd10_who": "WHO ICD-10 at four characters where known (e.g. E11.9)",
    "local": "the hospital's own diagnosis code list (see the codes table)",
    "free_text": "",
}
_LAB_WORDS = {
    "zh": "Chinese test name",
    "local": "the laboratory's own test code (see the codes table)",
    "zh_variant": "Chinese test name, with the spellings clerks use",
}


def dictionary(profile: dict) -> list[dict]:
    """The data dictionary of one system: one entry per column of its tables."""
    rows = []
    for logical, (table, cols) in profile["tables"].items():
        for key, col in zip(LOGICAL[logical], cols, strict=True):
            if col is None:
                continue
            sqltype, meaning = COLUMN_DOC[(logical, key)]
            if (logical, key) == ("labs", "value") and profile["name"] == "xianyi":
                sqltype, meaning = "TEXT", "result, written as text"
            note = ""
            if key == "sex":
                note = ", ".join(
                    f"{v} = {'female' if k == 'F' else 'male'}" for k, v in profile["sex"].items()
                )
            elif key == "kind":
                note = ", ".join(f"{v} = {k}" for k, v in profile["kind"].items())
            elif key == "birth_date":
                note = _DATE_WORDS[profile["birth_date"]]
            elif key == "date":
                note = _DATE_WORDS[profile["date"]]
            elif logical == "diagnoses" and key == "code":
                note = _CODE_WORDS[profile["diagnosis"]]
            elif logical == "diagnoses" and key == "name" and profile["diagnosis"] == "free_text":
                meaning = "diagnosis as written by the doctor (free text, no code)"
            elif key == "item":
                note = _LAB_WORDS[profile["lab"]]
            elif key == "unit":
                note = (
                    "SI units (mmol/L)"
                    if profile["units"] == "si"
                    else "conventional units (mg/dL)"
                )
            elif key == "name" and logical == "patients":
                note = (
                    "Chinese characters"
                    if profile["script"] == "characters"
                    else "pinyin, surname in capitals"
                )
            elif key == "address":
                note = "Chinese" if profile["address"] == "characters" else "pinyin, English order"
            rows.append(
                {"system": profile["name"], "table": table, "column": col, "type": sqltype,
                 "description": meaning + (f"; {note}" if note else "")}
            )  # fmt: skip
    return rows
