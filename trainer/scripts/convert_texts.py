"""Labelled text corpora -> snapshot texts.csv (`text,label,split,group`).

  python scripts/convert_texts.py banking77 /work/shared/data/intent-banking77 runs/snap-banking77
  python scripts/convert_texts.py shopping  /work/shared/data/chinese-review-sentiment/online_shopping_10_cats.csv.gz runs/snap-shopping

banking77: train.csv.gz rows get split "" (the trainer carves a seeded validation set
from them), test.csv.gz rows get split "test" (the official 3,080-text test set).
shopping: label 1 -> positive, 0 -> negative; group = category (`cat`), so the trainer's
seeded 8:1:1 split is stratified by category + label. The one empty review is dropped.
"""

import csv
import gzip
import sys
from pathlib import Path


def main(name: str, src: str, dst: str):
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if name == "banking77":
        for split, fn in (("", "train.csv.gz"), ("test", "test.csv.gz")):
            with gzip.open(Path(src) / fn, "rt", newline="") as f:
                rows += [(r["text"], r["category"], split, "") for r in csv.DictReader(f)]
    elif name == "shopping":
        with gzip.open(src, "rt", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if (r["review"] or "").strip():
                    rows.append((r["review"], "positive" if r["label"] == "1" else "negative", "", r["cat"]))
    else:
        raise SystemExit(f"unknown corpus {name}")
    with open(out / "texts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "split", "group"])
        w.writerows(rows)
    print(f"{len(rows)} texts -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
