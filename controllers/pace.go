package controllers

import (
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// pace spaces the evaluations that changes trigger in each (profile, namespace), once it keeps
// changing: each namespace has paceBurst evaluations in hand, and earns one back every `every`;
// a change that finds none in hand waits until one is earned, however many changes come in
// between (the queue holds each request once). A namespace admin who flips an object between
// failing and passing every second made one evaluation each time, and each evaluation journals
// every finding that opened or closed (24 records for a container failing 12 checks,
// TestATenantsChurnCostsTheJournal): tens of thousands of records an hour from one namespace,
// read by every evidence pack of the cluster, and the profile controller's workers (2) busy
// with it. A namespace that changes now and then, or a few times in a row (a rollout, a fix
// and another fix), is evaluated CoalesceDelay after each change, as before: with the pace
// applied from the second change, two changes a few seconds apart had the second wait up to
// `every` (the operator-at-scale benchmark's change latency went from 280 ms to 8 s). Periodic
// and full evaluations are not paced.
type pace struct {
	every time.Duration
	now   func() time.Time // real time, as the work queue's delays (nil: time.Now)

	mu   sync.Mutex
	last map[reconcile.Request]paceBucket
}

// paceBucket is how many evaluations a namespace had in hand at a time.
type paceBucket struct {
	tokens float64
	at     time.Time
}

// paceBurst is how many evaluations in a row a namespace's changes get before the pace applies.
const paceBurst = 10

// tokens is what b holds at now: what it held, plus one per `every` since, up to paceBurst.
func (p *pace) tokens(b paceBucket, now time.Time) float64 {
	return min(paceBurst, b.tokens+float64(now.Sub(b.at))/float64(p.every))
}

// delay is how long a change of req waits before it is evaluated: at least min (the coalescing
// delay), and until req has an evaluation in hand. Full evaluations (no namespace) are not
// paced, nor is anything when p is nil.
func (p *pace) delay(req reconcile.Request, min time.Duration) time.Duration {
	if p == nil || p.every <= 0 || req.Namespace == "" {
		return min
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.last[req]
	if !ok {
		return min
	}
	t := p.tokens(b, p.clock())
	if t >= 1 {
		return min
	}
	return max(min, time.Duration((1-t)*float64(p.every)))
}

// evaluated notes that req's namespace is being evaluated now (changes from now on are seen by
// the next evaluation): it spends one evaluation in hand. Namespaces with every evaluation in
// hand again are forgotten.
func (p *pace) evaluated(req reconcile.Request) {
	if p == nil || p.every <= 0 || req.Namespace == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	if p.last == nil {
		p.last = map[reconcile.Request]paceBucket{}
	}
	if len(p.last) >= paceSweep {
		for k, b := range p.last {
			if p.tokens(b, now) >= paceBurst {
				delete(p.last, k)
			}
		}
	}
	t := float64(paceBurst)
	if b, ok := p.last[req]; ok {
		t = p.tokens(b, now)
	}
	p.last[req] = paceBucket{tokens: max(t-1, 0), at: now}
}

// DefaultMinNamespaceInterval is the operator's pace (Options.MinNamespaceInterval): after
// paceBurst in a row, at most 360 change-triggered evaluations an hour of one namespace under
// one profile.
const DefaultMinNamespaceInterval = 10 * time.Second

// paceSweep is how many namespaces pace remembers before it forgets those with every evaluation
// in hand again.
const paceSweep = 1024

func (p *pace) clock() time.Time {
	if p.now == nil {
		return time.Now()
	}
	return p.now()
}
