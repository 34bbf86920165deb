from harness import ACCOUNT, REGION, eq, one, true

NOARN_LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/nope/0123456789abcdef"
NOARN_TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/nope/0123456789abcdef"
NOARN_L = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/nope/0123456789abcdef/0123456789abcdef"
NOARN_R = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/nope/0123456789abcdef/0123456789abcdef/0123456789abcdef"


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

    fwd = [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tga}]}}]
    with t.ok("CreateRule"):
        r1 = one(v2.create_rule(ListenerArn=la, Priority=10, Actions=fwd, Tags=[{"Key": "rule", "Value": "one"}],
                                Conditions=[{"Field": "host-header", "Values": ["a.example.com"]}])["Rules"])
        ra = r1["RuleArn"]
        true(ra.startswith(la.replace(":listener/", ":listener-rule/") + "/"), ra)
        eq((r1["Priority"], r1["IsDefault"]), ("10", False), "priority")
        c = one(r1["Conditions"])
        eq((c["Field"], c["Values"], c["HostHeaderConfig"]["Values"]), ("host-header", ["a.example.com"], ["a.example.com"]), "legacy form")
        eq(one(r1["Actions"])["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"], tga, "action")
        r2 = one(v2.create_rule(ListenerArn=la, Priority=20, Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
                                Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}},
                                            {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Env", "Values": ["prod"]}},
                                            {"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "v", "Value": "2"}]}},
                                            {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET"]}},
                                            {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}],
                                Transforms=[{"Type": "url-rewrite", "UrlRewriteConfig": {"Rewrites": [{"Regex": "^/api/(.*)$", "Replace": "/$1"}]}}])["Rules"])
        rb = r2["RuleArn"]
        by = {c["Field"]: c for c in r2["Conditions"]}
        eq((by["path-pattern"]["Values"], by["path-pattern"]["PathPatternConfig"]["Values"]), (["/api/*"], ["/api/*"]), "config form")
        eq(by["http-header"]["HttpHeaderConfig"], {"HttpHeaderName": "X-Env", "Values": ["prod"]}, "header")
        eq(by["query-string"]["QueryStringConfig"]["Values"], [{"Key": "v", "Value": "2"}], "query")
        eq(by["http-request-method"]["HttpRequestMethodConfig"]["Values"], ["GET"], "method")
        eq(by["source-ip"]["SourceIpConfig"]["Values"], ["10.0.0.0/8"], "source ip")
        true("Values" not in by["http-header"], "no legacy Values for http-header")
        eq(one(r2["Transforms"])["UrlRewriteConfig"]["Rewrites"], [{"Regex": "^/api/(.*)$", "Replace": "/$1"}], "transform")
        true(ra in str(st()["rules"]), "in state")
    with t.err("CreateRule", "PriorityInUse", 400):
        v2.create_rule(ListenerArn=la, Priority=10, Actions=fwd, Conditions=[{"Field": "host-header", "Values": ["b.example.com"]}])
    with t.ok("DescribeRules"):
        rules = v2.describe_rules(ListenerArn=la)["Rules"]
        eq([r["Priority"] for r in rules], ["10", "20", "default"], "priorities")
        d = rules[-1]
        eq((d["IsDefault"], d["Conditions"]), (True, []), "default rule")
        eq(d["Actions"][0]["TargetGroupArn"], tga, "default actions")
        page = v2.describe_rules(ListenerArn=la, PageSize=2)
        eq(len(page["Rules"]), 2, "page")
        eq(one(v2.describe_rules(ListenerArn=la, Marker=page["NextMarker"])["Rules"])["IsDefault"], True, "next page")
        eq(one(v2.describe_rules(RuleArns=[d["RuleArn"]])["Rules"])["Priority"], "default", "by ARN")
        dra = d["RuleArn"]
    with t.err("DescribeRules", "RuleNotFound", 400):
        v2.describe_rules(RuleArns=[NOARN_R])
    with t.ok("ModifyRule"):
        m = one(v2.modify_rule(RuleArn=rb, ResetTransforms=True,
                               Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["*.example.com"]}}])["Rules"])
        eq((one(m["Conditions"])["Field"], m.get("Transforms", [])), ("host-header", []), "replaced, reset")
        eq(one(m["Actions"])["Type"], "fixed-response", "actions kept")
    with t.err("ModifyRule", "OperationNotPermitted", 400):
        v2.modify_rule(RuleArn=dra, Actions=fwd)
    with t.ok("SetRulePriorities"):
        moved = v2.set_rule_priorities(RulePriorities=[{"RuleArn": ra, "Priority": 20}, {"RuleArn": rb, "Priority": 10}])["Rules"]
        eq(sorted((r["RuleArn"], r["Priority"]) for r in moved), sorted([(ra, "20"), (rb, "10")]), "swapped")
        eq([r["RuleArn"] for r in v2.describe_rules(ListenerArn=la)["Rules"]], [rb, ra, dra], "new order")
    with t.err("SetRulePriorities", "PriorityInUse", 400):
        v2.set_rule_priorities(RulePriorities=[{"RuleArn": ra, "Priority": 10}])
    with t.ok("DeleteRule"):
        v2.delete_rule(RuleArn=rb)
        eq([r["RuleArn"] for r in v2.describe_rules(ListenerArn=la)["Rules"]], [ra, dra], "left")
    with t.err("DeleteRule", "OperationNotPermitted", 400):
        v2.delete_rule(RuleArn=dra)

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
        v2.add_tags(ResourceArns=[ra, dra], Tags=[{"Key": "r", "Value": "2"}])
        rt = {x["ResourceArn"]: sorted((k["Key"], k["Value"]) for k in x["Tags"]) for x in v2.describe_tags(ResourceArns=[ra, dra])["TagDescriptions"]}
        eq(rt, {ra: [("r", "2"), ("rule", "one")], dra: [("r", "2")]}, "rule tags")
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
        true(ra not in str(st()["rules"]), "its rules gone")
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
