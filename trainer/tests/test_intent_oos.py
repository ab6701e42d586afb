"""Bitext converter, out-of-scope threshold, per-class report and the MiniLM `embedding` output."""

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT
from meridian_trainer import data, export, metrics
from meridian_trainer.text_model import MiniLMClassifier
from meridian_trainer.train_text import choose_threshold, encode_tokens, tokenizer

FIXTURE = ROOT / "tests" / "fixtures" / "bitext_tiny.csv"


def convert(src, dst, *extra):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "convert_texts.py"), "bitext", str(src), str(dst),
                           *extra], capture_output=True, text=True, timeout=120)


def test_bitext_converter_writes_a_seeded_stratified_split_with_flags(tmp_path):
    gz = tmp_path / "in.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(FIXTURE.read_text(encoding="utf-8"))
    p = convert(gz, tmp_path / "snap")
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "snap" / "texts.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["text", "label", "split", "group", "flags"]
    src = list(csv.DictReader(open(FIXTURE, newline="", encoding="utf-8")))
    assert [r["text"] for r in rows] == [r["utterance"] for r in src]
    assert [r["flags"] for r in rows] == [r["flags"] for r in src] and rows[0]["group"] == "ORDER"
    for intent in {r["label"] for r in rows}:  # 12 per intent -> floor(1.2 + 0.5) = 1 test, 1 validation, 10 train
        splits = [r["split"] for r in rows if r["label"] == intent]
        assert (splits.count("train"), splits.count("validation"), splits.count("test")) == (10, 1, 1)
    # the same assignment data.split_texts makes for unmarked rows with seed 0
    t = data.Texts([r["text"] for r in rows], [r["label"] for r in rows], [""] * len(rows), [""] * len(rows))
    tr, va, te = data.split_texts(t, 0)
    assert sorted(te.tolist()) == [i for i, r in enumerate(rows) if r["split"] == "test"]
    assert sorted(va.tolist()) == [i for i, r in enumerate(rows) if r["split"] == "validation"]
    # the trainer reads the flags column; a marked split wins over --seed
    loaded = data.load_texts(tmp_path / "snap", "intent")
    assert loaded.flags[4] == "BQZ" and data.split_texts(loaded, 5)[2].tolist() == te.tolist()
    # another seed draws another split; the same seed the same one
    assert convert(FIXTURE, tmp_path / "s1", "--seed", "1").returncode == 0
    assert convert(FIXTURE, tmp_path / "s1b", "--seed", "1").returncode == 0
    s1 = (tmp_path / "s1" / "texts.csv").read_text()
    assert s1 == (tmp_path / "s1b" / "texts.csv").read_text() and s1 != (tmp_path / "snap" / "texts.csv").read_text()


@pytest.mark.parametrize("mutate,message", [
    (lambda t: t.replace("utterance,intent,category,flags", "utterance,label,category,flags"), "missing column"),
    (lambda t: t.replace("cancel order,cancel_order", ",cancel_order"), "empty utterance"),
    (lambda t: t.replace("track order,track_order", "track order,"), "empty intent"),
    (lambda t: t.replace(",BQZ\n", ",B-Q\n", 1), "flags"),
    (lambda t: "\n".join(ln for ln in t.splitlines() if "cancel" in ln or ln.startswith("utterance")) + "\n",
     "at least 2 intents"),
])
def test_bitext_converter_writes_nothing_on_bad_input(tmp_path, mutate, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(mutate(FIXTURE.read_text(encoding="utf-8")), encoding="utf-8")
    p = convert(bad, tmp_path / "snap")
    assert p.returncode == 2 and message in p.stderr, p.stderr
    assert not (tmp_path / "snap").exists()


def test_bitext_converter_missing_or_binary_input_writes_nothing(tmp_path):
    assert convert(tmp_path / "nope.csv.gz", tmp_path / "a").returncode == 2 and not (tmp_path / "a").exists()
    (tmp_path / "x.csv.gz").write_bytes(b"\x1f\x8b not really gzip")
    assert convert(tmp_path / "x.csv.gz", tmp_path / "b").returncode == 2 and not (tmp_path / "b").exists()


def test_choose_threshold_keeps_the_requested_share():
    s = np.array([0.9, 0.1, 0.5, 0.7, 0.3, 0.95, 0.99, 0.8, 0.6, 0.4])
    assert choose_threshold(s, 1.0) == pytest.approx(0.1)  # keep everything
    assert choose_threshold(s, 0.9) == pytest.approx(0.3)  # reject 1 of 10
    assert choose_threshold(s, 0.75) == pytest.approx(0.4)  # floor(2.5) = 2 rejected
    rng = np.random.default_rng(0)
    for keep in (0.5, 0.8, 0.95, 0.99):
        x = rng.random(817)
        thr = choose_threshold(x, keep)
        assert (x >= thr).mean() >= keep and (x > thr).mean() < keep  # the highest such threshold
    with pytest.raises(ValueError):
        choose_threshold(np.array([]), 0.9)


def test_per_class_and_per_flag_reports():
    y, pred = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 1])
    pc = metrics.per_class(y, pred, ["a", "b", "c"])
    assert pc["a"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert pc["b"]["precision"] == pytest.approx(0.5) and pc["b"]["recall"] == 1.0
    assert pc["c"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics.accuracy_by_flag(y, pred, ["B", "BZ", "BQ", "B", "BZ"]) == \
        {"B": 0.6, "Q": 1.0, "Z": 0.0}


def test_intent_artifact_has_embedding_output_and_out_of_scope(intent_art):
    art, lines = intent_art
    man = json.loads((art / "manifest.json").read_text())
    assert [o["name"] for o in man["outputs"]] == ["probs", "embedding"]
    assert man["outputs"][1] == {"name": "embedding", "dtype": "float32", "shape": ["batch", 384]}
    oos = man["out_of_scope"]
    assert oos["label"] == "out_of_scope" and oos["score"] == "max_prob" and 0 < oos["threshold"] <= 1
    assert "validation" in oos["chosen_on"] and man["metrics"]["oos_threshold"] == oos["threshold"]
    assert set(man["metrics"]["per_class"]) == set(man["labels"])
    assert man["embedding"]["output"] == "embedding" and man["embedding"]["encoder_trained"] is False

    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    model = MiniLMClassifier(ck["arch"]["n_classes"], ck["arch"]["hidden"])
    model.head.load_state_dict({k[5:]: v for k, v in ck["state_dict"].items()})
    model.eval()
    texts = ["where is my order", "I want my money back!", "é", "what's the weather tomorrow " * 10]
    ids, mask = encode_tokens(tokenizer(), texts, man["text_input"]["max_length"])
    feeds = {"input_ids": ids, "attention_mask": mask}
    probs, emb = export.session(art / "model.fp32.onnx").run(["probs", "embedding"], feeds)
    with torch.no_grad():
        ref = model.embed(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    assert emb.shape == (len(texts), 384) and emb.dtype == np.float32
    assert np.abs(np.linalg.norm(emb, axis=1) - 1).max() < 1e-5
    assert np.abs(emb - ref).max() < 1e-5  # the frozen encoder's pooled embedding, unchanged
    assert np.abs(probs.sum(1) - 1).max() < 1e-5
    # the shipped int8 graph keeps both outputs; its embedding stays close to the fp32 one
    q_probs, q_emb = export.session(art / "model.onnx").run(["probs", "embedding"], feeds)
    assert q_emb.shape == emb.shape and np.abs(np.linalg.norm(q_emb, axis=1) - 1).max() < 1e-3
    assert (np.sum(q_emb * emb, 1) > 0.98).all()
