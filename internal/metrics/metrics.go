// Package metrics defines the operator's Prometheus series, served on the manager's metrics
// endpoint. Every series is prefixed soc2_operator_.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

var (
	// CriterionStatus is 1 for the current status of each criterion per profile and namespace
	// (the other statuses of the same criterion are absent), Unknown while the namespace's
	// report is stale. Namespace "" is the cluster-scoped objects, Unknown after a full
	// evaluation that failed.
	CriterionStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_criterion_status",
		Help: "1 for the current status (Pass, Fail, Excepted, NotAssessed; Unknown while the report is stale) of a SOC 2 criterion per profile and namespace.",
	}, []string{"profile", "namespace", "criterion", "status"})

	// Findings counts failing findings by severity (result="Fail": the report's summary.critical,
	// high, medium and low), unread findings by severity (result="Unread": results NotAssessed
	// because their resource holds more than the operator reads of it, without an exception,
	// which fail their criteria closed; the report's summary.unread) and excepted findings
	// (result="Excepted"); absent while the namespace's report is stale (no count is current
	// then). Namespace "" is the cluster-scoped objects (the profile's clusterFindings), absent
	// after a full evaluation that failed.
	Findings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_findings",
		Help: "Findings per profile, namespace (\"\": cluster-scoped objects), severity and result (Fail; Unread: not decided because the resource holds more than the operator reads, which fails its criteria closed; Excepted); absent while the report is stale.",
	}, []string{"profile", "namespace", "severity", "result"})

	// FindingOpened is when the operator last identified a failing finding new to a namespace
	// (by its check, resource and container: controllers' freshFailures, as the alert sinks'
	// NewFinding) per severity; absent until it has identified one. Findings only counts them,
	// so one Critical finding fixed and another made within the 15 minutes SOC2NewCriticalFinding
	// compares left the count as it was and alerted on nothing. Namespace "" is the
	// cluster-scoped objects (the profile's clusterFindings, listed or not), as in Findings.
	// One series per profile, namespace and severity, as Findings.
	FindingOpened = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_finding_opened_timestamp_seconds",
		Help: "Unix time at which the operator last identified a failing finding new to the namespace (by check, resource and container), per profile, namespace and severity.",
	}, []string{"profile", "namespace", "severity"})

	// NamespaceCompliant is 1 when the namespace's report is Compliant, 0 when NonCompliant,
	// and absent while it is NotAssessed or Unknown (stale): neither is a verdict either way.
	NamespaceCompliant = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_namespace_compliant",
		Help: "1 when the namespace's report is Compliant, 0 when NonCompliant; absent while it is NotAssessed or Unknown (see soc2_operator_namespace_result).",
	}, []string{"profile", "namespace"})

	// NamespaceResult is 1 for the current result of the namespace's report (the other
	// results are absent).
	NamespaceResult = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_namespace_result",
		Help: "1 for the current result (Compliant, NonCompliant, NotAssessed, Unknown) of the namespace's report per profile.",
	}, []string{"profile", "namespace", "result"})

	// EvaluationDuration times evaluations: scope "cluster" for a full one, "namespace" for one
	// namespace after a change.
	EvaluationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "soc2_operator_evaluation_duration_seconds",
		Help:    "Time to gather and evaluate, by profile and scope (cluster or namespace).",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"profile", "scope"})

	// Evaluations counts evaluations, whether or not they changed anything.
	Evaluations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_evaluations_total",
		Help: "Evaluations by profile, scope (cluster or namespace) and outcome (ok or error).",
	}, []string{"profile", "scope", "outcome"})

	// LastEvaluation is the time of the last successful full evaluation per profile. Reports are
	// written only on change; this is the heartbeat that shows evaluation goes on.
	LastEvaluation = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_last_evaluation_timestamp_seconds",
		Help: "Unix time of the last successful evaluation per profile.",
	}, []string{"profile"})

	// EvaluationInterval is each profile's interval between full evaluations: how old the
	// heartbeat may grow before SOC2OperatorHeartbeatMissing fires (three intervals, at least
	// 30 minutes).
	EvaluationInterval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_evaluation_interval_seconds",
		Help: "Interval between full evaluations per profile (spec.evaluationInterval, 10 minutes when unset).",
	}, []string{"profile"})

	// ReportWrites counts writes of ComplianceReports by operation and result.
	ReportWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_report_writes_total",
		Help: "ComplianceReport writes by profile, operation (create, update, delete) and result (ok or error).",
	}, []string{"profile", "operation", "result"})

	// ReportsStale counts the namespaces whose latest evaluation is not in their report: it
	// could not be written (the API server is unreachable, a write was refused) or made, or it
	// is overdue. Every report the operator marks Stale counts, also after a restart or a
	// profile edit, until an evaluation is written to it.
	ReportsStale = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_reports_stale",
		Help: "Namespaces per profile whose latest evaluation could not be made or written; 0 when every report is current.",
	}, []string{"profile"})

	// ProfileReady is 1 when the profile's Ready condition is True.
	ProfileReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_profile_ready",
		Help: "1 when the profile is valid and evaluated (Ready=True), 0 otherwise.",
	}, []string{"profile"})

	// Exceptions counts ControlExceptions by state.
	Exceptions = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_exceptions",
		Help: "ControlExceptions by namespace and state (Active, Expired, Invalid).",
	}, []string{"namespace", "state"})

	// ExceptionExpiry is when each Active exception expires, for alerting before the findings
	// it covers fail again: of each namespace, the 100 that expire soonest (a namespace admin
	// decides how many are Active under a profile that needs no approval).
	ExceptionExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_exception_expiry_timestamp_seconds",
		Help: "Unix time at which each Active ControlException expires (of each namespace, the 100 that expire soonest).",
	}, []string{"namespace", "exception"})

	// ExceptionCoveredChanged is 1 for each Active, approved ControlException whose condition
	// CoveredChangedSinceApproval is True: it has waived findings other than those it covered
	// when approved (a workload labelled into its selector, say). Only approved exceptions
	// have the condition, so an approver bounds how many series there are.
	ExceptionCoveredChanged = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_exception_covered_changed",
		Help: "1 for each Active ControlException that has covered findings other than those it covered when approved (CoveredChangedSinceApproval), until approved again.",
	}, []string{"namespace", "exception"})

	// AlertsTotal counts alerts per profile, sink and event by result: sent (the sink accepted
	// it), failed (rejected, or still failing after the last attempt), dropped (the sink's
	// queue was full, or the sink went away first) and duplicate (the sink already had it).
	AlertsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_alerts_total",
		Help: "Alerts by profile, sink, event and result (sent, failed, dropped or duplicate).",
	}, []string{"profile", "sink", "event", "result"})

	// AlertsPending is how many alerts each sink of each profile has not delivered since they
	// were set aside (its queue was full, or the last attempt failed with an error another may
	// fix), by this process or a previous one that kept them, offered again ones included (those
	// a previous process kept as only queued count once they are set aside here): SOC2AlertsNotDelivered
	// fires while it is above 0, since AlertsTotal starts again from zero in each process.
	AlertsPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "soc2_operator_alerts_pending",
		Help: "Alerts set aside (or kept by a previous process) and not delivered yet, by profile and sink.",
	}, []string{"profile", "sink"})

	// ExceptionsNotKept is how many ControlExceptions judged Active the leader could not keep
	// for the next process at its last save (past 64 KiB gzipped): the deletion of those while
	// no operator runs (a rollout, a failover) is not alerted (no ExceptionRevoked alert or
	// Event; the evidence journal still records it).
	ExceptionsNotKept = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "soc2_operator_exceptions_not_kept",
		Help: "Active ControlExceptions the leader could not keep for the next process: their deletion while no operator runs is not alerted.",
	})

	// WatchdogRuns counts the watchdog's periodic tasks by outcome: the staleness check
	// (reports whose namespace has not been evaluated for twice the interval), the check of the
	// reports no evaluation confirmed in twice the interval (at start too: a crash loop), and the
	// sweep of reports that name no profile. An error means the task could not read or write; the log
	// says which.
	WatchdogRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_watchdog_runs_total",
		Help: "Runs of the watchdog's tasks (staleness, unconfirmed, orphans, policyreport-orphans) by outcome (ok or error).",
	}, []string{"task", "outcome"})

	// AdmissionUnjudged counts the workloads the admission webhook could not judge (it could
	// not read the profiles, the namespace or the objects around them), left to the webhook's
	// failurePolicy: admitted unjudged under Ignore, refused under Fail.
	AdmissionUnjudged = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "soc2_operator_admission_unjudged_total",
		Help: "Workloads the admission webhook could not judge and left to its failurePolicy, by namespace.",
	}, []string{"namespace"})
)

