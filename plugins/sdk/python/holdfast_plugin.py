"""Write holdfast plugins in Python: the plugin protocol, version 1.

A plugin is any executable. holdfast asks it two things:

``PLUGIN info``
    The plugin prints one JSON manifest on stdout::

        {"protocol": 1, "name": "env-files", "version": "1.0.0",
         "description": "...", "author": "...",
         "commands": ["scan/image", "scan/container", "scan/rootfs"],
         "params": [{"name": "max_file_size", "type": "integer",
                     "default": 1048576, "help": "..."}],
         "kinds": ["secret"]}

``PLUGIN scan image`` (the two words of a command: ``scan/image``, ``scan/container``,
``scan/rootfs``, ``scan/config``)
    holdfast writes one JSON request on stdin and closes it::

        {"protocol": 1, "command": "scan/image",
         "target": {"name": "nginx:1.25", "kind": "image", "image_id": "sha256:..."},
         "rootfs": "/abs/path", "config": {"Env": [...], "ExposedPorts": {...}},
         "packages": [...], "params": {"max_file_size": 1048576},
         "deadline": "2025-01-01T00:00:00Z"}

    The rootfs is read-only. The plugin answers with events on stdout, one JSON object
    a line::

        {"type": "finding", "finding": {"id": "X-1", "severity": "HIGH", "title": "...",
                                        "description": "...", "path": "/etc/x",
                                        "line": 3, "remediation": "...", "kind": "secret"}}
        {"type": "log", "level": "info", "message": "..."}
        {"type": "progress", "done": 3, "total": 10}

    Severities are UNKNOWN, LOW, MEDIUM, HIGH and CRITICAL; kinds are holdfast's finding
    kinds (``secret``, ``misconfiguration``...), the manifest's first kind when a finding
    names none; ``path`` is the path inside the image, starting with ``/``.

Exit status: 0 when the scan succeeded, 1 when it failed (the reason on stderr), 2 on a
bad command line. The JSON Schemas are ``docs/plugin-*.schema.json`` in the holdfast
repository.

Use::

    import os
    from holdfast_plugin import Plugin

    def scan(request, emit):
        if os.path.exists(os.path.join(request["rootfs"], "etc/hello")):
            emit.finding("HELLO-1", "LOW", "a hello file", path="/etc/hello")

    Plugin("hello", "1.0.0", ["scan/image"]).run(scan)

This module needs only the standard library of Python 3.9 or later.
"""

import json
import sys

__all__ = ["Plugin", "Emitter", "PROTOCOL_VERSION", "COMMANDS", "SEVERITIES", "KINDS"]

PROTOCOL_VERSION = 1

COMMANDS = ("scan/image", "scan/container", "scan/rootfs", "scan/config")
SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
LOG_LEVELS = ("debug", "info", "warn", "error")
KINDS = (
    "vulnerability",
    "secret",
    "misconfiguration",
    "compliance",
    "malware",
    "webshell",
    "backdoor",
    "weak-password",
    "escape",
    "history",
    "suid",
)
PARAM_TYPES = ("string", "integer", "number", "boolean")

_FINDING_FIELDS = ("description", "path", "line", "remediation", "kind")


class Emitter:
    """Writes events to a text stream (stdout), one JSON line each, flushed at once."""

    def __init__(self, out=None):
        self._out = out if out is not None else sys.stdout

    def event(self, event):
        """Writes one event, a dict with a ``type``."""
        self._out.write(_json_line(event))
        self._out.flush()

    def finding(self, id, severity, title, **optional):
        """Reports a finding. ``optional`` takes ``description``, ``path``, ``line``,
        ``remediation`` and ``kind``; those that are None or empty are left out."""
        if severity not in SEVERITIES:
            raise ValueError("severity %r is not one of %s" % (severity, ", ".join(SEVERITIES)))
        unknown = sorted(set(optional) - set(_FINDING_FIELDS))
        if unknown:
            raise TypeError("unknown finding field(s): %s" % ", ".join(unknown))
        finding = {"id": str(id), "severity": severity, "title": str(title)}
        for name in _FINDING_FIELDS:
            value = optional.get(name)
            if value is None or value == "":
                continue
            if name == "line":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError("line %r is not a 1-based line number" % (value,))
            elif name == "kind":
                if value not in KINDS:
                    raise ValueError("kind %r is not one of %s" % (value, ", ".join(KINDS)))
            else:
                value = str(value)
            finding[name] = value
        self.event({"type": "finding", "finding": finding})

    def log(self, level, message):
        """Writes a message for holdfast's log; ``level`` is debug, info, warn or error."""
        if level not in LOG_LEVELS:
            raise ValueError("log level %r is not one of %s" % (level, ", ".join(LOG_LEVELS)))
        self.event({"type": "log", "level": level, "message": str(message)})

    def progress(self, done, total=None):
        """Reports that ``done`` of ``total`` steps are done (``total`` when known)."""
        event = {"type": "progress", "done": _count(done, "done")}
        if total is not None:
            event["total"] = _count(total, "total")
        self.event(event)


