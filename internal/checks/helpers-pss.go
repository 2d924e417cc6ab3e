package checks

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// PodSecurityLibraryVersion is the version of k8s.io/pod-security-admission whose policy
// package decides the checks that are Pod Security Standards controls. The conformance test
// fails when the build list holds another version.
const PodSecurityLibraryVersion = "v0.37.2"

// pssControlChecks maps each Pod Security Standards control, by the library's check ID, to the
// catalogue checks that report it. The conformance test runs the library's fixtures of each
// control through these checks (a fail fixture must fail one of them); docs/checks.md lists the
// controls of each check (PodSecurityControls).
var pssControlChecks = map[string][]string{
	"allowPrivilegeEscalation":   {"wl-privilege-escalation"},
	"appArmorProfile":            {"wl-apparmor-selinux"},
	"capabilities_baseline":      {"wl-dangerous-caps"},
	"capabilities_restricted":    {"wl-drop-all-caps"},
	"hostNamespaces":             {"wl-host-namespaces", "wl-host-network"},
	"hostPathVolumes":            {"wl-hostpath"},
	"hostPorts":                  {"wl-host-port"},
	"hostProbesAndHostLifecycle": {"wl-host-probes"},
	"privileged":                 {"wl-privileged"},
	"procMount":                  {"wl-procmount"},
	"procMount_restricted":       {"wl-procmount"},
	"restrictedVolumes":          {"wl-volume-types"},
	"runAsNonRoot":               {"wl-run-as-root"},
	"runAsUser":                  {"wl-run-as-root"},
	"seLinuxOptions":             {"wl-apparmor-selinux"},
	"seccompProfile_baseline":    {"wl-seccomp"},
	"seccompProfile_restricted":  {"wl-seccomp"},
	"sysctls":                    {"wl-unsafe-sysctls"},
	"windowsHostProcess":         {"wl-windows-hostprocess", "wl-privileged", "wl-host-namespaces", "wl-hostpath"},
}

// PodSecurityControl is a Pod Security Standards control as k8s.io/pod-security-admission names
// it: the library's check ID and the level that introduces it.
type PodSecurityControl struct {
	ID    string
	Level string
}

