package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/engine"
	"github.com/soc2-operator/soc2-operator/internal/policyreport"
)

// Writing PolicyReports is optional (spec.policyReports), so its verbs are not in the operator's
// role (config/rbac/role.yaml): config/policyreport/writer grants them with a ClusterRole and
// binding of its own. Without them a profile that asks for PolicyReports says so in its Ready
// condition, and one that does not needs nothing.

// policyReportWriter keeps the per-resource PolicyReports of profiles that ask for them. It
// reads PolicyReports straight from the API server (other tools write them too, in numbers the
// operator should not cache) and remembers a digest of what it wrote, so that an unchanged
// evaluation costs no request.
type policyReportWriter struct {
	client client.Client // writes
	reader client.Reader // reads, uncached
	mapper meta.RESTMapper

	mu      sync.Mutex
	written map[string]uint64 // report key -> digest of its content
	cleaned map[string]bool   // profiles whose reports were removed after they turned reports off
	// allowed is whether the operator may write PolicyReports, as the API server last said
	// (SelfSubjectAccessReview); nil before the first answer.
	allowed *bool
}

func newPolicyReportWriter(c client.Client, reader client.Reader, mapper meta.RESTMapper) *policyReportWriter {
	return &policyReportWriter{client: c, reader: reader, mapper: mapper, written: map[string]uint64{}, cleaned: map[string]bool{}}
}

// served reports whether the API server serves wgpolicyk8s.io/v1alpha2.
func (w *policyReportWriter) served() bool {
	_, err := w.mapper.RESTMapping(policyreport.GroupVersion.WithKind("PolicyReport").GroupKind(), policyreport.GroupVersion.Version)
	return err == nil
}

// unavailable is the profile problem when PolicyReports are asked for but not served, or the
// operator may not write them.
func (w *policyReportWriter) unavailable(ctx context.Context, profile *v1alpha1.ComplianceProfile) *engine.Problem {
	if !profile.Spec.PolicyReports {
		return nil
	}
	if !w.served() {
		return &engine.Problem{Reason: v1alpha1.ReasonPolicyReportsUnavailable, Field: "spec.policyReports",
			Message: "spec.policyReports: the API server does not serve wgpolicyk8s.io/v1alpha2; install the PolicyReport CRDs (config/policyreport, or Policy Reporter's)"}
	}
	if missing := w.checkAllowed(ctx); missing != "" {
		return &engine.Problem{Reason: v1alpha1.ReasonPolicyReportsUnavailable, Field: "spec.policyReports",
			Message: "spec.policyReports: the operator may not " + missing + "; grant it the policyreport-writer ClusterRole (kubectl apply -k config/policyreport/writer)"}
	}
	return nil
}

// policyReportVerbs are what writing PolicyReports takes (docs/rbac.md says why).
var policyReportVerbs = []string{"get", "list", "create", "update", "delete"}

// checkAllowed asks the API server whether the operator may write PolicyReports and
// ClusterPolicyReports in every namespace, remembers the answer for write, and returns the
// first missing permission ("" when none is).
func (w *policyReportWriter) checkAllowed(ctx context.Context) string {
	missing := ""
	for _, resource := range []string{"policyreports", "clusterpolicyreports"} {
		for _, verb := range policyReportVerbs {
			review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
				ResourceAttributes: &authorizationv1.ResourceAttributes{Group: policyreport.GroupVersion.Group, Resource: resource, Verb: verb}}}
			if err := w.client.Create(ctx, review); err != nil {
				return "" // unknown: let the writes say
			}
			if !review.Status.Allowed && missing == "" {
				missing = verb + " " + resource + "." + policyreport.GroupVersion.Group
			}
		}
	}
	allowed := missing == ""
	w.mu.Lock()
	w.allowed = &allowed
	w.mu.Unlock()
	return missing
}

// mayWrite is false when the API server said the operator may not write PolicyReports (a
// profile problem then says so).
func (w *policyReportWriter) mayWrite() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.allowed == nil || *w.allowed
}

// write writes the reports of an evaluation that changed and returns the keys of every report
// the evaluation produced. With PolicyReports off it removes the profile's reports once.
func (w *policyReportWriter) write(ctx context.Context, profile *v1alpha1.ComplianceProfile, ev *engine.Evaluation) (map[string]bool, error) {
	keep := map[string]bool{}
	if !profile.Spec.PolicyReports {
		return keep, w.cleanup(ctx, profile)
	}
	if !w.served() || !w.mayWrite() {
		return keep, nil // reported as a profile problem
	}
	w.mu.Lock()
	delete(w.cleaned, profile.Name)
	w.mu.Unlock()

	var errs []error
	for _, rep := range policyreport.Build(ev, policyreport.Options{Profile: profile.Name, Now: ev.Options.Now}) {
		key := reportKey(rep)
		keep[key] = true
		digest := contentDigest(rep)
		w.mu.Lock()
		same := w.written[key] == digest
		w.mu.Unlock()
		if same {
			continue
		}
		if err := w.upsert(ctx, rep); err != nil {
			errs = append(errs, err)
			continue
		}
		w.mu.Lock()
		w.written[key] = digest
		w.mu.Unlock()
	}
	return keep, errors.Join(errs...)
}

