// Command kubectllist writes the objects of manifest files as `kubectl get -A -o json` (or
// -o yaml) writes a cluster's (testgen.KubectlList): one List, its items before its kind, for
// hack/scan-bench.sh (STREAM=1) to time a scan of such a List.
//
//	kubectllist [-yaml] PATH... >list.json
package main

import (
	"flag"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

func main() {
	asYAML := flag.Bool("yaml", false, "write YAML, as kubectl get -o yaml does (sigs.k8s.io/yaml), instead of JSON")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: kubectllist [-yaml] PATH... >list.json")
		os.Exit(2)
	}
	list, err := testgen.KubectlList(flag.Args()...)
	if err == nil && *asYAML {
		list, err = yaml.JSONToYAML(list)
	} else if err == nil {
		list = append(list, '\n')
	}
	if err == nil {
		_, err = os.Stdout.Write(list)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubectllist:", err)
		os.Exit(1)
	}
}
