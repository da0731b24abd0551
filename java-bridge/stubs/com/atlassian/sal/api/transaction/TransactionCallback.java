// Compile-only signature stub: never packaged, the application provides the real type at run time.
// Written from the SAL 4.4 Java API reference, https://docs.atlassian.com/sal-api/4.4.2/com/atlassian/sal/api/transaction/TransactionCallback.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.sal.api.transaction;

public interface TransactionCallback<T> {
    T doInTransaction();
}
