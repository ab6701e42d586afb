"""export-lm / make-tiny-lm: tiny random checkpoints exported with a KV cache match PyTorch step by step."""

import json
import shutil

import numpy as np
import pytest

from conftest import run_cli
from meridian_trainer import export, export_lm, manifest, tiny_lm

STEPS = 8


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def exported(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"lm-{request.param}")
    rc, lines, err = run_cli("make-tiny-lm", "--out", base / "ckpt", "--arch", request.param, "--seed", "3")
    assert rc == 0, err[-2000:]
    assert lines[-1]["parameters"] < 1_000_000
    rc, lines, err = run_cli("export-lm", "--from", base / "ckpt", "--out", base / "art", "--max-positions", "96")
    assert rc == 0, err[-2000:]
    assert lines[-1]["event"] == "done" and lines[-1]["artifact"] == str(base / "art")
    return request.param, base / "ckpt", base / "art"


def _hf(ckpt):
    import torch
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(str(ckpt), local_files_only=True, dtype=torch.float32).eval()


def _greedy_parity(ckpt, art, prompt):
    m = manifest.read(art)["lm"]
    ref_ids, ref_logits = export_lm.torch_greedy(_hf(ckpt), prompt, STEPS)
    ids, logits = export_lm.onnx_greedy(export.session(art / "model.onnx"), prompt, STEPS,
                                        m["kv_heads"], m["head_dim"], m["layers"])
    assert ids == ref_ids
    for a, b in zip(ref_logits, logits, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-4, rtol=0)


def test_kv_cache_greedy_steps_match_pytorch(exported):
    _, ckpt, art = exported
    tok = export_lm.load_tokenizer(ckpt)
    _greedy_parity(ckpt, art, tok("Where is my parcel? It was due on Monday.")["input_ids"])


def test_prefill_in_chunks_equals_one_prefill(exported):
    _, _, art = exported
    m = manifest.read(art)["lm"]
    sess = export.session(art / "model.onnx")
    ins, _ = export_lm.io_names(m["layers"])
    ids = [5, 17, 42, 99, 7, 3, 250]
    empty = {n: np.zeros((1, m["kv_heads"], 0, m["head_dim"]), np.float32) for n in ins[3:]}

    def run(chunk, pos, past):
        t = len(chunk)
        out = sess.run(None, {"input_ids": np.array([chunk], np.int64),
                              "attention_mask": np.ones((1, pos + t), np.int64),
                              "position_ids": np.arange(pos, pos + t, dtype=np.int64)[None], **past})
        return out[0], dict(zip(ins[3:], out[1:], strict=True))

    whole, _ = run(ids, 0, empty)
    first, past = run(ids[:4], 0, empty)
    second, _ = run(ids[4:], 4, past)
    np.testing.assert_allclose(np.concatenate([first, second], 1), whole, atol=1e-5)


def test_manifest_and_files(exported):
    arch, ckpt, art = exported
    man = manifest.read(art)
    assert man["kind"] == "reply-lm"
    lm = man["lm"]
    assert lm["architecture"] == arch and lm["layers"] == 2 and lm["heads"] == 4 and lm["head_dim"] == 16
    assert lm["kv_heads"] == (4 if arch == "gpt2" else 2)
    assert lm["max_positions"] == 96 and lm["vocab_size"] == 400
    assert lm["eos_token_ids"] and lm["bos_token_id"] is not None
    assert sorted(p.name for p in art.iterdir()) == ["manifest.json", "model.onnx", "tokenizer.json"]
    assert man["model"]["sha256"] == manifest.sha256_file(art / "model.onnx")
    assert man["files"]["tokenizer"]["sha256"] == manifest.sha256_file(ckpt / "tokenizer.json")
    names = [i["name"] for i in man["inputs"]]
    assert names[:3] == ["input_ids", "attention_mask", "position_ids"] and "past_key_values.1.value" in names
    assert [o["name"] for o in man["outputs"]][:2] == ["logits", "present.0.key"]
    if arch == "gpt2":  # tied head: the embedding matrix is stored once
        import onnx
        shapes = [list(i.dims) for i in onnx.load(str(art / "model.onnx")).graph.initializer]
        assert shapes.count([400, 64]) == 1 and [64, 400] not in shapes


def test_prompt_format_reproduces_the_chat_template(exported):
    _, ckpt, art = exported
    fmt = manifest.read(art)["prompt_format"]
    assert fmt["source"] == "chat_template" and fmt["stop"] == ["<|im_end|>"]
    tok = export_lm.load_tokenizer(ckpt)
    conv = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Where is my order?"}]
    expected = tok.apply_chat_template(conv, tokenize=False, add_generation_prompt=True)
    assert export_lm.format_chat(fmt, conv, True) == expected
    assert tok.convert_tokens_to_ids("<|im_end|>") in manifest.read(art)["lm"]["eos_token_ids"]


def test_plain_prompt_format_without_a_chat_template(exported, tmp_path):
    _, ckpt, _ = exported
    shutil.copytree(ckpt, tmp_path / "ckpt")
    cfg = json.loads((tmp_path / "ckpt" / "tokenizer_config.json").read_text())
    del cfg["chat_template"]
    (tmp_path / "ckpt" / "tokenizer_config.json").write_text(json.dumps(cfg))
    rc, _, err = run_cli("export-lm", "--from", tmp_path / "ckpt", "--out", tmp_path / "art")
    assert rc == 0, err[-2000:]
    fmt = manifest.read(tmp_path / "art")["prompt_format"]
    assert fmt["source"] == "plain" and fmt["generation_prompt"] == "Assistant:"
    assert export_lm.format_chat(fmt, [{"role": "user", "content": "Hi"}], True) == "User: Hi\nAssistant:"


