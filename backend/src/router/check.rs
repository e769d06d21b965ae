//! Checking a batch of jobs' recipients against what the store knows
//! ([`RoutingFacts`], read in one or two queries for the whole batch): the
//! device check for messages, group membership for group messages, every
//! device of the users a receipt goes to.

use super::MAX_RECIPIENTS;
use super::job::{Job, Recipients};
use crate::refusal::Refusal;
use crate::store::directory::check_recipients;
use crate::store::routing::{RoutingFacts, RoutingQuery};
use courier_shared::ids::{DeviceId, DeviceSetDigest, UserId};
use courier_shared::proto::ErrorCode;

/// What the store must be asked to check `jobs`.
pub fn query(jobs: &[Job]) -> RoutingQuery {
    let mut query = RoutingQuery::default();
    for job in jobs {
        match &job.to {
            Recipients::Devices(devices) => query.devices.extend(devices),
            Recipients::Group(group, _) => query.groups.push(*group),
            Recipients::Users(to) => query.users.extend([*to, job.sender.0]),
        }
    }
    query
}

/// The devices `job` goes to (sorted), or why it may not be sent.
pub fn recipients(job: &Job, facts: &RoutingFacts) -> Result<Vec<DeviceId>, Refusal> {
    let (user, device) = job.sender;
    match &job.to {
        Recipients::Devices(devices) => {
            let mut users: Vec<UserId> = devices
                .iter()
                .filter_map(|d| facts.devices.get(d).map(|d| d.user))
                .collect();
            users.sort_unstable();
            users.dedup();
            let owners: Vec<_> = users
                .iter()
                .flat_map(|u| facts.by_user.get(u).into_iter().flatten().copied())
                .collect();
            check_recipients(device, devices, &owners).map_err(stale)?;
            Ok(devices.clone())
        }
        Recipients::Group(group, digest) => {
            let members = facts.groups.get(group).map(Vec::as_slice).unwrap_or(&[]);
            route_group(job.sender, *digest, members)
        }
        Recipients::Users(to) => {
            let theirs = facts.by_user.get(to).map(Vec::as_slice).unwrap_or(&[]);
            if theirs.is_empty() {
                return Err(Refusal::not_found("user"));
            }
            let ours = if *to == user {
                &[][..]
            } else {
                facts.by_user.get(&user).map(Vec::as_slice).unwrap_or(&[])
            };
            let mut devices: Vec<DeviceId> = theirs
                .iter()
                .chain(ours)
                .map(|d| d.id)
                .filter(|d| *d != device)
                .collect();
            devices.sort_unstable();
            devices.dedup();
            if devices.len() > MAX_RECIPIENTS {
                return Err(Refusal::invalid(format!(
                    "a receipt reaches at most {MAX_RECIPIENTS} devices"
                )));
            }
            Ok(devices)
        }
    }
}

/// The devices a group message goes to, given the group's listed member
/// devices: every one but the sender's, provided the sender is a member and
/// encrypted for exactly these devices.
fn route_group(
    sender: (UserId, DeviceId),
    digest: DeviceSetDigest,
    members: &[(DeviceId, UserId)],
) -> Result<Vec<DeviceId>, Refusal> {
    if !members.iter().any(|(_, user)| *user == sender.0) {
        return Err(Refusal::forbidden("you are not a member of this group"));
    }
    let mut devices: Vec<DeviceId> = members
        .iter()
        .map(|(device, _)| *device)
        .filter(|device| *device != sender.1)
        .collect();
    devices.sort_unstable();
    devices.dedup();
    if courier_shared::proto::device_set_digest(&devices) != digest {
        return Err(stale("the group's members or their devices changed".into()));
    }
    Ok(devices)
}

/// `StaleDevices`: the recipients are not the current devices (`what`).
fn stale(what: String) -> Refusal {
    Refusal::new(
        ErrorCode::StaleDevices,
        format!("{what}: fetch the device lists again, re-encrypt and retry"),
    )
}
