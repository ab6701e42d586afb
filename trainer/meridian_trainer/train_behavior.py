"""Behavior training: snapshot -> time-split anchors -> model (+ LR baseline) -> ONNX.

Anchors (prediction points):
  event anchors  - right after each event (now = its occurred_at)
  cutoff anchors - at day boundaries counted back from the split time, for every user
                   with an event in the previous 30 days
Labels at an anchor (now = t), each masked when the censor time hides it:
  next action     - type of the first later event if it comes within session_gap_min
                    (view/search/favorite -> view, cart, purchase), else leave
  purchase within - a purchase in (t, t + h] for each horizon h
Time split (t_end = snapshot window.to, else the last event): test = [t_end - test_days, t_end],
validation = the val_days before it, train = earlier. Labels are censored at the start
of the next split, so no training label looks into validation or test.
Reported: next-action metrics on test event anchors; horizon metrics on the test
cutoff anchors (now = test start), for horizons that fit inside the test window.
The horizon loss trains on the cutoff anchors only (hazard_anchors = "cutoff"): a query asks
at an arbitrary time, like a cutoff, while "right after an event" has a very different base
rate; on Taobao this took purchase-within-a-day AUC from 0.565 to 0.61-0.62 over three seeds
(RESULTS.md).
"""

import json
import math
from dataclasses import asdict, dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, device, export, hparams, manifest, metrics
from .behavior_features import DAY, PROFILE_FEATURES, RF_FEATURES, UserHistory
from .behavior_model import ACTIONS, BehaviorArch, BehaviorExport, BehaviorModel
from .fit import fit
from .hparams import hp
from .report import log, phase

KIND = "behavior"
NEXT_CLASS = {1: 0, 2: 0, 5: 0, 3: 1, 4: 2}  # view/search/favorite -> view, cart, purchase; leave = 3


@dataclass
class Config:
    max_len: int = hp(50, min=1, max=512, arch=True, help="events of history the model reads (L)")
    d_model: int = hp(32, min=8, max=512, arch=True, help="embedding size (D)")
    n_layers: int = hp(1, min=1, max=8, arch=True, help="transformer blocks over the event sequence")
    n_heads: int = hp(2, min=1, max=16, arch=True, help="attention heads (must divide d_model)")
    hidden: int = hp(64, min=8, max=1024, arch=True, help="trunk width")
    horizons_days: list[float] = hp([1.0, 3.0, 7.0, 14.0, 30.0], min=0.01, max=365.0, arch=True,
                                    help="purchase horizons in days, increasing")
    session_gap_min: float = hp(30.0, min=1.0, max=1440.0, help="no event within this many minutes = leave")
    dropout: float = hp(0.1, min=0.0, max=0.9, help="dropout rate")
    epochs: int = hp(30, min=1, max=500, help="maximum epochs")
    batch_size: int = hp(256, min=8, max=8192, help="anchors per step")
    lr: float = hp(2e-3, min=1e-6, max=1.0, help="AdamW learning rate")
    weight_decay: float = hp(1e-4, min=0.0, max=1.0, help="AdamW weight decay")
    patience: int = hp(4, min=1, max=100, help="epochs without validation improvement before stopping")
    max_minutes: float = hp(0.0, min=0.0, max=10080.0, help="stop training after this many minutes (0 = no limit); "
                            "the best weights so far are evaluated and exported")
    test_days: float = hp(1.0, min=0.01, max=365.0, help="length of the test window at the end of the data")
    val_days: float = hp(1.0, min=0.01, max=365.0, help="length of the validation window before it")
    cutoff_days: int = hp(30, min=0, max=365,
                          help="training cutoff anchors: this many day boundaries before validation")
    max_event_anchors: int = hp(500_000, min=1000, max=10_000_000,
                                help="subsample event anchors above this many (seeded)")
    calibrate: bool = hp(True, help="fit temperature / hazard scale on validation")
    item_repeats: bool = hp(True, arch=True,
                            help="per-event input: how often the event's product occurred earlier in the sequence")
    hazard_anchors: str = hp("cutoff", choices=["cutoff", "all"],
                             help="anchors the purchase-horizon loss trains on: the cutoff anchors "
                                  "(arbitrary times, like a query; the default), or all")


def config_class(kind: str = KIND):
    return Config


