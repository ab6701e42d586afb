"""How far can simple models get on Taobao purchase-within-a-day? (RESULTS.md, behavior notes)

Trains logistic regression and gradient boosting on the daily cutoff anchors only (the
population the metric is reported on), with three feature sets: the LR baseline's
recency/frequency features, the behavior model's profile features, and the profile plus
hand-made features (open carts / favourites, active days, share of days with a purchase).
Model choice on the validation cutoff (trained on days before it); test = the last day's
cutoff, trained on every day before it. Analysis only: scikit-learn comes with
sentence-transformers in the trainer's venv; nothing here is shipped.

  .venv/bin/python scripts/taobao_ceiling.py [runs/snap-taobao]
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meridian_trainer import data, train_behavior as tb  # noqa: E402
from meridian_trainer.behavior_features import DAY  # noqa: E402


def hand_features(h, c):
    """Open carts / favourites and active days over 1/3/7 days, purchase-day share, purchase share."""
    e = int(np.searchsorted(h.ts, c, side="right"))
    ts, ty, pr = h.ts[:e], h.types[:e], h.products[:e]
    bought = set(pr[ty == 4])
    f = []
    for w in (1, 3, 7):
        m = ts > c - w * DAY
        f += [len(set(pr[m & (ty == 3)]) - bought), len(set(pr[m & (ty == 5)]) - bought), len(set(np.floor(ts[m] / DAY)))]
    days, pdays = set(np.floor(ts / DAY)), set(np.floor(ts[ty == 4] / DAY))
    return f + [len(pdays) / max(len(days), 1), len(pdays), (ty == 4).sum() / max(len(ty), 1)]


def cutoff_set(hists, cuts, censor, cfg):
    """Cutoff anchors at `cuts` (labels censored at `censor`): features by name, 1-day label."""
    a = tb.build_anchors(hists, 0.0, -1.0, censor, cuts, cfg, None)
    hand = [hand_features(h, c) for c in cuts for h in hists
            if (e := int(np.searchsorted(h.ts, c, side="right"))) > 0 and c - h.ts[e - 1] <= 30 * DAY]
    known = ~np.isnan(a.within[:, 0])
    X = {"rf": a.rf, "profile": a.profile, "profile+hand": np.concatenate([a.profile, np.array(hand, np.float32)], 1)}
    return {k: v[known] for k, v in X.items()}, a.within[known, 0]


def bootstrap_se(y, p, rng, n=500):
    idx = [rng.integers(0, len(y), len(y)) for _ in range(n)]
    return float(np.std([roc_auc_score(y[i], p[i]) for i in idx]))


def main(snap: Path):
    cfg = tb.Config()
    ev = data.load_events(snap)
    t_end = float(ev.ts.max())
    test_start = t_end - DAY
    val_start = test_start - DAY
    hists = tb.histories(ev, data.load_users(snap))
    days = lambda t: [t - k * DAY for k in range(1, 8)]  # noqa: E731
    tr = cutoff_set(hists, days(val_start), val_start, cfg)
    va = cutoff_set(hists, [val_start], test_start, cfg)
    trv = cutoff_set(hists, days(test_start), test_start, cfg)
    te = cutoff_set(hists, [test_start], t_end, cfg)
    models = {
        "logistic regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000)),
        "gradient boosting": lambda: HistGradientBoostingClassifier(max_iter=150, learning_rate=0.03, max_leaf_nodes=7,
                                                                    min_samples_leaf=50, l2_regularization=1.0, random_state=0),
    }
    rng = np.random.default_rng(0)
    print(f"cutoff anchors: train {len(tr[1])}, validation {len(va[1])}, test {len(te[1])} "
          f"(test base rate {te[1].mean():.3f})")
    print("| features | model | validation AUC | test AUC (± bootstrap s.e.) |\n|---|---|---|---|")
    for feats in tr[0]:
        for name, make in models.items():
            v = roc_auc_score(va[1], make().fit(tr[0][feats], tr[1]).predict_proba(va[0][feats])[:, 1])
            p = make().fit(trv[0][feats], trv[1]).predict_proba(te[0][feats])[:, 1]
            print(f"| {feats} | {name} | {v:.3f} | {roc_auc_score(te[1], p):.3f} ± {bootstrap_se(te[1], p, rng):.3f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/snap-taobao"))
