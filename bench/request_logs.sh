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
# Each run is timed by bench/timecmd: wall time to the microsecond (a
# monotonic clock around the child's start and reaping; no shell around
# either tool, cat's output opened inside the timed span as a shell's
# redirection would be), CPU and peak RSS from the kernel's rusage. (GNU
# time's %e counts in 10 ms steps: on runs of 50-80 ms the ratio jumped
# between 0.62, 0.75 and 0.83 on the same binaries.) Times are printed to
# the millisecond and the ratio is of the medians' microseconds.
#
# The floor: what any program linking appcfg's libraries pays for the same
# download, measured in the same rounds (bench/floor). Start-up alone is
# timed for a hello-world Go program, f2 (a urfave/cli program linking the
# design card's libraries: urfave/cli/v2, yaml.v3, doublestar/v4, x/oauth2,
# progressbar/v3), f3 (f2 plus modernc.org/sqlite and net/http, which every
# appcfg command links) and `appcfg version`. Then f2 and f3 run `copy`:
# their start-up plus the download's least work (a new temporary file
# beside the output, its blocks allocated at once, the store's lines file
# copied into it by copy_file_range, renamed onto the output), no store
# opened and nothing listed. cat's time over f3's copy is the best ratio
# any build of appcfg reaches under a plain `go build` (the goal is
# reachable only if that line is >= 0.8x); request_logs' time less f3's is
# what appcfg adds to that floor. f3's copy is timed once more built with
# CGO_ENABLED=0 -tags urfave_cli_no_docs (no dynamic loader, no urfave/cli
# Markdown renderer): what a release built so could reach, which a user's
# `go install` does not. Last, f3 built with -tags floorstore,floorlocal
# runs `download`: request_logs' own work through appcfg's backend/local
# and logs packages, without its CLI, which splits appcfg's share into the
# store's (download less copy) and start-up's (request_logs less download).
# cat of the store's lines file is timed too: the ratio's cat copies
# request_logs' output, which is cheaper to copy from than the lines file
# request_logs and the floor copy from.
#
# Usage: bench/request_logs.sh [N]
# Needs: go, bc. ROUNDS=R repeats each measurement (default 7) and keeps
# the median, interleaving the tools so both see the same machine load.
# APPCFG=PATH and GENLOGS=PATH measure given binaries (built from one tree:
# a store a newer genlogs wrote may be too new for an older appcfg) instead
# of building this tree.
set -euo pipefail
n=${1:-1000000}
small=$((n / 10))
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
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
(cd "$repo" && go build -o "$work/timecmd" ./bench/timecmd)
echo "building the floor programs (bench/floor)"
(cd "$repo" && go build -o "$work/hello" ./bench/floor/hello &&
	go build -o "$work/f2" ./bench/floor &&
	go build -tags floorstore -o "$work/f3" ./bench/floor &&
	CGO_ENABLED=0 go build -tags floorstore,urfave_cli_no_docs -o "$work/f3s" ./bench/floor &&
	go build -tags floorstore,floorlocal -o "$work/f3l" ./bench/floor)

for count in "$small" "$n"; do
	echo "storing $count request logs in $work/store$count"
	s=$(date +%s.%N)
	"$work/genlogs" "$work/store$count" bench "$count"
	printf '  stored in %.1f s (%s)\n' "$(echo "$(date +%s.%N) - $s" | bc -l)" "$(du -sh "$work/store$count" | cut -f1)"
done

