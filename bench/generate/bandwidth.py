# Memory bandwidth a matrix-vector product reaches on this machine (numpy, the threads OPENBLAS_NUM_THREADS allows):
# the ceiling of batch-1 decoding, which reads every float32 weight once per token. bench/README.md quotes it.
#   OPENBLAS_NUM_THREADS=2 bench/.venv/bin/python bench/generate/bandwidth.py
import time

import numpy as np

W = np.random.default_rng(0).standard_normal((50257, 768), dtype=np.float32)  # the LM head, 154 MB
x = np.ones(768, np.float32)
Ws = [np.random.default_rng(i).standard_normal((768, 3072), dtype=np.float32) for i in range(40)]  # 377 MB of block weights
for name, f, nbytes in [("head W@x", lambda: W @ x, W.nbytes), ("40 blocks x@W", lambda: [x @ w for w in Ws], sum(w.nbytes for w in Ws)), ("sum(W)", lambda: W.sum(), W.nbytes)]:
    f(); best = 1e9
    for _ in range(15):
        t = time.perf_counter(); f(); best = min(best, time.perf_counter() - t)
    print(f"{name}: {nbytes/best/1e9:.1f} GB/s (best of 15)")
