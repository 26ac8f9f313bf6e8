#!/usr/bin/env bash
# Checks the deployment files under deploy/ without a cluster or the network:
#  - hadolint on deploy/docker/Dockerfile;
#  - helm lint (strict) of the chart with its default values and with
#    deploy/helm/holdfast/ci/postgres-workers-values.yaml and ci/admission-values.yaml;
#  - helm template of those three value sets, of a fourth (PostgreSQL from
#    postgresql.url, HTTPS) and of two more admission webhooks (a cert-manager
#    Certificate; an existing TLS Secret with its caBundle and the policy from a Secret),
#    and kubectl kustomize of deploy/kubernetes; the chart's NOTES.txt (through
#    helm install --dry-run=client, which needs no cluster) tells how to make a token;
#  - every rendered object validated by kubernetes-validate against the Kubernetes
#    $K8S_VERSION schemas in strict mode (unknown fields are errors); the custom
#    resources, the Prometheus Operator ServiceMonitor and the cert-manager Certificate,
#    have no schema there and get a structural check here instead; any other kind without
#    a schema is an error;
#  - what each render must and must not contain (PVC, workers, database Secret, RBAC
#    that never lists secrets; an admission webhook only where enabled), that the
#    kustomize base is the chart's default render, and that workers without PostgreSQL
#    or a webhook that cannot work stop the render;
#  - the admission webhook: one ValidatingWebhookConfiguration calling the rendered
#    Service on /validate with a caBundle (or cert-manager's CA injection), the
#    generated certificate signed by that CA for the Service's DNS names (openssl), RBAC
#    of `get` only, and a policy file that parses (tomllib) with a container_create
#    policy, known keys, logs on writable volumes and a deadline below timeoutSeconds.
# Tools: helm, kubectl, kubernetes-validate, hadolint (scripts/setup-test-deps.sh),
# python3 and openssl.
# Run from anywhere; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=${K8S_VERSION:-1.33.0}
CHART=deploy/helm/holdfast
CI_VALUES=$CHART/ci/postgres-workers-values.yaml
ADMISSION_VALUES=$CHART/ci/admission-values.yaml
RELEASE=holdfast
NAMESPACE=holdfast

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ncheck-deploy: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in helm kubectl kubernetes-validate hadolint python3 openssl; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool is not installed; scripts/setup-test-deps.sh installs it"
done
python3 -c 'import yaml, tomllib' 2>/dev/null ||
  die "python3 lacks PyYAML (installed with kubernetes-validate) or tomllib (Python 3.11+)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step "tools"
echo "helm $(helm version --template '{{.Version}}')"
kubectl version --client 2>/dev/null | sed -n '1,2p'
echo "kubernetes-validate $(kubernetes-validate --version)"
hadolint --version

step "hadolint deploy/docker/Dockerfile"
hadolint --no-color deploy/docker/Dockerfile || die "hadolint deploy/docker/Dockerfile"
echo "hadolint: clean"

lint() {
  local label=$1; shift
  step "helm lint --strict ($label)"
  local log=$out/lint.log
  if ! helm lint --strict "$CHART" "$@" >"$log" 2>&1; then
    cat "$log"; die "helm lint ($label)"
  fi
  cat "$log"
  grep -q '1 chart(s) linted, 0 chart(s) failed' "$log" || die "helm lint ($label) did not pass"
  if grep -q '^\[\(WARNING\|ERROR\)\]' "$log"; then die "helm lint ($label) reported problems"; fi
}
lint "default values"
lint "$CI_VALUES" -f "$CI_VALUES"
lint "$ADMISSION_VALUES" -f "$ADMISSION_VALUES"

render() {
  local name=$1; shift
  local shown="$*"
  step "helm template $RELEASE $CHART --namespace $NAMESPACE ${shown//$out\//} > $name.yaml"
  helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" >"$out/$name.yaml" ||
    die "helm template ($name)"
  grep -E '^kind: ' "$out/$name.yaml" | sort | uniq -c
}
render default
render postgres-workers -f "$CI_VALUES"
render admission -f "$ADMISSION_VALUES"
render postgres-url --set postgresql.url=postgres://holdfast:secret@postgresql/holdfast \
  --set workers.enabled=true --set tls.enabled=true --set tls.secretName=holdfast-tls \
  --set serviceMonitor.enabled=true --set serviceAccount.create=false \
  --set serviceAccount.name=scanner --set persistence.enabled=false
render admission-cert-manager --set admission.enabled=true \
  --set admission.certManager.enabled=true --set admission.certManager.issuerRef.name=holdfast-ca \
  --set admission.certManager.issuerRef.kind=ClusterIssuer --set admission.replicas=1 \
  --set admission.failurePolicy=Ignore --set admission.rbac.create=false
# A CA of its own stands for the user's: the webhook configuration must carry it as is.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/user-ca.key" -out "$out/user-ca.crt" \
  -subj /CN=check-deploy-ca -days 1 >/dev/null 2>&1 || die "openssl req (a test CA)"
printf 'admission:\n  caBundle: %s\n' "$(base64 <"$out/user-ca.crt" | tr -d '\n')" >"$out/user-ca.yaml"
render admission-existing-secret --set admission.enabled=true \
  --set admission.tls.existingSecret=webhook-tls -f "$out/user-ca.yaml" \
  --set admission.existingPolicySecret=webhook-policy --set admission.excludeNamespaces='{ci,kube-system}' \
  --set serviceAccount.create=false --set serviceAccount.name=scanner

notes() {
  local label=$1 what=$2 want=$3; shift 3
  step "NOTES.txt ($label): $what"
  helm install "$RELEASE" "$CHART" --namespace "$NAMESPACE" --dry-run=client "$@" \
    >"$out/install.log" 2>&1 || { cat "$out/install.log"; die "helm install --dry-run=client ($label)"; }
  sed -n '/^NOTES:/,$p' "$out/install.log" >"$out/notes.txt"
  grep -F -- "$want" "$out/notes.txt" || { cat "$out/notes.txt"; die "NOTES.txt ($label) lacks: $want"; }
}
notes "default values" "the first admin token" "holdfast server token create --scope admin --name me --data-dir /var/lib/holdfast"
notes "$CI_VALUES" "the first admin token" "holdfast server token create --scope admin --name me --database-url" -f "$CI_VALUES"
notes "$ADMISSION_VALUES" "the webhook" "kubectl -n holdfast rollout status deploy/holdfast-admission" -f "$ADMISSION_VALUES"

