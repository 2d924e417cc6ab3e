package checks

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/lru"

	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/secretrules"
)

// What the operator's informer cache keeps of a ConfigMap (DigestConfigMap). A tenant decides
// how large their ConfigMaps are: kept whole, 200 of 512 KiB held 103 MiB of the operator's
// heap (BenchmarkOperatorBesideTenantConfigMaps), and 500 of 1 MiB are past the Deployment's
// 512 MiB limit, which an OOM-killed operator writes no report for anyone under.
const (
	// configMapKeptWhole bounds the ConfigMap kept whole: the bytes of its data, binaryData and
	// annotations (kubectl's last-applied-configuration among them unless it holds the data as
	// it is, which the cache drops).
	configMapKeptWhole = 16 << 10
	// configMapDenseWork bounds the work (credentialWork) of the credential rules on a
	// ConfigMap kept whole by its size: the check reads such a ConfigMap again at every
	// evaluation of its namespace, and 16 KiB of text a tenant chooses (configMapCredentialWork)
	// cost them about 270 ms each time, 27 s an evaluation for 100 such ConfigMaps, while the
	// namespace's lock and a reconcile worker are held. Past it the cache digests the ConfigMap,
	// once per content (digestMemo), as it does a larger one. ../shared/corpus's ConfigMaps of up
	// to 16 KiB take at most 62,828 units (TestCorpusConfigMapsAreReadWhole).
	configMapDenseWork = 256 << 10
	// configMapKeptValues bounds the keys and values a digest keeps of the data keys a workload
	// may take as a credential (digestCandidates), smallest first.
	configMapKeptValues = 4 << 10
	// configMapKeptNames bounds the names a digest keeps of the candidate keys whose values it
	// does not keep, and of binaryData keys.
	configMapKeptNames = 4 << 10
	// configMapKeptAnnotations bounds the annotations a digest keeps (but kubectl's
	// last-applied-configuration, whose key it keeps with an empty value).
	configMapKeptAnnotations = 4 << 10
)

// keptWholeWhy says which ConfigMaps the operator keeps whole, for the messages of what it did
// not keep.
var keptWholeWhy = fmt.Sprintf("it keeps a ConfigMap whole up to %d KiB and %d units of the credential rules' work, a digest of any other", configMapKeptWhole>>10, configMapDenseWork)

// ConfigMapDigestAnnotation holds, on a ConfigMap in the operator's informer cache, the digest
// (configMapDigest, as JSON) of the ConfigMap it was before the cache left out its data. The
// API server refuses the key (an annotation's name has no blank), so no ConfigMap it serves
// carries one: a tenant cannot hand the operator a digest. Only CachedConfigMap reads it, for
// objects read from the cache; scan and the webhook's request never trust it.
const ConfigMapDigestAnnotation = "soc2-operator.io/configmap digest"

