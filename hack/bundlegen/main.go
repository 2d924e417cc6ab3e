// Command bundlegen writes the OLM bundle from `kustomize build config/enforcement` (on
// standard input), the samples and the CSV's description and icon. `make bundle` runs it.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/soc2-operator/soc2-operator/internal/bundle"
)

func main() {
	var o bundle.Options
	var out, samples, manifests, dockerfile string
	flag.StringVar(&o.Version, "version", "", "Operator version, without v")
	flag.StringVar(&o.Image, "image", "", "Manager image reference")
	flag.StringVar(&samples, "samples", "config/samples", "Directory of sample objects (alm-examples)")
	flag.StringVar(&manifests, "manifests", "config/manifests", "Directory with description.md and icon.svg")
	flag.StringVar(&out, "out", "bundle", "Bundle directory")
	flag.StringVar(&dockerfile, "dockerfile", "bundle.Dockerfile", "Where to write the bundle Dockerfile")
	flag.Parse()
	if err := run(o, samples, manifests, out, dockerfile); err != nil {
		fmt.Fprintln(os.Stderr, "bundlegen:", err)
		os.Exit(1)
	}
}

func run(o bundle.Options, samples, manifests, out, dockerfile string) error {
	var err error
	if o.Rendered, err = io.ReadAll(os.Stdin); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(samples, "compliance_*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		o.Samples = append(o.Samples, data)
	}
	desc, err := os.ReadFile(filepath.Join(manifests, "description.md"))
	if err != nil {
		return err
	}
	o.Description = string(desc)
	if o.Icon, err = os.ReadFile(filepath.Join(manifests, "icon.svg")); err != nil {
		return err
	}
	generated, err := bundle.Generate(o)
	if err != nil {
		return err
	}
	if err := bundle.Write(out, generated); err != nil {
		return err
	}
	return os.WriteFile(dockerfile, []byte(bundle.Dockerfile()), 0o644)
}
