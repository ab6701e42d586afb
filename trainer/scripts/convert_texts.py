"""Labelled text corpora -> snapshot texts.csv (`text,label,split,group[,flags]`).

  python scripts/convert_texts.py bitext \
      /work/shared/data/intent-ecommerce-bitext/customer_service_8k.csv.gz runs/snap-bitext [--seed N]
  python scripts/convert_texts.py banking77 /work/shared/data/intent-banking77 runs/snap-banking77
  python scripts/convert_texts.py shopping \
      /work/shared/data/chinese-review-sentiment/online_shopping_10_cats.csv.gz runs/snap-shopping

bitext (Bitext customer-service sample, `utterance,intent,category,flags`): label = intent,
group = category, flags = the publisher's language-variation tags (e.g. "BLQZ": one letter per
tag; kept as the extra `flags` column, which data.load_texts reads for per-flag reports and the
trainer otherwise ignores). The split is written into the `split` column: a seeded (seed 0)
stratified 80/10/10 split by intent -- within each intent a numpy default_rng(0) shuffle, then
floor(n*0.1+0.5) rows to test, floor(n*0.1+0.5) to validation, the rest to train (exactly what
data.split_texts does for unmarked rows with seed 0 and group ""). `--seed N` (after DST) draws
another split the same way. The input is validated completely (header, non-empty utterance and
intent, flags are letters, at least 2 intents) before DST is created: on bad input nothing is written.
banking77: train.csv.gz rows get split "" (the trainer carves a seeded validation set
from them), test.csv.gz rows get split "test" (the official 3,080-text test set).
shopping: label 1 -> positive, 0 -> negative; group = category (`cat`), so the trainer's
seeded 8:1:1 split is stratified by category + label. The one empty review is dropped.
"""

import csv
import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meridian_trainer import data  # noqa: E402

BITEXT_COLUMNS = ("utterance", "intent", "category", "flags")


class BadInput(ValueError):
    pass


def _open_text(path: Path):
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: not a file")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="", encoding="utf-8-sig")
    return open(path, newline="", encoding="utf-8-sig")


def read_bitext(src: Path) -> list:
    """-> [(utterance, intent, category, flags)]; raises BadInput naming the line on anything odd."""
    rows = []
    try:
        with _open_text(src) as f:
            reader = csv.DictReader(f)
            missing = [c for c in BITEXT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BadInput(f"{src}: missing column(s) {', '.join(missing)} (want {','.join(BITEXT_COLUMNS)})")
            for r in reader:
                line = reader.line_num
                text, intent = (r["utterance"] or ""), (r["intent"] or "").strip()
                flags = (r["flags"] or "").strip()
                if not text.strip():
                    raise BadInput(f"{src} line {line}: empty utterance")
                if not intent:
                    raise BadInput(f"{src} line {line}: empty intent")
                if flags and not flags.isalpha():
                    raise BadInput(f"{src} line {line}: flags {flags!r} must be letters")
                rows.append((text, intent, (r["category"] or "").strip(), flags.upper()))
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as e:
        raise BadInput(f"{src}: {e}") from None
    if len({r[1] for r in rows}) < 2:
        raise BadInput(f"{src}: need at least 2 intents, found {len({r[1] for r in rows})} in {len(rows)} rows")
    return rows


def bitext_split(rows: list, seed: int = 0) -> list:
    """Split names per row: seeded stratified (by intent) 80/10/10, as data.split_texts does."""
    t = data.Texts(text=[r[0] for r in rows], label=[r[1] for r in rows], split=[""] * len(rows),
                   group=[""] * len(rows))
    names = [""] * len(rows)
    for name, idx in zip(("train", "validation", "test"), data.split_texts(t, seed, 0.1, 0.1), strict=True):
        for i in idx:
            names[i] = name
    return names


def main(name: str, src: str, dst: str, seed: int = 0):
    out = Path(dst)
    header = ["text", "label", "split", "group"]
    rows = []
    if name == "bitext":
        src_rows = read_bitext(Path(src))  # everything validated before DST exists
        split = bitext_split(src_rows, seed)
        header.append("flags")
        rows = [(u, intent, s, cat, flags) for (u, intent, cat, flags), s in zip(src_rows, split, strict=True)]
    elif name == "banking77":
        for split, fn in (("", "train.csv.gz"), ("test", "test.csv.gz")):
            with gzip.open(Path(src) / fn, "rt", newline="") as f:
                rows += [(r["text"], r["category"], split, "") for r in csv.DictReader(f)]
    elif name == "shopping":
        with gzip.open(src, "rt", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if (r["review"] or "").strip():
                    rows.append((r["review"], "positive" if r["label"] == "1" else "negative", "", r["cat"]))
    else:
        raise BadInput(f"unknown corpus {name} (bitext, banking77 or shopping)")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "texts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    print(f"{len(rows)} texts -> {out}", file=sys.stderr)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (3, 5) or (len(args) == 5 and args[3] != "--seed"):
        print("usage: convert_texts.py bitext|banking77|shopping SRC DST [--seed N]", file=sys.stderr)
        sys.exit(2)
    try:
        main(*args[:3], seed=int(args[4]) if len(args) == 5 else 0)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
