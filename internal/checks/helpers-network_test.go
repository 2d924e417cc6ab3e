package checks

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

func TestTLSCovers(t *testing.T) {
	tests := map[string]struct {
		tlsHost, host string
		want          bool
	}{
		"the same host":                           {"shop.example.com", "shop.example.com", true},
		"hosts compare without case":              {"Shop.Example.com", "shop.example.com", true},
		"a wildcard covers one label":             {"*.example.com", "shop.example.com", true},
		"a wildcard does not cover two labels":    {"*.example.com", "a.shop.example.com", false},
		"a wildcard does not cover the apex":      {"*.example.com", "example.com", false},
		"a wildcard rule needs the same wildcard": {"*.example.com", "*.example.com", true},
		"a named entry does not cover a wildcard": {"shop.example.com", "*.example.com", false},
		"another host is not covered":             {"shop.example.com", "api.example.com", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tlsCovers(tc.tlsHost, tc.host); got != tc.want {
				t.Errorf("tlsCovers(%q, %q) = %v, want %v", tc.tlsHost, tc.host, got, tc.want)
			}
		})
	}
}

// TestNetworkPolicyIndexFindsEverySelectingPolicy checks the label index of a namespace's
// NetworkPolicies against trying every policy, for selectors of every shape and pods with and
// without the labels they require: the same policies, in the namespace's order.
func TestNetworkPolicyIndexFindsEverySelectingPolicy(t *testing.T) {
	policy := func(name, ns string, sel metav1.LabelSelector) *engine.Object {
		return engine.NewObject(&networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       networkingv1.NetworkPolicySpec{PodSelector: sel},
		}, "networking.k8s.io/v1", "NetworkPolicy")
	}
	req := func(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	exprs := func(rs ...metav1.LabelSelectorRequirement) metav1.LabelSelector {
		return metav1.LabelSelector{MatchExpressions: rs}
	}
	objs := []*engine.Object{
		policy("web-front", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}),
		policy("everything", "shop", metav1.LabelSelector{}),
		policy("single-in", "shop", exprs(req("app", metav1.LabelSelectorOpIn, "web"))),
		policy("multi-in", "shop", exprs(req("app", metav1.LabelSelectorOpIn, "web", "db"))),
		policy("not-in", "shop", exprs(req("app", metav1.LabelSelectorOpNotIn, "web"))),
		policy("exists", "shop", exprs(req("tier", metav1.LabelSelectorOpExists))),
		policy("does-not-exist", "shop", exprs(req("tier", metav1.LabelSelectorOpDoesNotExist))),
		policy("labels-and-expressions", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"},
			MatchExpressions: []metav1.LabelSelectorRequirement{req("app", metav1.LabelSelectorOpIn, "web", "api")}}),
		policy("invalid", "shop", exprs(req("app", metav1.LabelSelectorOpIn, "not a valid value"))),
		policy("db", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}),
		policy("web-again", "shop", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
		policy("other-namespace", "shop-staging", metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}),
	}
	inv := engine.NewInventory(objs, true)
	ps := networkPolicyIndex(inv, "shop")
	if len(ps.items) != 11 {
		t.Fatalf("%d policies in shop, want 11", len(ps.items))
	}
	for _, set := range []labels.Set{
		{"app": "web", "tier": "front"},
		{"app": "web", "track": "canary"},
		{"app": "db", "tier": "data"},
		{"app": "api", "tier": "front"},
		{"team": "data"},
		{"app": "not a valid value"},
		nil,
	} {
		var want, got []string
		for _, p := range ps.items {
			if p.selector.Matches(set) {
				want = append(want, p.obj.Name)
			}
		}
		for _, p := range ps.selecting("shop", set) {
			got = append(got, p.obj.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("pod labels {%s}: the index finds %v, trying every policy %v", set, got, want)
		}
	}
}

