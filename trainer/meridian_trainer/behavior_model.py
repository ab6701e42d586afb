"""Behavior model: recent event sequence + profile -> next action and purchase horizons.

  next_action      (B, 4)  softmax over [view, cart, purchase, leave], temperature-calibrated
  purchase_within  (B, H)  P(purchase within horizon h) = 1 - exp(-a * sum_{k<=h} softplus(r_k))

The cumulative hazard makes purchase_within non-decreasing across horizons by
construction; `a` (hazard scale) and the temperature are fitted on validation.
Profile normalisation lives in the graph, so the server feeds raw features.
"""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import Block, attention_mask

ACTIONS = ("view", "cart", "purchase", "leave")


@dataclass
class BehaviorArch:
    n_profile: int      # F
    n_horizons: int     # H
    max_len: int = 50   # L
    d_model: int = 32   # D
    n_layers: int = 1
    n_heads: int = 2
    hidden: int = 64
    dropout: float = 0.1
    item_repeats: bool = False  # event_item_repeats input (checkpoints made before it have none)


class BehaviorModel(nn.Module):
    def __init__(self, a: BehaviorArch):
        super().__init__()
        self.a = a
        D = a.d_model
        self.type_emb = nn.Embedding(6, D, padding_idx=0)
        self.age_mlp = nn.Sequential(nn.Linear(1, D), nn.GELU(), nn.Linear(D, D))
        self.rep_mlp = nn.Sequential(nn.Linear(1, D), nn.GELU(), nn.Linear(D, D)) if a.item_repeats else None
        self.pos_emb = nn.Embedding(a.max_len, D)
        self.blocks = nn.ModuleList([Block(D, a.n_heads, a.dropout, ffn_mult=2) for _ in range(a.n_layers)])
        self.ln_f = nn.LayerNorm(D)
        self.profile_mlp = nn.Sequential(nn.Linear(a.n_profile, D), nn.GELU())
        self.trunk = nn.Sequential(nn.Linear(3 * D, a.hidden), nn.GELU(), nn.Dropout(a.dropout))
        self.next_head = nn.Linear(a.hidden, len(ACTIONS))
        self.hazard_head = nn.Linear(a.hidden, a.n_horizons)
        self.register_buffer("prof_mean", torch.zeros(a.n_profile))
        self.register_buffer("prof_std", torch.ones(a.n_profile))
        self.register_buffer("log_temp", torch.zeros(()))        # next-action temperature (log)
        self.register_buffer("log_hazard_scale", torch.zeros(()))  # hazard scale a (log)

    def forward(self, event_types, event_ages, event_item_repeats, profile):
        """(B, L) int64, (B, L) float32, (B, L) float32 (ignored unless item_repeats), (B, F) float32
        -> next-action logits (B, 4), cumulative hazard (B, H)."""
        keep = event_types > 0  # (B, L)
        L = event_types.shape[1]
        x = (self.type_emb(event_types) + self.age_mlp(event_ages[..., None])
             + self.pos_emb(torch.arange(L, device=event_types.device))[None])
        if self.rep_mlp is not None:
            x = x + self.rep_mlp(event_item_repeats[..., None])
        x = x * keep[..., None]  # (B, L, D)
        mask = attention_mask(keep, causal=False)
        for blk in self.blocks:
            x = blk(x, mask) * keep[..., None]
        x = self.ln_f(x) * keep[..., None]
        n = keep.sum(1, keepdim=True).clamp(min=1)  # (B, 1)
        pooled = x.sum(1) / n  # (B, D) mean over real events
        last = x[:, -1]  # (B, D) most recent event (zeros when the history is empty)
        prof = self.profile_mlp((profile - self.prof_mean) / self.prof_std)  # (B, D)
        h = self.trunk(torch.cat([pooled, last, prof], dim=1))  # (B, hidden)
        logits = self.next_head(h) / self.log_temp.exp()
        cum_hazard = torch.cumsum(F.softplus(self.hazard_head(h)), dim=1) * self.log_hazard_scale.exp()
        return logits, cum_hazard


class BehaviorExport(nn.Module):
    """The graph that ships: (event_types, event_ages, [event_item_repeats,] profile) -> probabilities."""

    def __init__(self, model: BehaviorModel):
        super().__init__()
        self.model = model

    def input_names(self) -> list[str]:
        repeats = ["event_item_repeats"] if self.model.a.item_repeats else []
        return ["event_types", "event_ages"] + repeats + ["profile"]

    def forward(self, *inputs):
        x = dict(zip(self.input_names(), inputs, strict=True))  # positional, in input_names() order
        logits, cum_hazard = self.model(x["event_types"], x["event_ages"], x.get("event_item_repeats"), x["profile"])
        return F.softmax(logits, dim=1), 1.0 - torch.exp(-cum_hazard)
