#!/usr/bin/env bash
# Fuzzes the file readers with afl-fuzz (Debian: apt-get install afl++) and SharpFuzz.
#
#   bench/fuzz.sh <target|all> <seconds>     e.g. bench/fuzz.sh safetensors 120, bench/fuzz.sh all 60
#
# Targets: see `dotnet bench/Mlsae.Fuzz/out/Mlsae.Fuzz.dll list` (or FuzzTargets.cs). A target's
# contract: any input either loads or throws MlsaeException; any other exception, an out-of-memory
# (the managed heap is capped at FUZZ_HEAP, default 1 GiB) or a hang (FUZZ_TIMEOUT_MS) is a finding.
# Targets run one after another, each for <seconds>; findings go to bench/Mlsae.Fuzz/findings/<target>/
# and each crash is replayed at the end (input in base64 + stack trace).
#
# The first run (and any run after a change under src/Mlsae.Core or bench/Mlsae.Fuzz) publishes the
# harness to bench/Mlsae.Fuzz/out and instruments out/Mlsae.Core.dll with the sharpfuzz tool
# (restored from bench/Mlsae.Fuzz/.config/dotnet-tools.json). FUZZ_REBUILD=1 forces that.
set -euo pipefail

usage() { echo "usage: $0 <target|all> <seconds>" >&2; exit 2; }
[[ $# -eq 2 && $2 =~ ^[0-9]+$ ]] || usage
target=$1 seconds=$2

here=$(cd "$(dirname "$0")" && pwd)
proj=$here/Mlsae.Fuzz
out=$proj/out
findings=$proj/findings
marker=$out/.instrumented

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found (Debian: apt-get install afl++)" >&2; exit 2; }

stale() {
    [[ ! -f $marker || ${FUZZ_REBUILD:-0} == 1 ]] && return 0
    [[ -n $(find "$here/../src/Mlsae.Core" "$proj" -path "$out" -prune -o -path "$proj/findings" -prune -o \
        -path "*/bin" -prune -o -path "*/obj" -prune -o -type f \( -name '*.cs' -o -name '*.csproj' \) -newer "$marker" -print -quit) ]]
}

if stale; then
    echo "== publishing and instrumenting the harness"
    rm -rf "$out"
    dotnet publish "$proj" -c Release -o "$out" --nologo -v quiet
    # The build may hard-link Mlsae.Core.dll to src/Mlsae.Core/bin: copy it first, so that
    # instrumenting in place cannot change the library the tests use.
    cp "$out/Mlsae.Core.dll" "$out/Mlsae.Core.dll.copy" && mv -f "$out/Mlsae.Core.dll.copy" "$out/Mlsae.Core.dll"
    (cd "$proj" && dotnet tool restore >/dev/null && dotnet tool run sharpfuzz "$out/Mlsae.Core.dll")
    touch "$marker"
fi

mapfile -t all < <(dotnet "$out/Mlsae.Fuzz.dll" list)
if [[ $target == all ]]; then targets=("${all[@]}")
elif printf '%s\n' "${all[@]}" | grep -qx -- "$target"; then targets=("$target")
else echo "unknown target '$target' (one of: ${all[*]}, all)" >&2; exit 2
fi

dictionary() {
    case $1 in
        pickle|torchzip) echo "$proj/dictionaries/pickle.dict" ;;
        hub) echo "" ;;
        *) echo "$proj/dictionaries/json.dict" ;;
    esac
}

summary=()
for t in "${targets[@]}"; do
    dir=$findings/$t
    rm -rf "$dir"
    mkdir -p "$dir"
    dict=$(dictionary "$t")
    echo "== $t: ${seconds}s"
    # Persistent mode (SharpFuzz): one dotnet process runs every input. No core pinning: the
    # machine is shared. The heap cap turns allocations proportional to hostile lengths into crashes.
    AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SHUFFLE_QUEUE=0 \
    DOTNET_GCHeapHardLimit=$(printf '0x%x' "${FUZZ_HEAP:-1073741824}") DOTNET_TieredPGO=0 \
        afl-fuzz -V "$seconds" -i "$proj/seeds/$t" -o "$dir" -t "${FUZZ_TIMEOUT_MS:-5000}+" -m none \
            ${dict:+-x "$dict"} -- dotnet "$out/Mlsae.Fuzz.dll" "$t" >"$dir/afl.log" 2>&1 || {
        echo "afl-fuzz failed for $t; the end of $dir/afl.log:" >&2
        tail -20 "$dir/afl.log" >&2
        summary+=("$(printf '%-12s afl-fuzz failed' "$t")")
        continue
    }
    stats=$dir/default/fuzzer_stats
    execs=$(awk -F: '$1 ~ /^execs_done/ {gsub(/ /, "", $2); print $2}' "$stats")
    speed=$(awk -F: '$1 ~ /^execs_per_sec/ {gsub(/ /, "", $2); print $2}' "$stats")
    paths=$(awk -F: '$1 ~ /^corpus_count/ {gsub(/ /, "", $2); print $2}' "$stats")
    crashes=$(find "$dir/default/crashes" -type f ! -name README.txt | wc -l)
    hangs=$(find "$dir/default/hangs" -type f | wc -l)
    summary+=("$(printf '%-12s %10s execs  %8s/s  %5s corpus  %3s crashes  %3s hangs' "$t" "$execs" "$speed" "$paths" "$crashes" "$hangs")")
    if (( crashes > 0 )); then
        echo "-- $t: replaying $crashes crashes"
        dotnet "$out/Mlsae.Fuzz.dll" replay "$t" "$dir/default/crashes" | grep -A6 ': CRASH' || true
    fi
    if (( hangs > 0 )); then echo "-- $t: $hangs hangs in $dir/default/hangs (replay: dotnet $out/Mlsae.Fuzz.dll replay $t <file>)"; fi
    for d in /dev/shm/mlsae-fuzz-*; do   # scratch folders of target processes that have ended
        [[ -d $d ]] && ! kill -0 "${d##*-}" 2>/dev/null && rm -rf "$d"
    done
done

echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
