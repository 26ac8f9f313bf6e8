# Helpers shared by the built-in checks (dockerfile.toml, kubernetes.toml).
package holdfast.lib

import rego.v1

# ---------------------------------------------------------------------------
# Generic
# ---------------------------------------------------------------------------

# x when it is an object, else an empty object (for fields that may be absent or null).
obj(x) := x if is_object(x)

obj(x) := {} if not is_object(x)

# x when it is an array, else an empty array.
arr(x) := x if is_array(x)

arr(x) := [] if not is_array(x)

# x when it is a string, else "".
str(x) := x if is_string(x)

str(x) := "" if not is_string(x)

# The value at path (a list of keys) in x, or null when any step is missing.
get(x, path) := object.get(x, path, null) if is_object(x)

get(x, _) := null if not is_object(x)

# Whether o has key k with a value other than null.
has(o, k) if {
	is_object(o)
	o[k] != null
}

# The position of the first element of a equal to x.
index_of(a, x) := min({i | some i, v in a; v == x})

# The name of an environment variable or build argument suggests it holds a secret
# (passwords, tokens, API and secret keys, private keys); names of files, paths or URLs
# that point at a secret do not count.
secret_name(name) if {
	n := upper(str(name))
	regex.match(`PASSWORD|PASSWD|PASSPHRASE|(^|_)PASS($|_)|(^|_)SECRETS?($|_)|(^|_)TOKENS?($|_)|API_?KEY|PRIVATE_?KEY|AUTH_?KEY|ACCESS_?TOKEN|CLIENT_SECRET|SECRET_ACCESS_KEY|(^|_)CREDENTIALS?($|_)`, n)
	not regex.match(`_(FILE|PATH|DIR|URL|URI|NAME|ENDPOINT|LENGTH|EXPIRY|TTL)$`, n)
}

# ---------------------------------------------------------------------------
# Dockerfile
# ---------------------------------------------------------------------------

# The last stage: the image that is built.
final_index := count(input.stages) - 1

final_stage := input.stages[final_index]

# The index of the earlier stage that stage i is built FROM (FROM <stage name>).
parent_index(i) := p if {
	input.stages[i].from.stage_ref
	name := lower(str(input.stages[i].from.image))
	candidates := {j |
		some j, s in input.stages
		j < i
		is_string(s.name)
		lower(s.name) == name
	}
	count(candidates) > 0
	p := max(candidates)
}

_image_chain contains final_index if final_index >= 0

_image_chain contains p if p := parent_index(final_index)

_image_chain contains p if p := parent_index(parent_index(final_index))

_image_chain contains p if p := parent_index(parent_index(parent_index(final_index)))

_image_chain contains p if p := parent_index(parent_index(parent_index(parent_index(final_index))))

# The stages whose layers make up the built image, oldest first: the last stage and the
# stages it is built FROM.
image_stage_indexes := sort([i | some i in _image_chain])

# Whether stage i ends up in the built image.
in_image(i) if i in _image_chain

# The instructions of the built image, in order.
image_instructions := [ins |
	some i in image_stage_indexes
	some ins in input.stages[i].instructions
]

# Every RUN instruction, with the index of its stage: {"stage": i, "ins": instruction}.
runs contains {"stage": i, "ins": ins} if {
	some i, s in input.stages
	some ins in s.instructions
	ins.cmd == "run"
}

# The RUN instructions of the built image.
image_runs contains ins if {
	some r in runs
	in_image(r.stage)
	ins := r.ins
}

# Words that may precede the command itself: variable assignments, shell keywords, and
# wrappers that run the rest of the line as a command.
_prefix_word(w) if regex.match(`^[A-Za-z_][A-Za-z0-9_]*=`, w)

_prefix_word(w) if w in {"then", "do", "else", "elif", "if", "while", "until", "!", "env", "exec", "command", "nohup", "time"}

_sudo_word(w) if _prefix_word(w)

_sudo_word(w) if w == "sudo"

# The words of one shell command, quotes, brackets and empty words dropped, up to the
# first redirection (> file, 2>&1, < file).
_words(part) := array.slice(words, 0, _redirect(words)) if {
	words := [w |
		some raw in regex.split(`[ \t\r\n]+`, trim_space(part))
		w := trim(raw, "\"'`(){}")
		w != ""
	]
}

_redirect(words) := min(cut) if {
	cut := _redirects(words)
	count(cut) > 0
}

_redirect(words) := count(words) if count(_redirects(words)) == 0

_redirects(words) := {i | some i, w in words; regex.match(`^[0-9&]*[<>]`, w)}

