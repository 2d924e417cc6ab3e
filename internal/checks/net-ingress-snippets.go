package checks

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/selection"
)

var netIngressSnippets = &engine.Check{
	ID:    "net-ingress-snippets",
	Title: "Ingresses and Services do not inject configuration into the ingress controller",
	Description: "An ingress-nginx snippet annotation (nginx.ingress.kubernetes.io/configuration-snippet, " +
		"server-snippet, auth-snippet, stream-snippet, modsecurity-snippet: any of its annotations " +
		"whose name ends in -snippet, under the default prefix or the one the controller's " +
		"--annotations-prefix flag sets), an NGINX Ingress Controller one (nginx.org/server-snippets, " +
		"nginx.org/location-snippets) or another controller's (haproxy.org/backend-config-snippet; HAProxy " +
		"Ingress's config-backend and config-tcp-service, which carry no -snippet suffix) " +
		"copies its value verbatim into the configuration of the " +
		"controller, which serves every Ingress of the cluster and runs with a ServiceAccount that " +
		"reads the Secrets of every namespace: whoever may write an Ingress in any namespace can read " +
		"those Secrets and the controller's token (CVE-2021-25742), run Lua code in the controller, or " +
		"route and rewrite other teams' traffic. Logical access (CC6.1) and protection against " +
		"unauthorised software (CC6.8) both depend on the controller's configuration being its " +
		"administrators' alone. The check reads the Ingress only: whether the controller that serves " +
		"it allows snippets (allow-snippet-annotations, off by default since ingress-nginx 1.9, " +
		"annotations-risk-level; enable-snippets for the NGINX Ingress Controller) is not in the " +
		"Ingress, and a controller that allows them is one edit away, so an Ingress that sets one " +
		"fails whichever class it names (Kyverno disallow-ingress-nginx-custom-snippets, checkov " +
		"CKV_K8S_153). The prefix is the controller's flag, which a namespace's Ingress does not show, " +
		"so an annotation whose name ends in -snippet or -snippets, or is config-backend or config-tcp-service, fails " +
		"under any prefix (a key without a prefix is no controller's, but backend-config-snippet, which the HAProxy " +
		"Kubernetes Ingress Controller reads whatever its prefix, and bare too). So does an ingress-nginx annotation that ingress-nginx before 1.11.5 and 1.12.1 " +
		"wrote into the configuration unchecked (auth-url, CVE-2025-24514; auth-tls-match-cn, " +
		"CVE-2025-1097; mirror-target and mirror-host, CVE-2025-1098) whose value carries nginx " +
		"configuration syntax (a line break, ;, {, }, # or a quote), which no URL or common name needs: " +
		"it ends the directive and adds its own. So does a permanent-redirect (temporal-redirect) that ingress-nginx before 1.9.0 wrote alike " +
		"(CVE-2023-5044) with a ;, a brace, a blank or a quote (a URL's fragment # is the URL's). Those are read under any prefix too (a custom prefix is not in view): " +
		"other controllers that use the same names (HAProxy Ingress, Traefik 1.x) take URLs there, which pass. " +
		"Skipper reads zalando.org/skipper-filter (and zalando.org/ratelimit) as arbitrary filters and zalando.org/skipper-routes as " +
		"whole routes of the author's: a lua() filter runs the author's code in the proxy and reads its files (inline Lua was on by " +
		"default before Skipper v0.23), static() serves the proxy's files and bearerinjector() hands out its tokens, so a call of " +
		"one fails; so does a custom route whose backend is an address of the author's (a network or LB backend, or <dynamic>), " +
		"which reaches whatever the proxy reaches past the NetworkPolicies of what it reaches (the reach Skipper v0.24 closed " +
		"for ExternalName Services, CVE-2026-24470). Routes that end in <shunt>, <loopback> or <forward> pass. " +
		"Both HAProxy controllers read raw configuration from the Services an Ingress routes to as well, into the backend " +
		"section of the controller's configuration: HAProxy Ingress's config-backend (a Backend-scope key, which it reads on " +
		"Services) and the HAProxy Kubernetes Ingress Controller's backend-config-snippet (haproxy.org/, haproxy.com/, " +
		"ingress.kubernetes.io/, any other prefix or none, which it reads on Services, Ingresses and its ConfigMap), so a " +
		"Service that sets either, under any prefix (backend-config-snippet bare too), fails too, whether or not an Ingress routes to it yet: whoever may write the Service may write an " +
		"Ingress to it. So does a Service's route-acl (any prefix, or bare), a raw HAProxy condition that the HAProxy " +
		"Kubernetes Ingress Controller writes as it is into a use_backend rule it puts first in its shared frontends: a } in " +
		"it ends its ACL and what follows (|| { always_true) routes every host's requests to the Service, and behind an " +
		"Ingress without a host it routes whichever requests it picks (hdr(host) -m str another team's host). " +
		"The HAProxy Kubernetes Ingress Controller puts each value of an Ingress's request-set-header and response-set-header " +
		"(any prefix, or bare) between double quotes as it is, before the condition that keeps the rule to the Ingress's hosts " +
		"and paths: a \" that no backslash escapes ends the quotes, and a # after it makes that condition a comment, so the " +
		"header is set on every host's traffic; such a value fails. It writes set-host, each line of path-rewrite, request-redirect " +
		"and src-ip-header (any prefix, or bare) as they are, unquoted, before that condition: a # outside quotes that no " +
		"backslash escapes makes the condition a comment, so every host's Host header (path) is rewritten, every host redirects " +
		"to the tenant's site or takes its clients' addresses from a header they send; such a value fails. So does a line of " +
		"request-capture (any prefix, or bare) with such a #, which it writes alike as a capture rule's sample: with a len of " +
		"its own before the #, every host's header goes into the controller's logs, and an auth-realm with one, written alike " +
		"as an auth rule's realm: every host's requests are answered 401. It takes the blanks out of cors-allow-headers " +
		"and puts it between double quotes (keeping a quote it starts or ends with), before the same condition: a \" inside " +
		"ends them, so such a value fails; and it writes cors-allow-origin as it is into an ACL ({ ... -m reg <value> }) " +
		"of that condition: a } of its own (a word, quoted, escaped or not) ends the ACL, and what follows " +
		"(|| { always_true) sets the CORS headers, Access-Control-Allow-Credentials among them, on every host's " +
		"responses; such a value fails. Emissary-ingress reads getambassador.io/config on every Service and Ingress as " +
		"resources of its own, with no RBAC on its CRDs: one that declares an AuthService (which validates every request of " +
		"every host), a LogService (which receives every request's access log) or the ambassador Module (its system-wide " +
		"configuration) fails; Mappings, routes of the author's, pass. An Ingress that names another namespace's Secret for " +
		"the controller to use on its behalf fails too: ingress-nginx's auth-secret (basic-auth users), auth-tls-secret (the CA " +
		"that verifies clients) and proxy-ssl-secret (the client certificate and key it presents to the backend), which it refuses " +
		"from another namespace only while its ConfigMap leaves allow-cross-namespace-resources off (a setting the Ingress does not " +
		"show), and the HAProxy Kubernetes Ingress Controller's auth-secret, server-crt and server-ca (on Services too), which it " +
		"reads from any namespace, and HAProxy Ingress's secure-crt-secret and secure-verify-ca-secret (on Services too), which it " +
		"takes from another namespace when it runs with --allow-cross-namespace: the controller reads every namespace's Secrets, so the tenant has it present another team's " +
		"client key, trust another team's CA or check passwords against another team's users. Traefik's Kubernetes Ingress provider alike applies " +
		"the Middlewares of an Ingress's traefik.ingress.kubernetes.io/router.middlewares and of a Service's service.middlewares, and the " +
		"ServersTransport (the client certificate Traefik presents to the backend) of its service.serversTransport, named " +
		"<namespace>-<name>@kubernetescrd (<namespace>_<name>@kubernetescrd under the CRD provider's safeNaming), from any namespace unless its " +
		"administrators set crossProviderNamespaces (allowCrossNamespace guards IngressRoutes only): one that names another namespace's fails " +
		"(the tenant puts another team's basicAuth Middleware in front of its own backend and reads that team's users' passwords). Middlewares " +
		"of the object's own namespace, of a system namespace (kube-system) and of traefik, where Traefik's administrators keep the shared ones, " +
		"pass, as do other providers' (@file); <namespace>-<name> does not tell namespace a's Middleware b-auth from namespace a-b's auth, so " +
		"one that begins with the object's own namespace and a - passes. A Traefik IngressRoute (traefik.io) whose routes (or their services) name " +
		"another namespace's Middleware (middlewares[].namespace, or <namespace>-<name>@kubernetescrd) or ServersTransport " +
		"(serversTransport <namespace>-<name>@kubernetescrd) fails alike: Traefik takes them while its CRD provider's allowCrossNamespace is on, " +
		"a setting the IngressRoute does not show. So does one that names another namespace's " +
		"ConfigMap in ingress-nginx's auth-proxy-set-headers (refused while allow-cross-namespace-resources is off) or custom-headers " +
		"(read from any namespace): the controller sends its values as headers to the tenant's auth-url service or to the tenant's " +
		"clients, a read of another team's ConfigMap. The ConfigMap that auth-proxy-set-headers names in the Ingress's own namespace is read too: " +
		"ingress-nginx writes each of its entries as proxy_set_header '<name>' '<value>'; into its configuration, the value unchecked " +
		"(CVE-2025-15566), so one with a ' that no backslash escapes, or that ends in a backslash, ends its quotes and adds configuration " +
		"of the author's: such an Ingress fails; a scan whose files hold the Ingress but not that ConfigMap is NotAssessed (in the " +
		"cluster, ingress-nginx writes nothing for a ConfigMap that does not exist). custom-headers' values are quoted and checked, " +
		"and not judged. Any prefix counts (and none, for " +
		"the HAProxy Kubernetes Ingress Controller's); a name alone, or one of the object's own namespace, passes. A manifest " +
		"that sets no namespace and names one there is NotAssessed in scan unless --namespace says where it is applied. " +
		"A Kong KongPlugin (configuration.konghq.com) of the pre-function, post-function or exit-transformer plugin, which a namespace admin may " +
		"create and attach to their Ingresses and Services (konghq.com/plugins), fails too, attached or not, unless disabled: Kong runs " +
		"its Lua code in the shared proxy for the routes it is attached to; Kong documents that whoever can enable them can run " +
		"arbitrary code, and its default sandbox still gives the code the kong.* and ngx.* functions. A KongClusterPlugin is " +
		"cluster-scoped, its administrators' alone, and not judged." + supporting,
	Remediation: "Remove the snippet annotations (of Ingresses and of Services); use the controller's dedicated annotations or a " +
		"configuration its administrators own (the controller ConfigMap), and keep " +
		"allow-snippet-annotations \"false\" on ingress-nginx (enable-snippets false on the NGINX " +
		"Ingress Controller, --disable-config-keywords=* on HAProxy Ingress, --disable-config-snippets=backend or all on the " +
		"HAProxy Kubernetes Ingress Controller); route with an Ingress's hosts and paths, not a Service's route-acl; escape a \" in a set-header or cors-allow-headers value and a # in set-host, path-rewrite, request-redirect, src-ip-header, request-capture and auth-realm (\\#), and keep a } of a cors-allow-origin pattern inside a word (HAProxy has no quoting for it). On Emissary-ingress, declare AuthService, LogService and Module resources as CRDs in its administrators' namespace, not in a Service's or Ingress's getambassador.io/config. Give auth-url, auth-tls-match-cn, mirror-target, mirror-host, permanent-redirect and temporal-redirect plain " +
		"URLs, hosts and common names, and run ingress-nginx 1.11.5, 1.12.1 or later. On Skipper, use " +
		"RouteGroups or Services for backends, keep Lua off (-lua-sources=none, the default since v0.23, or file) and disable " +
		"the static and bearerinjector filters (-disabled-filters). Keep the Secrets an Ingress or Service names for its " +
		"controller in its own namespace (a copy, or one cert-manager or a secret replicator keeps there) and " +
		"allow-cross-namespace-resources \"false\" on ingress-nginx (no --allow-cross-namespace on HAProxy Ingress); likewise the " +
		"ConfigMaps of auth-proxy-set-headers and custom-headers, and the Middlewares and ServersTransports a Traefik annotation names (or have " +
		"Traefik's administrators share them from the traefik namespace and set the Ingress provider's crossProviderNamespaces), and keep ' and a trailing backslash out of the values of " +
		"auth-proxy-set-headers' ConfigMap (ingress-nginx 1.12.5, 1.13.1 or later, kubernetes/kubernetes#136789). On Kong, have its administrators provide pre-function and " +
		"post-function code as KongClusterPlugins, or set untrusted_lua=off where no custom code is needed.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{cc61, cc68},
	Targets:  []string{"Ingress", "Service", "KongPlugin", "IngressRoute"},
	// The ConfigMaps an Ingress's auth-proxy-set-headers names, whose values ingress-nginx
	// writes into its configuration (authHeaderInjections).
	Reads: []string{"ConfigMap"},
	// Only an Ingress whose auth-proxy-set-headers names one looks a ConfigMap up (ctx.Get):
	// ConfigMaps withheld from the operator leave that Ingress NotAssessed, not every result.
	ReadsLooked: true,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if o.Kind == "KongPlugin" {
			kongPluginRunsCode(ctx, o)
			return
		}
		if o.Kind == "IngressRoute" {
			traefikIngressRouteRefs(ctx, o)
			return
		}
		var found, refs []string
		var undecided string
		what := "ingress"
		switch o.Obj.(type) {
		case *networkingv1.Ingress:
			found = append(ingressSnippets(o.Annotations()), ingressInjections(o.Annotations())...)
			found = append(found, skipperInjections(o.Annotations())...)
			found = append(found, emissaryInjections(o.Annotations())...)
			var headers []string
			headers, undecided = authHeaderInjections(ctx, o)
			found = append(found, headers...)
			refs = secretRefsOf(o, false)
		case *corev1.Service:
			found, what = serviceSnippets(o.Annotations()), "service"
			found = append(found, emissaryInjections(o.Annotations())...)
			refs = secretRefsOf(o, true)
		default:
			ctx.NotApplicable("", "not a networking.k8s.io Ingress or a Service")
			return
		}
		if !o.NamespaceDefaulted {
			found = append(found, refs...)
		}
		if d, ok := o.Digest.(*ingressDigest); ok {
			// The operator's cache kept the first maxNamed snippets, injections and other
			// namespaces' Secrets (ReduceIngressAnnotations, ReduceServiceAnnotations): the others, which come after
			// them in this list, are counted, as few counts them.
			for range d.snippets {
				found = append(found, "")
			}
		}
		switch {
		case len(found) > 0:
			ctx.Fail("", "%s injects configuration into its controller: %s", what, few(found, ", "))
		case len(refs) > 0:
			// Where the manifest lands (kubectl apply -n) decides whether the namespace is
			// another's: undecided, not passed.
			ns, key, _ := strings.Cut(refs[0], "\x00")
			ctx.NotAssessed("", "names a "+refKind(key)+" of namespace "+ns+" for its controller ("+key+") but sets no namespace: "+
				"whether that is another's depends on where it is applied (scan --namespace)")
		case undecided != "":
			ctx.NotAssessed("", undecided)
		default:
			ctx.Pass("")
		}
	},
}

