//! Group requests of a signed-in device: create, change membership, fetch.
//!
//! Only members see a group (to anyone else it does not exist); only admins
//! add, remove or promote members and make invite links; anyone may leave,
//! and anyone with a current invite link may join. Each request answers
//! with the group's membership after it.

use super::commands::Me;
use crate::clock::now_ms;
use crate::refusal::Refusal;
use crate::state::AppState;
use crate::store::groups::{GroupChange, GroupChanged, GroupRecord};
use courier_shared::ids::{GroupId, LinkId, RequestId, UserId};
use courier_shared::proto::{MAX_GROUP_MEMBERS, ServerFrame};

fn frame(request: RequestId, group: &GroupRecord) -> ServerFrame {
    ServerFrame::Group {
        request,
        group: group.id,
        version: group.version,
        members: group.members.clone(),
    }
}

fn too_many() -> Refusal {
    Refusal::invalid(format!("a group has at most {MAX_GROUP_MEMBERS} members"))
}

/// Creates a group of `me` (its admin) and `members`.
pub async fn create(
    state: &AppState,
    me: Me,
    request: RequestId,
    members: Vec<UserId>,
) -> Result<ServerFrame, Refusal> {
    if members.len() >= MAX_GROUP_MEMBERS {
        return Err(too_many());
    }
    let group = state.store.create_group(me.0, &members, now_ms()).await?;
    tracing::info!(
        group = group.id.0,
        members = group.members.len(),
        "group created"
    );
    Ok(frame(request, &group))
}

/// The group, if `me` is in it.
async fn membership(state: &AppState, me: Me, group: GroupId) -> Result<GroupRecord, Refusal> {
    match state.store.group(group).await? {
        Some(record) if record.has(me.0) => Ok(record),
        _ => Err(Refusal::not_found("group")),
    }
}

/// The group's membership, for its members.
pub async fn fetch(
    state: &AppState,
    me: Me,
    request: RequestId,
    group: GroupId,
) -> Result<ServerFrame, Refusal> {
    Ok(frame(request, &membership(state, me, group).await?))
}

/// Applies `change` if `me` may make it (the store checks the rules in the
/// transaction that makes the change).
pub async fn change(
    state: &AppState,
    me: Me,
    request: RequestId,
    group: GroupId,
    change: GroupChange,
) -> Result<ServerFrame, Refusal> {
    let changed = state
        .store
        .change_group(group, me.0, &change, MAX_GROUP_MEMBERS, now_ms())
        .await?;
    match changed {
        GroupChanged::Done(after) => Ok(frame(request, &after)),
        GroupChanged::NotMember => Err(Refusal::not_found("group")),
        GroupChanged::NotAdmin => Err(Refusal::forbidden(
            "only the group's admins can change its members",
        )),
        GroupChanged::NoSuchMember => Err(Refusal::not_found("member")),
        GroupChanged::TooMany => Err(too_many()),
        GroupChanged::NoInvite => Err(no_invite()),
    }
}

fn no_invite() -> Refusal {
    Refusal::not_found("invite link (it may have been revoked)")
}

/// Sets or revokes the group's invite link (admins only).
pub async fn set_invite(
    state: &AppState,
    me: Me,
    request: RequestId,
    group: GroupId,
    token: Option<LinkId>,
) -> Result<ServerFrame, Refusal> {
    let changed = state
        .store
        .set_invite(group, me.0, token.as_ref(), now_ms())
        .await?;
    match changed {
        GroupChanged::Done(_) => Ok(ServerFrame::Accepted { request }),
        GroupChanged::NotAdmin => Err(Refusal::forbidden(
            "only the group's admins can make or revoke its invite link",
        )),
        _ => Err(Refusal::not_found("group")),
    }
}

/// Joins the group of the invite link with `token`.
pub async fn join(
    state: &AppState,
    me: Me,
    request: RequestId,
    token: LinkId,
) -> Result<ServerFrame, Refusal> {
    let group = state
        .store
        .invite_group(&token)
        .await?
        .ok_or_else(no_invite)?;
    let answer = change(state, me, request, group, GroupChange::Join(token)).await?;
    tracing::info!(
        group = group.0,
        user = me.0.0,
        "joined through an invite link"
    );
    Ok(answer)
}
