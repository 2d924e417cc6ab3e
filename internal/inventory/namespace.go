package inventory

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Namespace reads a namespace from the cache or, when the cache does not hold it yet, from the
// API server (apiReader; nil reads only the cache). The API server admits nothing into a
// namespace that does not exist, so one missing from the cache while an object in it is being
// judged is one the cache has not caught up with: a namespace applied together with its
// workloads or exceptions. The error is the reader's, so a caller can tell not found.
func Namespace(ctx context.Context, cache, apiReader client.Reader, name string) (*corev1.Namespace, error) {
	ns := &corev1.Namespace{}
	err := cache.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) && apiReader != nil {
		err = apiReader.Get(ctx, client.ObjectKey{Name: name}, ns)
	}
	if err != nil {
		return nil, err
	}
	return ns, nil
}
