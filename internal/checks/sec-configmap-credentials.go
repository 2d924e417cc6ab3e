package checks

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"index/suffixarray"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

// maxSettingsNamed bounds the settings named for one ConfigMap key.
const maxSettingsNamed = 3

var secConfigmapCredentials = &engine.Check{
	ID:    "sec-configmap-credentials",
	Title: "ConfigMaps hold no credentials",
	Description: "ConfigMaps are not confidential: they are readable by far more subjects than Secrets " +
		"(the view role, every pod that mounts them) and are never encrypted at rest. A credential " +
		"in a ConfigMap is confidential information left unprotected (C1.1, CC6.1). Each key is read " +
		"as key=value with the default rules of gitleaks " + secretrules.GitleaksVersion + " (key " +
		"material, service tokens, high-entropy values under credential-like names, also inside " +
		"configuration files); beyond those rules, stricter SOC 2 rules flag keys whose name looks " +
		"like a credential with a literal value (a script about one, configure_secret.sh, is not; nor is a " +
		"placeholder named for the key, API_KEY: YOUR_API_KEY, nor WordPress's put your unique phrase here, though a well-known default, password or changeme, is; " +
		"nor a user interface's text about one, PASSWORD_LABEL or \"password\": \"Enter your password\", nor a " +
		"hexadecimal checksum under a name with the word checksum, as Helm's checksum/secret annotation, which " +
		"gitleaks' generic-api-key finds; a hash of a credential, PASSWORD_HASH, is judged as the credential), and " +
		"configuration files whose settings end in a " +
		"credential word (db.password, client_secret, apiKey, github_pat (PAT, a personal access token, after a code host's or registry's word: GITHUB_PAT, GH_PAT, AZURE_DEVOPS_EXT_PAT; not PATH nor PATTERN), totp_seed (SEED after OTP, TOTP, HOTP or MFA: a one-time password's seed; not random_seed), smbCreds (CREDS and CRED, CREDENTIALS abbreviated, as the last word, for a value USER:PASSWORD or USER%PASSWORD only), a key named as the text file it is mounted as, admin_pass.txt or psk.txt, judged by its name less .txt, SSSD's ldap_default_authtok, a YAML key: directly under api:, the Datadog exporter's api.key; and Yarn's npmAuthIdent, USER:PASSWORD or its base64) with a literal value, or that hold USER:PASSWORD under a " +
		"name ending in AUTH, alone or after another word (AUTH, CONSUL_HTTP_AUTH, FLOWER_BASIC_AUTH; not a server, CONSUL_HTTP_AUTH=localhost:8500) or etcdctl's ETCDCTL_USER, or that are a Consul or Nomad " +
		"agent's encrypt holding a gossip key (base64 of 16, 24 or 32 bytes; not encrypt = true), or a Consul agent's ACL " +
		"tokens (acl { tokens { initial_management = ..., agent = ... } }, in HCL, JSON or YAML; a setting that opens an " +
		"object, \"secrets\": {, is judged by what the object holds) (an ERB tag, Rails' password: <%= ENV['DB_PASSWORD'] %>, and Grafana's $__env{VAR} and $__file{PATH} are no " +
		"literal; one written beside an " +
		"interpolation, ${SUFFIX}Orders-2024, or as a placeholder's default, Spring's " +
		"${DB_PASSWORD:Orders-2024} or a shell's ${DB_PASSWORD:-Orders-2024}, is one), at the start of a " +
		"line (a key named *.properties read as java.util.Properties reads it: db.password VALUE, " +
		"db.password:VALUE, a line continued with a backslash, \\uXXXX escapes in the key; a YAML " +
		"value on the line after its key; a name of more than one word, or of one ending in PW, a blank and one value, as " +
		"keepalived's auth_pass VALUE, Fluent Bit's HTTP_Passwd VALUE and ldap.conf's and slapd's BINDPW and rootpw VALUE, nginx's proxy_pass aside, and " +
		"inside a Fluentd directive any name, password VALUE) or inside it (a connection string's Password=, a URL's ?password=, a name => value pair, as a one-line Logstash pipeline's { elasticsearch { password => \"VALUE\" } } or PHP's array('password' => 'VALUE'), an XML <password> " +
		"element or password attribute (an Artemis masked password, ENC(HEX), is judged as the password: its default codec's key is public), a Hadoop configuration <property> whose <name> says " +
		"it is a credential and whose <value> is a literal, a --password= in a script), scripts that give a program's short " +
		"password option a literal, or its long credential flag in any text (mysql -pVALUE, redis-cli -a VALUE, docker login -p VALUE or --password VALUE, sqlcmd -P VALUE, " +
		"ldapsearch -w VALUE, cqlsh -p VALUE, mosquitto_pub -P VALUE, ssh-keygen -N VALUE, zip -P VALUE, 7z -pVALUE, " +
		"smbclient -U USER%VALUE, etcdctl --user USER:VALUE, etcdctl user add USER:VALUE, HTTPie's and xh's -a USER:VALUE, FreeRDP's /p:VALUE, rdesktop -p VALUE, nmcli's wifi connect SSID password VALUE and secret properties (wifi-sec.psk VALUE), wpa_passphrase SSID VALUE, consul acl set-agent-token TYPE TOKEN, db2's CONNECT TO DB USER USER USING VALUE (also in a file the script wrote that db2 -tvf FILE runs), curl's configuration (a key named .curlrc, or a file the script wrote that curl -K FILE reads: user = \"USER:VALUE\", proxy-user, oauth2-bearer, pass), HAProxy's user NAME insecure-password VALUE and stats auth USER:VALUE, Squid's cache_peer HOST parent PORT 0 login=USER:VALUE (and login=*:VALUE; not PASSTHRU, PASS, PROXYPASS nor NEGOTIATE), an upstream proxy's USER:VALUE@HOST:PORT (tinyproxy's Upstream http ..., Privoxy's forward-socks5 PATTERN ...), the user files of Jetty, ActiveMQ, Artemis and Karaf (a key named realm.properties, jetty-realm.properties, users.properties or artemis-users.properties: USER: VALUE, ROLE or USER=VALUE; Jetty's OBF:, MD5: and CRYPT: forms too; not Artemis' ENC(...)), Postfix's SASL password table given inline (smtp_sasl_password_maps = static:USER:VALUE or inline:{ NEXTHOP=USER:VALUE }, also in postconf -e; not hash:FILE), an ODBC data source's PWD = VALUE (a key named odbc.ini), Cntlm's Password VALUE (a key named cntlm.conf or cntlm.ini) and its password hashes PassLM, PassNT and PassNTLMv2 (NTLM logs in with them as with the password), a Dovecot passwd-file entry in a plain scheme (USER:{PLAIN}VALUE, {CLEARTEXT}, {PLAIN.b64}; not a hashed scheme such as {SHA512-CRYPT}), an NTP symmetric key (a key named ntp.keys, chrony.keys or keys: ID TYPE KEY, chrony's ID HEX:KEY), a JAAS login module's users (Kafka's PlainLoginModule and ZooKeeper's DigestLoginModule: user_NAME=\"VALUE\", in a JAAS file or sasl.jaas.config), FreeRADIUS's users file check items Cleartext-Password, User-Password, Password.Cleartext and NT-Password := VALUE, Net-SNMP's createUser USER SHA VALUE [AES VALUE] and its community strings (rocommunity VALUE, rwcommunity VALUE, their IPv6 forms, com2sec NAME SOURCE VALUE, trapcommunity VALUE; public and private too, as any well-known default), NUT's upsmon.conf MONITOR UPS@HOST 1 USER VALUE primary, ProFTPD's SQLConnectInfo DB@HOST USER VALUE, a MongoDB keyfile under any key name (the whole value 756 to 1024 base64 characters decoding to random bytes; not a certificate, compressed data nor an AWS KMS ciphertext), the TSIG secret of an ISC key statement under any key name (key NAME { algorithm ALG; secret \"BASE64\"; }; as BIND's named.conf, rndc.key and nsupdate's key files and ISC DHCP's dhcpd.conf write it, quoted or not: an rndc key controls the name server, a transfer or update key copies or rewrites its zones; not a key named in keys { ... } or a zone, nor a secret a template or ${VAR} fills in), tac_plus's TACACS+ shared secret (key = VALUE or key = \"VALUE\" at top level or in a host block of tac_plus.conf, or in a host or device block of tac_plus-ng, in text whose name or words say tac_plus or TACACS or that has tac_plus's accounting file or default service directives; not a commented-out key, a path, nor a key a template or ${VAR} fills in), Apache Pulsar's token authentication parameters given inline (authParams=token:VALUE in a client's client.conf, brokerClientAuthenticationParameters=token:VALUE in broker.conf, proxy.conf or, NAME: token:VALUE, the function worker's YAML), whatever the token looks like; not file:///PATH, a commented-out line, nor a token a template or ${VAR} fills in), Dovecot's static passdb given a literal password (passdb { driver = static; args = password=VALUE } or passdb static { args = password=VALUE }: every user logs in with it; not nopassword=y, a %{...} variable, nor a password a template or ${VAR} fills in), Honeycomb's API key header (x-honeycomb-team: KEY in a collector's headers or as curl -H 'x-honeycomb-team: KEY' in a script or a name/value pair as Envoy's key: x-honeycomb-team with value: KEY or TOML's name = \"x-honeycomb-team\" with value = \"KEY\"; not ${env:VAR}, $VAR nor %REQ(...)%), msmtp's and fetchmail's configuration (a key named msmtprc or .fetchmailrc: password VALUE), PgBouncer's auth file (a key named userlist.txt: \"USER\" \"VALUE\", not an MD5 or SCRAM secret), a PostgreSQL client's connection string as its own argument (psql -h db 'password=VALUE'), an Expect script (expect -c, on its input, a key named *.exp or whose #! runs expect) that answers a password prompt with a literal (expect \"Password:\"; send \"VALUE\\r\"), an ftp client's user USER VALUE on its input, SQL that sets a password on a here-string whatever reads it, ipmitool -P VALUE, cosign login -p VALUE, cypher-shell -p VALUE, couchbase-cli -p VALUE, redis-benchmark and keydb-cli -a VALUE, mysqlsh, xtrabackup and mariabackup -pVALUE, Net-SNMP's -A and -X VALUE, mosquitto_passwd -b FILE USER VALUE, vault login TOKEN, vault operator unseal KEY, influx -t TOKEN, neo4j-admin set-initial-password VALUE, mkpasswd VALUE, echo VALUE | elasticsearch-keystore add -x NAME, echo VALUE | kubectl create secret --from-file=password=/dev/stdin, redis-server --requirepass VALUE) or a password as an argument or an option's value no name " +
		"marks (htpasswd -b FILE USER VALUE, mc alias set ALIAS URL ACCESSKEY VALUE, rabbitmqctl add_user USER VALUE, " +
		"mysqladmin password VALUE, a credential-named value a command sets (aws configure set aws_secret_access_key VALUE, " +
		"npm config set //registry/:_authToken VALUE, kubectl config set users.NAME.token VALUE), useradd -p HASH (a crypt " +
		"hash, judged as its password), redis-cli AUTH VALUE, CONFIG SET requirepass VALUE and ACL SETUSER USER >VALUE, " +
		"the MongoDB shell's JavaScript (mongosh --eval, its input, and a key named *.js, an init script for " +
		"/docker-entrypoint-initdb.d: createUser's or updateUser's pwd: 'VALUE', changeUserPassword(USER, 'VALUE'); not " +
		"passwordPrompt() nor process.env.VAR), a URL with a literal password or settings of a credential once a value's " +
		"base64 or percent-encoded segments are decoded (app.properties.b64), vault kv put KEY=VALUE, Oracle's logon USER/VALUE@DB (sqlplus, and SQL*Plus's " +
		"CONNECT USER/VALUE in an SQL file or on its input), a literal " +
		"written into a file named for a credential (echo VALUE > /config/db_password), " +
		"openssl's -passout pass:VALUE, its keys (dgst -hmac KEY, enc -K HEX, " +
		"s_client -psk HEX) and openssl passwd VALUE, keytool's -storepass VALUE, not the " +
		"JDK trust store's published changeit) or on a " +
		"program's input (echo USER:VALUE | chpasswd, printf 'USER:%s' VALUE | chpasswd, AUTH VALUE sent to redis-cli, echo TOKEN | gh auth login --with-token, echo TOKEN | vault login -, echo -n VALUE | cryptsetup luksOpen DEVICE NAME, or a " +
		"here-document: chpasswd <<EOF), SQL statements that set a literal password (IDENTIFIED BY 'VALUE', SET PASSWORD = " +
		"'VALUE', PASSWORD 'VALUE' (PostgreSQL's $$VALUE$$ and $tag$VALUE$tag$ too), WITH PASSWORD = 'VALUE', or a hash of one; not psql's :'var' nor PASSWORD NULL) in a key " +
		"named *.sql or *.cql (or *.psql, *.pgsql, *.mysql, *.plsql, *.ddl, *.hql, and a template of one, *.sql.tpl; an init script for /docker-entrypoint-initdb.d) or in a key without an extension whose " +
		"first statement is SQL (init, setup: a file psql -f or mysql < runs), given to a database client in a script " +
		"(mysql -e, psql -c, sqlcmd -Q, cqlsh -e, or on its input), written to a .sql file by one or in a here-document whose first statement is SQL whatever reads it, crontab lines' commands " +
		"(after the schedule and a system crontab's user, in a key named crontab or *.cron, or given to crontab by a script), " +
		"shell scripts (a key named " +
		"*.sh, or a value whose #! line runs a shell) that give a credential flag a literal in the next word " +
		"(--password VALUE, --token VALUE, set -- --password VALUE, the script's parameters; not MySQL's or PostgreSQL's --password, which prompts, nor OpenSSL's -pass " +
		"env:VAR), here-documents read as the shell reads them (a body fed to a shell, written to a file or starting with #! is commands, " +
		"any other, as a help text's usage: --password PASSWORD, is data), and command substitutions read as the shell runs " +
		"them (a substitution that only prints literal text, $(echo VALUE), $(printf 'VALUE'), is that text, and echo VALUE | " +
		"base64 -d in one what it decodes to; the commands of " +
		"$(...), `...` and <(...) are commands; not $(cat FILE) nor $(echo $VAR); a <(...) that only prints literal text " +
		"given as a key or password file, cryptsetup --key-file=<(echo -n VALUE), wg set wg0 private-key <(echo KEY), " +
		"--password-file <(echo VALUE), is a literal key; ssh HOST COMMAND ARG... runs its command as any other, its words joined by blanks as ssh joins them and split again as the remote shell splits them (ssh db 'mysql -uroot' '-pVALUE'), and a here-document or here-string given to it is that command's input; a here-string a shell reads (bash <<< \"...\", ssh HOST <<< \"...\") is its script; bash's " +
		"$'...' quoting is read as bash reads it), " +
		"Redis's passwords in its own " +
		"forms: redis.conf's requirepass and masterauth, Sentinel's sentinel auth-pass MASTER VALUE and " +
		"sentinel sentinel-pass VALUE, and an ACL user's cleartext password (user NAME on >VALUE ..., in " +
		"an ACL file, redis.conf or ACL SETUSER in a script; a #hash, <VALUE, which takes a password away, " +
		"and masteruser, a user's name, are none) with a literal value (an empty value, an interpolation " +
		"or a placeholder a script of the ConfigMap replaces with sed, as the Redis HA chart's " +
		"replace-default-auth, is none), URLs with a " +
		"literal password (postgresql://user:password@host/db, and the DSN of Go's MySQL driver, " +
		"user:password@tcp(host)/db, and an Oracle JDBC URL, jdbc:oracle:thin:user/password@host), incoming-webhook URLs that carry their " +
		"token (Discord's /api/webhooks/ID/TOKEN, Mattermost's /hooks/KEY, also as Alertmanager's slack_api_url, Rocket.Chat's " +
		"/hooks/ID/TOKEN, a Teams or Logic Apps workflow's signed URL, sig=, an Azure Functions URL's function key, ?code=KEY, the Telegram Bot API's /botID:TOKEN/ and IFTTT Webhooks' /with/key/KEY; Slack's and Teams' connector URLs are gitleaks' rules), the receiver keys Alertmanager's configuration types as secrets though no credential word names them (pagerduty_configs' routing_key and service_key, pushover_configs' user_key, in block or flow style or JSON, on the key's line or, a block scalar, the next; not routing_key_file, nor AMQP's routing_key elsewhere), password files (.pgpass, .netrc, and apt's auth.conf or a .conf file of its auth.conf.d whose first entry is machine HOST login USER) " +
		"that give a literal password, OpenVPN's auth-user-pass file (USER and VALUE on two lines, in a key named auth.txt or *.auth, or in the key of the ConfigMap a client's auth-user-pass FILE names, the client's finding; also inline, <auth-user-pass>...</auth-user-pass>), an Authorization header with literal credentials in any configuration " +
		"(nginx's proxy_set_header Authorization \"Basic ...\", git's extraHeader = Authorization: Bearer ..., a " +
		"headers map, a name/value pair as Envoy's header: {key: Authorization, value: ...} and probes' httpHeaders write it, " +
		"Grafana's datasource provisioning's httpHeaderValueN for an httpHeaderNameN that is Authorization, looks like a credential (X-Api-Key) or is Honeycomb's; the Basic, Bearer, Token, Bot, ApiKey, SSWS and Splunk schemes; not a variable, a template, a " +
		"placeholder, Bearer YOUR_TOKEN, nor prose), Docker configs whose auth field (base64 of user:password) " +
		"does, and binary private keys (a DER key, a Java keystore or a PKCS #12 file that holds one; " +
		"a trust store of certificates is none). A key whose literal value a " +
		"workload of the namespace takes into a variable whose name looks like a credential " +
		"(valueFrom.configMapKeyRef, envFrom with a prefix, or a $(VAR) reference the kubelet " +
		"expands to the key's value) is a credential too, whatever " +
		"the key is called, and so is one the kubelet expands, in a variable or in the command " +
		"or args, into the password of a URL (DATABASE_URL=postgres://app:$(X)@db/app, X from the " +
		"key) or into a setting whose name ends in a credential word (--db-password=$(X)), or mounts as the file a variable " +
		"names whose name says it is a credential's file (POSTGRES_PASSWORD_FILE, the _FILE " +
		"convention of Docker's official images). References that, expanded, would add more than the " +
		"workloads' values, the ConfigMap's data and 64 KiB are not expanded, and the ConfigMap is NotAssessed " +
		"unless what was read fails (as when a container takes more of its keys through references than are followed), " +
		"and counts as failing: the workloads' authors reach those bounds. The data kubectl's last-applied-configuration annotation holds (the " +
		"manifest kubectl apply last applied, which kubectl edit and patch leave as it was) is read as the " +
		"data is: a credential taken out of the data is still in the ConfigMap. Every other annotation is read " +
		"as a key is, its name as the key: it is text of the ConfigMap as the data is, for whoever reads it. " +
		"In the operator's reports (not scan's or the webhook's), a ConfigMap of more than 16 KiB is read for credentials " +
		"only within a bound of the rules' work (about 14 KiB of text dense with gitleaks' keywords; ordinary configuration, " +
		"dashboards of hundreds of KiB, is read whole): a key past it is read only by its name, and the check is NotAssessed " +
		"naming it unless it finds a credential (the operator's informer reads ConfigMaps on each change, and text a tenant " +
		"chooses can cost it seconds a MiB). " +
		"Findings name the keys, " +
		"the gitleaks rules and the workloads, never " +
		"the values." + supporting,
	Remediation: "Move the credential into a Secret (or an external secret store) and mount it; keep " +
		"only non-confidential settings in the ConfigMap, and rotate the credential, since it has been exposed.",
	Severity: high,
	Criteria: []v1alpha1.Criterion{c11, cc61},
	Targets:  []string{"ConfigMap"},
	Reads:    []string{engine.KindWorkload},
	Evaluate: func(ctx *engine.Context, o *engine.Object) {
		cm, ok := o.Obj.(*corev1.ConfigMap)
		if !ok {
			ctx.NotApplicable("", "not a core/v1 ConfigMap")
			return
		}
		if _, err := secretrules.Default(); err != nil {
			ctx.NotAssessed("", err.Error())
			return
		}
		// A ConfigMap the operator's informer cache did not keep whole is judged by the digest
		// it kept (DigestConfigMap), to the same findings.
		d, digested := o.Digest.(*configMapDigest)
		switch {
		case digested && d.unreadable:
			ctx.NotAssessed("", "the digest the operator's cache kept of the ConfigMap could not be read")
			return
		case digested && d.Panic != "":
			ctx.NotAssessed("", engine.InternalError+"sec-configmap-credentials: "+d.Panic)
			return
		}
		var found []string
		if digested {
			found = digestFindings(d.Keys, d.KeysCount)
		} else {
			found = configMapCredentials(cm)
		}
		injected, x, undecided := injectedCredentials(ctx.Inventory, o, cm, found, d)
		found = append(found, injected...)
		if digested {
			found = append(found, digestFindings(d.LastApplied, d.LastAppliedCount)...)
			found = append(found, digestFindings(d.Annotations, d.AnnotationsCount)...)
		} else {
			found = append(found, lastAppliedCredentials(cm)...)
			found = append(found, annotationCredentials(cm)...)
		}
		if len(found) == 0 {
			if digested && d.UnreadCount > 0 {
				// A bound on what the ConfigMap's author wrote: unread (fails closed in the
				// reports), not data the operator lacks.
				ctx.Unread("", fmt.Sprintf("%s not read for credentials: the operator's informer cache reads a ConfigMap's keys "+
					"only within a bound of the credential rules' work (%d MiB of text read by each gitleaks rule its keywords select), for the CPU "+
					"they cost it on each change", few(digestFindings(d.Unread, d.UnreadCount), ", "), configMapCredentialWork>>20))
				return
			}
			// Past what the check follows or expands of the workloads' $(VAR) references to its
			// keys (in scan as in the operator): bounds the workloads' authors reach, so unread,
			// which fails closed.
			if in := unfollowed(ctx.Inventory, o); in != nil {
				ctx.Unread("", fmt.Sprintf("%s/%s container %s takes more of its keys through $(VAR) references "+
					"than are followed; what they hold was not read", in.workload.Kind, in.workload.Name, in.container))
				return
			}
			if x.over {
				ctx.Unread("", fmt.Sprintf("the $(VAR) references of the workloads that take its keys expand to more than "+
					"their values, its own data and %d KiB; what they expand to was not read", expansionAllowance>>10))
				return
			}
			if undecided != "" {
				// A key a workload takes whose value the cache's digest did not keep: the
				// ConfigMap's size, which its author chose (injectedCredentials), so unread.
				ctx.Unread("", undecided)
				return
			}
			ctx.Pass("")
			return
		}
		ctx.Fail("", "holds credentials in keys %s", few(found, ", "))
	},
}