var registerOnce sync.Once

// Register adds the series to controller-runtime's registry, once.
func Register() {
	registerOnce.Do(func() {
		ctrlmetrics.Registry.MustRegister(CriterionStatus, Findings, FindingOpened, NamespaceCompliant, NamespaceResult, EvaluationDuration,
			Evaluations, LastEvaluation, EvaluationInterval, ReportWrites, ReportsStale, ProfileReady, Exceptions,
			AlertsTotal, AlertsPending, ExceptionExpiry, ExceptionCoveredChanged, WatchdogRuns, AdmissionUnjudged, ExceptionsNotKept)
	})
}

// criterionUnknown is the status soc2_operator_criterion_status gives the criteria of a stale
// report: the report's result is Unknown, and so is each criterion.
const criterionUnknown = v1alpha1.CriterionState(v1alpha1.Unknown)

var criterionStates = []v1alpha1.CriterionState{v1alpha1.CriterionPass, v1alpha1.CriterionFail, v1alpha1.CriterionExcepted, v1alpha1.CriterionNotAssessed, criterionUnknown}

// ResultUnread is the result label of soc2_operator_findings that counts unread findings:
// NotAssessed because their resource holds more than the operator reads of it, without an
// exception (engine.Result.Unread). No finding has it as its result (they are NotAssessed);
// they fail their criteria closed, and are counted apart from the failing ones.
const ResultUnread = "Unread"

