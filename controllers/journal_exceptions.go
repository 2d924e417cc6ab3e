package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// exceptionTransitions records exceptions requested, approved, expired and revoked (deleted
// before they expired). Times come from the object where it has them (creation, expiry), so a
// new leader writes the same records. outcomes are every exception of the namespaces reaches
// accepts (nil: of every namespace), as an evaluation judged them: one it tracks there that is
// not among them was revoked. An evaluation of one namespace judges only the exceptions that
// can cover its objects (engine.Options.Reaches); the others are not revoked for that.
func (h *journalHook) exceptionTransitions(outcomes []*engine.ExceptionOutcome, now time.Time, reaches func(namespace string) bool) []journal.Record {
	var recs []journal.Record
	seen := make(map[string]bool, len(outcomes))
	for _, o := range outcomes {
		ex := o.Exception
		if ex == nil || seen[o.Key] {
			continue
		}
		seen[o.Key] = true
		e := h.exceptions[o.Key]
		var digest string
		rec := func(typ journal.Type, at time.Time) {
			body := exceptionRecord(o, o.Matched, digest)
			recs = append(recs, journal.Record{Type: typ, Time: at, Namespace: ex.Namespace, Exception: &body})
		}
		created := ex.CreationTimestamp.Time
		if e != nil && !e.created.IsZero() && !created.IsZero() && !e.created.Equal(created) {
			// Another object under the same name (the first was deleted and this one created):
			// another request, whose life the journal records from its own start.
			if !e.ended {
				// Deleted at the latest when the new one was created.
				at := now
				if created.Before(at) {
					at = created
				}
				recs = append(recs, journal.Record{Type: journal.ExceptionRevoked, Time: at, Namespace: e.namespace,
					Exception: &journal.Exception{Name: e.name, Created: e.created}})
			}
			e = nil
		}
		if e != nil && e.spec != "" && e.specGen != 0 && e.specGen == ex.Generation {
			digest = e.spec // the spec of a generation already seen
		} else {
			digest = exceptionSpecDigest(ex)
		}
		if e == nil {
			e = &exTrack{namespace: ex.Namespace, name: ex.Name, created: created, spec: digest}
			h.exceptions[o.Key] = e
			rec(journal.ExceptionRequested, ex.CreationTimestamp.Time)
		}
		if e.created.IsZero() {
			e.created = created
		}
		// A changed spec (more checks or resources, a later expiry) is recorded when the
		// operator saw it, approved or not: under a profile that requires no approval nothing
		// else would say the exception was widened. Not from managedFields, which a client may
		// write. A journal that recorded no digest only teaches it.
		if e.spec != "" && e.spec != digest {
			rec(journal.ExceptionChanged, now)
			if e.ended && o.State != v1alpha1.ExceptionExpired {
				e.ended = false // an expired exception extended: its new expiry is recorded
			}
		}
		e.spec, e.specGen = digest, ex.Generation
		e.expires = ex.Spec.Expires.Time
		// Approved: an approval the operator trusts (checked by the API server's admission
		// policies), at the time the operator first observed it (status.approvedAt).
		// A change to the spec removes the approval (api/v1alpha1, ControlException.Approval):
		// an approval of a later generation approves another spec, and is recorded too.
		if o.ApprovedBy != "" {
			again := e.approved && e.approvedGen != 0 && ex.Generation != e.approvedGen
			if e.approved && e.approvedGen == 0 {
				e.approvedGen = ex.Generation // known from a journal that recorded no generation
			}
			if !e.approved || again {
				e.approved, e.approvedGen = true, ex.Generation
				at := now
				if ex.Status.ApprovedBy == o.ApprovedBy && ex.Status.ApprovedAt != nil && (!again || ex.Status.ApprovedGeneration == ex.Generation) {
					at = ex.Status.ApprovedAt.Time
				}
				if again {
					e.ended = false // an expired exception changed and approved again is in force again
				}
				rec(journal.ExceptionApproved, at)
			}
		}
		if !e.ended && o.State == v1alpha1.ExceptionExpired {
			e.ended = true
			switch at := ex.Spec.Expires.Time; {
			case ex.DeletionTimestamp != nil && ex.DeletionTimestamp.Before(&ex.Spec.Expires):
				// Deleted while a finalizer holds it (the engine judges it Expired, reason
				// Deleted) before its expiry: revoked then. Recorded as expired at its expiry, a
				// date the tenant chose and still ahead, the record made the whole journal fail
				// verification ("records dated ... after the time of verification") until then.
				recs = append(recs, journal.Record{Type: journal.ExceptionRevoked, Time: ex.DeletionTimestamp.Time, Namespace: ex.Namespace,
					Exception: &journal.Exception{Name: ex.Name, Created: e.created}})
			default:
				if at.After(now) {
					at = now // never a record dated ahead of the evaluation
				}
				rec(journal.ExceptionExpired, at)
			}
		}
	}
	for k, e := range h.exceptions {
		if seen[k] || (reaches != nil && !reaches(e.namespace)) {
			continue
		}
		if !e.ended && !e.expires.IsZero() && !e.expires.After(now) {
			// Gone once its expiry had passed (deleted while no operator ran): it expired
			// then, whenever it was deleted.
			recs = append(recs, journal.Record{Type: journal.ExceptionExpired, Time: e.expires, Namespace: e.namespace,
				Exception: &journal.Exception{Name: e.name, Created: e.created, Expires: e.expires}})
		} else if !e.ended {
			recs = append(recs, journal.Record{Type: journal.ExceptionRevoked, Time: now, Namespace: e.namespace, Exception: &journal.Exception{Name: e.name, Created: e.created}})
		}
		// Ended, and gone from what an evaluation reaching its namespace judged: nothing more
		// is journaled of it. Remembered, a namespace admin's requests (no approval needed)
		// created and deleted under new names grew this map, which every evaluation walks
		// under h.mu, for the life of the process. One still there (expired) stays in seen.
		delete(h.exceptions, k)
	}
	return recs
}

