package scan

import (
	"bufio"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// SARIF 2.1.0, the format code-scanning services (GitHub, GitLab, Azure DevOps) read. Only the
// parts this tool fills in are declared.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Results     []sarifResult     `json:"results"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifText          `json:"shortDescription"`
	FullDescription      sarifText          `json:"fullDescription"`
	Help                 sarifText          `json:"help"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	Properties           sarifRuleProps     `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations,omitempty"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysicalLocation `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLocation struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status,omitempty"`
	Justification string `json:"justification"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// sarifLevel maps a severity to a SARIF level; security-severity gives code-scanning services
// the finer rank (Critical 9.0, High 7.0, Medium 5.0, Low 3.0).
func sarifLevel(s v1alpha1.Severity) (level, securitySeverity string) {
	switch s {
	case v1alpha1.SeverityCritical:
		return "error", "9.0"
	case v1alpha1.SeverityHigh:
		return "error", "7.0"
	case v1alpha1.SeverityMedium:
		return "warning", "5.0"
	}
	return "note", "3.0"
}

// writeSARIF writes one run: a rule per check that produced a finding, a result per finding
// (excepted findings are suppressed with the exception as justification) and per custom check
// result its object stopped or broke (suppressed as well where an exception waives it for the
// gate), and unreadable inputs as tool notifications.
func writeSARIF(w *bufio.Writer, rep *Report) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "soc2-operator",
			Version:        rep.Tool.Version,
			InformationURI: "https://github.com/soc2-operator/soc2-operator",
		}},
		Results: []sarifResult{},
	}
	// The findings, and the custom checks' results their objects stopped or broke, which --fail-on
	// counts as failing (engine.Result.FailedOnObject): without them a failed gate showed no alert.
	items := rep.found
	if rep.evaluation != nil {
		refs := objectRefs{}
		for i := range rep.evaluation.Results {
			if r := &rep.evaluation.Results[i]; r.FailedOnObject() {
				items = append(items[:len(items):len(items)], refs.found(r))
			}
		}
	}
	ruleIndex := map[string]int{}
	for _, fd := range items {
		if _, ok := ruleIndex[fd.r.Check.ID]; !ok {
			f := fd.finding()
			ruleIndex[f.Check] = len(run.Tool.Driver.Rules)
			level, secSev := sarifLevel(f.check.Check.Severity)
			tags := []string{"security", "soc2"}
			for _, c := range f.Criteria {
				tags = append(tags, "soc2/"+string(c))
			}
			desc := f.check.Description
			if desc == "" {
				desc = f.Title
			}
			help := f.check.Remediation
			if help == "" {
				help = f.Title
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID:                   f.Check,
				Name:                 ruleName(f.Check),
				ShortDescription:     sarifText{f.Title},
				FullDescription:      sarifText{desc},
				Help:                 sarifText{help},
				DefaultConfiguration: sarifConfiguration{Level: level},
				Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: secSev},
			})
		}
	}
	inv := sarifInvocation{ExecutionSuccessful: len(rep.Errors) == 0 && len(rep.Problems) == 0}
	for _, e := range rep.Errors {
		n := sarifNotification{Level: "error", Message: sarifText{shown(e.Message)}}
		if e.File != "" {
			pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: fileURI(e.File)}}
			if e.Line > 0 {
				pl.Region = &sarifRegion{StartLine: e.Line}
			}
			n.Locations = []sarifLocation{{PhysicalLocation: pl}}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	if rep.ErrorsNotListed > 0 {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifText{unlistedErrors(rep.ErrorsNotListed)}})
	}
	for _, p := range rep.Problems {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifText{shown(p)}})
	}
	// What --skip-kinds left unjudged is a note: the run did what it was asked.
	for _, r := range rep.Skipped {
		n := sarifNotification{Level: "note", Message: sarifText{shown(skippedMessage(r))}}
		if r.File != "" {
			pl := &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: fileURI(r.File)}}
			if r.Line > 0 {
				pl.Region = &sarifRegion{StartLine: r.Line}
			}
			n.Locations = []sarifLocation{{PhysicalLocation: pl}}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	if rep.SkippedNotListed > 0 {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "note", Message: sarifText{unlistedSkipped(rep.SkippedNotListed)}})
	}
	run.Invocations = []sarifInvocation{inv}
	// The results are written one at a time in the place of a placeholder (writeStreamed): at
	// 20,000 objects they are about 75 MB of JSON.
	var lists []streamedList
	uris := fileURIs{}
	if len(items) > 0 {
		run.Results = []sarifResult{{}}
		lists = []streamedList{{key: "results", depth: 3, n: len(items), appendItem: func(dst []byte, i int, prefix string) []byte {
			return appendSARIFResult(dst, sarifResultOf(rep.finding(items[i]), ruleIndex, uris), prefix)
		}}}
	}
	out, err := json.MarshalIndent(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}, "", "  ")
	if err != nil {
		return err
	}
	return writeStreamed(w, append(out, '\n'), lists)
}

