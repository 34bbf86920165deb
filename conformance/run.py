#!/usr/bin/env python3
"""boto3 conformance suite of awsemu: every emulated operation, one success and one error case.

Starts the release server on a free port, runs the case modules in conformance/cases/ against it,
prints a summary per service and exits 0 only if every case passed (or is a listed known failure)
and every operation that GET /_awsemu/operations lists has a success case and an error case.

    python conformance/run.py [--binary target/release/awsemu] [-v]
"""

import argparse
import importlib
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import botocore  # noqa: E402

import harness  # noqa: E402
from known_failures import KNOWN_FAILURES  # noqa: E402

MODULES = ["sts", "ec2", "ec2_key_pairs", "launch_templates", "elb", "elbv2", "autoscaling", "autoscaling_templates", "iam", "kms", "ecr"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "awsemu"))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--only", help="comma-separated case modules")
    args = ap.parse_args()

    t0 = time.time()
    server = harness.Server(args.binary)
    print(f"awsemu at {server.endpoint}; botocore {botocore.__version__}")
    failures = 0
    try:
        ops = server.get("/_awsemu/operations")
        ctx = harness.Ctx(server, KNOWN_FAILURES)
        mods = args.only.split(",") if args.only else MODULES
        for name in mods:
            server.post("/_awsemu/reset")
            mod = importlib.import_module("cases." + name)
            try:
                mod.run(ctx)
            except Exception:
                failures += 1
                print(f"!! case module {name} stopped:\n{traceback.format_exc()}")
    finally:
        server.stop()

    res = ctx.results
    for r in res:
        if r.status in ("fail", "xpass") or (args.verbose and r.status != "pass"):
            print(f"{r.status.upper():5} {r.service}:{r.op} [{r.kind}] {r.where}: {r.detail}")
        elif args.verbose:
            print(f"pass  {r.service}:{r.op} [{r.kind}] {r.where}")
    failures += sum(1 for r in res if r.status in ("fail", "xpass"))

    # Cases that name an operation the server does not list (a typo, or not emulated).
    unknown = sorted({(r.service, r.op) for r in res if r.op not in ops.get(r.service, {}).get("emulated", [])})
    for s, o in unknown:
        print(f"FAIL  {s}:{o}: a case names an operation the server does not list as emulated")
    failures += len(unknown)

    print()
    print(f"{'service':12} {'emulated':>8} {'success':>8} {'error':>8} {'xfail':>6}   (of the model's)")
    tot = [0, 0, 0, 0]
    missing = []
    for svc in sorted(ops):
        emulated = ops[svc]["emulated"]
        succ = {r.op for r in res if r.service == svc and r.kind == "success"}
        err = {r.op for r in res if r.service == svc and r.kind == "error"}
        xf = sum(1 for r in res if r.service == svc and r.status == "xfail")
        s = sum(1 for o in emulated if o in succ)
        e = sum(1 for o in emulated if o in err)
        for o in emulated:
            if o not in succ:
                missing.append(f"{svc}:{o} has no success case")
            if o not in err:
                missing.append(f"{svc}:{o} has no error case")
        print(f"{svc:12} {len(emulated):8} {s:8} {e:8} {xf:6}   ({ops[svc]['model_operations']})")
        for i, n in enumerate((len(emulated), s, e, xf)):
            tot[i] += n
    print(f"{'total':12} {tot[0]:8} {tot[1]:8} {tot[2]:8} {tot[3]:6}")
    n_pass = sum(1 for r in res if r.status == "pass")
    print(f"cases: {len(res)} run, {n_pass} passed, {tot[3]} known failures, "
          f"{sum(1 for r in res if r.status in ('fail', 'xpass'))} failed; {time.time() - t0:.1f}s")
    for m in missing:
        print("MISSING " + m)
    failures += len(missing)
    # The plain closing line CI systems read: N passed, N failed.
    print(f"conformance: {n_pass} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
