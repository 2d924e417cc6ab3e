package engine

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
)

// TestSamePodAtReadsNeverSaysSameWhereTheExpressionReadsOtherwise: an explained Pod that holds
// what its ReplicaSet's template makes wherever a custom check reads is not converted for CEL
// (passesAsMade): the made Pod's verdict is taken for it. Wherever samePodAtReads says so, the
// expression must give the same value on the Pod and on the made Pod, error or not; and it must
// say so for the Pods of an ordinary ReplicaSet under an expression of fields the API server
// does not fill in, or nothing is saved.
func TestSamePodAtReadsNeverSaysSameWhereTheExpressionReadsOtherwise(t *testing.T) {
	tpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "pod-template-hash": "abc"}},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.0",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}},
		},
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "shop", UID: "uid-rs"}, Spec: appsv1.ReplicaSetSpec{Template: tpl}}
	owner := NewObject(rs, "apps/v1", "ReplicaSet")
	pod := func(mutate func(p *corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-abc-x1", Namespace: "shop", Labels: map[string]string{"app": "web", "pod-template-hash": "abc"}},
			Spec: *tpl.Spec.DeepCopy()}
		// What the API server and the scheduler add.
		p.Spec.NodeName, p.Spec.ServiceAccountName = "node-1", "default"
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	pods := map[string]*corev1.Pod{
		"ordinary": pod(nil),
		"aliased": pod(func(p *corev1.Pod) {
			p.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.66", Hostnames: []string{"vault"}}}
		}),
		"annotated":  pod(func(p *corev1.Pod) { p.Annotations = map[string]string{"debug": "true"} }),
		"relabelled": pod(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "other", "pod-template-hash": "abc"} }),
		"root":       pod(func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false) }),
		"no-context": pod(func(p *corev1.Pod) { p.Spec.SecurityContext = nil }),
		"limit": pod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = resource.MustParse("0.5")
		}),
		"owned": pod(func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc"}}
		}),
	}
	// Expressions, and the Pods samePodAtReads must find the same as their template (others
	// may or may not be).
	cases := map[string][]string{
		"!has(podSpec.hostAliases)":                                {"ordinary", "annotated", "relabelled", "root", "no-context", "limit", "owned"},
		"!has(object.spec.hostAliases)":                            {"ordinary", "annotated", "relabelled", "root", "no-context", "limit", "owned"},
		"podSpec.?securityContext.?runAsNonRoot.orValue(false)":    {"ordinary", "aliased", "annotated", "relabelled", "limit", "owned"},
		"object.spec.securityContext.runAsNonRoot":                 {"ordinary", "aliased", "annotated", "relabelled", "limit", "owned"},
		"object.metadata.labels.app == 'web'":                      {"ordinary", "aliased", "annotated", "root", "no-context", "limit", "owned"},
		"!has(object.metadata.annotations)":                        {"ordinary", "aliased", "relabelled", "root", "no-context", "limit", "owned"},
		"object.kind == 'Pod' && object.apiVersion == 'v1'":        {"ordinary", "aliased", "annotated", "relabelled", "root", "no-context", "limit", "owned"},
		"object.spec.containers.all(c, c.image.startsWith('r'))":   nil, // containers hold the token's mount
		"podSpec.containers.all(c, has(c.resources.limits))":       nil,
		"object.spec.nodeName == ''":                               nil,
		"object.metadata.name.startsWith('web')":                   nil,
		"!has(object.metadata.ownerReferences)":                    nil,
		"object.?status.?phase.orValue('') != 'Failed'":            nil,
		"size(object) > 3":                                         nil,
		"podSpec.securityContext == object.spec.securityContext":   {"ordinary", "aliased", "annotated", "relabelled", "limit", "owned"},
		"has(podSpec.securityContext) && has(object.spec.volumes)": {"ordinary", "aliased", "annotated", "relabelled", "limit", "owned"},
	}
	for expression, mustBeSame := range cases {
		check, problem := compileCustom(&v1alpha1.CustomCheck{ID: "c", Title: "c", Kinds: []string{KindWorkload}, Criteria: []v1alpha1.Criterion{"CC6.1"}, Expression: expression})
		if problem != nil {
			t.Fatalf("%s: %s", expression, problem.msg)
		}
		for name, p := range pods {
			o := NewObject(p, "v1", "Pod")
			same := samePodAtReads(p, owner, typedTemplate(rs), check.custom)
			mustSame := false
			for _, n := range mustBeSame {
				mustSame = mustSame || n == name
			}
			if mustSame && !same {
				t.Errorf("%s on the %s Pod: not found the same as its template's", expression, name)
			}
			if !same {
				continue
			}
			made := madeBy(owner, o)
			if got, want := evalFor(t, check.custom, o), evalFor(t, check.custom, made); got != want {
				t.Errorf("%s on the %s Pod: found the same as its template's, but gives %s where the template's Pod gives %s", expression, name, got, want)
			}
		}
	}
}

// evalFor evaluates a custom check's expression on o as runCustom does, without unknowns.
func evalFor(t *testing.T, programs *customPrograms, o *Object) string {
	t.Helper()
	object, err := o.asMap()
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := programs.plain.Eval(map[string]any{"object": object, "podSpec": podSpecOf("Pod", object)})
	if err != nil {
		return "error " + err.Error()
	}
	return fmt.Sprint(out.Value())
}
