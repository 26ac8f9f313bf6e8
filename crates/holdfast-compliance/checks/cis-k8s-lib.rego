# Helpers shared by the CIS Kubernetes Benchmark checks (cis-k8s-*.toml). A check imports
# them with `import data.holdfast.cisk8s`. They read the `kubelet-node` document described
# in docs/checks.md.
#
# A kubelet setting is judged as the kubelet applies it: the command-line flag wins, else
# the field of its config file (KubeletConfiguration), else the kubelet's built-in default.
# The defaults of a kubelet started with --config are those of KubeletConfiguration
# v1beta1; a kubelet started without one keeps older command-line defaults for four
# settings (anonymous authentication on, webhook authentication off, authorization mode
# AlwaysAllow, read-only port 10255).
package holdfast.cisk8s

import rego.v1

# ---------------------------------------------------------------------------------------
# General

# x when it is an array, else [].
list(x) := x if {
	is_array(x)
} else := []

# x when it is an object, else {}.
obj(x) := x if {
	is_object(x)
} else := {}

# A value for messages: a non-empty string as it is, anything else as JSON.
show(v) := v if {
	is_string(v)
	v != ""
} else := json.marshal(v)

# A default value for messages: "none" for an empty string or list.
show_default(v) := "none" if {
	v == ""
} else := "none" if {
	v == []
} else := show(v)

# A flag or config value read as a boolean, as Go's strconv.ParseBool reads it.
as_bool(v) := v if is_boolean(v)

as_bool(v) := true if {
	is_string(v)
	lower(trim_space(v)) in {"true", "t", "1"}
}

as_bool(v) := false if {
	is_string(v)
	lower(trim_space(v)) in {"false", "f", "0"}
}

# A flag or config value read as an integer.
as_int(v) := v if is_number(v)

as_int(v) := to_number(s) if {
	is_string(v)
	s := trim_space(v)
	regex.match(`^-?[0-9]+$`, s)
}

# A Go duration ("0", "0s", "0h0m0s", 0) that is zero.
zero_duration(v) if {
	is_number(v)
	v == 0
}

zero_duration(v) if {
	is_string(v)
	s := trim_space(v)
	regex.match(`^[+-]?([0-9]*\.?[0-9]+(ns|us|µs|μs|ms|s|m|h)?)+$`, s)
	regex.match(`^0*$`, regex.replace(s, `[^0-9]`, ""))
}

# ---------------------------------------------------------------------------------------
# The kubelet (kubelet-node `kubelet`)

kubelet := obj(input.kubelet)

# A kubelet process was found.
running if kubelet.running == true

# The message of the kubelet checks on a host without a kubelet process (reported INFO:
# nothing there can be judged, which is neither a pass nor a failure).
kubelet_absent := "kubelet not running on this host" if not running

# The kubelet's command-line flags, without dashes, each to every value given.
flags := obj(kubelet.flags)

# Every value given to --name, in order.
flag_values(name) := list(object.get(flags, name, []))

# The value of --name the kubelet uses: the last one given.
flag_last(name) := vals[count(vals) - 1] if {
	vals := flag_values(name)
	count(vals) > 0
}

# The kubelet's config file as parsed, {} when there is none or it could not be read.
config := obj(kubelet.config)

# The config file the kubelet was started with (--config).
config_path := p if {
	p := kubelet.config_path
	is_string(p)
	p != ""
} else := p if {
	p := flag_last("config")
	is_string(p)
	p != ""
}

# The file that set the field at path: a --config-dir drop-in, else the config file.
config_file_of(path) := f if {
	f := object.get(kubelet, ["config_sources", concat(".", path)], null)
	is_string(f)
} else := config_path

# The kubelet was started with a config file, so the KubeletConfiguration defaults apply.
config_file_used if config_path

# The kubelet has a config file that holdfast could not read: what it sets is unknown.
config_unreadable if {
	config_file_used
	not is_object(kubelet.config)
}

config_error := e if {
	e := kubelet.config_error
	is_string(e)
	e != ""
} else := "it could not be read"

# A kubelet setting as {"value": v, "source": s, "where": text}. `source` is "flag" (--flag
# on the command line), "config" (the field at path, a list of keys, in the config file),
# "default" (neither: the kubelet's built-in default, file_default for a kubelet started
# with a config file, flag_default for one without) or "unknown" (the config file could not
# be read and no flag decides it). `where` says which, for messages. Undefined when the
# kubelet is not running.
setting(flag, path, file_default, flag_default) := s if {
	running
	v := flag_last(flag)
	s := {"value": v, "source": "flag", "where": sprintf("--%s=%s on the kubelet command line", [flag, v])}
} else := s if {
	running
	v := object.get(config, path, null)
	v != null
	s := {"value": v, "source": "config", "where": sprintf("%s: %s in %s", [concat(".", path), show(v), config_file_of(path)])}
} else := s if {
	running
	config_unreadable
	s := {"value": null, "source": "unknown", "where": sprintf(
		"--%s is not on the kubelet command line and its config file %s could not be read (%s), so %s is unknown",
		[flag, config_path, config_error, concat(".", path)],
	)}
} else := s if {
	running
	config_file_used
	s := {"value": file_default, "source": "default", "where": sprintf(
		"neither --%s nor %s in %s is set, so the kubelet's default applies: %s",
		[flag, concat(".", path), config_path, show_default(file_default)],
	)}
} else := s if {
	running
	s := {"value": flag_default, "source": "default", "where": sprintf(
		"--%s is not set and the kubelet has no config file, so its command-line default applies: %s",
		[flag, show_default(flag_default)],
	)}
}

