//go:build !offline

package main

import (
	"io"

	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/kubectlplugin"
)

// The commands that need a cluster or its journal, which the offline build leaves out (with
// manager.go and admissionpolicies.go): they link controller-runtime, client-go and the AWS
// SDK, whose initialisers run in every process of the binary, scan's too.

// runPlugin runs the binary installed as kubectl-soc2: the kubectl plugin.
var runPlugin = func(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return kubectlplugin.Run(args, &kubectlplugin.Env{Prog: "kubectl soc2", Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

func runEvidence(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return evidence.Run(args, stdout, stderr)
}

func runKubectl(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return kubectlplugin.Run(args, &kubectlplugin.Env{Prog: "soc2-operator kubectl", Stdin: stdin, Stdout: stdout, Stderr: stderr})
}
