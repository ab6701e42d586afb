import json

import numpy as np
import pytest
import torch

from conftest import CONFIGS, ROOT, run_cli, train
from meridian_trainer import data, export
from meridian_trainer.text_model import CharNgramClassifier, MiniLMClassifier, NgramArch
from meridian_trainer.train_text import encode_codepoints, encode_tokens, tokenizer


def test_ngram_onnx_matches_pytorch(sentiment_art):
    art, _ = sentiment_art
    man = json.loads((art / "manifest.json").read_text())
    assert [i["name"] for i in man["inputs"]] == ["codepoints"] and man["labels"] == ["negative", "positive"]
    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    model = CharNgramClassifier(NgramArch(**ck["arch"]))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    texts = ["GREAT product 很好", "ＦＵＬＬ　ｗｉｄｔｈ！", "", "😀 emoji", "péssimo", "x" * 300]
    cps = encode_codepoints(texts, man["hyperparameters"]["max_length"])
    rng = np.random.default_rng(0)
    cps = np.concatenate([cps, np.where(rng.random(cps.shape) < 0.7, rng.integers(1, 0x10FFFF, cps.shape), 0)])
    fp32 = export.session(art / "model.fp32.onnx").run(["probs"], {"codepoints": cps})[0]
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(cps)), -1).numpy()
    assert np.abs(fp32 - ref).max() < 1e-4
    q = export.session(art / "model.onnx").run(["probs"], {"codepoints": cps})[0]
    assert np.abs(q - ref).max() < 0.1  # int8: close, not exact


def test_ngram_normalisation_is_in_the_graph():
    m = CharNgramClassifier(NgramArch(n_classes=2, buckets=1024, n_max=2))
    a = m.ngram_ids(torch.tensor([[ord(c) for c in "AB!"]]))
    b = m.ngram_ids(torch.tensor([[ord(c) for c in "ab！"]]))  # full-width '!' U+FF01
    assert torch.equal(a, b)
    ids = m.ngram_ids(torch.tensor([[ord("a"), ord("b"), 0, 0]]))  # (1, 2 * 4)
    assert (ids[0, :2] > 0).all() and (ids[0, 2:4] == 0).all()  # unigrams a, b; padding -> 0
    assert ids[0, 4] > 0 and (ids[0, 5:] == 0).all()  # one bigram "ab"


def test_minilm_head_onnx_matches_pytorch(intent_art):
    art, _ = intent_art
    man = json.loads((art / "manifest.json").read_text())
    assert [i["name"] for i in man["inputs"]] == ["input_ids", "attention_mask"]
    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    model = MiniLMClassifier(ck["arch"]["n_classes"], ck["arch"]["hidden"])
    model.head.load_state_dict({k[5:]: v for k, v in ck["state_dict"].items()})
    model.eval()
    tok = tokenizer()
    ids, mask = encode_tokens(tok, ["I lost my card", "refund please, it's broken!", "é", "where is my order " * 20],
                              man["text_input"]["max_length"])
    fp32 = export.session(art / "model.fp32.onnx").run(["probs"], {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(ids), torch.from_numpy(mask)), -1).numpy()
    assert np.abs(fp32 - ref).max() < 1e-4
    m = man["metrics"]
    assert {"fp32_accuracy", "int8_accuracy", "accuracy"} <= set(m) and m["accuracy"] == m["int8_accuracy"]
    assert (art / "vocab.txt").exists() and json.loads((art / "tokenizer_config.json").read_text())["max_length"] == 32


