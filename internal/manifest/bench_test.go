package manifest

import (
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
)

// corpusDocuments are the YAML documents of ../shared/corpus, split as Decode splits them.
func corpusDocuments(b *testing.B) (docs [][]byte, bytes int64) {
	b.Helper()
	eachYAMLDocument([]string{"../../../shared/corpus"}, func(_ string, body []byte) {
		docs = append(docs, body)
		bytes += int64(len(body))
	})
	if len(docs) == 0 {
		b.Skip("corpus not available: no YAML document under ../../../shared/corpus")
	}
	return docs, bytes
}

// BenchmarkYAMLToJSON compares, on one core, the ways of turning the corpus's YAML documents
// into what decodeTyped reads: blockJSON (with the fallbacks Decode takes when it cannot
// decide), fastJSON over a yaml.v3 node tree, and the sigs.k8s.io/yaml round trip; and the
// floor of only parsing the same documents into a yaml.v3 node tree.
func BenchmarkYAMLToJSON(b *testing.B) {
	docs, size := corpusDocuments(b)
	run := func(name string, f func([]byte)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range docs {
					f(d)
				}
			}
		})
	}
	run("block", func(d []byte) { _, _, _ = toJSON(d, Options{}) })
	run("block-metadata-only", func(d []byte) {
		_, _, _ = toJSON(d, Options{MetadataOnly: func(string) bool { return true }})
	})
	run("v3node-fastJSON", func(d []byte) {
		if _, _, ok := fastJSON(d); !ok {
			_, _ = slowJSON(d)
		}
	})
	run("sigs", func(d []byte) { _, _ = slowJSON(d) })
	run("parse-only-v3node", func(d []byte) {
		var n yamlv3.Node
		_ = yamlv3.Unmarshal(d, &n)
	})
	run("parse-only-block", func(d []byte) { _, _, _ = blockJSON(d, func(string, string) bool { return true }) })
}

// BenchmarkDecode is Decode of every document of the corpus, whole and keeping only the
// metadata of every kind read as unstructured (what scan does for kinds no check reads).
func BenchmarkDecode(b *testing.B) {
	docs, size := corpusDocuments(b)
	for _, c := range []struct {
		name string
		opts Options
	}{{"whole", Options{}}, {"metadata-only", Options{MetadataOnly: func(string) bool { return true }}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range docs {
					_, _ = DecodeWith("corpus.yaml", d, c.opts)
				}
			}
		})
	}
}

// BenchmarkTypedDecoding compares, on one core, decoding the corpus's documents of typed kinds
// from JSON into their Go types with sigs.k8s.io/json alone and with unmarshalTyped (the fast
// decoder, sigs.k8s.io/json for what it refuses).
func BenchmarkTypedDecoding(b *testing.B) {
	docs := jsonDocuments([]string{"../../../shared/corpus"}, true)
	if len(docs) == 0 {
		b.Skip("corpus not available under ../../../shared/corpus")
	}
	b.Run("sigs.k8s.io-json", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				_ = unmarshal(d.js, d.newObj())
			}
		}
	})
	b.Run("unmarshalTyped", func(b *testing.B) {
		for b.Loop() {
			for _, d := range docs {
				_, _ = unmarshalTyped(d.js, d.newObj)
			}
		}
	})
}

// BenchmarkPlainText is plainText (the block reader's first pass over a document) over every
// document of the corpus.
func BenchmarkPlainText(b *testing.B) {
	docs, size := corpusDocuments(b)
	b.SetBytes(size)
	for b.Loop() {
		for _, d := range docs {
			_, _ = plainText(d)
		}
	}
}
