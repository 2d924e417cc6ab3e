package controllers

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/internal/inventory"
)

// TestTenantAddOnAnnotationsDoNotGrowTheCache: the operator's informer cache kept the
// annotations of the kinds it reads unstructured (an add-on's: HTTPRoutes, ScaledObjects, ...)
// whole, so a namespace admin sized the operator's memory with them, up to 256 KiB an object.
// It now trims them past 16 KiB as it does a Service's, keeping whole those the checks read
// (KEDA's pause annotations): an HTTPRoute and a ScaledObject with 60 annotations of 4000
// bytes (234 KiB) stay under 24 KiB each, and the ScaledObject keeps its paused-replicas.
func TestTenantAddOnAnnotationsDoNotGrowTheCache(t *testing.T) {
	for _, kind := range []struct{ apiVersion, kind string }{
		{"gateway.networking.k8s.io/v1", "HTTPRoute"}, {"keda.sh/v1alpha1", "ScaledObject"},
	} {
		a := map[string]any{"autoscaling.keda.sh/paused-replicas": "0"}
		for j := range 60 {
			a[fmt.Sprintf("tenant.example.com/blob-%02d", j)] = strings.Repeat(fmt.Sprint(j%10), 4000)
		}
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": kind.apiVersion, "kind": kind.kind,
			"metadata": map[string]any{"name": "tenant", "namespace": "shop", "annotations": a}, "spec": map[string]any{}}}
		if _, err := stripObject(u); err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 24<<10 {
			t.Errorf("the cache holds %d KiB of a %s with 234 KiB of annotations: want at most 24 KiB", len(data)>>10, kind.kind)
		}
		got := u.GetAnnotations()
		if got["autoscaling.keda.sh/paused-replicas"] != "0" {
			t.Errorf("the %s lost the paused-replicas annotation the checks read", kind.kind)
		}
		if _, ok := got[inventory.AnnotationsWithheldAnnotation]; !ok {
			t.Errorf("the %s's annotations were trimmed without the marker that withholds them from custom checks", kind.kind)
		}
	}
}

// TestTenantKongPluginsDoNotGrowTheCache: a KongPlugin's config (a pre-function's Lua code) is
// the tenant's, up to what etcd holds (1.5 MiB an object), and no built-in check reads it
// (net-ingress-snippets reads its plugin and disabled): the cache drops it, withheld from custom
// checks (Withheld), and keeps what the check reads.
func TestTenantKongPluginsDoNotGrowTheCache(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "configuration.konghq.com/v1", "kind": "KongPlugin",
		"metadata": map[string]any{"name": "tenant", "namespace": "shop"}, "plugin": "pre-function", "disabled": false,
		"config": map[string]any{"access": []any{strings.Repeat("-- tenant code\n", 70000)}}}}
	if _, err := stripObject(u); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 4<<10 {
		t.Errorf("the cache holds %d KiB of a KongPlugin with 1 MiB of config: want at most 4 KiB", len(data)>>10)
	}
	if p, _, _ := unstructured.NestedString(u.Object, "plugin"); p != "pre-function" {
		t.Errorf("the cache lost the KongPlugin's plugin: %q", p)
	}
	if _, found, _ := unstructured.NestedBool(u.Object, "disabled"); !found {
		t.Error("the cache lost the KongPlugin's disabled")
	}
	withheld := false
	for _, w := range Withheld {
		withheld = withheld || w.Kind == "KongPlugin" && strings.Join(w.Path, ".") == "config"
	}
	if !withheld {
		t.Error("the cache drops a KongPlugin's config, but Withheld does not say so to custom checks")
	}
}
