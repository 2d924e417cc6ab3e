package checks

import (
	"fmt"
	"strings"
	"testing"
)

// round20Inputs are texts of n lines or items a tenant writes in a ConfigMap's key that make
// the readers of round 20 read all of it without finding a literal (each value a variable):
// a JAAS file's users, a FreeRADIUS users file, a Dovecot passwd-file, and Alertmanager's
// receivers as JSON.
var round20Inputs = map[string]func(n int) string{
	"jaas users": func(n int) string {
		var b strings.Builder
		b.WriteString("KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n")
		for i := range n {
			fmt.Fprintf(&b, "  user_u%d=\"${P%d}\"\n", i, i)
		}
		b.WriteString(";\n};\n")
		return b.String()
	},
	"radius users": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "u%d Cleartext-Password := \"%%{env:P%d}\", User-Password == \"${P%d}\"\n", i, i, i)
		}
		return b.String()
	},
	"dovecot users": func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "u%d:{PLAIN}${P%d}:1000:1000::/var/mail/u%d\n", i, i, i)
		}
		return b.String()
	},
	"alertmanager json": func(n int) string {
		var b strings.Builder
		b.WriteString(`{"receivers": [`)
		for i := range n {
			fmt.Fprintf(&b, "{\"name\": \"r%d\", \"pagerduty_configs\": [{\"routing_key\": \"${K%d}\", \"pagerduty_configs\": [{\"service_key\": \"${S%d}\"}]}]},\n", i, i, i)
		}
		b.WriteString("]}\n")
		return b.String()
	},
}

// BenchmarkRound20ReadersWorstCase is what keyCredential spends on n lines of round20Inputs:
// the time a line should not grow with n.
func BenchmarkRound20ReadersWorstCase(b *testing.B) {
	keyCredential("a", "warm", false)
	for name, gen := range round20Inputs {
		for _, n := range []int{1000, 4000, 16000} {
			text := gen(n)
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					keyCredential("users", text, false)
				}
			})
		}
	}
}
