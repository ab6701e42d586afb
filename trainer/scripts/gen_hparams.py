"""Regenerates hyperparameters.json and the hyperparameter tables in README.md from the
dataclass configs (the single source of truth). tests/test_cli.py fails when either is stale.

  .venv/bin/python scripts/gen_hparams.py
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from meridian_trainer.__main__ import hyperparameter_spec  # noqa: E402

START, END = "<!-- hparams:start -->", "<!-- hparams:end -->"


def tables(spec: dict) -> str:
    out = []
    for kind, keys in spec.items():
        out.append(f"\n#### `{kind}`\n\n| key | type | default | allowed | arch | meaning |\n|---|---|---|---|---|---|")
        for k, v in keys.items():
            if "choices" in v:
                allowed = " \\| ".join(map(str, v["choices"]))
            elif "min" in v or "max" in v:
                allowed = f"{v.get('min', '')} … {v.get('max', '')}"
            else:
                allowed = ""
            out.append(f"| `{k}` | {v['type']} | `{json.dumps(v['default'])}` | {allowed} | "
                       f"{'yes' if v.get('architecture') else ''} | {v['help']} |")
    return "\n".join(out) + "\n"


def main():
    spec = hyperparameter_spec()
    (ROOT / "hyperparameters.json").write_text(json.dumps(spec, indent=2) + "\n")
    readme = ROOT / "README.md"
    text = readme.read_text()
    a, b = text.index(START) + len(START), text.index(END)
    readme.write_text(text[:a] + "\n" + tables(spec) + text[b:])


if __name__ == "__main__":
    main()
