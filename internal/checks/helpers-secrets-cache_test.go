package checks

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/lru"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
	"github.com/soc2-operator/soc2-operator/internal/testgen"
)

// digestVariant is a way the operator's cache may keep the ConfigMaps of a fixture.
type digestVariant struct {
	limits digestLimits
	// filler adds a harmless key of 20 KiB to every ConfigMap, judged whole and digested alike.
	filler bool
	// exact: the digested ConfigMaps are judged to the same results, messages included; else
	// only conservatively: the same verdict, or NotAssessed.
	exact bool
}

var digestVariants = map[string]digestVariant{
	"every ConfigMap digested":                      {limits: digestLimits{whole: -1, values: 1 << 30, names: 1 << 30, annotations: 1 << 30, work: configMapCredentialWork}, exact: true},
	"every ConfigMap digested, every key read":      {limits: digestLimits{whole: -1, values: 1 << 30, names: 1 << 30, annotations: 1 << 30, work: -1}, exact: true},
	"beside a large key, at the cache's own bounds": {limits: keptLimits, filler: true, exact: true},
	"no value kept":                                 {limits: digestLimits{whole: -1, names: 1 << 30, work: configMapCredentialWork}},
	"no value nor name kept":                        {limits: digestLimits{whole: -1, work: configMapCredentialWork}},
}

// TestDigestedConfigMapsAreJudgedAsWhole: the operator's informer cache keeps of a ConfigMap
// over 16 KiB only a digest (DigestConfigMap), and sec-configmap-credentials judges it to the
// results it gives the whole ConfigMap, messages included, for every fixture of the check; with
// values or names left out of the digest (a workload taking a large key), to the same verdict
// or NotAssessed, never a Pass or Fail the whole ConfigMap does not get. So does
// net-ingress-snippets, which reads the values of the ConfigMap an Ingress's
// auth-proxy-set-headers names (configMapDigest.QuoteBreaks), for every fixture of its own.
func TestDigestedConfigMapsAreJudgedAsWhole(t *testing.T) {
	for _, c := range []*engine.Check{secConfigmapCredentials, netIngressSnippets} {
		files, err := filepath.Glob(filepath.Join("testdata", c.ID, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures: %v", err)
		}
		for name, variant := range digestVariants {
			t.Run(c.ID+"/"+name, func(t *testing.T) {
				digested := 0
				for _, file := range files {
					digested += judgedAsWhole(t, c, file, variant)
				}
				if digested == 0 {
					t.Fatal("no ConfigMap was digested")
				}
			})
		}
	}
}

// judgedAsWhole judges the fixture's objects whole and with its ConfigMaps as the cache keeps
// them under variant, compares the results, and returns how many ConfigMaps were digested.
func judgedAsWhole(t *testing.T, c *engine.Check, file string, variant digestVariant) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	decode := func() []*engine.Object {
		objs, errs := manifest.Decode(file, data)
		for _, e := range errs {
			t.Fatalf("%s: %v", file, e)
		}
		manifest.DefaultNamespace(objs, "default")
		return objs
	}
	random := rand.New(rand.NewPCG(7, 8))
	filler := testgen.HarmlessConfigMap("", "", 20<<10, random).Data["notes-0.txt"]
	var profile *v1alpha1.ComplianceProfile
	var whole, kept []*engine.Object
	digested := 0
	for i, o := range decode() {
		var k *engine.Object
		switch obj := o.Obj.(type) {
		case *v1alpha1.ComplianceProfile:
			profile = obj
			continue
		case *v1alpha1.ControlException:
			continue
		case *corev1.ConfigMap:
			if variant.filler {
				if obj.Data == nil {
					obj.Data = map[string]string{}
				}
				obj.Data["filler.txt"] = filler
			}
			c := obj.DeepCopy()
			if digestConfigMap(c, variant.limits) {
				digested++
			}
			k = CachedConfigMap(c, o.APIVersion)
			k.Source = o.Source
		default:
			// The other objects of a second decoding: the engine may memoise on them.
			k = decode()[i]
		}
		whole = append(whole, o)
		kept = append(kept, k)
	}
	header := readHeader(data)
	plan := engine.Compile([]*engine.Check{c}, profile)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	want := plan.Evaluate(engine.NewInventory(whole, header.complete), nil, opts)
	got := plan.Evaluate(engine.NewInventory(kept, header.complete), nil, opts)
	if variant.exact {
		sameResults(t, file, "digested", want, got)
		return digested
	}
	if len(want.Results) != len(got.Results) {
		t.Fatalf("%s: %d results whole, %d digested", file, len(want.Results), len(got.Results))
	}
	for i, w := range want.Results {
		g := got.Results[i]
		if g.Status != w.Status && g.Status != engine.StatusNotAssessed {
			t.Errorf("%s: %s is %s whole (%s), %s digested (%s)", file, w.Object.Ref(), w.Status, w.Message, g.Status, g.Message)
		}
	}
	return digested
}

