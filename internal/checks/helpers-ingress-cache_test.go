package checks

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// TestReducedInjectionsAreBounded: net-ingress-snippets reads auth-url, auth-tls-match-cn,
// mirror-target and mirror-host under any prefix (an ingress-nginx --annotations-prefix), so a
// tenant may write as many of them as 256 KiB holds. The cache keeps of them, after the snippets
// the check names, the first that carry nginx syntax up to maxNamed in all, and counts the others;
// those that carry none it drops.
func TestReducedInjectionsAreBounded(t *testing.T) {
	a := map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "return 200;"}
	for i := range 2000 {
		a[fmt.Sprintf("t%04d.example.com/auth-url", i)] = "http://a/;"
		a[fmt.Sprintf("t%04d.example.com/mirror-host", i)] = "mirror.example.com"
	}
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	ReduceIngressAnnotations(ing)
	got := ing.Annotations
	if n := len(got); n != maxNamed+1 {
		t.Errorf("the cache keeps %d annotations, want the snippet, %d auth-urls and the count: %v", n, maxNamed-1, got)
	}
	if c := got[IngressSnippetsOmittedAnnotation]; c != fmt.Sprint(2000-(maxNamed-1)) {
		t.Errorf("omitted count %q, want %d", c, 2000-(maxNamed-1))
	}
	for k := range got {
		if strings.HasSuffix(k, "/mirror-host") {
			t.Errorf("the cache kept %s, which carries no nginx syntax", k)
		}
	}
	if _, ok := got["t0000.example.com/auth-url"]; !ok {
		t.Errorf("the cache left out the first auth-url: %v", got)
	}
	// Reduced again, it stays as it is.
	before := fmt.Sprint(got)
	ReduceIngressAnnotations(ing)
	if after := fmt.Sprint(ing.Annotations); after != before {
		t.Errorf("reduced twice: %s, once: %s", after, before)
	}
}

// TestEskipRisks reads Skipper's eskip as its lexer does: what is in a string, a regular
// expression or a comment is no call and no backend.
func TestEskipRisks(t *testing.T) {
	tests := map[string]struct {
		code      string
		calls     []string
		addressed bool
	}{
		"a common filter chain":                {code: `ratelimit(50, "1m") -> setRequestHeader("X", "y")`},
		"an inline lua filter":                 {code: `lua("function request(c, p) end")`, calls: []string{"lua"}},
		"lua named in a string":                {code: `setRequestHeader("X", "lua(\"x\")")`},
		"lua after an escaped quote":           {code: `setRequestHeader("X", "\"") -> lua("x")`, calls: []string{"lua"}},
		"a network backend":                    {code: `r: * -> "http://10.0.0.1";`, addressed: true},
		"a network backend after filters":      {code: "r: Path(\"/\")\n  -> setPath(\"/\")\n  -> `https://a`;", addressed: true},
		"an LB backend":                        {code: `r: * -> <"http://a", "http://b">;`, addressed: true},
		"a dynamic backend":                    {code: `r: * -> setDynamicBackendUrl("http://a") -> <dynamic>;`, addressed: true},
		"shunt, loopback and forward":          {code: `a: * -> <shunt>; b: * -> <loopback>; c: * -> <forward>;`},
		"a redirect's URL":                     {code: `r: * -> redirectTo(308, "https://a/") -> <shunt>;`},
		"a regular expression with a quote":    {code: `r: PathRegexp(/a"b[/]c/) -> <shunt>;`},
		"a backend in a comment":               {code: "// r: * -> \"http://a\";\nr: * -> <shunt>;"},
		"static and bearerinjector, in order":  {code: `bearerinjector("t") -> static("/", "/")`, calls: []string{"static", "bearerinjector"}},
		"a symbol that only starts with lua":   {code: `luaX("a")`},
		"a lua file of the operators'":         {code: `lua("/etc/skipper/lua/auth.lua", "k=v")`},
		"a script that ends in .lua is a file": {code: `lua("function request() end -- .lua")`},
		"an inline script after a lua file":    {code: `lua("a.lua") -> lua("function request(c, p) end")`, calls: []string{"lua"}},
		"a lua with no string":                 {code: `lua(1)`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls, addressed := eskipRisks(tc.code)
			if fmt.Sprint(calls) != fmt.Sprint(tc.calls) || addressed != tc.addressed {
				t.Errorf("eskipRisks(%q) = %v, %v; want %v, %v", tc.code, calls, addressed, tc.calls, tc.addressed)
			}
		})
	}
}