# The message of a check whose setting cannot be judged (config file unreadable).
unknown(s) := s.where if s.source == "unknown"

# --feature-gates pairs in order: [name, value].
_flag_gates := [[trim_space(kv[0]), trim_space(kv[1])] |
	some v in flag_values("feature-gates")
	some item in split(v, ",")
	kv := split(item, "=")
	count(kv) == 2
]

# A feature gate as a setting ({"value", "source", "where"}): --feature-gates (the last
# mention wins), else the config file's featureGates, else its default.
gate(name, default_value) := s if {
	running
	vals := [p[1] | some p in _flag_gates; p[0] == name]
	count(vals) > 0
	v := vals[count(vals) - 1]
	s := {"value": v, "source": "flag", "where": sprintf("--feature-gates=...%s=%s on the kubelet command line", [name, v])}
} else := s if {
	running
	v := object.get(config, ["featureGates", name], null)
	v != null
	s := {"value": v, "source": "config", "where": sprintf("featureGates.%s: %s in %s", [name, show(v), config_path])}
} else := s if {
	running
	config_unreadable
	s := {"value": null, "source": "unknown", "where": sprintf(
		"the feature gate %s is not on the kubelet command line and its config file %s could not be read (%s)",
		[name, config_path, config_error],
	)}
} else := s if {
	running
	s := {"value": default_value, "source": "default", "where": sprintf(
		"%s is set neither in --feature-gates nor in featureGates, so its default applies: %v",
		[name, default_value],
	)}
}

# ---------------------------------------------------------------------------------------
# kube-proxy (kubelet-node `kube_proxy`)

kube_proxy := obj(input.kube_proxy)

proxy_running if kube_proxy.running == true

proxy_flags := obj(kube_proxy.flags)

proxy_flag_last(name) := vals[count(vals) - 1] if {
	vals := list(object.get(proxy_flags, name, []))
	count(vals) > 0
}

# kube-proxy's config file as parsed, when the document carries it.
proxy_config := c if {
	c := object.get(kube_proxy, "config", null)
	is_object(c)
}

# ---------------------------------------------------------------------------------------
# Files (kubelet-node `paths` and `files`)

paths := obj(input.paths)

# The path the document names for name (kubeconfig, config, client_ca, proxy_kubeconfig).
path(name) := p if {
	p := paths[name]
	is_string(p)
	p != ""
}

# The kubelet's unit files and drop-ins.
service_files := [p | some p in list(paths.service_files); is_string(p)]

# The file at p when it exists; undefined when it does not, and for a symbolic link, whose
# own mode and owner mean nothing.
file(p) := f if {
	is_string(p)
	f := input.files[p]
	is_object(f)
	f.exists == true
	f.type != "symlink"
}

# A mode such as "0644" as a number.
mode_bits(mode) := n if {
	is_string(mode)
	regex.match(`^[0-7]+$`, mode)
	digits := [to_number(c) | some c in split(mode, "")]
	weights := [1, 8, 64, 512, 4096, 32768]
	n := sum([x | some i, d in digits; x := d * weights[(count(digits) - 1) - i]])
}

# Whether mode sets no bit outside allowed: "0600" is at most "0644", "0640" is not at most "0600".
mode_at_most(mode, allowed) if {
	m := mode_bits(mode)
	bits.and(m, mode_bits(allowed)) == m
}

user_name(f) := f.user if {
	is_string(f.user)
} else := sprintf("%v", [f.uid])

group_name(f) := f.group if {
	is_string(f.group)
} else := sprintf("%v", [f.gid])

# "user:group (uid:gid)" of a file, for messages.
owner(f) := sprintf("%s:%s (%v:%v)", [user_name(f), group_name(f), f.uid, f.gid])

owned_by_root(f) if {
	f.uid == 0
	f.gid == 0
}

# A message when the existing file at p is not owned by root:root (a file whose owner is
# unknown is not judged).
not_root_owned(p) := msg if {
	f := file(p)
	is_number(f.uid)
	is_number(f.gid)
	not owned_by_root(f)
	msg := sprintf("%s is owned by %s, not root:root", [p, owner(f)])
}

# A message when the existing file at p has a mode beyond allowed (a file whose mode is
# unknown is not judged).
too_open(p, allowed) := msg if {
	f := file(p)
	mode_bits(f.mode)
	not mode_at_most(f.mode, allowed)
	msg := sprintf("%s has mode %s, more permissive than %s", [p, f.mode, allowed])
}

# The message of a file check when the file the kubelet uses cannot be located because the
# kubelet is not running (what names the file in messages: "kubeconfig file").
kubelet_file_unknown(name, what) := msg if {
	not running
	not path(name)
	msg := sprintf("kubelet not running on this host: its %s is unknown", [what])
}
