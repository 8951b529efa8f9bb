"""deploy/docker-compose.yml: valid against the compose specification's JSON schema (the copy vendored in
check-jsonschema), and the deployment's own promises: luister images built from our Dockerfile, a scalable worker,
a GPU profile, one connector service per configured connector, mounts that exist. No Docker engine is needed (nor
available): nothing here starts a container."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from compose_file import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    InterpolationError,
    interpolate_text,
    load_compose,
    read_env_file,
)

from pipeline.settings import load_settings

COMPOSE_SPEC = "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
LUISTER_SERVICES = ("worker", "worker-gpu", "connector-hn-brands", "connector-masto-brands")


def compose_schema() -> dict[str, Any]:
    # Read as package data, without importing check_jsonschema (its CLI code needs a newer click than Faust allows).
    path = Path(str(metadata.distribution("check-jsonschema").locate_file(COMPOSE_SPEC)))
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


def test_the_compose_file_is_valid_against_the_compose_spec(
    compose: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_catches_a_broken_service(
    compose: dict[str, Any], validator: jsonschema.protocols.Validator
) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["worker"]["deploy"]["resources"]["reservations"] = {"devices": [{"driver": 3}]}
    broken["services"]["kafka"]["healthcheck"]["interval"] = ["10s"]
    broken["services"]["grafana"]["no_such_key"] = True
    paths = {tuple(e.absolute_path)[:3] for e in validator.iter_errors(broken)}
    assert ("services", "worker", "deploy") in paths
    assert ("services", "kafka", "healthcheck") in paths
    assert ("services", "grafana") in {p[:2] for p in paths}


def test_every_luister_service_is_built_from_our_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    ours = sorted(name for name, service in services.items() if str(service.get("image", "")).startswith("luister:"))
    assert ours == sorted(LUISTER_SERVICES)
    for name in ours:
        build = services[name]["build"]
        assert (COMPOSE_FILE.parent / build["context"]).resolve() == DEPLOY.parent
        assert build["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY.parent / build["dockerfile"]).is_file()
    assert services["worker"]["build"]["args"]["VARIANT"] == "cpu"
    assert services["worker-gpu"]["build"]["args"]["VARIANT"] == "cuda"
    assert "download.pytorch.org/whl/cu" in services["worker-gpu"]["build"]["args"]["TORCH_INDEX_URL"]


def test_build_args_exist_in_the_dockerfile(compose: dict[str, Any]) -> None:
    declared = set(re.findall(r"^ARG (\w+)", (DEPLOY / "Dockerfile").read_text(), flags=re.MULTILINE))
    for name in LUISTER_SERVICES:
        assert set(compose["services"][name]["build"].get("args", {})) <= declared, name


def test_the_worker_can_be_scaled(compose: dict[str, Any]) -> None:
    for name in ("worker", "worker-gpu"):
        worker = compose["services"][name]
        assert "container_name" not in worker, "a fixed container name forbids --scale"
        assert "ports" not in worker, "a fixed host port forbids --scale"
        assert worker["command"] == ["worker"]
        assert worker["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert worker["environment"]["CLICKHOUSE_URL"].startswith("http://luister:change-me-writer@clickhouse:8123")


def test_the_gpu_worker_is_in_a_profile_and_reserves_an_nvidia_gpu(compose: dict[str, Any]) -> None:
    gpu = compose["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["environment"]["LUISTER_MODEL__DEVICE"] == "cuda"
    [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert "gpu" in device["capabilities"]
    without_profile = [name for name, s in compose["services"].items() if "profiles" not in s]
    assert "worker" in without_profile and "worker-gpu" not in without_profile


def test_one_connector_service_per_configured_connector(compose: dict[str, Any]) -> None:
    settings = load_settings(DEPLOY / "config" / "luister.yaml")
    configured = {c.name for c in settings.connectors}
    services = {name: s for name, s in compose["services"].items() if name.startswith("connector-") and "image" in s}
    ran = {s["command"][1] for s in services.values()}
    assert ran == configured
    for name, service in services.items():
        assert service["command"][0] == "connect"
        assert service["command"][1] == name.removeprefix("connector-")
        assert "--metrics-host" in service["command"], "metrics on loopback cannot be scraped"
        # The image's HEALTHCHECK asks the worker's /health, which a connector does not serve.
        assert "/metrics" in " ".join(service["healthcheck"]["test"]), name


def test_prometheus_scrapes_every_connector_and_the_workers(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    connector_targets = {t for sc in jobs["luister-connectors"]["static_configs"] for t in sc["targets"]}
    services = {name for name in compose["services"] if name.startswith("connector-")}
    assert connector_targets == {f"{name}:9464" for name in services}
    [dns] = jobs["luister-worker"]["dns_sd_configs"]
    assert set(dns["names"]) == {"worker", "worker-gpu"}
    assert dns["port"] == 6066


def test_bind_mounts_exist_in_the_repository(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source in named:
                continue
            assert (COMPOSE_FILE.parent / source).exists(), f"{name}: {source} does not exist"


def test_grafana_gets_our_provisioning_and_the_clickhouse_plugin(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    assert grafana["image"].startswith("grafana/grafana-oss:11.")
    assert grafana["environment"]["GF_INSTALL_PLUGINS"] == "grafana-clickhouse-datasource"
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert mounts["../dashboards/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["../dashboards/generated"] == "/var/lib/grafana/dashboards/luister"
    provider = yaml.safe_load((DEPLOY.parent / "dashboards/provisioning/dashboards/luister.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/luister"
    datasources = (DEPLOY.parent / "dashboards/provisioning/datasources/luister.yaml").read_text()
    for variable in set(re.findall(r"\$\{(\w+)\}", datasources)):
        assert variable in grafana["environment"], f"Grafana's provisioning needs {variable}"


def test_kafka_is_3x_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:3\.\d+\.\d+", kafka["image"])
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"


def test_clickhouse_passwords_come_from_the_env_file() -> None:
    env = read_env_file(ENV_EXAMPLE)
    users = (DEPLOY / "clickhouse" / "users.d" / "luister.xml").read_text()
    wanted = set(re.findall(r'from_env="(\w+)"', users))
    assert wanted <= set(env)
    clickhouse = load_compose()["services"]["clickhouse"]
    assert wanted <= set(clickhouse["environment"])
    without = {k: v for k, v in env.items() if k != "LUISTER_CLICKHOUSE_PASSWORD"}
    with pytest.raises(InterpolationError, match="LUISTER_CLICKHOUSE_PASSWORD"):
        load_compose(without)


def test_the_env_example_holds_no_real_secret() -> None:
    for key, value in read_env_file(ENV_EXAMPLE).items():
        if "PASSWORD" in key:
            assert value.startswith("change-me"), key
        if value.startswith("https://hooks.slack.com/"):
            assert re.fullmatch(r"https://hooks\.slack\.com/services/T0+/B0+\d/X+", value), key
    gitignore = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "/deploy/.env" in gitignore


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate_text("${SET}-${UNSET:-d}-${EMPTY:-d}-${EMPTY-d}-$$SET-$SET", env) == "x-d-d--$SET-x"
    with pytest.raises(InterpolationError):
        interpolate_text("${EMPTY:?needed}", env)
    assert interpolate_text("${EMPTY?needed}", env) == ""


def test_the_settings_file_is_valid_and_its_secrets_are_in_the_env_file() -> None:
    from connectors.launch import brand_filter, build_all

    settings = load_settings(DEPLOY / "config" / "luister.yaml")
    assert build_all(settings.connectors)
    assert settings.brands == Path("/etc/luister/brands.yaml")
    assert brand_filter(DEPLOY / "config" / "brands.yaml") is not None
    env = read_env_file(ENV_EXAMPLE)
    for channel in settings.alerts.channels.values():
        assert channel.webhook_url_env in env if channel.transport == "webhook" else channel.token_env in env
