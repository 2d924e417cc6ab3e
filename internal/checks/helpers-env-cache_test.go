package checks

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/manifest"
)

// TestReducedEnvIsJudgedAsWhole: every fixture of the catalogue, with every env value the
// operator's cache may replace by a stand-in replaced (reduceEnvValues with no bound on the
// values kept whole, as ReduceEnvValues does past 16 KiB, and the 32 KiB it judges, which no
// fixture exceeds), is judged by every built-in check to the same results
// (status and message, exceptions applied) as whole: in the operator, where every workload is
// so kept, and in the admission webhook, where the Pod it is asked about is whole and its
// controllers as the cache keeps them (and the other way round). A custom check of a fixture's
// profile may be NotAssessed where it read the containers.
func TestReducedEnvIsJudgedAsWhole(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	replaced, found := 0, 0
	for _, mode := range []string{"all", "pods whole", "controllers whole"} {
		for _, file := range files {
			r, f := judgedReducedAndWhole(t, file, mode)
			replaced, found = replaced+r, found+f
		}
	}
	if replaced == 0 || found == 0 {
		t.Fatalf("%d values replaced, %d of them found to hold a credential: the test judged nothing the cache replaces", replaced, found)
	}
	t.Logf("%d fixtures, %d env values replaced, %d of them credentials", len(files), replaced, found)
}

// judgedReducedAndWhole judges the fixture file whole and with its workloads' env values
// replaced as mode says (see TestReducedEnvIsJudgedAsWhole), and returns how many values it
// replaced and in how many of them sec-literal-env-credentials found a credential.
func judgedReducedAndWhole(t *testing.T, file, mode string) (replaced, found int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	decode := func() []*engine.Object {
		objs, errs := manifest.Decode(file, data)
		if len(errs) > 0 {
			return nil
		}
		manifest.DefaultNamespace(objs, "default")
		return objs
	}
	whole, again := decode(), decode()
	if whole == nil {
		return 0, 0
	}
	var profile *v1alpha1.ComplianceProfile
	var exceptions []*v1alpha1.ControlException
	var w, k []*engine.Object
	for i, o := range whole {
		switch obj := o.Obj.(type) {
		case *v1alpha1.ComplianceProfile:
			profile = obj
			continue
		case *v1alpha1.ControlException:
			exceptions = append(exceptions, obj)
			continue
		}
		c := again[i]
		cached, ok := c.Obj.(client.Object)
		_, pod := c.Obj.(*corev1.Pod)
		if !ok || mode == "pods whole" && pod || mode == "controllers whole" && !pod || !reduceEnvValues(cached, 0, 1, envJudgedBudget) {
			w, k = append(w, o), append(k, c)
			continue
		}
		// What inventory.CachedObject makes of it.
		cp := cached.DeepCopyObject().(client.Object)
		a := cp.GetAnnotations()
		digest, withheld := CachedEnvValues(a, c.Kind)
		if len(a) == 0 {
			a = nil
		}
		cp.SetAnnotations(a)
		kc := engine.NewObject(cp, c.APIVersion, c.Kind)
		kc.Digest, kc.Withheld, kc.Source = digest, withheld, c.Source
		for _, byIndex := range digest.(*envStandIns).Found {
			for _, why := range byIndex {
				replaced++
				if why != "" {
					found++
				}
			}
		}
		w, k = append(w, o), append(k, kc)
	}
	plan := engine.Compile(Catalogue(), profile)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	want := plan.Evaluate(engine.NewInventory(w, true), exceptions, opts)
	got := plan.Evaluate(engine.NewInventory(k, true), exceptions, opts)
	if len(want.Results) != len(got.Results) {
		t.Errorf("%s (%s): %d results whole, %d reduced", file, mode, len(want.Results), len(got.Results))
		return replaced, found
	}
	for i := range want.Results {
		wr, g := &want.Results[i], &got.Results[i]
		if g.Status == wr.Status && g.Message == wr.Message && refOf(g) == refOf(wr) && g.Container == wr.Container &&
			exceptionOf(g) == exceptionOf(wr) {
			continue
		}
		if strings.HasPrefix(wr.Check.ID, "custom-") && g.Status == engine.StatusNotAssessed {
			continue
		}
		t.Errorf("%s (%s): %s %s %s is %s whole (%s, excepted by %q), %s reduced (%s, excepted by %q)", file, mode, wr.Check.ID, refOf(wr), wr.Container,
			wr.Status, wr.Message, exceptionOf(wr), g.Status, g.Message, exceptionOf(g))
	}
	return replaced, found
}

// exceptionOf is the key of the exception r names, "" for none.
func exceptionOf(r *engine.Result) string {
	if r.Exception == nil {
		return ""
	}
	return r.Exception.Key + " " + string(r.Exception.State)
}

// refOf is the object r judged, "" for the cluster.
func refOf(r *engine.Result) string {
	if r.Object == nil {
		return ""
	}
	return r.Object.Ref().String()
}

// TestATemplateWhoseEnvTheCacheReducedExplainsItsPods: a Pod is judged through its
// ReplicaSet when their env values are the same, whichever of them the operator's cache
// reduced (ReduceEnvValues): both (the operator), the ReplicaSet alone (the admission webhook
// asked about the Pod, whole), the Pod alone; and not when the Pod's value differs.
func TestATemplateWhoseEnvTheCacheReducedExplainsItsPods(t *testing.T) {
	long := strings.Repeat("notes ", 4<<10)
	controller := true
	rs := func(value string) *appsv1.ReplicaSet {
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "shop", UID: "uid-rs"},
			Spec: appsv1.ReplicaSetSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0",
					Env: []corev1.EnvVar{{Name: "NOTES", Value: value}}}}}}},
		}
	}
	pod := func(value string) *corev1.Pod {
		r := rs(value)
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-abc-x1", Namespace: "shop", UID: "uid-pod", Labels: map[string]string{"app": "web"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-abc", UID: "uid-rs", Controller: &controller}}},
			Spec: r.Spec.Template.Spec}
	}
	cached := func(obj client.Object, kind string) *engine.Object {
		if !ReduceEnvValues(obj) {
			t.Fatalf("the %s's env was not reduced", kind)
		}
		a := obj.GetAnnotations()
		digest, withheld := CachedEnvValues(a, kind)
		o := engine.NewObject(obj, "v1", kind)
		if kind == "ReplicaSet" {
			o = engine.NewObject(obj, "apps/v1", kind)
		}
		o.Digest, o.Withheld = digest, withheld
		return o
	}
	for name, tc := range map[string]struct {
		rsReduced, podReduced bool
		podValue              string
		explained             bool
	}{
		"both reduced, the same value":              {rsReduced: true, podReduced: true, podValue: long, explained: true},
		"the template reduced, the Pod whole":       {rsReduced: true, podValue: long, explained: true},
		"the Pod reduced, the template whole":       {podReduced: true, podValue: long, explained: true},
		"the template reduced, another value":       {rsReduced: true, podValue: long + "x", explained: false},
		"both reduced, another value":               {rsReduced: true, podReduced: true, podValue: long + "x", explained: false},
		"the template reduced, its stand-in's text": {rsReduced: true, podValue: "soc2-operator.io/env-stand-in:" + strings.Repeat("A", 43), explained: false},
	} {
		t.Run(name, func(t *testing.T) {
			r := engine.NewObject(rs(long), "apps/v1", "ReplicaSet")
			if tc.rsReduced {
				r = cached(rs(long), "ReplicaSet")
			}
			p := engine.NewObject(pod(tc.podValue), "v1", "Pod")
			if tc.podReduced {
				p = cached(pod(tc.podValue), "Pod")
			}
			inv := engine.NewInventory([]*engine.Object{r, p}, true)
			prov := inv.Provenance(p)
			if prov == nil {
				t.Fatal("no provenance for a Pod that names its ReplicaSet")
			}
			if prov.Explained != tc.explained {
				t.Fatalf("explained %v, want %v (%s)", prov.Explained, tc.explained, prov.Reason)
			}
		})
	}
}