// sarifResultOf is the result for finding f, whose check's rule is at ruleIndex[f.Check], with
// its file's URI from uris.
func sarifResultOf(f Finding, ruleIndex map[string]int, uris fileURIs) *sarifResult {
	level, _ := sarifLevel(f.Severity)
	res := &sarifResult{
		RuleID:    f.Check,
		RuleIndex: ruleIndex[f.Check],
		Level:     level,
		Message:   sarifText{findingText(f)},
	}
	loc := sarifLocation{}
	if f.Source != nil {
		loc.PhysicalLocation = &sarifPhysicalLocation{ArtifactLocation: sarifArtifactLocation{URI: uris.of(f.Source.File)}}
		if f.Source.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Source.Line}
		}
	}
	if f.Resource != nil {
		loc.LogicalLocations = []sarifLogicalLocation{{FullyQualifiedName: termtable.Escape(resourceName(f.Resource)), Kind: "resource"}}
	}
	if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
		res.Locations = []sarifLocation{loc}
	}
	// A waived result is suppressed externally (SARIF 2.1.0, 3.35: kept where the scan reads its
	// exceptions, not in the file), and accepted: the exception is in force, and a viewer hides the
	// alert (a suppression without status is accepted too, but says so only by omission).
	switch {
	case f.Result == v1alpha1.ResultExcepted:
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: "ControlException " + f.Exception}}
	case f.Result == v1alpha1.ResultNotAssessed && f.Exception != "":
		// Only the results the object decided are written (writeSARIF); one an exception would
		// waive were it a failure the gate passes, as the admission webhook admits it.
		res.Message.Text += " (NotAssessed: the object decided it; ControlException " + f.Exception + " waives it for scan --fail-on, as it would waive a failure)"
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: "ControlException " + f.Exception}}
	case f.Result == v1alpha1.ResultNotAssessed:
		// Only the results the object decided are written (writeSARIF).
		res.Message.Text += " (NotAssessed: the object decided it, and scan --fail-on counts it as failing)"
	}
	return res
}

// findingText is a result's message: the resource (and container) and the finding's message,
// shown as the table shows them (shown).
func findingText(f Finding) string {
	where := resourceName(f.Resource)
	if f.Container != "" {
		where += " container " + f.Container
	}
	return shown(where + ": " + f.Message)
}

// ruleName turns wl-run-as-root into WlRunAsRoot, SARIF's preferred rule name shape.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// fileURIs are the URIs of the files of a run's results (fileURI), each made once: a file holds
// many findings, and cleaning and escaping its path for each of them took 2% of the
// instructions of `scan -o sarif` of 3,000 objects.
type fileURIs map[string]string

// of is path's fileURI.
func (u fileURIs) of(path string) string {
	uri, ok := u[path]
	if !ok {
		uri = fileURI(path)
		u[path] = uri
	}
	return uri
}

// fileURI is a relative URI with forward slashes, as code-scanning services expect.
func fileURI(path string) string {
	if path == "<stdin>" {
		return "stdin"
	}
	return (&url.URL{Path: filepath.ToSlash(filepath.Clean(path))}).String()
}

