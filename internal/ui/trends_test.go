package ui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// TestTheTrendsPageChecksTheOperatorsSignatures: a journal is shown as verified only when each
// segment carries a valid signature by the operator's key; a chain someone wrote into the store
// without that key (a superseding forgery needs no key to chain) is shown as failing, and without
// a key the page says it checked no signature.
func TestTheTrendsPageChecksTheOperatorsSignatures(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	_, operatorKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	operator := operatorKey.Public().(ed25519.PublicKey)
	journalOf := func(t *testing.T, signer ed25519.PrivateKey) journal.Store {
		t.Helper()
		store, err := journal.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "prod", Signer: signer})
		if err != nil {
			t.Fatal(err)
		}
		op := &journal.Operator{Identity: "soc2-operator-0", Version: "test"}
		for _, at := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, -5 * time.Minute} {
			typ := journal.OperatorHeartbeat
			if at == -3*time.Hour {
				typ = journal.OperatorStarted
			}
			if err := w.Write(ctx, []journal.Record{{Type: typ, Time: now.Add(at), Operator: op}}); err != nil {
				t.Fatal(err)
			}
		}
		return store
	}
	banner := func(t *testing.T, store journal.Store, pub ed25519.PublicKey) string {
		t.Helper()
		j := NewJournalTrends(store, "prod", pub)
		j.now = func() time.Time { return now }
		html, err := j.Render(ctx, nil, 7)
		if err != nil {
			t.Fatal(err)
		}
		s := string(html)
		return s[:strings.Index(s, "</p>")]
	}

	signed := journalOf(t, operatorKey)
	if got, want := banner(t, signed, operator), "verified for this period: 4 records read, every segment's chain link, digests and signature by key "+journal.KeyID(operator)+" checked"; !strings.Contains(got, want) {
		t.Errorf("the operator's signed journal: want %q, got %q", want, got)
	}
	if got, want := banner(t, signed, nil), "signatures not checked, as the operator signs nothing"; !strings.Contains(got, want) {
		t.Errorf("without a key: want %q, got %q", want, got)
	}
	forged := journalOf(t, nil)
	if got := banner(t, forged, operator); !strings.Contains(got, "FAILED verification") {
		t.Errorf("an unsigned journal read with the operator's key: want FAILED, got %q", got)
	}
}

// TestTheTrendsPageTellsTheRecordCountOnlyToThoseWhoMayReadEverything: the number of journal
// records grows with every namespace's evaluations, attestations and findings; a user who may
// read some namespaces only must not learn it (how many namespaces there are, how busy the
// others are), while one who may read every namespace (visible nil) still sees it.
func TestTheTrendsPageTellsTheRecordCountOnlyToThoseWhoMayReadEverything(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	store, err := journal.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	op := &journal.Operator{Identity: "soc2-operator-0", Version: "test"}
	for i, at := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, -5 * time.Minute} {
		typ := journal.OperatorHeartbeat
		if i == 0 {
			typ = journal.OperatorStarted
		}
		if err := w.Write(ctx, []journal.Record{{Type: typ, Time: now.Add(at), Operator: op}}); err != nil {
			t.Fatal(err)
		}
	}
	j := NewJournalTrends(store, "prod", nil)
	j.now = func() time.Time { return now }
	render := func(visible func(string) bool) string {
		html, err := j.Render(ctx, visible, 7)
		if err != nil {
			t.Fatal(err)
		}
		return string(html)
	}
	if got := render(func(ns string) bool { return ns == "shop" }); strings.Contains(got, "records read") || !strings.Contains(got, "verified for this period") {
		t.Errorf("a user who may read shop only is told the cluster's record count (or not the verification):\n%s", got[:strings.Index(got, "</p>")])
	}
	if got := render(nil); !strings.Contains(got, "4 records read") {
		t.Errorf("a user who may read every namespace is not told the record count:\n%s", got[:strings.Index(got, "</p>")])
	}
}
