package checks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// gatewayGroup is the Gateway API's group. Other kinds named Gateway (Istio's
// networking.istio.io Gateway) are not a route's parent.
const gatewayGroup = "gateway.networking.k8s.io"

// The fields of the Gateway API's Gateway, HTTPRoute and GRPCRoute (sigs.k8s.io/gateway-api
// apis/v1) that decide which listeners serve a route and how. Objects of these kinds are read
// unstructured, from manifests and from the cluster alike (their CRDs may be absent).
type (
	gatewaySpec struct {
		Listeners []gatewayListener `json:"listeners"`
		// DefaultScope makes the Gateway a default one (GEP-3793, experimental): it claims
		// the routes that ask for default Gateways of that scope (All).
		DefaultScope string `json:"defaultScope"`
		// AllowedListeners says which namespaces' ListenerSets may add listeners to the
		// Gateway (Gateway API v1.6); from None, the default, admits none.
		AllowedListeners *struct {
			Namespaces *struct {
				From     *string               `json:"from"`
				Selector *metav1.LabelSelector `json:"selector"`
			} `json:"namespaces"`
		} `json:"allowedListeners"`
	}
	// listenerSetSpec is a ListenerSet's (Gateway API v1.6): listeners it adds to the Gateway
	// parentRef names, when that Gateway admits them (spec.allowedListeners).
	listenerSetSpec struct {
		ParentRef struct {
			Group     *string `json:"group"`
			Kind      *string `json:"kind"`
			Namespace *string `json:"namespace"`
			Name      string  `json:"name"`
		} `json:"parentRef"`
		Listeners []gatewayListener `json:"listeners"`
	}
	gatewayListener struct {
		Name          string                `json:"name"`
		Hostname      *string               `json:"hostname"`
		Port          int32                 `json:"port"`
		Protocol      string                `json:"protocol"`
		AllowedRoutes *gatewayAllowedRoutes `json:"allowedRoutes"`
		TLS           *struct {
			// Mode is Terminate (the default) or Passthrough.
			Mode            *string           `json:"mode"`
			CertificateRefs []json.RawMessage `json:"certificateRefs"`
			Options         map[string]any    `json:"options"`
		} `json:"tls"`
	}
	gatewayAllowedRoutes struct {
		Namespaces *struct {
			From     *string               `json:"from"`
			Selector *metav1.LabelSelector `json:"selector"`
		} `json:"namespaces"`
		Kinds []routeGroupKind `json:"kinds"`
	}
	routeGroupKind struct {
		Group *string `json:"group"`
		Kind  string  `json:"kind"`
	}
	routeSpec struct {
		ParentRefs []routeParentRef `json:"parentRefs"`
		// UseDefaultGateways asks for the default Gateways of that scope besides the parents
		// the route names (GEP-3793, experimental); None or unset asks for none.
		UseDefaultGateways string   `json:"useDefaultGateways"`
		Hostnames          []string `json:"hostnames"`
		Rules              []struct {
			Filters []routeFilter `json:"filters"`
		} `json:"rules"`
	}
	routeFilter struct {
		Type            string `json:"type"`
		RequestRedirect *struct {
			Scheme *string `json:"scheme"`
		} `json:"requestRedirect"`
	}
	routeParentRef struct {
		Group       *string `json:"group"`
		Kind        *string `json:"kind"`
		Namespace   *string `json:"namespace"`
		Name        string  `json:"name"`
		SectionName *string `json:"sectionName"`
		Port        *int32  `json:"port"`
	}
)

// readSpec decodes an unstructured object's spec into out; false when it cannot.
func readSpec(o *engine.Object, out any) bool {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok {
		return false
	}
	spec, _ := u.Object["spec"].(map[string]any)
	return runtime.DefaultUnstructuredConverter.FromUnstructured(spec, out) == nil
}

// inGatewayGroup reports whether an object's apiVersion is in the Gateway API's group.
func inGatewayGroup(o *engine.Object) bool {
	return strings.HasPrefix(o.APIVersion, gatewayGroup+"/")
}

