package appfile

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// File is one file of the upload set. It is kept small (40 bytes): the
// upload set of 10,000 files is made at once, in fresh memory, whose
// every page costs a fault (about 11 µs on a VM); so nothing is kept that
// can be had otherwise — the size and modification time are read from
// Info (Size, ModTime), a generated file's content is its Info's
// (Generated), and where to read the file is made from the app directory
// when it is read (Abs), not held as a path that starts with that
// directory again in every file.
type File struct {
	Path string // slash-separated, relative to the app root
	// Rule is the "!" line that re-included the file, when one did.
	Rule *Rule
	// Info is the metadata the walk read (of the link's target for a
	// symbolic link), so callers need not stat the file again, the stat
	// cache needs no second stat of every file, and hashing and sending
	// refuse a path that no longer leads to that file. A generated
	// file's is a *generatedInfo, which holds its content (Data).
	Info fs.FileInfo
}

// Generated is the file of the upload set at path whose content data the
// staging generates (Go's MainPackageFile): it has no Abs, and is hashed
// and sent from memory.
func Generated(path string, data []byte) File {
	return File{Path: path, Info: &generatedInfo{name: path, data: data}}
}

// Abs is where to read f in the app directory root (the walk's Root):
// through any symbolic link, as the walk followed it — Info is the stat of
// the link's target, and hashcache.OpenListed refuses a path that no
// longer leads to that file. "" for a generated file, which has no place
// on disk.
func (f *File) Abs(root string) string {
	if f.Data() != nil {
		return ""
	}
	name := filepath.FromSlash(f.Path)
	if strings.HasSuffix(root, string(filepath.Separator)) { // the root directory
		return root + name
	}
	return root + string(filepath.Separator) + name
}

// Data is the content of a generated file (Generated), nil for a file
// read from disk.
func (f *File) Data() []byte {
	if g, ok := f.Info.(*generatedInfo); ok {
		return g.data
	}
	return nil
}

// Size is the file's size as the walk saw it (a generated file's: its
// content's); 0 when nothing was read of it (Info nil).
func (f *File) Size() int64 {
	if f.Info == nil {
		return 0
	}
	return f.Info.Size()
}

// ModTime is the file's modification time as the walk read it; zero for
// a generated file.
func (f *File) ModTime() time.Time {
	if f.Info == nil {
		return time.Time{}
	}
	return f.Info.ModTime()
}

// generatedInfo is the FileInfo of a generated file: a regular file of
// its content's size, with no modification time and no Sys. Callers that
// use the stat cache pass over a generated file (Data non-nil), as it has
// no place on disk to key on.
type generatedInfo struct {
	name string
	data []byte
}

func (g *generatedInfo) Name() string       { return path.Base(g.name) }
func (g *generatedInfo) Size() int64        { return int64(len(g.data)) }
func (g *generatedInfo) Mode() fs.FileMode  { return 0o444 }
func (g *generatedInfo) ModTime() time.Time { return time.Time{} }
func (g *generatedInfo) IsDir() bool        { return false }
func (g *generatedInfo) Sys() any           { return nil }

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
