"""The ``healthlab`` command: a thin shell over the library.

Each subcommand parses its options and calls one library function with keywords; everything
the command does, Python can do too. Usage errors (an unknown command, option or value) print
one line and exit with code 2; other healthlab errors print one line and exit with code 1.
"""

from __future__ import annotations

import sys

import click

from healthlab import __version__, datasets
from healthlab.errors import HealthlabError, InvalidParameterError
from healthlab.grading import cli as _grading_cli

SIZE = click.Choice(datasets.SIZES)


class _Seed(click.ParamType):
    """A seed: a whole number of at least 0, with a message that says so."""

    name = "seed"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        self.fail(f"a seed is a whole number of at least 0, such as 0 or 42; got {value!r}")


SEED = _Seed()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="healthlab")
def cli() -> None:
    """healthlab: synthetic health data, analysis methods and case-study notebooks."""


@cli.group()
def data() -> None:
    """List, describe and build the catalogue's datasets."""


@data.command("list")
def data_list() -> None:
    """List the datasets with their sizes."""
    names = datasets.list_datasets()
    if not names:
        click.echo("The catalogue holds no datasets yet.")
        return
    for name in names:
        spec = datasets.card(name)
        click.echo(f"{name}: {spec['title']}")
        for size, what in datasets.size_table(name).items():
            click.echo(f"  {size:<7} {what}")


@data.command("card")
@click.argument("name")
def data_card(name: str) -> None:
    """Print the card (recipe and datasheet) of dataset NAME as YAML."""
    import yaml

    click.echo(yaml.safe_dump(datasets.card(name), sort_keys=False, allow_unicode=True))


@data.command("build")
@click.argument("name")
@click.option("--size", type=SIZE, default="small", show_default=True, help="How big.")
@click.option("--seed", type=SEED, default=None, help="Default: the card's.")
@click.option("--force", is_flag=True, help="Build again even if the cache (or --out) holds it.")
# --- platform (issue 13): any number of people, block by block, into a folder -------------
@click.option("--people", type=click.IntRange(min=1), default=None,
              help="Build NAME (population, clinical) for this many people into --out, "
              "block by block, instead of a catalogue size.")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="With --people: the folder to build (Parquet by province and year).",
)
@click.option(
    "--year",
    type=int,
    default=2020,
    show_default=True,
    help="With --people: the population's year (2020-2024).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --people: local worker processes (default: the number of cores).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="With --people: run on the Dask cluster at ADDRESS (tcp://host:8786).",
)
@click.pass_context
def data_build(ctx, name, size, seed, force, people, out, year, workers, scheduler) -> None:
    """Build dataset NAME (or take it from the cache) and print where it is.

    With --people N --out DIR it builds NAME for N people into DIR on local processes or a
    Dask cluster; query it with `healthlab sql DIR "SELECT ..."`.
    """
    platform_only = {"--out": out, "--workers": workers, "--scheduler": scheduler}
    if people is None:
        given = [k for k, v in platform_only.items() if v is not None]
        if given or ctx.get_parameter_source("year") != click.core.ParameterSource.DEFAULT:
            raise click.UsageError(f"{', '.join(given) or '--year'} needs --people N")
        _catalogue_build(name, size, seed, force)
        return
    if ctx.get_parameter_source("size") != click.core.ParameterSource.DEFAULT:
        raise click.UsageError("pass either --size (a catalogue size) or --people, not both")
    if out is None:
        raise click.UsageError("--people needs --out DIR, the folder to build into")
    if workers is not None and scheduler is not None:
        raise click.UsageError("pass either --workers or --scheduler, not both")
    from healthlab import platform

    with _ProgressBar(f"building {name} ({people:,} people)", unit="person") as progress:
        report = platform.build(name, people, out, year=year, workers=workers,
                                scheduler=scheduler, force=force, progress=progress,
                                seed=0 if seed is None else seed)  # fmt: skip
    click.echo(report.summary())


def _catalogue_build(name: str, size: str, seed: int | None, force: bool) -> None:
    with _ProgressBar(f"building {name} ({size})") as progress:
        fn = datasets.build if force else datasets.load
        ds = fn(name, size=size, seed=seed, progress=progress)
    for row in ds.summary().itertuples(index=False):
        click.echo(f"{row.table}: {row.rows:,} rows x {row.columns} columns")
    click.echo(f"cached in {ds.path}")


@data.command("calibration")
@click.argument("names", nargs=-1)
@click.option("--size", type=SIZE, default="small", show_default=True, help="How big.")
@click.option("--seed", type=SEED, default=None, help="Default: the card's.")
def data_calibration(names: tuple[str, ...], size: str, seed: int | None) -> None:
    """Build datasets (default: all) and print each calibration figure beside its target.

    A figure is marked `too small` at a size below the one its card says it holds from (a tiny
    dataset cannot show national shares); the exit code is 1 when a figure is off at a size
    that should hold it.
    """
    names = names or tuple(datasets.list_datasets())
    if not names:
        click.echo("The catalogue holds no datasets yet: nothing to calibrate.")
        return
    counts: dict[str, int] = {}
    failed = []
    for name in names:
        spec = datasets.card(name)
        if size not in spec["sizes"]:
            click.echo(f"\n{name}: no size {size!r} in its card; skipped")
            continue
        ds = datasets.load(name, size=size, seed=seed)
        summary = datasets.calibration_summary(ds)
        click.echo(f"\n{name} ({size}, seed {ds.seed}): {spec['title']}")
        if summary.empty:
            click.echo("  (its card lists no calibration figures)")
            continue
        click.echo(datasets.calibration_report(summary))
        for status, n in summary["status"].value_counts().items():
            counts[status] = counts.get(status, 0) + int(n)
        failed += [f"{name}: {f}" for f in summary.loc[summary["status"] == "fail", "figure"]]
    order = ("pass", "fail", "too small", "shown")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    click.echo(f"\ncalibration at size {size}: {', '.join(parts) or 'no figures'}")
    if failed:
        click.echo("off at a size that should hold them:\n  " + "\n  ".join(failed))
        sys.exit(1)


# --- platform (issue 13): SQL over a built folder ------------------------------------------


@cli.command("sql")
@click.argument("folder", type=click.Path(file_okay=False))
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table to read; csv or json (records) for scripts.",
)
def sql_command(folder: str, query: str, fmt: str) -> None:
    """Run SQL QUERY on the tables of FOLDER (made by `healthlab data build --people`).

    Each table is a view: population, encounters, diagnoses, ... with province (and year)
    as columns. Example: healthlab sql DIR "SELECT province, count(*) FROM population GROUP BY 1"
    """
    from healthlab import platform

    click.echo(platform.format_result(platform.query(folder, query), fmt), nl=False)


