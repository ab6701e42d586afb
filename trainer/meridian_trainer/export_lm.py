"""export-lm: a local Hugging Face causal-LM checkpoint -> ONNX with an explicit KV cache.

The graph is a small nanoGPT-style re-implementation (attention, cache, causal mask, RoPE) over
the checkpoint's own modules (embeddings, norms, MLPs, projections), so the exported graph is
simple and the same for every supported family:

  inputs   input_ids (1,T) int64, attention_mask (1,P+T) int64, position_ids (1,T) int64,
           past_key_values.{i}.key / .value (1,H_kv,P,D) float32
  outputs  logits (1,T,V) float32, present.{i}.key / .value (1,H_kv,P+T,D) float32

Families: GPT-2 (gpt2) and Llama (llama, qwen2; SmolLM is llama). After export the graph is
checked against the checkpoint's own PyTorch forward (with its cache) for a few greedy steps.
"""

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

from . import export, manifest
from .hparams import ConfigError

LLAMA_TYPES = {"llama", "qwen2"}
STATIC_ROPE = {"default", "linear", "llama3", "yarn"}


class Unsupported(ConfigError):
    """A checkpoint this exporter cannot export (exit code 2)."""


# ---------------------------------------------------------------- graph

def _attend(q, k, v, bias, n_rep: int):
    import torch
    if n_rep > 1:  # grouped-query attention: each KV head serves n_rep query heads
        b, h, s, d = k.shape
        k = k[:, :, None].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, -1, d)
        v = v[:, :, None].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, -1, d)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + bias
    return torch.softmax(scores, dim=-1) @ v