// configMapCredentials describes each key of a ConfigMap that holds a credential, in key order
// (Data, then BinaryData). A binaryData key is a file of a configMap volume as a data key is
// (pkg/volume/configmap MakePayload), and is read alike.
func configMapCredentials(cm *corev1.ConfigMap) []string {
	return configMapCredentialsWithin(cm, nil)
}

// configMapCredentialsWithin is configMapCredentials reading keys within b (all of them when b
// is nil).
func configMapCredentialsWithin(cm *corev1.ConfigMap, b *credentialBudget) []string {
	var found []string
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		if why := b.keyCredential(strconv.Quote(k), k, cm.Data[k], false, cm.Data); why != "" {
			found = append(found, fmt.Sprintf("%q (%s)", k, why))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		if why := b.keyCredential(strconv.Quote(k)+" (binary)", k, string(cm.BinaryData[k]), true, cm.Data); why != "" {
			found = append(found, fmt.Sprintf("%q (binary, %s)", k, why))
		}
	}
	return found
}

// lastAppliedCredentials describes each key of the ConfigMap that kubectl's
// last-applied-configuration annotation holds (the manifest kubectl apply last applied, which
// kubectl edit, patch and controllers leave as it was) that holds a credential, in key order
// (Data, then BinaryData), unless the ConfigMap holds the same value under the key: that is
// judged as the data. The annotation is text of the ConfigMap, readable by whoever reads it:
// a credential taken out of the data is still there. An annotation that is not a ConfigMap's
// JSON is read as a value (a gitleaks rule, a URL, settings).
func lastAppliedCredentials(cm *corev1.ConfigMap) []string {
	return lastAppliedCredentialsWithin(cm, nil)
}