# --- healthlab run: case-study notebooks with papermill (issue 10) -------------------------


@cli.command("run")
@click.argument("notebooks", nargs=-1)
@click.option("--size", type=SIZE, default=None, help="The size parameter for every notebook.")
@click.option(
    "--seed", type=SEED, default=None, help="The seed parameter for every notebook (as -p seed=N)."
)
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter for the notebooks that have it (repeatable); VALUE is read as YAML.",
)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Notebooks at once [default: cores]."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Run folder [default: runs/<timestamp>/].",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds per cell."
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on the Dask cluster at ADDRESS (tcp://host:8786); its workers must see --out.",
)
def run_command(notebooks, size, seed, parameters, jobs, out, timeout, scheduler) -> None:
    """Run NOTEBOOKS (paths, names or numbers; default all) and write their report.

    Each notebook runs with papermill in its own kernel. The run folder holds each executed
    notebook, its HTML rendering, the answers it recorded and index.html, the report. The exit
    code is 0 when every notebook passed, 1 otherwise.
    """
    from healthlab import runs

    params = dict(runs.parse_parameter(p) for p in parameters)
    if seed is not None:
        if params.get("seed", seed) != seed:
            raise click.UsageError(f"--seed {seed} and -p seed={params['seed']} disagree: pass one")
        params["seed"] = seed
    with _cluster(scheduler, jobs) as pool:
        report = runs.run_notebooks(
            notebooks, size=size, parameters=params, jobs=jobs, out=out, timeout=timeout,
            executor=pool,
        )  # fmt: skip
    for result in report.results:
        line = f"{result.status:<7} {result.name:<32} {result.seconds:6.1f} s"
        if result.error:
            cell = result.error.get("cell")
            where = f" in cell {cell + 1}" if cell is not None else ""
            line += f"  {result.error['ename']}{where}: {result.error['evalue']}"[:160]
        elif result.missing:
            line += f"  not answered: {', '.join(result.missing)}"
        click.echo(line)
    passed = sum(r.passed for r in report.results)
    click.echo(f"{passed} of {len(report.results)} passed in {report.seconds:.1f} s")
    click.echo(f"report: {report.index}")
    if not report.ok:
        sys.exit(1)


