package checks

import "testing"

// TestAlertmanagerReceiverKeysInFlowStyleAndJSON judges Alertmanager's receiver keys
// (alertmanagerReceiverKeys) written in YAML's flow style or as JSON, as Alertmanager also
// reads its configuration (JSON is YAML) and as the Prometheus Operator's and Helm charts'
// generated configurations often are. Before, the reader took block-style YAML only
// (pagerduty_configs:\n  - routing_key: KEY), and these passed.
func TestAlertmanagerReceiverKeysInFlowStyleAndJSON(t *testing.T) {
	const key = "1111aaaa2222bbbb1111aaaa2222bbbb"
	tests := map[string]struct {
		text string
		want bool
	}{
		"JSON, one line":                     {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "` + key + `"}]}]}`, true},
		"JSON, indented":                     {"{\n  \"receivers\": [\n    {\n      \"name\": \"po\",\n      \"pushover_configs\": [\n        {\n          \"user_key\": \"Orders2024deploy\",\n          \"token_file\": \"/etc/po/token\"\n        }\n      ]\n    }\n  ]\n}\n", true},
		"flow style, one line":               {"receivers: [{name: pd, pagerduty_configs: [{routing_key: " + key + "}]}]\n", true},
		"a block list, a flow item":          {"receivers:\n- name: pd\n  pagerduty_configs:\n  - {send_resolved: true, service_key: '" + key + "'}\n", true},
		"JSON, a key file":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/etc/pd/key"}]}]}`, false},
		"JSON, a template":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "{{ .Values.pdKey }}"}]}]}`, false},
		"JSON, a variable":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": "${PD_ROUTING_KEY}"}]}]}`, false},
		"JSON, an empty key":                 {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key": ""}]}]}`, false},
		"JSON, AMQP's routing_key elsewhere": {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/k"}]}, {"name": "wh", "webhook_configs": [{"url": "http://relay", "routing_key": "orders.created"}]}]}`, false},
		"flow style, a name in a string":     {"receivers: [{name: 'pagerduty_configs', webhook_configs: [{url: 'http://relay', routing_key: orders.created}]}]\n", false},
		"an unclosed list":                   {`{"receivers": [{"name": "pd", "pagerduty_configs": [{"routing_key_file": "/k"`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("alertmanager.yml", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(alertmanager.yml, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestCntlmPasswords judges Cntlm's credentials for its parent proxy: Password (the password
// itself) and PassLM, PassNT and PassNTLMv2 (its hashes, which NTLM authenticates with as it
// would with the password: whoever holds them logs in to the proxy as the user), in a key
// named cntlm.conf or cntlm.ini, and the hashes' directives (Cntlm's own words) in any key.
// Before, these passed.
func TestCntlmPasswords(t *testing.T) {
	const conf = "Username deploy\nDomain CORP\nProxy 10.0.0.1:8080\nListen 3128\n"
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"Password":                  {"cntlm.conf", conf + "Password Orders-2024\n", true},
		"Password, tab, mixed case": {"cntlm.ini", conf + "password\tOrders-2024\n", true},
		"PassNTLMv2":                {"cntlm.conf", conf + "PassNTLMv2 4AC2E4F3C5B3A4B5C6D7E8F9A0B1C2D3\n", true},
		"PassNT and PassLM":         {"proxy.conf", conf + "PassLM 1AD35398BE6565DDB5C4EF70C0593492\nPassNT 77B9081511704EE852F94227CF48A793\n", true},
		"commented out":             {"cntlm.conf", conf + "#Password Orders-2024\n# PassNTLMv2 4AC2E4F3C5B3A4B5C6D7E8F9A0B1C2D3\n", false},
		"no password":               {"cntlm.conf", conf, false},
		"a variable":                {"cntlm.conf", conf + "Password ${CNTLM_PASSWORD}\n", false},
		"a placeholder":             {"cntlm.conf", conf + "PassNTLMv2 <hash>\n", false},
		"Password elsewhere":        {"proxy.conf", "Password Orders-2024\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestDovecotPlainPasswords judges a Dovecot passwd-file entry whose password is in a plain
// scheme, USER:{PLAIN}PASSWORD[:UID:GID:...] ({CLEARTEXT}, {PLAIN-TRUNC} and the base64 forms
// {PLAIN.b64} too), in any key: the scheme says it is the password itself. A hashed scheme
// ({SHA512-CRYPT}$6$...) passes, as HAProxy's and PgBouncer's hashes do. Before, a key not
// named for a password (users) passed.
func TestDovecotPlainPasswords(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"PLAIN":                 {"deploy:{PLAIN}Orders-2024\n", true},
		"PLAIN, with fields":    {"deploy@corp:{PLAIN}Orders-2024:1000:1000::/home/deploy::userdb_mail=maildir:~/Mail\n", true},
		"CLEARTEXT, lower case": {"# users\ndeploy:{cleartext}Orders-2024::\n", true},
		"PLAIN.b64":             {"deploy:{PLAIN.b64}T3JkZXJzLTIwMjQ=\n", true},
		"a hashed scheme":       {"deploy:{SHA512-CRYPT}$6$abcdefgh$Zt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3Bc\n", false},
		"a variable":            {"deploy:{PLAIN}${MAIL_PASSWORD}\n", false},
		"an empty password":     {"deploy:{PLAIN}:1000:1000\n", false},
		"a comment":             {"# deploy:{PLAIN}Orders-2024\n", false},
		"prose":                 {"Use a scheme such as {PLAIN} for testing only\n", false},
		"JSON":                  {"{\"mode\":{plain}Orders-2024\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("users", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(users, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestNTPSymmetricKeys judges ntpd's, NTPsec's and chrony's symmetric keys file (a key named
// ntp.keys, chrony.keys or keys): a line ID TYPE KEY (1 SHA1 40-HEX, 2 M ASCII) or chrony's ID
// [TYPE] HEX:... or ASCII:...; whoever holds a key can serve the clients that trust it a
// forged time (and so expire or revive certificates and tokens). Before, these passed.
func TestNTPSymmetricKeys(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"ntpd, SHA1 hex":          {"ntp.keys", "# ntp keys\n1 SHA1 a8f3e0c2b4d6e8f0a2c4e6f8b0d2e4f6a8c0e2f4\n", true},
		"ntpd, M ASCII":           {"ntp.keys", "2 M Orders-2024\n", true},
		"/etc/ntp/keys":           {"keys", "15 MD5 Orders2024deploy # server\n", true},
		"chrony, HEX":             {"chrony.keys", "1 SHA256 HEX:a8f3e0c2b4d6e8f0a2c4e6f8b0d2e4f6a8c0e2f4a8f3e0c2b4d6e8f0\n", true},
		"chrony, no type":         {"chrony.keys", "10 ASCII:Orders-2024\n", true},
		"comments only":           {"ntp.keys", "# 1 SHA1 a8f3e0c2b4d6e8f0a2c4e6f8b0d2e4f6a8c0e2f4\n", false},
		"a variable":              {"ntp.keys", "1 SHA1 ${NTP_KEY}\n", false},
		"an unknown type":         {"ntp.keys", "1 FOO Orders-2024\n", false},
		"not a key id":            {"keys", "a SHA1 a8f3e0c2b4d6e8f0a2c4e6f8b0d2e4f6a8c0e2f4\n", false},
		"another file named keys": {"keys", "orders\npayments\n", false},
		"another name":            {"ntp.conf", "1 SHA1 a8f3e0c2b4d6e8f0a2c4e6f8b0d2e4f6a8c0e2f4\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestAlertmanagerReceiverKeysOnTheNextLine judges a receiver key whose value is on the lines
// after it: a block scalar (routing_key: |- then the key, as Helm's toYaml and the Prometheus
// Operator's generated configurations write long strings) or a plain scalar continued on the
// next line (routing_key: then the key, more indented). Before, the value was read on the
// key's line only, found empty or '|-', and these passed.
func TestAlertmanagerReceiverKeysOnTheNextLine(t *testing.T) {
	const key = "1111aaaa2222bbbb1111aaaa2222bbbb"
	tests := map[string]struct {
		text string
		want bool
	}{
		"a literal block scalar":  {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: |-\n      " + key + "\n    send_resolved: true\n", true},
		"a folded block scalar":   {"receivers:\n- name: pd\n  pagerduty_configs:\n  - service_key: >\n      " + key + "\n", true},
		"a plain scalar":          {"receivers:\n- name: po\n  pushover_configs:\n  - user_key:\n      Orders2024deploy\n", true},
		"an empty key":            {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key:\n    send_resolved: true\n", false},
		"a block scalar variable": {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: |-\n      ${PD_KEY}\n", false},
		"a key file after":        {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key:\n  - routing_key_file: /k\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("alertmanager.yml", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(alertmanager.yml, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestJAASUserPasswords judges the user_NAME="PASSWORD" options of a JAAS login module, the
// users Kafka's PlainLoginModule and ZooKeeper's DigestLoginModule accept (user_admin, user_super:
// ZooKeeper's super user), in a JAAS file (kafka_server_jaas.conf), in Kafka's sasl.jaas.config
// property, and in env (KAFKA_OPTS-like variables holding the property's value). No credential
// word names them. Before, these passed.
func TestJAASUserPasswords(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"Kafka's JAAS file":      {"kafka_server_jaas.conf", "KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n  username=\"admin\"\n  password=\"${ADMIN_PW}\"\n  user_admin=\"${ADMIN_PW}\"\n  user_alice=\"Orders-2024\";\n};\n", true},
		"ZooKeeper's super user": {"jaas.conf", "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_super=Orders-2024;\n};\n", true},
		"sasl.jaas.config":       {"server.properties", "listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"${X}\" user_alice=\"Orders-2024\";\n", true},
		"references only":        {"kafka_server_jaas.conf", "KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n  user_admin=\"${ADMIN_PW}\";\n};\n", false},
		"no login module":        {"app.conf", "user_alice=\"Orders-2024\"\n", false},
		"a user name option":     {"jaas.conf", "Client {\n  com.sun.security.auth.module.Krb5LoginModule required\n  user_principal=\"kafka/broker@CORP\"\n  useKeyTab=true;\n};\n", false},
		"a placeholder":          {"jaas.conf", "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_super=\"<password>\";\n};\n", false},
		"a comment":              {"jaas.conf", "Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  // user_super=\"Orders-2024\"\n  user_bob=\"${BOB}\";\n};\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%s, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
			if got := envCredential("KAFKA_JAAS_CONFIG", tc.text); (got != "") != tc.want {
				t.Errorf("envCredential(KAFKA_JAAS_CONFIG, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestFreeRADIUSUserPasswords judges FreeRADIUS's users file (mods-config/files/authorize) check
// items that give a user's password: Cleartext-Password, User-Password and version 4's
// Password.Cleartext, and NT-Password (the NT hash, which MS-CHAP authenticates with as with the
// password), in any key: the attribute names are FreeRADIUS's own. Before, these passed.
func TestFreeRADIUSUserPasswords(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"Cleartext-Password":      {"bob Cleartext-Password := \"Orders-2024\"\n\tReply-Message := \"Hello, %{User-Name}\"\n", true},
		"User-Password, unquoted": {"DEFAULT Auth-Type := Accept\nalice User-Password == Orders-2024\n", true},
		"Password.Cleartext, v4":  {"bob Password.Cleartext := \"Orders-2024\"\n", true},
		"NT-Password":             {"bob NT-Password := 0x8846F7EAEE8FB117AD06BDD830B7586C\n", true},
		"after other check items": {"bob Huntgroup-Name == \"vpn\", Cleartext-Password := \"Orders-2024\"\n", true},
		"a comment":               {"#bob Cleartext-Password := \"Orders-2024\"\n", false},
		"an expansion":            {"bob Cleartext-Password := \"%{env:BOB_PASSWORD}\"\n", false},
		"a variable":              {"bob Cleartext-Password := \"${BOB_PASSWORD}\"\n", false},
		"a reply item named so":   {"bob Auth-Type := Accept\n\tReply-Message := \"Cleartext-Password is not used\"\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("authorize", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(authorize, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestSNMPv3UserPassphrases judges Net-SNMP's createUser directive (snmpd.conf): createUser
// [-e ENGINEID] USER AUTHPROTO AUTHPASS [PRIVPROTO [PRIVPASS]], whose passphrases let whoever
// holds them read (and, for a read-write user, set) the agent's data. Before, it passed.
func TestSNMPv3UserPassphrases(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"auth and priv":        {"createUser monitor SHA \"Orders-2024\" AES \"Orders-2025\"\nrouser monitor\n", true},
		"an engine id":         {"createUser -e 0x8000000001020304 monitor SHA-512 Orders-2024\n", true},
		"priv only literal":    {"createUser monitor SHA ${AUTH_PASS} AES Orders-2025\n", true},
		"variables":            {"createUser monitor SHA ${AUTH_PASS} AES ${PRIV_PASS}\n", false},
		"a comment":            {"# createUser monitor SHA \"Orders-2024\" AES \"Orders-2025\"\n", false},
		"no passphrase":        {"createUser monitor\n", false},
		"not an auth protocol": {"createUser monitor FOO Orders-2024\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("snmpd.conf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(snmpd.conf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestCredsAbbreviation judges CREDS and CRED, the common abbreviation of CREDENTIALS, as the
// last word of a name (SMB_CREDS, DOCKER_CREDS, registryCreds, db.cred) holding USER:PASSWORD
// (smbclient's USER%PASSWORD too), in env, as a ConfigMap key and as a setting in a
// configuration file. Before, only CREDENTIAL named a credential, and these passed. Such a name
// holds a user alone as often (skopeo's --creds USER prompts for the password), so a value
// that is not USER:PASSWORD passes, as under a name ending in AUTH; a word that merely ends in
// CRED (SACRED) names none, and a reference (CREDS_FILE) stays one.
func TestCredsAbbreviation(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"SMB_CREDS, USER%PASSWORD": {"SMB_CREDS", "deploy%Orders-2024", true},
		"DOCKER_CREDS":             {"DOCKER_CREDS", "deploy:Orders-2024", true},
		"registryCreds":            {"registryCreds", "deploy:Orders-2024", true},
		"DB_CRED":                  {"DB_CRED", "app:Orders-2024", true},
		"a user alone":             {"REGISTRY_CREDS", "deploy", false},
		"a password alone":         {"REGISTRY_CREDS", "Orders-2024", false},
		"a server":                 {"PROXY_CREDS", "proxy.corp.example.com:3128", false},
		"CREDS_FILE":               {"CREDS_FILE", "/etc/creds/db", false},
		"CREDS_SECRET_NAME":        {"CREDS_SECRET_NAME", "db-creds", false},
		"SACRED_TEXT":              {"SACRED_TEXT", "deploy:Orders-2024", false},
		"a variable":               {"SMB_CREDS", "${SMB_CREDS}", false},
		"a switch":                 {"USE_CREDS", "true", false},
		"CREDS_USER":               {"CREDS_USER", "deploy", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			if got := keyCredential(tc.name, tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			text := "[share]\n" + tc.name + " = " + tc.value + "\n"
			if got := keyCredential("app.ini", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(app.ini, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
	// skopeo's --creds USER (and --creds=USER) prompts.
	for _, a := range []string{"--creds=bob", "--src-creds=bob", "--creds bob"} {
		if got := argumentCredential(a, nil, nil); got != "" {
			t.Errorf("argumentCredential(%q) = %q, want none", a, got)
		}
	}
}

// TestCredentialKeysNamedAsTextFiles judges a ConfigMap key named for a credential by a word
// that counts as a name's last word only (PASS, PW, PWD, PSK, DBPASS) followed by .txt, the
// file it is mounted as: admin_pass.txt, psk.txt (stunnel's PSKsecrets, IDENTITY:KEY), pw.txt,
// when its lines hold no blank (a test's log, smoke-pass.txt, is none).
// Before, TXT was the name's last word, and these passed; db_password.txt, whose PASSWORD counts
// anywhere, failed already.
func TestCredentialKeysNamedAsTextFiles(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"admin_pass.txt":  {"admin_pass.txt", "Orders-2024\n", true},
		"psk.txt":         {"psk.txt", "client1:Zt7Rk2Qp9Lm4Xw8Vn3Bc\n", true},
		"pw.txt":          {"pw.txt", "Orders-2024", true},
		"DB_PWD.TXT":      {"DB_PWD.TXT", "Orders-2024", true},
		"db_password.txt": {"db_password.txt", "Orders-2024", true},
		"bypass.txt":      {"bypass.txt", "Orders-2024", false},
		"pass.txt, empty": {"pass.txt", "", false},
		"pass.conf":       {"pass.conf", "Orders-2024", false},
		"a variable":      {"admin_pass.txt", "${ADMIN_PASS}", false},
		"a test's log":    {"smoke-pass.txt", "=== RUN TestZ\n--- PASS: TestZ (0.06 seconds)\nPASS\n", false},
		"a sentence":      {"smoke-pass.txt", "all tests passed\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
}