// lastAppliedCredentialsWithin is lastAppliedCredentials reading keys within b (all of them
// when b is nil).
func lastAppliedCredentialsWithin(cm *corev1.ConfigMap, b *credentialBudget) []string {
	raw, ok := cm.Annotations[corev1.LastAppliedConfigAnnotation]
	if !ok || strings.TrimSpace(raw) == "" {
		return nil
	}
	var applied corev1.ConfigMap
	if json.Unmarshal([]byte(raw), &applied) != nil {
		if why := b.keyCredential("kubectl's last-applied-configuration annotation", corev1.LastAppliedConfigAnnotation, raw, false, cm.Data); why != "" {
			return []string{fmt.Sprintf("kubectl's last-applied-configuration annotation (%s)", why)}
		}
		return nil
	}
	var found []string
	for _, k := range slices.Sorted(maps.Keys(applied.Data)) {
		if v, ok := cm.Data[k]; ok && v == applied.Data[k] {
			continue
		}
		if why := b.keyCredential(strconv.Quote(k)+" in kubectl's last-applied-configuration annotation", k, applied.Data[k], false, applied.Data, cm.Data); why != "" {
			found = append(found, fmt.Sprintf("%q in kubectl's last-applied-configuration annotation (%s)", k, why))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(applied.BinaryData)) {
		if v, ok := cm.BinaryData[k]; ok && bytes.Equal(v, applied.BinaryData[k]) {
			continue
		}
		if why := b.keyCredential(strconv.Quote(k)+" (binary) in kubectl's last-applied-configuration annotation", k, string(applied.BinaryData[k]), true, applied.Data, cm.Data); why != "" {
			found = append(found, fmt.Sprintf("%q in kubectl's last-applied-configuration annotation (binary, %s)", k, why))
		}
	}
	return found
}

// annotationCredentials describes each annotation of the ConfigMap, other than kubectl's
// last-applied-configuration (lastAppliedCredentials), that holds a credential, read as a key
// of its data is (its name as the key), in name order. An annotation is text of the ConfigMap
// as its data is, readable by whoever reads the ConfigMap.
func annotationCredentials(cm *corev1.ConfigMap) []string {
	return annotationCredentialsWithin(cm, nil)
}

// annotationCredentialsWithin is annotationCredentials reading annotations within b (all of
// them when b is nil).
func annotationCredentialsWithin(cm *corev1.ConfigMap, b *credentialBudget) []string {
	var found []string
	for _, k := range slices.Sorted(maps.Keys(cm.Annotations)) {
		if k == corev1.LastAppliedConfigAnnotation {
			continue
		}
		if why := b.keyCredential("annotation "+strconv.Quote(k), k, cm.Annotations[k], false, cm.Data); why != "" {
			found = append(found, fmt.Sprintf("annotation %q (%s)", k, why))
		}
	}
	return found
}

// keyCredential says what credential the ConfigMap key k with the value v holds, "" when none.
// Under a credential-like name any binary value is one, unless the key is a script. scripts are
// the ConfigMap's data, whose scripts may replace a placeholder in v (redisPasswordDirectives).
func keyCredential(k, v string, binary bool, scripts ...map[string]string) string {
	return (*credentialBudget)(nil).keyCredential("", k, v, binary, scripts...)
}

// keyCredential is keyCredential (the function) within b: when what the credential rules
// would cost on the key (credentialWork) is more than b has left, only the rules its name
// decides run (a credential-like key, and a binary private key), and the key is recorded
// as unread under the name given, unless they find one. A nil b reads every key.
func (b *credentialBudget) keyCredential(name, k, v string, binary bool, scripts ...map[string]string) string {
	script := shellScriptKey(k, v)
	settings := v
	if script && !binary {
		// A substitution that only prints literal text ($(echo VALUE)) is that text, and
		// the shell's other parameters ($PW, "$1") are no literal (bracedParameters).
		v = literalSubstitutions(v)
		// X=VALUE; mysql -p$X: a variable the script sets to literal text is that text.
		v = environmentParameters(v, scriptAssignments(v))
		settings = bracedParameters(v)
	}
	if !b.read(k, v) {
		switch {
		case binary && binaryPrivateKey([]byte(v)) != "":
			return binaryPrivateKey([]byte(v))
		case credentialName(credentialKey(k, v, binary)) && !scriptName(k) && (binary && v != "" || credentialValue(credentialKey(k, v, binary), v)):
			return "credential-like key"
		}
		b.unread = append(b.unread, name)
		return ""
	}
	leaked, plain, _ := leakedSecretsPlain(k, v)
	switch {
	case leaked != "":
		return leaked
	case binary && binaryPrivateKey([]byte(v)) != "":
		return binaryPrivateKey([]byte(v))
	case credentialName(credentialKey(k, v, binary)) && !scriptName(k) && (binary && v != "" && !valueDecidesName(credentialKey(k, v, binary)) || credentialValue(credentialKey(k, v, binary), v)):
		return "credential-like key"
	case urlPassword(v):
		return "password in a URL"
	case !binary && webhookURL(v) != "":
		return webhookURL(v)
	case passwordFile(k, v):
		return "password file"
	case dockerConfigPassword(v):
		return "registry credentials"
	}
	names := credentialSettings(settings, maxSettingsNamed)
	if strings.HasSuffix(strings.ToLower(k), ".properties") {
		// A Java .properties file: its own forms first (propertiesCredentials), then what
		// else its lines hold (a JDBC URL's password=).
		props := propertiesCredentials(v, maxSettingsNamed)
		for _, n := range names {
			if len(props) < maxSettingsNamed && !slices.Contains(props, n) {
				props = append(props, n)
			}
		}
		names = props
	}
	if len(names) > 0 {
		return "sets " + strings.Join(names, ", ")
	}
	if names := redisPasswordDirectives(v, scripts); len(names) > 0 {
		// An ACL file names a user a line: name the first few (as credentialSettings does), so
		// that 4,000 users do not make a message of 4,000 names in every report and alert.
		if more := len(names) - maxSettingsNamed; more > 0 {
			names = append(names[:maxSettingsNamed], fmt.Sprintf("%d more", more))
		}
		return "sets " + strings.Join(names, ", ")
	}
	if sqlFile(k) || !script && sqlContent(k, v) {
		// An init script mounted into /docker-entrypoint-initdb.d, or one a script runs
		// (psql -f /config/init): a database runs it.
		if clause := sqlPassword(v, false); clause != "" {
			return "SQL sets a password (" + clause + ")"
		}
	}
	if strings.HasSuffix(strings.ToLower(k), ".js") {
		// A MongoDB init script (/docker-entrypoint-initdb.d/*.js): mongosh runs it.
		if clause := mongoShellPassword(v, false); clause != "" {
			return "JavaScript gives a password (" + clause + ")"
		}
	}
	if why := textProgramPassword(v, script); why != "" {
		return why
	}
	if !binary && literalAuthorizationHeader(settings) {
		return "Authorization header"
	}
	if !binary && honeycombTeamHeader(settings) {
		return "Honeycomb API key header"
	}
	if !binary && grafanaHeaderCredential(settings) {
		return "Grafana datasource header"
	}
	if !binary {
		if key := alertmanagerReceiverKey(v); key != "" {
			return "Alertmanager's " + key
		}
	}
	if !binary {
		if why := openVPNCredential(k, v, scripts); why != "" {
			return why
		}
	}
	if !binary && squidPeerLogin(v) {
		return "Squid cache_peer login gives a password"
	}
	if !binary && realmUserFile(k) && realmUserPassword(v) {
		return "user file gives a password"
	}
	if !binary && postfixPasswordMaps(v) {
		return "Postfix SASL password table gives a password"
	}
	if !binary && upstreamProxyLogin(v) {
		return "upstream proxy login gives a password"
	}
	if !binary && haproxyInsecurePassword(v) {
		return "HAProxy user's insecure-password"
	}
	if !binary && haproxyStatsAuth(v) {
		return "HAProxy stats auth gives a password"
	}
	if !binary {
		if directive := cntlmPassword(k, v); directive != "" {
			return "Cntlm configuration's " + directive + " gives a password"
		}
	}
	if !binary {
		if opt := jaasUserPassword(v); opt != "" {
			return "JAAS login module's " + opt + " gives a password"
		}
		if attr := freeRADIUSPassword(v); attr != "" {
			return "FreeRADIUS users file's " + attr + " gives a password"
		}
		if snmpCreateUserPassphrase(v) {
			return "SNMPv3 createUser gives a passphrase"
		}
		if why := directivePassword(v); why != "" {
			return why
		}
	}
	if !binary && dovecotPlainPassword(v) {
		return "Dovecot passwd-file gives a plain password"
	}
	if !binary && ntpKeyFiles[strings.ToLower(path.Base(k))] && ntpSymmetricKey(v) {
		return "NTP keys file gives a symmetric key"
	}
	if !binary && odbcIniNames[strings.ToLower(path.Base(k))] && odbcIniPassword(v) {
		return "ODBC data source gives a password"
	}
	if !binary && strings.EqualFold(path.Base(k), "userlist.txt") && pgbouncerPassword(v) {
		return "PgBouncer auth file gives a password"
	}
	if !binary && mailClientConfigNames[strings.TrimPrefix(strings.ToLower(path.Base(k)), ".")] && mailClientPassword(v) {
		return "mail client configuration gives a password"
	}
	if !binary && curlConfigNames[strings.ToLower(path.Base(k))] {
		// ~/.curlrc, mounted from the key: curl reads its options by itself.
		if opt := curlConfigPassword(v); opt != "" {
			return "curl configuration's " + opt + " gives a password"
		}
	}
	if !binary && expectScriptKey(k, v) && expectPassword(v) {
		// An Expect script (login.exp, #!/usr/bin/expect) that answers a password prompt.
		return "Expect script answers a password prompt with a literal"
	}
	if !binary && mongoDBKeyFile(v) {
		return "MongoDB keyfile (a cluster's internal authentication key)"
	}
	if !binary && iscKeySecret(v) {
		return "ISC key statement gives a TSIG secret"
	}
	if !binary && tacacsKey(k, v) {
		return "tac_plus configuration gives a TACACS+ key"
	}
	if !binary && pulsarTokenParameters(v) {
		return "Pulsar authentication parameters give a token"
	}
	if !binary && dovecotStaticPassword(v) {
		return "Dovecot static passdb gives a password"
	}
	if !binary && !plain {
		// plain: nothing in v decodes, and encodedCredential would find nothing.
		return encodedCredential(v)
	}
	return ""
}

// credentialKey is the name keyCredential judges the ConfigMap key k holding v by: k less a
// final .txt (any case), the file it is mounted as, when what is left names a credential though
// k does not (admin_pass.txt, psk.txt, pw.txt: PASS, PSK, PW and PWD name one as a name's last
// word only, and TXT was it) and v is text whose lines hold no blank (a password, stunnel's
// IDENTITY:KEY lines; not a test's log, smoke-pass.txt); k otherwise. What is left is judged
// as the name (db_creds.txt holds USER:PASSWORD, as DB_CREDS does).
func credentialKey(k, v string, binary bool) string {
	n := len(k)
	if binary || n <= 4 || !strings.EqualFold(k[n-4:], ".txt") || strings.ContainsAny(strings.TrimSpace(v), " \t") ||
		credentialName(k) || !credentialName(k[:n-4]) {
		return k
	}
	return k[:n-4]
}

// alertmanagerReceiverKeys are the settings of Alertmanager's receivers that its configuration
// types as <secret> though no credential word names them, by the list of receivers that holds
// them: PagerDuty's routing_key and service_key (an integration key, which opens and resolves
// incidents) and Pushover's user_key. Elsewhere a routing_key is AMQP's (orders.created).
var alertmanagerReceiverKeys = map[string][]string{
	"pagerduty_configs": {"routing_key", "service_key"},
	"pushover_configs":  {"user_key"},
}

// alertmanagerReceiverKey names the first of alertmanagerReceiverKeys that text, Alertmanager's
// configuration in YAML, sets to a literal inside the list that holds it (pagerduty_configs
// routing_key), "" when none: a key is inside the list while it is indented further than the
// list's own key (a list item's "- " counts as indentation), and an item in flow style (- {...})
// is read as flowReceiverKey reads it; a list in flow style or JSON is read by
// flowAlertmanagerReceiverKey. routing_key_file, a template, a variable and a placeholder are no
// literal.
func alertmanagerReceiverKey(text string) string {
	if !strings.Contains(text, "pagerduty_configs") && !strings.Contains(text, "pushover_configs") {
		return ""
	}
	list, indent := "", 0
	// pending is a key of the list whose value is on the lines after it, more indented than
	// pendingCol: a block scalar (routing_key: |-) or a plain scalar (routing_key:).
	pending, pendingCol := "", 0
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimLeft(line, " ")
		if t == "" || t[0] == '#' {
			continue
		}
		col := len(line) - len(t)
		if pending != "" {
			key := pending
			pending = ""
			if col > pendingCol && receiverKeyValue(strings.TrimSpace(t)) {
				return list + " " + key
			}
		}
		for strings.HasPrefix(t, "- ") {
			t = strings.TrimLeft(t[2:], " ")
			col = len(line) - len(t)
		}
		key, value, ok := strings.Cut(t, ":")
		if list != "" && col <= indent {
			list = ""
		}
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if _, isList := alertmanagerReceiverKeys[key]; isList {
			list, indent = key, col
			continue
		}
		if list != "" && strings.HasPrefix(t, "{") {
			// A flow mapping as the list's item: - {routing_key: KEY, send_resolved: true}.
			if k := flowReceiverKey(t, alertmanagerReceiverKeys[list]); k != "" {
				return list + " " + k
			}
			continue
		}
		if list == "" || !slices.Contains(alertmanagerReceiverKeys[list], key) {
			continue
		}
		if j := strings.Index(value, " #"); j >= 0 {
			value = value[:j]
		}
		v := strings.TrimSpace(value)
		if n := len(v); n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n-1] == v[0] {
			v = v[1 : n-1]
		}
		if v == "" || (v[0] == '|' || v[0] == '>') && strings.Trim(v[1:], "+-0123456789") == "" {
			pending, pendingCol = key, col
			continue
		}
		if receiverKeyValue(v) {
			return list + " " + key
		}
	}
	return flowAlertmanagerReceiverKey(text)
}

// receiverKeyValue reports whether v, the unquoted value of one of alertmanagerReceiverKeys, is
// a literal key: not empty, a variable, a template or a placeholder.
func receiverKeyValue(v string) bool {
	return v != "" && !strings.ContainsAny(v, "<>{}") && !shellExpansion(v) && credentialValue("token", v)
}

