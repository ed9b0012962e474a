"""One reference MLSAE training step on random vectors, timed: forward + loss (mean FVU + AuxK),
backward, decoder renormalization and gradient projection, Adam. fp32, as the reference trains on CPU.

  /usr/bin/python3 bench/reference/sae_step.py --expansion 32 [--vectors 4096] [--half-dead]
      [--repeats 3] [--warmup 1] [--threads 2]

Prints one JSON object on stdout. Mlsae.Bench's sae-step runs it per configuration with OpenBLAS
on LD_LIBRARY_PATH (Debian's torch otherwise uses the netlib BLAS).
"""

import argparse
import time

import torch

import bench_common
from reference_mlsae import ReferenceMlsae, adam, loss

D, K, AUXK = 512, 32, 256
# The reference's dead_steps_threshold at its defaults: 10M tokens // (1 · 2048 · 64).
DEAD_STEPS_THRESHOLD = 76
# Mlsae.Bench scales the half-dead latents' encoder rows by the same factor.
HALF_DEAD_SCALE = 0.25


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expansion", type=int, required=True)
    parser.add_argument("--vectors", type=int, default=4096)
    parser.add_argument("--half-dead", action="store_true", help="every odd latent long unfired and too weak to win TopK, so AuxK has work")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.expansion <= 0 or args.vectors <= 0 or args.repeats <= 0 or args.warmup < 0 or args.threads <= 0:
        parser.error("--expansion, --vectors, --repeats, --threads must be positive and --warmup non-negative")

    bench_common.set_threads(args.threads)
    blas = bench_common.blas_report()
    torch.manual_seed(0)
    f = D * args.expansion
    inputs = torch.randn(1, 1, args.vectors, D, generator=torch.Generator().manual_seed(3))   # [L, B, T, D]
    model = ReferenceMlsae(D, f, K, AUXK, DEAD_STEPS_THRESHOLD)
    if args.half_dead:
        mark_half_dead(model)
    optimizer = adam(model)
    setup_rss = bench_common.rss_mib()

    best = None
    for i in range(args.warmup + args.repeats):
        clock = bench_common.Clock()
        out = model(inputs)
        total, _ = loss(inputs, out)
        clock.lap("forward")
        total.backward()
        clock.lap("backward")
        model.after_backward()
        optimizer.step()
        optimizer.zero_grad()
        clock.lap("update")
        if i >= args.warmup and (best is None or clock.total_ms() < best[0]):
            best = (clock.total_ms(), dict(clock.phases), total.item(), out["dead"].item())

    floor = floor_ms(args.vectors, f, args.repeats)
    step_ms, phases, last_loss, dead = best
    bench_common.emit({
        "ExpansionFactor": args.expansion, "Latents": f, "Vectors": args.vectors, "HalfDead": args.half_dead,
        "VectorsPerSecond": round(args.vectors / (step_ms / 1000), 1), "StepMs": round(step_ms, 1),
        "ForwardMs": round(phases["forward"], 1), "BackwardMs": round(phases["backward"], 1), "UpdateMs": round(phases["update"], 1),
        "FloorMs": round(floor, 1), "FloorMultiple": round(step_ms / floor, 2),
        "Loss": last_loss, "DeadFraction": dead, "SetupRssMiB": setup_rss, "PeakRssMiB": bench_common.peak_rss_mib(),
        **blas,
    })


def mark_half_dead(model):
    """Every odd latent unfired for far longer than the threshold, with its encoder row scaled by
    HALF_DEAD_SCALE so it never wins TopK and stays dead through the timed steps (a latent that
    fires is live again at once, and at init nearly every latent fires in a batch of 4096)."""
    with torch.no_grad():
        model.last_nonzero[1::2] = 2_000_000_000
        model.encoder.weight[1::2] *= HALF_DEAD_SCALE


def floor_ms(n, f, repeats):
    """The step's one unavoidable dense product, the encoder's [N, D]·[D, F], timed alone."""
    u, w = torch.randn(n, D), torch.randn(f, D)
    u @ w.t()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        u @ w.t()
        best = min(best, time.perf_counter() - start)
    return best * 1000


if __name__ == "__main__":
    main()
