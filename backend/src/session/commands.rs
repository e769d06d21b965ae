//! Carrying out a signed-in device's requests against the router, the store
//! and presence (the delivery path — sends, receipts, acknowledgements — is
//! [`super::delivery`]). Each request with an id gets exactly one answer: its answer
//! frame, or a `Rejected` frame naming it ([`Refusal`]). A bad request never
//! closes the connection or changes anything.

use super::machine::SignIn;
use super::{directory, groups, media};
use crate::clock::now_ms;
use crate::refusal::{Refusal, internal};
use crate::state::AppState;
use crate::store::StoreError;
use crate::store::directory::MAX_DEVICES;
use crate::store::groups::GroupChange;
use courier_shared::ids::{DeviceId, RequestId, UserId, Username};
use courier_shared::proto::{ClientFrame, ErrorCode, ServerFrame};

/// Most users one `Subscribe` may name.
pub use courier_shared::proto::MAX_SUBSCRIBE as MAX_SUBSCRIPTIONS;

/// A signed-in device.
pub type Me = (UserId, DeviceId);

/// Completes a sign-in. A refusal with `UsernameTaken` or `KeyInUse` leaves
/// the connection open; any other ends it.
pub async fn sign_in(
    state: &AppState,
    request: SignIn,
    verify: impl FnOnce(&courier_shared::ids::PublicKey) -> bool,
) -> Result<Me, Refusal> {
    match request {
        SignIn::Register { username, key, .. } => {
            let me = state
                .store
                .create_user(&username, &key, now_ms())
                .await
                .map_err(|err| match err {
                    StoreError::UsernameTaken => Refusal::new(
                        ErrorCode::UsernameTaken,
                        format!("the username {username} is taken"),
                    ),
                    other => other.into(),
                })?;
            tracing::info!(user = me.0.0, device = me.1.0, "user registered");
            Ok(me)
        }
        SignIn::Link { link, key, .. } => {
            let user = state
                .store
                .consume_link(&link, now_ms())
                .await?
                .ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::AuthFailed,
                        "the link code is wrong, used or expired",
                    )
                })?;
            let device = state
                .store
                .add_device(user, &key, false, MAX_DEVICES, now_ms())
                .await?
                .ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::QuotaExceeded,
                        format!("an account has at most {MAX_DEVICES} devices; remove one first"),
                    )
                })?;
            tracing::info!(user = user.0, device = device.0, "device linked");
            Ok((user, device))
        }
        SignIn::Authenticate { device, .. } => match state.store.device(device).await? {
            Some(record) if verify(&record.key) => Ok((record.user, device)),
            _ => Err(Refusal::new(
                ErrorCode::AuthFailed,
                "unknown device or wrong signature",
            )),
        },
    }
}

/// Carries out one request of `me` other than the delivery path (sends,
/// receipts and acknowledgements go to the router through
/// [`super::delivery::Window::hand_on`]); the frame to answer with, if the
/// request has an answer (`Typing` has none).
pub async fn handle(state: &AppState, me: Me, frame: ClientFrame) -> Option<ServerFrame> {
    match frame {
        ClientFrame::Typing { to, typing } => {
            match state.store.has_contact(me.0, to).await {
                Ok(true) => state.router.typing(me.0, to, typing),
                Ok(false) => {}
                Err(err) => tracing::warn!(%err, "cannot pass a typing indicator on"),
            }
            None
        }
        frame => {
            let request = frame.request().unwrap_or_default();
            Some(
                answer(state, me, request, frame)
                    .await
                    .unwrap_or_else(|refusal| refusal.frame(request)),
            )
        }
    }
}

