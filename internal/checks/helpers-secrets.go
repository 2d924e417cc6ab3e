package checks

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

// credentialWords are the name parts that mark a credential: DB_PASSWORD, githubToken,
// client-secret (and PASS at the end: isCredentialPart). A part that ends in one of them counts too (DBPASSWORD, accesstoken), and so
// does its plural (CREDENTIALS, SECRETS). PASSWRD, PSWRD and PWORD are abbreviations of
// password that trivy-checks' KSV0109 (ConfigMap with secrets) names, PSWD the commonest of
// them (DB_PSWD). AUTHKEY is an auth key in one word (Tailscale's TS_AUTHKEY, tailscale up
// --authkey), which joins a machine to a network; MASTERKEY, ENCRYPTIONKEY and SIGNINGKEY are
// the qualified keys of credentialKeyQualifiers in one word (ZITADEL_MASTERKEY). AUTHTOK is PAM's
// word for a password, an authentication token (SSSD's ldap_default_authtok).
var credentialWords = []string{"PASSWORD", "PASSWD", "PASSWRD", "PSWRD", "PSWD", "PWORD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY",
	"PRIVATEKEY", "ACCESSKEY", "SECRETKEY", "CREDENTIAL", "AUTHKEY", "MASTERKEY", "ENCRYPTIONKEY", "SIGNINGKEY", "AUTHTOK"}

// credentialKeyQualifiers are the words that make a following KEY a credential: API_KEY,
// privateKey, AZURE_STORAGE_ACCOUNT_KEY, HMAC_KEY (an HMAC's shared key: certbot's
// --eab-hmac-key, JWT_HMAC_KEY), AUTH_KEY (Tailscale's TS_AUTH_KEY; WordPress's AUTH_KEY and
// SECURE_AUTH_KEY, which sign its login cookies, and NONCE_KEY), UNSEAL_KEY (a share of Vault's
// unseal key), ENCRYPT_KEY and GOSSIP_KEY (Serf's encrypt_key, the Consul chart's GOSSIP_KEY), and
// a key named for the cipher or signature it keys: FERNET_KEY (Airflow's, which encrypts its
// connections' passwords), JWT_KEY, CSRF_KEY, AES_KEY, CIPHER_KEY, CRYPT_KEY, CRYPTO_KEY, and a
// session's signing key, SESSION_KEY (aiohttp-session's, Flask's). A KEY on its own (CACHE_KEY)
// is not one. APP_KEY and APP_KEYS, the whole name, are one too (isCredentialPart).
var credentialKeyQualifiers = map[string]bool{
	"API": true, "PRIVATE": true, "ACCESS": true, "SECRET": true, "ACCOUNT": true,
	"ENCRYPTION": true, "SIGNING": true, "MASTER": true, "HMAC": true,
	"AUTH": true, "NONCE": true, "UNSEAL": true, "ENCRYPT": true, "GOSSIP": true,
	"FERNET": true, "JWT": true, "CSRF": true, "AES": true, "CIPHER": true, "CRYPT": true, "CRYPTO": true,
	"SESSION": true,
	// A one-time password's seed (TOTP_KEY, OTP_KEY): oneTimePasswordSeed.
	"OTP": true, "TOTP": true, "HOTP": true,
}

// wordPressKeyQualifiers are the words before which KEY or SALT is one of WordPress's
// authentication keys and salts (AUTH_KEY, SECURE_AUTH_SALT, LOGGED_IN_KEY, NONCE_SALT; the
// official image's WORDPRESS_AUTH_KEY ...): they sign its login cookies. LOGGED_IN_ counts with
// both its words.
var wordPressKeyQualifiers = map[string]bool{"AUTH": true, "NONCE": true, "IN": true}

// wordPressKey reports whether parts[i] (KEY or SALT) with the parts before it is one of
// WordPress's keys or salts (wordPressKeyQualifiers).
func wordPressKey(parts []string, i int) bool {
	if i == 0 || parts[i] != "KEY" && parts[i] != "SALT" || !wordPressKeyQualifiers[parts[i-1]] {
		return false
	}
	return parts[i-1] != "IN" || i > 1 && parts[i-2] == "LOGGED"
}

// referenceSuffixes end names that point at a credential or describe it rather than hold it:
// PASSWORD_FILE, TOKEN_PATH, SECRET_NAME, TOKEN_TTL, and the settings of a credential's
// policy (PASSWORD_POLICY, PASSWORD_MIN_LEN, PASSWORD_MAX_AGE), lifetime (TOKEN_LIFETIME,
// SESSION_TOKEN_TIMEOUT) and form (TOKEN_ISSUER, TOKEN_AUDIENCE, JWT_SECRET_ALGORITHM,
// SECRET_VERSION), a lifetime in a unit or a count or size (FastAPI's
// ACCESS_TOKEN_EXPIRE_MINUTES, Flask-JWT-Extended's JWT_ACCESS_TOKEN_EXPIRES, TOKEN_CACHE_SIZE,
// MAX_PASSWORD_ATTEMPTS; how many shares a key is split into, Vault's UNSEAL_KEY_SHARES and
// UNSEAL_KEY_THRESHOLD) and the mechanism that keeps or checks it (PASSWORD_HASHER,
// SECRETS_PROVIDER, TOKEN_STORE, TOKEN_AUTH_METHOD). A high-entropy value under such a name
// is still one gitleaks' generic-api-key rule finds.
var referenceSuffixes = map[string]bool{
	"FILE": true, "FILES": true, "PATH": true, "DIR": true, "NAME": true, "REF": true,
	"URL": true, "URI": true, "ENDPOINT": true, "HOST": true, "ARN": true, "HEADER": true,
	"TYPE": true, "TTL": true, "EXPIRY": true, "EXPIRATION": true, "LENGTH": true,
	"ENABLED": true, "REQUIRED": true,
	"POLICY": true, "COMPLEXITY": true, "MIN": true, "MAX": true, "LEN": true, "AGE": true,
	"LIFETIME": true, "TIMEOUT": true, "INTERVAL": true,
	"ISSUER": true, "AUDIENCE": true, "ALGORITHM": true, "VERSION": true,
	"EXPIRE": true, "EXPIRES": true, "SECONDS": true, "MINUTES": true, "HOURS": true, "DAYS": true,
	"SIZE": true, "LIMIT": true, "ROUNDS": true, "ATTEMPTS": true, "RETRIES": true,
	"SHARES": true, "THRESHOLD": true,
	"HASHER": true, "PROVIDER": true, "BACKEND": true, "STORE": true, "LOCATION": true,
	"METHOD": true, "FORMAT": true, "MODE": true,
	// What a credential's text starts or ends with (API_KEY_PREFIX=sk_live_,
	// SESSION_KEY_PREFIX=sess:, TOKEN_SUFFIX).
	"PREFIX": true, "SUFFIX": true,
	// The texts of a user interface about a credential: a login form's PASSWORD_LABEL,
	// passwordPlaceholder, TOKEN_PROMPT, invalid_password_message.
	"LABEL": true, "PLACEHOLDER": true, "HINT": true, "PROMPT": true, "TOOLTIP": true, "TITLE": true,
	"CAPTION": true, "DESCRIPTION": true, "HELP": true, "MESSAGE": true, "MSG": true,
}

// namesCredentialFile reports whether a name says it holds the path of a file that holds a
// credential: a credential-like name followed by FILE or PATH (POSTGRES_PASSWORD_FILE,
// tokenPath).
func namesCredentialFile(name string) bool {
	parts := nameParts(name)
	n := len(parts)
	if n < 2 || (parts[n-1] != "FILE" && parts[n-1] != "PATH") {
		return false
	}
	// AUTH_FILE names an authentication configuration as often as a password file: a bare
	// AUTH is a credential's name for a USER:PASSWORD value only (userPasswordName).
	return !(n == 2 && parts[0] == "AUTH") && credentialName(strings.Join(parts[:n-1], "_"))
}

// nameParts splits a variable or key name into upper-case words at punctuation and at camelCase
// boundaries: "spring.datasource.dbPassword" gives SPRING DATASOURCE DB PASSWORD, "APIKey"
// gives API KEY.
func nameParts(name string) []string {
	var parts []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, strings.ToUpper(string(cur)))
			cur = cur[:0]
		}
	}
	runes := []rune(name)
	for i, r := range runes {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return parts
}

// redisPasswordSettings are Redis's (and Valkey's) settings that hold a password, in one word:
// requirepass, the default user's, and masterauth, the primary's (redis.conf; redis-server
// --requirepass VALUE takes them as options).
var redisPasswordSettings = map[string]bool{"REQUIREPASS": true, "MASTERAUTH": true}

// lastCredentialParts are the parts that name a credential as a name's last part only
// (isCredentialPart).
var lastCredentialParts = map[string]bool{"PASS": true, "PW": true, "DBPASS": true, "PSK": true}

// isCredentialPart reports whether parts[i] (with the part before it) names a credential. PASS
// counts as the last part only (DB_PASS, RABBITMQ_DEFAULT_PASS, smtpPass), and only as a
// whole part (not BYPASS, COMPASS); so does PWD, after another part (MYSQL_PWD, the MySQL
// client programs' password variable, DB_PWD, dbPwd): PWD alone is the shell's working
// directory. PW counts as the last part too, alone or after another (PW, ADMIN_PW, smtpPw), and
// so does DBPASS, DB_PASS without its underscore, and a part that ends in PW (LDAP_BINDPW,
// ROOTPW: slapd's rootpw), and PSK, a pre-shared key (WIFI_PSK, IPSEC_PSK). ENCRYPT counts as the
// last part too, alone or after another (encrypt, CONSUL_ENCRYPT: gossipKeyName), for a value that
// is a gossip key only (credentialValue). So does AUTH, alone or after another part (AUTH,
// CONSUL_HTTP_AUTH, FLOWER_BASIC_AUTH, proxyAuth), for a value USER:PASSWORD only
// (userPasswordName).
func isCredentialPart(parts []string, i int) bool {
	if i == len(parts)-1 && (lastCredentialParts[parts[i]] || parts[i] == "PWD" && i > 0 || parts[i] == "AUTH" || strings.HasSuffix(parts[i], "PW") || parts[i] == "ENCRYPT") {
		return true
	}
	if redisPasswordSettings[parts[i]] || i == len(parts)-1 && (parts[i] == "CREDS" || parts[i] == "CRED") {
		// CREDS and CRED, CREDENTIALS abbreviated, as the whole last part (SMB_CREDS,
		// registryCreds; not SACRED, nor CREDS_USER), for a value USER:PASSWORD only
		// (userPasswordName).
		return true
	}
	if i == len(parts)-1 && (personalAccessTokenPart(parts) || oneTimePasswordSeed(parts)) {
		return true
	}
	p := strings.TrimSuffix(parts[i], "S")
	for _, w := range credentialWords {
		if strings.HasSuffix(p, w) {
			return true
		}
	}
	// APP_KEY, Laravel's (it encrypts its cookies and sessions), and APP_KEYS, Strapi's (Koa's
	// session keys), as the whole name: Pusher's PUSHER_APP_KEY is public.
	return p == "KEY" && i > 0 && (credentialKeyQualifiers[parts[i-1]] || i == 1 && len(parts) == 2 && parts[0] == "APP") || wordPressKey(parts, i)
}

// patProviders are the code hosts and registries whose personal access tokens a name ending in
// PAT holds (personalAccessTokenPart): GitHub (GH), GitLab (GL), Azure DevOps (DEVOPS, as in the
// Azure CLI devops extension's AZURE_DEVOPS_EXT_PAT; ADO, AZDO), Bitbucket, Gitea, Forgejo and
// Docker Hub.
var patProviders = map[string]bool{"GITHUB": true, "GH": true, "GITLAB": true, "GL": true, "DEVOPS": true,
	"ADO": true, "AZDO": true, "BITBUCKET": true, "GITEA": true, "FORGEJO": true, "DOCKERHUB": true}

// patSettingParts are, in lower case, strings one of which every name personalAccessTokenPart
// passes holds (mayEndInCredential's test of a name ending in PAT, and part of
// settingWordParts): a long provider's word, or a short one's with PAT after it.
var patSettingParts = []string{"github", "gitlab", "devops", "bitbucket", "gitea", "forgejo", "dockerhub",
	"ghpat", "gh_pat", "gh-pat", "gh.pat", "glpat", "gl_pat", "gl-pat", "gl.pat", "dopat", "do_pat", "do-pat", "do.pat"}

// personalAccessTokenPart reports whether the last of parts names a personal access token: PAT
// after one of patProviders, directly or with words between (GITHUB_PAT, GH_PAT,
// AZURE_DEVOPS_EXT_PAT, GITHUB_RUNNER_PAT, githubPat), or in one word with it (GHPAT,
// GITHUBPAT). PAT alone or after no provider (URL_PAT, a pattern) is none, and PATH, PATCH,
// PATTERN and SPATIAL are other words.
func personalAccessTokenPart(parts []string) bool {
	n := len(parts)
	if n == 0 {
		return false
	}
	if parts[n-1] == "PAT" {
		return slices.ContainsFunc(parts[:n-1], func(p string) bool { return patProviders[p] })
	}
	provider, ok := strings.CutSuffix(parts[n-1], "PAT")
	return ok && patProviders[provider]
}

// otpWords are the words before which SEED is a one-time password's seed (oneTimePasswordSeed).
var otpWords = map[string]bool{"OTP": true, "TOTP": true, "HOTP": true, "MFA": true}

// otpSettingParts are, in lower case, strings one of which every name oneTimePasswordSeed
// passes holds (mayEndInCredential's test of a name ending in SEED, and part of
// settingWordParts): TOTP_SEED holds otp_seed.
var otpSettingParts = []string{"otpseed", "otp_seed", "otp-seed", "otp.seed", "mfaseed", "mfa_seed", "mfa-seed", "mfa.seed"}

// oneTimePasswordSeed reports whether the last of parts is SEED after one of otpWords
// (OTP_SEED, TOTP_SEED, mfaSeed): the shared secret of a TOTP or HOTP second factor (RFC 6238,
// RFC 4226), from which whoever reads it generates every code. SEED elsewhere (RANDOM_SEED,
// DB_SEED) is none.
func oneTimePasswordSeed(parts []string) bool {
	n := len(parts)
	return n >= 2 && parts[n-1] == "SEED" && otpWords[parts[n-2]]
}

// programCredentialVariables are the variables, by their letters and digits in upper case,
// that a program reads its password (or another secret) from though no credential word names
// them: sshpass -e's SSHPASS, redis-cli's REDISCLI_AUTH, the Neo4j image's NEO4J_AUTH
// (USER/PASSWORD, credentialValue) and the Erlang distribution cookie (RabbitMQ's
// RABBITMQ_ERLANG_COOKIE, CouchDB's COUCHDB_ERLANG_COOKIE, ERLANG_COOKIE: any name ending in
// ERLANG_COOKIE), which lets whoever holds it run code on every node of the cluster; the Azure
// CLI's AZURE_STORAGE_KEY (a storage account's key) and the Swift client's ST_KEY; Yarn's
// YARN_NPM_AUTH_IDENT (npmAuthIdent, USER:PASSWORD for the registry); and etcdctl's
// ETCDCTL_USER, username[:password], for a value USER:PASSWORD only (userPasswordName).
var programCredentialVariables = map[string]bool{"SSHPASS": true, "REDISCLIAUTH": true, "NEO4JAUTH": true,
	"AZURESTORAGEKEY": true, "STKEY": true, "ETCDCTLUSER": true, "YARNNPMAUTHIDENT": true}

// programCredentialVariable reports whether name is one of programCredentialVariables, or ends
// in ERLANG_COOKIE.
func programCredentialVariable(name string) bool {
	if len(name) > 32 {
		return false
	}
	var b [32]byte
	n := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z':
			b[n] = c - 'a' + 'A'
			n++
		case 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
			b[n] = c
			n++
		}
	}
	return programCredentialVariables[string(b[:n])] || strings.HasSuffix(string(b[:n]), "ERLANGCOOKIE")
}

// credentialName reports whether a name looks like it holds a credential: one of its words is a
// credential word (or it is a program's, programCredentialVariable), and it does not end in a
// word that makes it a reference (a file, a path, the name of a Secret).
func credentialName(name string) bool {
	if programCredentialVariable(name) {
		return true
	}
	parts := nameParts(name)
	if len(parts) == 0 || referenceSuffixes[parts[len(parts)-1]] {
		return false
	}
	for i := range parts {
		if isCredentialPart(parts, i) {
			return true
		}
	}
	return false
}

// mayEndInCredential is a test of an ASCII name that endsInCredential passes only if it does,
// without making the name's parts (two allocations and more per line of every ConfigMap
// value): what is left of the name without what ends it that is not a letter or digit, and
// without one final S, ends in a credential word or KEY, in any case (or, with the S, in PWD or PW).
// endsInCredential's last part is the end of that, upper-cased, less its own final S.
func mayEndInCredential(name string) bool {
	end := len(name)
	for end > 0 && !isASCIIAlnum(name[end-1]) {
		end--
	}
	s := name[:end]
	if n := len(s); n > 0 && (s[n-1] == 'S' || s[n-1] == 's') {
		s = s[:n-1]
	}
	if len(s) >= 3 && strings.EqualFold(s[len(s)-3:], "KEY") {
		return true
	}
	// WordPress's salts (wordPressKey).
	if len(s) >= 4 && strings.EqualFold(s[len(s)-4:], "SALT") {
		return true
	}
	// PASS, less the final S taken off above.
	if len(s) >= 3 && strings.EqualFold(s[len(s)-3:], "PAS") {
		return true
	}
	// MASTERAUTH (REQUIREPASS ends in PASS), and REDISCLI_AUTH, NEO4J_AUTH and ERLANG_COOKIE
	// (programCredentialVariable).
	if len(s) >= 10 && strings.EqualFold(s[len(s)-10:], "MASTERAUTH") {
		return true
	}
	if len(s) >= 4 && strings.EqualFold(s[len(s)-4:], "AUTH") {
		// And AUTH after another part, USER:PASSWORD (userPasswordName).
		return true
	}
	if len(s) >= 6 && strings.EqualFold(s[len(s)-6:], "COOKIE") || len(s) >= 4 && strings.EqualFold(s[len(s)-4:], "USER") {
		return programCredentialVariable(name)
	}
	// CRED and CREDS (the S taken off above), CREDENTIALS abbreviated.
	if len(s) >= 4 && strings.EqualFold(s[len(s)-4:], "CRED") {
		return true
	}
	// PSK, a pre-shared key.
	if len(name[:end]) >= 3 && strings.EqualFold(name[end-3:end], "PSK") {
		return true
	}
	// ENCRYPT, a gossip key's setting (gossipKeyName).
	if len(name[:end]) >= 7 && strings.EqualFold(name[end-7:end], "ENCRYPT") {
		return true
	}
	// PAT after a code host's word (personalAccessTokenPart), which holds one of
	// patSettingParts: PAT alone would let the pre-filter pass every PATH and PATTERN.
	if len(name[:end]) >= 3 && strings.EqualFold(name[end-3:end], "PAT") {
		return slices.ContainsFunc(patSettingParts, func(p string) bool { return containsASCIIFold(name[:end], p) })
	}
	// SEED after an OTP word (oneTimePasswordSeed), which holds one of otpSettingParts.
	if len(name[:end]) >= 4 && strings.EqualFold(name[end-4:end], "SEED") {
		return slices.ContainsFunc(otpSettingParts, func(p string) bool { return containsASCIIFold(name[:end], p) })
	}
	// PWD and PW: a final S was not taken off them.
	if len(name[:end]) >= 3 && strings.EqualFold(name[end-3:end], "PWD") ||
		len(name[:end]) >= 2 && strings.EqualFold(name[end-2:end], "PW") {
		return true
	}
	for _, w := range credentialWords {
		if len(s) >= len(w) && strings.EqualFold(s[len(s)-len(w):], w) {
			return true
		}
	}
	return false
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// containsFold reports whether strings.ToLower(text) contains word, which is lower-case ASCII,
// without making the lower-case copy of text unless text holds İ (U+0130) or the Kelvin sign
// (U+212A): they are the only characters beyond ASCII that strings.ToLower (unicode.ToLower of
// each rune) lowers to ASCII, to i and k. Every other character beyond ASCII, and every byte
// that is not UTF-8 (U+FFFD), lowers to characters beyond ASCII again, so the lower-case copy
// holds the same runs of ASCII bytes, in lower case, as text, and the word, all ASCII, is in
// one of them in both or in neither. The text readers that look for a header's name first
// (literalAuthorizationHeader, honeycombTeamHeader) lowered every ConfigMap value and container
// command, line by line, to find none in almost all of them; then every one that held a
// character beyond ASCII (Grafana dashboards of tens of kilobytes among them), twice.
func containsFold(text, word string) bool {
	if !asciiText(text) && (strings.Contains(text, "\u0130") || strings.Contains(text, "\u212a")) {
		return strings.Contains(strings.ToLower(text), word)
	}
	// Where the word's rarest letter is, in either case (IndexByte runs many bytes at a time).
	pivot := 0
	for i := 1; i < len(word); i++ {
		if rarity(word[i]) < rarity(word[pivot]) {
			pivot = i
		}
	}
	for _, c := range [...]byte{word[pivot], upperASCII(word[pivot])} {
		for from := 0; ; {
			j := strings.IndexByte(text[from:], c)
			if j < 0 {
				break
			}
			from += j + 1
			if at := from - 1 - pivot; at >= 0 && hasPrefixASCIIFold(text[at:], word) {
				return true
			}
		}
		if c == upperASCII(c) {
			break // not a letter: one pass finds it
		}
	}
	return false
}

// rarity ranks a lower-case letter by how rare it is in English text (0: the rarest); any
// other byte (digits, punctuation) ranks as common as the commonest letter.
func rarity(c byte) int {
	if r := strings.IndexByte("zqxjkvbpygfwmucldrhsnioate", c); r >= 0 {
		return r
	}
	return 26
}

// lineMayHoldFold reports whether line may hold one of words (each in lower case) in any case:
// whether it holds one with ASCII letters in either case, or is not ASCII text at all, since
// strings.ToLower and strings.EqualFold take non-ASCII letters for ASCII ones (K, the Kelvin
// sign, for k, İ for i, ſ for s). A line for which it is false holds no word w that
// strings.ToLower or strings.EqualFold takes for one of words. The per-line readers skip lines
// with it before they split them into words.
func lineMayHoldFold(line string, words ...string) bool {
	if !asciiText(line) {
		return true
	}
	for _, w := range words {
		if containsFold(line, w) {
			return true
		}
	}
	return false
}

// linesHolding yields, in order, each line of text (as strings.SplitSeq(text, "\n") yields it)
// that holds word (which holds no newline), once however often it holds it: the lines a
// per-line reader that needs word exactly reads, found by strings.Index rather than by looking
// in every line.
func linesHolding(text, word string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for from := 0; from < len(text); {
			i := strings.Index(text[from:], word)
			if i < 0 {
				return
			}
			at := from + i
			start := strings.LastIndexByte(text[:at], '\n') + 1
			end := len(text)
			if j := strings.IndexByte(text[at:], '\n'); j >= 0 {
				end = at + j
			}
			if !yield(text[start:end]) {
				return
			}
			from = end + 1
		}
	}
}

// asciiText reports whether every byte of text is ASCII, eight at a time.
func asciiText(text string) bool {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		t := text[i : i+8]
		if (t[0]|t[1]|t[2]|t[3]|t[4]|t[5]|t[6]|t[7])&0x80 != 0 {
			return false
		}
	}
	for ; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// upperASCII is c in upper case when it is an ASCII lower-case letter, c itself otherwise.
func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// lowerASCII is c in lower case when it is an ASCII upper-case letter, c itself otherwise.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// endsInCredential is the stricter test for settings inside configuration files, where names
// such as passwordPolicy or tokenAudience are common: the name's last word must be the
// credential word (db.password, client_secret, apiKey).
func endsInCredential(name string) bool {
	if programCredentialVariable(name) {
		return true
	}
	parts := nameParts(name)
	return len(parts) > 0 && isCredentialPart(parts, len(parts)-1)
}

// credentialSettingName reports whether name is a setting's name (isSettingName) that ends in
// a credential word (endsInCredential, after its cheap test mayEndInCredential).
func credentialSettingName(name string) bool {
	return isSettingName(name) && mayEndInCredential(name) && endsInCredential(name)
}

// nonLiteralValues are values that hold no credential whatever the name says.
var nonLiteralValues = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"enabled": true, "disabled": true, "null": true, "nil": true, "none": true, "~": true,
	"|": true, "|-": true, "|+": true, ">": true, ">-": true, ">+": true, "[]": true, "{}": true,
}

// literalCredential reports whether a value set for a credential-like name is a literal
// credential, rather than empty, a flag, a file path, an interpolation ($(VAR), ${VAR}, a Helm
// template) or a reference to a secret store.
func literalCredential(value string) bool {
	return literalValue(value, true)
}

// gossipKeyName reports whether name's last word is ENCRYPT: the setting that holds the gossip
// key of Consul's and Nomad's agents (encrypt in their configuration, -encrypt on the command
// line, CONSUL_ENCRYPT, NOMAD_ENCRYPT), which no credential word names. Elsewhere the word names a
// switch or a mode (SMTP_ENCRYPT=tls, encrypt: true): only a gossip key (gossipKey) set for it is
// a credential.
func gossipKeyName(name string) bool {
	end := len(name)
	for end > 0 && !isASCIIAlnum(name[end-1]) {
		end--
	}
	if end < 7 || !strings.EqualFold(name[end-7:end], "ENCRYPT") {
		return false
	}
	parts := nameParts(name)
	return len(parts) > 0 && parts[len(parts)-1] == "ENCRYPT"
}

// gossipKey reports whether value (trimmed) is a gossip key: standard base64 of 16, 24 or 32
// bytes, an AES-128, -192 or -256 key, as memberlist (Consul, Nomad, Serf) takes it (consul
// keygen and nomad operator gossip keyring generate make 32).
func gossipKey(value string) bool {
	v := strings.TrimSpace(value)
	switch len(v) {
	case 24, 32, 44:
	default:
		return false
	}
	b, err := base64.StdEncoding.DecodeString(v)
	return err == nil && (len(b) == 16 || len(b) == 24 || len(b) == 32)
}

// userPasswordName reports whether name holds USER:PASSWORD though no credential word names it:
// etcdctl's ETCDCTL_USER (username[:password]), and a name whose last part is AUTH, alone or
// after another (the Consul and Nomad CLIs' CONSUL_HTTP_AUTH and NOMAD_HTTP_AUTH,
// username[:password]; Celery Flower's FLOWER_BASIC_AUTH, user:password; proxyAuth; AUTH), not a program's variable whose
// value is the password itself (REDISCLI_AUTH) or USER/PASSWORD (NEO4J_AUTH). Elsewhere such a
// name holds a switch, a method or a URL: only a USER:PASSWORD value (userPasswordValue) set for
// it is a credential.
func userPasswordName(name string) bool {
	if strings.EqualFold(name, "ETCDCTL_USER") {
		return true
	}
	end := len(name)
	for end > 0 && !isASCIIAlnum(name[end-1]) {
		end--
	}
	if credsName(name, end) {
		return true
	}
	if end < 4 || !strings.EqualFold(name[end-4:end], "AUTH") || programCredentialVariable(name) {
		return false
	}
	parts := nameParts(name)
	return len(parts) > 0 && parts[len(parts)-1] == "AUTH"
}

// credsName reports whether name[:end], end past its last letter or digit, ends in the part
// CREDS or CRED, CREDENTIALS abbreviated (SMB_CREDS, registryCreds, --creds): such a name holds
// USER:PASSWORD (smbclient's USER%PASSWORD too, credentialValue) as often as a user alone
// (skopeo's --creds USER prompts for the password), so only USER:PASSWORD is a credential
// under it (userPasswordName).
func credsName(name string, end int) bool {
	s := name[:end]
	if n := len(s); n > 0 && (s[n-1] == 'S' || s[n-1] == 's') {
		s = s[:n-1]
	}
	if len(s) < 4 || !strings.EqualFold(s[len(s)-4:], "CRED") {
		return false
	}
	parts := nameParts(name)
	last := parts[len(parts)-1]
	return last == "CREDS" || last == "CRED"
}

// bareAuthName reports whether name is AUTH alone (any case, blanks and punctuation around it
// aside), which userPasswordName takes as another word's AUTH, but for a port: AUTH=host:8080
// names a server.
func bareAuthName(name string) bool {
	parts := nameParts(name)
	return len(parts) == 1 && parts[0] == "AUTH"
}

// userPasswordValue is the password of value (trimmed) when it is USER:PASSWORD: a user name of
// letters, digits and ._@- (not digits alone, as 10:30 has), and a password that is not empty,
// holds no blank and does not start with // (https://host). false when it is not.
func userPasswordValue(value string) (string, bool) {
	v := strings.TrimSpace(value)
	user, p, ok := strings.Cut(v, ":")
	if !ok || user == "" || p == "" || strings.HasPrefix(p, "//") || strings.ContainsAny(v, " \t\n") ||
		strings.Trim(user, "0123456789") == "" {
		return "", false
	}
	for i := 0; i < len(user); i++ {
		if c := user[i]; !isASCIIAlnum(c) && c != '.' && c != '_' && c != '@' && c != '-' {
			return "", false
		}
	}
	return p, true
}

// serverSuffixes end the names of servers inside a cluster or a service registry: a Service's
// (orders.shop.svc, .svc.cluster.local), Consul's (.consul), mDNS's (.local) and a cloud's
// internal names (.internal, .localdomain).
var serverSuffixes = []string{".svc", ".cluster.local", ".consul", ".local", ".internal", ".localdomain"}

// serverAddress reports whether value (trimmed) is a server's address, HOST:PORT, rather than
// USER:PASSWORD: a port of 1 to 65535 (no leading zero) after localhost, an IPv4 address, or a
// DNS name that ends in one of serverSuffixes or has three labels or more
// (consul.example.com). A user with a dot, john.doe:1234, is a user: a name of two labels needs
// one of the suffixes.
func serverAddress(value string) bool {
	host, port, ok := strings.Cut(strings.TrimSpace(value), ":")
	if !ok || port == "" || port[0] == '0' || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return false
	}
	if n, err := strconv.Atoi(port); err != nil || n > 65535 {
		return false
	}
	host = strings.ToLower(host)
	if host == "localhost" || net.ParseIP(host).To4() != nil {
		return true
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return len(labels) >= 3 || len(labels) == 2 && slices.ContainsFunc(serverSuffixes, func(s string) bool { return strings.HasSuffix(host, s) })
}

// valueDecidesName reports whether a name credentialName takes is a credential's only for some
// forms of value, which credentialValue reads whatever credentialValueClass says of them:
// NEO4J_AUTH (USER/PASSWORD, or none), a gossip key's setting (gossipKeyName) and a name that
// holds USER:PASSWORD (userPasswordName).
func valueDecidesName(name string) bool {
	return strings.EqualFold(name, "NEO4J_AUTH") || gossipKeyName(name) || userPasswordName(name)
}

// credentialValue reports whether value, set for the credential-like name, is a literal
// credential: literalCredential, unless it is a count (countOf) or a switch, "0" or "1"
// (MYSQL_ALLOW_EMPTY_PASSWORD=1, MYSQL_RANDOM_ROOT_PASSWORD=1 in the official MySQL image); for a
// gossip key's setting (gossipKeyName), a gossip key only (gossipKey).
func credentialValue(name, value string) bool {
	if gossipKeyName(name) {
		// encrypt = "true" or "starttls" is a switch: only a key is a credential.
		return gossipKey(value)
	}
	if userPasswordName(name) {
		// BASIC_AUTH=true, PROXY_AUTH=basic, ETCDCTL_USER=root: only a password is one.
		if v := strings.TrimSpace(value); !strings.Contains(v, ":") && strings.Contains(v, "%") && credsName(name, len(name)) {
			// smbclient's USER%PASSWORD (SMB_CREDS).
			value = strings.Replace(v, "%", ":", 1)
		}
		p, ok := userPasswordValue(value)
		if !ok || strings.Trim(p, "0123456789") == "" && (bareAuthName(name) || serverAddress(value)) {
			return false
		}
		value = p
	}
	if strings.EqualFold(name, "NEO4J_AUTH") {
		// USER/PASSWORD (the Neo4j image's docker-entrypoint.sh); none turns authentication
		// off.
		_, p, ok := strings.Cut(value, "/")
		if !ok {
			return false
		}
		value = p
	}
	switch credentialValueClass(value) {
	case neverCredential:
		return false
	case alwaysCredential:
		return true
	}
	return !countOf(name, value) && !namedPlaceholder(name, value) && !checksumDigest(name, value)
}

// credentialClass is what credentialValue says of a value whatever the name it is set for.
type credentialClass int

const (
	// credentialByName: the name decides (countOf, namedPlaceholder, checksumDigest).
	credentialByName credentialClass = iota
	// neverCredential: no literal, a switch or a user interface's text, under any name.
	neverCredential
	// alwaysCredential: a literal none of countOf, namedPlaceholder and checksumDigest takes for
	// anything else, under any name.
	alwaysCredential
)

// credentialValueClass is what credentialValue says of value whatever the name, as far as the
// value alone decides it: a digest of a ConfigMap (DigestConfigMap) keeps it instead of a value
// too large to keep.
func credentialValueClass(value string) credentialClass {
	v := strings.TrimSpace(value)
	switch {
	case v == "0", v == "1", !literalCredential(value), credentialProse(value), strings.EqualFold(v, wordPressPlaceholder):
		return neverCredential
	case strings.TrimLeft(v, "0123456789") == "", placeholderShaped(v), hexDigestShaped(v):
		// What countOf, namedPlaceholder or checksumDigest may take for a count, a
		// placeholder or a checksum, as the name says.
		return credentialByName
	}
	return alwaysCredential
}

// wordPressPlaceholder is what wp-config-sample.php sets every key and salt to, and what the
// official image's wp-config-docker.php defaults them to: wp_salt() takes a key holding it for
// none and generates one of its own, so it is no credential.
const wordPressPlaceholder = "put your unique phrase here"

// placeholderShaped reports whether v (trimmed) has the shape namedPlaceholder reads: letters,
// in words joined by single '_' or '-'.
func placeholderShaped(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case (c == '_' || c == '-') && i > 0 && i < len(v)-1 && v[i-1] != '_' && v[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// hexDigestShaped reports whether v (trimmed) has the shape checksumDigest reads: a hexadecimal
// digest's length and digits.
func hexDigestShaped(v string) bool {
	switch len(v) {
	case 32, 40, 56, 64, 96, 128:
	default:
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isHexDigit(v[i]) {
			return false
		}
	}
	return true
}

// proseCredentialWords are the words with which a user interface's text names a credential.
var proseCredentialWords = map[string]bool{"password": true, "passwords": true, "passphrase": true,
	"token": true, "tokens": true, "secret": true, "secrets": true, "key": true, "keys": true,
	"credential": true, "credentials": true, "pin": true, "passcode": true}

// credentialProse reports whether value is a user interface's text about a credential rather
// than one (a translation or a form's label: "Enter your password", "Forgot password?", "API
// token", "Password must be at least {0} characters"): two or more words, each of letters
// (with an apostrophe or hyphen inside, punctuation around it) or a message's placeholder ({0},
// {name}, %s), one of them naming a credential. A word with a digit or another symbol makes it
// no text (my password 2024), and so does one word alone: Password is one of the commonest
// passwords. A passphrase of words that name no credential (correct horse battery staple) is
// not one either.
func credentialProse(value string) bool {
	words, named := 0, false
	for w := range strings.FieldsSeq(value) {
		words++
		if messagePlaceholder(w) {
			continue
		}
		w = strings.Trim(w, `"'()[],.:;!?¿¡…*`)
		if w == "" {
			return false
		}
		for i, r := range w {
			if !unicode.IsLetter(r) && !((r == '\'' || r == '’' || r == '-') && i > 0 && i < len(w)-1) {
				return false
			}
		}
		named = named || proseCredentialWords[strings.ToLower(w)]
	}
	return words >= 2 && named
}

// messagePlaceholder reports whether a word of a message is a placeholder its program fills
// in: {0}, {name}, %s, %d (with punctuation after it: %s:).
func messagePlaceholder(w string) bool {
	w = strings.TrimRight(w, `.,:;!?`)
	if len(w) >= 3 && w[0] == '{' && w[len(w)-1] == '}' {
		return isIdentifier(w[1:len(w)-1]) || strings.Trim(w[1:len(w)-1], "0123456789") == ""
	}
	switch w {
	case "%s", "%d", "%v", "%1$s", "%@":
		return true
	}
	return false
}

// placeholderWords are the words a placeholder adds to the name of what it stands for:
// YOUR_API_KEY, GOOGLE_API_KEY_VAL.
var placeholderWords = map[string]bool{"YOUR": true, "VAL": true, "VALUE": true, "HERE": true, "PLACEHOLDER": true}

// namedPlaceholder reports whether value, set for the credential-like name, is a placeholder
// named for it: two or more words of letters joined by '_' or '-', each a word of the name or
// of placeholderWords, and naming a credential themselves (HF_TOKEN=HF_TOKEN,
// GOOGLE_API_KEY=GOOGLE_API_KEY_VAL, API_KEY=YOUR_API_KEY: the value a deploy step's sed or
// kustomize replacement fills in). A single word is not one: password=password is the
// commonest default password, and a well-known default is a literal credential (so are
// changeme and CHANGE_ME, whose words are not the name's).
func namedPlaceholder(name, value string) bool {
	v := strings.TrimSpace(value)
	words := 1
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case (c == '_' || c == '-') && i > 0 && i < len(v)-1 && v[i-1] != '_' && v[i-1] != '-':
			words++
		default:
			return false
		}
	}
	if words < 2 || !credentialName(v) {
		return false
	}
	parts := nameParts(name)
	for _, w := range nameParts(v) {
		if !placeholderWords[w] && !slices.Contains(parts, w) {
			return false
		}
	}
	return true
}

// countOf reports whether value is a count of what the name's last word, a plural credential
// word, names: a whole number under MAX_TOKENS or --max-total-tokens (language-model limits),
// not a credential.
func countOf(name, value string) bool {
	v := strings.TrimSpace(value)
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return false
	}
	parts := nameParts(name)
	n := len(parts)
	return n > 0 && parts[n-1] != "PASS" && strings.HasSuffix(parts[n-1], "S") && isCredentialPart(parts, n-1)
}

// notInPaths are characters that file paths a configuration refers to do not hold (the shell
// would need them quoted), though passwords often do: /Xk9#mq!2Lp is a password. '#' is not
// one of them: some secret references are a path, '#' and a key.
const notInPaths = " \t!^|;'\"`<>()\\"

// literalValue is literalCredential, where a value that starts with '/' and holds none of
// notInPaths is a file path only when paths is true (not in a URL's userinfo, say).
func literalValue(value string, paths bool) bool {
	v := strings.TrimSpace(value)
	lower := strings.ToLower(v)
	switch {
	case v == "", nonLiteralValues[lower]:
		return false
	case strings.Contains(v, "$(") || strings.Contains(v, "${") || strings.Contains(v, "{{") || strings.Contains(v, "<%") || strings.Contains(v, "$__"):
		return interpolatedLiteral(v, paths)
	}
	return plainLiteral(v, lower, paths)
}

// plainLiteral is literalValue for a value v (trimmed, lower its lower case) read as it is,
// whatever interpolations it holds.
func plainLiteral(v, lower string, paths bool) bool {
	switch {
	case v == "", nonLiteralValues[lower]:
		return false
	case paths && strings.HasPrefix(v, "/") && !strings.ContainsAny(v, notInPaths):
		return false
	case strings.HasPrefix(lower, "file:"), strings.HasPrefix(lower, "vault:"), strings.HasPrefix(lower, "ref+"),
		strings.HasPrefix(lower, "arn:aws:secretsmanager:"), strings.HasPrefix(lower, "arn:aws:ssm:"),
		strings.HasPrefix(lower, "projects/") && strings.Contains(lower, "/secrets/"):
		return false
	case secretStoreReference(lower), codeExpression(v), bracketedPlaceholder(v):
		return false
	}
	return true
}

// authorizationSchemes are the HTTP authentication schemes an Authorization header's value
// starts with (RFC 9110 section 11, and Bot, Token and ApiKey of common APIs), in lower case:
// "Bearer ${TOKEN}" writes nothing of the credential.
var authorizationSchemes = map[string]bool{"bearer": true, "basic": true, "digest": true, "negotiate": true,
	"token": true, "bot": true, "apikey": true}

// interpolatedLiteral is literalValue for a value v (trimmed) that holds interpolations: a
// reference the kubelet or a shell expands ($(VAR), $(command)), a placeholder a shell,
// envsubst or Spring fills in (${VAR}), a template's action ({{ ... }}), an ERB or EJS tag
// (<%= ENV['DB_PASSWORD'] %>, as Rails' database.yml writes it), Grafana's expansion
// ($__env{VAR}, $__file{PATH}: grafanaExpansion). They are not the
// value's literal part, but what is written beside them, and a placeholder's default, are:
// "${SUFFIX}Orders-2024" holds Orders-2024 whatever SUFFIX is, a reference the kubelet cannot
// resolve stays as it is ("Orders-2024$(UNSET)"), and ${DB_PASSWORD:-Orders-2024} (a shell's
// :-, -, :=, =, :+ and +, Spring's ${db.password:Orders-2024}) is the password whenever the
// variable is not set. The value is a literal when that text is (plainLiteral), one word with a
// letter or digit, not an authorization scheme alone ("${DB_USER}:${DB_PASS}", "Bearer
// ${TOKEN}" and "${DIR}/db/password" write no credential), and no URL (whose credential is its
// userinfo's password: urlPassword judges it). A ${VAR:?message}'s message and the words of
// other parameter expansions (${#VAR}, ${VAR/a/b}) are none. Text of several words is no
// literal either: a shell line's "PGPASSWORD=$PW psql -h db" sets PGPASSWORD to $PW.
//
// It reads v once: a "$(", "${", "{{" or "<%" that nothing closes after it is text, and so is
// every one after it.
func interpolatedLiteral(v string, paths bool) bool {
	var b strings.Builder
	b.Grow(len(v))
	// frames are the ${...} open at i, each true when its text is dropped (not a default);
	// dropped counts those, and dropStart is where the outermost of them began.
	var frames []bool
	dropped, dropStart := 0, 0
	noParen, noBrace, noBraces, noTags := false, false, false, false
	lastBrace := strings.LastIndexByte(v, '}')
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c == '$' && i+1 < len(v) && v[i+1] == '(' && !noParen:
			end := strings.IndexByte(v[i+2:], ')')
			if end < 0 {
				noParen = true
				continue
			}
			i += 3 + end
		case c == '{' && i+1 < len(v) && v[i+1] == '{' && !noBraces:
			end := strings.Index(v[i+2:], "}}")
			if end < 0 {
				noBraces = true
				continue
			}
			i += 4 + end
		case c == '$' && strings.HasPrefix(v[i+1:], "__") && grafanaExpansion(v[i:]) > 0:
			// Grafana's $__env{VAR}, $__file{PATH} and $__vault{PATH} (its configuration's
			// and its provisioning files' variable expansion).
			i += grafanaExpansion(v[i:])
		case c == '<' && i+1 < len(v) && v[i+1] == '%' && !noTags:
			// An ERB (Rails' database.yml, Puppet) or EJS tag: <%= ENV['DB_PASSWORD'] %>.
			end := strings.Index(v[i+2:], "%>")
			if end < 0 {
				noTags = true
				continue
			}
			i += 4 + end
		case c == '$' && i+1 < len(v) && v[i+1] == '{' && !noBrace:
			if lastBrace < i+2 {
				noBrace = true
				continue
			}
			j := i + 2
			for j < len(v) && (isASCIIAlnum(v[j]) || v[j] == '_' || v[j] == '.') {
				j++
			}
			ops := []string{":-", ":=", ":+", "-", "=", "+", ":"}
			if confmapProviders[v[i+2:j]] && strings.HasPrefix(v[j:], ":") && !strings.HasPrefix(v[j:], ":-") {
				// The OpenTelemetry Collector's ${env:NAME} (and its other providers'
				// ${file:PATH}, ${http:URL}): a reference, not Spring's ${NAME:DEFAULT}; its
				// own default follows :- (${env:NAME:-DEFAULT}).
				for j++; j < len(v) && v[j] != '}' && !strings.HasPrefix(v[j:], ":-"); j++ {
				}
				ops = ops[:1]
			}
			drop := true
			if j > i+2 && !strings.HasPrefix(v[j:], ":?") {
				for _, op := range ops {
					if strings.HasPrefix(v[j:], op) {
						drop, j = false, j+len(op)
						break
					}
				}
			}
			if drop {
				if dropped == 0 {
					dropStart = i
				}
				dropped++
			}
			frames = append(frames, drop)
			i = j
		case c == '}' && len(frames) > 0:
			if frames[len(frames)-1] {
				dropped--
			}
			frames = frames[:len(frames)-1]
			i++
		default:
			if dropped == 0 {
				b.WriteByte(c)
			}
			i++
		}
	}
	if dropped > 0 {
		// A ${ that nothing closed is text, and what followed it.
		b.WriteString(v[dropStart:])
	}
	rest := strings.TrimSpace(b.String())
	lower := strings.ToLower(rest)
	return strings.IndexFunc(rest, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 &&
		!strings.ContainsAny(rest, " \t\r\n") && !strings.Contains(rest, "://") &&
		!authorizationSchemes[lower] && plainLiteral(rest, lower, paths)
}

// grafanaExpanders are the providers of Grafana's variable expansion in its configuration and
// provisioning files: $__env{VAR}, $__file{PATH}, $__vault{PATH}.
var grafanaExpanders = []string{"$__env{", "$__file{", "$__vault{"}

// grafanaExpansion is the length of the Grafana expansion ($__env{VAR}, grafanaExpanders) s
// starts with, closed by '}'; 0 when it starts with none.
func grafanaExpansion(s string) int {
	for _, p := range grafanaExpanders {
		if strings.HasPrefix(s, p) {
			if end := strings.IndexByte(s[len(p):], '}'); end >= 0 {
				return len(p) + end + 1
			}
		}
	}
	return 0
}

// confmapProviders are the schemes of the OpenTelemetry Collector's configuration providers
// (confmap): ${env:NAME}, ${file:PATH}, ${http:URL}, ${https:URL}, ${yaml:TEXT}.
var confmapProviders = map[string]bool{"env": true, "file": true, "http": true, "https": true, "yaml": true}

// shellExpansion reports whether a value is a shell's expansion and nothing else: it starts
// with '$' and, its parameters ($NAME, $1) read as ${NAME}, holds no literal beside its
// expansions (literalCredential): $POSTGRES_PASSWORD, "$1", $(cat FILE) and ${DB_PASSWORD}
// are, ${SUFFIX}Orders-2024 and ${DB_PASSWORD:-Orders-2024} are not.
func shellExpansion(value string) bool {
	return strings.HasPrefix(value, "$") && !literalCredential(shellParameter().ReplaceAllString(value, "$${$1}"))
}

// bracedParameters is a shell script's text with each parameter a shell expands there ($NAME,
// $1) written ${NAME}, which the readers of settings take for an interpolation: export
// PGPASSWORD="$PW" sets no literal. Text in single quotes is not expanded ('Ord$rs-2024' is
// that password, $rs and all), nor is an escaped \$; a '\” pairs with the next one on its line
// outside double quotes (one that none closes there quotes nothing: a here-document's or
// comment's apostrophe does not hide the expansions after it). It reads each byte once.
func bracedParameters(script string) string {
	return rewriteParameters(script, false, func(name string, _ bool) (string, bool) { return "${" + name + "}", true })
}

// environmentParameters is a shell script's text with each parameter the shell expands there
// ($NAME, ${NAME}; bracedParameters says where) that names a variable of env written as its
// value, when that is literal text the shell reads back as it is (shellLiteral, in or out of
// double quotes): sh -c "mysql -p$DB_X" in a container whose env sets DB_X to VALUE runs mysql
// -pVALUE. Other parameters are left as they are, and so is every one once the values written
// would add more than the script's length and expansionAllowance (a tenant's script of many
// references to a long value is read in bounded time).
func environmentParameters(script string, env map[string]string) string {
	if len(env) == 0 {
		return script
	}
	left := len(script) + expansionAllowance
	// written holds each variable's value as the shell reads it back, in and out of double
	// quotes, found once.
	type forms struct {
		plain, quoted     string
		plainOK, quotedOK bool
	}
	written := map[string]*forms{}
	return rewriteParameters(script, true, func(name string, double bool) (string, bool) {
		v, ok := env[name]
		if !ok || len(v) > left {
			return "", false
		}
		f := written[name]
		if f == nil {
			f = &forms{}
			if !strings.ContainsAny(v, "$`") {
				f.plain, f.plainOK = shellLiteral(v, false)
				f.quoted, f.quotedOK = shellLiteral(v, true)
			}
			written[name] = f
		}
		w, ok := f.plain, f.plainOK
		if double {
			w, ok = f.quoted, f.quotedOK
		}
		if ok {
			left -= len(w)
		}
		return w, ok
	})
}

// assignmentCommands are the shell's commands whose NAME=VALUE arguments set variables.
var assignmentCommands = map[string]bool{"export": true, "readonly": true, "local": true, "declare": true, "typeset": true}

// scriptAssignments are the variables a shell script sets to literal text, by name: a
// command of assignments alone (X=VALUE; Y='VALUE') or export X=VALUE and the like
// (assignmentCommands). A variable set more than once, or to anything but literal text, is
// none; X=VALUE before a command's name sets X for that command only, after the shell has
// expanded its words, and is none either. Where in the script it is set is not looked at: a
// use before the assignment (mysql -p$X; X=VALUE) is read as one after it, for a function
// defined before it, a loop, a trap or a script run again uses the value all the same, and the
// literal is in the script whatever the order (a false fail there, where the use runs first
// and once, is the price of no false pass in the others).
func scriptAssignments(script string) map[string]string {
	if !strings.Contains(script, "=") || !strings.Contains(script, "$") {
		return nil
	}
	set := map[string]string{}
	dropped := map[string]bool{}
	record := func(w string) {
		eq := strings.IndexByte(w, '=')
		name := w[:eq]
		v, ok := w[eq+1:], true
		if strings.ContainsAny(v, "$`") {
			v, ok = singleQuotedText(v)
		} else {
			v, _ = shellText(v)
		}
		if old, seen := set[name]; !ok || v == "" || seen && old != v {
			dropped[name] = true
		}
		set[name] = v
	}
	for line := range strings.SplitSeq(script, "\n") {
		words := shellWords(line)
		for i := 0; i < len(words); {
			// A command runs to the next separator or a word that ends in ';'.
			end := i
			for end < len(words) && !commandSeparators[words[end]] {
				end++
				if strings.HasSuffix(words[end-1], ";") {
					break
				}
			}
			cmd := words[i:end]
			for k := range cmd {
				cmd[k] = strings.TrimRight(cmd[k], ";")
			}
			assignment := func(w string) bool {
				eq := strings.IndexByte(w, '=')
				return eq > 0 && isSettingName(w[:eq]) && isIdentifier(w[:eq])
			}
			switch {
			case len(cmd) > 0 && assignmentCommands[cmd[0]]:
				for _, w := range cmd[1:] {
					if assignment(w) {
						record(w)
					}
				}
			case len(cmd) > 0 && !slices.ContainsFunc(cmd, func(w string) bool { return !assignment(w) }):
				for _, w := range cmd {
					record(w)
				}
			default:
				for _, w := range cmd {
					if !assignment(w) {
						break
					}
					// X=VALUE cmd: X is set for cmd alone.
					dropped[w[:strings.IndexByte(w, '=')]] = true
				}
			}
			i = end
			for i < len(words) && commandSeparators[words[i]] {
				i++
			}
		}
	}
	for name := range dropped {
		delete(set, name)
	}
	return set
}

// rewriteParameters writes each shell parameter of script the shell expands ($NAME, $1, and
// with braces ${NAME}) as replace says, when it says so (bracedParameters).
func rewriteParameters(script string, braces bool, replace func(name string, double bool) (string, bool)) string {
	if !strings.Contains(script, "$") {
		return script
	}
	var b strings.Builder
	b.Grow(len(script) + len(script)/8)
	// from is where the text not yet written starts; unpaired says no '\'' closes another
	// on the rest of the line.
	from, double, unpaired := 0, false, false
	for i := 0; i < len(script); i++ {
		switch c := script[i]; {
		case c == '\n':
			double, unpaired = false, false
		case c == '\\':
			i++
		case c == '"':
			double = !double
		case c == '$' && !double && i+1 < len(script) && script[i+1] == '\'':
			// $'...' expands no parameter; one nothing closes is read as '...' is.
			if end := ansiCQuoteEnd(script, i+1); end >= 0 {
				i = end
			}
		case c == '\'' && !double && !unpaired:
			end := strings.IndexAny(script[i+1:], "'\n")
			if end < 0 || script[i+1+end] == '\n' {
				unpaired = true
				continue
			}
			i += 1 + end
		case c == '$' && braces && i+1 < len(script) && script[i+1] == '{':
			end := strings.IndexByte(script[i+2:], '}')
			if end < 0 || !isIdentifier(script[i+2:i+2+end]) {
				continue
			}
			if v, ok := replace(script[i+2:i+2+end], double); ok {
				b.WriteString(script[from:i])
				b.WriteString(v)
				from = i + 3 + end
			}
			i += 2 + end
		case c == '$':
			m := shellParameterAt().FindStringSubmatchIndex(script[i:])
			if m == nil {
				continue
			}
			if v, ok := replace(script[i+m[2]:i+m[3]], double); ok {
				b.WriteString(script[from:i])
				b.WriteString(v)
				from = i + m[1]
			}
			i += m[1] - 1
		}
	}
	b.WriteString(script[from:])
	return b.String()
}

// bracketedPlaceholder reports whether a value is a placeholder as documentation and example
// configuration write one, words in angle brackets (<password>, <your-api-token>, <DB
// PASSWORD>, &lt;password&gt; in XML): letters, digits, blank space, '_', '-' and '.', with a
// letter. A password that holds other characters (<Xk9#mq!2Lp>) is not one.
func bracketedPlaceholder(v string) bool {
	var inner string
	switch {
	case len(v) > 2 && v[0] == '<' && v[len(v)-1] == '>':
		inner = v[1 : len(v)-1]
	case len(v) > 8 && strings.HasPrefix(v, "&lt;") && strings.HasSuffix(v, "&gt;"):
		inner = v[4 : len(v)-4]
	default:
		return false
	}
	letter := false
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case '0' <= c && c <= '9', c == ' ', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return letter
}

// environmentReaders are the functions and maps that code reads the environment with
// (os.getenv("PW"), ENV["PW"], getenv('PW')), when not qualified by a module.
var environmentReaders = map[string]bool{"getenv": true, "env": true, "ENV": true, "environ": true}

// codeExpression reports whether a value is an expression of code in a ConfigMap's program
// rather than a literal: a qualified function call or subscript, or one of
// environmentReaders' (os.environ["HF_TOKEN"], os.getenv("DB_PASSWORD"), config.get("key"),
// ENV.fetch("KEY")), or a read of Node's process.env. A call without a qualified name
// (Orders(2024)) may be a password.
func codeExpression(v string) bool {
	if strings.HasPrefix(v, "process.env.") || strings.HasPrefix(v, "process.env[") {
		return true
	}
	if !strings.HasSuffix(v, ")") && !strings.HasSuffix(v, "]") {
		return false
	}
	i := strings.IndexAny(v, "([")
	if i <= 0 {
		return false
	}
	callee := v[:i]
	for _, part := range strings.Split(callee, ".") {
		if part == "" || !isIdentifier(part) {
			return false
		}
	}
	return strings.Contains(callee, ".") || environmentReaders[callee]
}

func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isASCIIAlnum(c) && c != '_' || i == 0 && '0' <= c && c <= '9' {
			return false
		}
	}
	return s != ""
}

// secretStoreReferencePrefixes begin the references that secret stores' injectors resolve
// when a container starts: Berglas (berglas://bucket/object, sm://project/secret), 1Password
// (op://vault/item/field) and secrets-init (gcp:secretmanager:projects/...).
var secretStoreReferencePrefixes = []string{"berglas://", "sm://", "op://", "gcp:secretmanager:"}

// secretStoreReference reports whether a value, in lower case, is a reference to a secret
// store that an injector resolves (secretStoreReferencePrefixes, or akv2k8s' name@azurekeyvault)
// rather than a credential.
func secretStoreReference(lower string) bool {
	for _, p := range secretStoreReferencePrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return strings.HasSuffix(lower, "@azurekeyvault") && !strings.ContainsAny(lower, " \t")
}

// expandEnvValue expands an env var's value as the kubelet does (EnvVar.value: "Variable
// references $(VAR_NAME) are expanded using the previously defined environment variables in
// the container ... If a variable cannot be resolved, the reference in the input string will
// be unchanged. Double $$ are reduced to a single $"), with known as the variables whose
// values are known: the literals defined before it. References to anything else (a Secret, a
// ConfigMap, envFrom, the downward API, a Service) stay as they are.
func expandEnvValue(value string, known map[string]string) string {
	return expandWithin(value, known, nil)
}

// expansionAllowance is what a workload's $(VAR) references may add to its text, beyond as
// much as the text itself (expansion), before expansion stops.
const expansionAllowance = 64 << 10

// expansion bounds what expanding a workload's $(VAR) references adds to the text the
// checks read. The kubelet expands a reference to the value of a variable before it, itself
// expanded, so a chain of variables each referring n times to the one before grows n-fold at
// each link: five variables of twenty references, 2 KB, make the last 32 MB, and a few more
// links more than any memory. Linux refuses to start a process given a variable or argument
// over 128 KiB (MAX_ARG_STRLEN) or more than a quarter of its stack limit in all (2 MiB at the
// usual 8 MiB), which is more than this bound: a container that runs can refer to a literal
// credential past it (three references to 32 KiB, then the password), so what the bound left
// unexpanded is unread (engine.Result.Unread), which fails closed.
type expansion struct {
	// left is what references may still add, in bytes.
	left int
	// over is set once a reference was left unexpanded for want of it.
	over bool
	// work is what gitleaks' rules may still read of the workload's command lines (commands,
	// args, probes' and hooks' exec commands and HTTP requests, and those of kubectl's
	// last-applied-configuration annotation), with what they did not read for it; nil, read
	// everything, but in the operator's evaluation of a workload its cache marked
	// (ReduceEnvValues, argvBoundedFrom).
	work *credentialBudget
	// stop says whether the judgement's caller has gone (engine.Context.Stopped): gitleaks'
	// rules stop reading then (leakedInTextPlain). Nil reads on.
	stop func() bool
}

// stopper is x's stop, nil for no x.
func (x *expansion) stopper() func() bool {
	if x == nil {
		return nil
	}
	return x.stop
}

// rulesRead reports whether gitleaks' rules may read text, the text of a command line at where
// (where[i] when i >= 0), within x's work (everything when it has none); the names of those it
// may not read are kept in it (unreadArgv).
func (x *expansion) rulesRead(text, where string, i int) bool {
	if x == nil || x.work.readText(text) {
		return true
	}
	if i >= 0 {
		where = fmt.Sprintf("%s[%d]", where, i)
	}
	x.work.unread = append(x.work.unread, where)
	return false
}

// unreadArgv are the names of what gitleaks' rules did not read within x's work (rulesRead),
// from the from-th on.
func (x *expansion) unreadArgv(from int) []string {
	if x == nil || x.work == nil || from >= len(x.work.unread) {
		return nil
	}
	return x.work.unread[from:]
}

// workloadExpansion is the bound for the workload o, shared by its containers: their own text
// (env values, command and args) and expansionAllowance.
func workloadExpansion(o *engine.Object) *expansion {
	left := expansionAllowance
	var work *credentialBudget
	if d, ok := o.Digest.(*envStandIns); ok {
		left += d.Removed // the values the operator's cache replaced by stand-ins (ReduceEnvValues)
		if d.Argv {
			work = &credentialBudget{left: argvWork}
		}
	}
	for _, c := range o.Workload.Containers() {
		for _, e := range c.Env {
			left += len(e.Value)
		}
		for _, a := range slices.Concat(c.Command, c.Args) {
			left += len(a)
		}
	}
	return &expansion{left: left, work: work}
}

// undecided is why what the bound left unexpanded is not judged, "" when nothing was.
func (x *expansion) undecided() string {
	if x == nil || !x.over {
		return ""
	}
	return fmt.Sprintf("the workload's $(VAR) references expand to more than its containers' own text and %d KiB; "+
		"what they expand to was not read", expansionAllowance>>10)
}

// expandWithin is expandEnvValue within the bound x (none when nil): a reference whose value
// would add more than x has left stays as it is, and x says so.
func expandWithin(value string, known map[string]string, x *expansion) string {
	if !strings.Contains(value, "$") {
		return value
	}
	var b strings.Builder
	// unclosed is set once no ')' follows: every "$(" after is then no reference either. Looking
	// again for each would read the rest of the value once per "$(", which a Pod's author can
	// make cost more than the webhook's timeout ("$($($(..." over 700 KB: 3.4 s).
	unclosed := false
	for i := 0; i < len(value); i++ {
		if value[i] != '$' || i+1 == len(value) {
			b.WriteByte(value[i])
			continue
		}
		switch value[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := -1
			if !unclosed {
				end = strings.IndexByte(value[i+2:], ')')
				unclosed = end < 0
			}
			if end < 0 {
				// Not a reference: the kubelet keeps "$(" and reads on.
				b.WriteString("$(")
				i++
				continue
			}
			ref := value[i : i+3+end]
			switch v, ok := known[value[i+2:i+2+end]]; {
			case !ok:
				b.WriteString(ref)
			case x != nil && len(v) > x.left:
				x.over = true
				b.WriteString(ref)
			default:
				if x != nil {
					x.left -= len(v)
				}
				b.WriteString(v)
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// urlPassword reports whether text holds a URL whose userinfo carries a literal password, as
// connection strings do (postgresql://app:s3cret@db/app, redis://:s3cret@cache:6379): the
// user:password form of RFC 3986 section 3.2.1; or a Go MySQL DSN that does (mysqlDSNPassword). Neither a credential-like name (DATABASE_URL
// names a URL) nor a gitleaks rule finds it. A password that is an interpolation
// (postgres://app:$(DB_PASSWORD)@db) is not a literal one.
func urlPassword(text string) bool {
	if mysqlDSNPassword(text) || oracleURLPassword(text) {
		return true
	}
	for rest := text; ; {
		i := strings.Index(rest, "://")
		if i < 0 {
			return false
		}
		start := i
		for start > 0 && isSchemeChar(rest[start-1]) {
			start--
		}
		// The authority ends at the first '/', '?' or '#' (userinfoPassword), so the scan stops
		// there too: to the end of the value, a value of "https://user:" over and over was read
		// once per "://", which a Pod's author can make cost more than the webhook's timeout.
		end := i + len("://")
		for end < len(rest) && !strings.ContainsRune(" \t\r\n\"'`<>/?#", rune(rest[end])) {
			end++
		}
		if start < i {
			if p, ok := userinfoPassword(rest[i+len("://") : end]); ok && literalValue(p, false) {
				return true
			}
		}
		rest = rest[i+len("://"):]
	}
}

// oracleURLPassword reports whether text holds an Oracle JDBC URL with a literal password:
// jdbc:oracle:thin:user/password@host..., and the oci, oci8 and kprb drivers' alike (Oracle
// JDBC Developer's Guide, "Database URLs and Database Specifiers"), which has no "://". The
// reading goes on after each URL's user and password: every byte is read once.
func oracleURLPassword(text string) bool {
	for rest := text; ; {
		i := strings.Index(rest, "jdbc:oracle:")
		if i < 0 {
			return false
		}
		rest = rest[i+len("jdbc:oracle:"):]
		driver, after, ok := strings.Cut(rest, ":")
		switch {
		case !ok:
			return false
		case driver != "thin" && driver != "oci" && driver != "oci8" && driver != "kprb":
			continue
		}
		end := strings.IndexAny(after, " \t\r\n'`<>;@")
		if end < 0 || after[end] != '@' {
			if end < 0 {
				return false
			}
			rest = after[end:]
			continue
		}
		if _, p, ok := strings.Cut(after[:end], "/"); ok && literalValue(strings.Trim(p, `"`), false) {
			return true
		}
		rest = after[end:]
	}
}

// mysqlDSNPassword reports whether text holds a DSN of Go's MySQL driver with a literal
// password: [user[:password]@][protocol[(address)]]/dbname (go-sql-driver/mysql), which has no
// scheme, with the protocol tcp, tcp4, tcp6 or unix ("orders:s3cret@tcp(mysql:3306)/orders").
func mysqlDSNPassword(text string) bool {
	for rest := text; ; {
		at := strings.IndexByte(rest, '@')
		if at < 0 {
			return false
		}
		after := rest[at+1:]
		if strings.HasPrefix(after, "tcp(") || strings.HasPrefix(after, "tcp4(") || strings.HasPrefix(after, "tcp6(") || strings.HasPrefix(after, "unix(") {
			start := strings.LastIndexAny(rest[:at], " \t\r\n\"'`=") + 1
			if _, p, ok := strings.Cut(rest[start:at], ":"); ok && literalValue(p, false) {
				return true
			}
		}
		rest = after
	}
}

// userinfoPassword is the password in the userinfo of what follows a URL's "://", as RFC 3986
// section 3.2 reads it (and url.Parse, libpq): the authority ends at the first '/', '?' or '#',
// the userinfo at its last '@', the user at the userinfo's first ':'; the password is
// percent-decoded where it decodes. Unlike url.Parse it does not judge the host and port, so
// that a URL whose host or port the kubelet fills in ($(DB_HOST):$(DB_PORT)) still has one.
func userinfoPassword(afterScheme string) (string, bool) {
	authority := afterScheme
	if j := strings.IndexAny(authority, "/?#"); j >= 0 {
		authority = authority[:j]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return "", false
	}
	_, p, ok := strings.Cut(authority[:at], ":")
	if !ok {
		return "", false
	}
	if decoded, err := url.PathUnescape(p); err == nil {
		p = decoded
	}
	return p, true
}

func isSchemeChar(c byte) bool { return isASCIIAlnum(c) || c == '+' || c == '-' || c == '.' }

// leakedSecretsPlain names the gitleaks rules (secretrules, the default rules of gitleaks
// secretrules.GitleaksVersion) that find a credential in the assignment name=value, the way
// gitleaks reads a .env file: rules for key material and service tokens match the value
// whatever its name, and gitleaks' generic-api-key rule matches a high-entropy value under a
// credential-like name (AZURE_BATCH_KEY, OCI_CLI_KEY_CONTENT). The error says the rules could
// not be loaded. A checksum under a name that says so (checksumDigest) is no credential to
// generic-api-key, which finds it for the credential word its name also holds (Helm's
// checksum/secret annotation) and for a digest's entropy.
//
// It also says whether value holds nothing decodeSegments
// decodes (so that encodedCredential(value) is ""), when decoding name=value has shown it:
// gitleaks' rules found nothing in name=value, nothing in it decoded, and name holds no '%'.
// decodeSegments reads the value part of name=value as it reads value alone, the same
// segments tried from the same places: a base64 run ends at the '=' between them (which it
// may take as padding, as it may take a first '=' of value, neither a base64 character), and
// only a percent-encoded segment that starts in name could run on into value.
func leakedSecretsPlain(name, value string) (leaked string, plain bool, err error) {
	return leakedSecretsPlainUntil(name, value, nil)
}

// leakedSecretsPlainUntil is leakedSecretsPlain for a judgement whose caller may stop waiting:
// gitleaks' rules read name=value until stop (nil: never) says true (leakedInTextPlain), and what
// it says then is no verdict (engine.Context.Stopped drops it).
func leakedSecretsPlainUntil(name, value string, stop func() bool) (leaked string, plain bool, err error) {
	leaked, plain, err = leakedInTextPlain(name+"="+value, stop)
	if leaked == "gitleaks rule generic-api-key" && checksumDigest(name, value) {
		leaked = ""
	}
	return leaked, plain && strings.IndexByte(name, '%') < 0, err
}

// checksumDigest reports whether value is a checksum under a name that says it is one: the
// name has the word CHECKSUM (Helm's checksum/config and checksum/secret pod annotations, which
// restart pods when the objects they digest change; secret.checksum) and the value is a
// hexadecimal digest of MD5's, SHA-1's or a SHA-2's length (32, 40, 56, 64, 96 or 128 digits).
// A hash of a credential (PASSWORD_HASH, token_sha256) is not one: it is the credential's
// verifier, which offline guessing can undo, and is judged as the credential.
func checksumDigest(name, value string) bool {
	return hexDigestShaped(strings.TrimSpace(value)) && slices.Contains(nameParts(name), "CHECKSUM")
}

// leakedInTextPlain is leakedInText, and says whether the rules found nothing in text and
// nothing in it decoded (decodeSegments). The rules read until stop (nil: never) says true
// (secretrules.Rules.FindUntil): then nothing is found and nothing is plain, and the caller's
// check, which asked engine.Context.Stopped for stop, is cut short whatever it makes of that.
func leakedInTextPlain(text string, stop func() bool) (leaked string, plain bool, err error) {
	rules, err := secretrules.Default()
	if err != nil {
		return "", false, err
	}
	found, stopped := rules.FindUntil(text, stop)
	if stopped {
		return "", false, nil
	}
	// gitleaks decodes percent-encoded and base64 segments in place and runs its rules again,
	// up to --max-decode-depth passes (5 by default since v8.25): a base64-encoded private key,
	// or a token in a URL-encoded URL, is found in the decoded text.
	for depth := 0; len(found) == 0 && depth < gitleaksMaxDecodeDepth; depth++ {
		decoded, ok := decodeSegments(text)
		if !ok {
			plain = depth == 0
			break
		}
		text = decoded
		if found, stopped = rules.FindUntil(text, stop); stopped {
			return "", false, nil
		}
	}
	return gitleaksRules(found), plain, nil
}

// gitleaksRules names the rules that found what found holds, "" when it holds nothing.
func gitleaksRules(found []secretrules.Finding) string {
	if len(found) == 0 {
		return ""
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.RuleID
	}
	return "gitleaks rule " + few(ids, ", ")
}

// gitleaksMaxDecodeDepth is gitleaks' default --max-decode-depth.
const gitleaksMaxDecodeDepth = 5

// minBase64Segment is the shortest run gitleaks tries to decode as base64 (its pattern
// [\w\/+-]{16,}={0,2}, detect/codec/encodings.go).
const minBase64Segment = 16

// decodeSegments replaces, from left to right, each percent-encoded segment (from a %XX to the
// last %XX of its line) whose escapes all decode to printable ASCII, and each run of at least 16
// base64 characters (letters, digits, '_', '/', '+', '-', then up to two '=') that decodes, as
// standard or as URL-safe base64, to printable ASCII, with what it decodes to, as gitleaks'
// decoder does (detect/codec v8.30.1: encodings.go's patterns, percent.go, base64.go: a run
// holds a digit or one of +/-_, and tab, newline and carriage return count as printable). Its
// hex and Unicode-escape decoders are not followed. ok is false when no segment decoded.
func decodeSegments(text string) (decoded string, ok bool) {
	var b strings.Builder
	last := 0
	// replace writes text up to start, then plain in place of text[start:end].
	replace := func(start, end int, plain string) {
		if !ok {
			b.Grow(len(text))
			ok = true
		}
		b.WriteString(text[last:start])
		b.WriteString(plain)
		last = end
	}
	for i := 0; i < len(text); {
		if text[i] == '%' && percentEscape(text, i) {
			start, end := i, percentSegmentEnd(text, i)
			i = end
			if plain := decodePercentSegment(text[start:end]); plain != "" {
				replace(start, end, plain)
			}
			continue
		}
		if !isBase64Char(text[i]) {
			i++
			continue
		}
		start := i
		for i < len(text) && isBase64Char(text[i]) {
			i++
		}
		if i-start < minBase64Segment {
			continue
		}
		end := i
		for pad := 0; pad < 2 && end < len(text) && text[end] == '='; pad++ {
			end++
		}
		if plain := decodeBase64Segment(text[start:end]); plain != "" {
			replace(start, end, plain)
		}
		i = end
	}
	if !ok {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}

// encodedCredential says what literal credential the base64 or percent-encoded segments of
// value hold once decoded (decodeSegments, as gitleaks decodes them for its rules), where no
// name says so: a URL with a literal password (DATABASE_URL_B64's
// postgres://app:VALUE@db/app) or configuration that sets a credential-like name
// (credentialSettings: db.password=VALUE); "" when they hold none, or value has none.
func encodedCredential(value string) string {
	decoded, ok := decodeSegments(value)
	if !ok {
		return ""
	}
	if urlPassword(decoded) {
		return "password in a URL, encoded"
	}
	if names := credentialSettings(decoded, maxSettingsNamed); len(names) > 0 {
		return "sets " + strings.Join(names, ", ") + ", encoded"
	}
	return ""
}

// percentEscape reports whether text[i:] starts with '%' and two hexadecimal digits.
func percentEscape(text string, i int) bool {
	return i+2 < len(text) && text[i] == '%' && isHexDigit(text[i+1]) && isHexDigit(text[i+2])
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// percentSegmentEnd is the end of the percent-encoded segment that starts at text[i], as
// gitleaks' pattern %[0-9A-Fa-f]{2}(?:.*%[0-9A-Fa-f]{2})? matches it: after the line's last
// %XX.
func percentSegmentEnd(text string, i int) int {
	line := len(text)
	if n := strings.IndexByte(text[i:], '\n'); n >= 0 {
		line = i + n
	}
	end := i + 3
	for j := strings.LastIndexByte(text[i:line], '%'); j > 0; j = strings.LastIndexByte(text[i:i+j], '%') {
		if percentEscape(text[:line], i+j) {
			end = i + j + 3
			break
		}
	}
	return end
}

// decodePercentSegment is gitleaks' decodePercent: the segment with each %XX decoded, or ""
// when one decodes to a byte that is not printable ASCII.
func decodePercentSegment(seg string) string {
	var b strings.Builder
	b.Grow(len(seg))
	for i := 0; i < len(seg); i++ {
		if seg[i] == '%' && percentEscape(seg, i) {
			c := unhex(seg[i+1])<<4 | unhex(seg[i+2])
			if c <= '\x08' || c >= '\x7f' {
				return ""
			}
			b.WriteByte(c)
			i += 2
			continue
		}
		b.WriteByte(seg[i])
	}
	return b.String()
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// base64Chars are the bytes of a base64 run gitleaks decodes: letters, digits, '_', '/', '+'
// and '-'.
var base64Chars = func() (set [256]bool) {
	for c := range set {
		b := byte(c)
		set[c] = isASCIIAlnum(b) || b == '_' || b == '/' || b == '+' || b == '-'
	}
	return set
}()

func isBase64Char(c byte) bool {
	return base64Chars[c]
}

// decodeBase64Segment is gitleaks' decodeBase64: "" unless seg holds a digit or one of +/-_
// and decodes, as standard base64 or else as unpadded URL-safe base64, to printable ASCII.
func decodeBase64Segment(seg string) string {
	if !strings.ContainsAny(seg, "0123456789+/-_") {
		return ""
	}
	// A segment whose length or characters the encoding cannot decode (most of those that are
	// words and names) is not given to it; one that is is decoded into buf when it fits (as
	// DecodeString decodes, into memory it allocated first: most of the segments tried are
	// names, kube_pod_container_resource_requests, that decode to bytes that are not text).
	var buf [256]byte
	if len(seg)%4 == 0 && !strings.ContainsAny(seg, "-_") {
		if plain, ok := decodeBase64(base64.StdEncoding, seg, buf[:]); ok {
			return plain
		}
	}
	if len(seg)%4 != 1 && !strings.ContainsAny(seg, "+/=") {
		if plain, ok := decodeBase64(base64.RawURLEncoding, seg, buf[:]); ok {
			return plain
		}
	}
	return ""
}

// decodeBase64 decodes seg with enc, in buf when it has room, and reports whether it decodes
// to printable ASCII (isPrintableASCII), as that text.
func decodeBase64(enc *base64.Encoding, seg string, buf []byte) (string, bool) {
	if n := enc.DecodedLen(len(seg)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := enc.Decode(buf, []byte(seg))
	if err != nil || !isPrintableASCII(buf[:n]) {
		return "", false
	}
	return string(buf[:n]), true
}

func isPrintableASCII(b []byte) bool {
	for _, c := range b {
		if c <= '\x08' || c >= '\x7f' {
			return false
		}
	}
	return true
}

// isSettingName reports whether s can be the name of a setting in a configuration file line:
// one or more ASCII letters, digits, '_', '.' or '-'. (It was the regular expression
// ^[A-Za-z0-9_.\-]+$, run on every line of every ConfigMap value: 1% of a scan.)
func isSettingName(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return s != ""
}

// credentialSettings lists the settings of a configuration file (properties, .env, YAML, INI,
// JSON: one setting per line) that end in a credential word and hold a literal value, by name:
// the setting a line starts with, or else those inside it (inlineSettings: a connection
// string's Password=..., a URL's ?password=..., an XML element or attribute, a --password=...
// in a shell command). At most limit names are returned.
//
// Every name it returns passes credentialSettingName (or is ODBC's Pwd), whose
// mayEndInCredential needs one of settingWordParts in the name, in any case, and is part of
// content, except a JSON key written with escapes (jsonCredentialSettings decodes them). A
// content without any of them, and without a backslash, is not read line by line (a Grafana
// dashboard of 70 KB was, three times over: a fifth of sec-configmap-credentials' time on
// ../shared/corpus); one with a backslash is read only for such a JSON key.
// TestCredentialSettingsSkipsOnlyWhatHasNoSetting and FuzzCredentialSettingsSkip compare it
// with readCredentialSettings, which reads every content.
func credentialSettings(content string, limit int) []string {
	if mayHoldSettingWord(content) {
		return readCredentialSettings(content, limit)
	}
	if strings.IndexByte(content, '\\') < 0 || !settingsShareALine(content) {
		return nil
	}
	if names := jsonCredentialSettings(content, limit); len(names) > 0 {
		return names
	}
	return nil
}

// settingWordParts are, in lower case, strings one of which every name mayEndInCredential
// passes holds, in any case: what it ends in is KEY, PAS (PASS less its S), MASTERAUTH,
// REDISCLI_AUTH's or NEO4J_AUTH's AUTH, ERLANG_COOKIE's COOKIE, ETCDCTL_USER's USER, a
// WordPress salt's SALT, a gossip key's ENCRYPT, PSK, PWD or PW, or one of
// credentialWords (PASSWORD, PASSWD, PASSWRD and PASSPHRASE hold PAS; PSWRD and PSWD PSW;
// PWORD PW; APIKEY, PRIVATEKEY, ACCESSKEY and SECRETKEY KEY; SECRET, TOKEN; CREDENTIAL, and
// CRED and CREDS, its abbreviations, hold CRED), or PAT after a code host's word, which holds
// one of patSettingParts, or SEED after an OTP word, which holds one of otpSettingParts.
// ODBC's Pwd (inlineSettings) holds PW. TestSettingWordPartsCoverEveryEnding checks them
// against credentialWords.
var settingWordParts = append([]string{"key", "pas", "auth", "cookie", "psk", "pw", "psw", "secret", "token", "cred", "salt", "encrypt", "user"},
	append(slices.Clone(patSettingParts), otpSettingParts...)...)

// settingWordIndex indexes settingWordParts for mayHoldSettingWord: pairs is the set of their
// first two bytes in every case, byFirst the parts by their first byte in lower case.
type settingWordIndex struct {
	pairs   [1 << 16 / 64]uint64
	byFirst [256][]string
}

var settingWords = sync.OnceValue(func() *settingWordIndex {
	idx := new(settingWordIndex)
	for _, p := range settingWordParts {
		for _, a := range []byte{p[0], p[0] - 'a' + 'A'} {
			for _, b := range []byte{p[1], p[1] - 'a' + 'A'} {
				pair := uint16(a)<<8 | uint16(b)
				idx.pairs[pair>>6] |= 1 << (pair & 63)
			}
		}
		idx.byFirst[p[0]] = append(idx.byFirst[p[0]], p)
	}
	return idx
})

// mayHoldSettingWord reports whether text holds one of settingWordParts, ASCII letters in any
// case, looking for all of them in one pass.
func mayHoldSettingWord(text string) bool {
	idx := settingWords()
	for i := 0; i+1 < len(text); i++ {
		pair := uint16(text[i])<<8 | uint16(text[i+1])
		if idx.pairs[pair>>6]&(1<<(pair&63)) == 0 {
			continue
		}
		for _, p := range idx.byFirst[text[i]|0x20] {
			if hasPrefixASCIIFold(text[i:], p) {
				return true
			}
		}
	}
	return false
}

// hasPrefixASCIIFold reports whether s starts with lower, a lower-case ASCII word, its ASCII
// letters in any case (and nothing else: c|0x20 would take a carriage return for '-').
func hasPrefixASCIIFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// containsASCIIFold reports whether s holds lower, a lower-case ASCII word, its ASCII letters
// in any case.
func containsASCIIFold(s, lower string) bool {
	for i := 0; i+len(lower) <= len(s); i++ {
		if hasPrefixASCIIFold(s[i:], lower) {
			return true
		}
	}
	return false
}

// readCredentialSettings is credentialSettings reading every content.
func readCredentialSettings(content string, limit int) []string {
	var names []string
	seen := map[string]bool{}
	// add records name, and reports whether the limit is reached.
	add := func(name string) bool {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		return len(names) == limit
	}
	// block is the credential setting whose value is a YAML block scalar (password: >-) that
	// starts on the next line, and blockIndent the indentation of its own line; plain is set
	// when the setting's line ends in its name and ':' (password:), whose value, if it is a
	// scalar, is on the next line, more indented (a plain or quoted scalar: not a mapping's
	// key, a sequence's item, a flow collection or a comment).
	block, blockIndent, plain := "", 0, false
	// fluentd counts the Fluentd directives open (fluentdDirective).
	fluentd := 0
	// api is the indentation of the YAML mapping key api: whose mapping the lines read are in
	// (-1 when none), apiChild its keys' (-1 until read): its key: is api.key (the Datadog
	// exporter's).
	api, apiChild := -1, -1
	for line := range strings.SplitSeq(content, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		line = strings.TrimSpace(line)
		if block != "" && line != "" {
			name := block
			block = ""
			if indent > blockIndent && (!plain || yamlScalarLine(line)) && credentialValue(name, strings.Trim(line, `"'`)) {
				if add(name) {
					break
				}
				continue
			}
		}
		line = npmScopedSetting(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "//") {
			continue
		}
		if api >= 0 && indent <= api {
			api = -1
		}
		if line == "api:" || line == "API:" {
			api, apiChild = indent, -1
			continue
		}
		if api >= 0 && apiChild < 0 {
			apiChild = indent
		}
		if api >= 0 && indent == apiChild && strings.HasPrefix(line, "key:") {
			// api: / key: VALUE, the OpenTelemetry Collector's Datadog exporter's API key.
			if name, ok := lineSetting("api." + line); ok {
				if add(name) {
					break
				}
				continue
			}
		}
		if line[0] == '<' {
			if open, ok := fluentdDirective(line); ok {
				if open {
					fluentd++
				} else if fluentd > 0 {
					fluentd--
				}
			}
		}
		if fluentd > 0 {
			if name, ok := blankSettingOf(line, true); ok {
				if add(name) {
					break
				}
				continue
			}
		}
		line = strings.TrimPrefix(strings.TrimPrefix(line, "- "), "export ")
		name, ok := lineSetting(line)
		if ok {
			if add(name) {
				break
			}
			continue
		}
		if name != "" && yamlBlockIndicator(line) {
			block, blockIndent, plain = name, indent, false
			continue
		}
		if name != "" && strings.HasSuffix(line, ":") {
			block, blockIndent, plain = name, indent, true
			continue
		}
		if name == "" {
			if name, ok := blankSetting(line); ok {
				if add(name) {
					break
				}
				continue
			}
		}
		if inlineSettings(line, add) {
			break
		}
	}
	if len(names) < limit && strings.Contains(content, "<name>") && strings.Contains(content, "<value>") {
		xmlNameValueSettings(content, add)
	}
	if len(names) < limit && strings.Contains(content, "tokens") {
		consulACLTokens(content, add)
	}
	if len(names) == 0 && settingsShareALine(content) {
		// A JSON document whose settings are not one per line (minified JSON).
		names = jsonCredentialSettings(content, limit)
	}
	if len(names) == 0 {
		names = yamlFlowSettings(content, limit)
	}
	return names
}

// consulACLTokenNames are the ACL tokens a Consul agent's configuration sets in its acl block's
// tokens block (acl { tokens { agent = "..." } }, Consul 1.4 and later): initial_management (the
// bootstrap token: every permission), agent_recovery, agent, default, replication,
// config_file_service_registration, dns, and the older names master and agent_master.
var consulACLTokenNames = map[string]bool{"initial_management": true, "master": true, "agent": true,
	"agent_recovery": true, "agent_master": true, "default": true, "replication": true,
	"config_file_service_registration": true, "dns": true}

// consulACLTokens calls add with tokens.NAME for each of consulACLTokenNames a Consul agent's
// configuration in content (JSON, whole; or HCL or YAML, a tokens block by braces or
// indentation) sets to a literal token, until add returns true. No credential word names them.
func consulACLTokens(content string, add func(string) bool) {
	literal := func(v string) bool {
		return !shellExpansion(v) && credentialValue("token", v)
	}
	if t := strings.TrimSpace(content); strings.HasPrefix(t, "{") {
		var doc struct {
			ACL struct {
				Tokens map[string]any `json:"tokens"`
			} `json:"acl"`
		}
		if json.Unmarshal([]byte(t), &doc) == nil {
			for _, k := range slices.Sorted(maps.Keys(doc.ACL.Tokens)) {
				if v, ok := doc.ACL.Tokens[k].(string); ok && consulACLTokenNames[k] && literal(v) && add("tokens."+k) {
					return
				}
			}
			return
		}
	}
	// in is how the tokens block is open: 0 not, '{' by braces (HCL), ':' by indentation
	// (YAML), more indented than indent.
	in, indent, acl := byte(0), 0, false
	for line := range strings.SplitSeq(content, "\n") {
		ind := len(line) - len(strings.TrimLeft(line, " \t"))
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || strings.HasPrefix(t, "//") {
			continue
		}
		switch {
		case in == '{' && strings.HasPrefix(t, "}"):
			in = 0
			continue
		case in == ':' && ind <= indent:
			in = 0
		}
		name, value, ok := strings.Cut(t, "=")
		if !ok || strings.ContainsAny(name, ":{") {
			name, value, _ = strings.Cut(t, ":")
		}
		name, value = strings.Trim(strings.TrimSpace(name), `"'`), strings.TrimSpace(value)
		if in == 0 {
			// The tokens block of an acl block opened before it: another program's tokens
			// settings are not Consul's.
			switch {
			case name == "acl" || t == "acl {":
				acl = true
			case !acl:
			case name == "tokens" && value == "{", t == "tokens {":
				in = '{'
			case name == "tokens" && value == "":
				in, indent = ':', ind
			}
			continue
		}
		v := strings.Trim(strings.TrimRight(value, ",;"), `"'`)
		if consulACLTokenNames[name] && literal(v) && add("tokens."+name) {
			return
		}
	}
}

// xmlNameValueSettings calls add with the name of each setting of content given as Hadoop's
// configuration files give it (core-site.xml, hive-site.xml: a <property> whose <name> and
// <value> are elements, on one line or several), when the name ends in a credential word and
// the value, its CDATA section unwrapped, is literal, until add returns true. A <name> whose
// property has no <value> before the next <name> has none. Each element is looked for once:
// the next <value> found stays the next until the reading passes it.
func xmlNameValueSettings(content string, add func(string) bool) {
	nextValue := -1
	for pos := 0; pos < len(content); {
		i := strings.Index(content[pos:], "<name>")
		if i < 0 {
			return
		}
		start := pos + i + len("<name>")
		j := strings.Index(content[start:], "</name>")
		if j < 0 {
			return
		}
		name := strings.TrimSpace(content[start : start+j])
		pos = start + j + len("</name>")
		if nextValue < pos {
			k := strings.Index(content[pos:], "<value>")
			if k < 0 {
				return
			}
			nextValue = pos + k
		}
		if n := strings.Index(content[pos:nextValue], "<name>"); n >= 0 || !credentialSettingName(name) {
			continue
		}
		vStart := nextValue + len("<value>")
		end := strings.Index(content[vStart:], "</value>")
		if end < 0 {
			return
		}
		value := strings.TrimSpace(content[vStart : vStart+end])
		if v, ok := strings.CutPrefix(value, "<![CDATA["); ok {
			value = strings.TrimSuffix(v, "]]>")
		}
		pos = vStart + end
		if !shellExpansion(value) && credentialValue(name, value) && add(name) {
			return
		}
	}
}

// yamlFlowSettings lists, by key, the settings of the YAML flow mappings that make up a line's
// value ("- {name: admin, password: ...}", "database: {user: orders, password: ...}", a line
// that is one "{...}"), nested ones included, whose key ends in a credential word and whose
// value is a literal scalar; at most limit names. In any other line, the object literals of
// code (module.exports = { password: "..." }, a Python dict) are read too, but only their
// quoted values: return {password: pw}; passes a variable. The mappings are read by hand, in
// one pass over the line: a ConfigMap of a megabyte of such lines is read in time.
func yamlFlowSettings(content string, limit int) []string {
	var names []string
	seen := map[string]bool{}
	add := func(name string) bool {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		return len(names) == limit
	}
	for line := range strings.SplitSeq(content, "\n") {
		line = strings.TrimSpace(line)
		t := strings.TrimSpace(strings.TrimPrefix(line, "- "))
		if i := strings.Index(t, ": {"); i > 0 && isSettingName(strings.Trim(t[:i], `"'`)) {
			t = t[i+2:]
		}
		if len(t) >= 2 && t[0] == '{' && t[len(t)-1] == '}' {
			if flowMappingSettings(t, maxFlowDepth, false, add) {
				break
			}
			continue
		}
		if !strings.Contains(line, "{") {
			continue
		}
		for _, m := range objectLiterals(line) {
			if flowMappingSettings(m, maxFlowDepth, true, add) {
				return names
			}
		}
	}
	return names
}

// objectLiterals returns the outermost {...} of a line, outside quotes.
func objectLiterals(line string) []string {
	var out []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '{':
			if depth == 0 {
				start = i
			}
			depth++
		case c == '}' && depth > 0:
			depth--
			if depth == 0 {
				out = append(out, line[start:i+1])
			}
		}
	}
	return out
}

// maxFlowDepth bounds how deep flowMappingSettings reads mappings nested in a line's: each
// level reads its text again.
const maxFlowDepth = 8

// flowMappingSettings calls add with each key of the flow mapping m ("{k: v, ...}", or "{k =
// v, ...}" in a TOML inline table or a Lua table) and of the mappings nested in it, to depth
// levels, that ends in a credential word and whose value is a literal scalar (plain, unless
// quotedOnly or after '=', or quoted in " or '), until add returns true (and then returns
// true).
func flowMappingSettings(m string, depth int, quotedOnly bool, add func(string) bool) bool {
	for _, item := range flowItems(m[1 : len(m)-1]) {
		// key: value, or key = value in a TOML inline table or a Lua table.
		i := strings.IndexAny(item, ":=")
		if i < 0 {
			continue
		}
		k, v := item[:i], item[i+1:]
		quoted := quotedOnly || item[i] == '='
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			continue
		case v[0] == '{':
			if depth > 1 && v[len(v)-1] == '}' && flowMappingSettings(v, depth-1, quotedOnly, add) {
				return true
			}
			continue
		case v[0] == '[':
			continue
		case v[0] == '"' || v[0] == '\'':
			if len(v) < 2 || v[len(v)-1] != v[0] {
				continue
			}
			v = v[1 : len(v)-1]
		case quoted:
			continue
		}
		if credentialSettingName(k) && credentialValue(k, v) && add(k) {
			return true
		}
	}
	return false
}

// flowItems splits the inside of a flow collection at its commas, outside quotes and nested
// collections.
func flowItems(s string) []string {
	var items []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 0:
			items = append(items, s[start:i])
			start = i + 1
		}
	}
	return append(items, s[start:])
}

// nginxPassDirectives are nginx's directives that name the server a request is passed to
// (ngx_http_proxy_module's proxy_pass, and the FastCGI, uwsgi, SCGI, gRPC and memcached
// modules' own): their PASS is no password.
var nginxPassDirectives = map[string]bool{"proxy_pass": true, "fastcgi_pass": true, "uwsgi_pass": true,
	"scgi_pass": true, "grpc_pass": true, "memcached_pass": true}

// commandVerbs begin the names of shell functions and commands that do something to a
// credential (generate_password 16, rotate_token now): a line that calls one is no setting.
var commandVerbs = map[string]bool{"GET": true, "SET": true, "GENERATE": true, "GEN": true, "CREATE": true,
	"ROTATE": true, "RESET": true, "READ": true, "LOAD": true, "FETCH": true, "UPDATE": true, "DELETE": true,
	"CHECK": true, "VERIFY": true, "VALIDATE": true, "PRINT": true, "SHOW": true, "WAIT": true, "NEW": true}

// blankSetting is the setting a line gives as its name, blanks and one value, as keepalived
// ("auth_pass VALUE"), Fluent Bit ("HTTP_Passwd VALUE") and Apache httpd
// ("AuthLDAPBindPassword VALUE") write settings, when the name is of more than one word or of
// one that ends in PW after another word (ldap.conf's BINDPW VALUE, slapd's rootpw VALUE; a
// word of prose, "password reset", "Token expired.", is not one), does not start with a verb
// (commandVerbs), is not one of nginxPassDirectives, and ends in a credential word; and whether
// the value, unquoted and without a final ';', is a literal (not a shell expansion). A line of
// more than two words is none.
func blankSetting(line string) (string, bool) {
	return blankSettingOf(line, false)
}

// blankSettingOf is blankSetting, where a name of one word is a setting's too when oneWord is
// set (inside a Fluentd directive), and a value that holds Ruby Fluentd evaluates ("#{...}")
// is no literal.
func blankSettingOf(line string, oneWord bool) (string, bool) {
	i := strings.IndexAny(line, " \t")
	if i <= 0 {
		return "", false
	}
	name, value := line[:i], strings.TrimSpace(line[i+1:])
	if value == "" || strings.ContainsAny(value, " \t") || !credentialSettingName(name) || nginxPassDirectives[name] {
		return "", false
	}
	if parts := nameParts(name); len(parts) < 2 && !oneWord && !boundPasswordWord(parts[0]) || commandVerbs[parts[0]] {
		return "", false
	}
	value = strings.Trim(strings.TrimSuffix(value, ";"), `"'`)
	return name, !shellExpansion(value) && !strings.Contains(value, "#{") && credentialValue(name, value)
}

// boundPasswordWord reports whether a name's one part (upper case) is a word that ends in PW
// after another: BINDPW, ROOTPW (ldap.conf's, nslcd's and slapd's bind and root passwords),
// which prose does not start a line with as it does "Password reset" or "Token expired", and no
// command is named (chpasswd, htpasswd end in PASSWD).
func boundPasswordWord(part string) bool {
	return len(part) > 2 && strings.HasSuffix(part, "PW")
}

// fluentdDirectives are the directives and plugin sections of Fluentd's configuration (v1:
// "Config File Syntax"; the sections of its built-in and common output plugins), between
// whose <name ...> and </name> parameters are written "name value".
var fluentdDirectives = map[string]bool{"source": true, "match": true, "filter": true, "system": true,
	"label": true, "worker": true, "buffer": true, "parse": true, "format": true, "inject": true,
	"extract": true, "storage": true, "service_discovery": true, "store": true, "server": true,
	"security": true, "user": true, "client": true, "transport": true, "secondary": true, "auth": true}

// fluentdDirective reports whether a line (trimmed) opens a Fluentd directive (<match kube.**>),
// or closes one (</match>, open false); ok is false for any other line, an XML tag with
// attributes or one that closes itself among them.
func fluentdDirective(line string) (open, ok bool) {
	if len(line) < 3 || line[len(line)-1] != '>' {
		return false, false
	}
	inner := line[1 : len(line)-1]
	if strings.ContainsAny(inner, "=\"'<>") || strings.HasSuffix(inner, "/") {
		// An XML tag with attributes, or one that closes itself (<user name="x"/>).
		return false, false
	}
	open = !strings.HasPrefix(inner, "/")
	inner = strings.TrimPrefix(inner, "/")
	if i := strings.IndexAny(inner, " \t"); i >= 0 {
		if !open {
			return false, false
		}
		inner = inner[:i]
	}
	return open, fluentdDirectives[inner]
}

// yamlScalarLine reports whether a line (trimmed) may be a YAML plain or quoted scalar that
// continues the line before: not a mapping's key (a ": " or a final ':' in a plain scalar makes
// one), a sequence's item, a flow collection, a comment or a directive.
func yamlScalarLine(line string) bool {
	switch line[0] {
	case '#', '-', '[', '{', '?', '&', '*', '!', '|', '>', '%', '@', '`':
		return line[0] == '-' && !strings.HasPrefix(line, "- ") && line != "-"
	case '"', '\'':
		return true
	}
	return !strings.Contains(line, ": ") && !strings.HasSuffix(line, ":") && !strings.Contains(line, " #")
}

// propertiesCredentials lists, by key, the entries of a Java .properties file whose key ends in
// a credential word and whose value is literal, read as java.util.Properties.load reads them
// (OpenJDK's Properties.LineReader and loadConvert): a line whose first non-blank is '#' or
// '!' is a comment; a line that ends in an odd number of backslashes goes on to the next, whose
// leading blanks are dropped; the key ends at the first unescaped '=', ':' or blank, and the
// value starts after the blanks, one '=' or ':' and the blanks that follow it ("db.password
// Orders-2024", "db.password:Orders-2024"); \uXXXX and \X escapes are decoded in both
// (db.pass\u0077ord). At most limit names.
func propertiesCredentials(content string, limit int) []string {
	var names []string
	seen := map[string]bool{}
	var logical strings.Builder
	continuing := false
	entry := func() bool {
		rawKey, rawValue := propertiesEntry(logical.String())
		key, ok := propertiesUnescape(rawKey)
		if !ok || seen[key] || !mayEndInCredential(key) || !endsInCredential(key) {
			return false
		}
		if value, ok := propertiesUnescape(rawValue); ok && credentialValue(key, value) {
			seen[key] = true
			names = append(names, key)
		}
		return len(names) == limit
	}
	for line := range strings.SplitSeq(content, "\n") {
		t := strings.TrimLeft(strings.TrimRight(line, "\r"), " \t\f")
		if !continuing {
			if t == "" || t[0] == '#' || t[0] == '!' {
				continue
			}
			logical.Reset()
		}
		n := 0
		for n < len(t) && t[len(t)-1-n] == '\\' {
			n++
		}
		if n%2 == 1 {
			logical.WriteString(t[:len(t)-1])
			continuing = true
			continue
		}
		logical.WriteString(t)
		continuing = false
		if entry() {
			return names
		}
	}
	if continuing {
		entry()
	}
	return names
}

// propertiesEntry splits a logical line of a .properties file into its key and value, their
// escapes not decoded (propertiesUnescape).
func propertiesEntry(s string) (key, value string) {
	keyEnd, valueStart, separator := len(s), len(s), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			keyEnd, valueStart, separator = i, i+1, c == '=' || c == ':'
			break
		}
	}
	isBlank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }
	for valueStart < len(s) && isBlank(s[valueStart]) {
		valueStart++
	}
	if !separator && valueStart < len(s) && (s[valueStart] == '=' || s[valueStart] == ':') {
		valueStart++
		for valueStart < len(s) && isBlank(s[valueStart]) {
			valueStart++
		}
	}
	return s[:keyEnd], s[valueStart:]
}

// propertiesUnescape decodes the escapes of a .properties key or value as loadConvert does:
// \uXXXX is the UTF-16 code unit XXXX, \t, \n, \r and \f are those characters, and a
// backslash before any other character is dropped; false when a \u is not followed by four
// hexadecimal digits.
func propertiesUnescape(s string) (string, bool) {
	if !strings.Contains(s, "\\") {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	var units []uint16
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			flush()
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'u':
			if i+4 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) || !isHexDigit(s[i+3]) || !isHexDigit(s[i+4]) {
				return "", false
			}
			units = append(units, uint16(unhex(s[i+1]))<<12|uint16(unhex(s[i+2]))<<8|uint16(unhex(s[i+3]))<<4|uint16(unhex(s[i+4])))
			i += 4
			continue
		case 't':
			c = '\t'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 'f':
			c = '\f'
		default:
			c = s[i]
		}
		flush()
		b.WriteByte(c)
	}
	flush()
	return b.String(), true
}

// yamlBlockIndicator reports whether a line's value, after its first ':', is a YAML block
// scalar's header (yamlBlockHeader: |, >, with chomping and indentation indicators and a
// comment): its value is on the lines that follow.
func yamlBlockIndicator(line string) bool {
	_, v, ok := strings.Cut(line, ":")
	return ok && yamlBlockHeader(v)
}

// yamlBlockHeader reports whether v, what follows a mapping key's ':', is a block scalar's
// header (YAML 1.2, 8.1.1): | or >, a chomping indicator (- or +) and an indentation indicator
// (1 to 9) in either order, and a comment after blank space (password: |2-  # the db's).
func yamlBlockHeader(v string) bool {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '#'); i > 0 && (v[i-1] == ' ' || v[i-1] == '\t') {
		v = strings.TrimSpace(v[:i])
	}
	if v == "" || v[0] != '|' && v[0] != '>' {
		return false
	}
	switch h := v[1:]; len(h) {
	case 0:
		return true
	case 1:
		return h[0] == '-' || h[0] == '+' || '1' <= h[0] && h[0] <= '9'
	case 2:
		chomp := func(c byte) bool { return c == '-' || c == '+' }
		digit := func(c byte) bool { return '1' <= c && c <= '9' }
		return chomp(h[0]) && digit(h[1]) || digit(h[0]) && chomp(h[1])
	}
	return false
}

// lineSetting is the name of the setting a configuration line starts with (name=value,
// name: value, PHP's $name = value; and 'name' => value,), when the name ends in a credential
// word (or is Yarn's npmAuthIdent, USER:PASSWORD or its base64), and whether the value is
// literal; "" when the line starts with no such setting.
func lineSetting(line string) (string, bool) {
	i := strings.IndexAny(line, ":=")
	if i <= 0 {
		return "", false
	}
	name := strings.Trim(strings.TrimSpace(line[:i]), `"'`)
	variable := strings.HasPrefix(name, "$")
	name = strings.TrimPrefix(name, "$")
	authIdent := name == "npmAuthIdent" || name == "YARN_NPM_AUTH_IDENT"
	if !authIdent && !credentialSettingName(name) {
		return "", false
	}
	value := line[i+1:]
	if line[i] == '=' {
		value = strings.TrimPrefix(value, ">")
	} else if yamlBlockHeader(value) {
		// password: |2: the value is on the next lines (yamlBlockIndicator).
		return name, false
	}
	value = strings.TrimSpace(value)
	if variable && strings.HasPrefix(value, "$") {
		// PHP's $db_password = $_ENV['DB_PASSWORD']; assigns another variable.
		return name, false
	}
	if j := strings.Index(value, " #"); j >= 0 {
		value = value[:j]
	}
	// A shell statement continued on the next line ends in a backslash.
	value = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), `\`))
	value = strings.Trim(strings.TrimRight(value, ",;"), `"'`)
	if name == "passwd" && nssSources(value) {
		return name, false
	}
	if authIdent {
		// Yarn's npmAuthIdent (.yarnrc.yml; YARN_NPM_AUTH_IDENT in its environment, a .env
		// file): USER:PASSWORD, or its base64, as npm's _auth.
		if !strings.Contains(value, ":") {
			if b, err := base64.StdEncoding.DecodeString(value); err == nil && isPrintableASCII(b) {
				value = string(b)
			}
		}
		p, ok := userPasswordValue(value)
		return name, ok && !shellExpansion(p) && credentialValue("password", p)
	}
	if value == "{" || value == "[" || strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}") && strings.Contains(value, ":") {
		// JSON's "secrets": { opens an object (and "tokens": [ an array), and
		// "credentials": {"source": "..."} is one: their own settings are judged by their
		// own names. ({SSHA}... is an LDAP password's hash.)
		return name, false
	}
	return name, credentialValue(name, value)
}

// nssServices are the services nsswitch.conf's databases are looked up in (glibc's and the
// common modules'): its "passwd: files systemd" names the user database's sources.
var nssServices = map[string]bool{"files": true, "compat": true, "db": true, "dns": true, "nis": true,
	"nisplus": true, "hesiod": true, "systemd": true, "sss": true, "ldap": true, "winbind": true,
	"wins": true, "myhostname": true, "mymachines": true, "resolve": true, "extrausers": true,
	"altfiles": true, "cache": true, "mdns": true, "mdns4": true, "mdns4_minimal": true}

// nssSources reports whether value is a list of nssServices, with [STATUS=action] items.
func nssSources(value string) bool {
	fields := strings.Fields(value)
	for _, f := range fields {
		if !nssServices[f] && !(strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]")) {
			return false
		}
	}
	return len(fields) > 0
}

// inlineSettings calls add with the name of each setting inside a line, not at its start, that
// ends in a credential word and holds a literal value, until add returns true (and then returns
// true):
//
//   - name=value after a ';', '&' or '?' (an ADO.NET or ODBC connection string's
//     "Server=db;User Id=sa;Password=...", a JDBC URL's "?user=app&password=..."), or after a
//     space when the name is a command-line flag (mysql -h db --password=...) or follows an
//     assignment (a libpq connection string's "host=db user=app password=...", "env A=1
//     PGPASSWORD=..."), the value running to the next space, ';' or '&';
//   - name="value" or name='value' after a space (an XML attribute, a keyword argument);
//   - <name>value</name> (an XML element: Maven's settings.xml <password>).
//
// Inside a line, Pwd is a password too: ODBC's and ADO.NET's keyword (Uid=sa;Pwd=...). A line's
// own PWD (lineSetting) is the shell's working directory.
//
// A value that starts with '$' (a shell parameter, $(command)) or holds '(' (a function call in
// code: password=os.getenv("PW")) is no literal, unless it is an Artemis masked password
// (artemisMasked). An unquoted value after a space is taken only for a flag: in code,
// password=password passes a variable.
func inlineSettings(line string, add func(string) bool) bool {
	st := newInlineState()
	for i := strings.IndexByte(line, '='); i >= 0; {
		if name, value, ok := inlineAssignment(line, i, &st); ok && (credentialSettingName(name) || strings.EqualFold(name, "pwd")) &&
			!shellExpansion(value) && (!strings.Contains(value, "(") || artemisMasked(value)) && credentialValue(name, value) && add(name) {
			return true
		}
		j := strings.IndexByte(line[i+1:], '=')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	for i := strings.IndexByte(line, '<'); i >= 0; {
		if name, value, ok, _ := xmlElement(line[i:]); ok && credentialSettingName(name) &&
			!shellExpansion(value) && credentialValue(name, value) && add(name) {
			return true
		}
		j := strings.IndexByte(line[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return xmlNamedValues(line, add) || phpConstant(line, add) || hashRocketSettings(line, add)
}

// artemisMasked reports whether value is a password ActiveMQ Artemis masked with its default
// codec: ENC(HEX), HEX an optional '-' and hexadecimal digits (DefaultSensitiveStringCodec's
// two-way output, a BigInteger in base 16), as broker.xml, bootstrap.xml, management.xml and
// login.config take it. That codec's Blowfish key is hard-coded in it ("clusterpassword"), so
// whoever reads the value unmasks the password: it is a literal, as <cluster-password>ENC(...)
// already was, not a function call. (artemis-users.properties' ENC(...) is a one-way hash,
// which realmUserPassword passes.)
func artemisMasked(value string) bool {
	v, ok := strings.CutPrefix(strings.TrimSpace(value), "ENC(")
	if !ok {
		return false
	}
	v, ok = strings.CutSuffix(v, ")")
	v = strings.TrimPrefix(v, "-")
	return ok && v != "" && strings.TrimLeft(v, "0123456789abcdefABCDEF") == ""
}

// hashRocketSettings calls add with the name of each setting written name => value inside line
// (not at its start, which lineSetting reads) that ends in a credential word and holds a
// literal value, until add returns true (and then returns true): a one-line Logstash pipeline's
// output { elasticsearch { user => "u" password => "p" } }, Ruby's { :password => "p" } and PHP's
// array('password' => 'p'). The name follows a blank or one of {([, and may be quoted or a Ruby
// symbol. A quoted value is the value; an unquoted one (a Logstash bareword) only when code would
// not read it as a name or an expression: not an identifier (pw, DB_PASSWORD), nor a value
// starting with $, @, : or &, nor one holding '.', '[' or '(' (ENV['PW'], Rails.credentials.pw,
// getenv('PW')).
func hashRocketSettings(line string, add func(string) bool) bool {
	for from := 0; ; {
		i := strings.Index(line[from:], "=>")
		if i < 0 {
			return false
		}
		i += from
		from = i + 2
		end := i
		for end > 0 && (line[end-1] == ' ' || line[end-1] == '\t') {
			end--
		}
		var quote byte
		if end > 0 && (line[end-1] == '"' || line[end-1] == '\'') {
			quote = line[end-1]
			end--
		}
		start := end
		for start > 0 && isSettingChar(line[start-1]) {
			start--
		}
		name := line[start:end]
		switch {
		case quote != 0:
			if start == 0 || line[start-1] != quote {
				continue
			}
			start--
		case start > 0 && line[start-1] == ':':
			start--
		}
		if name == "" || start == 0 || !strings.ContainsRune(" \t{([,", rune(line[start-1])) || !credentialSettingName(name) {
			continue
		}
		rest := strings.TrimLeft(line[i+2:], " \t")
		var value string
		if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
			j := strings.IndexByte(rest[1:], rest[0])
			if j < 0 {
				continue
			}
			value = rest[1 : 1+j]
		} else {
			// To the next blank or delimiter, and before the next name => value's =: on a
			// line of many, each value is read to the next one only.
			if j := strings.IndexAny(rest, " \t,;{}()[]<>=\"'"); j >= 0 {
				rest = rest[:j]
			}
			if rest == "" || strings.ContainsAny(rest[:1], "$@:&") || strings.ContainsAny(rest, ".[(") || codeIdentifier(rest) {
				continue
			}
			value = rest
		}
		if !shellExpansion(value) && !strings.Contains(value, "(") && credentialValue(name, value) && add(name) {
			return true
		}
	}
}

// squidPeerLogin reports whether text, Squid's configuration, gives a parent proxy a literal
// password: a cache_peer line's login=USER:PASSWORD, or login=*:PASSWORD (the client's user with
// a fixed password). login=PASSTHRU, PASS and PROXYPASS forward the client's credentials, and
// login=NEGOTIATE[:PRINCIPAL] uses Kerberos: none is a password.
func squidPeerLogin(text string) bool {
	if !strings.Contains(text, "cache_peer") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "cache_peer" {
			continue
		}
		for _, o := range f[1:] {
			login, ok := strings.CutPrefix(o, "login=")
			if !ok {
				continue
			}
			user, p, ok := strings.Cut(login, ":")
			if ok && user != "" && !strings.EqualFold(user, "NEGOTIATE") && !shellExpansion(p) && credentialValue("password", p) {
				return true
			}
		}
	}
	return false
}

// postfixPasswordMaps reports whether text sets a Postfix SASL password table
// (smtp_sasl_password_maps, lmtp_sasl_password_maps), in main.cf or postconf's argument, to a
// table given inline with a literal password: static:USER:PASSWORD, or inline:{ NEXTHOP=USER:PASSWORD, ... }.
// A table in a file (hash:/etc/postfix/sasl_passwd) or a variable is none.
func postfixPasswordMaps(text string) bool {
	const setting = "_sasl_password_maps"
	// from only grows past what was read: a value is read once, however many settings a
	// line holds.
	for from := 0; ; {
		i := strings.Index(text[from:], setting)
		if i < 0 {
			return false
		}
		from += i + len(setting)
		rest := strings.TrimLeft(text[from:], " \t")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\"'")
		start := len(text) - len(rest)
		switch {
		case strings.HasPrefix(rest, "static:"):
			v := rest[len("static:"):]
			if j := strings.IndexAny(v, " \t\r\n\"',"); j >= 0 {
				v = v[:j]
			}
			from = start + len("static:") + len(v)
			if postfixUserPassword(v) {
				return true
			}
		case strings.HasPrefix(rest, "inline:{"):
			// To the line's last }: a ${VAR} in an entry closes none.
			body, _, _ := strings.Cut(rest[len("inline:{"):], "\n")
			from = start + len("inline:{") + len(body)
			if j := strings.LastIndexByte(body, '}'); j >= 0 {
				body = body[:j]
			}
			for _, item := range strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
				if _, v, ok := strings.Cut(item, "="); ok && postfixUserPassword(v) {
					return true
				}
			}
		}
	}
}

// upstreamProxyLogin reports whether text, tinyproxy's or Privoxy's configuration, gives an
// upstream proxy a literal password as USER:PASSWORD@HOST:PORT, which has no scheme and so is no
// URL (urlPassword): tinyproxy's Upstream TYPE USER:PASSWORD@HOST:PORT ["DOMAIN"] and Privoxy's
// forward-socks4, -socks4a, -socks5 and -socks5t PATTERN USER:PASSWORD@HOST:PORT NEXT.
func upstreamProxyLogin(text string) bool {
	if !strings.Contains(text, "@") || !strings.Contains(text, "Upstream") && !strings.Contains(text, "forward-socks") {
		return false
	}
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		var proxy string
		switch {
		case len(f) >= 3 && f[0] == "Upstream":
			proxy = f[2]
		case len(f) >= 3 && strings.HasPrefix(f[0], "forward-socks"):
			proxy = f[2]
		default:
			continue
		}
		login, _, ok := strings.Cut(proxy, "@")
		if !ok {
			continue
		}
		if _, p, ok := strings.Cut(login, ":"); ok && !shellExpansion(p) && !strings.ContainsAny(p, "<>{}") && credentialValue("password", p) {
			return true
		}
	}
	return false
}

// postfixUserPassword reports whether v is a SASL password table's USER:PASSWORD with a literal
// password.
func postfixUserPassword(v string) bool {
	p, ok := userPasswordValue(v)
	return ok && !shellExpansion(p) && !strings.ContainsAny(p, "<>{}") && credentialValue("password", p)
}

// codeIdentifier reports whether w is a name in code: a letter or underscore, then letters,
// digits and underscores.
func codeIdentifier(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return w != ""
}

// phpDefine is a PHP constant defined with a quoted name and a quoted value: WordPress's
// define( 'DB_PASSWORD', '...' );.
var phpDefine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\bdefine\s*\(\s*(?:'([^']*)'|"([^"]*)")\s*,\s*(?:'([^']*)'|"([^"]*)")\s*\)`)
})

// phpConstant calls add with the name of each PHP constant of line that phpDefine matches,
// whose name ends in a credential word and whose value is literal, until add returns true (and
// then returns true).
func phpConstant(line string, add func(string) bool) bool {
	if !strings.Contains(line, "efine") && !strings.Contains(line, "EFINE") {
		return false
	}
	for _, m := range phpDefine().FindAllStringSubmatch(line, -1) {
		name, value := m[1]+m[2], m[3]+m[4]
		if credentialSettingName(name) && credentialValue(name, value) && add(name) {
			return true
		}
	}
	return false
}

// xmlAttribute is an attribute of an XML tag, its value quoted.
var xmlAttribute = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([A-Za-z_][-A-Za-z0-9_.:]*)\s*=\s*("[^"]*"|'[^']*')`)
})

// xmlNamedValues calls add with the name of each XML setting of line that names itself in a
// key or name attribute and gives its value in a value attribute or as the element's text
// (.NET's <add key="DbPassword" value="..."/>, Spring's and Hibernate's <property
// name="...password" value="..."/>, Java's <entry key="db.password">...</entry>), when the
// name ends in a credential word and the value is literal, until add returns true (and then
// returns true). Each tag is read once.
func xmlNamedValues(line string, add func(string) bool) bool {
	if !strings.Contains(line, "=") || !strings.Contains(line, "<") {
		return false
	}
	for i := strings.IndexByte(line, '<'); i >= 0; {
		end := strings.IndexByte(line[i:], '>')
		if end < 0 {
			return false
		}
		tag := line[i : i+end+1]
		var name, value string
		hasValue := false
		for _, a := range xmlAttribute().FindAllStringSubmatch(tag, -1) {
			v := a[2][1 : len(a[2])-1]
			switch strings.ToLower(a[1]) {
			case "key", "name":
				name = v
			case "value":
				value, hasValue = v, true
			}
		}
		rest := line[i+end+1:]
		if name != "" && credentialSettingName(name) {
			if !hasValue && !strings.HasSuffix(tag, "/>") {
				// The element's text, up to the next tag.
				text, _, found := strings.Cut(rest, "<")
				value, hasValue = strings.TrimSpace(text), found
			}
			if hasValue && !shellExpansion(value) && credentialValue(name, value) && add(name) {
				return true
			}
		}
		j := strings.IndexByte(rest, '<')
		if j < 0 {
			return false
		}
		i += end + 1 + j
	}
	return false
}

// inlineState is what inlineAssignment keeps from one assignment of a line to the next, which
// it is asked about in the order of the line.
type inlineState struct {
	// flag is flagSetting's answer for the last setting.
	flag flagList
	// ends are where the unquoted values last asked about end (valueEnd), by the bytes
	// that end them: plainEnds, listEnds, queryEnds.
	ends [3]int
	// read counts the bytes read to find where unquoted values end.
	read int
}

// plainEnds end an unquoted value of inlineSettings; listEnds end one in a list, a flag's
// value (helm --set a=1,b=2), where a list's next item is no part of it, nor what closes a call;
// queryEnds end one after a '?', a URL's query, whose next '?' or fragment is no part of it
// either. A value that went on past a '?' read every setting after it again: the values of a
// line of ?password=b repeated, each to the line's end, were read quadratically.
const (
	plainEnds = " \t;&\"'`<>"
	listEnds  = plainEnds + ",)"
	queryEnds = plainEnds + "?#"
)

// Where a value's context (valueEnd) begins it: after a blank, ';' or '&'; in a list; after '?'.
const (
	plainValue = iota
	listValue
	queryValue
)

func newInlineState() inlineState {
	return inlineState{flag: flagList{start: -1}, ends: [3]int{-1, -1, -1}}
}

// valueEnd is where an unquoted value that starts at line[from], in the context k
// (plainValue, listValue, queryValue), ends: at the first byte of that context's ends at or
// after from, or at the line's end. Values are asked about in the order of the line, and the
// end found for one is the next one's too while it lies after that one's start: the line is
// read once for each set of ends, not to its end from every '=' (a line of ?a=b repeated).
func (st *inlineState) valueEnd(line string, from int, k int) int {
	ends := [...]string{plainEnds, listEnds, queryEnds}[k]
	if st.ends[k] < from {
		if j := strings.IndexAny(line[from:], ends); j >= 0 {
			st.ends[k] = from + j
			st.read += j + 1
		} else {
			st.ends[k] = len(line)
			st.read += len(line) - from
		}
	}
	return st.ends[k]
}

// inlineAssignment reads the assignment whose '=' is line[eq], as inlineSettings describes:
// ok is false when it is not one it takes (a comparison, ==, a name that is not a setting name,
// an unquoted value after a space under a name that is not a flag). st is kept from the
// assignment before on the line.
func inlineAssignment(line string, eq int, st *inlineState) (name, value string, ok bool) {
	if eq+1 < len(line) && line[eq+1] == '=' || eq > 0 && line[eq-1] == '=' {
		return "", "", false
	}
	start := eq
	for start > 0 && isSettingChar(line[start-1]) {
		start--
	}
	name = line[start:eq]
	flag := strings.HasPrefix(name, "-")
	name = strings.TrimLeft(name, "-.")
	if name == "" || start == 0 {
		return "", "", false // nothing, or the line's own setting (lineSetting)
	}
	rest := line[eq+1:]
	if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		end := strings.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return "", "", false
		}
		return name, rest[1 : 1+end], true
	}
	k := plainValue
	switch {
	case flagSetting(line, start, &st.flag):
		k = listValue
	case line[start-1] == '?':
		k = queryValue
	case line[start-1] == ';', line[start-1] == '&':
	case line[start-1] == ' ', line[start-1] == '\t':
		if !flag && !afterAssignment(line[:start]) && !atCommandStart(line[:start]) {
			return "", "", false
		}
	default:
		return "", "", false
	}
	return name, line[eq+1 : st.valueEnd(line, eq+1, k)], true
}

// flagList is what flagSetting found of the last setting it was asked about: where its name
// starts, and whether it is given as a flag's value. A list's next item is judged by it, so a
// line of many items is read once (not back to the list's start at each item).
type flagList struct {
	start int
	ok    bool
}

// flagSetting reports whether the setting whose name starts at line[start] is given as a
// flag's value, which a command passes on to what it configures: kubectl create secret's
// --from-literal=NAME=VALUE, helm's --set NAME=VALUE and --set a=1,NAME=VALUE, docker run's
// -e NAME=VALUE; the value may be quoted. The flag is a word of its own (-e, --from-literal),
// and a list's items are settings, its first from a word's start (the flag's value in argv,
// auth.user=a,auth.password=...) with no call's parenthesis or bracket in them (code's
// f(a=1,password=pw) is a call). last is the answer for the setting before, and is set to this
// one's: settings are asked about in the order of the line.
func flagSetting(line string, start int, last *flagList) bool {
	ok := flagValueAt(line, start, *last)
	*last = flagList{start: start, ok: ok}
	return ok
}

// flagValueAt is flagSetting's answer, last the one for the setting before.
func flagValueAt(line string, start int, last flagList) bool {
	i := start
	if i > 1 && (line[i-1] == '"' || line[i-1] == '\'') {
		i--
	}
	switch line[i-1] {
	case '=':
		// --from-literal=NAME=VALUE.
		k := i - 1
		for k > 0 && isSettingChar(line[k-1]) {
			k--
		}
		return wordStart(line, k) && isFlag(line[k:i-1])
	case ' ', '\t':
		// --set NAME=VALUE, -e NAME=VALUE.
		return afterFlag(line[:i])
	case ',':
		if i != start {
			return false
		}
		// --set a=1,NAME=VALUE: the item before the comma, back to its start.
		q := i - 1
		for q > 0 && !strings.ContainsRune(" \t\"'()[]{},", rune(line[q-1])) {
			q--
		}
		name, value, isItem := strings.Cut(line[q:i-1], "=")
		switch {
		case !isItem:
			return false
		case q > 0 && line[q-1] == ',':
			// An item after another: the list is a flag's value if that one's is.
			return last.start == q && last.ok
		case isFlag(name):
			// --set=a=1,NAME=VALUE
			name, _, isItem = strings.Cut(value, "=")
			return isItem && isSettingName(name) && wordStart(line, q)
		}
		// The list's first item, the line's first word (an argument) or after a flag.
		return isSettingName(name) && (q == 0 || wordStart(line, q) && afterFlag(line[:q]))
	}
	return false
}

// afterFlag reports whether before, the part of a line before a word, ends in a flag and blank
// space (or a quote): --set , -e ".
func afterFlag(before string) bool {
	before = strings.TrimRight(before, " \t\"'")
	return isFlag(before[strings.LastIndexAny(before, " \t\"'")+1:])
}

// wordStart reports whether line[k] starts a word: the line's start, or after blank space or a
// quote.
func wordStart(line string, k int) bool {
	return k == 0 || strings.ContainsRune(" \t\"'", rune(line[k-1]))
}

// isFlag reports whether w is a command-line flag that takes a value: -e, --from-literal.
func isFlag(w string) bool {
	name := strings.TrimLeft(w, "-")
	return len(w)-len(name) >= 1 && len(w)-len(name) <= 2 && isSettingName(name) && isASCIIAlnum(name[0])
}

// commandStarters are the words of a shell after which, and a blank, a new command starts
// (and with it its assignments, NAME=VALUE cmd): the control operators, a group's opening,
// the keywords that start a command list, and the builtins that take assignments.
var commandStarters = map[string]bool{"&&": true, "||": true, "|": true, "|&": true, "&": true, ";": true,
	"(": true, "{": true, "then": true, "do": true, "else": true, "!": true, "export": true, "readonly": true,
	"local": true, "env": true}

// atCommandStart reports whether before, the text of a line before an assignment, ends with a
// blank after a word that starts a command (commandStarters) or ends in ';' (echo hi;
// PGPASSWORD=VALUE pg_dump): pg_isready && PGPASSWORD=VALUE pg_dump sets PGPASSWORD as a line
// that starts with it does.
func atCommandStart(before string) bool {
	t := strings.TrimRight(before, " \t")
	if t == before || t == "" {
		return false
	}
	token := t[strings.LastIndexAny(t, " \t")+1:]
	return commandStarters[token] || len(token) > 1 && strings.HasSuffix(token, ";") && !strings.HasSuffix(token, ";;")
}

// afterAssignment reports whether before, the part of a line before a name, ends in an
// assignment and blank space: "host=db user=orders " in a libpq connection string (also the
// first pair of one quoted, psql "host=db ), "env A=1 " before a command. A keyword argument
// ("connect(user=user, ") ends in a comma or a parenthesis and is not one.
func afterAssignment(before string) bool {
	t := strings.TrimRight(before, " \t")
	if t == before || t == "" {
		return false
	}
	token := strings.TrimLeft(t[strings.LastIndexAny(t, " \t")+1:], `"'`)
	name, value, ok := strings.Cut(token, "=")
	return ok && isSettingName(name) && value != "" && !strings.ContainsAny(value[len(value)-1:], ",;()")
}

// xmlElement reads an XML element without attributes that holds only text, <name>value</name>,
// at the start of s; read is how many bytes of s it read. It reads the name up to the first
// byte no name holds, and the value up to the next '<': looking for the name's '>' to the end
// of s, each '<' of a line of them read the rest of the line (a ConfigMap value of 200 KB of
// '<', 680 ms).
func xmlElement(s string) (name, value string, ok bool, read int) {
	end := 1
	for end < len(s) && isSettingChar(s[end]) {
		end++
	}
	read = end + 1
	if end == 1 || end == len(s) || s[end] != '>' {
		return "", "", false, min(read, len(s))
	}
	name = s[1:end]
	value, rest, found := strings.Cut(s[end+1:], "<")
	read += len(value) + 1
	if !found || !strings.HasPrefix(rest, "/"+name+">") {
		return "", "", false, min(read, len(s))
	}
	return name, strings.TrimSpace(value), true, read
}

func isSettingChar(c byte) bool { return isASCIIAlnum(c) || c == '_' || c == '.' || c == '-' }

// npmScopedSetting is the setting of an .npmrc line scoped to a registry,
// //host/path/:name=value (npm's form for credentials: _authToken, _password), without its
// scope; any other line as it is. It is not a // comment: only lines that begin with ';' or
// '#' are comments in an .npmrc.
func npmScopedSetting(line string) string {
	if !strings.HasPrefix(line, "//") {
		return line
	}
	scope, setting, ok := strings.Cut(line, "/:")
	if !ok || strings.ContainsAny(scope, " \t=") {
		return line
	}
	return setting
}

// settingsShareALine reports whether some line of content holds a JSON key that does not begin
// it: two keys ("key": twice, or "key" : with blank space before the colon), or one after the
// line's opening { or [ ({"password": "..."} alone on its line). Only then can a JSON document
// hold a setting the line-by-line reading above missed. A pretty-printed document (a Grafana
// dashboard, say), each of whose keys begins its line, is not decoded a second time.
func settingsShareALine(content string) bool {
	for line := range strings.SplitSeq(content, "\n") {
		t := strings.TrimLeft(line, " \t")
		if t == "" {
			continue
		}
		if keys := jsonKeyEnds(t, 2); keys == 2 || keys == 1 && (t[0] == '{' || t[0] == '[') {
			return true
		}
	}
	return false
}

// jsonKeyEnds counts, up to most, the places in line where a JSON key may end: a '"' followed,
// after blank space, by ':'.
func jsonKeyEnds(line string, most int) int {
	n := 0
	for i := strings.IndexByte(line, '"'); i >= 0 && n < most; {
		j := i + 1
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if j < len(line) && line[j] == ':' {
			n++
		}
		k := strings.IndexByte(line[i+1:], '"')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return n
}

// jsonCredentialSettings lists, by key, the settings of a JSON document at any depth whose key
// ends in a credential word and whose value (a string or a number) is literal; nil when content
// is not a JSON object or array. At most limit names are returned.
func jsonCredentialSettings(content string, limit int) []string {
	t := strings.TrimSpace(content)
	if t == "" || (t[0] != '{' && t[0] != '[') || !mayHaveCredentialKey(t) {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(t))
	d.UseNumber()
	var doc any
	if d.Decode(&doc) != nil {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if len(names) == limit {
					return
				}
				var value string
				switch x := v[k].(type) {
				case string:
					value = x
				case json.Number:
					value = x.String()
				default:
					walk(x)
					continue
				}
				if !seen[k] && credentialSettingName(k) && credentialValue(k, value) {
					seen[k] = true
					names = append(names, k)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return names
}

// mayHaveCredentialKey reports whether a JSON text may have a key jsonCredentialSettings
// names: a string followed by ':' that holds an escape (its decoded form is not its text), or
// that is a setting name that may end in a credential word. The text is not decoded (a
// document with no such key, most minified JSON, was decoded into a tree for nothing); outside
// strings only their quotes matter. Invalid JSON gives true: decoding it fails.
func mayHaveCredentialKey(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] != '"' {
			continue
		}
		start, escaped := i+1, false
		for i++; i < len(t) && t[i] != '"'; i++ {
			if t[i] == '\\' {
				escaped = true
				i++
			}
		}
		if i >= len(t) {
			return true
		}
		key := t[start:i]
		j := i + 1
		for j < len(t) && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r') {
			j++
		}
		if j < len(t) && t[j] == ':' && (escaped || isSettingName(key) && mayEndInCredential(key)) {
			return true
		}
	}
	return false
}

// replayedSchemes are the HTTP authentication schemes whose credentials are one token a client
// sends as it is, again and again: Basic (base64 of user:password, RFC 7617), Bearer (RFC 6750),
// and the Token, Bot, ApiKey, SSWS (Okta) and Splunk schemes of common APIs; not Digest nor
// Negotiate, whose credentials answer one challenge.
var replayedSchemes = map[string]bool{"basic": true, "bearer": true, "token": true, "bot": true, "apikey": true, "ssws": true, "splunk": true}

// literalAuthorizationHeader reports whether a line of text sets an Authorization (or
// Proxy-Authorization) header to literal credentials, in any configuration's form: nginx's
// proxy_set_header Authorization "Basic ...", HAProxy's and Apache's set-header, git's
// extraHeader = Authorization: Bearer ..., a headers map's Authorization: "Token ...", JSON's
// "Authorization": "Bearer ...", and a name/value pair's, on one line or on the lines of one
// mapping (Envoy's key: Authorization with value: "Basic ...", httpHeaders' name: and value:;
// headerPairName, pairValueCredentials). The word is followed by an optional closing quote, ':' or '='
// or blanks, an optional opening quote, a scheme of replayedSchemes, one blank and the
// credentials, which end the value (a quote, a blank, ';', ',' or the line's end follow them).
// Prose and placeholders are no credentials: Basic's must decode to user:password with a
// literal password; the others must be 8 characters or more, not one character repeated
// (xxxxxxxx), not named as a credential (YOUR_TOKEN, ACCESS_TOKEN), and no interpolation
// ($token, ${TOKEN}, {{ .token }}, <token>) is one.
func literalAuthorizationHeader(text string) bool {
	if !containsFold(text, "authorization") {
		return false
	}
	for start := 0; start <= len(text); {
		line, _, _ := strings.Cut(text[start:], "\n")
		end := start + len(line)
		lower := strings.ToLower(line)
		for from := 0; ; {
			i := strings.Index(lower[from:], "authorization")
			if i < 0 {
				break
			}
			i += from
			from = i + len("authorization")
			if i > 0 && isSettingChar(lower[i-1]) && lower[i-1] != '-' || i > 0 && lower[i-1] == '-' && !strings.HasSuffix(lower[:i], "proxy-") {
				continue
			}
			if authorizationCredentialsAt(line, from) {
				return true
			}
			if col := headerPairName(lower, i, from); col >= 0 && pairValueCredentials(strings.TrimSuffix(text[:start], "\n"), line, text[min(end+1, len(text)):], col, valueKeyCredentials) {
				return true
			}
		}
		start = end + 1
	}
	return false
}

// headerPairName reports the column where the key of a name/value pair begins in lower (a line
// in lower case) when the word authorization at lower[i:from] is the pair's whole name, the
// header the pair sets: Envoy's header: {key: Authorization, value: ...}, the name:
// Authorization and value: ... of Kubernetes probes' httpHeaders and of Istio and Envoy
// configurations, JSON's {"key": "Authorization", "value": ...}, TOML's name = "Authorization"
// with value = ...; -1 when it is not.
func headerPairName(lower string, i, from int) int {
	rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(lower[from:], `"`), "'"), " \t\r")
	if rest != "" && rest[0] != ',' && rest[0] != '}' {
		return -1
	}
	j := i
	if strings.HasSuffix(lower[:j], "proxy-") {
		j -= len("proxy-")
	}
	if j > 0 && (lower[j-1] == '"' || lower[j-1] == '\'') {
		j--
	}
	for j > 0 && (lower[j-1] == ' ' || lower[j-1] == '\t') {
		j--
	}
	if j == 0 || lower[j-1] != ':' && lower[j-1] != '=' {
		return -1
	}
	eq := lower[j-1] == '='
	j--
	for eq && j > 0 && (lower[j-1] == ' ' || lower[j-1] == '\t') {
		// TOML's name = "Authorization".
		j--
	}
	if j > 0 && (lower[j-1] == '"' || lower[j-1] == '\'') {
		j--
	}
	for _, w := range []string{"key", "name"} {
		if strings.HasSuffix(lower[:j], w) && (j == len(w) || !isSettingChar(lower[j-len(w)-1])) {
			k := j - len(w)
			if k > 0 && (lower[k-1] == '"' || lower[k-1] == '\'') {
				k--
			}
			return k
		}
	}
	return -1
}

// pairValueCredentials reports whether the value of a name/value pair whose name, an
// Authorization header's, is written in line with its key at column col gives literal
// credentials (authorizationCredentialsAt): a value in line itself ({key: Authorization,
// value: "Basic ..."}), or in a line of the same YAML mapping or JSON object, whose key is at
// col too, in after (the text after line) or before (the text before it, read back). A line
// indented further is a nested value and is passed over; a blank line, one indented less, or a
// list item's dash at col ends the mapping; a dash two columns before col begins it (that
// line's key is the mapping's first). valueKey judges a line's value key (valueKeyCredentials
// for an Authorization header's).
func pairValueCredentials(before, line, after string, col int, valueKey func(string) bool) bool {
	// On the name's own line, the value of its own flow mapping, JSON object or inline table
	// only: [{"name": "x-honeycomb-team", "value": "${KEY}"}, {"name": "x-request-id", "value":
	// "..."}] gives the second pair's value to another header.
	own := line
	if open := strings.LastIndexByte(line[:col], '{'); open >= 0 {
		own = own[open:]
		if end := strings.IndexByte(line[col:], '}'); end >= 0 {
			own = line[open : col+end+1]
		}
	}
	if valueKey(own) {
		return true
	}
	if !(col >= 2 && strings.HasPrefix(line[col-2:], "- ")) {
		for before != "" {
			cut := strings.LastIndexByte(before, '\n')
			l := before[cut+1:]
			before = before[:max(cut, 0)]
			ind := len(l) - len(strings.TrimLeft(l, " \t"))
			switch {
			case strings.TrimSpace(l) == "", ind < col && !(ind == col-2 && strings.HasPrefix(l[ind:], "- ")):
				before = ""
			case ind == col-2:
				// The mapping's first line, a list item: - value: ...
				if valueKey(l[col:]) {
					return true
				}
				before = ""
			case ind == col && l[ind] != '-' && valueKey(l):
				return true
			}
			if cut < 0 {
				break
			}
		}
	}
	for after != "" {
		l, rest, _ := strings.Cut(after, "\n")
		after = rest
		ind := len(l) - len(strings.TrimLeft(l, " \t"))
		if strings.TrimSpace(l) == "" || ind < col || ind == col && l[ind] == '-' {
			break
		}
		if ind == col && valueKey(l) {
			return true
		}
	}
	return false
}

// valueKeyCredentials reports whether a line gives a key named value (value:, "value":) an
// Authorization header's literal credentials (authorizationCredentialsAt).
func valueKeyCredentials(line string) bool {
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
		if authorizationCredentialsAt(line, from) {
			return true
		}
	}
}

// authorizationCredentialsAt reports whether line, after the word Authorization that ends at
// from, gives literal credentials (literalAuthorizationHeader).
func authorizationCredentialsAt(line string, from int) bool {
	j := from
	if j < len(line) && (line[j] == '"' || line[j] == '\'') {
		j++
	}
	for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
		j++
	}
	if j < len(line) && (line[j] == ':' || line[j] == '=') {
		j++
	} else if j == from {
		// Neither a separator nor a blank: Authorization's own text goes on.
		return false
	}
	for j < len(line) && (line[j] == ' ' || line[j] == '\t' || line[j] == '"' || line[j] == '\'') {
		j++
	}
	k := j
	for k < len(line) && ('a' <= line[k] && line[k] <= 'z' || 'A' <= line[k] && line[k] <= 'Z' || line[k] == '-') {
		k++
	}
	scheme := strings.ToLower(strings.ReplaceAll(line[j:k], "-", ""))
	if !replayedSchemes[scheme] || k >= len(line) || line[k] != ' ' {
		return false
	}
	start := k + 1
	end := start
	for end < len(line) && (isASCIIAlnum(line[end]) || strings.IndexByte("._~+/=-", line[end]) >= 0) {
		end++
	}
	if end < len(line) && strings.IndexByte("\"' \t;,\r", line[end]) < 0 {
		// The value goes on with what no token holds: base64(user:password), ${TOKEN}.
		return false
	}
	// A sentence's full stop ends no token.
	cred := strings.TrimRight(line[start:end], ".")
	if scheme == "basic" {
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil || !isPrintableASCII(b) {
			return false
		}
		_, p, ok := strings.Cut(string(b), ":")
		return ok && p != "" && credentialValue("password", p)
	}
	if len(cred) < 8 || strings.Trim(cred, cred[:1]) == "" || credentialName(cred) {
		return false
	}
	return credentialValue("token", cred)
}

// passwordFileName reports whether name is the name of a password file passwordFile reads:
// libpq's .pgpass (pgpass.conf on Windows), the .netrc of ftp, curl and git, and apt's auth.conf
// (the .netrc format).
func passwordFileName(name string) bool {
	switch strings.ToLower(name) {
	case ".pgpass", "pgpass", "pgpass.conf", ".netrc", "netrc", "_netrc", "auth.conf":
		return true
	}
	return false
}

// passwordFile reports whether content, a ConfigMap key's value named name, is a password file
// that holds a literal password: a libpq password file (.pgpass, or pgpass.conf on Windows), a
// .netrc (_netrc on Windows), or apt's auth.conf (apt_auth.conf(5): machine HOST login USER
// password VALUE, the .netrc format), which apt also reads from every *.conf file of
// /etc/apt/auth.conf.d: a file named auth.conf, or any name ending in .conf, whose first entry
// is a machine with a login (aptAuthEntries) is read as one.
func passwordFile(name, content string) bool {
	switch lower := strings.ToLower(name); {
	case lower == ".pgpass" || lower == "pgpass" || lower == "pgpass.conf":
		return pgpassPassword(content)
	case lower == ".netrc" || lower == "netrc" || lower == "_netrc":
		return netrcPassword(content)
	case strings.HasSuffix(lower, ".conf") && aptAuthEntries(content):
		// auth.conf too: other programs' files of that name have other formats.
		return netrcPassword(content)
	}
	return false
}

// aptAuthEntries reports whether content reads as apt's auth.conf: its first token that is not
// a comment is machine, and a login token follows (apt_auth.conf(5); other .conf files, whose
// words may include machine and password, are not read so).
func aptAuthEntries(content string) bool {
	first, login := true, false
	for line := range strings.SplitSeq(content, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		for _, f := range fields {
			if first && f != "machine" {
				return false
			}
			first = false
			if f == "login" {
				login = true
			}
		}
		if login {
			return true
		}
	}
	return false
}

// pgpassPassword reports whether a libpq password file has an entry with a literal password:
// each line that is not a comment is hostname:port:database:username:password, where \: and
// \\ escape a colon and a backslash, and the password is the rest of the line after the fourth
// colon (PostgreSQL documentation, "The Password File"; libpq fe-connect.c passwordFromFile).
func pgpassPassword(content string) bool {
	for line := range strings.SplitSeq(content, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := 0
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case ':':
				fields++
				if fields == 4 {
					password := strings.ReplaceAll(strings.ReplaceAll(line[i+1:], `\:`, ":"), `\\`, `\`)
					if literalCredential(password) {
						return true
					}
					i = len(line)
				}
			}
		}
	}
	return false
}

// netrcPassword reports whether a .netrc gives a literal password: the token after a
// "password" token (GNU inetutils ftp and curl read the file as whitespace-separated tokens;
// a line that begins with # is a comment, and a macdef's body runs to the next empty line).
func netrcPassword(content string) bool {
	inMacro := false
	next := false
	for line := range strings.SplitSeq(content, "\n") {
		fields := strings.Fields(line)
		if inMacro {
			inMacro = len(fields) > 0
			continue
		}
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		for _, f := range fields {
			if next {
				if literalCredential(strings.Trim(f, `"`)) {
					return true
				}
				next = false
				continue
			}
			if f == "macdef" {
				inMacro = true
				break
			}
			next = f == "password"
		}
	}
	return false
}

// dockerConfigPassword reports whether content is a Docker config ({"auths": {registry:
// entry}}, as in config.json and a kubernetes.io/dockerconfigjson Secret) with an entry whose
// auth field, base64(username:password), gives a literal password: the field as the kubelet
// reads it (pkg/credentialprovider/config.go decodeDockerConfigFieldAuth: padded or unpadded
// standard base64, split at the first ':'). An entry's password field is a setting
// credentialSettings finds.
func dockerConfigPassword(content string) bool {
	t := strings.TrimSpace(content)
	if !strings.HasPrefix(t, "{") || !strings.Contains(t, `"auths"`) {
		return false
	}
	var config struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	if json.Unmarshal([]byte(t), &config) != nil {
		return false
	}
	for _, entry := range config.Auths {
		enc := base64.RawStdEncoding
		if strings.HasSuffix(strings.TrimSpace(entry.Auth), "=") {
			enc = base64.StdEncoding
		}
		decoded, err := enc.DecodeString(entry.Auth)
		if err != nil {
			continue
		}
		if _, password, ok := strings.Cut(string(decoded), ":"); ok && literalCredential(password) {
			return true
		}
	}
	return false
}

// passwordOption is the short option a program takes a password with.
type passwordOption struct {
	// flag is the option: -p, -a.
	flag string
	// attached is true when the program reads the password attached to the option (-pVALUE),
	// separate when it reads it from the next argument (-p VALUE).
	attached, separate bool
	// subcommand, when set, are the words of the command that takes the option, in order
	// after the program's name (docker login, helm registry login): elsewhere the option is
	// another (docker run -p publishes a port).
	subcommand []string
}

// registryLoginPassword is a container registry client's login command's -p, --password
// (pflag: -p VALUE or -pVALUE): docker, podman, buildah, skopeo and nerdctl login, oras login.
var registryLoginPassword = passwordOption{flag: "-p", attached: true, separate: true, subcommand: []string{"login"}}

// sqlServerToolsPassword is the SQL Server command-line tools' -P password (sqlcmd, both the
// ODBC and the Go one, and bcp).
var sqlServerToolsPassword = passwordOption{flag: "-P", attached: true, separate: true}

// ldapClientPassword is the OpenLDAP clients' -w passwd, the simple bind's password (getopt:
// -w VALUE or -wVALUE; -W prompts, -y reads a file).
var ldapClientPassword = passwordOption{flag: "-w", attached: true, separate: true}

// mongoToolsPassword is the MongoDB shell's and database tools' -p (mongosh, mongodump, ...:
// -p, --password <password>).
var mongoToolsPassword = passwordOption{flag: "-p", attached: true, separate: true}

// mysqlClientPassword is the MySQL and MariaDB client programs' -p: "--password[=password],
// -p[password]": a value only when attached; -p alone prompts, and the next argument is the
// database (MySQL 8.4 Reference Manual, "Command Options for Connecting to the Server").
var mysqlClientPassword = passwordOption{flag: "-p", attached: true}

// programPasswordOptions are the programs, by name, whose short option takes a password,
// which no name says: credentialFlag and credentialSettings find their long forms
// (--password=..., --pass ...). redis-cli reads -a's value from the next argument only, and
// sshpass reads -p's with getopt (attached or not).
var programPasswordOptions = map[string]passwordOption{
	"mysql": mysqlClientPassword, "mysqladmin": mysqlClientPassword, "mysqldump": mysqlClientPassword,
	"mysqlcheck": mysqlClientPassword, "mysqlimport": mysqlClientPassword, "mysqlshow": mysqlClientPassword,
	"mysqlslap": mysqlClientPassword, "mysqlpump": mysqlClientPassword, "mysqlbinlog": mysqlClientPassword,
	"mariadb": mysqlClientPassword, "mariadb-admin": mysqlClientPassword, "mariadb-dump": mysqlClientPassword,
	"mariadb-check": mysqlClientPassword, "mariadb-import": mysqlClientPassword, "mariadb-show": mysqlClientPassword,
	"mariadb-slap": mysqlClientPassword, "mariadb-binlog": mysqlClientPassword,
	// MySQL Shell's and the backup tools' -p[password], as the clients' (Percona XtraBackup,
	// MariaDB Backup).
	"mysqlsh": mysqlClientPassword, "xtrabackup": mysqlClientPassword, "mariabackup": mysqlClientPassword,
	"mariadb-backup": mysqlClientPassword,
	"mongo":          mongoToolsPassword, "mongosh": mongoToolsPassword, "mongodump": mongoToolsPassword,
	"mongorestore": mongoToolsPassword, "mongoexport": mongoToolsPassword, "mongoimport": mongoToolsPassword,
	"mongostat": mongoToolsPassword, "mongotop": mongoToolsPassword, "mongofiles": mongoToolsPassword,
	"redis-cli":  {flag: "-a", separate: true},
	"valkey-cli": {flag: "-a", separate: true},
	// KeyDB's client and the Redis (Valkey) benchmarks take redis-cli's -a PASSWORD.
	"keydb-cli": {flag: "-a", separate: true}, "redis-benchmark": {flag: "-a", separate: true},
	"valkey-benchmark": {flag: "-a", separate: true},
	// Neo4j's cypher-shell -u USER -p PASSWORD.
	"cypher-shell": {flag: "-p", attached: true, separate: true},
	// Couchbase's couchbase-cli COMMAND -u USER -p PASSWORD (the cluster's administrator).
	"couchbase-cli": {flag: "-p", attached: true, separate: true},
	"sshpass":       {flag: "-p", attached: true, separate: true},
	"docker":        registryLoginPassword, "podman": registryLoginPassword, "buildah": registryLoginPassword,
	"skopeo": registryLoginPassword, "nerdctl": registryLoginPassword, "oras": registryLoginPassword,
	"helm":   {flag: "-p", attached: true, separate: true, subcommand: []string{"registry", "login"}},
	"crane":  {flag: "-p", attached: true, separate: true, subcommand: []string{"auth", "login"}},
	"sqlcmd": sqlServerToolsPassword, "bcp": sqlServerToolsPassword,
	"ldapsearch": ldapClientPassword, "ldapmodify": ldapClientPassword, "ldapadd": ldapClientPassword,
	"ldapdelete": ldapClientPassword, "ldapmodrdn": ldapClientPassword, "ldapcompare": ldapClientPassword,
	"ldapwhoami": ldapClientPassword, "ldappasswd": ldapClientPassword, "ldapexop": ldapClientPassword,
	// ssh-keygen -N new_passphrase (getopt: -N VALUE or -NVALUE; -N '' is no passphrase).
	"ssh-keygen": {flag: "-N", attached: true, separate: true},
	// Info-ZIP's zip and unzip: -P password, the next argument.
	"zip": {flag: "-P", separate: true}, "unzip": {flag: "-P", separate: true},
	// 7-Zip's -p{Password}: attached; -p alone prompts.
	"7z": {flag: "-p", attached: true}, "7za": {flag: "-p", attached: true}, "7zr": {flag: "-p", attached: true},
	"7zz": {flag: "-p", attached: true},
	// The Mosquitto clients' -P password (-p is the port).
	"mosquitto_pub": {flag: "-P", separate: true}, "mosquitto_sub": {flag: "-P", separate: true},
	"mosquitto_rr": {flag: "-P", separate: true},
	// Cassandra's cqlsh -p PASSWORD (optparse: -p VALUE or -pVALUE).
	"cqlsh": {flag: "-p", attached: true, separate: true},
	// The Azure CLI's az login -p, --password: a service principal's secret (or its
	// certificate's path, no literal).
	"az": {flag: "-p", separate: true, subcommand: []string{"login"}},
	// OpenShift's oc login -u USER -p PASSWORD (pflag: -p VALUE or -pVALUE).
	"oc": {flag: "-p", attached: true, separate: true, subcommand: []string{"login"}},
	// IPMItool's -P password (getopt: -P VALUE or -PVALUE; -p is the port, -E reads
	// IPMI_PASSWORD, -f a file).
	"ipmitool": {flag: "-P", attached: true, separate: true},
	// Sigstore's cosign login REGISTRY -u USER -p PASSWORD (pflag).
	"cosign": registryLoginPassword,
	// Elasticsearch's elasticsearch-users useradd USER -p PASSWORD (and passwd USER -p).
	"elasticsearch-users": {flag: "-p", separate: true},
	// RabbitMQ's management CLI, rabbitmqadmin -u USER -p PASSWORD (optparse: also -pVALUE).
	"rabbitmqadmin": {flag: "-p", attached: true, separate: true},
	// twine upload -u USER -p PASSWORD (argparse), PyPI's upload client in CI.
	"twine": {flag: "-p", attached: true, separate: true},
	// Dell's remote racadm -r HOST -u USER -p PASSWORD, Vertica's vsql -w PASSWORD, SAP
	// HANA's hdbsql -u USER -p PASSWORD, mydumper's and myloader's -p PASSWORD (GLib's option
	// parser: separate or attached), MariaDB MaxScale's maxctrl -u USER -p PASSWORD.
	"racadm": {flag: "-p", separate: true}, "vsql": {flag: "-w", attached: true, separate: true},
	"hdbsql": {flag: "-p", separate: true}, "mydumper": {flag: "-p", attached: true, separate: true},
	"myloader": {flag: "-p", attached: true, separate: true}, "maxctrl": {flag: "-p", separate: true},
	// regctl registry login HOST -u USER -p PASSWORD.
	"regctl": {flag: "-p", separate: true, subcommand: []string{"registry", "login"}},
	// dotnet nuget push -k API_KEY; DigitalOcean's doctl auth init -t TOKEN; Codecov's
	// uploader, codecov -t TOKEN.
	"dotnet":  {flag: "-k", separate: true, subcommand: []string{"nuget", "push"}},
	"doctl":   {flag: "-t", separate: true, subcommand: []string{"auth", "init"}},
	"codecov": {flag: "-t", separate: true},
}

// commandPrefixes are the words after which the next word of a shell command line is still
// in command position: keywords that start or continue a command, and programs that run the
// command their arguments name.
var commandPrefixes = map[string]bool{"then": true, "do": true, "else": true, "if": true, "until": true,
	"while": true, "!": true, "exec": true, "command": true, "time": true, "sudo": true, "nohup": true,
	"env": true, "xargs": true, "{": true}

// commandWrapper is a program that runs the command its arguments name after its own options
// and operands: valueOptions take the next word as their value ("--" ends the options), and
// operands is how many words after the options come before the command (gosu USER COMMAND,
// timeout DURATION COMMAND).
type commandWrapper struct {
	valueOptions map[string]bool
	operands     int
}

// commandWrappers are the programs that run a command as another user, under a limit or with
// another environment, whose options hid the command from its readers when only their name
// was passed over (runuser only with -u USER, its form that runs a command): sudo -u postgres
// psql -c "ALTER USER ... PASSWORD '...'", gosu app mysql
// -pVALUE (docker-entrypoint scripts), su-exec, timeout 10 redis-cli -a VALUE, env -i PATH=...
// mysql -pVALUE.
var commandWrappers = map[string]commandWrapper{
	"sudo": {valueOptions: map[string]bool{"-u": true, "--user": true, "-g": true, "--group": true, "-p": true,
		"--prompt": true, "-C": true, "--close-from": true, "-D": true, "--chdir": true, "-R": true, "--chroot": true,
		"-r": true, "--role": true, "-t": true, "--type": true, "-T": true, "--command-timeout": true, "-U": true,
		"--other-user": true}},
	"doas": {valueOptions: map[string]bool{"-u": true, "-C": true}},
	"runuser": {valueOptions: map[string]bool{"-u": true, "--user": true, "-g": true, "--group": true, "-G": true,
		"--supp-group": true, "-w": true, "--whitelist-environment": true}},
	"gosu":         {operands: 1},
	"su-exec":      {operands: 1},
	"s6-setuidgid": {operands: 1},
	"setuidgid":    {operands: 1},
	"timeout":      {valueOptions: map[string]bool{"-s": true, "--signal": true, "-k": true, "--kill-after": true}, operands: 1},
	"nice":         {valueOptions: map[string]bool{"-n": true, "--adjustment": true}},
	"ionice":       {valueOptions: map[string]bool{"-c": true, "--class": true, "-n": true, "--classdata": true}},
	"setsid":       {},
	"nohup":        {},
	"stdbuf":       {valueOptions: map[string]bool{"-i": true, "-o": true, "-e": true}},
	"env":          {valueOptions: map[string]bool{"-u": true, "--unset": true, "-C": true, "--chdir": true}},
	"time":         {valueOptions: map[string]bool{"-f": true, "--format": true, "-o": true, "--output": true}},
	"exec":         {valueOptions: map[string]bool{"-a": true}},
	"command":      {},
	"xargs": {valueOptions: map[string]bool{"-I": true, "-n": true, "--max-args": true, "-P": true, "--max-procs": true,
		"-L": true, "--max-lines": true, "-s": true, "--max-chars": true, "-d": true, "--delimiter": true, "-E": true,
		"-a": true, "--arg-file": true}},
	"chroot":    {valueOptions: map[string]bool{"--userspec": true, "--groups": true}, operands: 1},
	"nsenter":   {valueOptions: map[string]bool{"-t": true, "--target": true, "-S": true, "--setuid": true, "-G": true, "--setgid": true}},
	"flock":     {valueOptions: map[string]bool{"-w": true, "--timeout": true, "-E": true, "--conflict-exit-code": true}, operands: 1},
	"watch":     {valueOptions: map[string]bool{"-n": true, "--interval": true, "-d": true}},
	"tini":      {valueOptions: map[string]bool{"-p": true, "-e": true}},
	"dumb-init": {valueOptions: map[string]bool{"-r": true, "--rewrite": true}},
}

// wrappedCommand is the index in words of the command that the wrapper at words[i]
// (commandWrappers) runs, past the wrapper's options and operands, and whether words[i] is
// one; the index is the command's end when it names none. A word that ends in ';' ends the
// command. The third value counts the words after words[i] it looked at.
func wrappedCommand(words []string, i int) (int, bool, int) {
	prog := programName(words[i])
	if at, ok, looked := execCommand(prog, words, i); ok {
		return at, true, looked
	}
	wrap, ok := commandWrappers[prog]
	if !ok || strings.HasSuffix(words[i], ";") {
		return i, false, 0
	}
	j := i + 1
	user := false
	for j < len(words) && len(words[j]) > 1 && words[j][0] == '-' && !commandSeparators[words[j]] &&
		!strings.HasSuffix(words[j], ";") {
		w := words[j]
		j++
		if w == "--" {
			break
		}
		user = user || w == "-u" || w == "--user"
		if wrap.valueOptions[w] && j < len(words) && !commandSeparators[words[j]] && !strings.HasSuffix(words[j], ";") {
			j++
		}
	}
	if prog == "runuser" && !user {
		// runuser USER -c SCRIPT is su's form (shellCommand reads the script).
		return i, false, j - i
	}
	for n := 0; n < wrap.operands && j < len(words) && !commandSeparators[words[j]] && !strings.HasSuffix(words[j], ";"); n++ {
		j++
	}
	return j, true, j - i
}

// containerExecValueOptions are the options of docker, podman and nerdctl exec that take a
// value.
var containerExecValueOptions = map[string]bool{"-e": true, "--env": true, "-u": true, "--user": true, "-w": true,
	"--workdir": true, "--env-file": true, "--detach-keys": true}

// containerGlobalValueOptions are the global options of docker, podman and nerdctl, before
// their command, that take the next word as their value: docker --config DIR exec, docker -H
// tcp://HOST exec, podman --connection NAME exec, nerdctl -n k8s.io exec.
var containerGlobalValueOptions = map[string]bool{"--config": true, "-c": true, "--context": true, "-H": true,
	"--host": true, "-l": true, "--log-level": true, "--tlscacert": true, "--tlscert": true, "--tlskey": true,
	"--url": true, "--connection": true, "--identity": true, "--root": true, "--runroot": true,
	"--storage-driver": true, "--cgroup-manager": true, "--runtime": true, "--module": true, "-n": true,
	"--namespace": true, "-a": true, "--address": true, "--data-root": true, "--cni-path": true,
	"--snapshotter": true}

// execCommand is the index in words of the command that kubectl (oc) exec POD -- COMMAND or
// docker (podman, nerdctl) exec [options] CONTAINER COMMAND, at words[i], runs in a container,
// and whether words[i] is such a command: a backup job's kubectl exec mysql-0 -- mysqldump
// -uroot -pVALUE gives the password as the command would. The third value counts the words
// after words[i] it looked at.
func execCommand(prog string, words []string, i int) (int, bool, int) {
	switch prog {
	case "kubectl", "oc":
		// The subcommand, past the global options; then exec's options, the pod, and the
		// command: after '--', or (deprecated, still run) the pod's first word after it.
		exec, pod := false, false
		for j := i + 1; j < len(words) && !commandSeparators[words[j]] && !strings.HasSuffix(words[j-1], ";"); j++ {
			w := words[j]
			switch {
			case w == "--":
				return j + 1, exec, j + 1 - i
			case len(w) > 1 && w[0] == '-':
				if kubectlValueOptions[w] || exec && kubectlExecValueOptions[w] {
					j++
				}
			case !exec && w != "exec":
				// Another subcommand (kubectl logs POD).
				return i, false, 0
			case !exec:
				exec = true
			case !pod:
				pod = true
			default:
				return j, true, j - i
			}
		}
	case "ssh", "dbclient", "autossh":
		// ssh [options] HOST [options] COMMAND ARG...: the remote shell runs the words after
		// the host, joined by blanks, as a command line. Read here as the command's words when
		// the remote shell splits them as they are: two words or more, none quoted, escaped or
		// holding a blank (an argument of argv's). Any other command is shellCommand's, which
		// joins its words as ssh does (sshCommand).
		at := sshCommandStart(prog, words[i+1:])
		if at < 0 {
			return i, false, 0
		}
		j := i + 1 + at
		end := j
		for end < len(words) && !commandSeparators[words[end]] {
			w := words[end]
			if ok, _ := redirection(w); ok || strings.HasPrefix(w, "<<") {
				break
			}
			if end > j && sshClients[programName(w)] {
				// ssh within ssh: the words after it are the inner ssh's to judge (looked at
				// once, not again for each ssh before them).
				return j, true, end - i
			}
			if strings.ContainsAny(w, "\"'\\ \t\n") {
				return i, false, end + 1 - i
			}
			end++
			if strings.HasSuffix(w, ";") {
				break
			}
		}
		if end-j >= 2 {
			return j, true, end - i
		}
		return i, false, end - i
	case "docker", "podman", "nerdctl":
		j := i + 1
		for j < len(words) && len(words[j]) > 1 && words[j][0] == '-' && !strings.HasSuffix(words[j], ";") {
			if containerGlobalValueOptions[words[j]] {
				j++
			}
			j++
		}
		if j >= len(words) || words[j] != "exec" {
			return i, false, 0
		}
		for j++; j < len(words) && len(words[j]) > 1 && words[j][0] == '-' && !commandSeparators[words[j]]; j++ {
			if containerExecValueOptions[words[j]] {
				j++
			}
		}
		// The container.
		if j < len(words) && !commandSeparators[words[j]] && !strings.HasSuffix(words[j], ";") {
			return j + 1, true, j + 1 - i
		}
	}
	return i, false, 0
}

// sudoReadsPassword reports whether sudo's options (the words between sudo and the command it
// runs) make it read the user's password from its input: -S, --stdin, or S in a cluster
// (-kS).
func sudoReadsPassword(options []string) bool {
	for _, w := range options {
		if w == "--stdin" || len(w) > 1 && w[0] == '-' && w[1] != '-' && strings.IndexByte(w, 'S') > 0 &&
			strings.Trim(w[1:], "AbEeHiKkSlnPsV") == "" {
			return true
		}
	}
	return false
}

// commandSeparators are the shell's control operators that end a simple command.
var commandSeparators = map[string]bool{";": true, "&&": true, "||": true, "|": true, "&": true, "|&": true}

// programPassword finds, in words (the words of one command line: argv, or a shell script's
// words), the first literal password a program gives where no name says it is one: a short
// option of programPasswordOptions (mysql -pVALUE, docker login -p VALUE), or a program of
// programPasswordReaders' argument or option value (htpasswd -b FILE USER VALUE, openssl's
// -passout pass:VALUE), or what echo or printf pipes, or a here-string gives, to a program that
// reads a password from its input (echo USER:VALUE | chpasswd, docker login --password-stdin).
// It returns the index of the word that holds it and what says so; -1 when there is none. A
// program counts in command position only (the first word, or the first after ;, &&, ||, |, &,
// a keyword such as do or then, a group's {, a wrapper such as sudo -u USER, gosu USER or env
// with its options and operands (commandWrappers), or an assignment): elsewhere mysql or mongo
// is a host name. A word that ends a command ends its arguments, and a value that is a shell
// expansion ($PW, "${PW}", $(cat ...), `...`) is no literal.
func programPassword(words []string) (int, string) {
	var r commandReader
	return r.programPassword(words)
}

// commandReader reads command lines for programPassword; read counts the words its readers
// looked at, which is at most a few times the words of the line. With flags, a shell script's
// reader, it also finds a credential flag given its value in the next word (flagPassword), as
// argumentCredentials does in argv.
type commandReader struct {
	read  int
	flags bool
	// crontab: the reader is reading lines echo gives crontab (cronInput).
	crontab bool
	// noHereString: programPassword looked at the words of the command it gives
	// commandPassword to find its end, and none is a here-string; commandPassword then does
	// not look at them again for one (it takes the mark off before it reads anything).
	noHereString bool
	// written is the text echo and printf wrote into files so far (writtenCredential), by
	// path, for the key and password files a later command is given (writtenKeyFile): at most
	// maxWrittenFiles files, maxWrittenText bytes each; text with a shell expansion is
	// unwrittenText.
	written map[string]string
	// optionFlags is the program whose credential flags optionPassword reads too (text that
	// is no script: commandPassword), "" for none.
	optionFlags string
	// db2Files are the files of written that db2 -f read already (db2ConnectPassword), and
	// curlFiles those curl -K read (curlCredential): each is read once.
	db2Files, curlFiles map[string]bool
}

// maxWrittenFiles and maxWrittenText bound what a commandReader keeps of the files a script
// writes.
const (
	maxWrittenFiles = 16
	maxWrittenText  = 4 << 10
)

// unwrittenText stands for text a script wrote that is no literal (echo "$USER" > FILE): a
// line credentialValue takes for none.
const unwrittenText = "$(unknown)"

// overflowedText stands for the text of a file a script wrote more than maxWrittenText into:
// not known.
const overflowedText = "\x00"

// keepWritten records that echo or printf wrote text (unwrittenText when it is no literal), or
// cat or tee a here-document's line, into file, after what the file held when appended.
func (r *commandReader) keepWritten(file, text string, appended bool) {
	if r.written == nil {
		r.written = map[string]string{}
	}
	old, ok := r.written[file]
	if !ok && len(r.written) >= maxWrittenFiles || old == overflowedText {
		return
	}
	if !appended {
		old = ""
	}
	if !strings.HasSuffix(text, "\n") && !(strings.HasSuffix(text, `\c`)) {
		// echo ends its text with a newline (printf's text says where its lines end: one
		// without a final \n is treated the same, as openvpn reads the lines).
		text += "\n"
	}
	if len(old)+len(text) > maxWrittenText {
		// Not kept, and not kept again: each write copies at most maxWrittenText bytes.
		r.written[file] = overflowedText
		return
	}
	r.written[file] = old + text
}

// writtenKeyFile says which option of a command line (its words) is given a key or password
// file (programKeyFileOptions; openvpn --http-proxy HOST PORT FILE; in a script, an option
// whose name says it is a credential's file: rsync --password-file=FILE) that the script wrote
// literal text into with echo or printf before (r.written): the password on the second line of
// a userPassFileOptions file, else the key on the first; "" when none is. Each word is looked
// at once.
func (r *commandReader) writtenKeyFile(words []string) string {
	prog := ""
	for i := 0; i < len(words); i++ {
		w := words[i]
		r.read++
		if commandSeparators[w] {
			prog = ""
			continue
		}
		if prog == "" {
			at, _ := commandSpan(words, i)
			if at >= len(words) || commandSeparators[words[at]] {
				i = at
				continue
			}
			prog, i = programName(words[at]), at
			continue
		}
		if len(w) < 2 || w[0] != '-' {
			continue
		}
		opts := programKeyFileOptions[prog]
		// An option whose name says it is a credential's file (--password-file,
		// --passphrase-file), in a script, as keyFileSubstitution reads it.
		keyFile := func(o string) bool {
			return opts[o] || r.flags && namesCredentialFile(strings.TrimLeft(o, "-"))
		}
		opt, file := "", ""
		switch {
		case opts[w] && w == "--http-proxy" && i+3 < len(words):
			opt, file = w, words[i+3]
		case keyFile(w) && i+1 < len(words):
			opt, file = w, words[i+1]
		default:
			if name, v, ok := strings.Cut(w, "="); ok && keyFile(name) {
				opt, file = name, v
			}
		}
		text, ok := r.written[strings.Trim(file, `"'`)]
		if opt == "" || !ok || text == overflowedText {
			continue
		}
		lines := strings.Split(text, "\n")
		line := 0
		if userPassFileOptions[prog][opt] {
			line = 1
		}
		if len(lines) > line && credentialValue("", strings.TrimSpace(lines[line])) {
			return opt
		}
	}
	return ""
}

func (r *commandReader) programPassword(words []string) (int, string) {
	// piped is the command before a '|', whose output the next command reads; last is the
	// command before this one.
	type command struct {
		prog string
		at   int
		args []string
	}
	var piped, last command
	// sudoInput says sudo -S runs the command read: its input gives sudo a password.
	sudoInput := false
	start := cronCommand(words)
	if start > 0 && !r.flags {
		// cron runs the command with the shell: its flags are a script's.
		r.flags = true
		defer func() { r.flags = false }()
	}
	for i := start; i < len(words); {
		w := words[i]
		r.read++
		if commandSeparators[w] {
			if w != "|" {
				piped.prog = ""
			}
			sudoInput = false
			i++
			continue
		}
		if at, ok, looked := wrappedCommand(words, i); ok {
			r.read += looked
			// echo VALUE | sudo -S COMMAND, sudo -S COMMAND <<< VALUE: sudo reads the user's
			// password from its input (read with the command's words, below).
			sudoInput = sudoInput || programName(w) == "sudo" && sudoReadsPassword(words[i+1:at])
			i = at
			continue
		}
		if n := functionHead(words, i); n > 0 {
			// run() { mysql -pVALUE; }: the body's commands follow.
			r.read += n - 1
			i += n
			continue
		}
		name := strings.TrimLeft(w, "($`")
		if eq := strings.IndexByte(name, '='); commandPrefixes[name] || w == "(" || eq > 0 && isSettingName(name[:eq]) {
			// A keyword, a subshell's "(" alone, an assignment.
			i++
			continue
		}
		// The command runs to the next separator, or to a word that ends in ';'.
		at, end := i, i+1
		hereString := false
		if !strings.HasSuffix(w, ";") {
			for end < len(words) && !commandSeparators[words[end]] {
				end++
				r.read++
				hereString = hereString || strings.HasPrefix(words[end-1], "<<<")
				if strings.HasSuffix(words[end-1], ";") {
					break
				}
			}
		}
		prog, args := "", []string(nil)
		if !strings.HasSuffix(w, ";") {
			prog, args = path.Base(strings.Trim(name, `"'`)), words[at+1:end]
		}
		r.noHereString = !hereString
		if k, why := r.commandPassword(prog, args); k >= 0 {
			return at + 1 + k, why
		}
		if sudoInput {
			sudoInput = false
			if piped.prog != "" {
				if k, text := r.printedText(piped.prog, piped.args); k >= 0 && literalInput(text, passwordLine) {
					return piped.at + 1 + k, "sudo -S reads a password from " + piped.prog
				}
			}
			if k := r.hereStringInput(args, func() inputForm { return passwordLine }); k >= 0 {
				return at + 1 + k, "sudo -S reads a password from a here-string"
			}
		}
		if prog != "" && piped.prog != "" && end-at > 0 {
			if k, why := r.pipedPassword(piped.prog, piped.args, prog, args); k >= 0 {
				return piped.at + 1 + k, why
			}
		}
		piped.prog = ""
		if end < len(words) && words[end] == "|" {
			piped = command{prog, at, args}
			if prog == "}" && len(args) == 0 {
				// { echo VALUE; echo VALUE; } | passwd: what the group prints last is its
				// last command's.
				piped = last
			}
		}
		last = command{prog, at, args}
		i = end
	}
	return -1, ""
}

// commandPassword finds the literal password the program prog is given in args, the words of
// its command after its name: the index in args of the word that holds it and what says so, -1
// when there is none.
func (r *commandReader) commandPassword(prog string, args []string) (int, string) {
	noHereString := r.noHereString
	r.noHereString = false
	if prog == "" {
		return -1, ""
	}
	if sshClients[prog] {
		// ssh HOST COMMAND...: the words after the host are the remote command's, read as the
		// remote shell reads them (sshCommand), not again here as ssh's arguments.
		if k, why, ran := r.sshCommand(prog, args); ran {
			return k, why
		}
	}
	if opt, ok := programPasswordOptions[prog]; ok {
		if !r.flags {
			// In text that may hold command lines (a ConfigMap's), the credential flags of a
			// program whose short password option is read (docker login --password VALUE, as
			// docker login -p VALUE), in the same reading; another program's --password VALUE
			// may be a help text's.
			r.optionFlags = prog
		}
		k, why := r.optionPassword(opt, sqlClients[prog], args)
		r.optionFlags = ""
		if k >= 0 {
			if why != "" {
				return k, prog + why
			}
			return k, strings.Join(append([]string{prog}, opt.subcommand...), " ") + "'s " + opt.flag + " gives a password"
		}
	} else if sql, ok := sqlClients[prog]; ok && sql.short != "" {
		// SQL*Plus and SQLcl take no statements as an option's value (their logon is
		// oracleLogonPassword's): their words are not looked at for one.
		if k, why := r.optionPassword(passwordOption{}, sql, args); k >= 0 {
			return k, prog + why
		}
	}
	if read, ok := programPasswordReaders[prog]; ok {
		if k, why := read(r, args); k >= 0 {
			return k, prog + why
		}
	}
	if prog == "expect" {
		// expect -c SCRIPT.
		for i := 0; i+1 < len(args); i++ {
			r.read++
			if args[i] == "-c" {
				if text, _ := shellText(args[i+1]); expectPassword(text) {
					return i + 1, "expect's script answers a password prompt with a literal"
				}
			}
		}
	}
	if postgresClients[prog] {
		if k := r.conninfoPassword(args); k >= 0 {
			return k, prog + "'s connection string gives a password"
		}
	}
	if !noHereString {
		// (With noHereString, programPassword found no here-string among the words.)
		if k := r.hereStringPassword(prog, args); k >= 0 {
			if shellPrograms[prog] || remoteShellPrograms[prog] || commandRunners[prog] {
				return k, "the script " + prog + " reads from a here-string gives a literal password"
			}
			return k, prog + " reads a password from a here-string"
		}
	}
	if k, why := r.shellCommand(prog, args); k >= 0 {
		return k, why
	}
	if prog == "echo" || prog == "printf" {
		if k, file := r.writtenCredential(prog, args); k >= 0 {
			return k, prog + " writes a password to " + file
		}
	}
	if r.flags {
		if k, names := r.jsonArgument(args); k >= 0 {
			return k, prog + "'s argument sets " + strings.Join(names, ", ")
		}
	}
	if r.flags && prog == "set" {
		// set -- --password VALUE; exec app "$@": the words after "--" are the script's
		// positional parameters, which "$@" gives a program as its arguments.
		if j := slices.Index(args, "--"); j >= 0 {
			if k := r.flagPassword("", args[j+1:]); k >= 0 {
				return j + 1 + k, "set -- gives the script's parameters " + args[j+k] + " and a literal"
			}
		}
	}
	if r.flags && !textPrograms[prog] {
		if k := r.flagPassword(prog, args); k >= 0 {
			return k, prog + "'s " + args[k-1] + " gives a password"
		}
	}
	return -1, ""
}

// writtenCredential is the index in args (the words of echo or printf, prog, after its name)
// of the literal credential the command writes to a file that holds one, and the file; -1
// when there is none: echo VALUE > /etc/app/db_password writes a password as a Secret's file
// would hold it, and echo HOST:PORT:DB:USER:VALUE > ~/.pgpass a password file
// (credentialFileText).
func (r *commandReader) writtenCredential(prog string, args []string) (int, string) {
	file := writtenFile(prog, args)
	if file == "" {
		return -1, ""
	}
	r.read += len(args)
	var words []string
	var at []int
	for i := 0; i < len(args); i++ {
		if ok, next := redirection(args[i]); ok {
			if next {
				i++
			}
			continue
		}
		words, at = append(words, args[i]), append(at, i)
	}
	k, text := r.printedText(prog, words)
	appended := slices.ContainsFunc(args, func(w string) bool { return strings.HasPrefix(strings.TrimPrefix(w, "1"), ">>") })
	if k < 0 {
		r.keepWritten(file, unwrittenText, appended)
		return -1, ""
	}
	r.keepWritten(file, strings.ReplaceAll(text, `\n`, "\n"), appended)
	if !writtenCredentialText(file, strings.ReplaceAll(text, `\n`, "\n")) {
		return -1, ""
	}
	return at[k], file
}

// writtenCredentialText reports whether text, written into file by echo, printf or tee, holds
// a literal credential: as the file (credentialFileText), or as configuration that sets a
// credential-like name to a literal (credentialSettings: echo -e "[client]\nuser=root\npassword=VALUE"
// > ~/.my.cnf, printf 'username = U\npassword = VALUE\n' > smb.auth), as a here-document's
// body written to a file is read.
func writtenCredentialText(file, text string) bool {
	return credentialFileText(file, text) || len(credentialSettings(text, 1)) > 0
}

// credentialFileName reports whether the name of file, without its extension, names a
// credential (credentialFileText), or its extension does (rsyncd.secrets, db.password,
// api.token; not .key alone, which a cache's key has too); a dot file's name is what follows
// its dot (Vault's ~/.vault-token).
func credentialFileName(file string) bool {
	base := strings.TrimPrefix(path.Base(file), ".")
	ext := path.Ext(base)
	name := strings.TrimSuffix(base, ext)
	// A bare AUTH names a credential for a USER:PASSWORD value only (userPasswordName): a file
	// named auth or *.auth (OpenVPN's --auth-user-pass file, USER and PASSWORD on two lines) is
	// judged by what the script writes and the program that reads it.
	return name != "" && !bareAuthName(name) && credentialName(name) || len(ext) > 1 && !bareAuthName(ext[1:]) && credentialName(ext[1:])
}

// credentialFileText reports whether text, written to the file named file, is a literal
// credential: the file is a password file (passwordFile: .pgpass, .netrc) that gives one, or
// its name, without its extension, names a credential (db_password, api-token, secret.txt;
// not password_file, a reference) and text, its first line, is a literal one (credentialValue).
func credentialFileText(file, text string) bool {
	base := path.Base(file)
	if passwordFile(base, text) {
		return true
	}
	first, _, _ := strings.Cut(text, "\n")
	if !credentialFileName(file) {
		return false
	}
	// The value is judged under the name that names the credential.
	base = strings.TrimPrefix(base, ".")
	name := strings.TrimSuffix(base, path.Ext(base))
	if name == "" || !credentialName(name) {
		name = path.Ext(base)[1:]
	}
	return credentialValue(name, strings.TrimSpace(first))
}

// jsonArgument is the index in args (a shell script's words after a program's name) of a
// quoted JSON document that sets a credential-like key to a literal (jsonCredentialSettings),
// as an API's login or user request gives one (curl -d '{"username": "admin", "password":
// "VALUE"}'), and the keys; -1 when there is none. In double quotes, the shell's parameters
// ("$PASSWORD") are no literal. Only a word that starts with a quote and '{' or '[' is read.
func (r *commandReader) jsonArgument(args []string) (int, []string) {
	for i, w := range args {
		if len(w) < 2 || w[0] != '\'' && w[0] != '"' || w[1] != '{' && w[1] != '[' {
			continue
		}
		r.read++
		text, expands := shellText(w)
		if expands && strings.Contains(text, "$") {
			text = shellParameter().ReplaceAllString(text, "$${$1}")
		}
		if names := jsonCredentialSettings(text, maxSettingsNamed); len(names) > 0 {
			return i, names
		}
	}
	return -1, nil
}

// textPrograms are the shell's commands whose arguments are text or a test's operands, not a
// program's options: echo usage: myapp --password PASSWORD prints a help text.
var textPrograms = map[string]bool{"echo": true, "printf": true, ":": true, "true": true, "false": true,
	"test": true, "[": true, "[[": true}

// flagPassword is the index in args (the words of a command of prog after its name) of a
// literal credential a credential flag takes from the next word (--password VALUE,
// --client-secret VALUE: credentialFlag), -1 when there is none. The value is no literal when
// it is a shell expansion, another option, a redirection, or a placeholder named for the flag
// (--api-key YOUR_API_KEY); a flag prog reads no value after (separateFlagValue) takes none.
// After "--" the words are operands.
func (r *commandReader) flagPassword(prog string, args []string) int {
	for i := 0; i+1 < len(args); i++ {
		w := args[i]
		r.read++
		if w == "--" {
			return -1
		}
		if literalFlagValue(prog, args, i) {
			return i + 1
		}
	}
	return -1
}

// literalFlagValue reports whether args[i] is a credential flag of prog that takes a literal
// credential from the next word, as flagPassword reads it.
func literalFlagValue(prog string, args []string, i int) bool {
	w := args[i]
	if i+1 >= len(args) || !credentialFlag(w) || !separateFlagValue(prog, w) {
		return false
	}
	v := strings.TrimRight(args[i+1], ";")
	if ok, _ := redirection(v); ok || strings.HasPrefix(v, "<<") || strings.HasPrefix(v, "-") {
		return false
	}
	return literalArgument(v) && credentialValue(strings.TrimLeft(w, "-"), strings.Trim(v, `"'`))
}

// postgresClients are PostgreSQL's client programs, whose --password (-W) takes no value: it
// makes them prompt for the password (PostgreSQL 18 documentation, psql and the other client
// applications), and the next argument is another.
var postgresClients = map[string]bool{"psql": true, "pg_dump": true, "pg_dumpall": true, "pg_restore": true,
	"pg_basebackup": true, "pg_receivewal": true, "pg_recvlogical": true, "pg_amcheck": true, "createdb": true,
	"dropdb": true, "createuser": true, "dropuser": true, "vacuumdb": true, "reindexdb": true, "clusterdb": true,
	"pgbench": true, "vacuumlo": true}

// conninfoPassword is the index in args (a PostgreSQL client's words) of a connection string
// in libpq's keyword/value form that gives a literal password: the database operand or -d,
// --dbname's value, which libpq reads as a connection string when it holds '=' (psql
// 'host=db password=VALUE', psql -h db 'password=VALUE', pg_dump -d "dbname=o password=VALUE");
// -1 when none does. A URI's password is urlPassword's.
func (r *commandReader) conninfoPassword(args []string) int {
	for i := 0; i < len(args); i++ {
		w := args[i]
		r.read++
		k := i
		switch {
		case (w == "-d" || w == "--dbname") && i+1 < len(args):
			i++
			k, w = i, args[i]
		case strings.HasPrefix(w, "--dbname="):
			w = w[len("--dbname="):]
		case strings.HasPrefix(w, "-d") && len(w) > 2:
			w = w[2:]
		case strings.HasPrefix(w, "-"):
			continue
		}
		if !strings.Contains(w, "password") {
			continue
		}
		if v, ok := conninfoValue(unquotedWord(strings.TrimSuffix(w, ";")), "password"); ok && literalArgument(v) {
			return k
		}
	}
	return -1
}

// conninfoValue is the value libpq's keyword/value connection string s gives keyword key
// (key = value, blanks around '=' allowed; a value in single quotes, where a backslash escapes
// the byte after it, or to the next blank), and whether it gives one.
func conninfoValue(s, key string) (string, bool) {
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			i++
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return "", false
		}
		name := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		var v strings.Builder
		if i < len(s) && s[i] == '\'' {
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
			}
			i++
		} else {
			for ; i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\n'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
			}
		}
		if name == key {
			return v.String(), true
		}
	}
	return "", false
}

// separateFlagValue reports whether the program prog takes the value of its credential flag
// flag from the next argument, as programs commonly do (getopt_long, Go's flag package, pflag,
// argparse). It does not where the program reads it otherwise: the MySQL and MariaDB client
// programs' --password[=password] takes a value attached only (alone it prompts, and the next
// argument is the database), PostgreSQL's --password is a switch (postgresClients), and
// OpenSSL's -pass, -passin, -passout and -password say where to read it (pass:, env:, file:,
// fd:, stdin), which opensslPassword reads. An unknown program ("", the image's entrypoint)
// takes it.
func separateFlagValue(prog, flag string) bool {
	if opt, ok := programPasswordOptions[prog]; ok && !opt.separate && flag == "--password" {
		return false
	}
	switch {
	case postgresClients[prog] && flag == "--password":
		return false
	case prog == "openssl" && opensslPassOptions["-"+strings.TrimLeft(flag, "-")]:
		return false
	}
	return true
}

// optionPassword is the index in args of the literal password opt, a program's short option,
// takes, -1 when there is none: after the words of opt.subcommand, in order, the option with the
// password attached (-pVALUE) or in the next word (-p VALUE). In the same reading, a database
// client's statements given with sql, its option (sqlClients: mysql -e, psql -c; none when
// sql.short is ""), that set a literal password; what says so is then returned too ("" for
// opt's own).
func (r *commandReader) optionPassword(opt passwordOption, sql sqlOption, args []string) (int, string) {
	sub := 0
	for i, w := range args {
		r.read++
		if sub < len(opt.subcommand) {
			if strings.TrimRight(w, ";") == opt.subcommand[sub] {
				sub++
			}
			continue
		}
		if r.optionFlags != "" && literalFlagValue(r.optionFlags, args, i) {
			return i + 1, "'s " + w + " gives a password"
		}
		switch {
		case opt.flag == "":
		case w == opt.flag && opt.separate && i+1 < len(args):
			if literalArgument(args[i+1]) {
				return i, ""
			}
		case opt.attached && len(w) > len(opt.flag) && strings.HasPrefix(w, opt.flag):
			if literalArgument(w[len(opt.flag):]) {
				return i, ""
			}
		}
		if sql.short != "" {
			if k, why := sqlStatementPassword(sql, args, i); k >= 0 {
				return k, why
			}
		}
	}
	return -1, ""
}

// literalArgument reports whether a word given as a password (a final ';' and quotes taken
// off) is a literal one: not empty, no shell expansion ($PW, "${PW}", $(cat FILE), `...`; a
// '$' in single quotes is none: -p'Ord$rs-2024'), and a literal credential (credentialValue).
func literalArgument(w string) bool {
	w = strings.TrimRight(w, ";")
	if strings.ContainsAny(w, "$`") {
		text, ok := singleQuotedText(w)
		return ok && credentialValue("", text)
	}
	return w != "" && credentialValue("", strings.Trim(w, `"'`))
}

// singleQuotedText is a shell word without its quotes, and whether every '$' and '`' of it is
// in single quotes, where the shell expands nothing: 'Ord$rs-2024' and Ord'$'rs are, "$PW",
// $PW and 'a'$b are not. Bash's ANSI-C quotes, $'...', are single quotes whose backslash
// escapes the byte after it. A quote nothing closes is none.
func singleQuotedText(w string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '\'':
			end := strings.IndexByte(w[i+1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(w[i+1 : i+1+end])
			i += 1 + end
		case '$':
			if i+1 >= len(w) || w[i+1] != '\'' {
				return "", false
			}
			// $'...': its text, \' and \\ undone; other escapes (\n, \x41) are kept as they
			// are, literal text all the same.
			end := ansiCQuoteEnd(w, i+1)
			if end < 0 {
				return "", false
			}
			for j := i + 2; j < end; j++ {
				if w[j] == '\\' && (w[j+1] == '\'' || w[j+1] == '\\') {
					j++
				}
				b.WriteByte(w[j])
			}
			i = end
		case '`':
			return "", false
		case '"':
			end := closingQuote(w, i)
			if end == i || w[end] != '"' || strings.ContainsAny(w[i+1:end], "$`") {
				return "", false
			}
			b.WriteString(w[i+1 : end])
			i = end
		case '\\':
			if i+1 < len(w) {
				i++
				b.WriteByte(w[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), b.Len() > 0
}

// programPasswordReaders read the passwords of programs that take one as an argument, or as an
// option's value no name says is a password (beside the short options of
// programPasswordOptions): they return the index in args, the words after the program's name,
// of the word that holds a literal password and what says so (after the program's name), -1
// when there is none.
var programPasswordReaders = map[string]func(r *commandReader, args []string) (int, string){
	"htpasswd":      (*commandReader).htpasswdPassword,
	"mc":            (*commandReader).minioClientPassword,
	"rabbitmqctl":   (*commandReader).rabbitmqctlPassword,
	"mysqladmin":    (*commandReader).mysqladminPassword,
	"mariadb-admin": (*commandReader).mysqladminPassword,
	"redis-cli":     (*commandReader).redisCLIAuthPassword,
	"valkey-cli":    (*commandReader).redisCLIAuthPassword,
	"openssl":       (*commandReader).opensslPassword,
	"keytool":       (*commandReader).keytoolPassword,
	"mongosh":       (*commandReader).mongoEvalPassword,
	"sqlplus":       (*commandReader).oracleLogonPassword,
	"sql":           (*commandReader).oracleLogonPassword,
	"expdp":         (*commandReader).oracleLogonPassword,
	"impdp":         (*commandReader).oracleLogonPassword,
	"exp":           (*commandReader).oracleLogonPassword,
	"imp":           (*commandReader).oracleLogonPassword,
	"mongo":         (*commandReader).mongoEvalPassword,
	"jarsigner":     (*commandReader).keytoolPassword,
	"smbclient":     (*commandReader).smbclientPassword,
	"rpcclient":     sambaUserPassword,
	"smbcacls":      sambaUserPassword,
	"etcdctl": func(r *commandReader, args []string) (int, string) {
		if k, why := r.userPassword(userPasswordOption{long: "--user", separator: ':'}, args); k >= 0 {
			return k, why
		}
		return r.etcdctlUserAdd(args)
	},
	// HTTPie's http and https, and xh (xhs): -a, --auth USER:PASSWORD (USER alone prompts).
	"http": httpieAuthPassword, "https": httpieAuthPassword, "xh": httpieAuthPassword, "xhs": httpieAuthPassword,
	"lftp":  (*commandReader).lftpPassword,
	"vault": (*commandReader).vaultPassword,
	// ldappasswd -s NEWPASSWD (getopt: -sVALUE too) sets the user's new password; -w is
	// the bind's (programPasswordOptions).
	"ldappasswd": func(r *commandReader, args []string) (int, string) {
		if k, _ := r.optionPassword(passwordOption{flag: "-s", attached: true, separate: true}, sqlOption{}, args); k >= 0 {
			return k, "'s -s gives a new password"
		}
		return -1, ""
	},
	// ssh-keygen -P OLD_PASSPHRASE (getopt: -P VALUE or -PVALUE; -N is the new one,
	// programPasswordOptions; -P '' is none).
	"ssh-keygen": func(r *commandReader, args []string) (int, string) {
		if k, _ := r.optionPassword(passwordOption{flag: "-P", attached: true, separate: true}, sqlOption{}, args); k >= 0 {
			return k, "'s -P gives the key's passphrase"
		}
		return -1, ""
	},
	// MySQL Shell's and MySQL Router's connection URIs without a scheme: mysqlsh
	// root:VALUE@db:3306, mysqlsh --uri root:VALUE@db, mysqlrouter --bootstrap root:VALUE@db.
	"mysqlsh":     (*commandReader).mysqlURIPassword,
	"mysqlrouter": (*commandReader).mysqlURIPassword,
	"poetry":      (*commandReader).poetryConfigPassword,
	// cargo login [--registry NAME] TOKEN, snyk auth TOKEN.
	"cargo": tokenOperandReader([]string{"login"}, map[string]bool{"--registry": true, "-Z": true, "--config": true,
		"--color": true, "--index": true}),
	"snyk":             tokenOperandReader([]string{"auth"}, nil),
	"neo4j-admin":      (*commandReader).neo4jInitialPassword,
	"mosquitto_passwd": (*commandReader).mosquittoPasswdPassword,
	// Net-SNMP's applications (snmpcmd(1)): -A and -X.
	"snmpget":          (*commandReader).snmpPassphrase,
	"snmpgetnext":      (*commandReader).snmpPassphrase,
	"snmpwalk":         (*commandReader).snmpPassphrase,
	"snmpbulkwalk":     (*commandReader).snmpPassphrase,
	"snmpbulkget":      (*commandReader).snmpPassphrase,
	"snmpset":          (*commandReader).snmpPassphrase,
	"snmptrap":         (*commandReader).snmpPassphrase,
	"snmpinform":       (*commandReader).snmpPassphrase,
	"snmptable":        (*commandReader).snmpPassphrase,
	"snmpstatus":       (*commandReader).snmpPassphrase,
	"snmpdf":           (*commandReader).snmpPassphrase,
	"snmpdelta":        (*commandReader).snmpPassphrase,
	"snmpnetstat":      (*commandReader).snmpPassphrase,
	"snmpusm":          (*commandReader).snmpPassphrase,
	"snmpvacm":         (*commandReader).snmpPassphrase,
	"snmptest":         (*commandReader).snmpPassphrase,
	"mkpasswd":         (*commandReader).mkpasswdPassword,
	"grafana-cli":      (*commandReader).grafanaAdminPassword,
	"kafka-configs":    (*commandReader).kafkaSCRAMPassword,
	"kafka-configs.sh": (*commandReader).kafkaSCRAMPassword,
	"kafka-storage":    (*commandReader).kafkaSCRAMPassword,
	"kafka-storage.sh": (*commandReader).kafkaSCRAMPassword,
	"rclone":           (*commandReader).rcloneConfigPassword,
	"influx":           (*commandReader).influxPassword,
	"grafana":          (*commandReader).grafanaAdminPassword,
	"useradd":          (*commandReader).userAccountPassword,
	"usermod":          (*commandReader).userAccountPassword,
	"aws":              configSetReader("aws"),
	"npm":              configSetReader("npm"),
	"pnpm":             configSetReader("pnpm"),
	"yarn":             configSetReader("yarn"),
	"kubectl":          configSetReader("kubectl"),
	"oc":               configSetReader("oc"),

	"curl": (*commandReader).curlCredential,
	"git":  (*commandReader).gitExtraHeader,
	// The containers/image tools' --creds USER[:PASSWORD] (skopeo's --src-creds and
	// --dest-creds too; USER alone prompts).
	"skopeo": containerImageCreds, "podman": containerImageCreds, "buildah": containerImageCreds,
	"java":        jenkinsCLIPassword(true),
	"jenkins-cli": jenkinsCLIPassword(false),
	// NetworkManager's nmcli, wpa_supplicant's wpa_passphrase, FreeRDP's clients and consul.
	"nmcli": (*commandReader).nmcliSecret, "wpa_passphrase": (*commandReader).wpaPassphrase,
	"wpa_cli":  (*commandReader).wpaCLISecret,
	"xfreerdp": freeRDPPassword, "xfreerdp3": freeRDPPassword, "wlfreerdp": freeRDPPassword,
	"wlfreerdp3": freeRDPPassword, "sdl-freerdp": freeRDPPassword, "sdl-freerdp3": freeRDPPassword,
	"freerdp": freeRDPPassword, "rdesktop": rdesktopPassword,
	// WildFly's (JBoss EAP's) and Keycloak's management users.
	"add-user.sh":          addUserPassword(true),
	"add-user.bat":         addUserPassword(true),
	"add-user-keycloak.sh": addUserPassword(false),
	"add-user-keycloak":    addUserPassword(false),
	// Netlify's CLI: --auth TOKEN (a personal access token) on any command.
	"netlify": optionValueReader(" gives a token", "--auth"),
	// Consul's gossip encryption key: consul agent -encrypt KEY, consul keyring -install KEY
	// (Go's flag package: -encrypt KEY, -encrypt=KEY, with one dash or two).
	"consul": (*commandReader).consulCredential,
	// SonarScanner's, Maven's and Gradle's -Dsonar.login=TOKEN, -Dsonar.token=TOKEN (and the
	// .NET scanner's /d:sonar.login=TOKEN).
	"sonar-scanner": (*commandReader).sonarToken, "mvn": (*commandReader).sonarToken,
	"mvnw": (*commandReader).sonarToken, "gradle": (*commandReader).sonarToken,
	"gradlew": (*commandReader).sonarToken, "dotnet-sonarscanner": (*commandReader).sonarToken,
	// IBM Db2's command line processor: db2 connect to DB user USER using PASSWORD.
	"db2": (*commandReader).db2ConnectPassword,
	// Apache ZooKeeper's shells (and Kafka's): addauth digest USER:PASSWORD.
	"zkCli.sh": (*commandReader).zooKeeperDigestPassword, "zkCli": (*commandReader).zooKeeperDigestPassword,
	"zookeeper-shell.sh": (*commandReader).zooKeeperDigestPassword,
	"zookeeper-shell":    (*commandReader).zooKeeperDigestPassword,
	// Percona Toolkit's tools: a DSN's p=PASSWORD (h=db,u=root,p=VALUE) and -p PASSWORD.
	"pt-table-checksum": (*commandReader).perconaDSNPassword, "pt-table-sync": (*commandReader).perconaDSNPassword,
	"pt-online-schema-change": (*commandReader).perconaDSNPassword, "pt-archiver": (*commandReader).perconaDSNPassword,
	"pt-query-digest": (*commandReader).perconaDSNPassword, "pt-kill": (*commandReader).perconaDSNPassword,
	"pt-heartbeat": (*commandReader).perconaDSNPassword, "pt-duplicate-key-checker": (*commandReader).perconaDSNPassword,
	"pt-deadlock-logger": (*commandReader).perconaDSNPassword, "pt-slave-restart": (*commandReader).perconaDSNPassword,
	"pt-replica-restart": (*commandReader).perconaDSNPassword, "pt-upgrade": (*commandReader).perconaDSNPassword,
	"pt-config-diff": (*commandReader).perconaDSNPassword, "pt-index-usage": (*commandReader).perconaDSNPassword,
	"pt-fk-error-logger": (*commandReader).perconaDSNPassword, "pt-find": (*commandReader).perconaDSNPassword,
	"pt-show-grants": (*commandReader).perconaDSNPassword, "pt-variable-advisor": (*commandReader).perconaDSNPassword,
	"pt-slave-find": (*commandReader).perconaDSNPassword, "pt-replica-find": (*commandReader).perconaDSNPassword,
	"pt-visual-explain": (*commandReader).perconaDSNPassword,
}

// curlCredential reads curl's --oauth2-bearer TOKEN (an OAuth 2.0 bearer token, sent as
// Authorization: Bearer TOKEN), -u, --user USER:PASSWORD (the server's) and -U, --proxy-user
// USER:PASSWORD (the proxy's), each also in a cluster of short options (curlUserOption): the
// index in args of the word that holds a literal credential and what says so; -1 when there is
// none. gitleaks' curl-auth-user finds -u and --user alone, and a password of word characters,
// '$', '@', '.' and '-' only.
func (r *commandReader) curlCredential(args []string) (int, string) {
	for i := 0; i < len(args); i++ {
		r.read++
		if args[i] == "--oauth2-bearer" && i+1 < len(args) && literalArgument(args[i+1]) {
			return i + 1, "'s --oauth2-bearer gives a token"
		}
		if file, k := curlConfigOption(args, i); k >= 0 {
			// curl -K FILE: the options of a file the script wrote before (r.written),
			// each file read once.
			if text, ok := r.written[file]; ok && text != overflowedText && !r.curlFiles[file] {
				if r.curlFiles == nil {
					r.curlFiles = map[string]bool{}
				}
				r.curlFiles[file] = true
				r.read += strings.Count(text, "\n")
				if opt := curlConfigPassword(text); opt != "" {
					return k, "'s config file, which the script wrote, gives " + opt
				}
			}
		}
		opt, v, k := curlUserOption(args, i)
		if k < 0 {
			continue
		}
		// Its text as curl is given it: a shell expansion in it is no literal, unless it is
		// single-quoted.
		v = strings.TrimRight(v, ";")
		if strings.ContainsAny(v, "$`") {
			text, ok := singleQuotedText(v)
			if !ok {
				continue
			}
			v = text
		} else {
			v = unquotedWord(v)
		}
		if _, p, ok := strings.Cut(v, ":"); ok && p != "" && credentialValue("", p) {
			if opt == "-U" || opt == "--proxy-user" {
				return k, "'s " + opt + " gives a proxy user's password"
			}
			return k, "'s " + opt + " gives a user's password"
		}
	}
	return -1, ""
}

// curlConfigOption reads args[i] as curl's -K or --config: the file it names (unquoted) and the
// index in args of the word that holds it (-K FILE, -KFILE, --config FILE, --config=FILE); k is
// -1 when args[i] is neither.
func curlConfigOption(args []string, i int) (file string, k int) {
	w := args[i]
	switch {
	case (w == "-K" || w == "--config") && i+1 < len(args):
		return strings.Trim(args[i+1], `"'`), i + 1
	case strings.HasPrefix(w, "--config="):
		return strings.Trim(w[len("--config="):], `"'`), i
	case len(w) > 2 && strings.HasPrefix(w, "-K"):
		return strings.Trim(w[2:], `"'`), i
	}
	return "", -1
}

// curlConfigNames are the names of the configuration file curl reads by itself (~/.curlrc,
// _curlrc on Windows).
var curlConfigNames = map[string]bool{".curlrc": true, "curlrc": true, "_curlrc": true}

// curlConfigPassword says which option of curl's configuration file text (one option a line:
// [-|--]NAME[ =:]VALUE, the value quoted or not) gives a literal credential: user or u
// (USER:PASSWORD), proxy-user or U (the proxy's), oauth2-bearer (a token), pass or
// proxy-pass (a private key's passphrase); "" when none does.
func curlConfigPassword(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		short := strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--")
		t = strings.TrimLeft(t, "-")
		end := strings.IndexAny(t, " \t=:")
		if end <= 0 {
			continue
		}
		name, value := t[:end], strings.TrimLeft(t[end:], " \t")
		if value != "" && (value[0] == '=' || value[0] == ':') {
			value = strings.TrimLeft(value[1:], " \t")
		}
		value = strings.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		if short && len(name) != 1 || !short && len(name) == 1 {
			continue
		}
		switch name {
		case "user", "u", "proxy-user", "U":
			if _, p, ok := strings.Cut(value, ":"); ok && p != "" && !shellExpansion(p) && credentialValue("password", p) {
				return name
			}
		case "oauth2-bearer", "pass", "proxy-pass":
			if value != "" && !shellExpansion(value) && credentialValue("token", value) {
				return name
			}
		}
	}
	return ""
}

// curlBooleanOptions are curl's short options that take no value: in a cluster (-sSfu), the
// first option that takes one takes the rest of the word, or the next word when it ends the
// word (curl's tool_getparam.c).
const curlBooleanOptions = "012346:#abBfgGiIjJklLMnNOpqRsSvVZ"

// curlUserOption reads args[i] as curl's -u, --user or -U, --proxy-user: the option, its value
// and the index in args of the word that holds it (-u VALUE, --user=VALUE, -uVALUE, -sSfu
// VALUE, -sSfuVALUE); k is -1 when args[i] is none of them.
func curlUserOption(args []string, i int) (opt, v string, k int) {
	w := args[i]
	for _, long := range []string{"--user", "--proxy-user"} {
		switch {
		case w == long && i+1 < len(args):
			return long, args[i+1], i + 1
		case strings.HasPrefix(w, long+"="):
			return long, w[len(long)+1:], i
		}
	}
	if len(w) < 2 || w[0] != '-' || w[1] == '-' {
		return "", "", -1
	}
	for j := 1; j < len(w); j++ {
		c := w[j]
		if strings.IndexByte(curlBooleanOptions, c) >= 0 {
			continue
		}
		if c != 'u' && c != 'U' {
			return "", "", -1
		}
		opt = "-" + string(c)
		if j+1 < len(w) {
			return opt, w[j+1:], i
		}
		if i+1 < len(args) {
			return opt, args[i+1], i + 1
		}
		return "", "", -1
	}
	return "", "", -1
}

// gitExtraHeader reads git's http.extraHeader (http.<url>.extraheader) set to an
// Authorization header with literal credentials, as -c's value (git -c
// http.extraHeader="Authorization: Basic ...") or git config's (git config --global
// http.extraheader "AUTHORIZATION: bearer ..."): the index in args of the word that holds it
// and what says so; -1 when there is none.
func (r *commandReader) gitExtraHeader(args []string) (int, string) {
	for i := range args {
		r.read++
		w := args[i]
		if strings.ContainsAny(w, "$`") {
			continue
		}
		v := unquotedWord(w)
		if i > 0 && strings.HasSuffix(strings.ToLower(unquotedWord(args[i-1])), ".extraheader") {
			// git config [--global] http.extraheader VALUE.
			v = "http.extraheader=" + v
		}
		if eq := strings.IndexByte(v, '='); eq > 0 && strings.HasSuffix(strings.ToLower(v[:eq]), ".extraheader") &&
			authorizationArgument(v) {
			return i, "'s http.extraHeader gives an Authorization header"
		}
	}
	return -1, ""
}

// mysqlURIPassword reads the connection URIs MySQL Shell and MySQL Router take as an operand or
// an option's value ([mysql://|mysqlx://]USER:PASSWORD@HOST[:PORT][/SCHEMA]; urlPassword reads
// those with a scheme only): the index in args of the word that holds one with a literal
// password and what says so; -1 when there is none. A word with a blank (a statement -e
// runs) or a shell expansion holds none.
func (r *commandReader) mysqlURIPassword(args []string) (int, string) {
	for i, w := range args {
		r.read++
		if strings.HasPrefix(w, "-") {
			_, v, ok := strings.Cut(w, "=")
			if !ok {
				continue
			}
			w = v
		}
		if strings.ContainsAny(w, "$`") {
			continue
		}
		v := unquotedWord(strings.TrimRight(w, ";"))
		if strings.ContainsAny(v, " \t") {
			continue
		}
		for _, scheme := range []string{"mysql://", "mysqlx://"} {
			v = strings.TrimPrefix(v, scheme)
		}
		if strings.Contains(v, "://") {
			continue
		}
		// The userinfo is what comes before the last '@' (a '#' or '/' a password holds
		// unescaped is the password's still).
		at := strings.LastIndexByte(v, '@')
		if at < 0 {
			continue
		}
		_, p, ok := strings.Cut(v[:at], ":")
		if decoded, err := url.PathUnescape(p); err == nil {
			p = decoded
		}
		if ok && p != "" && credentialValue("", p) {
			return i, "'s connection URI gives a password"
		}
	}
	return -1, ""
}

// containerImageCredsOptions are the options of skopeo, podman and buildah that take
// USER[:PASSWORD] for a registry (pflag: --creds VALUE, --creds=VALUE).
var containerImageCredsOptions = []string{"--creds", "--src-creds", "--dest-creds"}

// containerImageCreds reads skopeo's, podman's and buildah's --creds USER:PASSWORD (and
// skopeo's --src-creds and --dest-creds): the index in args of the word that holds a literal
// password and what says so; -1 when there is none.
func containerImageCreds(r *commandReader, args []string) (int, string) {
	for i := range args {
		r.read++
		if !strings.HasPrefix(args[i], "--") || !strings.Contains(args[i], "creds") {
			continue
		}
		for _, long := range containerImageCredsOptions {
			if k, why := userPasswordAt(userPasswordOption{long: long, separator: ':'}, args, i); k >= 0 {
				return k, why
			}
		}
	}
	return -1, ""
}

// jenkinsCLIPassword reads the Jenkins CLI's -auth USER:SECRET (a password or an API token;
// -auth @FILE reads a file), given to a jenkins-cli wrapper or, with jar, to java -jar
// jenkins-cli.jar (the words after the jar; java runs nothing else of it): the index in args of
// the word that holds a literal one and what says so; -1 when there is none.
func jenkinsCLIPassword(jar bool) func(r *commandReader, args []string) (int, string) {
	return func(r *commandReader, args []string) (int, string) {
		from := 0
		if jar {
			for i := 0; i < len(args) && from == 0; i++ {
				r.read++
				switch w := args[i]; {
				case w == "-jar" && i+1 < len(args):
					name := programName(args[i+1])
					if !strings.HasPrefix(name, "jenkins-cli") || !strings.HasSuffix(name, ".jar") {
						return -1, ""
					}
					from = i + 2
				case !strings.HasPrefix(w, "-"), w == "-jar":
					// java's main class, or -jar's missing jar.
					return -1, ""
				case w == "-cp" || w == "-classpath" || w == "--class-path" || w == "--module-path" || w == "-p":
					i++
				}
			}
			if from == 0 {
				return -1, ""
			}
		}
		k, why := r.userPassword(userPasswordOption{short: "-auth", separator: ':'}, args[from:])
		if k < 0 {
			return -1, ""
		}
		return from + k, why
	}
}

// addUserValueOptions are the options of WildFly's (JBoss EAP's) add-user.sh and Keycloak's
// add-user-keycloak.sh that take the next word as their value.
var addUserValueOptions = map[string]bool{"-u": true, "--user": true, "-p": true, "--password": true, "-r": true,
	"--realm": true, "-g": true, "--group": true, "-sc": true, "--sc": true, "-dc": true, "--dc": true, "-up": true,
	"--user-properties": true, "-gp": true, "--group-properties": true, "-c": true, "--roles": true,
	"--container": true}

// addUserPassword reads WildFly's (JBoss EAP's) add-user.sh and Keycloak's (before Quarkus)
// add-user-keycloak.sh: -p PASSWORD, the next word (--password VALUE and --password=VALUE are
// credential flags), and, with operands, add-user.sh's legacy operands USER PASSWORD [REALM]
// (add-user.sh admin VALUE --silent, as the jboss/wildfly image's README gives it): the index
// in args of the word that holds a literal password and what says so; -1 when there is none.
func addUserPassword(operands bool) func(r *commandReader, args []string) (int, string) {
	return func(r *commandReader, args []string) (int, string) {
		// One reading: the options and the operands together.
		n := 0
		for i := 0; i < len(args); i++ {
			r.read++
			w := strings.TrimRight(args[i], ";")
			if ok, next := redirection(w); ok {
				if next {
					i++
				}
				continue
			}
			switch {
			case strings.HasPrefix(w, "<<"):
				// A here-string or here-document: its word is the input's.
				if strings.Trim(w, "<-") == "" {
					i++
				}
			case w == "-p":
				if i+1 < len(args) && literalArgument(args[i+1]) {
					return i, "'s -p gives a user's password"
				}
				i++
			case len(w) > 1 && w[0] == '-':
				if addUserValueOptions[w] {
					i++
				}
			default:
				if n++; operands && n == 2 && literalArgument(args[i]) {
					return i, " USER PASSWORD gives a user's password"
				}
			}
		}
		return -1, ""
	}
}

// sambaUserPassword reads Samba's clients' -U, --user USER%PASSWORD (smbclient(1): the
// password after '%').
func sambaUserPassword(r *commandReader, args []string) (int, string) {
	return r.userPassword(userPasswordOption{short: "-U", long: "--user", separator: '%', attached: true}, args)
}

// lftpPassword reads lftp's -u USER,PASSWORD and the commands its -c and -e give it (lftp(1)):
// open's -u USER,PASSWORD (lftp -c "open -u USER,VALUE HOST; mirror ...") and user USER
// PASSWORD. The index in args of the word that holds a literal password and what says so; -1
// when there is none. The commands' words are read once, after lftp's own.
func (r *commandReader) lftpPassword(args []string) (int, string) {
	user := userPasswordOption{short: "-u", separator: ','}
	for i, w := range args {
		r.read++
		if k, why := userPasswordAt(user, args, i); k >= 0 {
			return k, why
		}
		if w != "-c" && w != "-e" || i+1 == len(args) {
			continue
		}
		text, expands := shellText(strings.TrimRight(args[i+1], ";"))
		for line := range strings.SplitSeq(strings.ReplaceAll(text, ";", "\n"), "\n") {
			words := shellWords(line)
			if len(words) < 2 || expands && strings.ContainsAny(line, "$`") {
				continue
			}
			switch words[0] {
			case "open":
				if k, _ := r.userPassword(user, words[1:]); k >= 0 {
					return i + 1, "'s " + w + " opens a site with -u USER,PASSWORD"
				}
			case "user":
				r.read += len(words)
				if len(words) >= 3 && literalArgument(words[2]) {
					return i + 1, "'s " + w + " gives user USER PASSWORD"
				}
			}
		}
	}
	return -1, ""
}

// smbclientValueOptions are smbclient's options that take the next word as their value
// (smbclient(1), Samba 4.x; popt takes a long option's value in the next word too).
var smbclientValueOptions = map[string]bool{"-U": true, "--user": true, "-W": true, "--workgroup": true,
	"-c": true, "--command": true, "-A": true, "--authentication-file": true, "-I": true, "--ip-address": true,
	"-p": true, "--port": true, "-O": true, "--socket-options": true, "-s": true, "--configfile": true,
	"-l": true, "--log-basename": true, "-d": true, "--debuglevel": true, "-b": true, "--send-buffer": true,
	"-D": true, "--directory": true, "-n": true, "--netbiosname": true, "-i": true, "--scope": true,
	"-m": true, "--max-protocol": true, "-t": true, "--timeout": true, "-R": true, "--name-resolve": true,
	"--option": true, "-L": true, "--list": true, "-M": true, "--message": true, "-T": true, "--tar": true,
	"-S": true, "--signing": true, "--use-kerberos": true, "--client-protection": true, "--krb5-ccache": true,
	"--realm": true, "--netbios-scope": true, "--password": true}

// smbclientPassword reads smbclient's -U, --user USER%PASSWORD (as sambaUserPassword does) and
// its password operand, the one after the service (smbclient(1): smbclient [OPTIONS] service
// <password>; smbclient //srv/share -U admin VALUE), in one reading. With -L or -M there is no
// service, with -T the operands are the tar file's and the files', and with -N no password is
// sent: the operand is not taken then.
func (r *commandReader) smbclientPassword(args []string) (int, string) {
	user := userPasswordOption{short: "-U", long: "--user", separator: '%', attached: true}
	operand, n, noOperand := -1, 0, false
	for i := 0; i < len(args); i++ {
		r.read++
		w := strings.TrimRight(args[i], ";")
		if ok, next := redirection(w); ok {
			if next {
				i++
			}
			continue
		}
		if k, why := userPasswordAt(user, args, i); k >= 0 {
			return k, why
		}
		switch {
		case strings.HasPrefix(w, "<<"):
			// A here-string or here-document: its word is the input's.
			if strings.Trim(w, "<-") == "" {
				i++
			}
		case smbclientNoPasswordOperand[w]:
			noOperand = true
			if smbclientValueOptions[w] {
				i++
			}
		case len(w) > 1 && w[0] == '-':
			if smbclientValueOptions[w] {
				i++
			}
		default:
			if n++; n == 2 {
				operand = i
			}
		}
	}
	if operand >= 0 && !noOperand && !strings.ContainsAny(args[operand], "$`") && literalArgument(args[operand]) {
		return operand, " SERVICE PASSWORD gives a password"
	}
	return -1, ""
}

// smbclientNoPasswordOperand are smbclient's options with which its operands hold no password
// (smbclientPassword).
var smbclientNoPasswordOperand = map[string]bool{"-L": true, "--list": true, "-M": true, "--message": true,
	"-T": true, "--tar": true, "-N": true, "--no-pass": true}

// userPasswordOption is an option whose value is a user and a password in one word.
type userPasswordOption struct {
	// short and long are its names ("" when it has none): -U, --user.
	short, long string
	// separator is the byte between the user and the password: '%' in Samba's USER%PASSWORD,
	// ':' in etcdctl's --user USER:PASSWORD, ',' in lftp's -u USER,PASSWORD.
	separator byte
	// attached: the short option also takes its value attached (-UUSER%PASSWORD).
	attached bool
}

// userPassword is the index in args of the value of opt (the next word, --long=VALUE, or with
// opt.attached -sVALUE) that holds a user and a literal password, and what says so; -1 when
// there is none. A value with a shell expansion in it holds no literal.
func (r *commandReader) userPassword(opt userPasswordOption, args []string) (int, string) {
	for i := range args {
		r.read++
		if k, why := userPasswordAt(opt, args, i); k >= 0 {
			return k, why
		}
	}
	return -1, ""
}

// userPasswordAt is userPassword's reading of the word args[i] (and of the next, opt's value).
func userPasswordAt(opt userPasswordOption, args []string, i int) (int, string) {
	w := args[i]
	v, k := "", i
	switch {
	case opt.short != "" && w == opt.short, opt.long != "" && w == opt.long:
		if i+1 == len(args) {
			return -1, ""
		}
		v, k = args[i+1], i+1
	case opt.long != "" && strings.HasPrefix(w, opt.long+"="):
		v = w[len(opt.long)+1:]
	case opt.attached && opt.short != "" && len(w) > len(opt.short) && strings.HasPrefix(w, opt.short):
		v = w[len(opt.short):]
	default:
		return -1, ""
	}
	if strings.ContainsAny(v, "$`") {
		return -1, ""
	}
	if _, p, ok := strings.Cut(strings.Trim(strings.TrimRight(v, ";"), `"'`), string(opt.separator)); ok && literalArgument(p) {
		return k, "'s " + strings.SplitN(w, "=", 2)[0] + " gives a user's password"
	}
	return -1, ""
}

// userAccountPassword reads useradd's and usermod's -p, --password ENCRYPTED_PASSWORD
// (shadow-utils: getopt_long, -p VALUE, -pVALUE, --password VALUE, --password=VALUE), the
// account's crypt(3) hash written into /etc/shadow as given: the index in args of the word
// that holds a literal one, and what says so; -1 when there is none. A hash is judged as the
// password it hashes (offline guessing recovers a weak one from it); a locked or disabled
// account's '!', '*' (and '!' before nothing else) and an empty value are none, and so is a
// value with a shell expansion in it, unless it is single-quoted (where a hash's $ are text)
// or a crypt hash written unquoted (argv, where there is no shell; in a script the hash's text
// is in the manifest whatever the shell makes of its $).
func (r *commandReader) userAccountPassword(args []string) (int, string) {
	for i, w := range args {
		r.read++
		v, k, flag := "", i, ""
		switch {
		case w == "-p" || w == "--password":
			if i+1 == len(args) {
				return -1, ""
			}
			v, k, flag = args[i+1], i+1, w
		case strings.HasPrefix(w, "--password="):
			v, flag = w[len("--password="):], "--password"
		case len(w) > 2 && strings.HasPrefix(w, "-p"):
			v, flag = w[2:], "-p"
		default:
			continue
		}
		if literalAccountPassword(strings.TrimRight(v, ";")) {
			return k, "'s " + flag + " gives an account's password hash"
		}
	}
	return -1, ""
}

// cryptHashPrefix matches the start of a crypt(3) hash in the modular format: $id$ (MD5 1,
// bcrypt 2a/2b/2x/2y, SHA-256 5, SHA-512 6, yescrypt y, gost-yescrypt gy, scrypt 7, sha1, md5).
var cryptHashPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\$(1|2[abxy]?|5|6|7|y|gy|sha1|md5)\$[^$\s]`) })

// literalAccountPassword reports whether v, the word given to useradd -p, is a literal
// password or hash (userAccountPassword).
func literalAccountPassword(v string) bool {
	single := len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\''
	if single {
		v = v[1 : len(v)-1]
	} else if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
		if strings.ContainsAny(v, "$`") {
			return false
		}
	}
	h := strings.TrimLeft(v, "!")
	switch {
	case h == "" || h == "*" || strings.Trim(h, "*!") == "":
		return false
	case cryptHashPrefix().MatchString(h):
		// Single-quoted, or unquoted as argv: a hash, whose $ are no expansion.
		return single || !strings.Contains(h, "$(") && !strings.Contains(h, "${")
	case !single && strings.ContainsAny(v, "$`"):
		return false
	}
	return credentialValue("", v)
}

// configSetCommand is a program's command that sets one configuration value from its next two
// operands, NAME VALUE (or, where equals is true, also NAME=VALUE in one).
type configSetCommand struct {
	// words are the command's words after the program's name: configure set.
	words []string
	// valueOptions are the program's options that take the next word as their value.
	valueOptions map[string]bool
	equals       bool
}

// configSetCommands are the programs, by name, whose command sets a configuration value from
// NAME VALUE: the AWS CLI's aws configure set (aws_secret_access_key, aws_session_token, in a
// profile: profile.NAME.aws_secret_access_key), npm's and pnpm's config set (KEY VALUE, or
// KEY=VALUE: //registry/:_authToken), Yarn's config set (npmAuthToken) and kubectl's (oc's)
// config set (users.NAME.token, users.NAME.password).
var configSetCommands = map[string]configSetCommand{
	"aws": {words: []string{"configure", "set"}, valueOptions: map[string]bool{"--profile": true, "--region": true,
		"--output": true, "--endpoint-url": true, "--query": true, "--color": true, "--ca-bundle": true,
		"--cli-read-timeout": true, "--cli-connect-timeout": true}},
	"npm":     {words: []string{"config", "set"}, valueOptions: npmValueOptions, equals: true},
	"pnpm":    {words: []string{"config", "set"}, valueOptions: npmValueOptions, equals: true},
	"yarn":    {words: []string{"config", "set"}, valueOptions: npmValueOptions},
	"kubectl": {words: []string{"config", "set"}, valueOptions: kubectlValueOptions},
	"oc":      {words: []string{"config", "set"}, valueOptions: kubectlValueOptions},
	// Poetry's config KEY VALUE (pypi-token.REPO TOKEN; http-basic.REPO USER PASSWORD is
	// poetryConfigPassword's).
	"poetry": {words: []string{"config"}},
}

// npmValueOptions are npm's, pnpm's and Yarn's options that may take the next word as their value.
var npmValueOptions = map[string]bool{"--location": true, "-L": true, "--userconfig": true, "--globalconfig": true,
	"--prefix": true, "-C": true, "--dir": true, "--registry": true, "--cwd": true}

// kubectlExecValueOptions are kubectl exec's (oc exec's) options that take the next word as
// their value.
var kubectlExecValueOptions = map[string]bool{"-c": true, "--container": true, "-f": true, "--filename": true,
	"--pod-running-timeout": true}

// kubectlValueOptions are kubectl's global options that may take the next word as their value.
var kubectlValueOptions = map[string]bool{"--kubeconfig": true, "--context": true, "--cluster": true, "--user": true,
	"-n": true, "--namespace": true, "-s": true, "--server": true, "--token": true, "--as": true, "--as-group": true,
	"--as-uid": true, "--certificate-authority": true, "--client-certificate": true, "--client-key": true,
	"--request-timeout": true, "-v": true, "--v": true, "--tls-server-name": true, "--cache-dir": true}

// configSetReader reads the configuration value the program prog's config set command
// (configSetCommands) sets.
func configSetReader(prog string) func(r *commandReader, args []string) (int, string) {
	return func(r *commandReader, args []string) (int, string) {
		return r.configSetPassword(configSetCommands[prog], args)
	}
}

// configSetPassword is the index in args of the literal value cmd sets for a name that says it
// is a credential (credentialName and credentialValue, as the same setting in env or a
// configuration file), and what says so; -1 when there is none. The command's words are the
// first operands in that order (global options with their values may come before them).
func (r *commandReader) configSetPassword(cmd configSetCommand, args []string) (int, string) {
	ops := r.operands(args, cmd.valueOptions)
	word := func(k int) string { return strings.Trim(strings.TrimRight(args[ops[k]], ";"), `"'`) }
	at := 0
	for at < len(ops) && at < len(cmd.words) && word(at) == cmd.words[at] {
		at++
	}
	if at != len(cmd.words) || at == len(ops) {
		return -1, ""
	}
	name, k := word(at), -1
	if at+1 < len(ops) {
		k = ops[at+1]
	}
	if n, v, ok := strings.Cut(name, "="); ok && cmd.equals {
		if !strings.ContainsAny(v, "$`") && credentialName(n) && credentialValue(n, v) {
			return ops[at], " " + strings.Join(cmd.words, " ") + " sets " + n
		}
		return -1, ""
	}
	if k >= 0 && credentialName(name) && literalArgument(args[k]) && credentialValue(name, strings.Trim(strings.TrimRight(args[k], ";"), `"'`)) {
		return k, " " + strings.Join(cmd.words, " ") + " sets " + name
	}
	return -1, ""
}

// operandAfter is the index in args of the n-th operand (from 0) after the operands words, in
// that order, first among a command's operands (r.operands, past options and the values of
// valueOptions); -1 when there is none.
func (r *commandReader) operandAfter(args []string, words []string, valueOptions map[string]bool, n int) int {
	ops := r.operands(args, valueOptions)
	for i, w := range words {
		if i >= len(ops) || strings.Trim(strings.TrimRight(args[ops[i]], ";"), `"'`) != w {
			return -1
		}
	}
	if k := len(words) + n; k < len(ops) {
		return ops[k]
	}
	return -1
}

// poetryConfigPassword reads Poetry's config http-basic.REPO USER PASSWORD (a package index's
// password), and what configSetPassword reads of config KEY VALUE (pypi-token.REPO TOKEN): the
// index in args of the word that holds a literal one and what says so; -1 when there is none.
func (r *commandReader) poetryConfigPassword(args []string) (int, string) {
	if k, why := r.configSetPassword(configSetCommands["poetry"], args); k >= 0 {
		return k, why
	}
	ops := r.operands(args, nil)
	if len(ops) < 4 || strings.Trim(args[ops[0]], `"'`) != "config" ||
		!strings.HasPrefix(strings.Trim(args[ops[1]], `"'`), "http-basic.") {
		return -1, ""
	}
	if k := ops[3]; literalArgument(args[k]) {
		return k, " config http-basic gives a password"
	}
	return -1, ""
}

// tokenOperandReader reads a command that takes a token as its operand after words (cargo
// login TOKEN, snyk auth TOKEN; valueOptions are its options that take the next word): the
// index in args of a literal one and what says so; -1 when there is none (the command then
// prompts or reads its input).
func tokenOperandReader(words []string, valueOptions map[string]bool) func(r *commandReader, args []string) (int, string) {
	return func(r *commandReader, args []string) (int, string) {
		if k := r.operandAfter(args, words, valueOptions, 0); k >= 0 && literalArgument(args[k]) {
			return k, " " + strings.Join(words, " ") + " gives a token"
		}
		return -1, ""
	}
}

// rcloneConnectionStringCredential is the credential-like parameter a remote given as an rclone
// connection string (:sftp,host=h,user=u,pass=VALUE:/path, s3,secret_access_key=VALUE:bucket)
// sets to a literal, "" when it sets none. A word with a shell expansion, or a quote inside
// it, sets none.
func rcloneConnectionStringCredential(w string) string {
	if strings.ContainsAny(w, "$`") {
		return ""
	}
	v := strings.TrimPrefix(unquotedWord(strings.TrimRight(w, ";")), ":")
	comma := strings.IndexByte(v, ',')
	if comma < 0 || strings.ContainsAny(v[:comma], ":/=") || strings.ContainsAny(v, `"'`) {
		return ""
	}
	params := v[comma+1:]
	for params != "" {
		param, rest, _ := strings.Cut(params, ",")
		params = rest
		key, value, ok := strings.Cut(param, "=")
		if !ok {
			continue
		}
		if rest == "" {
			// The last parameter's value ends at the ':' before the path.
			value, _, _ = strings.Cut(value, ":")
		}
		if credentialName(key) && credentialValue(key, value) {
			return key
		}
	}
	return ""
}

// kafkaSCRAMPassword reads kafka-configs' --add-config CONFIGS (or --add-config=CONFIGS), whose
// SCRAM credentials give a user's password: SCRAM-SHA-512=[password=VALUE] or
// SCRAM-SHA-256=[iterations=8192,password=VALUE] (Kafka's documentation, "Creating SCRAM
// Credentials"). It returns the index in args of the word that gives a literal one and what
// says so; -1 when there is none.
func (r *commandReader) kafkaSCRAMPassword(args []string) (int, string) {
	for i := range args {
		r.read++
		v, k, ok := longOptionValue(args, i, "--add-config")
		if !ok {
			// kafka-storage format --add-scram 'SCRAM-SHA-256=[name=NAME,password=VALUE]'
			// (KRaft's initial SCRAM credentials).
			if v, k, ok = longOptionValue(args, i, "--add-scram"); !ok {
				continue
			}
		}
		text, expands := shellText(v)
		for _, m := range kafkaSCRAMPasswordPattern().FindAllStringSubmatch(text, -1) {
			if !(expands && strings.ContainsAny(m[1], "$`")) && credentialValue("", m[1]) {
				return k, "'s --add-config gives a SCRAM password"
			}
		}
	}
	return -1, ""
}

// longOptionValue reads args[i] as the long option name, given its value in the next word
// (--name VALUE) or in the same one (--name=VALUE): the value, and the index in args of the word
// that gives it; ok is false when args[i] is not that option or its value is missing.
func longOptionValue(args []string, i int, name string) (value string, at int, ok bool) {
	switch w := args[i]; {
	case w == name && i+1 < len(args):
		return args[i+1], i + 1, true
	case strings.HasPrefix(w, name+"="):
		return w[len(name)+1:], i, true
	}
	return "", -1, false
}

// kafkaSCRAMPasswordPattern matches the password of a SCRAM credential in kafka-configs'
// --add-config list and kafka-storage's --add-scram: the value of password= inside [...].
var kafkaSCRAMPasswordPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[\[,]password=([^,\]]*)`) })

// rcloneValueOptions are rclone's global options that take the next word as their value.
var rcloneValueOptions = map[string]bool{"--config": true, "--log-file": true, "--log-level": true,
	"--cache-dir": true, "--temp-dir": true}

// rcloneConfigPassword reads rclone config create NAME TYPE [KEY VALUE | KEY=VALUE]..., rclone
// config update NAME [KEY VALUE]... and rclone config password NAME [KEY VALUE]...: the index
// in args of a value set, under a key that names a credential (credentialName: pass,
// secret_access_key, client_secret, account_key), to a literal one, and what says so; -1
// when there is none. (rclone obscures pass in its file; the manifest holds it as written.)
func (r *commandReader) rcloneConfigPassword(args []string) (int, string) {
	if len(args) == 0 {
		return -1, ""
	}
	ops := r.operands(args, rcloneValueOptions)
	word := func(k int) string { return strings.TrimRight(args[ops[k]], ";") }
	first := 0
	switch {
	case len(ops) > 4 && word(0) == "config" && word(1) == "create":
		first = 4
	case len(ops) > 3 && word(0) == "config" && (word(1) == "update" || word(1) == "password"):
		first = 3
	default:
		// A remote given as a connection string, :BACKEND,KEY=VALUE,...:PATH or
		// REMOTE,KEY=VALUE:PATH, whose parameters are the config's (pass, an obscured
		// password, which rclone reveal turns back; secret_access_key, token).
		for _, k := range ops {
			if key := rcloneConnectionStringCredential(args[k]); key != "" {
				return k, "'s connection string sets " + key
			}
		}
		return -1, ""
	}
	for n := first; n < len(ops); n++ {
		key, v, k := strings.Trim(word(n), `"'`), "", ops[n]
		if name, value, ok := strings.Cut(key, "="); ok {
			if strings.ContainsAny(args[ops[n]], "$`") {
				continue
			}
			key, v = name, value
		} else if n+1 < len(ops) {
			n++
			k = ops[n]
			if !literalArgument(args[k]) {
				continue
			}
			v = strings.Trim(word(n), `"'`)
		}
		if v != "" && credentialName(key) && credentialValue(key, v) {
			return k, " config " + word(1) + " sets " + key
		}
	}
	return -1, ""
}

// influxPassword reads the InfluxDB 2 CLI's -p, --password PASSWORD of influx setup and influx
// user create (the long form is a credential flag: flagPassword); elsewhere -p is no password.
func (r *commandReader) influxPassword(args []string) (int, string) {
	if len(args) == 0 {
		return -1, ""
	}
	sub := []string{"setup"}
	if args[0] == "user" {
		sub = []string{"user", "create"}
	}
	if k, _ := r.optionPassword(passwordOption{flag: "-p", separate: true, subcommand: sub}, sqlOption{}, args); k >= 0 {
		return k, " " + strings.Join(sub, " ") + "'s -p gives a password"
	}
	// The v2 CLI's -t, --token of every command (influx bucket list -t TOKEN); --token is
	// a credential flag by its name.
	if k, _ := r.optionPassword(passwordOption{flag: "-t", separate: true}, sqlOption{}, args); k >= 0 {
		return k, "'s -t gives a token"
	}
	return -1, ""
}

// grafanaValueOptions are grafana-cli's global options that take the next word as their value.
var grafanaValueOptions = map[string]bool{"--homepath": true, "--config": true, "--pluginsDir": true,
	"--repo": true, "--pluginUrl": true, "--configOverrides": true}

// grafanaAdminPassword reads grafana-cli admin reset-admin-password PASSWORD (grafana cli
// admin ..., in Grafana 10 and later): the index in args of the new password when it is a
// literal, and what says so; -1 when there is none (--password-from-stdin reads it).
func (r *commandReader) grafanaAdminPassword(args []string) (int, string) {
	ops := r.operands(args, grafanaValueOptions)
	if len(ops) > 0 && args[ops[0]] == "cli" {
		ops = ops[1:]
	}
	if len(ops) > 2 && args[ops[0]] == "admin" && args[ops[1]] == "reset-admin-password" && literalArgument(args[ops[2]]) {
		return ops[2], " admin reset-admin-password gives a password"
	}
	return -1, ""
}

// vaultPassword reads the Vault CLI's commands that give a credential: vault login TOKEN
// (vaultLoginToken) and a secret written with a literal value (vaultWriteSecret).
func (r *commandReader) vaultPassword(args []string) (int, string) {
	if k, why := r.vaultLoginToken(args); k >= 0 {
		return k, why
	}
	if k, why := r.vaultUnsealKey(args); k >= 0 {
		return k, why
	}
	return r.vaultWriteSecret(args)
}

// vaultUnsealKey is the index in args (vault's words after its name) of the unseal key vault
// operator unseal KEY gives (a share of the root key: enough of them unseal Vault, and so
// decrypt all it holds), and what says so; -1 when there is none (no operand prompts for it).
func (r *commandReader) vaultUnsealKey(args []string) (int, string) {
	if len(args) < 2 || args[0] != "operator" || args[1] != "unseal" {
		return -1, ""
	}
	ops := r.operands(args[2:], vaultLoginValueOptions)
	if len(ops) == 0 {
		return -1, ""
	}
	if w := args[2+ops[0]]; w == "-" || !literalArgument(w) {
		return -1, ""
	}
	return 2 + ops[0], " operator unseal gives an unseal key"
}

// vaultWriteValueOptions are vault write's and vault kv put's options that may take the next
// word as their value (Vault's CLI also takes -name=value).
var vaultWriteValueOptions = map[string]bool{"-mount": true, "-cas": true, "-field": true, "-format": true,
	"-address": true, "-namespace": true, "-ca-cert": true, "-ca-path": true, "-client-cert": true, "-client-key": true,
	"-tls-server-name": true, "-wrap-ttl": true, "-mfa": true, "-header": true, "-agent-address": true}

// vaultWriteSecret reads vault write PATH KEY=VALUE... and vault kv put (or patch) PATH
// KEY=VALUE...: the index in args of the first pair whose key names a credential
// (credentialName) and whose value is a literal one, and what says so; -1 when there is none.
// A value @FILE reads a file, and - the input.
func (r *commandReader) vaultWriteSecret(args []string) (int, string) {
	if len(args) == 0 || args[0] != "write" && args[0] != "kv" {
		// Vault's options follow its command.
		return -1, ""
	}
	ops := r.operands(args, vaultWriteValueOptions)
	word := func(k int) string { return strings.TrimRight(args[ops[k]], ";") }
	first := 0
	switch {
	case len(ops) > 2 && word(0) == "write":
		first = 2
	case len(ops) > 3 && word(0) == "kv" && (word(1) == "put" || word(1) == "patch"):
		first = 3
	default:
		return -1, ""
	}
	cmd := word(0)
	if first == 3 {
		cmd += " " + word(1)
	}
	for _, k := range ops[first:] {
		w := strings.TrimRight(args[k], ";")
		name, v, ok := strings.Cut(strings.Trim(w, `"'`), "=")
		if !ok || strings.HasPrefix(v, "@") || v == "-" || strings.ContainsAny(w, "$`") {
			continue
		}
		if credentialName(name) && credentialValue(name, v) {
			return k, " " + cmd + " writes " + name
		}
	}
	return -1, ""
}

// vaultLoginValueOptions are vault login's options that may take the next word as their value
// (Vault's CLI also takes -name=value).
var vaultLoginValueOptions = map[string]bool{"-path": true, "-field": true, "-format": true, "-address": true,
	"-namespace": true, "-ca-cert": true, "-ca-path": true, "-client-cert": true, "-client-key": true,
	"-tls-server-name": true, "-wrap-ttl": true, "-mfa": true, "-header": true, "-agent-address": true}

// vaultLoginToken reads vault login TOKEN: with the token method (no -method), the operand is
// the token itself; "-" reads it from the input, none prompts, and another method's operands
// are its KEY=VALUE pairs (vault login -method=userpass username=orders; a literal password=
// there is a setting, credentialSettings).
func (r *commandReader) vaultLoginToken(args []string) (int, string) {
	if len(args) == 0 || args[0] != "login" {
		return -1, ""
	}
	for _, w := range args[1:] {
		r.read++
		if strings.HasPrefix(strings.TrimLeft(w, "-"), "method") && strings.HasPrefix(w, "-") {
			return -1, ""
		}
	}
	ops := r.operands(args[1:], vaultLoginValueOptions)
	if len(ops) == 0 {
		return -1, ""
	}
	w := args[1+ops[0]]
	if w == "-" || strings.Contains(w, "=") || !literalArgument(w) {
		return -1, ""
	}
	return 1 + ops[0], " login gives a token"
}

// snmpPassphrase is the index in args of the literal passphrase a Net-SNMP application's -A
// (SNMPv3's authentication passphrase) or -X (its privacy passphrase) takes, -1 when there is
// none (getopt: -A VALUE or -AVALUE; -a and -x are the protocols, snmpcmd(1)).
func (r *commandReader) snmpPassphrase(args []string) (int, string) {
	for _, flag := range []string{"-A", "-X"} {
		if k, _ := r.optionPassword(passwordOption{flag: flag, attached: true, separate: true}, sqlOption{}, args); k >= 0 {
			return k, "'s " + flag + " gives an SNMPv3 passphrase"
		}
	}
	return -1, ""
}

// mosquittoPasswdPassword is Mosquitto's mosquitto_passwd -b FILE USER PASSWORD (batch mode,
// -c to create the file; -H and -I take a value, the hash and its iterations; -D deletes a
// user and -U converts a file, and take no password).
func (r *commandReader) mosquittoPasswdPassword(args []string) (int, string) {
	batch := false
	var ops []int
	for i := 0; i < len(args); i++ {
		w := args[i]
		r.read++
		switch {
		case w == "-H" || w == "-I":
			i++
		case w == "-D" || w == "-U":
			return -1, ""
		case len(w) > 1 && w[0] == '-':
			batch = batch || strings.Contains(w, "b")
		default:
			ops = append(ops, i)
		}
	}
	if batch && len(ops) > 2 && literalArgument(args[ops[2]]) {
		return ops[2], " -b gives a password"
	}
	return -1, ""
}

// nmcliSecretProperties are the last parts of NetworkManager's secret properties (nm-settings
// (5): 802-11-wireless-security's psk, wep-key0..3 and leap-password, 802-1x's password, pin
// and private keys' passwords, pppoe's, gsm's and cdma's password, WireGuard's private-key and
// a peer's preshared-key), which nmcli connection add and modify take as PROPERTY VALUE.
var nmcliSecretProperties = map[string]bool{"psk": true, "wep-key0": true, "wep-key1": true, "wep-key2": true,
	"wep-key3": true, "leap-password": true, "password": true, "pin": true, "private-key-password": true,
	"phase2-private-key-password": true, "private-key": true, "preshared-key": true}

// nmcliSecret reads NetworkManager's nmcli: device wifi connect SSID password VALUE (and wifi
// hotspot's password), and a connection's secret property given a value (nmcli connection add
// ... wifi-sec.psk VALUE, modify ... 802-1x.password VALUE, +PROPERTY and -PROPERTY alike).
// --ask and a passwd-file read none.
func (r *commandReader) nmcliSecret(args []string) (int, string) {
	for i := 0; i+1 < len(args); i++ {
		w := strings.ToLower(strings.Trim(args[i], `"'`))
		r.read++
		name := w
		if _, last, ok := strings.Cut(strings.TrimLeft(w, "+-"), "."); ok {
			name = last[strings.LastIndexByte(last, '.')+1:]
			if !nmcliSecretProperties[name] {
				continue
			}
		} else if w != "password" {
			continue
		}
		if literalArgument(args[i+1]) {
			return i + 1, " gives " + w + " a literal"
		}
	}
	return -1, ""
}

// wpaPassphrase reads wpa_supplicant's wpa_passphrase SSID PASSPHRASE, which prints a network
// block with the PSK derived from it (and the passphrase, commented out); with SSID alone it
// reads the passphrase from its input (stdinPasswordReader).
func (r *commandReader) wpaPassphrase(args []string) (int, string) {
	if ops := r.operands(args, nil); len(ops) >= 2 && literalArgument(args[ops[1]]) {
		return ops[1], "'s passphrase is a literal"
	}
	return -1, ""
}

// wpaCLISecrets are the network properties wpa_cli's set_network sets that hold a secret
// (wpa_supplicant.conf(5)): the WPA passphrase or PSK, EAP's and SAE's passwords, the private
// key's passphrase, the WEP keys.
var wpaCLISecrets = map[string]bool{"psk": true, "password": true, "sae_password": true, "private_key_passwd": true,
	"private_key2_passwd": true, "wep_key0": true, "wep_key1": true, "wep_key2": true, "wep_key3": true}

// wpaCLISecret reads wpa_supplicant's wpa_cli: set_network ID NAME VALUE with a secret property
// (wpaCLISecrets; wpa_cli set_network 0 psk '"VALUE"', the value in wpa_supplicant's double
// quotes within the shell's), and the password ID VALUE and passphrase ID VALUE commands, which
// answer a network's EAP password or key passphrase request. The index in args of the word
// that holds a literal one and what says so; -1 when there is none.
func (r *commandReader) wpaCLISecret(args []string) (int, string) {
	for i, w := range args {
		r.read++
		k, what := -1, ""
		switch w = strings.TrimRight(w, ";"); {
		case w == "set_network" && i+3 < len(args) && wpaCLISecrets[strings.Trim(args[i+2], `"'`)]:
			k, what = i+3, "set_network's "+strings.Trim(args[i+2], `"'`)
		case (w == "password" || w == "passphrase") && i+2 < len(args):
			k, what = i+2, w+" command"
		default:
			continue
		}
		text, ok := singleQuotedText(strings.TrimRight(args[k], ";"))
		if ok && literalArgument(strings.Trim(text, `"`)) {
			return k, "'s " + what + " gives a literal secret"
		}
		return -1, ""
	}
	return -1, ""
}

// wpaCLIValueOptions are wpa_cli's options that take the next word as their value (wpa_cli(8):
// -p PATH, -i IFNAME, -a ACTION_FILE, -P PID_FILE, -G INTERVAL).
var wpaCLIValueOptions = map[string]bool{"-p": true, "-i": true, "-a": true, "-P": true, "-G": true}

// wpaCLICommand reports whether a command of wpa_cli's interactive mode (its words f, as its
// input gives them, echo 'set_network 0 psk "VALUE"' | wpa_cli) gives a literal secret:
// set_network ID NAME VALUE with a secret property (wpaCLISecrets), password ID VALUE or
// passphrase ID VALUE. A value with a shell expansion in it holds no literal.
func wpaCLICommand(f []string) bool {
	v := ""
	switch {
	case len(f) >= 4 && f[0] == "set_network" && wpaCLISecrets[f[2]]:
		v = strings.Join(f[3:], " ")
	case len(f) >= 3 && (f[0] == "password" || f[0] == "passphrase"):
		v = strings.Join(f[2:], " ")
	default:
		return false
	}
	return !strings.ContainsAny(v, "$`") && literalArgument(strings.Trim(v, `"`))
}

// freeRDPPassword reads FreeRDP's clients' /p:PASSWORD, /gp:PASSWORD (the gateway's) and
// /pth:HASH (the NT hash a password is, passed as it), quoted or not. /from-stdin reads the
// password from the input.
func freeRDPPassword(r *commandReader, args []string) (int, string) {
	for i, w := range args {
		r.read++
		if !strings.ContainsAny(w, "$`") {
			w = strings.Trim(w, `"'`)
		}
		for _, opt := range []string{"/p:", "/gp:", "/pth:"} {
			if v, ok := strings.CutPrefix(w, opt); ok && literalArgument(v) {
				return i, "'s " + strings.TrimSuffix(opt, ":") + " gives a password"
			}
		}
	}
	return -1, ""
}

// rdesktopPassword reads rdesktop -u USER -p PASSWORD (getopt: -pPASSWORD too); -p - reads
// the password from the input.
func rdesktopPassword(r *commandReader, args []string) (int, string) {
	for i, w := range args {
		r.read++
		v, k := "", i
		switch {
		case w == "-p" && i+1 < len(args):
			v, k = args[i+1], i+1
		case strings.HasPrefix(w, "-p") && len(w) > 2:
			v = w[2:]
		default:
			continue
		}
		if strings.Trim(v, `"'`) != "-" && literalArgument(v) {
			return k, "'s -p gives a password"
		}
	}
	return -1, ""
}

// consulValueOptions are the options of consul's commands that take the next word as their
// value (Go's flag package: -NAME VALUE, -NAME=VALUE, with one dash or two).
var consulValueOptions = map[string]bool{"-http-addr": true, "-token": true, "-token-file": true, "-ca-file": true,
	"-ca-path": true, "-client-cert": true, "-client-key": true, "-tls-server-name": true, "-datacenter": true,
	"-partition": true, "-namespace": true, "--http-addr": true, "--token": true, "--token-file": true,
	"--ca-file": true, "--ca-path": true, "--client-cert": true, "--client-key": true, "--tls-server-name": true,
	"--datacenter": true, "--partition": true, "--namespace": true}

// consulAgentToken reads consul acl set-agent-token TYPE TOKEN, which gives the agent an ACL
// token (the token's SecretID).
func (r *commandReader) consulAgentToken(args []string) (int, string) {
	ops := r.operands(args, consulValueOptions)
	if len(ops) == 4 && args[ops[0]] == "acl" && args[ops[1]] == "set-agent-token" && literalArgument(args[ops[3]]) {
		return ops[3], " acl set-agent-token gives a token"
	}
	return -1, ""
}

// ftpPassword reports whether an ftp client's command (its words f) gives a literal password:
// user USER PASSWORD, pass PASSWORD, quote (literal) PASS PASSWORD, the protocol's own
// command, or lftp's open -u USER,PASSWORD HOST (lftp(1), as lftpPassword reads -c's).
func ftpPassword(f []string) bool {
	if len(f) == 0 {
		return false
	}
	v := ""
	switch cmd := strings.ToLower(f[0]); {
	case cmd == "open":
		user := userPasswordOption{short: "-u", separator: ','}
		for i := range f[1:] {
			if k, _ := userPasswordAt(user, f[1:], i); k >= 0 {
				return true
			}
		}
		return false
	case cmd == "user" && len(f) >= 3:
		if u := strings.ToLower(strings.Trim(f[1], `"'`)); u == "anonymous" || u == "ftp" {
			// Anonymous FTP: the password is, by convention, an e-mail address.
			return false
		}
		v = f[2]
	case cmd == "pass" && len(f) == 2:
		v = f[1]
	case (cmd == "quote" || cmd == "literal") && len(f) == 3 && strings.EqualFold(f[1], "pass"):
		v = f[2]
	default:
		return false
	}
	return !strings.ContainsAny(v, "$`") && credentialValue("", strings.Trim(v, `"'`))
}

// httpieAuthPassword is HTTPie's (and xh's) -a, --auth USER:PASSWORD.
func httpieAuthPassword(r *commandReader, args []string) (int, string) {
	return r.userPassword(userPasswordOption{short: "-a", long: "--auth", separator: ':'}, args)
}

// etcdctl's user add NAME:PASSWORD (etcdctl v3: "user add <user name or user:password>"): a
// literal password after the colon; user add NAME alone prompts, and --new-user-password is a
// credential flag.
func (r *commandReader) etcdctlUserAdd(args []string) (int, string) {
	for i := 0; i+2 < len(args); i++ {
		r.read++
		if args[i] != "user" || args[i+1] != "add" {
			continue
		}
		for k := i + 2; k < len(args); k++ {
			w := args[k]
			if strings.HasPrefix(w, "-") {
				continue
			}
			text, expands := shellText(strings.TrimRight(w, ";"))
			_, password, ok := strings.Cut(text, ":")
			if ok && !(expands && strings.ContainsAny(password, "$`")) && credentialValue("", password) {
				return k, " user add gives a password"
			}
			break
		}
		break
	}
	return -1, ""
}

// redirection reports whether w is a shell redirection (>FILE, 2>&1, < FILE), and whether its
// target is the next word (w is the operator alone: >, >>, 2>, &>, <).
func redirection(w string) (ok, targetNext bool) {
	op := strings.TrimLeft(w, "0123456789&")
	if op == "" || op[0] != '>' && op[0] != '<' || strings.HasPrefix(op, "<<<") {
		return false, false
	}
	return true, strings.Trim(op, "<>|&") == ""
}

// operands are the indices in args of a command's operands: the words that are not options
// (a word that starts with '-'), the values of valueOptions (the options that take the next
// word as their value; an option written -o=VALUE takes none), redirections or their targets.
// After "--" every word but a redirection is an operand.
func (r *commandReader) operands(args []string, valueOptions map[string]bool) []int {
	var ops []int
	options := true
	for i := 0; i < len(args); i++ {
		w := strings.TrimRight(args[i], ";")
		r.read++
		if ok, next := redirection(w); ok {
			if next {
				i++
			}
			continue
		}
		if strings.HasPrefix(w, "<<") {
			// A here-string or here-document: its word is the input's.
			if strings.Trim(w, "<-") == "" {
				i++
			}
			continue
		}
		switch {
		case options && w == "--":
			options = false
		case options && len(w) > 1 && w[0] == '-':
			if valueOptions[w] {
				i++
			}
		default:
			ops = append(ops, i)
		}
	}
	return ops
}

// htpasswdPassword reads Apache's htpasswd (httpd 2.4 support/htpasswd.c, apr_getopt
// "cnmspdBbDiC:r:v"): with -b the password is the last operand, after the file and the user
// (htpasswd -b FILE USER PASSWORD), or after the user alone with -n (htpasswd -nb USER
// PASSWORD). Without -b it prompts, and -i reads it from the input.
func (r *commandReader) htpasswdPassword(args []string) (int, string) {
	batch, noFile := false, false
	var ops []int
	options := true
	for i := 0; i < len(args); i++ {
		w := args[i]
		r.read++
		if ok, next := redirection(w); ok {
			if next {
				i++
			}
			continue
		}
		if !options || len(w) < 2 || w[0] != '-' {
			// apr_getopt stops at the first operand.
			options = false
			ops = append(ops, i)
			continue
		}
		if w == "--" {
			options = false
			continue
		}
	cluster:
		for j := 1; j < len(w); j++ {
			switch w[j] {
			case 'b':
				batch = true
			case 'n':
				noFile = true
			case 'C', 'r':
				// The cost or rounds: the rest of the word, or the next word.
				if j == len(w)-1 {
					i++
				}
				break cluster
			}
		}
	}
	n := 2
	if noFile {
		n = 1
	}
	if batch && len(ops) > n && literalArgument(args[ops[n]]) {
		return ops[n], " -b gives a password"
	}
	return -1, ""
}

// minioClientValueOptions are the MinIO client's options that take the next word as their
// value (mc alias set's --api and --path, and its global options).
var minioClientValueOptions = map[string]bool{"--api": true, "--path": true, "--config-dir": true, "-C": true,
	"--resolve": true, "--custom-header": true, "-H": true, "--limit-upload": true, "--limit-download": true,
	"--lookup": true}

// minioClientPassword reads the MinIO client's mc alias set ALIAS URL ACCESSKEY SECRETKEY (and
// its earlier form, mc config host add): the secret key is the fourth operand after the
// command. Without the keys mc prompts for them.
func (r *commandReader) minioClientPassword(args []string) (int, string) {
	ops := r.operands(args, minioClientValueOptions)
	word := func(k int) string { return strings.TrimRight(args[ops[k]], ";") }
	switch {
	case len(ops) > 5 && word(0) == "alias" && word(1) == "set" && literalArgument(args[ops[5]]):
		return ops[5], " alias set gives a secret key"
	case len(ops) > 6 && word(0) == "config" && word(1) == "host" && word(2) == "add" && literalArgument(args[ops[6]]):
		return ops[6], " config host add gives a secret key"
	case len(ops) > 5 && word(0) == "admin" && word(1) == "user" && word(2) == "add" && literalArgument(args[ops[5]]):
		// mc admin user add ALIAS ACCESSKEY SECRETKEY: a MinIO user's secret key.
		return ops[5], " admin user add gives a secret key"
	}
	return -1, ""
}

// rabbitmqctlValueOptions are rabbitmqctl's options that take the next word as their value.
var rabbitmqctlValueOptions = map[string]bool{"-n": true, "--node": true, "-t": true, "--timeout": true,
	"--erlang-cookie": true, "-p": true, "--vhost": true}

// rabbitmqctlPassword reads rabbitmqctl add_user USER PASSWORD, change_password USER PASSWORD
// and authenticate_user USER PASSWORD (RabbitMQ's CLI: without the password, add_user reads
// it from the input).
// neo4jInitialPassword is the index in args (neo4j-admin's words after its name) of the password
// neo4j-admin [dbms] set-initial-password PASSWORD sets for the neo4j user, and what says so;
// -1 when there is none.
func (r *commandReader) neo4jInitialPassword(args []string) (int, string) {
	ops := r.operands(args, nil)
	for n, k := range ops {
		if strings.TrimRight(args[k], ";") == "set-initial-password" && n+1 < len(ops) {
			if literalArgument(args[ops[n+1]]) {
				return ops[n+1], " set-initial-password gives a password"
			}
			return -1, ""
		}
	}
	return -1, ""
}

// mkpasswdValueOptions are the options of mkpasswd (whois's, Debian's) that take a value.
var mkpasswdValueOptions = map[string]bool{"-m": true, "--method": true, "-S": true, "--salt": true, "-R": true,
	"--rounds": true, "-P": true, "--password-fd": true}

// mkpasswdPassword is the index in args (mkpasswd's words after its name) of the password
// mkpasswd [options] PASSWORD [SALT] hashes (for useradd -p, chpasswd -e), and what says so; -1
// when there is none (without an operand it reads one).
func (r *commandReader) mkpasswdPassword(args []string) (int, string) {
	ops := r.operands(args, mkpasswdValueOptions)
	if len(ops) == 0 || !literalArgument(args[ops[0]]) {
		return -1, ""
	}
	return ops[0], " hashes a password given as its operand"
}

func (r *commandReader) rabbitmqctlPassword(args []string) (int, string) {
	ops := r.operands(args, rabbitmqctlValueOptions)
	if len(ops) < 3 {
		return -1, ""
	}
	switch cmd := strings.TrimRight(args[ops[0]], ";"); cmd {
	case "add_user", "change_password", "authenticate_user":
		if literalArgument(args[ops[2]]) {
			return ops[2], " " + cmd + " gives a password"
		}
	}
	return -1, ""
}

// mysqladminValueOptions are mysqladmin's options that take the next word as their value.
var mysqladminValueOptions = map[string]bool{"-u": true, "-h": true, "-P": true, "-S": true, "-c": true,
	"-i": true, "--user": true, "--host": true, "--port": true, "--socket": true, "--count": true, "--sleep": true}

// mysqladminPassword reads mysqladmin's password command, whose next argument is the new
// password (mysqladmin -u root password NEW; MySQL 8.4 Reference Manual, "mysqladmin"), among
// the commands mysqladmin is given.
func (r *commandReader) mysqladminPassword(args []string) (int, string) {
	ops := r.operands(args, mysqladminValueOptions)
	for k := 0; k+1 < len(ops); k++ {
		if cmd := args[ops[k]]; (cmd == "password" || cmd == "old-password") && literalArgument(args[ops[k+1]]) {
			return ops[k+1], " " + cmd + " gives a password"
		}
	}
	return -1, ""
}

// redisCLIValueOptions are redis-cli's options that take the next word as their value
// (redis-cli --help, Redis 8).
var redisCLIValueOptions = map[string]bool{"-h": true, "-p": true, "-s": true, "-a": true, "-u": true, "-r": true,
	"-i": true, "-n": true, "-d": true, "-D": true, "-t": true, "--user": true, "--pass": true, "--sni": true,
	"--cacert": true, "--cacertdir": true, "--tls-ciphers": true, "--tls-ciphersuites": true, "--cert": true,
	"--key": true, "--rdb": true, "--functions-rdb": true, "--pipe-timeout": true, "--memkeys-samples": true,
	"--pattern": true, "--quoted-pattern": true, "--count": true, "--intrinsic-latency": true, "--eval": true,
	"--lru-test": true}

// redisCLIAuthPassword reads a command redis-cli sends (redisCommandPassword): the index in
// args of the word that gives a literal password, and what says so; -1 when there is none.
func (r *commandReader) redisCLIAuthPassword(args []string) (int, string) {
	ops := r.operands(args, redisCLIValueOptions)
	words := make([]string, len(ops))
	for i, k := range ops {
		words[i] = args[k]
	}
	if k, why := redisCommandPassword(words); k >= 0 {
		return ops[k], " " + why
	}
	return -1, ""
}

// redisCommandPassword reads a Redis command, its words (quoted as a shell or redis-cli's input
// gives them): AUTH PASSWORD or AUTH USER PASSWORD, whose password is the last argument; CONFIG
// SET NAME VALUE [NAME VALUE ...], where requirepass and masterauth (redisPasswordSettings) are
// passwords; and ACL SETUSER NAME RULE..., where >PASSWORD gives the user one (aclPasswords).
// It returns the index of the word that holds a literal password and what says so; -1 when
// there is none.
func redisCommandPassword(words []string) (int, string) {
	if len(words) < 2 {
		return -1, ""
	}
	cmd := strings.ToUpper(strings.Trim(words[0], `"'`))
	switch {
	case cmd == "AUTH":
		if k := min(len(words), 3) - 1; literalArgument(words[k]) {
			return k, "AUTH gives a password"
		}
	case cmd == "CONFIG" && strings.EqualFold(strings.Trim(words[1], `"'`), "set"):
		for k := 2; k+1 < len(words); k += 2 {
			name := strings.ToUpper(strings.Trim(words[k], `"'`))
			if redisPasswordSettings[name] && literalArgument(words[k+1]) {
				return k + 1, "CONFIG SET " + strings.ToLower(name) + " gives a password"
			}
		}
	case cmd == "ACL":
		for _, p := range aclPasswords(words) {
			if literalArgument(p[1]) {
				return len(words) - 1, "ACL SETUSER gives a user's password"
			}
		}
	}
	return -1, ""
}

// opensslPassOptions are OpenSSL's options that take a pass phrase argument (openssl-passphrase-options(1),
// OpenSSL 3.5): pass:PASSWORD is the password itself, env:VAR, file:PATH, fd:N and stdin say
// where to read it.
var opensslPassOptions = map[string]bool{"-passin": true, "-passout": true, "-pass": true, "-password": true}

// opensslKeyOptions are OpenSSL's options whose value is a key itself (OpenSSL 3.5): dgst's
// -hmac KEY, s_client's and s_server's -psk HEX (a TLS pre-shared key), and enc's -K HEX (the
// cipher's raw key; its -iv is no secret).
var opensslKeyOptions = map[string]bool{"-hmac": true, "-psk": true}

// opensslPasswdValueOptions are openssl passwd's options that take the next word as their
// value: the rest are switches, and its operands are the passwords to hash (openssl-passwd(1),
// OpenSSL 3.5; -in FILE and -stdin read them instead).
var opensslPasswdValueOptions = map[string]bool{"-salt": true, "-in": true, "-rand": true, "-writerand": true,
	"-provider": true, "-provider-path": true, "-propquery": true}

// opensslPassword reads OpenSSL's pass phrase arguments (-passin, -passout, -pass, -password
// pass:PASSWORD; OpenSSL's options parser also takes -passout=pass:PASSWORD, and a leading --),
// openssl enc's -k PASSWORD (also given as the cipher's command: openssl aes-256-cbc -k), the
// keys of opensslKeyOptions and enc's -K, mac's -macopt key:KEY and hexkey:HEX, and openssl
// passwd's operands, the passwords it hashes (openssl passwd -6 PASSWORD).
func (r *commandReader) opensslPassword(args []string) (int, string) {
	if len(args) > 0 && args[0] == "passwd" {
		for _, k := range r.operands(args[1:], opensslPasswdValueOptions) {
			if literalArgument(args[1+k]) {
				return 1 + k, " passwd hashes a password given as an argument"
			}
		}
		return -1, ""
	}
	enc := len(args) > 0 && opensslCipherCommand(args[0])
	for i, w := range args {
		r.read++
		if !strings.HasPrefix(w, "-") {
			continue
		}
		name, value, attached := strings.Cut(strings.TrimPrefix(w, "-"), "=")
		name = "-" + strings.TrimPrefix(name, "-")
		k := i
		if !attached {
			if i+1 == len(args) {
				break
			}
			value, k = args[i+1], i+1
		}
		switch {
		case opensslPassOptions[name]:
			unquoted := strings.Trim(value, `"'`)
			if strings.HasPrefix(unquoted, "pass:") && !strings.ContainsAny(value, "$`") && literalArgument(unquoted[len("pass:"):]) {
				return k, "'s " + name + " pass: gives a password"
			}
		case name == "-k" && enc:
			if literalArgument(value) {
				return k, "'s " + name + " gives a password"
			}
		case opensslKeyOptions[name] || name == "-K" && enc:
			if literalArgument(value) {
				return k, "'s " + name + " gives a key"
			}
		case name == "-macopt":
			unquoted := strings.Trim(value, `"'`)
			opt, key, _ := strings.Cut(unquoted, ":")
			if (opt == "key" || opt == "hexkey") && !strings.ContainsAny(value, "$`") && literalArgument(key) {
				return k, "'s -macopt " + opt + ": gives a key"
			}
		}
	}
	return -1, ""
}

// opensslCipherCommand reports whether an openssl command is enc, or a cipher's name that runs
// it (aes-256-cbc, des3, bf, chacha20).
func opensslCipherCommand(cmd string) bool {
	if cmd == "enc" {
		return true
	}
	for _, c := range []string{"aes", "aria", "bf", "camellia", "cast", "chacha", "des", "idea", "rc2", "rc4", "rc5", "seed", "sm4"} {
		if strings.HasPrefix(cmd, c) {
			return true
		}
	}
	return false
}

// keytoolPasswordOptions are the JDK keytool's and jarsigner's options whose next argument is
// a password (keytool's -new is the new one of -storepasswd and -keypasswd). Their forms
// -storepass:env VAR and -storepass:file PATH read it from the environment or a file.
var keytoolPasswordOptions = map[string]bool{"-storepass": true, "-keypass": true, "-srcstorepass": true,
	"-deststorepass": true, "-srckeypass": true, "-destkeypass": true, "-new": true}

// keytoolPassword reads the JDK keytool's and jarsigner's password options (keytoolPasswordOptions).
// The JDK's trust store (keytool -cacerts, or a keystore file named cacerts) is given its
// published default, changeit, as no secret: it holds the public certificates of certificate
// authorities, and its password only guards their integrity (importing a CA's certificate into it
// is common in an init container). Any other password for it, and changeit for any other
// keystore, is a literal password.
func (r *commandReader) keytoolPassword(args []string) (int, string) {
	trustStore := false
	for _, w := range args {
		r.read++
		trustStore = trustStore || w == "-cacerts" || path.Base(strings.Trim(w, `"'`)) == "cacerts"
	}
	for i := 0; i+1 < len(args); i++ {
		r.read++
		v := args[i+1]
		if keytoolPasswordOptions[args[i]] && literalArgument(v) && !(trustStore && strings.Trim(strings.TrimRight(v, ";"), `"'`) == "changeit") {
			return i + 1, "'s " + args[i] + " gives a password"
		}
	}
	return -1, ""
}

// inputForm is how a program reads a password from its input.
type inputForm int

const (
	// noPasswordInput: the program reads no password from its input.
	noPasswordInput inputForm = iota
	// passwordLine: the input's first line is the password (passwd --stdin,
	// docker login --password-stdin).
	passwordLine
	// userLines: each line is USER:PASSWORD (chpasswd).
	userLines
	// redisCommands: each line is a Redis command, and AUTH [USER] PASSWORD gives one
	// (redis-cli without a command reads its commands from its input).
	redisCommands
	// sqlStatements: SQL (or CQL) statements, which may set a password (sqlPassword): a
	// database client's input (sqlClients), or a .sql file's.
	sqlStatements
	// mongoScript: the MongoDB shell's JavaScript, which may give a user's password
	// (mongoShellPassword).
	mongoScript
	// passwordFileLines: the lines of a password file (passwordFile: .pgpass, .netrc) a
	// here-document writes.
	passwordFileLines
	// ftpCommands: an ftp client's commands, and user USER PASSWORD, pass PASSWORD and quote
	// (literal) PASS PASSWORD give one (ftpPassword).
	ftpCommands
	// expectScript: an Expect script, which may answer a password prompt with a literal
	// (expectPassword).
	expectScript
	// wpaCommands: wpa_cli's interactive commands, and set_network ID NAME VALUE with a
	// secret property, password ID VALUE and passphrase ID VALUE give one (wpaCLICommand).
	wpaCommands
	// zooKeeperCommands: a ZooKeeper shell's commands, and addauth digest USER:PASSWORD gives
	// one (zooKeeperAuth).
	zooKeeperCommands
	// db2Commands: Db2's command line processor's commands, and CONNECT TO DB USER USER USING
	// PASSWORD gives one (db2Words).
	db2Commands
	// shellCommands: a shell's script (bash <<< "...", ssh HOST <<< "..."), whose commands
	// may give a password (script).
	shellCommands
	// settingLines: NAME=VALUE lines, and a credential-like NAME set to a literal gives one
	// (credentialSettings: git credential approve's password=VALUE).
	settingLines
)

// expectSend matches an Expect script's send (or exp_send) command and its options, before
// the text it sends.
var expectSend = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s;{\[])(?:exp_)?send(?:\s+-(?:-|s|h|raw|null|break|i\s+\S+))*\s+`)
})

// expectPromptAction matches the end of a pattern-action pair of an expect block whose
// pattern is a password or passphrase prompt, before its action's send ("*assword*" { send).
var expectPromptAction = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(?:assword|asswd|assphrase)[^"\n]*"\s*\{\s*$`) })

// expectNotPrompts are words of an expect pattern about a password that is no prompt for one
// (expect "Password changed"; send "exit\r").
var expectNotPrompts = []string{"chang", "updat", "incorrect", "wrong", "invalid", "denied", "success", "expired", "fail"}

// expectPrompted reports whether the text of an Expect script before a send (from the send
// before it) waits for a password or passphrase prompt: an expect command whose pattern is one
// (expect "Enter password:", expect -re "(P|p)assword: $"), or a pattern-action pair of an
// expect block whose send is the action ("*assword*" { send ...).
func expectPrompted(before string) bool {
	if expectPromptAction().MatchString(before) {
		return true
	}
	for _, st := range strings.FieldsFunc(before, func(r rune) bool { return r == ';' || r == '\n' }) {
		st = strings.ToLower(strings.Trim(st, " \t{}"))
		cmd, rest, _ := strings.Cut(st, " ")
		if cmd != "expect" && cmd != "expect_before" && cmd != "expect_after" {
			continue
		}
		if (strings.Contains(rest, "assword") || strings.Contains(rest, "asswd") || strings.Contains(rest, "assphrase")) &&
			!slices.ContainsFunc(expectNotPrompts, func(w string) bool { return strings.Contains(rest, w) }) {
			return true
		}
	}
	return false
}

// expectPassword says whether an Expect script (expect -c SCRIPT, a here-document expect
// reads, a ConfigMap's *.exp or #!/usr/bin/expect script) answers a password prompt with a
// literal: a send whose text, its \r or \n taken off, is a literal, after an expect whose
// pattern is a password or passphrase prompt and before any other send (expect "Password:";
// send "VALUE\r", or expect "assword:" { send "VALUE\r" }). A text with a Tcl variable or
// command ($pw, $env(PW), [gets stdin]) is none.
func expectPassword(script string) bool {
	if !strings.Contains(script, "send") {
		return false
	}
	// Each send is looked for after the text the one before it sends (a send inside that text
	// is none), so every byte is read once.
	for pos := 0; pos < len(script); {
		m := expectSend().FindStringIndex(script[pos:])
		if m == nil {
			return false
		}
		before, at := script[pos:pos+m[0]], pos+m[1]
		text, n := expectSentText(script[at:])
		if n == 0 {
			return false
		}
		pos = at + n
		if expectPrompted(before) && !strings.ContainsAny(text, "$[") && credentialValue("", text) {
			return true
		}
	}
	return false
}

// expectSentText is the text an Expect send command sends, at the start of rest, and the bytes
// of rest it takes (0 when it takes none: a quote or brace nothing closes): a word in double
// quotes (its \r, \n at the end taken off) or braces, or a bare word.
func expectSentText(rest string) (string, int) {
	if rest == "" {
		return "", 0
	}
	var text string
	n := 0
	switch rest[0] {
	case '"':
		end := closingQuote(rest, 0)
		if end == 0 || rest[end] != '"' {
			return "", 0
		}
		text, n = rest[1:end], end+1
	case '{':
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", 0
		}
		text, n = rest[1:end], end+1
	default:
		end := strings.IndexAny(rest, " \t\n;}")
		if end < 0 {
			end = len(rest)
		}
		text, n = rest[:end], max(end, 1)
	}
	for _, s := range []string{`\r`, `\n`, "\r", "\n"} {
		text = strings.TrimSuffix(text, s)
	}
	return text, n
}

// expectScriptKey reports whether a ConfigMap key holds an Expect script: named *.exp, or its
// #! line runs expect.
func expectScriptKey(k, v string) bool {
	if strings.HasSuffix(strings.ToLower(k), ".exp") {
		return true
	}
	v = strings.TrimLeft(v, " \t\r\n")
	if !strings.HasPrefix(v, "#!") {
		return false
	}
	first, _, _ := strings.Cut(v, "\n")
	return slices.ContainsFunc(strings.Fields(strings.TrimPrefix(first, "#!")), func(f string) bool { return path.Base(f) == "expect" })
}

// stdinFiles are the names of a process's standard input as a file.
var stdinFiles = map[string]bool{"/dev/stdin": true, "/dev/fd/0": true, "/proc/self/fd/0": true, "-": true}

// stdinPasswordReader says how the program prog, given args, reads a password from its input
// (inputForm): chpasswd, passwd (with --stdin or without: passwdNoInput), kinit, smbpasswd -s,
// htpasswd -i, openssl's stdin, gpg --passphrase-fd 0, the keystores' add -x, the registry
// clients' login --password-stdin, gh auth login --with-token, vault login -, cryptsetup
// without a key file, redis-cli (valkey-cli) given no command to send, whose input is its
// commands, and the database clients, whose input is SQL (sqlClients). sudo -S is read
// where sudo wraps its command (programPassword).
func (r *commandReader) stdinPasswordReader(prog string, args []string) inputForm {
	// Only the programs whose arguments are looked at count them (operands counts its own).
	switch prog {
	case "chpasswd":
		return userLines
	case "kinit":
		// MIT's and Heimdal's kinit read the password from their input when it is no
		// terminal (kinit PRINCIPAL; -k uses a keytab instead).
		r.read += len(args)
		if !slices.Contains(args, "-k") && !slices.Contains(args, "-kt") && !slices.Contains(args, "--keytab") {
			return passwordLine
		}
		return noPasswordInput
	case "smbpasswd", "htpasswd", "openssl", "gpg", "gpg2":
		// smbpasswd -s, htpasswd -i, openssl's -passin stdin (-passout, -pass) and gpg
		// --passphrase-fd 0 read the password from their input.
		r.read += len(args)
		for i, w := range args {
			// An option's value is attached (-passin=stdin) or the next word (-passin stdin).
			if stdinPasswordOption(prog, w) || i > 0 && stdinPasswordOption(prog, args[i-1]+"="+w) {
				return passwordLine
			}
		}
		return noPasswordInput
	case "elasticsearch-keystore", "opensearch-keystore", "kibana-keystore", "logstash-keystore":
		// elasticsearch-keystore add -x bootstrap.password (--stdin): the setting's value,
		// a secure setting, is the input's first line.
		r.read += len(args)
		if slices.Contains(args, "add") && (slices.Contains(args, "-x") || slices.Contains(args, "--stdin")) {
			return passwordLine
		}
		return noPasswordInput
	case "passwd":
		// passwd reads the new password (and its repetition) from its input when that is
		// no terminal: BusyBox's (Alpine) does, shadow's through PAM's conversation does,
		// and --stdin (Red Hat's) says so. echo -e 'VALUE\nVALUE' | passwd root is a
		// literal password in any case. Locking, unlocking, deleting, expiring and the
		// status and aging options read none.
		r.read += len(args)
		for _, w := range args {
			if passwdNoInput[w] {
				return noPasswordInput
			}
		}
		return passwordLine
	case "cryptsetup":
		// cryptsetup reads the passphrase from its input when that is no terminal (echo -n
		// VALUE | cryptsetup luksOpen DEVICE NAME), unless a key file other than the input
		// (--key-file -, -d -) is given or the action takes none (close, status, ...).
		r.read += len(args)
		for i, w := range args {
			if cryptsetupNoPassphrase[w] {
				return noPasswordInput
			}
			file, ok := "", false
			switch {
			case (w == "--key-file" || w == "-d") && i+1 < len(args):
				file, ok = args[i+1], true
			case strings.HasPrefix(w, "--key-file="):
				file, ok = w[len("--key-file="):], true
			case strings.HasPrefix(w, "-d") && len(w) > 2 && w[2] != '-':
				file, ok = w[2:], true
			}
			if ok && strings.Trim(file, `"'`) != "-" {
				return noPasswordInput
			}
		}
		return passwordLine
	case "sshfs":
		// sshfs -o password_stdin reads the password from its input.
		r.read += len(args)
		if slices.ContainsFunc(args, func(w string) bool { return strings.Contains(w, "password_stdin") }) {
			return passwordLine
		}
		return noPasswordInput
	case "git", "git-credential-store", "git-credential-cache":
		// git credential approve (store, reject; a helper's store) reads protocol=,
		// host=, username= and password= lines from its input.
		r.read += len(args)
		if slices.ContainsFunc(args, func(w string) bool { return w == "approve" || w == "store" || w == "reject" }) &&
			(prog != "git" || slices.ContainsFunc(args, func(w string) bool { return strings.HasPrefix(w, "credential") })) {
			return settingLines
		}
		return noPasswordInput
	case "gh":
		// gh auth login --with-token reads the token from its input.
		r.read += len(args)
		if slices.Contains(args, "auth") && slices.Contains(args, "login") && slices.Contains(args, "--with-token") {
			return passwordLine
		}
		return noPasswordInput
	case "vault":
		// vault login - reads the token from its input (the token method's; another
		// method's - is one of its fields).
		r.read += len(args)
		if slices.Contains(args, "login") && slices.Contains(args, "-") &&
			!slices.ContainsFunc(args, func(w string) bool { return strings.HasPrefix(w, "-method") && !strings.HasSuffix(w, "=token") }) {
			return passwordLine
		}
		return noPasswordInput
	case "wpa_passphrase":
		// wpa_passphrase SSID reads the passphrase from its input.
		if len(r.operands(args, nil)) == 1 {
			return passwordLine
		}
		return noPasswordInput
	case "expect":
		// expect without a script file or -c reads its script from its input.
		r.read += len(args)
		if len(r.operands(args, map[string]bool{"-c": true, "-D": true})) == 0 && !slices.Contains(args, "-c") {
			return expectScript
		}
		return noPasswordInput
	case "wpa_cli":
		// wpa_cli without a command reads its commands from its input (interactive mode).
		if len(r.operands(args, wpaCLIValueOptions)) == 0 {
			return wpaCommands
		}
		return noPasswordInput
	case "zkCli.sh", "zkCli", "zookeeper-shell.sh", "zookeeper-shell":
		// Without a command, a ZooKeeper shell reads its commands from its input (zkCli.sh
		// -server HOST; Kafka's zookeeper-shell.sh HOST).
		host := 0
		if strings.HasPrefix(prog, "zookeeper-shell") {
			host = 1
		}
		if len(r.operands(args, zooKeeperValueOptions)) <= host {
			return zooKeeperCommands
		}
		return noPasswordInput
	case "db2":
		// db2 without a command (its options -t, -v, +p aside) reads its commands from its
		// input.
		for _, k := range r.operands(args, nil) {
			if !strings.HasPrefix(args[k], "+") {
				return noPasswordInput
			}
		}
		return db2Commands
	case "ftp", "pftp", "tnftp", "netkit-ftp", "lftp":
		// The ftp clients read their commands from their input: user USER PASSWORD, pass
		// PASSWORD, quote PASS PASSWORD.
		return ftpCommands
	case "mysqld", "mariadbd":
		// mysqld --init-file=/dev/stdin runs the SQL of its input at start.
		r.read += len(args)
		for i, w := range args {
			file, ok := strings.CutPrefix(w, "--init-file=")
			if !ok && w == "--init-file" && i+1 < len(args) {
				file, ok = args[i+1], true
			}
			if ok && stdinFiles[strings.Trim(file, `"'`)] {
				return sqlStatements
			}
		}
		return noPasswordInput
	case "redis-cli", "valkey-cli":
		if len(r.operands(args, redisCLIValueOptions)) == 0 && !slices.Contains(args, "-x") && !slices.Contains(args, "--pipe") {
			return redisCommands
		}
		return noPasswordInput
	}
	if _, ok := sqlClients[prog]; ok {
		return sqlStatements
	}
	if mongoShells[prog] {
		return mongoScript
	}
	if opt, ok := programPasswordOptions[prog]; ok && len(opt.subcommand) > 0 {
		r.read += len(args)
		if slices.Contains(args, "--password-stdin") {
			return passwordLine
		}
	}
	return noPasswordInput
}

// cryptsetupNoPassphrase are cryptsetup's actions that read no passphrase.
var cryptsetupNoPassphrase = map[string]bool{"close": true, "luksClose": true, "remove": true, "status": true,
	"isLuks": true, "luksUUID": true, "luksDump": true, "erase": true, "luksErase": true, "benchmark": true,
	"config": true, "convert": true, "luksHeaderBackup": true, "luksHeaderRestore": true, "repair": true,
	"tcryptDump": true, "bitlkDump": true, "fvault2Dump": true, "token": true}

// passwdNoInput are the options of passwd with which it reads no password: it locks, unlocks,
// deletes or expires one, shows its status, or sets its aging.
var passwdNoInput = map[string]bool{"-l": true, "--lock": true, "-u": true, "--unlock": true, "-d": true,
	"--delete": true, "-e": true, "--expire": true, "-S": true, "--status": true, "-n": true, "--mindays": true,
	"-x": true, "--maxdays": true, "-w": true, "--warndays": true, "-i": true, "--inactive": true}

// stdinPasswordOption reports whether w, an argument of prog, makes it read a password from
// its input: smbpasswd's -s (also in a cluster of options, -sa), htpasswd's -i (-ic),
// openssl's -passin=stdin (and -passout, -pass), gpg's --passphrase-fd=0.
func stdinPasswordOption(prog, w string) bool {
	switch prog {
	case "smbpasswd", "htpasswd":
		flag := byte('s')
		if prog == "htpasswd" {
			flag = 'i'
		}
		return len(w) > 1 && w[0] == '-' && w[1] != '-' && !strings.Contains(w, "=") && strings.IndexByte(w, flag) > 0
	case "openssl":
		name, v, ok := strings.Cut(w, "=")
		return ok && v == "stdin" && opensslPassOptions["-"+strings.TrimLeft(name, "-")]
	}
	return w == "--passphrase-fd=0"
}

// pipedPassword is the index in from (the words after the program fromProg, which pipes its
// output to prog with args) of the literal password echo or printf gives a program that reads
// one from its input (stdinPasswordReader), and what says so; -1 when there is none.
func (r *commandReader) pipedPassword(fromProg string, from []string, prog string, args []string) (int, string) {
	if prog == "crontab" {
		return r.cronInput(fromProg, from, args)
	}
	if file := writtenFile(prog, args); prog == "tee" && file != "" {
		// echo VALUE | tee /etc/app/db_password (writtenCredential).
		if k, text := r.printedText(fromProg, from); k >= 0 && writtenCredentialText(file, strings.ReplaceAll(text, `\n`, "\n")) {
			return k, fromProg + " writes a password to " + file
		}
		return -1, ""
	}
	if key := stdinSecretKey(prog, args); key != "" {
		// echo -n VALUE | kubectl create secret generic db --from-file=password=/dev/stdin:
		// the key's value is the input.
		r.read += len(args)
		if k, text := r.printedText(fromProg, from); k >= 0 && credentialFileText(key, text) {
			return k, fromProg + " gives " + prog + " the secret's " + key
		}
		return -1, ""
	}
	if form, remote := r.sshRemoteReader(prog, args); form != noPasswordInput {
		// echo VALUE | ssh HOST 'sudo -S COMMAND', echo USER:VALUE | ssh HOST chpasswd: the
		// input is the remote command's. Else it is read as a script, below.
		if k, text := r.printedText(fromProg, from); k >= 0 && literalInput(text, form) {
			return k, remote + " on " + prog + "'s remote host reads a password from " + fromProg
		}
	}
	form := r.stdinPasswordReader(prog, args)
	if form == noPasswordInput && r.readsScript(prog, args) {
		// echo "mysql -uroot -pVALUE" | bash, printf '...\n' | sh, echo '...' | ssh HOST: the
		// text, its \n escapes as lines, is the script the shell runs (as a here-string's is).
		if k, text := r.printedText(fromProg, from); k >= 0 && r.script(strings.ReplaceAll(text, `\n`, "\n")) != "" {
			return k, "the script " + fromProg + " pipes into " + prog + " gives a literal password"
		}
		return -1, ""
	}
	if form == noPasswordInput {
		return -1, ""
	}
	k, text := r.printedText(fromProg, from)
	if k >= 0 && literalInput(text, form) {
		return k, prog + " reads a password from " + fromProg
	}
	return -1, ""
}

// stdinSecretKey is the key of the Secret that kubectl (or oc) create secret, given args, takes
// from its input (--from-file=KEY=/dev/stdin, or --from-file KEY=/dev/stdin), "" when none.
func stdinSecretKey(prog string, args []string) string {
	if prog != "kubectl" && prog != "oc" || !slices.Contains(args, "secret") {
		return ""
	}
	for i, w := range args {
		v, ok := strings.CutPrefix(w, "--from-file=")
		if !ok && w == "--from-file" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if key, file, found := strings.Cut(strings.Trim(v, `"'`), "="); ok && found && file == "/dev/stdin" {
			return key
		}
	}
	return ""
}

// cronInput is the index in from (the words after the program fromProg, which pipes its output
// to crontab with args) of the crontab lines echo or printf gives crontab (crontab -, or no
// file operand: it reads its input) whose command gives a literal password, and what says so;
// -1 when there is none. Text echoed within such lines is not read again as crontab's (a
// crontab line that pipes to crontab).
func (r *commandReader) cronInput(fromProg string, from []string, args []string) (int, string) {
	if r.crontab || len(r.operands(args, crontabValueOptions)) > 0 && !slices.Contains(args, "-") {
		return -1, ""
	}
	k, text := r.printedText(fromProg, from)
	if k < 0 {
		return -1, ""
	}
	r.crontab = true
	defer func() { r.crontab = false }()
	for line := range strings.SplitSeq(strings.ReplaceAll(text, `\n`, "\n"), "\n") {
		words := shellWords(line)
		if cronCommand(words) == 0 {
			continue
		}
		if _, why := r.programPassword(words); why != "" {
			return k, "crontab is given a line whose command gives a password (" + why + ")"
		}
	}
	return -1, ""
}

// crontabValueOptions are crontab's options that take the next word as their value.
var crontabValueOptions = map[string]bool{"-u": true, "-c": true}

// cronNicknames are the schedules cron (Vixie cron, cronie, busybox crond) takes instead of
// five time fields.
var cronNicknames = map[string]bool{"@reboot": true, "@yearly": true, "@annually": true, "@monthly": true,
	"@weekly": true, "@daily": true, "@midnight": true, "@hourly": true}

// cronCommand is the index of the first word of a crontab line's command (words are the line's),
// 0 when the line is no crontab entry: after the schedule, five time fields (crontab(5): numbers,
// *, ranges, lists, steps, month and day names) or an @nickname, and in a system crontab
// (/etc/crontab, /etc/cron.d) a user's name. A word after the schedule is taken for the user
// when it could be one, names no program this file reads, and the next word is no option (0 2 *
// * * root mysqldump -p...; not 0 2 * * * mysqldump -uroot -p..., nor rabbitmqctl add_user).
func cronCommand(words []string) int {
	at := 0
	switch {
	case len(words) > 1 && cronNicknames[strings.ToLower(words[0])]:
		at = 1
	case len(words) > 5:
		for ; at < 5; at++ {
			if !cronField(words[at]) {
				return 0
			}
		}
	default:
		return 0
	}
	if at+1 < len(words) && cronUser(words[at]) && !commandSeparators[words[at+1]] && !strings.HasPrefix(words[at+1], "-") {
		at++
	}
	return at
}

// cronField reports whether w is a crontab time field: digits, *, ?, and , - / between them,
// or a day's or month's three-letter name (MON-FRI, JAN), with at least one digit, * or name.
func cronField(w string) bool {
	if w == "" || len(w) > 64 {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= '0' && c <= '9', c == '*', c == '?', c == ',', c == '-', c == '/':
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			// A name: three letters, alone in its list item or range end.
			j := i
			for j < len(w) && (w[j] >= 'A' && w[j] <= 'Z' || w[j] >= 'a' && w[j] <= 'z') {
				j++
			}
			if j-i != 3 {
				return false
			}
			i = j - 1
		default:
			return false
		}
	}
	return strings.Trim(w, ",-/") != ""
}

// cronUser reports whether w, the word after a crontab line's schedule, could be a system
// crontab's user (a POSIX user name) rather than its program: no path, no assignment, and not
// a program whose password this file reads or a shell.
func cronUser(w string) bool {
	if w == "" || !(w[0] >= 'a' && w[0] <= 'z' || w[0] == '_') {
		return false
	}
	for i := 0; i < len(w); i++ {
		if c := w[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	_, option := programPasswordOptions[w]
	_, reader := programPasswordReaders[w]
	return !option && !reader && !shellPrograms[w] && !textPrograms[w] && !commandPrefixes[w]
}

// hereStringPassword is the index in args of a here-string (<<< WORD) that gives prog, a
// program that reads a password from its input (stdinPasswordReader), a literal password; -1
// when there is none.
func (r *commandReader) hereStringPassword(prog string, args []string) int {
	return r.hereStringInput(args, func() inputForm {
		if form := r.stdinPasswordReader(prog, args); form != noPasswordInput {
			return form
		}
		if form, _ := r.sshRemoteReader(prog, args); form != noPasswordInput {
			// ssh HOST 'sudo -S COMMAND' <<< VALUE: the remote command's input.
			return form
		}
		if r.readsScript(prog, args) {
			// bash <<< "mysql -pVALUE", ssh HOST <<< '...': the shell's script.
			return shellCommands
		}
		return noPasswordInput
	})
}

// hereStringInput is the index in args (a command's words after its program) of the here-string
// that gives a program reading its input in the form reader says a literal password, -1 when
// there is none. The words are read to the command's end (a separator, or a word that ends in
// ';'), and reader is asked only when there is a here-string.
func (r *commandReader) hereStringInput(args []string, reader func() inputForm) int {
	for i, w := range args {
		r.read++
		if commandSeparators[w] {
			return -1
		}
		if !strings.HasPrefix(w, "<<<") {
			if strings.HasSuffix(w, ";") {
				return -1
			}
			continue
		}
		form := reader()
		k, text := i, strings.TrimPrefix(w, "<<<")
		if text == "" && i+1 < len(args) {
			k, text = i+1, args[i+1]
		}
		if t, _ := shellText(text); form == noPasswordInput && sqlContent("", t) {
			// SQL given to a program not known to read it (mysqld --init-file=/dev/stdin,
			// a function of the script): a statement that sets a literal password is one
			// whoever reads it, as a here-document's is.
			form = sqlStatements
		}
		if form == noPasswordInput {
			return -1
		}
		if form == shellCommands {
			// The script is the word without its quotes, shorter than the line that holds
			// it.
			if t, _ := shellText(strings.TrimSuffix(text, ";")); r.script(t) != "" {
				return k
			}
			return -1
		}
		if form == sqlStatements {
			// A statement has quotes of its own: the word's are taken off whole.
			if t, expands := shellText(text); sqlPassword(t, expands) != "" {
				return k
			}
			return -1
		}
		if !strings.ContainsAny(text, "$`") && literalInput(strings.Trim(text, `"'`), form) {
			return k
		}
		return -1
	}
	return -1
}

// printedText is what echo or printf (prog, with args) prints, its words unquoted and joined
// by a blank, and the index in args of its first word; -1 for any other program, or text that
// holds a shell expansion. A printf format's %s and %b conversions are its next arguments
// (printfText), and a format with any other conversion is not read.
func (r *commandReader) printedText(prog string, args []string) (int, string) {
	start := 0
	switch prog {
	case "echo":
		for start < len(args) && len(args[start]) > 1 && strings.Trim(args[start], "-neE") == "" && args[start][0] == '-' {
			start++
		}
	case "printf":
		if len(args) == 0 {
			return -1, ""
		}
		if strings.Contains(args[0], "%") {
			return r.printfText(args)
		}
	default:
		return -1, ""
	}
	if start == len(args) {
		return -1, ""
	}
	var b strings.Builder
	for i, w := range args[start:] {
		r.read++
		if text, ok := ansiCText(w); ok {
			// echo $'root:VALUE': the shell expands nothing in it.
			w = text
		} else if strings.ContainsAny(w, "$`") {
			return -1, ""
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.Trim(strings.TrimRight(w, ";"), `"'`))
	}
	return start, b.String()
}

// printfText is what printf prints with args, its format first and its arguments after: each
// %s or %b of the format is the next argument, unquoted, and %% is '%'. Arguments past the
// format's conversions are not printed (printf would print the format again for them), so the
// text is at most the format and the arguments long. -1 when the format has another
// conversion (%d, %x, %5s) or a word holds a shell expansion; else 1, the index of the first
// argument (0 when there is none: the format is the text).
func (r *commandReader) printfText(args []string) (int, string) {
	format := strings.Trim(args[0], `"'`)
	var b strings.Builder
	next := 1
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(format) {
			return -1, ""
		}
		i++
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's', 'b':
			if next < len(args) {
				w := args[next]
				if strings.ContainsAny(w, "$`") {
					return -1, ""
				}
				b.WriteString(strings.Trim(strings.TrimRight(w, ";"), `"'`))
				next++
			}
		default:
			return -1, ""
		}
	}
	// The format is read once, byte by byte, and each argument it prints once.
	r.read += next
	if strings.ContainsAny(format, "$`") {
		return -1, ""
	}
	return min(1, len(args)-1), b.String()
}

// literalInput reports whether text, a program's input read in form, gives a literal password:
// its first line (passwordLine), the password after the first ':' of one of its lines
// (userLines: USER:PASSWORD), or the last argument of an AUTH command of one of its lines
// (redisCommands: AUTH PASSWORD, AUTH USER PASSWORD), or a statement of it that sets one
// (sqlStatements: sqlPassword; mongoScript: mongoShellPassword). A line ends at a newline or at the \n escape of echo -e and
// printf.
func literalInput(text string, form inputForm) bool {
	switch form {
	case settingLines:
		return len(credentialSettings(strings.ReplaceAll(text, `\n`, "\n"), 1)) > 0
	case sqlStatements:
		return sqlPassword(text, false) != ""
	case mongoScript:
		return mongoShellPassword(text, false) != ""
	}
	text = strings.ReplaceAll(text, `\n`, "\n")
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, `\r`))
		switch form {
		case passwordLine:
			return credentialValue("", line)
		case userLines:
			if _, p, ok := strings.Cut(line, ":"); ok && credentialValue("", p) {
				return true
			}
		case redisCommands:
			if f := strings.Fields(line); len(f) > 3 && strings.EqualFold(f[0], "auth") {
				continue
			} else if k, _ := redisCommandPassword(f); k >= 0 {
				return true
			}
		case ftpCommands:
			if ftpPassword(strings.Fields(line)) {
				return true
			}
		case wpaCommands:
			if wpaCLICommand(strings.Fields(line)) {
				return true
			}
		case zooKeeperCommands:
			if zooKeeperAuth(strings.Fields(line)) {
				return true
			}
		case db2Commands:
			var d db2Words
			for f := range strings.FieldsSeq(line) {
				if d.password(f) {
					return true
				}
			}
		}
	}
	return false
}

// scriptProgramPassword is programPassword for a shell script: what says a program of it
// takes a literal password, or a credential flag its value in the next word (--password
// VALUE, flagPassword), "" when none does. Each logical line (lines continued with a
// backslash joined) is a command line, split into words as the shell splits it (shellWords),
// and here-documents are read as the shell reads them (hereDocuments).
//
// It also finds a literal password given to Redis's --requirepass or --masterauth
// (redisOptionPassword).
func scriptProgramPassword(script string) string {
	return textProgramPassword(script, true)
}

// textProgramPassword is scriptProgramPassword for text that is a script (script: a `sh -c`
// argument, a ConfigMap's key named as a script or a value that starts with #!), or may hold
// command lines (a ConfigMap's other values), where only programPassword's programs are looked
// for: a help text or a README in a ConfigMap writes --password PASSWORD.
func textProgramPassword(text string, script bool) string {
	if !strings.ContainsAny(text, " \t\n") {
		return ""
	}
	if why := redisOptionPassword(text); why != "" {
		return why
	}
	if !script && !mayNameProgram(text) {
		return ""
	}
	r := commandReader{flags: script}
	return r.script(text)
}

// hereDocument is a here-document a command line opens (<<WORD, <<-WORD, <<'WORD'): its body is
// the lines after the command line up to one that is the delimiter (with <<-, after leading
// tabs), or the script's end.
type hereDocument struct {
	delimiter string
	// tabs is <<-: leading tabs are taken off the body's lines and the delimiter's.
	tabs bool
	// quoted is a delimiter with quotes or a backslash in it: the shell expands nothing in the
	// body.
	quoted bool
	// commands is a body a shell reads as commands: fed to a shell (sh, bash, ssh HOST,
	// kubectl exec -i POD -- sh), written to a file, which may be run later (cat > FILE, tee
	// FILE), or a script (a body whose first line is #!).
	commands bool
	// reader is the program that reads the body as a password (stdinPasswordReader: chpasswd,
	// passwd --stdin, docker login --password-stdin, redis-cli), "" for none, and form how it
	// reads it.
	reader string
	form   inputForm
	// file is the file cat or tee writes the body to (cat > FILE <<EOF), whose lines
	// (keepBodyLine) a later command may be given as a key or password file (writtenKeyFile);
	// appended is >> (or tee -a), and kept that a line of the body was kept.
	file           string
	appended, kept bool
}

// keepBodyLine keeps line, a line of the body of h, a here-document cat or tee writes to a
// file, as the file's (keepWritten): as the shell writes it, less <<-'s leading tabs, and
// unwrittenText when the shell expands something in it.
func (r *commandReader) keepBodyLine(h *hereDocument, line string) {
	if h.tabs {
		line = strings.TrimLeft(line, "\t")
	}
	if !h.quoted && strings.ContainsAny(line, "$`") {
		line = unwrittenText
	}
	r.keepWritten(h.file, line, h.appended || h.kept)
	h.kept = true
}

// end reports whether line ends the here-document's body.
func (h hereDocument) end(line string) bool {
	if h.tabs {
		line = strings.TrimLeft(line, "\t")
	}
	return line == h.delimiter
}

// script reads a shell script's command lines with programPassword, and the bodies of its
// here-documents as the shell gives them: a body fed to a shell is more command lines, one a
// password reader reads gives it its lines, and any other is data (a help text, SQL, a
// configuration file cat writes), not commands. A body fed to a shell ends at its delimiter
// even inside a quote it left open. Every line is read once.
func (r *commandReader) script(script string) string {
	lines := strings.Split(script, "\n")
	// shells are the here-documents whose bodies are being read as commands, innermost last.
	var shells []hereDocument
	var logical strings.Builder
	// quote is the quote, single or double, a line left open, which the next line continues (echo
	// 'VALUE<newline>VALUE' | passwd, mysql -e "<newline>CREATE USER ... IDENTIFIED BY ...").
	var quote byte
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		if len(shells) > 0 && shells[len(shells)-1].end(line) && (logical.Len() == 0 || quote != 0) {
			// The delimiter ends the body even inside a quote the body left open: the shell
			// fed the body reads no further (and fails on the quote), and the lines after it
			// are the script's own. The unfinished command runs nowhere.
			logical.Reset()
			quote = 0
			shells = shells[:len(shells)-1]
			continue
		}
		if top := len(shells) - 1; top >= 0 && shells[top].file != "" {
			// cat > FILE <<EOF: the line is the file's too.
			r.keepBodyLine(&shells[top], line)
		}
		if quote = openQuote(line, quote); quote != 0 && i+1 < len(lines) {
			logical.WriteString(line)
			logical.WriteByte('\n')
			continue
		}
		n := len(line) - len(strings.TrimRight(line, `\`))
		if n%2 == 1 && i+1 < len(lines) {
			logical.WriteString(line[:len(line)-1])
			logical.WriteByte(' ')
			continue
		}
		logical.WriteString(line)
		text := logical.String()
		logical.Reset()
		words := shellWords(text)
		if _, why := r.programPassword(words); why != "" {
			return why
		}
		if why := r.substitutedCommands(text); why != "" {
			return why
		}
		if strings.Contains(text, "<(") {
			if opt := r.keyFileSubstitution(words); opt != "" {
				return "a process substitution gives " + opt + " a literal key"
			}
		}
		if len(r.written) > 0 {
			// printf 'USER\nVALUE\n' > /tmp/vpn.auth; openvpn --auth-user-pass /tmp/vpn.auth.
			if opt := r.writtenKeyFile(words); opt != "" {
				return "the script writes the file it gives " + opt + " a literal key"
			}
		}
		if !opensHereDocument(words) {
			// Only here-strings (<<<) or a quoted "<<": no body to read.
			continue
		}
		for _, h := range r.hereDocuments(words) {
			first := i + 1
			if h.commands || first < len(lines) && !h.end(strings.TrimRight(lines[first], "\r")) &&
				strings.HasPrefix(strings.TrimLeft(lines[first], "\t"), "#!") {
				// Fed to a shell, or a script whatever it is given to (#!): its lines are
				// commands, read on to its delimiter.
				shells = append(shells, h)
				break
			}
			// The body, to its delimiter.
			body := first
			for body < len(lines) && !h.end(strings.TrimRight(lines[body], "\r")) {
				body++
			}
			// The lines looked at: the body's, and its delimiter's when the script has one.
			r.read += min(body+1, len(lines)) - first
			i = min(body, len(lines)-1)
			if h.file != "" {
				// cat > /tmp/connect.sql <<EOF, read as SQL: the lines are the file's too,
				// for a later command given it (db2 -tvf /tmp/connect.sql).
				for _, l := range lines[first:body] {
					r.keepBodyLine(&h, strings.TrimRight(l, "\r"))
				}
			}
			if h.form == expectScript {
				if expectPassword(literalBody(lines[first:body], h)) {
					return "expect's script on a here-document answers a password prompt with a literal"
				}
			} else if h.form == sqlStatements {
				if clause := sqlHereDocument(lines[first:body], h); clause != "" {
					return "a here-document gives " + h.reader + " SQL that sets a password (" + clause + ")"
				}
			} else if h.form == passwordFileLines {
				if passwordFile(path.Base(h.reader), literalBody(lines[first:body], h)) {
					return "a here-document writes a password to " + h.reader
				}
			} else if h.reader != "" && literalHereDocument(lines[first:body], h) {
				if strings.ContainsRune(h.reader, '/') {
					return "a here-document writes a password to " + h.reader
				}
				return h.reader + " reads a password from a here-document"
			} else if h.reader == "" && first < body && sqlContent("", strings.Join(lines[first:body], "\n")) {
				// SQL given to a program not known to read it (a function of the script,
				// run_sql <<EOF, which runs mysql "$@"): a statement that sets a literal password
				// is one whoever reads it.
				if clause := sqlHereDocument(lines[first:body], h); clause != "" {
					return "a here-document holds SQL that sets a password (" + clause + ")"
				}
			}
		}
	}
	return ""
}

// openQuote is the quote, single or double, that a script's line leaves open, given the one
// the lines before it left open (0 for none): a word's quotes, not a comment's, nor an escaped
// one's (\' and \" outside single quotes). An ANSI-C quote, $'...', that the line leaves open
// is '$': in it a backslash escapes the byte after it, \' too (ansiCQuoteEnd).
func openQuote(line string, quote byte) byte {
	// Each state skips to the next byte that can change it: outside quotes a backslash, a
	// quote, '$' or '#' (quoteStops); in single quotes the closing one; in double quotes the
	// closing one or a backslash; in $'...' a backslash or the closing quote.
	for i := 0; i < len(line); i++ {
		switch quote {
		case '\'':
			j := strings.IndexByte(line[i:], '\'')
			if j < 0 {
				return quote
			}
			i += j
			quote = 0
		case '"', '$':
			// In double quotes the closing '"', in $'...' the closing '\''; in both a
			// backslash escapes the byte after it.
			stops := &doubleQuoteStops
			if quote == '$' {
				stops = &ansiCQuoteStops
			}
			for i < len(line) && !stops[line[i]] {
				i++
			}
			if i == len(line) {
				return quote
			}
			if line[i] == '\\' {
				i++
			} else {
				quote = 0
			}
		default:
			for i < len(line) && !quoteStops[line[i]] {
				i++
			}
			if i == len(line) {
				return quote
			}
			switch c := line[i]; {
			case c == '\\':
				i++
			case c == '$':
				if i+1 < len(line) && line[i+1] == '\'' {
					quote = '$'
					i++
				}
			case c == '\'' || c == '"':
				quote = c
			case c == '#':
				if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' {
					return 0
				}
			}
		}
	}
	return quote
}

// quoteStops are the bytes that can open a quote, or end a line's words, outside quotes
// (openQuote): a backslash, ' and ", '$' ($'...') and '#'; doubleQuoteStops and
// ansiCQuoteStops those that can end a double quote or an ANSI-C one, $'...'.
var quoteStops, doubleQuoteStops, ansiCQuoteStops = byteTable(`\'"$#`), byteTable(`\"`), byteTable(`\'`)

// byteTable is the set of the bytes of s.
func byteTable(s string) (set [256]bool) {
	for i := range len(s) {
		set[s[i]] = true
	}
	return set
}

// substitutedCommands reads the commands of the command and process substitutions of a
// command line with programPassword, as the shell runs them: STATUS=$(redis-cli -a VALUE ping)
// runs redis-cli, and so do `...` and diff <(mysql -pVALUE ...) FILE. What says a program of
// them takes a literal password, "" when none does; and a process substitution <(...) that
// only prints literal text (printedBy) is a file that sets a credential when the text, its \n
// escapes as lines, does (mysql --defaults-extra-file=<(printf '[client]\npassword=VALUE')), and
// so is one whose text is SQL that sets a literal password (mysqld --init-file=<(echo ...)).
// The substitutions inside one are not read again (substitutions).
func (r *commandReader) substitutedCommands(line string) string {
	if !maySubstitute(line) {
		return ""
	}
	why := ""
	substitutions(line, func(s substitution) bool {
		if _, why = r.programPassword(shellWords(s.command)); why != "" {
			return true
		}
		if line[s.start] == '<' {
			// <(printf '[client]\npassword=VALUE'): a file the command reads, as
			// mysql --defaults-extra-file=<(...) does, that sets a literal credential.
			if text, ok := r.printedFile(s.command); ok {
				if names := credentialSettings(text, 1); len(names) > 0 {
					why = "a process substitution gives a file that sets " + names[0]
				}
			}
			// mysqld --init-file=<(echo "ALTER USER ... IDENTIFIED BY 'VALUE'"), psql -f
			// <(...), mysql < <(...): SQL read from the file.
			if text, ok := printedBy(s.command); why == "" && ok {
				if clause := sqlPassword(text, false); clause != "" {
					why = "a process substitution gives SQL that sets a password (" + clause + ")"
				}
			}
		}
		return why != ""
	})
	return why
}

// programKeyFileOptions are the options and operands, by program, that name a file whose text
// is a key or passphrase: cryptsetup's --key-file (-d), wg set's private-key and a peer's
// preshared-key (wg(8)), and OpenVPN's --askpass (the private key's passphrase),
// --auth-user-pass and --http-proxy-user-pass (userPassFileOptions).
var programKeyFileOptions = map[string]map[string]bool{
	"cryptsetup": {"--key-file": true, "-d": true},
	"wg":         {"private-key": true, "preshared-key": true},
	"openvpn":    {"--askpass": true, "--auth-user-pass": true, "--http-proxy-user-pass": true, "--http-proxy": true},
	// sshpass -f FILE: the password is the file's first line.
	"sshpass": {"-f": true},
}

// userPassFileOptions are the programKeyFileOptions whose file holds a user name on its first
// line and the password on its second (openvpn(8): --auth-user-pass up, with the user alone
// OpenVPN prompts for the password; --http-proxy-user-pass, the HTTP proxy's credentials, and
// --http-proxy HOST PORT AUTHFILE's third argument, the same file; keyFileSubstitution finds
// it three words after --http-proxy).
var userPassFileOptions = map[string]map[string]bool{"openvpn": {"--auth-user-pass": true, "--http-proxy-user-pass": true,
	"--http-proxy": true}}

// keyFileSubstitution says which option of a command line (its words) is given a key or
// passphrase file that a process substitution prints literal text into (--key-file=<(echo
// -n VALUE), --password-file <(printf VALUE)), "" when none is: an option whose name says it
// is a credential's file (namesCredentialFile: --password-file, --passphrase-file,
// --token-file) or one of programKeyFileOptions of the command's program. Each word is looked
// at once (with a map's look-up; those of a process substitution are counted as read), and a
// substitution's command only when it is such an option's value.
func (r *commandReader) keyFileSubstitution(words []string) string {
	prog := ""
	for i := 0; i < len(words); i++ {
		w := words[i]
		if commandSeparators[w] {
			prog = ""
			continue
		}
		if prog == "" {
			at, _ := commandSpan(words, i)
			if at >= len(words) || commandSeparators[words[at]] {
				i = at
				continue
			}
			prog, i = programName(words[at]), at
			continue
		}
		k := strings.Index(w, "<(")
		if k < 0 || !strings.HasSuffix(w, ")") {
			continue
		}
		r.read++
		opt := ""
		switch {
		case k == 0 && i >= 3 && prog == "openvpn" && words[i-3] == "--http-proxy":
			// openvpn --http-proxy HOST PORT <(printf 'USER\nVALUE\n'): the proxy's
			// authfile, --http-proxy-user-pass's.
			opt = "--http-proxy"
		case k == 0 && i > 0:
			opt = words[i-1]
		case k > 0 && w[k-1] == '=':
			opt = w[:k-1]
		}
		if opt == "" || strings.ContainsAny(opt, "=$`'\"") ||
			!(r.flags && strings.HasPrefix(opt, "-") && namesCredentialFile(strings.TrimLeft(opt, "-")) || programKeyFileOptions[prog][opt]) {
			continue
		}
		if userPassFileOptions[prog][opt] {
			// openvpn --auth-user-pass <(printf 'USER\nVALUE\n'): echo's or printf's text
			// (printedText), its \n escapes as lines; the password is the second line.
			if sub := shellWords(w[k+2 : len(w)-1]); len(sub) > 0 {
				at, text := r.printedText(programName(sub[0]), sub[1:])
				lines := strings.Split(text, `\n`)
				if at >= 0 && len(lines) >= 2 && credentialValue("", strings.TrimSpace(lines[1])) {
					return opt
				}
			}
			continue
		}
		if text, ok := printedBy(w[k+2 : len(w)-1]); ok && credentialValue("", text) {
			return opt
		}
	}
	return ""
}

// literalHereDocument reports whether the body of a here-document (its lines) gives the
// password reader h.reader a literal password (literalInput): a line that holds an expansion
// ($VAR, $(...), `...`) gives none, unless the delimiter is quoted.
func literalHereDocument(lines []string, h hereDocument) bool {
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if h.tabs {
			line = strings.TrimLeft(line, "\t")
		}
		if !h.quoted && strings.ContainsAny(line, "$`") {
			line = ""
		}
		if h.form == passwordLine {
			return literalInput(line, passwordLine)
		}
		if literalInput(line, h.form) {
			return true
		}
	}
	return false
}

// literalBody is the text of a here-document's body (its lines) without the lines the shell
// expands something in ($VAR, $(...), `...`; none when the delimiter is quoted).
func literalBody(lines []string, h hereDocument) string {
	var b strings.Builder
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if h.tabs {
			line = strings.TrimLeft(line, "\t")
		}
		if h.quoted || !strings.ContainsAny(line, "$`") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// sqlHereDocument is the clause with which the SQL body of a here-document (its lines) sets a
// literal password (sqlPassword), "" when none does: with the delimiter unquoted, the shell
// expands $ and ` in it, which are then no literal.
func sqlHereDocument(lines []string, h hereDocument) string {
	var b strings.Builder
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if h.tabs {
			line = strings.TrimLeft(line, "\t")
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return sqlPassword(b.String(), !h.quoted)
}

// shellPrograms are the shells, which read a here-document as commands.
var shellPrograms = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true,
	"mksh": true, "busybox": true}

// remoteShellPrograms run a shell their input feeds (ssh HOST, su USER), or the command their
// arguments name (kubectl exec -i POD -- sh).
var remoteShellPrograms = map[string]bool{"ssh": true, "dbclient": true, "autossh": true, "su": true, "runuser": true}

// commandRunners run the command their arguments name, a shell when one of them is.
var commandRunners = map[string]bool{"kubectl": true, "oc": true, "docker": true, "podman": true, "nerdctl": true,
	"crictl": true, "chroot": true, "nsenter": true, "timeout": true, "setsid": true, "unshare": true}

// opensHereDocument reports whether a command line's words hold a here-document operator
// (<<, <<-), not only here-strings (<<<): what hereDocuments reads, looked at once.
func opensHereDocument(words []string) bool {
	for _, w := range words {
		if strings.HasPrefix(w, "<<") && !strings.HasPrefix(w, "<<<") {
			return true
		}
	}
	return false
}

// hereDocuments lists the here-documents a command line (its words) opens, in order, each with
// what reads its body: the command that holds its operator, or, for cat without a file to
// write, the command cat pipes it to. Each word is looked at a bounded number of times.
func (r *commandReader) hereDocuments(words []string) []hereDocument {
	var docs []hereDocument
	for i := 0; i < len(words); {
		at, end := commandSpan(words, i)
		r.read += end - i + 1
		start := len(docs)
		for k := at; k < end; k++ {
			w := words[k]
			if !strings.HasPrefix(w, "<<") || strings.HasPrefix(w, "<<<") {
				continue
			}
			h := hereDocument{}
			d := w[2:]
			if h.tabs = strings.HasPrefix(d, "-"); h.tabs {
				d = d[1:]
			}
			if d == "" && k+1 < end {
				k++
				d = words[k]
			}
			if j := strings.IndexAny(d, "<>;|&"); j >= 0 {
				d = d[:j]
			}
			h.quoted = strings.ContainsAny(d, `'"\`)
			h.delimiter = strings.NewReplacer(`'`, "", `"`, "", `\`, "").Replace(d)
			if h.delimiter != "" {
				docs = append(docs, h)
			}
		}
		if len(docs) > start && at < end {
			prog, args := programName(words[at]), words[at+1:end]
			if prog == "cat" && end < len(words) && words[end] == "|" && !writesFile(prog, args) {
				// cat <<EOF | chpasswd: the body is what cat pipes on.
				next, nextEnd := commandSpan(words, end+1)
				r.read += nextEnd - end
				if next < nextEnd {
					prog, args = programName(words[next]), words[next+1:nextEnd]
				}
			}
			remoteFile := false
			if sshClients[prog] {
				// ssh HOST COMMAND <<EOF: the body is the remote command's input (the
				// command's words as the remote shell splits them, sshCommand) when that
				// command reads it as a password, SQL or a file it writes (ssh db 'mysql
				// -uroot' <<EOF); any other's, as ssh's own, is read as commands.
				if c := sshCommandStart(prog, args); c >= 0 {
					var remote []string
					for _, w := range args[c:] {
						if ok, _ := redirection(w); ok || strings.HasPrefix(w, "<<") {
							break
						}
						remote = append(remote, strings.Fields(unquotedWord(w))...)
					}
					r.read += len(args) - c
					if at, end := commandSpan(remote, 0); at < end {
						rprog, rargs := programName(remote[at]), remote[at+1:end]
						if r.stdinPasswordReader(rprog, rargs) != noPasswordInput ||
							(rprog == "cat" || rprog == "tee") && writtenFile(rprog, rargs) != "" {
							prog, args, remoteFile = rprog, rargs, true
						}
					}
				}
			}
			written := ""
			if prog == "cat" || prog == "tee" {
				written = writtenFile(prog, args)
			}
			// The file a later command of this script may be given (not one on another host).
			file, appended := "", false
			if written != "" && !remoteFile {
				file = written
				r.read += len(args)
				appended = slices.ContainsFunc(args, func(w string) bool {
					return strings.HasPrefix(strings.TrimPrefix(w, "1"), ">>") || prog == "tee" && (w == "-a" || w == "--append")
				})
			}
			// crontab reading its input (crontab - <<EOF, or no file operand) is given
			// crontab lines, whose commands cron runs with the shell (cronCommand).
			commands := r.runsShell(prog, args) || written != "" ||
				prog == "crontab" && (len(r.operands(args, crontabValueOptions)) == 0 || slices.Contains(args, "-"))
			reader, form := prog, r.stdinPasswordReader(prog, args)
			if sqlFile(written) {
				// cat > /docker-entrypoint-initdb.d/01-users.sql <<EOF: SQL a database
				// runs.
				commands, reader, form = false, written, sqlStatements
			} else if written != "" && credentialFileName(written) {
				// cat > /etc/app/db_password <<EOF: the body is the credential.
				commands, reader, form = false, written, passwordLine
			} else if written != "" && passwordFileName(path.Base(written)) {
				// cat > ~/.pgpass <<EOF: the body is the file's lines.
				commands, reader, form = false, written, passwordFileLines
			}
			for d := start; d < len(docs); d++ {
				docs[d].commands = commands
				if commands || form == sqlStatements && reader == written {
					// A .sql file read as SQL is kept too, for the command given it
					// later (db2 -tvf FILE).
					docs[d].file, docs[d].appended = file, appended
				}
				if form != noPasswordInput {
					docs[d].reader, docs[d].form = reader, form
				}
			}
		}
		i = end + 1
	}
	return docs
}

// functionHead is how many of the words at words[i] define a shell function's name, before
// its body's opening { or ( (which are command prefixes): NAME() and NAME(){ (one word),
// NAME () (two), function NAME and function NAME() (two), function NAME () (three); 0 when
// they define none.
func functionHead(words []string, i int) int {
	w := words[i]
	name := func(s string) bool {
		return s != "" && !strings.ContainsAny(s, "$`'\"=;|&<>(){}") && !commandSeparators[s]
	}
	switch {
	case w == "function" && i+1 < len(words):
		n := strings.TrimSuffix(words[i+1], "()")
		if !name(n) {
			return 0
		}
		if words[i+1] == n && i+2 < len(words) && words[i+2] == "()" {
			return 3
		}
		return 2
	case strings.HasSuffix(w, "(){") && name(strings.TrimSuffix(w, "(){")):
		return 1
	case strings.HasSuffix(w, "()") && name(strings.TrimSuffix(w, "()")):
		return 1
	case i+1 < len(words) && words[i+1] == "()" && name(w):
		return 2
	}
	return 0
}

// commandSpan returns where the command that starts at words[i] has its program, at (after
// keywords, prefixes such as sudo or exec, and variable assignments), and where it ends, end
// (the next command separator, or len(words)); at == end when it has no program.
func commandSpan(words []string, i int) (at, end int) {
	at = i
	for at < len(words) && !commandSeparators[words[at]] {
		if next, ok, _ := wrappedCommand(words, at); ok {
			at = next
			continue
		}
		if n := functionHead(words, at); n > 0 {
			at += n
			continue
		}
		name := strings.TrimLeft(words[at], "($`")
		if eq := strings.IndexByte(name, '='); !commandPrefixes[name] && words[at] != "(" && !(eq > 0 && isSettingName(name[:eq])) {
			break
		}
		at++
	}
	end = at
	for end < len(words) && !commandSeparators[words[end]] {
		end++
	}
	return at, end
}

// programName is the program a command's first word names: without an opening subshell,
// command substitution or quote, and without its directory.
func programName(word string) string {
	return path.Base(strings.Trim(strings.TrimLeft(word, "($`"), `"'`))
}

// sshClients are the programs that take ssh's arguments and run its remote command: OpenSSH's
// ssh, Dropbear's dbclient (dbclient(1): [options] [user@]host[/port][,...] [command]) and
// autossh, which runs ssh with the arguments after its own -M PORT, -f and -V (autossh(1)).
var sshClients = map[string]bool{"ssh": true, "dbclient": true, "autossh": true}

// sshClientValueOptions are the options of the sshClients besides ssh that take a value and
// are none of ssh's (sshValueOptions): autossh's -M PORT[:ECHO_PORT], dbclient's -K
// KEEPALIVE.
var sshClientValueOptions = map[string]map[string]bool{"autossh": {"-M": true}, "dbclient": {"-K": true}}

// sshValueOptions are the options of OpenSSH's ssh that take a value.
var sshValueOptions = map[string]bool{"-b": true, "-c": true, "-D": true, "-E": true, "-e": true, "-F": true, "-I": true,
	"-i": true, "-J": true, "-L": true, "-l": true, "-m": true, "-O": true, "-o": true, "-p": true, "-Q": true, "-R": true,
	"-S": true, "-W": true, "-w": true}

// shellCommand reads the script a shell or su runs from its -c option (sh -c "mysql -pVALUE", ssh db "mysqldump -pVALUE",
// bash -ec '...', su - postgres -c "psql -c \"ALTER USER ... PASSWORD '...'\"", su --command=...)
// as a script, within a script (argv's is read by argumentCredentials): the index in args of the
// word that holds it and what says a program of it takes a literal password, -1 when none does.
// The script is the word without its quotes (shellText), shorter than the line that holds it,
// so scripts within scripts end.
func (r *commandReader) shellCommand(prog string, args []string) (int, string) {
	if !r.flags {
		// argv's sh -c SCRIPT: argumentCredentials reads each argument as a script.
		return -1, ""
	}
	if !shellPrograms[prog] && prog != "su" && prog != "runuser" {
		return -1, ""
	}
	for i, w := range args {
		r.read++
		script := ""
		switch {
		case strings.HasPrefix(w, "--command="):
			script = w[len("--command="):]
		case w == "--command" || shellScriptOption(w):
			if i+1 == len(args) {
				return -1, ""
			}
			i, script = i+1, args[i+1]
		default:
			continue
		}
		text, _ := shellText(strings.TrimRight(script, ";"))
		if why := r.script(text); why != "" {
			return i, why
		}
		return -1, ""
	}
	return -1, ""
}

// sshCommandStart is the index in args (the words after ssh) of the first word of the command
// ssh runs on the remote host, -1 when it runs none (ssh HOST, a login shell; ssh -N -L ...):
// past ssh's options, the host, and options after the host, which OpenSSH's ssh reads as its
// own too (ssh.c parses the options again after the host, to the first word that is none; "--"
// ends them). A separator, a redirection or a word that ends in ';' ends the command line.
func sshCommandStart(prog string, args []string) int {
	host := false
	for j := 0; j < len(args); j++ {
		if commandSeparators[args[j]] {
			return -1
		}
		w := strings.TrimSuffix(args[j], ";")
		last := w != args[j]
		if ok, _ := redirection(w); ok || strings.HasPrefix(w, "<<") {
			return -1
		}
		switch {
		case host && w != "--" && (len(w) < 2 || w[0] != '-'):
			return j
		case last:
			// A word that ends in ';' ends the command line.
			return -1
		case w == "--":
			if host && j+1 < len(args) && !commandSeparators[args[j+1]] {
				return j + 1
			}
		case len(w) > 1 && w[0] == '-':
			if sshValueOptions[w] || sshClientValueOptions[prog][w] {
				j++
			}
		default:
			host = true
		}
	}
	return -1
}

// sshCommand reads the command ssh runs on the remote host (its words args): ssh joins the
// words after the host by blanks (as the local shell left them, quotes taken off: unquotedWord;
// argv's as they are) and the remote shell reads the line as a script, so ssh db 'mysql
// -uroot' '-pVALUE' runs mysql -uroot -pVALUE. The local line's redirections and here-documents
// are the local shell's, not the command's; a here-string is the command's input, which ssh
// passes on, and is kept as written. It returns the index in args of the command's first word
// and what says a program of it takes a literal password (-1 when none does), and whether ssh
// runs a command. The joined line's words are counted as its script is read. The line is
// shorter than the words it is joined from (ssh and the host are not in it), so ssh within ssh
// ends.
func (r *commandReader) sshCommand(prog string, args []string) (int, string, bool) {
	at := sshCommandStart(prog, args)
	if at < 0 {
		return -1, "", false
	}
	var b strings.Builder
	for i := at; i < len(args); i++ {
		w := strings.TrimSuffix(args[i], ";")
		if ok, next := redirection(w); ok {
			if next {
				i++
			}
			continue
		}
		switch {
		case strings.HasPrefix(w, "<<<"):
			if w == "<<<" && i+1 < len(args) {
				i++
				w += " " + args[i]
			}
		case strings.HasPrefix(w, "<<"):
			if strings.Trim(w, "<-") == "" {
				i++
			}
			continue
		case r.flags:
			w = unquotedWord(w)
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	flags := r.flags
	r.flags = true
	why := r.script(b.String())
	r.flags = flags
	if why != "" {
		return at, why, true
	}
	return -1, "", true
}

// unquotedWord is a shell word (as shellWords keeps it) with its quotes taken off as the shell
// takes them off, nothing expanded: '...' is its text, "..." its text with \", \\, \$ and \`
// undone, $'...' ansiCText's, and a backslash outside quotes escapes the byte after it. The
// commands of $(...) and `...` are kept as written. A quote nothing closes runs to the word's
// end.
func unquotedWord(w string) string {
	if !strings.ContainsAny(w, `'"\`) {
		return w
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '\\':
			if i+1 < len(w) {
				i++
				b.WriteByte(w[i])
			}
		case c == '$' && i+1 < len(w) && w[i+1] == '(':
			// $(...) as written, to the ')' that closes it (substitutions reads it so).
			end := strings.IndexByte(w[i:], ')')
			if end < 0 {
				end = len(w) - i - 1
			}
			b.WriteString(w[i : i+end+1])
			i += end
		case c == '`':
			end := strings.IndexByte(w[i+1:], '`')
			if end < 0 {
				end = len(w) - i - 2
			}
			b.WriteString(w[i : i+end+2])
			i += end + 1
		case c == '$' && i+1 < len(w) && w[i+1] == '\'':
			end := ansiCQuoteEnd(w, i+1)
			if end < 0 {
				end = len(w) - 1
			}
			text, ok := ansiCText(w[i : end+1])
			if !ok {
				text = w[i+2 : end+1]
			}
			b.WriteString(text)
			i = end
		case c == '\'':
			end := strings.IndexByte(w[i+1:], '\'')
			if end < 0 {
				b.WriteString(w[i+1:])
				return b.String()
			}
			b.WriteString(w[i+1 : i+1+end])
			i += 1 + end
		case c == '"':
			end := closingQuote(w, i)
			inner := w[i+1:]
			if end > i && w[end] == '"' {
				inner = w[i+1 : end]
			} else {
				end = len(w)
			}
			b.WriteString(strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(inner))
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sshRemoteReader reads ssh HOST COMMAND... (prog an ssh client, args its words after its
// name): how the remote command (its words as the remote shell splits them, past wrappers:
// commandSpan) reads its input when it reads a password or SQL there (stdinPasswordReader),
// or passwordLine when sudo -S runs it (sudo reads the user's password from the input first),
// and the remote program's name; noPasswordInput when it reads none, or ssh runs no command.
func (r *commandReader) sshRemoteReader(prog string, args []string) (inputForm, string) {
	if !sshClients[prog] {
		return noPasswordInput, ""
	}
	c := sshCommandStart(prog, args)
	if c < 0 {
		return noPasswordInput, ""
	}
	var remote []string
	for _, w := range args[c:] {
		if ok, _ := redirection(w); ok || strings.HasPrefix(w, "<<") || commandSeparators[w] {
			break
		}
		remote = append(remote, strings.Fields(unquotedWord(w))...)
	}
	r.read += len(args) - c
	at, end := commandSpan(remote, 0)
	for j := 0; j < at; j++ {
		if programName(remote[j]) == "sudo" && sudoReadsPassword(remote[j+1:at]) {
			return passwordLine, "sudo -S"
		}
	}
	if at < end {
		rprog := programName(remote[at])
		if form := r.stdinPasswordReader(rprog, remote[at+1:end]); form != noPasswordInput {
			return form, rprog
		}
	}
	return noPasswordInput, ""
}

// readsScript reports whether the program prog, given args, runs a shell that reads its script
// from its input: a shell without -c and without a script file before its input's word (sh -s
// ARG... reads it too), or what runsShell says of ssh, su and the command runners. bash FILE
// <<< TEXT gives FILE's script TEXT as its input, which is data.
func (r *commandReader) readsScript(prog string, args []string) bool {
	if !shellPrograms[prog] {
		return r.runsShell(prog, args)
	}
	for _, w := range args {
		r.read++
		switch {
		case w == "-s", w != "" && (w[0] == '<' || w[0] == '>'):
			// -s, or the input's word (or another redirection) before any script file.
			return true
		case shellScriptOption(w), commandSeparators[w]:
			return false
		case len(w) > 1 && (w[0] == '-' || w[0] == '+'):
		default:
			// A script file: the input is its data.
			return false
		}
	}
	return true
}

// runsShell reports whether the program prog, given args, runs a shell that reads its input
// as commands: a shell without -c, ssh or su, or a command runner (kubectl exec, docker exec,
// chroot) whose arguments name a shell.
func (r *commandReader) runsShell(prog string, args []string) bool {
	switch {
	case shellPrograms[prog]:
		r.read += len(args)
		return !slices.Contains(args, "-c")
	case remoteShellPrograms[prog]:
		return true
	case commandRunners[prog]:
		r.read += len(args)
		return slices.ContainsFunc(args, func(w string) bool { return shellPrograms[path.Base(strings.Trim(w, `"'`))] })
	}
	return false
}

// writesFile reports whether the words (args) of cat or tee write their input to a file
// (cat > FILE, cat >> FILE, tee [-a] FILE), which may be run or read later: a standard stream
// (>&2, /dev/stderr) or /dev/null is none.
func writesFile(prog string, args []string) bool {
	return writtenFile(prog, args) != ""
}

// writtenFile is the file writesFile finds the words (args) of cat or tee write their input
// to, "" when there is none.
func writtenFile(prog string, args []string) string {
	for i := 0; i < len(args); i++ {
		w := args[i]
		target := ""
		if ok, next := redirection(w); ok {
			if next && i+1 < len(args) {
				i++
				target = args[i]
			}
			// Standard output only: > and >>, 1> and 1>>, >| (not 2>, <, &>).
			op := strings.TrimPrefix(w, "1")
			if op == "" || op[0] != '>' {
				continue
			}
			if !next {
				target = strings.TrimLeft(op, ">|")
			}
		} else if prog == "tee" && !strings.HasPrefix(w, "-") {
			target = w
		}
		target = strings.Trim(target, `"'`)
		if target != "" && target[0] != '&' && !strings.HasPrefix(target, "/dev/") {
			return target
		}
	}
	return ""
}

// shellWords splits a line of a shell script into words as the shell does, the words kept as
// written (quotes and escapes in them): at blank space outside quotes ('...', "...", `...`)
// and outside $(...), <(...), >(...) and ${...} (to the next ')' or '}'), and outside bash's
// ANSI-C quotes, $'...', where a backslash escapes \' too, and at the control operators ;, &,
// &&, |, || and |&, each a word of its own (echo x|chpasswd is three commands' words); a '#'
// that starts a word starts a comment. A quote that nothing closes runs to the line's end, as
// the shell reads on; a $( or ${ that nothing closes is text, and so is every one after it.
// Every byte is read once.
func shellWords(line string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			words = append(words, line[start:end])
			start = -1
		}
	}
	noParen, noBrace := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if shellWordBytes[c] {
			// A run of bytes that only make a word (most of a line): nothing else to do.
			if start < 0 {
				start = i
			}
			for i+1 < len(line) && shellWordBytes[line[i+1]] {
				i++
			}
			continue
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			flush(i)
		case c == '#' && start < 0:
			return words
		case c == ';' || c == '|' || c == '&' && (start < 0 || !strings.ContainsRune("<>", rune(line[i-1]))) &&
			!(i+1 < len(line) && line[i+1] == '>'):
			flush(i)
			op := i
			if i+1 < len(line) && (line[i+1] == c || c == '|' && line[i+1] == '&') && c != ';' {
				i++
			}
			words = append(words, line[op:i+1])
		default:
			if start < 0 {
				start = i
			}
			switch {
			case c == '\\':
				i++
			case c == '\'':
				if j := strings.IndexByte(line[i+1:], '\''); j >= 0 {
					i += 1 + j
				} else {
					i = len(line) - 1
				}
			case c == '`':
				if j := strings.IndexByte(line[i+1:], '`'); j >= 0 {
					i += 1 + j
				} else {
					i = len(line) - 1
				}
			case c == '"':
				i = closingQuote(line, i)
			case c == '$' && i+1 < len(line) && line[i+1] == '\'':
				if j := ansiCQuoteEnd(line, i+1); j >= 0 {
					i = j
				} else {
					i = len(line) - 1
				}
			case (c == '$' || c == '<' || c == '>') && i+1 < len(line) && line[i+1] == '(' && !noParen:
				if j := strings.IndexByte(line[i+2:], ')'); j >= 0 {
					i += 2 + j
				} else {
					noParen = true
				}
			case c == '$' && i+1 < len(line) && line[i+1] == '{' && !noBrace:
				if j := strings.IndexByte(line[i+2:], '}'); j >= 0 {
					i += 2 + j
				} else {
					noBrace = true
				}
			}
		}
	}
	flush(len(line))
	return words
}

// shellWordBytes are the bytes shellWords only adds to a word: any but blank space, the
// control operators' ;, & and |, '#', and those that begin a quote, an escape or an expansion
// (\ ' ` " $ < >).
var shellWordBytes = func() (set [256]bool) {
	for c := range set {
		set[c] = true
	}
	for _, c := range []byte(" \t\r#;&|\\'`\"$<>") {
		set[c] = false
	}
	return set
}()

// substitution is a command substitution in a shell script's text, $(COMMAND) or `COMMAND`,
// or a process substitution, <(COMMAND) or >(COMMAND): text[start:end] is all of it, command
// what runs in it, and quoted says it is inside double quotes.
type substitution struct {
	start, end int
	command    string
	quoted     bool
}

// substitutions calls f with each command and process substitution of text, in order, until f
// returns true: $(...), <(...) and >(...) to the next ')' and `...` to the next '`', as
// shellWords reads them, outside single quotes (and <(...) and >(...) outside double quotes
// too); not $((...)), an arithmetic expansion. A backslash escapes the byte after it, and a
// substitution nothing closes is text. Each byte is read once: a substitution is read as one,
// not again for those inside it.
func substitutions(text string, f func(s substitution) bool) {
	if !maySubstitute(text) {
		return
	}
	single, double := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case single:
			single = c != '\''
		case c == '\\':
			i++
		case c == '\'' && !double:
			single = true
		case c == '$' && !double && i+1 < len(text) && text[i+1] == '\'':
			// $'...': nothing is substituted in it.
			if i = ansiCQuoteEnd(text, i+1); i < 0 {
				return
			}
		case c == '"':
			double = !double
		case c == '`':
			j := strings.IndexByte(text[i+1:], '`')
			if j < 0 {
				return
			}
			if f(substitution{start: i, end: i + 2 + j, command: text[i+1 : i+1+j], quoted: double}) {
				return
			}
			i += 1 + j
		case i+1 < len(text) && text[i+1] == '(' && (c == '$' || !double && (c == '<' || c == '>')):
			if c == '$' && i+2 < len(text) && text[i+2] == '(' {
				// $((...)): arithmetic.
				i += 2
				continue
			}
			j := strings.IndexByte(text[i+2:], ')')
			if j < 0 {
				return
			}
			if f(substitution{start: i, end: i + 3 + j, command: text[i+2 : i+2+j], quoted: double}) {
				return
			}
			i += 2 + j
		}
	}
}

// maySubstitute reports whether text may hold a substitution substitutions finds: a '`', or a
// '(' after '$', '<' or '>'. Most lines of the JSON a ConfigMap holds (a Grafana dashboard's
// PromQL, rate(...)) have parentheses and none of them, and need not be read quote by quote.
func maySubstitute(text string) bool {
	if strings.IndexByte(text, '`') >= 0 {
		return true
	}
	for i := 1; i < len(text); i++ {
		j := strings.IndexByte(text[i:], '(')
		if j < 0 {
			return false
		}
		i += j
		if c := text[i-1]; c == '$' || c == '<' || c == '>' {
			return true
		}
	}
	return false
}

// literalSubstitutions is a shell script's text with each command substitution whose command
// only prints literal text ($(echo VALUE), $(printf 'VALUE'), `echo VALUE`, $(cat <<EOF with
// one line of body: printedBy) replaced by that text, as the shell replaces it when it runs the
// script: export PGPASSWORD=$(printf 'Orders-2024') sets PGPASSWORD to a literal, and mysql
// -p"$(echo Orders-2024)" gives one. The text is written as the shell would read it back as one
// word (shellLiteral); a substitution whose text can not be, or whose command reads anything
// (a file, a variable, another program: $(cat /run/secrets/pw), $(echo $PW), $(openssl rand
// -hex 16)), stays as it is, an expansion.
func literalSubstitutions(text string) string {
	if !strings.Contains(text, "$(") && !strings.Contains(text, "`") {
		return text
	}
	var b strings.Builder
	last := 0
	substitutions(text, func(s substitution) bool {
		if text[s.start] != '$' && text[s.start] != '`' {
			return false
		}
		v, ok := printedBy(s.command)
		if !ok {
			return false
		}
		if w, ok := shellLiteral(v, s.quoted); ok {
			b.WriteString(text[last:s.start])
			b.WriteString(w)
			last = s.end
		}
		return false
	})
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// printedBy is what command, a command substitution's, prints when it prints only literal
// text, its final newlines taken off as the substitution takes them: echo's or printf's words
// (printedText: no expansion in them, printf's %s and %b only), or the one line of a
// here-document cat prints (cat <<EOF, a line, EOF: no expansion in it unless the delimiter is
// quoted); echo's or printf's text piped to base64 -d is what it decodes to (printable text
// only). ok is false for any other command.
func printedBy(command string) (string, bool) {
	var r commandReader
	first, rest, multiline := strings.Cut(strings.TrimSpace(command), "\n")
	words := shellWords(first)
	decode := false
	if i := slices.Index(words, "|"); !multiline && i > 0 && base64Decoder(words[i+1:]) {
		// echo VALUE | base64 -d: VALUE decoded.
		words, decode = words[:i], true
	}
	if len(words) == 0 || slices.ContainsFunc(words, func(w string) bool {
		ok, _ := redirection(w)
		return ok && !strings.HasPrefix(w, "<<") || commandSeparators[w]
	}) {
		return "", false
	}
	prog := programName(words[0])
	if !multiline {
		k, text := r.printedText(prog, words[1:])
		if k < 0 {
			return "", false
		}
		for strings.HasSuffix(text, `\n`) {
			text = strings.TrimSuffix(text, `\n`)
		}
		if decode {
			b, err := base64.StdEncoding.DecodeString(text)
			if err != nil || !isPrintableASCII(b) {
				return "", false
			}
			text = strings.TrimRight(string(b), "\r\n")
		}
		return text, text != "" && !strings.ContainsAny(text, "\\\n")
	}
	docs := r.hereDocuments(words)
	if prog != "cat" || len(docs) != 1 || len(words) > 3 || len(words) == 3 && !strings.HasPrefix(words[1], "<<") {
		return "", false
	}
	h := docs[0]
	lines := strings.Split(rest, "\n")
	if len(lines) < 2 || !h.end(strings.TrimRight(lines[1], "\r")) || strings.TrimSpace(strings.Join(lines[2:], "")) != "" {
		return "", false
	}
	line := strings.TrimRight(lines[0], "\r")
	if h.tabs {
		line = strings.TrimLeft(line, "\t")
	}
	if !h.quoted && strings.ContainsAny(line, "$`\\") {
		return "", false
	}
	return line, true
}

// printedFile is the text that command, a process substitution's, prints when it is one
// echo or printf of literal words only (printedText), its \n escapes as lines: the file
// <(printf '[client]\npassword=VALUE') gives. ok is false for any other command.
func (r *commandReader) printedFile(command string) (string, bool) {
	words := shellWords(command)
	if len(words) < 2 || strings.Contains(command, "\n") || slices.ContainsFunc(words, func(w string) bool {
		ok, _ := redirection(w)
		return ok || commandSeparators[w] || strings.HasPrefix(w, "<<")
	}) {
		return "", false
	}
	k, text := r.printedText(programName(words[0]), words[1:])
	if k < 0 {
		return "", false
	}
	return strings.ReplaceAll(text, `\n`, "\n"), true
}

// base64Decoder reports whether words are a command that decodes base64 and nothing else:
// base64 -d (--decode, or macOS's -D), its only options, no file.
func base64Decoder(words []string) bool {
	if len(words) < 2 || programName(words[0]) != "base64" {
		return false
	}
	for _, w := range words[1:] {
		if w != "-d" && w != "--decode" && w != "-D" && w != "-i" && w != "--ignore-garbage" {
			return false
		}
	}
	return true
}

// shellLiteral is v written as one word the shell reads back as v: as it is when it holds no
// byte the shell reads otherwise, else in single quotes; inside double quotes (quoted), as it
// is when it holds no '"', '$', '`' or '\'. ok is false when v is empty or can not be written
// so.
func shellLiteral(v string, quoted bool) (string, bool) {
	switch {
	case v == "" || strings.ContainsAny(v, "\n\r"):
		return "", false
	case quoted:
		return v, !strings.ContainsAny(v, "\"$`\\")
	case !strings.ContainsAny(v, " \t'\"`$\\;&|<>()#*?[]{}~!"):
		return v, true
	case !strings.Contains(v, "'"):
		return "'" + v + "'", true
	}
	return "", false
}

// ansiCQuoteEnd is the index of the single quote that closes bash's ANSI-C quoting, $'...',
// whose opening quote is text[i], -1 when none does: in it a backslash escapes the byte after
// it, a quote included ($'it\'s' is one word, it's).
func ansiCQuoteEnd(text string, i int) int {
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case '\'':
			return j
		}
	}
	return -1
}

// ansiCText is the text of a shell word that is one ANSI-C quote, $'...', with its \' and \"
// escapes undone (its others, \n, \x41, are kept as written, as echo -e's are), and whether w
// is one. The shell expands nothing in it.
func ansiCText(w string) (string, bool) {
	w = strings.TrimSuffix(w, ";")
	if len(w) < 3 || w[0] != '$' || w[1] != '\'' || ansiCQuoteEnd(w, 1) != len(w)-1 {
		return "", false
	}
	return strings.NewReplacer(`\'`, "'", `\"`, `"`).Replace(w[2 : len(w)-1]), true
}

// closingQuote is the index of the '"' that closes the one at line[i] (a backslash escapes the
// byte after it), or the line's last index.
func closingQuote(line string, i int) int {
	for j := i + 1; j < len(line); j++ {
		switch line[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(line) - 1
}

// redisPasswordOptions are the options of redis-server (valkey-server, redis-sentinel) that
// take a password: the server takes every redis.conf directive as an option, --name value, and
// requirepass and masterauth are its password settings (redisPasswordSettings).
var redisPasswordOptions = []string{"--requirepass", "--masterauth"}

// redisOptionPassword says which of redisPasswordOptions a shell script gives a literal
// password, as the word after it ("redis-server --requirepass VALUE"; a line continued with a
// backslash goes on to the next line's first word), "" when none does. A value that is a shell
// expansion ($REDIS_PASSWORD, "${...}", $(cat FILE), `...`) or empty is no literal. The
// option's other forms are found already: --requirepass=VALUE is a setting
// (credentialSettings), and an argument after an argument --requirepass follows a credential
// flag (argumentCredentials).
func redisOptionPassword(script string) string {
	if !strings.Contains(script, "--requirepass") && !strings.Contains(script, "--masterauth") {
		return ""
	}
	words := strings.Fields(script)
	for i, w := range words {
		if !slices.Contains(redisPasswordOptions, w) {
			continue
		}
		j := i + 1
		for j < len(words) && words[j] == `\` {
			j++
		}
		if j == len(words) {
			break
		}
		v := strings.TrimRight(words[j], ";")
		if !strings.ContainsAny(v, "$`") && credentialValue("", strings.Trim(v, `"'`)) {
			return "Redis's " + w + " gives a password"
		}
	}
	return ""
}

// programNameParts are parts of the names of every program of programPasswordOptions (and
// of the commands of configSetCommands): a script that holds none runs none of them, and is
// not split into words.
var programNameParts = []string{"mysql", "mariadb", "mongo", "-cli", "sshpass", "login", "sqlcmd", "bcp", "ldap",
	"passwd", "mc", "rabbitmqctl", "openssl", "keytool", "jarsigner", "ssh-keygen", "zip", "7z", "mosquitto_",
	"cqlsh", "smb", "rpcclient", "etcdctl", "lftp", "psql", "configure set", "config set", "useradd", "usermod",
	"sqlplus", "expdp", "impdp", "vault", "grafana", "elasticsearch-users", "rabbitmqadmin", "kafka-configs", "rclone", "kinit", "gpg",
	"influx", "ipmitool", "cosign", "kafka-storage", "gh auth", "cryptsetup", "wg set", "cypher-shell", "keydb",
	"benchmark", "xtrabackup", "mariabackup", "snmp", "nmcli", "wpa_passphrase", "wpa_cli", "openvpn", "freerdp", "rdesktop",
	"set-agent-token", "ftp", "<<<", "expect", "http -a", "http --auth", "https -a", "https --auth", "xh -a",
	"xh --auth", "curl", "-creds", "oc ", "xtraheader", "xtraHeader", "twine", "racadm", "vsql", "hdbsql",
	"mydumper", "myloader", "maxctrl", "regctl", "nuget", "doctl", "codecov", "mysqlrouter", "poetry", "cargo", "snyk", "sshfs", "credential",
	"netlify", "consul", "sonar", "db2", "zkCli", "zookeeper-shell", "pt-"}

// mayNameProgram reports whether text may name a program of programPasswordOptions: whether
// it holds one of programNameParts. It looks for all of them in one pass (programNameIndex):
// a ConfigMap's values are read as text that may hold command lines, and a Grafana dashboard of
// 70 KB was searched once per part, 41 times (a sixth of sec-configmap-credentials' time on
// ../shared/corpus).
func mayNameProgram(text string) bool {
	idx := programNames()
	for i := 0; i+1 < len(text); i++ {
		pair := uint16(text[i])<<8 | uint16(text[i+1])
		if idx.pairs[pair>>6]&(1<<(pair&63)) == 0 {
			continue
		}
		for _, p := range idx.byFirst[text[i]] {
			if strings.HasPrefix(text[i:], p) {
				return true
			}
		}
	}
	return false
}

// programNameIndex indexes programNameParts for mayNameProgram: pairs is the set of their
// first two bytes (every part has two or more), byFirst the parts by their first byte.
type programNameIndex struct {
	pairs   [1 << 16 / 64]uint64
	byFirst [256][]string
}

// programNames is the index of programNameParts, built when a scan first reads a text.
var programNames = sync.OnceValue(func() *programNameIndex {
	idx := new(programNameIndex)
	for _, p := range programNameParts {
		pair := uint16(p[0])<<8 | uint16(p[1])
		idx.pairs[pair>>6] |= 1 << (pair & 63)
		idx.byFirst[p[0]] = append(idx.byFirst[p[0]], p)
	}
	return idx
})

// binaryPrivateKey says what private key a binary value is or holds, "" when none: a DER
// private key (PKCS #8, PKCS #1 RSA or SEC 1 EC, as crypto/x509 parses them), a Java keystore
// (JKS or JCEKS) with a private or secret key entry (javaKeystoreKey), or a PKCS #12 file whose
// unencrypted safe holds a key bag or a shrouded key bag (openssl pkcs12 -export and keytool
// write the key so; a trust store of certificates only holds neither). gitleaks' private-key
// rule finds PEM keys, not these.
func binaryPrivateKey(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if _, err := x509.ParsePKCS8PrivateKey(v); err == nil {
		return "DER private key"
	}
	if _, err := x509.ParsePKCS1PrivateKey(v); err == nil {
		return "DER private key"
	}
	if _, err := x509.ParseECPrivateKey(v); err == nil {
		return "DER private key"
	}
	if javaKeystoreKey(v) {
		return "Java keystore with a private key"
	}
	if v[0] == 0x30 && (bytes.Contains(v, pkcs12KeyBag) || bytes.Contains(v, pkcs12ShroudedKeyBag)) {
		return "PKCS #12 file with a private key"
	}
	return ""
}

// pkcs12KeyBag and pkcs12ShroudedKeyBag are the DER encodings of the object identifiers of
// PKCS #12's keyBag (1.2.840.113549.1.12.10.1.1) and pkcs8ShroudedKeyBag (...1.2), RFC 7292
// section 4.2.
var (
	pkcs12KeyBag         = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01}
	pkcs12ShroudedKeyBag = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02}
)

// javaKeystoreKey reports whether v is a Java keystore, JKS (magic 0xFEEDFEED) or JCEKS
// (0xCECECECE), with an entry of a private key (tag 1) or, in JCEKS, a secret key (tag 3), as
// OpenJDK's JavaKeyStore and JceKeyStore engineStore write them: the magic, the version (1 or
// 2), the number of entries, then each entry's tag, alias (a 2-byte length and the bytes) and
// 8-byte date, and for a trusted certificate (tag 2) the certificate's type (version 2) and
// encoding (a 4-byte length and the bytes). A trust store of certificates only has none.
func javaKeystoreKey(v []byte) bool {
	if len(v) < 12 {
		return false
	}
	magic := binary.BigEndian.Uint32(v)
	if magic != 0xfeedfeed && magic != 0xcececece {
		return false
	}
	version := binary.BigEndian.Uint32(v[4:])
	count := binary.BigEndian.Uint32(v[8:])
	rest := v[12:]
	skip := func(n int) bool {
		if n < 0 || n > len(rest) {
			return false
		}
		rest = rest[n:]
		return true
	}
	u16 := func() (int, bool) {
		if len(rest) < 2 {
			return 0, false
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		return n, true
	}
	u32 := func() (int, bool) {
		if len(rest) < 4 {
			return 0, false
		}
		n := int(binary.BigEndian.Uint32(rest))
		rest = rest[4:]
		return n, true
	}
	for range min(count, 1<<16) {
		tag, ok := u32()
		if !ok {
			return false
		}
		if tag == 1 || tag == 3 {
			return true
		}
		alias, ok := u16()
		if tag != 2 || !ok || !skip(alias) || !skip(8) {
			return false
		}
		if version == 2 {
			if n, ok := u16(); !ok || !skip(n) {
				return false
			}
		}
		if n, ok := u32(); !ok || !skip(n) {
			return false
		}
	}
	return false
}

// optionValueReader reads a long option that takes a credential no name marks (netlify
// --auth TOKEN), as OPTION VALUE or OPTION=VALUE: the index in args of the word that holds a
// literal one and what says so (after the program's name and the option); -1 when there is
// none.
func optionValueReader(what string, options ...string) func(r *commandReader, args []string) (int, string) {
	return func(r *commandReader, args []string) (int, string) {
		if k, opt := r.optionValue(args, options); k >= 0 {
			return k, "'s " + opt + what
		}
		return -1, ""
	}
}

// optionValue is the index in args of the word that holds a literal value of one of options,
// given as OPTION VALUE or OPTION=VALUE, and the option; -1 when there is none.
func (r *commandReader) optionValue(args []string, options []string) (int, string) {
	for i, w := range args {
		r.read++
		u := strings.TrimLeft(w, `"'`)
		for _, opt := range options {
			switch {
			case u == opt && i+1 < len(args) && literalArgument(args[i+1]):
				return i + 1, opt
			case len(u) > len(opt) && u[len(opt)] == '=' && strings.HasPrefix(u, opt) && literalArgument(u[len(opt)+1:]):
				return i, opt
			}
		}
	}
	return -1, ""
}

// consulGossipKeyOptions are Consul's options that take the gossip encryption key: the
// agent's -encrypt and keyring -install (Go's flag package reads one dash or two).
var consulGossipKeyOptions = []string{"-encrypt", "--encrypt", "-install", "--install"}

// consulCredential reads consul agent -encrypt KEY and consul keyring -install KEY (the gossip
// encryption key, which lets whoever holds it join the cluster's gossip and read it), and
// consul acl set-agent-token TYPE TOKEN (consulAgentToken).
func (r *commandReader) consulCredential(args []string) (int, string) {
	if k, opt := r.optionValue(args, consulGossipKeyOptions); k >= 0 {
		return k, "'s " + opt + " gives the gossip encryption key"
	}
	return r.consulAgentToken(args)
}

// sonarToken reads SonarQube's analysis parameters given to a scanner (-Dsonar.login=TOKEN,
// -D sonar.token=TOKEN, the .NET scanner's /d:sonar.login=TOKEN): sonar.token is a token, and
// so is sonar.login without sonar.password (with one, it is a user's name). The index in args
// of the word that holds a literal one and what says so; -1 when there is none.
func (r *commandReader) sonarToken(args []string) (int, string) {
	password := false
	for _, w := range args {
		r.read++
		password = password || strings.Contains(w, "sonar.password")
	}
	for i, w := range args {
		r.read++
		u := strings.TrimLeft(w, `"'`)
		switch {
		case i > 0 && (args[i-1] == "-D" || args[i-1] == "--define"):
		case strings.HasPrefix(u, "-D"):
			u = u[2:]
		case strings.HasPrefix(u, "/d:"), strings.HasPrefix(u, "-d:"):
			u = u[3:]
		default:
			continue
		}
		u = strings.TrimLeft(u, `"'`)
		for _, name := range []string{"sonar.token=", "sonar.login="} {
			if strings.HasPrefix(u, name) && (name == "sonar.token=" || !password) && literalArgument(u[len(name):]) {
				return i, "'s " + strings.TrimSuffix(name, "=") + " gives a token"
			}
		}
	}
	return -1, ""
}

// db2ConnectPassword reads IBM Db2's command line processor's CONNECT TO DB USER USER USING
// PASSWORD (and ATTACH TO NODE USER USER USING PASSWORD), in its words or in one quoted word
// (db2 "connect to DB user U using VALUE"): the index in args of the word that holds a literal
// password and what says so; -1 when there is none.
func (r *commandReader) db2ConnectPassword(args []string) (int, string) {
	var d db2Words
	for i, w := range args {
		r.read++
		if i+1 < len(args) && db2FileOption(w) {
			// db2 -tvf FILE: the commands of a file the script wrote before (r.written).
			if r.db2WrittenPassword(strings.Trim(args[i+1], `"'`)) {
				return i + 1, " connect's USING gives a password in the file the script wrote"
			}
		}
		words := []string{w}
		if strings.ContainsAny(w, " \t") {
			words = strings.Fields(strings.Trim(w, `"'`))
		}
		for _, f := range words {
			r.read++
			if d.password(f) {
				return i, " connect's USING gives a password"
			}
		}
	}
	return -1, ""
}

// db2FileOption reports whether w is Db2's command line processor's -f option, which reads its
// commands from the file the next word names, alone or ending a cluster of its one-letter
// options (-tvf, -stvf).
func db2FileOption(w string) bool {
	return len(w) >= 2 && w[0] == '-' && w[len(w)-1] == 'f' && strings.Trim(w[1:], "abcdefilmnopqrstvwxz") == ""
}

// db2WrittenPassword reports whether the file the script wrote literal text into before
// (r.written) gives CONNECT TO DB USER USER USING a literal password; each file is read once.
func (r *commandReader) db2WrittenPassword(file string) bool {
	text, ok := r.written[file]
	if !ok || text == overflowedText || r.db2Files[file] {
		return false
	}
	if r.db2Files == nil {
		r.db2Files = map[string]bool{}
	}
	r.db2Files[file] = true
	var d db2Words
	for f := range strings.FieldsSeq(text) {
		r.read++
		if d.password(strings.TrimRight(f, ";")) {
			return true
		}
	}
	return false
}

// db2Words reads the words of Db2's command line processor's commands, in order, for the
// password of CONNECT TO DB USER USER USING PASSWORD (or ATTACH).
type db2Words struct {
	statement bool
	// last are the three words before this one, the last first, in lower case.
	last [3]string
}

// password reports whether f, the next word, is a literal password USING gives.
func (d *db2Words) password(f string) bool {
	if d.statement && d.last[0] == "using" && d.last[2] == "user" && literalArgument(f) {
		return true
	}
	lf := strings.ToLower(strings.Trim(f, `"'`))
	d.statement = d.statement || lf == "connect" || lf == "attach"
	d.last = [3]string{lf, d.last[0], d.last[1]}
	return false
}

// zooKeeperValueOptions are zkCli.sh's options that take the next word as their value.
var zooKeeperValueOptions = map[string]bool{"-server": true, "-timeout": true, "-client-configuration": true}

// zooKeeperAuth reports whether f, the words of a ZooKeeper shell's command, is addauth digest
// USER:PASSWORD with a literal password.
func zooKeeperAuth(f []string) bool {
	if len(f) < 3 || f[0] != "addauth" || f[1] != "digest" {
		return false
	}
	_, p, ok := strings.Cut(strings.Trim(f[2], `"'`), ":")
	return ok && literalArgument(p)
}

// zooKeeperDigestPassword reads a ZooKeeper shell's addauth digest USER:PASSWORD (zkCli.sh,
// Kafka's zookeeper-shell.sh): the index in args of the word that holds a literal password and
// what says so; -1 when there is none.
func (r *commandReader) zooKeeperDigestPassword(args []string) (int, string) {
	for i := 0; i+2 < len(args); i++ {
		r.read++
		if zooKeeperAuth(args[i : i+3]) {
			return i + 2, " addauth digest gives a password"
		}
	}
	return -1, ""
}

// perconaDSNKeys are the keys of a Percona Toolkit DSN besides p (the password): h, u, D, t,
// P, S, F, A, L, m.
const perconaDSNKeys = "huDtPSFALm"

// perconaDSNPassword reads Percona Toolkit's DSNs, KEY=VALUE pairs joined by commas
// (h=db,u=root,p=PASSWORD, also as an option's value: pt-archiver --source h=db,...,p=VALUE),
// whose p is the password, and its tools' -p PASSWORD: the index in args of the word that
// holds a literal password and what says so; -1 when there is none.
func (r *commandReader) perconaDSNPassword(args []string) (int, string) {
	for i, w := range args {
		r.read++
		if w == "-p" && i+1 < len(args) && literalArgument(args[i+1]) {
			return i + 1, "'s -p gives a password"
		}
		u := strings.Trim(w, `"'`)
		if strings.HasPrefix(u, "--") {
			_, u, _ = strings.Cut(u, "=")
		}
		if !strings.Contains(u, ",") {
			continue
		}
		dsn, password := false, ""
		for _, part := range strings.Split(u, ",") {
			r.read++
			if len(part) < 2 || part[1] != '=' {
				continue
			}
			if part[0] == 'p' {
				password = part[2:]
			} else if strings.IndexByte(perconaDSNKeys, part[0]) >= 0 {
				dsn = true
			}
		}
		if dsn && password != "" && literalArgument(password) {
			return i, "'s DSN gives a password (p=)"
		}
	}
	return -1, ""
}

// discordHosts are the hosts of Discord's API, whose /api/webhooks/ID/TOKEN URLs post to a
// channel.
var discordHosts = map[string]bool{"discord.com": true, "discordapp.com": true, "canary.discord.com": true,
	"ptb.discord.com": true}

// webhookURL says which incoming-webhook URL with its token in it text holds, where gitleaks'
// rules know none (they know Slack's hooks.slack.com and Teams' connector URLs): Discord's
// https://discord.com/api/webhooks/ID/TOKEN, Mattermost's https://HOST/hooks/KEY (a key of 26
// lower-case letters and digits; Alertmanager's slack_api_url takes it), Rocket.Chat's
// https://HOST/hooks/ID/TOKEN, and a workflow's signed URL on Azure Logic Apps or Power
// Automate (the Teams Workflows app's: https://...logic.azure.com/workflows/...&sig=SIG), an
// Azure Functions HTTP trigger's with its function key (https://APP.azurewebsites.net/api/F?code=KEY),
// the Telegram Bot API's with the bot's token (https://api.telegram.org/botID:TOKEN/sendMessage)
// and IFTTT Webhooks' with its key (https://maker.ifttt.com/trigger/EVENT/with/key/KEY). Whoever
// has the URL posts to the channel, starts the workflow, runs the function or acts as the bot. A URL with an interpolation or a
// placeholder in it (${TOKEN}, $(TOKEN), {{ }}, <token>) is none. "" when text holds none.
func webhookURL(text string) string {
	if !strings.Contains(text, "/hooks/") && !strings.Contains(text, "/api/webhooks/") && !strings.Contains(text, "sig=") &&
		!strings.Contains(text, "code=") && !strings.Contains(text, "/bot") && !strings.Contains(text, "/with/key/") {
		return ""
	}
	for from := 0; ; {
		i := strings.Index(text[from:], "://")
		if i < 0 {
			return ""
		}
		i += from
		from = i + 3
		start := i
		for start > 0 && isSchemeChar(text[start-1]) {
			start--
		}
		end := i + 3
		for end < len(text) && strings.IndexByte(" \t\r\n\"'`<>\\", text[end]) < 0 {
			end++
		}
		raw := strings.TrimRight(text[start:end], ".,;)]}")
		if strings.ContainsAny(raw, "${}") {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" && u.Scheme != "http" {
			continue
		}
		host := strings.ToLower(u.Hostname())
		segs := strings.Split(strings.Trim(u.Path, "/"), "/")
		switch {
		case discordHosts[host] && len(segs) >= 4 && segs[0] == "api" && segs[1] == "webhooks" &&
			strings.Trim(segs[2], "0123456789") == "" && webhookToken(segs[3], 40):
			return "Discord webhook URL"
		case len(segs) == 2 && segs[0] == "hooks" && len(segs[1]) == 26 && strings.Trim(segs[1], "abcdefghijklmnopqrstuvwxyz0123456789") == "" &&
			webhookToken(segs[1], 26):
			return "Mattermost webhook URL"
		case len(segs) == 3 && segs[0] == "hooks" && webhookToken(segs[1], 16) && webhookToken(segs[2], 32):
			return "Rocket.Chat webhook URL"
		case strings.HasSuffix(host, ".logic.azure.com") || strings.HasSuffix(host, ".powerplatform.com"):
			if webhookToken(u.Query().Get("sig"), 20) {
				return "signed workflow URL"
			}
		case strings.HasSuffix(host, ".azurewebsites.net"):
			// An HTTP trigger's function key, base64 with its padding.
			if webhookToken(strings.TrimRight(u.Query().Get("code"), "="), 20) {
				return "Azure Functions URL with its function key"
			}
		case host == "api.telegram.org" && strings.HasPrefix(segs[0], "bot"):
			// The Bot API's https://api.telegram.org/botID:TOKEN/METHOD.
			if id, token, ok := strings.Cut(segs[0][len("bot"):], ":"); ok && id != "" && strings.Trim(id, "0123456789") == "" && webhookToken(token, 30) {
				return "Telegram bot URL with its token"
			}
		case host == "maker.ifttt.com":
			// IFTTT Webhooks' /trigger/EVENT/with/key/KEY (and .../json/with/key/KEY).
			for j := 0; j+2 < len(segs); j++ {
				if segs[j] == "with" && segs[j+1] == "key" && webhookToken(segs[j+2], 16) {
					return "IFTTT webhook URL with its key"
				}
			}
		}
	}
}

// webhookToken reports whether s is a webhook URL's token: at least n letters, digits, '_' and
// '-', with a digit and a letter (not a word, a placeholder, xxx-generatedkey-xxx), and a
// literal (credentialValue).
func webhookToken(s string, n int) bool {
	if len(s) < n {
		return false
	}
	digit, letter := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letter = true
		case c == '_' || c == '-':
		default:
			return false
		}
	}
	return digit && letter && credentialValue("token", s)
}