// flowAlertmanagerReceiverKey is alertmanagerReceiverKey for a configuration in YAML's flow
// style or JSON ({"pagerduty_configs": [{"routing_key": KEY}]}, pagerduty_configs: [{...}]):
// a list's name as a key (quoted or not, then ':') followed by '[' holds its receivers up to
// the bracket that closes it (or the text's end), and one of the list's keys there set to a
// literal is one. A list is read once, with the lists inside it: each byte once per list name.
func flowAlertmanagerReceiverKey(text string) string {
	for _, list := range []string{"pagerduty_configs", "pushover_configs"} {
		for i := 0; i < len(text); {
			j := strings.Index(text[i:], list)
			if j < 0 {
				break
			}
			start := i + j
			i = start + len(list)
			if start > 0 && (isASCIIAlnum(text[start-1]) || text[start-1] == '_') {
				continue
			}
			rest := text[i:]
			if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
				rest = rest[1:]
			}
			rest = strings.TrimLeft(rest, " \t")
			if !strings.HasPrefix(rest, ":") {
				continue
			}
			rest = strings.TrimLeft(rest[1:], " \t\r\n")
			if !strings.HasPrefix(rest, "[") {
				continue
			}
			body := flowCollection(rest)
			if k := flowReceiverKey(body, alertmanagerReceiverKeys[list]); k != "" {
				return list + " " + k
			}
			i = len(text) - len(rest) + len(body)
		}
	}
	return ""
}

// flowCollection is the start of text, which opens a flow collection or JSON value with '[' or
// '{', up to the bracket that closes it (brackets inside quoted strings aside), or all of text
// when none does.
func flowCollection(text string) string {
	depth := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return text[:i+1]
			}
		case '"', '\'':
			// A quoted string: '' is a quote inside single quotes, \" one inside double.
			for i++; i < len(text) && text[i] != c; i++ {
				if c == '"' && text[i] == '\\' {
					i++
				}
			}
		}
	}
	return text
}

// flowReceiverKey names the first of keys that body, flow-style YAML or JSON, sets to a literal
// (receiverKeyValue), "" when none: the key's name, quoted or not, after '{', ',' or a blank,
// then ':' and its value, quoted or up to the next ',', '}', ']' or line's end.
func flowReceiverKey(body string, keys []string) string {
	for _, key := range keys {
		for i := 0; i < len(body); {
			j := strings.Index(body[i:], key)
			if j < 0 {
				break
			}
			start := i + j
			i = start + len(key)
			q := byte(0)
			if start > 0 && (body[start-1] == '"' || body[start-1] == '\'') {
				q = body[start-1]
				start--
			}
			if start > 0 && strings.IndexByte("{, \t\r\n", body[start-1]) < 0 {
				continue
			}
			rest := body[i:]
			if q != 0 {
				if !strings.HasPrefix(rest, string(q)) {
					continue
				}
				rest = rest[1:]
			}
			rest = strings.TrimLeft(rest, " \t")
			if !strings.HasPrefix(rest, ":") {
				continue
			}
			v := strings.TrimLeft(rest[1:], " \t")
			if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
				end := strings.IndexByte(v[1:], v[0])
				if end < 0 {
					continue
				}
				v = v[1 : end+1]
			} else if end := strings.IndexAny(v, ",}]\r\n"); end >= 0 {
				v = strings.TrimSpace(v[:end])
			}
			if receiverKeyValue(v) {
				return key
			}
		}
	}
	return ""
}

// openVPNAuthFileMax bounds the length of a value read as auth-user-pass's file: one line of a
// user and one of a password.
const openVPNAuthFileMax = 4096

// openVPNCredential says what password OpenVPN's auth-user-pass takes from the ConfigMap key k
// holding v, "" when none: v is the file (openVPNAuthLines) under a name for it (auth.txt,
// *.auth), or holds the two lines inline (<auth-user-pass>...</auth-user-pass>), or names in an
// auth-user-pass FILE line a key of data (the ConfigMap's, mounted beside it: FILE's base name)
// that is the file. A key named elsewhere is looked up, not searched for: each line costs one
// lookup, and what is read of the key it names is bounded (openVPNAuthFileMax).
func openVPNCredential(k, v string, data []map[string]string) string {
	if base := strings.ToLower(path.Base(k)); (base == "auth.txt" || strings.HasSuffix(base, ".auth")) && openVPNAuthLines(v) {
		return "OpenVPN auth-user-pass file gives a password"
	}
	if !strings.Contains(v, "auth-user-pass") {
		return ""
	}
	if _, rest, ok := strings.Cut(v, "<auth-user-pass>"); ok {
		if body, _, ok := strings.Cut(rest, "</auth-user-pass>"); ok && openVPNAuthLines(strings.TrimLeft(body, "\r\n")) {
			return "OpenVPN inline auth-user-pass gives a password"
		}
	}
	for line := range strings.SplitSeq(v, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "auth-user-pass" {
			continue
		}
		name := path.Base(strings.Trim(f[1], `"'`))
		for _, d := range data {
			if file, ok := d[name]; ok && name != k && openVPNAuthLines(file) {
				return fmt.Sprintf("OpenVPN auth-user-pass reads key %q, which gives a password", name)
			}
		}
	}
	return ""
}

// openVPNAuthLines reports whether text is auth-user-pass's file with a literal password: a
// user on its first line and a password on its second (each one word, not an interpolation, a
// template or a placeholder), blank lines after them at most.
func openVPNAuthLines(text string) bool {
	if len(text) > openVPNAuthFileMax {
		return false
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n \t"), "\n")
	if len(lines) != 2 {
		return false
	}
	user, p := strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
	if user == "" || strings.ContainsAny(user, " \t=:") || strings.ContainsAny(p, " \t<>{}") || shellExpansion(user) {
		return false
	}
	return !shellExpansion(p) && credentialValue("password", p)
}

// realmUserFiles are the user files, by base name in lower case, whose keys are users and whose
// values start with the user's password: Jetty's HashLoginService (realm.properties, ActiveMQ's
// jetty-realm.properties: USER: PASSWORD[, ROLE...]) and ActiveMQ's, Artemis' and Karaf's JAAS
// properties login (users.properties, artemis-users.properties: USER=PASSWORD[,ROLE...]). Any
// other name ending in -realm.properties is Jetty's too.
var realmUserFiles = map[string]bool{"realm.properties": true, "jetty-realm.properties": true,
	"users.properties": true, "artemis-users.properties": true}

// realmUserFile reports whether the ConfigMap key k names one of realmUserFiles.
func realmUserFile(k string) bool {
	base := strings.ToLower(path.Base(k))
	return realmUserFiles[base] || strings.HasSuffix(base, "-realm.properties")
}

// realmUserPassword reports whether text, one of realmUserFiles, gives a user a literal
// password: a line USER=PASSWORD or USER: PASSWORD, the password up to the first comma (the
// roles follow it). Jetty's OBF: (a reversible obfuscation), MD5: and CRYPT: forms are judged as
// the password; Artemis' ENC(...) (a one-way hash there: its PropertiesLoginModule hashes what
// the user gives and compares the hashes, Artemis' "Masking Passwords" chapter) and Karaf's
// groups (_g_\:NAME) are none.
func realmUserPassword(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == '!' || strings.HasPrefix(t, "_g_") {
			continue
		}
		i := strings.IndexAny(t, "=:")
		if i <= 0 {
			continue
		}
		p, _, _ := strings.Cut(t[i+1:], ",")
		p = strings.TrimSpace(p)
		if p != "" && !strings.HasPrefix(p, "ENC(") && !shellExpansion(p) && !strings.ContainsAny(p, "<>{} \t") && credentialValue("password", p) {
			return true
		}
	}
	return false
}

// mailClientConfigNames are the configuration files, without their leading dot, that msmtp
// (~/.msmtprc, /etc/msmtprc) and fetchmail (~/.fetchmailrc) read by themselves.
var mailClientConfigNames = map[string]bool{"msmtprc": true, "fetchmailrc": true}

// mailClientPassword reports whether text, msmtp's or fetchmail's configuration, gives a literal
// password: a word password (fetchmail's pass and passwd too) followed by its value, quoted or
// not (msmtp's password VALUE line; fetchmail's poll ... password "VALUE"). msmtp's
// passwordeval runs a command: no literal.
func mailClientPassword(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "password", "pass", "passwd":
				if v := strings.Trim(f[i+1], `"'`); !shellExpansion(v) && credentialValue("password", v) {
					return true
				}
			}
		}
	}
	return false
}

// honeycombTeamHeader reports whether text sets Honeycomb's API key header, x-honeycomb-team, to
// a literal value on a line of its own (an OpenTelemetry Collector exporter's headers map:
// x-honeycomb-team: KEY, quoted or not, or KEY=VALUE); ${env:HONEYCOMB_API_KEY}, a template or a
// placeholder is none. So is a header option's value in a script or an argument (curl -H
// 'x-honeycomb-team: KEY', wget --header="X-Honeycomb-Team: KEY"; honeycombHeaderOption).
func honeycombTeamHeader(text string) bool {
	if !containsFold(text, "x-honeycomb-team") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		i := strings.IndexAny(t, ":=")
		if i <= 0 || !strings.EqualFold(strings.Trim(strings.TrimSpace(t[:i]), `"'`), "x-honeycomb-team") {
			if honeycombHeaderOption(line) {
				return true
			}
			continue
		}
		v := strings.Trim(strings.TrimRight(strings.TrimSpace(t[i+1:]), ","), `"'`)
		if v != "" && !shellExpansion(v) && credentialValue("token", v) {
			return true
		}
	}
	return honeycombHeaderPair(text)
}

// honeycombHeaderPair reports whether text writes Honeycomb's API key header as a name/value
// pair (Envoy's header: {key: x-honeycomb-team, value: KEY}, name: and value: pairs, JSON's
// {"key": "x-honeycomb-team", "value": "KEY"}; headerPairName, pairValueCredentials) with a
// literal value (honeycombValueKey).
func honeycombHeaderPair(text string) bool {
	const name = "x-honeycomb-team"
	for start := 0; start <= len(text); {
		line, _, _ := strings.Cut(text[start:], "\n")
		end := start + len(line)
		lower := strings.ToLower(line)
		if i := strings.Index(lower, name); i >= 0 {
			if col := headerPairName(lower, i, i+len(name)); col >= 0 &&
				pairValueCredentials(strings.TrimSuffix(text[:start], "\n"), line, text[min(end+1, len(text)):], col, honeycombValueKey) {
				return true
			}
		}
		start = end + 1
	}
	return false
}

// honeycombValueKey reports whether a line gives a key named value (value:, "value":, TOML's value =) a
// literal Honeycomb API key: not a shell expansion, a template, an Envoy command operator or a
// placeholder.
func honeycombValueKey(line string) bool {
	lower := strings.ToLower(line)
	for from := 0; ; {
		i := strings.Index(lower[from:], "value")
		if i < 0 {
			return false
		}
		i += from
		from = i + len("value")
		if i > 0 && isSettingChar(lower[i-1]) {
			continue
		}
		rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(line[from:], `"`), "'"), " \t")
		// YAML's and JSON's value: KEY, TOML's value = "KEY".
		if !strings.HasPrefix(rest, ":") && !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\"'")
		end := strings.IndexAny(rest, "\"' \t\r,}")
		if end < 0 {
			end = len(rest)
		}
		// Envoy's command operators (%REQ(x-honeycomb-team)%) fill the value in from the request.
		if v := rest[:end]; v != "" && !shellExpansion(v) && !strings.ContainsAny(v, "<>{}%()") && credentialValue("token", v) {
			return true
		}
	}
}

// honeycombHeaderOption reports whether line gives Honeycomb's API key header a literal value
// as a header written within a line, curl's -H 'x-honeycomb-team: KEY' or wget's
// --header="X-Honeycomb-Team: KEY": the name after a quote, a blank or '=', then ':', the value,
// and a quote, a blank or the line's end. $HONEYCOMB_API_KEY, ${...}, a template or a
// placeholder (<your-api-key>) is none.
func honeycombHeaderOption(line string) bool {
	lower := strings.ToLower(line)
	const name = "x-honeycomb-team"
	for from := 0; ; {
		i := strings.Index(lower[from:], name)
		if i < 0 {
			return false
		}
		i += from
		from = i + len(name)
		if i > 0 && strings.IndexByte("\"' \t=", line[i-1]) < 0 {
			continue
		}
		rest := strings.TrimLeft(line[from:], " \t")
		if !strings.HasPrefix(rest, ":") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		end := strings.IndexAny(rest, "\"' \t\r")
		if end < 0 {
			end = len(rest)
		}
		v := rest[:end]
		if v != "" && !shellExpansion(v) && !strings.ContainsAny(v, "<>{}") && credentialValue("token", v) {
			return true
		}
	}
}

// grafanaHeader is a custom HTTP header's name or value in Grafana's datasource provisioning
// (httpHeaderNameN in jsonData, httpHeaderValueN in secureJsonData): its number N, the text
// given it, and where it is (line and byte).
type grafanaHeader struct {
	n, text   string
	line, col int
}

