package controllers

import (
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// pace spaces the evaluations that changes trigger in each (profile, namespace): a namespace
// changed again within every of its last evaluation is evaluated every after it, however many
// changes came in between (the queue holds each request once). A namespace admin who flips an
// object between failing and passing every second made one evaluation each time, and each
// evaluation journals every finding that opened or closed (24 records for a container failing
// 12 checks, TestATenantsChurnCostsTheJournal): tens of thousands of records an hour from one
// namespace, read by every evidence pack of the cluster, and the profile controller's workers
// (2) busy with it. A namespace that changes now and then is evaluated CoalesceDelay after each
// change, as before. Periodic and full evaluations are not paced.
type pace struct {
	every time.Duration
	now   func() time.Time // real time, as the work queue's delays (nil: time.Now)

	mu   sync.Mutex
	last map[reconcile.Request]time.Time
}

// delay is how long a change of req waits before it is evaluated: at least min (the coalescing
// delay), and until every after req's last evaluation. Full evaluations (no namespace) are not
// paced, nor is anything when p is nil.
func (p *pace) delay(req reconcile.Request, min time.Duration) time.Duration {
	if p == nil || p.every <= 0 || req.Namespace == "" {
		return min
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	last, ok := p.last[req]
	if !ok {
		return min
	}
	return max(min, last.Add(p.every).Sub(p.clock()))
}

// evaluated notes that req's namespace is being evaluated now (changes from now on are seen by
// the next evaluation). What is older than every is forgotten.
func (p *pace) evaluated(req reconcile.Request) {
	if p == nil || p.every <= 0 || req.Namespace == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	if p.last == nil {
		p.last = map[reconcile.Request]time.Time{}
	}
	if len(p.last) >= paceSweep {
		for k, at := range p.last {
			if now.Sub(at) >= p.every {
				delete(p.last, k)
			}
		}
	}
	p.last[req] = now
}

// DefaultMinNamespaceInterval is the operator's pace (Options.MinNamespaceInterval): at most
// 360 change-triggered evaluations an hour of one namespace under one profile.
const DefaultMinNamespaceInterval = 10 * time.Second

// paceSweep is how many namespaces pace remembers before it forgets those evaluated longer than
// its pace ago.
const paceSweep = 1024

func (p *pace) clock() time.Time {
	if p.now == nil {
		return time.Now()
	}
	return p.now()
}
