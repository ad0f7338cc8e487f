#!/usr/bin/env bash
# The acceptance check of `ddcnm export` and `-o parquet` (issue 17), end to end with the
# real binary, the bundled mock and DuckDB:
#
#  1. a mock limited to 4 requests per second;
#  2. an export of 12 one-hour windows, killed with SIGKILL once its first file is written,
#     then run again with the same command: it must exit 0 and leave each window once;
#  3. DuckDB reads DIR/connections/**/*.parquet with hive_partitioning, and its row count
#     and sum of bytes_sent_by_client equal those of `ddcnm connections … --step 1h -o json`;
#  4. `ddcnm dns … -o parquet > f.parquet` is read by DuckDB with the same rows as `-o json`.
#
# Needs python3 with duckdb (`pip install duckdb`). Talks only to 127.0.0.1.
#   bash scripts/export-acceptance.sh            # builds ddcnm (release) if needed
#   DDCNM=/path/to/ddcnm bash scripts/export-acceptance.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DDCNM=${DDCNM:-target/release/ddcnm}
if [ ! -x "$DDCNM" ]; then
    cargo build --release -p datadog-cnm-cli
fi
python3 -c 'import duckdb' 2>/dev/null || { echo "needs python3 with duckdb: pip install duckdb" >&2; exit 2; }

work=$(mktemp -d)
mock=
cleanup() {
    if [ -n "$mock" ]; then kill "$mock" 2>/dev/null || true; wait "$mock" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$DDCNM" mock-server --rate-limit 4/1s >"$work/url" 2>/dev/null &
mock=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
export DD_CNM_BASE_URL=$(head -n1 "$work/url") DD_API_KEY=acceptance DD_APP_KEY=acceptance
echo "mock: $DD_CNM_BASE_URL (4 requests per second)"

# 12 whole hours ending at the last full hour of yesterday.
to=$(date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) -1 day" +%Y-%m-%dT%H:00:00Z)
from=$(date -u -d "$to -12 hours" +%Y-%m-%dT%H:00:00Z)
query=(--from "$from" --to "$to" --step 1h --group-by client_service,server_service --limit 500)
dir="$work/cnm"

"$DDCNM" export connections "${query[@]}" --dir "$dir" 2>"$work/first.log" &
export_pid=$!
until [ -n "$(find "$dir" -name '*.parquet' 2>/dev/null | head -n1)" ]; do sleep 0.02; done
kill -9 "$export_pid"
wait "$export_pid" 2>/dev/null || true
echo "killed the first run (kill -9) with $(find "$dir" -name '*.parquet' | wc -l) of 12 windows written"

"$DDCNM" export connections "${query[@]}" --dir "$dir"
echo "second run exit code: $?"
files=$(find "$dir" -name '*.parquet' | wc -l)
distinct=$(find "$dir" -name '*.parquet' -printf '%f\n' | sort -u | wc -l)
leftovers=$(find "$dir" -name '*.partial' | wc -l)
echo "files: $files, distinct windows: $distinct, unfinished files left: $leftovers"
[ "$files" -eq 12 ] && [ "$distinct" -eq 12 ] && [ "$leftovers" -eq 0 ]

"$DDCNM" connections "${query[@]}" -o json >"$work/series.json" 2>/dev/null

"$DDCNM" dns --from "$from" --to "$(date -u -d "$from +1 hour" +%Y-%m-%dT%H:00:00Z)" --limit 200 \
    -o parquet >"$work/dns.parquet"
"$DDCNM" dns --from "$from" --to "$(date -u -d "$from +1 hour" +%Y-%m-%dT%H:00:00Z)" --limit 200 \
    -o json >"$work/dns.json" 2>/dev/null

python3 - "$dir" "$work" <<'EOF'
import json, sys
import duckdb

directory, work = sys.argv[1], sys.argv[2]
con = duckdb.connect()
rows, total, dates, windows = con.execute(f"""
    SELECT count(*), sum(bytes_sent_by_client), count(DISTINCT date), count(DISTINCT window_start)
    FROM read_parquet('{directory}/connections/**/*.parquet', hive_partitioning = true)
""").fetchone()
series = json.load(open(f"{work}/series.json"))
json_rows = len(series)
json_total = sum(r["bytes_sent_by_client"] or 0 for r in series)
print(f"DuckDB over the export: {rows} rows, sum(bytes_sent_by_client) = {total}, "
      f"{windows} windows, {dates} date partition(s)")
print(f"ddcnm -o json, same query: {json_rows} rows, sum(bytes_sent_by_client) = {json_total}")
assert (rows, total, windows) == (json_rows, json_total, 12), "the export differs from the JSON"

top = con.execute(f"""
    SELECT client_service, sum(bytes_sent_by_client) AS bytes
    FROM read_parquet('{directory}/connections/**/*.parquet', hive_partitioning = true)
    WHERE date >= DATE '2000-01-01'
    GROUP BY client_service ORDER BY bytes DESC LIMIT 3
""").fetchall()
print("top client services by bytes sent:", top)

key = lambda row: tuple((value is None, value or 0 if not isinstance(value, str) else value) for value in row)
dns = sorted((tuple(r) for r in con.execute(f"""
    SELECT network_dns_query, dns_total_requests, dns_responses_nxdomain
    FROM read_parquet('{work}/dns.parquet')
""").fetchall()), key=key)
dns_json = sorted(
    ((",".join(v for v in r["group_bys"]["network.dns_query"] if v != "N/A") or None,
      r["dns_total_requests"], r["dns_responses.nxdomain"])
     for r in json.load(open(f"{work}/dns.json"))), key=key)
print(f"dns -o parquet read by DuckDB: {len(dns)} rows; -o json: {len(dns_json)} rows")
assert dns == dns_json, "the DNS Parquet file differs from the JSON"
print("acceptance: ok")
EOF
