package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Plan is a profile compiled against the catalogue: the enabled checks with their effective
// severities, the parameters, the criteria in scope and the custom checks' programs. Compile
// once per profile generation and evaluate it as often as needed.
type Plan struct {
	// ProfileName is the profile's name ("" when evaluating without a profile).
	ProfileName string
	// ProfileGeneration is the profile's metadata.generation.
	ProfileGeneration int64
	// Params are the check parameters with defaults filled in.
	Params Params
	// Scope are the criteria reported, in catalogue order.
	Scope []v1alpha1.Criterion
	// Checks are the enabled checks, built-in first, in catalogue order, then custom ones.
	Checks []*PlannedCheck
	// Problems are what is wrong with the profile. Every check that could be compiled still
	// runs: one broken custom check or unknown ID never stops the others.
	Problems []Problem
	// MaxFindings bounds the findings a report lists.
	MaxFindings int
	// MaxExceptionDuration is the longest exception the profile honours (0: no limit).
	MaxExceptionDuration time.Duration
	// RequireApproval keeps exceptions PendingApproval until a trusted approval (default true).
	RequireApproval bool
	// MaxWaivedSeverity is the most severe finding an exception may waive (default High).
	MaxWaivedSeverity v1alpha1.Severity
	// AllowTenantExceptions honours exceptions outside the operator's namespace (default true).
	AllowTenantExceptions bool

	known       map[string]bool // every built-in ID (enabled or not) and every custom ID
	byTarget    map[string][]*PlannedCheck
	forWorkload []*PlannedCheck
	// forTemplates are, by workload kind, forWorkload and the checks that judge that kind's pod
	// template as Pods (PlannedCheck.JudgesPodTemplates); kinds without such checks are absent.
	forTemplates map[string][]*PlannedCheck
	forCluster   []*PlannedCheck
	inScope      map[v1alpha1.Criterion]bool
	byCriterion  map[v1alpha1.Criterion][]*PlannedCheck
}

// PlannedCheck is a check as a profile runs it.
type PlannedCheck struct {
	*Check
	// Severity is the effective severity: the profile's override or the default.
	Severity v1alpha1.Severity
	// Custom is true for a check written in the profile as CEL.
	Custom bool
	// index is the position in Plan.Checks.
	index int
}

// JudgesPodTemplates reports whether the check judges the pod template of every workload as the
// Pods it makes: a custom check that targets Pods, but not every workload. A controller's Pods
// are judged through its template (Inventory.Provenance), so such a check would otherwise see
// only the Pods no controller made, and pass a Deployment whose every Pod fails it (Kyverno's
// rules for Pods apply to the pod controllers' templates in the same way). A workload kind the
// check also names is judged as itself, once.
func (c *PlannedCheck) JudgesPodTemplates() bool {
	return c.Custom && slices.Contains(c.Targets, "Pod") && !slices.Contains(c.Targets, KindWorkload)
}

// judgesTemplateOf reports whether a custom check of targets reaches a workload of kind only
// through its pod template (JudgesPodTemplates): kind is a workload kind other than Pod that
// targets do not name.
func judgesTemplateOf(targets []string, kind string) bool {
	return kind != "Pod" && workloadKinds[kind] && slices.Contains(targets, "Pod") &&
		!slices.Contains(targets, KindWorkload) && !slices.Contains(targets, kind)
}

// Problem is one thing wrong with a profile, with the field it is in.
type Problem struct {
	// Reason is a condition reason from api/v1alpha1 (UnknownCheck, InvalidCustomCheck, ...).
	Reason string
	// Field is the path of the offending field, for example spec.checks[2].id.
	Field string
	// Message says what is wrong, starting with the field.
	Message string
}

func (p Problem) Error() string { return p.Message }

// DefaultMaxFindings bounds the findings of a report when the profile sets no limit.
const DefaultMaxFindings = 50

// DefaultMaxExceptionDuration is the longest exception honoured when the profile sets none.
const DefaultMaxExceptionDuration = 90 * 24 * time.Hour

// MinMaxExceptionDuration and MaxMaxExceptionDuration bound exceptionPolicy.maxDuration, as
// the CRD does.
const (
	MinMaxExceptionDuration = time.Hour
	MaxMaxExceptionDuration = 8760 * time.Hour
)

// DefaultMaxWaivedSeverity is the most severe finding an exception may waive when the profile
// says nothing: Critical findings are never waived by default.
const DefaultMaxWaivedSeverity = v1alpha1.SeverityHigh