// routeListeners says how the listeners a route attaches to serve it. plain lists the HTTP
// listeners that serve it in clear text; opaque the TCP and UDP listeners, which forward what
// they receive, encrypted or not; unknown says why some attachment could not be judged; tls
// counts the HTTPS and TLS listeners, and the HTTP ones on which the route only redirects to
// https; mesh counts parents that are Services (a mesh's routes, which no listener serves).
type routeListeners struct {
	plain   []string
	opaque  []string
	unknown []string
	tls     int
	mesh    int
	// attached are the listeners the route attaches to; hostnames are the route's own, and
	// redirects says that every rule of the HTTPRoute redirects to https.
	attached  []routeAttachment
	hostnames []string
	redirects bool
}

// routeAttachment is one listener a route attaches to, and where it is, for people; namespace
// is its Gateway's.
type routeAttachment struct {
	listener  gatewayListener
	where     string
	namespace string
}

// attachedListeners is judgeRoute for a check judging a Gateway API route. ok is false when it
// has said what the check makes of the object: NotApplicable for a kind of that name of another
// group, NotAssessed where the listeners the route attaches to cannot be told.
func attachedListeners(ctx *engine.Context, o *engine.Object) (routeListeners, bool) {
	if !inGatewayGroup(o) {
		ctx.NotApplicable("", "not a "+gatewayGroup+" "+o.Kind)
		return routeListeners{}, false
	}
	ls, err := judgeRoute(ctx.Inventory, o)
	if err != nil {
		ctx.NotAssessed("", err.Error())
		return routeListeners{}, false
	}
	return ls, true
}

// judgeRoute follows each of a route's parentRefs to the Gateway listeners it attaches to, as
// the Gateway API defines attachment: the listener sectionName names or those on port (every
// listener when neither is set), among those whose protocol serves the route's kind, whose
// allowedRoutes admit its kind and namespace, and whose hostname intersects one of the route's
// hostnames. A route that asks for the default Gateways of a scope (useDefaultGateways, GEP-3793)
// attaches besides to every Gateway whose defaultScope is that scope, on each listener that
// admits it. redirects is true when every rule of an HTTPRoute redirects to https (a
// RequestRedirect filter with scheme https): on an HTTP listener it then serves nothing but the
// redirect.
func judgeRoute(inv *engine.Inventory, o *engine.Object) (routeListeners, error) {
	var out routeListeners
	var spec routeSpec
	if !readSpec(o, &spec) {
		return out, fmt.Errorf("the %s's spec does not decode as the Gateway API's", o.Kind)
	}
	redirects := o.Kind == "HTTPRoute" && len(spec.Rules) > 0
	for _, r := range spec.Rules {
		redirects = redirects && slices.ContainsFunc(r.Filters, func(f routeFilter) bool {
			return f.Type == "RequestRedirect" && f.RequestRedirect != nil && f.RequestRedirect.Scheme != nil && *f.RequestRedirect.Scheme == "https"
		})
	}
	out.hostnames, out.redirects = spec.Hostnames, redirects
	if scope := spec.UseDefaultGateways; scope != "" && scope != "None" {
		// The route attaches to every default Gateway of that scope, on each listener whose
		// allowedRoutes admit it, as if it named the Gateway without sectionName or port.
		found := false
		// A Gateway's scope is the copy's the cluster holds (acceptedGatewayCopy): a refused
		// later copy neither makes a Gateway a default one nor stops it being one.
		for _, gw := range inv.ListKind("Gateway") {
			if !inGatewayGroup(gw) {
				continue
			}
			var gs gatewaySpec
			held, why := acceptedGatewayCopy(inv, gw)
			if held == nil {
				if readSpec(gw, &gs) && gs.DefaultScope == scope {
					found = true
					out.unknown = append(out.unknown, refusedGatewayText("Gateway", gw.Namespace, gw.Name, why))
				}
				continue
			}
			if !readSpec(held, &gs) || gs.DefaultScope != scope {
				continue
			}
			found = true
			out.attach(inv, o, gs, "default Gateway", gw.Namespace, gw.Name, routeParentRef{})
		}
		if !found && !inv.Complete {
			out.unknown = append(out.unknown, fmt.Sprintf("it asks for the default Gateways (useDefaultGateways %s), and none is in the input", scope))
		}
	}
	for _, ref := range spec.ParentRefs {
		group, kind := gatewayGroup, "Gateway"
		if ref.Group != nil {
			group = *ref.Group
		}
		if ref.Kind != nil {
			kind = *ref.Kind
		}
		ns := o.Namespace
		if ref.Namespace != nil && *ref.Namespace != "" {
			ns = *ref.Namespace
		}
		switch {
		case (group == "" || group == "core") && kind == "Service":
			out.mesh++
			continue
		case group == gatewayGroup && kind == "ListenerSet":
			out.attachListenerSet(inv, o, ns, ref)
			continue
		case group != gatewayGroup || kind != "Gateway":
			out.unknown = append(out.unknown, fmt.Sprintf("its parent %s %s/%s is not read", kind, ns, ref.Name))
			continue
		}
		gw := gatewayNamed(inv, ns, ref.Name)
		if gw == nil {
			if !inv.Complete {
				out.unknown = append(out.unknown, notInInput(inv, gatewayGroup, "Gateway", ns, ref.Name, ""))
			}
			// A Gateway the cluster does not hold serves nothing. (The operator reads the
			// Gateways of every namespace for each namespace's evaluation: inventory.Everywhere.)
			continue
		}
		var gs gatewaySpec
		if !readSpec(gw, &gs) {
			out.unknown = append(out.unknown, fmt.Sprintf("Gateway %s/%s's spec does not decode as the Gateway API's", ns, ref.Name))
			continue
		}
		held, why := acceptedGatewayCopy(inv, gw)
		if held == nil {
			out.unknown = append(out.unknown, refusedGatewayText("Gateway", ns, ref.Name, why))
			continue
		}
		if held != gw {
			gs = gatewaySpec{}
			_ = readSpec(held, &gs) // acceptedGatewayCopy takes only a copy that decodes
		}
		out.attach(inv, o, gs, "Gateway", ns, ref.Name, ref)
	}
	return out, nil
}

