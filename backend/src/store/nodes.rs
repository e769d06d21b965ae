//! Nodes and the devices connected to them: presence across a deployment.
//!
//! Each node heartbeats every few seconds. A device counts as online while a
//! row places it on a node whose heartbeat is fresh, so the devices of a node
//! that crashed drop offline by themselves once its heartbeat is stale.

use super::{Store, StoreError, to_db, with_pool};
use courier_shared::ids::{DeviceId, UserId};

/// A node whose heartbeat is older than this (ms) counts as gone.
pub const NODE_TIMEOUT_MS: i64 = 20_000;

impl Store {
    /// Records (or refreshes) that node `node` is alive at `now_ms`.
    pub async fn node_heartbeat(&self, node: i64, now_ms: i64) -> Result<(), StoreError> {
        let upsert = "INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, $2, $2) \
                      ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";
        with_pool!(self, pool => {
            sqlx::query(upsert).bind(node).bind(now_ms).execute(pool).await?;
        });
        Ok(())
    }

    /// How many of `user`'s devices, other than `except`, sit on a live node.
    async fn live_devices(
        &self,
        user: UserId,
        except: Option<DeviceId>,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let select = "SELECT COUNT(*) FROM online_devices o JOIN nodes n ON n.id = o.node_id \
                      WHERE o.user_id = $1 AND o.device_id <> $2 AND n.heartbeat_at > $3";
        let except = except.map_or(-1, |device| to_db(device.0));
        let count: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(select)
                .bind(to_db(user.0))
                .bind(except)
                .bind(now_ms - NODE_TIMEOUT_MS)
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }

    /// Places `device` of `user` on `node`. Returns whether the user had no
    /// other device online anywhere (they just came online).
    pub async fn device_online(
        &self,
        user: UserId,
        device: DeviceId,
        node: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let upsert = "INSERT INTO online_devices (device_id, user_id, node_id, since) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (device_id) \
                      DO UPDATE SET node_id = excluded.node_id, since = excluded.since";
        with_pool!(self, pool => {
            sqlx::query(upsert)
                .bind(to_db(device.0))
                .bind(to_db(user.0))
                .bind(node)
                .bind(now_ms)
                .execute(pool)
                .await?;
        });
        Ok(self.live_devices(user, Some(device), now_ms).await? == 0)
    }

    /// Removes `device` from `node` (only if it is still placed there).
    /// Returns whether `user` has no device online anywhere now.
    pub async fn device_offline(
        &self,
        user: UserId,
        device: DeviceId,
        node: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let delete = "DELETE FROM online_devices WHERE device_id = $1 AND node_id = $2";
        with_pool!(self, pool => {
            sqlx::query(delete).bind(to_db(device.0)).bind(node).execute(pool).await?;
        });
        Ok(self.live_devices(user, None, now_ms).await? == 0)
    }

    /// Whether any device of `user` is connected to a live node.
    pub async fn user_online(&self, user: UserId, now_ms: i64) -> Result<bool, StoreError> {
        Ok(self.live_devices(user, None, now_ms).await? > 0)
    }

    /// Forgets `node` and its devices (it is shutting down).
    pub async fn remove_node(&self, node: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM online_devices WHERE node_id = $1")
                .bind(node)
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM nodes WHERE id = $1").bind(node).execute(pool).await?;
        });
        Ok(())
    }

    /// Deletes the rows of nodes whose heartbeat stopped long ago.
    pub async fn purge_dead_nodes(&self, now_ms: i64) -> Result<(), StoreError> {
        let cutoff = now_ms - 3 * NODE_TIMEOUT_MS;
        with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM online_devices WHERE node_id IN \
                 (SELECT id FROM nodes WHERE heartbeat_at <= $1)",
            )
            .bind(cutoff)
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM nodes WHERE heartbeat_at <= $1")
                .bind(cutoff)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
