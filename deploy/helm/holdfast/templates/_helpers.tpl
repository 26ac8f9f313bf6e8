{{/*
The chart name, or nameOverride.
*/}}
{{- define "holdfast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name, with the chart
name appended unless the release name already contains it. At most 63 characters.
*/}}
{{- define "holdfast.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The chart label value: name-version.
*/}}
{{- define "holdfast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels every object carries.
*/}}
{{- define "holdfast.labels" -}}
helm.sh/chart: {{ include "holdfast.chart" . }}
{{ include "holdfast.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the release's pods (a component label is added per Deployment).
*/}}
{{- define "holdfast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "holdfast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "holdfast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "holdfast.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "holdfast.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
"true" when the store is PostgreSQL, else empty.
*/}}
{{- define "holdfast.postgresql" -}}
{{- if or .Values.postgresql.existingSecret .Values.postgresql.url }}true{{ end }}
{{- end }}

{{/*
The Secret and key holding the PostgreSQL URL.
*/}}
{{- define "holdfast.databaseSecretName" -}}
{{- if .Values.postgresql.existingSecret }}
{{- .Values.postgresql.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "holdfast.fullname" .) }}
{{- end }}
{{- end }}

{{- define "holdfast.databaseSecretKey" -}}
{{- if .Values.postgresql.existingSecret }}
{{- required "postgresql.existingSecretKey must name the key of the URL in postgresql.existingSecret" .Values.postgresql.existingSecretKey }}
{{- else }}database-url{{ end }}
{{- end }}

{{/*
Settings that cannot work together stop the render.
*/}}
{{- define "holdfast.validate" -}}
{{- if and .Values.workers.enabled (not (include "holdfast.postgresql" .)) }}
{{- fail "workers.enabled=true needs PostgreSQL: set postgresql.existingSecret (or postgresql.url). The SQLite store cannot be shared between pods." }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled=true needs tls.secretName: a kubernetes.io/tls Secret with tls.crt and tls.key." }}
{{- end }}
{{- end }}

{{/*
The config file's path inside the containers.
*/}}
{{- define "holdfast.configPath" -}}
/etc/holdfast/holdfast.toml
{{- end }}

{{/*
The arguments both Deployments pass to `holdfast server`, after the mode-specific ones.
*/}}
{{- define "holdfast.commonArgs" -}}
- --data-dir
- /var/lib/holdfast
- --cache-dir
- /var/cache/holdfast
- --config
- {{ include "holdfast.configPath" . }}
- --scan-interval
- {{ .Values.server.scanInterval | quote }}
{{- with .Values.server.logLevel }}
- --log-level
- {{ . | quote }}
{{- end }}
{{- if .Values.server.skipQuay }}
- --skip-quay
{{- end }}
{{- with .Values.server.cacheUrl }}
- --cache-url
- {{ . | quote }}
{{- end }}
{{- with .Values.server.reportDir }}
- --report-dir
- {{ . | quote }}
{{- end }}
{{- with .Values.server.vulnDb }}
- --db
- {{ . | quote }}
{{- end }}
{{- end }}

{{/*
The environment of every holdfast container.
*/}}
{{- define "holdfast.env" -}}
- name: XDG_CACHE_HOME
  value: /var/cache
{{- if include "holdfast.postgresql" . }}
- name: HOLDFAST_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "holdfast.databaseSecretName" . }}
      key: {{ include "holdfast.databaseSecretKey" . }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
The volume mounts of every holdfast container.
*/}}
{{- define "holdfast.volumeMounts" -}}
- name: data
  mountPath: /var/lib/holdfast
- name: cache
  mountPath: /var/cache/holdfast
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /etc/holdfast
  readOnly: true
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/holdfast-tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
The volumes of every pod; the data volume is the SQLite claim only on the API server
(`dataClaim` true), an emptyDir everywhere else.
*/}}
{{- define "holdfast.volumes" -}}
{{- $root := .root -}}
- name: data
{{- if .dataClaim }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-data" (include "holdfast.fullname" $root)) $root.Values.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: cache
  emptyDir:
    sizeLimit: {{ $root.Values.cache.sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $root.Values.cache.tmpSizeLimit }}
- name: config
  configMap:
    name: {{ include "holdfast.fullname" $root }}
{{- if $root.Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ $root.Values.tls.secretName }}
{{- end }}
{{- end }}

{{/*
Scheduling and pod-level settings shared by both Deployments.
*/}}
{{- define "holdfast.podCommon" -}}
serviceAccountName: {{ include "holdfast.serviceAccountName" . }}
automountServiceAccountToken: true
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The read-only rules a cluster scan needs: list the objects it inventories, get by name
the owners it resolves and the pull secrets it reads. Never list or watch secrets.
*/}}
{{- define "holdfast.rbacRules" -}}
- apiGroups: [""]
  resources: ["pods", "services", "endpoints"]
  verbs: ["get", "list"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "list"]
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["serviceaccounts", "secrets"]
  verbs: ["get"]
{{- end }}
