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
#: cell's mean probability is the life-table one (assumption, magnitudes of cohort studies).
DEATH_LOG_RR = {
    "hypertension": 0.2, "diabetes": 0.4, "copd": 0.6, "ihd": 0.5, "stroke": 0.7,
    "cancer": 1.6, "ckd": 0.5, "dementia": 1.0, "adl_disabled": 0.8, "smoker": 0.3,
}  # fmt: skip

# --------------------------------------------------------------------------- risk factors

#: Current smoking by age and sex (share). Source for the level: GATS China 2018 (China CDC):
#: 26.6% of people 15+, men 50.5%, women 2.1% (secondary). The age shape is an assumption.
#: Rows: (upper age exclusive, men, women).
SMOKING = ((15, 0.0, 0.0), (20, 0.18, 0.004), (25, 0.42, 0.01), (45, 0.58, 0.018),
           (65, 0.57, 0.025), (80, 0.42, 0.04), (200, 0.26, 0.04))  # fmt: skip

#: Adult body-mass index is log-normal with median 24.07 and log-sd 0.155: with the Chinese
#: cut-offs this gives 34.3% overweight (24-28) and 16.4% obese (28+), as china.yaml says. Age
#: shifts of the log-median (assumption, mid-life peak) and the sex shift (men +0.01).
BMI_LOG_MEDIAN = 3.1808
BMI_LOG_SD = 0.155
BMI_AGE_SHIFT = ((30, -0.045), (45, -0.008), (65, 0.017), (80, -0.008), (200, -0.05))
BMI_SEX_SHIFT = 0.01
#: Children: median 15.5 at 5 rising 0.35 a year to 17, log-sd 0.13 (assumption).
BMI_CHILD = {"base": 15.5, "slope": 0.35, "sd": 0.13}

#: Systolic blood pressure (mm Hg), one normal draw per person (assumption): without
#: hypertension 110 + 0.25 (age - 18) + 4 for men, sd 9, capped at 139; with hypertension
#: 148 + 0.1 (age - 50), sd 15 (most hypertensives are uncontrolled: control 15.3%, CHS);
#: children 95 + 1.0 age, sd 8.
SBP = {"normal": (110.0, 0.25, 4.0, 9.0), "hypertensive": (148.0, 0.1, 15.0),
       "child": (95.0, 1.0, 8.0)}  # fmt: skip

# --------------------------------------------------------------------------- conditions

#: Conditions (and ADL disability) in the order they are drawn.
CONDITIONS = ("hypertension", "diabetes", "copd", "ihd", "stroke", "cancer", "ckd", "dementia",
              "adl_disabled")  # fmt: skip

#: Prevalence by age and sex: p(a, s) = expit(c + slope (a - 60) + male_log_or * male) from
#: ``min_age`` on (zero below), with ``c`` solved so that the prevalence among people aged
#: ``base_age`` and over equals ``target`` (%). Targets from china.yaml where it has them; the
#: slopes (age gradients) are assumptions fitted to the endpoints it reports (for example
#: hypertension 9.7% at 18-24 and 72.8% at 75+ in CCDRFS 2010, scaled to the CHS level).
PREVALENCE = {
    "hypertension": {"target": 23.2, "base_age": 18, "min_age": 15, "slope": 0.065,
                     "male_log_or": 0.20,
                     "source": "China Hypertension Survey 2012-15 (Wang Z et al., "
                               "Circulation 2018), adults 18+, china.yaml"},
    "diabetes": {"target": 12.4, "base_age": 18, "min_age": 15, "slope": 0.06,
                 "male_log_or": 0.18,
                 "source": "CCDRFS 2018 (Wang L et al., JAMA 2021), adults, china.yaml; "
                           "men/women ratio from Li Y et al., BMJ 2020"},
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
    (25, (0.01, 0.02, 0.15, 0.27, 0.55), (0.01, 0.05, 0.34, 0.30, 0.30)),
    (35, (0.01, 0.05, 0.25, 0.22, 0.47), (0.02, 0.12, 0.45, 0.20, 0.21)),
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
EMPLOYEE_SCALE = 0.80
#: Share without insurance: adults 18-44 (migrant workers between schemes), others.
UNINSURED = {"young_adult": 0.07, "other": 0.02}

#: Income quintile from a latent score 0.9 urban + 0.35 education level + 0.4 employee scheme +
#: 0.2 (age 30-59) + N(0, 1), cut at fixed points tuned once so each quintile holds a fifth of
#: the 2020 population (assumption; the NBS publishes quintile means, not their drivers).
INCOME_SCORE = {"urban": 0.9, "education": 0.35, "employee": 0.4, "prime_age": 0.2}
INCOME_CUTS = (0.405, 1.156, 1.81, 2.573)