// TestDigestBoundsWhatTheCacheKeeps: whatever shape a tenant gives a ConfigMap of about 1 MiB
// (the API server's limit), what the cache keeps of it, as JSON, stays under 24 KiB; kept whole
// such ConfigMaps held all of it.
func TestDigestBoundsWhatTheCacheKeeps(t *testing.T) {
	random := rand.New(rand.NewPCG(9, 10))
	big := func() string { return testgen.HarmlessConfigMap("", "", 900<<10, random).Data["notes-0.txt"] }
	many := func(n int, value func(i int) string) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("key-%06d", i)] = value(i)
		}
		return m
	}
	cases := map[string]*corev1.ConfigMap{
		"one large value":   {Data: map[string]string{"notes.txt": big()}},
		"many small values": {Data: many(60000, func(i int) string { return "v" })},
		"many credentials":  {Data: many(20000, func(i int) string { return fmt.Sprintf("-----BEGIN PRIVATE KEY-----%d", i) })},
		"many credential-like keys": {Data: func() map[string]string {
			m := map[string]string{}
			for i := range 20000 {
				m[fmt.Sprintf("password_%06d", i)] = fmt.Sprintf("Orders-%d", i)
			}
			return m
		}()},
		"large annotations":    {Data: map[string]string{"a": "b"}},
		"large binary data":    {BinaryData: map[string][]byte{"blob.bin": []byte(big())}},
		"long keys":            {Data: many(3500, func(i int) string { return strings.Repeat("k", 250) })},
		"a large last-applied": {Data: map[string]string{"a": "b"}},
	}
	cases["large annotations"].Annotations = map[string]string{"notes": strings.Repeat("x", 200<<10)}
	applied, _ := json.Marshal(corev1.ConfigMap{Data: map[string]string{"notes.txt": big()}})
	cases["a large last-applied"].Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: string(applied)}
	for name, cm := range cases {
		t.Run(name, func(t *testing.T) {
			before, _ := json.Marshal(cm)
			if !DigestConfigMap(cm) {
				t.Fatal("not digested")
			}
			after, _ := json.Marshal(cm)
			if len(after) > 24<<10 {
				t.Errorf("the cache keeps %d bytes of a ConfigMap of %d", len(after), len(before))
			}
			if !DigestConfigMap(cm) {
				t.Error("a digested ConfigMap is not kept as it is")
			}
			again, _ := json.Marshal(cm)
			if string(again) != string(after) {
				t.Error("digesting a digested ConfigMap changed it")
			}
		})
	}
}

