package checks

import "testing"

// TestUserPasswordNamesHoldingAServer: a name that holds USER:PASSWORD (CONSUL_HTTP_AUTH,
// PROXY_AUTH) given a server, HOST:PORT, holds no credential. Before, only a bare AUTH's
// server passed: CONSUL_HTTP_AUTH=localhost:8500 failed. A user with a password of digits
// still fails.
func TestUserPasswordNamesHoldingAServer(t *testing.T) {
	tests := map[string]struct {
		name, value string
		want        bool
	}{
		"localhost":                 {"CONSUL_HTTP_AUTH", "localhost:8500", false},
		"an IPv4 address":           {"NOMAD_HTTP_AUTH", "10.0.0.12:4646", false},
		"a cluster service":         {"PROXY_AUTH", "squid.proxy.svc:3128", false},
		"a cluster service, FQDN":   {"PROXY_AUTH", "squid.proxy.svc.cluster.local:3128", false},
		"a Consul name":             {"CONSUL_HTTP_AUTH", "consul.service.consul:8500", false},
		"a host name":               {"CONSUL_HTTP_AUTH", "consul.example.com:8500", false},
		"a password of digits":      {"CONSUL_HTTP_AUTH", "operator:20242024", true},
		"a dotted user, digits":     {"CONSUL_HTTP_AUTH", "john.doe:1234", true},
		"localhost, not a port":     {"CONSUL_HTTP_AUTH", "localhost:123456", true},
		"localhost, a leading zero": {"CONSUL_HTTP_AUTH", "localhost:08080", true},
		"a user and password":       {"CONSUL_HTTP_AUTH", "operator:Orders-2024x", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential(tc.name, tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(%q, %q) = %q, want a credential %v", tc.name, tc.value, got, tc.want)
			}
			text := tc.name + "=" + tc.value + "\n"
			if got := keyCredential("app.env", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(app.env, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
}

// TestAlertmanagerReceiverKeys judges the receiver settings Alertmanager types as <secret>
// though no credential word names them: PagerDuty's routing_key and service_key (an integration
// key: whoever holds it can open and resolve incidents) and Pushover's user_key. Before, only
// gitleaks' generic-api-key found them, by entropy: about one in five random 32-hex-digit
// routing keys passed (the first below among them).
func TestAlertmanagerReceiverKeys(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"PagerDuty routing_key, a list item": {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: 1111aaaa2222bbbb1111aaaa2222bbbb\n", true},
		"PagerDuty service_key, indented":    {"receivers:\n  - name: pd\n    pagerduty_configs:\n      - send_resolved: true\n        service_key: \"Orders2024deploy\"\n", true},
		"Pushover user_key":                  {"receivers:\n- name: po\n  pushover_configs:\n  - user_key: 'Orders2024deploy'\n    token_file: /etc/po/token\n", true},
		"a routing_key_file":                 {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key_file: /etc/pd/key\n", false},
		"a template":                         {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: '{{ .Values.pdKey }}'\n", false},
		"a variable":                         {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: ${PD_ROUTING_KEY}\n", false},
		"a placeholder":                      {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key: <routing-key>\n", false},
		"an AMQP routing_key elsewhere":      {"receivers:\n- name: pd\n  pagerduty_configs:\n  - routing_key_file: /k\n- name: wh\n  webhook_configs:\n  - url: http://relay\n    routing_key: orders.created\n", false},
		"RabbitMQ's routing_key":             {"exchange: orders\nrouting_key: orders.created\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("alertmanager.yml", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(alertmanager.yml, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestHashRocketSettingsInsideALine judges name => value inside a line, as a one-line Logstash
// pipeline (output { elasticsearch { user => "u" password => "p" } }) and Ruby's and PHP's
// hashes write it. Before, only a line that starts with its setting was read, so these passed.
func TestHashRocketSettingsInsideALine(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"Logstash, one line":       {`output { elasticsearch { hosts => ["es:9200"] user => "elastic" password => "Orders-2024" } }`, true},
		"Logstash, unquoted":       {`output { elasticsearch { user => elastic password => Orders-2024 } }`, true},
		"jdbc_password":            {`input { jdbc { jdbc_user => "app" jdbc_password => 'Orders-2024' } }`, true},
		"PHP array":                {`$db = array('host' => 'db', 'password' => 'Orders-2024');`, true},
		"Ruby hash, a symbol name": {`config = { :user => "app", :password => "Orders-2024" }`, true},
		"Logstash, a variable":     {`output { elasticsearch { user => "elastic" password => "${ES_PASSWORD}" } }`, false},
		"PHP, a function call":     {`$db = array('host' => 'db', 'password' => getenv('DB_PASSWORD'));`, false},
		"PHP, a variable":          {`$db = array('host' => 'db', 'password' => $pw);`, false},
		"a comparison":             {`if password >= 8 then`, false},
		"an empty value":           {`output { elasticsearch { user => "elastic" password => "" } }`, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("pipeline.conf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(pipeline.conf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
			if got := envCredential("PIPELINE_CONFIG", tc.text); (got != "") != tc.want {
				t.Errorf("envCredential(PIPELINE_CONFIG, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestSquidPeerLogin judges Squid's cache_peer login=USER:PASSWORD, the credentials Squid sends
// its parent proxy (and login=*:PASSWORD, a fixed password after the client's user). Before,
// login is no credential word and the pair passed; PASSTHRU, PASS, PROXYPASS and NEGOTIATE
// forward or negotiate credentials and are none.
func TestSquidPeerLogin(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"a parent's user and password": {"http_port 3128\ncache_peer parent.corp parent 3128 0 no-query default login=deploy:Orders-2024\n", true},
		"a fixed password":             {"cache_peer parent.corp parent 3128 0 login=*:Orders-2024 no-digest\n", true},
		"indented, tabs":               {"  cache_peer\tparent.corp\tparent\t3128\t0\tlogin=deploy:Orders-2024\n", true},
		"PASSTHRU":                     {"cache_peer parent.corp parent 3128 0 login=PASSTHRU\n", false},
		"PASS":                         {"cache_peer parent.corp parent 3128 0 login=PASS\n", false},
		"NEGOTIATE with a principal":   {"cache_peer parent.corp parent 3128 0 login=NEGOTIATE:HTTP/proxy.corp@CORP\n", false},
		"a variable":                   {"cache_peer parent.corp parent 3128 0 login=deploy:${PEER_PASSWORD}\n", false},
		"a comment":                    {"# cache_peer parent.corp parent 3128 0 login=deploy:Orders-2024\n", false},
		"no login":                     {"cache_peer parent.corp parent 3128 0 no-query\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("squid.conf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(squid.conf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
			if got := envCredential("SQUID_CONFIG", tc.text); (got != "") != tc.want {
				t.Errorf("envCredential(SQUID_CONFIG, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestOpenVPNAuthUserPass judges OpenVPN's credentials for auth-user-pass: a file of two lines,
// the user and the password, as a ConfigMap key named for it (auth.txt, *.auth), or as the key
// of the same ConfigMap that a client configuration's auth-user-pass names (the finding is the
// client's), and the same two lines inline in a configuration
// (<auth-user-pass>...</auth-user-pass>). Before, these passed.
func TestOpenVPNAuthUserPass(t *testing.T) {
	client := "client\nremote vpn.corp 1194\nauth-user-pass /etc/openvpn/vpn-login\n"
	tests := map[string]struct {
		key, text string
		data      map[string]string
		want      bool
	}{
		"a file the client names":      {"client.ovpn", client, map[string]string{"vpn-login": "deploy\nOrders-2024\n"}, true},
		"auth.txt":                     {"auth.txt", "deploy\nOrders-2024\n", nil, true},
		"vpn.auth, no final newline":   {"vpn.auth", "deploy\r\nOrders-2024", nil, true},
		"inline":                       {"client.ovpn", "client\nremote vpn.corp 1194\n<auth-user-pass>\ndeploy\nOrders-2024\n</auth-user-pass>\n", nil, true},
		"a file no client names":       {"vpn-login", "deploy\nOrders-2024\n", map[string]string{"client.ovpn": "client\nauth-user-pass /etc/openvpn/other\n"}, false},
		"the client, no such key":      {"client.ovpn", client, map[string]string{"other": "deploy\nOrders-2024\n"}, false},
		"the client, a variable":       {"client.ovpn", client, map[string]string{"vpn-login": "deploy\n${VPN_PASSWORD}\n"}, false},
		"auth.txt, one line":           {"auth.txt", "deploy\n", nil, false},
		"auth.txt, three lines":        {"auth.txt", "first\nsecond\nthird\n", nil, false},
		"auth.txt, a variable":         {"auth.txt", "deploy\n${VPN_PASSWORD}\n", nil, false},
		"auth.txt, a sentence":         {"auth.txt", "see the wiki\nfor the password\n", nil, false},
		"inline, a variable":           {"client.ovpn", "<auth-user-pass>\ndeploy\n${VPN_PASSWORD}\n</auth-user-pass>\n", nil, false},
		"auth-user-pass with no file":  {"client.ovpn", "client\nauth-user-pass\n", nil, false},
		"an ordinary key of two lines": {"hosts", "db\nOrders-2024\n", nil, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data := map[string]string{tc.key: tc.text}
			for k, v := range tc.data {
				data[k] = v
			}
			if got := keyCredential(tc.key, tc.text, false, data); (got != "") != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestWebhookURLsWithTheirKey judges incoming-webhook URLs that carry their key where gitleaks'
// rules see none: an Azure Functions HTTP trigger's function key (?code=KEY on
// *.azurewebsites.net), a Telegram bot's token in the Bot API's path
// (https://api.telegram.org/botID:TOKEN/sendMessage: gitleaks' telegram-bot-api-token wants a
// boundary before the ID, and "bot" is none) and an IFTTT Webhooks key (/with/key/KEY). Whoever
// has the URL runs the function, posts as the bot or fires the applet. Before, these passed.
func TestWebhookURLsWithTheirKey(t *testing.T) {
	tests := map[string]struct {
		value string
		want  bool
	}{
		"Azure Functions":              {"https://orders-fn.azurewebsites.net/api/HttpTrigger1?code=q3Zk9Lw2Xv7Rn4Bt8Yp1Mc6Hd0Jf5Gs2Ka9Qe3Wr7Tu1Io4Pl==", true},
		"Azure Functions, encoded":     {"https://orders-fn.azurewebsites.net/api/alert?clientId=default&code=q3Zk9Lw2Xv7Rn4Bt8Yp1Mc6Hd0Jf5Gs2Ka9Qe3Wr7Tu1Io4Pl%3D%3D", true},
		"Telegram":                     {"https://api.telegram.org/bot123456789:AAHk9Lw2Xv7Rn4Bt8Yp1Mc6Hd0Jf5Gs2Ka9/sendMessage?chat_id=-100123", true},
		"IFTTT":                        {"https://maker.ifttt.com/trigger/alert/with/key/dOrders2024deployXyz1", true},
		"IFTTT, JSON":                  {"https://maker.ifttt.com/trigger/alert/json/with/key/dOrders2024deployXyz1", true},
		"Azure Functions, no code":     {"https://orders-fn.azurewebsites.net/api/HttpTrigger1", false},
		"Azure Functions, a variable":  {"https://orders-fn.azurewebsites.net/api/alert?code=${FUNCTION_KEY}", false},
		"Azure Functions, placeholder": {"https://orders-fn.azurewebsites.net/api/alert?code=<function-key>", false},
		"another host's code":          {"https://auth.example.com/callback?code=q3Zk9Lw2Xv7Rn4Bt8Yp1Mc6Hd0Jf5Gs2Ka9", false},
		"Telegram, a variable":         {"https://api.telegram.org/bot${BOT_TOKEN}/sendMessage", false},
		"Telegram, a placeholder":      {"https://api.telegram.org/bot<token>/sendMessage", false},
		"Telegram, the API's root":     {"https://api.telegram.org/", false},
		"IFTTT, a placeholder":         {"https://maker.ifttt.com/trigger/alert/with/key/YOUR_KEY", false},
		"IFTTT, no key":                {"https://maker.ifttt.com/trigger/alert/with/key/", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := envCredential("ALERT_URL", tc.value); (got != "") != tc.want {
				t.Errorf("envCredential(ALERT_URL, %q) = %q, want a credential %v", tc.value, got, tc.want)
			}
			text := "receivers:\n- name: hook\n  webhook_configs:\n  - url: " + tc.value + "\n"
			if got := keyCredential("alertmanager.yml", text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(alertmanager.yml, %q) = %q, want a credential %v", text, got, tc.want)
			}
		})
	}
}

// TestPostfixPasswordMaps judges Postfix's SASL password table given inline in main.cf or
// postconf: smtp_sasl_password_maps = static:USER:PASSWORD, and inline:{ NEXTHOP=USER:PASSWORD }.
// Before, the setting's name ends in maps, no credential word, so these passed; a table in a
// file (hash:/etc/postfix/sasl_passwd) names no password.
func TestPostfixPasswordMaps(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"static":                   {"relayhost = [smtp.sendgrid.net]:587\nsmtp_sasl_auth_enable = yes\nsmtp_sasl_password_maps = static:apikey:Orders-2024-deploy\n", true},
		"inline":                   {"smtp_sasl_password_maps = inline:{ [smtp.example.com]:587=deploy:Orders-2024 }\n", true},
		"inline, the second entry": {"smtp_sasl_password_maps = inline:{ [a.example.com]:587=${U}:${P}, [smtp.example.com]:587=deploy:Orders-2024 }\n", true},
		"postconf -e in a script":  {"#!/bin/sh\npostconf -e 'smtp_sasl_password_maps=static:deploy:Orders-2024'\n", true},
		"LMTP's":                   {"lmtp_sasl_password_maps = static:deploy:Orders-2024\n", true},
		"a hash table's file":      {"smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd\n", false},
		"static, a variable":       {"smtp_sasl_password_maps = static:${RELAY_USER}:${RELAY_PASSWORD}\n", false},
		"static, no password":      {"smtp_sasl_password_maps = static:deploy\n", false},
		"a lookup table of users":  {"smtpd_sender_login_maps = static:deploy:Orders-2024\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("main.cf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(main.cf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
			if got := envCredential("POSTFIX_MAIN_CF", tc.text); (got != "") != tc.want {
				t.Errorf("envCredential(POSTFIX_MAIN_CF, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}

// TestRealmPropertiesUsers judges the user files of Jetty's HashLoginService (realm.properties,
// ActiveMQ's jetty-realm.properties: USER: PASSWORD[, ROLE...]; OBF:, MD5: and CRYPT: forms are
// a reversible obfuscation or a hash, judged as the password) and of ActiveMQ, Artemis and
// Karaf (users.properties, artemis-users.properties: USER=PASSWORD[,ROLE...]). Before, no key
// of these files names a credential, so they passed; ActiveMQ's published admin: admin, admin
// among them.
func TestRealmPropertiesUsers(t *testing.T) {
	tests := map[string]struct {
		key, text string
		want      bool
	}{
		"Jetty realm":                  {"realm.properties", "# USER: PASSWORD, ROLE\nadmin: Orders-2024, admin\n", true},
		"ActiveMQ's jetty-realm":       {"jetty-realm.properties", "admin: admin, admin\nuser: user, user\n", true},
		"Jetty OBF":                    {"realm.properties", "deploy: OBF:1v2j1uum1xtv1zej1zer1xtn1uvk1v1v, user\n", true},
		"ActiveMQ users":               {"users.properties", "admin=Orders-2024\n", true},
		"Artemis users":                {"artemis-users.properties", "deploy = Orders-2024\n", true},
		"Karaf users with roles":       {"users.properties", "karaf = Orders-2024,_g_:admingroup\n", true},
		"Artemis, encrypted":           {"artemis-users.properties", "deploy = ENC(-4b6e8e7d3c5f2a1b)\n", false},
		"a variable":                   {"users.properties", "admin=${ADMIN_PASSWORD}\n", false},
		"a group only":                 {"users.properties", "_g_\\:admingroup = group,admin,manager\n", false},
		"comments only":                {"realm.properties", "# admin: admin, admin\n", false},
		"another properties file":      {"application.properties", "admin=Orders-2024\n", false},
		"Artemis roles, not passwords": {"artemis-roles.properties", "amq = admin\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential(tc.key, tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(%q, %q) = %q, want a credential %v", tc.key, tc.text, got, tc.want)
			}
		})
	}
}

// TestUpstreamProxyLogins judges an upstream proxy's USER:PASSWORD@HOST:PORT, which has no
// scheme and so is no URL: tinyproxy's Upstream http|socks4|socks5 USER:PASSWORD@HOST:PORT and
// Privoxy's forward-socks5 PATTERN USER:PASSWORD@HOST:PORT NEXT. Before, these passed.
func TestUpstreamProxyLogins(t *testing.T) {
	tests := map[string]struct {
		text string
		want bool
	}{
		"tinyproxy":               {"Port 8888\nUpstream http deploy:Orders-2024@proxy.corp:8080\n", true},
		"tinyproxy, for a domain": {"Upstream socks5 deploy:Orders-2024@proxy.corp:1080 \".example.com\"\n", true},
		"Privoxy":                 {"forward-socks5 / deploy:Orders-2024@socks.corp:1080 .\n", true},
		"Privoxy, socks5t":        {"forward-socks5t .example.com deploy:Orders-2024@socks.corp:1080 .\n", true},
		"tinyproxy, no login":     {"Upstream http proxy.corp:8080\n", false},
		"tinyproxy, none":         {"Upstream none \".internal\"\n", false},
		"Privoxy, no login":       {"forward-socks5 / socks.corp:1080 .\n", false},
		"tinyproxy, a variable":   {"Upstream http deploy:${PROXY_PASSWORD}@proxy.corp:8080\n", false},
		"a comment":               {"#Upstream http deploy:Orders-2024@proxy.corp:8080\n", false},
		"Privoxy's plain forward": {"forward / parent.corp:8080\n", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := keyCredential("proxy.conf", tc.text, false); (got != "") != tc.want {
				t.Errorf("keyCredential(proxy.conf, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
			if got := envCredential("PROXY_CONFIG", tc.text); (got != "") != tc.want {
				t.Errorf("envCredential(PROXY_CONFIG, %q) = %q, want a credential %v", tc.text, got, tc.want)
			}
		})
	}
}
