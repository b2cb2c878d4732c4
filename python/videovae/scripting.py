"""How a stage becomes TorchScript: plain scripting (exact mode) or scripted and frozen (fast).

Freezing inlines the weights as constants and folds what it can; optimize_for_inference goes
further (oneDNN weight prepacking, conv + elementwise fusion) but its output is tied to the
CPU it was made on. bench/levers.py measures all three.
"""
import warnings

import torch
from torch import nn

HOWS = ("script", "freeze", "optimize")


def compile_stage(stage: nn.Module, how: str = "script") -> torch.jit.ScriptModule:
    if how not in HOWS:
        raise ValueError("how must be one of %s, got %r" % (", ".join(HOWS), how))
    with warnings.catch_warnings():
        # TorchScript is deprecated upstream but is what libtorch loads; keep output quiet.
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(stage.eval())
        if how == "script":
            return scripted
        frozen = torch.jit.freeze(scripted)
        if how == "freeze":
            return frozen
        return torch.jit.optimize_for_inference(frozen)
