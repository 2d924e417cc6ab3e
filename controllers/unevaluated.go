package controllers

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A namespace created and deleted while its first evaluation waited in the operator's queue (a
// busy operator, the coalescing delay) was NotFound when the evaluation ran: its report was
// never written, and the journal, which records what evaluations find, said nothing of it, so a
// short-lived namespace running a privileged Pod left no evidence that it ever was in scope.
// Its delete event still shows its labels: goneNamespaces keeps them for a while, so that the
// request that finds it gone can tell whether the profile selected it and journal it as in scope
// and never judged (journalHook.unevaluated).

// goneNamespaceTTL is how long a deleted namespace is remembered: longer than any request
// waits in the queue in practice (each profile's request for it reads it).
const goneNamespaceTTL = time.Hour

// maxGoneNamespaces bounds what is remembered (a tenant deleting namespaces by the thousand):
// the oldest are forgotten first.
const maxGoneNamespaces = 10000

// goneNamespace is a namespace as its delete event showed it, and when the event came.
type goneNamespace struct {
	ns      *corev1.Namespace
	deleted time.Time
}

type goneNamespaces struct {
	mu    sync.Mutex
	now   func() time.Time
	byKey map[string]goneNamespace
}

// remember keeps a deleted Namespace (any other object is ignored).
func (g *goneNamespaces) remember(obj client.Object) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.now != nil {
		now = g.now()
	}
	if g.byKey == nil {
		g.byKey = map[string]goneNamespace{}
	}
	for name, n := range g.byKey {
		if now.Sub(n.deleted) > goneNamespaceTTL {
			delete(g.byKey, name)
		}
	}
	if len(g.byKey) >= maxGoneNamespaces {
		oldest := ""
		for name, n := range g.byKey {
			if oldest == "" || n.deleted.Before(g.byKey[oldest].deleted) {
				oldest = name
			}
		}
		delete(g.byKey, oldest)
	}
	kept := &corev1.Namespace{ObjectMeta: *ns.ObjectMeta.DeepCopy()}
	kept.ManagedFields = nil
	g.byKey[ns.Name] = goneNamespace{ns: kept, deleted: now}
}

// lookup returns the namespace of the name as it was deleted, if it was lately and no namespace
// of the name was made since (the caller found none).
func (g *goneNamespaces) lookup(name string) (goneNamespace, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.byKey[name]
	return n, ok
}
