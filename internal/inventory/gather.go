package inventory

import (
	"context"
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Gatherer reads the objects the checks judge from a reader, normally the manager's cache.
type Gatherer struct {
	// Reader lists objects; with the cache, lists cost no API call.
	Reader client.Reader
	// Kinds are the kinds to read: Kinds without the optional ones the API server lacks and
	// those the operator may not list (Readable).
	Kinds []Kind
	// Unseen are the kinds the operator may not list, with why (Readable): every evaluation's
	// inventory carries them (Inventory), so that what they would decide says NotAssessed.
	Unseen map[string]engine.Unseen
	// Client and Mapper, when set, let Recheck ask whether the operator may still read Kinds.
	Client client.Client
	Mapper meta.RESTMapper
	// Discovery, when set, lets Recheck ask whether the API server still serves the optional
	// kinds in Kinds (Gone).
	Discovery discovery.ServerResourcesInterface

	// sinceStart are the kinds the last Recheck found unseen since the operator started: kinds
	// of Kinds it may no longer read, and optional kinds installed since (Appeared).
	sinceStart atomic.Pointer[map[string]engine.Unseen]
}

// Inventory indexes objects gathered by g for one evaluation, with the kinds g cannot read.
func (g *Gatherer) Inventory(objects []*engine.Object) *engine.Inventory {
	inv := engine.NewInventory(objects, true)
	inv.Unseen = g.AllUnseen()
	return inv
}

// Scope says which objects to gather.
type Scope struct {
	// Namespaces are the namespaces whose objects are gathered (with their Namespace objects),
	// and the objects of Everywhere kinds of every namespace. Nil gathers no namespaced object.
	Namespaces map[string]bool
	// ClusterScoped gathers the cluster-scoped objects too (ClusterRoles, bindings, ...).
	ClusterScoped bool
}

// Gather returns engine objects for the scope. Objects are the cache's own, not copies: the
// engine only reads them.
func (g *Gatherer) Gather(ctx context.Context, scope Scope) ([]*engine.Object, error) {
	var out []*engine.Object
	single := ""
	if len(scope.Namespaces) == 1 {
		for ns := range scope.Namespaces {
			single = ns
		}
	}
	for _, k := range g.Kinds {
		if k.ByName {
			continue // read by the names other objects give (NodesOf)
		}
		wantNS := k.Namespaced && len(scope.Namespaces) > 0
		isNamespaceKind := k.GVK.Kind == "Namespace"
		if !wantNS && !(scope.ClusterScoped && !k.Namespaced) && !(isNamespaceKind && len(scope.Namespaces) > 0) {
			continue
		}
		list := k.NewList()
		opts := []client.ListOption{client.UnsafeDisableDeepCopy}
		if single != "" && k.Namespaced && !k.Everywhere {
			opts = append(opts, client.InNamespace(single))
		}
		if err := g.Reader.List(ctx, list, opts...); err != nil {
			return nil, fmt.Errorf("listing %s: %w", k.GVK.Kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, fmt.Errorf("reading the %s list: %w", k.GVK.Kind, err)
		}
		apiVersion := k.APIVersion()
		for _, item := range items {
			obj, ok := item.(client.Object)
			if !ok {
				continue
			}
			switch {
			case isNamespaceKind:
				// Namespace objects belong to their namespace's evaluation.
				if !scope.Namespaces[obj.GetName()] {
					continue
				}
			case k.Namespaced:
				if !scope.Namespaces[obj.GetNamespace()] && !k.Everywhere {
					continue
				}
			}
			if cm, ok := obj.(*corev1.ConfigMap); ok {
				// A ConfigMap the operator's cache did not keep whole is judged by its digest.
				out = append(out, checks.CachedConfigMap(cm, apiVersion))
				continue
			}
			out = append(out, CachedObject(obj, apiVersion, k.GVK.Kind))
		}
	}
	return out, nil
}

// NodesOf reads the Nodes that decide the OS of objs' bound Pods (engine.OSDependsOnOthers: a
// Pod bound to a node whose own spec names no OS), by name, as metadata only, for the
// inventory: a handful per namespace, not every node of the cluster. A node that does not
// exist is left out (it decides nothing); none is read when g may not read Nodes.
func (g *Gatherer) NodesOf(ctx context.Context, objs []*engine.Object) ([]*engine.Object, error) {
	readable := false
	for _, k := range g.Kinds {
		readable = readable || k.ByName && k.GVK == NodeKind.GVK
	}
	if !readable {
		return nil, nil
	}
	var out []*engine.Object
	seen := map[string]bool{}
	for _, o := range objs {
		if o.Kind != "Pod" || o.Workload == nil || !engine.OSDependsOnOthers(o, true) {
			continue
		}
		name := o.Workload.PodSpec.NodeName
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		node := NodeKind.New()
		if err := g.Reader.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("reading node %s: %w", name, err)
		}
		out = append(out, engine.NewObject(node, NodeKind.APIVersion(), "Node"))
	}
	return out, nil
}
