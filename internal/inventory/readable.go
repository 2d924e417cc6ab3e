package inventory

import (
	"context"
	"fmt"
	"maps"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// The operator's role grants it the access reviews it asks (system:basic-user grants them to
// every user too, but a cluster admin may take that binding away).
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=selfsubjectaccessreviews,verbs=create

// Readable splits kinds into those the operator may list and watch in every namespace and
// those it may not, as the API server's authorizer answers (SelfSubjectAccessReview): a
// cluster admin may have trimmed its ClusterRole. An informer on a kind it may not list never
// syncs: a controller watching it stops the operator after two minutes, and a read from the
// cache waits for it. Those kinds are left out (neither watched nor gathered) and returned as
// unseen, with why, for the engine to say NotAssessed on what they would decide
// (engine.Inventory.Unseen). Namespaces are needed to select anything: without them Readable
// fails.
func Readable(ctx context.Context, c client.Client, mapper meta.RESTMapper, kinds []Kind) ([]Kind, map[string]engine.Unseen, error) {
	readable, unseen, err := probe(ctx, c, mapper, kinds, "")
	if err != nil {
		return nil, nil, err
	}
	if u, ok := unseen["Namespace"]; ok {
		return nil, nil, fmt.Errorf("the operator cannot select any namespace: %s", u.Reason)
	}
	return readable, unseen, nil
}

// Recheck asks again whether the operator may list and watch each kind it reads (Readable),
// and keeps those it no longer may as unseen until it may again: its informers then cannot
// relist, and the cache holds the objects as they were when they last could, however long ago
// (the objects deleted since included), while it still reports itself synced. It also keeps as
// unseen the optional kinds the API server has served since the operator started (Appeared).
// It does nothing without Client and Mapper.
func (g *Gatherer) Recheck(ctx context.Context) error {
	if g.Client == nil || g.Mapper == nil {
		return nil
	}
	_, revoked, err := probe(ctx, g.Client, g.Mapper, g.Kinds, ", and its cache holds them as they were when it last could")
	if err != nil {
		return err
	}
	for kind, u := range Appeared(g.Mapper, g.Kinds, g.Unseen) {
		if revoked == nil {
			revoked = map[string]engine.Unseen{}
		}
		revoked[kind] = u
	}
	if g.Discovery != nil {
		gone, err := Gone(g.Discovery, g.Kinds)
		if err != nil {
			return err
		}
		for kind, u := range gone {
			if revoked == nil {
				revoked = map[string]engine.Unseen{}
			}
			revoked[kind] = u
		}
	}
	g.sinceStart.Store(&revoked)
	return nil
}

// Appeared are the optional kinds (an add-on's: Trivy Operator's reports, the Gateway API's)
// that the API server serves now but that are neither among kinds, the kinds the operator read
// when it started, nor unseen already: their CRDs were installed since. The operator watches
// the kinds it finds at start, so it reads none of their objects until it restarts, and the
// checks that would judge them must say so rather than pass with nothing to judge (a workload
// published through an HTTPRoute on an HTTP listener, the Gateway API installed after the
// operator, read CC6.7 Pass).
func Appeared(mapper meta.RESTMapper, kinds []Kind, unseen map[string]engine.Unseen) map[string]engine.Unseen {
	// Kinds are told apart by group: Istio's Gateway is not the Gateway API's. The engine's unseen
	// kinds are names, and a kind unseen in one group is unseen in all.
	read := map[schema.GroupKind]bool{}
	for _, k := range kinds {
		read[k.GVK.GroupKind()] = true
	}
	var out map[string]engine.Unseen
	for _, k := range Kinds {
		if _, ok := unseen[k.GVK.Kind]; !k.Optional || read[k.GVK.GroupKind()] || ok {
			continue
		}
		for _, v := range append([]string{k.GVK.Version}, k.Older...) {
			mapping, err := mapper.RESTMapping(k.GVK.GroupKind(), v)
			if err != nil {
				continue
			}
			if out == nil {
				out = map[string]engine.Unseen{}
			}
			out[k.GVK.Kind] = engine.Unseen{Namespaced: k.Namespaced, Reason: fmt.Sprintf(
				"the API server serves %s since the operator started, and the operator watches only the kinds served when it starts: restart it to read them",
				mapping.Resource.GroupResource())}
			break
		}
	}
	return out
}

// Gone are the optional kinds among kinds, the kinds the operator read when it started, that
// the API server no longer serves at the version read: the add-on was uninstalled (its
// CustomResourceDefinition deleted) or the version dropped from the ones it serves. Their
// informers cannot list or watch any more, and the cache goes on holding their objects as they
// were (Trivy's VulnerabilityReports from before the uninstall still judged the images they
// named, a deleted HTTPRoute still published a workload), so what they decide is NotAssessed
// until the operator restarts. It asks discovery once per group version of those kinds; a
// group version the API server does not know serves none of them.
func Gone(d discovery.ServerResourcesInterface, kinds []Kind) (map[string]engine.Unseen, error) {
	served := map[schema.GroupVersion]map[string]bool{}
	var out map[string]engine.Unseen
	for _, k := range kinds {
		if !k.Optional {
			continue
		}
		gv := k.GVK.GroupVersion()
		names, ok := served[gv]
		if !ok {
			list, err := d.ServerResourcesForGroupVersion(gv.String())
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return nil, fmt.Errorf("asking the API server whether it still serves %s: %w", gv, err)
			default:
				names = map[string]bool{}
				for _, r := range list.APIResources {
					if !strings.Contains(r.Name, "/") { // not a subresource
						names[r.Kind] = true
					}
				}
			}
			served[gv] = names
		}
		if names[k.GVK.Kind] {
			continue
		}
		if out == nil {
			out = map[string]engine.Unseen{}
		}
		out[k.GVK.Kind] = GoneUnseen(k)
	}
	return out, nil
}

