//go:build !offline

package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
)

// runAdmissionPolicies prints the admission policies and bindings as YAML, for clusters whose
// policies are applied through GitOps: run the operator with --manage-admission-policies=false
// and apply this output. The operator checks that what is in the cluster matches it.
func runAdmissionPolicies(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("admission-policies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("operator-user", admissionpolicy.DefaultOperatorUser(),
		"The user name the operator authenticates as: the only one that may write ComplianceReports")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soc2-operator admission-policies: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	out, err := admissionpolicy.YAML(*user)
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator admission-policies: %v\n", err)
		return 1
	}
	_, _ = stdout.Write(out)
	return 0
}
