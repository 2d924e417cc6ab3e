package scan

import (
	"sort"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Report is what `scan` found, in the shape the json and yaml outputs print and the other
// formats are rendered from.
type Report struct {
	// Kind and APIVersion identify the document for machines.
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	// Tool is what produced the report.
	Tool Tool `json:"tool"`
	// Profile is the profile evaluated ("" for the built-in defaults).
	Profile string `json:"profile,omitempty"`
	// Summary counts what was found.
	Summary Summary `json:"summary"`
	// Criteria is the roll-up per SOC 2 criterion over every object scanned.
	Criteria []v1alpha1.CriterionStatus `json:"criteria"`
	// Findings are every failing and excepted result, most severe first.
	Findings []Finding `json:"findings"`
	// Results are every result, passing and undecided included (only with --show all).
	Results []Finding `json:"results,omitempty"`
	// Exceptions are the exceptions given, with their state and how many findings each covers.
	Exceptions []Exception `json:"exceptions,omitempty"`
	// Problems are what is wrong with the profile and the exceptions given (an exception file
	// that cannot be read, an exception the CRD refuses or the engine finds Invalid): each makes
	// the scan exit 2, and every format names it (JUnit as an error test case, SARIF as an error
	// notification).
	Problems []string `json:"problems,omitempty"`
	// Errors are the files and documents that could not be read: the first maxListedErrors of
	// them, and ErrorsNotListed says how many more there were (summary.errors counts all).
	Errors          []InputError `json:"errors,omitempty"`
	ErrorsNotListed int          `json:"errorsNotListed,omitempty"`
	// Skipped are the custom resources that run containers of the kinds --skip-kinds names,
	// which scan did not judge and counts as no input error: the first maxListedErrors of them,
	// and SkippedNotListed says how many more there were (summary.skipped counts all).
	Skipped          []SkippedResource `json:"skipped,omitempty"`
	SkippedNotListed int               `json:"skippedNotListed,omitempty"`

	// found and assessed are the findings and (with --show all) the results as buildReport
	// makes them, written into Findings and Results only as an output needs each one (see
	// found).
	found, assessed []found
	// evaluation and evaluatedAt are what -o policyreport renders: every result, per resource.
	evaluation *engine.Evaluation
	// waived are the results their objects left undecided that an exception waives for the
	// gate (engine.Evaluation.Waived), by the exception: shown as waived failures are.
	waived      map[*engine.Result]*engine.ExceptionOutcome
	evaluatedAt time.Time
	// details and width shape the table: every finding or a summary, and the line width.
	details bool
	width   int
}

// Tool names the scanner.
type Tool struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	CatalogVersion string `json:"catalogVersion"`
}

// Summary counts what a scan found.
type Summary struct {
	Result         v1alpha1.ComplianceState `json:"result"`
	Score          *int32                   `json:"score,omitempty"`
	Objects        int                      `json:"objects"`
	Resources      int                      `json:"resources"`
	Criteria       int                      `json:"criteria"`
	FailedCriteria int                      `json:"failedCriteria"`
	Failing        int                      `json:"failing"`
	Critical       int                      `json:"critical"`
	High           int                      `json:"high"`
	Medium         int                      `json:"medium"`
	Low            int                      `json:"low"`
	Excepted       int                      `json:"excepted"`
	Passed         int                      `json:"passed"`
	NotAssessed    int                      `json:"notAssessed"`
	NotApplicable  int                      `json:"notApplicable"`
	// UndecidedByObject counts the results their objects left undecided (a custom check's
	// expression the object stopped or broke, a check that crashed on it:
	// engine.Result.FailedOnObject) that no exception waives: NotAssessed, among notAssessed,
	// but failing for --fail-on at or above their check's severity, as the admission webhook
	// refuses them.
	UndecidedByObject int `json:"undecidedByObject,omitempty"`
	Errors            int `json:"errors"`
	// NotObjects counts the documents read that are no Kubernetes objects (neither apiVersion
	// nor kind: manifest.ErrNotAnObject), which were not judged; standard error names them.
	NotObjects int `json:"notObjects,omitempty"`
	// Skipped counts the custom resources that run containers of the kinds --skip-kinds names,
	// which were not judged (Report.Skipped lists them).
	Skipped int `json:"skipped,omitempty"`
}

// Finding is one result.
type Finding struct {
	Check     string                `json:"check"`
	Title     string                `json:"title"`
	Severity  v1alpha1.Severity     `json:"severity"`
	Criteria  []v1alpha1.Criterion  `json:"criteria"`
	Result    v1alpha1.CheckResult  `json:"result"`
	Resource  *v1alpha1.ResourceRef `json:"resource,omitempty"`
	Container string                `json:"container,omitempty"`
	Message   string                `json:"message,omitempty"`
	Exception string                `json:"exception,omitempty"`
	Source    *Source               `json:"source,omitempty"`
	check     *engine.PlannedCheck  // for formats that describe the rule
}

// Source is where the object of a finding was read from.
type Source struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Line     int    `json:"line"`
}

// Exception is a ControlException given to the scan.
type Exception struct {
	Name     string                  `json:"name"`
	State    v1alpha1.ExceptionState `json:"state"`
	Message  string                  `json:"message"`
	Findings int                     `json:"findings"`
	// Undecided counts the results their objects left undecided that it waives for the gate,
	// as it would waive their failures (Report.waived): an exception used so is not unused.
	Undecided int `json:"undecided,omitempty"`
}

// InputError is a file or document that could not be read.
type InputError struct {
	File     string `json:"file"`
	Document int    `json:"document,omitempty"`
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message"`
}

