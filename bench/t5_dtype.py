"""T5 encoder in bfloat16 vs float32 (the official embedder runs bf16): max and mean abs
difference of the embeddings, on a random Flan-T5-shaped encoder with transformers' own
initialisation (no pretrained weights here, so the figures are indicative only).

    PYTHONPATH=python .venv/bin/python bench/t5_dtype.py [--layers 24] [--captions 4]
"""
import argparse
import time

import torch

from videovae.t5 import T5Config, T5Encoder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=24)  # flan-t5-large
    ap.add_argument("--captions", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from transformers import T5Config as HFConfig, T5EncoderModel
    hf = HFConfig(vocab_size=32128, d_model=1024, d_kv=64, d_ff=2816, num_layers=args.layers, num_heads=16,
                  feed_forward_proj="gated-gelu")
    torch.manual_seed(0)
    state = {k: v for k, v in T5EncoderModel(hf).state_dict().items() if k != "encoder.embed_tokens.weight"}
    fp32 = T5Encoder(T5Config.from_hf(hf.to_dict())).eval()
    fp32.load_state_dict(state)
    bf16 = T5Encoder(T5Config.from_hf(hf.to_dict())).eval()
    bf16.load_state_dict(state)
    bf16.to_compute_dtype(torch.bfloat16)
    ids = torch.randint(3, 32000, (args.captions, 100))
    mask = torch.zeros_like(ids)
    for i, n in enumerate(torch.linspace(20, 100, args.captions).long().tolist()):
        ids[i, n - 1], ids[i, n:], mask[i, :n] = 1, 0, 1
    with torch.no_grad():
        t0 = time.perf_counter()
        a = fp32(ids, mask)
        t1 = time.perf_counter()
        b = bf16(ids, mask)
        t2 = time.perf_counter()
    keep = mask.bool()
    d = (a - b).abs()[keep]
    print("T5 %d layers x 1024, %d captions: max |emb| %.3f, mean |emb| %.4f" % (args.layers, args.captions,
          a[keep].abs().max(), a[keep].abs().mean()))
    print("bf16 vs fp32 over real tokens: max abs %.4g, mean abs %.4g, relative (mean/mean) %.3g" % (
        d.max(), d.mean(), d.mean() / a[keep].abs().mean()))
    print("cosine similarity per token: min %.5f" % torch.nn.functional.cosine_similarity(a[keep], b[keep], dim=-1).min())
    print("time: fp32 %.2f s, bf16 %.2f s" % (t1 - t0, t2 - t1))


if __name__ == "__main__":
    main()