// configMapDigest is what sec-configmap-credentials reads of a ConfigMap the operator's
// informer cache did not keep whole, computed from the whole ConfigMap when the cache received
// it: the findings that depend on the ConfigMap alone (the first maxNamed of each, which is all
// its message names, and how many there are), and what the findings that depend on the
// namespace's workloads (injectedCredentials) read of it.
type configMapDigest struct {
	// Keys, LastApplied and Annotations are the first findings of configMapCredentials,
	// lastAppliedCredentials and annotationCredentials, and the Counts how many there are.
	Keys             []string `json:"keys,omitempty"`
	KeysCount        int      `json:"keysCount,omitempty"`
	LastApplied      []string `json:"lastApplied,omitempty"`
	LastAppliedCount int      `json:"lastAppliedCount,omitempty"`
	Annotations      []string `json:"annotations,omitempty"`
	AnnotationsCount int      `json:"annotationsCount,omitempty"`
	// DataValues are the bytes of the data's values (the bound of $(VAR) expansion, expansion).
	DataValues int `json:"dataValues"`
	// Unkept are the data keys a workload may take as a credential whose values were not kept
	// (the ConfigMap's Data keeps the others), each with what credentialValue says of its value
	// whatever the variable's name (credentialValueClass); BinaryKeys the binaryData keys a
	// workload may mount as a credential's file, in key order. Truncated is set when there were
	// more than their bound names: a workload that takes any key not named is undecided.
	Unkept     map[string]credentialClass `json:"unkept,omitempty"`
	BinaryKeys []string                   `json:"binaryKeys,omitempty"`
	Truncated  bool                       `json:"truncated,omitempty"`
	// AnnotationsWithheld is set when the annotations were not kept.
	AnnotationsWithheld bool `json:"annotationsWithheld,omitempty"`
	// Unread are the first maxNamed keys (or annotations) the credential rules did not read,
	// past configMapCredentialWork, by the name the check's message gives them, and
	// UnreadCount how many there are: the check is NotAssessed naming them unless it finds a
	// credential.
	Unread      []string `json:"unread,omitempty"`
	UnreadCount int      `json:"unreadCount,omitempty"`
	// Panic is what the check's rules panicked with on the whole ConfigMap: the check is
	// NotAssessed, as the engine judges a check that panics.
	Panic string `json:"panic,omitempty"`
	// Dense is set on the digest of a ConfigMap no larger than configMapKeptWhole, digested
	// for the credential rules' work on it (configMapDenseWork).
	Dense bool `json:"dense,omitempty"`
	// QuoteBreaks are the first maxNamed data keys, sorted, whose values end their quotes when
	// ingress-nginx writes them as auth-proxy-set-headers entries (quoteBreakingHeaders), which
	// net-ingress-snippets reads of an Ingress's ConfigMap (CVE-2025-15566).
	QuoteBreaks []string `json:"quoteBreaks,omitempty"`
	// unreadable is set on a digest CachedConfigMap could not decode.
	unreadable bool
}

// DigestConfigMap is what the operator's informer cache keeps of cm (it rewrites cm, which the
// cache gives it to transform): cm as it is when its data, binaryData and annotations take no
// more than configMapKeptWhole bytes (false); else (true) cm without its binaryData, with of its
// data only the keys a workload of its namespace may take as a credential, smallest first
// within configMapKeptValues, its annotations when they take no more than
// configMapKeptAnnotations, and a digest of what sec-configmap-credentials reads of the whole
// ConfigMap (configMapDigest). The check judges the digest as it judges the whole ConfigMap,
// to the same verdict (TestDigestedConfigMapsAreJudgedAsWhole), but for a workload taking
// a key whose value was not kept into a credential-like variable or a $(VAR) reference, which
// is NotAssessed unless another key fails. A ConfigMap that already carries a digest (only
// this function adds one) is kept as it is.
func DigestConfigMap(cm *corev1.ConfigMap) bool {
	return digestMemo.digest(cm, keptLimits)
}

// digestMemoSize bounds the digests DigestConfigMap remembers.
const digestMemoSize = 256

// digestMemo remembers what DigestConfigMap kept of the last digestMemoSize ConfigMaps it
// digested, by a hash of what it reads of them (contentKey): the informer's goroutine runs the
// cache's transform for every ConfigMap event of the cluster, one after the other, and the
// credential rules take tens of milliseconds over a ConfigMap of 1 MiB
// (BenchmarkDigestLargeConfigMap), so that a tenant writing such a ConfigMap again and again
// (a label, an annotation of its own, the same apply) delayed every namespace's ConfigMap
// events, and so did each relist of the informer, which delivers every ConfigMap again. A
// ConfigMap of the same content is kept as the one before was, for the cost of hashing it.
var digestMemo = &configMapMemo{lru: lru.New(digestMemoSize)}

// configMapMemo is digestConfigMap remembered by content (digestMemo).
type configMapMemo struct {
	lru *lru.Cache
	// digested counts the digests computed, not remembered (for tests).
	digested atomic.Int64
}

// memoDigest is what digestConfigMap kept of a ConfigMap: its annotations, the digest's among
// them, and data.
type memoDigest struct {
	annotations, data map[string]string
}

