#!/usr/bin/env python3
"""Reference upload set of an App Engine app, computed by the Cloud SDK itself.

Usage: skipfiles_ref.py [--ignore-file NAME] APPDIR [APP_YAML]
       skipfiles_ref.py --each APPDIR...

Parses APP_YAML (default APPDIR/app.yaml) with the SDK's own parser
(yaml_parsing.ServiceYamlInfo, which applies the includes, the default
skip_files and the flexible-environment default), then lists the files the
way `gcloud app deploy` does (source_files_util.GetSourceFiles): skip_files
with Python's own `re` through the SDK's FileIterator, or the .gcloudignore
rules. The one difference: for second-generation runtimes gcloud writes a
default .gcloudignore into APPDIR; this script never writes anything.

Prints one JSON object: {"mode": "skip_files"|"ignore file", "files": [...],
"runtime", "env", "skip_files": [...] or null when not given} with the files
sorted, or {"error": "...", "exception": "..."}. With --each, one such
line for each APPDIR (its app.yaml), in order: the SDK is imported once,
which is most of the cost of a run.
The SDK is found through $CLOUDSDK_ROOT or `gcloud` on PATH.
Used by the skipfiles package's differential tests; it only reads.
"""
import json
import os
import sys

from sdk_oracle import sdk_root  # scripts/ is on sys.path when run as a script


def main(argv):
    ignore_file, each = None, False
    if len(argv) >= 2 and argv[0] == "--ignore-file":
        ignore_file, argv = argv[1], argv[2:]
    elif argv and argv[0] == "--each":
        each, argv = True, argv[1:]
    if not argv or (len(argv) > 2 and not each):
        sys.exit(__doc__)
    if each:
        apps = [(d, os.path.join(d, "app.yaml")) for d in argv]
    else:
        apps = [(argv[0], argv[1] if len(argv) > 1 else os.path.join(argv[0], "app.yaml"))]

    root = sdk_root()
    sys.path[:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]
    import logging
    logging.disable(logging.CRITICAL)
    for app_dir, app_yaml in apps:
        print(json.dumps(reference(app_dir, app_yaml, ignore_file)))


def reference(app_dir, app_yaml, ignore_file):
    """The upload set of one app as a dict (see the module's doc)."""
    from googlecloudsdk.api_lib.app import util, yaml_parsing
    from googlecloudsdk.appengine.api import appinfo_includes
    from googlecloudsdk.command_lib.app import source_files_util
    from googlecloudsdk.command_lib.util import gcloudignore

    try:
        # FromFile without its gcloud-only checks (an `application:` field
        # is refused there), which have nothing to do with the file set.
        parsed = yaml_parsing._YamlInfo._ParseYaml(app_yaml, appinfo_includes.Parse)
        info = yaml_parsing.ServiceYamlInfo(app_yaml, parsed)
        regex = info.parsed.skip_files.regex
        explicit = info.HasExplicitSkipFiles()
        registry = source_files_util._GetGcloudignoreRegistry()
        default_ignore = registry.Get(info.runtime, info.env)
        if default_ignore:
            if explicit:
                raise source_files_util.SkipFilesError(
                    "skip_files cannot be used with the [{}] runtime.".format(info.runtime))
            chooser = gcloudignore.GetFileChooserForDir(
                app_dir, default_ignore_file=default_ignore, write_on_disk=False,
                gcloud_ignore_creation_predicate=lambda unused_dir: True,
                ignore_file=ignore_file, include_gitignore=False)
            mode, files = "ignore file", chooser.GetIncludedFiles(app_dir, include_dirs=False)
        elif ignore_file or os.path.exists(os.path.join(app_dir, gcloudignore.IGNORE_FILE_NAME)):
            # GetSourceFiles' own branch for these cases; it writes nothing.
            mode = "ignore file"
            files = source_files_util.GetSourceFiles(
                app_dir, regex, explicit, info.runtime, info.env, app_dir, ignore_file=ignore_file)
        else:
            mode, files = "skip_files", util.FileIterator(app_dir, regex)
        value = info.parsed.skip_files._RegexStrValue__value
        return {"mode": mode, "files": sorted(f.replace(os.sep, "/") for f in files),
                "runtime": info.runtime, "env": info.env.name.lower(),
                "skip_files": (value if isinstance(value, list) else [value]) if explicit else None}
    except Exception as e:  # the reference's verdict is whatever the SDK raised
        return {"error": str(e).splitlines()[0] if str(e) else "", "exception": type(e).__name__}


if __name__ == "__main__":
    main(sys.argv[1:])
