package controllers

import (
	"context"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/admissionpolicy"
	"github.com/soc2-operator/soc2-operator/internal/alert"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/inventory"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/metrics"
	"github.com/soc2-operator/soc2-operator/internal/report"
)

// Options configure the reconcilers.
type Options struct {
	// LeaderElection is the leader-election Lease (zero: none). The writes of the operator's
	// Leases are made only while it names this process (leadership.fenced).
	LeaderElection types.NamespacedName
	// AdminNamespace is the operator's own namespace: only exceptions there may select other
	// namespaces.
	AdminNamespace string
	// CoalesceDelay is how long a change waits before its namespace is re-evaluated, so that a
	// burst of changes is evaluated once. Default 250ms.
	CoalesceDelay time.Duration
	// Interval overrides every profile's evaluationInterval (tests).
	Interval func(*v1alpha1.ComplianceProfile) time.Duration
	// Clock is the clock evaluations use. Default: the real one.
	Clock clock.Clock
	// MaxConcurrentReconciles of the profile controller. Default 2.
	MaxConcurrentReconciles int
	// MinNamespaceInterval spaces the evaluations that changes trigger in one namespace once it
	// keeps changing: paceBurst in a row, then one every MinNamespaceInterval (the operator passes
	// --min-namespace-interval, default DefaultMinNamespaceInterval). Zero: every change is
	// evaluated CoalesceDelay after it.
	MinNamespaceInterval time.Duration
	// AdmissionPolicies says whether the operator applies the admission policies for exceptions
	// and reports (Manage, the default) or only checks them (VerifyOnly).
	AdmissionPolicies admissionpolicy.Mode
	// Approval is told whether the policies are in force. Default: a new one. Pass the same one
	// to the admission webhook.
	Approval *admissionpolicy.Verifier
	// Journal, when set, receives every transition for the evidence journal (leader only).
	Journal *journal.Queue
	// AttestationInterval is how often, by Clock, the journal attests each namespace's state.
	// Default 24h.
	AttestationInterval time.Duration
	// Resync, when set, evaluates every profile and judges every exception again on each
	// receive. Tests that move a fake Clock send on it (resync.go).
	Resync <-chan struct{}
	// AlertSleep waits between the delivery attempts of an alert (alert.Options.Sleep). Default:
	// a timer. Tests pass one that returns at once, so that a retried delivery waits for nothing.
	AlertSleep func(ctx context.Context, d time.Duration) error
	// FirstSeen remembers when each finding of a report was first seen, so that a deleted
	// report comes back with its times. Default: in memory, for the life of the process.
	FirstSeen report.FirstSeenStore

	// watched, when set (tests), is told of each watch event the profile controller's handlers
	// took or its report watch dropped as the operator's own write, with the requests it
	// queued (none for a dropped one). Tests use it as a barrier: once the event of a write was
	// judged, whatever it will evaluate is queued.
	watched func(obj client.Object, queued []reconcile.Request)
}

