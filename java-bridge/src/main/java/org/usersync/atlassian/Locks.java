package org.usersync.atlassian;

/**
 * The cluster-wide lock behind {@link org.usersync.Directory#tryLock}: {@link ClusterLocks} over
 * Atlassian's ClusterLockService in the app, something simpler in tests.
 */
public interface Locks {
    /** False when another node or thread holds the lock. */
    boolean tryLock(String name, long ttlSeconds);

    void unlock(String name);
}
