#!/usr/bin/env bash
# Runs one Mlsae.Bench benchmark several times and prints min / median / max of its rows' numbers.
#   bench/repeat.sh <sae-step|train-pipeline> <runs> <out-dir> [bench flags...]
# Each run's JSON is kept as <out-dir>/run-<i>.json (stderr as run-<i>.log). Needs python3 (standard
# library only) for the summary.
set -euo pipefail
if [ $# -lt 3 ]; then echo "usage: $0 <sae-step|train-pipeline> <runs> <out-dir> [bench flags...]" >&2; exit 2; fi
bench=$1 runs=$2 out=$3
shift 3
case "$runs" in ''|*[!0-9]*) echo "runs: expected a positive integer, got '$runs'" >&2; exit 2;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
dotnet build -c Release "$root/bench/Mlsae.Bench" >&2
for i in $(seq 1 "$runs"); do
  echo "run $i/$runs: $bench $*" >&2
  dotnet run -c Release --no-build --project "$root/bench/Mlsae.Bench" -- "$bench" "$@" >"$out/run-$i.json" 2>"$out/run-$i.log"
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
results = [json.load(open(f"{out}/run-{i}.json")) for i in range(1, runs + 1)]
print(f"{results[0]['Benchmark']}, {runs} runs; load averages (1 min) before each run: "
      + ", ".join(str((r.get('LoadBefore') or ['?'])[0]) for r in results))
for index, row in enumerate(results[0]["Rows"]):
    key = " ".join(f"{k}={row[k]}" for k in ("ExpansionFactor", "Dtype") if k in row)
    print(key)
    for field, value in row.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and field not in ("ExpansionFactor", "Latents"):
            values = [r["Rows"][index][field] for r in results if isinstance(r["Rows"][index].get(field), (int, float))]
            if values:
                print(f"  {field}: min {min(values):g}, median {statistics.median(values):g}, max {max(values):g}")
PY