// TestReducedEnvKeepsWhatOthersRead: past 16 KiB of env values, the operator's cache keeps
// whole each value another part of the container reads (a later $(VAR), the args, a shell
// script's $VAR), one that references others or names a file, and the workload's bound on
// what references may add (workloadExpansion) counts the values it replaced: every built-in
// check judges the workload so kept as it judges it whole.
func TestReducedEnvKeepsWhatOthersRead(t *testing.T) {
	url := "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)
	// A chain of references (each twice the one before) that, expanded, adds more than 64 KiB
	// but less than the values the cache replaces: judged only when the bound counts them.
	chain := []corev1.EnvVar{{Name: "L0", Value: strings.Repeat("x", 2<<10) + " password=Orders-2024"}}
	for i := 1; i < 6; i++ {
		chain = append(chain, corev1.EnvVar{Name: fmt.Sprintf("L%d", i), Value: strings.Repeat(fmt.Sprintf("$(L%d)", i-1), 2)})
	}
	for name, tc := range map[string]struct {
		env     []corev1.EnvVar
		envFrom []corev1.EnvFromSource
		command []string
		args    []string
		mounts  []corev1.VolumeMount
		others  []client.Object
		// check is the check the case's credential fails whole, when not
		// sec-literal-env-credentials or sec-configmap-credentials.
		check string
		// filler is how many values of 2 KiB no one reads the container has besides: 12 when
		// not set (24 KiB, more than the cache keeps whole and within what it judges).
		filler int
	}{
		"a later value references it": {env: []corev1.EnvVar{{Name: "URL", Value: url}, {Name: "LINK", Value: "$(URL)"}}},
		"the args reference it":       {env: []corev1.EnvVar{{Name: "URL", Value: url}}, args: []string{"--db=$(URL)"}},
		"a shell script reads it":     {env: []corev1.EnvVar{{Name: "URL", Value: url}}, command: []string{"sh", "-c", "exec psql \"$URL\""}},
		"it references a ConfigMap's key": {
			env: []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "k"}}},
				{Name: "LINK", Value: "postgres://app:$(K)@db/" + strings.Repeat("a", 300)}},
			others: []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string]string{"k": "Orders-2024"}}},
		},
		"it names a file of a ConfigMap volume": {
			env:    []corev1.EnvVar{{Name: "DB_PASSWORD_FILE", Value: "/etc/db/" + strings.Repeat("d/", 150) + "k"}},
			mounts: []corev1.VolumeMount{{Name: "db", MountPath: "/etc/db"}},
			others: []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"},
				Data: map[string]string{"k": "Orders-2024"}}},
		},
		"its references expand past 64 KiB but within the workload's own text": {env: chain, filler: 40},
		// envFrom defines names the spec does not show: DB_K is the ConfigMap's key K, which
		// the URL's password expands to (and which, named DB_K, no check finds by its name).
		"it references a variable envFrom defines": {
			envFrom: []corev1.EnvFromSource{{Prefix: "DB_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}},
			env:     []corev1.EnvVar{{Name: "LINK", Value: "postgres://app:$(DB_K)@db/" + strings.Repeat("a", 300)}},
			others:  []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string]string{"K": "Orders-2024"}}},
		},
		// S takes a Secret's key, and a later literal S replaces it: the environment holds
		// the Secret only through LINK's $(S) (sec-secret-as-env, replacedUnread).
		"it references a Secret's variable that a later entry replaces": {
			env: []corev1.EnvVar{
				{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "k"}}},
				{Name: "LINK", Value: "token=$(S) " + strings.Repeat("a", 300)},
				{Name: "S", Value: "none"}},
			check: "sec-secret-as-env",
		},
		// The same with a name holding a ')' (any printable character but '=' is allowed):
		// the kubelet reads $(S)X) as $(S) and X), but sec-secret-as-env looks for "$(S)X)".
		"it references a Secret's variable whose name holds a )": {
			env: []corev1.EnvVar{
				{Name: "S)X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "k"}}},
				{Name: "LINK", Value: "token=$(S)X) " + strings.Repeat("a", 300)},
				{Name: "S)X", Value: "none"}},
			check: "sec-secret-as-env",
		},
	} {
		if tc.filler == 0 {
			tc.filler = 12
		}
		t.Run(name, func(t *testing.T) {
			deployment := func() *appsv1.Deployment {
				env := slices.Clone(tc.env)
				for i := range tc.filler { // what no one reads
					env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", i), Value: strings.Repeat("n", 2<<10)})
				}
				d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders"},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.3.0",
							Env: env, EnvFrom: tc.envFrom, Command: tc.command, Args: tc.args, VolumeMounts: tc.mounts}}}}}}
				if tc.mounts != nil {
					d.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "db", VolumeSource: corev1.VolumeSource{
						ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"},
							Items: []corev1.KeyToPath{{Key: "k", Path: strings.Repeat("d/", 150) + "k"}}}}}}
				}
				return d
			}
			whole, reduced := deployment(), deployment()
			if !ReduceEnvValues(reduced) {
				t.Fatal("the Deployment's env was not reduced")
			}
			a := reduced.GetAnnotations()
			digest, withheld := CachedEnvValues(a, "Deployment")
			reduced.SetAnnotations(nil)
			r := engine.NewObject(reduced, "apps/v1", "Deployment")
			r.Digest, r.Withheld = digest, withheld
			var others []*engine.Object
			for _, o := range tc.others {
				others = append(others, engine.NewObject(o, "v1", "ConfigMap"))
			}
			plan := engine.Compile(Catalogue(), nil)
			opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
			want := plan.Evaluate(engine.NewInventory(append([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, others...), true), nil, opts)
			got := plan.Evaluate(engine.NewInventory(append([]*engine.Object{r}, others...), true), nil, opts)
			if len(want.Results) != len(got.Results) {
				t.Fatalf("%d results whole, %d reduced", len(want.Results), len(got.Results))
			}
			failed := false
			for i := range want.Results {
				wr, g := &want.Results[i], &got.Results[i]
				if tc.check == "" && (wr.Check.ID == "sec-literal-env-credentials" || wr.Check.ID == "sec-configmap-credentials") ||
					wr.Check.ID == tc.check {
					failed = failed || wr.Status == engine.StatusFail
				}
				if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
					t.Errorf("%s %s %s is %s whole (%s), %s reduced (%s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
				}
			}
			if !failed {
				t.Error("the credential the case writes failed no check whole: the case tests nothing")
			}
		})
	}
}

