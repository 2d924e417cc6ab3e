package policyreport

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Source is the source of every result soc2-operator writes: Policy Reporter groups and
// filters by it.
const Source = "soc2-operator"

// Properties of a result.
const (
	// PropertyTitle is the check's title.
	PropertyTitle = "title"
	// PropertyCriteria are the check's SOC 2 criteria, comma-separated (CC6.1,CC6.8).
	PropertyCriteria = "criteria"
	// PropertyProfile is the profile evaluated.
	PropertyProfile = "profile"
	// PropertyContainer is the container judged, for container checks.
	PropertyContainer = "container"
	// PropertyException is the ControlException (namespace/name) that covers an excepted
	// failure, or that waives a result its object left undecided as it would waive a failure
	// (a skip with ReasonNotAssessed, which the admission webhook admits).
	PropertyException = "exception"
	// PropertyReason says why a result is skip: ReasonExcepted or ReasonNotAssessed (also on an
	// error result, a custom check its object stopped or broke, or content past what the
	// operator reads of it: engine.Result.FailedOnObject).
	PropertyReason = "reason"
)

// Values of PropertyReason.
const (
	// ReasonExcepted: the check failed and an active ControlException covers the failure.
	ReasonExcepted = string(v1alpha1.ResultExcepted)
	// ReasonNotAssessed: the check lacked the data to decide (never a pass).
	ReasonNotAssessed = string(v1alpha1.ResultNotAssessed)
)

// Options are the inputs of Build besides the evaluation.
type Options struct {
	// Profile is the profile evaluated; it names the reports and is labelled and recorded on
	// every result. Empty means the evaluation plan's profile name.
	Profile string
	// Now is the time of the evaluation, stamped on every result.
	Now time.Time
	// OtherProfiles are the names of the cluster's other profiles: a report name one of theirs
	// could take as well is hashed (see ReportName).
	OtherProfiles []string
}

// Build turns an evaluation into one report per evaluated resource: a PolicyReport in the
// resource's namespace for namespaced resources, a ClusterPolicyReport for cluster-scoped
// ones, Namespaces included. The evaluation must have been made with
// engine.Options{KeepPassing: true}, or passes are missing from the reports.
//
// Every result of the resource is in its report, passes included, except NotApplicable ones;
// results of cluster checks (no object) are in no report, and a resource with nothing but
// NotApplicable results gets no report. Reports are sorted by namespace (cluster-scoped
// first) and name, their results by check, container, result and message.
func Build(ev *engine.Evaluation, opts Options) []Object {
	pending := Plan(ev, opts)
	out := make([]Object, len(pending))
	for i := range pending {
		out[i] = pending[i].Report()
	}
	return out
}

// Pending is the report of one resource before it is made (Report). Plan finds and orders them,
// so that a writer of thousands of reports can make each one as it writes it instead of holding
// every report at once: held together, the reports of a 20,000-object scan (every pass in them)
// raised its peak from 230 to 509 MiB.
type Pending struct {
	// namespace and name are the report's (namespace is "" for a ClusterPolicyReport).
	namespace, name string
	obj             *engine.Object
	results         []*engine.Result
	waived          map[*engine.Result]*engine.ExceptionOutcome // engine.Evaluation.Waived, shared
	profile         string
	ts              metav1.Timestamp
}

// Plan is the reports Build makes, in Build's order, not yet made.
func Plan(ev *engine.Evaluation, opts Options) []Pending {
	if opts.Profile == "" {
		opts.Profile = ev.Plan.ProfileName
	}
	ts := metav1.Timestamp{Seconds: opts.Now.Unix(), Nanos: int32(opts.Now.Nanosecond())}

	type resourceKey struct{ kind, namespace, name string }
	index := map[resourceKey]int{}
	waived := ev.Waived()
	var out []Pending
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Object == nil || r.Status == engine.StatusNotApplicable {
			continue
		}
		// The kind with its group where the group is not Kubernetes' own: Istio's Gateway edge
		// and the Gateway API's Gateway edge are two objects, with two reports.
		kind := r.Object.IdentityKind()
		k := resourceKey{kind, r.Object.Namespace, r.Object.Name}
		at, ok := index[k]
		if !ok {
			at = len(out)
			index[k] = at
			p := Pending{obj: r.Object, profile: opts.Profile, ts: ts, waived: waived, name: ReportName(opts.Profile, kind, r.Object.Name, opts.OtherProfiles...)}
			if !clusterScoped(r.Object) {
				p.namespace = r.Object.Namespace
			}
			out = append(out, p)
		}
		out[at].results = append(out[at].results, r)
	}
	// Stable: two kinds that differ only in case name the same report on objects of one name.
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].namespace, out[j].namespace; a != b {
			return a < b
		}
		return out[i].name < out[j].name
	})
	return out
}

