package checks

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

var secLiteralEnvCredentials = &engine.Check{
	ID:    "sec-literal-env-credentials",
	Title: "Containers do not carry literal credentials in env, arguments, probes or hooks",
	Description: "A password, token or key written into a pod template's env is stored in plain text in " +
		"the workload object, in Git and in every copy of the manifest, and is readable by anyone who " +
		"can read the workload: confidential information is neither identified nor protected (C1.1, " +
		"CC6.1). Each env var is read as gitleaks reads a .env file, NAME=value, with the default rules " +
		"of gitleaks " + secretrules.GitleaksVersion + " (key material, service tokens, and high-entropy " +
		"values under credential-like names); beyond those rules, a stricter SOC 2 rule flags any " +
		"literal value under a name that says it is a credential (PASSWORD, SECRET, TOKEN, API_KEY, " +
		"PRIVATE_KEY, ACCESS_KEY, CREDENTIALS, an auth, unseal, encrypt or gossip key, a key named for its cipher or " +
		"signature: FERNET_KEY, JWT_KEY, CSRF_KEY, AES_KEY, a session's signing key SESSION_KEY, Laravel's and Strapi's APP_KEY and APP_KEYS, a master, encryption or signing key in one word, MASTERKEY, " +
		"AUTHKEY (Tailscale's TS_AUTHKEY), " +
		"WordPress's keys and salts (WORDPRESS_AUTH_KEY, WORDPRESS_NONCE_SALT), a pre-shared key PSK, a word ending in PW such as LDAP_BINDPW, PAM's and SSSD's AUTHTOK, a personal access token PAT after a code host's or registry's word: GITHUB_PAT, GH_PAT, GITLAB_PAT, AZURE_DEVOPS_EXT_PAT, ADO_PAT, DOCKERHUB_PAT, not PATH nor PATTERN, a one-time password's seed: OTP_SEED, TOTP_SEED, MFA_SEED, TOTP_KEY, not RANDOM_SEED, ...) or that a program reads its secret from (sshpass's SSHPASS, " +
		"redis-cli's REDISCLI_AUTH, Neo4j's NEO4J_AUTH=USER/PASSWORD, the Erlang cookie RABBITMQ_ERLANG_COOKIE, the Azure CLI's AZURE_STORAGE_KEY, the Swift client's ST_KEY, Yarn's YARN_NPM_AUTH_IDENT), that holds USER:PASSWORD " +
		"(etcdctl's ETCDCTL_USER, a name ending in CREDS or CRED, CREDENTIALS abbreviated: DOCKER_CREDS, SMB_CREDS=USER%PASSWORD, and a name ending in AUTH, alone or after another word: AUTH, the Consul and Nomad CLIs' CONSUL_HTTP_AUTH " +
		"and NOMAD_HTTP_AUTH, Celery Flower's FLOWER_BASIC_AUTH; not a user alone, a switch, a method or a URL: " +
		"BASIC_AUTH=true, ETCDCTL_USER=root, nor a server, AUTH=auth-server:9000, CONSUL_HTTP_AUTH=localhost:8500) or that holds the gossip key of Consul's " +
		"and Nomad's agents (base64 of 16, 24 or 32 bytes under a name whose last word is ENCRYPT, CONSUL_ENCRYPT, " +
		"also as the encrypt setting of a configuration: CONSUL_LOCAL_CONFIG={\"encrypt\": ...}, as are its ACL tokens, " +
		"{\"acl\": {\"tokens\": {\"agent\": ...}}}; not a switch or " +
		"mode, SMTP_ENCRYPT=tls), and any value holding a URL with a literal " +
		"password (postgresql://user:password@host/db, and the DSN of Go's MySQL driver, " +
		"user:password@tcp(host)/db, and an Oracle JDBC URL, jdbc:oracle:thin:user/password@host), an incoming-webhook URL " +
		"that carries its token (DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/ID/TOKEN, Mattermost's /hooks/KEY, " +
		"Rocket.Chat's /hooks/ID/TOKEN, a Teams or Logic Apps workflow's signed URL, sig=, an Azure Functions URL's function key, ?code=KEY, the Telegram Bot API's /botID:TOKEN/ and IFTTT Webhooks' /with/key/KEY), and values that are configuration (a JSON " +
		"document or name=value lines, as SPRING_APPLICATION_JSON, or a connection string: " +
		"Server=db;Password=... or host=db password=..., or a name => value pair, as a one-line Logstash pipeline's password => \"...\") setting a credential-like name to a literal " +
		"value, an Oracle logon USER/PASSWORD@//host:port/service or USER/PASSWORD@ALIAS under a name that says it is a " +
		"database connection (ORACLE_CONNECTION, DB_CONNECT_STRING; not an image's repo/name@sha256:... digest) with a literal " +
		"password, Squid's configuration giving a parent proxy cache_peer ... login=USER:PASSWORD, Postfix's smtp_sasl_password_maps = static:USER:PASSWORD or inline:{ NEXTHOP=USER:PASSWORD }, tinyproxy's Upstream http USER:PASSWORD@HOST:PORT and Privoxy's forward-socks5 PATTERN USER:PASSWORD@HOST:PORT, a JAAS login module's users (Kafka's PlainLoginModule and ZooKeeper's DigestLoginModule: user_NAME=\"PASSWORD\", as sasl.jaas.config's value), or an Authorization header with literal credentials (git's GIT_CONFIG_VALUE_0=\"Authorization: Basic ...\", " +
		"and in the OpenTelemetry SDKs' header lists: OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic%20..., and Honeycomb's " +
		"x-honeycomb-team=KEY there, and in a list of headers as JSON or YAML name/value pairs or a headers map: " +
		"REQUEST_HEADERS=[{\"name\": \"Authorization\", \"value\": \"Bearer ...\"}]), also once its base64 or percent-encoded segments are decoded (DATABASE_URL_B64 holding " +
		"postgres://user:password@host/db encoded). A variable the kubelet takes from the pod's own annotation or label (valueFrom.fieldRef " +
		"metadata.annotations['KEY'] or metadata.labels['KEY']) is read as a literal: the pod template " +
		"writes its value. A $(VAR) " +
		"reference is expanded as the kubelet expands it when VAR is a " +
		"literal defined before it in the same container (a container whose references, expanded, would add more " +
		"than the workload's own text and 64 KiB, as chains of variables each referring many times to the one " +
		"before do, is NotAssessed unless what was read fails, and counts as failing: its author can refer to a literal credential " +
		"past the bound in a container that runs). Empty values, flags, file paths, placeholders " +
		"in angle brackets (<password>, <your-token>) or named for the variable (HF_TOKEN=HF_TOKEN, " +
		"GOOGLE_API_KEY=GOOGLE_API_KEY_VAL, API_KEY=YOUR_API_KEY; not a well-known default, password, changeme, " +
		"CHANGE_ME; not WordPress's put your unique phrase here, which it replaces), references " +
		"that a secret store's injector resolves (vault:, berglas://, sm://, op://), ERB tags (<%= ENV['DB_PASSWORD'] %>), Grafana's $__env{VAR} and $__file{PATH}, other $(VAR) " +
		"interpolations (not what is written beside one, Orders-2024$(UNSET), nor a placeholder's " +
		"default, ${DB_PASSWORD:-Orders-2024}), counts (a number under a plural word: MAX_TOKENS=4096), switches (\"0\", \"1\": " +
		"MYSQL_ALLOW_EMPTY_PASSWORD=1) and names such as " +
		"PASSWORD_FILE, SECRET_NAME, PASSWORD_POLICY, TOKEN_LIFETIME, API_KEY_PREFIX or PASSWORD_LABEL (names that point at a credential " +
		"or describe it, or a user interface's text about it), and such texts themselves (\"Enter your password\", " +
		"\"Forgot password?\"; not one word, Password) pass that rule. The same goes " +
		"for the container's command and args (after the kubelet's $(VAR) expansion, and in a shell's -c script after the shell's $NAME and ${NAME} expansion of the env's literal values), the exec commands " +
		"and HTTP requests of its probes and lifecycle hooks: an argument a gitleaks rule flags, that " +
		"holds a URL with a literal password or sets a credential-like name to a literal " +
		"(--db-password=..., PGPASSWORD=... in a shell script, and as a flag's value: kubectl's " +
		"--from-literal=password=..., helm's --set auth.user=a,auth.password=..., docker's -e DB_PASSWORD=...) " +
		"or is the value a credential flag takes " +
		"from the next argument (--password VALUE, in argv, where a flag at the command's end takes args' first, and in " +
		"a shell script, set -- --password VALUE too; not MySQL's or PostgreSQL's --password, which prompts, nor OpenSSL's -pass env:VAR) or a program's short password option (mysql -pVALUE, " +
		"mongosh -p VALUE, redis-cli -a VALUE, sshpass -p VALUE, a registry client's login -p VALUE (docker, podman, " +
		"helm registry login, oc login), skopeo's, podman's and buildah's --creds USER:VALUE (--src-creds, --dest-creds), sqlcmd -P VALUE, ldapsearch -w VALUE, cqlsh -p VALUE, mosquitto_pub -P VALUE, az login -p VALUE, " +
		"ssh-keygen -N VALUE, zip and unzip -P VALUE, 7z -pVALUE, ipmitool -P VALUE, cosign login -p VALUE, cypher-shell -p VALUE, twine -p VALUE, cargo login TOKEN, snyk auth TOKEN, netlify --auth TOKEN, consul agent -encrypt KEY and keyring -install KEY (the gossip key), a scanner's -Dsonar.login=TOKEN (without sonar.password) and -Dsonar.token=TOKEN, db2 connect to DB user USER using VALUE (also on db2's input, and in a file the script wrote that db2 -tvf FILE runs), a Percona Toolkit DSN's p=VALUE (h=db,u=root,p=VALUE) and pt- tools' -p VALUE, ZooKeeper's addauth digest USER:VALUE (also on zkCli.sh's input), poetry config pypi-token.REPO TOKEN and http-basic.REPO USER VALUE, MySQL Shell's and MySQL Router's USER:VALUE@HOST (mysqlsh --uri, mysqlrouter --bootstrap), ssh-keygen -P VALUE, racadm -p VALUE, vsql -w VALUE, hdbsql -p VALUE, mydumper and myloader -p VALUE, maxctrl -p VALUE, regctl registry login -p VALUE, dotnet nuget push -k KEY, doctl auth init -t TOKEN, codecov -t TOKEN, couchbase-cli -p VALUE, redis-benchmark and keydb-cli -a VALUE, mysqlsh, xtrabackup and mariabackup -pVALUE, Net-SNMP's -A and -X VALUE, mosquitto_passwd -b FILE USER VALUE, a user's password in smbclient -U USER%VALUE, etcdctl --user " +
		"USER:VALUE, etcdctl user add USER:VALUE, HTTPie's and xh's -a USER:VALUE, curl's -u, --user and -U, --proxy-user USER:VALUE (also in a cluster of options: curl -sSfu USER:VALUE, and in a config file the script wrote that curl -K FILE reads: user = \"USER:VALUE\"), lftp -u USER,VALUE, FreeRDP's /p:VALUE, rdesktop -p VALUE, nmcli's wifi connect SSID password VALUE and secret properties (wifi-sec.psk VALUE, 802-1x.password VALUE), wpa_passphrase SSID VALUE, consul acl set-agent-token TYPE TOKEN, a PostgreSQL client's connection string as its own argument (psql -h db 'password=VALUE'), an Expect script (expect -c or on its input) that answers a password prompt with a literal (expect \"Password:\"; send \"VALUE\\r\"), an ftp client's user USER VALUE on its input, SQL that sets a password on a here-string whatever reads it (mysqld --init-file=/dev/stdin <<< ...), ssh HOST COMMAND ARG... as the remote shell splits its words joined, vault login TOKEN, vault operator unseal KEY, influx -t TOKEN, neo4j-admin set-initial-password VALUE, mkpasswd VALUE, echo VALUE | elasticsearch-keystore add -x NAME, echo VALUE | kubectl create secret --from-file=password=/dev/stdin, and in a shell script redis-server --requirepass " +
		"VALUE) or a password a program takes as an argument or an option's value no name marks (htpasswd -b FILE USER VALUE, " +
		"mc alias set ALIAS URL ACCESSKEY VALUE, rabbitmqctl add_user USER VALUE, mysqladmin password VALUE, a credential-named " +
		"value a command sets (aws configure set aws_secret_access_key VALUE, npm, pnpm or yarn config set NAME VALUE, kubectl " +
		"config set users.NAME.token VALUE), redis-cli AUTH " +
		"VALUE, CONFIG SET requirepass VALUE (or masterauth) and ACL SETUSER USER >VALUE, the MongoDB shell's JavaScript " +
		"(mongosh --eval or its input: createUser's or updateUser's pwd: 'VALUE', changeUserPassword(USER, 'VALUE'), " +
		"auth(USER, 'VALUE'); not passwordPrompt() nor process.env.VAR), vault write and vault kv put KEY=VALUE under a " +
		"credential-like key (not KEY=@FILE), Oracle's logon USER/VALUE@DB (sqlplus, sql, expdp and impdp, exp and imp; also " +
		"USERID=, and SQL*Plus's CONNECT USER/VALUE on its input; not /nolog nor /), ldappasswd -s VALUE, elasticsearch-users -p VALUE, rabbitmqadmin -p VALUE, grafana-cli " +
		"admin reset-admin-password VALUE, mc admin user add ALIAS USER VALUE, kafka-configs --add-config " +
		"'SCRAM-SHA-512=[password=VALUE]' and kafka-storage format --add-scram, rclone config create NAME TYPE pass VALUE (or KEY=VALUE under a credential-like key), " +
		"influx setup and user create -p VALUE, a quoted JSON argument in a shell script " +
		"that sets a credential-like key to a literal (curl -d '{\"password\": \"VALUE\"}'), a literal a script writes into " +
		"a file whose name names a credential or that is a password file (echo VALUE > /config/db_password, echo VALUE | tee " +
		"FILE, cat > FILE <<EOF; echo HOST:PORT:DB:USER:VALUE > ~/.pgpass), useradd and usermod -p HASH (a crypt hash is judged as its password; not ! or *), openssl's -passin and -passout pass:VALUE, its keys (dgst -hmac KEY, enc -K HEX, s_client -psk HEX, mac -macopt " +
		"key:KEY) and openssl passwd VALUE, keytool's -storepass VALUE; not env:VAR, file:PATH, stdin, " +
		"-storepass:env VAR, nor the JDK trust store's published changeit) or on its input from echo or a " +
		"here-string or here-document (echo USER:VALUE | chpasswd, and through ssh: echo VALUE | ssh HOST 'sudo -S COMMAND', echo USER:VALUE | ssh HOST chpasswd, printf 'USER:%s' VALUE | chpasswd, chpasswd <<EOF, printf 'VALUE\\n' | " +
		"smbpasswd -s, echo VALUE | htpasswd -i, kinit, openssl -passin stdin or gpg --passphrase-fd 0, echo VALUE | docker login " +
		"--password-stdin, echo TOKEN | gh auth login --with-token, echo TOKEN | vault login -, echo -n VALUE | cryptsetup luksOpen DEVICE NAME, echo \"AUTH VALUE\" | redis-cli; " +
		"a here-document fed to a shell, written to a file or starting with #! is read as commands, any other, a help text, as data; " +
		"in a shell script, a command substitution that only prints literal text, $(echo VALUE), $(printf 'VALUE'), `echo VALUE`, is " +
		"that text (and echo VALUE | base64 -d in one, what it decodes to), and the commands of $(...), `...` and <(...) are " +
		"read as any other; not $(cat FILE) nor $(echo $VAR); a <(...) that only prints literal text given as a key or password file, cryptsetup --key-file=<(echo -n VALUE), wg set wg0 private-key <(echo KEY), --password-file <(echo VALUE), is a literal key; ssh HOST COMMAND ARG... runs its command as any other; bash's $'...' quoting is read as bash reads it), " +
		"or is an SQL statement that sets a literal password (IDENTIFIED BY 'VALUE', SET PASSWORD = 'VALUE', PostgreSQL's " +
		"and Cassandra's PASSWORD 'VALUE' (PostgreSQL's $$VALUE$$ and $tag$VALUE$tag$ too), SQL Server's WITH PASSWORD = 'VALUE'; a hash it gives too; not psql's :'var', " +
		"PASSWORD NULL or IDENTIFIED BY RANDOM PASSWORD) given to a database client as its option's value (mysql -e, psql -c, " +
		"sqlcmd -Q, cqlsh -e) or on its input (echo, a here-string or here-document; also a here-document written to a .sql file, or whose first statement is SQL whatever reads it), " +
		"and the command of a crontab line (after its schedule and a system crontab's user) echo or a here-document gives " +
		"crontab, read as a shell script's, or is an " +
		"Authorization header with literal " +
		"credentials (wget --header=\"Authorization: Basic ...\", git -c http.extraHeader=\"Authorization: ...\" and git config http.extraheader) or Honeycomb's API key header with a literal key (curl -H 'x-honeycomb-team: KEY'), and a literal Authorization or " +
		"credential-like header (X-Api-Key) or X-Honeycomb-Team header fail, and so does a command line a gitleaks rule flags " +
		"where no argument shows the credential alone (curl -u user:password, curl -H \"Authorization: ...\"). " +
		"The env kubectl's last-applied-configuration annotation holds (the manifest kubectl apply last applied, " +
		"which kubectl edit and kubectl set env leave as it was) is read as env is where the live pod template " +
		"does not hold it, and its command and args as the live ones are where they are not the live container's: " +
		"a credential taken out of the spec is still in the workload object, for anyone who " +
		"can read it, until the next kubectl apply. In the operator's reports (not scan's or the webhook's), of a workload whose literal env " +
		"values take more than 16 KiB, the long values that nothing else in the container reads are read for literal credentials up to 32 KiB " +
		"of them, in order, and only by their name past that: the check is NotAssessed for the workload, naming those values, " +
		"unless it finds a credential (the operator's informer reads them on each change of the workload, and text " +
		"a tenant chooses can cost it seconds a MiB). Likewise, in the operator's reports, of a workload whose command lines (command, args, " +
		"its probes' and hooks' commands and HTTP requests, a last-applied-configuration annotation it keeps) and literal env values take more than 2 KiB, " +
		"gitleaks' rules read them (the command lines with $(VAR) expanded, and the env values the operator keeps whole) only within 1 MiB of work " +
		"(a byte read once by each rule the text's keywords select; ordinary text takes 1 or 2 a byte), in order; what does not fit is read " +
		"by the other rules only (an env value by its name only), and the check is NotAssessed for the " +
		"container, naming it (args[0], env NOTES), unless it finds a credential (the operator reads them at each evaluation, " +
		"and text a tenant chooses can cost it seconds a MiB)." + supporting,
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
		x := workloadExpansion(o)
		// The webhook's caller may stop waiting: gitleaks' rules then stop reading, and the
		// check is cut short (engine.Context.Stopped).
		x.stop = ctx.Stopped
		// The env, command and args kubectl's last-applied-configuration annotation holds
		// that the live spec does not, by container, expanded within the annotation's own text.
		applied := map[string]engine.AppliedContainer{}
		var ax *expansion
		standIns, _ := o.Digest.(engine.EnvStandIns)
		removed := engine.StaleAppliedThrough(o.Obj, standIns)
		if len(removed) > 0 {
			// The same work as the live command lines' (x.work): the annotation is the
			// workload's own text too.
			ax = &expansion{left: expansionAllowance + len(o.Annotations()[corev1.LastAppliedConfigAnnotation]), work: x.work, stop: x.stop}
			for _, a := range removed {
				applied[a.Container] = a
			}
		}
		eachContainerRead(ctx, o, nil, func(c engine.Container) (string, string, bool) {
			x.over = false
			if ax != nil {
				ax.over = false
			}
			var found, unjudged []string
			// What gitleaks' rules do not read of the container's command lines, within the
			// workload's work (x.work; the operator's only): from here on in x.work.unread.
			unreadFrom := 0
			if x.work != nil {
				unreadFrom = len(x.work.unread)
			}
			// The values the kubelet gives the variables defined so far, where the pod
			// template holds them: a later $(NAME) expands to them.
			known := map[string]string{}
			// The literal values as the pod template writes them, which exec probes expand
			// (kubecontainer.ExpandContainerCommandOnlyStatic).
			static := map[string]string{}
			for i, e := range c.Env {
				if ctx.Stopped() {
					// Cut short (engine.Context.Stopped): what this says is dropped.
					return "", "", false
				}
				if why, ok := envStandInOf(o, c.Name, i); ok {
					// The operator's cache judged the value, which nothing else in the
					// container reads, and kept a stand-in (ReduceEnvValues).
					static[e.Name], known[e.Name] = e.Value, e.Value
					if why != "" {
						found = append(found, e.Name+" ("+why+")")
					} else if envUnjudged(o, c.Name, i) {
						unjudged = append(unjudged, e.Name)
					}
					continue
				}
				if e.ValueFrom != nil {
					delete(static, e.Name)
					v, from, ok := podMetadataValue(o.Workload.PodMeta, e.ValueFrom.FieldRef)
					if !ok {
						delete(known, e.Name)
						continue
					}
					known[e.Name] = v
					if why := envCredentialUntil(e.Name, v, x.stop); why != "" {
						found = append(found, e.Name+" ("+why+", from the pod's "+from+")")
					}
					continue
				}
				raw := e.Value
				static[e.Name] = raw
				e.Value = expandWithin(raw, known, x)
				known[e.Name] = e.Value
				if raw == "" {
					continue
				}
				// What the cache keeps whole (the container's command lines read it, or there
				// is little) is read at each evaluation: by gitleaks' rules within x.work, by
				// its name past it (as the cache reads the values it replaces, envJudgedBudget).
				why := envNameCredential(e.Name, e.Value)
				if why == "" && x.rulesRead(e.Name+"="+e.Value, "env "+e.Name, -1) {
					why = envCredentialUntil(e.Name, e.Value, x.stop)
				}
				if why != "" {
					found = append(found, e.Name+" ("+why+")")
				}
			}
			found = append(found, appliedEnvCredentials(applied[c.Name], ax)...)
			var parts []string
			if len(found) > 0 {
				parts = append(parts, "env "+few(found, ", "))
			}
			// The kubelet expands command and args with the container's environment
			// (kubecontainer.ExpandContainerCommandAndArgs), exec probes with its literal
			// values only, and runs lifecycle hooks' commands as they are written.
			found = commandLineCredentials(c.Command, c.Args, known, x)
			if a := applied[c.Name]; a.ArgvChanged {
				found = append(found, appliedArgvCredentials(a, found, ax)...)
			}
			for _, p := range []struct {
				name  string
				probe *corev1.Probe
			}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
				if p.probe != nil {
					found = append(found, handlerCredentials(p.name, p.probe.Exec, p.probe.HTTPGet, static, x)...)
				}
			}
			if l := c.Lifecycle; l != nil {
				if l.PostStart != nil {
					found = append(found, handlerCredentials("lifecycle.postStart", l.PostStart.Exec, l.PostStart.HTTPGet, nil, x)...)
				}
				if l.PreStop != nil {
					found = append(found, handlerCredentials("lifecycle.preStop", l.PreStop.Exec, l.PreStop.HTTPGet, nil, x)...)
				}
			}
			if len(found) > 0 {
				parts = append(parts, few(found, ", "))
			}
			if len(parts) == 0 {
				var unread []string
				if len(unjudged) > 0 {
					unread = append(unread, fmt.Sprintf("env %s not read for literal credentials: the operator reads at most %d KiB of a workload's long env values "+
						"that it keeps only as stand-ins (its informer cache), for the CPU they cost it on each change", few(unjudged, ", "), envJudgedBudget>>10))
				}
				if argv := x.unreadArgv(unreadFrom); len(argv) > 0 {
					unread = append(unread, argvUnread(argv))
				}
				if len(unread) > 0 {
					// Bounds on what the workload's author wrote (the operator's only):
					// unread, which fails closed in the reports.
					return "", strings.Join(unread, "; "), true
				}
				// Past the bound on what the workload's $(VAR) references add (expansion), in scan
				// as in the operator: a bound its author reaches on purpose (a literal password
				// referred to past it, in a container that runs), so unread, which fails closed.
				if why := ax.undecided(); why != "" && x.undecided() == "" {
					return "", "in kubectl's last-applied-configuration annotation, " + why, true
				}
				return "", x.undecided(), x.over
			}
			return "literal credentials in " + strings.Join(parts, "; "), "", false
		})
		// A container kubectl edit took out of the pod template is still in the annotation.
		var gone, unread, unreadArgv []string
		for _, a := range removed {
			if a.Live {
				continue
			}
			ax.over = false
			unreadFrom := 0
			if ax.work != nil {
				unreadFrom = len(ax.work.unread)
			}
			var parts []string
			if found := appliedEnvCredentials(a, ax); len(found) > 0 {
				parts = append(parts, "env "+few(found, ", "))
			}
			if found := appliedArgvCredentials(a, nil, ax); len(found) > 0 {
				parts = append(parts, few(found, ", "))
			}
			if len(parts) > 0 {
				gone = append(gone, fmt.Sprintf("container %s %s", a.Container, strings.Join(parts, "; ")))
			} else if ax.over {
				unread = append(unread, a.Container)
			} else if argv := ax.unreadArgv(unreadFrom); len(argv) > 0 {
				unreadArgv = append(unreadArgv, "container "+a.Container+" "+strings.Join(argv, ", "))
			}
		}
		switch {
		case len(gone) > 0:
			ctx.Fail("", "literal credentials in %s", few(gone, "; "))
		case len(unread) > 0:
			// Past the expansion bound, which the annotation's author reaches: unread.
			ctx.Unread("", fmt.Sprintf("containers %s, no longer in the pod template, are in kubectl's last-applied-configuration annotation: %s",
				few(unread, ", "), ax.undecided()))
		case len(unreadArgv) > 0:
			// Past the bound of gitleaks' work on the workload's command lines (the operator's
			// only): unread.
			ctx.Unread("", argvUnread(unreadArgv))
		}
	},
}

