"""The AOTInductor engine: one `.pt2` package per stage and path, made with torch.export and
AOTInductor for this machine's device, with dynamic shapes; no torch.jit anywhere.

Calling convention of every package (flat tensors, no optionals): `[x]`, or
`[x, text_emb, text_mask]` for text models; encoders return `[mean, logvar]` (logvar clamped),
decoders `[x]`. The image flag of the TorchScript stages becomes two more packages.
Weights are kept out of the shared objects: each package's constants go to a safetensors side
file (keys = the package's constant names) that the loader hands over with load_constants, in
the compute dtype, as float16 or as int8 + scales (--weights-storage, videovae.aoti_weights).
"""
import copy
import logging
import os
import time
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.export import Dim

from . import aoti_isa
from .aoti_weights import storage_metadata, storage_name, stored_weights
from .checkpoint import sha256_file
from .config import TEMPORAL_COMPRESSION, VideoVAEConfig

ENGINE = "aoti"
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# package -> (stage it runs, image flag); the video path first, then the image path.
PACKAGES: Dict[str, Tuple[str, Optional[bool]]] = {
    "spatial_encoder": ("spatial_encoder", False),
    "temporal_encoder": ("temporal_encoder", None),
    "temporal_decoder": ("temporal_decoder", None),
    "spatial_decoder": ("spatial_decoder", False),
    "spatial_encoder_image": ("spatial_encoder", True),
    "spatial_decoder_image": ("spatial_decoder", True),
}


class FlatStage(nn.Module):
    """A stage with the package calling convention: flat tensor inputs, a list of outputs."""

    def __init__(self, stage: nn.Module, image: Optional[bool], caption: bool):
        super().__init__()
        self.stage = stage
        self.image = image
        self.caption = caption

    def forward(self, x: Tensor, text_emb: Optional[Tensor] = None, text_mask: Optional[Tensor] = None) -> List[Tensor]:
        if self.image is None:
            out = self.stage(x, text_emb, text_mask)
        else:
            out = self.stage(x, text_emb, text_mask, self.image)
        return list(out) if isinstance(out, tuple) else [out]


def shape_rules(config: VideoVAEConfig) -> Dict[str, Dict[str, object]]:
    """Per package, what each input dimension may be (what the manifest's `shapes` records).

    "4k" = any positive multiple of 4, "k" = any positive size, numbers are fixed.
    """
    zc, f = config.z_channels, config.spatial_compression
    t = str(TEMPORAL_COMPRESSION) + "k"
    hw = str(f) + "k"
    rules = {
        "spatial_encoder": {"x": ["k", 3, t, hw, hw]},
        "temporal_encoder": {"x": ["k", zc, t, "k", "k"]},
        "temporal_decoder": {"x": ["k", zc, "k", "k", "k"]},
        "spatial_decoder": {"x": ["k", zc, t, "k", "k"]},
        "spatial_encoder_image": {"x": ["k", 3, "k", hw, hw]},
        "spatial_decoder_image": {"x": ["k", zc, "k", "k", "k"]},
    }
    if config.caption:
        for r in rules.values():
            r["text_emb"] = ["k", "k", config.text_dim]
            r["text_mask"] = ["k", "k"]
    return rules


def _examples(config: VideoVAEConfig, name: str, dtype: torch.dtype, device: str):
    """Example inputs (every dynamic size >= 2: export specialises sizes 0 and 1) and their Dims."""
    zc, f = config.z_channels, config.spatial_compression
    batch = Dim("batch", min=1)
    t4, frames = Dim("t4", min=1), Dim("frames", min=1)
    h, w = Dim("h", min=1), Dim("w", min=1)
    spatial_in = name.startswith("spatial_encoder")
    t_dim = frames if name in ("temporal_decoder", "spatial_encoder_image", "spatial_decoder_image") \
        else TEMPORAL_COMPRESSION * t4
    channels = 3 if spatial_in else zc
    scale = f if spatial_in else 1
    x = torch.randn(2, channels, 2 * TEMPORAL_COMPRESSION, 2 * scale, 2 * scale, dtype=dtype, device=device)
    dims = {0: batch, 2: t_dim, 3: scale * h if scale > 1 else h, 4: scale * w if scale > 1 else w}
    if not config.caption:
        return (x,), ({k: v for k, v in dims.items()},)
    length = Dim("text_len", min=1)
    emb = torch.randn(2, 3, config.text_dim, dtype=dtype, device=device)
    mask = torch.ones(2, 3, dtype=dtype, device=device)
    return (x, emb, mask), (dims, {0: batch, 1: length}, {0: batch, 1: length})


