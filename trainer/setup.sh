#!/usr/bin/env bash
# Creates trainer/.venv (Python 3.11) with the pinned requirements. Idempotent:
# a second run checks a stamp (hash of requirements.txt + constraints.txt) and returns at once.
set -euo pipefail
cd "$(dirname "$0")"
VENV=.venv
STAMP="$VENV/.requirements.sha256"
want="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "trainer/.venv is up to date" >&2
  exit 0
fi
PY="${PYTHON:-$(command -v python3.11 || true)}"
if [[ -z "$PY" ]]; then echo "python3.11 not found (set PYTHON=...)" >&2; exit 1; fi
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)
# torch: prefer the local CPU wheel; a registry torch would be the multi-GB CUDA build.
wheel="$(ls /opt/wheels/torch-2.13.0+cpu-cp311-*.whl 2>/dev/null | head -1 || true)"
if [[ -n "$wheel" ]]; then
  "${pip[@]}" "$wheel" -c constraints.txt
else
  "${pip[@]}" "torch==2.13.0+cpu" --extra-index-url https://download.pytorch.org/whl/cpu
fi
"${pip[@]}" -r requirements.txt -c constraints.txt
echo "$want" > "$STAMP"
echo "trainer/.venv ready" >&2