# A script with the command separators inside quoted strings blanked out, so that
# echo "a && b" stays one command.
_unquoted(script) := strings.replace_n(
	{q: regex.replace(q, `[;&|\n]`, " ") | some q in regex.find_n(`"[^"]*"|'[^']*'`, script, -1)},
	script,
)

# The script that sh -c / bash -c runs, for each such command of script.
_shell_c(script) := [inner |
	some found in regex.find_n(`(^|[;&|( \t\n])(sh|bash|ash|dash|zsh)[ \t]+-[a-z]*c[ \t]+("[^"]*"|'[^']*')`, script, -1)
	inner := trim(regex.replace(found, `^.*-[a-z]*c[ \t]+`, ""), "\"'")
]

# The commands of one level of script, each as its list of words.
_split(script) := [words |
	some part in regex.split(`&&|\|\||[;|\n]`, _unquoted(script))
	words := _words(part)
]

# The sub-commands of a RUN script (split on &&, ||, ;, | and new lines, outside quotes,
# and including the script of sh -c "..."), each a list of words starting at the command:
# leading assignments, shell keywords, env and sudo are skipped, so
# `sudo DEBIAN_FRONTEND=noninteractive apt-get install x` gives ["apt-get", "install", "x"].
commands(script) := [cmd |
	some text in array.concat([str(script)], _shell_c(str(script)))
	some words in _split(text)
	starts := {i | some i, w in words; not _sudo_word(w)}
	count(starts) > 0
	cmd := array.slice(words, min(starts), count(words))
]

# The sub-commands of a RUN script as commands gives them, but with sudo kept in front of
# the command it runs.
raw_commands(script) := [cmd |
	some text in array.concat([str(script)], _shell_c(str(script)))
	some words in _split(text)
	starts := {i | some i, w in words; not _prefix_word(w)}
	count(starts) > 0
	cmd := array.slice(words, min(starts), count(words))
]

# The words of cmd after position from that are neither options nor the value of an
# option listed in value_opts (options given as --opt=value are a single word).
operands(cmd, from, value_opts) := [w |
	some i, w in cmd
	i > from
	not startswith(w, "-")
	not cmd[i - 1] in value_opts
]

# The index of a sub-command's verb (install, add, ...) in cmd, when cmd runs program
# (one of the names in programs) with that verb.
verb_index(cmd, programs, verbs) := i if {
	cmd[0] in programs
	i := min({j | some j, w in cmd; j > 0; w in verbs})
}

# apt-get / apt install: the index of "install".
apt_install(cmd) := verb_index(cmd, {"apt-get", "apt"}, {"install"})

apt_value_opts := {"-o", "--option", "-t", "--target-release", "--default-release", "-c", "--config-file", "-a", "--host-architecture"}

# The packages an apt install names.
apt_packages(cmd) := operands(cmd, apt_install(cmd), apt_value_opts)

# apk add: the index of "add".
apk_add(cmd) := verb_index(cmd, {"apk"}, {"add"})

apk_value_opts := {"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--keys-dir", "--repositories-file", "--cache-dir"}

apk_packages(cmd) := operands(cmd, apk_add(cmd), apk_value_opts)

# pip install (pip, pip3, pip3.12, python -m pip): the index of "install".
pip_install(cmd) := i if {
	regex.match(`^pip[0-9.]*$`, cmd[0])
	i := index_of(cmd, "install")
}

pip_install(cmd) := i if {
	regex.match(`^python[0-9.]*$`, cmd[0])
	cmd[1] == "-m"
	cmd[2] == "pip"
	cmd[3] == "install"
	i := 3
}

pip_value_opts := {
	"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
	"--extra-index-url", "--trusted-host", "-t", "--target", "--prefix", "--root", "-f",
	"--find-links", "--platform", "--python-version", "--implementation", "--abi",
	"--only-binary", "--no-binary", "--progress-bar", "--cache-dir", "--src", "--upgrade-strategy",
	"--log", "--proxy", "--retries", "--timeout", "--cert", "--client-cert", "--global-option",
	"--config-settings", "-C", "--report", "--python",
}

pip_packages(cmd) := operands(cmd, pip_install(cmd), pip_value_opts)

# How a pip command is named in messages: pip, pip3, ... or "python3 -m pip".
pip_label(cmd) := cmd[0] if regex.match(`^pip[0-9.]*$`, cmd[0])

pip_label(cmd) := concat(" ", array.slice(cmd, 0, 3)) if regex.match(`^python[0-9.]*$`, cmd[0])

