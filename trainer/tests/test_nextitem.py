import json

import numpy as np
import pytest
import torch

from conftest import CONFIGS, run_cli, train
from meridian_trainer import export
from meridian_trainer.data import parse_time
from meridian_trainer.nextitem_model import NextItemArch, NextItemModel, grow_items
from meridian_trainer.train_nextitem import cell_bucket, hour_of_week, left_pad


def load_torch(art):
    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    m = NextItemModel(NextItemArch(**ck["arch"]))
    m.load_state_dict(ck["state_dict"])
    return m.eval()


def test_onnx_matches_pytorch(nextitem_art):
    assert_onnx_matches_pytorch(nextitem_art[0])


def assert_onnx_matches_pytorch(art):
    man = json.loads((art / "manifest.json").read_text())
    model, sess = load_torch(art), export.session(art / "model.onnx")
    rng = np.random.default_rng(0)
    B, L, N = 16, man["max_len"], man["n_items"]
    seq = np.zeros((B, L), np.int64)
    for b in range(B):  # random lengths, including an empty history
        n = rng.integers(0, L + 1) if b else 0
        seq[b, L - n:] = rng.integers(1, N + 1, n)
    hour = rng.integers(0, 168, B)
    cell = rng.integers(0, man["context"]["n_cells"], B)
    feeds = {"item_seq": seq, "hour_of_week": hour, "cell": cell}
    names = [i.name for i in sess.get_inputs()]
    assert names == [i["name"] for i in man["inputs"]] == ["item_seq", "hour_of_week", "cell"]
    top_ids, top_scores, scores = sess.run(None, {k: feeds[k] for k in names})
    with torch.no_grad():
        ref = model.scores(torch.from_numpy(seq), torch.from_numpy(hour), torch.from_numpy(cell)).numpy()
    finite = np.isfinite(ref)
    assert (finite == np.isfinite(scores)).all()
    assert np.abs(ref[finite] - scores[finite]).max() < 1e-4
    assert np.abs(np.sort(ref, 1)[:, ::-1][:, :man["top_k"]] - top_scores).max() < 1e-4
    assert top_ids.shape == (B, man["top_k"]) and (top_ids > 0).all(), "padding index returned"
    emb = np.fromfile(art / "item_embeddings.f32", dtype="<f4").reshape(man["item_embeddings"]["shape"])
    assert np.allclose(emb, model.item_emb.weight.detach().numpy())
    items = json.loads((art / "items.json").read_text())
    assert items[0] is None and len(items) == N + 1


def test_mixture_scores_are_the_documented_formula():
    torch.manual_seed(0)
    m = NextItemModel(NextItemArch(n_items=6, d_model=8, n_layers=1, trans_topm=2, pop_mix=True)).eval()
    m.trans_ids[3] = torch.tensor([5, 1])
    m.trans_p[3] = torch.tensor([0.75, 0.25])
    m.pop_p[1:] = torch.tensor([0.1, 0.2, 0.3, 0.1, 0.2, 0.1])
    m.trans_w.fill_(0.2)
    m.pop_w.fill_(0.1)
    seq, hour, cell = torch.tensor([[0, 2, 3]]), torch.tensor([7]), torch.tensor([0])
    with torch.no_grad():
        got = m.scores(seq, hour, cell)[0, 1:].exp()
        soft = torch.softmax(m.logits(m.add_context(m.encode(seq)[:, -1], hour, cell)), -1)[0, 1:]
    trans = torch.zeros(6)
    trans[4], trans[0] = 0.75, 0.25  # items 5 and 1 follow item 3
    want = 0.7 * soft + 0.2 * trans + 0.1 * m.pop_p[1:]
    assert torch.allclose(got, want, atol=1e-6) and abs(float(got.sum()) - 1) < 1e-5


