package checks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// validDigest reports whether a content digest is one an image can be pinned by: a digest
// github.com/opencontainers/go-digest accepts (sha256, sha384 or sha512, in lower-case hex of
// the algorithm's length), which is how github.com/distribution/reference, and so the API
// server and the container runtime, parse the digest of an image reference.
func validDigest(d string) bool {
	return digest.Digest(d).Validate() == nil
}

// isImageID reports whether an image reference is an image's ID (sha256:<hex>, the digest of
// its configuration) or a prefix of one (sha256:6b5bb8ad0a7d) rather than a name.
// github.com/distribution/reference reads it as Docker Hub's docker.io/library/sha256 tagged
// with the hex, and the kubelet hands it to the container runtime as written (applyDefaultImageTag
// adds no tag to it), but containerd's CRI (LocalResolve) takes a reference that is a digest for
// the ID of an image it holds, and one it cannot resolve as a name it looks up in its image store
// by ID, which (go-digest's digestset) matches any unambiguous prefix of an ID's hex: the
// container runs that image, wherever it was pulled from, without asking any registry.
func isImageID(image string) bool {
	alg, hex, ok := strings.Cut(image, ":")
	if !ok || hex == "" || strings.Trim(hex, "0123456789abcdef") != "" {
		return false
	}
	a := digest.Algorithm(alg)
	return a.Available() && len(hex) <= a.Size()*2
}

// imageDigestPinned reports whether an image reference carries a well-formed digest.
func imageDigestPinned(image string) bool {
	_, _, d := imageParts(image)
	return validDigest(d)
}

// eachImageVolume judges every image volume (volumes[].image) of a pod, which the kubelet pulls
// as it pulls a container's image: judge returns "" to pass or the failure message, a failure
// of the pod. A volume without a reference (a template's: Kubernetes before 1.37 let one leave
// it to be filled in, and v1.37.2 keeps one an older object has, AllowEmptyImageVolumeReference
// in k8s.io/kubernetes pkg/api/pod/util.go) is judged too, as a container without an image is:
// what it will mount, and from where, is not in the spec, and its pull policy is.
func eachImageVolume(ctx *engine.Context, o *engine.Object, judge func(v *corev1.Volume) string) {
	for i := range o.Workload.PodSpec.Volumes {
		v := &o.Workload.PodSpec.Volumes[i]
		if v.Image == nil {
			continue
		}
		if msg := judge(v); msg != "" {
			ctx.Fail("", "%s", msg)
		}
	}
}

// eachImage judges every container's image and every image volume's reference with why, which
// says what is wrong with an image ("" when nothing is): a container without an image fails, and
// so does an image volume without a reference (noReference), and an image that is not a
// reference is not assessed (eachReference).
func eachImage(ctx *engine.Context, o *engine.Object, why func(image string) string) {
	eachReference(ctx, o, nil, func(c engine.Container) string {
		if c.Image == "" {
			return "no image is set"
		}
		if w := why(c.Image); w != "" {
			return fmt.Sprintf("image %q %s", c.Image, w)
		}
		return ""
	}, func(v *corev1.Volume) string {
		if v.Image.Reference == "" {
			return noReference(v)
		}
		if w := why(v.Image.Reference); w != "" {
			return fmt.Sprintf("image volume %q (%q) %s", v.Name, v.Image.Reference, w)
		}
		return ""
	})
}

// eachReference judges the image reference of every container (init and ephemeral included)
// with judgeContainer and of every image volume with judgeVolume, as eachContainer and
// eachImageVolume do, except an image that is not a reference (notAReference): the kubelet
// refuses to pull it and the container or volume runs nothing, and what a placeholder such as
// $IMAGE or PROJECT_ID stands for is replaced at deployment by an image the check cannot see.
// That image is NotAssessed, neither passed on the parts that look like a tag or a registry
// nor failed on them. So is an image of which undecided (when not nil) says why the check
// cannot tell ("" when it can).
func eachReference(ctx *engine.Context, o *engine.Object, undecided func(image string) string, judgeContainer func(c engine.Container) string, judgeVolume func(v *corev1.Volume) string) {
	eachContainerJudged(ctx, o, nil, func(c engine.Container) (string, string) {
		if c.Image != "" {
			if why := notAReference(c.Image); why != "" {
				return "", fmt.Sprintf("image %q is not a valid image reference (%s): the kubelet refuses to pull it (InvalidImageName), and which image will run cannot be told", c.Image, why)
			}
			if undecided != nil {
				if why := undecided(c.Image); why != "" {
					return "", fmt.Sprintf("image %q %s", c.Image, why)
				}
			}
		}
		return judgeContainer(c), ""
	})
	eachImageVolume(ctx, o, func(v *corev1.Volume) string {
		// A volume without a reference is judged as a container without an image is.
		if v.Image.Reference == "" {
			return judgeVolume(v)
		}
		if why := notAReference(v.Image.Reference); why != "" {
			ctx.NotAssessed("", fmt.Sprintf("image volume %q (%q) is not a valid image reference (%s): the kubelet refuses to pull it, and which image will be mounted cannot be told", v.Name, v.Image.Reference, why))
			return ""
		}
		if undecided != nil {
			if why := undecided(v.Image.Reference); why != "" {
				ctx.NotAssessed("", fmt.Sprintf("image volume %q (%q) %s", v.Name, v.Image.Reference, why))
				return ""
			}
		}
		return judgeVolume(v)
	})
}

