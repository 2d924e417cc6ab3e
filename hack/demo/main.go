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

	"github.com/soc2-operator/soc2-operator/internal/demo"
)

func main() {
	once := flag.Bool("once", false, "Exit after printing the reports (for CI and tests)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *once); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
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
