// Package pyre is the one place Python regular expressions become Go:
// app.yaml's skip_files, handler urls and upload patterns, the SDK's own
// attribute patterns and the bulkloader's regexp transforms are Python
// patterns, and validate, ls_files/update, serve and bulkload must read
// each one alike.
//
// The dialect is Python 3.12's re, the Python gcloud 528 deploys with:
// whatever it compiles compiles here, and what it refuses is refused but
// for what older Pythons took when a caller asks for it (HoistGlobalFlags:
// global flags after the start apply to the whole, as the App Engine
// patterns, joined with "|", were read; Python27: besides, the classes and
// case folding are ASCII's unless UNICODE is set, LOCALE is the C
// locale's and "\q" is q, as the 2.7 bulkloader read its transforms'
// patterns).
// re.compile's flags are Compile's flags argument (Flags, with Python's
// values), never text in the pattern.
// A pattern is translated to Go's RE2 syntax (Translate) where that is
// exact; a match anchored at the start (Python's re.match, which skip_files
// and every full match use) then runs on a lazily built DFA, a walk over
// the bytes of the input. A pattern RE2 cannot run (look-around,
// back-references, conditionals, atomic groups, possessive quantifiers,
// the verbose flag) is run by a backtracking engine
// (github.com/dlclark/regexp2 in its default, .NET-compatible syntax,
// neither RE2 nor ECMAScript mode; toDotNet rewrites what the syntaxes
// spell differently), as Python's re runs it. \N{NAME} becomes the
// character and the ASCII flag (?a) the ASCII classes, for both engines;
// without it \d, \w and \s are Python's Unicode classes in both, in and
// out of a class. \b and \B, which RE2 reads on ASCII word characters
// only, run on RE2 for ASCII inputs and on the backtracking engine (with
// Python's word characters) for the others.
// Groups are numbered as Python numbers them, in the order of their
// opening parentheses, named or not, on both engines (.NET numbers named
// groups after the others; toDotNet writes each group's number), so a
// \1 in a pattern or a static_files path means the group it means on
// App Engine.
// (?a) with (?i) folds the case of ASCII letters only, as Python does, on
// RE2; on the backtracking engine that pair is approximated, reported by
// Regexp.Inexact, so that validate can warn. (?i) alone folds as Python's
// does on RE2 (pyFoldSets: I, i, İ and ı are one letter); the
// backtracking engine folds as .NET does, by lower case, without the
// variants Python adds (ı for i, ſ for s, ς for σ …), an approximation
// README states and Inexact does not report.
package pyre
