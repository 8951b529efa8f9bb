"""A tiny kustomize (kustomize itself is not installed here): renders a kustomization that uses only ``resources``
(files and directories), ``namespace``, ``labels``, ``images`` and inline JSON 6902 ``patches``. Any other field
raises, so a kustomization that grows beyond this is never rendered half-right."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = frozenset({"apiVersion", "kind", "namespace", "labels", "images", "resources", "patches"})
CLUSTER_SCOPED = frozenset({"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"})

Resource = dict[str, Any]


class UnsupportedKustomizationError(ValueError):
    """The kustomization uses a field this renderer does not implement."""


def load_documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def render(directory: Path) -> list[Resource]:
    """The resources ``kustomize build DIRECTORY`` would output (in resource order)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise UnsupportedKustomizationError(f"{directory}: {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        resources.extend(render(path) if path.is_dir() else copy.deepcopy(load_documents(path)))
    for patch in kustomization.get("patches", []):
        _patch(resources, patch)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    for label in kustomization.get("labels", []):
        _label(resources, label)
    for image in kustomization.get("images", []):
        _image(resources, image)
    return resources


def _label(resources: list[Resource], label: dict[str, Any]) -> None:
    for resource in resources:
        targets = [resource["metadata"]]
        template = resource.get("spec", {}).get("template")
        if label.get("includeTemplates") and template is not None:
            targets.append(template.setdefault("metadata", {}))
        if label.get("includeSelectors"):
            raise UnsupportedKustomizationError("labels.includeSelectors")
        for metadata in targets:
            metadata.setdefault("labels", {}).update(label["pairs"])


def containers(resource: Resource) -> list[dict[str, Any]]:
    spec = resource.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _image(resources: list[Resource], image: dict[str, str]) -> None:
    for resource in resources:
        for container in containers(resource):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag or 'latest')}"


def _patch(resources: list[Resource], patch: dict[str, Any]) -> None:
    if set(patch) != {"target", "patch"}:
        raise UnsupportedKustomizationError(f"patch fields {sorted(patch)} (only inline JSON 6902 with a target)")
    target = patch["target"]
    matched = [r for r in resources if _matches(r, target)]
    if not matched:
        raise ValueError(f"patch target matches nothing: {target}")
    for resource in matched:
        for operation in yaml.safe_load(patch["patch"]):
            _apply_operation(resource, operation)


def _matches(resource: Resource, target: dict[str, str]) -> bool:
    group, _, version = resource["apiVersion"].rpartition("/")
    actual = {"group": group, "version": version, "kind": resource["kind"], "name": resource["metadata"]["name"]}
    return all(actual[key] == value for key, value in target.items())


def _apply_operation(document: Resource, operation: dict[str, Any]) -> None:
    """JSON 6902 ``add`` and ``replace`` (all this deployment needs); pointers unescape ``~1`` and ``~0``."""
    op = operation["op"]
    if op not in ("add", "replace"):
        raise UnsupportedKustomizationError(f"JSON patch op {op}")
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].lstrip("/").split("/")]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, operation["value"])
        else:
            node[index] = operation["value"]
        return
    if op == "replace" and last not in node:
        raise KeyError(f"replace of a missing member: {operation['path']}")
    node[last] = operation["value"]
