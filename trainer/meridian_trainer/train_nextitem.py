"""Next-item training: snapshot -> leave-one-out split -> SASRec (full softmax CE) -> ONNX.

Split (per user, items in time order): the last item is the test target, the second
last the validation target, the rest is training. Users with fewer than 3 items only
train. Early stopping on validation NDCG@10; the mixture weights (transition, popularity) are
then tuned on validation; test metrics are reported once, for the exported model.
"""

import json
import math
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, device, export, hparams, manifest, metrics
from .fit import fit
from .hparams import hp
from .nextitem_model import DATA_BUFFERS, NextItemArch, NextItemExport, NextItemModel, grow_items
from .report import log, phase

KIND = "next-item"


@dataclass
class Config:
    # architecture (fine-tuning needs these equal to the base artifact's)
    max_len: int = hp(50, min=2, max=512, arch=True, help="items of history the model reads (L)")
    d_model: int = hp(64, min=8, max=1024, arch=True, help="embedding / hidden size (D)")
    n_layers: int = hp(2, min=1, max=12, arch=True, help="transformer blocks")
    n_heads: int = hp(1, min=1, max=16, arch=True, help="attention heads (must divide d_model)")
    use_hour: bool = hp(True, arch=True, help="hour-of-week context embedding")
    n_cells: int = hp(256, min=0, max=1_000_000, arch=True, help="spatial cell buckets (0 = no cell context)")
    cell_deg: float = hp(0.5, min=0.001, max=90.0, arch=True, help="grid size in degrees for the cell bucket")
    # training
    dropout: float = hp(0.5, min=0.0, max=0.9, help="dropout rate")
    epochs: int = hp(200, min=1, max=2000, help="maximum epochs (early stopping usually ends sooner)")
    batch_size: int = hp(128, min=1, max=8192, help="sequences per step")
    lr: float = hp(1e-3, min=1e-6, max=1.0, help="Adam learning rate")
    weight_decay: float = hp(0.0, min=0.0, max=1.0, help="AdamW weight decay")
    patience: int = hp(10, min=1, max=1000, help="evaluations without validation improvement before stopping")
    eval_every: int = hp(1, min=1, max=100, help="epochs between validation evaluations")
    max_minutes: float = hp(0.0, min=0.0, max=10080.0, help="stop training after this many minutes (0 = no limit); "
                            "the best weights so far are evaluated and exported")
    # data
    event_types: str = hp("view,cart,purchase,favorite", items=list(data.EVENT_TYPES),
                          help="comma list of event types that count as item interactions")
    dedupe_consecutive: bool = hp(True, help="collapse repeated consecutive events on the same item")
    # transition mixture (part of the graph)
    trans_topm: int = hp(50, min=0, max=1000, help="successors kept per item in the transition table (0 = off)")
    trans_weight: float = hp(-1.0, min=-1.0, max=1.0, help="mixture weight w; -1 = tune on validation")
    pop_weight: float = hp(0.0, min=-1.0, max=0.5,
                           help="popularity mixture weight v; 0 = off, -1 = tune on validation jointly with w")
    mixture_metric: str = hp("ndcg@10", choices=["ndcg@10", "hr@10+ndcg@10"],
                             help="validation metric the mixture weights are tuned on")
    # evaluation / export
    eval_protocol: str = hp("full", choices=["full", "sampled100"],
                            help="full ranking (history excluded) or 100 sampled negatives")
    eval_users: int = hp(0, min=0, max=10_000_000, help="evaluate a seeded random subset of this many users (0 = all)")
    top_k: int = hp(100, min=1, max=10_000, help="K of the top_ids/top_scores outputs")


# ---------------------------------------------------------------- data

def hour_of_week(ts: np.ndarray) -> np.ndarray:
    """UTC hour of week, Monday 00:00 = 0 .. Sunday 23:00 = 167 (1970-01-01 was a Thursday)."""
    ts = np.asarray(ts, dtype=np.float64)
    day = np.floor(ts / 86400.0)
    return (((day + 3) % 7) * 24 + np.floor((ts - day * 86400.0) / 3600.0)).astype(np.int64)