def _rotate_half(x):
    import torch
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def build_graph(hf):
    import torch

    class KVCausalLM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hf = hf
            c = hf.config
            self.gpt2 = c.model_type == "gpt2"
            self.heads = c.num_attention_heads if not self.gpt2 else c.n_head
            self.kv_heads = self.heads if self.gpt2 else (c.num_key_value_heads or self.heads)
            hidden = c.n_embd if self.gpt2 else c.hidden_size
            self.head_dim = getattr(c, "head_dim", None) or hidden // self.heads
            if not self.gpt2:
                rope = hf.model.rotary_emb
                self.register_buffer("inv_freq", rope.inv_freq.detach().clone().float(), persistent=False)
                self.rope_scaling = float(rope.attention_scaling)

        def split(self, x, heads):  # (1,T,H*D) -> (1,H,T,D)
            return x.view(x.shape[0], x.shape[1], heads, self.head_dim).transpose(1, 2)

        def forward(self, input_ids, attention_mask, position_ids, *past):
            t = input_ids.shape[1]
            total = attention_mask.shape[1]
            # Query i sits at position total-t+i and may see keys j <= it that the mask keeps.
            q_pos = torch.arange(t, device=input_ids.device)[:, None] + (total - t)
            k_pos = torch.arange(total, device=input_ids.device)[None, :]
            allowed = (k_pos <= q_pos)[None, None] & (attention_mask[:, None, None, :] > 0)
            bias = torch.where(allowed, torch.zeros((), dtype=torch.float32),
                               torch.full((), torch.finfo(torch.float32).min))
            body = self.hf.transformer if self.gpt2 else self.hf.model
            if self.gpt2:
                x = body.wte(input_ids) + body.wpe(position_ids)
                layers = body.h
            else:
                x = body.embed_tokens(input_ids)
                freqs = position_ids[..., None].float() * self.inv_freq
                emb = torch.cat((freqs, freqs), dim=-1)
                cos = (emb.cos() * self.rope_scaling)[:, None]
                sin = (emb.sin() * self.rope_scaling)[:, None]
                layers = body.layers
            presents = []
            for i, layer in enumerate(layers):
                pk, pv = past[2 * i], past[2 * i + 1]
                if self.gpt2:
                    h = layer.ln_1(x)
                    q, k, v = layer.attn.c_attn(h).split(self.heads * self.head_dim, dim=2)
                    q, k, v = self.split(q, self.heads), self.split(k, self.heads), self.split(v, self.heads)
                else:
                    h = layer.input_layernorm(x)
                    a = layer.self_attn
                    q = self.split(a.q_proj(h), self.heads)
                    k = self.split(a.k_proj(h), self.kv_heads)
                    v = self.split(a.v_proj(h), self.kv_heads)
                    q = q * cos + _rotate_half(q) * sin
                    k = k * cos + _rotate_half(k) * sin
                k = torch.cat((pk, k), dim=2)
                v = torch.cat((pv, v), dim=2)
                presents += [k, v]
                o = _attend(q, k, v, bias, self.heads // self.kv_heads)
                o = o.transpose(1, 2).reshape(x.shape[0], t, self.heads * self.head_dim)
                if self.gpt2:
                    x = x + layer.attn.c_proj(o)
                    x = x + layer.mlp(layer.ln_2(x))
                else:
                    x = x + layer.self_attn.o_proj(o)
                    x = x + layer.mlp(layer.post_attention_layernorm(x))
            x = body.ln_f(x) if self.gpt2 else body.norm(x)
            # 2-D, so that share_tied_head() can turn the head into a Gemm over the embedding matrix.
            logits = self.hf.lm_head(x.reshape(t, x.shape[-1]))
            return (logits.reshape(1, t, logits.shape[-1]), *presents)

    return KVCausalLM().eval()


def io_names(layers: int):
    past = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids", *past], ["logits", *present]


def share_tied_head(path: Path) -> bool:
    """A tied LM head is exported as MatMul with a transposed copy of the embedding matrix (a
    second copy of the largest tensor); read the embedding itself instead, with Gemm(transB=1)."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(str(path))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    embeds = [i for i in g.initializer if i.name.endswith(("embed_tokens.weight", "wte.weight"))]
    shared = False
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        for e in embeds if w is not None else []:
            same = list(w.dims) == list(e.dims)[::-1]
            if same and np.array_equal(numpy_helper.to_array(w), numpy_helper.to_array(e).T):
                node.op_type = "Gemm"
                node.input[1] = e.name
                node.attribute.append(helper.make_attribute("transB", 1))
                g.initializer.remove(w)
                shared = True
                break
    if shared:
        onnx.save(m, str(path))
        onnx.checker.check_model(str(path))
    return shared


def export_graph(graph, path: Path, layers: int):
    import torch
    ins, outs = io_names(layers)
    p, t = 2, 3  # traced with a past and several new tokens: the general case
    args = (torch.zeros((1, t), dtype=torch.long), torch.ones((1, p + t), dtype=torch.long),
            torch.arange(p, p + t)[None],
            *[torch.zeros((1, graph.kv_heads, p, graph.head_dim)) for _ in range(2 * layers)])
    axes = {"input_ids": {1: "sequence"}, "attention_mask": {1: "total_sequence"}, "position_ids": {1: "sequence"},
            "logits": {1: "sequence"}}
    axes.update({n: {2: "past_sequence"} for n in ins[3:]})
    axes.update({n: {2: "total_sequence"} for n in outs[1:]})
    export.export_onnx(graph, args, path, ins, outs, axes)
    share_tied_head(path)


# ---------------------------------------------------------------- parity

def torch_greedy(hf, prompt_ids: list[int], steps: int):
    """The checkpoint's own forward with its own cache: ([greedy ids], [last-position logits per step])."""
    import torch
    ids, logits = [], []
    with torch.no_grad():
        out = hf(input_ids=torch.tensor([prompt_ids]), use_cache=True)
        for s in range(steps):
            last = out.logits[0, -1].float()
            logits.append(last.numpy())
            ids.append(int(last.argmax()))
            if s + 1 < steps:
                cache = out.cache if "cache" in out else out.past_key_values  # renamed in transformers 5
                out = hf(input_ids=torch.tensor([[ids[-1]]]), cache=cache, use_cache=True)
    return ids, logits


def onnx_greedy(sess, prompt_ids: list[int], steps: int, kv_heads: int, head_dim: int, layers: int):
    """The exported graph, prefill then one token per step with present -> past (what the server does)."""
    ins, outs = io_names(layers)
    past = {n: np.zeros((1, kv_heads, 0, head_dim), np.float32) for n in ins[3:]}
    feed_ids, pos, ids, logits = list(prompt_ids), 0, [], []
    for _ in range(steps):
        t = len(feed_ids)
        feeds = {"input_ids": np.array([feed_ids], np.int64), "attention_mask": np.ones((1, pos + t), np.int64),
                 "position_ids": np.arange(pos, pos + t, dtype=np.int64)[None], **past}
        res = sess.run(None, {i.name: feeds[i.name] for i in sess.get_inputs()})
        last = res[0][0, -1]
        logits.append(last)
        ids.append(int(last.argmax()))
        past = dict(zip(ins[3:], res[1:], strict=True))
        pos += t
        feed_ids = [ids[-1]]
    return ids, logits


# ---------------------------------------------------------------- checks

def check_tokenizer(tj: dict):
    """Only byte-level BPE (GPT-2 / Llama 3 / Qwen2 / SmolLM style) is served; the server re-implements it."""
    m = tj.get("model") or {}
    if m.get("type") != "BPE":
        raise Unsupported(f"tokenizer.json: model type {m.get('type')!r} is not BPE")
    if m.get("byte_fallback") or m.get("continuing_subword_prefix") or m.get("end_of_word_suffix"):
        raise Unsupported("tokenizer.json: BPE with byte_fallback or subword prefix/suffix is not byte-level BPE")

    def flat(node):
        if not node:
            return []
        return [x for n in node.get("pretokenizers") or node.get("decoders") or node.get("normalizers") or []
                for x in flat(n)] if node.get("type") == "Sequence" else [node]

    pre = flat(tj.get("pre_tokenizer"))
    if not any(p["type"] == "ByteLevel" for p in pre):
        raise Unsupported("tokenizer.json: no ByteLevel pre-tokenizer (not a byte-level BPE tokenizer)")
    for p in pre:
        if p["type"] == "Split" and (p.get("behavior") != "Isolated" or p.get("invert")):
            raise Unsupported(f"tokenizer.json: Split behavior {p.get('behavior')!r} (invert={p.get('invert')}) "
                              "is not supported (Isolated only)")
        if p["type"] not in ("ByteLevel", "Split", "Digits"):
            raise Unsupported(f"tokenizer.json: pre-tokenizer {p['type']} is not supported")
    norms = flat(tj.get("normalizer"))
    if any(n["type"] != "NFC" for n in norms):
        raise Unsupported(f"tokenizer.json: normalizer {[n['type'] for n in norms]} is not supported (none or NFC)")
    if not any(d["type"] == "ByteLevel" for d in flat(tj.get("decoder"))):
        raise Unsupported("tokenizer.json: decoder is not ByteLevel")


def check_config(c):
    if c.model_type == "gpt2":
        if getattr(c, "add_cross_attention", False) or getattr(c, "scale_attn_by_inverse_layer_idx", False) \
                or not getattr(c, "scale_attn_weights", True):
            raise Unsupported("gpt2 variant with cross-attention or non-default attention scaling is not supported")
        return
    if c.model_type not in LLAMA_TYPES:
        raise Unsupported(f"architecture {c.model_type!r} is not supported (gpt2, llama, qwen2)")
    if getattr(c, "use_sliding_window", False):
        raise Unsupported("sliding-window attention is not supported")
    rope = getattr(c, "rope_parameters", None) or getattr(c, "rope_scaling", None) or {}
    if rope.get("rope_type", rope.get("type", "default")) not in STATIC_ROPE:
        raise Unsupported(f"rope type {rope.get('rope_type')!r} is not supported ({', '.join(sorted(STATIC_ROPE))})")


# ---------------------------------------------------------------- export

def _ids(value) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in (value if isinstance(value, list | tuple) else [value])]


