"""Scores an intent artifact's model.onnx (what the server serves) on a labelled CSV (`text,label`,
label `out_of_scope` for requests outside the model's intents), using the artifact's own
out_of_scope threshold the way the server applies it (max(probs) < threshold -> out_of_scope).
Reporting only: the default set, eval/ecommerce_ood.csv, is never used for training or tuning.

  .venv/bin/python scripts/eval_ood.py ../model-artifacts/intent [eval/ecommerce_ood.csv]
"""

import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from meridian_trainer import export, hparams, manifest  # noqa: E402
from meridian_trainer.train_text import IntentConfig, _InputOnly, onnx_probs  # noqa: E402


def main(art: Path, path: Path) -> dict:
    man = manifest.read(art)
    cfg = hparams.parse(IntentConfig, {}, base=man["hyperparameters"])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts, gold = [r["text"] for r in rows], np.array([r["label"] for r in rows])
    probs = onnx_probs(export.session(art / "model.onnx"), _InputOnly(cfg, man["labels"]), texts)
    top = np.array(man["labels"])[probs.argmax(1)]
    oos = man.get("out_of_scope")
    thr = oos["threshold"] if oos else -1.0
    pred = np.where(probs.max(1) < thr, "out_of_scope", top)
    ins = gold != "out_of_scope"
    out = {"artifact": man["version"], "file": str(path), "threshold": thr, "n_in_scope": int(ins.sum()),
           "n_out_of_scope": int((~ins).sum()),
           "in_scope_accuracy_no_rejection": float((top[ins] == gold[ins]).mean()),
           "in_scope_kept": float((pred[ins] != "out_of_scope").mean()),
           "in_scope_correct": float((pred[ins] == gold[ins]).mean()),
           "out_of_scope_rejected": float((pred[~ins] == "out_of_scope").mean()),
           "accuracy_with_out_of_scope_class": float((pred == gold).mean())}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "eval" / "ecommerce_ood.csv")
