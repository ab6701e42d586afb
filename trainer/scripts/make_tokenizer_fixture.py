"""Writes tests/fixtures/tokenizer_parity.json: (text -> ids) pairs from the HF tokenizer
that ships with all-MiniLM-L6-v2, for the server's TypeScript tokenizer parity test.

  .venv/bin/python scripts/make_tokenizer_fixture.py [/work/shared/data]

Texts: 60 Chinese reviews (online_shopping_10_cats), 60 Portuguese reviews (Olist),
50 English banking queries (BANKING77), and hand-written edge cases. Sampled with a
fixed seed; ids use the same settings as the trainer (truncation to max_length=128,
[CLS] ... [SEP], no padding: pad with 0 / attention_mask 0 up to the batch length).
"""

import csv
import gzip
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from meridian_trainer.train_text import tokenizer  # noqa: E402

MAX_LENGTH = 128
EDGE_CASES = [
    "", " ", "\t\n", "a", "A", "Hello, World!", "HELLO WORLD", "naïve café résumé", "Crème Brûlée à la carte",
    "Ünïcödé ÀÉÎÕÜ ñ ç ß", "São Paulo — não é fácil", "emoji 😀👍🏽🎉 test", "❤️ love it ❤", "🇧🇷 bandeira",
    "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 120, "antidisestablishmentarianism " * 3, "don't won't can't I'm", "e-mail: foo.bar@example.com",
    "https://example.com/path?q=1&r=2", "price $19.99 (20% off!!!)", "1234567890 3.14159 1,000,000",
    "中文English混合text", "日本語のテキスト", "한국어 텍스트", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ １２３", "tabs\tand\nnewlines\r\nhere",
    "zero\u200bwidth\u200bspace", "control\u0007char\u0000nul", "soft\u00adhyphen", "combining e\u0301 accent",
    "Ωμέγα ελληνικά", "Русский текст", "العربية", "עברית", "हिन्दी", "ÅNGSTRÖM", "İstanbul ıi",
    "my card hasn't arrived yet!!!", "   leading and trailing spaces   ", "...", "???!!!", "a" * 101,
    "word " * 200,
]


def sample_csv(path, col, n, rng, filt=lambda r: True):
    with gzip.open(path, "rt", newline="", encoding="utf-8") as f:
        rows = [r[col] for r in csv.DictReader(f) if (r.get(col) or "").strip() and filt(r)]
    return rng.sample(rows, n)


def main(root="/work/shared/data"):
    root = Path(root)
    rng = random.Random(20250301)
    texts = [("zh", t) for t in sample_csv(root / "chinese-review-sentiment/online_shopping_10_cats.csv.gz", "review", 60, rng)]
    texts += [("pt", t) for t in sample_csv(root / "olist-brazilian-ecommerce/sample_union/olist_order_reviews_dataset.csv.gz",
                                            "review_comment_message", 60, rng)]
    texts += [("en", t) for t in sample_csv(root / "intent-banking77/train.csv.gz", "text", 50, rng)]
    texts += [("edge", t) for t in EDGE_CASES]
    tok = tokenizer()
    cases = []
    for lang, t in texts:
        ids = tok(t, truncation=True, max_length=MAX_LENGTH)["input_ids"]
        cases.append({"lang": lang, "text": t, "input_ids": ids, "tokens": tok.convert_ids_to_tokens(ids)})
    out = Path(__file__).resolve().parents[1] / "tests/fixtures/tokenizer_parity.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"tokenizer": "all-MiniLM-L6-v2 (BertTokenizerFast, transformers)", "max_length": MAX_LENGTH,
                               "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(cases)} cases -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
