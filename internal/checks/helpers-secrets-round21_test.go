package checks

import "testing"

// TestArtemisMaskedPasswordsInAttributesAndURLs judges an Artemis masked password, ENC(HEX), in
// an XML attribute (bootstrap.xml's and management.xml's keyStorePassword="ENC(...)") and in an
// acceptor's or connector's URL parameters (;keyStorePassword=ENC(...)) as it was already judged
// in an element (<cluster-password>ENC(...)</cluster-password>) and in YAML: a literal. Artemis'
// default codec (DefaultSensitiveStringCodec) masks with Blowfish under a key hard-coded in it
// ("clusterpassword"), so whoever reads the ConfigMap unmasks the password (Artemis' "Masking
// Passwords" chapter: the codec "decode[s] it back into the real password"). Before, a value
// holding '(' was taken for a function call and these passed. artemis-users.properties' ENC(...)
// is a one-way hash and still passes (realmUserPassword).
func TestArtemisMaskedPasswordsInAttributesAndURLs(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"bootstrap.xml attributes": {"bootstrap.xml", "<web path=\"web\">\n  <binding uri=\"https://0.0.0.0:8443\" keyStorePath=\"/k.jks\"\n     keyStorePassword=\"ENC(-5a2376c61c668aaf)\"/>\n</web>\n", true},
		"management.xml":           {"management.xml", "<connector connector-port=\"1099\" secured=\"true\" key-store-password=\"ENC(3a34fd21b82bf2a822fa49a8d8fa115d)\"/>\n", true},
		"an acceptor's URL":        {"broker.xml", "<acceptor name=\"amqp\">tcp://0.0.0.0:5671?sslEnabled=true;keyStorePath=/k.jks;keyStorePassword=ENC(-5a2376c61c668aaf);protocols=AMQP</acceptor>\n", true},
		"a connector's URL, last":  {"broker.xml", "<connector name=\"c\">tcp://peer:61617?sslEnabled=true;trustStorePassword=ENC(32f94e9a68c45d89d962ee7dc68cb9d1)</connector>\n", true},
		"login.config":             {"login.config", "LDAP {\n  org.apache.activemq.artemis.spi.core.security.jaas.LDAPLoginModule required\n    connectionURL=\"ldap://ldap:389\"\n    connectionPassword=\"ENC(-170b9ef34d79ed12)\"\n    ;\n};\n", true},
		"a function call":          {"app.py", "db = connect(host=\"db\", password=\"getpass()\")\n", false},
		"a function of a name":     {"app.py", "db = connect(host=\"db\", password=\"ENC(pw)\")\n", false},
		"an empty mask":            {"bootstrap.xml", "<binding keyStorePassword=\"ENC()\"/>\n", false},
		"a variable":               {"bootstrap.xml", "<binding keyStorePassword=\"${KEYSTORE_PASSWORD}\"/>\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}