// FuzzSkipperStandIn: the operator's cache keeps of a Skipper annotation its stand-in, which
// net-ingress-snippets must read to the findings of the whole value.
func FuzzSkipperStandIn(f *testing.F) {
	f.Add(`r: * -> lua("x") -> "http://a";`)
	f.Add(`static("/", "/") -> bearerinjector("t")`)
	f.Add(`r: PathRegexp(/a[/]"/) -> <dynamic>;`)
	f.Fuzz(func(t *testing.T, v string) {
		for _, k := range []string{skipperFilter, skipperRatelimit, skipperRoutes} {
			want := fmt.Sprint(skipperInjections(map[string]string{k: v}))
			a := map[string]string{}
			if standIn := skipperStandIn(k, v); standIn != "" {
				a[k] = standIn
			}
			if got := fmt.Sprint(skipperInjections(a)); got != want {
				t.Errorf("%s: %q reads %s, its stand-in %q %s", k, v, want, a[k], got)
			}
		}
	})
}

// TestHAProxyCORSInjections reads the HAProxy Kubernetes Ingress Controller's cors-allow-origin
// and cors-allow-headers as HAProxy reads what the controller makes of them: a } is a word of its
// own before any comment, quoted, escaped or not (HAProxy's condition parser sees words already
// unquoted), to end the ACL; a " ends the quotes only
// inside the quotes the controller adds, after the blanks are taken out.
func TestHAProxyCORSInjections(t *testing.T) {
	origins := map[string]struct {
		value  string
		closes bool
	}{
		"a brace of its own closes the ACL":           {`^https://a$ } || { always_true`, true},
		"a brace at the end closes it":                {`x }`, true},
		"a brace after a line break closes it":        {"x\n}", true},
		"a quantifier's braces are a pattern's":       {`^https://[a-z]{3,8}\.example\.com$`, false},
		"a quoted brace closes it too":                {`x "}" || { always_true`, true},
		"a single-quoted brace closes it too":         {`x '}'`, true},
		"an escaped brace closes it too":              {`x \}`, true},
		"a quoted brace with a blank is a pattern":    {`x "} "`, false},
		"an empty quoted word is no brace":            {`x "" y`, false},
		"a brace in a comment closes nothing":         {`x # }`, false},
		"a brace on the line after a comment does":    {"x #\n}", true},
		"a brace inside a word is the word's":         {`x}y {x}`, false},
		"a plain origin":                              {`^https://shop\.example\.com$`, false},
		"blanks around a brace-free value are blanks": {"  x  \n", false},
	}
	for name, tc := range origins {
		if got := closesHAProxyACL(tc.value); got != tc.closes {
			t.Errorf("%s: closesHAProxyACL(%q) = %v, want %v", name, tc.value, got, tc.closes)
		}
	}
	headers := map[string]struct {
		value string
		ends  bool
	}{
		"a quote inside the value ends the quotes":   {`X-Tenant" #`, true},
		"blanks are taken out before it":             {`X-Tenant "#`, true},
		"the author's own opening and closing quote": {`"X-Tenant, Authorization"`, false},
		"an opening quote alone":                     {`"X-Tenant`, false},
		"a lone quote":                               {`"`, false},
		"an escaped quote":                           {`X-\"Tenant`, false},
		"a quote between the author's quotes":        {`"X"Y"`, true},
		"plain names":                                {`X-Tenant, Authorization`, false},
	}
	for name, tc := range headers {
		if got := endsCORSQuote(tc.value); got != tc.ends {
			t.Errorf("%s: endsCORSQuote(%q) = %v, want %v", name, tc.value, got, tc.ends)
		}
	}
	for _, k := range []string{"haproxy.org/cors-allow-origin", "cors-allow-headers", "custom.io/request-capture"} {
		if !injects(k, injectionStandIn(k)) {
			t.Errorf("the cache's stand-in %q of %s injects nothing", injectionStandIn(k), k)
		}
	}
}

