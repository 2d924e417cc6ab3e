// Package scan implements `soc2-operator scan`: the operator's check engine over manifest
// files, for CI.
package scan

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/hugeheap"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
	"github.com/soc2-operator/soc2-operator/internal/version"
)

// Exit codes of `scan`. When several apply, the highest-numbered reason that is not a finding
// wins: a usage or configuration error (2) over unreadable input (3) over findings (1).
const (
	// ExitOK: every input was read and no failing finding is at or above --fail-on.
	ExitOK = 0
	// ExitFindings: at least one failing finding is at or above --fail-on.
	ExitFindings = 1
	// ExitUsage: bad flags, an unreadable or invalid profile or exceptions file, an unknown check
	// ID, a custom check that does not compile, or an invalid exception. The scan still runs
	// and prints what it can, so nothing is hidden.
	ExitUsage = 2
	// ExitInput: some files or documents could not be read, or run containers scan cannot
	// judge (manifest.ErrContainersNotJudged); everything else was scanned.
	ExitInput = 3
)

// maxListedErrors is how many of the documents that cannot be read a scan keeps and lists; the
// rest it counts. Each error is kept to the end of the scan, and a stream of broken documents
// is cheap to make: `kubectl get -o json` of a List of a hundred million numbers, two bytes
// each, would otherwise hold a hundred million errors.
const maxListedErrors = 1000

// unlistedErrors says that n more documents than are listed could not be read.
func unlistedErrors(n int) string {
	return fmt.Sprintf("%d more %s could not be read; only the first %d errors are listed", n, oneOrMany(n, "document", "documents"), maxListedErrors)
}

// Formats are the output formats, in the order the help lists them.
var Formats = []string{"table", "json", "yaml", "junit", "sarif", "policyreport"}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// Options are the flags of `scan`.
type Options struct {
	Paths          []string
	ProfileFile    string
	ExceptionFiles []string
	Output         string
	FailOn         string
	Show           string
	AdminNamespace string
	Namespace      string
	Details        bool
	// SkipKinds are the values of --skip-kinds, parsed into skip.
	SkipKinds []string
	skip      skipKinds
	// namespaceGiven is true when --namespace was given: the namespace objects that name none
	// are deployed to is then known (kubectl apply -n), not a guess.
	namespaceGiven bool
}

func (o *Options) bind(fs *flag.FlagSet) {
	paths := (*stringList)(&o.Paths)
	fs.Var(paths, "f", "A manifest file or directory (recursive; a Helm chart, or its templates, is named and not read: scan what it renders), or - for standard input; repeatable")
	fs.Var(paths, "filename", "Same as -f")
	fs.StringVar(&o.ProfileFile, "profile", "", "A ComplianceProfile YAML file (default: every built-in check at its default severity)")
	fs.Var((*stringList)(&o.ExceptionFiles), "exceptions", "A file or directory of ControlException YAML; repeatable")
	fs.StringVar(&o.Output, "o", "table", "Output format: "+strings.Join(Formats, ", ")+"; wide is the table with every finding")
	fs.StringVar(&o.Output, "output", "table", "Same as -o")
	fs.StringVar(&o.FailOn, "fail-on", "Low", "Exit 1 when a failing finding is at or above this severity: Critical, High, Medium, Low or none (any case)")
	fs.BoolVar(&o.Details, "details", false, fmt.Sprintf("Table output: list every finding, not the summary per criterion and check (the table lists every finding by itself up to %d findings)", summaryThreshold))
	fs.StringVar(&o.Show, "show", "findings", "Results in json and yaml output: findings (failing and excepted) or all")
	fs.StringVar(&o.Namespace, "namespace", "default", "The namespace of namespaced objects whose manifest names none, as kubectl apply -n would use; given, the checks about the namespace itself judge them as deployed there")
	fs.Var((*stringList)(&o.SkipKinds), "skip-kinds", "Custom resources of these kinds, `KIND[,KIND...]`, run containers whose Pods the operator judges in the cluster "+
		"(an Argo Rollout, a RayService): counted in a note, not an input scan could not judge (exit 3). KIND or KIND.GROUP "+
		"(Rollout, Rollout.argoproj.io), case-sensitive; repeatable")
	fs.StringVar(&o.AdminNamespace, "admin-namespace", engine.DefaultAdminNamespace, "The operator's namespace: only exceptions there may select other namespaces")
}

