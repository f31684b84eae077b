//! A short-lived cache of pool and app-client records, which nearly every request reads and
//! which change rarely. It is only a cache: the store stays the truth. Writes through this node
//! drop the entry at once; other nodes see a change within `ttl_ms`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::domain::{ClientRecord, PoolRecord};

/// More entries than this and the map is emptied rather than grown.
const MAX_ENTRIES: usize = 10_000;

pub struct RecordCache {
    ttl_ms: i64,
    // Shared, not cloned, on a hit: a pool record carries its whole schema and settings.
    pools: RwLock<HashMap<String, (i64, Arc<PoolRecord>)>>,
    clients: RwLock<HashMap<String, (i64, Arc<ClientRecord>)>>,
}

impl RecordCache {
    pub fn new(ttl_ms: i64) -> Self {
        Self {
            ttl_ms,
            pools: RwLock::default(),
            clients: RwLock::default(),
        }
    }

    /// No caching: every read goes to the store.
    pub fn disabled() -> Self {
        Self::new(0)
    }

    fn get<T>(
        map: &RwLock<HashMap<String, (i64, Arc<T>)>>,
        key: &str,
        now_ms: i64,
    ) -> Option<Arc<T>> {
        let map = map.read().ok()?;
        match map.get(key) {
            Some((expires, value)) if *expires > now_ms => Some(Arc::clone(value)),
            _ => None,
        }
    }

    fn put<T>(&self, map: &RwLock<HashMap<String, (i64, T)>>, key: &str, value: T, now_ms: i64) {
        if self.ttl_ms <= 0 {
            return;
        }
        if let Ok(mut map) = map.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key.to_owned(), (now_ms + self.ttl_ms, value));
        }
    }

    fn remove<T>(map: &RwLock<HashMap<String, (i64, T)>>, key: &str) {
        if let Ok(mut map) = map.write() {
            map.remove(key);
        }
    }

    pub fn pool(&self, id: &str, now_ms: i64) -> Option<Arc<PoolRecord>> {
        Self::get(&self.pools, id, now_ms)
    }

    pub fn put_pool(&self, pool: &Arc<PoolRecord>, now_ms: i64) {
        self.put(&self.pools, &pool.id, Arc::clone(pool), now_ms);
    }

    pub fn forget_pool(&self, id: &str) {
        Self::remove(&self.pools, id);
    }

    pub fn client(&self, id: &str, now_ms: i64) -> Option<Arc<ClientRecord>> {
        Self::get(&self.clients, id, now_ms)
    }

    pub fn put_client(&self, client: &Arc<ClientRecord>, now_ms: i64) {
        self.put(&self.clients, &client.id, Arc::clone(client), now_ms);
    }

    pub fn forget_client(&self, id: &str) {
        Self::remove(&self.clients, id);
    }

    /// A deleted pool takes its clients with it.
    pub fn forget_pool_clients(&self, pool_id: &str) {
        if let Ok(mut map) = self.clients.write() {
            map.retain(|_, (_, c)| c.pool_id != pool_id);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use portcullis_proto::{UserPoolClientType, UserPoolType};

    fn pool(id: &str) -> Arc<PoolRecord> {
        Arc::new(PoolRecord {
            id: id.into(),
            name: "p".into(),
            created_ms: 0,
            modified_ms: 0,
            settings: UserPoolType::default(),
        })
    }

    fn client(id: &str, pool_id: &str) -> Arc<ClientRecord> {
        Arc::new(ClientRecord {
            id: id.into(),
            pool_id: pool_id.into(),
            name: "c".into(),
            created_ms: 0,
            modified_ms: 0,
            secret_sealed: None,
            settings: UserPoolClientType::default(),
        })
    }

    #[test]
    fn entries_expire_and_can_be_dropped() {
        let c = RecordCache::new(100);
        c.put_pool(&pool("a"), 1_000);
        assert!(c.pool("a", 1_099).is_some());
        assert!(c.pool("a", 1_100).is_none(), "expired at the TTL");
        c.put_pool(&pool("a"), 2_000);
        c.forget_pool("a");
        assert!(c.pool("a", 2_001).is_none());

        c.put_client(&client("x", "a"), 3_000);
        c.put_client(&client("y", "b"), 3_000);
        c.forget_pool_clients("a");
        assert!(c.client("x", 3_001).is_none());
        assert!(c.client("y", 3_001).is_some());
    }

    #[test]
    fn disabled_cache_keeps_nothing() {
        let c = RecordCache::disabled();
        c.put_pool(&pool("a"), 0);
        assert!(c.pool("a", 0).is_none());
    }
}
