from harness import ACCOUNT, REGION, eq, one, true

NOLT = "lt-0123456789abcdef0"


def run(ctx):
    t = ctx.service("ec2")
    ec2 = ctx.client("ec2")
    st = ctx.ec2_state

    ami = ec2.describe_images()["Images"][0]["ImageId"]
    # The template names a key pair; launching from it needs the pair to exist.
    if not ec2.describe_key_pairs(Filters=[{"Name": "key-name", "Values": ["nodes"]}])["KeyPairs"]:
        ec2.create_key_pair(KeyName="nodes", KeyType="ed25519")
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    data = {
        "ImageId": ami,
        "InstanceType": "t3.micro",
        "KeyName": "nodes",
        "IamInstanceProfile": {"Name": "worker"},
        "SecurityGroupIds": [sg],
        "UserData": "IyEvYmluL3NoCg==",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda",
                                 "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "DeleteOnTermination": True}}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "node"}]}],
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
    }

    with t.ok("CreateLaunchTemplate"):
        lt = ec2.create_launch_template(
            LaunchTemplateName="conf-lt", VersionDescription="first", LaunchTemplateData=data,
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "team", "Value": "a"}]}])["LaunchTemplate"]
        ltid = lt["LaunchTemplateId"]
        true(ltid.startswith("lt-"), "LaunchTemplateId")
        eq((lt["LaunchTemplateName"], lt["DefaultVersionNumber"], lt["LatestVersionNumber"]), ("conf-lt", 1, 1), "template")
        eq(lt["CreatedBy"], f"arn:aws:iam::{ACCOUNT}:user/admin", "CreatedBy")
        eq(lt["Tags"], [{"Key": "team", "Value": "a"}], "Tags")
        eq(st()["launch_templates"][ltid]["name"], "conf-lt", "in state")
    with t.err("CreateLaunchTemplate", "InvalidLaunchTemplateName.AlreadyExistsException", 400):
        ec2.create_launch_template(LaunchTemplateName="conf-lt", LaunchTemplateData={"InstanceType": "t3.small"})
    with t.err("CreateLaunchTemplate", "MissingParameter", 400):
        ec2.create_launch_template(LaunchTemplateName="conf-empty", LaunchTemplateData={})
    with t.err("CreateLaunchTemplate", "InvalidLaunchTemplateName.MalformedException", 400):
        ec2.create_launch_template(LaunchTemplateName="has space", LaunchTemplateData={"InstanceType": "t3.small"})

    with t.ok("CreateLaunchTemplateVersion"):
        v2 = ec2.create_launch_template_version(LaunchTemplateId=ltid, SourceVersion="1", VersionDescription="bigger",
                                                LaunchTemplateData={"InstanceType": "m5.large"})["LaunchTemplateVersion"]
        eq((v2["VersionNumber"], v2["DefaultVersion"], v2["VersionDescription"]), (2, False, "bigger"), "version")
        d = v2["LaunchTemplateData"]
        eq(d["InstanceType"], "m5.large", "overridden")
        eq((d["ImageId"], d["SecurityGroupIds"], d["UserData"]), (ami, [sg], data["UserData"]), "copied from source")
        eq(d["BlockDeviceMappings"], data["BlockDeviceMappings"], "BlockDeviceMappings copied")
        v3 = ec2.create_launch_template_version(LaunchTemplateName="conf-lt",
                                                LaunchTemplateData={"ImageId": ami})["LaunchTemplateVersion"]
        eq(v3["VersionNumber"], 3, "third")
        eq(v3["LaunchTemplateData"], {"ImageId": ami}, "without a source, only what is given")
    with t.err("CreateLaunchTemplateVersion", "InvalidLaunchTemplateId.VersionNotFound", 400):
        ec2.create_launch_template_version(LaunchTemplateId=ltid, SourceVersion="9", LaunchTemplateData={"InstanceType": "t3.nano"})
    with t.err("CreateLaunchTemplateVersion", "InvalidLaunchTemplateId.NotFound", 400):
        ec2.create_launch_template_version(LaunchTemplateId=NOLT, LaunchTemplateData={"InstanceType": "t3.nano"})

    with t.ok("DescribeLaunchTemplates"):
        one_lt = one(ec2.describe_launch_templates(LaunchTemplateIds=[ltid])["LaunchTemplates"])
        eq((one_lt["LaunchTemplateName"], one_lt["LatestVersionNumber"], one_lt["DefaultVersionNumber"]), ("conf-lt", 3, 1), "by id")
        eq(one(ec2.describe_launch_templates(LaunchTemplateNames=["conf-lt"])["LaunchTemplates"])["LaunchTemplateId"], ltid, "by name")
        eq(one(ec2.describe_launch_templates(Filters=[{"Name": "tag:team", "Values": ["a"]}])["LaunchTemplates"])["LaunchTemplateId"], ltid, "tag filter")
        eq(ec2.describe_launch_templates(Filters=[{"Name": "tag:team", "Values": ["b"]}])["LaunchTemplates"], [], "no match")
        ec2.create_launch_template(LaunchTemplateName="conf-lt-2", LaunchTemplateData={"InstanceType": "t3.small"})
        p1 = ec2.describe_launch_templates(MaxResults=1)
        eq([x["LaunchTemplateName"] for x in p1["LaunchTemplates"]], ["conf-lt"], "first page")
        p2 = ec2.describe_launch_templates(MaxResults=1, NextToken=p1["NextToken"])
        eq([x["LaunchTemplateName"] for x in p2["LaunchTemplates"]], ["conf-lt-2"], "second page")
        true("NextToken" not in p2, "last page")
    with t.err("DescribeLaunchTemplates", "InvalidLaunchTemplateId.NotFound", 400):
        ec2.describe_launch_templates(LaunchTemplateIds=[NOLT])
    with t.err("DescribeLaunchTemplates", "InvalidLaunchTemplateName.NotFoundException", 400):
        ec2.describe_launch_templates(LaunchTemplateNames=["no-such-lt"])
    with t.err("DescribeLaunchTemplates", "InvalidLaunchTemplateId.Malformed", 400):
        ec2.describe_launch_templates(LaunchTemplateIds=["lt-xyz!"])

    with t.ok("DescribeLaunchTemplateVersions"):
        vs = ec2.describe_launch_template_versions(LaunchTemplateId=ltid)["LaunchTemplateVersions"]
        eq([v["VersionNumber"] for v in vs], [3, 2, 1], "newest first")
        v1 = vs[2]
        eq((v1["DefaultVersion"], v1["VersionDescription"]), (True, "first"), "v1")
        eq(v1["LaunchTemplateData"], data, "data rendered back as given")
        latest = one(ec2.describe_launch_template_versions(LaunchTemplateName="conf-lt", Versions=["$Latest"])["LaunchTemplateVersions"])
        eq(latest["VersionNumber"], 3, "$Latest")
        dflt = one(ec2.describe_launch_template_versions(LaunchTemplateId=ltid, Versions=["$Default"])["LaunchTemplateVersions"])
        eq(dflt["VersionNumber"], 1, "$Default")
        rng = ec2.describe_launch_template_versions(LaunchTemplateId=ltid, MinVersion="2", MaxVersion="3")["LaunchTemplateVersions"]
        eq([v["VersionNumber"] for v in rng], [3, 2], "Min/MaxVersion")
        f = ec2.describe_launch_template_versions(LaunchTemplateId=ltid,
                                                  Filters=[{"Name": "instance-type", "Values": ["m5.large"]}])["LaunchTemplateVersions"]
        eq([v["VersionNumber"] for v in f], [2], "instance-type filter")
        pg = ec2.describe_launch_template_versions(LaunchTemplateId=ltid, MaxResults=2)
        eq(len(pg["LaunchTemplateVersions"]), 2, "page")
        rest = ec2.describe_launch_template_versions(LaunchTemplateId=ltid, MaxResults=2, NextToken=pg["NextToken"])
        eq([v["VersionNumber"] for v in rest["LaunchTemplateVersions"]], [1], "next page")
        every = ec2.describe_launch_template_versions(Versions=["$Latest"])["LaunchTemplateVersions"]
        eq(sorted((v["LaunchTemplateName"], v["VersionNumber"]) for v in every), [("conf-lt", 3), ("conf-lt-2", 1)], "across templates")
    with t.err("DescribeLaunchTemplateVersions", "InvalidLaunchTemplateId.VersionNotFound", 400):
        ec2.describe_launch_template_versions(LaunchTemplateId=ltid, Versions=["7"])
    with t.err("DescribeLaunchTemplateVersions", "InvalidLaunchTemplateName.NotFoundException", 400):
        ec2.describe_launch_template_versions(LaunchTemplateName="no-such-lt")

    with t.ok("ModifyLaunchTemplate"):
        m = ec2.modify_launch_template(LaunchTemplateId=ltid, DefaultVersion="2")["LaunchTemplate"]
        eq((m["DefaultVersionNumber"], m["LatestVersionNumber"]), (2, 3), "default set")
        d = one(ec2.describe_launch_template_versions(LaunchTemplateId=ltid, Versions=["$Default"])["LaunchTemplateVersions"])
        eq((d["VersionNumber"], d["DefaultVersion"]), (2, True), "$Default follows")
    with t.err("ModifyLaunchTemplate", "InvalidLaunchTemplateId.VersionNotFound", 400):
        ec2.modify_launch_template(LaunchTemplateId=ltid, DefaultVersion="666")

    with t.ok("RunInstances"):
        # No version: `$Default` (2 now), whose data fills everything the request leaves out.
        r = ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "conf-lt"},
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "extra", "Value": "1"}]}])
        i = one(r["Instances"])
        eq((i["ImageId"], i["InstanceType"], i["KeyName"]), (ami, "m5.large", "nodes"), "from the template")
        eq([g["GroupId"] for g in i["SecurityGroups"]], [sg], "SecurityGroups")
        true(i["IamInstanceProfile"]["Arn"].endswith(":instance-profile/worker"), "IamInstanceProfile")
        eq((i["MetadataOptions"]["HttpTokens"], i["MetadataOptions"]["HttpPutResponseHopLimit"]), ("required", 2), "MetadataOptions")
        tags = {x["Key"]: x["Value"] for x in i["Tags"]}
        eq(tags, {"role": "node", "extra": "1", "aws:ec2launchtemplate:id": ltid,
                  "aws:ec2launchtemplate:version": "2"}, "tags merged, template tags added")
        root = one(ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [i["InstanceId"]]}])["Volumes"])
        eq((root["Size"], root["VolumeType"]), (20, "gp3"), "the template's root volume")
        r = ec2.run_instances(MinCount=1, MaxCount=1, InstanceType="t3.nano",
                              LaunchTemplate={"LaunchTemplateId": ltid, "Version": "$Latest"})
        i = one(r["Instances"])
        eq((i["ImageId"], i["InstanceType"]), (ami, "t3.nano"), "the request wins")
        eq({x["Key"]: x["Value"] for x in i["Tags"]},
           {"aws:ec2launchtemplate:id": ltid, "aws:ec2launchtemplate:version": "3"}, "$Latest")
    with t.err("RunInstances", "InvalidLaunchTemplateId.VersionNotFound", 400):
        ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateId": ltid, "Version": "9"})
    with t.err("RunInstances", "InvalidLaunchTemplateName.NotFoundException", 400):
        ec2.run_instances(MinCount=1, MaxCount=1, LaunchTemplate={"LaunchTemplateName": "no-such-lt"})

    with t.ok("DeleteLaunchTemplateVersions"):
        r = ec2.delete_launch_template_versions(LaunchTemplateId=ltid, Versions=["1", "2", "9"])
        eq(r["SuccessfullyDeletedLaunchTemplateVersions"],
           [{"LaunchTemplateId": ltid, "LaunchTemplateName": "conf-lt", "VersionNumber": 1}], "deleted")
        bad = {x["VersionNumber"]: x["ResponseError"]["Code"] for x in r["UnsuccessfullyDeletedLaunchTemplateVersions"]}
        eq(bad, {2: "unexpectedError", 9: "launchTemplateVersionDoesNotExist"}, "refused: the default, a missing one")
        left = ec2.describe_launch_template_versions(LaunchTemplateId=ltid)["LaunchTemplateVersions"]
        eq([v["VersionNumber"] for v in left], [3, 2], "left")
        v4 = ec2.create_launch_template_version(LaunchTemplateId=ltid, SourceVersion="$Latest",
                                                LaunchTemplateData={"InstanceType": "t3.large"})["LaunchTemplateVersion"]
        eq(v4["VersionNumber"], 4, "numbers are not reused")
        eq(v4["LaunchTemplateData"]["ImageId"], ami, "from $Latest")
    with t.err("DeleteLaunchTemplateVersions", "InvalidLaunchTemplateId.NotFound", 400):
        ec2.delete_launch_template_versions(LaunchTemplateId=NOLT, Versions=["1"])

    with t.ok("DeleteLaunchTemplate"):
        gone = ec2.delete_launch_template(LaunchTemplateName="conf-lt")["LaunchTemplate"]
        eq((gone["LaunchTemplateId"], gone["DefaultVersionNumber"], gone["LatestVersionNumber"]), (ltid, 2, 4), "answer")
        true(ltid not in st()["launch_templates"], "gone from state")
    with t.err("DeleteLaunchTemplate", "InvalidLaunchTemplateId.NotFound", 400):
        ec2.delete_launch_template(LaunchTemplateId=ltid)