def check_config(cfg: Config):
    h = cfg.horizons_days
    if any(b <= a for a, b in pairwise(h)):
        raise hparams.ConfigError("horizons_days must be strictly increasing")
    if cfg.d_model % cfg.n_heads:
        raise hparams.ConfigError("d_model must be divisible by n_heads")


# ---------------------------------------------------------------- anchors

@dataclass
class Anchors:
    types: np.ndarray    # (A, L) int64
    ages: np.ndarray     # (A, L) float32
    reps: np.ndarray     # (A, L) float32 item repeats
    profile: np.ndarray  # (A, F) float32
    rf: np.ndarray       # (A, 6) float32
    next: np.ndarray     # (A,) int64 class, -1 unknown
    within: np.ndarray   # (A, H) float32 0/1, NaN unknown
    is_cutoff: np.ndarray  # (A,) bool

    def __len__(self):
        return len(self.next)


def histories(ev: data.Events, users: dict) -> list:
    out = []
    for u, s, e in ev.groups():
        created = users.get(u, {}).get("created_at", math.nan)
        out.append(UserHistory(ev.ts[s:e], ev.type[s:e], ev.product[s:e], ev.price[s:e] * ev.quantity[s:e],
                               created if math.isfinite(created) else math.inf))
    return out


def labels(h: UserHistory, t: float, e: int, censor: float, gap: float, horizons_s: np.ndarray):
    n = len(h.ts)
    if e < n and h.ts[e] - t <= gap and h.ts[e] <= censor:
        nxt = NEXT_CLASS[int(h.types[e])]
    elif t + gap <= censor:
        nxt = 3
    else:
        nxt = -1
    later = np.flatnonzero(h.types[e:] == 4)
    tp = h.ts[e + later[0]] if len(later) else math.inf
    within = np.where((tp - t <= horizons_s) & (tp <= censor), 1.0,
                      np.where(t + horizons_s <= censor, 0.0, np.nan)).astype(np.float32)
    return nxt, within


def build_anchors(hists: list, lo: float, hi: float, censor: float, cutoffs: list, cfg: Config,
                  rng: np.random.Generator | None) -> Anchors:
    """Event anchors with lo <= t < hi, plus cutoff anchors at each time in `cutoffs`."""
    gap, hs = cfg.session_gap_min * 60.0, np.array(cfg.horizons_days) * DAY
    todo = []  # (history, now, e, is_cutoff)
    for h in hists:
        for j in np.flatnonzero((h.ts >= lo) & (h.ts < hi)):
            todo.append((h, float(h.ts[j]), int(j) + 1, False))
    if rng is not None and len(todo) > cfg.max_event_anchors:
        todo = [todo[i] for i in np.sort(rng.choice(len(todo), cfg.max_event_anchors, replace=False))]
    for c in cutoffs:
        for h in hists:
            e = int(np.searchsorted(h.ts, c, side="right"))
            if e > 0 and c - h.ts[e - 1] <= 30 * DAY:
                todo.append((h, c, e, True))
    A, L, H = len(todo), cfg.max_len, len(hs)
    out = Anchors(np.zeros((A, L), np.int64), np.zeros((A, L), np.float32), np.zeros((A, L), np.float32),
                  np.zeros((A, len(PROFILE_FEATURES)), np.float32), np.zeros((A, len(RF_FEATURES)), np.float32),
                  np.zeros(A, np.int64), np.zeros((A, H), np.float32), np.zeros(A, bool))
    for i, (h, t, e, cut) in enumerate(todo):
        out.types[i], out.ages[i], out.reps[i], out.profile[i], out.rf[i] = h.features(t, e, L)
        out.next[i], out.within[i] = labels(h, t, e, censor, gap, hs)
        out.is_cutoff[i] = cut
    return out


def split(ev: data.Events, snap: Path, cfg: Config, seed: int):
    """(train, val, test) anchors and the split times."""
    t_end = float(ev.ts.max())
    meta = Path(snap) / "snapshot.json"
    if meta.exists():
        to = (json.loads(meta.read_text()).get("window") or {}).get("to")
        if to:
            t_end = max(t_end, data.parse_time(to))
    test_start = t_end - cfg.test_days * DAY
    val_start = test_start - cfg.val_days * DAY
    hists = histories(ev, data.load_users(snap))
    rng = np.random.default_rng(seed)
    train = build_anchors(hists, -math.inf, val_start, val_start,
                          [val_start - k * DAY for k in range(1, cfg.cutoff_days + 1)], cfg, rng)
    val = build_anchors(hists, val_start, test_start, test_start, [val_start], cfg, rng)
    test = build_anchors(hists, test_start, t_end + 1, t_end, [test_start], cfg, rng)
    return train, val, test, {"t_end": t_end, "test_start": test_start, "val_start": val_start}


