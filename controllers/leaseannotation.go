package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// leaseAnnotation is one annotation of a Lease in the operator's namespace that only the leader
// writes, to keep what the next process needs (the alerts not delivered, the exceptions judged
// Active).
//
// A write replaces the annotation only if it holds what this process last read or wrote there:
// a leader that lost its lease (the API server slow, a partition) saves at its stop, and that
// save could land after the new leader read the Lease and saved its own; it replaced it, and the
// Lease held the old leader's view, which the new leader, its own view unchanged, did not write
// again. Only the leader writes the annotation, so another value there means another process
// leads (or someone edited the Lease: that write alone is skipped, and the next goes through
// while this process leads, so that an administrator's delete does not stop a leader's later
// saves). A write after a skipped one is not made once this process no longer leads (its save at
// its stop): a leader that lost its lease without knowing it had its periodic save skipped, then,
// holding the new leader's value as the one it last read, replaced it at its stop. The Lease is
// updated at the resourceVersion read, so a write in between is a conflict, read again. If the other
// process wrote the very value this one writes, nothing is written. No write is made while the
// leader-election Lease names another holder (leadership.fenced): a process that still believed
// it led (paused past its lease, a slow clock) had its first periodic write after the new
// leader's skipped, and its next one replaced the new leader's record. What is left is a pause
// between that read and the write itself.
type leaseAnnotation struct {
	client client.Client
	reader client.Reader
	key    types.NamespacedName
	name   string

	// leads says whether this process leads (nil: it does).
	leads *leadership

	mu sync.Mutex
	// last is the annotation's value as this process last read or wrote it; known once it did.
	last  string
	known bool
	// superseded: the last write was skipped (another process wrote since), and none was made
	// since.
	superseded bool
}

// errSuperseded: another process wrote the annotation since this one read or wrote it.
var errSuperseded = errors.New("another process saved it since this one read or wrote it (leadership lost): not replaced")

// logUnsaved logs err, from a write of an annotation, as msg at error level, or at info level
// when the write was refused because another process saved since (errSuperseded): the designed
// outcome of a leader handover, in which the new leader's record stands, not something to act
// on.
func logUnsaved(log logr.Logger, err error, msg string, keysAndValues ...any) {
	if errors.Is(err, errSuperseded) {
		log.Info("Not saved on the Lease: another process saved since and leads now; its record stands",
			append(keysAndValues, "reason", err.Error())...)
		return
	}
	log.Error(err, msg, keysAndValues...)
}

func newLeaseAnnotation(c client.Client, reader client.Reader, key types.NamespacedName, name string, leads *leadership) *leaseAnnotation {
	return &leaseAnnotation{client: c, reader: reader, key: key, name: name, leads: leads}
}

// leadership says whether this process leads: from the start of the leader-only runnables
// until their context is done (leadership lost, or the operator stopping). A process that lost
// its leadership stops; it never leads again.
type leadership struct {
	ctx atomic.Pointer[context.Context]

	// reader reads election, the leader-election Lease (zero: no leader election); holder is
	// its holderIdentity as read when this process started leading: this process's identity.
	reader   client.Reader
	election types.NamespacedName
	holder   atomic.Pointer[string]
	// host is this process's host name, with which controller-runtime begins its identity
	// (hostname_UUID, pkg/leaderelection v0.25): what fenced compares with when holder could not
	// be read when this process started leading ("": nothing is fenced then).
	host string
}

// NeedLeaderElection: it runs while this process leads.
func (l *leadership) NeedLeaderElection() bool { return true }

// Start records that this process leads until ctx is done.
func (l *leadership) Start(ctx context.Context) error {
	l.lead(ctx)
	l.recordHolder(ctx)
	<-ctx.Done()
	return nil
}

// recordHolder records the holder of the leader-election Lease, which this process just
// acquired: its own identity, which controller-runtime does not expose. Unread (an error),
// fenced compares the holder with this process's host name.
func (l *leadership) recordHolder(ctx context.Context) {
	if l.reader == nil || l.election.Name == "" {
		return
	}
	lease := &coordinationv1.Lease{}
	if err := l.reader.Get(ctx, l.election, lease); err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return
	}
	id := *lease.Spec.HolderIdentity
	l.holder.Store(&id)
}

