package controllers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/alert"
)

// What must outlive the process that knew it, about alerts, is kept on stateLease in the
// operator's namespace, which tenants cannot write (the leader-election Role's get, create and
// update of Leases): the alerts the sinks had not delivered when the process stopped
// (alert.Store), and the exceptions it last judged Active (honouredstore.go). Each in one
// annotation, gzipped JSON in base64, bounded so that both fit the 256 KiB the API server
// allows an object's annotations.

// stateLease is the Lease that keeps what the alerts of the next process need.
const stateLease = "soc2-operator-alerts"

// pendingAlertsAnnotation holds the alerts not delivered yet.
const pendingAlertsAnnotation = "pending.alerts.compliance.soc2-operator.io"

// maxKeptAlerts bounds the gzipped alerts kept (128 KiB in base64); the most severe, then the
// oldest, are kept.
const maxKeptAlerts = 96 << 10

// leaseAlertStore keeps the alerts not delivered yet on stateLease.
//
// A save replaces what is kept only if it is what this store last read or wrote there: a leader
// that lost its lease (the API server slow, a partition) saves at its stop, and that save could
// land after the new leader read the Lease and saved its own; it replaced them, and the Lease
// held alerts the new leader may have delivered (sent again by the process after it) and not
// those it had set aside, and the new leader, its set unchanged, did not write it again. Only the
// leader writes the annotation, so another value there means another process leads (or someone
// edited the Lease: that save alone is skipped). If the new leader saved the very value this one
// last did, the save goes through: the same alerts.
type leaseAlertStore struct {
	client client.Client
	reader client.Reader
	key    types.NamespacedName
	log    logr.Logger

	mu sync.Mutex
	// last is the annotation's value as this store last read (Load) or wrote it; known once
	// it did.
	last  string
	known bool
}

// errAlertsSuperseded: another process saved the alerts kept since this one read or wrote them.
var errAlertsSuperseded = errors.New("another process saved the alerts kept since this one read or wrote them (leadership lost): not replaced")

func newLeaseAlertStore(c client.Client, reader client.Reader, namespace string, log logr.Logger) *leaseAlertStore {
	return &leaseAlertStore{client: c, reader: reader, key: types.NamespacedName{Namespace: namespace, Name: stateLease}, log: log}
}

// Load returns the alerts kept, less those whose profile or sink is gone.
func (s *leaseAlertStore) Load(ctx context.Context) ([]alert.Pending, error) {
	lease := &coordinationv1.Lease{}
	if err := s.reader.Get(ctx, s.key, lease); err != nil {
		if apierrors.IsNotFound(err) {
			s.read("")
			return nil, nil
		}
		return nil, fmt.Errorf("reading Lease %s: %w", s.key, err)
	}
	value := lease.Annotations[pendingAlertsAnnotation]
	s.read(value)
	if value == "" {
		return nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("reading annotation %s of Lease %s: %w", pendingAlertsAnnotation, s.key, err)
	}
	pending, err := alert.DecodePending(data)
	if err != nil {
		return nil, err
	}
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := s.reader.List(ctx, profiles); err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	sinks := map[string]map[string]bool{}
	for i := range profiles.Items {
		p := &profiles.Items[i]
		if p.Spec.Alerts == nil || !p.DeletionTimestamp.IsZero() {
			continue
		}
		sinks[p.Name] = map[string]bool{}
		for _, c := range p.Spec.Alerts.Sinks {
			sinks[p.Name][c.Name] = true
		}
	}
	kept := pending[:0]
	gone := 0
	for _, p := range pending {
		if sinks[p.Alert.Profile][p.Sink] {
			kept = append(kept, p)
		} else {
			gone++
		}
	}
	if gone > 0 {
		s.log.Info("Alerts the previous process did not deliver are not sent: their profile or sink is gone", "count", gone)
	}
	return kept, nil
}

// Save keeps pending, as many as fit.
func (s *leaseAlertStore) Save(ctx context.Context, pending []alert.Pending) error {
	value := ""
	if len(pending) > 0 {
		data, left, err := alert.EncodePending(pending, maxKeptAlerts)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			keys := make([]string, 0, min(len(left), 100))
			for _, p := range left[:min(len(left), 100)] {
				keys = append(keys, p.Alert.Profile+"/"+p.Sink+": "+p.Alert.Key)
			}
			s.log.Error(nil, "Alerts lost: too many not delivered to keep for the next process; the most severe and oldest are kept",
				"count", len(left), "kept", len(pending)-len(left), "keys", keys)
		}
		value = base64.StdEncoding.EncodeToString(data)
	}
	s.mu.Lock()
	last, known := s.last, s.known
	s.mu.Unlock()
	var found string
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		lease := &coordinationv1.Lease{}
		err := s.reader.Get(ctx, s.key, lease)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if found = lease.Annotations[pendingAlertsAnnotation]; known && found != last {
			return errAlertsSuperseded
		}
		if apierrors.IsNotFound(err) {
			if value == "" {
				return nil
			}
			lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: s.key.Name, Namespace: s.key.Namespace,
				Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy}}}
			lease.Annotations = map[string]string{pendingAlertsAnnotation: value}
			return s.client.Create(ctx, lease)
		}
		if lease.Annotations[pendingAlertsAnnotation] == value {
			return nil
		}
		if value == "" {
			delete(lease.Annotations, pendingAlertsAnnotation)
		} else {
			if lease.Annotations == nil {
				lease.Annotations = map[string]string{}
			}
			lease.Annotations[pendingAlertsAnnotation] = value
		}
		// Updated at the resourceVersion read: a write by another process since is a conflict,
		// and the next attempt reads it.
		return s.client.Update(ctx, lease)
	})
	if errors.Is(err, errAlertsSuperseded) {
		// This save only: someone who deleted the Lease or its annotation (an administrator)
		// must not stop every later save of a process that still leads.
		s.read(found)
	}
	if err != nil {
		return err
	}
	s.read(value)
	return nil
}

// read records value as what the annotation holds, as this store read or wrote it.
func (s *leaseAlertStore) read(value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.known = value, true
}
