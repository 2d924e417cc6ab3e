package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

// maxSettingsNamed bounds the settings named for one ConfigMap key.
const maxSettingsNamed = 3

var secConfigmapCredentials = &engine.Check{
	ID:    "sec-configmap-credentials",
	Title: "ConfigMaps hold no credentials",
	Description: "ConfigMaps are not confidential: they are readable by far more subjects than Secrets " +
		"(the view role, every pod that mounts them) and are never encrypted at rest. A credential " +
		"in a ConfigMap is confidential information left unprotected (C1.1, CC6.1). Each key is read " +
		"as key=value with the default rules of gitleaks " + secretrules.GitleaksVersion + " (key " +
		"material, service tokens, high-entropy values under credential-like names, also inside " +
		"configuration files); beyond those rules, stricter SOC 2 rules flag keys whose name looks " +
		"like a credential with a literal value, and configuration files whose settings end in a " +
		"credential word (db.password, client_secret, apiKey) with a literal value, and URLs with a " +
		"literal password (postgresql://user:password@host/db). Findings name " +
		"the keys and the gitleaks rules, never the values." + supporting,
	Remediation: "Move the credential into a Secret (or an external secret store) and mount it; keep " +
		"only non-confidential settings in the ConfigMap, and rotate the credential, since it has been exposed.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  []string{"ConfigMap"},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		cm, ok := o.Obj.(*corev1.ConfigMap)
		if !ok {
			ctx.NotApplicable("", "not a core/v1 ConfigMap")
			return
		}
		if _, err := secretrules.Default(); err != nil {
			ctx.NotAssessed("", err.Error())
			return
		}
		found := configMapCredentials(cm)
		if len(found) == 0 {
			ctx.Pass("")
			return
		}
		ctx.Fail("", "holds credentials in keys %s", few(found, ", "))
	},
}

// configMapCredentials describes each key of a ConfigMap that holds a credential, in key order.
func configMapCredentials(cm *corev1.ConfigMap) []string {
	var found []string
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		v := cm.Data[k]
		switch leaked, _ := leakedSecrets(k, v); {
		case leaked != "":
			found = append(found, fmt.Sprintf("%q (%s)", k, leaked))
		case credentialName(k) && literalCredential(v):
			found = append(found, fmt.Sprintf("%q (credential-like key)", k))
		case urlPassword(v):
			found = append(found, fmt.Sprintf("%q (password in a URL)", k))
		default:
			if names := credentialSettings(v, maxSettingsNamed); len(names) > 0 {
				found = append(found, fmt.Sprintf("%q (sets %s)", k, strings.Join(names, ", ")))
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		switch leaked, _ := leakedSecrets(k, string(cm.BinaryData[k])); {
		case leaked != "":
			found = append(found, fmt.Sprintf("%q (binary, %s)", k, leaked))
		case credentialName(k) && len(cm.BinaryData[k]) > 0:
			found = append(found, fmt.Sprintf("%q (binary, credential-like key)", k))
		case urlPassword(string(cm.BinaryData[k])):
			found = append(found, fmt.Sprintf("%q (binary, password in a URL)", k))
		}
	}
	return found
}