# A RUN instruction mounts a build cache on a path starting with prefix, so nothing the
# command leaves there stays in the image.
cache_mount(ins, prefix) if {
	mount := str(object.get(obj(object.get(ins, "flags", null)), "mount", null))
	contains(mount, "type=cache")
	regex.match(sprintf(`(target|dst|destination)=%s`, [prefix]), mount)
}

# A RUN script removes a path starting with prefix (rm -rf /var/lib/apt/lists/*).
removes(script, prefix) if {
	some cmd in commands(script)
	cmd[0] == "rm"
	some w in cmd
	startswith(w, prefix)
}

# The user part of a USER instruction's value names root.
root_user(value) if {
	user := split(trim_space(str(value)), ":")[0]
	user in {"root", "0"}
}

# The USER instructions of the built image, in order.
image_users := [ins | some ins in image_instructions; ins.cmd == "user"]

# Printable name of a stage for messages.
stage_label(stage) := sprintf("stage \"%s\"", [stage.name]) if is_string(stage.name)

stage_label(stage) := sprintf("stage %d", [stage.index]) if not is_string(stage.name)

# ---------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------

# The pod spec of a workload ({} when the object has none).
pod_spec := obj(object.get(input, "pod_spec", null))

# The object has a pod template (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob, ...).
is_workload if is_object(object.get(input, "pod_spec", null))

pod_annotations := obj(object.get(obj(object.get(input, "pod_metadata", null)), "annotations", null))

pod_security_context := obj(object.get(pod_spec, "securityContext", null))

container_security_context(c) := obj(object.get(c, "securityContext", null))

# A securityContext setting as it applies to container c: the container's own value, else
# the pod's (for the settings a pod securityContext also has). Undefined when neither sets it.
effective(c, key) := v if {
	v := container_security_context(c)[key]
	v != null
}

effective(c, key) := v if {
	not has(container_security_context(c), key)
	v := pod_security_context[key]
	v != null
}

# How a workload is named in messages: "Deployment web".
workload_label := sprintf("%s %s", [str(get(input, ["workload", "kind"])), str(get(input, ["workload", "name"]))])

# A container is named in messages with its kind when it is not a regular container.
container_label(c) := sprintf("container \"%s\"", [c.name]) if not c.type in {"init", "ephemeral"}

container_label(c) := sprintf("init container \"%s\"", [c.name]) if c.type == "init"

container_label(c) := sprintf("ephemeral container \"%s\"", [c.name]) if c.type == "ephemeral"

# The containers that run for the lifetime of the pod or before it (ephemeral debug
# containers take no resources or probes).
runtime_containers contains c if {
	some c in input.containers
	c.type != "ephemeral"
}

# Capabilities as written, upper case and without the CAP_ prefix.
_cap_name(x) := trim_prefix(upper(x), "CAP_")

added_capabilities(c) := {_cap_name(x) |
	some x in arr(object.get(container_security_context(c), ["capabilities", "add"], null))
	is_string(x)
}

dropped_capabilities(c) := {_cap_name(x) |
	some x in arr(object.get(container_security_context(c), ["capabilities", "drop"], null))
	is_string(x)
}

# An image reference split into name, tag and digest (tag and digest null when absent).
image_ref(image) := {"name": name, "tag": tag, "digest": _digest(parts)} if {
	parts := split(image, "@")
	regex.match(`:[^:/]*$`, parts[0])
	tag := regex.replace(parts[0], `^.*:`, "")
	name := regex.replace(parts[0], `:[^:/]*$`, "")
}

image_ref(image) := {"name": parts[0], "tag": null, "digest": _digest(parts)} if {
	parts := split(image, "@")
	not regex.match(`:[^:/]*$`, parts[0])
}

_digest(parts) := parts[1] if count(parts) > 1

_digest(parts) := null if count(parts) == 1

# The image can change under the same reference: no digest, and the tag is latest or absent.
mutable_image(image) if {
	ref := image_ref(image)
	ref.digest == null
	ref.tag == null
}

mutable_image(image) if {
	ref := image_ref(image)
	ref.digest == null
	ref.tag == "latest"
}

# Kinds that live outside namespaces.
cluster_scoped_kinds := {
	"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
	"CustomResourceDefinition", "StorageClass", "PriorityClass", "RuntimeClass", "IngressClass",
	"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
	"CSIDriver", "CSINode", "VolumeAttachment", "PodSecurityPolicy", "CertificateSigningRequest",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ComponentStatus",
}