def load_tokenizer(src: Path):
    """transformers' fast tokenizer over tokenizer.json, with the chat template and special tokens of the checkpoint."""
    from transformers import PreTrainedTokenizerFast
    cfg_path = src / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}

    def text(v):
        return v.get("content") if isinstance(v, dict) else v

    specials = {k: text(cfg[k]) for k in ("bos_token", "eos_token", "pad_token", "unk_token") if cfg.get(k)}
    tok = PreTrainedTokenizerFast(tokenizer_file=str(src / "tokenizer.json"), **specials)
    template = cfg.get("chat_template")
    if isinstance(template, list):  # named templates: the default one
        template = next((t["template"] for t in template if t.get("name") == "default"), None)
    if (src / "chat_template.jinja").exists():
        template = (src / "chat_template.jinja").read_text()
    tok.chat_template = template or None
    return tok


SENT = {"system": "\u2063SYS\u2063", "user": "\u2063USR\u2063", "assistant": "\u2063AST\u2063"}


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def prompt_format(tok, add_bos: bool) -> dict:
    """Per-role prefix/suffix strings and the generation prompt, from the chat template (sentinel contents)."""
    bos = tok.bos_token or ""
    if not tok.chat_template:
        return {"source": "plain", "begin": bos if add_bos else "",
                "roles": {"system": {"prefix": "System: ", "suffix": "\n"},
                          "user": {"prefix": "User: ", "suffix": "\n"},
                          "assistant": {"prefix": "Assistant: ", "suffix": "\n"}},
                "generation_prompt": "Assistant:", "stop": ["\nUser:", "\nSystem:"], "trim_content": False}
    s, u, a = SENT["system"], SENT["user"], SENT["assistant"]
    conv = [{"role": "system", "content": s}, {"role": "user", "content": u + "1"},
            {"role": "assistant", "content": a + "1"}, {"role": "user", "content": u + "2"},
            {"role": "assistant", "content": a + "2"}]

    def render(msgs, gen):
        try:
            return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)
        except Exception as e:  # noqa: BLE001 - a template error is the checkpoint's, reported as a refusal
            raise Unsupported(f"chat template cannot render a system/user/assistant conversation: {e}") from e

    full, gen = render(conv, False), render(conv[:2], True)
    cut = [s, u + "1", a + "1", u + "2", a + "2"]
    parts, rest = [], full
    for c in cut:
        if rest.count(c) != 1:
            raise Unsupported("chat template does not place each message's content verbatim")
        head, rest = rest.split(c)
        parts.append(head)
    start, after_s, after_u1, after_a1, after_u2, after_a2 = *parts, rest
    if after_u1 != after_u2:
        raise Unsupported("chat template formats user turns differently")
    gen_tail = gen.split(u + "1", 1)[1]
    user_end = render(conv[:2], False).split(u + "1", 1)[1]
    u_suffix = _common_prefix(after_u1, user_end) if user_end else _common_prefix(after_u1, gen_tail)
    a_suffix = _common_prefix(after_a1, after_a2) if after_a2 else ""
    u_prefix = after_a1[len(a_suffix):]
    if not after_s.endswith(u_prefix):
        raise Unsupported("chat template: the system turn is not followed by the user prefix")
    begin = bos if bos and start.startswith(bos) else ""
    fmt = {"source": "chat_template", "begin": begin,
           "roles": {"system": {"prefix": start[len(begin):], "suffix": after_s[:len(after_s) - len(u_prefix)]},
                     "user": {"prefix": u_prefix, "suffix": u_suffix},
                     "assistant": {"prefix": after_u1[len(u_suffix):], "suffix": a_suffix}},
           "generation_prompt": gen_tail[len(u_suffix):],
           "stop": [a_suffix.strip()] if a_suffix.strip() else [],
           "trim_content": False}
    # Some templates (Llama 3) trim each message's content; the server must do the same.
    padded = [{**m, "content": f" \n{m['content']} \n"} for m in conv]
    fmt["trim_content"] = render(padded, False) == full
    if format_chat(fmt, conv) != full or format_chat(fmt, conv[:2], True) != gen:
        raise Unsupported("chat template is not a fixed per-role format (derived prefixes do not reproduce it)")
    return fmt


