package backend

import "strings"

// severityNames maps Cloud Logging's LogSeverity names, and the common
// spellings its agent also reads in a structured log line, to the legacy
// levels. DEFAULT and NOTICE have no legacy level of their own: they read as
// INFO.
var severityNames = map[string]Severity{
	"DEBUG": Debug, "TRACE": Debug,
	"INFO": Info, "NOTICE": Info, "DEFAULT": Info,
	"WARNING": Warning, "WARN": Warning,
	"ERROR": Error, "ERR": Error,
	"CRITICAL": Critical, "ALERT": Critical, "EMERGENCY": Critical, "FATAL": Critical,
}

// ParseSeverity reads a log line's severity name, without regard to case;
// ok is false (and the level Debug) for a name it does not know.
func ParseSeverity(name string) (level Severity, ok bool) {
	level, ok = severityNames[strings.ToUpper(strings.TrimSpace(name))]
	return level, ok
}