// PodSecurityControls returns the Pod Security Standards controls a catalogue check reports,
// sorted by ID; none for a check that is not one.
func PodSecurityControls(checkID string) []PodSecurityControl {
	levels := map[policy.CheckID]psaapi.Level{}
	for _, c := range policy.DefaultChecks() {
		levels[c.ID] = c.Level
	}
	var out []PodSecurityControl
	for control, ids := range pssControlChecks {
		if slices.Contains(ids, checkID) {
			out = append(out, PodSecurityControl{ID: control, Level: string(levels[policy.CheckID(control)])})
		}
	}
	slices.SortFunc(out, func(a, b PodSecurityControl) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// pssDecided is appended to the description of every check a PSS control decides.
const pssDecided = " The verdict is Kubernetes' own: the Pod Security Standards policy of " +
	"k8s.io/pod-security-admission " + PodSecurityLibraryVersion + " (the code of the PodSecurity " +
	"admission plugin) judges the pod template at the profile's spec.podSecurity level and " +
	"version (restricted, latest by default), after the defaults the API server would apply."

// pssControl is how a check is decided by the Pod Security Standards policy of
// k8s.io/pod-security-admission: which of the library's checks decide it, and how.
//
// A check fails a pod when the library's evaluator over its own checks (own) rejects the pod at
// the profile's level and version, and the evaluator over their family (own plus every check
// that overrides one of them, or that one of them overrides, at the restricted level) rejects
// it too. The second condition keeps a baseline check that the restricted level replaces (the
// baseline capabilities check, replaced by the restricted one) from failing a pod the level
// allows; so the catalogue's PSS checks together fail a pod exactly when the library's
// evaluator over all its checks does (the conformance test checks this on every fixture).
//
// Containers are named by re-deriving the verdict: each container is judged as if the pod had
// only it, with the pod's own settings. A pod-level setting that the library rejects (a pod
// seccomp profile Unconfined) therefore fails every container it applies to.
type pssControl struct {
	// checks are the library's check IDs that decide.
	checks []policy.CheckID
	// podLevel checks judge the pod as a whole (host namespaces, volumes, sysctls): one result
	// for the object, not one per container.
	podLevel bool
	// project returns the pod spec the library judges for this check, when the check judges a
	// part of a control (hostNetwork apart from hostPID and hostIPC) or the profile exempts
	// something (allowed host ports or capabilities); nil judges the pod as it is. It must not
	// modify spec.
	project func(p *engine.Params, spec *corev1.PodSpec) *corev1.PodSpec
	// detail, when set, adds to the failure message of a pod-level check what the library does
	// not say (which host paths are sensitive or writable).
	detail func(o *engine.Object) string
	// linuxOnly, when set, names the Linux facility the control governs, which a Windows pod
	// (isWindows) does not have: a pod the library allows is then NotApplicable, not a pass.
	// The library exempts pods whose spec.os.name is windows from some restricted controls, and
	// judges a pod that only Windows nodes may run as a Linux one; either way the Windows
	// kubelet applies none of these settings, so a pass would vouch for a control that is not
	// there. A pod the library rejects still fails: Kubernetes refuses it.
	linuxOnly string
	// privileged, when set, judges a privileged container the library allows, whose fields the
	// control reads the runtime does not apply (seccomp: "Privileged containers always run as
	// Unconfined"): it returns why the container fails, or, when the spec cannot tell, why it is
	// not assessed. A pass would vouch for a confinement that is not there. wl-privileged fails
	// the container as well, but a waiver of that finding must not leave this one passing.
	privileged func(name string, m *metav1.ObjectMeta, s *corev1.PodSpec) (fail, notAssessed string)
	// beyond, when set, judges a container the library allows for what the control means and
	// the library does not read (the Windows account a container runs as, for Running as
	// Non-root): it returns why the container fails, "" when it does not. s is the pod as if it
	// held only that container; o is the object judged.
	beyond func(ctx *engine.Context, o *engine.Object, s *corev1.PodSpec) string

	once         sync.Once
	own, family  policy.Evaluator
	sameFamily   bool
	err          error
	reasonsMu    sync.Mutex
	notInForceAt map[psaapi.LevelVersion]string
}

// evaluators builds the library's evaluators once.
func (c *pssControl) evaluators() (own, family policy.Evaluator, err error) {
	c.once.Do(func() {
		all := policy.DefaultChecks()
		byID := map[policy.CheckID]policy.Check{}
		for _, ch := range all {
			byID[ch.ID] = ch
		}
		var ownChecks []policy.Check
		for _, id := range c.checks {
			ch, ok := byID[id]
			if !ok {
				c.err = fmt.Errorf("k8s.io/pod-security-admission %s has no check %q", PodSecurityLibraryVersion, id)
				return
			}
			ownChecks = append(ownChecks, ch)
		}
		familyIDs := pssFamily(all, c.checks)
		var familyChecks []policy.Check
		for _, id := range familyIDs {
			familyChecks = append(familyChecks, byID[id])
		}
		c.sameFamily = len(familyIDs) == len(c.checks)
		if c.own, c.err = policy.NewEvaluator(ownChecks, nil); c.err != nil {
			return
		}
		c.family, c.err = policy.NewEvaluator(familyChecks, nil)
	})
	return c.own, c.family, c.err
}

// pssFamily closes ids under the library's overrides: a check that overrides one of them, or
// that one of them overrides, at any version.
func pssFamily(all []policy.Check, ids []policy.CheckID) []policy.CheckID {
	family := slices.Clone(ids)
	for changed := true; changed; {
		changed = false
		for _, ch := range all {
			for _, v := range ch.Versions {
				for _, o := range v.OverrideCheckIDs {
					in, overridden := slices.Contains(family, ch.ID), slices.Contains(family, o)
					switch {
					case in && !overridden:
						family, changed = append(family, o), true
					case overridden && !in:
						family, changed = append(family, ch.ID), true
					}
				}
			}
		}
	}
	return family
}

// judgePSS reports a check decided by the Pod Security Standards.
func judgePSS(ctx *engine.Context, o *engine.Object, c *pssControl) {
	own, family, err := c.evaluators()
	if err != nil {
		ctx.NotAssessed("", "the Pod Security Standards policy could not be built: "+err.Error())
		return
	}
	lv := ctx.Params.PodSecurity
	meta := o.Workload.PodMeta
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	spec := o.Workload.PodSpec
	if needsAPIServerDefaults(spec) {
		spec = ctx.Inventory.Memo(o, "pss.defaulted-spec", func() any { return apiServerDefaults(spec) }).(*corev1.PodSpec)
	}
	if c.project != nil {
		spec = c.project(ctx.Params, spec)
	}
	results := own.EvaluatePod(lv, meta, spec)
	if len(results) == 0 {
		ctx.NotApplicable("", c.notInForce(own, lv))
		return
	}
	rejects := func(m *metav1.ObjectMeta, s *corev1.PodSpec, first []policy.CheckResult) bool {
		if allowed(first) {
			return false
		}
		return c.sameFamily || !allowed(family.EvaluatePod(lv, m, s))
	}
	if !rejects(meta, spec, results) {
		if c.linuxOnly != "" && isWindows(ctx, o) {
			ctx.NotApplicable("", windowsHasNo(c.linuxOnly))
			return
		}
		passAll(ctx, c, o, meta, spec)
		return
	}
	if c.podLevel {
		msg := pssMessage(lv, results)
		if c.detail != nil {
			if d := c.detail(o); d != "" {
				msg += "; " + d
			}
		}
		ctx.Fail("", "%s", msg)
		return
	}
	if n := len(spec.InitContainers) + len(spec.Containers) + len(spec.EphemeralContainers); n == 1 {
		// The pod's verdict is its only container's.
		name, _ := onlyContainer(spec)
		ctx.Fail(name, "%s", pssMessage(lv, results))
		return
	}
	failed := false
	eachPodContainer(spec, meta, func(name string, m *metav1.ObjectMeta, s *corev1.PodSpec) {
		r := own.EvaluatePod(lv, m, s)
		if rejects(m, s, r) {
			ctx.Fail(name, "%s", pssMessage(lv, r))
			failed = true
			return
		}
		c.pass(ctx, o, name, m, s)
	})
	if !failed {
		// The pod fails although no container alone does (or it has none): report the pod.
		ctx.Fail("", "%s", pssMessage(lv, results))
	}
}

// windowsHasNo says why a control of a Linux facility does not apply to a Windows pod.
func windowsHasNo(facility string) string {
	return "Windows pods have no " + facility + ": the Windows kubelet does not apply it"
}

// windowsNotApplicable is appended to the description of a check of a Linux facility.
func windowsNotApplicable(facility string) string {
	return " Windows pods (" + windowsPods + "), which have no " + facility + ", are not applicable."
}

// windowsPods says in a check's description which pods are judged as Windows pods
// (engine.Inventory.WindowsPodOf).
const windowsPods = "spec.os.name windows, or a node selector or required node affinity that admits only Windows " +
	"nodes; or, in the cluster, where the pod's own spec names no OS, a RuntimeClass whose scheduling.nodeSelector " +
	"admits only them (one that does not exist counts for nothing, and a scan, whose files need not hold the " +
	"cluster's, reads none) or, for a Pod bound to a node, that node's kubernetes.io/os label windows"

// passAll records a pass for the pod, or for each of its containers.
func passAll(ctx *engine.Context, c *pssControl, o *engine.Object, meta *metav1.ObjectMeta, spec *corev1.PodSpec) {
	if c.podLevel {
		ctx.Pass("")
		return
	}
	n := 0
	eachPodContainer(spec, meta, func(name string, m *metav1.ObjectMeta, s *corev1.PodSpec) {
		c.pass(ctx, o, name, m, s)
		n++
	})
	if n == 0 {
		ctx.NotApplicable("", "the pod spec has no containers")
	}
}

// pass records a pass for the container named, the only container of s, which the library
// allows; or what c.beyond says of it, or, when the container is privileged, what c.privileged
// says of it.
func (c *pssControl) pass(ctx *engine.Context, o *engine.Object, name string, m *metav1.ObjectMeta, s *corev1.PodSpec) {
	if c.beyond != nil {
		if fail := c.beyond(ctx, o, s); fail != "" {
			ctx.Fail(name, "%s", fail)
			return
		}
	}
	if c.privileged != nil {
		if _, sc := onlyContainer(s); sc != nil && isTrue(sc.Privileged) {
			switch fail, undecided := c.privileged(name, m, s); {
			case fail != "":
				ctx.Fail(name, "%s", fail)
				return
			case undecided != "":
				ctx.NotAssessed(name, undecided)
				return
			}
		}
	}
	ctx.Pass(name)
}

func allowed(results []policy.CheckResult) bool {
	for i := range results {
		if !results[i].Allowed {
			return false
		}
	}
	return true
}

// pssMessage renders the library's verdict as the PodSecurity admission plugin words it.
func pssMessage(lv psaapi.LevelVersion, results []policy.CheckResult) string {
	agg := policy.AggregateCheckResults(results)
	return "violates PodSecurity " + quotedLevelVersion(lv) + ": " + agg.ForbiddenDetail()
}

var levelVersionNames sync.Map // psaapi.LevelVersion -> string

// quotedLevelVersion is `"restricted:latest"`, computed once per level and version.
func quotedLevelVersion(lv psaapi.LevelVersion) string {
	if v, ok := levelVersionNames.Load(lv); ok {
		return v.(string)
	}
	q := fmt.Sprintf("%q", lv.String())
	levelVersionNames.Store(lv, q)
	return q
}

// onlyContainer is the name and security context of the one container of a pod spec that has
// one (eachPodContainer's): an init, an app or an ephemeral container.
func onlyContainer(spec *corev1.PodSpec) (name string, sc *corev1.SecurityContext) {
	switch {
	case len(spec.InitContainers) == 1:
		return spec.InitContainers[0].Name, spec.InitContainers[0].SecurityContext
	case len(spec.Containers) == 1:
		return spec.Containers[0].Name, spec.Containers[0].SecurityContext
	case len(spec.EphemeralContainers) == 1:
		return spec.EphemeralContainers[0].Name, spec.EphemeralContainers[0].SecurityContext
	}
	return "", nil
}

// notInForce says why the check does not apply at the level and version, computed once each.
func (c *pssControl) notInForce(own policy.Evaluator, lv psaapi.LevelVersion) string {
	c.reasonsMu.Lock()
	defer c.reasonsMu.Unlock()
	if r, ok := c.notInForceAt[lv]; ok {
		return r
	}
	var reason string
	restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: lv.Version}
	if lv.Level != psaapi.LevelRestricted && len(own.EvaluatePod(restricted, &metav1.ObjectMeta{}, &corev1.PodSpec{})) > 0 {
		reason = fmt.Sprintf("a control of the restricted Pod Security Standard; the profile asks for %s (spec.podSecurity.level)", lv.String())
	} else {
		reason = fmt.Sprintf("not a Pod Security Standards control at %s: a later version added it (spec.podSecurity.version)", lv.String())
	}
	if c.notInForceAt == nil {
		c.notInForceAt = map[psaapi.LevelVersion]string{}
	}
	c.notInForceAt[lv] = reason
	return reason
}

// eachPodContainer calls fn for every container of spec (init, regular, ephemeral: the
// order of engine.Workload.Containers) with the pod as if it held only that container. When
// meta is not nil, fn gets it without the per-container annotations of the other containers
// (container.apparmor.security.beta.kubernetes.io/<name>).
func eachPodContainer(spec *corev1.PodSpec, meta *metav1.ObjectMeta, fn func(name string, m *metav1.ObjectMeta, s *corev1.PodSpec)) {
	// One copy of the pod spec serves every container: fn must not keep it.
	s := scratchSpecs.Get().(*corev1.PodSpec)
	defer func() {
		*s = corev1.PodSpec{}
		scratchSpecs.Put(s)
	}()
	*s = *spec
	call := func(name string) {
		fn(name, onlyContainerAnnotations(meta, spec, name), s)
	}
	s.Containers, s.EphemeralContainers = nil, nil
	for i := range spec.InitContainers {
		s.InitContainers = spec.InitContainers[i : i+1]
		call(spec.InitContainers[i].Name)
	}
	s.InitContainers = nil
	for i := range spec.Containers {
		s.Containers = spec.Containers[i : i+1]
		call(spec.Containers[i].Name)
	}
	s.Containers = nil
	for i := range spec.EphemeralContainers {
		s.EphemeralContainers = spec.EphemeralContainers[i : i+1]
		call(spec.EphemeralContainers[i].Name)
	}
}

// scratchSpecs hold the one-container pod specs eachPodContainer judges.
var scratchSpecs = sync.Pool{New: func() any { return new(corev1.PodSpec) }}

// onlyContainerAnnotations drops the annotations of the form container.<anything>/<name> that
// name another container of the pod.
func onlyContainerAnnotations(meta *metav1.ObjectMeta, spec *corev1.PodSpec, keep string) *metav1.ObjectMeta {
	if meta == nil || len(meta.Annotations) == 0 {
		return meta
	}
	other := func(key string) bool {
		prefix, name, ok := strings.Cut(key, "/")
		if !ok || !strings.HasPrefix(prefix, "container.") || name == keep {
			return false
		}
		return hasContainer(spec, name)
	}
	drop := false
	for k := range meta.Annotations {
		if other(k) {
			drop = true
			break
		}
	}
	if !drop {
		return meta
	}
	m := *meta
	m.Annotations = make(map[string]string, len(meta.Annotations))
	for k, v := range meta.Annotations {
		if !other(k) {
			m.Annotations[k] = v
		}
	}
	return &m
}

func hasContainer(spec *corev1.PodSpec, name string) bool {
	for i := range spec.InitContainers {
		if spec.InitContainers[i].Name == name {
			return true
		}
	}
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return true
		}
	}
	for i := range spec.EphemeralContainers {
		if spec.EphemeralContainers[i].Name == name {
			return true
		}
	}
	return false
}

