// Package zzpt is a temporary phase timer (not committed).
package zzpt

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

var start = time.Now()
var on = os.Getenv("APPCFG_PT") != ""

func Mark(s string) {
	if on {
		fmt.Fprintf(os.Stderr, "PT %7.1fms %s\n", float64(time.Since(start).Microseconds())/1000, s)
	}
}

var pf *os.File

func StartProf() {
	if p := os.Getenv("APPCFG_CPUPROF"); p != "" {
		pf, _ = os.Create(p)
		pprof.StartCPUProfile(pf)
	}
}
func StopProf() {
	if pf != nil {
		pprof.StopCPUProfile()
		pf.Close()
	}
}