// grafanaHeaders lists the settings of text whose names are prefix (httpHeaderName or
// httpHeaderValue) and a number, in JSON's or YAML's form: "httpHeaderValue1": "Bearer ...",
// httpHeaderValue1: Bearer ... (the rest of the line, a comment aside).
func grafanaHeaders(text, prefix string) []grafanaHeader {
	var out []grafanaHeader
	for n, line := range strings.Split(text, "\n") {
		for from := 0; ; {
			i := strings.Index(line[from:], prefix)
			if i < 0 {
				break
			}
			i += from
			j := i + len(prefix)
			for j < len(line) && '0' <= line[j] && line[j] <= '9' {
				j++
			}
			from = j
			if j == i+len(prefix) || i > 0 && isSettingChar(line[i-1]) || j < len(line) && isSettingChar(line[j]) {
				continue
			}
			num := line[i+len(prefix) : j]
			rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(line[j:], `"`), "'"), " \t")
			if !strings.HasPrefix(rest, ":") && !strings.HasPrefix(rest, "=") {
				continue
			}
			rest = strings.TrimLeft(rest[1:], " \t")
			var v string
			if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
				end := strings.IndexByte(rest[1:], rest[0])
				if end < 0 {
					continue
				}
				v = rest[1 : end+1]
			} else {
				v = rest
				if c := strings.Index(v, " #"); c >= 0 {
					v = v[:c]
				}
				v = strings.TrimRight(strings.TrimSpace(v), ",")
				// A flow mapping's closing brace, not $__env{VAR}'s.
				for strings.HasSuffix(v, "}") && strings.Count(v, "}") > strings.Count(v, "{") {
					v = strings.TrimSpace(strings.TrimRight(v[:len(v)-1], ","))
				}
			}
			out = append(out, grafanaHeader{n: num, text: strings.TrimSpace(v), line: n, col: i})
		}
	}
	return out
}

// grafanaHeaderCredential reports whether text, Grafana's datasource provisioning (YAML or
// JSON), gives a custom HTTP header literal credentials: secureJsonData's httpHeaderValueN, with
// the header named by the nearest httpHeaderNameN of the same N (the same datasource's
// jsonData), an Authorization or Proxy-Authorization header's literal credentials
// (authorizationArgument), Honeycomb's API key, or a literal value of a header whose name looks
// like a credential (X-Api-Key). Another header's value (X-Scope-OrgID: tenant) is none, and so
// are $__env{VAR}, $__file{PATH} and other interpolations.
func grafanaHeaderCredential(text string) bool {
	if !strings.Contains(text, "httpHeaderValue") || !strings.Contains(text, "httpHeaderName") {
		return false
	}
	names := grafanaHeaders(text, "httpHeaderName")
	for _, v := range grafanaHeaders(text, "httpHeaderValue") {
		name, best := "", -1
		for _, h := range names {
			if h.n != v.n {
				continue
			}
			d := (h.line-v.line)*(h.line-v.line)<<16 + (h.col-v.col)*(h.col-v.col)
			if best < 0 || d < best {
				name, best = h.text, d
			}
		}
		switch lower := strings.ToLower(name); {
		case name == "":
		case lower == "authorization" || lower == "proxy-authorization":
			if authorizationArgument(name + ": " + v.text) {
				return true
			}
		case lower == "x-honeycomb-team" || credentialName(name):
			if !shellExpansion(v.text) && !strings.ContainsAny(v.text, "<>") && credentialValue("token", v.text) {
				return true
			}
		}
	}
	return false
}

// odbcIniNames are the names of unixODBC's data source files (/etc/odbc.ini, ~/.odbc.ini).
var odbcIniNames = map[string]bool{"odbc.ini": true, ".odbc.ini": true}

// odbcIniPassword reports whether text, an odbc.ini, gives a data source a literal password with
// the PWD keyword (PWD = VALUE; Password = VALUE is a setting credentialSettings finds). A line
// that begins with ';' or '#' is a comment.
func odbcIniPassword(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "PWD") {
			continue
		}
		v := strings.Trim(strings.TrimSpace(value), `"'`)
		if len(v) > 1 && v[0] == '{' && v[len(v)-1] == '}' {
			// A value in braces (PWD={Orders;2024}) may hold ';'.
			v = v[1 : len(v)-1]
		}
		if v != "" && !shellExpansion(v) && credentialValue("password", v) {
			return true
		}
	}
	return false
}

// haproxyStatsAuth reports whether text has a line of an HAProxy proxy section (listen,
// frontend, backend) that gives its statistics page's basic authentication a literal password:
// stats auth USER:PASSWORD. "${STATS_PASSWORD}" (HAProxy expands the environment in double
// quotes) is none.
func haproxyStatsAuth(text string) bool {
	if !strings.Contains(text, "stats") {
		return false
	}
	// Only a line with "stats" is split into words, found by strings.Index (a dashboard's
	// lines are not).
	for line := range linesHolding(text, "stats") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "stats" && f[1] == "auth" {
			if p, ok := userPasswordValue(strings.ReplaceAll(f[2], `"`, "")); ok && !shellExpansion(p) && credentialValue("password", p) {
				return true
			}
		}
	}
	return false
}

// haproxyInsecurePassword reports whether text has a line of HAProxy's userlist section that
// gives a user's password in clear text: user NAME insecure-password VALUE (a literal).
func haproxyInsecurePassword(text string) bool {
	if !strings.Contains(text, "insecure-password") {
		return false
	}
	for line := range linesHolding(text, "insecure-password") {
		f := strings.Fields(line)
		for i := 2; i+1 < len(f); i++ {
			if f[0] == "user" && f[i] == "insecure-password" && !shellExpansion(f[i+1]) && credentialValue("password", strings.Trim(f[i+1], `"'`)) {
				return true
			}
		}
	}
	return false
}

// pgbouncerPassword reports whether text, PgBouncer's auth_file ("USER" "PASSWORD" lines), gives
// a password in clear text: a literal one that is neither an MD5 secret (md5 and 32 hexadecimal
// digits) nor a SCRAM secret (SCRAM-SHA-256$...).
func pgbouncerPassword(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], `"`) {
			continue
		}
		p := strings.Trim(f[1], `"`)
		if strings.HasPrefix(p, "SCRAM-SHA-256$") || len(p) == 35 && strings.HasPrefix(p, "md5") && hexDigestShaped(p[3:]) {
			continue
		}
		if p != "" && credentialValue("password", p) {
			return true
		}
	}
	return false
}

