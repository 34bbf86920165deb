from harness import ACCOUNT, REGION, eq, one, true

NO_KEY = "11111111-2222-3333-4444-555555555555"


def run(ctx):
    t = ctx.service("kms")
    kms = ctx.client("kms")
    bad = ctx.client("kms", validate=False)

    def key_state(kid):
        return ctx.state()["kms"][REGION]["keys"][kid]

    with t.ok("CreateKey"):
        r = kms.create_key(Description="conformance", Tags=[{"TagKey": "a", "TagValue": "b"}])
        m = r["KeyMetadata"]
        kid = m["KeyId"]
        s = key_state(kid)
        eq(m["Arn"], s["arn"], "Arn")
        eq(m["KeyState"], s["state"], "KeyState")
        eq(m["KeyState"], "Enabled", "KeyState")
        eq(m["Description"], "conformance", "Description")
        eq(m["AWSAccountId"], ACCOUNT, "AWSAccountId")
        eq(m["KeyManager"], "CUSTOMER", "KeyManager")
        eq(m["KeyUsage"], "ENCRYPT_DECRYPT", "KeyUsage")
        eq(m["KeySpec"], "SYMMETRIC_DEFAULT", "KeySpec")
        true(m["Enabled"] is True, "Enabled")
    with t.err("CreateKey", "MalformedPolicyDocumentException", 400):
        kms.create_key(Policy="{not json")

    with t.ok("DescribeKey"):
        m = kms.describe_key(KeyId=kid)["KeyMetadata"]
        eq(m["KeyId"], kid, "KeyId")
        eq(m["Description"], "conformance", "Description")
        true(hasattr(m["CreationDate"], "year"), "CreationDate is a timestamp")
    with t.err("DescribeKey", "NotFoundException", 400):
        kms.describe_key(KeyId=NO_KEY)

    with t.ok("ListKeys"):
        keys = kms.list_keys()["Keys"]
        true(any(k["KeyId"] == kid and k["KeyArn"] == key_state(kid)["arn"] for k in keys), "new key listed")
    with t.err("ListKeys", "ValidationException", 400):
        bad.list_keys(Limit=0)

    with t.ok("DisableKey"):
        kms.disable_key(KeyId=kid)
        eq(key_state(kid)["state"], "Disabled", "state")
    with t.err("DisableKey", "NotFoundException", 400):
        kms.disable_key(KeyId=NO_KEY)

    with t.ok("EnableKey"):
        kms.enable_key(KeyId=kid)
        eq(key_state(kid)["state"], "Enabled", "state")
    with t.err("EnableKey", "NotFoundException", 400):
        kms.enable_key(KeyId=NO_KEY)

    with t.ok("CreateAlias"):
        kms.create_alias(AliasName="alias/conformance", TargetKeyId=kid)
        al = ctx.state()["kms"][REGION]["aliases"]
        true("alias/conformance" in str(al) and kid in str(al), f"alias in state: {al}")
    with t.err("CreateAlias", "AlreadyExistsException", 400):
        kms.create_alias(AliasName="alias/conformance", TargetKeyId=kid)

    with t.ok("ListAliases"):
        a = [x for x in kms.list_aliases(KeyId=kid)["Aliases"]]
        a = one(a, "aliases of the key")
        eq(a["AliasName"], "alias/conformance", "AliasName")
        eq(a["TargetKeyId"], kid, "TargetKeyId")
        eq(a["AliasArn"], f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/conformance", "AliasArn")
    with t.err("ListAliases", "NotFoundException", 400):
        kms.list_aliases(KeyId=NO_KEY)

    with t.ok("DeleteAlias"):
        kms.delete_alias(AliasName="alias/conformance")
        true("alias/conformance" not in str(ctx.state()["kms"][REGION]["aliases"]), "alias gone")
    with t.err("DeleteAlias", "NotFoundException", 400):
        kms.delete_alias(AliasName="alias/conformance")

    with t.ok("ScheduleKeyDeletion"):
        r = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
        eq(r["KeyId"], key_state(kid)["arn"], "KeyId (an ARN)")
        eq(r["KeyState"], "PendingDeletion", "KeyState")
        eq(r["PendingWindowInDays"], 7, "PendingWindowInDays")
        true(hasattr(r["DeletionDate"], "year"), "DeletionDate")
        eq(key_state(kid)["state"], "PendingDeletion", "state")
    with t.err("ScheduleKeyDeletion", "ValidationException", 400):
        bad.schedule_key_deletion(KeyId=kid, PendingWindowInDays=3)

    with t.ok("CancelKeyDeletion"):
        r = kms.cancel_key_deletion(KeyId=kid)
        eq(r["KeyId"], key_state(kid)["arn"], "KeyId")
        eq(key_state(kid)["state"], "Disabled", "state after cancel")
    with t.err("CancelKeyDeletion", "KMSInvalidStateException", 400):
        kms.cancel_key_deletion(KeyId=kid)
