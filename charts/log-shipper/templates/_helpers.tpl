{{- define "log-shipper.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "log-shipper.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "log-shipper.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "log-shipper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: logging
{{- end -}}

{{- define "log-shipper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "log-shipper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