// attach adds the listeners of Gateway ns/name (spec gs) that route o attaches to through ref
// (every listener when it names neither a section nor a port), and how each serves it. gateway
// says what the Gateway is to the route, for people ("Gateway", "default Gateway").
func (out *routeListeners) attach(inv *engine.Inventory, o *engine.Object, gs gatewaySpec, gateway, ns, name string, ref routeParentRef) {
	for _, l := range gs.Listeners {
		if ref.SectionName != nil && *ref.SectionName != l.Name || ref.Port != nil && *ref.Port != l.Port {
			continue
		}
		// TCP and UDP listeners match no hostname (the Gateway API ignores theirs).
		if !listenerServesKind(l, o.Kind) || l.Protocol != "TCP" && l.Protocol != "UDP" && !hostnamesIntersect(l.Hostname, out.hostnames) {
			continue
		}
		where := fmt.Sprintf("listener %s (%s, port %d) of %s %s/%s", l.Name, l.Protocol, l.Port, gateway, ns, name)
		admitted, why := listenerAdmitsNamespace(inv, l, ns, o.Namespace)
		if why != "" {
			out.unknown = append(out.unknown, where+": "+why)
			continue
		}
		if !admitted {
			continue
		}
		out.attached = append(out.attached, routeAttachment{listener: l, where: where, namespace: ns})
		switch l.Protocol {
		case "HTTP":
			switch {
			case out.redirects:
				out.tls++
			case !slices.Contains(out.plain, where):
				out.plain = append(out.plain, where)
			}
		case "HTTPS", "TLS":
			out.tls++
		case "TCP", "UDP":
			if !slices.Contains(out.opaque, where) {
				out.opaque = append(out.opaque, where)
			}
		default:
			out.unknown = append(out.unknown, fmt.Sprintf("%s: the check does not know how protocol %s serves the route", where, l.Protocol))
		}
	}
}

