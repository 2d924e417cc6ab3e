package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	netutils "k8s.io/utils/net"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var netServiceExposure = &engine.Check{
	ID:    "net-service-exposure",
	Title: "Services are not exposed outside the cluster",
	Description: "A Service of type LoadBalancer or NodePort, or one with externalIPs, accepts connections " +
		"from outside the cluster, past the Ingress layer where TLS and authentication are usually " +
		"enforced; each such opening in the boundary (CC6.6) should be deliberate. externalIPs on a " +
		"Service that is never proxied (ExternalName, or headless: clusterIP None) open nothing, nor do those of " +
		"an IP family the Service has no cluster IP of (an IPv6 address on a single-stack IPv4 Service). A Gateway API " +
		"Gateway with a TCP, UDP or TLS listener opens the boundary as well: its GatewayClass's controller gives it " +
		"an address and forwards what reaches the port to the backend as a stream of bytes, whatever protocol they " +
		"carry, as a LoadBalancer Service would (a TLS listener strips TLS first in Terminate mode, its default, and " +
		"not in Passthrough mode); a Gateway's HTTP and HTTPS listeners are " +
		"the Ingress layer, whose routes net-ingress-tls and net-ingress-host-hygiene judge. A TLSRoute, TCPRoute or " +
		"UDPRoute attached to such a listener of another namespace's Gateway or ListenerSet (a shared one that admits its namespace) " +
		"publishes its backends through that opening, and fails in its own namespace's report as a LoadBalancer " +
		"Service of its own would; one attached to its own namespace's Gateway is judged on that Gateway (NotApplicable), and " +
		"one whose Gateway or ListenerSet is not in the input cannot be judged (NotAssessed). A " +
		"ListenerSet's listeners are judged as a Gateway's, in the ListenerSet's namespace, where its parent Gateway " +
		"admits the ListenerSets of that namespace (spec.allowedListeners: Same, All, or Selector on the Namespace's labels); " +
		"a ListenerSet its Gateway does not admit adds nothing (NotApplicable), and one whose Gateway, or whose Namespace " +
		"the Gateway selects by label, is not in the input, or, in a scan, whose Gateway or ListenerSet the API server refuses (as net-ingress-tls " +
		"reads them), cannot be judged (NotAssessed). A listener of a " +
		"protocol the Gateway API does not define (an implementation's own) cannot be judged (NotAssessed). An Istio " +
		"Gateway (networking.istio.io) opens each of its servers' ports at the address of the gateway proxies its " +
		"spec.selector picks, a shared ingress gateway's in any namespace: a TCP, MONGO, REDIS or MYSQL server, a TLS server " +
		"(which passes TLS through, or forwards the stream it carries once it is stripped) and an HTTPS server in " +
		"PASSTHROUGH or AUTO_PASSTHROUGH mode forward a stream past the Ingress layer and fail in the Gateway's " +
		"namespace; its HTTP and HTTPS servers are the Ingress layer, and a protocol Istio does not define cannot be " +
		"judged (NotAssessed). A VirtualService with tcp or tls routes bound to such a server of another namespace's Istio " +
		"Gateway (spec.gateways: [infra/shared], on a server whose hosts admit its namespace) publishes its backends through " +
		"that opening and fails in its own namespace, as a TCPRoute on another namespace's Gateway does. An approved " +
		"exposure is recorded as a ControlException, which keeps the decision and its owner on " +
		"record." + supporting,
	Remediation: "Use type ClusterIP and publish the Service through an Ingress or Gateway, remove externalIPs, " +
		"serve TCP, UDP and TLS streams through a Gateway only where the exposure is intended, " +
		"or record the approved exposure as a ControlException.",
	Severity: medium,
	Criteria: []v1alpha1.Criterion{cc66},
	Targets:  []string{"Service", "Gateway", "ListenerSet", "TLSRoute", "TCPRoute", "UDPRoute", "VirtualService"},
	Reads:    []string{"Gateway", "Namespace"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		switch o.Kind {
		case "Gateway":
			gatewayExposure(ctx, o)
			return
		case "ListenerSet":
			listenerSetExposure(ctx, o)
			return
		case "TLSRoute", "TCPRoute", "UDPRoute":
			routeExposure(ctx, o)
			return
		case "VirtualService":
			virtualServiceExposure(ctx, o)
			return
		}
		svc, ok := o.Obj.(*corev1.Service)
		if !ok {
			ctx.NotApplicable("", "not a core/v1 Service")
			return
		}
		var found []string
		switch svc.Spec.Type {
		case corev1.ServiceTypeLoadBalancer:
			found = append(found, "type LoadBalancer")
		case corev1.ServiceTypeNodePort:
			found = append(found, "type NodePort")
		}
		if ips := proxiedExternalIPs(svc); len(ips) > 0 {
			found = append(found, "externalIPs "+few(ips, ", "))
		}
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "service is exposed outside the cluster: %s", few(found, "; "))
	},
}

