//! The application's view of the replicated state: one ordered byte-keyed map.
//!
//! The meta service lays its records out under Doris's own key encoding, as Doris does on
//! FoundationDB, so a single ordered table is all it needs. Writes happen only inside
//! [`crate::Application::apply`]; reads go through [`KvRead`], an MVCC snapshot of applied state.

use redb::ReadableDatabase;
use redb::ReadableTable;
use redb::TableDefinition;

use crate::store::tables::DATA;

/// A storage error raised while the application touches the replicated map.
#[derive(Debug, thiserror::Error)]
#[error("state machine storage: {0}")]
pub struct KvError(String);

impl KvError {
    pub(crate) fn new(e: impl std::fmt::Display) -> Self {
        KvError(e.to_string())
    }
}

/// Key-value pairs in key order, as scans return them.
pub type KvPairs = Vec<(Vec<u8>, Vec<u8>)>;

type Table<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// Read-write access for one apply batch; all changes commit together with `last_applied`.
pub struct KvWrite<'a, 't> {
    table: &'a mut Table<'t>,
}

impl<'a, 't> KvWrite<'a, 't> {
    pub(crate) fn new(table: &'a mut Table<'t>) -> Self {
        KvWrite { table }
    }

    /// Value stored under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.table.get(key).map_err(KvError::new)?.map(|v| v.value().to_vec()))
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        self.table.insert(key, value).map_err(KvError::new)?;
        Ok(())
    }

    /// Removes `key`; returns whether it existed.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, KvError> {
        Ok(self.table.remove(key).map_err(KvError::new)?.is_some())
    }

    /// All pairs whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, KvError> {
        scan(self.table, prefix)
    }
}

/// A consistent read-only snapshot of the applied state.
pub struct KvRead {
    table: redb::ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl KvRead {
    pub(crate) fn open(db: &redb::Database) -> Result<Self, KvError> {
        let tx = db.begin_read().map_err(KvError::new)?;
        let table = tx.open_table(DATA).map_err(KvError::new)?;
        Ok(KvRead { table })
    }

    /// Value stored under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.table.get(key).map_err(KvError::new)?.map(|v| v.value().to_vec()))
    }

    /// All pairs whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<KvPairs, KvError> {
        scan(&self.table, prefix)
    }
}

fn scan(table: &impl ReadableTable<&'static [u8], &'static [u8]>, prefix: &[u8]) -> Result<KvPairs, KvError> {
    let mut out = Vec::new();
    for item in table.range::<&[u8]>(prefix..).map_err(KvError::new)? {
        let (k, v) = item.map_err(KvError::new)?;
        if !k.value().starts_with(prefix) {
            break;
        }
        out.push((k.value().to_vec(), v.value().to_vec()));
    }
    Ok(out)
}

/// Table definition of the replicated map, exported for offline tools (backup inspection).
pub const DATA_TABLE: TableDefinition<&[u8], &[u8]> = DATA;

/// A stand-alone replicated-map file with no consensus around it: the same redb table the state
/// machine uses, for unit tests of application logic and for offline tools.
pub struct ScratchKv {
    db: redb::Database,
}

impl ScratchKv {
    /// Creates or opens the file at `path`.
    pub fn open(path: &std::path::Path) -> Result<Self, KvError> {
        let db = redb::Database::create(path).map_err(KvError::new)?;
        let tx = db.begin_write().map_err(KvError::new)?;
        tx.open_table(DATA).map_err(KvError::new)?;
        tx.commit().map_err(KvError::new)?;
        Ok(ScratchKv { db })
    }

    /// Runs `f` in one write transaction and commits it.
    pub fn write<T>(&self, f: impl FnOnce(&mut KvWrite<'_, '_>) -> Result<T, KvError>) -> Result<T, KvError> {
        let tx = self.db.begin_write().map_err(KvError::new)?;
        let out = {
            let mut table = tx.open_table(DATA).map_err(KvError::new)?;
            f(&mut KvWrite::new(&mut table))?
        };
        tx.commit().map_err(KvError::new)?;
        Ok(out)
    }

    /// A read snapshot of the committed state.
    pub fn read(&self) -> Result<KvRead, KvError> {
        KvRead::open(&self.db)
    }
}
