"""Evaluation metrics (numpy). Every function takes plain arrays and returns floats."""

import numpy as np


def rank_metrics(ranks: np.ndarray, k: int = 10) -> dict:
    """ranks: (U,) 0-based rank of the true item. HR@k and NDCG@k (1/log2(rank+2))."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if len(ranks) == 0:
        return {f"hr@{k}": float("nan"), f"ndcg@{k}": float("nan"), "users": 0}
    hit = ranks < k
    return {
        f"hr@{k}": float(hit.mean()),
        f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()),
        "users": int(len(ranks)),
    }


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC via the rank-sum formula, ties counted half. NaN if one class is absent."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=np.float64)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    sp = p[order]
    _, first, counts = np.unique(sp, return_index=True, return_counts=True)
    ranks = np.empty(len(p), dtype=np.float64)
    ranks[order] = np.repeat(first + (counts - 1) / 2.0 + 1.0, counts)  # average rank over ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def log_loss(y: np.ndarray, p: np.ndarray, eps: float = 1e-7) -> float:
    """Binary log loss."""
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()) if len(y) else float("nan")


def multi_log_loss(y: np.ndarray, probs: np.ndarray, eps: float = 1e-7) -> float:
    """y: (N,) class indices; probs: (N, C)."""
    if len(y) == 0:
        return float("nan")
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], eps, 1.0)).mean())


def ece(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error of a binary probability: equal-width bins, weighted |acc - conf|."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return float("nan")
    b = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            total += m.sum() * abs(y[m].mean() - p[m].mean())
    return float(total / len(y))


def top_label_ece(y: np.ndarray, probs: np.ndarray, bins: int = 15) -> float:
    """Multiclass ECE on the predicted class's confidence."""
    if len(y) == 0:
        return float("nan")
    pred = probs.argmax(1)
    return ece((pred == y).astype(np.float64), probs.max(1), bins)


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    return float((np.asarray(y) == np.asarray(pred)).mean()) if len(y) else float("nan")


def macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Macro F1 over the classes present in y or pred."""
    y, pred = np.asarray(y), np.asarray(pred)
    f1s = []
    for c in range(n_classes):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else float("nan")


def per_class(y: np.ndarray, pred: np.ndarray, labels: list) -> dict:
    """{label: {precision, recall, f1, support}}; precision is None (JSON null) for a label never
    predicted, recall None for a label absent from y, f1 None for both."""
    y, pred = np.asarray(y), np.asarray(pred)
    out = {}
    for c, name in enumerate(labels):
        tp = int(np.sum((pred == c) & (y == c)))
        n_pred, n_true = int(np.sum(pred == c)), int(np.sum(y == c))
        prec = tp / n_pred if n_pred else None
        rec = tp / n_true if n_true else None
        f1 = 2 * tp / (n_pred + n_true) if n_pred + n_true else None
        out[name] = {"precision": prec, "recall": rec, "f1": f1, "support": n_true}
    return out


def accuracy_by_flag(y: np.ndarray, pred: np.ndarray, flags: list) -> dict:
    """{letter: accuracy over the rows whose flags string contains that letter}, letters sorted."""
    y, pred = np.asarray(y), np.asarray(pred)
    ok = y == pred
    out = {}
    for letter in sorted({ch for f in flags for ch in f}):
        m = np.array([letter in f for f in flags])
        out[letter] = float(ok[m].mean())
    return out
