package main

import (
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/scan"
)

func main() {
	f, _ := os.Create(os.Getenv("PROF"))
	pprof.StartCPUProfile(f)
	rc := scan.Run(os.Args[1:], os.Stdin, io.Discard, os.Stderr, time.Now)
	pprof.StopCPUProfile()
	os.Exit(rc)
}