// envCredential says what literal credential the env entry name=value (its $(VAR) references
// expanded) holds: a literal under a credential-like name, one a gitleaks rule finds, a URL
// with a literal password, or configuration setting a credential; "" when none.
func envCredential(name, value string) string {
	return envCredentialUntil(name, value, nil)
}

// envCredentialUntil is envCredential for a judgement whose caller may stop waiting: gitleaks'
// rules read until stop (nil: never) says true (leakedSecretsPlainUntil), and what it says then
// is no verdict (engine.Context.Stopped drops it). The operator's cache (envJudged) never stops:
// what it remembers is always read whole.
func envCredentialUntil(name, value string, stop func() bool) string {
	// The name rule is cheap: gitleaks' rules run on what it does not flag.
	if why := envNameCredential(name, value); why != "" {
		return why
	}
	leaked, plain, _ := leakedSecretsPlainUntil(name, value, stop)
	if leaked != "" {
		return leaked
	} else if urlPassword(value) {
		return "password in a URL"
	} else if names := credentialSettings(value, maxSettingsNamed); len(names) > 0 {
		return "sets " + strings.Join(names, ", ")
	} else if authorizationArgument(value) {
		// GIT_CONFIG_VALUE_0="Authorization: Basic ...", the header git sends with every
		// request (GIT_CONFIG_KEY_0=http.extraheader), as an argument is judged.
		return "Authorization header"
	} else if why := headerListCredential(value); why != "" {
		return why
	} else if literalAuthorizationHeader(value) {
		// A list of headers as JSON or YAML name/value pairs, or a headers map
		// (REQUEST_HEADERS=[{"name": "Authorization", "value": "Bearer ..."}]), read as a
		// ConfigMap's text is.
		return "Authorization header"
	} else if honeycombTeamHeader(value) {
		return "Honeycomb API key header"
	} else if why := webhookURL(value); why != "" {
		return why
	} else if oracleLogonVariable(name, value) {
		return "Oracle logon with a password"
	} else if squidPeerLogin(value) {
		return "Squid cache_peer login gives a password"
	} else if postfixPasswordMaps(value) {
		return "Postfix SASL password table gives a password"
	} else if upstreamProxyLogin(value) {
		return "upstream proxy login gives a password"
	} else if opt := jaasUserPassword(value); opt != "" {
		return "JAAS login module's " + opt + " gives a password"
	} else if plain {
		// Nothing in value decodes: encodedCredential would find nothing.
		return ""
	}
	return encodedCredential(value)
}

