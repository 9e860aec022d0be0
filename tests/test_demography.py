"""Tests of healthlab.demography against published tables, invariants and independent methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from healthlab.demography import (
    dependency_ratios,
    lee_carter,
    life_table,
    median_age,
    project_population,
    project_scenarios,
    project_service_demand,
    sullivan_hale,
)
from healthlab.errors import InvalidParameterError

# --- Oracle 1 -----------------------------------------------------------------------------
# Preston SH, Heuveline P, Guillot M. Demography (Blackwell 2001), Box 3.1, p. 49:
# abridged life table, Austria, males, 1992 (data: United Nations 1994). Inputs nNx, nDx and
# the book's nax; published lx, ndx and nLx (rounded to whole persons, radix 100,000).
AUSTRIA_AGE = [0, 1, *range(5, 90, 5)]
AUSTRIA_POP = [47925, 189127, 234793, 238790, 254996, 326831, 355086, 324222, 269963, 261971,
               238011, 261612, 181385, 187962, 153832, 105169, 73694, 57512, 32248]  # fmt: skip
AUSTRIA_DEATHS = [419, 70, 36, 46, 249, 420, 403, 441, 508, 769, 1154, 1866, 2043, 3496, 4366,
                  4337, 5279, 6460, 6146]  # fmt: skip
AUSTRIA_AX = [0.068, 1.626, 2.5, 3.143, 2.724, 2.520, 2.481, 2.601, 2.701, 2.663, 2.698, 2.676,
              2.645, 2.624, 2.619, 2.593, 2.518, 2.423, 5.247]  # fmt: skip
AUSTRIA_LX = [100000, 99133, 98986, 98910, 98815, 98334, 97704, 97151, 96492, 95588, 94195,
              91937, 88711, 83845, 76377, 66225, 53803, 37441, 21134]  # fmt: skip
AUSTRIA_DX = [867, 147, 76, 95, 481, 630, 553, 659, 904, 1393, 2258, 3225, 4867, 7467, 10152,
              12422, 16362, 16307, 21134]  # fmt: skip
AUSTRIA_LLX = [99192, 396183, 494741, 494375, 492980, 490106, 487127, 484175, 480384, 474686,
               465777, 452188, 432096, 401480, 357713, 301224, 228404, 145182, 110889]  # fmt: skip

# --- Oracle 2 -----------------------------------------------------------------------------
# Hauet E. Practical guide on health expectancy calculation: the Sullivan method. EuroREVES,
# 1996 (revised 1997), tables 1 and 3: French women 1991, ages 65 to 85+. lx and nLx of the
# 1991 French life table, disability prevalence and its sampling variance (table 3, columns 4
# and 5), and the published disability-free years after age x (table 1, column 6), DFLE
# (column 7), variance of DFLE (table 3, column 7) and its standard error (column 8).
HAUET_AGE = [65, 70, 75, 80, 85]
HAUET_LX = [89367, 84968, 78012, 66625, 48532]
HAUET_LLX = [436589, 408793, 364013, 290533, 289068]
HAUET_PREV = [0.196, 0.286, 0.370, 0.513, 0.710]
HAUET_VAR_PREV = [0.000281, 0.000507, 0.000675, 0.000914, 0.000805]
HAUET_T_FREE = [1097520, 746643, 454701, 225526, 83967]
HAUET_DFLE = [12.3, 8.8, 5.8, 3.4, 1.7]
HAUET_VAR_DFLE = [0.0466, 0.0441, 0.0384, 0.0325, 0.0285]
HAUET_SE_DFLE = [0.22, 0.21, 0.20, 0.18, 0.17]


def austria(**extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"age": AUSTRIA_AGE, "deaths": AUSTRIA_DEATHS, "exposure": AUSTRIA_POP, **extra}
    )


def test_austria_1992_reproduces_preston_box_3_1():
    lt = life_table(austria(ax=AUSTRIA_AX), sex="male")
    # published figures are rounded to whole persons: agreement within 0.5 of rounding
    assert np.abs(lt["lx"] - AUSTRIA_LX).max() < 0.5
    assert np.abs(lt["dx"] - AUSTRIA_DX).max() < 1.0
    assert np.abs(lt["Lx"] - AUSTRIA_LLX).max() < 0.5
    assert lt["ex"].iloc[0] == pytest.approx(sum(AUSTRIA_LLX) / 100_000, abs=5e-5)
    assert lt["ax"].iloc[-1] == pytest.approx(AUSTRIA_AX[-1], abs=5e-4)  # open: 1/M


def test_coale_demeny_rule_gives_the_books_a0_and_4a1():
    lt = life_table(austria(), sex="male")
    assert lt["ax"].iloc[0] == pytest.approx(0.068, abs=5e-4)
    assert lt["ax"].iloc[1] == pytest.approx(1.626, abs=5e-4)
    # with the midpoint elsewhere instead of the book's nax, e0 moves by little
    book = life_table(austria(ax=AUSTRIA_AX), sex="male")
    assert abs(lt["ex"].iloc[0] - book["ex"].iloc[0]) < 0.1


def test_graduation_is_a_fixed_point_of_keyfitz_formula():
    lt = life_table(austria(), sex="male", ax_method="graduation")
    d, n, ax = lt["dx"].to_numpy(), lt["n"].to_numpy(), lt["ax"].to_numpy()
    for i in range(3, len(lt) - 1):
        keyfitz = (-n[i] / 24 * d[i - 1] + n[i] / 2 * d[i] + n[i] / 24 * d[i + 1]) / d[i]
        assert ax[i] == pytest.approx(keyfitz, abs=1e-6)
    assert ax[2] == 2.5
    assert np.abs(lt["lx"] - AUSTRIA_LX).max() / 100_000 < 0.003


def test_andreev_kingkade_rule():
    lt = life_table(pd.DataFrame({"age": [0, 1, 5], "mx": [0.005, 0.001, 0.1]}),
                    sex="female", a0_rule="andreev-kingkade")  # fmt: skip
    assert lt["ax"].iloc[0] == pytest.approx(0.14903 - 2.05527 * 0.005)


@pytest.mark.parametrize(
    "ages", [np.arange(101), np.array([0, 1, *range(5, 90, 5)]), np.arange(0, 90, 5)]
)
def test_constant_hazard_gives_e0_one_over_mu(ages):
    mu = 0.025
    table = pd.DataFrame({"age": ages, "mx": np.full(len(ages), mu)})
    exact = life_table(table, a0_rule="none", ax_method="constant-hazard")
    assert exact["ex"].to_numpy() == pytest.approx(1 / mu, rel=1e-12)
    assert exact["qx"].iloc[:-1].to_numpy() == pytest.approx(
        1 - np.exp(-mu * np.diff(ages)), rel=1e-12
    )
    midpoint = life_table(table, a0_rule="none")
    assert midpoint["ex"].iloc[0] == pytest.approx(1 / mu, rel=2e-3)


def test_life_table_invariants():
    lt = life_table(austria(), radix=1000)
    assert lt["lx"].iloc[0] == 1000
    assert lt["dx"].sum() == pytest.approx(1000)
    assert lt["Tx"].iloc[0] == pytest.approx(lt["Lx"].sum())
    assert (np.diff(lt["lx"]) <= 0).all()
    assert lt["qx"].iloc[-1] == 1
    assert lt["ex"].iloc[-1] == pytest.approx(AUSTRIA_POP[-1] / AUSTRIA_DEATHS[-1])
    mx_only = life_table(pd.DataFrame({"age": AUSTRIA_AGE,
                                       "mx": np.divide(AUSTRIA_DEATHS, AUSTRIA_POP)}))  # fmt: skip
    pd.testing.assert_series_equal(mx_only["ex"], life_table(austria())["ex"])
    assert "ex_se" not in mx_only.columns


def test_life_tables_by_group_use_each_sex_rule():
    both = pd.concat(
        [austria().assign(sex="M", province="A"), austria().assign(sex="F", province="A")]
    )
    out = life_table(both, by=["province", "sex"])
    assert list(out.columns[:3]) == ["province", "sex", "age"]
    male = out[out.sex == "M"].drop(columns=["province", "sex"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(male, life_table(austria(), sex="male"))
    female = out[out.sex == "F"]["ax"].iloc[0]
    assert female == pytest.approx(0.053 + 2.800 * AUSTRIA_DEATHS[0] / AUSTRIA_POP[0])
    with pytest.raises(InvalidParameterError, match="increase"):
        life_table(both)


def test_single_year_table_invariants():
    ages = np.arange(0, 101)
    mx = 0.0001 * np.exp(0.09 * ages) + np.where(ages == 0, 0.005, 0)
    lt = life_table(pd.DataFrame({"age": ages, "mx": mx}))
    assert (lt["n"].iloc[:-1] == 1).all() and np.isinf(lt["n"].iloc[-1])
    assert lt["Lx"].sum() == pytest.approx(lt["Tx"].iloc[0])
    assert lt["ex"].iloc[0] == pytest.approx(lt["Lx"].sum() / 100_000)


def _e(table: pd.DataFrame, mx: np.ndarray) -> np.ndarray:
    """ex from rates, with the nax of ``table`` held fixed."""
    return life_table(table.assign(mx=mx)[["age", "mx", "ax"]].assign(
        ax=np.where(np.isfinite(table["n"]), table["ax"], np.nan)))["ex"].to_numpy()  # fmt: skip


def test_chiang_variance_matches_delta_method():
    lt = life_table(austria(), sex="male")
    n, ax, qx, mx = (lt[c].to_numpy() for c in ("n", "ax", "qx", "mx"))
    D, P = np.asarray(AUSTRIA_DEATHS, float), np.asarray(AUSTRIA_POP, float)
    closed = np.isfinite(n)

    def rates(q, m_open):  # invert q = nM / (1 + (n - a) M) with nax held fixed
        m = q[:-1] / (n[:-1] - (n[:-1] - ax[:-1]) * q[:-1])
        return np.r_[m, m_open]

    # delta method by finite differences: ex in each q (closed) and in M (open interval)
    grad = np.empty((len(lt), len(lt)))
    for i in range(len(lt)):
        q_up, q_dn, m_up, m_dn = qx.copy(), qx.copy(), mx[-1], mx[-1]
        h = (qx[i] if closed[i] else mx[-1]) * 1e-6
        if closed[i]:
            q_up[i] += h
            q_dn[i] -= h
        else:
            m_up, m_dn = m_up + h, m_dn - h
        grad[:, i] = (_e(lt, rates(q_up, m_up)) - _e(lt, rates(q_dn, m_dn))) / (2 * h)
    var = np.where(closed, qx**2 * (1 - qx) / D, D / P**2)
    delta_se = np.sqrt((grad**2 * var).sum(axis=1))
    assert lt["ex_se"].to_numpy() == pytest.approx(delta_se, rel=1e-6)
    # Chiang's binomial Var(q) and a Poisson Var(M) = M/P agree to first order
    assert lt["ex_se"].iloc[0] == pytest.approx(0.0753, abs=5e-4)


def test_chiang_interval_covers_simulated_spread():
    rng = np.random.default_rng(20240601)
    small = np.asarray(AUSTRIA_POP) // 50  # a district of ~80,000 men
    rates = np.divide(AUSTRIA_DEATHS, AUSTRIA_POP)
    sims, ses = [], []
    for _ in range(300):
        deaths = rng.poisson(rates * small)
        lt = life_table(pd.DataFrame({"age": AUSTRIA_AGE, "deaths": deaths, "exposure": small}))
        sims.append(lt["ex"].iloc[0])
        ses.append(lt["ex_se"].iloc[0])
    assert np.mean(ses) == pytest.approx(np.std(sims, ddof=1), rel=0.15)
    lt = life_table(austria(), conf_level=0.9)
    z = (lt["ex_upper"] - lt["ex"]) / lt["ex_se"]
    assert z.to_numpy() == pytest.approx(1.6448536, rel=1e-6)


def test_life_table_validation():
    with pytest.raises(InvalidParameterError, match="negative"):
        life_table(austria().assign(deaths=[-1, *AUSTRIA_DEATHS[1:]]))
    gap = austria().drop(index=5)
    with pytest.raises(InvalidParameterError, match="gap"):
        life_table(gap)
    with pytest.raises(InvalidParameterError, match="gap"):
        life_table(pd.DataFrame({"age": [0, 1, 2, 4, 5], "mx": [0.01] * 5}))
    with pytest.raises(InvalidParameterError, match="increase"):
        life_table(austria().iloc[[0, 2, 1, *range(3, 19)]])
    with pytest.raises(InvalidParameterError, match="'mx'"):
        life_table(austria().drop(columns="exposure"))
    with pytest.raises(InvalidParameterError, match="exposure"):
        life_table(austria().assign(exposure=[0, *AUSTRIA_POP[1:]]))
    with pytest.raises(InvalidParameterError, match="open interval"):
        life_table(pd.DataFrame({"age": [0, 1, 5], "mx": [0.01, 0.01, 0.0]}))
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        life_table([1, 2, 3])
    with pytest.raises(InvalidParameterError, match="sex"):
        life_table(austria(), sex="other")
    with pytest.raises(InvalidParameterError, match="ax"):
        life_table(austria(ax=[9.0] * 19))


def test_sullivan_reproduces_euroreves_guide():
    table = pd.DataFrame({"age": HAUET_AGE, "lx": HAUET_LX, "Lx": HAUET_LLX})
    prev = pd.DataFrame({"age": HAUET_AGE, "prevalence": HAUET_PREV,
                         "se": np.sqrt(HAUET_VAR_PREV)})  # fmt: skip
    out = sullivan_hale(table, prev)
    # prevalences are printed to 3 decimals: healthy years agree within 0.05% of Lx
    assert (np.abs(out["Tx_healthy"] - HAUET_T_FREE) / out["Tx_healthy"]).max() < 2e-3
    assert np.abs(out["hle"] - HAUET_DFLE).max() <= 0.05 + 1e-9
    assert np.abs(out["hle_se"] ** 2 - HAUET_VAR_DFLE).max() < 6e-5
    assert np.abs(out["hle_se"] - HAUET_SE_DFLE).max() <= 0.005 + 1e-9
    assert (out["le"] - out["hle"]).to_numpy() == pytest.approx(out["ule"].to_numpy())


def test_sullivan_with_life_table_and_sample_size():
    lt = life_table(austria())
    prev = pd.DataFrame({"age": AUSTRIA_AGE, "prevalence": np.linspace(0, 0.6, 19),
                         "sample_size": 400})  # fmt: skip
    out = sullivan_hale(lt, prev)
    assert (out["hle"] <= out["le"] + 1e-12).all()
    se = sullivan_hale(lt, prev.assign(se=np.sqrt(prev.prevalence * (1 - prev.prevalence) / 400)))
    assert out["hle_se"].to_numpy() == pytest.approx(se["hle_se"].to_numpy())
    none = sullivan_hale(lt, prev.assign(prevalence=0.0).drop(columns="sample_size"))
    assert none["hle"].to_numpy() == pytest.approx(lt["ex"].to_numpy())
    with pytest.raises(InvalidParameterError, match="ages"):
        sullivan_hale(lt, prev.iloc[:-1])
    with pytest.raises(InvalidParameterError, match="percentages"):
        sullivan_hale(lt, prev.assign(prevalence=50.0))


def test_dependency_ratios_reproduce_nbs_2020():
    # Age counts from the NBS 7th census communiques (also in healthlab/data/china.yaml; the
    # total includes 2 million military without ages). Expected ratios worked by hand from those
    # counts and rounded to one decimal as NBS publishes them: total 45.9, young 26.2, old 19.7
    # per 100 aged 15-64.
    young, old, total = 253383938, 190635280, 1411778724
    pop = pd.DataFrame({"age": [0, 15, 65], "population": [young, total - young - old, old]})
    out = dependency_ratios(pop).iloc[0]
    assert out["young_dependency"] == pytest.approx(26.2, abs=0.05)
    assert out["old_dependency"] == pytest.approx(19.7, abs=0.05)
    assert out["total_dependency"] == pytest.approx(45.9, abs=0.05)
    assert out["potential_support_ratio"] == pytest.approx(100 / out["old_dependency"])
    assert np.isnan(out["median_age"])


def test_dependency_ratios_by_group_and_median_age():
    ages = np.arange(0, 101)
    pop = pd.DataFrame(
        {
            "province": np.repeat(["A", "B"], 101),
            "age": np.tile(ages, 2),
            "population": np.r_[np.full(101, 10.0), np.linspace(20, 1, 101)],
        }
    )
    out = dependency_ratios(pop, by="province").set_index("province")
    assert out.loc["A", "young_dependency"] == pytest.approx(100 * 15 / 50)
    assert out.loc["A", "old_dependency"] == pytest.approx(100 * 36 / 50)
    assert out.loc["A", "median_age"] == pytest.approx(50.5)  # uniform over 0..101
    med = median_age(pop, by="province").set_index("province")["median_age"]
    b = pop[pop.province == "B"]["population"].to_numpy()
    cum = np.cumsum(b)
    i = np.searchsorted(cum, cum[-1] / 2)
    assert med["B"] == pytest.approx(i + (cum[-1] / 2 - (cum[i] - b[i])) / b[i])


def test_structure_validation():
    gap = pd.DataFrame({"age": [0, 1, 2, 4], "population": [1, 1, 1, 1]})
    with pytest.raises(InvalidParameterError, match="gap"):
        dependency_ratios(gap)
    with pytest.raises(InvalidParameterError, match="negative"):
        median_age(pd.DataFrame({"age": [0, 5, 10], "population": [1, -1, 1]}))
    with pytest.raises(InvalidParameterError, match="start of an age group"):
        dependency_ratios(pd.DataFrame({"age": range(0, 90, 10), "population": 1.0}))


# --- projection ----------------------------------------------------------------------------
AGES5 = np.arange(0, 90, 5)


def _inputs():
    mx = 0.0003 * np.exp(0.085 * AGES5) + np.where(AGES5 == 0, 0.002, 0)
    mort = pd.DataFrame({"age": np.tile(AGES5, 2), "sex": np.repeat(["F", "M"], 18),
                         "mx": np.r_[mx, mx * 1.3]})  # fmt: skip
    fert = pd.DataFrame({"age": [15, 20, 25, 30, 35, 40, 45],
                         "asfr": [0.005, 0.06, 0.11, 0.07, 0.025, 0.005, 0.0005]})  # fmt: skip
    base = pd.DataFrame(
        {
            "age": np.tile(AGES5, 2),
            "sex": np.repeat(["F", "M"], 18),
            "population": np.r_[np.linspace(1000, 200, 18), np.linspace(1050, 150, 18)],
        }
    )
    return base, mort, fert


def _leslie(mort, fert, srb):
    """Female Leslie matrix (Preston et al. 2001, section 6.3) built from the life table."""
    lt = life_table(mort[mort.sex == "F"][["age", "mx"]], radix=1.0, sex="female")
    L, T = lt["Lx"].to_numpy(), lt["Tx"].to_numpy()
    f = fert.set_index("age")["asfr"].reindex(AGES5, fill_value=0).to_numpy()
    k, n = len(AGES5), 5.0
    A = np.zeros((k, k))
    A[np.arange(1, k - 1), np.arange(0, k - 2)] = L[1:-1] / L[:-2]
    A[k - 1, k - 2] = A[k - 1, k - 1] = T[-1] / T[-2]
    s = np.r_[L[1:] / L[:-1], 0]
    A[0] = n / 2 * (f + np.r_[f[1:], 0] * s) * L[0] / n / (1 + srb)
    return A


def test_projection_matches_leslie_matrix_and_stable_growth():
    base, mort, fert = _inputs()
    out = project_population(base, mortality=mort, fertility=fert, start_year=2020,
                             end_year=2220, sex_ratio_at_birth=1.1)  # fmt: skip
    A = _leslie(mort, fert, 1.1)
    female = base[base.sex == "F"]["population"].to_numpy()
    step1 = out[(out.year == 2025) & (out.sex == "F")]["population"].to_numpy()
    assert step1 == pytest.approx(A @ female, rel=1e-10)
    # long run: growth per step -> dominant eigenvalue of the Leslie matrix
    totals = out[out.sex == "F"].groupby("year")["population"].sum()
    lam = np.max(np.abs(np.linalg.eigvals(A)))
    assert totals.iloc[-1] / totals.iloc[-2] == pytest.approx(lam, rel=1e-3)
    last = out[(out.year == 2220) & (out.sex == "F")]["population"].to_numpy()
    assert last == pytest.approx(np.linalg.matrix_power(A, 40) @ female, rel=1e-8)
    # and close to Lotka's intrinsic rate from the continuous renewal equation
    lt = life_table(mort[mort.sex == "F"][["age", "mx"]], radix=1.0, sex="female")
    f = fert.set_index("age")["asfr"]
    Lf = lt.set_index("age")["Lx"].reindex(f.index)

    def lotka(r):
        return (np.exp(-r * (f.index + 2.5)) * Lf * f).sum() / 2.1 - 1

    r = optimize.brentq(lotka, -0.1, 0.1)
    assert np.log(lam) / 5 == pytest.approx(r, abs=5e-4)


def test_projection_scenarios_and_migration():
    base, mort, fert = _inputs()
    common = dict(mortality=mort, fertility=fert, start_year=2020, end_year=2050)
    mig = pd.DataFrame({"age": [20, 25], "sex": ["M", "F"], "net_migrants": [10.0, -4.0]})
    out = project_scenarios(base, {"low": {"tfr": 1.0}, "high": {"tfr": 1.8},
                                   "mig": {"tfr": 1.0, "migration": mig}}, **common)  # fmt: skip
    births = out[out.year == 2025].groupby("scenario")["births"].first()
    assert births["high"] / births["low"] == pytest.approx(1.8)
    totals = out[out.year == 2050].groupby("scenario")["population"].sum()
    assert totals["high"] > totals["low"]
    # first step: migration adds n * annual net migrants at the destination ages
    y1 = out[out.year == 2025].set_index(["scenario", "sex", "age"])["population"]
    assert y1["mig", "M", 20] - y1["low", "M", 20] == pytest.approx(50.0)
    assert y1["mig", "F", 25] - y1["low", "F", 25] == pytest.approx(-20.0)
    closed = project_population(base, migration=mig, migration_scale=0, tfr=1.0, **common)
    low = out[out.scenario == "low"].drop(columns="scenario").reset_index(drop=True)
    pd.testing.assert_frame_equal(closed, low)
    # mortality improvement raises survivors; a tfr path is interpolated
    better = project_population(base, mortality_improvement=0.02, **common)
    assert better["population"].sum() > project_population(base, **common)["population"].sum()
    path = project_population(base, tfr={2020: 1.0, 2050: 2.0}, **common)
    assert path[path.year == 2050]["births"].iloc[0] > path[path.year == 2025]["births"].iloc[0]


def test_projection_single_years_with_abridged_mortality_and_by_year():
    ages = np.arange(0, 101)
    base = pd.DataFrame({"age": np.tile(ages, 2), "sex": np.repeat(["F", "M"], 101),
                         "population": 100.0})  # fmt: skip
    m_ages = np.arange(0, 101)
    mort = pd.concat(
        [
            pd.DataFrame(
                {
                    "year": y,
                    "age": np.tile(m_ages, 2),
                    "sex": np.repeat(["F", "M"], 101),
                    "mx": 0.0002 * np.exp(0.09 * np.tile(m_ages, 2)) * k,
                }
            )
            for y, k in ((2020, 1.0), (2022, 0.5))
        ]  # fmt: skip
    )
    fert = pd.DataFrame({"age": range(20, 35), "asfr": 0.1})
    out = project_population(base, mortality=mort, fertility=fert, start_year=2020,
                             end_year=2024, tfr=1.5)  # fmt: skip
    assert sorted(out.year.unique()) == [2020, 2021, 2022, 2023, 2024]
    assert out.groupby("year")["births"].first().iloc[1:].to_numpy() == pytest.approx(
        1.5 / 15 * np.array([1500, 1500, 1500, 1500]), rel=0.01
    )


def test_projection_validation():
    base, mort, fert = _inputs()
    kw = dict(mortality=mort, fertility=fert, start_year=2020, end_year=2030)
    with pytest.raises(InvalidParameterError, match="multiple"):
        project_population(base, **{**kw, "end_year": 2027})
    with pytest.raises(InvalidParameterError, match="'F' or 'M'"):
        project_population(base.assign(sex="female"), **kw)
    with pytest.raises(InvalidParameterError, match="negative"):
        project_population(base.assign(population=-1.0), **kw)
    with pytest.raises(InvalidParameterError, match="cover"):
        project_population(base, **{**kw, "mortality": mort[mort.age != 40]})
    with pytest.raises(InvalidParameterError, match="gap"):
        project_population(base[base.age != 40], **kw)
    with pytest.raises(InvalidParameterError, match="scenarios"):
        project_scenarios(base, {}, **kw)
    odd = pd.DataFrame({"age": [22], "sex": ["F"], "net_migrants": [5.0]})
    with pytest.raises(InvalidParameterError, match="same grid"):
        project_population(base, migration=odd, **kw)
    with pytest.raises(InvalidParameterError, match="same grid"):
        project_population(base, **{**kw, "fertility": fert.assign(age=fert.age + 1)})


# --- Lee-Carter ----------------------------------------------------------------------------
def test_lee_carter_recovers_log_bilinear_rates_and_forecasts_drift():
    ages = np.arange(0, 90, 5).astype(float)
    years = np.arange(1990, 2020)
    a = np.log(0.0005) + 0.08 * ages
    b = np.exp(-ages / 40)
    b = b / b.sum()
    k = 30 - 2.0 * (years - years[0]) + np.sin(years)  # trend + wiggle
    k = k - k.mean()
    mx = np.exp(a[None, :] + np.outer(k, b))
    rates = pd.DataFrame({"year": np.repeat(years, 18), "age": np.tile(ages, 30),
                          "mx": mx.ravel()})  # fmt: skip
    model = lee_carter(rates)
    assert model.explained == pytest.approx(1.0)
    assert model.bx == pytest.approx(b, rel=1e-9)
    assert model.kt == pytest.approx(k, abs=1e-9)
    assert model.fitted()["mx"].to_numpy() == pytest.approx(mx.ravel(), rel=1e-9)
    fc = model.forecast(10)
    drift = (k[-1] - k[0]) / 29
    assert fc.groupby("year")["kt"].first().to_numpy() == pytest.approx(
        k[-1] + drift * np.arange(1, 11)
    )
    width = (fc["kt_upper"] - fc["kt_lower"]).groupby(fc["year"]).first().to_numpy()
    assert (np.diff(width) > 0).all()
    assert (fc["mx_lower"] <= fc["mx"]).all() and (fc["mx"] <= fc["mx_upper"]).all()
    # rates forecast feed a life table
    e = [life_table(g[["age", "mx"]])["ex"].iloc[0] for _, g in fc.groupby("year")]
    assert np.all(np.diff(e) > 0)


def test_lee_carter_validation():
    rates = pd.DataFrame({"year": [2000, 2000, 2001], "age": [0, 5, 0], "mx": [0.1, 0.2, 0.1]})
    with pytest.raises(InvalidParameterError, match="grid"):
        lee_carter(rates)
    with pytest.raises(InvalidParameterError, match="above 0"):
        lee_carter(rates.assign(mx=0.0))


# --- burden ---------------------------------------------------------------------------------
def test_service_demand_by_sex_with_coarse_rates():
    proj = pd.DataFrame({"scenario": "base", "year": np.repeat([2025, 2035], 4),
                         "sex": ["F", "F", "M", "M"] * 2, "age": [0, 70] * 4,
                         "population": [100.0, 50, 100, 40, 90, 70, 90, 60]})  # fmt: skip
    rates = pd.DataFrame({"sex": ["F", "F", "M", "M"], "age": [0, 60] * 2,
                          "prevalence": [0.1, 0.5, 0.1, 0.6],
                          "admission_rate": [0.1, 0.4, 0.1, 0.5],
                          "length_of_stay": [4.0, 10, 4, 12]})  # fmt: skip
    out = project_service_demand(proj, rates, occupancy=1.0).set_index("year")
    assert out.loc[2025, "patients"] == pytest.approx(10 + 25 + 10 + 24)
    assert out.loc[2035, "bed_days"] == pytest.approx(9 * 4 + 28 * 10 + 9 * 4 + 30 * 12)
    assert out.loc[2035, "beds_needed"] == pytest.approx(out.loc[2035, "bed_days"] / 365)
    assert (out["scenario"] == "base").all()
    from healthlab.allocation import beds_needed

    sized = project_service_demand(proj, rates, turn_away=0.01).set_index("year")
    stay = out.loc[2035, "bed_days"] / out.loc[2035, "admissions"]
    expected = beds_needed(out.loc[2035, "admissions"] / 365, stay, target=0.01)["beds"].iloc[0]
    assert sized.loc[2035, "beds_erlang"] == expected
    assert sized.loc[2035, "beds_erlang"] > out.loc[2035, "beds_needed"]
    with pytest.raises(InvalidParameterError, match="length_of_stay"):
        project_service_demand(proj, rates.drop(columns="admission_rate"))
    with pytest.raises(InvalidParameterError, match="from age 0"):
        project_service_demand(proj, rates.assign(age=[5, 60] * 2))


def test_life_table_says_to_sort_descending_ages_and_refuses_more_deaths_than_years():
    rows = pd.DataFrame({"age": [0, 1, 5], "deaths": [5, 2, 40], "exposure": [500, 2000, 60]})
    with pytest.raises(InvalidParameterError, match="sort the table by age"):
        life_table(rows.iloc[::-1])
    with pytest.raises(
        InvalidParameterError, match="exceeds data\\['exposure'\\] at ages \\[1.0\\]"
    ):
        life_table(rows.assign(deaths=[5, 2500, 40]))
    # The open group of the oldest may have a death rate above 1 a year.
    assert life_table(rows.assign(deaths=[5, 2, 90]))["ex"].iloc[-1] < 1
