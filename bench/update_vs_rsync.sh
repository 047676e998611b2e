#!/usr/bin/env bash
# Benchmark: `appcfg update` to a fresh local backend against `rsync -a` of the
# same tree into an empty directory, and an unchanged redeploy against an rsync
# no-op, in one run. The local store keeps every blob durable before its
# record commits, so the fair anchor for a first deploy is rsync followed by
# `sync -f DEST` (a flush of the destination's file system); the plain rsync
# ratio (a page-cache copy) is printed too. Prints three ratios (goals, issue
# 19: first deploy <= 1.2x rsync+flush, redeploy <= 0.5x the rsync no-op).
#
# Usage: bench/update_vs_rsync.sh [FILES] [TOTAL_MB]   (default 5000 files, 200 MB)
# Needs: go, rsync, bc, python3 (to generate the tree), coreutils sync. Run
# from anywhere (apt-get install rsync bc).
# ROUNDS=N repeats each measurement N times (default 3), interleaved, and
# keeps the medians; ROUNDS=5 takes about two minutes on a quiet 2-core machine.
set -euo pipefail
files=${1:-5000}
total_mb=${2:-200}
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go rsync python3 bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required (e.g. apt-get install $tool)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# APPCFG=PATH measures that binary instead of building this tree (to
# compare two versions on the same machine).
if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	echo "building appcfg"
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi

echo "generating $files files, $total_mb MB in $work/app"
python3 - "$work/app" "$files" "$total_mb" <<'PY'
import os, random, sys
root, n, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
os.makedirs(root)
with open(os.path.join(root, "app.yaml"), "w") as f:
    f.write("runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n"
            "- url: /static\n  static_dir: static\n- url: /.*\n  script: main.app\n")
open(os.path.join(root, "main.py"), "w").write("app = None\n")
# Sizes follow a rough long tail (many small files, some large ones) summing to mb.
weights = [rng.paretovariate(1.2) for _ in range(n)]
scale = mb * 1024 * 1024 / sum(weights)
for i, w in enumerate(weights):
    d = os.path.join(root, "static" if i % 3 else "lib", "d%03d" % (i % 97))
    os.makedirs(d, exist_ok=True)
    size = min(int(w * scale), 30 * 1024 * 1024)
    with open(os.path.join(d, "f%05d.bin" % i), "wb") as f:
        f.write(rng.randbytes(size))
PY
sync

# Each measurement drops nothing from the page cache: both tools read the
# same warm files, which is what a developer's redeploy sees.
secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >"$work/last.log" 2>&1 || { echo "bench: failed: $*" >&2; cat "$work/last.log" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

# Each measurement is repeated ROUNDS times, interleaved so both tools see the
# same machine load, and the median is kept.
rounds=${ROUNDS:-3}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
export XDG_CACHE_HOME="$work/cache"
: >"$work/t_rf"; : >"$work/t_rs"; : >"$work/t_rn"; : >"$work/t_df"; : >"$work/t_da"
rsync_flush() { rsync -a "$1" "$2" && sync -f "$2"; }
for ((i = 1; i <= rounds; i++)); do
	rm -rf "$work/rsync-dest" "$work/rsync-dest2" "$work/backend" "$work/cache"
	sync
	secs rsync -a "$work/app/" "$work/rsync-dest/" >>"$work/t_rf"
	sync
	secs rsync_flush "$work/app/" "$work/rsync-dest2/" >>"$work/t_rs"
	secs rsync -a "$work/app/" "$work/rsync-dest/" >>"$work/t_rn"
	sync
	secs "$work/appcfg" update --backend "local:$work/backend" -A bench -V v1 --quiet "$work/app" >>"$work/t_df"
	secs "$work/appcfg" update --backend "local:$work/backend" -A bench -V v1 --quiet "$work/app" >>"$work/t_da"
	# A failed deploy must not be reported as a fast one.
	"$work/appcfg" list_versions --backend "local:$work/backend" -A bench --quiet | grep -q v1 || { echo "bench: deploy failed" >&2; exit 1; }
done
rsync_first=$(median <"$work/t_rf")
rsync_sync=$(median <"$work/t_rs")
rsync_noop=$(median <"$work/t_rn")
deploy_first=$(median <"$work/t_df")
deploy_again=$(median <"$work/t_da")

echo "median of $rounds rounds:"
printf '%-28s %8.3f s\n' "rsync -a (first copy)" "$rsync_first" "rsync -a + sync -f" "$rsync_sync" \
	"rsync -a (no-op)" "$rsync_noop" \
	"appcfg update (first)" "$deploy_first" "appcfg update (unchanged)" "$deploy_again"
printf 'first deploy / rsync:        %.2fx (page-cache copy, no flush)\n' "$(echo "$deploy_first / $rsync_first" | bc -l)"
printf 'first deploy / rsync+flush:  %.2fx (goal <= 1.2x)\n' "$(echo "$deploy_first / $rsync_sync" | bc -l)"
printf 'redeploy / rsync no-op:      %.2fx (goal <= 0.5x)\n' "$(echo "$deploy_again / $rsync_noop" | bc -l)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
