// Command journalsim writes the simulated year of internal/journal/journalsim (100 namespaces,
// findings opening and closing, exceptions approved and expiring, a restart and a store outage)
// into a journal store, through the real journal code: data to try `soc2-operator evidence`
// on, and to measure it as a process.
//
//	go run ./hack/journalsim -store /tmp/year [-days 365] [-namespaces 100]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/journal/journalsim"
)

func main() {
	cfg := journalsim.Year()
	store := flag.String("store", "", "Journal store URL or directory (required)")
	flag.IntVar(&cfg.Days, "days", cfg.Days, "Days to simulate")
	flag.IntVar(&cfg.Namespaces, "namespaces", cfg.Namespaces, "Namespaces")
	flag.Parse()
	if *store == "" {
		fmt.Fprintln(os.Stderr, "journalsim: -store is required")
		os.Exit(2)
	}
	ctx := context.Background()
	s, err := journal.OpenStore(ctx, *store)
	if err != nil {
		fmt.Fprintln(os.Stderr, "journalsim:", err)
		os.Exit(1)
	}
	start := time.Now()
	t, err := journalsim.Run(ctx, s, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "journalsim:", err)
		os.Exit(1)
	}
	fmt.Printf("Wrote %d records in %d segments to %s (cluster %s, %s to %s) in %s\n", t.Records, t.Segments, s, cfg.Cluster,
		cfg.Start.Format(time.DateOnly), cfg.Start.AddDate(0, 0, cfg.Days-1).Format(time.DateOnly), time.Since(start).Round(time.Millisecond))
}