// apiServerDefaults returns the pod spec with the defaults the API server applies before the
// PodSecurity admission plugin sees a pod, where they change a verdict: a volume with no
// source is an emptyDir, and on the host network a container port's hostPort defaults to its
// containerPort. Manifests lack them; objects read from the API server have them already. The
// spec is copied only when something changes.
func apiServerDefaults(spec *corev1.PodSpec) *corev1.PodSpec {
	noSource := slices.ContainsFunc(spec.Volumes, withoutSource)
	hostPorts := spec.HostNetwork && (portsWithoutHostPort(spec.Containers) || portsWithoutHostPort(spec.InitContainers))
	if !noSource && !hostPorts {
		return spec
	}
	s := *spec
	if noSource {
		s.Volumes = slices.Clone(spec.Volumes)
		for i := range s.Volumes {
			if withoutSource(s.Volumes[i]) {
				s.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
			}
		}
	}
	if hostPorts {
		s.Containers = defaultHostNetworkPorts(spec.Containers)
		s.InitContainers = defaultHostNetworkPorts(spec.InitContainers)
	}
	return &s
}

// needsAPIServerDefaults reports whether apiServerDefaults changes the spec.
func needsAPIServerDefaults(spec *corev1.PodSpec) bool {
	return slices.ContainsFunc(spec.Volumes, withoutSource) ||
		(spec.HostNetwork && (portsWithoutHostPort(spec.Containers) || portsWithoutHostPort(spec.InitContainers)))
}

