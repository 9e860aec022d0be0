"""Every parameter of the population and clinical models, in one place, with its source.

Figures read from ``healthlab/data/china.yaml`` are not repeated here: :mod:`._model` reads
them. What is here is either a public figure that file lacks (the source beside it, graded
``secondary`` when read from a reprint or a recollection of the published table, to be
checked against the original) or an *assumption*: a value chosen to give a plausible shape,
said so, and documented in the dataset cards. Nothing here is drawn at random.
"""

from __future__ import annotations

#: Years the population can be made for (those with a life expectancy and a structure).
YEARS = (2020, 2021, 2022, 2023, 2024)

# --------------------------------------------------------------------------- age and sex

#: Upper open age: people are aged 0 to ``MAX_AGE`` (the group "100 and over" spans 100-104).
MAX_AGE = 104

#: Population by five-year age group, 2020 census (millions; last group 100+). Grade:
#: secondary (the shape of the 2020 census tabulation by five-year group, rounded). Used only for
#: the shape within the bands: the bands 0-14, 15-59, 60-64 and 65+ are rescaled to the
#: communique's counts in china.yaml (census_2020.age_counts), which hold exactly.
AGE_GROUPS_2020_MILLION = (
    77.88, 90.24, 85.26, 72.68, 74.94, 91.85, 124.14, 99.01, 93.30, 114.22, 121.16,
    101.40, 73.38, 74.01, 49.59, 31.24, 20.38, 11.14, 3.98, 0.88, 0.12,
)  # fmt: skip

#: Males per 100 females by five-year group, 2020 census shape (secondary); rescaled so that
#: the whole population has the year's sex ratio (census 105.07 in 2020).
SEX_RATIO_BY_GROUP_2020 = (
    110.8, 113.6, 116.2, 116.0, 112.2, 106.8, 105.3, 105.6, 105.2, 103.9, 102.9,
    101.8, 100.6, 98.1, 96.6, 92.3, 84.2, 72.5, 58.9, 47.3, 33.0,
)  # fmt: skip

#: Births (10,000s) by year, for ageing the 2020 structure forward. 2022-2024 are in
#: china.yaml; 2021: NBS 2021 communique, 1,062 (secondary).
BIRTHS_10K = {2020: 1202, 2021: 1062}

#: Sex ratio, urban share, and shares aged 60+ and 65+ for 2021 (NBS communique 2021,
#: secondary: 104.88, 64.72%, 18.9%, 14.2%); 2022-2024 come from china.yaml.
YEAR_END_2021 = {"sex_ratio": 104.88, "urban_pct": 64.72, "share_60plus_pct": 18.9,
                 "share_65plus_pct": 14.2}  # fmt: skip

#: Life expectancy 2022: not published in the bulletins read; interpolated between 2021 (78.2)
#: and 2023 (78.6). Assumption.
LIFE_EXPECTANCY_2022 = 78.4

#: Share aged 65 and over by province, 2020 census, communique No. 5 table 5-2 (%). The seven
#: rows in china.yaml are primary; the others are read from reprints of the table (secondary).
#: For later years every province moves by the national change (assumption).
PROVINCE_65PLUS_2020 = {
    "Beijing": 13.30, "Tianjin": 14.75, "Hebei": 13.92, "Shanxi": 12.90,
    "Inner Mongolia": 13.05, "Liaoning": 17.42, "Jilin": 15.61, "Heilongjiang": 15.61,
    "Shanghai": 16.28, "Jiangsu": 16.20, "Zhejiang": 13.27, "Anhui": 15.01, "Fujian": 11.10,
    "Jiangxi": 11.89, "Shandong": 15.13, "Henan": 13.49, "Hubei": 14.59, "Hunan": 14.81,
    "Guangdong": 8.58, "Guangxi": 12.20, "Hainan": 10.43, "Chongqing": 17.08,
    "Sichuan": 16.93, "Guizhou": 11.56, "Yunnan": 10.75, "Tibet": 5.67, "Shaanxi": 13.32,
    "Gansu": 12.58, "Qinghai": 8.68, "Ningxia": 9.62, "Xinjiang": 7.76,
}  # fmt: skip

#: Urban share by province, 2020 census (%), secondary (reprints of communique No. 7). Rescaled
#: on the logit scale so that the national share is the year's figure.
PROVINCE_URBAN_2020 = {
    "Beijing": 87.5, "Tianjin": 84.7, "Hebei": 60.1, "Shanxi": 62.5, "Inner Mongolia": 67.5,
    "Liaoning": 72.1, "Jilin": 62.6, "Heilongjiang": 65.6, "Shanghai": 89.3, "Jiangsu": 73.4,
    "Zhejiang": 72.2, "Anhui": 58.3, "Fujian": 68.8, "Jiangxi": 60.4, "Shandong": 63.1,
    "Henan": 55.4, "Hubei": 62.9, "Hunan": 58.8, "Guangdong": 74.2, "Guangxi": 54.2,
    "Hainan": 60.3, "Chongqing": 69.5, "Sichuan": 56.7, "Guizhou": 53.2, "Yunnan": 50.1,
    "Tibet": 35.7, "Shaanxi": 62.7, "Gansu": 52.2, "Qinghai": 60.1, "Ningxia": 65.0,
    "Xinjiang": 56.5,
}  # fmt: skip

