"""Command line: `python -m videovae export|info ...` (run with PYTHONPATH=python).

    python -m videovae export --checkpoint sota-16z.ckpt --out bundles/16z [--config config_16z]
                              [--attention exact|chunked] [--mode exact|fast] [--force]
                              [--engine torchscript|aoti] [--dtype float32|bfloat16] [--device cpu|cuda]
                              [--cpu-isa avx2|avx512|none|native] [--weights-storage compute|float16|int8]
    python -m videovae export --checkpoint sota-16z-text.ckpt --t5 flan-t5-large/ --out bundles/16z-text
                              [--t5-dtype bfloat16|float32]
    python -m videovae export --t5 flan-t5-large/ --out bundles/t5      # text-only bundle
    python -m videovae info --checkpoint FILE [--config NAME]
    python -m videovae info --bundle DIR
"""
import argparse
import json
import os
import sys

from .config import CONFIGS


def _reexec_with_fixed_hash_seed() -> None:
    # TorchScript serialises module constants in Python set order, which depends on the
    # string hash seed; a fixed seed makes repeated exports byte-identical.
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, "-m", "videovae"] + sys.argv[1:], env)


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m videovae", description="VideoVAE+ checkpoint tools")
    sub = ap.add_subparsers(dest="command", required=True)

    ex = sub.add_parser("export", help="write a TorchScript bundle from a checkpoint")
    ex.add_argument("--checkpoint", help=".ckpt (Lightning), .safetensors or .pt/.pth state dict")
    ex.add_argument("--t5", metavar="DIR", help="Hugging Face T5 directory (config.json, weights, spiece.model): "
                    "adds the caption encoder; alone, writes a text-only bundle")
    ex.add_argument("--t5-dtype", choices=("bfloat16", "float32"), default="bfloat16",
                    help="compute dtype of the T5 encoder (default bfloat16, like the official embedder)")
    ex.add_argument("--out", required=True, help="bundle directory to create")
    ex.add_argument("--config", choices=sorted(CONFIGS), help="expected config; must agree with the checkpoint")
    ex.add_argument("--attention", choices=("exact", "chunked"), default="exact",
                    help="mid-block spatial attention: exact reference path or query-chunked (less memory)")
    ex.add_argument("--mode", choices=("exact", "fast"), default="exact",
                    help="exact: bit-exact with the official model (default); fast: frame convs on oneDNN, "
                         "channels-last, fused attention (within 1e-4 of exact, see python/NOTES.md)")
    ex.add_argument("--engine", choices=("torchscript", "aoti"), default="torchscript",
                    help="torchscript (default): four TorchScript stages; aoti: torch.export + AOTInductor packages "
                         "compiled for --device (see python/NOTES.md)")
    ex.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32",
                    help="aoti: the compute dtype compiled into the packages (TorchScript bundles choose it at load)")
    ex.add_argument("--device", choices=("cpu", "cuda"), default=None,
                    help="aoti: the device the packages run on (default: cuda when available, else cpu)")
    ex.add_argument("--cpu-isa", choices=("avx2", "avx512", "none", "native"), default="avx2",
                    help="aoti on cpu: the CPU instruction level the kernels are compiled for (default avx2; "
                         "native = this machine's, not portable)")
    ex.add_argument("--weights-storage", choices=("compute", "float16", "int8"), default="compute",
                    help="aoti: how the weight side files store the weights: compute (the compute dtype, default), "
                         "float16 (half the size), int8 (int8 + a float32 scale per output channel, a quarter)")
    ex.add_argument("--force", action="store_true", help="replace an existing bundle directory")

    info = sub.add_parser("info", help="describe a checkpoint or a bundle")
    group = info.add_mutually_exclusive_group(required=True)
    group.add_argument("--checkpoint", help="checkpoint file")
    group.add_argument("--bundle", help="bundle directory (verifies file hashes)")
    info.add_argument("--config", choices=sorted(CONFIGS), help="expected config of the checkpoint")
    return ap


def _info_checkpoint(path: str, config_name) -> dict:
    from .checkpoint import read_state_dict, resolve_config
    sd = read_state_dict(path)
    config = resolve_config(sd, config_name)
    return {"checkpoint": path, "variant": config.variant, "config": config.config_name,
            "widths": config.widths(), "latent_channels": config.z_channels,
            "text": config.caption, "keys": len(sd), "parameters": sum(v.numel() for v in sd.values())}


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export" and not (args.checkpoint or args.t5):
        parser.error("export needs --checkpoint, --t5, or both")
    from .bundle import BundleError
    from .checkpoint import CheckpointError
    try:
        if args.command == "export":
            if argv is None:
                _reexec_with_fixed_hash_seed()
            from .export import export_checkpoint
            aoti = None
            if args.engine == "aoti":
                import torch
                device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
                aoti = {"dtype": args.dtype, "device": device, "cpu_isa": args.cpu_isa,
                        "weights_storage": args.weights_storage,
                        "log": lambda line: print(line, file=sys.stderr, flush=True)}
            elif args.weights_storage != "compute":
                parser.error("--weights-storage is an option of --engine aoti (the side files of AOTInductor packages); "
                             "TorchScript stages keep their weights inside")
            elif args.dtype != "float32" or args.device or args.cpu_isa != "avx2":
                parser.error("--dtype, --device and --cpu-isa are options of --engine aoti")
            manifest = export_checkpoint(args.checkpoint, args.out, args.config, args.attention, args.force,
                                         args.t5, args.t5_dtype, args.mode, args.engine, aoti)
            if manifest.get("kind") == "text":
                print("wrote %s (text-only, T5 %d-d, %s)" % (args.out, manifest["t5"]["d_model"], manifest["t5"]["dtype"]))
            else:
                engine = manifest.get("engine", "torchscript")
                print("wrote %s (%s, %s, %s, mode %s, attention %s%s)" % (
                    args.out, manifest["variant"], manifest["config"],
                    "aoti %s %s %s, weights %s" % (manifest["aoti"]["device"], manifest["aoti"]["dtype"],
                                                   manifest["aoti"]["cpu_isa"], manifest["aoti"]["weights_storage"])
                    if engine == "aoti" else engine, manifest["mode"], manifest["attention"],
                    ", with T5" if "t5" in manifest else ""))
        elif args.bundle:
            from .bundle import read_manifest, verify_files
            manifest = read_manifest(args.bundle)
            verify_files(args.bundle, manifest)
            print(json.dumps(dict(manifest, verified=True), indent=2))
        else:
            print(json.dumps(_info_checkpoint(args.checkpoint, args.config), indent=2))
    except (CheckpointError, BundleError, FileExistsError, ValueError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
