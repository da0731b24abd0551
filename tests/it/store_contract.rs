//! The state store's contract (src/store/contract.rs) over the stores of this crate: SQLite in
//! memory and on disk, and the table store over in-memory tables. The app's tables over Active
//! Objects pass it too (java-bridge, `StateTablesTest`).

use std::sync::Arc;

use usersync::store::contract::check;
use usersync::store::sqlite::SqliteStore;
use usersync::store::table_store::TableStore;
use usersync::store::tables::MemoryTables;

#[test]
fn the_sqlite_store_meets_the_contract_in_memory_and_on_disk() {
    check(&|| Box::new(SqliteStore::in_memory().unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let n = std::cell::Cell::new(0);
    check(&|| {
        n.set(n.get() + 1);
        Box::new(SqliteStore::open(&dir.path().join(format!("state-{}.db", n.get()))).unwrap())
    });
}

#[test]
fn the_table_store_meets_the_contract_over_in_memory_tables() {
    check(&|| Box::new(TableStore::new(Arc::new(MemoryTables::new()))));
}

/// Tables that ignore compare-and-set: two nodes could both claim one fire time.
struct NoCompareAndSet(MemoryTables);

impl usersync::store::tables::Tables for NoCompareAndSet {
    fn get(&self, t: &str, k: &str) -> Result<Option<usersync::store::tables::Doc>, usersync::store::StoreError> {
        self.0.get(t, k)
    }
    fn scan(
        &self,
        s: &usersync::store::tables::Scan,
    ) -> Result<Vec<(String, usersync::store::tables::Doc)>, usersync::store::StoreError> {
        self.0.scan(s)
    }
    fn write(&self, writes: &[usersync::store::tables::Write]) -> Result<bool, usersync::store::StoreError> {
        use usersync::store::tables::Write;
        let careless: Vec<Write> = writes
            .iter()
            .map(|w| match w.clone() {
                Write::Put { table, key, value, .. } => Write::Put { table, key, value, expect: None },
                Write::Delete { table, key, .. } => Write::Delete { table, key, expect: None },
            })
            .collect();
        self.0.write(&careless)
    }
    fn next_id(&self, s: &str) -> Result<i64, usersync::store::StoreError> {
        self.0.next_id(s)
    }
}

#[test]
fn a_host_checks_its_tables_and_the_check_erases_what_it_wrote() {
    let tables = Arc::new(MemoryTables::new());
    TableStore::check_tables(tables.clone()).unwrap();
    assert_eq!(tables.document_count(), 0, "the check leaves nothing behind");
    let err = TableStore::check_tables(Arc::new(NoCompareAndSet(MemoryTables::new()))).unwrap_err();
    assert!(err.contains("contract"), "{err}");
}
