package controllers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/gzjson"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
)

// The exception reconciler learns of an Active exception's deletion from its NotFound, and
// remembers (honouredExceptions) what it waived and whom to tell. That memory died with the
// process: an exception deleted while no operator ran (a rollout, a failover), or before the
// new process first judged it, was never revoked: no ExceptionRevoked alert, no Event, only its
// findings failing again as NewFinding. So the exceptions last judged Active are kept on
// stateLease (honouredAnnotation), and the first judgement of a process revokes those that no
// longer exist, or exist as another object under the name (deleted and created again), at the
// time it notices; one whose expiry passed meanwhile is reported expired (ExceptionExpired at
// its expiry), not revoked. The evidence journal records the same (journal_exceptions.go).

// honouredAnnotation holds the exceptions last judged Active.
const honouredAnnotation = "honoured-exceptions.alerts.compliance.soc2-operator.io"

// maxKeptHonoured bounds the gzipped exceptions kept (about 85 KiB in base64). Past it, those of
// the operator's namespace are kept first, then one of each namespace in turn, so that one
// tenant's many exceptions cannot push another's out.
const maxKeptHonoured = 64 << 10

// maxKeptReason bounds the reason kept of each exception.
const maxKeptReason = 512

// maxLeftNamespaces bounds the namespaces a record names of those whose exceptions were left out
// (honouredRecord); the others are summed under "*".
const maxLeftNamespaces = 100

// honouredSaveInterval is how often the exceptions judged Active are saved when they changed.
const honouredSaveInterval = 5 * time.Second

// keptException is an exception judged Active, as kept on stateLease.
type keptException struct {
	Namespace string      `json:"namespace"`
	Name      string      `json:"name"`
	UID       types.UID   `json:"uid,omitempty"`
	Owner     string      `json:"owner,omitempty"`
	Reason    string      `json:"reason,omitempty"`
	Checks    []string    `json:"checks,omitempty"`
	Expires   metav1.Time `json:"expires"`
	Profiles  []string    `json:"profiles,omitempty"`
}

func keptOf(e honouredException) keptException {
	ex := e.ex
	reason := ex.Spec.Reason
	if len(reason) > maxKeptReason {
		// At most maxKeptReason with the ellipsis, so that what is read back keeps as it is.
		reason = strings.ToValidUTF8(reason[:maxKeptReason-3], "") + "..."
	}
	return keptException{Namespace: ex.Namespace, Name: ex.Name, UID: ex.UID, Owner: ex.Spec.Owner, Reason: reason,
		Checks: ex.Spec.Checks, Expires: ex.Spec.Expires, Profiles: e.profiles}
}

func (k keptException) honoured() honouredException {
	ex := &v1alpha1.ControlException{Spec: v1alpha1.ControlExceptionSpec{Owner: k.Owner, Reason: k.Reason, Checks: k.Checks, Expires: k.Expires}}
	ex.APIVersion, ex.Kind = v1alpha1.GroupVersion.String(), "ControlException"
	ex.Namespace, ex.Name, ex.UID = k.Namespace, k.Name, k.UID
	return honouredException{ex: ex, profiles: k.Profiles}
}

// honouredRecord is the annotation's form when not every exception judged Active fits: those
// kept, and how many of each namespace were left out, so that the next process says its record
// is incomplete (their deletion while no operator ran is not identified) rather than being
// silent. When all fit, the annotation holds the list alone, as earlier versions wrote it (they
// cannot read this form: they log it unreadable and revoke none).
type honouredRecord struct {
	Kept []keptException `json:"kept"`
	Left map[string]int  `json:"left"`
}