// noReference says why an image volume without a reference (a template's) fails a check of
// where its image comes from, as a container without an image does.
func noReference(v *corev1.Volume) string {
	return fmt.Sprintf("image volume %q names no reference: what it will mount, and from where, is filled in later and not in the spec", v.Name)
}

// unreferenceable is said in the description of every check that judges image references
// through eachReference.
const unreferenceable = " An image that is not a valid reference (a placeholder such as $IMAGE or PROJECT_ID left " +
	"in) is not assessed: the kubelet refuses to pull it, and the image that replaces it cannot be seen."

// notAReference says why an image is not a reference the kubelet pulls, "" when it is one: the
// kubelet parses every image with github.com/distribution/reference before pulling it, and
// fails the container with InvalidImageName when it does not parse (applyDefaultImageTag in
// k8s.io/kubernetes v1.37 pkg/kubelet/images/image_manager.go). The answer is the library's,
// remembered per image with the API server's pull policy default (defaultPullPolicy).
func notAReference(image string) string {
	return defaultPullPolicy(image).invalid
}

// dockerHubAliases are other spellings of Docker Hub's registry host.
var dockerHubAliases = map[string]bool{"index.docker.io": true, "registry-1.docker.io": true, "registry.hub.docker.com": true}

// canonicalRepository is an image's repository spelled in full, without tag or digest: the
// registry host (lower case, Docker Hub as docker.io) then the path, with Docker Hub's implicit
// library/ for official images. "nginx:1.27" and "docker.io/nginx" both read
// "docker.io/library/nginx".
func canonicalRepository(image string) string {
	repo, _, _ := imageParts(strings.TrimSpace(image))
	host, path, ok := strings.Cut(repo, "/")
	// Without a registry host the image is on Docker Hub ("nginx", "bitnami/redis").
	if !ok || !isRegistryHost(host) {
		host, path = "docker.io", repo
	}
	host = strings.ToLower(host)
	if dockerHubAliases[host] {
		host = "docker.io"
	}
	if host == "docker.io" && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return host + "/" + path
}

// isRegistryHost reports whether the first part of an image name (before its first "/") is a
// registry host: it has a dot or a port, is localhost, or has upper case, which a repository
// path cannot ("LOCALHOST/app", as the container runtime reads it).
func isRegistryHost(first string) bool {
	return strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first
}

// canonicalPrefixes spell an allowed-registry prefix the way canonicalRepository spells images:
// the host in lower case and Docker Hub as docker.io. A first part that cannot be a registry
// host is on Docker Hub, as in an image: "bitnami/" is docker.io/bitnami/ and "nginx"
// docker.io/library/nginx. A Docker Hub host followed by one path part and no slash
// ("docker.io/nginx", "index.docker.io/redis") is read both ways: as the image of that name
// spells it, Docker Hub's official docker.io/library/nginx, and as the path it writes, the
// namespace docker.io/nginx (what "docker.io/bitnami" is meant to allow). The path is kept as
// written.
func canonicalPrefixes(prefix string) []string {
	prefix = strings.TrimSpace(prefix)
	host, path, ok := strings.Cut(prefix, "/")
	if host != "" && !isRegistryHost(host) {
		host, path, ok = "docker.io", prefix, true
		if !strings.Contains(path, "/") {
			path = "library/" + path
		}
	}
	host = strings.ToLower(host)
	if dockerHubAliases[host] {
		host = "docker.io"
	}
	if !ok {
		return []string{host}
	}
	if host == "docker.io" && path != "" && !strings.Contains(path, "/") {
		return []string{host + "/library/" + path, host + "/" + path}
	}
	return []string{host + "/" + path}
}

// underPrefix reports whether a canonical repository is under an allowed prefix. A prefix that
// ends with "/" matches anything below it; one that does not must end at a whole host or path
// segment, so "registry.example.com" allows "registry.example.com/app" but not
// "registry.example.com.evil.io/app", and "ghcr.io/acme" does not allow "ghcr.io/acme-forks/x".
func underPrefix(repo, prefix string) bool {
	if prefix == "" {
		return false
	}
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(repo, prefix)
	}
	return repo == prefix || strings.HasPrefix(repo, prefix+"/")
}

// Trivy Operator reports (aquasecurity.github.io/v1alpha1), one per workload and container.
const (
	trivyGroup              = "aquasecurity.github.io"
	trivyVulnerabilityKind  = "VulnerabilityReport"
	trivyExposedSecretKind  = "ExposedSecretReport"
	trivyLabelResourceKind  = "trivy-operator.resource.kind"
	trivyLabelResourceName  = "trivy-operator.resource.name"
	trivyLabelContainerName = "trivy-operator.container.name"
)

