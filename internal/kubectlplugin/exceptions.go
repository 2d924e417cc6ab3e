package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/termtable"
)

type requestOptions struct {
	checks, criteria, kinds, names, containers, profiles []string
	reason, owner, expires, ticket, output               string
	dryRun                                               bool
}

func requestExceptionCommand() *command {
	return &command{
		name:    "request-exception",
		args:    "NAME -n NAMESPACE (--check ID | --criterion ID)... --reason TEXT --owner WHO --expires WHEN [--kind KIND] [--name PATTERN] [--container NAME]",
		summary: "Request a ControlException (it waives nothing until a second person approves it)",
		long: `Creates a ControlException in the namespace. The API server records you as its requester
(spec.requestedBy); it is PendingApproval, and waives nothing, until someone who may approve
controlexceptions in the namespace (the soc2-operator-controlexception-approver-role), and is
not you, runs 'PROG approve NAME -n NAMESPACE'. The finding stays visible in the report,
marked Excepted with the exception's name.

--expires takes a time (2027-02-15T00:00:00Z), a date (2027-02-15, midnight UTC) or a
duration from now (720h, 30d); the profile's exceptionPolicy.maxDuration (90 days by default)
bounds it. --kind, --name and --container narrow what is waived (every resource of the
namespace otherwise); --kind Workload matches every workload kind.

Examples:
  PROG request-exception legacy-gateway-writable-rootfs -n payments \
    --check wl-readonly-rootfs --kind Deployment --name legacy-gateway --container gateway \
    --reason "The vendor binary writes its PID file under /var/run; the rewrite (PAY-142) removes it." \
    --owner payments-team@example.com --ticket https://tracker.example.com/browse/PAY-142 --expires 30d`,
		kube: true,
		flags: func(fs *pflag.FlagSet) any {
			o := &requestOptions{}
			fs.StringSliceVar(&o.checks, "check", nil, "A check to waive (repeatable, or comma-separated)")
			fs.StringSliceVar(&o.criteria, "criterion", nil, "A SOC 2 criterion whose checks are all waived (repeatable)")
			fs.StringVar(&o.reason, "reason", "", "Why the risk is accepted, for the reviewer and the auditor (at least 10 characters)")
			fs.StringVar(&o.owner, "owner", "", "Who is accountable for the exception (a person or team)")
			fs.StringVar(&o.expires, "expires", "", "When it stops applying: a time (RFC 3339), a date, or a duration from now (30d, 720h)")
			fs.StringVar(&o.ticket, "ticket", "", "The change request or risk record (http:// or https:// URL)")
			fs.StringSliceVar(&o.kinds, "kind", nil, "Only resources of this kind (Deployment, ..., or Workload; Kind.group, such as Gateway.networking.istio.io, in that API group only); repeatable")
			fs.StringSliceVar(&o.names, "name", nil, "Only resources with this name or glob pattern; repeatable")
			fs.StringSliceVar(&o.containers, "container", nil, "Only findings about this container (name or glob pattern); repeatable")
			fs.StringSliceVar(&o.profiles, "profile", nil, "Only under this ComplianceProfile (every profile by default); repeatable")
			fs.BoolVar(&o.dryRun, "dry-run", false, "Have the API server validate the exception without creating it")
			fs.StringVarP(&o.output, "output", "o", "", "Print the created exception: json or yaml")
			return o
		},
		run: runRequestException,
	}
}

// parseExpiry reads --expires: RFC 3339, a date (midnight UTC), or a duration from now with
// Go's units or d for days.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour).UTC().Truncate(time.Second), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	return time.Time{}, usagef("--expires %s: want a time (2027-02-15T00:00:00Z), a date (2027-02-15) or a duration from now (30d, 720h)", s)
}

