#!/usr/bin/env bash
# Runs several RESULTS.md rows at once on one CUDA machine, each as `scripts/bench.sh NAME`
# (the device tool's H200 produced the "GPU" rows this way):
#   MERIDIAN_DATA=<data dir> PY=python3 scripts/gpu_bench.sh OUTDIR NAME...
# Snapshots are converted first, one dataset at a time; then every NAME trains in parallel
# (2 CPU threads each, one shared GPU), each stopped after GPU_BENCH_TIMEOUT seconds.
# OUTDIR/runs.tgz holds runs/*.jsonl, *.log, *.time and the manifests; it is refreshed every
# 20 s, so a run cut short still returns what it wrote.
set -uo pipefail
cd "$(dirname "$0")/.."
out="$(mkdir -p "$1" && cd "$1" && pwd)"; shift
export MERIDIAN_TRAINER_DEVICE="${MERIDIAN_TRAINER_DEVICE:-cuda}" CUBLAS_WORKSPACE_CONFIG=:4096:8 PYTHONUNBUFFERED=1
mkdir -p runs
pack() {
  tar czf "$out/runs.tgz.tmp" --exclude='snap-*' --exclude='*.onnx' --exclude='*.pt' --exclude='*.f32' runs \
    && mv "$out/runs.tgz.tmp" "$out/runs.tgz"
}
for name in "$@"; do SNAPSHOT_ONLY=1 scripts/bench.sh "$name" || echo "snapshot for $name failed" >&2; done
pids=()
for name in "$@"; do
  timeout "${GPU_BENCH_TIMEOUT:-500}" scripts/bench.sh "$name" > "runs/$name.tail" 2>&1 &
  pids+=($!)
done
( while sleep 20; do pack; done ) & packer=$!
for p in "${pids[@]}"; do wait "$p"; done
kill "$packer" 2>/dev/null
pack
for name in "$@"; do echo "== $name: $(cat "runs/$name.time" 2>/dev/null)"; tail -c 600 "runs/$name.jsonl" 2>/dev/null; echo; done