// reportWriteAccess is, by report kind, the access that lets a subject create a report or change
// one (its name alone is enough: Trivy Operator names reports predictably, replicaset-<name>-<container>).
var reportWriteAccess = map[string]riskyAccess{
	trivyVulnerabilityKind: {named: true, accesses: []access{{groups: []string{trivyGroup}, resources: []string{"vulnerabilityreports"}, verbs: changeVerbs}}},
	trivyExposedSecretKind: {named: true, accesses: []access{{groups: []string{trivyGroup}, resources: []string{"exposedsecretreports"}, verbs: changeVerbs}}},
}

// selfGrantAccess is the access that lets a subject give itself write access to reports it does
// not hold: bind on any role lets it bind one granting the access, or cluster-admin, and
// escalate on roles lets it put in a Role it holds, or may bind, what it does not hold (the API
// server's RBAC escalation check lets either through). Escalate limited to names counts (the
// named Role may be one it holds); bind limited to names counts for the roles it names that
// grant the access (rolePerms.bindNamed, trivyBindGrant).
var selfGrantAccess = riskyAccess{accesses: []access{
	{groups: rbacGroup, resources: roleResources, verbs: []string{"bind"}},
}}

var selfEscalateAccess = riskyAccess{named: true, accesses: []access{
	{groups: rbacGroup, resources: []string{"roles"}, verbs: []string{"escalate"}},
}}

// namedBind is a role a rule lets its subject bind by name (bind limited by resourceNames).
type namedBind struct {
	// how is the grant, in the rule's spelling: `bind on clusterroles (resourceNames "view")`.
	how string
	// kind and name are the role's: "ClusterRole", "view".
	kind, name string
}

// namedBinds lists the roles rules let a subject bind by name.
func namedBinds(rules []rbacv1.PolicyRule) []namedBind {
	var out []namedBind
	for _, r := range rules {
		if len(r.ResourceNames) == 0 || !slices.Contains(r.Verbs, "bind") && !slices.Contains(r.Verbs, rbacv1.VerbAll) ||
			!slices.Contains(r.APIGroups, rbacv1.GroupName) && !slices.Contains(r.APIGroups, rbacv1.APIGroupAll) {
			continue
		}
		for _, res := range roleResources {
			ruleRes := matchingResource(r.Resources, res)
			if ruleRes == "" {
				continue
			}
			kind := "ClusterRole"
			if res == "roles" {
				kind = "Role"
			}
			for _, n := range r.ResourceNames {
				if n != "" {
					out = append(out, namedBind{how: fmt.Sprintf("bind on %s (resourceNames %s)", ruleRes, quoteList(r.ResourceNames)), kind: kind, name: n})
				}
			}
		}
	}
	return out
}

// trivyBindGrant describes how a binding's role (perms) lets its subjects bind, by name, a role that
// lets them create or change reports of the kind in the namespace; "" when none of the roles
// it names does (or the role is not known).
func trivyBindGrant(inv *engine.Inventory, perms *rolePerms, namespace, kind string) string {
	// The RoleBinding they would create in the namespace.
	in := &engine.Object{Kind: "RoleBinding", Namespace: namespace}
	for _, nb := range perms.bindNamed {
		role := resolveRoleRef(inv, in, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: nb.kind, Name: nb.name})
		if role.perms != nil && len(role.perms.reportWrite[kind]) > 0 {
			return fmt.Sprintf("%s, with which they may bind %s: %s", nb.how, role.ref, few(role.perms.reportWrite[kind], "; "))
		}
	}
	return ""
}

