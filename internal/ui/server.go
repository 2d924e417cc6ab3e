// Package ui is the operator's read-only dashboard: server-rendered HTML pages over the
// ComplianceReports and ControlExceptions in the operator's cache, behind Kubernetes
// authentication (TokenReview) and authorization (SubjectAccessReview per namespace). Every
// page shows only the namespaces whose reports the user may `get`. Templates, styles and
// everything a page loads are embedded: a page requests nothing from any other host.
package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/soc2-operator/soc2-operator/api/v1alpha1"
	"github.com/soc2-operator/soc2-operator/internal/charts"
	"github.com/soc2-operator/soc2-operator/internal/checks"
	"github.com/soc2-operator/soc2-operator/internal/engine"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// tokenCookie holds the bearer token a person pasted into the login form.
const tokenCookie = "soc2-ui-token"

// Trends renders the evidence journal's charts for the namespaces a user may read.
type Trends interface {
	// Render writes the trend charts (HTML) of the given window for the visible namespaces
	// (every namespace when visible is nil: only then may it say how much the journal holds).
	Render(ctx context.Context, visible func(namespace string) bool, days int) (template.HTML, error)
}

// Options configure the dashboard.
type Options struct {
	Source Source
	Access Access
	// Trends is nil when the evidence journal is not configured.
	Trends Trends
	Logger logr.Logger
	// Now is the clock (exception expiry is shown relative to it).
	Now func() time.Time
}

// Server serves the dashboard.
type Server struct {
	opts      Options
	mux       *http.ServeMux
	pages     map[string]*template.Template
	catalogue map[string]*engine.Check
	checkIDs  []string
}

// New builds the dashboard's handler.
func New(opts Options) (*Server, error) {
	if opts.Source == nil || opts.Access == nil {
		return nil, errors.New("ui: a source and an access checker are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), pages: map[string]*template.Template{}, catalogue: map[string]*engine.Check{}}
	for _, c := range checks.Catalogue() {
		s.catalogue[c.ID] = c
		s.checkIDs = append(s.checkIDs, c.ID)
	}
	for _, name := range []string{"overview", "namespace", "check", "checks", "trends", "login", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /static/charts.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte(charts.CSS))
	})
	s.mux.HandleFunc("GET /login", s.loginForm)
	s.mux.Handle("POST /login", sameOrigin(http.HandlerFunc(s.login)))
	s.mux.Handle("POST /logout", sameOrigin(http.HandlerFunc(s.logout)))
	s.mux.Handle("GET /{$}", s.authenticated(s.overviewPage))
	s.mux.Handle("GET /namespaces/{namespace}", s.authenticated(s.namespacePage))
	s.mux.Handle("GET /checks", s.authenticated(s.checksPage))
	s.mux.Handle("GET /checks/{id}", s.authenticated(s.checkPage))
	s.mux.Handle("GET /trends", s.authenticated(s.trendsPage))
	return s, nil
}

var funcs = template.FuncMap{
	"lower": strings.ToLower,
	"join":  func(xs []string) string { return strings.Join(xs, ", ") },
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script at all; styles from the page itself and the embedded stylesheet.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser posts forms with "Origin: null".
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

// userKey carries the authenticated user in a request's context.
type userKey struct{}

func userFrom(ctx context.Context) user.Info { u, _ := ctx.Value(userKey{}).(user.Info); return u }

// authenticated lets a request through with a valid bearer token, from the Authorization
// header (an auth proxy, a script) or from the login cookie (a browser); else it sends the
// browser to the login form.
func (s *Server) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := r
		if r.Header.Get("Authorization") == "" {
			c, err := r.Cookie(tokenCookie)
			if err != nil || c.Value == "" {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			req = r.Clone(r.Context())
			req.Header.Set("Authorization", "Bearer "+c.Value)
		}
		u, ok, err := s.opts.Access.Authenticate(req)
		if err != nil {
			s.fail(w, r, http.StatusServiceUnavailable, "The API server could not check your token", err)
			return
		}
		if !ok {
			if r.Header.Get("Authorization") != "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="soc2-operator"`)
				s.render(w, r, http.StatusUnauthorized, "error", page{Title: "Unauthorized", Body: errorView{Message: "The bearer token is not valid."}})
				return
			}
			clearCookie(w, r)
			http.Redirect(w, r, "/login?expired=1", http.StatusSeeOther)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
	})
}