// proxied reports whether the cluster's service proxy forwards a Service's addresses: not an
// ExternalName Service, nor a headless one (clusterIP None), which kube-proxy skips
// (pkg/proxy/util, ShouldSkipService). The API server copies clusterIPs[0] into clusterIP.
func proxied(svc *corev1.Service) bool {
	clusterIP := svc.Spec.ClusterIP
	if clusterIP == "" && len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	return svc.Spec.Type != corev1.ServiceTypeExternalName && clusterIP != corev1.ClusterIPNone
}

// proxiedExternalIPs are the externalIPs of a Service that the service proxy forwards: none when
// it is not proxied, and of the others those of an IP family the Service has a cluster IP of.
// kube-proxy proxies a Service in each family it finds a cluster IP of (ServiceChangeTracker,
// GetClusterIPByFamily) and keeps the externalIPs of that family (newBaseServiceInfo,
// MapIPsByIPFamily). The families are those of clusterIPs (clusterIP) once allocated, unless there
// is one and ipFamilyPolicy asks for two (the API server allocates the second when it can); before,
// those of ipFamilies when ipFamilyPolicy is SingleStack (the default), which the allocation keeps;
// otherwise (PreferDualStack may add the other family) every externalIP counts.
func proxiedExternalIPs(svc *corev1.Service) []string {
	if len(svc.Spec.ExternalIPs) == 0 || !proxied(svc) {
		return nil
	}
	families := map[bool]bool{} // is IPv6
	known := false
	allocated := svc.Spec.ClusterIPs
	if len(allocated) == 0 && svc.Spec.ClusterIP != "" {
		allocated = []string{svc.Spec.ClusterIP}
	}
	singleStack := svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack
	if len(allocated) < 2 && !singleStack {
		allocated = nil // the API server may allocate the other family beside it
	}
	for _, ip := range allocated {
		if a := netutils.ParseIPSloppy(ip); a != nil {
			families[a.To4() == nil] = true
			known = true
		}
	}
	if !known && singleStack && len(svc.Spec.IPFamilies) == 1 {
		families[svc.Spec.IPFamilies[0] == corev1.IPv6Protocol] = true
		known = true
	}
	if !known {
		return svc.Spec.ExternalIPs
	}
	var out []string
	for _, ip := range svc.Spec.ExternalIPs {
		a := netutils.ParseIPSloppy(ip)
		if a == nil || families[a.To4() == nil] {
			out = append(out, ip) // an address it cannot read counts, as one it forwards
		}
	}
	return out
}

// gatewayExposure judges the listeners of a Gateway API Gateway: TCP, UDP and TLS listeners forward
// what reaches their port to the backend as a stream, whatever it carries, past the Ingress layer
// (a TLS listener in Terminate mode strips TLS first: its TLSRoutes and TCPRoutes are streams all
// the same, with no HTTP layer); HTTP and HTTPS listeners are the Ingress layer. A protocol the
// Gateway API does not define (an implementation's own, such as Istio's HBONE) cannot be judged.
// The listeners that ListenerSets add to a Gateway that admits them are judged on the ListenerSets.
func gatewayExposure(ctx *engine.Context, o *engine.Object) {
	if inIstioGroup(o) {
		istioGatewayExposure(ctx, o)
		return
	}
	if !inGatewayGroup(o) {
		ctx.NotApplicable("", "not a "+gatewayGroup+" Gateway")
		return
	}
	var gs gatewaySpec
	if !readSpec(o, &gs) {
		ctx.NotAssessed("", "the Gateway's spec does not decode as the Gateway API's")
		return
	}
	judgeListeners(ctx, "Gateway", gs.Listeners)
}

