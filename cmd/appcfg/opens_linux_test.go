package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// openWatches holds each script's inotify watch between "watchopens start"
// and "watchopens stop".
var openWatches sync.Map // *testscript.TestScript -> *openWatch

type openWatch struct {
	fd   int
	dirs map[int]string // watch descriptor -> directory, relative to the root
}

// cmdWatchOpens counts, through inotify (so with no hook in the code under
// test), the files opened under a directory by the commands a script runs:
//
//	watchopens start DIR      watch every directory of the tree DIR
//	watchopens stop [NAME...] fail when a file other than the NAMEs (paths
//	                          relative to DIR) was opened meanwhile
//	watchopens stop -each N [NAME...]  fail when a file other than the NAMEs
//	                          was opened more than N times
//	watchopens backdate PATH  set the mtime of every file of PATH an hour
//	                          back, so the stat cache trusts what it learns
func cmdWatchOpens(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: watchopens start DIR | stop [NAME...] | stop -each N [NAME...] | backdate PATH")
	}
	switch args[0] {
	case "backdate":
		if len(args) != 2 {
			ts.Fatalf("usage: watchopens backdate PATH")
		}
		old := time.Now().Add(-time.Hour)
		ts.Check(filepath.WalkDir(ts.MkAbs(args[1]), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			return os.Chtimes(p, old, old)
		}))
	case "start":
		if len(args) != 2 {
			ts.Fatalf("usage: watchopens start DIR")
		}
		fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
		ts.Check(err)
		w := &openWatch{fd: fd, dirs: map[int]string{}}
		root := ts.MkAbs(args[1])
		ts.Check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			wd, err := unix.InotifyAddWatch(fd, p, unix.IN_OPEN)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			w.dirs[wd] = rel
			return nil
		}))
		openWatches.Store(ts, w)
	case "stop":
		v, ok := openWatches.LoadAndDelete(ts)
		if !ok {
			ts.Fatalf("watchopens stop without start")
		}
		w := v.(*openWatch)
		defer unix.Close(w.fd)
		opened := w.read(ts)
		if len(args) >= 3 && args[1] == "-each" {
			most, err := strconv.Atoi(args[2])
			ts.Check(err)
			counts := map[string]int{}
			for _, name := range opened {
				counts[name]++
			}
			var over []string
			for name, n := range counts {
				if n > most && !slices.Contains(args[3:], name) {
					over = append(over, fmt.Sprintf("%s (%d times)", name, n))
				}
			}
			slices.Sort(over)
			ts.Logf("files opened: %d, %d opens", len(counts), len(opened))
			if len(over) > 0 {
				ts.Fatalf("%d files opened more than %d times: %s", len(over), most, strings.Join(over, " "))
			}
			return
		}
		var unexpected []string
		for _, name := range opened {
			if !slices.Contains(args[1:], name) {
				unexpected = append(unexpected, name)
			}
		}
		ts.Logf("files opened: %d (%s)", len(opened), strings.Join(opened, " "))
		if len(unexpected) > 0 {
			ts.Fatalf("%d unexpected file opens: %s", len(unexpected), strings.Join(unexpected, " "))
		}
	default:
		ts.Fatalf("usage: watchopens start DIR | stop [NAME...] | stop -each N [NAME...] | backdate PATH")
	}
}

// read drains the events: the files (not directories) opened, by path
// relative to the watched root, once per open.
func (w *openWatch) read(ts *testscript.TestScript) []string {
	var opened []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(w.fd, buf)
		if err == unix.EAGAIN || n <= 0 {
			return opened
		}
		ts.Check(err)
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_ISDIR != 0 || ev.Mask&unix.IN_OPEN == 0 || name == "" {
				continue
			}
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				ts.Fatalf("inotify queue overflow")
			}
			opened = append(opened, filepath.ToSlash(filepath.Join(w.dirs[int(ev.Wd)], name)))
		}
	}
}
