#!/bin/sh
# Deploys a 2,000-file app to in-process fakes of the App Engine Admin API and
# Cloud Storage (fake-gcs-server) with appcfg (backend appengine) and with the
# installed gcloud (api_endpoint_overrides), first deploy and unchanged
# redeploy, RUNS times (default 3: the machine may be shared), and prints each
# run and the medians of the times and ratios (gcloud / appcfg). With rclone
# installed (apt-get install rclone), `rclone copy` of the same files into a
# bucket of the same fake (--gcs-endpoint) is the transfer floor, printed as
# a third column.
# Goals (issue 19): >= 15x gcloud; first deploy <= 1.3x rclone.
#
# Both tools talk to the same fake-gcs-server; APPCFG_BENCH_GCS picks its
# storage: tmpfs (default), disk or memory (see bench_test.go for what each
# costs the fake).
set -eu
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench BenchmarkDeployVsGcloud -benchtime 1x -count "$runs" -timeout 30m -v ./backend/appengine | tee "$out" | grep -E 'bench_test.go|SKIP|FAIL' || true
grep -q '^BenchmarkDeployVsGcloud' "$out" || { echo "no benchmark result (gcloud missing?)" >&2; exit 1; }
awk '
function median(name,   n, i, j, t, a) {
	n = cnt[name]
	for (i = 1; i <= n; i++) a[i] = v[name, i]
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^BenchmarkDeployVsGcloud/ {
	for (i = 5; i < NF; i += 2) { cnt[$(i + 1)]++; v[$(i + 1), cnt[$(i + 1)]] = $i }
}
END {
	printf "medians of %d runs: first deploy appcfg %.2fs, gcloud %.2fs (%.1fx, goal 15x); unchanged redeploy appcfg %.3fs, gcloud %.2fs (%.1fx, goal 15x)\n",
		cnt["first-ratio"], median("appcfg-first-s"), median("gcloud-first-s"), median("first-ratio"),
		median("appcfg-redeploy-s"), median("gcloud-redeploy-s"), median("redeploy-ratio")
	if (cnt["first-vs-rclone"])
		printf "transfer floor: rclone copy %.2fs; appcfg first deploy / rclone %.2fx (goal <= 1.3x)\n",
			median("rclone-first-s"), median("first-vs-rclone")
}' "$out"
