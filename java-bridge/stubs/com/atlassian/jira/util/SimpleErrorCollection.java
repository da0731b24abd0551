// Compile-only signature stub: never packaged, https://docs.atlassian.com/software/jira/docs/api/9.12.0 provides the real type at run time.
// Written from the  Java API reference, Jira 9.12/com/atlassian/jira/util/SimpleErrorCollection.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.util;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** A value class in Jira: collects field errors and messages. */
public class SimpleErrorCollection implements ErrorCollection {
    private final Map<String, String> errors = new LinkedHashMap<>();
    private final Collection<String> messages = new ArrayList<>();

    public void addError(String field, String message) { errors.put(field, message); }

    public void addErrorMessage(String message) { messages.add(message); }

    public boolean hasAnyErrors() { return !errors.isEmpty() || !messages.isEmpty(); }

    public Collection<String> getErrorMessages() { return messages; }

    public Map<String, String> getErrors() { return errors; }
}
