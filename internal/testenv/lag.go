package testenv

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NamespaceLag reads through its Client like a cache that has not yet seen any namespace (one
// created a moment ago): every Namespace read is not found, everything else is read as is.
type NamespaceLag struct{ client.Client }

// Get reads the object, or says a Namespace is not found.
func (c NamespaceLag) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Namespace); ok {
		return apierrors.NewNotFound(corev1.Resource("namespaces"), key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}