step "kubectl kustomize deploy/kubernetes > kustomize.yaml"
kubectl kustomize deploy/kubernetes >"$out/kustomize.yaml" || die "kubectl kustomize"
grep -E '^kind: ' "$out/kustomize.yaml" | sort | uniq -c

step "workers.enabled=true without PostgreSQL must stop the render"
if helm template "$RELEASE" "$CHART" --set workers.enabled=true >"$out/fail.log" 2>&1; then
  die "the render with workers.enabled=true and SQLite succeeded"
fi
grep -F 'workers.enabled=true needs PostgreSQL' "$out/fail.log" ||
  { cat "$out/fail.log"; die "the render failed without the expected message"; }

step "tls.enabled=true without tls.secretName must stop the render"
if helm template "$RELEASE" "$CHART" --set tls.enabled=true >"$out/fail.log" 2>&1; then
  die "the render with tls.enabled=true and no Secret succeeded"
fi
grep -F 'tls.enabled=true needs tls.secretName' "$out/fail.log" ||
  { cat "$out/fail.log"; die "the render failed without the expected message"; }

# A webhook that could not start, or whose answer would come after the API server gave
# up, must not be installed: with failurePolicy Fail it would block every pod it covers.
must_fail() {
  local label=$1 want=$2; shift 2
  step "admission: $label must stop the render"
  if helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --set admission.enabled=true \
      "$@" >"$out/fail.log" 2>&1; then
    die "the render with $* succeeded"
  fi
  grep -F -- "$want" "$out/fail.log" ||
    { cat "$out/fail.log"; die "the render failed without: $want"; }
}
must_fail "a policy timeout of 8s with timeoutSeconds 8" \
  'admission.policy: [holdfast] timeout = "8s" must be below admission.timeoutSeconds (8 s)' \
  --set admission.timeoutSeconds=8
must_fail "a policy without a timeout (20s)" 'the default [holdfast] timeout (20s, none is set) must be below' \
  --set-string admission.policy='[[policies]]
action = "container_create"'
must_fail "a policy without container_create" 'admission.policy has no [[policies]] entry with action = "container_create"' \
  --set-string admission.policy='[[policies]]
action = "image_create"
[holdfast]
timeout = "5s"'
must_fail "a policy that is not TOML" 'admission.policy is not valid TOML' --set-string admission.policy='[holdfast'
must_fail "timeoutSeconds 31" 'admission.timeoutSeconds is 31; the API server takes 1 to 30' \
  --set admission.timeoutSeconds=31
must_fail "an existing TLS Secret without caBundle" 'admission.tls.existingSecret needs admission.caBundle' \
  --set admission.tls.existingSecret=webhook-tls
must_fail "cert-manager without an issuer" 'admission.certManager.enabled=true needs admission.certManager.issuerRef.name' \
  --set admission.certManager.enabled=true

# Splits each render: built-in kinds into NAME.builtin.yaml for kubernetes-validate; the
# ServiceMonitor is checked here against the Prometheus Operator's v1 fields, the
# Certificate against cert-manager's v1 fields.
step "custom resources (structural check) and the split for kubernetes-validate"
python3 - "$out" default postgres-workers postgres-url admission admission-cert-manager \
    admission-existing-secret kustomize <<'PY'
import re, sys, yaml

out, names = sys.argv[1], sys.argv[2:]
CUSTOM = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("cert-manager.io/v1", "Certificate")}
SM_SPEC = {"selector", "endpoints", "namespaceSelector", "jobLabel", "targetLabels",
           "podTargetLabels", "sampleLimit", "targetLimit", "attachMetadata"}
SM_ENDPOINT = {"port", "targetPort", "path", "scheme", "params", "interval",
               "scrapeTimeout", "tlsConfig", "bearerTokenSecret", "authorization",
               "honorLabels", "honorTimestamps", "basicAuth", "oauth2", "metricRelabelings",
               "relabelings", "proxyUrl", "followRedirects", "enableHttp2", "filterRunning"}

def fail(msg):
    sys.exit(f"check-deploy: FAILED: {msg}")

def check_service_monitor(sm, docs, name):
    where = f"{name}: ServiceMonitor {sm.get('metadata', {}).get('name')}"
    meta, spec = sm.get("metadata") or {}, sm.get("spec") or {}
    if set(sm) - {"apiVersion", "kind", "metadata", "spec"}:
        fail(f"{where}: unknown top-level fields {sorted(set(sm) - {'apiVersion', 'kind', 'metadata', 'spec'})}")
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        fail(f"{where}: no metadata.name")
    if set(spec) - SM_SPEC:
        fail(f"{where}: unknown spec fields {sorted(set(spec) - SM_SPEC)}")
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    if not labels or not all(isinstance(v, str) for v in labels.values()):
        fail(f"{where}: spec.selector.matchLabels must be a non-empty map of strings")
    endpoints = spec.get("endpoints")
    if not isinstance(endpoints, list) or not endpoints:
        fail(f"{where}: spec.endpoints must be a non-empty list")
    services = [d for d in docs if d["kind"] == "Service"
                and labels.items() <= (d["metadata"].get("labels") or {}).items()]
    if len(services) != 1:
        fail(f"{where}: its selector matches {len(services)} Services, not 1")
    ports = {p.get("name") for p in services[0]["spec"]["ports"]}
    for ep in endpoints:
        if set(ep) - SM_ENDPOINT:
            fail(f"{where}: unknown endpoint fields {sorted(set(ep) - SM_ENDPOINT)}")
        if ep.get("port") not in ports:
            fail(f"{where}: endpoint port {ep.get('port')!r} is not a port of Service "
                 f"{services[0]['metadata']['name']} ({sorted(ports)})")
        if ep.get("path") != "/metrics":
            fail(f"{where}: endpoint path is {ep.get('path')!r}, not /metrics")
        if ep.get("scheme", "http") not in ("http", "https"):
            fail(f"{where}: scheme {ep.get('scheme')!r}")
        for key in ("interval", "scrapeTimeout"):
            if key in ep and not str(ep[key])[-1:] in ("s", "m", "h"):
                fail(f"{where}: {key} {ep[key]!r} is not a duration")
    print(f"{where}: selects Service {services[0]['metadata']['name']}, "
          f"scrapes {', '.join(e['port'] + e['path'] for e in endpoints)}")

# cert-manager's Certificate (cert-manager.io/v1): its spec fields and key usages.
CERT_SPEC = {"subject", "literalSubject", "commonName", "duration", "renewBefore",
             "renewBeforePercentage", "dnsNames", "ipAddresses", "uris", "otherNames",
             "emailAddresses", "secretName", "secretTemplate", "keystores", "issuerRef",
             "isCA", "usages", "privateKey", "encodeUsagesInRequest", "revisionHistoryLimit",
             "additionalOutputFormats", "nameConstraints"}
