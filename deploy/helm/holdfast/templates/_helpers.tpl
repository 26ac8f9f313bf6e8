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
Scheduling and pod-level settings shared by the API server and the workers.
*/}}
{{- define "holdfast.podCommon" -}}
serviceAccountName: {{ include "holdfast.serviceAccountName" . }}
automountServiceAccountToken: true
{{ include "holdfast.podShared" . | trim }}
{{- end }}

{{/*
Pull secrets, security context and scheduling of every pod (the webhook's too).
*/}}
{{- define "holdfast.podShared" -}}
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

{{/*
The admission webhook's name (Deployment, Service, ConfigMap, ServiceAccount and the
cluster-wide objects): the full name, cut so that the suffix always fits in 63.
*/}}
{{- define "holdfast.admission.fullname" -}}
{{- printf "%s-admission" (include "holdfast.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}

{{/*
The ServiceAccount the webhook runs as: its own when the chart creates accounts, else
serviceAccount.name (or "default").
*/}}
{{- define "holdfast.admission.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- include "holdfast.admission.fullname" . }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Service's DNS names, which the serving certificate is signed for; the API server
calls the first one.
*/}}
{{- define "holdfast.admission.dnsNames" -}}
{{- $svc := include "holdfast.admission.fullname" . -}}
- {{ printf "%s.%s.svc" $svc .Release.Namespace }}
- {{ printf "%s.%s.svc.cluster.local" $svc .Release.Namespace }}
{{- end }}

{{/*
The kubernetes.io/tls Secret the webhook serves from: the user's, or the one the chart
(or cert-manager) writes.
*/}}
{{- define "holdfast.admission.tlsSecretName" -}}
{{- if .Values.admission.tls.existingSecret }}
{{- .Values.admission.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "holdfast.admission.fullname" .) }}
{{- end }}
{{- end }}

{{/*
Namespaces the webhook never sees: its own (its pods must start while it is down) and
kube-system, then admission.excludeNamespaces.
*/}}
{{- define "holdfast.admission.excludedNamespaces" -}}
{{- concat (list .Release.Namespace "kube-system") .Values.admission.excludeNamespaces | uniq | toJson }}
{{- end }}

{{/*
Settings of the webhook that cannot work stop the render. The policy is parsed here
(holdfast refuses to start on a policy it cannot read, and a webhook that cannot start
blocks every pod it covers under failurePolicy Fail) and must have a container_create
policy; its [holdfast] timeout must end before the API server gives up on the call
(timeoutSeconds), else holdfast's fail_mode never gets to answer.
*/}}
{{- define "holdfast.admission.validate" -}}
{{- $a := .Values.admission }}
{{- $seconds := int $a.timeoutSeconds }}
{{- if or (lt $seconds 1) (gt $seconds 30) }}
{{- fail (printf "admission.timeoutSeconds is %v; the API server takes 1 to 30." $a.timeoutSeconds) }}
{{- end }}
{{- if not (has $a.failurePolicy (list "Fail" "Ignore")) }}
{{- fail (printf "admission.failurePolicy is %q; expected Fail or Ignore." $a.failurePolicy) }}
{{- end }}
{{- if lt (int $a.replicas) 1 }}
{{- fail "admission.replicas must be at least 1." }}
{{- end }}
{{- if and $a.certManager.enabled $a.tls.existingSecret }}
{{- fail "admission.certManager.enabled and admission.tls.existingSecret are two TLS sources: set one." }}
{{- end }}
{{- if and $a.tls.existingSecret (not $a.caBundle) }}
{{- fail "admission.tls.existingSecret needs admission.caBundle: the base64 PEM of the CA that signed its tls.crt." }}
{{- end }}
{{- if and $a.caBundle (not $a.tls.existingSecret) }}
{{- fail "admission.caBundle is only used with admission.tls.existingSecret (the chart's own and cert-manager's certificates bring their CA)." }}
{{- end }}
{{- if and $a.certManager.enabled (not $a.certManager.issuerRef.name) }}
{{- fail "admission.certManager.enabled=true needs admission.certManager.issuerRef.name." }}
{{- end }}
{{- if not $a.existingPolicySecret }}
{{- $policy := fromToml $a.policy }}
{{- if hasKey $policy "Error" }}
{{- fail (printf "admission.policy is not valid TOML: %s" $policy.Error) }}
{{- end }}
{{- $create := false }}
{{- range $policy.policies }}
{{- if eq (toString .action) "container_create" }}{{ $create = true }}{{ end }}
{{- end }}
{{- if not $create }}
{{- fail "admission.policy has no [[policies]] entry with action = \"container_create\": the webhook would allow every pod." }}
{{- end }}
{{- $timeout := toString (dig "holdfast" "timeout" "20s" $policy) | trim }}
{{- $m := regexFindAll "^([0-9]+) *(ms|s|m)$" $timeout 1 }}
{{- if not $m }}
{{- fail (printf "admission.policy: [holdfast] timeout = %q; the chart checks it against admission.timeoutSeconds and takes whole ms, s or m (e.g. \"8s\")." $timeout) }}
{{- end }}
{{- $n := int (regexFind "^[0-9]+" $timeout) }}
{{- $unit := trim (regexReplaceAll "^[0-9]+" $timeout "") }}
{{- $ms := ternary $n (ternary (mul $n 1000) (mul $n 60000) (eq $unit "s")) (eq $unit "ms") }}
{{- if ge (int $ms) (mul $seconds 1000) }}
{{- $what := ternary (printf "[holdfast] timeout = %q" $timeout) "the default [holdfast] timeout (20s, none is set)" (hasKey ($policy.holdfast | default dict) "timeout") }}
{{- fail (printf "admission.policy: %s must be below admission.timeoutSeconds (%d s), or the API server gives up first and failurePolicy answers instead of fail_mode." $what $seconds) }}
{{- end }}
{{- end }}
{{- end }}
