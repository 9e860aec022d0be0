"""Code systems of the hospital systems: diagnoses and lab items, and their units.

Diagnoses are known by ICD-10 category (three characters). For each category the table gives
the Chinese name, the code of the fictional local code list of the Central Hospital, and the
ways a county clerk writes it in free text. A category not in the table is still carried: the
national edition pads it, the local list prefixes ``X``, and free text writes ``其他疾病`` and
the code. Lab items are known by LOINC code, with the Chinese name, a local test code, the SI
unit and the factor to the conventional unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# ICD-10 category: (Chinese name, local code, free-text variants separated by "|")
DIAGNOSES = {
    "I10": ("原发性高血压", "HTN01", "高血压|原发性高血压|高血压病"),
    "I11": ("高血压性心脏病", "HTN02", "高血压性心脏病|高心病"),
    "E11": ("2型糖尿病", "DM02", "2型糖尿病|糖尿病|II型糖尿病|糖尿病2型"),
    "E10": ("1型糖尿病", "DM01", "1型糖尿病|I型糖尿病"),
    "E78": ("高脂血症", "LIP01", "高脂血症|血脂异常|高血脂"),
    "J44": ("慢性阻塞性肺疾病", "COPD1", "慢性阻塞性肺疾病|慢阻肺|COPD"),
    "J45": ("哮喘", "RESP5", "哮喘|支气管哮喘"),
    "J18": ("肺炎", "RESP1", "肺炎|社区获得性肺炎"),
    "J06": ("急性上呼吸道感染", "RESP2", "上呼吸道感染|上感|急性上呼吸道感染"),
    "J20": ("急性支气管炎", "RESP3", "急性支气管炎|支气管炎"),
    "I20": ("心绞痛", "IHD01", "心绞痛"),
    "I21": ("急性心肌梗死", "IHD02", "急性心肌梗死|心梗|急性心梗"),
    "I25": ("慢性缺血性心脏病", "IHD03", "冠心病|冠状动脉粥样硬化性心脏病|慢性缺血性心脏病"),
    "I50": ("心力衰竭", "HF01", "心力衰竭|心衰"),
    "I48": ("心房颤动", "AF01", "心房颤动|房颤"),
    "I63": ("脑梗死", "STK01", "脑梗死|脑梗|缺血性脑卒中"),
    "I61": ("脑出血", "STK02", "脑出血|脑溢血"),
    "I64": ("脑卒中", "STK03", "脑卒中|中风"),
    "I69": ("脑血管病后遗症", "STK04", "脑血管病后遗症|脑梗后遗症"),
    "N18": ("慢性肾脏病", "CKD01", "慢性肾脏病|慢性肾病|CKD"),
    "F03": ("痴呆", "DEM01", "痴呆|老年痴呆"),
    "F00": ("阿尔茨海默病性痴呆", "DEM02", "阿尔茨海默病|老年痴呆症"),
    "G30": ("阿尔茨海默病", "DEM03", "阿尔茨海默病"),
    "C34": ("肺恶性肿瘤", "CA034", "肺癌|肺恶性肿瘤"),
    "C16": ("胃恶性肿瘤", "CA016", "胃癌|胃恶性肿瘤"),
    "C22": ("肝恶性肿瘤", "CA022", "肝癌|原发性肝癌"),
    "C18": ("结肠恶性肿瘤", "CA018", "结肠癌"),
    "C15": ("食管恶性肿瘤", "CA015", "食管癌"),
    "C50": ("乳腺恶性肿瘤", "CA050", "乳腺癌"),
    "C20": ("直肠恶性肿瘤", "CA020", "直肠癌"),
    "C25": ("胰腺恶性肿瘤", "CA025", "胰腺癌"),
    "C53": ("宫颈恶性肿瘤", "CA053", "宫颈癌"),
    "C61": ("前列腺恶性肿瘤", "CA061", "前列腺癌"),
    "C71": ("脑恶性肿瘤", "CA071", "脑瘤|脑恶性肿瘤"),
    "C73": ("甲状腺恶性肿瘤", "CA073", "甲状腺癌"),
    "C95": ("白血病", "CA095", "白血病"),
    "K29": ("胃炎", "GI01", "胃炎|慢性胃炎"),
    "K35": ("急性阑尾炎", "GI02", "急性阑尾炎|阑尾炎"),
    "K80": ("胆石症", "GI03", "胆结石|胆石症"),
    "A09": ("感染性腹泻", "GI04", "腹泻|感染性腹泻|急性肠胃炎"),
    "N39": ("泌尿道感染", "URO1", "尿路感染|泌尿道感染"),
    "M54": ("背痛", "MSK1", "腰背痛|背痛"),
    "M17": ("膝关节病", "MSK2", "膝骨关节炎|膝关节病"),
    "S72": ("股骨骨折", "INJ1", "股骨骨折"),
    "S06": ("颅内损伤", "INJ2", "颅脑损伤|脑外伤"),
    "S93": ("踝关节扭伤", "INJ3", "踝关节扭伤|崴脚|踝扭伤"),
    "Z34": ("正常妊娠监督", "OB02", "孕检|正常妊娠监督|产前检查"),
    "O80": ("单胎顺产", "OB01", "顺产|单胎顺产"),
    "O82": ("剖宫产单胎分娩", "OB03", "剖宫产|剖腹产"),
    "O90": ("产褥期并发症", "OB04", "产褥期并发症"),
    "A41": ("败血症", "INF01", "败血症|脓毒症"),
    "Z00": ("健康检查", "CHK01", "体检|健康检查"),
    "U07": ("新型冠状病毒感染", "COV01", "新冠|新型冠状病毒感染|COVID-19"),
}

# LOINC: (Chinese name, Chinese variants "|", local code, SI unit, conventional unit, factor)
LABS = {
    "2345-7": ("葡萄糖", "血糖|葡萄糖|GLU", "GLU", "mmol/L", "mg/dL", 18.016),
    "1558-6": ("空腹血糖", "空腹血糖|空腹葡萄糖|FBG", "FBG", "mmol/L", "mg/dL", 18.016),
    "4548-4": ("糖化血红蛋白", "糖化血红蛋白|HbA1c|糖化", "HBA1C", "%", "%", 1.0),
    "2093-3": ("总胆固醇", "总胆固醇|胆固醇|TC", "CHOL", "mmol/L", "mg/dL", 38.67),
    "2571-8": ("甘油三酯", "甘油三酯|TG", "TRIG", "mmol/L", "mg/dL", 88.57),
    "13457-7": ("低密度脂蛋白胆固醇", "低密度脂蛋白|LDL-C", "LDL", "mmol/L", "mg/dL", 38.67),
    "2085-9": ("高密度脂蛋白胆固醇", "高密度脂蛋白|HDL-C", "HDL", "mmol/L", "mg/dL", 38.67),
    "2160-0": ("肌酐", "肌酐|血肌酐|Cr", "CREA", "umol/L", "mg/dL", 1 / 88.4),
    "14682-9": ("肌酐", "肌酐|血肌酐|Cr", "CREA", "umol/L", "mg/dL", 1 / 88.4),
    "62238-1": ("估算肾小球滤过率", "eGFR|估算肾小球滤过率|肾小球滤过率", "EGFR",
                "mL/min/{1.73_m2}", "mL/min/1.73m2", 1.0),
    "9318-7": ("尿微量白蛋白/肌酐比值", "尿微量白蛋白/肌酐|UACR|尿白蛋白肌酐比", "UACR",
               "mg/g", "mg/g", 1.0),
    "718-7": ("血红蛋白", "血红蛋白|Hb|HGB", "HGB", "g/L", "g/dL", 0.1),
    "8480-6": ("收缩压", "收缩压|高压", "SBP", "mmHg", "mmHg", 1.0),
    "8462-4": ("舒张压", "舒张压|低压", "DBP", "mmHg", "mmHg", 1.0),
    "39156-5": ("体重指数", "体重指数|BMI", "BMI", "kg/m2", "kg/m2", 1.0),
    "29463-7": ("体重", "体重", "WT", "kg", "kg", 1.0),
    "8302-2": ("身高", "身高", "HT", "cm", "cm", 1.0),
    "8867-4": ("心率", "心率|脉搏", "HR", "/min", "/min", 1.0),
}  # fmt: skip

_UNIT_ALIASES = {"mmol/l": "mmol/L", "umol/l": "umol/L", "µmol/l": "umol/L", "μmol/l": "umol/L",
                 "g/l": "g/L", "mm[hg]": "mmHg", "mmhg": "mmHg", "kg/m2": "kg/m2",
                 "kg/m^2": "kg/m2", "%": "%", "kg": "kg", "cm": "cm", "/min": "/min",
                 "{beats}/min": "/min", "bpm": "/min", "mg/dl": "mg/dL",
                 "g/dl": "g/dL"}  # fmt: skip


def _pick_variant(keys: pd.Series, variants: pd.Series, rng) -> np.ndarray:
    """One of the ``|``-separated variants of each key, chosen at random (vocabulary-sized work).

    Keys without variants get ``None``.
    """
    table = variants.str.split("|").explode()
    codes, uniques = pd.factorize(keys)
    pos = pd.Index(table.index.unique()).get_indexer(uniques)
    counts = table.groupby(level=0, sort=False).size()
    starts = np.concatenate([[0], np.cumsum(counts.to_numpy())[:-1]])
    flat = table.to_numpy(object)
    key_pos = np.where(codes >= 0, pos[np.maximum(codes, 0)], -1) if len(uniques) else codes
    n = np.where(key_pos >= 0, counts.to_numpy()[np.maximum(key_pos, 0)], 1)
    pick = (rng.random(len(keys)) * n).astype(int)
    chosen = flat[np.where(key_pos >= 0, starts[np.maximum(key_pos, 0)] + pick, 0)]
    return np.where(key_pos >= 0, chosen, None)


def normal_unit(units: pd.Series) -> pd.Series:
    """Units in one spelling (``mmol/l`` and ``mmol/L`` are the same unit)."""
    u = units.astype("string").str.strip()
    return u.str.lower().map(_UNIT_ALIASES).fillna(u)


def diagnosis_codes(icd: pd.Series, style: str, rng: np.random.Generator) -> pd.DataFrame:
    """The code and name a system writes for each ICD-10 code, by its ``style``."""
    icd = icd.astype("string").str.strip().str.upper().fillna("")
    cat = icd.str[:3]
    table = pd.DataFrame.from_dict(DIAGNOSES, orient="index", columns=["zh", "local", "free"])
    known = cat.isin(table.index).to_numpy()
    zh = cat.map(table["zh"]).fillna("其他疾病").to_numpy(object)
    if style == "icd10_national":
        sub = icd.str[3:].str.replace(".", "", regex=False)
        code = cat + "." + sub.where(sub != "", "x").str.pad(3, side="right", fillchar="0")
        return pd.DataFrame({"code": code.to_numpy(object), "name": zh})
    if style == "icd10_who":
        return pd.DataFrame({"code": icd.to_numpy(object), "name": zh})
    if style == "local":
        local = cat.map(table["local"]).fillna("X" + icd.str.replace(".", "", regex=False))
        return pd.DataFrame({"code": local.to_numpy(object), "name": zh})
    # free text: one of the variants, or "其他疾病" and the code
    text = _pick_variant(cat, table["free"], rng)
    text = np.where(known, text, "其他疾病" + icd.to_numpy(object))
    return pd.DataFrame({"code": None, "name": text})


def lab_items(loinc: pd.Series, unit: pd.Series, value: pd.Series, style: str, units: str, rng):
    """Item name or code, value and unit as a system writes them.

    Values are converted to conventional units only where the record is in the SI unit the
    table expects; a record in another unit keeps its value and unit.
    """
    loinc = loinc.astype("string").str.strip()
    table = pd.DataFrame.from_dict(
        LABS, orient="index", columns=["zh", "variants", "local", "si", "conv", "factor"]
    )
    unit_n = normal_unit(unit).fillna("")
    si = loinc.map(table["si"])
    expected = (unit_n == si).fillna(False).to_numpy(bool)
    val = pd.to_numeric(value, errors="coerce").to_numpy(float)
    out_unit = unit_n.to_numpy(object)
    if units == "conventional":
        factor = loinc.map(table["factor"]).fillna(1.0).to_numpy(float)
        val = np.where(expected, val * factor, val)
        out_unit = np.where(expected, loinc.map(table["conv"]).to_numpy(object), out_unit)
    val = np.round(val, 2)
    if style == "local":
        item = loinc.map(table["local"]).fillna("L" + loinc)
    elif style == "zh":
        item = loinc.map(table["zh"]).fillna(loinc)
    else:
        chosen = _pick_variant(loinc, table["variants"], rng)
        item = pd.Series(np.where(pd.isna(chosen), loinc.to_numpy(object), chosen), dtype=object)
    return pd.DataFrame({"item": item.to_numpy(object), "value": val, "unit": out_unit})
