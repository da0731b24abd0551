// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the Active Objects 5.0 (in Jira 9.12 and Confluence 8.5) Java API reference, https://docs.atlassian.com/DAC/javadoc/ao/5.0/com/atlassian/activeobjects/external/ActiveObjects.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.activeobjects.external;

import com.atlassian.sal.api.transaction.TransactionCallback;
import net.java.ao.DBParam;
import net.java.ao.Query;
import net.java.ao.RawEntity;

public interface ActiveObjects {
    <T extends RawEntity<K>, K> T create(Class<T> type, DBParam... params);

    <T extends RawEntity<K>, K> T[] find(Class<T> type, Query query);

    void delete(RawEntity<?>... entities);

    /** Runs the callback in one database transaction, rolled back when it throws. */
    <T> T executeInTransaction(TransactionCallback<T> callback);
}
