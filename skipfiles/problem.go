package skipfiles

import (
	"fmt"
	"strings"

	"github.com/appcfg/appcfg/internal/human"
)

// ProblemKind classifies a Problem, for callers that react differently to
// each (and for --json output).
type ProblemKind string

// The kinds of problems that stop an upload.
const (
	ProblemPattern       ProblemKind = "pattern"        // a rule that cannot be used as written
	ProblemConfig        ProblemKind = "config"         // contradictory or missing rule sources
	ProblemSymlinkLoop   ProblemKind = "symlink-loop"   // a link to itself or to a directory containing it
	ProblemExternalLink  ProblemKind = "external-link"  // a link leaving the app directory
	ProblemUnreadable    ProblemKind = "unreadable"     // a directory or file that cannot be read
	ProblemPycConflict   ProblemKind = "pyc-conflict"   // x.py beside x.pyc, with Strict
	ProblemPycVersion    ProblemKind = "pyc-version"    // a .pyc not built by Python 2.7
	ProblemFileTooLarge  ProblemKind = "file-too-large" // one file over Limits.MaxFileSize
	ProblemTooManyFiles  ProblemKind = "too-many-files" // over Limits.MaxFiles
	ProblemTotalTooLarge ProblemKind = "total-too-large"
	ProblemSecret        ProblemKind = "secret" // a file that looks like a credential
)

// FileSize names an offending file and its size.
type FileSize struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Problem is one reason the upload set cannot be sent as it is.
type Problem struct {
	Kind ProblemKind `json:"kind"`
	// File, Line and Column locate the rule or configuration at fault.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Path is the app-relative path of the offending file, when one is.
	Path string `json:"path,omitempty"`
	// Files lists the offending files of a limit, largest first.
	Files   []FileSize `json:"files,omitempty"`
	Message string     `json:"message"`
	Hint    string     `json:"hint,omitempty"`
}

// String formats the problem as "file:line:col: message (hint)" when it has
// a position, else "path: message (hint)". Names are quoted when they hold
// control characters (human.Path).
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d:%d: ", human.Path(p.File), p.Line, max(p.Column, 1))
	case p.File != "":
		fmt.Fprintf(&b, "%s: ", human.Path(p.File))
	case p.Path != "":
		fmt.Fprintf(&b, "%s: ", human.Path(p.Path))
	}
	b.WriteString(p.Message)
	const shown = 20
	for i, f := range p.Files {
		if i == shown {
			fmt.Fprintf(&b, "\n    ... and %d more", len(p.Files)-shown)
			break
		}
		fmt.Fprintf(&b, "\n    %12d  %s", f.Size, human.Path(f.Path))
	}
	if p.Hint != "" {
		fmt.Fprintf(&b, "\n    hint: %s", p.Hint)
	}
	return b.String()
}

// Error carries every problem found; Walk returns it with a complete Result.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("%d problems with the files to upload:", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

// Has reports whether any problem is of kind k.
func (e *Error) Has(k ProblemKind) bool {
	for _, p := range e.Problems {
		if p.Kind == k {
			return true
		}
	}
	return false
}

// OnlyLimits reports whether every problem is a size or count limit
// breached (and none a rule or a file that cannot be read): the files are
// fine, there are just too many or too large of them for the host.
func (e *Error) OnlyLimits() bool {
	for _, p := range e.Problems {
		switch p.Kind {
		case ProblemFileTooLarge, ProblemTooManyFiles, ProblemTotalTooLarge:
		default:
			return false
		}
	}
	return len(e.Problems) > 0
}

func errorOf(probs []Problem) error {
	if len(probs) == 0 {
		return nil
	}
	return &Error{Problems: probs}
}
