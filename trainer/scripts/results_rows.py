"""Prints the RESULTS.md metric cells for finished bench runs (reads runs/<name>.jsonl/.time),
so the table is copied from the runs, not typed.   .venv/bin/python scripts/results_rows.py games beauty ..."""

import json
import sys
from pathlib import Path

RUNS = Path(__file__).resolve().parents[1] / "runs"
KEYS = {
    "next-item": ["protocol", "hr@10", "ndcg@10", "markov_hr@10", "markov_ndcg@10", "transition_weight", "test_users"],
    "behavior": ["purchase_1d_auc", "lr_purchase_1d_auc", "purchase_1d_ece", "purchase_1d_logloss",
                 "lr_purchase_1d_logloss", "purchase_1d_base_rate", "purchase_1d_n", "next_logloss", "lr_next_logloss",
                 "next_accuracy", "next_ece", "next_purchase_auc", "lr_next_purchase_auc", "next_leave_auc",
                 "lr_next_leave_auc"],
    "text": ["mode", "accuracy", "macro_f1", "fp32_accuracy", "fp32_macro_f1", "int8_accuracy", "n_test"],
}


def main(names):
    for name in names:
        lines = [json.loads(l) for l in (RUNS / f"{name}.jsonl").read_text().splitlines() if l.strip()]
        done = lines[-1]
        t = (RUNS / f"{name}.time").read_text().strip() if (RUNS / f"{name}.time").exists() else "?"
        epochs = max((l.get("epoch", 0) for l in lines if l["event"] == "progress"), default=0)
        if done["event"] != "done":
            print(f"{name}: {done}")
            continue
        m = done["metrics"]
        kind = "next-item" if "hr@10" in m else "behavior" if "next_logloss" in m else "text"
        cells = ", ".join(f"{k}={m[k]:.4f}" if isinstance(m.get(k), float) else f"{k}={m.get(k)}" for k in KEYS[kind])
        print(f"{name}: {cells}; epochs={epochs}; {t}")


if __name__ == "__main__":
    main(sys.argv[1:])