#: People per synthetic county-level district (2,844 county-level divisions for 1.41 billion
#: people, Ministry of Civil Affairs 2020; secondary), with at least this many per province.
PEOPLE_PER_DISTRICT = 496_000
MIN_DISTRICTS = 8

# --------------------------------------------------------------------------- mortality

#: Siler hazard for women, mu(x) = a1 exp(-b1 x) + a2 + k a3 exp(b3 x); ``k`` is solved so the
#: pooled life expectancy equals the year's figure (assumption: the shape of a low-mortality
#: Chinese life table, Gompertz slope 0.095 a year).
SILER = {"a1": 0.0030, "b1": 1.0, "a2": 0.00020, "a3": 2.0e-5, "b3": 0.095}

#: Male to female hazard ratio r(x) = base + bump exp(-((x - peak)/width)^2): about 1.3 in
#: childhood and extreme old age, 2.2 at 55 (assumption; gives a sex gap in life expectancy
#: near the census gap of 5.5 years, 75.4 vs 80.9 in 2020).
MALE_HAZARD = {"base": 1.25, "bump": 0.6, "peak": 55.0, "width": 30.0}

#: Log relative risk of death for each condition (and for smoking), around the age-sex
#: probability; death probabilities are rescaled within each age-sex cell of a block so the
#: cell's mean probability is the life-table one (assumption, magnitudes of cohort studies;
#: cancer's relative risk of 10 makes about a quarter of deaths those of people with cancer,
#: as in China's cause-of-death statistics, where cancer is the leading cause).
DEATH_LOG_RR = {
    "hypertension": 0.2, "diabetes": 0.4, "copd": 0.6, "ihd": 0.5, "stroke": 0.7,
    "cancer": 2.3, "ckd": 0.5, "dementia": 1.0, "adl_disabled": 0.8, "smoker": 0.3,
}  # fmt: skip

# --------------------------------------------------------------------------- risk factors

#: Current smoking by age and sex (share). Source for the level: GATS China 2018 (China CDC):
#: 26.6% of people 15+, men 50.5%, women 2.1% (secondary). The age shape is an assumption.
#: Rows: (upper age exclusive, men, women).
SMOKING = ((15, 0.0, 0.0), (20, 0.18, 0.004), (25, 0.42, 0.01), (45, 0.57, 0.018),
           (65, 0.56, 0.025), (80, 0.42, 0.04), (200, 0.26, 0.04))  # fmt: skip

#: Adult body-mass index is log-normal: median 24.07 and log-sd 0.155 would give, with the
#: Chinese cut-offs, 34.3% overweight (24-28) and 16.4% obese (28+) as china.yaml says; with
#: the age shifts of the log-median below (assumption, mid-life peak) the spread is tuned to
#: 0.152 so the adult shares still match. Men's log-median is 0.01 higher, women's 0.01 lower.
BMI_LOG_MEDIAN = 3.1808
BMI_LOG_SD = 0.152
BMI_AGE_SHIFT = ((30, -0.04), (45, -0.003), (65, 0.022), (80, -0.003), (200, -0.045))
BMI_SEX_SHIFT = 0.01
#: Children: median 15.5 at 5 rising 0.35 a year to 17, log-sd 0.13 (assumption).
BMI_CHILD = {"base": 15.5, "slope": 0.35, "sd": 0.13}

#: Usual systolic blood pressure without treatment (mm Hg), one draw per person (assumption):
#: without hypertension 110 + 0.25 (age - 18) + 4 for men, sd 9, capped at 139; with
#: hypertension 140 + 0.1 (age - 50) + 12 |z| (a half-normal excess: untreated hypertensives
#: are above the threshold; treatment, drawn with the clinical records, lowers what is
#: measured); children 95 + 1.0 age, sd 8.
SBP = {"normal": (110.0, 0.25, 4.0, 9.0), "hypertensive": (140.0, 0.1, 12.0),
       "child": (95.0, 1.0, 8.0)}  # fmt: skip

# --------------------------------------------------------------------------- conditions

#: Conditions (and ADL disability) in the order they are drawn.
CONDITIONS = ("hypertension", "diabetes", "copd", "ihd", "stroke", "cancer", "ckd", "dementia",
              "adl_disabled")  # fmt: skip

