from harness import ACCOUNT, eq, true


def run(ctx):
    t = ctx.service("sts")
    sts = ctx.client("sts")
    worker = ctx.client("sts", key="worker")
    bad = ctx.client("sts", validate=False)

    with t.ok("GetCallerIdentity"):
        r = sts.get_caller_identity()
        eq(r["Account"], ACCOUNT, "Account")
        eq(r["Arn"], f"arn:aws:iam::{ACCOUNT}:user/admin", "Arn")
        r = worker.get_caller_identity()
        eq(r["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/worker/awsemu", "worker Arn")
    # Unknown access key: the signature cannot be checked.
    with t.err("GetCallerIdentity", "InvalidClientTokenId", 403):
        ctx.client("sts", key="AKIANOSUCHKEY").get_caller_identity()

    import json
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    ctx.client("iam").create_role(RoleName="conf-assumable", AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/conf-assumable"
    with t.ok("AssumeRole"):
        r = sts.assume_role(RoleArn=role_arn, RoleSessionName="conf", DurationSeconds=900)
        c = r["Credentials"]
        true(c["AccessKeyId"].startswith("ASIA"), f"AccessKeyId {c['AccessKeyId']}")
        true(c["SecretAccessKey"] and c["SessionToken"], "secret and token")
        eq(r["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/conf-assumable/conf", "Arn")
        true(r["AssumedRoleUser"]["AssumedRoleId"].endswith(":conf"), "AssumedRoleId")
        # The credentials act as the session.
        import boto3
        s = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                          aws_session_token=c["SessionToken"], region_name="us-east-1")
        me = s.client("sts", endpoint_url=ctx.server.endpoint).get_caller_identity()
        eq(me["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/conf-assumable/conf", "session identity")
    with t.err("AssumeRole", "AccessDenied", 403):
        worker.assume_role(RoleArn=role_arn, RoleSessionName="xx")

    # An encoded authorization message from a refused EC2 call.
    ec2w = ctx.client("ec2", key="worker")
    msg = None
    try:
        ec2w.create_volume(AvailabilityZone="us-east-1a", Size=1)
    except Exception as e:  # UnauthorizedOperation with an encoded message
        m = str(e)
        msg = m.split("Encoded authorization failure message: ")[-1].strip() if "Encoded" in m else None
    with t.ok("DecodeAuthorizationMessage"):
        true(msg, "the refused CreateVolume carries an encoded message")
        r = sts.decode_authorization_message(EncodedMessage=msg)
        import json
        d = json.loads(r["DecodedMessage"])
        eq(d["allowed"], False, "allowed")
        eq(d["context"]["action"], "ec2:CreateVolume", "context.action")
    with t.err("DecodeAuthorizationMessage", "InvalidAuthorizationMessageException", 400):
        sts.decode_authorization_message(EncodedMessage="not-a-message")
