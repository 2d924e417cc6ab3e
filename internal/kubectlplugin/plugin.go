// Package kubectlplugin is `kubectl soc2`: the operator's binary installed as kubectl-soc2 (or
// run as `soc2-operator kubectl`). It reads ComplianceReports (status, findings), explains
// the checks of the catalogue (explain), and writes the ControlExceptions of the approval flow
// (request-exception, approve) as the README describes: the API server records the requester,
// and an approval carries the approver's own user name, which the plugin asks the API server
// for (a SelfSubjectReview).
//
// It takes kubectl's connection flags (--kubeconfig, --context, --cluster, --user,
// -n/--namespace, --as, --as-group, --token, --server, --request-timeout, ...), bound with
// client-go's clientcmd as kubectl binds them, and -o table|wide|json|yaml.
package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"
	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the request failed: an API error, nothing found, an unknown check
	ExitUsage = 2 // bad flags or arguments
)

// Env is what a command runs with.
type Env struct {
	// Prog is how the user invoked the plugin: "kubectl soc2" or "soc2-operator kubectl".
	Prog           string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Now is the clock for ages and expiry durations.
	Now func() time.Time
}

// command is one subcommand.
type command struct {
	name, args, summary, long string
	// flags adds the command's own flags; kube says whether it talks to the API server (and so
	// takes kubectl's connection flags).
	flags func(fs *pflag.FlagSet) any
	kube  bool
	// offline commands accept kubectl's flags (a habit, an alias) and ignore them.
	offline bool
	run     func(ctx context.Context, e *Env, k *kube, opts any, args []string) error
}

func commands() []*command {
	return []*command{statusCommand(), findingsCommand(), explainCommand(), requestExceptionCommand(), approveCommand()}
}

// usageError is a mistake in how the command was called: exit 2, with a pointer to --help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Run runs the plugin with args (without the program name) and returns the exit code.
func Run(args []string, e *Env) int {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Prog == "" {
		e.Prog = "kubectl soc2"
	}
	// kubectl's flags may come before the subcommand too: `kubectl soc2 --context prod status`.
	// They are bound to a kube of their own: binding the subcommand's flags resets k.
	k, before := newKube(), newKube()
	global := pflag.NewFlagSet(e.Prog, pflag.ContinueOnError)
	global.SetOutput(io.Discard)
	global.SetInterspersed(false)
	before.bind(global)
	help := global.BoolP("help", "h", false, "Print this help")
	if err := global.Parse(args); err != nil {
		fmt.Fprintf(e.Stderr, "error: %v\nSee '%s --help'.\n", err, e.Prog)
		return ExitUsage
	}
	rest := global.Args()
	if *help || len(rest) == 0 || rest[0] == "help" {
		if len(rest) > 1 && rest[0] == "help" {
			if c := find(rest[1]); c != nil {
				printHelp(e.Stdout, e.Prog, c)
				return ExitOK
			}
		}
		usage(e.Stdout, e.Prog)
		return ExitOK
	}
	c := find(rest[0])
	if c == nil {
		fmt.Fprintf(e.Stderr, "error: unknown command %q for %q\n\n", rest[0], e.Prog)
		usage(e.Stderr, e.Prog)
		return ExitUsage
	}
	fs := pflag.NewFlagSet(e.Prog+" "+c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opts any
	if c.flags != nil {
		opts = c.flags(fs)
	}
	if c.kube {
		k.bind(fs)
	}
	fs.BoolP("help", "h", false, "Print this help")
	if err := fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printHelp(e.Stdout, e.Prog, c)
			return ExitOK
		}
		fmt.Fprintf(e.Stderr, "error: %v\nSee '%s %s --help'.\n", err, e.Prog, c.name)
		return ExitUsage
	}
	if h, _ := fs.GetBool("help"); h {
		printHelp(e.Stdout, e.Prog, c)
		return ExitOK
	}
	if c.kube {
		// The flags given before the subcommand, then those after (which win, as in kubectl).
		if err := k.reapply(global, fs); err != nil {
			fmt.Fprintf(e.Stderr, "error: %v\n", err)
			return ExitUsage
		}
	}
	ctx := context.Background()
	err := c.run(ctx, e, k, opts, fs.Args())
	var ue usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.Stderr, "error: %v\nSee '%s %s --help'.\n", err, e.Prog, c.name)
		return ExitUsage
	default:
		fmt.Fprintf(e.Stderr, "error: %v\n", err)
		return ExitError
	}
}

