package inventory

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Exceptions lists the ControlExceptions the reader holds in the namespaces given, or in every
// namespace when none is given, as the engine takes them: the engine judges which apply. The
// reconcilers read every namespace's; the admission webhook reads only those that can apply to
// the workload it judges (its namespace's and the operator's), so that one tenant's thousands
// of exceptions do not slow every other tenant's admissions.
func Exceptions(ctx context.Context, r client.Reader, namespaces ...string) ([]*v1alpha1.ControlException, error) {
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	var out []*v1alpha1.ControlException
	for _, ns := range namespaces {
		list := &v1alpha1.ControlExceptionList{}
		if err := r.List(ctx, list, client.InNamespace(ns)); err != nil {
			if ns == metav1.NamespaceAll {
				return nil, fmt.Errorf("listing exceptions: %w", err)
			}
			return nil, fmt.Errorf("listing exceptions in %s: %w", ns, err)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}
