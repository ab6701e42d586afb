import json
import math

import numpy as np
import torch

from conftest import CONFIGS, run_cli, train
from meridian_trainer import export
from meridian_trainer.behavior_features import PROFILE_FEATURES, UserHistory
from meridian_trainer.behavior_model import BehaviorArch, BehaviorExport, BehaviorModel
from meridian_trainer.train_behavior import labels


def load_torch(art):
    ck = torch.load(art / "checkpoint.pt", weights_only=False)
    m = BehaviorModel(BehaviorArch(**ck["arch"]))
    m.load_state_dict(ck["state_dict"])
    return BehaviorExport(m.eval())


def random_inputs(man, B=32, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    L, F = man["max_len"], len(man["profile_features"])
    types = np.zeros((B, L), np.int64)
    ages = np.zeros((B, L), np.float32)
    reps = np.zeros((B, L), np.float32)
    for b in range(B):
        n = rng.integers(0, L + 1) if b else 0
        types[b, L - n:] = rng.integers(1, 6, n)
        ages[b, L - n:] = np.sort(rng.uniform(0, 8, n))[::-1]
        reps[b, L - n:] = np.log1p(rng.integers(0, 4, n))
    prof = rng.normal(0, 1, (B, F)).astype(np.float32) + np.array(man["profile_normalization"]["mean"], np.float32)
    return {"event_types": types, "event_ages": ages, "event_item_repeats": reps, "profile": prof}


def test_onnx_matches_pytorch_and_horizons_are_monotone(behavior_art):
    art, _ = behavior_art
    man = json.loads((art / "manifest.json").read_text())
    names = [i["name"] for i in man["inputs"]]
    assert names == ["event_types", "event_ages", "event_item_repeats", "profile"]
    assert man["profile_features"] == PROFILE_FEATURES and man["actions"] == ["view", "cart", "purchase", "leave"]
    x = random_inputs(man)
    sess = export.session(art / "model.onnx")
    nxt, within = sess.run(None, {n: x[n] for n in names})
    with torch.no_grad():
        rn, rw = load_torch(art)(*(torch.from_numpy(x[n]) for n in names))
    assert np.abs(nxt - rn.numpy()).max() < 1e-4 and np.abs(within - rw.numpy()).max() < 1e-4
    assert np.allclose(nxt.sum(1), 1, atol=1e-5)
    assert within.shape[1] == len(man["horizons_days"])
    assert (np.diff(within, axis=1) >= -1e-7).all(), "P(purchase within h) must not decrease with h"


def test_evaluate_reproduces_train_metrics(behavior_art, events_snap):
    art, lines = behavior_art
    rc, out, err = run_cli("evaluate", "--kind", "behavior", "--model", art, "--data", events_snap)
    assert rc == 0, err[-2000:]
    trained = lines[-1]["metrics"]
    for k, v in out[-1]["metrics"].items():
        if isinstance(v, float) and math.isfinite(v):
            assert abs(v - trained[k]) < 1e-4, k


def test_metrics_include_lr_baseline(behavior_art):
    m = behavior_art[1][-1]["metrics"]
    assert {"next_logloss", "next_ece", "lr_next_logloss", "purchase_1d_auc", "lr_purchase_1d_auc"} <= set(m)


def test_features_on_a_hand_made_history():
    H, D = 3600.0, 86400.0
    now = 100 * D
    ts = np.array([now - 40 * D, now - 3 * D, now - 2 * H, now - 1 * H, now])
    types = np.array([1, 4, 1, 3, 1])  # view, purchase, view, cart, view
    prods = np.array(["a", "b", "c", "c", ""], dtype=object)
    amount = np.array([np.nan, 20.0, np.nan, np.nan, np.nan])
    h = UserHistory(ts, types, prods, amount, math.inf)
    t, a, r, prof, rf = h.features(now, 5, 4)
    f = dict(zip(PROFILE_FEATURES, prof, strict=True))
    assert t.tolist() == [4, 1, 3, 1] and a[-1] == 0.0 and abs(a[0] - math.log1p(72)) < 1e-5
    # b, c, c (c seen once before among the 4 read), "" (no product); "a" is outside the 4
    np.testing.assert_allclose(r, [0.0, 0.0, math.log1p(1), 0.0], atol=1e-6)
    _, _, r, _, _ = UserHistory(ts[:4], types[:4], np.array(["a", "a", "b", "a"], dtype=object), amount[:4],
                                math.inf).features(now, 4, 6)
    np.testing.assert_allclose(r, [0, 0, 0, math.log1p(1), 0, math.log1p(2)], atol=1e-6)  # left-padded
    assert abs(f["hours_since_last_event"]) < 1e-6
    assert abs(f["hours_since_last_cart"] - math.log1p(1)) < 1e-6
    assert abs(f["hours_since_last_purchase"] - math.log1p(72)) < 1e-5
    assert abs(f["count_view_1d"] - math.log1p(2)) < 1e-6 and abs(f["count_view_30d"] - math.log1p(2)) < 1e-6
    assert abs(f["count_purchase_7d"] - math.log1p(1)) < 1e-6 and f["count_purchase_1d"] == 0
    assert abs(f["distinct_items_1d"] - math.log1p(1)) < 1e-6  # only "c"; "" is no product
    assert abs(f["spend_30d"] - math.log1p(20)) < 1e-5
    assert abs(f["days_since_first_seen"] - math.log1p(40)) < 1e-5
    assert abs(rf[2] - math.log1p(3)) < 1e-6  # count_all_1d: 3 events in (now - 1d, now]


def test_labels_respect_session_gap_and_censoring():
    H, D = 3600.0, 86400.0
    ts = np.array([0.0, 600.0, 5 * H, 2 * D])
    h = UserHistory(ts, np.array([1, 3, 1, 4]), np.array(["a"] * 4, dtype=object), np.zeros(4), math.inf)
    hs = np.array([1.0, 3.0]) * D
    nxt, w = labels(h, 0.0, 1, censor=10 * D, gap=1800, horizons_s=hs)
    assert nxt == 1 and w.tolist() == [0.0, 1.0]  # next is a cart within 10 min; purchase at day 2
    nxt, w = labels(h, 600.0, 2, censor=10 * D, gap=1800, horizons_s=hs)
    assert nxt == 3  # next event 5 h later: leave
    nxt, w = labels(h, 600.0, 2, censor=1.5 * D, gap=1800, horizons_s=hs)
    assert np.isnan(w).tolist() == [False, True]  # 3-day horizon hidden by the censor time


def test_finetune_from_base(behavior_art, events_snap_more, tmp_path):
    base, _ = behavior_art
    train("behavior", events_snap_more, tmp_path / "ft", CONFIGS / "smoke_behavior.json", "--base", base,
          "--config", '{"epochs": 1}')
    man = json.loads((tmp_path / "ft" / "manifest.json").read_text())
    assert man["base"]["model_sha256"] == json.loads((base / "manifest.json").read_text())["model"]["sha256"]
    # normalisation comes from the base, so the weights stay meaningful
    assert man["profile_normalization"] == json.loads((base / "manifest.json").read_text())["profile_normalization"]


def test_finetune_from_a_base_made_before_item_repeats(events_snap, events_snap_more, tmp_path):
    """Artifacts of earlier trainers have no event_item_repeats input and no such key in their
    checkpoint or manifest: fine-tuning one keeps its architecture and inputs."""
    smoke = json.loads((CONFIGS / "smoke_behavior.json").read_text())
    base = tmp_path / "legacy"
    train("behavior", events_snap, base, json.dumps({**smoke, "epochs": 1, "item_repeats": False}))
    ck = torch.load(base / "checkpoint.pt", weights_only=False)
    del ck["arch"]["item_repeats"]
    torch.save(ck, base / "checkpoint.pt")
    man = json.loads((base / "manifest.json").read_text())
    del man["hyperparameters"]["item_repeats"]
    (base / "manifest.json").write_text(json.dumps(man))
    train("behavior", events_snap_more, tmp_path / "ft", json.dumps({"epochs": 1}), "--base", base)
    ft = json.loads((tmp_path / "ft" / "manifest.json").read_text())
    assert [i["name"] for i in ft["inputs"]] == ["event_types", "event_ages", "profile"]
    assert ft["hyperparameters"]["item_repeats"] is False
    # the job runner scores the active version with `evaluate`: a legacy artifact still evaluates
    rc, out, err = run_cli("evaluate", "--kind", "behavior", "--model", base, "--data", events_snap_more)
    assert rc == 0, err[-2000:]
    assert out[-1]["metrics"]["next_logloss"] > 0


def test_horizon_loss_trains_on_cutoff_anchors_only_by_default():
    from meridian_trainer.train_behavior import Anchors, Config, tensors

    A, L = 4, 3
    within = np.array([[0, 1], [1, 1], [np.nan, 0], [0, 0]], np.float32)
    a = Anchors(np.zeros((A, L), np.int64), np.zeros((A, L), np.float32), np.zeros((A, L), np.float32),
                np.zeros((A, len(PROFILE_FEATURES)), np.float32),
                np.zeros((A, 6), np.float32), np.zeros(A, np.int64), within, np.array([False, True, True, False]))
    assert Config().hazard_anchors == "cutoff"
    cut = tensors(a, "cutoff")["within"].numpy()
    assert np.isnan(cut[[0, 3]]).all()  # event anchors carry no horizon label
    np.testing.assert_array_equal(cut[[1, 2]], within[[1, 2]])  # cutoff anchors keep theirs, NaN included
    np.testing.assert_array_equal(tensors(a, "all")["within"].numpy(), within)
    assert not np.isnan(a.within[0]).any(), "the anchors themselves are not modified"
