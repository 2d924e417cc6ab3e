package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

type findingsOptions struct {
	criterion, severity, check, profile, output string
	failingOnly                                 bool
}

func findingsCommand() *command {
	return &command{
		name:    "findings",
		args:    "[NAMESPACE] [--criterion ID] [--severity LEVEL] [--check ID] [-o table|wide|json|yaml]",
		summary: "List a namespace's findings, from its ComplianceReports",
		long: `The failing and excepted findings a namespace's reports list, most severe first: severity,
check, resource, container, result and when it was first seen, with the message (and the
exception that covers an excepted finding) wrapped under each; -o wide prints one line per
finding with the exception and the message as columns. The namespace is the
argument, else -n, else the context's. A report lists the most severe findings only (the
profile's maxFindings, 50 by default): a line under the table says when there are more, and
when a report is stale (its findings are then those of its last evaluation).
-o json|yaml prints the findings as the report holds them, each with its namespace and profile.
'PROG explain CHECK' says what a check means and how to fix it.

Examples:
  PROG findings legacy
  PROG findings legacy --criterion CC6.1 --severity High
  PROG findings -n legacy --check wl-privileged -o json`,
		kube: true,
		flags: func(fs *pflag.FlagSet) any {
			o := &findingsOptions{}
			fs.StringVar(&o.criterion, "criterion", "", "Only findings of checks supporting this SOC 2 criterion (e.g. CC6.1)")
			fs.StringVar(&o.severity, "severity", "", "Only findings at or above this severity: Critical, High, Medium or Low")
			fs.StringVar(&o.check, "check", "", "Only findings of this check")
			fs.StringVar(&o.profile, "profile", "", "Only the report of this ComplianceProfile")
			fs.BoolVar(&o.failingOnly, "failing", false, "Only failing findings (leave out excepted ones)")
			fs.StringVarP(&o.output, "output", "o", "table", "Output format: table, wide, json or yaml")
			return o
		},
		run: runFindings,
	}
}

// FindingItem is one finding of a report, with the report's namespace and profile (-o json).
type FindingItem struct {
	Namespace string `json:"namespace"`
	Profile   string `json:"profile"`
	v1alpha1.Finding
}

// ReportItem is a report whose findings `findings -o json|yaml` prints: how many it lists of how
// many it counts (failing and excepted; the filters apply to those listed), and whether what it
// says is current (not Stale) and rests on everything its checks read (Ready).
type ReportItem struct {
	Namespace         string                   `json:"namespace"`
	Name              string                   `json:"name"`
	Profile           string                   `json:"profile"`
	Result            v1alpha1.ComplianceState `json:"result"`
	ListedFindings    int                      `json:"listedFindings"`
	TotalFindings     int32                    `json:"totalFindings"`
	FindingsTruncated bool                     `json:"findingsTruncated"`
	Stale             bool                     `json:"stale"`
	Ready             bool                     `json:"ready"`
}

var severities = []v1alpha1.Severity{v1alpha1.SeverityCritical, v1alpha1.SeverityHigh, v1alpha1.SeverityMedium, v1alpha1.SeverityLow}

func parseSeverity(s string) (int, error) {
	for i, sev := range severities {
		if strings.EqualFold(s, string(sev)) {
			return i, nil
		}
	}
	return 0, usagef("--severity %s: want Critical, High, Medium or Low", s)
}

func parseCriterion(s string) (v1alpha1.Criterion, error) {
	var ids []string
	for _, c := range engine.Criteria {
		if strings.EqualFold(s, string(c.ID)) {
			return c.ID, nil
		}
		ids = append(ids, string(c.ID))
	}
	return "", usagef("--criterion %s: not a SOC 2 criterion the operator knows (%s)", s, strings.Join(ids, ", "))
}

func runFindings(ctx context.Context, e *Env, k *kube, opts any, args []string) error {
	o := opts.(*findingsOptions)
	if err := outputFormat(o.output, "table", "wide", "json", "yaml"); err != nil {
		return err
	}
	if len(args) > 1 {
		return usagef("one namespace at a time: got %s", strings.Join(args, " "))
	}
	ns := ""
	switch {
	case len(args) == 1 && k.namespaceSet() && args[0] != k.overrides.Context.Namespace:
		return usagef("namespace %s and -n %s both given", args[0], k.overrides.Context.Namespace)
	case len(args) == 1:
		ns = args[0]
	default:
		var err error
		if ns, err = k.namespace(); err != nil {
			return err
		}
	}
	minSeverity := len(severities) - 1
	if o.severity != "" {
		var err error
		if minSeverity, err = parseSeverity(o.severity); err != nil {
			return err
		}
	}
	var criterion v1alpha1.Criterion
	if o.criterion != "" {
		var err error
		if criterion, err = parseCriterion(o.criterion); err != nil {
			return err
		}
	}
	if o.check != "" && catalogueCheck(o.check) == nil {
		fmt.Fprintf(e.Stderr, "warning: %q is not a built-in check%s (a profile's custom check is listed as it is named)\n", o.check, didYouMean(o.check))
	}
	c, err := k.client()
	if err != nil {
		return err
	}
	reports, err := listReports(ctx, c, ns, o.profile)
	if err != nil {
		return err
	}
	if len(reports) == 0 {
		return errors.New(noReports(ctx, c, ns, o.profile))
	}
	return printFindings(e, ns, reports, o, criterion, minSeverity)
}