// customCheckTimeout bounds one evaluation of a custom check (engine.Options.CustomCheckTimeout;
// 0 is the engine's default). Tests lengthen it so that the cost limit, not the machine's load,
// is what stops the expressions they give.
var customCheckTimeout time.Duration

// Run is `soc2-operator scan`. now is the clock exceptions are judged against.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	// Messages name files and objects of the input, which may be a pull request's: their
	// control characters are shown, not obeyed by the terminal.
	stderr = termtable.EscapeLines(stderr)
	var opts Options
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: on stdout for --help, on stderr for a mistake
	opts.bind(fs)
	if err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			scanUsage(stdout, fs)
			return ExitOK
		}
		fmt.Fprintln(stderr, "Run 'soc2-operator scan --help' for the flags.")
		return ExitUsage
	}
	opts.Paths = append(opts.Paths, fs.Args()...)
	fs.Visit(func(f *flag.Flag) { opts.namespaceGiven = opts.namespaceGiven || f.Name == "namespace" })
	if err := opts.validate(); err != nil {
		fmt.Fprintf(stderr, "soc2-operator scan: %v\n", err)
		return ExitUsage
	}

	// Before anything is read: the reserve the heap was grown by at start-up is collected and
	// the start-up memory limit in force once it returns (internal/hugeheap).
	hugeheap.Advise()
	configFailed := false
	profile, err := loadProfile(opts.ProfileFile, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator scan: %v\n", err)
		return ExitUsage
	}
	exceptions, sources, errs := loadExceptions(opts.ExceptionFiles, stdin, opts.Namespace)
	var exceptionProblems []string // each an exit 2, in every output too (Report.Problems)
	for _, e := range errs {
		fmt.Fprintf(stderr, "soc2-operator scan: %v\n", e)
		exceptionProblems = append(exceptionProblems, e.Error())
		configFailed = true
	}

	plan := engine.Compile(checks.Catalogue(), profile)
	at := now()
	// There is no API server to record requesters and check approvers: exceptions files are
	// taken as reviewed where they are kept (Git), and the scan says that it could not verify
	// approval instead of honouring approvals typed into the files as if they were checked.
	// Results other than findings are kept only for the outputs that list them (they are
	// counted either way): at 20,000 objects passes are most of the memory a scan holds, and
	// undecided results were a quarter of those kept at 99,954 objects.
	keepAll := opts.Show == "all" || opts.Output == "junit" || opts.Output == "policyreport"
	evOpts := engine.Options{Now: at, AdminNamespace: opts.AdminNamespace, KeepPassing: keepAll, FindingsOnly: !keepAll,
		Approval: engine.ApprovalOffline, NoSummaryFindings: true, // buildReport lists and orders every finding
		KubernetesKind: manifest.ServedKind, Withheld: manifestWithheld, CustomCheckTimeout: customCheckTimeout}

	// Objects are evaluated as each file is decoded (engine.Stream), so that those no
	// cross-object check reads are let go at once instead of being held for the whole input;
	// what no check reads of them is dropped while decoding (readOptions). Workloads are kept
	// until the end in compact form (engine.CompactWorkload), their local checks judged as they
	// are read. A profile's namespace selection is made object by object (namespaceFilter).
	//
	// Two things make the files be read and judged again: an object that names as its
	// controller a workload already kept in compact form (then workloads are kept whole), and
	// a Namespace object that decides its namespace otherwise than the objects read before it
	// were decided (then every object is read first and selected whole, selectNamespaces).
	// Standard input, which cannot be read again, keeps workloads whole, and with a profile is
	// read whole first.
	memory := startMemoryBudget()
	defer memory.stop()
	var (
		stream         *engine.Stream
		filter         *namespaceFilter
		objs           []*engine.Object
		inputErrs      []error
		unlisted       int // input errors over maxListedErrors: counted, not kept
		notObjects     notObjectsNote
		skippedKinds   skippedResources // custom resources --skip-kinds leaves unjudged
		read           int
		kustomizations []string
		// declared decides, by the Namespace objects read (the last of each name, as
		// selectNamespaces), whether a custom resource that runs containers
		// (manifest.ContainersError) is in a namespace the profile assesses: only then is it
		// an input error.
		declared  *namespaceFilter
		kindsRead map[string]bool // with custom checks: the kinds of the objects read (unreadKinds)
	)
	loadOpts := readOptions(plan)
	loadOpts.Kustomization = func(path string) { kustomizations = append(kustomizations, path) }
	load := func(mode loadMode) {
		stream, filter, objs, inputErrs, unlisted, notObjects, read, kustomizations = nil, nil, nil, nil, 0, notObjectsNote{}, 0, nil
		declared, skippedKinds = nil, skippedResources{}
		if profile != nil {
			declared = newNamespaceFilter(profile)
		}
		if profile != nil && len(profile.Spec.CustomChecks) > 0 {
			kindsRead = map[string]bool{}
		}
		if mode != readWhole {
			stream = plan.NewStream(exceptions, evOpts, outputStub)
			if mode == streamCompact {
				stream.Compact()
			}
			if profile != nil {
				filter = newNamespaceFilter(profile)
			}
		}
		manifest.LoadEachWith(opts.Paths, stdin, loadOpts, func(got []*engine.Object, errs []error) {
			if opts.namespaceGiven {
				manifest.DeployToNamespace(got, opts.Namespace)
			} else {
				manifest.DefaultNamespace(got, opts.Namespace)
			}
			manifest.AsCreated(got)
			manifest.LabelJobPods(got)
			checks.MarkUnserved(got)
			read += len(got)
			if declared != nil {
				for _, o := range got {
					if ns, ok := namespaceObject(o); ok {
						declared.declare(ns)
					}
				}
			}
			if kindsRead != nil {
				for _, o := range got {
					kindsRead[o.Kind] = true
				}
			}
			for _, e := range errs {
				if skippedKinds.add(opts.skip, e) {
					continue
				}
				if errors.Is(e, manifest.ErrNotAnObject) {
					notObjects.add(e)
					continue
				}
				if len(inputErrs) < maxListedErrors || errors.Is(e, manifest.ErrNoManifests) {
					inputErrs = append(inputErrs, e)
				} else {
					unlisted++
				}
			}
			if stream == nil {
				objs = append(objs, got...)
				return
			}
			if filter != nil && filter.contradicted {
				return // to be read again and selected whole: nothing else matters
			}
			stream.Expect(got)
			for _, o := range got {
				if filter != nil {
					if ns, ok := namespaceObject(o); ok {
						filter.declare(ns)
					}
					if !filter.keep(o) {
						continue
					}
				}
				// Once the workloads must be kept whole, judging the rest is wasted; the
				// namespaces are still decided, so that one more reading is enough.
				if !stream.FullNeeded() {
					stream.Add(o)
				}
			}
		})
	}
	stdinRead := slices.Contains(opts.Paths, "-")
	mode := streamCompact
	switch {
	case profile != nil && (stdinRead || !streamProfiles):
		mode = readWhole
	case stdinRead || !compactWorkloads:
		mode = streamWhole
	}
	load(mode)
	contradicted := func() bool { return filter != nil && filter.contradicted }
	if stream != nil && stream.FullNeeded() && !contradicted() {
		readAgain()
		load(streamWhole)
	}
	if contradicted() {
		readAgain()
		load(readWhole)
	}
	inputErrs = append(kustomizationErrors(kustomizations), inputErrs...)
	// A custom resource's containers in a namespace the profile does not assess are nothing the
	// operator would judge either (a Rollout in an excluded namespace failed every scan).
	unassessed := func(namespace string) bool {
		return declared != nil && namespace != "" && !declared.assesses(namespace)
	}
	inputErrs = slices.DeleteFunc(inputErrs, func(e error) bool {
		var ce *manifest.ContainersError
		return errors.As(e, &ce) && unassessed(ce.Namespace)
	})
	skippedKinds.dropNamespaces(unassessed)
	notObjects.write(stderr)
	skippedKinds.write(stderr)
	noInput := false
	for _, e := range inputErrs {
		if errors.Is(e, manifest.ErrNoManifests) {
			noInput = true
		}
	}
	if read == 0 && len(inputErrs) == 0 {
		// An input error, so that every output names it (it was on standard error only, and
		// JUnit and SARIF read as a run that found nothing wrong); exit 2 all the same.
		inputErrs = append(inputErrs, fmt.Errorf("no Kubernetes objects found in %s: nothing was scanned (check the path)", strings.Join(opts.Paths, ", ")))
		noInput = true
	}
	var ev *engine.Evaluation
	var skipped skippedNamespaces
	if stream != nil {
		ev = stream.Finish()
		stream = nil // its inventory holds every object kept: let them go with the results' stubs
		if filter != nil {
			skipped = filter.skipped
		}
	} else {
		objs, skipped = selectNamespaces(objs, profile)
		ev = plan.Evaluate(engine.NewInventory(objs, false), exceptions, evOpts)
		ev.Release(objs, outputStub) // a stream's results point to outputStubs already
		objs = nil
	}
	if skipped.objects > 0 {
		fmt.Fprintf(stderr, "soc2-operator scan: note: %s in %s the profile does not assess (%s) %s not evaluated\n",
			counted(skipped.objects, "object"), counted(len(skipped.namespaces), "namespace"), strings.Join(skipped.names(5), ", "),
			oneOrMany(skipped.objects, "was", "were"))
	}
	if plan.RequireApproval && len(exceptions) > 0 {
		fmt.Fprintf(stderr, "soc2-operator scan: note: the profile requires approval of exceptions, which cannot be verified offline; "+
			"the %s given %s applied as reviewed in Git (in the cluster, the operator applies an exception only once a second person approves it)\n",
			counted(len(exceptions), "exception"), oneOrMany(len(exceptions), "is", "are"))
	}

	rep := buildReport(ev, read, opts.Show == "all")
	// Writing SARIF or JUnit builds a document as large as the report again; under the limit
	// the collector would run without pause (8 s instead of 6 at 20,000 objects). The summary
	// table, the default, is a few hundred lines and is written under the budget (stopped by
	// the defer): stopped before it, a scan that had run no collection (3,000 objects) started
	// one of all it had allocated (see internal/hugeheap's holdCollector for what that cost).
	if opts.Output != "table" || opts.Details {
		memory.stop()
	}
	rep.details = opts.Details
	rep.width = termtable.Width(stdout)
	rep.evaluatedAt = at
	rep.Tool = Tool{Name: "soc2-operator", Version: version.Get().Version, CatalogVersion: checks.Version}
	unread, unreadNotes := unreadKinds(profile, kindsRead)
	for _, n := range unreadNotes {
		fmt.Fprintf(stderr, "soc2-operator scan: note: %s: %s\n", opts.ProfileFile, n)
	}
	for _, p := range append(slices.Clone(plan.Problems), unread...) {
		msg := opts.ProfileFile + ": " + p.Message
		rep.Problems = append(rep.Problems, msg)
		fmt.Fprintf(stderr, "soc2-operator scan: %s\n", msg)
		configFailed = true
	}
	if skipped.none() {
		// The operator calls such a profile NoNamespacesSelected (NotAssessed); a gate that
		// passed on the cluster-scoped objects alone would pass on workloads it never judged.
		msg := fmt.Sprintf("%s: spec.namespaceSelector: the profile selects none of the %s of the input (%s), so none of its %s was evaluated: "+
			"check the selector's labels and spec.excludedNamespaces, and the labels of the Namespace manifests",
			opts.ProfileFile, counted(len(skipped.namespaces), "namespace"), skipped.list(5), counted(skipped.objects, "namespaced object"))
		rep.Problems = append(rep.Problems, msg)
		fmt.Fprintf(stderr, "soc2-operator scan: %s\n", msg)
		configFailed = true
	}
	for _, e := range rep.Exceptions {
		if e.State == v1alpha1.ExceptionInvalid {
			msg := fmt.Sprintf("%s: exception %s is invalid: %s", sources[e.Name], e.Name, e.Message)
			fmt.Fprintf(stderr, "soc2-operator scan: %s\n", msg)
			exceptionProblems = append(exceptionProblems, msg)
			configFailed = true
		}
	}
	rep.Problems = append(rep.Problems, exceptionProblems...)
	for _, e := range inputErrs {
		rep.Errors = append(rep.Errors, inputError(e))
		fmt.Fprintf(stderr, "soc2-operator scan: %v\n", e)
	}
	if unlisted > 0 {
		fmt.Fprintf(stderr, "soc2-operator scan: %s\n", unlistedErrors(unlisted))
	}
	rep.ErrorsNotListed = unlisted
	rep.Summary.Errors = len(rep.Errors) + unlisted
	rep.Summary.NotObjects = notObjects.n
	rep.Skipped = skippedKinds.listed
	rep.Summary.Skipped = skippedKinds.total()
	rep.SkippedNotListed = rep.Summary.Skipped - len(rep.Skipped)

	if err := write(stdout, opts.Output, rep); err != nil {
		fmt.Fprintf(stderr, "soc2-operator scan: writing output: %v\n", err)
		return ExitUsage
	}

	failed := failedOnObject(rep, opts.FailOn)
	for _, r := range failed[:min(len(failed), maxListedErrors)] {
		fmt.Fprintf(stderr, "soc2-operator scan: %s (%s) on %s: %s; counted as failing for --fail-on %s: the object decided it\n",
			r.Check.ID, r.Check.Severity, r.Object.Ref(), r.Message, opts.FailOn)
	}
	if len(failed) > maxListedErrors {
		fmt.Fprintf(stderr, "soc2-operator scan: %d more results that their objects left undecided are counted as failing for --fail-on %s\n",
			len(failed)-maxListedErrors, opts.FailOn)
	}

	switch {
	case configFailed, noInput:
		return ExitUsage
	case len(inputErrs) > 0:
		return ExitInput
	case failsAt(rep, opts.FailOn) || len(failed) > 0:
		return ExitFindings
	}
	return ExitOK
}

