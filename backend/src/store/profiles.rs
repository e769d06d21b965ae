//! Users' profiles, sealed by their owners: the server keeps the newest box
//! of each user and hands it to whoever asks, never able to open it.

use super::{Store, StoreError, to_db as db, with_pool};
use courier_shared::ids::UserId;

impl Store {
    /// Keeps `sealed` as `user`'s profile, replacing the one before.
    pub async fn set_profile(
        &self,
        user: UserId,
        sealed: &[u8],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let upsert = "INSERT INTO profiles (user_id, sealed, updated_at) VALUES ($1, $2, $3) \
                      ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, \
                      updated_at = excluded.updated_at";
        with_pool!(self, pool => {
            sqlx::query(upsert)
                .bind(db(user.0))
                .bind(sealed)
                .bind(now_ms)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// `user`'s sealed profile, if they stored one.
    pub async fn profile(&self, user: UserId) -> Result<Option<Vec<u8>>, StoreError> {
        let select = "SELECT sealed FROM profiles WHERE user_id = $1";
        with_pool!(self, pool => {
            Ok(sqlx::query_scalar(select)
                .bind(db(user.0))
                .fetch_optional(pool)
                .await?)
        })
    }
}
