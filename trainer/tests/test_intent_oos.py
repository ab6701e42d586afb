"""Bitext converter, out-of-scope threshold, per-class report, the MiniLM `embedding` output and the
exemplar bank (`known_score`, `neighbor_probs`)."""

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT, run_cli, train
from meridian_trainer import data, export, metrics
from meridian_trainer.text_model import ExemplarBank, MiniLMClassifier
from meridian_trainer.train_text import choose_knn, choose_threshold, encode_tokens, knn_vote, tokenizer

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
    assert [o["name"] for o in man["outputs"]] == ["probs", "embedding", "known_score", "neighbor_probs"]
    assert man["outputs"][1] == {"name": "embedding", "dtype": "float32", "shape": ["batch", 384]}
    n = len(man["labels"])
    assert man["outputs"][2:] == [{"name": "known_score", "dtype": "float32", "shape": ["batch"]},
                                  {"name": "neighbor_probs", "dtype": "float32", "shape": ["batch", n]}]
    ex = man["exemplars"]
    assert ex["count"] == man["metrics"]["n_train"] and ex["dim"] == 384 and ex["k"] >= 1 and ex["tau"] > 0
    assert "validation" in ex["chosen_on"]
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

    # the bank in the graph: fp16 vectors (count, 384) and their labels; known_score / neighbor_probs
    # are the max cosine and the k-NN vote over them, in the fp32 and (bank not quantized) int8 graphs
    g = onnx.load(str(art / "model.fp32.onnx")).graph
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in g.initializer}
    bank = next(v for k, v in inits.items() if k.endswith("_fp16")).astype(np.float32)
    bank = bank.T if bank.shape[0] == 384 else bank
    bank_y = inits["bank.onehot"].argmax(1)
    assert bank.shape == (ex["count"], 384) and np.bincount(bank_y, minlength=n).sum() == ex["count"]
    names = ["known_score", "neighbor_probs"]
    for path, tol in (("model.fp32.onnx", 1e-5), ("model.onnx", 1e-5)):
        e, known, votes = export.session(art / path).run(["embedding", *names], feeds)
        assert known.shape == (len(texts),) and votes.shape == (len(texts), n)
        assert np.abs(known - (e @ bank.T).max(1)).max() < tol
        assert np.abs(votes.sum(1) - 1).max() < 1e-5
        assert np.abs(votes - knn_vote(e @ bank.T, bank_y, n, ex["k"], ex["tau"])).max() < 1e-4
    m = man["metrics"]
    assert m["int8_known_score_max_abs_diff"] < 0.05 and m["int8_neighbor_probs_max_abs_diff"] <= 1
    assert {"neighbor_accuracy", "fp32_neighbor_accuracy"} <= set(m)


class _Enc(torch.nn.Module):
    """A tiny stand-in encoder with the bank on top: (x) -> (embedding, known_score, neighbor_probs)."""

    def __init__(self, bank):
        super().__init__()
        self.lin, self.bank = torch.nn.Linear(16, 16), bank

    def forward(self, x):
        e = F.normalize(self.lin(x), dim=-1)
        return (e, *self.bank(e))


