//! What routing a batch of sends needs to know, read in one or two queries:
//! every device of every user the sends reach (with whether it is listed),
//! and the listed devices of every group they go to. The router decides
//! what the facts mean (the device check, group membership).

use super::directory::RoutedDevice;
use super::{Store, StoreError, from_db, statement, to_db};
use courier_shared::ids::{DeviceId, GroupId, UserId};
use sqlx::{QueryBuilder, Sqlite};
use std::collections::HashMap;

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

impl Store {
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