// loadMode is how a scan reads its input: judging objects as it reads them (engine.Stream),
// with workloads kept in compact form or whole, or reading every object first (Evaluate).
type loadMode int

const (
	streamCompact loadMode = iota
	streamWhole
	readWhole
)

// compactWorkloads is whether a scan keeps workloads in compact form until the end of the
// evaluation, and streamProfiles whether it judges objects as it reads them with a profile
// (tests turn them off to compare).
var compactWorkloads, streamProfiles = true, true

// readAgain is called when the input is read again with workloads kept whole (tests count it).
var readAgain = func() {}

// parseInterleaved parses flags that come after positional arguments too, as kubectl does.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func (o *Options) validate() error {
	if len(o.Paths) == 0 {
		return errors.New("no input: give files or directories with -f, or - for standard input")
	}
	if o.Output == "wide" {
		o.Output, o.Details = "table", true
	}
	if !slices.Contains(Formats, o.Output) {
		return fmt.Errorf("-o %s: unknown output format; want one of %s", o.Output, strings.Join(Formats, ", "))
	}
	failOn, ok := failOnLevel(o.FailOn)
	if !ok {
		return fmt.Errorf("--fail-on %s: want Critical, High, Medium, Low or none (in any case)", o.FailOn)
	}
	o.FailOn = failOn
	if o.Show != "findings" && o.Show != "all" {
		return fmt.Errorf("--show %s: want findings or all", o.Show)
	}
	skip, err := parseSkipKinds(o.SkipKinds)
	if err != nil {
		return err
	}
	o.skip = skip
	stdinUses := 0
	for _, p := range append(append([]string{o.ProfileFile}, o.ExceptionFiles...), o.Paths...) {
		if p == "-" {
			stdinUses++
		}
	}
	if stdinUses > 1 {
		return errors.New("standard input (-) can be read only once")
	}
	return nil
}

