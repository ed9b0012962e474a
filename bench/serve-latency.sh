#!/usr/bin/env bash
# Latency of `mlsae serve`'s POST /api/prompt for 32- and 128-token prompts on the embedded model
# (median and p90 of REQUESTS sequential requests after a warm-up), and the throughput of 8
# concurrent clients (8 × REQUESTS requests of 32 tokens). Prints one JSON object.
#
#   bench/serve-latency.sh [run-folder]
#
# Without a run folder it first trains a small one on the embedded model (128k tokens, the embedded
# run's defaults otherwise: x8 = 1,024 latents, K 16, all 6 layers). MLSAE overrides the command
# (default: dotnet run -c Release --project src/Mlsae.Cli --).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { echo "error: curl is required" >&2; exit 1; }
read -r -a mlsae <<< "${MLSAE:-dotnet run -c Release --project src/Mlsae.Cli --}"
requests=${REQUESTS:-20}
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

run=${1:-}
if [ -z "$run" ]; then
  run=$tmp/run
  "${mlsae[@]}" train --out "$run" --max-tokens 131072 >"$tmp/train.log" 2>&1 || { cat "$tmp/train.log" >&2; exit 1; }
fi

"${mlsae[@]}" serve --sae "$run" --port 0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 600); do
  grep -q '^listening on ' "$tmp/serve.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; exit 1; }
  sleep 0.2
done
url=$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -1)
[ -n "$url" ] || { echo "error: serve did not start" >&2; exit 1; }

# A prompt of n token ids spread over the vocabulary (ids 1..1000; the embedded vocabulary has 1,024).
body() { echo "{\"input_ids\": [$(seq 1 "$1" | awk '{printf "%s%d", (NR>1?",":""), 1 + ($1 * 37) % 1000}')]}"; }
post() { curl -s -o /dev/null -w "$2" -X POST -H 'Content-Type: application/json' --data "$1" "$url/api/prompt"; }

# Median and 90th percentile, in milliseconds, of REQUESTS sequential requests.
latency() {
  local b; b=$(body "$1")
  for _ in 1 2 3; do post "$b" '' ; done
  # Only answers of 200 count; any other status stops the bench.
  for _ in $(seq "$requests"); do post "$b" '%{http_code} %{time_total}\n'; done |
    awk '$1 != 200 {print "error: status " $1 > "/dev/stderr"; exit 1} {print $2}' | sort -g |
    awk '{v[NR]=$1} END {printf "{\"median_ms\": %.1f, \"p90_ms\": %.1f}", 1000*v[int((NR+1)/2)], 1000*v[int(0.9*NR+0.5)]}'
}
l32=$(latency 32)
l128=$(latency 128)

b32=$(body 32)
start=$(date +%s.%N)
seq $((8 * requests)) | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' --data "$b32" "$url/api/prompt" >"$tmp/codes"
end=$(date +%s.%N)
ok=$(grep -c '^200$' "$tmp/codes" || true)
total=$(wc -l <"$tmp/codes")
rps=$(awk -v n="$ok" -v s="$start" -v e="$end" 'BEGIN {printf "%.2f", n / (e - s)}')
echo "{\"prompt_32\": $l32, \"prompt_128\": $l128, \"concurrent_8\": {\"requests\": $total, \"ok\": $ok, \"requests_per_s\": $rps, \"tokens_per_s\": $(awk -v r="$rps" 'BEGIN {printf "%.0f", 32 * r}')}}"
