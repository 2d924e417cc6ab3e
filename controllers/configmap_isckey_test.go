package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestISCKeySecretsInConfigMapsAreJudged: a tenant's ConfigMap holding BIND's rndc key (key
// "rndc-key" { algorithm hmac-sha256; secret "..."; };) fails sec-configmap-credentials in the
// operator's report, both kept whole by the cache and, past 16 KiB (a named.conf with its zones
// and a transfer key), as the digest the cache keeps instead; with the secret taken out the
// namespace passes. Before, both ConfigMaps passed: secret VALUE was read nowhere.
func TestISCKeySecretsInConfigMapsAreJudged(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "cm-isc-key", "cmisckey"
	createNamespace(t, ns, map[string]string{"cmisckey": "true"})
	var zones strings.Builder
	for i := range 400 {
		fmt.Fprintf(&zones, "zone \"z%d.example.org\" { type primary; file \"/var/lib/bind/z%d.example.org.db\"; };\n", i, i)
	}
	rndc := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rndc"},
		Data: map[string]string{"rndc.key": "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n" +
			"\tsecret \"9j3Xh6tJ0Yh8b1o0cP0wQmV7aXlZq1ZlW0rT6yS2kE4=\";\n};\n"},
	}
	named := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "named"},
		Data: map[string]string{"named.conf": "options { directory \"/var/cache/bind\"; allow-transfer { key \"xfer\"; }; };\n" +
			zones.String() + "key \"xfer\" {\n  algorithm hmac-sha512;\n  secret \"Zm9vYmFyYmF6cXV4\";\n};\n"},
	}
	if n := len(named.Data["named.conf"]); n <= 16<<10 {
		t.Fatalf("named.conf is %d bytes, want more than 16 KiB so that the cache keeps a digest", n)
	}
	for _, cm := range []*corev1.ConfigMap{rndc, named} {
		if err := k8s.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "cmisckey", func(p *v1alpha1.ComplianceProfile) { onlyCheck(p, "sec-configmap-credentials") })
	eventuallyFinding(t, 20*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "rndc",
		`"rndc.key" (ISC key statement gives a TSIG secret)`)
	eventuallyFinding(t, 20*time.Second, ns, profile, "sec-configmap-credentials", "ConfigMap", "named",
		`"named.conf" (ISC key statement gives a TSIG secret)`)

	rndc.Data = map[string]string{"rndc.conf": "include \"/etc/bind/secrets/rndc.key\";\noptions { default-key \"rndc-key\"; };\n"}
	named.Data = map[string]string{"named.conf": "include \"/etc/bind/secrets/xfer.key\";\n" + zones.String()}
	for _, cm := range []*corev1.ConfigMap{rndc, named} {
		if err := k8s.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	eventuallyAssessedPass(t, 20*time.Second, ns, profile, "C1.1")
}
