//! Group requests of a signed-in device: create, change membership, fetch.
//!
//! Only members see a group (to anyone else it does not exist); only admins
//! add, remove or promote members; anyone may leave. Each request answers
//! with the group's membership after it.

use super::commands::Me;
use crate::clock::now_ms;
use crate::refusal::Refusal;
use crate::state::AppState;
use crate::store::groups::{GroupChange, GroupRecord};
use courier_shared::ids::{GroupId, RequestId, UserId};
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

/// Applies `change` if `me` may make it.
pub async fn change(
    state: &AppState,
    me: Me,
    request: RequestId,
    group: GroupId,
    change: GroupChange,
) -> Result<ServerFrame, Refusal> {
    let record = membership(state, me, group).await?;
    let leaving = change == GroupChange::Remove(me.0);
    if !leaving && !record.is_admin(me.0) {
        return Err(Refusal::forbidden(
            "only the group's admins can change its members",
        ));
    }
    match &change {
        GroupChange::Add(users) => {
            let new = users.iter().filter(|u| !record.has(**u)).count();
            if users.len() > MAX_GROUP_MEMBERS || record.members.len() + new > MAX_GROUP_MEMBERS {
                return Err(too_many());
            }
        }
        GroupChange::Remove(user) | GroupChange::SetAdmin(user, _) if !record.has(*user) => {
            return Err(Refusal::not_found("member"));
        }
        GroupChange::Remove(_) | GroupChange::SetAdmin(..) => {}
    }
    match state.store.change_group(group, &change, now_ms()).await? {
        Some(after) => Ok(frame(request, &after)),
        // The last member left: the group is gone.
        None => Ok(ServerFrame::Group {
            request,
            group,
            version: record.version.saturating_add(1),
            members: Vec::new(),
        }),
    }
}