// Report makes the report. Reports of different Pendings may be made at once.
func (p *Pending) Report() Object {
	results := make([]Result, len(p.results))
	for i, r := range p.results {
		results[i] = newResult(r, p.waived[r], p.profile, p.ts)
	}
	profile, o := p.profile, p.obj
	uid := o.Obj.GetUID()
	scope := &corev1.ObjectReference{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, UID: uid}
	meta := metav1.ObjectMeta{
		Name:   p.name, // ReportName(profile, o.IdentityKind(), o.Name), as Plan sorted by it
		Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy},
	}
	if profile != "" {
		meta.Labels[v1alpha1.LabelProfile] = LabelValue(profile)
	}
	if uid != "" {
		meta.OwnerReferences = []metav1.OwnerReference{{
			APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: uid,
			Controller: ptr.To(false), BlockOwnerDeletion: ptr.To(false),
		}}
	}
	sortResults(results)
	summary := summarize(results)

	if clusterScoped(o) {
		scope.Namespace = ""
		return &ClusterPolicyReport{
			TypeMeta:   metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: KindClusterPolicyReport},
			ObjectMeta: meta,
			Scope:      scope, Summary: summary, Results: results,
		}
	}
	meta.Namespace = o.Namespace
	return &PolicyReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: KindPolicyReport},
		ObjectMeta: meta,
		Scope:      scope, Summary: summary, Results: results,
	}
}

// clusterScoped reports whether the object's report is a ClusterPolicyReport. A Namespace is
// a cluster-scoped object, so its report is a ClusterPolicyReport (as Kyverno writes them);
// its owner reference still deletes the report with the namespace.
func clusterScoped(o *engine.Object) bool {
	return o.Kind == "Namespace" || o.Namespace == ""
}

// newResult is the result of r; waiver is the exception that waives it for the admission webhook
// and scan's gate when its object left it undecided (engine.Evaluation.Waived), or nil.
func newResult(r *engine.Result, waiver *engine.ExceptionOutcome, profile string, ts metav1.Timestamp) Result {
	c := r.Check
	props := map[string]string{
		PropertyTitle:    c.Title,
		PropertyCriteria: joinCriteria(c.Criteria, ","),
	}
	if profile != "" {
		props[PropertyProfile] = profile
	}
	if r.Container != "" {
		props[PropertyContainer] = r.Container
	}
	res := Result{
		Source:     Source,
		Policy:     c.ID,
		Rule:       c.ID,
		Category:   category(c.Criteria),
		Severity:   severity(c.Severity),
		Message:    r.Message,
		Timestamp:  ts,
		Scored:     true,
		Properties: props,
	}
	if res.Message == "" {
		// Passes say nothing; the title is a statement of what holds.
		res.Message = c.Title
	}
	switch r.Status {
	case engine.StatusPass:
		res.Result = StatusPass
	case engine.StatusFail:
		res.Result = StatusFail
	case engine.StatusExcepted:
		res.Result = StatusSkip
		props[PropertyReason] = ReasonExcepted
		if r.Exception != nil {
			props[PropertyException] = r.Exception.Key
		}
	case engine.StatusNotAssessed:
		res.Result = StatusSkip
		props[PropertyReason] = ReasonNotAssessed
		switch {
		case r.FailedOnObject() && waiver != nil:
			// The webhook admits it, and scan's gate passes it, where an exception would waive
			// the check's failure on the object: skip, naming the exception, as an excepted
			// failure is.
			props[PropertyException] = waiver.Key
		case r.FailedOnObject():
			// A custom check's expression the object stopped or broke, or a check that panicked
			// on it: no verdict the check lacked data for, but one the object kept from being made, which the admission
			// webhook refuses. error is the result of a policy that could not be evaluated on
			// the resource (Kyverno's for a rule whose evaluation failed). So is a result
			// unread (engine.Result.Unread: the object holds more than the operator reads, which
			// its author chose), whose criterion fails closed on it: the policy report API's
			// error ("the policy could not be evaluated"), not fail ("the requirements are not
			// met": no failure was seen) nor skip ("not selected based on user inputs or
			// applicability": a neutral result Policy Reporter does not count as a problem).
			res.Result = StatusError
		}
	}
	return res
}

// category is "SOC 2 <first criterion>", the group Policy Reporter shows results under.
func category(criteria []v1alpha1.Criterion) string {
	if len(criteria) == 0 {
		return "SOC 2"
	}
	return "SOC 2 " + string(criteria[0])
}

var severities = map[v1alpha1.Severity]PolicySeverity{
	v1alpha1.SeverityCritical: SeverityCritical,
	v1alpha1.SeverityHigh:     SeverityHigh,
	v1alpha1.SeverityMedium:   SeverityMedium,
	v1alpha1.SeverityLow:      SeverityLow,
}

// severity maps a check's severity; an unknown one is left out rather than rejected by the
// CRD's enum.
func severity(s v1alpha1.Severity) PolicySeverity { return severities[s] }

