//! DescribeInstances and the rendering of an instance, shared with RunInstances.

use crate::protocol::writer::Writer;
use crate::protocol::{AwsResult, Output};
use crate::services::Call;
use crate::state::filters::{self, Filter};
use crate::state::paging::Page;
use crate::state::{read, tags};

use super::super::common;
use super::super::model::{AttachState, Ec2Region, Instance, InstanceState, Volume};
use super::{check_ids, network, render_state, state_reason_code, state_reason_message, visible};

const FILTERS: &[&str] = &[
    "architecture",
    "availability-zone",
    "block-device-mapping.attach-time",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.status",
    "block-device-mapping.volume-id",
    "client-token",
    "dns-name",
    "group-id",
    "group-name",
    "hypervisor",
    "iam-instance-profile.arn",
    "iam-instance-profile.id",
    "image-id",
    "instance-id",
    "instance-lifecycle",
    "instance-state-code",
    "instance-state-name",
    "instance-type",
    "instance.group-id",
    "instance.group-name",
    "ip-address",
    "key-name",
    "launch-index",
    "launch-time",
    "metadata-options.http-endpoint",
    "metadata-options.http-put-response-hop-limit",
    "metadata-options.http-tokens",
    "monitoring-state",
    "network-interface.addresses.private-ip-address",
    "network-interface.attachment.status",
    "network-interface.group-id",
    "network-interface.mac-address",
    "network-interface.network-interface-id",
    "network-interface.private-dns-name",
    "network-interface.subnet-id",
    "network-interface.vpc-id",
    "owner-id",
    "placement-group-name",
    "platform-details",
    "private-dns-name",
    "private-ip-address",
    "reason",
    "reservation-id",
    "root-device-name",
    "root-device-type",
    "source-dest-check",
    "spot-instance-request-id",
    "state-reason-code",
    "subnet-id",
    "tenancy",
    "virtualization-type",
    "vpc-id",
    "tag:",
    "tag-key",
    "tag-value",
];

/// One instance as observed at `now`: its state, and what a terminated instance no longer has.
pub struct View<'a> {
    pub instance: &'a Instance,
    pub state: InstanceState,
    /// The volumes attached to it, with their status in DescribeInstances' eyes.
    pub volumes: Vec<(&'a Volume, AttachState)>,
}

/// The volumes attached to an instance at `now`, as DescribeInstances sees them, in attach
/// order (through the region's attachment index, not a scan of every volume).
pub fn attached_to<'a>(
    region: &'a Ec2Region,
    instance_id: &'a str,
    now: i64,
) -> Vec<(&'a Volume, AttachState)> {
    let mut list: Vec<(&Volume, AttachState)> = region
        .volumes_of(instance_id)
        .filter_map(|v| {
            let s = v.attachment.as_ref()?.instance_view.at(now);
            (s != AttachState::Detached).then_some((v, s))
        })
        .collect();
    list.sort_by_key(|(v, _)| v.attachment.as_ref().map(|a| a.attach_ms));
    list
}

/// Views of several instances, each in the state `state_of` gives.
pub fn views<'a>(
    region: &'a Ec2Region,
    instances: impl IntoIterator<Item = &'a Instance>,
    state_of: impl Fn(&Instance) -> InstanceState,
    now: i64,
) -> Vec<View<'a>> {
    instances
        .into_iter()
        .map(|i| View::new(region, i, state_of(i), now))
        .collect()
}

