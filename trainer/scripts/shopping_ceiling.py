"""How far do linear character n-gram models get on online_shopping_10_cats? (RESULTS.md, sentiment notes)

TF-IDF over character n-grams (sublinear tf, min_df 2) with a linear SVM, and NB-weighted
logistic regression (NBSVM-style), on the trainer's own seeded 8:1:1 split (seed 0).
Validation picks nothing here; both are printed. Analysis only: scikit-learn comes with
sentence-transformers in the trainer's venv; nothing here is shipped.

  .venv/bin/python scripts/shopping_ceiling.py [runs/snap-shopping]   (scripts/bench.sh makes the snapshot)
"""

import sys
import time
from pathlib import Path

import numpy as np
from scipy.sparse import diags
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meridian_trainer import data  # noqa: E402


def main(snap: Path):
    t = data.load_texts(snap, "sentiment")
    tr, va, te = data.split_texts(t, 0)
    text = lambda idx: [t.text[i] for i in idx]  # noqa: E731
    y = lambda idx: np.array([t.label[i] for i in idx])  # noqa: E731
    ytr = y(tr)
    print(f"train {len(tr)}, validation {len(va)}, test {len(te)}")
    print("| char n-grams | model | validation acc | test acc | seconds |\n|---|---|---|---|---|")
    for ng in [(1, 2), (1, 3), (1, 4), (1, 5)]:
        t0 = time.time()
        vec = TfidfVectorizer(analyzer="char", ngram_range=ng, sublinear_tf=True, min_df=2, max_features=2_000_000)
        Xtr, Xva, Xte = vec.fit_transform(text(tr)), vec.transform(text(va)), vec.transform(text(te))
        svm = LinearSVC(C=0.3).fit(Xtr, ytr)
        acc = lambda m, X, idx: (m.predict(X) == y(idx)).mean()  # noqa: E731
        print(f"| {ng[0]}–{ng[1]} | linear SVM, C 0.3 | {acc(svm, Xva, va):.4f} | {acc(svm, Xte, te):.4f} | {time.time() - t0:.0f} |")
        pos = ytr == sorted(set(ytr))[1]
        p = np.asarray(Xtr[pos].sum(0)).ravel() + 1
        q = np.asarray(Xtr[~pos].sum(0)).ravel() + 1
        D = diags(np.log((p / p.sum()) / (q / q.sum())))
        nb = LogisticRegression(C=10.0, max_iter=2000).fit(Xtr @ D, ytr)
        print(f"| {ng[0]}–{ng[1]} | NB-weighted LR, C 10 | {acc(nb, Xva @ D, va):.4f} | {acc(nb, Xte @ D, te):.4f} | {time.time() - t0:.0f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/snap-shopping"))
