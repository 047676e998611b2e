#!/usr/bin/env bash
# Benchmark: `appcfg request_logs` downloading N stored request logs (default
# 1,000,000) from the local backend to a file, against `cat` copying that
# output (the same bytes; both read from the page cache, each writes a new
# file), and its peak memory at N/10 and N records (flat memory: the two
# should be about equal). The ratio is request_logs' throughput over cat's
# (1.0: as fast as cat; higher is faster). Goal (issue 19): >= 0.8x.
#
# What the timed download does: a whole process start (the store opened,
# the chunk descriptions listed in time order) and, for chunks whose lines
# the store kept, a copy of those lines in the kernel (docs/logs.md); it
# decodes no record. The records path (every record decoded and formatted)
# is timed too, with --include_vhost, and printed on a line of its own.
#
# Usage: bench/request_logs.sh [N]
# Needs: go, /usr/bin/time (GNU time), bc. ROUNDS=R repeats each measurement
# (default 3) and keeps the median, interleaving the tools so both see the
# same machine load. APPCFG=PATH and GENLOGS=PATH measure given binaries
# (built from one tree: a store a newer genlogs wrote may be too new for an
# older appcfg) instead of building this tree.
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

if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	echo "building appcfg"
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi
if [ -n "${GENLOGS:-}" ]; then
	cp "$GENLOGS" "$work/genlogs"
else
	echo "building genlogs"
	(cd "$repo" && go build -o "$work/genlogs" ./bench/genlogs)
fi

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
# One untimed download first, so the store's files are in the page cache as
# the file cat copies is.
"$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 "$work/warm.log"
rm -f "$work/warm.log"
: >"$work/t_small"; : >"$work/t_dl"; : >"$work/t_cat"; : >"$work/t_rec"
for _ in $(seq "$rounds"); do
	# Each tool writes a new file: replacing last round's output would add
	# the freeing of 187 MB to one side only.
	rm -f "$work/out$small.log" "$work/out$n.log"
	measure "$work/t_small" "$work/appcfg" -q --backend "local:$work/store$small" request_logs -A bench -V v1 --num_days 0 "$work/out$small.log"
	measure "$work/t_dl" "$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 "$work/out$n.log"
	measure "$work/t_cat" sh -c "cat '$work/out$n.log' > '$work/copy.log'"
	rm -f "$work/copy.log"
	measure "$work/t_rec" "$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 --include_vhost "$work/vhost.log"
	rm -f "$work/vhost.log"
done
lines=$(wc -l <"$work/out$n.log")
bytes=$(stat -c %s "$work/out$n.log")
dl=$(cut -d' ' -f1 "$work/t_dl" | median)
dl_cpu=$(awk '{print $2 + $3}' "$work/t_dl" | median)
ct=$(cut -d' ' -f1 "$work/t_cat" | median)
rec=$(cut -d' ' -f1 "$work/t_rec" | median)
rec_cpu=$(awk '{print $2 + $3}' "$work/t_rec" | median)
rss_small=$(cut -d' ' -f4 "$work/t_small" | median)
rss=$(cut -d' ' -f4 "$work/t_dl" | median)
mb=$(echo "$bytes / 1048576" | bc -l)
echo
echo "records:            $lines lines, $(printf %.1f "$mb") MB"
echo "request_logs:       $dl s wall, $dl_cpu s CPU, $(printf %.0f "$(echo "$mb / $dl" | bc -l)") MB/s"
echo "cat (same size):    $ct s wall, $(printf %.0f "$(echo "$mb / $ct" | bc -l)") MB/s"
echo "throughput ratio:   $(printf %.2f "$(echo "$ct / $dl" | bc -l)")x cat (request_logs MB/s / cat MB/s, 1.0 = as fast, higher is faster; goal >= 0.8x)"
echo "records path:       $rec s wall, $rec_cpu s CPU with --include_vhost (every record decoded and formatted), $(printf %.2f "$(echo "$ct / $rec" | bc -l)")x cat"
echo "peak memory (RSS):  $((rss_small / 1024)) MB for $small records, $((rss / 1024)) MB for $n records"
echo "load average:       $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall times)"