// prune deletes the profile's reports in a namespace ("" for everywhere) that are not in keep.
func (w *policyReportWriter) prune(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string, keep map[string]bool) error {
	if !profile.Spec.PolicyReports || !w.served() || !w.mayWrite() {
		return nil
	}
	return w.deleteOthers(ctx, profile, namespace, keep)
}

// upsert creates the report, or updates it when its content differs.
func (w *policyReportWriter) upsert(ctx context.Context, rep policyreport.Object) error {
	existing := rep.DeepCopyObject().(policyreport.Object)
	err := w.reader.Get(ctx, client.ObjectKeyFromObject(rep), existing)
	switch {
	case apierrors.IsNotFound(err):
		if err := w.client.Create(ctx, rep); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s: %w", reportKey(rep), err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", reportKey(rep), err)
	}
	if policyreport.SameContent(existing, rep) && equalOwners(existing.GetOwnerReferences(), rep.GetOwnerReferences()) {
		return nil
	}
	rep.SetResourceVersion(existing.GetResourceVersion())
	if err := w.client.Update(ctx, rep); err != nil {
		return fmt.Errorf("updating %s: %w", reportKey(rep), err)
	}
	return nil
}

func equalOwners(a, b []metav1.OwnerReference) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UID != b[i].UID {
			return false
		}
	}
	return true
}

// deleteOthers removes the profile's reports in scope that the evaluation did not produce.
func (w *policyReportWriter) deleteOthers(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string, keep map[string]bool) error {
	sel := client.MatchingLabels{v1alpha1.LabelProfile: policyreport.LabelValue(profile.Name)}
	var stale []client.Object
	nsList := &policyreport.PolicyReportList{}
	opts := []client.ListOption{sel}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := w.reader.List(ctx, nsList, opts...); err != nil {
		return fmt.Errorf("listing PolicyReports: %w", err)
	}
	for i := range nsList.Items {
		if !keep[reportKey(&nsList.Items[i])] {
			stale = append(stale, &nsList.Items[i])
		}
	}
	if namespace == "" {
		clList := &policyreport.ClusterPolicyReportList{}
		if err := w.reader.List(ctx, clList, sel); err != nil {
			return fmt.Errorf("listing ClusterPolicyReports: %w", err)
		}
		for i := range clList.Items {
			if !keep[reportKey(&clList.Items[i])] {
				stale = append(stale, &clList.Items[i])
			}
		}
	}
	var errs []error
	for _, o := range stale {
		if err := w.client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", o.GetName(), err))
		}
		w.mu.Lock()
		delete(w.written, reportKey(o))
		w.mu.Unlock()
	}
	return errors.Join(errs...)
}

// cleanup removes every report of a profile that turned PolicyReports off, once.
func (w *policyReportWriter) cleanup(ctx context.Context, profile *v1alpha1.ComplianceProfile) error {
	w.mu.Lock()
	done := w.cleaned[profile.Name]
	w.mu.Unlock()
	if done || !w.served() {
		return nil
	}
	if err := w.deleteOthers(ctx, profile, "", map[string]bool{}); err != nil && !apierrors.IsForbidden(err) {
		return err
	}
	// Forbidden: the operator may not list PolicyReports (config/policyreport/writer is not
	// applied), so it cannot have written any to remove.
	w.mu.Lock()
	w.cleaned[profile.Name] = true
	w.mu.Unlock()
	return nil
}

func reportKey(o client.Object) string {
	kind := "PolicyReport"
	if _, ok := o.(*policyreport.ClusterPolicyReport); ok {
		kind = "ClusterPolicyReport"
	}
	return kind + "/" + o.GetNamespace() + "/" + o.GetName()
}

// contentDigest hashes what SameContent compares: scope and results without timestamps.
func contentDigest(rep policyreport.Object) uint64 {
	results := append([]policyreport.Result(nil), rep.GetResults()...)
	for i := range results {
		results[i].Timestamp = metav1.Timestamp{}
	}
	data, _ := json.Marshal(struct {
		Scope   any
		Results []policyreport.Result
		Owners  []metav1.OwnerReference
	}{rep.GetScope(), results, rep.GetOwnerReferences()})
	h := fnv.New64a()
	_, _ = h.Write(data)
	return h.Sum64()
}