// trivyReportWriter names, for a namespace that has reports of the kind, a binding that lets
// someone of the namespace's own create or change them ("" when none does): a report there may
// then have been written, or its counts rewritten, by the very team whose images it clears, and
// nothing in the object tells who wrote it (its labels, owner references and managedFields are
// all the writer's to set). Someone of the namespace's own is a subject of one of its
// RoleBindings (a namespace admin may create those, for the roles it holds), other than the
// platform's system: users and groups, or a subject of a ClusterRoleBinding they may act as
// (ownedByNamespace; in the cluster a ServiceAccount only where a RoleBinding of the namespace
// lets someone act as it, serviceAccountActor). Other ClusterRoleBindings are the cluster
// administrators' choice, the scanner's own among them, and are trusted. A binding the API server
// rejects (refusedBinding) grants nothing and is not counted. In scan, where no
// binding is known to let them, a binding of theirs to a role the input does not hold, or to an
// aggregated one, is named instead: what it grants is not known.
func trivyReportWriter(inv *engine.Inventory, namespace, kind string) string {
	objs := inv.List(namespace, kind)
	if len(objs) == 0 {
		return ""
	}
	return inv.Memo(objs[0], "supply-chain.trivy-writer", func() any {
		bindings := slices.Concat(inv.List(namespace, "RoleBinding"), inv.ListKind("ClusterRoleBinding"))
		// unknown says which binding's role the input does not show whole, when no binding is
		// known to let the namespace's own write reports.
		var unknown string
		for _, b := range bindings {
			ref, subjects, ok := bindingOf(b)
			if !ok || isBuiltinBinding(b) || refusedBinding(inv, b) != "" {
				continue
			}
			var tenants []rbacv1.Subject
			var actedBy string
			for _, s := range subjects {
				switch {
				case b.Kind == "RoleBinding" && !isSystemSubject(s):
					tenants = append(tenants, s)
				case b.Kind == "ClusterRoleBinding" && ownedByNamespace(b, s, namespace):
					// In the cluster, where the namespace's bindings are all known, a
					// ServiceAccount is its own only where one of them lets someone act as it:
					// in Trivy Operator's own namespace nobody may but the cluster's admins.
					if sa := boundServiceAccount(b, s, namespace); sa != "" && inv.Complete {
						by := serviceAccountActor(inv, namespace, sa)
						if by == "" {
							continue
						}
						if actedBy == "" {
							actedBy = by
						}
					}
					tenants = append(tenants, s)
				}
			}
			if len(tenants) == 0 {
				continue
			}
			role := resolveRoleRef(inv, b, ref)
			if unknown == "" && !inv.Complete && role.invalid == "" {
				// In scan the role, or the rules aggregated into it, may be elsewhere.
				var why string
				switch {
				case role.perms == nil && role.obj == nil:
					why = "which is not in the scanned input"
				case role.perms != nil && role.perms.aggregated && len(role.perms.reportWrite[kind]) == 0:
					why = "which is aggregated: the aggregation controller fills in its rules"
				}
				if why != "" {
					unknown = fmt.Sprintf("%s %q binds %s to %s, %s: whether it lets them create or change %ss in namespace %q is not known",
						b.Kind, b.Name, describeSubjects(b, tenants), role.ref, why, kind, namespace)
				}
			}
			if role.perms == nil {
				continue
			}
			grants := role.perms.reportWrite[kind]
			if len(grants) == 0 {
				if g := trivyBindGrant(inv, role.perms, namespace, kind); g != "" {
					grants = []string{g}
				}
			}
			if len(grants) == 0 {
				continue
			}
			msg := fmt.Sprintf("%s %q lets %s create or change %ss in namespace %q (%s: %s)", b.Kind, b.Name,
				describeSubjects(b, tenants), kind, namespace, role.ref, few(grants, "; "))
			if actedBy != "" {
				msg += "; " + actedBy
			}
			return msg + ", who may have written or changed it instead of Trivy Operator"
		}
		return unknown
	}).(string)
}

// ownedByNamespace reports whether a subject of a ClusterRoleBinding is one the namespace's own
// users may act as: a group every one of them may be in (every authenticated or unauthenticated
// user, every ServiceAccount, the namespace's), or a ServiceAccount of the namespace, as a
// subject or as the user it authenticates as (its admins may impersonate it, mint its tokens and
// run pods as it).
func ownedByNamespace(b *engine.Object, s rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.GroupKind:
		switch s.Name {
		case "system:authenticated", "system:unauthenticated", "system:serviceaccounts", "system:serviceaccounts:" + namespace:
			return true
		}
	case rbacv1.ServiceAccountKind:
		return subjectNamespace(b, s) == namespace
	case rbacv1.UserKind:
		return strings.HasPrefix(s.Name, "system:serviceaccount:"+namespace+":")
	}
	return false
}

// boundServiceAccount is the name of the ServiceAccount of the namespace a subject of binding b
// stands for, as a ServiceAccount subject or as the user it authenticates as; "" for any other.
func boundServiceAccount(b *engine.Object, s rbacv1.Subject, namespace string) string {
	switch {
	case s.Kind == rbacv1.ServiceAccountKind && subjectNamespace(b, s) == namespace:
		return s.Name
	case s.Kind == rbacv1.UserKind:
		if name, ok := strings.CutPrefix(s.Name, "system:serviceaccount:"+namespace+":"); ok {
			return name
		}
	}
	return ""
}

// serviceAccountActor names a RoleBinding of the namespace that lets one of its subjects, other
// than the platform's system: users and groups and ServiceAccount sa itself, act as sa: run a pod
// as it (create or change pods or their controllers), exec into its pods, impersonate it, read
// or mint its tokens, or grant themselves any of these (bind, escalate). "" when none does.
func serviceAccountActor(inv *engine.Inventory, namespace, sa string) string {
	for _, b := range inv.List(namespace, "RoleBinding") {
		ref, subjects, ok := bindingOf(b)
		if !ok || isBuiltinBinding(b) {
			continue
		}
		var others []rbacv1.Subject
		for _, s := range subjects {
			if !isSystemSubject(s) && boundServiceAccount(b, s, namespace) != sa {
				others = append(others, s)
			}
		}
		if len(others) == 0 {
			continue
		}
		p := resolveRoleRef(inv, b, ref).perms
		if p == nil {
			continue
		}
		grants := slices.Concat(p.workloadCreate, p.exec, p.escalation, p.secretRead, p.controlPlane)
		if namespace == "kube-system" {
			grants = append(grants, p.kubeSystemWrite...)
		}
		if p.clusterAdmin && len(grants) == 0 {
			grants = []string{"* on *"}
		}
		if len(grants) > 0 {
			return fmt.Sprintf("%s %q lets %s act as it: %s", b.Kind, b.Name, describeSubjects(b, others), few(grants, "; "))
		}
	}
	return ""
}

