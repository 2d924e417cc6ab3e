package testgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// KubectlList is the objects of the YAML manifests under roots as `kubectl get -A -o json`
// writes a cluster's: one List, indented by four spaces, its items before its kind. It walks
// directories as `soc2-operator scan` does (*.yaml and *.yml, in lexical order) and takes every
// document that is a map with a kind, skipping the rest and the rest of a file it cannot read.
func KubectlList(roots ...string) ([]byte, error) {
	var items []json.RawMessage
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !manifest.IsManifestFile(d.Name()) || filepath.Ext(path) == ".json" {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
			for {
				doc, err := r.Read()
				if err != nil {
					if errors.Is(err, io.EOF) {
						return nil
					}
					return nil // the rest of a broken file
				}
				js, err := yaml.YAMLToJSON(doc)
				var obj map[string]any
				if err != nil || json.Unmarshal(js, &obj) != nil || obj["kind"] == nil {
					continue
				}
				items = append(items, js)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("kubectl list of %s: %w", root, err)
		}
	}
	return json.MarshalIndent(map[string]any{"apiVersion": "v1", "items": items, "kind": "List",
		"metadata": map[string]any{"resourceVersion": ""}}, "", "    ")
}