CERT_USAGES = {"signing", "digital signature", "content commitment", "key encipherment",
               "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
               "decipher only", "any", "server auth", "client auth", "code signing",
               "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user",
               "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc"}
GO_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$")

def go_seconds(text):
    unit = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * unit[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text))

def check_certificate(cert, name):
    where = f"{name}: Certificate {cert.get('metadata', {}).get('name')}"
    meta, spec = cert.get("metadata") or {}, cert.get("spec") or {}
    if set(cert) - {"apiVersion", "kind", "metadata", "spec"}:
        fail(f"{where}: unknown top-level fields {sorted(set(cert) - {'apiVersion', 'kind', 'metadata', 'spec'})}")
    if not isinstance(meta.get("name"), str) or not meta["name"]:
        fail(f"{where}: no metadata.name")
    if set(spec) - CERT_SPEC:
        fail(f"{where}: unknown spec fields {sorted(set(spec) - CERT_SPEC)}")
    if not isinstance(spec.get("secretName"), str) or not spec["secretName"]:
        fail(f"{where}: spec.secretName must be a non-empty string")
    dns = spec.get("dnsNames")
    if not isinstance(dns, list) or not dns or not all(isinstance(n, str) and n for n in dns):
        fail(f"{where}: spec.dnsNames must be a non-empty list of names")
    issuer = spec.get("issuerRef") or {}
    if set(issuer) - {"name", "kind", "group"} or not isinstance(issuer.get("name"), str) \
            or not issuer["name"] or (issuer.get("kind", "Issuer") not in ("Issuer", "ClusterIssuer")
                                      and issuer.get("group", "cert-manager.io") == "cert-manager.io"):
        fail(f"{where}: spec.issuerRef {issuer}")
    if set(spec.get("usages", [])) - CERT_USAGES:
        fail(f"{where}: unknown usages {sorted(set(spec['usages']) - CERT_USAGES)}")
    for key in ("duration", "renewBefore"):
        if key in spec and not GO_DURATION.match(str(spec[key])):
            fail(f"{where}: {key} {spec[key]!r} is not a Go duration")
    if "duration" in spec and "renewBefore" in spec and \
            go_seconds(spec["renewBefore"]) >= go_seconds(spec["duration"]):
        fail(f"{where}: renewBefore {spec['renewBefore']} is not shorter than duration {spec['duration']}")
    print(f"{where}: Secret {spec['secretName']} for {', '.join(dns)} from "
          f"{issuer.get('kind', 'Issuer')} {issuer['name']}")

for name in names:
    with open(f"{out}/{name}.yaml") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if not docs:
        fail(f"{name}: rendered nothing")
    builtin = []
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) == ("cert-manager.io/v1", "Certificate"):
            check_certificate(d, name)
        elif (d.get("apiVersion"), d.get("kind")) in CUSTOM:
            check_service_monitor(d, docs, name)
        else:
            builtin.append(d)
    with open(f"{out}/{name}.builtin.yaml", "w") as f:
        yaml.safe_dump_all(builtin, f, sort_keys=False)
    print(f"{name}: {len(docs)} objects, {len(builtin)} of built-in kinds")
PY

for name in default postgres-workers postgres-url admission admission-cert-manager \
    admission-existing-secret kustomize; do
  step "kubernetes-validate --strict -k $K8S_VERSION $name"
  log=$out/validate.log
  if ! kubernetes-validate --strict -k "$K8S_VERSION" "$out/$name.builtin.yaml" >"$log" 2>&1; then
    cat "$log"; die "kubernetes-validate ($name)"
  fi
  sed "s|$out/||" "$log"
  # A kind it has no schema for is only a warning there: here it is an error.
  if grep -qv '^INFO ' "$log"; then die "kubernetes-validate ($name) reported more than passes"; fi
  want=$(python3 -c 'import sys, yaml; print(sum(1 for d in yaml.safe_load_all(open(sys.argv[1])) if d))' \
    "$out/$name.builtin.yaml")
  got=$(grep -c '^INFO .* passed for resource ' "$log" || true)
  [ "$got" = "$want" ] || die "kubernetes-validate ($name): $got of $want objects passed"
done

step "what the renders contain"
python3 - "$out" "$RELEASE" <<'PY'
import sys, tomllib, yaml

out, release = sys.argv[1], sys.argv[2]

def load(name):
    with open(f"{out}/{name}.yaml") as f:
        return [d for d in yaml.safe_load_all(f) if d]

def fail(msg):
    sys.exit(f"check-deploy: FAILED: {msg}")

def ok(msg):
    print(f"ok: {msg}")

def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]

def component(d):
    return (d["metadata"].get("labels") or {}).get("app.kubernetes.io/component")

def deployment(docs, comp):
    found = [d for d in of_kind(docs, "Deployment") if component(d) == comp]
    return found[0] if found else None

def container(dep):
    return dep["spec"]["template"]["spec"]["containers"][0]

def env(dep, name):
    return next((e for e in container(dep).get("env", []) if e["name"] == name), None)

def data_volume(dep):
    vols = dep["spec"]["template"]["spec"]["volumes"]
    return next(v for v in vols if v["name"] == "data")

def arg(dep, flag):
    args = container(dep)["args"]
    return args[args.index(flag) + 1] if flag in args else None

# The least-privilege rules, as (apiGroup, resource) -> verbs.
EXPECTED_RULES = {
    ("", "pods"): {"get", "list"}, ("", "services"): {"get", "list"},
    ("", "endpoints"): {"get", "list"}, ("discovery.k8s.io", "endpointslices"): {"get", "list"},
    ("networking.k8s.io", "ingresses"): {"get", "list"},
    ("gateway.networking.k8s.io", "httproutes"): {"get", "list"},
    ("apps", "replicasets"): {"get"}, ("batch", "jobs"): {"get"},
    ("", "serviceaccounts"): {"get"}, ("", "secrets"): {"get"},
}

def granted(role):
    rules = {}
    for r in role.get("rules", []):
        for key in ("nonResourceURLs", "resourceNames"):
            if key in r:
                fail(f"{role['kind']} {role['metadata']['name']}: unexpected {key}")
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                rules.setdefault((g, res), set()).update(r.get("verbs", []))
    return rules

