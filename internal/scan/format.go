package scan

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

func write(w io.Writer, format string, rep *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "yaml":
		out, err := yaml.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	case "junit":
		return writeJUnit(w, rep)
	case "sarif":
		return writeSARIF(w, rep)
	case "policyreport":
		return writePolicyReports(w, rep)
	default:
		return writeTable(w, rep)
	}
}

// writePolicyReports prints a PolicyReport (namespaced resources) or ClusterPolicyReport
// (cluster-scoped ones) per resource scanned, with every result but NotApplicable ones, as
// multi-document YAML in a stable order: what the operator would write, for Policy Reporter or
// kubectl apply. Results on no resource (cluster checks) are in no report.
func writePolicyReports(w io.Writer, rep *Report) error {
	if rep.evaluation == nil {
		return nil
	}
	reports := policyreport.Build(rep.evaluation, policyreport.Options{Profile: rep.Profile, Now: rep.evaluatedAt})
	for _, r := range reports {
		out, err := yaml.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", out); err != nil {
			return err
		}
	}
	return nil
}

// writeTable prints the findings, the criteria and a summary for people.
func writeTable(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(tw, "No failing or excepted findings.")
	} else {
		fmt.Fprintln(tw, "SEVERITY\tCHECK\tRESOURCE\tCONTAINER\tMESSAGE\tLOCATION")
		for _, f := range rep.Findings {
			sev := string(f.Severity)
			msg := f.Message
			if f.Result == v1alpha1.ResultExcepted {
				sev += " (excepted)"
				msg += " [excepted by " + f.Exception + "]"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sev, f.Check, resourceName(f.Resource), dash(f.Container), oneLine(msg), location(f.Source))
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CRITERION\tSTATUS\tCHECKS\tFAILED\tEXCEPTED\tTITLE")
	for _, c := range rep.Criteria {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", c.ID, c.Status, c.Checks, c.Failed, c.Excepted, c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Exceptions) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EXCEPTION\tSTATE\tFINDINGS\tMESSAGE")
		for _, e := range rep.Exceptions {
			state := string(e.State)
			if e.State == v1alpha1.ExceptionActive && e.Findings == 0 {
				state += " (unused)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", e.Name, state, e.Findings, e.Message)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	s := rep.Summary
	fmt.Fprintln(w)
	score := "no score"
	if s.Score != nil {
		score = fmt.Sprintf("score %d", *s.Score)
	}
	fmt.Fprintf(w, "%s (%s): %d objects read, %d resources evaluated, %d of %d criteria failed.\n",
		s.Result, score, s.Objects, s.Resources, s.FailedCriteria, s.Criteria)
	fmt.Fprintf(w, "Findings: %d failing (%d Critical, %d High, %d Medium, %d Low), %d excepted; %d passed, %d not assessed.\n",
		s.Failing, s.Critical, s.High, s.Medium, s.Low, s.Excepted, s.Passed, s.NotAssessed)
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "Profile problems: %d (see above).\n", len(rep.Problems))
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, "Inputs that could not be read: %d (listed on standard error).\n", s.Errors)
	}
	return nil
}

func resourceName(r *v1alpha1.ResourceRef) string {
	if r == nil {
		return "(cluster)"
	}
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

func location(s *Source) string {
	if s == nil {
		return "-"
	}
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// JUnit: one test suite per check, one test case per resource and container. A failing finding
// is a failure; an excepted or undecided one is skipped with the reason.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(w io.Writer, rep *Report) error {
	results := rep.Results
	if results == nil {
		results = rep.Findings
	}
	suites := junitSuites{Name: "soc2-operator scan"}
	index := map[string]int{}
	for _, f := range results {
		i, ok := index[f.Check]
		if !ok {
			i = len(suites.Suites)
			index[f.Check] = i
			suites.Suites = append(suites.Suites, junitSuite{Name: f.Check + ": " + f.Title})
		}
		s := &suites.Suites[i]
		name := resourceName(f.Resource)
		if f.Container != "" {
			name += " container " + f.Container
		}
		tc := junitCase{Name: name, Classname: f.Check}
		if f.Source != nil {
			tc.File, tc.Line = f.Source.File, f.Source.Line
		}
		switch f.Result {
		case v1alpha1.ResultFail:
			tc.Failure = &junitFailure{Message: f.Message, Type: string(f.Severity),
				Text: fmt.Sprintf("%s\nseverity: %s\ncriteria: %s\nremediation: %s", f.Message, f.Severity, joinCriteria(f.Criteria), f.check.Remediation)}
			s.Failures++
		case v1alpha1.ResultExcepted:
			tc.Skipped = &junitSkipped{Message: "excepted by " + f.Exception + ": " + f.Message}
			s.Skipped++
		case v1alpha1.ResultNotAssessed, v1alpha1.ResultNotApplicable:
			tc.Skipped = &junitSkipped{Message: string(f.Result) + ": " + f.Message}
			s.Skipped++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	for _, s := range suites.Suites {
		suites.Tests += s.Tests
		suites.Failures += s.Failures
		suites.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func joinCriteria(c []v1alpha1.Criterion) string {
	s := make([]string, len(c))
	for i, x := range c {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