// TestCustomChecksDoNotReadWhatADigestLeftOut: a custom check that reads the data or binaryData
// of a ConfigMap the cache keeps a digest of is NotAssessed, saying why, never judged on the
// data the digest left out (a check that no ConfigMap sets debug passed every large one);
// one that reads only its metadata is judged.
func TestCustomChecksDoNotReadWhatADigestLeftOut(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{"debug": "true", "notes.txt": strings.Repeat("x", 20<<10)}}
	cm.Name, cm.Namespace = "settings", "shop"
	if !DigestConfigMap(cm) {
		t.Fatal("not digested")
	}
	o := CachedConfigMap(cm, "v1")
	if _, ok := o.Obj.GetAnnotations()[ConfigMapDigestAnnotation]; ok {
		t.Error("the checks see the digest's annotation")
	}
	profile := &v1alpha1.ComplianceProfile{Spec: v1alpha1.ComplianceProfileSpec{CustomChecks: []v1alpha1.CustomCheck{
		{ID: "no-debug", Title: "no debug", Criteria: []v1alpha1.Criterion{"C1.1"}, Kinds: []string{"ConfigMap"}, Expression: "!has(object.data) || !('debug' in object.data)"},
		{ID: "named", Title: "named", Criteria: []v1alpha1.Criterion{"C1.1"}, Kinds: []string{"ConfigMap"}, Expression: "object.metadata.name != ''"},
	}}}
	plan := engine.Compile(nil, profile)
	for _, p := range plan.Problems {
		t.Fatal(p.Message)
	}
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil,
		engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
	want := map[string]engine.Status{"no-debug": engine.StatusNotAssessed, "named": engine.StatusPass}
	for _, r := range ev.Results {
		if r.Status != want[r.Check.ID] {
			t.Errorf("%s: want %s, got %s (%s)", r.Check.ID, want[r.Check.ID], r.Status, r.Message)
		}
		if r.Check.ID == "no-debug" && !strings.Contains(r.Message, "does not keep a ConfigMap's data") {
			t.Errorf("no-debug: the message does not say why: %s", r.Message)
		}
	}
	if len(ev.Results) != 2 {
		t.Errorf("want 2 results, got %d", len(ev.Results))
	}
}

// TestADigestThatPanicsIsNotAssessed: the cache computes a ConfigMap's digest in the informer's
// goroutine, where a panic of the credential rules would end the operator at every start; the
// ConfigMap is NotAssessed instead, as the engine judges a check that panics.
func TestADigestThatPanicsIsNotAssessed(t *testing.T) {
	defer func(f func(*corev1.ConfigMap, *credentialBudget) ([]string, []string, []string)) { localFindings = f }(localFindings)
	localFindings = func(*corev1.ConfigMap, *credentialBudget) ([]string, []string, []string) { panic("the rules broke") }
	defer func(m *configMapMemo) { digestMemo = m }(digestMemo)
	digestMemo = &configMapMemo{lru: lru.New(digestMemoSize)}
	cm := &corev1.ConfigMap{Data: map[string]string{"DB_PASSWORD": "Orders-2024", "notes.txt": strings.Repeat("x", 20<<10)}}
	cm.Name, cm.Namespace = "settings", "shop"
	if !DigestConfigMap(cm) {
		t.Fatal("not digested")
	}
	if len(cm.Data) != 0 {
		t.Errorf("the cache keeps the data of a ConfigMap whose digest panicked: %d keys", len(cm.Data))
	}
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{CachedConfigMap(cm, "v1")}, true), nil,
		engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
	if len(ev.Results) != 1 || ev.Results[0].Status != engine.StatusNotAssessed ||
		ev.Results[0].Message != engine.InternalError+"sec-configmap-credentials: the rules broke" {
		t.Errorf("want NotAssessed with the internal error, got %+v", ev.Results)
	}
}