// TestEnvValuesReferencingNothingAreReduced: past 16 KiB of env values, the operator's cache
// replaces a value holding a $ that references no variable its container defines ($(NAME) of
// a name no entry has, $$, a shell's $VAR or ${VAR}, an unclosed "$("), which the kubelet
// leaves as it is but for $$, read as $: kept whole for its $ alone, a tenant's 500 KiB of
// such values a Deployment (each holding "$(UNDEFINED)") stayed in the operator's memory
// whole. Every built-in check judges the workload so kept as whole, the credentials in such
// values found as in their expansion.
func TestEnvValuesReferencingNothingAreReduced(t *testing.T) {
	pad := strings.Repeat("a", 300)
	for name, tc := range map[string]corev1.EnvVar{
		"a reference to a name no entry has": {Name: "DATABASE_URL", Value: "postgres://app:Orders-2024@db.shop.svc/$(DB_NAME)?application_name=" + pad},
		"an escaped $ in a password":         {Name: "DB_PASSWORD", Value: "Ord$$rs-2024-" + pad},
		"a shell's parameters":               {Name: "PGPASSWORD", Value: "Orders-2024-$USER-${HOME}-" + pad},
		"an unclosed reference":              {Name: "API_TOKEN", Value: "Orders-2024-$(" + pad},
	} {
		t.Run(name, func(t *testing.T) {
			deployment := func() *appsv1.Deployment {
				env := []corev1.EnvVar{tc}
				for i := range 40 { // 80 KiB no one reads, each value referencing nothing
					env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", i), Value: "$(UNDEFINED) " + strings.Repeat("n", 2<<10)})
				}
				return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders"},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.3.0", Env: env}}}}}}
			}
			whole, reduced := deployment(), deployment()
			if !ReduceEnvValues(reduced) {
				t.Fatal("the Deployment's env was not reduced: every value holds a $")
			}
			for i, e := range reduced.Spec.Template.Spec.Containers[0].Env {
				if !strings.HasPrefix(e.Value, envStandInPrefix) {
					t.Errorf("env %s (%d bytes, referencing nothing defined) was kept whole", e.Name, len(whole.Spec.Template.Spec.Containers[0].Env[i].Value))
				}
			}
			a := reduced.GetAnnotations()
			digest, withheld := CachedEnvValues(a, "Deployment")
			reduced.SetAnnotations(nil)
			r := engine.NewObject(reduced, "apps/v1", "Deployment")
			r.Digest, r.Withheld = digest, withheld
			plan := engine.Compile(Catalogue(), nil)
			opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
			want := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, true), nil, opts)
			got := plan.Evaluate(engine.NewInventory([]*engine.Object{r}, true), nil, opts)
			if len(want.Results) != len(got.Results) {
				t.Fatalf("%d results whole, %d reduced", len(want.Results), len(got.Results))
			}
			failed := false
			for i := range want.Results {
				wr, g := &want.Results[i], &got.Results[i]
				if wr.Check.ID == "sec-literal-env-credentials" {
					failed = wr.Status == engine.StatusFail && strings.Contains(wr.Message, tc.Name)
				}
				if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
					t.Errorf("%s %s %s is %s whole (%s), %s reduced (%s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
				}
			}
			if !failed {
				t.Errorf("sec-literal-env-credentials did not fail %s whole: the case tests nothing", tc.Name)
			}
		})
	}
}

// TestAStaleLastAppliedIsComparedThroughStandIns: a workload whose kubectl
// last-applied-configuration annotation holds env its spec does not was kept whole in the
// operator's cache, for sec-literal-env-credentials compared the annotation's values with the
// spec's; the spec's are now stand-ins there, and the check compares through them
// (engine.StaleAppliedThrough): a long password the spec and the annotation both hold is named
// once, as the whole workload names it, and the one only the annotation holds as being there.
func TestAStaleLastAppliedIsComparedThroughStandIns(t *testing.T) {
	password := corev1.EnvVar{Name: "DB_PASSWORD", Value: "Orders-2024-" + strings.Repeat("k7Qz", 100)}
	deployment := func() *appsv1.Deployment {
		env := []corev1.EnvVar{password}
		for i := range 40 { // 80 KiB no one reads
			env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", i), Value: strings.Repeat("n", 2<<10)})
		}
		applied := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":%q,"value":%q},{"name":"OLD_TOKEN","value":"Orders-2024-x9Kq"}]}]}}}}`,
			password.Name, password.Value)
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders",
			Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: applied}},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.3.0", Env: env}}}}}}
	}
	whole, reduced := deployment(), deployment()
	if len(engine.StaleApplied(whole)) == 0 {
		t.Fatal("the annotation is not stale: the test tests nothing")
	}
	if !ReduceEnvValues(reduced) || !strings.HasPrefix(reduced.Spec.Template.Spec.Containers[0].Env[0].Value, envStandInPrefix) {
		t.Fatal("DB_PASSWORD was not reduced")
	}
	a := reduced.GetAnnotations()
	digest, withheld := CachedEnvValues(a, "Deployment")
	reduced.SetAnnotations(a)
	r := engine.NewObject(reduced, "apps/v1", "Deployment")
	r.Digest, r.Withheld = digest, withheld
	plan := engine.Compile(Catalogue(), nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	want := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, true), nil, opts)
	got := plan.Evaluate(engine.NewInventory([]*engine.Object{r}, true), nil, opts)
	if len(want.Results) != len(got.Results) {
		t.Fatalf("%d results whole, %d reduced", len(want.Results), len(got.Results))
	}
	failed := false
	for i := range want.Results {
		wr, g := &want.Results[i], &got.Results[i]
		if wr.Check.ID == "sec-literal-env-credentials" {
			failed = wr.Status == engine.StatusFail && strings.Contains(wr.Message, "OLD_TOKEN in kubectl's last-applied-configuration")
		}
		if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
			t.Errorf("%s %s %s is %s whole (%s), %s reduced (%s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
		}
	}
	if !failed {
		t.Error("sec-literal-env-credentials did not fail OLD_TOKEN in the annotation whole: the test tests nothing")
	}
}

