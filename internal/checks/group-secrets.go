package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// secretChecks: F. secrets and confidentiality.
var secretChecks = []*engine.Check{
	secLiteralEnvCredentials,
	secConfigmapCredentials,
	secSecretAsEnv,
	secPvEncryption,
	secEtcdEncryption,
}