// shellScriptKey reports whether the ConfigMap key k holds a shell script: it is named as one
// (entrypoint.sh, init.bash) or as a crontab (crontab, backup.cron), whose commands cron runs
// with the shell, or its value starts with a #! line that runs a shell.
func shellScriptKey(k, v string) bool {
	lower := strings.ToLower(k)
	if base := path.Base(lower); base == "crontab" || strings.HasSuffix(base, ".cron") || strings.HasSuffix(base, ".crontab") {
		// A crontab: cron runs each line's command with the shell (cronCommand).
		return true
	}
	for _, ext := range []string{".sh", ".bash", ".zsh", ".ksh"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	v = strings.TrimLeft(v, " \t\r\n")
	if !strings.HasPrefix(v, "#!") {
		return false
	}
	first, _, _ := strings.Cut(v, "\n")
	for _, f := range strings.Fields(strings.TrimPrefix(first, "#!")) {
		if shellPrograms[path.Base(f)] {
			return true
		}
	}
	return false
}

// redisPasswordDirectives lists the directives of content that give Redis (or Valkey) a
// literal password in its own form, by what they set: redis.conf's requirepass and masterauth
// (redisPasswordSettings), sentinel.conf's "sentinel auth-pass <master> <password>" (the
// monitored primary's) and "sentinel sentinel-pass <password>" (other Sentinels'), and an ACL
// user's cleartext password, '>' and the password, in a user line of an ACL file or redis.conf
// ("user default on >password ~* +@all", "user NAME's password") or given to ACL SETUSER in a
// script (aclPasswords). The directive is in any case, as Redis reads it, and its password one
// argument separated by blank space, quoted or not ("requirepass Orders-2024"; credentialSettings
// reads "requirepass: ..." and "requirepass=..."). No literal are an empty argument
// (requirepass "" turns authentication off), an interpolation an init script or envsubst fills
// in ($REDIS_PASSWORD, ${...}, $(...)), and a placeholder a script of the ConfigMap replaces
// with sed (sed -i "s/replace-default-auth/${AUTH}/" redis.conf: the Redis HA chart's
// ConfigMap, Argo CD HA's argocd-redis-ha-configmap, writes requirepass replace-default-auth
// and sentinel auth-pass argocd replace-default-auth and replaces them with the password its
// init container takes from a Secret). An ACL user's password hash (#<sha256>), a password
// taken away (<password) and masteruser (a user's name) are no passwords.
func redisPasswordDirectives(content string, scripts []map[string]string) []string {
	directives := strings.Contains(content, "requirepass") || strings.Contains(content, "masterauth") ||
		strings.Contains(content, "REQUIREPASS") || strings.Contains(content, "MASTERAUTH")
	sentinel := strings.Contains(content, "-pass")
	acl := strings.Contains(content, ">") && (strings.Contains(content, "user") || strings.Contains(content, "USER"))
	if !directives && !sentinel && !acl {
		return nil
	}
	var names []string
	// Each a set, not a list looked through (an ACL file names a user a line), and the scripts
	// read once for all lines (sedScripts): a tenant writes the lines.
	named := map[string]bool{}
	sed := &sedScripts{scripts: scripts}
	add := func(name, value string) {
		if !named[name] && !shellExpansion(value) && credentialValue(name, value) && !sed.replaced(value) {
			named[name] = true
			names = append(names, name)
		}
	}
	for line := range strings.SplitSeq(content, "\n") {
		// A line gives a password only as a directive that names it, or as an ACL rule with a
		// '>': any other is not split into words (strings.Fields allocates), which took a fifth
		// of the readers' time after credentialSettings on ../shared/corpus's Grafana
		// dashboards, where "user" and ">" are somewhere (BenchmarkCorpusConfigMapCredentials).
		if !(acl && strings.Contains(line, ">")) &&
			!(directives && lineMayHoldFold(line, "requirepass", "masterauth")) && !(sentinel && lineMayHoldFold(line, "sentinel")) {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch name := strings.ToLower(fields[0]); {
		case directives && (name == "requirepass" || name == "masterauth"):
			if value, ok := directiveArgument(line, fields, 1); ok {
				add(name, value)
			}
		case sentinel && name == "sentinel":
			// sentinel auth-pass <master> <password>; sentinel sentinel-pass <password>.
			switch sub := strings.ToLower(fields[1]); sub {
			case "auth-pass", "sentinel-pass":
				skip := 2
				if sub == "auth-pass" {
					skip = 3
				}
				if value, ok := directiveArgument(line, fields, skip); ok {
					add("sentinel "+sub, value)
				}
			}
		case acl:
			for _, p := range aclPasswords(fields) {
				add("user "+p[0]+"'s password", p[1])
			}
		}
	}
	return names
}

// directiveArgument is the one argument of a configuration line (its words fields) after its
// first skip words: the rest of the line, unquoted when it is quoted as a whole ("Orders 2024"),
// else a single word; false when it is neither (prose, or a directive redis-server would
// refuse).
func directiveArgument(line string, fields []string, skip int) (string, bool) {
	if len(fields) <= skip {
		return "", false
	}
	rest := strings.TrimSpace(line)
	for _, f := range fields[:skip] {
		rest = strings.TrimSpace(rest[len(f):])
	}
	if n := len(rest); n >= 2 && (rest[0] == '"' || rest[0] == '\'') && rest[n-1] == rest[0] {
		return rest[1 : n-1], true
	}
	return rest, len(fields) == skip+1
}

// aclKeywords are the rules of a Redis ACL user that are words (ACL SETUSER).
var aclKeywords = map[string]bool{"on": true, "off": true, "nopass": true, "resetpass": true, "reset": true,
	"allkeys": true, "allchannels": true, "allcommands": true, "nocommands": true, "resetkeys": true,
	"resetchannels": true, "clearselectors": true, "sanitize-payload": true, "skip-sanitize-payload": true}

// aclRule reports whether a word (unquoted) is a rule of a Redis ACL user: a keyword, or a rule
// that starts with its sign (>password, <password, #hash, !hash, ~pattern, %R~pattern,
// &channel, +command, -command, (selector)).
func aclRule(w string) bool {
	return aclKeywords[strings.ToLower(w)] || w != "" && strings.ContainsRune("><#!~%&+-(", rune(w[0]))
}

// aclPasswords lists, as user and password, the cleartext passwords ('>' and the password) an
// ACL user is given in a line's words: a user line of an ACL file or redis.conf ("user NAME
// rule..."), whose every word after the name is an ACL rule (nginx's "user nginx;" is none),
// or ACL SETUSER NAME rule... in a script, whose rules run to the first word that is none (a
// shell operator, a redirect). A quoted word is read without its quotes.
func aclPasswords(fields []string) [][2]string {
	start, strict := -1, false
	if strings.EqualFold(fields[0], "user") {
		start, strict = 1, true
	} else {
		for i := 0; i+1 < len(fields); i++ {
			if strings.EqualFold(strings.Trim(fields[i], `"'`), "setuser") && i > 0 && strings.EqualFold(strings.Trim(fields[i-1], `"'`), "acl") {
				start = i + 1
				break
			}
		}
	}
	if start < 0 || start+1 >= len(fields) {
		return nil
	}
	user := strings.Trim(fields[start], `"'`)
	var out [][2]string
	for _, f := range fields[start+1:] {
		w := strings.Trim(f, `"'`)
		switch f {
		case ";", "&&", "||", "|", "&", "\\":
			return out
		}
		if !aclRule(w) || strings.HasSuffix(f, ";") {
			if strict {
				return nil
			}
			return out
		}
		if len(w) > 1 && w[0] == '>' {
			out = append(out, [2]string{user, w[1:]})
		}
	}
	return out
}

// sedScanBudget bounds the bytes sedScripts reads with strings.Contains before it indexes its
// scripts: the values looked for are a tenant's to write, one a line (16,000 ACL users' passwords
// in 600 KB of a ConfigMap's redis.conf, which is among the scripts too, took 30 s looked for
// one by one, BenchmarkPerLineReadersWorstCase).
const sedScanBudget = 32 << 20

// sedScripts are the scripts that may replace a value with sed (sedReplaced), looked in by
// strings.Contains within sedScanBudget bytes, through a suffix array of them after, in which
// each value is looked up in time of its length and the log of the scripts' (index/suffixarray).
type sedScripts struct {
	scripts []map[string]string
	// scanned is how many bytes strings.Contains read so far.
	scanned int
	// index is the scripts' suffix array, each script followed by a 0 byte, once scanned
	// reached sedScanBudget.
	index *suffixarray.Index
}

// replaced is sedReplaced(value, s.scripts). Through the index, a value holding a 0 byte (which
// a sed command could match across two scripts there) is not replaced: it is judged as a
// literal, never taken for a placeholder.
func (s *sedScripts) replaced(value string) bool {
	if s.index == nil {
		size := 0
		for _, data := range s.scripts {
			for _, script := range data {
				size += len(script)
			}
		}
		if s.scanned+3*size <= sedScanBudget {
			s.scanned += 3 * size
			return sedReplaced(value, s.scripts)
		}
		var b strings.Builder
		for _, data := range s.scripts {
			for _, script := range data {
				b.WriteString(script)
				b.WriteByte(0)
			}
		}
		s.index = suffixarray.New([]byte(b.String()))
	}
	if strings.IndexByte(value, 0) >= 0 {
		return false
	}
	for _, d := range []string{"/", "|", "#"} {
		if len(s.index.Lookup([]byte("s"+d+value+d), 1)) > 0 {
			return true
		}
	}
	return false
}

// sedRead counts the bytes sedReplaced looked through (tests read it).
var sedRead int

// sedReplaced reports whether a value of scripts replaces value with sed's s command (s/value/,
// s|value|, s#value#): the value is a placeholder the script fills in.
func sedReplaced(value string, scripts []map[string]string) bool {
	for _, data := range scripts {
		for _, script := range data {
			sedRead += 3 * len(script)
			for _, d := range []string{"/", "|", "#"} {
				if strings.Contains(script, "s"+d+value+d) {
					return true
				}
			}
		}
	}
	return false
}

// scriptExtensions end the names of files that are programs (configure_secret.sh,
// rotate-token.py): a program about a credential is not one, whatever it is called.
var scriptExtensions = []string{".sh", ".bash", ".zsh", ".py", ".rb", ".pl", ".js", ".ts", ".lua", ".ps1", ".groovy"}

// scriptName reports whether a ConfigMap key names a script.
func scriptName(k string) bool {
	lower := strings.ToLower(k)
	return slices.ContainsFunc(scriptExtensions, func(ext string) bool { return strings.HasSuffix(lower, ext) })
}

// envInjection is a ConfigMap a container takes variables from (engine.ConfigMapEnv).
type envInjection struct {
	engine.ConfigMapEnv
	workload  *engine.Object
	container string
}

// envInjections indexes, by namespace and ConfigMap name, the ConfigMaps the containers of
// every workload judged itself (not through its controller) take variables from, in inventory
// order.
func envInjections(inv *engine.Inventory) map[[2]string][]envInjection {
	return inv.Memo(nil, "secrets.envInjections", func() any {
		idx := map[[2]string][]envInjection{}
		for _, o := range inv.Objects() {
			if o.Workload == nil || inv.JudgedThroughController(o) {
				continue
			}
			for _, c := range o.Workload.Containers() {
				for _, e := range c.ConfigMapEnv {
					k := [2]string{o.Namespace, e.ConfigMap}
					idx[k] = append(idx[k], envInjection{ConfigMapEnv: e, workload: o, container: c.Name})
				}
			}
		}
		return idx
	}).(map[[2]string][]envInjection)
}

// injectedCredentials describes each key of cm, not among those found already, whose literal
// value a workload of its namespace takes as a credential (into a variable whose name looks
// like a credential, expanded into a URL's password or a credential setting, or mounted as the
// file a credential's _FILE variable names), as the kubelet would give it, in key order (Data,
// then BinaryData). The workloads' references to the keys are expanded within the bound x
// returns: the injections' own values, the ConfigMap's data and expansionAllowance.
//
// With a digest d (a ConfigMap the operator's cache did not keep whole, DigestConfigMap), cm's
// Data holds the keys d kept the values of; the third value says why what the workloads take
// of the others cannot be decided ("" when it can).
func injectedCredentials(inv *engine.Inventory, o *engine.Object, cm *corev1.ConfigMap, found []string, d *configMapDigest) ([]string, *expansion, string) {
	x := &expansion{}
	injections := envInjections(inv)[[2]string{o.Namespace, o.Name}]
	if len(injections) == 0 {
		return nil, x, ""
	}
	x.left = expansionAllowance
	for _, in := range injections {
		x.left += len(in.Value)
	}
	binaryKeys := slices.Sorted(maps.Keys(cm.BinaryData))
	var unkept map[string]credentialClass
	undecided := ""
	if d != nil {
		x.left += d.DataValues
		binaryKeys, unkept = d.BinaryKeys, d.Unkept
		if d.Truncated {
			undecided = d.truncatedTaken(injections, cm)
		}
	} else {
		for _, v := range cm.Data {
			x.left += len(v)
		}
	}
	out, why := injectedKeys(injections, cm, unkept, found, x, new(int))
	if undecided == "" {
		undecided = why
	}
	// A volume holds binaryData keys as files as well (pkg/volume/configmap MakePayload); only
	// Data reaches the environment.
	for _, k := range binaryKeys {
		quoted := fmt.Sprintf("%q ", k)
		if d == nil && !literalCredential(string(cm.BinaryData[k])) || slices.ContainsFunc(found, func(f string) bool { return strings.HasPrefix(f, quoted) }) {
			continue
		}
		for _, in := range injections {
			if in.File != "" && in.Key == k && namesCredentialFile(in.Name) {
				out = append(out, fmt.Sprintf("%q (binary, mounted at %s, named by %s in %s/%s container %s)", k, in.File, in.Name, in.workload.Kind, in.workload.Name, in.container))
				break
			}
		}
	}
	return out, x, undecided
}

// unfollowed is an injection of the ConfigMap o whose keys were not all followed
// (engine.ConfigMapEnv.Unfollowed), nil when there is none.
func unfollowed(inv *engine.Inventory, o *engine.Object) *envInjection {
	for _, in := range envInjections(inv)[[2]string{o.Namespace, o.Name}] {
		if in.Unfollowed {
			return &in
		}
	}
	return nil
}

// injectedKeys is what injectedCredentials finds of the keys of cm's Data, expanding within x.
//
// Each key is compared with the injections that name it and the envFrom ones only, in
// injection order, and work counts them: compared with every injection, a ConfigMap of 5,000
// keys taken one each by a Pod of 5,000 variables was 25 million comparisons, 550 ms on every
// evaluation of the namespace.
//
// unkept are keys of the ConfigMap a workload may take as a credential whose values are not in
// cm (DigestConfigMap), with what credentialValue says of each whatever the name: they are
// compared as the others, and the second value says why an injection whose outcome the value
// decides cannot be decided ("" when none does).
func injectedKeys(injections []envInjection, cm *corev1.ConfigMap, unkept map[string]credentialClass, found []string, x *expansion, work *int) ([]string, string) {
	// The keys found already: each finding starts with its key, quoted.
	foundKeys := map[string]bool{}
	for _, f := range found {
		if q, err := strconv.QuotedPrefix(f); err == nil {
			foundKeys[q] = true
		}
	}
	byKey := map[string][]int{}
	var fromAll []int
	// replaced holds, for each envFrom injection, its Replaced as a set, made when first read.
	replaced := map[int]map[string]bool{}
	for i, in := range injections {
		switch {
		case in.Unfollowed:
		case in.Key == "":
			fromAll = append(fromAll, i)
		default:
			byKey[in.Key] = append(byKey[in.Key], i)
		}
	}
	var out []string
	undecided := ""
	keys := slices.Sorted(maps.Keys(cm.Data))
	if len(unkept) > 0 {
		keys = slices.Sorted(slices.Values(append(slices.Clip(keys), slices.Collect(maps.Keys(unkept))...)))
	}
	for _, k := range keys {
		value, kept := cm.Data[k]
		if kept && !literalCredential(value) || foundKeys[strconv.Quote(k)] {
			continue
		}
		named := byKey[k]
		for a, b := 0, 0; a < len(named) || b < len(fromAll); {
			// The next of both lists, in injection order.
			var i int
			if b == len(fromAll) || a < len(named) && named[a] < fromAll[b] {
				i, a = named[a], a+1
			} else {
				i, b = fromAll[b], b+1
			}
			*work++
			in := injections[i]
			name := in.Name
			if in.Key == "" {
				name += k
				set, ok := replaced[i]
				if !ok {
					set = map[string]bool{}
					for _, r := range in.Replaced {
						set[r] = true
					}
					replaced[i] = set
				}
				if set[name] {
					continue
				}
			}
			if in.File != "" {
				// POSTGRES_PASSWORD_FILE=/etc/db/pw: the variable names the file that holds a
				// credential (the _FILE convention of Docker's official images), and the file
				// is the key.
				if namesCredentialFile(name) {
					out = append(out, fmt.Sprintf("%q (mounted at %s, named by %s in %s/%s container %s)", k, in.File, name, in.workload.Kind, in.workload.Name, in.container))
					break
				}
				continue
			}
			if !kept {
				// The value was not kept: what credentialValue says of it whatever the name
				// decides, but for a count, a placeholder or a checksum, and a $(VAR)
				// reference's expansion, which the value decides.
				class := unkept[k]
				if credentialName(name) && class == alwaysCredential && !valueDecidesName(name) {
					out = append(out, fmt.Sprintf("%q (injected as %s into %s/%s container %s)", k, name, in.workload.Kind, in.workload.Name, in.container))
					break
				}
				if credentialName(name) && (class == credentialByName || class == alwaysCredential && valueDecidesName(name)) || in.Value != "" {
					undecided = cmp.Or(undecided, unkeptTaken(in, k))
				}
				continue
			}
			if credentialName(name) && credentialValue(name, value) {
				out = append(out, fmt.Sprintf("%q (injected as %s into %s/%s container %s)", k, name, in.workload.Kind, in.workload.Name, in.container))
				break
			}
			if in.Value == "" {
				continue
			}
			// DATABASE_URL=postgres://app:$(X)@db/app or --db-password=$(X), X from the key:
			// the key's value is the URL's password, or the setting's, whatever the variables
			// are called.
			where := name
			if in.Arg != "" {
				where = in.Arg
			}
			// A value referring to the key again and again ($(X)$(X)...) is as many copies of
			// it: expanded without bound, 2,000 references to a key of 10 KB were 20 MB, read
			// for URLs and settings on every evaluation of the namespace.
			expanded := expandWithin(in.Value, map[string]string{in.Ref: value}, x)
			if !urlPassword(in.Value) && urlPassword(expanded) {
				out = append(out, fmt.Sprintf("%q (expanded into the password of a URL in %s of %s/%s container %s)", k, where, in.workload.Kind, in.workload.Name, in.container))
				break
			}
			if len(credentialSettings(in.Value, 1)) == 0 && len(credentialSettings(expanded, 1)) > 0 {
				out = append(out, fmt.Sprintf("%q (expanded into a credential setting in %s of %s/%s container %s)", k, where, in.workload.Kind, in.workload.Name, in.container))
				break
			}
		}
	}
	return out, undecided
}

// unkeptTaken says that the injection in takes the key k, whose value a digest did not keep
// (DigestConfigMap), in a way its value decides.
func unkeptTaken(in envInjection, k string) string {
	return fmt.Sprintf("%s/%s container %s takes key %q, whose value the operator did not keep (%s); what it holds was not read",
		in.workload.Kind, in.workload.Name, in.container, k, keptWholeWhy)
}

// cntlmHashDirectives are Cntlm's directives, in lower case, that hold the hashes of its user's
// password (cntlm -H prints them), with which NTLM authenticates as it would with the password:
// whoever holds one logs in to the parent proxy as the user. The words are Cntlm's own.
var cntlmHashDirectives = map[string]string{"passlm": "PassLM", "passnt": "PassNT", "passntlmv2": "PassNTLMv2"}

// cntlmPassword names the directive of Cntlm's configuration, text of the ConfigMap key k, that
// gives a literal password, "" when none: Password VALUE in a key named cntlm.conf or cntlm.ini
// (elsewhere a line Password VALUE is too often prose), or one of cntlmHashDirectives in any
// key. Cntlm reads a directive's name in any case, then blanks, then its value; # starts a
// comment.
func cntlmPassword(k, text string) string {
	base := strings.ToLower(path.Base(k))
	named := base == "cntlm.conf" || base == "cntlm.ini"
	if !named && !containsFold(text, "passn") && !containsFold(text, "passlm") {
		return ""
	}
	for line := range strings.SplitSeq(text, "\n") {
		if !lineMayHoldFold(line, "pass") {
			continue // no directive of cntlmHashDirectives nor Password, and not split into words
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		d := strings.ToLower(f[0])
		name, ok := cntlmHashDirectives[d]
		if !ok && !(named && d == "password") {
			continue
		}
		if !ok {
			name = "Password"
		}
		if v := f[1]; literalPasswordField(v) {
			return name
		}
	}
	return ""
}

// dovecotPlainSchemes are the password schemes of Dovecot, in lower case, that keep the password
// itself: PLAIN, CLEARTEXT (its other name) and PLAIN-TRUNC, with or without an encoding
// (.b64, .base64, .hex, which decode to it).
var dovecotPlainSchemes = map[string]bool{"plain": true, "cleartext": true, "plain-trunc": true}

// dovecotPlainPassword reports whether text holds a Dovecot passwd-file entry whose password is
// in a plain scheme (dovecotPlainSchemes): a line USER:{SCHEME}PASSWORD, the password up to the
// next ':' (UID, GID and the other fields follow it). A hashed scheme ({SHA512-CRYPT}$6$...)
// is none, as HAProxy's and PgBouncer's hashes are none; nor are a variable and a placeholder.
func dovecotPlainPassword(text string) bool {
	if !strings.Contains(text, ":{") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		user, rest, ok := strings.Cut(strings.TrimSpace(line), ":{")
		if !ok || user == "" || user[0] == '#' || strings.ContainsAny(user, " \t:\"'{}[],=") {
			continue
		}
		scheme, p, ok := strings.Cut(rest, "}")
		if !ok {
			continue
		}
		scheme, _, _ = strings.Cut(strings.ToLower(scheme), ".")
		if !dovecotPlainSchemes[scheme] {
			continue
		}
		p, _, _ = strings.Cut(p, ":")
		if p != "" && !strings.ContainsAny(p, "<>{} \t") && !shellExpansion(p) && credentialValue("password", p) {
			return true
		}
	}
	return false
}

// ntpKeyFiles are the names, in lower case, of ntpd's, NTPsec's and chrony's symmetric keys
// file: /etc/ntp.keys, /etc/ntp/keys, /etc/chrony.keys.
var ntpKeyFiles = map[string]bool{"ntp.keys": true, "chrony.keys": true, "keys": true, "ntpkeys": true, "ntp-keys": true}

// ntpKeyTypes are the key types, in upper case, that ntpd, NTPsec and chrony read in a keys
// file (M is MD5 in ntpd's words).
var ntpKeyTypes = map[string]bool{"M": true, "MD5": true, "MD4": true, "SHA": true, "SHA1": true, "SHA224": true,
	"SHA256": true, "SHA384": true, "SHA512": true, "SHA3-224": true, "SHA3-256": true, "SHA3-384": true,
	"SHA3-512": true, "RMD160": true, "TIGER": true, "WHIRLPOOL": true, "AES128": true, "AES256": true,
	"AES128CMAC": true, "AES256CMAC": true, "AES-128-CMAC": true, "AES-256-CMAC": true, "CMAC": true}

// ntpSymmetricKey reports whether text, a keys file (ntpKeyFiles), gives a literal key: a line
// ID TYPE KEY (ID a number, TYPE one of ntpKeyTypes; KEY ASCII or hexadecimal, chrony's
// HEX:... and ASCII:... too), or chrony's ID HEX:KEY or ID ASCII:KEY without a type. # starts a
// comment.
func ntpSymmetricKey(text string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(f) > 3 || strings.Trim(f[0], "0123456789") != "" {
			continue
		}
		key := f[len(f)-1]
		if len(f) == 3 && !ntpKeyTypes[strings.ToUpper(f[1])] {
			continue
		}
		upper := strings.ToUpper(key)
		switch {
		case strings.HasPrefix(upper, "HEX:"), strings.HasPrefix(upper, "ASCII:"):
			_, key, _ = strings.Cut(key, ":")
		case len(f) == 2:
			continue
		}
		if literalPasswordField(key) {
			return true
		}
	}
	return false
}

// literalPasswordField reports whether v, a password a configuration reader took out of its
// line (quotes removed), is a literal one: not empty, a variable, a template, an expansion
// (FreeRADIUS's %{...}) or a placeholder.
func literalPasswordField(v string) bool {
	return v != "" && !strings.ContainsAny(v, "<>{}") && !shellExpansion(v) && credentialValue("password", v)
}

// jaasUserModules are the JAAS login modules whose user_NAME options are users' passwords:
// Kafka's PlainLoginModule and ZooKeeper's DigestLoginModule.
var jaasUserModules = []string{"PlainLoginModule", "DigestLoginModule"}

// jaasUserPassword names the first user_NAME option of a JAAS login module in text that gives a
// literal password, "" when none: the users Kafka's PlainLoginModule and ZooKeeper's
// DigestLoginModule accept (user_alice="PASSWORD", user_super=PASSWORD), in a JAAS file or in
// Kafka's sasl.jaas.config property (or a variable holding its value). The options read are
// those after one of jaasUserModules, up to the next login module named (another module's
// options are its own). A line that starts a comment (//, /*, *, #) is skipped; a value is
// quoted or runs to a blank or ';'.
func jaasUserPassword(text string) string {
	if !strings.Contains(text, "LoginModule") || !strings.Contains(text, "user_") {
		return ""
	}
	inUsers := false
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "//") || strings.HasPrefix(t, "/*") || strings.HasPrefix(t, "*") || strings.HasPrefix(t, "#") {
			continue
		}
		if m := strings.LastIndex(t, "LoginModule"); m >= 0 {
			inUsers = slices.ContainsFunc(jaasUserModules, func(u string) bool { return strings.HasSuffix(t[:m+len("LoginModule")], u) })
			t = t[m+len("LoginModule"):]
		}
		if !inUsers {
			continue
		}
		for i := 0; i < len(t); {
			j := strings.Index(t[i:], "user_")
			if j < 0 {
				break
			}
			start := i + j
			i = start + len("user_")
			if start > 0 && strings.IndexByte(" \t{;=", t[start-1]) < 0 {
				continue
			}
			end := i
			for end < len(t) && (isASCIIAlnum(t[end]) || strings.IndexByte("._-@", t[end]) >= 0) {
				end++
			}
			if end == i {
				continue
			}
			rest := strings.TrimLeft(t[end:], " \t")
			if !strings.HasPrefix(rest, "=") {
				continue
			}
			v, ok := directiveValue(strings.TrimLeft(rest[1:], " \t"), `"`, " \t;")
			if ok && literalPasswordField(v) {
				return t[start:end]
			}
		}
	}
	return ""
}