#: Prevalence by age and sex: p(a, s) = expit(c + slope (min(a, plateau_age) - 60) +
#: male_log_or * male) from ``min_age`` on (zero below; no plateau unless given), with ``c``
#: solved so that the prevalence among people aged ``base_age`` and over equals ``target`` (%).
#: Targets from china.yaml where it has them; the slopes (age gradients) are assumptions fitted
#: to the endpoints it reports (for example hypertension 9.7% at 18-24 and 72.8% at 75+ in
#: CCDRFS 2010, scaled to the CHS level).
PREVALENCE = {
    "hypertension": {"target": 23.2, "base_age": 18, "min_age": 15, "slope": 0.065,
                     "male_log_or": 0.20,
                     "source": "China Hypertension Survey 2012-15 (Wang Z et al., "
                               "Circulation 2018), adults 18+, china.yaml"},
    "diabetes": {"target": 12.4, "base_age": 18, "min_age": 15, "slope": 0.045,
                 "plateau_age": 70, "male_log_or": 0.18,
                 "source": "CCDRFS 2018 (Wang L et al., JAMA 2021), adults, china.yaml; "
                           "men/women ratio from Li Y et al., BMJ 2020; the age gradient "
                           "levels off at 70 (about 21% at 60-69 and 26% at 70+, as in the "
                           "national surveys: china.yaml diabetes_by_age)"},
    "copd": {"target": 9.9, "base_age": 40, "min_age": 30, "slope": 0.07, "male_log_or": 0.8,
             "source": "NHC 2015 report on nutrition and chronic disease, 40+, china.yaml"},
    "ihd": {"target": 0.81, "base_age": 0, "min_age": 30, "slope": 0.08, "male_log_or": 0.4,
            "source": "Assumption from the Report on Cardiovascular Health and Diseases in "
                      "China 2021: 11.39 million with coronary heart disease / 1.41 billion"},
    "stroke": {"target": 1.11, "base_age": 20, "min_age": 30, "slope": 0.08,
               "male_log_or": 0.35,
               "source": "NESS-China 2013 (Wang W et al., Circulation 2017): 1,115 per "
                         "100,000 adults 20+ (secondary)"},
    "cancer": {"target": 0.66, "base_age": 0, "min_age": 0, "slope": 0.06, "male_log_or": 0.1,
               "source": "GLOBOCAN 2020 five-year prevalence for China, 9.29 million / 1.41 "
                         "billion (secondary)"},
    "ckd": {"target": 8.2, "base_age": 18, "min_age": 18, "slope": 0.05, "male_log_or": -0.1,
            "source": "CCDRFS 2018-19 (Wang L et al., JAMA Intern Med 2023), adults 18+ "
                      "(secondary)"},
    "dementia": {"target": 6.0, "base_age": 60, "min_age": 55, "slope": 0.15,
                 "male_log_or": -0.2,
                 "source": "Jia L et al., Lancet Public Health 2020: 6.0% of people 60+ "
                           "(secondary)"},
    "adl_disabled": {"target": 11.0, "base_age": 60, "min_age": 50, "slope": 0.10,
                     "male_log_or": -0.1,
                     "source": "Assumption in the range of CHARLS 2015-18 (10-12% of people "
                               "60+ need help with at least one basic ADL)"},
}  # fmt: skip

#: Loadings of each condition's liability on the person's standardised risk factors: log-BMI
#: z-score, a shared frailty, a cardio-metabolic factor (both standard normal), current
#: smoking and urban residence (assumption; shared factors make multimorbidity rise with age
#: and tie hypertension, diabetes, heart disease, stroke and kidney disease together). The
#: age-sex intercepts are solved so the prevalence by age and sex is :data:`PREVALENCE`'s.
LOADINGS_ORDER = ("bmi", "frailty", "cardiometabolic", "smoker", "urban")
LOADINGS = {
    "hypertension": (0.45, 0.3, 0.8, 0.0, 0.0),
    "diabetes": (0.50, 0.3, 0.8, 0.1, 0.25),
    "copd": (-0.10, 0.5, 0.0, 0.9, -0.2),
    "ihd": (0.30, 0.4, 0.8, 0.5, 0.2),
    "stroke": (0.20, 0.4, 0.8, 0.4, -0.1),
    "cancer": (0.05, 0.5, 0.0, 0.5, 0.1),
    "ckd": (0.20, 0.4, 0.7, 0.1, 0.0),
    "dementia": (0.0, 0.6, 0.3, 0.1, -0.2),
    "adl_disabled": (0.10, 1.0, 0.2, 0.1, -0.2),
}

# --------------------------------------------------------------------------- social

EDUCATION = ("none", "primary", "junior_secondary", "senior_secondary", "tertiary")

#: Highest level attained (or being attended) by age band (upper bound exclusive) for
#: (urban, rural) people (assumption shaped on the 2020 census: 15,467 per 100,000 with
#: tertiary education, younger and urban people far more educated). Children are at the level
#: their age attends.
EDUCATION_BY_AGE = (
    (6, (1, 0, 0, 0, 0), (1, 0, 0, 0, 0)),
    (12, (0.02, 0.98, 0, 0, 0), (0.03, 0.97, 0, 0, 0)),
    (15, (0, 0.05, 0.95, 0, 0), (0.01, 0.08, 0.91, 0, 0)),
    (18, (0, 0.01, 0.12, 0.87, 0), (0.01, 0.03, 0.26, 0.70, 0)),
    (25, (0.01, 0.02, 0.17, 0.30, 0.50), (0.01, 0.05, 0.36, 0.31, 0.27)),
    (35, (0.01, 0.05, 0.28, 0.23, 0.43), (0.02, 0.12, 0.47, 0.20, 0.19)),
    (45, (0.01, 0.08, 0.32, 0.24, 0.35), (0.03, 0.20, 0.52, 0.15, 0.10)),
    (55, (0.02, 0.12, 0.40, 0.28, 0.18), (0.05, 0.30, 0.50, 0.11, 0.04)),
    (65, (0.04, 0.22, 0.40, 0.24, 0.10), (0.10, 0.42, 0.38, 0.08, 0.02)),
    (75, (0.10, 0.35, 0.30, 0.17, 0.08), (0.25, 0.50, 0.20, 0.04, 0.01)),
    (200, (0.25, 0.40, 0.18, 0.10, 0.07), (0.50, 0.40, 0.08, 0.015, 0.005)),
)

INSURANCE = ("employee", "resident", "none")

#: Basic medical insurance at the end of 2020, NHSA statistical bulletin 2020 (secondary):
#: employee scheme 344.55 million, urban-rural resident scheme 1,016.77 million, of 1,411.78
#: million: 24.4%, 72.0%, and 3.6% not covered.
INSURANCE_SHARE_2020 = {"employee": 24.4, "resident": 72.0, "none": 3.6}

