package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

type statusOptions struct {
	allNamespaces bool
	output        string
	profile       string
}

func statusCommand() *command {
	return &command{
		name:    "status",
		args:    "[-n NAMESPACE | -A] [-o table|wide|json|yaml] [--profile NAME]",
		summary: "Show each namespace's SOC 2 criteria, from its ComplianceReports",
		long: `One line per report (a namespace has one per ComplianceProfile that selects it; the
PROFILE column shows when there are several profiles, or with -o wide): its result (* when the report is stale or not Ready, with why under the table), score, failing findings by
severity (C/H/M/L), excepted findings, when it was evaluated, and its criteria: those that
fail, are excepted or are not assessed by ID, then how many pass (cut to the terminal's
width; a stale report's criteria are unknown, its last evaluation's shown after). For one namespace (the default: the context's, or -n) it then lists every criterion;
-o wide does both for every report, uncut. -o json|yaml prints the ComplianceReport objects.

Examples:
  PROG status -A
  PROG status -n payments
  PROG status -A -o yaml`,
		kube: true,
		flags: func(fs *pflag.FlagSet) any {
			o := &statusOptions{}
			fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Every namespace's reports")
			fs.StringVarP(&o.output, "output", "o", "table", "Output format: table, wide, json or yaml")
			fs.StringVar(&o.profile, "profile", "", "Only the reports of this ComplianceProfile")
			return o
		},
		run: runStatus,
	}
}

func runStatus(ctx context.Context, e *Env, k *kube, opts any, args []string) error {
	o := opts.(*statusOptions)
	if len(args) > 0 {
		return usagef("unexpected argument %q (the namespace is given with -n)", args[0])
	}
	if err := outputFormat(o.output, "table", "wide", "json", "yaml"); err != nil {
		return err
	}
	if o.allNamespaces && k.namespaceSet() {
		return usagef("-A and -n both given: choose one")
	}
	ns := ""
	if !o.allNamespaces {
		var err error
		if ns, err = k.namespace(); err != nil {
			return err
		}
	}
	c, err := k.client()
	if err != nil {
		return err
	}
	reports, err := listReports(ctx, c, ns, o.profile)
	if err != nil {
		return err
	}
	if o.output == "json" || o.output == "yaml" {
		return printObject(e.Stdout, o.output, list(reports))
	}
	if len(reports) == 0 {
		fmt.Fprintln(e.Stderr, noReports(ctx, c, ns, o.profile))
		return nil
	}
	width := termtable.Width(e.Stdout)
	if o.output == "wide" {
		width = 0
	}
	if err := statusTable(e.Stdout, e, reports, width); err != nil {
		return err
	}
	if o.output == "wide" || !o.allNamespaces {
		for i := range reports {
			fmt.Fprintln(e.Stdout)
			if err := criteriaTable(e.Stdout, &reports[i], width); err != nil {
				return err
			}
		}
	}
	return nil
}

