"""The awsemu pytest plugin, through its own fixtures, against the real binary with boto3."""

import json
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import awsemu as awsemu_pkg

pytest_plugins = ["pytester"]

AZ = "us-east-1a"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def error(e: pytest.ExceptionInfo):
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def volume_ids(ec2):
    return sorted(v["VolumeId"] for v in ec2.describe_volumes()["Volumes"])


# -- reset between tests (these two run in file order) ---------------------------------------

_first_volume = {}


def test_reset_a_volume_created_here(awsemu):
    ec2 = awsemu.client("ec2")
    assert volume_ids(ec2) == []
    v = ec2.create_volume(AvailabilityZone=AZ, Size=10)
    assert volume_ids(ec2) == [v["VolumeId"]]
    _first_volume["id"] = v["VolumeId"]


def test_reset_is_gone_in_the_next_test(awsemu):
    assert "id" in _first_volume, "runs after test_reset_a_volume_created_here"
    ec2 = awsemu.client("ec2")
    assert volume_ids(ec2) == []
    # The world starts again from the seed: the same calls make the same id.
    assert ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"] == _first_volume["id"]


def test_reset_leaves_no_trace_of_a_deleted_world(awsemu):
    assert "id" in _first_volume
    with pytest.raises(ClientError) as e:
        awsemu.client("ec2").describe_volumes(VolumeIds=[_first_volume["id"]])
    assert error(e)[:2] == ("InvalidVolume.NotFound", 400)


def test_snapshot_and_restore(awsemu):
    ec2 = awsemu.client("ec2")
    first = ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"]
    snap = awsemu.snapshot()
    second = ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"]
    awsemu.restore(snap)
    # The same ids next: the volume made after the snapshot is made again (a call in between
    # would take an id of its own, its request id).
    assert ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"] == second
    assert volume_ids(ec2) == sorted([first, second])
    listed = awsemu.snapshots()
    assert listed[-1]["id"] == snap and listed[-1]["volumes"] == 1
    with pytest.raises(awsemu_pkg.AwsemuError, match="HTTP 404"):
        awsemu.restore("snap-999999")
    awsemu.delete_snapshot(snap)
    assert snap not in [s["id"] for s in awsemu.snapshots()]


def test_session_fixture_is_the_same_server(awsemu_session, awsemu):
    assert awsemu is awsemu_session
    assert awsemu.endpoint.startswith("http://127.0.0.1:")
    assert awsemu.health()["status"] == "ok"


# -- clients per role --------------------------------------------------------------------------


def test_worker_is_denied_create_volume_and_controlplane_is_allowed(awsemu):
    if awsemu.iam != "enforce":
        pytest.skip("needs --awsemu-iam enforce")
    worker = awsemu.client("ec2", role="worker")
    assert worker.describe_regions()["Regions"]  # the worker policy allows ec2:DescribeRegions
    with pytest.raises(ClientError) as e:
        worker.create_volume(AvailabilityZone=AZ, Size=10)
    code, status, message = error(e)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert (
        f"User: arn:aws:sts::{awsemu.account_id}:assumed-role/worker/awsemu is not authorized "
        "to perform: ec2:CreateVolume" in message
    )
    assert volume_ids(awsemu.client("ec2")) == []

    v = awsemu.client("ec2", role="controlplane").create_volume(AvailabilityZone=AZ, Size=10)
    assert volume_ids(awsemu.client("ec2")) == [v["VolumeId"]]


