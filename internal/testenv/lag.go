package testenv

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Lag reads through its Client like a cache that has not yet seen any object of the kinds in
// Unseen (a namespace, a ReplicaSet or a NetworkPolicy created a moment ago): a read of one is
// not found and a list of them is empty; everything else is read as is.
type Lag struct {
	client.Client
	// Unseen are objects of the kinds the cache has not seen, e.g. &corev1.Namespace{}.
	Unseen []client.Object
}

// Get reads the object, or says it is not found when its kind is unseen.
func (c Lag) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if gk, ok := c.unseen(obj, ""); ok {
		resource := gk.Kind
		if m, err := c.RESTMapper().RESTMapping(gk); err == nil {
			resource = m.Resource.Resource
		}
		return apierrors.NewNotFound(schema.GroupResource{Group: gk.Group, Resource: resource}, key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// List lists the objects, or none when their kind is unseen.
func (c Lag) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := c.unseen(list, "List"); ok {
		return nil
	}
	return c.Client.List(ctx, list, opts...)
}

// unseen reports whether obj (a list when suffix is "List") is of a kind in Unseen.
func (c Lag) unseen(obj runtime.Object, suffix string) (schema.GroupKind, bool) {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil || !strings.HasSuffix(gvk.Kind, suffix) {
		return schema.GroupKind{}, false
	}
	gk := schema.GroupKind{Group: gvk.Group, Kind: strings.TrimSuffix(gvk.Kind, suffix)}
	for _, u := range c.Unseen {
		if ugvk, err := apiutil.GVKForObject(u, c.Scheme()); err == nil && ugvk.GroupKind() == gk {
			return gk, true
		}
	}
	return schema.GroupKind{}, false
}

// ListedExceptions is an interceptor List (sigs.k8s.io/controller-runtime/pkg/client/interceptor)
// that lists as the client does, then passes every ControlException listed to edit: a reader
// that sees exceptions as a cache not yet caught up would, or as they were before a write.
func ListedExceptions(edit func(*v1alpha1.ControlException)) func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
	return func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if err := c.List(ctx, list, opts...); err != nil {
			return err
		}
		if l, ok := list.(*v1alpha1.ControlExceptionList); ok {
			for i := range l.Items {
				edit(&l.Items[i])
			}
		}
		return nil
	}
}