// trivyReport is what the checks read from one Trivy Operator report.
type trivyReport struct {
	name string
	// image is the image scanned, as the report records it (report.registry.server and
	// report.artifact: repository, then tag or digest); "" when it records none.
	image string
	// repository, tag and digest are the image scanned: the repository normalised as the
	// container runtime resolves it (docker.io/library/nginx), the tag and the digest as
	// recorded (Trivy Operator records a digest reference's digest and no tag).
	repository, tag, digest string
	// summary holds report.summary's counters by name (criticalCount, highCount, ...).
	summary map[string]int64
	// fixableCritical counts report.vulnerabilities of severity CRITICAL with a fixedVersion;
	// -1 when the report lists no vulnerabilities.
	fixableCritical int64
	// updated is when the scan was made (report.updateTimestamp); zero when the report names
	// no time the check can read.
	updated time.Time
}

type trivyKey struct{ kind, name, container string }

// trivyReportsIn indexes a namespace's Trivy reports of one kind by the workload kind, name
// and container they describe, once per evaluation.
func trivyReportsIn(inv *engine.Inventory, namespace, kind string) map[trivyKey][]*trivyReport {
	objs := inv.List(namespace, kind)
	if len(objs) == 0 {
		return nil
	}
	return inv.Memo(objs[0], "supply-chain.trivy-index", func() any {
		idx := map[trivyKey][]*trivyReport{}
		for _, o := range objs {
			u, ok := o.Obj.(*unstructured.Unstructured)
			if !ok || !strings.HasPrefix(o.APIVersion, trivyGroup+"/") {
				continue
			}
			k := trivyKey{kind: u.GetLabels()[trivyLabelResourceKind], name: trivySubjectName(u),
				container: u.GetLabels()[trivyLabelContainerName]}
			if k.kind == "" || k.name == "" || k.container == "" {
				continue
			}
			if r := readTrivyReport(u); r != nil {
				idx[k] = append(idx[k], r)
			}
		}
		return idx
	}).(map[trivyKey][]*trivyReport)
}

// trivySubjectName is the name of the object a report describes. Trivy Operator writes it in a
// label, or, when the name is too long for a label value, hashes the label and keeps the name
// in an annotation and the owner reference.
func trivySubjectName(u *unstructured.Unstructured) string {
	if n := u.GetLabels()[trivyLabelResourceName]; n != "" {
		return n
	}
	if n := u.GetAnnotations()[trivyLabelResourceName]; n != "" {
		return n
	}
	kind := u.GetLabels()[trivyLabelResourceKind]
	for _, ref := range u.GetOwnerReferences() {
		if ref.Kind == kind && ref.Controller != nil && *ref.Controller {
			return ref.Name
		}
	}
	return ""
}

// readTrivyReport reads a report's summary and fixable criticals; nil when it has no summary,
// which leaves the container without a usable report.
func readTrivyReport(u *unstructured.Unstructured) *trivyReport {
	report, _ := u.Object["report"].(map[string]any)
	summary, ok := report["summary"].(map[string]any)
	if !ok {
		return nil
	}
	r := &trivyReport{name: u.GetName(), summary: map[string]int64{}, fixableCritical: -1}
	r.readArtifact(report)
	if ts, ok := report["updateTimestamp"].(string); ok {
		// metav1.Time's format, as the API server stores it.
		r.updated, _ = time.Parse(time.RFC3339, ts)
	}
	for k, v := range summary {
		if n, ok := asCount(v); ok {
			r.summary[k] = n
		}
	}
	if vulns, ok := report["vulnerabilities"].([]any); ok {
		r.fixableCritical = 0
		for _, v := range vulns {
			m, _ := v.(map[string]any)
			sev, _ := m["severity"].(string)
			fixed, _ := m["fixedVersion"].(string)
			if strings.EqualFold(sev, "CRITICAL") && fixed != "" {
				r.fixableCritical++
			}
		}
	}
	// The summary counts the findings listed beside it (Trivy Operator writes both from one
	// scan): a count below the list's has been changed since, and the list is what was found.
	listed := map[string]int64{}
	for _, key := range []string{"vulnerabilities", "secrets"} {
		items, _ := report[key].([]any)
		for _, v := range items {
			m, _ := v.(map[string]any)
			if sev, _ := m["severity"].(string); sev != "" {
				listed[strings.ToLower(sev)+"Count"]++
			}
		}
	}
	for k, n := range listed {
		r.summary[k] = max(r.summary[k], n)
	}
	return r
}

