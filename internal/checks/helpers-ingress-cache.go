package checks

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// IngressSnippetsOmittedAnnotation holds, on an Ingress in the operator's informer cache whose
// annotations it kept only in part (ReduceIngressAnnotations), how many snippet annotations and
// ingressInjectable annotations carrying nginx syntax it left out: they come after the maxNamed
// it kept, which are all net-ingress-snippets' message names. On a Service so kept
// (ReduceServiceAnnotations), how many of its serviceRawConfig annotations it left out. The API server refuses the key (an annotation's name has no blank), so no Ingress it
// serves carries one. Only the inventory reads it (CachedIngressDigest), for objects read from
// the cache; scan and the webhook's request never trust it.
const IngressSnippetsOmittedAnnotation = "soc2-operator.io/ingress snippets omitted"

// IngressConfigMapsOmittedAnnotation holds, likewise, how many of an Ingress's
// auth-proxy-set-headers annotations that name a ConfigMap of its own namespace the cache left
// out (reduceAuthHeaderRefs keeps the first maxNamed): net-ingress-snippets reads those
// ConfigMaps' values (authHeaderInjections), and is NotAssessed on the ones it cannot name.
const IngressConfigMapsOmittedAnnotation = "soc2-operator.io/ingress configmaps omitted"

// IngressAliasesOmittedAnnotation holds, likewise, how many of the wildcards and regular
// expressions of an Ingress's nginx.ingress.kubernetes.io/server-alias the cache left out (it
// keeps the first maxNamed, all net-ingress-host-hygiene's message names).
const IngressAliasesOmittedAnnotation = "soc2-operator.io/ingress server-aliases omitted"

const (
	// ingressReadKeptWhole bounds the value of an annotation net-ingress-tls reads that the
	// cache keeps as it is; a longer one is kept as a stand-in the check reads alike.
	ingressReadKeptWhole = engine.MaxMessageLength + 256
	// ingressQuotedKept is the prefix kept of a longer value the check quotes in its message
	// (%q): more than a message holds (engine.MaxMessageLength), so the message is the same.
	ingressQuotedKept = engine.MaxMessageLength + 256
)

// IngressReadsAnnotation reports whether net-ingress-snippets, net-ingress-tls or
// net-ingress-host-hygiene reads an Ingress's annotation key: the snippet annotations, the
// server aliases (nginxServerAlias), the annotations it judges
// for nginx syntax (ingressInjectable, under any prefix), an unescaped quote (haproxyTechQuoted)
// or a comment (haproxyTechUnquoted, both under any prefix or none: injectionKey), Skipper's eskip ones (skipperInjections),
// Emissary's getambassador.io/config (emissaryConfig), those that decide which controller serves the Ingress
// and how (ingressClassAnnotation, the GKE, AWS Load Balancer Controller, ingress-nginx and
// OpenShift ones), the AWS custom actions (albActions) and the Secrets it names for its
// controller (secretRefKey). The cache keeps them when it trims
// the others (inventory.TrimAnnotations), and then ReduceIngressAnnotations bounds them.
func IngressReadsAnnotation(key string) bool {
	return ingressSnippetKey(key) || key == nginxServerAlias || strings.HasPrefix(key, albActions) || ingressStandIns[key] != nil ||
		injectionKey(key) || key == skipperFilter || key == skipperRatelimit || key == skipperRoutes || key == emissaryConfig ||
		secretRefKey(key, false)
}

