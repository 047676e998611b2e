#!/usr/bin/env python3
"""Reference verdicts from the Google Cloud SDK's own App Engine config parser.

Usage: sdk_oracle.py KIND FILE [KIND FILE ...]
KIND is one of app, index, cron, queue, dispatch, dos.

Prints one JSON object per file: {"file", "kind", "verdict": "ok"|"error",
"exception", "message"}.  The SDK is found through $CLOUDSDK_ROOT or `gcloud`
on PATH.  Used by the validate package's differential tests; it only reads.
"""
import json
import os
import shutil
import sys


def sdk_root():
    root = os.environ.get("CLOUDSDK_ROOT")
    if root:
        return root
    gcloud = shutil.which("gcloud")
    if not gcloud:
        sys.exit("sdk_oracle: gcloud not found on PATH; set CLOUDSDK_ROOT")
    return os.path.dirname(os.path.dirname(os.path.realpath(gcloud)))


def load_parsers():
    root = sdk_root()
    sys.path[:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]
    from googlecloudsdk.appengine.api import appinfo_includes, croninfo, queueinfo
    from googlecloudsdk.appengine.api import dispatchinfo, dosinfo
    from googlecloudsdk.appengine.datastore import datastore_index

    def app(path):
        with open(path, encoding="utf-8") as f:
            return appinfo_includes.Parse(f)

    def single(fn):
        def run(path):
            with open(path, encoding="utf-8") as f:
                return fn(f)
        return run

    return {
        "app": app,
        "index": single(datastore_index.ParseIndexDefinitions),
        "cron": single(croninfo.LoadSingleCron),
        "queue": single(queueinfo.LoadSingleQueue),
        "dispatch": single(dispatchinfo.LoadSingleDispatch),
        "dos": single(dosinfo.LoadSingleDos),
    }


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        sys.exit(__doc__)
    parsers = load_parsers()
    import logging
    logging.disable(logging.CRITICAL)
    for kind, path in zip(argv[0::2], argv[1::2]):
        out = {"file": path, "kind": kind, "verdict": "ok", "exception": "", "message": ""}
        try:
            parsers[kind](path)
        except Exception as e:  # the verdict is whatever the SDK raised
            lines = [l for l in str(e).splitlines() if l.strip()]
            out.update(verdict="error", exception=type(e).__name__,
                       message=lines[0] if lines else "", message_full=str(e)[:600])
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
