from harness import ACCOUNT, REGION, eq, one, true

NOLB = "no-such-lb"


def run(ctx):
    t = ctx.service("elb")
    elb = ctx.client("elb")
    bad = ctx.client("elb", validate=False)
    worker = ctx.client("elb", key="worker")
    ec2 = ctx.client("ec2")

    def lbs():
        return ctx.ec2_state()["elb"]["load_balancers"]

    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    sa, sb = subnets[0]["SubnetId"], subnets[1]["SubnetId"]
    vpc = subnets[0]["VpcId"]
    sg = ec2.create_security_group(GroupName="elb-conf", Description="elb", VpcId=vpc)["GroupId"]
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    iid = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                            SubnetId=sa)["Instances"][0]["InstanceId"]

    with t.ok("CreateLoadBalancer"):
        r = elb.create_load_balancer(LoadBalancerName="conf", Subnets=[sa],
                                     Listeners=[{"Protocol": "http", "LoadBalancerPort": 80, "InstancePort": 8080}],
                                     Tags=[{"Key": "k", "Value": "v"}])
        s = lbs()["conf"]
        eq(r["DNSName"], s["dns_name"], "DNSName")
        true(r["DNSName"].startswith("conf-") and r["DNSName"].endswith(f".{REGION}.elb.amazonaws.com"), r["DNSName"])
        eq(s["listeners"][0]["protocol"], "HTTP", "listener stored upper case")
        eq(s["tags"], {"k": "v"}, "tags")
    with t.err("CreateLoadBalancer", "ValidationError", 400):
        elb.create_load_balancer(LoadBalancerName="conf2", Subnets=[sa],
                                 Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 0, "InstancePort": 80}])

    with t.ok("DescribeLoadBalancers"):
        d = one(elb.describe_load_balancers(LoadBalancerNames=["conf"])["LoadBalancerDescriptions"])
        s = lbs()["conf"]
        eq(d["DNSName"], s["dns_name"], "DNSName")
        eq(d["Subnets"], [sa], "Subnets")
        eq(d["VPCId"], vpc, "VPCId")
        eq(d["Scheme"], "internet-facing", "Scheme")
        eq(d["SecurityGroups"], s["security_groups"], "SecurityGroups")
        eq(d["AvailabilityZones"], [subnets[0]["AvailabilityZone"]], "AvailabilityZones")
        l = one(d["ListenerDescriptions"])["Listener"]
        eq((l["Protocol"], l["LoadBalancerPort"], l["InstanceProtocol"], l["InstancePort"]), ("HTTP", 80, "HTTP", 8080), "Listener")
        hc = d["HealthCheck"]
        eq((hc["Target"], hc["Interval"], hc["Timeout"], hc["HealthyThreshold"], hc["UnhealthyThreshold"]),
           (s["health_check"]["target"], 30, 5, 10, 2), "HealthCheck")
        true(d["CanonicalHostedZoneNameID"], "CanonicalHostedZoneNameID")
        true(hasattr(d["CreatedTime"], "year"), "CreatedTime")
    with t.err("DescribeLoadBalancers", "LoadBalancerNotFound", 400):
        elb.describe_load_balancers(LoadBalancerNames=[NOLB])

    with t.ok("CreateLoadBalancerListeners"):
        elb.create_load_balancer_listeners(LoadBalancerName="conf", Listeners=[
            {"Protocol": "TCP", "LoadBalancerPort": 9000, "InstanceProtocol": "TCP", "InstancePort": 9000}])
        eq(sorted(l["load_balancer_port"] for l in lbs()["conf"]["listeners"]), [80, 9000], "ports")
    with t.err("CreateLoadBalancerListeners", "DuplicateListener", 400):
        elb.create_load_balancer_listeners(LoadBalancerName="conf", Listeners=[
            {"Protocol": "TCP", "LoadBalancerPort": 80, "InstanceProtocol": "TCP", "InstancePort": 81}])

    with t.ok("DeleteLoadBalancerListeners"):
        elb.delete_load_balancer_listeners(LoadBalancerName="conf", LoadBalancerPorts=[9000])
        eq([l["load_balancer_port"] for l in lbs()["conf"]["listeners"]], [80], "ports")
    with t.err("DeleteLoadBalancerListeners", "LoadBalancerNotFound", 400):
        elb.delete_load_balancer_listeners(LoadBalancerName=NOLB, LoadBalancerPorts=[80])

    with t.ok("ConfigureHealthCheck"):
        hc = elb.configure_health_check(LoadBalancerName="conf", HealthCheck={
            "Target": "HTTP:8080/healthz", "Interval": 10, "Timeout": 5, "UnhealthyThreshold": 3, "HealthyThreshold": 2})["HealthCheck"]
        eq(hc["Target"], "HTTP:8080/healthz", "Target")
        eq(lbs()["conf"]["health_check"], {"healthy_threshold": 2, "interval": 10, "target": "HTTP:8080/healthz",
                                           "timeout": 5, "unhealthy_threshold": 3}, "state")
    with t.err("ConfigureHealthCheck", "ValidationError", 400):
        elb.configure_health_check(LoadBalancerName="conf", HealthCheck={
            "Target": "HTTP:8080/healthz", "Interval": 5, "Timeout": 10, "UnhealthyThreshold": 3, "HealthyThreshold": 2})

    with t.ok("DescribeLoadBalancerAttributes"):
        a = elb.describe_load_balancer_attributes(LoadBalancerName="conf")["LoadBalancerAttributes"]
        s = lbs()["conf"]["attributes"]
        eq(a["CrossZoneLoadBalancing"]["Enabled"], s["cross_zone"], "CrossZone")
        eq(a["ConnectionSettings"]["IdleTimeout"], s["idle_timeout"], "IdleTimeout")
        eq(a["ConnectionDraining"], {"Enabled": s["connection_draining"], "Timeout": s["connection_draining_timeout"]}, "Draining")
        eq(a["AccessLog"]["Enabled"], False, "AccessLog")
    with t.err("DescribeLoadBalancerAttributes", "LoadBalancerNotFound", 400):
        elb.describe_load_balancer_attributes(LoadBalancerName=NOLB)

    with t.ok("ModifyLoadBalancerAttributes"):
        r = elb.modify_load_balancer_attributes(LoadBalancerName="conf", LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True}, "ConnectionSettings": {"IdleTimeout": 120}})
        eq(r["LoadBalancerName"], "conf", "LoadBalancerName")
        eq(r["LoadBalancerAttributes"]["CrossZoneLoadBalancing"]["Enabled"], True, "echoed")
        s = lbs()["conf"]["attributes"]
        eq((s["cross_zone"], s["idle_timeout"]), (True, 120), "state")
    with t.err("ModifyLoadBalancerAttributes", "LoadBalancerNotFound", 400):
        elb.modify_load_balancer_attributes(LoadBalancerName=NOLB, LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True}})

    with t.ok("ApplySecurityGroupsToLoadBalancer"):
        eq(elb.apply_security_groups_to_load_balancer(LoadBalancerName="conf", SecurityGroups=[sg])["SecurityGroups"], [sg], "echo")
        eq(lbs()["conf"]["security_groups"], [sg], "state")
    with t.err("ApplySecurityGroupsToLoadBalancer", "InvalidSecurityGroup", 400):
        elb.apply_security_groups_to_load_balancer(LoadBalancerName="conf", SecurityGroups=["sg-0123456789abcdef0"])

    with t.ok("AttachLoadBalancerToSubnets"):
        eq(sorted(elb.attach_load_balancer_to_subnets(LoadBalancerName="conf", Subnets=[sb])["Subnets"]), sorted([sa, sb]), "Subnets")
        eq(sorted(lbs()["conf"]["subnets"]), sorted([sa, sb]), "state")
    with t.err("AttachLoadBalancerToSubnets", "SubnetNotFound", 400):
        elb.attach_load_balancer_to_subnets(LoadBalancerName="conf", Subnets=["subnet-0123456789abcdef0"])

    with t.ok("DetachLoadBalancerFromSubnets"):
        eq(elb.detach_load_balancer_from_subnets(LoadBalancerName="conf", Subnets=[sb])["Subnets"], [sa], "Subnets")
        eq(lbs()["conf"]["subnets"], [sa], "state")
    with t.err("DetachLoadBalancerFromSubnets", "LoadBalancerNotFound", 400):
        elb.detach_load_balancer_from_subnets(LoadBalancerName=NOLB, Subnets=[sb])

    with t.ok("RegisterInstancesWithLoadBalancer"):
        r = elb.register_instances_with_load_balancer(LoadBalancerName="conf", Instances=[{"InstanceId": iid}])
        eq(r["Instances"], [{"InstanceId": iid}], "Instances")
        true(iid in str(lbs()["conf"]["instances"]), "state")
    with t.err("RegisterInstancesWithLoadBalancer", "InvalidInstance", 400):
        elb.register_instances_with_load_balancer(LoadBalancerName="conf", Instances=[{"InstanceId": "i-0123456789abcdef0"}])

    with t.ok("DescribeInstanceHealth"):
        h = one(elb.describe_instance_health(LoadBalancerName="conf")["InstanceStates"])
        eq(h["InstanceId"], iid, "InstanceId")
        true(h["State"] in ("InService", "OutOfService"), h["State"])
        true(h["ReasonCode"] in ("ELB", "Instance", "N/A"), h["ReasonCode"])
    with t.err("DescribeInstanceHealth", "InvalidInstance", 400):
        elb.describe_instance_health(LoadBalancerName="conf", Instances=[{"InstanceId": "i-0123456789abcdef0"}])

    with t.ok("DeregisterInstancesFromLoadBalancer"):
        eq(elb.deregister_instances_from_load_balancer(LoadBalancerName="conf", Instances=[{"InstanceId": iid}])["Instances"], [], "Instances")
        eq(lbs()["conf"]["instances"], [], "state")
    with t.err("DeregisterInstancesFromLoadBalancer", "LoadBalancerNotFound", 400):
        elb.deregister_instances_from_load_balancer(LoadBalancerName=NOLB, Instances=[{"InstanceId": iid}])

    with t.ok("DescribeLoadBalancerPolicyTypes"):
        ts = {x["PolicyTypeName"]: x for x in elb.describe_load_balancer_policy_types()["PolicyTypeDescriptions"]}
        true("ProxyProtocolPolicyType" in ts and "SSLNegotiationPolicyType" in ts, f"types {list(ts)}")
        a = one(ts["ProxyProtocolPolicyType"]["PolicyAttributeTypeDescriptions"])
        eq((a["AttributeName"], a["AttributeType"], a["Cardinality"]), ("ProxyProtocol", "Boolean", "ONE"), "attribute")
    with t.err("DescribeLoadBalancerPolicyTypes", "PolicyTypeNotFound", 400):
        elb.describe_load_balancer_policy_types(PolicyTypeNames=["NoSuchPolicyType"])

    with t.ok("CreateLoadBalancerPolicy"):
        elb.create_load_balancer_policy(LoadBalancerName="conf", PolicyName="proxy", PolicyTypeName="ProxyProtocolPolicyType",
                                        PolicyAttributes=[{"AttributeName": "ProxyProtocol", "AttributeValue": "true"}])
        true("proxy" in str(lbs()["conf"]["policies"]), "state")
    with t.err("CreateLoadBalancerPolicy", "PolicyTypeNotFound", 400):
        elb.create_load_balancer_policy(LoadBalancerName="conf", PolicyName="p2", PolicyTypeName="NoSuchPolicyType")

    with t.ok("DescribeLoadBalancerPolicies"):
        p = one(elb.describe_load_balancer_policies(LoadBalancerName="conf", PolicyNames=["proxy"])["PolicyDescriptions"])
        eq((p["PolicyName"], p["PolicyTypeName"]), ("proxy", "ProxyProtocolPolicyType"), "policy")
        eq(p["PolicyAttributeDescriptions"], [{"AttributeName": "ProxyProtocol", "AttributeValue": "true"}], "attributes")
    with t.err("DescribeLoadBalancerPolicies", "PolicyNotFound", 400):
        elb.describe_load_balancer_policies(LoadBalancerName="conf", PolicyNames=["nope"])

    with t.ok("SetLoadBalancerPoliciesForBackendServer"):
        elb.set_load_balancer_policies_for_backend_server(LoadBalancerName="conf", InstancePort=8080, PolicyNames=["proxy"])
        eq(lbs()["conf"]["backend_policies"], {"8080": ["proxy"]}, "state")
        d = elb.describe_load_balancers(LoadBalancerNames=["conf"])["LoadBalancerDescriptions"][0]
        eq(d["BackendServerDescriptions"], [{"InstancePort": 8080, "PolicyNames": ["proxy"]}], "described")
    with t.err("SetLoadBalancerPoliciesForBackendServer", "PolicyNotFound", 400):
        elb.set_load_balancer_policies_for_backend_server(LoadBalancerName="conf", InstancePort=8080, PolicyNames=["nope"])

    with t.ok("SetLoadBalancerPoliciesOfListener"):
        elb.create_load_balancer_policy(LoadBalancerName="conf", PolicyName="sticky", PolicyTypeName="LBCookieStickinessPolicyType",
                                        PolicyAttributes=[{"AttributeName": "CookieExpirationPeriod", "AttributeValue": "60"}])
        elb.set_load_balancer_policies_of_listener(LoadBalancerName="conf", LoadBalancerPort=80, PolicyNames=["sticky"])
        eq(lbs()["conf"]["listeners"][0]["policy_names"], ["sticky"], "state")
        d = elb.describe_load_balancers(LoadBalancerNames=["conf"])["LoadBalancerDescriptions"][0]
        eq(d["ListenerDescriptions"][0]["PolicyNames"], ["sticky"], "described")
    with t.err("SetLoadBalancerPoliciesOfListener", "ListenerNotFound", 400):
        elb.set_load_balancer_policies_of_listener(LoadBalancerName="conf", LoadBalancerPort=4444, PolicyNames=[])

    with t.ok("DeleteLoadBalancerPolicy"):
        elb.set_load_balancer_policies_for_backend_server(LoadBalancerName="conf", InstancePort=8080, PolicyNames=[])
        elb.delete_load_balancer_policy(LoadBalancerName="conf", PolicyName="proxy")
        true("'proxy'" not in str(lbs()["conf"]["policies"]), "state")
    with t.err("DeleteLoadBalancerPolicy", "LoadBalancerNotFound", 400):
        elb.delete_load_balancer_policy(LoadBalancerName=NOLB, PolicyName="proxy")

    with t.ok("AddTags"):
        elb.add_tags(LoadBalancerNames=["conf"], Tags=[{"Key": "a", "Value": "1"}])
        eq(lbs()["conf"]["tags"], {"k": "v", "a": "1"}, "state")
    with t.err("AddTags", "LoadBalancerNotFound", 400):
        elb.add_tags(LoadBalancerNames=[NOLB], Tags=[{"Key": "a", "Value": "1"}])

    with t.ok("DescribeTags"):
        d = one(elb.describe_tags(LoadBalancerNames=["conf"])["TagDescriptions"])
        eq(d["LoadBalancerName"], "conf", "name")
        eq(sorted((x["Key"], x["Value"]) for x in d["Tags"]), [("a", "1"), ("k", "v")], "Tags")
    with t.err("DescribeTags", "LoadBalancerNotFound", 400):
        elb.describe_tags(LoadBalancerNames=[NOLB])

    with t.ok("RemoveTags"):
        elb.remove_tags(LoadBalancerNames=["conf"], Tags=[{"Key": "a"}])
        eq(lbs()["conf"]["tags"], {"k": "v"}, "state")
    with t.err("RemoveTags", "LoadBalancerNotFound", 400):
        elb.remove_tags(LoadBalancerNames=[NOLB], Tags=[{"Key": "a"}])

    with t.ok("DeleteLoadBalancer"):
        elb.delete_load_balancer(LoadBalancerName="conf")
        true("conf" not in lbs(), "gone")
        elb.delete_load_balancer(LoadBalancerName="conf")  # idempotent, as in AWS
    with t.err("DeleteLoadBalancer", "AccessDenied", 403):
        worker.delete_load_balancer(LoadBalancerName="conf")
