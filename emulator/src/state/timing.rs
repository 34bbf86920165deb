//! How long resource state transitions take, per timing profile.
//!
//! A resource stores *when* each transition happens (on the virtual clock), and its state is
//! computed when observed. Under `instant` every duration is zero: the answer to a create or an
//! attach shows AWS's intermediate state, and the next observation already sees the end state, with
//! no dependence on wall-clock time. `fast` and `realistic` give waiting logic something to wait
//! for; a manual clock ([`crate::Emulator::advance`]) keeps even those deterministic.

use serde::{Deserialize, Serialize};

/// A timing profile (`--timing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// Deterministic: transitions complete by the next observation.
    #[default]
    Instant,
    /// Tens of milliseconds: enough to exercise a client's waiting loop quickly.
    Fast,
    /// AWS-like seconds, including the lag between DescribeInstances and DescribeVolumes seeing
    /// an attachment.
    Realistic,
}

/// The durations of one profile, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durations {
    /// Instance `pending` -> `running`.
    pub instance_start: i64,
    /// `stopping` -> `stopped`.
    pub instance_stop: i64,
    /// `shutting-down` -> `terminated`.
    pub instance_terminate: i64,
    /// How long a terminated instance stays visible to Describe calls.
    pub terminated_visible: i64,
    /// Volume `creating` -> `available`.
    pub volume_create: i64,
    /// Volume `deleting` -> gone.
    pub volume_delete: i64,
    /// Attachment `attaching` -> `attached`, as DescribeVolumes sees it.
    pub volume_attach: i64,
    /// How much sooner DescribeInstances' block device mapping reports `attached`.
    pub attach_instance_lead: i64,
    /// Attachment `detaching` -> `detached` (volume `available`).
    pub volume_detach: i64,
    /// Volume modification `modifying` -> `optimizing`.
    pub volume_modifying: i64,
    /// Volume modification `optimizing` -> `completed`.
    pub volume_optimizing: i64,
    /// EBS snapshot `pending` -> `completed` (CreateSnapshot).
    pub snapshot_create: i64,
    /// A snapshot copy's `pending` -> `completed` (CopySnapshot).
    pub snapshot_copy: i64,
    /// Fast snapshot restore `enabling` -> `optimizing`, in each zone.
    pub fast_restore_enable: i64,
    /// Fast snapshot restore `optimizing` -> `enabled`.
    pub fast_restore_optimize: i64,
    /// Fast snapshot restore `disabling` -> `disabled` (then gone).
    pub fast_restore_disable: i64,
    /// ELBv2 load balancer `provisioning` -> `active`.
    pub load_balancer_provision: i64,
    /// How long a deleted load balancer's network interfaces keep its security groups in use.
    pub load_balancer_release: i64,
    /// ELBv2 target `initial` -> `healthy`.
    pub target_initial: i64,
}

impl Timing {
    pub fn durations(self) -> Durations {
        match self {
            Timing::Instant => Durations {
                instance_start: 0,
                instance_stop: 0,
                instance_terminate: 0,
                terminated_visible: 3_600_000,
                volume_create: 0,
                volume_delete: 0,
                volume_attach: 0,
                attach_instance_lead: 0,
                volume_detach: 0,
                volume_modifying: 0,
                volume_optimizing: 0,
                snapshot_create: 0,
                snapshot_copy: 0,
                fast_restore_enable: 0,
                fast_restore_optimize: 0,
                fast_restore_disable: 0,
                load_balancer_provision: 0,
                load_balancer_release: 0,
                target_initial: 0,
            },
            Timing::Fast => Durations {
                instance_start: 40,
                instance_stop: 40,
                instance_terminate: 40,
                terminated_visible: 60_000,
                volume_create: 30,
                volume_delete: 20,
                volume_attach: 30,
                attach_instance_lead: 10,
                volume_detach: 30,
                volume_modifying: 30,
                volume_optimizing: 60,
                snapshot_create: 40,
                snapshot_copy: 50,
                fast_restore_enable: 20,
                fast_restore_optimize: 30,
                fast_restore_disable: 20,
                load_balancer_provision: 50,
                load_balancer_release: 50,
                target_initial: 40,
            },
            Timing::Realistic => Durations {
                instance_start: 15_000,
                instance_stop: 20_000,
                instance_terminate: 30_000,
                terminated_visible: 3_600_000,
                volume_create: 4_000,
                volume_delete: 3_000,
                volume_attach: 6_000,
                attach_instance_lead: 3_000,
                volume_detach: 8_000,
                volume_modifying: 20_000,
                volume_optimizing: 120_000,
                snapshot_create: 60_000,
                snapshot_copy: 90_000,
                fast_restore_enable: 30_000,
                fast_restore_optimize: 120_000,
                fast_restore_disable: 30_000,
                load_balancer_provision: 120_000,
                load_balancer_release: 60_000,
                target_initial: 30_000,
            },
        }
    }
}
