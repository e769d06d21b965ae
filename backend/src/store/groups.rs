//! Groups: who is in each, and who is an admin — what routing needs and
//! nothing more. Group names and messages never reach the server.
//!
//! Every change runs in one write transaction and grows the group's
//! `version`, so members can tell a stale view from the current one.

use super::{Store, StoreError, builder, from_db as id, to_db as db, with_pool};
use courier_shared::ids::{GroupId, LinkId, UserId};

/// A group's membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// The group.
    pub id: GroupId,
    /// Grows with every membership change.
    pub version: u64,
    /// Each member with whether they are an admin, in the order they joined.
    pub members: Vec<(UserId, bool)>,
}

impl GroupRecord {
    /// Whether `user` is a member.
    pub fn has(&self, user: UserId) -> bool {
        self.members.iter().any(|(member, _)| *member == user)
    }

    /// Whether `user` is an admin.
    pub fn is_admin(&self, user: UserId) -> bool {
        self.members.contains(&(user, true))
    }
}

/// A change to a group's membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChange {
    /// These users join as members (those already in it are skipped).
    Add(Vec<UserId>),
    /// This member leaves. If no admin is left, the longest-standing member
    /// becomes one; if nobody is left, the group is deleted.
    Remove(UserId),
    /// This member becomes an admin, or stops being one.
    SetAdmin(UserId, bool),
    /// The actor joins through the group's invite link with this token (no
    /// need to be a member; the token must be the group's current one).
    Join(LinkId),
}

/// What [`Store::change_group`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupChanged {
    /// The change is made: the membership after it (no members once the
    /// last one left and the group is gone).
    Done(GroupRecord),
    /// The actor is not in the group (or there is no such group).
    NotMember,
    /// Only admins may make this change.
    NotAdmin,
    /// The user to remove or promote is not in the group.
    NoSuchMember,
    /// The group would have more than `max_members`.
    TooMany,
    /// The invite link's token is not the group's (revoked or replaced).
    NoInvite,
}

impl GroupRecord {
    /// Why `actor` may not make `change` to the group as it is, if they may
    /// not; the rules in one place: anyone may leave, only admins do
    /// anything else, only members can be removed or promoted, and the
    /// group stays within `max_members`.
    fn refuses(
        &self,
        actor: UserId,
        change: &GroupChange,
        max_members: usize,
    ) -> Option<GroupChanged> {
        if let GroupChange::Join(_) = change {
            let new = usize::from(!self.has(actor));
            return (self.members.len() + new > max_members).then_some(GroupChanged::TooMany);
        }
        let leaving = *change == GroupChange::Remove(actor);
        if !self.has(actor) {
            return Some(GroupChanged::NotMember);
        }
        if !leaving && !self.is_admin(actor) {
            return Some(GroupChanged::NotAdmin);
        }
        match change {
            GroupChange::Add(users) => {
                let new = distinct(users.iter().map(|u| (*u, false)))
                    .iter()
                    .filter(|(u, _)| !self.has(*u))
                    .count();
                if users.len() > max_members || self.members.len() + new > max_members {
                    return Some(GroupChanged::TooMany);
                }
            }
            GroupChange::Remove(user) | GroupChange::SetAdmin(user, _) if !self.has(*user) => {
                return Some(GroupChanged::NoSuchMember);
            }
            GroupChange::Remove(_) | GroupChange::SetAdmin(..) | GroupChange::Join(_) => {}
        }
        None
    }
}

type MemberRow = (i64, bool);

/// Inserts `$members` (`&[(UserId, bool)]`, no repeats) into group
/// `$group` within transaction `$tx`, skipping those already in it; returns
/// `NotFound` from the enclosing function (the transaction rolls back) if
/// one of the users does not exist.
macro_rules! insert_members {
    ($pool:expr, $tx:expr, $group:expr, $members:expr, $now_ms:expr) => {
        if !$members.is_empty() {
            let mut count = builder($pool, "SELECT COUNT(*) FROM users WHERE id IN (");
            let mut list = count.separated(", ");
            for (user, _) in $members {
                list.push_bind(db(user.0));
            }
            list.push_unseparated(")");
            let found: i64 = count.build_query_scalar().fetch_one(&mut *$tx).await?;
            if usize::try_from(found).ok() != Some($members.len()) {
                return Err(StoreError::NotFound("user"));
            }
            let mut insert = builder(
                $pool,
                "INSERT INTO group_members (group_id, user_id, admin, added_at) ",
            );
            insert.push_values($members, |mut row, (user, admin)| {
                row.push_bind($group)
                    .push_bind(db(user.0))
                    .push_bind(*admin)
                    .push_bind($now_ms);
            });
            insert.push(" ON CONFLICT (group_id, user_id) DO NOTHING");
            insert.build().execute(&mut *$tx).await?;
        }
    };
}

/// `users` without repeats, in their first order.
fn distinct(users: impl IntoIterator<Item = (UserId, bool)>) -> Vec<(UserId, bool)> {
    let mut seen = std::collections::HashSet::new();
    users
        .into_iter()
        .filter(|(user, _)| seen.insert(*user))
        .collect()
}