func (m *configMapMemo) digest(cm *corev1.ConfigMap, limits digestLimits) bool {
	if _, ok := cm.Annotations[ConfigMapDigestAnnotation]; ok {
		return true
	}
	key, ok := contentKey(cm, limits)
	if !ok {
		m.digested.Add(1)
		return digestConfigMap(cm, limits)
	}
	if v, ok := m.lru.Get(key); ok {
		d := v.(*memoDigest)
		cm.Annotations, cm.Data, cm.BinaryData = maps.Clone(d.annotations), maps.Clone(d.data), nil
		return true
	}
	m.digested.Add(1)
	if !digestConfigMap(cm, limits) {
		return false
	}
	m.lru.Add(key, &memoDigest{annotations: maps.Clone(cm.Annotations), data: maps.Clone(cm.Data)})
	return true
}

// contentKey is a hash of what digestConfigMap reads of cm, its data, binaryData and
// annotations, and of limits; false for a ConfigMap it keeps whole (no larger than
// limits.whole in all, which its digest would tell too, but costs no hash).
func contentKey(cm *corev1.ConfigMap, limits digestLimits) ([sha256.Size]byte, bool) {
	size := 0
	for k, v := range cm.Data {
		size += len(k) + len(v)
	}
	for k, v := range cm.BinaryData {
		size += len(k) + len(v)
	}
	for k, v := range cm.Annotations {
		size += len(k) + len(v)
	}
	if size <= limits.whole && !dense(cm, limits) {
		return [sha256.Size]byte{}, false
	}
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		_, _ = io.WriteString(h, s)
	}
	section := func(name string, m map[string]string) {
		write(name)
		write(strconv.Itoa(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			write(k)
			write(m[k])
		}
	}
	write(fmt.Sprint(limits))
	section("data", cm.Data)
	section("annotations", cm.Annotations)
	write("binaryData")
	write(strconv.Itoa(len(cm.BinaryData)))
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		write(k)
		binary.BigEndian.PutUint64(n[:], uint64(len(cm.BinaryData[k])))
		h.Write(n[:])
		h.Write(cm.BinaryData[k])
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key, true
}

// digestLimits are the bounds of what DigestConfigMap keeps (tests lower them), of the work of
// the credential rules on a ConfigMap it digests (configMapCredentialWork; none when negative),
// and of their work on a ConfigMap it keeps whole by its size (configMapDenseWork; no bound
// when zero or negative).
type digestLimits struct{ whole, values, names, annotations, work, dense int }

var keptLimits = digestLimits{whole: configMapKeptWhole, values: configMapKeptValues, names: configMapKeptNames,
	annotations: configMapKeptAnnotations, work: configMapCredentialWork, dense: configMapDenseWork}

// dense reports whether the credential rules' work on cm's data and annotations (credentialWork
// of each, as the check reads them) is past limits.dense: a ConfigMap small enough to keep whole
// that the cache digests all the same (configMapDenseWork). It costs one pass of the rules'
// keywords over the text, no regex.
func dense(cm *corev1.ConfigMap, limits digestLimits) bool {
	if limits.dense <= 0 {
		return false
	}
	left := limits.dense
	for _, m := range []map[string]string{cm.Data, cm.Annotations} {
		for k, v := range m {
			if left -= credentialWork(k, v, left); left < 0 {
				return true
			}
		}
	}
	return false
}

// localFindings are the findings of sec-configmap-credentials on cm that depend on cm alone,
// read within b (a variable, for a test of a check that panics).
var localFindings = func(cm *corev1.ConfigMap, b *credentialBudget) (keys, lastApplied, annotations []string) {
	return configMapCredentialsWithin(cm, b), lastAppliedCredentialsWithin(cm, b), annotationCredentialsWithin(cm, b)
}

