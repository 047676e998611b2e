#!/usr/bin/env bash
# Benchmark: `appcfg serve`'s proxy against the instance it proxies to
# (issue 17). A hello-world Go version is deployed to a temporary local
# store and served with request logging on (as always); bench/loadgen
# then measures, in interleaved rounds:
#   - latency: N sequential keep-alive requests alternately straight to the
#     instance's own port (which serve prints when it starts one) and
#     through serve: p50 and p99 of each, and the p50 ratio (goal <= 1.2x);
#     beside them, taking turns with them, the floors any proxy in front
#     of the same instance pays on this machine: a raw TCP relay (bytes
#     copied both ways, no HTTP parsing) and a bare httputil.ReverseProxy
#     (no logging, no routing), both `loadgen relay|proxy`;
#   - throughput: M requests over C connections at once through serve
#     (goal >= 2,000 req/s on 2 cores), and the same straight to the
#     instance for reference;
#   - cold start: the version is stopped (stop_module_version, and a
#     request that serve answers 503 stops its instance), started again,
#     and the first request's time is taken: serve starting the built
#     binary and proxying to it (goal <= 1 s).
# Prints the medians of ROUNDS rounds, the ratio and the load average. At
# the end serve is stopped and must have recorded every request sent to it.
#
# The Python 3 example (examples/hello) is measured beside it, latency (PN
# sequential requests a side, default 200) and cold start only: its server
# takes one request at a time. PYTHON=0 leaves it out.
#
# Usage: bench/serve.sh   (ROUNDS=R, default 5; N=500 sequential requests a
# side; C=16 connections and M=5000 requests for the throughput run)
# APPCFG=PATH measures that binary instead of building this tree.
# Needs: go, bc. Loopback only; every run of loadgen is bounded in requests and
# time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required (e.g. apt-get install $tool)" >&2; exit 2; }
done
rounds=${ROUNDS:-5}
n=${N:-500}
c=${C:-16}
m=${M:-5000}
pn=${PN:-200}
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-servebench.XXXXXX")
serve_pid=
front_pids=()
stop_fronts() {
	for p in "${front_pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	front_pids=()
}
cleanup() {
	stop_fronts
	if [ -n "$serve_pid" ]; then
		kill -INT "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building appcfg and loadgen"
if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi
(cd "$repo" && go build -o "$work/loadgen" ./bench/loadgen)

mkdir "$work/app"
cat >"$work/app/app.yaml" <<'EOF'
runtime: go125
EOF
cat >"$work/app/go.mod" <<'EOF'
module example.com/hello

go 1.22
EOF
cat >"$work/app/main.go" <<'EOF'
package main

import (
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Hello, World!\n"))
	})
	if err := http.ListenAndServe(":"+os.Getenv("PORT"), nil); err != nil {
		os.Exit(1)
	}
}
EOF

# The store, serve's cache (the built binary) and nothing else are the
# run's own; Go's build and module caches stay the user's, so the one build
# of the version is quick.
export GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)" GOPROXY=off GOFLAGS=-mod=mod
export XDG_CACHE_HOME="$work/cache" APPCFG_BACKEND="local:$work/store"
"$work/appcfg" -q update "$work/app" -A bench -V v1 >/dev/null
# The Python 3 example (examples/hello: python3 main.py, the standard
# library's single-threaded WSGI server) as service py of the same app,
# for latency and cold start only. PYTHON=0 leaves it out.
py=${PYTHON:-1}
command -v python3 >/dev/null || py=0
if [ "$py" = 1 ]; then
	cp -r "$repo/examples/hello" "$work/py"
	echo "service: py" >>"$work/py/app.yaml"
	"$work/appcfg" -q update "$work/py" -A bench -V v1 >/dev/null
fi

"$work/appcfg" serve -A bench --port 0 --url_file "$work/url" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 300); do
	[ -s "$work/url" ] && break
	kill -0 "$serve_pid" 2>/dev/null || { echo "bench: serve exited:" >&2; cat "$work/serve.err" >&2; exit 1; }
	sleep 0.1