// SkippedResource is a custom resource that runs containers of a kind --skip-kinds names: scan
// did not judge them, and the operator judges the Pods its controller makes in the cluster.
type SkippedResource struct {
	File     string               `json:"file"`
	Document int                  `json:"document,omitempty"`
	Line     int                  `json:"line,omitempty"`
	Resource v1alpha1.ResourceRef `json:"resource"`
	// Containers is where its first container is (spec.template.spec.containers).
	Containers string `json:"containers"`
}

// objectRefs holds the resource and source of each object findings were made for: findings of
// one object share them (at 20,000 objects there are about 100,000 findings).
type objectRefs map[*engine.Object]*sharedRefs

type sharedRefs struct {
	resource *v1alpha1.ResourceRef
	source   *Source
}

// found is a finding as a report holds it until it is written: the engine's result, and the
// references it shares with the other findings of its object. A Finding is 168 bytes, and at
// 20,000 objects the 87,000 of them were 14.5 MB of fresh memory, 60-75 ms to make on this
// machine (the kernel mapping the pages); the outputs now make each Finding as they write it.
type found struct {
	r      *engine.Result
	shared *sharedRefs
}

func (refs objectRefs) found(r *engine.Result) found {
	o := r.Object
	if o == nil {
		return found{r: r}
	}
	shared, ok := refs[o]
	if !ok {
		shared = &sharedRefs{resource: &v1alpha1.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}}
		if o.Source.File != "" {
			shared.source = &Source{File: o.Source.File, Document: o.Source.Document, Line: o.Source.Line}
		}
		refs[o] = shared
	}
	return found{r: r, shared: shared}
}

// all returns every result of ev, in order.
func (refs objectRefs) all(ev *engine.Evaluation) []found {
	out := make([]found, len(ev.Results))
	for i := range ev.Results {
		out[i] = refs.found(&ev.Results[i])
	}
	return out
}

// finding is the Finding the outputs print.
func (f found) finding() Finding {
	r := f.r
	out := Finding{
		Check:     r.Check.ID,
		Title:     r.Check.Title,
		Severity:  r.Check.Severity,
		Criteria:  r.Check.Criteria,
		Result:    r.Status.API(),
		Container: r.Container,
		Message:   r.Message,
		check:     r.Check,
	}
	out.Exception = f.exception()
	if f.shared != nil {
		out.Resource, out.Source = f.shared.resource, f.shared.source
	}
	return out
}

// finding is the Finding the outputs print for f: with the exception that waives it for the gate
// when its object left it undecided (Report.waived), as a waived failure names its exception.
func (rep *Report) finding(f found) Finding {
	out := f.finding()
	if e := rep.waived[f.r]; e != nil {
		out.Exception = e.Key
	}
	return out
}

// exception is the key of the exception that covers the finding, or "".
func (f found) exception() string {
	if f.r.Exception == nil {
		return ""
	}
	return f.r.Exception.Key
}

// resource is the resource the finding is about, or nil.
func (f found) resource() *v1alpha1.ResourceRef {
	if f.shared == nil {
		return nil
	}
	return f.shared.resource
}

// findings returns the Findings of fs.
func findings(fs []found) []Finding {
	if fs == nil {
		return nil
	}
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = f.finding()
	}
	return out
}

// buildReport turns an evaluation into a Report.
func buildReport(ev *engine.Evaluation, objects int, showAll bool) *Report {
	rep := &Report{Kind: "ScanReport", APIVersion: "scan.soc2-operator.io/v1alpha1", Profile: ev.Plan.ProfileName, evaluation: ev, waived: ev.Waived()}
	summaries := make([]*engine.Summary, 0, len(ev.Summaries))
	for _, s := range ev.Summaries {
		summaries = append(summaries, s)
	}
	total := ev.Plan.Merge(summaries...)
	rep.Criteria = total.Criteria
	rep.Summary = Summary{
		Result:         total.State,
		Score:          total.Score,
		Objects:        objects,
		Resources:      total.Resources,
		Criteria:       len(total.Criteria),
		FailedCriteria: total.FailedCriteria,
		Failing:        total.Failing,
		Critical:       total.FailingBySeverity[v1alpha1.SeverityCritical],
		High:           total.FailingBySeverity[v1alpha1.SeverityHigh],
		Medium:         total.FailingBySeverity[v1alpha1.SeverityMedium],
		Low:            total.FailingBySeverity[v1alpha1.SeverityLow],
		Excepted:       total.Excepted,
		Passed:         total.Passed,
		NotAssessed:    total.NotAssessed,
		NotApplicable:  total.NotApplicable,
	}
	failing := make([]*engine.Result, 0, total.Failing+total.Excepted)
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Status == engine.StatusFail || r.Status == engine.StatusExcepted {
			failing = append(failing, r)
		}
		if r.FailedOnObject() && rep.waived[r] == nil {
			rep.Summary.UndecidedByObject++
		}
	}
	engine.SortFindings(failing)
	refs := objectRefs{}
	rep.found = make([]found, len(failing))
	for i, r := range failing {
		rep.found[i] = refs.found(r)
	}
	if showAll {
		rep.assessed = refs.all(ev)
	}
	waives := map[string]int{}
	for _, e := range rep.waived {
		waives[e.Key]++
	}
	for _, e := range ev.Exceptions {
		// e.Matched counts both; findings are the failures it waives.
		rep.Exceptions = append(rep.Exceptions, Exception{Name: e.Key, State: e.State, Message: e.Message, Findings: e.Matched - waives[e.Key], Undecided: waives[e.Key]})
	}
	sort.SliceStable(rep.Exceptions, func(i, j int) bool { return rep.Exceptions[i].Name < rep.Exceptions[j].Name })
	return rep
}