func digestConfigMap(cm *corev1.ConfigMap, limits digestLimits) (digested bool) {
	if _, ok := cm.Annotations[ConfigMapDigestAnnotation]; ok {
		return true
	}
	if _, err := secretrules.Default(); err != nil {
		// The check judges no ConfigMap (NotAssessed); keep it whole rather than a digest of
		// rules that did not load.
		return false
	}
	size := 0
	for k, v := range cm.Data {
		size += len(k) + len(v)
	}
	for k, v := range cm.BinaryData {
		size += len(k) + len(v)
	}
	annotations := 0
	for k, v := range cm.Annotations {
		if k == corev1.LastAppliedConfigAnnotation {
			if !lastAppliedHoldsData(cm) {
				size += len(k) + len(v)
			}
			continue
		}
		annotations += len(k) + len(v)
	}
	size += annotations
	quoteBreaks, _ := firstNamed(quoteBreakingHeaders(cm.Data))
	d := &configMapDigest{QuoteBreaks: quoteBreaks}
	if size <= limits.whole {
		if !dense(cm, limits) {
			return false
		}
		d.Dense = true
	}
	defer func() {
		// The transform runs in the informer's goroutine, where a panic would end the
		// operator, and a tenant's ConfigMap would do it again at every start: the check says
		// NotAssessed, as the engine says of a check that panics on the whole ConfigMap.
		if v := recover(); v != nil {
			raw, _ := json.Marshal(&configMapDigest{Panic: engine.Truncate(fmt.Sprint(v)), AnnotationsWithheld: true, QuoteBreaks: quoteBreaks})
			cm.Data, cm.BinaryData = nil, nil
			cm.Annotations = map[string]string{ConfigMapDigestAnnotation: string(raw)}
			digested = true
		}
	}()
	var budget *credentialBudget
	if limits.work >= 0 {
		budget = &credentialBudget{left: limits.work}
	}
	keys, lastApplied, annotated := localFindings(cm, budget)
	if budget != nil {
		d.Unread, d.UnreadCount = firstNamed(budget.unread)
	}
	d.Keys, d.KeysCount = firstNamed(keys)
	d.LastApplied, d.LastAppliedCount = firstNamed(lastApplied)
	d.Annotations, d.AnnotationsCount = firstNamed(annotated)
	found := map[string]bool{}
	for _, f := range keys {
		if q, err := strconv.QuotedPrefix(f); err == nil {
			found[q] = true
		}
	}
	// The data keys a workload may take as a credential: what injectedKeys reads.
	var candidates []string
	for k, v := range cm.Data {
		d.DataValues += len(v)
		if literalCredential(v) && !found[strconv.Quote(k)] {
			candidates = append(candidates, k)
		}
	}
	slices.SortFunc(candidates, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(a)+len(cm.Data[a]), len(b)+len(cm.Data[b])), cmp.Compare(a, b))
	})
	kept := map[string]string{}
	values, names := limits.values, limits.names
	for _, k := range candidates {
		switch n := len(k) + len(cm.Data[k]); {
		case n <= values:
			kept[k] = cm.Data[k]
			values -= n
		case len(k)+4 <= names:
			if d.Unkept == nil {
				d.Unkept = map[string]credentialClass{}
			}
			d.Unkept[k] = credentialValueClass(cm.Data[k])
			names -= len(k) + 4
		default:
			d.Truncated = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		if !literalCredential(string(cm.BinaryData[k])) || found[strconv.Quote(k)] {
			continue
		}
		if len(k) > names {
			d.Truncated = true
			continue
		}
		d.BinaryKeys = append(d.BinaryKeys, k)
		names -= len(k)
	}
	var keptAnnotations map[string]string
	if annotations <= limits.annotations {
		keptAnnotations = maps.Clone(cm.Annotations)
		if _, ok := keptAnnotations[corev1.LastAppliedConfigAnnotation]; ok {
			// As stripObject leaves it: the key, for a custom check that asks for it.
			keptAnnotations[corev1.LastAppliedConfigAnnotation] = ""
		}
	} else {
		d.AnnotationsWithheld = true
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return false
	}
	if keptAnnotations == nil {
		keptAnnotations = map[string]string{}
	}
	keptAnnotations[ConfigMapDigestAnnotation] = string(raw)
	cm.Annotations = keptAnnotations
	cm.Data = nil
	if len(kept) > 0 {
		cm.Data = kept
	}
	cm.BinaryData = nil
	return true
}

