package org.usersync.atlassian.ao;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.sal.api.transaction.TransactionCallback;
import net.java.ao.DBParam;
import net.java.ao.Query;
import net.java.ao.RawEntity;

/** One node's connection to the shared database, which the test can cut (the node died). */
public final class CuttableActiveObjects implements ActiveObjects {
    private final ActiveObjects db;
    private volatile boolean cut;

    public CuttableActiveObjects(ActiveObjects db) {
        this.db = db;
    }

    public void cut() {
        cut = true;
    }

    public boolean isCut() {
        return cut;
    }

    private void check() {
        if (cut) {
            throw new IllegalStateException("the database connection is gone");
        }
    }

    @Override
    public <T extends RawEntity<K>, K> T create(Class<T> type, DBParam... params) {
        check();
        return db.create(type, params);
    }

    @Override
    public <T extends RawEntity<K>, K> T[] find(Class<T> type, Query query) {
        check();
        return db.find(type, query);
    }

    @Override
    public void delete(RawEntity<?>... entities) {
        check();
        db.delete(entities);
    }

    @Override
    public <T> T executeInTransaction(TransactionCallback<T> callback) {
        check();
        return db.executeInTransaction(callback);
    }
}