// Compile builds the plan of a profile over a catalogue. A nil profile means every built-in
// check at its default severity.
func Compile(catalogue []*Check, profile *v1alpha1.ComplianceProfile) *Plan {
	if profile == nil {
		profile = &v1alpha1.ComplianceProfile{}
	}
	spec := &profile.Spec
	p := &Plan{
		ProfileName:           profile.Name,
		ProfileGeneration:     profile.Generation,
		Params:                paramsFrom(spec.Parameters),
		MaxFindings:           DefaultMaxFindings,
		MaxExceptionDuration:  DefaultMaxExceptionDuration,
		RequireApproval:       true,
		MaxWaivedSeverity:     DefaultMaxWaivedSeverity,
		AllowTenantExceptions: true,
		known:                 make(map[string]bool, len(catalogue)+len(spec.CustomChecks)),
		byTarget:              map[string][]*PlannedCheck{},
	}
	var psProblems []Problem
	p.Params.PodSecurity, psProblems = podSecurityFrom(spec.PodSecurity)
	p.Problems = append(p.Problems, psProblems...)
	p.Problems = append(p.Problems, registryProblems(spec.Parameters)...)
	p.Problems = append(p.Problems, labelProblems(spec.Parameters)...)
	if spec.MaxFindings > 0 {
		p.MaxFindings = int(spec.MaxFindings)
	}
	if ep := spec.ExceptionPolicy; ep != nil {
		switch d := ep.MaxDuration; {
		case d == nil:
		case d.Duration < MinMaxExceptionDuration || d.Duration > MaxMaxExceptionDuration:
			// The CRD refuses it; a file given to scan must not lift the limit either.
			p.problem(v1alpha1.ReasonInvalidProfile, "spec.exceptionPolicy.maxDuration", "maxDuration must be between 1h and 8760h (a year), not %s", d.Duration)
		default:
			p.MaxExceptionDuration = d.Duration
		}
		if ep.RequireApproval != nil {
			p.RequireApproval = *ep.RequireApproval
		}
		if ep.AllowTenantExceptions != nil {
			p.AllowTenantExceptions = *ep.AllowTenantExceptions
		}
		switch {
		case ep.MaxSeverity == "":
		case SeverityRank(ep.MaxSeverity) > 3:
			p.problem(v1alpha1.ReasonInvalidProfile, "spec.exceptionPolicy.maxSeverity", "unknown severity %q: want Critical, High, Medium or Low", ep.MaxSeverity)
		default:
			p.MaxWaivedSeverity = ep.MaxSeverity
		}
	}

	p.requestScope(spec.Criteria)

	builtin := make(map[string]*Check, len(catalogue))
	for _, c := range catalogue {
		builtin[c.ID] = c
		p.known[c.ID] = true
	}

	overrides := map[string]v1alpha1.CheckOverride{}
	for i, o := range spec.Checks {
		field := fmt.Sprintf("spec.checks[%d]", i)
		if _, ok := builtin[o.ID]; !ok {
			p.problem(v1alpha1.ReasonUnknownCheck, field+".id", "unknown check %q%s", o.ID, suggest(o.ID, builtin))
			continue
		}
		if o.Severity != "" && SeverityRank(o.Severity) > 3 {
			p.problem(v1alpha1.ReasonInvalidProfile, field+".severity", "unknown severity %q: want Critical, High, Medium or Low", o.Severity)
			o.Severity = ""
		}
		overrides[o.ID] = o
	}

	for _, c := range catalogue {
		o := overrides[c.ID]
		if o.Enabled != nil && !*o.Enabled {
			continue
		}
		sev := c.Severity
		if o.Severity != "" {
			sev = o.Severity
		}
		p.add(&PlannedCheck{Check: c, Severity: sev})
	}

	for i := range spec.CustomChecks {
		cc := &spec.CustomChecks[i]
		field := fmt.Sprintf("spec.customChecks[%d]", i)
		if builtin[cc.ID] != nil {
			p.problem(v1alpha1.ReasonInvalidCustomCheck, field+".id", "custom check %q has the ID of a built-in check; choose another ID", cc.ID)
			continue
		}
		if p.known[cc.ID] {
			p.problem(v1alpha1.ReasonInvalidCustomCheck, field+".id", "custom check %q is defined twice", cc.ID)
			continue
		}
		p.known[cc.ID] = true
		check, err := compileCustom(cc)
		if err != nil {
			p.problem(v1alpha1.ReasonInvalidCustomCheck, field+err.field, "custom check %q: %s", cc.ID, err.msg)
			if stub := notCompiled(cc, field+err.field+": "+err.msg); stub != nil {
				p.add(&PlannedCheck{Check: stub, Severity: stub.Severity, Custom: true})
			}
			continue
		}
		sev := cc.Severity
		if sev == "" {
			sev = v1alpha1.SeverityMedium
		}
		p.add(&PlannedCheck{Check: check, Severity: sev, Custom: true})
	}

	p.settleScope()
	p.settleTemplates()
	return p
}

