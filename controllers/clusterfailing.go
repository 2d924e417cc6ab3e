package controllers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The journal records namespaces' findings only, so after a restart (or a failover) nothing
// said which cluster-scoped findings the operator had identified: the first evaluation compared
// the findings the profile's clusterFindings list with those it listed before, and a
// cluster-admin binding made in place of an unlisted one while no operator ran (as many
// findings as before, the same ones listed) was never identified, neither alerted on nor
// recorded in soc2_operator_finding_opened_timestamp_seconds{namespace=""}.
//
// So the failing cluster-scoped findings a full evaluation identified (state.failing[""]) are
// kept on evaluationsLease, in the operator's namespace, which tenants cannot write: one
// annotation per profile holding the profile's UID and the findings' keys (failingKey, 16 hex
// digits each), written when they change. The first full evaluation of a profile in a process
// takes those as known and identifies the others as new, as seedFailing does for a namespace
// with the journal. Past maxKeptClusterFailing findings (the Lease's annotations are bounded),
// nothing was kept and the old comparison remained: a profile with thousands of failing
// cluster-scoped findings (Medium ones, say: dangling bindings) had a cluster-admin binding made
// in place of another while no operator ran never identified. So past the bound those at or
// above High are kept, with that severity (or those Critical, if they alone are too many), and
// the first full evaluation identifies as new only the findings at or above it that were not
// kept; the less severe are taken as known (never alerted on or recorded as opened again at each
// restart, but one made while no operator ran is not identified either). Without the Lease,
// or past the bound with Critical findings alone, the annotation is removed and the old
// comparison remains.

// clusterFailingAnnotationPrefix prefixes the annotation of each profile on evaluationsLease
// that keeps its failing cluster-scoped findings.
const clusterFailingAnnotationPrefix = "cluster-failing.compliance.soc2-operator.io/"

// maxKeptClusterFailing bounds the findings kept per profile (16 bytes each: 32 KiB, of the
// 256 KiB all the Lease's annotations may hold).
const maxKeptClusterFailing = 2048

// encodeClusterFailing is the annotation's value: the profile's UID, then the keys, sorted.
// Past maxKeptClusterFailing, the keys at or above High (severity gives each key's), or if they
// are too many, Critical, preceded by that severity and a colon: "UID High:keys". "" when the
// Critical ones alone are too many to keep.
func encodeClusterFailing(uid types.UID, failing map[uint64]bool, severity map[uint64]v1alpha1.Severity) string {
	keys := make([]uint64, 0, min(len(failing), maxKeptClusterFailing))
	var atLeast v1alpha1.Severity
	if len(failing) > maxKeptClusterFailing {
		for _, t := range []v1alpha1.Severity{v1alpha1.SeverityHigh, v1alpha1.SeverityCritical} {
			keys = keys[:0]
			for k := range failing {
				if engine.SeverityAtLeast(severity[k], t) {
					keys = append(keys, k)
				}
			}
			if len(keys) <= maxKeptClusterFailing {
				atLeast = t
				break
			}
		}
		if atLeast == "" {
			return ""
		}
	} else {
		for k := range failing {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(len(uid) + 1 + len(atLeast) + 1 + 16*len(keys))
	b.WriteString(string(uid))
	b.WriteByte(' ')
	if atLeast != "" {
		b.WriteString(string(atLeast) + ":")
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "%016x", k)
	}
	return b.String()
}

// decodeClusterFailing reads an annotation's value kept for the profile object uid; ok is false
// when it is of another object (a profile deleted and created again under the name) or does
// not parse. atLeast is "" when every failing finding was kept, else the severity at or above
// which they were.
func decodeClusterFailing(uid types.UID, value string) (failing map[uint64]bool, atLeast v1alpha1.Severity, ok bool) {
	owner, keys, found := strings.Cut(value, " ")
	if sev, rest, partial := strings.Cut(keys, ":"); partial {
		if sev != string(v1alpha1.SeverityHigh) && sev != string(v1alpha1.SeverityCritical) {
			return nil, "", false
		}
		atLeast, keys = v1alpha1.Severity(sev), rest
	}
	if !found || uid == "" || types.UID(owner) != uid || len(keys)%16 != 0 {
		return nil, "", false
	}
	failing = make(map[uint64]bool, len(keys)/16)
	for i := 0; i < len(keys); i += 16 {
		k, err := strconv.ParseUint(keys[i:i+16], 16, 64)
		if err != nil {
			return nil, "", false
		}
		failing[k] = true
	}
	return failing, atLeast, true
}

// seedClusterFailing tells the first full evaluation of a profile in this process (p) which of
// its failing cluster-scoped findings the operator had identified before, as the profile's
// annotation on evaluationsLease says, so that fresh identifies the others as new, listed in
// clusterFindings or not. Called with ps.statusMu held.
func (r *ComplianceProfileReconciler) seedClusterFailing(ctx context.Context, p *pass) {
	ps := p.ps
	if !ps.firstPlan || r.apiReader == nil || r.AdminNamespace == "" {
		return
	}
	if _, known := r.state.failingBefore(ps, ""); known {
		return
	}
	value, err := r.evaluationsAnnotation(clusterFailingAnnotationPrefix + p.profile.Name).read(ctx)
	if err != nil {
		logf.FromContext(ctx).Error(err, "Unable to read which cluster-scoped findings were identified before; the listed ones are compared alone",
			"lease", evaluationsLease)
		return
	}
	kept, atLeast, ok := decodeClusterFailing(p.profile.UID, value)
	if !ok {
		return
	}
	failing := make(map[uint64]bool, len(kept))
	for _, res := range p.clusterSummary.Findings {
		if !alerting(res) {
			continue
		}
		// Below atLeast nothing was kept: known, not news.
		if k := failingKey(res); kept[k] || (atLeast != "" && !engine.SeverityAtLeast(res.Check.Severity, atLeast)) {
			failing[k] = true
		}
	}
	r.state.seedFailing(ps, "", failing)
}

// keepClusterFailing writes the failing cluster-scoped findings identified so far
// (state.failing[""]) to the profile's annotation on evaluationsLease when they changed since
// this process last wrote or read it, and only over what it last wrote or read there
// (leaseAnnotation). A failure is logged: a later process then compares with
// an older set (a finding identified since is identified again), or, where there is none, the
// listed findings alone. Called with ps.statusMu held.
func (r *ComplianceProfileReconciler) keepClusterFailing(ctx context.Context, p *pass) {
	ps := p.ps
	if r.apiReader == nil || r.AdminNamespace == "" {
		return
	}
	failing, known := r.state.failingBefore(ps, "")
	if !known {
		return
	}
	var severity map[uint64]v1alpha1.Severity
	if len(failing) > maxKeptClusterFailing && p.clusterSummary != nil {
		severity = make(map[uint64]v1alpha1.Severity, len(failing))
		for _, res := range p.clusterSummary.Findings {
			if alerting(res) {
				severity[failingKey(res)] = res.Check.Severity
			}
		}
	}
	value := encodeClusterFailing(p.profile.UID, failing, severity)
	kept := r.evaluationsAnnotation(clusterFailingAnnotationPrefix + p.profile.Name)
	if kept.holds(value) {
		return
	}
	// Only over what this process last read or wrote (leaseAnnotation): an old leader's write
	// does not replace the new leader's.
	if err := kept.write(ctx, value); err != nil && !stopping(ctx) {
		logUnsaved(logf.FromContext(ctx), err, "Unable to keep which cluster-scoped findings were identified", "lease", evaluationsLease, "profile", p.profile.Name)
	}
}