// ingressStandIns are, for the annotations net-ingress-tls reads, what it keeps of a value
// longer than ingressReadKeptWhole: one the check reads to the same result and message.
var ingressStandIns = map[string]func(v string) string{
	// Compared with class names, never empty: a long value is none of them.
	ingressClassAnnotation: func(string) string { return "-" },
	openshiftTermination:   func(string) string { return "-" },
	// Read with strconv.ParseBool, which a long value fails, as "-" does.
	gceAllowHTTP:          func(string) string { return "-" },
	nginxSSLRedirect:      func(string) string { return "-" },
	nginxForceSSLRedirect: func(string) string { return "-" },
	// Read with strconv.ParseInt, which takes any number of leading zeros.
	albSSLRedirect: func(v string) string {
		if n, err := strconv.ParseInt(v, 10, 32); err == nil {
			return strconv.FormatInt(n, 10)
		}
		return "-"
	},
	// Read only as set or not.
	gceManagedCertificates: func(string) string { return "-" },
	gcePreSharedCert:       func(string) string { return "-" },
	albCertificateARN:      func(string) string { return "-" },
	// Set or not, and quoted in a message, which holds less than the prefix.
	gceFrontendConfig: quotedPrefix,
	albGroupName:      quotedPrefix,
	// A JSON list: a value the check cannot read stays one (a prefix and a NUL, which JSON
	// has no place for); one it reads is kept compact, the same listeners. Its message then
	// quotes the compact form where the Ingress has no HTTPS listener, rather than the
	// tenant's longer text: the same result.
	albListenPorts: func(v string) string {
		var listeners []map[string]int64
		if json.Unmarshal([]byte(v), &listeners) != nil {
			return quotedPrefix(v) + "\x00"
		}
		raw, err := json.Marshal(listeners)
		if err != nil {
			return quotedPrefix(v) + "\x00"
		}
		return string(raw)
	},
}

// quotedPrefix is the first ingressQuotedKept bytes of v, cut on a UTF-8 boundary.
func quotedPrefix(v string) string {
	if len(v) <= ingressQuotedKept {
		return v
	}
	cut := ingressQuotedKept
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut]
}

