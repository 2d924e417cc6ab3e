package checks

import (
	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

var secEtcdEncryption = &engine.Check{
	ID:    "sec-etcd-encryption",
	Title: "Secrets are encrypted at rest in etcd",
	Description: "Without an encryption configuration on the API server (or the managed service's " +
		"envelope encryption), Secrets are stored in etcd, its snapshots and its backups in plain " +
		"text, readable by anyone with access to the datastore (C1.1, CC6.1). No Kubernetes object " +
		"is evidence of the API server's encryption configuration: a kube-apiserver static Pod " +
		"(kubeadm) names the --encryption-provider-config file but not its providers (with identity " +
		"first, Secrets are still written in plain text), anyone who may create Pods can create one " +
		"so named with any flags, and managed control planes (EKS, GKE, AKS) show neither. The check " +
		"says NotAssessed, and the configuration needs separate evidence." + supporting,
	Remediation: "Configure --encryption-provider-config with a KMS v2 (or aescbc/secretbox) provider for secrets, " +
		"or enable the managed service's secrets encryption (EKS envelope encryption, GKE application-layer " +
		"secrets encryption, AKS KMS etcd encryption), and keep that configuration as audit evidence.",
	Severity:     high,
	Criteria:     []v1alpha1.Criterion{c11, cc61},
	Targets:      []string{engine.TargetCluster},
	Requires:     "the API server's encryption configuration",
	Unassessable: true,
	Evaluate: func(ctx *engine.Context, _ *engine.Object) {
		ctx.NotAssessed("", "needs the API server's encryption configuration, which no Kubernetes object shows")
	},
}
