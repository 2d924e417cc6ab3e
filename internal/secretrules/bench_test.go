package secretrules

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkFindAssignments is Find over name=value assignments as scan checks them (container
// environment variables and ConfigMap settings), most of them harmless, with and without the
// entropy bound.
func BenchmarkFindAssignments(b *testing.B) {
	texts := []string{
		"LOG_LEVEL=debug", "API_URL=http://api:8080", "AUTH_ENABLED=true", "ACCESS_LOG=/dev/stdout",
		"TOKEN_TTL=3600", "KEY_PREFIX=app", "SECRET_NAME=db-credentials", "PASSWORD_FILE=/etc/secret/pw",
		"server.port=8080", "spring.datasource.password=${DB_PASSWORD}", "redis.auth=false",
		"AZURE_BATCH_KEY=q8Vn3Rt7Lm2Xk9Pw4Sy6Bc1Df5Hj0Ae8Ui3Oz7Nv2=", "GH=ghp_4Zq8vN2mR7tX1kL9pW3sY6bC0dF5hJ2aE8uI",
	}
	r, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, exhaustive := range []bool{true, false} {
		rules := *r
		rules.exhaustive = exhaustive
		b.Run(fmt.Sprintf("entropy-bound=%v", !exhaustive), func(b *testing.B) {
			for b.Loop() {
				for _, t := range texts {
					rules.Find(t)
				}
			}
		})
	}
}

// BenchmarkASCIILower is the lowered copy rules with literals search (a ConfigMap value of a
// kilobyte, with and without upper-case letters).
func BenchmarkASCIILower(b *testing.B) {
	for _, text := range []string{
		strings.Repeat("Spring.Datasource.URL=jdbc:postgresql://DB:5432/App ", 20),
		strings.Repeat("spring.datasource.url=jdbc:postgresql://db:5432/app ", 20),
	} {
		b.Run(fmt.Sprintf("upper=%v", text != strings.ToLower(text)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var lower string
				asciiLower(text, &lower)
			}
		})
	}
}

// BenchmarkFindCorpus is Find over every name=value text scan checks in ../shared/corpus
// (ConfigMap data and container environment variables: corpusTexts), once each.
func BenchmarkFindCorpus(b *testing.B) {
	texts := corpusTexts(b)
	r, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, t := range texts {
		r.Find(t) // compile the rules the texts use (b.Loop times only what it runs)
	}
	for b.Loop() {
		for _, t := range texts {
			r.Find(t)
		}
	}
}
