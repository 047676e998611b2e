#!/bin/sh
# Records what the installed gcloud sends when it deploys each app under
# apps/ (google-apis.md §8): the versions.create body and the names of the
# objects it uploads, into recorded/CASE.json. TestDeployBodiesEqualGcloud
# (cmd/appcfg) compares appcfg's deploys against these recordings, so the
# suite needs no gcloud. Re-record when gcloud changes.
#
# Usage: sh record.sh [CASE ...]   (default: every directory under apps/)
# Needs gcloud (with the app-engine-go component) and python3; each deploy
# takes 10-30 s. Without gcloud it says so and exits 0.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v gcloud >/dev/null 2>&1; then
	echo "record.sh: gcloud is not installed; nothing recorded (the recordings in recorded/ stay as they are)"
	exit 0
fi
mkdir -p "$here/recorded"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
if [ $# -eq 0 ]; then
	set -- $(cd "$here/apps" && ls)
fi
gcloud_version=$(gcloud version 2>/dev/null | sed -n 's/^Google Cloud SDK //p')
for name in "$@"; do
	rm -rf "$work/app" "$work/config" "$work/trace.jsonl" "$work/port"
	cp -r "$here/apps/$name" "$work/app"
	# The file to deploy: app.yaml at the top, else the shallowest one.
	yaml=$(cd "$work/app" && find . -name app.yaml | awk '{ print length($0) "\t" $0 }' | sort -n | head -1 | cut -f2)
	python3 "$here/../golden/capture.py" "$work/trace.jsonl" >"$work/port" &
	pid=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/port" ] && break; sleep 0.5; done
	port=$(cat "$work/port")
	export CLOUDSDK_CONFIG="$work/config"
	gcloud config set core/project p >/dev/null 2>&1
	for kv in auth/disable_credentials=true core/check_gce_metadata=false \
		component_manager/disable_update_check=true core/disable_usage_reporting=true \
		api_endpoint_overrides/appengine=http://127.0.0.1:$port/ \
		api_endpoint_overrides/cloudbuild=http://127.0.0.1:$port/ \
		api_endpoint_overrides/serviceusage=http://127.0.0.1:$port/ \
		api_endpoint_overrides/storage=http://127.0.0.1:$port/storage/v1/; do
		gcloud config set "${kv%%=*}" "${kv#*=}" >/dev/null 2>&1
	done
	set +e
	(cd "$work/app/$(dirname "$yaml")" && timeout 300 gcloud app deploy app.yaml --version v2 --quiet >"$work/gcloud.log" 2>&1)
	rc=$?
	set -e
	kill $pid 2>/dev/null || true
	wait $pid 2>/dev/null || true
	pid=
	python3 - "$work/trace.jsonl" "$work/gcloud.log" "$rc" "$yaml" "$gcloud_version" "$here/recorded/$name.json" <<'PY'
import json, re, sys
trace, log, rc, yaml, ver, out = sys.argv[1:]
rec = {"gcloud": ver, "deployed": yaml.lstrip("./") or "app.yaml", "exit": int(rc), "uploaded": []}
for line in open(trace):
    r = json.loads(line)
    p = r["path"].split("?")[0]
    if r["method"] == "POST" and re.fullmatch(r"/v1/apps/p/services/[\w-]+/versions", p):
        rec["service"] = p.split("/")[5]
        rec["body"] = r["body"]
    if "object" in r:
        rec["uploaded"].append(r["object"])
rec["uploaded"] = sorted(set(rec["uploaded"]))
if int(rc) != 0:
    lines = [l for l in open(log).read().splitlines() if l.strip()]
    rec["error"] = "\n".join(lines[-6:])
with open(out, "w") as f:
    json.dump(rec, f, indent=2, sort_keys=True)
    f.write("\n")
print("%s: exit %s, %s" % (out.rsplit("/", 1)[1], rc, "versions.create recorded" if "body" in rec else "no versions.create"))
PY
done