// failOnLevel is the --fail-on value spelt as the severities are, whatever its case.
func failOnLevel(v string) (string, bool) {
	for _, s := range v1alpha1.Severities {
		if strings.EqualFold(v, string(s)) {
			return string(s), true
		}
	}
	if strings.EqualFold(v, "none") {
		return "none", true
	}
	return "", false
}

func scanUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "Usage: soc2-operator scan [-f] PATH... [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Evaluates Kubernetes manifests (multi-document YAML, JSON, kind: List) against the SOC 2 checks.")
	fmt.Fprintln(w, "Exit codes: 0 ok; 1 failing findings at or above --fail-on; 2 usage or configuration error, or")
	fmt.Fprintln(w, "nothing to scan (a directory with no manifests, no objects at all); 3 some inputs could not be")
	fmt.Fprintln(w, "read, or run containers scan cannot judge (a custom resource's pod template, unless --skip-kinds")
	fmt.Fprintln(w, "names its kind; everything else was scanned).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// failsAt reports whether a failing finding is at or above failOn (the results failedOnObject
// counts as failing are counted by the caller, which names them).
func failsAt(rep *Report, failOn string) bool {
	if failOn == "none" {
		return false
	}
	for _, f := range rep.found {
		if f.r.Status == engine.StatusFail && engine.SeverityAtLeast(f.r.Check.Severity, v1alpha1.Severity(failOn)) {
			return true
		}
	}
	return false
}

// failedOnObject returns the results at or above failOn that the object left undecided
// (engine.Result.FailedOnObject): a custom check's expression was stopped on it, failed on it at
// run time (a field it reads left out) or returned no bool for it, or a check panicked on it.
// NotAssessed in every output, as the
// operator's reports show them, but failing for --fail-on, as the admission webhook refuses them:
// a gate that let such an object through would pass a check by the object's own making. As the
// webhook admits it, one that an Active exception would waive were it a failure is not counted
// (engine.Evaluation.Waived, Report.waived): the same exceptions allow in CI what they allow in
// the cluster, and the outputs show it waived.
func failedOnObject(rep *Report, failOn string) []*engine.Result {
	if failOn == "none" || rep.evaluation == nil {
		return nil
	}
	var out []*engine.Result
	for i := range rep.evaluation.Results {
		r := &rep.evaluation.Results[i]
		if r.FailedOnObject() && engine.SeverityAtLeast(r.Check.Severity, v1alpha1.Severity(failOn)) && rep.waived[r] == nil {
			out = append(out, r)
		}
	}
	return out
}

func inputError(err error) InputError {
	var de *manifest.DecodeError
	if errors.As(err, &de) {
		return InputError{File: de.Source, Document: de.Document, Line: de.Line, Message: de.Err.Error()}
	}
	return InputError{Message: err.Error()}
}

// loadProfile reads exactly one ComplianceProfile from file, or returns nil for no file; one
// the ComplianceProfile CRD refuses (profileRefusedByCRD) is an error.
func loadProfile(file string, stdin io.Reader) (*v1alpha1.ComplianceProfile, error) {
	if file == "" {
		return nil, nil
	}
	objs, errs := manifest.Load([]string{file}, stdin)
	if len(errs) > 0 {
		return nil, fmt.Errorf("--profile: %w", errors.Join(errs...))
	}
	var profiles []*v1alpha1.ComplianceProfile
	for _, o := range objs {
		p, ok := o.Obj.(*v1alpha1.ComplianceProfile)
		if !ok {
			return nil, fmt.Errorf("--profile %s: document %d is a %s, not a ComplianceProfile", file, o.Source.Document, o.Kind)
		}
		// The cluster holds no such profile, or the version before it: judging by it would
		// answer for a profile the operator never applies.
		if refused := profileRefusedByCRD(p); len(refused) > 0 {
			return nil, fmt.Errorf("--profile %s: document %d (line %d): the API server refuses this profile: %w",
				o.Source.File, o.Source.Document, o.Source.Line, refused.ToAggregate())
		}
		profiles = append(profiles, p)
	}
	if len(profiles) != 1 {
		return nil, fmt.Errorf("--profile %s: want exactly one ComplianceProfile, found %d", file, len(profiles))
	}
	return profiles[0], nil
}

// loadExceptions reads ControlExceptions; any other kind in those files is an error, and so is
// an exception the ControlException CRD refuses (refusedByCRD), which is left out. An
// exception without a namespace lands in namespace, as kubectl apply would put it, and a
// creationTimestamp or deletionTimestamp written in the file is dropped, as the API server drops
// them. It also
// returns where each exception was read, by namespace/name, for error messages.
func loadExceptions(files []string, stdin io.Reader, namespace string) ([]*v1alpha1.ControlException, map[string]string, []error) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	objs, errs := manifest.Load(files, stdin)
	manifest.DefaultNamespace(objs, namespace)
	var out []*v1alpha1.ControlException
	sources := map[string]string{}
	for _, o := range objs {
		ex, ok := o.Obj.(*v1alpha1.ControlException)
		if !ok {
			errs = append(errs, fmt.Errorf("--exceptions %s: document %d is a %s, not a ControlException", o.Source.File, o.Source.Document, o.Kind))
			continue
		}
		// The API server sets an exception's creation time; one written in the file proves
		// nothing, and a later one would shorten how long the exception runs
		// (exceptionPolicy.maxDuration). Without it the engine measures from now.
		ex.CreationTimestamp = metav1.Time{}
		// So is a deletion time: the API server drops it on create (WipeObjectMetaSystemFields,
		// k8s.io/apiserver v0.37.2 pkg/registry/rest/meta.go), and an exception being deleted
		// waives nothing.
		ex.DeletionTimestamp, ex.DeletionGracePeriodSeconds = nil, nil
		at := fmt.Sprintf("%s: document %d (line %d)", o.Source.File, o.Source.Document, o.Source.Line)
		// The API server refuses what the CRD refuses: such an exception never exists in the
		// cluster and waives nothing there.
		if refused := refusedByCRD(ex); len(refused) > 0 {
			errs = append(errs, fmt.Errorf("--exceptions %s: exception %s is invalid (the API server refuses it, so it waives nothing): %w",
				at, engine.ExceptionKey(ex.Namespace, ex.Name), refused.ToAggregate()))
			continue
		}
		out = append(out, ex)
		sources[engine.ExceptionKey(ex.Namespace, ex.Name)] = at
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), "--exceptions") {
			errs[i] = fmt.Errorf("--exceptions: %w", e)
		}
	}
	return out, sources, errs
}

