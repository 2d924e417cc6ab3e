// Command demo runs soc2-operator on a local control plane with sample workloads and shows the
// reports with kubectl. `make demo` runs it; with --once it exits after printing.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/soc2-operator/soc2-operator/internal/demo"
)

func main() {
	once := flag.Bool("once", false, "Exit after printing the reports (for CI and tests)")
	flag.Parse()
	// Under `make demo | tee log`, Ctrl-C also kills tee: a write to the closed pipe must not
	// kill the demo before it stops kube-apiserver and etcd (envtest starts them in process
	// groups of their own, so Ctrl-C does not reach them).
	signal.Ignore(syscall.SIGPIPE)
	restore := takeTerminal()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *once)
	interrupted := ctx.Err() != nil
	stop()
	restore()
	if err != nil && !interrupted {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	// Ctrl-C is how a user ends the demo: everything was cleaned up, so it is a success.
}

// takeTerminal makes the demo the terminal's foreground process group, when it runs in the
// foreground of one, so that Ctrl-C reaches the demo (and the processes it starts) but not
// make or go run above it: GNU make re-raises SIGINT on itself after its child ends, so
// `make demo` would otherwise end with "make: *** [demo] Interrupt" and status 130 however
// cleanly the demo stopped. The returned function gives the terminal back.
func takeTerminal() (restore func()) {
	noop := func() {}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return noop // no controlling terminal (CI, tests): signals come from whoever sends them
	}
	fd := int(tty.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		tty.Close()
		return noop // in the background: leave the terminal alone
	}
	if err := unix.Setpgid(0, 0); err != nil {
		tty.Close()
		return noop
	}
	// A process group that is not in the foreground gets SIGTTOU when it changes the
	// terminal's foreground group; ignore it for both changes.
	signal.Ignore(syscall.SIGTTOU)
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp()); err != nil {
		_ = unix.Setpgid(0, fg)
		tty.Close()
		return noop
	}
	return func() {
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg)
		tty.Close()
	}
}

func run(ctx context.Context, once bool) error {
	d, err := demo.Start(ctx, os.Stdout)
	if err != nil {
		return err
	}
	defer d.Stop()
	if err := d.Show(ctx, os.Stdout); err != nil {
		return err
	}
	if once {
		// Stop the operator (it records its stop), then build and verify the evidence pack of
		// the demo's period, as an auditor would receive it.
		if err := d.Manager.Stop(20 * time.Second); err != nil {
			return err
		}
		fmt.Println()
		return d.EvidencePack(ctx, filepath.Join(d.Dir(), "evidence"), os.Stdout)
	}
	fmt.Printf(`
The operator keeps running against the local control plane. In another terminal:

  export KUBECONFIG=%s
  alias kubectl=%s
  kubectl get compliancereports -A
  kubectl describe compliancereport %s -n legacy
  kubectl edit deployment monolith -n legacy    # fix something, watch its report change

The dashboard (with trends from the journal): open %s and sign in with the token this prints:

  kubectl create token %s -n default

The operator journals every transition to %s. The evidence pack of the
demo's period (open index.html in it):

  go run . %s

Press Ctrl-C to stop; everything is cleaned up.
`, d.Kubeconfig, d.Kubectl, demo.Profile, d.DashboardURL, demo.DashboardViewer, d.JournalDir, strings.Join(d.PackArgs(filepath.Join(d.Dir(), "evidence")), " "))
	<-ctx.Done()
	fmt.Println("\nStopping the operator and the control plane.")
	return nil
}