#: Relative chance of the employee scheme for adults (18+) by education (urban, rural), scaled
#: by :data:`EMPLOYEE_SCALE` (tuned once so the national share is 24.4%; assumption).
EMPLOYEE_WEIGHT = {"urban": (0.10, 0.20, 0.40, 0.65, 0.95), "rural": (0.03, 0.04, 0.09, 0.24, 0.6)}
EMPLOYEE_SCALE = 0.795
#: Share without insurance: adults 18-44 (migrant workers between schemes), others.
UNINSURED = {"young_adult": 0.07, "other": 0.02}

#: Income quintile from a latent score 0.9 urban + 0.35 education level + 0.4 employee scheme +
#: 0.2 (age 30-59) + N(0, 1), cut at fixed points tuned once so each quintile holds a fifth of
#: the 2020 population (assumption; the NBS publishes quintile means, not their drivers).
INCOME_SCORE = {"urban": 0.9, "education": 0.35, "employee": 0.4, "prime_age": 0.2}
INCOME_CUTS = (0.39, 1.156, 1.81, 2.573)

# =========================================================================== clinical records

#: Outpatient and emergency visits per resident by year. 2021 and 2023 are in china.yaml
#: (6.0, 6.8); 2022 and 2024 are its visits_billion over the year-end population (derived);
#: 2020: NHC bulletin 2020, 7.74 billion visits / 1.412 billion (secondary).
VISITS_PER_RESIDENT = {2020: 5.48, 2022: 5.96, 2024: 7.21}

#: Admissions per resident: china.yaml admissions over population for 2022-2023; 2020-2021 from
#: the NHC bulletins (healthlab.synth._reference.ADMISSIONS_MILLION); 2024 keeps 2023's rate
#: (assumption: not in the files read).
ADMISSION_POPULATION_MILLION = {2020: 1411.78, 2021: 1412.60, 2022: 1411.75, 2023: 1409.67,
                                2024: 1409.67}  # fmt: skip

#: Hospital average length of stay (days): 2022-2023 china.yaml; 2020 9.5 and 2021 9.2 from the
#: NHC bulletins (secondary); 2024 keeps 2023 (assumption).
ALOS = {2020: 9.5, 2021: 9.2, 2024: 8.8}

#: Hospital cost per outpatient visit and per admission (yuan): 2023 china.yaml; 2020-2022 the NHC
#: statistical bulletins (secondary, read from reprints of the bulletins' text): 324.4/10,619.2,
#: 329.2/11,002.3, 342.7/10,860.6 (the 9,848.4 used before is the 2019 figure); 2024 keeps 2023.
#: These are the means over hospitals; levels have their own figures (:data:`LEVEL_COST_2020`).
COST = {2020: (324.4, 10619.2), 2021: (329.2, 11002.3), 2022: (342.7, 10860.6)}

#: Cost per visit and per admission (yuan) by level of care, 2020, and average stay (days).
#: Tertiary and secondary hospitals: NHC statistical bulletin 2020, public hospitals (373.6 and
#: 238.4 per visit, 14,442.0 and 6,760.5 per admission; china.yaml hospital_costs_by_level_2020,
#: secondary, cross-checked against the NHC's monthly public-hospital releases). Township and
#: community health centres: NHC bulletin 2020 via china.yaml (primary_care_costs_2020,
#: secondary); the township stay is its cost per admission over its cost per day (2,083.0 /
#: 317.5 = 6.6 days, derived). Primary and unrated hospitals, community stations, the hospital
#: levels' stays and the community centres' stay: assumptions. These set the ratios between
#: levels; the costs at the four hospital levels are then scaled together so that their mean is
#: the bulletin's figure for all hospitals (:func:`._encounters.costs`).
LEVEL_COST_2020 = {
    "tertiary": (373.6, 14442.0), "secondary": (238.4, 6760.5),
    "primary_hospital": (175.0, 5200.0), "unrated_hospital": (175.0, 5200.0),
    "township_health_centre": (84.7, 2083.0), "community_health_centre": (165.9, 3560.3),
    "community_health_station": (90.0, 3560.3),
}  # fmt: skip
LEVEL_ALOS_2020 = {
    "tertiary": 9.8, "secondary": 9.3, "primary_hospital": 9.0, "unrated_hospital": 9.0,
    "township_health_centre": 6.6, "community_health_centre": 9.0,
    "community_health_station": 9.0,
}  # fmt: skip

#: Share of visits that are emergency visits (assumption: about 4% of outpatient and emergency
#: visits in the NHC yearbooks' hospital tables).
EMERGENCY_SHARE = 0.04

#: Relative visit rate by age band (upper bound exclusive): U-shaped, children and the old
#: visit most (assumption in the shape of the National Health Services Survey 2018 two-week
#: visit rates). Women visit 10% more. Urban residents 15% more, the uninsured 40% less.
VISIT_AGE = ((5, 1.6), (15, 0.7), (45, 0.6), (65, 1.1), (80, 1.8), (200, 2.0))
VISIT_FEMALE = 1.1
VISIT_URBAN = 1.15
VISIT_UNINSURED = 0.6
#: Extra visits per person-year relative to the base, by condition (assumption).
VISIT_CONDITION = {"hypertension": 0.5, "diabetes": 0.8, "copd": 0.6, "ihd": 0.7,
                   "stroke": 0.6, "cancer": 2.0, "ckd": 0.7, "dementia": 0.3,
                   "adl_disabled": 0.3}  # fmt: skip
