package checks

import (
	"fmt"
	"strings"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// istioGroup is Istio's networking API group. Its Gateway configures the listeners of the
// gateway proxies its spec.selector picks (an ingress gateway's pods, in any namespace, behind
// that gateway's own Service): each of spec.servers opens a port at that gateway's address.
const istioGroup = "networking.istio.io"

// The fields of Istio's Gateway (istio.io/api networking/v1alpha3 gateway.proto, served as v1,
// v1beta1 and v1alpha3) that decide how a server serves what reaches its port.
type (
	istioGatewaySpec struct {
		Servers []istioServer `json:"servers"`
	}
	istioServer struct {
		Port struct {
			Number   int64  `json:"number"`
			Name     string `json:"name"`
			Protocol string `json:"protocol"`
		} `json:"port"`
		Name  string   `json:"name"`
		Hosts []string `json:"hosts"`
		TLS   *struct {
			HTTPSRedirect bool   `json:"httpsRedirect"`
			Mode          string `json:"mode"`
		} `json:"tls"`
	}
)

// inIstioGroup reports whether an object's apiVersion is in Istio's networking group.
func inIstioGroup(o *engine.Object) bool {
	return strings.HasPrefix(o.APIVersion, istioGroup+"/")
}

// istioServing is how an Istio Gateway server serves what reaches its port.
type istioServing int

const (
	// istioPlainHTTP: HTTP in clear text (HTTP, HTTP2, GRPC, GRPC-WEB), routed by host.
	istioPlainHTTP istioServing = iota
	// istioRedirect: an HTTP server that answers every request with a redirect to https.
	istioRedirect
	// istioHTTPS: HTTPS terminated at the gateway (SIMPLE, MUTUAL, ISTIO_MUTUAL,
	// OPTIONAL_MUTUAL), routed by host.
	istioHTTPS
	// istioPassthrough: TLS forwarded as received, routed by SNI (PASSTHROUGH,
	// AUTO_PASSTHROUGH): a stream past the HTTP layer, encrypted by the client.
	istioPassthrough
	// istioTerminatedStream: TLS terminated, then the bytes forwarded as a stream (a TLS
	// server in a terminating mode, routed by a VirtualService's tcp routes).
	istioTerminatedStream
	// istioStream: a stream forwarded as received (TCP, MONGO, REDIS, MYSQL, ...).
	istioStream
	// istioUnknown: a protocol Istio does not define, which its validation refuses.
	istioUnknown
)

// serving says how the server serves its port. Istio reads protocols case-insensitively
// (pkg/config/protocol.Parse); an HTTPS server in a passthrough mode forwards TLS as a stream.
func (s istioServer) serving() istioServing {
	mode := ""
	if s.TLS != nil {
		mode = strings.ToUpper(s.TLS.Mode)
	}
	passthrough := mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH"
	switch strings.ToUpper(s.Port.Protocol) {
	case "HTTP", "HTTP2", "GRPC", "GRPC-WEB":
		if s.TLS != nil && s.TLS.HTTPSRedirect {
			return istioRedirect
		}
		return istioPlainHTTP
	case "HTTPS":
		if passthrough {
			return istioPassthrough
		}
		return istioHTTPS
	case "TLS":
		if passthrough {
			return istioPassthrough
		}
		return istioTerminatedStream
	case "TCP", "MONGO", "REDIS", "MYSQL", "UDP", "THRIFT":
		return istioStream
	default:
		return istioUnknown
	}
}

// describe names the server for people: its port's name, protocol and number.
func (s istioServer) describe() string {
	proto := strings.ToUpper(s.Port.Protocol)
	if s.TLS != nil && s.TLS.Mode != "" && (proto == "TLS" || proto == "HTTPS") {
		proto += " " + strings.ToUpper(s.TLS.Mode)
	}
	return fmt.Sprintf("server %s (%s, port %d)", s.Port.Name, proto, s.Port.Number)
}

// readIstioGateway decodes an Istio Gateway's spec; ok is false when it does not decode.
func readIstioGateway(o *engine.Object) (istioGatewaySpec, bool) {
	var gs istioGatewaySpec
	return gs, readSpec(o, &gs)
}

// readIstioGatewayJudged decodes the spec of a Gateway that net-ingress-tls and
// net-ingress-host-hygiene judge by its servers. ok is false when it has said what the check
// makes of the object: NotApplicable for a Gateway API Gateway (judged by its routes),
// NotAssessed for an Istio Gateway that does not decode.
func readIstioGatewayJudged(ctx *engine.Context, o *engine.Object) (istioGatewaySpec, bool) {
	if !inIstioGroup(o) {
		ctx.NotApplicable("", "a Gateway API Gateway is judged by its routes, on its listeners")
		return istioGatewaySpec{}, false
	}
	gs, ok := readIstioGateway(o)
	if !ok {
		ctx.NotAssessed("", "the Gateway's spec does not decode as Istio's")
	}
	return gs, ok
}

// istioHostUnnamed reports whether an Istio Gateway server's host, [namespace/]dnsName, names no
// single host: the dnsName is "*" (any host) or starts with "*" (a wildcard). The namespace part
// ("*/", "./", "ns/") says which namespaces' VirtualServices may bind the host, not which hosts.
func istioHostUnnamed(h string) bool {
	if i := strings.Index(h, "/"); i >= 0 {
		h = h[i+1:]
	}
	return h == "" || strings.HasPrefix(h, "*")
}

// istioVirtualServiceSpec is what decides whether a VirtualService (networking.istio.io) binds
// streams to Istio Gateways: the Gateways it names, "<namespace>/<name>" or "<name>" in its own
// namespace ("mesh" being the sidecars), its hosts, and its http, tcp and tls routes.
type istioVirtualServiceSpec struct {
	Gateways []string `json:"gateways"`
	Hosts    []string `json:"hosts"`
	HTTP     []any    `json:"http"`
	TCP      []any    `json:"tcp"`
	TLS      []any    `json:"tls"`
}

// readVirtualService decodes an Istio VirtualService's spec. ok is false when it has said what
// the check makes of the object: NotApplicable for a VirtualService of another group,
// NotAssessed for one that does not decode.
func readVirtualService(ctx *engine.Context, o *engine.Object) (vs istioVirtualServiceSpec, ok bool) {
	if !inIstioGroup(o) {
		ctx.NotApplicable("", "not a "+istioGroup+" VirtualService")
		return vs, false
	}
	if !readSpec(o, &vs) {
		ctx.NotAssessed("", "the VirtualService's spec does not decode as Istio's")
		return vs, false
	}
	return vs, true
}

// boundIstioGateway is an Istio Gateway of another namespace that a VirtualService names.
type boundIstioGateway struct {
	namespace, name string
	spec            istioGatewaySpec
}

// istioGatewaysOf are the Istio Gateways of other namespaces that the VirtualService o names in
// spec.gateways ("mesh", the sidecars, is none), with, described for people, those of its own
// namespace (own: judged on the Gateway) and those it names that the input does not hold, that
// do not decode or, in a scan, that the API server refuses for their metadata (unknown; a Gateway
// missing from a complete inventory does not exist).
func istioGatewaysOf(inv *engine.Inventory, o *engine.Object, vs istioVirtualServiceSpec) (bound []boundIstioGateway, own, unknown []string) {
	for _, ref := range vs.Gateways {
		if ref == "mesh" {
			continue
		}
		ns, name := o.Namespace, ref
		if i := strings.Index(ref, "/"); i >= 0 {
			ns, name = ref[:i], ref[i+1:]
		}
		if ns == o.Namespace {
			own = append(own, "Istio Gateway "+ns+"/"+name)
			continue
		}
		gw := istioGatewayNamed(inv, ns, name)
		if gw == nil {
			if !inv.Complete {
				unknown = append(unknown, "Istio "+notInInput(inv, istioGroup, "Gateway", ns, name, ""))
			}
			continue
		}
		// A manifest the API server refuses for its metadata (refusedCustomResource, on create
		// and on update alike) neither creates the Gateway nor changes one that exists: the
		// cluster holds the last earlier copy it takes (acceptedCustomResource), if any.
		held := acceptedCustomResource(inv, gw, true)
		if held == nil {
			unknown = append(unknown, refusedGatewayText("Istio Gateway", ns, name, refusedCustomResource(inv, gw, true)))
			continue
		}
		gs, ok := readIstioGateway(held)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("Istio Gateway %s/%s's spec does not decode as Istio's", ns, name))
			continue
		}
		bound = append(bound, boundIstioGateway{ns, name, gs})
	}
	return bound, own, unknown
}