// benchEnvDeployment is a Deployment whose container has 64 env values of 8000 bytes (500 KiB),
// each of them different from every other Deployment's when fresh is set.
func benchEnvDeployment(n int, fresh bool) *appsv1.Deployment {
	var env []corev1.EnvVar
	for j := range 64 {
		v := strings.Repeat(fmt.Sprint(j%10)+" ", 4000)
		if fresh {
			v = fmt.Sprintf("%08d", n) + v[8:]
		}
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", j), Value: v})
	}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0", Env: env}}}}}}
}

// BenchmarkReduceEnvValues is what the operator's cache spends, in the informer's goroutine, on
// a workload with 500 KiB of env values it has not seen (the credential rules run on each).
func BenchmarkReduceEnvValues(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		d := benchEnvDeployment(i, true)
		b.StartTimer()
		ReduceEnvValues(d)
	}
}

// BenchmarkReduceEnvValuesAgain is the same for a workload whose values it judged before (a
// Pod's status or a Deployment's rollout changed): the hashes, then the remembered judgements.
func BenchmarkReduceEnvValuesAgain(b *testing.B) {
	ReduceEnvValues(benchEnvDeployment(0, false))
	for b.Loop() {
		b.StopTimer()
		d := benchEnvDeployment(0, false)
		b.StartTimer()
		ReduceEnvValues(d)
	}
}

// TestCustomChecksOfAReducedWorkloadsEnvAreNotAssessed: a custom check that reads the env
// values of a workload whose values the operator's cache replaced by stand-ins
// (ReduceEnvValues) is NotAssessed, naming the field, never judged on the stand-ins: whether it
// reads them through object, through podSpec, or as the Pod the template makes (a check of
// Pods). One that reads nothing of the containers is judged as on the whole workload.
func TestCustomChecksOfAReducedWorkloadsEnvAreNotAssessed(t *testing.T) {
	custom := func(id, expr string, kinds ...string) v1alpha1.CustomCheck {
		return v1alpha1.CustomCheck{ID: id, Title: id, Kinds: kinds, Criteria: []v1alpha1.Criterion{"CC6.1"}, Expression: expr}
	}
	noSecret := "!%s.exists(c, has(c.env) && c.env.exists(e, has(e.value) && e.value.contains('s3cr3t')))"
	profile := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1alpha1.ComplianceProfileSpec{
		CustomChecks: []v1alpha1.CustomCheck{
			custom("custom-object", fmt.Sprintf(noSecret, "object.spec.template.spec.containers"), "Deployment"),
			custom("custom-podspec", fmt.Sprintf(noSecret, "podSpec.containers"), "Deployment"),
			custom("custom-pods", fmt.Sprintf(noSecret, "object.spec.containers"), "Pod"),
			custom("custom-replicas", "object.spec.replicas == 1", "Deployment"),
		}}}
	d := benchEnvDeployment(0, false)
	d.Spec.Replicas = new(int32)
	*d.Spec.Replicas = 1
	d.Spec.Template.Spec.Containers[0].Env[3].Value = "s3cr3t " + d.Spec.Template.Spec.Containers[0].Env[3].Value
	if !ReduceEnvValues(d) {
		t.Fatal("the Deployment's env was not reduced")
	}
	digest, withheld := CachedEnvValues(d.Annotations, "Deployment")
	o := engine.NewObject(d, "apps/v1", "Deployment")
	o.Digest, o.Withheld = digest, withheld
	plan := engine.Compile(nil, profile)
	if len(plan.Problems) > 0 {
		t.Fatal(plan.Problems)
	}
	ev := plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, engine.Options{Now: fixtureNow, KeepPassing: true})
	got := map[string]engine.Status{}
	for _, r := range ev.Results {
		got[r.Check.ID] = r.Status
		if r.Status == engine.StatusNotAssessed && !strings.Contains(r.Message, "env values over 16 KiB") {
			t.Errorf("%s: NotAssessed without naming why: %s", r.Check.ID, r.Message)
		}
	}
	want := map[string]engine.Status{
		"custom-object":   engine.StatusNotAssessed,
		"custom-podspec":  engine.StatusNotAssessed,
		"custom-pods":     engine.StatusNotAssessed,
		"custom-replicas": engine.StatusPass,
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s is %s, want %s", id, got[id], w)
		}
	}
}

// benchManyEnvDeployment is a Deployment whose container has n env values of 265 bytes, each
// beginning with prefix (and fresh to the judgement memo for each i), and args of argBytes
// bytes of text that names none of them.
func benchManyEnvDeployment(i, n int, prefix string, argBytes int) *appsv1.Deployment {
	env := make([]corev1.EnvVar, 0, n)
	for j := range n {
		v := fmt.Sprintf("%s%08d-%06d ", prefix, i, j)
		v += strings.Repeat("n", 265-len(v))
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%05d", j), Value: v})
	}
	var args []string
	if argBytes > 0 {
		args = []string{strings.Repeat("NOTES_", argBytes/6)}
	}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0", Env: env, Args: args}}}}}}
}

// BenchmarkReduceEnvValuesManyReferencingNothing is what the operator's cache spends on a
// workload of 5,000 env values of 265 bytes, each holding a $(U) reference to nothing (1.3 MiB,
// within the API server's 1.5 MiB an object): each value's name was looked for in the text of
// every such value.
func BenchmarkReduceEnvValuesManyReferencingNothing(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		d := benchManyEnvDeployment(i, 5000, "$(U) ", 0)
		b.StartTimer()
		ReduceEnvValues(d)
	}
}

// BenchmarkReduceEnvValuesBesideLongArgs is the same for 2,500 values of 265 bytes (no $)
// beside 700 KB of args made of the text every name begins with: each value's name was looked
// for in the whole of the args.
func BenchmarkReduceEnvValuesBesideLongArgs(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		d := benchManyEnvDeployment(i, 2500, "", 700<<10)
		b.StartTimer()
		ReduceEnvValues(d)
	}
}

