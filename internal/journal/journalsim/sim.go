// Package journalsim simulates an operator's journal over a long period with a fake clock:
// namespaces whose findings open and close, exceptions requested, approved and expiring, daily
// attestations, restarts and a store outage. Everything is written through the real journal
// Writer, and the simulation keeps its own tally so tests can check what the evidence pack
// says against what happened.
package journalsim

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/journal"
)

// Config sizes a simulation.
type Config struct {
	Cluster    string
	Profile    string
	Start      time.Time
	Days       int
	Namespaces int
	// Workloads per namespace.
	Workloads int
	// Checks is how many catalogue checks are simulated (the first workload checks).
	Checks int
	// OpenPerDay is the chance per namespace per day that a finding opens.
	OpenPerDay float64
	// ExceptionChance is the chance an opened finding gets an exception.
	ExceptionChance float64
	Seed            uint64
	Signer          ed25519.PrivateKey
}

// Heartbeat is how often the simulated operator writes operator.heartbeat, as the real one
// does by default (journal.QueueOptions.Heartbeat).
const Heartbeat = 10 * time.Minute

// Year is the simulated year of the issue: 100 namespaces, findings opening and closing,
// exceptions approved and expiring.
func Year() Config {
	return Config{Cluster: "prod", Profile: "soc2", Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Days: 365,
		Namespaces: 100, Workloads: 12, Checks: 16, OpenPerDay: 0.3, ExceptionChance: 0.2, Seed: 42}
}

// Tally is what the simulation did.
type Tally struct {
	Records int
	// ByType counts the records written, by type (the outage's are not written).
	ByType map[journal.Type]int
	// DeviationsOpened counts findings opened; Closed those closed; Open those open at the end.
	DeviationsOpened, DeviationsClosed, DeviationsOpen int
	// Lost counts deviations that opened and closed during the outage: nothing records them.
	// InferredClosures counts deviations closed during the outage: the next attestation shows
	// them gone.
	Lost, InferredClosures int
	// RecordedClosedHours sums the durations of the deviations whose closing was recorded.
	RecordedClosedHours float64
	// Attestations counts attestation records; PopulationRows their check rows.
	Attestations, PopulationRows int
	// Gaps are the observation and journal gaps written, and the time after the operator stops
	// at the end (which the pack lists as not observed).
	Gaps []journal.Interval
	// MissingAttestationDays counts namespace-days without an attestation (the outage).
	MissingAttestationDays int
	// CriterionChanges counts criterion.changed records.
	CriterionChanges int
	Segments         int
}

type finding struct {
	f         journal.Finding
	closeAt   time.Time
	exception string
}

type exception struct {
	e          journal.Exception
	ns         string
	expires    time.Time
	findingKey string
	expired    bool
}

type nsState struct {
	name      string
	workloads []string
	open      map[string]*finding
	criteria  map[string]string
}

