"""The conformance harness: the server, boto3 clients, cases and their bookkeeping.

A case names one operation and says whether it must succeed or fail:

    with t.ok("CreateVolume"):
        v = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)
        eq(v["Size"], 10)

    with t.err("DeleteVolume", "InvalidVolume.NotFound", 400):
        ec2.delete_volume(VolumeId="vol-0123456789abcdef0")

`ok` passes when the block runs through, the named operation was called through one of the
harness's clients and every call of it in the block answered 2xx and parsed. `err` passes when the
block raises botocore's `ClientError` for that operation with that code and HTTP status (a parse
failure is not a ClientError). A failing case is recorded and the block is left; the rest of the
sequence goes on (a later step that needed the block's result fails in its turn).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import urllib.request

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"

# Service names as /_awsemu/operations spells them -> boto3 client names.
BOTO_NAME = {
    "ec2": "ec2",
    "elb": "elb",
    "elbv2": "elbv2",
    "autoscaling": "autoscaling",
    "iam": "iam",
    "sts": "sts",
    "kms": "kms",
    "ecr": "ecr",
}


class CheckFailed(AssertionError):
    pass


def eq(got, want, what=""):
    if got != want:
        raise CheckFailed(f"{what or 'value'}: got {got!r}, want {want!r}")


def true(cond, what):
    if not cond:
        raise CheckFailed(what)


def has(d, *keys):
    """d[k1][k2]..., failing with the path when a key is missing."""
    cur = d
    path = []
    for k in keys:
        path.append(str(k))
        try:
            cur = cur[k]
        except (KeyError, IndexError, TypeError):
            raise CheckFailed(f"missing {'/'.join(path)} in {str(d)[:300]}")
    return cur


def one(items, what="items"):
    if len(items) != 1:
        raise CheckFailed(f"{what}: want exactly one, got {len(items)}: {str(items)[:300]}")
    return items[0]


class Server:
    """The release binary on a free port."""

    def __init__(self, binary: str, seed: int = 7):
        self.proc = subprocess.Popen(
            [binary, "serve", "--port", "0", "--seed", str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.endpoint = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"listening on (http://[0-9.]+:\d+)", line)
            if m:
                self.endpoint = m.group(1)
                break
        if not self.endpoint:
            self.proc.kill()
            raise RuntimeError("awsemu did not print its endpoint")
        # Keep draining its output so it never blocks on a full pipe.
        self.log = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.log.append(line)

    def get(self, path):
        with urllib.request.urlopen(self.endpoint + path, timeout=30) as r:
            return json.load(r)

    def post(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST")
        req.add_header("content-type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Result:
    def __init__(self, service, op, kind, status, detail="", where=""):
        self.service, self.op, self.kind = service, op, kind
        self.status = status  # pass | fail | xfail | xpass
        self.detail = detail
        self.where = where


class Ctx:
    """What every case module gets: clients, the emulator's state, the case recorders."""

    def __init__(self, server: Server, known_failures: dict):
        self.server = server
        self.known = known_failures
        self.results: list[Result] = []
        self.calls: list | None = None  # operations called inside the current case
        self._clients = {}

    # --- clients -------------------------------------------------------------------------

    def client(self, service, key="test", validate=True, **cfg):
        """A boto3 client for `service` as principal `key` (access key = secret). Retries are off:
        every answer is the emulator's first. `validate=False` turns botocore's client-side
        parameter validation off, so error cases can send what the model forbids."""
        k = (service, key, validate, tuple(sorted(cfg.items())))
        if k in self._clients:
            return self._clients[k]
        session = boto3.Session(
            aws_access_key_id=key, aws_secret_access_key=key, region_name=REGION
        )
        c = session.client(
            BOTO_NAME[service],
            endpoint_url=self.server.endpoint,
            config=Config(
                retries={"total_max_attempts": 1},
                parameter_validation=validate,
                connect_timeout=10,
                read_timeout=60,
                **cfg,
            ),
        )
        c.meta.events.register("after-call", self._after_call)
        c.meta.events.register("needs-retry", self._needs_retry)
        self._clients[k] = c
        return c

    def _after_call(self, http_response=None, parsed=None, model=None, **_):
        if self.calls is not None:
            self.calls.append((model.name, http_response.status_code, parsed))

    def _needs_retry(self, response=None, operation=None, **_):
        # Called with the raw answer even when parsing will fail later; nothing to retry.
        return None

    # --- emulator state ------------------------------------------------------------------

    def state(self):
        return self.server.get("/_awsemu/state")

    def ec2_state(self):
        return self.state()["ec2"][REGION]

    # --- cases ---------------------------------------------------------------------------

    def service(self, name):
        return ServiceCases(self, name)

    def record(self, service, op, kind, ok, detail, where):
        key = (service, op, kind)
        known = self.known.get(key)
        if ok and known is None:
            status = "pass"
        elif ok:
            status = "xpass"
            detail = f"listed in KNOWN_FAILURES ({known}) but passed: remove it"
        elif known is not None:
            status = "xfail"
            detail = f"{known} -- {detail}"
        else:
            status = "fail"
        self.results.append(Result(service, op, kind, status, detail, where))