#: Gamma frailty of visit and admission rates (shape; mean 1): heavy users exist.
RATE_FRAILTY_SHAPE = 2.0

#: Relative admission rate by age band (assumption, tuned so the share of people 60+ admitted in
#: the year is the 24.9% of the National Health Services Survey 2018, Wu N et al., Int J Equity
#: Health 2023;22:169, secondary; rates rise from young adults to old age less steeply than
#: before, when 44% of people 75+ were admitted). Deliveries are drawn apart (:data:`FERTILITY`).
ADMIT_AGE = ((5, 0.75), (15, 0.25), (45, 0.4), (60, 0.75), (75, 1.1), (85, 1.35), (200, 1.45))
ADMIT_UNINSURED = 0.7
#: Log relative admission rate by condition (assumption).
ADMIT_LOG_RR = {"hypertension": 0.15, "diabetes": 0.3, "copd": 0.5, "ihd": 0.5, "stroke": 0.5,
                "cancer": 1.3, "ckd": 0.5, "dementia": 0.3, "adl_disabled": 0.4}  # fmt: skip
#: Expected readmissions per index admission, used to size index admissions so that all
#: admissions (index, readmissions, terminal) match the year's figure (tuned; assumption).
READMISSION_ALLOWANCE = 0.105
#: Days between the discharge of a stay (or of its chain of readmissions) and the next admission
#: that is not a readmission: more than 30, so that a readmission in the dates is exactly a
#: readmission of the ground-truth model.
EPISODE_GAP = 31

#: Length of stay: log-normal spread and log-shifts by condition and age (assumption), scaled so
#: the mean of each block is the year's ALOS.
LOS_LOG_SD = 0.6
LOS_LOG_SHIFT = {"stroke": 0.35, "cancer": 0.3, "copd": 0.15, "dementia": 0.2, "old": 0.2}
#: Deliveries stay apart from that scaling: log-normal with these means (days) and log-sd 0.35
#: (assumption: about 3 days after a vaginal delivery and 5-6 after a caesarean in China).
DELIVERY_LOS = {"O80": 3.0, "O82": 5.5}
#: Cost spread (log-sd) of visits and admissions; admissions cost in proportion to LOS^0.8.
COST_LOG_SD = {"outpatient": 0.9, "inpatient": 0.5}
EMERGENCY_COST = 1.5
#: Share of the bill paid by insurance (assumption in the range of the NHSA bulletins' policy
#: reimbursement: about 70% employee and 60% resident scheme for admissions, less for visits).
INSURED_SHARE = {"employee": (0.50, 0.72), "resident": (0.30, 0.58), "none": (0.0, 0.0)}

#: Probability that a visit or admission is for one of the person's chronic conditions, as a
#: function of how many they have: 1 - exp(-CHRONIC_PULL * count) (assumption), and the weight of
#: each condition when choosing among them (outpatient, inpatient).
CHRONIC_PULL = {"outpatient": 0.55, "inpatient": 0.7}
REASON_WEIGHT = {"hypertension": (1.0, 0.6), "diabetes": (1.0, 0.7), "copd": (0.8, 1.2),
                 "ihd": (0.8, 1.3), "stroke": (0.6, 1.3), "cancer": (1.2, 2.5), "ckd": (0.7, 0.9),
                 "dementia": (0.4, 0.5), "adl_disabled": (0.0, 0.0)}  # fmt: skip

#: ICD-10 codes of each condition: (code, label, weight outpatient, weight inpatient).
CONDITION_ICD10 = {
    "hypertension": (("I10", "Essential (primary) hypertension", 0.9, 0.6),
                     ("I11.9", "Hypertensive heart disease without heart failure", 0.1, 0.4)),
    "diabetes": (("E11.9", "Type 2 diabetes mellitus without complications", 0.8, 0.4),
                 ("E11.65", "Type 2 diabetes mellitus with hyperglycaemia", 0.2, 0.6)),
    "copd": (("J44.9", "Chronic obstructive pulmonary disease, unspecified", 0.9, 0.3),
             ("J44.1", "COPD with acute exacerbation", 0.1, 0.7)),
    "ihd": (("I25.1", "Atherosclerotic heart disease", 0.7, 0.3),
            ("I20.9", "Angina pectoris, unspecified", 0.3, 0.4),
            ("I21.9", "Acute myocardial infarction, unspecified", 0.0, 0.3)),
    "stroke": (("I69.3", "Sequelae of cerebral infarction", 0.8, 0.3),
               ("I63.9", "Cerebral infarction, unspecified", 0.2, 0.6),
               ("I61.9", "Intracerebral haemorrhage, unspecified", 0.0, 0.1)),
    # Cancer and CKD codes are the person's own (CANCER_SITES, the CKD stage from the eGFR level),
    # not drawn per encounter; the weights here are unused.
    "cancer": (("C34.9", "Malignant neoplasm of bronchus or lung", 1, 1),
               ("C16.9", "Malignant neoplasm of stomach", 1, 1),
               ("C22.0", "Liver cell carcinoma", 1, 1),
               ("C18.9", "Malignant neoplasm of colon", 1, 1),
               ("C15.9", "Malignant neoplasm of oesophagus", 1, 1),
               ("C25.9", "Malignant neoplasm of pancreas", 1, 1),
               ("C50.9", "Malignant neoplasm of breast", 1, 1),
               ("C73", "Malignant neoplasm of thyroid gland", 1, 1),
               ("C53.9", "Malignant neoplasm of cervix uteri", 1, 1),
               ("C61", "Malignant neoplasm of prostate", 1, 1),
               ("C71.9", "Malignant neoplasm of brain", 1, 1),
               ("C95.9", "Leukaemia, unspecified", 1, 1)),
    "ckd": (("N18.2", "Chronic kidney disease, stage 2", 1, 1),
            ("N18.3", "Chronic kidney disease, stage 3", 1, 1),
            ("N18.4", "Chronic kidney disease, stage 4", 1, 1),
            ("N18.5", "Chronic kidney disease, stage 5", 1, 1)),
    "dementia": (("F03", "Unspecified dementia", 0.6, 0.6),
                 ("G30.9", "Alzheimer disease, unspecified", 0.4, 0.4)),
}  # fmt: skip