def test_minilm_full_mode_trains_the_encoder_and_exports_it(intent_snap, tmp_path):
    art = tmp_path / "full"
    smoke = json.loads((CONFIGS / "smoke_intent.json").read_text())
    train("intent", intent_snap, art, json.dumps({**smoke, "mode": "full", "epochs": 1, "encoder_lr": 1e-3}))
    man = json.loads((art / "manifest.json").read_text())
    assert man["mode"] == "full" and man["text_input"]["type"] == "bert-wordpiece"
    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    assert any(k.startswith("encoder.") for k in ck["state_dict"]), "full mode must keep the trained encoder"
    pretrained = MiniLMClassifier(ck["arch"]["n_classes"], ck["arch"]["hidden"])
    model = MiniLMClassifier(ck["arch"]["n_classes"], ck["arch"]["hidden"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    moved = [k for k, v in model.encoder.state_dict().items()
             if v.is_floating_point() and not torch.equal(v, pretrained.encoder.state_dict()[k])]
    assert moved, "the encoder did not change"
    ids, mask = encode_tokens(tokenizer(), ["I lost my card", "refund please, it's broken!", "é"],
                              man["text_input"]["max_length"])
    fp32 = export.session(art / "model.fp32.onnx").run(["probs"], {"input_ids": ids, "attention_mask": mask})[0]
    with torch.no_grad():
        ref = torch.softmax(model(torch.from_numpy(ids), torch.from_numpy(mask)), -1).numpy()
    assert np.abs(fp32 - ref).max() < 1e-4
    # fine-tuning starts from this encoder, not the pretrained one
    lines = train("intent", intent_snap, tmp_path / "ft", json.dumps({**smoke, "mode": "full", "epochs": 1,
                                                                      "encoder_lr": 1e-7, "lr": 1e-6}), "--base", art)
    ft = torch.load(tmp_path / "ft" / "checkpoint.pt", weights_only=False)["state_dict"]
    k = next(k for k in moved if "encoder." + k in ft)
    assert torch.allclose(ft["encoder." + k], ck["state_dict"]["encoder." + k], atol=1e-4)
    assert lines[-1]["event"] == "done"


@pytest.mark.parametrize("name,tol", [("model.fp32.onnx", 1e-5), ("model.onnx", 2e-2)])
def test_padding_does_not_change_minilm_probs(intent_art, name, tol):
    # int8 (dynamic quantization) picks activation scales per batch, so padding moves it slightly
    art, _ = intent_art
    sess = export.session(art / name)
    ids, mask = encode_tokens(tokenizer(), ["lost my card"], 32)
    pad = lambda a: np.concatenate([a, np.zeros((1, 7), np.int64)], 1)  # noqa: E731
    p1 = sess.run(["probs"], {"input_ids": ids, "attention_mask": mask})[0]
    p2 = sess.run(["probs"], {"input_ids": pad(ids), "attention_mask": pad(mask)})[0]
    assert np.abs(p1 - p2).max() < tol


def test_tokenizer_fixture_matches_the_shipped_tokenizer():
    fx = json.loads((ROOT / "tests/fixtures/tokenizer_parity.json").read_text())
    tok = tokenizer()
    assert len(fx["cases"]) >= 200
    langs = {c["lang"] for c in fx["cases"]}
    assert {"zh", "pt", "en", "edge"} <= langs
    for c in fx["cases"]:
        assert tok(c["text"], truncation=True, max_length=fx["max_length"])["input_ids"] == c["input_ids"], c["text"]


def test_sentiment_labels_from_reviews_drop_rating_3(sentiment_snap):
    t = data.load_texts(sentiment_snap, "sentiment")
    assert set(t.label) == {"negative", "positive"} and len(t.text) == 240 - len(range(0, 240, 17))


def test_split_is_stratified_seeded_and_respects_marked_test(tmp_path):
    t = data.Texts(text=[str(i) for i in range(200)], label=["a", "b"] * 100, split=[""] * 200,
                   group=["g1"] * 100 + ["g2"] * 100)
    tr, va, te = data.split_texts(t, seed=1)
    assert (len(tr), len(va), len(te)) == (160, 20, 20)
    assert sorted(t.group[i] + t.label[i] for i in te).count("g1a") == 5
    assert [x.tolist() for x in data.split_texts(t, seed=1)] == [tr.tolist(), va.tolist(), te.tolist()]
    t.split = ["test"] * 50 + [""] * 150
    tr, va, te = data.split_texts(t, seed=1)
    assert te.tolist() == list(range(50)) and len(va) == 16 and len(tr) == 134  # 25,25,50,50 -> 3,3,5,5


def test_finetune_adds_a_label(intent_art, tmp_path):
    base, _ = intent_art
    snap = tmp_path / "snap"
    snap.mkdir()
    base_labels = json.loads((base / "manifest.json").read_text())["labels"]
    rows = ["text,label"] + [f"lost my card {i},card_lost" for i in range(20)] + \
        [f"change my pin number {i},pin_change" for i in range(20)]
    (snap / "texts.csv").write_text("\n".join(rows) + "\n")
    train("intent", snap, tmp_path / "ft", CONFIGS / "smoke_intent.json", "--base", base, "--config", '{"epochs": 3}')
    labels = json.loads((tmp_path / "ft" / "manifest.json").read_text())["labels"]
    assert labels[:len(base_labels)] == base_labels and labels[-1] == "pin_change"


def test_evaluate_text_artifact(sentiment_art, sentiment_snap):
    art, lines = sentiment_art
    rc, out, err = run_cli("evaluate", "--kind", "sentiment", "--model", art, "--data", sentiment_snap)
    assert rc == 0, err[-2000:]
    assert out[-1]["metrics"]["accuracy"] == pytest.approx(lines[-1]["metrics"]["accuracy"])
