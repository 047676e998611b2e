package skipfiles

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/appcfg/appcfg/internal/human"
)

// python27Magic is the first two bytes of a .pyc written by CPython 2.7
// (62211), followed by "\r\n".
const python27Magic = 62211

// pycVersions names the magic numbers of other CPython releases, to say
// which Python built a foreign .pyc.
var pycVersions = map[uint16]string{
	62131: "2.5", 62161: "2.6", 3180: "3.2", 3230: "3.3", 3310: "3.4", 3350: "3.5",
	3351: "3.5", 3379: "3.6", 3394: "3.7", 3413: "3.8", 3425: "3.9", 3439: "3.10",
	3495: "3.11", 3531: "3.12", 3571: "3.13", 3625: "3.14",
}

// checkPython applies the python27 rules to a kept file of the directory
// dir; false means the file is dropped.
func (w *walker) checkPython(rel, dir string, siblings []listed) bool {
	name := path.Base(rel)
	switch strings.ToLower(path.Ext(name)) {
	case ".pyc":
		if hasEntry(siblings, strings.TrimSuffix(name, ".pyc")+".py") {
			// The legacy message, with "<filename>" written literally.
			msg := fmt.Sprintf("Ignoring file '%s': Cannot upload both <filename>.py and <filename>.pyc", human.Path(rel))
			rule := &Rule{Kind: KindBuiltin, Pattern: ".py/.pyc conflict"}
			w.skip(rel, false, "Cannot upload both <filename>.py and <filename>.pyc", rule)
			if w.opts.Strict {
				w.probs = append(w.probs, Problem{Kind: ProblemPycConflict, Path: rel,
					Message: "cannot upload both " + human.Path(strings.TrimSuffix(name, ".pyc")+".py") + " and " + human.Path(name),
					Hint:    "delete the .pyc or skip it with a rule (the SDK default skip_files skips every .pyc)"})
			} else {
				w.rep.Warn(msg)
			}
			return false
		}
		if p := pycMagicProblem(rel, joinPath(dir, name)); p != nil {
			w.probs = append(w.probs, *p)
		}
	case ".so", ".pyd":
		w.rep.Warn(fmt.Sprintf("'%s' is a C extension: the python27 runtime cannot load it; use a library from app.yaml's libraries or a pure-Python package", human.Path(rel)))
	}
	return true
}

func hasEntry(entries []listed, name string) bool {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].name() >= name })
	return i < len(entries) && entries[i].name() == name
}

// pycMagicProblem checks that a .pyc was written by Python 2.7, the only
// bytecode the python27 runtime loads.
func pycMagicProblem(rel, full string) *Problem {
	f, err := os.Open(full)
	if err != nil {
		return &Problem{Kind: ProblemUnreadable, Path: rel, Message: fmt.Sprintf("cannot read: %v", unwrapPath(err))}
	}
	defer f.Close()
	var hdr [4]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return &Problem{Kind: ProblemPycVersion, Path: rel, Message: "is not a Python bytecode file (too short)",
			Hint: "delete it, or rebuild it with Python 2.7"}
	}
	magic := binary.LittleEndian.Uint16(hdr[:2])
	if magic == python27Magic && hdr[2] == '\r' && hdr[3] == '\n' {
		return nil
	}
	built := "an unknown Python version"
	if v, ok := pycVersions[magic]; ok && hdr[2] == '\r' && hdr[3] == '\n' {
		built = "Python " + v
	} else if hdr[2] != '\r' || hdr[3] != '\n' {
		built = "something that is not Python bytecode"
	}
	return &Problem{Kind: ProblemPycVersion, Path: rel,
		Message: fmt.Sprintf("was built by %s (magic number %d); the python27 runtime loads only Python 2.7 bytecode", built, magic),
		Hint:    "delete it and upload the .py, or rebuild it with Python 2.7"}
}

// checkHandlers warns about a python27 CGI script handler whose file is not
// uploaded as .py or .pyc; naming the .py is right even when only the .pyc
// goes up.
func (w *walker) checkHandlers() {
	if !w.python27 {
		return
	}
	for _, h := range w.opts.Handlers {
		if !strings.HasSuffix(h.Script, ".py") { // a CGI script ("main.py"), not a WSGI app ("main.app")
			continue
		}
		rel := strings.TrimPrefix(path.Clean(h.Script), "/")
		if w.hasFile(rel) || w.hasFile(rel+"c") {
			continue
		}
		w.rep.Warn(fmt.Sprintf("%s:%d:%d: script %s is not in the upload set (neither %s nor %s is uploaded)",
			human.Path(h.File), h.Pos.Line, h.Pos.Column, human.Path(h.Script), human.Path(rel), human.Path(rel+"c")))
	}
}

func (w *walker) hasFile(rel string) bool {
	files := w.res.Files
	i := sort.Search(len(files), func(i int) bool { return files[i].Path >= rel })
	return i < len(files) && files[i].Path == rel
}

// invalidName returns the legacy error for a name the server refuses, "" if
// the name is fine. These are appcfg.py's four name regexes (§5.4), in its
// order and words, written out as string tests: they run on every file of
// every deploy, and the regexes cost more than the rest of the walk.
func invalidName(rel string) string {
	// ^.{1,256}$ : 1 to 256 characters, none a newline.
	if n := utf8.RuneCountInString(rel); n < 1 || n > 256 || strings.ContainsRune(rel, '\n') {
		return fmt.Sprintf("Invalid character in filename: %s", human.Path(rel))
	}
	// \.\.|^\./|\.$|/\./|^-|^_ah/|^/
	if strings.Contains(rel, "..") || strings.HasPrefix(rel, "./") || strings.HasSuffix(rel, ".") ||
		strings.Contains(rel, "/./") || strings.HasPrefix(rel, "-") || strings.HasPrefix(rel, "_ah/") ||
		strings.HasPrefix(rel, "/") {
		return fmt.Sprintf(`Filename cannot contain "." or ".." or start with "-" or "_ah/": %s`, human.Path(rel))
	}
	// //|/$
	if strings.Contains(rel, "//") || strings.HasSuffix(rel, "/") {
		return fmt.Sprintf("Filename cannot have trailing / or contain //: %s", human.Path(rel))
	}
	// ^ | $|/ | /|\r|\n
	if strings.HasPrefix(rel, " ") || strings.HasSuffix(rel, " ") || strings.Contains(rel, "/ ") ||
		strings.Contains(rel, " /") || strings.ContainsAny(rel, "\r\n") {
		return fmt.Sprintf("Any spaces must be in the middle of a filename: %s", human.Path(rel))
	}
	return ""
}