class ServiceCases:
    def __init__(self, ctx: Ctx, service: str):
        self.ctx = ctx
        self.name = service

    def ok(self, op):
        return _Case(self.ctx, self.name, op, "success", None, None)

    def err(self, op, code, status):
        return _Case(self.ctx, self.name, op, "error", code, status)


def _where():
    # The case's line in a case module.
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/cases/" in frame.filename:
            return f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return ""


class _Case:
    def __init__(self, ctx, service, op, kind, code, status):
        self.ctx, self.service, self.op, self.kind = ctx, service, op, kind
        self.code, self.status = code, status
        self.where = _where()

    def __enter__(self):
        if self.ctx.calls is not None:
            raise RuntimeError("cases do not nest")
        self.ctx.calls = []
        return self

    def __exit__(self, et, ev, tb):
        calls, self.ctx.calls = self.ctx.calls, None
        ok, detail = self._judge(calls, et, ev, tb)
        self.ctx.record(self.service, self.op, self.kind, ok, detail, self.where)
        return True  # the sequence goes on either way

    def _judge(self, calls, et, ev, tb):
        mine = [c for c in calls if c[0] == self.op]
        if self.kind == "success":
            if et is not None:
                return False, _describe(ev, tb)
            if not mine:
                return False, f"the block never called {self.op} (called: {[c[0] for c in calls]})"
            for _, status, parsed in mine:
                if status >= 300:
                    return False, f"{self.op} answered HTTP {status}"
                rid = parsed.get("ResponseMetadata", {}).get("RequestId")
                if not rid:
                    return False, f"{self.op}: no request id in the parsed answer"
            return True, ""
        # error case
        if et is None:
            return False, f"expected {self.code}/{self.status}, the block raised nothing"
        if not isinstance(ev, ClientError):
            return False, "not a ClientError: " + _describe(ev, tb)
        got_op = ev.operation_name
        err = ev.response.get("Error", {})
        meta = ev.response.get("ResponseMetadata", {})
        got = (err.get("Code"), meta.get("HTTPStatusCode"))
        if got_op != self.op:
            return False, f"error came from {got_op}, not {self.op}: {got} {err.get('Message')}"
        if got != (self.code, self.status):
            return False, f"got {got} {err.get('Message')!r}, want {(self.code, self.status)}"
        if not err.get("Message"):
            return False, f"{got}: the parsed error has no Message"
        if not meta.get("RequestId"):
            return False, f"{got}: the parsed error has no request id"
        return True, ""


def _describe(ev, tb):
    lines = traceback.format_exception(type(ev), ev, tb)
    # The exception and the innermost case-module frame.
    frames = [f for f in traceback.extract_tb(tb) if "/cases/" in f.filename]
    at = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(ev).__name__}: {str(ev)[:600]}{at}"