def cell_bucket(lat, lng, n_cells: int, deg: float) -> np.ndarray:
    """1 + (row * ncols + col) mod (n_cells - 1); 0 when lat/lng is missing or n_cells < 2."""
    lat, lng = np.asarray(lat, dtype=np.float64), np.asarray(lng, dtype=np.float64)
    out = np.zeros(lat.shape, dtype=np.int64)
    if n_cells < 2:
        return out
    ok = np.isfinite(lat) & np.isfinite(lng)
    ncols = int(math.ceil(360.0 / deg))
    row = np.floor((lat[ok] + 90.0) / deg).astype(np.int64)
    col = np.floor((lng[ok] + 180.0) / deg).astype(np.int64)
    out[ok] = 1 + (row * ncols + col) % (n_cells - 1)
    return out


@dataclass
class Seq:
    user: str
    items: list      # product ids in time order
    hour: np.ndarray  # (n,) hour of week of each event
    cell: np.ndarray  # (n,) cell bucket of each event


def sequences(ev: data.Events, cfg: Config) -> list[Seq]:
    types = {data.TYPE_INDEX[t.strip()] for t in cfg.event_types.split(",") if t.strip()}
    out = []
    for u, s, e in ev.groups():
        keep = [i for i in range(s, e) if ev.type[i] in types and ev.product[i]]
        if cfg.dedupe_consecutive:
            keep = [i for j, i in enumerate(keep) if j == 0 or ev.product[i] != ev.product[keep[j - 1]]]
        if not keep:
            continue
        idx = np.array(keep)
        out.append(Seq(u, [ev.product[i] for i in keep], hour_of_week(ev.ts[idx]),
                       cell_bucket(ev.lat[idx], ev.lng[idx], cfg.n_cells, cfg.cell_deg)))
    return out


def check_config(cfg: Config):
    if cfg.d_model % cfg.n_heads:
        raise hparams.ConfigError("d_model must be divisible by n_heads")
    if cfg.n_cells == 1:
        raise hparams.ConfigError("n_cells must be 0 (off) or >= 2")
    w_fixed = cfg.trans_weight if cfg.trans_topm > 0 and cfg.trans_weight >= 0 else 0.0
    if cfg.pop_weight > 0 and w_fixed + cfg.pop_weight >= 1:
        raise hparams.ConfigError(f"trans_weight + pop_weight must be below 1 (got {w_fixed} + {cfg.pop_weight})")
    if cfg.pop_weight < 0 and w_fixed >= 1:
        raise hparams.ConfigError("pop_weight: cannot be tuned when trans_weight is 1 (nothing left for the model)")


def build_vocab(seqs: list[Seq], base_items: list | None) -> list:
    """items.json: [null, id_1, ..., id_N]. Base items keep their index; new items are
    appended by descending frequency, then id."""
    counts = {}
    for s in seqs:
        for it in s.items:
            counts[it] = counts.get(it, 0) + 1
    vocab = list(base_items) if base_items else [None]
    known = set(vocab[1:])
    vocab += sorted((i for i in counts if i not in known), key=lambda i: (-counts[i], i))
    return vocab


def left_pad(rows: list, L: int) -> np.ndarray:
    out = np.zeros((len(rows), L), dtype=np.int64)
    for r, row in enumerate(rows):
        row = row[-L:]
        if len(row):
            out[r, L - len(row):] = row
    return out


def training_arrays(seqs: list[Seq], index: dict, L: int):
    """Per user with >= 2 training items: inputs items[:-1], targets items[1:], and the
    targets' context. Training part = all but the last 2 items (users with >= 3 items)."""
    X, Y, H, C = [], [], [], []
    for s in seqs:
        n = len(s.items) - 2 if len(s.items) >= 3 else len(s.items)
        ids = [index[i] for i in s.items[:n]]
        if n < 2:
            continue
        X.append(ids[:-1]), Y.append(ids[1:]), H.append(list(s.hour[1:n])), C.append(list(s.cell[1:n]))
    return [torch.from_numpy(left_pad(a, L)) for a in (X, Y, H, C)]


