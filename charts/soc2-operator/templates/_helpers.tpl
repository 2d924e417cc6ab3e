{{/*
The chart's name, or nameOverride.
*/}}
{{- define "soc2-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name when it already contains the chart's name
(so `helm install soc2-operator` gives the names config/default has), else release-chart.
*/}}
{{- define "soc2-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else if contains (include "soc2-operator.name" .) .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "soc2-operator.name" .) | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "soc2-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels of every object.
*/}}
{{- define "soc2-operator.labels" -}}
helm.sh/chart: {{ include "soc2-operator.chart" . }}
app.kubernetes.io/name: {{ include "soc2-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The labels that select the manager's pods.
*/}}
{{- define "soc2-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "soc2-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "soc2-operator.serviceAccountName" -}}
{{- include "soc2-operator.fullname" . }}-controller-manager
{{- end }}

{{/*
The manager's image: repository@digest when a digest is set, else repository:tag (tag defaults
to v and the appVersion).
*/}}
{{- define "soc2-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The webhook's Service, Secret and Certificate names.
*/}}
{{- define "soc2-operator.webhookService" -}}
{{- include "soc2-operator.fullname" . }}-webhook-service
{{- end }}
{{- define "soc2-operator.webhookCertSecret" -}}
{{- if .Values.webhook.certManager.enabled }}
{{- include "soc2-operator.fullname" . }}-webhook-server-cert
{{- else }}
{{- required "webhook.certSecret is required when webhook.enabled is true and webhook.certManager.enabled is false" .Values.webhook.certSecret }}
{{- end }}
{{- end }}
