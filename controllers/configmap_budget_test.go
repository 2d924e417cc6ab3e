package controllers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// denseText is size bytes of gitleaks' keywords, each followed by a random token: text on which
// every credential rule's regex runs over all of it (seconds a MiB).
func denseText(t *testing.T, size int) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "internal", "secretrules", "gitleaks.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var keywords []string
	for _, m := range regexp.MustCompile(`(?m)^keywords = \[([^]]*)\]`).FindAllStringSubmatch(string(raw), -1) {
		for k := range strings.SplitSeq(m[1], ",") {
			if k = strings.Trim(strings.TrimSpace(k), `"`); k != "" {
				keywords = append(keywords, k)
			}
		}
	}
	r := rand.New(rand.NewPCG(5, 6))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(keywords[r.IntN(len(keywords))])
		for range 8 {
			b.WriteByte(alnum[r.IntN(len(alnum))])
		}
	}
	return b.String()[:size]
}

// TestConfigMapsPastWhatTheOperatorReadsAreNotAssessed (real API server): a ConfigMap whose
// text would cost the operator's informer seconds to read for credentials (checks.DigestConfigMap
// reads within a bound of work) is NotAssessed for sec-configmap-credentials, unread: listed among
// the findings (its criterion fails closed on it), its PolicyReport result an error naming the
// key and why, never Pass; one with a credential in a key read first
// still fails.
func TestConfigMapsPastWhatTheOperatorReadsAreNotAssessed(t *testing.T) {
	ctx := context.Background()
	const ns, profile = "cm-budget", "cmbudget"
	createNamespace(t, ns, map[string]string{"cmbudget": "true"})
	dense := denseText(t, 300<<10)
	hidden := &corev1.ConfigMap{Data: map[string]string{"notes.txt": dense + "\npostgres://app:Orders-2024-x9Kq@db.shop.svc/orders\n"}}
	hidden.Name, hidden.Namespace = "hidden", ns
	first := &corev1.ConfigMap{Data: map[string]string{"a-db.properties": "db.password=Orders-2024-x9Kq\n", "notes.txt": dense}}
	first.Name, first.Namespace = "first", ns
	for _, cm := range []*corev1.ConfigMap{hidden, first} {
		if err := k8s.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	createProfile(t, profile, "cmbudget", func(p *v1alpha1.ComplianceProfile) {
		onlyCheck(p, "sec-configmap-credentials")
		p.Spec.PolicyReports = true
	})
	eventually(t, 60*time.Second, "first failing, hidden NotAssessed", func() error {
		rep, err := getReport(ns, profile)
		if err != nil {
			return err
		}
		if f := finding(rep, "sec-configmap-credentials", "first", ""); f == nil || f.Result != v1alpha1.ResultFail || !strings.Contains(f.Message, `"a-db.properties"`) {
			return fmt.Errorf("first: want a Fail finding naming a-db.properties, have %+v", f)
		}
		if f := finding(rep, "sec-configmap-credentials", "hidden", ""); f == nil || f.Result != v1alpha1.ResultNotAssessed {
			return fmt.Errorf("hidden: want it listed NotAssessed (unread), have %+v", f)
		}
		if s := rep.Status.Summary; s.Failing != 1 || s.NotAssessed != 1 || s.Passed != 0 {
			return fmt.Errorf("want 1 failing, 1 not assessed, none passed; have %+v", s)
		}
		return nil
	})
	eventually(t, 30*time.Second, "hidden's PolicyReport says why", func() error {
		rep := &policyreport.PolicyReport{}
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: policyreport.ReportName(profile, "ConfigMap", "hidden")}, rep); err != nil {
			return err
		}
		for _, r := range rep.Results {
			if r.Policy != "sec-configmap-credentials" {
				continue
			}
			if r.Result != policyreport.StatusError || r.Properties[policyreport.PropertyReason] != policyreport.ReasonNotAssessed ||
				!strings.Contains(r.Message, `"notes.txt" not read for credentials`) ||
				!strings.Contains(r.Message, "informer cache reads a ConfigMap's keys only within a bound") {
				return fmt.Errorf("result %+v", r)
			}
			return nil
		}
		return fmt.Errorf("no sec-configmap-credentials result in %+v", rep.Results)
	})
}