def test_exemplar_bank_graph_matches_pytorch_and_numpy_and_survives_int8(tmp_path):
    torch.manual_seed(0)
    n, c, k, tau = 300, 5, 10, 0.05
    vecs, labels = torch.randn(n, 16), torch.randint(0, c, (n,))
    bank = ExemplarBank(vecs, labels, c, k, tau)
    m = _Enc(bank).eval()
    x = torch.randn(7, 16)
    with torch.no_grad():
        e, known, votes = m(x)
    ref_cos = (e @ F.normalize(vecs, dim=-1).T).numpy()
    assert np.abs(known.numpy() - ref_cos.max(1)).max() < 2e-3  # fp16 storage of the vectors
    fp32 = tmp_path / "b.onnx"
    export.export_onnx(m, (x,), fp32, ["x"], ["e", "known_score", "neighbor_probs"],
                       {"x": {0: "b"}, "e": {0: "b"}, "known_score": {0: "b"}, "neighbor_probs": {0: "b"}})
    export.initializer_to_fp16(fp32, "/bank/MatMul")
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in onnx.load(str(fp32)).graph.initializer)
    export.quantize_int8(fp32, tmp_path / "q.onnx", exclude_prefix="/bank/")
    q_nodes = {nd.name: nd.op_type for nd in onnx.load(str(tmp_path / "q.onnx")).graph.node}
    assert q_nodes["/bank/MatMul"] == "MatMul"  # the bank's MatMul stays fp32
    x2 = np.random.default_rng(1).normal(size=(11, 16)).astype(np.float32)  # another batch size
    fe, fk, fv = export.session(fp32).run(None, {"x": x2})
    with torch.no_grad():
        te, tk, tv = (t.numpy() for t in m(torch.from_numpy(x2)))
    assert np.abs(fk - tk).max() < 1e-5 and np.abs(fv - tv).max() < 1e-5 and np.abs(fe - te).max() < 1e-5
    cos = fe @ bank.vectors.float().numpy().T
    assert np.abs(fk - cos.max(1)).max() < 1e-5
    assert np.abs(fv.sum(1) - 1).max() < 1e-5 and np.abs(fv - knn_vote(cos, labels.numpy(), c, k, tau)).max() < 1e-5
    qe, qk, qv = export.session(tmp_path / "q.onnx").run(None, {"x": x2})
    assert np.abs(qk - fk).max() < 0.02 and np.abs(qv.sum(1) - 1).max() < 1e-5
    assert np.abs(qk - (qe @ bank.vectors.float().numpy().T).max(1)).max() < 1e-5


def test_knn_vote_and_choose_knn():
    cos = np.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.3, 0.95, 0.1]])
    bank_y = np.array([0, 1, 1, 0])
    v1 = knn_vote(cos, bank_y, 3, 1, 0.1)
    assert v1.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    v = knn_vote(cos, bank_y, 3, 3, 0.1)
    w = np.exp(np.array([0.9, 0.8, 0.7]) / 0.1)
    assert v[0] == pytest.approx([(w[0] + w[2]) / w.sum(), w[1] / w.sum(), 0.0])
    assert knn_vote(cos, bank_y, 3, 99, 1.0).sum(1) == pytest.approx([1, 1])  # k capped at the bank size
    # two clusters; a validation point near a cluster border prefers a larger k
    rng = np.random.default_rng(0)
    bank = rng.normal(size=(200, 8))
    by = (bank[:, 0] > 0).astype(int)
    va = rng.normal(size=(100, 8))
    vy = (va[:, 0] > 0).astype(int)
    got = choose_knn(va @ bank.T, vy, by, 2)
    assert got["k"] in (1, 3, 5, 10, 20, 50) and got["val_accuracy"] >= 0.5


def test_known_score_out_of_scope_needs_exemplars_and_uses_the_known_score_output(intent_snap, tmp_path):
    cfg = {"mode": "head", "epochs": 2, "batch_size": 16, "max_length": 32, "oos_score": "known_score"}
    rc, lines, _ = run_cli("train", "--kind", "intent", "--data", intent_snap, "--out", tmp_path / "no",
                           "--config", json.dumps(cfg))
    assert rc == 2 and "exemplars" in lines[-1]["message"]
    rc, lines, _ = run_cli("train", "--kind", "intent", "--data", intent_snap, "--out", tmp_path / "ng",
                           "--config", json.dumps({"mode": "ngram", "exemplars": True}))
    assert rc == 2 and "ngram" in lines[-1]["message"]
    art = tmp_path / "ks"
    train("intent", intent_snap, art, json.dumps({**cfg, "exemplars": True}))
    man = json.loads((art / "manifest.json").read_text())
    oos = man["out_of_scope"]
    assert oos["score"] == "known_score" and "known_score" in oos["chosen_on"] and -1 <= oos["threshold"] <= 1
