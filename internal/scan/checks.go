package scan

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/soc2-operator/soc2-operator/internal/checks"
)

// RunChecks is `soc2-operator checks`: the built-in catalogue as a table or JSON.
func RunChecks(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var output string
	fs.StringVar(&output, "o", "table", "Output format: table or json")
	fs.StringVar(&output, "output", "table", "Same as -o")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soc2-operator checks: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	var infos []checks.Info
	for _, c := range checks.Catalogue() {
		infos = append(infos, checks.InfoOf(c))
	}
	switch output {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"catalogVersion": checks.Version, "checks": infos}); err != nil {
			fmt.Fprintf(stderr, "soc2-operator checks: %v\n", err)
			return ExitUsage
		}
	case "table":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tCRITERIA\tTITLE")
		for _, c := range infos {
			title := c.Title
			if c.Requires != "" {
				title += " (requires " + c.Requires + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Severity, joinCriteria(c.Criteria), title)
		}
		if err := tw.Flush(); err != nil {
			return ExitUsage
		}
		fmt.Fprintf(stdout, "\n%d checks, catalogue version %s.\n", len(infos), checks.Version)
	default:
		fmt.Fprintf(stderr, "soc2-operator checks: -o %s: want table or json\n", output)
		return ExitUsage
	}
	return ExitOK
}
