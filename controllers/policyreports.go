package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

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
// operator should not cache) and remembers digests of what it wrote, so that an unchanged
// evaluation costs no request. It does not watch them: anyone else's change to one (a tenant
// who may edit PolicyReports in their namespace turning failures into passes, or deleting the
// report) is found when the evaluation's reports are listed to prune them (deleteOthers), and
// the report is written again by the evaluation that follows.
type policyReportWriter struct {
	client client.Client // writes
	reader client.Reader // reads, uncached
	mapper meta.RESTMapper

	mu      sync.Mutex
	written map[string]writtenReport // report key -> what was written
	cleaned map[string]bool          // profiles whose reports were removed after they turned reports off
	// allowed is whether the operator may write PolicyReports, as the API server last said
	// (SelfSubjectAccessReview); nil before the first answer.
	allowed *bool
}

func newPolicyReportWriter(c client.Client, reader client.Reader, mapper meta.RESTMapper) *policyReportWriter {
	return &policyReportWriter{client: c, reader: reader, mapper: mapper, written: map[string]writtenReport{}, cleaned: map[string]bool{}}
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

// writtenReport is what the writer remembers of a report it wrote or found as it would write
// it: the digest of the report it made (an evaluation making the same one skips it) and of the
// report as the API server returned it (a report listed with another was changed since).
type writtenReport struct{ made, stored uint64 }

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

	others, err := w.otherProfiles(ctx, profile.Name)
	if err != nil {
		return keep, err
	}
	var errs []error
	for _, rep := range policyreport.Build(ev, policyreport.Options{Profile: profile.Name, Now: ev.Options.Now, OtherProfiles: others}) {
		key := reportKey(rep)
		keep[key] = true
		made := contentDigest(rep)
		w.mu.Lock()
		same := w.written[key].made == made
		w.mu.Unlock()
		if same {
			continue
		}
		stored, err := w.upsert(ctx, rep)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		w.mu.Lock()
		w.written[key] = writtenReport{made: made, stored: contentDigest(stored)}
		w.mu.Unlock()
	}
	return keep, errors.Join(errs...)
}

// otherProfiles are the names of the cluster's profiles other than profile, from the cache:
// report names that one of theirs could take as well are hashed (policyreport.ReportName). A
// profile the cache does not hold yet writes no report yet either.
func (w *policyReportWriter) otherProfiles(ctx context.Context, profile string) ([]string, error) {
	list := &v1alpha1.ComplianceProfileList{}
	if err := w.client.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing profiles to name PolicyReports: %w", err)
	}
	var out []string
	for i := range list.Items {
		if n := list.Items[i].Name; n != profile {
			out = append(out, n)
		}
	}
	return out, nil
}

// prune deletes the profile's reports in a namespace ("" for everywhere) that are not in keep,
// and reports whether any report in keep was changed or deleted by someone else since it was
// written (it is then forgotten, for the next evaluation to write again).
func (w *policyReportWriter) prune(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string, keep map[string]bool) (bool, error) {
	if !profile.Spec.PolicyReports || !w.served() || !w.mayWrite() {
		return false, nil
	}
	return w.deleteOthers(ctx, profile, namespace, keep)
}

// dropNamespace deletes the profile's PolicyReports in a namespace it no longer selects, and
// the ClusterPolicyReport on the Namespace itself: an evaluation of that namespace alone ends
// without pruning, and they would stay until the profile's next full evaluation.
func (w *policyReportWriter) dropNamespace(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string) error {
	if !profile.Spec.PolicyReports || !w.served() || !w.mayWrite() {
		return nil
	}
	if _, err := w.deleteOthers(ctx, profile, namespace, map[string]bool{}); err != nil {
		return err
	}
	others, err := w.otherProfiles(ctx, profile.Name)
	if err != nil {
		return err
	}
	own := &policyreport.ClusterPolicyReport{}
	own.Name = policyreport.ReportName(profile.Name, "Namespace", namespace, others...)
	err = w.reader.Get(ctx, client.ObjectKeyFromObject(own), own)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", reportKey(own), err)
	case ownLabels(own) != [2]string{v1alpha1.ManagedBy, policyreport.LabelValue(profile.Name)}:
		return nil // not the operator's report for this profile
	}
	if err := w.client.Delete(ctx, own); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", reportKey(own), err)
	}
	w.mu.Lock()
	delete(w.written, reportKey(own))
	w.mu.Unlock()
	return nil
}

