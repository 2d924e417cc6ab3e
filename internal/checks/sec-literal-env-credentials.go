package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var secLiteralEnvCredentials = &engine.Check{
	ID:    "sec-literal-env-credentials",
	Title: "Containers do not carry literal credentials in environment variables",
	Description: "A password, token or key written into a pod template's env is stored in plain text in " +
		"the workload object, in Git and in every copy of the manifest, and is readable by anyone who " +
		"can read the workload: confidential information is neither identified nor protected (C1.1, " +
		"CC6.1). The check flags env vars whose name looks like a credential (PASSWORD, SECRET, TOKEN, " +
		"API_KEY, PRIVATE_KEY, ACCESS_KEY, CREDENTIALS, ...) and hold a literal value, and any value " +
		"holding a PEM private key or an AWS access key id. Empty values, flags, file paths, " +
		"$(VAR) interpolations and names such as PASSWORD_FILE or SECRET_NAME pass." + supporting,
	Remediation: "Move the value into a Secret (or an external secret store) and reference it with " +
		"valueFrom.secretKeyRef or, better, a secret volume; rotate the credential, since it has been exposed.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		eachContainer(ctx, o, func(c engine.Container) string {
			var found []string
			for _, e := range c.Env {
				if e.Value == "" {
					continue
				}
				switch material := embeddedKeyMaterial(e.Value); {
				case material != "":
					found = append(found, e.Name+" ("+material+")")
				case credentialName(e.Name) && literalCredential(e.Value):
					found = append(found, e.Name+" (credential-like name)")
				}
			}
			if len(found) == 0 {
				return ""
			}
			return "literal credentials in env " + few(found, ", ")
		})
	},
}
