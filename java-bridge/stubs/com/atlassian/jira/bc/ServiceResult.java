// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/bc/ServiceResult.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.bc;

import com.atlassian.jira.util.ErrorCollection;

public interface ServiceResult {
    boolean isValid();

    ErrorCollection getErrorCollection();
}
