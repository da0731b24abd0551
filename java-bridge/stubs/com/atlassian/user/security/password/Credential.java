// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the Confluence 8.5 Java API reference, https://docs.atlassian.com/ConfluenceServer/javadoc/8.5.21/com/atlassian/user/security/password/Credential.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.user.security.password;

/** A value class in Confluence: a password, or NONE for a user who has none. */
public final class Credential {
    public static final Credential NONE = new Credential(null, false);

    private final String credential;
    private final boolean encrypted;

    private Credential(String credential, boolean encrypted) {
        this.credential = credential;
        this.encrypted = encrypted;
    }

    public static Credential unencrypted(String password) {
        return new Credential(password, false);
    }

    public String getCredential() { return credential; }

    public boolean isEncrypted() { return encrypted; }
}
