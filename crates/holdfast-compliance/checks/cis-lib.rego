# Helpers shared by the CIS Docker Benchmark checks (cis-docker-*.toml). A check imports
# them with `import data.holdfast.cis`. They read the `docker-host`, `docker-container` and
# `docker-image` documents described in docs/checks.md.
package holdfast.cis

import rego.v1

# ---------------------------------------------------------------------------------------
# General

# x when it is an array, else [] (for fields the Engine API gives as null).
list(x) := x if {
	is_array(x)
} else := []

# x when it is an object, else {}.
obj(x) := x if {
	is_object(x)
} else := {}

# ---------------------------------------------------------------------------------------
# The daemon (docker-host)

# The daemon's command-line flags, {} when unknown.
flags := obj(input.daemon.flags)

# daemon.json as parsed, {} when there is none.
config := obj(input.daemon.config)

# Where daemon.json was read from.
config_path := p if {
	p := input.daemon.config_path
	is_string(p)
} else := "/etc/docker/daemon.json"

# The Engine API's /info, {} when it could not be reached.
info := obj(input.daemon.info)

# Whether the Engine API answered (so `info` is known).
api_known if is_object(input.daemon.info)

# Short spellings of long daemon flags.
short_flags := {"host": "H", "log-level": "l", "debug": "D", "group": "G"}

flag_names(name) := [name, short] if {
	short := short_flags[name]
} else := [name]

# Every value given on the command line to --name (or its short form).
flag_values(name) := [v | some n in flag_names(name); some v in list(flags[n])]

# The value of --name the daemon uses: the last one given.
flag_last(name) := vals[count(vals) - 1] if {
	vals := flag_values(name)
	count(vals) > 0
}

# A single-valued daemon option as {"value": v, "where": "..."}: from the command line
# (--flag) or else from daemon.json ("key"); undefined when neither sets it. `where`
# names the evidence for messages.
setting(flag, key) := {"value": v, "where": sprintf("--%s=%s on the dockerd command line", [flag, v])} if {
	v := flag_last(flag)
} else := {"value": v, "where": sprintf("\"%s\": %s in %s", [key, json.marshal(v), config_path])} if {
	v := config[key]
	v != null
}

# A repeatable daemon option: every --flag value and every element of the "key" array in
# daemon.json, each as {"value": v, "where": "..."}.
list_setting(flag, key) := from_flags | from_config if {
	from_flags := {x |
		some v in flag_values(flag)
		x := {"value": v, "where": sprintf("--%s=%s on the dockerd command line", [flag, v])}
	}
	from_config := {x |
		some v in config_elements(key)
		x := {"value": v, "where": sprintf("\"%s\" in %s lists %s", [key, config_path, json.marshal(v)])}
	}
}

config_elements(key) := config[key] if {
	is_array(config[key])
} else := [config[key]] if {
	config[key] != null
	not is_array(config[key])
} else := []

# A flag or daemon.json value read as a boolean ("true", "1", true, ...).
as_bool(v) := v if is_boolean(v)

as_bool(v) := true if {
	is_string(v)
	lower(v) in {"true", "1", "t"}
}

as_bool(v) := false if {
	is_string(v)
	lower(v) in {"false", "0", "f"}
}

# A boolean daemon option's effective value: as set, else the daemon's default.
enabled(flag, key, default_value) := b if {
	b := as_bool(setting(flag, key).value)
} else := default_value

# Where a boolean option's value comes from, for messages.
where(flag, key, default_value) := s.where if {
	s := setting(flag, key)
} else := sprintf("neither --%s nor \"%s\" in %s is set (default %v)", [flag, key, config_path, default_value])

# Every address the daemon listens on (-H/--host and "hosts").
hosts contains h.value if {
	some h in list_setting("host", "hosts")
}

# The listening addresses that are not local sockets (tcp://..., host:port).
tcp_hosts contains h if {
	some h in hosts
	not startswith(h, "unix://")
	not startswith(h, "fd://")
	not startswith(h, "npipe://")
}

# The daemon's data root: the document's docker_root, else docker info's, else the default.
data_root := r if {
	r := input.docker_root
	is_string(r)
} else := r if {
	r := info.DockerRootDir
	is_string(r)
} else := "/var/lib/docker"

# Where containers are stored: with user namespace remapping the daemon works in a
# <uid>.<gid> subdirectory of the configured root, so this is its parent.
container_root := trim_suffix(data_root, concat("", ["/", base])) if {
	userns_on
	parts := split(data_root, "/")
	base := parts[count(parts) - 1]
	regex.match(`^[0-9]+\.[0-9]+$`, base)
} else := data_root

# User namespace remapping is in effect (docker info: Security Options).
userns_on if {
	some o in list(info.SecurityOptions)
	startswith(o, "name=userns")
}

# Swarm state from docker info.
swarm := obj(info.Swarm)

# The node takes part in a swarm (active, or locked/pending/error while joined).
swarm_enabled if swarm.LocalNodeState in {"active", "pending", "error", "locked"}

# The node is a swarm manager.
swarm_manager if {
	swarm_enabled
	swarm.ControlAvailable == true
}

# ---------------------------------------------------------------------------------------
# Files (docker-host `files`)

# The file at path when it exists; undefined when it does not.
file(path) := f if {
	f := input.files[path]
	f.exists == true
}

# The systemd unit directories, in the order systemd prefers them.
unit_dirs := ["/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"]

# Every existing copy of a systemd unit file.
unit_files(unit) := [p |
	some d in unit_dirs
	p := concat("/", [d, unit])
	file(p)
]

