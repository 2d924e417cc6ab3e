package evidence

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/journal"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

// Exit codes of `soc2-operator evidence`.
const (
	ExitOK       = 0
	ExitProblems = 1 // the chain did not verify (the pack is still written, saying so)
	ExitUsage    = 2
	ExitStore    = 3 // the store could not be read
)

// Run is `soc2-operator evidence verify|pack`.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch args[0] {
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "pack":
		return runPack(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "soc2-operator evidence: unknown command %q\n", args[0])
		usage(stderr)
		return ExitUsage
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	fmt.Fprintln(w, "  soc2-operator evidence verify --store URL (--public-key FILE | --unsigned) [--from DATE] [--to DATE] [--cluster C|all] [--locked-until DATE] [--heads FILE]")
	fmt.Fprintln(w, "  soc2-operator evidence pack --store URL (--public-key FILE | --unsigned) --from DATE --to DATE [--profile P] [--namespace NS] [--cluster C|all] [--locked-until DATE] [--heads FILE] -o DIR")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "--public-key checks every segment's signature; --unsigned reads a journal the operator does not sign")
	fmt.Fprintln(w, "(chain and digests only: whoever can write to the store can write another chain; segments that carry a signature are a problem).")
	fmt.Fprintln(w, "URL: a directory, file:///path, or s3://bucket/prefix?region=R[&endpoint=URL&path-style=true].")
	fmt.Fprintln(w, "DATE: 2026-01-31 (a day, UTC; --to includes the whole day) or RFC 3339 (2026-01-31T12:00:00Z).")
	fmt.Fprintln(w, "--heads FILE: kubectl get complianceprofiles -o yaml, saved: a chain that no longer holds the head published there is rewound.")
	fmt.Fprintln(w, "Without --locked-until, retention is not checked: the output says \"retention NOT verified\" (exit codes do not change).")
	fmt.Fprintln(w, "Exit codes: 0 verified; 1 the chain has problems (named on stdout; a pack is still written); 2 usage; 3 the store could not be read.")
}

type common struct {
	store, from, to, cluster, publicKey, lockedUntil, heads string
	unsigned                                                bool
	// locked is --locked-until, parsed by resolve.
	locked time.Time
	// published is --heads, read by resolve.
	published []v1alpha1.JournalHead
}

func (c *common) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", "", "The journal store URL (required)")
	fs.StringVar(&c.from, "from", "", "Start of the period (a day or RFC 3339)")
	fs.StringVar(&c.to, "to", "", "End of the period (a day, included, or RFC 3339, excluded)")
	fs.StringVar(&c.cluster, "cluster", "all", "The cluster whose journal to read, or all")
	fs.StringVar(&c.publicKey, "public-key", "", "PEM ed25519 public key: every segment must carry a valid signature by it")
	fs.BoolVar(&c.unsigned, "unsigned", false, "Check the chain and digests only, not signatures (a journal the operator does not sign)")
	fs.StringVar(&c.heads, "heads", "", "A copy of the ComplianceProfiles (kubectl get complianceprofiles -o yaml or -o json): each chain must still hold the journal head the operator published in their status.journalHeads")
	fs.StringVar(&c.lockedUntil, "locked-until", "", "Require every segment read to be under S3 Object Lock in compliance mode until at least this day or time (needs s3:GetObjectRetention)")
}