def _cluster(scheduler: str | None, jobs: int | None):
    """The Dask cluster's executor for --scheduler (platform, issue 13); else no executor."""
    if scheduler is not None and jobs is not None:
        raise click.UsageError(
            "pass either --jobs or --scheduler, not both: a cluster's size is set where it starts"
        )
    from healthlab import platform

    return platform.cluster_executor(scheduler)


# --- healthlab course: course tracks and their sites (issue 12) ----------------------------


@cli.group()
def course() -> None:
    """List, check and build the course tracks of curricula/."""


@course.command("list")
def course_list() -> None:
    """List the tracks with their modules and hours."""
    from healthlab import courses

    for path in courses.list_tracks():
        track = courses.load_track(path)
        click.echo(
            f"{track.name:<14} {len(track.modules)} modules, {track.hours:g} h  {track.title}"
        )
        for n, module in enumerate(track.modules, 1):
            click.echo(f"    {n}. {module.id:<16} {module.notebook:<26} {module.hours:g} h")


@course.command("check")
@click.argument("tracks", nargs=-1)
def course_check(tracks: tuple[str, ...]) -> None:
    """Check TRACKS (names or files; default all): schema, notebooks, parameters, prerequisites,
    competencies. Exit code 2 when one is broken; every problem is named with file and line."""
    from healthlab import courses
    from healthlab.errors import HealthlabError

    targets = list(tracks) or [str(p) for p in courses.list_tracks()]
    broken = []
    for target in targets:
        try:
            track = courses.check_track(target)
        except courses.TrackError as err:
            broken += err.problems
            continue
        click.echo(f"ok  {track.name}: {len(track.modules)} modules, {track.hours:g} hours")
    if broken:
        for problem in broken:
            click.echo(problem, err=True)
        click.echo(f"healthlab: {len(broken)} problem(s) in the tracks", err=True)
        sys.exit(2)
    if not targets:
        raise HealthlabError("no tracks (*.yaml) in curricula/")


@course.command("build")
@click.argument("track")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="The site folder.")
@click.option("--size", type=SIZE, default=None, help="Override every module's size.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Notebooks at once.")
@click.option("--solutions", is_flag=True, help="Keep solutions in the site (for instructors).")
def course_build(track: str, out: str, size, jobs, solutions: bool) -> None:
    """Run TRACK's notebooks with its parameters and write its static site to --out."""
    from healthlab import courses

    site = courses.build_site(track, out, size=size, jobs=jobs, solutions=solutions)
    for result in site.run.results:
        line = f"{result.status:<7} {result.name:<20} {result.seconds:6.1f} s"
        if result.error:
            line += f"  {result.error['ename']}: {result.error['evalue']}"[:160]
        click.echo(line)
    click.echo(f"site: {site.index}  (built in {site.seconds:.1f} s)")
    if not site.ok:
        sys.exit(1)


class _ProgressBar:
    """A tqdm bar fed by a generator's ``progress(done, total)`` calls, on a terminal only.

    When stderr is a file or a pipe (a log, CI), no bar is drawn: no ``\\r`` in log files.
    """

    def __init__(self, desc: str, unit: str = "row"):
        self.desc = desc
        self.unit = unit
        self.bar = None

    def __enter__(self):
        return self

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if not sys.stderr.isatty():
            return
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.desc, unit=self.unit, unit_scale=True)
        self.bar.update(done - self.bar.n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


# Grading: `healthlab assign`, `healthlab validate`, `healthlab grade` (healthlab.grading.cli).
_grading_cli.register(cli)


def main(argv: list[str] | None = None) -> None:
    """Run the command; turn errors into one line on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name="healthlab", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.Abort:
        click.echo("healthlab: aborted", err=True)
        sys.exit(1)
    except click.UsageError as err:
        if type(err).__name__ == "NoArgsIsHelpError":  # bare `healthlab` or `healthlab data`
            click.echo(err.ctx.get_help())
            sys.exit(0)
        hint = ""
        if err.ctx is not None:
            hint = f" (see `{err.ctx.command_path} --help`)"
        click.echo(f"healthlab: error: {err.format_message()}{hint}", err=True)
        sys.exit(2)
    except InvalidParameterError as err:
        click.echo(f"healthlab: error: {err}", err=True)
        sys.exit(2)
    except HealthlabError as err:
        click.echo(f"healthlab: error: {err}", err=True)
        sys.exit(1)
    sys.exit(0)
