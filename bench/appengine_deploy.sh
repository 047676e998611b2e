#!/bin/sh
# Deploys a 2,000-file python312 app to in-process fakes of the App Engine
# Admin API and Cloud Storage (fake-gcs-server on tmpfs) with appcfg
# (backend appengine) and with the installed gcloud (api_endpoint_overrides),
# first deploy and unchanged redeploy; copies the same files into a bucket of
# the same fake with `rclone copy` (apt-get install rclone) and with a minimal
# parallel uploader (the fake's transfer floor). ROUNDS interleaved rounds
# (default 3; the order of the tools rotates), each on fresh fakes; prints
# every round (wall and CPU time, requests) and the medians and their ratios.
# Goals (issue 19): gcloud / appcfg >= 15x; appcfg first deploy <= 1.3x rclone.
#
# Usage: ROUNDS=N bench/appengine_deploy.sh
#   FILES=N          files in the app (default 2000)
#   APPCFG=PATH      measure this appcfg binary instead of building the tree
#   STEP=DURATION    the bound of one deploy or copy (default 3m)
#   BOUND=SECONDS    the bound of the whole run after the build (default
#                    120 + 150 per round: on this 2-core machine a round
#                    took 80 s at load 16-20 and 120 s at load 33-41)
#   APPCFG_BENCH_GCS=tmpfs|disk|memory   the fake's storage (see bench_test.go)
# Needs: go, gcloud (google-cloud-cli); rclone is optional. Loopback only.
# Whatever it starts (gcloud, rclone, appcfg, the fakes) dies with it: each
# step runs in its own process group, killed when it outlives STEP and, by
# the kernel, when the benchmark process dies; an interrupt stops it cleanly.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-${RUNS:-3}}
bound=${BOUND:-$((120 + 150 * rounds))}
for tool in go gcloud timeout; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-gaebench.XXXXXX")
shm=""
if [ "${APPCFG_BENCH_GCS:-tmpfs}" = tmpfs ] && [ -d /dev/shm ]; then
	shm=$(mktemp -d /dev/shm/appcfg-gaebench.XXXXXX)
fi
pid=""
shown=""
# show prints the benchmark's log without go test's framing (also the
# rounds done when it was stopped).
show() {
	[ -z "$shown" ] && [ -f "$work/out" ] || return 0
	shown=1
	grep -v -E '^(goos|goarch|pkg|cpu|PASS|ok |BenchmarkDeployVsGcloud(-[0-9]+)?$)' "$work/out" |
		sed -e 's/^    bench_test.go:[0-9]*: //' -e 's/^        / /'
}
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		show
	fi
	rm -rf "$work" ${shm:+"$shm"}
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	echo "building appcfg"
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi
(cd "$repo" && go test -c -o "$work/appengine.test" ./backend/appengine)

echo "$rounds rounds of ${FILES:-2000} files, bounded by ${bound}s (load $(cut -d' ' -f1-3 /proc/loadavg))"
start=$(date +%s)
# The test binary runs where its testdata is. timeout sends SIGTERM at the
# bound (the benchmark stops its step and cleans up) and SIGKILL 20 s later.
(
	cd "$repo/backend/appengine"
	[ -z "$shm" ] || export APPCFG_BENCH_GCS_DIR="$shm"
	APPCFG_BENCH_ROUNDS=$rounds APPCFG_BENCH_FILES=${FILES:-2000} APPCFG_BENCH_STEP=${STEP:-3m} \
		APPCFG_BENCH_BIN="$work/appcfg" exec timeout -k 20 "$bound" "$work/appengine.test" -test.run '^$' \
		-test.bench '^BenchmarkDeployVsGcloud$' -test.benchtime 1x -test.v \
		-test.timeout "$((bound + 60))s"
) >"$work/out" 2>&1 &
pid=$!
status=0
wait "$pid" || status=$?
pid=""
show
echo "took $(( $(date +%s) - start ))s after the build"
case $status in
0) grep -q '^BenchmarkDeployVsGcloud' "$work/out" || { echo "no result (gcloud missing?)" >&2; exit 1; } ;;
124) echo "bench: stopped at the bound of ${bound}s (load $(cut -d' ' -f1-3 /proc/loadavg)); raise BOUND on a loaded machine" >&2; exit 1 ;;
137) echo "bench: the benchmark was killed (SIGKILL: at ${bound}s + 20 s, or from outside)" >&2; exit 1 ;;
*) exit "$status" ;;
esac