# The checks of every render. The admission webhook's objects (component admission) are
# checked on their own in the next step; here only that they are there when `admission`
# and nowhere else, and that every Deployment and role obeys the same rules.
def check_common(name, docs, admission=False):
    hooks = of_kind(docs, "ValidatingWebhookConfiguration")
    if of_kind(docs, "MutatingWebhookConfiguration"):
        fail(f"{name}: has a mutating admission webhook")
    webhook_objs = [d for d in docs if component(d) == "admission"]
    if not admission and (hooks or webhook_objs):
        fail(f"{name}: has admission webhook objects: "
             f"{sorted((d['kind'], d['metadata']['name']) for d in hooks + webhook_objs)}")
    if admission and (len(hooks) != 1 or component(hooks[0]) != "admission"):
        fail(f"{name}: {len(hooks)} ValidatingWebhookConfigurations, not the chart's one")
    for role in of_kind(docs, "ClusterRole") + of_kind(docs, "Role"):
        for (g, res), verbs in granted(role).items():
            if "*" in verbs or res == "*" or g == "*":
                fail(f"{name}: {role['kind']} grants a wildcard: {g}/{res} {sorted(verbs)}")
            if res == "secrets" and verbs - {"get"}:
                fail(f"{name}: {role['kind']} grants {sorted(verbs)} on secrets (only get)")
    for dep in of_kind(docs, "Deployment"):
        c = container(dep)
        sc, psc = c["securityContext"], dep["spec"]["template"]["spec"]["securityContext"]
        if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem")
                and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
                and (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
                == "RuntimeDefault"):
            fail(f"{name}: Deployment {dep['metadata']['name']} is not locked down: {sc}")
    docs = [d for d in docs if component(d) != "admission"]
    roles = of_kind(docs, "ClusterRole") + of_kind(docs, "Role")
    for role in roles:
        rules = granted(role)
        if rules != EXPECTED_RULES:
            fail(f"{name}: {role['kind']} rules are {rules}, not the least-privilege set")
        ok(f"{name}: {role['kind']} {role['metadata']['name']}: exactly the least-privilege "
           f"rules; secrets: {sorted(rules[('', 'secrets')])} (never list or watch)")
    for dep in of_kind(docs, "Deployment"):
        c = container(dep)
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        for path in ("/tmp", "/var/cache/holdfast", "/var/lib/holdfast", "/etc/holdfast"):
            if path not in mounts:
                fail(f"{name}: Deployment {dep['metadata']['name']} mounts nothing at {path}")
        if c["args"][0] != "server":
            fail(f"{name}: Deployment {dep['metadata']['name']} does not run `holdfast server`")
    server = deployment(docs, "server")
    if server is None:
        fail(f"{name}: no server Deployment")
    if server["spec"]["replicas"] != 1:
        fail(f"{name}: the server Deployment has {server['spec']['replicas']} replicas")
    probes = {p: container(server)[p]["httpGet"]["path"]
              for p in ("livenessProbe", "readinessProbe", "startupProbe")}
    if probes != {"livenessProbe": "/healthz", "readinessProbe": "/readyz",
                  "startupProbe": "/healthz"}:
        fail(f"{name}: server probes {probes}")
    if arg(server, "--listen") != "0.0.0.0:8080" or arg(server, "--config") != "/etc/holdfast/holdfast.toml":
        fail(f"{name}: server --listen/--config: {container(server)['args']}")
    services = of_kind(docs, "Service")
    if len(services) != 1 or services[0]["spec"]["type"] != "ClusterIP" or \
            [p["port"] for p in services[0]["spec"]["ports"]] != [8080]:
        fail(f"{name}: expected one ClusterIP Service on 8080")
    cms = of_kind(docs, "ConfigMap")
    if len(cms) != 1:
        fail(f"{name}: expected one ConfigMap")
    config = tomllib.loads(cms[0]["data"]["holdfast.toml"])
    schedules = config.get("server", {}).get("schedules", [])
    for s in schedules:
        if set(s) - {"name", "target", "spec", "scanners"} or not {"name", "target"} <= set(s):
            fail(f"{name}: schedule {s} has unknown or missing keys")
    ok(f"{name}: server Deployment locked down, probes /healthz and /readyz, "
       f"config parses ({len(schedules)} schedules)")
    return server, schedules

# The default render: SQLite on a PVC, no workers, ClusterRole.
docs = load("default")
server, schedules = check_common("default", docs)
pvcs = of_kind(docs, "PersistentVolumeClaim")
if len(pvcs) != 1 or data_volume(server).get("persistentVolumeClaim", {}).get("claimName") != pvcs[0]["metadata"]["name"]:
    fail("default: the server's /var/lib/holdfast is not the chart's PersistentVolumeClaim")
if deployment(docs, "worker") or len(of_kind(docs, "Deployment")) != 1:
    fail("default: renders a worker Deployment")
if env(server, "HOLDFAST_DATABASE_URL") or of_kind(docs, "Secret"):
    fail("default: has a database URL or Secret")
if server["spec"]["strategy"]["type"] != "Recreate":
    fail("default: the SQLite server must be replaced with the Recreate strategy")
if not of_kind(docs, "ClusterRole") or of_kind(docs, "Role"):
    fail("default: expected a ClusterRole and no Role")
for kind in ("ServiceMonitor", "Ingress"):
    if of_kind(docs, kind):
        fail(f"default: renders a {kind}")
if schedules:
    fail("default: has schedules")
ok("default: PVC holdfast-data at /var/lib/holdfast, no worker Deployment, no database Secret, "
   "ClusterRole + ClusterRoleBinding, no ServiceMonitor or Ingress, no admission webhook")

# PostgreSQL from existingSecret, 3 workers, namespaced RBAC, cluster scan, monitoring.
docs = load("postgres-workers")
server, schedules = check_common("postgres-workers", docs)
worker = deployment(docs, "worker")
if worker is None:
    fail("postgres-workers: no worker Deployment")
if worker["spec"]["replicas"] != 3:
    fail(f"postgres-workers: {worker['spec']['replicas']} worker replicas, not 3")
if "--worker" not in container(worker)["args"] or arg(worker, "--workers") != "4":
    fail(f"postgres-workers: worker args {container(worker)['args']}")
for dep in (server, worker):
    e = env(dep, "HOLDFAST_DATABASE_URL")
    ref = (e or {}).get("valueFrom", {}).get("secretKeyRef")
    if ref != {"name": "holdfast-postgresql", "key": "url"}:
        fail(f"postgres-workers: {dep['metadata']['name']} HOLDFAST_DATABASE_URL is {e}")
    if "persistentVolumeClaim" in data_volume(dep) or "emptyDir" not in data_volume(dep):
        fail(f"postgres-workers: {dep['metadata']['name']} keeps its data on a claim")
