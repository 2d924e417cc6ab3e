package engine

import (
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Inventory is the set of objects one evaluation sees, with the indexes cross-object checks
// use. It is built once per evaluation; no lookup is slower than a map access.
type Inventory struct {
	// Complete is true when the objects are a complete view of the cluster (the operator).
	// It is false for a set of manifests (scan): an object that is referred to but absent
	// may simply not be in the input, so checks say NotAssessed instead of Fail.
	Complete bool
	// Unseen are the kinds the evaluation should hold but could not read, by kind, with why
	// (the operator sets them; see Unseen). A check that judges or reads one says NotAssessed
	// with the reason, not Pass or Fail on an inventory that lacks every object of the kind.
	Unseen map[string]Unseen

	objects  []*Object
	byKey    map[objectKey]*Object
	byNsKind map[nsKind][]*Object
	byKind   map[string][]*Object
	// replaced are the objects a later one replaces in List and ListKind (index).
	replaced map[*Object]bool
	// earlier are, by object, the copies of it (same kind, namespace and name) it replaces,
	// oldest first (Earlier).
	earlier map[*Object][]*Object
	// unserved are, by kind, a scan's objects of an apiVersion the API server does not serve,
	// which index leaves out (Unserved).
	unserved map[string][]*Object
	// mu guards memo and provenance: a Stream's end judges several objects at once over one
	// inventory. What they hold is computed outside the lock (a computation may look up other
	// memos); two goroutines may compute the same entry, and the first stored is kept. A view
	// of the inventory (viewedBy) shares them.
	mu   *sync.Mutex
	memo map[memoKey]any
	// provenance holds what each controller reference establishes, decided on first use.
	provenance map[*Object]*Provenance
	// alone is set in the inventory a Stream judges one object in by itself (with local checks
	// only): any look-up of another object panics, and the check that made it says NotAssessed
	// with an internal error that names it (see Check.Local).
	alone *Object
	// stop is, in the view of an evaluation whose caller may stop waiting (viewedBy), that
	// evaluation's Context.Stopped; nil reads on.
	stop func() bool
}

type objectKey struct{ kind, namespace, name string }

type nsKind struct{ namespace, kind string }

type memoKey struct {
	obj  *Object
	name string
}

// NewInventory indexes objects. Objects are taken as they are: do not modify them afterwards.
func NewInventory(objects []*Object, complete bool) *Inventory {
	inv := &Inventory{
		Complete:   complete,
		objects:    objects,
		byKey:      make(map[objectKey]*Object, len(objects)),
		byNsKind:   make(map[nsKind][]*Object),
		byKind:     make(map[string][]*Object),
		mu:         &sync.Mutex{},
		memo:       make(map[memoKey]any),
		provenance: map[*Object]*Provenance{},
	}
	for _, o := range objects {
		inv.index(o)
	}
	return inv
}

// index files o under its keys. A later object of the same kind, namespace and name replaces
// an earlier one in Get, List and ListKind, as kubectl apply leaves the later one in the cluster
// (Replaced): two NetworkPolicies of one name in a scan's files are one in the cluster, the last,
// and the first covers no pod there; so are two copies in versions the API server serves at
// once (a Gateway API Gateway in v1 and v1beta1, a HorizontalPodAutoscaler in autoscaling/v1 and
// v2). Objects still holds every one, and each is judged. Get files an object of
// a group other than Kubernetes' own under its IdentityKind (Role.iam.aws.m.upbound.io), so
// that a custom resource that reuses a built-in kind's name never stands in for the Kubernetes
// object of that name.
//
// Objects without a name (a generateName alone) replace nothing and are not indexed at all:
// Objects holds them, and each is judged, but no other object's check finds them (Get, List,
// ListKind). `kubectl apply` refuses them ("cannot use generate name with apply"), and so do
// Helm, Flux and an Argo CD sync, while the objects beside them are applied: a NetworkPolicy or a
// PodDisruptionBudget that names none protects nothing a gate may count on (until December 2026
// a NetworkPolicy with a generateName covered the pods of a scan's namespace). Only a scan's
// objects are left out so: every object the API server holds has a name, and one a webhook is
// asked to admit may have none yet (a mutating webhook sees a Pod its ReplicaSet creates before
// the API server generates its name), while it is to exist.
//
// Nor, in a scan, are objects of an apiVersion the API server does not serve for their kind
// (Object.Unserved): it refuses them while `kubectl apply` creates the objects beside them, so
// they replace nothing and no other object's check finds them (until December 2026 an
// extensions/v1beta1 NetworkPolicy covered the pods of its namespace, and a
// rbac.authorization.k8s.io/v1beta1 copy of a Role decided what a binding to the Role granted,
// though the cluster holds the v1 one). Objects holds them, and each is judged: their copies in
// versions no longer served (an autoscaling/v2beta2 copy of an autoscaling/v1
// HorizontalPodAutoscaler) replace nothing.
func (inv *Inventory) index(o *Object) {
	if !inv.Complete && o.Name != "" && o.Unserved != "" {
		if inv.unserved == nil {
			inv.unserved = map[string][]*Object{}
		}
		inv.unserved[o.Kind] = append(inv.unserved[o.Kind], o)
		return
	}
	if !inv.Complete && o.Name == "" {
		return
	}
	key := objectKey{o.IdentityKind(), o.Namespace, o.Name}
	k := nsKind{o.Namespace, o.Kind}
	if prev := inv.byKey[key]; prev != nil && o.Name != "" {
		inv.byNsKind[k] = slices.DeleteFunc(inv.byNsKind[k], func(x *Object) bool { return x == prev })
		inv.byKind[o.Kind] = slices.DeleteFunc(inv.byKind[o.Kind], func(x *Object) bool { return x == prev })
		if inv.replaced == nil {
			inv.replaced = map[*Object]bool{}
		}
		inv.replaced[prev] = true
		if inv.earlier == nil {
			inv.earlier = map[*Object][]*Object{}
		}
		inv.earlier[o] = append(slices.Clip(inv.earlier[prev]), prev)
	}
	inv.byKey[key] = o
	inv.byNsKind[k] = append(inv.byNsKind[k], o)
	inv.byKind[o.Kind] = append(inv.byKind[o.Kind], o)
}

// Replaced reports whether a later object of the same kind, namespace and name replaces o, or,
// in a scan, the API server refuses o's apiVersion (Object.Unserved; see index): what another
// object's checks read of the cluster leaves o out, as List does.
func (inv *Inventory) Replaced(o *Object) bool {
	return inv.replaced[o] || (!inv.Complete && o.Unserved != "")
}

// Earlier returns the copies of o (objects of the same kind, namespace and name, given before it)
// that o replaces, oldest first. An update the API server refuses leaves the object as the last
// copy it took made it: where a check finds that it refuses o (its spec, its metadata), the
// cluster holds the last of these it takes, not nothing (kubectl apply created the object from
// an earlier copy and failed to update it with o).
func (inv *Inventory) Earlier(o *Object) []*Object {
	inv.crossObject(func() string { return "the earlier copies of " + o.Kind + " " + o.Namespace + "/" + o.Name })
	return inv.earlier[o]
}

// Unserved returns a scan's objects of a kind whose apiVersion the API server does not serve
// (Object.Unserved), which List and ListKind leave out: for a check to name them where they
// would have made a difference.
func (inv *Inventory) Unserved(kind string) []*Object {
	inv.crossObject(func() string { return "every unserved " + kind })
	return inv.unserved[kind]
}

// add appends o to the inventory, as if it had been given to NewInventory last. Nothing may
// have been looked up yet (memos would be stale).
func (inv *Inventory) add(o *Object) {
	inv.objects = append(inv.objects, o)
	inv.index(o)
}

// judgeAlone makes inv the inventory of o judged by itself: o is the only object a check may
// see, through Memo.
func (inv *Inventory) judgeAlone(o *Object) {
	inv.alone = o
	clear(inv.memo)
}

// crossObject panics in an inventory made for judging one object by itself: a check marked as
// local (Check.Local) looked up another object. what describes the lookup; it is called only
// then (building the words on every lookup was a fifth of what checks allocate).
func (inv *Inventory) crossObject(what func() string) {
	if inv.alone != nil {
		panic(fmt.Sprintf("a check that declares no other kind read (Check.Reads) looked up %s while %s %s was judged by itself", what(), inv.alone.Kind, inv.alone.Name))
	}
}

// Objects are every object, in the order given.
func (inv *Inventory) Objects() []*Object {
	inv.crossObject(func() string { return "every object" })
	return inv.objects
}

// Get returns the object of that kind, namespace and name, or nil. kind is an IdentityKind: a
// bare kind names the object of one of Kubernetes' own groups (a RoleBinding's Role is never a
// Crossplane provider's AWS Role of the same name, which a later document would otherwise
// replace it with), kind.group one of another group (Rollout.argoproj.io).
func (inv *Inventory) Get(kind, namespace, name string) *Object {
	inv.crossObject(func() string { return kind + " " + namespace + "/" + name })
	return inv.byKey[objectKey{kind, namespace, name}]
}

// ServiceAccount returns the Kubernetes ServiceAccount of that namespace and name, or nil: the
// last the input holds, as kubectl apply leaves it. An object of another API group whose kind is
// also ServiceAccount (a cloud IAM account a Crossplane provider manages, such as
// iam.gcp.m.upbound.io's) is none: it is no pod's identity and says nothing about its token, and
// Get files it under its IdentityKind. Under the bare kind there is only core/v1's (a scan refuses
// a ServiceAccount of any other Kubernetes apiVersion as never served).
func (inv *Inventory) ServiceAccount(namespace, name string) *corev1.ServiceAccount {
	o := inv.Get("ServiceAccount", namespace, name)
	if o == nil {
		return nil
	}
	sa, _ := o.Obj.(*corev1.ServiceAccount)
	return sa
}

// List returns the objects of a kind in a namespace ("" for cluster-scoped kinds).
func (inv *Inventory) List(namespace, kind string) []*Object {
	inv.crossObject(func() string { return kind + " objects in namespace " + namespace })
	return inv.byNsKind[nsKind{namespace, kind}]
}

// ListKind returns every object of a kind, in every namespace.
func (inv *Inventory) ListKind(kind string) []*Object {
	inv.crossObject(func() string { return "every " + kind })
	return inv.byKind[kind]
}

// Memo returns what compute returns for (obj, name), computing it once per evaluation (twice
// at most when two goroutines ask at once: compute must depend only on the inventory). Checks
// use it to share derived data, such as a parsed selector or a role's permissions. With a nil
// obj it holds data for the whole evaluation, such as an index: prefix the name with the
// check group ("availability.pdbs") so that groups do not collide.
//
// A compute whose work grows with what a namespace's tenant wrote (an index of thousands of
// NetworkPolicies) asks Stopped between steps and returns what it has when told true. What a
// compute returns when the evaluation's caller has gone is kept nowhere, whether it stopped or
// not: the evaluation is cut short (Context.Stopped), and a later one of the same inventory
// computes it whole.
func (inv *Inventory) Memo(obj *Object, name string, compute func() any) any {
	if obj != inv.alone {
		inv.crossObject(func() string { return "memo " + name })
	}
	if inv.stop == nil {
		return once(inv.mu, inv.memo, memoKey{obj, name}, compute)
	}
	k := memoKey{obj, name}
	inv.mu.Lock()
	v, ok := inv.memo[k]
	inv.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	if inv.stop() {
		return v
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if first, ok := inv.memo[k]; ok {
		return first
	}
	inv.memo[k] = v
	return v
}

// Stopped reports whether the caller of the evaluation that reads the inventory has gone
// (Context.Stopped, which it asks: the check that asked is cut short). A Memo's compute asks it
// between steps whose number a tenant decides; told true, it returns what it has, which is
// kept nowhere. Always false but in an evaluation with Options.Context (the admission
// webhook's).
func (inv *Inventory) Stopped() bool {
	return inv.stop != nil && inv.stop()
}

// viewedBy is the inventory as an evaluation whose caller may stop waiting reads it: the same
// objects, indexes and memos, and Stopped asks stop. The inventory itself is unchanged (another
// evaluation of it reads on).
func (inv *Inventory) viewedBy(stop func() bool) *Inventory {
	v := *inv
	v.stop = stop
	return &v
}

// once returns m[k], computing and storing it first when absent. compute runs without mu held
// (it may call once itself); when two goroutines compute the same entry, the first stored is
// kept and returned to both.
func once[K comparable, V any](mu *sync.Mutex, m map[K]V, k K, compute func() V) V {
	mu.Lock()
	v, ok := m[k]
	mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	mu.Lock()
	defer mu.Unlock()
	if first, ok := m[k]; ok {
		return first
	}
	m[k] = v
	return v
}