// TestEmissaryKinds reads Emissary's getambassador.io/config as Emissary does, its documents'
// kinds, and a value it cannot parse by its kind: lines; the cache's stand-in declares the
// same global kinds.
func TestEmissaryKinds(t *testing.T) {
	cases := map[string]struct {
		value string
		kinds string
	}{
		"a Mapping is a route of the author's": {"apiVersion: getambassador.io/v3alpha1\nkind: Mapping\nname: a\nprefix: /\nservice: a\n", ""},
		"an AuthService after a Mapping":       {"---\nkind: Mapping\nname: a\n---\nkind: AuthService\nname: b\n", "AuthService"},
		"a quoted kind in JSON":                {`{"apiVersion": "ambassador/v1", "kind": "Module", "name": "ambassador"}`, "Module"},
		"each global kind once, in order":      {"kind: Module\n---\nkind: LogService\n---\nkind: Module\n---\nkind: AuthService\n", "AuthService, LogService, Module"},
		"a comment is no kind":                 {"# kind: AuthService\nkind: Mapping\n", ""},
		"a kind in a string is no kind":        {"kind: Mapping\nprefix: 'kind: AuthService'\n", ""},
		"a document that does not parse":       {"kind: Mapping\n---\nkind: AuthService\nname: [b\n", "AuthService"},
		"a kind of another case is none":       {"kind: authservice\n", ""},
		"empty":                                {"", ""},
	}
	for name, tc := range cases {
		got := strings.Join(emissaryKinds(tc.value), ", ")
		if got != tc.kinds {
			t.Errorf("%s: emissaryKinds(%q) = %q, want %q", name, tc.value, got, tc.kinds)
		}
		if standIn := strings.Join(emissaryKinds(emissaryStandIn(tc.value)), ", "); standIn != tc.kinds {
			t.Errorf("%s: the cache's stand-in %q declares %q, want %q", name, emissaryStandIn(tc.value), standIn, tc.kinds)
		}
	}
}

// TestBreaksNginxWord reads a permanent-redirect as nginx reads the bare word ingress-nginx before
// 1.9.0 wrote it as: a ;, a brace, a blank or a quote ends it; a URL's fragment # does not.
func TestBreaksNginxWord(t *testing.T) {
	cases := map[string]struct {
		value  string
		breaks bool
	}{
		"a plain URL":                   {"https://docs.example.com/guide?lang=en", false},
		"a fragment's #":                {"https://docs.example.com/guide#install", false},
		"a variable":                    {"https://$host/new$request_uri", false},
		"a ; ends the directive":        {"https://a.example.com/;return 200", true},
		"a brace":                       {"https://a.example.com/{", true},
		"a blank is another word":       {"https://a.example.com/ x", true},
		"a line break":                  {"https://a.example.com/\nx", true},
		"a quote":                       {`"https://a.example.com/"`, true},
		"blanks around are not counted": {"  https://a.example.com/\n", false},
	}
	for name, tc := range cases {
		if got := breaksNginxWord(tc.value); got != tc.breaks {
			t.Errorf("%s: breaksNginxWord(%q) = %v, want %v", name, tc.value, got, tc.breaks)
		}
	}
	for _, k := range []string{"custom.io/permanent-redirect", "nginx.ingress.kubernetes.io/temporal-redirect"} {
		if !injects(k, injectionStandIn(k)) {
			t.Errorf("the cache's stand-in %q of %s injects nothing", injectionStandIn(k), k)
		}
	}
}

// FuzzSecretRefStandIn: the operator's cache keeps of an Ingress's (Service's) annotations that
// name another namespace's Secret a stand-in (reduceSecretRefs), which net-ingress-snippets must
// read to the findings of the whole values, and drops those that name none; reducing twice
// changes nothing.
func FuzzSecretRefStandIn(f *testing.F) {
	f.Add("shop", "payments/client-ca", "shop/ca, bank/ca", false)
	f.Add("shop", " shop/x ", "Not_A_Namespace/x", true)
	f.Add("shop", "a/b/c", "/x,bank/", false)
	f.Fuzz(func(t *testing.T, ns, v1, v2 string, service bool) {
		a := map[string]string{"x.example.com/auth-secret": v1, "server-crt": v2, "haproxy.org/server-ca": v1 + "," + v2,
			"x.example.com/custom-headers": v2, "haproxy-ingress.github.io/secure-crt-secret": v1}
		want := fmt.Sprint(foreignSecretRefs(ns, a, service))
		_, omitted := reduceSecretRefs(a, ns, service, 0, 0)
		if got := fmt.Sprint(foreignSecretRefs(ns, a, service)); got != want || omitted != 0 {
			t.Errorf("%q: whole %s, reduced %v %s (%d omitted)", ns, want, a, got, omitted)
		}
		again := maps.Clone(a)
		reduceSecretRefs(again, ns, service, 0, 0)
		if !maps.Equal(a, again) {
			t.Errorf("%q: reduced %v, again %v", ns, a, again)
		}
	})
}