// envNameCredential is envCredential's first rule, which its name decides and which is cheap: a
// literal under a credential-like name; "" when it is not.
func envNameCredential(name, value string) string {
	if credentialName(name) && credentialValue(name, value) {
		if gossipKeyName(name) {
			return "gossip encryption key"
		}
		return "credential-like name"
	}
	return ""
}

// oracleConnectionWords are the name parts that say a variable holds a database connection:
// ORACLE_CONNECTION, DB_CONNECT_STRING, SQLPLUS_LOGON, TNS_DSN.
var oracleConnectionWords = map[string]bool{"ORACLE": true, "CONN": true, "CONNECT": true, "CONNECTION": true,
	"CONNSTR": true, "DSN": true, "LOGON": true, "USERID": true, "TNS": true, "SQLPLUS": true}

// oracleLogonVariable reports whether value, set for a variable whose name says it holds a
// database connection (oracleConnectionWords), is Oracle's logon USER/PASSWORD@IDENTIFIER with
// a literal password, as SQL*Plus, SQLcl, expdp and cx_Oracle take it: USER an unquoted Oracle
// name (a letter, then letters, digits, _, $ and #), PASSWORD without / or @, IDENTIFIER an Easy
// Connect string (//host:port/service, host:port/service) or a net service name (ORCL). An
// image reference with a digest (repo/name@sha256:...) or a module path with a version
// (github.com/a/b@v1) is none.
func oracleLogonVariable(name, value string) bool {
	if !strings.Contains(value, "/") || !strings.Contains(value, "@") {
		return false
	}
	named := false
	for _, p := range nameParts(name) {
		named = named || oracleConnectionWords[p]
	}
	if !named {
		return false
	}
	user, rest, _ := strings.Cut(strings.TrimSpace(value), "/")
	pw, id, ok := strings.Cut(rest, "@")
	if !ok || user == "" || pw == "" || id == "" || strings.ContainsAny(pw, "/") {
		return false
	}
	for i := 0; i < len(user); i++ {
		c := user[i]
		if !(isASCIIAlnum(c) && (i > 0 || !('0' <= c && c <= '9')) || i > 0 && strings.IndexByte("_$#", c) >= 0) {
			return false
		}
	}
	id = strings.TrimPrefix(id, "//")
	host, service, _ := strings.Cut(id, "/")
	if h, port, ok := strings.Cut(host, ":"); ok {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			// sha256:4b5c...: a digest, not a port.
			return false
		}
		host = h
	}
	if host == "" || strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789.-_") != "" ||
		strings.ContainsAny(service, "@/ ") {
		return false
	}
	return !shellExpansion(pw) && credentialValue("password", pw)
}