#: Cancer site of each person with cancer: one site for life, drawn from these shares (%) by sex
#: and age band (upper bound exclusive), in the order of the cancer codes above. Adults 40+: the
#: sex-specific share of new cases in the national cancer registry for 2016 (Zheng R et al., J
#: Natl Cancer Cent 2022;2:1-9, secondary, rounded; the sites listed, renormalised). Adults
#: 15-39: the same with the digestive, lung and prostate shares cut to a third and thyroid,
#: breast, cervix, brain and leukaemia kept (assumption: young adults' cancers are mostly those).
#: Children: leukaemia and brain tumours only (assumption; they are most childhood cancers).
CANCER_SITES = {
    #        lung stom liver colon oeso panc breast thyr cervix prost brain leuk
    "M": ((15, (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 35, 65)),
          (40, (8.2, 4.4, 4.2, 3.5, 3.0, 0.9, 0.0, 2.1, 0.0, 0.0, 2.3, 2.2)),
          (200, (24.6, 13.3, 12.7, 10.5, 8.9, 2.7, 0.0, 2.1, 0.0, 3.7, 2.3, 2.2))),
    "F": ((15, (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 35, 65)),
          (40, (5.1, 2.1, 1.8, 3.3, 1.2, 0.9, 16.7, 9.5, 6.2, 0.0, 2.6, 2.1)),
          (200, (15.2, 6.4, 5.3, 10.0, 3.6, 2.6, 16.7, 9.5, 6.2, 0.0, 2.6, 2.1))),
}  # fmt: skip

#: Kidney function: most CKD in China is albuminuria with a normal eGFR. A person with CKD has a
#: reduced eGFR (below 60) with probability expit(c + 0.05 (age - 60)), c solved so that 1.7% of
#: adults have CKD with eGFR below 60 (Zhang L et al., Lancet 2012;379:815, secondary; CKD 8.2%
#: of adults, PREVALENCE). Their eGFR level is normal (mean 45, sd 10) within 10-59; others' is
#: 110 - 0.8 (age - 20) + 10 z, drawn above 60 (not clipped: no pile at 60). A test adds noise
#: (sd 4). Urine albumin-to-creatinine ratio (mg/g) is log-normal: CKD without reduced eGFR
#: median 90 (at least 30), with reduced eGFR median 150, without CKD median 8 (below 30).
KIDNEY = {"reduced_share": 1.7, "age_slope": 0.05, "reduced": (45.0, 10.0), "test_sd": 4.0,
          "uacr_median": {"albuminuria": 90.0, "reduced": 150.0, "none": 8.0},
          "uacr_log_sd": {"albuminuria": 0.8, "reduced": 1.0, "none": 0.6}}  # fmt: skip

#: The care cascade. Awareness (diagnosed) and treatment among adults with the condition:
#: diabetes 36.7% and 32.9% (CCDRFS 2018, Wang L et al., JAMA 2021, china.yaml), hypertension
#: 46.9% and 40.7% (China Hypertension Survey, Wang Z et al., Circulation 2018, china.yaml). Only
#: a diagnosed condition can be the reason of an encounter, a secondary diagnosis or a drug;
#: treated patients come back for prescriptions (1 + Poisson(``refills``) visits a year).
#: Treatment lowers the person's blood pressure and HbA1c by these amounts (mean, sd; assumption
#: in the range of trials: 10-15 mm Hg for one to two drugs, about 1 point of HbA1c for metformin)
#: so control among the treated is near the surveys' (diabetes HbA1c < 7%: 50.1% of treated;
#: hypertension < 140/90: 15.3% of all, 37.6% of treated).
CASCADE = {"diabetes": {"aware": 36.7, "treated": 32.9}, "hypertension": {"aware": 46.9,
           "treated": 40.7}, "refills": 2.0, "sbp_drop": (7.0, 5.0),
           "hba1c_drop": (1.3, 0.4)}  # fmt: skip

CONDITION_DEPARTMENT = {
    "hypertension": "cardiology", "diabetes": "endocrinology", "copd": "respiratory",
    "ihd": "cardiology", "stroke": "neurology", "cancer": "oncology", "ckd": "nephrology",
    "dementia": "neurology",
}  # fmt: skip

