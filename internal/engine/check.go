package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TargetCluster is the target of a check that runs once per evaluation, on no object: checks
// about the control plane, which say NotAssessed when it is not visible.
const TargetCluster = "Cluster"

// Check is one built-in check: metadata and the function that judges one object.
type Check struct {
	// ID names the check in profiles, exceptions and reports, for example wl-privileged.
	ID string
	// Title is a one-line summary.
	Title string
	// Description says what the check establishes and how it supports its criteria.
	Description string
	// Remediation says how to fix a failure.
	Remediation string
	// Severity is the default severity of a failure.
	Severity v1alpha1.Severity
	// Criteria are the SOC 2 criteria the check supports.
	Criteria []v1alpha1.Criterion
	// Targets are the kinds the check judges: Kubernetes kinds, KindWorkload for every workload
	// kind, or TargetCluster for a check that runs once per evaluation.
	Targets []string
	// Requires names what the check needs beyond Kubernetes objects (a registry, the control
	// plane's configuration, a network probe), or "" when objects are enough. Without that data
	// the check says NotAssessed and why.
	Requires string
	// Unassessable is set on a check that nothing this version reads can decide (what it
	// Requires is never available to it): every result is NotAssessed, and the control it
	// stands for needs evidence from elsewhere. Where a check is described to people (docs,
	// kubectl soc2 explain, the evidence pack's controls.csv) this is said instead of a method
	// of testing it does not have.
	Unassessable bool
	// ManifestOnly checks judge what only manifests show (the apiVersion they are written in):
	// objects read from the API server are converted to the version the reader asks for, so the
	// check does not run when the inventory is complete (the operator).
	ManifestOnly bool
	// Reads are the kinds the check reads besides its targets (NetworkPolicies for a coverage
	// check, say). The operator watches targets and reads.
	Reads []string
	// ReadsLooked is set on a check that reads the kinds of Reads only by name, through
	// Context.Get, for the object it judges, and only for some objects (net-ingress-snippets
	// reads the ConfigMap an Ingress's auth-proxy-set-headers names): where the inventory does
	// not hold one of those kinds (Inventory.Unseen), only the results of the objects it looked
	// one up for are NotAssessed, rather than every result of the check; their failures stand,
	// so such a check must never fail an object for an object it did not find (a kind unseen
	// finds none). A check that lists a kind, or remembers what it read across objects (Memo),
	// must not set it.
	ReadsLooked bool
	// Evaluate judges one target object (nil for TargetCluster) and reports every outcome
	// through ctx: at least one result per object, one per container for container checks.
	Evaluate func(ctx *Context, obj *Object)

	// custom is a custom check's expression, planned (compileCustom); nil for the others.
	custom *customPrograms
}

// Status is the outcome of a check on one object and container.
type Status uint8

// Statuses.
const (
	StatusPass Status = iota + 1
	StatusFail
	StatusExcepted
	StatusNotApplicable
	StatusNotAssessed
)

var statusValues = [...]v1alpha1.CheckResult{
	StatusPass:          v1alpha1.ResultPass,
	StatusFail:          v1alpha1.ResultFail,
	StatusExcepted:      v1alpha1.ResultExcepted,
	StatusNotApplicable: v1alpha1.ResultNotApplicable,
	StatusNotAssessed:   v1alpha1.ResultNotAssessed,
}

// API is the status as the API spells it.
func (s Status) API() v1alpha1.CheckResult {
	if int(s) < len(statusValues) {
		return statusValues[s]
	}
	return ""
}

// String is the API spelling.
func (s Status) String() string { return string(s.API()) }

// Context is what a check sees while it judges one object: the inventory for cross-object
// lookups, the profile's parameters, and the methods that report outcomes.
type Context struct {
	// Inventory holds every object of the evaluation, indexed.
	Inventory *Inventory
	// Params are the profile's check parameters, with defaults filled in.
	Params *Params

	check *PlannedCheck
	obj   *Object
	// out collects the results of the check being run (run).
	out []Result
	// stopped holds the custom checks that ran out of time in this evaluation, with the reason
	// their remaining results give.
	stopped map[*PlannedCheck]string
	// customTimeout is Options.CustomCheckTimeout.
	customTimeout time.Duration
	// withheld is Options.Withheld.
	withheld []WithheldField
	// now is Options.Now: the evaluation's time.
	now time.Time
	// looked are the kinds the check being run looked up through Get (Check.ReadsLooked).
	looked []string
	// note is appended to the failures of an object judged on its own although it names a
	// controller: why the controller does not explain it.
	note string
	// made holds, by controller and custom check, whether the check fails what the controller
	// makes of its template (madeFails).
	made map[madeKey]madeResult
	// ownerFail holds, by controller and custom check, whether the check fails the controller
	// itself (ownerFails).
	ownerFail map[madeKey]bool
	// caller is Options.Context, gone its Done channel (nil without one); halted records
	// that a check was not run, or cut short, because it was done; cut that the check being
	// run found it done (Stopped).
	caller context.Context
	gone   <-chan struct{}
	halted bool
	cut    bool
}