// TestARewrittenConfigMapIsNotDigestedAgain: the cache digests each ConfigMap event in the
// informer's goroutine, which every namespace's ConfigMap events wait for, and the credential
// rules take tens of milliseconds over 1 MiB. A ConfigMap written again with the same data and
// annotations (a label changed, the same apply, an informer's relist) is kept as it was,
// without running the rules again; one whose data changed, by a byte, is digested again.
func TestARewrittenConfigMapIsNotDigestedAgain(t *testing.T) {
	defer func(f func(*corev1.ConfigMap, *credentialBudget) ([]string, []string, []string)) { localFindings = f }(localFindings)
	runs := 0
	localFindings = func(cm *corev1.ConfigMap, b *credentialBudget) ([]string, []string, []string) {
		runs++
		return configMapCredentialsWithin(cm, b), lastAppliedCredentialsWithin(cm, b), annotationCredentialsWithin(cm, b)
	}
	defer func(m *configMapMemo) { digestMemo = m }(digestMemo)
	digestMemo = &configMapMemo{lru: lru.New(digestMemoSize)}

	cm := testgen.LargeConfigMap("shop", "settings", rand.New(rand.NewPCG(11, 12)))
	cm.Data["db.properties"] = "db.password=Orders-2024-x9Kq\n"
	first := cm.DeepCopy()
	if !DigestConfigMap(first) {
		t.Fatal("not digested")
	}
	again := cm.DeepCopy()
	again.ResourceVersion, again.Labels = "2", map[string]string{"touched": "yes"}
	if !DigestConfigMap(again) {
		t.Fatal("not digested")
	}
	if runs != 1 {
		t.Errorf("the rules ran %d times over the same data, want once", runs)
	}
	if !reflect.DeepEqual(first.Annotations, again.Annotations) || !reflect.DeepEqual(first.Data, again.Data) || again.BinaryData != nil {
		t.Errorf("the ConfigMap written again is kept otherwise than the first:\n%v %v\n%v %v", first.Annotations, first.Data, again.Annotations, again.Data)
	}
	if again.Labels["touched"] != "yes" || again.ResourceVersion != "2" {
		t.Errorf("the metadata of the ConfigMap written again is not its own: %v %s", again.Labels, again.ResourceVersion)
	}
	// The cache's copies are the cache's own: changing one does not change what is remembered.
	again.Annotations["x"] = "y"
	third := cm.DeepCopy()
	DigestConfigMap(third)
	if _, ok := third.Annotations["x"]; ok {
		t.Error("the remembered digest shares its map with a cached ConfigMap")
	}

	changed := cm.DeepCopy()
	changed.Data["db.properties"] = "db.password=Orders-2024-x9Kr\n"
	DigestConfigMap(changed)
	if runs != 2 {
		t.Errorf("the rules ran %d times over two contents, want twice", runs)
	}
}

// BenchmarkDigestRewrittenLargeConfigMap is the cache's transform of a ConfigMap as
// BenchmarkDigestLargeConfigMap's written again with the same data (a label changed): what a
// tenant's loop of such writes, or an informer's relist, costs the informer's goroutine.
func BenchmarkDigestRewrittenLargeConfigMap(b *testing.B) {
	cm := testgen.LargeConfigMap("shop", "settings", rand.New(rand.NewPCG(1, 2)))
	DigestConfigMap(cm.DeepCopy())
	b.ResetTimer()
	for i := range b.N {
		c := cm.DeepCopy()
		c.Labels = map[string]string{"write": strconv.Itoa(i)}
		DigestConfigMap(c)
	}
}

// BenchmarkDigestLargeConfigMap is the cache's transform of a ConfigMap just under the API
// server's limit whose every value the credential rules scan (testgen.LargeConfigMap): what
// each write of such a ConfigMap costs the informer's goroutine.
func BenchmarkDigestLargeConfigMap(b *testing.B) {
	cm := testgen.LargeConfigMap("shop", "settings", rand.New(rand.NewPCG(1, 2)))
	b.ResetTimer()
	for range b.N {
		// Not DigestConfigMap, which remembers the digest of the same content
		// (BenchmarkDigestRewrittenLargeConfigMap).
		digestConfigMap(cm.DeepCopy(), keptLimits)
	}
}

// gitleaksKeywords are the keywords of gitleaks' default rules (../secretrules/gitleaks.toml):
// text that holds them all makes every rule's regex run over it.
func gitleaksKeywords(tb testing.TB) []string {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "secretrules", "gitleaks.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	var keywords []string
	for _, m := range regexp.MustCompile(`(?m)^keywords = \[([^]]*)\]`).FindAllStringSubmatch(string(raw), -1) {
		for k := range strings.SplitSeq(m[1], ",") {
			if k = strings.Trim(strings.TrimSpace(k), `"`); k != "" {
				keywords = append(keywords, k)
			}
		}
	}
	if len(keywords) == 0 {
		tb.Fatal("no keywords in gitleaks.toml")
	}
	return keywords
}