// readArtifact reads the image a report describes: Trivy Operator writes the image reference
// it scanned, parsed by go-containerregistry, as report.registry.server (index.docker.io for
// Docker Hub) and report.artifact's repository (library/nginx) and tag or digest.
func (r *trivyReport) readArtifact(report map[string]any) {
	artifact, _ := report["artifact"].(map[string]any)
	registry, _ := report["registry"].(map[string]any)
	repo, _ := artifact["repository"].(string)
	if repo == "" {
		return
	}
	server, _ := registry["server"].(string)
	r.tag, _ = artifact["tag"].(string)
	r.digest, _ = artifact["digest"].(string)
	r.image = repo
	if server != "" {
		r.image = server + "/" + repo
	}
	if named, err := reference.ParseNormalizedNamed(r.image); err == nil {
		r.repository = named.Name()
	}
	if r.tag != "" {
		r.image += ":" + r.tag
	}
	if r.digest != "" {
		r.image += "@" + r.digest
	}
}

// parseImage parses a container's image as the API server and the container runtime parse
// images (github.com/distribution/reference, Docker Hub's short names included); nil when it
// does not parse.
func parseImage(image string) reference.Named {
	named, err := reference.ParseNormalizedNamed(strings.TrimSpace(image))
	if err != nil {
		return nil
	}
	return named
}

// describes reports whether the report is about the image a container runs (named, from
// parseImage; nil matches nothing): the same repository, and the same digest when the container
// pins one, else the same tag (latest when it names neither). A report for another tag or digest
// describes an image the container no longer runs: Trivy Operator keeps a workload's report
// until a new scan of the new image succeeds.
func (r *trivyReport) describes(named reference.Named) bool {
	if named == nil || r.repository == "" || named.Name() != r.repository {
		return false
	}
	if d, ok := named.(reference.Digested); ok {
		return r.digest == d.Digest().String()
	}
	tag := "latest"
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	return r.tag == tag
}

// asCount reads a JSON number however it was decoded (int64 from the API server, float64 from
// encoding/json, or a string).
func asCount(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// trivySubject is an object whose reports describe a workload's containers, and the pod spec
// (or a Pod's containers) whose images its reports are compared with: neither for the
// workload's own. what names what runs them, for messages ("ReplicaSet web-7f9d8c6b5").
type trivySubject struct {
	key        trivyKey
	spec       *corev1.PodSpec
	containers []engine.Container
	what       string
}

// image is the image the subject runs in the container with the given name, "" when it says
// nothing of it (the workload's own image then).
func (s *trivySubject) image(name string) string {
	if s.spec != nil {
		return containerImage(s.spec, name)
	}
	for _, c := range s.containers {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

// trivySubjects are the objects whose reports describe a workload's containers. Trivy Operator
// scans a Deployment through its ReplicaSets, so a Deployment's reports are those of the
// ReplicaSets it controls that run pods (every one it controls when none does); other workloads
// are scanned as themselves. A ReplicaSet that the Deployment's template explains is judged
// only through the Deployment, though its template may pin the image to a digest
// (engine.Provenance takes that for admission that pins images): its reports are compared with
// the images it runs, so that a digest other than the one the tag now names is judged too.
func trivySubjects(inv *engine.Inventory, o *engine.Object) []trivySubject {
	subjects := []trivySubject{{key: trivyKey{kind: o.Kind, name: o.Name}}}
	if o.Kind != "Deployment" {
		return subjects
	}
	owned := replicaSetsByDeployment(inv, o.Namespace)[o.Name]
	var active, all []trivySubject
	for _, rs := range owned {
		s := trivySubject{key: trivyKey{kind: "ReplicaSet", name: rs.rs.Name}, what: "ReplicaSet " + rs.rs.Name}
		if rs.explained {
			s.spec = &rs.rs.Spec.Template.Spec
		}
		all = append(all, s)
		if rs.rs.Spec.Replicas == nil || *rs.rs.Spec.Replicas > 0 {
			active = append(active, s)
		}
	}
	if len(active) > 0 {
		return append(subjects, active...)
	}
	return append(subjects, all...)
}

// pinnedPods are the subjects of the Pods that the subjects' objects control and whose template
// explains them though they run an image of it pinned to a digest (engine.Provenance takes that
// for admission that pins images): Trivy Operator writes no report for such a Pod, which its
// controller's report describes only if the pinned digest is the one scanned. A Pod's image can
// be changed after it is created, by anyone who may update the Pod, to the template's image at
// any digest: without this an older digest ran behind its controller's clean report.
func pinnedPods(inv *engine.Inventory, namespace string, subjects []trivySubject) []trivySubject {
	pods := pinnedPodsByController(inv, namespace)
	if len(pods) == 0 {
		return nil
	}
	var out []trivySubject
	for _, s := range subjects {
		for _, pod := range pods[s.key] {
			out = append(out, trivySubject{key: s.key, containers: pod.Workload.Containers(), what: "Pod " + pod.Name})
		}
	}
	return out
}

// pinnedPodsByController indexes a namespace's Pods that run an image their controller's
// template names without a digest pinned to one, by that controller (engine.Inventory.Provenance:
// it exists with the UID the reference names, and its template explains the Pod), once per
// evaluation.
// (The Pods may be compact workloads, engine.CompactWorkload: their containers' images are kept.)
func pinnedPodsByController(inv *engine.Inventory, namespace string) map[trivyKey][]*engine.Object {
	objs := inv.List(namespace, "Pod")
	if len(objs) == 0 {
		return nil
	}
	return inv.Memo(objs[0], "supply-chain.pinned-pods-by-controller", func() any {
		idx := map[trivyKey][]*engine.Object{}
		for _, o := range objs {
			p := inv.Provenance(o)
			if o.Workload == nil || p == nil || !p.Explained || p.Owner.Workload == nil {
				continue
			}
			if !slices.EqualFunc(o.Workload.Containers(), p.Owner.Workload.Containers(), func(a, b engine.Container) bool { return a.Name == b.Name && a.Image == b.Image }) {
				k := trivyKey{kind: p.Owner.Kind, name: p.Owner.Name}
				idx[k] = append(idx[k], o)
			}
		}
		return idx
	}).(map[trivyKey][]*engine.Object)
}

// ownedReplicaSet is a ReplicaSet a Deployment controls; explained when the Deployment's
// template explains it (engine.Provenance).
type ownedReplicaSet struct {
	rs        *appsv1.ReplicaSet
	explained bool
}

// replicaSetsByDeployment indexes a namespace's ReplicaSets by the Deployment that controls
// them (engine.Inventory.Provenance: the Deployment exists with the UID the reference names),
// once per evaluation.
func replicaSetsByDeployment(inv *engine.Inventory, namespace string) map[string][]ownedReplicaSet {
	objs := inv.List(namespace, "ReplicaSet")
	if len(objs) == 0 {
		return nil
	}
	return inv.Memo(objs[0], "supply-chain.replicasets-by-deployment", func() any {
		idx := map[string][]ownedReplicaSet{}
		for _, o := range objs {
			rs, ok := o.Obj.(*appsv1.ReplicaSet)
			if !ok {
				continue
			}
			// Only a Deployment that really controls the ReplicaSet (the UID its reference
			// names): a forged reference does not lend a Deployment another object's reports.
			if p := inv.Provenance(o); p != nil && p.Owner != nil {
				idx[p.Ref.Name] = append(idx[p.Ref.Name], ownedReplicaSet{rs: rs, explained: p.Explained})
			}
		}
		return idx
	}).(map[string][]ownedReplicaSet)
}

// containerImage is the image of the container of a pod spec with the given name, "" when it
// has none.
func containerImage(spec *corev1.PodSpec, name string) string {
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return list[i].Image
			}
		}
	}
	return ""
}