def test_fixed_mixture_weights_are_exported_and_reported(events_snap, tmp_path):
    smoke = json.loads((CONFIGS / "smoke_next_item.json").read_text())
    lines = train("next-item", events_snap, tmp_path / "mix",
                  json.dumps({**smoke, "epochs": 1, "trans_weight": 0.2, "pop_weight": 0.1}))
    m = lines[-1]["metrics"]
    assert m["transition_weight"] == 0.2 and m["popularity_weight"] == 0.1
    assert {"no_mixture_hr@10", "no_mixture_ndcg@10"} <= set(m)
    man = json.loads((tmp_path / "mix" / "manifest.json").read_text())
    assert man["popularity"] == {"weight": 0.1}
    assert_onnx_matches_pytorch(tmp_path / "mix")


def test_mixture_weights_leave_room_for_the_model(events_snap, tmp_path):
    for cfg, what in (({"trans_weight": 0.6, "pop_weight": 0.5}, "below 1"),
                      ({"trans_weight": 1.0, "pop_weight": -1}, "pop_weight")):
        rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", events_snap, "--out", tmp_path / "x",
                               "--config", json.dumps(cfg))
        assert rc == 2 and what in lines[-1]["message"], lines[-1:]


def test_evaluate_command_reproduces_train_metrics(nextitem_art, events_snap):
    art, lines = nextitem_art
    rc, out, err = run_cli("evaluate", "--kind", "next-item", "--model", art, "--data", events_snap)
    assert rc == 0, err[-2000:]
    m, trained = out[-1]["metrics"], lines[-1]["metrics"]
    assert m["hr@10"] == pytest.approx(trained["hr@10"], abs=1e-9)
    assert m["ndcg@10"] == pytest.approx(trained["ndcg@10"], abs=1e-6)


def test_model_learns_the_synthetic_chain(nextitem_art):
    _, lines = nextitem_art
    m = lines[-1]["metrics"]
    # 120 items; a random ranker has HR@10 ~ 0.08. The chain structure is learnable.
    assert m["hr@10"] > 0.5, m


def test_finetune_grows_vocabulary_and_keeps_rows(nextitem_art, events_snap_more, tmp_path):
    base, _ = nextitem_art
    base_items = json.loads((base / "items.json").read_text())
    lines = train("next-item", events_snap_more, tmp_path / "ft", CONFIGS / "smoke_next_item.json", "--base", base,
                  "--config", '{"epochs": 1}')
    items = json.loads((tmp_path / "ft" / "items.json").read_text())
    assert items[:len(base_items)] == base_items and len(items) > len(base_items)
    man = json.loads((tmp_path / "ft" / "manifest.json").read_text())
    assert man["base"]["version"] == json.loads((base / "manifest.json").read_text())["version"]
    assert man["n_items"] == len(items) - 1 and lines[-1]["event"] == "done"


def test_grow_items_keeps_existing_rows():
    m = NextItemModel(NextItemArch(n_items=5, d_model=8, trans_topm=2))
    state = grow_items(dict(m.state_dict()), 5, 9)
    assert state["item_emb.weight"].shape == (10, 8)
    assert torch.equal(state["item_emb.weight"][:6], m.item_emb.weight)
    m2 = NextItemModel(NextItemArch(n_items=9, d_model=8, trans_topm=2))
    m2.load_state_dict(state, strict=False)


def test_finetune_refuses_a_different_architecture(nextitem_art, events_snap_more, tmp_path):
    base, _ = nextitem_art
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", events_snap_more, "--out", tmp_path / "x",
                           "--base", base, "--config", '{"d_model": 24}')
    assert rc == 2 and "d_model" in lines[-1]["message"]


def test_context_features():
    monday = parse_time("2025-03-03T00:30:00.000Z")
    sunday = parse_time("2025-03-09T23:59:00Z")
    assert hour_of_week(np.array([monday, sunday])).tolist() == [0, 167]
    c = cell_bucket(np.array([52.52, np.nan, 52.52]), np.array([13.40, 1.0, 13.41]), 256, 0.5)
    assert c[1] == 0 and c[0] == c[2] and 1 <= c[0] < 256
    assert cell_bucket(np.array([1.0]), np.array([1.0]), 0, 0.5).tolist() == [0]
    assert left_pad([[1, 2, 3], []], 2).tolist() == [[2, 3], [0, 0]]
