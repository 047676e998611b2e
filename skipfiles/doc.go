// Package skipfiles decides exactly which files of an application directory
// are uploaded, and can say why for any path.
//
// Two rule systems exist, and which one applies is decided as gcloud decides
// it (see Mode): app.yaml's skip_files, a list of Python regular
// expressions matched with re.match against the slash-separated path
// relative to the app root (the SDK's default list when the key is absent),
// or a .gcloudignore-style glob file with gitignore syntax ("!" re-includes,
// "#!include:FILE", trailing "/" for directories). Second-generation
// runtimes (python3x, nodejs, go1xx, php7+, java11+) refuse skip_files and
// always use a glob file; this package then uses gcloud's default contents
// in memory and never writes a .gcloudignore, unlike gcloud.
//
// skip_files patterns are compiled by internal/pyre, the one reader of
// Python regular expressions (validate and serve use it too): translated to
// Go's RE2 syntax and matched through a lazy DFA, or for constructs RE2
// cannot run (look-around, back-references) by a backtracking engine, so a
// list selects what Python's re selects.
//
// Walk lists the directory once, iteratively, following symbolic links once
// each (loops and links leaving the app directory are reported), and then
// applies the checks that must pass before any byte is sent: .py/.pyc
// conflicts and foreign .pyc files for python27, the per-file, file-count
// and total-size limits, and a guard against uploading credentials, which
// decides by content (a PEM block must parse as a key, an AWS secret must
// look like one) and reads every file it judges as a stream. Those
// problems come back together as one *Error listing every offending file,
// beside a Result that is still complete, so a caller can show both.
package skipfiles
