from harness import ACCOUNT, REGION, eq, one, true


def run(ctx):
    t = ctx.service("autoscaling")
    asg = ctx.client("autoscaling")
    ec2 = ctx.client("ec2")
    st = lambda: ctx.ec2_state()["autoscaling"]

    subnets = sorted(ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"],
                     key=lambda s: s["AvailabilityZone"])
    sa, sb = subnets[0]["SubnetId"], subnets[1]["SubnetId"]
    ami = ec2.describe_images()["Images"][0]["ImageId"]
    lt = ec2.create_launch_template(
        LaunchTemplateName="asg-lt",
        LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro",
                            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "from", "Value": "lt"}]}]},
    )["LaunchTemplate"]
    ltid = lt["LaunchTemplateId"]
    asg.create_launch_configuration(LaunchConfigurationName="asg-lc", ImageId=ami, InstanceType="t3.micro")

    def group(name):
        return one(asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"])

    with t.ok("CreateAutoScalingGroup"):
        asg.create_auto_scaling_group(AutoScalingGroupName="lt-asg", MinSize=1, MaxSize=4, DesiredCapacity=2,
                                      LaunchTemplate={"LaunchTemplateName": "asg-lt", "Version": "$Latest"},
                                      VPCZoneIdentifier=f"{sa},{sb}")
        g = group("lt-asg")
        eq(g["LaunchTemplate"], {"LaunchTemplateId": ltid, "LaunchTemplateName": "asg-lt", "Version": "$Latest"}, "LaunchTemplate")
        true("LaunchConfigurationName" not in g, "no launch configuration")
        eq(len(g["Instances"]), 2, "instances")
        for i in g["Instances"]:
            eq(i["LaunchTemplate"], {"LaunchTemplateId": ltid, "LaunchTemplateName": "asg-lt", "Version": "1"}, "instance's template")
            eq(i["InstanceType"], "t3.micro", "InstanceType")
        inst = ctx.ec2_state()["instances"][g["Instances"][0]["InstanceId"]]
        eq((inst["tags"]["from"], inst["tags"]["aws:ec2launchtemplate:id"], inst["tags"]["aws:autoscaling:groupName"]),
           ("lt", ltid, "lt-asg"), "instance tags")
    with t.ok("CreateAutoScalingGroup"):
        asg.create_auto_scaling_group(
            AutoScalingGroupName="mixed-asg", MinSize=0, MaxSize=3, DesiredCapacity=1, VPCZoneIdentifier=sa,
            MixedInstancesPolicy={"LaunchTemplate": {"LaunchTemplateSpecification": {"LaunchTemplateId": ltid},
                                                     "Overrides": [{"InstanceType": "m5.large"}, {"InstanceType": "m5a.large"}]}})
        g = group("mixed-asg")
        m = g["MixedInstancesPolicy"]
        eq(m["LaunchTemplate"]["LaunchTemplateSpecification"],
           {"LaunchTemplateId": ltid, "LaunchTemplateName": "asg-lt", "Version": "$Default"}, "spec")
        eq([o["InstanceType"] for o in m["LaunchTemplate"]["Overrides"]], ["m5.large", "m5a.large"], "Overrides")
        eq(m["InstancesDistribution"]["OnDemandAllocationStrategy"], "prioritized", "distribution defaults")
        eq(one(g["Instances"])["InstanceType"], "m5.large", "the first override")
    with t.err("CreateAutoScalingGroup", "ValidationError", 400):
        asg.create_auto_scaling_group(AutoScalingGroupName="two-sources", MinSize=0, MaxSize=1, VPCZoneIdentifier=sa,
                                      LaunchConfigurationName="asg-lc", LaunchTemplate={"LaunchTemplateId": ltid})
    with t.err("CreateAutoScalingGroup", "ValidationError", 400):
        asg.create_auto_scaling_group(AutoScalingGroupName="no-lt", MinSize=0, MaxSize=1, VPCZoneIdentifier=sa,
                                      LaunchTemplate={"LaunchTemplateName": "no-such-lt"})
    true("two-sources" not in st()["groups"] and "no-lt" not in st()["groups"], "nothing made")

    with t.ok("UpdateAutoScalingGroup"):
        ec2.create_launch_template_version(LaunchTemplateId=ltid, SourceVersion="1", LaunchTemplateData={"InstanceType": "c5.large"})
        asg.update_auto_scaling_group(AutoScalingGroupName="lt-asg", LaunchTemplate={"LaunchTemplateId": ltid, "Version": "2"})
        eq(group("lt-asg")["LaunchTemplate"]["Version"], "2", "version set")
    with t.err("UpdateAutoScalingGroup", "ValidationError", 400):
        asg.update_auto_scaling_group(AutoScalingGroupName="lt-asg", LaunchTemplate={"LaunchTemplateId": ltid, "Version": "7"})

    with t.ok("SetDesiredCapacity"):
        asg.set_desired_capacity(AutoScalingGroupName="lt-asg", DesiredCapacity=3, HonorCooldown=False)
        g = group("lt-asg")
        eq((g["DesiredCapacity"], len(g["Instances"])), (3, 3), "scaled up")
        new = [i for i in g["Instances"] if i["LaunchTemplate"]["Version"] == "2"]
        eq([i["InstanceType"] for i in new], ["c5.large"], "the new instance from version 2")
    with t.err("SetDesiredCapacity", "ValidationError", 400):
        asg.set_desired_capacity(AutoScalingGroupName="lt-asg", DesiredCapacity=5)

    with t.ok("TerminateInstanceInAutoScalingGroup"):
        victim = group("lt-asg")["Instances"][0]["InstanceId"]
        a = asg.terminate_instance_in_auto_scaling_group(InstanceId=victim, ShouldDecrementDesiredCapacity=True)["Activity"]
        eq((a["AutoScalingGroupName"], a["Description"], a["StatusCode"]),
           ("lt-asg", f"Terminating EC2 instance: {victim}", "InProgress"), "Activity")
        true(a["Cause"].endswith(f"instance {victim} was taken out of service in response to a user request, shrinking the capacity from 3 to 2."), a["Cause"])
        g = group("lt-asg")
        eq(g["DesiredCapacity"], 2, "decremented")
        true(victim not in [i["InstanceId"] for i in g["Instances"] if i["LifecycleState"] != "Terminating"], "gone")
    with t.err("TerminateInstanceInAutoScalingGroup", "ValidationError", 400):
        asg.terminate_instance_in_auto_scaling_group(InstanceId="i-0123456789abcdef0", ShouldDecrementDesiredCapacity=False)

    with t.ok("DescribeAutoScalingInstances"):
        mine = [i["InstanceId"] for i in group("mixed-asg")["Instances"]]
        d = one(asg.describe_auto_scaling_instances(InstanceIds=mine)["AutoScalingInstances"])
        eq((d["AutoScalingGroupName"], d["InstanceType"], d["HealthStatus"], d["LifecycleState"]),
           ("mixed-asg", "m5.large", "HEALTHY", "InService"), "details")
        eq(d["LaunchTemplate"]["LaunchTemplateId"], ltid, "LaunchTemplate")
        every = asg.describe_auto_scaling_instances()["AutoScalingInstances"]
        true(len(every) >= 3, "all groups' instances")
    with t.err("DescribeAutoScalingInstances", "ValidationError", 400):
        asg.describe_auto_scaling_instances(MaxRecords=51)

    with t.ok("DescribeScalingActivities"):
        acts = asg.describe_scaling_activities(AutoScalingGroupName="lt-asg")["Activities"]
        eq(acts[0]["Description"], f"Terminating EC2 instance: {victim}", "newest first")
        launches = [x for x in acts if x["Description"].startswith("Launching a new EC2 instance: i-")]
        eq(len(launches), 3, "three launches")
        eq({x["StatusCode"] for x in launches}, {"Successful"}, "launched")
        true("a user request explicitly set group desired capacity changing the desired capacity from 2 to 3." in launches[0]["Cause"], launches[0]["Cause"])
        true(launches[-1]["Cause"].endswith("increasing the capacity from 0 to 2."), launches[-1]["Cause"])
        true(launches[0]["Details"].startswith('{"Subnet ID":"subnet-'), "Details")
        eq(launches[0]["AutoScalingGroupARN"], group("lt-asg")["AutoScalingGroupARN"], "ARN")
        page = asg.describe_scaling_activities(AutoScalingGroupName="lt-asg", MaxRecords=1)
        eq(len(page["Activities"]), 1, "paged")
        true("NextToken" in page, "NextToken")
    with t.err("DescribeScalingActivities", "InvalidNextToken", 400):
        asg.describe_scaling_activities(NextToken="garbage")
