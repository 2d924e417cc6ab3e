package checks

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// perLineInputs are texts a tenant writes in a ConfigMap's key or a container's sh -c script,
// of n lines each, that make the credential readers that read text line by line work on every
// line: Redis's ACL users, requirepass and sentinel directives, each with a literal password,
// settings and a script's commands.
var perLineInputs = map[string]func(n int) string{
	"acl users": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "user u%d on >Pw-%d-k7QzX9 ~* +@all\n", i, i)
		}
		return b.String()
	},
	"requirepass": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "requirepass Pw-%d-k7QzX9\n", i)
		}
		return b.String()
	},
	"sentinel auth-pass": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "sentinel auth-pass m%d Pw-%d-k7QzX9\n", i, i)
		}
		return b.String()
	},
	"settings": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "svc%d.password = Pw-%d-k7QzX9\n", i, i)
		}
		return b.String()
	},
	"script commands": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "redis-cli -h r%d -a Pw-%d-k7QzX9 ping\n", i, i)
		}
		return b.String()
	},
}

// BenchmarkPerLineReadersWorstCase is what the credential readers spend on n lines a tenant
// chose (perLineInputs), as a ConfigMap's key (keyCredential, with the ConfigMap's data as the
// scripts that may replace a value) and as an sh -c script (argumentCredential): the time a
// line should not grow with n.
func BenchmarkPerLineReadersWorstCase(b *testing.B) {
	keyCredential("a", "warm", false)
	for name, gen := range perLineInputs {
		for _, n := range []int{1000, 4000, 16000} {
			text := gen(n)
			data := map[string]string{"redis.conf": text}
			b.Run(fmt.Sprintf("%s/configmap/%d", name, n), func(b *testing.B) {
				for b.Loop() {
					keyCredential("redis.conf", text, false, data)
				}
			})
			b.Run(fmt.Sprintf("%s/script/%d", name, n), func(b *testing.B) {
				for b.Loop() {
					argumentCredential(text, nil, nil)
				}
			})
		}
	}
}

// TestRedisACLLinesReadTheScriptsOnce: redisPasswordDirectives looked for each ACL user's
// password in every script of the ConfigMap (sedReplaced), the ConfigMap's own redis.conf
// among them, so 4,000 users in 150 KB read 1.8 GB (16,000 in 600 KB: 30 s); it now reads them
// within sedScanBudget and looks the rest up in an index, with the same findings.
func TestRedisACLLinesReadTheScriptsOnce(t *testing.T) {
	text := perLineInputs["acl users"](4000)
	data := map[string]string{"redis.conf": text,
		"init.sh": "sed -i \"s/Pw-7-k7QzX9/${PW7}/\" /data/redis.conf\nsed -i 's|Pw-9-k7QzX9|'$PW9'|' /data/redis.conf\n"}
	sedRead = 0
	names := redisPasswordDirectives(text, []map[string]string{data})
	if sedRead > sedScanBudget {
		t.Errorf("the scripts were read %d bytes over (%d lines of %d bytes), more than %d", sedRead, 4000, len(text), sedScanBudget)
	}
	if len(names) != 3998 || slices.Contains(names, "user u7's password") || slices.Contains(names, "user u9's password") ||
		!slices.Contains(names, "user u3999's password") {
		t.Errorf("%d names (want 3,998, all users but u7 and u9, whose passwords init.sh replaces): %.200q", len(names), names)
	}
	// Through the index, as by strings.Contains.
	for value, want := range map[string]bool{"Pw-7-k7QzX9": true, "Pw-9-k7QzX9": true, "Pw-8-k7QzX9": false, "k7QzX9": false,
		"\"${PW7}\"": false, "i": false, "Pw-7-k7QzX9/${PW7}": true, "Pw-7\x00": false} {
		whole := sedReplaced(value, []map[string]string{data})
		indexed := &sedScripts{scripts: []map[string]string{data}, scanned: sedScanBudget}
		if got := indexed.replaced(value); got != want || whole != want {
			t.Errorf("%q: replaced through the index %v, by strings.Contains %v, want %v", value, got, whole, want)
		}
	}
}

// TestRedisACLUsersAreNamedAFew: a finding of an ACL file's passwords named every user, so a
// ConfigMap of 4,000 users made a 100 KB message in the report, the PolicyReport and each alert.
// It names the first few and counts the rest, as credentialSettings does.
func TestRedisACLUsersAreNamedAFew(t *testing.T) {
	text := perLineInputs["acl users"](4000)
	got := keyCredential("redis.conf", text, false, map[string]string{"redis.conf": text})
	want := "sets user u0's password, user u1's password, user u2's password, 3997 more"
	if got != want {
		t.Errorf("keyCredential of 4,000 ACL users = %.300q (%d bytes), want %q", got, len(got), want)
	}
}