// TestEnvNamesOutsideReferencesDoNotKeepValuesWhole: past 16 KiB of env values, the
// operator's cache keeps a value whole when a value holding a $ references it ($(NAME)), not
// when that value holds its name otherwise (a shell's $NAME, which the kubelet does not expand
// in env values, or the name as a word): the rest of such a value was looked for each name, which
// cost a workload of 5,000 such values 120 ms a transform. It keeps a value beginning with /
// whole where it may name a file of a ConfigMap volume the container mounts, not for its / alone.
// Every built-in check judges the workload so kept as whole, the credentials of the values
// replaced found as in them.
func TestEnvNamesOutsideReferencesDoNotKeepValuesWhole(t *testing.T) {
	pad := strings.Repeat("a", 300)
	dbURL := "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + pad
	configMapVolume := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
	}
	for name, tc := range map[string]struct {
		env     []corev1.EnvVar
		command []string
		mounts  []corev1.VolumeMount
		volumes []corev1.Volume
		// reduced are the entries the cache replaces; kept those it keeps whole.
		reduced, kept []string
	}{
		"a shell's parameter in a value the kubelet expands into a script": {
			env: []corev1.EnvVar{{Name: "DB_PASSWORD", Value: "Orders-2024-" + pad},
				{Name: "SCRIPT", Value: `$(UNSET) psql "postgres://app:$DB_PASSWORD@db/orders" ` + pad}},
			command: []string{"sh", "-c", "$(SCRIPT)"},
			reduced: []string{"DB_PASSWORD"}, kept: []string{"SCRIPT"},
		},
		"the name as a word beside a reference to nothing": {
			env: []corev1.EnvVar{{Name: "API_TOKEN", Value: "ghp_" + strings.Repeat("k7Qz", 9) + pad},
				{Name: "NOTE", Value: "$(UNSET) API_TOKEN and ${API_TOKEN} " + pad}},
			reduced: []string{"API_TOKEN", "NOTE"},
		},
		"a reference beside the name as a word": {
			env: []corev1.EnvVar{{Name: "API_TOKEN", Value: "ghp_" + strings.Repeat("k7Qz", 9) + pad},
				{Name: "NOTE", Value: "API_TOKEN is $(API_TOKEN) " + pad}},
			kept: []string{"API_TOKEN", "NOTE"},
		},
		// A value beginning with / was kept whole as a file's path: 100 Deployments of 500 KiB of
		// such values held 52 MiB of the operator's heap (BenchmarkOperatorBesideTenantEnvPaths).
		"a path and no volume": {
			env:     []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			reduced: []string{"RUN"},
		},
		"a path under an emptyDir": {
			env:     []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			mounts:  []corev1.VolumeMount{{Name: "app", MountPath: "/opt/app"}},
			volumes: []corev1.Volume{{Name: "app", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			reduced: []string{"RUN"},
		},
		"a path beside a ConfigMap mounted elsewhere": {
			env:     []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			mounts:  []corev1.VolumeMount{{Name: "db", MountPath: "/opt/app/config"}},
			volumes: []corev1.Volume{configMapVolume("db")},
			reduced: []string{"RUN"},
		},
		"a path under a ConfigMap's mount": {
			env:     []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			mounts:  []corev1.VolumeMount{{Name: "db", MountPath: "/opt/app/"}},
			volumes: []corev1.Volume{configMapVolume("db")},
			kept:    []string{"RUN"},
		},
		"a path beside ConfigMaps mounted at its parent's siblings, a prefix of its name, relative and at the root with a subPathExpr": {
			env: []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			mounts: []corev1.VolumeMount{{Name: "db", MountPath: "/opt/ap"}, {Name: "db", MountPath: "/opt/app2"}, {Name: "db", MountPath: "/opt/app/run"},
				{Name: "db", MountPath: "opt"}, {Name: "db", MountPath: "/", SubPathExpr: "$(POD)"}},
			volumes: []corev1.Volume{configMapVolume("db")},
			reduced: []string{"RUN"},
		},
		"a path under a projected ConfigMap mounted at the root": {
			env:    []corev1.EnvVar{{Name: "RUN", Value: "/opt/app/run --db=" + dbURL}},
			mounts: []corev1.VolumeMount{{Name: "all", MountPath: "//"}},
			volumes: []corev1.Volume{{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}}}}}},
			kept: []string{"RUN"},
		},
		"a reference to a name holding a )": {
			env: []corev1.EnvVar{{Name: "S)X", Value: "postgres://app:Orders-2024@db/orders?application_name=" + pad},
				{Name: "NOTE", Value: "$(S)X) " + pad}},
			kept: []string{"S)X", "NOTE"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			deployment := func() *appsv1.Deployment {
				env := slices.Clone(tc.env)
				for i := range 40 { // 80 KiB no one reads
					env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", i), Value: strings.Repeat("n", 2<<10)})
				}
				return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders"},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
						Spec: corev1.PodSpec{Volumes: tc.volumes, Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.3.0",
							Env: env, Command: tc.command, VolumeMounts: tc.mounts}}}}}}
			}
			whole, reduced := deployment(), deployment()
			if !ReduceEnvValues(reduced) {
				t.Fatal("the Deployment's env was not reduced")
			}
			for _, e := range reduced.Spec.Template.Spec.Containers[0].Env {
				switch standIn := strings.HasPrefix(e.Value, envStandInPrefix); {
				case slices.Contains(tc.reduced, e.Name) && !standIn:
					t.Errorf("env %s was kept whole", e.Name)
				case slices.Contains(tc.kept, e.Name) && standIn:
					t.Errorf("env %s was replaced", e.Name)
				}
			}
			a := reduced.GetAnnotations()
			digest, withheld := CachedEnvValues(a, "Deployment")
			reduced.SetAnnotations(nil)
			r := engine.NewObject(reduced, "apps/v1", "Deployment")
			r.Digest, r.Withheld = digest, withheld
			plan := engine.Compile(Catalogue(), nil)
			opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
			want := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, true), nil, opts)
			got := plan.Evaluate(engine.NewInventory([]*engine.Object{r}, true), nil, opts)
			if len(want.Results) != len(got.Results) {
				t.Fatalf("%d results whole, %d reduced", len(want.Results), len(got.Results))
			}
			failed := false
			for i := range want.Results {
				wr, g := &want.Results[i], &got.Results[i]
				if wr.Check.ID == "sec-literal-env-credentials" {
					failed = wr.Status == engine.StatusFail
				}
				if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
					t.Errorf("%s %s %s is %s whole (%s), %s reduced (%s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
				}
			}
			if !failed {
				t.Error("sec-literal-env-credentials did not fail the Deployment whole: the case tests nothing")
			}
		})
	}
}

// TestContainerTextHoldsOnlyReferences: the text a container's names are looked for in
// (containerText) holds of a literal value with a $ only its references, "$(" to the first
// ')' after, each run that one ')' ends once: linear in the value, and what the readers of
// references read.
func TestContainerTextHoldsOnlyReferences(t *testing.T) {
	for value, want := range map[string]string{
		"$(U) " + strings.Repeat("NAME ", 100):    "\x00$(U)",
		"a$(A$(B)c$$(C) $VAR ${X} $(unclosed":     "\x00$(A$(B)\x00$(C)",
		strings.Repeat("$(", 1000) + ")" + "$(D)": "\x00" + strings.Repeat("$(", 1000) + ")\x00$(D)",
	} {
		c := &corev1.Container{Env: []corev1.EnvVar{{Name: "V", Value: value}}}
		base := containerText(&corev1.Container{})
		if got := containerText(c); got != base+want {
			t.Errorf("%.40q: text %q, want %q", value, strings.TrimPrefix(got, base), want)
		}
	}
}

