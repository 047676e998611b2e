#!/usr/bin/env bash
# Benchmark: `appcfg request_logs` downloading N stored request logs (default
# 1,000,000) from the local backend to a file, against `cat` copying a file of
# the same size, and its peak memory at N/10 and N records (flat memory: the
# two should be about equal). Goal: throughput >= 0.5x cat.
#
# Usage: bench/request_logs.sh [N]
# Needs: go, /usr/bin/time (GNU time), bc. ROUNDS=R repeats each measurement
# (default 3) and keeps the median, interleaving the tools so both see the
# same machine load.
set -euo pipefail
n=${1:-1000000}
small=$((n / 10))
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench: GNU time is required at /usr/bin/time (apt-get install time)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-bench-logs.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "building appcfg and genlogs"
(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg && go build -o "$work/genlogs" ./bench/genlogs)

for count in "$small" "$n"; do
	echo "storing $count request logs in $work/store$count"
	s=$(date +%s.%N)
	"$work/genlogs" "$work/store$count" bench "$count"
	printf '  stored in %.1f s (%s)\n' "$(echo "$(date +%s.%N) - $s" | bc -l)" "$(du -sh "$work/store$count" | cut -f1)"
done

rounds=${ROUNDS:-3}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure OUT CMD...: appends "wall user sys maxrss_kb" of CMD to OUT.
measure() {
	local out=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@"
	cat "$work/time" >>"$out"
}
: >"$work/t_small"; : >"$work/t_dl"; : >"$work/t_cat"
for _ in $(seq "$rounds"); do
	# Each tool writes a new file: replacing last round's output would add
	# the freeing of 187 MB to one side only.
	rm -f "$work/out$small.log" "$work/out$n.log"
	measure "$work/t_small" "$work/appcfg" -q --backend "local:$work/store$small" request_logs -A bench -V v1 --num_days 0 "$work/out$small.log"
	measure "$work/t_dl" "$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 "$work/out$n.log"
	measure "$work/t_cat" sh -c "cat '$work/out$n.log' > '$work/copy.log'"
	rm -f "$work/copy.log"
done
lines=$(wc -l <"$work/out$n.log")
bytes=$(stat -c %s "$work/out$n.log")
dl=$(cut -d' ' -f1 "$work/t_dl" | median)
dl_cpu=$(awk '{print $2 + $3}' "$work/t_dl" | median)
ct=$(cut -d' ' -f1 "$work/t_cat" | median)
rss_small=$(cut -d' ' -f4 "$work/t_small" | median)
rss=$(cut -d' ' -f4 "$work/t_dl" | median)
mb=$(echo "$bytes / 1048576" | bc -l)
echo
echo "records:            $lines lines, $(printf %.1f "$mb") MB"
echo "request_logs:       $dl s wall, $dl_cpu s CPU, $(printf %.0f "$(echo "$mb / $dl" | bc -l)") MB/s"
echo "cat (same size):    $ct s wall, $(printf %.0f "$(echo "$mb / $ct" | bc -l)") MB/s"
echo "throughput ratio:   $(printf %.2f "$(echo "$ct / $dl" | bc -l)")x cat (goal >= 0.5x)"
echo "peak memory (RSS):  $((rss_small / 1024)) MB for $small records, $((rss / 1024)) MB for $n records"
echo "load average:       $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall times)"
