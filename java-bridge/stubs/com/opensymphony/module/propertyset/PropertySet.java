// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the OpenSymphony PropertySet 1.5 (as bundled with Jira 9.12) Java API reference, https://docs.atlassian.com/atlassian-propertyset/1.5/com/opensymphony/module/propertyset/PropertySet.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.opensymphony.module.propertyset;

import java.util.Collection;

public interface PropertySet {
    /** A "string" property: at most 255 characters (the text type holds longer values). */
    String getString(String key) throws PropertyException;

    void setString(String key, String value) throws PropertyException;

    boolean exists(String key) throws PropertyException;

    void remove(String key) throws PropertyException;

    Collection<String> getKeys(String prefix) throws PropertyException;
}
