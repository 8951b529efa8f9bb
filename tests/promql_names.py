"""The metric names, label matchers and groupings a PromQL expression uses, and what luister's processes export,
so rules and dashboards can be checked against the registries (a renamed metric fails a test, not a 3 a.m. page)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from connectors.metrics import ConnectorMetrics
from pipeline.alerts.metrics import AlertMetrics
from pipeline.detector_task import DetectorMetrics
from pipeline.metrics import PipelineMetrics

FUNCTIONS_AND_KEYWORDS = frozenset(
    {
        "sum", "avg", "max", "min", "count", "rate", "irate", "increase", "histogram_quantile", "by", "without",
        "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "topk", "bottomk", "quantile",
        "clamp_min", "clamp_max", "abs", "delta", "deriv", "time", "vector", "scalar", "label_replace", "absent",
    }
)  # fmt: skip


def exported() -> dict[str, set[str]]:
    """Every sample name the worker (pipeline, alert delivery, detector) and the connectors expose → label names."""
    registry = CollectorRegistry()
    connectors = ConnectorMetrics(registry)
    holders = [PipelineMetrics(registry), AlertMetrics(registry), DetectorMetrics(registry), connectors]
    for holder in holders:
        for metric in vars(holder).values():
            if isinstance(metric, MetricWrapperBase) and metric._labelnames:
                metric.labels(*["x"] * len(metric._labelnames))
    connectors.saw("x", datetime.now(UTC))
    names: dict[str, set[str]] = {}
    for family in registry.collect():
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names in its matcher) for every series selector in ``expr``."""
    text = re.sub(r'"[^"]*"', '""', expr)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", text)
    found = []
    for match in re.finditer(r"\b([A-Za-z_:][A-Za-z0-9_:]*)\b\s*(\{[^}]*\})?", text):
        name, matcher = match.group(1), match.group(2) or ""
        if name in FUNCTIONS_AND_KEYWORDS or re.fullmatch(r"[0-9.e]+", name):
            continue
        found.append((name, set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", matcher))))
    return found


def groupings(expr: str) -> set[str]:
    """Label names in every ``by (...)`` / ``without (...)`` of ``expr``."""
    labels: set[str] = set()
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        labels.update(label.strip() for label in group.split(",") if label.strip())
    return labels
