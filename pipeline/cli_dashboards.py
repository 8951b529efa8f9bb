"""``luister dashboards``: the Grafana dashboards generated from code (``dashboards/``)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("dashboards")
def dashboards_cmd() -> None:
    """Grafana dashboards as code: the wall, webcare and operations dashboards."""


@dashboards_cmd.command("generate")
@click.option("--check", is_flag=True, help="only check that the files are current; exit 1 if any is stale")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        "directory for the JSON files and the alerting file (default: dashboards/generated, and"
        " dashboards/provisioning/alerting/luister-alerting.yaml)"
    ),
)
def generate_cmd(check: bool, out: Path | None) -> None:
    """Write each dashboard's JSON and the Grafana alerting provisioning file, or check the committed files."""
    from dashboards.generate import ALERTING, GENERATED, generate

    directory = out or GENERATED
    outcome = generate(directory, check=check, alerting=ALERTING if out is None else out / ALERTING.name)
    if check:
        for path in outcome.stale:
            click.echo(f"stale: {path}", err=True)
        if outcome.stale:
            raise click.ClickException(
                "dashboards or alert rules are out of date: run `luister dashboards generate` (make dashboards)"
            )
        click.echo(f"dashboards in {directory} are current")
        return
    for path in outcome.written:
        click.echo(f"wrote {path}")
    if not outcome.written:
        click.echo(f"dashboards in {directory} were already current")