func withoutSource(v corev1.Volume) bool { return v.VolumeSource == (corev1.VolumeSource{}) }

func portsWithoutHostPort(cs []corev1.Container) bool {
	for i := range cs {
		for _, p := range cs[i].Ports {
			if p.HostPort == 0 {
				return true
			}
		}
	}
	return false
}

func defaultHostNetworkPorts(cs []corev1.Container) []corev1.Container {
	if !portsWithoutHostPort(cs) {
		return cs
	}
	out := slices.Clone(cs)
	for i := range out {
		if len(out[i].Ports) == 0 {
			continue
		}
		out[i].Ports = slices.Clone(out[i].Ports)
		for j := range out[i].Ports {
			if out[i].Ports[j].HostPort == 0 {
				out[i].Ports[j].HostPort = out[i].Ports[j].ContainerPort
			}
		}
	}
	return out
}

// withoutHostNamespaces and the following project a pod spec onto part of a control, or apply
// the profile's exemptions; they copy what they change.

// onlyHostNetwork keeps hostNetwork and clears hostPID and hostIPC.
func onlyHostNetwork(_ *engine.Params, spec *corev1.PodSpec) *corev1.PodSpec {
	if !spec.HostPID && !spec.HostIPC {
		return spec
	}
	s := *spec
	s.HostPID, s.HostIPC = false, false
	return &s
}

