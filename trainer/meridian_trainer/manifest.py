"""manifest.json: everything the server needs to know about an artifact directory."""

import hashlib
import json
import subprocess
import time
from pathlib import Path

from . import __version__

MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build(kind: str, art_dir: Path, *, inputs, outputs, hyperparameters: dict, metrics: dict,
          data_sha256: dict, files: dict, seed: int, base: dict | None = None, **extra) -> dict:
    """`files` maps a role to a file name inside art_dir; each gets its sha256 recorded."""
    model_sha = sha256_file(art_dir / "model.onnx")
    now = time.gmtime()
    return {
        "manifest_version": MANIFEST_VERSION,
        "kind": kind,
        "version": time.strftime("%Y%m%dT%H%M%SZ", now) + "-" + model_sha[:8],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", now),
        "model": {"file": "model.onnx", "sha256": model_sha, "opset": 17, "format": "onnx"},
        "inputs": inputs,
        "outputs": outputs,
        "files": {role: {"file": name, "sha256": sha256_file(art_dir / name)} for role, name in files.items()},
        "hyperparameters": hyperparameters,
        "seed": seed,
        "metrics": metrics,
        "data": {"sha256": data_sha256},
        "base": base,  # {"version", "model_sha256"} of the artifact fine-tuned from, or null
        "trainer": {"git_sha": git_sha(), "version": __version__},
        **extra,
    }


def write(art_dir: Path, manifest: dict):
    (Path(art_dir) / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def read(art_dir: Path) -> dict:
    p = Path(art_dir) / "manifest.json"
    if not p.exists():
        raise FileNotFoundError(f"{p}: not found (is {art_dir} an artifact directory?)")
    return json.loads(p.read_text())
