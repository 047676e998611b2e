#!/usr/bin/env bash
# Benchmark: `appcfg upload_data` of a CSV into a fresh local backend against
# `sqlite3 .import` of the same CSV (the same rows, from the page cache) into
# an empty table. Prints both rates and the ratio of appcfg's rate to
# sqlite3's (1.0: as fast as sqlite3; higher is faster; goal issue 19:
# >= 0.6, median of 5), and appcfg's peak memory at a tenth of the rows and
# at all of them (goal: flat). CPU seconds (user + system) are printed too:
# on a shared machine they vary less than the elapsed times, and appcfg uses
# several cores where sqlite3 uses one. appcfg's load is crash-safe as it
# goes (every commit synced, a progress database to resume from); sqlite3's
# is one transaction.
#
# Usage: bench/bulkload_vs_sqlite.sh [ROWS]   (default 1000000)
# ROUNDS=R (default 5, the issue's median of 5) runs both tools R times,
# interleaved so they share the machine's ups and downs, and reports the
# medians: on a shared VM the same sqlite3 import took 1.5 s or 2.9 s.
# APPCFG=PATH measures that binary instead of building this tree.
# Needs: go, sqlite3, awk, bc, GNU time (/usr/bin/time). Run from anywhere.
set -euo pipefail
rows=${1:-1000000}
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in go sqlite3 awk bc /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is required (e.g. apt-get install sqlite3 time bc)" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/appcfg-bulkbench.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -n "${APPCFG:-}" ]; then
	cp "$APPCFG" "$work/appcfg"
else
	echo "building appcfg"
	(cd "$repo" && go build -o "$work/appcfg" ./cmd/appcfg)
fi

gen() { # gen ROWS FILE
	awk -v n="$1" 'BEGIN { print "id,name,age,score,city"
		for (i = 1; i <= n; i++) printf "%d,name %d,%d,%.2f,city %d\n", i, i, i % 90, i * 0.37, i % 1000 }' > "$2"
}
echo "generating $rows rows"
gen "$rows" "$work/rows.csv"
gen $((rows / 10)) "$work/rows10.csv"
cat > "$work/bulkloader.yaml" <<'YAML'
python_preamble:
- import: google.appengine.ext.bulkload.transform
transformers:
- kind: Row
  connector: csv
  property_map:
  - property: __key__
    external_name: id
    import_transform: transform.create_foreign_key('Row', key_is_id=True)
  - property: name
    external_name: name
  - property: age
    external_name: age
    import_transform: int
  - property: score
    external_name: score
    import_transform: float
  - property: city
    external_name: city
YAML

upload() { # upload CSV STORE -> prints "seconds peak_kb cpu_seconds"
	/usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$work/appcfg" --quiet --backend "local:$2" -A bench \
		upload_data --filename "$1" --config_file "$work/bulkloader.yaml" --kind Row \
		--batch_size 500 --num_threads 4 --rps_limit 0 --bandwidth_limit 0 --http_limit 0 \
		--db_filename "$2.progress.sql3" >/dev/null
	awk '{ print $1, $2, $3 + $4 }' "$work/time.txt"
}

echo "appcfg upload_data: $((rows / 10)) rows (memory reference)"
read -r _ mem10 _ < <(upload "$work/rows10.csv" "$work/store10")
rounds=${ROUNDS:-5}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/t_appcfg"; : >"$work/t_sqlite"
for r in $(seq "$rounds"); do
	echo "round $r of $rounds: appcfg upload_data, $rows rows"
	rm -rf "$work/store" "$work/store.progress.sql3" "$work/plain.db"
	upload "$work/rows.csv" "$work/store" >>"$work/t_appcfg"
	n=$(sqlite3 "$work/store/appcfg.db" "SELECT count(*) FROM entities")
	[ "$n" = "$rows" ] || { echo "bench: the store holds $n entities, want $rows" >&2; exit 1; }
	echo "round $r of $rounds: sqlite3 .import, $rows rows"
	/usr/bin/time -f "%e %U %S" -o "$work/time.txt" sqlite3 "$work/plain.db" \
		"CREATE TABLE rows (id INTEGER, name TEXT, age INTEGER, score REAL, city TEXT);" \
		".mode csv" ".import --skip 1 $work/rows.csv rows"
	awk '{ print $1, $2 + $3 }' "$work/time.txt" >>"$work/t_sqlite"
done
t_appcfg=$(cut -d' ' -f1 "$work/t_appcfg" | median)
mem=$(cut -d' ' -f2 "$work/t_appcfg" | median)
cpu_appcfg=$(cut -d' ' -f3 "$work/t_appcfg" | median)
t_sqlite=$(cut -d' ' -f1 "$work/t_sqlite" | median)
cpu_sqlite=$(cut -d' ' -f2 "$work/t_sqlite" | median)
[ "$rounds" = 1 ] || echo "medians of $rounds rounds; each round's seconds: appcfg $(cut -d' ' -f1 "$work/t_appcfg" | tr '\n' ' '), sqlite3 $(cut -d' ' -f1 "$work/t_sqlite" | tr '\n' ' ')"

rate() { echo "scale=0; $rows / $1" | bc; }
echo
echo "appcfg upload_data: $t_appcfg s, $(rate "$t_appcfg") rows/s, peak RSS $((mem / 1024)) MiB ($((mem10 / 1024)) MiB at $((rows / 10)) rows), $cpu_appcfg s CPU"
echo "sqlite3 .import:    $t_sqlite s, $(rate "$t_sqlite") rows/s, $cpu_sqlite s CPU"
echo "ratio (appcfg rate / sqlite3 rate, 1.0 = as fast, higher is faster): $(echo "scale=3; $t_sqlite / $t_appcfg" | bc)  (goal >= 0.6)"
echo "peak memory growth for 10x the rows: $(echo "scale=2; $mem / $mem10" | bc)x  (goal: flat, ~1x)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine slows the wall times)"