rounds=${ROUNDS:-7}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure OUT [-o FILE] CMD...: appends "wall user sys maxrss_kb" of CMD
# (seconds to the microsecond) to OUT.
measure() {
	local out=$1
	shift
	"$work/timecmd" -a "$out" "$@"
}
ms() { printf '%.1f ms' "$(echo "$1 * 1000" | bc -l)"; }
# The floor copies the store's lines file, which is the download's bytes
# when the store holds one (checked below).
lines_file=$(find "$work/store$n/logs" -name '*.lines')
[ "$(echo "$lines_file" | wc -l)" = 1 ] || { echo "bench: expected one lines file in $work/store$n/logs: $lines_file" >&2; exit 1; }
# One untimed download first, so the store's files are in the page cache as
# the file cat copies is.
"$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 "$work/warm.log"
rm -f "$work/warm.log"
: >"$work/t_small"; : >"$work/t_dl"; : >"$work/t_cat"; : >"$work/t_catlines"; : >"$work/t_rec"
: >"$work/t_hello"; : >"$work/t_f2"; : >"$work/t_f3"; : >"$work/t_ver"; : >"$work/t_f2copy"; : >"$work/t_f3copy"; : >"$work/t_f3scopy"; : >"$work/t_f3dl"
for _ in $(seq "$rounds"); do
	# Start-ups are short and noisy: three of each a round.
	for _ in 1 2 3; do
		measure "$work/t_hello" -o /dev/null "$work/hello"
		measure "$work/t_f2" -o /dev/null "$work/f2" version
		measure "$work/t_f3" -o /dev/null "$work/f3" version
		measure "$work/t_ver" -o /dev/null "$work/appcfg" version
	done
	measure "$work/t_f2copy" "$work/f2" copy "$lines_file" "$work/floor.log"
	rm -f "$work/floor.log"
	measure "$work/t_f3copy" "$work/f3" copy "$lines_file" "$work/floor.log"
	cmp -s "$lines_file" "$work/floor.log" || { echo "bench: the floor's copy differs from $lines_file" >&2; exit 1; }
	rm -f "$work/floor.log"
	measure "$work/t_f3scopy" "$work/f3s" copy "$lines_file" "$work/floor.log"
	rm -f "$work/floor.log"
	measure "$work/t_f3dl" "$work/f3l" download "$work/store$n" bench v1 "$work/floor.log"
	cmp -s "$lines_file" "$work/floor.log" || { echo "bench: the floor's download differs from $lines_file" >&2; exit 1; }
	rm -f "$work/floor.log"
	# Each tool writes a new file: replacing last round's output would add
	# the freeing of 187 MB to one side only.
	rm -f "$work/out$small.log" "$work/out$n.log"
	measure "$work/t_small" "$work/appcfg" -q --backend "local:$work/store$small" request_logs -A bench -V v1 --num_days 0 "$work/out$small.log"
	measure "$work/t_dl" "$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 "$work/out$n.log"
	measure "$work/t_cat" -o "$work/copy.log" cat "$work/out$n.log"
	rm -f "$work/copy.log"
	# The same bytes from the store's lines file, the source request_logs
	# copies from: cat's source above, written by one aligned copy, has
	# been 4-10 ms cheaper to copy from here than the lines file, written
	# a chunk at a time (docs/performance.md, ninth round).
	measure "$work/t_catlines" -o "$work/copy.log" cat "$lines_file"
	rm -f "$work/copy.log"
	measure "$work/t_rec" "$work/appcfg" -q --backend "local:$work/store$n" request_logs -A bench -V v1 --num_days 0 --include_vhost "$work/vhost.log"
	rm -f "$work/vhost.log"
