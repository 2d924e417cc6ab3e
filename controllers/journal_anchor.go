package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// headAnchor publishes the evidence journal's head in every ComplianceProfile's
// status.journalHeads, and reads it back when the journal is opened: the store cannot show
// that its last segments were deleted or replaced before a restart, the cluster can, as long as
// only the operator writes profiles' status (RBAC: complianceprofiles/status).
type headAnchor struct {
	client  client.Client // writes the status
	reader  client.Reader // reads without the cache (the queue opens before it may be synced)
	cluster string
}

// read returns the heads of this journal published in the profiles' status.
func (a *headAnchor) read(ctx context.Context) ([]journal.PublishedHead, error) {
	var list v1alpha1.ComplianceProfileList
	if err := a.reader.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing ComplianceProfiles: %w", err)
	}
	var out []journal.PublishedHead
	for _, p := range list.Items {
		for _, h := range p.Status.JournalHeads {
			if h.Cluster != a.cluster || h.Sequence <= 0 {
				continue
			}
			out = append(out, journal.PublishedHead{
				Head:   journal.Head{Seq: uint64(h.Sequence), Digest: h.Digest, Time: h.Time.Time},
				Source: "ComplianceProfile " + p.Name + " status.journalHeads[cluster=" + h.Cluster + "]",
			})
		}
	}
	return out, nil
}

// publish writes head into every profile's status.journalHeads (replacing this journal's
// entry), each with an optimistic lock; the first error is returned after trying them all.
func (a *headAnchor) publish(ctx context.Context, head journal.Head) error {
	var list v1alpha1.ComplianceProfileList
	if err := a.reader.List(ctx, &list); err != nil {
		return fmt.Errorf("listing ComplianceProfiles: %w", err)
	}
	entry := v1alpha1.JournalHead{Cluster: a.cluster, Sequence: int64(head.Seq), Digest: head.Digest,
		Time: metav1.NewTime(head.Time.UTC().Truncate(time.Second))}
	var first error
	for i := range list.Items {
		p := &list.Items[i]
		for attempt := 0; ; attempt++ {
			err := a.publishTo(ctx, p, entry)
			if err == nil || !apierrors.IsConflict(err) || attempt >= 3 {
				if err != nil && !apierrors.IsNotFound(err) && first == nil {
					first = fmt.Errorf("publishing the journal's head in profile %s: %w", p.Name, err)
				}
				break
			}
			if err := a.reader.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				break
			}
		}
	}
	return first
}

func (a *headAnchor) publishTo(ctx context.Context, p *v1alpha1.ComplianceProfile, entry v1alpha1.JournalHead) error {
	heads := slices.DeleteFunc(slices.Clone(p.Status.JournalHeads), func(h v1alpha1.JournalHead) bool { return h.Cluster == entry.Cluster })
	heads = append(heads, entry)
	slices.SortFunc(heads, func(x, y v1alpha1.JournalHead) int { return strings.Compare(x.Cluster, y.Cluster) })
	base := p.DeepCopy()
	p.Status.JournalHeads = heads
	return a.client.Status().Patch(ctx, p, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
}

// setRewoundCondition sets JournalRewound on a profile while this process found the chain
// rewound (and leaves conditions alone otherwise).
func (h *journalHook) setRewoundCondition(conds *[]metav1.Condition, generation int64) {
	if h == nil {
		return
	}
	rw := h.queue.Rewind()
	if rw == nil {
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionJournalRewound)
		return
	}
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1alpha1.ConditionJournalRewound, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonPublishedHeadNotInChain, ObservedGeneration: generation,
		Message: "The evidence journal's chain did not hold the head published before (" + rw.Published.String() + ", " + rw.Source + "): " +
			rw.Detail + "; journaled as " + string(journal.JournalRewound)})
}