func runRequestException(ctx context.Context, e *Env, k *kube, opts any, args []string) error {
	o := opts.(*requestOptions)
	if len(args) != 1 {
		return usagef("want the exception's name: %s request-exception NAME -n NAMESPACE ...", e.Prog)
	}
	if o.output != "" {
		if err := outputFormat(o.output, "json", "yaml"); err != nil {
			return err
		}
	}
	var missing []string
	if len(o.checks) == 0 && len(o.criteria) == 0 {
		missing = append(missing, "--check or --criterion")
	}
	for _, f := range []struct{ name, v string }{{"--reason", o.reason}, {"--owner", o.owner}, {"--expires", o.expires}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s", strings.Join(missing, ", "))
	}
	expires, err := parseExpiry(o.expires, e.Now())
	if err != nil {
		return err
	}
	if !expires.After(e.Now()) {
		return usagef("--expires %s is in the past", o.expires)
	}
	var criteria []v1alpha1.Criterion
	for _, c := range o.criteria {
		id, err := parseCriterion(c)
		if err != nil {
			return usagef("--criterion %s: not a SOC 2 criterion the operator knows", c)
		}
		criteria = append(criteria, id)
	}
	for _, c := range o.checks {
		if catalogueCheck(c) == nil {
			fmt.Fprintf(e.Stderr, "warning: %q is not a built-in check%s; unless a profile defines it as a custom check, the operator marks the exception Invalid\n", c, didYouMean(c))
		}
	}
	ns, err := k.namespace()
	if err != nil {
		return err
	}
	ex := &v1alpha1.ControlException{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "ControlException"},
		ObjectMeta: metav1.ObjectMeta{Name: args[0], Namespace: ns},
		Spec: v1alpha1.ControlExceptionSpec{
			Checks: o.checks, Criteria: criteria, Reason: o.reason, Owner: o.owner, Ticket: o.ticket,
			Expires: metav1.NewTime(expires), Profiles: o.profiles,
			Match: v1alpha1.ResourceMatch{Kinds: o.kinds, Names: o.names, Containers: o.containers},
		},
	}
	c, err := k.client()
	if err != nil {
		return err
	}
	var createOpts []client.CreateOption
	if o.dryRun {
		createOpts = append(createOpts, client.DryRunAll)
	}
	if err := c.Create(ctx, ex, createOpts...); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("controlexception %s/%s already exists: change it with kubectl edit or apply (a change to its spec voids its approval), or choose another name", ns, ex.Name)
		}
		return fmt.Errorf("requesting controlexception %s/%s: %s", ns, ex.Name, shortError(err))
	}
	if o.output != "" {
		ex.APIVersion, ex.Kind = v1alpha1.GroupVersion.String(), "ControlException"
		ex.ManagedFields = nil
		return printObject(e.Stdout, o.output, ex)
	}
	verb := "requested"
	if o.dryRun {
		verb = "validated (dry run, not created)"
	}
	fmt.Fprintf(e.Stdout, "controlexception.%s/%s %s in namespace %s\n", v1alpha1.GroupVersion.Group, ex.Name, verb, ns)
	describeException(e.Stdout, e.Now(), ex)
	if ex.Spec.RequestedBy == "" {
		fmt.Fprintln(e.Stderr, "warning: the API server did not record a requester (spec.requestedBy): the operator's admission policies are not in force, so the exception cannot be approved until they are (README: Approving exceptions)")
		return nil
	}
	if !o.dryRun {
		fmt.Fprintf(e.Stdout, "It is PendingApproval and waives nothing until another person who may approve controlexceptions in %s runs:\n  kubectl soc2 approve %s -n %s\n", ns, ex.Name, ns)
	}
	return nil
}

// describeException prints what an exception waives, for whom, why and until when. The text is
// a namespace admin's: its control characters are shown, not obeyed (termtable.Escape).
func describeException(w io.Writer, now time.Time, ex *v1alpha1.ControlException) {
	s := ex.Spec
	var what []string
	if len(s.Checks) > 0 {
		what = append(what, "checks "+strings.Join(s.Checks, ", "))
	}
	if len(s.Criteria) > 0 {
		var cs []string
		for _, c := range s.Criteria {
			cs = append(cs, string(c))
		}
		what = append(what, "every check of criteria "+strings.Join(cs, ", "))
	}
	fmt.Fprintf(w, "  waives:       %s\n", termtable.Escape(strings.Join(what, "; ")))
	fmt.Fprintf(w, "  for:          %s\n", termtable.Escape(matchText(s.Match)))
	if len(s.Profiles) > 0 {
		fmt.Fprintf(w, "  profiles:     %s\n", termtable.Escape(strings.Join(s.Profiles, ", ")))
	}
	fmt.Fprintf(w, "  reason:       %s\n", termtable.Escape(s.Reason))
	fmt.Fprintf(w, "  owner:        %s\n", termtable.Escape(s.Owner))
	if s.Ticket != "" {
		fmt.Fprintf(w, "  ticket:       %s\n", termtable.Escape(s.Ticket))
	}
	fmt.Fprintf(w, "  expires:      %s (in %s)\n", s.Expires.UTC().Format(time.RFC3339), duration.HumanDuration(s.Expires.Sub(now)))
	if s.RequestedBy != "" {
		fmt.Fprintf(w, "  requested by: %s\n", termtable.Escape(s.RequestedBy))
	}
}

func matchText(m v1alpha1.ResourceMatch) string {
	var parts []string
	if len(m.Namespaces) > 0 {
		parts = append(parts, "namespaces "+strings.Join(m.Namespaces, ", "))
	}
	if len(m.Kinds) > 0 {
		parts = append(parts, "kinds "+strings.Join(m.Kinds, ", "))
	}
	if len(m.Names) > 0 {
		parts = append(parts, "names "+strings.Join(m.Names, ", "))
	}
	if m.LabelSelector != nil {
		if sel, err := metav1.LabelSelectorAsSelector(m.LabelSelector); err == nil {
			parts = append(parts, "labels "+sel.String())
		}
	}
	if len(m.Containers) > 0 {
		parts = append(parts, "containers "+strings.Join(m.Containers, ", "))
	}
	if len(parts) == 0 {
		return "every resource in the namespace"
	}
	return strings.Join(parts, "; ")
}