done
cmp -s "$lines_file" "$work/out$n.log" || echo "bench: note: the download is not the lines file's bytes, so the floor's copy is not the same work" >&2
lines=$(wc -l <"$work/out$n.log")
bytes=$(stat -c %s "$work/out$n.log")
dl=$(cut -d' ' -f1 "$work/t_dl" | median)
dl_cpu=$(awk '{print $2 + $3}' "$work/t_dl" | median)
ct=$(cut -d' ' -f1 "$work/t_cat" | median)
ct_cpu=$(awk '{print $2 + $3}' "$work/t_cat" | median)
rec=$(cut -d' ' -f1 "$work/t_rec" | median)
rec_cpu=$(awk '{print $2 + $3}' "$work/t_rec" | median)
rss_small=$(cut -d' ' -f4 "$work/t_small" | median)
rss=$(cut -d' ' -f4 "$work/t_dl" | median)
mb=$(echo "$bytes / 1048576" | bc -l)
echo
echo "records:            $lines lines, $(printf %.1f "$mb") MB"
echo "median of $rounds interleaved rounds:"
echo "request_logs:       $(ms "$dl") wall, $(ms "$dl_cpu") CPU, $(printf %.0f "$(echo "$mb / $dl" | bc -l)") MB/s"
echo "cat (same size):    $(ms "$ct") wall, $(ms "$ct_cpu") CPU, $(printf %.0f "$(echo "$mb / $ct" | bc -l)") MB/s"
echo "throughput ratio:   $(printf %.2f "$(echo "$ct / $dl" | bc -l)")x cat (request_logs MB/s / cat MB/s, 1.0 = as fast, higher is faster; goal >= 0.8x)"
echo "records path:       $(ms "$rec") wall, $(ms "$rec_cpu") CPU with --include_vhost (every record decoded and formatted), $(printf %.2f "$(echo "$ct / $rec" | bc -l)")x cat"
echo "peak memory (RSS):  $((rss_small / 1024)) MB for $small records, $((rss / 1024)) MB for $n records"
# wallcpu FILE: "W ms wall, C ms CPU" of FILE's medians.
wallcpu() { echo "$(ms "$(cut -d' ' -f1 "$1" | median)") wall, $(ms "$(awk '{print $2 + $3}' "$1" | median)") CPU"; }
f3c=$(cut -d' ' -f1 "$work/t_f3copy" | median)
f2c=$(cut -d' ' -f1 "$work/t_f2copy" | median)
echo "start-up floor (median of $((3 * rounds)) runs each, interleaved):"
echo "  hello world (fmt):          $(wallcpu "$work/t_hello")"
echo "  f2 (design card's libs):    $(wallcpu "$work/t_f2")"
echo "  f3 (f2 + sqlite, net/http): $(wallcpu "$work/t_f3")"
echo "  appcfg version:             $(wallcpu "$work/t_ver")"
echo "floor copy (start-up + temp file, fallocate, copy_file_range of the lines file, rename; no store):"
echo "  f2 copy:                    $(wallcpu "$work/t_f2copy"), $(printf %.2f "$(echo "$ct / $f2c" | bc -l)")x cat"
echo "  f3 copy:                    $(wallcpu "$work/t_f3copy"), $(printf %.2f "$(echo "$ct / $f3c" | bc -l)")x cat: the best ratio a build of appcfg can reach"
f3sc=$(cut -d' ' -f1 "$work/t_f3scopy" | median)
echo "  f3 copy, CGO_ENABLED=0 -tags urfave_cli_no_docs: $(wallcpu "$work/t_f3scopy"), $(printf %.2f "$(echo "$ct / $f3sc" | bc -l)")x cat (build settings go install cannot be made to use)"
ctl=$(cut -d' ' -f1 "$work/t_catlines" | median)
echo "  cat of the store's lines file: $(wallcpu "$work/t_catlines"), $(printf %.2f "$(echo "$ctl / $ct" | bc -l)")x the time of cat above: the source request_logs copies from (the ratio's cat copies request_logs' output, written by one aligned copy)"
f3d=$(cut -d' ' -f1 "$work/t_f3dl" | median)
diffms() { printf '%+.1f ms' "$(echo "($1 - $2) * 1000" | bc -l)"; }
echo "  f3 download (appcfg's backend/local and logs, no CLI): $(wallcpu "$work/t_f3dl"), $(printf %.2f "$(echo "$ct / $f3d" | bc -l)")x cat"
echo "  request_logs - f3 copy:     $(diffms "$dl" "$f3c") wall: appcfg's own (its start-up above f3's, the store, the listing)"
echo "    f3 download - f3 copy:    $(diffms "$f3d" "$f3c") wall: of which the store's opening, the listing and the download's code"
echo "    request_logs - f3 download: $(diffms "$dl" "$f3d") wall: and appcfg's start-up above f3's (the CLI and the packages only it links)"
echo "load average:       $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall times)"