// TestNameTextIndexedFindsAsScanned: a container's text finds the same names through its suffix
// array, once nameScanBudget is spent, as by strings.Contains: a name anywhere in it, and one
// holding a ')' where a reference names the part before it.
func TestNameTextIndexedFindsAsScanned(t *testing.T) {
	text := containerText(&corev1.Container{Args: []string{"--db=$(DB_URL)", "sh -c 'echo $HOME'"},
		Env: []corev1.EnvVar{{Name: "N", Value: "$(S)X) $(Q) tail"}}})
	for name, want := range map[string]bool{
		"DB_URL": true, "HOME": true, "DB": true, "S)X": true, "S)Y": true, "Q)": true, "Q)Z": true,
		"tail": false, "X)": false, "T)": false, "NOPE": false, "": true,
	} {
		scanned := &nameText{text: text}
		indexed := &nameText{text: text, scanned: nameScanBudget}
		if got := scanned.names(name); got != want {
			t.Errorf("%q scanned: %v, want %v", name, got, want)
		}
		if got := indexed.names(name); got != want || indexed.index == nil && name != "" {
			t.Errorf("%q indexed: %v, want %v (indexed %v)", name, got, want, indexed.index != nil)
		}
	}
}

// TestEnvValuesPastTheJudgedBudgetAreNotAssessed: the operator's cache passes at most 32 KiB of
// a workload's values it replaces to the credential rules (envJudgedBudget), which a tenant's
// text can make cost seconds a MiB in the informer's goroutine; sec-literal-env-credentials is
// NotAssessed for the values after, naming them, never Pass, and still fails a credential the
// cheap name rule finds there, or one found in the values judged, as whole. Every other check
// judges the workload as whole.
func TestEnvValuesPastTheJudgedBudgetAreNotAssessed(t *testing.T) {
	url := corev1.EnvVar{Name: "NOTES_URL", Value: "postgres://app:Orders-2024@db.shop.svc/orders?application_name=" + strings.Repeat("a", 300)}
	password := corev1.EnvVar{Name: "DB_PASSWORD", Value: "Orders-2024-" + strings.Repeat("k7Qz", 100)}
	filler := func(n int) []corev1.EnvVar {
		var env []corev1.EnvVar
		for i := range n {
			env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%02d", i), Value: strings.Repeat("n", 2<<10)})
		}
		return env
	}
	for name, tc := range map[string]struct {
		env []corev1.EnvVar
		// want is the reduced workload's status; its message is the whole one's, or, when
		// NotAssessed, names unjudged.
		want     engine.Status
		unjudged string
	}{
		"a URL's password past the budget": {env: append(filler(40), url), want: engine.StatusNotAssessed, unjudged: "NOTES_16"},
		"harmless values past the budget":  {env: filler(40), want: engine.StatusNotAssessed, unjudged: "NOTES_16"},
		// Judged in order, up to where a value did not fit: not the short ones after it.
		"a URL's password after a value that did not fit": {env: append(filler(15), corev1.EnvVar{Name: "BIG", Value: strings.Repeat("b", 4<<10)}, url),
			want: engine.StatusNotAssessed, unjudged: "BIG"},
		"a credential-like name past the budget": {env: append(filler(40), password), want: engine.StatusFail},
		"a URL's password within the budget":     {env: append([]corev1.EnvVar{url}, filler(40)...), want: engine.StatusFail},
		"values within the budget":               {env: filler(12), want: engine.StatusPass},
	} {
		t.Run(name, func(t *testing.T) {
			deployment := func() *appsv1.Deployment {
				return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders"},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/shop/orders:2.3.0",
							Env: slices.Clone(tc.env)}}}}}}
			}
			whole, reduced := deployment(), deployment()
			if !ReduceEnvValues(reduced) {
				t.Fatal("the Deployment's env was not reduced")
			}
			a := reduced.GetAnnotations()
			digest, withheld := CachedEnvValues(a, "Deployment")
			reduced.SetAnnotations(nil)
			r := engine.NewObject(reduced, "apps/v1", "Deployment")
			r.Digest, r.Withheld = digest, withheld
			plan := engine.Compile(Catalogue(), nil)
			opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
			want := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, true), nil, opts)
			got := plan.Evaluate(engine.NewInventory([]*engine.Object{r}, true), nil, opts)
			if len(want.Results) != len(got.Results) {
				t.Fatalf("%d results whole, %d reduced", len(want.Results), len(got.Results))
			}
			for i := range want.Results {
				wr, g := &want.Results[i], &got.Results[i]
				if wr.Check.ID == "sec-literal-env-credentials" {
					if g.Status != tc.want {
						t.Errorf("sec-literal-env-credentials is %s reduced (%s), want %s (whole: %s, %s)", g.Status, g.Message, tc.want, wr.Status, wr.Message)
					}
					if tc.want == engine.StatusNotAssessed {
						if !strings.Contains(g.Message, "env "+tc.unjudged) || !strings.Contains(g.Message, "not read for literal credentials") || !strings.Contains(g.Message, "32 KiB") {
							t.Errorf("the NotAssessed message %q does not name %s, nor why", g.Message, tc.unjudged)
						}
						if !g.Unread || wr.Unread {
							t.Errorf("unread %v reduced, %v whole: want it unread (fails closed in the reports) reduced only", g.Unread, wr.Unread)
						}
						continue
					}
				}
				if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
					t.Errorf("%s %s %s is %s whole (%s), %s reduced (%s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
				}
			}
		})
	}
}

// benchWorstEnvDeployment is a Deployment whose container has values env values of size bytes
// (1.4 MB in all, within the API server's 1.5 MiB an object) made of gitleaks' keywords, each
// followed by a random token, so that every rule runs on each value (a tenant's choice of
// text); fresh to the judgement memo for each i.
func benchWorstEnvDeployment(b *testing.B, i, values, size int) *appsv1.Deployment {
	raw, err := os.ReadFile(filepath.Join("..", "secretrules", "gitleaks.toml"))
	if err != nil {
		b.Fatal(err)
	}
	var keywords []string
	for _, m := range regexp.MustCompile(`(?m)^keywords = \[([^]]*)\]`).FindAllStringSubmatch(string(raw), -1) {
		for k := range strings.SplitSeq(m[1], ",") {
			if k = strings.Trim(strings.TrimSpace(k), `"`); k != "" {
				keywords = append(keywords, k)
			}
		}
	}
	r := rand.New(rand.NewPCG(uint64(i), 7))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	env := make([]corev1.EnvVar, 0, values)
	for j := range values {
		var v strings.Builder
		fmt.Fprintf(&v, "%08d ", i)
		for v.Len() < size {
			v.WriteString(keywords[r.IntN(len(keywords))])
			for range 8 {
				v.WriteByte(alnum[r.IntN(len(alnum))])
			}
		}
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("NOTES_%04d", j), Value: v.String()[:size]})
	}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0", Env: env}}}}}}
}

