package webhook_test

import (
	"context"
	"strings"
	"testing"

	nodev1 "k8s.io/api/node/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestADenialOfATemplateWhoseRuntimeClassTheCacheLacksIsConfirmed: a cluster administrator
// applies a RuntimeClass that admits only Windows nodes together with a Deployment whose template
// names it. The RuntimeClass admission plugin merges the class's node selector into every Pod,
// so the template runs on Windows only, where wl-readonly-rootfs does not apply; but a cache that
// has not seen the class yet judges the template as Linux and denies it. The denial is confirmed
// with the RuntimeClasses the API server holds (the engine reads them beside the checks' kinds,
// engine.OSKinds), so the Deployment is admitted; one naming no class is still denied.
func TestADenialOfATemplateWhoseRuntimeClassTheCacheLacksIsConfirmed(t *testing.T) {
	const ns = "enforce-runtimeclass"
	setup(t, ns, v1alpha1.EnforcementEnforce)
	k, _ := newClient(t)
	ctx := context.Background()
	raiseToCritical(t, ns, "wl-readonly-rootfs")
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: ns + "-windows"}, Handler: "runhcs-wcow-process",
		Scheduling: &nodev1.Scheduling{NodeSelector: map[string]string{"kubernetes.io/os": "windows"}}}
	if err := k.Create(ctx, rc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(ctx, rc) })

	w, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	// A cache that has not seen the RuntimeClass created.
	cache := interceptor.NewClient(w, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if err := c.List(ctx, list, opts...); err != nil {
				return err
			}
			if l, ok := list.(*nodev1.RuntimeClassList); ok {
				kept := l.Items[:0]
				for _, item := range l.Items {
					if item.Name != rc.Name {
						kept = append(kept, item)
					}
				}
				l.Items = kept
			}
			return nil
		},
	})
	windows := deployment(ns, "windows-app", false)
	name := rc.Name
	windows.Spec.Template.Spec.RuntimeClassName = &name
	req := admission.Request{AdmissionRequest: *creatingDeployment(t, windows)}

	current, err := validator(k, k)
	if err != nil {
		t.Fatal(err)
	}
	if resp := current.Handle(ctx, req); !resp.Allowed {
		t.Fatalf("with a current cache: want the Windows template admitted, got %+v", resp.Result)
	}
	v, err := validator(cache, k)
	if err != nil {
		t.Fatal(err)
	}
	if resp := v.Handle(ctx, req); !resp.Allowed {
		t.Errorf("with the RuntimeClass missing from the cache, a template only Windows nodes run was denied: %+v", resp.Result)
	}
	linux := deployment(ns, "linux-app", false)
	if resp := v.Handle(ctx, admission.Request{AdmissionRequest: *creatingDeployment(t, linux)}); resp.Allowed || !strings.Contains(resp.Result.Message, "wl-readonly-rootfs") {
		t.Errorf("a template that names no RuntimeClass: want denied naming wl-readonly-rootfs, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
	// Without the confirmation (no API reader), the stale cache denies it: the test can tell.
	v.APIReader = nil
	if resp := v.Handle(ctx, req); resp.Allowed || !strings.Contains(resp.Result.Message, "wl-readonly-rootfs") {
		t.Errorf("judged on the stale cache alone: want the Windows template denied naming wl-readonly-rootfs, got allowed=%v %+v", resp.Allowed, resp.Result)
	}
}
