"""Open-intent protocol and closed-set comparison on the Bitext e-commerce intents (RESULTS.md).

  .venv/bin/python scripts/open_intent.py /work/shared/data/intent-ecommerce-bitext/customer_service_8k.csv.gz \
      --config configs/bitext_head.json --out runs/open_intent.json [--seeds 0,1,2] [--ood eval/ecommerce_ood.csv]

For each seed s (default 0, 1, 2):
- split: seeded stratified 80/10/10 by intent (convert_texts.bitext_split(rows, s); s = 0 is the
  shipped snapshot's split);
- closed set (all 27 intents): the trainer's head-mode model (frozen all-MiniLM-L6-v2 embeddings
  + the head of --config, trained by train_text.fit_head with early stopping on validation
  accuracy) and the linear baseline (TF-IDF word 1-2 + char 2-5 grams, sublinear tf, LinearSVC
  C=1) trained on the same train split; test accuracy, macro-F1 and accuracy per flag letter;
- open intent: 25% of the intents (7 of 27, drawn with default_rng(s)) are removed from train and
  validation; both models train on the 20 known intents; the out-of-scope threshold is chosen on
  the known-intent validation texts only (train_text.choose_threshold with oos_keep, i.e. the
  highest threshold keeping at least oos_keep of them), on max(probs) for the model and on the
  largest LinearSVC decision value for the baseline (and, as an analysis only, on the cosine to
  the nearest training embedding, `knn`); on the full test split (known + unknown intents):
  known-intent accuracy (a rejected known text counts as an error), unknown recall / precision /
  F1, macro-F1 over the known classes + unknown, overall accuracy;
- the hand-written out-of-distribution set (--ood; never used for training or tuning): in-scope
  accuracy without rejection, in-scope texts kept and out-of-scope texts rejected at the
  closed-set models' validation thresholds, and accuracy with out_of_scope as a 28th class.
- the exemplar bank (train_text.exemplar_bank, what `exemplars: true` puts into the graph): the
  soft k-NN vote over the training embeddings (k, tau chosen on validation by train_text.choose_knn)
  in the closed set (`neighbor`), and known_score = the cosine to the nearest training embedding
  as the out-of-scope score, its threshold chosen on validation like max(probs)'s: in the open-intent
  protocol with the head's prediction (`model_knn_score`) and with the vote's (`neighbor_known_score`);
  on the hand-written set (`ood_known_score`, `neighbor`'s ood) with AUROC of in-scope vs
  out-of-scope for max_prob and known_score (`ood_auroc`).
MiniLM embeddings are computed once per run (all texts + the OOD set) and reused by every seed.
Numbers are the PyTorch fp32 head's (the shipped int8 graph differs by < 0.2 points, trainer metrics).
The JSON at --out has every seed's numbers and the summary (mean, sd, min, max over seeds).
"""

import argparse
import contextlib
import csv
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from convert_texts import bitext_split, read_bitext  # noqa: E402

from meridian_trainer import hparams, metrics  # noqa: E402
from meridian_trainer.text_model import classifier_head  # noqa: E402
from meridian_trainer.train_text import (  # noqa: E402
    IntentConfig,
    TextTask,
    choose_knn,
    choose_threshold,
    embed_all,
    fit_head,
    knn_vote,
)

N_UNKNOWN = 7
SWEEP = (0.90, 0.93, 0.95, 0.97, 0.99)  # oos_keep values also reported for the model (analysis of the trade-off)
FLAGS_REPORTED = ("Z", "Q", "K")


def linear_baseline(texts_tr, y_tr):
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    X = hstack([word.fit_transform(texts_tr), char.fit_transform(texts_tr)]).tocsr()
    svc = LinearSVC(C=1.0).fit(X, y_tr)

    def decision(texts):  # (n, C) decision values in class-index order of svc.classes_
        d = svc.decision_function(hstack([word.transform(texts), char.transform(texts)]).tocsr())
        out = np.full((len(texts), int(y_tr.max()) + 1), -np.inf)
        out[:, svc.classes_] = d
        return out
    return decision


def train_head(cfg, E, y, tr, va, n_classes, seed):
    torch.manual_seed(seed)
    head = classifier_head(E.shape[1], cfg.head_hidden, n_classes, cfg.dropout)
    with contextlib.redirect_stdout(sys.stderr):  # the trainer's progress lines
        probs = fit_head(head, n_classes, cfg, E, y, tr, va, seed, torch.device("cpu"))

    def probs_of(X):  # probabilities for embeddings not in E (the OOD set)
        head.eval()
        with torch.no_grad():
            return torch.softmax(head(X), -1).numpy()
    return probs, probs_of


def flag_acc(ok: np.ndarray, flags: list) -> dict:
    letters = sorted({ch for f in flags for ch in f})
    return {ch: {"accuracy": float(ok[[ch in f for f in flags]].mean()), "n": int(sum(ch in f for f in flags))}
            for ch in letters}