impl<'a> View<'a> {
    /// One instance in state `state`, with its volumes looked up in `region`.
    pub fn new(
        region: &'a Ec2Region,
        instance: &'a Instance,
        state: InstanceState,
        now: i64,
    ) -> View<'a> {
        View {
            instance,
            state,
            volumes: attached_to(region, &instance.id, now),
        }
    }

    /// The public address it shows: held while `running` (AWS answers the launch without one).
    pub fn public_ip(&self) -> Option<&'a str> {
        (self.state == InstanceState::Running)
            .then_some(self.instance.public_ip.as_deref())
            .flatten()
    }

    /// A terminated instance has released its network interface, address and groups.
    pub fn networked(&self) -> bool {
        self.state != InstanceState::Terminated
    }

    /// The instance's security groups as (id, name).
    pub fn groups(&self, region: &'a Ec2Region) -> Vec<(&'a str, &'a str)> {
        if !self.networked() {
            return Vec::new();
        }
        self.instance
            .security_groups
            .iter()
            .map(|g| {
                let name = region
                    .security_groups
                    .get(g)
                    .map(|sg| sg.name.as_str())
                    .unwrap_or("");
                (g.as_str(), name)
            })
            .collect()
    }

    /// The `stateReason` code: `pending` while launching, the stored cause of a stop or
    /// termination, none while running.
    pub fn state_reason(&self) -> Option<String> {
        match self.state {
            InstanceState::Pending => Some("pending".into()),
            InstanceState::Running => None,
            _ => self.instance.state_reason.clone(),
        }
    }
}

/// The values of one filter for an instance (tag filters are matched apart).
fn values_of(v: &View<'_>, region: &Ec2Region, name: &str) -> Vec<String> {
    let i = v.instance;
    let net = v.networked();
    let some = |s: &str| vec![s.to_string()];
    let when = |cond: bool, s: &str| if cond { some(s) } else { Vec::new() };
    match name {
        "architecture" => some(&i.architecture),
        "availability-zone" => some(&i.zone),
        "block-device-mapping.attach-time" => v
            .volumes
            .iter()
            .filter_map(|(vol, _)| vol.attachment.as_ref())
            .map(|a| common::timestamp(a.attach_ms))
            .collect(),
        "block-device-mapping.delete-on-termination" => v
            .volumes
            .iter()
            .filter_map(|(vol, _)| vol.attachment.as_ref())
            .map(|a| a.delete_on_termination.to_string())
            .collect(),
        "block-device-mapping.device-name" => v
            .volumes
            .iter()
            .filter_map(|(vol, _)| vol.attachment.as_ref())
            .map(|a| a.device.clone())
            .collect(),
        "block-device-mapping.status" => v
            .volumes
            .iter()
            .map(|(_, s)| s.name().to_string())
            .collect(),
        "block-device-mapping.volume-id" => {
            v.volumes.iter().map(|(vol, _)| vol.id.clone()).collect()
        }
        "client-token" => i.client_token.iter().cloned().collect(),
        "dns-name" => v
            .public_ip()
            .map(|ip| network::public_dns_name(region.region.name, ip))
            .into_iter()
            .collect(),
        "ip-address" => v.public_ip().map(str::to_string).into_iter().collect(),
        "instance-lifecycle" => i
            .spot_request_id
            .iter()
            .map(|_| "spot".to_string())
            .collect(),
        "spot-instance-request-id" => i.spot_request_id.iter().cloned().collect(),
        "placement-group-name" => Vec::new(),
        "group-id" | "instance.group-id" | "network-interface.group-id" => v
            .groups(region)
            .iter()
            .map(|(id, _)| id.to_string())
            .collect(),
        "group-name" | "instance.group-name" => v
            .groups(region)
            .iter()
            .map(|(_, n)| n.to_string())
            .collect(),
        "hypervisor" => some("xen"),
        "iam-instance-profile.arn" => i.iam_instance_profile.iter().map(|p| p.0.clone()).collect(),
        "iam-instance-profile.id" => i.iam_instance_profile.iter().map(|p| p.1.clone()).collect(),
        "image-id" => some(&i.image_id),
        "instance-id" => some(&i.id),
        "instance-state-code" => some(&v.state.code().to_string()),
        "instance-state-name" => some(v.state.name()),
        "instance-type" => some(&i.instance_type),
        "key-name" => i.key_name.iter().cloned().collect(),
        "launch-index" => some(&i.ami_launch_index.to_string()),
        "launch-time" => some(&common::timestamp(i.launch_ms)),
        "metadata-options.http-tokens" => some(&i.http_tokens),
        "metadata-options.http-put-response-hop-limit" => {
            some(&i.http_put_response_hop_limit.to_string())
        }
        "metadata-options.http-endpoint" => some(&i.http_endpoint),
        "monitoring-state" => some(if i.monitoring { "enabled" } else { "disabled" }),
        "network-interface.addresses.private-ip-address" | "private-ip-address" => {
            when(net, &i.private_ip)
        }
        "network-interface.attachment.status" => when(net, "attached"),
        "network-interface.mac-address" => when(net, &i.mac),
        "network-interface.network-interface-id" => when(net, &i.network_interface_id),
        "network-interface.private-dns-name" | "private-dns-name" => when(net, &i.private_dns),
        "network-interface.subnet-id" | "subnet-id" => when(net, &i.subnet_id),
        "network-interface.vpc-id" | "vpc-id" => when(net, &i.vpc_id),
        "owner-id" => Vec::new(),
        "platform-details" => some("Linux/UNIX"),
        "reason" => some(&i.state_transition_reason),
        "reservation-id" => some(&i.reservation_id),
        "root-device-name" => some(&i.root_device_name),
        "root-device-type" => some("ebs"),
        "source-dest-check" => some(&i.source_dest_check.to_string()),
        "state-reason-code" => v
            .state_reason()
            .map(|r| state_reason_code(&r).to_string())
            .into_iter()
            .collect(),
        "tenancy" => some(&i.tenancy),
        "virtualization-type" => some("hvm"),
        _ => Vec::new(),
    }
}

