{{/*
Named templates of the chart. test/deploy/render-helm.ts renders them without helm: keep to the
subset it knows (its header lists it); it fails on anything else.
*/}}

{{/* Name of every object of the release: fullnameOverride, else the release name. */}}
{{- define "cubestream.fullname" -}}
{{- .Values.fullnameOverride | default .Release.Name -}}
{{- end -}}

{{/* Labels that select the release's pods (Deployment, Service, PodDisruptionBudget, ServiceMonitor). */}}
{{- define "cubestream.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "cubestream.labels" -}}
{{ include "cubestream.selectorLabels" . }}
app.kubernetes.io/component: detector
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* The Secret with metrics-token, viewer-token and mqtt-password: an existing one, or the chart's. */}}
{{- define "cubestream.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "cubestream.fullname" .) -}}
{{- end -}}

{{/* The run config: values' config, else files/production.yaml (a copy of configs/run/production.yaml). */}}
{{- define "cubestream.runConfig" -}}
{{- .Values.config | default (.Files.Get "files/production.yaml") -}}
{{- end -}}

{{/* The model bundle's PersistentVolumeClaim: an existing one, or the chart's. */}}
{{- define "cubestream.modelClaim" -}}
{{- .Values.model.bundle.existingClaim | default (printf "%s-model" (include "cubestream.fullname" .)) -}}
{{- end -}}