// judgeListeners judges the listeners of a Gateway or of a ListenerSet its Gateway admits (what).
func judgeListeners(ctx *engine.Context, what string, listeners []gatewayListener) {
	var open, unknown []string
	for _, l := range listeners {
		switch l.Protocol {
		case "TCP", "UDP":
			open = append(open, fmt.Sprintf("listener %s (%s, port %d)", l.Name, l.Protocol, l.Port))
		case "TLS":
			mode := "Terminate" // the default mode, which v1.5 and later require be written
			if l.TLS != nil && l.TLS.Mode != nil && *l.TLS.Mode != "" {
				mode = *l.TLS.Mode
			}
			open = append(open, fmt.Sprintf("listener %s (TLS %s, port %d)", l.Name, mode, l.Port))
		case "HTTP", "HTTPS":
		default:
			unknown = append(unknown, fmt.Sprintf("listener %s (%s, port %d)", l.Name, l.Protocol, l.Port))
		}
	}
	switch {
	case len(open) > 0:
		ctx.Fail("", "%s publishes ports past the Ingress layer: %s", what, few(open, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "the Gateway API does not define the protocol of "+few(unknown, "; ")+
			": whether its implementation forwards past the Ingress layer the manifests do not tell")
	default:
		ctx.Pass("")
	}
}

// listenerSetExposure judges a ListenerSet (Gateway API v1.6) by its listeners, which its parent
// Gateway serves at its address when it admits the ListenerSets of the set's namespace
// (spec.allowedListeners), in the set's own namespace's report as a Gateway's own listeners are in
// the Gateway's. A set its Gateway does not admit, or whose Gateway does not exist, adds nothing.
func listenerSetExposure(ctx *engine.Context, o *engine.Object) {
	if !inGatewayGroup(o) {
		ctx.NotApplicable("", "not a "+gatewayGroup+" ListenerSet")
		return
	}
	var ls listenerSetSpec
	if !readSpec(o, &ls) {
		ctx.NotAssessed("", "the ListenerSet's spec does not decode as the Gateway API's")
		return
	}
	ref := ls.ParentRef
	group, kind, ns := gatewayGroup, "Gateway", o.Namespace
	if ref.Group != nil {
		group = *ref.Group
	}
	if ref.Kind != nil {
		kind = *ref.Kind
	}
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = *ref.Namespace
	}
	if group != gatewayGroup || kind != "Gateway" {
		ctx.NotAssessed("", fmt.Sprintf("its parent %s %s/%s is not read", kind, ns, ref.Name))
		return
	}
	gw := gatewayNamed(ctx.Inventory, ns, ref.Name)
	if gw == nil {
		if !ctx.Inventory.Complete {
			ctx.NotAssessed("", notInInput(ctx.Inventory, gatewayGroup, "Gateway", ns, ref.Name, "")+": whether it admits the ListenerSet the check cannot tell")
		} else {
			ctx.NotApplicable("", fmt.Sprintf("Gateway %s/%s does not exist: nothing serves the listeners", ns, ref.Name))
		}
		return
	}
	var gs gatewaySpec
	if !readSpec(gw, &gs) {
		ctx.NotAssessed("", fmt.Sprintf("Gateway %s/%s's spec does not decode as the Gateway API's", ns, ref.Name))
		return
	}
	held, why := acceptedGatewayCopy(ctx.Inventory, gw)
	if held == nil {
		ctx.NotAssessed("", refusedGatewayText("Gateway", ns, ref.Name, why)+": whether it admits the ListenerSet the check cannot tell")
		return
	}
	if held != gw {
		gs = gatewaySpec{}
		_ = readSpec(held, &gs) // acceptedGatewayCopy takes only a copy that decodes
	}
	admitted, why := gatewayAdmitsListenerSets(ctx.Inventory, gs, ns, o.Namespace)
	switch {
	case why != "":
		ctx.NotAssessed("", fmt.Sprintf("Gateway %s/%s: %s", ns, ref.Name, why))
	case !admitted:
		ctx.NotApplicable("", fmt.Sprintf("Gateway %s/%s does not admit the ListenerSets of namespace %s (spec.allowedListeners): it serves none of the listeners", ns, ref.Name, o.Namespace))
	default:
		judgeListeners(ctx, fmt.Sprintf("ListenerSet (on Gateway %s/%s)", ns, ref.Name), ls.Listeners)
	}
}