// page is what the layout renders around a page's body.
type page struct {
	Title   string
	Nav     string
	User    string
	Journal bool
	Body    any
}

type errorView struct{ Message string }

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if u := userFrom(r.Context()); u != nil {
		p.User = u.GetName()
	}
	p.Journal = s.opts.Trends != nil
	var buf bytes.Buffer
	if err := s.pages[name].Execute(&buf, p); err != nil {
		s.opts.Logger.Error(err, "Rendering a dashboard page failed", "page", name)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	s.opts.Logger.Error(err, "Dashboard request failed", "path", r.URL.Path)
	s.render(w, r, status, "error", page{Title: "Error", Body: errorView{Message: msg + "."}})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request, what string) {
	s.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Body: errorView{Message: what}})
}

// --- login ---

type loginView struct {
	Error   string
	Expired bool
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Body: loginView{Expired: r.URL.Query().Get("expired") != ""}})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	token := strings.TrimSpace(r.PostFormValue("token"))
	token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
	if token == "" {
		s.render(w, r, http.StatusBadRequest, "login", page{Title: "Sign in", Body: loginView{Error: "Paste a token to sign in."}})
		return
	}
	probe := r.Clone(r.Context())
	probe.Header = http.Header{"Authorization": {"Bearer " + token}}
	_, ok, err := s.opts.Access.Authenticate(probe)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "The API server could not check your token", err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Body: loginView{Error: "The API server did not accept that token."}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: int((8 * time.Hour).Seconds())})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sameOrigin refuses a form posted from another site (a browser sends Origin with every POST):
// another site must not sign a visitor in with a token of its choosing.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				http.Error(w, "cross-site form posts are refused", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// --- pages ---

// visibleReports returns the reports the user may read.
func (s *Server) visibleReports(ctx context.Context) ([]*v1alpha1.ComplianceReport, map[string]bool, error) {
	all, err := s.opts.Source.Reports(ctx)
	if err != nil {
		return nil, nil, err
	}
	var namespaces []string
	seen := map[string]bool{}
	for i := range all {
		if ns := all[i].Namespace; !seen[ns] {
			seen[ns] = true
			namespaces = append(namespaces, ns)
		}
	}
	visible, err := visibleNamespaces(ctx, s.opts.Access, userFrom(ctx), namespaces)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v1alpha1.ComplianceReport, 0, len(all))
	for i := range all {
		if visible[all[i].Namespace] {
			out = append(out, &all[i])
		}
	}
	return out, visible, nil
}

// clusterProfiles returns the profiles, whose status lists the findings on cluster-scoped
// objects, when the user may get ComplianceProfiles (as `kubectl get complianceprofiles` would
// let them read those findings), else none.
// allowed says whether they may.
func (s *Server) clusterProfiles(ctx context.Context) (profiles []*v1alpha1.ComplianceProfile, allowed bool, err error) {
	if allowed, err = s.opts.Access.AuthorizeProfiles(ctx, userFrom(ctx)); err != nil || !allowed {
		return nil, false, err
	}
	all, err := s.opts.Source.Profiles(ctx)
	if err != nil {
		return nil, false, err
	}
	for i := range all {
		profiles = append(profiles, &all[i])
	}
	return profiles, true, nil
}

type overviewView struct {
	Profiles []*profileView
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	reports, _, err := s.visibleReports(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the reports failed", err)
		return
	}
	profiles, _, err := s.clusterProfiles(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the profiles failed", err)
		return
	}
	views := overview(reports)
	withClusterFindings(views, profiles)
	s.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Body: overviewView{Profiles: views}})
}

// withClusterFindings gives each profile's view the counts of its findings on cluster-scoped
// objects, failing and excepted apart, from the profiles the user may get.
func withClusterFindings(views []*profileView, profiles []*v1alpha1.ComplianceProfile) {
	for _, v := range views {
		for _, p := range profiles {
			if p.Name == v.Name {
				v.ClusterShown, v.ClusterFindings, v.ClusterExcepted = true, p.Status.ClusterFindingsFailing, p.Status.ClusterFindingsExcepted
			}
		}
	}
}