# ---------------------------------------------------------------- losses / metrics

def hazard_bce(cum_hazard, within):
    """Masked BCE on P = 1 - exp(-cum_hazard), in a numerically safe form."""
    known = ~torch.isnan(within)
    if not known.any():
        return cum_hazard.sum() * 0.0
    lam = cum_hazard[known].clamp(min=1e-6)
    y = within[known]
    log_p = torch.log(-torch.expm1(-lam))  # log(1 - exp(-lam))
    return -(y * log_p - (1 - y) * lam).mean()


def loss_fn(model, batch):
    logits, cum = model(batch["types"], batch["ages"], batch["reps"], batch["profile"])
    nxt = batch["next"]
    ce = F.cross_entropy(logits[nxt >= 0], nxt[nxt >= 0]) if (nxt >= 0).any() else logits.sum() * 0.0
    return ce + hazard_bce(cum, batch["within"])


def tensors(a: Anchors, hazard_anchors: str) -> dict:
    within = a.within.copy()
    if hazard_anchors == "cutoff":
        within[~a.is_cutoff] = np.nan  # the horizon loss sees only cutoff anchors
    return {"types": torch.from_numpy(a.types), "ages": torch.from_numpy(a.ages), "reps": torch.from_numpy(a.reps),
            "profile": torch.from_numpy(a.profile), "next": torch.from_numpy(a.next),
            "within": torch.from_numpy(within)}


def report_metrics(a: Anchors, next_probs: np.ndarray, within_p: np.ndarray, horizons: list, window_days: float,
                   prefix: str = "") -> dict:
    """Next action on event anchors; horizons on cutoff anchors, only horizons inside the window."""
    m = {}
    ev = (~a.is_cutoff) & (a.next >= 0)
    y = a.next[ev]
    if ev.any():
        p = next_probs[ev]
        m[prefix + "next_logloss"] = metrics.multi_log_loss(y, p)
        m[prefix + "next_accuracy"] = metrics.accuracy(y, p.argmax(1))
        m[prefix + "next_ece"] = metrics.top_label_ece(y, p)
        m[prefix + "next_purchase_auc"] = metrics.auc(y == 2, p[:, 2])
        m[prefix + "next_leave_auc"] = metrics.auc(y == 3, p[:, 3])
    cut = a.is_cutoff
    for k, h in enumerate(horizons):
        if h > window_days + 1e-9:
            continue
        known = cut & ~np.isnan(a.within[:, k])
        yk, pk = a.within[known, k], within_p[known, k]
        tag = f"{prefix}purchase_{h:g}d"
        m[tag + "_auc"] = metrics.auc(yk, pk)
        m[tag + "_logloss"] = metrics.log_loss(yk, pk)
        m[tag + "_ece"] = metrics.ece(yk, pk)
        m[tag + "_base_rate"] = float(yk.mean()) if len(yk) else float("nan")
        m[tag + "_n"] = int(len(yk))
    return m


def feeds(a: Anchors) -> dict:
    """The graph's inputs by name (a graph reads the names it lists)."""
    return {"event_types": a.types, "event_ages": a.ages, "event_item_repeats": a.reps, "profile": a.profile}


def predict(model, a: Anchors, batch: int = 2048):
    model.eval()
    exp = BehaviorExport(model)
    f = feeds(a)
    P, W = [], []
    with torch.no_grad():
        for s in range(0, len(a), batch):
            p, w = exp(*(torch.from_numpy(f[n][s:s + batch]) for n in exp.input_names()))
            P.append(p.numpy()), W.append(w.numpy())
    H = model.a.n_horizons
    return ((np.concatenate(P) if P else np.zeros((0, 4), np.float32)),
            (np.concatenate(W) if W else np.zeros((0, H), np.float32)))


# ---------------------------------------------------------------- logistic-regression baseline