// benchWorstSeed makes each of BenchmarkReduceEnvValuesWorstCase's workloads new.
var benchWorstSeed int

// BenchmarkReduceEnvValuesWorstCase is what the operator's cache spends, in the informer's
// goroutine, on each change of a workload of 1.4 MB of env values whose text makes every
// credential rule run (benchWorstEnvDeployment), as 175 values of 8,000 bytes, 5,000 of 280 and
// 10 of 140,000.
func BenchmarkReduceEnvValuesWorstCase(b *testing.B) {
	// The rules compile their regexes when first used: once a process, not timed.
	reduceEnvValues(benchWorstEnvDeployment(b, -1, 10, 8000), 0, 1, -1)
	for _, shape := range []struct{ values, size int }{{175, 8000}, {5000, 280}, {10, 140000}} {
		b.Run(fmt.Sprintf("%dx%d", shape.values, shape.size), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				benchWorstSeed++ // values the memo has not seen, in each run too
				d := benchWorstEnvDeployment(b, benchWorstSeed, shape.values, shape.size)
				b.StartTimer()
				ReduceEnvValues(d)
			}
		})
	}
}

// BenchmarkCommandLineCredentialsWorstCase is what sec-literal-env-credentials spends on one
// evaluation of a Deployment whose container's args are text that makes every credential rule
// run (keywordDense): 140 KB as one argument and as 10 of 14 KB, and 1.4 MB as 10 of 140 KB and as
// 1,000 of 1.4 KB
// (within the API server's 1.5 MiB an object). The operator runs it at every evaluation of the
// namespace, in a reconcile worker, with nothing remembered; scan reads it whole, the operator
// within argvCredentialWork.
func BenchmarkCommandLineCredentialsWorstCase(b *testing.B) {
	keywords := gitleaksKeywords(b)
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	// The rules compile their regexes when first used: once a process, not timed.
	leakedInText(keywordDense(keywords, -1, 20<<10))
	for _, shape := range []struct{ args, size int }{{1, 140000}, {10, 14000}, {10, 140000}, {1000, 1400}} {
		args := make([]string, shape.args)
		for i := range args {
			args[i] = keywordDense(keywords, i, shape.size)
		}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0", Command: []string{"/app"}, Args: args}}}}}}
		// scan reads the whole object; the operator the one its cache marked (ReduceEnvValues),
		// whose command lines gitleaks' rules read within argvCredentialWork.
		for _, mode := range []string{"scan", "operator"} {
			b.Run(fmt.Sprintf("%dx%d/%s", shape.args, shape.size, mode), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					cp := d.DeepCopy()
					o := engine.NewObject(cp, "apps/v1", "Deployment")
					if mode == "operator" {
						if !ReduceEnvValues(cp) {
							b.Fatal("the cache did not mark the Deployment")
						}
						digest, _ := CachedEnvValues(cp.Annotations, "Deployment")
						cp.Annotations = nil
						o = engine.NewObject(cp, "apps/v1", "Deployment")
						o.Digest = digest
					}
					b.StartTimer()
					plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, opts)
				}
			})
		}
	}
}