done
[ -s "$work/url" ] || { echo "bench: serve wrote no URL in 30 s" >&2; exit 1; }
url=$(cat "$work/url")
sent=0

# The first request builds the version (once) and starts its instance.
"$work/loadgen" once -t 5m "$url" >/dev/null
sent=$((sent + 1))
if [ "$py" = 1 ]; then
	"$work/loadgen" once -t 1m -host py.localhost "$url" >/dev/null
	sent=$((sent + 1))
fi

# instance_url SERVICE is the address serve printed for the instance of
# SERVICE it started last.
instance_url() {
	local addr
	addr=$(grep -o "service $1: instance [0-9a-f]* started on [0-9.]*:[0-9]*" "$work/serve.err" | tail -1 | awk '{print $NF}')
	[ -n "$addr" ] || { echo "bench: serve named no instance address:" >&2; cat "$work/serve.err" >&2; exit 1; }
	echo "http://$addr/"
}
# start_front MODE URL starts `loadgen MODE` (relay or proxy) in front of
# URL and sets front_url to its own URL.
start_front() {
	local out="$work/front.$1"
	"$work/loadgen" "$1" -t 30m "$2" >"$out" &
	front_pids+=($!)
	for _ in $(seq 100); do
		front_url=$(sed -n 's/^url=//p' "$out")
		[ -n "$front_url" ] && return
		sleep 0.1
	done
	echo "bench: loadgen $1 printed no URL" >&2
	exit 1
}
# cpu_ticks is the CPU time serve used so far (user + system), in clock
# ticks: per request, a figure the machine's load moves much less than times.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
hz=$(getconf CLK_TCK)
# field KEY LINE: the value of KEY=value in LINE.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

: >"$work/lat"; : >"$work/pylat"; : >"$work/pycold"; : >"$work/rps"; : >"$work/cpu"; : >"$work/rps_direct"; : >"$work/cold"
for ((i = 1; i <= rounds; i++)); do
	direct=$(instance_url default)
	start_front relay "$direct"; relay=$front_url
	start_front proxy "$direct"; proxy=$front_url
	line=$("$work/loadgen" latency -n "$n" "$direct" "$url" "$relay" "$proxy")
	stop_fronts
	echo "$line" >>"$work/lat"
	sent=$((sent + n + 1))
	cpu0=$(cpu_ticks)
	line=$("$work/loadgen" rate -c "$c" -n "$m" "$url")
	cpu1=$(cpu_ticks)
	field rps "$line" >>"$work/rps"
	echo "($cpu1 - $cpu0) * 1000000 / $hz / ($m + $c)" | bc -l >>"$work/cpu"
	sent=$((sent + m + c))
	line=$("$work/loadgen" rate -c "$c" -n "$m" "$direct")
	field rps "$line" >>"$work/rps_direct"

	"$work/appcfg" -q stop_module_version -A bench -V v1 >/dev/null
	"$work/loadgen" once -want 503 "$url" >/dev/null # serve stops the instance before answering
	"$work/appcfg" -q start_module_version -A bench -V v1 >/dev/null
	line=$("$work/loadgen" once -t 30s "$url")
	echo "$(field us "$line") / 1000000" | bc -l >>"$work/cold"
	sent=$((sent + 2))
	printf 'round %d: %s, %s req/s through serve (%.0f us of serve CPU a request), cold start %.3f s\n' "$i" "$(tail -1 "$work/lat")" "$(tail -1 "$work/rps")" "$(tail -1 "$work/cpu")" "$(tail -1 "$work/cold")"

	if [ "$py" = 1 ]; then
		line=$("$work/loadgen" latency -n "$pn" -host py.localhost "$(instance_url py)" "$url")
		echo "$line" >>"$work/pylat"
		sent=$((sent + pn + 1))
		"$work/appcfg" -q stop_module_version -A bench -M py -V v1 >/dev/null
		"$work/loadgen" once -want 503 -host py.localhost "$url" >/dev/null
		"$work/appcfg" -q start_module_version -A bench -M py -V v1 >/dev/null
		line=$("$work/loadgen" once -t 30s -host py.localhost "$url")
		echo "$(field us "$line") / 1000000" | bc -l >>"$work/pycold"
		sent=$((sent + 2))
		printf 'round %d, Python example: %s, cold start %.3f s\n' "$i" "$(tail -1 "$work/pylat")" "$(tail -1 "$work/pycold")"
	fi