func (c *common) resolve(ctx context.Context, name string) (store journal.Store, from, to time.Time, clusters []string, pub ed25519.PublicKey, code int, err error) {
	if c.store == "" {
		return nil, from, to, nil, nil, ExitUsage, errors.New("--store is required")
	}
	// Without a key, anyone who can write to the store can write a whole chain that verifies:
	// checking no signature is said, not defaulted to.
	switch {
	case c.publicKey == "" && !c.unsigned:
		return nil, from, to, nil, nil, ExitUsage, errors.New("--public-key FILE (the operator's journal signing key) is required to check signatures; " +
			"--unsigned checks only the chain and digests of a journal the operator does not sign")
	case c.publicKey != "" && c.unsigned:
		return nil, from, to, nil, nil, ExitUsage, errors.New("--public-key and --unsigned exclude each other")
	}
	if c.from != "" {
		if from, err = ParseTime(c.from, false); err != nil {
			return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--from: %w", err)
		}
	}
	if c.to != "" {
		if to, err = ParseTime(c.to, true); err != nil {
			return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--to: %w", err)
		}
	}
	if c.from != "" && c.to != "" && !from.Before(to) {
		// A period given backwards is a typing error: verify would report it uncovered (exit 1)
		// and pack refuse it only after reading the store.
		return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("the period is empty: --from %s is not before --to %s",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if c.lockedUntil != "" {
		if c.locked, err = ParseTime(c.lockedUntil, false); err != nil {
			return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--locked-until: %w", err)
		}
	}
	if c.heads != "" {
		if c.published, err = ReadHeads(c.heads); err != nil {
			return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--heads: %w", err)
		}
	}
	if c.publicKey != "" {
		if pub, err = journal.LoadPublicKey(c.publicKey); err != nil {
			return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--public-key: %w", err)
		}
	}
	if store, err = journal.OpenStore(ctx, c.store); err != nil {
		return nil, from, to, nil, nil, ExitUsage, fmt.Errorf("--store: %w", err)
	}
	all, err := journal.Clusters(ctx, store)
	if err != nil {
		return nil, from, to, nil, nil, ExitStore, err
	}
	if c.cluster == "all" || c.cluster == "" {
		clusters = all
		if len(clusters) == 0 {
			return nil, from, to, nil, nil, ExitStore, fmt.Errorf("%s holds no journal", store)
		}
	} else {
		if !slices.Contains(all, c.cluster) {
			return nil, from, to, nil, nil, ExitStore, fmt.Errorf("%s holds no journal for cluster %q (it has %v)", store, c.cluster, all)
		}
		clusters = []string{c.cluster}
	}
	return store, from, to, clusters, pub, ExitOK, nil
}

// ParseTime reads a day (UTC midnight; as an end, the next midnight) or an RFC 3339 time.
func ParseTime(s string, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a day (2006-01-02) nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// escapeErrors is stderr once the flags are read (their usage is laid out with tabs): errors
// name what is in the store (clusters, objects), which whoever can write to it names, so their
// control characters are shown, not obeyed by the terminal.
func escapeErrors(stderr io.Writer) io.Writer { return termtable.EscapeLines(stderr) }

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	var output string
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs)
	fs.StringVar(&output, "o", "text", "Output: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	stderr = escapeErrors(stderr)
	if fs.NArg() > 0 || (output != "text" && output != "json") {
		fmt.Fprintln(stderr, "soc2-operator evidence verify: unexpected arguments (or -o not text|json)")
		return ExitUsage
	}
	store, from, to, clusters, pub, code, err := c.resolve(ctx, "verify")
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator evidence verify: %v\n", err)
		return code
	}
	var results []journal.Result
	ok := true
	for _, cl := range clusters {
		res, err := journal.Scan(ctx, store, journal.ScanOptions{Cluster: cl, From: from, To: to, PublicKey: pub, Unsigned: c.unsigned, LockedUntil: c.locked,
			Heads: PublishedHeads(c.published, cl)})
		if err != nil {
			fmt.Fprintf(stderr, "soc2-operator evidence verify: %v\n", err)
			return ExitStore
		}
		ok = ok && res.OK()
		results = append(results, res)
	}
	if c.cluster == "all" || c.cluster == "" {
		// A cluster whose head was published and whose whole journal is gone from the store.
		for _, h := range c.published {
			if slices.Contains(clusters, h.Cluster) || slices.ContainsFunc(results, func(r journal.Result) bool { return r.Cluster == h.Cluster }) {
				continue
			}
			results = append(results, journal.Result{Cluster: h.Cluster, Problems: []journal.Problem{{Cluster: h.Cluster, Segment: "(none)", Seq: uint64(h.Sequence), Kind: journal.ProblemRewound,
				Detail: fmt.Sprintf("the store holds no journal for this cluster, but --heads says segment %d (SHA-256 %s) was published", h.Sequence, h.Digest)}}})
			ok = false
		}
	}
	if output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"verified": ok, "chains": results,
			"retentionVerified": RetentionVerified(results, c.locked), "lockedUntil": ts(c.locked)})
	} else {
		WriteResults(stdout, results, c.locked)
	}
	if !ok {
		return ExitProblems
	}
	return ExitOK
}