// SetNamespace records a namespace's report status, and its unread findings by severity
// (engine.Summary.UnreadBySeverity; the status counts them only in all, summary.unread).
func SetNamespace(profile, namespace string, st *v1alpha1.ComplianceReportStatus, unread map[v1alpha1.Severity]int) {
	setCriteria(profile, namespace, st.Criteria)
	setFindings(profile, namespace, map[v1alpha1.Severity]int{
		v1alpha1.SeverityCritical: int(st.Summary.Critical), v1alpha1.SeverityHigh: int(st.Summary.High),
		v1alpha1.SeverityMedium: int(st.Summary.Medium), v1alpha1.SeverityLow: int(st.Summary.Low),
	}, unread, int(st.Summary.Excepted))
	SetNamespaceResult(profile, namespace, st.Result)
}

// SetFindingsOpened records that the failing findings fresh, new to the namespace, were
// identified at: soc2_operator_finding_opened_timestamp_seconds of each of their severities
// is at.
func SetFindingsOpened(profile, namespace string, fresh []v1alpha1.Finding, at time.Time) {
	for _, f := range fresh {
		// A NotAssessed finding without an exception is one its resource left undecided (what
		// the operator did not read of it, which fails closed): identified as a failure is.
		if f.Result == v1alpha1.ResultFail || f.Result == v1alpha1.ResultNotAssessed && f.Exception == "" {
			FindingOpened.WithLabelValues(profile, namespace, string(f.Severity)).Set(float64(at.Unix()))
		}
	}
}

// setFindings sets the failing and the unread findings by severity, and the excepted findings.
func setFindings(profile, namespace string, failing, unread map[v1alpha1.Severity]int, excepted int) {
	for _, s := range v1alpha1.Severities {
		Findings.WithLabelValues(profile, namespace, string(s), string(v1alpha1.ResultFail)).Set(float64(failing[s]))
		Findings.WithLabelValues(profile, namespace, string(s), ResultUnread).Set(float64(unread[s]))
	}
	Findings.WithLabelValues(profile, namespace, "", string(v1alpha1.ResultExcepted)).Set(float64(excepted))
}

// SetNamespaceStale records that a namespace's report is stale (its latest evaluation could not
// be made or written, or is overdue): its result and each criterion the report lists are
// Unknown, and its findings counts are absent, so that no series keeps the verdict of an
// evaluation the report no longer reflects. The next evaluation written sets them again.
func SetNamespaceStale(profile, namespace string, criteria []v1alpha1.CriterionStatus) {
	unknown := make([]v1alpha1.CriterionStatus, len(criteria))
	for i, c := range criteria {
		unknown[i] = v1alpha1.CriterionStatus{ID: c.ID, Status: criterionUnknown}
	}
	setNamespaceUnknown(profile, namespace, unknown)
}

// setNamespaceUnknown sets a namespace's result Unknown, its criteria to unknown, and removes
// its findings counts.
func setNamespaceUnknown(profile, namespace string, unknown []v1alpha1.CriterionStatus) {
	setCriteria(profile, namespace, unknown)
	Findings.DeletePartialMatch(prometheus.Labels{"profile": profile, "namespace": namespace})
	SetNamespaceResult(profile, namespace, v1alpha1.Unknown)
}

