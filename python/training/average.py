"""Average the weights of several training checkpoints of one run (post-hoc weight averaging).

    PYTHONPATH=python python -m training.average --out .cache/avg.pt A.pt B.pt [C.pt ...]

Snapshots taken late in a cosine cycle sit around the same minimum; their mean can be a little
better than any one of them, for no training time (session 11 measured no gain at the very bottom
of a decay: see TRAINING.md). The output is a normal checkpoint (the last
input's step, settings and optimizer, the averaged weights), so `training.export_default` exports
and scores it on the held-out sets like any other.
"""
import argparse
import sys
from typing import Dict, List

import torch

from .train import atomic_save, load_checkpoint


def average_weights(states: List[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    keys = set(states[0])
    for s in states[1:]:
        if set(s) != keys:
            raise ValueError("checkpoints hold different weights: %s" % sorted(keys ^ set(s))[:5])
    out = {}
    for k, v in states[-1].items():
        if v.is_floating_point():
            out[k] = torch.stack([s[k].double() for s in states]).mean(0).to(v.dtype)
        else:  # counters and the like: the last snapshot's
            out[k] = v.clone()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.average", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("checkpoints", nargs="+")
    args = ap.parse_args(argv)
    cks = [load_checkpoint(p) for p in args.checkpoints]
    configs = {repr((ck["config"], ck["widths"])) for ck in cks}
    if len(configs) != 1:
        raise SystemExit("checkpoints come from different model configs: %s" % sorted(configs))
    merged = dict(cks[-1])
    merged["model"] = average_weights([ck["model"] for ck in cks])
    merged["averaged_from"] = [int(ck["state"]["step"]) for ck in cks]
    atomic_save(merged, args.out)
    print("averaged %d checkpoints (steps %s) into %s" % (len(cks), merged["averaged_from"], args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