// headerListCredential says what literal credential a list of HTTP headers as the OpenTelemetry
// SDKs read OTEL_EXPORTER_OTLP_HEADERS (and its _TRACES_, _METRICS_ and _LOGS_ forms) holds:
// key=value pairs joined by commas, each value percent-encoded ("Authorization=Basic%20...").
// An Authorization or Proxy-Authorization header with literal credentials is one
// (authorizationArgument), and so is Honeycomb's API key header, x-honeycomb-team, with a
// literal value; "" when none is.
func headerListCredential(value string) string {
	if !strings.Contains(value, "=") {
		return ""
	}
	for item := range strings.SplitSeq(value, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
		switch {
		case strings.EqualFold(k, "authorization") || strings.EqualFold(k, "proxy-authorization"):
			if authorizationArgument(k + ": " + v) {
				return "Authorization header"
			}
		case strings.EqualFold(k, "x-honeycomb-team"):
			if !shellExpansion(v) && credentialValue("token", v) {
				return "sets " + k
			}
		}
	}
	return ""
}

// podMetadataValue is the value the kubelet gives a variable from the pod's own annotation or
// label (valueFrom.fieldRef metadata.annotations['KEY'] or metadata.labels['KEY'];
// pkg/fieldpath ExtractFieldPathAsString, k8s v1.37.2: "" when the pod has none of the key),
// and which one it is ("annotation KEY"); false for any other reference, or when meta, the pod
// template's metadata or the Pod's, is not known. The pod's annotations and labels are its
// template's: a value taken from them is written in the workload as a literal is.
func podMetadataValue(meta *metav1.ObjectMeta, ref *corev1.ObjectFieldSelector) (string, string, bool) {
	if meta == nil || ref == nil || !strings.HasSuffix(ref.FieldPath, "']") {
		return "", "", false
	}
	// SplitMaybeSubscriptedPath: the path, then ['KEY'].
	path, key, ok := strings.Cut(strings.TrimSuffix(ref.FieldPath, "']"), "['")
	if !ok || path == "" {
		return "", "", false
	}
	switch path {
	case "metadata.annotations":
		return meta.Annotations[key], "annotation " + key, true
	case "metadata.labels":
		return meta.Labels[key], "label " + key, true
	}
	return "", "", false
}