// Stopped reports whether the evaluation's caller has gone (Options.Context is done: the
// admission webhook's request was answered at its deadline). A check whose work grows with what
// the object's author wrote (gitleaks' rules over a long env value, an argument, an annotation)
// asks between steps and, told true, returns at once: what it found so far is dropped, its
// one result is NotAssessed (CutShort), and the evaluation is Stopped, so that nobody reads it
// as a verdict and no memo keeps it. Without Options.Context (the operator's reports, scan) it
// is always false. One atomic load (Options.Context's Err, asked each time): cheap enough for
// every place a regular expression tries.
func (c *Context) Stopped() bool {
	if c.caller == nil || c.caller.Err() == nil {
		return false
	}
	c.cut = true
	return true
}

// CutShort starts the message of the NotAssessed result of a check cut short because its
// evaluation's caller had gone (Context.Stopped).
const CutShort = "judgement cut short: "

// Now is the time of the evaluation (Options.Now), for checks whose evidence ages: the same in
// every check of an evaluation, and the injected clock's in the operator.
func (c *Context) Now() time.Time { return c.now }

// Get is Inventory.Get, for a check that declares Check.ReadsLooked: it records the kind looked
// up, so that a kind the inventory does not hold makes NotAssessed the results of this object
// alone.
func (c *Context) Get(kind, namespace, name string) *Object {
	c.looked = append(c.looked, kind)
	return c.Inventory.Get(kind, namespace, name)
}

// Pass records that the object (container "" ) or one of its containers satisfies the check.
func (c *Context) Pass(container string) {
	c.record(container, StatusPass, "")
}

// Fail records a failure with a message that says what is wrong.
func (c *Context) Fail(container, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	c.record(container, StatusFail, msg)
}

// NotApplicable records that the check does not apply, and why.
func (c *Context) NotApplicable(container, reason string) {
	c.record(container, StatusNotApplicable, reason)
}

// NotAssessed records that the check lacks the data to decide, and which data.
func (c *Context) NotAssessed(container, reason string) {
	c.record(container, StatusNotAssessed, reason)
}

// Unread records that the check could not decide because the object holds more than the
// operator reads of it, a bound its author can reach (Result.Unread), and what was not read.
// Never for data the operator lacks: that is NotAssessed.
func (c *Context) Unread(container, reason string) {
	c.record(container, StatusNotAssessed, reason)
	c.out[len(c.out)-1].Unread = true
}

// record is where every result is made: its message is shown printable (Printable) and
// bounded here, whatever the check wrote.
func (c *Context) record(container string, s Status, msg string) {
	c.out = append(c.out, Result{Check: c.check, Object: c.obj, Container: container, Status: s, Message: Truncate(Printable(msg))})
}

// Local reports whether the check judges each object by that object alone: it declares no
// other kind read (Reads) and is not a cluster check. A scan judges an object whose checks are
// all local as soon as its file is read, and then lets the object go unless another check reads
// its kind (Stream). The object's controller is not the check's business: an object that names
// a built-in controller is always judged with the whole input (Inventory.Provenance). A local
// check that looks up another object anyway fails when judged alone: its result is NotAssessed
// with an internal error naming the check, and the catalogue's tests fail.
func (c *Check) Local() bool {
	return len(c.Reads) == 0 && !slices.Contains(c.Targets, TargetCluster)
}

// ReadsSummary says, for people, what the check reads: its targets, the other kinds it reads,
// and what it needs beyond Kubernetes objects ("Deployment, StatefulSet; also Service; needs
// ..."). docs/checks.md and `kubectl soc2 explain` print it.
func (c *Check) ReadsSummary() string {
	var parts []string
	for _, t := range c.Targets {
		switch t {
		case TargetCluster:
			parts = append(parts, "the cluster (once per evaluation)")
		case KindWorkload:
			parts = append(parts, "workloads")
		default:
			parts = append(parts, t)
		}
	}
	s := strings.Join(parts, ", ")
	if len(c.Reads) > 0 {
		reads := make([]string, len(c.Reads))
		for i, k := range c.Reads {
			reads[i] = k
			if slices.Contains(c.Targets, k) {
				// The check judges each object of the kind with the others of it in view.
				reads[i] = "other " + k + " objects"
			}
		}
		s += "; also " + strings.Join(reads, ", ")
	}
	switch {
	case c.Unassessable:
		s += "; needs " + c.Requires + ", which this version does not have: NotAssessed wherever it applies"
	case c.Requires != "":
		s += "; needs " + c.Requires
	}
	return s
}