impl Store {
    /// Creates a group of `creator` (its admin) and `members`. Fails with
    /// `NotFound` if a member does not exist.
    pub async fn create_group(
        &self,
        creator: UserId,
        members: &[UserId],
        now_ms: i64,
    ) -> Result<GroupRecord, StoreError> {
        let insert = "INSERT INTO groups (version, created_at) VALUES (1, $1) RETURNING id";
        let group: i64 = with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let group: i64 = sqlx::query_scalar(insert).bind(now_ms).fetch_one(&mut *tx).await?;
            let everyone = distinct(
                std::iter::once((creator, true)).chain(members.iter().map(|m| (*m, false))),
            );
            insert_members!(pool, tx, group, &everyone, now_ms);
            tx.commit().await?;
            self.directory_changed().await;
            group
        });
        self.group(GroupId(id(group)))
            .await?
            .ok_or(StoreError::NotFound("group"))
    }

    /// The group's membership, if it exists.
    pub async fn group(&self, group: GroupId) -> Result<Option<GroupRecord>, StoreError> {
        let version = "SELECT version FROM groups WHERE id = $1";
        let members = "SELECT user_id, admin FROM group_members WHERE group_id = $1 \
                       ORDER BY added_at, user_id";
        let (version, members): (Option<i64>, Vec<MemberRow>) = with_pool!(self, pool => {
            let version = sqlx::query_scalar(version).bind(db(group.0)).fetch_optional(pool).await?;
            let members = sqlx::query_as(members).bind(db(group.0)).fetch_all(pool).await?;
            (version, members)
        });
        Ok(version.map(|version| record(group, version, members)))
    }

    /// Applies `change` to `group` if `actor` may make it (see
    /// [`GroupRecord::refuses`]). The rules are checked inside the write
    /// transaction, on the group's row locked until commit: an admin
    /// dismissed, or a group filled, by a change that commits first cannot
    /// be acted on by one that checked before. Fails with `NotFound` if an
    /// added user does not exist.
    pub async fn change_group(
        &self,
        group: GroupId,
        actor: UserId,
        change: &GroupChange,
        max_members: usize,
        now_ms: i64,
    ) -> Result<GroupChanged, StoreError> {
        let version = "SELECT version FROM groups WHERE id = $1";
        let members = "SELECT user_id, admin FROM group_members WHERE group_id = $1 \
                       ORDER BY added_at, user_id";
        let bump = "UPDATE groups SET version = version + 1 WHERE id = $1";
        let invited = "SELECT COUNT(*) FROM group_invites WHERE group_id = $1 AND token = $2";
        let remove = "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
        let set_admin = "UPDATE group_members SET admin = $3 WHERE group_id = $1 AND user_id = $2";
        let admins = "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND admin";
        let promote = "UPDATE group_members SET admin = TRUE WHERE group_id = $1 AND user_id = \
                       (SELECT user_id FROM group_members WHERE group_id = $1 \
                        ORDER BY added_at, user_id LIMIT 1)";
        let drop_empty = "DELETE FROM groups WHERE id = $1 AND NOT EXISTS \
                          (SELECT 1 FROM group_members WHERE group_id = $1)";
        let before = with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let version = super::for_update(pool, version);
            let Some(version): Option<i64> =
                sqlx::query_scalar(&version).bind(db(group.0)).fetch_optional(&mut *tx).await?
            else {
                return Ok(GroupChanged::NotMember);
            };
            let rows: Vec<MemberRow> =
                sqlx::query_as(members).bind(db(group.0)).fetch_all(&mut *tx).await?;
            let before = record(group, version, rows);
            if let GroupChange::Join(token) = change {
                let current: i64 = sqlx::query_scalar(invited)
                    .bind(db(group.0))
                    .bind(token.as_bytes().as_slice())
                    .fetch_one(&mut *tx)
                    .await?;
                if current == 0 {
                    return Ok(GroupChanged::NoInvite);
                }
            }
            if let Some(refused) = before.refuses(actor, change, max_members) {
                return Ok(refused);
            }
            match change {
                GroupChange::Add(users) => {
                    let users = distinct(users.iter().map(|u| (*u, false)));
                    insert_members!(pool, tx, db(group.0), &users, now_ms);
                }
                GroupChange::Remove(user) => {
                    sqlx::query(remove).bind(db(group.0)).bind(db(user.0)).execute(&mut *tx).await?;
                }
                GroupChange::Join(_) => {
                    insert_members!(pool, tx, db(group.0), &[(actor, false)], now_ms);
                }
                GroupChange::SetAdmin(user, admin) => {
                    sqlx::query(set_admin)
                        .bind(db(group.0))
                        .bind(db(user.0))
                        .bind(*admin)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let left: i64 = sqlx::query_scalar(admins).bind(db(group.0)).fetch_one(&mut *tx).await?;
            if left == 0 {
                sqlx::query(promote).bind(db(group.0)).execute(&mut *tx).await?;
            }
            sqlx::query(drop_empty).bind(db(group.0)).execute(&mut *tx).await?;
            sqlx::query(bump).bind(db(group.0)).execute(&mut *tx).await?;
            tx.commit().await?;
            self.directory_changed().await;
            before
        });
        Ok(GroupChanged::Done(self.group(group).await?.unwrap_or(
            // The last member left: the group is gone.
            GroupRecord {
                id: group,
                version: before.version.saturating_add(1),
                members: Vec::new(),
            },
        )))
    }
}

/// A group's membership from its rows.
fn record(group: GroupId, version: i64, members: Vec<MemberRow>) -> GroupRecord {
    GroupRecord {
        id: group,
        version: id(version),
        members: members
            .into_iter()
            .map(|(user, admin)| (UserId(id(user)), admin))
            .collect(),
    }
}