def test_client_for_a_role_the_test_created(awsemu):
    iam = awsemu.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{awsemu.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeVolumes", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))

    creds = awsemu.credentials("reader")
    assert creds.access_key_id.startswith("ASIA") and creds.session_token
    arn = awsemu.client("sts", role="reader").get_caller_identity()["Arn"]
    if awsemu.iam != "off":  # under `off` every caller acts as the admin
        assert arn == f"arn:aws:sts::{awsemu.account_id}:assumed-role/reader/awsemu-pytest"
    ec2 = awsemu.client("ec2", role="reader")
    assert ec2.describe_volumes()["Volumes"] == []
    if awsemu.iam == "enforce":
        with pytest.raises(ClientError) as e:
            ec2.create_volume(AvailabilityZone=AZ, Size=10)
        assert error(e)[:2] == ("UnauthorizedOperation", 403)


def test_a_role_that_does_not_exist_is_an_sts_error(awsemu):
    with pytest.raises(ClientError) as e:
        awsemu.client("ec2", role="no-such-role")
    assert e.value.operation_name == "AssumeRole"


# -- faults ------------------------------------------------------------------------------------


def test_injected_fault_fails_the_call_as_it_says(awsemu):
    ec2 = awsemu.client("ec2")
    n = awsemu.inject(
        {
            "action": "ec2:CreateVolume",
            "error": {"code": "VolumeLimitExceeded", "message": "no more volumes", "status": 400},
            "times": 1,
        }
    )
    assert n == 1
    with pytest.raises(ClientError) as e:
        ec2.create_volume(AvailabilityZone=AZ, Size=10)
    assert error(e) == ("VolumeLimitExceeded", 400, "no more volumes")
    assert volume_ids(ec2) == []  # a faulted call changes nothing
    assert awsemu.faults()["rules"] == []  # `times: 1` is spent
    ec2.create_volume(AvailabilityZone=AZ, Size=10)
    assert len(volume_ids(ec2)) == 1


def test_server_errors_are_retried_by_boto3(awsemu):
    awsemu.inject({"action": "ec2:DescribeVolumes", "error": {"code": "InternalError", "status": 500}, "times": 1})
    # boto3's own retries get through a fault that fires once ...
    r = awsemu.client("ec2").describe_volumes()
    assert r["ResponseMetadata"]["RetryAttempts"] == 1
    # ... and a client without retries sees it.
    awsemu.inject({"action": "ec2:DescribeVolumes", "error": {"code": "InternalError", "status": 500}, "times": 1})
    with pytest.raises(ClientError) as e:
        awsemu.client("ec2", config=NO_RETRIES).describe_volumes()
    assert error(e)[:2] == ("InternalError", 500)


def test_clear_faults(awsemu):
    awsemu.inject({"action": "ec2:*", "error": {"code": "Unavailable", "message": "down", "status": 400}})
    ec2 = awsemu.client("ec2", config=NO_RETRIES)
    with pytest.raises(ClientError):
        ec2.describe_regions()
    awsemu.clear_faults()
    assert awsemu.faults()["rules"] == []
    assert ec2.describe_regions()["Regions"]


def test_live_faults_do_not_outlive_their_test_part_one(awsemu):
    awsemu.inject({"action": "ec2:DescribeRegions", "error": {"code": "Unavailable", "status": 400}})


def test_live_faults_do_not_outlive_their_test_part_two(awsemu):
    assert awsemu.faults()["rules"] == []
    assert awsemu.client("ec2", config=NO_RETRIES).describe_regions()["Regions"]


# -- environment for subprocesses --------------------------------------------------------------

SUBPROCESS = """
import boto3
ec2 = boto3.client("ec2")  # endpoint, keys and region from the environment only
print(boto3.client("sts").get_caller_identity()["Arn"])
print(ec2.create_volume(AvailabilityZone="us-east-1a", Size=3)["VolumeId"])
"""


def test_env_points_a_subprocess_at_the_server(awsemu, tmp_path):
    env = awsemu.env(role="controlplane")
    assert env["AWS_ENDPOINT_URL"] == awsemu.endpoint
    assert env["AWS_DEFAULT_REGION"] == awsemu.region
    # No profile or config file of the user's can change what the subprocess does.
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
    out = subprocess.run(
        [sys.executable, "-c", SUBPROCESS], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    arn, volume_id = out.stdout.split()
    if awsemu.iam != "off":
        assert arn == f"arn:aws:sts::{awsemu.account_id}:assumed-role/controlplane/awsemu"
    assert volume_ids(awsemu.client("ec2")) == [volume_id]


def test_env_of_a_denied_role_fails_in_the_subprocess(awsemu):
    if awsemu.iam != "enforce":
        pytest.skip("needs --awsemu-iam enforce")
    out = subprocess.run(
        [sys.executable, "-c", SUBPROCESS], env=awsemu.env(role="worker"), capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0
    assert "UnauthorizedOperation" in out.stderr
    assert volume_ids(awsemu.client("ec2")) == []


def test_awsemu_environ_serves_clients_made_by_the_code_under_test(awsemu_environ):
    assert boto3.client("ec2").create_volume(AvailabilityZone=AZ, Size=1)["VolumeId"].startswith("vol-")
    assert len(volume_ids(awsemu_environ.client("ec2"))) == 1


# -- options, through an inner pytest run -------------------------------------------------------


def test_iam_option_audit_lets_the_worker_through(pytester, awsemu_session):
    pytester.makepyfile(
        """
        def test_inner(awsemu):
            assert awsemu.iam == "audit"
            awsemu.client("ec2", role="worker").create_volume(AvailabilityZone="us-east-1a", Size=1)
            needed = awsemu.audit()["needed_actions"]
            assert "ec2:CreateVolume" in str(needed), needed
        """
    )
    result = pytester.runpytest_subprocess(f"--awsemu-bin={awsemu_session.binary}", "--awsemu-iam=audit")
    result.assert_outcomes(passed=1)


def test_bin_option_that_is_not_a_binary_fails_with_the_reason(pytester):
    pytester.makepyfile("def test_inner(awsemu):\n    pass\n")
    result = pytester.runpytest_subprocess("--awsemu-bin=/nonexistent/awsemu")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*awsemu binary '/nonexistent/awsemu' is not an executable file*"])


def test_server_class_without_pytest(awsemu_session):
    with awsemu_pkg.Server(awsemu_session.binary, seed=1, args=["--account-id", "000000000042"]) as s:
        assert s.account_id == "000000000042"
        assert s.client("sts").get_caller_identity()["Account"] == "000000000042"
    assert s.proc.returncode == 0  # SIGTERM: a clean shutdown



def test_config_principals_get_their_printed_keys(awsemu_session, tmp_path):
    volumes_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:CreateVolume", "Resource": "*"}],
    }
    config = tmp_path / "awsemu.json"
    config.write_text(
        json.dumps(
            {
                "policies": {"volumes-only": volumes_only},
                "principals": [
                    {"name": "alice", "access_key_id": "AKIAALICE", "secret_access_key": "s3cret", "policies": ["volumes-only"]},
                    {"name": "ci-bot", "access_key_id": "AKIACI", "secret_access_key": "s3cret", "role": "worker"},
                ],
            }
        )
    )
    with awsemu_pkg.Server(awsemu_session.binary, config=config) as s:
        assert s.credentials("alice") == awsemu_pkg.Credentials("AKIAALICE", "s3cret")
        assert s.credentials("worker") == awsemu_pkg.Credentials("worker", "worker")
        ec2 = s.client("ec2", role="alice")
        ec2.create_volume(AvailabilityZone=AZ, Size=1)
        with pytest.raises(ClientError) as e:
            ec2.describe_regions()
        assert error(e)[:2] == ("UnauthorizedOperation", 403)


def test_a_server_that_cannot_start_says_why(awsemu_session):
    with pytest.raises(awsemu_pkg.AwsemuError) as e:
        awsemu_pkg.Server(awsemu_session.binary, args=["--timing", "sideways"])
    assert "did not print its endpoint" in str(e.value)
    assert "sideways" in str(e.value)  # the server's own message comes along


def test_a_server_that_died_says_so(awsemu_session):
    s = awsemu_pkg.Server(awsemu_session.binary)
    s.stop()
    with pytest.raises(awsemu_pkg.AwsemuError) as e:
        s.reset()
    assert "awsemu exited with status 0" in str(e.value)
    assert "listening on" in str(e.value)


def test_find_binary_falls_back_to_the_repository_build(tmp_path, monkeypatch, awsemu_session):
    monkeypatch.delenv("AWSEMU_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    (tmp_path / "emulator").mkdir()
    (tmp_path / "emulator" / "Cargo.toml").write_text("[package]\nname = \"awsemu\"\n")
    (tmp_path / "target" / "debug").mkdir(parents=True)
    built = tmp_path / "target" / "debug" / "awsemu"
    built.symlink_to(awsemu_session.binary)
    (tmp_path / "some" / "dir").mkdir(parents=True)
    assert awsemu_pkg.find_binary(start=tmp_path / "some" / "dir") == str(built)
    monkeypatch.setenv("AWSEMU_BIN", awsemu_session.binary)
    assert awsemu_pkg.find_binary(start=tmp_path) == awsemu_session.binary