// observeExceptions records the transitions of every exception, as a full evaluation judged
// them for the cluster-scoped objects: the evaluation of each namespace judges only the
// exceptions that can cover its objects, so this is where an exception in a namespace no
// evaluation of the profile reaches is recorded, and its revocation seen.
func (h *journalHook) observeExceptions(ctx context.Context, outcomes []*engine.ExceptionOutcome, now time.Time) {
	if h == nil || !h.ready() {
		return
	}
	h.mu.Lock()
	recs := h.exceptionTransitions(outcomes, now, nil)
	h.mu.Unlock()
	h.queue.AddAndWait(ctx, journalWait, recs...)
}

// coveredChanged journals that the exception's condition CoveredChangedSinceApproval turned
// True (raised) or stopped being True, at now: the evidence pack shows when a waiver covered
// findings its approver never saw, and when an approver reviewed it again. The exception
// reconciler calls it once its status holds the change.
func (h *journalHook) coveredChanged(ctx context.Context, ex *v1alpha1.ControlException, raised bool, now time.Time) {
	if h == nil || !h.ready() {
		return
	}
	typ := journal.ExceptionCoveredCleared
	if raised {
		typ = journal.ExceptionCoveredChanged
	}
	st := &ex.Status
	rec := journal.Record{Type: typ, Time: now, Namespace: ex.Namespace, Exception: &journal.Exception{
		Name: ex.Name, RequestedBy: ex.Spec.RequestedBy, ApprovedBy: st.ApprovedBy, Created: ex.CreationTimestamp.Time,
		Generation: ex.Generation, CoveredDigest: st.CoveredDigest, ApprovedCoveredDigest: st.ApprovedCoveredDigest,
	}}
	h.queue.AddAndWait(ctx, journalWait, rec)
}

// exceptionRecord is the exception as the API server recorded it: requestedBy set by the
// admission policy, approvedBy only where the operator trusts the approval.
func exceptionRecord(o *engine.ExceptionOutcome, findings int, digest string) journal.Exception {
	ex := o.Exception
	e := journal.Exception{
		Name: ex.Name, RequestedBy: ex.Spec.RequestedBy, ApprovedBy: o.ApprovedBy, Owner: ex.Spec.Owner,
		Reason: ex.Spec.Reason, Ticket: ex.Spec.Ticket, Checks: ex.Spec.Checks,
		Created: ex.CreationTimestamp.Time, Expires: ex.Spec.Expires.Time, Findings: findings, Generation: ex.Generation,
	}
	for _, c := range ex.Spec.Criteria {
		e.Criteria = append(e.Criteria, string(c))
	}
	m := ex.Spec.Match
	if len(m.Namespaces)+len(m.Kinds)+len(m.Names)+len(m.Containers) > 0 || m.LabelSelector != nil {
		e.Match = &journal.ExceptionMatch{Namespaces: m.Namespaces, Kinds: m.Kinds, Names: m.Names, Containers: m.Containers}
		if m.LabelSelector != nil {
			e.Match.LabelSelector = metav1.FormatLabelSelector(m.LabelSelector)
		}
	}
	e.Profiles = ex.Spec.Profiles
	e.SpecSHA256 = digest
	return e
}

// exceptionSpecDigest is the SHA-256 of the exception's spec as JSON ("" if it cannot be
// encoded).
func exceptionSpecDigest(ex *v1alpha1.ControlException) string {
	b, err := json.Marshal(ex.Spec)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
