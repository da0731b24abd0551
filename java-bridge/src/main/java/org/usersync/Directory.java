package org.usersync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The application's user directory, as the engine sees it (DESIGN §4): the same contract as the
 * Rust {@code Directory} trait and the C {@code UsersyncDirectory}. The engine decides what
 * changes; the implementation decides how it is written (Atlassian's UserService, CrowdService,
 * ...).
 *
 * <p>A write that fails throws {@link DirectoryException} (any other exception counts as
 * {@code FAILED}); it fails that operation of that user only, and the run goes on. Calls never
 * overlap; they come from the thread that called the engine or from a run's worker thread.
 * Targets are strings such as {@code display_name}, {@code email}, {@code property:team},
 * {@code profile:department}; a null value means "clear".
 */
public interface Directory {
    Capabilities capabilities();

    /** The users of the sync's own directory with the current value of every target. */
    List<DirectoryUser> listUsers();

    /**
     * One user by username (case-insensitive), or null. The login hook uses it; the default scans
     * {@link #listUsers()}, so a directory with an index should override it.
     */
    default DirectoryUser findUser(String username) {
        for (DirectoryUser u : listUsers()) {
            if (u.username().equalsIgnoreCase(username)) {
                return u;
            }
        }
        return null;
    }

    /**
     * One user by the external id stored with it (the IdP id), or null: re-adopting a user whose
     * anchor was lost. The default scans {@link #listUsers()}.
     */
    default DirectoryUser findByExternalId(String externalId) {
        for (DirectoryUser u : listUsers()) {
            if (externalId.equals(u.externalId())) {
                return u;
            }
        }
        return null;
    }

    /**
     * The users with these keys (unknown keys left out): what logins and incremental runs read
     * instead of the whole directory. The default scans {@link #listUsers()}; a directory of
     * 100,000 users should look the keys up.
     */
    default List<DirectoryUser> usersByKeys(Collection<String> keys) {
        Set<String> wanted = new HashSet<>(keys);
        List<DirectoryUser> out = new ArrayList<>();
        for (DirectoryUser u : listUsers()) {
            if (wanted.contains(u.key())) {
                out.add(u);
            }
        }
        return out;
    }

    /** The writes until {@link #endBatch()} may be committed together; the default does nothing. */
    default void beginBatch() {}

    /** Commits a batch; a failure stops the run, and nothing of the batch counts as done. */
    default void endBatch() {}

    /**
     * Writes the user's avatar (the image bytes as the source sent them, JPEG or PNG). The
     * default has none: a connector that syncs photos needs a directory that says
     * {@code avatars} in its capabilities and overrides this.
     */
    default void setAvatar(String key, byte[] image) {
        throw new DirectoryException(DirectoryException.Kind.UNSUPPORTED, "this directory has no avatars");
    }

    Set<String> listGroups();

    /** Creates a user and returns its stable key. {@code email} may be null. */
    String createUser(String username, String displayName, String email, boolean active, String externalId);

    /** Sets or clears ({@code value == null}) {@code display_name} or {@code email}. */
    void updateCore(String key, String target, String value);

    void rename(String key, String newUsername);

    void setActive(String key, boolean active);

    void deleteUser(String key);

    /** Replaces personal data with placeholders, keeping the key; returns the placeholder username. */
    String anonymise(String key);

    /** Sets or clears a field target such as {@code property:team}. */
    void setField(String key, String target, String value);

    void addMembership(String key, String group);

    void removeMembership(String key, String group);

    void createGroup(String name);

    /** A cluster-wide lock (ClusterLockService in Data Center); false when someone else holds it. */
    boolean tryLock(String name, long ttlSeconds);

    void unlock(String name);
}
