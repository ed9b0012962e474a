"""The reference's training pipeline per batch, timed: a GPT-NeoX forward (Pythia-70m's shape,
random weights) to every layer's hidden states, special tokens zeroed, then the MLSAE step
(forward, mean FVU + AuxK, backward, renormalize and project, the logged train metrics, Adam),
one batch per optimizer step. fp32, as the reference trains on CPU.

  /usr/bin/python3 bench/reference/train_pipeline.py --tokens <file> --seq 2048 [--expansion 16] [--threads 2]

The tokens file holds S·T little-endian int64 ids (S sequences of --seq), the ones Mlsae.Bench's
train-pipeline feeds its own trainer; the first sequence's step (bias initialization at the
geometric median, warm-up) is not timed. Prints one JSON object on stdout.
"""

import argparse
import os

import torch

import bench_common
from reference_gpt_neox import PYTHIA_70M, hidden_states, random_weights, zero_special
from reference_mlsae import ReferenceMlsae, adam, geometric_median, loss, train_metrics

K, AUXK, DEAD_TOKENS_THRESHOLD = 32, 256, 10_000_000


def read_tokens(path, seq):
    """The shared token file as [S, T] int64."""
    size = os.path.getsize(path)
    if size == 0 or size % (8 * seq) != 0:
        raise SystemExit(f"--tokens {path}: {size} bytes is not a whole number of {seq}-token int64 sequences")
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.int64).reshape(-1, seq).clone()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--expansion", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.seq <= 0 or args.expansion <= 0 or args.threads <= 0:
        parser.error("--seq, --expansion and --threads must be positive")

    bench_common.set_threads(args.threads)
    blas = bench_common.blas_report()
    tokens = read_tokens(args.tokens, args.seq)                                  # [S, T]
    if tokens.shape[0] < 2:
        raise SystemExit(f"--tokens {args.tokens}: needs at least 2 sequences (the first is a warm-up)")
    if int(tokens.max()) >= PYTHIA_70M["vocab"] or int(tokens.min()) < 0:
        raise SystemExit(f"--tokens {args.tokens}: ids outside [0, {PYTHIA_70M['vocab']})")
    torch.manual_seed(0)
    weights = random_weights(PYTHIA_70M, seed=0)
    d = PYTHIA_70M["d"]
    # The reference's rule: dead after dead_tokens_threshold // (batch · max_length · accumulate) calls.
    model = ReferenceMlsae(d, d * args.expansion, K, AUXK, DEAD_TOKENS_THRESHOLD // args.seq)
    optimizer = adam(model)
    setup_rss = bench_common.rss_mib()

    phases, timed_tokens, timed_ms, last_loss = {}, 0, 0.0, None
    for i in range(tokens.shape[0]):
        clock = bench_common.Clock()
        batch = tokens[i:i + 1]                                                  # [B, T]
        clock.lap("DataMs")
        inputs = zero_special(hidden_states(weights, PYTHIA_70M, batch), batch)  # [L, B, T, D]
        clock.lap("TransformerMs")
        if i == 0:
            model.pre_encoder_bias.data = geometric_median(inputs)
        out = model(inputs)
        total, fvu = loss(inputs, out)
        clock.lap("SaeForwardMs")
        total.backward()
        clock.lap("BackwardMs")
        model.after_backward()
        train_metrics(inputs, out, fvu, model.last_nonzero.numel(), DEAD_TOKENS_THRESHOLD)
        last_loss = total.item()
        optimizer.step()
        optimizer.zero_grad()
        clock.lap("UpdateMs")
        if i == 0:
            continue
        timed_tokens += batch.numel()
        timed_ms += clock.total_ms()
        for name, ms in clock.phases.items():
            phases[name] = phases.get(name, 0.0) + ms

    batches = tokens.shape[0] - 1
    bench_common.emit({
        "SeqLength": args.seq, "TimedBatches": batches, "ExpansionFactor": args.expansion,
        "TokensPerSecond": round(timed_tokens / (timed_ms / 1000), 1),
        "Breakdown": {name: round(ms / batches, 1) for name, ms in phases.items()},
        "Loss": last_loss, "SetupRssMiB": setup_rss, "PeakRssMiB": bench_common.peak_rss_mib(), **blas,
    })


if __name__ == "__main__":
    main()