// printFindings prints the findings of a namespace's reports that pass the filters, and notes
// under them the reports that list only some of their findings or are stale.
func printFindings(e *Env, ns string, reports []v1alpha1.ComplianceReport, o *findingsOptions, criterion v1alpha1.Criterion, minSeverity int) error {
	var items []FindingItem
	var truncated []string
	for _, r := range reports {
		for _, f := range r.Status.Findings {
			if criterion != "" && !slices.Contains(f.Criteria, criterion) {
				continue
			}
			if o.check != "" && f.Check != o.check {
				continue
			}
			if i := slices.Index(severities, f.Severity); i > minSeverity {
				continue
			}
			if o.failingOnly && f.Result != v1alpha1.ResultFail {
				continue
			}
			items = append(items, FindingItem{Namespace: r.Namespace, Profile: r.Spec.Profile, Finding: f})
		}
		if r.Status.FindingsTruncated {
			truncated = append(truncated, fmt.Sprintf("report %s/%s lists %d of its %d findings, the most severe (the profile's spec.maxFindings and the report's size budget); the filters apply to those",
				r.Namespace, r.Name, len(r.Status.Findings), r.Status.TotalFindings))
		}
	}
	if o.output == "json" || o.output == "yaml" {
		if items == nil {
			items = []FindingItem{}
		}
		// Each report with what it lists and counts, and whether it is current: the findings
		// alone read as every finding there is (the notes below go to standard error too).
		listed := make([]ReportItem, 0, len(reports))
		for _, r := range reports {
			listed = append(listed, ReportItem{Namespace: r.Namespace, Name: r.Name, Profile: r.Spec.Profile, Result: r.Status.Result,
				ListedFindings: len(r.Status.Findings), TotalFindings: r.Status.TotalFindings, FindingsTruncated: r.Status.FindingsTruncated,
				Stale: staleCondition(r) != nil, Ready: notReadyCondition(r) == nil})
		}
		if err := printObject(e.Stdout, o.output, map[string]any{"findings": items, "reports": listed}); err != nil {
			return err
		}
	} else if len(items) == 0 {
		var filters []string
		for _, f := range []struct{ flag, v string }{{"--criterion", o.criterion}, {"--severity", o.severity}, {"--check", o.check}} {
			if f.v != "" {
				filters = append(filters, f.flag+" "+f.v)
			}
		}
		if o.failingOnly {
			filters = append(filters, "--failing")
		}
		what := "No findings in namespace " + ns
		if len(filters) > 0 {
			what += " matching " + strings.Join(filters, " ")
		}
		fmt.Fprintf(e.Stderr, "%s (%s).\n", what, reportSummary(reports))
	} else {
		multi := len(reports) > 1
		wide := o.output == "wide"
		header := []string{"SEVERITY", "CHECK", "RESOURCE", "CONTAINER", "RESULT", "FIRST SEEN"}
		if wide {
			header = append(header, "EXCEPTION", "MESSAGE")
		}
		if multi {
			header = append([]string{"PROFILE"}, header...)
		}
		// The resource gives way first; the message goes under each finding, wrapped, or with
		// -o wide on its line, whole.
		t := &termtable.Table{Header: header, Flex: slices.Index(header, "RESOURCE"), MinColumn: 6}
		for _, it := range items {
			container := it.Container
			if container == "" {
				container = "-"
			}
			seen := "<unknown>"
			if it.FirstSeen != nil {
				ts := it.FirstSeen.Time
				seen = age(e.Now(), &ts)
			}
			row := []string{string(it.Severity), it.Check, engine.IdentityKind(it.Resource.APIVersion, it.Resource.Kind) + "/" + it.Resource.Name, container, string(it.Result), seen}
			if multi {
				row = append([]string{it.Profile}, row...)
			}
			if wide {
				exc := it.Exception
				if exc == "" {
					exc = "-"
				}
				t.Add(append(row, exc, it.Message)...)
				continue
			}
			note := it.Message
			if it.Exception != "" {
				note = "excepted by " + it.Exception + ": " + note
			}
			t.AddNoted([]string{note}, row...)
		}
		width := termtable.Width(e.Stdout)
		if wide {
			width = 0
		}
		if err := t.Write(e.Stdout, width); err != nil {
			return err
		}
	}
	for _, l := range truncated {
		fmt.Fprintln(e.Stderr, "note:", l)
	}
	for _, r := range reports {
		if c := staleCondition(r); c != nil {
			evaluated := "never"
			if r.Status.LastEvaluated != nil {
				t := r.Status.LastEvaluated.Time
				evaluated = age(e.Now(), &t) + " ago"
			}
			fmt.Fprintf(e.Stderr, "note: report %s/%s is stale (%s): %s; its findings are those of its last evaluation (%s), not necessarily the namespace's now\n",
				r.Namespace, r.Name, c.Reason, termtable.Escape(c.Message), evaluated)
		}
		if c := notReadyCondition(r); c != nil {
			fmt.Fprintf(e.Stderr, "note: report %s/%s is not Ready (%s): %s; what it could not read is NotAssessed, not among its findings\n",
				r.Namespace, r.Name, c.Reason, termtable.Escape(c.Message))
		}
	}
	return nil
}

// reportSummary is "report soc2-baseline: Compliant, 0 failing, 1 excepted".
func reportSummary(reports []v1alpha1.ComplianceReport) string {
	var parts []string
	for _, r := range reports {
		result := string(r.Status.Result)
		if result == "" {
			result = "not evaluated yet"
		}
		if staleCondition(r) != nil {
			result += " (stale)"
		}
		if notReadyCondition(r) != nil {
			result += " (not Ready)"
		}
		parts = append(parts, fmt.Sprintf("report %s: %s, %d failing, %d excepted", r.Name, result, r.Status.Summary.Failing, r.Status.Summary.Excepted))
	}
	return strings.Join(parts, "; ")
}