// keywordDense is size bytes of gitleaks' keywords, each followed by a random token of 8
// characters (a tenant's choice of text, which no rule finds a credential in but every rule
// reads), starting with seed so that a memo has not seen it.
func keywordDense(keywords []string, seed, size int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 7))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var v strings.Builder
	fmt.Fprintf(&v, "%08d ", seed)
	for v.Len() < size {
		v.WriteString(keywords[r.IntN(len(keywords))])
		for range 8 {
			v.WriteByte(alnum[r.IntN(len(alnum))])
		}
	}
	return v.String()[:size]
}

// benchWorstConfigMapSeed makes each of BenchmarkDigestConfigMapWorstCase's ConfigMaps new.
var benchWorstConfigMapSeed int

// BenchmarkDigestConfigMapWorstCase is what the operator's cache spends, in the informer's
// goroutine, on each change of a ConfigMap of 1 MiB (within the API server's 1.5 MiB an
// object) whose text makes every credential rule run (keywordDense), as one key of 1 MiB, 16
// of 64 KiB and 1,024 of 1 KiB; each run's content is new to the memo.
func BenchmarkDigestConfigMapWorstCase(b *testing.B) {
	keywords := gitleaksKeywords(b)
	// The rules compile their regexes when first used: once a process, not timed.
	digestConfigMap(&corev1.ConfigMap{Data: map[string]string{"a": keywordDense(keywords, -1, 20<<10)}}, keptLimits)
	for _, shape := range []struct{ keys, size int }{{1, 1 << 20}, {16, 64 << 10}, {1024, 1 << 10}} {
		b.Run(fmt.Sprintf("%dx%d", shape.keys, shape.size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				cm := &corev1.ConfigMap{Data: map[string]string{}}
				cm.Name, cm.Namespace = "settings", "shop"
				for k := range shape.keys {
					benchWorstConfigMapSeed++
					cm.Data[fmt.Sprintf("notes-%04d.txt", k)] = keywordDense(keywords, benchWorstConfigMapSeed, shape.size)
				}
				b.StartTimer()
				DigestConfigMap(cm)
			}
		})
	}
}

