"""deploy/k8s: every manifest (as written, and as kustomize renders the base and the gpu overlay) is valid against
the Kubernetes 1.37 schemas shipped in kubernetes-validate, and the manifests agree with each other and with
luister: probes on /health, the HPA on a metric the workers export (through the adapter's rule), connectors that
exist in the settings file, Services that select pods, a ConfigMap equal to deploy/config."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kustomize_render import UnsupportedKustomizationError, containers, load_documents, render
from promql_names import exported, selectors

from pipeline.settings import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
GPU = K8S / "overlays" / "gpu"
KUBERNETES_VERSION = "1.37.0"
NOT_MANIFESTS = {"kustomization.yaml", "values.yaml"}


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name not in NOT_MANIFESTS)


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(BASE)


@pytest.fixture(scope="module")
def gpu() -> list[dict[str, Any]]:
    return render(GPU)


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_is_valid(path: Path) -> None:
    documents = load_documents(path)
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", [BASE, GPU], ids=["base", "gpu"])
def test_the_rendered_kustomizations_are_valid(overlay: Path) -> None:
    resources = render(overlay)
    assert len(resources) >= 8
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == "luister"
        assert resource["metadata"]["labels"]["app.kubernetes.io/part-of"] == "luister"


def test_the_schema_validation_can_fail(base: list[dict[str, Any]]) -> None:
    worker = copy.deepcopy(by_kind(base, "Deployment")["luister-worker"])
    worker["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "6066"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSION, strict=True)
    hpa = copy.deepcopy(by_kind(base, "HorizontalPodAutoscaler")["luister-worker"])
    hpa["spec"]["metrics"][0]["external"]["target"]["averageLag"] = "2000"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_exactly_the_files_in_the_base() -> None:
    listed = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    present = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == present
    assert len(set(listed)) == len(listed)


def test_the_worker_is_probed_on_health_and_scraped(base: list[dict[str, Any]]) -> None:
    worker = by_kind(base, "Deployment")["luister-worker"]
    template = worker["spec"]["template"]
    [container] = containers(worker)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == 6066
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/health" and ports[check["port"]] == 6066, probe
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    assert template["metadata"]["annotations"]["prometheus.io/port"] == "6066"
    assert container["image"] == "ghcr.io/your-org/luister:latest"
    assert container["args"] == ["worker"]
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True


def test_selectors_match_their_pods(base: list[dict[str, Any]]) -> None:
    deployments = by_kind(base, "Deployment")
    for name, deployment in deployments.items():
        wanted = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert wanted.items() <= labels.items(), name
    for name, service in by_kind(base, "Service").items():
        selected = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert selected, f"Service {name} selects no pod"
        for port in service["spec"]["ports"]:
            names = {p["name"] for d in selected for c in containers(d) for p in c["ports"]}
            assert port["targetPort"] in names, name


def test_every_reference_resolves(base: list[dict[str, Any]]) -> None:
    config_maps = set(by_kind(base, "ConfigMap"))
    secrets = {d["metadata"]["name"] for d in load_documents(K8S / "secret.example.yaml")}
    for name, deployment in by_kind(base, "Deployment").items():
        for container in containers(deployment):
            for source in container["envFrom"]:
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name
        for volume in deployment["spec"]["template"]["spec"]["volumes"]:
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name


def test_the_hpa_scales_the_workers_on_the_lag_the_adapter_serves(base: list[dict[str, Any]]) -> None:
    hpa = by_kind(base, "HorizontalPodAutoscaler")["luister-worker"]
    target = hpa["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment" and target["name"] in by_kind(base, "Deployment")
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    name = metric["external"]["metric"]["name"]
    selector = metric["external"]["metric"]["selector"]["matchLabels"]
    settings = load_settings(DEPLOY / "config" / "luister.yaml")
    assert selector == {"topic": settings.kafka.raw_topic}
    assert hpa["spec"]["maxReplicas"] <= settings.kafka.partitions, "workers beyond the partition count idle"

    adapter = yaml.safe_load((K8S / "prometheus-adapter" / "values.yaml").read_text())
    served = {rule["name"]["as"]: rule for rule in adapter["rules"]["external"]}
    assert name in served
    rule = served[name]
    series = {metric_name for metric_name, _ in selectors(rule["seriesQuery"])}
    metrics = exported()
    assert series == {name} and name in metrics
    assert set(selector) <= metrics[name], "the HPA selects on a label the workers' gauge lacks"
    assert "<<.LabelMatchers>>" in rule["metricsQuery"]


def test_one_connector_deployment_per_configured_connector(base: list[dict[str, Any]]) -> None:
    files = by_kind(base, "ConfigMap")["luister-files"]["data"]
    configured = {c["name"] for c in yaml.safe_load(files["luister.yaml"])["connectors"]}
    connectors = {name: d for name, d in by_kind(base, "Deployment").items() if name.startswith("luister-connector-")}
    ran = {}
    for name, deployment in connectors.items():
        [container] = containers(deployment)
        assert container["args"][0] == "connect"
        ran[container["args"][1]] = deployment
        assert name == f"luister-connector-{container['args'][1]}"
        assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
        assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"
        assert "--metrics-host" in container["args"]
    assert set(ran) == configured


def test_the_config_map_holds_the_deploy_config_files(base: list[dict[str, Any]]) -> None:
    files = by_kind(base, "ConfigMap")["luister-files"]["data"]
    assert files == {
        "luister.yaml": (DEPLOY / "config" / "luister.yaml").read_text(),
        "brands.yaml": (DEPLOY / "config" / "brands.yaml").read_text(),
    }


def test_the_gpu_overlay_puts_only_the_workers_on_a_gpu(gpu: list[dict[str, Any]]) -> None:
    deployments = by_kind(gpu, "Deployment")
    [worker] = containers(deployments["luister-worker"])
    assert worker["image"].endswith("-cuda")
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert {"name": "LUISTER_MODEL__DEVICE", "value": "cuda"} in worker["env"]
    for name, deployment in deployments.items():
        if name != "luister-worker":
            [container] = containers(deployment)
            assert "nvidia.com/gpu" not in container["resources"]["limits"], name
            assert not container["image"].endswith("-cuda"), name


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(UnsupportedKustomizationError, match="configMapGenerator"):
        render(tmp_path)


def test_the_worker_deployment_leaves_the_replica_count_to_the_hpa(base: list[dict[str, Any]]) -> None:
    assert "replicas" not in by_kind(base, "Deployment")["luister-worker"]["spec"]
