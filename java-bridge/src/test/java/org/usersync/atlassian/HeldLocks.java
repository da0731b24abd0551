package org.usersync.atlassian;

import java.util.HashSet;
import java.util.Set;

/** Locks held in one JVM's memory: enough for tests with one node. */
public final class HeldLocks implements Locks {
    private final Set<String> held = new HashSet<>();

    @Override
    public synchronized boolean tryLock(String name, long ttlSeconds) {
        return held.add(name);
    }

    @Override
    public synchronized void unlock(String name) {
        held.remove(name);
    }
}
