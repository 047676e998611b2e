package appfile

import (
	"fmt"
	"io/fs"
	"time"
)

// File is one file of the upload set. It is kept small (88 bytes): the
// upload set of 10,000 files is made at once, in fresh memory, whose
// every page costs a fault (about 11 µs on a VM); so the modification
// time is read from Info (ModTime) rather than kept a second time.
type File struct {
	Path string // slash-separated, relative to the app root
	Abs  string // where to read it (through any symbolic link)
	Size int64  // as the walk saw it
	// Rule is the "!" line that re-included the file, when one did.
	Rule *Rule
	// Info is the metadata the walk read (of the link's target for a
	// symbolic link), so callers need not stat the file again, the stat
	// cache needs no second stat of every file, and hashing and sending
	// refuse a path that no longer leads to that file.
	Info fs.FileInfo
	// Data is the content of a file the staging generates (Go's
	// MainPackageFile), which has no Abs: it is hashed and sent from
	// memory.
	Data []byte
}

// ModTime is the file's modification time as the walk read it; zero for
// a generated file.
func (f *File) ModTime() time.Time {
	if f.Info == nil {
		return time.Time{}
	}
	return f.Info.ModTime()
}

// Rule is one pattern that decided a path, with where it is written.
type Rule struct {
	Kind    string `json:"kind"`
	File    string `json:"file,omitempty"` // "" for built-in defaults
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Pattern string `json:"pattern"`
	Negated bool   `json:"negated,omitempty"` // a "!" line, which re-includes
}

// String gives the rule as "file:line:col: kind 'pattern'", or without a
// position for built-in defaults. The pattern is shown as written, not
// Go-quoted, so a regular expression reads as in app.yaml.
func (r Rule) String() string {
	where := ""
	switch {
	case r.File != "" && r.Column > 0:
		where = fmt.Sprintf("%s:%d:%d: ", r.File, r.Line, r.Column)
	case r.File != "" && r.Line > 0:
		where = fmt.Sprintf("%s:%d: ", r.File, r.Line)
	case r.File != "":
		where = r.File + ": "
	}
	return fmt.Sprintf("%s%s '%s'", where, r.Kind, r.Pattern)
}
