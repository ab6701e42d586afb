"""Amazon sequence benchmarks -> snapshot (events.csv with synthetic increasing timestamps).

  python scripts/convert_amazon.py games  /work/shared/data/amazon-games-sasrec/Video.txt.gz      runs/snap-games
  python scripts/convert_amazon.py beauty /work/shared/data/amazon-seqrec-s3rec/Beauty.txt.gz     runs/snap-beauty

games: one `user item` pair per line, each user's rows in time order (SASRec format).
beauty: one `user item_1 ... item_n` line per user, in time order (S3-Rec format).
Every interaction becomes a `view` event; timestamps are 2020-01-01 plus one minute per
row, so each user's order is kept (the files carry no real times; the benchmark configs
switch the hour-of-week and cell contexts off for that reason).
"""

import csv
import gzip
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path


def main(fmt: str, src: str, dst: str):
    pairs = []
    with gzip.open(src, "rt") as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if fmt == "games":
                pairs.append((parts[0], parts[1]))
            else:
                pairs += [(parts[0], it) for it in parts[1:]]
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    t0 = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with open(out / "events.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "product_id", "type", "occurred_at", "lat", "lng", "session_id", "quantity", "price"])
        for k, (u, it) in enumerate(pairs):
            t = t0 + timedelta(minutes=k)
            w.writerow([f"u{u}", f"i{it}", "view", t.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "", "", "", 1, ""])
    (out / "snapshot.json").write_text(json.dumps({"source": src, "counts": {"events": len(pairs)}}))
    print(f"{len(pairs)} events -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
