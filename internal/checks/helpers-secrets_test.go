package checks

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCredentialName(t *testing.T) {
	tests := map[string]struct {
		name string
		want bool
	}{
		"a password":                               {"DB_PASSWORD", true},
		"a password in one word":                   {"PGPASSWORD", true},
		"camelCase api key":                        {"apiKey", true},
		"an acronym before Key":                    {"APIKey", true},
		"a dotted setting":                         {"spring.datasource.password", true},
		"a secret in the middle":                   {"AWS_SECRET_ACCESS_KEY", true},
		"an account key":                           {"AZURE_STORAGE_ACCOUNT_KEY", true},
		"a plural":                                 {"APP_CREDENTIALS", true},
		"a passphrase":                             {"SSH_PASSPHRASE", true},
		"PASS at the end":                          {"RABBITMQ_DEFAULT_PASS", true},
		"camelCase Pass at the end":                {"smtpPass", true},
		"PASS alone":                               {"pass", true},
		"a pass file is a reference":               {"DB_PASS_FILE", false},
		"PASS not at the end":                      {"PASS_THROUGH_HEADERS", false},
		"a word that ends in PASS":                 {"NO_PROXY_BYPASS", false},
		"a word that ends in PASS in camelCase":    {"proxyBypass", false},
		"a password file is a reference":           {"DB_PASSWORD_FILE", false},
		"a token path is a reference":              {"TOKEN_PATH", false},
		"a secret name is a reference":             {"SECRET_NAME", false},
		"a token endpoint is a reference":          {"OAUTH_TOKEN_URL", false},
		"a key without a qualifier":                {"CACHE_KEY", false},
		"Redis's requirepass":                      {"requirepass", true},
		"Redis's masterauth":                       {"masterauth", true},
		"a word that ends in AUTH":                 {"OAUTH", false},
		"a token's lifetime in minutes":            {"ACCESS_TOKEN_EXPIRE_MINUTES", false},
		"a token's lifetime":                       {"JWT_ACCESS_TOKEN_EXPIRES", false},
		"a cache size":                             {"TOKEN_CACHE_SIZE", false},
		"a number of attempts":                     {"MAX_PASSWORD_ATTEMPTS", false},
		"a hasher":                                 {"PASSWORD_HASHER", false},
		"a secret store's provider":                {"SECRETS_PROVIDER", false},
		"a password's size is not a password":      {"DB_PASSWORD_SIZE_X", true},
		"a word that starts like a credential":     {"TOKENIZER", false},
		"a word that contains a credential":        {"SECRETARY_EMAIL", false},
		"the shell's working directory":            {"PWD", false},
		"the shell's previous working directory":   {"OLDPWD", false},
		"PWD at the end of a longer name":          {"MYSQL_PWD", true},
		"camelCase Pwd at the end":                 {"dbPwd", true},
		"PWD not at the end":                       {"PWD_HISTORY", false},
		"a pwd file is a reference":                {"MYSQL_PWD_FILE", false},
		"a name that mentions nothing of the kind": {"LOG_LEVEL", false},
		"PSWRD, trivy-checks KSV0109's word":       {"DB_PSWRD", true},
		"PWORD, trivy-checks KSV0109's word":       {"adminPword", true},
		"PASSWRD, trivy-checks KSV0109's word":     {"passwrd", true},
		"PSWD, the commonest of them":              {"SMTP_PSWD", true},
		"a pswd file is a reference":               {"SMTP_PSWD_FILE", false},
		"Consul's gossip key setting":              {"encrypt", true},
		"a gossip key's variable":                  {"CONSUL_ENCRYPT", true},
		"camelCase Encrypt at the end":             {"gossipEncrypt", true},
		"a word that ends in ENCRYPT":              {"REENCRYPT", false},
		"ENCRYPT not at the end":                   {"ENCRYPT_AT_REST", false},
		"an encryption mode":                       {"ENCRYPT_MODE", false},
		"HTTP basic authentication":                {"CONSUL_HTTP_AUTH", true},
		"camelCase Auth at the end":                {"proxyAuth", true},
		"AUTH alone, for USER:PASSWORD only":       {"auth", true},
		"AUTH not at the end":                      {"AUTH_METHOD", false},
		"etcdctl's user":                           {"ETCDCTL_USER", true},
		"another user":                             {"DB_USER", false},
		"Tailscale's auth key":                     {"TS_AUTHKEY", true},
		"an auth key":                              {"TS_AUTH_KEY", true},
		"a Vault unseal key":                       {"VAULT_UNSEAL_KEY", true},
		"how many shares an unseal key has":        {"UNSEAL_KEY_SHARES", false},
		"WordPress's logged-in key":                {"WORDPRESS_LOGGED_IN_KEY", true},
		"WordPress's nonce salt":                   {"NONCE_SALT", true},
		"WordPress's secure auth salt":             {"WORDPRESS_SECURE_AUTH_SALT", true},
		"a salt of nothing of the kind":            {"HASH_SALT", false},
		"a key logged in nothing":                  {"IN_KEY", false},
		"Airflow's Fernet key":                     {"AIRFLOW__CORE__FERNET_KEY", true},
		"a master key in one word":                 {"ZITADEL_MASTERKEY", true},
		"a JWT key's algorithm":                    {"JWT_KEY_ALGORITHM", false},
		"a master key's path":                      {"MASTERKEY_PATH", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := credentialName(tc.name); got != tc.want {
				t.Errorf("credentialName(%q) = %v, want %v (parts %q)", tc.name, got, tc.want, nameParts(tc.name))
			}
		})
	}
}