func TestCoversEveryTCPPort(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	num := func(p int32) *intstr.IntOrString { v := intstr.FromInt32(p); return &v }
	name := func(p string) *intstr.IntOrString { v := intstr.FromString(p); return &v }
	end := func(p int32) *int32 { return &p }
	tests := map[string]struct {
		ports []networkingv1.NetworkPolicyPort
		want  bool
	}{
		"an entry without a port number":    {[]networkingv1.NetworkPolicyPort{{}}, true},
		"a TCP entry without a port number": {[]networkingv1.NetworkPolicyPort{{Protocol: &tcp}}, true},
		"a UDP entry without a port number": {[]networkingv1.NetworkPolicyPort{{Protocol: &udp}}, false},
		"one port":                          {[]networkingv1.NetworkPolicyPort{{Port: num(8080)}}, false},
		"a range from 1 to 65535":           {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(65535)}}, true},
		"a range that leaves out port 1":    {[]networkingv1.NetworkPolicyPort{{Port: num(2), EndPort: end(65535)}}, false},
		"ranges that meet":                  {[]networkingv1.NetworkPolicyPort{{Port: num(1024), EndPort: end(65535)}, {Port: num(1), EndPort: end(1023)}}, true},
		"ranges with a gap":                 {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(1022)}, {Port: num(1024), EndPort: end(65535)}}, false},
		"a gap filled by one port":          {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(1022)}, {Port: num(1023)}, {Port: num(1024), EndPort: end(65535)}}, true},
		"a gap filled by a UDP port":        {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(1022)}, {Protocol: &udp, Port: num(1023)}, {Port: num(1024), EndPort: end(65535)}}, false},
		"a named port covers no number":     {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(1022)}, {Port: name("http")}, {Port: num(1024), EndPort: end(65535)}}, false},
		"overlapping ranges":                {[]networkingv1.NetworkPolicyPort{{Port: num(1), EndPort: end(40000)}, {Port: num(30000), EndPort: end(65535)}}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := coversEveryTCPPort(tc.ports); got != tc.want {
				t.Errorf("coversEveryTCPPort = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEveryAddress(t *testing.T) {
	block := func(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
	}
	tests := map[string]struct {
		peers []networkingv1.NetworkPolicyPeer
		want  bool
	}{
		"0.0.0.0/0":                          {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/0")}, true},
		"::/0":                               {[]networkingv1.NetworkPolicyPeer{block("::/0")}, true},
		"::/0 written out":                   {[]networkingv1.NetworkPolicyPeer{block("0:0:0:0:0:0:0:0/0")}, true},
		"a /0 with host bits":                {[]networkingv1.NetworkPolicyPeer{block("10.0.0.0/0")}, true},
		"a /0 with leading zeros":            {[]networkingv1.NetworkPolicyPeer{block("000.0.0.0/0")}, true},
		"two halves":                         {[]networkingv1.NetworkPolicyPeer{block("128.0.0.0/1"), block("0.0.0.0/1")}, true},
		"one half":                           {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/1")}, false},
		"halves of different families":       {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/1"), block("8000::/1")}, false},
		"an exception":                       {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/0", "10.0.0.0/8")}, false},
		"an exception another peer fills in": {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/0", "10.0.0.0/8"), block("10.0.0.0/8")}, true},
		"an exception of the last address":   {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/0", "255.255.255.255/32")}, false},
		"the last address filled in":         {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/0", "255.255.255.255/32"), block("255.255.255.255/32")}, true},
		"peers that overlap":                 {[]networkingv1.NetworkPolicyPeer{block("0.0.0.0/1"), block("64.0.0.0/2"), block("64.0.0.0/1"), block("128.0.0.0/1")}, true},
		"a selector is no address":           {[]networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}, false},
		"a CIDR that does not parse":         {[]networkingv1.NetworkPolicyPeer{block("everything")}, false},
		"a private range":                    {[]networkingv1.NetworkPolicyPeer{block("10.0.0.0/8")}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := everyAddress(tc.peers) != ""; got != tc.want {
				t.Errorf("everyAddress = %q, want every address %v", everyAddress(tc.peers), tc.want)
			}
		})
	}
}

func TestOpenIngress(t *testing.T) {
	num := func(p int32) *intstr.IntOrString { v := intstr.FromInt32(p); return &v }
	span := func(from, to int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Port: num(from), EndPort: &to}
	}
	everyNamespace := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}}
	oneNamespace := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}
	block := func(cidr string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}}
	}
	rule := func(from []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyIngressRule {
		return networkingv1.NetworkPolicyIngressRule{From: from, Ports: ports}
	}
	tests := map[string]struct {
		rules []networkingv1.NetworkPolicyIngressRule
		want  bool
	}{
		"no rules":                         {nil, false},
		"a rule with no from and no ports": {[]networkingv1.NetworkPolicyIngressRule{{}}, true},
		"every namespace on two halves of the ports": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(1, 32767)),
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(32768, 65535))}, true},
		"every namespace on two halves with a port left out": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(1, 32766)),
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(32768, 65535))}, false},
		"the left-out port open to one namespace only": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(1, 32766)),
			rule([]networkingv1.NetworkPolicyPeer{oneNamespace}),
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(32768, 65535))}, false},
		"address halves in two rules": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{block("0.0.0.0/1")}),
			rule([]networkingv1.NetworkPolicyPeer{block("128.0.0.0/1")})}, true},
		"address halves on different ports": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{block("0.0.0.0/1")}, span(1, 100)),
			rule([]networkingv1.NetworkPolicyPeer{block("128.0.0.0/1")}, span(101, 65535))}, false},
		"every namespace by the label the API server gives each": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpExists}}}}})}, true},
		"one namespace on every port": {[]networkingv1.NetworkPolicyIngressRule{
			rule([]networkingv1.NetworkPolicyPeer{oneNamespace}),
			rule([]networkingv1.NetworkPolicyPeer{everyNamespace}, span(443, 443))}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			why, judged := openIngress(tc.rules, "shop", new(int))
			if !judged || (why != "") != tc.want {
				t.Errorf("openIngress = %q (judged %v), want open %v", why, judged, tc.want)
			}
		})
	}
}