// lastAppliedHoldsData reports whether kubectl's last-applied-configuration annotation of cm
// holds its data as it is (which the cache drops, and which adds no finding).
func lastAppliedHoldsData(cm *corev1.ConfigMap) bool {
	var applied corev1.ConfigMap
	return json.Unmarshal([]byte(cm.Annotations[corev1.LastAppliedConfigAnnotation]), &applied) == nil &&
		maps.Equal(applied.Data, cm.Data) && maps.EqualFunc(applied.BinaryData, cm.BinaryData, bytes.Equal)
}

// firstNamed is the first maxNamed of items (all few names) and how many there are.
func firstNamed(items []string) ([]string, int) {
	return items[:min(len(items), maxNamed)], len(items)
}

// CachedConfigMap is the engine object of cm as read from the operator's informer cache: with
// a digest (DigestConfigMap), the ConfigMap without it, the digest for sec-configmap-credentials
// (engine.Object.Digest) and the fields the cache did not keep withheld from custom checks
// (engine.Object.Withheld). cm itself is the cache's and is not changed.
func CachedConfigMap(cm *corev1.ConfigMap, apiVersion string) *engine.Object {
	raw, ok := cm.Annotations[ConfigMapDigestAnnotation]
	if !ok {
		return engine.NewObject(cm, apiVersion, "ConfigMap")
	}
	c := *cm
	c.Annotations = maps.Clone(cm.Annotations)
	delete(c.Annotations, ConfigMapDigestAnnotation)
	if len(c.Annotations) == 0 {
		c.Annotations = nil
	}
	d := decodedDigests.decode(raw)
	o := engine.NewObject(&c, apiVersion, "ConfigMap")
	o.Digest = d
	why := fmt.Sprintf("the operator does not keep a ConfigMap's data over %d KiB (its informer cache keeps a digest of what the built-in checks read)", configMapKeptWhole>>10)
	if d.Dense {
		why = fmt.Sprintf("the operator does not keep a ConfigMap's data that would cost the credential rules over %d units of work at each evaluation (%s)", configMapDenseWork, keptWholeWhy)
	}
	o.Withheld = []engine.WithheldField{
		{Kind: "ConfigMap", Path: []string{"data"}, Why: why, Unread: true},
		{Kind: "ConfigMap", Path: []string{"binaryData"}, Why: why, Unread: true},
	}
	if d.AnnotationsWithheld || d.unreadable {
		o.Withheld = append(o.Withheld, engine.WithheldField{Kind: "ConfigMap", Path: []string{"metadata", "annotations"}, Why: why, Unread: true})
	}
	return o
}

// decodedDigestsSize bounds the decoded digests decodedDigests keeps: a digest is at most a few
// KiB (configMapKeptNames, configMapKeptValues, maxNamed findings), a few hundred bytes as a
// rule.
const decodedDigestsSize = 2048

// decodedDigests are the digests CachedConfigMap decoded, by the annotation's text: the
// admission webhook gathers a namespace's ConfigMaps at each request (inventory.Gatherer), and
// decoding every digest again cost 8-18 ms a request for 1,000 digested ConfigMaps
// (BenchmarkCachedConfigMaps) though a workload reads few of them. Keyed by the text itself,
// a ConfigMap whose digest changed is decoded again; one of the same content, in any namespace,
// shares the decoded digest, which nothing changes once decoded (the check only reads it).
var decodedDigests = &digestDecoder{lru: lru.New(decodedDigestsSize)}

// digestDecoder decodes configMapDigests, remembering the last decodedDigestsSize by text.
type digestDecoder struct {
	lru *lru.Cache
}

// decode is the digest of the annotation text raw, unreadable when it does not decode.
func (m *digestDecoder) decode(raw string) *configMapDigest {
	if v, ok := m.lru.Get(raw); ok {
		return v.(*configMapDigest)
	}
	d := &configMapDigest{}
	if err := json.Unmarshal([]byte(raw), d); err != nil {
		d = &configMapDigest{unreadable: true}
	}
	m.lru.Add(raw, d)
	return d
}

// digestFindings are count findings of which a digest kept the first (kept), those past them
// as "": the check lists them as it lists the whole ConfigMap's (configMapCredentials, then,
// after the injected ones, lastAppliedCredentials and annotationCredentials), and few names
// only the first maxNamed of them all and counts the rest.
func digestFindings(kept []string, count int) []string {
	out := slices.Clone(kept)
	for len(out) < count {
		out = append(out, "")
	}
	return out
}