var complianceStates = []v1alpha1.ComplianceState{v1alpha1.Compliant, v1alpha1.NonCompliant, v1alpha1.NotAssessed, v1alpha1.Unknown}

// SetNamespaceResult records the result of a namespace's report: soc2_operator_namespace_result
// names it, and soc2_operator_namespace_compliant is 1 for Compliant, 0 for NonCompliant and
// absent otherwise.
func SetNamespaceResult(profile, namespace string, result v1alpha1.ComplianceState) {
	for _, s := range complianceStates {
		if s == result {
			NamespaceResult.WithLabelValues(profile, namespace, string(s)).Set(1)
		} else {
			NamespaceResult.DeleteLabelValues(profile, namespace, string(s))
		}
	}
	switch result {
	case v1alpha1.Compliant:
		NamespaceCompliant.WithLabelValues(profile, namespace).Set(1)
	case v1alpha1.NonCompliant:
		NamespaceCompliant.WithLabelValues(profile, namespace).Set(0)
	default:
		NamespaceCompliant.DeleteLabelValues(profile, namespace)
	}
}

// SetCluster records the criteria of the cluster-scoped objects and their findings (failing
// and unread by severity, and excepted), under namespace "".
func SetCluster(profile string, criteria []v1alpha1.CriterionStatus, failing, unread map[v1alpha1.Severity]int, excepted int) {
	setCriteria(profile, "", criteria)
	setFindings(profile, "", failing, unread, excepted)
}

// SetClusterUnknown records that the cluster-scoped objects could not be evaluated (a full
// evaluation failed): each criterion last recorded for them is Unknown and their findings
// counts are absent until one succeeds.
func SetClusterUnknown(profile string) {
	Findings.DeletePartialMatch(prometheus.Labels{"profile": profile, "namespace": ""})
	setCriteria(profile, "", recordedUnknown(profile, ""))
}

// SetNamespaceUnknown records that a namespace's latest evaluation is in no report (its report
// is gone and could not be created again, or its evaluation failed): as SetNamespaceStale, with
// the criteria last recorded for it, since there is no report to list them.
func SetNamespaceUnknown(profile, namespace string) {
	setNamespaceUnknown(profile, namespace, recordedUnknown(profile, namespace))
}

// recordedUnknown is each criterion last recorded for profile and namespace, Unknown.
func recordedUnknown(profile, namespace string) []v1alpha1.CriterionStatus {
	recorded.Lock()
	defer recorded.Unlock()
	var unknown []v1alpha1.CriterionStatus
	for id := range recorded.criteria[[2]string{profile, namespace}] {
		unknown = append(unknown, v1alpha1.CriterionStatus{ID: id, Status: criterionUnknown})
	}
	return unknown
}

// recorded holds, per profile and namespace, the criteria setCriteria last served, so that a
// criterion that leaves the report (the profile's criteria changed) leaves the metrics too.
var recorded = struct {
	sync.Mutex
	criteria map[[2]string]map[v1alpha1.Criterion]bool
}{criteria: map[[2]string]map[v1alpha1.Criterion]bool{}}

// setCriteria sets each criterion's current status to 1 and removes its other statuses, and
// the series of the criteria no longer listed.
func setCriteria(profile, namespace string, criteria []v1alpha1.CriterionStatus) {
	recorded.Lock()
	defer recorded.Unlock()
	key := [2]string{profile, namespace}
	now := make(map[v1alpha1.Criterion]bool, len(criteria))
	for _, c := range criteria {
		now[c.ID] = true
	}
	for id := range recorded.criteria[key] {
		if !now[id] {
			CriterionStatus.DeletePartialMatch(prometheus.Labels{"profile": profile, "namespace": namespace, "criterion": string(id)})
		}
	}
	recorded.criteria[key] = now
	for _, c := range criteria {
		for _, s := range criterionStates {
			if s == c.Status {
				CriterionStatus.WithLabelValues(profile, namespace, string(c.ID), string(s)).Set(1)
			} else {
				CriterionStatus.DeleteLabelValues(profile, namespace, string(c.ID), string(s))
			}
		}
	}
}

// ForgetNamespace drops a namespace's series (its report was deleted).
func ForgetNamespace(profile, namespace string) {
	labels := prometheus.Labels{"profile": profile, "namespace": namespace}
	recorded.Lock()
	defer recorded.Unlock()
	delete(recorded.criteria, [2]string{profile, namespace})
	CriterionStatus.DeletePartialMatch(labels)
	Findings.DeletePartialMatch(labels)
	FindingOpened.DeletePartialMatch(labels)
	NamespaceCompliant.DeletePartialMatch(labels)
	NamespaceResult.DeletePartialMatch(labels)
}