def format_chat(fmt: dict, msgs: list, gen: bool = False) -> str:
    r = fmt["roles"]
    trim = fmt.get("trim_content", False)
    body = "".join(r[m["role"]]["prefix"] + (m["content"].strip() if trim else m["content"]) + r[m["role"]]["suffix"]
                   for m in msgs)
    return fmt["begin"] + body + (fmt["generation_prompt"] if gen else "")


def export_lm(src: Path, tmp: Path, max_positions: int | None) -> dict:
    """Writes model.onnx, tokenizer.json and manifest.json into `tmp`; returns the done-line fields."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    if not (src / "config.json").exists():
        raise FileNotFoundError(f"--from {src}: no config.json (is it a Hugging Face checkpoint directory?)")
    if not (src / "tokenizer.json").exists():
        raise Unsupported(f"--from {src}: no tokenizer.json (only fast byte-level BPE tokenizers are supported)")
    tj = json.loads((src / "tokenizer.json").read_text())
    check_tokenizer(tj)
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    cfg = AutoConfig.from_pretrained(str(src), local_files_only=True)
    check_config(cfg)
    hf = AutoModelForCausalLM.from_pretrained(str(src), local_files_only=True, dtype=torch.float32).eval()
    graph = build_graph(hf)
    layers = len(hf.transformer.h if graph.gpt2 else hf.model.layers)
    limit = int(cfg.n_positions if graph.gpt2 else cfg.max_position_embeddings)
    if max_positions is not None and not 1 < max_positions <= limit:
        raise ConfigError(f"--max-positions {max_positions}: must be in 2..{limit} (the model's limit)")
    tok = load_tokenizer(src)
    add_bos = bool(tok.bos_token_id is not None and
                   tok("a", add_special_tokens=True)["input_ids"][:1] == [tok.bos_token_id] and
                   tok("a", add_special_tokens=False)["input_ids"][:1] != [tok.bos_token_id])
    fmt = prompt_format(tok, add_bos)

    export_graph(graph, tmp / "model.onnx", layers)
    shutil.copyfile(src / "tokenizer.json", tmp / "tokenizer.json")
    prompt = tok(format_chat(fmt, [{"role": "user", "content": "Hello, where is my order?"}], True),
                 add_special_tokens=False)["input_ids"]
    ref_ids, ref_logits = torch_greedy(hf, prompt, 4)
    ids, logits = onnx_greedy(export.session(tmp / "model.onnx"), prompt, 4, graph.kv_heads, graph.head_dim, layers)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ref_logits, logits, strict=True))
    scale = max(1.0, max(float(np.abs(a).max()) for a in ref_logits))
    if diff > 5e-3 * scale or ids != ref_ids:
        raise RuntimeError(f"exported graph disagrees with PyTorch: max |logit diff| {diff:.3g}, "
                           f"ids {ids} vs {ref_ids}")

    gen_path = src / "generation_config.json"
    gen_eos = json.loads(gen_path.read_text()).get("eos_token_id") if gen_path.exists() else None
    eos = sorted(set(_ids(cfg.eos_token_id) + _ids(gen_eos) + _ids(tok.eos_token_id)
                     + [i for i in (tok.convert_tokens_to_ids(t) for t in fmt["stop"]) if i is not None
                        and i != tok.unk_token_id and tok.convert_ids_to_tokens(i) in fmt["stop"]]))
    lm = {"architecture": "gpt2" if graph.gpt2 else "llama", "model_type": cfg.model_type, "layers": layers,
          "heads": graph.heads, "kv_heads": graph.kv_heads, "head_dim": graph.head_dim,
          "vocab_size": int(hf.lm_head.out_features), "max_positions": max_positions or limit,
          "bos_token_id": tok.bos_token_id if tok.bos_token_id is not None else _first(cfg.bos_token_id),
          "eos_token_ids": eos,
          "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else _first(cfg.pad_token_id),
          "parameters": sum(p.numel() for p in hf.parameters())}
    inputs, outputs = export.io(tmp / "model.onnx")
    man = manifest.build("reply-lm", tmp, inputs=inputs, outputs=outputs, hyperparameters={},
                         metrics={"parity_max_abs_logit_diff": diff}, data_sha256={},
                         files={"tokenizer": "tokenizer.json"}, seed=0, lm=lm, prompt_format=fmt,
                         source={"config_sha256": manifest.sha256_file(src / "config.json")})
    manifest.write(tmp, man)
    return {"lm": lm, "metrics": man["metrics"]}


def _first(v):
    ids = _ids(v)
    return ids[0] if ids else None
