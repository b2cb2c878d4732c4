"""Grow a trained checkpoint into a wider config without changing what it computes.

    PYTHONPATH=python python -m training.widen --checkpoint .cache/train-gn4/checkpoint.pt \\
        --config small-gn4-t48 --out .cache/widened.pt
    then: python -m training.train --out DIR --config small-gn4-t48 --resume --init-checkpoint .cache/widened.pt

Every old weight keeps its place in the leading slice of the wider tensor. The new channels get
the fresh initialisation of the wider model for what they read, and zeros wherever an old
channel would read a new one (conv input columns; rows of a transposed conv, whose weight is
[in, out, ...]), so the old outputs are unchanged while gradients reach the new weights at once.
GroupNorm must keep its old groups: the target config has 4 channels per group without the
32-group limit (norm_group_limit 0), so new channels only ever form new groups. Adam moments of
the old entries are kept, zeros for the new ones; the train CLI then warms the LR up again.
"""
import argparse
import sys
from typing import Dict

import torch
from torch import Tensor, nn

from .train import CHECKPOINT_FORMAT, build_model, load_checkpoint, make_optimizer, settings_from_dict

ROWS_READ_INPUT = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _input_dim(model: nn.Module) -> Dict[str, int]:
    """Parameter name -> the dim that indexes the channels it reads (weights of 2+ dims)."""
    dims = {}
    for mname, module in model.named_modules():
        w = getattr(module, "weight", None)
        if isinstance(w, nn.Parameter) and w.dim() >= 2:
            dims[(mname + "." if mname else "") + "weight"] = 0 if isinstance(module, ROWS_READ_INPUT) else 1
    return dims


def widen_tensor(old: Tensor, fresh: Tensor, input_dim: int = -1) -> Tensor:
    """`fresh` with `old` in its leading slice; new inputs of old outputs zeroed (input_dim >= 0)."""
    if any(o > n for o, n in zip(old.shape, fresh.shape)) or old.dim() != fresh.dim():
        raise ValueError("cannot widen %s into %s" % (tuple(old.shape), tuple(fresh.shape)))
    out = fresh.detach().clone()
    out[tuple(slice(0, n) for n in old.shape)] = old
    if input_dim >= 0 and fresh.shape[input_dim] > old.shape[input_dim]:
        output_dim = 1 - input_dim
        index = [slice(None)] * fresh.dim()
        index[output_dim] = slice(0, old.shape[output_dim])
        index[input_dim] = slice(old.shape[input_dim], None)
        out[tuple(index)] = 0
    return out


def widen_checkpoint(ck: Dict, config_name: str, seed: int = 0) -> Dict:
    """A training checkpoint of `config_name` computing what `ck` computes (see the module doc)."""
    model = build_model(config_name, seed=seed)
    dims = _input_dim(model)
    fresh = model.state_dict()
    if set(fresh) != set(ck["model"]):
        raise ValueError("configs %s and %s do not have the same layers" % (ck["config"], config_name))
    old_norms = {n: m for n, m in build_model(ck["config"]).named_modules() if isinstance(m, nn.GroupNorm)}
    for name, m in model.named_modules():  # new channels must form whole new groups
        if isinstance(m, nn.GroupNorm):
            o = old_norms[name]
            if o.num_channels * m.num_groups != m.num_channels * o.num_groups:
                raise ValueError("GroupNorm %s: %d channels in %d groups cannot grow to %d in %d without changing "
                                 "what it computes" % (name, o.num_channels, o.num_groups, m.num_channels, m.num_groups))
    widened = {k: widen_tensor(ck["model"][k], v, dims.get(k, -1)) for k, v in fresh.items()}
    model.load_state_dict(widened, strict=True)
    optimizer = None
    if ck.get("optimizer") is not None:
        opt = make_optimizer(model, settings_from_dict(ck["settings"]))
        state = ck["optimizer"]
        params = list(model.parameters())  # optimizer state is keyed by position in this order
        new_state = {}
        for i, slot in state["state"].items():
            new_state[i] = {k: (widen_tensor(v, torch.zeros_like(params[i])) if torch.is_tensor(v) and v.dim() > 0
                                else v) for k, v in slot.items()}
        opt.load_state_dict({"state": new_state, "param_groups": state["param_groups"]})
        optimizer = opt.state_dict()
    return {**ck, "format": CHECKPOINT_FORMAT, "config": config_name, "widths": model.config.widths(),
            "model": {k: v.detach().clone() for k, v in model.state_dict().items()}, "optimizer": optimizer}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m training.widen", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    ck = widen_checkpoint(load_checkpoint(args.checkpoint), args.config, args.seed)
    torch.save(ck, args.out)
    n = sum(v.numel() for v in ck["model"].values())
    print("wrote %s: config %s, %d weights, step %d" % (args.out, args.config, n, ck["state"]["step"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
