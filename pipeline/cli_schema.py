"""``luister schema``: the ClickHouse DDL of the migrations, for one server (default) or a cluster."""

from __future__ import annotations

from typing import IO

import click


@click.command("schema")
@click.option(
    "--cluster",
    default=None,
    metavar="NAME",
    help="print the cluster form (Replicated + Distributed tables, ON CLUSTER NAME); NAME may be a macro: '{cluster}'",
)
@click.option("--database", default=None, help="database name (default: LUISTER_CLICKHOUSE__DATABASE)")
@click.option(
    "--ttl-days",
    type=click.IntRange(min=1),
    default=None,
    help="cluster only: add the raw-mention TTL (default: LUISTER_CLICKHOUSE__TTL_DAYS)",
)
@click.option("-o", "--output", type=click.File("w"), default="-", help="where to write the DDL (default stdout)")
def schema_cmd(cluster: str | None, database: str | None, ttl_days: int | None, output: IO[str]) -> None:
    """Print the schema's DDL, generated from the migrations (docs/schema.md, "Cluster").

    Without --cluster: the single-server statements that luister applies itself at start-up. With --cluster: one
    script to apply on a cluster with `clickhouse-client --multiquery < file`, before starting luister.
    """
    from pipeline.settings import load_settings
    from pipeline.storage.cluster_schema import ClusterSchemaError, cluster_script, single_server_script

    settings = load_settings().clickhouse
    name = database or settings.database
    try:
        if cluster is None:
            if ttl_days is not None:
                raise click.UsageError("--ttl-days applies to --cluster only (a server gets its TTL at start-up)")
            output.write(single_server_script(name))
        else:
            days = ttl_days if ttl_days is not None else settings.ttl_days
            output.write(cluster_script(cluster, name, ttl_days=days))
    except (ClusterSchemaError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
