// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/user/impl/DefaultUser.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.user.impl;

import com.atlassian.user.User;

/** A value class in Confluence: a user's name, full name and e-mail (a template for createUser). */
public class DefaultUser implements User {
    private String name;
    private String fullName;
    private String email;

    public DefaultUser(String name, String fullName, String email) {
        this.name = name;
        this.fullName = fullName;
        this.email = email;
    }

    public String getName() { return name; }

    public String getFullName() { return fullName; }

    public String getEmail() { return email; }

    public void setFullName(String fullName) { this.fullName = fullName; }

    public void setEmail(String email) { this.email = email; }
}