// TestConfigMapsPastTheCredentialWorkAreNotAssessed: the operator's cache runs the credential
// rules on a ConfigMap it digests within configMapCredentialWork, in key order: a key of 1 MiB
// of gitleaks' keywords (each followed by a token) took it 13 to 21 s. The keys past it are read
// only by the rules their name decides, and the check is NotAssessed naming them unless it
// finds a credential; never Pass. A credential within it, or under a credential-like name past
// it, still fails; a ConfigMap as large of ordinary text is read whole.
func TestConfigMapsPastTheCredentialWorkAreNotAssessed(t *testing.T) {
	defer func(m *configMapMemo) { digestMemo = m }(digestMemo)
	digestMemo = &configMapMemo{lru: lru.New(digestMemoSize)}
	keywords := gitleaksKeywords(t)
	dense := keywordDense(keywords, 1, 1<<20)
	ordinary := testgen.HarmlessConfigMap("", "", 1<<20, rand.New(rand.NewPCG(3, 4))).Data["notes-0.txt"]
	cases := map[string]struct {
		data        map[string]string
		annotations map[string]string
		want        engine.Status
		message     string
	}{
		"a URL's password after dense text": {
			data: map[string]string{"notes.txt": dense + "\npostgres://app:Orders-2024-x9Kq@db/app\n", "z-settings.txt": "LOG_LEVEL=debug"},
			want: engine.StatusNotAssessed, message: `"notes.txt" not read for credentials`,
		},
		"dense text in pieces, the first read": {
			data: map[string]string{"a-notes.txt": dense[:8<<10], "b-notes.txt": dense[8<<10 : 16<<10], "c-notes.txt": dense[16<<10 : 24<<10]},
			want: engine.StatusFail, message: `holds credentials in keys "a-notes.txt" (gitleaks rule`,
		},
		"dense text alone": {
			data: map[string]string{"notes.txt": dense},
			want: engine.StatusNotAssessed, message: `"notes.txt" not read for credentials`,
		},
		"dense text in an annotation": {
			data:        map[string]string{"notes.txt": ordinary[:20<<10]},
			annotations: map[string]string{"tenant.example.com/notes": dense},
			want:        engine.StatusNotAssessed, message: `annotation "tenant.example.com/notes" not read for credentials`,
		},
		"a credential before dense text": {
			data: map[string]string{"a-db.properties": "db.password=Orders-2024-x9Kq\n", "notes.txt": dense},
			want: engine.StatusFail, message: `"a-db.properties" (`,
		},
		"a credential-like key past it": {
			data: map[string]string{"db-password": "Orders-2024-x9Kq " + dense},
			want: engine.StatusFail, message: `"db-password" (credential-like key)`,
		},
		"ordinary text of 1 MiB": {
			data: map[string]string{"notes.txt": ordinary, "z-db.url": "postgres://app:Orders-2024-x9Kq@db/app"},
			want: engine.StatusFail, message: `"z-db.url" (password in a URL)`,
		},
		"ordinary text of 1 MiB, nothing in it": {
			data: map[string]string{"notes.txt": ordinary},
			want: engine.StatusPass,
		},
	}
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cm := &corev1.ConfigMap{Data: tc.data}
			cm.Name, cm.Namespace, cm.Annotations = "settings", "shop", tc.annotations
			if !DigestConfigMap(cm) {
				t.Fatal("not digested")
			}
			ev := plan.Evaluate(engine.NewInventory([]*engine.Object{CachedConfigMap(cm, "v1")}, true), nil,
				engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
			if len(ev.Results) != 1 {
				t.Fatalf("want one result, got %+v", ev.Results)
			}
			r := ev.Results[0]
			if r.Status != tc.want || !strings.Contains(r.Message, tc.message) {
				t.Errorf("%s (%s), want %s with %q", r.Status, r.Message, tc.want, tc.message)
			}
			if tc.want == engine.StatusNotAssessed && !strings.Contains(r.Message, "informer cache reads a ConfigMap's keys only within") {
				t.Errorf("the message does not say why: %s", r.Message)
			}
			if r.Unread != (tc.want == engine.StatusNotAssessed) {
				t.Errorf("unread %v: want a result NotAssessed past the cache's bound unread (it fails closed in the reports), no other", r.Unread)
			}
		})
	}
}

// TestSmallDenseConfigMapsAreDigested: the cache kept a ConfigMap of up to 16 KiB whole, and the
// check ran every credential rule on it again at each evaluation of its namespace: 16 KiB of
// gitleaks' keywords, each followed by a token, cost ~270 ms a time, ~27 s an evaluation for
// 100 of them. Past configMapDenseWork it is digested, once per content, as a larger one is,
// and judged from the digest as from the whole ConfigMap; ordinary text of 16 KiB is kept whole.
func TestSmallDenseConfigMapsAreDigested(t *testing.T) {
	defer func(m *configMapMemo) { digestMemo = m }(digestMemo)
	digestMemo = &configMapMemo{lru: lru.New(digestMemoSize)}
	keywords := gitleaksKeywords(t)
	ordinary := testgen.HarmlessConfigMap("", "", 1<<20, rand.New(rand.NewPCG(3, 4))).Data["notes-0.txt"]
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	judge := func(o *engine.Object) engine.Result {
		t.Helper()
		ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil,
			engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
		if len(ev.Results) != 1 {
			t.Fatalf("want one result, got %+v", ev.Results)
		}
		return ev.Results[0]
	}
	for name, tc := range map[string]struct {
		data   map[string]string
		digest bool
		want   engine.Status // 0: as the whole ConfigMap is judged, whatever that is
	}{
		"dense text of 8 KiB":                {data: map[string]string{"notes.txt": keywordDense(keywords, 11, 8<<10)}, digest: true},
		"dense text of 8 KiB and a password": {data: map[string]string{"notes.txt": keywordDense(keywords, 12, 8<<10), "z-db.url": "postgres://app:Orders-2024-x9Kq@db/app"}, digest: true, want: engine.StatusFail},
		"dense text in 16 pieces":            {data: denseKeys(keywords, 16, 512), digest: true},
		"ordinary text of 15 KiB":            {data: map[string]string{"notes.txt": ordinary[:15<<10]}, want: engine.StatusPass},
		"ordinary text and a password":       {data: map[string]string{"notes.txt": ordinary[:15<<10], "z-db.url": "postgres://app:Orders-2024-x9Kq@db/app"}, want: engine.StatusFail},
	} {
		t.Run(name, func(t *testing.T) {
			whole := &corev1.ConfigMap{Data: tc.data}
			whole.Name, whole.Namespace = "settings", "shop"
			cached := whole.DeepCopy()
			if got := DigestConfigMap(cached); got != tc.digest {
				t.Fatalf("digested %v, want %v", got, tc.digest)
			}
			want := judge(engine.NewObject(whole, "v1", "ConfigMap"))
			got := judge(CachedConfigMap(cached, "v1"))
			if tc.want != 0 && want.Status != tc.want || got.Status != want.Status || got.Message != want.Message {
				t.Errorf("from the cache %s (%s), from the whole ConfigMap %s (%s); want %s", got.Status, got.Message, want.Status, want.Message, tc.want)
			}
		})
	}
}

