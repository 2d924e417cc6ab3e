package inventory

import (
	"context"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// Readable splits kinds into those the operator may list and watch in every namespace and
// those it may not, as the API server's authorizer answers (SelfSubjectAccessReview): a
// cluster admin may have trimmed its ClusterRole. An informer on a kind it may not list never
// syncs: a controller watching it stops the operator after two minutes, and a read from the
// cache waits for it. Those kinds are left out (neither watched nor gathered) and returned as
// unseen, with why, for the engine to say NotAssessed on what they would decide
// (engine.Inventory.Unseen). Namespaces are needed to select anything: without them Readable
// fails.
func Readable(ctx context.Context, c client.Client, mapper meta.RESTMapper, kinds []Kind) ([]Kind, map[string]engine.Unseen, error) {
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
		if k.GVK.Kind == "Namespace" {
			return nil, nil, fmt.Errorf("the operator may not %s namespaces in every namespace, so it cannot select any: grant them in its ClusterRole (config/rbac)", strings.Join(denied, " or "))
		}
		if unseen == nil {
			unseen = map[string]engine.Unseen{}
		}
		unseen[k.GVK.Kind] = engine.Unseen{Namespaced: k.Namespaced,
			Reason: fmt.Sprintf("the operator may not %s %s: grant them in its ClusterRole (config/rbac) and restart it", strings.Join(denied, " or "), resource)}
	}
	return readable, unseen, nil
}