// appliedEnvCredentials describes the entries of a container's env in kubectl's
// last-applied-configuration annotation that the live container does not hold (a.Removed) and
// that hold a literal credential, each expanded with the literals before it in the annotation,
// as the kubelet would have: "DB_PASSWORD in kubectl's last-applied-configuration annotation
// (credential-like name)".
func appliedEnvCredentials(a engine.AppliedContainer, x *expansion) []string {
	if len(a.Removed) == 0 {
		return nil
	}
	known := map[string]string{}
	var found []string
	r := 0
	for i, e := range a.Env {
		if e.ValueFrom != nil {
			delete(known, e.Name)
			continue
		}
		v := expandWithin(e.Value, known, x)
		known[e.Name] = v
		if r < len(a.Removed) && a.Removed[r] == i {
			r++
			// Read by gitleaks' rules within x.work, as the live values are.
			why := envNameCredential(e.Name, v)
			if why == "" && x.rulesRead(e.Name+"="+v, "env "+e.Name+" in kubectl's last-applied-configuration annotation", -1) {
				why = envCredentialUntil(e.Name, v, x.stopper())
			}
			if why != "" {
				found = append(found, e.Name+" in kubectl's last-applied-configuration annotation ("+why+")")
			}
		}
	}
	return found
}

// appliedArgvCredentials describes the literal credentials of a container's command and args
// as kubectl's last-applied-configuration annotation holds them (a.ArgvChanged: they are not
// the live container's), judged as the live ones are, with the annotation's env as the
// kubelet would have expanded them: "args[0] in kubectl's last-applied-configuration
// annotation (sets --db-password)". What the live command line shows as well (live, the live
// container's findings) is not named twice.
func appliedArgvCredentials(a engine.AppliedContainer, live []string, x *expansion) []string {
	if !a.ArgvChanged {
		return nil
	}
	known := map[string]string{}
	for _, e := range a.Env {
		if e.ValueFrom != nil {
			delete(known, e.Name)
			continue
		}
		known[e.Name] = expandWithin(e.Value, known, x)
	}
	from := 0
	if x != nil && x.work != nil {
		from = len(x.work.unread)
	}
	found := commandLineCredentials(a.Command, a.Args, known, x)
	if x != nil && x.work != nil {
		for i := from; i < len(x.work.unread); i++ {
			x.work.unread[i] += " in kubectl's last-applied-configuration annotation"
		}
	}
	var out []string
	for _, f := range found {
		if slices.Contains(live, f) {
			continue
		}
		at, why, _ := strings.Cut(f, " (")
		out = append(out, at+" in kubectl's last-applied-configuration annotation ("+why)
	}
	return out
}

