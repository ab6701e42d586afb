#!/usr/bin/env bash
# Reproduces one RESULTS.md row: converts the public dataset into a snapshot (once) and
# trains on it. Output: runs/<name>.jsonl (progress), runs/<name>.log (stderr),
# runs/<name>.time (wall time), artifact in runs/art-<name>/.
#   scripts/bench.sh games|beauty|taobao|shopping-ngram|banking77-head|banking77-full|bitext-head [seed]
# A name picks its dataset by prefix (games-gpu uses the games snapshot and configs/games_gpu.json).
# PY overrides the interpreter; SNAPSHOT_ONLY=1 converts the data and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
name="$1"; seed="${2:-0}"; D="${MERIDIAN_DATA:-/work/shared/data}"; PY="${PY:-.venv/bin/python}"
mkdir -p runs
snap() {  # snap <dir> <converter args...>
  local dir="$1"; shift
  [[ -f "$dir/.done" ]] || { "$PY" "$@" "$dir" && touch "$dir/.done"; }
}
case "$name" in
  games*)  snap runs/snap-games scripts/convert_amazon.py games "$D/amazon-games-sasrec/Video.txt.gz"
          kind=next-item; data=runs/snap-games ;;
  beauty*) snap runs/snap-beauty scripts/convert_amazon.py beauty "$D/amazon-seqrec-s3rec/Beauty.txt.gz"
          kind=next-item; data=runs/snap-beauty ;;
  taobao*) snap runs/snap-taobao scripts/convert_taobao.py "$D/taobao-userbehavior-head/UserBehavior_head.csv.gz"
          kind=behavior; data=runs/snap-taobao ;;
  shopping-*) snap runs/snap-shopping scripts/convert_texts.py shopping "$D/chinese-review-sentiment/online_shopping_10_cats.csv.gz"
          kind=sentiment; data=runs/snap-shopping ;;
  bitext-*) snap runs/snap-bitext scripts/convert_texts.py bitext "$D/intent-ecommerce-bitext/customer_service_8k.csv.gz"
          kind=intent; data=runs/snap-bitext ;;
  banking77-*) snap runs/snap-banking77 scripts/convert_texts.py banking77 "$D/intent-banking77"
          kind=intent; data=runs/snap-banking77 ;;
  *) echo "unknown benchmark $name" >&2; exit 2 ;;
esac
[[ "${SNAPSHOT_ONLY:-0}" == 1 ]] && exit 0
cfg="configs/${name//-/_}.json"
rm -rf "runs/art-$name"
start=$(date +%s)
MERIDIAN_TRAINER_THREADS="${MERIDIAN_TRAINER_THREADS:-2}" "$PY" -m meridian_trainer train --kind "$kind" --data "$data" \
  --out "runs/art-$name" --config "$cfg" --seed "$seed" > "runs/$name.jsonl" 2> "runs/$name.log"
echo "wall_s=$(( $(date +%s) - start )) threads=${MERIDIAN_TRAINER_THREADS:-2} device=${MERIDIAN_TRAINER_DEVICE:-auto}" > "runs/$name.time"
tail -1 "runs/$name.jsonl"
