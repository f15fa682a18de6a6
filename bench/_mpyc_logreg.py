"""MPyC reference for ``bench/inference.py``: secure logistic-regression inference, d = 30.

Run as m = 3 separate processes over loopback, like MPyC's demos
(``python bench/_mpyc_logreg.py -M3 -I<i> -B<port> <variant> <queries> <seed>``). Party 1
inputs the model (w, b) once; for each query party 0 inputs x, the parties compute the
logit z = w·x + b on Shamir shares (secure fixed point, 64 bits with f = 16) and open z
to party 0 only, which applies the sigmoid in the clear. Party 0 prints one JSON line
with its per-query latencies (input to output).

Variants (the two fastest formulations found; both do one truncation per query):
``inprod`` uses lists of secure numbers and ``mpc.in_prod``; ``matmul`` uses MPyC's
secure numpy arrays and ``w @ x``.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from mpyc.runtime import mpc

D = 30


async def main(variant: str, queries: int, seed: int) -> None:
    rng = np.random.default_rng(seed)  # benchmark data, identical in every party
    coef, xs = rng.normal(size=D), rng.normal(size=(queries, D))
    intercept = 0.3
    secfxp = mpc.SecFxp(64, 16)
    await mpc.start()
    me = mpc.pid

    # integral=False on every party: MPyC infers the flag from the value, and a
    # placeholder of zeros would otherwise mark the input integral and skip truncation.
    def fxp(v: float) -> object:
        return secfxp(float(v), integral=False)

    if variant == "matmul":
        w = mpc.input(secfxp.array(coef if me == 1 else np.zeros(D), integral=False), senders=1)
    else:
        w = mpc.input([fxp(c if me == 1 else 0.0) for c in coef], senders=1)
    b = mpc.input(fxp(intercept if me == 1 else 0.0), senders=1)
    await mpc.barrier()
    latencies, logits = [], []
    for q in range(queries):
        start = time.perf_counter()
        if variant == "matmul":
            x = mpc.input(
                secfxp.array(xs[q] if me == 0 else np.zeros(D), integral=False), senders=0
            )
            z = w @ x + b
        else:
            x = mpc.input([fxp(v if me == 0 else 0.0) for v in xs[q]], senders=0)
            z = mpc.in_prod(w, x) + b
        opened = await mpc.output(z, receivers=0)
        if me == 0:
            probability = 1.0 / (1.0 + np.exp(-float(opened)))  # the sigmoid, in the clear
            latencies.append((time.perf_counter() - start) * 1e3)
            logits.append(float(opened))
            assert 0.0 <= probability <= 1.0
    await mpc.shutdown()
    if me == 0:
        err = float(np.max(np.abs(np.array(logits) - (xs @ coef + intercept))))
        print(json.dumps({"latencies_ms": latencies, "max_abs_logit_error": err}))


if __name__ == "__main__":
    mpc.run(main(sys.argv[-3], int(sys.argv[-2]), int(sys.argv[-1])))