// Run writes the simulated journal to store and returns what it did.
func Run(ctx context.Context, store journal.Store, cfg Config) (Tally, error) {
	t := Tally{ByType: map[journal.Type]int{}}
	w, err := journal.NewWriter(ctx, store, journal.WriterOptions{Cluster: cfg.Cluster, Signer: cfg.Signer})
	if err != nil {
		return t, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	var catalogue []struct {
		id       string
		criteria []string
		severity string
	}
	for _, c := range checks.Catalogue() {
		if len(catalogue) == cfg.Checks {
			break
		}
		if !slices.Contains(c.Targets, engine.KindWorkload) {
			continue
		}
		crit := make([]string, len(c.Criteria))
		for i, x := range c.Criteria {
			crit[i] = string(x)
		}
		catalogue = append(catalogue, struct {
			id       string
			criteria []string
			severity string
		}{c.ID, crit, string(c.Severity)})
	}
	if len(catalogue) == 0 {
		return t, fmt.Errorf("no workload checks in the catalogue")
	}
	var allCriteria []string
	for _, c := range catalogue {
		for _, x := range c.criteria {
			if !slices.Contains(allCriteria, x) {
				allCriteria = append(allCriteria, x)
			}
		}
	}
	slices.Sort(allCriteria)

	namespaces := make([]*nsState, cfg.Namespaces)
	for i := range namespaces {
		ns := &nsState{name: fmt.Sprintf("team-%03d", i), open: map[string]*finding{}, criteria: map[string]string{}}
		for j := range cfg.Workloads {
			ns.workloads = append(ns.workloads, fmt.Sprintf("Deployment/app-%02d", j))
		}
		namespaces[i] = ns
	}
	exceptions := map[string]*exception{}
	var exceptionNames []string

	// One operator restart (3 hours unobserved) and one store outage (a day of records lost).
	restartDay, outageDay := cfg.Days/3, 2*cfg.Days/3
	prof := cfg.Profile
	var batch []journal.Record
	emit := func(r journal.Record) {
		r.Profile = orDefault(r.Profile, prof)
		batch = append(batch, r)
	}

	// criteria recomputes a namespace's criterion states and emits the changes.
	criteria := func(ns *nsState, at time.Time) {
		for _, crit := range allCriteria {
			state := "Pass"
			for _, f := range ns.open {
				if !slices.Contains(f.f.Criteria, crit) {
					continue
				}
				if f.exception == "" {
					state = "Fail"
					break
				}
				state = "Excepted"
			}
			if ns.criteria[crit] != state {
				emit(journal.Record{Type: journal.CriterionChanged, Time: at, Namespace: ns.name,
					Criterion: &journal.CriterionChange{Criterion: crit, From: ns.criteria[crit], To: state}})
				t.CriterionChanges++
				ns.criteria[crit] = state
			}
		}
	}

	emit(journal.Record{Type: journal.OperatorStarted, Time: cfg.Start, Profile: "-", Operator: &journal.Operator{Identity: "soc2-operator-0", Version: "sim"}})
	for d := range cfg.Days {
		day := cfg.Start.AddDate(0, 0, d)
		outage := d == outageDay
		// Daily attestation at midnight, before any event of the day.
		if !outage {
			for _, ns := range namespaces {
				if d == 0 {
					criteria(ns, day)
				}
				emit(attest(ns, day, catalogue, allCriteria, exceptions))
				t.Attestations++
				t.PopulationRows += len(catalogue)
			}
		} else {
			t.MissingAttestationDays += len(namespaces)
		}
		// Events of the day, in time order: per namespace one possible opening, and the
		// closings and expiries that fall today.
		type event struct {
			at time.Time
			fn func()
		}
		var events []event
		for _, ns := range namespaces {
			ns := ns
			if rng.Float64() < cfg.OpenPerDay {
				at := day.Add(time.Duration(1+rng.IntN(86399)) * time.Second) // after the attestation
				c := catalogue[rng.IntN(len(catalogue))]
				wl := ns.workloads[rng.IntN(len(ns.workloads))]
				kind, name := split(wl)
				k := journal.FindingKey(c.id, kind, name, "app")
				if _, dup := ns.open[k]; !dup {
					f := &finding{f: journal.Finding{Key: k, Check: c.id, Criteria: c.criteria, Severity: c.severity, Kind: kind, Name: name, Container: "app", Message: "simulated failure", FirstSeen: at}}
					// Time to remediate: mostly hours to days, some weeks.
					hours := rng.ExpFloat64() * 60
					f.closeAt = at.Add(time.Duration(hours*3600) * time.Second)
					ns.open[k] = f
					withException := rng.Float64() < cfg.ExceptionChance
					events = append(events, event{at, func() {
						emit(journal.Record{Type: journal.FindingOpened, Time: at, Namespace: ns.name, Finding: ptr(f.f)})
						t.DeviationsOpened++
						criteria(ns, at)
					}})
					if withException {
						name := fmt.Sprintf("exc-%s-%05d", ns.name, len(exceptionNames))
						exceptionNames = append(exceptionNames, name)
						req, appr := at.Add(30*time.Minute), at.Add(2*time.Hour)
						ex := &exception{ns: ns.name, findingKey: k, expires: appr.Add(time.Duration(7+rng.IntN(30)) * 24 * time.Hour), e: journal.Exception{
							Name: name, RequestedBy: "dev-" + ns.name + "@example.com", ApprovedBy: "security-lead@example.com", Approver: "security-lead@example.com",
							Owner: ns.name, Reason: "vendor image needs it until the upgrade", Ticket: "SEC-" + fmt.Sprint(len(exceptionNames)),
							Checks: []string{c.id}, Created: req,
						}}
						ex.e.Expires = ex.expires
						exceptions[name] = ex
						if appr.Before(f.closeAt) && appr.Before(day.AddDate(0, 0, 1)) { // requested and approved the same day
							events = append(events, event{req, func() {
								emit(journal.Record{Type: journal.ExceptionRequested, Time: req, Namespace: ns.name, Exception: ptr(ex.e)})
							}}, event{appr, func() {
								e := ex.e
								e.Findings = 1
								emit(journal.Record{Type: journal.ExceptionApproved, Time: appr, Namespace: ns.name, Exception: &e})
								if of, ok := ns.open[k]; ok {
									of.exception = name
									ff := of.f
									ff.Exception = name
									emit(journal.Record{Type: journal.FindingExcepted, Time: appr, Namespace: ns.name, Finding: &ff})
									criteria(ns, appr)
								}
							}})
						} else {
							delete(exceptions, name)
							exceptionNames = exceptionNames[:len(exceptionNames)-1]
						}
					}
				}
			}
			for _, f := range ns.open {
				f := f
				if f.closeAt.Before(day.AddDate(0, 0, 1)) {
					events = append(events, event{f.closeAt, func() {
						emit(journal.Record{Type: journal.FindingClosed, Time: f.closeAt, Namespace: ns.name, Finding: ptr(f.f)})
						t.DeviationsClosed++
						switch {
						case outage && !f.f.FirstSeen.Before(day):
							t.Lost++
						case outage:
							t.InferredClosures++
						default:
							t.RecordedClosedHours += f.closeAt.Sub(f.f.FirstSeen).Hours()
						}
						delete(ns.open, f.f.Key)
						criteria(ns, f.closeAt)
					}})
				}
			}
		}
		for _, name := range exceptionNames {
			ex := exceptions[name]
			if !ex.expired && ex.expires.Before(day.AddDate(0, 0, 1)) && !ex.expires.Before(day) {
				ex.expired = true
				events = append(events, event{ex.expires, func() {
					emit(journal.Record{Type: journal.ExceptionExpired, Time: ex.expires, Namespace: ex.ns, Exception: ptr(ex.e)})
					for _, ns := range namespaces {
						if ns.name != ex.ns {
							continue
						}
						if of, ok := ns.open[ex.findingKey]; ok && of.exception == ex.e.Name {
							of.exception = ""
							emit(journal.Record{Type: journal.FindingUnexcepted, Time: ex.expires, Namespace: ns.name, Finding: ptr(of.f)})
							criteria(ns, ex.expires)
						}
					}
				}})
			}
		}
		// A running operator writes a heartbeat every 10 minutes; none while it is stopped.
		stop, start := day.Add(12*time.Hour), day.Add(15*time.Hour)
		for at := day.Add(Heartbeat); at.Before(day.AddDate(0, 0, 1)); at = at.Add(Heartbeat) {
			if d == restartDay && !at.Before(stop) && at.Before(start) {
				continue
			}
			op := "soc2-operator-0"
			if d > restartDay || d == restartDay && !at.Before(start) {
				op = "soc2-operator-1"
			}
			events = append(events, event{at, func() {
				emit(journal.Record{Type: journal.OperatorHeartbeat, Time: at, Profile: "-", Operator: &journal.Operator{Identity: op, Version: "sim"}})
			}})
		}
		if d == restartDay {
			gap := journal.Interval{From: stop, To: start, Reason: "operator restarted (upgrade)"}
			events = append(events, event{stop, func() {
				emit(journal.Record{Type: journal.OperatorStopped, Time: stop, Profile: "-", Operator: &journal.Operator{Identity: "soc2-operator-0", Version: "sim"}})
			}}, event{start, func() {
				emit(journal.Record{Type: journal.ObservationGap, Time: start, Profile: "-", Interval: &gap})
				emit(journal.Record{Type: journal.OperatorStarted, Time: start, Profile: "-", Operator: &journal.Operator{Identity: "soc2-operator-1", Version: "sim"}})
			}})
			t.Gaps = append(t.Gaps, gap)
		}
		slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
		for _, e := range events {
			e.fn()
		}
		if outage {
			// The store was unreachable all day: the queue overflowed and the day's records
			// are lost; the writer records the gap when the store is back.
			gap := journal.Interval{From: day, To: day.AddDate(0, 0, 1), Reason: "journal store unreachable", Dropped: len(batch)}
			batch = batch[:0]
			emit(journal.Record{Type: journal.JournalGap, Time: day.AddDate(0, 0, 1), Profile: "-", Interval: &gap})
			t.Gaps = append(t.Gaps, gap)
			continue
		}
		if d == cfg.Days-1 {
			// The operator stops at the end of the period (a running one writes a heartbeat
			// every 10 minutes up to it: verification wants the period covered to its end).
			stop := day.AddDate(0, 0, 1).Add(-time.Second)
			emit(journal.Record{Type: journal.OperatorStopped, Time: stop, Profile: "-", Operator: &journal.Operator{Identity: "soc2-operator-1", Version: "sim"}})
			// Nobody observes its last second.
			t.Gaps = append(t.Gaps, journal.Interval{From: stop, To: day.AddDate(0, 0, 1), Reason: "the operator stopped, and no record of the period says an operator observed after it"})
		}
		if err := flush(ctx, w, &batch, &t); err != nil {
			return t, err
		}
	}
	if err := flush(ctx, w, &batch, &t); err != nil {
		return t, err
	}
	for _, ns := range namespaces {
		t.DeviationsOpen += len(ns.open)
	}
	t.Segments = int(w.Seq())
	return t, nil
}

// The outage day's records are dropped and so are not counted; everything else is.
func flush(ctx context.Context, w *journal.Writer, batch *[]journal.Record, t *Tally) error {
	if len(*batch) == 0 {
		return nil
	}
	for i := range *batch {
		if (*batch)[i].Profile == "-" {
			(*batch)[i].Profile = ""
		}
		t.ByType[(*batch)[i].Type]++
	}
	before := w.Written()
	if err := w.Write(ctx, *batch); err != nil {
		return err
	}
	// Records identical in content and time (a criterion flipping back and forth within the
	// same millisecond) have the same ID and are kept once.
	t.Records += w.Written() - before
	*batch = (*batch)[:0]
	return nil
}

func attest(ns *nsState, at time.Time, catalogue []struct {
	id       string
	criteria []string
	severity string
}, allCriteria []string, exceptions map[string]*exception) journal.Record {
	body := &journal.AttestationBody{Populations: [][]string{ns.workloads}}
	digest := journal.PopulationDigest(ns.workloads)
	for _, c := range allCriteria {
		body.Criteria = append(body.Criteria, journal.CriterionState{Criterion: c, State: ns.criteria[c]})
	}
	for _, c := range catalogue {
		p := journal.CheckPopulation{Check: c.id, Count: len(ns.workloads), SHA256: digest}
		for _, f := range ns.open {
			if f.f.Check == c.id {
				if f.exception != "" {
					p.Excepted++
				} else {
					p.Failed++
				}
			}
		}
		body.Checks = append(body.Checks, p)
	}
	keys := make([]string, 0, len(ns.open))
	for k := range ns.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := ns.open[k].f
		f.Exception = ns.open[k].exception
		body.Open = append(body.Open, f)
	}
	var names []string
	for name, e := range exceptions {
		if e.ns == ns.name && !e.expired && e.e.Created.Before(at) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		body.Exceptions = append(body.Exceptions, exceptions[n].e)
	}
	return journal.Record{Type: journal.Attestation, Time: at, Namespace: ns.name, Attestation: body}
}

func split(s string) (string, string) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

func ptr[T any](v T) *T { return &v }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