// serviceRawConfig are the names of the annotations that an ingress controller reads on a
// Service and copies verbatim into the backend section of its configuration, which serves every
// Ingress of its class: HAProxy Ingress's config-backend (jcmoraisjr/haproxy-ingress, "Services
// only accept keys from the Backend scope", docs/configuration/keys: config-backend is one,
// under its --annotations-prefix) and the HAProxy Kubernetes Ingress Controller's
// backend-config-snippet (haproxytech/kubernetes-ingress, documentation/annotations.md:
// "Available on: configmap ingress service", under haproxy.org/, haproxy.com/ or
// ingress.kubernetes.io/ or any other, and bare, haproxyTechBackendSnippet; a Service's takes
// precedence over an Ingress's). Neither controller
// reads another raw-configuration key on a Service (HAProxy Ingress's config-tcp-service is of
// the TCP scope, which Services do not take; the HAProxy Kubernetes Ingress Controller's
// frontend, global and stats snippets are its ConfigMap's alone), nor does ingress-nginx or the
// NGINX Ingress Controller read any snippet on a Service. Until December 2026 no Service
// annotation was read, and a Service with haproxy.org/backend-config-snippet passed. The HAProxy
// Kubernetes Ingress Controller's route-acl (haproxyTechRouteACL) is raw configuration of its
// frontends, read on Services alone: it is read alike.
var serviceRawConfig = []string{"backend-config-snippet", "config-backend", haproxyTechRouteACL}

// haproxyTechRouteACL is the HAProxy Kubernetes Ingress Controller's route-acl, which it reads on
// Services only ("Available on: service", documentation/annotations.md) and writes as it is into
// the condition of a use_backend rule that it puts first (index 0) in both of its shared
// frontends, http and https, ahead of every other Ingress's route (pkg/route/route.go
// AddCustomRoute: fmt.Sprintf("%s { %s } ", routeCond, routeACLAnn), with no check of the
// value). The value is a raw HAProxy condition: a } ends the anonymous ACL it is put in, so
// "always_false } || { always_true" takes every request of every host to the author's backend,
// and without one, an Ingress with no host and path / routes the requests the ACL picks
// (hdr(host) -m str bank.example.com) to it, whatever their host: the author reroutes, and
// reads, other teams' traffic. It is read under any prefix and bare, as backend-config-snippet
// is (pkg/store/convert.go CopyAnnotations). Until December 2026 a Service with one passed.
const haproxyTechRouteACL = "route-acl"

// serviceSnippetKey reports whether key names one of serviceRawConfig under any prefix (HAProxy
// Ingress's is its --annotations-prefix flag, which a namespace's Service does not show; the
// HAProxy Kubernetes Ingress Controller reads any), or is haproxyTechBackendSnippet or
// haproxyTechRouteACL without one, which that controller reads bare too. The cache keeps such keys when it trims a Service's
// annotations (ServiceReadsAnnotation), so it must be the very test the check makes.
func serviceSnippetKey(key string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	return prefixed && prefix != "" && slices.Contains(serviceRawConfig, name) || key == haproxyTechBackendSnippet ||
		key == haproxyTechRouteACL
}