// routeExposure judges a TLSRoute, TCPRoute or UDPRoute by the listeners it attaches to (which
// are TLS, TCP and UDP ones, or of an implementation's own protocol): one of a Gateway or
// ListenerSet in another namespace publishes the route's backends past the Ingress layer, an
// opening the route's namespace makes through another's, as it would with a LoadBalancer Service
// of its own. A listener of a Gateway or ListenerSet in the route's own namespace is judged there.
func routeExposure(ctx *engine.Context, o *engine.Object) {
	ls, ok := attachedListeners(ctx, o)
	if !ok {
		return
	}
	var open, own []string
	for _, a := range ls.attached {
		switch a.listener.Protocol {
		case "TCP", "UDP", "TLS":
			if a.namespace == o.Namespace {
				own = append(own, a.where)
			} else {
				open = append(open, a.where)
			}
		}
	}
	switch {
	case len(open) > 0:
		ctx.Fail("", "%s publishes its backends past the Ingress layer through %s", o.Kind, few(open, "; "))
	case len(ls.unknown) > 0:
		ctx.NotAssessed("", "which listeners publish the route, and how, is not known: "+few(ls.unknown, "; "))
	case len(own) > 0:
		ctx.NotApplicable("", "the route is published through "+few(own, "; ")+", an opening judged on that Gateway or ListenerSet")
	default:
		ctx.NotApplicable("", "the route attaches to no listener of its Gateways: nothing publishes it")
	}
}

// istioGatewayExposure judges an Istio Gateway's servers: one that forwards a stream (TCP, MONGO,
// a TLS server, which passes TLS through or forwards the bytes once it is stripped, an HTTPS
// server in a passthrough mode) publishes its port at the address of the gateway proxies it
// selects past the HTTP layer, as a Gateway API Gateway's TCP or TLS listener does; HTTP, HTTP2,
// GRPC and HTTPS servers are the Ingress layer, judged by net-ingress-tls and
// net-ingress-host-hygiene.
func istioGatewayExposure(ctx *engine.Context, o *engine.Object) {
	gs, ok := readIstioGateway(o)
	if !ok {
		ctx.NotAssessed("", "the Gateway's spec does not decode as Istio's")
		return
	}
	var open, unknown []string
	for _, s := range gs.Servers {
		switch s.serving() {
		case istioStream, istioPassthrough, istioTerminatedStream:
			open = append(open, s.describe())
		case istioUnknown:
			unknown = append(unknown, s.describe())
		}
	}
	switch {
	case len(open) > 0:
		ctx.Fail("", "Istio Gateway publishes ports past the Ingress layer at the address of the gateway proxies it selects: %s", few(open, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "Istio does not define the protocol of "+few(unknown, "; ")+": how its gateway serves it the manifests do not tell")
	default:
		ctx.Pass("")
	}
}

// virtualServiceExposure judges an Istio VirtualService by the Istio Gateways it binds its tcp and
// tls routes to: a stream server (TCP, TLS, passthrough HTTPS, ...) of another namespace's Gateway
// whose hosts admit the VirtualService's namespace publishes its backends past the Ingress layer,
// an opening its namespace makes through another's, as a TCPRoute on a shared Gateway's TCP
// listener does. Which of the server's hosts the VirtualService's hosts match, and which port its
// routes match, are not read: a stream server that admits the namespace is taken to serve them.
func virtualServiceExposure(ctx *engine.Context, o *engine.Object) {
	vs, ok := readVirtualService(ctx, o)
	if !ok {
		return
	}
	if len(vs.TCP) == 0 && len(vs.TLS) == 0 {
		ctx.NotApplicable("", "no tcp or tls routes: the VirtualService binds no stream")
		return
	}
	bound, own, unknown := istioGatewaysOf(ctx.Inventory, o, vs)
	var open []string
	for _, gw := range bound {
		for _, s := range gw.spec.Servers {
			switch s.serving() {
			case istioStream, istioPassthrough, istioTerminatedStream:
				if s.admitsNamespace(gw.namespace, o.Namespace) {
					open = append(open, fmt.Sprintf("%s of Istio Gateway %s/%s", s.describe(), gw.namespace, gw.name))
				}
			}
		}
	}
	switch {
	case len(open) > 0:
		ctx.Fail("", "VirtualService publishes its backends past the Ingress layer through %s", few(open, "; "))
	case len(unknown) > 0:
		ctx.NotAssessed("", "which servers publish the VirtualService's streams is not known: "+few(unknown, "; "))
	case len(own) > 0:
		ctx.NotApplicable("", "the VirtualService is published through "+few(own, "; ")+", an opening judged on that Gateway")
	default:
		ctx.NotApplicable("", "no stream server of another namespace's Istio Gateway binds the VirtualService")
	}
}
