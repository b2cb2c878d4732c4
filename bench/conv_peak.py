"""The machine's convolution ceiling: GFLOP/s of 3x3 conv2d and 3x3x3 conv3d on oneDNN
(channels-last, float32) at the widths of the models (128, 256, 512 channels), best of N, the
fastest width reported, at the thread count given. bench/vae.ts runs it with glibc told to keep
freed memory, so that page faults on fresh outputs do not count against the ceiling.

usage: conv_peak.py THREADS [REPEAT] [DTYPE]  ->  {"conv2d_gflops": ..., "conv3d_gflops": ...}
DTYPE: float32 (default) or bfloat16 (AVX512-BF16 / AMX where the CPU has them).
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def best_seconds(fn, repeat):
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    threads = int(sys.argv[1])
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    dtype = getattr(torch, sys.argv[3]) if len(sys.argv) > 3 else torch.float32
    torch.set_num_threads(threads)
    best2 = best3 = 0.0
    for c, s in ((128, 64), (256, 32), (512, 16)):  # 8 frames of s x s
        x2 = torch.randn(8, c, s, s, dtype=dtype).contiguous(memory_format=torch.channels_last)
        w2 = torch.randn(c, c, 3, 3, dtype=dtype)
        x3 = torch.randn(1, c, 8, s, s, dtype=dtype).contiguous(memory_format=torch.channels_last_3d)
        w3 = torch.randn(c, c, 3, 3, 3, dtype=dtype)
        with torch.inference_mode():
            t2 = best_seconds(lambda: F.conv2d(x2, w2, None, 1, 1), repeat)
            t3 = best_seconds(lambda: torch.mkldnn_convolution(x3, w3, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1), repeat)
        best2 = max(best2, 2 * c * c * 9 * 8 * s * s / t2 / 1e9)
        best3 = max(best3, 2 * c * c * 27 * 8 * s * s / t3 / 1e9)
    print(json.dumps({"conv2d_gflops": best2, "conv3d_gflops": best3, "threads": threads, "dtype": str(dtype)[6:]}))


if __name__ == "__main__":
    main()
