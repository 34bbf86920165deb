import json
import urllib.parse

from harness import ACCOUNT, eq, one, true

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}]}


def doc(s):
    # IAM answers documents URL-encoded; botocore leaves them as they come.
    return json.loads(urllib.parse.unquote(s)) if isinstance(s, str) else s


def run(ctx):
    t = ctx.service("iam")
    iam = ctx.client("iam")
    bad = ctx.client("iam", validate=False)
    worker = ctx.client("iam", key="worker")

    with t.ok("CreateRole"):
        r = iam.create_role(RoleName="conf-role", Path="/conf/", AssumeRolePolicyDocument=json.dumps(TRUST),
                            Description="d", MaxSessionDuration=7200, Tags=[{"Key": "k", "Value": "v"}])["Role"]
        eq((r["RoleName"], r["Path"], r["Arn"]), ("conf-role", "/conf/", f"arn:aws:iam::{ACCOUNT}:role/conf/conf-role"), "role")
        true(r["RoleId"].startswith("AROA"), r["RoleId"])
        eq(doc(r["AssumeRolePolicyDocument"]), TRUST, "trust")
    with t.err("CreateRole", "EntityAlreadyExists", 409):
        iam.create_role(RoleName="conf-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    with t.ok("GetRole"):
        r = iam.get_role(RoleName="conf-role")["Role"]
        eq((r["Path"], r["Description"], r["Tags"]), ("/conf/", "d", [{"Key": "k", "Value": "v"}]), "role")
        eq(r["MaxSessionDuration"], 7200, "MaxSessionDuration")
    with t.err("GetRole", "NoSuchEntity", 404):
        iam.get_role(RoleName="no-such-role")
    with t.ok("ListRoles"):
        rs = iam.list_roles(PathPrefix="/conf/")["Roles"]
        eq([r["RoleName"] for r in rs], ["conf-role"], "roles")
        names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
        true({"worker", "controlplane", "etcd"} <= names, f"built-in roles {names}")
    with t.err("ListRoles", "AccessDenied", 403):
        worker.list_roles()
    with t.ok("UpdateRole"):
        iam.update_role(RoleName="conf-role", Description="d2", MaxSessionDuration=3600)
        r = iam.get_role(RoleName="conf-role")["Role"]
        eq((r["Description"], r["MaxSessionDuration"]), ("d2", 3600), "updated")
    with t.err("UpdateRole", "NoSuchEntity", 404):
        iam.update_role(RoleName="no-such-role", Description="x")
    with t.ok("UpdateAssumeRolePolicy"):
        tr = json.loads(json.dumps(TRUST)); tr["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        iam.update_assume_role_policy(RoleName="conf-role", PolicyDocument=json.dumps(tr))
        eq(doc(iam.get_role(RoleName="conf-role")["Role"]["AssumeRolePolicyDocument"]), tr, "trust")
    with t.err("UpdateAssumeRolePolicy", "MalformedPolicyDocument", 400):
        iam.update_assume_role_policy(RoleName="conf-role", PolicyDocument="{nope")

    with t.ok("PutRolePolicy"):
        iam.put_role_policy(RoleName="conf-role", PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    with t.err("PutRolePolicy", "MalformedPolicyDocument", 400):
        iam.put_role_policy(RoleName="conf-role", PolicyName="inline", PolicyDocument="{nope")
    with t.ok("GetRolePolicy"):
        r = iam.get_role_policy(RoleName="conf-role", PolicyName="inline")
        eq((r["RoleName"], r["PolicyName"]), ("conf-role", "inline"), "names")
        eq(doc(r["PolicyDocument"]), POLICY, "document")
    with t.err("GetRolePolicy", "NoSuchEntity", 404):
        iam.get_role_policy(RoleName="conf-role", PolicyName="nope")
    with t.ok("ListRolePolicies"):
        eq(iam.list_role_policies(RoleName="conf-role")["PolicyNames"], ["inline"], "names")
    with t.err("ListRolePolicies", "NoSuchEntity", 404):
        iam.list_role_policies(RoleName="no-such-role")
    with t.ok("DeleteRolePolicy"):
        iam.delete_role_policy(RoleName="conf-role", PolicyName="inline")
        eq(iam.list_role_policies(RoleName="conf-role")["PolicyNames"], [], "none left")
    with t.err("DeleteRolePolicy", "NoSuchEntity", 404):
        iam.delete_role_policy(RoleName="conf-role", PolicyName="inline")

    with t.ok("CreatePolicy"):
        p = iam.create_policy(PolicyName="conf-pol", Path="/conf/", PolicyDocument=json.dumps(POLICY))["Policy"]
        parn = p["Arn"]
        eq(parn, f"arn:aws:iam::{ACCOUNT}:policy/conf/conf-pol", "Arn")
        eq((p["PolicyName"], p["Path"], p["DefaultVersionId"], p["AttachmentCount"]), ("conf-pol", "/conf/", "v1", 0), "policy")
    with t.err("CreatePolicy", "EntityAlreadyExists", 409):
        iam.create_policy(PolicyName="conf-pol", Path="/conf/", PolicyDocument=json.dumps(POLICY))
    with t.ok("GetPolicy"):
        eq(iam.get_policy(PolicyArn=parn)["Policy"]["PolicyName"], "conf-pol", "name")
    with t.err("GetPolicy", "NoSuchEntity", 404):
        iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/nope")
    with t.ok("AttachRolePolicy"):
        iam.attach_role_policy(RoleName="conf-role", PolicyArn=parn)
        eq(iam.get_policy(PolicyArn=parn)["Policy"]["AttachmentCount"], 1, "AttachmentCount")
    with t.err("AttachRolePolicy", "NoSuchEntity", 404):
        iam.attach_role_policy(RoleName="conf-role", PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/nope")
    with t.ok("ListAttachedRolePolicies"):
        eq(iam.list_attached_role_policies(RoleName="conf-role")["AttachedPolicies"], [{"PolicyName": "conf-pol", "PolicyArn": parn}], "attached")
    with t.err("ListAttachedRolePolicies", "NoSuchEntity", 404):
        iam.list_attached_role_policies(RoleName="no-such-role")
    with t.err("DeletePolicy", "DeleteConflict", 409):
        iam.delete_policy(PolicyArn=parn)
    with t.ok("DetachRolePolicy"):
        iam.detach_role_policy(RoleName="conf-role", PolicyArn=parn)
        eq(iam.list_attached_role_policies(RoleName="conf-role")["AttachedPolicies"], [], "none")
    with t.err("DetachRolePolicy", "NoSuchEntity", 404):
        iam.detach_role_policy(RoleName="conf-role", PolicyArn=parn)
    with t.ok("DeletePolicy"):
        iam.delete_policy(PolicyArn=parn)
        try:
            iam.get_policy(PolicyArn=parn)
            true(False, "policy still there")
        except iam.exceptions.NoSuchEntityException:
            pass

    with t.ok("CreateInstanceProfile"):
        ip = iam.create_instance_profile(InstanceProfileName="conf-ip", Path="/conf/")["InstanceProfile"]
        eq((ip["InstanceProfileName"], ip["Path"], ip["Roles"]), ("conf-ip", "/conf/", []), "profile")
        eq(ip["Arn"], f"arn:aws:iam::{ACCOUNT}:instance-profile/conf/conf-ip", "Arn")
    with t.err("CreateInstanceProfile", "EntityAlreadyExists", 409):
        iam.create_instance_profile(InstanceProfileName="conf-ip")
    with t.ok("AddRoleToInstanceProfile"):
        iam.add_role_to_instance_profile(InstanceProfileName="conf-ip", RoleName="conf-role")
    with t.err("AddRoleToInstanceProfile", "LimitExceeded", 409):
        iam.add_role_to_instance_profile(InstanceProfileName="conf-ip", RoleName="worker")
    with t.ok("GetInstanceProfile"):
        ip = iam.get_instance_profile(InstanceProfileName="conf-ip")["InstanceProfile"]
        eq([r["RoleName"] for r in ip["Roles"]], ["conf-role"], "roles")
    with t.err("GetInstanceProfile", "NoSuchEntity", 404):
        iam.get_instance_profile(InstanceProfileName="nope")
    with t.ok("ListInstanceProfiles"):
        eq([p["InstanceProfileName"] for p in iam.list_instance_profiles(PathPrefix="/conf/")["InstanceProfiles"]], ["conf-ip"], "profiles")
    with t.err("ListInstanceProfiles", "AccessDenied", 403):
        worker.list_instance_profiles()
    with t.ok("ListInstanceProfilesForRole"):
        eq([p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="conf-role")["InstanceProfiles"]], ["conf-ip"], "profiles")
    with t.err("ListInstanceProfilesForRole", "NoSuchEntity", 404):
        iam.list_instance_profiles_for_role(RoleName="no-such-role")
    with t.err("DeleteRole", "DeleteConflict", 409):
        iam.delete_role(RoleName="conf-role")
    with t.ok("RemoveRoleFromInstanceProfile"):
        iam.remove_role_from_instance_profile(InstanceProfileName="conf-ip", RoleName="conf-role")
        eq(iam.get_instance_profile(InstanceProfileName="conf-ip")["InstanceProfile"]["Roles"], [], "roles")
    with t.err("RemoveRoleFromInstanceProfile", "NoSuchEntity", 404):
        iam.remove_role_from_instance_profile(InstanceProfileName="conf-ip", RoleName="conf-role")
    with t.ok("DeleteInstanceProfile"):
        iam.delete_instance_profile(InstanceProfileName="conf-ip")
    with t.err("DeleteInstanceProfile", "NoSuchEntity", 404):
        iam.delete_instance_profile(InstanceProfileName="conf-ip")
    with t.ok("DeleteRole"):
        iam.delete_role(RoleName="conf-role")
        eq(iam.list_roles(PathPrefix="/conf/")["Roles"], [], "gone")

    with t.ok("CreateServiceLinkedRole"):
        r = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
        eq(r["RoleName"], "AWSServiceRoleForElasticLoadBalancing", "RoleName")
        eq(r["Path"], "/aws-service-role/elasticloadbalancing.amazonaws.com/", "Path")
    with t.err("CreateServiceLinkedRole", "InvalidInput", 400):
        iam.create_service_linked_role(AWSServiceName="nosuchservice.amazonaws.com")
