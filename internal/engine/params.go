package engine

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	psaapi "k8s.io/pod-security-admission/api"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Params are the profile's check parameters with defaults filled in.
type Params struct {
	// AllowedRegistries are image prefixes; empty means img-registry-allowlist cannot decide.
	AllowedRegistries []string
	// RequiredLabels are label keys workloads must carry.
	RequiredLabels []string
	// AllowedHostPorts are host ports that may be used.
	AllowedHostPorts map[int32]bool
	// AllowedCapabilities are capabilities that may be added besides NET_BIND_SERVICE, by the
	// name Kubernetes gives them (NET_ADMIN): a profile may also name one as the kernel does
	// (CAP_NET_ADMIN), which the runtime makes of Kubernetes' name.
	AllowedCapabilities map[string]bool
	// MinReplicas is the replica count long-running controllers need.
	MinReplicas int32
	// PodSecurity is the Pod Security Standards level and version that decide the checks that
	// are PSS controls (spec.podSecurity; restricted, latest by default).
	PodSecurity psaapi.LevelVersion
}

// DefaultPodSecurity is the Pod Security Standards level and version when the profile sets none.
var DefaultPodSecurity = psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}

// podSecurityFrom parses spec.podSecurity. A bad level or version is a problem of the profile
// (the CRD schema stops it at the API server; a profile file given to scan is not checked
// there) and the default takes its place.
func podSecurityFrom(ps *v1alpha1.PodSecurity) (psaapi.LevelVersion, []Problem) {
	lv := DefaultPodSecurity
	if ps == nil {
		return lv, nil
	}
	var problems []Problem
	switch ps.Level {
	case "":
	case v1alpha1.PodSecurityBaseline, v1alpha1.PodSecurityRestricted:
		lv.Level = psaapi.Level(ps.Level)
	default:
		problems = append(problems, Problem{Reason: v1alpha1.ReasonInvalidProfile, Field: "spec.podSecurity.level",
			Message: fmt.Sprintf("spec.podSecurity.level: unknown Pod Security Standards level %q: want baseline or restricted", ps.Level)})
	}
	if ps.Version != "" {
		v, err := psaapi.ParseVersion(ps.Version)
		if err != nil {
			problems = append(problems, Problem{Reason: v1alpha1.ReasonInvalidProfile, Field: "spec.podSecurity.version",
				Message: fmt.Sprintf("spec.podSecurity.version: %q is not a Pod Security Standards version: want latest or v1.N", ps.Version)})
		} else {
			lv.Version = v
		}
	}
	return lv, problems
}

// DefaultRequiredLabels are required when the profile names none.
var DefaultRequiredLabels = []string{"app.kubernetes.io/name"}

// DefaultMinReplicas is required when the profile sets none.
const DefaultMinReplicas = 2

func paramsFrom(p *v1alpha1.CheckParameters) Params {
	out := Params{
		RequiredLabels:      DefaultRequiredLabels,
		MinReplicas:         DefaultMinReplicas,
		AllowedHostPorts:    map[int32]bool{},
		AllowedCapabilities: map[string]bool{},
		PodSecurity:         DefaultPodSecurity,
	}
	if p == nil {
		return out
	}
	out.AllowedRegistries = p.AllowedRegistries
	if len(p.RequiredLabels) > 0 {
		out.RequiredLabels = p.RequiredLabels
	}
	for _, port := range p.AllowedHostPorts {
		out.AllowedHostPorts[port] = true
	}
	for _, c := range p.AllowedCapabilities {
		out.AllowedCapabilities[strings.TrimPrefix(c, "CAP_")] = true
	}
	if p.MinReplicas != nil {
		out.MinReplicas = *p.MinReplicas
	}
	return out
}

// notInImagePrefix are characters no image name holds: glob syntax and blank space.
const notInImagePrefix = "*?[]{} \t\n\\"

// registryProblems names the profile's allowedRegistries entries that no image can start with:
// img-registry-allowlist compares each entry with the start of an image's repository spelled in
// full, so a glob (ghcr.io/acme/*, *.corp.example.com/), a URL (https://ghcr.io/acme/), blank
// space, a tag or digest (ghcr.io/acme/web:1.4.2, nginx:1.27) or upper case in the path
// (ghcr.io/Acme/, which no repository has: the reference grammar allows lower case only)
// allows nothing, and every image it was meant to allow fails at High severity. The entry
// stays in force (it allows what it allowed); the problem says what to write instead.
func registryProblems(p *v1alpha1.CheckParameters) []Problem {
	if p == nil {
		return nil
	}
	var problems []Problem
	for i, prefix := range p.AllowedRegistries {
		field := fmt.Sprintf("spec.parameters.allowedRegistries[%d]", i)
		msg := fmt.Sprintf("%s: %q is not an image prefix: entries are compared with the start of each image's repository spelled in full (registry host, then path in lower case), with no wildcards, no URL scheme and no tag or digest", field, prefix)
		_, rest, scheme := strings.Cut(prefix, "://")
		switch {
		case scheme || strings.ContainsAny(prefix, notInImagePrefix):
			if !scheme {
				rest = prefix
			}
			if fixed := strings.TrimRight(rest, "*"); fixed != "" && !strings.ContainsAny(fixed, notInImagePrefix) {
				msg += fmt.Sprintf("; write %q", fixed)
			}
		case repositoryOf(prefix) != prefix:
			msg += fmt.Sprintf("; write %q", repositoryOf(prefix))
		default:
			continue
		}
		problems = append(problems, Problem{Reason: v1alpha1.ReasonInvalidProfile, Field: field, Message: msg})
	}
	return problems
}

// repositoryOf is the repository prefix an allowedRegistries entry written as an image means:
// without its digest or tag, its path in lower case. A colon is a tag's after the last "/", or
// in an entry without one when what follows is not a port ("nginx:1.27", not "registry:5000").
func repositoryOf(entry string) string {
	name, _, _ := strings.Cut(entry, "@")
	slash := strings.LastIndexByte(name, '/')
	if i := strings.LastIndexByte(name, ':'); i > slash && (slash >= 0 || !allDigits(name[i+1:])) {
		name = name[:i]
	}
	if host, path, ok := strings.Cut(name, "/"); ok {
		name = host + "/" + strings.ToLower(path)
	}
	return name
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// labelProblems names the profile's requiredLabels entries that are not label keys: the API
// server refuses such a key on every object (it validates label keys as qualified names), so
// chg-ownership-labels would fail every workload for lacking it, silently. The entry stays
// required; the problem says why nothing can carry it.
func labelProblems(p *v1alpha1.CheckParameters) []Problem {
	if p == nil {
		return nil
	}
	var problems []Problem
	for i, key := range p.RequiredLabels {
		errs := validation.IsQualifiedName(key)
		if len(errs) == 0 {
			continue
		}
		field := fmt.Sprintf("spec.parameters.requiredLabels[%d]", i)
		problems = append(problems, Problem{Reason: v1alpha1.ReasonInvalidProfile, Field: field,
			Message: fmt.Sprintf("%s: %q is not a label key, so no object can carry it and every workload fails chg-ownership-labels: %s",
				field, key, strings.Join(errs, "; "))})
	}
	return problems
}