// settleTemplates fills forTemplates, once every check is added.
func (p *Plan) settleTemplates() {
	for kind := range workloadKinds {
		var extra []*PlannedCheck
		for _, c := range p.Checks {
			if c.Custom && judgesTemplateOf(c.Targets, kind) {
				extra = append(extra, c)
			}
		}
		if len(extra) > 0 {
			if p.forTemplates == nil {
				p.forTemplates = map[string][]*PlannedCheck{}
			}
			p.forTemplates[kind] = append(slices.Clone(p.forWorkload), extra...)
		}
	}
}

// notCompiled stands in for a custom check that cannot run (why says why, naming the field):
// it is NotAssessed on everything the check targets, as a custom check that fails at run time
// is, so that its criteria say that part of them was not assessed (unassessedChecks, or
// NotAssessed for a criterion it alone supports) instead of losing the check, and with it a
// criterion only it supports, from the report. A check whose kinds or criteria cannot be read
// has nothing to stand in for: nil.
func notCompiled(cc *v1alpha1.CustomCheck, why string) *Check {
	if len(cc.Kinds) == 0 || len(cc.Criteria) == 0 {
		return nil
	}
	for _, c := range cc.Criteria {
		if !KnownCriterion(c) {
			return nil
		}
	}
	sev := cc.Severity
	if sev == "" || SeverityRank(sev) > 3 {
		sev = v1alpha1.SeverityMedium
	}
	reason := "not run: the custom check cannot run: " + why
	return &Check{
		ID: cc.ID, Title: cc.Title, Description: cc.Description, Remediation: cc.Remediation,
		Severity: sev, Criteria: cc.Criteria, Targets: cc.Kinds,
		Evaluate: func(ctx *Context, _ *Object) { ctx.NotAssessed("", reason) },
	}
}

// add enables a check, unless the profile limits the criteria and the check supports none of
// them: such a check would not count anywhere, so it does not run.
func (p *Plan) add(c *PlannedCheck) {
	if len(p.inScope) > 0 {
		relevant := false
		for _, cr := range c.Criteria {
			relevant = relevant || p.inScope[cr]
		}
		if !relevant {
			return
		}
	}
	c.index = len(p.Checks)
	p.Checks = append(p.Checks, c)
	for _, t := range c.Targets {
		switch t {
		case KindWorkload:
			p.forWorkload = append(p.forWorkload, c)
		case TargetCluster:
			p.forCluster = append(p.forCluster, c)
		default:
			p.byTarget[t] = append(p.byTarget[t], c)
		}
	}
}

func (p *Plan) problem(reason, field, format string, args ...any) {
	p.Problems = append(p.Problems, Problem{Reason: reason, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)})
}

// requestScope records the criteria the profile limits the report to, if any.
func (p *Plan) requestScope(requested []v1alpha1.Criterion) {
	p.inScope = map[v1alpha1.Criterion]bool{}
	for i, c := range requested {
		if !KnownCriterion(c) {
			p.problem(v1alpha1.ReasonInvalidProfile, fmt.Sprintf("spec.criteria[%d]", i), "unknown SOC 2 criterion %q", c)
			continue
		}
		p.inScope[c] = true
	}
}

// settleScope fixes the criteria reported: the profile's list, or every criterion an enabled
// check supports, in catalogue order.
func (p *Plan) settleScope() {
	if len(p.inScope) == 0 {
		for _, c := range p.Checks {
			for _, cr := range c.Criteria {
				p.inScope[cr] = true
			}
		}
	}
	p.byCriterion = map[v1alpha1.Criterion][]*PlannedCheck{}
	for _, c := range p.Checks {
		for _, cr := range c.Criteria {
			if p.inScope[cr] {
				p.byCriterion[cr] = append(p.byCriterion[cr], c)
			}
		}
	}
	for _, c := range Criteria {
		if p.inScope[c.ID] {
			p.Scope = append(p.Scope, c.ID)
		}
	}
}

// KnownCheck reports whether id is a built-in check (enabled or not) or one of the profile's
// custom checks.
func (p *Plan) KnownCheck(id string) bool { return p.known[id] }

// suggest returns `; did you mean "x"?` for the closest known ID, or "".
func suggest(id string, known map[string]*Check) string {
	best, bestDist := "", len(id)/2+1
	for k := range known {
		if d := EditDistance(id, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return "; `soc2-operator checks` lists the built-in checks"
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

// EditDistance is the Levenshtein distance between a and b (bytes), for "did you mean"
// suggestions.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
