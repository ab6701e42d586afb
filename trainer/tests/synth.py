"""Tiny synthetic snapshots for the tests (no dependence on /work/shared/data).

Events follow learnable structure: a user walks a chain of items (i -> i+1 mostly),
views come in sessions, carts and purchases follow repeated views, and each user
lives near one of a few cities. Texts: labelled sentences built from keyword lists.
"""

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

CITIES = [(52.52, 13.40), (48.86, 2.35), (-23.55, -46.63), (40.71, -74.0)]


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def write_events_snapshot(root: Path, n_users=60, n_items=40, seed=0, start_item=1, days=20) -> Path:
    rng = random.Random(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    rows = []
    for u in range(n_users):
        lat, lng = CITIES[u % len(CITIES)]
        t = t0 + timedelta(hours=rng.uniform(0, 48))
        item = rng.randrange(n_items)
        session = 0
        while t < t0 + timedelta(days=days):
            session += 1
            for _ in range(rng.randint(2, 8)):
                pid = f"p{start_item + item:04d}"
                kind = "view"
                r = rng.random()
                if r < 0.12:
                    kind = "cart"
                elif r < 0.18:
                    kind = "purchase"
                elif r < 0.21:
                    kind = "favorite"
                loc = rng.random() < 0.8
                rows.append([f"u{u:03d}", pid, kind, _iso(t), f"{lat + rng.gauss(0, 0.05):.5f}" if loc else "",
                             f"{lng + rng.gauss(0, 0.05):.5f}" if loc else "", f"s{u}-{session}", 1,
                             f"{5 + item % 7:.2f}" if kind == "purchase" else ""])
                item = (item + 1) % n_items if rng.random() < 0.8 else rng.randrange(n_items)
                t += timedelta(minutes=rng.uniform(0.5, 10))
            if rng.random() < 0.3:  # an occasional search without a product
                rows.append([f"u{u:03d}", "", "search", _iso(t), "", "", f"s{u}-{session}", 1, ""])
            t += timedelta(hours=rng.expovariate(1 / 30))
    with open(root / "events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "product_id", "type", "occurred_at", "lat", "lng", "session_id", "quantity", "price"])
        w.writerows(rows)
    with open(root / "products.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["product_id", "category_id", "category_name", "price", "title", "lat", "lng"])
        for i in range(n_items):
            w.writerow([f"p{start_item + i:04d}", f"c{i % 5}", f"cat {i % 5}", f"{5 + i % 7:.2f}", f"item {i}", "", ""])
    with open(root / "users.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "lat", "lng", "created_at"])
        for u in range(n_users):
            lat, lng = CITIES[u % len(CITIES)]
            w.writerow([f"u{u:03d}", lat, lng, _iso(t0 - timedelta(days=30))])
    (root / "snapshot.json").write_text(json.dumps({"created_at": _iso(t0 + timedelta(days=days)),
                                                    "window": {"from": _iso(t0), "to": _iso(t0 + timedelta(days=days))},
                                                    "counts": {"events": len(rows)}}))
    return root


POS = ["great", "excellent", "love", "perfect", "fast delivery", "很好", "满意", "ótimo"]
NEG = ["terrible", "broken", "hate", "awful", "late delivery", "很差", "失望", "péssimo"]
FILL = ["the product", "this item", "shipping", "quality", "price", "商品", "o produto", "it"]


def write_texts_snapshot(root: Path, kind: str, n=240, seed=0, labels=None) -> Path:
    """sentiment: reviews.csv with ratings; intent: texts.csv with intent labels."""
    rng = random.Random(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if kind == "sentiment":
        with open(root / "reviews.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["review_id", "user_id", "product_id", "rating", "text", "created_at"])
            for i in range(n):
                good = i % 2 == 0
                word = rng.choice(POS if good else NEG)
                text = f"{rng.choice(FILL)} is {word}, {rng.choice(FILL)} {rng.choice(FILL)}"
                rating = rng.choice([4, 5]) if good else rng.choice([1, 2])
                if i % 17 == 0:
                    rating = 3  # dropped by the loader
                w.writerow([f"r{i}", f"u{i % 9}", f"p{i % 13}", rating, text, "2025-03-01T10:00:00.000Z"])
    else:
        labels = labels or {"card_lost": ["lost my card", "card missing", "cannot find my card"],
                            "refund": ["want a refund", "money back", "return and refund"],
                            "delivery": ["where is my order", "package late", "delivery status"]}
        with open(root / "texts.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["text", "label"])
            names = sorted(labels)
            for i in range(n):
                lab = names[i % len(names)]
                text = f"{rng.choice(['hi', 'hello', 'please', ''])} {rng.choice(labels[lab])} {rng.choice(FILL)}"
                w.writerow([text.strip(), lab])
    return root