// directiveValue is the value at the start of v (its leading blanks trimmed): the text between
// a quote of quotes and the next same quote (false when none closes it), or else the text up
// to the first byte of stops (JAAS options, FreeRADIUS check items).
func directiveValue(v, quotes, stops string) (string, bool) {
	if v != "" && strings.IndexByte(quotes, v[0]) >= 0 {
		q := strings.IndexByte(v[1:], v[0])
		if q < 0 {
			return "", false
		}
		return v[1 : q+1], true
	}
	if k := strings.IndexAny(v, stops); k >= 0 {
		v = v[:k]
	}
	return v, true
}

// freeRADIUSPasswordAttributes are the check items, in lower case, of FreeRADIUS's users file
// (mods-config/files/authorize) that give a user's password: Cleartext-Password, User-Password,
// version 4's Password.Cleartext, and NT-Password, the NT hash MS-CHAP authenticates with as
// with the password.
var freeRADIUSPasswordAttributes = []string{"cleartext-password", "user-password", "password.cleartext", "nt-password"}

// freeRADIUSPassword names the first of freeRADIUSPasswordAttributes that a line of text sets to
// a literal, "" when none: the attribute (any case) after a blank, a ',' or the line's start,
// then an operator (:=, ==, =, +=) and its value, quoted or up to a ',' or blank. A line that
// starts with # is a comment; text in quotes is no attribute.
func freeRADIUSPassword(text string) string {
	if !containsFold(text, "password") {
		return ""
	}
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || !containsFold(t, "password") {
			continue
		}
		lower := strings.ToLower(t)
		for _, attr := range freeRADIUSPasswordAttributes {
			for i := 0; i < len(lower); {
				j := strings.Index(lower[i:], attr)
				if j < 0 {
					break
				}
				start := i + j
				i = start + len(attr)
				if start > 0 && strings.IndexByte(" \t,", lower[start-1]) < 0 {
					continue
				}
				rest := strings.TrimLeft(t[i:], " \t")
				op := ""
				for _, o := range []string{":=", "==", "+=", "="} {
					if strings.HasPrefix(rest, o) {
						op = o
						break
					}
				}
				if op == "" {
					continue
				}
				v, ok := directiveValue(strings.TrimLeft(rest[len(op):], " \t"), `"'`, " \t,")
				if ok && literalPasswordField(v) {
					return t[start:i]
				}
			}
		}
	}
	return ""
}

// snmpAuthProtocols and snmpPrivProtocols are the protocols, in upper case, Net-SNMP's
// createUser takes for a user's authentication and privacy.
var (
	snmpAuthProtocols = map[string]bool{"MD5": true, "SHA": true, "SHA1": true, "SHA-1": true, "SHA-224": true,
		"SHA-256": true, "SHA-384": true, "SHA-512": true}
	snmpPrivProtocols = map[string]bool{"DES": true, "AES": true, "AES128": true, "AES-128": true, "AES192": true,
		"AES-192": true, "AES256": true, "AES-256": true, "AES192C": true, "AES256C": true}
)

// snmpCreateUserPassphrase reports whether text holds Net-SNMP's createUser [-e ENGINEID] USER
// AUTHPROTO AUTHPASS [PRIVPROTO [PRIVPASS]] (snmpd.conf) with a literal passphrase (quoted or
// not). A line that starts with # is a comment.
func snmpCreateUserPassphrase(text string) bool {
	if !containsFold(text, "createuser") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		if !lineMayHoldFold(line, "createuser") {
			continue // not split into words
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.EqualFold(f[0], "createUser") {
			continue
		}
		i := 1
		if f[i] == "-e" {
			i += 2
		}
		// f[i] is the user; then the authentication protocol and passphrase, and the privacy
		// protocol and passphrase.
		for _, p := range []struct {
			at    int
			known map[string]bool
		}{{i + 1, snmpAuthProtocols}, {i + 3, snmpPrivProtocols}} {
			if p.at+1 >= len(f) || !p.known[strings.ToUpper(f[p.at])] {
				break
			}
			if literalPasswordField(strings.Trim(f[p.at+1], `"'`)) {
				return true
			}
		}
	}
	return false
}

// snmpCommunityFields are Net-SNMP's snmpd.conf directives that give a community string, by the
// index of the field that holds it: rocommunity and rwcommunity COMMUNITY [SOURCE [OID | -V
// VIEW [CONTEXT]]] and their IPv6 forms, com2sec [-Cn CONTEXT] NAME SOURCE COMMUNITY and its
// IPv6 form, and trapcommunity COMMUNITY.
var snmpCommunityFields = map[string]int{"rocommunity": 1, "rwcommunity": 1, "rocommunity6": 1, "rwcommunity6": 1,
	"trapcommunity": 1, "com2sec": 3, "com2sec6": 3}

// nutMonitorTypes are the last field of NUT's upsmon.conf MONITOR line: primary and secondary,
// and their older names master and slave.
var nutMonitorTypes = map[string]bool{"primary": true, "secondary": true, "master": true, "slave": true}

