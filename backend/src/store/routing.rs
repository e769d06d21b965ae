//! What routing a batch of sends needs to know, read in one or two queries:
//! every device of every user the sends reach (with whether it is listed),
//! and the listed devices of every group they go to. The router decides
//! what the facts mean (the device check, group membership).

use super::directory::RoutedDevice;
use super::{Store, StoreError, from_db, statement, to_db};
use courier_shared::ids::{DeviceId, GroupId, UserId};
use sqlx::{QueryBuilder, Sqlite};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts changes to what routing depends on (devices, device lists, group
/// membership) in this process: a router that caches facts drops them when
/// it moves. Other nodes' changes arrive through the bus.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// The current count of directory changes.
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

/// Notes that routing facts changed (here, or on another node).
pub fn changed() {
    EPOCH.fetch_add(1, Ordering::AcqRel);
}

/// The facts for one batch of sends.
#[derive(Debug, Clone, Default)]
pub struct RoutingFacts {
    /// Every device of the users asked about, by id.
    pub devices: HashMap<DeviceId, RoutedDevice>,
    /// The same devices by user, in id order.
    pub by_user: HashMap<UserId, Vec<RoutedDevice>>,
    /// Each group's listed member devices with their users.
    pub groups: HashMap<GroupId, Vec<(DeviceId, UserId)>>,
}

/// What a batch of sends asks about.
#[derive(Debug, Clone, Default)]
pub struct RoutingQuery {
    /// Devices whose users (and all their devices) must be known.
    pub devices: Vec<DeviceId>,
    /// Users whose devices must be known.
    pub users: Vec<UserId>,
    /// Groups whose members' devices must be known.
    pub groups: Vec<GroupId>,
}

/// Rows of devices (id, user, listed) and of group members (group, device,
/// user).
type Rows = (Vec<(i64, i64, bool)>, Vec<(i64, i64, i64)>);

/// A list padded to a power-of-two length with its last element (which
/// changes nothing in an `IN` list), so that SQLite prepares few statements.
fn padded(mut list: Vec<i64>) -> Vec<i64> {
    list.sort_unstable();
    list.dedup();
    if let Some(last) = list.last().copied() {
        list.resize(list.len().next_power_of_two(), last);
    }
    list
}

fn push_list(sql: &mut QueryBuilder<'_, Sqlite>, list: &[i64]) {
    let mut items = sql.separated(", ");
    for item in list {
        items.push_bind(*item);
    }
}

impl RoutingFacts {
    /// Adds `more` facts.
    pub fn extend(&mut self, more: RoutingFacts) {
        self.devices.extend(more.devices);
        self.by_user.extend(more.by_user);
        self.groups.extend(more.groups);
    }

    /// What of `query` these facts do not answer.
    pub fn missing(&self, query: &RoutingQuery) -> RoutingQuery {
        let mut missing = RoutingQuery {
            devices: query
                .devices
                .iter()
                .filter(|d| !self.devices.contains_key(d))
                .copied()
                .collect(),
            users: query
                .users
                .iter()
                .filter(|u| !self.by_user.contains_key(u))
                .copied()
                .collect(),
            groups: query
                .groups
                .iter()
                .filter(|g| !self.groups.contains_key(g))
                .copied()
                .collect(),
        };
        missing.devices.sort_unstable();
        missing.devices.dedup();
        missing.users.sort_unstable();
        missing.users.dedup();
        missing.groups.sort_unstable();
        missing.groups.dedup();
        missing
    }
}

impl RoutingQuery {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty() && self.users.is_empty() && self.groups.is_empty()
    }
}

impl Store {
    /// Notes, after a committed change to devices, device lists or group
    /// membership, that routing facts changed: here at once, and on the
    /// other nodes through the bus.
    pub(crate) async fn directory_changed(&self) {
        changed();
        if let Self::Postgres(pool) = self {
            let notice = crate::bus::Event::Directory.encode(0);
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::bus::CHANNEL)
                .bind(notice)
                .execute(pool)
                .await;
            if let Err(err) = sent {
                tracing::warn!(%err, "cannot tell the other nodes that the directory changed");
            }
        }
    }

    /// Reads the facts `query` asks for.
    pub async fn routing_facts(&self, query: &RoutingQuery) -> Result<RoutingFacts, StoreError> {
        let devices: Vec<i64> = query.devices.iter().map(|d| to_db(d.0)).collect();
        let users: Vec<i64> = query.users.iter().map(|u| to_db(u.0)).collect();
        let groups: Vec<i64> = query.groups.iter().map(|g| to_db(g.0)).collect();
        let (device_rows, group_rows): Rows = match self {
            Self::Sqlite(pool) => {
                let mut device_rows = Vec::new();
                if !devices.is_empty() || !users.is_empty() {
                    let mut sql = QueryBuilder::<Sqlite>::new(
                        "SELECT id, user_id, listed FROM devices WHERE user_id IN \
                         (SELECT user_id FROM devices WHERE id IN (",
                    );
                    push_list(&mut sql, &padded(devices.clone()));
                    if devices.is_empty() {
                        sql.push("NULL");
                    }
                    sql.push(")) OR user_id IN (");
                    push_list(&mut sql, &padded(users.clone()));
                    if users.is_empty() {
                        sql.push("NULL");
                    }
                    sql.push(")");
                    device_rows = sql.build_query_as().fetch_all(pool).await?;
                    statement();
                }
                let mut group_rows = Vec::new();
                if !groups.is_empty() {
                    let mut sql = QueryBuilder::<Sqlite>::new(
                        "SELECT m.group_id, d.id, d.user_id FROM group_members m JOIN devices d \
                         ON d.user_id = m.user_id WHERE d.listed AND m.group_id IN (",
                    );
                    push_list(&mut sql, &padded(groups));
                    sql.push(")");
                    group_rows = sql.build_query_as().fetch_all(pool).await?;
                    statement();
                }
                (device_rows, group_rows)
            }
            Self::Postgres(pool) => {
                let mut device_rows = Vec::new();
                if !devices.is_empty() || !users.is_empty() {
                    device_rows = sqlx::query_as(
                        "SELECT id, user_id, listed FROM devices WHERE user_id IN \
                         (SELECT user_id FROM devices WHERE id = ANY($1)) OR user_id = ANY($2)",
                    )
                    .bind(&devices)
                    .bind(&users)
                    .fetch_all(pool)
                    .await?;
                    statement();
                }
                let mut group_rows = Vec::new();
                if !groups.is_empty() {
                    group_rows = sqlx::query_as(
                        "SELECT m.group_id, d.id, d.user_id FROM group_members m JOIN devices d \
                         ON d.user_id = m.user_id WHERE d.listed AND m.group_id = ANY($1)",
                    )
                    .bind(&groups)
                    .fetch_all(pool)
                    .await?;
                    statement();
                }
                (device_rows, group_rows)
            }
        };
        let mut facts = RoutingFacts::default();
        for row in device_rows {
            let device = RoutedDevice::from(row);
            facts.devices.insert(device.id, device);
            facts.by_user.entry(device.user).or_default().push(device);
        }
        for devices in facts.by_user.values_mut() {
            devices.sort_unstable_by_key(|d| d.id);
        }
        for (group, device, user) in group_rows {
            facts
                .groups
                .entry(GroupId(from_db(group)))
                .or_default()
                .push((DeviceId(from_db(device)), UserId(from_db(user))));
        }
        Ok(facts)
    }
}