# The first existing of several paths (for files reachable under two names).
first_existing(paths) := ps[0] if {
	ps := [p | some p in paths; file(p)]
	count(ps) > 0
}

# A mode such as "0644" as a number.
mode_bits(mode) := n if {
	digits := [to_number(c) | some c in split(mode, "")]
	weights := [1, 8, 64, 512, 4096, 32768]
	n := sum([x | some i, d in digits; x := d * weights[(count(digits) - 1) - i]])
}

# Whether mode sets no bit outside allowed: "0600" is at most "0644", "0664" is not.
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

# A message when the existing file at path is not owned by root:root.
not_root_owned(path) := msg if {
	f := file(path)
	not owned_by_root(f)
	msg := sprintf("%s is owned by %s, not root:root", [path, owner(f)])
}

# A message when the existing file at path has a mode beyond allowed.
too_open(path, allowed) := msg if {
	f := file(path)
	not mode_at_most(f.mode, allowed)
	msg := sprintf("%s has mode %s, more permissive than %s", [path, f.mode, allowed])
}

# ---------------------------------------------------------------------------------------
# Audit rules (docker-host `audit_rules`)

# The rules as word lists, comments and blank lines left out.
audit_rule_words := [words |
	some r in list(input.audit_rules)
	line := trim_space(r)
	line != ""
	not startswith(line, "#")
	words := [w | some w in split(replace(line, "\t", " "), " "); w != ""]
]

# Whether a rule watches path: `-w PATH ...` or `-a ... -F path=PATH` / `-F dir=PATH`.
audited(path) if {
	some words in audit_rule_words
	some i, w in words
	w == "-w"
	trim_suffix(words[i + 1], "/") == path
}

audited(path) if {
	some words in audit_rule_words
	some w in words
	some prefix in ["path=", "dir="]
	startswith(w, prefix)
	trim_suffix(trim_prefix(w, prefix), "/") == path
}

# Why path counts as not audited, for messages.
not_audited(path) := sprintf("no audit rule watches %s (auditd rules not found on this host)", [path]) if {
	input.audit_available == false
} else := sprintf("no audit rule watches %s", [path]) if {
	not audited(path)
}

# A message when the file or directory at path exists and no audit rule watches it.
audit_gap(path) := msg if {
	file(path)
	msg := not_audited(path)
}

# ---------------------------------------------------------------------------------------
# Images (docker-image)

# How an image is named in messages: its tags, else its id.
image_ref := concat(", ", input.tags) if {
	count(list(input.tags)) > 0
} else := input.id

image_config := obj(input.inspect.Config)

# A user that means root.
root_user(u) if u in {"", "0", "root"}

root_user(u) if startswith(u, "0:")

root_user(u) if startswith(u, "root:")

# ---------------------------------------------------------------------------------------
# Containers (docker-container)

host_config := obj(input.inspect.HostConfig)

container_config := obj(input.inspect.Config)

security_opts := list(host_config.SecurityOpt)

mounts := list(input.inspect.Mounts)

# Published ports as {"port": "80/tcp", "ip": "0.0.0.0", "host_port": "8080"}: what the
# running container publishes, else what it is configured to publish.
published_ports := running_ports if {
	count(running_ports) > 0
} else := configured_ports

running_ports := {p |
	some port, bindings in obj(obj(input.inspect.NetworkSettings).Ports)
	some b in list(bindings)
	p := {"port": port, "ip": object.get(b, "HostIp", ""), "host_port": object.get(b, "HostPort", "")}
}

configured_ports := {p |
	some port, bindings in obj(host_config.PortBindings)
	some b in list(bindings)
	p := {"port": port, "ip": object.get(b, "HostIp", ""), "host_port": object.get(b, "HostPort", "")}
}

# ---------------------------------------------------------------------------------------
# Containers (docker-container): the daemon's view, copied into each document

# Whether a Linux security module (apparmor, selinux) applies: the daemon reports it in
# its security options, or the daemon's info is unknown (then the check is judged as if it
# applied).
lsm_applicable(name) if {
	not is_object(input.daemon.info)
}

lsm_applicable(name) if {
	some o in list(input.daemon.info.SecurityOptions)
	startswith(o, sprintf("name=%s", [name]))
}

# The containerd socket the daemon uses: its --containerd / "containerd" setting, else the
# system containerd's, else the one dockerd starts itself (under its exec root).
containerd_socket := s if {
	s := setting("containerd", "containerd").value
	is_string(s)
} else := s if {
	s := first_existing(["/run/containerd/containerd.sock", "/run/docker/containerd/containerd.sock"])
} else := "/run/containerd/containerd.sock"

# ---------------------------------------------------------------------------------------
# docker exec (docker-container)

# The container's `docker exec` sessions: those the daemon still remembers and those the
# host's audit log records, each as {privileged, user, seen}.
exec_sessions contains s if {
	some e in list(input.execs)
	s := {"privileged": e.privileged, "user": e.user, "seen": sprintf("exec session `%s` that the daemon still holds", [e.cmd])}
}

exec_sessions contains s if {
	some e in list(input.exec_history)
	s := {"privileged": e.privileged, "user": e.user, "seen": sprintf("`%s` in the audit log at %s", [e.cmd, e.time])}
}

# Whether an exec's --user names root (by name or uid, with or without a group); no
# --user at all runs as the container's own user.
exec_as_root(u) if {
	is_string(u)
	split(u, ":")[0] in {"root", "0"}
}
