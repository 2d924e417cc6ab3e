package v1alpha1

// PodSecurityLevel is a Pod Security Standards level the checks that are PSS controls judge
// at.
// +kubebuilder:validation:Enum=baseline;restricted
type PodSecurityLevel string

// Pod Security Standards levels.
const (
	// PodSecurityBaseline prevents known privilege escalations: the checks of restricted-only
	// controls say NotApplicable.
	PodSecurityBaseline PodSecurityLevel = "baseline"
	// PodSecurityRestricted is the hardened level: every control is judged.
	PodSecurityRestricted PodSecurityLevel = "restricted"
)

// PodSecurityLatest is the version that follows the newest Pod Security Standards.
const PodSecurityLatest = "latest"

// PodSecurity selects the Pod Security Standards level and version that decide the checks that
// are PSS controls, as a namespace's pod-security.kubernetes.io/enforce and enforce-version
// labels do.
type PodSecurity struct {
	// level is baseline or restricted. Default restricted. At baseline, the checks of
	// restricted-only controls (wl-run-as-root, wl-privilege-escalation, wl-drop-all-caps,
	// wl-volume-types) say NotApplicable.
	// +optional
	// +kubebuilder:default=restricted
	Level PodSecurityLevel `json:"level,omitempty"`

	// version is "latest" or a Kubernetes minor version such as v1.33: the controls as that
	// release defined them. A version newer than the library knows is judged as latest.
	// Default latest.
	// +optional
	// +kubebuilder:default=latest
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^(latest|v1\.(0|[1-9][0-9]{0,2}))$`
	Version string `json:"version,omitempty"`
}