// commandLineCredentials describes the literal credentials of a container's command line once
// the kubelet has expanded it with known: each argument of command and args that carries one
// (argumentCredentials), else the command line as a whole (commandLineCredential), and a
// program's password option (argvProgramPassword). The live container's and the one in kubectl's
// last-applied-configuration annotation (appliedArgvCredentials) are judged alike.
func commandLineCredentials(command, args []string, known map[string]string, x *expansion) []string {
	// The kubelet runs command and args as one argv: a flag at command's end takes its value
	// from args' first argument.
	prog, last := "", ""
	if len(command) > 0 {
		prog, last = path.Base(command[0]), command[len(command)-1]
	}
	found := argumentCredentials("command", command, "", prog, known, x)
	found = append(found, argumentCredentials("args", args, last, prog, known, x)...)
	argv := slices.Concat(command, args)
	if len(found) == 0 {
		if leaked := commandLineCredential("command and args", argv, known, x); leaked != "" {
			found = append(found, "command and args ("+leaked+")")
		}
	}
	if why := argvProgramPassword("command", "args", argv, len(command), known, x); why != "" {
		found = append(found, why)
	}
	return found
}

// shellParameter matches a shell parameter expansion without braces: $NAME, or a positional or
// special parameter ($1, $@).
var shellParameter = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])`) })

// shellParameterAt is shellParameter anchored at the start of the text: it reads only the
// parameter there, if any. Unanchored, a search from each '$' that starts none ($(, $') read on
// to the next parameter or the end: a script of 1 MB of "$(c) " took 5 minutes
// (rewriteParameters).
var shellParameterAt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])`) })

