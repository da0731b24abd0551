package org.usersync.atlassian;

import com.atlassian.beehive.ClusterLock;
import com.atlassian.beehive.ClusterLockService;
import java.util.HashMap;
import java.util.Map;
import org.usersync.DirectoryException;

/**
 * The engine's run lock over Atlassian's cluster locks: one lock per name across every Data
 * Center node. A cluster lock belongs to the thread that took it, which is also the thread the
 * engine releases it from (a run takes and frees its lock on its own thread). The lock of a
 * node that dies is freed by the cluster, so the TTL is not needed here.
 */
public final class ClusterLocks implements Locks {
    private static final String PREFIX = "org.usersync.";
    private final ClusterLockService service;
    private final Map<String, ClusterLock> held = new HashMap<>();

    public ClusterLocks(ClusterLockService service) {
        this.service = service;
    }

    @Override
    public boolean tryLock(String name, long ttlSeconds) {
        ClusterLock lock = service.getLockForName(PREFIX + name);
        if (!lock.tryLock()) {
            return false;
        }
        synchronized (held) {
            held.put(name, lock);
        }
        return true;
    }

    @Override
    public void unlock(String name) {
        ClusterLock lock;
        synchronized (held) {
            lock = held.remove(name);
        }
        if (lock == null) {
            return;
        }
        try {
            lock.unlock();
        } catch (IllegalMonitorStateException e) {
            throw new DirectoryException("the cluster lock " + name + " was released by a thread that does not own it");
        }
    }
}