func find(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer, prog string) {
	fmt.Fprintf(w, "%s: SOC 2 compliance of the cluster, from the soc2-operator's reports.\n\n", prog)
	fmt.Fprintf(w, "Usage:\n  %s <command> [flags]\n\nCommands:\n", prog)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nkubectl's flags (--kubeconfig, --context, -n, --as, ...) go after %q: kubectl refuses flags\nbefore a plugin's name.\n", prog)
	fmt.Fprintf(w, "Run '%s <command> --help' for a command's flags.\n", prog)
}

func printHelp(w io.Writer, prog string, c *command) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s %s %s\n", c.summary, prog, c.name, c.args)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.ReplaceAll(strings.TrimSpace(c.long), "PROG", prog))
	}
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.BoolP("help", "h", false, "Print this help")
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsagesWrapped(100))
	if c.kube && !c.offline {
		ks := pflag.NewFlagSet("kubectl", pflag.ContinueOnError)
		newKube().bind(ks)
		fmt.Fprintf(w, "\nkubectl's flags:\n%s", ks.FlagUsagesWrapped(100))
	}
}

// kube holds kubectl's connection flags and makes clients from them.
type kube struct {
	kubeconfig string
	overrides  clientcmd.ConfigOverrides
}

func newKube() *kube { return &kube{} }

// bind adds kubectl's flags to fs, with kubectl's names and meanings.
func (k *kube) bind(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, clientcmd.RecommendedConfigPathFlag, "", "Path to the kubeconfig file to use for CLI requests.")
	clientcmd.BindOverrideFlags(&k.overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
}

// reapply sets the overrides from the flags given before the subcommand, then from those after.
// Both sets are bound to k's fields, and binding resets them, so the values given are read
// first.
func (k *kube) reapply(sets ...*pflag.FlagSet) error {
	type given struct {
		name   string
		values []string
	}
	var all []given
	for _, fs := range sets {
		fs.Visit(func(f *pflag.Flag) {
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				all = append(all, given{f.Name, sv.GetSlice()})
				return
			}
			all = append(all, given{f.Name, []string{f.Value.String()}})
		})
	}
	*k = kube{}
	target := pflag.NewFlagSet("merged", pflag.ContinueOnError)
	k.bind(target)
	for _, g := range all {
		if target.Lookup(g.name) == nil {
			continue
		}
		for _, v := range g.values {
			if err := target.Set(g.name, v); err != nil {
				return fmt.Errorf("--%s: %w", g.name, err)
			}
		}
	}
	return nil
}

func (k *kube) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &k.overrides)
}

// namespace is -n, else the context's namespace, else "default".
func (k *kube) namespace() (string, error) {
	ns, _, err := k.clientConfig().Namespace()
	if err != nil {
		return "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return ns, nil
}

// namespaceSet says whether -n was given.
func (k *kube) namespaceSet() bool { return k.overrides.Context.Namespace != "" }

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(v1alpha1.AddToScheme(s))
	utilruntime.Must(authenticationv1.AddToScheme(s))
	return s
}()

func (k *kube) restConfig() (*rest.Config, error) {
	cfg, err := k.clientConfig().ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, errors.New("no cluster to talk to: no kubeconfig found (set KUBECONFIG, pass --kubeconfig, or run inside a cluster)")
		}
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-soc2"
	return cfg, nil
}

func (k *kube) client() (client.Client, error) {
	cfg, err := k.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.Host, err)
	}
	return c, nil
}

// whoAmI is the user the API server authenticates the request as (after --as), from a
// SelfSubjectReview: the name an approval must carry.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview, authentication.k8s.io/v1): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", errors.New("the API server's SelfSubjectReview named no user")
	}
	return review.Status.UserInfo.Username, nil
}