// argumentCredentials describes each argument of a command line (at where) that carries a
// literal credential once the kubelet has expanded it with known (argumentCredential), or is
// the value a credential flag before it takes (--password VALUE; the argument before args is
// before, "" when none), unless the program prog (the base name of argv's first, "" when not
// known) reads no value there (separateFlagValue).
func argumentCredentials(where string, args []string, before, prog string, known map[string]string, x *expansion) []string {
	var found []string
	for i, a := range args {
		if stop := x.stopper(); stop != nil && stop() {
			// Cut short (engine.Context.Stopped): what this says is dropped.
			return found
		}
		prev := before
		if i > 0 {
			prev = args[i-1]
		}
		if shellPrograms[prog] && shellScriptOption(prev) {
			// sh -c SCRIPT: the shell expands $NAME with the container's environment.
			a = environmentParameters(a, known)
		}
		// Formatted only for an argument that carries one: this runs for every argument of
		// every container.
		if why := argumentCredentialAt(a, known, x, where, i); why != "" {
			found = append(found, fmt.Sprintf("%s[%d] (%s)", where, i, why))
		} else if prev != "" && credentialFlag(prev) && separateFlagValue(prog, prev) && flagValue(prev, a, known, x) {
			found = append(found, fmt.Sprintf("%s[%d] (follows %s)", where, i, prev))
		}
	}
	return found
}

// shellScriptOption reports whether w is a shell's option that takes the script to run as the
// next argument: -c, or an option cluster ending in c (-ec, -lc).
func shellScriptOption(w string) bool {
	return w == "-c" || len(w) > 2 && w[0] == '-' && w[1] != '-' && w[len(w)-1] == 'c' && strings.Trim(w[1:], "abefhiklmnprstuvxBCEHPTc") == ""
}

// commandLineCredential names the gitleaks rules that find a credential in a command line
// (argv expanded with known, joined by spaces, an argument holding blank space quoted) that no
// argument shows alone: curl-auth-user finds the user:password that curl -u takes from the
// argument after it, curl-auth-header the header -H does. "" when they find none.
func commandLineCredential(where string, argv []string, known map[string]string, x *expansion) string {
	if len(argv) < 2 {
		return ""
	}
	var b strings.Builder
	for i, a := range argv {
		a = expandWithin(a, known, x)
		if i > 0 {
			b.WriteByte(' ')
		}
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		b.WriteString(a)
	}
	// Without gitleaks' decoding: an encoded segment does not span arguments, and each
	// argument's were decoded on their own (argumentCredential).
	rules, err := secretrules.Default()
	if err != nil || !x.rulesRead(b.String(), where, -1) {
		return ""
	}
	found, _ := rules.FindUntil(b.String(), x.stopper())
	return gitleaksRules(found)
}

// switchWords begin flags that switch something about a credential and take no value
// (--no-password, --ask-password).
var switchWords = map[string]bool{"NO": true, "ASK": true, "PROMPT": true, "SKIP": true, "USE": true,
	"REQUIRE": true, "ENABLE": true, "DISABLE": true, "ALLOW": true, "GENERATE": true}

// credentialFlag reports whether an argument is a flag whose name ends in a credential word and
// that takes its value from the next argument (--password VALUE, -token VALUE: getopt_long,
// Go's flag package, pflag and argparse accept it as --password=VALUE).
func credentialFlag(a string) bool {
	if !strings.HasPrefix(a, "-") || strings.ContainsAny(a, "= \t") {
		return false
	}
	name := strings.TrimLeft(a, "-")
	if !credentialSettingName(name) || bareAuthName(name) {
		// -auth VALUE is each program's own option (jenkins-cli's USER:TOKEN is
		// programPasswordReaders'): a bare AUTH is a variable's or a setting's name only
		// (userPasswordName).
		return false
	}
	return !switchWords[nameParts(name)[0]]
}

// flagValue reports whether the argument a after the credential flag flag is a literal
// credential once the kubelet has expanded it with known: not another flag, an interpolation,
// a shell parameter or a placeholder named for the flag (--api-key YOUR_API_KEY, as
// API_KEY=YOUR_API_KEY is one in env).
func flagValue(flag, a string, known map[string]string, x *expansion) bool {
	v := expandWithin(a, known, x)
	return !strings.HasPrefix(v, "-") && !shellExpansion(v) && credentialValue(strings.TrimLeft(flag, "-"), v)
}

// argumentCredential says what literal credential an argument carries once the kubelet has
// expanded it with known: one a gitleaks rule finds, a URL with a literal password, or a
// setting (--db-password=..., PGPASSWORD=... in a shell script) whose name ends in a
// credential word and whose value is literal; "" when it carries none.
func argumentCredential(a string, known map[string]string, x *expansion) string {
	return argumentCredentialAt(a, known, x, "argument", -1)
}

// argumentCredentialAt is argumentCredential for the argument at where (where[i] when i >= 0),
// which gitleaks' rules read within x's work (rulesRead); the other rules read it whatever it
// is: they read it a few times over (BenchmarkArgumentCredentialRulesWorstCase), the
// regexes of the rules its keywords select once each.
func argumentCredentialAt(a string, known map[string]string, x *expansion, where string, i int) string {
	a = expandWithin(a, known, x)
	// Shell parameters ($POSTGRES_PASSWORD, "$1"; not in single quotes) and `command`
	// substitutions are no literals: a shell that runs the argument as a script expands
	// them (bracedParameters). A substitution
	// that only prints literal text ($(echo VALUE)) is that text (literalSubstitutions).
	script := literalSubstitutions(a)
	// X=VALUE; mysql -p$X: a variable the script sets to literal text is that text.
	script = bracedParameters(environmentParameters(script, scriptAssignments(script)))
	if strings.Contains(script, "`") {
		// `command` is $(command): the commands in it are read (substitutedCommands), and
		// one nothing closes is $(, text.
		var b strings.Builder
		for i, part := range strings.Split(script, "`") {
			switch {
			case i == 0:
			case i%2 == 1:
				b.WriteString("$(")
			default:
				b.WriteString(")")
			}
			b.WriteString(part)
		}
		script = b.String()
	}
	if !x.rulesRead(a, where, i) {
		// Not read by gitleaks' rules (x.work): the others still are.
	} else if leaked, _, _ := leakedInTextPlain(a, x.stopper()); leaked != "" {
		return leaked
	}
	if urlPassword(script) {
		return "password in a URL"
	} else if names := credentialSettings(script, maxSettingsNamed); len(names) > 0 {
		return "sets " + strings.Join(names, ", ")
	} else if why := scriptProgramPassword(script); why != "" {
		return why
	} else if authorizationArgument(script) {
		return "Authorization header"
	} else if honeycombTeamHeader(script) {
		return "Honeycomb API key header"
	}
	return ""
}