// attachListenerSet adds the listeners of ListenerSet ns/ref.Name that route o attaches to, when
// the set's parent Gateway admits it (spec.allowedListeners): its listeners are then the
// Gateway's, served at its address, and admit routes by their own allowedRoutes (Same: the
// ListenerSet's namespace).
func (out *routeListeners) attachListenerSet(inv *engine.Inventory, o *engine.Object, ns string, ref routeParentRef) {
	var set *engine.Object
	for _, s := range inv.List(ns, "ListenerSet") {
		if s.Name == ref.Name && inGatewayGroup(s) {
			set = s
		}
	}
	if set == nil {
		if !inv.Complete {
			out.unknown = append(out.unknown, notInInput(inv, gatewayGroup, "ListenerSet", ns, ref.Name, ""))
		}
		return // a ListenerSet the cluster does not hold serves nothing
	}
	var ls listenerSetSpec
	if !readSpec(set, &ls) {
		out.unknown = append(out.unknown, fmt.Sprintf("ListenerSet %s/%s's spec does not decode as the Gateway API's", ns, ref.Name))
		return
	}
	held, why := acceptedGatewayCopy(inv, set)
	if held == nil {
		out.unknown = append(out.unknown, refusedGatewayText("ListenerSet", ns, ref.Name, why))
		return
	}
	if held != set {
		ls = listenerSetSpec{}
		_ = readSpec(held, &ls) // acceptedGatewayCopy takes only a copy that decodes
	}
	p := ls.ParentRef
	gwNS := ns
	if p.Namespace != nil && *p.Namespace != "" {
		gwNS = *p.Namespace
	}
	if p.Group != nil && *p.Group != gatewayGroup || p.Kind != nil && *p.Kind != "Gateway" {
		out.unknown = append(out.unknown, fmt.Sprintf("the parent of ListenerSet %s/%s is not a Gateway the check reads", ns, ref.Name))
		return
	}
	gw := gatewayNamed(inv, gwNS, p.Name)
	if gw == nil {
		if !inv.Complete {
			out.unknown = append(out.unknown, notInInput(inv, gatewayGroup, "Gateway", gwNS, p.Name, fmt.Sprintf(" of ListenerSet %s/%s", ns, ref.Name)))
		}
		return
	}
	var gs gatewaySpec
	if !readSpec(gw, &gs) {
		out.unknown = append(out.unknown, fmt.Sprintf("Gateway %s/%s's spec does not decode as the Gateway API's", gwNS, p.Name))
		return
	}
	heldGateway, why := acceptedGatewayCopy(inv, gw)
	if heldGateway == nil {
		out.unknown = append(out.unknown, refusedGatewayText("Gateway", gwNS, p.Name, why)+fmt.Sprintf(", parent of ListenerSet %s/%s", ns, ref.Name))
		return
	}
	if heldGateway != gw {
		gs = gatewaySpec{}
		_ = readSpec(heldGateway, &gs) // acceptedGatewayCopy takes only a copy that decodes
	}
	admitted, why := gatewayAdmitsListenerSets(inv, gs, gwNS, ns)
	switch {
	case why != "":
		out.unknown = append(out.unknown, fmt.Sprintf("Gateway %s/%s of ListenerSet %s/%s: %s", gwNS, p.Name, ns, ref.Name, why))
	case admitted:
		out.attach(inv, o, gatewaySpec{Listeners: ls.Listeners}, "ListenerSet", ns, ref.Name, ref)
	}
}