def export_package(model, name: str, out_path: str, dtype: torch.dtype = torch.float32,
                   device: str = "cpu") -> Dict[str, Tensor]:
    """torch.export + AOTInductor of one package into out_path (no weights inside).
    Returns its constants by the names the loader expects."""
    from torch._inductor import aoti_compile_and_package, config as inductor_config
    stage_name, image = PACKAGES[name]
    module = FlatStage(model.stages()[stage_name], image, model.config.caption).eval()
    args, dynamic = _examples(model.config, name, dtype, device)
    with torch.no_grad():
        program = torch.export.export(module, args, dynamic_shapes=dynamic, strict=False)
        # dynamic_threads: kernels read the thread count at run time instead of baking in this
        # process's (the loader's thread setting must be honoured).
        # always_keep_tensor_constants: Inductor otherwise inlines small weights (the 3-value bias
        # of the decoders' conv_out) as literals in the code, where load_constants cannot reach.
        with inductor_config.patch({"aot_inductor.package_constants_in_so": False,
                                    "always_keep_tensor_constants": True,
                                    "cpp.dynamic_threads": True}), _stride_check_fix():
            aoti_compile_and_package(program, package_path=out_path)
    named = dict(program.state_dict)
    named.update(program.constants)
    # Exactly the constants the package asks for (Inductor drops those the graph does not use,
    # e.g. the temporal convs in the image packages).
    wanted = torch._inductor.aoti_load_package(out_path).get_constant_fqns()
    missing = [k for k in wanted if k not in named]
    if missing:
        raise RuntimeError("%s: package constants not found in the exported program: %s" % (name, missing[:5]))
    # Every weight the graph reads must be one the loader can replace: none compiled in.
    used = {node.name for node in program.graph.nodes if node.op == "placeholder" and node.users}
    inputs = dict(program.graph_signature.inputs_to_parameters)
    inputs.update(program.graph_signature.inputs_to_buffers)
    inputs.update(program.graph_signature.inputs_to_lifted_tensor_constants)
    baked = sorted(fqn for node, fqn in inputs.items() if node in used and fqn not in wanted)
    if baked:
        raise RuntimeError("%s: weights compiled into the package instead of loaded: %s" % (name, baked[:5]))
    return {k: named[k].detach().contiguous() for k in wanted}


class _stride_check_fix:
    """torch 2.13 Inductor bug (pytorch#188323, #188422): with dynamic sizes, deciding whether a
    strided input suits a convolution bounds `stride % stride` by value ranges, which raises
    ValueRangeError "Invalid ranges [0:-1]" and aborts the compile. "Not provably divisible"
    (False) is the answer the check gives for anything it cannot decide, so we give it here."""

    def __enter__(self):
        import sympy
        from torch._inductor import ir
        from torch._inductor.virtualized import V
        from torch.utils._sympy.value_ranges import ValueRangeError
        self.saved = ir.Layout.__dict__["_stride_expr_ge_or_false"]
        original = self.saved.__func__

        def ge_or_false(left, right):
            try:
                return original(left, right)
            except ValueRangeError:
                try:
                    return V.graph.sizevars.guard_or_false(sympy.Ge(left, right))
                except ValueRangeError:
                    return False
        ir.Layout._stride_expr_ge_or_false = staticmethod(ge_or_false)
        # torch logs every such failure as a warning before raising it to us: keep the output quiet.
        self.loggers = [logging.getLogger(n) for n in ("torch.fx.experimental.symbolic_shapes",
                                                       "torch.utils._sympy.interp")]
        self.levels = [lg.level for lg in self.loggers]
        for lg in self.loggers:
            lg.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        from torch._inductor import ir
        ir.Layout._stride_expr_ge_or_false = self.saved
        for lg, level in zip(self.loggers, self.levels):
            lg.setLevel(level)
        return False


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        import shutil
        shutil.copyfile(src, dst)


def write_aoti_stages(model, tmp: str, dtype: str = "float32", device: str = "cpu",
                      cpu_isa: str = aoti_isa.DEFAULT_ISA, packages=None, log=None,
                      weights_storage: str = "compute") -> Tuple[Dict, Dict]:
    """Writes the packages and their weight files into the bundle being assembled.
    weights_storage: compute, float16 or int8 (videovae.aoti_weights).
    Returns (files entries, the manifest's `aoti` section)."""
    from safetensors.torch import save_file
    if dtype not in DTYPES:
        raise ValueError("dtype must be one of %s, got %r" % (", ".join(DTYPES), dtype))
    storage = storage_name(weights_storage)
    aoti_isa.check_isa(cpu_isa, device)
    dtype_name, dtype = dtype, DTYPES[dtype]
    if dtype != torch.float32 or device != "cpu":
        model = copy.deepcopy(model).to(device=device, dtype=dtype)  # the caller's model stays as it is
    model.eval()
    files: Dict[str, Dict[str, str]] = {}
    seconds: Dict[str, float] = {}
    weights_of: Dict[Tuple, str] = {}
    with aoti_isa.pinned(cpu_isa):
        for name in packages or PACKAGES:
            started = time.time()
            path = os.path.join(tmp, name + ".pt2")
            constants = export_package(model, name, path, dtype, device)
            files[name] = {"path": name + ".pt2", "sha256": sha256_file(path)}
            # Each package's weights sit beside it (<name>.weights.safetensors, where the loader
            # looks). The image packages have the video packages' constants: a hard link, not a copy.
            weights_path = name + ".weights.safetensors"
            key = (PACKAGES[name][0], tuple(sorted(constants)))  # same stage, same constants: same file
            if key in weights_of:
                _link_or_copy(os.path.join(tmp, weights_of[key]), os.path.join(tmp, weights_path))
            else:
                save_file(stored_weights(constants, storage), os.path.join(tmp, weights_path),
                          metadata=storage_metadata(constants, storage))
                os.chmod(os.path.join(tmp, weights_path), 0o644)  # safetensors writes 0600; the rest is 0644
                weights_of[key] = weights_path
            files[name + ".weights"] = {"path": weights_path, "sha256": sha256_file(os.path.join(tmp, weights_path))}
            seconds[name] = round(time.time() - started, 1)
            if log:
                log("%s: %.1f s" % (name, seconds[name]))
    section = {
        "torch_version": torch.__version__,
        "device": device,
        "dtype": dtype_name,
        "packages": list(packages or PACKAGES),
        "shapes": shape_rules(model.config),
        "weights": "side_files",
        "weights_storage": storage,
        "export_seconds": seconds,
    }
    section.update(aoti_isa.describe(cpu_isa) if device == "cpu" else {"cpu_isa": "none", "cpu_flags": []})
    return files, section
