"""Start the awsemu AWS emulator from Python and talk to it.

    from awsemu import Server

    with Server(seed=7) as emu:                       # `awsemu serve --port 0` on a free port
        ec2 = emu.client("ec2", role="worker")        # boto3, signed with the worker role's keys
        subprocess.run(["my-tool"], env=emu.env(role="controlplane"), check=True)
        emu.inject({"action": "ec2:CreateVolume", "error": {"code": "InternalError", "status": 500}})
        emu.reset()                                   # a fresh world, live faults cleared

The pytest plugin (`awsemu.pytest_plugin`, registered through the `pytest11` entry point) wraps
this class in the `awsemu_session` and `awsemu` fixtures. Only the standard library is needed;
boto3 is imported when a client or session is asked for.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Deque, Dict, Iterable, List, Mapping, Optional, Sequence, Union

__all__ = ["Server", "Credentials", "AwsemuError", "find_binary", "BUILTIN_ROLES"]

#: The roles every server has, each with static keys (its name, twice) unless a config replaces them.
BUILTIN_ROLES = ("controlplane", "etcd", "worker")

# What `awsemu serve` prints at start (emulator/src/main.rs, print_banner).
_LISTENING = re.compile(r"awsemu \S+ listening on (http://\S+)")
_ACCOUNT = re.compile(r"^account (\d{12})\s+default region (\S+)\s+iam (\S+)")
_EXPORT = "export AWS_ENDPOINT_URL="

# Variables that would point a subprocess's SDK elsewhere or at other credentials.
_CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class AwsemuError(RuntimeError):
    """The server could not be found or started, or an admin call failed."""


@dataclass(frozen=True)
class Credentials:
    """Keys for one principal; `session_token` is set for credentials from STS AssumeRole."""

    access_key_id: str
    secret_access_key: str
    session_token: Optional[str] = None


def find_binary(explicit: Optional[str] = None, start: Optional[Union[str, Path]] = None) -> str:
    """The awsemu binary: `explicit`, else `$AWSEMU_BIN`, else `awsemu` on PATH, else
    `target/debug/awsemu` (or `target/release/awsemu`) of the awsemu repository containing `start`
    (default: the current directory) or this package's source tree."""
    for candidate in (explicit, os.environ.get("AWSEMU_BIN")):
        if candidate:
            path = shutil.which(candidate) or candidate
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise AwsemuError(f"awsemu binary {candidate!r} is not an executable file")
            return os.path.abspath(path)
    on_path = shutil.which("awsemu")
    if on_path:
        return on_path
    roots = [Path(start or os.getcwd()).resolve(), Path(__file__).resolve().parent]
    for root in roots:
        for d in (root, *root.parents):
            # The repository is the directory that holds the emulator crate.
            if (d / "emulator" / "Cargo.toml").is_file():
                for profile in ("debug", "release"):
                    b = d / "target" / profile / "awsemu"
                    if os.access(b, os.X_OK):
                        return str(b)
    raise AwsemuError(
        "no awsemu binary: set AWSEMU_BIN or --awsemu-bin, put awsemu on PATH, "
        "or run from the awsemu repository after `cargo build -p awsemu`"
    )


