package checks

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

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

// TestPersonalAccessTokenNames judges PAT, a personal access token, as the last word of a name
// after a code host's or registry's word (GITHUB_PAT, GH_PAT, GITLAB_PAT, the Azure CLI devops
// extension's AZURE_DEVOPS_EXT_PAT, ADO_PAT, DOCKERHUB_PAT, githubPat, GHPAT), as an env
// entry's name, a ConfigMap key's and a setting's in a configuration file: a token of a person
// who can push to the organisation's repositories. Before, such a name passed unless gitleaks
// recognised the token (an Azure DevOps PAT it does not). PAT elsewhere is no credential word:
// PATH, PATCH, PATTERN and SPATIAL are not PAT, nor is PAT without such a word (a pattern).
func TestPersonalAccessTokenNames(t *testing.T) {
	const token = "k3xq7zv2mfw9pb4nt6yr8hc5jd1lg0sa2ewq4rt7yu9io3pasdfg"
	tests := map[string]struct {
		name  string
		value string
		want  bool
	}{
		"GITHUB_PAT":              {"GITHUB_PAT", "Orders2024deploy", true},
		"GH_PAT":                  {"GH_PAT", token, true},
		"GITLAB_PAT":              {"GITLAB_PAT", token, true},
		"AZURE_DEVOPS_EXT_PAT":    {"AZURE_DEVOPS_EXT_PAT", token, true},
		"ADO_PAT":                 {"ADO_PAT", token, true},
		"AZDO_PAT":                {"AZDO_PAT", token, true},
		"a word between":          {"GITHUB_RUNNER_PAT", token, true},
		"DOCKERHUB_PAT":           {"DOCKERHUB_PAT", token, true},
		"camel case":              {"githubPat", token, true},
		"one word":                {"GHPAT", token, true},
		"PATH":                    {"GITHUB_PATH", "/usr/local/bin", false},
		"PATCH":                   {"GITHUB_PATCH", "0001-fix.patch", false},
		"PATTERN":                 {"GITHUB_BRANCH_PATTERN", "release-v2x", false},
		"SPATIAL":                 {"GITHUB_SPATIAL", "Orders2024deploy", false},
		"PAT alone":               {"PAT", "Orders2024deploy", false},
		"PAT without a provider":  {"URL_PAT", "Orders2024deploy", false},
		"a file":                  {"GITHUB_PAT_FILE", "/run/secrets/pat", false},
		"a variable":              {"GITHUB_PAT", "$(GH_TOKEN)", false},
		"a word ending in PAT":    {"GITHUB_SPAT", "Orders2024deploy", false},
		"no provider, one word":   {"CHAPAT", "Orders2024deploy", false},
		"a provider's PAT, first": {"GH_PAT_NAME", "ci-bot", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(%s, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			if got := keyCredential(tc.name, tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			text := "# CI\nlog_level: info\n" + tc.name + ": " + tc.value + "\n"
			if got := keyCredential("ci.yaml", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(ci.yaml, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
}

// TestOneTimePasswordSeeds judges a TOTP or HOTP seed, the shared secret every one-time code is
// derived from, under a name whose last word is SEED after OTP, TOTP, HOTP or MFA (OTP_SEED,
// TOTP_SEED, mfaSeed), or KEY after OTP, TOTP or HOTP (TOTP_KEY): whoever reads it generates the
// second factor. Before, these passed (TOTP_SECRET and an otpauth:// URI's secret= were already
// judged). SEED elsewhere (RANDOM_SEED, DB_SEED) is no credential word.
func TestOneTimePasswordSeeds(t *testing.T) {
	const seed = "JBSWY3DPEHPK3PXP"
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"OTP_SEED":        {"OTP_SEED", seed, true},
		"TOTP_SEED":       {"TOTP_SEED", seed, true},
		"HOTP_SEED":       {"ADMIN_HOTP_SEED", seed, true},
		"mfaSeed":         {"mfaSeed", seed, true},
		"TOTP_KEY":        {"TOTP_KEY", seed, true},
		"OTP_KEY":         {"OTP_KEY", seed, true},
		"RANDOM_SEED":     {"RANDOM_SEED", "42424242", false},
		"DB_SEED":         {"DB_SEED", "Orders2024deploy", false},
		"SEED alone":      {"SEED", seed, false},
		"OTP_SEED_FILE":   {"OTP_SEED_FILE", "/run/secrets/otp", false},
		"a digit count":   {"OTP_DIGITS", "6", false},
		"a seed's size":   {"TOTP_SEED_LENGTH", "32", false},
		"a variable":      {"TOTP_SEED", "${TOTP_SEED}", false},
		"an OTP's issuer": {"TOTP_ISSUER", "ACME", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(%s, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			text := "log_level: info\n" + tc.name + ": " + tc.value + "\n"
			if got := keyCredential("app.yaml", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(app.yaml, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
}

// TestDaemonDirectivePasswords judges three daemons' directives that give a password as a
// positional field, in any key (the directive names them): Net-SNMP's community strings
// (snmpd.conf's rocommunity, rwcommunity, their IPv6 forms, com2sec NAME SOURCE COMMUNITY and
// trapcommunity: SNMPv1 and v2c authenticate with the community alone, and rwcommunity's lets
// whoever holds it write the agent's objects), NUT's upsmon.conf MONITOR UPS@HOST POWER USER
// PASSWORD primary|secondary (master|slave), and ProFTPD's mod_sql SQLConnectInfo DB@HOST USER
// PASSWORD. The well-known communities public and private are judged as any other literal, as a
// well-known default password is. Before, these passed.
func TestDaemonDirectivePasswords(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"rocommunity":                 {"agentAddress udp:161\nrocommunity Orders2024 10.0.0.0/8\n", true},
		"rwcommunity, default":        {"rwcommunity private default\n", true},
		"rocommunity public":          {"rocommunity public localhost\n", true},
		"rocommunity6, a view":        {"rocommunity6 Orders2024 default -V systemonly\n", true},
		"com2sec":                     {"com2sec -Cn ctx notConfigUser default Orders2024\n", true},
		"com2sec, no context":         {"com2sec readonly 10.0.0.0/8 Orders2024\n", true},
		"trapcommunity":               {"trapcommunity Orders2024\n", true},
		"upsmon MONITOR":              {"RUN_AS_USER root\nMONITOR myups@localhost 1 upsmon Orders-2024 primary\n", true},
		"upsmon MONITOR, master":      {"MONITOR ups@nut-server:3493 1 monuser \"Orders 2024\" master\n", true},
		"SQLConnectInfo":              {"<IfModule mod_sql.c>\n  SQLConnectInfo proftpd@db.example.com:3306 proftpd Orders-2024\n</IfModule>\n", true},
		"SQLConnectInfo, a policy":    {"SQLConnectInfo ftpdb@db proftpd Orders-2024 PERSESSION\n", true},
		"a comment":                   {"# rocommunity Orders2024\n#MONITOR ups@localhost 1 upsmon Orders-2024 primary\n", false},
		"a variable community":        {"rocommunity ${SNMP_COMMUNITY} default\n", false},
		"a placeholder":               {"rocommunity <community> default\n", false},
		"a MONITOR without password":  {"MONITOR ups@localhost 1 upsmon\n", false},
		"a MONITOR of another kind":   {"MONITOR cpu 1 high load alert\n", false},
		"SQLConnectInfo, no password": {"SQLConnectInfo proftpd@db proftpd\n", false},
		"SQLConnectInfo, a variable":  {"SQLConnectInfo proftpd@db proftpd %{env:SQL_PASSWORD}\n", false},
		"prose":                       {"Set rocommunity to your community string.\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("daemon.conf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(daemon.conf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestMongoDBKeyFiles judges a MongoDB keyfile (security.keyFile, the replica set's and sharded
// cluster's shared internal-authentication key: whoever holds it joins the cluster as a member
// with full access) under any key name: the whole value is 756 to 1024 base64 characters
// (MongoDB's limit is 1024; openssl rand -base64 756, MongoDB's own instruction, gives 1008, in
// lines of 64) that decode to random bytes (most byte values present, no file's magic number, no
// ASN.1 DER: a base64 certificate without its PEM armour is public). Before, a keyfile under a
// neutral name (replicaset, internal-auth) passed.
func TestMongoDBKeyFiles(t *testing.T) {
	rng := rand.New(rand.NewChaCha8([32]byte{21}))
	random := func(n int, prefix ...byte) []byte {
		b := append([]byte{}, prefix...)
		for len(b) < n {
			b = append(b, byte(rng.Uint32()))
		}
		return b
	}
	lines := func(s string) string {
		var out strings.Builder
		for len(s) > 64 {
			out.WriteString(s[:64] + "\n")
			s = s[64:]
		}
		return out.String() + s + "\n"
	}
	b64 := base64.StdEncoding.EncodeToString
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"openssl rand -base64 756":         {"keyfile", lines(b64(random(756))), true},
		"a neutral name":                   {"replicaset", lines(b64(random(756))), true},
		"one line, 1024 characters":        {"internal-auth", b64(random(768)), true},
		"756 characters":                   {"member", b64(random(567)), true},
		"too short":                        {"member", b64(random(540)), false},
		"too long for MongoDB":             {"member", b64(random(780)), false},
		"a certificate without its armour": {"idp-cert", b64(random(700, 0x30, 0x82, 0x02, 0xb8)), false},
		"an AWS KMS ciphertext":            {"encrypted", b64(random(700, 0x01, 0x02, 0x02, 0x00)), false},
		"gzip":                             {"payload", b64(random(700, 0x1f, 0x8b, 0x08)), false},
		"text":                             {"notes", b64([]byte(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 16))), false},
		"not base64":                       {"member", lines(b64(random(756)))[:600] + "!" + lines(b64(random(756)))[600:], false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %.80q...) = %q, want a credential %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
}

// TestISCKeyStatementSecrets judges the TSIG secret of an ISC key statement (key NAME {
// algorithm ALG; secret "BASE64"; };), as BIND's named.conf, rndc.key and rndc.conf, nsupdate's
// key files and ISC DHCP's dhcpd.conf write it, under any key name: whoever holds an rndc key
// controls the name server (reload, stop, freeze, dump its zones), and a TSIG key for zone
// transfers or dynamic updates transfers or rewrites the zones it is allowed on. Before, secret
// VALUE (a one-word directive, a blank, the value) was read nowhere, and a 16- or 32-byte key has
// too little entropy for gitleaks' generic rule: these passed. A key referred to by name
// (keys { "rndc-key"; }, key DHCP_UPDATER; in a zone), a secret that is no base64 (a template's
// placeholder) and a commented-out secret are none.
func TestISCKeyStatementSecrets(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"rndc.key": {"rndc.key", "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"9j3Xh6tJ0Yh8b1o0cP0wQmV7aXlZq1ZlW0rT6yS2kE4=\";\n};\n", true},
		"named.conf, a transfer key beside options": {"named.conf", "options {\n  directory \"/var/cache/bind\";\n  allow-transfer { key \"xfer\"; };\n};\n\nkey \"xfer\" {\n  algorithm hmac-sha512;\n  secret \"Zm9vYmFyYmF6cXV4\";\n};\n", true},
		"dhcpd.conf, unquoted":                      {"dhcpd.conf", "key DHCP_UPDATER {\n  algorithm HMAC-MD5.SIG-ALG.REG.INT;\n  secret pRP5FapFoJ95JEL06sv4PQ==;\n}\n\nzone example.org. {\n  primary 127.0.0.1;\n  key DHCP_UPDATER;\n}\n", true},
		"one line, under a neutral key name":        {"ddns", "key ddns-key.example.org { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0\"; };\n", true},
		"a key referred to by name only":            {"named.conf", "controls {\n  inet 127.0.0.1 port 953 allow { 127.0.0.1; } keys { \"rndc-key\"; };\n};\ninclude \"/etc/bind/rndc.key\";\n", false},
		"a template's placeholder":                  {"rndc.key", "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"{{ .Values.rndcSecret }}\";\n};\n", false},
		"an environment reference":                  {"rndc.key", "key \"rndc-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"${RNDC_SECRET}\";\n};\n", false},
		"a commented-out secret":                    {"named.conf", "key \"xfer\" {\n  algorithm hmac-sha256;\n  // secret \"Zm9vYmFyYmF6cXV4\";\n  # secret \"Zm9vYmFyYmF6cXV4\";\n};\n", false},
		"prose":                                     {"README", "The key is kept secret and rotated monthly.\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestAptAuthConfPasswords judges apt's auth.conf (apt_auth.conf(5): machine HOST login USER
// password VALUE, the .netrc format, read from /etc/apt/auth.conf and from the *.conf files of
// /etc/apt/auth.conf.d) as a .netrc is judged: a ConfigMap key named auth.conf, or any key
// ending in .conf (a file of auth.conf.d), whose first entry is a machine with a login, with a
// literal password. Whoever reads the ConfigMap pulls from (and with some repositories,
// publishes to) the package repository as the user. Before, only keys named .netrc, netrc or
// _netrc were read so, and these passed. Other .conf files, and other programs' auth.conf, with
// a password line (password = VALUE is the settings readers') are not read as netrc.
func TestAptAuthConfPasswords(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"auth.conf, one line":               {"auth.conf", "machine apt.internal.example.com login deploy password Tr0ub4dorApt\n", true},
		"auth.conf, a token a line":         {"auth.conf", "# internal mirror\nmachine apt.internal.example.com\nlogin deploy\npassword Tr0ub4dorApt\n", true},
		"a file of auth.conf.d":             {"internal-mirror.conf", "machine https://apt.internal.example.com/debian login deploy password Tr0ub4dorApt\n", true},
		"auth.conf, no password":            {"auth.conf", "machine apt.internal.example.com login deploy\n", false},
		"a reference":                       {"auth.conf", "machine apt.internal.example.com login deploy password ${APT_PASSWORD}\n", false},
		"another program's auth.conf":       {"auth.conf", "[auth]\nuser = deploy\npassword = ${AUTH_PASSWORD}\n", false},
		"another .conf's password line":     {"proxy.conf", "listen 8080\npassword required\n", false},
		"a .conf not starting with machine": {"app.conf", "server apt.internal.example.com\nmachine learning enabled\npassword hunter2x\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestTacacsSharedKeys judges the TACACS+ shared secret of tac_plus's configuration (tac_plus.conf:
// key = VALUE at top level or in a host block; tac_plus-ng: key = VALUE in a host or device
// block), quoted or not: whoever reads the ConfigMap speaks TACACS+ to the server as any network
// device it serves (authenticates users, reads their authorisations, writes accounting) and reads
// the traffic of its devices. Before, key is no credential word and these passed. The text must
// read as tac_plus's (its name or words say tac_plus or TACACS, or it has tac_plus's blocks, user =
// NAME {, host = NAME {); a template's placeholder, a file, a commented-out key and another
// program's key = VALUE are none.
func TestTacacsSharedKeys(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"tac_plus.conf, top level":                {"tac_plus.conf", "# tac_plus configuration\nkey = Tr0ub4dorTacacs\naccounting file = /var/log/tac_plus.acct\n", true},
		"tac_plus.conf, quoted, a neutral key":    {"config", "accounting file = /var/log/tac.acct\nkey = \"shared secret 42\"\n\nuser = admin {\n  default service = permit\n  login = PAM\n}\n", true},
		"a host block":                            {"tac_plus.conf", "host = 10.0.0.1 {\n  key = \"SwitchKey-17\"\n  prompt = \"Welcome\"\n}\n", true},
		"tac_plus-ng, a device block on one line": {"tac_plus-ng.cfg", "id = tac_plus {\n  device world { address = 0.0.0.0/0 key = demo-Key9 }\n}\n", true},
		"a template's placeholder":                {"tac_plus.conf", "key = \"{{ .Values.tacacsKey }}\"\nuser = admin {\n  login = PAM\n}\n", false},
		"an environment reference":                {"tac_plus.conf", "key = ${TACACS_KEY}\n", false},
		"a commented-out key":                     {"tac_plus.conf", "# key = Tr0ub4dorTacacs\naccounting file = /var/log/tac.acct\n", false},
		"another program's key = VALUE":           {"app.conf", "[index]\nkey = customer_id\nname = orders\n", false},
		"prose":                                   {"README", "tac_plus reads its key from the configuration file.\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestPulsarTokenAuthParameters judges Apache Pulsar's token authentication parameters given
// inline (client.conf's authParams=token:VALUE, broker.conf's and the proxy's
// brokerClientAuthenticationParameters=token:VALUE, the function worker's YAML), whatever the
// token looks like: whoever reads the ConfigMap produces and consumes as the token's role (with
// the broker's own client token, as the superuser the brokers talk to each other as). Before,
// neither name is a credential word and a token that is no JWT (gitleaks' rule) passed. A
// file:///path reference, a placeholder and a commented-out line are none.
func TestPulsarTokenAuthParameters(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"client.conf":                {"client.conf", "webServiceUrl=http://pulsar:8080/\nauthPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken\nauthParams=token:pulsar-tenant-Tok3n\n", true},
		"broker.conf":                {"broker.conf", "brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken\nbrokerClientAuthenticationParameters=token:superuser-Tok3n-2026\n", true},
		"the function worker's YAML": {"functions_worker.yml", "brokerClientAuthenticationParameters: \"token:fw-Tok3n-77\"\n", true},
		"a file reference":           {"client.conf", "authParams=file:///pulsar/tokens/client/token\n", false},
		"a token file reference":     {"broker.conf", "brokerClientAuthenticationParameters=file:///pulsar/tokens/broker/token\n", false},
		"a placeholder":              {"client.conf", "authParams=token:${PULSAR_TOKEN}\n", false},
		"a template":                 {"client.conf", "authParams=token:{{ .Values.pulsar.token }}\n", false},
		"a commented-out line":       {"client.conf", "# authParams=token:pulsar-tenant-Tok3n\n", false},
		"prose":                      {"README", "Set authParams to token:<your token> or file:///path.\n", false},
		"another setting's token:":   {"analysis.conf", "tokenizer=token:whitespace\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestDovecotStaticPassdbPasswords judges Dovecot's static passdb given a literal password
// (passdb { driver = static; args = password=VALUE } and the older passdb static { args = ... }):
// every user logs in with that one password, so whoever reads the ConfigMap reads every mailbox
// the server holds (IMAP, POP3, SMTP submission). Before, args is no credential word and these
// passed. nopassword=y, a %{...} variable, another driver's args and a commented-out line are none.
func TestDovecotStaticPassdbPasswords(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"driver = static":                 {"dovecot.conf", "passdb {\n  driver = static\n  args = password=Mailb0xes-All\n}\n", true},
		"passdb static":                   {"10-auth.conf", "passdb static {\n  args = password=Mailb0xes-All\n}\n", true},
		"passdb static, other args first": {"10-auth.conf", "passdb static {\n  args = allow_nets=10.0.0.0/8 password=Mailb0xes-All\n}\n", true},
		"args before driver":              {"auth-static.conf.ext", "passdb {\n  args = password=\"Mailb0xes All\"\n  driver = static\n}\n", true},
		"nopassword":                      {"dovecot.conf", "passdb {\n  driver = static\n  args = nopassword=y\n}\n", false},
		"a variable":                      {"dovecot.conf", "passdb {\n  driver = static\n  args = password=%{user}\n}\n", false},
		"a placeholder":                   {"dovecot.conf", "passdb {\n  driver = static\n  args = password=${DOVECOT_PASSWORD}\n}\n", false},
		"another driver":                  {"dovecot.conf", "passdb {\n  driver = passwd-file\n  args = scheme=CRYPT username_format=%u /etc/dovecot/users\n}\n", false},
		"a commented-out line":            {"dovecot.conf", "passdb {\n  driver = static\n  #args = password=Mailb0xes-All\n  args = nopassword=y\n}\n", false},
		"prose":                           {"README", "A static passdb takes args = password=<value> for every user.\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}
