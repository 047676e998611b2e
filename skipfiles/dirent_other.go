//go:build !linux

package skipfiles

import (
	"io/fs"
	"os"
)

// dirHandle is a directory to list, by path: os.ReadDir gives each entry's
// type (from d_type where the system has it, else by an lstat of its own).
type dirHandle struct{ path string }

func openDir(abs string) (*dirHandle, error) { return &dirHandle{path: abs}, nil }

func (h *dirHandle) close() {}

func (h *dirHandle) read(_ []byte, dir string, forceUnknown bool) ([]listed, error) {
	es, err := os.ReadDir(h.path)
	if err != nil {
		return nil, err
	}
	out := make([]listed, len(es))
	n := 0
	for _, e := range es {
		n += len(dir) + 1 + len(e.Name()) + 1 // and a NUL: see pathArena.listed
	}
	paths := newPathArena(n)
	for i, e := range es {
		out[i] = paths.listed(dir, e.Name())
		out[i].mode, out[i].unknown = e.Type(), forceUnknown
	}
	return out, nil
}

// lstat returns the os.Lstat of e, which the walk keeps beside the listing
// (walker.setForeign): its Sys() is what hashcache reads on these systems.
func (h *dirHandle) lstat(e *listed) (fs.FileInfo, error) {
	return os.Lstat(h.path + string(os.PathSeparator) + e.name())
}