// ForgetProfile drops every series of a deleted profile.
func ForgetProfile(profile string) {
	labels := prometheus.Labels{"profile": profile}
	recorded.Lock()
	defer recorded.Unlock()
	for key := range recorded.criteria {
		if key[0] == profile {
			delete(recorded.criteria, key)
		}
	}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{CriterionStatus, Findings, FindingOpened, NamespaceCompliant, NamespaceResult, LastEvaluation, EvaluationInterval, ProfileReady, Evaluations, EvaluationDuration, ReportWrites, ReportsStale,
		AlertsTotal, AlertsPending} {
		v.DeletePartialMatch(labels)
	}
}

// exceptionSeries are the series of Exceptions and ExceptionExpiry that SetExceptions last
// served.
var exceptionSeries = struct {
	sync.Mutex
	counts, expiry, coveredChanged map[[2]string]bool
}{}

// SetExceptions records the exceptions: counts by [namespace, state], and expiry (Unix
// seconds) by [namespace, name] for each Active one, in place of what it last recorded. Series
// that stay are overwritten where they are and only those that went are deleted, so a scrape
// during the update sees every series that is there before and after it (emptying the vectors
// first showed a scrape in between no exception at all: SOC2ExceptionExpiringSoon resolved and
// fired again, the counts dipped).
// coveredChanged holds the [namespace, name] of the exceptions ExceptionCoveredChanged says 1
// for.
func SetExceptions(counts map[[2]string]int, expiry map[[2]string]float64, coveredChanged map[[2]string]bool) {
	exceptionSeries.Lock()
	defer exceptionSeries.Unlock()
	exceptionSeries.counts = replaceSeries(Exceptions, exceptionSeries.counts, counts)
	exceptionSeries.expiry = replaceSeries(ExceptionExpiry, exceptionSeries.expiry, expiry)
	changed := make(map[[2]string]int, len(coveredChanged))
	for k, v := range coveredChanged {
		if v {
			changed[k] = 1
		}
	}
	exceptionSeries.coveredChanged = replaceSeries(ExceptionCoveredChanged, exceptionSeries.coveredChanged, changed)
}

// SetExceptionCoveredChanged records whether the exception [namespace, name] is Active and has
// covered findings other than those it covered when approved (1), or not (the series goes),
// beside what SetExceptions recorded.
func SetExceptionCoveredChanged(key [2]string, changed bool) {
	exceptionSeries.Lock()
	defer exceptionSeries.Unlock()
	setSeries(ExceptionCoveredChanged, &exceptionSeries.coveredChanged, key, 1, changed)
}

// SetExceptionCount records n exceptions of [namespace, state] (0 deletes the series), beside
// what SetExceptions recorded.
func SetExceptionCount(key [2]string, n int) {
	exceptionSeries.Lock()
	defer exceptionSeries.Unlock()
	setSeries(Exceptions, &exceptionSeries.counts, key, float64(n), n > 0)
}

// SetExceptionExpiry records when the exception [namespace, name] expires (Unix seconds) while
// it is active, and deletes its series when it is not, beside what SetExceptions recorded.
func SetExceptionExpiry(key [2]string, expires float64, active bool) {
	exceptionSeries.Lock()
	defer exceptionSeries.Unlock()
	setSeries(ExceptionExpiry, &exceptionSeries.expiry, key, expires, active)
}

// setSeries sets v's series key to value when keep, and deletes it when not, keeping served
// (the series served) current.
func setSeries(v *prometheus.GaugeVec, served *map[[2]string]bool, key [2]string, value float64, keep bool) {
	if !keep {
		v.DeleteLabelValues(key[0], key[1])
		delete(*served, key)
		return
	}
	v.WithLabelValues(key[0], key[1]).Set(value)
	if *served == nil {
		*served = map[[2]string]bool{}
	}
	(*served)[key] = true
}

// replaceSeries sets v's series to values and deletes those of before that values lacks. It
// returns the series now served.
func replaceSeries[N int | float64](v *prometheus.GaugeVec, before map[[2]string]bool, values map[[2]string]N) map[[2]string]bool {
	now := make(map[[2]string]bool, len(values))
	for k, n := range values {
		v.WithLabelValues(k[0], k[1]).Set(float64(n))
		now[k] = true
	}
	for k := range before {
		if !now[k] {
			v.DeleteLabelValues(k[0], k[1])
		}
	}
	return now
}