// unreadKinds are the kinds of the profile's custom checks that name no object read and no kind
// the operator reads or Kubernetes serves, so that the check judged nothing. One that is a
// known kind but for its case or a plural (kinds: [Deployments], [deployment]) is a mistake the
// operator refuses too (InvalidCustomCheck): a problem, with the kind meant. Any other is a
// custom resource's kind, which the cluster may serve and the files scanned hold none of (a
// check of cert-manager's Certificate over a directory without one): a note.
func unreadKinds(profile *v1alpha1.ComplianceProfile, kindsRead map[string]bool) (problems []engine.Problem, notes []string) {
	if profile == nil {
		return nil, nil
	}
	for i, cc := range profile.Spec.CustomChecks {
		for j, k := range cc.Kinds {
			if k == engine.KindWorkload || kindsRead[k] || manifest.KnownKind(k) {
				continue
			}
			field := fmt.Sprintf("spec.customChecks[%d].kinds[%d]", i, j)
			msg := fmt.Sprintf("%s: no object read is a %s, and Kubernetes serves no such kind: custom check %q judged nothing", field, k, cc.ID)
			if guess := kindMeant(k, kindsRead); guess != "" {
				problems = append(problems, engine.Problem{Reason: v1alpha1.ReasonInvalidCustomCheck, Field: field,
					Message: msg + "; did you mean " + guess + "?"})
				continue
			}
			notes = append(notes, fmt.Sprintf("%s: no object read is a %s: custom check %q judged nothing", field, k, cc.ID))
		}
	}
	return problems, notes
}