// TestReducedAuthHeaderRefsAreBounded: net-ingress-snippets reads the values of the ConfigMap an
// Ingress's auth-proxy-set-headers names (any prefix), so a tenant may write as many of them as
// 256 KiB holds, each padded with blanks. The cache keeps the first maxNamed that name a ConfigMap
// of the Ingress's namespace, as namespace/name, and counts the others: the check fails on a kept
// one whose ConfigMap ends its quotes, and is NotAssessed, never Pass, where only a left-out one
// would have failed.
func TestReducedAuthHeaderRefsAreBounded(t *testing.T) {
	const prefixes = 2000
	ingress := func(a map[string]string) *engine.Object {
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Annotations: a}}
		ReduceIngressAnnotations(ing)
		o := engine.NewObject(ing, "networking.k8s.io/v1", "Ingress")
		o.Digest = CachedIngressDigest(ing.Annotations)
		return o
	}
	a := map[string]string{}
	for i := range prefixes {
		a[fmt.Sprintf("t%04d.example.com/auth-proxy-set-headers", i)] = strings.Repeat(" ", 2<<10) + fmt.Sprintf("shop/headers-%04d", i)
	}
	o := ingress(maps.Clone(a))
	kept := 0
	for k, v := range o.Annotations() {
		if strings.HasSuffix(k, "/auth-proxy-set-headers") {
			kept++
			if len(v) > 317 {
				t.Errorf("the cache kept %d bytes of %s", len(v), k)
			}
		}
	}
	if d, ok := o.Digest.(*ingressDigest); kept != maxNamed || !ok || d.configMaps != prefixes-maxNamed {
		t.Fatalf("the cache kept %d references and counted %v, want %d and %d", kept, o.Digest, maxNamed, prefixes-maxNamed)
	}
	judge := func(breaking string) engine.Status {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: breaking, Namespace: "shop"}, Data: map[string]string{"X-Pwn": "x'; }"}}
		objs := []*engine.Object{ingress(maps.Clone(a)), engine.NewObject(cm, "v1", "ConfigMap")}
		plan := engine.Compile([]*engine.Check{netIngressSnippets}, nil)
		ev := plan.Evaluate(engine.NewInventory(objs, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
		for _, r := range ev.Results {
			if r.Object.Kind == "Ingress" {
				return r.Status
			}
		}
		t.Fatal("the Ingress was not judged")
		return 0
	}
	if s := judge("headers-0000"); s != engine.StatusFail {
		t.Errorf("a kept reference to a ConfigMap that ends its quotes: %s, want Fail", s)
	}
	if s := judge("headers-1999"); s != engine.StatusNotAssessed {
		t.Errorf("a left-out reference to a ConfigMap that ends its quotes: %s, want NotAssessed", s)
	}
}

// TestWithheldConfigMapsLeaveOnlyTheIngressesNamingOneNotAssessed: net-ingress-snippets reads
// ConfigMaps (the one an Ingress's auth-proxy-set-headers names). On a cluster that withholds
// ConfigMaps from the operator, an Ingress naming one is NotAssessed with the reason, and the
// others keep their verdicts: a snippet still fails, a plain Ingress passes (ReadsLooked), and
// a snippet fails beside a ConfigMap reference too (the failure rests on no ConfigMap).
func TestWithheldConfigMapsLeaveOnlyTheIngressesNamingOneNotAssessed(t *testing.T) {
	ingress := func(name string, a map[string]string) *engine.Object {
		return engine.NewObject(&networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Annotations: a}},
			"networking.k8s.io/v1", "Ingress")
	}
	inv := engine.NewInventory([]*engine.Object{
		ingress("headers", map[string]string{"nginx.ingress.kubernetes.io/auth-proxy-set-headers": "auth-headers"}),
		ingress("snippet", map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "return 200;"}),
		// A snippet beside a ConfigMap reference: the snippet fails whatever the ConfigMap holds,
		// so the reference a namespace admin adds does not hide it.
		ingress("snippet-and-headers", map[string]string{"nginx.ingress.kubernetes.io/server-snippet": "return 200;",
			"nginx.ingress.kubernetes.io/auth-proxy-set-headers": "auth-headers"}),
		ingress("plain", nil)}, true)
	inv.Unseen = map[string]engine.Unseen{"ConfigMap": {Namespaced: true, Reason: "its ServiceAccount may not list them"}}
	ev := engine.Compile([]*engine.Check{netIngressSnippets}, nil).Evaluate(inv, nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	want := map[string]engine.Status{"headers": engine.StatusNotAssessed, "snippet": engine.StatusFail, "snippet-and-headers": engine.StatusFail,
		"plain": engine.StatusPass}
	for _, r := range ev.Results {
		if r.Status != want[r.Object.Name] {
			t.Errorf("%s is %s (%s), want %s", r.Object.Name, r.Status, r.Message, want[r.Object.Name])
		}
	}
	if len(ev.Results) != 4 {
		t.Errorf("%d results, want 4", len(ev.Results))
	}
}
