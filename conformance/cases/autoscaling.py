from harness import ACCOUNT, REGION, eq, one, true


def run(ctx):
    t = ctx.service("autoscaling")
    asg = ctx.client("autoscaling")
    worker = ctx.client("autoscaling", key="worker")
    ec2 = ctx.client("ec2")
    elb = ctx.client("elb")
    v2 = ctx.client("elbv2")
    st = lambda: ctx.ec2_state()["autoscaling"]

    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    sa, sb = subnets[0]["SubnetId"], subnets[1]["SubnetId"]
    vpc = subnets[0]["VpcId"]
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    elb.create_load_balancer(LoadBalancerName="asg-clb", Subnets=[sa],
                             Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}])
    tga = v2.create_target_group(Name="asg-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]

    with t.ok("CreateLaunchConfiguration"):
        asg.create_launch_configuration(LaunchConfigurationName="conf-lc", ImageId=ami, InstanceType="t3.micro")
        true("conf-lc" in st()["launch_configurations"], "in state")
    with t.err("CreateLaunchConfiguration", "AlreadyExists", 400):
        asg.create_launch_configuration(LaunchConfigurationName="conf-lc", ImageId=ami, InstanceType="t3.micro")
    with t.ok("DescribeLaunchConfigurations"):
        lc = one(asg.describe_launch_configurations(LaunchConfigurationNames=["conf-lc"])["LaunchConfigurations"])
        eq((lc["ImageId"], lc["InstanceType"]), (ami, "t3.micro"), "lc")
        true(lc["LaunchConfigurationARN"].startswith(f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:launchConfiguration:"), "ARN")
    with t.err("DescribeLaunchConfigurations", "AccessDenied", 403):
        worker.describe_launch_configurations()

    with t.ok("CreateAutoScalingGroup"):
        asg.create_auto_scaling_group(AutoScalingGroupName="conf-asg", LaunchConfigurationName="conf-lc", MinSize=1, MaxSize=3,
                                      DesiredCapacity=2, VPCZoneIdentifier=f"{sa},{sb}",
                                      Tags=[{"Key": "k", "Value": "v", "PropagateAtLaunch": True}])
        true("conf-asg" in st()["groups"], "in state")
    with t.err("CreateAutoScalingGroup", "AlreadyExists", 400):
        asg.create_auto_scaling_group(AutoScalingGroupName="conf-asg", LaunchConfigurationName="conf-lc", MinSize=1, MaxSize=3,
                                      VPCZoneIdentifier=sa)
    with t.ok("DescribeAutoScalingGroups"):
        g = one(asg.describe_auto_scaling_groups(AutoScalingGroupNames=["conf-asg"])["AutoScalingGroups"])
        eq((g["MinSize"], g["MaxSize"], g["DesiredCapacity"], g["LaunchConfigurationName"]), (1, 3, 2, "conf-lc"), "group")
        eq(len(g["Instances"]), 2, "instances")
        eq(sorted(g["VPCZoneIdentifier"].split(",")), sorted([sa, sb]), "subnets")
        iids = [i["InstanceId"] for i in g["Instances"]]
        true(all(i in ctx.ec2_state()["instances"] for i in iids), "instances are EC2 instances")
    with t.err("DescribeAutoScalingGroups", "AccessDenied", 403):
        worker.describe_auto_scaling_groups()
    with t.ok("UpdateAutoScalingGroup"):
        asg.update_auto_scaling_group(AutoScalingGroupName="conf-asg", DesiredCapacity=1)
        eq(asg.describe_auto_scaling_groups(AutoScalingGroupNames=["conf-asg"])["AutoScalingGroups"][0]["DesiredCapacity"], 1, "desired")
    with t.err("UpdateAutoScalingGroup", "ValidationError", 400):
        asg.update_auto_scaling_group(AutoScalingGroupName="no-such-asg", DesiredCapacity=1)

    tag = {"ResourceId": "conf-asg", "ResourceType": "auto-scaling-group", "Key": "t2", "Value": "x", "PropagateAtLaunch": False}
    with t.ok("CreateOrUpdateTags"):
        asg.create_or_update_tags(Tags=[tag])
    with t.err("CreateOrUpdateTags", "ValidationError", 400):
        asg.create_or_update_tags(Tags=[dict(tag, ResourceId="no-such-asg")])
    with t.ok("DescribeTags"):
        tags = asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": ["conf-asg"]}])["Tags"]
        eq(sorted((x["Key"], x["Value"], x["PropagateAtLaunch"]) for x in tags), [("k", "v", True), ("t2", "x", False)], "tags")
    with t.err("DescribeTags", "ValidationError", 400):
        asg.describe_tags(Filters=[{"Name": "no-such-filter", "Values": ["x"]}])
    with t.ok("DeleteTags"):
        asg.delete_tags(Tags=[tag])
        eq([x["Key"] for x in asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": ["conf-asg"]}])["Tags"]], ["k"], "left")
    with t.err("DeleteTags", "ValidationError", 400):
        asg.delete_tags(Tags=[dict(tag, ResourceId="no-such-asg")])

    with t.ok("AttachLoadBalancers"):
        asg.attach_load_balancers(AutoScalingGroupName="conf-asg", LoadBalancerNames=["asg-clb"])
    with t.err("AttachLoadBalancers", "ValidationError", 400):
        asg.attach_load_balancers(AutoScalingGroupName="no-such-asg", LoadBalancerNames=["asg-clb"])
    with t.ok("DescribeLoadBalancers"):
        l = one(asg.describe_load_balancers(AutoScalingGroupName="conf-asg")["LoadBalancers"])
        eq(l["LoadBalancerName"], "asg-clb", "name")
        true(l["State"] in ("Adding", "Added", "InService"), l["State"])
    with t.err("DescribeLoadBalancers", "ValidationError", 400):
        asg.describe_load_balancers(AutoScalingGroupName="no-such-asg")
    with t.ok("DetachLoadBalancers"):
        asg.detach_load_balancers(AutoScalingGroupName="conf-asg", LoadBalancerNames=["asg-clb"])
    with t.err("DetachLoadBalancers", "ValidationError", 400):
        asg.detach_load_balancers(AutoScalingGroupName="no-such-asg", LoadBalancerNames=["asg-clb"])

    with t.ok("AttachLoadBalancerTargetGroups"):
        asg.attach_load_balancer_target_groups(AutoScalingGroupName="conf-asg", TargetGroupARNs=[tga])
    with t.err("AttachLoadBalancerTargetGroups", "ValidationError", 400):
        asg.attach_load_balancer_target_groups(AutoScalingGroupName="no-such-asg", TargetGroupARNs=[tga])
    with t.ok("DescribeLoadBalancerTargetGroups"):
        g = one(asg.describe_load_balancer_target_groups(AutoScalingGroupName="conf-asg")["LoadBalancerTargetGroups"])
        eq(g["LoadBalancerTargetGroupARN"], tga, "ARN")
    with t.err("DescribeLoadBalancerTargetGroups", "ValidationError", 400):
        asg.describe_load_balancer_target_groups(AutoScalingGroupName="no-such-asg")
    with t.ok("DetachLoadBalancerTargetGroups"):
        asg.detach_load_balancer_target_groups(AutoScalingGroupName="conf-asg", TargetGroupARNs=[tga])
    with t.err("DetachLoadBalancerTargetGroups", "ValidationError", 400):
        asg.detach_load_balancer_target_groups(AutoScalingGroupName="no-such-asg", TargetGroupARNs=[tga])

    with t.ok("AttachTrafficSources"):
        asg.attach_traffic_sources(AutoScalingGroupName="conf-asg", TrafficSources=[{"Identifier": tga, "Type": "elbv2"}])
    with t.err("AttachTrafficSources", "ValidationError", 400):
        asg.attach_traffic_sources(AutoScalingGroupName="no-such-asg", TrafficSources=[{"Identifier": tga, "Type": "elbv2"}])
    with t.ok("DescribeTrafficSources"):
        s = one(asg.describe_traffic_sources(AutoScalingGroupName="conf-asg")["TrafficSources"])
        eq((s["Identifier"], s["Type"]), (tga, "elbv2"), "source")
    with t.err("DescribeTrafficSources", "ValidationError", 400):
        asg.describe_traffic_sources(AutoScalingGroupName="no-such-asg")
    with t.ok("DetachTrafficSources"):
        asg.detach_traffic_sources(AutoScalingGroupName="conf-asg", TrafficSources=[{"Identifier": tga, "Type": "elbv2"}])
    with t.err("DetachTrafficSources", "ValidationError", 400):
        asg.detach_traffic_sources(AutoScalingGroupName="no-such-asg", TrafficSources=[{"Identifier": tga, "Type": "elbv2"}])

    with t.err("DeleteLaunchConfiguration", "ResourceInUse", 400):
        asg.delete_launch_configuration(LaunchConfigurationName="conf-lc")
    with t.ok("DeleteAutoScalingGroup"):
        asg.delete_auto_scaling_group(AutoScalingGroupName="conf-asg", ForceDelete=True)
        eq(asg.describe_auto_scaling_groups(AutoScalingGroupNames=["conf-asg"])["AutoScalingGroups"], [], "gone")
    with t.err("DeleteAutoScalingGroup", "ValidationError", 400):
        asg.delete_auto_scaling_group(AutoScalingGroupName="no-such-asg")
    with t.ok("DeleteLaunchConfiguration"):
        asg.delete_launch_configuration(LaunchConfigurationName="conf-lc")
        true("conf-lc" not in st()["launch_configurations"], "gone")
