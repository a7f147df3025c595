{{- define "fidelity.labels" -}}
app.kubernetes.io/name: fidelity
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "fidelity.selector" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
