#!/bin/sh
# Re-records version_body.json from the installed gcloud (google-apis.md §8).
# Usage: sh capture.sh   (needs gcloud and python3; changes nothing else)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$here/app" "$work/app"
python3 "$here/capture.py" "$work/trace.jsonl" > "$work/port" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/port" ] && break; sleep 0.5; done
port=$(cat "$work/port")
export CLOUDSDK_CONFIG="$work/config"
gcloud config set core/project p >/dev/null 2>&1
for kv in auth/disable_credentials=true core/check_gce_metadata=false \
  component_manager/disable_update_check=true core/disable_usage_reporting=true \
  api_endpoint_overrides/appengine=http://127.0.0.1:$port/ \
  api_endpoint_overrides/storage=http://127.0.0.1:$port/storage/v1/; do
  gcloud config set "${kv%%=*}" "${kv#*=}" >/dev/null 2>&1
done
(cd "$work/app" && gcloud app deploy app.yaml --version v2 --quiet --verbosity=debug >"$work/gcloud.log" 2>&1) || { tail -40 "$work/gcloud.log"; cat "$work/trace.jsonl"; exit 1; }
cp "$work/trace.jsonl" "$here/trace.jsonl"
python3 - "$work/trace.jsonl" "$here/version_body.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"].split("?")[0].endswith("/services/default/versions"):
        json.dump(r["body"], open(sys.argv[2], "w"), indent=2, sort_keys=True)
        open(sys.argv[2], "a").write("\n")
        break
else:
    sys.exit("gcloud sent no versions.create")
PY
echo "recorded $here/version_body.json"