#: Acute reasons (not a chronic condition): ICD-10 code, label, department, weight for
#: outpatient and inpatient encounters, and the ages (and sex) it applies to (assumption).
ACUTE = (
    ("J06.9", "Acute upper respiratory infection", "internal_medicine", 3.0, 0.0, 0, 200, None),
    ("J18.9", "Pneumonia, unspecified", "respiratory", 0.3, 1.5, 0, 200, None),
    ("A09", "Infectious gastroenteritis and colitis", "internal_medicine", 1.0, 0.3, 0, 200,
     None),
    ("K29.7", "Gastritis, unspecified", "gastroenterology", 1.0, 0.3, 15, 200, None),
    ("M54.5", "Low back pain", "orthopaedics", 0.8, 0.1, 18, 200, None),
    ("S72.0", "Fracture of neck of femur", "orthopaedics", 0.05, 0.5, 60, 200, None),
    ("S93.4", "Sprain of ankle", "orthopaedics", 0.4, 0.0, 5, 200, None),
    ("K35.8", "Acute appendicitis", "general_surgery", 0.02, 0.4, 5, 200, None),
    ("K80.2", "Calculus of gallbladder", "general_surgery", 0.1, 0.6, 25, 200, None),
    ("N39.0", "Urinary tract infection", "urology", 0.5, 0.2, 15, 200, None),
    ("Z00.0", "General medical examination", "general_practice", 1.5, 0.0, 0, 200, None),
    ("Z34.9", "Supervision of normal pregnancy", "obstetrics", 0.3, 0.0, 20, 40, "F"),
    # Drawn apart, never as an ordinary acute reason (weights 0): deliveries (FERTILITY) and the
    # causes of deaths in hospital without a chronic condition to blame (TERMINAL_CAUSE).
    ("O80", "Single spontaneous delivery", "obstetrics", 0.0, 0.0, 15, 50, "F"),
    ("O82", "Single delivery by caesarean section", "obstetrics", 0.0, 0.0, 15, 50, "F"),
    ("O90.9", "Complication of the puerperium, unspecified", "obstetrics", 0.0, 0.0, 15, 50,
     "F"),  # the reason of a readmission after a delivery
    ("I50.9", "Heart failure, unspecified", "cardiology", 0.0, 0.0, 0, 200, None),
    ("A41.9", "Sepsis, unspecified", "internal_medicine", 0.0, 0.0, 0, 200, None),
    ("S06.9", "Intracranial injury, unspecified", "general_surgery", 0.0, 0.0, 0, 200, None),
)  # fmt: skip
#: Children's encounters not for a chronic condition go to paediatrics (under 15).
PAEDIATRIC_AGE = 15

#: Births: each woman has at most one delivery in the year, with a probability proportional to
#: this age-specific fertility shape (births per 1,000 women by age band on 1 January, shaped on
#: the 2020 census; assumption for the shape) and scaled so births per 1,000 person-years are the
#: year's crude birth rate (2020: 8.52, NBS communique via china.yaml; later years the births
#: over the year-end population).
FERTILITY = ((15, 0.0), (20, 6.0), (25, 55.0), (30, 98.0), (35, 71.0), (40, 29.0), (45, 8.0),
             (50, 2.0), (200, 0.0))  # fmt: skip
#: Share of deliveries by caesarean section (assumption near the 34.9% of 2014, Li HT et al.,
#: JAMA 2017;317:69, secondary).
CAESAREAN_SHARE = 0.35
#: Sex ratio at birth (males per 100 females), census 2020 (china.yaml).
#: Infant deaths: the probability of dying before the first birthday (2020: 5.4 per 1,000 live
#: births, NHC bulletin via china.yaml) and the share of those deaths in the first week and in
#: days 7-27 (assumption from the 2020 neonatal rate of 3.4 per 1,000, about 60% of infant deaths
#: neonatal, secondary); later deaths are uniform over days 28-364.
INFANT_DEATH = {"first_week": 0.45, "neonatal_late": 0.15}

#: Drugs (ATC code, name, probability of being prescribed at an encounter for the reason).
DRUGS = {
    "hypertension": (("C08CA01", "amlodipine", 0.55), ("C09CA01", "losartan", 0.3),
                     ("C03AA03", "hydrochlorothiazide", 0.1), ("C07AB02", "metoprolol", 0.1)),
    "diabetes": (("A10BA02", "metformin", 0.75), ("A10BB09", "gliclazide", 0.2),
                 ("A10BF01", "acarbose", 0.2), ("A10AE04", "insulin glargine", 0.15)),
    "copd": (("R03AL03", "umeclidinium and vilanterol", 0.3), ("R03BB04", "tiotropium", 0.4),
             ("R03AK06", "salmeterol and fluticasone", 0.3)),
    "ihd": (("B01AC06", "aspirin", 0.7), ("C10AA05", "atorvastatin", 0.6),
            ("C07AB02", "metoprolol", 0.3), ("C01DA14", "isosorbide mononitrate", 0.25)),
    "stroke": (("B01AC06", "aspirin", 0.6), ("C10AA05", "atorvastatin", 0.5),
               ("B01AC04", "clopidogrel", 0.25)),
    "cancer": (("L01BC06", "capecitabine", 0.2), ("L01XA03", "oxaliplatin", 0.2),
               ("A04AA01", "ondansetron", 0.4)),
    "ckd": (("C09CA01", "losartan", 0.4), ("B03XA01", "erythropoietin", 0.15),
            ("V03AE02", "sevelamer", 0.1)),
    "dementia": (("N06DA02", "donepezil", 0.5), ("N06DX01", "memantine", 0.2)),
    "J06.9": (("J01CA04", "amoxicillin", 0.3), ("N02BE01", "paracetamol", 0.5)),
    "J18.9": (("J01DD04", "ceftriaxone", 0.8), ("J01FA10", "azithromycin", 0.3)),
    "A09": (("A07CA", "oral rehydration salts", 0.5), ("A07BC05", "diosmectite", 0.4)),
    "K29.7": (("A02BC01", "omeprazole", 0.7),),
    "M54.5": (("M01AE01", "ibuprofen", 0.6),),
    "N39.0": (("J01MA02", "ciprofloxacin", 0.5), ("J01XE01", "nitrofurantoin", 0.3)),
    "S72.0": (("B01AB05", "enoxaparin", 0.6),),
}  # fmt: skip