fn matches(filters: &[Filter], v: &View<'_>, region: &Ec2Region, account: &str) -> bool {
    filters.iter().all(|f| {
        if let Some(m) = tags::filter_matches(f, &v.instance.tags) {
            return m;
        }
        if f.name == "owner-id" {
            return f.matches(account);
        }
        let values = values_of(v, region, &f.name);
        f.matches_any(values.iter().map(String::as_str))
    })
}

pub fn describe_instances(call: &Call<'_>) -> AwsResult<Output> {
    let p = call.root()?;
    let ids = p.strings("InstanceId")?;
    let filters = filters::parse(&p, FILTERS)?;
    let page = Page::read(&p)?;
    let _managed = p.bool("IncludeManagedResources")?;
    call.params()?.finish()?;
    page.not_with_ids(&ids, "instancesSet")?;
    let now = call.now_ms;
    let d = call.world.durations;
    let lock = common::region(call)?;
    let region = read(&lock);
    check_ids(&region, &ids, now, &d)?;
    let unseen = common::unseen(call, &super::INSTANCE);
    common::check_visible(&unseen, &ids)?;
    // An exact `tag:KEY` filter narrows the candidates through the tag index first.
    let by_tag = filters.iter().find_map(|f| {
        let key = f.name.strip_prefix("tag:")?;
        f.values
            .iter()
            .all(|v| !v.contains(['*', '?']))
            .then(|| region.instances_tagged(key, &f.values))
    });
    let candidates: Box<dyn Iterator<Item = &Instance>> = match by_tag {
        Some(list) => Box::new(list.into_iter()),
        None => Box::new(region.instances.values()),
    };
    let listed = candidates
        .filter(|i| visible(i, now, &d) && unseen.listed(&i.id))
        .filter(|i| ids.is_empty() || ids.contains(&i.id.as_str()));
    // Filter first and look volumes up only where a filter needs them or an instance is listed:
    // a tag filter over ten thousand instances must not touch their volumes.
    let needs_volumes = filters
        .iter()
        .any(|f| f.name.starts_with("block-device-mapping"));
    let mut views: Vec<View<'_>> = listed
        .filter_map(|i| {
            let state = i.state.at(now);
            let view = if needs_volumes {
                View::new(&region, i, state, now)
            } else {
                View {
                    instance: i,
                    state,
                    volumes: Vec::new(),
                }
            };
            matches(&filters, &view, &region, call.account).then_some(view)
        })
        .collect();
    if !needs_volumes {
        for v in &mut views {
            v.volumes = attached_to(&region, &v.instance.id, now);
        }
    }
    // Reservations together, in launch order, instances by launch index.
    views.sort_by(|a, b| {
        let (x, y) = (a.instance, b.instance);
        (x.launch_ms, &x.reservation_id, x.ami_launch_index).cmp(&(
            y.launch_ms,
            &y.reservation_id,
            y.ami_launch_index,
        ))
    });
    let (page, next) = page.apply(views)?;
    let mut reservations: Vec<(&str, Vec<&View<'_>>)> = Vec::new();
    for v in &page {
        match reservations.last_mut() {
            Some((r, list)) if *r == v.instance.reservation_id => list.push(v),
            _ => reservations.push((&v.instance.reservation_id, vec![v])),
        }
    }
    let mut w = call.writer();
    w.list("Reservations", &reservations, |w, (rid, list)| {
        render_reservation(w, &region, rid, call.account, list);
    });
    w.str_opt("NextToken", next);
    w.finish()
}

/// The members of a reservation: id, owner, (EC2-Classic) groups, instances.
pub fn render_reservation(
    w: &mut Writer,
    region: &Ec2Region,
    id: &str,
    account: &str,
    views: &[&View<'_>],
) {
    w.str("ReservationId", id)
        .str("OwnerId", account)
        .list("Groups", Vec::<()>::new(), |_, _| {})
        .list("Instances", views, |w, v| {
            render_instance(w, region, v, account)
        });
}

/// One `instancesSet` item, with the members the cloud provider reads and AWS's usual others.
pub fn render_instance(w: &mut Writer, region: &Ec2Region, v: &View<'_>, account: &str) {
    let i = v.instance;
    let net = v.networked();
    let groups = v.groups(region);
    let public = v.public_ip().map(|ip| {
        (
            ip.to_string(),
            network::public_dns_name(region.region.name, ip),
        )
    });
    let association = |w: &mut Writer| {
        if let Some((ip, dns)) = &public {
            w.structure("Association", |w| {
                w.str("IpOwnerId", "amazon")
                    .str("PublicDnsName", dns)
                    .str("PublicIp", ip);
            });
        }
    };
    let render_groups = |w: &mut Writer, member: &str| {
        w.list(member, &groups, |w, (id, name)| {
            w.str("GroupId", id).str("GroupName", name);
        });
    };
    w.str("InstanceId", &i.id).str("ImageId", &i.image_id);
    render_state(w, "State", v.state);
    w.str(
        "PrivateDnsName",
        if net { i.private_dns.as_str() } else { "" },
    )
    .str(
        "PublicDnsName",
        public.as_ref().map(|(_, dns)| dns.as_str()).unwrap_or(""),
    )
    .str("StateTransitionReason", &i.state_transition_reason)
    .str_opt("KeyName", i.key_name.as_ref())
    .str_opt(
        "InstanceLifecycle",
        i.spot_request_id.as_ref().map(|_| "spot"),
    )
    .str_opt("SpotInstanceRequestId", i.spot_request_id.as_ref())
    .int("AmiLaunchIndex", i.ami_launch_index)
    .list("ProductCodes", Vec::<()>::new(), |_, _| {})
    // RunInstances takes any well-formed type (`u-6tb1.metal`), newer ones than botocore's enum.
    .str_unlisted("InstanceType", &i.instance_type)
    .time("LaunchTime", i.launch_ms)
    .structure("Placement", |w| {
        w.str("AvailabilityZone", &i.zone)
            .str("GroupName", "")
            .str("Tenancy", &i.tenancy);
    })
    .structure("Monitoring", |w| {
        w.str("State", if i.monitoring { "enabled" } else { "disabled" });
    });
    if net {
        w.str("SubnetId", &i.subnet_id)
            .str("VpcId", &i.vpc_id)
            .str("PrivateIpAddress", &i.private_ip);
        if let Some((ip, _)) = &public {
            w.str("PublicIpAddress", ip);
        }
    }
    w.bool("SourceDestCheck", i.source_dest_check);
    render_groups(w, "SecurityGroups");
    if let Some(code) = v.state_reason() {
        w.structure("StateReason", |w| {
            w.str("Code", state_reason_code(&code))
                .str("Message", state_reason_message(&code));
        });
    }
    w.str("Architecture", &i.architecture)
        .str("RootDeviceType", "ebs")
        .str("RootDeviceName", &i.root_device_name);
    render_block_devices(w, &v.volumes);
    w.str("VirtualizationType", "hvm")
        .str_opt("ClientToken", i.client_token.as_ref());
    common::write_tags(w, &i.tags);
    w.str("Hypervisor", "xen");
    if net {
        w.list("NetworkInterfaces", [i], |w, i| {
            w.str("NetworkInterfaceId", &i.network_interface_id)
                .str("SubnetId", &i.subnet_id)
                .str("VpcId", &i.vpc_id)
                .str("Description", "")
                .str("OwnerId", account)
                .str("Status", "in-use")
                .str("MacAddress", &i.mac)
                .str("PrivateIpAddress", &i.private_ip)
                .str("PrivateDnsName", &i.private_dns)
                .bool("SourceDestCheck", i.source_dest_check);
            association(w);
            render_groups(w, "Groups");
            w.structure("Attachment", |w| {
                w.str(
                    "AttachmentId",
                    i.network_interface_id.replacen("eni-", "eni-attach-", 1),
                )
                .int("DeviceIndex", 0)
                .str("Status", "attached")
                .time("AttachTime", i.launch_ms)
                .bool("DeleteOnTermination", true)
                .int("NetworkCardIndex", 0);
            })
            .list("PrivateIpAddresses", [i], |w, i| {
                w.str("PrivateIpAddress", &i.private_ip)
                    .str("PrivateDnsName", &i.private_dns)
                    .bool("Primary", true);
                association(w);
            })
            .list("Ipv6Addresses", Vec::<()>::new(), |_, _| {})
            .str("InterfaceType", "interface");
        });
    } else {
        w.list("NetworkInterfaces", Vec::<()>::new(), |_, _| {});
    }
    if let Some((arn, id)) = &i.iam_instance_profile {
        w.structure("IamInstanceProfile", |w| {
            w.str("Arn", arn).str("Id", id);
        });
    }
    w.bool("EbsOptimized", i.ebs_optimized)
        .bool("EnaSupport", true)
        .structure("CapacityReservationSpecification", |w| {
            w.str("CapacityReservationPreference", "open");
        })
        .structure("HibernationOptions", |w| {
            w.bool("Configured", false);
        })
        .structure("MetadataOptions", |w| {
            w.str(
                "State",
                if v.state == InstanceState::Pending {
                    "pending"
                } else {
                    "applied"
                },
            )
            .str("HttpTokens", &i.http_tokens)
            .int("HttpPutResponseHopLimit", i.http_put_response_hop_limit)
            .str("HttpEndpoint", &i.http_endpoint)
            .str("HttpProtocolIpv6", "disabled")
            .str("InstanceMetadataTags", "disabled");
        })
        .structure("EnclaveOptions", |w| {
            w.bool("Enabled", false);
        })
        .str("PlatformDetails", "Linux/UNIX")
        .str("UsageOperation", "RunInstances")
        .time("UsageOperationUpdateTime", i.launch_ms)
        .structure("PrivateDnsNameOptions", |w| {
            w.str("HostnameType", "ip-name")
                .bool("EnableResourceNameDnsARecord", false)
                .bool("EnableResourceNameDnsAAAARecord", false);
        })
        .structure("MaintenanceOptions", |w| {
            w.str("AutoRecovery", "default");
        });
}

/// `BlockDeviceMappings` items: device, and the EBS volume with its attachment status.
pub fn render_block_devices(w: &mut Writer, volumes: &[(&Volume, AttachState)]) {
    w.list("BlockDeviceMappings", volumes, |w, (vol, status)| {
        if let Some(a) = &vol.attachment {
            w.str("DeviceName", &a.device).structure("Ebs", |w| {
                w.str("VolumeId", &vol.id)
                    .str("Status", status.name())
                    .time("AttachTime", a.attach_ms)
                    .bool("DeleteOnTermination", a.delete_on_termination);
            });
        }
    });
}
