// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/bc/ServiceResultImpl.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.bc;

import com.atlassian.jira.util.ErrorCollection;

/** A value class in Jira: valid when the error collection is empty. */
public class ServiceResultImpl implements ServiceResult {
    private final ErrorCollection errors;

    public ServiceResultImpl(ErrorCollection errorCollection) {
        this.errors = errorCollection;
    }

    public boolean isValid() { return !errors.hasAnyErrors(); }

    public ErrorCollection getErrorCollection() { return errors; }
}
