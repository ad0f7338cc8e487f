#!/usr/bin/env bash
# Benchmark export/720x1h: `ddcnm export` of 720 one-hour windows × 7500 rows from the
# bundled mock (no rate limit), with the real release binary in its own process:
# rows per second, peak RSS (GNU time), Parquet bytes, and the bytes of `-o json` and
# `-o ndjson` for the same query. Talks only to 127.0.0.1; writes under a temporary
# directory it removes.
#
#   bash scripts/bench-export.sh                 # builds ddcnm (release) if needed
#   WINDOWS=72 bash scripts/bench-export.sh      # a shorter run
#   DDCNM=/path/to/ddcnm JSON=0 bash scripts/bench-export.sh   # skip the JSON sizes
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DDCNM=${DDCNM:-target/release/ddcnm}
WINDOWS=${WINDOWS:-720}
JSON=${JSON:-1}
if [ ! -x "$DDCNM" ]; then
    cargo build --release -p datadog-cnm-cli
fi
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 2; }

work=$(mktemp -d)
mock=
cleanup() {
    if [ -n "$mock" ]; then kill "$mock" 2>/dev/null || true; wait "$mock" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$DDCNM" mock-server >"$work/url" 2>/dev/null &
mock=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
export DD_CNM_BASE_URL=$(head -n1 "$work/url") DD_API_KEY=bench DD_APP_KEY=bench

to=$(date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) -1 day" +%Y-%m-%dT%H:00:00Z)
from=$(date -u -d "$to -$WINDOWS hours" +%Y-%m-%dT%H:00:00Z)
query=(--from "$from" --to "$to" --step 1h --limit 7500 --group-by client_host,server_host)

/usr/bin/time -v "$DDCNM" export connections "${query[@]}" --dir "$work/out" 2>"$work/export.log"
summary=$(grep '^exported' "$work/export.log")
rows=$(sed -E 's/.*: ([0-9 ,]+) rows.*/\1/; s/[ ,]//g' <<<"$summary")
wall=$(sed -nE 's/.*Elapsed \(wall clock\) time.*: ([0-9:.]+)$/\1/p' "$work/export.log" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$work/export.log")
rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$work/export.log")
parquet=$(find "$work/out" -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { print s }')
files=$(find "$work/out" -name '*.parquet' | wc -l)

echo "$summary"
awk -v rows="$rows" -v wall="$wall" -v cpu="$cpu" -v rss="$rss_kb" -v pq="$parquet" -v files="$files" \
    -v windows="$WINDOWS" 'BEGIN {
    printf "export/%dx1h: %d files, %d rows in %.1f s (%.0f rows/s; %.1f s of CPU in ddcnm), peak RSS %.1f MB, Parquet %.1f MB (%.1f bytes/row)\n",
        windows, files, rows, wall, rows / wall, cpu, rss / 1024, pq / 1e6, pq / rows
}'

if [ "$JSON" = 1 ]; then
    json=$("$DDCNM" connections "${query[@]}" -o json 2>/dev/null | wc -c)
    ndjson=$("$DDCNM" connections "${query[@]}" -o ndjson 2>/dev/null | wc -c)
    awk -v pq="$parquet" -v json="$json" -v nd="$ndjson" 'BEGIN {
        printf "same query: -o json %.1f MB (%.1f× the Parquet), -o ndjson %.1f MB (%.1f×)\n",
            json / 1e6, json / pq, nd / 1e6, nd / pq
    }'
fi