if of_kind(docs, "PersistentVolumeClaim") or of_kind(docs, "Secret"):
    fail("postgres-workers: renders a PersistentVolumeClaim or its own Secret")
if of_kind(docs, "ClusterRole") or of_kind(docs, "ClusterRoleBinding") or \
        len(of_kind(docs, "Role")) != 1 or len(of_kind(docs, "RoleBinding")) != 1:
    fail("postgres-workers: expected a Role and RoleBinding only")
cluster = [s for s in schedules if s["target"] == "cluster:in-cluster"]
if cluster != [{"name": "this-cluster", "target": "cluster:in-cluster", "spec": "every 12h"}]:
    fail(f"postgres-workers: the cluster schedule is {cluster}")
for kind in ("ServiceMonitor", "Ingress"):
    if len(of_kind(docs, kind)) != 1:
        fail(f"postgres-workers: expected one {kind}")
ok("postgres-workers: worker Deployment with 3 replicas (`server --worker`), "
   "HOLDFAST_DATABASE_URL from Secret holdfast-postgresql key url, no PVC, Role + RoleBinding, "
   "cluster schedule, ServiceMonitor, Ingress")

# PostgreSQL from postgresql.url: the chart's Secret; HTTPS.
docs = load("postgres-url")
server, _ = check_common("postgres-url", docs)
secrets = of_kind(docs, "Secret")
if len(secrets) != 1 or "database-url" not in secrets[0].get("stringData", {}):
    fail("postgres-url: expected the chart's database Secret")
for dep in (server, deployment(docs, "worker")):
    ref = env(dep, "HOLDFAST_DATABASE_URL")["valueFrom"]["secretKeyRef"]
    if ref != {"name": secrets[0]["metadata"]["name"], "key": "database-url"}:
        fail(f"postgres-url: {dep['metadata']['name']} reads the URL from {ref}")
    if dep["spec"]["template"]["spec"]["serviceAccountName"] != "scanner":
        fail("postgres-url: serviceAccount.name is not used")
if of_kind(docs, "PersistentVolumeClaim") or of_kind(docs, "ServiceAccount"):
    fail("postgres-url: renders a PersistentVolumeClaim or a ServiceAccount")
if container(server)["readinessProbe"]["httpGet"]["scheme"] != "HTTPS" or \
        arg(server, "--tls-cert") != "/etc/holdfast-tls/tls.crt" or \
        of_kind(docs, "ServiceMonitor")[0]["spec"]["endpoints"][0]["scheme"] != "https":
    fail("postgres-url: TLS is not wired through args, probes and the ServiceMonitor")
ok("postgres-url: the chart's Secret feeds HOLDFAST_DATABASE_URL, HTTPS probes and scrape")

# The admission renders: the rest of the chart as without the webhook, and exactly one
# ValidatingWebhookConfiguration (the webhook itself is checked in the next step).
for name in ("admission", "admission-cert-manager", "admission-existing-secret"):
    check_common(name, load(name), admission=True)

# The kustomize base is the chart's default render, less Helm's own labels.
HELM_ONLY = {"helm.sh/chart", "app.kubernetes.io/version", "app.kubernetes.io/managed-by"}

def normal(d):
    d = yaml.safe_load(yaml.safe_dump(d))
    meta = d.pop("metadata")
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in HELM_ONLY}
    if d["kind"] == "Deployment":
        d["spec"]["template"]["metadata"].pop("annotations", None)
    return (d["kind"], meta["name"]), {"labels": labels, **d}

helm_objs = dict(normal(d) for d in load("default"))
kust_docs = load("kustomize")
kust_objs = dict(normal(d) for d in kust_docs if d["kind"] != "Namespace")
if set(helm_objs) != set(kust_objs):
    fail(f"kustomize: objects {sorted(kust_objs)} differ from the chart's {sorted(helm_objs)}")
for key in helm_objs:
    if helm_objs[key] != kust_objs[key]:
        fail(f"kustomize: {key} differs from the chart's default render:\n"
             f"chart:     {helm_objs[key]}\nkustomize: {kust_objs[key]}")
