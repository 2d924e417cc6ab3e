package checks

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
)

// TestProgramPassword judges command lines, as argv (programPassword) and as a shell script's
// line (scriptProgramPassword), whose programs take a password with a short option no name
// says is one.
func TestProgramPassword(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		// docker login's -p, --password (pflag: -p VALUE and -pVALUE), and the same option of the
		// other registry clients' login commands.
		"docker login -p":                      {"docker login -u bob -p Orders-2024 registry.example.com", true},
		"docker login -p attached":             {"docker login -u bob -pOrders-2024 registry.example.com", true},
		"docker login after a global option":   {"docker --config /tmp/d login -u bob -p Orders-2024 r.example.com", true},
		"podman login -p":                      {"podman login -u bob -p Orders-2024 quay.io", true},
		"buildah login -p":                     {"buildah login -u bob -p Orders-2024 quay.io", true},
		"skopeo login -p":                      {"skopeo login -u bob -p Orders-2024 quay.io", true},
		"nerdctl login -p":                     {"nerdctl login -u bob -p Orders-2024 r.example.com", true},
		"helm registry login -p":               {"helm registry login ghcr.io -u bob -p Orders-2024", true},
		"oras login -p":                        {"oras login -u bob -p Orders-2024 ghcr.io", true},
		"crane auth login -p":                  {"crane auth login ghcr.io -u bob -p Orders-2024", true},
		"a full path to docker":                {"/usr/local/bin/docker login -u bob -p Orders-2024 r", true},
		"after sudo and &&":                    {"cd /x && sudo docker login -u bob -p Orders-2024 r", true},
		"sqlcmd -P":                            {"/opt/mssql-tools18/bin/sqlcmd -S db -U sa -P Orders-2024 -Q 'select 1'", true},
		"bcp -P":                               {"bcp orders out /tmp/o.dat -S db -U sa -P Orders-2024 -c", true},
		"ldapsearch -w":                        {"ldapsearch -x -H ldap://ldap -D cn=admin,dc=example,dc=org -w Orders-2024 -b dc=example,dc=org", true},
		"ldapmodify -w attached":               {"ldapmodify -x -D cn=admin,dc=example,dc=org -wOrders-2024 -f /tmp/a.ldif", true},
		"ldapadd -w":                           {"ldapadd -x -D cn=admin,dc=example,dc=org -w Orders-2024 -f /tmp/a.ldif", true},
		"docker run -p is a port":              {"docker run -p 8080:80 nginx", false},
		"podman run -p is a port":              {"podman run -d -p 5432:5432 postgres", false},
		"docker login from stdin":              {"docker login -u bob --password-stdin r.example.com", false},
		"docker login with a shell parameter":  {"docker login -u bob -p $REGISTRY_PASSWORD r.example.com", false},
		"docker login with an expansion":       {`docker login -u bob -p "$(cat /run/secrets/pw)" r.example.com`, false},
		"helm install -p is no login":          {"helm install r c -p x", false},
		"helm registry logout":                 {"helm registry logout ghcr.io", false},
		"sqlcmd with a shell parameter":        {`sqlcmd -S db -U sa -P "$SA_PASSWORD" -Q 'select 1'`, false},
		"ldapsearch -W prompts":                {"ldapsearch -x -D cn=admin,dc=example,dc=org -W -b dc=example,dc=org", false},
		"ldapsearch -w from a parameter":       {"ldapsearch -x -D cn=admin -w ${LDAP_ADMIN_PASSWORD} -b dc=x", false},
		"docker as a host name":                {"nc -z docker -p 2375", false},
		"login as an argument of another tool": {"echo login -p Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(strings.Fields(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line) != ""; got != tc.want {
				t.Errorf("scriptProgramPassword(%q) found a password: %v, want %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestSettingsGivenAsFlagValues judges settings given as a flag's value, which a command line
// passes on to what it configures: kubectl create secret --from-literal=KEY=VALUE, helm's
// --set NAME=VALUE (and its comma-separated lists), docker run's --env NAME=VALUE.
func TestSettingsGivenAsFlagValues(t *testing.T) {
	tests := map[string]struct {
		content string
		want    []string
	}{
		"kubectl --from-literal=":             {"--from-literal=password=Orders-2024", []string{"password"}},
		"kubectl in a script":                 {"kubectl create secret generic db --from-literal=password=Orders-2024 --dry-run=client -o yaml", []string{"password"}},
		"kubectl --from-literal, quoted":      {`kubectl create secret generic db --from-literal="db-password=Orders-2024"`, []string{"db-password"}},
		"kubectl --from-literal and a blank":  {"kubectl create secret generic db --from-literal password=Orders-2024", []string{"password"}},
		"helm --set=":                         {"--set=auth.rootPassword=Orders-2024", []string{"auth.rootPassword"}},
		"helm --set in a script":              {"helm upgrade --install orders ./chart --set auth.password=Orders-2024", []string{"auth.password"}},
		"helm --set-string, quoted":           {`helm install r c --set-string "redis.auth.password=Orders-2024"`, []string{"redis.auth.password"}},
		"helm --set list, an argument":        {"auth.username=orders,auth.password=Orders-2024", []string{"auth.password"}},
		"helm --set list in a script":         {"helm install r c --set auth.username=orders,auth.password=Orders-2024", []string{"auth.password"}},
		"helm --set= list":                    {"--set=auth.username=orders,auth.password=Orders-2024,auth.database=orders", []string{"auth.password"}},
		"docker --env=":                       {"docker run --env=DB_PASSWORD=Orders-2024 orders", []string{"DB_PASSWORD"}},
		"docker -e in a script":               {"docker run -d -e DB_PASSWORD=Orders-2024 orders", []string{"DB_PASSWORD"}},
		"from a shell parameter":              {`kubectl create secret generic db --from-literal=password="$PW" --from-literal=token=$TOKEN`, nil},
		"from a kubelet reference":            {"--set=auth.rootPassword=$(PW)", nil},
		"a list from references":              {"helm install r c --set auth.password=${PW},auth.username=orders", nil},
		"from a file":                         {"kubectl create secret generic db --from-file=password=/run/secrets/pw", nil},
		"keyword arguments in code":           {"client = connect(host=h,password=pw)", nil},
		"a comparison after a flag in code":   {"if [ -n password==x ]", nil},
		"a flag's value that names no secret": {"helm install r c --set image.tag=1.4.2,replicaCount=2", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := credentialSettings(tc.content, maxSettingsNamed)
			if !slices.Equal(got, tc.want) {
				t.Errorf("credentialSettings(%q) = %q, want %q", tc.content, got, tc.want)
			}
		})
	}
}

// TestInlineValuesAreReadOnce: inlineSettings tries an assignment at every '=' of a line, and
// each unquoted value was read to the next byte that ends one: a line of ?a=b repeated, a
// query string with no blank, ';' or '&', read the rest of the line at every '=' (an env value
// of 200 KB took 3.2 s of CPU to judge, 256 KiB 12 s, past the admission webhook's timeout,
// and as much at every evaluation of its namespace). The test counts the bytes read to find
// the values' ends over every '=' of the line, as inlineSettings asks.
func TestInlineValuesAreReadOnce(t *testing.T) {
	for name, line := range map[string]string{
		"a query string":           "x" + strings.Repeat("?a=b", 25_000),
		"a list after a flag":      "--set " + strings.Repeat("a=b,", 25_000),
		"assignments after blanks": "x " + strings.Repeat("--a=b ", 25_000),
		"a list in parentheses":    "f(" + strings.Repeat("?a=(b", 25_000),
		"a query string of names":  "x" + strings.Repeat("?password=b", 10_000),
		"mixed separators":         "x;password=b" + strings.Repeat("?password=b&password=c", 5_000),
	} {
		t.Run(name, func(t *testing.T) {
			st := newInlineState()
			// values is how long the values taken are together: each is read again after
			// (for '(', an interpolation, a literal), so they must not overlap without end.
			values := 0
			for i := range len(line) {
				if line[i] == '=' {
					if _, v, ok := inlineAssignment(line, i, &st); ok {
						values += len(v)
					}
				}
			}
			if st.read > 3*len(line) {
				t.Errorf("reading the values of a line of %d bytes read %d bytes, want at most %d", len(line), st.read, 3*len(line))
			}
			if values > 3*len(line) {
				t.Errorf("the values taken from a line of %d bytes are %d bytes together, want at most %d", len(line), values, 3*len(line))
			}
		})
	}
}

// TestPlaceholdersNamedForTheirSetting judges values that are the setting's own name, or it
// with a placeholder's words (YOUR_API_KEY, GOOGLE_API_KEY_VAL: a value a deploy step
// replaces, as the corpus' shopping assistant and NIM samples write), against the credentials
// and well-known defaults that stay literal.
func TestPlaceholdersNamedForTheirSetting(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"the name itself":                 {"HF_TOKEN", "HF_TOKEN", false},
		"the name and _VAL":               {"GOOGLE_API_KEY", "GOOGLE_API_KEY_VAL", false},
		"YOUR_ and the name":              {"API_KEY", "YOUR_API_KEY", false},
		"YOUR_ and part of the name":      {"OPENAI_API_KEY", "YOUR_API_KEY", false},
		"lower case, dashes":              {"api_key", "your-api-key", false},
		"a setting's name in a file":      {"db.password", "YOUR_PASSWORD", false},
		"one word is a default password":  {"password", "password", true},
		"capitalised, one word":           {"PASSWORD", "Password", true},
		"changeme":                        {"DB_PASSWORD", "changeme", true},
		"CHANGE_ME":                       {"DB_PASSWORD", "CHANGE_ME", true},
		"words not of the name":           {"DB_PASSWORD", "ORDERS_PASSWORD", true},
		"a password with digits":          {"DB_PASSWORD", "DB_PASSWORD_2024", true},
		"no credential word in the value": {"ADMIN_PASSWORD", "ADMIN_ADMIN", true},
		"a password of the name's words":  {"DB_PASSWORD", "db-password!", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := credentialValue(tc.name, tc.value); got != tc.want {
				t.Errorf("credentialValue(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

// TestUserInterfaceText judges the texts of a user interface about a credential, which a
// ConfigMap of labels or translations holds (a login form's label, placeholder and messages),
// against the credentials that stay literal.
func TestUserInterfaceText(t *testing.T) {
	names := map[string]bool{
		"PASSWORD_LABEL":           false,
		"passwordPlaceholder":      false,
		"login.password.hint":      false,
		"TOKEN_PROMPT":             false,
		"apiKeyTooltip":            false,
		"reset_password_title":     false,
		"password.description":     false,
		"token.help":               false,
		"invalid_password_message": false,
		"PASSWORD_MSG":             false,
		"PASSWORD":                 true,
		"SECRET_TEXT":              true, // Jenkins' "secret text" credential
	}
	for name, want := range names {
		if got := credentialName(name); got != want {
			t.Errorf("credentialName(%q) = %v, want %v", name, got, want)
		}
	}
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"a form's prompt":                {"password", "Enter your password", false},
		"a question":                     {"forgot", "Forgot password?", false},
		"a label of two words":           {"token", "API token", false},
		"a message with punctuation":     {"password", "Wrong password, try again.", false},
		"a message with a placeholder":   {"password", "Password must be at least {0} characters", false},
		"a printf placeholder":           {"password", "Password for %s:", false},
		"one word is a default password": {"password", "Password", true},
		"a passphrase of words":          {"PASSPHRASE", "correct horse battery staple", true},
		"words with digits":              {"DB_PASSWORD", "my password 2024", true},
		"words with a symbol":            {"DB_PASSWORD", "my password!x", true},
		"a sentence without credential":  {"DB_PASSWORD", "Orders are great", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := credentialValue(tc.name, tc.value); got != tc.want {
				t.Errorf("credentialValue(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
			}
		})
	}
}

// TestChecksumsUnderChecksumNames judges hexadecimal digests under names that say they are a
// checksum (Helm's checksum/secret annotation, which restarts pods when a Secret changes),
// which gitleaks' generic-api-key finds for their credential word and entropy, against keys in
// hexadecimal and hashes of credentials, which stay findings.
func TestChecksumsUnderChecksumNames(t *testing.T) {
	const sha256 = "3b5d5c3712955042212316173ccf37be800f9f1f3f2b6e4c5c0a9d8e7f6a5b4c"
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"Helm's checksum of a Secret":         {"checksum/secret", sha256, false},
		"a checksum of an API key's file":     {"checksum/api-key", sha256, false},
		"a key named for a checksum":          {"secret.checksum", sha256, false},
		"a variable named for a checksum":     {"API_TOKEN_CHECKSUM", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", false},
		"an MD5 checksum":                     {"checksum/secrets", "9e107d9d372bb6826bd81d3542a419d6", false},
		"a secret in hexadecimal":             {"API_SECRET", sha256, true},
		"a token's SHA-256, a hash":           {"token_sha256", sha256, true},
		"a password's hash":                   {"PASSWORD_HASH", sha256, true},
		"a checksum name, not hexadecimal":    {"checksum/secret", "Zq8wLm3rT5vB9nK2pX7cY4hJ6dF1gS0a", true},
		"a checksum name, no digest's length": {"checksum/secret", sha256[:50], true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			leaked, err := leakedSecrets(tc.name, tc.value)
			if err != nil {
				t.Fatal(err)
			}
			byName := credentialName(tc.name) && credentialValue(tc.name, tc.value)
			if got := leaked != "" || byName; got != tc.want {
				t.Errorf("%s=%s: gitleaks %q, by its name %v; want a finding %v", tc.name, tc.value, leaked, byName, tc.want)
			}
		})
	}
}

// TestPositionalPasswords judges command lines whose programs take a password as an argument
// that no option or name marks (htpasswd -b FILE USER PASSWORD, mc alias set ALIAS URL
// ACCESSKEY SECRETKEY, rabbitmqctl add_user USER PASSWORD, mysqladmin password NEW, redis-cli
// AUTH PASSWORD), as an option's value of a form no name says is a password (openssl's
// -passout pass:PASSWORD, keytool's -storepass PASSWORD) or on their standard input from echo
// (echo USER:PASSWORD | chpasswd), as argv (programPassword) and as a shell script's line
// (scriptProgramPassword). References stay Pass: the program reads them from the environment,
// a file or its input.
func TestPositionalPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"htpasswd -b":                             {"htpasswd -b /etc/nginx/.htpasswd admin Orders-2024", true},
		"htpasswd -bc":                            {"htpasswd -bc /etc/nginx/.htpasswd admin Orders-2024", true},
		"htpasswd -nb":                            {"htpasswd -nb admin Orders-2024", true},
		"htpasswd -Bbn":                           {"htpasswd -Bbn admin Orders-2024", true},
		"htpasswd -b -c, bcrypt's cost":           {"htpasswd -b -c -B -C 12 /etc/nginx/.htpasswd admin Orders-2024", true},
		"htpasswd -nb to a file":                  {"htpasswd -nb admin Orders-2024 > /etc/nginx/.htpasswd", true},
		"mc alias set":                            {"mc alias set myminio http://minio:9000 minioadmin Orders-2024", true},
		"mc alias set with --api":                 {"mc alias set --api S3v4 myminio http://minio:9000 minioadmin Orders-2024", true},
		"mc config host add":                      {"mc config host add myminio http://minio:9000 minioadmin Orders-2024", true},
		"rabbitmqctl add_user":                    {"rabbitmqctl add_user admin Orders-2024", true},
		"rabbitmqctl -n node change_password":     {"rabbitmqctl -n rabbit@mq change_password admin Orders-2024", true},
		"chpasswd from echo":                      {"echo 'admin:Orders-2024' | chpasswd", true},
		"chpasswd from echo, double quotes":       {`echo "root:Orders-2024" | sudo chpasswd`, true},
		"chpasswd from a here-string":             {"chpasswd <<< 'root:Orders-2024'", true},
		"passwd --stdin from echo":                {"echo Orders-2024 | passwd --stdin admin", true},
		"docker login --password-stdin from echo": {"echo Orders-2024 | docker login -u ci --password-stdin registry.example.com", true},
		"mysqladmin password":                     {"mysqladmin -u root password Orders-2024", true},
		"mysqladmin password after a command":     {"mysqladmin -u root -h db flush-privileges password Orders-2024", true},
		"redis-cli AUTH":                          {"redis-cli -h redis AUTH Orders-2024", true},
		"redis-cli auth user password":            {"redis-cli -h redis -p 6379 auth default Orders-2024", true},
		"openssl -passout pass:":                  {"openssl pkcs12 -export -in c.pem -inkey k.pem -out c.p12 -passout pass:Orders-2024", true},
		"openssl -passin pass:":                   {"openssl rsa -in k.pem -passin pass:Orders-2024 -out k2.pem", true},
		"openssl -pass pass:":                     {"openssl enc -aes-256-cbc -in a -out b -pass pass:Orders-2024", true},
		"openssl -password pass:":                 {"openssl pkcs12 -export -in c.pem -out c.p12 -password pass:Orders-2024", true},
		"openssl -passout=pass:":                  {"openssl pkcs12 -export -in c.pem -out c.p12 -passout=pass:Orders-2024", true},
		"openssl enc -k":                          {"openssl enc -d -aes-256-cbc -in a -out b -k Orders-2024", true},
		"keytool -storepass":                      {"keytool -import -file c.pem -keystore t.jks -storepass Orders-2024 -noprompt", true},
		"keytool -keypass":                        {"keytool -genkeypair -alias a -keystore k.jks -keypass Orders-2024 -storepass:env KS_PW", true},
		"keytool -deststorepass":                  {"keytool -importkeystore -srckeystore c.p12 -srcstorepass:file /run/p -destkeystore k.jks -deststorepass Orders-2024", true},
		"keytool -new":                            {"keytool -storepasswd -keystore k.jks -storepass:env OLD -new Orders-2024", true},
		"jarsigner -storepass":                    {"jarsigner -keystore k.jks -storepass Orders-2024 app.jar signer", true},

		"htpasswd without -b prompts":             {"htpasswd -c /etc/nginx/.htpasswd admin", false},
		"htpasswd -b from a shell parameter":      {`htpasswd -bc /etc/nginx/.htpasswd "$USER" "$PASS"`, false},
		"htpasswd -nb from a kubelet reference":   {"htpasswd -nb admin $(HTPASSWD)", false},
		"htpasswd -b from a substitution":         {"htpasswd -b /etc/nginx/.htpasswd admin $(cat /run/secrets/pw)", false},
		"htpasswd -i reads stdin":                 {"htpasswd -ci /etc/nginx/.htpasswd admin", false},
		"mc alias set from parameters":            {`mc alias set myminio http://minio:9000 "$MINIO_ACCESS_KEY" "${MINIO_SECRET_KEY}"`, false},
		"mc alias set prompts":                    {"mc alias set myminio http://minio:9000", false},
		"mc ls":                                   {"mc ls myminio/bucket", false},
		"rabbitmqctl add_user from a parameter":   {`rabbitmqctl add_user admin "$RABBITMQ_PASSWORD"`, false},
		"rabbitmqctl set_permissions -p vhost":    {`rabbitmqctl set_permissions -p / admin ".*" ".*" ".*"`, false},
		"rabbitmqctl list_users":                  {"rabbitmqctl list_users", false},
		"chpasswd from a parameter":               {`echo "root:${ROOT_PASSWORD}" | chpasswd`, false},
		"chpasswd from a file":                    {"cat /run/secrets/users | chpasswd", false},
		"echo to another program":                 {"echo 'admin:Orders-2024' | tee /tmp/x", false},
		"docker login stdin from a file":          {"cat /run/secrets/pw | docker login -u ci --password-stdin r.example.com", false},
		"mysqladmin password from a parameter":    {`mysqladmin -u root password "$MYSQL_ROOT_PASSWORD"`, false},
		"mysqladmin ping":                         {"mysqladmin -u root -h db ping", false},
		"mysqladmin user named password":          {"mysqladmin -u password -h db ping", false},
		"redis-cli AUTH from a parameter":         {`redis-cli -h redis AUTH "$REDIS_PASSWORD"`, false},
		"redis-cli -h auth ping":                  {"redis-cli -h auth ping", false},
		"redis-cli GET auth":                      {"redis-cli GET auth", false},
		"openssl -passin env:":                    {"openssl rsa -in k.pem -passin env:KEY_PASSWORD -out k2.pem", false},
		"openssl -passout file:":                  {"openssl pkcs12 -export -in c.pem -out c.p12 -passout file:/run/secrets/p12", false},
		"openssl -passin stdin":                   {"openssl rsa -in k.pem -passin stdin -out k2.pem", false},
		"openssl -passin fd:":                     {"openssl rsa -in k.pem -passin fd:3 -out k2.pem", false},
		"openssl -passout pass: from a variable":  {`openssl pkcs12 -export -in c.pem -out c.p12 -passout "pass:$P12_PASSWORD"`, false},
		"openssl s_client -k is no password":      {"openssl x509 -in c.pem -noout -text", false},
		"keytool -storepass:env":                  {"keytool -list -keystore k.jks -storepass:env KEYSTORE_PASSWORD", false},
		"the JDK trust store's published default": {"keytool -importcert -noprompt -keystore $JAVA_HOME/lib/security/cacerts -storepass changeit -alias corp -file /ca/ca.crt", false},
		"keytool -cacerts and its default":        {"keytool -importcert -noprompt -cacerts -storepass changeit -alias corp -file /ca/ca.crt", false},
		"changeit on a keystore of keys":          {"keytool -genkeypair -alias a -keystore /ks/server.jks -storepass changeit -keypass changeit", true},
		"another password for cacerts":            {"keytool -importcert -noprompt -cacerts -storepass Orders-2024 -file /ca/ca.crt", true},
		"keytool -storepass:file":                 {"keytool -list -keystore k.jks -storepass:file /run/secrets/ks", false},
		"keytool -storepass from a parameter":     {`keytool -list -keystore k.jks -storepass "$KEYSTORE_PASSWORD"`, false},
		"htpasswd as an argument of echo":         {"echo htpasswd -b f admin Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(strings.Fields(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestCommandLinesAreReadOnce: a tenant writes the command lines the readers of
// programPassword read, so each word is looked at a bounded number of times, whatever the
// programs and pipes of the line (a reader that went back over the line, or over every
// command before, at each program would read a line of many commands quadratically). The
// test counts the words the readers look at.
func TestCommandLinesAreReadOnce(t *testing.T) {
	for name, line := range map[string]string{
		"htpasswd's options":          "htpasswd " + strings.Repeat("-bC 1 ", 50_000),
		"htpasswd's operands":         "htpasswd -b " + strings.Repeat("f ", 100_000),
		"many htpasswd commands":      strings.Repeat("htpasswd -b f u; ", 25_000),
		"mc's options":                "mc alias set " + strings.Repeat("--api x ", 50_000),
		"many mc commands":            strings.Repeat("mc alias set a u k | ", 20_000),
		"rabbitmqctl's options":       "rabbitmqctl " + strings.Repeat("-n x ", 50_000),
		"mysqladmin's commands":       "mysqladmin " + strings.Repeat("password ", 100_000),
		"redis-cli's options":         "redis-cli " + strings.Repeat("-h x ", 50_000),
		"openssl's options":           "openssl enc " + strings.Repeat("-passin env:x ", 50_000),
		"keytool's options":           "keytool " + strings.Repeat("-storepass:env x ", 50_000),
		"a pipeline of echo":          "echo " + strings.Repeat("a ", 50_000) + strings.Repeat("| chpasswd ", 50_000),
		"echo into many readers":      strings.Repeat("echo a b c d | docker login --password-stdin ", 10_000),
		"here-strings":                "chpasswd " + strings.Repeat("<<<$x ", 100_000),
		"words in command position":   strings.Repeat("sudo env A=1 ", 50_000),
		"separators":                  strings.Repeat("; && || | & ", 40_000),
		"an unclosed substitution":    "htpasswd -b f u " + strings.Repeat("$( ", 100_000),
		"quotes and parameter blocks": strings.Repeat(`"a b" 'c d' ${e f} $(g h) `, 20_000),
		"printf's conversions":        "printf '" + strings.Repeat("%s", 50_000) + "' " + strings.Repeat("a ", 50_000) + "| chpasswd",
		"printf into many readers":    strings.Repeat("printf '%s:%s' a b | chpasswd ", 10_000),
		"openssl passwd's options":    "openssl passwd " + strings.Repeat("-salt x ", 50_000),
		"openssl's key options":       "openssl dgst " + strings.Repeat("-macopt x -hmac $k ", 25_000),
		"redis-cli's input":           strings.Repeat("echo AUTH | redis-cli -h x ", 10_000),
		"redis-cli's here-strings":    "redis-cli " + strings.Repeat("-h x <<<$a ", 30_000),
		"smbclient's users":           "smbclient " + strings.Repeat("-U u%$p --user=u ", 30_000),
		"vault login's options":       "vault login " + strings.Repeat("-path x -no-print ", 30_000),
		"many 7z commands":            strings.Repeat("7z x -p a; ", 25_000),
		"mysql's statements":          "mysql " + strings.Repeat(`-e "SELECT 1" `, 50_000),
		"SQL on echo's output":        strings.Repeat(`echo "SET PASSWORD = $p" | mysql `, 10_000),
		"aws's options":               "aws " + strings.Repeat("--profile x ", 50_000) + "configure set",
		"many config set commands":    strings.Repeat("npm config set a=b; kubectl config set x ", 20_000),
		"mysql's options":             "mysql " + strings.Repeat("-h x ", 50_000),
		"useradd's options":           "useradd " + strings.Repeat("-p '!' ", 50_000),
		"a crontab line's options":    "* * * * * root mysql " + strings.Repeat("-h x ", 50_000),
		"echo into crontab":           "echo '* * * * * a " + strings.Repeat("b ", 50_000) + "' | crontab -",
	} {
		t.Run(name, func(t *testing.T) {
			words := shellWords(line)
			var r commandReader
			r.programPassword(words)
			// A quoted word's own words count where a reader splits it again (the crontab
			// lines echo prints).
			size := max(len(words), len(strings.Fields(line)))
			if r.read > 4*size+4 {
				t.Errorf("reading a command line of %d words looked at %d words, want at most %d", size, r.read, 4*size+4)
			}
		})
	}
}

// TestScriptWordsAfterAnUnclosedSubstitution: argumentCredential reads a script with its
// backquotes written as "$(" (`cat f` is $(cat f$(), so a substitution may have no ')': what
// follows it on the line is still split into words and read, as it was at blanks before the
// script was split as the shell does.
func TestScriptWordsAfterAnUnclosedSubstitution(t *testing.T) {
	for _, line := range []string{
		"docker login -u ci -p $(cat /run/pw$( r.example.com && mysql -uroot -pOrders-2024 orders",
		"echo ${UNCLOSED && mysql -uroot -pOrders-2024 orders",
		"htpasswd -b f u `cat /pw` ; mysql -uroot -pOrders-2024",
	} {
		if scriptProgramPassword(line) == "" {
			t.Errorf("scriptProgramPassword(%q) found no password", line)
		}
	}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`a "b c" 'd e' $(f g) ${h i} x|y z;w`, []string{"a", `"b c"`, "'d e'", "$(f g)", "${h i}", "x", "|", "y", "z", ";", "w"}},
		{"a 2>&1 &>/dev/null && b || c |& d # e", []string{"a", "2>&1", "&>/dev/null", "&&", "b", "||", "c", "|&", "d"}},
	} {
		if got := shellWords(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestCredentialFlagsInScripts judges a credential flag given its value in the next word
// (--password VALUE) in a shell script: a `sh -c` argument, and a ConfigMap's script, as the
// argv form (credentialFlag) is judged. Here-documents are read as the shell reads them: a body
// is the input of its command, so a help text (usage: ... --password PASSWORD) is data, a
// body fed to a shell, written to a file (which may be run later) or a script (#!) is
// commands, and a body fed to a program
// that reads a password from its input (chpasswd, passwd --stdin, login --password-stdin) gives
// it one.
func TestCredentialFlagsInScripts(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"--password VALUE":                       {"myapp --password Orders-2024", true},
		"an exec'd server's --db-password":       {"set -e\nexec /app/server --db-password Orders-2024 --port 8080", true},
		"argocd login --password":                {"argocd login argocd.example.com --username admin --password Orders-2024 --insecure", true},
		"kubectl --token":                        {"kubectl --token Orders-2024 get pods", true},
		"kubeadm join --token":                   {"kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-unsafe-skip-ca-verification", true},
		"quoted value":                           {`myapp --api-key 'Orders-2024' --verbose`, true},
		"a continued line":                       {"myapp \\\n  --password \\\n  Orders-2024", true},
		"after && and a prefix":                  {"cd /app && sudo ./bin/sync --client-secret Orders-2024", true},
		"a here-document fed to sh":              {"sh <<EOF\nmyapp --password Orders-2024\nEOF", true},
		"a here-document fed to kubectl exec sh": {"kubectl exec -i db-0 -- bash <<'EOF'\nmysql -uroot -pOrders-2024 orders\nEOF", true},
		"a here-document written as a script":    {"cat > /usr/local/bin/run.sh <<'EOF'\n#!/bin/sh\nmyapp --password Orders-2024\nEOF\nsh /usr/local/bin/run.sh", true},
		"a here-document with #! to a file":      {"cat <<EOF > /entry\n#!/bin/sh\nexec myapp --password Orders-2024\nEOF", true},
		"chpasswd from a here-document":          {"chpasswd <<EOF\nroot:Orders-2024\nEOF", true},
		"chpasswd from cat's here-document":      {"cat <<EOF | chpasswd\nadmin:Orders-2024\nEOF", true},
		"chpasswd from an indented one":          {"if true; then\n\tchpasswd <<-END\n\t\troot:Orders-2024\n\tEND\nfi", true},
		"passwd --stdin from a here-document":    {"passwd --stdin admin <<EOF\nOrders-2024\nEOF", true},
		"docker login from a here-document":      {"docker login -u ci --password-stdin r.example.com <<EOF\nOrders-2024\nEOF", true},
		"a file cat writes, no #!":               {"cat > /docker-entrypoint-initdb.d/01-users <<'EOF'\nmysql -uroot -pOrders-2024 -e 'select 1'\nEOF", true},
		"a file tee writes":                      {"tee -a /usr/local/bin/backup <<EOF\nsshpass -p Orders-2024 rsync -a /d u@h:/b\nEOF", true},
		"a file cat appends to":                  {"cat <<EOF >> /root/.profile\nmyapp --token Orders-2024\nEOF", true},
		"commands after a help text":             {"usage() {\n  cat <<EOF\nusage: $0 --password PASSWORD\nEOF\n}\nmyapp --password Orders-2024", true},

		"--password from a parameter":              {`myapp --password "$DB_PASSWORD"`, false},
		"--password from a substitution":           {"myapp --password $(cat /run/secrets/pw)", false},
		"--password from braces":                   {"myapp --password ${DB_PASSWORD}", false},
		"--password-file":                          {"myapp --password-file /run/secrets/pw", false},
		"--password then another flag":             {"myapp --password --host db", false},
		"--password to a redirection":              {"myapp --password <<<\"$PW\"", false},
		"an angle-bracket placeholder":             {"myapp --password <password>", false},
		"empty":                                    {`myapp --password ""`, false},
		"a switch":                                 {"myapp --no-password orders", false},
		"a lifetime":                               {"myapp --token-ttl 1h", false},
		"echo's text":                              {"echo usage: myapp --password PASSWORD", false},
		"printf's text":                            {"printf '%s\\n' usage: --password PASSWORD", false},
		"a case pattern":                           {"case \"$1\" in\n  --password) PASSWORD=\"$2\"; shift 2 ;;\n  --password=*) PASSWORD=\"${1#*=}\" ;;\nesac", false},
		"a case pattern with alternatives":         {"case $1 in\n  -p|--password) shift; PW=$1 ;;\nesac", false},
		"a help text in a here-document":           {"usage() {\n  cat <<EOF\nusage: $0 --password PASSWORD --host HOST\n  myapp --token TOKEN\n  htpasswd -b FILE USER PASSWORD\nEOF\n}", false},
		"a help text to stderr":                    {"cat >&2 <<-'USAGE'\n\tmyapp --api-key KEY\n\tUSAGE\nexit 1", false},
		"a help text to /dev/stderr":               {"cat > /dev/stderr <<EOF\nusage: myapp --password PASSWORD\nEOF", false},
		"a help text cat pipes to less":            {"cat <<EOF | less\nmyapp --password PASSWORD\nEOF", false},
		"SQL fed to psql":                          {"psql -v ON_ERROR_STOP=1 <<-EOSQL\n\tSELECT 1 -- --password x\n\tEOSQL", false},
		"chpasswd from a parameter in one":         {"chpasswd <<EOF\nroot:${ROOT_PASSWORD}\nEOF", false},
		"mysql's --password prompts":               {"mysql -u root --password orders", false},
		"psql's --password prompts":                {"psql -h db -U app --password orders", false},
		"openssl -pass env:":                       {"openssl enc -d -aes-256-cbc -pass env:ENC_KEY -in a -out b", false},
		"openssl -pass stdin":                      {"openssl enc -d -aes-256-cbc -pass stdin -in a -out b", false},
		"a placeholder named for the flag":         {"myapp --api-key YOUR_API_KEY", false},
		"a here-string to an unrelated program":    {"grep -q x <<< \"--password Orders-2024\"", false},
		"an arithmetic shift is no here-document":  {"n=$((1<<4))\nmyapp --password \"$PW\"", false},
		"an unclosed here-document hides the rest": {"cat <<EOF\nmyapp --password PASSWORD", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := scriptProgramPassword(tc.script); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.script, got, tc.want)
			}
			argv := commandLineCredentials([]string{"sh", "-c", tc.script}, nil, map[string]string{}, &expansion{left: expansionAllowance})
			if got := len(argv) > 0; got != tc.want {
				t.Errorf("sh -c %q: %q, want a credential %v", tc.script, argv, tc.want)
			}
			if got := keyCredential("entrypoint.sh", tc.script, false); (got != "") != tc.want {
				t.Errorf("ConfigMap key entrypoint.sh %q: %q, want a credential %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestCredentialFlagsAProgramReadsItself judges, as argv, credential flags that take no value
// from the next argument, or whose value the program reads as a reference: MySQL's
// --password[=password] (the next argument is the database), PostgreSQL's --password (-W, a
// prompt) and OpenSSL's -pass env:VAR, fd:N and stdin (openssl-passphrase-options(1)).
func TestCredentialFlagsAProgramReadsItself(t *testing.T) {
	tests := map[string]struct {
		argv []string
		want bool
	}{
		"mysql --password prompts":          {[]string{"mysql", "-u", "root", "--password", "orders"}, false},
		"mysqldump --password prompts":      {[]string{"/usr/bin/mysqldump", "--password", "orders"}, false},
		"psql --password prompts":           {[]string{"psql", "-U", "app", "--password", "orders"}, false},
		"pg_dump --password prompts":        {[]string{"pg_dump", "--password", "orders"}, false},
		"openssl -pass env:":                {[]string{"openssl", "enc", "-d", "-aes-256-cbc", "-pass", "env:ENC_KEY"}, false},
		"openssl -passin stdin":             {[]string{"openssl", "rsa", "-in", "k.pem", "-passin", "stdin"}, false},
		"openssl -pass fd:":                 {[]string{"openssl", "enc", "-d", "-aes-256-cbc", "-pass", "fd:3"}, false},
		"a placeholder named for the flag":  {[]string{"myapp", "--api-key", "YOUR_API_KEY"}, false},
		"mysql --password= is a password":   {[]string{"mysql", "-u", "root", "--password=Orders-2024", "orders"}, true},
		"openssl -pass pass:":               {[]string{"openssl", "enc", "-d", "-aes-256-cbc", "-pass", "pass:Orders-2024"}, true},
		"another program's --password":      {[]string{"myapp", "--password", "Orders-2024"}, true},
		"mongosh --password takes the next": {[]string{"mongosh", "--username", "app", "--password", "Orders-2024"}, true},
		"args to an image's entrypoint":     {[]string{"--password", "Orders-2024"}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			found := commandLineCredentials(tc.argv, nil, map[string]string{}, &expansion{left: expansionAllowance})
			if got := len(found) > 0; got != tc.want {
				t.Errorf("%q: %q, want a credential %v", tc.argv, found, tc.want)
			}
			found = commandLineCredentials(tc.argv[:1], tc.argv[1:], map[string]string{}, &expansion{left: expansionAllowance})
			if got := len(found) > 0; got != tc.want {
				t.Errorf("command %q args %q: %q, want a credential %v", tc.argv[:1], tc.argv[1:], found, tc.want)
			}
		})
	}
}

// TestScriptsAreReadOnce: the here-documents of a tenant's script are read once each, line by
// line, whatever opens them (many on one command, bodies that never end, bodies fed to shells
// within bodies fed to shells, scripts written by scripts): a reader that searched for each
// body's end and then read the body again, or that read a command's words again at each of
// its operators, would read such a script quadratically. The test counts the words and lines
// the readers look at.
func TestScriptsAreReadOnce(t *testing.T) {
	for name, script := range map[string]string{
		"many operators on one command": "cat " + strings.Repeat("<<A ", 50_000) + "\n" + strings.Repeat("x\nA\n", 50_000),
		"shells within shells":          strings.Repeat("sh <<EOF\n", 50_000),
		"scripts written by scripts":    strings.Repeat("cat > /r <<EOF\n#!/bin/sh\n", 30_000),
		"bodies that never end":         strings.Repeat("cat <<EOF\n", 50_000),
		"a long chpasswd body":          "chpasswd <<EOF\n" + strings.Repeat("root:$x\n", 100_000),
		"many short bodies":             strings.Repeat("chpasswd <<EOF\nroot:$x\nEOF\n", 30_000),
		"cat piped on and on":           strings.Repeat("cat <<A | ", 30_000) + "chpasswd\n" + strings.Repeat("u:$p\n", 30_000),
		"indented ends":                 strings.Repeat("passwd --stdin u <<-E\n\t$p\n\tE\n", 30_000),
		"credential flags":              "myapp " + strings.Repeat("--password $p ", 50_000),
		"a long SQL body":               "mysql <<EOF\n" + strings.Repeat("CREATE USER a IDENTIFIED BY '$p';\n", 50_000),
		"many SQL bodies":               strings.Repeat("psql <<EOF\nALTER ROLE a PASSWORD '$p';\nEOF\n", 30_000),
		"SQL files written":             strings.Repeat("cat > /i/a.sql <<'EOF'\nSELECT 1;\nEOF\n", 30_000),
		"mysql's options":               "mysql " + strings.Repeat("-h x ", 50_000),
		"crontab lines":                 "crontab <<EOF\n" + strings.Repeat("*/5 * * * * root backup --password $p\n", 30_000),
		"lines echoed to crontab":       strings.Repeat("echo '* * * * * x -p $p | crontab -' | crontab -\n", 30_000),
		"command substitutions":         strings.Repeat("a=$(mysql -h h -p $p -e x) b=`redis-cli -a $p` ", 30_000),
		"process substitutions":         "diff " + strings.Repeat("<(mysql -h h -e x) ", 50_000),
		"operators as delimiters":       strings.Repeat("cat << 0 0 0\n", 30_000),
		"operators alone":               strings.Repeat("<< 0 ", 50_000),
		"operators run together":        strings.Repeat("cat <<", 50_000),
		"a wrapper's options":           "sudo " + strings.Repeat("-u x ", 50_000) + "<<< $p",
		"wrappers of wrappers":          strings.Repeat("sudo -S -u x timeout 5 ", 30_000) + "<<< $p",
		"groups piped on and on":        strings.Repeat("{ echo $p; } | ", 30_000) + "passwd",
		"password files written":        strings.Repeat("cat > ~/.pgpass <<EOF\nh:5432:d:u:$p\nEOF\n", 30_000),
		"ssh within ssh":                strings.Repeat("ssh h ", 50_000) + "mysql -p$p\n" + strings.Repeat("ssh h 'x'; ", 30_000),
		"exec in containers on and on":  strings.Repeat("kubectl exec p -- docker exec -it c ", 20_000) + "mysql -p$p\n" + "kubectl " + strings.Repeat("exec ", 50_000),
		"docker's global options":       strings.Repeat("docker --config d -H h ", 30_000) + "exec c mysql -p$p\n" + strings.Repeat("docker -c ", 50_000),
		"add-user's options":            "add-user.sh " + strings.Repeat("-u a -r b ", 50_000) + "\n" + strings.Repeat("add-user-keycloak.sh -p $p; ", 30_000),
		"curl's credential options":     "curl " + strings.Repeat("--oauth2-bearer $p -U u:$p ", 30_000),
		"java's options before the jar": "java " + strings.Repeat("-cp x -Xmx1g ", 30_000) + "-jar jenkins-cli.jar " + strings.Repeat("-auth u:$p ", 30_000),
		"kubectl exec without --":       strings.Repeat("kubectl -n x exec -c y p ", 30_000) + "chpasswd <<< $p\n" + strings.Repeat("kubectl -n ", 50_000),
		"files printed for a program":   "mysql " + strings.Repeat("--defaults-file=<(printf '[client]\\nhost=h %s' $p) ", 30_000),
		"quotes open across lines":      "echo \"" + strings.Repeat("$p\n", 50_000) + "\" | passwd\n" + strings.Repeat("echo \"\n\" | ", 30_000) + "chpasswd",
		"shells' scripts":               strings.Repeat(`sh -c "mysql -h x -p$p" `, 30_000) + "\n" + strings.Repeat("su -c 'x' u; ", 30_000),
		"functions within functions":    strings.Repeat("function f() { g () ( h(){ ", 30_000) + "mysql -p$p",
		"key files printed":             "cryptsetup open d n " + strings.Repeat("-d <(echo -n $p) --key-file=<(printf %s $p) ", 30_000),
	} {
		t.Run(name, func(t *testing.T) {
			r := commandReader{flags: true}
			if why := r.script(script); why != "" {
				t.Fatalf("found %q", why)
			}
			size := len(strings.Fields(script)) + strings.Count(script, "\n") + 1
			if r.read > 4*size+4 {
				t.Errorf("reading a script of %d words and lines looked at %d, want at most %d", size, r.read, 4*size+4)
			}
		})
	}
}

// TestPasswordsOnInputAndKeysOfOpenSSL judges passwords printf formats onto a password
// reader's input (printf 'root:%s\n' VALUE | chpasswd), Redis's AUTH command on redis-cli's
// input (echo "AUTH VALUE" | redis-cli, and a here-document or here-string of commands), and
// OpenSSL's keys and passwords given as a value or an operand (openssl passwd VALUE, dgst
// -hmac VALUE, enc -K HEX, s_client -psk HEX, mac -macopt key:VALUE), as argv and as a shell
// script's line. References stay Pass.
func TestPasswordsOnInputAndKeysOfOpenSSL(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"printf %s to chpasswd":                  {`printf 'root:%s\n' Orders-2024 | chpasswd`, true},
		"printf %s:%s to chpasswd":               {`printf '%s:%s\n' root Orders-2024 | chpasswd`, true},
		"printf %s to docker login":              {`printf '%s' Orders-2024 | docker login -u ci --password-stdin r.example.com`, true},
		"printf %s to passwd --stdin":            {`printf "%s\n" Orders-2024 | passwd --stdin admin`, true},
		"echo AUTH to redis-cli":                 {`echo "AUTH Orders-2024" | redis-cli -h redis`, true},
		"printf AUTH user password to redis-cli": {`printf 'AUTH default Orders-2024\nPING\n' | redis-cli`, true},
		"a here-string of AUTH to redis-cli":     {`redis-cli -h redis <<< "AUTH Orders-2024"`, true},
		"openssl passwd":                         {"openssl passwd -6 Orders-2024", true},
		"openssl passwd with a salt":             {"openssl passwd -1 -salt xyz Orders-2024", true},
		"openssl dgst -hmac":                     {"openssl dgst -sha256 -hmac Orders-2024 /data/file", true},
		"openssl enc -K":                         {"openssl enc -aes-256-cbc -K 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff -iv 00112233445566778899aabbccddeeff -in a -out b", true},
		"openssl s_client -psk":                  {"openssl s_client -connect h:443 -psk_identity c -psk 1a2b3c4d5e6f7a8b9c0d", true},
		"openssl mac -macopt key:":               {"openssl mac -digest SHA256 -macopt key:Orders-2024 -in f HMAC", true},
		"openssl mac -macopt hexkey:":            {"openssl mac -digest SHA256 -macopt hexkey:00112233445566778899aabbccddeeff -in f HMAC", true},

		"printf %s from a parameter":         {`printf 'root:%s\n' "$ROOT_PASSWORD" | chpasswd`, false},
		"printf %s from a substitution":      {`printf '%s\n' "$(cat /run/pw)" | docker login -u ci --password-stdin r`, false},
		"printf %s of a user, no password":   {`printf '%s\n' root | chpasswd`, false},
		"printf %d is no text we read":       {`printf 'root:%d\n' 2024 | chpasswd`, false},
		"echo a command to redis-cli":        {`echo "shutdown" | redis-cli -a "${AUTH}" --no-auth-warning -p 6379`, false},
		"echo AUTH from a parameter":         {`echo "AUTH $REDIS_PASSWORD" | redis-cli -h redis`, false},
		"echo GET auth to redis-cli":         {`echo "GET auth" | redis-cli`, false},
		"redis-cli -x reads a value":         {`echo "AUTH Orders-2024" | redis-cli -x SET note`, false},
		"openssl passwd -stdin":              {"openssl passwd -6 -stdin", false},
		"openssl passwd -in":                 {"openssl passwd -6 -in /run/secrets/pw", false},
		"openssl dgst -hmac from a variable": {`openssl dgst -sha256 -hmac "$HMAC_KEY" /data/file`, false},
		"openssl enc -K from a variable":     {`openssl enc -aes-256-cbc -K "$KEY_HEX" -iv "$IV_HEX" -in a -out b`, false},
		"openssl s_client -psk from a file":  {`openssl s_client -connect h:443 -psk "$(cat /run/psk)"`, false},
		"openssl dgst -sign a key file":      {"openssl dgst -sha256 -sign /k/key.pem -out s /data/file", false},
		"openssl -K is enc's only":           {"openssl x509 -in c.pem -noout -text", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(tc.line, "<<") {
				i, why := programPassword(shellWords(tc.line))
				if got := i >= 0; got != tc.want {
					t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
				}
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
	for script, want := range map[string]bool{
		"redis-cli -h redis <<EOF\nAUTH Orders-2024\nSET a b\nEOF":         true,
		"redis-cli -h redis <<EOF\nAUTH \"$REDIS_PASSWORD\"\nSET a b\nEOF": false,
		"redis-cli -h redis <<'EOF'\nSET auth x\nEOF":                      false,
	} {
		if got := scriptProgramPassword(script); (got != "") != want {
			t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", script, got, want)
		}
	}
}

// TestMoreProgramPasswords judges the password options and arguments of more programs that
// run in containers' commands, probes and scripts: ssh-keygen -N, zip/unzip -P, 7z -p,
// mosquitto_pub/sub -P, cqlsh -p, az login -p, a user and password in one value
// (smbclient -U USER%PASSWORD, etcdctl --user USER:PASSWORD, lftp -u USER,PASSWORD), and vault
// login TOKEN, as argv and as a shell script's line.
func TestMoreProgramPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"ssh-keygen -N":                    {"ssh-keygen -t ed25519 -N Orders-2024 -f /keys/id", true},
		"ssh-keygen -N attached":           {"ssh-keygen -t ed25519 -NOrders-2024 -f /keys/id", true},
		"zip -P":                           {"zip -r -P Orders-2024 /b/orders.zip /data", true},
		"unzip -P":                         {"unzip -o -P Orders-2024 /b/orders.zip -d /data", true},
		"7z -p attached":                   {"7z x -pOrders-2024 /b/orders.7z -o/data", true},
		"mosquitto_pub -P":                 {"mosquitto_pub -h mqtt -u orders -P Orders-2024 -t health -m ping", true},
		"mosquitto_sub -P":                 {"mosquitto_sub -h mqtt -u orders -P Orders-2024 -t '$SYS/#' -C 1", true},
		"cqlsh -p":                         {"cqlsh -u cassandra -p Orders-2024 -e 'describe keyspaces' cassandra", true},
		"az login -p":                      {"az login --service-principal -u 00000000-0000-0000-0000-000000000000 -p Orders-2024 --tenant example.com", true},
		"smbclient -U user%password":       {"smbclient //files/share -U orders%Orders-2024 -c ls", true},
		"smbclient --user=user%password":   {"smbclient //files/share --user=orders%Orders-2024 -c ls", true},
		"etcdctl --user user:password":     {"etcdctl --endpoints=https://etcd:2379 --user root:Orders-2024 endpoint health", true},
		"etcdctl --user=user:password":     {"etcdctl --user=root:Orders-2024 get /x", true},
		"lftp -u user,password":            {"lftp -u orders,Orders-2024 -e 'mirror /in /data; quit' ftp://files", true},
		"vault login TOKEN":                {"vault login hvs.CAESIJlU0aKY8Q2x7Lx6a9vT3gPqM1bN5cW8eR2tY4uI0oP", true},
		"vault login TOKEN after a flag":   {"vault login -no-print Orders-2024-root-token", true},
		"ssh-keygen -N empty":              {"ssh-keygen -t ed25519 -N '' -f /keys/id", false},
		"ssh-keygen -N from a parameter":   {`ssh-keygen -t ed25519 -N "$KEY_PASSPHRASE" -f /keys/id`, false},
		"zip without -P":                   {"zip -r /b/orders.zip /data", false},
		"unzip -P from a parameter":        {`unzip -P "$ZIP_PASSWORD" /b/orders.zip`, false},
		"7z -p prompts":                    {"7z x -p /b/orders.7z", false},
		"mosquitto_pub -p is a port":       {"mosquitto_pub -h mqtt -p 1883 -t health -m ping", false},
		"cqlsh -p from a parameter":        {`cqlsh -u cassandra -p "$CASSANDRA_PASSWORD" cassandra`, false},
		"az login -p a certificate":        {"az login --service-principal -u 00000000-0000-0000-0000-000000000000 -p /certs/sp.pem --tenant example.com", false},
		"az vm create -p is not login":     {"az group create -n orders -l westeurope -p x", false},
		"smbclient -U a user":              {"smbclient //files/share -U orders -c ls", false},
		"smbclient -U user%parameter":      {`smbclient //files/share -U "orders%$SMB_PASSWORD" -c ls`, false},
		"etcdctl --user a user":            {"etcdctl --user root get /x", false},
		"etcdctl --user user:parameter":    {`etcdctl --user "root:${ETCD_ROOT_PASSWORD}" get /x`, false},
		"lftp -u a user":                   {"lftp -u orders ftp://files", false},
		"vault login from stdin":           {"vault login -", false},
		"vault login with a method":        {"vault login -method=kubernetes role=orders", false},
		"vault login from a parameter":     {`vault login "$VAULT_TOKEN"`, false},
		"vault read is no login":           {"vault read secret/orders", false},
		"zip's -P as echo's text":          {"echo zip -P Orders-2024", false},
		"7z a -p with a switch after":      {"7z a -mhe=on -p /b/o.7z /data", false},
		"mosquitto_passwd -b is not -P":    {"mosquitto_passwd -c /m/passwd orders", false},
		"ssh-keygen -p changes, prompting": {"ssh-keygen -p -f /keys/id", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
}

// FuzzScriptProgramPassword: a tenant writes the scripts scriptProgramPassword reads (a `sh -c`
// argument, a ConfigMap's script); whatever they hold, reading them must not panic and must
// look at each word and line a bounded number of times.
func FuzzScriptProgramPassword(f *testing.F) {
	for _, seed := range []string{
		"cat <<EOF | chpasswd\nroot:Orders-2024\nEOF",
		"sh <<-'E'\n\tmyapp --password x\n\tE\ncat > /r.sh <<A <<B\n#!/bin/sh\nA\nB",
		"printf '%s:%b%%%' a | chpasswd; printf '%' | passwd --stdin u",
		"redis-cli <<< \"AUTH x\"; echo AUTH a b | redis-cli -h h",
		"openssl passwd -salt; openssl mac -macopt key: -hmac",
		"smbclient -U; etcdctl --user=; lftp -u; vault login; 7z -p",
		"cat >; cat > <<; tee <<-",
		"cat <<0|chpasswd&00000",
		"cat << 0 0 0\n<< 0 << 0\ncat <<cat <<cat",
		"a=$(mysql -p$(x) `y`) <(b <(c)) $((1)) \"$(echo 'x)\" `echo`",
		"mysql -e \"SET PASSWORD FOR u = PASSWORD('x')\"; psql <<E\nALTER ROLE r PASSWORD '/*\nE\ncat > a.sql <<E\nIDENTIFIED BY\nE",
		"docker -H; docker --config d exec; docker -c x exec -u c mysql -px; nerdctl -n",
		"add-user.sh -p; add-user.sh a; add-user-keycloak.sh -u -p x a b",
		"curl --oauth2-bearer; curl -U; curl --proxy-user a: -U :b --oauth2-bearer ''",
		"java -jar; java -cp -jar jenkins-cli.jar -auth; jenkins-cli -auth a: -auth",
		"kubectl exec; kubectl -n exec; kubectl exec -c; kubectl exec p; oc exec p c; kubectl --",
		"mysql --defaults-extra-file=<(printf '[client]\\npassword=x') <(echo -e) <(cat <<E\na\nE\n)",
		"echo 'a\nb' | passwd; echo \"\n# '\n\" \\'\n' | chpasswd\nmysql -e \"\nCREATE USER a IDENTIFIED BY 'x';",
		"echo $'a\\'b' ; $'\\\nprintf $'x' | chpasswd; psql -c $'PASSWORD \\'x\\''",
		"psql -c 'ALTER USER u PASSWORD $$x$$ $a$y$a$ $1$ $$' <<'E'\nDO $$ BEGIN $q$ END $$;\nE",
		"cryptsetup -d <(echo x) --key-file=<( ; wg set w private-key <(echo) x=<(\necho x | cryptsetup -d",
		"ssh -p h a b; ssh; ssh h ssh -i; sh <<E\necho 'x\nE\necho \"y\nE",
		"f() { g(){ function h() ( function; () ; a && B_PASSWORD=x; ( ; x; C_TOKEN=y",
		"mosquitto_passwd -b -H; snmpget -A; http -a; etcdctl user add; gh auth login --with-token <<< x",
		"echo x > ~/.; echo y > .token; psql -f <(echo \"PASSWORD 'x'\") <(printf",
		// Found by the fuzzer: a line with <( whose words keyFileSubstitution counted twice.
		"sql '[' <( <<0",
		// Round 11's readers: ssh's joined words, nmcli, wpa_passphrase, FreeRDP, rdesktop,
		// consul, ftp's input, here-string SQL, psql's connection string, set --, Expect.
		"ssh db 'mysql -u' '-px'; ssh -p 1 h -- \"a b\" c\\ d; ssh h ssh h 'x' \"$(y)\" `z`; ssh h 'a",
		"nmcli d wifi connect s password x; nmcli c add +wifi-sec.psk; wpa_passphrase s x; echo x | wpa_passphrase s",
		"xfreerdp /p:x '/gp:y' /pth:; rdesktop -p - -px -p; consul acl set-agent-token -token a b c; consul acl",
		"ftp -n h <<E\nuser a b\nquote PASS c\nE\nmysqld --init-file=/dev/stdin <<< \"ALTER USER a IDENTIFIED BY 'x'\"",
		"psql 'password=x' -d \"password = 'y z\\'\" --dbname=password= -d; set -- --password x; set --",
		"expect -c 'expect \"Password:\"; send \"x\\r\"; send {' <<E\nexpect { \"*assword*\" { send {y} } }\nsend \"\nE",
		// Found by the fuzzer: ssh's words read as ssh's arguments and again as the remote
		// command's line (42 looked at for 9 words).
		"ssh 0 0 0 A 0'' 0 0",
		"bash <<< 'sh <<< \"x\"'; ssh h <<<; ssh h 'sudo chpasswd' <<E\nr:x\nE\nssh h 'cat >' <<E <<< y\nE",
		// Found by the fuzzer: a shell's script file's input read as the shell's script.
		"sh 0 <<0 <<< 0",
		// Round 16: db2 -f reads a file the script wrote, once however often it is run.
		"cat > a.sql <<E\nCONNECT TO d USER u USING p\nE\ndb2 -tvf a.sql; db2 -tvf a.sql; echo x > b; db2 -f b -f",
		"echo 'user = \"a:b\"' > c; curl -K c; curl -Kc --config=c --config; echo -u > d; curl -K d -K",
		// Round 12's readers: a script echo or printf pipes into a shell or ssh.
		"echo 'echo \"sh\" | sh' | sh; printf 'a\\nb %s' x | ssh h; echo 'bash <<< x' | bash -s",
		"smbclient //s -U a b; smbclient -L -N //s x -T; smbclient s -Ua%b -- c d; smbclient <<< x y",
		"lftp -c 'open -u a,b h; user a b; user' -e \"open -u a,$b\nuser\" -c; lftp -e ';;open -u'",
		"autossh -M 0 h 'a b' c; dbclient -K 1 h ssh h x; autossh -M; dbclient h <<< 'x y'; echo 'a' | dbclient h",
		"wpa_cli set_network 0 psk '\"x'; wpa_cli set_network; wpa_cli password 0; wpa_cli passphrase 1 \"$a\" password",
		"openvpn --auth-user-pass <(printf 'a\\nb') --askpass <(echo) --auth-user-pass=<(echo a) <(",
		"echo 'set_network 0 psk \"a\"\\npassword' | wpa_cli -i w; lftp <<E\nopen -u a, -u\nE",
		// Found by the fuzzer: an SQL client's words read again for each word, with a
		// here-document.
		"sql '' << 0 0 0 0",
		// Round 14's readers: curl's clusters, --creds, git's extraHeader, ssh's remote
		// command's input, the files a script writes and the key files it gives.
		"curl -sSfu a:b -u; curl -Ku x -sSU; skopeo --creds a:b --src-creds; oc login -p; git -c a.extraheader=x config b.extraheader",
		"echo x | ssh h 'sudo -S y'; echo a:b | ssh h chpasswd; ssh h 'passwd --stdin' <<< x; echo | ssh",
		"echo a > f; echo b >> f; openvpn --auth-user-pass f --http-proxy h p f; cryptsetup --key-file=f\nprintf 'a\\nb' > f; wg set w private-key f",
		"echo -e '[c]\\npassword=x' > ~/.my.cnf; printf 'p = %s' x | tee f; openvpn --http-proxy h p <(printf 'a\\nb')",
		// Found by the fuzzer: here-strings (<<<) read again for the here-documents they
		// are not, because the line holds "<<".
		"sh <<<'<<0'000000&ssh 0 'sh '00\" 000 <<<",
		"sh <<<'sh << 0'&sh <<<",
		// Round 15's readers: tools' options and operands, their commands on the input, and
		// the files a here-document writes.
		"consul agent -encrypt; consul -encrypt= keyring -install x; netlify --auth; netlify --auth= a",
		"sonar-scanner -D; mvn -Dsonar.login= -D sonar.login=x /d:sonar.token=; db2 'connect to d user u using'; db2 connect user a using",
		"pt-kill -p; pt-archiver --source=h=,p=x a,b,,p= ; zkCli.sh addauth digest; zookeeper-shell.sh h addauth digest a:",
		"cat > f <<E\na\nb\nE\nopenvpn --auth-user-pass f; tee -a f <<-'E'\n\tx\n\tE\nsshpass -f f\necho 'addauth digest a:b' | zkCli.sh; db2 <<E\nconnect to d user u using p\nE",
		// Found by round 15's fuzz run: a shell given arguments, a here-document and a
		// here-string, read about 5 times a word (over the old bound of 4).
		"sh 0 0 '0' <<0 <<<",
		"sh 0 0 << 0 <<<",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		r := commandReader{flags: true}
		r.script(script)
		// The readers' words are the shell's: cat <<0|chpasswd&0 is 2 blank-separated
		// fields but 6 words (the control operators are words of their own).
		words := 0
		for line := range strings.SplitSeq(script, "\n") {
			words += len(shellWords(line))
		}
		size := max(len(strings.Fields(script)), words) + strings.Count(script, "\n") + 1
		// A line's words are passed over a bounded number of times by the readers that apply
		// (programPassword's loop, its flags, the shell's command, a here-string, a
		// here-document's span and what runs it): up to about 6 for a shell given a
		// here-document and a here-string (TestAShellLineIsReadInLinearTime). Reading again
		// for each word, the quadratic case this guards against, passes 8 by 9 words.
		if r.read > 8*size+4 {
			t.Errorf("reading a script of %d words and lines looked at %d", size, r.read)
		}
	})
}

// TestAShellLineIsReadInLinearTime: a shell's line with a here-document and a here-string, the
// readers' most passes over its words, is looked at a bounded number of times per word: twice
// the words, at most about twice the reading (round 15's fuzz run found such lines over the old
// bound of 4 reads a word: 33 for sh 0 0 << 0 <<<, present since caa3f826 at least).
func TestAShellLineIsReadInLinearTime(t *testing.T) {
	for _, tail := range []string{" <<0 <<<", " << 0 <<<", " <<0", " <<<x"} {
		read := func(n int) int {
			r := commandReader{flags: true}
			r.script("sh" + strings.Repeat(" 0", n) + tail)
			return r.read
		}
		prev := read(64)
		if prev > 7*(64+4) {
			t.Errorf("sh with 64 arguments and%s: looked at %d", tail, prev)
		}
		for n := 128; n <= 1024; n *= 2 {
			got := read(n)
			if got > 2*prev+16 {
				t.Errorf("sh with %d arguments and%s: looked at %d, %d for half as many", n, tail, got, prev)
			}
			prev = got
		}
	}
}

// TestSQLPasswords judges passwords SQL sets (MySQL's and MariaDB's IDENTIFIED BY and SET
// PASSWORD, PostgreSQL's and Cassandra's PASSWORD, SQL Server's WITH PASSWORD =) in the
// statements a database client runs: an option's value (mysql -e, psql -c, sqlcmd -Q, cqlsh
// -e), its input (echo ... | mysql, a here-string, a here-document) and a here-document written
// to a .sql file, as argv and as a shell script's line. Expansions, psql's variables, a
// password a statement asks the server to make or prompts for, and SQL that only names a
// password column stay Pass.
func TestSQLPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"mysql -e CREATE USER IDENTIFIED BY":          {`mysql -uroot -e "CREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024'"`, true},
		"mysql --execute= ALTER USER":                 {`mysql --execute="ALTER USER 'root'@'localhost' IDENTIFIED BY 'Orders-2024';"`, true},
		"mariadb -e GRANT IDENTIFIED BY":              {`mariadb -e "GRANT ALL ON orders.* TO 'app'@'%' IDENTIFIED BY 'Orders-2024'"`, true},
		"mysql -e IDENTIFIED WITH a plugin BY":        {`mysql -e "CREATE USER app IDENTIFIED WITH mysql_native_password BY 'Orders-2024'"`, true},
		"mysql -e SET PASSWORD FOR":                   {`mysql -e "SET PASSWORD FOR 'app'@'%' = 'Orders-2024'"`, true},
		"mysql -e SET PASSWORD = PASSWORD()":          {`mysql -e "SET PASSWORD FOR app = PASSWORD('Orders-2024')"`, true},
		"psql -c ALTER USER WITH PASSWORD":            {`psql -U postgres -c "ALTER USER app WITH PASSWORD 'Orders-2024'"`, true},
		"psql -c CREATE ROLE ENCRYPTED PASSWORD":      {`psql -c "CREATE ROLE app LOGIN ENCRYPTED PASSWORD 'Orders-2024'"`, true},
		"psql --command= CREATE USER PASSWORD":        {`psql --command="CREATE USER app PASSWORD 'Orders-2024'"`, true},
		"psql -c a password's md5 hash":               {`psql -c "ALTER ROLE app PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d'"`, true},
		"sqlcmd -Q CREATE LOGIN WITH PASSWORD =":      {`sqlcmd -S db -U sa -P "$SA_PASSWORD" -Q "CREATE LOGIN app WITH PASSWORD = 'Orders-2024'"`, true},
		"cqlsh -e CREATE ROLE WITH PASSWORD =":        {`cqlsh -u cassandra -p "$CP" -e "CREATE ROLE app WITH PASSWORD = 'Orders-2024' AND LOGIN = true"`, true},
		"echo SQL to mysql":                           {`echo "CREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';" | mysql -uroot`, true},
		"a here-string of SQL to mysql":               {`mysql -uroot <<< "ALTER USER root IDENTIFIED BY 'Orders-2024'"`, true},
		"mysql -e IDENTIFIED BY from a parameter":     {`mysql -e "CREATE USER 'app'@'%' IDENTIFIED BY '$APP_PASSWORD'"`, false},
		"psql -c PASSWORD from a parameter":           {`psql -c "ALTER USER app WITH PASSWORD '${APP_PASSWORD}'"`, false},
		"mysql -e a password column":                  {`mysql -e "SELECT user FROM mysql.user WHERE password = ''"`, false},
		"mysql -e IDENTIFIED WITH auth_socket":        {`mysql -e "CREATE USER app IDENTIFIED WITH auth_socket"`, false},
		"mysql -e IDENTIFIED BY RANDOM PASSWORD":      {`mysql -e "ALTER USER app IDENTIFIED BY RANDOM PASSWORD"`, false},
		"psql -c PASSWORD NULL":                       {`psql -c "ALTER ROLE app PASSWORD NULL"`, false},
		"psql -c \\password prompts":                  {`psql -c "\password app"`, false},
		"mysql -e a query":                            {`mysql -uroot -e "SELECT password FROM users LIMIT 1"`, false},
		"psql -c UPDATE a password column":            {`psql -c "UPDATE accounts SET password = crypt(:'pw', gen_salt('bf'))"`, false},
		"SQL echoed to a file, no client":             {`echo "ALTER USER app IDENTIFIED BY 'Orders-2024'" > /tmp/note`, false},
		"SQL as echo's text":                          {`echo mysql -e "ALTER USER app IDENTIFIED BY 'Orders-2024'"`, false},
		"psql -c a string after PASSWORD's column":    {`psql -c "SELECT 'PASSWORD' , 'Orders-2024'"`, false},
		"psql -c a comment":                           {`psql -c "SELECT 1 -- ALTER USER app PASSWORD 'Orders-2024'"`, false},
		"mysql -e where a password equals a constant": {`mysql -e "DELETE FROM users WHERE password = 'Orders-2024'"`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(tc.line, "<<") {
				i, why := programPassword(shellWords(tc.line))
				if got := i >= 0; got != tc.want {
					t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
				}
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
	// As argv, the statement is one argument without the shell's quotes.
	for argv, want := range map[string]bool{
		"mysql\x00-e\x00CREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024'": true,
		"psql\x00-c\x00ALTER USER app WITH PASSWORD 'Orders-2024'":         true,
		"psql\x00-c\x00ALTER USER app WITH PASSWORD '$(APP_PASSWORD)'":     false,
		"mysql\x00-e\x00SELECT 1":                                          false,
	} {
		words := strings.Split(argv, "\x00")
		if i, why := programPassword(words); (i >= 0) != want {
			t.Errorf("programPassword(%q) = %d %q, want a password %v", words, i, why, want)
		}
	}
	for script, want := range map[string]bool{
		"mysql -uroot <<EOF\nCREATE USER 'app'@'%'\n  IDENTIFIED BY 'Orders-2024';\nGRANT ALL ON orders.* TO 'app'@'%';\nEOF":           true,
		"psql -v ON_ERROR_STOP=1 --username postgres <<-EOSQL\n\tCREATE USER app WITH PASSWORD 'Orders-2024';\nEOSQL":                   true,
		"cat > /docker-entrypoint-initdb.d/01-users.sql <<'EOF'\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\nEOF":               true,
		"cat <<EOF | mysql -uroot\nALTER USER 'root'@'localhost' IDENTIFIED BY 'Orders-2024';\nEOF":                                     true,
		"psql -v ON_ERROR_STOP=1 --username \"$POSTGRES_USER\" <<-EOSQL\n\tCREATE USER app WITH PASSWORD '$APP_PASSWORD';\nEOSQL":       false,
		"psql -v pw=\"$PW\" <<'EOF'\nALTER USER app PASSWORD :'pw';\nEOF":                                                               false,
		"cat <<'EOF'\nusage: ALTER USER app IDENTIFIED BY 'Orders-2024'\nEOF":                                                           false,
		"cat > /docker-entrypoint-initdb.d/01-users.sql <<EOF\nCREATE USER 'app'@'%' IDENTIFIED BY '${APP_PASSWORD}';\nEOF":             false,
		"mysql -uroot <<'EOF'\n-- CREATE USER app IDENTIFIED BY 'Orders-2024';\n/* ALTER USER app IDENTIFIED BY 'x1' */ SELECT 1;\nEOF": false,
	} {
		if got := scriptProgramPassword(script); (got != "") != want {
			t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", script, got, want)
		}
	}
}

// TestSQLFilesInConfigMaps judges a ConfigMap's SQL files (an init script mounted into
// /docker-entrypoint-initdb.d, a key named *.sql or *.cql): the passwords their statements set.
func TestSQLFilesInConfigMaps(t *testing.T) {
	tests := map[string]struct {
		key, value string
		want       bool
	}{
		"MySQL's CREATE USER":                    {"01-users.sql", "CREATE DATABASE orders;\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\nGRANT ALL ON orders.* TO 'app'@'%';\n", true},
		"PostgreSQL's CREATE ROLE":               {"init.sql", "CREATE ROLE app WITH LOGIN PASSWORD 'Orders-2024';\nCREATE DATABASE orders OWNER app;\n", true},
		"Cassandra's CREATE ROLE":                {"schema.cql", "CREATE ROLE IF NOT EXISTS app WITH PASSWORD = 'Orders-2024' AND LOGIN = true;\n", true},
		"SQL Server's ALTER LOGIN":               {"setup.SQL", "ALTER LOGIN sa WITH PASSWORD = 'Orders-2024';\nGO\n", true},
		"a schema with a password column":        {"schema.sql", "CREATE TABLE users (name text, password text NOT NULL);\n", false},
		"psql's variable":                        {"init.sql", "CREATE USER app WITH PASSWORD :'app_password';\n", false},
		"an envsubst template":                   {"init.sql", "CREATE USER app IDENTIFIED BY '${APP_PASSWORD}';\n", false},
		"a commented-out statement":              {"init.sql", "-- CREATE USER app IDENTIFIED BY 'Orders-2024';\nCREATE TABLE t (id int);\n", false},
		"a user without a password":              {"init.sql", "CREATE USER app IDENTIFIED WITH auth_socket;\nCREATE ROLE readers NOLOGIN;\n", false},
		"a password in a string of a string":     {"init.sql", "INSERT INTO notes VALUES ('ALTER USER app IDENTIFIED BY ''Orders-2024''');\n", false},
		"a .psql file":                           {"01-roles.psql", "CREATE ROLE app WITH LOGIN PASSWORD 'Orders-2024';\n", true},
		"a .pgsql file":                          {"init.pgsql", "ALTER USER postgres WITH PASSWORD 'Orders-2024';\n", true},
		"a .ddl file":                            {"schema.ddl", "CREATE USER app IDENTIFIED BY 'Orders-2024';\n", true},
		"a template of an SQL file":              {"init.sql.tpl", "CREATE USER app IDENTIFIED BY 'Orders-2024';\n", true},
		"a .j2 template of an SQL file":          {"users.sql.j2", "CREATE USER app WITH PASSWORD 'Orders-2024';\n", true},
		"a template's placeholder":               {"init.sql.tpl", "CREATE USER app IDENTIFIED BY '{{ .Values.appPassword }}';\n", false},
		"a .j2 template's placeholder":           {"users.sql.j2", "CREATE USER app WITH PASSWORD '{{ app_password }}';\n", false},
		"a .psql file without a password":        {"01-roles.psql", "CREATE ROLE readers NOLOGIN;\n", false},
		"a template of something else":           {"nginx.conf.tpl", "CREATE USER app IDENTIFIED BY 'Orders-2024';\n", false},
		"SQL*Plus's CONNECT in a .sql file":      {"01-schema.sql", "connect system/Orders-2024@XEPDB1\nCREATE TABLE t (id number);\n", true},
		"SQL*Plus's CONN as sysdba":              {"init.sql", "CONN sys/Orders-2024 AS SYSDBA\nALTER SYSTEM SET processes=300 SCOPE=SPFILE;\n", true},
		"CONNECT / as sysdba":                    {"init.sql", "connect / as sysdba\nCREATE TABLE t (id number);\n", false},
		"CONNECT BY of a query":                  {"report.sql", "SELECT id FROM t\nCONNECT BY PRIOR id = parent_id;\n", false},
		"CONNECT with a placeholder":             {"init.sql.tpl", "connect system/{{ .Values.oraclePassword }}@XEPDB1\n", false},
		"SQL under a key without an extension":   {"init", "CREATE DATABASE orders;\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\n", true},
		"SQL after comments, no extension":       {"setup", "-- roles\n/* app */\ncreate role app with login password 'Orders-2024';\n", true},
		"psql's \\connect first, no extension":   {"users", "\\connect orders\nALTER ROLE app PASSWORD 'Orders-2024';\n", true},
		"SQL with a psql variable, no extension": {"init", "CREATE USER app WITH PASSWORD :'app_password';\n", false},
		"SQL without a password, no extension":   {"init", "CREATE TABLE t (id int);\n", false},
		"prose about SQL, no extension":          {"NOTES", "Run ALTER USER app PASSWORD 'Orders-2024'; on the primary\n", false},
		"a configuration file, no extension":     {"config", "[client]\nuser = app\n", false},
		"SQL quoted in a file with an extension": {"README.md", "CREATE USER app IDENTIFIED BY 'Orders-2024';\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
}

// TestConfigurationSetByCommands judges a configuration value a program's command sets from its
// next two operands, NAME VALUE, where the name says it is a credential (as the same setting in
// env or a configuration file is judged): aws configure set, npm, pnpm and yarn config set,
// kubectl and oc config set; as argv and as a shell script's line.
func TestConfigurationSetByCommands(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"aws configure set aws_secret_access_key":   {"aws configure set aws_secret_access_key Orders-2024/K7MDENG/bPxRfiCY", true},
		"aws configure set a profile's secret":      {"aws configure set profile.prod.aws_secret_access_key Orders-2024 --region eu-west-1", true},
		"aws configure set with the profile first":  {"aws configure set --profile prod aws_session_token Orders-2024-session", true},
		"aws with global options first":             {"aws --profile prod --region eu-west-1 configure set aws_secret_access_key Orders-2024", true},
		"npm config set a registry's _authToken":    {"npm config set //registry.example.com/:_authToken Orders-2024", true},
		"npm config set NAME=VALUE":                 {"npm config set //registry.example.com/:_authToken=Orders-2024 --location=project", true},
		"pnpm config set":                           {"pnpm config set //registry.example.com/:_password T3JkZXJzLTIwMjQ=", true},
		"yarn config set npmAuthToken":              {"yarn config set npmAuthToken Orders-2024", true},
		"kubectl config set a user's token":         {"kubectl config set users.ci.token Orders-2024", true},
		"kubectl --kubeconfig F config set":         {"kubectl --kubeconfig /tmp/kc config set users.ci.password Orders-2024", true},
		"aws configure set from a parameter":        {`aws configure set aws_secret_access_key "$AWS_SECRET_ACCESS_KEY"`, false},
		"aws configure set a region":                {"aws configure set region eu-west-1", false},
		"aws configure set a file of credentials":   {"aws configure set credential_process /usr/local/bin/creds", false},
		"aws configure get":                         {"aws configure get aws_secret_access_key", false},
		"aws s3 cp is no configure":                 {"aws s3 cp s3://b/token /tmp/token", false},
		"npm config set a registry":                 {"npm config set registry https://registry.example.com/", false},
		"npm config set _authToken from a variable": {"npm config set //registry.example.com/:_authToken=${NPM_TOKEN}", false},
		"yarn config set a token from a parameter":  {`yarn config set npmAuthToken "$NPM_TOKEN"`, false},
		"kubectl config set a cluster's server":     {"kubectl config set clusters.prod.server https://10.0.0.1:6443", false},
		"kubectl config set a token file":           {"kubectl config set users.ci.tokenFile /var/run/secrets/token", false},
		"kubectl config set-context":                {"kubectl config set-context prod --user ci --cluster prod", false},
		"echo of a configure command":               {"echo aws configure set aws_secret_access_key Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestCronLines judges the commands of crontab lines: cron runs what follows the schedule (five
// time fields or an @nickname, and in a system crontab a user) with the shell, in a ConfigMap's
// crontab, in a here-document crontab reads, in a line echo pipes to crontab, and in a file cat
// writes to /etc/cron.d.
func TestCronLines(t *testing.T) {
	for script, want := range map[string]bool{
		"*/5 * * * * mysqldump -uroot -pOrders-2024 orders > /b/o.sql":                         true,
		"0 2 * * MON-FRI root mysqldump -uroot -pOrders-2024 orders":                           true,
		"@daily /usr/local/bin/backup --password Orders-2024":                                  true,
		"SHELL=/bin/sh\n15 3 * * * backup /usr/local/bin/sync --token Orders-2024":             true,
		"crontab <<EOF\n*/5 * * * * redis-cli -a Orders-2024 bgsave\nEOF":                      true,
		"echo '*/5 * * * * mysqldump -uroot -pOrders-2024 orders' | crontab -":                 true,
		"cat > /etc/cron.d/backup <<EOF\n0 1 * * * root mysqldump -uroot -pOrders-2024 o\nEOF": true,
		"*/5 * * * * mysqldump -uroot -p\"$MYSQL_ROOT_PASSWORD\" orders":                       false,
		"@daily /usr/local/bin/backup --password-file /run/secrets/pw":                         false,
		"0 2 * * * root /usr/local/bin/rotate --keep 7":                                        false,
		"crontab <<EOF\n*/5 * * * * redis-cli -a \"$REDIS_PASSWORD\" bgsave\nEOF":              false,
		"echo '*/5 * * * * /usr/local/bin/backup --password-file /run/pw' | crontab -":         false,
		"echo 'usage: 0 2 * * * backup --password PASSWORD'":                                   false,
	} {
		if got := scriptProgramPassword(script); (got != "") != want {
			t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", script, got, want)
		}
	}
	for value, want := range map[string]bool{
		"*/5 * * * * mysqldump -uroot -pOrders-2024 orders > /b/o.sql\n":    true,
		"0 3 * * * /usr/local/bin/sync --api-key Orders-2024\n":             true,
		"0 3 * * * /usr/local/bin/sync --api-key \"$SYNC_API_KEY\"\n":       false,
		"MAILTO=ops@example.com\n0 3 * * * /usr/local/bin/sync --verbose\n": false,
	} {
		if got := keyCredential("crontab", value, false); (got != "") != want {
			t.Errorf("keyCredential(crontab, %q) = %q, want a credential %v", value, got, want)
		}
	}
}

// TestUserPasswordHashes judges useradd's and usermod's -p, --password: the account's
// encrypted password (crypt(3)), written into /etc/shadow as given. A crypt hash of a password
// is judged as the password (the catalogue's policy for hashes of credentials: it is what
// offline guessing recovers a weak password from); a locked or empty one, and a hash from the
// environment, are none.
func TestUserPasswordHashes(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"useradd -p a SHA-512 crypt hash": {"useradd -m -p '$6$rounds=5000$saltsalt$Yh9N3s2Kfz0aQ1Yh9N3s2Kfz0aQ1' orders", true},
		"usermod -p an MD5 crypt hash":    {"usermod -p '$1$abc$Yh9N3s2Kfz0aQ1wxyz' root", true},
		"useradd --password a yescrypt":   {"useradd --password '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7' u", true},
		"useradd --password= a hash":      {"useradd --password='$6$x$Yh9N3s2Kfz0aQ1' u", true},
		"useradd -p a plain password":     {"useradd -m -p Orders-2024 orders", true},
		"useradd without a password":      {"useradd -m -u 1000 orders", false},
		"useradd -p from a parameter":     {`useradd -m -p "$ORDERS_HASH" orders`, false},
		"useradd -p from a substitution":  {`useradd -m -p "$(cat /run/secrets/hash)" orders`, false},
		"usermod -p '!' locks":            {"usermod -p '!' root", false},
		"usermod -p '*' disables":         {"usermod -p '*' nobody", false},
		"useradd -p '' is empty":          {"useradd -p '' guest", false},
		"useradd -p from a braced param":  {"useradd -u 1000 -p ${PASS_HASH} app", false},
		"usermod -L locks, no -p":         {"usermod -L root", false},
		"useradd's -p as echo's text":     {"echo useradd -p '$6$x$Yh9N3s2Kfz0aQ1' u", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
	// As argv, a hash is not quoted.
	if i, why := programPassword([]string{"useradd", "-p", "$6$rounds=5000$saltsalt$Yh9N3s2Kfz0aQ1", "orders"}); i < 0 {
		t.Errorf("argv useradd -p HASH: %d %q, want a password", i, why)
	}
	if i, why := programPassword([]string{"useradd", "-p", "$(ORDERS_HASH)", "orders"}); i >= 0 {
		t.Errorf("argv useradd -p $(ORDERS_HASH): %d %q, want none", i, why)
	}
}

// TestCommandSubstitutions judges credentials a shell script hides in command substitutions:
// one whose command only prints literal text is that text ($(echo VALUE), $(printf 'VALUE'),
// `echo VALUE`, $(cat <<EOF with one line), and the commands of $(...), `...` and <(...) run
// as any other (STATUS=$(redis-cli -a VALUE ping)), in a `sh -c` argument (argumentCredential)
// and in a ConfigMap's script (keyCredential). Substitutions that read a file, a variable or
// another program's output stay no literal.
func TestCommandSubstitutions(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"export from printf":                 {"export PGPASSWORD=$(printf 'Orders-2024')\npsql -h db -c 'select 1'", true},
		"export from printf with a newline":  {`export PGPASSWORD="$(printf 'Orders-2024\n')"`, true},
		"export from echo":                   {"export DB_PASSWORD=$(echo Orders-2024)", true},
		"export from echo -n":                {`export DB_PASSWORD="$(echo -n "Orders-2024")"`, true},
		"export from backquotes":             {"export DB_PASSWORD=`echo Orders-2024`", true},
		"before a command":                   {"PGPASSWORD=$(echo Orders-2024) psql -h db -c 'select 1'", true},
		"printf %s of a literal":             {`export API_TOKEN=$(printf '%s' 'Orders-2024-token')`, true},
		"a here-document's line":             {"export DB_PASSWORD=$(cat <<EOF\nOrders-2024\nEOF\n)", true},
		"a quoted here-document's line":      {"export DB_PASSWORD=$(cat <<'EOF'\nP@ss`word\nEOF\n)", true},
		"mysql -p in double quotes":          {`mysql -uroot -p"$(echo Orders-2024)" -e 'select 1'`, true},
		"mysql -p from backquotes":           {"mysql -uroot -p`echo Orders-2024` -e 'select 1'", true},
		"echo of a substitution to chpasswd": {`echo "root:$(echo Orders-2024)" | chpasswd`, true},
		"a URL's password":                   {`curl "https://admin:$(echo Orders-2024)@api.example.com/v1"`, true},
		"a password with blanks":             {`export DB_PASSWORD=$(echo 'Orders 2024;x')`, true},
		"redis-cli in $(...)":                {"STATUS=$(redis-cli -h redis -a Orders-2024 ping)\necho $STATUS", true},
		"mysql in a test's $(...)":           {`until [ "$(mysql -h db -uroot -pOrders-2024 -N -e 'select 1')" = 1 ]; do sleep 1; done`, true},
		"mysql in <(...)":                    {"diff <(mysql -h db -uroot -pOrders-2024 -e 'show databases') /expected", true},
		"sshpass in backquotes":              {"OUT=`sshpass -p Orders-2024 ssh u@h uptime`", true},
		"a flag in $(...)":                   {`TOKEN=$(myapp login --password Orders-2024)`, true},

		"export from a file":                  {"export PGPASSWORD=$(cat /run/secrets/pg)", false},
		"echo of a variable":                  {`export DB_PASSWORD=$(echo $RAW_PW | tr -d '\n')`, false},
		"printf %s of a variable":             {`export PGPASSWORD=$(printf '%s' "$PW")`, false},
		"mysql -p from a file":                {`mysql -uroot -p"$(cat /run/secrets/pw)" -e 'select 1'`, false},
		"redis-cli in $(...) with a variable": {`STATUS=$(redis-cli -h redis -a "$REDIS_PASSWORD" ping)`, false},
		"generated":                           {"export DB_PASSWORD=$(openssl rand -base64 24)", false},
		"generated from urandom":              {"export DB_PASSWORD=$(head -c 16 /dev/urandom | base64)", false},
		"a default of nothing":                {`export DB_PASSWORD=$(echo "${DB_PASSWORD:-}")`, false},
		"a here-document with a variable":     {"export DB_PASSWORD=$(cat <<EOF\n$PW\nEOF\n)", false},
		"a here-document of two lines":        {"export DB_PASSWORD=$(cat <<EOF\nOrders\n$PW\nEOF\n)", false},
		"echo piped on":                       {`export DB_PASSWORD=$(echo Orders-2024 | sha256sum | cut -c1-32)`, false},
		"a substitution in single quotes":     {`echo 'export DB_PASSWORD=$(echo x)' > /dev/null`, false},
		"an arithmetic expansion":             {`export TOKEN_TTL=$((60 * 60))`, false},
		"a placeholder printed":               {`export DB_PASSWORD=$(echo '<password>')`, false},
		"echo of an empty value":              {`export DB_PASSWORD=$(echo)`, false},
		"a date":                              {`export BUILD_TOKEN_TS=$(date +%s)`, false},
		"awk over a variable":                 {`MODEL_NAME=$(echo ${MODEL_PATH} | awk -F'/' '{print $2}')`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil); (got != "") != tc.want {
				t.Errorf("argumentCredential(%q) = %q, want a credential %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false); (got != "") != tc.want {
				t.Errorf("keyCredential(init.sh, %q) = %q, want a credential %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestMongoAndRedisCommandPasswords judges the passwords the MongoDB shell's JavaScript gives
// (createUser's and updateUser's pwd, changeUserPassword, auth) in mongosh --eval, on its input
// and in a ConfigMap's *.js init script, and the passwords a Redis command sets (CONFIG SET
// requirepass or masterauth, ACL SETUSER's >password) as redis-cli's arguments or input.
// Passwords read from a prompt, the environment or a variable stay Pass.
func TestMongoAndRedisCommandPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"mongosh --eval createUser":            {`mongosh admin --eval "db.createUser({user:'app',pwd:'Orders-2024',roles:['readWrite']})"`, true},
		"mongosh --eval= changeUserPassword":   {`mongosh --eval="db.getSiblingDB('admin').changeUserPassword('app', 'Orders-2024')"`, true},
		"mongo --eval updateUser, JSON quotes": {`mongo admin --eval 'db.updateUser("app", {"pwd": "Orders-2024"})'`, true},
		"mongosh --eval auth":                  {`mongosh --eval "db.auth('admin', 'Orders-2024'); db.stats()"`, true},
		"echo createUser to mongosh":           {`echo "db.createUser({user: 'app', pwd: 'Orders-2024', roles: []})" | mongosh admin`, true},
		"a here-string to mongosh":             {`mongosh admin <<< "db.createUser({user: 'app', pwd: 'Orders-2024', roles: []})"`, true},
		"redis-cli CONFIG SET requirepass":     {"redis-cli -h redis CONFIG SET requirepass Orders-2024", true},
		"redis-cli config set masterauth":      {"redis-cli config set masterauth 'Orders-2024'", true},
		"redis-cli CONFIG SET, a later pair":   {"redis-cli CONFIG SET maxmemory 1gb requirepass Orders-2024", true},
		"redis-cli ACL SETUSER":                {"redis-cli ACL SETUSER app on '>Orders-2024' '~*' '+@all'", true},
		"echo CONFIG SET to redis-cli":         {`echo "CONFIG SET requirepass Orders-2024" | redis-cli -h redis`, true},

		"mongosh --eval with a variable":        {`mongosh admin --eval "db.createUser({user:'app',pwd:'$APP_PASSWORD',roles:[]})"`, false},
		"mongosh --eval passwordPrompt":         {`mongosh admin --eval "db.createUser({user:'app',pwd:passwordPrompt(),roles:[]})"`, false},
		"mongosh --eval process.env":            {`mongosh admin --eval 'db.createUser({user:"app",pwd:process.env.APP_PASSWORD,roles:[]})'`, false},
		"mongosh --eval a placeholder":          {`mongosh admin --eval "db.createUser({user:'app',pwd:'<password>',roles:[]})"`, false},
		"mongosh --eval no password":            {`mongosh --eval 'db.adminCommand("ping")'`, false},
		"echo createUser with a variable":       {`echo "db.createUser({user: 'app', pwd: '$PW', roles: []})" | mongosh admin`, false},
		"redis-cli CONFIG SET from a variable":  {`redis-cli CONFIG SET requirepass "$REDIS_PASSWORD"`, false},
		"redis-cli CONFIG SET turns auth off":   {`redis-cli CONFIG SET requirepass ""`, false},
		"redis-cli CONFIG SET another setting":  {"redis-cli CONFIG SET maxmemory 100mb", false},
		"redis-cli CONFIG GET requirepass":      {"redis-cli CONFIG GET requirepass", false},
		"redis-cli ACL SETUSER from a variable": {`redis-cli ACL SETUSER app on ">$APP_PASSWORD" '~*' '+@all'`, false},
		"redis-cli ACL SETUSER with a hash":     {"redis-cli ACL SETUSER app on '#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8' '~*'", false},
		"redis-cli ACL SETUSER nopass":          {"redis-cli ACL SETUSER app on nopass '~*' '+@all'", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(tc.line, "<<") {
				i, why := programPassword(shellWords(tc.line))
				if got := i >= 0; got != tc.want {
					t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
				}
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
	for script, want := range map[string]bool{
		"mongosh admin <<EOF\ndb.createUser({\n  user: 'app',\n  pwd: 'Orders-2024',\n  roles: ['readWrite']\n})\nEOF": true,
		"redis-cli -h redis <<EOF\nACL SETUSER app on >Orders-2024 ~* +@all\nEOF":                                      true,
		"mongosh admin <<EOF\ndb.createUser({user: 'app', pwd: '$APP_PASSWORD', roles: []})\nEOF":                      false,
		"redis-cli -h redis <<EOF\nCONFIG SET requirepass $REDIS_PASSWORD\nEOF":                                        false,
	} {
		if got := scriptProgramPassword(script); (got != "") != want {
			t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", script, got, want)
		}
	}
	for js, want := range map[string]bool{
		"db = db.getSiblingDB('orders');\ndb.createUser({\n  user: 'orders',\n  pwd: 'Orders-2024',\n  roles: [{ role: 'readWrite', db: 'orders' }]\n});\n": true,
		"db.getSiblingDB('admin').changeUserPassword('orders', 'Orders-2024');\n":                                                                           true,
		"db.createUser({user: 'orders', pwd: process.env.ORDERS_PASSWORD, roles: ['readWrite']});\n":                                                        false,
		"db.createUser({user: 'orders', pwd: passwordPrompt(), roles: ['readWrite']});\n":                                                                   false,
		"db.createUser({user: 'orders', pwd: _getEnv('ORDERS_PASSWORD'), roles: ['readWrite']});\n":                                                         false,
		"const pw = cat('/run/secrets/pw').trim();\ndb.createUser({user: 'orders', pwd: pw, roles: []});\n":                                                 false,
		"module.exports = { pwd: '/srv/app', port: 8080 };\n":                                                                                               false,
	} {
		if got := keyCredential("mongo-init.js", js, false); (got != "") != want {
			t.Errorf("keyCredential(mongo-init.js, %q) = %q, want a credential %v", js, got, want)
		}
	}
}

// TestMoreCommandsThatGiveCredentials judges more commands of init scripts and Jobs that give a
// credential where no name says so: a quoted JSON body with a credential-like key (curl -d
// '{"password": ...}'), vault write and vault kv put KEY=VALUE, Oracle's logon USER/PASSWORD@DB
// (sqlplus, expdp USERID=) and SQL on sqlplus's input, ldappasswd -s, elasticsearch-users -p,
// rabbitmqadmin -p, grafana-cli admin reset-admin-password, mc admin user add, and a
// substitution that decodes literal base64. References, prompts and files stay Pass.
func TestMoreCommandsThatGiveCredentials(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"curl -d a JSON body":               {`curl -s -X POST -H 'Content-Type: application/json' -d '{"username":"admin","password":"Orders-2024"}' http://grafana/api/login`, true},
		"curl --data a JSON body, nested":   {`curl --data '{"auth": {"user": "admin", "apiKey": "Orders-2024-key"}}' http://svc`, true},
		"curl -d JSON in double quotes":     {`curl -d "{\"user\":\"admin\",\"password\":\"Orders-2024\"}" http://svc/login`, true},
		"vault kv put":                      {"vault kv put secret/orders password=Orders-2024", true},
		"vault kv put with -mount":          {"vault kv put -mount=secret orders db_password=Orders-2024 user=orders", true},
		"vault write":                       {"vault write auth/userpass/users/orders password=Orders-2024 policies=orders", true},
		"sqlplus logon":                     {"sqlplus -s system/Orders-2024@//oracle:1521/XEPDB1 @/init/01.sql", true},
		"sqlplus logon quoted":              {`sqlplus -L "system/Orders-2024@oracle" as sysdba`, true},
		"expdp USERID=":                     {"expdp userid=system/Orders-2024@XEPDB1 directory=dp dumpfile=o.dmp", true},
		"SQL on sqlplus's input":            {`echo "ALTER USER orders IDENTIFIED BY Orders2024;" | sqlplus -s / as sysdba`, true},
		"ldappasswd -s":                     {`ldappasswd -x -D cn=admin,dc=x -w "$ADMIN_PW" -s Orders-2024 uid=orders,dc=x`, true},
		"elasticsearch-users useradd -p":    {"elasticsearch-users useradd orders -p Orders-2024 -r superuser", true},
		"rabbitmqadmin -p":                  {"rabbitmqadmin -u admin -p Orders-2024 list queues", true},
		"grafana-cli reset-admin-password":  {"grafana-cli --homepath /usr/share/grafana admin reset-admin-password Orders-2024", true},
		"grafana cli reset-admin-password":  {"grafana cli admin reset-admin-password Orders-2024", true},
		"mc admin user add":                 {"mc admin user add minio orders Orders-2024-Secret", true},
		"a substitution decoding base64":    {"export DB_PASSWORD=$(echo T3JkZXJzLTIwMjQ= | base64 -d)", true},
		"a substitution decoding, --decode": {`mysql -uroot -p"$(printf 'T3JkZXJzLTIwMjQ=' | base64 --decode)" -e 'select 1'`, true},

		"curl -d a JSON body with a variable":   {`curl -d "{\"user\":\"admin\",\"password\":\"$GF_PASSWORD\"}" http://svc/login`, false},
		"curl -d a JSON body, no credential":    {`curl -d '{"name":"orders","replicas":3}' http://svc`, false},
		"curl -d JSON with a placeholder":       {`curl -d '{"password":"<password>"}' http://svc`, false},
		"vault kv put from a file":              {"vault kv put secret/orders password=@/run/secrets/pw", false},
		"vault kv put from a variable":          {`vault kv put secret/orders password="$PW" ttl=1h`, false},
		"vault kv get":                          {"vault kv get -field=password secret/orders", false},
		"vault write a non-credential":          {"vault write sys/policy/orders policy=@/p.hcl", false},
		"sqlplus /nolog":                        {"sqlplus -s /nolog @/init/01.sql", false},
		"sqlplus / as sysdba":                   {"sqlplus / as sysdba @/init/01.sql", false},
		"sqlplus a user alone":                  {"sqlplus -s system @/init/01.sql", false},
		"sqlplus logon from a variable":         {`sqlplus -s "system/${ORACLE_PASSWORD}@//oracle:1521/XEPDB1" @/init/01.sql`, false},
		"sqlplus's script argument":             {"sqlplus -s /nolog @/init/run.sql a/b", false},
		"CONNECT in a here-document to sqlplus": {"sqlplus -s /nolog <<EOF\nconnect sys/Orders-2024@XEPDB1 as sysdba\n@/init/01.sql\nEOF", true},
		"CONNECT echoed to sqlplus":             {"echo 'connect system/Orders-2024@oracle:1521/XEPDB1' | sqlplus /nolog", true},
		"CONNECT from a variable":               {"sqlplus -s /nolog <<EOF\nconnect sys/${ORACLE_PWD}@XEPDB1 as sysdba\nEOF", false},
		"CONNECT / as sysdba to sqlplus":        {"sqlplus -s /nolog <<EOF\nconnect / as sysdba\n@/init/01.sql\nEOF", false},
		"ldappasswd -S prompts":                 {"ldappasswd -x -D cn=admin,dc=x -W -S uid=orders,dc=x", false},
		"elasticsearch-users from a variable":   {`elasticsearch-users useradd orders -p "$ES_PASSWORD" -r superuser`, false},
		"rabbitmqadmin -P is the port":          {"rabbitmqadmin -H rabbit -P 15672 list queues", false},
		"grafana-cli from stdin":                {"grafana-cli admin reset-admin-password --password-from-stdin", false},
		"grafana-cli plugins install":           {"grafana-cli plugins install grafana-piechart-panel", false},
		"mc admin user list":                    {"mc admin user list minio", false},
		"decoding base64 of a variable":         {"export DB_PASSWORD=$(echo $ENC | base64 -d)", false},
		"decoding a file":                       {"export DB_PASSWORD=$(base64 -d /run/secrets/pw.b64)", false},
		"base64 encoding, not decoding":         {"export DB_PASSWORD_B64=$(echo $PW | base64)", false},
		"vault operator unseal KEY":             {"vault operator unseal 3q2+7wAAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIII=", true},
		"vault operator unseal -address KEY":    {"vault operator unseal -address=http://vault:8200 3q2+7wAAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIII=", true},
		"influx -t TOKEN":                       {"influx bucket list -o orders -t Orders2024tokenabcdef", true},
		"runuser -u USER -- psql -c":            {`runuser -u postgres -- psql -c "ALTER USER postgres PASSWORD 'Orders-2024'"`, true},
		"vault operator unseal prompts":         {"vault operator unseal", false},
		"vault operator unseal a variable":      {`vault operator unseal "$UNSEAL_KEY_1"`, false},
		"vault operator unseal -reset":          {"vault operator unseal -reset", false},
		"vault operator unseal from a file":     {"vault operator unseal $(cat /vault/keys/1)", false},
		"influx -t a variable":                  {`influx write -b orders -t "$INFLUX_TOKEN" -f /data/x.lp`, false},
		"runuser USER -c a reference":           {`runuser postgres -c "psql -c \"ALTER USER postgres PASSWORD '$PW'\""`, false},
		"add-user.sh -u USER -p":                {"/opt/jboss/wildfly/bin/add-user.sh -u admin -p Orders-2024 --silent", true},
		"add-user.sh USER PASSWORD":             {"/opt/jboss/wildfly/bin/add-user.sh admin Orders#70365 --silent", true},
		"add-user.sh -a -u -p -g":               {"$JBOSS_HOME/bin/add-user.sh -a -u app -p Orders-2024 -g guest", true},
		"add-user-keycloak.sh -u -p":            {"/opt/jboss/keycloak/bin/add-user-keycloak.sh -r master -u admin -p Orders-2024", true},
		"add-user.sh -p a reference":            {`/opt/jboss/wildfly/bin/add-user.sh -u admin -p "$WILDFLY_PASSWORD" --silent`, false},
		"add-user.sh USER a reference":          {`add-user.sh "$ADMIN_USER" "${ADMIN_PASSWORD}" --silent`, false},
		"add-user.sh properties files":          {"add-user.sh -u admin -sc /opt/cfg -up mgmt-users.properties -r ManagementRealm", false},
		"add-user-keycloak.sh USER, no operand": {"add-user-keycloak.sh --sc /opt/cfg admin Orders-2024", false},
		"add-user.sh USER <<< a reference":      {`add-user.sh admin <<< "$ADMIN_PASSWORD" 2> /dev/null`, false},
		"curl --oauth2-bearer TOKEN":            {"curl -sf --oauth2-bearer Orders2024tokenabcdef https://api.example.com/v1/orders", true},
		"curl --oauth2-bearer TOKEN quoted":     {`curl --oauth2-bearer "Orders2024tokenabcdef" -X POST http://svc/hook`, true},
		"curl -U USER:PASSWORD (proxy)":         {"curl -U proxyuser:Orders-2024 -x http://proxy:3128 https://example.com", true},
		"curl --proxy-user USER:PASSWORD":       {"curl --proxy-user proxyuser:Orders-2024 https://example.com", true},
		"curl --oauth2-bearer a reference":      {`curl --oauth2-bearer "$API_TOKEN" https://api.example.com`, false},
		"curl --oauth2-bearer a file":           {`curl --oauth2-bearer "$(cat /var/run/secrets/token)" https://api`, false},
		"curl -U a reference":                   {`curl -U "proxy:$PROXY_PASSWORD" https://example.com`, false},
		"curl -U USER alone":                    {"curl -U proxyuser https://example.com", false},
		"java -jar jenkins-cli.jar -auth":       {"java -jar /var/jenkins_home/war/WEB-INF/jenkins-cli.jar -s http://localhost:8080/ -auth admin:Orders-2024 install-plugin git", true},
		"jenkins-cli -auth USER:TOKEN":          {"jenkins-cli -auth admin:Orders-2024 -s http://jenkins:8080 who-am-i", true},
		"java -Xmx -jar jenkins-cli.jar -auth":  {`java -Xmx256m -jar jenkins-cli.jar -auth "admin:Orders-2024" reload-configuration`, true},
		"jenkins-cli -auth a reference":         {`java -jar jenkins-cli.jar -s "$JENKINS_URL" -auth "admin:$JENKINS_TOKEN" who-am-i`, false},
		"jenkins-cli -auth @FILE":               {"java -jar jenkins-cli.jar -s http://jenkins:8080 -auth @/run/secrets/cli-auth who-am-i", false},
		"java -jar another jar -auth":           {"java -jar app.jar -auth admin:Orders-2024", false},
		"java a class -auth":                    {"java -cp jenkins-cli.jar Main -auth admin:Orders-2024", false},
		"echo 'VALUE<newline>VALUE' | passwd":   {"set -e\necho 'Orders-2024\nOrders-2024' | passwd app\necho done", true},
		"echo \"VALUE<newline>VALUE\" | passwd": {"echo \"Orders-2024\nOrders-2024\" | passwd app", true},
		"mysql -e \"<newline>CREATE USER\"":     {"mysql -uroot -e \"\n  CREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\n  GRANT ALL ON app.* TO 'app'@'%';\"", true},
		"mysql -e '<newline>CREATE USER'":       {"mysql -uroot -e '\nCREATE USER app IDENTIFIED BY \"Orders-2024\";\n'\necho ok", true},
		"multi-line quote, a reference":         {"echo \"$PW\n$PW\" | passwd app", false},
		"multi-line SQL, a reference":           {"mysql -uroot -e \"\n  CREATE USER 'app'@'%' IDENTIFIED BY '$APP_PASSWORD';\n\"", false},
		"a quote in a comment":                  {"# don't echo it\necho Orders-2024 > /tmp/x\ncat /tmp/x", false},
		"an escaped quote":                      {"echo it\\'s\nmysql -uroot -p\"$PW\"", false},
		"a quote closed, then a command":        {"echo 'a\nb' > /tmp/motd\nmysql -uroot -p\"$PW\"", false},
		"--defaults-extra-file=<(printf ...)":   {`mysql --defaults-extra-file=<(printf '[client]\nuser=root\npassword=Orders-2024\n') -e 'select 1'`, true},
		"--defaults-file <(echo -e ...)":        {`mysqldump --defaults-file <(echo -e "[mysqldump]\npassword=Orders-2024") orders > /b/o.sql`, true},
		"<(printf ...), a reference":            {`mysql --defaults-extra-file=<(printf '[client]\npassword=%s\n' "$MYSQL_PWD") -e 'select 1'`, false},
		"<(printf ...), no credential":          {`mysql --defaults-extra-file=<(printf '[client]\nhost=db\nuser=root\n') -e 'select 1'`, false},
		"<(mysql ...) no literal":               {`diff <(mysql -uroot -p"$PW" -e 'show tables') /b/tables`, false},
		"kubectl exec -i POD mysql <<EOF":       {"kubectl exec -i mysql-0 mysql <<EOF\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\nEOF", true},
		"kubectl exec POD mysql <<EOF, a ref":   {"kubectl exec -i mysql-0 mysql <<EOF\nCREATE USER 'app'@'%' IDENTIFIED BY '$APP_PW';\nEOF", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil); (got != "") != tc.want {
				t.Errorf("argumentCredential(%q) = %q, want a credential %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false); (got != "") != tc.want {
				t.Errorf("keyCredential(init.sh, %q) = %q, want a credential %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestCredentialsWrittenToFiles judges a script that writes a literal credential into a file
// that holds one, as an init container writes what a Secret's file would hold: echo or printf
// VALUE > FILE (or | tee FILE), and a here-document cat writes, where FILE's name names a
// credential (db_password, api-token, secret.txt) or is a password file (.pgpass, .netrc).
// A variable, a path, nothing, and files named otherwise (a log, password_file) stay Pass.
func TestCredentialsWrittenToFiles(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo to a password file":                      {"echo 'Orders-2024' > /etc/app/db_password\nexec app", true},
		"printf to a token file":                       {"printf '%s' Orders-2024-token > /var/run/app/api-token", true},
		"echo -n appended to a secret file":            {"echo -n Orders-2024 >> /etc/app/secret.txt", true},
		"echo piped to tee":                            {"echo -n Orders-2024 | tee /etc/app/db_password > /dev/null", true},
		"a here-document cat writes":                   {"cat > /etc/app/password <<EOF\nOrders-2024\nEOF", true},
		"echo a .pgpass line":                          {"echo 'db:5432:*:app:Orders-2024' > ~/.pgpass && chmod 600 ~/.pgpass", true},
		"echo a .netrc line":                           {"echo 'machine git.example.com login ci password Orders-2024' > ~/.netrc", true},
		"echo a variable to a password file":           {`echo "$DB_PASSWORD" > /etc/app/db_password`, false},
		"echo prose to a log":                          {"echo 'password reset done' > /var/log/app.log", false},
		"echo nothing to a password file":              {"echo -n '' > /etc/app/password", false},
		"echo a path to a reference":                   {"echo /run/secrets/db > /etc/app/password_file", false},
		"a here-document of a variable":                {"cat > /etc/app/password <<EOF\n$DB_PASSWORD\nEOF", false},
		"echo to a password file's directory":          {"echo Orders-2024 > /etc/app/db_password/README", false},
		"a .pgpass line from variables":                {`echo "db:5432:*:app:$PGPW" > ~/.pgpass`, false},
		"a here-document to .pgpass":                   {"cat > ~/.pgpass <<EOF\ndb:5432:*:app:Orders-2024\nEOF\nchmod 600 ~/.pgpass", true},
		"a here-document to .pgpass, after":            {"cat <<'EOF' > /root/.pgpass\n# orders\ndb:5432:*:app:Ord$rs-2024\nEOF", true},
		"a here-document tee writes to .netrc":         {"tee -a ~/.netrc <<-EOF\n\tmachine git.example.com\n\tlogin ci\n\tpassword Orders-2024\n\tEOF", true},
		"a here-document to .pgpass from variables":    {"cat > ~/.pgpass <<EOF\n${PGHOST}:5432:*:${PGUSER}:${PGPASSWORD}\nEOF", false},
		"a here-document to .netrc from a variable":    {"cat > ~/.netrc <<EOF\nmachine git.example.com login ci password $GIT_TOKEN\nEOF", false},
		"a here-document to .netrc without a password": {"cat > ~/.netrc <<EOF\nmachine git.example.com login ci\nEOF", false},
		"a here-document printed, not written":         {"cat <<EOF\nwrite db:5432:*:app:PASSWORD to ~/.pgpass\nEOF", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil); (got != "") != tc.want {
				t.Errorf("argumentCredential(%q) = %q, want a credential %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false); (got != "") != tc.want {
				t.Errorf("keyCredential(init.sh, %q) = %q, want a credential %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestKafkaRcloneAndInfluxPasswords judges kafka-configs' SCRAM credentials (--add-config
// 'SCRAM-SHA-512=[password=VALUE]'), rclone config create/update/password KEY VALUE (and
// KEY=VALUE) under a credential-like key, and influx setup's and user create's -p, in argv
// and in a shell script.
func TestKafkaRcloneAndInfluxPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"kafka-configs SCRAM":                  {"kafka-configs.sh --bootstrap-server k:9092 --alter --add-config 'SCRAM-SHA-512=[password=Orders-2024]' --entity-type users --entity-name orders", true},
		"kafka-configs SCRAM with iterations":  {"kafka-configs --alter --add-config SCRAM-SHA-256=[iterations=8192,password=Orders-2024] --entity-type users --entity-name orders", true},
		"kafka-configs --add-config=":          {"kafka-configs --alter --add-config=SCRAM-SHA-512=[password=Orders-2024] --entity-type users --entity-name o", true},
		"rclone config create KEY VALUE":       {"rclone config create s3 s3 provider AWS access_key_id AKIAEXAMPLE secret_access_key Orders-2024-Secret", true},
		"rclone config create KEY=VALUE":       {"rclone config create backup sftp host=files user=orders pass=Orders-2024", true},
		"rclone config update":                 {"rclone config update backup pass Orders-2024", true},
		"influx setup -p":                      {"influx setup -u admin -p Orders-2024 -o orders -b metrics -f", true},
		"influx user create -p":                {"influx user create -n orders -p Orders-2024 -o orders", true},
		"kafka-configs SCRAM from a variable":  {`kafka-configs --alter --add-config "SCRAM-SHA-512=[password=$KAFKA_PASSWORD]" --entity-type users --entity-name o`, false},
		"kafka-configs another setting":        {"kafka-configs --alter --add-config retention.ms=86400000 --entity-type topics --entity-name orders", false},
		"rclone config create from a variable": {`rclone config create backup sftp host=files user=orders pass="$SFTP_PASS"`, false},
		"rclone config create env_auth":        {"rclone config create s3 s3 provider AWS env_auth true", false},
		"rclone copy":                          {"rclone copy /data backup:orders --transfers 4", false},
		"influx query -p is no password":       {"influx query -p 'from(bucket: \"x\")'", false},
		"influx setup from a variable":         {`influx setup -u admin -p "$INFLUX_PASSWORD" -o orders -b metrics -f`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestMoreProgramsThatReadAPasswordFromTheirInput judges echo or printf giving a literal
// password to more programs that read one from their input: smbpasswd -s, htpasswd -i, kinit,
// openssl's -passin stdin and gpg --passphrase-fd 0 (as argv and as a shell script's line, and
// in a here-document). A variable, a keytab and the options that do not read the input stay
// Pass.
func TestMoreProgramsThatReadAPasswordFromTheirInput(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"printf to smbpasswd -s":          {`printf 'Orders-2024\nOrders-2024\n' | smbpasswd -s -a orders`, true},
		"echo to smbpasswd -sa":           {`echo -e 'Orders-2024\nOrders-2024' | smbpasswd -sa orders`, true},
		"echo to htpasswd -i":             {"echo Orders-2024 | htpasswd -i -c /etc/nginx/.htpasswd admin", true},
		"echo to kinit":                   {"echo Orders-2024 | kinit orders@EXAMPLE.COM", true},
		"echo to openssl -passin stdin":   {"echo Orders-2024 | openssl rsa -in k.pem -passin stdin -out plain.pem", true},
		"echo to gpg --passphrase-fd 0":   {"echo Orders-2024 | gpg --batch --passphrase-fd 0 -d /data/backup.gpg", true},
		"echo to openssl -passout=stdin":  {"echo Orders-2024 | openssl genrsa -aes256 -passout=stdin 2048", true},
		"echo a variable to smbpasswd -s": {`printf '%s\n%s\n' "$PW" "$PW" | smbpasswd -s -a orders`, false},
		"echo to smbpasswd without -s":    {"echo Orders-2024 | smbpasswd -a orders", false},
		"echo to htpasswd without -i":     {"echo Orders-2024 | htpasswd -c /etc/nginx/.htpasswd admin", false},
		"echo to kinit with a keytab":     {"echo x | kinit -kt /etc/krb5.keytab orders@EXAMPLE.COM", false},
		"echo a variable to kinit":        {`echo "$KRB_PASSWORD" | kinit orders@EXAMPLE.COM`, false},
		"echo to openssl -passin file:":   {"echo Orders-2024 | openssl rsa -in k.pem -passin file:/run/pw -out p.pem", false},
		"echo to gpg reading a file":      {"echo Orders-2024 | gpg --batch --passphrase-file /run/pw -d /data/b.gpg", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line); (got != "") != tc.want {
				t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", tc.line, got, tc.want)
			}
		})
	}
	for script, want := range map[string]bool{
		"smbpasswd -s -a orders <<EOF\nOrders-2024\nOrders-2024\nEOF": true,
		"kinit orders@EXAMPLE.COM <<EOF\nOrders-2024\nEOF":            true,
		"smbpasswd -s -a orders <<EOF\n$PW\n$PW\nEOF":                 false,
	} {
		if got := scriptProgramPassword(script); (got != "") != want {
			t.Errorf("scriptProgramPassword(%q) = %q, want a password %v", script, got, want)
		}
	}
}

// TestShellParametersOutsideSingleQuotes judges scripts, as a container's sh -c argument
// (argumentCredential) and as a ConfigMap's script key (keyCredential), whose settings hold a
// '$': the shell expands $NAME outside single quotes only, so 'Ord$rs-2024' is a literal
// password and export PGPASSWORD="$PW" gives none.
func TestShellParametersOutsideSingleQuotes(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"a '$' in single quotes, exported":         {"export PGPASSWORD='Ord$rs-2024'; psql -h db -c 'select 1'", true},
		"a '$' in single quotes, before a command": {"PGPASSWORD='Ord$rs-2024' psql -h db -c 'select 1'", true},
		"a '$' in single quotes on a later line":   {"set -e\nexport DB_PASSWORD='P@ss$word1'\nexec app", true},
		"after a closed quote on the line":         {"echo 'it''s'; export DB_PASSWORD='P@ss$word1'", true},
		"no '$'":                                   {"export PGPASSWORD='Orders-2024'; psql -h db", true},
		"a parameter":                              {"#!/bin/sh\nexport PGPASSWORD=$POSTGRES_PASSWORD\npsql -h db", false},
		"a parameter in double quotes":             {"#!/bin/sh\nexport PGPASSWORD=\"$PW\"\npsql -h db", false},
		"a positional parameter":                   {"#!/bin/sh\nPASSWORD=\"$2\"\nshift 2", false},
		"a parameter before a command":             {"PGPASSWORD=$POSTGRES_PASSWORD psql -h db -c 'select 1'", false},
		"after an apostrophe in a comment":         {"#!/bin/sh\n# don't log it\nexport PGPASSWORD=$PW\npsql -h db", false},
		"after an apostrophe in double quotes":     {"echo \"it's\"; export PGPASSWORD=\"$PW\"", false},
		"after a quote another line closes":        {"echo 'a\nb'\nexport PGPASSWORD=$PW", false},
		"an escaped quote":                         {"echo it\\'s; export PGPASSWORD=$PW; echo it\\'s", false},
		"mysql -p with a '$' in single quotes":     {"mysql -uroot -p'Ord$rs-2024' -e 'select 1'", true},
		"sshpass -p with a '$' in single quotes":   {"sshpass -p 'P@ss$word1' ssh backup@host", true},
		"redis-cli -a, a quoted '$' beside text":   {"redis-cli -a Ord'$'rs-2024 ping", true},
		"mysql -p with a parameter":                {`mysql -uroot -p"$MYSQL_ROOT_PASSWORD" -e 'select 1'`, false},
		"mysql -p, a quoted '$' and a parameter":   {`mysql -uroot -p'$'"$PW" -e 'select 1'`, false},
		"sshpass -p, a quote nothing closes":       {"sshpass -p 'P@ss$word1 ssh backup@host", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := keyCredential("run.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(run.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestWrappedCommandsAndPasswdInput judges commands run by a wrapper with options and
// operands (sudo -u USER, gosu USER, timeout DURATION, env -i), passwords sudo -S and passwd
// read from their input, and a group's output piped to a password reader, as argv and as a
// shell script's line.
func TestWrappedCommandsAndPasswdInput(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"sudo -u USER psql -c":              {`sudo -u postgres psql -c "ALTER USER postgres PASSWORD 'Orders-2024'"`, true},
		"sudo -E docker login -p":           {"sudo -E docker login -u bob -p Orders-2024 r.example.com", true},
		"sudo -u USER -- mysql -p":          {"sudo -u app -- mysql -uroot -pOrders-2024 -e 'select 1'", true},
		"gosu USER psql -c":                 {`gosu postgres psql -c "ALTER USER postgres PASSWORD 'Orders-2024'"`, true},
		"su-exec USER redis-cli -a":         {"su-exec redis redis-cli -a Orders-2024 ping", true},
		"timeout DURATION mysql -p":         {"timeout 10 mysql -uroot -pOrders-2024 -e 'select 1'", true},
		"timeout -s SIGNAL DURATION":        {"timeout -s KILL 10s redis-cli -a Orders-2024 ping", true},
		"env -i NAME=VALUE mysql -p":        {"env -i PATH=/bin mysql -uroot -pOrders-2024", true},
		"nice -n N mysqldump -p":            {"nice -n 10 mysqldump -uroot -pOrders-2024 orders", true},
		"echo | sudo -S":                    {"echo Orders-2024 | sudo -S apt-get update", true},
		"echo | sudo -kS":                   {"echo 'Orders-2024' | sudo -kS -u root id", true},
		"sudo -S <<<":                       {"sudo -S apt-get update <<< Orders-2024", true},
		"echo -e | passwd":                  {`echo -e 'Orders-2024\nOrders-2024' | passwd root`, true},
		"printf | passwd":                   {`printf 'Orders-2024\nOrders-2024\n' | passwd`, true},
		"passwd <<<":                        {"passwd root <<< Orders-2024", true},
		"a group's echo | passwd":           {"{ echo Orders-2024; echo Orders-2024; } | passwd --stdin bob", true},
		"a subshell's echo | smbpasswd -s":  {"(echo Orders-2024; echo Orders-2024) | smbpasswd -s -a bob", true},
		"sudo -u USER psql, a reference":    {`sudo -u postgres psql -c "ALTER USER postgres PASSWORD '$PW'"`, false},
		"gosu USER, a reference":            {`gosu postgres psql -c "ALTER USER postgres PASSWORD '${PW}'"`, false},
		"timeout with no password":          {"timeout 10 mysql -uroot -p -e 'select 1'", false},
		"sudo's -p prompt":                  {"sudo -p Password: -u app id", false},
		"sudo without -S":                   {"echo Orders-2024 | sudo tee /etc/motd", false},
		"sudo mysql -S socket":              {`sudo mysql -S /run/mysqld.sock <<< "select 1"`, false},
		"echo | sudo -S, a reference":       {`echo "$SUDO_PASSWORD" | sudo -S apt-get update`, false},
		"passwd -l":                         {"echo x | passwd -l root", false},
		"passwd -d":                         {"passwd -d root <<< ''", false},
		"echo a reference | passwd":         {`echo -e "$PW\n$PW" | passwd root`, false},
		"a file | passwd":                   {"cat /run/secrets/pw | passwd root", false},
		"a group of references | passwd":    {`{ echo "$PW"; echo "$PW"; } | passwd root`, false},
		"a group that prints no password":   {"{ echo start; date; } | tee /var/log/x", false},
		"gosu as a host name":               {"nc -z gosu 5432", false},
		"sudo runs echo to a password file": {"sudo echo hello", false},
		"kubectl exec POD -- psql -c":       {`kubectl exec -n db pg-0 -- psql -U postgres -c "ALTER USER app PASSWORD 'Orders-2024'"`, true},
		"kubectl exec -it POD -- redis-cli": {"kubectl exec -it redis-0 -c redis -- redis-cli -a Orders-2024 ping", true},
		"oc exec POD -- mysqldump":          {"oc exec mysql-0 -- mysqldump -uroot -pOrders-2024 orders", true},
		"docker exec CONTAINER mysql":       {"docker exec -i -u root db mysql -uroot -pOrders-2024 -e 'select 1'", true},
		"chroot DIR mysql":                  {"chroot /host mysql -uroot -pOrders-2024", true},
		"nsenter -t 1 -m -- mysql":          {"nsenter -t 1 -m -- mysql -uroot -pOrders-2024", true},
		"flock FILE mysqldump":              {"flock -w 10 /tmp/backup.lock mysqldump -uroot -pOrders-2024 orders", true},
		"watch -n N redis-cli":              {"watch -n 5 redis-cli -a Orders-2024 ping", true},
		"kubectl exec, a reference":         {`kubectl exec mysql-0 -- mysql -uroot -p"$MYSQL_ROOT_PASSWORD"`, false},
		"kubectl exec without --":           {"kubectl exec mysql-0 mysql", false},
		"kubectl logs -- a word":            {"kubectl logs pod -- -pOrders", false},
		"docker run -p is a port":           {"docker run -p 8080:80 nginx", false},
		"docker exec, a reference":          {`docker exec db sh -c 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD"'`, false},
		"docker --config DIR exec":          {"docker --config /tmp/cfg exec db mysql -uroot -pOrders-2024", true},
		"docker -H HOST exec":               {"docker -H tcp://10.0.0.5:2375 exec db mysql -uroot -pOrders-2024", true},
		"docker --context CTX exec -i":      {"docker --context prod exec -i db mysql -uroot -pOrders-2024", true},
		"nerdctl -n NS exec":                {"nerdctl -n k8s.io exec db redis-cli -a Orders-2024 ping", true},
		"docker --config DIR exec, a ref":   {`docker --config /tmp/cfg exec db mysql -uroot -p"$MYSQL_ROOT_PASSWORD"`, false},
		"docker -H HOST run -p is a port":   {"docker -H tcp://10.0.0.5:2375 run -p 8080:80 nginx", false},
		"docker --config DIR ps":            {"docker --config /tmp/cfg ps -q; mysql -p", false},
		"kubectl exec -i POD chpasswd":      {"echo root:Orders-2024 | kubectl exec -i web-0 chpasswd", true},
		"kubectl -n NS exec -c C POD cmd":   {"echo 'Orders-2024' | kubectl -n db exec -i -c app web-0 passwd --stdin app", true},
		"kubectl --kubeconfig F exec":       {"echo root:Orders-2024 | kubectl --kubeconfig /k/config exec -i web-0 -- chpasswd", true},
		"kubectl exec POD cmd, a ref":       {`echo "root:$ROOT_PASSWORD" | kubectl exec -i web-0 chpasswd`, false},
		"kubectl exec POD cat":              {"echo Orders-2024 | kubectl exec -i web-0 cat", false},
		"kubectl logs POD chpasswd":         {"echo root:Orders-2024 | kubectl logs web-0 chpasswd", false},
		"kubectl exec -c C POD, no cmd":     {"echo root:Orders-2024 | kubectl exec -it -c chpasswd web-0", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i, why := programPassword(shellWords(tc.line))
			if got := i >= 0; got != tc.want {
				t.Errorf("programPassword(%q) = %d %q, want a password %v", tc.line, i, why, tc.want)
			}
			if got := scriptProgramPassword(tc.line) != ""; got != tc.want {
				t.Errorf("scriptProgramPassword(%q) found a password: %v, want %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestScriptsShellsRunWithinScripts judges the script a shell or su runs from its -c option
// within a script (a container's sh -c argument, a ConfigMap's script key): su - postgres -c
// "psql -c \"ALTER USER ...\"" runs psql.
func TestScriptsShellsRunWithinScripts(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"su - USER -c psql -c SQL":           {`su - postgres -c "psql -c \"ALTER USER postgres PASSWORD 'Orders-2024';\""`, true},
		"su USER -c mysql -p":                {`su postgres -c 'mysql -uroot -pOrders-2024 -e "select 1"'`, true},
		"su -c SCRIPT USER":                  {`su -c "redis-cli -a Orders-2024 ping" redis`, true},
		"su --command=":                      {`su app --command="docker login -u bob -p Orders-2024 r.example.com"`, true},
		"bash -c":                            {`set -e; bash -c "mysql -uroot -pOrders-2024 -e 'select 1'"`, true},
		"bash -ec after a line":              {"echo start\nbash -ec 'echo root:Orders-2024 | chpasswd'", true},
		"sudo -u USER sh -c":                 {`sudo -u postgres sh -c "psql -c \"ALTER ROLE app PASSWORD 'Orders-2024'\""`, true},
		"ssh HOST COMMAND":                   {`ssh -i /keys/id backup@db "mysqldump -uroot -pOrders-2024 orders" > /b/o.sql`, true},
		"ssh -o OPT -p PORT HOST 'COMMAND'":  {"ssh -o StrictHostKeyChecking=no -p 2222 root@host 'redis-cli -a Orders-2024 ping'", true},
		"ssh HOST, a reference":              {`ssh backup@db 'mysqldump -uroot -p"$MYSQL_ROOT_PASSWORD" orders'`, false},
		"ssh HOST alone":                     {"ssh -p 2222 backup@db", false},
		"su -c a reference":                  {`su - postgres -c "psql -c \"ALTER USER postgres PASSWORD '$PW';\""`, false},
		"su -c a parameter in single quotes": {`su postgres -c 'mysql -uroot -p"$MYSQL_ROOT_PASSWORD" -e "select 1"'`, false},
		"bash -c a variable":                 {`bash -c "$CMD"`, false},
		"sh -c a help text":                  {`sh -c 'echo usage: app --password PASSWORD'`, false},
		"su -c without a script":             {"su postgres -c", false},
		"su to a login shell":                {"su - postgres", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestSQLHereDocumentsToOtherPrograms judges here-documents of SQL given to a program not known
// to read SQL (a function of the script that runs the database's client, the official MySQL
// image's docker_process_sql): a statement that sets a literal password is one.
func TestSQLHereDocumentsToOtherPrograms(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"a function's here-document":        {"run_sql() { mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" \"$@\"; }\nrun_sql <<EOF\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\nEOF", true},
		"docker_process_sql <<-EOSQL":       {"docker_process_sql --database=mysql <<-EOSQL\n\t-- users\n\tALTER USER 'root'@'localhost' IDENTIFIED BY 'Orders-2024';\n\tEOSQL", true},
		"printed SQL":                       {"cat <<'EOF'\ncreate role app login password 'Orders-2024';\nEOF", true},
		"a function's SQL from a variable":  {"run_sql <<EOF\nCREATE USER 'app'@'%' IDENTIFIED BY '$APP_PASSWORD';\nEOF", false},
		"a function's SQL without password": {"run_sql <<EOF\nCREATE DATABASE orders;\nGRANT ALL ON orders.* TO 'app'@'%';\nEOF", false},
		"a help text about SQL":             {"cat <<EOF\nusage: run ALTER USER app PASSWORD 'x'; on the primary\nEOF", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestKeystoresSecretsAndInitialPasswords judges values a program stores or hashes from its
// input or operand: elasticsearch-keystore add -x NAME (a secure setting from the input),
// kubectl create secret --from-file=KEY=/dev/stdin, neo4j-admin set-initial-password PASSWORD,
// mkpasswd PASSWORD, as argv and as a shell script's line.
func TestKeystoresSecretsAndInitialPasswords(t *testing.T) {
	tests := map[string]struct {
		line string
		want bool
	}{
		"echo | elasticsearch-keystore add -x":   {"echo Orders-2024 | bin/elasticsearch-keystore add -x bootstrap.password", true},
		"printf | opensearch-keystore --stdin":   {"printf '%s' Orders-2024 | opensearch-keystore add --stdin s3.client.default.secret_key", true},
		"elasticsearch-keystore <<<":             {"elasticsearch-keystore add -x bootstrap.password <<< Orders-2024", true},
		"echo | kubectl --from-file=KEY=stdin":   {"echo -n Orders-2024 | kubectl create secret generic db --from-file=password=/dev/stdin", true},
		"echo | oc --from-file KEY=stdin":        {"echo -n Orders-2024 | oc create secret generic db --from-file db-password=/dev/stdin", true},
		"neo4j-admin set-initial-password":       {"neo4j-admin set-initial-password Orders-2024", true},
		"neo4j-admin dbms set-initial-password":  {"bin/neo4j-admin dbms set-initial-password Orders-2024 --require-password-change", true},
		"mkpasswd":                               {"useradd -m -p \"$(mkpasswd -m sha-512 Orders-2024)\" bob", true},
		"elasticsearch-keystore from a variable": {`echo "$ELASTIC_PASSWORD" | elasticsearch-keystore add -x bootstrap.password`, false},
		"elasticsearch-keystore create":          {"echo y | elasticsearch-keystore create", false},
		"elasticsearch-keystore add, a prompt":   {"echo y | elasticsearch-keystore add bootstrap.password", false},
		"kubectl, a username from stdin":         {"echo -n orders | kubectl create secret generic db --from-file=username=/dev/stdin", false},
		"kubectl, from a file":                   {"echo -n Orders-2024 | kubectl create secret generic db --from-file=password=/run/pw", false},
		"kubectl apply from stdin":               {"echo Orders-2024 | kubectl apply -f -", false},
		"neo4j-admin from a variable":            {`neo4j-admin dbms set-initial-password "$NEO4J_PASSWORD"`, false},
		"neo4j-admin another command":            {"neo4j-admin database dump neo4j --to-path=/backups", false},
		"mkpasswd from its input":                {`echo "$PW" | mkpasswd -m sha-512 --stdin`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := scriptProgramPassword(tc.line) != ""; got != tc.want {
				t.Errorf("scriptProgramPassword(%q) found a password: %v, want %v", tc.line, got, tc.want)
			}
			if got := argumentCredential(tc.line, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.line, got, tc.want)
			}
		})
	}
}

// TestShellScriptsExpandTheContainersEnvironment judges a container's sh -c script whose
// password is a parameter the shell expands with the container's environment, where the pod
// template gives the variable a literal value under a name that marks no credential.
func TestShellScriptsExpandTheContainersEnvironment(t *testing.T) {
	known := map[string]string{"DB_X": "Orders-2024", "DB_USER": "orders", "TMPL": "a$(B)c", "DB_HOST": "db"}
	tests := map[string]struct {
		argv []string
		want bool
	}{
		"mysql -p$NAME":                   {[]string{"sh", "-c", "mysql -uroot -p$DB_X -e 'select 1'"}, true},
		"mysql -p${NAME}":                 {[]string{"/bin/bash", "-c", "mysql -u${DB_USER} -p${DB_X}"}, true},
		"exported to PGPASSWORD":          {[]string{"sh", "-ec", `export PGPASSWORD="$DB_X"; psql -h db`}, true},
		"redis-cli -a after a line":       {[]string{"sh", "-c", "set -e\nredis-cli -h $DB_HOST -a $DB_X ping"}, true},
		"a variable the pod does not set": {[]string{"sh", "-c", "mysql -uroot -p$DB_PASSWORD -e 'select 1'"}, false},
		"a longer name":                   {[]string{"sh", "-c", "mysql -uroot -p$DB_XY -e 'select 1'"}, false},
		"a variable that is no password":  {[]string{"sh", "-c", "mysql -u$DB_USER -p\"$DB_PW\" -h $DB_HOST"}, false},
		"not a shell's script":            {[]string{"myapp", "-c", "mysql -p$DB_X"}, false},
		"a value holding a reference":     {[]string{"sh", "-c", "mysql -uroot -p$TMPL"}, false},
		"a shell's script file, not -c":   {[]string{"sh", "/scripts/run.sh", "$DB_X"}, false},
	}
	t.Run("many references to a long value", func(t *testing.T) {
		env := map[string]string{"V": strings.Repeat("v", 100_000)}
		script := strings.Repeat("$V ", 100_000)
		if got := len(environmentParameters(script, env)); got > 2*len(script)+expansionAllowance {
			t.Errorf("the script of %d bytes became %d bytes, want at most %d", len(script), got, 2*len(script)+expansionAllowance)
		}
	})
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			found := argumentCredentials("command", tc.argv, "", path.Base(tc.argv[0]), known, nil)
			if got := len(found) > 0; got != tc.want {
				t.Errorf("argumentCredentials(%q) = %q, want a credential %v", tc.argv, found, tc.want)
			}
		})
	}
}

// TestVariablesAScriptSetsToLiterals judges scripts (a container's sh -c argument, a ConfigMap's
// script key) that set a variable whose name marks no credential to literal text and give it
// where a password goes: the shell expands it to that text.
func TestVariablesAScriptSetsToLiterals(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"X=VALUE; mysql -p$X":                {"X=Orders-2024; mysql -uroot -p$X -e 'select 1'", true},
		"on an earlier line, quoted":         {"set -e\nDB_X='Orders-2024'\nredis-cli -a \"$DB_X\" ping", true},
		"export, then PGPASSWORD":            {"export P=Orders-2024\nexport PGPASSWORD=${P}\npsql -h db", true},
		"into a URL":                         {"U=Orders-2024\npsql postgres://app:$U@db/orders -c 'select 1'", true},
		"X=VALUE before the command":         {"X=Orders-2024 mysql -uroot -p$X -e 'select 1'", false},
		"set twice to different values":      {"X=Orders-2024\nX=$(cat /run/secrets/pw)\nmysql -uroot -p$X", false},
		"set from a file":                    {"X=$(cat /run/secrets/pw); mysql -uroot -p$X -e 'select 1'", false},
		"a variable set to no password":      {"H=db.shop.svc; mysql -h $H -uroot -p\"$MYSQL_ROOT_PASSWORD\"", false},
		"a literal in single quotes, unused": {"X='Orders-2024'; echo done", false},
		// The order is not looked at (scriptAssignments): a function or a loop runs the use
		// after the assignment.
		"used by a function defined before": {"run() { mysql -uroot -p$X -e 'select 1'; }\nX=Orders-2024\nrun", true},
		"used in a loop before it is set":   {"while true; do redis-cli -a \"$X\" ping; X=Orders-2024; sleep 5; done", true},
		"used before it is set, once":       {"mysql -uroot -p$X; X=Orders-2024", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// mayNameProgramByEachPart is what mayNameProgram answers: whether text holds one of
// programNameParts, looked for one part at a time.
func mayNameProgramByEachPart(text string) bool {
	return slices.ContainsFunc(programNameParts, func(p string) bool { return strings.Contains(text, p) })
}

// TestMayNameProgramFindsEveryPartAnywhere: mayNameProgram, which looks for every part of
// programNameParts in one pass, finds each part at the start, in the middle and at the end of
// a text, and nothing in a text of the parts each less its last byte.
func TestMayNameProgramFindsEveryPartAnywhere(t *testing.T) {
	for _, p := range programNameParts {
		for _, text := range []string{p, p + " -x", "run " + p, "a/" + p + "-b", "x" + p} {
			if !mayNameProgram(text) {
				t.Errorf("mayNameProgram(%q) = false, want true (it holds %q)", text, p)
			}
		}
		cut := p[:len(p)-1]
		if got, want := mayNameProgram(cut), mayNameProgramByEachPart(cut); got != want {
			t.Errorf("mayNameProgram(%q) = %v, want %v", cut, got, want)
		}
	}
	for _, text := range []string{"", "m", "M", "MYSQL", "my sql", "echo hello", "7", "-", "configure  set", "\xff\xfe"} {
		if got, want := mayNameProgram(text), mayNameProgramByEachPart(text); got != want {
			t.Errorf("mayNameProgram(%q) = %v, want %v", text, got, want)
		}
	}
}

// FuzzMayNameProgram: mayNameProgram answers as looking for each of programNameParts in turn.
func FuzzMayNameProgram(f *testing.F) {
	for _, seed := range []string{"", "mysq", "mysql", "xmc", "7z", "configure set", "config  set", "-cl", "-cli", "ssh-keyge", "mosquitto"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := mayNameProgram(text), mayNameProgramByEachPart(text); got != want {
			t.Errorf("mayNameProgram(%q) = %v, want %v", text, got, want)
		}
	})
}

// BenchmarkMayNameProgram reads a text like a Grafana dashboard's JSON in a ConfigMap, which
// names no program (sec-configmap-credentials reads every value so).
func BenchmarkMayNameProgram(b *testing.B) {
	text := strings.Repeat(`{"datasource": "Prometheus", "expr": "sum(rate(istio_requests_total{reporter=\"destination\"}[1m])) by (destination_workload)", "legendFormat": "{{ destination_workload }}", "interval": "", "format": "time_series", "intervalFactor": 1, "refId": "A"},`+"\n", 300)
	if mayNameProgram(text) {
		b.Fatal("the text names a program")
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		mayNameProgram(text)
	}
}

// TestANSICQuoting judges scripts that use bash's ANSI-C quoting, $'...', in which a backslash
// escapes the byte after it, \' included: the quote ends at the first unescaped quote. Read as
// '...', where \' ends the quote, the rest of the line (and the lines after it) was read inside
// a quote that never closed, and the commands there were not read, or text inside the quote
// was read as commands.
func TestANSICQuoting(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"after it on the line":           {"echo $'it\\'s ready' ; mysql -uroot -pOrders-2024 -e 'select 1'", true},
		"on the next line":               {"printf $'don\\'t\\n'\nmyapp --password Orders-2024", true},
		"after one across lines":         {"echo $'a\\'b\nc'\nredis-cli -a Orders-2024 ping", true},
		"an assignment, then the use":    {"MSG=$'it\\'s'\nX=Orders-2024\nmysql -uroot -p$X", true},
		"a password in ANSI-C quotes":    {"echo $'it\\'s'; sshpass -p $'Orders-2024' ssh h uptime", true},
		"after a $ escaped":              {"echo \\$'x' ; mysql -uroot -pOrders-2024", true},
		"text inside the quote":          {"myapp --motd $'it\\'s --password Orders-2024 \\'ok\\'' --verbose", false},
		"a parameter after it":           {"echo $'it\\'s' ; mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\"", false},
		"$' inside double quotes":        {"echo \"cost: $'\" ; mysql -uroot -p\"$PW\"", false},
		"a substitution after it":        {"echo $'it\\'s' ; mysql -uroot -p\"$(cat /run/secrets/pw)\"", false},
		"an assignment of a parameter":   {"MSG=$'it\\'s'; X=\"$DB_PW\"; mysql -uroot -p$X", false},
		"a substitution inside the text": {"echo $'$(mysql -uroot -pOrders-2024)'", false},
		"echo $'...' to chpasswd":        {"echo $'root:Orders-2024' | chpasswd", true},
		"psql -c $'...'":                 {"psql -c $'ALTER USER app PASSWORD \\'Orders-2024\\''", true},
		"mysql -e $'...'":                {"mysql -uroot -e $'CREATE USER a IDENTIFIED BY \\'Orders-2024\\''", true},
		"psql -c $'...' with a variable": {"psql -v pw=\"$PW\" -c $'ALTER USER app PASSWORD :\\'pw\\''", false},
		"echo $'...' to no reader":       {"echo $'root:Orders-2024' | wc -c", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := argumentCredential(tc.script, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestPostgreSQLDollarQuotedPasswords judges PostgreSQL's dollar-quoted strings ($$...$$,
// $tag$...$tag$) given as a password, in a ConfigMap's SQL file and in psql -c's single-quoted
// argument, and the bodies in dollar quotes of DO blocks and functions, which are read as
// statements. In double quotes or an unquoted here-document the shell expands $$ and $tag
// first, so no dollar quote reaches psql there.
func TestPostgreSQLDollarQuotedPasswords(t *testing.T) {
	files := map[string]struct {
		value string
		want  bool
	}{
		"PASSWORD $$...$$":                   {"CREATE USER app PASSWORD $$Orders-2024$$;\n", true},
		"WITH PASSWORD $tag$...$tag$":        {"ALTER ROLE app WITH LOGIN PASSWORD $pw$Orders-2024$pw$;\n", true},
		"ENCRYPTED PASSWORD $_1$...$_1$":     {"CREATE ROLE app LOGIN ENCRYPTED PASSWORD $_1$Ord'rs-2024$_1$;\n", true},
		"a DO block's CREATE ROLE":           {"DO $$\nBEGIN\n  CREATE ROLE app LOGIN PASSWORD 'Orders-2024';\nEND\n$$;\n", true},
		"a DO block's dollar-quoted one":     {"DO $do$\nBEGIN\n  ALTER ROLE app PASSWORD $p$Orders-2024$p$;\nEND\n$do$;\n", true},
		"after a dollar-quoted body":         {"CREATE FUNCTION f() RETURNS text AS $$ SELECT 'x' $$ LANGUAGE sql;\nALTER USER app PASSWORD $$Orders-2024$$;\n", true},
		"an empty one":                       {"ALTER USER app PASSWORD $$$$;\n", false},
		"an envsubst placeholder in one":     {"CREATE USER app PASSWORD $$${APP_PASSWORD}$$;\n", false},
		"a template's placeholder in one":    {"CREATE USER app PASSWORD $q${{ .Values.password }}$q$;\n", false},
		"a function's body about passwords":  {"CREATE FUNCTION check_pw(p text) RETURNS bool AS $$ SELECT length(p) > 12 $$ LANGUAGE sql;\n", false},
		"PASSWORD NULL after a dollar quote": {"DO $$ BEGIN ALTER ROLE app PASSWORD NULL; END $$;\n", false},
		"psql's variable":                    {"ALTER USER app PASSWORD :'pw';\n", false},
	}
	for name, tc := range files {
		t.Run("init.sql: "+name, func(t *testing.T) {
			if got := keyCredential("init.sql", tc.value, false); (got != "") != tc.want {
				t.Errorf("keyCredential(init.sql, %q) = %q, want a credential %v", tc.value, got, tc.want)
			}
		})
	}
	scripts := map[string]struct {
		script string
		want   bool
		// keyOnly: judged as a ConfigMap's script only. In a container's sh -c argument the
		// parameters of a quoted here-document's body are braced (bracedParameters), and a
		// dollar quote there is not read (a lead).
		keyOnly bool
	}{
		"psql -c '... PASSWORD $$...$$'":        {"psql -U postgres -c 'ALTER USER app PASSWORD $$Orders-2024$$'", true, false},
		"psql -c '... PASSWORD $tag$...$tag$'":  {"psql -c 'CREATE ROLE app LOGIN PASSWORD $p$Orders-2024$p$'", true, false},
		"a quoted here-document to psql":        {"psql -v ON_ERROR_STOP=1 <<'EOSQL'\nCREATE USER app PASSWORD $$Orders-2024$$;\nEOSQL", true, true},
		"psql -c \"... $$...$$\": the shell's":  {"psql -c \"ALTER USER app PASSWORD $$\"", false, false},
		"psql -c \"... $tag$\": a parameter":    {"psql -c \"ALTER USER app PASSWORD $pw$\"", false, false},
		"an unquoted here-document: parameters": {"psql <<-EOSQL\n\tALTER USER app PASSWORD $PW$;\n\tEOSQL", false, false},
		"psql -c '... PASSWORD $1' is no quote": {"psql -c 'PREPARE p AS SELECT 1 WHERE $1 = $2'", false, false},
		"psql -v and a dollar-quoted DO body":   {"psql -v pw=\"$PW\" <<'EOF'\nDO $$ BEGIN RAISE NOTICE 'x'; END $$;\nALTER USER app PASSWORD :'pw';\nEOF", false, false},
	}
	for name, tc := range scripts {
		t.Run(name, func(t *testing.T) {
			// In a container's command the kubelet reduces $$ to $: the same script is written
			// with each $ doubled.
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want && !tc.keyOnly {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
	// The kubelet gives sh -c 'ALTER USER app PASSWORD $Orders-2024$', no dollar quote.
	if arg := "psql -c 'ALTER USER app PASSWORD $$Orders-2024$$'"; argumentCredential(arg, nil, nil) != "" {
		t.Errorf("argumentCredential(%q) found a credential, want none: the kubelet reduces $$ to $", arg)
	}
}

// TestKeysGivenAsFilesAndOnInput judges literal keys and passphrases a program reads from a
// process substitution given for a key or password file (cryptsetup --key-file=<(echo VALUE),
// wg set wg0 private-key <(echo KEY), --password-file <(printf VALUE)), and cryptsetup's
// passphrase on its input (echo -n VALUE | cryptsetup luksOpen DEVICE NAME, with or without
// -d -), as a container's script and a ConfigMap's.
func TestKeysGivenAsFilesAndOnInput(t *testing.T) {
	const wgKey = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
	tests := map[string]struct {
		script string
		want   bool
	}{
		"cryptsetup --key-file=<(echo VALUE)":     {"cryptsetup luksOpen /dev/sdb1 data --key-file=<(echo -n Orders-2024)", true},
		"cryptsetup --key-file <(printf VALUE)":   {"cryptsetup open /dev/sdb1 data --key-file <(printf '%s' 'Orders-2024')", true},
		"cryptsetup -d <(echo VALUE)":             {"cryptsetup open --type luks /dev/sdb1 data -d <(echo -n Orders-2024)", true},
		"wg set private-key <(echo KEY)":          {"wg set wg0 listen-port 51820 private-key <(echo " + wgKey + ")", true},
		"wg set preshared-key <(echo KEY)":        {"wg set wg0 peer abc= preshared-key <(echo " + wgKey + ") endpoint h:51820", true},
		"--password-file <(echo VALUE)":           {"myapp --password-file <(echo Orders-2024) --host db", true},
		"--passphrase-file=<(echo VALUE)":         {"gpg --batch --passphrase-file=<(echo Orders-2024) -d f.gpg", true},
		"echo VALUE | cryptsetup luksOpen":        {"echo -n Orders-2024 | cryptsetup luksOpen /dev/sdb1 data", true},
		"echo VALUE | cryptsetup open -d -":       {"echo -n 'Orders-2024' | cryptsetup open /dev/sdb1 data -d -", true},
		"printf VALUE | cryptsetup luksFormat":    {"printf '%s' Orders-2024 | cryptsetup luksFormat --batch-mode /dev/sdb1", true},
		"cryptsetup luksOpen <<< VALUE":           {"cryptsetup luksOpen /dev/sdb1 data <<< Orders-2024", true},
		"cryptsetup --key-file=<(echo $KEY)":      {"cryptsetup luksOpen /dev/sdb1 data --key-file=<(echo -n \"$LUKS_KEY\")", false},
		"cryptsetup --key-file=<(cat FILE)":       {"cryptsetup luksOpen /dev/sdb1 data --key-file=<(cat /run/secrets/luks)", false},
		"cryptsetup --key-file FILE":              {"cryptsetup luksOpen /dev/sdb1 data --key-file /run/secrets/luks", false},
		"echo $KEY | cryptsetup luksOpen":         {"echo -n \"$LUKS_PASSPHRASE\" | cryptsetup luksOpen /dev/sdb1 data -", false},
		"echo VALUE | cryptsetup with a key file": {"echo yes | cryptsetup luksOpen /dev/sdb1 data --key-file /run/secrets/luks", false},
		"echo YES | cryptsetup close":             {"echo YES | cryptsetup close data", false},
		"wg set private-key FILE":                 {"wg set wg0 private-key /etc/wireguard/private.key", false},
		"wg set private-key <(cat FILE)":          {"wg set wg0 private-key <(cat /run/secrets/wg)", false},
		"wg set private-key <(echo $KEY)":         {"wg set wg0 private-key <(echo \"$WG_PRIVATE_KEY\")", false},
		"diff <(echo a) <(echo b)":                {"diff <(echo Orders-2024) <(echo Orders-2025)", false},
		"a configuration file <(echo ...)":        {"myapp --config <(echo Orders-2024)", false},
		"--password-file <(echo a placeholder)":   {"myapp --password-file <(echo '<password>')", false},
		"wg genkey | tee FILE | wg pubkey":        {"wg genkey | tee /etc/wireguard/private.key | wg pubkey", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestQuotesLeftOpenInShellBodies judges scripts that feed a shell a here-document whose body
// leaves a quote open: the body ends at its delimiter all the same (the shell fed it reads no
// further, and fails), and the commands after the delimiter are the script's own.
func TestQuotesLeftOpenInShellBodies(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"a single quote left open":          {"sh <<EOF\necho 'it\nEOF\nmysql -uroot -pOrders-2024 -e 'select 1'", true},
		"a double quote left open":          {"sh <<EOF\necho \"it\nEOF\nmysql -uroot -pOrders-2024", true},
		"in a quoted here-document":         {"bash <<'EOF'\necho \"unterminated\nEOF\nredis-cli -a Orders-2024 ping", true},
		"fed to kubectl exec's shell":       {"kubectl exec -i db-0 -- sh <<'EOF'\necho 'x\nEOF\nsshpass -p Orders-2024 ssh h uptime", true},
		"a quote across lines, closed":      {"sh <<'EOF'\nmysql -uroot -e \"\nCREATE USER a IDENTIFIED BY 'Orders-2024'\"\nEOF", true},
		"a parameter after the delimiter":   {"sh <<EOF\necho 'it\nEOF\nmysql -uroot -p\"$PW\"", false},
		"a quote across lines, then a par.": {"sh <<'EOF'\necho 'a\nb'\nEOF\nmysql -uroot -p\"$PW\"", false},
		"a password inside the open quote":  {"sh <<'EOF'\necho 'mysql -uroot -pOrders-2024\nEOF\necho done", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestSSHCommandsOfSeveralWords judges ssh HOST COMMAND ARG...: ssh joins the words after the
// host with blanks, and the remote shell runs them as a command line, whose program and its
// input are read as the program's own (ssh passes its input on).
func TestSSHCommandsOfSeveralWords(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"ssh HOST mysql -pVALUE":           {"ssh admin@db mysql -uroot -pOrders-2024 -e 'select 1'", true},
		"ssh -i KEY HOST mysql":            {"ssh -i /keys/id admin@db mysql -uroot -pOrders-2024", true},
		"ssh -p PORT HOST redis-cli -a":    {"ssh -p 2222 -o StrictHostKeyChecking=no admin@db redis-cli -a Orders-2024 ping", true},
		"sshpass, then ssh HOST COMMAND":   {"sshpass -f /run/secrets/ssh ssh db mysqldump -uroot -pOrders-2024 orders > /b/o.sql", true},
		"ssh HOST sudo chpasswd <<< VALUE": {"ssh db sudo chpasswd <<< 'root:Orders-2024'", true},
		"ssh HOST mysql <<EOF with SQL":    {"ssh db mysql -uroot <<'EOF'\nCREATE USER 'app'@'%' IDENTIFIED BY 'Orders-2024';\nEOF", true},
		"ssh within ssh":                   {"ssh -J bastion jump ssh db redis-cli -a Orders-2024 ping", true},
		"ssh HOST mysql -p\"$PW\"":         {"ssh db mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'select 1'", false},
		"ssh HOST one quoted word":         {"ssh db 'mysql -uroot -p\"$PW\"'", false},
		"ssh -p PORT HOST COMMAND":         {"ssh -p 2222 db uptime -p", false},
		"ssh HOST echo's text":             {"ssh db echo mysql -pOrders-2024", false},
		"ssh -L forwards, -N":              {"ssh -N -L 5432:localhost:5432 bastion", false},
		"ssh HOST docker run -p PORT":      {"ssh db docker run -d -p 8080:80 nginx", false},
		"ssh HOST <<EOF with a reference":  {"ssh db bash -s <<EOF\nmysql -uroot -p\"$PW\"\nEOF", false},
		"scp is no ssh":                    {"scp -P 2222 f db:/tmp/f", false},
		// ssh joins the words of the command, as the local shell left them, by blanks, and the
		// remote shell splits them again: a quote local to a word does not bound the command's.
		"ssh HOST 'mysql' -uroot '-pVALUE'":  {"ssh db 'mysql' -uroot '-pOrders-2024' -e 'select 1'", true},
		"ssh HOST \"mysql -uroot\" -pVALUE":  {"ssh db \"mysql -uroot\" -pOrders-2024", true},
		"ssh HOST 'mysql -u' '-pVALUE'":      {"ssh -i /keys/id db 'mysql -uroot' '-pOrders-2024'", true},
		"ssh HOST mysql '-u -pVALUE'":        {"ssh db mysql '-uroot -pOrders-2024'", true},
		"ssh HOST mysql\\ -u -pVALUE":        {"ssh db mysql\\ -uroot -pOrders-2024", true},
		"ssh HOST 'redis-cli -a' VALUE":      {"ssh db 'redis-cli -a' Orders-2024 ping", true},
		"ssh HOST -p PORT after the host":    {"ssh db -p 2222 'mysql -uroot' -pOrders-2024", true},
		"ssh HOST 'mysql -u' -p\"$PW\"":      {"ssh db 'mysql -uroot' -p\"$MYSQL_ROOT_PASSWORD\"", false},
		"ssh HOST 'echo' mysql -pVALUE":      {"ssh db 'echo' mysql -pOrders-2024", false},
		"ssh HOST 'docker run' -p PORT":      {"ssh db 'docker run' -d -p 8080:80 nginx", false},
		"ssh HOST 'sudo chpasswd' <<< VALUE": {"ssh db 'sudo chpasswd' <<< 'root:Orders-2024'", true},
		"ssh HOST 'mysql' <<< SQL":           {"ssh db 'mysql -uroot' <<< \"ALTER USER root IDENTIFIED BY 'Orders-2024';\"", true},
		"ssh HOST 'mysql -u' '-pVALUE';":     {"ssh db 'mysql -uroot' '-pOrders-2024'; echo done", true},
		"ssh HOST 'ls' > FILE":               {"ssh db 'ls -l' /var > '/tmp/-pOrders-2024'", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestSSHCommandsInArgv judges ssh's remote command in a container's argv: ssh joins the
// arguments after the host by blanks and the remote shell splits them, so an argument
// holding blanks is several of the remote command's words.
func TestSSHCommandsInArgv(t *testing.T) {
	tests := map[string]struct {
		argv []string
		want bool
	}{
		"ssh HOST mysql -pVALUE":             {[]string{"ssh", "db", "mysql", "-uroot", "-pOrders-2024"}, true},
		"ssh HOST 'mysql -uroot' -pVALUE":    {[]string{"ssh", "db", "mysql -uroot", "-pOrders-2024"}, true},
		"ssh HOST 'redis-cli -a' VALUE ping": {[]string{"/usr/bin/ssh", "-i", "/k/id", "db", "redis-cli -a", "Orders-2024", "ping"}, true},
		"ssh HOST 'mysql -uroot' -p$PW":      {[]string{"ssh", "db", "mysql -uroot", "-p$MYSQL_ROOT_PASSWORD"}, false},
		"ssh HOST 'echo mysql' -pVALUE":      {[]string{"ssh", "db", "echo mysql", "-pOrders-2024"}, false},
		"ssh HOST mysql -pVALUE;":            {[]string{"ssh", "db", "mysql -uroot", "-pOrders-2024;"}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			found := commandLineCredentials(tc.argv, nil, nil, nil)
			if got := len(found) > 0; got != tc.want {
				t.Errorf("commandLineCredentials(%q) = %q, want a credential %v", tc.argv, found, tc.want)
			}
		})
	}
}

// TestMoreCommandLinePasswordsOfRound10 judges more programs that take a password or token on
// their command line or input, as a container's script, as a ConfigMap's script and as a
// ConfigMap value that is no script: ipmitool -P, cosign login -p, etcdctl user add
// NAME:PASSWORD, kafka-storage format --add-scram, gh auth login --with-token and vault login
// - from their input.
func TestMoreCommandLinePasswordsOfRound10(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"ipmitool -P":                      {"ipmitool -I lanplus -H bmc -U admin -P Orders-2024 power status", true},
		"ipmitool -P attached":             {"ipmitool -I lanplus -H bmc -U admin -POrders-2024 chassis status", true},
		"cosign login -p":                  {"cosign login ghcr.io -u bob -p Orders-2024", true},
		"etcdctl user add NAME:PASSWORD":   {"etcdctl --endpoints=http://etcd:2379 user add root:Orders-2024", true},
		"kafka-storage format --add-scram": {"kafka-storage format -t abc -c /etc/kafka/server.properties --add-scram 'SCRAM-SHA-256=[name=admin,password=Orders-2024]'", true},
		"kafka-storage.sh --add-scram=":    {"/opt/kafka/bin/kafka-storage.sh format -t abc -c s.properties --add-scram=SCRAM-SHA-512=[name=admin,password=Orders-2024]", true},
		"echo TOKEN | gh auth login":       {"echo ghx_Orders2024Token | gh auth login --with-token", true},
		"gh auth login <<< TOKEN":          {"gh auth login --hostname github.example.com --with-token <<< 'Orders-2024-token'", true},
		"echo TOKEN | vault login -":       {"echo s.Orders2024Token | vault login -", true},
		"ipmitool -E, the environment's":   {"ipmitool -I lanplus -H bmc -U admin -E power status", false},
		"ipmitool -P from a parameter":     {"ipmitool -I lanplus -H bmc -U admin -P \"$IPMI_PASSWORD\" power status", false},
		"ipmitool -p is the port":          {"ipmitool -I lanplus -H bmc -p 623 -U admin -f /run/secrets/ipmi power status", false},
		"cosign sign":                      {"cosign sign --key cosign.key -y ghcr.io/x/y@sha256:abc", false},
		"cosign login from a parameter":    {"cosign login ghcr.io -u bob -p \"$GHCR_TOKEN\"", false},
		"etcdctl user add NAME, a prompt":  {"etcdctl user add root", false},
		"etcdctl user add NAME:$PW":        {"etcdctl user add \"root:$ETCD_ROOT_PASSWORD\"", false},
		"etcdctl user grant-role":          {"etcdctl user grant-role root:x root", false},
		"kafka-storage from a parameter":   {"kafka-storage format -t abc -c s.properties --add-scram \"SCRAM-SHA-256=[name=admin,password=$KAFKA_PW]\"", false},
		"echo $TOKEN | gh auth login":      {"echo \"$GH_TOKEN\" | gh auth login --with-token", false},
		"gh auth login on the web":         {"echo y | gh auth login --web", false},
		"echo $TOKEN | vault login -":      {"echo \"$VAULT_TOKEN\" | vault login -", false},
		"echo x | vault login, a method's": {"echo Orders-2024 | vault login -method=oidc", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestAssignmentsAfterControlOperators judges a credential-named variable set to a literal at
// the start of a command that is not the line's first: after &&, ||, ;, |, a group's ( or {,
// then or do, or export (cd / && PGPASSWORD=VALUE pg_dump ..., x; export TOKEN=VALUE). At the
// line's start it failed already.
func TestAssignmentsAfterControlOperators(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"after &&":                      {"pg_isready -h db && PGPASSWORD=Orders-2024 pg_dump -h db orders", true},
		"after ;":                       {"pg_isready -h db; PGPASSWORD=Orders-2024 pg_dump -h db orders", true},
		"after ||":                      {"test -f /done || MYSQL_PWD=Orders-2024 mysql -uroot -e 'select 1'", true},
		"after |":                       {"echo hi | PGPASSWORD=Orders-2024 psql -h db", true},
		"export after &&":               {"cd / && export PGPASSWORD=Orders-2024", true},
		"after then":                    {"if true; then DB_PASSWORD=Orders-2024 ./run; fi", true},
		"in a group":                    {"( API_TOKEN=Orders-2024 ./sync )", true},
		"quoted, after &&":              {"cd / && PGPASSWORD='Orders-2024' pg_dump -h db", true},
		"a parameter after &&":          {"cd / && PGPASSWORD=\"$PW\" pg_dump -h db", false},
		"a substitution after &&":       {"cd / && PGPASSWORD=$(cat /run/secrets/pw) pg_dump -h db", false},
		"empty after &&":                {"cd / && PGPASSWORD= pg_dump -h db", false},
		"a file's path after &&":        {"cd / && DB_PASSWORD_FILE=/run/secrets/pw ./run", false},
		"a lifetime after &&":           {"cd / && TOKEN_TTL=3600 ./run", false},
		"a required parameter after ;":  {"set -e; PASSWORD=${PASSWORD:?required} ./run", false},
		"a placeholder named for it":    {"cd / && API_KEY=YOUR_API_KEY ./run", false},
		"a comparison after &&":         {"[ -n \"$x\" ] && [ \"$PASSWORD\" = \"\" ] && exit 1", false},
		"echo's text about one after ;": {"echo hi; echo PASSWORD=Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestMoreShortPasswordOptionsOfRound10 judges more programs whose short option, or operand,
// takes a password no name marks: mosquitto_passwd -b FILE USER PASSWORD, Neo4j's cypher-shell
// -p, the Redis benchmarks' and KeyDB's -a, MySQL Shell's and the backup tools' -pVALUE,
// Net-SNMP's -A and -X (SNMPv3's authentication and privacy passphrases), couchbase-cli -p.
func TestMoreShortPasswordOptionsOfRound10(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"mosquitto_passwd -b":                  {"mosquitto_passwd -b /mosquitto/config/passwd admin Orders-2024", true},
		"mosquitto_passwd -c -b":               {"mosquitto_passwd -c -b /mosquitto/config/passwd admin Orders-2024", true},
		"mosquitto_passwd -cb after -I":        {"mosquitto_passwd -I 1000 -cb /m/passwd admin Orders-2024", true},
		"cypher-shell -p":                      {"cypher-shell -u neo4j -p Orders-2024 'RETURN 1'", true},
		"cypher-shell -pVALUE":                 {"cypher-shell -a bolt://neo4j:7687 -u neo4j -pOrders-2024 'RETURN 1'", true},
		"redis-benchmark -a":                   {"redis-benchmark -h r -a Orders-2024 -q", true},
		"keydb-cli -a":                         {"keydb-cli -h k -a Orders-2024 ping", true},
		"mysqlsh -pVALUE":                      {"mysqlsh -uroot -pOrders-2024 --sql -e 'select 1'", true},
		"xtrabackup -pVALUE":                   {"xtrabackup --backup -uroot -pOrders-2024 --target-dir=/b", true},
		"mariabackup -pVALUE":                  {"mariabackup --backup -uroot -pOrders-2024 --target-dir=/b", true},
		"snmpwalk -A":                          {"snmpwalk -v3 -l authNoPriv -u mon -a SHA -A Orders-2024 h", true},
		"snmpget -X":                           {"snmpget -v3 -l authPriv -u mon -a SHA -A \"$AUTH\" -x AES -X Orders-2024 h sysName.0", true},
		"snmpbulkwalk -AVALUE":                 {"snmpbulkwalk -v3 -u mon -AOrders-2024 -l authNoPriv h", true},
		"couchbase-cli -p":                     {"couchbase-cli bucket-list -c cb:8091 -u Administrator -p Orders-2024", true},
		"mosquitto_passwd without -b":          {"mosquitto_passwd -c /mosquitto/config/passwd admin", false},
		"mosquitto_passwd -b from a parameter": {"mosquitto_passwd -b /m/passwd admin \"$MQTT_PASSWORD\"", false},
		"mosquitto_passwd -D":                  {"mosquitto_passwd -D /m/passwd admin", false},
		"cypher-shell -p from a parameter":     {"cypher-shell -u neo4j -p \"$NEO4J_PASSWORD\" 'RETURN 1'", false},
		"cypher-shell without -p":              {"cypher-shell -a bolt://neo4j:7687 'RETURN 1'", false},
		"redis-benchmark -a from a parameter":  {"redis-benchmark -h r -a \"$REDIS_PASSWORD\" -q", false},
		"redis-benchmark -p is the port":       {"redis-benchmark -h r -p 6379 -q", false},
		"mysqlsh -p prompts":                   {"mysqlsh -uroot -p --sql", false},
		"xtrabackup -p from a parameter":       {"xtrabackup --backup -uroot -p\"$MYSQL_ROOT_PASSWORD\" --target-dir=/b", false},
		"snmpwalk -a is the protocol":          {"snmpwalk -v3 -l authNoPriv -u mon -a SHA -A \"$SNMP_AUTH\" h", false},
		"snmpwalk v2c -c":                      {"snmpwalk -v2c -c public h", false},
		"couchbase-cli -p from a parameter":    {"couchbase-cli bucket-list -c cb:8091 -u Administrator -p \"$CB_PASSWORD\"", false},
		"a -A to another program":              {"grep -A 3 Orders-2024 f", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestFunctionsDefinedOnOneLine judges shell functions whose body is on the line of their
// name (run() { mysql -pVALUE; }, function run { ...; }, run() ( ... )): the body's commands
// are commands, not the arguments of a program named run().
func TestFunctionsDefinedOnOneLine(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"NAME() { ...; }":                {"run() { mysql -uroot -pOrders-2024 -e 'select 1'; }", true},
		"NAME(){ ...; }":                 {"run(){ redis-cli -a Orders-2024 ping; }", true},
		"NAME () { ...; }":               {"run () { redis-cli -a Orders-2024 ping; }", true},
		"function NAME { ...; }":         {"function run { mysql -uroot -pOrders-2024; }", true},
		"function NAME() { ...; }":       {"function run() { redis-cli -a Orders-2024 ping; }", true},
		"NAME() ( ... )":                 {"run() ( mysql -uroot -pOrders-2024 )", true},
		"a subshell":                     {"( cd /x && mysql -uroot -pOrders-2024 )", true},
		"a variable the body uses":       {"X=Orders-2024; run() { mysql -uroot -p$X; }; run", true},
		"a body's here-document to sh":   {"run() { sh <<'EOF'\nmysql -uroot -pOrders-2024\nEOF\n}", true},
		"a body with a parameter":        {"run() { mysql -uroot -p\"$MYSQL_ROOT_PASSWORD\" -e 'select 1'; }", false},
		"a function's positional":        {"ping_db() { mysqladmin ping -uroot -p\"$1\"; }; ping_db \"$PW\"", false},
		"a body that echoes":             {"usage() { echo 'usage: run --password PASSWORD'; }", false},
		"a function named for a program": {"mysql() { command mysql --defaults-file=/etc/my.cnf \"$@\"; }", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestCredentialFilesNamedByDotOrExtension judges a literal a script writes into a file whose
// name says it holds a credential only by its leading dot (Vault's ~/.vault-token) or by its
// extension (rsyncd.secrets, db.password, api.token).
func TestCredentialFilesNamedByDotOrExtension(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"~/.vault-token":              {"echo 'Orders-2024' > /root/.vault-token", true},
		"rsyncd.secrets":              {"echo -n Orders-2024 > /etc/rsyncd.secrets", true},
		"db.password":                 {"printf '%s' Orders-2024 > /etc/app/db.password", true},
		"api.token, by tee":           {"echo Orders-2024 | tee /run/app/api.token", true},
		"~/.vault-token, a parameter": {"echo \"$VAULT_TOKEN\" > /root/.vault-token", false},
		"a token's lifetime":          {"echo 3600 > /etc/app/lifetime.ttl", false},
		"a text file":                 {"echo hello > /tmp/greeting.txt", false},
		"a key's extension alone":     {"echo cache-v2 > /tmp/cache.key", false},
		"a dot file of no credential": {"echo 'set -o vi' > /root/.bashrc", false},
		"read, not written":           {"cat /root/.vault-token | wc -c", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestSQLFromProcessSubstitutions judges SQL that a process substitution prints for a program to
// read as a file (mysqld --init-file=<(echo "ALTER USER ..."), psql -f <(printf ...), mysql <
// <(echo ...)): a statement that sets a literal password is one.
func TestSQLFromProcessSubstitutions(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"mysqld --init-file=<(echo SQL)": {"exec gosu mysql mysqld --init-file=<(echo \"ALTER USER root IDENTIFIED BY 'Orders-2024';\")", true},
		"psql -f <(printf SQL)":          {"psql -U postgres -f <(printf \"ALTER ROLE app PASSWORD 'Orders-2024';\")", true},
		"mysql < <(echo SQL)":            {"mysql -uroot < <(echo \"CREATE USER a IDENTIFIED BY 'Orders-2024'\")", true},
		"a parameter in the SQL":         {"mysqld --init-file=<(echo \"ALTER USER root IDENTIFIED BY '$MYSQL_ROOT_PASSWORD';\")", false},
		"a file's SQL":                   {"mysqld --init-file=<(cat /run/secrets/init.sql)", false},
		"SQL without a password":         {"psql -f <(echo 'SELECT 1;')", false},
		"psql's variable in printed SQL": {"psql -v pw=\"$PW\" -f <(echo \"ALTER USER app PASSWORD :'pw';\")", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestHTTPieAuth judges HTTPie's (http, https) and xh's -a, --auth USER:PASSWORD, which the
// gitleaks rules for curl do not cover.
func TestHTTPieAuth(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"http -a USER:PASSWORD":        {"http -a admin:Orders-2024 POST http://api/x", true},
		"https --auth USER:PASSWORD":   {"https --auth admin:Orders-2024 api.example.com/x", true},
		"http --auth=USER:PASSWORD":    {"http --auth=admin:Orders-2024 GET http://api/x", true},
		"xh -a USER:PASSWORD":          {"xh -a admin:Orders-2024 http://api/x", true},
		"http -a USER, a prompt":       {"http -a admin GET http://api/x", false},
		"http -a from parameters":      {"http -a \"$API_USER:$API_PASSWORD\" GET http://api/x", false},
		"http --auth-type bearer -a $": {"http -A bearer -a \"$TOKEN\" GET http://api/x", false},
		"http without -a":              {"http GET http://api/x a==b", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestMoreCommandLinePasswordsOfRound11 judges more programs that take a password, passphrase
// or token on their command line or input, as a container's script, as a ConfigMap's script
// and as a ConfigMap value that is no script: NetworkManager's nmcli (wifi connect's password,
// a connection's secret properties), wpa_passphrase, FreeRDP's /p: and rdesktop's -p, consul
// acl set-agent-token, the ftp client's user and pass commands on its input, and SQL on a
// here-string whatever reads it (mysqld --init-file=/dev/stdin).
func TestMoreCommandLinePasswordsOfRound11(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"nmcli dev wifi connect SSID password":  {"nmcli dev wifi connect HomeNet password Orders-2024", true},
		"nmcli device wifi connect ... ifname":  {"nmcli device wifi connect HomeNet password 'Orders-2024' ifname wlan0", true},
		"nmcli d wifi hotspot ... password":     {"nmcli d wifi hotspot ifname wlan0 ssid Edge password Orders-2024", true},
		"nmcli con add ... wifi-sec.psk":        {"nmcli con add type wifi ifname wlan0 con-name edge ssid Edge wifi-sec.key-mgmt wpa-psk wifi-sec.psk Orders-2024", true},
		"nmcli connection modify 802-1x.pass":   {"nmcli connection modify corp 802-1x.identity bob 802-1x.password Orders-2024", true},
		"nmcli c modify +wireguard.private-key": {"nmcli c modify wg0 wireguard.private-key yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=", true},
		"wpa_passphrase SSID PASSPHRASE":        {"wpa_passphrase HomeNet Orders-2024 > /etc/wpa_supplicant.conf", true},
		"echo PASSPHRASE | wpa_passphrase SSID": {"echo Orders-2024 | wpa_passphrase HomeNet >> /etc/wpa.conf", true},
		"xfreerdp /p:":                          {"xfreerdp /v:rdp.example.com /u:admin /p:Orders-2024 /cert:ignore", true},
		"xfreerdp3 '/p:...' quoted":             {"xfreerdp3 /v:rdp.example.com /u:admin '/p:Orders 2024' +clipboard", true},
		"sdl-freerdp /gp: the gateway's":        {"sdl-freerdp /v:h /g:gw.example.com /gu:bob /gp:Orders-2024", true},
		"rdesktop -p":                           {"rdesktop -u admin -p Orders-2024 rdp.example.com", true},
		"consul acl set-agent-token":            {"consul acl set-agent-token agent 6a1f2c3d-1111-2222-3333-444455556666", true},
		"consul acl set-agent-token, options":   {"consul acl set-agent-token -http-addr=https://c:8501 -ca-file /c/ca.pem default 6a1f2c3d-1111-2222-3333-444455556666", true},
		"ftp -n <<EOF user U P":                 {"ftp -n ftp.example.com <<EOF\nuser backup Orders-2024\nbinary\nput /b/o.sql o.sql\nbye\nEOF", true},
		"ftp <<EOF quote PASS":                  {"ftp -inv ftp.example.com <<'EOF'\nquote USER backup\nquote PASS Orders-2024\nput o.sql\nEOF", true},
		"printf 'user U P' | ftp -n":            {"printf 'user backup Orders-2024\\nbinary\\nput o.sql\\nbye\\n' | ftp -n ftp.example.com", true},
		"mysqld --init-file=/dev/stdin <<<":     {"mysqld --init-file=/dev/stdin <<< \"ALTER USER 'root'@'localhost' IDENTIFIED BY 'Orders-2024';\"", true},
		"a function given SQL on a here-string": {"run_sql <<< \"CREATE USER app WITH PASSWORD 'Orders-2024';\"", true},

		"nmcli wifi connect --ask":             {"nmcli dev wifi connect HomeNet --ask", false},
		"nmcli wifi connect password $PSK":     {"nmcli dev wifi connect HomeNet password \"$WIFI_PSK\"", false},
		"nmcli secret flags are no secrets":    {"nmcli con modify corp wifi-sec.psk-flags 2 802-1x.password-flags 2", false},
		"nmcli connection up passwd-file":      {"nmcli connection up corp passwd-file /run/secrets/nm", false},
		"wpa_passphrase SSID reading a file":   {"wpa_passphrase HomeNet < /run/secrets/psk > /etc/wpa.conf", false},
		"wpa_passphrase SSID $PSK":             {"wpa_passphrase HomeNet \"$WIFI_PSK\" > /etc/wpa.conf", false},
		"xfreerdp /p:$PW":                      {"xfreerdp /v:h /u:admin /p:$RDP_PASSWORD", false},
		"xfreerdp /from-stdin":                 {"xfreerdp /v:h /u:admin /from-stdin", false},
		"rdesktop -p - reads its input":        {"rdesktop -u admin -p - rdp.example.com < /run/secrets/rdp", false},
		"consul acl set-agent-token $TOKEN":    {"consul acl set-agent-token agent \"$CONSUL_AGENT_TOKEN\"", false},
		"consul acl token create":              {"consul acl token create -description ci -policy-name ci", false},
		"ftp user U $PW in a here-document":    {"ftp -n ftp.example.com <<EOF\nuser backup $FTP_PASSWORD\nput o.sql\nEOF", false},
		"ftp anonymous, no password":           {"ftp -n ftp.example.com <<EOF\nuser anonymous\nget README\nEOF", false},
		"ftp anonymous, an e-mail address":     {"ftp -n ftp.example.com <<EOF\nuser anonymous ops@example.com\nget README\nEOF", false},
		"here-string SQL without a password":   {"mysqld --init-file=/dev/stdin <<< \"CREATE DATABASE orders;\"", false},
		"here-string SQL with a psql variable": {"psql <<< \"ALTER USER app PASSWORD :'pw';\"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestPostgreSQLConnectionStrings judges a PostgreSQL client's connection string in libpq's
// keyword/value form, given as the database operand or -d, --dbname's value, that gives a
// literal password: alone as its own argument, no setting's name is before it.
func TestPostgreSQLConnectionStrings(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"psql -h db 'password=VALUE'":         {"psql -h db -U app 'password=Orders-2024' -c 'select 1'", true},
		"pg_dump -d 'password=VALUE'":         {"pg_dump -h db -d 'password=Orders-2024' -Fc -f /b/o.dump", true},
		"pg_isready --dbname=password=VALUE":  {"pg_isready --dbname=password=Orders-2024 -h db", true},
		"psql 'password = VALUE' with blanks": {"psql 'password = Orders-2024'", true},
		"psql password='VALUE' quoted inside": {`psql "password='Orders 2024'"`, true},
		"psql 'password=$PW'":                 {`psql "password=$PGPASSWORD_X"`, false},
		"psql 'passfile=FILE'":                {"psql 'passfile=/run/secrets/pgpass host=db'", false},
		"psql 'password=' empty":              {"psql -h db 'password='", false},
		"psql a database named password":      {"psql -h db password", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestPositionalParametersSetByASetCommand judges a script that sets its positional parameters
// with set -- and gives them to a program with "$@": a credential flag among them takes its
// value from the next, as on the program's command line.
func TestPositionalParametersSetByASetCommand(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"set -- --password VALUE; exec app \"$@\"": {"set -- --password Orders-2024; exec /app/server \"$@\"", true},
		"set -- ... --db-password VALUE":           {"set -- --port 8080 --db-password Orders-2024\nexec /app/server \"$@\"", true},
		"set -- \"$@\" --api-token VALUE":          {"set -- \"$@\" --api-token Orders-2024-token\nexec app \"$@\"", true},
		"set -- --password \"$PW\"":                {"set -- --password \"$DB_PASSWORD\"; exec app \"$@\"", false},
		"set -e, no parameters":                    {"set -euo pipefail\nexec app --config /etc/app.yaml", false},
		"set -- with no credential flag":           {"set -- --port 8080 --log-level debug; exec app \"$@\"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("entrypoint.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(entrypoint.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestExpectScriptsAnsweringPasswordPrompts judges Expect scripts that answer a password or
// passphrase prompt with a literal: expect -c SCRIPT in a container's script and in argv, a
// here-document expect reads, and a ConfigMap's *.exp or #!/usr/bin/expect script.
func TestExpectScriptsAnsweringPasswordPrompts(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"expect -c, then send":         {`expect -c 'spawn mysql -uroot -p; expect "Enter password:"; send "Orders-2024\r"; interact'`, true},
		"expect <<EOF, a prompt block": {"expect <<'EOF'\nspawn ssh admin@db\nexpect {\n  \"yes/no\" { send \"yes\\r\"; exp_continue }\n  \"*assword*\" { send -- \"Orders-2024\\r\" }\n}\nexpect \"$ \"\nEOF", true},
		"expect <<EOF, the user first": {"expect <<'EOF'\nspawn telnet sw1\nexpect \"Username:\"\nsend \"admin\\r\"\nexpect \"Password:\"\nsend \"Orders-2024\\r\"\nexpect \"#\"\nEOF", true},
		"a passphrase":                 {`expect -c 'spawn ssh-add /k/id; expect "Enter passphrase for /k/id:"; send "Orders 2024\n"; expect eof'`, true},
		"send $pw":                     {`expect -c 'spawn mysql -uroot -p; expect "Enter password:"; send "$env(MYSQL_PW)\r"; interact'`, false},
		"send [gets]":                  {"expect <<'EOF'\nspawn passwd app\nexpect \"New password:\"\nsend \"[exec cat /run/secrets/pw]\\r\"\nEOF", false},
		"no password prompt":           {`expect -c 'spawn ftp h; expect "Name"; send "anonymous\r"; expect "ftp>"; send "bye\r"'`, false},
		"after the password prompt":    {`expect -c 'expect "Password:"; send "$pw\r"; expect "Password changed"; send "exit\r"'`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
	keys := map[string]struct {
		key, value string
		want       bool
	}{
		"login.exp":                 {"login.exp", "spawn ssh admin@db\nexpect \"password:\"\nsend \"Orders-2024\\r\"\ninteract\n", true},
		"#!/usr/bin/expect -f":      {"login", "#!/usr/bin/expect -f\nspawn ssh admin@db\nexpect \"password:\"\nsend \"Orders-2024\\r\"\n", true},
		"login.exp with a variable": {"login.exp", "set pw [lindex $argv 0]\nspawn ssh admin@db\nexpect \"password:\"\nsend \"$pw\\r\"\n", false},
		"a text file about expect":  {"README.txt", "expect \"password:\"\nsend \"Orders-2024\\r\"\n", false},
	}
	for name, tc := range keys {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.value, false) != ""; got != tc.want {
				t.Errorf("keyCredential(%q, %q) found a credential: %v, want %v", tc.key, tc.value, got, tc.want)
			}
		})
	}
	t.Run("argv expect -c", func(t *testing.T) {
		argv := []string{"expect", "-c", `spawn mysql -uroot -p; expect "Enter password:"; send "Orders-2024\r"; interact`}
		if found := commandLineCredentials(argv, nil, nil, nil); len(found) == 0 {
			t.Errorf("commandLineCredentials(%q) found no credential", argv)
		}
	})
}

// TestHereStringsToShellsAndSSHInput judges a here-string a shell reads as its script (bash
// <<< "...", ssh HOST <<< "...", ssh HOST bash -s <<< "...") and a here-document given to the
// command ssh runs, which is that command's input (ssh db 'mysql -uroot' <<EOF with SQL).
func TestHereStringsToShellsAndSSHInput(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"bash <<< SCRIPT":                {"bash <<< \"mysql -uroot -pOrders-2024 -e 'select 1'\"", true},
		"sh -s <<< SCRIPT":               {"sh -s <<< 'redis-cli -a Orders-2024 ping'", true},
		"ssh HOST <<< SCRIPT":            {"ssh db <<< \"mysql -uroot -pOrders-2024\"", true},
		"ssh HOST bash -s <<< SCRIPT":    {"ssh db bash -s <<< \"mysql -uroot -pOrders-2024\"", true},
		"ssh HOST 'mysql' <<EOF SQL":     {"ssh db 'mysql -uroot' <<'EOF'\nALTER USER root IDENTIFIED BY 'Orders-2024';\nEOF", true},
		"ssh HOST 'sudo chpasswd' <<EOF": {"ssh db \"sudo chpasswd\" <<'EOF'\nroot:Orders-2024\nEOF", true},
		"ssh HOST uptime <<EOF commands": {"ssh db uptime <<'EOF'\nmysql -uroot -pOrders-2024\nEOF", true},
		"bash <<< SCRIPT with $PW":       {"bash <<< \"mysql -uroot -p\\$MYSQL_PW\"", false},
		"bash -c SCRIPT <<< input":       {"bash -c 'cat > /dev/null' <<< \"redis-cli -a Orders-2024\"", false},
		"ssh HOST 'mysql' <<EOF, $PW":    {"ssh db 'mysql -uroot' <<EOF\nALTER USER root IDENTIFIED BY '$PW';\nEOF", false},
		"grep <<< TEXT":                  {"grep -q x <<< \"mysql -uroot -pOrders-2024\"", false},
		"bash FILE <<< its input":        {"bash /scripts/run.sh <<< \"mysql -uroot -pOrders-2024\"", false},
		"bash -s ARG <<< SCRIPT":         {"bash -s prod <<< \"mysql -uroot -pOrders-2024\"", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestScriptsPipedIntoShells judges a script echo or printf pipes into a shell that reads its
// input as commands (or into ssh, the remote shell's): its commands are read as a here-string's
// are (TestHereStringsToShellsAndSSHInput). Before, only a here-string's were.
func TestScriptsPipedIntoShells(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo SCRIPT | bash":               {"echo \"mysql -uroot -pOrders-2024 -e 'select 1'\" | bash", true},
		"printf SCRIPT | sh":               {"printf 'redis-cli -a Orders-2024 ping\\n' | sh", true},
		"printf '%s\\n' SCRIPT | sh -s":    {"printf '%s\\n' 'mysql -uroot -pOrders-2024' | sh -s", true},
		"echo SCRIPT | ssh HOST":           {"echo 'mysql -uroot -pOrders-2024' | ssh db", true},
		"echo SCRIPT with $PW | bash":      {"echo \"mysql -uroot -p\\$MYSQL_PW\" | bash", false},
		"echo TEXT | bash FILE, its input": {"echo 'mysql -uroot -pOrders-2024' | bash /scripts/run.sh", false},
		"echo TEXT | bash -c, its input":   {"echo 'mysql -uroot -pOrders-2024' | bash -c 'cat > /dev/null'", false},
		"echo SCRIPT without one | sh":     {"echo 'mysql -uroot -p' | sh", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestMoreCommandLinePasswordsOfRound12 judges the literal credentials round 11 left passing:
// smbclient's password operand, and lftp's -u USER,PASSWORD and user USER PASSWORD in -c's and
// -e's commands, wpa_cli's set_network ID psk (or another secret) VALUE and password ID
// VALUE, and openvpn's --auth-user-pass and --askpass files given as a process substitution
// that prints a literal. smbclient -U USER%PASSWORD and lftp -u USER,PASSWORD HOST failed already; their rows
// guard them.
func TestMoreCommandLinePasswordsOfRound12(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"smbclient -U USER PASSWORD":            {"smbclient //srv/share -U admin Orders-2024 -c 'ls'", true},
		"smbclient -U USER%PASSWORD":            {"smbclient //srv/share -U admin%Orders-2024 -c 'ls'", true},
		"smbclient -U 'USER%PASSWORD'":          {"smbclient '//srv/share' -U 'admin%Orders-2024'", true},
		"smbclient --use-kerberos V SVC PW":     {"smbclient --use-kerberos off //srv/share Orders-2024 -U admin", true},
		"smbclient -S on SERVICE PASSWORD":      {"smbclient -S on //srv/share -U admin Orders-2024", true},
		"smbclient -N":                          {"smbclient //srv/share -N -c 'ls'", false},
		"smbclient -U USER, a prompt":           {"smbclient //srv/share -U admin -c 'ls'", false},
		"smbclient -A FILE":                     {"smbclient //srv/share -A /run/secrets/smb.auth", false},
		"smbclient -U USER%$PW":                 {"smbclient //srv/share -U \"admin%$SMB_PW\"", false},
		"smbclient SERVICE $PW":                 {"smbclient //srv/share \"$SMB_PW\" -U admin", false},
		"lftp -u USER,PASSWORD HOST":            {"lftp -u deploy,Orders-2024 sftp://files.example.com", true},
		"lftp -c 'open -u USER,PASSWORD'":       {"lftp -c \"open -u deploy,Orders-2024 files.example.com; mirror -R /site /www\"", true},
		"lftp -e 'open -u USER,PASSWORD'":       {"lftp -e 'open -u deploy,Orders-2024 files.example.com; put a; bye'", true},
		"lftp -u USER, a prompt":                {"lftp -u deploy sftp://files.example.com", false},
		"lftp -u USER,$PW":                      {"lftp -u \"deploy,$FTP_PW\" files.example.com", false},
		"lftp -c 'user USER PASSWORD'":          {"lftp -c 'user deploy Orders-2024; open files.example.com; ls'", true},
		"lftp -c with $PW":                      {"lftp -c \"open -u deploy,$FTP_PW files.example.com\"", false},
		"wpa_cli set_network psk":               {"wpa_cli -i wlan0 set_network 0 psk '\"Orders-2024\"'", true},
		"wpa_cli set_network password":          {"wpa_cli set_network 1 password '\"Orders-2024\"'", true},
		"wpa_cli set_network ssid":              {"wpa_cli set_network 0 ssid '\"HomeNet\"'", false},
		"wpa_cli set_network psk $PW":           {"wpa_cli set_network 0 psk \"\\\"$WIFI_PSK\\\"\"", false},
		"wpa_cli -i IF password ID VALUE":       {"wpa_cli -i wlan0 password 0 Orders-2024", true},
		"wpa_cli set_network psk HEX":           {"wpa_cli set_network 0 psk 8a5e1c94d3b2f7a0c6e9d1b4f8a2c5e7b3d9f1a6c4e8b2d7f0a3c5e9b1d4f6a8", true},
		"wpa_cli set_network key_mgmt":          {"wpa_cli set_network 0 key_mgmt WPA-PSK", false},
		"wpa_cli password from a parameter":     {"wpa_cli password 0 \"$EAP_PASSWORD\"", false},
		"openvpn --auth-user-pass <(printf)":    {"openvpn --config c.ovpn --auth-user-pass <(printf 'bob\\nOrders-2024\\n')", true},
		"openvpn --auth-user-pass <(echo)":      {"openvpn --config c.ovpn --auth-user-pass <(echo -e \"bob\\nOrders-2024\")", true},
		"openvpn --auth-user-pass FILE":         {"openvpn --config c.ovpn --auth-user-pass /run/secrets/vpn.auth", false},
		"openvpn --auth-user-pass <($PW)":       {"openvpn --auth-user-pass <(printf 'bob\\n%s\\n' \"$VPN_PW\")", false},
		"openvpn --auth-user-pass <(USER only)": {"openvpn --config c.ovpn --auth-user-pass <(echo bob)", false},
		"openvpn --askpass <(echo)":             {"openvpn --config c.ovpn --askpass <(echo Orders-2024)", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestSSHClientsBesidesSSH judges the remote commands of Dropbear's dbclient and of autossh,
// which take ssh's arguments (autossh's own -M PORT first), as ssh's are
// (TestSSHCommandsOfSeveralWords, TestHereStringsToShellsAndSSHInput). Before, they were read
// as any program's words.
func TestSSHClientsBesidesSSH(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"dbclient HOST COMMAND":              {"dbclient db 'mysql -uroot -pOrders-2024'", true},
		"autossh -M 0 HOST COMMAND":          {"autossh -M 0 -f db \"redis-cli -a Orders-2024 ping\"", true},
		"dbclient HOST <<< SCRIPT":           {"dbclient db <<< \"mysql -uroot -pOrders-2024\"", true},
		"autossh -L tunnel":                  {"autossh -M 0 -N -L 5432:localhost:5432 db", false},
		"dbclient -K KEEPALIVE HOST COMMAND": {"dbclient -K 30 -p 2222 db mysql -uroot -pOrders-2024", true},
		"echo SCRIPT | autossh -M 0 HOST":    {"echo 'mysql -uroot -pOrders-2024' | autossh -M 0 db", true},
		"autossh -M 0 HOST uptime":           {"autossh -M 20000:20001 db uptime", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestCommandLinePasswordsOfRound13 judges the literal credentials round 12 left passing:
// openvpn's --http-proxy-user-pass file given as a process substitution (USER then PASSWORD,
// as --auth-user-pass), lftp's open -u USER,PASSWORD in the commands its input gives it (lftp
// <<EOF, lftp -f /dev/stdin, echo ... | lftp), and wpa_cli's secrets in the commands its
// interactive mode reads from its input (echo 'set_network 0 psk "VALUE"' | wpa_cli).
func TestCommandLinePasswordsOfRound13(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"openvpn --http-proxy-user-pass <(printf)":    {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 --http-proxy-user-pass <(printf 'bob\\nOrders-2024\\n')", true},
		"openvpn --http-proxy-user-pass <(echo)":      {"openvpn --config c.ovpn --http-proxy-user-pass <(echo -e \"bob\\nOrders-2024\")", true},
		"openvpn --http-proxy-user-pass FILE":         {"openvpn --config c.ovpn --http-proxy-user-pass /run/secrets/proxy.auth", false},
		"openvpn --http-proxy-user-pass <($PW)":       {"openvpn --http-proxy-user-pass <(printf 'bob\\n%s\\n' \"$PROXY_PW\")", false},
		"openvpn --http-proxy-user-pass <(USER only)": {"openvpn --config c.ovpn --http-proxy-user-pass <(echo bob)", false},
		"echo set_network psk | wpa_cli":              {"echo 'set_network 0 psk \"Orders-2024\"' | wpa_cli -i wlan0", true},
		"printf set_network password | wpa_cli":       {"printf 'set_network 1 password \"Orders-2024\"\\nsave_config\\n' | wpa_cli", true},
		"echo password ID VALUE | wpa_cli":            {"echo 'password 0 Orders-2024' | wpa_cli -i wlan0", true},
		"echo set_network ssid | wpa_cli":             {"echo 'set_network 0 ssid \"HomeNet\"' | wpa_cli", false},
		"echo set_network psk $PW | wpa_cli":          {"echo \"set_network 0 psk $WIFI_PSK\" | wpa_cli", false},
		"lftp <<EOF open -u":                          {"lftp <<EOF\nopen -u deploy,Orders-2024 files.example.com\nmirror -R /site /www\nbye\nEOF", true},
		"lftp -f /dev/stdin <<EOF open -u":            {"lftp -f /dev/stdin <<'EOF'\nopen -u deploy,Orders-2024 files.example.com\nput a\nEOF", true},
		"lftp <<EOF user USER PASSWORD":               {"lftp <<EOF\nuser deploy Orders-2024\nopen files.example.com\nEOF", true},
		"lftp <<EOF open -u $PW":                      {"lftp <<EOF\nopen -u deploy,$FTP_PW files.example.com\nEOF", false},
		"lftp <<EOF open -u USER, a prompt":           {"lftp <<EOF\nopen -u deploy files.example.com\nEOF", false},
		"echo open -u | lftp":                         {"echo 'open -u deploy,Orders-2024 files.example.com; ls' | lftp", true},
		"wpa_cli <<EOF set_network psk":               {"wpa_cli -i wlan0 <<'EOF'\nset_network 0 psk \"Orders-2024\"\nenable_network 0\nEOF", true},
		"wpa_cli <<EOF set_network psk $PW":           {"wpa_cli -i wlan0 <<EOF\nset_network 0 psk \"$WIFI_PSK\"\nEOF", false},
		"echo | wpa_cli COMMAND":                      {"echo 'password 0 Orders-2024' | wpa_cli -i wlan0 status", false},
		// smbclient -L HOST takes its first operand as the service, not the password, and
		// exits ("Not enough '\\' characters in service", Samba's source3/client/client.c):
		// no password is given.
		"smbclient -L HOST OPERAND":           {"smbclient -L fileserver Orders-2024", false},
		"smbclient -L //HOST -U USER OPERAND": {"smbclient -L //fileserver -U admin Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// judgeCommandLine judges script as a container's shell script (sh -c's argument, the kubelet's
// $$ escapes written), as a ConfigMap's script and as a line a text program reads, and, when
// it is one command of one line, as the argv the shell would split it into: each finds a
// credential when want says so.
func judgeCommandLine(t *testing.T, script string, want bool) {
	t.Helper()
	arg := strings.ReplaceAll(script, "$", "$$")
	if got := argumentCredential(arg, nil, nil) != ""; got != want {
		t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, want)
	}
	if got := keyCredential("init.sh", script, false) != ""; got != want {
		t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", script, got, want)
	}
	if got := textProgramPassword(script, false) != ""; got != want {
		t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", script, got, want)
	}
	if strings.ContainsAny(script, "\n|<>;&$") {
		return
	}
	var argv []string
	for _, w := range shellWords(script) {
		argv = append(argv, unquotedWord(w))
	}
	if got := len(commandLineCredentials(argv, nil, nil, nil)) > 0; got != want {
		t.Errorf("commandLineCredentials(%q) = %q, want a credential %v", argv, commandLineCredentials(argv, nil, nil, nil), want)
	}
}

// TestCurlUserPasswords judges curl's -u, --user USER:PASSWORD (and the proxy's -U,
// --proxy-user) as curl reads them: in a cluster of short options (curl -sSfu USER:PASSWORD
// URL, the usual form in scripts) and with a password gitleaks' curl-auth-user does not take
// (a '#', '+', '/', '!' or '%' in it). Before, gitleaks' rule alone read -u, which takes -u
// and --user alone and a password of word characters, '$', '@', '.' and '-'.
func TestCurlUserPasswords(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"curl -sSfu USER:PASSWORD":          {"curl -sSfu bob:Orders-2024 https://api.example.com/x", true},
		"curl -fsSLu USER:PASSWORD":         {"curl -fsSLu bob:Orders-2024 -o /tmp/x https://api.example.com/x", true},
		"curl -sSfuUSER:PASSWORD":           {"curl -sSfubob:Orders-2024 https://api.example.com/x", true},
		"curl -ku USER:PASSWORD":            {"curl -ku admin:Orders-2024 https://es:9200/_cluster/health", true},
		"curl -u USER:PASSWORD with '#'":    {"curl -u admin:Orders#2024 https://api.example.com/x", true},
		"curl -u USER:PASSWORD with '+'":    {"curl -u admin:Orders+2024 https://api.example.com/x", true},
		"curl --user USER:PASSWORD with /":  {"curl --user 'admin:Orders/2024!' https://api.example.com/x", true},
		"curl --user=USER:PASSWORD with %":  {"curl --user=admin:Orders%2024 https://api.example.com/x", true},
		"curl -sSU USER:PASSWORD proxy":     {"curl -sSU bob:Orders#2024 -x proxy:3128 https://api.example.com/x", true},
		"curl -u USER:'PA$$WORD'":           {"curl -u 'admin:Ord$rs#2024' https://api.example.com/x", true},
		"curl -u USER:PASSWORD, gitleaks'":  {"curl -u bob:Orders-2024 https://api.example.com/x", true},
		"curl -sSfu USER, a prompt":         {"curl -sSfu bob https://api.example.com/x", false},
		"curl -sSfu USER:$PW":               {"curl -sSfu \"bob:$API_PASSWORD\" https://api.example.com/x", false},
		"curl -sSfu $USER:$PW":              {"curl -sSfu $API_USER:$API_PASSWORD https://api.example.com/x", false},
		"curl -sSfu USER:<password>":        {"curl -sSfu 'bob:<password>' https://api.example.com/x", false},
		"curl -su USER: empty":              {"curl -su bob: https://api.example.com/x", false},
		"curl -o FILE, no user":             {"curl -sSfo /tmp/u https://api.example.com/x", false},
		"curl -d DATA with u in it":         {"curl -sd user:Orders#2024 https://api.example.com/x", false},
		"curl -Ku FILE, -K takes the rest":  {"curl -Ku /etc/curlrc https://api.example.com/x", false},
		"curl -H, -u's letter in a header":  {"curl -sSH 'X-Forwarded-User: bob' https://api.example.com/x", false},
		"curl -sSfu USER:PASSWORD with '#'": {"curl -sSfu bob:Orders#2024 https://api.example.com/x", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestVariablesProgramsReadTheirPasswordFrom judges the variables a program reads its password
// from though no credential word names them (programCredentialVariable): sshpass -e's SSHPASS,
// redis-cli's REDISCLI_AUTH, the Neo4j image's NEO4J_AUTH=USER/PASSWORD and the Erlang
// cookie (RABBITMQ_ERLANG_COOKIE), in env and set in a script. Before, they passed.
func TestVariablesProgramsReadTheirPasswordFrom(t *testing.T) {
	env := map[string]struct {
		name, value string
		want        bool
	}{
		"SSHPASS":                        {"SSHPASS", "Orders-2024", true},
		"REDISCLI_AUTH":                  {"REDISCLI_AUTH", "Orders-2024", true},
		"NEO4J_AUTH USER/PASSWORD":       {"NEO4J_AUTH", "neo4j/Orders-2024", true},
		"RABBITMQ_ERLANG_COOKIE":         {"RABBITMQ_ERLANG_COOKIE", "WIWVHCDTCIUAWANLMQAW", true},
		"COUCHDB_ERLANG_COOKIE":          {"COUCHDB_ERLANG_COOKIE", "Orders-2024-cookie", true},
		"SSHPASS from a reference":       {"SSHPASS", "$(SSH_PW)", false},
		"NEO4J_AUTH none":                {"NEO4J_AUTH", "none", false},
		"NEO4J_AUTH USER/$(PW)":          {"NEO4J_AUTH", "neo4j/$(NEO4J_PASSWORD)", false},
		"NEO4J_AUTH USER/<password>":     {"NEO4J_AUTH", "neo4j/<password>", false},
		"NEO4J_AUTH_FILE":                {"NEO4J_AUTH_FILE", "/run/secrets/neo4j_auth", false},
		"REDISCLI_AUTH empty":            {"REDISCLI_AUTH", "", false},
		"an AUTH of another name":        {"OAUTH", "enabled", false},
		"a COOKIE of another name":       {"SESSION_COOKIE", "sid", false},
		"RABBITMQ_ERLANG_COOKIE_FILE":    {"RABBITMQ_ERLANG_COOKIE_FILE", "/var/lib/rabbitmq/.erlang.cookie", false},
		"AUTH of another program":        {"BASIC_AUTH", "off", false},
		"lower case sshpass in a config": {"sshpass", "Orders-2024", true},
	}
	for name, tc := range env {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
	scripts := map[string]struct {
		script string
		want   bool
	}{
		"SSHPASS=VALUE sshpass -e":         {"SSHPASS=Orders-2024 sshpass -e ssh bob@db uptime", true},
		"export SSHPASS=VALUE":             {"export SSHPASS='Orders-2024'", true},
		"REDISCLI_AUTH=VALUE redis-cli":    {"REDISCLI_AUTH=Orders-2024 redis-cli -h redis ping", true},
		"SSHPASS=$PW sshpass -e":           {"SSHPASS=\"$SSH_PW\" sshpass -e ssh bob@db uptime", false},
		"docker run -e NEO4J_AUTH=":        {"docker run -d -e NEO4J_AUTH=neo4j/Orders-2024 neo4j:5", true},
		"docker run -e NEO4J_AUTH=none":    {"docker run -d -e NEO4J_AUTH=none neo4j:5", false},
		"sshpass -e alone":                 {"sshpass -e ssh bob@db uptime", false},
		"RABBITMQ_ERLANG_COOKIE=VALUE run": {"RABBITMQ_ERLANG_COOKIE=WIWVHCDTCIUAWANLMQAW rabbitmq-server", true},
	}
	for name, tc := range scripts {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestRegistryCredsAndOpenShiftLogin judges the containers/image tools' --creds USER:PASSWORD
// (skopeo copy --src-creds and --dest-creds, skopeo inspect, podman pull and buildah push
// --creds) and OpenShift's oc login -p PASSWORD, which passed: no name says the value is a
// password (registryLoginPassword read login -p of the registry clients, not oc's).
func TestRegistryCredsAndOpenShiftLogin(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"skopeo copy --src-creds":       {"skopeo copy --src-creds bob:Orders-2024 docker://a.example.com/b docker://c.example.com/d", true},
		"skopeo copy --dest-creds=":     {"skopeo copy --dest-creds=bob:Orders-2024 docker://a.example.com/b docker://c.example.com/d", true},
		"skopeo inspect --creds":        {"skopeo inspect --creds 'bob:Orders-2024' docker://a.example.com/b", true},
		"buildah push --creds":          {"buildah push --creds bob:Orders-2024 img docker://r.example.com/img", true},
		"podman pull --creds=":          {"podman pull --creds=bob:Orders-2024 r.example.com/img", true},
		"skopeo sync --src-creds":       {"skopeo sync --src docker --dest dir --src-creds bob:Orders#2024 r.example.com/img /mirror", true},
		"skopeo --creds USER, a prompt": {"skopeo inspect --creds bob docker://a.example.com/b", false},
		"skopeo --creds USER:$PW":       {"skopeo inspect --creds \"bob:$REG_PW\" docker://a.example.com/b", false},
		"skopeo --creds from a file":    {"skopeo inspect --authfile /run/secrets/auth.json docker://a.example.com/b", false},
		"podman run, no creds":          {"podman run --rm -p 8080:80 r.example.com/img", false},
		"oc login -p":                   {"oc login -u admin -p Orders-2024 https://api.example.com:6443", true},
		"oc login -pVALUE":              {"oc login https://api.example.com:6443 -u admin -pOrders-2024", true},
		"oc login -p $PW":               {"oc login -u admin -p \"$OC_PASSWORD\" https://api.example.com:6443", false},
		"oc login -u USER, a prompt":    {"oc login -u admin https://api.example.com:6443", false},
		"oc port-forward -p? no":        {"oc exec -p mypod -- ls", false},
		"oc process -p PARAM=VALUE":     {"oc process -f t.yaml -p REPLICAS=2 | oc apply -f -", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestGitExtraHeaders judges git's http.extraHeader (http.<url>.extraheader) set to an
// Authorization header with literal credentials, as -c's value and as git config's: git sends
// it with every request (actions/checkout's way to give a token). Before, only a header as its
// own argument, or after --header= or -H, was read.
func TestGitExtraHeaders(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"git -c http.extraHeader= Basic":      {"git -c http.extraHeader='Authorization: Basic Ym9iOk9yZGVycy0yMDI0' clone https://git.example.com/r.git", true},
		"git -c http.URL.extraheader= bearer": {"git -c \"http.https://git.example.com/.extraheader=AUTHORIZATION: bearer Orders-2024-abc\" fetch", true},
		"git config http.extraheader HEADER":  {"git config --global http.extraheader 'AUTHORIZATION: basic Ym9iOk9yZGVycy0yMDI0'", true},
		"git -c extraheader= $TOKEN":          {"git -c http.extraHeader=\"Authorization: Bearer $GIT_TOKEN\" fetch", false},
		"git -c extraheader= another header":  {"git -c http.extraHeader='X-Trace: 1' fetch", false},
		"git -c another setting":              {"git -c user.name='Orders Bot' commit -m x", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if strings.Contains(tc.script, "$") {
				return
			}
			var argv []string
			for _, w := range shellWords(tc.script) {
				argv = append(argv, unquotedWord(w))
			}
			if got := len(commandLineCredentials(argv, nil, nil, nil)) > 0; got != tc.want {
				t.Errorf("commandLineCredentials(%q) = %q, want a credential %v", argv, commandLineCredentials(argv, nil, nil, nil), tc.want)
			}
		})
	}
}

// TestInputOfCommandsSSHRuns judges what echo or printf pipes into ssh HOST COMMAND, and a
// here-string given to it: the input is the remote command's, a password when the remote
// command reads one there (sudo -S, passwd --stdin, chpasswd) and SQL when it reads SQL.
// Before, it was read as a script only, as ssh HOST's without a command is: the password
// alone, or USER:PASSWORD, is no command. Input given to a remote command that does not read
// it (ssh db uptime) is still read as commands, as 45221c49 left a here-document's: which
// remote commands read their input as commands (sudo -i, su -, python3 -, ssh, psql) is open.
func TestInputOfCommandsSSHRuns(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo VALUE | ssh HOST 'sudo -S CMD'":        {"echo Orders-2024 | ssh db 'sudo -S systemctl restart app'", true},
		"echo VALUE | ssh HOST sudo -S CMD":          {"echo 'Orders-2024' | ssh -i /k/id deploy@db sudo -S -u app /opt/app/reload", true},
		"echo VALUE | ssh HOST 'passwd --stdin U'":   {"echo Orders-2024 | ssh db 'passwd --stdin app'", true},
		"echo U:VALUE | ssh HOST chpasswd":           {"echo app:Orders-2024 | ssh db chpasswd", true},
		"echo U:VALUE | ssh HOST sudo chpasswd":      {"echo app:Orders-2024 | ssh db sudo chpasswd", true},
		"printf VALUE | autossh HOST 'sudo -S CMD'":  {"printf 'Orders-2024\\n' | autossh -M 0 db 'sudo -S reboot'", true},
		"ssh HOST 'sudo -S CMD' <<< VALUE":           {"ssh db 'sudo -S systemctl restart app' <<< Orders-2024", true},
		"ssh HOST mysql <<< SQL":                     {"ssh db 'mysql -uroot' <<< \"ALTER USER root IDENTIFIED BY 'Orders-2024'\"", true},
		"echo $PW | ssh HOST 'sudo -S CMD'":          {"echo \"$SUDO_PW\" | ssh db 'sudo -S systemctl restart app'", false},
		"echo U:$PW | ssh HOST chpasswd":             {"echo \"app:$APP_PW\" | ssh db chpasswd", false},
		"echo TEXT | ssh HOST uptime, commands":      {"echo 'mysql -uroot -pOrders-2024' | ssh db uptime", true},
		"echo TEXT | ssh HOST 'sudo CMD', no -S":     {"echo hello | ssh db 'sudo systemctl restart app'", false},
		"echo SCRIPT | ssh HOST, a shell":            {"echo 'redis-cli -a Orders-2024 ping' | ssh db", true},
		"ssh HOST 'sudo -S CMD' <<< $PW":             {"ssh db 'sudo -S systemctl restart app' <<< \"$SUDO_PW\"", false},
		"echo VALUE | ssh HOST CMD; sudo -S locally": {"echo hello | ssh db uptime", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestOpenVPNHTTPProxyAuthFile judges openvpn's --http-proxy HOST PORT AUTHFILE given as a
// process substitution that prints a literal (the file --http-proxy-user-pass takes: USER,
// then PASSWORD), which passed: keyFileSubstitution looked at the word before the
// substitution, the port.
func TestOpenVPNHTTPProxyAuthFile(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"--http-proxy HOST PORT <(printf)":       {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 <(printf 'bob\\nOrders-2024\\n')", true},
		"--http-proxy HOST PORT <(echo) basic":   {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 <(echo -e \"bob\\nOrders-2024\") basic", true},
		"--http-proxy HOST PORT auto":            {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 auto", false},
		"--http-proxy HOST PORT stdin":           {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 stdin", false},
		"--http-proxy HOST PORT FILE":            {"openvpn --config c.ovpn --http-proxy proxy.example.com 3128 /run/secrets/proxy.auth", false},
		"--http-proxy HOST PORT <($PW)":          {"openvpn --http-proxy proxy.example.com 3128 <(printf 'bob\\n%s\\n' \"$PROXY_PW\")", false},
		"--http-proxy HOST PORT <(USER only)":    {"openvpn --http-proxy proxy.example.com 3128 <(echo bob)", false},
		"another program's third word":           {"diff --http-proxy a b <(printf 'bob\\nOrders-2024\\n')", false},
		"--http-proxy-user-pass <(printf), kept": {"openvpn --http-proxy-user-pass <(printf 'bob\\nOrders-2024\\n')", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
			if got := textProgramPassword(tc.script, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestConfigurationEchoWritesToFiles judges configuration echo or printf writes into a file
// (its \n escapes as lines), as a here-document's body written to one is read: a line that
// sets a credential-like name to a literal (MySQL's ~/.my.cnf, smbclient -A's authentication
// file). Before, only a file whose name names a credential, or a password file (.pgpass,
// .netrc), was judged: echo -e "[client]\nuser=root\npassword=VALUE" > ~/.my.cnf passed.
func TestConfigurationEchoWritesToFiles(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo -e my.cnf":                       {"echo -e \"[client]\\nuser=root\\npassword=Orders-2024\" > ~/.my.cnf", true},
		"printf my.cnf":                        {"printf '[client]\\nuser=root\\npassword=Orders-2024\\n' > /root/.my.cnf", true},
		"printf smbclient -A file, then -A":    {"printf 'username = admin\\npassword = Orders-2024\\n' > /tmp/smb.auth\nsmbclient //srv/share -A /tmp/smb.auth -c ls", true},
		"echo password = VALUE > FILE":         {"echo \"password = Orders-2024\" > /tmp/smb.auth", true},
		"printf 'password = %s' VALUE > FILE":  {"printf 'password = %s\\n' Orders-2024 > /tmp/smb.auth", true},
		"echo -e ... | tee my.cnf":             {"echo -e \"[client]\\npassword=Orders-2024\" | tee /root/.my.cnf > /dev/null", true},
		"echo >> FILE, appended":               {"echo 'db.password=Orders-2024' >> /app/config/app.properties", true},
		"echo password = $PW > FILE":           {"echo \"password = $SMB_PW\" > /tmp/smb.auth", false},
		"printf 'password = %s' $PW > FILE":    {"printf 'password = %s\\n' \"$SMB_PW\" > /tmp/smb.auth", false},
		"echo a reference > FILE":              {"echo 'password_file=/run/secrets/pw' > /app/app.conf", false},
		"echo a policy > FILE":                 {"echo 'PASSWORD_POLICY=strong' > /app/app.conf", false},
		"echo an empty password > FILE":        {"echo 'password=' > /app/app.conf", false},
		"echo a placeholder > FILE":            {"echo 'token=<your-token>' > /app/.env", false},
		"echo settings without one > FILE":     {"echo -e \"[client]\\nuser=root\\nhost=db\" > ~/.my.cnf", false},
		"echo password=VALUE to the terminal?": {"echo 'log: password rotated' > /dev/stderr", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestKeyFilesAScriptWrites judges a key or password file a program is given
// (programKeyFileOptions: openvpn --auth-user-pass, --http-proxy-user-pass, --http-proxy HOST
// PORT FILE, --askpass, cryptsetup --key-file, wg set private-key) that the same script wrote
// literal text into with echo or printf before. Before, only a process substitution that
// prints it was read (keyFileSubstitution): the file's lines alone name nothing.
func TestKeyFilesAScriptWrites(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"printf > FILE, openvpn --auth-user-pass FILE":       {"printf 'bob\\nOrders-2024\\n' > /tmp/vpn.auth\nopenvpn --config c.ovpn --auth-user-pass /tmp/vpn.auth", true},
		"echo > FILE; echo >> FILE; openvpn":                 {"echo bob > /tmp/vpn.auth; echo 'Orders-2024' >> /tmp/vpn.auth; exec openvpn --config c.ovpn --auth-user-pass /tmp/vpn.auth", true},
		"echo $USER > FILE; echo VALUE >> FILE; openvpn":     {"echo \"$VPN_USER\" > /tmp/vpn.auth\necho 'Orders-2024' >> /tmp/vpn.auth\nopenvpn --auth-user-pass /tmp/vpn.auth", true},
		"printf > FILE, openvpn --http-proxy H P FILE":       {"printf 'bob\\nOrders-2024\\n' > /tmp/p.auth\nopenvpn --config c.ovpn --http-proxy proxy 3128 /tmp/p.auth", true},
		"printf > FILE, --http-proxy-user-pass=FILE":         {"printf 'bob\\nOrders-2024\\n' > /tmp/p.auth\nopenvpn --http-proxy-user-pass=/tmp/p.auth", true},
		"echo -n > FILE, cryptsetup --key-file FILE":         {"echo -n 'Orders-2024' > /tmp/k\ncryptsetup luksOpen /dev/sdb1 data --key-file /tmp/k", true},
		"echo $PW > FILE, openvpn":                           {"echo bob > /tmp/vpn.auth\necho \"$VPN_PW\" >> /tmp/vpn.auth\nopenvpn --auth-user-pass /tmp/vpn.auth", false},
		"printf USER only, openvpn prompts":                  {"echo bob > /tmp/vpn.auth\nopenvpn --auth-user-pass /tmp/vpn.auth", false},
		"echo VALUE > FILE, overwritten by $PW":              {"echo bob > /tmp/vpn.auth; echo Orders-2024 >> /tmp/vpn.auth\nprintf 'bob\\n%s\\n' \"$PW\" > /tmp/vpn.auth\nopenvpn --auth-user-pass /tmp/vpn.auth", false},
		"a written file another program reads":               {"printf 'bob\\nOrders-2024\\n' > /tmp/list\nsort /tmp/list", false},
		"openvpn --auth-user-pass another file":              {"printf 'bob\\nOrders-2024\\n' > /tmp/a\nopenvpn --auth-user-pass /tmp/b", false},
		"openvpn --config FILE written, not a password file": {"printf 'remote vpn 1194\\nclient\\n' > /tmp/c.ovpn\nopenvpn --config /tmp/c.ovpn", false},
		"echo > FILE, sshpass -f FILE":                       {"echo Orders-2024 > /tmp/p\nsshpass -f /tmp/p ssh bob@db uptime", true},
		"echo > FILE, rsync --password-file=FILE":            {"echo Orders-2024 > /tmp/r\nrsync -a --password-file=/tmp/r /d rsync://bob@h/m", true},
		"echo > FILE, restic --password-file FILE":           {"echo Orders-2024 > /tmp/r\nrestic -r /repo --password-file /tmp/r backup /d", true},
		"echo $PW > FILE, rsync --password-file=FILE":        {"echo \"$RSYNC_PW\" > /tmp/r\nrsync -a --password-file=/tmp/r /d rsync://bob@h/m", false},
		"sshpass -f a file the script did not write":         {"sshpass -f /run/secrets/ssh ssh bob@db uptime", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestWrittenFilesAreBounded: a commandReader keeps the text of at most maxWrittenFiles files
// a script writes, at most maxWrittenText bytes each, and a file written past that is not kept
// again (each write then copies at most maxWrittenText bytes, not all the file's text).
func TestWrittenFilesAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&b, "echo 'Orders-2024 %d' >> /tmp/f%d\n", i, i%40)
	}
	b.WriteString("openvpn --auth-user-pass /tmp/f0\n")
	r := commandReader{flags: true}
	r.script(b.String())
	if len(r.written) > maxWrittenFiles {
		t.Errorf("kept %d files, want at most %d", len(r.written), maxWrittenFiles)
	}
	for file, text := range r.written {
		if len(text) > maxWrittenText {
			t.Errorf("kept %d bytes of %s, want at most %d", len(text), file, maxWrittenText)
		}
		if text != overflowedText {
			t.Errorf("kept %s's text (%d bytes) though more than %d bytes were written to it", file, len(text), maxWrittenText)
		}
	}
}

// TestMoreShortPasswordOptionsOfRound14 judges programs whose short option takes a password or
// token no name says is one, which passed: twine -p, ssh-keygen -P (the old passphrase),
// racadm -p, vsql -w, hdbsql -p, mydumper and myloader -p, maxctrl -p, regctl registry login
// -p, dotnet nuget push -k, doctl auth init -t and codecov -t.
func TestMoreShortPasswordOptionsOfRound14(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"twine upload -p":               {"twine upload -u bob -p Orders-2024 dist/*", true},
		"twine upload -p TOKEN":         {"twine upload -u __token__ -p pypi-Orders2024abc --non-interactive dist/*", true},
		"ssh-keygen -P OLD -N ''":       {"ssh-keygen -p -f /k/id_rsa -P Orders-2024 -N ''", true},
		"racadm -p":                     {"racadm -r idrac.example.com -u root -p Orders-2024 getsysinfo", true},
		"vsql -w":                       {"vsql -h db -U dbadmin -w Orders-2024 -c 'select 1'", true},
		"hdbsql -p":                     {"hdbsql -n db:30015 -u SYSTEM -p Orders-2024 'select 1 from dummy'", true},
		"mydumper -p":                   {"mydumper -h db -u root -p Orders-2024 -o /backup", true},
		"myloader -pVALUE":              {"myloader -h db -u root -pOrders-2024 -d /backup", true},
		"maxctrl -p":                    {"maxctrl -u admin -p Orders-2024 list servers", true},
		"regctl registry login -p":      {"regctl registry login r.example.com -u bob -p Orders-2024", true},
		"dotnet nuget push -k":          {"dotnet nuget push pkg.nupkg -k Orders-2024-abc -s https://api.nuget.org/v3/index.json", true},
		"doctl auth init -t":            {"doctl auth init -t Orders-2024-abc", true},
		"codecov -t":                    {"codecov -t Orders-2024-abc -f coverage.xml", true},
		"twine -p $PW":                  {"twine upload -u __token__ -p \"$PYPI_TOKEN\" dist/*", false},
		"ssh-keygen -P ''":              {"ssh-keygen -t ed25519 -f /k/id -P '' -N ''", false},
		"ssh-keygen -N '' alone":        {"ssh-keygen -t ed25519 -f /k/id -N ''", false},
		"mydumper -P PORT":              {"mydumper -h db -P 3306 -u root -o /backup", false},
		"regctl image copy -p? no":      {"regctl image copy -p a b", false},
		"dotnet run -k? no":             {"dotnet run -k x", false},
		"doctl compute -t? no":          {"doctl compute droplet list -t x", false},
		"codecov -t $TOKEN":             {"codecov -t \"$CODECOV_TOKEN\"", false},
		"hdbsql -p from a reference":    {"hdbsql -u SYSTEM -p ${HANA_PW} 'select 1'", false},
		"racadm without a password":     {"racadm getsysinfo", false},
		"vsql -w $PW":                   {"vsql -U dbadmin -w \"$VSQL_PW\" -c 'select 1'", false},
		"maxctrl -p of another command": {"maxctrl list servers", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestMySQLShellAndRouterURIs judges the connection URIs MySQL Shell and MySQL Router take
// without a scheme (USER:PASSWORD@HOST:PORT), as an operand or an option's value: mysqlsh
// root:VALUE@db:3306, mysqlsh --uri, mysqlrouter --bootstrap. urlPassword reads a URL with a
// scheme only, so they passed.
func TestMySQLShellAndRouterURIs(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"mysqlsh USER:PASSWORD@HOST":         {"mysqlsh root:Orders-2024@db:3306 --sql -e 'select 1'", true},
		"mysqlsh --uri USER:PASSWORD@HOST":   {"mysqlsh --uri root:Orders-2024@db:3306 --js", true},
		"mysqlsh --uri=mysqlx://...":         {"mysqlsh --uri=mysqlx://root:Orders-2024@db:33060/app", true},
		"mysqlrouter --bootstrap":            {"mysqlrouter --bootstrap root:Orders-2024@db:3306 --user=mysqlrouter --directory /r", true},
		"mysqlrouter -B":                     {"mysqlrouter -B 'admin:Orders#2024@db-0.db:3306' --conf-use-sockets", true},
		"mysqlsh USER@HOST, a prompt":        {"mysqlsh root@db:3306 --sql", false},
		"mysqlsh USER:$PW@HOST":              {"mysqlsh \"root:$MYSQL_ROOT_PASSWORD@db:3306\" --sql", false},
		"mysqlsh -e statement with an @":     {"mysqlsh root@db --sql -e \"select 'a:b@c'\"", false},
		"mysqlrouter --bootstrap USER@HOST":  {"mysqlrouter --bootstrap root@db:3306 --user=mysqlrouter", false},
		"mysqlsh --uri USER:<password>@HOST": {"mysqlsh --uri 'root:<password>@db:3306'", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestPackageRegistryTokensAsOperands judges the tokens and passwords package tools take as
// operands, which no name marks: cargo login TOKEN, snyk auth TOKEN, poetry config
// pypi-token.REPO TOKEN and poetry config http-basic.REPO USER PASSWORD. Before, they passed.
func TestPackageRegistryTokensAsOperands(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"cargo login TOKEN":                   {"cargo login Orders-2024-abc", true},
		"cargo login --registry NAME TOKEN":   {"cargo login --registry internal Orders-2024-abc", true},
		"snyk auth TOKEN":                     {"snyk auth Orders-2024-abc", true},
		"poetry config pypi-token.REPO TOKEN": {"poetry config pypi-token.pypi Orders-2024-abc", true},
		"poetry config http-basic USER PW":    {"poetry config http-basic.nexus bob Orders-2024", true},
		"cargo login, from its input":         {"cargo login", false},
		"cargo login $TOKEN":                  {"cargo login \"$CARGO_TOKEN\"", false},
		"cargo build":                         {"cargo build --release", false},
		"snyk test":                           {"snyk test --severity-threshold=high", false},
		"snyk auth $TOKEN":                    {"snyk auth $SNYK_TOKEN", false},
		"poetry config http-basic USER $PW":   {"poetry config http-basic.nexus bob \"$NEXUS_PW\"", false},
		"poetry config http-basic USER":       {"poetry config http-basic.nexus bob", false},
		"poetry config another setting":       {"poetry config virtualenvs.create false", false},
		"poetry install":                      {"poetry install --no-root", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestMorePasswordsOnInput judges programs that read a password from their input, given a
// literal by echo, printf, a here-string or a here-document: sshfs -o password_stdin, and git
// credential approve (store, a credential helper's store), whose input's password= line is
// one. Before, they passed.
func TestMorePasswordsOnInput(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo VALUE | sshfs -o password_stdin":     {"echo Orders-2024 | sshfs bob@h:/ /mnt -o password_stdin", true},
		"sshfs -o ...,password_stdin <<< VALUE":    {"sshfs bob@h:/ /mnt -o reconnect,password_stdin <<< 'Orders-2024'", true},
		"printf ... | git credential approve":      {"printf 'protocol=https\\nhost=github.com\\nusername=bob\\npassword=Orders-2024\\n' | git credential approve", true},
		"echo -e ... | git credential-store store": {"echo -e \"protocol=https\\nhost=git.example.com\\nusername=bob\\npassword=Orders-2024\" | git credential-store --file ~/.git-credentials store", true},
		"echo $PW | sshfs -o password_stdin":       {"echo \"$SSHFS_PW\" | sshfs bob@h:/ /mnt -o password_stdin", false},
		"echo VALUE | sshfs without the option":    {"echo hello | sshfs bob@h:/ /mnt -o IdentityFile=/k/id", false},
		"printf ... $PW | git credential approve":  {"printf 'protocol=https\\nhost=github.com\\nusername=bob\\npassword=%s\\n' \"$GIT_PW\" | git credential approve", false},
		"printf ... | git credential fill":         {"printf 'protocol=https\\nhost=github.com\\n' | git credential fill", false},
		"echo TEXT | git commit":                   {"echo 'password=Orders' | git commit -F -", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestHMACKeys judges an HMAC's shared key under a name that says so (HMAC_KEY,
// --eab-hmac-key, jwt.hmacKey), a secret as a signing key is. Before, HMAC did not qualify
// KEY, so they passed.
func TestHMACKeys(t *testing.T) {
	env := map[string]struct {
		name, value string
		want        bool
	}{
		"HMAC_KEY":             {"HMAC_KEY", "Orders-2024-hmac", true},
		"JWT_HMAC_KEY":         {"JWT_HMAC_KEY", "Orders-2024-hmac", true},
		"HMAC_KEY_FILE":        {"HMAC_KEY_FILE", "/run/secrets/hmac", false},
		"HMAC_KEY from a ref":  {"HMAC_KEY", "$(HMAC)", false},
		"HMAC_ALGORITHM":       {"HMAC_ALGORITHM", "sha256", false},
		"CACHE_KEY stays none": {"CACHE_KEY", "orders", false},
	}
	for name, tc := range env {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
	for script, want := range map[string]bool{
		"certbot certonly --eab-kid kid1 --eab-hmac-key Orders2024HmacKeyabcdef -d x.example.com": true,
		"certbot certonly --eab-kid kid1 --eab-hmac-key=Orders2024HmacKeyabcdef -d x.example.com": true,
		"certbot certonly --eab-kid kid1 --eab-hmac-key \"$EAB_HMAC_KEY\" -d x.example.com":       false,
		"certbot certonly --eab-kid kid1 --eab-hmac-key-file /run/secrets/eab -d x.example.com":   false,
	} {
		t.Run(script, func(t *testing.T) {
			arg := strings.ReplaceAll(script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, want)
			}
			if got := keyCredential("init.sh", script, false) != ""; got != want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", script, got, want)
			}
			if !strings.Contains(script, "$") {
				if got := len(commandLineCredentials(strings.Fields(script), nil, nil, nil)) > 0; got != want {
					t.Errorf("commandLineCredentials(%q) found a credential: %v, want %v", script, got, want)
				}
			}
		})
	}
}

// TestRcloneConnectionStrings judges a remote given to rclone as a connection string, whose
// parameters are a config section's: :sftp,host=H,user=U,pass=VALUE:PATH (pass is an
// obscured password, which rclone reveal turns back), s3,secret_access_key=VALUE:BUCKET.
// Before, only rclone config create and update were read.
func TestRcloneConnectionStrings(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		":sftp,...,pass=VALUE:PATH":            {"rclone sync /data :sftp,host=h,user=u,pass=Orders-2024:/data", true},
		"REMOTE,secret_access_key=VALUE:PATH":  {"rclone copy s3r,access_key_id=AKID,secret_access_key=Orders2024Secret:bucket/x /d", true},
		":webdav,...,pass=VALUE, last one":     {"rclone ls :webdav,url=https://dav.example.com,user=bob,pass=Orders-2024:", true},
		":sftp,...,key_file=PATH":              {"rclone sync /data :sftp,host=h,user=u,key_file=/k/id:/data", false},
		":sftp,...,pass=$PW":                   {"rclone sync /data \":sftp,host=h,user=u,pass=$OBSCURED_PW:/data\"", false},
		"a remote without parameters":          {"rclone sync /data backup:/data", false},
		"a local path with a comma and an '='": {"rclone copy /data/a,b=c /d", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestToolCredentialsOfRound15 judges credentials that tools take as an option's value or an
// operand no name marks: consul's gossip encryption key (agent -encrypt, keyring -install),
// a SonarQube token as sonar.login (without sonar.password) or sonar.token, Db2's connect ...
// using PASSWORD, a Percona Toolkit DSN's p=PASSWORD, ZooKeeper's addauth digest USER:PASSWORD
// and netlify --auth TOKEN. Before, they passed.
func TestToolCredentialsOfRound15(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"consul agent -encrypt=KEY":             {"consul agent -server -encrypt=pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s= -data-dir /d", true},
		"consul agent -encrypt KEY":             {"consul agent -server -encrypt pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s= -data-dir /d", true},
		"consul agent --encrypt=KEY":            {"consul agent --encrypt=Orders2024Gossip", true},
		"consul keyring -install KEY":           {"consul keyring -install=pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=", true},
		"sonar-scanner -Dsonar.login=TOKEN":     {"sonar-scanner -Dsonar.projectKey=app -Dsonar.login=Orders2024Token", true},
		"sonar-scanner -D sonar.login=TOKEN":    {"sonar-scanner -D sonar.login=Orders2024Token", true},
		"mvn sonar:sonar -Dsonar.login=TOKEN":   {"mvn -B verify sonar:sonar -Dsonar.host.url=https://sq -Dsonar.login=Orders2024Token", true},
		"./gradlew sonar -Dsonar.token=TOKEN":   {"./gradlew sonar -Dsonar.token=Orders2024Token", true},
		"dotnet-sonarscanner /d:sonar.login=":   {"dotnet-sonarscanner begin /k:app /d:sonar.login=Orders2024Token", true},
		"db2 connect ... using VALUE":           {"db2 connect to SAMPLE user db2inst1 using Orders-2024", true},
		"db2 \"connect ... using VALUE\"":       {"db2 \"connect to SAMPLE user db2inst1 using Orders-2024\"", true},
		"db2 CONNECT ... USING VALUE":           {"db2 CONNECT TO SAMPLE USER db2inst1 USING Orders-2024", true},
		"pt-table-checksum h=,u=,p=":            {"pt-table-checksum --replicate=percona.checksums h=db,u=root,p=Orders-2024", true},
		"pt-online-schema-change D=,t=,p=":      {"pt-online-schema-change --alter 'add column c int' D=app,t=t,h=db,u=root,p=Orders-2024 --execute", true},
		"pt-archiver --source=h=,p=":            {"pt-archiver --source=h=db,D=app,t=log,p=Orders-2024 --purge --where 'ts < now()'", true},
		"pt-kill -p VALUE":                      {"pt-kill -h db -u root -p Orders-2024 --busy-time 60 --kill", true},
		"zkCli.sh addauth digest U:VALUE":       {"zkCli.sh -server zk:2181 addauth digest admin:Orders-2024", true},
		"zookeeper-shell.sh addauth digest":     {"zookeeper-shell.sh zk:2181 addauth digest 'admin:Orders-2024'", true},
		"netlify deploy --auth TOKEN":           {"netlify deploy --prod --auth Orders2024Token --dir build", true},
		"netlify deploy --auth=TOKEN":           {"netlify deploy --auth=Orders2024Token", true},
		"consul agent -encrypt $KEY":            {"consul agent -encrypt \"$CONSUL_GOSSIP_KEY\" -server", false},
		"consul agent -encrypt=${KEY}":          {"consul agent -encrypt=${CONSUL_GOSSIP_KEY}", false},
		"consul agent without a key":            {"consul agent -server -data-dir /d", false},
		"sonar.login USER with sonar.password":  {"mvn sonar:sonar -Dsonar.login=admin -Dsonar.password=\"$SONAR_PW\"", false},
		"sonar.login=$TOKEN":                    {"sonar-scanner -Dsonar.login=$SONAR_TOKEN", false},
		"mvn without sonar":                     {"mvn -B -Dmaven.test.skip=true package", false},
		"db2 connect ... using $PW":             {"db2 connect to SAMPLE user db2inst1 using $DB2_PASSWORD", false},
		"db2 \"connect ... using ${PW}\"":       {"db2 \"connect to SAMPLE user db2inst1 using ${DB2_PASSWORD}\"", false},
		"db2 connect without a user":            {"db2 connect to SAMPLE", false},
		"pt-table-checksum p=$PW":               {"pt-table-checksum h=db,u=root,p=$MYSQL_PWD", false},
		"pt-table-checksum without p=":          {"pt-table-checksum h=db,u=root --ask-pass", false},
		"pt-kill -P PORT":                       {"pt-kill -h db -P 3306 --busy-time 60", false},
		"zkCli.sh addauth digest U:$PW":         {"zkCli.sh -server zk:2181 addauth digest admin:$ZK_PASSWORD", false},
		"zkCli.sh setAcl digest:USER:HASH:PERM": {"zkCli.sh -server zk:2181 setAcl /app digest:admin:x1nq8J5GOJVPY6zgBstPJQ4Wk3g=:cdrwa", false},
		"netlify deploy --auth $TOKEN":          {"netlify deploy --auth \"$NETLIFY_AUTH_TOKEN\"", false},
		"netlify deploy":                        {"netlify deploy --prod --dir build", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			judgeCommandLine(t, tc.script, tc.want)
		})
	}
}

// TestCredentialNamesOfRound15 judges names that hold a credential though no credential word
// ends them: the Azure CLI's AZURE_STORAGE_KEY (the storage account's key), the Swift
// client's ST_KEY, a password under a part ending in PW (LDAP_BINDPW, ROOTPW) and a pre-shared
// key, PSK (WIFI_PSK, WPA_PSK, IPSEC_PSK). Before, they passed.
func TestCredentialNamesOfRound15(t *testing.T) {
	env := map[string]struct {
		name, value string
		want        bool
	}{
		"AZURE_STORAGE_KEY":           {"AZURE_STORAGE_KEY", "Orders2024StorageKey==", true},
		"ST_KEY":                      {"ST_KEY", "Orders-2024", true},
		"LDAP_BINDPW":                 {"LDAP_BINDPW", "Orders-2024", true},
		"SLAPD_ROOTPW":                {"SLAPD_ROOTPW", "Orders-2024", true},
		"WIFI_PSK":                    {"WIFI_PSK", "Orders-2024", true},
		"PSK":                         {"PSK", "Orders-2024", true},
		"IPSEC_PSK":                   {"IPSEC_PSK", "Orders-2024", true},
		"wifiPsk":                     {"wifiPsk", "Orders-2024", true},
		"AZURE_STORAGE_KEY from $()":  {"AZURE_STORAGE_KEY", "$(AZ_KEY)", false},
		"ST_KEY empty":                {"ST_KEY", "", false},
		"LDAP_BINDPW <password>":      {"LDAP_BINDPW", "<password>", false},
		"WIFI_PSK from ${}":           {"WIFI_PSK", "${WIFI_PSK}", false},
		"WIFI_PSK_FILE":               {"WIFI_PSK_FILE", "/run/secrets/psk", false},
		"PSK_ENABLED":                 {"PSK_ENABLED", "true", false},
		"KEY_MGMT WPA-PSK":            {"KEY_MGMT", "WPA-PSK", false},
		"STORAGE_KEY stays none":      {"STORAGE_KEY", "uploads", false},
		"ST_AUTH is a URL":            {"ST_AUTH", "https://swift.example.com/auth/v1.0", false},
		"a part ending in PW, a path": {"LDAP_BINDPW", "/run/secrets/bindpw", false},
	}
	for name, tc := range env {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value) != ""; got != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, envCredential(tc.name, tc.value), tc.want)
			}
		})
	}
	for name, want := range map[string]bool{"wifi.psk": true, "olcRootPW": true, "ldap.bindpw": true, "AZURE_STORAGE_KEY": true,
		"psk_enabled": false, "storage_key": false} {
		t.Run("setting "+name, func(t *testing.T) {
			if got := credentialSettingName(name); got != want {
				t.Errorf("credentialSettingName(%q) = %v, want %v", name, got, want)
			}
		})
	}
	for script, want := range map[string]bool{
		"export LDAP_BINDPW='Orders-2024'":            true,
		"WIFI_PSK=Orders-2024 /usr/local/bin/join":    true,
		"export WIFI_PSK=\"$(cat /run/secrets/psk)\"": false,
	} {
		t.Run(script, func(t *testing.T) {
			if got := keyCredential("init.sh", script, false) != ""; got != want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", script, got, want)
			}
		})
	}
}

// TestKeyFilesAScriptWritesWithHereDocuments judges a key or password file the script writes
// with cat or tee and a here-document (cat > FILE <<EOF), then gives a program: before, only
// echo's and printf's writes were kept (writtenKeyFile), so these passed.
func TestKeyFilesAScriptWritesWithHereDocuments(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"cat > FILE <<EOF, openvpn --auth-user-pass":      {"cat > /tmp/vpn.auth <<EOF\nbob\nOrders-2024\nEOF\nopenvpn --config c.ovpn --auth-user-pass /tmp/vpn.auth", true},
		"cat <<'EOF' > FILE, sshpass -f":                  {"cat <<'EOF' > /tmp/p\nOrders-2024\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", true},
		"cat <<-EOF >FILE, rsync --password-file=":        {"cat <<-EOF >/tmp/r\n\tOrders-2024\n\tEOF\nrsync -a --password-file=/tmp/r /d rsync://bob@h/m", true},
		"tee FILE <<EOF, cryptsetup --key-file":           {"tee /tmp/k >/dev/null <<EOF\nOrders-2024\nEOF\ncryptsetup luksOpen /dev/sdb1 data --key-file /tmp/k", true},
		"echo USER > FILE; cat >> FILE <<EOF; openvpn":    {"echo bob > /tmp/vpn.auth\ncat >> /tmp/vpn.auth <<EOF\nOrders-2024\nEOF\nopenvpn --auth-user-pass /tmp/vpn.auth", true},
		"quoted delimiter keeps $ literal":                {"cat > /tmp/p <<'EOF'\nOrd$rs-2024\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", true},
		"cat > FILE <<EOF with $PW, openvpn":              {"cat > /tmp/vpn.auth <<EOF\nbob\n$VPN_PW\nEOF\nopenvpn --auth-user-pass /tmp/vpn.auth", false},
		"cat > FILE <<EOF with ${PW}, sshpass -f":         {"cat > /tmp/p <<EOF\n${SSH_PW}\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", false},
		"cat > FILE <<EOF with $(cat), sshpass -f":        {"cat > /tmp/p <<EOF\n$(cat /run/secrets/pw)\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", false},
		"cat > FILE <<EOF, USER only, openvpn prompts":    {"cat > /tmp/vpn.auth <<EOF\nbob\nEOF\nopenvpn --auth-user-pass /tmp/vpn.auth", false},
		"cat > FILE <<EOF, another program reads it":      {"cat > /tmp/list <<EOF\nbob\nOrders-2024\nEOF\nsort /tmp/list", false},
		"cat > FILE <<EOF, openvpn reads another file":    {"cat > /tmp/a <<EOF\nbob\nOrders-2024\nEOF\nopenvpn --auth-user-pass /tmp/b", false},
		"cat > FILE <<EOF, a <password> placeholder":      {"cat > /tmp/p <<'EOF'\n<password>\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", false},
		"ssh HOST 'cat > FILE' <<EOF writes another host": {"ssh db 'cat > /tmp/p' <<EOF\nOrders-2024\nEOF\nsshpass -f /tmp/p ssh bob@db uptime", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}

// TestHereDocumentWrittenFilesAreBounded: the lines of here-documents cat writes to files are
// kept as echo's writes are, at most maxWrittenFiles files of at most maxWrittenText bytes.
func TestHereDocumentWrittenFilesAreBounded(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "cat >> /tmp/f%d <<EOF\n", i%40)
		for j := range 100 {
			fmt.Fprintf(&b, "Orders-2024 %d\n", j)
		}
		b.WriteString("EOF\n")
	}
	b.WriteString("openvpn --auth-user-pass /tmp/f0\n")
	r := commandReader{flags: true}
	r.script(b.String())
	if len(r.written) > maxWrittenFiles {
		t.Errorf("kept %d files, want at most %d", len(r.written), maxWrittenFiles)
	}
	for file, text := range r.written {
		if len(text) > maxWrittenText {
			t.Errorf("kept %d bytes of %s, want at most %d", len(text), file, maxWrittenText)
		}
	}
}

// TestCredentialFlagsOfKnownProgramsInConfigMapText judges a ConfigMap's text that is not
// named as a script (textProgramPassword(text, false)): the long credential flag of a program
// whose short password option or arguments it already reads (docker login --password VALUE,
// oc login --password VALUE, as docker login -p VALUE) gives a password there too. Another
// program's --password VALUE, as a help text or a README writes it, stays none, and so do
// placeholders and the flags that prompt.
func TestCredentialFlagsOfKnownProgramsInConfigMapText(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"docker login --password VALUE":        {"docker login -u bob --password Orders-2024 registry.example.com", true},
		"oc login --password VALUE":            {"oc login -u admin --password Orders-2024 https://api.example.com:6443", true},
		"redis-cli --pass VALUE":               {"redis-cli -h cache --pass Orders-2024 ping", true},
		"a step among lines":                   {"set -e\ncd /work\ndocker login -u bob --password Orders-2024 r.example.com\ndocker push r.example.com/app", true},
		"README: oc login --password PASSWORD": {"# Usage\nLog in with oc login -u admin --password PASSWORD https://api.example.com:6443", false},
		"docker login --password <password>":   {"docker login -u bob --password <password> r.example.com", false},
		"docker login --password $PW":          {"docker login -u bob --password \"$REGISTRY_PW\" r.example.com", false},
		"mysql --password prompts":             {"mysql -u root --password orders", false},
		"psql --password prompts":              {"psql -U app --password orders", false},
		"another program's --password VALUE":   {"Run it as: myapp --password Orders-2024 --port 8080", false},
		"echo of a help text":                  {"echo usage: docker login --password Orders-2024", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := textProgramPassword(tc.text, false) != ""; got != tc.want {
				t.Errorf("textProgramPassword(%q, false) = %q, want a password %v", tc.text, textProgramPassword(tc.text, false), tc.want)
			}
		})
	}
}

// TestZooKeeperAndDb2CommandsOnInput judges the commands a ZooKeeper shell (zkCli.sh -server
// HOST, zookeeper-shell.sh HOST) or Db2's command line processor (db2 without a command) reads
// from its input: addauth digest USER:PASSWORD, connect to DB user USER using PASSWORD. Before,
// only their argv forms were read (TestToolCredentialsOfRound15), so these passed.
func TestZooKeeperAndDb2CommandsOnInput(t *testing.T) {
	tests := map[string]struct {
		script string
		want   bool
	}{
		"echo addauth ... | zkCli.sh -server":    {"echo 'addauth digest admin:Orders-2024' | zkCli.sh -server zk:2181", true},
		"zookeeper-shell.sh HOST <<EOF":          {"zookeeper-shell.sh zk:2181 <<EOF\naddauth digest admin:Orders-2024\nls /\nEOF", true},
		"printf ... | zkCli.sh":                  {"printf 'addauth digest admin:Orders-2024\\nls /\\n' | zkCli.sh", true},
		"db2 <<EOF connect ... using":            {"db2 -tv <<EOF\nconnect to SAMPLE user db2inst1 using Orders-2024;\nselect 1 from sysibm.sysdummy1;\nEOF", true},
		"echo connect ... | db2 +p":              {"echo 'CONNECT TO SAMPLE USER db2inst1 USING Orders-2024' | db2 +p", true},
		"zkCli.sh <<EOF with $PW":                {"zkCli.sh -server zk:2181 <<EOF\naddauth digest admin:$ZK_PW\nEOF", false},
		"zkCli.sh with a command reads no input": {"echo 'addauth digest admin:Orders-2024' | zkCli.sh -server zk:2181 ls /", false},
		"db2 <<EOF using ${PW}":                  {"db2 -tv <<EOF\nconnect to SAMPLE user db2inst1 using ${DB2_PW};\nEOF", false},
		"db2 <<EOF, connect without a user":      {"db2 -tv <<EOF\nconnect to SAMPLE;\nEOF", false},
		"db2 with a command reads no input":      {"echo 'connect to S user u using Orders-2024' | db2 list db directory", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			arg := strings.ReplaceAll(tc.script, "$", "$$")
			if got := argumentCredential(arg, nil, nil) != ""; got != tc.want {
				t.Errorf("argumentCredential(%q) found a credential: %v, want %v", arg, got, tc.want)
			}
			if got := keyCredential("init.sh", tc.script, false) != ""; got != tc.want {
				t.Errorf("keyCredential(init.sh, %q) found a credential: %v, want %v", tc.script, got, tc.want)
			}
		})
	}
}
