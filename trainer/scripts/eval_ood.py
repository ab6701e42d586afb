"""Scores an intent artifact's model.onnx (what the server serves) on a labelled CSV (`text,label`,
label `out_of_scope` for requests outside the model's intents), using the artifact's own
out_of_scope threshold the way the server applies it (score < threshold -> out_of_scope, the score
being max(probs) or the known_score output, manifest out_of_scope.score). With an exemplar bank
(outputs known_score, neighbor_probs) it also reports the neighbour vote's in-scope accuracy,
AUROC of in-scope vs out-of-scope for max(probs) and known_score, and known_score's range on each.
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
from meridian_trainer import export, hparams, manifest, metrics  # noqa: E402
from meridian_trainer.train_text import IntentConfig, _InputOnly, onnx_outputs  # noqa: E402


def main(art: Path, path: Path) -> dict:
    man = manifest.read(art)
    cfg = hparams.parse(IntentConfig, {}, base=man["hyperparameters"])
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts, gold = [r["text"] for r in rows], np.array([r["label"] for r in rows])
    names = [o["name"] for o in man["outputs"] if o["name"] in ("probs", "known_score", "neighbor_probs")]
    outs = onnx_outputs(export.session(art / "model.onnx"), _InputOnly(cfg, man["labels"]), texts, names)
    probs = outs["probs"]
    labels = np.array(man["labels"])
    top = labels[probs.argmax(1)]
    oos = man.get("out_of_scope")
    thr = oos["threshold"] if oos else -1.0
    score_name = oos["score"] if oos else "max_prob"
    score = probs.max(1) if score_name == "max_prob" else outs["known_score"]
    pred = np.where(score < thr, "out_of_scope", top)
    ins = gold != "out_of_scope"
    out = {"artifact": man["version"], "file": str(path), "score": score_name, "threshold": thr,
           "n_in_scope": int(ins.sum()), "n_out_of_scope": int((~ins).sum()),
           "in_scope_accuracy_no_rejection": float((top[ins] == gold[ins]).mean()),
           "in_scope_kept": float((pred[ins] != "out_of_scope").mean()),
           "in_scope_correct": float((pred[ins] == gold[ins]).mean()),
           "out_of_scope_rejected": float((pred[~ins] == "out_of_scope").mean()),
           "accuracy_with_out_of_scope_class": float((pred == gold).mean())}
    if "known_score" in outs:
        vote = labels[outs["neighbor_probs"].argmax(1)]
        out["neighbor_in_scope_accuracy_no_rejection"] = float((vote[ins] == gold[ins]).mean())
        out["auroc_in_vs_out"] = {"max_prob": metrics.auc(ins.astype(np.int64), probs.max(1)),
                                  "known_score": metrics.auc(ins.astype(np.int64), outs["known_score"])}
        ks = outs["known_score"]
        out["known_score_in_scope"] = {"min": float(ks[ins].min()), "median": float(np.median(ks[ins])),
                                       "max": float(ks[ins].max())}
        out["known_score_out_of_scope"] = {"min": float(ks[~ins].min()), "median": float(np.median(ks[~ins])),
                                           "max": float(ks[~ins].max())}
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "eval" / "ecommerce_ood.csv")
