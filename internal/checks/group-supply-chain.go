package checks

import "github.com/soc2-operator/soc2-operator/internal/engine"

// supplyChainChecks: E. supply chain and untrusted sources.
var supplyChainChecks = []*engine.Check{
	imgRegistryAllowlist,
	imgMutableTag,
	imgDigestPinned,
	imgSignature,
	imgPullPolicy,
	imgCriticalCVEs,
	imgEmbeddedSecrets,
	imgDeprecatedRegistry,
}