def open_scores(known_pred, score, thr, y_true, unknown_mask, n_known) -> dict:
    """Prediction = known_pred, or n_known (= unknown) when score < thr."""
    pred = np.where(score < thr, n_known, known_pred)
    true = np.where(unknown_mask, n_known, y_true)
    unk_pred, unk_true = pred == n_known, true == n_known
    tp = int((unk_pred & unk_true).sum())
    rec = tp / max(1, int(unk_true.sum()))
    prec = tp / int(unk_pred.sum()) if unk_pred.any() else 0.0
    return {"threshold": float(thr), "known_accuracy": float((pred[~unk_true] == true[~unk_true]).mean()),
            "unknown_recall": rec, "unknown_precision": prec,
            "unknown_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
            "macro_f1": metrics.macro_f1(true, pred, n_known + 1), "accuracy": float((pred == true).mean())}


def ood_scores(pred_names, score, thr, gold) -> dict:
    gold = np.array(gold)
    ins = gold != "out_of_scope"
    pred_names = np.array(pred_names)
    kept = score >= thr
    with_oos = np.where(kept, pred_names, "out_of_scope")
    return {"in_scope_accuracy_no_rejection": float((pred_names[ins] == gold[ins]).mean()),
            "in_scope_kept": float(kept[ins].mean()),
            "in_scope_kept_and_correct": float((with_oos[ins] == gold[ins]).mean()),
            "out_of_scope_rejected": float((~kept[~ins]).mean()),
            "accuracy_with_out_of_scope_class": float((with_oos == gold).mean()),
            "n_in_scope": int(ins.sum()), "n_out_of_scope": int((~ins).sum())}