// GoneUnseen is the optional kind k as unseen because the API server no longer serves it at the
// version read (Gone).
func GoneUnseen(k Kind) engine.Unseen {
	return engine.Unseen{Namespaced: k.Namespaced, Reason: fmt.Sprintf(
		"the API server no longer serves %s %s (its CustomResourceDefinition was removed, or no longer serves that version, since the operator started), and the operator's cache holds its objects as they were: restart the operator",
		k.GVK.Kind, k.GVK.GroupVersion())}
}

// AllUnseen are the kinds the evaluations cannot read: those Readable left out, and those
// Recheck found since (revoked, or installed after the operator started).
func (g *Gatherer) AllUnseen() map[string]engine.Unseen {
	since := g.sinceStart.Load()
	if since == nil || len(*since) == 0 {
		return g.Unseen
	}
	out := maps.Clone(g.Unseen)
	if out == nil {
		out = map[string]engine.Unseen{}
	}
	maps.Copy(out, *since)
	return out
}

// probe asks the API server's authorizer whether the operator may list and watch each kind in
// every namespace, and returns those it may and those it may not, with why (detail added to
// the reason).
func probe(ctx context.Context, c client.Client, mapper meta.RESTMapper, kinds []Kind, detail string) ([]Kind, map[string]engine.Unseen, error) {
	var readable []Kind
	var unseen map[string]engine.Unseen
	for _, k := range kinds {
		mapping, err := mapper.RESTMapping(k.GVK.GroupKind(), k.GVK.Version)
		if err != nil {
			return nil, nil, fmt.Errorf("the API server does not serve %s: %w", k.GVK, err)
		}
		resource := mapping.Resource.GroupResource()
		var denied []string
		for _, verb := range []string{"list", "watch"} {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: resource.Group, Resource: resource.Resource}}}
			if err := c.Create(ctx, review); err != nil {
				return nil, nil, fmt.Errorf("asking whether the operator may %s %s: %w", verb, resource, err)
			}
			if !review.Status.Allowed {
				denied = append(denied, verb)
			}
		}
		if len(denied) == 0 {
			readable = append(readable, k)
			continue
		}
		if unseen == nil {
			unseen = map[string]engine.Unseen{}
		}
		unseen[k.GVK.Kind] = engine.Unseen{Namespaced: k.Namespaced,
			Reason: fmt.Sprintf("the operator may not %s %s%s: grant them in its ClusterRole (config/rbac) and restart it", strings.Join(denied, " or "), resource, detail)}
	}
	return readable, unseen, nil
}