// withoutHostNetwork keeps hostPID and hostIPC and clears hostNetwork.
func withoutHostNetwork(_ *engine.Params, spec *corev1.PodSpec) *corev1.PodSpec {
	if !spec.HostNetwork {
		return spec
	}
	s := *spec
	s.HostNetwork = false
	return &s
}

// withoutAllowedHostPorts clears the host ports the profile allows (parameters.allowedHostPorts).
func withoutAllowedHostPorts(p *engine.Params, spec *corev1.PodSpec) *corev1.PodSpec {
	if len(p.AllowedHostPorts) == 0 {
		return spec
	}
	return mapContainers(spec, func(c *corev1.Container) bool {
		changed := false
		for _, port := range c.Ports {
			if port.HostPort != 0 && p.AllowedHostPorts[port.HostPort] {
				changed = true
			}
		}
		if !changed {
			return false
		}
		c.Ports = slices.Clone(c.Ports)
		for j := range c.Ports {
			if p.AllowedHostPorts[c.Ports[j].HostPort] {
				c.Ports[j].HostPort = 0
			}
		}
		return true
	})
}

// withoutAllowedCapabilities drops the capabilities the profile allows
// (parameters.allowedCapabilities) from each container's capabilities.add. Either may name a
// capability with the kernel's CAP_ prefix or without it, as Kubernetes does (engine.Params
// holds the profile's without it).
func withoutAllowedCapabilities(p *engine.Params, spec *corev1.PodSpec) *corev1.PodSpec {
	if len(p.AllowedCapabilities) == 0 {
		return spec
	}
	allowed := func(cp corev1.Capability) bool { return p.AllowedCapabilities[capName(cp)] }
	return mapContainers(spec, func(c *corev1.Container) bool {
		if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
			return false
		}
		add := c.SecurityContext.Capabilities.Add
		kept := slices.DeleteFunc(slices.Clone(add), allowed)
		if len(kept) == len(add) {
			return false
		}
		sc := *c.SecurityContext
		caps := *sc.Capabilities
		caps.Add = kept
		sc.Capabilities = &caps
		c.SecurityContext = &sc
		return true
	})
}

// mapContainers applies change to a copy of each container (init, regular, ephemeral) and
// returns a new spec when any changed.
func mapContainers(spec *corev1.PodSpec, change func(c *corev1.Container) bool) *corev1.PodSpec {
	s := *spec
	changed := false
	apply := func(cs []corev1.Container) []corev1.Container {
		var out []corev1.Container
		for i := range cs {
			c := cs[i]
			if change(&c) {
				if out == nil {
					out = slices.Clone(cs)
				}
				out[i] = c
				changed = true
			}
		}
		if out == nil {
			return cs
		}
		return out
	}
	s.InitContainers = apply(spec.InitContainers)
	s.Containers = apply(spec.Containers)
	if len(spec.EphemeralContainers) > 0 {
		var eph []corev1.EphemeralContainer
		for i := range spec.EphemeralContainers {
			c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
			if change(&c) {
				if eph == nil {
					eph = slices.Clone(spec.EphemeralContainers)
				}
				eph[i].EphemeralContainerCommon = corev1.EphemeralContainerCommon(c)
				changed = true
			}
		}
		if eph != nil {
			s.EphemeralContainers = eph
		}
	}
	if !changed {
		return spec
	}
	return &s
}