// refusedGateway says why, in a scan, the API server refuses a Gateway API Gateway or ListenerSet
// manifest (gs holds its listeners), or "": its metadata (refusedCustomResource), or listeners its
// CRD's validation rules refuse (sigs.k8s.io/gateway-api v1.5.0 and v1.6.0, config/crd/standard,
// the listeners' x-kubernetes-validations, the same for both kinds, judged after the schema's
// default tls.mode Terminate), and their schema: a port outside 1 to 65535 (or none, on a
// Gateway), no protocol, tls on an HTTP, TCP or UDP listener, an HTTPS listener whose tls
// mode is not Terminate, a TLS listener without tls, a Terminate tls without certificateRefs or
// options, two listeners of one name. Such a manifest neither creates the object nor changes one
// that exists (the rules hold on update too, and an update keeps only values the old object
// already had): what serves a route through it is not known, as for a Gateway not in the input.
// In the operator's view the object exists, so the API server took it.
func refusedGateway(inv *engine.Inventory, o *engine.Object, gs gatewaySpec) string {
	if inv.Complete {
		return ""
	}
	if why := refusedCustomResource(inv, o, true); why != "" {
		return why
	}
	names := map[string]bool{}
	for _, l := range gs.Listeners {
		if names[l.Name] {
			return fmt.Sprintf("listener %s: Listener name must be unique within the Gateway", l.Name)
		}
		names[l.Name] = true
		// The schema: port required of a Gateway's listener (optional of a ListenerSet's,
		// where 0 is its absence), from 1 to 65535; protocol required.
		if l.Port < 0 || l.Port > 65535 || l.Port == 0 && o.Kind == "Gateway" {
			return fmt.Sprintf("listener %s: port %d is not from 1 to 65535", l.Name, l.Port)
		}
		if l.Protocol == "" {
			return fmt.Sprintf("listener %s: protocol is required", l.Name)
		}
		mode := "Terminate"
		if l.TLS != nil && l.TLS.Mode != nil {
			mode = *l.TLS.Mode
		}
		switch {
		case l.TLS != nil && (l.Protocol == "HTTP" || l.Protocol == "TCP" || l.Protocol == "UDP"):
			return fmt.Sprintf("listener %s: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", l.Name)
		case l.Protocol == "HTTPS" && l.TLS != nil && mode != "Terminate" && mode != "":
			return fmt.Sprintf("listener %s: tls mode must be Terminate for protocol HTTPS", l.Name)
		case l.Protocol == "TLS" && (l.TLS == nil || mode == ""):
			return fmt.Sprintf("listener %s: tls mode must be set for protocol TLS", l.Name)
		case l.TLS != nil && mode == "Terminate" && len(l.TLS.CertificateRefs) == 0 && len(l.TLS.Options) == 0:
			return fmt.Sprintf("listener %s: certificateRefs or options must be specified when mode is Terminate", l.Name)
		}
	}
	return ""
}

// acceptedGatewayCopy is the copy of Gateway API Gateway or ListenerSet o that the cluster holds,
// or nil, with why the API server refuses o (refusedGateway), or "": o, unless, in a scan, the API
// server refuses it, when it is the last copy of o given before it (Inventory.Earlier) that decodes
// and the API server takes: kubectl apply created the object from that copy and failed to update it
// with o. nil when there is none (o is never created). A copy o whose spec does not decode is
// returned as it is, for the caller to say so. Until December 2026 a refused later copy left the
// routes and ListenerSets of the earlier one NotAssessed (on a route's parentRef until 6f0f9431;
// on the default-Gateway, ListenerSet and ListenerSet-parent paths, and in net-service-exposure,
// until this change), though its listeners serve them.
func acceptedGatewayCopy(inv *engine.Inventory, o *engine.Object) (*engine.Object, string) {
	var gs gatewaySpec
	if inv.Complete || !readSpec(o, &gs) {
		return o, ""
	}
	why := refusedGateway(inv, o, gs)
	if why == "" {
		return o, ""
	}
	earlier := inv.Earlier(o)
	for i := len(earlier) - 1; i >= 0; i-- {
		var es gatewaySpec
		if inGatewayGroup(earlier[i]) && readSpec(earlier[i], &es) && refusedGateway(inv, earlier[i], es) == "" {
			return earlier[i], why
		}
	}
	return nil, why
}

// refusedGatewayText says that the API server refuses kind ns/name (refusedGateway).
func refusedGatewayText(kind, ns, name, why string) string {
	return fmt.Sprintf("%s %s/%s, which the API server refuses (%s), is never created, nor does the manifest change one that exists", kind, ns, name, why)
}

