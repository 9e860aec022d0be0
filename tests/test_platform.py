"""The platform: block-by-block builds into partitioned Parquet, DuckDB views, Dask clusters."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from healthlab import platform
from healthlab.cli import main
from healthlab.errors import ClusterError, InvalidParameterError, StoreError
from healthlab.synth import make_clinical, make_facilities, make_population

BLOCK = 65_536


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as strings, one time unit, a fresh index: a DuckDB result beside pandas."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("str")  # missing stays missing
        elif pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].astype("datetime64[ns]")  # DuckDB gives us, pandas ms
    return out.reset_index(drop=True)


def assert_same_rows(left: pd.DataFrame, right: pd.DataFrame, key) -> None:
    left, right = plain(left), plain(right)[list(left.columns)]
    left = left.sort_values(key, kind="stable").reset_index(drop=True)
    right = right.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False)


def contents(manifest: dict) -> dict:
    """What a manifest says about the data: every file with its rows and checksum."""
    return {t: [(f["file"], f["rows"], f["sha256"]) for f in m["files"]]
            for t, m in manifest["tables"].items()}  # fmt: skip


@pytest.fixture(scope="module")
def population_builds(tmp_path_factory):
    """The same population (3 blocks, one a task) built with 1 and with 3 local workers."""
    root = tmp_path_factory.mktemp("population")
    n = 3 * BLOCK - 100
    one = platform.build("population", n, root / "one", workers=1, blocks_per_task=1, seed=5)
    three = platform.build("population", n, root / "three", workers=3, blocks_per_task=1, seed=5)
    return n, one, three


@pytest.fixture(scope="module")
def clinical_builds(tmp_path_factory):
    """Clinical records of 2 full blocks and one of 3,000 people, with 1 and 3 workers."""
    root = tmp_path_factory.mktemp("clinical")
    n = 2 * BLOCK + 3000
    one = platform.build("clinical", n, root / "one", workers=1, blocks_per_task=1, seed=2)
    three = platform.build("clinical", n, root / "three", workers=3, blocks_per_task=1, seed=2)
    return n, one, three


def test_population_with_1_and_3_workers_is_the_same_and_is_the_generators(population_builds):
    n, one, three = population_builds
    assert one.rows == three.rows == {"population": n}
    assert one.tasks == three.tasks == 3
    # Files are named by task, never by worker: the very same bytes.
    assert contents(platform.read_manifest(one.path)) == contents(
        platform.read_manifest(three.path)
    )
    got = platform.connect(three.path).sql("select * from population").df()
    assert_same_rows(got, make_population(n, seed=5), "person_id")


@pytest.mark.slow
def test_clinical_with_1_and_3_workers_is_the_same(clinical_builds):
    n, one, three = clinical_builds
    assert one.rows == three.rows
    assert set(one.rows) == set(platform.BUILDS["clinical"])
    assert contents(platform.read_manifest(one.path)) == contents(
        platform.read_manifest(three.path)
    )
    a, b = platform.connect(one.path), platform.connect(three.path)
    for table in ("encounters", "diagnoses", "outcomes"):
        left, right = a.sql(f"select * from {table}").df(), b.sql(f"select * from {table}").df()
        key = ["encounter_id", "seq"] if table == "diagnoses" else ["encounter_id"]
        assert len(left) == one.rows[table] > 0
        assert_same_rows(left, right, key)


@pytest.mark.slow
def test_clinical_build_holds_the_generators_records(clinical_builds):
    n, one, _ = clinical_builds
    people = make_population(n, blocks=(2, 3), seed=2)  # the last block, 3,000 people
    records = make_clinical(people, facilities=make_facilities(seed=2), seed=2)
    con = platform.connect(one.path)
    first = 2 * BLOCK
    for table, key in [("encounters", ["encounter_id", "admit_date"]),
                       ("diagnoses", ["encounter_id", "seq"]), ("person_years", ["person_id"]),
                       ("observations", ["encounter_id", "loinc", "value"])]:  # fmt: skip
        got = con.sql(f"select * exclude (year) from {table} where person_id > {first}").df()
        expected = records[table]
        if "province" not in expected:
            province = people.set_index("person_id")["province"].astype(str)
            expected = expected.assign(province=expected["person_id"].map(province))
        assert_same_rows(got, expected, key)
    assert set(con.sql("select distinct year from encounters").df()["year"]) == {2020}
    facilities = con.sql("select * from facilities").df()
    assert_same_rows(facilities, make_facilities(seed=2), "facility_id")


def prevalence_sql(con) -> pd.DataFrame:
    return con.sql("""
        select province, least(age // 20 * 20, 80) as band, avg(diabetes::int) as prevalence
        from population group by 1, 2 order by 1, 2""").df()


def prevalence_pandas(people: pd.DataFrame) -> pd.DataFrame:
    band = np.minimum(people["age"] // 20 * 20, 80).rename("band")
    out = people.groupby([people["province"].astype(str), band])["diabetes"].mean()
    return out.rename("prevalence").reset_index().sort_values(["province", "band"])


def admissions_sql(con) -> pd.DataFrame:
    return con.sql("""
        select month(admit_date) as month,
               1000.0 * count(*) / (select count(*) from population) as per_1000
        from encounters where encounter_type = 'inpatient' group by 1 order by 1""").df()


def admissions_pandas(encounters: pd.DataFrame, n_people: int) -> pd.DataFrame:
    inpatient = encounters[encounters["encounter_type"] == "inpatient"]
    out = inpatient.groupby(inpatient["admit_date"].dt.month.rename("month")).size()
    return (1000.0 * out / n_people).rename("per_1000").reset_index()


def top_diagnoses_sql(con) -> pd.DataFrame:
    return con.sql("""
        select d.icd10, sum(e.cost_yuan) as cost
        from diagnoses d join encounters e using (encounter_id)
        where d.seq = 1 group by 1 order by 2 desc, 1 limit 20""").df()


def top_diagnoses_pandas(diagnoses: pd.DataFrame, encounters: pd.DataFrame) -> pd.DataFrame:
    primary = diagnoses.loc[diagnoses["seq"] == 1, ["encounter_id", "icd10"]]
    joined = primary.merge(encounters[["encounter_id", "cost_yuan"]], on="encounter_id")
    cost = joined.groupby(joined["icd10"].astype(str))["cost_yuan"].sum().rename("cost")
    cost = cost.reset_index().sort_values(["cost", "icd10"], ascending=[False, True])
    return cost.head(20)


@pytest.mark.slow
def test_queries_through_connect_equal_pandas_on_the_same_files(clinical_builds):
    n, one, _ = clinical_builds
    con = platform.connect(one.path, verify=True)
    # pandas reads the very files the views read (pyarrow restores the partition columns).
    read = {t: pd.read_parquet(one.path / t) for t in ("population", "encounters", "diagnoses")}
    assert len(read["population"]) == n
    pd.testing.assert_frame_equal(
        prevalence_sql(con).reset_index(drop=True),
        prevalence_pandas(read["population"]).reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        admissions_sql(con), admissions_pandas(read["encounters"], n), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        top_diagnoses_sql(con).reset_index(drop=True),
        top_diagnoses_pandas(read["diagnoses"], read["encounters"]).reset_index(drop=True),
        check_dtype=False,
    )


def test_province_filter_reads_only_that_partition(population_builds):
    n, one, _ = population_builds
    con = platform.connect(one.path)
    hubei = con.execute("select count(*) from population where province = 'Hubei'").fetchone()[0]
    expected = (make_population(n, seed=5)["province"] == "Hubei").sum()
    assert hubei == expected > 0
    plan = con.execute("explain analyze select count(*) from population where province = 'Hubei'")
    scanned = re.search(r"Scanning Files: (\d+)/(\d+)", plan.fetchall()[0][1])
    assert scanned is not None, "DuckDB's plan does not say which files it scanned"
    assert (int(scanned[1]), int(scanned[2])) == (one.tasks, 31 * one.tasks)  # Hubei's files


def test_a_killed_build_leaves_no_manifest_and_a_rebuild_completes(tmp_path):
    out = tmp_path / "killed"
    staging = tmp_path / ".killed.partial"
    n = 6 * BLOCK
    script = (
        "from healthlab import platform; "
        f"platform.build('population', {n}, {str(out)!r}, workers=2, blocks_per_task=1, seed=9)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while len(list((staging / ".tasks").glob("task-*.json"))) < 2:
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "the build made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its worker processes, at once
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert not list(tmp_path.rglob("manifest.json"))
    with pytest.raises(StoreError, match="did not finish"):
        platform.connect(out)

    report = platform.build("population", n, out, workers=1, blocks_per_task=1, seed=9)
    assert report.resumed >= 2 and report.tasks == 6
    assert not staging.exists()
    manifest = platform.read_manifest(out)
    assert manifest["tables"]["population"]["rows"] == n
    got = platform.connect(out, verify=True).sql("select * from population").df()
    assert_same_rows(got, make_population(n, seed=9), "person_id")


def test_an_existing_folder_is_never_clobbered(tmp_path, population_builds):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("my work")
    with pytest.raises(StoreError, match="not empty"):
        platform.build("population", 100, other, workers=1)
    assert (other / "notes.txt").read_text() == "my work"

    out = tmp_path / "pop"
    platform.build("population", 100, out, workers=1)
    again = platform.build("population", 100, out, workers=1)
    assert again.tasks == 0 and "nothing to do" in again.summary()
    with pytest.raises(StoreError, match="different build"):
        platform.build("population", 200, out, workers=1)
    platform.build("population", 200, out, workers=1, force=True)
    assert platform.query(out, "select count(*) as n from population")["n"].item() == 200


def test_two_builds_into_one_folder_at_once_are_refused(tmp_path):
    import fcntl

    out = tmp_path / "pop"
    with open(tmp_path / ".pop.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a build in another process holds it
        with pytest.raises(StoreError, match="another build into"):
            platform.build("population", 100, out, workers=1)
    assert not out.exists()
    platform.build("population", 100, out, workers=1)
    assert not (tmp_path / ".pop.lock").exists()


def test_a_damaged_build_is_refused(tmp_path):
    out = tmp_path / "pop"
    platform.build("population", 300, out, workers=1)
    manifest = platform.read_manifest(out)
    first = out / manifest["tables"]["population"]["files"][0]["file"]
    first.write_bytes(first.read_bytes()[:-10])
    with pytest.raises(StoreError, match="does not match the manifest"):
        platform.connect(out)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "hospital_systems"}, "cannot build 'hospital_systems'"),
        ({"n_people": 0}, "n_people must be a positive integer"),
        ({"year": 1999}, "year must be one of"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"workers": 0}, "workers must be a positive integer"),
        ({"blocks_per_task": 0}, "blocks_per_task must be a positive integer"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:8786"}, "not both"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path, kwargs, message):
    args = {"name": "population", "n_people": 100, "out": tmp_path / "x", **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        platform.build(args.pop("name"), args.pop("n_people"), args.pop("out"), **args)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    from healthlab.platform import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ClusterError, match="cannot reach a Dask scheduler"):
        platform.build("population", 100, tmp_path / "x", scheduler="tcp://127.0.0.1:9")


@pytest.mark.slow
def test_a_build_on_a_dask_cluster_is_the_same(dask_cluster, tmp_path, population_builds):
    n, one, _ = population_builds
    report = platform.build("population", n, tmp_path / "dask", scheduler=dask_cluster,
                            blocks_per_task=1, seed=5)  # fmt: skip
    assert "Dask worker" in report.where
    assert contents(platform.read_manifest(report.path)) == contents(
        platform.read_manifest(one.path)
    )


@pytest.mark.slow
def test_cli_builds_on_a_dask_cluster_and_sql_prints_it(dask_cluster, tmp_path, capsys):
    out = tmp_path / "cli"
    with pytest.raises(SystemExit) as stop:
        main(["data", "build", "population", "--people", "2500", "--out", str(out),
              "--scheduler", dask_cluster, "--seed", "4"])  # fmt: skip
    assert stop.value.code == 0
    assert "population: 2,500 rows" in capsys.readouterr().out
    query = "select sex, count(*) as n from population group by 1 order by 1"
    expected = make_population(2500, seed=4)["sex"].value_counts().sort_index()
    for fmt in ("table", "csv", "json"):
        with pytest.raises(SystemExit) as stop:
            main(["sql", str(out), query, "--format", fmt])
        assert stop.value.code == 0
        text = capsys.readouterr().out
        if fmt == "json":
            rows = json.loads(text)
            assert {r["sex"]: r["n"] for r in rows} == expected.to_dict()
        elif fmt == "csv":
            assert text.splitlines() == ["sex,n"] + [f"{k},{v}" for k, v in expected.items()]
        else:
            assert text.split()[:2] == ["sex", "n"] and str(expected["F"]) in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "build", "population", "--people", "10"], "--people needs --out"),
        (["data", "build", "population", "--workers", "2"], "--workers needs --people"),
        (
            ["data", "build", "population", "--people", "9", "--size", "tiny", "--out", "x"],
            "either --size",
        ),  # fmt: skip
        (["sql", "no-such-folder", "select 1"], "holds no complete healthlab build"),
        (["sql", "no-such-folder", "select 1", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_cli_errors_are_one_line(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code in (1, 2)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("blocks", [1, 2, 5, 14, 20, 153, 1526])
@pytest.mark.parametrize("per_task", [1, 3, 8, 16])
def test_tasks_cover_the_blocks_in_order_and_taper_at_the_end(blocks, per_task):
    from healthlab.platform._tasks import layout

    tasks = layout(blocks, per_task)
    assert [b for first, last in tasks for b in range(first, last)] == list(range(blocks))
    sizes = [last - first for first, last in tasks]
    assert max(sizes) <= per_task and min(sizes) >= 1
    if blocks > 2 * per_task:  # a long build ends on smaller and smaller tasks, down to one block
        full = max(i for i, size in enumerate(sizes) if size == max(sizes))
        assert sizes[full:] == sorted(sizes[full:], reverse=True) and sizes[-1] == 1