// denseKeys is n keys of size bytes of keywordDense text each.
func denseKeys(keywords []string, n, size int) map[string]string {
	data := map[string]string{}
	for k := range n {
		data[fmt.Sprintf("notes-%02d.txt", k)] = keywordDense(keywords, 100+k, size)
	}
	return data
}

// TestCorpusConfigMapsAreReadWhole: every ConfigMap of the fixtures and of ../shared/corpus
// (Grafana dashboards of up to 168 KB among them) is within configMapCredentialWork, with room:
// the operator reads them as scan does.
func TestCorpusConfigMapsAreReadWhole(t *testing.T) {
	dirs := []string{"testdata"}
	if _, err := os.Stat("../../../shared/corpus"); err == nil {
		dirs = append(dirs, "../../../shared/corpus")
	} else {
		t.Log("../shared/corpus is not available: only the fixtures are read")
	}
	objs, _ := manifest.Load(dirs, nil)
	largest, largestSize, n := 0, 0, 0
	for _, o := range objs {
		cm, ok := o.Obj.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		n++
		b := &credentialBudget{left: configMapCredentialWork}
		configMapCredentialsWithin(cm, b)
		lastAppliedCredentialsWithin(cm, b)
		annotationCredentialsWithin(cm, b)
		if len(b.unread) > 0 {
			t.Errorf("%s: %s not read", o.Ref(), strings.Join(b.unread, ", "))
		}
		size := 0
		for k, v := range cm.Data {
			size += len(k) + len(v)
		}
		if size <= configMapKeptWhole && dense(cm, keptLimits) {
			t.Errorf("%s: %d bytes, kept whole by its size, digested for its credential rules' work (configMapDenseWork)", o.Ref(), size)
		}
		if w := configMapCredentialWork - b.left; w > largest {
			largest, largestSize = w, size
		}
	}
	if largest > configMapCredentialWork/4 {
		t.Errorf("a ConfigMap of %d bytes takes %d of the %d work: too little room", largestSize, largest, configMapCredentialWork)
	}
	t.Logf("%d ConfigMaps; the most work, %d, a ConfigMap of %d bytes", n, largest, largestSize)
}

// BenchmarkEvaluateSmallDenseConfigMap is what sec-configmap-credentials spends at each
// evaluation of a namespace on a ConfigMap of 16 KiB of keywordDense text, as the operator's
// cache keeps it (TestSmallDenseConfigMapsAreDigested).
func BenchmarkEvaluateSmallDenseConfigMap(b *testing.B) {
	cm := &corev1.ConfigMap{Data: map[string]string{"notes.txt": keywordDense(gitleaksKeywords(b), 21, 16<<10-16)}}
	cm.Name, cm.Namespace = "settings", "shop"
	DigestConfigMap(cm)
	inv := engine.NewInventory([]*engine.Object{CachedConfigMap(cm, "v1")}, true)
	plan := engine.Compile([]*engine.Check{secConfigmapCredentials}, nil)
	for b.Loop() {
		plan.Evaluate(inv, nil, engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true})
	}
}