def _json_line(value):
    """One line of ASCII JSON; lone surrogates (undecodable file names read with
    ``surrogateescape``) become U+FFFD, as JSON readers reject them."""
    return json.dumps(_clean(value), separators=(",", ":")) + "\n"


def _clean(value):
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("%s %r is not a count" % (what, value))
    return value


class UsageError(Exception):
    """A bad command line: exit status 2."""


class Plugin:
    """A plugin: its manifest, and ``run`` to answer holdfast.

    ``params`` is a list of dicts ``{"name", "type", "default", "help"}`` (only ``name``
    is required; ``type`` is string, integer, number or boolean). ``kinds`` lists the
    finding kinds the plugin reports, the first being the default of its findings.
    """

    def __init__(
        self,
        name,
        version,
        commands,
        description="",
        author="",
        params=None,
        kinds=None,
    ):
        self.name = name
        self.version = version
        self.commands = list(commands)
        self.description = description
        self.author = author
        self.params = [dict(p) for p in (params or [])]
        self.kinds = list(kinds or [])
        for c in self.commands:
            if c not in COMMANDS:
                raise ValueError("%r is not a plugin command (%s)" % (c, ", ".join(COMMANDS)))
        for p in self.params:
            if p.get("type", "string") not in PARAM_TYPES:
                raise ValueError("parameter %r: type is not one of %s"
                                 % (p.get("name"), ", ".join(PARAM_TYPES)))
        for k in self.kinds:
            if k not in KINDS:
                raise ValueError("kind %r is not one of %s" % (k, ", ".join(KINDS)))

    def manifest(self):
        """The manifest ``info`` prints, as a dict."""
        params = []
        for p in self.params:
            spec = {"name": p["name"], "type": p.get("type", "string")}
            if p.get("default") is not None:
                spec["default"] = p["default"]
            spec["help"] = p.get("help", "")
            params.append(spec)
        return {
            "protocol": PROTOCOL_VERSION,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "author": self.author,
            "commands": self.commands,
            "params": params,
            "kinds": self.kinds,
        }

    def run(self, scan, argv=None, stdin=None, stdout=None):
        """Answers the command line and exits: ``info`` prints the manifest; ``scan X``
        reads the request (a dict) from stdin and calls ``scan(request, emit)``, with
        ``emit`` an :class:`Emitter`. Exits 0 on success, 1 when ``scan`` raised (the
        error on stderr), 2 on a bad command line. ``request["params"]`` holds every
        declared parameter, defaults filled in."""
        sys.exit(self.main(scan, argv, stdin, stdout))

    def main(self, scan, argv=None, stdin=None, stdout=None):
        """Like :meth:`run`, but returns the exit status instead of exiting."""
        args = list(sys.argv[1:] if argv is None else argv)
        stdin = sys.stdin if stdin is None else stdin
        stdout = sys.stdout if stdout is None else stdout
        try:
            if args == ["info"]:
                stdout.write(_json_line(self.manifest()))
                stdout.flush()
                return 0
            command = "/".join(args) if len(args) == 2 else None
            if command not in COMMANDS:
                raise UsageError(
                    "usage: info | scan image|container|rootfs|config (got `%s`)" % " ".join(args)
                )
            if command not in self.commands:
                raise UsageError("does not answer %s" % command)
            request = self._read_request(stdin)
            scan(request, Emitter(stdout))
            stdout.flush()
            return 0
        except UsageError as e:
            _complain(self.name, e)
            return 2
        except BrokenPipeError:
            _complain(self.name, "stdout was closed")
            return 1
        except Exception as e:  # the protocol's answer to any failure is status 1
            _complain(self.name, "%s: %s" % (type(e).__name__, e))
            return 1

    def _read_request(self, stdin):
        try:
            request = json.loads(stdin.read())
        except ValueError as e:
            raise ValueError("request: %s" % e) from None
        if not isinstance(request, dict):
            raise ValueError("request: not a JSON object")
        if request.get("protocol") != PROTOCOL_VERSION:
            raise ValueError("request: protocol %r, this plugin speaks %d"
                             % (request.get("protocol"), PROTOCOL_VERSION))
        for field in ("command", "target", "rootfs"):
            if field not in request:
                raise ValueError("request: no `%s`" % field)
        params = request.get("params") or {}
        for p in self.params:
            if params.get(p["name"]) is None and p.get("default") is not None:
                params[p["name"]] = p["default"]
        request["params"] = params
        request.setdefault("config", None)
        request.setdefault("packages", [])
        return request


def _complain(name, message):
    try:
        sys.stderr.write("%s: %s\n" % (name, message))
        sys.stderr.flush()
    except Exception:
        pass
