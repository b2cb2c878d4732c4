"""Reading a Hugging Face T5 directory (config.json, weights, spiece.model) into our encoder.

Weights: model.safetensors, pytorch_model.bin (read with weights_only=True), or either one
sharded with its *.index.json. Encoder-only (T5EncoderModel) and full seq2seq
(T5ForConditionalGeneration) checkpoints both load: decoder.* and lm_head.* are dropped, every
other key must match the encoder exactly.
"""
import json
import os
from typing import Dict, Tuple

import torch
from torch import Tensor

from .checkpoint import CheckpointError, read_state_dict
from .t5 import T5Config, T5Encoder

SPIECE = "spiece.model"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
DEFAULT_EXTRA_IDS = 100  # sentinel tokens <extra_id_0..99> that HF appends to the vocabulary


def _json(path: str) -> dict:
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        raise CheckpointError("cannot read %s: %s" % (path, e)) from e


def weight_files(t5_dir: str) -> Tuple[str, ...]:
    """The weight file(s) of a HF directory, safetensors preferred."""
    for name in WEIGHT_FILES:
        index = os.path.join(t5_dir, name + ".index.json")
        if os.path.isfile(index):
            shards = sorted(set(_json(index).get("weight_map", {}).values()))
            if not shards:
                raise CheckpointError("%s lists no shards" % index)
            return tuple(os.path.join(t5_dir, s) for s in shards)
        if os.path.isfile(os.path.join(t5_dir, name)):
            return (os.path.join(t5_dir, name),)
    raise CheckpointError("%s has no T5 weights (expected %s, or a sharded *.index.json)"
                          % (t5_dir, " or ".join(WEIGHT_FILES)))


def read_t5_dir(t5_dir: str) -> Tuple[T5Config, Dict[str, Tensor], int]:
    """(config, encoder state dict, number of sentinel ids) from a HF T5 directory."""
    if not os.path.isdir(t5_dir):
        raise CheckpointError("T5 directory not found: %s" % t5_dir)
    for required in ("config.json", SPIECE):
        if not os.path.isfile(os.path.join(t5_dir, required)):
            raise CheckpointError("%s has no %s (a Hugging Face T5 directory holds config.json, the weights "
                                  "and spiece.model)" % (t5_dir, required))
    try:
        config = T5Config.from_hf(_json(os.path.join(t5_dir, "config.json")))
    except ValueError as e:
        raise CheckpointError("%s/config.json: %s" % (t5_dir, e)) from e
    state: Dict[str, Tensor] = {}
    for path in weight_files(t5_dir):
        state.update(read_state_dict(path))
    extra_ids = DEFAULT_EXTRA_IDS
    tok_config = os.path.join(t5_dir, "tokenizer_config.json")
    if os.path.isfile(tok_config):
        extra_ids = int(_json(tok_config).get("extra_ids", DEFAULT_EXTRA_IDS))
    return config, encoder_state_dict(state, t5_dir), extra_ids


def encoder_state_dict(state: Dict[str, Tensor], where: str) -> Dict[str, Tensor]:
    """The encoder's keys; the tied embedding may be stored as shared.weight or encoder.embed_tokens.weight."""
    out = {k: v for k, v in state.items() if k == "shared.weight" or k.startswith("encoder.")}
    unknown = [k for k in state if k not in out and not k.startswith(("decoder.", "lm_head."))]
    if unknown:
        raise CheckpointError("%s: keys that are not part of a T5 model: %s" % (where, ", ".join(sorted(unknown)[:8])))
    tied = out.pop("encoder.embed_tokens.weight", None)
    if "shared.weight" not in out:
        if tied is None:
            raise CheckpointError("%s: no token embedding (shared.weight or encoder.embed_tokens.weight)" % where)
        out["shared.weight"] = tied
    return out


def load_t5(t5_dir: str) -> Tuple[T5Encoder, T5Config, int]:
    """Our encoder with the directory's weights loaded strictly (float32), its config and sentinel count."""
    config, state, extra_ids = read_t5_dir(t5_dir)
    model = T5Encoder(config)
    missing, unexpected = set(model.state_dict()) - set(state), set(state) - set(model.state_dict())
    if missing or unexpected:
        raise CheckpointError("%s does not match a T5 encoder with %d layers: missing %s; unexpected %s"
                              % (t5_dir, config.num_layers, ", ".join(sorted(missing)[:8]) or "none",
                                 ", ".join(sorted(unexpected)[:8]) or "none"))
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as e:  # shape mismatches
        raise CheckpointError("%s: %s" % (t5_dir, str(e).strip().splitlines()[-1].strip())) from e
    return model.eval(), config, extra_ids
