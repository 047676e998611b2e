#!/usr/bin/env bash
# Benchmark: `appcfg ls_files` of an 11,400-file app tree against
# `git ls-files -o --exclude-standard` on the same tree, whose .gitignore
# says what the SDK's default skip_files says for it. Both list the same
# 10,000 files and leave out the same 1,400 (a .cache directory and .pyc
# files). Prints the medians of interleaved rounds and the ratio (goal,
# issue 19: <= 2x git).
#
# Each tool runs once before the rounds (warm page cache; appcfg's stat
# cache then holds the secret guard's verdicts, as on a developer's second
# ls_files); that first, cold appcfg run is printed too.
#
# Usage: bench/ls_files_vs_git.sh   (ROUNDS=N, default 11; about a minute)
# Needs: go, git, python3, bc. Run from anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go git python3 bc; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required (e.g. apt-get install $tool)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-lsbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# APPCFG=PATH measures that binary instead of building this tree (to
# compare two versions on the same machine).
if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	echo "building appcfg"
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi

echo "generating 11,400 files in $work/app"
python3 - "$work/app" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(19)
os.makedirs(root)
with open(os.path.join(root, "app.yaml"), "w") as f:
    f.write("runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n"
            "- url: /static\n  static_dir: static\n- url: /.*\n  script: main.app\n")
with open(os.path.join(root, ".gitignore"), "w") as f:
    f.write(".*\n*.pyc\n")
def write(rel, text):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write(text)
write("main.py", "app = None\n")
kept = 1
for i in range(6000):  # code: 300 packages of 20 modules
    write("lib/pkg%03d/mod%02d.py" % (i // 20, i % 20),
          "def f%d(x):\n    return x * %d  # %s\n" % (i, i, "y" * rng.randrange(20, 400)))
    kept += 1
for i in range(3998):  # static assets: 100 directories
    ext = (".css", ".js", ".html", ".svg")[i % 4]
    write("static/s%02d/a%04d%s" % (i % 100, i, ext), "/* asset %d */ %s\n" % (i, "z" * rng.randrange(50, 2000)))
    kept += 1
for i in range(1000):  # a skipped directory: the walk must not descend
    write(".cache/c%02d/o%04d" % (i % 50, i), "cached %d\n" % i)
for i in range(400):   # skipped files beside kept ones
    write("lib/pkg%03d/mod%02d.pyc" % (i % 300, i % 20), "\x03\xf3\r\n" + "b" * 64)
assert kept + 1 == 10000, kept  # + app.yaml
PY
(cd "$work/app" && git init -q . && git config core.untrackedCache false)
sleep 2 # older than the stat cache's racy window (2 s)

want=$( (cd "$work/app" && git ls-files -o --exclude-standard | sort) | tee "$work/git.txt" | wc -l)
export XDG_CACHE_HOME="$work/cache"
secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >"$work/out.txt" 2>"$work/err.txt" || { echo "bench: failed: $*" >&2; cat "$work/err.txt" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}
cold=$(secs "$work/appcfg" ls_files --quiet "$work/app")
sort "$work/out.txt" >"$work/appcfg.txt"
diff -q "$work/git.txt" "$work/appcfg.txt" >/dev/null || { echo "bench: appcfg and git list different files:" >&2; diff "$work/git.txt" "$work/appcfg.txt" | head >&2; exit 1; }
secs git -C "$work/app" ls-files -o --exclude-standard >/dev/null

rounds=${ROUNDS:-11}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/t_git"; : >"$work/t_appcfg"
for ((i = 1; i <= rounds; i++)); do
	secs git -C "$work/app" ls-files -o --exclude-standard >>"$work/t_git"
	secs "$work/appcfg" ls_files --quiet "$work/app" >>"$work/t_appcfg"
done
g=$(median <"$work/t_git")
a=$(median <"$work/t_appcfg")
echo "files listed by both: $want; median of $rounds rounds:"
printf '%-44s %8.3f s\n' "git ls-files -o --exclude-standard" "$g" "appcfg ls_files" "$a" "appcfg ls_files, first (cold stat cache)" "$cold"
printf 'ls_files / git:  %.2fx (goal <= 2x)\n' "$(echo "$a / $g" | bc -l)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
