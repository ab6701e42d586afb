"""CLI: python -m meridian_trainer {train,evaluate,hyperparameters,export-lm,make-tiny-lm} ... (see README.md).

stdout carries only JSON lines (report.py); logs go to stderr. Exit codes: 0 done,
2 bad input (config, snapshot, artifact), 1 unexpected error, 143 terminated by signal.
"""

import argparse
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from . import data, hparams, manifest
from .report import claim_stdout, emit


class Terminated(Exception):
    pass


KINDS = {"next-item": "train_nextitem", "behavior": "train_behavior", "sentiment": "train_text", "intent": "train_text"}


def module(kind: str):
    # Imported on demand: the text module pulls in transformers, which is slow to import.
    return importlib.import_module(f"meridian_trainer.{KINDS[kind]}")


def hyperparameter_spec() -> dict:
    return {k: hparams.spec(module(k).config_class(k)) for k in KINDS}


def _setup_torch(seed: int):
    import numpy as np
    import torch
    torch.set_num_threads(int(os.environ.get("MERIDIAN_TRAINER_THREADS", "2")))
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(seed)
    np.random.seed(seed)


def cmd_train(args) -> dict:
    mod = module(args.kind)
    snap, out = Path(args.data).resolve(), Path(args.out).resolve()
    if not snap.is_dir():
        raise data.SnapshotError(f"--data {snap}: not a directory")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise hparams.ConfigError(f"--out {out}: exists and is not empty")
    overrides = hparams.load_config_arg(args.config)
    base, base_hp = None, None
    if args.base:
        base = Path(args.base).resolve()
        bm = manifest.read(base)
        if bm["kind"] != args.kind:
            raise hparams.ConfigError(f"--base is a {bm['kind']} artifact, not {args.kind}")
        base_hp = bm["hyperparameters"]
    Config = mod.config_class(args.kind)
    cfg = hparams.parse(Config, overrides, base=base_hp)
    if base_hp is not None:
        diff = [k for k in hparams.arch_keys(Config) if k in base_hp and base_hp[k] != getattr(cfg, k)]
        if diff:
            raise hparams.ConfigError(f"architecture differs from the base artifact in {', '.join(diff)}: "
                                      "fine-tuning needs the same architecture (omit --base to train from scratch)")
    _setup_torch(args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        result = mod.train(cfg, snap, tmp, base, args.seed, kind=args.kind)
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        os.rename(tmp, out)  # atomic: readers see no artifact or a complete one
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {"artifact": str(out), "metrics": result}


def cmd_evaluate(args) -> dict:
    mod = module(args.kind)
    art, snap = Path(args.model).resolve(), Path(args.data).resolve()
    man = manifest.read(art)
    if man["kind"] != args.kind:
        raise hparams.ConfigError(f"--model is a {man['kind']} artifact, not {args.kind}")
    if not snap.is_dir():
        raise data.SnapshotError(f"--data {snap}: not a directory")
    _setup_torch(args.seed)
    return {"artifact": str(art), "version": man["version"],
            "metrics": mod.evaluate(art, snap, hparams.load_config_arg(args.config), args.seed, kind=args.kind)}


def _atomic_dir(out_arg: str, write) -> Path:
    """Runs write(tmp) in a hidden temp dir beside `out` and renames it to `out` (which must not exist or be empty)."""
    out = Path(out_arg).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise hparams.ConfigError(f"--out {out}: exists and is not empty")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        write(tmp)
        if out.exists():
            out.rmdir()
        os.chmod(tmp, 0o755)
        os.rename(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def cmd_export_lm(args) -> dict:
    from . import export_lm
    src = Path(args.src).resolve()
    if not src.is_dir():
        raise FileNotFoundError(f"--from {src}: not a directory")
    _setup_torch(0)
    result = {}
    out = _atomic_dir(args.out, lambda tmp: result.update(export_lm.export_lm(src, tmp, args.max_positions)))
    return {"artifact": str(out), **result}


def cmd_make_tiny_lm(args) -> dict:
    from . import tiny_lm
    _setup_torch(args.seed)
    result = {}
    out = _atomic_dir(args.out, lambda tmp: result.update(tiny_lm.make(tmp, args.arch, args.seed)))
    return {**result, "checkpoint": str(out)}


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "export-lm": cmd_export_lm, "make-tiny-lm": cmd_make_tiny_lm}


class Parser(argparse.ArgumentParser):
    """Usage errors end like every other failure: usage on stderr, an `error` line, exit 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        emit("error", message=f"{self.prog}: {message}")
        sys.exit(2)


def main(argv=None) -> int:
    p = Parser(prog="python -m meridian_trainer")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train (or fine-tune with --base) and write an artifact directory")
    t.add_argument("--kind", required=True, choices=list(KINDS))
    t.add_argument("--data", required=True, help="snapshot directory")
    t.add_argument("--out", required=True, help="artifact directory to create (must not exist or be empty)")
    t.add_argument("--base", help="artifact directory to fine-tune from")
    t.add_argument("--config", help="hyperparameters: inline JSON object or a JSON file path")
    t.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("evaluate", help="evaluate an artifact on the held-out split of a snapshot")
    e.add_argument("--kind", required=True, choices=list(KINDS))
    e.add_argument("--model", required=True, help="artifact directory")
    e.add_argument("--data", required=True, help="snapshot directory")
    e.add_argument("--config", help="evaluation overrides (e.g. eval_protocol); defaults come from the manifest")
    e.add_argument("--seed", type=int, default=0,
                   help="split / negative-sampling seed; use the same for models you compare")
    x = sub.add_parser("export-lm", help="export a local Hugging Face causal-LM checkpoint to ONNX with a KV cache")
    x.add_argument("--from", dest="src", required=True,
                   help="checkpoint directory (config.json, weights, tokenizer.json)")
    x.add_argument("--out", required=True, help="artifact directory to create (must not exist or be empty)")
    x.add_argument("--max-positions", type=int, help="cap on prompt + reply tokens (default: the model's limit)")
    m = sub.add_parser("make-tiny-lm", help="write a tiny randomly initialised checkpoint (tests only: gibberish)")
    m.add_argument("--out", required=True, help="checkpoint directory to create (must not exist or be empty)")
    m.add_argument("--arch", required=True, choices=["gpt2", "llama"])
    m.add_argument("--seed", type=int, default=0)
    h = sub.add_parser("hyperparameters", help="print the allowed hyperparameters of every kind as JSON")
    h.add_argument("--write", help="write to this file instead of stdout")
    args = p.parse_args(argv)

    if args.cmd == "hyperparameters":
        text = json.dumps(hyperparameter_spec(), indent=2) + "\n"
        if args.write:
            Path(args.write).write_text(text)
        else:
            sys.stdout.write(text)
        return 0

    claim_stdout()

    def on_signal(signum, frame):
        raise Terminated(f"terminated by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        result = COMMANDS[args.cmd](args)
    except Terminated as e:
        emit("error", message=str(e))
        # Skip interpreter teardown (freeing big tensors, joining thread pools can take a
        # minute on a loaded machine): the temp dir is already gone and stdout is flushed.
        sys.stderr.flush()
        os._exit(143)
    except (hparams.ConfigError, data.SnapshotError, FileNotFoundError) as e:
        emit("error", message=str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - the job runner needs a message, stderr gets the trace
        traceback.print_exc()
        emit("error", message=f"{type(e).__name__}: {e}")
        return 1
    emit("done", **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