def transition_table(seqs: list[Seq], index: dict, n_items: int, top_m: int):
    """Row-normalised successor counts over the training part, top-M per item.
    Returns (ids (N+1, M), p (N+1, M), full count dict for the Markov baseline)."""
    counts = {}
    for s in seqs:
        n = len(s.items) - 2 if len(s.items) >= 3 else len(s.items)
        ids = [index[i] for i in s.items[:n]]
        for a, b in pairwise(ids):
            row = counts.setdefault(a, {})
            row[b] = row.get(b, 0) + 1
    M = max(top_m, 1)
    tid = np.zeros((n_items + 1, M), dtype=np.int64)
    tp = np.zeros((n_items + 1, M), dtype=np.float32)
    for a, row in counts.items():
        total = sum(row.values())
        best = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:M]
        for j, (b, c) in enumerate(best):
            tid[a, j], tp[a, j] = b, c / total
    return torch.from_numpy(tid), torch.from_numpy(tp), counts


def popularity(seqs: list[Seq], index: dict, n_items: int) -> np.ndarray:
    """(N+1,) event counts per item over the training part (all but each user's last 2 items)."""
    pop = np.zeros(n_items + 1)
    for it, c in zip(*np.unique([index[i] for s in seqs for i in s.items[:-2]], return_counts=True), strict=True):
        pop[it] = c
    return pop


# ---------------------------------------------------------------- evaluation

@dataclass
class EvalSet:
    history: list     # per user: product ids the model reads (time order)
    target: list      # per user: product id to predict
    hour: np.ndarray  # (U,) context of the target event
    cell: np.ndarray  # (U,)
    negatives: list | None  # per user: 100 sampled product ids (sampled100 only)


def eval_set(seqs: list[Seq], stage: str, cfg: Config, seed: int) -> EvalSet:
    """stage 'validation': history = items[:-2], target = items[-2]; 'test': items[:-1] -> items[-1]."""
    rng = np.random.default_rng(seed + (1 if stage == "validation" else 2))
    users = [s for s in seqs if len(s.items) >= 3]
    if cfg.eval_users and len(users) > cfg.eval_users:
        pick = np.sort(np.random.default_rng(seed).choice(len(users), cfg.eval_users, replace=False))
        users = [users[i] for i in pick]
    cut = -2 if stage == "validation" else -1
    universe = sorted({i for s in seqs for i in s.items})
    es = EvalSet([], [], np.zeros(len(users), np.int64), np.zeros(len(users), np.int64),
                 [] if cfg.eval_protocol == "sampled100" else None)
    for u, s in enumerate(users):
        hist, tgt = s.items[:cut], s.items[cut]
        es.history.append(hist)
        es.target.append(tgt)
        es.hour[u], es.cell[u] = s.hour[cut], s.cell[cut]
        if es.negatives is not None:
            seen = set(hist) | {tgt}
            negs = []
            while len(negs) < 100 and len(seen) < len(universe):
                c = universe[rng.integers(len(universe))]
                if c not in seen:
                    negs.append(c)
            es.negatives.append(negs)
    return es


def evaluate_scores(es: EvalSet, vocab: list, score_fn, max_len: int, batch: int = 256) -> dict:
    """score_fn(item_seq (B,L) int64, hour (B,), cell (B,)) -> (B, N+1) numpy scores.
    Items the model does not know score -inf (a miss), so models with different
    vocabularies are compared on the same users and candidates."""
    index = {it: i for i, it in enumerate(vocab) if i}
    ranks = []
    for b in range(0, len(es.target), batch):
        sl = slice(b, b + batch)
        hist = es.history[sl]
        seq = left_pad([[index[i] for i in h if i in index] for h in hist], max_len)
        s = score_fn(seq, es.hour[sl], es.cell[sl]).astype(np.float64)
        for r, h in enumerate(hist):
            row = s[r]
            t = index.get(es.target[b + r])
            st = row[t] if t is not None else -np.inf
            if es.negatives is None:  # full ranking, history excluded
                row = row.copy()
                row[[index[i] for i in set(h) if i in index]] = -np.inf
                if t is not None:
                    row[t] = st
                ranks.append(int((row > st).sum()) if np.isfinite(st) else len(row))
            else:
                neg = np.array([row[index[c]] if c in index else -np.inf for c in es.negatives[b + r]])
                ranks.append(int((neg > st).sum()) if np.isfinite(st) else len(neg))
    return metrics.rank_metrics(np.array(ranks), 10)


