//go:build offline

package main

import "io"

// The offline build (-tags offline) has no command that needs a cluster: commands leaves out
// those without a run, and the binary is no kubectl plugin.
var runManager, runAdmissionPolicies, runEvidence, runKubectl, runPlugin func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
