//! Launch templates through the real server: how RunInstances merges a template with its request,
//! which version a launch uses, what a refused call leaves unchanged, and IAM's answer to a worker.

mod common;
#[path = "support/xml.rs"]
mod xml;

use awsemu::Emulator;
use common::post_form;
use xml::Node;

async fn emu() -> Emulator {
    Emulator::builder().seed(7).start().await.unwrap()
}

/// Sends an EC2 query as admin; (status, parsed answer, raw body).
async fn ec2(emu: &Emulator, body: &str) -> (u16, Node, String) {
    call(emu, "test", "ec2", &format!("Version=2016-11-15&{body}")).await
}

async fn call(emu: &Emulator, key: &str, service: &str, body: &str) -> (u16, Node, String) {
    let a = post_form(emu.addr(), key, key, service, body).await;
    let node = xml::parse(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body));
    (a.status, node, a.body)
}

fn ok(r: (u16, Node, String)) -> Node {
    assert_eq!(r.0, 200, "{}", r.2);
    r.1
}

fn code(r: &(u16, Node, String)) -> String {
    assert_eq!(r.0, 400, "{}", r.2);
    // EC2's envelope, or awsQuery's.
    let mut found = r.1.path(&["Errors", "Error", "Code"]);
    found.extend(r.1.path(&["Error", "Code"]));
    found.first().map(|n| n.text.clone()).unwrap_or_default()
}

/// The default VPC's subnets, sorted by zone, and its `default` security group.
async fn network(emu: &Emulator) -> (Vec<String>, String) {
    let subnets = ok(ec2(
        emu,
        "Action=DescribeSubnets&Filter.1.Name=default-for-az&Filter.1.Value.1=true",
    )
    .await);
    let mut list: Vec<(String, String)> = subnets
        .path(&["subnetSet", "item"])
        .iter()
        .map(|s| (s.text_of("availabilityZone"), s.text_of("subnetId")))
        .collect();
    list.sort();
    let groups = ok(ec2(
        emu,
        "Action=DescribeSecurityGroups&Filter.1.Name=group-name&Filter.1.Value.1=default",
    )
    .await);
    let sg = groups.path(&["securityGroupInfo", "item"])[0].text_of("groupId");
    (list.into_iter().map(|(_, id)| id).collect(), sg)
}

async fn image(emu: &Emulator) -> String {
    let images = ok(ec2(emu, "Action=DescribeImages").await);
    images.path(&["imagesSet", "item"])[0].text_of("imageId")
}

/// The one instance of a RunInstances answer.
fn instance(answer: &Node) -> &Node {
    answer.path(&["instancesSet", "item"])[0]
}

fn tag<'a>(i: &'a Node, key: &str) -> Option<&'a str> {
    i.path(&["tagSet", "item"])
        .into_iter()
        .find(|t| t.text_of("key") == key)
        .and_then(|t| t.child("value"))
        .map(|v| v.text.as_str())
}

async fn create_template(emu: &Emulator, name: &str, data: &str) -> String {
    let body = format!("Action=CreateLaunchTemplate&LaunchTemplateName={name}&{data}");
    let lt = ok(ec2(emu, &body).await);
    lt.path(&["launchTemplate", "launchTemplateId"])[0]
        .text
        .clone()
}