// notInInput says, in a scan, that kind ns/name of group (of, words that follow the name: " of
// ListenerSet shop/extra") is not in the input, or is there only in versions the API server refuses
// (Object.Unserved: a gateway.networking.k8s.io/v1alpha2 Gateway), which no other object's check
// reads: the cluster's is not known either way.
func notInInput(inv *engine.Inventory, group, kind, ns, name, of string) string {
	for _, u := range inv.Unserved(kind) {
		if u.Name == name && u.Namespace == ns && apiGroup(u.APIVersion) == group {
			return fmt.Sprintf("%s %s/%s%s is in the input only as %s, which the API server refuses (%s)", kind, ns, name, of, u.APIVersion, u.Unserved)
		}
	}
	return fmt.Sprintf("%s %s/%s%s is not in the input", kind, ns, name, of)
}

// gatewayNamed is the Gateway API Gateway of that namespace and name, or nil. Of several copies
// in a scan's input, it is the last: the Gateway API serves v1 and v1beta1 of one object
// (sigs.k8s.io/gateway-api v1.6.0 config/crd/standard), so a Gateway written in both is one
// Gateway once applied, the later (the inventory lists only it: Inventory.Replaced). Until
// December 2026 the first copy was taken, and a route passed on HTTPS listeners a later copy of
// its Gateway replaced with plain HTTP ones.
func gatewayNamed(inv *engine.Inventory, namespace, name string) *engine.Object {
	var last *engine.Object
	for _, g := range inv.List(namespace, "Gateway") {
		if g.Name == name && inGatewayGroup(g) {
			last = g
		}
	}
	return last
}

// listenerServesKind reports whether a route of kind may attach to the listener: one of the
// kinds its protocol serves (HTTP and HTTPS: HTTPRoutes and GRPCRoutes; TLS: TLSRoutes, and the
// TCPRoutes some implementations serve behind TLS termination; TCP: TCPRoutes; UDP: UDPRoutes),
// and of those its allowedRoutes list when they list any: a kind the protocol cannot serve is
// invalid there and attaches nothing. A listener of an implementation's own protocol is judged
// by its allowedRoutes alone.
func listenerServesKind(l gatewayListener, kind string) bool {
	if l.AllowedRoutes != nil && len(l.AllowedRoutes.Kinds) > 0 && !slices.ContainsFunc(l.AllowedRoutes.Kinds, func(k routeGroupKind) bool {
		return k.Kind == kind && (k.Group == nil || *k.Group == gatewayGroup)
	}) {
		return false
	}
	switch l.Protocol {
	case "HTTP", "HTTPS":
		return kind == "HTTPRoute" || kind == "GRPCRoute"
	case "TLS":
		return kind == "TLSRoute" || kind == "TCPRoute"
	case "TCP":
		return kind == "TCPRoute"
	case "UDP":
		return kind == "UDPRoute"
	}
	return true
}

// listenerAdmitsNamespace reports whether the listener's allowedRoutes.namespaces admit routes
// of routeNS on a Gateway of gatewayNS: Same (the default), All, or Selector, judged against
// the route namespace's labels with the kubernetes.io/metadata.name label the API server gives
// every Namespace. why says what is not known when the Namespace is not in the input.
func listenerAdmitsNamespace(inv *engine.Inventory, l gatewayListener, gatewayNS, routeNS string) (admitted bool, why string) {
	from := "Same"
	var selector *metav1.LabelSelector
	if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil {
		if l.AllowedRoutes.Namespaces.From != nil {
			from = *l.AllowedRoutes.Namespaces.From
		}
		selector = l.AllowedRoutes.Namespaces.Selector
	}
	return namespaceAdmitted(inv, from, selector, gatewayNS, routeNS, "routes")
}

// gatewayAdmitsListenerSets reports whether a Gateway of gatewayNS admits the ListenerSets of
// setNS (spec.allowedListeners.namespaces: None, the default, admits none), as
// listenerAdmitsNamespace does routes.
func gatewayAdmitsListenerSets(inv *engine.Inventory, gs gatewaySpec, gatewayNS, setNS string) (admitted bool, why string) {
	from := "None"
	var selector *metav1.LabelSelector
	if al := gs.AllowedListeners; al != nil && al.Namespaces != nil {
		if al.Namespaces.From != nil {
			from = *al.Namespaces.From
		}
		selector = al.Namespaces.Selector
	}
	if from == "None" {
		return false, ""
	}
	return namespaceAdmitted(inv, from, selector, gatewayNS, setNS, "ListenerSets")
}