// judgeByTrivyReports judges every container of a workload on its Trivy reports of one kind:
// judge returns "" to pass or the failure message for the container's reports; a container
// without a report is NotAssessed with missing as the reason, and so is every image volume
// (volumes[].image), which no report describes. A ReplicaSet of a Deployment that runs the
// container's image pinned to a digest (trivySubjects) must have a report for that digest: the
// container is NotAssessed while it has none, unless another report fails it. With maxAge above
// zero, the reports that would pass a container must have been written within maxAge of the
// evaluation (staleTrivyReport); and none may be writable by the namespace's own users
// (trivyReportWriter).
func judgeByTrivyReports(ctx *engine.Context, o *engine.Object, kind, missing string, maxAge time.Duration,
	judge func(c engine.Container, reports []*trivyReport) string) {
	idx := trivyReportsIn(ctx.Inventory, o.Namespace, kind)
	subjects := trivySubjects(ctx.Inventory, o)
	if len(idx) > 0 {
		subjects = append(subjects, pinnedPods(ctx.Inventory, o.Namespace, subjects)...)
	}
	for _, c := range o.Workload.Containers() {
		var reports, other []*trivyReport
		// needOwn: some subject runs the container's own image, which a report must describe
		// (ownSeen); unseen names a ReplicaSet whose pinned image no report describes.
		needOwn, ownSeen, unseen := false, false, ""
		// An image is parsed when there is a report to compare it with: most inputs have none.
		var parsed map[string]reference.Named
		named := func(image string) reference.Named {
			n, ok := parsed[image]
			if !ok {
				if parsed == nil {
					parsed = map[string]reference.Named{}
				}
				n = parseImage(image)
				parsed[image] = n
			}
			return n
		}
		for _, s := range subjects {
			k := s.key
			k.container = c.Name
			// The image a ReplicaSet pins may differ from the container's.
			image := c.Image
			if img := s.image(c.Name); img != "" {
				image = img
			}
			seen := false
			for _, r := range idx[k] {
				if r.describes(named(image)) {
					reports, seen = append(reports, r), true
				} else {
					other = append(other, r)
				}
			}
			switch {
			case image == c.Image:
				// The workload itself (Trivy Operator writes no report for a Deployment) stands
				// for its pods only when no ReplicaSet runs them.
				needOwn = needOwn || k.kind == "ReplicaSet" || len(subjects) == 1
				ownSeen = ownSeen || seen
			case !seen && unseen == "":
				unseen = fmt.Sprintf("%s runs %q, which no %s describes", s.what, image, kind)
			}
		}
		var msg string
		if len(reports) > 0 {
			msg = judge(c, reports)
		}
		switch {
		case msg != "":
			ctx.Fail(c.Name, "%s", msg)
		case unseen != "":
			ctx.NotAssessed(c.Name, unseen)
		case needOwn && !ownSeen && len(other) > 0:
			ctx.NotAssessed(c.Name, otherImageReason(kind, other, c.Image))
		case needOwn && !ownSeen || len(reports) == 0:
			ctx.NotAssessed(c.Name, missing)
		case maxAge > 0 && staleTrivyReport(reports, ctx.Now(), maxAge) != "":
			ctx.NotAssessed(c.Name, staleTrivyReport(reports, ctx.Now(), maxAge))
		case trivyReportWriter(ctx.Inventory, o.Namespace, kind) != "":
			ctx.NotAssessed(c.Name, fmt.Sprintf("%s %q is no evidence of a scan: %s",
				kind, reports[0].name, trivyReportWriter(ctx.Inventory, o.Namespace, kind)))
		case !ctx.Inventory.Complete:
			// A scan's files are their author's: a clean report among them is what the team
			// being judged wrote, not Trivy Operator's record of a scan (which the operator
			// judges in the cluster, where trivyReportWriter says whether that team could have
			// written it). A report that finds something fails above, whoever wrote it.
			ctx.NotAssessed(c.Name, fmt.Sprintf("%s %q is in the scanned files, whose author may have written it: "+
				"a clean report is evidence of a scan only as Trivy Operator writes it in the cluster, where the operator judges it",
				kind, reports[0].name))
		default:
			ctx.Pass(c.Name)
		}
	}
	// An image volume's files are read by the containers that mount it, but Trivy Operator
	// reports describe containers (trivy-operator.container.name): none describes a volume's
	// image, which is therefore not assessed rather than passed with the containers.
	for _, v := range o.Workload.Pod().ImageVolumes {
		if v.Reference == "" {
			ctx.NotAssessed("", fmt.Sprintf("image volume %q names no reference, so what it will mount is not known, and is not scanned: %ss describe containers, not image volumes", v.Name, kind))
			continue
		}
		ctx.NotAssessed("", fmt.Sprintf("image volume %q (%q) is not scanned: %ss describe containers, not image volumes", v.Name, v.Reference, kind))
	}
	if len(o.Workload.Containers()) == 0 {
		ctx.NotApplicable("", "the pod spec has no containers")
	}
}