func runPack(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c common
	var profile, namespace, dir string
	fs := flag.NewFlagSet("evidence pack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs)
	fs.StringVar(&profile, "profile", "", "Only this ComplianceProfile's records (default: all)")
	fs.StringVar(&namespace, "namespace", "", "Only this namespace's rows (default: all); the chain is still verified whole")
	fs.StringVar(&dir, "o", "", "Output directory (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	stderr = escapeErrors(stderr)
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soc2-operator evidence pack: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	if dir == "" || c.from == "" || c.to == "" {
		fmt.Fprintln(stderr, "soc2-operator evidence pack: --from, --to and -o are required")
		return ExitUsage
	}
	if namespace != "" {
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			fmt.Fprintf(stderr, "soc2-operator evidence pack: --namespace %q is not a namespace's name: %s\n", namespace, strings.Join(errs, "; "))
			return ExitUsage
		}
	}
	store, from, to, clusters, pub, code, err := c.resolve(ctx, "pack")
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator evidence pack: %v\n", err)
		return code
	}
	p, err := Build(ctx, store, Options{From: from, To: to, Profile: profile, Namespace: namespace, Clusters: clusters, PublicKey: pub, Unsigned: c.unsigned, LockedUntil: c.locked, Heads: c.published, Dir: dir})
	if err != nil {
		fmt.Fprintf(stderr, "soc2-operator evidence pack: %v\n", err)
		return ExitStore
	}
	fmt.Fprintf(stdout, "Wrote %s: %d records, %d deviations, %d exceptions, %d files (open index.html)\n", dir, p.Records, len(p.Deviations), len(p.Exceptions), len(p.Files))
	WriteResults(stdout, p.Verification, c.locked)
	if !p.OK() {
		fmt.Fprintln(stdout, "The journal did NOT verify: the pack says so on its first page.")
		return ExitProblems
	}
	return ExitOK
}

// ReadHeads reads the journal heads published in a saved copy of ComplianceProfiles (`kubectl
// get complianceprofiles -o yaml` or `-o json`: a list, or one profile).
func ReadHeads(path string) ([]v1alpha1.JournalHead, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list v1alpha1.ComplianceProfileList
	if err := yaml.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: not ComplianceProfiles: %w", path, err)
	}
	if len(list.Items) == 0 {
		var one v1alpha1.ComplianceProfile
		if err := yaml.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("%s: not ComplianceProfiles: %w", path, err)
		}
		list.Items = append(list.Items, one)
	}
	var out []v1alpha1.JournalHead
	for _, p := range list.Items {
		out = append(out, p.Status.JournalHeads...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ComplianceProfile in it has status.journalHeads", path)
	}
	return out, nil
}

// PublishedHeads are the heads of cluster's journal among heads, for journal.ScanOptions.
func PublishedHeads(heads []v1alpha1.JournalHead, cluster string) []journal.PublishedHead {
	var out []journal.PublishedHead
	for _, h := range heads {
		if h.Cluster == cluster && h.Sequence > 0 {
			out = append(out, journal.PublishedHead{Head: journal.Head{Seq: uint64(h.Sequence), Digest: h.Digest, Time: h.Time.Time},
				Source: "--heads (status.journalHeads[cluster=" + h.Cluster + "])"})
		}
	}
	return out
}