// checkInfo is a check's explanation from the catalogue.
type checkInfo struct {
	ID, Title, Description, Remediation string
	Severity                            string
	Criteria                            []string
	Known                               bool
}

func (s *Server) checkInfo(id string) checkInfo {
	c, ok := s.catalogue[id]
	if !ok {
		return checkInfo{ID: id}
	}
	crit := make([]string, len(c.Criteria))
	for i, x := range c.Criteria {
		crit[i] = string(x)
	}
	return checkInfo{ID: c.ID, Title: c.Title, Description: c.Description, Remediation: c.Remediation,
		Severity: string(c.Severity), Criteria: crit, Known: true}
}

// findingView is a finding as the dashboard shows it; Kind names the group where it is not one of
// Kubernetes' own (engine.IdentityKind), so Istio's Gateway edge and the Gateway API's read apart.
type findingView struct {
	Namespace, Profile, Check, Severity, Result string
	Criteria                                    []string
	Kind, Name, Container, Message              string
	FirstSeen, Exception                        string
}

func newFinding(r *v1alpha1.ComplianceReport, f *v1alpha1.Finding) findingView {
	return newFindingOf(r.Namespace, profileOf(r), f)
}

// newFindingOf is a finding of profile in namespace ("" for a cluster-scoped object).
func newFindingOf(namespace, profile string, f *v1alpha1.Finding) findingView {
	crit := make([]string, len(f.Criteria))
	for i, x := range f.Criteria {
		crit[i] = string(x)
	}
	var first *time.Time
	if f.FirstSeen != nil {
		first = &f.FirstSeen.Time
	}
	return findingView{Namespace: namespace, Profile: profile, Check: f.Check, Severity: string(f.Severity), Result: string(f.Result),
		Criteria: crit, Kind: engine.IdentityKind(f.Resource.APIVersion, f.Resource.Kind), Name: f.Resource.Name, Container: f.Container, Message: f.Message,
		FirstSeen: timeText(first), Exception: f.Exception}
}

type reportView struct {
	Profile, Result, Score, Evaluated string
	Stale                             bool
	StaleReason                       string
	NotReady                          bool
	NotReadyReason, NotReadyMessage   string
	Criteria                          []v1alpha1.CriterionStatus
	Findings                          []findingView
	Listed, Total                     int
	Truncated                         bool
	Checks                            []checkInfo
}

type exceptionView struct {
	Name, State, Message        string
	Checks, Criteria            []string
	Owner, RequestedBy          string
	ApprovedBy, Expires, Reason string
	Ticket                      string
	Expired                     bool
	Findings                    int32
}

type namespaceView struct {
	Namespace  string
	Reports    []reportView
	Exceptions []exceptionView
}

