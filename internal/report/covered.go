package report

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// MaxCovered bounds the covered findings an exception's usage lists (ExceptionUsage.Covered).
const MaxCovered = 5

// coveredDigestHex is how many hex digits of the SHA-256 ExceptionUsage.CoveredDigest keeps:
// 64 bits, which a tenant choosing the names of what the exception covers cannot match with
// another set of findings.
const coveredDigestHex = 16

// coveredItem is one finding an exception covers, with the key it is sorted and digested by.
type coveredItem struct {
	kind, name, container, check, namespace string // kind is the engine.IdentityKind
	ref                                     *engine.Result
}

// coveredBy collects, by exception key, the findings of the namespace ns ("" for the
// cluster-scoped objects) that an exception covers: those it waives (Excepted) and those their
// objects left undecided that it would waive were they failures, as ExceptionOutcome.Matched
// counts them.
func coveredBy(ev *engine.Evaluation, ns string) map[string][]coveredItem {
	out := map[string][]coveredItem{}
	for i := range ev.Results {
		r := &ev.Results[i]
		if r.Exception == nil || (r.Status != engine.StatusExcepted && !r.FailedOnObject()) || r.Namespace() != ns {
			continue
		}
		it := coveredItem{container: r.Container, check: r.Check.ID, ref: r}
		if o := r.Object; o != nil {
			it.kind, it.name, it.namespace = engine.IdentityKind(o.APIVersion, o.Kind), o.Name, o.Namespace
		}
		out[r.Exception.Key] = append(out[r.Exception.Key], it)
	}
	return out
}

// Coverage is, by exception key, what each exception covers in one namespace ("" for the
// cluster-scoped objects), as one evaluation found it (CoverageOf). Collecting, sorting and
// digesting every finding an exception covers is the costly part (tens of milliseconds for
// tens of thousands of findings), so it is made once per evaluation of a namespace and shared
// by the report's status (NamespaceInput.Coverage, ExceptionsFor) and the exceptions' status
// (Digests). Exceptions that cover nothing there are left out.
type Coverage map[string]Covered

// Covered is what one exception covers in a namespace: the digest of every finding it covers
// (ExceptionUsage.CoveredDigest) and the first MaxCovered of them (ExceptionUsage.Covered).
type Covered struct {
	Digest string
	First  []v1alpha1.CoveredFinding
}

// CoverageOf collects what each exception covers in the namespace ns of the evaluation.
func CoverageOf(ev *engine.Evaluation, ns string) Coverage {
	out := Coverage{}
	for key, items := range coveredBy(ev, ns) {
		out[key] = coveredOf(items)
	}
	return out
}

// Digests are, by exception key, the digests of what each exception covers: those that cover
// none are left out.
func (c Coverage) Digests() map[string]string {
	out := make(map[string]string, len(c))
	for key, cov := range c {
		out[key] = cov.Digest
	}
	return out
}

// setCovered fills in what an exception's usage shows of the findings it covers.
func setCovered(u *v1alpha1.ExceptionUsage, c Covered) {
	u.CoveredDigest, u.Covered = c.Digest, slices.Clone(c.First)
}

// compareCovered orders covered findings by kind, name, container, check and namespace.
func compareCovered(a, b *coveredItem) int {
	if c := strings.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if c := strings.Compare(a.container, b.container); c != 0 {
		return c
	}
	if c := strings.Compare(a.check, b.check); c != 0 {
		return c
	}
	return strings.Compare(a.namespace, b.namespace)
}

// coveredOf is what an exception's usage shows of the findings it covers: the first MaxCovered
// by kind, name, container and check, and the digest of them all (coveredDigest). Both depend
// only on the set of findings, never on the order the evaluation met them, so that an
// unchanged namespace's report is not rewritten. None: the zero Covered.
func coveredOf(items []coveredItem) Covered {
	var u Covered
	if len(items) == 0 {
		return u
	}
	u.Digest = coveredDigest(items)
	n := min(len(items), MaxCovered)
	u.First = make([]v1alpha1.CoveredFinding, n)
	for i, it := range items[:n] {
		c := v1alpha1.CoveredFinding{Check: it.check, Container: it.container}
		if o := it.ref.Object; o != nil {
			c.Resource = v1alpha1.ResourceRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
		}
		u.First[i] = c
	}
	return u
}

// coveredDigest sorts items (compareCovered) and digests them: "sha256:" and the first
// coveredDigestHex hex digits of the SHA-256 of each item's findingKey and a newline.
func coveredDigest(items []coveredItem) string {
	slices.SortFunc(items, func(a, b coveredItem) int { return compareCovered(&a, &b) })
	h := sha256.New()
	var line []byte
	for i := range items {
		it := &items[i]
		// findingKey's, and a newline: names, kinds, containers and check IDs hold neither NUL
		// nor newline.
		line = append(line[:0], it.check...)
		line = append(append(line, 0), it.kind...)
		line = append(append(line, 0), it.namespace...)
		line = append(append(line, 0), it.name...)
		line = append(append(line, 0), it.container...)
		h.Write(append(line, '\n'))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:coveredDigestHex]
}

// CoveredDigests are, by exception key, the digests (ExceptionUsage.CoveredDigest) of what each
// exception covers in the namespace ns ("" for the cluster-scoped objects): those that cover
// none are left out. CoverageOf(ev, ns).Digests(), for a caller that needs nothing else.
func CoveredDigests(ev *engine.Evaluation, ns string) map[string]string {
	return CoverageOf(ev, ns).Digests()
}

// CombinedDigest digests the digests of what an exception covers in several places (profile,
// namespace, digest), in any order, as ControlExceptionStatus.CoveredDigest: "" for none.
func CombinedDigest(places [][3]string) string {
	if len(places) == 0 {
		return ""
	}
	lines := make([]string, len(places))
	for i, p := range places {
		lines[i] = p[0] + "\x00" + p[1] + "\x00" + p[2] + "\n"
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "")))
	return "sha256:" + hex.EncodeToString(sum[:])[:coveredDigestHex]
}

// Would is what a PendingApproval exception would cover in a namespace were it approved now
// (engine.ExceptionOutcome.WouldCover): how many findings, and their digest in Covered.Digest's
// form, which is what Covered.Digest will be once it is approved, if nothing changes meanwhile.
type Would struct {
	Count  int
	Digest string
}

// WouldCover is, by exception key, what each PendingApproval exception of the evaluation would
// cover in the namespace ns ("" for the cluster-scoped objects) were it approved: those that
// would cover none there are left out.
func WouldCover(ev *engine.Evaluation, ns string) map[string]Would {
	out := map[string]Would{}
	for _, o := range ev.Exceptions {
		items := o.WouldCover(ns)
		if len(items) == 0 {
			continue
		}
		list := make([]coveredItem, len(items))
		for i, it := range items {
			list[i] = coveredItem{kind: it.Kind, name: it.Name, container: it.Container, check: it.Check, namespace: it.Namespace}
		}
		out[o.Key] = Would{Count: len(list), Digest: coveredDigest(list)}
	}
	return out
}
