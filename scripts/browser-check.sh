#!/usr/bin/env bash
# Real-browser check of `ddcnm report`: writes the report of the mock's default scenario,
# opens it in headless Chromium, fails on any console message (errors, refused loads,
# CSP violations) or a document without its map and charts, and saves a screenshot.
#
#   scripts/browser-check.sh [SCREENSHOT.png]     (default: target/browser-check/report.png)
#
# Chromium comes from Debian's packages (`apt-get install chromium`) when it is missing;
# that is the only network access, and it is apt's. The browser itself reaches nothing
# but the file: it runs in a network namespace of its own when `unshare -n` is allowed
# (no interface at all), and in any case resolves no host name and sends through a
# closed loopback proxy. The mock server listens on 127.0.0.1 only.
#
# Timings on a 2-core machine, ddcnm already built: about 7 s (three Chromium starts of
# ~1.5 s each, the report, cargo's check); installing Chromium first adds about 40 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

target_dir=${CARGO_TARGET_DIR:-target}
work="$target_dir/browser-check"
shot=${1:-$work/report.png}
mkdir -p "$work" "$(dirname "$shot")"
started=$(date +%s.%N)
say() { printf 'browser-check: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# 1. Chromium, from the system's packages when missing.
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    say "installing chromium from the Debian packages"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        chromium >/dev/null
    browser=$(command -v chromium) || fail "chromium is still not installed"
fi
installed=$(date +%s.%N)
say "$("$browser" --version 2>/dev/null || echo chromium)"

# 2. ddcnm, and the mock server on a free loopback port (its URL is its first line).
cargo build --quiet --locked -p datadog-cnm-cli
ddcnm="$target_dir/debug/ddcnm"
"$ddcnm" mock-server --addr 127.0.0.1:0 >"$work/mock.out" 2>&1 &
mock=$!
trap 'kill "$mock" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
    url=$(head -n 1 "$work/mock.out" 2>/dev/null || true)
    case "$url" in http://127.0.0.1:*) break ;; esac
    sleep 0.05
done
case "$url" in http://127.0.0.1:*) ;; *) fail "the mock server did not start: $(cat "$work/mock.out")" ;; esac

# 3. The report of the acceptance command.
report="$work/report.html"
DD_CNM_BASE_URL="$url" DD_API_KEY=browser-check DD_APP_KEY=browser-check \
    "$ddcnm" --quiet report --html "$report" \
    --last 6h --step 1h --group-by client_service,server_service
say "report: $(wc -c <"$report") bytes"

# 4. Headless Chromium with no way out.
isolate=()
if unshare -n true 2>/dev/null; then
    isolate=(unshare -n)
fi
flags=(
    --headless --no-sandbox --disable-gpu --hide-scrollbars --mute-audio
    --no-first-run --no-default-browser-check --disable-extensions --disable-sync
    --disable-background-networking --disable-component-update --disable-default-apps
    --disable-domain-reliability --disable-breakpad --metrics-recording-only --no-pings
    "--host-resolver-rules=MAP * ~NOTFOUND" --proxy-server=127.0.0.1:9
    "--user-data-dir=$work/profile" --enable-logging=stderr --v=0
)
browse() { # browse <log> <args…>: run Chromium, its log to <log>
    local log=$1
    shift
    timeout 60 "${isolate[@]}" "$browser" "${flags[@]}" "$@" 2>"$log"
}
console() { grep -E 'CONSOLE|Uncaught|Refused to' "$1" || true; }

# The check must be able to fail: a page that logs an error has to be caught.
canary="$work/canary.html"
printf '<!DOCTYPE html><title>canary</title><script>console.error("canary-7c1e")</script>\n' >"$canary"
browse "$work/canary.log" --dump-dom "file://$(realpath "$canary")" >/dev/null
console "$work/canary.log" | grep -q canary-7c1e ||
    fail "Chromium's console is not in its log; the check would miss errors (see $work/canary.log)"

file_url="file://$(realpath "$report")"
browse "$work/dom.log" --dump-dom "$file_url" >"$work/dom.html"
browse "$work/shot.log" --window-size=1200,900 "--screenshot=$(realpath "$shot")" "$file_url"
errors=$(console "$work/dom.log"; console "$work/shot.log")
[ -z "$errors" ] || fail "console messages:
$errors"

# 5. The file refers to nothing (server text has `=` escaped, so any `src=` or `href=`
# would be an attribute), and the rendered document has its parts and no such attribute.
if grep -Eiq '(src|href|srcset)=|@import|url\(([^#)]|$)' "$report"; then
    fail "the report refers to something outside itself"
fi
dom="$work/dom.html"
count() { grep -o "$1" "$dom" | wc -l; }
[ "$(count '<svg class="map"')" -eq 1 ] || fail "no service map in the rendered document"
[ "$(count '<svg class="chart"')" -eq 4 ] || fail "not four trend charts in the rendered document"
[ "$(count 'class="edge"')" -ge 20 ] || fail "the map has fewer than 20 edges"
if grep -Eiq '<[a-z][^>]*[[:space:]](src|href|srcset)=' "$dom"; then
    fail "the rendered document has an element that loads something"
fi
[ -s "$shot" ] || fail "no screenshot at $shot"
# Smaller, when a PNG optimiser is at hand (the picture is unchanged to the eye).
if command -v pngquant >/dev/null; then
    pngquant --force --skip-if-larger --quality 70-95 --strip --output "$shot" -- "$shot" || true
fi

finished=$(date +%s.%N)
say "ok: no console messages; map, 4 charts; screenshot $shot ($(wc -c <"$shot") bytes)"
say "$(awk -v a="$started" -v b="$installed" -v c="$finished" \
    'BEGIN { printf "took %.1f s (%.1f s without installing Chromium)", c - a, c - b }')"
