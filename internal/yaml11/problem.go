package yaml11

import (
	"fmt"
	"sort"

	"github.com/appcfg/appcfg/internal/human"
)

// Pos is a 1-based line and column in a file.
type Pos struct {
	Line, Column int
}

// Problem is one finding about a configuration file.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	Warning bool   `json:"warning,omitempty"`
}

// String formats the problem as file:line:col: message (hint), the file
// quoted when its name holds control characters (human.Path).
func (p Problem) String() string {
	s := fmt.Sprintf("%s:%d:%d: ", human.Path(p.File), p.Line, p.Column)
	if p.Warning {
		s += "warning: "
	}
	s += p.Message
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s
}

// Report collects the problems found in one file. Its zero value is ready
// to use once File is set.
type Report struct {
	File     string
	Problems []Problem
}

// Errorf records an error at pos for field.
func (r *Report) Errorf(pos Pos, field, format string, args ...any) *Problem {
	return r.add(pos, field, false, fmt.Sprintf(format, args...))
}

// Warnf records a warning at pos for field.
func (r *Report) Warnf(pos Pos, field, format string, args ...any) *Problem {
	return r.add(pos, field, true, fmt.Sprintf(format, args...))
}

func (r *Report) add(pos Pos, field string, warning bool, msg string) *Problem {
	r.Problems = append(r.Problems, Problem{
		File: r.File, Line: pos.Line, Column: pos.Column, Field: field, Message: msg, Warning: warning,
	})
	return &r.Problems[len(r.Problems)-1]
}

// HasErrors reports whether any problem is an error rather than a warning.
func (r *Report) HasErrors() bool {
	for _, p := range r.Problems {
		if !p.Warning {
			return true
		}
	}
	return false
}

// Harden makes every warning of ps an error: --strict, which refuses each
// deliberate difference from the SDK.
func Harden(ps []Problem) {
	for i := range ps {
		ps[i].Warning = false
	}
}

// Sort orders the problems by position, keeping the order of equal ones.
func (r *Report) Sort() {
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