class Server:
    """One `awsemu serve` process on a free loopback port, stopped by `stop()` (or `with`).

    `iam` is `enforce` (AWS's behaviour, the server's default), `audit` or `off`; `seed` fixes
    every generated id; `config` is a JSON config file (principals, roles, policies, faults);
    `args` are more `serve` flags, e.g. `["--timing", "fast"]`.
    """

    def __init__(
        self,
        binary: Optional[str] = None,
        *,
        iam: Optional[str] = None,
        seed: Optional[int] = None,
        config: Optional[Union[str, Path]] = None,
        args: Sequence[str] = (),
        start_timeout: float = 30.0,
    ):
        self.binary = find_binary(binary)
        cmd = [self.binary, "serve", "--bind", "127.0.0.1", "--port", "0"]
        if iam:
            cmd += ["--iam", iam]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        if config:
            cmd += ["--config", str(config)]
        cmd += list(args)
        self.command = cmd
        self.endpoint: str = ""
        self.account_id: str = ""
        self.region: str = ""
        self.iam: str = ""
        #: Long-lived keys by principal name, as the server printed them (admin, the roles, config principals).
        self.principals: Dict[str, Credentials] = {}
        # The output's last lines (a long run with logging on must not grow without bound).
        self._lines: Deque[str] = collections.deque(maxlen=5000)
        self._boto3_session: Any = None
        self._banner_done = threading.Event()
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        # One thread reads the output for the whole life of the process: it parses the banner,
        # then keeps draining so the server never blocks on a full pipe.
        self._reader = threading.Thread(target=self._read_output, name="awsemu-output", daemon=True)
        self._reader.start()
        # A run that ends without calling stop() (an error before teardown) leaves no server behind.
        atexit.register(self.stop)
        if not self._banner_done.wait(start_timeout) or not self.endpoint:
            self.stop()
            raise AwsemuError(
                f"awsemu did not print its endpoint ({' '.join(cmd)}):\n{self.output()}"
            )

    # -- process ------------------------------------------------------------------------------

    def _read_output(self) -> None:
        in_table = False
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.append(line)
            if self._banner_done.is_set():
                continue
            text = line.rstrip("\n")
            m = _LISTENING.search(text)
            if m:
                self.endpoint = m.group(1)
                continue
            m = _ACCOUNT.match(text)
            if m:
                self.account_id, self.region, self.iam = m.group(1), m.group(2), m.group(3).lower()
                continue
            if text.startswith("principal ") and "access key id" in text:
                in_table = True
                continue
            if in_table:
                parts = text.split()
                if len(parts) >= 3:
                    # A config principal given a role is listed under the role's name; the
                    # role's own keys (its name, as README documents) stay the role's.
                    name, key, secret = parts[:3]
                    if name not in self.principals or key == name:
                        self.principals[name] = Credentials(key, secret)
                else:
                    in_table = False
            if text.startswith(_EXPORT):
                self._banner_done.set()
        # EOF: the process ended (before or after its banner).
        self._banner_done.set()

    def output(self) -> str:
        """What the server printed so far (banner, logs; the last 5000 lines)."""
        return "".join(self._lines)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (the server finishes in-flight requests), then SIGKILL after `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<awsemu.Server {self.endpoint or '(not started)'} iam={self.iam}>"

    # -- admin API (/_awsemu/*) ---------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Calls `/_awsemu/<path>` and answers its JSON; a non-2xx answer raises AwsemuError."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.endpoint}/_awsemu/{path.lstrip('/')}", data=data, method=method
        )
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raise AwsemuError(
                f"{method} /_awsemu/{path}: HTTP {e.code}: {e.read().decode(errors='replace')}"
            ) from None
        except urllib.error.URLError as e:
            # Most likely the server is gone: say so, with the end of what it printed.
            status = self.proc.poll()
            state = "running" if status is None else f"exited with status {status}"
            tail = "".join(list(self._lines)[-20:])
            raise AwsemuError(
                f"{method} /_awsemu/{path}: {e.reason} (awsemu {state}); its last output:\n{tail}"
            ) from None
        return json.loads(raw) if raw else None

    def health(self) -> Dict[str, Any]:
        return self.admin("GET", "health")

    def reset(self) -> None:
        """A fresh world from the seed and config; live faults are cleared, configured ones return."""
        self.admin("POST", "reset")

    def state(self) -> Dict[str, Any]:
        """The whole world as JSON (`GET /_awsemu/state`)."""
        return self.admin("GET", "state")

    def calls(self) -> List[Dict[str, Any]]:
        """The call log (`GET /_awsemu/calls`)."""
        return self.admin("GET", "calls")

    def audit(self) -> Dict[str, Any]:
        """What the policies would deny under `iam audit`, and the actions each principal needs."""
        return self.admin("GET", "audit")

    def inject(self, fault: Union[Mapping[str, Any], Iterable[Mapping[str, Any]]]) -> int:
        """Adds one fault entry or a list (README's "Injected faults" format); answers how many."""
        body = dict(fault) if isinstance(fault, Mapping) else [dict(f) for f in fault]
        return int(self.admin("POST", "faults", body).get("added", 0))

    def faults(self) -> Dict[str, Any]:
        """The fault entries with their counts (`seen`, `fired`, `remaining`) and the throttle buckets."""
        return self.admin("GET", "faults")

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def snapshot(self) -> str:
        """Keeps the whole world as it is now (`POST /_awsemu/snapshots`: resources, ids, clock, IAM
        entities, faults) and answers its id for `restore`. Snapshots outlive `reset`."""
        return self.admin("POST", "snapshots")["id"]

    def restore(self, snapshot_id: str) -> None:
        """Puts a snapshot's world back: from then on the server answers as it did when the
        snapshot was taken (the same ids next, the same clock)."""
        self.admin("POST", f"snapshots/{snapshot_id}/restore")

    def delete_snapshot(self, snapshot_id: str) -> None:
        """Forgets a snapshot (the server keeps each in memory until then)."""
        self.admin("DELETE", f"snapshots/{snapshot_id}")

    def snapshots(self) -> List[Dict[str, Any]]:
        """The snapshots taken, oldest first (`id`, `clock_ms`, `time`, `instances`, `volumes`)."""
        return self.admin("GET", "snapshots")["snapshots"]

    # -- credentials and clients --------------------------------------------------------------

    def role_arn(self, role: str) -> str:
        return role if role.startswith("arn:") else f"arn:aws:iam::{self.account_id}:role/{role}"

    def credentials(self, role: Optional[str] = None, session_name: str = "awsemu-pytest") -> Credentials:
        """Keys for the admin (`role=None`), for a principal the server printed (`controlplane`,
        `etcd`, `worker`, or one from the config), or for any other role of the account, assumed
        through STS AssumeRole with the admin's keys (the role's trust policy must let the account
        or the admin user assume it)."""
        if role is None:
            role = "admin"
        if role in self.principals:
            return self.principals[role]
        if role == "admin":
            raise AwsemuError("this server has no admin principal (its config replaced the defaults)")
        sts = self.client("sts")
        c = sts.assume_role(RoleArn=self.role_arn(role), RoleSessionName=session_name)["Credentials"]
        return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    def session(self, role: Optional[str] = None, **credential_kwargs: Any):
        """A boto3 Session for `role` (see `credentials`) in the server's region, reading no profile."""
        import boto3

        c = self.credentials(role, **credential_kwargs)
        return boto3.session.Session(
            aws_access_key_id=c.access_key_id,
            aws_secret_access_key=c.secret_access_key,
            aws_session_token=c.session_token,
            region_name=self.region,
        )

    def client(self, service: str, role: Optional[str] = None, **kwargs: Any):
        """A boto3 client of `service` at this server, as `role` (None: the admin). Other keyword
        arguments go to `Session.client` (e.g. `config=botocore.config.Config(retries=...)`)."""
        c = self.credentials(role)
        kwargs.setdefault("endpoint_url", self.endpoint)
        kwargs.setdefault("region_name", self.region)
        # One boto3 session for every client: it loads each service's model once (a new session
        # per client would parse EC2's model again, a third of a second each time). The keys go
        # to the client, never onto the shared session.
        if self._boto3_session is None:
            import boto3

            self._boto3_session = boto3.session.Session()
        return self._boto3_session.client(
            service,
            aws_access_key_id=c.access_key_id,
            aws_secret_access_key=c.secret_access_key,
            aws_session_token=c.session_token,
            **kwargs,
        )

    def env(self, role: Optional[str] = None, base: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        """Environment for a subprocess: `base` (default `os.environ`) with AWS_ENDPOINT_URL, the
        role's keys and the region set, and profiles, stale session tokens and service-specific
        endpoint variables removed."""
        env = dict(os.environ if base is None else base)
        for k in list(env):
            if k in _CLEARED_ENV or k.startswith("AWS_ENDPOINT_URL_"):
                del env[k]
        c = self.credentials(role)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=c.access_key_id,
            AWS_SECRET_ACCESS_KEY=c.secret_access_key,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
        )
        if c.session_token:
            env["AWS_SESSION_TOKEN"] = c.session_token
        return env