// listReports lists the reports of namespace ns ("" for all), of one profile when profile is
// set, sorted by namespace and profile, with apiVersion and kind set (for -o json).
func listReports(ctx context.Context, c client.Client, ns, profile string) ([]v1alpha1.ComplianceReport, error) {
	var l v1alpha1.ComplianceReportList
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, &l, opts...); err != nil {
		return nil, listError(err, "compliancereports", ns)
	}
	var out []v1alpha1.ComplianceReport
	for _, r := range l.Items {
		if profile != "" && r.Spec.Profile != profile && r.Name != profile {
			continue
		}
		r.APIVersion, r.Kind = v1alpha1.GroupVersion.String(), "ComplianceReport"
		r.ManagedFields = nil
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// listError explains a failed list of the operator's kinds.
func listError(err error, resource, ns string) error {
	where := "in any namespace"
	if ns != "" {
		where = "in namespace " + ns
	}
	switch {
	case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
		return fmt.Errorf("this cluster has no %s.%s: the soc2-operator's CRDs are not installed (is the operator installed? see its README, Install)", resource, v1alpha1.GroupVersion.Group)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("you may not list %s %s (a binding to the compliance-viewer-role grants it): %w", resource, where, err)
	}
	return fmt.Errorf("listing %s %s: %w", resource, where, err)
}

// noReports says why a namespace (or the cluster, ns "") has no report, as far as the user
// may see: no profile, a profile that does not select it, or an operator that is not running.
func noReports(ctx context.Context, c client.Client, ns, profile string) string {
	where := "No ComplianceReports in namespace " + ns
	if ns == "" {
		where = "No ComplianceReports in any namespace"
	}
	if profile != "" {
		where += " for profile " + profile
	}
	var profiles v1alpha1.ComplianceProfileList
	if err := c.List(ctx, &profiles); err != nil {
		return where + ". A report appears once a ComplianceProfile selects the namespace and the operator has evaluated it; ask your platform team which profiles exist (you may not list complianceprofiles: " + shortError(err) + ")."
	}
	if len(profiles.Items) == 0 {
		return where + ": no ComplianceProfile exists, and the operator reports only on the namespaces a profile selects. Create one (for example config/samples/compliance_v1alpha1_complianceprofile_baseline.yaml in the soc2-operator repository)."
	}
	var names, unevaluated []string
	for _, p := range profiles.Items {
		names = append(names, p.Name)
		if len(p.Status.Conditions) == 0 {
			unevaluated = append(unevaluated, p.Name)
		}
	}
	if profile != "" && !slices.Contains(names, profile) {
		return fmt.Sprintf("%s: there is no ComplianceProfile %s (profiles: %s).", where, profile, strings.Join(names, ", "))
	}
	if len(unevaluated) == len(names) {
		return fmt.Sprintf("%s: the ComplianceProfiles (%s) have no status, so the operator has not evaluated them: is the soc2-operator running? (kubectl get pods -n soc2-operator-system)", where, strings.Join(names, ", "))
	}
	msg := fmt.Sprintf("%s. The ComplianceProfiles (%s) do not select it: it does not match their spec.namespaceSelector, is in spec.excludedNamespaces, or is a system namespace (kube-system, kube-public, kube-node-lease) without spec.includeSystemNamespaces.", where, strings.Join(names, ", "))
	if ns == "" {
		msg = fmt.Sprintf("%s. The ComplianceProfiles (%s) select no namespace yet, or the operator has not written its reports.", where, strings.Join(names, ", "))
	}
	if len(unevaluated) > 0 {
		msg += fmt.Sprintf(" Not yet evaluated by the operator: %s.", strings.Join(unevaluated, ", "))
	}
	return msg
}

func shortError(err error) string {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Message
	}
	return err.Error()
}

func statusTable(w io.Writer, e *Env, reports []v1alpha1.ComplianceReport, width int) error {
	// The profile is a column when the reports are of several profiles (or -o wide); with one,
	// its width goes to the criteria.
	profiles := map[string]bool{}
	for _, r := range reports {
		profiles[r.Spec.Profile] = true
	}
	showProfile := len(profiles) > 1 || width == 0
	header := []string{"NAMESPACE", "PROFILE", "RESULT", "SCORE", "FINDINGS", "EXCEPTED", "EVALUATED", "CRITERIA"}
	if !showProfile {
		header = slices.Delete(header, 1, 2)
	}
	t := &termtable.Table{Header: header, Flex: len(header) - 1, MinColumn: 6}
	var notes []string
	for _, r := range reports {
		s := r.Status
		score := "-"
		if s.Score != nil {
			score = fmt.Sprint(*s.Score)
		}
		result := string(s.Result)
		if result == "" {
			result = "Pending"
		}
		// Marked, and why said under the table: a stale report's result is its last
		// evaluation's, and one not Ready rests on part of what its checks read.
		stale, notReady := staleCondition(r), notReadyCondition(r)
		if stale != nil || notReady != nil {
			result += "*"
		}
		if stale != nil {
			notes = append(notes, fmt.Sprintf("* %s/%s is stale (%s): %s", r.Namespace, r.Name, stale.Reason, termtable.Escape(stale.Message)))
		}
		if notReady != nil {
			notes = append(notes, fmt.Sprintf("* %s/%s is not Ready (%s): %s", r.Namespace, r.Name, notReady.Reason, termtable.Escape(notReady.Message)))
		}
		var evaluated = "<never>"
		if s.LastEvaluated != nil {
			t := s.LastEvaluated.Time
			evaluated = age(e.Now(), &t)
		}
		criteria := criteriaCell(s.Criteria)
		if stale != nil && len(s.Criteria) > 0 {
			// What matters first, should the terminal cut the cell: none of them is current.
			criteria = "unknown (stale); at the last evaluation: " + criteria
		}
		row := []string{r.Namespace, r.Spec.Profile, result, score, findingCounts(s.Summary), fmt.Sprint(s.Summary.Excepted), evaluated, criteria}
		if !showProfile {
			row = slices.Delete(row, 1, 2)
		}
		t.Add(row...)
	}
	if err := t.Write(w, width); err != nil {
		return err
	}
	for _, l := range notes {
		fmt.Fprintln(w, l)
	}
	return nil
}

