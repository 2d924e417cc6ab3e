package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

type explainOptions struct{ output string }

func explainCommand() *command {
	return &command{
		name:    "explain",
		args:    "CHECK|CRITERION [-o text|json|yaml]",
		summary: "Explain a check of the catalogue: what it checks, why, how to fix it",
		long: `Prints a built-in check's title, default severity, the SOC 2 criteria it supports, the Pod
Security Standards controls it reports, what it reads, what it establishes and how to fix a
failure, from the catalogue compiled into the plugin (the same as 'soc2-operator checks' and
docs/checks.md). Given a criterion (CC6.1), it lists the checks that support it. An unknown
name exits 1 and suggests the closest IDs. A profile's severity overrides and custom checks
are in the ComplianceProfile (kubectl get complianceprofile NAME -o yaml).

Examples:
  PROG explain wl-privileged
  PROG explain CC6.1
  PROG explain wl-privileged -o json`,
		flags: func(fs *pflag.FlagSet) any {
			o := &explainOptions{}
			fs.StringVarP(&o.output, "output", "o", "text", "Output format: text, json or yaml")
			return o
		},
		kube:    true,
		offline: true,
		run:     runExplain,
	}
}

func catalogueCheck(id string) *engine.Check {
	for _, c := range checks.Catalogue() {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func runExplain(_ context.Context, e *Env, _ *kube, opts any, args []string) error {
	o := opts.(*explainOptions)
	if err := outputFormat(o.output, "text", "json", "yaml"); err != nil {
		return err
	}
	if len(args) != 1 {
		return usagef("want one check ID or criterion, e.g. %s explain wl-privileged", e.Prog)
	}
	name := args[0]
	for _, ci := range engine.Criteria {
		if strings.EqualFold(name, string(ci.ID)) {
			return explainCriterion(e.Stdout, ci, o.output)
		}
	}
	c := catalogueCheck(strings.ToLower(name))
	if c == nil {
		return fmt.Errorf("unknown check %q%s ('%s explain CC6.1' lists a criterion's checks; 'soc2-operator checks' lists every check)", name, didYouMean(name), e.Prog)
	}
	x := checks.Explanation(c)
	if o.output != "text" {
		return printObject(e.Stdout, o.output, x)
	}
	w := e.Stdout
	fmt.Fprintf(w, "%s: %s\n\n", c.ID, c.Title)
	fmt.Fprintf(w, "Severity:  %s (default; a profile may re-rank it)\n", c.Severity)
	fmt.Fprintln(w, "Criteria:")
	for _, id := range c.Criteria {
		fmt.Fprintf(w, "  %-6s %s\n", id, criterionTitle(id))
	}
	if len(x.PodSecurityControls) > 0 {
		fmt.Fprintf(w, "Pod Security Standards control: %s, decided by k8s.io/pod-security-admission %s\n", strings.Join(x.PodSecurityControls, ", "), checks.PodSecurityLibraryVersion)
	}
	fmt.Fprintf(w, "Reads:     %s\n", reads(c))
	fmt.Fprintln(w, "\nWhat it checks, and why:")
	paragraph(w, c.Description)
	fmt.Fprintln(w, "\nHow to fix a failure:")
	paragraph(w, c.Remediation)
	fmt.Fprintf(w, "\nWaive it for a resource, with a reason and an expiry, reviewed by a second person:\n  kubectl soc2 request-exception NAME -n NAMESPACE --check %s --kind KIND --name RESOURCE --reason ... --owner ... --expires 30d\n", c.ID)
	return nil
}

func explainCriterion(w io.Writer, ci engine.CriterionInfo, output string) error {
	var ids []string
	var rows [][]string
	for _, c := range checks.Catalogue() {
		if slices.Contains(c.Criteria, ci.ID) {
			ids = append(ids, c.ID)
			rows = append(rows, []string{c.ID, string(c.Severity), c.Title})
		}
	}
	if output != "text" {
		return printObject(w, output, map[string]any{"criterion": ci.ID, "title": ci.Title, "checks": ids, "catalogVersion": checks.Version})
	}
	fmt.Fprintf(w, "%s: %s\n\n", ci.ID, ci.Title)
	if len(rows) == 0 {
		fmt.Fprintln(w, "No built-in check supports this criterion: a report shows it NotAssessed unless a profile's custom check does.")
		return nil
	}
	fmt.Fprintf(w, "%d built-in checks support it:\n", len(rows))
	t := &termtable.Table{Header: []string{"CHECK", "SEVERITY", "TITLE"}, Flex: 2, MinColumn: 6}
	for _, r := range rows {
		t.Add(r...)
	}
	return t.Write(w, termtable.DefaultWidth)
}

func criterionTitle(id v1alpha1.Criterion) string {
	for _, ci := range engine.Criteria {
		if ci.ID == id {
			return ci.Title
		}
	}
	return ""
}

// reads says what a check reads, as docs/checks.md does.
func reads(c *engine.Check) string {
	s := c.ReadsSummary()
	if c.Requires != "" {
		s += " (without it: NotAssessed)"
	}
	if c.ManifestOnly {
		s += " (manifests only: soc2-operator scan)"
	}
	return s
}

func paragraph(w io.Writer, s string) {
	for _, para := range strings.Split(strings.TrimSpace(s), "\n") {
		for _, l := range termtable.Wrap(para, 96) {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

// didYouMean is `; did you mean "a" or "b"?` for up to three catalogue IDs close to id (by edit
// distance, or sharing a prefix or containing it), or "".
func didYouMean(id string) string {
	id = strings.ToLower(id)
	type cand struct {
		id string
		d  int
	}
	var cands []cand
	for _, c := range checks.Catalogue() {
		d := engine.EditDistance(id, c.ID)
		if d <= max(2, len(id)/3) || (len(id) >= 4 && strings.Contains(c.ID, id)) {
			cands = append(cands, cand{c.ID, d})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	if cands[0].d == 0 {
		// The ID in other case: that one, not the IDs it is part of (wl-hostpath-pv).
		cands = cands[:1]
	}
	var names []string
	for i, c := range cands {
		if i == 3 {
			break
		}
		names = append(names, fmt.Sprintf("%q", c.id))
	}
	if len(names) == 1 {
		return "; did you mean " + names[0] + "?"
	}
	return "; did you mean " + strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + "?"
}