// TestOpenIngressBoundsItsWork gives openIngress rules built to be expensive: hundreds of rules,
// half admitting 0.0.0.0/1 and half 128.0.0.0/1, each on every port but one of its own, so that
// hundreds of rules admit each of hundreds of stretches of ports. It must give up (not judged)
// rather than gather every rule's addresses for every stretch; a smaller set of the same shape
// is judged, and admits everything.
func TestOpenIngressBoundsItsWork(t *testing.T) {
	build := func(n int) []networkingv1.NetworkPolicyIngressRule {
		var rules []networkingv1.NetworkPolicyIngressRule
		for i := range n {
			cidr := "0.0.0.0/1"
			if i%2 == 1 {
				cidr = "128.0.0.0/1"
			}
			hole := int32(100 + i)
			below, above := intstr.FromInt32(1), intstr.FromInt32(hole+1)
			belowEnd, aboveEnd := hole-1, int32(65535)
			rules = append(rules, networkingv1.NetworkPolicyIngressRule{
				From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: cidr}}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &below, EndPort: &belowEnd}, {Port: &above, EndPort: &aboveEnd}},
			})
		}
		return rules
	}
	if why, judged := openIngress(build(20), "shop", new(int)); !judged || why == "" {
		t.Errorf("20 rules: openIngress = %q (judged %v), want open", why, judged)
	}
	if why, judged := openIngress(build(1000), "shop", new(int)); judged {
		t.Errorf("1000 rules: openIngress = %q, judged: want it to give up", why)
	}
}

func TestCoverEveryPod(t *testing.T) {
	expr := func(key string, op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	ns := func(sel *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: sel}
	}
	both := func(n, p *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: n, PodSelector: p}
	}
	pods := func(p *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{PodSelector: p}
	}
	tests := map[string]struct {
		peers []networkingv1.NetworkPolicyPeer
		want  bool
	}{
		"every namespace":                {[]networkingv1.NetworkPolicyPeer{ns(&metav1.LabelSelector{})}, true},
		"a label and its absence":        {[]networkingv1.NetworkPolicyPeer{ns(expr("team", metav1.LabelSelectorOpExists)), ns(expr("team", metav1.LabelSelectorOpDoesNotExist))}, true},
		"a value and every other":        {[]networkingv1.NetworkPolicyPeer{ns(expr("team", metav1.LabelSelectorOpIn, "a")), ns(expr("team", metav1.LabelSelectorOpNotIn, "a"))}, true},
		"own namespace and every other":  {[]networkingv1.NetworkPolicyPeer{pods(&metav1.LabelSelector{}), ns(expr(corev1.LabelMetadataName, metav1.LabelSelectorOpNotIn, "shop"))}, true},
		"another namespace, every other": {[]networkingv1.NetworkPolicyPeer{pods(&metav1.LabelSelector{}), ns(expr(corev1.LabelMetadataName, metav1.LabelSelectorOpNotIn, "web"))}, false},
		"no name is no namespace":        {[]networkingv1.NetworkPolicyPeer{ns(expr(corev1.LabelMetadataName, metav1.LabelSelectorOpDoesNotExist))}, false},
		"pods split by a label":          {[]networkingv1.NetworkPolicyPeer{both(&metav1.LabelSelector{}, expr("app", metav1.LabelSelectorOpExists)), both(&metav1.LabelSelector{}, expr("app", metav1.LabelSelectorOpDoesNotExist))}, true},
		// Other namespaces' pods are selected by labels their admins set (forgeablePeer): the
		// pods left out are any of them not yet labelled role, so the peers admit every pod.
		"some pods of other namespaces left": {[]networkingv1.NetworkPolicyPeer{ns(expr("team", metav1.LabelSelectorOpDoesNotExist)),
			both(expr("team", metav1.LabelSelectorOpExists), expr("role", metav1.LabelSelectorOpExists))}, true},
		"some pods of the own namespace left": {[]networkingv1.NetworkPolicyPeer{ns(expr(corev1.LabelMetadataName, metav1.LabelSelectorOpNotIn, "shop")),
			both(expr(corev1.LabelMetadataName, metav1.LabelSelectorOpIn, "shop"), expr("role", metav1.LabelSelectorOpExists))}, false},
		"two values are not every value": {[]networkingv1.NetworkPolicyPeer{ns(expr("team", metav1.LabelSelectorOpIn, "a")), ns(expr("team", metav1.LabelSelectorOpIn, "b"))}, false},
		"an ipBlock selects no pod":      {[]networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			work := 0
			covered, judged := coverEveryPod(podPeersOf(tc.peers, "shop"), &work)
			if !judged || covered != tc.want {
				t.Errorf("coverEveryPod = %v (judged %v), want %v", covered, judged, tc.want)
			}
		})
	}
}

