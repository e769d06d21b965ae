//! Carrying out a signed-in device's requests against the router, the store
//! and presence. Every failure becomes a `Rejected` frame: a bad request never
//! closes the connection or changes anything.

use super::machine::SignIn;
use super::{directory, groups, media};
use crate::clock::now_ms;
use crate::router::{MAX_IDS, RouteError};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::groups::GroupChange;
use crate::store::queue::GroupSend;
use courier_shared::ids::{DeviceId, MessageId, UserId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, ServerFrame};
use std::collections::HashSet;

/// Most users one `Subscribe` may name.
pub const MAX_SUBSCRIPTIONS: usize = 256;

/// A signed-in device.
pub type Me = (UserId, DeviceId);

/// Completes a sign-in; `Err` carries the fatal error to close with.
pub async fn sign_in(
    state: &AppState,
    request: SignIn,
    verify: impl FnOnce(&courier_shared::ids::PublicKey) -> bool,
) -> Result<Me, (ErrorCode, String)> {
    match request {
        SignIn::Register { username, key } => {
            match state.store.create_user(&username, &key, now_ms()).await {
                Ok(me) => {
                    tracing::info!(user = me.0.0, device = me.1.0, "user registered");
                    Ok(me)
                }
                Err(StoreError::UsernameTaken) => Err((
                    ErrorCode::UsernameTaken,
                    format!("the username {username} is taken"),
                )),
                Err(StoreError::KeyInUse) => Err((
                    ErrorCode::KeyInUse,
                    "this device key is already registered; authenticate instead".into(),
                )),
                Err(err) => Err(internal(&err)),
            }
        }
        SignIn::Link { link, key } => {
            let user = match state.store.consume_link(&link, now_ms()).await {
                Ok(Some(user)) => user,
                Ok(None) => {
                    return Err((
                        ErrorCode::AuthFailed,
                        "the link code is wrong, used or expired".into(),
                    ));
                }
                Err(err) => return Err(internal(&err)),
            };
            match state.store.add_device(user, &key, false, now_ms()).await {
                Ok(device) => {
                    tracing::info!(user = user.0, device = device.0, "device linked");
                    Ok((user, device))
                }
                Err(StoreError::KeyInUse) => Err((
                    ErrorCode::KeyInUse,
                    "this device key is already registered".into(),
                )),
                Err(err) => Err(internal(&err)),
            }
        }
        SignIn::Authenticate { device, .. } => match state.store.device(device).await {
            Ok(Some(record)) if verify(&record.key) => Ok((record.user, device)),
            Ok(_) => Err((
                ErrorCode::AuthFailed,
                "unknown device or wrong signature".into(),
            )),
            Err(err) => Err(internal(&err)),
        },
    }
}

pub(super) fn internal(err: &dyn std::fmt::Display) -> (ErrorCode, String) {
    tracing::error!(%err, "request failed");
    (ErrorCode::Internal, "the server failed; retry later".into())
}

pub(super) fn rejected(id: Option<MessageId>, err: RouteError) -> ServerFrame {
    match err {
        RouteError::Stale(reason) => ServerFrame::rejected(id, ErrorCode::StaleDevices, &reason),
        RouteError::Forbidden(reason) => ServerFrame::rejected(id, ErrorCode::Forbidden, &reason),
        RouteError::NotFound(reason) => ServerFrame::rejected(id, ErrorCode::NotFound, &reason),
        RouteError::Invalid(reason) => {
            ServerFrame::rejected(id, ErrorCode::InvalidRequest, &reason)
        }
        RouteError::Full(reason) => ServerFrame::rejected(id, ErrorCode::QuotaExceeded, &reason),
        RouteError::Store(err) => {
            let (code, message) = internal(&err);
            ServerFrame::rejected(id, code, &message)
        }
    }
}