def summarize(per_seed: list):
    """Same nested structure, each number replaced by {mean, sd, min, max} over the seeds."""
    first = per_seed[0]
    if isinstance(first, dict):
        return {k: summarize([p[k] for p in per_seed]) for k in first if all(k in p for p in per_seed)}
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        a = np.array(per_seed, dtype=np.float64)
        return {"mean": float(a.mean()), "sd": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                "min": float(a.min()), "max": float(a.max())}
    return first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("--config", default=str(ROOT / "configs" / "bitext_head.json"))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--ood", default=str(ROOT / "eval" / "ecommerce_ood.csv"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--cache", default=None, help="directory for the MiniLM embeddings (reused when the texts and "
                    "max_length match), to compare head configs without re-encoding")
    args = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(2)
    cfg = hparams.parse(IntentConfig, hparams.load_config_arg(args.config))
    rows = read_bitext(Path(args.src))
    texts = [r[0] for r in rows]
    flags = [r[3] for r in rows]
    labels = sorted({r[1] for r in rows})
    y = np.array([labels.index(r[1]) for r in rows], dtype=np.int64)
    with open(args.ood, newline="", encoding="utf-8") as f:
        ood = list(csv.DictReader(f))
    ood_texts, ood_gold = [r["text"] for r in ood], [r["label"] for r in ood]

    te0 = time.time()
    key = hashlib.sha256(json.dumps([cfg.max_length, texts, ood_texts]).encode()).hexdigest()[:16]
    cached = Path(args.cache) / f"minilm-{key}.npz" if args.cache else None
    if cached is not None and cached.exists():
        z = np.load(cached)
        E, E_ood = torch.from_numpy(z["E"]), torch.from_numpy(z["E_ood"])
    else:
        task = TextTask(cfg, labels)
        E = embed_all(task, texts)
        E_ood = embed_all(task, ood_texts)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cached, E=E.numpy(), E_ood=E_ood.numpy())
    embed_s = time.time() - te0
    print(f"embeddings: {len(texts)} + {len(ood_texts)} texts in {embed_s:.1f} s", file=sys.stderr)
    text_arr = np.array(texts, dtype=object)

    per_seed = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        split = np.array(bitext_split(rows, seed))
        tr, va, te = (np.flatnonzero(split == s) for s in ("train", "validation", "test"))
        te_flags = [flags[i] for i in te]
        res = {"seed": seed, "n_train": int(len(tr)), "n_validation": int(len(va)), "n_test": int(len(te))}

        # closed set
        t = time.time()
        probs, probs_of = train_head(cfg, E, y, tr, va, len(labels), seed)
        head_s = time.time() - t
        p_te = probs(te)
        t = time.time()
        dec = linear_baseline(text_arr[tr], y[tr])
        d_te = dec(text_arr[te])
        svc_s = time.time() - t
        closed = {}
        p_ood, d_ood = probs_of(E_ood), dec(np.array(ood_texts, dtype=object))
        for name, pred, score_va, ood_out in (("model", p_te.argmax(1), probs(va).max(1), p_ood),
                                              ("linear", d_te.argmax(1), dec(text_arr[va]).max(1), d_ood)):
            ok = pred == y[te]
            closed[name] = {"accuracy": float(ok.mean()), "macro_f1": metrics.macro_f1(y[te], pred, len(labels)),
                            "per_flag": flag_acc(ok, te_flags)}
            thr = choose_threshold(score_va, cfg.oos_keep)
            closed[name]["ood"] = ood_scores([labels[i] for i in ood_out.argmax(1)], ood_out.max(1), thr, ood_gold)
            closed[name]["ood_by_keep"] = {
                f"{k:g}": ood_scores([labels[i] for i in ood_out.argmax(1)], ood_out.max(1),
                                     choose_threshold(score_va, k), ood_gold) for k in SWEEP}
        # exemplar bank: the vote and known_score (cosine to the nearest training text)
        Etr_all = E[tr].numpy()
        cos_va, cos_te, cos_ood = (X @ Etr_all.T for X in (E[va].numpy(), E[te].numpy(), E_ood.numpy()))
        knn = choose_knn(cos_va, y[va], y[tr], len(labels))
        v_te = knn_vote(cos_te, y[tr], len(labels), knn["k"], knn["tau"])
        v_ood = knn_vote(cos_ood, y[tr], len(labels), knn["k"], knn["tau"])
        ks_thr = choose_threshold(cos_va.max(1), cfg.oos_keep)
        ok = v_te.argmax(1) == y[te]
        closed["neighbor"] = {"k": knn["k"], "tau": knn["tau"], "val_accuracy": knn["val_accuracy"],
                              "accuracy": float(ok.mean()),
                              "macro_f1": metrics.macro_f1(y[te], v_te.argmax(1), len(labels)),
                              "per_flag": flag_acc(ok, te_flags), "known_score_threshold": ks_thr,
                              "ood": ood_scores([labels[i] for i in v_ood.argmax(1)], cos_ood.max(1), ks_thr,
                                                ood_gold)}
        closed["model"]["ood_known_score"] = ood_scores([labels[i] for i in p_ood.argmax(1)], cos_ood.max(1),
                                                        ks_thr, ood_gold)
        is_in = np.array([g != "out_of_scope" for g in ood_gold], dtype=np.int64)
        closed["ood_auroc"] = {"max_prob": metrics.auc(is_in, p_ood.max(1)),
                               "known_score": metrics.auc(is_in, cos_ood.max(1)),
                               "linear_max_decision": metrics.auc(is_in, d_ood.max(1))}
        res["closed"] = closed

        # open intent
        rng = np.random.default_rng(seed)
        unknown = sorted(rng.choice(len(labels), N_UNKNOWN, replace=False).tolist())
        known = [c for c in range(len(labels)) if c not in unknown]
        remap = np.full(len(labels), -1)
        remap[known] = np.arange(len(known))
        yk = remap[y]
        trk, vak = tr[yk[tr] >= 0], va[yk[va] >= 0]
        unk_te = yk[te] < 0
        op = {"unknown_intents": [labels[c] for c in unknown]}
        kprobs, _ = train_head(cfg, E, np.maximum(yk, 0), trk, vak, len(known), seed)
        pk_te, pk_va = kprobs(te), kprobs(vak)
        op["model"] = open_scores(pk_te.argmax(1), pk_te.max(1), choose_threshold(pk_va.max(1), cfg.oos_keep),
                                  yk[te], unk_te, len(known))
        op["model_by_keep"] = {f"{k:g}": open_scores(pk_te.argmax(1), pk_te.max(1), choose_threshold(pk_va.max(1), k),
                                                     yk[te], unk_te, len(known)) for k in SWEEP}
        Etr = E[trk].numpy()
        op["model_knn_score"] = open_scores(pk_te.argmax(1), (E[te].numpy() @ Etr.T).max(1),
                                            choose_threshold((E[vak].numpy() @ Etr.T).max(1), cfg.oos_keep),
                                            yk[te], unk_te, len(known))
        cos_vak = E[vak].numpy() @ Etr.T
        kknn = choose_knn(cos_vak, yk[vak], yk[trk], len(known))
        op["neighbor_known_score"] = open_scores(
            knn_vote(E[te].numpy() @ Etr.T, yk[trk], len(known), kknn["k"], kknn["tau"]).argmax(1),
            (E[te].numpy() @ Etr.T).max(1), choose_threshold(cos_vak.max(1), cfg.oos_keep), yk[te], unk_te,
            len(known))
        op["neighbor_known_score"].update(k=kknn["k"], tau=kknn["tau"])
        kdec = linear_baseline(text_arr[trk], yk[trk])
        dk_te, dk_va = kdec(text_arr[te]), kdec(text_arr[vak])
        op["linear"] = open_scores(dk_te.argmax(1), dk_te.max(1), choose_threshold(dk_va.max(1), cfg.oos_keep),
                                   yk[te], unk_te, len(known))
        res["open_intent"] = op
        res["seconds"] = {"model_head_closed": head_s, "linear_closed": svc_s}
        per_seed.append(res)
        print(json.dumps({"seed": seed, "closed": {k: v["accuracy"] for k, v in closed.items() if "accuracy" in v},
                          "open": {k: (v["known_accuracy"], v["unknown_recall"]) for k, v in op.items()
                                   if isinstance(v, dict) and "unknown_recall" in v}}), file=sys.stderr)

    out = {"config": hparams.load_config_arg(args.config), "oos_keep": cfg.oos_keep, "seeds": per_seed,
           "summary": summarize([{k: v for k, v in s.items() if k not in ("seed",)} for s in per_seed]),
           "embedding_seconds": embed_s, "wall_seconds": time.time() - t0, "threads": torch.get_num_threads()}
    text = json.dumps(out, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
