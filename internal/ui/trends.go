package ui

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/charts"
	"github.com/soc2-operator/soc2-operator/internal/evidence"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// trendsCacheTTL is how long a window read from the journal is reused: reading 90 days of
// journal is too slow for every page view, and the journal itself is flushed every few seconds.
const trendsCacheTTL = time.Minute

// JournalTrends draws the evidence pack's charts (internal/evidence, internal/charts) from the
// operator's journal, for the namespaces each user may read.
type JournalTrends struct {
	store   journal.Store
	cluster string
	// pub checks each segment's signature when set (the operator's --journal-signing-key).
	pub ed25519.PublicKey
	now func() time.Time

	mu    sync.Mutex
	cache map[int]cachedPack
}

type cachedPack struct {
	pack *evidence.Pack
	at   time.Time
}

// NewJournalTrends reads cluster's journal in store. With pub, every segment must carry a
// valid signature by its key for the period to verify; without, signatures are not checked,
// and the page says so.
func NewJournalTrends(store journal.Store, cluster string, pub ed25519.PublicKey) *JournalTrends {
	return &JournalTrends{store: store, cluster: cluster, pub: pub, now: time.Now, cache: map[int]cachedPack{}}
}

func (j *JournalTrends) pack(ctx context.Context, days int) (*evidence.Pack, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	if c, ok := j.cache[days]; ok && now.Sub(c.at) < trendsCacheTTL {
		return c.pack, nil
	}
	to := now.UTC().Truncate(time.Minute).Add(time.Minute)
	from := to.AddDate(0, 0, -days)
	// A journal younger than the period is shown from its start: verification names a period
	// the chain does not reach as uncovered.
	start, err := journal.ChainStart(ctx, j.store, j.cluster)
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	if start.After(from) && start.Before(to) {
		from = start
	}
	p, err := evidence.Collect(ctx, j.store, evidence.Options{From: from, To: to, Clusters: []string{j.cluster}, PublicKey: j.pub, Now: j.now})
	if err != nil {
		return nil, fmt.Errorf("reading the journal: %w", err)
	}
	j.cache[days] = cachedPack{pack: p, at: now}
	return p, nil
}

// Render draws the criterion, deviation and remediation charts of the last days for the
// namespaces visible accepts (every one when nil).
func (j *JournalTrends) Render(ctx context.Context, visible func(namespace string) bool, days int) (template.HTML, error) {
	p, err := j.pack(ctx, days)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if p.OK() {
		checked := "chain link and digests checked; signatures not checked, as the operator signs nothing (no --journal-signing-key)"
		if j.pub != nil {
			checked = "chain link, digests and signature by key " + journal.KeyID(j.pub) + " checked"
		}
		// The record count is the whole cluster's: told only to who may read every namespace.
		read := ""
		if visible == nil {
			read = fmt.Sprintf(" %d records read,", p.Records)
		}
		fmt.Fprintf(&b, "<p class=\"good\" id=\"verification\">The journal of cluster %s verified for this period:%s every segment's %s.</p>\n",
			template.HTMLEscapeString(j.cluster), read, template.HTMLEscapeString(checked))
	} else {
		fmt.Fprintf(&b, "<p class=\"alert\" id=\"verification\">The journal of cluster %s FAILED verification for this period: <code>soc2-operator evidence verify</code> says why.</p>\n",
			template.HTMLEscapeString(j.cluster))
	}
	b.WriteString("<h2>Each criterion's state over the period</h2>\n")
	charts.Legend(&b)
	p.CriterionCharts(&b, visible)
	b.WriteString("<h2>Deviations over time</h2>\n<p class=\"muted\">Deviations (failing findings) opened (red) and closed (green) per week.</p>\n")
	p.DeviationChart(&b, visible)
	b.WriteString("<h2>Time to remediate</h2>\n<p class=\"muted\">Closed deviations by how long they lasted; the last bar counts those still open.</p>\n")
	p.RemediationChart(&b, visible)
	// Everything written above is escaped by the chart code (internal/charts).
	return template.HTML(b.String()), nil //nolint:gosec // built by escaping writers
}