/// Carries out one request of `me`; returns the frames to send back. Entries
/// acknowledged by `Ack` leave `inflight`.
pub async fn handle(
    state: &AppState,
    me: Me,
    frame: ClientFrame,
    inflight: &mut HashSet<MessageId>,
) -> Vec<ServerFrame> {
    match frame {
        ClientFrame::Send { id, to } => {
            let to = to
                .into_iter()
                .map(|(device, payload)| (device, payload.into_bytes()))
                .collect();
            vec![accepted(id, state.router.send(me, id, to).await)]
        }
        ClientFrame::SendFanout { id, to, payload } => {
            let payload = bytes::Bytes::from(payload.into_bytes());
            vec![accepted(
                id,
                state.router.send_fanout(me, id, to, payload).await,
            )]
        }
        ClientFrame::Ack { ids } => ack(state, me, ids, inflight).await,
        ClientFrame::Receipt { to, kind, ids } => {
            match state.router.receipt(me, to, kind, ids).await {
                Ok(()) => Vec::new(),
                Err(err) => vec![rejected(None, err)],
            }
        }
        ClientFrame::LookupUserId { user } => {
            let name = match state.store.username(user).await {
                Ok(Some(name)) => name,
                Ok(None) => {
                    return vec![ServerFrame::rejected(
                        None,
                        ErrorCode::NotFound,
                        "no such user",
                    )];
                }
                Err(err) => return vec![rejected(None, err.into())],
            };
            lookup(state, &name).await
        }
        ClientFrame::LookupUser { username } => lookup(state, &username).await,
        ClientFrame::AddDevice { key } => {
            match state.store.add_device(me.0, &key, true, now_ms()).await {
                Ok(device) => vec![ServerFrame::DeviceAdded { device }],
                Err(StoreError::KeyInUse) => vec![ServerFrame::rejected(
                    None,
                    ErrorCode::KeyInUse,
                    "this device key is already registered",
                )],
                Err(err) => vec![rejected(None, err.into())],
            }
        }
        ClientFrame::AddContact { user } => {
            match state.store.add_contact(me.0, user, now_ms()).await {
                Ok(()) => vec![ServerFrame::ContactUpdated { user, added: true }],
                Err(StoreError::NotFound(_)) => vec![ServerFrame::rejected(
                    None,
                    ErrorCode::NotFound,
                    "no such user",
                )],
                Err(err) => vec![rejected(None, err.into())],
            }
        }
        ClientFrame::RemoveContact { user } => match state.store.remove_contact(me.0, user).await {
            Ok(()) => {
                state.presence.revoke(user, me.0);
                vec![ServerFrame::ContactUpdated { user, added: false }]
            }
            Err(err) => vec![rejected(None, err.into())],
        },
        ClientFrame::Subscribe { users } => subscribe(state, me, users).await,
        ClientFrame::Typing { to, typing } => {
            match state.store.has_contact(me.0, to).await {
                Ok(true) => state.router.typing(me.0, to, typing),
                Ok(false) => {}
                Err(err) => return vec![rejected(None, err.into())],
            }
            Vec::new()
        }
        ClientFrame::PublishKeys { one_time, fallback } => {
            vec![directory::publish_keys(state, me, one_time, fallback).await]
        }
        ClientFrame::ClaimKeys { devices } => vec![directory::claim_keys(state, devices).await],
        ClientFrame::PublishDeviceList { list } => {
            vec![directory::publish_list(state, me, list).await]
        }
        ClientFrame::FetchDeviceList { user } => vec![directory::fetch_list(state, user).await],
        ClientFrame::CreateLink { link } => vec![directory::create_link(state, me, link).await],
        ClientFrame::CreateGroup { members } => vec![groups::create(state, me, members).await],
        ClientFrame::AddMembers { group, users } => {
            vec![groups::change(state, me, group, GroupChange::Add(users)).await]
        }
        ClientFrame::RemoveMember { group, user } => {
            vec![groups::change(state, me, group, GroupChange::Remove(user)).await]
        }
        ClientFrame::SetAdmin { group, user, admin } => {
            vec![groups::change(state, me, group, GroupChange::SetAdmin(user, admin)).await]
        }
        ClientFrame::FetchGroup { group } => vec![groups::fetch(state, me, group).await],
        ClientFrame::RequestUpload { size, hash } => {
            vec![media::request_upload(state, me, size, hash).await]
        }
        ClientFrame::CompleteUpload { media: id } => {
            vec![media::complete_upload(state, me, id).await]
        }
        ClientFrame::RequestDownload { media: id } => {
            vec![media::request_download(state, id).await]
        }
        ClientFrame::SendGroup {
            id,
            group,
            devices,
            payload,
        } => {
            let send = GroupSend {
                group,
                devices,
                payload: payload.into_bytes(),
            };
            vec![accepted(id, state.router.send_group(me, id, send).await)]
        }
        ClientFrame::Hello { .. }
        | ClientFrame::Ping { .. }
        | ClientFrame::Pong { .. }
        | ClientFrame::Register { .. }
        | ClientFrame::Authenticate { .. }
        | ClientFrame::Link { .. } => Vec::new(),
    }
}

/// The user named `username` with their devices.
async fn lookup(state: &AppState, username: &Username) -> Vec<ServerFrame> {
    match state.store.user_by_name(username).await {
        Ok(Some(user)) => vec![ServerFrame::UserInfo {
            user: user.id,
            username: user.username,
            devices: user.devices,
        }],
        Ok(None) => vec![ServerFrame::rejected(
            None,
            ErrorCode::NotFound,
            &format!("no user named {username}"),
        )],
        Err(err) => vec![rejected(None, err.into())],
    }
}

fn accepted(id: MessageId, result: Result<(), RouteError>) -> ServerFrame {
    match result {
        Ok(()) => ServerFrame::Accepted { id },
        Err(err) => rejected(Some(id), err),
    }
}

async fn ack(
    state: &AppState,
    me: Me,
    ids: Vec<MessageId>,
    inflight: &mut HashSet<MessageId>,
) -> Vec<ServerFrame> {
    if ids.len() > MAX_IDS {
        return vec![ServerFrame::rejected(
            None,
            ErrorCode::InvalidRequest,
            &format!("acknowledge at most {MAX_IDS} entries at a time"),
        )];
    }
    for id in &ids {
        inflight.remove(id);
    }
    match state.router.ack(me.1, ids).await {
        Ok(_) => Vec::new(),
        Err(err) => vec![rejected(None, err.into())],
    }
}

/// Follows the presence of each named user who has `me` as a contact, and
/// answers with their current presence. Others are skipped without a word,
/// so a subscription reveals nothing about non-contacts.
async fn subscribe(state: &AppState, me: Me, users: Vec<UserId>) -> Vec<ServerFrame> {
    if users.len() > MAX_SUBSCRIPTIONS {
        return vec![ServerFrame::rejected(
            None,
            ErrorCode::InvalidRequest,
            &format!("subscribe to at most {MAX_SUBSCRIPTIONS} users at a time"),
        )];
    }
    let mut replies = Vec::new();
    for user in users {
        match state.store.has_contact(user, me.0).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(err) => return vec![rejected(None, err.into())],
        }
        state.presence.subscribe(me.1, me.0, user);
        let online = match state.store.user_online(user, now_ms()).await {
            Ok(online) => online,
            Err(err) => return vec![rejected(None, err.into())],
        };
        let last_seen = match state.store.last_seen(user).await {
            Ok(seen) => seen,
            Err(err) => return vec![rejected(None, err.into())],
        };
        replies.push(ServerFrame::Presence {
            user,
            online,
            last_seen,
        });
    }
    replies
}