def torch_score_fn(model: NextItemModel):
    dev = device.of(model)

    def fn(seq, hour, cell):
        with torch.no_grad():
            x = [torch.from_numpy(a).to(dev) for a in (seq, hour, cell)]
            return model.scores(*x).cpu().numpy()
    return fn


def markov_score_fn(counts: dict, pop: np.ndarray):
    """Baseline of BENCHMARKS.md: successor counts of the last item, tiny popularity tie-break."""
    def fn(seq, hour, cell):
        out = np.tile(pop * 1e-6, (len(seq), 1))
        for r, last in enumerate(seq[:, -1]):
            for j, c in counts.get(int(last), {}).items():
                out[r, j] += c
        out[:, 0] = -np.inf
        return out
    return fn


def set_mixture(model: NextItemModel, w: float, v: float):
    """Mixture weights of the graph: transition w, popularity v."""
    model.trans_w.fill_(w)
    model.pop_w.fill_(v)


def tune_mixture(model: NextItemModel, cfg: Config, val: EvalSet, vocab: list) -> tuple[float, float]:
    """Mixture weights (w, v): fixed ones from the config, -1 ones by a grid on validation
    (ties go to the smaller weights)."""
    w_grid = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) if cfg.trans_topm > 0 and cfg.trans_weight < 0 \
        else (max(cfg.trans_weight, 0.0) if cfg.trans_topm > 0 else 0.0,)
    v_grid = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2) if cfg.pop_weight < 0 else (cfg.pop_weight,)
    if len(w_grid) * len(v_grid) == 1:
        return w_grid[0], v_grid[0]
    by = {}  # (w, v) -> validation (HR@10, NDCG@10)
    for w in w_grid:
        for v in v_grid:
            if w + v >= 1:
                continue
            set_mixture(model, w, v)
            m = evaluate_scores(val, vocab, torch_score_fn(model), cfg.max_len)
            by[(w, v)] = (m["hr@10"], m["ndcg@10"])
    crit = {k: hr + nd if cfg.mixture_metric == "hr@10+ndcg@10" else nd for k, (hr, nd) in by.items()}
    w, v = max(crit, key=lambda k: (crit[k], -k[0], -k[1]))
    log(f"mixture weights w={w} v={v} by validation {cfg.mixture_metric}; validation (HR@10, NDCG@10) by (w, v): "
        f"{ {f'{a},{b}': (round(hr, 4), round(nd, 4)) for (a, b), (hr, nd) in by.items()} }")
    return w, v


# ---------------------------------------------------------------- train