// kindMeant is the kind Kubernetes serves, or of an object read, that k spells as a plural or
// in another case; "" when none.
func kindMeant(k string, kindsRead map[string]bool) string {
	known := func(kind string) bool { return manifest.KnownKind(kind) || kindsRead[kind] }
	for _, guess := range []string{strings.TrimSuffix(k, "s"), strings.TrimSuffix(k, "es")} {
		if guess != k && known(guess) {
			return guess
		}
	}
	for kind := range kindsRead {
		if strings.EqualFold(kind, k) {
			return kind
		}
	}
	if kind, ok := manifest.KnownKindFold(k); ok {
		return kind
	}
	return ""
}

// manifestWithheld are the fields of the objects scan reads that their files do not decide,
// which a custom check whose result depends on them is NotAssessed on, naming the field, rather
// than judged on what a file says: an object's status, which the API server ignores in what is
// applied (each kind's PrepareForCreate resets it, a status subresource keeps it from updates,
// k8s.io/kubernetes v1.37.2 pkg/registry) and the cluster's controllers and kubelets write. A
// file's status is whatever its author wrote: a Deployment claiming availableReplicas: 2 passed
// a check of its availability. The operator judges the status the cluster has. So are the
// metadata the API server assigns: uid, resourceVersion, generation and creationTimestamp
// (rest.BeforeCreate and each kind's PrepareForCreate, k8s.io/apiserver v0.37.2
// pkg/registry/rest/create.go, set them on create; an update keeps the stored ones, and a
// resourceVersion applied is a precondition): until December 2026 a custom check that grandfathered
// objects created before a date passed a Deployment whose file backdated its creationTimestamp.
var manifestWithheld = []engine.WithheldField{
	{Path: []string{"status"}, Why: "a file does not decide (the API server ignores the status in what is applied; the operator judges the cluster's)"},
	{Path: []string{"metadata", "uid"}, Why: serverAssigned},
	{Path: []string{"metadata", "resourceVersion"}, Why: serverAssigned},
	{Path: []string{"metadata", "generation"}, Why: serverAssigned},
	{Path: []string{"metadata", "creationTimestamp"}, Why: serverAssigned},
}

// serverAssigned is why a scan withholds the metadata the API server assigns.
const serverAssigned = "a file does not decide (the API server assigns it; the operator judges the cluster's)"