// authorizationArgument reports whether an argument is an HTTP Authorization or
// Proxy-Authorization header with literal credentials, alone or as a header option's value
// (wget --header=..., http's and curl's -H, git's -c http.extraHeader=...): "Authorization:
// Basic dXNlcjpwYXNz", as the probes' headers are judged. gitleaks' curl-auth-header finds it after curl only.
func authorizationArgument(a string) bool {
	for _, opt := range []string{"--header=", "-H"} {
		a = strings.TrimPrefix(a, opt)
	}
	// git -c http.extraHeader="Authorization: ..." (or http.<url>.extraheader, any case): the
	// header git sends with every request.
	if eq := strings.IndexByte(a, '='); eq > 0 && strings.HasSuffix(strings.ToLower(a[:eq]), ".extraheader") {
		a = a[eq+1:]
	}
	name, value, ok := strings.Cut(a, ":")
	if !ok {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "authorization", "proxy-authorization":
		v := strings.TrimSpace(value)
		return !shellExpansion(v) && literalCredential(authorizationCredentials(v))
	}
	return false
}

// argvProgramPassword describes the argument of argv (expanded with known) that gives a
// program's short password option a literal password (programPassword: mysql -pVALUE,
// redis-cli -a VALUE), named by index, in command when it is one of argv's first split and in
// args after them; "" when none does.
func argvProgramPassword(command, args string, argv []string, split int, known map[string]string, x *expansion) string {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = expandWithin(a, known, x)
	}
	i, why := programPassword(words)
	switch {
	case i < 0:
		return ""
	case i < split:
		return fmt.Sprintf("%s[%d] (%s)", command, i, why)
	}
	return fmt.Sprintf("%s[%d] (%s)", args, i-split, why)
}

// handlerCredentials describes the literal credentials of a probe's or lifecycle hook's exec
// command (expanded with known) and HTTP request: its path, and its headers, where an
// Authorization or Proxy-Authorization header (RFC 9110 section 11) or one whose name looks
// like a credential (X-Api-Key, X-Auth-Token), or Honeycomb's API key header (X-Honeycomb-Team),
// with a literal value is one. The kubelet sends
// the headers as they are written (pkg/probe/http/request.go).
func handlerCredentials(where string, exec *corev1.ExecAction, get *corev1.HTTPGetAction, known map[string]string, x *expansion) []string {
	var found []string
	if exec != nil {
		prog := ""
		if len(exec.Command) > 0 {
			prog = path.Base(exec.Command[0])
		}
		args := argumentCredentials(where+".exec.command", exec.Command, "", prog, known, x)
		if len(args) == 0 {
			if leaked := commandLineCredential(where+".exec.command", exec.Command, known, x); leaked != "" {
				args = append(args, where+".exec.command ("+leaked+")")
			}
		}
		found = append(found, args...)
		if why := argvProgramPassword(where+".exec.command", "", exec.Command, len(exec.Command), known, x); why != "" {
			found = append(found, why)
		}
	}
	if get == nil {
		return found
	}
	if why := argumentCredentialAt(get.Path, nil, x, where+".httpGet.path", -1); why != "" {
		found = append(found, where+".httpGet.path ("+why+")")
	}
	for _, h := range get.HTTPHeaders {
		at := where + " header " + h.Name
		switch name := strings.ToLower(h.Name); {
		case (name == "authorization" || name == "proxy-authorization") && literalCredential(authorizationCredentials(h.Value)):
			found = append(found, at)
		case credentialName(h.Name) && credentialValue(h.Name, h.Value):
			found = append(found, at+" (credential-like name)")
		case name == "x-honeycomb-team" && !shellExpansion(h.Value) && !strings.ContainsAny(h.Value, "<>{}") && credentialValue("token", h.Value):
			found = append(found, at+" (Honeycomb API key header)")
		default:
			if !x.rulesRead(h.Name+"="+h.Value, at, -1) {
				continue
			}
			if leaked, _, _ := leakedSecretsPlainUntil(h.Name, h.Value, x.stopper()); leaked != "" {
				found = append(found, at+" ("+leaked+")")
			}
		}
	}
	return found
}

// authorizationCredentials is what follows the scheme of an Authorization header's value
// ("Bearer abc" gives abc), or the whole value when it has no scheme.
func authorizationCredentials(value string) string {
	if _, rest, ok := strings.Cut(strings.TrimSpace(value), " "); ok {
		return rest
	}
	return value
}

// argvCredentialWork bounds the work (textWork: a byte read once by one rule) of gitleaks'
// rules on the command lines of one workload in the operator's evaluation of a workload its
// cache marked (ReduceEnvValues: command lines over argvBoundedFrom bytes), which runs at each
// evaluation of its namespace, with nothing remembered: on text a tenant chooses (gitleaks'
// keywords, each followed by a token, so that every rule's regex runs over all of it, 218 units
// a byte) they cost about 5 to 13 us a byte, 0.7 to 1.8 s for one argument of 140 KB and 7 to
// 20 s for 1.4 MB (BenchmarkCommandLineCredentialsWorstCase), where ordinary text takes 1 or 2
// units a byte and the command lines of ../shared/corpus 14,126 at most
// (TestCorpusCommandLinesAreReadWhole). What does not fit is read by the other rules only, and
// the check is NotAssessed naming it unless it finds a credential; the bound is the same at each
// evaluation, so a restart gives the same report. scan and the webhook's request read
// everything.
const argvCredentialWork = 1 << 20

// argvWork is argvCredentialWork (tests lower it).
var argvWork = argvCredentialWork

// argvUnread is why what gitleaks' rules did not read of a workload's command lines
// (rulesRead), named in unread, leaves the check undecided.
func argvUnread(unread []string) string {
	return fmt.Sprintf("%s not read by gitleaks' rules: the operator reads a workload's command lines (command, args, probes' and hooks' commands) "+
		"and the env values it keeps whole with them only within a bound of their work (%d MiB of text read by each rule its keywords select), "+
		"for the CPU they cost it at each evaluation",
		few(unread, ", "), argvCredentialWork>>20)
}