// Setup builds what the two reconcilers share (the state, the alert dispatcher, the approval
// verifier and the admission policies), registers each with its own SetupWithManager, and adds
// the evidence journal and the staleness watchdog to the manager.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.FirstSeen == nil {
		opts.FirstSeen = report.NewMemoryFirstSeen()
	}
	if opts.Approval == nil {
		opts.Approval = admissionpolicy.NewVerifier()
	}
	metrics.Register()
	kinds, err := inventory.AvailableKinds(mgr.GetRESTMapper())
	if err != nil {
		return err
	}
	kinds, unseen, err := inventory.Readable(context.Background(), mgr.GetClient(), mgr.GetRESTMapper(), kinds)
	if err != nil {
		return err
	}
	if err := admissionpolicy.Setup(context.Background(), mgr, opts.AdmissionPolicies, opts.Approval); err != nil {
		return fmt.Errorf("setting up the admission policies: %w", err)
	}
	st := newState()
	catalogue := checks.Catalogue()
	recorder := boundedRecorder{mgr.GetEventRecorder("soc2-operator")}
	// Whether this process leads, for the saves on the operator's Leases (leaseAnnotation).
	host, _ := os.Hostname() // "": fenced only by the holder read when leading begins
	leads := &leadership{reader: mgr.GetAPIReader(), election: opts.LeaderElection, host: host}
	if err := mgr.Add(leads); err != nil {
		return err
	}
	alertOpts := alert.Options{Logger: mgr.GetLogger().WithName("alerts"), Sleep: opts.AlertSleep}
	if opts.AdminNamespace != "" {
		alertOpts.Store = newLeaseAlertStore(mgr.GetClient(), mgr.GetAPIReader(), opts.AdminNamespace, mgr.GetLogger().WithName("alerts"), leads)
	}
	dispatcher := alert.NewDispatcher(alertOpts)
	if err := mgr.Add(dispatcher); err != nil {
		return err
	}

	exceptions := &ControlExceptionReconciler{
		Client: mgr.GetClient(), Catalogue: catalogue, AdminNamespace: opts.AdminNamespace,
		Clock: opts.Clock, Recorder: recorder, state: st, alerts: dispatcher, Approval: opts.Approval,
		APIReader: mgr.GetAPIReader(), leadership: leads,
		// One hook: the exception and profile reconcilers journal through the same queue.
		journal: newJournalHook(opts.Journal, opts.Clock, opts.AttestationInterval),
	}
	// The gatherer reads the cache itself: the manager's client reads unstructured objects (the
	// optional kinds) from the API server, a LIST per kind per evaluation.
	disco, err := discovery.NewDiscoveryClientForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return err
	}
	gatherer := &inventory.Gatherer{Reader: mgr.GetCache(), Kinds: kinds, Unseen: unseen, Client: mgr.GetClient(), Mapper: mgr.GetRESTMapper(),
		Discovery: disco}
	profiles := &ComplianceProfileReconciler{
		Client:                  mgr.GetClient(),
		Gatherer:                gatherer,
		Catalogue:               catalogue,
		CatalogVersion:          checks.Version,
		AdminNamespace:          opts.AdminNamespace,
		Clock:                   opts.Clock,
		Recorder:                recorder,
		Interval:                opts.Interval,
		Approval:                opts.Approval,
		CoalesceDelay:           opts.CoalesceDelay,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		MinNamespaceInterval:    opts.MinNamespaceInterval,
		state:                   st,
		policyReports:           newPolicyReportWriter(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetRESTMapper()),
		alerts:                  dispatcher,
		journal:                 exceptions.journal,
		firstSeen:               opts.FirstSeen,
		apiReader:               mgr.GetAPIReader(),
		ownWrites:               newOwnWrites(),
		leadership:              leads,
		watched:                 opts.watched,
		exceptionChanged:        exceptions.enqueue,
	}
	if err := exceptions.SetupWithManager(mgr); err != nil {
		return err
	}
	if err := mgr.Add(honouredKeeper{exceptions}); err != nil {
		return err
	}
	if err := profiles.SetupWithManager(mgr); err != nil {
		return err
	}
	all := resyncAll(mgr.GetClient(), mgr.GetLogger().WithName("resync"), profiles, exceptions)
	opts.Approval.OnChange(all)
	if opts.Resync != nil {
		if err := mgr.Add(resyncOn(opts.Resync, all)); err != nil {
			return err
		}
	}

	if profiles.journal != nil {
		anchor := &headAnchor{client: mgr.GetClient(), reader: mgr.GetAPIReader(), cluster: opts.Journal.Cluster()}
		opts.Journal.SetAnchor(anchor.read, anchor.publish)
		if err := mgr.Add(opts.Journal); err != nil {
			return err
		}
		if err := mgr.Add(profiles.journal); err != nil {
			return err
		}
	}
	return mgr.Add(&watchdog{client: mgr.GetClient(), profiles: profiles, period: time.Minute})
}
