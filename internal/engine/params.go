package engine

import (
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
	// AllowedCapabilities are capabilities that may be added besides NET_BIND_SERVICE.
	AllowedCapabilities map[string]bool
	// MinReplicas is the replica count long-running controllers need.
	MinReplicas int32
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
		out.AllowedCapabilities[c] = true
	}
	if p.MinReplicas != nil {
		out.MinReplicas = *p.MinReplicas
	}
	return out
}
