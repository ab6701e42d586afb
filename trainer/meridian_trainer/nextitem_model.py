"""Next-item model: SASRec-style self-attentive sequential recommender.

Item + position embeddings, causal pre-LN transformer blocks, scores = dot product
with the (shared) item embedding table. Optional context added to the query state:
hour of week (0..167) and a spatial cell bucket (0 = unknown location). Optional
last-item transition mixture (a sparse first-order Markov table baked into the graph) and an
optional popularity mixture (item frequencies in the training part):

    p(j) = (1 - w - v) * softmax(z)_j + w * T[last_item, j] + v * pop_j      score = log p(j)
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import Block, attention_mask


@dataclass
class NextItemArch:
    n_items: int          # N; item indices are 1..N, 0 is padding
    max_len: int = 50     # L
    d_model: int = 64     # D
    n_layers: int = 2
    n_heads: int = 1
    dropout: float = 0.5
    use_hour: bool = True
    n_cells: int = 0      # 0 disables the cell context
    trans_topm: int = 0   # M neighbours per item in the transition table (0 = none)
    pop_mix: bool = False  # popularity mixture term in the graph


class NextItemModel(nn.Module):
    def __init__(self, a: NextItemArch):
        super().__init__()
        self.a = a
        D = a.d_model
        self.item_emb = nn.Embedding(a.n_items + 1, D, padding_idx=0)
        self.pos_emb = nn.Embedding(a.max_len, D)
        self.hour_emb = nn.Embedding(168, D) if a.use_hour else None
        self.cell_emb = nn.Embedding(a.n_cells, D, padding_idx=0) if a.n_cells > 0 else None
        self.drop = nn.Dropout(a.dropout)
        self.blocks = nn.ModuleList([Block(D, a.n_heads, a.dropout) for _ in range(a.n_layers)])
        self.ln_f = nn.LayerNorm(D)
        # Transition table: data-derived, not learned. Row i lists i's top-M successors.
        M = max(a.trans_topm, 1)
        self.register_buffer("trans_ids", torch.zeros(a.n_items + 1, M, dtype=torch.long))
        self.register_buffer("trans_p", torch.zeros(a.n_items + 1, M))
        self.register_buffer("trans_w", torch.zeros(()))
        self.register_buffer("pop_p", torch.zeros(a.n_items + 1))  # sums to 1 over items 1..N
        self.register_buffer("pop_w", torch.zeros(()))
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()

    def encode(self, seq):
        # seq: (B, L) int64, left-padded with 0 -> (B, L, D)
        B, L = seq.shape
        keep = seq > 0  # (B, L)
        pos = torch.arange(L, device=seq.device)
        x = self.item_emb(seq) * math.sqrt(self.a.d_model) + self.pos_emb(pos)[None]
        x = self.drop(x) * keep[..., None]
        mask = attention_mask(keep, causal=True)  # (B, 1, L, L)
        for blk in self.blocks:
            x = blk(x, mask) * keep[..., None]
        return self.ln_f(x)

    def add_context(self, h, hour, cell):
        # h: (B, L, D) or (B, D); hour/cell: same leading shape without D
        if self.hour_emb is not None:
            h = h + self.hour_emb(hour)
        if self.cell_emb is not None:
            h = h + self.cell_emb(cell)
        return h

    def logits(self, h):
        # h: (..., D) -> (..., N+1); column 0 (padding) is never a valid answer
        z = h @ self.item_emb.weight.T
        return z.masked_fill(self._pad_col(z), float("-inf"))

    def _pad_col(self, z):
        col = torch.arange(z.shape[-1], device=z.device) == 0
        return col.expand_as(z)

    def scores(self, seq, hour, cell):
        """(B, L), (B,), (B,) -> (B, N+1) log-probabilities of the next item."""
        h = self.add_context(self.encode(seq)[:, -1], hour, cell)  # (B, D)
        logp = F.log_softmax(self.logits(h), dim=-1)  # (B, N+1)
        if self.a.trans_topm == 0 and not self.a.pop_mix:
            return logp
        w, v = self.trans_w, self.pop_w  # each stays 0 while its term is off
        p = logp.exp() * (1 - w - v)
        if self.a.trans_topm > 0:
            last = seq[:, -1]  # (B,) most recent item (0 when the sequence is empty)
            p = p.scatter_add(1, self.trans_ids[last], self.trans_p[last] * w)  # (B, N+1)
        if self.a.pop_mix:
            p = p + v * self.pop_p
        return torch.log(p)


class NextItemExport(nn.Module):
    """The graph that ships: inputs -> (top_ids, top_scores, scores)."""

    def __init__(self, model: NextItemModel, k: int):
        super().__init__()
        self.model, self.k = model, k

    def forward(self, item_seq, hour_of_week, cell):
        s = self.model.scores(item_seq, hour_of_week, cell)  # (B, N+1)
        top_scores, top_ids = s.topk(self.k, dim=-1)  # (B, K) each
        return top_ids, top_scores, s


DATA_BUFFERS = ("trans_ids", "trans_p", "trans_w", "pop_p", "pop_w")


def grow_items(state: dict, n_old: int, n_new: int, std: float = 0.02, seed: int = 0) -> dict:
    """Base weights for a bigger vocabulary: rows 0..n_old keep their values, new rows ~ N(0, std)."""
    w = state["item_emb.weight"]
    if n_new > n_old:
        g = torch.Generator().manual_seed(seed)
        extra = torch.randn(n_new - n_old, w.shape[1], generator=g) * std
        state["item_emb.weight"] = torch.cat([w, extra], 0)
    for k in DATA_BUFFERS:  # data-derived: rebuilt from the new snapshot
        state.pop(k, None)
    return state