namespaced = [d for d in kust_docs if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")]
if any(d["metadata"].get("namespace") != "holdfast" for d in namespaced) or \
        not any(d["kind"] == "Namespace" and d["metadata"]["name"] == "holdfast" for d in kust_docs):
    fail("kustomize: not everything is in namespace holdfast")
ok(f"kustomize: the same {len(kust_objs)} objects as the chart's default render "
   f"(release {release}), in namespace holdfast")
PY

# The webhook: what the API server is told (the ValidatingWebhookConfiguration) must
# reach the pods that serve it, with a certificate the API server trusts, and the pods
# must be able to start with their policy. In each admission render.
step "the admission webhook"
python3 - "$out" "$NAMESPACE" "$out/user-ca.crt" <<'PY'
import base64, re, subprocess, sys, tomllib, yaml

out, namespace, user_ca_path = sys.argv[1], sys.argv[2], sys.argv[3]

def fail(msg):
    sys.exit(f"check-deploy: FAILED: {msg}")

def ok(msg):
    print(f"ok: {msg}")

def load(name):
    with open(f"{out}/{name}.yaml") as f:
        return [d for d in yaml.safe_load_all(f) if d]

def component(d):
    return (d["metadata"].get("labels") or {}).get("app.kubernetes.io/component")

def one(docs, kind, where):
    found = [d for d in docs if d["kind"] == kind and component(d) == "admission"]
    if len(found) != 1:
        fail(f"{where}: {len(found)} {kind} objects of the webhook, not 1")
    return found[0]

def openssl(*args, data=None):
    r = subprocess.run(["openssl", *args], input=data, capture_output=True)
    if r.returncode != 0:
        shown = " ".join(a.replace(out + "/", "") for a in args)
        fail(f"openssl {shown}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout.decode()

def pem_certs(b64, what):
    try:
        pem = base64.b64decode(b64, validate=True).decode()
    except Exception as e:
        fail(f"{what} is not base64 PEM: {e}")
    if not re.fullmatch(r"(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?)+", pem):
        fail(f"{what} is not PEM certificates")
    openssl("x509", "-noout", data=pem.encode())
    return pem

# The keys `holdfast admission` accepts in its policy file: it refuses any other at start.
KNOWN = {
    "log": {"plugin_log_path", "auth_log_path", "report_log_path", "authz_log_path"},
    "listener": {"listener_addr"},
    "docker_auth": {"registry", "username", "password"},
    "holdfast": {"fail_mode", "timeout", "alert_webhook", "db", "cache_dir", "plugin_dirs",
                 "insecure_registries", "docker_host", "cache_ttl", "scan_timeout",
                 "weak_password_timeout", "log_uncovered", "max_parallel_scans"},
}
POLICY_KEYS = {"action", "enabled_plugins", "plugin_params", "plugin_paramas",
               "risk_level_filter", "block", "alert", "ignore_unfixed", "exceptions",
               "ignore_file", "allowed_registries", "require_digest", "max_image_age"}
UNITS = {"ms": 0.001, "msec": 0.001, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
         "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600,
         "hrs": 3600, "hour": 3600, "hours": 3600}

def seconds(text):
    parts = re.findall(r"\s*(\d+)\s*([a-z]+)", text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text) or \
            any(u not in UNITS for _, u in parts):
        fail(f"`{text}` is not a duration")
    return sum(int(n) * UNITS[u] for n, u in parts)

def under(path, mounts):
    return next((m for m in mounts if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")), None)

# The resources the webhook must cover, as (group, version, resource).
COVERED = {("", "v1", "pods"), ("apps", "v1", "deployments"), ("apps", "v1", "replicasets"),
           ("apps", "v1", "statefulsets"), ("apps", "v1", "daemonsets"),
           ("batch", "v1", "jobs"), ("batch", "v1", "cronjobs")}

# name: (TLS from, replicas, failurePolicy, timeoutSeconds, extra excluded namespaces,
#        policy from a Secret, RBAC)
CASES = {
    "admission": ("generated", 3, "Fail", 15, {"cert-manager", "monitoring"}, None, True),
    "admission-cert-manager": ("cert-manager", 1, "Ignore", 10, set(), None, False),
    "admission-existing-secret": ("existing", 2, "Fail", 10, {"ci"}, "webhook-policy", True),
}

for name, (tls_from, replicas, failure, timeout, extra_ns, policy_secret, rbac) in CASES.items():
    docs = load(name)
    hook_conf = one(docs, "ValidatingWebhookConfiguration", name)
    svc = one(docs, "Service", name)
    dep = one(docs, "Deployment", name)
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c["args"]
    flag = lambda f: args[args.index(f) + 1] if f in args else None
    mounts = c["volumeMounts"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    where = f"{name}: ValidatingWebhookConfiguration {hook_conf['metadata']['name']}"

    # The webhook configuration.
    hooks = hook_conf.get("webhooks") or []
    if len(hooks) != 1:
        fail(f"{where}: {len(hooks)} webhooks, not 1")
    h = hooks[0]
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){2,}", h["name"]):
        fail(f"{where}: webhook name {h['name']!r} is not a qualified name of three labels or more")
    expect = {"admissionReviewVersions": ["v1"], "sideEffects": "None", "matchPolicy": "Equivalent",
              "failurePolicy": failure, "timeoutSeconds": timeout}
    for key, want in expect.items():
        if h.get(key) != want:
            fail(f"{where}: {key} is {h.get(key)!r}, not {want!r}")
    cc = h["clientConfig"]
    ref = cc.get("service") or {}
    if "url" in cc or ref.get("name") != svc["metadata"]["name"] or ref.get("namespace") != namespace \
            or ref.get("path") != "/validate":
        fail(f"{where}: clientConfig {ref} does not call Service {svc['metadata']['name']} "
             f"in {namespace} on /validate")
    port = next((p for p in svc["spec"]["ports"] if p["port"] == ref.get("port", 443)), None)
    if port is None or port["port"] != 443:
        fail(f"{where}: port {ref.get('port', 443)} is not the Service's 443")
    target = next((p for p in c["ports"] if p.get("name") == port["targetPort"]
                   or p["containerPort"] == port["targetPort"]), None)
    if target is None or target["containerPort"] != 8443 or flag("--listen") != "0.0.0.0:8443":
        fail(f"{name}: Service port 443 does not reach the container's 8443 (--listen {flag('--listen')})")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    if not svc["spec"]["selector"].items() <= labels.items() or \
            not dep["spec"]["selector"]["matchLabels"].items() <= labels.items():
        fail(f"{name}: the webhook Service does not select the webhook's pods")
    others = [d for d in docs if d["kind"] == "Deployment" and d is not dep and
              svc["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
    if others:
        fail(f"{name}: the webhook Service also selects {[d['metadata']['name'] for d in others]}")
    excluded = set()
    for e in (h.get("namespaceSelector") or {}).get("matchExpressions", []):
        if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn":
            excluded |= set(e["values"])
    if excluded != {namespace, "kube-system"} | extra_ns:
        fail(f"{where}: excludes namespaces {sorted(excluded)}, not "
             f"{sorted({namespace, 'kube-system'} | extra_ns)}")
    covered = set()
    for r in h["rules"]:
        if set(r["operations"]) != {"CREATE", "UPDATE"} or r.get("scope", "*") not in ("Namespaced", "*"):
            fail(f"{where}: rule {r} is not CREATE and UPDATE of namespaced objects")
        covered |= {(g, v, res) for g in r["apiGroups"] for v in r["apiVersions"] for res in r["resources"]}
    if not COVERED <= covered or any("*" in key for key in covered):
        fail(f"{where}: covers {sorted(covered)}; must be exactly named and include {sorted(COVERED)}")

    # TLS: what the pods serve and what the API server trusts.
    tls_vol = volumes.get(next((m["name"] for m in mounts if m is under(flag("--tls-cert") or "", mounts)), None))
    if tls_vol is None or "secret" not in tls_vol or under(flag("--tls-key") or "", mounts) is not under(flag("--tls-cert"), mounts):
        fail(f"{name}: --tls-cert and --tls-key are not in one mounted Secret")
    tls_secret = tls_vol["secret"]["secretName"]
    ca_bundle = cc.get("caBundle", "")
    inject = (hook_conf["metadata"].get("annotations") or {}).get("cert-manager.io/inject-ca-from")
    rendered = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == tls_secret]
    if tls_from == "cert-manager":
        certs = [d for d in docs if d["kind"] == "Certificate"]
        if ca_bundle or len(certs) != 1 or rendered or inject != f"{namespace}/{certs[0]['metadata']['name']}":
            fail(f"{where}: cert-manager: caBundle {'set' if ca_bundle else 'empty'}, "
                 f"{len(certs)} Certificates, inject-ca-from {inject!r}, rendered Secret {bool(rendered)}")
        spec = certs[0]["spec"]
        want_dns = [f"{svc['metadata']['name']}.{namespace}.svc",
                    f"{svc['metadata']['name']}.{namespace}.svc.cluster.local"]
        if spec["secretName"] != tls_secret or spec["dnsNames"] != want_dns or \
                "server auth" not in spec.get("usages", ["server auth"]):
            fail(f"{name}: Certificate writes {spec['secretName']} for {spec['dnsNames']}; "
                 f"the pods read {tls_secret}, the API server calls {want_dns[0]}")
        ok(f"{name}: cert-manager Certificate -> Secret {tls_secret} for {want_dns[0]}; "
           f"CA injected from {inject}")
    else:
        if not ca_bundle or inject:
            fail(f"{where}: caBundle is empty (or cert-manager injection is asked for)")
        ca_pem = pem_certs(ca_bundle, f"{where}: caBundle")
        if tls_from == "existing":
            if rendered or tls_secret != "webhook-tls":
                fail(f"{name}: the pods read Secret {tls_secret}, not the existing webhook-tls, "
                     "or the chart renders one")
            if ca_pem != open(user_ca_path).read():
                fail(f"{where}: caBundle is not admission.caBundle as given")
            ok(f"{name}: existing Secret {tls_secret}; caBundle is the CA given")
        else:
            if len(rendered) != 1 or rendered[0].get("type") != "kubernetes.io/tls":
                fail(f"{name}: no kubernetes.io/tls Secret {tls_secret} rendered")
            data = rendered[0]["data"]
            crt = pem_certs(data["tls.crt"], f"{name}: Secret {tls_secret} tls.crt")
            if pem_certs(data["ca.crt"], f"{name}: Secret {tls_secret} ca.crt") != ca_pem:
                fail(f"{where}: caBundle is not the CA in Secret {tls_secret}")
            key = base64.b64decode(data["tls.key"]).decode()
            with open(f"{out}/{name}-ca.crt", "w") as f:
                f.write(ca_pem)
            verified = openssl("verify", "-CAfile", f"{out}/{name}-ca.crt", "-purpose", "sslserver",
                               data=crt.encode())
            if "OK" not in verified:
                fail(f"{name}: tls.crt is not signed by the caBundle's CA: {verified}")
            san = openssl("x509", "-noout", "-ext", "subjectAltName", data=crt.encode())
            names = set(re.findall(r"DNS:([^,\s]+)", san))
            want = {f"{svc['metadata']['name']}.{namespace}.svc",
                    f"{svc['metadata']['name']}.{namespace}.svc.cluster.local"}
            if not want <= names:
                fail(f"{name}: tls.crt is for {sorted(names)}, not {sorted(want)}")
            if openssl("x509", "-noout", "-pubkey", data=crt.encode()) != \
                    openssl("pkey", "-pubout", data=key.encode()):
                fail(f"{name}: tls.key is not the key of tls.crt")
            openssl("x509", "-noout", "-checkend", str(300 * 86400), data=crt.encode())
            if not (dep["spec"]["template"]["metadata"].get("annotations") or {}).get("checksum/tls"):
                fail(f"{name}: a new certificate would not roll the webhook's pods (checksum/tls)")
            ok(f"{name}: Secret {tls_secret}: tls.crt signed by the caBundle's CA for "
               f"{', '.join(sorted(want))}, tls.key matches, valid for 300 days or more")

    # The pods.
    if args[0] != "admission" or dep["spec"]["replicas"] != replicas:
        fail(f"{name}: the webhook runs {args[:1]} with {dep['spec']['replicas']} replicas, "
             f"not `holdfast admission` with {replicas}")
    for probe in ("livenessProbe", "readinessProbe"):
        g = (c.get(probe) or {}).get("httpGet") or {}
        probe_port = next((p["containerPort"] for p in c["ports"] if p.get("name") == g.get("port")), g.get("port"))
        if (g.get("path"), g.get("scheme"), probe_port) != ("/healthz", "HTTPS", 8443):
            fail(f"{name}: {probe} is {g}, not HTTPS /healthz on 8443")
    writable = [m for m in mounts if not m.get("readOnly")]
    for path in ("/var/log/holdfast", "/var/cache/holdfast", "/tmp"):
        m = next((m for m in writable if m["mountPath"] == path), None)
        if m is None or "emptyDir" not in volumes[m["name"]]:
            fail(f"{name}: no writable emptyDir at {path}")
    pol_mount = under(flag("--policy") or "", mounts)
    if pol_mount is None or not pol_mount.get("readOnly") or \
            not any(m is pol_mount for m in mounts if m["name"] == pol_mount["name"]):
        fail(f"{name}: --policy {flag('--policy')} is not on a read-only mount")
    if not all(m.get("readOnly") for m in mounts if m["name"] == tls_vol["name"]):
        fail(f"{name}: the TLS Secret is mounted writable")
    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget" and component(d) == "admission"]
    if (replicas > 1) != bool(pdbs) or pdbs and (pdbs[0]["spec"].get("minAvailable") != 1 or
            not pdbs[0]["spec"]["selector"]["matchLabels"].items() <= labels.items()):
        fail(f"{name}: {len(pdbs)} PodDisruptionBudgets for {replicas} replicas")

    # RBAC: its own account; get on secrets and serviceaccounts, nothing else, or nothing.
    account = pod["serviceAccountName"]
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role") and component(d) == "admission"]
    bindings = [d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")
                and component(d) == "admission"]
    if rbac:
        if len(roles) != 1 or len(bindings) != 1:
            fail(f"{name}: {len(roles)} roles and {len(bindings)} bindings of the webhook, not 1 and 1")
        rules = {}
        for r in roles[0]["rules"]:
            if set(r) - {"apiGroups", "resources", "verbs"}:
                fail(f"{name}: webhook rule {r} has more than groups, resources and verbs")
            for g in r["apiGroups"]:
                for res in r["resources"]:
                    rules.setdefault((g, res), set()).update(r["verbs"])
        if rules != {("", "secrets"): {"get"}, ("", "serviceaccounts"): {"get"}}:
            fail(f"{name}: the webhook's {roles[0]['kind']} grants {rules}; only get on "
                 "secrets and serviceaccounts")
        b = bindings[0]
        if b["roleRef"]["name"] != roles[0]["metadata"]["name"] or b["roleRef"]["kind"] != roles[0]["kind"] \
                or b["subjects"] != [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]:
            fail(f"{name}: the webhook's binding {b['roleRef']} -> {b['subjects']} is not its "
                 f"role to ServiceAccount {account}")
        if pod.get("automountServiceAccountToken") is not True:
            fail(f"{name}: RBAC granted but no token mounted")
        rbac_text = "secrets and serviceaccounts: get only"
    else:
        if roles or bindings or pod.get("automountServiceAccountToken") is not False:
            fail(f"{name}: admission.rbac.create=false still grants or mounts a token")
        rbac_text = "no RBAC, no token"
    accounts = [d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == account]
    server_account = next(d for d in docs if d["kind"] == "Deployment" and component(d) == "server")
    server_account = server_account["spec"]["template"]["spec"]["serviceAccountName"]
    if name != "admission-existing-secret" and (len(accounts) != 1 or account == server_account):
        fail(f"{name}: the webhook does not run as a ServiceAccount of its own ({account})")

    # The policy file.
    if policy_secret:
        if (volumes[pol_mount["name"]].get("secret") or {}).get("secretName") != policy_secret or \
                any(d["kind"] == "ConfigMap" and component(d) == "admission" for d in docs):
            fail(f"{name}: the policy does not come from Secret {policy_secret} alone")
        ok(f"{name}: webhook {h['name']} -> Service {svc['metadata']['name']}:443/validate -> "
           f"pods :8443; policy from Secret {policy_secret}; {rbac_text}")
        continue
    cm = one(docs, "ConfigMap", name)
    if volumes[pol_mount["name"]].get("configMap", {}).get("name") != cm["metadata"]["name"]:
        fail(f"{name}: the policy mount is not ConfigMap {cm['metadata']['name']}")
    file = flag("--policy")[len(pol_mount["mountPath"].rstrip("/")) + 1:]
    try:
        policy = tomllib.loads(cm["data"][file])
    except (KeyError, tomllib.TOMLDecodeError) as e:
        fail(f"{name}: the policy file {file} does not parse: {e!r}")
    for table, keys in policy.items():
        if table == "policies":
            for p in keys:
                if set(p) - POLICY_KEYS:
                    fail(f"{name}: policy keys holdfast refuses: {sorted(set(p) - POLICY_KEYS)}")
        elif table not in KNOWN or not isinstance(keys, dict) or set(keys) - KNOWN[table]:
            fail(f"{name}: [{table}] holdfast refuses: {keys if table in KNOWN else 'unknown table'}")
    if not any(p.get("action") == "container_create" for p in policy.get("policies", [])):
        fail(f"{name}: the policy has no container_create policy: every pod would be allowed")
    deadline = seconds(policy.get("holdfast", {}).get("timeout", "20s"))
    if deadline >= h["timeoutSeconds"]:
        fail(f"{name}: [holdfast] timeout {deadline} s is not below timeoutSeconds {h['timeoutSeconds']}")
    for key in ("plugin_log_path", "auth_log_path"):
        path = policy.get("log", {}).get(key)
        if path is None or under(path, writable) is None:
            fail(f"{name}: [log] {key} {path!r} is not on a writable volume")
    cache = policy.get("holdfast", {}).get("cache_dir")
    if cache is not None and under(cache, writable) is None:
        fail(f"{name}: [holdfast] cache_dir {cache!r} is not on a writable volume")
    ok(f"{name}: webhook {h['name']} -> Service {svc['metadata']['name']}:443/validate -> pods :8443 "
       f"({replicas}, probes HTTPS /healthz); {failure}, {h['timeoutSeconds']} s > policy timeout "
       f"{deadline:g} s; excludes {', '.join(sorted(excluded))}; policy parses with "
       f"{len(policy['policies'])} polic{'y' if len(policy['policies']) == 1 else 'ies'} "
       f"incl. container_create; {rbac_text}")
PY

step "values.yaml: every value has a comment and a row in deploy/README.md"
python3 - "$CHART/values.yaml" deploy/README.md <<'PY'
import re, sys, yaml

values_path, readme_path = sys.argv[1], sys.argv[2]
with open(values_path) as f:
    text = f.read()
values = yaml.safe_load(text)

def fail(msg):
    sys.exit(f"check-deploy: FAILED: {msg}")

# The table of the README's Values section: | `key` | `default` | what it does |. A
# default of several lines (a file's text) is a link to the README's copy instead:
# | `key` | [TEXT](#anchor) | what it does |, and that copy must be the value verbatim.
readme = open(readme_path).read()
rows, linked = {}, {}
section = ""
for line in readme.splitlines():
    if line.startswith("## "):
        section = line.strip()
    if section != "## Values":
        continue
    m = re.match(r"^\| `([A-Za-z.]+)` \| `(.*)` \| .+ \|$", line)
    if m:
        rows[m.group(1)] = m.group(2)
    m = re.match(r"^\| `([A-Za-z.]+)` \| \[[^]]+\]\(#([-a-z0-9]+)\) \| .+ \|$", line)
    if m:
        rows[m.group(1)] = None
        linked[m.group(1)] = m.group(2)
if not rows:
    fail("deploy/README.md has no values table")

def lookup(path):
    node = values
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return KeyError
        node = node[part]
    return node

for key, default in rows.items():
    value = lookup(key)
    if value is KeyError:
        fail(f"deploy/README.md documents `{key}`, which values.yaml does not have")
    if key in linked:
        if not isinstance(value, str) or "\n" not in value:
            fail(f"deploy/README.md links the default of `{key}`, which is not text of several lines")
        slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
                 for h in re.findall(r"^#+ (.+)$", readme, re.M)}
        if linked[key] not in slugs:
            fail(f"deploy/README.md links the default of `{key}` to #{linked[key]}, no heading")
        if f"\n```toml\n{value}```\n" not in readme:
            fail(f"deploy/README.md has no ```toml block that is the default of `{key}` verbatim")
        continue
    if yaml.safe_load(default) != value:
        fail(f"deploy/README.md gives `{key}` the default {default!r}; values.yaml has {value!r}")

def leaves(node, prefix=""):
    for k, v in node.items():
        path = prefix + k
        if path in rows:
            continue
        if isinstance(v, dict) and v:
            yield from leaves(v, path + ".")
        else:
            yield path

missing = list(leaves(values))
if missing:
    fail(f"values without a row in deploy/README.md: {missing}")

# Each documented key's line in values.yaml comes right after a comment.
lines = text.splitlines()
stack = []
seen = set()
for i, line in enumerate(lines):
    m = re.match(r"^( *)([A-Za-z]+):", line)
    if not m:
        continue
    depth = len(m.group(1)) // 2
    stack = stack[:depth] + [m.group(2)]
    path = ".".join(stack)
    if path in rows:
        seen.add(path)
        prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
        if not prev.strip().startswith("#"):
            fail(f"values.yaml: `{path}` (line {i + 1}) has no comment above it")
if seen != set(rows):
    fail(f"values.yaml: could not find the lines of {sorted(set(rows) - seen)}")
print(f"ok: {len(rows)} values, each with a comment in values.yaml and a matching README row")
PY

step "all deploy checks passed"