// criteriaCell is each criterion's state, compactly: the failing, excepted and not assessed
// criteria by ID, then how many pass and which of those rest on some of their checks or
// resources only ("9
// fail: CC6.1 CC6.3 ...; 2 pass (1 partly assessed: CC7.1)"), so that what matters survives when
// the terminal cuts the cell.
func criteriaCell(cs []v1alpha1.CriterionStatus) string {
	ids := map[v1alpha1.CriterionState][]string{}
	var partly []string // the passes some of whose checks assessed nothing: they rest on the others only
	for _, c := range cs {
		ids[c.Status] = append(ids[c.Status], string(c.ID))
		if c.Status == v1alpha1.CriterionPass && (c.UnassessedChecks > 0 || c.NotAssessed > 0) {
			partly = append(partly, string(c.ID))
		}
	}
	var parts []string
	for _, st := range []struct {
		s    v1alpha1.CriterionState
		name string
	}{{v1alpha1.CriterionFail, "fail"}, {v1alpha1.CriterionExcepted, "excepted"}, {v1alpha1.CriterionNotAssessed, "not assessed"}} {
		if n := len(ids[st.s]); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s: %s", n, st.name, strings.Join(ids[st.s], " ")))
		}
	}
	if n := len(ids[v1alpha1.CriterionPass]); n > 0 {
		p := fmt.Sprintf("%d pass", n)
		if len(partly) > 0 {
			p += fmt.Sprintf(" (%d partly assessed: %s)", len(partly), strings.Join(partly, " "))
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

// findingCounts is "34 (C2 H10 M20 L2)": failing findings, by severity.
func findingCounts(s v1alpha1.ReportSummary) string {
	if s.Failing == 0 {
		return "0"
	}
	var parts []string
	for _, c := range []struct {
		n int32
		l string
	}{{s.Critical, "C"}, {s.High, "H"}, {s.Medium, "M"}, {s.Low, "L"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%s%d", c.l, c.n))
		}
	}
	return fmt.Sprintf("%d (%s)", s.Failing, strings.Join(parts, " "))
}

// criteriaTable lists every criterion of one report. Those of a stale report are Unknown, as
// soc2_operator_criterion_status says: they are its last evaluation's, shown beside it.
func criteriaTable(w io.Writer, r *v1alpha1.ComplianceReport, width int) error {
	fmt.Fprintf(w, "Criteria of %s/%s (profile %s):\n", r.Namespace, r.Name, r.Spec.Profile)
	// UNREAD: the criterion's results on resources larger than the operator reads, which it
	// fails closed on (CriterionStatus.Unread): a Fail with FAILED 0 says why. The column is
	// shown when some criterion of the report has such results, so that the common table
	// keeps its width for the titles.
	unread := slices.ContainsFunc(r.Status.Criteria, func(c v1alpha1.CriterionStatus) bool { return c.Unread > 0 })
	header := []string{"CRITERION", "STATUS", "CHECKS", "UNASSESSED", "FAILED", "EXCEPTED", "UNDECIDED", "TITLE"}
	if unread {
		header = slices.Insert(header, 5, "UNREAD")
	}
	t := &termtable.Table{Header: header, Flex: len(header) - 1, MinColumn: 6}
	stale := staleCondition(*r) != nil
	for _, c := range r.Status.Criteria {
		status := string(c.Status)
		if stale {
			status = "Unknown (" + status + " at the last evaluation)"
		}
		row := []string{string(c.ID), status, fmt.Sprint(c.Checks), fmt.Sprint(c.UnassessedChecks), fmt.Sprint(c.Failed), fmt.Sprint(c.Excepted), fmt.Sprint(c.NotAssessed), c.Title}
		if unread {
			row = slices.Insert(row, 5, fmt.Sprint(c.Unread))
		}
		t.Add(row...)
	}
	if len(r.Status.Criteria) == 0 {
		fmt.Fprintln(w, "  (none yet: the operator has not evaluated this namespace)")
		return nil
	}
	return t.Write(w, width)
}

// staleCondition is the report's Stale condition when it is True: the namespace has not been
// evaluated for two of its profile's intervals, so what the report says may no longer hold.
func staleCondition(r v1alpha1.ComplianceReport) *metav1.Condition {
	if c := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionStale); c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	return nil
}

// notReadyCondition is the report's Ready condition when it is False: the namespace was
// evaluated without some of what its checks read (KindsUnreadable), so what those decide is
// NotAssessed and the result rests on the rest.
func notReadyCondition(r v1alpha1.ComplianceReport) *metav1.Condition {
	if c := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionFalse {
		return c
	}
	return nil
}
