"""Snapshot loading: the CSV files the server exports from Postgres (format in README.md).

Everything a model sees goes through these functions, including the benchmark runs
(scripts/ convert the public datasets into the same snapshot format first).
"""

import csv
import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

EVENT_TYPES = ("view", "search", "cart", "purchase", "favorite")
TYPE_INDEX = {t: i + 1 for i, t in enumerate(EVENT_TYPES)}  # 0 is padding in every model
SNAPSHOT_FILES = ("events.csv", "products.csv", "users.csv", "reviews.csv", "texts.csv", "snapshot.json")


class SnapshotError(ValueError):
    pass


def parse_time(s: str) -> float:
    """ISO-8601 -> unix seconds. A timestamp without an offset is taken as UTC."""
    dt = datetime.fromisoformat(s.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _float(s: str) -> float:
    s = s.strip()
    return float(s) if s else math.nan


def _rows(path: Path, required: tuple[str, ...]):
    """Yields (line_no, row dict); checks the header names every required column."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise SnapshotError(f"{path.name}: missing column(s) {', '.join(missing)}")
        for row in reader:
            yield reader.line_num, row


def snapshot_hashes(root: Path) -> dict:
    """sha256 of each snapshot file present: recorded in the manifest as the data's identity."""
    out = {}
    for name in SNAPSHOT_FILES:
        p = Path(root) / name
        if p.exists():
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            out[name] = h.hexdigest()
    return out


@dataclass
class Events:
    """events.csv as columns, sorted by (user_id, occurred_at, file order).

    users[k] owns rows starts[k]:starts[k+1]. Empty product_id is "" and empty
    lat/lng/price are NaN.
    """
    user: np.ndarray      # (E,) object: user_id strings
    product: np.ndarray   # (E,) object: product_id strings ("" when none)
    type: np.ndarray      # (E,) int64 in 1..5 (TYPE_INDEX)
    ts: np.ndarray        # (E,) float64 unix seconds
    lat: np.ndarray       # (E,) float64
    lng: np.ndarray       # (E,) float64
    quantity: np.ndarray  # (E,) float64 (1 when empty)
    price: np.ndarray     # (E,) float64
    users: list           # user ids in sorted order
    starts: np.ndarray    # (U+1,) int64 row offsets

    def __len__(self):
        return len(self.ts)

    def groups(self):
        for k, u in enumerate(self.users):
            yield u, self.starts[k], self.starts[k + 1]


def load_events(root: Path) -> Events:
    path = Path(root) / "events.csv"
    if not path.exists():
        raise SnapshotError(f"{path}: not found (every kind but the text kinds needs events.csv)")
    cols = {k: [] for k in ("user", "product", "type", "ts", "lat", "lng", "quantity", "price")}
    for line, r in _rows(path, ("user_id", "product_id", "type", "occurred_at")):
        t = r["type"].strip()
        if t not in TYPE_INDEX:
            raise SnapshotError(f"events.csv line {line}: unknown type {t!r} (allowed: {', '.join(EVENT_TYPES)})")
        try:
            ts = parse_time(r["occurred_at"])
            lat, lng = _float(r.get("lat") or ""), _float(r.get("lng") or "")
            q = _float(r.get("quantity") or "")
            price = _float(r.get("price") or "")
        except ValueError as e:
            raise SnapshotError(f"events.csv line {line}: {e}") from None
        if not r["user_id"].strip():
            raise SnapshotError(f"events.csv line {line}: empty user_id")
        cols["user"].append(r["user_id"].strip())
        cols["product"].append((r["product_id"] or "").strip())
        cols["type"].append(TYPE_INDEX[t])
        cols["ts"].append(ts)
        cols["lat"].append(lat)
        cols["lng"].append(lng)
        cols["quantity"].append(1.0 if math.isnan(q) else q)
        cols["price"].append(price)
    if not cols["ts"]:
        raise SnapshotError("events.csv has no rows")
    user = np.array(cols["user"], dtype=object)
    ts = np.array(cols["ts"], dtype=np.float64)
    # Sort by user, then time, then file order (lexsort is stable; last key is primary).
    order = np.lexsort((np.arange(len(ts)), ts, user.astype(str)))
    user = user[order]
    change = np.flatnonzero(user[1:] != user[:-1]) + 1
    starts = np.concatenate([[0], change, [len(user)]]).astype(np.int64)
    return Events(
        user=user,
        product=np.array(cols["product"], dtype=object)[order],
        type=np.array(cols["type"], dtype=np.int64)[order],
        ts=ts[order],
        lat=np.array(cols["lat"])[order],
        lng=np.array(cols["lng"])[order],
        quantity=np.array(cols["quantity"])[order],
        price=np.array(cols["price"])[order],
        users=[user[s] for s in starts[:-1]],
        starts=starts,
    )


def load_users(root: Path) -> dict:
    """users.csv (optional) -> {user_id: {"lat", "lng", "created_at"}}."""
    path = Path(root) / "users.csv"
    if not path.exists():
        return {}
    out = {}
    for line, r in _rows(path, ("user_id",)):
        try:
            created = parse_time(r["created_at"]) if (r.get("created_at") or "").strip() else math.nan
            out[r["user_id"].strip()] = {"lat": _float(r.get("lat") or ""), "lng": _float(r.get("lng") or ""),
                                         "created_at": created}
        except ValueError as e:
            raise SnapshotError(f"users.csv line {line}: {e}") from None
    return out


@dataclass
class Texts:
    text: list      # str
    label: list     # str
    split: list     # "train" | "validation" | "test" | "" (assign by seeded split)
    group: list     # stratification group ("" when none)
    flags: list = field(default_factory=list)  # optional column: tag letters ("BQZ"); [] when absent


def load_texts(root: Path, kind: str) -> Texts:
    """Labelled texts for the text kinds.

    texts.csv (`text,label[,split][,group][,flags]`) wins when present. `flags` (optional) holds
    tag letters per text (e.g. Bitext's language-variation tags "BLQZ"), used only for per-flag
    reports. For sentiment without texts.csv, reviews.csv is used: rating 1-2 -> negative, 4-5 ->
    positive, 3 dropped.
    """
    root = Path(root)
    t = Texts([], [], [], [])
    if (root / "texts.csv").exists():
        has_flags = False
        for line, r in _rows(root / "texts.csv", ("text", "label")):
            label = (r["label"] or "").strip()
            if not label:
                raise SnapshotError(f"texts.csv line {line}: empty label")
            split = (r.get("split") or "").strip()
            if split not in ("", "train", "validation", "test"):
                raise SnapshotError(f"texts.csv line {line}: split must be train, validation, test or empty")
            t.text.append(r["text"] or "")
            t.label.append(label)
            t.split.append(split)
            t.group.append((r.get("group") or "").strip())
            has_flags = has_flags or "flags" in r
            t.flags.append((r.get("flags") or "").strip())
        if not has_flags:
            t.flags = []
    elif kind == "sentiment" and (root / "reviews.csv").exists():
        for line, r in _rows(root / "reviews.csv", ("rating", "text")):
            try:
                rating = float(r["rating"])
            except ValueError:
                raise SnapshotError(f"reviews.csv line {line}: rating {r['rating']!r} is not a number") from None
            if rating == 3 or not (r["text"] or "").strip():
                continue
            t.text.append(r["text"])
            t.label.append("positive" if rating >= 4 else "negative")
            t.split.append("")
            t.group.append("")
    else:
        want = "texts.csv or reviews.csv" if kind == "sentiment" else "texts.csv"
        raise SnapshotError(f"{root}: {want} not found")
    if len(t.text) < 2:
        raise SnapshotError("need at least 2 labelled texts")
    return t


def split_texts(t: Texts, seed: int, val_frac: float = 0.1, test_frac: float = 0.1):
    """Index arrays (train, val, test).

    Rows with an explicit split keep it. The rest are split per stratum (group+label)
    with a seeded shuffle: floor(n*test_frac + 0.5) to test, floor(n*val_frac + 0.5) to validation.
    If no row is marked validation and some are marked test (e.g. BANKING77's official
    test split), validation is carved from the unmarked/train rows the same way.
    """
    rng = np.random.default_rng(seed)
    split = np.array(t.split, dtype=object)
    idx = {"train": [], "validation": [], "test": []}
    for name in idx:
        idx[name] = list(np.flatnonzero(split == name))
    free = np.flatnonzero(split == "")
    has_test, has_val = bool(idx["test"]), bool(idx["validation"])
    if has_test and not has_val:  # carve validation out of the training rows too
        free = np.concatenate([free, np.array(idx["train"], dtype=np.int64)])
        idx["train"] = []
    strata = {}
    for i in sorted(free):
        strata.setdefault((t.group[i], t.label[i]), []).append(i)
    for key in sorted(strata):
        rows = np.array(strata[key])
        rng.shuffle(rows)
        n = len(rows)
        n_test = 0 if has_test else int(math.floor(n * test_frac + 0.5))  # round half up
        n_val = 0 if has_val else int(math.floor(n * val_frac + 0.5))
        idx["test"] += list(rows[:n_test])
        idx["validation"] += list(rows[n_test:n_test + n_val])
        idx["train"] += list(rows[n_test + n_val:])
    out = [np.array(sorted(idx[k]), dtype=np.int64) for k in ("train", "validation", "test")]
    if len(out[0]) == 0:
        raise SnapshotError("no training texts after the split")
    return out