// fenced says whether the leader-election Lease names another holder than this process: a new
// leader acquired it, though this process may still believe it leads (paused past its lease, a
// clock running slow: controller-runtime's lease is judged by the local clock). Read from the
// API server before each write of an annotation, it keeps such a process from replacing the new
// leader's record at a periodic write, which leaseAnnotation's own check let through once a write
// had been skipped. A Lease that does not exist (deleted by an administrator: the leader creates
// it again) or names no holder (released at a stop) fences nothing.
func (l *leadership) fenced(ctx context.Context) (bool, error) {
	if l == nil {
		return false, nil
	}
	me := l.holder.Load()
	if me == nil && l.host == "" || l.reader == nil || l.election.Name == "" {
		return false, nil
	}
	lease := &coordinationv1.Lease{}
	if err := l.reader.Get(ctx, l.election, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading the leader-election Lease %s: %w", l.election, err)
	}
	h := lease.Spec.HolderIdentity
	if h == nil || *h == "" {
		return false, nil
	}
	if me == nil {
		// The holder could not be read when this process started leading (an API server
		// unavailable then): another host's identity is another process's. A process that
		// replaced this one in the same Pod (a restarted container) is not told apart.
		return !strings.HasPrefix(*h, l.host+"_"), nil
	}
	return *h != *me, nil
}

// lead records that this process leads until ctx is done.
func (l *leadership) lead(ctx context.Context) { l.ctx.Store(&ctx) }

// leading says whether this process leads now; true for a nil leadership (a reconciler made
// without a manager, in tests).
func (l *leadership) leading() bool {
	if l == nil {
		return true
	}
	ctx := l.ctx.Load()
	return ctx != nil && (*ctx).Err() == nil
}

// read returns the annotation's value ("" where the Lease or the annotation does not exist) and
// records it as what the annotation holds.
func (a *leaseAnnotation) read(ctx context.Context) (string, error) {
	lease := &coordinationv1.Lease{}
	if err := a.reader.Get(ctx, a.key, lease); err != nil {
		if apierrors.IsNotFound(err) {
			a.record("")
			return "", nil
		}
		return "", fmt.Errorf("reading Lease %s: %w", a.key, err)
	}
	value := lease.Annotations[a.name]
	a.record(value)
	return value, nil
}

// seen records value, read with the whole Lease by another reader, as what the annotation
// holds, unless this process read or wrote it already: a later read, by a process that may no
// longer lead (its lease lost, it does not know yet), must not make another process's write the
// value its own writes may replace.
func (a *leaseAnnotation) seen(value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.known {
		a.last, a.known = value, true
	}
}

// holds says whether value is what the annotation held when this process last read or wrote it.
func (a *leaseAnnotation) holds(value string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.known && a.last == value
}

// write sets the annotation to value ("": removes it), unless another process wrote it since
// this one last read or wrote it (errSuperseded).
func (a *leaseAnnotation) write(ctx context.Context, value string) error {
	a.mu.Lock()
	last, known, superseded := a.last, a.known, a.superseded
	a.mu.Unlock()
	if superseded && !a.leads.leading() {
		return fmt.Errorf("annotation %s of Lease %s: %w", a.name, a.key, errSuperseded)
	}
	if fenced, err := a.leads.fenced(ctx); err != nil {
		return err
	} else if fenced {
		a.mu.Lock()
		a.superseded = true
		a.mu.Unlock()
		return fmt.Errorf("annotation %s of Lease %s: %w (the leader-election Lease names another holder)", a.name, a.key, errSuperseded)
	}
	var found string
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		lease := &coordinationv1.Lease{}
		err := a.reader.Get(ctx, a.key, lease)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if found = lease.Annotations[a.name]; found == value {
			return nil
		}
		if known && found != last {
			return errSuperseded
		}
		if apierrors.IsNotFound(err) {
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: a.key.Name, Namespace: a.key.Namespace,
				Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy}, Annotations: map[string]string{a.name: value}}}
			return a.client.Create(ctx, lease)
		}
		if value == "" {
			delete(lease.Annotations, a.name)
		} else {
			if lease.Annotations == nil {
				lease.Annotations = map[string]string{}
			}
			lease.Annotations[a.name] = value
		}
		// At the resourceVersion read: a write by another process since is a conflict, and
		// the next attempt reads it.
		return a.client.Update(ctx, lease)
	})
	if errors.Is(err, errSuperseded) {
		// This write only, while this process leads (see leaseAnnotation).
		a.record(found)
		a.mu.Lock()
		a.superseded = true
		a.mu.Unlock()
		return fmt.Errorf("annotation %s of Lease %s: %w", a.name, a.key, err)
	}
	if err != nil {
		return err
	}
	a.record(value)
	a.mu.Lock()
	a.superseded = false
	a.mu.Unlock()
	return nil
}

func (a *leaseAnnotation) record(value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last, a.known = value, true
}