#[tokio::test]
async fn the_request_overrides_the_template_and_the_template_fills_the_rest() {
    let emu = emu().await;
    let (subnets, sg) = network(&emu).await;
    let ami = image(&emu).await;
    let other = ok(ec2(
        &emu,
        "Action=CreateSecurityGroup&GroupName=other&GroupDescription=x",
    )
    .await)
    .text_of("groupId");
    let lt = create_template(
        &emu,
        "nodes",
        &format!(
            "LaunchTemplateData.ImageId={ami}&LaunchTemplateData.InstanceType=t3.small\
             &LaunchTemplateData.NetworkInterface.1.DeviceIndex=0\
             &LaunchTemplateData.NetworkInterface.1.SubnetId={}\
             &LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1={sg}\
             &LaunchTemplateData.UserData=aGVsbG8=\
             &LaunchTemplateData.TagSpecification.1.ResourceType=instance\
             &LaunchTemplateData.TagSpecification.1.Tag.1.Key=k&LaunchTemplateData.TagSpecification.1.Tag.1.Value=template\
             &LaunchTemplateData.TagSpecification.1.Tag.2.Key=only&LaunchTemplateData.TagSpecification.1.Tag.2.Value=template",
            subnets[1]
        ),
    )
    .await;

    // The template's interface puts the instance in its subnet with its groups.
    let run =
        format!("Action=RunInstances&MinCount=1&MaxCount=1&LaunchTemplate.LaunchTemplateId={lt}");
    let answer = ok(ec2(&emu, &run).await);
    let i = instance(&answer);
    assert_eq!(i.text_of("subnetId"), subnets[1]);
    assert_eq!(i.text_of("instanceType"), "t3.small");
    assert_eq!(
        i.path(&["groupSet", "item", "groupId"])[0].text,
        sg,
        "{answer:?}"
    );
    assert_eq!(tag(i, "aws:ec2launchtemplate:id"), Some(lt.as_str()));
    assert_eq!(tag(i, "aws:ec2launchtemplate:version"), Some("1"));
    let id = i.text_of("instanceId");
    let attr = ok(ec2(
        &emu,
        &format!("Action=DescribeInstanceAttribute&InstanceId={id}&Attribute=userData"),
    )
    .await);
    assert_eq!(attr.path(&["userData", "value"])[0].text, "aGVsbG8=");

    // The request's members win; tags merge key by key, the request's value first.
    let answer = ok(ec2(
        &emu,
        &format!(
            "{run}&InstanceType=m5.large&NetworkInterface.1.DeviceIndex=0\
             &NetworkInterface.1.SubnetId={}&NetworkInterface.1.SecurityGroupId.1={other}\
             &TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=request",
            subnets[0]
        ),
    )
    .await);
    let i = instance(&answer);
    assert_eq!(i.text_of("instanceType"), "m5.large");
    assert_eq!(i.text_of("subnetId"), subnets[0]);
    assert_eq!(i.path(&["groupSet", "item", "groupId"])[0].text, other);
    assert_eq!(tag(i, "k"), Some("request"));
    assert_eq!(tag(i, "only"), Some("template"));

    // An instance-level subnet beside the template's interface is refused, as AWS refuses it, and
    // launches nothing.
    let before = ok(ec2(&emu, "Action=DescribeInstances").await)
        .path(&["reservationSet", "item"])
        .len();
    let r = ec2(&emu, &format!("{run}&SubnetId={}", subnets[0])).await;
    assert_eq!(code(&r), "InvalidParameterCombination");
    let after = ok(ec2(&emu, "Action=DescribeInstances").await)
        .path(&["reservationSet", "item"])
        .len();
    assert_eq!(before, after);

    // Without an image in template or request, ImageId is missing.
    let bare = create_template(&emu, "bare", "LaunchTemplateData.InstanceType=t3.nano").await;
    let r = ec2(
        &emu,
        &format!(
            "Action=RunInstances&MinCount=1&MaxCount=1&LaunchTemplate.LaunchTemplateId={bare}"
        ),
    )
    .await;
    assert_eq!(code(&r), "MissingParameter");
}

