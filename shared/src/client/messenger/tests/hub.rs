//! [`Hub`]: a scripted peer for the messenger's unit tests — an in-memory
//! directory and router that answers each request at once, as the real
//! server's rules say (the device check, group digests, one-time keys
//! handed out once), and refuses requests on cue ([`Hub::refuse_next`]).
//! Each device reaches it through a [`Line`], which implements
//! [`Server`] and keeps the events pushed to that device.

use crate::client::Event;
use crate::client::api::Server;
use crate::crypto::device_list::SignedDeviceList;
use crate::crypto::keys::SignedKey;
use crate::ids::{DeviceId, GroupId, MessageId, PublicKey, RequestId, UserId, Username};
use crate::proto::{ClientFrame, ErrorCode, Refusal, ServerFrame, device_set_digest};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

#[derive(Default)]
struct User {
    username: String,
    list: Option<SignedDeviceList>,
}

struct Device {
    user: UserId,
    key: PublicKey,
    one_time: Vec<SignedKey>,
    fallback: Option<SignedKey>,
    events: VecDeque<Event>,
}

/// The in-memory server.
#[derive(Default)]
pub struct Hub {
    users: HashMap<UserId, User>,
    devices: HashMap<DeviceId, Device>,
    groups: HashMap<GroupId, Vec<(UserId, bool)>>,
    accepted: HashSet<(DeviceId, MessageId)>,
    refusals: VecDeque<(&'static str, ErrorCode)>,
    /// Every frame a device sent, by frame type, in order.
    pub sent: Vec<(DeviceId, &'static str)>,
    /// Each user's sealed profile.
    pub profiles: HashMap<UserId, Vec<u8>>,
    /// Each group's invite link token.
    invites: HashMap<GroupId, crate::ids::LinkId>,
    next: u64,
}

/// A shared hub.
pub type Shared = Rc<RefCell<Hub>>;

impl Hub {
    /// A new, empty hub.
    pub fn shared() -> Shared {
        Rc::new(RefCell::new(Self {
            next: 1,
            ..Self::default()
        }))
    }

    fn fresh(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Registers `username` with its first device's `key` (what `Register`
    /// does at sign-in).
    pub fn register(&mut self, username: &str, key: PublicKey) -> (UserId, DeviceId) {
        let user = UserId(self.fresh());
        self.users.insert(
            user,
            User {
                username: username.to_owned(),
                list: None,
            },
        );
        (user, self.add_device(user, key))
    }

    /// Adds a device to `user` (what `Link` does at sign-in).
    pub fn add_device(&mut self, user: UserId, key: PublicKey) -> DeviceId {
        let device = DeviceId(self.fresh());
        self.devices.insert(
            device,
            Device {
                user,
                key,
                one_time: Vec::new(),
                fallback: None,
                events: VecDeque::new(),
            },
        );
        device
    }

    /// Refuses the next request of frame type `name` with `code`.
    pub fn refuse_next(&mut self, name: &'static str, code: ErrorCode) {
        self.refusals.push_back((name, code));
    }

    /// How many frames of type `name` `device` sent.
    pub fn count(&self, device: DeviceId, name: &str) -> usize {
        self.sent
            .iter()
            .filter(|(d, n)| *d == device && *n == name)
            .count()
    }

    /// Takes the events pushed to `device`.
    pub fn take_events(&mut self, device: DeviceId) -> Vec<Event> {
        self.devices
            .get_mut(&device)
            .map(|d| d.events.drain(..).collect())
            .unwrap_or_default()
    }

    /// Pushes `event` to `device` (a redelivery, say).
    pub fn push(&mut self, device: DeviceId, event: Event) {
        if let Some(d) = self.devices.get_mut(&device) {
            d.events.push_back(event);
        }
    }

    fn listed(&self, user: UserId) -> Vec<DeviceId> {
        let listed: Option<Vec<DeviceId>> = self.users.get(&user).and_then(|u| {
            let list = u.list.as_ref()?.open().ok()?;
            Some(list.devices().iter().map(|d| d.device).collect())
        });
        listed.unwrap_or_else(|| {
            self.devices
                .iter()
                .filter(|(_, d)| d.user == user)
                .map(|(id, _)| *id)
                .collect()
        })
    }

    /// The device check: `to` must be exactly the listed devices of every
    /// user it reaches, the sender's device aside.
    fn check(&self, from: DeviceId, to: &[DeviceId]) -> Result<(), Refusal> {
        let mut users: Vec<UserId> = Vec::new();
        for device in to {
            let owner = self
                .devices
                .get(device)
                .ok_or_else(|| stale("an unknown device"))?
                .user;
            if !users.contains(&owner) {
                users.push(owner);
            }
        }
        for user in users {
            for listed in self.listed(user) {
                if listed != from && !to.contains(&listed) {
                    return Err(stale("a listed device is left out"));
                }
            }
        }
        for device in to {
            let owner = self.devices[device].user;
            if !self.listed(owner).contains(device) {
                return Err(stale("a device is not listed"));
            }
        }
        Ok(())
    }

    fn deliver(
        &mut self,
        from: DeviceId,
        id: MessageId,
        to: Vec<(DeviceId, crate::proto::Payload)>,
    ) {
        let user = self.devices[&from].user;
        if !self.accepted.insert((from, id)) {
            return;
        }
        for (device, payload) in to {
            self.push(
                device,
                Event::Message {
                    id,
                    from: user,
                    from_device: from,
                    sent_at: id.unix_ms(),
                    payload,
                },
            );
        }
    }

    /// Handles one request of `device`: its answer or refusal.
    pub fn handle(&mut self, device: DeviceId, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        self.sent.push((device, frame.name()));
        if let Some(index) = self.refusals.iter().position(|(n, _)| *n == frame.name()) {
            let (_, code) = self
                .refusals
                .remove(index)
                .unwrap_or(("", ErrorCode::Internal));
            return Err(Refusal::new(code, "refused on cue"));
        }
        let request = frame.request().unwrap_or_default();
        let me = self.devices[&device].user;
        let accepted = ServerFrame::Accepted { request };
        match frame {
            ClientFrame::PublishKeys {
                one_time, fallback, ..
            } => {
                let entry = self.devices.get_mut(&device).expect("known device");
                entry.one_time.extend(one_time);
                if fallback.is_some() {
                    entry.fallback = fallback;
                }
                let one_time = u32::try_from(entry.one_time.len()).unwrap_or(u32::MAX);
                Ok(ServerFrame::KeyCount { request, one_time })
            }
            ClientFrame::ClaimKeys { devices, .. } => {
                let mut keys = Vec::new();
                for id in devices {
                    if let Some(d) = self.devices.get_mut(&id) {
                        let key = if d.one_time.is_empty() {
                            d.fallback
                        } else {
                            Some(d.one_time.remove(0))
                        };
                        keys.extend(key.map(|k| (id, k)));
                    }
                }
                Ok(ServerFrame::ClaimedKeys { request, keys })
            }
            ClientFrame::PublishDeviceList { list, .. } => {
                self.users.entry(me).or_default().list = Some(list);
                Ok(self.device_list(request, me))
            }
            ClientFrame::FetchDeviceList { user, .. } => Ok(self.device_list(request, user)),
            ClientFrame::LookupUser { username, .. } => {
                let (user, _) = self
                    .users
                    .iter()
                    .find(|(_, u)| u.username == username.as_str())
                    .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such user"))?;
                Ok(self.user_info(request, *user))
            }
            ClientFrame::LookupUserId { user, .. } => Ok(self.user_info(request, user)),
            ClientFrame::AddContact { user, .. } | ClientFrame::RemoveContact { user, .. } => {
                Ok(ServerFrame::ContactUpdated {
                    request,
                    user,
                    added: true,
                })
            }
            ClientFrame::CreateLink { link, .. } => Ok(ServerFrame::LinkCreated {
                request,
                link,
                expires_at: 0,
            }),
            ClientFrame::Subscribe { .. } => Ok(ServerFrame::PresenceList {
                request,
                users: Vec::new(),
            }),
            ClientFrame::Send { id, to, .. } => {
                let devices: Vec<DeviceId> = to.iter().map(|(d, _)| *d).collect();
                self.check(device, &devices)?;
                self.deliver(device, id, to);
                Ok(accepted)
            }
            ClientFrame::SendFanout {
                id, to, payload, ..
            } => {
                self.check(device, &to)?;
                let to = to.into_iter().map(|d| (d, payload.clone())).collect();
                self.deliver(device, id, to);
                Ok(accepted)
            }
            ClientFrame::Receipt { to, kind, ids, .. } => {
                let mut devices: Vec<DeviceId> = self
                    .devices
                    .iter()
                    .filter(|(id, d)| (d.user == to || d.user == me) && **id != device)
                    .map(|(id, _)| *id)
                    .collect();
                devices.sort_unstable();
                let receipt = MessageId::v7(1, [self.fresh() as u8; 10]);
                for target in devices {
                    self.push(
                        target,
                        Event::Receipt {
                            id: receipt,
                            from: me,
                            from_device: device,
                            kind,
                            ids: ids.clone(),
                        },
                    );
                }
                Ok(accepted)
            }
            ClientFrame::CreateGroup { mut members, .. } => {
                let group = GroupId(self.fresh());
                members.retain(|m| *m != me);
                let mut all = vec![(me, true)];
                all.extend(members.into_iter().map(|m| (m, false)));
                self.groups.insert(group, all);
                Ok(self.group(request, group))
            }
            ClientFrame::FetchGroup { group, .. } => self.member_group(request, group, me),
            ClientFrame::RemoveMember { group, user, .. } => {
                self.member_group(request, group, me)?;
                if let Some(members) = self.groups.get_mut(&group) {
                    members.retain(|(m, _)| *m != user);
                }
                Ok(self.group(request, group))
            }
            ClientFrame::SetInvite { group, token, .. } => {
                let admin = self
                    .groups
                    .get(&group)
                    .is_some_and(|m| m.contains(&(me, true)));
                if !admin {
                    return Err(Refusal::forbidden("admins only"));
                }
                match token {
                    Some(token) => self.invites.insert(group, token),
                    None => self.invites.remove(&group),
                };
                Ok(accepted)
            }
            ClientFrame::JoinGroup { token, .. } => {
                let group = self
                    .invites
                    .iter()
                    .find(|(_, t)| **t == token)
                    .map(|(g, _)| *g);
                let group = group.ok_or_else(|| Refusal::not_found("invite link"))?;
                if let Some(members) = self.groups.get_mut(&group)
                    && !members.iter().any(|(u, _)| *u == me)
                {
                    members.push((me, false));
                }
                Ok(self.group(request, group))
            }
            ClientFrame::AddMembers { group, users, .. } => {
                self.member_group(request, group, me)?;
                if let Some(members) = self.groups.get_mut(&group) {
                    members.extend(users.into_iter().map(|u| (u, false)));
                }
                Ok(self.group(request, group))
            }
            ClientFrame::SendGroup {
                id,
                group,
                devices,
                payload,
                ..
            } => {
                let members = self
                    .groups
                    .get(&group)
                    .filter(|m| m.iter().any(|(u, _)| *u == me))
                    .ok_or_else(|| Refusal::forbidden("not a member"))?
                    .clone();
                let targets: Vec<DeviceId> = members
                    .iter()
                    .flat_map(|(user, _)| self.listed(*user))
                    .filter(|d| *d != device)
                    .collect();
                if device_set_digest(&targets) != devices {
                    return Err(stale("the group changed"));
                }
                let to = targets.into_iter().map(|d| (d, payload.clone())).collect();
                self.deliver(device, id, to);
                Ok(accepted)
            }
            ClientFrame::RequestUpload { .. } => {
                let mut media = [0; 16];
                media[8..].copy_from_slice(&self.fresh().to_be_bytes());
                Ok(ServerFrame::UploadSlot {
                    request,
                    media: crate::ids::MediaId::new_const(media),
                    url: crate::proto::Text::truncating("/media/slot"),
                    expires_at: u64::MAX,
                })
            }
            ClientFrame::CompleteUpload { media, .. } => {
                Ok(ServerFrame::MediaReady { request, media })
            }
            ClientFrame::SetProfile { sealed, .. } => {
                self.profiles.insert(me, sealed.into_bytes());
                Ok(accepted)
            }
            ClientFrame::FetchProfile { user, .. } => {
                let sealed = self.profiles.get(&user).cloned();
                let sealed = sealed.and_then(crate::ids::Blob::new);
                let sealed = sealed.ok_or_else(|| Refusal::not_found("profile"))?;
                Ok(ServerFrame::Profile {
                    request,
                    user,
                    sealed,
                })
            }
            other => Err(Refusal::invalid(format!(
                "the hub does not do {}",
                other.name()
            ))),
        }
    }

    fn device_list(&self, request: RequestId, user: UserId) -> ServerFrame {
        ServerFrame::DeviceList {
            request,
            user,
            list: self.users.get(&user).and_then(|u| u.list.clone()),
            registered: self
                .devices
                .iter()
                .filter(|(_, d)| d.user == user)
                .map(|(id, d)| (*id, d.key))
                .collect(),
        }
    }

    fn user_info(&self, request: RequestId, user: UserId) -> ServerFrame {
        let username = self
            .users
            .get(&user)
            .map(|u| u.username.clone())
            .unwrap_or_default();
        ServerFrame::UserInfo {
            request,
            user,
            username: Username::parse(&username)
                .unwrap_or_else(|_| Username::parse("nobody").expect("valid")),
            devices: self
                .devices
                .iter()
                .filter(|(_, d)| d.user == user)
                .map(|(id, d)| (*id, d.key))
                .collect(),
        }
    }

    fn group(&self, request: RequestId, group: GroupId) -> ServerFrame {
        ServerFrame::Group {
            request,
            group,
            version: 1,
            members: self.groups.get(&group).cloned().unwrap_or_default(),
        }
    }

    fn member_group(
        &self,
        request: RequestId,
        group: GroupId,
        me: UserId,
    ) -> Result<ServerFrame, Refusal> {
        match self.groups.get(&group) {
            Some(members) if members.iter().any(|(u, _)| *u == me) => {
                Ok(self.group(request, group))
            }
            _ => Err(Refusal::not_found("group")),
        }
    }
}

fn stale(what: &str) -> Refusal {
    Refusal::new(ErrorCode::StaleDevices, what)
}

/// One device's line to the hub: its [`Server`].
pub struct Line {
    /// The hub.
    pub hub: Shared,
    /// The device.
    pub device: DeviceId,
    next: u32,
    /// Whether requests fail as if the connection were down.
    pub offline: bool,
}

impl Line {
    /// A line for `device`.
    pub fn new(hub: &Shared, device: DeviceId) -> Self {
        Self {
            hub: hub.clone(),
            device,
            next: 0,
            offline: false,
        }
    }

    fn stamp(&mut self, mut frame: ClientFrame) -> (RequestId, ClientFrame) {
        self.next += 1;
        let request = RequestId(self.next);
        frame.set_request(request);
        (request, frame)
    }
}

impl Server for Line {
    async fn call(&mut self, frame: ClientFrame) -> Result<ServerFrame, Refusal> {
        if self.offline {
            return Err(Refusal::unanswered());
        }
        let (_, frame) = self.stamp(frame);
        self.hub.borrow_mut().handle(self.device, frame)
    }

    async fn post(&mut self, frame: ClientFrame) -> RequestId {
        let (request, frame) = self.stamp(frame);
        let answer = if self.offline {
            Err(Refusal::unanswered())
        } else {
            self.hub.borrow_mut().handle(self.device, frame)
        };
        self.hub
            .borrow_mut()
            .push(self.device, Event::Answer { request, answer });
        request
    }

    async fn notify(&mut self, frame: ClientFrame) {
        if !self.offline {
            self.hub.borrow_mut().sent.push((self.device, frame.name()));
        }
    }
}
