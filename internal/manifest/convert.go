package manifest

import (
	networkingv1 "k8s.io/api/networking/v1"
	networkingv1beta1 "k8s.io/api/networking/v1beta1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// olderVersions read the objects of the older apiVersions whose fields the current version
// renamed, which typed would decode into the current type with those fields lost, and convert
// them as the API server did when it served them. The older versions of other kinds keep the
// names of the fields the checks read, and decode as they are. Keyed by apiVersion and kind as
// written: a struct key, so that looking up every typed object builds no string.
var olderVersions = map[versionKind]func(js []byte) (engine.KubeObject, error){
	{"networking.k8s.io/v1beta1", "Ingress"}: ingressFromV1beta1,
	{"extensions/v1beta1", "Ingress"}:        ingressFromV1beta1,
}

// versionKind is an apiVersion and a kind.
type versionKind struct{ apiVersion, kind string }

// ingressFromV1beta1 reads a networking.k8s.io/v1beta1 or extensions/v1beta1 Ingress (the two
// have the same fields) as networking.k8s.io/v1, as the API server converted it
// (k8s.io/kubernetes pkg/apis/networking/v1beta1, conversion.go): spec.backend is
// spec.defaultBackend, and a backend's serviceName and servicePort are service.name and
// service.port. Decoded as v1, spec.backend was dropped: the default backend, which answers any
// host, went unseen.
func ingressFromV1beta1(js []byte) (engine.KubeObject, error) {
	obj, err := unmarshalTyped(js, func() engine.KubeObject { return &networkingv1beta1.Ingress{} })
	if err != nil {
		return nil, err
	}
	in := obj.(*networkingv1beta1.Ingress)
	out := &networkingv1.Ingress{TypeMeta: in.TypeMeta, ObjectMeta: in.ObjectMeta}
	out.Spec.IngressClassName = in.Spec.IngressClassName
	out.Spec.DefaultBackend = ingressBackendFromV1beta1(in.Spec.Backend)
	for _, t := range in.Spec.TLS {
		out.Spec.TLS = append(out.Spec.TLS, networkingv1.IngressTLS{Hosts: t.Hosts, SecretName: t.SecretName})
	}
	for _, r := range in.Spec.Rules {
		rule := networkingv1.IngressRule{Host: r.Host}
		if r.HTTP != nil {
			rule.HTTP = &networkingv1.HTTPIngressRuleValue{}
			for _, p := range r.HTTP.Paths {
				rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{
					Path: p.Path, PathType: (*networkingv1.PathType)(p.PathType), Backend: *ingressBackendFromV1beta1(&p.Backend)})
			}
		}
		out.Spec.Rules = append(out.Spec.Rules, rule)
	}
	for _, lb := range in.Status.LoadBalancer.Ingress {
		status := networkingv1.IngressLoadBalancerIngress{IP: lb.IP, Hostname: lb.Hostname}
		for _, p := range lb.Ports {
			status.Ports = append(status.Ports, networkingv1.IngressPortStatus{Port: p.Port, Protocol: p.Protocol, Error: p.Error})
		}
		out.Status.LoadBalancer.Ingress = append(out.Status.LoadBalancer.Ingress, status)
	}
	return out, nil
}

// ingressBackendFromV1beta1 is a v1beta1 Ingress backend as v1's (nil for nil): a service named
// by serviceName, its port by number or name (servicePort), whenever either is given.
func ingressBackendFromV1beta1(in *networkingv1beta1.IngressBackend) *networkingv1.IngressBackend {
	if in == nil {
		return nil
	}
	out := &networkingv1.IngressBackend{Resource: in.Resource}
	if in.ServiceName != "" || in.ServicePort.IntVal != 0 || in.ServicePort.StrVal != "" || in.ServicePort.Type == intstr.String {
		out.Service = &networkingv1.IngressServiceBackend{Name: in.ServiceName,
			Port: networkingv1.ServiceBackendPort{Name: in.ServicePort.StrVal, Number: in.ServicePort.IntVal}}
	}
	return out
}