#[tokio::test]
async fn launches_use_the_default_version_unless_told_otherwise() {
    let emu = emu().await;
    let ami = image(&emu).await;
    let lt = create_template(
        &emu,
        "versions",
        &format!("LaunchTemplateData.ImageId={ami}&LaunchTemplateData.InstanceType=t3.micro"),
    )
    .await;
    let v2 = ok(ec2(
        &emu,
        &format!(
            "Action=CreateLaunchTemplateVersion&LaunchTemplateId={lt}&SourceVersion=1&LaunchTemplateData.InstanceType=c5.large"
        ),
    )
    .await);
    assert_eq!(
        v2.path(&["launchTemplateVersion", "versionNumber"])[0].text,
        "2"
    );
    let run = |v: &str| {
        let version = if v.is_empty() {
            String::new()
        } else {
            format!("&LaunchTemplate.Version={v}")
        };
        format!("Action=RunInstances&MinCount=1&MaxCount=1&LaunchTemplate.LaunchTemplateName=versions{version}")
    };
    let type_of = |n: &Node| instance(n).text_of("instanceType");
    assert_eq!(type_of(&ok(ec2(&emu, &run("")).await)), "t3.micro");
    assert_eq!(type_of(&ok(ec2(&emu, &run("$Latest")).await)), "c5.large");
    ok(ec2(
        &emu,
        &format!("Action=ModifyLaunchTemplate&LaunchTemplateId={lt}&SetDefaultVersion=2"),
    )
    .await);
    let answer = ok(ec2(&emu, &run("")).await);
    assert_eq!(type_of(&answer), "c5.large");
    assert_eq!(
        tag(instance(&answer), "aws:ec2launchtemplate:version"),
        Some("2")
    );
    assert_eq!(type_of(&ok(ec2(&emu, &run("1")).await)), "t3.micro");

    // The default version is not deleted; version 1 is, and launching it is then refused.
    let r = ok(ec2(
        &emu,
        &format!(
            "Action=DeleteLaunchTemplateVersions&LaunchTemplateId={lt}&LaunchTemplateVersion.1=2&LaunchTemplateVersion.2=1"
        ),
    )
    .await);
    let failed = r.path(&["unsuccessfullyDeletedLaunchTemplateVersionSet", "item"]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].text_of("versionNumber"), "2");
    assert_eq!(
        failed[0].path(&["responseError", "code"])[0].text,
        "unexpectedError"
    );
    let deleted = r.path(&["successfullyDeletedLaunchTemplateVersionSet", "item"]);
    assert_eq!(deleted[0].text_of("versionNumber"), "1");
    let r = ec2(&emu, &run("1")).await;
    assert_eq!(code(&r), "InvalidLaunchTemplateId.VersionNotFound");

    // A refused version leaves the template as it was.
    let r = ec2(
        &emu,
        &format!(
            "Action=CreateLaunchTemplateVersion&LaunchTemplateId={lt}&SourceVersion=1&LaunchTemplateData.InstanceType=c5.xlarge"
        ),
    )
    .await;
    assert_eq!(code(&r), "InvalidLaunchTemplateId.VersionNotFound");
    let d = ok(ec2(
        &emu,
        &format!("Action=DescribeLaunchTemplates&LaunchTemplateId.1={lt}"),
    )
    .await);
    let t = d.path(&["launchTemplates", "item"])[0];
    assert_eq!(t.text_of("latestVersionNumber"), "2");
    assert_eq!(t.text_of("defaultVersionNumber"), "2");
}

#[tokio::test]
async fn a_worker_may_not_create_launch_templates() {
    let emu = emu().await;
    let r = call(
        &emu,
        "worker",
        "ec2",
        "Action=CreateLaunchTemplate&Version=2016-11-15&LaunchTemplateName=w&LaunchTemplateData.InstanceType=t3.micro",
    )
    .await;
    assert_eq!(r.0, 403, "{}", r.2);
    assert!(
        r.2.contains("is not authorized to perform: ec2:CreateLaunchTemplate on resource: arn:aws:ec2:us-east-1:123456789012:launch-template/*"),
        "{}",
        r.2
    );
    let d = ok(ec2(&emu, "Action=DescribeLaunchTemplates").await);
    assert!(d.path(&["launchTemplates", "item"]).is_empty());

    // A template named by name is authorized on its ARN, as AWS does.
    let lt = create_template(&emu, "named", "LaunchTemplateData.InstanceType=t3.micro").await;
    for action in ["DeleteLaunchTemplate", "ModifyLaunchTemplate"] {
        let r = call(
            &emu,
            "worker",
            "ec2",
            &format!("Action={action}&Version=2016-11-15&LaunchTemplateName=named"),
        )
        .await;
        assert_eq!(r.0, 403, "{}", r.2);
        assert!(
            r.2.contains(&format!(
                "ec2:{action} on resource: arn:aws:ec2:us-east-1:123456789012:launch-template/{lt}"
            )),
            "{}",
            r.2
        );
    }
    let r = call(
        &emu,
        "worker",
        "ec2",
        "Action=RunInstances&Version=2016-11-15&MinCount=1&MaxCount=1&LaunchTemplate.LaunchTemplateName=named",
    )
    .await;
    assert_eq!(r.0, 403, "{}", r.2);
    let d = ok(ec2(&emu, "Action=DescribeLaunchTemplates").await);
    assert_eq!(d.path(&["launchTemplates", "item"]).len(), 1);
}

/// Sends an Auto Scaling query as `key`.
async fn asg(emu: &Emulator, key: &str, body: &str) -> (u16, Node, String) {
    call(
        emu,
        key,
        "autoscaling",
        &format!("Version=2011-01-01&{body}"),
    )
    .await
}