func (s *Server) namespacePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ns := r.PathValue("namespace")
	ok, err := s.opts.Access.Authorize(ctx, userFrom(ctx), ns)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Checking your access failed", err)
		return
	}
	// Not allowed and absent look the same: the page does not tell which namespaces exist.
	notVisible := "No reports in namespace " + ns + " that you may read."
	if !ok {
		s.notFound(w, r, notVisible)
		return
	}
	all, err := s.opts.Source.Reports(ctx)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the reports failed", err)
		return
	}
	v := namespaceView{Namespace: ns}
	var mine []*v1alpha1.ComplianceReport
	for i := range all {
		rep := &all[i]
		if rep.Namespace != ns {
			continue
		}
		mine = append(mine, rep)
		stale, reason := condition(rep, v1alpha1.ConditionStale)
		var evaluated *time.Time
		if rep.Status.LastEvaluated != nil {
			evaluated = &rep.Status.LastEvaluated.Time
		}
		nr, nrReason, nrMessage := notReady(rep)
		rv := reportView{Profile: profileOf(rep), Result: resultText(rep.Status.Result), Score: scoreText(rep.Status.Score), Evaluated: timeText(evaluated),
			Stale: stale, StaleReason: reason, NotReady: nr, NotReadyReason: nrReason, NotReadyMessage: nrMessage, Criteria: slices.Clone(rep.Status.Criteria),
			Listed: len(rep.Status.Findings), Total: int(rep.Status.TotalFindings), Truncated: rep.Status.FindingsTruncated}
		slices.SortFunc(rv.Criteria, func(a, b v1alpha1.CriterionStatus) int { return compareCriteria(string(a.ID), string(b.ID)) })
		seen := map[string]bool{}
		for j := range rep.Status.Findings {
			f := &rep.Status.Findings[j]
			rv.Findings = append(rv.Findings, newFinding(rep, f))
			if !seen[f.Check] {
				seen[f.Check] = true
				rv.Checks = append(rv.Checks, s.checkInfo(f.Check))
			}
		}
		v.Reports = append(v.Reports, rv)
	}
	slices.SortFunc(v.Reports, func(a, b reportView) int { return strings.Compare(a.Profile, b.Profile) })
	exceptions, err := s.opts.Source.Exceptions(ctx, ns)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the exceptions failed", err)
		return
	}
	now := s.opts.Now()
	for i := range exceptions {
		v.Exceptions = append(v.Exceptions, newException(&exceptions[i], now))
	}
	// An exception of the operator's namespace may waive findings here; who reads this
	// namespace may not read that one, so it is shown as the report records it, once however
	// many of the namespace's reports record it (the namespace's own are listed above).
	listed := map[string]bool{}
	for _, rep := range mine {
		for i := range rep.Status.Exceptions {
			if u := &rep.Status.Exceptions[i]; !listed[u.Name] && !strings.HasPrefix(u.Name, ns+"/") {
				listed[u.Name] = true
				v.Exceptions = append(v.Exceptions, newExceptionUsage(u, "the report of profile "+profileOf(rep), now))
			}
		}
	}
	slices.SortFunc(v.Exceptions, func(a, b exceptionView) int { return strings.Compare(a.Name, b.Name) })
	if len(v.Reports) == 0 && len(v.Exceptions) == 0 {
		s.notFound(w, r, notVisible)
		return
	}
	s.render(w, r, http.StatusOK, "namespace", page{Title: "Namespace " + ns, Nav: "overview", Body: v})
}

func newException(e *v1alpha1.ControlException, now time.Time) exceptionView {
	crit := make([]string, len(e.Spec.Criteria))
	for i, x := range e.Spec.Criteria {
		crit[i] = string(x)
	}
	state, message := string(e.Status.State), e.Status.Message
	if e.Status.ObservedGeneration != e.Generation {
		// The status judged an earlier spec (the operator has not caught up with a change).
		state, message = "", "The operator has not judged the current spec yet."
	}
	if state == "" {
		state = "Pending"
	}
	return exceptionView{
		Name: e.Name, State: state, Message: message, Checks: e.Spec.Checks, Criteria: crit,
		Owner: e.Spec.Owner, RequestedBy: requestedBy(e), ApprovedBy: approvedBy(e),
		Expires: timeText(&e.Spec.Expires.Time), Expired: !e.Spec.Expires.After(now),
		Reason: e.Spec.Reason, Ticket: e.Spec.Ticket, Findings: e.Status.MatchedFindings,
	}
}

type checksView struct {
	Rows         []*checkRow
	ClusterShown bool
	Truncated    []string // namespaces whose report lists only some of its findings
	Stale        []string // namespaces whose report is stale (checkView.Stale)
}

// newExceptionUsage shows an exception of another namespace as a report records it (what it
// waives is not recorded there).
func newExceptionUsage(u *v1alpha1.ExceptionUsage, recordedIn string, now time.Time) exceptionView {
	var expires *time.Time
	if u.Expires != nil {
		expires = &u.Expires.Time
	}
	ns, _, _ := strings.Cut(u.Name, "/")
	return exceptionView{
		Name: u.Name, State: string(u.State), Message: "In namespace " + ns + "; as " + recordedIn + " records it.",
		Owner: u.Owner, RequestedBy: u.RequestedBy, ApprovedBy: u.ApprovedBy,
		Expires: timeText(expires), Expired: expires != nil && !expires.After(now),
		Reason: u.Reason, Findings: u.Findings,
	}
}