def build_model(cfg: Config, seqs: list[Seq], base: Path | None, seed: int, n_events: int):
    """-> (model with its transition table and popularity filled in, vocab, arch, successor counts,
    popularity counts, base info). Fine-tuning grows the base's item rows (README 'Fine-tuning')."""
    base_items, base_state, base_info = None, None, None
    if base is not None:
        bm = manifest.read(base)
        ck = torch.load(base / "checkpoint.pt", weights_only=False)
        base_items, base_state = json.loads((base / "items.json").read_text()), ck["state_dict"]
        base_info = {"version": bm["version"], "model_sha256": bm["model"]["sha256"]}
    vocab = build_vocab(seqs, base_items)
    index = {it: i for i, it in enumerate(vocab) if i}
    N = len(vocab) - 1
    log(f"{len(seqs)} users, {N} items ({N - (len(base_items) - 1 if base_items else 0)} new), {n_events} events")

    a = NextItemArch(n_items=N, max_len=cfg.max_len, d_model=cfg.d_model, n_layers=cfg.n_layers,
                     n_heads=cfg.n_heads, dropout=cfg.dropout, use_hour=cfg.use_hour, n_cells=cfg.n_cells,
                     trans_topm=cfg.trans_topm, pop_mix=cfg.pop_weight != 0)
    model = NextItemModel(a)
    if base_state is not None:
        state = grow_items(dict(base_state), len(base_items) - 1, N, seed=seed)
        missing, unexpected = model.load_state_dict(state, strict=False)
        assert not unexpected and set(missing) <= set(DATA_BUFFERS), (missing, unexpected)
    tid, tp, counts = transition_table(seqs, index, N, cfg.trans_topm)
    model.trans_ids.copy_(tid)
    model.trans_p.copy_(tp)
    pop = popularity(seqs, index, N)
    model.pop_p.copy_(torch.from_numpy(pop / max(pop.sum(), 1.0)).float())
    return model, vocab, a, counts, pop, base_info


def train(cfg: Config, snap: Path, out: Path, base: Path | None, seed: int, kind: str = KIND) -> dict:
    check_config(cfg)
    torch.manual_seed(seed)
    ev = data.load_events(snap)
    seqs = sequences(ev, cfg)
    if not seqs:
        raise data.SnapshotError(f"no events of types {cfg.event_types} with a product_id")
    model, vocab, arch, counts, pop, base_info = build_model(cfg, seqs, base, seed, len(ev))
    dev = device.pick()
    model.to(dev)

    X, Y, H, C = training_arrays(seqs, {it: i for i, it in enumerate(vocab) if i}, cfg.max_len)
    if len(X) == 0:
        raise data.SnapshotError("no user has 2 or more training items")
    val = eval_set(seqs, "validation", cfg, seed)
    test = eval_set(seqs, "test", cfg, seed)
    log(f"{len(X)} training sequences, {len(val.target)} validation / {len(test.target)} test users")

    def batch_loss(i):
        x, y, hr, cl = (t[i].to(dev) for t in (X, Y, H, C))
        h = model.add_context(model.encode(x), hr, cl)  # (B, L, D)
        m = y > 0
        # full softmax over items 1..N, only at real target positions: (P, N)
        return F.cross_entropy(h[m] @ model.item_emb.weight[1:].T, y[m] - 1)

    def validate(_):
        vm = evaluate_scores(val, vocab, torch_score_fn(model), cfg.max_len)
        return {"val_hr@10": vm["hr@10"], "val_ndcg@10": vm["ndcg@10"]}, vm["ndcg@10"]

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    fit(model, [opt], len(X), batch_loss, validate, cfg, seed, "NDCG@10")

    phase("evaluating")
    result = final_metrics(model, cfg, val, test, vocab, markov_score_fn(counts, pop))
    phase("exporting")
    model.cpu()
    write_artifact(out, model, arch, cfg, vocab, result, snap=snap, seed=seed, base_info=base_info)
    return result


def final_metrics(model: NextItemModel, cfg: Config, val: EvalSet, test: EvalSet, vocab: list, markov) -> dict:
    """Tunes the mixture weights on validation (and leaves them set), then scores the test users,
    with and without the mixtures, next to the Markov baseline."""
    w, v = tune_mixture(model, cfg, val, vocab)
    set_mixture(model, w, v)
    vm = evaluate_scores(val, vocab, torch_score_fn(model), cfg.max_len)
    tm = evaluate_scores(test, vocab, torch_score_fn(model), cfg.max_len)
    mk = evaluate_scores(test, vocab, markov, cfg.max_len)
    result = {"protocol": cfg.eval_protocol, "hr@10": tm["hr@10"], "ndcg@10": tm["ndcg@10"],
              "test_users": tm["users"], "val_hr@10": vm["hr@10"], "val_ndcg@10": vm["ndcg@10"],
              "transition_weight": round(w, 4), "popularity_weight": round(v, 4),
              "markov_hr@10": mk["hr@10"], "markov_ndcg@10": mk["ndcg@10"]}
    if w or v:  # the same test users and negatives without the mixtures: what they add
        set_mixture(model, 0.0, 0.0)
        plain = evaluate_scores(test, vocab, torch_score_fn(model), cfg.max_len)
        set_mixture(model, w, v)
        result.update({"no_mixture_hr@10": plain["hr@10"], "no_mixture_ndcg@10": plain["ndcg@10"]})
    log(f"test: {result}")
    return result


