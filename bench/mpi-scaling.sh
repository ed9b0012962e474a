#!/usr/bin/env bash
# Data-parallel scaling of `mlsae train` over MPI on this machine, and the allreduce cost of a step.
# Usage: bench/mpi-scaling.sh [mlsae-command] [launcher]
# (default: dotnet <the built mlsae.dll>, mpirun.openmpi). Trains the same run (embedded model, all
# 6 layers, x16 = 2,048 latents, 4 micro-batches of 2 x 128 tokens per step, 14 steps) on 1 rank with
# all cores, and on 1, 2 and 4 ranks of one thread (beyond the cores it oversubscribes), takes each run's median step time from metrics.jsonl
# ("seconds" per line, the first 4 steps dropped), times with `mlsae mpi-check` one allreduce of the
# SAE's gradients (its parameter count in float32) on 2 and 4 ranks, and extrapolates the Pythia-70m
# x64 SAE to a cluster from the measured allreduce bandwidth (assumptions printed with the result).
# Prints one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
MLSAE=${1:-"dotnet src/Mlsae.Cli/bin/Debug/net10.0/linux-x64/mlsae.dll"}
LAUNCHER=${2:-mpirun.openmpi}
flags=()
[ "$LAUNCHER" = mpirun.openmpi ] && flags=(--allow-run-as-root --oversubscribe --bind-to none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--batch-size 2 --max-length 128 --expansion-factor 16 -k 16 --auxk 64 --accumulate-grad-batches 4
      --max-tokens $((14 * 4 * 2 * 128)) --val-batches 0 --val-every 0 --log-every 1 --checkpoint-every 1000 --seed 1)
# 1 rank with the default threads (all cores), then 1, 2 and 4 ranks of one thread each.
for run in 1:default 1:1 2:1 4:1; do
  n=${run%:*}; t=${run#*:}
  threads=(); [ "$t" = default ] || threads=(--threads-per-rank "$t")
  $LAUNCHER "${flags[@]}" -n "$n" $MLSAE train "${args[@]}" "${threads[@]}" --out "$work/run$n-$t" >/dev/null 2>"$work/run$n-$t.err" \
    || { cat "$work/run$n-$t.err" >&2; exit 1; }
done
# The SAE's parameters: encoder and decoder F x D, pre-encoder bias D, encoder bias F (D 128, F 2,048).
params=$((2 * 2048 * 128 + 128 + 2048))
for n in 2 4; do
  $LAUNCHER "${flags[@]}" -n "$n" $MLSAE mpi-check --floats "$params" --repeat 21 --out "$work/check$n.json" >/dev/null 2>&1
done
# Pythia-70m x64: D 512, F 32,768.
big=$((2 * 32768 * 512 + 512 + 32768))
$LAUNCHER "${flags[@]}" -n 2 $MLSAE mpi-check --floats "$big" --repeat 5 --out "$work/big.json" >/dev/null 2>&1
python3 - "$work" "$params" "$big" <<'PY'
import json, os, statistics, sys
work, params, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def step_time(run):
    s = [json.loads(l)["seconds"] for l in open(os.path.join(work, f"run{run}", "metrics.jsonl")) if '"fvu_mean"' in l]
    return statistics.median([b - a for a, b in zip(s[3:-1], s[4:])])
runs = {"1 rank x all cores": "1-default", "1 rank x 1 thread": "1-1", "2 ranks x 1 thread": "2-1", "4 ranks x 1 thread": "4-1"}
steps = {name: step_time(run) for name, run in runs.items()}
base = steps["1 rank x 1 thread"]
check = {n: json.load(open(os.path.join(work, f"check{n}.json"))) for n in (2, 4)}
bigc = json.load(open(os.path.join(work, "big.json")))
# Extrapolation: the paper's step (64 micro-batches of 2,048 tokens, 6 layers: 786,432 vectors), computed at
# README's measured x64 SAE step rate on 2 cores (2,810 vectors/s) scaled to 32 cores per node (x16, an
# assumption); the gradient allreduce is a ring: 2 (N-1)/N x bytes over the slowest link, at the bandwidth
# measured here over shared memory (bytes / time of one in-place allreduce on 2 ranks) or a 100 Gb/s link.
vectors, rate = 64 * 2048 * 6, 2810 * 16
compute = vectors / rate
link = 12.5e9
measured = bigc["bytes_per_second"]
cluster = []
for nodes in (1, 2, 4, 8, 16, 32, 64):
    row = {"nodes": nodes}
    for name, bandwidth in (("100Gbps", link), ("measured", measured)):
        # A ring moves 2 (N-1)/N of the bytes over each link; the 2-rank measurement moved 1x (bytes / time).
        ring = 0.0 if nodes == 1 else 2 * (nodes - 1) / nodes * big * 4 / bandwidth
        t = compute / nodes + ring
        row[name] = {"step_s": round(t, 3), "allreduce_s": round(ring, 4), "efficiency": round(compute / nodes / t, 3)}
    cluster.append(row)
print(json.dumps({
    "step_s": {name: round(t, 4) for name, t in steps.items()},
    "speedup_vs_1_rank_x_1_thread": {name: round(base / t, 2) for name, t in steps.items()},
    "gradient_floats": params,
    "allreduce_s": {str(n): round(c["allreduce_seconds"], 5) for n, c in check.items()},
    "allreduce_share_of_step": {"2": round(check[2]["allreduce_seconds"] / steps["2 ranks x 1 thread"], 4),
                                "4": round(check[4]["allreduce_seconds"] / steps["4 ranks x 1 thread"], 4)},
    "pythia70m_x64": {"gradient_floats": big, "gradient_MB": round(big * 4 / 1e6, 1),
                      "allreduce_2_ranks_shared_memory_s": round(bigc["allreduce_seconds"], 4),
                      "shared_memory_GBps": round(bigc["bytes_per_second"] / 1e9, 2),
                      "assumed": "step = 64 x 2048 tokens x 6 layers at 2,810 vectors/s x 16 (32-core node); ring allreduce, 2(N-1)/N x bytes per link, at 12.5 GB/s (100 Gb/s) or at the bandwidth measured here",
                      "compute_per_step_one_node_s": round(compute, 2), "cluster": cluster},
}, indent=1))
PY