func joinCriteria(c []v1alpha1.Criterion, sep string) string {
	s := make([]string, len(c))
	for i, x := range c {
		s[i] = string(x)
	}
	return strings.Join(s, sep)
}

func sortResults(results []Result) {
	sort.SliceStable(results, func(i, j int) bool {
		a, b := &results[i], &results[j]
		if a.Policy != b.Policy {
			return a.Policy < b.Policy
		}
		if ca, cb := a.Properties[PropertyContainer], b.Properties[PropertyContainer]; ca != cb {
			return ca < cb
		}
		if a.Result != b.Result {
			return a.Result < b.Result
		}
		return a.Message < b.Message
	})
}

func summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Result {
		case StatusPass:
			s.Pass++
		case StatusFail:
			s.Fail++
		case StatusWarn:
			s.Warn++
		case StatusError:
			s.Error++
		case StatusSkip:
			s.Skip++
		}
	}
	return s
}

// hashLen is how many hex digits of a SHA-256 end a shortened name.
const hashLen = 10

// ReportName is the name of the report on an object: soc2-<profile>-<kind>-<name> with the
// kind in lower case (soc2-<kind>-<name> without a profile); kind is the object's
// engine.IdentityKind, which names a group other than Kubernetes' own
// (soc2-<profile>-gateway.networking.istio.io-edge), so objects of one kind name in two groups
// get two reports. It is shortened to letters, digits
// and dashes ending with a hash of profile, kind and name, so that it stays unique and stable,
// when that is not a valid object name (longer than 253 characters, or the object's name has
// characters a DNS subdomain may not, as ClusterRole names like system:auth-delegator do), and
// when another profile's reports could take the same name: soc2-p-pod-deployment-web is both
// profile p's report on Pod deployment-web and profile p-pod's on Deployment web (two such
// profiles selecting one namespace wrote over each other's reports there). A name is hashed when
// it starts with soc2-<other>- for one of others, the cluster's other profiles, so of two
// profiles whose names could meet, both hash theirs.
func ReportName(profile, kind, name string, others ...string) string {
	parts := make([]string, 0, 4)
	parts = append(parts, "soc2")
	if profile != "" {
		parts = append(parts, profile)
	}
	parts = append(parts, strings.ToLower(kind), name)
	n := strings.Join(parts, "-")
	if len(validation.IsDNS1123Subdomain(n)) == 0 && !anotherCouldTake(n, profile, others) {
		return n
	}
	return shorten(n, profile+"\x00"+kind+"\x00"+name, validation.DNS1123SubdomainMaxLength)
}

// anotherCouldTake reports whether a report name of profile starts as those of another profile
// of others do: two names of different profiles are equal only when each starts with the
// other's prefix.
func anotherCouldTake(name, profile string, others []string) bool {
	for _, o := range others {
		if o != profile && strings.HasPrefix(name, "soc2-"+o+"-") {
			return true
		}
	}
	return false
}

// LabelValue is the profile's name as a label value: itself when valid, else shortened.
func LabelValue(profile string) string {
	if len(validation.IsValidLabelValue(profile)) == 0 {
		return profile
	}
	return shorten(profile, profile, validation.LabelValueMaxLength)
}

// shorten turns s into lower-case letters, digits and dashes, at most max characters, ending in
// a dash and a hash of key. The result is a valid DNS label sequence, object name and label
// value when s starts with a letter or digit.
func shorten(s, key string, max int) string {
	sum := sha256.Sum256([]byte(key))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	clean := []byte(strings.ToLower(s))
	for i, c := range clean {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			clean[i] = '-'
		}
	}
	if limit := max - 1 - hashLen; len(clean) > limit {
		clean = clean[:limit]
	}
	head := strings.Trim(string(clean), "-")
	if head == "" {
		return suffix
	}
	return head + "-" + suffix
}

// SameContent reports whether two reports say the same thing: the same kind, scope, summary
// and results, whatever the results' timestamps. Metadata is not compared (name, labels and
// owner references follow from the scope and the profile; the rest is the API server's), so
// the operator can write a report only when its content changed.
func SameContent(a, b Object) bool {
	if a == nil || b == nil || reflect.TypeOf(a) != reflect.TypeOf(b) {
		return a == nil && b == nil
	}
	if !equality.Semantic.DeepEqual(a.GetScope(), b.GetScope()) ||
		!equality.Semantic.DeepEqual(a.GetScopeSelector(), b.GetScopeSelector()) ||
		a.GetSummary() != b.GetSummary() {
		return false
	}
	ar, br := a.GetResults(), b.GetResults()
	if len(ar) != len(br) {
		return false
	}
	for i := range ar {
		x, y := ar[i], br[i]
		x.Timestamp, y.Timestamp = metav1.Timestamp{}, metav1.Timestamp{}
		if !equality.Semantic.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
