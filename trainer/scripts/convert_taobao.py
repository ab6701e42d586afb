"""Taobao UserBehavior head -> snapshot (events.csv + products.csv).

  python scripts/convert_taobao.py /work/shared/data/taobao-userbehavior-head/UserBehavior_head.csv.gz runs/snap-taobao

Rows `user,item,category,behavior,unix_ts`; behavior pv->view, cart->cart, fav->favorite,
buy->purchase. Timestamps are written as ISO-8601 UTC. No locations, prices or sessions.
"""

import csv
import gzip
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

TYPES = {"pv": "view", "cart": "cart", "fav": "favorite", "buy": "purchase"}


def main(src: str, dst: str):
    out = Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    cats, n = {}, 0
    with gzip.open(src, "rt") as f, open(out / "events.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["user_id", "product_id", "type", "occurred_at", "lat", "lng", "session_id", "quantity", "price"])
        for row in csv.reader(f):
            u, item, cat, beh, ts = row
            t = datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            w.writerow([u, item, TYPES[beh], t, "", "", "", 1, ""])
            cats[item] = cat
            n += 1
    with open(out / "products.csv", "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["product_id", "category_id", "category_name", "price", "title", "lat", "lng"])
        for item in sorted(cats):
            w.writerow([item, cats[item], "", "", "", "", ""])
    (out / "snapshot.json").write_text(json.dumps({"source": src, "counts": {"events": n, "products": len(cats)}}))
    print(f"{n} events -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