def write_artifact(out: Path, model: NextItemModel, a: NextItemArch, cfg: Config, vocab: list, result: dict,
                   snap: Path, seed: int, base_info: dict | None):
    """model.onnx, items.json, item_embeddings.f32, checkpoint.pt and manifest.json (README 'Serving contract')."""
    N, K = len(vocab) - 1, min(cfg.top_k, len(vocab) - 1)
    w, v = result["transition_weight"], result["popularity_weight"]
    export.export_onnx(
        NextItemExport(model, K),
        (torch.from_numpy(left_pad([[1, 2], [3]], cfg.max_len)), torch.tensor([5, 100]), torch.tensor([0, 1])),
        out / "model.onnx", ["item_seq", "hour_of_week", "cell"], ["top_ids", "top_scores", "scores"],
        {"item_seq": {0: "batch"}, "hour_of_week": {0: "batch"}, "cell": {0: "batch"},
         "top_ids": {0: "batch"}, "top_scores": {0: "batch"}, "scores": {0: "batch"}})
    (out / "items.json").write_text(json.dumps(vocab, ensure_ascii=False))
    emb = model.item_emb.weight.detach().numpy().astype("<f4")  # (N+1, D), row 0 = padding
    emb.tofile(out / "item_embeddings.f32")
    torch.save({"arch": asdict(a), "state_dict": model.state_dict()}, out / "checkpoint.pt")
    ins, outs = export.io(out / "model.onnx")
    man = manifest.build(
        KIND, out, inputs=ins, outputs=outs, hyperparameters=asdict(cfg), metrics=result,
        data_sha256=data.snapshot_hashes(snap), seed=seed, base=base_info,
        files={"items": "items.json", "item_embeddings": "item_embeddings.f32", "checkpoint": "checkpoint.pt"},
        n_items=N, top_k=K, max_len=cfg.max_len,
        item_embeddings={"file": "item_embeddings.f32", "dtype": "float32", "byte_order": "little",
                         "shape": [N + 1, cfg.d_model]},
        context={"hour_of_week": cfg.use_hour, "n_cells": cfg.n_cells, "cell_deg": cfg.cell_deg},
        transition={"top_m": cfg.trans_topm, "weight": w}, popularity={"weight": v},
        event_types=cfg.event_types.split(","), dedupe_consecutive=cfg.dedupe_consecutive)
    manifest.write(out, man)


def evaluate(art: Path, snap: Path, overrides: dict, seed: int, kind: str = KIND) -> dict:
    """Scores an artifact's model.onnx on the test split a train run on `snap` would use."""
    man = manifest.read(art)
    cfg = hparams.parse(Config, overrides, base=man["hyperparameters"])
    vocab = json.loads((art / "items.json").read_text())
    sess = export.session(art / "model.onnx")
    seqs = sequences(data.load_events(snap), cfg)
    test = eval_set(seqs, "test", cfg, seed)

    def fn(seq, hour, cell):
        feeds = {"item_seq": seq, "hour_of_week": hour.astype(np.int64), "cell": cell.astype(np.int64)}
        return export.run_batched(sess, feeds, "scores")

    tm = evaluate_scores(test, vocab, fn, man["max_len"])
    return {"protocol": cfg.eval_protocol, "hr@10": tm["hr@10"], "ndcg@10": tm["ndcg@10"], "test_users": tm["users"]}


def config_class(kind: str = KIND):
    return Config
