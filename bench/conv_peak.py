"""The machine's convolution ceiling: GFLOP/s of one 3x3 conv2d and one 3x3x3 conv3d on
oneDNN (channels-last, float32), best of N, at the thread count given.

usage: conv_peak.py THREADS [REPEAT]  ->  {"conv2d_gflops": ..., "conv3d_gflops": ...}
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
    torch.set_num_threads(threads)
    c = 128  # a mid-level width of the models; 16 frames of 64x64
    x2 = torch.randn(16, c, 64, 64).contiguous(memory_format=torch.channels_last)
    w2 = torch.randn(c, c, 3, 3)
    x3 = torch.randn(1, c, 16, 64, 64).contiguous(memory_format=torch.channels_last_3d)
    w3 = torch.randn(c, c, 3, 3, 3)
    with torch.inference_mode():
        t2 = best_seconds(lambda: F.conv2d(x2, w2, None, 1, 1), repeat)
        t3 = best_seconds(lambda: torch.mkldnn_convolution(x3, w3, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1), repeat)
    flops2 = 2 * c * c * 9 * 16 * 64 * 64
    flops3 = 2 * c * c * 27 * 16 * 64 * 64
    print(json.dumps({"conv2d_gflops": flops2 / t2 / 1e9, "conv3d_gflops": flops3 / t3 / 1e9, "threads": threads}))


if __name__ == "__main__":
    main()