done

kill -INT "$serve_pid"
wait "$serve_pid" || { echo "bench: serve failed:" >&2; cat "$work/serve.err" >&2; exit 1; }
serve_pid=
recorded=$(sed -n 's/^Stopped\. \([0-9]*\) requests recorded\.$/\1/p' "$work/serve.err")
[ "$recorded" = "$sent" ] || { echo "bench: serve recorded ${recorded:-?} requests of the $sent sent to it" >&2; exit 1; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { while read -r line; do field "$1" "$line"; done <"$work/${2:-lat}" | median; }
p50d=$(col p50_a); p99d=$(col p99_a); p50s=$(col p50_b); p99s=$(col p99_b)
p50r=$(col p50_c); p99r=$(col p99_c); p50p=$(col p50_d); p99p=$(col p99_d)
rps=$(median <"$work/rps"); cpu=$(median <"$work/cpu"); rpsd=$(median <"$work/rps_direct"); cold=$(median <"$work/cold")
echo
echo "hello-world Go version, median of $rounds rounds ($n sequential requests a side; $m requests over $c connections):"
printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "straight to the instance" "$(echo "$p50d / 1000" | bc -l)" "$(echo "$p99d / 1000" | bc -l)"
printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "through serve (request logs on)" "$(echo "$p50s / 1000" | bc -l)" "$(echo "$p99s / 1000" | bc -l)"
printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "floor: raw TCP relay" "$(echo "$p50r / 1000" | bc -l)" "$(echo "$p99r / 1000" | bc -l)"
printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "floor: bare httputil.ReverseProxy" "$(echo "$p50p / 1000" | bc -l)" "$(echo "$p99p / 1000" | bc -l)"
printf 'p50 through serve / straight:  %.2fx (goal <= 1.2x)\n' "$(echo "$p50s / $p50d" | bc -l)"
printf 'p50 floors / straight:         relay %.2fx, bare ReverseProxy %.2fx\n' "$(echo "$p50r / $p50d" | bc -l)" "$(echo "$p50p / $p50d" | bc -l)"
printf 'throughput through serve:      %.0f req/s (goal >= 2000; straight to the instance: %.0f req/s)\n' "$rps" "$rpsd"
printf 'serve CPU per request:         %.0f us (user + system, in the throughput run)\n' "$cpu"
printf 'cold start of the built version: %.3f s (goal <= 1 s)\n' "$cold"
if [ "$py" = 1 ]; then
	echo
	echo "the Python 3 example (examples/hello, one request at a time), median of $rounds rounds ($pn sequential requests a side):"
	pd=$(col p50_a pylat); ps=$(col p50_b pylat)
	printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "straight to the instance" "$(echo "$pd / 1000" | bc -l)" "$(echo "$(col p99_a pylat) / 1000" | bc -l)"
	printf '%-36s p50 %7.3f ms   p99 %7.3f ms\n' "through serve (request logs on)" "$(echo "$ps / 1000" | bc -l)" "$(echo "$(col p99_b pylat) / 1000" | bc -l)"
	printf 'p50 through serve / straight:  %.2fx\n' "$(echo "$ps / $pd" | bc -l)"
	printf 'cold start:                    %.3f s\n' "$(median <"$work/pycold")"
fi
echo
echo "requests recorded by serve: $recorded of $sent"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
