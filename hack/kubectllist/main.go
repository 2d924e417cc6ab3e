// Command kubectllist writes the objects of manifest files as `kubectl get -A -o json` writes a
// cluster's (testgen.KubectlList): one List, indented by four spaces, its items before its
// kind, for hack/scan-bench.sh (STREAM=1) to time a scan of such a List.
//
//	kubectllist PATH... >list.json
package main

import (
	"fmt"
	"os"

	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubectllist PATH... >list.json")
		os.Exit(2)
	}
	list, err := testgen.KubectlList(os.Args[1:]...)
	if err == nil {
		_, err = os.Stdout.Write(append(list, '\n'))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubectllist:", err)
		os.Exit(1)
	}
}
