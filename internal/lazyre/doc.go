// Package lazyre holds regular expressions written as package-level
// variables but compiled on first use. Every package of the one appcfg
// binary is initialised at start, whatever the command: the module's few
// dozen patterns compiled there (some, like a counted repetition {1,100},
// costly) were about a tenth of `appcfg ls_files`' time on a 10,000-file
// app, for patterns most commands never run.
package lazyre