def fit_logreg(X: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1e-3):
    """Multinomial (or binary when n_classes == 2) logistic regression by L-BFGS on standardised X."""
    mu, sd = X.mean(0), X.std(0) + 1e-6
    Xt = torch.from_numpy((X - mu) / sd).double()
    yt = torch.from_numpy(y).long()
    W = torch.zeros(X.shape[1], n_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(Xt @ W + b, yt) + l2 * (W ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    W, b = W.detach(), b.detach()
    return lambda Z: F.softmax(torch.from_numpy((Z - mu) / sd).double() @ W + b, 1).numpy()


def logreg_baseline(train: Anchors, test: Anchors, horizons: list, window_days: float) -> dict:
    """The bar's reference: LR on recency/frequency features (RF_FEATURES), same labels, same anchors."""
    ok = train.next >= 0
    nxt = np.full((len(test), 4), 0.25, np.float32)
    if len(np.unique(train.next[ok])) > 1:
        f = fit_logreg(train.rf[ok], train.next[ok], 4)
        nxt = f(test.rf)
    within = np.full((len(test), len(horizons)), np.nan, np.float32)
    for k in range(len(horizons)):
        known = ~np.isnan(train.within[:, k])
        yk = train.within[known, k].astype(np.int64)
        if known.any() and len(np.unique(yk)) > 1:
            within[:, k] = fit_logreg(train.rf[known], yk, 2)(test.rf)[:, 1]
    return report_metrics(test, nxt, within, horizons, window_days, prefix="lr_")


# ---------------------------------------------------------------- calibration

def calibrate(model, val: Anchors):
    """Temperature for next action, hazard scale for horizons: 1-D NLL fits on validation."""
    with torch.no_grad():
        model.log_temp.zero_(), model.log_hazard_scale.zero_()
        model.eval()
        logits, cum = model(*(torch.from_numpy(x) for x in (val.types, val.ages, val.reps, val.profile)))
    nxt, within = torch.from_numpy(val.next), torch.from_numpy(val.within)
    grid = torch.linspace(-1.5, 1.5, 61)
    if (nxt >= 0).sum() > 50:
        nll = [F.cross_entropy(logits[nxt >= 0] / g.exp(), nxt[nxt >= 0]).item() for g in grid]
        model.log_temp.fill_(float(grid[int(np.argmin(nll))]))
    # Hazard scale: fitted on the cutoff anchors (now = a day boundary), the population the
    # horizon metrics are reported on; event anchors (now = right after an event) dominate
    # validation by count and have a very different base rate.
    cut = torch.from_numpy(val.is_cutoff)
    if (~torch.isnan(within[cut])).sum() > 100:
        nll = [hazard_bce(cum[cut] * g.exp(), within[cut]).item() for g in grid]
        model.log_hazard_scale.fill_(float(grid[int(np.argmin(nll))]))
    log(f"calibration: temperature {model.log_temp.exp().item():.3f}, "
        f"hazard scale {model.log_hazard_scale.exp().item():.3f}")


# ---------------------------------------------------------------- train / evaluate

def build_model(cfg: Config, tr: Anchors, base: Path | None, ck: dict | None):
    """-> (model, arch, base info): the base's weights and profile normalisation when fine-tuning,
    else a fresh model normalising profiles by the training anchors' mean and std."""
    a = BehaviorArch(n_profile=len(PROFILE_FEATURES), n_horizons=len(cfg.horizons_days), max_len=cfg.max_len,
                     d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads, hidden=cfg.hidden,
                     dropout=cfg.dropout, item_repeats=cfg.item_repeats)
    model = BehaviorModel(a)
    base_info = None
    if base is not None:
        model.load_state_dict(ck["state_dict"])  # keeps the base's profile normalisation too
        bm = manifest.read(base)
        base_info = {"version": bm["version"], "model_sha256": bm["model"]["sha256"]}
    else:
        model.prof_mean.copy_(torch.from_numpy(tr.profile.mean(0)))
        model.prof_std.copy_(torch.from_numpy(tr.profile.std(0) + 1e-3))
    return model, a, base_info


def train(cfg: Config, snap: Path, out: Path, base: Path | None, seed: int, kind: str = KIND) -> dict:
    check_config(cfg)
    torch.manual_seed(seed)
    ev = data.load_events(snap)
    ck = torch.load(base / "checkpoint.pt", weights_only=False) if base is not None else None
    if ck is not None and "item_repeats" not in ck["arch"] and cfg.item_repeats:
        log("the base artifact predates item_repeats: fine-tuning keeps its architecture (item_repeats off)")
        cfg = replace(cfg, item_repeats=False)
    tr, va, te, times = split(ev, snap, cfg, seed)
    log(f"anchors: train {len(tr)}, validation {len(va)}, test {len(te)}")
    if len(tr) == 0:
        raise data.SnapshotError("no training anchors before the validation window (snapshot too short?)")
    model, arch, base_info = build_model(cfg, tr, base, ck)

    dev = device.pick()
    model.to(dev)  # trained there; calibration, evaluation and export run on the CPU
    T = tensors(tr, cfg.hazard_anchors)
    V = {k: v.to(dev) for k, v in tensors(va, cfg.hazard_anchors).items()}

    def validate(train_loss):
        with torch.no_grad():
            vl = loss_fn(model, V).item() if len(va) else train_loss
        return {"val_loss": vl}, -vl

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    fit(model, [opt], len(tr), lambda i: loss_fn(model, {k: v[i].to(dev) for k, v in T.items()}), validate,
        cfg, seed, "loss", min_delta=1e-5)
    model.cpu()

    phase("evaluating")
    if cfg.calibrate and len(va):
        calibrate(model, va)
    window = cfg.test_days
    result = report_metrics(te, *predict(model, te), cfg.horizons_days, window)
    result.update(logreg_baseline(tr, te, cfg.horizons_days, window))
    log(f"test: {json.dumps(result)}")

    phase("exporting")
    write_artifact(out, model, arch, cfg, result, times, snap=snap, seed=seed, base_info=base_info)
    return result


def write_artifact(out: Path, model: BehaviorModel, a: BehaviorArch, cfg: Config, result: dict, times: dict,
                   snap: Path, seed: int, base_info: dict | None):
    """model.onnx, checkpoint.pt and manifest.json (README 'Serving contract')."""
    L, F_ = cfg.max_len, len(PROFILE_FEATURES)
    ex_types = torch.zeros(2, L, dtype=torch.long)
    ex_types[0, -3:] = torch.tensor([1, 3, 4])
    ex = {"event_types": ex_types, "event_ages": torch.zeros(2, L), "event_item_repeats": torch.zeros(2, L),
          "profile": torch.zeros(2, F_)}
    graph = BehaviorExport(model)
    names = graph.input_names()
    outputs = ["next_action", "purchase_within"]
    export.export_onnx(graph, tuple(ex[n] for n in names), out / "model.onnx", names, outputs,
                       {n: {0: "batch"} for n in names + outputs})
    torch.save({"arch": asdict(a), "state_dict": model.state_dict()}, out / "checkpoint.pt")
    ins, outs = export.io(out / "model.onnx")
    man = manifest.build(
        KIND, out, inputs=ins, outputs=outs, hyperparameters=asdict(cfg), metrics=result,
        data_sha256=data.snapshot_hashes(snap), seed=seed, base=base_info, files={"checkpoint": "checkpoint.pt"},
        actions=list(ACTIONS), horizons_days=cfg.horizons_days, max_len=cfg.max_len,
        event_type_index={t: i + 1 for i, t in enumerate(data.EVENT_TYPES)},
        profile_features=list(PROFILE_FEATURES),
        profile_normalization={"mean": model.prof_mean.tolist(), "std": model.prof_std.tolist(),
                               "applied_in_graph": True},
        session_gap_min=cfg.session_gap_min,
        calibration={"temperature": model.log_temp.exp().item(), "hazard_scale": model.log_hazard_scale.exp().item()},
        split={k: v for k, v in times.items()})
    manifest.write(out, man)


def evaluate(art: Path, snap: Path, overrides: dict, seed: int, kind: str = KIND) -> dict:
    man = manifest.read(art)
    cfg = hparams.parse(Config, overrides, base=man["hyperparameters"])
    ev = data.load_events(snap)
    tr, _, te, _ = split(ev, snap, cfg, seed)
    sess = export.session(art / "model.onnx")
    f = feeds(te)
    f = {i.name: f[i.name] for i in sess.get_inputs()}
    probs = export.run_batched(sess, f, "next_action", 2048)
    within = export.run_batched(sess, f, "purchase_within", 2048)
    result = report_metrics(te, probs, within, cfg.horizons_days, cfg.test_days)
    result.update(logreg_baseline(tr, te, cfg.horizons_days, cfg.test_days))
    return result