// namespaceAdmitted reports whether a Gateway of gatewayNS admits the objects (what: routes,
// ListenerSets) of ns under from (Same, All, Selector with selector).
func namespaceAdmitted(inv *engine.Inventory, from string, selector *metav1.LabelSelector, gatewayNS, routeNS, what string) (admitted bool, why string) {
	switch from {
	case "Same":
		return gatewayNS == routeNS, ""
	case "All":
		return true, ""
	case "Selector":
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if selector == nil || err != nil {
			return false, "" // the Gateway API's validation refuses such a Gateway
		}
		set := labels.Set{}
		ns := labelledNamespace(inv, routeNS)
		if ns == nil && !inv.Complete {
			if reqs, _ := sel.Requirements(); slices.ContainsFunc(reqs, func(r labels.Requirement) bool { return r.Key() != corev1.LabelMetadataName }) {
				return false, fmt.Sprintf("it admits %s from namespaces by label, and Namespace %s is not in the input", what, routeNS)
			}
		}
		if ns != nil {
			for k, v := range ns.Labels() {
				set[k] = v
			}
		}
		set[corev1.LabelMetadataName] = routeNS
		return sel.Matches(set), ""
	}
	return false, fmt.Sprintf("namespaces.from %q, admitting %s, is not one the check knows", from, what)
}

// hostnamesIntersect reports whether a listener's hostname and a route's hostnames have a host
// in common, as the Gateway API attaches a route: a listener without a hostname, or a route
// without hostnames, matches every host; a wildcard (*.example.com) matches every host below
// its suffix, however many labels deep, but not the suffix itself.
func hostnamesIntersect(listener *string, route []string) bool {
	if listener == nil || *listener == "" || len(route) == 0 {
		return true
	}
	for _, h := range route {
		if hostnameIntersects(*listener, h) {
			return true
		}
	}
	return false
}

func hostnameIntersects(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	switch {
	case a == b:
		return true
	case strings.HasPrefix(a, "*.") && strings.HasPrefix(b, "*."):
		return strings.HasSuffix(a, b[1:]) || strings.HasSuffix(b, a[1:])
	case strings.HasPrefix(a, "*."):
		return strings.HasSuffix(b, a[1:])
	case strings.HasPrefix(b, "*."):
		return strings.HasSuffix(a, b[1:])
	}
	return false
}

// unnamedHosts are the hosts a route answers on a listener that name no single host: none at all
// (neither the route nor the listener names one), or a wildcard, the route's or, when the route
// names none or a wider one, the listener's. A route's wildcard meeting a listener that names
// one host answers that host alone. TCP and UDP listeners match no names.
func unnamedHosts(a routeAttachment, hostnames []string) []string {
	if a.listener.Protocol == "TCP" || a.listener.Protocol == "UDP" {
		return nil
	}
	listener := ""
	if a.listener.Hostname != nil {
		listener = *a.listener.Hostname
	}
	listenerWild := strings.HasPrefix(listener, "*.")
	if len(hostnames) == 0 {
		switch {
		case listener == "":
			return []string{"neither the route nor " + a.where + " names a host: it answers any host"}
		case listenerWild:
			return []string{fmt.Sprintf("wildcard hostname %q of %s", listener, a.where)}
		}
		return nil
	}
	var out []string
	for _, h := range hostnames {
		if !strings.HasPrefix(h, "*.") || listener != "" && !listenerWild || !hostnamesIntersect(a.listener.Hostname, []string{h}) {
			continue // a named host, or a wildcard narrowed to the listener's one host, or none
		}
		if listenerWild && len(listener) > len(h) {
			out = append(out, fmt.Sprintf("wildcard hostname %q of %s", listener, a.where))
		} else {
			out = append(out, fmt.Sprintf("wildcard hostname %q", h))
		}
	}
	return out
}
