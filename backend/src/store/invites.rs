//! Groups' invite links: the token an admin set, which lets whoever
//! presents it join ([`super::groups::GroupChange::Join`]).

use super::groups::GroupChanged;
use super::{Store, StoreError, from_db, to_db as db, with_pool};
use courier_shared::ids::{GroupId, LinkId, UserId};

impl Store {
    /// Sets `group`'s invite link to `token` (replacing any before), or
    /// revokes it (`None`), if `actor` is one of its admins; checked on
    /// the group's row, locked until commit.
    pub async fn set_invite(
        &self,
        group: GroupId,
        actor: UserId,
        token: Option<&LinkId>,
        now_ms: i64,
    ) -> Result<GroupChanged, StoreError> {
        let version = "SELECT version FROM groups WHERE id = $1";
        let role = "SELECT admin FROM group_members WHERE group_id = $1 AND user_id = $2";
        let clear = "DELETE FROM group_invites WHERE group_id = $1";
        let insert = "INSERT INTO group_invites (group_id, token, created_at) VALUES ($1, $2, $3)";
        with_pool!(self, pool => {
            let mut tx = super::begin_write(pool).await?;
            let version = super::for_update(pool, version);
            let exists: Option<i64> =
                sqlx::query_scalar(&version).bind(db(group.0)).fetch_optional(&mut *tx).await?;
            if exists.is_none() {
                return Ok(GroupChanged::NotMember);
            }
            let admin: Option<bool> = sqlx::query_scalar(role)
                .bind(db(group.0))
                .bind(db(actor.0))
                .fetch_optional(&mut *tx)
                .await?;
            match admin {
                None => return Ok(GroupChanged::NotMember),
                Some(false) => return Ok(GroupChanged::NotAdmin),
                Some(true) => {}
            }
            sqlx::query(clear).bind(db(group.0)).execute(&mut *tx).await?;
            if let Some(token) = token {
                sqlx::query(insert)
                    .bind(db(group.0))
                    .bind(token.as_bytes().as_slice())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        let group = self.group(group).await?;
        Ok(group.map_or(GroupChanged::NotMember, GroupChanged::Done))
    }

    /// The group whose invite link has `token`, if one has.
    pub async fn invite_group(&self, token: &LinkId) -> Result<Option<GroupId>, StoreError> {
        let select = "SELECT group_id FROM group_invites WHERE token = $1";
        let group: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(select)
                .bind(token.as_bytes().as_slice())
                .fetch_optional(pool)
                .await?
        });
        Ok(group.map(|g| GroupId(from_db(g))))
    }
}