// serviceSnippets returns, sorted, the serviceRawConfig annotations set to something other than
// blanks (which render nothing).
func serviceSnippets(annotations map[string]string) []string {
	var out []string
	for k, v := range annotations {
		if serviceSnippetKey(k) && strings.TrimSpace(v) != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// nginxIncSnippets are the NGINX Ingress Controller's (nginx.org) snippet annotations.
var nginxIncSnippets = []string{"nginx.org/server-snippets", "nginx.org/location-snippets"}

// ingressSnippets returns, sorted, the snippet annotations set to something other than blanks:
// under any prefix, those whose name ends in -snippet or -snippets. ingress-nginx reads its
// annotations under the prefix its --annotations-prefix flag gives (<prefix>/configuration-snippet,
// internal/ingress/annotations/parser), a flag of the controller's Deployment in the controller's
// namespace, which neither a namespace's evaluation nor a scan of a team's files sees; the HAProxy
// Kubernetes Ingress Controller's haproxy.org/backend-config-snippet copies raw configuration into
// its shared configuration too. A name that ends so configures a controller's configuration
// verbatim wherever it is used, so the prefix is not read (Kyverno's disallow-custom-snippets
// fails X(*-snippet), checkov CKV_K8S_153 any key with "snippet"). Keys without a prefix are no
// controller's (ingress-nginx and the others read <prefix>/<name>) but the HAProxy Kubernetes
// Ingress Controller's haproxyTechBackendSnippet, which it reads bare too. Until December 2026 only ingress-nginx's
// default prefix was read, and custom.io/configuration-snippet passed.
func ingressSnippets(annotations map[string]string) []string {
	var out []string
	for k, v := range annotations {
		if strings.TrimSpace(v) == "" {
			continue // renders nothing
		}
		if ingressSnippetKey(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// ingressInjectable are the ingress-nginx annotations whose values versions before 1.11.5 and
// 1.12.1 copied into the nginx configuration without validating them (CVE-2025-24514,
// CVE-2025-1097, CVE-2025-1098).
var ingressInjectable = []string{"auth-url", "auth-tls-match-cn", "mirror-target", "mirror-host"}

// nginxSyntax are the characters that end or open an nginx directive or block, comment out the
// rest of a line, or close a quoted string: none belongs in a URL, a host or a common name.
const nginxSyntax = "\n\r;{}#\"'"

// nginxRedirects are ingress-nginx's permanent-redirect, which versions before 1.9.0 wrote as it
// is, unquoted, as the URL of a return directive of the Ingress's location (rootfs/etc/nginx/template/nginx.tmpl:
// return {{ $location.Redirect.Code }} {{ $location.Redirect.URL }};), CVE-2023-5044
// (kubernetes/ingress-nginx#10572, fixed by the annotation validation of 1.9.0): a ; ends the
// directive, and what follows is configuration of the author's, Lua that reads the controller's
// token among it. Read under any prefix, as ingressInjectable's are, and judged by
// breaksNginxWord: a URL's # is the URL's in nginx, where only a # that starts a word is a
// comment, and redirect targets carry fragments. temporal-redirect fills the same URL
// (internal/ingress/annotations/redirect: Config.URL, TestTemporalRedirect) and is written alike.
// Until December 2026 neither was read.
var nginxRedirects = []string{"permanent-redirect", "temporal-redirect"}

// nginxRedirectKey reports whether key names one of nginxRedirects under any prefix.
func nginxRedirectKey(key string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	return prefixed && prefix != "" && slices.Contains(nginxRedirects, name)
}

// breaksNginxWord reports whether v, written as one bare word of an nginx directive, ends it or
// the directive: a ; or a brace (nginx's lexer ends a word at ; and {), a blank or a line break
// (another word), or a quote (one that opens a quoted word). Blanks around v are not counted.
// None belongs in a URL, which encodes them.
func breaksNginxWord(v string) bool {
	return strings.ContainsAny(strings.TrimSpace(v), ";{} \t\r\n\"'")
}

// injectsNginx reports whether v, the value of an ingressInjectable annotation, carries nginx
// syntax: blanks around it (a YAML block scalar's trailing line break) end no directive and open
// none, so they are not counted.
func injectsNginx(v string) bool {
	return strings.ContainsAny(strings.TrimSpace(v), nginxSyntax)
}

// ingressInjectableKey reports whether key names one of ingressInjectable under any prefix:
// ingress-nginx reads them under the prefix its --annotations-prefix flag gives (custom.io/auth-url),
// which a namespace's Ingress does not show. Other controllers read annotations of the same names
// (HAProxy Ingress's haproxy-ingress.github.io/auth-url, Traefik 1.x's and the retired
// kubernetes/ingress controller's ingress.kubernetes.io/auth-url), each a URL, a host or a common
// name, which injectsNginx passes whatever the prefix. Until December 2026 only
// nginx.ingress.kubernetes.io/ was read, and custom.io/auth-url carrying a directive passed.
func ingressInjectableKey(key string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	return prefixed && prefix != "" && slices.Contains(ingressInjectable, name)
}

// haproxyTechQuoted are the HAProxy Kubernetes Ingress Controller's Ingress annotations whose
// values, one "Name value" a line, it puts between double quotes as they are
// (pkg/annotations/ingress/reqSetHdr.go: HdrFormat: "\"" + param[indexSpace+1:] + "\""), in an
// http-request (http-response) set-header rule of its shared frontends followed, on the same
// line, by the condition that keeps the rule to the Ingress's own hosts and paths
// (pkg/haproxy/api FrontendHTTPRequestRuleCreate: rule.Cond = "if", rule.CondTest = ingressACL).
// A " in a value ends the quoted string, and a # after it makes the rest of the line, that
// condition, a comment (HAProxy's configuration reads # outside quotes as a comment's start):
// the rule then sets its header on every request (response) of every host the controller
// serves. It reads them under any prefix and bare, as backend-config-snippet. Until December
// 2026 they were not read.
var haproxyTechQuoted = []string{"request-set-header", "response-set-header"}

// haproxyTechQuotedKey reports whether key names one of haproxyTechQuoted, under any prefix or
// none.
func haproxyTechQuotedKey(key string) bool {
	return haproxyTechKey(key, haproxyTechQuoted)
}

// endsHAProxyQuote reports whether v, the value of a haproxyTechQuoted annotation, holds a "
// that a backslash does not escape: one that ends the double quotes its value is put in.
func endsHAProxyQuote(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++ // the next byte is the value's
		case '"':
			return true
		}
	}
	return false
}

// haproxyTechUnquoted are the HAProxy Kubernetes Ingress Controller's Ingress annotations whose
// values it writes as they are, unquoted, into an http-request rule of its shared frontends
// followed, on the same line, by the condition that keeps the rule to the Ingress's own hosts
// and paths: set-host as the format of a set-header Host rule
// (pkg/annotations/ingress/reqSetHost.go ReqSetHost.Process: HdrFormat: input) and each line of
// path-rewrite, split into fields, as a replace-path rule's match and format
// (pkg/annotations/ingress/reqPathRewrite.go ReqPathRewrite.Process), request-redirect's host
// in a redirect location rule (hostRedirect.go HostRedirectAnn.Process; pkg/haproxy/rules
// reqRequestRedirect.go hostRedirect: scheme + "://%s%[capture.req.uri]") and src-ip-header in
// a set-src rule (srcIPHdr.go; reqSetSrc.go: Expr: "hdr(%s)"), all through
// FrontendHTTPRequestRuleCreate(..., httpRule, ingressACL). A # outside quotes that no
// backslash escapes starts a comment in HAProxy's configuration, so the condition is dropped:
// the rule rewrites the Host (the path) of every request of every host the controller serves,
// redirects them all to the tenant's site, or takes their source address from a header the
// client sends (which defeats other Ingresses' allow-lists). It reads them under any prefix and
// bare, as haproxyTechQuoted. Until December 2026 they were not read. It writes each line of
// request-capture alike, as the sample of an http-request capture rule
// (pkg/annotations/ingress/reqCapture.go: rules.ReqCapture{Expression: sample}; rules/reqCapture.go:
// CaptureSample: r.Expression, then FrontendHTTPRequestRuleCreate(..., ingressACL)): a sample with a
// len of its own and a # ("req.hdr(authorization) len 512 #") captures that header of every request
// of every host into the controller's logs; until December 2026 it was not read. And auth-realm,
// its blanks made - (basicAuth.go), as the realm of an http-request auth rule
// (rules/reqBasicAuth.go; config-parser's Auth.String writes "auth realm <realm> if <condition>"):
// with a # every request of every host is answered 401 with the author's realm, an outage of
// every team and a prompt for their users' passwords; until December 2026 it was not read.
var haproxyTechUnquoted = []string{"set-host", "path-rewrite", "request-redirect", "src-ip-header", "request-capture", "auth-realm"}

// haproxyTechCORSHeaders is the HAProxy Kubernetes Ingress Controller's cors-allow-headers, which
// it writes, its blanks taken out, between double quotes, adding a quote only where the value
// does not already start (end) with one (pkg/annotations/ingress/resSetCORS.go:
// common.EnsureQuoted(strings.Join(strings.Fields(input), ""))), as the value of an
// http-after-response set-header rule of its shared frontends followed, on the same line, by the
// condition that keeps the rule to the Ingress's hosts and paths: a " inside it ends the quotes
// and a # after it makes that condition a comment, as haproxyTechQuoted's do. It is read under any
// prefix and bare. Until December 2026 it was not read.
const haproxyTechCORSHeaders = "cors-allow-headers"

// haproxyTechCORSOrigin is the HAProxy Kubernetes Ingress Controller's cors-allow-origin, which,
// unless it is *, it writes as it is into an anonymous ACL (resSetCORS.go: fmt.Sprintf("{
// var(txn.%s) -m reg %s }", corsVarName, input)), the condition of every CORS set-header rule
// of the Ingress, put after the condition that keeps them to its hosts and paths
// (FrontendHTTPAfterResponseRuleCreate: rule.CondTest = ingressACL + " " + rule.CondTest). A } of
// the value's ends that ACL, and what follows is the author's condition, ORed with the Ingress's
// ("x } || { always_true"): the CORS headers, Access-Control-Allow-Credentials among them, are
// set on every response of every host the controller serves. It is read under any prefix and
// bare. Until December 2026 it was not read.
const haproxyTechCORSOrigin = "cors-allow-origin"

// endsCORSQuote reports whether v, the value of haproxyTechCORSHeaders, holds a " that ends the
// double quotes the controller puts it in: one past the quote the value may start with and
// before the one it may end with, that no backslash escapes.
func endsCORSQuote(v string) bool {
	s := strings.Join(strings.Fields(v), "")
	return endsHAProxyQuote(strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`))
}

// closesHAProxyACL reports whether v, the value of haproxyTechCORSOrigin, holds a } that ends the
// anonymous ACL it is put in: a word that is } once HAProxy's configuration parser has taken its
// quotes and backslashes out (HAProxy's configuration manual, "Quoting and escaping"), before a #
// that starts a comment on its line. HAProxy's condition parser looks for the word "}" among
// words already unquoted (src/acl.c parse_acl_cond: strcmp(args[arg_end], "}")), so neither
// quotes nor a backslash keep a } a pattern's; braces inside a word are (a quantifier,
// [a-z]{3}). Until December 2026 a quoted or escaped } was taken for a pattern's, and passed.
func closesHAProxyACL(v string) bool {
	var word []byte
	started := false // a word is under way (a quote pair alone makes an empty one)
	dquote, squote := false, false
	end := func() bool {
		closes := started && string(word) == "}"
		word, started = word[:0], false
		return closes
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && !squote && i+1 < len(v):
			i++
			word, started = append(word, v[i]), true
		case c == '"' && !squote:
			dquote, started = !dquote, true
		case c == '\'' && !dquote:
			squote, started = !squote, true
		case dquote || squote:
			word = append(word, c)
		case c == '#':
			if end() {
				return true
			}
			for i < len(v) && v[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if end() {
				return true
			}
		default:
			word, started = append(word, c), true
		}
	}
	return end()
}

// haproxyTechKey reports whether key names one of names, under any prefix or none.
func haproxyTechKey(key string, names []string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	if !prefixed {
		name = key
	} else if prefix == "" {
		return false
	}
	return slices.Contains(names, name)
}

// commentsHAProxyCondition reports whether a line of v, the value of a haproxyTechUnquoted
// annotation, holds a # that starts a comment in HAProxy's configuration: one outside double
// and single quotes that no backslash escapes (HAProxy's configuration manual, "Quoting and
// escaping"). Each line starts outside quotes: path-rewrite makes a rule of each.
func commentsHAProxyCondition(v string) bool {
	for line := range strings.SplitSeq(v, "\n") {
		var dquote, squote bool
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '\\' && !squote:
				i++ // the next byte is the value's
			case c == '"' && !squote:
				dquote = !dquote
			case c == '\'' && !dquote:
				squote = !squote
			case c == '#' && !dquote && !squote:
				return true
			}
		}
	}
	return false
}

// injectionKey reports whether the check judges key's value for injected configuration:
// ingressInjectableKey's, judged by injectsNginx, haproxyTechQuoted's, by endsHAProxyQuote,
// nginxRedirects', by breaksNginxWord, haproxyTechUnquoted's, by commentsHAProxyCondition, haproxyTechCORSHeaders', by endsCORSQuote,
// and haproxyTechCORSOrigin's, by closesHAProxyACL (the last two under any prefix or none). The cache keeps such keys when it
// trims an Ingress's annotations (IngressReadsAnnotation), and of them only those injects
// reports, with injectionStandIn.
func injectionKey(key string) bool {
	return ingressInjectableKey(key) || nginxRedirectKey(key) || haproxyTechQuotedKey(key) || haproxyTechKey(key, haproxyTechUnquoted) ||
		haproxyTechKey(key, []string{haproxyTechCORSHeaders, haproxyTechCORSOrigin})
}

// injects reports whether the value v of the injectionKey key injects configuration.
func injects(key, v string) bool {
	switch {
	case haproxyTechQuotedKey(key):
		return endsHAProxyQuote(v)
	case haproxyTechKey(key, haproxyTechUnquoted):
		return commentsHAProxyCondition(v)
	case haproxyTechKey(key, []string{haproxyTechCORSHeaders}):
		return endsCORSQuote(v)
	case haproxyTechKey(key, []string{haproxyTechCORSOrigin}):
		return closesHAProxyACL(v)
	case nginxRedirectKey(key):
		return breaksNginxWord(v)
	}
	return ingressInjectableKey(key) && injectsNginx(v)
}

// injectionStandIn is a short value injects reports for key as it reports the value it
// stands for.
func injectionStandIn(key string) string {
	switch {
	case haproxyTechQuotedKey(key):
		return `"`
	case haproxyTechKey(key, haproxyTechUnquoted):
		return "#"
	case haproxyTechKey(key, []string{haproxyTechCORSHeaders}):
		return `-"-` // a quote the controller adds none for
	case haproxyTechKey(key, []string{haproxyTechCORSOrigin}):
		return "}"
	}
	return ";"
}

// ingressInjections returns, sorted, the injectionKey annotations whose values inject
// configuration (injects), each with why.
func ingressInjections(annotations map[string]string) []string {
	var keys []string
	for k, v := range annotations {
		if injectionKey(k) && injects(k, v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		switch {
		case haproxyTechQuotedKey(k), haproxyTechKey(k, []string{haproxyTechCORSHeaders}):
			out[i] = k + " ends its quoted HAProxy value"
		case haproxyTechKey(k, []string{haproxyTechCORSOrigin}):
			out[i] = k + " closes its HAProxy ACL"
		case haproxyTechKey(k, haproxyTechUnquoted):
			out[i] = k + " comments out its HAProxy rule's condition"
		default:
			out[i] = k + " carries nginx configuration syntax"
		}
	}
	return out
}

// haproxyIngressRawConfig are the keys of HAProxy Ingress (jcmoraisjr/haproxy-ingress) that an
// Ingress may set and that it copies verbatim into its configuration, under its
// --annotations-prefix (haproxy-ingress.github.io by default, ingress.kubernetes.io before
// v0.12): config-backend (Backend scope, the backend section) and config-tcp-service (TCP scope,
// the TCP service's section). Its release notes of July 2025 (v0.13.18, v0.14.9) say a user who
// may update an Ingress could take the controller's privileges through them unless it runs with
// --disable-config-keywords=*. Its other config-* keys (config-global, config-defaults,
// config-frontend, config-proxy, config-sections, config-tcp, config-peers) are of the Global
// scope, which it reads from its global ConfigMap only and ignores on an Ingress.
var haproxyIngressRawConfig = []string{"config-backend", "config-tcp-service"}

// haproxyTechBackendSnippet is the HAProxy Kubernetes Ingress Controller's (haproxytech/kubernetes-ingress)
// raw backend configuration, which it reads on Ingresses, Services and its ConfigMap. Its store
// takes an annotation's name past the first / whatever the prefix, and a name without one as it
// is (pkg/store convert.go CopyAnnotations), so it reads the bare key too, which is then no
// other controller's prefix-less key: until December 2026 an Ingress with a bare
// backend-config-snippet passed.
const haproxyTechBackendSnippet = "backend-config-snippet"

// ingressSnippetKey reports whether key names a snippet annotation, whatever its value: a
// prefixed key whose name ends in -snippet or -snippets (any controller's, under any
// --annotations-prefix) or is one of haproxyIngressRawConfig (under any prefix too: the prefix is
// the controller's flag), one of nginxIncSnippets, or haproxyTechBackendSnippet without a
// prefix. The cache keeps such keys when it trims an
// Ingress's annotations (IngressReadsAnnotation), so it must be the very test the check makes.
func ingressSnippetKey(key string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	return prefixed && prefix != "" && (strings.HasSuffix(name, "-snippet") || strings.HasSuffix(name, "-snippets") ||
		slices.Contains(haproxyIngressRawConfig, name)) ||
		slices.Contains(nginxIncSnippets, key) || key == haproxyTechBackendSnippet
}

// Skipper's Ingress annotations whose values are eskip, its route language: filters (the
// ratelimit one is read as filters too, joined before skipper-filter's) and whole routes.
const (
	skipperFilter    = "zalando.org/skipper-filter"
	skipperRatelimit = "zalando.org/ratelimit"
	skipperRoutes    = "zalando.org/skipper-routes"
)

// skipperRawFilters are the Skipper filters that hand the proxy's own powers to whoever writes
// the route: lua() with a script of its own (not a file's name, ending in .lua) runs the
// author's Lua code with its io and os libraries, inline by default before v0.23 (zalando/skipper#3830: "read arbitrary files as skipper process"); static()
// serves a directory of the proxy's file system; bearerinjector() adds a token of the proxy's
// secrets to the request. Zalando's own clusters disable the three
// (kubernetes-on-aws skipper_disabled_filters "lua,static,bearerinjector").
var skipperRawFilters = []string{"lua", "static", "bearerinjector"}

// skipperInjections returns the Skipper annotations that hand the author the proxy's powers,
// each with why: a call of one of skipperRawFilters, and, in skipper-routes (dataclients/kubernetes
// ingress.go addExtraRoutes keeps a custom route's backend), a backend of an address of the
// author's own: a network backend ("http://..."), an LB backend (<roundRobin, "http://...">) or
// <dynamic>, which takes it from a filter, one that may read it from the request. Such a route
// reaches whatever Skipper reaches, past the NetworkPolicies of the Pods it reaches (Skipper
// disabled ExternalName Services by default in v0.24 for that reach, GHSA-mxxc-p822-2hx9,
// CVE-2026-24470, and its maintainers gave skipper-routes as the way around them,
// zalando/skipper#549). <shunt>, <loopback> and <forward> stay in Skipper or go to the Ingress's
// own backend. Until December 2026 no Skipper annotation was read.
func skipperInjections(annotations map[string]string) []string {
	var out []string
	for _, k := range []string{skipperRatelimit, skipperFilter, skipperRoutes} {
		v, ok := annotations[k]
		if !ok {
			continue
		}
		calls, addressed := eskipRisks(v)
		if len(calls) > 0 {
			out = append(out, k+" calls "+strings.Join(calls, "(), ")+"()")
		}
		if addressed && k == skipperRoutes {
			out = append(out, k+" routes to an address of its own")
		}
	}
	return out
}

// skipperStandIn is what the operator's cache keeps of the value v of Skipper annotation k: a
// short one that skipperInjections reads to the same findings, or "" when it finds none.
func skipperStandIn(k, v string) string {
	calls, addressed := eskipRisks(v)
	addressed = addressed && k == skipperRoutes
	if len(calls) == 0 && !addressed {
		return ""
	}
	filters := strings.Join(calls, `("-") -> `) + `("-")`
	if k != skipperRoutes {
		return filters
	}
	route := "r: *"
	if len(calls) > 0 {
		route += " -> " + filters
	}
	if addressed {
		return route + ` -> "http://-";`
	}
	return route + " -> <shunt>;"
}

// eskipRisks reads code as Skipper's eskip lexer does (eskip/lexer.go: strings in " or `,
// regular expressions in /, comments from // to the line's end) and returns which of
// skipperRawFilters it calls, in that order, and whether a backend names an address: a string
// right after ->, which only a network backend is, an LB backend's <, or <dynamic>. Text that
// eskip does not parse makes Skipper drop the annotation; it is read on as far as it goes.
func eskipRisks(code string) (calls []string, addressed bool) {
	called := map[string]bool{}
	arrow := false // the token before is ->
	symbol := ""   // the token before is this symbol
	lua := false   // the tokens before are lua (
	for i := 0; i < len(code); {
		c := code[i]
		wasArrow, wasSymbol, wasLua := arrow, symbol, lua
		arrow, symbol, lua = false, "", false
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			arrow, symbol, lua = wasArrow, wasSymbol, wasLua // blanks separate tokens only
			i++
		case strings.HasPrefix(code[i:], "//"):
			arrow, symbol, lua = wasArrow, wasSymbol, wasLua
			for i < len(code) && code[i] != '\n' {
				i++
			}
		case c == '"' || c == '`':
			if wasArrow {
				addressed = true
			}
			end := skipEskipLiteral(code, i+1, c)
			if wasLua && end > i+1 && !strings.HasSuffix(code[i+1:end-1], ".lua") {
				// A script of the author's: a first argument that ends in .lua names a file
				// of the proxy's, which only its operators put there (script.go initScript).
				called["lua"] = true
			}
			i = end
		case c == '/':
			i = skipEskipLiteral(code, i+1, '/')
		case strings.HasPrefix(code[i:], "->"):
			arrow = true
			i += 2
		case c == '<':
			switch {
			case strings.HasPrefix(code[i:], "<shunt>"), strings.HasPrefix(code[i:], "<loopback>"),
				strings.HasPrefix(code[i:], "<forward>"):
			default: // <dynamic>, or an LB backend's endpoints
				addressed = true
			}
			i++
		case c == '(':
			if wasSymbol == "lua" {
				lua = true // judged by its first argument
			} else if slices.Contains(skipperRawFilters, wasSymbol) {
				called[wasSymbol] = true
			}
			i++
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			j := i + 1
			for j < len(code) && (code[j] == '_' || 'a' <= code[j] && code[j] <= 'z' || 'A' <= code[j] && code[j] <= 'Z' || '0' <= code[j] && code[j] <= '9') {
				j++
			}
			symbol = code[i:j]
			i = j
		default:
			i++
		}
	}
	for _, f := range skipperRawFilters {
		if called[f] {
			calls = append(calls, f)
		}
	}
	return calls, addressed
}

// skipEskipLiteral returns the index past the literal of code that starts at i and ends with
// delimiter (a backslash escapes the next byte; a regular expression's / inside [...] does not end
// it), or len(code).
func skipEskipLiteral(code string, i int, delimiter byte) int {
	group := false
	for ; i < len(code); i++ {
		switch c := code[i]; {
		case c == '\\':
			i++
		case delimiter == '/' && c == '[':
			group = true
		case delimiter == '/' && c == ']':
			group = false
		case c == delimiter && !group:
			return i + 1
		}
	}
	return len(code)
}

// emissaryConfig is the annotation Emissary-ingress (formerly Ambassador) reads on every Service
// and Ingress it sees as its own configuration resources, one YAML document each
// (emissary-ingress/emissary cmd/entrypoint/annotations.go: parseAnnotations takes the
// snapshot's Services and Ingresses, GetAnnotations parses r.GetAnnotations()["getambassador.io/config"]
// with kates.ParseManifestsToUnstructured and convertAnnotation makes each document a resource of
// the parent's namespace). Its documentation gives the annotation as the way to configure it
// "without needing cluster permissions" for its CRDs: whoever may write a Service may declare
// any of its resources, with no RBAC on getambassador.io.
const emissaryConfig = "getambassador.io/config"

// emissaryGlobalKinds are the Emissary resources that configure the proxy as a whole, for every
// host and Mapping of every namespace, rather than a route of the author's: the ambassador
// Module ("defines system-wide configuration for Emissary-ingress", topics/running/ambassador),
// an AuthService ("All requests are validated by the AuthService (unless the Mapping applied to
// the request sets bypass_auth)"; several are load-balanced round-robin,
// topics/running/services/auth-service), which then sees every request of every team, headers
// and optionally body, and decides whether it passes, and a LogService, to which Emissary reports
// its access logs, with the headers it names (additional_log_headers), for every request
// (topics/running/services/log-service). A Mapping, Emissary's route, is the annotation's
// ordinary use and passes. Until December 2026 the annotation was not read.
var emissaryGlobalKinds = []string{"AuthService", "LogService", "Module"}

// emissaryKinds returns, in emissaryGlobalKinds' order, which of them the Emissary annotation
// value v declares: it reads v as Emissary does (kates.parseManifests: utilyaml.NewYAMLReader's
// documents, each's kind read as TypeMeta by sigs.k8s.io/yaml). Emissary drops the whole
// annotation when a document does not parse; such a value is read by its kind: lines instead, so
// that no difference between the two readers passes a global kind.
func emissaryKinds(v string) []string {
	declared := map[string]bool{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(v)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		var tm metav1.TypeMeta
		if err == nil {
			err = yaml.Unmarshal(doc, &tm)
		}
		if err != nil {
			for line := range strings.SplitSeq(v, "\n") {
				k, ok := strings.CutPrefix(strings.TrimSpace(line), "kind:")
				if ok {
					declared[strings.Trim(strings.TrimSpace(k), `"'`)] = true
				}
			}
			break
		}
		declared[tm.Kind] = true
	}
	var out []string
	for _, k := range emissaryGlobalKinds {
		if declared[k] {
			out = append(out, k)
		}
	}
	return out
}

// emissaryInjections returns the Emissary annotation, with the global kinds it declares, when it
// declares any (emissaryKinds).
func emissaryInjections(annotations map[string]string) []string {
	v, ok := annotations[emissaryConfig]
	if !ok {
		return nil
	}
	if kinds := emissaryKinds(v); len(kinds) > 0 {
		return []string{emissaryConfig + " configures Emissary for every host (" + strings.Join(kinds, ", ") + ")"}
	}
	return nil
}

// emissaryStandIn is what the operator's cache keeps of the Emissary annotation value v: one
// document a global kind it declares, which emissaryKinds reads alike, or "" when it declares
// none.
func emissaryStandIn(v string) string {
	var docs []string
	for _, k := range emissaryKinds(v) {
		docs = append(docs, "kind: "+k+"\n")
	}
	return strings.Join(docs, "---\n")
}

// secretRefs are the annotations in which an ingress controller reads a Secret named
// namespace/name, from whichever namespace it names, and uses it on the Ingress's (Service's)
// behalf: ingress-nginx's auth-secret (basic-auth users, cache.SplitMetaNamespaceKey),
// auth-tls-secret (the CA that verifies clients' certificates) and proxy-ssl-secret (the client
// certificate and key it presents to the backend), internal/ingress/annotations/{auth,authtls,
// proxyssl}/main.go, which refuse another namespace's since 1.9 unless the controller's ConfigMap
// sets allow-cross-namespace-resources (a setting the Ingress does not show, one edit away, as
// allow-snippet-annotations is); and the HAProxy Kubernetes Ingress Controller's auth-secret
// (pkg/annotations/ingress/basicAuth.go), server-crt and server-ca (pkg/annotations/service/
// crt.go, ca.go, read on Services too), all through common.GetK8sPath with no namespace check.
// The controller reads every namespace's Secrets, so an Ingress that names another namespace's
// has it present another team's client key to a backend of the tenant's choosing, trust another
// team's CA, or check passwords against another team's users: a confused deputy (CC6.1, CC6.3).
// Read under any prefix (ingress-nginx's --annotations-prefix; HAProxy Ingress reads
// auth-secret and auth-tls-secret under its own, alike), and the HAProxy Kubernetes Ingress
// Controller's bare too (haproxyTechKey). Until December 2026 none was read. HAProxy Ingress's
// haproxyIngressSecretRefs and ingress-nginx's nginxConfigMapRefs are read alike.
var secretRefs = []string{"auth-secret", "auth-tls-secret", "proxy-ssl-secret", haproxyTechServerCrt, haproxyTechServerCA}

// haproxyIngressSecretRefs are HAProxy Ingress's (jcmoraisjr/haproxy-ingress) secure-crt-secret,
// the client certificate and key it presents to an HTTPS backend, and secure-verify-ca-secret,
// the CA it verifies the backend with: Backend-scope keys, which it reads under its
// --annotations-prefix on Ingresses and Services ("Services only accept keys from the Backend
// scope", docs/configuration/keys), as namespace/name (pkg/converters/ingress/annotations/
// backend.go buildBackendProtocol: c.cache.GetTLSSecretPath and GetCASecretPath of the value), and
// of another namespace when it runs with --allow-cross-namespace (pkg/controller/cache.go
// buildSecretName), a flag of its administrators' that neither object shows. Not read bare: HAProxy
// Ingress reads no key without its prefix. Until December 2026 neither was read.
var haproxyIngressSecretRefs = []string{"secure-crt-secret", "secure-verify-ca-secret"}

// nginxConfigMapRefs are ingress-nginx's annotations that name a ConfigMap, namespace/name, whose
// data it uses on the Ingress's behalf: auth-proxy-set-headers, the headers it sends to the
// auth-url service (internal/ingress/annotations/authreq/main.go: GetConfigMap of the value,
// another namespace's refused only while allow-cross-namespace-resources is off), and
// custom-headers, the headers it adds to the Ingress's responses (customheaders/main.go:
// GetConfigMap of the value, with no namespace check in k8s.io/ingress-nginx
// v0.0.0-20240708192948-52c50467d67d, though its documentation says only the Ingress's
// namespace's are allowed). Its informer lists every namespace's ConfigMaps (controller/store
// store.go), so the tenant has another team's ConfigMap values sent, as headers, to an auth
// service of the tenant's (auth-url) or to the clients of the tenant's host: a read the tenant's
// RBAC does not give. fastcgi-params-configmap is not one: ingress-nginx reads it from the
// Ingress's namespace whatever the value names (fastcgi/main.go: ing.Namespace + "/" + name).
// Read under any prefix (--annotations-prefix). Until December 2026 neither was read.
var nginxConfigMapRefs = []string{"auth-proxy-set-headers", "custom-headers"}

// haproxyTechSecretRefs are those of secretRefs the HAProxy Kubernetes Ingress Controller reads,
// under any prefix or none; serviceSecretRefs those it reads on a Service (backend annotations).
var (
	haproxyTechSecretRefs = []string{"auth-secret", haproxyTechServerCrt, haproxyTechServerCA}
	serviceSecretRefs     = []string{haproxyTechServerCrt, haproxyTechServerCA}
)

const (
	haproxyTechServerCrt = "server-crt"
	haproxyTechServerCA  = "server-ca"
)

// prefixedKey reports whether key is one of names under a prefix (any).
func prefixedKey(key string, names []string) bool {
	prefix, name, prefixed := strings.Cut(key, "/")
	return prefixed && prefix != "" && slices.Contains(names, name)
}

// secretRefKey reports whether key names one of secretRefs, haproxyIngressSecretRefs or
// nginxConfigMapRefs on an Ingress (serviceSecretRefs or haproxyIngressSecretRefs on a Service
// when service is set): under any prefix, or bare for haproxyTechSecretRefs (serviceSecretRefs).
// The cache keeps such keys (IngressReadsAnnotation, ServiceReadsAnnotation), so it is the very
// test the check makes.
func secretRefKey(key string, service bool) bool {
	if service {
		return haproxyTechKey(key, serviceSecretRefs) || prefixedKey(key, haproxyIngressSecretRefs) || traefikRefKey(key, service)
	}
	return prefixedKey(key, secretRefs) || prefixedKey(key, haproxyIngressSecretRefs) || prefixedKey(key, nginxConfigMapRefs) ||
		haproxyTechKey(key, haproxyTechSecretRefs) || traefikRefKey(key, service)
}

// refKind is the kind of object the secretRefKey key names: a ConfigMap for nginxConfigMapRefs,
// a Middleware or ServersTransport for traefikRefKey's, a Secret for the others.
func refKind(key string) string {
	switch {
	case prefixedKey(key, nginxConfigMapRefs):
		return "ConfigMap"
	case strings.EqualFold(key, traefikServersTransport):
		return "ServersTransport"
	case traefikRefKey(key, true) || traefikRefKey(key, false):
		return "Middleware"
	}
	return "Secret"
}

// The Traefik Kubernetes Ingress provider's annotations that name objects of its Kubernetes CRD
// provider, <id>@kubernetescrd: an Ingress's router.middlewares, the Middlewares (basicAuth,
// forwardAuth, headers, ...) its routers run, and a Service's service.middlewares and
// service.serversTransport, the Middlewares and the ServersTransport (the client certificate and
// key Traefik presents to the backend, the CAs it trusts) of the service it makes of the Service
// (github.com/traefik/traefik/v3 v3.7.13 pkg/provider/kubernetes/ingress: parseRouterConfig of
// the Ingress's annotations and parseServiceConfig of the Service's, annotations.go, whose names
// label.Decode matches whatever their case). The provider applies them as they are, from any
// namespace: the only guard, CrossProviderNamespaces (kubernetes.go loadConfigurationFromIngresses
// and loadService), is nil, no guard, unless its administrators set it, whatever the CRD
// provider's allowCrossNamespace says (which guards IngressRoutes alone, crd resolveReference).
// Traefik reads every namespace's Middlewares and ServersTransports (and the Secrets they name),
// so a tenant puts another team's basicAuth Middleware in front of a backend of the tenant's and
// reads that team's users' passwords, or has Traefik present another team's client certificate
// to an endpoint of the tenant's: a confused deputy, as with ingress-nginx's Secrets. Until
// December 2026 none was read.
const (
	traefikAnnotationPrefix  = "traefik.ingress.kubernetes.io/"
	traefikRouterMiddlewares = traefikAnnotationPrefix + "router.middlewares"
	traefikServiceMiddleware = traefikAnnotationPrefix + "service.middlewares"
	traefikServersTransport  = traefikAnnotationPrefix + "service.serverstransport"
	traefikCRDProvider       = "@kubernetescrd"
)

// traefikSharedNamespaces are the namespaces whose Middlewares and ServersTransports an Ingress
// or Service of any namespace may name: the system namespaces (selection.SystemNamespaces, which
// profiles leave out of scope) and traefik, the namespace Traefik's Helm chart is installed to,
// where its administrators keep the shared Middlewares (redirect-https, ...) every team names.
// Their objects are the cluster administrators', offered to every namespace.
var traefikSharedNamespaces = map[string]bool{"traefik": true}

// traefikRefKey reports whether key is one of the Traefik Ingress provider's annotations that
// name a CRD provider object: router.middlewares on an Ingress, service.middlewares and
// service.serversTransport on a Service (when service is set). The prefix is Traefik's own, and
// it decodes the rest whatever its case.
func traefikRefKey(key string, service bool) bool {
	if service {
		return strings.EqualFold(key, traefikServiceMiddleware) || strings.EqualFold(key, traefikServersTransport)
	}
	return strings.EqualFold(key, traefikRouterMiddlewares)
}

// traefikForeignNamespace returns a namespace other than namespace (and than
// traefikSharedNamespaces) that v, a traefikRefKey annotation's value, names a CRD provider
// object of, or "". Each comma-separated item (label.Decode splits lists so), blanks around it
// taken out, that ends in @kubernetescrd names the object whose ID is what comes before: with
// the CRD provider's safeNaming, <namespace>_<name> (no namespace holds a _, so the namespace is
// what comes before the first one); without it (the default), <namespace>-<name>, the provider's
// IDs (crd name_builder.go makeID: provider.Normalize of namespace-name), which Traefik looks up
// as they are, so an item names an object of whichever namespace its ID begins with, followed by
// a -. An item that begins with namespace- (or a shared namespace's name and -) passes; any
// other names another namespace, reported as the ID up to its first - (the shortest namespace it
// may name). Other providers' items (@file, @kubernetes, ...) are their administrators' and not
// read. An item of namespace- may still name a namespace whose name begins so
// (namespace-team-auth: Middleware team-auth of namespace, or auth of namespace-team), which an
// annotation does not tell apart.
func traefikForeignNamespace(namespace, v string) string {
	for item := range strings.SplitSeq(v, ",") {
		id, ok := strings.CutSuffix(strings.TrimSpace(item), traefikCRDProvider)
		if !ok || id == "" {
			continue
		}
		if ns, _, safe := strings.Cut(id, "_"); safe {
			if ns != namespace && !traefikSharedNamespace(ns) && len(validation.IsDNS1123Label(ns)) == 0 {
				return ns
			}
			continue
		}
		first, _, ok := strings.Cut(id, "-")
		if !ok || namespace != "" && strings.HasPrefix(id, namespace+"-") || traefikSharedPrefix(id) {
			continue
		}
		return first
	}
	return ""
}

// traefikSharedNamespace reports whether ns is one of traefikSharedNamespaces or a system
// namespace.
func traefikSharedNamespace(ns string) bool {
	return traefikSharedNamespaces[ns] || selection.SystemNamespaces[ns]
}

// traefikSharedPrefix reports whether id, a legacy CRD provider ID, begins with a shared
// namespace's name and a -.
func traefikSharedPrefix(id string) bool {
	for ns := range traefikSharedNamespaces {
		if strings.HasPrefix(id, ns+"-") {
			return true
		}
	}
	for ns := range selection.SystemNamespaces {
		if strings.HasPrefix(id, ns+"-") {
			return true
		}
	}
	return false
}

// foreignRefNamespace is foreignSecretNamespace of v, or traefikForeignNamespace for a Traefik
// key (traefikRefKey).
func foreignRefNamespace(namespace, key, v string) string {
	if traefikRefKey(key, true) || traefikRefKey(key, false) {
		return traefikForeignNamespace(namespace, v)
	}
	return foreignSecretNamespace(namespace, v)
}

// refStandIn is what the cache keeps of a secretRefKey annotation that names namespace ns's
// object: a value foreignRefNamespace reads as ns.
func refStandIn(key, ns string) string {
	if traefikRefKey(key, true) || traefikRefKey(key, false) {
		return ns + "_-" + traefikCRDProvider
	}
	return ns + "/-"
}

// foreignSecretNamespace returns the first namespace other than namespace that v, the value of
// a secretRefKey annotation, names a Secret in, or "". Each comma-separated item, blanks around
// it taken out (the ingress-nginx releases that take several CAs in auth-tls-secret split them
// so), is namespace/name; a name alone is the object's own namespace's, and an item whose
// namespace is no DNS label (no namespace can be so named) or with more than one / names no
// Secret any controller reads.
func foreignSecretNamespace(namespace, v string) string {
	for item := range strings.SplitSeq(v, ",") {
		ns, name, ok := strings.Cut(strings.TrimSpace(item), "/")
		if !ok || name == "" || strings.Contains(name, "/") || ns == namespace || len(validation.IsDNS1123Label(ns)) > 0 {
			continue
		}
		return ns
	}
	return ""
}

// foreignSecretRefs returns, sorted by key, the secretRefKey annotations of an object of
// namespace (a Service's when service is set) that name another namespace's Secret, each with
// the namespace. A manifest that sets no namespace (scan's NamespaceDefaulted) is not judged
// so (secretRefsOf): it is applied to a namespace its file does not show, and ingress-nginx's
// auth-tls-secret names one in full (namespace/name), so none is known to be another's; the
// operator always knows.
func foreignSecretRefs(namespace string, annotations map[string]string, service bool) []string {
	var keys []string
	for k, v := range annotations {
		if secretRefKey(k, service) && foreignRefNamespace(namespace, k, v) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + " names a " + refKind(k) + " of namespace " + foreignRefNamespace(namespace, k, annotations[k])
	}
	return keys
}

// secretRefsOf is foreignSecretRefs of o; of a manifest that sets no namespace (scan's
// NamespaceDefaulted, a guess), each secretRefKey annotation that names any namespace, as the
// namespace, a NUL and the key (the first in key order), for the check to say NotAssessed.
func secretRefsOf(o *engine.Object, service bool) []string {
	if !o.NamespaceDefaulted {
		return foreignSecretRefs(o.Namespace, o.Annotations(), service)
	}
	var keys []string
	for k, v := range o.Annotations() {
		if secretRefKey(k, service) && foreignRefNamespace("", k, v) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = foreignRefNamespace("", k, o.Annotations()[k]) + "\x00" + k
	}
	return keys
}

// reduceSecretRefs keeps, of the secretRefKey annotations of an object of namespace, the first
// (in foreignSecretRefs' order) of those that name another namespace's Secret while named is
// below maxNamed, each as a stand-in naming the same namespace, drops those that name none (no
// check reads them) and the others, and returns named and omitted, counted on.
func reduceSecretRefs(a map[string]string, namespace string, service bool, named, omitted int) (int, int) {
	var keys []string
	for k, v := range a {
		if !secretRefKey(k, service) || !service && ownAuthHeaderRef(namespace, k, v) {
			continue // not one, or one reduceAuthHeaderRefs keeps
		}
		if foreignRefNamespace(namespace, k, v) == "" {
			delete(a, k)
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if named < maxNamed {
			a[k] = refStandIn(k, foreignRefNamespace(namespace, k, a[k]))
			named++
			continue
		}
		delete(a, k)
		omitted++
	}
	return named, omitted
}

// kongServerless are the Kong plugins that run Lua code of their configuration's: pre-function
// and post-function, "Kong Functions", in every phase the configuration names (access,
// header_filter, log, certificate, ...). Kong's own documentation (developer.konghq.com/plugins/
// pre-function, post-function) warns that they "allow anyone who can enable the plugin to execute
// arbitrary code", and its default sandbox (untrusted_lua=strict, or sandbox before Kong 3.x,
// developer.konghq.com/gateway/sandboxing) denies file and network I/O but leaves the code the
// PDK (kong.*) and ngx.*: it reads and rewrites every request and response of the routes it is
// attached to, and runs in the shared proxy's workers. The Kong Ingress Controller takes a
// KongPlugin (configuration.konghq.com/v1, namespaced) from any namespace and applies it where an
// Ingress or Service of that namespace names it in konghq.com/plugins: whoever may write a
// KongPlugin may write that annotation. Kong Gateway Enterprise's exit-transformer runs the Lua
// functions of its configuration (config.functions) alike, in the same sandbox
// (developer.konghq.com/plugins/exit-transformer; Kong's sandboxing page for AI Gateway lists the
// three as those whoever may create or edit can run code with). Until December 2026 no
// KongPlugin was read.
//
// What a konghq.com/plugins annotation attaches is not judged, only the KongPlugins themselves.
// The Kong Ingress Controller resolves each name it lists in the annotated object's namespace,
// a KongPlugin of that name first, else a KongClusterPlugin (kongstate.go buildPlugins:
// getKongPluginOrKongClusterPlugin(s, namespace, name)). A KongClusterPlugin is cluster-scoped,
// written by those who may write cluster-scoped objects: a tenant who attaches one runs its
// administrators' code on the tenant's own routes, services and consumers only, as they
// published it to be (a KongPlugin of the same name in the tenant's namespace takes its place
// there, and only there). From KIC 3.2 a name may be namespace:name, another namespace's
// KongPlugin, which KIC attaches only where a ReferenceGrant in that namespace allows the
// annotated kind from the tenant's ("no grant found to referenced \"n1:p1\" plugin in the
// requested remote KongPlugin bind" otherwise; developer docs, kubernetes-ingress-controller/
// plugins/cross-namespace): the grant is written by the owner of the plugin's namespace, not
// by the tenant, and the plugin's code is that owner's, which this check judges where it is.
var kongServerless = []string{"pre-function", "post-function", "exit-transformer"}

// kongPluginRunsCode judges a KongPlugin: one of kongServerless that is not disabled fails,
// whatever its code (attached or not: its author may attach it), a configuration.konghq.com
// KongPlugin of another plugin passes, and a kind of that name of another group is not Kong's.
func kongPluginRunsCode(ctx *engine.Context, o *engine.Object) {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok || !strings.HasPrefix(o.APIVersion, "configuration.konghq.com/") {
		ctx.NotApplicable("", "not a configuration.konghq.com KongPlugin")
		return
	}
	plugin, _, err := unstructured.NestedString(u.Object, "plugin")
	if err != nil {
		ctx.NotAssessed("", "plugin is not a string")
		return
	}
	if !slices.Contains(kongServerless, plugin) {
		ctx.Pass("")
		return
	}
	disabled, found, err := unstructured.NestedBool(u.Object, "disabled")
	switch {
	case err != nil:
		ctx.NotAssessed("", "disabled is not a boolean")
	case found && disabled:
		ctx.Pass("")
	default:
		ctx.Fail("", "KongPlugin runs Lua code of its own in the shared Kong proxy: plugin %s", plugin)
	}
}

// nginxAuthProxySetHeaders is ingress-nginx's auth-proxy-set-headers, which names the ConfigMap
// whose entries it sends as headers to the auth-url service: it writes each as
// proxy_set_header '<name>' '<value>'; into the Ingress's auth location of the shared nginx.conf
// (internal/ingress/controller/template/template.go buildAuthProxySetHeaders, k8s.io/ingress-nginx
// v0.0.0-20240708192948-52c50467d67d), checking the names (authreq ValidHeader,
// ^[a-zA-Z\d\-_]+$) but not the values. A value that ends its quotes is configuration of the
// author's: CVE-2025-15566 (kubernetes/kubernetes#136789, CVSS 8.8, arbitrary code in the
// controller and its Secrets), the same class as the annotations of ingressInjectable, with the
// payload in a ConfigMap of the tenant's own namespace, which nginxConfigMapRefs' cross-namespace
// test passes. custom-headers is not so written: its entries go through the template's quote
// (%q, which escapes quotes and backslashes) and customheaders' ValidValue, so its content is
// not judged. Read under any prefix (--annotations-prefix). Until December 2026 the content was
// not read, and an Ingress naming its own namespace's ConfigMap with such a value passed.
const nginxAuthProxySetHeaders = "auth-proxy-set-headers"

// endsNginxSingleQuote reports whether v, written between single quotes in nginx's
// configuration, ends them: a ' that no backslash escapes, or a backslash that is its last
// character, which escapes the closing quote (nginx's lexer, ngx_conf_read_token, takes a \ as
// escaping the next character inside quotes too), so that the string runs on into what follows.
func endsNginxSingleQuote(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i == len(v)-1 {
				return true
			}
			i++
		case '\'':
			return true
		}
	}
	return false
}

// quoteBreakingHeaders returns, sorted, the keys of data whose values end their quotes
// (endsNginxSingleQuote) when ingress-nginx writes them as auth-proxy-set-headers entries.
func quoteBreakingHeaders(data map[string]string) []string {
	var out []string
	for k, v := range data {
		if endsNginxSingleQuote(v) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// authHeaderConfigMap returns the namespace and name of the ConfigMap the value v of an
// auth-proxy-set-headers annotation of an object of namespace names (the object's own namespace
// for a name alone, as ingress-nginx documents it), or false when v names none a controller
// reads: ingress-nginx splits it with cache.SplitMetaNamespaceKey, which refuses more than one
// /, and no ConfigMap is named but by a DNS subdomain.
func authHeaderConfigMap(namespace, v string) (string, string, bool) {
	v = strings.TrimSpace(v)
	ns, name, ok := strings.Cut(v, "/")
	if !ok {
		ns, name = namespace, v
	}
	if strings.Contains(name, "/") || len(validation.IsDNS1123Subdomain(name)) > 0 || len(validation.IsDNS1123Label(ns)) > 0 {
		return "", "", false
	}
	return ns, name, true
}

// authHeaderInjections judges the ConfigMaps that o's auth-proxy-set-headers annotations (any
// prefix, in key order) name, as the inventory holds them: found are those of them with a value
// that ends its quotes (one each, naming the first such key), and undecided says why the first
// of the others that could not be read is not judged: a ConfigMap of a scan that its files do not
// hold (in the cluster ingress-nginx denies the location of a ConfigMap that does not exist,
// and writes nothing), or one the operator's cache kept as a digest it could not read.
func authHeaderInjections(ctx *engine.Context, o *engine.Object) (found []string, undecided string) {
	var keys []string
	for k := range o.Annotations() {
		if prefixedKey(k, []string{nginxAuthProxySetHeaders}) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ns, name, ok := authHeaderConfigMap(o.Namespace, o.Annotations()[k])
		if !ok || ns != o.Namespace {
			// Another namespace's fails (NotAssessed in a manifest without a namespace) as
			// such (secretRefsOf), whatever it holds.
			continue
		}
		cm := ctx.Get("ConfigMap", ns, name)
		if cm == nil {
			if !ctx.Inventory.Complete && undecided == "" {
				undecided = "names ConfigMap " + ns + "/" + name + " in " + k + ", which is not in the input: ingress-nginx writes its values into " +
					"nginx's configuration (CVE-2025-15566), and whether one ends its quotes is not known"
			}
			continue
		}
		breaking, readable := configMapQuoteBreaks(cm)
		if !readable {
			if undecided == "" {
				undecided = "names ConfigMap " + ns + "/" + name + " in " + k + ", whose values the operator's cache did not keep readable"
			}
			continue
		}
		if len(breaking) > 0 {
			found = append(found, k+" names ConfigMap "+ns+"/"+name+", whose "+breaking[0]+" ends its quotes in nginx's configuration (CVE-2025-15566)")
		}
	}
	if d, ok := o.Digest.(*ingressDigest); ok && d.configMaps > 0 && undecided == "" {
		undecided = fmt.Sprintf("the operator's cache kept %d of the auth-proxy-set-headers annotations that name a ConfigMap of the Ingress's namespace, "+
			"and left %d more unjudged (a tenant decides how many prefixes they write)", maxNamed, d.configMaps)
	}
	return found, undecided
}

// ownAuthHeaderRef reports whether the annotation k: v of an Ingress of namespace is an
// auth-proxy-set-headers (any prefix) that names a ConfigMap of namespace, which
// authHeaderInjections reads.
func ownAuthHeaderRef(namespace, k, v string) bool {
	if !prefixedKey(k, []string{nginxAuthProxySetHeaders}) {
		return false
	}
	ns, _, ok := authHeaderConfigMap(namespace, v)
	return ok && ns == namespace
}

// configMapQuoteBreaks is quoteBreakingHeaders of the ConfigMap o, read from the digest the
// operator's cache kept of a large one (configMapDigest.QuoteBreaks), and false when o is no
// ConfigMap the check can read.
func configMapQuoteBreaks(o *engine.Object) ([]string, bool) {
	if d, ok := o.Digest.(*configMapDigest); ok {
		return d.QuoteBreaks, !d.unreadable
	}
	cm, ok := o.Obj.(*corev1.ConfigMap)
	if !ok {
		return nil, false
	}
	return quoteBreakingHeaders(cm.Data), true
}

// traefikIngressRouteRefs judges a Traefik IngressRoute (traefik.io/v1alpha1): the Middlewares
// of its routes (spec.routes[].middlewares) and of their services (services[].middlewares), each
// {name, namespace}, and the ServersTransport of each service (services[].serversTransport).
// Traefik's CRD provider takes another namespace's (a namespace other than the IngressRoute's, or
// a name <id>@kubernetescrd, traefikForeignNamespace) while its allowCrossNamespace is on
// (github.com/traefik/traefik/v3 v3.7.13 pkg/provider/kubernetes/crd: resolveReference,
// makeServersTransportKey), a setting of its administrators that the IngressRoute does not show,
// one edit away as ingress-nginx's allow-cross-namespace-resources is: such a reference fails, as
// an Ingress's does, but the shared namespaces' (traefikSharedNamespaces, system namespaces).
// A ServersTransport named without @ is the IngressRoute's namespace's (makeID of its
// namespace); a reference to another provider (@file, ...) is its administrators'. Until December
// 2026 no IngressRoute was read.
func traefikIngressRouteRefs(ctx *engine.Context, o *engine.Object) {
	u, ok := o.Obj.(*unstructured.Unstructured)
	if !ok || !strings.HasPrefix(o.APIVersion, "traefik.io/") {
		ctx.NotApplicable("", "not a traefik.io IngressRoute")
		return
	}
	routes, _, err := unstructured.NestedSlice(u.Object, "spec", "routes")
	if err != nil {
		ctx.NotAssessed("", "spec.routes is not a list")
		return
	}
	namespace := o.Namespace
	if o.NamespaceDefaulted {
		namespace = ""
	}
	var found []string
	middlewares := func(at string, list any) {
		refs, _ := list.([]any)
		for j, r := range refs {
			ref, _ := r.(map[string]any)
			name, _ := ref["name"].(string)
			refNs, _ := ref["namespace"].(string)
			var other string
			switch {
			case strings.Contains(name, "@"):
				other = traefikForeignNamespace(namespace, name)
			case refNs != "" && refNs != namespace && !traefikSharedNamespace(refNs):
				other = refNs
			}
			if other != "" {
				found = append(found, fmt.Sprintf("%s.middlewares[%d] names a Middleware of namespace %s", at, j, other))
			}
		}
	}
	for i, r := range routes {
		route, _ := r.(map[string]any)
		at := fmt.Sprintf("spec.routes[%d]", i)
		middlewares(at, route["middlewares"])
		services, _ := route["services"].([]any)
		for j, sv := range services {
			svc, _ := sv.(map[string]any)
			sat := fmt.Sprintf("%s.services[%d]", at, j)
			middlewares(sat, svc["middlewares"])
			if st, _ := svc["serversTransport"].(string); strings.Contains(st, "@") {
				if other := traefikForeignNamespace(namespace, st); other != "" {
					found = append(found, fmt.Sprintf("%s.serversTransport names a ServersTransport of namespace %s", sat, other))
				}
			}
		}
	}
	switch {
	case len(found) > 0 && namespace == "":
		ctx.NotAssessed("", found[0]+" but sets no namespace: whether that is another's depends on where it is applied (scan --namespace)")
	case len(found) > 0:
		ctx.Fail("", "IngressRoute has Traefik use another namespace's objects on its behalf: %s", few(found, ", "))
	default:
		ctx.Pass("")
	}
}