// upsert creates the report, or updates it when its content differs, and returns the report
// as the API server holds it.
func (w *policyReportWriter) upsert(ctx context.Context, rep policyreport.Object) (policyreport.Object, error) {
	existing := rep.DeepCopyObject().(policyreport.Object)
	err := w.reader.Get(ctx, client.ObjectKeyFromObject(rep), existing)
	switch {
	case apierrors.IsNotFound(err):
		if err := w.client.Create(ctx, rep); err != nil {
			if apierrors.IsAlreadyExists(err) {
				// Created meanwhile by a write racing this one: taken as this report, and the
				// next prune rewrites it if the other write stored something else.
				return rep, nil
			}
			return nil, fmt.Errorf("creating %s: %w", reportKey(rep), err)
		}
		return rep, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", reportKey(rep), err)
	}
	if policyreport.SameContent(existing, rep) && equalOwners(existing.GetOwnerReferences(), rep.GetOwnerReferences()) &&
		ownLabels(existing) == ownLabels(rep) {
		return existing, nil
	}
	rep.SetResourceVersion(existing.GetResourceVersion())
	if err := w.client.Update(ctx, rep); err != nil {
		return nil, fmt.Errorf("updating %s: %w", reportKey(rep), err)
	}
	return rep, nil
}

// ownLabels are the labels the operator finds its reports by (deleteOthers lists by the
// profile's).
func ownLabels(o client.Object) [2]string {
	l := o.GetLabels()
	return [2]string{l[v1alpha1.LabelManagedBy], l[v1alpha1.LabelProfile]}
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

// deleteOthers removes the profile's reports in scope that the evaluation did not produce, and
// forgets those it did produce that are not as written (changed or deleted by someone else
// since), reporting whether there were any.
func (w *policyReportWriter) deleteOthers(ctx context.Context, profile *v1alpha1.ComplianceProfile, namespace string, keep map[string]bool) (bool, error) {
	sel := client.MatchingLabels{v1alpha1.LabelProfile: policyreport.LabelValue(profile.Name)}
	var stale []client.Object
	nsList := &policyreport.PolicyReportList{}
	opts := []client.ListOption{sel}
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	if err := w.reader.List(ctx, nsList, opts...); err != nil {
		return false, fmt.Errorf("listing PolicyReports: %w", err)
	}
	listed := map[string]policyreport.Object{}
	for i := range nsList.Items {
		key := reportKey(&nsList.Items[i])
		listed[key] = &nsList.Items[i]
		if !keep[key] {
			stale = append(stale, &nsList.Items[i])
		}
	}
	if namespace == "" {
		clList := &policyreport.ClusterPolicyReportList{}
		if err := w.reader.List(ctx, clList, sel); err != nil {
			return false, fmt.Errorf("listing ClusterPolicyReports: %w", err)
		}
		for i := range clList.Items {
			key := reportKey(&clList.Items[i])
			listed[key] = &clList.Items[i]
			if !keep[key] {
				stale = append(stale, &clList.Items[i])
			}
		}
	}
	changed := false
	inScope := "PolicyReport/" + namespace + "/" // the keys a namespace's LIST holds
	w.mu.Lock()
	for key := range keep {
		if namespace != "" && !strings.HasPrefix(key, inScope) {
			continue // not listed
		}
		wr, ok := w.written[key]
		if !ok {
			continue // not written (its write failed): the next evaluation tries again
		}
		if o, found := listed[key]; !found || contentDigest(o) != wr.stored {
			delete(w.written, key)
			changed = true
		}
	}
	w.mu.Unlock()
	var errs []error
	for _, o := range stale {
		if err := w.client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting %s: %w", o.GetName(), err))
		}
		w.mu.Lock()
		delete(w.written, reportKey(o))
		w.mu.Unlock()
	}
	return changed, errors.Join(errs...)
}

// cleanup removes every report of a profile that turned PolicyReports off, once.
func (w *policyReportWriter) cleanup(ctx context.Context, profile *v1alpha1.ComplianceProfile) error {
	w.mu.Lock()
	done := w.cleaned[profile.Name]
	w.mu.Unlock()
	if done || !w.served() {
		return nil
	}
	if _, err := w.deleteOthers(ctx, profile, "", map[string]bool{}); err != nil && !apierrors.IsForbidden(err) {
		return err
	}
	// Forbidden: the operator may not list PolicyReports (config/policyreport/writer is not
	// applied), so it cannot have written any to remove.
	w.mu.Lock()
	w.cleaned[profile.Name] = true
	w.mu.Unlock()
	return nil
}