type checkRow struct {
	checkInfo
	Failing, Excepted int
}

func (s *Server) checksPage(w http.ResponseWriter, r *http.Request) {
	reports, _, err := s.visibleReports(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the reports failed", err)
		return
	}
	count := map[string]*checkRow{}
	var rows []*checkRow
	add := func(id string) *checkRow {
		if c, ok := count[id]; ok {
			return c
		}
		c := &checkRow{checkInfo: s.checkInfo(id)}
		count[id] = c
		rows = append(rows, c)
		return c
	}
	for _, id := range s.checkIDs {
		add(id)
	}
	profiles, clusterShown, err := s.clusterProfiles(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the profiles failed", err)
		return
	}
	tally := func(findings []v1alpha1.Finding) {
		for j := range findings {
			f := &findings[j]
			c := add(f.Check)
			if f.Result == v1alpha1.ResultExcepted {
				c.Excepted++
			} else {
				c.Failing++
			}
		}
	}
	var truncated, stale []string
	for _, rep := range reports {
		tally(rep.Status.Findings)
		if rep.Status.FindingsTruncated {
			truncated = append(truncated, rep.Namespace)
		}
		if isStale, _ := condition(rep, v1alpha1.ConditionStale); isStale {
			stale = append(stale, rep.Namespace)
		}
	}
	for _, p := range profiles {
		tally(p.Status.ClusterFindings)
		if p.Status.ClusterFindingsTruncated {
			truncated = append(truncated, "the cluster-scoped objects of profile "+p.Name)
		}
	}
	slices.Sort(truncated)
	truncated = slices.Compact(truncated)
	slices.SortStableFunc(rows, func(a, b *checkRow) int { return (b.Failing + b.Excepted) - (a.Failing + a.Excepted) })
	slices.Sort(stale)
	stale = slices.Compact(stale)
	s.render(w, r, http.StatusOK, "checks", page{Title: "Checks", Nav: "checks", Body: checksView{Rows: rows, ClusterShown: clusterShown, Truncated: truncated, Stale: stale}})
}

type checkView struct {
	checkInfo
	// ClusterShown: the findings on cluster-scoped objects are listed (the user may get
	// ComplianceProfiles).
	ClusterShown bool
	Findings     []findingView
	Rows         template.HTML // the findings' table rows (see checkRows)
	Truncated    []string      // namespaces whose report lists only some of its findings
	// Stale are the namespaces whose report is stale: the findings it lists are of an earlier
	// evaluation, and what fails there now is unknown.
	Stale []string
	// Exceptions waive findings of the check on cluster-scoped objects, as the profiles'
	// status records them (no report lists those findings, so no namespace's page shows them).
	Exceptions []exceptionView
}

