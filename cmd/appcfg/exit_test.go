package main

import (
	"context"
	"os"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/all"
)

// cmdHoldLock is the script command `holdlock STORE APP SERVICE VERSION`:
// another deploy (this test process, alive while the script runs) takes
// the deploy lock of that version in the local store at STORE for an hour,
// as a deploy running elsewhere holds it.
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: holdlock STORE APP SERVICE VERSION")
	}
	ctx := context.Background()
	b, err := all.Registry(all.Options{}).Open(ctx, "local:"+ts.MkAbs(args[0]), backend.Env{DataDir: ts.MkAbs(".data"), User: "alice"})
	ts.Check(err)
	defer b.Close()
	l, ok := b.(backend.Locker)
	if !ok {
		ts.Fatalf("holdlock: the local backend takes no locks")
	}
	host, _ := os.Hostname()
	key := backend.LockKey{App: args[1], Service: args[2], Version: args[3]}
	_, err = l.AcquireLock(ctx, key, backend.Owner{User: "alice", Host: host, PID: os.Getpid(), Acquired: time.Now()}, time.Hour)
	ts.Check(err)
}
