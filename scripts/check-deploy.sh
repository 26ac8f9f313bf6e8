#!/usr/bin/env bash
# Checks the deployment files under deploy/ without a cluster or the network:
#  - hadolint on deploy/docker/Dockerfile;
#  - helm lint (strict) of the chart with its default values and with
#    deploy/helm/holdfast/ci/postgres-workers-values.yaml;
#  - helm template of those two value sets and of a third (PostgreSQL from postgresql.url,
#    HTTPS), and kubectl kustomize of deploy/kubernetes; the chart's NOTES.txt (through
#    helm install --dry-run=client, which needs no cluster) tells how to make a token;
#  - every rendered object validated by kubernetes-validate against the Kubernetes
#    $K8S_VERSION schemas in strict mode (unknown fields are errors); the one custom
#    resource, the Prometheus Operator ServiceMonitor, has no schema there and gets a
#    structural check here instead; any other kind without a schema is an error;
#  - what each render must and must not contain (PVC, workers, database Secret, RBAC
#    that never lists secrets, no admission webhooks), that the kustomize base is the
#    chart's default render, and that workers without PostgreSQL stop the render.
# Tools: helm, kubectl, kubernetes-validate, hadolint (scripts/setup-test-deps.sh).
# Run from anywhere; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=${K8S_VERSION:-1.33.0}
CHART=deploy/helm/holdfast
CI_VALUES=$CHART/ci/postgres-workers-values.yaml
RELEASE=holdfast
NAMESPACE=holdfast

step() { printf '\n==> %s\n' "$*"; }
die() { printf '\ncheck-deploy: FAILED: %s\n' "$*" >&2; exit 1; }

for tool in helm kubectl kubernetes-validate hadolint python3; do
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

render() {
  local name=$1; shift
  step "helm template $RELEASE $CHART --namespace $NAMESPACE $* > $name.yaml"
  helm template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" >"$out/$name.yaml" ||
    die "helm template ($name)"
  grep -E '^kind: ' "$out/$name.yaml" | sort | uniq -c
}
render default
render postgres-workers -f "$CI_VALUES"
render postgres-url --set postgresql.url=postgres://holdfast:secret@postgresql/holdfast \
  --set workers.enabled=true --set tls.enabled=true --set tls.secretName=holdfast-tls \
  --set serviceMonitor.enabled=true --set serviceAccount.create=false \
  --set serviceAccount.name=scanner --set persistence.enabled=false

notes() {
  local label=$1 want=$2; shift 2
  step "NOTES.txt ($label): the first admin token"
  helm install "$RELEASE" "$CHART" --namespace "$NAMESPACE" --dry-run=client "$@" \
    >"$out/install.log" 2>&1 || { cat "$out/install.log"; die "helm install --dry-run=client ($label)"; }
  sed -n '/^NOTES:/,$p' "$out/install.log" >"$out/notes.txt"
  grep -F -- "$want" "$out/notes.txt" || { cat "$out/notes.txt"; die "NOTES.txt ($label) lacks: $want"; }
}
notes "default values" "holdfast server token create --scope admin --name me --data-dir /var/lib/holdfast"
notes "$CI_VALUES" "holdfast server token create --scope admin --name me --database-url" -f "$CI_VALUES"

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

# Splits each render: built-in kinds into NAME.builtin.yaml for kubernetes-validate; the
# ServiceMonitor is checked here against the Prometheus Operator's v1 fields.
step "custom resources (structural check) and the split for kubernetes-validate"
python3 - "$out" default postgres-workers postgres-url kustomize <<'PY'
import sys, yaml

out, names = sys.argv[1], sys.argv[2:]
CUSTOM = {("monitoring.coreos.com/v1", "ServiceMonitor")}
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

for name in names:
    with open(f"{out}/{name}.yaml") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if not docs:
        fail(f"{name}: rendered nothing")
    builtin = []
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) in CUSTOM:
            check_service_monitor(d, docs, name)
        else:
            builtin.append(d)
    with open(f"{out}/{name}.builtin.yaml", "w") as f:
        yaml.safe_dump_all(builtin, f, sort_keys=False)
    print(f"{name}: {len(docs)} objects, {len(builtin)} of built-in kinds")
PY

for name in default postgres-workers postgres-url kustomize; do
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

def check_common(name, docs):
    for d in docs:
        if d["kind"] in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
            fail(f"{name}: has an admission webhook configuration")
    roles = of_kind(docs, "ClusterRole") + of_kind(docs, "Role")
    for role in roles:
        rules = granted(role)
        for (g, res), verbs in rules.items():
            if "*" in verbs or res == "*" or g == "*":
                fail(f"{name}: {role['kind']} grants a wildcard: {g}/{res} {sorted(verbs)}")
            if res == "secrets" and verbs - {"get"}:
                fail(f"{name}: {role['kind']} grants {sorted(verbs)} on secrets (only get)")
        if rules != EXPECTED_RULES:
            fail(f"{name}: {role['kind']} rules are {rules}, not the least-privilege set")
        ok(f"{name}: {role['kind']} {role['metadata']['name']}: exactly the least-privilege "
           f"rules; secrets: {sorted(rules[('', 'secrets')])} (never list or watch)")
    for dep in of_kind(docs, "Deployment"):
        c = container(dep)
        sc, psc = c["securityContext"], dep["spec"]["template"]["spec"]["securityContext"]
        if not (sc.get("runAsNonRoot") and sc.get("readOnlyRootFilesystem")
                and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
                and (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
                == "RuntimeDefault"):
            fail(f"{name}: Deployment {dep['metadata']['name']} is not locked down: {sc}")
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
   "ClusterRole + ClusterRoleBinding, no ServiceMonitor or Ingress")

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

step "values.yaml: every value has a comment and a row in deploy/README.md"
python3 - "$CHART/values.yaml" deploy/README.md <<'PY'
import re, sys, yaml

values_path, readme_path = sys.argv[1], sys.argv[2]
with open(values_path) as f:
    text = f.read()
values = yaml.safe_load(text)

def fail(msg):
    sys.exit(f"check-deploy: FAILED: {msg}")

# The table of the README's Values section: | `key` | `default` | what it does |
rows = {}
section = ""
for line in open(readme_path):
    if line.startswith("## "):
        section = line.strip()
    if section != "## Values":
        continue
    m = re.match(r"^\| `([A-Za-z.]+)` \| `(.*)` \| .+ \|$", line.rstrip("\n"))
    if m:
        rows[m.group(1)] = m.group(2)
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
