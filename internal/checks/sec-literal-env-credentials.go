package checks

import (
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

var secLiteralEnvCredentials = &engine.Check{
	ID:    "sec-literal-env-credentials",
	Title: "Containers do not carry literal credentials in environment variables",
	Description: "A password, token or key written into a pod template's env is stored in plain text in " +
		"the workload object, in Git and in every copy of the manifest, and is readable by anyone who " +
		"can read the workload: confidential information is neither identified nor protected (C1.1, " +
		"CC6.1). Each env var is read as gitleaks reads a .env file, NAME=value, with the default rules " +
		"of gitleaks " + secretrules.GitleaksVersion + " (key material, service tokens, and high-entropy " +
		"values under credential-like names); beyond those rules, a stricter SOC 2 rule flags any " +
		"literal value under a name that says it is a credential (PASSWORD, SECRET, TOKEN, API_KEY, " +
		"PRIVATE_KEY, ACCESS_KEY, CREDENTIALS, ...), and any value holding a URL with a literal " +
		"password (postgresql://user:password@host/db), and values that are configuration (a JSON " +
		"document or name=value lines, as SPRING_APPLICATION_JSON) setting a credential-like name " +
		"to a literal value. A $(VAR) reference is expanded as the kubelet expands it when VAR is a " +
		"literal defined before it in the same container. Empty values, flags, file paths, other $(VAR) " +
		"interpolations and names such as PASSWORD_FILE or SECRET_NAME pass that rule." + supporting,
	Remediation: "Move the value into a Secret (or an external secret store) and reference it with " +
		"valueFrom.secretKeyRef or, better, a secret volume; rotate the credential, since it has been exposed.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  workload,
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		if _, err := secretrules.Default(); err != nil {
			ctx.NotAssessed("", err.Error())
			return
		}
		eachContainer(ctx, o, func(c engine.Container) string {
			var found []string
			// The values the kubelet gives the variables defined so far, where the pod
			// template holds them: a later $(NAME) expands to them.
			known := map[string]string{}
			for _, e := range c.Env {
				if e.ValueFrom != nil {
					delete(known, e.Name)
					continue
				}
				raw := e.Value
				e.Value = expandEnvValue(raw, known)
				known[e.Name] = e.Value
				if raw == "" {
					continue
				}
				// The name rule is cheap: gitleaks' rules run on what it does not flag.
				if credentialName(e.Name) && literalCredential(e.Value) {
					found = append(found, e.Name+" (credential-like name)")
				} else if leaked, _ := leakedSecrets(e.Name, e.Value); leaked != "" {
					found = append(found, e.Name+" ("+leaked+")")
				} else if urlPassword(e.Value) {
					found = append(found, e.Name+" (password in a URL)")
				} else if names := credentialSettings(e.Value, maxSettingsNamed); len(names) > 0 {
					found = append(found, e.Name+" (sets "+strings.Join(names, ", ")+")")
				}
			}
			if len(found) == 0 {
				return ""
			}
			return "literal credentials in env " + few(found, ", ")
		})
	},
}
