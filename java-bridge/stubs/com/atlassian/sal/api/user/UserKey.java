// Compile-only signature stub: never packaged, Confluence provides the real type at run time.
// Written from the SAL 4.4 (as in Confluence 8.5 and Jira 9.12) Java API reference, https://docs.atlassian.com/sal-api/4.4.2/com/atlassian/sal/api/user/UserKey.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.sal.api.user;

/** A value class in SAL: a user's immutable key. */
public final class UserKey implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String userKey;

    public UserKey(String userKey) {
        this.userKey = userKey;
    }

    public static UserKey fromLong(long userId) {
        return new UserKey(String.valueOf(userId));
    }

    public String getStringValue() { return userKey; }

    @Override
    public boolean equals(Object o) {
        return o instanceof UserKey k && k.userKey.equals(userKey);
    }

    @Override
    public int hashCode() { return userKey.hashCode(); }

    @Override
    public String toString() { return userKey; }
}
