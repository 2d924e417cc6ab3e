// Command dashboardgen writes config/grafana/soc2-operator-dashboard.json: the Grafana
// dashboard of the operator's series (internal/metrics), built with the Grafana Foundation SDK
// (github.com/grafana/grafana-foundation-sdk/go). `make dashboard` rewrites it and
// `make verify` fails when it is stale. internal/monitoring checks that it loads and that every
// query reads only series and labels the operator exports.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UID is the dashboard's uid: stable, so that a re-import replaces it and links to it last.
const UID = "soc2-operator"

// runbooks is where the alerts' runbook_url point (config/prometheus/prometheusrule.yaml).
const runbooks = "https://github.com/soc2-operator/soc2-operator/blob/main/docs/runbooks.md#"

func main() {
	root := flag.String("root", ".", "Repository root")
	out := flag.String("o", "config/grafana/soc2-operator-dashboard.json", "Output file")
	flag.Parse()
	data, err := render()
	if err == nil {
		err = os.WriteFile(filepath.Join(*root, *out), data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboardgen:", err)
		os.Exit(1)
	}
}

func render() ([]byte, error) {
	d, err := build().Build()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// The selectors every panel shares. The profile is one value; namespaces and criteria are
// several (Grafana writes them as a regular expression).
const (
	byProfile   = `profile="$profile"`
	byNamespace = `profile="$profile",namespace=~"$namespace"`
)

// ds is the Prometheus data source the user picks ($datasource).
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// query is a range query.
func query(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds()).RefId(ref).Expr(expr).LegendFormat(legend)
}

// instant is an instant query in table form (tables).
func instant(ref, expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(ds()).RefId(ref).Expr(expr).Instant().
		Format(prometheus.PromQueryFormatTable)
}

// runbook links a panel to the runbook of the alert that watches what it shows.
func runbook(alert, anchor string) []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{
		dashboard.NewDashboardLinkBuilder("Runbook: " + alert).Type(dashboard.DashboardLinkTypeLink).
			Url(runbooks + anchor).TargetBlank(true),
	}
}

func thresholds(steps ...any) *dashboard.ThresholdsConfigBuilder {
	var out []dashboard.Threshold
	for i := 0; i < len(steps); i += 2 {
		t := dashboard.Threshold{Color: steps[i+1].(string)}
		if v, ok := steps[i].(float64); ok {
			t.Value = &v
		}
		out = append(out, t)
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

func valueText(options map[string][2]string) []dashboard.ValueMapping {
	m := dashboard.NewValueMap()
	i := int32(0)
	for _, k := range sortedKeys(options) {
		m.Options[k] = dashboard.ValueMappingResult{Text: cog.ToPtr(options[k][0]), Color: cog.ToPtr(options[k][1]), Index: cog.ToPtr(i)}
		i++
	}
	return []dashboard.ValueMapping{{ValueMap: m}}
}

func sortedKeys(m map[string][2]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func bigNumber(id uint32, title, description string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(ds()).
		Height(4).Span(4).GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeBackground).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds))
}

func graph(id uint32, title, description string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(ds()).
		Height(8).Span(12).FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom))
}

// tableOf is a table panel. The footer is set explicitly: the SDK's default leaves its
// reducer null, which Grafana's dashboard model does not accept (TestDashboardLoads).
func tableOf(id uint32, title, description string) *table.PanelBuilder {
	return table.NewPanelBuilder().Id(id).Title(title).Description(description).Datasource(ds()).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}

// matrix turns an instant query's table into rows by rowField and columns by columnField.
func matrix(rowField, columnField string) dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
		"rowField": rowField, "columnField": columnField, "valueField": "Value", "emptyValue": "null",
	}}
}

