package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var secSecretAsEnv = &engine.Check{
	ID:    "sec-secret-as-env",
	Title: "Containers read Secrets from volumes, not environment variables",
	Description: "A Secret exposed as an environment variable is inherited by every child process, shows " +
		"up in crash dumps, debug endpoints and logs that print the environment, and cannot be " +
		"rotated without a restart; a secret volume avoids all of that (C1.1). The check flags " +
		"env valueFrom.secretKeyRef (unless a later entry of the same name, not an optional reference " +
		"the kubelet skips when what it names is missing, replaces it unread) and " +
		"envFrom.secretRef." + supporting,
	Remediation: "Mount the Secret as a volume (or a projected volume) and have the application read the file; " +
		"where the application only reads the environment, keep the exposure as small as possible and record the exception.",
	Severity: low,
	Criteria: []v1alpha1.Criterion{c11},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			var uses []string
			for i, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !replacedUnread(c.Env, i) {
					ref := e.ValueFrom.SecretKeyRef
					uses = append(uses, fmt.Sprintf("env %s from Secret %q key %q", e.Name, ref.Name, ref.Key))
				}
			}
			for _, from := range c.EnvFrom {
				if from.SecretRef != nil {
					uses = append(uses, fmt.Sprintf("envFrom Secret %q", from.SecretRef.Name))
				}
			}
			if len(uses) == 0 {
				return ""
			}
			return "reads Secrets into the environment: " + few(uses, ", ")
		})
	},
}

// replacedUnread reports whether the variable env[i] defines is defined again later by an
// entry the kubelet always sets (engine.SurelySet), and no entry from i to that definition
// takes its value with $(NAME). The kubelet sets the variables in order, each expanding
// $(NAME) with those set before it, a later entry of the same name replacing an earlier one
// (makeEnvironmentVariables, k8s.io/kubernetes v1.37.2 pkg/kubelet): such a value is never in
// the environment. An optional reference to a ConfigMap or Secret key that is missing is
// skipped, and replaces nothing.
func replacedUnread(env []corev1.EnvVar, i int) bool {
	ref := "$(" + env[i].Name + ")"
	for _, e := range env[i+1:] {
		if strings.Contains(e.Value, ref) {
			return false
		}
		if e.Name == env[i].Name && engine.SurelySet(e) {
			return true
		}
	}
	return false
}
