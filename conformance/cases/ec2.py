from harness import ACCOUNT, REGION, eq, has, one, true

NOVPC = "vpc-0123456789abcdef0"
NOSUBNET = "subnet-0123456789abcdef0"
NOSG = "sg-0123456789abcdef0"
NOIGW = "igw-0123456789abcdef0"
NORTB = "rtb-0123456789abcdef0"
NOI = "i-0123456789abcdef0"
NOVOL = "vol-0123456789abcdef0"
NOASSOC = "rtbassoc-0123456789abcdef0"
NOSNAP = "snap-0123456789abcdef0"


def run(ctx):
    t = ctx.service("ec2")
    ec2 = ctx.client("ec2")
    bad = ctx.client("ec2", validate=False)
    worker = ctx.client("ec2", key="worker")
    st = ctx.ec2_state

    # --- regions, zones, images --------------------------------------------------------
    with t.ok("DescribeRegions"):
        rs = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
        true(REGION in rs, "us-east-1 listed")
        ec2.describe_vpcs()  # the region's account shape now exists in /_awsemu/state
        eq(rs[REGION]["Endpoint"], f"ec2.{REGION}.amazonaws.com", "Endpoint")
        eq(rs[REGION]["OptInStatus"], "opt-in-not-required", "OptInStatus")
    with t.err("DescribeRegions", "InvalidParameterValue", 400):
        ec2.describe_regions(RegionNames=["xx-nowhere-1"])

    with t.ok("DescribeAvailabilityZones"):
        zs = ec2.describe_availability_zones()["AvailabilityZones"]
        eq(sorted(z["ZoneName"] for z in zs), [f"us-east-1{c}" for c in "abcdef"], "zones")
        za = [z for z in zs if z["ZoneName"] == "us-east-1a"][0]
        eq(za["ZoneId"], "use1-az1", "ZoneId")
        eq(za["State"], "available", "State")
        eq(za["RegionName"], REGION, "RegionName")
    with t.err("DescribeAvailabilityZones", "InvalidParameterValue", 400):
        ec2.describe_availability_zones(ZoneNames=["us-east-1z"])

    with t.ok("DescribeImages"):
        imgs = ec2.describe_images()["Images"]
        true(imgs, "some images")
        ami = imgs[0]["ImageId"]
        true(ami.startswith("ami-"), "ImageId")
        one_img = one(ec2.describe_images(ImageIds=[ami])["Images"])
        eq(one_img["ImageId"], ami, "ImageId by id")
        true(one_img["State"] == "available", "State")
    with t.err("DescribeImages", "InvalidAMIID.Malformed", 400):
        ec2.describe_images(ImageIds=["ami-nothex!"])

    # --- VPC, subnet, gateway, route table -----------------------------------------------
    with t.ok("CreateVpc"):
        v = ec2.create_vpc(CidrBlock="10.20.0.0/16",
                           TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "conf"}]}])["Vpc"]
        vpc = v["VpcId"]
        s = st()["vpcs"][vpc]
        eq(v["CidrBlock"], s["cidr"], "CidrBlock")
        eq(v["CidrBlock"], "10.20.0.0/16", "CidrBlock")
        eq(v["IsDefault"], False, "IsDefault")
        eq(v["OwnerId"], ACCOUNT, "OwnerId")
        eq(v["DhcpOptionsId"], s["dhcp_options_id"], "DhcpOptionsId")
        eq(s["tags"], {"Name": "conf"}, "tags in state")
    with t.err("CreateVpc", "InvalidVpc.Range", 400):
        ec2.create_vpc(CidrBlock="10.0.0.0/8")

    with t.ok("DescribeVpcs"):
        v = one(ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"])
        eq(v["CidrBlock"], "10.20.0.0/16", "CidrBlock")
        eq(v["State"], "available", "State")
        eq(v["Tags"], [{"Key": "Name", "Value": "conf"}], "Tags")
        d = one(ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"])
        eq(d["VpcId"], st()["default_vpc_id"], "default VPC")
        eq(d["CidrBlock"], "172.31.0.0/16", "default CidrBlock")
    with t.err("DescribeVpcs", "InvalidVpcID.NotFound", 400):
        ec2.describe_vpcs(VpcIds=[NOVPC])

    with t.ok("CreateSubnet"):
        sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
        subnet = sn["SubnetId"]
        s = st()["subnets"][subnet]
        eq(sn["CidrBlock"], s["cidr"], "CidrBlock")
        eq(sn["AvailabilityZone"], s["zone"], "AvailabilityZone")
        eq(sn["AvailabilityZoneId"], s["zone_id"], "AvailabilityZoneId")
        eq(sn["VpcId"], vpc, "VpcId")
        eq(sn["DefaultForAz"], False, "DefaultForAz")
        eq(sn["AvailableIpAddressCount"], 251, "AvailableIpAddressCount")
    with t.err("CreateSubnet", "InvalidSubnet.Range", 400):
        ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.0.0/24")

    with t.ok("DescribeSubnets"):
        sn = one(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])
        eq(sn["SubnetId"], subnet, "SubnetId")
        eq(sn["State"], "available", "State")
        defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        eq(sorted(x["SubnetId"] for x in defaults),
           sorted(k for k, v in st()["subnets"].items() if v["default_for_az"]), "default subnets")
    with t.err("DescribeSubnets", "InvalidSubnetID.NotFound", 400):
        ec2.describe_subnets(SubnetIds=[NOSUBNET])

    with t.ok("CreateInternetGateway"):
        g = ec2.create_internet_gateway()["InternetGateway"]
        igw = g["InternetGatewayId"]
        eq(g["Attachments"], [], "Attachments")
        eq(st()["internet_gateways"][igw]["vpc_id"], None, "unattached in state")
    with t.err("CreateInternetGateway", "UnauthorizedOperation", 403):
        worker.create_internet_gateway()

    with t.ok("AttachInternetGateway"):
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        eq(st()["internet_gateways"][igw]["vpc_id"], vpc, "attached in state")
    with t.err("AttachInternetGateway", "InvalidInternetGatewayID.NotFound", 400):
        ec2.attach_internet_gateway(InternetGatewayId=NOIGW, VpcId=vpc)

    with t.ok("DescribeInternetGateways"):
        g = one(ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"])
        eq(g["Attachments"], [{"State": "available", "VpcId": vpc}], "Attachments")
        eq(g["OwnerId"], ACCOUNT, "OwnerId")
    with t.err("DescribeInternetGateways", "InvalidInternetGatewayID.NotFound", 400):
        ec2.describe_internet_gateways(InternetGatewayIds=[NOIGW])

    with t.ok("CreateRouteTable"):
        rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]
        rtb = rt["RouteTableId"]
        eq(rt["VpcId"], vpc, "VpcId")
        eq([(r["DestinationCidrBlock"], r["GatewayId"], r["State"]) for r in rt["Routes"]],
           [("10.20.0.0/16", "local", "active")], "Routes")
        true(rtb in st()["route_tables"], "in state")
    with t.err("CreateRouteTable", "InvalidVpcID.NotFound", 400):
        ec2.create_route_table(VpcId=NOVPC)

    with t.ok("CreateRoute"):
        eq(ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)["Return"], True, "Return")
        routes = st()["route_tables"][rtb]["routes"]
        true({"destination": "0.0.0.0/0", "origin": "CreateRoute", "target": {"Gateway": igw}} in routes, f"route in state: {routes}")
    with t.err("CreateRoute", "RouteAlreadyExists", 400):
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

    igw2 = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    with t.ok("ReplaceRoute"):
        ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        routes = st()["route_tables"][rtb]["routes"]
        true(any(r["destination"] == "0.0.0.0/0" and r["target"] == {"Gateway": igw} for r in routes), "route")
    with t.err("ReplaceRoute", "InvalidRoute.NotFound", 400):
        ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="10.99.0.0/16", GatewayId=igw)

    with t.ok("AssociateRouteTable"):
        r = ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
        assoc = r["AssociationId"]
        eq(r["AssociationState"]["State"], "associated", "AssociationState")
        a = [x for x in st()["route_tables"][rtb]["associations"] if x["id"] == assoc]
        eq(one(a)["subnet_id"], subnet, "association in state")
    with t.err("AssociateRouteTable", "Resource.AlreadyAssociated", 400):
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)

    with t.ok("DescribeRouteTables"):
        rt = one(ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"])
        eq(sorted(r["DestinationCidrBlock"] for r in rt["Routes"]), ["0.0.0.0/0", "10.20.0.0/16"], "routes")
        eq([(a["RouteTableAssociationId"], a["SubnetId"], a["Main"]) for a in rt["Associations"]],
           [(assoc, subnet, False)], "Associations")
        main = one(ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]},
                                                      {"Name": "vpc-id", "Values": [vpc]}])["RouteTables"])
        true(main["RouteTableId"] in st()["route_tables"], "main table in state")
    with t.err("DescribeRouteTables", "InvalidRouteTableID.NotFound", 400):
        ec2.describe_route_tables(RouteTableIds=[NORTB])

    with t.ok("DisassociateRouteTable"):
        ec2.disassociate_route_table(AssociationId=assoc)
        eq([x for x in st()["route_tables"][rtb]["associations"] if x["id"] == assoc], [], "association gone")
    with t.err("DisassociateRouteTable", "InvalidAssociationID.NotFound", 400):
        ec2.disassociate_route_table(AssociationId=NOASSOC)

    with t.ok("DeleteRoute"):
        ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0")
        eq([r["destination"] for r in st()["route_tables"][rtb]["routes"]], ["10.20.0.0/16"], "routes left")
    with t.err("DeleteRoute", "InvalidRoute.NotFound", 400):
        ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0")

    # --- security groups -----------------------------------------------------------------
    with t.ok("CreateSecurityGroup"):
        r = ec2.create_security_group(GroupName="conf", Description="conformance group", VpcId=vpc)
        sg = r["GroupId"]
        s = st()["security_groups"][sg]
        eq((s["name"], s["description"], s["vpc_id"]), ("conf", "conformance group", vpc), "state")
    with t.err("CreateSecurityGroup", "InvalidGroup.Duplicate", 400):
        ec2.create_security_group(GroupName="conf", Description="again", VpcId=vpc)

    with t.ok("AuthorizeSecurityGroupIngress"):
        r = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "https"}]}])
        eq(r["Return"], True, "Return")
        rule = one(r["SecurityGroupRules"])
        eq((rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"], rule["IsEgress"]),
           ("tcp", 443, 443, "10.0.0.0/8", False), "rule")
        ing = st()["security_groups"][sg]["ingress"]
        true({"description": "https", "from_port": 443, "peer": {"Cidr": "10.0.0.0/8"}, "protocol": "tcp", "to_port": 443} in ing, f"state {ing}")
    with t.err("AuthorizeSecurityGroupIngress", "InvalidPermission.Duplicate", 400):
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    with t.ok("AuthorizeSecurityGroupEgress"):
        r = ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "UserIdGroupPairs": [{"GroupId": sg}]}])
        eq(r["Return"], True, "Return")
        eg = st()["security_groups"][sg]["egress"]
        true(any(e["protocol"] == "udp" and e["peer"] == {"Group": sg} for e in eg), f"state {eg}")
    with t.err("AuthorizeSecurityGroupEgress", "InvalidGroup.NotFound", 400):
        ec2.authorize_security_group_egress(GroupId=NOSG, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    with t.ok("DescribeSecurityGroups"):
        g = one(ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"])
        eq((g["GroupName"], g["Description"], g["VpcId"], g["OwnerId"]), ("conf", "conformance group", vpc, ACCOUNT), "group")
        p = [x for x in g["IpPermissions"] if x.get("FromPort") == 443]
        eq(one(p)["IpRanges"], [{"CidrIp": "10.0.0.0/8", "Description": "https"}], "ingress IpRanges")
        pe = [x for x in g["IpPermissionsEgress"] if x["IpProtocol"] == "udp"]
        eq([u["GroupId"] for u in one(pe)["UserIdGroupPairs"]], [sg], "egress pair")
    with t.err("DescribeSecurityGroups", "InvalidGroup.NotFound", 400):
        ec2.describe_security_groups(GroupIds=[NOSG])

    with t.ok("RevokeSecurityGroupIngress"):
        eq(ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])["Return"], True, "Return")
        eq(st()["security_groups"][sg]["ingress"], [], "no ingress left")
    with t.err("RevokeSecurityGroupIngress", "InvalidGroup.NotFound", 400):
        ec2.revoke_security_group_ingress(GroupId=NOSG, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    with t.ok("RevokeSecurityGroupEgress"):
        eq(ec2.revoke_security_group_egress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "UserIdGroupPairs": [{"GroupId": sg}]}])["Return"], True, "Return")
        true(not any(e["protocol"] == "udp" for e in st()["security_groups"][sg]["egress"]), "egress rule gone")
    with t.err("RevokeSecurityGroupEgress", "InvalidGroup.NotFound", 400):
        ec2.revoke_security_group_egress(GroupId=NOSG, IpPermissions=[
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    # --- tags -----------------------------------------------------------------------------
    with t.ok("CreateTags"):
        ec2.create_tags(Resources=[sg, subnet], Tags=[{"Key": "kubernetes.io/cluster/c", "Value": "owned"}])
        eq(st()["security_groups"][sg]["tags"], {"kubernetes.io/cluster/c": "owned"}, "sg tags")
        eq(st()["subnets"][subnet]["tags"], {"kubernetes.io/cluster/c": "owned"}, "subnet tags")
    with t.err("CreateTags", "InvalidID", 400):
        ec2.create_tags(Resources=["nonsense"], Tags=[{"Key": "a", "Value": "b"}])

    with t.ok("DescribeTags"):
        tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["kubernetes.io/cluster/c"]}])["Tags"]
        eq(sorted((x["ResourceId"], x["ResourceType"], x["Value"]) for x in tags),
           sorted([(sg, "security-group", "owned"), (subnet, "subnet", "owned")]), "tags")
    with t.err("DescribeTags", "InvalidParameterValue", 400):
        ec2.describe_tags(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])

    with t.ok("DeleteTags"):
        ec2.delete_tags(Resources=[subnet], Tags=[{"Key": "kubernetes.io/cluster/c"}])
        eq(st()["subnets"][subnet]["tags"], {}, "subnet tags gone")
    with t.err("DeleteTags", "InvalidID", 400):
        ec2.delete_tags(Resources=["nonsense"], Tags=[{"Key": "a"}])

    # --- instances -------------------------------------------------------------------------
    with t.ok("RunInstances"):
        r = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=subnet,
                              SecurityGroupIds=[sg], IamInstanceProfile={"Name": "worker"},
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": "w"}]}])
        i = one(r["Instances"])
        iid = i["InstanceId"]
        eq(r["OwnerId"], ACCOUNT, "OwnerId")
        eq((i["ImageId"], i["InstanceType"], i["SubnetId"], i["VpcId"]), (ami, "t3.micro", subnet, vpc), "instance")
        eq(i["State"], {"Code": 0, "Name": "pending"}, "State")
        eq([g["GroupId"] for g in i["SecurityGroups"]], [sg], "SecurityGroups")
        eq(i["Placement"]["AvailabilityZone"], "us-east-1a", "zone")
        true(i["PrivateIpAddress"].startswith("10.20.1."), f"PrivateIpAddress {i['PrivateIpAddress']}")
        true(iid in st()["instances"], "in state")
    with t.err("RunInstances", "InvalidAMIID.Malformed", 400):
        ec2.run_instances(ImageId="ami-bad!", InstanceType="t3.micro", MinCount=1, MaxCount=1)

    with t.ok("DescribeInstances"):
        i = one(one(ec2.describe_instances(InstanceIds=[iid])["Reservations"])["Instances"])
        eq(i["State"]["Name"], "running", "State")
        eq(i["Tags"], [{"Key": "role", "Value": "w"}], "Tags")
        true(i["IamInstanceProfile"]["Arn"].endswith(":instance-profile/worker"), "IamInstanceProfile")
        true(hasattr(i["LaunchTime"], "year"), "LaunchTime")
        true(i["PrivateIpAddress"].startswith("10.20.1."), "PrivateIpAddress")
    with t.err("DescribeInstances", "InvalidInstanceID.NotFound", 400):
        ec2.describe_instances(InstanceIds=[NOI])

    with t.ok("DescribeInstanceAttribute"):
        r = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType")
        eq(r["InstanceId"], iid, "InstanceId")
        eq(r["InstanceType"], {"Value": "t3.micro"}, "InstanceType")
        r = ec2.describe_instance_attribute(InstanceId=iid, Attribute="groupSet")
        eq([g["GroupId"] for g in r["Groups"]], [sg], "Groups")
    with t.err("DescribeInstanceAttribute", "InvalidInstanceID.NotFound", 400):
        ec2.describe_instance_attribute(InstanceId=NOI, Attribute="instanceType")

    with t.ok("StopInstances"):
        c = one(ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"])
        eq((c["InstanceId"], c["PreviousState"]["Name"], c["CurrentState"]["Name"]), (iid, "running", "stopping"), "change")
        eq(ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"], "stopped", "then stopped")
    with t.err("StopInstances", "InvalidInstanceID.NotFound", 400):
        ec2.stop_instances(InstanceIds=[NOI])

    with t.ok("ModifyInstanceAttribute"):
        ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"})
        eq(ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType")["InstanceType"]["Value"], "t3.small", "type")
        ec2.modify_instance_attribute(InstanceId=iid, SourceDestCheck={"Value": False})
        eq(ec2.describe_instance_attribute(InstanceId=iid, Attribute="sourceDestCheck")["SourceDestCheck"]["Value"], False, "sourceDestCheck")
    with t.err("ModifyInstanceAttribute", "InvalidInstanceID.NotFound", 400):
        ec2.modify_instance_attribute(InstanceId=NOI, SourceDestCheck={"Value": False})

    with t.ok("StartInstances"):
        c = one(ec2.start_instances(InstanceIds=[iid])["StartingInstances"])
        eq((c["PreviousState"]["Name"], c["CurrentState"]["Name"]), ("stopped", "pending"), "change")
    with t.err("StartInstances", "InvalidInstanceID.NotFound", 400):
        ec2.start_instances(InstanceIds=[NOI])
    ec2.describe_instances(InstanceIds=[iid])  # running

    # --- volumes ---------------------------------------------------------------------------
    with t.ok("CreateVolume"):
        v = ec2.create_volume(AvailabilityZone="us-east-1a", Size=10, VolumeType="gp3",
                              TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "k", "Value": "v"}]}])
        vol = v["VolumeId"]
        s = st()["volumes"][vol]
        eq((v["Size"], v["AvailabilityZone"], v["VolumeType"]), (s["size_gib"], s["zone"], s["volume_type"]), "vs state")
        eq((v["Size"], v["AvailabilityZone"], v["VolumeType"], v["State"]), (10, "us-east-1a", "gp3", "creating"), "volume")
        eq(v["Tags"], [{"Key": "k", "Value": "v"}], "Tags")
        eq(v["Encrypted"], False, "Encrypted")
    with t.err("CreateVolume", "UnauthorizedOperation", 403):
        worker.create_volume(AvailabilityZone="us-east-1a", Size=1)

    with t.ok("DescribeVolumes"):
        v = one(ec2.describe_volumes(VolumeIds=[vol])["Volumes"])
        eq(v["State"], "available", "State")
        vs = st()["volumes"][vol]["state"]
        true(v["State"] in (vs["state"], (vs.get("next") or [None])[0]), f"state in state {vs}")
        eq((v["Size"], v["Iops"], v["Throughput"]), (10, 3000, 125), "gp3 defaults")
    with t.err("DescribeVolumes", "InvalidVolume.NotFound", 400):
        ec2.describe_volumes(VolumeIds=[NOVOL])

    with t.ok("AttachVolume"):
        a = ec2.attach_volume(VolumeId=vol, InstanceId=iid, Device="/dev/xvdf")
        eq((a["VolumeId"], a["InstanceId"], a["Device"], a["State"]), (vol, iid, "/dev/xvdf", "attaching"), "attachment")
        att = st()["volumes"][vol]["attachment"]
        true(att and iid in str(att) and "/dev/xvdf" in str(att), f"state attachment {att}")
    with t.err("AttachVolume", "InvalidVolume.NotFound", 400):
        ec2.attach_volume(VolumeId=NOVOL, InstanceId=iid, Device="/dev/xvdg")

    with t.ok("DetachVolume"):
        ec2.describe_volumes(VolumeIds=[vol])
        a = ec2.detach_volume(VolumeId=vol)
        eq((a["VolumeId"], a["InstanceId"], a["State"]), (vol, iid, "detaching"), "detachment")
        eq(one(ec2.describe_volumes(VolumeIds=[vol])["Volumes"])["Attachments"], [], "detached")
    with t.err("DetachVolume", "IncorrectState", 400):
        ec2.detach_volume(VolumeId=vol)

    with t.ok("ModifyVolume"):
        m = ec2.modify_volume(VolumeId=vol, Size=20)["VolumeModification"]
        eq((m["VolumeId"], m["OriginalSize"], m["TargetSize"]), (vol, 10, 20), "modification")
        true(m["ModificationState"] in ("modifying", "optimizing", "completed"), m["ModificationState"])
        true(vol in str(st()["volume_modifications"]), "in state")
    with t.err("ModifyVolume", "InvalidVolume.NotFound", 400):
        ec2.modify_volume(VolumeId=NOVOL, Size=20)

    with t.ok("DescribeVolumesModifications"):
        m = one(ec2.describe_volumes_modifications(VolumeIds=[vol])["VolumesModifications"])
        eq((m["VolumeId"], m["TargetSize"], m["OriginalSize"]), (vol, 20, 10), "modification")
        true(hasattr(m["StartTime"], "year"), "StartTime")
    with t.err("DescribeVolumesModifications", "InvalidVolume.NotFound", 400):
        ec2.describe_volumes_modifications(VolumeIds=[NOVOL])

    # --- snapshots -------------------------------------------------------------------------
    with t.ok("CreateSnapshot"):
        sn = ec2.create_snapshot(VolumeId=vol, Description="conf",
                                 TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "CSIVolumeSnapshotName", "Value": "conf"}]}])
        snap = sn["SnapshotId"]
        s = st()["snapshots"][snap]
        eq((sn["VolumeId"], sn["State"], sn["Progress"], sn["Description"]), (vol, "pending", "", "conf"), "snapshot")
        eq((sn["VolumeSize"], sn["Encrypted"], sn["OwnerId"]), (s["volume_size"], False, ACCOUNT), "vs state")
        eq(sn["VolumeSize"], 20, "the volume's modified size")
        true(hasattr(sn["StartTime"], "year"), "StartTime")
        eq(sn["Tags"], [{"Key": "CSIVolumeSnapshotName", "Value": "conf"}], "Tags")
        eq(s["tags"], {"CSIVolumeSnapshotName": "conf"}, "tags in state")
    with t.err("CreateSnapshot", "InvalidVolume.NotFound", 400):
        ec2.create_snapshot(VolumeId=NOVOL)

    with t.ok("DescribeSnapshots"):
        d = one(ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"])
        eq((d["State"], d["Progress"], d["StorageTier"], d["VolumeId"]), ("completed", "100%", "standard", vol), "completed")
        named = ec2.describe_snapshots(Filters=[{"Name": "tag:CSIVolumeSnapshotName", "Values": ["conf"]}])["Snapshots"]
        eq([x["SnapshotId"] for x in named], [snap], "by the CSI name tag")
        eq([x["SnapshotId"] for x in ec2.describe_snapshots(OwnerIds=["self"], MaxResults=5)["Snapshots"]], [snap], "self")
        amazon = ec2.describe_snapshots(OwnerIds=["amazon"])["Snapshots"]
        true(amazon and all(x["OwnerAlias"] == "amazon" and x["State"] == "completed" for x in amazon), "amazon's public snapshots")
    with t.err("DescribeSnapshots", "InvalidSnapshot.NotFound", 400):
        ec2.describe_snapshots(SnapshotIds=[NOSNAP])

    with t.ok("CopySnapshot"):
        c = ec2.copy_snapshot(SourceSnapshotId=snap, SourceRegion=REGION, Encrypted=True, Description="copy",
                              TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "k", "Value": "v"}]}])
        copy = c["SnapshotId"]
        eq(c["Tags"], [{"Key": "k", "Value": "v"}], "Tags")
        d = one(ec2.describe_snapshots(SnapshotIds=[copy])["Snapshots"])
        eq((d["Encrypted"], d["VolumeSize"], d["Description"], d["VolumeId"]), (True, 20, "copy", "vol-ffffffff"), "copy")
        true(":key/" in d["KmsKeyId"], d["KmsKeyId"])
        eq(st()["snapshots"][copy]["kms_key_id"], d["KmsKeyId"], "key in state")
    with t.err("CopySnapshot", "InvalidParameterDependency", 400):
        ec2.copy_snapshot(SourceSnapshotId=snap, SourceRegion=REGION, KmsKeyId="alias/x")

    with t.ok("EnableFastSnapshotRestores"):
        r = ec2.enable_fast_snapshot_restores(SourceSnapshotIds=[snap], AvailabilityZones=["us-east-1a"])
        i = one(r["Successful"])
        eq((i["SnapshotId"], i["AvailabilityZone"], i["AvailabilityZoneId"], i["State"], i["OwnerId"]),
           (snap, "us-east-1a", "use1-az1", "enabling", ACCOUNT), "enabling")
        true(hasattr(i["EnablingTime"], "year"), "EnablingTime")
        eq(r["Unsuccessful"], [], "Unsuccessful")
        failed = one(ec2.enable_fast_snapshot_restores(SourceSnapshotIds=[NOSNAP], AvailabilityZones=["us-east-1a"])["Unsuccessful"])
        e = one(failed["FastSnapshotRestoreStateErrors"])
        eq((failed["SnapshotId"], e["AvailabilityZone"], e["Error"]["Code"]), (NOSNAP, "us-east-1a", "InvalidSnapshot.NotFound"), "Unsuccessful")
    with t.err("EnableFastSnapshotRestores", "InvalidSnapshotID.Malformed", 400):
        ec2.enable_fast_snapshot_restores(SourceSnapshotIds=["snap-nothex!"], AvailabilityZones=["us-east-1a"])

    with t.ok("DescribeFastSnapshotRestores"):
        f = one(ec2.describe_fast_snapshot_restores(Filters=[{"Name": "snapshot-id", "Values": [snap]}])["FastSnapshotRestores"])
        eq((f["SnapshotId"], f["AvailabilityZone"], f["State"]), (snap, "us-east-1a", "enabled"), "enabled")
        true(hasattr(f["EnabledTime"], "year"), "EnabledTime")
    with t.err("DescribeFastSnapshotRestores", "InvalidParameterValue", 400):
        ec2.describe_fast_snapshot_restores(Filters=[{"Name": "bogus", "Values": ["x"]}])

    with t.ok("CreateVolume"):
        r = ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap)
        eq((r["Size"], r["SnapshotId"], r["Encrypted"], r["FastRestored"]), (20, snap, False, True), "restored")
        eq(st()["volumes"][r["VolumeId"]]["snapshot_id"], snap, "snapshot in state")
        ec2.delete_volume(VolumeId=r["VolumeId"])
    with t.err("CreateVolume", "InvalidParameterValue", 400):
        ec2.create_volume(AvailabilityZone="us-east-1a", SnapshotId=snap, Size=5)

    with t.ok("DisableFastSnapshotRestores"):
        i = one(ec2.disable_fast_snapshot_restores(SourceSnapshotIds=[snap], AvailabilityZones=["us-east-1a"])["Successful"])
        eq((i["SnapshotId"], i["State"]), (snap, "disabling"), "disabling")
        eq(ec2.describe_fast_snapshot_restores()["FastSnapshotRestores"], [], "gone")
    with t.err("DisableFastSnapshotRestores", "MissingParameter", 400):
        bad.disable_fast_snapshot_restores(SourceSnapshotIds=[snap])

    with t.ok("DeleteSnapshot"):
        ec2.delete_snapshot(SnapshotId=copy)
        ec2.delete_snapshot(SnapshotId=snap)
        true(snap not in st()["snapshots"] and copy not in st()["snapshots"], "gone")
    with t.err("DeleteSnapshot", "InvalidSnapshot.InUse", 400):
        img = ec2.describe_images()["Images"][0]
        ec2.delete_snapshot(SnapshotId=img["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"])

    with t.ok("DeleteVolume"):
        ec2.delete_volume(VolumeId=vol)
        true(vol not in st()["volumes"] or st()["volumes"][vol]["state"]["state"] in ("deleting", "deleted"), "deleted")
    with t.err("DeleteVolume", "InvalidVolume.NotFound", 400):
        ec2.delete_volume(VolumeId=NOVOL)

    with t.ok("TerminateInstances"):
        c = one(ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"])
        eq((c["InstanceId"], c["PreviousState"]["Name"], c["CurrentState"]["Name"]), (iid, "running", "shutting-down"), "change")
        eq(ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"], "terminated", "terminated")
    with t.err("TerminateInstances", "InvalidInstanceID.NotFound", 400):
        ec2.terminate_instances(InstanceIds=[NOI])

    # --- teardown ----------------------------------------------------------------------------
    with t.err("DeleteSecurityGroup", "InvalidGroup.NotFound", 400):
        ec2.delete_security_group(GroupId=NOSG)
    with t.ok("DeleteSecurityGroup"):
        ec2.delete_security_group(GroupId=sg)
        true(sg not in st()["security_groups"], "gone")

    with t.err("DeleteRouteTable", "InvalidRouteTableID.NotFound", 400):
        ec2.delete_route_table(RouteTableId=NORTB)
    with t.ok("DeleteRouteTable"):
        ec2.delete_route_table(RouteTableId=rtb)
        true(rtb not in st()["route_tables"], "gone")

    with t.err("DetachInternetGateway", "Gateway.NotAttached", 400):
        ec2.detach_internet_gateway(InternetGatewayId=igw2, VpcId=vpc)
    with t.ok("DetachInternetGateway"):
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        eq(st()["internet_gateways"][igw]["vpc_id"], None, "detached")

    with t.err("DeleteInternetGateway", "InvalidInternetGatewayID.NotFound", 400):
        ec2.delete_internet_gateway(InternetGatewayId=NOIGW)
    with t.ok("DeleteInternetGateway"):
        ec2.delete_internet_gateway(InternetGatewayId=igw)
        ec2.delete_internet_gateway(InternetGatewayId=igw2)
        true(igw not in st()["internet_gateways"], "gone")

    with t.err("DeleteVpc", "DependencyViolation", 400):
        ec2.delete_vpc(VpcId=vpc)  # its subnet is still there
    with t.err("DeleteSubnet", "InvalidSubnetID.NotFound", 400):
        ec2.delete_subnet(SubnetId=NOSUBNET)
    with t.ok("DeleteSubnet"):
        ec2.delete_subnet(SubnetId=subnet)
        true(subnet not in st()["subnets"], "gone")
    with t.ok("DeleteVpc"):
        ec2.delete_vpc(VpcId=vpc)
        true(vpc not in st()["vpcs"], "gone")
