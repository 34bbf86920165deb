"""boto3 against awsemu's instance metadata service: a node that knows only its metadata endpoint
gets its instance profile role's credentials through botocore's own credential chain and is held
to that role. Usage: imds_boto3.py ENDPOINT (admin keys test/test run the instance)."""
import json
import os
import sys
import urllib.request

import boto3
import botocore.exceptions
import botocore.session

endpoint = sys.argv[1]
admin = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test")
instance = admin.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                               IamInstanceProfile={"Name": "worker"})["Instances"][0]["InstanceId"]
with urllib.request.urlopen(f"{endpoint}/_awsemu/imds/{instance}") as r:
    imds = json.load(r)["endpoint"]

for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]:
    os.environ.pop(k, None)
os.environ["AWS_CONFIG_FILE"] = "/nonexistent/awsemu/config"
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/awsemu/credentials"
os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds
node = boto3.session.Session(botocore_session=botocore.session.Session(), region_name="us-east-1")
creds = node.get_credentials()
assert creds is not None and creds.method == "iam-role", creds and creds.method
sts = node.client("sts", endpoint_url=endpoint)
arn = sts.get_caller_identity()["Arn"]
assert arn.endswith(f":assumed-role/worker/{instance}"), arn
ec2 = node.client("ec2", endpoint_url=endpoint)
ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
assert instance in ids, ids
try:
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)
    raise SystemExit("create_volume as the worker node unexpectedly succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "UnauthorizedOperation", e.response
print(f"boto3 imds smoke test: ok ({arn} from {imds})")
