package manifest

import (
	"reflect"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

func TestIngressV1beta1ReadsAsV1(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	class := "nginx"
	want := networkingv1.IngressSpec{
		IngressClassName: &class,
		DefaultBackend:   &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
		TLS:              []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "shop-tls"}},
		Rules: []networkingv1.IngressRule{{Host: "shop.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
			Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "api", Port: networkingv1.ServiceBackendPort{Number: 8080}}}}},
		}}}},
	}
	for _, apiVersion := range []string{"networking.k8s.io/v1beta1", "extensions/v1beta1"} {
		t.Run(apiVersion, func(t *testing.T) {
			doc := "apiVersion: " + apiVersion + `
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  ingressClassName: nginx
  backend: {serviceName: web, servicePort: http}
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {serviceName: api, servicePort: 8080}}
`
			objs, errs := Decode("ingress.yaml", []byte(doc))
			if len(errs) > 0 || len(objs) != 1 {
				t.Fatalf("got %d objects, errors %v", len(objs), errs)
			}
			ing, ok := objs[0].Obj.(*networkingv1.Ingress)
			if !ok {
				t.Fatalf("decoded as %T, want *networkingv1.Ingress", objs[0].Obj)
			}
			if objs[0].APIVersion != apiVersion || ing.Name != "web" || ing.Namespace != "shop" {
				t.Errorf("got %s %s/%s, want %s shop/web", objs[0].APIVersion, ing.Namespace, ing.Name, apiVersion)
			}
			if !reflect.DeepEqual(ing.Spec, want) {
				t.Errorf("spec:\n got %+v\nwant %+v", ing.Spec, want)
			}
		})
	}
}