func TestLiteralCredential(t *testing.T) {
	tests := map[string]struct {
		value string
		want  bool
	}{
		"a password":                                {"Orders-2024!", true},
		"a default password is still one":           {"changeme", true},
		"empty":                                     {"", false},
		"blank":                                     {"  ", false},
		"a flag":                                    {"true", false},
		"a flag in capitals":                        {"No", false},
		"a dependent variable":                      {"$(UPSTREAM_TOKEN)", false},
		"a URL built from a variable":               {"postgres://app:$(DB_PASSWORD)@db/app", false},
		"a shell-style variable":                    {"${DB_PASSWORD}", false},
		"the OTel Collector's env provider":         {"${env:DB_PASSWORD}", false},
		"the OTel Collector's file provider":        {"${file:/run/secrets/db-password}", false},
		"the OTel Collector's default is a literal": {"${env:DB_PASSWORD:-Orders-2024}", true},
		"Spring's default is a literal":             {"${DB_PASSWORD:Orders-2024}", true},
		"an unrendered Helm template":               {"{{ .Values.password }}", false},
		"a file path":                               {"/var/run/secrets/db/password", false},
		"a Vault reference":                         {"vault:secret/data/shop#password", false},
		"an AWS Secrets Manager ARN":                {"arn:aws:secretsmanager:eu-west-1:111122223333:secret:shop-db", false},
		"a GCP Secret Manager version":              {"projects/shop/secrets/db-password/versions/latest", false},
		"a placeholder in angle brackets":           {"<password>", false},
		"a placeholder of words":                    {"<your DB-password>", false},
		"an XML-escaped placeholder":                {"&lt;password&gt;", false},
		"a password in angle brackets":              {"<Xk9#mq!2Lp>", true},
		"empty angle brackets":                      {"<>", true},
		// A value is no literal for holding an interpolation: what is written beside it, or
		// as its default, is in the object all the same.
		"a literal after an interpolation":       {"${DB_SUFFIX}Orders-2024", true},
		"a literal before a kubelet reference":   {"Orders-2024$(NOT_DEFINED)", true},
		"a literal beside a template":            {"{{ .Values.suffix }}Orders-2024", true},
		"a shell default":                        {"${DB_PASSWORD:-Orders-2024}", true},
		"a shell default without the colon":      {"${DB_PASSWORD-Orders-2024}", true},
		"a default assigned":                     {"${DB_PASSWORD:=Orders-2024}", true},
		"a Spring placeholder's default":         {"${db.password:Orders-2024}", true},
		"a default that is a reference":          {"${DB_PASSWORD:-${FALLBACK_PASSWORD}}", false},
		"an empty default":                       {"${DB_PASSWORD:-}", false},
		"a Spring placeholder without a default": {"${db.password}", false},
		"an error message is no default":         {"${DB_PASSWORD:?DB_PASSWORD must be set}", false},
		"interpolations and separators":          {"${DB_USER}:${DB_PASS}", false},
		"an authorization scheme":                {"Bearer ${API_TOKEN}", false},
		"a path under a directory variable":      {"${SECRETS_DIR}/db/password", false},
		"two kubelet references":                 {"$(PREFIX)-$(SUFFIX)", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := literalCredential(tc.value); got != tc.want {
				t.Errorf("literalCredential(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestExpandEnvValue(t *testing.T) {
	known := map[string]string{"USER": "orders", "PW": "Orders-2024!", "EMPTY": ""}
	tests := map[string]struct{ value, want string }{
		"a known reference":               {"$(PW)", "Orders-2024!"},
		"references inside a value":       {"postgres://$(USER):$(PW)@db/app", "postgres://orders:Orders-2024!@db/app"},
		"a known empty value":             {"x$(EMPTY)y", "xy"},
		"an unknown reference stays":      {"$(DB_SECRET)", "$(DB_SECRET)"},
		"an escaped reference":            {"$$(PW)", "$(PW)"},
		"an escaped dollar":               {"cost: 5$$", "cost: 5$"},
		"a dollar before something else":  {"$HOME and $", "$HOME and $"},
		"an unclosed reference":           {"$(PW and $$", "$(PW and $"},
		"unclosed references":             {"$(PW $(USER $$ $(", "$(PW $(USER $ $("},
		"a reference closed by a later )": {"$(X $(PW) $(PW)", "$(X $(PW) Orders-2024!"},
		"no dollar":                       {"plain", "plain"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := expandEnvValue(tc.value, known); got != tc.want {
				t.Errorf("expandEnvValue(%q) = %q, want %q", tc.value, got, tc.want)
			}
		})
	}
}

func TestURLPassword(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"a connection string":                {"postgresql://orders:Qx7vR2pLm9Tz@postgres.shop.svc:5432/orders", true},
		"a password without a user":          {"redis://:Qx7vR2pLm9Tz@cache:6379/0", true},
		"a URL inside a setting":             {"broker.uri=amqp://billing:Wm4tLq8Zr2Vx@rabbitmq:5672/billing", true},
		"the second of two URLs":             {"mirrors: https://a.example.com https://ci:Zq8wLm3r@b.example.com", true},
		"a quoted URL":                       {`url: "mongodb://app:Zq8wLm3r@mongo:27017/app"`, true},
		"a URL in another's query":           {"https://sso.example.com/login?next=https://ci:Zq8wLm3r@b.example.com/", true},
		"a password in a URL's path":         {"https://b.example.com/ci:Zq8wLm3r@x", false},
		"a user without a password":          {"https://deploy@git.example.com/shop.git", false},
		"an empty password":                  {"redis://app:@cache:6379", false},
		"no userinfo":                        {"jdbc:postgresql://postgres.billing.svc:5432/billing", false},
		"a dependent variable as password":   {"postgres://app:$(DB_PASSWORD)@db/app", false},
		"a shell-style variable as password": {"postgres://app:${DB_PASSWORD}@db/app", false},
		"a Helm template as password":        {"postgres://app:{{ .Values.password }}@db/app", false},
		"no scheme":                          {"://app:Zq8wLm3r@db", false},
		"not a URL":                          {"LOG_LEVEL=debug", false},
		"a Go MySQL DSN":                     {"orders:Qx7vR2pLm9Tz@tcp(mysql.shop.svc:3306)/orders?parseTime=true", true},
		"a Go MySQL DSN in a setting":        {`dsn: "orders:Qx7vR2pLm9Tz@unix(/run/mysqld/mysqld.sock)/orders"`, true},
		"a Go MySQL DSN without a password":  {"orders@tcp(mysql:3306)/orders", false},
		"a Go MySQL DSN, a reference":        {"orders:$(DB_PASSWORD)@tcp(mysql:3306)/orders", false},
		"an Oracle thin URL":                 {"spring.datasource.url=jdbc:oracle:thin:scott/Tiger-2024@//db.shop.svc:1521/ORCL", true},
		"an Oracle thin URL with a SID":      {"jdbc:oracle:thin:scott/Tiger-2024@db:1521:ORCL", true},
		"an Oracle OCI URL":                  {"jdbc:oracle:oci:scott/Tiger-2024@ORCL", true},
		"an Oracle URL without a password":   {"jdbc:oracle:thin:@//db.shop.svc:1521/ORCL", false},
		"an Oracle URL with a user only":     {"jdbc:oracle:thin:scott@db:1521:ORCL", false},
		"an Oracle URL, a reference":         {"jdbc:oracle:thin:scott/${DB_PASSWORD}@db:1521:ORCL", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := urlPassword(tc.text); got != tc.want {
				t.Errorf("urlPassword(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestLeakedSecrets(t *testing.T) {
	tests := map[string]struct {
		name, value, want string
	}{
		"an RSA key whatever its name": {"TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM2Yx7b1Bq9kLhVx8vW0aPjN4Pq3aD\n-----END RSA PRIVATE KEY-----", "gitleaks rule private-key"},
		"an access key id":             {"S3_UPLOADER", "AKIA4HK2VCQRT7YNXW3Q", "gitleaks rule aws-access-token"},
		"an Azure Batch key":           {"AZURE_BATCH_KEY", "q8Vn3Rt7Lm2Xk9Pw4Sy6Bc1Df5Hj0Ae8Ui3Oz7Nv2=", "gitleaks rule generic-api-key"},
		"a certificate":                {"TLS_CRT", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----", ""},
		"a plain setting":              {"LOG_LEVEL", "debug", ""},
		"a base64-encoded key":         {"TLS_KEY_B64", "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUdaaGEyVXRhMlY1TFcxaGRHVnlhV0ZzTFdadmNpMTBaWE4wY3kxdmJteDVvQW9HQ0NxR1NNNDkKLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo=", "gitleaks rule private-key"},
		"a key encoded twice":          {"BLOB", "TFMwdExTMUNSVWRKVGlCRlF5QlFVa2xXUVZSRklFdEZXUzB0TFMwdENrMUlZME5CVVVWRlNVZGFhR0V5VlhSaE1sWTFURmN4YUdSSFZubGhWMFp6VEZkYWRtTnBNVEJhV0U0d1kza3hkbUp0ZURWdlFXOUhRME54UjFOTk5Ea0tMUzB0TFMxRlRrUWdSVU1nVUZKSlZrRlVSU0JMUlZrdExTMHRMUW89", "gitleaks rule private-key"},
		"a URL-safe base64 key":        {"BLOB", "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUdaaGEyVXRhMlY1TFcxaGRHVnlhV0ZzTFdadmNpMTBaWE4wY3kxdmJteDVvQW9HQ0NxR1NNNDkKLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo", "gitleaks rule private-key"},
		"a base64-encoded certificate": {"CA_DATA", "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJzekNDQVZtZ0F3SUJBZ0lVUTN4TWMyRnRjR3hsTFdObGNuUnBabWxqWVhSbE1Bb0dDQ3FHU000OUJBTUMKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=", ""},
		"base64 that is not text":      {"CHECKSUM", "3q2+7wAAAAD/////AAECAwQFBgcICQ==", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := leakedSecrets(tc.name, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("leakedSecrets(%q, ...) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestCredentialSettings(t *testing.T) {
	tests := map[string]struct {
		content string
		want    []string
	}{
		"properties":                                     {"db.user=app\ndb.password=hunter2\n", []string{"db.password"}},
		"a .env file with export":                        {"export REDIS_PASSWORD=\"r3d1s\"\n", []string{"REDIS_PASSWORD"}},
		"YAML":                                           {"auth:\n  clientSecret: s3cr3t # rotate yearly\n", []string{"clientSecret"}},
		"JSON":                                           {"{\n  \"apiKey\": \"abc123\",\n  \"region\": \"eu\"\n}", []string{"apiKey"}},
		"INI with spaces":                                {"[security]\nadmin_password = admin\n", []string{"admin_password"}},
		"interpolated values":                            {"db.password=${DB_PASSWORD}\napi_key: {{ .Values.key }}\n", nil},
		"a YAML map under the name":                      {"password:\n  minLength: 12\n", nil},
		"names that describe secrets":                    {"passwordPolicy: strict\ntokenAudience: api\nsecretName: tls\n", nil},
		"comments":                                       {"# password=hunter2\n; token=abc\n", nil},
		"at most the limit":                              {"a.password=p1\nb.password=p2\nc.password=p3\nd.password=p4\n", []string{"a.password", "b.password", "c.password"}},
		"minified JSON":                                  {`{"db":{"host":"pg","password":"Orders-2024!"},"api":[{"apiKey":"abc123"}]}`, []string{"apiKey", "password"}},
		"minified JSON, references":                      {`{"db":{"passwordFile":"/run/secrets/db","password":"${DB_PASSWORD}","token":true}}`, nil},
		"a JSON map under the name":                      {`{"password":{"minLength":12}}`, nil},
		"not JSON":                                       {`{"db": {"password": `, nil},
		"minified JSON, escaped key":                     {`{"a":"b","db\u0050assword":"Orders-2024!"}`, []string{"dbPassword"}},
		"minified JSON, key in value":                    {`{"a":"b","note":"password:","c":"d"}`, nil},
		"minified JSON, space before colon":              {`{"a":"b","c":"d","token"` + " \n\t:" + `"abc123"}`, []string{"token"}},
		"one-line JSON, one key":                         {`{"password": "Orders-2024!"}`, []string{"password"}},
		"one-line JSON, spaced colons":                   {`{"user" : "orders", "password" : "Orders-2024!"}`, []string{"password"}},
		"one-line JSON array":                            {`[{"token":"abc123"}]`, []string{"token"}},
		"JSON, an object on its own line":                {"{\n  \"db\": {\"password\" : \"Orders-2024!\"}\n}\n", []string{"password"}},
		"JSON, an array item on its line":                {"{\"users\": [\n  {\"password\": \"Orders-2024!\"}\n]}\n", []string{"password"}},
		"a YAML flow mapping":                            {"database: {user: orders, password: Orders-2024}\n", []string{"password"}},
		"a YAML flow mapping in a list":                  {"users:\n  - {name: admin, password: 'Orders-2024'}\n", []string{"password"}},
		"a YAML flow mapping, references":                {"db: {password: \"${DB_PASSWORD}\", token: \"{{ .Values.token }}\"}\n", nil},
		"nested YAML flow mappings":                      {"{db: {primary: {user: orders, \"password\": \"Orders-2024\"}}, url: \"a:b, c\"}\n", []string{"password"}},
		"code with an object literal":                    {"return {password: pw};\nconnect({user: u, password: p})\n", nil},
		"a JavaScript object, quoted":                    {"module.exports = { db: { user: 'orders', password: \"Orders-2024\" } };\n", []string{"password"}},
		"a Python dict, quoted":                          {"DATABASES = {'default': {'USER': 'orders', 'PASSWORD': 'Orders-2024'}}\n", []string{"PASSWORD"}},
		"a TOML inline table":                            {"db = { user = \"orders\", password = \"Orders-2024:x\" }\n", []string{"password"}},
		"a Lua table":                                    {"local db = { host = 'db', password = 'Orders-2024' }\nlocal c = { password = os.getenv(\"PW\"), ok = x == \"y\" }\n", []string{"password"}},
		"a Lua table of variables":                       {"{ host = h, password = pw }\n", nil},
		"code objects of references":                     {"connect({ password: process.env.DB_PASSWORD, token: `${t}` })\nx = {'PASSWORD': os.environ['PW']}\necho ${PASSWORD:-\"none\"}\n", nil},
		"an ADO.NET connection string":                   {`"Default": "Server=db;Database=orders;User Id=sa;Password=Orders-2024!;"`, []string{"Password"}},
		"a JDBC URL's query":                             {"url=jdbc:postgresql://db:5432/app?user=app&password=Orders-2024\n", []string{"password"}},
		"a flag inside a shell command":                  {"mysql -h db -u root --password=Orders-2024 -e 'select 1'\n", []string{"password"}},
		"an ODBC connection string":                      {"Driver={ODBC Driver 18 for SQL Server};Server=db;Uid=sa;Pwd=Orders-2024;\n", []string{"Pwd"}},
		"a YAML block scalar":                            {"database:\n  password: >-\n    Orders-2024\n  user: orders\n", []string{"password"}},
		"a YAML block scalar, a reference":               {"database:\n  password: |\n    ${DB_PASSWORD}\n", nil},
		"a YAML block indicator, no value":               {"database:\n  password: |\nuser: orders\n", nil},
		"a libpq connection string":                      {"host=db user=orders password=Orders-2024 dbname=orders sslmode=disable\n", []string{"password"}},
		"a quoted libpq connection string":               {"psql \"host=db password=Orders-2024 user=orders\"\n", []string{"password"}},
		"a libpq string in a YAML value":                 {"database:\n  dsn: 'host=db password=Orders-2024 sslmode=require'\n", []string{"password"}},
		"a PHP variable":                                 {"<?php\n$db_password = 'Orders-2024';\n", []string{"db_password"}},
		"a PHP array item":                               {"$CONFIG = array (\n  'dbpassword' => 'Orders-2024',\n);\n", []string{"dbpassword"}},
		"PHP references":                                 {"$db_password = getenv('DB_PASSWORD');\n$smtp_password = $_ENV['SMTP_PASSWORD'];\n  'dbpassword' => getenv('DB_PASSWORD'),\n", nil},
		"a PHP constant":                                 {"define( 'DB_USER', 'orders' );\ndefine( 'DB_PASSWORD', 'Orders-2024' );\n", []string{"DB_PASSWORD"}},
		"PHP constants of references":                    {"define( 'DB_PASSWORD', getenv('DB_PASSWORD') );\ndefine('AUTH_KEY', '');\n", nil},
		"a command's environment":                        {"env A=1 PGPASSWORD=Orders-2024 psql -h db\n", []string{"PGPASSWORD"}},
		"keyword arguments":                              {"connect(user=user, password=password)\nconnect(host=h password=pw)\n", nil},
		"an XML attribute":                               {`<user username="admin" password="Orders-2024" roles="manager-gui"/>`, []string{"password"}},
		"XML appSettings":                                {"<appSettings>\n  <add key=\"DbUser\" value=\"orders\" />\n  <add key=\"DbPassword\" value=\"Orders-2024\" />\n</appSettings>\n", []string{"DbPassword"}},
		"an XML property":                                {"<property name=\"hibernate.connection.password\" value='Orders-2024'/>\n", []string{"hibernate.connection.password"}},
		"an XML properties entry":                        {"<entry key=\"db.user\">orders</entry><entry key=\"db.password\">Orders-2024</entry>\n", []string{"db.password"}},
		"XML named references":                           {"<add key=\"DbPassword\" value=\"${DB_PASSWORD}\"/>\n<add key=\"PasswordPolicy\" value=\"strict\"/>\n<entry key=\"db.password\"></entry>\n<param name=\"token\"/>\n", nil},
		"an XML element":                                 {"<server>\n  <id>nexus</id>\n  <password>Orders-2024</password>\n</server>\n", []string{"password"}},
		"a literal beside an interpolation inside lines": {"Server=db;User Id=sa;Password=${DB_SUFFIX}Orders-2024;\n<add key=\"DbPassword\" value=\"${X}Orders-2024\"/>\n", []string{"Password", "DbPassword"}},
		"a shell default inside a line":                  {"psql \"host=db user=app password=${PGPASSWORD:-Orders-2024}\"\n", []string{"password"}},
		"a YAML value on the next line":                  {"db:\n  password:\n    Orders-2024\n", []string{"password"}},
		"a quoted YAML value on the next line":           {"db:\n  password:\n    \"Orders-2024\"\n", []string{"password"}},
		"YAML under the name, not a value":               {"password:\n  - Orders-2024\ntoken:\n  # a comment\n  value: x\nsecret:\nname: x\n", nil},
		"Hadoop configuration properties":                {"<configuration>\n  <property>\n    <name>javax.jdo.option.ConnectionPassword</name>\n    <value>Orders-2024</value>\n  </property>\n  <property><name>fs.s3a.secret.key</name><value><![CDATA[s3-Orders-2024]]></value></property>\n</configuration>\n", []string{"javax.jdo.option.ConnectionPassword", "fs.s3a.secret.key"}},
		"Hadoop properties without literals":             {"<property><name>hive.password</name></property>\n<property><name>hive.port</name><value>9083</value></property>\n<property><name>fs.s3a.secret.key</name><value>${env.S3_SECRET}</value></property>\n<property><name>password.policy</name><value>strict</value></property>\n<property><name>db.password</name><value></value></property>\n", nil},
		"directives separated by blanks":                 {"vrrp_instance VI_1 {\n  authentication {\n    auth_type PASS\n    auth_pass Vip-2024\n  }\n}\n[OUTPUT]\n    Name  es\n    HTTP_Passwd   Logs-2024\nAuthLDAPBindPassword \"Ldap-2024\"\n", []string{"auth_pass", "HTTP_Passwd", "AuthLDAPBindPassword"}},
		"directives and prose separated by blanks":       {"HTTP_Passwd ${ES_PASSWORD}\nauth_pass $VIP_PASSWORD\npassword reset\nToken expired.\nSecret sauce\nreset_password now please\nproxy_pass http://backend;\nfastcgi_pass 127.0.0.1:9000;\ngenerate_password 16\n", nil},
		"Fluentd directives":                             {"<match kube.**>\n  @type elasticsearch\n  host es.logging.svc\n  user fluentd\n  password Logs-2024\n  <buffer>\n    flush_interval 5s\n  </buffer>\n</match>\n", []string{"password"}},
		"Fluentd directives without literals":            {"<match **>\n  @type elasticsearch\n  password \"#{ENV['ES_PASSWORD']}\"\n  token ${ES_TOKEN}\n</match>\npassword Logs-2024\n<description>\n  password reset\n</description>\n", nil},
		"inline references and comparisons":              {"mysql --password=$(cat /run/secrets/db) --user=$DB_USER\nconnect(user=user, password=password)\nconnect(password=os.getenv(\"PW\"))\n[ \"$password\" == \"\" ] && exit 1\nServer=db;Password=${DB_PASSWORD};\n<password>${DB_PASSWORD}</password>\n<passwordPolicy>strict</passwordPolicy>\nGET /x?token_type=bearer&password_reset=true\n", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := credentialSettings(tc.content, 3); !slices.Equal(got, tc.want) {
				t.Errorf("credentialSettings = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestIsSettingName: the byte loop accepts exactly what the regular expression it replaced
// did, ^[A-Za-z0-9_.\-]+$: on every one- and two-byte string and on written names.
func TestIsSettingName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	check := func(s string) {
		t.Helper()
		if got, want := isSettingName(s), re.MatchString(s); got != want {
			t.Errorf("isSettingName(%q) = %v, want %v", s, got, want)
		}
	}
	check("")
	for a := range 256 {
		check(string([]byte{byte(a)}))
		for b := range 256 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	for _, s := range []string{"DB_PASSWORD", "spring.datasource.password", "api-key", "a b", "name\n", "é", "ключ", "x\u212a", "key$", "-", ".", "_"} {
		check(s)
	}
}

// BenchmarkCredentialSettings reads every line of the corpus's largest ConfigMap (a Grafana
// dashboard, 166 KB) as credentialSettings does for each ConfigMap value.
func BenchmarkCredentialSettings(b *testing.B) {
	data, err := os.ReadFile("../../../shared/corpus/sock-shop/deploy/kubernetes/manifests-monitoring/20-grafana-configmap.yaml")
	if err != nil {
		b.Skipf("corpus not available: %v", err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_ = credentialSettings(string(data), 10)
	}
}

// TestMayEndInCredential: the quick test never turns away a name endsInCredential takes, on
// the written names of TestCredentialName and 200,000 random ones made of credential words,
// their pieces, separators, digits and plural s in any case.
func TestMayEndInCredential(t *testing.T) {
	check := func(name string) {
		t.Helper()
		if endsInCredential(name) && !mayEndInCredential(name) {
			t.Errorf("mayEndInCredential(%q) = false, but endsInCredential takes it", name)
		}
	}
	for _, n := range []string{"DB_PASSWORD", "apiKey", "api_keys", "PGPASSWORD", "client_secret_", "tokens", "accessKeyS", "x.credentials", "KEY", "S", "password_s", "secretKey9", "TOKEN-"} {
		check(n)
	}
	pieces := []string{"password", "Password", "PASSWD", "passphrase", "secret", "Secret", "token", "TOKENS", "api", "Api", "key", "Key", "KEY", "keys",
		"private", "access", "account", "credential", "Credentials", "db", "cache", "s", "S", "_", ".", "-", "9", "x", "X", "word", "Pass", "pwd", "PWD", "pw", "Pw", "PW", "dbpass", "DBPASS", "requirepass", "masterauth", "MasterAuth", "pswrd", "Pword", "PASSWRD", "pswd", "encrypt", "Encrypt", "ENCRYPT", "re", "auth", "Auth", "AUTH", "o", "etcdctl_user", "ETCDCTL_USER", "salt", "SALT", "Salts", "nonce", "AUTH_", "logged_in", "unseal", "authkey", "AuthKey", "gossip", "masterkey", "SIGNINGKEY", "fernet", "Jwt"}
	r := rand.New(rand.NewPCG(3, 4))
	taken := 0
	for range 200000 {
		var b strings.Builder
		for range 1 + r.IntN(5) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		name := b.String()
		if endsInCredential(name) {
			taken++
		}
		check(name)
	}
	if taken < 1000 {
		t.Fatalf("only %d random names end in a credential: the test exercises too little", taken)
	}
}

// TestDecodeBase64SegmentSkipsOnlyFailures: the length and character tests that keep
// decodeBase64Segment from calling DecodeString skip only segments it would refuse.
func TestDecodeBase64SegmentSkipsOnlyFailures(t *testing.T) {
	reference := func(seg string) string {
		if !strings.ContainsAny(seg, "0123456789+/-_") {
			return ""
		}
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			if plain, err := enc.DecodeString(seg); err == nil && isPrintableASCII(plain) {
				return string(plain)
			}
		}
		return ""
	}
	const alphabet = "AZaz09+/-_Qw1="
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		b := make([]byte, 16+rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		seg := string(b)
		if got, want := decodeBase64Segment(seg), reference(seg); got != want {
			t.Fatalf("decodeBase64Segment(%q) = %q, want %q", seg, got, want)
		}
	}
	for _, plain := range []string{"password=hunter2!", "-----BEGIN PRIVATE KEY-----", "user:s3cr3t-token"} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding, base64.URLEncoding} {
			seg := enc.EncodeToString([]byte(plain))
			if got, want := decodeBase64Segment(seg), reference(seg); got != want {
				t.Errorf("decodeBase64Segment(%q) = %q, want %q", seg, got, want)
			}
		}
	}
}

func TestDecodeSegments(t *testing.T) {
	tests := map[string]struct {
		text, want string
		ok         bool
	}{
		"percent escapes":                     {"a%3Db%20c", "a=b c", true},
		"to the last escape of the line":      {"x%41y%42z\n%43", "xAyBz\nC", true},
		"an escape that is not printable":     {"a%00b%41", "a%00b%41", false},
		"not an escape":                       {"100% sure %zz", "100% sure %zz", false},
		"base64 after a percent segment":      {"%41 b3JkZXJzOk9yZGVycy0yMDI0IQ==", "A orders:Orders-2024!", true},
		"base64 takes two padding characters": {"b3JkZXJzOk9yZGVycy0yMDI0IQ===", "orders:Orders-2024!=", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got, ok := decodeSegments(tc.text); got != tc.want || ok != tc.ok {
				t.Errorf("decodeSegments(%q) = %q, %v, want %q, %v", tc.text, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestXMLElementsAreReadOnce: inlineSettings tries an XML element at every '<' of a line, and
// each try read to the line's next '>': a ConfigMap value of 200 KB of '<' took 320 ms, 1 MiB
// about 8 s, on every evaluation of its namespace (an env value too, in the webhook). Each try
// now reads the element's name, and its value up to the next '<', only: the line is read a
// bounded number of times. The test counts the bytes the tries read.
func TestXMLElementsAreReadOnce(t *testing.T) {
	for name, line := range map[string]string{
		"opening brackets":         strings.Repeat("<", 100_000),
		"names never closed":       strings.Repeat("<password", 10_000),
		"elements":                 strings.Repeat("<password>x</password>", 5_000),
		"a closing bracket at end": strings.Repeat("<", 100_000) + ">",
	} {
		t.Run(name, func(t *testing.T) {
			read := 0
			for i := range len(line) {
				if line[i] == '<' {
					_, _, _, n := xmlElement(line[i:])
					read += n
				}
			}
			if read > 3*len(line) {
				t.Errorf("trying every '<' of a line of %d bytes read %d bytes, want at most %d", len(line), read, 3*len(line))
			}
		})
	}
	tests := map[string]struct {
		s, name, value string
		ok             bool
	}{
		"an element":              {"<password>Zq8wLm3r</password> and more", "password", "Zq8wLm3r", true},
		"spaces around the value": {"<db.password> Zq8wLm3r </db.password>", "db.password", "Zq8wLm3r", true},
		"another closing tag":     {"<password>Zq8wLm3r</user>", "", "", false},
		"attributes":              {`<password type="x">Zq8wLm3r</password>`, "", "", false},
		"a bracket in the name":   {"<pass<word>x</pass<word>", "", "", false},
		"an empty name":           {"<>x</>", "", "", false},
		"never closed":            {"<password", "", "", false},
		"a child element":         {"<password><value>x</value></password>", "", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			n, v, ok, _ := xmlElement(tc.s)
			if n != tc.name || v != tc.value || ok != tc.ok {
				t.Errorf("xmlElement(%q) = %q, %q, %v; want %q, %q, %v", tc.s, n, v, ok, tc.name, tc.value, tc.ok)
			}
		})
	}
}

// BenchmarkXMLOpeningBrackets reads a ConfigMap value of 200 KB of '<' for settings.
func BenchmarkXMLOpeningBrackets(b *testing.B) {
	v := strings.Repeat("<", 200_000)
	for b.Loop() {
		credentialSettings(v, maxSettingsNamed)
	}
}

// TestJavaKeystoreKeyReadsWithinBounds: a keystore cut short anywhere, or with lengths past
// its end, is read without a panic and holds no key unless its entries up to a key entry are
// whole.
func TestJavaKeystoreKeyReadsWithinBounds(t *testing.T) {
	var trust []byte
	trust = binary.BigEndian.AppendUint32(trust, 0xfeedfeed)
	trust = binary.BigEndian.AppendUint32(trust, 2)
	trust = binary.BigEndian.AppendUint32(trust, 2)
	// A trusted certificate entry: tag 2, alias "ca", date, type "X.509", 3 bytes.
	trust = binary.BigEndian.AppendUint32(trust, 2)
	trust = binary.BigEndian.AppendUint16(trust, 2)
	trust = append(trust, "ca"...)
	trust = binary.BigEndian.AppendUint64(trust, 0)
	trust = binary.BigEndian.AppendUint16(trust, 5)
	trust = append(trust, "X.509"...)
	trust = binary.BigEndian.AppendUint32(trust, 3)
	trust = append(trust, 1, 2, 3)
	withKey := binary.BigEndian.AppendUint32(slices.Clone(trust), 1)
	if javaKeystoreKey(trust) {
		t.Error("a trust store holds a key")
	}
	if !javaKeystoreKey(withKey) {
		t.Error("a private key entry after a certificate is not found")
	}
	for n := range len(withKey) {
		if javaKeystoreKey(withKey[:n]) {
			t.Errorf("the keystore cut to %d bytes holds a key", n)
		}
	}
	huge := slices.Clone(trust)
	binary.BigEndian.PutUint32(huge[len(huge)-7:], 1<<31)
	if javaKeystoreKey(huge) {
		t.Error("a certificate longer than the keystore is read as a key")
	}
}

// TestPropertiesCredentials reads a Java .properties file as java.util.Properties.load does
// (OpenJDK's LineReader and loadConvert): the key ends at the first unescaped '=', ':' or blank,
// a line that ends in an odd number of backslashes goes on to the next (its leading blanks
// dropped), and \uXXXX and \X escapes are decoded in keys and values.
func TestPropertiesCredentials(t *testing.T) {
	tests := map[string]struct {
		content string
		want    []string
	}{
		"a blank as the separator":           {"db.user app\ndb.password Orders-2024\n", []string{"db.password"}},
		"a tab as the separator":             {"db.password\tOrders-2024\n", []string{"db.password"}},
		"a colon as the separator":           {"db.password:Orders-2024\n", []string{"db.password"}},
		"blanks around the separator":        {"db.password  =  Orders-2024\n", []string{"db.password"}},
		"a key continued on the next line":   {"db.pass\\\n    word=Orders-2024\n", []string{"db.password"}},
		"a value continued on the next line": {"db.password=\\\n    Orders-2024\n", []string{"db.password"}},
		"an escaped letter in the key":       {"db.pass\\u0077ord=Orders-2024\n", []string{"db.password"}},
		"an escaped dot in the key":          {"db\\u002epassword=Orders-2024\n", []string{"db.password"}},
		"an escaped blank in the key":        {"my\\ token Orders-2024\n", []string{"my token"}},
		"an even backslash count ends it":    {"db.note=C:\\\\\ndb.password\n", nil},
		"comments":                           {"# db.password Orders-2024\n! db.password Orders-2024\n", nil},
		"empty values":                       {"db.password\ndb.password=\ndb.password   \n", nil},
		"references":                         {"db.password ${DB_PASSWORD}\napi.token=\\\n  ${API_TOKEN}\n", nil},
		"names that describe secrets":        {"password.policy strict\ntoken.ttl 1h\n", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := propertiesCredentials(tc.content, 3); !slices.Equal(got, tc.want) {
				t.Errorf("propertiesCredentials = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEncodedCredentials judges values whose base64 or percent-encoded segments hold, decoded,
// a URL with a literal password or configuration that sets a credential-like name, where no
// name says so (DATABASE_URL_B64, a ConfigMap's app.conf.b64): env values (envCredential) and
// ConfigMap values (keyCredential). Encoded text without a credential, with a reference or a
// placeholder, and binary data stay Pass.
func TestEncodedCredentials(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := map[string]struct {
		value string
		want  bool
	}{
		"a URL with a password":           {b64("postgres://app:Orders-2024@db.shop.svc/app"), true},
		"a properties line":               {b64("db.password=Orders-2024"), true},
		"a JSON document":                 {b64(`{"user": "app", "password": "Orders-2024"}`), true},
		"URL-safe base64 of a URL":        {base64.RawURLEncoding.EncodeToString([]byte("redis://:Orders-2024@redis:6379/0")), true},
		"a percent-encoded URL":           {"postgres%3A%2F%2Fapp%3AOrders-2024%40db.shop.svc%2Fapp", true},
		"text without a credential":       {b64("hello world from the orders service"), false},
		"a URL without a password":        {b64("postgres://db.shop.svc:5432/app?sslmode=require"), false},
		"a reference":                     {b64("db.password=${DB_PASSWORD}"), false},
		"a placeholder":                   {b64(`{"password": "<password>"}`), false},
		"binary data":                     {base64.StdEncoding.EncodeToString([]byte{0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00, 0xc4, 0x1d, 0x8e, 0x00, 0xff, 0x10, 0x20, 0x7f, 0x80}), false},
		"a JWT's header":                  {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", false},
		"a percent-encoded path":          {"/files/orders%20report%202024.pdf", false},
		"a checksum":                      {"3f786850e387550fdab836ed7e6dc881de23001b", false},
		"a setting that names a lifetime": {b64("token_ttl=3600"), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential("APP_CONFIG_B64", tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(APP_CONFIG_B64, %q) = %q, want a credential %v", tc.value, got, tc.want)
			}
			if got := keyCredential("app.conf.b64", tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(app.conf.b64, %q) = %q, want a credential %v", tc.value, got, tc.want)
			}
		})
	}
}

func TestGossipKeySettings(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"consul keygen's 32 bytes":         {"encrypt", "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=", true},
		"an AES-128 key":                   {"CONSUL_ENCRYPT", "Kq4Ej1Yh3wCz9oQWvS0nTg==", true},
		"an AES-192 key":                   {"NOMAD_ENCRYPT", "bm9tYWQtZ29zc2lwLWtleS0yNGJ5dGVz", true},
		"blank around the key":             {"encrypt", " Kq4Ej1Yh3wCz9oQWvS0nTg== ", true},
		"a switch":                         {"encrypt", "true", false},
		"a TLS mode":                       {"SMTP_ENCRYPT", "starttls", false},
		"an empty key":                     {"encrypt", "", false},
		"a template":                       {"encrypt", "{{ .Values.gossipKey }}", false},
		"base64 of another length":         {"encrypt", "c2VjcmV0LWdvc3NpcC1rZXktMjQtYnl0ZXM=", false},
		"URL-safe base64 memberlist fails": {"encrypt", "pUqJrVyVRj5jsiYEkM_tFQYfWyJIv4s3XkvDwy7Cu5s=", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !credentialName(tc.name) {
				t.Fatalf("credentialName(%q) = false", tc.name)
			}
			if got := credentialValue(tc.name, tc.value); got != tc.want {
				t.Errorf("credentialValue(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestLiteralAuthorizationHeader(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"nginx's proxy_set_header":         {`proxy_set_header Authorization "Basic ZGVwbG95Ok9yZGVycy0yMDI0eA==";`, true},
		"git's extraHeader":                {"\textraHeader = Authorization: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", true},
		"a headers map":                    {`  Authorization: "Token Zt7Rk2Qp9Lm4Xw8Vn3Bc"`, true},
		"JSON":                             {`{"headers": {"Authorization": "Bearer 8f2Kq9XwLm3Tz7Vb1Nc5"}}`, true},
		"HAProxy's set-header":             {`http-request set-header Proxy-Authorization "Basic ZGVwbG95Ok9yZGVycy0yMDI0eA=="`, true},
		"a token at a sentence's end":      {"Authorization: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5.", true},
		"a nginx variable":                 {"proxy_set_header Authorization $http_authorization;", false},
		"a token in a nginx variable":      {`proxy_set_header Authorization "Bearer $upstream_token";`, false},
		"a shell's placeholder":            {"Authorization: Bearer ${GIT_TOKEN}", false},
		"a template":                       {`Authorization: "Bearer {{ .Values.token }}"`, false},
		"angle brackets":                   {"Authorization: Bearer <token>", false},
		"named as a credential":            {"Authorization: Bearer YOUR_TOKEN", false},
		"one character repeated":           {"Authorization: Bearer xxxxxxxx.", false},
		"a short word":                     {"Authorization: Bearer token", false},
		"Basic described":                  {"Authorization: Basic base64(user:password)", false},
		"Basic that is no base64":          {"Authorization: Basic something", false},
		"Basic without a password":         {"Authorization: Basic ZGVwbG95Og==", false},
		"prose":                            {"Authorization: required for every request", false},
		"a Digest answer":                  {`Authorization: Digest username="u", response="6629fae49393a05397450978507c4ef1"`, false},
		"another header":                   {"X-Authorization: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"a name that begins with the word": {"authorizationMode: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"Envoy's key and value":            {"- header:\n    key: Authorization\n    value: Basic ZGVwbG95Ok9yZGVycy0yMDI0eA==\n  append_action: ADD", true},
		"a value before the name":          {"httpHeaders:\n- value: \"Bearer 8f2Kq9XwLm3Tz7Vb1Nc5\"\n  name: Authorization", true},
		"a value a line before the name":   {"- port: 8080\n  value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5\n  name: authorization", true},
		"JSON's key and value":             {`{"header": {"key": "Authorization", "value": "Token Zt7Rk2Qp9Lm4Xw8Vn3Bc"}}`, true},
		"JSON's name and value on lines":   {"{\n  \"name\": \"Proxy-Authorization\",\n  \"value\": \"Bearer 8f2Kq9XwLm3Tz7Vb1Nc5\"\n}", true},
		"a flow mapping":                   {"header: {key: Authorization, value: \"Bearer 8f2Kq9XwLm3Tz7Vb1Nc5\"}", true},
		"Envoy's command operator":         {"key: Authorization\nvalue: \"%REQ(x-upstream-authorization)%\"", false},
		"a pair's placeholder":             {"- name: Authorization\n  value: Bearer <token>", false},
		"a pair's variable":                {"- key: Authorization\n  value: \"Bearer ${UPSTREAM_TOKEN}\"", false},
		"a pair's template":                {`{"name": "Authorization", "value": "Bearer {{ .Values.token }}"}`, false},
		"another item's value":             {"- name: Authorization\n  value: \"%REQ(authorization)%\"\n- name: X-Request-Id\n  value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"another mapping's value":          {"- header:\n    key: Authorization\n  value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"a nested value":                   {"- name: Authorization\n  options:\n    value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"a longer name":                    {"- name: Authorization-Mode\n  value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"a name before another key":        {"- names: Authorization\n  value: Bearer 8f2Kq9XwLm3Tz7Vb1Nc5", false},
		"TOML's name and value":            {"[[headers]]\nname = \"Authorization\"\nvalue = \"Bearer 8f2Kq9XwLm3Tz7Vb1Nc5\"", true},
		"TOML's name and a variable":       {"[[headers]]\nname = \"Authorization\"\nvalue = \"Bearer ${TOKEN}\"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := literalAuthorizationHeader(tc.text); got != tc.want {
				t.Errorf("literalAuthorizationHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

// FuzzLiteralAuthorizationHeader: a tenant writes the ConfigMap text literalAuthorizationHeader
// reads; whatever it holds, reading it must not panic, and text without the word is never one.
func FuzzLiteralAuthorizationHeader(f *testing.F) {
	for _, seed := range []string{
		`proxy_set_header Authorization "Basic ZGVwbG95Ok9yZGVycy0yMDI0eA==";`,
		"Authorization: Bearer ", "Authorization:", "authorization", "Proxy-Authorization= 'Token a'",
		"Authorization: Basic ", "Authorization: Bearer x\nAuthorization\tbot 12345678;",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := literalAuthorizationHeader(text)
		if got && !strings.Contains(strings.ToLower(text), "authorization") {
			t.Fatalf("literalAuthorizationHeader(%q) without the word", text)
		}
	})
}

func TestUserPasswordSettings(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"Consul's HTTP basic authentication": {"CONSUL_HTTP_AUTH", "operator:Orders-2024x", true},
		"etcdctl's user and password":        {"ETCDCTL_USER", "root:Etcd-2024x", true},
		"a user at a domain":                 {"FLOWER_BASIC_AUTH", "ops@example.com:Flower-2024x", true},
		"a user alone":                       {"ETCDCTL_USER", "root", false},
		"a user and no password":             {"CONSUL_HTTP_AUTH", "operator:", false},
		"a switch":                           {"BASIC_AUTH", "true", false},
		"a method":                           {"PROXY_AUTH", "basic", false},
		"a URL":                              {"UPSTREAM_AUTH", "https://auth.example.com:8443/verify", false},
		"a time":                             {"BACKUP_AUTH", "10:30", false},
		"a reference":                        {"NOMAD_HTTP_AUTH", "deploy:${PASSWORD}", false},
		"a placeholder":                      {"NOMAD_HTTP_AUTH", "deploy:<password>", false},
		"redis-cli's password itself":        {"REDISCLI_AUTH", "Orders-2024x", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !credentialName(tc.name) {
				t.Fatalf("credentialName(%q) = false", tc.name)
			}
			if got := credentialValue(tc.name, tc.value); got != tc.want {
				t.Errorf("credentialValue(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestCurlConfigPassword(t *testing.T) {
	tests := map[string]struct {
		text, want string
	}{
		"user with equals and quotes":   {"user = \"deploy:Fetch-2024x\"", "user"},
		"a long option with dashes":     {"--user deploy:Fetch-2024x", "user"},
		"a short option":                {"-u deploy:Fetch-2024x", "u"},
		"the proxy's user with a colon": {"proxy-user: svc:Svc-2024x", "proxy-user"},
		"a bearer token":                {"oauth2-bearer = \"Orders-2024x\"", "oauth2-bearer"},
		"a key's passphrase":            {"pass Key-2024x", "pass"},
		"a user alone":                  {"user = \"deploy\"", ""},
		"no password":                   {"-u deploy:", ""},
		"a variable":                    {"user = \"deploy:$FETCH_PASSWORD\"", ""},
		"a comment":                     {"# user = \"deploy:Fetch-2024x\"", ""},
		"a long name given short":       {"-user deploy:Fetch-2024x", ""},
		"other options":                 {"silent\nretry = 3\nurl = \"https://a:b@\"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := curlConfigPassword(tc.text); got != tc.want {
				t.Errorf("curlConfigPassword(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestOracleLogonVariable(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"Easy Connect":                        {"ORACLE_CONNECTION", "billing/Bill-2024x@//oradb:1521/BILLPDB", true},
		"Easy Connect without slashes":        {"DB_CONNECT_STRING", "system/Sys-2024x@oradb:1521/XEPDB1", true},
		"a net service name":                  {"SQLPLUS_LOGON", "scott/Tiger-2024x@ORCL", true},
		"a user with $ and #":                 {"TNS_DSN", "app$1#/Pw-2024x@db", true},
		"no password":                         {"ORACLE_CONNECTION", "//oradb:1521/BILLPDB", false},
		"a reference":                         {"DB_CONNECT_STRING", "billing/$(DB_PASSWORD)@oradb:1521/XEPDB1", false},
		"an image digest":                     {"ORACLE_IMAGE", "library/oracle@sha256:4b5c7a2d9e0f", false},
		"a module path":                       {"ORACLE_TOOL", "github.com/golang-migrate/migrate@v4.17.0", false},
		"a name that names no connection":     {"REPORT_TEMPLATE", "reports/monthly@finance", false},
		"a user that starts with a digit":     {"ORACLE_CONNECTION", "1app/Pw-2024x@db", false},
		"a placeholder in angle brackets":     {"ORACLE_CONNECTION", "app/<password>@db:1521/X", false},
		"a password with a slash is no logon": {"ORACLE_CONNECTION", "a/b/c@db", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := oracleLogonVariable(tc.name, tc.value); got != tc.want {
				t.Errorf("oracleLogonVariable(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

func TestHoneycombTeamHeader(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"a headers map":                {"      x-honeycomb-team: Zt7Rk2Qp9Lm4Xw8Vn3Bc", true},
		"curl's -H":                    {"curl -s https://api.honeycomb.io/1/auth -H 'x-honeycomb-team: Zt7Rk2Qp9Lm4Xw8Vn3Bc'", true},
		"curl's -H, double quotes":     {`  -H "X-Honeycomb-Team: Zt7Rk2Qp9Lm4Xw8Vn3Bc" \`, true},
		"wget's --header=":             {"wget --header=X-Honeycomb-Team:Zt7Rk2Qp9Lm4Xw8Vn3Bc -O- https://api.honeycomb.io/1/auth", true},
		"a shell parameter":            {`curl -H "x-honeycomb-team: $HONEYCOMB_API_KEY" https://api.honeycomb.io/1/auth`, false},
		"a braced shell parameter":     {`wget --header="X-Honeycomb-Team: ${HONEYCOMB_API_KEY}"`, false},
		"a placeholder":                {"curl -H 'x-honeycomb-team: <your-api-key>'", false},
		"a template":                   {`-H "x-honeycomb-team: {{ .Values.honeycomb.apiKey }}"`, false},
		"a longer header name":         {"curl -H 'x-honeycomb-team-name: Zt7Rk2Qp9Lm4Xw8Vn3Bc'", false},
		"the name within another word": {"curl -H 'my-x-honeycomb-team: Zt7Rk2Qp9Lm4Xw8Vn3Bc'", false},
		"the name without a value":     {"curl -H 'x-honeycomb-team:' https://api.honeycomb.io", false},
		"prose naming the header":      {"Honeycomb reads the key from the x-honeycomb-team header.", false},
		"Envoy's key and value":        {"- header:\n    key: x-honeycomb-team\n    value: Zt7Rk2Qp9Lm4Xw8Vn3Bc", true},
		"JSON's name and value":        {`[{"name": "X-Honeycomb-Team", "value": "Zt7Rk2Qp9Lm4Xw8Vn3Bc"}]`, true},
		"a pair's command operator":    {"- header:\n    key: x-honeycomb-team\n    value: \"%REQ(x-honeycomb-team)%\"", false},
		"a pair's variable":            {"- key: x-honeycomb-team\n  value: \"${HONEYCOMB_API_KEY}\"", false},
		"another item's value":         {"- name: x-honeycomb-team\n  value: $(KEY)\n- name: x-request-id\n  value: Zt7Rk2Qp9Lm4Xw8Vn3Bc", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := honeycombTeamHeader(tc.text); got != tc.want {
				t.Errorf("honeycombTeamHeader(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

// FuzzConfigurationReaders: a tenant writes the ConfigMap text these readers take (Consul's ACL
// tokens block, curl's, msmtp's and fetchmail's configuration, HAProxy's userlist, PgBouncer's
// auth file, header lists, Grafana's datasource headers, ERB tags and $__env{...}); whatever it holds, reading it must not panic, and credentialSettings
// names at most its limit.
func FuzzConfigurationReaders(f *testing.F) {
	for _, seed := range []string{
		"acl {\n tokens {\n  agent = \"x\"\n }\n}", "{\"acl\":{\"tokens\":{\"agent\":\"x\"}}}", "acl:\n  tokens:\n    default: x\n  y: z",
		"tokens {\n}\n}", "\"secrets\": {\n\"tokens\": [", "user = \"a:b\"\n-u\n--user=", "password\npass x",
		"user a insecure-password", "stats auth a:\"", "\"a\" \"md5\"\n\"", "Authorization=Basic%20x,authorization=,=",
		"-H 'x-honeycomb-team:", "=X-Honeycomb-Team :",
		"httpHeaderName1: Authorization\nhttpHeaderValue1: Bearer x}", "\"httpHeaderValue2\":\"", "httpHeaderName: a\nhttpHeaderValue9 = '",
		"[[headers]]\nname = \"x-honeycomb-team\"\nvalue = ", "[{name = \"x-honeycomb-team\", value = \"k\"}, {", "password: <%= x", "$__env{", "https://discord.com/api/webhooks/1/", "http://h/hooks/a/b", "https://x.logic.azure.com/?sig=%zz", "://",
		"a { password => \"", "{:password=>'x", "'pass' => x=>", "pagerduty_configs:\n- routing_key: ", "- pushover_configs:\n  - - user_key: 'x", "{\"pagerduty_configs\": [{\"routing_key\": \"", "pushover_configs: [{user_key: '", "pagerduty_configs:\n- {service_key: \"\\", "'pagerduty_configs' :[[{routing_key:", "PassNTLMv2 \nPassword x", "pagerduty_configs:\n- routing_key: |-\n", "pushover_configs:\n  - user_key:\n", "a:{PLAIN}", "a:{plain.b64", "1 HEX:", "1 SHA1 x # y", "a.PlainLoginModule required user_=\"", "DigestLoginModule user_a = \"x", "b Cleartext-Password := \"", "NT-Password==", "createUser -e", "createUser u SHA p AES", "cache_peer h parent 3128 0 login=:", "cache_peer login=*:", "<auth-user-pass>\na\nb", "auth-user-pass /a/auth.txt\nauth-user-pass /", "https://a.azurewebsites.net/?code=", "https://api.telegram.org/bot:", "https://maker.ifttt.com/with/key", "smtp_sasl_password_maps=inline:{", "_sasl_password_maps = static:", "Upstream http :@", "forward-socks5 / a:b@", "tac_plus\nkey = \"", "host x { key = }", "key=${a}}", "authParams=token:", "passdb static {\nargs = password=", "passdb {\ndriver =\nargs =\n}", "token:", "- \"brokerClientAuthenticationParameters\": 'token:x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if names := credentialSettings(text, 3); len(names) > 3 {
			t.Fatalf("credentialSettings(%q, 3) = %q", text, names)
		}
		curlConfigPassword(text)
		mailClientPassword(text)
		haproxyInsecurePassword(text)
		haproxyStatsAuth(text)
		odbcIniPassword(text)
		pgbouncerPassword(text)
		headerListCredential(text)
		honeycombTeamHeader(text)
		literalAuthorizationHeader(text)
		grafanaHeaderCredential(text)
		webhookURL(text)
		literalCredential(text)
		oracleLogonVariable("ORACLE_CONNECTION", text)
		alertmanagerReceiverKey(text)
		squidPeerLogin(text)
		postfixPasswordMaps(text)
		realmUserPassword(text)
		upstreamProxyLogin(text)
		cntlmPassword("cntlm.conf", text)
		dovecotPlainPassword(text)
		ntpSymmetricKey(text)
		jaasUserPassword(text)
		freeRADIUSPassword(text)
		snmpCreateUserPassphrase(text)
		iscKeySecret(text)
		tacacsKey("tac_plus.conf", text)
		pulsarTokenParameters(text)
		dovecotStaticPassword(text)
		openVPNCredential("auth.txt", text, nil)
		openVPNCredential("client.ovpn", text, []map[string]string{{"auth.txt": text, "": text}})
	})
}

// leakedSecrets is leakedSecretsPlain's finding alone. Only the tests call it since the checks
// ask leakedSecretsPlainUntil (15c30888).
func leakedSecrets(name, value string) (string, error) {
	leaked, _, err := leakedSecretsPlain(name, value)
	return leaked, err
}

// leakedInText names the gitleaks rules that find a credential in text (a command-line
// argument, a probe's header), as leakedSecrets does for an assignment: leakedInTextPlain's
// finding alone, which only the tests ask for.
func leakedInText(text string) (string, error) {
	leaked, _, err := leakedInTextPlain(text, nil)
	return leaked, err
}