type approveOptions struct{ comment string }

func approveCommand() *command {
	return &command{
		name:    "approve",
		args:    "NAME -n NAMESPACE [--comment TEXT]",
		summary: "Approve a ControlException someone else requested",
		long: `Writes your approval into the exception (approval.approvedBy, with --comment), as the
README's approval flow describes: the plugin asks the API server who you are (a
SelfSubjectReview, so --as approves as the impersonated user) and writes that name. The API
server refuses an approval by the exception's requester, in someone else's name, or by a user
who may not approve controlexceptions in the namespace (the
soc2-operator-controlexception-approver-role grants it). The approval is for the exception as
printed: if it changes before the approval is written, nothing is approved (review it again).
A pending exception's approval is pinned to what the operator last found it would cover
(status.wouldCoverDigest, written as approval.coveredDigest): if it covers other findings when
the operator first judges the approval, its condition CoveredChangedSinceApproval says so.
The operator then records status.approvedBy and status.approvedAt and the exception turns
Active. Any later change to its spec removes the approval.

Examples:
  PROG approve legacy-gateway-writable-rootfs -n payments --comment "Accepted until PAY-142 ships"`,
		kube: true,
		flags: func(fs *pflag.FlagSet) any {
			o := &approveOptions{}
			fs.StringVar(&o.comment, "comment", "", "Why you accept the risk, for the auditor")
			return o
		},
		run: runApprove,
	}
}

func runApprove(ctx context.Context, e *Env, k *kube, opts any, args []string) error {
	o := opts.(*approveOptions)
	if len(args) != 1 {
		return usagef("want the exception's name: %s approve NAME -n NAMESPACE", e.Prog)
	}
	ns, err := k.namespace()
	if err != nil {
		return err
	}
	c, err := k.client()
	if err != nil {
		return err
	}
	key := client.ObjectKey{Namespace: ns, Name: args[0]}
	ex := &v1alpha1.ControlException{}
	if err := c.Get(ctx, key, ex); err != nil {
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("controlexception %s/%s not found (kubectl get controlexceptions -n %s lists them)", ns, key.Name, ns)
		default:
			return fmt.Errorf("reading controlexception %s/%s: %s", ns, key.Name, shortError(err))
		}
	}
	user, err := whoAmI(ctx, c)
	if err != nil {
		return err
	}
	if ex.Approval != nil && ex.Approval.ApprovedBy == user && ex.Approval.Comment == o.comment {
		fmt.Fprintf(e.Stdout, "controlexception %s/%s is already approved by %s\n", ns, key.Name, user)
		return nil
	}
	before := ex.DeepCopy()
	// What the exception would cover, as the operator last judged the spec read above, is what
	// is approved (approval.coveredDigest): findings relabelled into it before the operator
	// first evaluates the approval make it say CoveredChangedSinceApproval at once.
	pin := ""
	if st := &ex.Status; st.State == v1alpha1.ExceptionPendingApproval && st.ObservedGeneration == ex.Generation && st.WouldCover != nil {
		pin = st.WouldCoverDigest
	}
	ex.Approval = &v1alpha1.ExceptionApproval{ApprovedBy: user, Comment: o.comment, CoveredDigest: pin}
	// The resourceVersion precondition approves exactly the exception read above: if anyone
	// changed it meanwhile, the write fails instead of approving what the approver did not see.
	if err := c.Patch(ctx, ex, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		switch {
		case apierrors.IsConflict(err):
			return fmt.Errorf("controlexception %s/%s changed while you were approving it: nothing was approved; review it again (kubectl get controlexception %s -n %s -o yaml) and re-run approve", ns, key.Name, key.Name, ns)
		case apierrors.IsNotFound(err):
			return fmt.Errorf("controlexception %s/%s was deleted while you were approving it", ns, key.Name)
		}
		return fmt.Errorf("approving controlexception %s/%s as %s: %s", ns, key.Name, user, shortError(err))
	}
	fmt.Fprintf(e.Stdout, "controlexception.%s/%s approved by %s in namespace %s\n", v1alpha1.GroupVersion.Group, key.Name, user, ns)
	describeException(e.Stdout, e.Now(), ex)
	if o.comment != "" {
		fmt.Fprintf(e.Stdout, "  comment:      %s\n", o.comment)
	}
	if pin != "" {
		fmt.Fprintf(e.Stdout, "  covers:       %d findings as approved (approval.coveredDigest %s)\n", *before.Status.WouldCover, pin)
	}
	switch ex.Status.State {
	case v1alpha1.ExceptionInvalid, v1alpha1.ExceptionExpired:
		fmt.Fprintf(e.Stderr, "warning: the operator judges the exception %s (%s): the approval does not make it apply\n", ex.Status.State, termtable.Escape(ex.Status.Message))
	default:
		fmt.Fprintf(e.Stdout, "The operator records the approval (status.approvedBy) and the exception turns Active: kubectl get controlexception %s -n %s\n", key.Name, ns)
	}
	return nil
}