// checkRows writes the check page's table rows. A check can fail on every workload of a large
// cluster (10,000 rows): html/template's per-value escapers, called by reflection, take most of
// the page's time there, so these rows are written directly, every value through
// html.EscapeString (which escapes quotes too: safe in quoted attributes) and the namespace in
// the link through url.PathEscape as well.
func checkRows(findings []findingView) template.HTML {
	var b strings.Builder
	b.Grow(len(findings) * 420)
	e := html.EscapeString
	for i := range findings {
		f := &findings[i]
		res := `<span class="badge fail">` + e(f.Result) + `</span>`
		if f.Exception != "" {
			res = `<span class="badge excepted">Excepted</span> by ` + e(f.Exception)
		}
		b.WriteString(`<tr class="finding" data-namespace="` + e(f.Namespace) + `" data-resource="` + e(f.Kind) + "/" + e(f.Name) + `">`)
		if f.Namespace == "" {
			b.WriteString(`<td>(cluster-scoped)</td>`)
		} else {
			b.WriteString(`<td><a href="/namespaces/` + e(url.PathEscape(f.Namespace)) + `">` + e(f.Namespace) + `</a></td>`)
		}
		b.WriteString(`<th scope="row">` + e(f.Kind) + "/" + e(f.Name) + `</th><td>` + e(f.Container) + `</td>`)
		b.WriteString(`<td><span class="sev ` + e(strings.ToLower(f.Severity)) + `">` + e(f.Severity) + `</span></td><td>` + e(f.Message) + `</td>`)
		b.WriteString(`<td>` + res + `</td><td>` + e(f.FirstSeen) + `</td><td>` + e(f.Profile) + "</td></tr>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // every value is escaped above
}

func (s *Server) checkPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	reports, _, err := s.visibleReports(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the reports failed", err)
		return
	}
	v := checkView{checkInfo: s.checkInfo(id)}
	for _, rep := range reports {
		for j := range rep.Status.Findings {
			if f := &rep.Status.Findings[j]; f.Check == id {
				v.Findings = append(v.Findings, newFinding(rep, f))
			}
		}
		if rep.Status.FindingsTruncated {
			v.Truncated = append(v.Truncated, rep.Namespace)
		}
		if isStale, _ := condition(rep, v1alpha1.ConditionStale); isStale {
			v.Stale = append(v.Stale, rep.Namespace)
		}
	}
	profiles, clusterShown, err := s.clusterProfiles(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the profiles failed", err)
		return
	}
	v.ClusterShown = clusterShown
	now := s.opts.Now()
	listed := map[string]bool{} // exceptions, once however many profiles record them
	for _, p := range profiles {
		for j := range p.Status.ClusterFindings {
			f := &p.Status.ClusterFindings[j]
			if f.Check != id {
				continue
			}
			v.Findings = append(v.Findings, newFindingOf("", p.Name, f))
			if f.Exception == "" || listed[f.Exception] {
				continue
			}
			listed[f.Exception] = true
			for k := range p.Status.ClusterExceptions {
				if u := &p.Status.ClusterExceptions[k]; u.Name == f.Exception {
					v.Exceptions = append(v.Exceptions, newExceptionUsage(u, "the status of profile "+p.Name, now))
				}
			}
		}
		if p.Status.ClusterFindingsTruncated {
			v.Truncated = append(v.Truncated, "the cluster-scoped objects of profile "+p.Name)
		}
	}
	if !v.Known && len(v.Findings) == 0 {
		s.notFound(w, r, "No check "+id+" in the catalogue or in the reports you may read.")
		return
	}
	slices.SortStableFunc(v.Findings, func(a, b findingView) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		if c := engine.SeverityRank(v1alpha1.Severity(a.Severity)) - engine.SeverityRank(v1alpha1.Severity(b.Severity)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Container, b.Container)
	})
	slices.Sort(v.Truncated)
	v.Truncated = slices.Compact(v.Truncated)
	slices.Sort(v.Stale)
	v.Stale = slices.Compact(v.Stale)
	slices.SortStableFunc(v.Exceptions, func(a, b exceptionView) int { return strings.Compare(a.Name, b.Name) })
	v.Rows = checkRows(v.Findings)
	s.render(w, r, http.StatusOK, "check", page{Title: "Check " + id, Nav: "checks", Body: v})
}

type trendsView struct {
	Days   int
	Charts template.HTML
}

func (s *Server) trendsPage(w http.ResponseWriter, r *http.Request) {
	if s.opts.Trends == nil {
		s.notFound(w, r, "Trends need the evidence journal (the manager's --journal-store flag).")
		return
	}
	days := 30
	switch r.URL.Query().Get("days") {
	case "7":
		days = 7
	case "90":
		days = 90
	}
	ctx := r.Context()
	u := userFrom(ctx)
	all, err := s.opts.Access.Authorize(ctx, u, "")
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Checking your access failed", err)
		return
	}
	// The journal names namespaces that may be gone: each is asked about (and cached).
	var visible func(ns string) bool
	if !all {
		visible = func(ns string) bool {
			ok, err := s.opts.Access.Authorize(ctx, u, ns)
			return err == nil && ok
		}
	}
	charts, err := s.opts.Trends.Render(ctx, visible, days)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "Reading the evidence journal failed", err)
		return
	}
	s.render(w, r, http.StatusOK, "trends", page{Title: "Trends", Nav: "trends", Body: trendsView{Days: days, Charts: charts}})
}
