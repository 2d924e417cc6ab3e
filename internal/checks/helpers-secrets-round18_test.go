package checks

import (
	"fmt"
	"testing"
)

// TestHeaderListsInEnvValues judges env values that hold a list of HTTP headers as JSON or
// YAML name/value pairs ([{"name": "Authorization", "value": "Bearer ..."}], as a gateway's,
// a proxy's or an SDK's REQUEST_HEADERS take them): before, envCredential read the OpenTelemetry
// form (key=value,...) and a header on its own only, so these passed.
func TestHeaderListsInEnvValues(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"JSON name and value, Bearer":  {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON with blanks, Basic":      {"HEADERS", `[{"name": "Authorization", "value": "Basic ZGVwbG95Ok9yZGVycy0yMDI0"}]`, true},
		"JSON key and value":           {"UPSTREAM_HEADERS", `[{"key":"Proxy-Authorization","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"YAML name and value":          {"EXTRA_HEADERS", "- name: Authorization\n  value: Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc", true},
		"JSON, Honeycomb's header":     {"EXPORTER_HEADERS", `[{"name":"x-honeycomb-team","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON headers map":             {"DEFAULT_HEADERS", `{"Authorization": "Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}`, true},
		"a variable":                   {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer ${API_TOKEN}"}]`, false},
		"a placeholder":                {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer <token>"}]`, false},
		"Honeycomb's header, variable": {"EXPORTER_HEADERS", `[{"name":"x-honeycomb-team","value":"${HONEYCOMB_API_KEY}"}]`, false},
		"another header":               {"REQUEST_HEADERS", `[{"name":"X-Request-Source","value":"orders-2024-deploy"}]`, false},
		"a scheme without credentials": {"REQUEST_HEADERS", `[{"name":"Authorization","value":"Bearer"}]`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
}

// TestHoneycombHeaderAsTOMLPair judges Honeycomb's API key header written as a TOML name/value
// pair ([[headers]] name = "x-honeycomb-team" / value = "KEY", or an inline table): before,
// honeycombValueKey read a value key followed by ':' only, so these passed.
func TestHoneycombHeaderAsTOMLPair(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"an array of tables":       {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"", true},
		"an inline table":          {`headers = [{ name = "X-Honeycomb-Team", value = "Zt7Rk2Qp9Lm4Xw8Vn3Bc" }]`, true},
		"key and value":            {"[[sinks.http.headers]]\nkey = \"x-honeycomb-team\"\nvalue = 'Zt7Rk2Qp9Lm4Xw8Vn3Bc'", true},
		"a variable":               {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"${HONEYCOMB_API_KEY}\"", false},
		"an inline table variable": {`headers = [{ name = "x-honeycomb-team", value = "$HONEYCOMB_API_KEY" }]`, false},
		"another header's value":   {"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = \"${KEY}\"\n\n[[headers]]\nname = \"x-request-id\"\nvalue = \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := honeycombTeamHeader(tc.text); got != tc.want {
				t.Errorf("honeycombTeamHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
			if got := keyCredential("collector.toml", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(collector.toml, %q) = %q, want a credential %v", tc.text, keyCredential("collector.toml", tc.text, false), tc.want)
			}
		})
	}
}

// TestHeaderPairsOnOneLineAreReadPairByPair: a list of name/value pairs written on one line
// gives each header its own value. Before, the value of any pair on the line was the header's,
// so a Honeycomb header taken from a variable beside another header's literal value failed.
func TestHeaderPairsOnOneLineAreReadPairByPair(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"JSON, the next pair's value":          {`[{"name":"x-honeycomb-team","value":"${KEY}"},{"name":"x-request-id","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, false},
		"JSON, the previous pair's value":      {`[{"name":"x-request-id","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"},{"name":"x-honeycomb-team","value":"${KEY}"}]`, false},
		"TOML, the next pair's value":          {`headers = [{ name = "x-honeycomb-team", value = "$KEY" }, { name = "x-request-source", value = "orders-2024" }]`, false},
		"JSON, its own value":                  {`[{"name":"x-request-id","value":"${ID}"},{"name":"x-honeycomb-team","value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"JSON, its value before its name":      {`[{"value":"Zt7Rk2Qp9Lm4Xw8Vn3Bc","name":"x-honeycomb-team"}]`, true},
		"an object over lines, its own value":  {"[{\"name\": \"x-honeycomb-team\",\n  \"value\": \"Zt7Rk2Qp9Lm4Xw8Vn3Bc\"}]", true},
		"Authorization, the next pair's value": {`[{"name":"Authorization","value":"Bearer ${T}"},{"name":"X-Upstream","value":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := honeycombTeamHeader(tc.text) || literalAuthorizationHeader(tc.text); got != tc.want {
				t.Errorf("honeycombTeamHeader or literalAuthorizationHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestSessionKeysAndABareAuth judges the names round 17 left: a session's signing key
// (SESSION_KEY, SESSION_KEYS), the application key of Laravel (APP_KEY, which encrypts its
// cookies and sessions) and Strapi (APP_KEYS, Koa's session keys), and a bare AUTH holding
// USER:PASSWORD. Before, these passed. A key's prefix (SESSION_KEY_PREFIX, API_KEY_PREFIX) is no
// credential: API_KEY_PREFIX failed before.
func TestSessionKeysAndABareAuth(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"SESSION_KEY":                 {"SESSION_KEY", "Orders-2024-deploy", true},
		"SESSION_KEYS":                {"SESSION_KEYS", "Orders-2024,Deploy-2025", true},
		"FLASK_SESSION_KEY":           {"FLASK_SESSION_KEY", "Orders-2024-deploy", true},
		"APP_KEY":                     {"APP_KEY", "base64:Orders2024deploy", true},
		"APP_KEYS":                    {"APP_KEYS", "Orders-2024,Deploy-2025", true},
		"AUTH user:password":          {"AUTH", "deploy:Orders-2024", true},
		"auth user:password":          {"auth", "deploy:Orders-2024", true},
		"SESSION_SECRET stays one":    {"SESSION_SECRET", "Orders-2024-deploy", true},
		"COOKIE_SECRET stays one":     {"COOKIE_SECRET", "Orders-2024-deploy", true},
		"SECRET_KEY_BASE stays one":   {"SECRET_KEY_BASE", "Orders-2024-deploy", true},
		"SESSION_KEY from ${}":        {"SESSION_KEY", "${SESSION_KEY}", false},
		"SESSION_KEY empty":           {"SESSION_KEY", "", false},
		"SESSION_KEY_PREFIX":          {"SESSION_KEY_PREFIX", "sess:", false},
		"API_KEY_PREFIX":              {"API_KEY_PREFIX", "sk_live_", false},
		"SESSION_KEY_FILE":            {"SESSION_KEY_FILE", "/run/secrets/session", false},
		"PUSHER_APP_KEY, public":      {"PUSHER_APP_KEY", "orders2024", false},
		"APP_KEY placeholder":         {"APP_KEY", "<app-key>", false},
		"AUTH a switch":               {"AUTH", "true", false},
		"AUTH a method":               {"AUTH", "basic", false},
		"AUTH a URL":                  {"AUTH", "https://auth.example.com/login", false},
		"AUTH host:port":              {"AUTH", "auth-server:9000", false},
		"AUTH a user alone":           {"AUTH", "deploy", false},
		"AUTH_TYPE user:password too": {"AUTH_TYPE", "deploy:Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
	for name, want := range map[string]bool{"session_key": true, "sessionKeys": true, "app.keys": true, "session_key_prefix": false} {
		t.Run("setting "+name, func(t *testing.T) {
			if got := credentialSettingName(name); got != want {
				t.Errorf("credentialSettingName(%q) = %v, want %v", name, got, want)
			}
		})
	}
}

// TestABareAuthFileNamesNoCredentialFile: AUTH_FILE names an authentication configuration as
// often as a password file, and a bare AUTH is a credential's name for USER:PASSWORD only.
func TestABareAuthFileNamesNoCredentialFile(t *testing.T) {
	for name, want := range map[string]bool{"AUTH_FILE": false, "AUTH_PATH": false, "PROXY_AUTH_FILE": true, "SESSION_KEY_FILE": true} {
		if got := namesCredentialFile(name); got != want {
			t.Errorf("namesCredentialFile(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestABareAuthInConfigurationFiles: AUTH=USER:PASSWORD in a .env file or auth: USER:PASSWORD
// in a configuration a ConfigMap holds is judged as the variable is.
func TestABareAuthInConfigurationFiles(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		".env":                   {".env", "HOST=0.0.0.0\nAUTH=deploy:Orders-2024\n", true},
		"YAML":                   {"config.yaml", "proxy:\n  auth: deploy:Orders-2024\n", true},
		"a key named AUTH":       {"AUTH", "deploy:Orders-2024", true},
		"a method":               {"config.yaml", "proxy:\n  auth: basic\n", false},
		"a server":               {".env", "AUTH=auth-server:9000\n", false},
		"a variable":             {".env", "AUTH=${PROXY_USER}:${PROXY_PASSWORD}\n", false},
		"the --auth flag, a URL": {"run.sh", "#!/bin/sh\nexec proxy --auth https://auth.example.com\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
}

// TestERBTagsAreNoLiterals: Rails' database.yml (and Puppet's and EJS's templates) takes a
// password from the environment with an ERB tag, password: <%= ENV['DB_PASSWORD'] %>. Before,
// the tag was read as a literal password, and these failed.
func TestERBTagsAreNoLiterals(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"database.yml":                 {"database.yml", "production:\n  adapter: postgresql\n  password: <%= ENV['DB_PASSWORD'] %>\n", false},
		"fetch, quoted":                {"database.yml", "production:\n  password: \"<%= ENV.fetch('DB_PASSWORD') %>\"\n", false},
		"EJS":                          {"config.yml", "password: <%- process.env.DB_PASSWORD %>\n", false},
		"a credential-like key":        {"DB_PASSWORD", "<%= ENV['DB_PASSWORD'] %>", false},
		"a literal beside a tag":       {"database.yml", "production:\n  password: Orders-2024<%= ENV['SUFFIX'] %>\n", true},
		"a tag that nothing closes":    {"database.yml", "production:\n  password: <%Orders-2024\n", true},
		"a literal after a tag closes": {"DB_PASSWORD", "<%= x %>Orders-2024", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
	if got := envCredential("DB_PASSWORD", "<%= ENV['DB_PASSWORD'] %>"); got != "" {
		t.Errorf("envCredential(DB_PASSWORD, an ERB tag) = %q, want none", got)
	}
}

// TestLDAPClientPasswords judges the bind passwords of LDAP clients' and servers'
// configuration: ldap.conf's and nslcd.conf's BINDPW / bindpw VALUE, slapd.conf's rootpw VALUE
// (names of one word, a blank and the value) and SSSD's ldap_default_authtok = VALUE (AUTHTOK,
// PAM's word for a password). Before, these passed.
func TestLDAPClientPasswords(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"ldap.conf":                   {"ldap.conf", "URI ldaps://ldap.example.com\nBINDDN cn=reader,dc=example,dc=com\nBINDPW Orders-2024-deploy\n", true},
		"nslcd.conf":                  {"nslcd.conf", "uri ldap://ldap\nbinddn cn=reader,dc=example,dc=com\nbindpw Orders-2024-deploy\n", true},
		"slapd.conf":                  {"slapd.conf", "database mdb\nrootdn cn=admin,dc=example,dc=com\nrootpw Orders-2024-deploy\n", true},
		"sssd.conf":                   {"sssd.conf", "[domain/example]\nldap_default_bind_dn = cn=reader,dc=example,dc=com\nldap_default_authtok_type = password\nldap_default_authtok = Orders-2024-deploy\n", true},
		"SSSD_AUTHTOK variable":       {"SSSD_LDAP_AUTHTOK", "Orders-2024-deploy", true},
		"slapd.conf, a hash":          {"slapd.conf", "rootpw {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", true},
		"bindpw from the environment": {"nslcd.conf", "bindpw ${LDAP_BIND_PASSWORD}\n", false},
		"authtok_type alone":          {"sssd.conf", "[domain/example]\nldap_default_authtok_type = obfuscated_password\n", false},
		"prose":                       {"README", "Password reset\nPasswords expire\nToken expired\n", false},
		"a one-word verb":             {"notes.txt", "password: \npasswd -l root\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := keyCredential(tc.key, tc.value, false)
			if tc.key == "SSSD_LDAP_AUTHTOK" {
				got = envCredential(tc.key, tc.value)
			}
			if (got != "") != tc.want {
				t.Errorf("credential in %q, %q = %q, want a credential %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
}

// TestGrafanaVariableExpansion: Grafana's configuration and provisioning files take a value
// from the environment or a file with $__env{VAR} and $__file{PATH} (and Enterprise's
// $__vault{PATH}), which write no credential. Before, these failed.
func TestGrafanaVariableExpansion(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"$__env":                   {"datasources.yaml", "datasources:\n- name: pg\n  secureJsonData:\n    password: $__env{DB_PASSWORD}\n", false},
		"$__file, quoted":          {"datasources.yaml", "datasources:\n- name: pg\n  secureJsonData:\n    password: \"$__file{/etc/secrets/pg}\"\n", false},
		"grafana.ini":              {"grafana.ini", "[security]\nadmin_password = $__file{/run/secrets/admin}\n", false},
		"$__vault":                 {"grafana.ini", "[database]\npassword = $__vault{database:database/creds/grafana:password}\n", false},
		"a literal beside it":      {"grafana.ini", "[database]\npassword = Orders-2024$__env{SUFFIX}\n", true},
		"one nothing closes":       {"grafana.ini", "[database]\npassword = $__env{Orders-2024\n", true},
		"another $__ word":         {"grafana.ini", "[database]\npassword = $__Orders-2024\n", true},
		"a credential-like key":    {"GF_DATABASE_PASSWORD", "$__env{DB_PASSWORD}", false},
		"a literal password stays": {"grafana.ini", "[security]\nadmin_password = Orders-2024-deploy\n", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
	if got := envCredential("GF_SECURITY_ADMIN_PASSWORD", "$__file{/run/secrets/admin}"); got != "" {
		t.Errorf("envCredential(GF_SECURITY_ADMIN_PASSWORD, $__file{...}) = %q, want none", got)
	}
}

// TestGrafanaDatasourceHeaders judges the custom HTTP headers of Grafana's datasource
// provisioning: jsonData's httpHeaderNameN names the header, secureJsonData's httpHeaderValueN
// gives its value. An Authorization header's literal credentials, or a literal value of a header
// whose name looks like a credential (X-Api-Key) or Honeycomb's, are credentials. Before, these
// passed: no credential word names httpHeaderValue1.
func TestGrafanaDatasourceHeaders(t *testing.T) {
	const ds = "apiVersion: 1\ndatasources:\n- name: prom\n  type: prometheus\n  jsonData:\n    httpHeaderName1: %s\n  secureJsonData:\n    httpHeaderValue1: %s\n"
	tests := map[string]struct {
		text string
		want bool
	}{
		"Authorization, Bearer":     {fmt.Sprintf(ds, "Authorization", "Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"), true},
		"Authorization, Basic":      {fmt.Sprintf(ds, "Authorization", "'Basic ZGVwbG95Ok9yZGVycy0yMDI0'"), true},
		"X-Api-Key":                 {fmt.Sprintf(ds, "X-API-Key", "Orders-2024-deploy"), true},
		"Honeycomb's header":        {fmt.Sprintf(ds, "x-honeycomb-team", "Zt7Rk2Qp9Lm4Xw8Vn3Bc"), true},
		"JSON":                      {`{"datasources":[{"name":"prom","jsonData":{"httpHeaderName1":"Authorization"},"secureJsonData":{"httpHeaderValue1":"Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc"}}]}`, true},
		"the second of two":         {"datasources:\n- name: loki\n  jsonData:\n    httpHeaderName1: X-Scope-OrgID\n    httpHeaderName2: Authorization\n  secureJsonData:\n    httpHeaderValue1: tenant-orders\n    httpHeaderValue2: Bearer Zt7Rk2Qp9Lm4Xw8Vn3Bc\n", true},
		"a tenant's ID":             {fmt.Sprintf(ds, "X-Scope-OrgID", "tenant-orders"), false},
		"Authorization from $__env": {fmt.Sprintf(ds, "Authorization", "Bearer $__env{PROM_TOKEN}"), false},
		"X-Api-Key from $__file":    {fmt.Sprintf(ds, "X-API-Key", "$__file{/etc/secrets/prom-key}"), false},
		"a placeholder":             {fmt.Sprintf(ds, "Authorization", "Bearer <token>"), false},
		"another datasource's name": {"datasources:\n- name: a\n  jsonData:\n    httpHeaderName1: Authorization\n  secureJsonData:\n    httpHeaderValue1: Bearer $__env{T}\n- name: b\n  jsonData:\n    httpHeaderName1: X-Scope-OrgID\n  secureJsonData:\n    httpHeaderValue1: tenant-orders\n", false},
		"a value without a name":    {"secureJsonData:\n  httpHeaderValue1: Orders-2024-deploy\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("datasources.yaml", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(datasources.yaml, %q) = %q, want a credential %v", tc.text, keyCredential("datasources.yaml", tc.text, false), tc.want)
			}
		})
	}
}

// TestHAProxyStatsAuth judges HAProxy's statistics page's credentials, stats auth USER:PASSWORD
// in a listen, frontend or backend section. Before, only a userlist's insecure-password was read,
// and these passed.
func TestHAProxyStatsAuth(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"stats auth":                 {"listen stats\n  bind :8404\n  stats enable\n  stats uri /stats\n  stats auth admin:Orders-2024-deploy\n", true},
		"two users":                  {"frontend stats\n  stats auth ops:\"${STATS_PASSWORD}\"\n  stats auth admin:Orders-2024-deploy\n", true},
		"from the environment":       {"listen stats\n  stats auth admin:\"${STATS_PASSWORD}\"\n", false},
		"a braced variable unquoted": {"listen stats\n  stats auth \"${STATS_USER}:${STATS_PASSWORD}\"\n", false},
		"stats realm":                {"listen stats\n  stats realm HAProxy\\ Statistics\n", false},
		"a user without a password":  {"listen stats\n  stats auth admin\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("haproxy.cfg", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(haproxy.cfg, %q) = %q, want a credential %v", tc.text, keyCredential("haproxy.cfg", tc.text, false), tc.want)
			}
		})
	}
}

// TestIncomingWebhookURLs judges incoming-webhook URLs that carry their own token, which
// gitleaks' rules do not know (they know Slack's and Teams' connector URLs): Discord's
// /api/webhooks/ID/TOKEN, Mattermost's /hooks/KEY (also as Alertmanager's slack_api_url, which
// Mattermost accepts), Rocket.Chat's /hooks/ID/TOKEN, and a Teams or Logic Apps workflow's
// signed URL (sig=). Whoever has the URL posts to the channel, or starts the workflow. Before,
// these passed.
func TestIncomingWebhookURLs(t *testing.T) {
	const discord = "https://discord.com/api/webhooks/1234567890123456789/Zt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3Bc12345678"
	const workflow = "https://prod-12.westus.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3Bc12"
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"Discord, Alertmanager":          {"alertmanager.yml", "receivers:\n- name: d\n  discord_configs:\n  - webhook_url: " + discord + "\n", true},
		"Discord, discordapp.com":        {"notify.json", `{"url": "https://discordapp.com/api/webhooks/1234567890123456789/Zt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3Bc_Zt7Rk2Qp9Lm4Xw8Vn3Bc-12345678"}`, true},
		"Mattermost as slack_api_url":    {"alertmanager.yml", "global:\n  slack_api_url: https://mattermost.example.com/hooks/xbg3ky7cotbjxg8qmhs1nwrt7c\n", true},
		"Rocket.Chat":                    {"alertmanager.yml", "global:\n  slack_api_url: 'https://chat.example.com/hooks/Zt7Rk2Qp9Lm4Xw8Vn/Zt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Qp9Lm4Xw8Vn3BcZt7Rk2Q'\n", true},
		"a Teams workflow":               {"alertmanager.yml", "receivers:\n- name: t\n  msteamsv2_configs:\n  - webhook_url: '" + workflow + "'\n", true},
		"Discord, a variable":            {"alertmanager.yml", "receivers:\n- name: d\n  discord_configs:\n  - webhook_url: https://discord.com/api/webhooks/${DISCORD_ID}/${DISCORD_TOKEN}\n", false},
		"Discord, a placeholder":         {"README.md", "Set webhook_url to https://discord.com/api/webhooks/<id>/<token>.\n", false},
		"an in-cluster webhook":          {"alertmanager.yml", "receivers:\n- name: w\n  webhook_configs:\n  - url: http://alert-router.monitoring:8080/hooks/alertmanager\n", false},
		"a Mattermost example":           {"alertmanager.yml", "global:\n  slack_api_url: https://mattermost.example.com/hooks/xxx-generatedkey-xxx\n", false},
		"a workflow without a signature": {"flow.yaml", "url: https://prod-12.westus.logic.azure.com/workflows/0123/triggers/manual/paths/invoke?api-version=2016-06-01\n", false},
		"a workflow's signature, ${}":    {"flow.yaml", "url: https://prod-12.westus.logic.azure.com/workflows/0123/triggers/manual/paths/invoke?sig=${SIG}\n", false},
		"Discord's API, no webhook":      {"bot.yaml", "api: https://discord.com/api/v10/channels/1234567890123456789/messages\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
	for name, want := range map[string]bool{discord: true, workflow: true, "https://discord.com/api/webhooks/$(ID)/$(TOKEN)": false} {
		if got := envCredential("DISCORD_WEBHOOK_URL", name) != ""; got != want {
			t.Errorf("envCredential(DISCORD_WEBHOOK_URL, %q) = %q, want a credential %v", name, envCredential("DISCORD_WEBHOOK_URL", name), want)
		}
	}
}

// TestYAMLBlockScalarHeaders reads a block scalar's header as YAML does (YAML 1.2, 8.1.1): an
// indentation indicator (|2, >-2, |2-) and a comment after it (password: |  # the db's) are part
// of it. Before, a header with a comment was no block scalar (the password on the next line
// passed), and one with an indentation indicator was read as the literal value |2 (a variable on
// the next line failed).
func TestYAMLBlockScalarHeaders(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"a comment":                       {"db:\n  password: |  # the db password\n    Orders-2024-deploy\n", true},
		"a comment after >-":              {"db:\n  password: >- # folded\n    Orders-2024-deploy\n", true},
		"an indentation indicator":        {"db:\n  password: |2\n      Orders-2024-deploy\n", true},
		"indentation and chomping":        {"db:\n  password: >2-\n      Orders-2024-deploy\n", true},
		"chomping and indentation":        {"db:\n  password: |-2\n      Orders-2024-deploy\n", true},
		"a comment, a variable":           {"db:\n  password: |  # from the environment\n    ${DB_PASSWORD}\n", false},
		"an indentation indicator, a var": {"db:\n  password: |2\n      ${DB_PASSWORD}\n", false},
		"an indicator, $__env":            {"db:\n  password: >-2\n    $__env{DB_PASSWORD}\n", false},
		"a literal |2x is a value":        {"db:\n  password: |2x\n", true},
		"the next line indented less":     {"db:\n  password: |  # none\nother: Orders-2024-deploy\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("values.yaml", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(values.yaml, %q) = %q, want a credential %v", tc.text, keyCredential("values.yaml", tc.text, false), tc.want)
			}
		})
	}
	if got := envCredential("APP_CONFIG", "db:\n  password: |  # the db password\n    Orders-2024-deploy"); got == "" {
		t.Errorf("envCredential(APP_CONFIG, a block scalar with a comment) = none, want a credential")
	}
}

// TestNpmAuthAndYarnAuthIdent judges npm's _auth (base64 of USER:PASSWORD, in an .npmrc, scoped
// to a registry or not) and Yarn's npmAuthIdent (USER:PASSWORD, or its base64, in .yarnrc.yml):
// before, npmAuthIdent passed (npm's _auth rows failed already, by gitleaks' generic-api-key, and
// guard what this round changed: a bare AUTH is now a credential's name for USER:PASSWORD).
func TestNpmAuthAndYarnAuthIdent(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"_auth, scoped":              {".npmrc", "registry=https://npm.example.com/\n//npm.example.com/:_auth=ZGVwbG95OnB3MjAyNA==\n", true},
		"_auth, unscoped, unpadded":  {".npmrc", "_auth = ZGVwbG95OnB3MjAyNA\nalways-auth=true\n", true},
		"npmAuthIdent":               {".yarnrc.yml", "npmRegistryServer: https://npm.example.com\nnpmAuthIdent: \"deploy:pw2024\"\n", true},
		"npmAuthIdent, base64":       {".yarnrc.yml", "npmScopes:\n  shop:\n    npmAuthIdent: ZGVwbG95OnB3MjAyNA==\n", true},
		"_auth from the environment": {".npmrc", "//npm.example.com/:_auth=${NPM_AUTH}\n", false},
		"npmAuthIdent, a variable":   {".yarnrc.yml", "npmAuthIdent: \"${NPM_AUTH_IDENT}\"\n", false},
		"_auth of a user alone":      {".npmrc", "_auth=ZGVwbG95\n", false},
		"_auth, not base64":          {".npmrc", "_auth=true\n", false},
		"npmAlwaysAuth is a switch":  {".yarnrc.yml", "npmAlwaysAuth: true\n", false},
		"YARN_NPM_AUTH_IDENT, .env":  {".env", "YARN_NPM_AUTH_IDENT=deploy:pw2024\n", true},
		"YARN_NPM_AUTH_IDENT, a key": {"YARN_NPM_AUTH_IDENT", "deploy:pw2024", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
	for value, want := range map[string]bool{"deploy:pw2024": true, "$(NPM_AUTH_IDENT)": false, "": false} {
		if got := envCredential("YARN_NPM_AUTH_IDENT", value) != ""; got != want {
			t.Errorf("envCredential(YARN_NPM_AUTH_IDENT, %q) = %q, want a credential %v", value, envCredential("YARN_NPM_AUTH_IDENT", value), want)
		}
	}
}

// TestAnAPIKeyNestedUnderAPI judges a key nested in YAML under api (the OpenTelemetry Collector's
// Datadog exporter: api: {key: KEY, site: ...}), read as api.key. Before, its name, key alone,
// was no credential's, and these passed. A Secret's reference (passwordSecret: {name: ..., key:
// password}) stays none.
func TestAnAPIKeyNestedUnderAPI(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"the Datadog exporter":        {"exporters:\n  datadog:\n    api:\n      site: datadoghq.eu\n      key: Orders-2024-deploy\n", true},
		"key first":                   {"exporters:\n  datadog:\n    api:\n      key: \"Orders-2024-deploy\"\n      site: datadoghq.eu\n", true},
		"from the environment":        {"exporters:\n  datadog:\n    api:\n      key: ${env:DD_API_KEY}\n", false},
		"a Secret's reference":        {"passwordSecret:\n  name: orders-db\n  key: password\n", false},
		"an existing Secret":          {"auth:\n  existingSecret:\n    name: orders\n    key: api-key\n", false},
		"a sibling of api, not in it": {"api:\n  site: datadoghq.eu\nkey: Orders-2024-deploy\n", false},
		"a deeper mapping":            {"api:\n  tls:\n    key: orders-tls\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("collector.yaml", tc.text, false) != ""; got != tc.want {
				t.Errorf("keyCredential(collector.yaml, %q) = %q, want a credential %v", tc.text, keyCredential("collector.yaml", tc.text, false), tc.want)
			}
		})
	}
}

// TestODBCDataSourcePasswords judges an ODBC data source's PWD keyword in odbc.ini (unixODBC's
// /etc/odbc.ini and ~/.odbc.ini, mounted from a ConfigMap key so named): before, PWD alone was
// no credential's name (the shell's working directory), and these passed. Elsewhere it stays
// none.
func TestODBCDataSourcePasswords(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"odbc.ini":                 {"odbc.ini", "[orders]\nDriver = PostgreSQL\nServername = db\nUID = deploy\nPWD = Orders-2024-deploy\n", true},
		".odbc.ini, no blanks":     {".odbc.ini", "[orders]\nDriver=FreeTDS\nPWD=Orders-2024-deploy\n", true},
		"odbc.ini, a variable":     {"odbc.ini", "[orders]\nPWD = ${ODBC_PASSWORD}\n", false},
		"odbc.ini, in braces":      {"odbc.ini", "[orders]\nPWD = {Orders;2024}\n", true},
		"odbc.ini, empty":          {"odbc.ini", "[orders]\nPWD =\n", false},
		"odbc.ini, a comment":      {"odbc.ini", "[orders]\n; PWD = Orders-2024-deploy\n# PWD = Orders-2024-deploy\n", false},
		"PWD elsewhere stays none": {"app.env", "PWD=workspace\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, keyCredential(tc.key, tc.value, false), tc.want)
			}
		})
	}
}