def test_qwen2_with_attention_biases(tmp_path):
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "art").mkdir()
    tiny_lm.make(tmp_path / "ckpt", "qwen2", seed=1)
    export_lm.export_lm(tmp_path / "ckpt", tmp_path / "art", None)
    assert manifest.read(tmp_path / "art")["lm"]["model_type"] == "qwen2"
    _greedy_parity(tmp_path / "ckpt", tmp_path / "art", [4, 8, 15, 16, 23, 42])


def _refused(tmp_path, ckpt, words):
    rc, lines, _ = run_cli("export-lm", "--from", ckpt, "--out", tmp_path / "out")
    assert rc == 2 and lines[-1]["event"] == "error", lines
    assert all(w in lines[-1]["message"] for w in words), lines[-1]["message"]
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]


@pytest.fixture(scope="module")
def gpt2_ckpt(tmp_path_factory):
    d = tmp_path_factory.mktemp("refuse") / "ckpt"
    rc, _, err = run_cli("make-tiny-lm", "--out", d, "--arch", "gpt2")
    assert rc == 0, err[-2000:]
    return d


def test_refuses_a_wordpiece_tokenizer(gpt2_ckpt, tmp_path):
    shutil.copytree(gpt2_ckpt, tmp_path / "ckpt")
    tj = json.loads((tmp_path / "ckpt" / "tokenizer.json").read_text())
    tj["model"] = {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0}}
    (tmp_path / "ckpt" / "tokenizer.json").write_text(json.dumps(tj))
    _refused(tmp_path, tmp_path / "ckpt", ["WordPiece", "not BPE"])


def test_refuses_a_metaspace_bpe_tokenizer(gpt2_ckpt, tmp_path):
    shutil.copytree(gpt2_ckpt, tmp_path / "ckpt")
    tj = json.loads((tmp_path / "ckpt" / "tokenizer.json").read_text())
    tj["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
    (tmp_path / "ckpt" / "tokenizer.json").write_text(json.dumps(tj))
    _refused(tmp_path, tmp_path / "ckpt", ["not a byte-level BPE"])


def test_refuses_an_unknown_architecture(gpt2_ckpt, tmp_path):
    shutil.copytree(gpt2_ckpt, tmp_path / "ckpt")
    cfg = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    cfg.update(model_type="gpt_neox", architectures=["GPTNeoXForCausalLM"])
    (tmp_path / "ckpt" / "config.json").write_text(json.dumps(cfg))
    _refused(tmp_path, tmp_path / "ckpt", ["gpt_neox", "not supported"])


def test_refuses_missing_tokenizer_bad_max_positions_and_nonempty_out(gpt2_ckpt, tmp_path):
    rc, lines, _ = run_cli("export-lm", "--from", gpt2_ckpt, "--out", tmp_path / "o", "--max-positions", "100000")
    assert rc == 2 and "--max-positions" in lines[-1]["message"]
    shutil.copytree(gpt2_ckpt, tmp_path / "ckpt")
    (tmp_path / "ckpt" / "tokenizer.json").unlink()
    _refused(tmp_path, tmp_path / "ckpt", ["tokenizer.json"])
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    rc, lines, _ = run_cli("export-lm", "--from", gpt2_ckpt, "--out", tmp_path / "full")
    assert rc == 2 and "not empty" in lines[-1]["message"] and (tmp_path / "full" / "x").read_text() == "keep"
    rc, lines, _ = run_cli("export-lm", "--from", tmp_path / "nope", "--out", tmp_path / "o2")
    assert rc == 2 and "not a directory" in lines[-1]["message"]


TEMPLATES = {
    # Llama 3 style: BOS from the template, header tokens, trimmed content.
    "llama3": ("{{- bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
               "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
               "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"),
    # SmolLM2 style: a default system message only when the conversation has none.
    "smol": ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
             "{{ '<|im_start|>system\nYou are a helpful AI assistant<|im_end|>\n' }}{% endif %}"
             "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
             "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"),
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_prompt_format_of_other_chat_templates(gpt2_ckpt, name):
    tok = export_lm.load_tokenizer(gpt2_ckpt)
    tok.chat_template = TEMPLATES[name]
    fmt = export_lm.prompt_format(tok, False)
    conv = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Where is my order?"}]
    assert export_lm.format_chat(fmt, conv, True) == tok.apply_chat_template(conv, tokenize=False,
                                                                             add_generation_prompt=True)
    assert fmt["stop"] == (["<|eot_id|>"] if name == "llama3" else ["<|im_end|>"])
    assert fmt["begin"] == ("<|endoftext|>" if name == "llama3" else "")
    assert fmt["trim_content"] == (name == "llama3")
    padded = [{**m, "content": f"  {m['content']}\n"} for m in conv]
    assert export_lm.format_chat(fmt, padded, True) == tok.apply_chat_template(padded, tokenize=False,
                                                                               add_generation_prompt=True)


def test_refuses_a_template_without_a_system_role(gpt2_ckpt):
    tok = export_lm.load_tokenizer(gpt2_ckpt)
    tok.chat_template = ("{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system') }}"
                         "{% endif %}[{{ m['role'] }}] {{ m['content'] }}{% endfor %}")
    with pytest.raises(export_lm.Unsupported, match="cannot render"):
        export_lm.prompt_format(tok, False)