// encodeHonoured is the annotation's value for kept, as many as fit (orderKept); left is how
// many of each namespace did not.
func encodeHonoured(kept []keptException, admin string) (value string, left map[string]int, err error) {
	kept = orderKept(kept, admin)
	leftOf := func(n int) map[string]int {
		if n == len(kept) {
			return nil
		}
		left := map[string]int{}
		for _, k := range kept[n:] {
			left[k.Namespace]++
		}
		if len(left) > maxLeftNamespaces {
			// The most left out by name, the others summed under "*": the count must fit.
			namespaces := slices.Collect(maps.Keys(left))
			slices.SortFunc(namespaces, func(a, b string) int {
				if c := cmp.Compare(left[b], left[a]); c != 0 {
					return c
				}
				return strings.Compare(a, b)
			})
			for _, ns := range namespaces[maxLeftNamespaces:] {
				left["*"] += left[ns]
				delete(left, ns)
			}
		}
		return left
	}
	encode := func(n int) (string, error) {
		var v any = kept[:n]
		if n < len(kept) {
			v = honouredRecord{Kept: kept[:n], Left: leftOf(n)}
		}
		b, err := gzjson.Encode(v)
		if err != nil {
			return "", err
		}
		if len(b) > maxKeptHonoured {
			return "", errTooLarge
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	if len(kept) == 0 {
		return "", nil, nil
	}
	if v, err := encode(len(kept)); err != errTooLarge {
		return v, nil, err
	}
	lo, err := gzjson.MostThatFit(len(kept), func(k int) (bool, error) {
		_, err := encode(k)
		if err == errTooLarge {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return "", nil, err
	}
	value, err = encode(lo)
	return value, leftOf(lo), err
}

var errTooLarge = fmt.Errorf("too large")

// orderKept sorts the exceptions of the operator's namespace first, then takes one of each
// namespace in turn, by name.
func orderKept(kept []keptException, admin string) []keptException {
	byNamespace := map[string][]keptException{}
	for _, k := range kept {
		byNamespace[k.Namespace] = append(byNamespace[k.Namespace], k)
	}
	namespaces := make([]string, 0, len(byNamespace))
	for ns, list := range byNamespace {
		slices.SortFunc(list, func(a, b keptException) int { return strings.Compare(a.Name, b.Name) })
		if ns != admin {
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(namespaces)
	out := append(make([]keptException, 0, len(kept)), byNamespace[admin]...)
	for i := 0; len(out) < len(kept); i++ {
		for _, ns := range namespaces {
			if i < len(byNamespace[ns]) {
				out = append(out, byNamespace[ns][i])
			}
		}
	}
	return out
}

// decodeHonoured reads what encodeHonoured wrote: the exceptions kept, and how many of each
// namespace were left out.
func decodeHonoured(value string) (kept []keptException, left map[string]int, err error) {
	if value == "" {
		return nil, nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, nil, err
	}
	var raw json.RawMessage
	if err := gzjson.Decode(data, 64<<20, &raw); err != nil {
		return nil, nil, err
	}
	if raw = bytes.TrimSpace(raw); len(raw) > 0 && raw[0] == '{' {
		var rec honouredRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, nil, err
		}
		return rec.Kept, rec.Left, nil
	}
	if err := json.Unmarshal(raw, &kept); err != nil {
		return nil, nil, err
	}
	return kept, nil, nil
}

// total is how many exceptions left counts.
func total(left map[string]int) int {
	n := 0
	for _, c := range left {
		n += c
	}
	return n
}

// snapshot is every exception remembered as judged Active, sorted.
func (h *honouredExceptions) snapshot() []keptException {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]keptException, 0, len(h.of))
	for _, e := range h.of {
		out = append(out, keptOf(e))
	}
	slices.SortFunc(out, func(a, b keptException) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return out
}

// restoreHonoured reads, once per process and before its first judgement, the exceptions the
// previous process last judged Active, and revokes those that are gone (notifyGone). An error
// (the Lease unreadable) is returned, and the judgement waits: judged first, a deleted
// exception would be forgotten without its revocation.
func (r *ControlExceptionReconciler) restoreHonoured(ctx context.Context) error {
	h := &r.honoured
	if r.APIReader == nil || r.AdminNamespace == "" {
		return nil
	}
	h.loadMu.Lock()
	defer h.loadMu.Unlock()
	if h.loaded {
		return nil
	}
	if h.lease == nil {
		h.lease = newLeaseAnnotation(r.Client, r.APIReader, types.NamespacedName{Namespace: r.AdminNamespace, Name: stateLease}, honouredAnnotation, r.leadership)
	}
	value, err := h.lease.read(ctx)
	switch {
	case apierrors.IsForbidden(err):
		// Not granted (a Role changed by hand): judging must not wait for what will not come.
		logf.FromContext(ctx).Error(err, "Unable to read which exceptions were Active before the start; their deletion while no operator ran is not alerted, and none is kept",
			"lease", stateLease)
		h.loaded, h.disabled = true, true
		return nil
	case err != nil:
		return fmt.Errorf("reading which exceptions were Active before the start: %w", err)
	}
	kept, left, err := decodeHonoured(value)
	if err != nil {
		logf.FromContext(ctx).Error(err, "Unable to read which exceptions were Active before the start; their deletion while no operator ran is not alerted",
			"lease", stateLease)
		kept = nil
	}
	if len(left) > 0 {
		logf.FromContext(ctx).Error(nil, "Not every exception Active before the start was kept; the deletion while no operator ran of those left out is not alerted",
			"lease", stateLease, "kept", len(kept), "leftOut", total(left), "leftOutByNamespace", left)
	}
	var gone []honouredException
	for _, k := range kept {
		e := k.honoured()
		key := types.NamespacedName{Namespace: k.Namespace, Name: k.Name}
		ex := &v1alpha1.ControlException{}
		switch err := r.Get(ctx, key, ex); {
		case apierrors.IsNotFound(err):
			gone = append(gone, e)
		case err != nil:
			return fmt.Errorf("reading exception %s: %w", key, err)
		case k.UID != "" && ex.UID != k.UID:
			gone = append(gone, e) // deleted and created again: the one judged Active is gone
		default:
			h.mu.Lock()
			if _, ok := h.of[key]; !ok {
				if h.of == nil {
					h.of = map[types.NamespacedName]honouredException{}
				}
				h.of[key] = e // judged again by its own reconcile, which the start queued
			}
			h.mu.Unlock()
		}
	}
	h.loaded = true
	for _, e := range gone {
		r.notifyGone(ctx, e)
	}
	return nil
}

// saveHonoured keeps the exceptions judged Active on stateLease when they changed since they
// were last read or saved; never before they were read (restoreHonoured), which would erase
// what the previous process kept, nor over what another process saved since (leaseAnnotation).
func (r *ControlExceptionReconciler) saveHonoured(ctx context.Context) error {
	h := &r.honoured
	h.loadMu.Lock()
	loaded := h.loaded && !h.disabled
	h.loadMu.Unlock()
	if !loaded || r.AdminNamespace == "" || r.APIReader == nil {
		return nil
	}
	value, left, err := encodeHonoured(h.snapshot(), r.AdminNamespace)
	if err != nil {
		return err
	}
	metrics.ExceptionsNotKept.Set(float64(total(left)))
	if h.lease.holds(value) {
		return nil
	}
	if len(left) > 0 {
		logf.FromContext(ctx).Error(nil, "Too many Active exceptions to keep for the next process; the deletion of those left out while no operator runs is not alerted",
			"count", total(left), "byNamespace", left)
	}
	// Only over what this process last read or wrote (leaseAnnotation): an old leader's save
	// at its stop does not replace the new leader's.
	return h.lease.write(ctx, value)
}

// honouredKeeper saves the exceptions judged Active every honouredSaveInterval when they
// changed, and when the operator stops. Leader only, as the judgements.
type honouredKeeper struct{ r *ControlExceptionReconciler }

func (k honouredKeeper) NeedLeaderElection() bool { return true }

func (k honouredKeeper) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("exceptions")
	// At once: no exception may be left to judge (every one deleted while no operator ran).
	if err := k.r.restoreHonoured(ctx); err != nil && ctx.Err() == nil {
		log.Error(err, "Unable to read which exceptions were Active before the start; will retry", "lease", stateLease)
	}
	t := time.NewTicker(honouredSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			saveCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := k.r.saveHonoured(saveCtx); err != nil {
				logUnsaved(log, err, "Unable to keep which exceptions are Active for the next process", "lease", stateLease)
			}
			return nil
		case <-t.C:
			if err := k.r.restoreHonoured(ctx); err != nil {
				if ctx.Err() == nil {
					log.Error(err, "Unable to read which exceptions were Active before the start; will retry", "lease", stateLease)
				}
				continue
			}
			if err := k.r.saveHonoured(ctx); err != nil && ctx.Err() == nil {
				logUnsaved(log, err, "Unable to keep which exceptions are Active for the next process", "lease", stateLease)
			}
		}
	}
}
