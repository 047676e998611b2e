#!/usr/bin/env bash
# Benchmark: the wall time of the README's test command (`go test ./...`)
# with no cached test results (issue 19's goal: <= 2 min), with the sum of
# the packages' times (on 2 cores the sum bounds the wall time too), the
# slowest packages (the critical path) and the slowest tests. Runs
# `go test -count=1 -json ./...`, which is `go clean -testcache` then
# `go test ./...` without wiping the test results of everyone sharing the
# build cache.
#
# Usage: bench/test_suite.sh   (ROUNDS=N, default 1; COLD=1 builds with an
# empty build cache of its own too; BASE=REV also runs that revision of the
# repository, interleaved with this tree, to compare under the same load)
# Needs: go, python3, bc, git (for BASE). Run from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go python3 bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-suitebench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The base tree is unpacked elsewhere, with no shared/ beside it: point
# the corpus tests of both trees at this one's.
[ ! -d "$repo/../shared/corpus" ] || export APPCFG_CORPUS="${APPCFG_CORPUS:-$(cd "$repo/../shared/corpus" && pwd)}"
[ ! -d "$repo/../shared/compat" ] || export APPCFG_COMPAT="${APPCFG_COMPAT:-$(cd "$repo/../shared/compat" && pwd)}"
trees=("$repo")
if [ -n "${BASE:-}" ]; then
	mkdir -p "$work/base"
	git -C "$repo" archive "$BASE" | tar -x -C "$work/base"
	trees+=("$work/base")
fi

summary() { # summary FILE.json
	python3 - "$1" <<'PY'
import datetime, json, sys
def ts(s):
    d, _, frac = s.rstrip("Z").partition(".")
    return datetime.datetime.fromisoformat(d).timestamp() + float("0." + (frac or "0"))
pkgs, tests, first, last = {}, [], None, None
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    e = json.loads(line)
    t = ts(e["Time"])
    first = t if first is None else min(first, t)
    last = t if last is None else max(last, t)
    p = e.get("Package", "").replace("github.com/appcfg/appcfg/", "")
    if e["Action"] in ("pass", "fail", "skip"):
        if "Test" not in e:
            pkgs[p] = (e["Action"], e.get("Elapsed", 0))
        elif "/" not in e["Test"] and e["Action"] != "skip":
            tests.append((e.get("Elapsed", 0), p, e["Test"], e["Action"]))
failed = [p for p, (a, _) in pkgs.items() if a == "fail"]
print("  wall %.1f s, sum of packages %.1f s%s" % (last - first, sum(v[1] for v in pkgs.values()),
      ", FAILED: " + " ".join(failed) if failed else ""))
for p, (a, el) in sorted(pkgs.items(), key=lambda x: -x[1][1])[:6]:
    print("  %7.1f s  %s" % (el, p))
print("  slowest tests:")
for el, p, n, a in sorted(tests, reverse=True)[:8]:
    print("  %7.1f s  %s %s" % (el, p, n))
PY
}

for round in $(seq "${ROUNDS:-1}"); do
	for tree in "${trees[@]}"; do
		name=this; [ "$tree" = "$repo" ] || name="base $BASE"
		env=()
		[ -z "${COLD:-}" ] || env=(GOCACHE="$work/gocache-$round-${name// /-}")
		echo "round $round, $name tree, load: $(cut -d' ' -f1-3 /proc/loadavg)"
		start=$(date +%s.%N)
		(cd "$tree" && env "${env[@]}" go test -count=1 -json ./... >"$work/out.json" 2>"$work/err.txt") || true
		end=$(date +%s.%N)
		printf '  go test ./... took %.1f s (build included)\n' "$(echo "$end - $start" | bc)"
		summary "$work/out.json"
	done
done