// staleTrivyReport says why reports are too old to pass a container, or "" when each was
// written within maxAge of now: one that names no time, or the oldest one older than that. A
// scan knows the vulnerabilities published before it was made, and Trivy Operator scans every
// image again at least daily by default (scannerReportTTL 24h): an older clean report means the
// scans have stopped, not that the image is clean today.
func staleTrivyReport(reports []*trivyReport, now time.Time, maxAge time.Duration) string {
	var oldest *trivyReport
	for _, r := range reports {
		if r.updated.IsZero() {
			return fmt.Sprintf("%s %q names no report.updateTimestamp the check can read: when it was scanned, and so which vulnerabilities it could know of, is not known",
				trivyVulnerabilityKind, r.name)
		}
		if oldest == nil || r.updated.Before(oldest.updated) {
			oldest = r
		}
	}
	if oldest == nil || now.Sub(oldest.updated) <= maxAge {
		return ""
	}
	// The message names the report's time, not its age, which would change it (and the
	// ComplianceReport) at every evaluation.
	return fmt.Sprintf("%s %q was written at %s (report.updateTimestamp), more than %d days before the evaluation: critical vulnerabilities published since are not in it (Trivy Operator scans again at least daily by default)",
		trivyVulnerabilityKind, oldest.name, oldest.updated.UTC().Format(time.RFC3339), int(maxAge.Hours()/24))
}

// otherImageReason says why a container's reports decide nothing: each is for another image
// than the one the container runs, or names none.
func otherImageReason(kind string, reports []*trivyReport, image string) string {
	r := reports[0]
	var msg string
	if r.image == "" {
		msg = fmt.Sprintf("%s %q names no image (report.artifact), so it cannot be matched with the image the container runs (%q)", kind, r.name, image)
	} else {
		msg = fmt.Sprintf("%s %q is for image %q, not the image the container runs (%q): no report describes the running image yet", kind, r.name, r.image, image)
	}
	if len(reports) > 1 {
		msg += fmt.Sprintf(" (and %d more reports for other images)", len(reports)-1)
	}
	return msg
}

// worstTrivyReport is the report with the highest counters, compared in the order given.
func worstTrivyReport(reports []*trivyReport, order ...string) *trivyReport {
	worst := reports[0]
	for _, r := range reports[1:] {
		for _, k := range order {
			if r.summary[k] != worst.summary[k] {
				if r.summary[k] > worst.summary[k] {
					worst = r
				}
				break
			}
		}
	}
	return worst
}
