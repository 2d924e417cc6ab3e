package journal

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

// TestVerifyCanRequireObjectLock: an auditor who asks that the period's segments be locked
// (ScanOptions.LockedUntil, evidence --locked-until) learns which are not: a bucket without
// Object Lock, one in governance mode (lifted by s3:BypassGovernanceRetention), a retention that
// ends too soon, or a store that keeps no lock at all. Before, a journal anyone could rewrite
// verified exactly like a locked one.
func TestVerifyCanRequireObjectLock(t *testing.T) {
	endpoint := versityGW(t)
	ctx := context.Background()
	key := newKey(t)
	file, err := NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]Store{
		"compliance": bucket(t, endpoint, "locked-compliance", true, "&lock-mode=compliance&retain-days=30"),
		"governance": bucket(t, endpoint, "locked-governance", true, "&lock-mode=governance&retain-days=30"),
		"unlocked":   bucket(t, endpoint, "unlocked", false, ""),
		"file":       file,
	}
	for _, s := range stores {
		writeDaysTo(t, s, "prod", 2, key)
	}
	now := time.Now()
	cases := []struct {
		store string
		until time.Time
		want  string // "" verifies
	}{
		{"compliance", now.AddDate(0, 0, 29), ""},
		{"compliance", now.AddDate(0, 0, 31), "retained until"},
		{"governance", now.AddDate(0, 0, 29), "in GOVERNANCE mode"},
		{"unlocked", now.AddDate(0, 0, 29), "not under Object Lock"},
		{"file", now.AddDate(0, 0, 29), "keeps no Object Lock retention"},
	}
	for _, tc := range cases {
		res, err := Scan(ctx, stores[tc.store], ScanOptions{Cluster: "prod", PublicKey: key.Public().(ed25519.PublicKey), LockedUntil: tc.until})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == "" && !res.OK():
			t.Errorf("%s until %s: want verified, got %v", tc.store, tc.until.Format(time.DateOnly), res.Problems)
		case tc.want != "" && (res.OK() || res.Problems[0].Kind != ProblemUnlocked || !strings.Contains(res.Problems[0].Detail, tc.want)):
			t.Errorf("%s until %s: want unlocked, saying %q, got %v", tc.store, tc.until.Format(time.DateOnly), tc.want, res.Problems)
		}
	}
	// Without LockedUntil nothing is asked of the lock, as before.
	if res, err := Scan(ctx, stores["unlocked"], ScanOptions{Cluster: "prod", PublicKey: key.Public().(ed25519.PublicKey)}); err != nil || !res.OK() {
		t.Errorf("without LockedUntil: %v %v", err, res.Problems)
	}
}