// directivePassword says which directive of text, "" when none, gives a literal password as a
// positional field (each line read as the shell splits words, quotes taken off; a line whose
// first word starts with # is a comment):
//
//   - a Net-SNMP community string (snmpCommunityFields): SNMPv1 and v2c authenticate with the
//     community alone. public and private, the well-known ones, are judged as any other literal,
//     as a well-known default password is;
//   - NUT's upsmon.conf MONITOR SYSTEM POWERVALUE USER PASSWORD TYPE (nutMonitorTypes), the
//     password upsmon logs in to upsd with;
//   - ProFTPD's mod_sql SQLConnectInfo DB@HOST USER PASSWORD [POLICY], the database's password.
func directivePassword(text string) string {
	if !containsFold(text, "community") && !containsFold(text, "com2sec") && !strings.Contains(text, "MONITOR") &&
		!containsFold(text, "sqlconnectinfo") {
		return ""
	}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		first, _, _ := strings.Cut(line, " ")
		first, _, _ = strings.Cut(first, "\t")
		directive := strings.ToLower(first)
		if snmpCommunityFields[directive] == 0 && first != "MONITOR" && directive != "sqlconnectinfo" {
			continue
		}
		f := shellWords(line)
		if len(f) < 2 || f[0] != first {
			continue
		}
		field := func(i int) string { return strings.Trim(f[i], `"'`) }
		switch {
		case snmpCommunityFields[directive] > 0:
			i := snmpCommunityFields[directive]
			if strings.HasPrefix(directive, "com2sec") && f[1] == "-Cn" {
				i += 2
			}
			if i < len(f) && literalPasswordField(field(i)) {
				return "snmpd.conf's " + f[0] + " gives a community string"
			}
		case f[0] == "MONITOR":
			if len(f) == 6 && strings.Trim(f[2], "0123456789") == "" && nutMonitorTypes[strings.ToLower(f[5])] && literalPasswordField(field(4)) {
				return "upsmon.conf's MONITOR gives a password"
			}
		case directive == "sqlconnectinfo":
			if len(f) >= 4 && literalPasswordField(field(3)) {
				return "ProFTPD's SQLConnectInfo gives a password"
			}
		}
	}
	return ""
}

// binaryMagics are the first bytes of the binary formats a base64 value of a ConfigMap often
// is, random-looking though they are past them: gzip, zlib, zip, zstd, xz, bzip2, PNG, JPEG,
// GIF and PDF, and an AWS KMS ciphertext blob (AQICAH...: ciphertext only KMS decrypts).
var binaryMagics = []string{"\x01\x02\x02\x00", "\x1f\x8b", "\x78\x01", "\x78\x5e", "\x78\x9c", "\x78\xda", "PK\x03\x04",
	"\x28\xb5\x2f\xfd", "\xfd7zXZ", "BZh", "\x89PNG", "\xff\xd8\xff", "GIF8", "%PDF"}

// mongoDBKeyFile reports whether v, the whole value, is a MongoDB keyfile (security.keyFile:
// the shared key with which a replica set's and a sharded cluster's members authenticate to
// each other, and whoever holds it joins as one with full access), whatever the key is named:
// 756 to 1024 characters of the standard base64 alphabet once blank space is taken off (MongoDB
// takes 6 to 1024 and ignores blank space; its instruction, openssl rand -base64 756, gives 1008
// in lines of 64), decoding to random bytes: at least 200 distinct byte values (567 random bytes
// hold about 228; text fewer than 100), no ASN.1 DER (a certificate in base64 without its PEM
// armour, which is public) and none of binaryMagics. A shorter keyfile is too like any other
// base64 value to be told from it.
func mongoDBKeyFile(v string) bool {
	if len(v) < 756 || len(v) > 1200 {
		return false
	}
	var b [1024]byte
	n, pad := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case n == len(b):
			return false
		case c == '=':
			pad++
			b[n] = c
			n++
		case pad == 0 && ('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'):
			b[n] = c
			n++
		default:
			return false
		}
	}
	if n < 756 || pad > 2 {
		return false
	}
	text := strings.TrimRight(string(b[:n]), "=")
	decoded, err := base64.RawStdEncoding.DecodeString(text[:len(text)-len(text)%4])
	if err != nil || len(decoded) == 0 || decoded[0] == 0x30 {
		return false
	}
	for _, m := range binaryMagics {
		if strings.HasPrefix(string(decoded), m) {
			return false
		}
	}
	var seen [256]bool
	distinct := 0
	for _, c := range decoded {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	return distinct >= 200
}

// iscKeySecret reports whether text holds an ISC key statement whose secret is a literal:
// key NAME { algorithm ALG; secret "BASE64"; }; as BIND 9 reads it in named.conf, rndc.key and
// rndc.conf (and nsupdate -k in a key file), and ISC DHCP in dhcpd.conf (where the secret is
// often unquoted and the closing brace takes no semicolon), whatever the key of the ConfigMap is
// named (named.conf includes files of any name). The secret is a TSIG key: an rndc key controls
// the name server (reload, stop, freeze and dump its zones), and a transfer or update key
// transfers or rewrites the zones it is allowed on. secret VALUE is a one-word directive, which
// is read as a setting nowhere else (in prose a secret is a word), so only inside a key block.
// The value must be base64, as BIND and dhcpd take it, and a literal (literalCredential): a
// template's {{ ... }} or ${VAR} is none. A key named elsewhere (keys { "rndc-key"; }, key
// DHCP_UPDATER; in a zone) has no block, and comments (#, // and /* */, as both lexers skip
// them) are left out. One pass over the text, tokenised as the ISC lexers do: quoted strings,
// braces, semicolons and words.
func iscKeySecret(text string) bool {
	if !containsFold(text, "secret") {
		return false
	}
	// state: 0 outside, 1 after key, 2 after key NAME, 3 in its block, 4 after secret there, 5
	// after secret VALUE there.
	state, value := 0, ""
	for i := 0; i < len(text); {
		c := text[i]
		var tok string
		quoted := false
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case c == '#' || c == '/' && i+1 < len(text) && text[i+1] == '/':
			for i < len(text) && text[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return false
			}
			i += end + 4
			continue
		case c == '"':
			end := strings.IndexByte(text[i+1:], '"')
			if end < 0 {
				return false
			}
			tok, quoted = text[i+1:i+1+end], true
			i += end + 2
		case c == '{' || c == '}' || c == ';':
			tok = text[i : i+1]
			i++
		default:
			j := i
			for j < len(text) && !strings.ContainsRune(" \t\r\n{};\"#", rune(text[j])) {
				j++
			}
			tok = text[i:j]
			i = j
		}
		word := !quoted && tok != "{" && tok != "}" && tok != ";"
		switch {
		case state == 0 && word && strings.EqualFold(tok, "key"):
			state = 1
		case state == 1 && (quoted || word):
			state = 2
		case state == 2 && !quoted && tok == "{":
			state = 3
		case state == 3 && word && strings.EqualFold(tok, "secret"):
			state = 4
		case state == 4 && (quoted || word):
			state, value = 5, tok
		case state == 5 && !quoted && tok == ";":
			if tsigSecret(value) {
				return true
			}
			state = 3
		case state >= 3 && !quoted && tok == "}":
			state = 0
		case state == 3:
			// algorithm ALG; and whatever else the block holds
		case state == 4 || state == 5:
			state = 3
		default:
			state = 0
		}
	}
	return false
}

// tsigSecret reports whether v, the value of an ISC key statement's secret, is a literal TSIG
// key: base64 (padded or not), as BIND's and dhcpd's parsers take it, and a literal.
func tsigSecret(v string) bool {
	if len(v) < 4 {
		return false
	}
	if _, err := base64.StdEncoding.DecodeString(v); err != nil {
		if _, err := base64.RawStdEncoding.DecodeString(v); err != nil {
			return false
		}
	}
	return literalCredential(v)
}

// tacacsKey reports whether text, a ConfigMap key's value named name, is tac_plus's
// configuration with a literal TACACS+ shared secret: key = VALUE (quoted or not) at top level
// or in a host block (tac_plus.conf), or in a host or device block of tac_plus-ng, on its own
// line or beside other settings (device world { address = 0.0.0.0/0 key = demo }). Whoever holds
// the key speaks TACACS+ to the server as the network devices it serves (authenticates their
// users, reads their authorisations, writes accounting) and reads those devices' TACACS+ traffic.
// key is a word of many formats, so the text must read as tac_plus's: its name or its text says
// tac_plus or TACACS, or it has tac_plus's accounting file or default service directives. The
// value must be a literal (literalCredential): a template's {{ ... }}, ${VAR} and a path are
// none; # starts a comment outside quotes. Cheap for other text: whole-value tests first.
func tacacsKey(name, text string) bool {
	if !strings.Contains(text, "key") {
		return false
	}
	base := strings.ToLower(path.Base(name))
	if !strings.Contains(base, "tac_plus") && !strings.Contains(base, "tacacs") && !strings.Contains(base, "tac-plus") &&
		!strings.Contains(text, "tac_plus") && !containsFold(text, "tacacs") &&
		!strings.Contains(text, "accounting file") && !strings.Contains(text, "default service") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		for from := 0; ; {
			i := strings.Index(line[from:], "key")
			if i < 0 {
				break
			}
			i += from
			from = i + 3
			if strings.IndexByte(line[:i], '#') >= 0 && strings.Count(line[:strings.IndexByte(line[:i], '#')], "\"")%2 == 0 {
				break // the rest of the line is a comment
			}
			if i > 0 && !strings.ContainsRune(" \t{", rune(line[i-1])) {
				continue
			}
			rest := strings.TrimLeft(line[from:], " \t")
			if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "==") {
				continue
			}
			rest = strings.TrimLeft(rest[1:], " \t")
			var value string
			if strings.HasPrefix(rest, "\"") {
				end := strings.IndexByte(rest[1:], '"')
				if end < 0 {
					continue
				}
				value = rest[1 : 1+end]
			} else {
				end := strings.IndexAny(rest, " \t#;")
				if end < 0 {
					end = len(rest)
				}
				value = rest[:end]
				if !strings.Contains(value, "{") {
					value, _, _ = strings.Cut(value, "}") // key = demo} closes a block
				}
			}
			if literalCredential(value) {
				return true
			}
		}
	}
	return false
}

// pulsarTokenParameters reports whether text sets Apache Pulsar's token authentication
// parameters to a literal token: authParams=token:VALUE (client.conf, pulsar-admin and the
// clients' configuration) or brokerClientAuthenticationParameters=token:VALUE (broker.conf,
// proxy.conf, and the function worker's YAML, where it is NAME: "token:VALUE"), whatever the
// token looks like (gitleaks finds JWTs only). Whoever holds it produces and consumes as the
// token's role; the brokers' client token is usually a superuser's. The name ends in authParams
// or AuthenticationParameters (any case), then = or :, then token: and the value, which must be
// a literal (literalCredential): file:///path (the value's other form, a file) is no token: and
// ${VAR}, {{ ... }} and <...> are none; a line starting with # is a comment. Cheap for other
// text: one substring test on the whole value first.
func pulsarTokenParameters(text string) bool {
	if !strings.Contains(text, "token:") {
		return false
	}
	for from := 0; ; {
		i := strings.Index(text[from:], "token:")
		if i < 0 {
			return false
		}
		i += from
		from = i + len("token:")
		start := strings.LastIndexByte(text[:i], '\n') + 1
		before := strings.TrimRight(text[start:i], " \t\"'")
		if len(before) == 0 || before[len(before)-1] != '=' && before[len(before)-1] != ':' {
			continue
		}
		before = strings.TrimLeft(strings.TrimRight(before[:len(before)-1], " \t\"'"), " \t\"'-")
		if strings.HasPrefix(before, "#") ||
			!hasSuffixFold(before, "authParams") && !hasSuffixFold(before, "AuthenticationParameters") {
			continue
		}
		end := strings.IndexAny(text[from:], " \t\r\n\"'#")
		if end < 0 {
			end = len(text) - from
		}
		if literalCredential(text[from : from+end]) {
			return true
		}
	}
}

// hasSuffixFold reports whether s ends in suffix, ignoring ASCII case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// dovecotStaticPassword reports whether text holds a Dovecot static passdb whose args give a
// literal password: passdb { driver = static; args = password=VALUE } (the driver before or
// after its args) or the older passdb static { args = password=VALUE }. Every user logs in with
// that password, so whoever holds it reads every mailbox the server keeps. The args are
// blank-separated NAME=VALUE pairs; nopassword=y, a %{...} variable, ${VAR} and {{ ... }} are
// no literal (literalCredential), and neither is another driver's args. A line starting with #
// is a comment. Cheap for other text: two substring tests on the whole value first.
func dovecotStaticPassword(text string) bool {
	if !strings.Contains(text, "passdb") || !strings.Contains(text, "password=") {
		return false
	}
	in, static, literal := false, false, false
	for line := range strings.SplitSeq(text, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case fields[0] == "passdb" && fields[len(fields)-1] == "{":
			in, static, literal = true, len(fields) == 3 && fields[1] == "static", false
		case !in:
		case fields[0] == "}":
			if static && literal {
				return true
			}
			in = false
		case len(fields) >= 3 && fields[0] == "driver" && fields[1] == "=":
			static = fields[2] == "static"
		case len(fields) >= 3 && fields[0] == "args" && fields[1] == "=":
			for _, arg := range fields[2:] {
				if v, ok := strings.CutPrefix(arg, "password="); ok && !strings.HasPrefix(v, "%") &&
					literalCredential(strings.Trim(v, "\"")) {
					literal = true
				}
			}
		}
	}
	return in && static && literal // a block the text does not close
}