// appendSARIFResult appends res as json.MarshalIndent(res, prefix, "  ") writes it, byte for
// byte, without reflection and without indenting compact JSON a second time, as
// appendFindingJSON does for -o json: with encoding/json's Encoder and appendIndented, writing
// the results took 0.55 G of the 1.96 G instructions of a whole `scan -o sarif` of 3,000
// objects, against 1.41 G for the summary table. TestSARIFResultAsMarshalIndent holds the bytes
// to encoding/json's on every result of the golden input and the corpus, FuzzSARIFResult on any
// strings and numbers, and TestSARIFResultKnowsEveryField fails when a field is added to one of
// the types it writes.
func appendSARIFResult(dst []byte, res *sarifResult, prefix string) []byte {
	in, inner := indents(prefix)
	dst = append(dst, '{')
	dst = appendKey(dst, in, "ruleId", true)
	dst = appendJSONString(dst, res.RuleID)
	dst = appendKey(dst, in, "ruleIndex", false)
	dst = strconv.AppendInt(dst, int64(res.RuleIndex), 10)
	dst = appendKey(dst, in, "level", false)
	dst = appendJSONString(dst, res.Level)
	dst = appendKey(dst, in, "message", false)
	dst = appendSARIFText(dst, res.Message, in, inner)
	if len(res.Locations) > 0 {
		dst = appendKey(dst, in, "locations", false)
		dst = append(dst, '[')
		for i := range res.Locations {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(dst, '\n'), inner...)
			dst = appendSARIFLocation(dst, &res.Locations[i], inner)
		}
		dst = append(append(append(dst, '\n'), in...), ']')
	}
	if len(res.Suppressions) > 0 {
		dst = appendKey(dst, in, "suppressions", false)
		dst = append(dst, '[')
		for i, s := range res.Suppressions {
			if i > 0 {
				dst = append(dst, ',')
			}
			sin, _ := indents(inner)
			dst = append(append(dst, '\n'), inner...)
			dst = append(dst, '{')
			dst = appendKey(dst, sin, "kind", true)
			dst = appendJSONString(dst, s.Kind)
			if s.Status != "" {
				dst = appendKey(dst, sin, "status", false)
				dst = appendJSONString(dst, s.Status)
			}
			dst = appendKey(dst, sin, "justification", false)
			dst = appendJSONString(dst, s.Justification)
			dst = append(append(append(dst, '\n'), inner...), '}')
		}
		dst = append(append(append(dst, '\n'), in...), ']')
	}
	return append(append(append(dst, '\n'), prefix...), '}')
}

// appendSARIFText appends t, an object whose members are at the indent in (its closing brace at
// outer).
func appendSARIFText(dst []byte, t sarifText, outer, in string) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, in, "text", true)
	dst = appendJSONString(dst, t.Text)
	return append(append(append(dst, '\n'), outer...), '}')
}

// appendSARIFLocation appends l, which starts at the indent prefix, as appendSARIFResult does.
func appendSARIFLocation(dst []byte, l *sarifLocation, prefix string) []byte {
	if l.PhysicalLocation == nil && len(l.LogicalLocations) == 0 {
		return append(dst, '{', '}') // every member omitted: encoding/json writes {} on one line
	}
	in, inner := indents(prefix)
	dst = append(dst, '{')
	first := true
	if pl := l.PhysicalLocation; pl != nil {
		dst = appendKey(dst, in, "physicalLocation", true)
		first = false
		innermost, _ := indents(inner)
		dst = append(dst, '{')
		dst = appendKey(dst, inner, "artifactLocation", true)
		dst = append(dst, '{')
		dst = appendKey(dst, innermost, "uri", true)
		dst = appendJSONString(dst, pl.ArtifactLocation.URI)
		dst = append(append(append(dst, '\n'), inner...), '}')
		if pl.Region != nil {
			dst = appendKey(dst, inner, "region", false)
			dst = append(dst, '{')
			dst = appendKey(dst, innermost, "startLine", true)
			dst = strconv.AppendInt(dst, int64(pl.Region.StartLine), 10)
			dst = append(append(append(dst, '\n'), inner...), '}')
		}
		dst = append(append(append(dst, '\n'), in...), '}')
	}
	if len(l.LogicalLocations) > 0 {
		dst = appendKey(dst, in, "logicalLocations", first)
		dst = append(dst, '[')
		for i, ll := range l.LogicalLocations {
			if i > 0 {
				dst = append(dst, ',')
			}
			innermost, _ := indents(inner)
			dst = append(append(dst, '\n'), inner...)
			dst = append(dst, '{')
			dst = appendKey(dst, innermost, "fullyQualifiedName", true)
			dst = appendJSONString(dst, ll.FullyQualifiedName)
			dst = appendKey(dst, innermost, "kind", false)
			dst = appendJSONString(dst, ll.Kind)
			dst = append(append(append(dst, '\n'), inner...), '}')
		}
		dst = append(append(append(dst, '\n'), in...), ']')
	}
	return append(append(append(dst, '\n'), prefix...), '}')
}