// TestCoverEveryPodBoundsItsWork gives coverEveryPod peers that name many label keys, whose sets
// of labels are too many to try: it must give up rather than try them.
func TestCoverEveryPodBoundsItsWork(t *testing.T) {
	var peers []networkingv1.NetworkPolicyPeer
	for i := range 40 {
		peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{fmt.Sprintf("key-%d", i): "a"}}})
	}
	work := 0
	if _, judged := coverEveryPod(podPeersOf(peers, "shop"), &work); judged {
		t.Errorf("40 keys: judged, want it to give up")
	}
}

// TestRejection checks which NetworkPolicies rejection says the API server rejects, rule by rule
// of pkg/apis/networking/validation (ValidateNetworkPolicyPort, ValidateNetworkPolicyPeer,
// ValidateIPBlock, ValidateNetworkPolicySpec).
func TestRejection(t *testing.T) {
	proto := func(p corev1.Protocol) *corev1.Protocol { return &p }
	num := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	name := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	end := func(n int32) *int32 { return &n }
	ingress := func(ports []networkingv1.NetworkPolicyPort, from ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicySpec {
		return networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: ports, From: from}}}
	}
	all := &metav1.LabelSelector{}
	tests := map[string]struct {
		spec networkingv1.NetworkPolicySpec
		want string
	}{
		"a default deny is valid":      {networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress"}}, ""},
		"an empty rule is valid":       {ingress(nil), ""},
		"ports of every valid form":    {ingress([]networkingv1.NetworkPolicyPort{{}, {Protocol: proto("UDP")}, {Port: num(53)}, {Port: num(8000), EndPort: end(8999)}, {Port: name("http")}}), ""},
		"peers of every valid form":    {ingress(nil, networkingv1.NetworkPolicyPeer{PodSelector: all}, networkingv1.NetworkPolicyPeer{NamespaceSelector: all, PodSelector: all}, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}), ""},
		"an empty peer":                {ingress(nil, networkingv1.NetworkPolicyPeer{}), "spec.ingress[0].from[0]: must specify a peer"},
		"an ipBlock beside a selector": {ingress(nil, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}, PodSelector: all}), "spec.ingress[0].from[0]: may not specify both ipBlock and another peer"},
		"an ipBlock without a CIDR":    {ingress(nil, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{}}), "spec.ingress[0].from[0].ipBlock.cidr: Required value"},
		"an ipBlock with a bad CIDR":   {ingress(nil, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0"}}), `spec.ingress[0].from[0].ipBlock.cidr: Invalid value "10.0.0.0": must be a valid CIDR`},
		"an except as wide as its block": {ingress(nil, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.0.0.0/8"}}}),
			"spec.ingress[0].from[0].ipBlock.except[0]: Invalid value \"10.0.0.0/8\": must be a strict subset of `cidr`"},
		"an except outside its block": {ingress(nil, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16", "192.168.0.0/16"}}}),
			"spec.ingress[0].from[0].ipBlock.except[1]: Invalid value \"192.168.0.0/16\": must be a strict subset of `cidr`"},
		"an unknown protocol":            {ingress([]networkingv1.NetworkPolicyPort{{Protocol: proto("tcp")}}), `spec.ingress[0].ports[0].protocol: Unsupported value "tcp"`},
		"port 0":                         {ingress([]networkingv1.NetworkPolicyPort{{Port: num(0)}}), "spec.ingress[0].ports[0].port: Invalid value 0: must be between 1 and 65535, inclusive"},
		"an endPort below its port":      {ingress([]networkingv1.NetworkPolicyPort{{Port: num(80), EndPort: end(79)}}), "spec.ingress[0].ports[0].endPort: must be greater than or equal to port"},
		"an endPort past 65535":          {ingress([]networkingv1.NetworkPolicyPort{{Port: num(80), EndPort: end(70000)}}), "spec.ingress[0].ports[0].endPort: Invalid value 70000: must be between 1 and 65535, inclusive"},
		"an endPort without a port":      {ingress([]networkingv1.NetworkPolicyPort{{EndPort: end(80)}}), "spec.ingress[0].ports[0].endPort: may not be specified when port is not specified"},
		"an endPort beside a named port": {ingress([]networkingv1.NetworkPolicyPort{{Port: name("http"), EndPort: end(80)}}), "spec.ingress[0].ports[0].endPort: may not be specified when port is non-numeric"},
		"an invalid port name":           {ingress([]networkingv1.NetworkPolicyPort{{Port: name("80")}}), `spec.ingress[0].ports[0].port: Invalid value "80": must contain at least one letter (a-z)`},
		"an empty egress peer": {networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{}}}}},
			"spec.egress[0].to[0]: must specify a peer"},
		"a policy type in lower case": {networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"ingress"}}, `spec.policyTypes[0]: Unsupported value "ingress"`},
		"three policy types": {networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress", "Ingress"}},
			"spec.policyTypes: may not specify more than two policyTypes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := rejection(&networkingv1.NetworkPolicy{Spec: tc.spec}); got != tc.want {
				t.Errorf("rejection = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestANamespacesPoliciesShareOneBoundOnTheirWork: each policy is judged within ingressWork, and
// the policies of a namespace together within namespaceIngressWork, in the order of their names.
// Ten policies built to cost ingressWork each (twenty peers that require twenty different labels)
// spend the namespace's work: a policy that admits everything, named before them, is judged; one
// named after them whose peer takes work to judge is not (NotAssessed, rather than 50 ms more for
// every admission in the namespace), while one that needs none (no from) still is.
func TestANamespacesPoliciesShareOneBoundOnTheirWork(t *testing.T) {
	policy := func(name string, ingress []networkingv1.NetworkPolicyIngressRule) *engine.Object {
		np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: networkingv1.NetworkPolicySpec{Ingress: ingress}}
		return engine.NewObject(np, "networking.k8s.io/v1", "NetworkPolicy")
	}
	onePeer := []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "frontend"}}}}}}
	objs := []*engine.Object{policy("aaa-open", []networkingv1.NetworkPolicyIngressRule{{}}), policy("zzz-one-peer", onePeer),
		policy("zzz-open", []networkingv1.NetworkPolicyIngressRule{{}})}
	if v := policyVerdicts(engine.NewInventory(objs[1:2], true), "shop")[objs[1]]; !v.judged || v.why != "" {
		t.Fatalf("zzz-one-peer alone: %+v, want judged closed", v)
	}
	for i := range 10 {
		var peers []networkingv1.NetworkPolicyPeer
		for k := range 20 {
			peers = append(peers, networkingv1.NetworkPolicyPeer{
				PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{fmt.Sprintf("k%d-%d", i, k): "x"}}})
		}
		objs = append(objs, policy(fmt.Sprintf("costly-%d", i), []networkingv1.NetworkPolicyIngressRule{{From: peers}}))
	}
	inv := engine.NewInventory(objs, true)
	verdicts := policyVerdicts(inv, "shop")
	for _, o := range objs {
		v := verdicts[o]
		switch o.Name {
		case "aaa-open", "zzz-open":
			if !v.judged || v.why == "" {
				t.Errorf("%s: %+v, want judged open", o.Name, v)
			}
		default:
			if v.judged {
				t.Errorf("%s: %+v, want not judged: the namespace's work is spent", o.Name, v)
			}
		}
	}
}