#: Observations (LOINC code, name, unit) and when they are taken.
LOINC = {
    "sbp": ("8480-6", "Systolic blood pressure", "mm[Hg]"),
    "dbp": ("8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "bmi": ("39156-5", "Body mass index", "kg/m2"),
    "hba1c": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%"),
    "glucose": ("1558-6", "Fasting glucose [Moles/volume] in Serum or Plasma", "mmol/L"),
    "creatinine": ("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "umol/L"),
    "egfr": ("62238-1", "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI)",
             "mL/min/{1.73_m2}"),
    "uacr": ("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "mg/g"),
}  # fmt: skip
#: Probability of blood pressure at an adult's visit (1 for visits for hypertension and at
#: admission), of BMI at admission, of the diabetes labs at a visit for diabetes (and at admission
#: of anyone), of the kidney labs at a visit for CKD (and at admission).
OBSERVE = {"bp_visit": 0.3, "bmi_admission": 0.8, "diabetes_labs": 0.6, "admission_labs": 0.7,
           "kidney_labs": 0.6}  # fmt: skip
#: Lab values (assumption, clinical ranges). HbA1c (%) is the person's level plus a test noise:
#: diabetics untreated mean 8.3 (sd 1.4 between people, 0.6 between tests), others 5.5 (0.35,
#: 0.15) and below 6.5. Fasting glucose (mmol/L) follows the same test's HbA1c, 1.59 HbA1c - 3.0
#: (the ADAG slope, Nathan DM et al., Diabetes Care 2008), plus noise (sd 2.4 for diabetics, 0.4
#: for others), so the two correlate as in clinic data (about 0.7).
LAB = {"hba1c": {"diabetic": (8.3, 1.4, 0.6), "other": (5.5, 0.35, 0.15)},
       "glucose": {"slope": 1.59, "intercept": -3.0, "sd_diabetic": 2.4, "sd_other": 0.4},
       "egfr_age": (110.0, -0.8, 10.0)}  # fmt: skip

#: Ground-truth 30-day readmission model (logistic), the coefficients exported with the data.
READMISSION = {"intercept": -3.3, "age_per_10y_over_65": 0.15, "male": 0.1,
               "conditions": 0.18, "log_length_of_stay": 0.25, "copd": 0.35, "ckd": 0.3,
               "cancer": 0.5, "dementia": 0.3, "uninsured": 0.2}  # fmt: skip
#: Ground-truth place-of-death model: a person dying in the period dies in hospital (a terminal
#: admission ending on the death date) with this logistic probability (assumption: about one
#: death in five in hospital, more in cities and with cancer, heart disease or stroke, fewer at
#: the oldest ages and with dementia, so that about 0.5% of admissions end in death, near the
#: 0.4-0.5% hospital mortality of the NHC yearbooks (not in the reference files); many dying
#: patients in China are discharged to die at home).
DEATH_IN_HOSPITAL = {"intercept": -3.25, "age_per_10y_over_75": -0.05, "urban": 0.8,
                     "cancer": 1.0, "ihd": 0.4, "stroke": 0.4, "copd": 0.3, "ckd": 0.3,
                     "diabetes": 0.2, "dementia": -0.5, "uninsured": -0.6}  # fmt: skip
#: Principal diagnosis of a death in hospital: one of the patient's diagnosed conditions or an
#: acute cause, drawn with these weights (assumption shaped on the causes of death in China:
#: cancer, stroke, heart disease and COPD lead, 80.7% of deaths are cardiovascular, cancer or
#: chronic respiratory, china.yaml deaths). Acute causes apply to anyone (heart failure from 50).
TERMINAL_CAUSE = {"cancer": 60.0, "stroke": 6.0, "ihd": 6.0, "copd": 5.0, "ckd": 1.5,
                  "dementia": 1.5, "diabetes": 1.0, "hypertension": 1.0,
                  "I50.9": 2.5, "J18.9": 2.5, "A41.9": 0.8, "S06.9": 0.8}  # fmt: skip
#: Maternal deaths per 100,000 deliveries (2020: 16.9, NHC bulletin via china.yaml): women 15-49
#: who die in hospital die in a delivery admission at the rate that gives this.
MATERNAL_DEATHS_PER_100K = 16.9

#: Realistic mess on by default, at these rates (share of rows): missing observation values and
#: encounter costs, exact duplicate encounter rows (with their diagnoses), miscoded dates (day and
#: month swapped where possible, else the year mistyped), unit slips (glucose written in mg/dL
#: and creatinine in mg/dL under the mmol/L and umol/L units).
MESS = {"missing": 0.02, "duplicate": 0.005, "miscoded_date": 0.002, "unit_slip": 0.01}
