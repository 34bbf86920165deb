from harness import ACCOUNT, REGION, eq, one, true

NOARN_LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/nope/0123456789abcdef"
NOARN_TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/nope/0123456789abcdef"
NOARN_L = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/nope/0123456789abcdef/0123456789abcdef"


def run(ctx):
    t = ctx.service("elbv2")
    v2 = ctx.client("elbv2")
    ec2 = ctx.client("ec2")
    st = lambda: ctx.ec2_state()["elbv2"]

    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    sa, sb, sc = (s["SubnetId"] for s in subnets[:3])
    vpc = subnets[0]["VpcId"]
    sg = ec2.create_security_group(GroupName="v2-conf", Description="v2", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=sa)["Instances"][0]["InstanceId"]

    with t.ok("CreateLoadBalancer"):
        lb = one(v2.create_load_balancer(Name="conf", Subnets=[sa, sb], SecurityGroups=[sg], Type="application",
                                         Tags=[{"Key": "k", "Value": "v"}])["LoadBalancers"])
        arn = lb["LoadBalancerArn"]
        eq((lb["LoadBalancerName"], lb["Type"], lb["Scheme"], lb["VpcId"]), ("conf", "application", "internet-facing", vpc), "lb")
        eq(lb["State"]["Code"], "provisioning", "State")
        eq(lb["SecurityGroups"], [sg], "SecurityGroups")
        true(lb["DNSName"] in str(st()["load_balancers"]), "DNSName in state")
    with t.err("CreateLoadBalancer", "DuplicateLoadBalancerName", 400):
        v2.create_load_balancer(Name="conf", Subnets=[sa, sc], Type="application")
    with t.ok("DescribeLoadBalancers"):
        lb = one(v2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"])
        eq(lb["State"]["Code"], "active", "State")
        eq(sorted(z["SubnetId"] for z in lb["AvailabilityZones"]), sorted([sa, sb]), "zones")
    with t.err("DescribeLoadBalancers", "LoadBalancerNotFound", 400):
        v2.describe_load_balancers(LoadBalancerArns=[NOARN_LB])
    with t.ok("SetSecurityGroups"):
        eq(v2.set_security_groups(LoadBalancerArn=arn, SecurityGroups=[sg])["SecurityGroupIds"], [sg], "SecurityGroupIds")
    with t.err("SetSecurityGroups", "LoadBalancerNotFound", 400):
        v2.set_security_groups(LoadBalancerArn=NOARN_LB, SecurityGroups=[sg])
    with t.ok("SetSubnets"):
        zs = v2.set_subnets(LoadBalancerArn=arn, Subnets=[sa, sb, sc])["AvailabilityZones"]
        eq(sorted(z["SubnetId"] for z in zs), sorted([sa, sb, sc]), "zones")
    with t.err("SetSubnets", "LoadBalancerNotFound", 400):
        v2.set_subnets(LoadBalancerArn=NOARN_LB, Subnets=[sa, sb])
    with t.ok("DescribeLoadBalancerAttributes"):
        a = {x["Key"]: x["Value"] for x in v2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
        eq(a.get("idle_timeout.timeout_seconds"), "60", "idle timeout default")
    with t.err("DescribeLoadBalancerAttributes", "LoadBalancerNotFound", 400):
        v2.describe_load_balancer_attributes(LoadBalancerArn=NOARN_LB)
    with t.ok("ModifyLoadBalancerAttributes"):
        a = {x["Key"]: x["Value"] for x in v2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "120"}])["Attributes"]}
        eq(a["idle_timeout.timeout_seconds"], "120", "echoed")
    with t.err("ModifyLoadBalancerAttributes", "LoadBalancerNotFound", 400):
        v2.modify_load_balancer_attributes(LoadBalancerArn=NOARN_LB, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "1"}])

    with t.ok("CreateTargetGroup"):
        tg = one(v2.create_target_group(Name="conf-tg", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="instance")["TargetGroups"])
        tga = tg["TargetGroupArn"]
        eq((tg["Protocol"], tg["Port"], tg["VpcId"], tg["HealthCheckPath"]), ("HTTP", 8080, vpc, "/"), "tg")
        true(tga in str(st()["target_groups"]), "in state")
    with t.err("CreateTargetGroup", "ValidationError", 400):
        v2.create_target_group(Name="bad_name!", Protocol="HTTP", Port=80, VpcId=vpc)
    with t.ok("DescribeTargetGroups"):
        tg = one(v2.describe_target_groups(TargetGroupArns=[tga])["TargetGroups"])
        eq(tg["TargetGroupName"], "conf-tg", "name")
    with t.err("DescribeTargetGroups", "TargetGroupNotFound", 400):
        v2.describe_target_groups(TargetGroupArns=[NOARN_TG])
    with t.ok("ModifyTargetGroup"):
        tg = one(v2.modify_target_group(TargetGroupArn=tga, HealthCheckPath="/healthz")["TargetGroups"])
        eq(tg["HealthCheckPath"], "/healthz", "HealthCheckPath")
    with t.err("ModifyTargetGroup", "TargetGroupNotFound", 400):
        v2.modify_target_group(TargetGroupArn=NOARN_TG, HealthCheckPath="/x")
    with t.ok("DescribeTargetGroupAttributes"):
        a = {x["Key"]: x["Value"] for x in v2.describe_target_group_attributes(TargetGroupArn=tga)["Attributes"]}
        eq(a.get("deregistration_delay.timeout_seconds"), "300", "default delay")
    with t.err("DescribeTargetGroupAttributes", "TargetGroupNotFound", 400):
        v2.describe_target_group_attributes(TargetGroupArn=NOARN_TG)
    with t.ok("ModifyTargetGroupAttributes"):
        a = {x["Key"]: x["Value"] for x in v2.modify_target_group_attributes(TargetGroupArn=tga, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])["Attributes"]}
        eq(a["deregistration_delay.timeout_seconds"], "0", "echoed")
    with t.err("ModifyTargetGroupAttributes", "TargetGroupNotFound", 400):
        v2.modify_target_group_attributes(TargetGroupArn=NOARN_TG, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])

    with t.ok("CreateListener"):
        l = one(v2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tga}])["Listeners"])
        la = l["ListenerArn"]
        eq((l["Protocol"], l["Port"], l["LoadBalancerArn"]), ("HTTP", 80, arn), "listener")
        eq(l["DefaultActions"][0]["TargetGroupArn"], tga, "action")
        true(la in str(st()["listeners"]), "in state")
    with t.err("CreateListener", "TargetGroupNotFound", 400):
        v2.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=81, DefaultActions=[{"Type": "forward", "TargetGroupArn": NOARN_TG}])
    with t.ok("DescribeListeners"):
        eq(one(v2.describe_listeners(LoadBalancerArn=arn)["Listeners"])["ListenerArn"], la, "ListenerArn")
    with t.err("DescribeListeners", "ListenerNotFound", 400):
        v2.describe_listeners(ListenerArns=[NOARN_L])
    with t.ok("ModifyListener"):
        eq(one(v2.modify_listener(ListenerArn=la, Port=8081)["Listeners"])["Port"], 8081, "Port")
    with t.err("ModifyListener", "ListenerNotFound", 400):
        v2.modify_listener(ListenerArn=NOARN_L, Port=81)

    with t.ok("RegisterTargets"):
        v2.register_targets(TargetGroupArn=tga, Targets=[{"Id": iid, "Port": 8080}])
        true(iid in str(st()["target_groups"]), "target in state")
    with t.err("RegisterTargets", "InvalidTarget", 400):
        v2.register_targets(TargetGroupArn=tga, Targets=[{"Id": "i-0123456789abcdef0"}])
    with t.ok("DescribeTargetHealth"):
        h = one(v2.describe_target_health(TargetGroupArn=tga)["TargetHealthDescriptions"])
        eq((h["Target"]["Id"], h["Target"]["Port"]), (iid, 8080), "target")
        true(h["TargetHealth"]["State"] in ("initial", "healthy", "unhealthy"), h["TargetHealth"]["State"])
    with t.err("DescribeTargetHealth", "TargetGroupNotFound", 400):
        v2.describe_target_health(TargetGroupArn=NOARN_TG)
    with t.ok("DeregisterTargets"):
        v2.deregister_targets(TargetGroupArn=tga, Targets=[{"Id": iid, "Port": 8080}])
    with t.err("DeregisterTargets", "TargetGroupNotFound", 400):
        v2.deregister_targets(TargetGroupArn=NOARN_TG, Targets=[{"Id": iid}])

    with t.ok("AddTags"):
        v2.add_tags(ResourceArns=[arn], Tags=[{"Key": "a", "Value": "1"}])
    with t.err("AddTags", "LoadBalancerNotFound", 400):
        v2.add_tags(ResourceArns=[NOARN_LB], Tags=[{"Key": "a", "Value": "1"}])
    with t.ok("DescribeTags"):
        d = one(v2.describe_tags(ResourceArns=[arn])["TagDescriptions"])
        eq(sorted((x["Key"], x["Value"]) for x in d["Tags"]), [("a", "1"), ("k", "v")], "Tags")
    with t.err("DescribeTags", "LoadBalancerNotFound", 400):
        v2.describe_tags(ResourceArns=[NOARN_LB])
    with t.ok("RemoveTags"):
        v2.remove_tags(ResourceArns=[arn], TagKeys=["a"])
        eq([x["Key"] for x in v2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]], ["k"], "left")
    with t.err("RemoveTags", "LoadBalancerNotFound", 400):
        v2.remove_tags(ResourceArns=[NOARN_LB], TagKeys=["a"])

    with t.ok("DeleteListener"):
        v2.delete_listener(ListenerArn=la)
        true(la not in str(st()["listeners"]), "gone")
    with t.err("DeleteListener", "ListenerNotFound", 400):
        v2.delete_listener(ListenerArn=la)
    with t.ok("DeleteTargetGroup"):
        v2.delete_target_group(TargetGroupArn=tga)
        true(tga not in str(st()["target_groups"]), "gone")
    with t.err("DeleteTargetGroup", "AccessDenied", 403):
        ctx.client("elbv2", key="worker").delete_target_group(TargetGroupArn=tga)
    with t.ok("DeleteLoadBalancer"):
        v2.delete_load_balancer(LoadBalancerArn=arn)
        true(arn not in str(st()["load_balancers"]), "gone")
    with t.err("DeleteLoadBalancer", "AccessDenied", 403):
        ctx.client("elbv2", key="worker").delete_load_balancer(LoadBalancerArn=arn)