// ReduceIngressAnnotations bounds what the operator's informer cache keeps of an Ingress whose
// annotations it trims (inventory.TrimAnnotations, keeping those IngressReadsAnnotation
// reports): a tenant decides how large and how many they are, up to 256 KiB an Ingress. It
// keeps of the snippet annotations the first maxNamed set to more than blanks (in
// ingressSnippets' order), with a one-byte value, then of ingressInjectable's under any prefix
// those that carry nginx syntax (in ingressInjections' order) up to maxNamed in all, with a
// one-byte value that carries it too, and counts the others in IngressSnippetsOmittedAnnotation
// (ingressInjectable's that carry none it drops: no check reads them), then alike of the
// secretRefKey annotations that name another namespace's Secret (reduceSecretRefs, the others
// dropped); of Skipper's eskip
// annotations, a stand-in (skipperStandIn); of Emissary's getambassador.io/config, a stand-in
// (emissaryStandIn) or nothing; of the AWS custom actions, the first, with an empty value; and of
// the others net-ingress-tls reads, their values up to ingressReadKeptWhole bytes, a longer
// one as its stand-in (ingressStandIns). net-ingress-snippets and net-ingress-tls judge it to
// the results they give the whole Ingress (TestTrimmedAnnotationsAreJudgedAsWhole), but for
// the message of an Ingress without an HTTPS listener whose listen-ports JSON is over
// ingressReadKeptWhole bytes, which quotes it compact. An Ingress already reduced stays as it
// is.
func ReduceIngressAnnotations(ing *networkingv1.Ingress) {
	a := maps.Clone(ing.Annotations)
	omitted, _ := strconv.Atoi(a[IngressSnippetsOmittedAnnotation])
	for i, k := range ingressSnippets(a) {
		if i < maxNamed {
			a[k] = "-"
			continue
		}
		delete(a, k)
		omitted++
	}
	var actions []string
	for k, v := range a {
		switch {
		case ingressSnippetKey(k) && strings.TrimSpace(v) == "":
			delete(a, k) // renders nothing, named by nothing
		case strings.HasPrefix(k, albActions):
			actions = append(actions, k)
		}
	}
	// Of ingressInjectable's, under any prefix (a tenant may write as many as 256 KiB holds),
	// those that carry nginx syntax after the snippets the check names, with a one-byte value
	// that carries it too, the others counted; those that carry none no check reads.
	named := min(len(ingressSnippets(a)), maxNamed)
	for k, v := range a {
		if injectionKey(k) && !injects(k, v) {
			delete(a, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if !injectionKey(k) {
			continue
		}
		if named < maxNamed {
			a[k] = injectionStandIn(k)
			named++
			continue
		}
		delete(a, k)
		omitted++
	}
	// Of the secretRefKey annotations, those that name another namespace's Secret, after the
	// injections, each as a stand-in naming the same namespace, the others counted.
	_, omitted = reduceSecretRefs(a, ing.Namespace, false, named, omitted)
	if omitted > 0 {
		a[IngressSnippetsOmittedAnnotation] = strconv.Itoa(omitted)
	}
	reduceAuthHeaderRefs(a, ing.Namespace)
	// Skipper's eskip annotations, each as a stand-in skipperInjections reads alike (or none):
	// a tenant decides how long they are.
	for _, k := range []string{skipperRatelimit, skipperFilter, skipperRoutes} {
		if v, ok := a[k]; ok {
			if standIn := skipperStandIn(k, v); standIn != "" {
				a[k] = standIn
			} else {
				delete(a, k)
			}
		}
	}
	reduceEmissary(a)
	if len(actions) > 0 {
		slices.Sort(actions)
		for _, k := range actions[1:] {
			delete(a, k)
		}
		a[actions[0]] = ""
	}
	if v, ok := a[nginxServerAlias]; ok && len(v) > ingressReadKeptWhole {
		// Of the aliases, those net-ingress-host-hygiene names: the first maxNamed wildcards
		// and regular expressions, each cut past what a message holds (and then ending in *,
		// which keeps it one), the others counted.
		omitted, _ := strconv.Atoi(a[IngressAliasesOmittedAnnotation])
		aliases := nginxPatternAliases(a)
		var kept []string
		for i, alias := range aliases {
			switch {
			case i >= maxNamed:
				omitted++
			case len(alias) > ingressQuotedKept:
				kept = append(kept, quotedPrefix(alias)+"*")
			default:
				kept = append(kept, alias)
			}
		}
		a[nginxServerAlias] = strings.Join(kept, ",")
		if omitted > 0 {
			a[IngressAliasesOmittedAnnotation] = strconv.Itoa(omitted)
		}
	}
	for k, standIn := range ingressStandIns {
		if v, ok := a[k]; ok && len(v) > ingressReadKeptWhole {
			a[k] = standIn(v)
		}
	}
	ing.Annotations = a
}

// reduceAuthHeaderRefs keeps, of the auth-proxy-set-headers annotations of an Ingress of
// namespace that name a ConfigMap of it (ownAuthHeaderRef), the first maxNamed in key order, each
// as namespace/name (at most 317 bytes, however many blanks the tenant wrote around it), and
// counts the others in IngressConfigMapsOmittedAnnotation: a tenant decides how many prefixes
// they write. reduceSecretRefs leaves them to it.
func reduceAuthHeaderRefs(a map[string]string, namespace string) {
	omitted, _ := strconv.Atoi(a[IngressConfigMapsOmittedAnnotation])
	var keys []string
	for k, v := range a {
		if ownAuthHeaderRef(namespace, k, v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i < maxNamed {
			ns, name, _ := authHeaderConfigMap(namespace, a[k])
			a[k] = ns + "/" + name
			continue
		}
		delete(a, k)
		omitted++
	}
	if omitted > 0 {
		a[IngressConfigMapsOmittedAnnotation] = strconv.Itoa(omitted)
	}
}

// ServiceReadsAnnotation reports whether a built-in check reads a Service's annotation key:
// net-ingress-snippets reads the raw configuration the HAProxy controllers take from a Service
// (serviceSnippetKey), the Secrets the HAProxy Kubernetes Ingress Controller reads for it
// (secretRefKey) and Emissary's getambassador.io/config (emissaryConfig), and no other check
// reads a Service's annotations. The cache keeps them
// when it trims the others (inventory.TrimAnnotations), and then ReduceServiceAnnotations
// bounds them.
func ServiceReadsAnnotation(key string) bool {
	return serviceSnippetKey(key) || key == emissaryConfig || secretRefKey(key, true)
}

// reduceEmissary replaces the Emissary annotation of annotations by its stand-in
// (emissaryStandIn), or drops it when it declares no global kind: a tenant decides how long it is.
func reduceEmissary(annotations map[string]string) {
	if v, ok := annotations[emissaryConfig]; ok {
		if standIn := emissaryStandIn(v); standIn != "" {
			annotations[emissaryConfig] = standIn
		} else {
			delete(annotations, emissaryConfig)
		}
	}
}

// ReduceServiceAnnotations bounds what the operator's informer cache keeps of a Service whose
// annotations it trims (inventory.TrimAnnotations, keeping those ServiceReadsAnnotation
// reports): a tenant decides how long they are and how many (any prefix counts), up to 256 KiB
// a Service. It keeps of the snippet annotations the first maxNamed set to more than blanks (in
// serviceSnippets' order), with a one-byte value, drops those of blanks (they render nothing and
// no message names them) and counts the others in IngressSnippetsOmittedAnnotation, then alike
// of the secretRefKey annotations that name another namespace's Secret (reduceSecretRefs), and of
// Emissary's getambassador.io/config a stand-in (emissaryStandIn) or nothing:
// net-ingress-snippets judges it to the result and message it gives the whole Service
// (TestTrimmedAnnotationsAreJudgedAsWhole). A Service already reduced stays as it is.
func ReduceServiceAnnotations(svc *corev1.Service) {
	a := maps.Clone(svc.Annotations)
	omitted, _ := strconv.Atoi(a[IngressSnippetsOmittedAnnotation])
	for k, v := range a {
		if serviceSnippetKey(k) && strings.TrimSpace(v) == "" {
			delete(a, k)
		}
	}
	for i, k := range serviceSnippets(a) {
		if i < maxNamed {
			a[k] = "-"
			continue
		}
		delete(a, k)
		omitted++
	}
	_, omitted = reduceSecretRefs(a, svc.Namespace, true, min(len(serviceSnippets(a)), maxNamed), omitted)
	if omitted > 0 {
		a[IngressSnippetsOmittedAnnotation] = strconv.Itoa(omitted)
	}
	reduceEmissary(a)
	svc.Annotations = a
}

// ingressDigest is what net-ingress-snippets and net-ingress-host-hygiene read of an Ingress
// beside its annotations when the operator's cache reduced them (ReduceIngressAnnotations):
// how many snippet annotations and server aliases it left out; of a Service
// (ReduceServiceAnnotations), how many of its snippet annotations.
type ingressDigest struct{ snippets, aliases, configMaps int }

// CachedIngressDigest takes IngressSnippetsOmittedAnnotation and
// IngressAliasesOmittedAnnotation out of annotations, those of a copy of an Ingress read from
// the operator's informer cache, and returns the digest for engine.Object.Digest (nil when it
// had neither).
func CachedIngressDigest(annotations map[string]string) any {
	count := func(key string) int {
		v, ok := annotations[key]
		if !ok {
			return 0
		}
		delete(annotations, key)
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
		// Only the cache writes it, with a count: at least one was left out.
		return 1
	}
	d := &ingressDigest{snippets: count(IngressSnippetsOmittedAnnotation), aliases: count(IngressAliasesOmittedAnnotation),
		configMaps: count(IngressConfigMapsOmittedAnnotation)}
	if d.snippets == 0 && d.aliases == 0 && d.configMaps == 0 {
		return nil
	}
	return d
}

// omittedAliases are the server aliases the operator's cache left out of o's annotations, as
// blanks (few counts them).
func omittedAliases(o *engine.Object) []string {
	if d, ok := o.Digest.(*ingressDigest); ok {
		return make([]string, d.aliases)
	}
	return nil
}
