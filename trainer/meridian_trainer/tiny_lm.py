"""make-tiny-lm: a tiny, randomly initialised causal-LM checkpoint for mechanical tests.

It writes what a Hugging Face checkpoint directory holds (config.json, model.safetensors,
tokenizer.json, tokenizer_config.json with a chat template), so export-lm reads it like real
weights. The byte-level BPE tokenizer is trained here on a few built-in sentences; the model's
weights are random, so it writes gibberish: it exists to test export and serving, not replies.
"""

import json
from pathlib import Path

CORPUS = [
    "Hello! How can I help you today?",
    "Your order has shipped and should arrive within three to five business days.",
    "I am sorry to hear that the parcel arrived damaged; we will send a replacement.",
    "You can return any item within 30 days for a full refund.",
    "Please share your order number so I can look it up.",
    "The store opens at 9:00 and closes at 18:30, Monday to Saturday.",
    "Thanks for your patience. Is there anything else I can do for you?",
    "Café, naïve, façade: accents are words too. Ünïcödé and emoji 🙂 also appear.",
    "价格 and 配送 are common words in orders from our partners.",
    "Delivery fees are waived on orders over $50.\nTracking updates every hour.",
]

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# The Split pattern Qwen2 and Llama 3 tokenizers carry (with an inline (?i:...) group).
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def train_tokenizer(arch: str, vocab_size: int = 400):
    """GPT-2 style (ByteLevel with its own regex) for gpt2; Split + ByteLevel(use_regex=False) for llama."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    if arch == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def model_config(arch: str, vocab: int, ids: dict):
    if arch == "gpt2":
        from transformers import GPT2Config
        return GPT2Config(vocab_size=vocab, n_positions=128, n_embd=64, n_layer=2, n_head=4,
                          initializer_range=0.1, **ids)
    from transformers import LlamaConfig, Qwen2Config
    cls = Qwen2Config if arch == "qwen2" else LlamaConfig
    # 4 query heads over 2 KV heads: grouped-query attention, like SmolLM / Qwen2.
    return cls(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
               tie_word_embeddings=False, initializer_range=0.1, **ids)


def make(out: Path, arch: str, seed: int) -> dict:
    """Writes the checkpoint into `out` (an existing empty directory). `arch`: gpt2, llama or qwen2."""
    import torch
    from transformers import AutoModelForCausalLM
    tok = train_tokenizer(arch)
    eos, bos = tok.token_to_id("<|endoftext|>"), tok.token_to_id("<|endoftext|>")
    ids = {"eos_token_id": eos, "bos_token_id": bos, "pad_token_id": eos}
    cfg = model_config(arch, tok.get_vocab_size(), ids)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg).eval()
    model.save_pretrained(str(out))
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>", "chat_template": CHAT_TEMPLATE, "model_max_length": 128,
    }, indent=2) + "\n")
    params = sum(p.numel() for p in model.parameters())
    return {"checkpoint": str(out), "architecture": arch, "parameters": params, "vocab_size": tok.get_vocab_size()}
