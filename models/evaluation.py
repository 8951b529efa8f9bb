"""Classification metrics, in plain numpy (no scikit-learn needed at run time)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> float:
    """Unweighted mean of per-class F1; a class absent from both truth and prediction counts as 0."""
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    scores = []
    for c in range(n_classes):
        tp = float(np.sum((t == c) & (p == c)))
        fp = float(np.sum((t != c) & (p == c)))
        fn = float(np.sum((t == c) & (p != c)))
        denom = 2 * tp + fp + fn
        scores.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(scores))


def accuracy(y_true: Sequence[object], y_pred: Sequence[object]) -> float:
    if len(y_true) == 0:
        return 0.0
    return float(np.mean([a == b for a, b in zip(y_true, y_pred, strict=True)]))


def set_prf(truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> tuple[float, float, float]:
    """Micro precision, recall and F1 over multi-label sets (one set of labels per item)."""
    tp = fp = fn = 0
    for t, p in zip(truth, predicted, strict=True):
        ts, ps = set(t), set(p)
        tp, fp, fn = tp + len(ts & ps), fp + len(ps - ts), fn + len(ts - ps)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return precision, recall, f1


def per_group_macro_f1(
    y_true: Sequence[int], y_pred: Sequence[int], groups: Sequence[str], n_classes: int
) -> dict[str, float]:
    """Macro-F1 per group (language), plus ``"average"``: the unweighted mean over groups (UMSAB's figure)."""
    result: dict[str, float] = {}
    t, p, g = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    for group in sorted(set(groups)):
        sel = g == group
        result[group] = macro_f1(t[sel].tolist(), p[sel].tolist(), n_classes)
    result["average"] = float(np.mean([v for k, v in result.items()])) if result else 0.0
    return result
