#!/usr/bin/env python3
"""Reference cron schedule results from the Cloud SDK's own groc code.

Usage: groc_ref.py < requests.jsonl

Each input line is a JSON object {"schedule": S, "start": ISO-8601 UTC time,
"tz": zone name or "", "n": count}. Each output line is
{"schedule", "ok": bool, "error": text, "next": [ISO-8601 UTC times]}: whether
googlecloudsdk/appengine/googlecron accepts S, and its next n run times after
start (GetMatches) in time zone tz.  With "n": 0 only acceptance is checked.

The SDK copy runs without pytz (croninfo sets it to None on Python 3); this
script supplies the pytz the Cloud SDK bundles, and pytz's exception classes,
so that time zones work as they do in the App Engine SDK.  The SDK is found
through $CLOUDSDK_ROOT or `gcloud` on PATH.  Used by internal/groc's
differential test; it only reads.
"""
import datetime
import json
import os
import sys

from sdk_oracle import sdk_root  # this script's folder is on sys.path


def main():
    root = sdk_root()
    sys.path[:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]
    import pytz
    from googlecloudsdk.appengine.googlecron import groctimespecification as spec
    spec.pytz = pytz
    spec.AmbiguousTimeError = pytz.AmbiguousTimeError
    spec.NonExistentTimeError = pytz.NonExistentTimeError
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        out = {"schedule": req["schedule"], "ok": True, "error": "", "next": []}
        try:
            ts = spec.GrocTimeSpecification(req["schedule"], req.get("tz") or None)
            if req.get("n"):
                start = datetime.datetime.strptime(req["start"], "%Y-%m-%dT%H:%M:%SZ")
                start = pytz.utc.localize(start)
                for t in ts.GetMatches(start, req["n"]):
                    t = t.astimezone(pytz.utc)
                    out["next"].append(t.strftime("%Y-%m-%dT%H:%M:%S") + "Z")
        except Exception as e:  # the verdict is whatever the SDK raised
            out.update(ok=False, error="%s: %s" % (type(e).__name__, e))
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