// forget removes every report of a deleted profile: they are owned by the resources they
// judge, not by the profile, so nothing else takes them away, and Policy Reporter would go on
// showing results under a profile that no longer exists. Without the CRDs, or the verbs to list
// them, the operator cannot have written any.
func (w *policyReportWriter) forget(ctx context.Context, profile string) error {
	w.mu.Lock()
	delete(w.cleaned, profile)
	w.mu.Unlock()
	if !w.served() {
		return nil
	}
	gone := &v1alpha1.ComplianceProfile{ObjectMeta: metav1.ObjectMeta{Name: profile}}
	if _, err := w.deleteOthers(ctx, gone, "", map[string]bool{}); err != nil && !apierrors.IsForbidden(err) {
		return fmt.Errorf("removing the PolicyReports of deleted profile %s: %w", profile, err)
	}
	return nil
}

// sweep removes the reports of every profile that no longer exists: forget runs when the
// operator sees a profile deleted, so a profile deleted while the operator was down (an upgrade,
// a GitOps change applied during an outage) left its reports for Policy Reporter to show under
// a profile that no longer exists. exists tells whether a profile of a label value is in the
// cache; a label value it does not know is confirmed against the API server before anything is
// deleted (the cache may lag behind a profile just created). Reports without the operator's
// managed-by label are someone else's and are left alone.
func (w *policyReportWriter) sweep(ctx context.Context, exists func(labelValue string) bool) error {
	if !w.served() {
		return nil
	}
	own := client.MatchingLabels{v1alpha1.LabelManagedBy: v1alpha1.ManagedBy}
	gone := map[string][]client.Object{} // profile label value -> its reports
	for _, kind := range []string{"PolicyReportList", "ClusterPolicyReportList"} {
		// Their metadata alone: the labels are all the sweep reads.
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(policyreport.GroupVersion.WithKind(kind))
		if err := w.reader.List(ctx, list, own); err != nil {
			if apierrors.IsForbidden(err) {
				return nil // the operator may not list them, so it cannot have written any
			}
			return fmt.Errorf("listing %ss: %w", strings.TrimSuffix(kind, "List"), err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			o.SetGroupVersionKind(policyreport.GroupVersion.WithKind(strings.TrimSuffix(kind, "List")))
			if v, ok := o.GetLabels()[v1alpha1.LabelProfile]; ok && !exists(v) {
				gone[v] = append(gone[v], o)
			}
		}
	}
	if len(gone) == 0 {
		return nil
	}
	profiles := &v1alpha1.ComplianceProfileList{}
	if err := w.reader.List(ctx, profiles); err != nil {
		return fmt.Errorf("listing profiles to confirm which are gone: %w", err)
	}
	for i := range profiles.Items {
		delete(gone, policyreport.LabelValue(profiles.Items[i].Name))
	}
	var errs []error
	for profile, reports := range gone {
		for _, o := range reports {
			if err := w.client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s of profile %s, which no longer exists: %w", reportKey(o), profile, err))
				continue
			}
			w.mu.Lock()
			delete(w.written, reportKey(o))
			w.mu.Unlock()
		}
		logf.FromContext(ctx).Info("Deleted the PolicyReports of a profile that no longer exists", "profile", profile, "reports", len(reports))
	}
	return errors.Join(errs...)
}

func reportKey(o client.Object) string {
	kind := "PolicyReport"
	switch o := o.(type) {
	case *policyreport.ClusterPolicyReport:
		kind = "ClusterPolicyReport"
	case *metav1.PartialObjectMetadata:
		kind = o.Kind
	}
	return kind + "/" + o.GetNamespace() + "/" + o.GetName()
}

// contentDigest hashes what upsert compares (SameContent: scope, selector, summary and results
// without timestamps; the owners and the operator's labels), so that a report read back that
// someone else changed in any of them has another digest.
func contentDigest(rep policyreport.Object) uint64 {
	results := append([]policyreport.Result(nil), rep.GetResults()...)
	for i := range results {
		results[i].Timestamp = metav1.Timestamp{}
	}
	data, _ := json.Marshal(struct {
		Scope         any
		ScopeSelector any
		Summary       policyreport.Summary
		Results       []policyreport.Result
		Owners        []metav1.OwnerReference
		Labels        [2]string
	}{rep.GetScope(), rep.GetScopeSelector(), rep.GetSummary(), results, rep.GetOwnerReferences(), ownLabels(rep)})
	h := fnv.New64a()
	_, _ = h.Write(data)
	return h.Sum64()
}
