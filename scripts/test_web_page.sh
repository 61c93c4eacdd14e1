#!/usr/bin/env bash
# The web chat page in headless Chromium: installs the Debian packages chromium and
# chromium-driver when missing, starts `samtal serve` with the tiny fixture model, and runs
# scripts/web_page_check.py (W3C WebDriver over HTTP, no extra Python packages). The screenshot
# is written to target/web-page.png. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromedriver >/dev/null || ! { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium chromium-driver
fi
cargo build --quiet --release -p samtal-cli
. scripts/lib.sh
start_samtal_serve --model "${SAMTAL_SERVE_MODEL:-fixtures/models/tiny-llama}"
driver_port=$((20000 + RANDOM % 20000))
chromedriver --port="$driver_port" >/dev/null 2>&1 &
dpid=$!
trap 'kill $serve_pid $dpid 2>/dev/null || true; rm -f "$serve_log"' EXIT
python3 scripts/web_page_check.py "$addr" "http://127.0.0.1:$driver_port" target/web-page.png