// istioGatewayNamed is the Istio Gateway of that namespace and name, or nil. Of several copies in
// a scan's input, it is the last: Istio serves v1, v1beta1 and v1alpha3 of one object, so a
// Gateway written in two of them is one Gateway once applied, the later (as gatewayNamed).
func istioGatewayNamed(inv *engine.Inventory, namespace, name string) *engine.Object {
	var last *engine.Object
	for _, g := range inv.List(namespace, "Gateway") {
		if g.Name == name && inIstioGroup(g) {
			last = g
		}
	}
	return last
}

// admitsNamespace reports whether a server's hosts let the VirtualServices of namespace ns bind
// to it: a host "<namespace>/<dnsName>" admits that namespace's, "*/" every namespace's, "./" the
// Gateway's own (gatewayNS); a host without a namespace part admits every namespace's.
func (s istioServer) admitsNamespace(gatewayNS, ns string) bool {
	for _, h := range s.Hosts {
		i := strings.Index(h, "/")
		if i < 0 {
			return true
		}
		switch part := h[:i]; part {
		case "*":
			return true
		case ".":
			if ns == gatewayNS {
				return true
			}
		default:
			if part == ns {
				return true
			}
		}
	}
	return false
}

// bindsHosts reports whether Istio binds a VirtualService of namespace ns with hosts vsHosts to
// the server: one of its hosts, [namespace/]dnsName, admits the namespace ("*/" or none: every
// namespace's; "./": the Gateway's own, gatewayNS) and its dnsName meets one of vsHosts ("*"
// meets every host, *.example.com every name below it).
func (s istioServer) bindsHosts(gatewayNS, ns string, vsHosts []string) bool {
	for _, h := range s.Hosts {
		part, dns := "*", h
		if i := strings.Index(h, "/"); i >= 0 {
			part, dns = h[:i], h[i+1:]
		}
		if part == "." {
			part = gatewayNS
		}
		if part != "*" && part != ns {
			continue
		}
		for _, v := range vsHosts {
			if dns == "*" || v == "*" || hostnameIntersects(dns, v) {
				return true
			}
		}
	}
	return false
}
