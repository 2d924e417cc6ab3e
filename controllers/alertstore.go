package controllers

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
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

// leaseAlertStore keeps the alerts not delivered yet on stateLease, saving only over what
// this process last read or wrote there (leaseAnnotation): an old leader's save at its stop does
// not replace the new leader's.
type leaseAlertStore struct {
	reader     client.Reader
	annotation *leaseAnnotation
	log        logr.Logger
}

func newLeaseAlertStore(c client.Client, reader client.Reader, namespace string, log logr.Logger, leads *leadership) *leaseAlertStore {
	key := types.NamespacedName{Namespace: namespace, Name: stateLease}
	return &leaseAlertStore{reader: reader, annotation: newLeaseAnnotation(c, reader, key, pendingAlertsAnnotation, leads), log: log}
}

// Load returns the alerts kept, less those whose profile or sink is gone.
func (s *leaseAlertStore) Load(ctx context.Context) ([]alert.Pending, error) {
	value, err := s.annotation.read(ctx)
	if err != nil {
		return nil, err
	}
	if value == "" {
		return nil, nil
	}
	data, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("reading annotation %s of Lease %s: %w", pendingAlertsAnnotation, stateLease, err)
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
	err := s.annotation.write(ctx, value)
	if errors.Is(err, errSuperseded) {
		// The dispatcher logs what the new leader offers, and what alone is lost.
		return fmt.Errorf("%w: %w", alert.ErrSuperseded, err)
	}
	return err
}
