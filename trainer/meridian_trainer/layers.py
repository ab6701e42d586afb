"""Transformer building blocks shared by the next-item and behavior models.

Written out by hand (no nn.MultiheadAttention / SDPA) so the ONNX graph is plain
MatMul/Softmax that every onnxruntime build runs, and so masking is explicit.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = -1e9  # masked attention logit; finite so an all-masked row stays NaN-free


class SelfAttention(nn.Module):
    def __init__(self, d: int, n_heads: int, dropout: float):
        super().__init__()
        assert d % n_heads == 0, "d_model must be divisible by n_heads"
        self.n_heads = n_heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        # x: (B, T, C); mask: (B, 1, T, T) bool, True where query t may attend key s
        B, T, C = x.shape
        hs = C // self.n_heads
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_heads, hs).transpose(1, 2)  # (B, H, T, hs)
        k = k.view(B, T, self.n_heads, hs).transpose(1, 2)
        v = v.view(B, T, self.n_heads, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, H, T, T)
        att = att.masked_fill(~mask, NEG)
        att = self.drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.drop(self.proj(y))


class Block(nn.Module):
    """Pre-LayerNorm transformer block (attention + GELU MLP), residual on both."""

    def __init__(self, d: int, n_heads: int, dropout: float, ffn_mult: int = 1):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = SelfAttention(d, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, ffn_mult * d), nn.GELU(), nn.Linear(ffn_mult * d, d), nn.Dropout(dropout))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        x = x + self.mlp(self.ln2(x))
        return x


def attention_mask(keep: torch.Tensor, causal: bool) -> torch.Tensor:
    """keep: (B, T) bool (False at padding) -> (B, 1, T, T) bool."""
    T = keep.shape[1]
    m = keep[:, None, None, :]  # keys that are real items
    if causal:
        tri = torch.ones(T, T, dtype=torch.bool, device=keep.device).tril()
        m = m & tri[None, None]
    return m