func build() *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder("SOC 2 compliance (soc2-operator)").
		Uid(UID).
		Description("Compliance per profile, namespace and SOC 2 criterion, exceptions, and the operator's health, from the soc2-operator's own series. Generated by hack/dashboardgen; do not edit by hand.").
		Tags([]string{"soc2", "compliance", "soc2-operator"}).
		Editable().
		Refresh("1m").
		Time("now-24h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Runbooks").Type(dashboard.DashboardLinkTypeLink).
			Url("https://github.com/soc2-operator/soc2-operator/blob/main/docs/runbooks.md").Icon("doc").TargetBlank(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("profile").Label("Profile").
			Description("The ComplianceProfile").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(soc2_operator_profile_ready, profile)")}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)).
		WithVariable(dashboard.NewQueryVariableBuilder("namespace").Label("Namespace").
			Description("Namespaces the profile selects").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(soc2_operator_namespace_result{profile="$profile"}, namespace)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).IncludeAll(true)).
		WithVariable(dashboard.NewQueryVariableBuilder("criterion").Label("Criterion").
			Description("SOC 2 Trust Services criteria the profile assesses").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(soc2_operator_criterion_status{profile="$profile"}, criterion)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).IncludeAll(true)).
		// The scrape job of the operator's own series, for `up` and the process's start time,
		// which every target has: derived from a series the operator exports, so it needs no
		// knowledge of how the ServiceMonitor or scrape config names the job. A job that
		// scrapes someone else's series under the operator's names (docs/monitoring.md) is
		// listed too: the panels that read it show each job by name.
		WithVariable(dashboard.NewQueryVariableBuilder("job").Label("Job").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(soc2_operator_profile_ready, job)")}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Hide(dashboard.VariableHideHideVariable).
			Multi(true).IncludeAll(true))

	criticalFail := `soc2_operator_findings{` + byNamespace + `,severity="Critical",result="Fail"}`
	// criticalCount is what SOC2NewCriticalFinding counts: each target's failing and unread
	// Critical findings added up (an unread one that is read and fails is not new).
	criticalCount := `sum without (result) (soc2_operator_findings{` + byNamespace + `,severity="Critical",result=~"Fail|Unread"})`
	// Series someone else exports under the operator's names (docs/monitoring.md) may make the
	// Overview look worse, never better: a namespace's verdict is the worst any series gives (and
	// Compliant only while no series gives a worse result: the operator exports no verdict for a
	// stale report, and one someone else exported counted it Compliant),
	// counts are added up from 0 (a negative one lowered the sum), the new Critical findings
	// are the alert's count part (the largest count now against the smallest 15 minutes before,
	// leaving out counts given while the report is Unknown) and the heartbeat is the oldest.
	verdict := `min by (namespace) (clamp(soc2_operator_namespace_compliant{` + byNamespace + `}, 0, 1))`
	unknown := `(soc2_operator_namespace_result{` + byProfile + `,result="Unknown"} or soc2_operator_criterion_status{` + byProfile + `,namespace="",status="Unknown"})`
	// The other panels too: a namespace's result and a criterion's status are the worst any
	// series of value 1 (the operator's) gives, ranked from the best, and a count is the largest
	// any series gives for its namespace, from 0: each namespace once, however many targets
	// export it (a tenant's, or two of the operator's pods in a rollout). A sum leaves out what
	// is NaN (>= 0): a NaN someone else exported alone in a namespace of its own made the sum
	// NaN, which a stat shows on its base colour, green.
	worstResult := `max by (namespace) (` +
		`(soc2_operator_namespace_result{` + byNamespace + `,result="Compliant"} == 1) * 1` +
		` or (soc2_operator_namespace_result{` + byNamespace + `,result="NotAssessed"} == 1) * 2` +
		` or (soc2_operator_namespace_result{` + byNamespace + `,result="Unknown"} == 1) * 3` +
		` or (soc2_operator_namespace_result{` + byNamespace + `,result="NonCompliant"} == 1) * 4)`
	// duplicated is SOC2OperatorSeriesDuplicated's expression, counted: the scrape targets beyond
	// one exporting the heartbeats or the profiles' Ready, and the reports and criteria with more
	// than one result or status series.
	duplicated := `(clamp_min(count(count without (profile) (soc2_operator_last_evaluation_timestamp_seconds or soc2_operator_profile_ready)) - 1, 0) or vector(0))` +
		` + (count(count by (profile, namespace) (soc2_operator_namespace_result) > 1 or count by (profile, namespace, criterion) (soc2_operator_criterion_status) > 1) or vector(0))`

	// Overview.
	b = b.WithRow(dashboard.NewRowBuilder("Overview").Id(1)).
		WithPanel(bigNumber(2, "Compliant namespaces", "Namespaces whose ComplianceReport is Compliant.").
			WithTarget(query("A", `count(`+verdict+` == 1 unless on (namespace) `+worstResult+` > 1) or vector(0)`, "")).
			Thresholds(thresholds(nil, "green"))).
		WithPanel(bigNumber(3, "Non-compliant namespaces", "Namespaces whose ComplianceReport is NonCompliant (alert SOC2NamespaceNonCompliant once NonCompliant for more than 30 of the last 60 minutes).").
			WithTarget(query("A", `count(`+verdict+` == 0) or vector(0)`, "")).
			Thresholds(thresholds(nil, "green", 1.0, "red")).
			Links(runbook("SOC2NamespaceNonCompliant", "soc2namespacenoncompliant"))).
		WithPanel(bigNumber(4, "Failing Critical findings", "Failing findings of Critical severity across the selected namespaces.").
			WithTarget(query("A", `sum(max by (namespace) (clamp_min(`+criticalFail+`, 0)) >= 0) or vector(0)`, "")).
			Thresholds(thresholds(nil, "green", 1.0, "red")).
			Links(runbook("SOC2NewCriticalFinding", "soc2newcriticalfinding"))).
		WithPanel(bigNumber(5, "New Critical findings (15 min)", "Failing or unread (not read in full, which fails closed) Critical findings more than 15 minutes ago, added up over namespaces that gained some (the count part of alert SOC2NewCriticalFinding; a new namespace counts from zero).").
			WithTarget(query("A", `sum(clamp_min(max by (profile, namespace) (`+criticalCount+`) - (last_over_time((min by (profile, namespace) (`+criticalCount+`) unless on (profile, namespace) `+unknown+`)[1d:1m] offset 15m) or max by (profile, namespace) (`+criticalCount+`) * 0), 0) >= 0) or vector(0)`, "")).
			Thresholds(thresholds(nil, "green", 1.0, "red")).
			Links(runbook("SOC2NewCriticalFinding", "soc2newcriticalfinding"))).
		WithPanel(bigNumber(6, "Stale reports", "Namespaces whose latest evaluation could not be made or written to their report (alert SOC2ReportsStale after 15 minutes).").
			WithTarget(query("A", `sum(clamp_min(soc2_operator_reports_stale{`+byProfile+`}, 0) >= 0) or vector(0)`, "")).
			Thresholds(thresholds(nil, "green", 1.0, "orange")).
			Links(runbook("SOC2ReportsStale", "soc2reportsstale"))).
		WithPanel(bigNumber(7, "Since the last evaluation", "Time since the profile's last successful evaluation: the operator's heartbeat (alert SOC2OperatorHeartbeatMissing above three evaluation intervals, at least 30 minutes; no value at all: SOC2OperatorHeartbeatAbsent).").
			WithTarget(query("A", `time() - min(soc2_operator_last_evaluation_timestamp_seconds{`+byProfile+`})`, "")).
			Unit("s").NoValue("no heartbeat").
			Thresholds(thresholds(nil, "green", 900.0, "orange", 1800.0, "red")).
			Links(runbook("SOC2OperatorHeartbeatMissing", "soc2operatorheartbeatmissing"))).
		WithPanel(bigNumber(29, "Series exported more than once", "Scrape targets beyond one that export the operator's heartbeats or profiles' Ready, and reports and criteria with more than one result or status series, across every profile (alert SOC2OperatorSeriesDuplicated after 15 minutes). The operator's leader exports each once; for a few minutes in a rollout two pods do. More than 0 for longer means another target exports series under the operator's names (a tenant's exporter, or the operator scraped twice): the panels read such series as the alerts do (a namespace's worst verdict, its largest count, the oldest heartbeat), so they may look worse than the operator's series alone, never better, but cannot be relied on until it is dropped.").
			Height(3).Span(24).
			WithTarget(query("A", duplicated, "")).
			Thresholds(thresholds(nil, "green", 1.0, "red")).
			Links(runbook("SOC2OperatorSeriesDuplicated", "soc2operatorseriesduplicated")))

	// Compliance over time and the criteria.
	b = b.WithRow(dashboard.NewRowBuilder("Namespaces and criteria").Id(8)).
		WithPanel(graph(9, "Namespaces by result", "Namespaces over time by their report's result: Compliant, NonCompliant, NotAssessed (nothing the profile assesses there) and Unknown (the report is stale: its latest evaluation could not be made or written). Each namespace once: by the worst result any series gives (NonCompliant, Unknown, NotAssessed, Compliant).").
			WithTarget(query("A", `count(`+worstResult+` == 4) or vector(0)`, "NonCompliant")).
			WithTarget(query("B", `count(`+worstResult+` == 1) or vector(0)`, "Compliant")).
			WithTarget(query("C", `count(`+worstResult+` == 2) or vector(0)`, "NotAssessed")).
			WithTarget(query("D", `count(`+worstResult+` == 3) or vector(0)`, "Unknown")).
			Min(0).Decimals(0).
			OverrideByName("NonCompliant", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}}}).
			OverrideByName("Compliant", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "green"}}}).
			OverrideByName("NotAssessed", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "blue"}}}).
			OverrideByName("Unknown", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "orange"}}}).
			Links(runbook("SOC2NamespaceNonCompliant", "soc2namespacenoncompliant"))).
		WithPanel(graph(10, "Namespaces failing each criterion", "How many of the selected namespaces fail each criterion, over time.").
			WithTarget(query("A", `count by (criterion) (max by (namespace, criterion) (soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="Fail"} == 1))`, "{{criterion}}")).
			Min(0).Decimals(0)).
		// Each (namespace, criterion) has one status series set to 1; weigh them so that
		// one number says which (Pass 1, Excepted 2, NotAssessed 3, Unknown 4, Fail 5). A
		// status left out drops the namespace from the table: the criteria of a stale report
		// are Unknown, and its namespace vanished from the table instead of reading so. Only
		// series of value 1 count, and the worst wins, Fail the worst: a Pass of 9 or an Unknown
		// someone else exported (docs/monitoring.md) showed instead of the operator's Fail.
		WithPanel(tableOf(11, "Criterion status (namespace × criterion)",
			"The status of each SOC 2 criterion in each namespace, as the ComplianceReports show it; Unknown (stale) while a report's latest evaluation could not be made or written, or is overdue. kubectl describe compliancereport <profile> -n <namespace> lists the findings.").
			Height(10).Span(24).
			WithTarget(instant("A", `max by (namespace, criterion) (`+
				`(soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="Pass"} == 1) * 1`+
				` or (soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="Excepted"} == 1) * 2`+
				` or (soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="NotAssessed"} == 1) * 3`+
				` or (soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="Unknown"} == 1) * 4`+
				` or (soc2_operator_criterion_status{`+byNamespace+`,criterion=~"$criterion",status="Fail"} == 1) * 5)`)).
			WithTransformation(matrix("namespace", "criterion")).
			Mappings(valueText(map[string][2]string{
				"1": {"Pass", "green"}, "2": {"Excepted", "blue"}, "3": {"Not assessed", "text"}, "4": {"Unknown (stale)", "orange"},
				"5": {"Fail", "red"},
			})).
			CellOptions(common.TableCellOptions{TableColoredBackgroundCellOptions: &common.TableColoredBackgroundCellOptions{
				Type: common.TableCellDisplayModeColorBackground, Mode: cog.ToPtr(common.TableCellBackgroundDisplayModeBasic),
			}}).
			OverrideByName("namespace\\criterion", []dashboard.DynamicConfigValue{
				{Id: "custom.cellOptions", Value: map[string]any{"type": "auto"}},
				{Id: "displayName", Value: "Namespace"},
			}))

	// Findings.
	b = b.WithRow(dashboard.NewRowBuilder("Findings").Id(12)).
		WithPanel(graph(13, "Failing findings by severity", "Failing findings over time by severity, the unread ones (Unread: not decided because the resource holds more than the operator reads of it, which fails their criteria closed; the reports' summary.unread) and the findings ControlExceptions waive.").
			WithTarget(query("A", `sum by (severity) (max by (namespace, severity) (clamp_min(soc2_operator_findings{`+byNamespace+`,result="Fail"}, 0)) >= 0)`, "{{severity}}")).
			WithTarget(query("B", `sum(max by (namespace, severity) (clamp_min(soc2_operator_findings{`+byNamespace+`,result="Excepted"}, 0)) >= 0)`, "Excepted")).
			WithTarget(query("C", `sum(max by (namespace, severity) (clamp_min(soc2_operator_findings{`+byNamespace+`,result="Unread"}, 0)) >= 0)`, "Unread")).
			Min(0).Decimals(0).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			OverrideByName("Critical", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "dark-red"}}}).
			OverrideByName("High", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "orange"}}}).
			OverrideByName("Medium", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "yellow"}}}).
			OverrideByName("Low", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "blue"}}}).
			OverrideByName("Excepted", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "purple"}}}).
			OverrideByName("Unread", []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "dark-purple"}}})).
		WithPanel(tableOf(14, "Failing findings by namespace and severity",
			"Failing findings per namespace and severity now, and the unread ones of all severities (Unread: not decided because the resource holds more than the operator reads of it, which fails their criteria closed). The operator exports no per-check series: kubectl describe compliancereport <profile> -n <namespace> (or the operator's web dashboard) lists each finding with its check.").
			Height(8).Span(12).
			WithTarget(instant("A", `max by (namespace, severity) (clamp_min(soc2_operator_findings{`+byNamespace+`,result="Fail"}, 0))`+
				` or label_replace(sum by (namespace) (max by (namespace, severity) (clamp_min(soc2_operator_findings{`+byNamespace+`,result="Unread"}, 0)) >= 0), "severity", "Unread", "", "")`)).
			WithTransformation(matrix("namespace", "severity")).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"indexByName":  map[string]any{"namespace\\severity": 0, "Critical": 1, "High": 2, "Medium": 3, "Low": 4, "Unread": 5},
				"renameByName": map[string]any{"namespace\\severity": "Namespace"},
			}}).
			Thresholds(thresholds(nil, "green", 1.0, "red")).
			CellOptions(common.TableCellOptions{TableColorTextCellOptions: &common.TableColorTextCellOptions{
				Type: common.TableCellDisplayModeColorText,
			}}))

	// Exceptions.
	b = b.WithRow(dashboard.NewRowBuilder("Exceptions").Id(15)).
		WithPanel(graph(16, "ControlExceptions by state", "ControlExceptions in the selected namespaces by state (Active, Expired, Invalid).").
			WithTarget(query("A", `sum by (state) (max by (namespace, state) (clamp_min(soc2_operator_exceptions{namespace=~"$namespace"}, 0)) >= 0)`, "{{state}}")).
			Min(0).Decimals(0).Span(8)).
		WithPanel(tableOf(17, "Active exceptions and their expiry",
			"Each Active ControlException (of each namespace, the 100 that expire soonest) with the time left before it expires; when it does, the findings it waives fail again (alert SOC2ExceptionExpiringSoon 7 days before).").
			Height(8).Span(12).
			WithTarget(instant("A", `min by (namespace, exception) (soc2_operator_exception_expiry_timestamp_seconds{namespace=~"$namespace"}) - time()`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  map[string]any{"namespace": "Namespace", "exception": "Exception", "Value": "Expires in"},
			}}).
			WithTransformation(dashboard.DataTransformerConfig{Id: "sortBy", Options: map[string]any{
				"sort": []map[string]any{{"field": "Expires in"}},
			}}).
			Unit("s").
			Thresholds(thresholds(nil, "red", 7*86400.0, "orange", 30*86400.0, "green")).
			CellOptions(common.TableCellOptions{TableColorTextCellOptions: &common.TableColorTextCellOptions{
				Type: common.TableCellDisplayModeColorText,
			}}).
			Links(runbook("SOC2ExceptionExpiringSoon", "soc2exceptionexpiringsoon"))).
		WithPanel(bigNumber(30, "Exceptions not kept", "Active ControlExceptions (of every namespace) the leader could not keep for the next process at its last save (past 64 KiB gzipped): one of them deleted while no operator runs (a rollout, a failover) is not alerted, no ExceptionRevoked alert or Event (alert SOC2ExceptionsNotKept after 5 minutes). The largest any series gives.").
			Height(8).
			WithTarget(query("A", `max(soc2_operator_exceptions_not_kept)`, "")).
			Decimals(0).
			Thresholds(thresholds(nil, "green", 1.0, "orange")).
			Links(runbook("SOC2ExceptionsNotKept", "soc2exceptionsnotkept")))

	// The operator.
	b = b.WithRow(dashboard.NewRowBuilder("Operator").Id(18)).
		WithPanel(graph(19, "Evaluation duration", "Time to gather and evaluate, by scope (cluster or namespace): median and 95th percentile.").
			WithTarget(query("A", `histogram_quantile(0.5, sum by (le, scope) (rate(soc2_operator_evaluation_duration_seconds_bucket{`+byProfile+`}[$__rate_interval])))`, "p50 {{scope}}")).
			WithTarget(query("B", `histogram_quantile(0.95, sum by (le, scope) (rate(soc2_operator_evaluation_duration_seconds_bucket{`+byProfile+`}[$__rate_interval])))`, "p95 {{scope}}")).
			Unit("s").Min(0).Span(8)).
		WithPanel(graph(20, "Evaluations", "Evaluations per second by scope and outcome (ok or error).").
			WithTarget(query("A", `sum by (scope, outcome) (rate(soc2_operator_evaluations_total{`+byProfile+`}[$__rate_interval]))`, "{{scope}} {{outcome}}")).
			Unit("ops").Min(0).Span(8)).
		WithPanel(graph(21, "Report writes", "ComplianceReport writes per second by operation (create, update, delete) and result (ok or error). Errors make reports stale.").
			WithTarget(query("A", `sum by (operation, result) (rate(soc2_operator_report_writes_total{`+byProfile+`}[$__rate_interval]))`, "{{operation}} {{result}}")).
			Unit("ops").Min(0).Span(8).
			Links(runbook("SOC2ReportsStale", "soc2reportsstale"))).
		WithPanel(graph(22, "Evidence journal", "Records waiting to be written, whether the store refuses writes (behind = 1) and records dropped: a gap in the audit trail. Empty when the journal is off (--journal-store).").
			WithTarget(query("A", `max(soc2_operator_journal_queued_records)`, "queued")).
			WithTarget(query("B", `max(soc2_operator_journal_behind)`, "behind")).
			WithTarget(query("C", `sum(increase(soc2_operator_journal_records_total{outcome="dropped"}[$__rate_interval]))`, "dropped")).
			Min(0).Decimals(0).Span(8).
			Links(runbook("SOC2EvidenceJournalBehind", "soc2evidencejournalbehind"))).
		WithPanel(graph(23, "Since the last journal write", "Time since the evidence journal last wrote a segment to its store (the oldest write any series gives; a replica that never wrote, 0, left out).").
			WithTarget(query("A", `time() - min(soc2_operator_journal_last_write_timestamp_seconds > 0)`, "since last write")).
			Unit("s").Min(0).Span(8).
			Links(runbook("SOC2EvidenceJournalBehind", "soc2evidencejournalbehind"))).
		WithPanel(graph(24, "Alerts sent", "Alerts (spec.alerts of the profile) by sink, event and result: sent, failed (retried), dropped (queue full) or duplicate (not sent again); and by sink those not delivered yet, set aside or kept from a previous operator process (the counters start from zero in each process, this does not).").
			WithTarget(query("A", `sum by (sink, event, result) (increase(soc2_operator_alerts_total{`+byProfile+`}[$__rate_interval]))`, "{{sink}} {{event}} {{result}}")).
			WithTarget(query("B", `max by (sink) (soc2_operator_alerts_pending{`+byProfile+`})`, "{{sink}} not delivered yet")).
			Min(0).Decimals(0).Span(8).
			Links(runbook("SOC2AlertsNotDelivered", "soc2alertsnotdelivered"))).
		WithPanel(bigNumber(25, "Operator replicas up", "Targets Prometheus scrapes successfully per scrape job that exports soc2_operator_profile_ready: the operator's replicas under the operator's job. Any other job here also exports series under the operator's names (alert SOC2OperatorSeriesDuplicated): its targets are not the operator.").
			WithTarget(query("A", `sum by (job) (up{job=~"$job"})`, "{{job}}")).
			NoValue("not scraped").
			Thresholds(thresholds(nil, "red", 1.0, "green"))).
		WithPanel(bigNumber(26, "Restarts (24 h)", "Process restarts over the last 24 hours per scrape job that exports soc2_operator_profile_ready: the operator's under the operator's job.").
			WithTarget(query("A", `sum by (job) (changes(process_start_time_seconds{job=~"$job"}[24h]))`, "{{job}}")).
			Thresholds(thresholds(nil, "green", 1.0, "orange"))).
		WithPanel(bigNumber(27, "Profile ready", "Whether the profile is valid and evaluated (its Ready condition; Not ready if any series says so). kubectl get complianceprofile <profile> says why not.").
			WithTarget(query("A", `min(clamp(soc2_operator_profile_ready{`+byProfile+`}, 0, 1))`, "")).
			Mappings(valueText(map[string][2]string{"0": {"Not ready", "red"}, "1": {"Ready", "green"}})).
			Links(runbook("SOC2ProfileNotReady", "soc2profilenotready"))).
		WithPanel(graph(28, "Heartbeat", "Time since each profile's last successful evaluation (the oldest heartbeat any series gives); above 30 minutes alert SOC2OperatorHeartbeatMissing fires.").
			WithTarget(query("A", `time() - min by (profile) (soc2_operator_last_evaluation_timestamp_seconds{`+byProfile+`})`, "{{profile}}")).
			Unit("s").Min(0).Span(12).
			Thresholds(thresholds(nil, "green", 1800.0, "red")).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine)).
			Links(runbook("SOC2OperatorHeartbeatMissing", "soc2operatorheartbeatmissing")))
	return b
}