// truncatedTaken says why what the injections of the digest's ConfigMap take of it cannot be
// decided when the digest names only some of the keys a workload may take as a credential
// (Truncated): an injection of every key (envFrom), or of a key it neither kept (cm's Data) nor
// named, may take one it did not name. "" when there is none.
func (d *configMapDigest) truncatedTaken(injections []envInjection, cm *corev1.ConfigMap) string {
	for _, in := range injections {
		if in.Unfollowed {
			continue
		}
		_, kept := cm.Data[in.Key]
		_, unkept := d.Unkept[in.Key]
		if in.Key == "" || !kept && !unkept && !slices.Contains(d.BinaryKeys, in.Key) {
			return fmt.Sprintf("%s/%s container %s takes keys of the ConfigMap, of more than the operator keeps (%s); what they hold was not read",
				in.workload.Kind, in.workload.Name, in.container, keptWholeWhy)
		}
	}
	return ""
}

// configMapCredentialWork bounds the work (credentialWork) of the credential rules the
// operator's cache runs on one ConfigMap, in the informer's goroutine, which every namespace's
// ConfigMap events wait for, on each change of it: on text a tenant chooses (gitleaks'
// keywords, each followed by a token, so that every rule's regex runs over all of it) the
// rules cost about 75 ns a unit, 13 to 21 s a MiB of such text (BenchmarkDigestConfigMapWorstCase),
// where the largest ConfigMaps of ../shared/corpus, Grafana dashboards of 168 and 145 KB, take
// 0.56 M and 0.43 M units. Keys past it are read only by the rules their name decides, and the
// check is NotAssessed naming them (configMapDigest.Unread) unless it finds a credential; the
// bound does not depend on what the cache read before (digestMemo), so a restart gives the same
// report.
const configMapCredentialWork = 3 << 20

// credentialBudget is the work (credentialWork) the credential rules may still do on a
// ConfigMap's keys (left), and the keys they did not read for it (unread, by the name a
// message gives them). A nil budget reads everything: scan's and the webhook's.
type credentialBudget struct {
	left   int
	unread []string
}

// read reports whether the credential rules may read the key k holding v (as keyCredential
// passes it to them), and takes their work from what is left when they may.
func (b *credentialBudget) read(k, v string) bool {
	if b == nil {
		return true
	}
	if b.left < 0 {
		return false
	}
	w := credentialWork(k, v, b.left)
	if w > b.left {
		return false
	}
	b.left -= w
	return true
}

// readText reports whether gitleaks' rules may read text (as leakedInText passes it to them),
// the text of a command line (an argument, or the command line joined), and takes their work
// from what is left when they may; a text that does not fit is not read, the next still are
// if they fit, as ConfigMaps' keys are (read). A nil budget reads everything.
func (b *credentialBudget) readText(text string) bool {
	if b == nil {
		return true
	}
	w := textWork(text, b.left)
	if w > b.left {
		return false
	}
	b.left -= w
	return true
}

// credentialWork bounds what the credential rules cost on the key k holding v, in units of
// a byte read once: each text gitleaks' rules read (k=v, then each decoding of its encoded
// segments, up to gitleaksMaxDecodeDepth: leakedInText), its length times one more than the
// rules that run on it (secretrules.Rules.Work: the regexes, which dominate; the other rules
// read each text a few times over, in time linear in it). It stops counting past limit.
func credentialWork(k, v string, limit int) int {
	return textWork(k+"="+v, limit)
}

// textWork is what the credential rules cost on text as leakedInText reads it (credentialWork),
// counted up to past limit.
func textWork(text string, limit int) int {
	rules, err := secretrules.Default()
	if err != nil {
		return 0
	}
	w := 0
	for depth := 0; ; depth++ {
		w += len(text) + rules.Work(text)
		if w > limit || depth == gitleaksMaxDecodeDepth {
			return w
		}
		decoded, ok := decodeSegments(text)
		if !ok {
			return w
		}
		text = decoded
	}
}
