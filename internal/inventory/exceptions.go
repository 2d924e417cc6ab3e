package inventory

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Exceptions lists every ControlException the reader holds, in every namespace, as the engine
// takes them: the engine judges which apply. The reconcilers and the admission webhook both
// read them here.
func Exceptions(ctx context.Context, r client.Reader) ([]*v1alpha1.ControlException, error) {
	list := &v1alpha1.ControlExceptionList{}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing exceptions: %w", err)
	}
	out := make([]*v1alpha1.ControlException, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	return out, nil
}
