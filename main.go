// Command soc2-operator assesses a cluster's workloads and access rules against SOC 2 Trust
// Services criteria.
//
//	soc2-operator manager [flags]     run the operator
//	soc2-operator [help|-h|--help]    print usage (also with no arguments)
//	soc2-operator scan -f PATH...     evaluate manifests against the SOC 2 checks (for CI)
//	soc2-operator checks              list the built-in checks
//	soc2-operator evidence verify|pack  verify the journal; build an evidence pack for a period
//	soc2-operator version             print the version
//	soc2-operator kubectl ...         the kubectl plugin; installed as kubectl-soc2, the binary
//	                                  is the plugin itself: kubectl soc2 status|findings|...
//
// Built with -tags offline (make build-offline), the binary has only the commands that need no
// cluster: scan, checks and version. It links no Kubernetes client, controller-runtime or AWS
// SDK, whose initialisers are most of a scan's start-up (see operator.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/scan"
	"github.com/soc2-operator/soc2-operator/internal/version"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands are the binary's commands, in the order usage lists them.
func commands() []command {
	var cmds []command
	for _, c := range allCommands() {
		if c.run != nil {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// allCommands are the commands of the full build; in the offline build those that need a
// cluster have no run.
func allCommands() []command {
	return []command{
		{name: "manager", summary: "Run the operator (what the Deployment runs)", run: runManager},
		{name: "scan", summary: "Evaluate manifest files against the SOC 2 checks (for CI)", run: runScan},
		{name: "checks", summary: "List the built-in SOC 2 checks", run: runChecks},
		{name: "admission-policies", summary: "Print the admission policies the operator applies (for --manage-admission-policies=false)", run: runAdmissionPolicies},
		{name: "evidence", summary: "Verify the journal, or build a SOC 2 Type II evidence pack for a period (verify, pack)", run: runEvidence},
		{name: "kubectl", summary: "The kubectl plugin: installed as kubectl-soc2, `kubectl soc2 status|findings|explain|...`", run: runKubectl},
		{name: "version", summary: "Print the version", run: runVersion},
	}
}

// PluginName is the binary's name as a kubectl plugin: kubectl runs kubectl-soc2 for
// `kubectl soc2`. Installed (or linked) under that name, the binary is the plugin.
const PluginName = "kubectl-soc2"

func main() {
	if name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe"); name == PluginName && runPlugin != nil {
		os.Exit(runPlugin(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// With no arguments, print usage: starting a manager against whatever kubeconfig is around
	// is not what someone trying the binary expects. The manager starts with `manager`.
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "soc2-operator: flag %s given before a command; the operator now starts with `soc2-operator manager %s`\n\n", name, strings.Join(args, " "))
		usage(stderr)
		return 2
	}
	for _, c := range allCommands() {
		if c.name != name {
			continue
		}
		if c.run == nil {
			fmt.Fprintf(stderr, "soc2-operator: %s is not in this build: it is the offline build (-tags offline), with only the commands that need no cluster; the operator's binary and image have it\n\n", name)
			usage(stderr)
			return 2
		}
		return c.run(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "soc2-operator: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: soc2-operator <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-19s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'soc2-operator <command> --help' for a command's flags.")
}

func runScan(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return scan.Run(args, stdin, stdout, stderr, time.Now)
}

func runChecks(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return scan.RunChecks(args, stdout, stderr)
}

func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	short := fs.Bool("short", false, "Print only the version number")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if *short {
		fmt.Fprintln(stdout, version.Get().Version)
		return 0
	}
	fmt.Fprintln(stdout, version.Get())
	return 0
}

// flagExit is the exit code for a flag parsing error: 0 for -h, 2 otherwise.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