/// The answer to `request`, a request with an answer.
async fn answer(
    state: &AppState,
    me: Me,
    request: RequestId,
    frame: ClientFrame,
) -> Result<ServerFrame, Refusal> {
    match frame {
        ClientFrame::LookupUserId { user, .. } => {
            let name = state
                .store
                .username(user)
                .await?
                .ok_or_else(|| Refusal::not_found("user"))?;
            lookup(state, request, &name).await
        }
        ClientFrame::LookupUser { username, .. } => lookup(state, request, &username).await,
        ClientFrame::AddContact { user, .. } => {
            state.store.add_contact(me.0, user, now_ms()).await?;
            Ok(ServerFrame::ContactUpdated {
                request,
                user,
                added: true,
            })
        }
        ClientFrame::RemoveContact { user, .. } => {
            state.store.remove_contact(me.0, user).await?;
            state.presence.revoke(user, me.0);
            Ok(ServerFrame::ContactUpdated {
                request,
                user,
                added: false,
            })
        }
        ClientFrame::Subscribe { users, .. } => subscribe(state, me, request, users).await,
        ClientFrame::PublishKeys {
            one_time, fallback, ..
        } => directory::publish_keys(state, me, request, one_time, fallback).await,
        ClientFrame::ClaimKeys { devices, .. } => {
            directory::claim_keys(state, me, request, devices).await
        }
        ClientFrame::PublishDeviceList { list, .. } => {
            directory::publish_list(state, me, request, list).await
        }
        ClientFrame::FetchDeviceList { user, .. } => {
            directory::fetch_list(state, request, user).await
        }
        ClientFrame::CreateLink { link, .. } => {
            directory::create_link(state, me, request, link).await
        }
        ClientFrame::CreateGroup { members, .. } => {
            groups::create(state, me, request, members).await
        }
        ClientFrame::AddMembers { group, users, .. } => {
            let change = GroupChange::Add(users);
            groups::change(state, me, request, group, change).await
        }
        ClientFrame::RemoveMember { group, user, .. } => {
            let change = GroupChange::Remove(user);
            groups::change(state, me, request, group, change).await
        }
        ClientFrame::SetAdmin {
            group, user, admin, ..
        } => {
            let change = GroupChange::SetAdmin(user, admin);
            groups::change(state, me, request, group, change).await
        }
        ClientFrame::FetchGroup { group, .. } => groups::fetch(state, me, request, group).await,
        ClientFrame::SetInvite { group, token, .. } => {
            groups::set_invite(state, me, request, group, token).await
        }
        ClientFrame::JoinGroup { token, .. } => groups::join(state, me, request, token).await,
        ClientFrame::RequestUpload { size, hash, .. } => {
            media::request_upload(state, me, request, size, hash).await
        }
        ClientFrame::CompleteUpload { media: id, .. } => {
            media::complete_upload(state, me, request, id).await
        }
        ClientFrame::RequestDownload { media: id, .. } => {
            media::request_download(state, request, id).await
        }
        ClientFrame::RequestTurn { .. } => {
            Ok(state
                .turn
                .answer(request, me.1, crate::clock::now_unix_ms()))
        }
        ClientFrame::SetProfile { sealed, .. } => {
            let sealed = sealed.as_bytes();
            state.store.set_profile(me.0, sealed, now_ms()).await?;
            Ok(ServerFrame::Accepted { request })
        }
        ClientFrame::FetchProfile { user, .. } => fetch_profile(state, request, user).await,
        ClientFrame::Register { .. }
        | ClientFrame::Authenticate { .. }
        | ClientFrame::Link { .. } => Err(Refusal::invalid("this connection is already signed in")),
        ClientFrame::Send { .. }
        | ClientFrame::SendFanout { .. }
        | ClientFrame::SendGroup { .. }
        | ClientFrame::Receipt { .. } => Err(internal(&"a send reached the commands")),
        ClientFrame::Hello { .. }
        | ClientFrame::Ping { .. }
        | ClientFrame::Pong { .. }
        | ClientFrame::Ack { .. }
        | ClientFrame::Typing { .. } => {
            Err(internal(&"a frame without an answer reached answer()"))
        }
    }
}

/// `user`'s sealed profile: anyone signed in may have it, as it opens only
/// with a key its owner gives the people they chat with.
async fn fetch_profile(
    state: &AppState,
    request: RequestId,
    user: UserId,
) -> Result<ServerFrame, Refusal> {
    let sealed = state.store.profile(user).await?;
    let sealed = sealed
        .and_then(courier_shared::ids::Blob::new)
        .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "this user has no profile"))?;
    Ok(ServerFrame::Profile {
        request,
        user,
        sealed,
    })
}

/// The user named `username` with their devices.
async fn lookup(
    state: &AppState,
    request: RequestId,
    username: &Username,
) -> Result<ServerFrame, Refusal> {
    let user =
        state.store.user_by_name(username).await?.ok_or_else(|| {
            Refusal::new(ErrorCode::NotFound, format!("no user named {username}"))
        })?;
    Ok(ServerFrame::UserInfo {
        request,
        user: user.id,
        username: user.username,
        devices: user.devices,
    })
}

/// Follows the presence of each named user who has `me` as a contact, and
/// answers with their current presence. Others are skipped without a word,
/// so a subscription reveals nothing about non-contacts.
async fn subscribe(
    state: &AppState,
    me: Me,
    request: RequestId,
    users: Vec<UserId>,
) -> Result<ServerFrame, Refusal> {
    if users.len() > MAX_SUBSCRIPTIONS {
        return Err(Refusal::invalid(format!(
            "subscribe to at most {MAX_SUBSCRIPTIONS} users at a time"
        )));
    }
    let mut present = Vec::new();
    for user in users {
        if !state.store.has_contact(user, me.0).await? {
            continue;
        }
        state.presence.subscribe(me.1, me.0, user);
        let online = state.store.user_online(user, now_ms()).await?;
        let last_seen = state.store.last_seen(user).await?;
        present.push((user, online, last_seen));
    }
    Ok(ServerFrame::PresenceList {
        request,
        users: present,
    })
}
