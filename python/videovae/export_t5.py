"""The text part of a bundle: the scripted T5 encoder (t5_encoder.pt) and its SentencePiece
model (spiece_model, copied as is), plus the manifest section that describes them.

The C++ tokenizer reproduces the Hugging Face T5 tokenizer from spiece.model and the numbers
recorded here: special ids, sentinel count, max length.
"""
import os
import shutil
import warnings
from dataclasses import dataclass
from typing import Dict

import torch

from .checkpoint import CheckpointError, sha256_file
from .config import TEXT_MAX_LENGTH
from .t5 import T5Config, T5Encoder
from .t5_checkpoint import SPIECE, load_t5, weight_files

T5_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}
T5_FILES = ("t5_encoder", "spiece_model")
PAD_ID, EOS_ID, UNK_ID = 0, 1, 2  # the T5 vocabulary's fixed special ids


@dataclass
class T5Export:
    model: T5Encoder
    config: T5Config
    dtype: str
    extra_ids: int
    spiece: str
    source_sha256: Dict[str, str]


def _check_spiece(path: str, config: T5Config, extra_ids: int) -> None:
    import sentencepiece as spm
    try:
        sp = spm.SentencePieceProcessor(model_file=path)
    except (OSError, RuntimeError) as e:
        raise CheckpointError("cannot read %s as a SentencePiece model: %s" % (path, e)) from e
    ids = (sp.pad_id(), sp.eos_id(), sp.unk_id())
    if ids != (PAD_ID, EOS_ID, UNK_ID):
        raise CheckpointError("%s is not a T5 vocabulary: pad/eos/unk ids are %s, expected (0, 1, 2)" % (path, ids))
    if sp.get_piece_size() + extra_ids > config.vocab_size:
        raise CheckpointError("%s has %d pieces + %d sentinels, more than the model's vocab_size %d"
                              % (path, sp.get_piece_size(), extra_ids, config.vocab_size))


def prepare_t5(t5_dir: str, dtype: str = "bfloat16") -> T5Export:
    """Loads and checks a HF T5 directory and casts the encoder to the compute dtype."""
    if dtype not in T5_DTYPES:
        raise ValueError("t5 dtype must be bfloat16 or float32, got %r" % (dtype,))
    model, config, extra_ids = load_t5(t5_dir)
    spiece = os.path.join(t5_dir, SPIECE)
    _check_spiece(spiece, config, extra_ids)
    sources = {os.path.basename(p): sha256_file(p) for p in weight_files(t5_dir)}
    model.to_compute_dtype(T5_DTYPES[dtype])
    return T5Export(model, config, dtype, extra_ids, spiece, sources)


def write_t5_files(t5: T5Export, bundle_tmp: str) -> Dict[str, Dict[str, str]]:
    """Writes t5_encoder.pt and spiece.model into a bundle being assembled; returns files entries."""
    encoder = os.path.join(bundle_tmp, "t5_encoder.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript deprecation notice
        torch.jit.save(torch.jit.script(t5.model), encoder)
    spiece = os.path.join(bundle_tmp, SPIECE)
    shutil.copyfile(t5.spiece, spiece)
    return {"t5_encoder": {"path": "t5_encoder.pt", "sha256": sha256_file(encoder)},
            "spiece_model": {"path": SPIECE, "sha256": sha256_file(spiece)}}


def t5_manifest(t5: T5Export) -> Dict[str, object]:
    c = t5.config
    return {
        "architecture": "t5-v1.1-encoder",
        "dtype": t5.dtype,
        "d_model": c.d_model,
        "num_layers": c.num_layers,
        "num_heads": c.num_heads,
        "d_kv": c.d_kv,
        "d_ff": c.d_ff,
        "vocab_size": c.vocab_size,
        "max_length": TEXT_MAX_LENGTH,
        "pad_id": PAD_ID,
        "eos_id": EOS_ID,
        "unk_id": UNK_ID,
        "extra_ids": t5.extra_ids,
        "source_sha256": t5.source_sha256,
    }


def check_width(t5: T5Export, text_dim: int) -> None:
    if t5.config.d_model != text_dim:
        raise CheckpointError("the T5 encoder is %d wide (d_model) but the VAE's text width is %d: use a T5 of width "
                              "%d (flan-t5-large for the released models)" % (t5.config.d_model, text_dim, text_dim))
