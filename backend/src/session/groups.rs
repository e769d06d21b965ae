//! Group requests of a signed-in device: create, change membership, fetch.
//!
//! Only members see a group (to anyone else it does not exist); only admins
//! add, remove or promote members; anyone may leave. Each request answers
//! with the group's membership after it.

use super::commands::{Me, internal};
use crate::clock::now_ms;
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::groups::{GroupChange, GroupRecord};
use courier_shared::ids::{GroupId, UserId};
use courier_shared::proto::{ErrorCode, MAX_GROUP_MEMBERS, ServerFrame};

fn refused(code: ErrorCode, reason: &str) -> ServerFrame {
    ServerFrame::rejected(None, code, reason)
}

fn failed(err: &StoreError) -> ServerFrame {
    match err {
        StoreError::NotFound(what) => refused(ErrorCode::NotFound, &format!("no such {what}")),
        other => {
            let (code, message) = internal(other);
            refused(code, &message)
        }
    }
}

fn frame(group: &GroupRecord) -> ServerFrame {
    ServerFrame::Group {
        group: group.id,
        version: group.version,
        members: group.members.clone(),
    }
}

fn too_many() -> ServerFrame {
    refused(
        ErrorCode::InvalidRequest,
        &format!("a group has at most {MAX_GROUP_MEMBERS} members"),
    )
}

/// Creates a group of `me` (its admin) and `members`.
pub async fn create(state: &AppState, me: Me, members: Vec<UserId>) -> ServerFrame {
    if members.len() >= MAX_GROUP_MEMBERS {
        return too_many();
    }
    match state.store.create_group(me.0, &members, now_ms()).await {
        Ok(group) => {
            tracing::info!(
                group = group.id.0,
                members = group.members.len(),
                "group created"
            );
            frame(&group)
        }
        Err(err) => failed(&err),
    }
}

/// The group, if `me` is in it; `Err` is the answer to give otherwise.
async fn membership(state: &AppState, me: Me, group: GroupId) -> Result<GroupRecord, ServerFrame> {
    match state.store.group(group).await {
        Ok(Some(record)) if record.has(me.0) => Ok(record),
        Ok(_) => Err(refused(ErrorCode::NotFound, "no such group")),
        Err(err) => Err(failed(&err)),
    }
}

/// The group's membership, for its members.
pub async fn fetch(state: &AppState, me: Me, group: GroupId) -> ServerFrame {
    match membership(state, me, group).await {
        Ok(record) => frame(&record),
        Err(answer) => answer,
    }
}

/// Applies `change` if `me` may make it.
pub async fn change(state: &AppState, me: Me, group: GroupId, change: GroupChange) -> ServerFrame {
    let record = match membership(state, me, group).await {
        Ok(record) => record,
        Err(answer) => return answer,
    };
    let leaving = change == GroupChange::Remove(me.0);
    if !leaving && !record.is_admin(me.0) {
        return refused(
            ErrorCode::Forbidden,
            "only the group's admins can change its members",
        );
    }
    match &change {
        GroupChange::Add(users) => {
            let new = users.iter().filter(|u| !record.has(**u)).count();
            if users.len() > MAX_GROUP_MEMBERS || record.members.len() + new > MAX_GROUP_MEMBERS {
                return too_many();
            }
        }
        GroupChange::Remove(user) | GroupChange::SetAdmin(user, _) if !record.has(*user) => {
            return refused(ErrorCode::NotFound, "no such member");
        }
        GroupChange::Remove(_) | GroupChange::SetAdmin(..) => {}
    }
    match state.store.change_group(group, &change, now_ms()).await {
        Ok(Some(after)) => frame(&after),
        // The last member left: the group is gone.
        Ok(None) => ServerFrame::Group {
            group,
            version: record.version.saturating_add(1),
            members: Vec::new(),
        },
        Err(err) => failed(&err),
    }
}