/// The group's (instance id, lifecycle state, template version) of each instance, and its
/// desired capacity.
async fn members(emu: &Emulator, name: &str) -> (Vec<(String, String, String)>, String) {
    let d = ok(asg(
        emu,
        "test",
        &format!("Action=DescribeAutoScalingGroups&AutoScalingGroupNames.member.1={name}"),
    )
    .await);
    let g = d.path(&[
        "DescribeAutoScalingGroupsResult",
        "AutoScalingGroups",
        "member",
    ])[0]
        .clone();
    let list = g
        .path(&["Instances", "member"])
        .iter()
        .map(|i| {
            (
                i.text_of("InstanceId"),
                i.text_of("LifecycleState"),
                i.path(&["LaunchTemplate", "Version"])
                    .first()
                    .map(|v| v.text.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    (list, g.text_of("DesiredCapacity"))
}

fn in_service(list: &[(String, String, String)]) -> Vec<&(String, String, String)> {
    list.iter().filter(|m| m.1 != "Terminating").collect()
}

#[tokio::test]
async fn groups_launch_from_templates_and_scale_both_ways() {
    let emu = emu().await;
    let (subnets, _) = network(&emu).await;
    let ami = image(&emu).await;
    let lt = create_template(
        &emu,
        "workers",
        &format!(
            "LaunchTemplateData.ImageId={ami}&LaunchTemplateData.InstanceType=t3.micro\
             &LaunchTemplateData.MetadataOptions.HttpTokens=required"
        ),
    )
    .await;
    let create = format!(
        "Action=CreateAutoScalingGroup&AutoScalingGroupName=nodes&MinSize=1&MaxSize=5&DesiredCapacity=2\
         &VPCZoneIdentifier={},{}&LaunchTemplate.LaunchTemplateId={lt}",
        subnets[0], subnets[1]
    );
    ok(asg(&emu, "test", &create).await);
    let (list, desired) = members(&emu, "nodes").await;
    assert_eq!(desired, "2");
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|m| m.2 == "1"), "{list:?}");

    // The instances are the template's, tagged with the group and the template.
    let id = &list[0].0;
    let d = ok(ec2(&emu, &format!("Action=DescribeInstances&InstanceId.1={id}")).await);
    let i = d.path(&["reservationSet", "item", "instancesSet", "item"])[0];
    assert_eq!(i.text_of("instanceType"), "t3.micro");
    assert_eq!(
        i.path(&["metadataOptions", "httpTokens"])[0].text,
        "required"
    );
    assert_eq!(tag(i, "aws:autoscaling:groupName"), Some("nodes"));
    assert_eq!(tag(i, "aws:ec2launchtemplate:id"), Some(lt.as_str()));

    // Scale up: a new default version is used by the next launch (the group asks `$Default`).
    ok(ec2(
        &emu,
        &format!(
            "Action=CreateLaunchTemplateVersion&LaunchTemplateId={lt}&SourceVersion=1&LaunchTemplateData.InstanceType=m5.large"
        ),
    )
    .await);
    ok(ec2(
        &emu,
        &format!("Action=ModifyLaunchTemplate&LaunchTemplateId={lt}&SetDefaultVersion=2"),
    )
    .await);
    ok(asg(
        &emu,
        "test",
        "Action=SetDesiredCapacity&AutoScalingGroupName=nodes&DesiredCapacity=4&HonorCooldown=true",
    )
    .await);
    let (list, desired) = members(&emu, "nodes").await;
    assert_eq!((desired.as_str(), list.len()), ("4", 4));
    assert_eq!(list.iter().filter(|m| m.2 == "2").count(), 2, "{list:?}");

    // Outside Min/Max: refused, nothing changed.
    let r = asg(
        &emu,
        "test",
        "Action=SetDesiredCapacity&AutoScalingGroupName=nodes&DesiredCapacity=6",
    )
    .await;
    assert_eq!(code(&r), "ValidationError");
    assert!(
        r.2.contains(
            "New SetDesiredCapacity value 6 is above max value 5 for the AutoScalingGroup."
        ),
        "{}",
        r.2
    );
    assert_eq!(members(&emu, "nodes").await.1, "4");

    // Terminating without decrement: the group replaces the instance.
    let victim = list[0].0.clone();
    ok(asg(
        &emu,
        "test",
        &format!(
            "Action=TerminateInstanceInAutoScalingGroup&InstanceId={victim}&ShouldDecrementDesiredCapacity=false"
        ),
    )
    .await);
    let (list, desired) = members(&emu, "nodes").await;
    assert_eq!(desired, "4");
    let live = in_service(&list);
    assert_eq!(live.len(), 4, "{list:?}");
    assert!(live.iter().all(|m| m.0 != victim));

    // With decrement: the capacity shrinks, no replacement.
    let victim = live[0].0.clone();
    ok(asg(
        &emu,
        "test",
        &format!(
            "Action=TerminateInstanceInAutoScalingGroup&InstanceId={victim}&ShouldDecrementDesiredCapacity=true"
        ),
    )
    .await);
    let (list, desired) = members(&emu, "nodes").await;
    assert_eq!((desired.as_str(), in_service(&list).len()), ("3", 3));

    // Scale down through SetDesiredCapacity; below MinSize by decrement is refused.
    ok(asg(
        &emu,
        "test",
        "Action=SetDesiredCapacity&AutoScalingGroupName=nodes&DesiredCapacity=1",
    )
    .await);
    let (list, desired) = members(&emu, "nodes").await;
    let live = in_service(&list);
    assert_eq!((desired.as_str(), live.len()), ("1", 1), "{list:?}");
    let r = asg(
        &emu,
        "test",
        &format!(
            "Action=TerminateInstanceInAutoScalingGroup&InstanceId={}&ShouldDecrementDesiredCapacity=true",
            live[0].0
        ),
    )
    .await;
    assert_eq!(code(&r), "ValidationError");
    assert!(
        r.2.contains("Currently, desiredSize equals minSize (1)."),
        "{}",
        r.2
    );
    assert_eq!(in_service(&members(&emu, "nodes").await.0).len(), 1);

    // Every change is an activity, newest first.
    let a = ok(asg(
        &emu,
        "test",
        "Action=DescribeScalingActivities&AutoScalingGroupName=nodes",
    )
    .await);
    let acts = a.path(&["DescribeScalingActivitiesResult", "Activities", "member"]);
    let descriptions: Vec<String> = acts.iter().map(|x| x.text_of("Description")).collect();
    let launches = descriptions
        .iter()
        .filter(|d| d.starts_with("Launching a new EC2 instance: "))
        .count();
    let terminations = descriptions
        .iter()
        .filter(|d| d.starts_with("Terminating EC2 instance: "))
        .count();
    assert_eq!((launches, terminations), (5, 4), "{descriptions:?}");
    assert!(acts[0]
        .text_of("Cause")
        .contains("a user request explicitly set group desired capacity changing the desired capacity from 3 to 1."));
    assert!(acts.iter().all(|x| x.text_of("StatusCode") == "Successful"));
}

#[tokio::test]
async fn a_group_needs_exactly_one_usable_launch_source() {
    let emu = emu().await;
    let (subnets, _) = network(&emu).await;
    let ami = image(&emu).await;
    let lt = create_template(&emu, "one", &format!("LaunchTemplateData.ImageId={ami}")).await;
    let no_image =
        create_template(&emu, "no-image", "LaunchTemplateData.InstanceType=t3.micro").await;
    ok(asg(
        &emu,
        "test",
        &format!("Action=CreateLaunchConfiguration&LaunchConfigurationName=lc&ImageId={ami}&InstanceType=t3.micro"),
    )
    .await);
    let base = format!(
        "Action=CreateAutoScalingGroup&AutoScalingGroupName=g&MinSize=0&MaxSize=2&DesiredCapacity=1&VPCZoneIdentifier={}",
        subnets[0]
    );
    for extra in [
        format!("LaunchConfigurationName=lc&LaunchTemplate.LaunchTemplateId={lt}"),
        format!("LaunchTemplate.LaunchTemplateId={lt}&MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId={lt}"),
        String::new(),
    ] {
        let r = asg(&emu, "test", &format!("{base}&{extra}")).await;
        assert_eq!(code(&r), "ValidationError");
        assert!(r.2.contains("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter."), "{}", r.2);
    }
    let r = asg(
        &emu,
        "test",
        &format!("{base}&LaunchTemplate.LaunchTemplateId={lt}&LaunchTemplate.Version=3"),
    )
    .await;
    assert!(
        r.2.contains(&format!(
            "The specified launch template, with template ID {lt}, version 3, does not exist."
        )),
        "{}",
        r.2
    );
    let r = asg(
        &emu,
        "test",
        &format!("{base}&LaunchTemplate.LaunchTemplateId={no_image}"),
    )
    .await;
    assert_eq!(code(&r), "ValidationError");
    assert!(r.2.contains("does not specify an image ID"), "{}", r.2);
    let d = ok(asg(&emu, "test", "Action=DescribeAutoScalingGroups").await);
    assert!(d
        .path(&[
            "DescribeAutoScalingGroupsResult",
            "AutoScalingGroups",
            "member"
        ])
        .is_empty());

    // A launch configuration group switches to a template on update.
    ok(asg(&emu, "test", &format!("{base}&LaunchConfigurationName=lc")).await);
    ok(asg(
        &emu,
        "test",
        "Action=UpdateAutoScalingGroup&AutoScalingGroupName=g&LaunchTemplate.LaunchTemplateName=one&LaunchTemplate.Version=$Latest&DesiredCapacity=2",
    )
    .await);
    let d = ok(asg(&emu, "test", "Action=DescribeAutoScalingGroups").await);
    let g = d.path(&[
        "DescribeAutoScalingGroupsResult",
        "AutoScalingGroups",
        "member",
    ])[0];
    assert!(g.child("LaunchConfigurationName").is_none());
    assert_eq!(g.path(&["LaunchTemplate", "Version"])[0].text, "$Latest");
    let kinds: Vec<bool> = g
        .path(&["Instances", "member"])
        .iter()
        .map(|i| i.child("LaunchTemplate").is_some())
        .collect();
    assert_eq!(
        kinds,
        vec![false, true],
        "the old instance stays as it was launched"
    );
}

#[tokio::test]
async fn a_worker_may_not_change_a_groups_capacity() {
    let emu = emu().await;
    let (subnets, _) = network(&emu).await;
    let ami = image(&emu).await;
    create_template(&emu, "wrk", &format!("LaunchTemplateData.ImageId={ami}")).await;
    ok(asg(
        &emu,
        "test",
        &format!(
            "Action=CreateAutoScalingGroup&AutoScalingGroupName=g&MinSize=0&MaxSize=3&DesiredCapacity=1&VPCZoneIdentifier={}&LaunchTemplate.LaunchTemplateName=wrk",
            subnets[0]
        ),
    )
    .await);
    let r = asg(
        &emu,
        "worker",
        "Action=SetDesiredCapacity&AutoScalingGroupName=g&DesiredCapacity=3",
    )
    .await;
    assert_eq!(r.0, 403, "{}", r.2);
    assert!(r.2.contains("<Code>AccessDenied</Code>"), "{}", r.2);
    assert!(
        r.2.contains("is not authorized to perform: autoscaling:SetDesiredCapacity"),
        "{}",
        r.2
    );
    assert_eq!(members(&emu, "g").await.1, "1");
}

#[tokio::test]
async fn a_launch_that_cannot_happen_is_one_failed_activity() {
    let emu = Emulator::builder()
        .seed(7)
        .instance_limit(1)
        .start()
        .await
        .unwrap();
    let (subnets, _) = network(&emu).await;
    let ami = image(&emu).await;
    create_template(&emu, "small", &format!("LaunchTemplateData.ImageId={ami}")).await;
    ok(asg(
        &emu,
        "test",
        &format!(
            "Action=CreateAutoScalingGroup&AutoScalingGroupName=g&MinSize=0&MaxSize=3&DesiredCapacity=2&VPCZoneIdentifier={}&LaunchTemplate.LaunchTemplateName=small",
            subnets[0]
        ),
    )
    .await);
    // Further calls retry the launch; the failure is recorded once.
    members(&emu, "g").await;
    let (list, desired) = members(&emu, "g").await;
    assert_eq!((desired.as_str(), list.len()), ("2", 1));
    let a = ok(asg(
        &emu,
        "test",
        "Action=DescribeScalingActivities&AutoScalingGroupName=g",
    )
    .await);
    let acts = a.path(&["DescribeScalingActivitiesResult", "Activities", "member"]);
    let codes: Vec<String> = acts.iter().map(|x| x.text_of("StatusCode")).collect();
    assert_eq!(codes, vec!["Failed", "Successful"]);
    assert!(acts[0]
        .text_of("StatusMessage")
        .contains("current instance limit of 1"));
    assert!(acts[0]
        .text_of("Description")
        .starts_with("Launching a new EC2 instance.  Status Reason: "));
    assert!(acts[0].child("EndTime").is_some());
}