// TestCommandLinesPastTheArgvWorkAreNotAssessed: in the operator (a workload its cache marked,
// ReduceEnvValues, whose command lines take more than argvBoundedFrom bytes), gitleaks' rules
// read the command lines within argvCredentialWork: what does not fit is named and the check is
// NotAssessed, unless a credential is found (by the other rules, which read everything, or by
// gitleaks' in what fits, before or after it). Never a Pass for what was not read; scan (the
// whole object, no digest) reads everything.
func TestCommandLinesPastTheArgvWorkAreNotAssessed(t *testing.T) {
	keywords := gitleaksKeywords(t)
	dense := keywordDense(keywords, 3, 40000)                            // 8.7 M units of work
	ordinary := strings.Repeat("--log-level=info --listen=:8080 ", 3000) // 96 KB, no keyword
	const url = "--db=postgres://app:Orders-2024@db.shop.svc/orders"
	const token = "ghp_4rX9kQ2mZ7vT1sL8nB3cW6yH0jD5fG2aE9uP"
	for name, tc := range map[string]struct {
		command, args []string
		probe         []string
		env           []corev1.EnvVar
		// applied is the env of the container in kubectl's last-applied-configuration annotation.
		applied []corev1.EnvVar
		want    engine.Status
		// unread is named in the NotAssessed message.
		unread string
	}{
		"dense args alone":                        {args: []string{dense}, want: engine.StatusNotAssessed, unread: "args[0]"},
		"dense args in a probe's command":         {args: []string{"--serve"}, probe: []string{"/bin/check", dense}, want: engine.StatusNotAssessed, unread: "livenessProbe.exec.command[1]"},
		"dense args in the command":               {command: []string{"/app", dense}, want: engine.StatusNotAssessed, unread: "command[1]"},
		"a URL's password after dense args":       {args: []string{dense, url}, want: engine.StatusFail},
		"a GitHub token after dense args":         {args: []string{dense, token}, want: engine.StatusFail},
		"a GitHub token before dense args":        {args: []string{token, dense}, want: engine.StatusFail},
		"ordinary long args":                      {args: []string{ordinary}, want: engine.StatusPass},
		"ordinary long args and a GitHub token":   {args: []string{ordinary, token}, want: engine.StatusFail},
		"dense args within the work":              {args: []string{dense[:600], ordinary[:3000]}},
		"short args, not marked, read as a whole": {args: []string{dense[:1500]}},
		// The kubelet expands $(NOTES) into the argument: 40 KB read at each evaluation, and the
		// value itself, kept whole by the cache (the args read it), too.
		"a dense env value expanded into short args": {args: []string{"--notes=$(NOTES)"}, env: []corev1.EnvVar{{Name: "NOTES", Value: dense}},
			want: engine.StatusNotAssessed, unread: "args[0]"},
		"a dense env value kept whole": {args: []string{"--serve"}, env: []corev1.EnvVar{{Name: "NOTES", Value: dense}, {Name: "GREETING", Value: "$(NOTES)"}},
			want: engine.StatusNotAssessed, unread: "env NOTES"},
		"a dense env value in the last-applied annotation only": {args: []string{"--serve"}, applied: []corev1.EnvVar{{Name: "NOTES", Value: dense[:30000]}},
			want: engine.StatusNotAssessed, unread: "env NOTES in kubectl's last-applied-configuration annotation"},
		"a dense env value and a URL's password after it": {args: []string{"--notes=$(NOTES)"}, env: []corev1.EnvVar{{Name: "NOTES", Value: dense}, {Name: "DB", Value: url[5:]}},
			want: engine.StatusFail},
	} {
		t.Run(name, func(t *testing.T) {
			deployment := func() *appsv1.Deployment {
				c := corev1.Container{Name: "app", Image: "registry.example.com/shop/orders:2.3.0",
					Command: slices.Clone(tc.command), Args: slices.Clone(tc.args), Env: slices.Clone(tc.env)}
				if c.Command == nil {
					c.Command = []string{"/app"}
				}
				if tc.probe != nil {
					c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: slices.Clone(tc.probe)}}}
				}
				d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: "shop", UID: "uid-orders"},
					Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "orders"}},
						Spec:       corev1.PodSpec{Containers: []corev1.Container{c}}}}}
				if tc.applied != nil {
					a := d.DeepCopy()
					a.Spec.Template.Spec.Containers[0].Env = tc.applied
					raw, err := json.Marshal(a)
					if err != nil {
						t.Fatal(err)
					}
					d.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: string(raw)}
				}
				return d
			}
			whole, cached := deployment(), deployment()
			marked := ReduceEnvValues(cached)
			if want := argvSize(&cached.Spec.Template.Spec, "") > argvBoundedFrom || len(tc.env)+len(tc.applied) > 0; marked != want {
				t.Errorf("the cache marked the Deployment: %v, want %v", marked, want)
			}
			r := engine.NewObject(cached, "apps/v1", "Deployment")
			if marked {
				a := cached.GetAnnotations()
				digest, withheld := CachedEnvValues(a, "Deployment")
				if len(withheld) > 0 {
					t.Errorf("the containers of a Deployment whose env the cache kept whole are withheld from custom checks: %v", withheld)
				}
				delete(a, EnvStandInsAnnotation)
				if len(a) == 0 {
					a = nil
				}
				cached.SetAnnotations(a)
				r = engine.NewObject(cached, "apps/v1", "Deployment")
				r.Digest = digest
			}
			plan := engine.Compile(Catalogue(), nil)
			opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
			want := plan.Evaluate(engine.NewInventory([]*engine.Object{engine.NewObject(whole, "apps/v1", "Deployment")}, true), nil, opts)
			got := plan.Evaluate(engine.NewInventory([]*engine.Object{r}, true), nil, opts)
			if len(want.Results) != len(got.Results) {
				t.Fatalf("%d results whole, %d cached", len(want.Results), len(got.Results))
			}
			for i := range want.Results {
				wr, g := &want.Results[i], &got.Results[i]
				if wr.Check.ID == "sec-literal-env-credentials" && tc.want != 0 {
					if g.Status != tc.want {
						t.Errorf("sec-literal-env-credentials is %s in the operator (%.300s), want %s (scan: %s, %.300s)", g.Status, g.Message, tc.want, wr.Status, wr.Message)
					}
					if tc.want == engine.StatusNotAssessed {
						if !strings.Contains(g.Message, tc.unread) || !strings.Contains(g.Message, "not read by gitleaks' rules") || !strings.Contains(g.Message, "1 MiB") {
							t.Errorf("the NotAssessed message %q does not name %s, nor why", g.Message, tc.unread)
						}
						if !g.Unread || wr.Unread {
							t.Errorf("unread %v in the operator, %v in scan: want it unread (fails closed in the reports) in the operator only", g.Unread, wr.Unread)
						}
						continue
					}
					if tc.want == engine.StatusPass && wr.Status != engine.StatusPass {
						t.Errorf("scan's result is %s (%s), want Pass", wr.Status, wr.Message)
					}
					if tc.want == engine.StatusFail {
						// What gitleaks' rules did not read is not named.
						continue
					}
				}
				if g.Status != wr.Status || g.Message != wr.Message || refOf(g) != refOf(wr) || g.Container != wr.Container {
					t.Errorf("%s %s %s is %s whole (%.300s), %s in the operator (%.300s)", wr.Check.ID, refOf(wr), wr.Container, wr.Status, wr.Message, g.Status, g.Message)
				}
			}
		})
	}
}

// TestCorpusCommandLinesAreReadWhole: the command lines and env values of every workload of the fixtures and
// of ../shared/corpus are read whole by gitleaks' rules within a quarter of argvCredentialWork,
// were the cache to mark every one (envStandIns.Argv): the bound leaves real workloads' verdicts
// as scan's.
func TestCorpusCommandLinesAreReadWhole(t *testing.T) {
	dirs := []string{"testdata"}
	if _, err := os.Stat("../../../shared/corpus"); err == nil {
		dirs = append(dirs, "../../../shared/corpus")
	} else {
		t.Log("../shared/corpus is not available: only the fixtures are read")
	}
	objs, _ := manifest.Load(dirs, nil)
	defer func(w int) { argvWork = w }(argvWork)
	argvWork = argvCredentialWork / 4
	plan := engine.Compile([]*engine.Check{secLiteralEnvCredentials}, nil)
	opts := engine.Options{Now: fixtureNow, AdminNamespace: engine.DefaultAdminNamespace, KeepPassing: true}
	n, largest, largestAt, most, mostAt := 0, 0, "", 0, ""
	for _, o := range objs {
		if o.Workload == nil {
			continue
		}
		n++
		if size := argvSize(o.Workload.PodSpec, o.Annotations()[corev1.LastAppliedConfigAnnotation]); size > largest {
			largest, largestAt = size, o.Ref().String()
		}
		// The work of gitleaks' rules on each argument and on the command line joined (an
		// upper bound of what the check spends: it joins it only when no argument fails).
		w := 0
		for _, c := range o.Workload.Containers() {
			for _, a := range slices.Concat(c.Command, c.Args) {
				w += textWork(a, math.MaxInt)
			}
			w += textWork(strings.Join(slices.Concat(c.Command, c.Args), " "), math.MaxInt)
			for _, e := range c.Env {
				w += textWork(e.Name+"="+e.Value, math.MaxInt)
			}
		}
		if w > most {
			most, mostAt = w, o.Ref().String()
		}
		o.Digest = &envStandIns{Argv: true}
		for _, r := range plan.Evaluate(engine.NewInventory([]*engine.Object{o}, true), nil, opts).Results {
			if strings.Contains(r.Message, "not read by gitleaks' rules") {
				t.Errorf("%s: %s", o.Ref(), r.Message)
			}
		}
	}
	if most > argvCredentialWork/4 {
		t.Errorf("the command lines of %s take %d of the %d work: too little room", mostAt, most, argvCredentialWork)
	}
	t.Logf("%d workloads; the longest command lines and env values, %d bytes, %s; the most work, %d, %s", n, largest, largestAt, most, mostAt)
}
