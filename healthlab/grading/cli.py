"""The instructor's and student's grading commands: ``assign``, ``validate`` and ``grade``.

Registered on the ``healthlab`` command by :mod:`healthlab.cli`; each parses its options and
calls one function of :mod:`healthlab.grading`.
"""

from __future__ import annotations

import json
import os
import sys

import click

__all__ = ["register"]


def _parameters(pairs: tuple[str, ...]) -> dict:
    """``-p name=value`` pairs; values are read as JSON when they parse (``-p size=tiny``)."""
    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{pair!r}: write name=value, e.g. -p size=tiny")
        try:
            values[name.strip()] = json.loads(text)
        except ValueError:
            values[name.strip()] = text
    return values


PARAMETER = click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A notebook parameter every student gets (repeatable), e.g. -p size=tiny.",
)
EXISTING = click.Path(exists=True, dir_okay=False)


@click.command("assign")
@click.argument("source", type=EXISTING)
@click.option("--roster", required=True, type=EXISTING, help="CSV with a student_id column.")
@click.option("--secret-file", required=True, type=EXISTING, help="The course secret.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Release folder.")
@PARAMETER
@click.option("--assignment", default=None, help="Name in the seed (default: SOURCE's name).")
@click.option("--validate", is_flag=True, help="First check the solutions pass their checks.")
def assign_command(source, roster, secret_file, out, parameters, assignment, validate) -> None:
    """Write one notebook per roster student, with their own seed, and a manifest."""
    from healthlab.grading import assign

    manifest = assign(
        source,
        roster=roster,
        secret_file=secret_file,
        out=out,
        parameters=_parameters(parameters),
        assignment=assignment,
        validate=validate,
    )
    count = len(json.loads(manifest.read_text(encoding="utf-8"))["students"])
    click.echo(f"wrote {count} student notebooks and {manifest}")


@click.command("validate")
@click.argument("notebook", type=EXISTING)
@PARAMETER
def validate_command(notebook, parameters) -> None:
    """Run your NOTEBOOK and check each answer's form before you submit it."""
    from healthlab.grading import validate

    checks, status = validate(notebook, parameters=_parameters(parameters))
    for err in status.get("errors", []):
        click.echo(f"cell {err['cell']} raised {err['ename']}: {err['evalue']}")
    if status.get("dead_kernel") is not None:
        click.echo(f"the kernel died in cell {status['dead_kernel']}")
    ready = 0
    for check in checks:
        mark = "ok  " if check.passed else "todo"
        click.echo(
            f"{mark} {check.question} ({check.points:g} points): "
            + ("answered" if check.answered else "no answer recorded")
        )
        if check.answered and not check.passed:
            click.echo("     " + check.detail.replace("\n", "\n     "))
        ready += check.passed
    click.echo(
        f"{ready} of {len(checks)} questions answered and passing the self-checks "
        "(they check the form of an answer, not whether it is right)"
    )
    if ready < len(checks):
        sys.exit(1)


@click.command("grade")
@click.argument("source", type=EXISTING)
@click.option("--roster", required=True, type=EXISTING, help="CSV with a student_id column.")
@click.option("--secret-file", required=True, type=EXISTING, help="The course secret.")
@click.option(
    "--submissions",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Folder of <student_id>.ipynb files.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Grades folder.")
@PARAMETER
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Submissions at once (default: the number of cores).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="Seconds per cell.",
)
@click.option(
    "--total-timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Seconds per submission (default: 60 + timeout per code cell).",
)
@click.option(
    "--memory",
    type=click.IntRange(min=64),
    default=2048,
    show_default=True,
    help="MB per submission.",
)
@click.option(
    "--isolation",
    type=click.Choice(["auto", "root", "userns", "rlimits"]),
    default="auto",
    show_default=True,
    help="Sandbox level (auto: the strongest).",
)
@click.option("--assignment", default=None, help="Name in the seed (default: SOURCE's name).")
@click.option("--force", is_flag=True, help="Grade again what is already graded.")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Grade on the Dask cluster at ADDRESS (tcp://host:8786); its workers must see the files.",
)
def grade_command(
    source,
    roster,
    secret_file,
    submissions,
    out,
    parameters,
    jobs,
    timeout,
    total_timeout,
    memory,
    isolation,
    assignment,
    force,
    scheduler,
) -> None:
    """Grade every submission in a sandbox; write the gradebook, grades.csv and feedback."""
    from healthlab import platform
    from healthlab.grading import Limits, grade

    if scheduler is not None and jobs is not None:
        raise click.UsageError(
            "pass either --jobs or --scheduler, not both: a cluster's size is set where it starts"
        )
    with platform.cluster_executor(scheduler) as pool:
        report = grade(
            source,
            roster=roster,
            secret_file=secret_file,
            submissions=submissions,
            out=out,
            parameters=_parameters(parameters),
            assignment=assignment,
            jobs=jobs or os.cpu_count(),
            force=force,
            isolation=isolation,
            progress=True,
            limits=Limits(cell_timeout=timeout, total_timeout=total_timeout, memory_mb=memory),
            executor=pool,
        )
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Add ``assign``, ``validate`` and ``grade`` to the ``healthlab`` command."""
    for command in (assign_command, validate_command, grade_command):
        group.add_command(command)
