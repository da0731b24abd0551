// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the OpenSymphony PropertySet 1.5 (as bundled with Jira 9.12) Java API reference, https://docs.atlassian.com/atlassian-propertyset/1.5/com/opensymphony/module/propertyset/PropertyException.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.opensymphony.module.propertyset;

public class PropertyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PropertyException(String message) {
        super(message);
    }
}
